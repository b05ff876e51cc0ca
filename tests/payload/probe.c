/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vs-probe: a small static multi-tool for test guests (installed in a guest
 * as /t, like crun's tests/init.c).  It is test tooling, not part of
 * vserver.  It links statically and calls nothing that needs NSS, so it
 * runs in any guest root, even one without a libc.
 *
 *   t COMMAND [ARGS...]
 *
 * Output conventions, so that a test can compare lines:
 *   - probe commands (mknod, open, openwronly, write, mkdir, kill, ptrace)
 *     print exactly one line, OK or the errno name (EPERM, EROFS, ...),
 *     and exit 0: the line is the result;
 *   - information commands print their data and exit 0; if they fail they
 *     print the errno name as the last line on stdout and exit 1;
 *   - a usage error prints a message on stderr and exits 2.
 * `t help` lists the commands.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* every command takes (argc, argv), argv[0] being the command name */
#define CMD_ARGS int argc __attribute__((unused)), char **argv __attribute__((unused))

/* ---- errno names ---------------------------------------------------------------- */

#define E(x) { x, #x }
static const struct {
	int num;
	const char *name;
} errnos[] = {
	E(EPERM),	 E(ENOENT),	   E(ESRCH),	     E(EINTR),		E(EIO),
	E(ENXIO),	 E(E2BIG),	   E(ENOEXEC),	     E(EBADF),		E(ECHILD),
	E(EAGAIN),	 E(ENOMEM),	   E(EACCES),	     E(EFAULT),		E(ENOTBLK),
	E(EBUSY),	 E(EEXIST),	   E(EXDEV),	     E(ENODEV),		E(ENOTDIR),
	E(EISDIR),	 E(EINVAL),	   E(ENFILE),	     E(EMFILE),		E(ENOTTY),
	E(ETXTBSY),	 E(EFBIG),	   E(ENOSPC),	     E(ESPIPE),		E(EROFS),
	E(EMLINK),	 E(EPIPE),	   E(EDOM),	     E(ERANGE),		E(EDEADLK),
	E(ENAMETOOLONG), E(ENOLCK),	   E(ENOSYS),	     E(ENOTEMPTY),	E(ELOOP),
	E(ENOMSG),	 E(EIDRM),	   E(ENOSTR),	     E(ENODATA),	E(ETIME),
	E(ENOSR),	 E(EREMOTE),	   E(ENOLINK),	     E(EPROTO),		E(EBADMSG),
	E(EOVERFLOW),	 E(EILSEQ),	   E(EUSERS),	     E(ENOTSOCK),	E(EDESTADDRREQ),
	E(EMSGSIZE),	 E(EPROTOTYPE),	   E(ENOPROTOOPT),   E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT),
	E(EOPNOTSUPP),	 E(EPFNOSUPPORT),  E(EAFNOSUPPORT),  E(EADDRINUSE),	E(EADDRNOTAVAIL),
	E(ENETDOWN),	 E(ENETUNREACH),   E(ENETRESET),     E(ECONNABORTED),	E(ECONNRESET),
	E(ENOBUFS),	 E(EISCONN),	   E(ENOTCONN),	     E(ESHUTDOWN),	E(ETOOMANYREFS),
	E(ETIMEDOUT),	 E(ECONNREFUSED),  E(EHOSTDOWN),     E(EHOSTUNREACH),	E(EALREADY),
	E(EINPROGRESS),	 E(ESTALE),	   E(EDQUOT),	     E(ECANCELED),	E(EOWNERDEAD),
	E(ENOTRECOVERABLE), E(ERFKILL),	   E(EHWPOISON),     E(ENOMEDIUM),	E(EMEDIUMTYPE),
	E(ENOKEY),	 E(EKEYEXPIRED),   E(EKEYREVOKED),   E(EKEYREJECTED),
};
#undef E

/* EWOULDBLOCK == EAGAIN, EDEADLOCK == EDEADLK, ENOTSUP == EOPNOTSUPP on
 * Linux: the first spelling is printed, both are accepted as input. */
static const struct {
	const char *alias;
	int num;
} errno_aliases[] = {
	{ "EWOULDBLOCK", EWOULDBLOCK },
	{ "EDEADLOCK", EDEADLOCK },
	{ "ENOTSUP", ENOTSUP },
};

static const char *errno_name(int e)
{
	static char buf[32];
	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].num == e)
			return errnos[i].name;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static int errno_number(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].num;
	for (size_t i = 0; i < ARRAY_SIZE(errno_aliases); i++)
		if (!strcmp(errno_aliases[i].alias, name))
			return errno_aliases[i].num;
	return -1;
}

/* ---- signal names --------------------------------------------------------------- */

#define S(x) { SIG##x, #x }
static const struct {
	int num;
	const char *name;
} signals[] = {
	S(HUP),	 S(INT),  S(QUIT), S(ILL),  S(TRAP), S(ABRT),	S(BUS),	   S(FPE),  S(KILL), S(USR1),
	S(SEGV), S(USR2), S(PIPE), S(ALRM), S(TERM), S(STKFLT), S(CHLD),   S(CONT), S(STOP), S(TSTP),
	S(TTIN), S(TTOU), S(URG),  S(XCPU), S(XFSZ), S(VTALRM), S(PROF),   S(WINCH), S(IO),  S(PWR),
	S(SYS),
};
#undef S

/* ---- helpers -------------------------------------------------------------------- */

static const char *prog = "t";

static void usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* A probe result: OK or the errno name, exit 0. */
static int result(int rc)
{
	puts(rc < 0 ? errno_name(errno) : "OK");
	return 0;
}

/* An information command failed: the errno name, exit 1. */
static int fail(void)
{
	int e = errno;
	fflush(stdout);
	puts(errno_name(e));
	return 1;
}

static long long parse_ll(const char *s, long long min, long long max, const char *what)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		usage_fail("bad %s: %s", what, s);
	return v;
}

static double parse_seconds(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e7)
		usage_fail("bad number of seconds: %s", s);
	return v;
}

static double now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int parse_signal(const char *s)
{
	if (s[0] >= '0' && s[0] <= '9')
		return (int)parse_ll(s, 0, SIGRTMAX, "signal");
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (!strcasecmp(signals[i].name, s))
			return signals[i].num;
	if (!strncasecmp(s, "RTMIN", 5)) {
		int n = s[5] == '+' ? (int)parse_ll(s + 6, 0, SIGRTMAX - SIGRTMIN, "signal") : 0;
		if (s[5] && s[5] != '+')
			usage_fail("bad signal: %s", s);
		return SIGRTMIN + n;
	}
	usage_fail("bad signal: %s", s);
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

static int cat_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail();
	fflush(stdout);
	int rc = copy_fd(fd, STDOUT_FILENO);
	int e = errno;
	close(fd);
	errno = e;
	return rc < 0 ? fail() : 0;
}

/* Print the lines of /proc/self/status whose key is in keys[]. */
static int status_lines(const char *const *keys, size_t n)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return fail();
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		for (size_t i = 0; i < n; i++)
			if (strlen(keys[i]) == (size_t)(colon - line) && !strncmp(line, keys[i], (size_t)(colon - line)))
				fputs(line, stdout);
	}
	free(line);
	fclose(f);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* ---- commands ------------------------------------------------------------------- */

static int cmd_pid(CMD_ARGS)
{
	printf("%ld\n", (long)getpid());
	return 0;
}

static int cmd_ppid(CMD_ARGS)
{
	printf("%ld\n", (long)getppid());
	return 0;
}

static int cmd_id(CMD_ARGS)
{
	printf("uid=%u euid=%u gid=%u egid=%u\n", (unsigned)getuid(), (unsigned)geteuid(), (unsigned)getgid(),
	       (unsigned)getegid());
	return 0;
}

static int cmd_uname(CMD_ARGS)
{
	struct utsname u;
	if (uname(&u) < 0)
		return fail();
	printf("%s\n%s\n%s\n%s\n%s\n", u.sysname, u.nodename, u.release, u.machine, u.domainname);
	return 0;
}

static int cmd_hostname(CMD_ARGS)
{
	char buf[HOST_NAME_MAX + 2] = { 0 };
	if (gethostname(buf, sizeof buf - 1) < 0)
		return fail();
	puts(buf);
	return 0;
}

static int cmd_caps(CMD_ARGS)
{
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	return status_lines(keys, ARRAY_SIZE(keys));
}

static int cmd_status(CMD_ARGS)
{
	static const char *const keys[] = { "NoNewPrivs", "Seccomp" };
	if (argc > 1)
		return status_lines((const char *const *)argv + 1, (size_t)argc - 1);
	return status_lines(keys, ARRAY_SIZE(keys));
}

static int cmd_mountinfo(CMD_ARGS)
{
	return cat_file("/proc/self/mountinfo");
}

static int cmd_cat(CMD_ARGS)
{
	return cat_file(argv[1]);
}

static int cmd_ls(CMD_ARGS)
{
	DIR *d = opendir(argc > 1 ? argv[1] : ".");
	if (!d)
		return fail();
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				abort();
		}
		if (!(names[n++] = strdup(de->d_name)))
			abort();
	}
	int e = errno;
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		puts(names[i]);
		free(names[i]);
	}
	free(names);
	errno = e;
	return e ? fail() : 0;
}

static int cmd_fds(CMD_ARGS)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return fail();
	long fds[1024];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < ARRAY_SIZE(fds)) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		long fd = strtol(de->d_name, NULL, 10);
		if (fd != dirfd(d))
			fds[n++] = fd;
	}
	qsort(fds, n, sizeof *fds, cmp_long);
	for (size_t i = 0; i < n; i++) {
		char name[32], target[PATH_MAX];
		snprintf(name, sizeof name, "%ld", fds[i]);
		ssize_t l = readlinkat(dirfd(d), name, target, sizeof target - 1);
		if (l < 0)
			snprintf(target, sizeof target, "%s", errno_name(errno));
		else
			target[l] = 0;
		printf("%ld %s\n", fds[i], target);
	}
	closedir(d);
	return 0;
}

static int cmd_ns(CMD_ARGS)
{
	static const char *const kinds[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
					     "time", "time_for_children", "user", "uts" };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char path[64], target[256];
		snprintf(path, sizeof path, "/proc/self/ns/%s", kinds[i]);
		ssize_t l = readlink(path, target, sizeof target - 1);
		if (l < 0)
			snprintf(target, sizeof target, "%s", errno_name(errno));
		else
			target[l] = 0;
		printf("%s %s\n", kinds[i], target);
	}
	return 0;
}

static int cmd_env(CMD_ARGS)
{
	for (char **e = environ; e && *e; e++)
		puts(*e);
	return 0;
}

static int cmd_cwd(CMD_ARGS)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf))
		return fail();
	puts(buf);
	return 0;
}

static int cmd_exit(CMD_ARGS)
{
	fflush(stdout);
	exit((int)parse_ll(argv[1], 0, 255, "exit status"));
}

static int cmd_sleep(CMD_ARGS)
{
	sleep_seconds(parse_seconds(argv[1]));
	return 0;
}

static int cmd_mknod(CMD_ARGS)
{
	mode_t type = S_IFCHR;
	unsigned maj = 1, min = 3;
	if (argc != 2 && argc != 3 && argc != 5)
		usage_fail("usage: mknod PATH [c|b MAJOR MINOR | p]");
	if (argc >= 3) {
		if (!strcmp(argv[2], "c"))
			type = S_IFCHR;
		else if (!strcmp(argv[2], "b"))
			type = S_IFBLK;
		else if (!strcmp(argv[2], "p") && argc == 3)
			type = S_IFIFO;
		else
			usage_fail("bad node type: %s", argv[2]);
		if (type != S_IFIFO && argc != 5)
			usage_fail("usage: mknod PATH [c|b MAJOR MINOR | p]");
	}
	if (argc == 5) {
		maj = (unsigned)parse_ll(argv[3], 0, 4095, "major");
		min = (unsigned)parse_ll(argv[4], 0, 1048575, "minor");
	}
	return result(mknod(argv[1], type | 0666, type == S_IFIFO ? 0 : makedev(maj, min)));
}

static int open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int cmd_open(CMD_ARGS)
{
	return result(open_close(argv[1], O_RDONLY));
}

/* open(O_WRONLY) then close(): nothing is written (security-catalogue §0.2) */
static int cmd_openwronly(CMD_ARGS)
{
	return result(open_close(argv[1], O_WRONLY));
}

static int cmd_write(CMD_ARGS)
{
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return result(-1);
	size_t len = strlen(argv[2]);
	char *buf = malloc(len + 1);
	if (!buf)
		abort();
	memcpy(buf, argv[2], len);
	buf[len++] = '\n';
	ssize_t w = write(fd, buf, len);
	int e = errno;
	free(buf);
	if (w >= 0 && (size_t)w != len) {
		w = -1;
		e = EIO;
	}
	if (close(fd) < 0 && w >= 0) {
		w = -1;
		e = errno;
	}
	errno = e;
	return result(w < 0 ? -1 : 0);
}

static int cmd_mkdir(CMD_ARGS)
{
	return result(mkdir(argv[1], 0755));
}

static int cmd_kill(CMD_ARGS)
{
	pid_t pid = (pid_t)parse_ll(argv[1], INT_MIN + 1, INT_MAX, "pid");
	int sig = argc > 2 ? parse_signal(argv[2]) : SIGTERM;
	return result(kill(pid, sig));
}

/* initctl RUNLEVEL: sysvinit's request to change the runlevel (what its
 * shutdown, halt, reboot and telinit write), one 384-byte record into
 * /run/initctl, written at once as they do. */
static int cmd_initctl(CMD_ARGS)
{
	struct {
		int magic, cmd, runlevel, sleeptime;
		char data[368];
	} r = { .magic = 0x03091969, .cmd = 1 };
	if (strlen(argv[1]) != 1)
		usage_fail("usage: initctl RUNLEVEL (one character)");
	r.runlevel = argv[1][0];
	int fd = open("/run/initctl", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return result(-1);
	ssize_t w = write(fd, &r, sizeof r);
	close(fd);
	if (w >= 0 && w != (ssize_t)sizeof r) {
		errno = EIO;
		w = -1;
	}
	return result(w < 0 ? -1 : 0);
}

static int cmd_ptrace(CMD_ARGS)
{
	pid_t pid = (pid_t)parse_ll(argv[1], 1, INT_MAX, "pid");
	bool seize = argc > 2 && !strcmp(argv[2], "seize");
	if (argc > 2 && !seize && strcmp(argv[2], "attach"))
		usage_fail("usage: ptrace PID [attach|seize]");
	if (seize) {
		/* a seized tracee is not stopped; our exit detaches it */
		return result((int)ptrace(PTRACE_SEIZE, pid, NULL, NULL));
	}
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return result(-1);
	int st;
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return result(0);
}

/* Up to N processes at once; each sleeps until killed (at most HOLD+60 s).
 * Prints "OK N" or "ERRNO CREATED" (e.g. "EAGAIN 37" under pids.max). */
static int cmd_forkbomb(CMD_ARGS)
{
	long n = (long)parse_ll(argv[1], 0, 100000, "count");
	double hold = argc > 2 ? parse_seconds(argv[2]) : 0;
	pid_t *pids = calloc((size_t)n + 1, sizeof *pids);
	if (!pids)
		abort();
	long made = 0;
	int err = 0;
	fflush(stdout);
	fflush(stderr);
	for (; made < n; made++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			alarm((unsigned)hold + 60);
			for (;;)
				pause();
		}
		pids[made] = p;
	}
	printf("%s %ld\n", err ? errno_name(err) : "OK", made);
	fflush(stdout);
	if (hold > 0)
		sleep_seconds(hold);
	for (long i = 0; i < made; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < made; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(pids);
	return 0;
}

/* Allocate and touch MiB mebibytes, one at a time.  Prints "OK MIB" or
 * "ERRNO DONE"; the OOM killer may end the process first (SIGKILL). */
static int cmd_memhog(CMD_ARGS)
{
	long mib = (long)parse_ll(argv[1], 0, 1 << 20, "MiB");
	double hold = argc > 2 ? parse_seconds(argv[2]) : 0;
	long done = 0;
	int err = 0;
	long page = sysconf(_SC_PAGESIZE);
	for (; done < mib; done++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			err = errno;
			break;
		}
		for (long off = 0; off < (1 << 20); off += page)
			p[off] = (char)(off | 1);
	}
	printf("%s %ld\n", err ? errno_name(err) : "OK", done);
	fflush(stdout);
	if (hold > 0)
		sleep_seconds(hold);
	return 0;
}

/* RS-03: write PATH in 1 MiB blocks, at most MIB of them (a bounded
 * payload), then fsync; prints "OK|ERRNO MIB-WRITTEN". */
static int cmd_diskfill(CMD_ARGS)
{
	long mib = (long)parse_ll(argv[2], 0, 1 << 20, "MiB");
	static char block[1 << 20];
	memset(block, 0x5a, sizeof block);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		printf("%s 0\n", errno_name(errno));
		return 0;
	}
	long done = 0;
	int err = 0;
	for (; done < mib && !err; done++) { /* done: whole MiB written */
		size_t off = 0;
		while (off < sizeof block) {
			ssize_t n = write(fd, block + off, sizeof block - off);
			if (n < 0) {
				err = errno;
				break;
			}
			off += (size_t)n;
		}
		if (err)
			break;
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	close(fd);
	printf("%s %ld\n", err ? errno_name(err) : "OK", done);
	return 0;
}

/* RS-04: create empty files DIR/f0, f1 ... until one fails or N exist;
 * prints "OK|ERRNO CREATED". */
static int cmd_inodefill(CMD_ARGS)
{
	long n = (long)parse_ll(argv[2], 0, 100000000, "N");
	int dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		printf("%s 0\n", errno_name(errno));
		return 0;
	}
	long done = 0;
	int err = 0;
	for (; done < n; done++) {
		char name[32];
		snprintf(name, sizeof name, "f%ld", done);
		int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = errno;
			break;
		}
		close(fd);
	}
	close(dfd);
	printf("%s %ld\n", err ? errno_name(err) : "OK", done);
	return 0;
}

/* Burn CPU for SECONDS of wall-clock time; prints "OK CPU_MS", the CPU
 * time this process got, in milliseconds. */
static int cmd_spin(CMD_ARGS)
{
	double secs = parse_seconds(argv[1]);
	double end = now(CLOCK_MONOTONIC) + secs;
	volatile unsigned long x = 0;
	while (now(CLOCK_MONOTONIC) < end)
		for (int i = 0; i < 100000; i++)
			x = x + (unsigned long)i;
	printf("OK %.0f\n", now(CLOCK_PROCESS_CPUTIME_ID) * 1000);
	return 0;
}

/* Listen on 0.0.0.0:PORT (0: any), print "LISTENING PORT", accept one
 * connection, echo it back until EOF, print "OK PEER-ADDRESS".  Fails with
 * ETIMEDOUT if nobody connects within TIMEOUT seconds (default 60). */
static int cmd_listen_tcp(CMD_ARGS)
{
	int port = (int)parse_ll(argv[1], 0, 65535, "port");
	double timeout = argc > 2 ? parse_seconds(argv[2]) : 60;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail();
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t alen = sizeof a;
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) < 0)
		return fail();
	printf("LISTENING %u\n", (unsigned)ntohs(a.sin_port));
	fflush(stdout);
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	int pr;
	while ((pr = poll(&pfd, 1, (int)(timeout * 1000))) < 0 && errno == EINTR)
		;
	if (pr == 0)
		errno = ETIMEDOUT;
	if (pr <= 0)
		return fail();
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;
	int c = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (c < 0)
		return fail();
	close(s);
	if (copy_fd(c, c) < 0)
		return fail();
	close(c);
	char addr[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
	printf("OK %s\n", addr);
	return 0;
}


/* ---- network (issue 5 tests) ------------------------------------------------------
 * Addresses are written ADDR (IPv4 or IPv6) and printed as ADDR:PORT or
 * [ADDR]:PORT; v4-mapped IPv6 addresses are printed as such. */

#include <stddef.h>
#include <sys/un.h>

/* a probe result given as an errno value: its name, exit 0 */
static int res_e(int e)
{
	puts(errno_name(e));
	return 0;
}

static int parse_sa(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	int p = (int)parse_ll(port, 0, 65535, "port");
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof *a4;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof *a6;
		return AF_INET6;
	}
	usage_fail("not an address: %s", addr);
	return -1;
}

static const char *fmt_sa(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a4->sin_addr, a, sizeof a);
		snprintf(buf, n, "%s:%u", a, ntohs(a4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof a);
		snprintf(buf, n, "[%s]:%u", a, ntohs(a6->sin6_port));
	} else
		snprintf(buf, n, "?");
	return buf;
}

static int sock_name(int s, bool peer, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if ((peer ? getpeername(s, (struct sockaddr *)&ss, &l) : getsockname(s, (struct sockaddr *)&ss, &l)) < 0)
		return -1;
	fmt_sa(&ss, buf, n);
	return 0;
}

/* bind ADDR PORT [tcp|udp]: "OK LOCAL" or the errno */
static int cmd_bind(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	bool udp = argc > 3 && !strcmp(argv[3], "udp");
	int s = socket(fam, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	char b[80];
	if (s < 0 || bind(s, (struct sockaddr *)&ss, len) < 0 || sock_name(s, false, b, sizeof b) < 0)
		return res_e(errno);
	printf("OK %s\n", b);
	return 0;
}

/* tcp-serve ADDR PORT SECONDS: bind and listen, print "LISTEN LOCAL", then
 * for SECONDS answer every connection with "PEER=REMOTE LOCAL=LOCAL\n". */
static int cmd_tcp_serve(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	double end = now(CLOCK_MONOTONIC) + parse_seconds(argv[3]);
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	char b[80], p[80];
	if (s < 0)
		return fail();
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 16) < 0 || sock_name(s, false, b, sizeof b) < 0)
		return fail();
	printf("LISTEN %s\n", b);
	fflush(stdout);
	for (;;) {
		double left = end - now(CLOCK_MONOTONIC);
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (sock_name(c, true, p, sizeof p) == 0 && sock_name(c, false, b, sizeof b) == 0)
			dprintf(c, "PEER=%s LOCAL=%s\n", p, b);
		close(c);
	}
}

/* A connected TCP socket: "OK LOCAL PEER LINE", LINE the first line the
 * server sent within t seconds */
static int connected_report(int s, double t)
{
	char me[80], peer[80], line[256] = "";
	sock_name(s, false, me, sizeof me);
	sock_name(s, true, peer, sizeof peer);
	size_t n = 0;
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	while (n < sizeof line - 1 && poll(&pfd, 1, (int)(t * 1000)) > 0) {
		ssize_t r = read(s, line + n, sizeof line - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	printf("OK %s %s %s\n", me, peer, line);
	return 0;
}

/* tcp-connect ADDR PORT [SECONDS]: "OK LOCAL PEER LINE" (the first line the
 * server sent) or the errno (ETIMEDOUT after SECONDS, default 3) */
static int cmd_tcp_connect(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	double t = argc > 3 ? parse_seconds(argv[3]) : 3;
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return res_e(errno);
	if (connect(s, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS)
			return res_e(errno);
		struct pollfd pfd = { .fd = s, .events = POLLOUT };
		if (poll(&pfd, 1, (int)(t * 1000)) <= 0)
			return res_e(ETIMEDOUT);
		int e = 0;
		socklen_t el = sizeof e;
		getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e)
			return res_e(e);
	}
	return connected_report(s, t);
}

/* udp-serve ADDR PORT SECONDS: print "LISTEN LOCAL", wait for one datagram,
 * answer "ACK", print "FROM REMOTE TEXT" (or ETIMEDOUT) */
static int cmd_udp_serve(CMD_ARGS)
{
	struct sockaddr_storage ss, from;
	socklen_t len, fl = sizeof from;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	int s = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char b[80], buf[256];
	if (s < 0 || bind(s, (struct sockaddr *)&ss, len) < 0 || sock_name(s, false, b, sizeof b) < 0)
		return fail();
	printf("LISTEN %s\n", b);
	fflush(stdout);
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	if (poll(&pfd, 1, (int)(parse_seconds(argv[3]) * 1000)) <= 0)
		return res_e(ETIMEDOUT);
	ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return fail();
	buf[n] = 0;
	sendto(s, "ACK", 3, 0, (struct sockaddr *)&from, fl);
	printf("FROM %s %s\n", fmt_sa(&from, b, sizeof b), buf);
	return 0;
}

/* The answer to a datagram sent from s, within t seconds: "OK LOCAL
 * REPLY-FROM REPLY", or the errno */
static int udp_reply(int s, double t)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	if (poll(&pfd, 1, (int)(t * 1000)) <= 0)
		return res_e(ETIMEDOUT);
	char buf[256], me[80], f[80];
	ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return res_e(errno);
	buf[n] = 0;
	sock_name(s, false, me, sizeof me);
	printf("OK %s %s %s\n", me, fmt_sa(&from, f, sizeof f), buf);
	return 0;
}

/* udp-send ADDR PORT TEXT [SECONDS]: from an unbound socket; waits for the
 * answer: "OK LOCAL REPLY-FROM REPLY" or the errno */
static int cmd_udp_send(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	int s = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || sendto(s, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&ss, len) < 0)
		return res_e(errno);
	return udp_reply(s, argc > 4 ? parse_seconds(argv[4]) : 3);
}

/* tcp-connect-from SRC ADDR PORT: bind SRC (port 0) first, then connect;
 * "OK LOCAL PEER LINE" or the errno (of the bind or the connect) */
static int cmd_tcp_connect_from(CMD_ARGS)
{
	struct sockaddr_storage src, ss;
	socklen_t slen, len;
	int fam = parse_sa(argv[2], argv[3], &ss, &len);
	if (parse_sa(argv[1], "0", &src, &slen) != fam)
		usage_fail("SRC and ADDR must be of one family");
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&src, slen) < 0)
		return res_e(errno);
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&ss, len) < 0)
		return res_e(errno == EINPROGRESS ? ETIMEDOUT : errno);
	return connected_report(s, 3);
}

/* udp-pktinfo SPEC ADDR PORT TEXT [connect]: send TEXT with an IP_PKTINFO
 * whose ipi_spec_dst (the source asked for) is SPEC; with "connect", from
 * a socket connected to ADDR:PORT, by sendmsg without an address.  Waits
 * for the answer: "OK LOCAL REPLY-FROM REPLY", or the errno. */
static int cmd_udp_pktinfo(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_sa(argv[2], argv[3], &ss, &len) != AF_INET)
		usage_fail("IPv4 only");
	bool conn = argc > 5 && !strcmp(argv[5], "connect");
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || (conn && connect(s, (struct sockaddr *)&ss, len) < 0))
		return res_e(errno);
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = argv[4], .iov_len = strlen(argv[4]) };
	struct msghdr m = { .msg_name = conn ? NULL : &ss, .msg_namelen = conn ? 0 : len, .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi = { 0 };
	if (inet_pton(AF_INET, argv[1], &pi.ipi_spec_dst) != 1)
		usage_fail("not an IPv4 address: %s", argv[1]);
	memcpy(CMSG_DATA(c), &pi, sizeof pi);
	if (sendmsg(s, &m, 0) < 0)
		return res_e(errno);
	return udp_reply(s, 3);
}

/* tcp-rate ADDR PORT SECONDS: connect, read to EOF, close, as often as
 * possible for SECONDS; prints "OK N PER-SECOND" (bench/net.sh) */
static int cmd_tcp_rate(CMD_ARGS)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_sa(argv[1], argv[2], &ss, &len);
	double t0 = now(CLOCK_MONOTONIC), end = t0 + parse_seconds(argv[3]);
	long n = 0;
	char buf[512];
	while (now(CLOCK_MONOTONIC) < end) {
		int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&ss, len) < 0)
			return fail();
		while (read(s, buf, sizeof buf) > 0)
			;
		close(s);
		n++;
	}
	printf("OK %ld %.0f\n", n, n / (now(CLOCK_MONOTONIC) - t0));
	return 0;
}

static socklen_t abstract_addr(const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	size_t n = strlen(name);
	if (n > sizeof a->sun_path - 2)
		usage_fail("name too long");
	memcpy(a->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* abstract-listen NAME SECONDS: "LISTEN", then accept for SECONDS, writing "HELLO\n" */
static int cmd_abstract_listen(CMD_ARGS)
{
	struct sockaddr_un a;
	socklen_t l = abstract_addr(argv[1], &a);
	double end = now(CLOCK_MONOTONIC) + parse_seconds(argv[2]);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, l) < 0 || listen(s, 8) < 0)
		return fail();
	puts("LISTEN");
	fflush(stdout);
	for (double left; (left = end - now(CLOCK_MONOTONIC)) > 0;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			dprintf(c, "HELLO\n");
			close(c);
		}
	}
	return 0;
}

/* abstract-connect NAME: "OK" or the errno */
static int cmd_abstract_connect(CMD_ARGS)
{
	struct sockaddr_un a;
	socklen_t l = abstract_addr(argv[1], &a);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, l) < 0)
		return res_e(errno);
	puts("OK");
	return 0;
}

/* tun NAME [persist]: open /dev/net/tun and make the tun device NAME
 * (TUNSETIFF, IFF_TUN | IFF_NO_PI), as OpenVPN does, kept after the probe
 * with persist (TUNSETPERSIST): "OK" or the errno of the open or of the
 * ioctl ("open: EPERM") */
static int cmd_tun(CMD_ARGS)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open: %s\n", errno_name(errno));
		return 0;
	}
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", argv[1]);
	int r = ioctl(fd, TUNSETIFF, &ifr);
	if (r == 0 && argc > 2 && !strcmp(argv[2], "persist"))
		r = ioctl(fd, TUNSETPERSIST, 1);
	int e = errno;
	close(fd);
	errno = e;
	return result(r);
}

/* notify PATH MESSAGE: one datagram to the unix socket PATH (\n in MESSAGE
 * is a newline), as sd_notify sends it: "OK" or the errno */
static int cmd_notify(CMD_ARGS)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof a.sun_path)
		usage_fail("path too long");
	strcpy(a.sun_path, argv[1]);
	char msg[1024];
	size_t n = 0;
	for (const char *p = argv[2]; *p && n < sizeof msg - 1; p++)
		msg[n++] = p[0] == '\\' && p[1] == 'n' ? (p++, '\n') : *p;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || sendto(s, msg, n, 0, (struct sockaddr *)&a, sizeof a) < 0)
		return res_e(errno);
	puts("OK");
	return 0;
}

static void nop_handler(int sig)
{
	(void)sig;
}

/* A minimal init: print "READY", optionally start CMD, reap children
 * forever, exit 0 on SIGTERM.  Other signals are ignored (handled by a
 * no-op, so that they are delivered even to a namespace's PID 1). */
static int cmd_pid1_wait(CMD_ARGS)
{
	static const int sigs[] = { SIGTERM, SIGCHLD, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPWR };
	sigset_t set, old;
	sigemptyset(&set);
	struct sigaction sa = { .sa_handler = nop_handler };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		sigaddset(&set, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	puts("READY");
	fflush(stdout);
	if (argc > 1) {
		fflush(stderr);
		pid_t p = fork();
		if (p < 0)
			return fail();
		if (p == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGUSR1, SIG_DFL);
			signal(SIGUSR2, SIG_DFL);
			signal(SIGPWR, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			execvp(argv[1], argv + 1);
			fprintf(stderr, "%s: pid1-wait: %s: %s\n", prog, argv[1], errno_name(errno));
			_exit(127);
		}
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig == SIGTERM)
			exit(0);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

/* ---- attack probes (issue 7: tests/system/test_attacks.py) -----------------------
 * Each prints one line, OK or the errno name, like the probe commands
 * above.  They follow bubblewrap's tests/try-syscall.c: a call is made with
 * arguments that do nothing even if the kernel runs it (fd -1, a bogus
 * pointer, a read-only request, a flag combination the kernel rejects after
 * its permission check), so a missing defence shows up as EBADF, EFAULT,
 * EINVAL or OK, never as harm done to the host (security-catalogue §0.2).
 * ENOSYS means "the kernel lacks the call" (the test reports it), EPERM
 * "refused" (seccomp or a missing capability). */

#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>

/* a call that returned a new fd: close it, the fd itself is the finding */
static long closed(long fd)
{
	if (fd >= 0)
		close((int)fd);
	return fd < 0 ? -1 : 0;
}

static long sp_finit_module(void)
{
	return syscall(SYS_finit_module, -1, "", 0); /* EBADF once past the checks */
}

static long sp_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0UL, ""); /* an empty image: ENOEXEC/EINVAL */
}

static long sp_delete_module(void)
{
	return syscall(SYS_delete_module, "vs_probe_no_such_module", O_NONBLOCK); /* ENOENT */
}

static long sp_kexec_load(void)
{
#ifdef SYS_kexec_load
	return syscall(SYS_kexec_load, 0UL, 1UL, (void *)1, 0UL); /* EFAULT: the segment list */
#else
	errno = ENOSYS;
	return -1;
#endif
}

static long sp_kexec_file_load(void)
{
#ifdef SYS_kexec_file_load
	return syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0UL); /* EBADF */
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_USER_KEYRING (-4), no create: an id
 * means that the guest reaches the keyring of its uid, shared with the host */
static long sp_keyctl(void)
{
	return syscall(SYS_keyctl, 0, -4, 0) < 0 ? -1 : 0;
}

static long sp_add_key(void)
{
	return syscall(SYS_add_key, (void *)1, (void *)1, NULL, 0UL, -2); /* EFAULT: the type */
}

static long sp_request_key(void)
{
	return syscall(SYS_request_key, (void *)1, (void *)1, NULL, 0); /* EFAULT */
}

static long sp_perf_event_open(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof a;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.disabled = 1;
	return closed(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0UL));
}

static long sp_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return closed(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
}

static long sp_userfaultfd(void)
{
	return closed(syscall(SYS_userfaultfd, O_CLOEXEC));
}

static long sp_io_uring_setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	return closed(syscall(SYS_io_uring_setup, 1U, &p));
}

/* the new mount API: each is refused (EPERM) without CAP_SYS_ADMIN */
static long sp_fsopen(void)
{
	return closed(syscall(SYS_fsopen, "tmpfs", 1U /* FSOPEN_CLOEXEC */));
}

static long sp_fsopen_ext4(void)
{
	return closed(syscall(SYS_fsopen, "ext4", 1U));
}

static long sp_fsmount(void)
{
	return closed(syscall(SYS_fsmount, -1, 0U, 0U)); /* EBADF */
}

static long sp_fspick(void)
{
	return closed(syscall(SYS_fspick, -1, "", 0U)); /* EINVAL/EBADF */
}

static long sp_open_tree(void)
{
	/* OPEN_TREE_CLONE (1): a detached copy of the guest's own root */
	return closed(syscall(SYS_open_tree, AT_FDCWD, "/", 1U | (unsigned)O_CLOEXEC));
}

static long sp_move_mount(void)
{
	return syscall(SYS_move_mount, -1, "", -1, "", 0U); /* EBADF/EINVAL */
}

static long sp_mount_setattr(void)
{
	return syscall(SYS_mount_setattr, -1, "", 0U, NULL, 0UL); /* EINVAL */
}

/* an unknown filesystem type: ENODEV once past the permission check */
static long sp_mount(void)
{
	return mount("vs-probe", "/", "vs-probe-no-such-fs", 0, NULL);
}

/* MNT_EXPIRE with MNT_DETACH is rejected (EINVAL) after the permission check */
static long sp_umount2(void)
{
	return umount2("/", MNT_EXPIRE | MNT_DETACH);
}

static long sp_pivot_root(void)
{
	return syscall(SYS_pivot_root, "/vs-probe-none", "/vs-probe-none"); /* ENOENT */
}

/* namespaces: the new one dies with this process */
static long sp_unshare_user(void)
{
	return unshare(CLONE_NEWUSER);
}

static long sp_unshare_mnt(void)
{
	return unshare(CLONE_NEWNS);
}

static long sp_unshare_net(void)
{
	return unshare(CLONE_NEWNET);
}

static long clone_child(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -1;
	while (waitpid((pid_t)pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return 0;
}

static long sp_clone_newuser(void)
{
	/* no stack: the child runs on a copy of ours, like fork */
	return clone_child(syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0UL));
}

static long sp_clone3_newuser(void)
{
#ifdef SYS_clone3
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_NEWUSER;
	a.exit_signal = SIGCHLD;
	return clone_child(syscall(SYS_clone3, &a, sizeof a));
#else
	errno = ENOSYS;
	return -1;
#endif
}

static long sp_setns(void)
{
	return setns(-1, 0); /* EBADF */
}

/* SYSLOG_ACTION_READ (2) of 0 bytes: EINVAL if allowed, nothing consumed */
static long sp_syslog(void)
{
	return syscall(SYS_syslog, 2, NULL, 0);
}

static long sp_settimeofday(void)
{
	/* only the permission check (glibc's wrapper would read a NULL tv) */
	return syscall(SYS_settimeofday, NULL, NULL);
}

static long sp_clock_settime(void)
{
	return syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)1); /* EFAULT */
}

/* a tick outside the kernel's range: EINVAL after the permission check */
static long sp_adjtimex(void)
{
	struct timex t;
	memset(&t, 0, sizeof t);
	t.modes = ADJ_TICK;
	t.tick = 1;
	return adjtimex(&t) < 0 ? -1 : 0;
}

static long sp_iopl(void)
{
#ifdef SYS_iopl
	return syscall(SYS_iopl, 3); /* the port rights die with this process */
#else
	errno = ENOSYS;
	return -1;
#endif
}

static long sp_ioperm(void)
{
#ifdef SYS_ioperm
	return syscall(SYS_ioperm, 0x80UL, 1UL, 1);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* in a pid namespace other than the first: EINVAL (kernel reboot_pid_ns) */
static long sp_reboot_cad_on(void)
{
	return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_ON, NULL);
}

static long sp_sethostname(void)
{
	return sethostname("vs-attack", 9);
}

static long sp_setdomainname(void)
{
	return setdomainname("vs-attack", 9);
}

/* open_by_handle_at on a handle of the guest's own root (harmless if it
 * works); a made-up handle if the filesystem gives none */
static long sp_open_by_handle_at(void)
{
	struct {
		struct file_handle h;
		unsigned char buf[MAX_HANDLE_SZ];
	} fh;
	memset(&fh, 0, sizeof fh);
	fh.h.handle_bytes = MAX_HANDLE_SZ;
	int mnt;
	if (name_to_handle_at(AT_FDCWD, "/", &fh.h, &mnt, 0) < 0) {
		fh.h.handle_bytes = 8;
		fh.h.handle_type = 1;
	}
	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	long r = closed(open_by_handle_at(root, &fh.h, O_RDONLY | O_CLOEXEC));
	int e = errno;
	close(root);
	errno = e;
	return r;
}

static const struct sysprobe {
	const char *name;
	long (*fn)(void);
} sysprobes[] = {
	{ "finit_module", sp_finit_module },
	{ "init_module", sp_init_module },
	{ "delete_module", sp_delete_module },
	{ "kexec_load", sp_kexec_load },
	{ "kexec_file_load", sp_kexec_file_load },
	{ "keyctl", sp_keyctl },
	{ "add_key", sp_add_key },
	{ "request_key", sp_request_key },
	{ "perf_event_open", sp_perf_event_open },
	{ "bpf", sp_bpf },
	{ "userfaultfd", sp_userfaultfd },
	{ "io_uring_setup", sp_io_uring_setup },
	{ "fsopen", sp_fsopen },
	{ "fsopen-ext4", sp_fsopen_ext4 },
	{ "fsmount", sp_fsmount },
	{ "fspick", sp_fspick },
	{ "open_tree", sp_open_tree },
	{ "move_mount", sp_move_mount },
	{ "mount_setattr", sp_mount_setattr },
	{ "mount", sp_mount },
	{ "umount2", sp_umount2 },
	{ "pivot_root", sp_pivot_root },
	{ "unshare-user", sp_unshare_user },
	{ "unshare-mnt", sp_unshare_mnt },
	{ "unshare-net", sp_unshare_net },
	{ "clone-newuser", sp_clone_newuser },
	{ "clone3-newuser", sp_clone3_newuser },
	{ "setns", sp_setns },
	{ "syslog", sp_syslog },
	{ "settimeofday", sp_settimeofday },
	{ "clock_settime", sp_clock_settime },
	{ "adjtimex", sp_adjtimex },
	{ "iopl", sp_iopl },
	{ "ioperm", sp_ioperm },
	{ "reboot-cad-on", sp_reboot_cad_on },
	{ "sethostname", sp_sethostname },
	{ "setdomainname", sp_setdomainname },
	{ "open_by_handle_at", sp_open_by_handle_at },
};

/* sys NAME...: one line per call (`t sys` alone lists the names) */
static int cmd_sys(CMD_ARGS)
{
	if (argc == 1) {
		for (size_t i = 0; i < ARRAY_SIZE(sysprobes); i++)
			puts(sysprobes[i].name);
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		size_t i = 0;
		while (i < ARRAY_SIZE(sysprobes) && strcmp(sysprobes[i].name, argv[a]))
			i++;
		if (i == ARRAY_SIZE(sysprobes))
			usage_fail("unknown system call probe: %s (t sys: the list)", argv[a]);
		fflush(stdout);
		errno = 0;
		result(sysprobes[i].fn() < 0 ? -1 : 0);
	}
	return 0;
}

/* reboot-ns PIDNS restart|halt: reboot(2) from inside a pid namespace,
 * which only ends that namespace's init.  A safety interlock: PIDNS must be
 * this process's pid namespace ("pid:[N]", which the host reads from the
 * guest's init), so that the call can never run in the host's. */
static int cmd_reboot_ns(CMD_ARGS)
{
	static const struct {
		const char *name;
		unsigned int cmd;
	} cmds_[] = { { "restart", LINUX_REBOOT_CMD_RESTART }, { "halt", LINUX_REBOOT_CMD_HALT } };
	char ns[64];
	ssize_t l = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
	if (l < 0)
		return fail();
	ns[l] = 0;
	if (strcmp(ns, argv[1]) || getpid() == 1)
		usage_fail("reboot-ns: refusing: this is %s, not %s", ns, argv[1]);
	for (size_t i = 0; i < ARRAY_SIZE(cmds_); i++)
		if (!strcmp(argv[2], cmds_[i].name)) {
			fflush(stdout);
			return result((int)syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmds_[i].cmd,
						   NULL));
		}
	usage_fail("usage: reboot-ns PIDNS restart|halt");
}

/* chroot-escape PATH: the classic escape (mkdir x; chroot x; chdir .. many
 * times; chroot .), then access(PATH): EPERM (no chroot) or ENOENT (still
 * inside the guest) are safe, OK means PATH was reached */
static int cmd_chroot_escape(CMD_ARGS)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/.vs-chroot-escape-%ld", (long)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return result(-1);
	int r = chroot(dir);
	int e = errno;
	rmdir(dir);
	if (r < 0) {
		errno = e;
		return result(-1);
	}
	for (int i = 0; i < 256; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0)
		return result(-1);
	return result(access(argv[1], F_OK));
}

/* vmread PID: process_vm_readv of one byte at address 1: EFAULT means the
 * kernel allowed the access (and found nothing there) */
static int cmd_vmread(CMD_ARGS)
{
	pid_t pid = (pid_t)parse_ll(argv[1], 1, INT_MAX, "pid");
	char b;
	struct iovec local = { .iov_base = &b, .iov_len = 1 }, remote = { .iov_base = (void *)1, .iov_len = 1 };
	return result(process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 ? -1 : 0);
}

/* tiocsti [hi]: push "#" into the input of the terminal on fd 0 (ENOTTY if
 * fd 0 is none); "hi" sets bit 32 of the request, the CVE-2019-10063
 * bypass of filters that compare only 32 bits (the kernel ignores it) */
static int cmd_tiocsti(CMD_ARGS)
{
	unsigned long req = TIOCSTI;
	if (argc > 1 && strcmp(argv[1], "hi"))
		usage_fail("usage: tiocsti [hi]");
#if ULONG_MAX > 0xffffffffUL
	if (argc > 1)
		req |= 1UL << 32;
#endif
	if (!isatty(STDIN_FILENO))
		return result(-1);
	char c = '#';
	return result((int)syscall(SYS_ioctl, STDIN_FILENO, req, &c));
}

/* ptmx N [HOLD]: open /dev/ptmx up to N times (the soft fd limit raised to
 * the hard one), hold them HOLD seconds; "OK N" or "ERRNO OPENED" */
static int cmd_ptmx(CMD_ARGS)
{
	long n = (long)parse_ll(argv[1], 0, 1 << 20, "count");
	double hold = argc > 2 ? parse_seconds(argv[2]) : 0;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	long done = 0;
	int err = 0;
	for (; done < n; done++)
		if (open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC) < 0) {
			err = errno;
			break;
		}
	printf("%s %ld\n", err ? errno_name(err) : "OK", done);
	fflush(stdout);
	if (hold > 0)
		sleep_seconds(hold);
	return 0;
}

/* sched-fifo: SCHED_FIFO priority 1 for this process (undone if it works) */
static int cmd_sched_fifo(CMD_ARGS)
{
	struct sched_param sp = { .sched_priority = 1 };
	int r = sched_setscheduler(0, SCHED_FIFO, &sp);
	int e = errno;
	if (r == 0) {
		sp.sched_priority = 0;
		sched_setscheduler(0, SCHED_OTHER, &sp);
	}
	errno = e;
	return result(r);
}

/* capraise CAP: add CAP to the inheritable set (capset refuses, EPERM, a
 * capability outside the bounding set) */
static int cmd_capraise(CMD_ARGS)
{
	int cap = (int)parse_ll(argv[1], 0, 63, "capability");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return result(-1);
	d[cap / 32].inheritable |= 1U << (cap % 32);
	return result((int)syscall(SYS_capset, &h, d));
}

/* capbset CAP: 1 if CAP is in the bounding set, else 0 */
static int cmd_capbset(CMD_ARGS)
{
	int r = prctl(PR_CAPBSET_READ, (unsigned long)parse_ll(argv[1], 0, 63, "capability"), 0, 0, 0);
	if (r < 0)
		return fail();
	printf("%d\n", r);
	return 0;
}

/* socket FAMILY TYPE PROTOCOL (numbers): OK (closed again) or the errno */
static int cmd_socket(CMD_ARGS)
{
	int s = socket((int)parse_ll(argv[1], 0, 64, "family"), (int)parse_ll(argv[2], 0, 16, "type") | SOCK_CLOEXEC,
		       (int)parse_ll(argv[3], 0, 65535, "protocol"));
	return result((int)closed(s));
}

/* mount SOURCE TARGET TYPE: mount(2) without flags or options */
static int cmd_mount(CMD_ARGS)
{
	return result(mount(argv[1], argv[2], argv[3], 0, NULL));
}

/* remount-rw TARGET: make a read-only bind mount writable */
static int cmd_remount_rw(CMD_ARGS)
{
	return result(mount(NULL, argv[1], NULL, MS_REMOUNT | MS_BIND, NULL));
}

/* umount TARGET */
static int cmd_umount(CMD_ARGS)
{
	return result(umount2(argv[1], 0));
}

static int cmd_errno_name(CMD_ARGS);
static int cmd_help(CMD_ARGS);

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	int min, max; /* arguments after the command name */
	const char *args;
} cmds[] = {
	{ "pid", cmd_pid, 0, 0, "" },
	{ "ppid", cmd_ppid, 0, 0, "" },
	{ "id", cmd_id, 0, 0, "" },
	{ "uname", cmd_uname, 0, 0, "" },
	{ "hostname", cmd_hostname, 0, 0, "" },
	{ "caps", cmd_caps, 0, 0, "" },
	{ "status", cmd_status, 0, 16, "[KEY...]" },
	{ "mountinfo", cmd_mountinfo, 0, 0, "" },
	{ "ns", cmd_ns, 0, 0, "" },
	{ "fds", cmd_fds, 0, 0, "" },
	{ "env", cmd_env, 0, 0, "" },
	{ "cwd", cmd_cwd, 0, 0, "" },
	{ "cat", cmd_cat, 1, 1, "PATH" },
	{ "ls", cmd_ls, 0, 1, "[DIR]" },
	{ "mknod", cmd_mknod, 1, 4, "PATH [c|b MAJOR MINOR | p]" },
	{ "open", cmd_open, 1, 1, "PATH" },
	{ "openwronly", cmd_openwronly, 1, 1, "PATH" },
	{ "write", cmd_write, 2, 2, "PATH TEXT" },
	{ "mkdir", cmd_mkdir, 1, 1, "PATH" },
	{ "kill", cmd_kill, 1, 2, "PID [SIG]" },
	{ "initctl", cmd_initctl, 1, 1, "RUNLEVEL" },
	{ "ptrace", cmd_ptrace, 1, 2, "PID [attach|seize]" },
	{ "exit", cmd_exit, 1, 1, "N" },
	{ "sleep", cmd_sleep, 1, 1, "SECONDS" },
	{ "spin", cmd_spin, 1, 1, "SECONDS" },
	{ "forkbomb", cmd_forkbomb, 1, 2, "N [HOLD-SECONDS]" },
	{ "memhog", cmd_memhog, 1, 2, "MIB [HOLD-SECONDS]" },
	{ "diskfill", cmd_diskfill, 2, 2, "PATH MIB" },
	{ "inodefill", cmd_inodefill, 2, 2, "DIR N" },
	{ "listen-tcp", cmd_listen_tcp, 1, 2, "PORT [TIMEOUT-SECONDS]" },
	{ "bind", cmd_bind, 2, 3, "ADDR PORT [tcp|udp]" },
	{ "tcp-serve", cmd_tcp_serve, 3, 3, "ADDR PORT SECONDS" },
	{ "tcp-connect", cmd_tcp_connect, 2, 3, "ADDR PORT [SECONDS]" },
	{ "udp-serve", cmd_udp_serve, 3, 3, "ADDR PORT SECONDS" },
	{ "tcp-rate", cmd_tcp_rate, 3, 3, "ADDR PORT SECONDS" },
	{ "udp-send", cmd_udp_send, 3, 4, "ADDR PORT TEXT [SECONDS]" },
	{ "tcp-connect-from", cmd_tcp_connect_from, 3, 3, "SRC ADDR PORT" },
	{ "udp-pktinfo", cmd_udp_pktinfo, 4, 5, "SPEC ADDR PORT TEXT [connect]" },
	{ "abstract-listen", cmd_abstract_listen, 2, 2, "NAME SECONDS" },
	{ "abstract-connect", cmd_abstract_connect, 1, 1, "NAME" },
	{ "notify", cmd_notify, 2, 2, "PATH MESSAGE" },
	{ "tun", cmd_tun, 1, 2, "NAME [persist]" },
	{ "pid1-wait", cmd_pid1_wait, 0, 64, "[CMD [ARG...]]" },
	{ "errno-name", cmd_errno_name, 0, 64, "[N|NAME...]" },
	{ "help", cmd_help, 0, 0, "" },
	/* ---- attack probes (issue 7: tests/system/test_attacks.py) ---- */
	{ "sys", cmd_sys, 0, 64, "[NAME...]" },
	{ "reboot-ns", cmd_reboot_ns, 2, 2, "PIDNS restart|halt" },
	{ "chroot-escape", cmd_chroot_escape, 1, 1, "PATH" },
	{ "vmread", cmd_vmread, 1, 1, "PID" },
	{ "tiocsti", cmd_tiocsti, 0, 1, "[hi]" },
	{ "ptmx", cmd_ptmx, 1, 2, "N [HOLD-SECONDS]" },
	{ "sched-fifo", cmd_sched_fifo, 0, 0, "" },
	{ "capraise", cmd_capraise, 1, 1, "CAP" },
	{ "capbset", cmd_capbset, 1, 1, "CAP" },
	{ "socket", cmd_socket, 3, 3, "FAMILY TYPE PROTOCOL" },
	{ "mount", cmd_mount, 3, 3, "SOURCE TARGET TYPE" },
	{ "remount-rw", cmd_remount_rw, 1, 1, "TARGET" },
	{ "umount", cmd_umount, 1, 1, "TARGET" },
};

/* N -> name, NAME -> number; without arguments, the whole table as "N NAME" */
static int cmd_errno_name(CMD_ARGS)
{
	if (argc == 1) {
		for (size_t i = 0; i < ARRAY_SIZE(errnos); i++)
			printf("%d %s\n", errnos[i].num, errnos[i].name);
		return 0;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] >= '0' && argv[i][0] <= '9') {
			puts(errno_name((int)parse_ll(argv[i], 0, 4095, "errno")));
		} else {
			int n = errno_number(argv[i]);
			if (n < 0) {
				puts("?");
				rc = 1;
			} else
				printf("%d\n", n);
		}
	}
	return rc;
}

static int cmd_help(CMD_ARGS)
{
	printf("usage: %s COMMAND [ARGS...]\n", prog);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		printf("  %s%s%s\n", cmds[i].name, cmds[i].args[0] ? " " : "", cmds[i].args);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 0 && argv[0][0])
		prog = argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s COMMAND [ARGS...] (%s help: the commands)\n", prog, prog);
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		int n = argc - 2;
		if (n < cmds[i].min || n > cmds[i].max)
			usage_fail("usage: %s %s%s%s", prog, cmds[i].name, cmds[i].args[0] ? " " : "",
				   cmds[i].args);
		int rc = cmds[i].fn(argc - 1, argv + 1);
		if (fflush(stdout) != 0 || ferror(stdout))
			return 1;
		return rc;
	}
	usage_fail("unknown command: %s (%s help: the commands)", argv[1], prog);
}
