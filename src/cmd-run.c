/* SPDX-License-Identifier: GPL-2.0-or-later */
/* start, stop, restart, enter, exec, suexec, console, mount, umount */
#include "attach.h"
#include "cli.h"
#include "livemount.h"
#include "start.h"
#include <stdio.h>
#include <string.h>

int cmd_start(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	struct vs_start_opts o = { 0 };
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--rescue")) {
			o.rescue = true;
			int k = i + 1;
			/* util-vserver's --rescue-init (the command as the
			 * guest's init) is what --rescue always does here */
			if (k < argc && !strcmp(argv[k], "--rescue-init"))
				k++;
			if (k < argc && !strcmp(argv[k], "--"))
				k++;
			if (k < argc)
				o.rescue_argv = argv + k;
			break;
		}
		return vs_usage_error("start: unknown option '%s'", argv[i]);
	}
	vs_err err = { 0 };
	bool already;
	if (vs_start(s, name, &o, &already, &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

static int parse_timeout(const char *v, int *out)
{
	uint64_t t;
	if (vs_parse_u64(v, &t) < 0 || t > 86400)
		return vs_usage_error("--timeout '%s': seconds, 0..86400", v);
	*out = (int)t;
	return 0;
}

int cmd_stop(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	int timeout = -1;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			if (parse_timeout(argv[++i], &timeout))
				return EXIT_USAGE;
		} else
			return vs_usage_error("stop: unknown option '%s'", argv[i]);
	}
	vs_err err = { 0 };
	if (vs_stop(s, name, timeout, NULL, &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

int cmd_restart(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	int r = cmd_stop(s, name, argc, argv);
	if (r)
		return r;
	return cmd_start(s, name, 0, NULL);
}

static int attach(const struct vs_settings *s, const char *name, struct vs_attach_opts *o)
{
	vs_err err = { 0 };
	int status;
	fflush(stdout);
	if (vs_attach(s, name, o, &status, &err) < 0)
		return vs_report_error(&err) == EXIT_USAGE ? EXIT_USAGE : 125;
	return status;
}

int cmd_enter(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return vs_usage_error("enter takes no arguments (use exec to run a command)");
	struct vs_attach_opts o = { .tty = -1 };
	return attach(s, name, &o);
}

int cmd_exec(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	struct vs_attach_opts o = { .tty = -1 };
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tty"))
			o.tty = 1;
		else if (!strcmp(argv[i], "-T") || !strcmp(argv[i], "--no-tty"))
			o.tty = 0;
		else
			return vs_usage_error("exec: unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return vs_usage_error("exec: missing command");
	o.argv = argv + i;
	return attach(s, name, &o);
}

int cmd_suexec(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	if (argc < 2)
		return vs_usage_error("usage: vserver NAME suexec USER COMMAND [ARGS...]");
	struct vs_attach_opts o = { .tty = -1, .user = argv[0], .argv = argv + 1 };
	return attach(s, name, &o);
}

int cmd_console(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return vs_usage_error("console takes no arguments");
	vs_err err = { 0 };
	if (vs_console(s, name, &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

/* vserver NAME mount [--ro] [--rbind] SOURCE TARGET: util-vserver's vmount */
int cmd_mount(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	struct vs_live_mount m = { 0 };
	int i = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--ro"))
			m.readonly = true;
		else if (!strcmp(argv[i], "--rbind"))
			m.recursive = true;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			return vs_usage_error("mount: unknown option '%s' (allowed: --ro, --rbind)", argv[i]);
	}
	if (argc - i != 2)
		return vs_usage_error("mount: usage: vserver NAME mount [--ro] [--rbind] SOURCE TARGET");
	m.source = argv[i];
	m.target = argv[i + 1];
	vs_err err = { 0 };
	if (vs_live_mount(s, name, &m, &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

int cmd_umount(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[0], "--"))
		argc--, argv++;
	else if (argc != 1 || argv[0][0] == '-')
		return vs_usage_error("umount: usage: vserver NAME umount TARGET");
	vs_err err = { 0 };
	if (vs_live_umount(s, name, argv[0], &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}
