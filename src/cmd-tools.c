/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-stat, vps, vkill: the host's view of the running guests (the
 * figures, the pid -> guest map and the verified signals are in
 * lib/stat.c). */
#include "cli.h"
#include "config.h"
#include "stat.h"
#include "vs-build-config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int version(void)
{
	printf("%s %s\n", vs_prog, VS_VERSION);
	return 0;
}

/* After getopt_long returned '?': the usage error for the option at fault.
 * `with_arg`: the short options (and long-option values) that take an
 * argument; long-only options have values from 256 on. */
static int bad_option(int argc, char **argv, const char *with_arg)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
	char shortopt[3] = { '-', (char)optopt, 0 };
	bool is_long = !strncmp(arg, "--", 2);
	_cleanup_free_ char *shown = vs_escape(optopt > 0 && optopt < 256 && !is_long ? shortopt : arg);
	if (optopt > 0 && optopt < 256 && strchr(with_arg, optopt) && !strchr(arg, '='))
		return vs_usage_error("option '%s' needs an argument", shown);
	if (optopt > 0 && is_long && strchr(arg, '='))
		return vs_usage_error("option '%s' takes no argument", shown);
	return vs_usage_error("unknown option '%s'", shown);
}

/* ---- vserver-stat ------------------------------------------------------------ */

static const char stat_usage[] =
	"Usage: vserver-stat [--json]\n"
	"One line per running guest, and one for the host (context 0, \"root server\"):\n"
	"  CTX PROC VSZ RSS userTIME sysTIME UPTIME NAME\n"
	"\n"
	"  --json          the same figures as JSON, in bytes, milliseconds and seconds, and\n"
	"                  each guest's cgroup accounting (\"usage\": memory, CPU, pids, I/O, OOM)\n"
	"  -O, --sort KEY  accepted and ignored (util-vserver compatibility)\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n";

static void stat_json(const struct vs_stat *st)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < st->n; i++) {
		const struct vs_stat_entry *e = &st->e[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "context", json_object_new_int64(e->context));
		json_object_object_add(o, "guest", e->guest ? json_object_new_string(e->guest) : NULL);
		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "processes", json_object_new_int64((int64_t)e->nprocs));
		json_object_object_add(o, "vsz_bytes", json_object_new_int64((int64_t)e->vsz));
		json_object_object_add(o, "rss_bytes", json_object_new_int64((int64_t)e->rss));
		json_object_object_add(o, "user_ms", json_object_new_int64((int64_t)e->utime_ms));
		json_object_object_add(o, "sys_ms", json_object_new_int64((int64_t)e->stime_ms));
		json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)(e->uptime_ms / 1000)));
		/* the cgroup's figures (lib/usage.h); the host has no cgroup of ours */
		json_object_object_add(o, "usage", e->guest ? vs_usage_json(&e->usage) : NULL);
		if (e->usage_problem)
			fprintf(stderr, "%s: warning: guest '%s': %s\n", vs_prog, e->guest, e->usage_problem);
		json_object_array_add(a, o);
	}
	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

int main_vserver_stat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 256 },	{ "sort", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },	{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+O:hV", opts, NULL)) != -1) {
		switch (c) {
		case 256:
			json = true;
			break;
		case 'O':
			break;
		case 'h':
			fputs(stat_usage, stdout);
			return 0;
		case 'V':
			return version();
		default:
			return bad_option(argc, argv, "O");
		}
	}
	if (optind < argc)
		return vs_usage_error("unexpected argument '%s'", argv[optind]);
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0)
		return vs_report_error(&err);
	struct vs_stat st;
	if (vs_stat_collect(&s, NULL, &st, &err) < 0)
		return vs_report_error(&err);
	if (json)
		stat_json(&st);
	else {
		printf("%s\n", VS_STAT_HEADER);
		for (size_t i = 0; i < st.n; i++) {
			_cleanup_free_ char *line = vs_stat_line(&st.e[i]);
			printf("%s\n", line);
		}
	}
	vs_stat_free(&st);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", vs_prog, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/* ---- vps --------------------------------------------------------------------- */

static const char vps_usage[] =
	"Usage: vps [PS-OPTIONS...]\n"
	"ps with a CONTEXT column after PID: the context number and the guest name\n"
	"(MAIN for host processes).  Every option is passed to ps; the exit status is ps's.\n"
	"\n"
	"  -h, --help      show this help (alone)\n"
	"  -V, --version   show the version (alone)\n";

/* Run ps with the user's arguments; its standard output, whole. */
static int run_ps(char **args, char **out, size_t *len, int *status)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", vs_prog, strerror(errno));
		return -1;
	}
	/* the CONTEXT column makes every line 20 characters wider */
	struct winsize ws;
	int columns = 0;
	if (!getenv("COLUMNS") && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 2 * VS_VPS_CELL)
		columns = ws.ws_col - VS_VPS_CELL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", vs_prog, strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (columns) {
			char b[16];
			snprintf(b, sizeof b, "%d", columns);
			setenv("COLUMNS", b, 1);
		}
		signal(SIGPIPE, SIG_DFL);
		args[0] = "ps";
		if (access("/bin/ps", X_OK) == 0)
			execv("/bin/ps", args);
		execvp("ps", args);
		fprintf(stderr, "%s: cannot run ps: %s\n", vs_prog, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t cap = 65536, n = 0;
	char *buf = vs_xmalloc0(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		ssize_t r = read(p[0], buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(p[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			*status = 127 << 8;
			break;
		}
	*out = buf;
	*len = n;
	return 0;
}

int main_vps(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(vps_usage, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")))
		return version();
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0)
		return vs_report_error(&err);
	char **args = vs_xmalloc0(((size_t)argc + 1) * sizeof *args);
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	_cleanup_free_ char *out = NULL;
	size_t len;
	int status;
	int r = run_ps(args, &out, &len, &status);
	free(args);
	if (r < 0)
		return EXIT_FAIL;
	/* after ps has read /proc: the guests' processes, listed once */
	struct vs_running_set rs;
	if (vs_running_load(&s, NULL, &rs, &err) < 0) {
		vs_report_error(&err);
		memset(&rs, 0, sizeof rs);
	}
	ssize_t pos = -1;
	bool first = true;
	char *line = out;
	while (line < out + len) {
		char *nl = memchr(line, '\n', (size_t)(out + len - line));
		if (nl)
			*nl = 0;
		_cleanup_free_ char *cell = NULL;
		ssize_t at = -1;
		if (first) {
			pos = vs_vps_header_pos(line);
			if (pos >= 0) {
				at = pos;
				cell = vs_vps_cell(0, NULL, true);
			}
			first = false;
		} else if (pos >= 0) {
			pid_t pid;
			at = vs_vps_row_pid(line, (size_t)pos, &pid);
			if (at >= 0) {
				int g = vs_running_find(&rs, pid);
				cell = g < 0 ? vs_vps_cell(0, "MAIN", false)
					     : vs_vps_cell(rs.g[g].st.context, rs.g[g].name, false);
			} else if (vs_vps_header_pos(line) == pos) {
				at = pos; /* a repeated header (ps --headers) */
				cell = vs_vps_cell(0, NULL, true);
			} else if ((size_t)pos <= strlen(line)) {
				at = pos;
				cell = vs_asprintf(" %-*s", VS_VPS_CELL - 1, "  ERR");
			}
		}
		_cleanup_free_ char *a = NULL, *b = NULL;
		if (at >= 0) {
			char keep = line[at];
			line[at] = 0;
			a = vs_vps_escape(line);
			line[at] = keep;
			b = vs_vps_escape(line + at);
			printf("%s%s%s\n", a, cell, b);
		} else {
			a = vs_vps_escape(line);
			printf("%s%s", a, nl ? "\n" : "");
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	vs_running_free(&rs);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", vs_prog, strerror(errno));
		return EXIT_FAIL;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAIL;
}

/* ---- vkill ------------------------------------------------------------------- */

static const char vkill_usage[] =
	"Usage: vkill [--xid CTX|NAME] [-s SIGNAL] [--] [PID...]\n"
	"Signal processes of a guest by their PID inside the guest, or all of them.\n"
	"\n"
	"  -c, --xid CTX|NAME  the guest: its context number or its name; the PIDs are\n"
	"                      pids in the guest's PID namespace; no PID (or 0): every\n"
	"                      process of the guest\n"
	"                      (without --xid, the PIDs are host pids of guest processes)\n"
	"  -s SIGNAL           a number or a name (HUP, SIGHUP, ...); default TERM\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"Host processes and processes of other guests are refused.\n";

int main_vkill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xid", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *xid = NULL;
	int sig = SIGTERM;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "c:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			xid = optarg;
			break;
		case 's':
			sig = vs_signal_from_name(optarg);
			if (sig < 0) {
				_cleanup_free_ char *shown = vs_escape(optarg);
				return vs_usage_error("'%s' is not a signal (a number 1..64 or a name like HUP, SIGTERM)",
						      shown);
			}
			break;
		case 'h':
			fputs(vkill_usage, stdout);
			return 0;
		case 'V':
			return version();
		default:
			return bad_option(argc, argv, "cs");
		}
	}
	int npids = argc - optind;
	pid_t *pids = vs_xmalloc0(((size_t)npids + 1) * sizeof *pids);
	for (int i = 0; i < npids; i++) {
		uint64_t v;
		if (vs_parse_u64(argv[optind + i], &v) < 0 || v > INT32_MAX) {
			_cleanup_free_ char *shown = vs_escape(argv[optind + i]);
			free(pids);
			return vs_usage_error("'%s' is not a pid", shown);
		}
		pids[i] = (pid_t)v;
	}
	if (!xid && !npids) {
		free(pids);
		fprintf(stderr, "%s: no pid given (and no --xid): nothing to signal\n", vs_prog);
		return EXIT_FAIL;
	}
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0) {
		free(pids);
		return vs_report_error(&err);
	}
	struct vs_running_set rs;
	if (vs_running_load(&s, NULL, &rs, &err) < 0) {
		free(pids);
		return vs_report_error(&err);
	}
	int rc = 0;
	bool all = npids == 0 || (npids == 1 && pids[0] == 0);
	if (xid) {
		size_t gi;
		size_t level = 0;
		if (vs_running_resolve(&s, &rs, xid, &gi, &err) < 0 ||
		    (!all && vs_guest_pidns_level(&rs.g[gi], &level, &err) < 0)) {
			rc = vs_report_error(&err);
			goto out;
		}
		const struct vs_running *g = &rs.g[gi];
		if (all) {
			size_t sent;
			if (vs_guest_signal_all(g, sig, &sent, &err) < 0)
				rc = vs_report_error(&err);
			goto out;
		}
		/* every pid is checked before any signal is sent */
		pid_t *host = vs_xmalloc0((size_t)npids * sizeof *host);
		for (int i = 0; i < npids && !rc; i++) {
			if (pids[i] == 0) {
				vs_fail(&err, VS_E_INVALID, 0, "pid 0 (every process) cannot be combined with other pids");
				rc = vs_report_error(&err);
			} else if (vs_guest_host_pid(g, level, pids[i], &host[i], &err) < 0) {
				err.kind = VS_E_STATE; /* refused: exit 1 */
				rc = vs_report_error(&err);
			}
		}
		for (int i = 0; i < npids && !rc; i++)
			if (vs_guest_signal(g, host[i], level, pids[i], sig, &err) < 0) {
				if (err.kind == VS_E_INVALID)
					err.kind = VS_E_STATE;
				rc = vs_report_error(&err);
			}
		free(host);
		goto out;
	}
	/* no --xid: host pids, each of a running guest */
	int *owner = vs_xmalloc0((size_t)npids * sizeof *owner);
	for (int i = 0; i < npids && !rc; i++) {
		owner[i] = pids[i] > 0 ? vs_running_find(&rs, pids[i]) : -1;
		if (owner[i] < 0) {
			fprintf(stderr, "%s: process %d is not a guest process (host processes are refused)\n", vs_prog,
				(int)pids[i]);
			rc = EXIT_FAIL;
		}
	}
	for (int i = 0; i < npids && !rc; i++)
		if (vs_guest_signal(&rs.g[owner[i]], pids[i], 0, 0, sig, &err) < 0) {
			if (err.kind == VS_E_INVALID)
				err.kind = VS_E_STATE;
			rc = vs_report_error(&err);
		}
	free(owner);
out:
	vs_running_free(&rs);
	free(pids);
	return rc;
}
