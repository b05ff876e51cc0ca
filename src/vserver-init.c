/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-init: the tiny PID 1 of "sysv" style guests.
 *
 * Unlike util-vserver, whose sysv style had no init at all (a guest died
 * when its last daemon exited), a guest always has a PID 1: this one.
 * It runs the start command (default /etc/init.d/rc RUNLEVEL), reaps
 * every orphan, and shuts the guest down when asked:
 *
 *   from the host (the sender is outside the guest's PID namespace, so
 *   the signal carries pid 0):
 *     SIGTERM, SIGPWR, SIGINT   stop (vserver NAME stop): exit 0
 *     SIGHUP                    kill everything at once: exit 129
 *   from inside the guest, the requests of the guest's own tools:
 *     busybox reboot (SIGTERM), SIGINT                        reboot
 *     busybox halt / poweroff (SIGUSR1 / SIGUSR2), SIGPWR     halt
 *     sysvinit's shutdown, halt, reboot, telinit: runlevel 6 (reboot) or
 *     0 (halt) written to the /run/initctl FIFO, as to sysvinit's init
 *   from the console tty: ^C and the like are ignored; its hangup (the
 *   monitor is gone) kills everything, as SIGHUP from the host does
 *
 * A shutdown runs the stop command (default /etc/init.d/rc 6; rc 0 for
 * the guest's own halt), then
 * SIGTERM / SIGKILL to what is left, and exits 0 for a halt or a stop,
 * 129 for a reboot, which the monitor reads as "restart the guest" (a
 * reboot(2) inside the guest kills a namespace's PID 1 with SIGHUP, read
 * the same way).  A stop from the host during a reboot's shutdown turns
 * it into a halt; a second stop signal from the host (or SIGHUP) cuts the
 * wait for the stop command short.
 *
 * When the start command has finished, it sends READY=1 to $NOTIFY_SOCKET
 * (vserver's readiness socket, as systemd would): `vserver start` waits
 * for it, as util-vserver's start waited for rc.  The variable is taken
 * out of the environment of everything it runs.
 *
 * The runlevel is recorded in the guest's utmp (BOOT_TIME and RUN_LVL
 * records, as sysvinit writes them), so that `runlevel` and `who -r`
 * answer, and sysvinit's `reboot` knows it is not in runlevel 0 or 6.
 *
 * It is linked statically and started by vserver from a sealed memfd
 * copy, so it needs nothing from the guest and the host binary cannot be
 * reached or rewritten through /proc/1/exe.
 *
 * argv: vserver-init NSTART START... NSTOP STOP... */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

/* What PID 1 was asked for, in rising order of precedence. */
enum action { A_NONE, A_REBOOT, A_HALT, A_STOP, A_KILL_REBOOT };

static volatile sig_atomic_t action, got_alarm;
/* stop signals from the host so far: a second one cuts a shutdown short */
static volatile sig_atomic_t host_stops;
/* set while the guest's own shutdown waits for its stop command under the
 * guest's time limit: a stop from the host takes over the timing */
static volatile sig_atomic_t guest_timed;

static void raise_action(enum action a)
{
	if ((sig_atomic_t)a > action)
		action = a;
}

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Who sent it.  kill(2) and tgkill(2) fill in the sender, which
	 * nobody can forge (sigqueue's SI_QUEUE can): a sender outside the
	 * guest's PID namespace has no pid in it.  SI_KERNEL is the console
	 * tty: ^C or ^\ typed on `vserver NAME console` (PID 1 leads the
	 * console's session), or its hangup when the monitor is gone. */
	bool host = si->si_pid == 0 && (si->si_code == SI_USER || si->si_code == SI_TKILL);
	bool tty = si->si_code == SI_KERNEL;
	switch (sig) {
	case SIGALRM:
		got_alarm = 1;
		break;
	case SIGTERM:
	case SIGINT:
	case SIGPWR:
		if (host) {
			host_stops++;
			raise_action(A_STOP);
			if (guest_timed)
				alarm(0);
		} else if (!tty) {
			raise_action(sig == SIGPWR ? A_HALT : A_REBOOT);
		}
		break;
	case SIGUSR1:
	case SIGUSR2:
		if (!tty)
			raise_action(A_HALT);
		break;
	case SIGHUP:
		/* from inside: "reload your configuration", which has none;
		 * the console's hangup: the monitor is gone, so is the guest */
		if (host || tty)
			raise_action(A_KILL_REBOOT);
		break;
	default:
		break;
	}
}

/* ---- /run/initctl: sysvinit's request FIFO (initreq.h) ------------------------------------ */

#define INITCTL "/run/initctl"
#define INIT_MAGIC 0x03091969
#define INIT_CMD_RUNLVL 1

struct init_request {
	int magic;
	int cmd;
	int runlevel;
	int sleeptime;
	char data[368];
};

_Static_assert(sizeof(struct init_request) == 384, "sysvinit's request is 384 bytes");

/* The FIFO, made afresh (a /run that is not a tmpfs may keep an old
 * one); /dev/initctl points to it for the tools of older guests.  -1 when
 * the guest has no /run: its sysvinit tools then fail as before. */
static int initctl_open(void)
{
	struct stat st;
	if (lstat(INITCTL, &st) == 0) {
		if (!S_ISFIFO(st.st_mode) && !S_ISLNK(st.st_mode)) {
			fprintf(stderr, "vserver-init: %s exists and is not a FIFO: shutdown and telinit will not "
					"reach PID 1\n",
				INITCTL);
			return -1;
		}
		unlink(INITCTL);
	}
	if (mkfifo(INITCTL, 0600) < 0)
		return -1;
	if (lstat("/dev/initctl", &st) < 0 && errno == ENOENT)
		symlink(INITCTL, "/dev/initctl");
	/* read-write: the FIFO never reads as end-of-file between writers */
	return open(INITCTL, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

static void initctl_read(int fd)
{
	struct init_request r;
	ssize_t n;
	while ((n = read(fd, &r, sizeof r)) > 0) {
		if (n != (ssize_t)sizeof r || r.magic != INIT_MAGIC || r.cmd != INIT_CMD_RUNLVL)
			continue; /* SETENV (INIT_HALT=...), power events: nothing to do */
		switch (r.runlevel) {
		case '0':
			raise_action(A_HALT);
			break;
		case '6':
			raise_action(A_REBOOT);
			break;
		case 'q':
		case 'Q':
		case 'u':
		case 'U':
			break; /* reload inittab, re-execute: nothing to do */
		default:
			fprintf(stderr, "vserver-init: runlevel %c requested: a sysv-style guest knows only 0 "
					"(halt) and 6 (reboot)\n",
				r.runlevel >= 0x20 && r.runlevel < 0x7f ? r.runlevel : '?');
			break;
		}
	}
}

/* ---- utmp -------------------------------------------------------------------------------- */

static void utmp_record(short type, const char *user, int pid)
{
	struct utmpx u = { .ut_type = type, .ut_pid = pid };
	struct timeval tv;
	gettimeofday(&tv, NULL);
	u.ut_tv.tv_sec = tv.tv_sec;
	u.ut_tv.tv_usec = tv.tv_usec;
	strncpy(u.ut_user, user, sizeof u.ut_user);
	strncpy(u.ut_id, "~~", sizeof u.ut_id);
	strncpy(u.ut_line, "~", sizeof u.ut_line);
	setutxent();
	pututxline(&u);
	endutxent();
}

/* Boot: a fresh utmp (what sysvinit's bootmisc.sh does), a boot record
 * and the runlevel.  Nothing when the guest has no /var/run, or when its
 * utmp is not a regular file (a FIFO would block PID 1).  Only here, at
 * boot, before any other process of the guest exists: glibc's utmp
 * functions wait up to 10 s for a lock that any guest user could hold
 * later, and use alarm(2) for it (never inside reap_until). */
static void utmp_boot(char runlevel)
{
	int fd = open(_PATH_UTMPX, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) == 0;
	close(fd);
	if (!ok)
		return;
	utmp_record(BOOT_TIME, "reboot", 0);
	utmp_record(RUN_LVL, "runlevel", runlevel + 256 * 'N');
}

/* ---- children ---------------------------------------------------------------------------- */

static pid_t run(char **argv, const char *runlevel, const char *prevlevel)
{
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		setsid();
		setenv("RUNLEVEL", runlevel, 1);
		setenv("PREVLEVEL", prevlevel, 1);
		execv(argv[0], argv);
		fprintf(stderr, "vserver-init: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static const int handled[] = { SIGCHLD, SIGALRM, SIGTERM, SIGPWR, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };

/* Block the signals vserver-init waits for; *old gets the mask to wait
 * with (ppoll) and to restore. */
static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
		sigaddset(set, handled[i]);
}

static void block_signals(sigset_t *old)
{
	sigset_t block;
	handled_set(&block);
	sigprocmask(SIG_BLOCK, &block, old);
}

static int initctl_fd = -1;

/* Sleep until a signal or an initctl request (signals unblocked only in
 * here: none can slip in between a check of the flags and the wait). */
static void wait_event(const sigset_t *old)
{
	struct pollfd p = { .fd = initctl_fd, .events = POLLIN };
	if (ppoll(&p, initctl_fd >= 0, NULL, old) > 0 && (p.revents & POLLIN))
		initctl_read(initctl_fd);
}

static sig_atomic_t stops_at_shutdown;

/* Reasons to stop waiting: at boot, any request; in a shutdown, a kill
 * or a second stop from the host. */
static bool requested(void)
{
	return action != A_NONE;
}

static bool never(void)
{
	return false;
}

static bool cut_short(void)
{
	return action == A_KILL_REBOOT || host_stops > stops_at_shutdown;
}

/* Reap until `pid` exits (pid 0: until no child is left), for at most
 * timeout_s seconds (0: no limit): -1 on timeout, -2 when done() says so.
 * No polling interval is added to the guest's stop.  SIGALRM counts only
 * while a time limit runs. */
static int reap_until(pid_t pid, int timeout_s, bool (*done)(void))
{
	sigset_t old;
	block_signals(&old);
	got_alarm = 0;
	alarm((unsigned)timeout_s);
	int ret;
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, WNOHANG);
		if (r == pid && pid > 0) {
			ret = st;
			break;
		}
		if (r < 0 && errno == ECHILD) {
			ret = 0;
			break;
		}
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		if (timeout_s && got_alarm) {
			ret = -1;
			break;
		}
		if (done()) {
			ret = -2;
			break;
		}
		wait_event(&old);
	}
	alarm(0);
	got_alarm = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void kill_all_now(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* READY=1 (and, when the start command failed, STATUS=) to the
 * readiness socket; nothing if there is none. */
static void notify_ready(const char *path, const char *cmd, int st)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (!path || path[0] != '/' || strlen(path) >= sizeof sun.sun_path)
		return;
	strcpy(sun.sun_path, path);
	char msg[512];
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st))
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s exited with status %d", cmd, WEXITSTATUS(st));
	else if (st >= 0 && WIFSIGNALED(st))
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s was killed by signal %d", cmd, WTERMSIG(st));
	else
		snprintf(msg, sizeof msg, "READY=1");
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, sizeof sun) < 0) {
	}
	close(fd);
}

int main(int argc, char **argv)
{
	if (getpid() != 1) {
		fprintf(stderr, "vserver-init: must run as PID 1 of a guest\n");
		return 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: vserver-init NSTART START... NSTOP STOP...\n");
		return 2;
	}
	int nstart = atoi(argv[1]);
	if (nstart < 1 || 2 + nstart >= argc) {
		fprintf(stderr, "vserver-init: bad arguments\n");
		return 2;
	}
	char **start = argv + 2;
	int nstop = atoi(argv[2 + nstart]);
	char **stop = argv + 3 + nstart;
	if (nstop < 1 || 3 + nstart + nstop != argc) {
		fprintf(stderr, "vserver-init: bad arguments\n");
		return 2;
	}
	start[nstart] = NULL; /* overwrite NSTOP with the terminator */
	const char *runlevel = getenv("VSERVER_RUNLEVEL") ? getenv("VSERVER_RUNLEVEL") : "3";
	unsetenv("VSERVER_RUNLEVEL");
	/* how long a shutdown the guest asked for may run its stop command
	 * (0: not at all, as a stop from the host with timeout 0; unset: no
	 * limit); a stop from the host is timed by the host */
	int stop_timeout = getenv("VSERVER_STOP_TIMEOUT") ? atoi(getenv("VSERVER_STOP_TIMEOUT")) : -1;
	unsetenv("VSERVER_STOP_TIMEOUT");
	char *notify = getenv("NOTIFY_SOCKET") ? strdup(getenv("NOTIFY_SOCKET")) : NULL;
	unsetenv("NOTIFY_SOCKET");

	struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
	/* one handler at a time: raise_action and host_stops++ are not atomic */
	handled_set(&sa.sa_mask);
	/* SIGCHLD gets a handler (doing nothing) too, so that a child's exit
	 * ends the wait; never SIG_IGN, which would reap the children for us */
	for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
		sigaction(handled[i], &sa, NULL);
	/* Ctrl-Alt-Del is not ours to handle */
	reboot(RB_DISABLE_CAD);
	initctl_fd = initctl_open();
	utmp_boot(runlevel[0]);

	pid_t rc = run(start, runlevel, "N");
	int st = reap_until(rc, 0, requested);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "vserver-init: %s exited with status %d\n", start[0], WEXITSTATUS(st));
	if (st >= 0)
		notify_ready(notify, start[0], st);
	free(notify);
	/* the guest lives on: reap orphans until told otherwise (the signals
	 * blocked between the check and the wait, as in reap_until) */
	sigset_t old;
	block_signals(&old);
	while (action == A_NONE) {
		int s2;
		if (waitpid(-1, &s2, WNOHANG) <= 0)
			wait_event(&old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (action == A_KILL_REBOOT) {
		kill_all_now();
		return 128 + SIGHUP; /* the monitor reads this as "reboot" */
	}
	if (action == A_REBOOT)
		fprintf(stderr, "vserver-init: reboot requested in the guest\n");
	else if (action == A_HALT)
		fprintf(stderr, "vserver-init: halt requested in the guest\n");
	/* the default stop command, rc 6, is rc 0 for the guest's own halt:
	 * the halt scripts of a guest made for sysvinit are there (rc 6 may
	 * end in its reboot script, which would restart the guest) */
	const char *level = "6";
	if (action == A_HALT && nstop == 2 && !strcmp(stop[0], "/etc/init.d/rc") && !strcmp(stop[1], "6"))
		stop[1] = (char *)(level = "0");
	/* a shutdown the guest asked for is cut short by the second stop
	 * from the host, as one the host asked for */
	stops_at_shutdown = host_stops + (action != A_STOP);
	/* a request during the boot: its rc first (a session of its own),
	 * so that it starts nothing after the stop command stopped it */
	if (st == -2) {
		kill(-rc, SIGTERM);
		if (reap_until(rc, 5, cut_short) < 0) {
			kill(-rc, SIGKILL);
			reap_until(rc, 0, never);
		}
	}
	if (action == A_STOP || stop_timeout != 0) {
		pid_t sp = run(stop, level, runlevel);
		bool timed = action != A_STOP && stop_timeout > 0;
		guest_timed = timed;
		if (reap_until(sp, timed ? stop_timeout : 0, cut_short) == -1)
			fprintf(stderr, "vserver-init: %s did not finish within %d s: ending every process\n", stop[0],
				stop_timeout);
		guest_timed = 0;
	}
	kill(-1, SIGTERM);
	kill(-1, SIGCONT); /* stopped processes must see the SIGTERM too */
	if (reap_until(0, 5, cut_short) != 0)
		kill_all_now();
	/* a stop from the host meanwhile makes a reboot a halt, its SIGHUP
	 * makes anything a reboot */
	return action == A_REBOOT || action == A_KILL_REBOOT ? 128 + SIGHUP : 0;
}
