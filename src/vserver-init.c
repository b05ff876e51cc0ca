/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-init: the tiny PID 1 of "sysv" style guests.
 *
 * Unlike util-vserver, whose sysv style had no init at all (a guest died
 * when its last daemon exited), a guest always has a PID 1: this one.
 * It runs the start command (default /etc/init.d/rc RUNLEVEL), reaps
 * every orphan, and on SIGTERM (vserver NAME stop) runs the stop command
 * (default /etc/init.d/rc 6), then SIGTERM / SIGKILL to what is left, and
 * exits 0.  SIGHUP kills everything and exits 129, which the monitor
 * reads as "reboot" (a reboot(2) inside the guest kills a namespace's
 * PID 1 with SIGHUP, read the same way).
 *
 * It is linked statically and started by vserver from a sealed memfd
 * copy, so it needs nothing from the guest and the host binary cannot be
 * reached or rewritten through /proc/1/exe.
 *
 * argv: vserver-init NSTART START... NSTOP STOP... */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term, got_hup, got_alarm;

static void on_sig(int sig)
{
	if (sig == SIGTERM || sig == SIGPWR || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGALRM)
		got_alarm = 1;
}

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

/* Block the signals vserver-init waits for; *old gets the mask to wait
 * with (sigsuspend) and to restore. */
static void block_signals(sigset_t *old)
{
	static const int sigs[] = { SIGCHLD, SIGALRM, SIGTERM, SIGPWR, SIGINT, SIGHUP };
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, old);
}

/* Reap until `pid` exits (pid 0: until no child is left), for at most
 * timeout_s seconds (0: no limit): -1 on timeout, -2 on SIGTERM/SIGHUP
 * (or the like).  The signals stay blocked except inside sigsuspend, so
 * none can slip in between a check of the flags and the wait (a lost
 * SIGALRM would make the wait endless); no polling interval is added to
 * the guest's stop.  SIGALRM counts only while a time limit runs. */
static int reap_until(pid_t pid, int timeout_s)
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
		if (got_term || got_hup) {
			ret = -2;
			break;
		}
		sigsuspend(&old);
	}
	alarm(0);
	got_alarm = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
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

	struct sigaction sa = { .sa_handler = on_sig };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPWR, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	/* a handler (doing nothing), so that a child's exit ends sigsuspend;
	 * never SIG_IGN, which would reap the children for us */
	sigaction(SIGCHLD, &sa, NULL);
	/* Ctrl-Alt-Del is not ours to handle */
	reboot(RB_DISABLE_CAD);

	pid_t rc = run(start, runlevel, "N");
	int st = reap_until(rc, 0);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "vserver-init: %s exited with status %d\n", start[0], WEXITSTATUS(st));
	/* the guest lives on: reap orphans until told to stop (the signals
	 * blocked between the check and the wait, as in reap_until) */
	sigset_t old;
	block_signals(&old);
	while (!got_term && !got_hup) {
		int s2;
		if (waitpid(-1, &s2, WNOHANG) <= 0)
			sigsuspend(&old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (got_hup && !got_term) {
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		return 128 + SIGHUP; /* the monitor reads this as "reboot" */
	}
	got_term = 0;
	pid_t sp = run(stop, "6", runlevel);
	reap_until(sp, 0);
	kill(-1, SIGTERM);
	kill(-1, SIGCONT); /* stopped processes must see the SIGTERM too */
	if (reap_until(0, 5) == -1) {
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	}
	return 0;
}
