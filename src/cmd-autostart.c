/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-autostart [-m MARK] [-j N] [--dry-run] start|stop [NAME...] */
#include "autostart.h"
#include "cli.h"
#include "vs-build-config.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"Usage: vserver-autostart [-m MARK] [-j N] [--timeout SEC] [--dry-run] start|stop [NAME...]\n"
	"\n"
	"Start (or stop) every guest whose apps/init/mark is MARK, in the order of\n"
	"apps/init/depends: a guest starts after the guests it depends on (which are\n"
	"started too, marked or not) and stops before them.  Independent guests run in\n"
	"parallel.  Disabled guests are not started.  With NAME..., those guests\n"
	"instead of the mark's.\n"
	"\n"
	"Options:\n"
	"  -m, --mark MARK      the mark (default: default)\n"
	"  -j, --jobs N         at most N guests at once (default 4; 1: one after the other)\n"
	"      --timeout SEC    stop: the stop timeout of each guest (default: its own)\n"
	"  -n, --dry-run        print the order (waves), do nothing\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 all done, 1 a guest failed or was skipped, 2 usage, a cycle or\n"
	"a missing dependency (nothing done), 5 no such guest.  See vserver-autostart(8).\n";

static void say_stdout(void *ud, const char *msg)
{
	(void)ud;
	printf("%s\n", msg);
	fflush(stdout);
}

int main_vserver_autostart(int argc, char **argv)
{
	struct vs_autostart_opts o = { .jobs = 4, .stop_timeout = -1 };
	const char *action = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("vserver-autostart %s\n", VS_VERSION);
			return 0;
		} else if (!strcmp(a, "-m") || !strcmp(a, "--mark")) {
			if (++i >= argc)
				return vs_usage_error("%s needs a mark", a);
			if (!argv[i][0] || strchr(argv[i], '\n'))
				return vs_usage_error("bad mark '%s'", argv[i]);
			o.mark = argv[i];
		} else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
			uint64_t n;
			if (++i >= argc)
				return vs_usage_error("%s needs a number", a);
			if (vs_parse_u64(argv[i], &n) < 0 || n < 1 || n > 1024)
				return vs_usage_error("-j '%s': a number, 1..1024", argv[i]);
			o.jobs = (int)n;
		} else if (!strcmp(a, "--timeout")) {
			uint64_t n;
			if (++i >= argc)
				return vs_usage_error("%s needs seconds", a);
			if (vs_parse_u64(argv[i], &n) < 0 || n > 86400)
				return vs_usage_error("--timeout '%s': seconds, 0..86400", argv[i]);
			o.stop_timeout = (int)n;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--dry-run") || !strcmp(a, "--test")) {
			o.dry_run = true;
		} else {
			return vs_usage_error("unknown option '%s'", a);
		}
	}
	if (i >= argc)
		return vs_usage_error("missing start or stop");
	action = argv[i++];
	if (!strcmp(action, "start") || !strcmp(action, "--start"))
		o.stop = false;
	else if (!strcmp(action, "stop") || !strcmp(action, "--stop"))
		o.stop = true;
	else
		return vs_usage_error("unknown action '%s' (start or stop)", action);
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	o.names = argv + i;
	o.n_names = (size_t)(argc - i);
	if (o.n_names && o.mark)
		return vs_usage_error("-m and guest names exclude each other");
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0)
		return vs_report_error(&err);
	const vs_report rep = { .fn = say_stdout };
	int nfailed = 0;
	if (vs_autostart(&s, &o, &rep, &nfailed, &err) < 0)
		return vs_report_error(&err);
	return nfailed ? EXIT_FAIL : EXIT_OK;
}
