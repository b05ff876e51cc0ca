/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach.h"
#include "landlock.h"
#include "reslimits.h"
#include "caps.h"
#include "cgroup.h"
#include "config.h"
#include "lock.h"
#include "scripts.h"
#include "safeio.h"
#include "sysfilter.h"
#include "state.h"
#include "userns.h"
#include "execshim.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

struct guser {
	uid_t uid;
	gid_t gid;
	char home[256];
	char shell[256];
	char name[64];
};

/* Parse the guest's /etc/passwd ourselves (no NSS, no guest library is
 * ever loaded into a privileged process: HS-05). */
static int lookup_user(const char *user, struct guser *u, vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	vs_err e;
	uint64_t num;
	bool numeric = vs_parse_u64(user, &num) == 0;
	if (numeric && num > 4294967294ULL)
		return vs_fail(err, VS_E_INVALID, 0, "user '%s': uid out of range (0..4294967294)", user);
	if (!numeric && (!*user || strpbrk(user, ":\n/ ")))
		return vs_fail(err, VS_E_INVALID, 0, "user '%s' is not a valid user name", user);
	if (vs_read_file_at(AT_FDCWD, "/etc/passwd", 4 << 20, &data, NULL, &e) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *f[7];
			int n = 0;
			char *p = l;
			while (n < 7) {
				f[n++] = p;
				p = strchr(p, ':');
				if (!p)
					break;
				*p++ = 0;
			}
			if (n < 7)
				continue;
			uint64_t uid, gid;
			/* (uid_t is 32 bits: 4294967296 would be root, and -1
			 * means "unchanged" to the set*id calls) */
			if (vs_parse_u64(f[2], &uid) < 0 || vs_parse_u64(f[3], &gid) < 0 || uid > 4294967294ULL ||
			    gid > 4294967294ULL)
				continue;
			if (numeric ? uid != num : strcmp(f[0], user))
				continue;
			u->uid = (uid_t)uid;
			u->gid = (gid_t)gid;
			snprintf(u->name, sizeof u->name, "%s", f[0]);
			snprintf(u->home, sizeof u->home, "%s", *f[5] ? f[5] : "/");
			snprintf(u->shell, sizeof u->shell, "%s", f[6]);
			return 0;
		}
	}
	if (numeric) {
		u->uid = (uid_t)num;
		u->gid = (gid_t)num;
		snprintf(u->name, sizeof u->name, "%s", user);
		snprintf(u->home, sizeof u->home, "/");
		u->shell[0] = 0;
		return 0;
	}
	return vs_fail(err, VS_E_INVALID, 0, "no user '%s' in the guest's /etc/passwd", user);
}

static int send_fd(int sock, int fd)
{
	char c = 'm';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

static void fail_to(int fd, const vs_err *e)
{
	if (write(fd, e->msg, strlen(e->msg)) < 0) {
	}
	_exit(127);
}

/* A login shell candidate (in the guest, as the new process): executable,
 * and a script's interpreter too, so that a broken one (say, the root
 * shell's "#!" pointing at a removed program) is passed over for the
 * next, as the shell's own exec would fail in the shim. */
static bool shell_usable(const char *path)
{
	if (access(path, X_OK) < 0)
		return false;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return true; /* execute-only: the kernel will say */
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	char head[256];
	ssize_t n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return true; /* a binary (or unreadable: the kernel will say) */
	head[n] = 0;
	char *p = head + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	p[strcspn(p, " \t\n")] = 0;
	return *p && access(p, X_OK) == 0;
}

/* In the guest, as the new process: everything from the pty to exec. */
static void grandchild(const struct vs_config *c, const struct vs_attach_opts *o, bool pty, int sock, int errfd,
		       int shim, const char *term, const int stdio[3])
{
	vs_err e = { 0 };
	setsid();
	/* the joining process ignores job control (see vs_attach) */
	signal(SIGTSTP, SIG_DFL);
	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	if (!pty) {
		/* pipes vserver made: never the caller's own fds, which a guest
		 * process could reopen through /proc/PID/fd (a terminal to read
		 * keystrokes from, a host file to truncate) */
		for (int i = 0; i < 3; i++)
			if (dup2(stdio[i], i) < 0) {
				vs_fail_errno(&e, "stdio");
				fail_to(errfd, &e);
			}
	}
	if (pty) {
		int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
		struct statfs sf;
		if (m < 0 || fstatfs(m, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
			vs_fail(&e, VS_E_SYSTEM, m < 0 ? errno : 0, "the guest's /dev/pts/ptmx is not a devpts pty multiplexer");
			fail_to(errfd, &e);
		}
		int unlock = 0;
		if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
			vs_fail_errno(&e, "unlocking the pty");
			fail_to(errfd, &e);
		}
		int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (sl < 0) {
			vs_fail_errno(&e, "opening the pty");
			fail_to(errfd, &e);
		}
		if (send_fd(sock, m) < 0) {
			vs_fail_errno(&e, "passing the pty");
			fail_to(errfd, &e);
		}
		close(m);
		if (ioctl(sl, TIOCSCTTY, 0) < 0 || dup2(sl, 0) < 0 || dup2(sl, 1) < 0 || dup2(sl, 2) < 0) {
			vs_fail_errno(&e, "pty as the controlling terminal");
			fail_to(errfd, &e);
		}
		if (sl > 2)
			close(sl);
	}
	close(sock);
	if (vs_config_personality(c) && personality(vs_config_personality(c)) < 0) {
		vs_fail_errno(&e, "personality");
		fail_to(errfd, &e);
	}
	struct guser u = { .uid = 0, .gid = 0, .home = "/root", .name = "root" };
	if (o->user && lookup_user(o->user, &u, &e) < 0)
		fail_to(errfd, &e);
	if (!o->user) {
		struct guser r;
		vs_err e2;
		if (lookup_user("0", &r, &e2) == 0) {
			snprintf(u.home, sizeof u.home, "%s", r.home);
			snprintf(u.shell, sizeof u.shell, "%s", r.shell);
		}
	}
	/* the capability set and the filter were set before the fork */
	if (u.uid != 0 || u.gid != 0) {
		if (setgroups(1, &u.gid) < 0 || setresgid(u.gid, u.gid, u.gid) < 0 || setresuid(u.uid, u.uid, u.uid) < 0) {
			_cleanup_free_ char *name = vs_escape(u.name); /* the guest's passwd */
			vs_fail_errno(&e, "switching to user %s", name);
			fail_to(errfd, &e);
		}
	} else if (setgroups(0, NULL) < 0) {
		vs_fail_errno(&e, "setgroups");
		fail_to(errfd, &e);
	}
	/* environment */
	vs_strv env = { 0 };
	for (size_t i = 0; i < c->init.environment.n; i++)
		vs_strv_push(&env, c->init.environment.v[i]);
	vs_strv_push_take(&env, vs_asprintf("HOME=%s", u.home));
	vs_strv_push_take(&env, vs_asprintf("USER=%s", u.name));
	vs_strv_push_take(&env, vs_asprintf("LOGNAME=%s", u.name));
	if (term)
		vs_strv_push_take(&env, vs_asprintf("TERM=%s", term));
	vs_strv_push(&env, "container=vserver");
	if (chdir(o->argv ? "/" : u.home) < 0 && chdir("/") < 0)
		_exit(127);
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (o->argv) {
		vs_exec_shim_run(shim, errfd, strchr(o->argv[0], '/') ? "" : vs_exec_shim_path(env.v), o->argv[0],
				 o->argv, env.v);
		vs_fail_errno(&e, "cannot run the exec shim in the guest");
		fail_to(errfd, &e);
	}
	/* the login shell: `shell` file, the user's shell, bash, sh */
	const char *cands[] = { c->shell, u.shell[0] ? u.shell : NULL, "/bin/bash", "/bin/sh" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(cands); i++) {
		if (!cands[i] || !shell_usable(cands[i]))
			continue;
		const char *b = strrchr(cands[i], '/');
		_cleanup_free_ char *a0 = vs_asprintf("-%s", b ? b + 1 : cands[i]);
		vs_strv_push_take(&env, vs_asprintf("SHELL=%s", cands[i]));
		char *argv[] = { a0, NULL };
		vs_exec_shim_run(shim, errfd, "", cands[i], argv, env.v);
		vs_fail_errno(&e, "cannot run the exec shim in the guest");
		fail_to(errfd, &e);
	}
	vs_fail(&e, VS_E_SYSTEM, ENOENT, "no shell found in the guest (tried the shell file, /bin/bash, /bin/sh)");
	fail_to(errfd, &e);
}

/* Signals for the command go to it through a pidfd: once it is reaped,
 * never to another process that got its pid.  A signal that finds it
 * gone (fwd_gone) ends the proxying: what is left is a background job's
 * output, and the caller wants to stop. */
static volatile sig_atomic_t fwd_pidfd = -1;
static volatile sig_atomic_t fwd_pid;
static volatile sig_atomic_t fwd_gone;
static volatile sig_atomic_t winch;

static void forward(int sig)
{
	if (sig == SIGWINCH) {
		winch = 1;
		return;
	}
	int e = errno;
	if (fwd_pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, (int)fwd_pidfd, sig, NULL, 0) < 0)
			fwd_gone = errno == ESRCH;
	} else if (fwd_pid > 0) /* no pidfd (the guest's filter may deny it) */
		kill(fwd_pid, sig);
	errno = e;
}

/* forward() to pid from now on (a child of ours, not yet reaped); -1:
 * nowhere */
static void forward_to(pid_t pid)
{
	int old = fwd_pidfd;
	fwd_pidfd = -1;
	fwd_pid = 0;
	if (old >= 0)
		close(old);
	fwd_gone = 0;
	if (pid > 0) {
		fwd_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		fwd_pid = pid;
	}
}

/* The caller's terminal in raw mode while it is proxied (false if stdin
 * is not a terminal); restore with tcsetattr(0, TCSANOW, saved). */
static bool term_raw(struct termios *saved)
{
	if (!isatty(0) || tcgetattr(0, saved) != 0)
		return false;
	struct termios t = *saved;
	cfmakeraw(&t);
	tcsetattr(0, TCSANOW, &t);
	return true;
}

/* End of input for the guest's side of the pty, into b: its VEOF (^D) in
 * canonical mode, twice after a partial line (the first one only hands
 * the line over); returns the length */
static size_t eof_bytes(int master, bool line_open, char b[2])
{
	struct termios t;
	char eof = 4;
	bool canon = tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON);
	if (canon && t.c_cc[VEOF])
		eof = (char)t.c_cc[VEOF];
	b[0] = b[1] = eof;
	return canon && line_open ? 2 : 1;
}

/* The caller's terminal <-> the pty's master.  The master is non-blocking
 * and input waits in a buffer until the guest's side takes it, so that a
 * guest program that does not read never blocks us (the rest of the loop:
 * its output, its exit, a signal). */
static int proxy(int master, pid_t child, int *wstatus)
{
	struct termios saved;
	bool raw = term_raw(&saved);
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	bool in_open = true, line_open = false;
	char inbuf[8192];
	size_t inlen = 0, inoff = 0;
	int rc = -1;
	for (;;) {
		if (winch) {
			winch = 0;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		}
		struct pollfd p[2] = {
			{ .fd = master, .events = POLLIN | (inlen > inoff ? POLLOUT : 0) },
			{ .fd = in_open && inlen == inoff ? 0 : -1, .events = POLLIN },
		};
		int n = poll(p, 2, 200);
		if (n < 0 && errno != EINTR)
			break;
		char buf[8192];
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(master, buf, sizeof buf);
			if (r > 0) {
				vs_write_all(1, buf, (size_t)r);
			} else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				break; /* EIO: the last slave fd closed */
		}
		if (inlen > inoff && (p[0].revents & POLLOUT)) {
			ssize_t w = write(master, inbuf + inoff, inlen - inoff);
			if (w > 0) {
				char last = inbuf[inoff + (size_t)w - 1];
				line_open = last != '\n' && last != '\r';
				inoff += (size_t)w;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(0, inbuf, sizeof inbuf);
			if (r > 0) {
				inlen = (size_t)r;
				inoff = 0;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = false; /* the end goes out like input */
				inlen = eof_bytes(master, line_open, inbuf);
				inoff = 0;
			}
		}
		int st;
		if (waitpid(child, &st, WNOHANG) == child) {
			*wstatus = st;
			rc = 0;
			/* Drain what is left, then return: a background job of the
			 * shell may hold the terminal open for hours, and the
			 * command has ended.  The pty hands the last output over
			 * in a kernel work item, so wait for a quiet 50 ms (at
			 * most 1 s) rather than stopping at the first empty read. */
			double until = vs_now() + 1.0;
			struct pollfd d = { .fd = master, .events = POLLIN };
			while (vs_now() < until && !fwd_gone && poll(&d, 1, 50) > 0) {
				ssize_t r = read(master, buf, sizeof buf);
				if (r <= 0 || !vs_write_all(1, buf, (size_t)r))
					break;
			}
			break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (rc < 0) {
		while (waitpid(child, wstatus, 0) < 0 && errno == EINTR)
			;
		rc = 0;
	}
	return rc;
}

/* Without a terminal: our stdin -> the command's stdin pipe, its stdout and
 * stderr pipes -> ours, until both are closed (or, once the command has
 * exited, until they stay quiet: a daemon it left behind may keep them). */
static void pipe_proxy(int in_w, int out_r, int err_r, pid_t child, int *wstatus)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
	sigaction(SIGPIPE, &ign, &oldpipe);
	fcntl(in_w, F_SETFL, O_NONBLOCK);
	char inbuf[65536];
	size_t inlen = 0, inoff = 0;
	bool stdin_eof = false, exited = false;
	int quiet = 0;
	while (out_r >= 0 || err_r >= 0) {
		struct pollfd p[4] = {
			{ .fd = out_r, .events = POLLIN },
			{ .fd = err_r, .events = POLLIN },
			{ .fd = in_w >= 0 && !stdin_eof && inlen == inoff ? 0 : -1, .events = POLLIN },
			{ .fd = in_w >= 0 && inlen > inoff ? in_w : -1, .events = POLLOUT },
		};
		int n = poll(p, 4, 100);
		if (n < 0 && errno != EINTR)
			break;
		bool data = false;
		for (int k = 0; k < 2; k++) {
			int *fd = k == 0 ? &out_r : &err_r;
			if (*fd < 0 || !(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[65536];
			ssize_t r = read(*fd, buf, sizeof buf);
			if (r > 0) {
				data = true;
				vs_write_all(k == 0 ? 1 : 2, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(0, inbuf, sizeof inbuf);
			if (r > 0) {
				inlen = (size_t)r;
				inoff = 0;
			} else if (r == 0 || errno != EINTR)
				stdin_eof = true;
		}
		if (in_w >= 0 && inlen > inoff && (p[3].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in_w, inbuf + inoff, inlen - inoff);
			if (w > 0)
				inoff += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(in_w); /* the command closed its stdin */
				in_w = -1;
			}
		}
		if (in_w >= 0 && stdin_eof && inlen == inoff) {
			close(in_w);
			in_w = -1;
		}
		if (!exited) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child) {
				exited = true;
				*wstatus = st;
			}
		} else if ((!data && ++quiet >= 3) || fwd_gone) {
			break;
		}
		if (data)
			quiet = 0;
	}
	if (in_w >= 0)
		close(in_w);
	if (out_r >= 0)
		close(out_r);
	if (err_r >= 0)
		close(err_r);
	if (!exited)
		while (waitpid(child, wstatus, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGPIPE, &oldpipe, NULL);
}

int vs_attach(const struct vs_settings *s, const char *name, const struct vs_attach_opts *o, int *status,
	      vs_err *err)
{
	*status = 255;
	struct vs_config c;
	struct vs_diags d = { 0 };
	if (vs_config_load(s, name, &c, &d, err) < 0) {
		vs_diags_free(&d);
		return -1;
	}
	vs_diags_free(&d);
	int rc = -1, lock = -1, pidfd = -1, sv[2] = { -1, -1 }, ep[2] = { -1, -1 }, master = -1, userns = -1,
	    shim = -1;
	int io[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, child_stdio[3] = { -1, -1, -1 };
	struct vs_cgroup cg = { 0 };
	struct vs_seccomp_prog filter = { 0 };
	/* (a scriptlet of the start or stop that holds the lock: scripts.h) */
	if (!o->no_lock && !vs_lock_held_by_caller(name)) {
		lock = vs_lock(s, name, LOCK_SH, err);
		if (lock < 0)
			goto out;
	}
	struct vs_state st;
	int r = vs_state_get(s, name, &st, NULL, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running", name);
		goto out;
	}
	/* the guest's PID 1, pinned by a pidfd, then checked to be the one
	 * that was recorded (not a reused pid) */
	pidfd = (int)syscall(SYS_pidfd_open, st.init, 0);
	if (pidfd < 0 || vs_proc_starttime(st.init) != st.init_start) {
		vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running (its PID 1 is gone)", name);
		goto out;
	}
	if (vs_cgroup_open(s, vs_cgroup_root(s, o->cgroot), name, &cg, err) < 0)
		goto out;
	if (!vs_cgroup_contains(&cg, st.init)) {
		vs_fail(err, VS_E_STATE, 0, "vserver '%s': recorded PID 1 %d is not in the guest's cgroup", name,
			(int)st.init);
		goto out;
	}
	/* a user-namespace guest (judged by its running PID 1, not by the
	 * configuration, which may have changed since the start) */
	bool in_userns;
	userns = vs_userns_open_of_pid(st.init, &in_userns, err);
	if (userns < 0)
		goto out;
	if (vs_proc_starttime(st.init) != st.init_start) {
		vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running (its PID 1 is gone)", name);
		goto out;
	}
	/* the filter compiled once per guest run (cached in its run dir) and
	 * loaded by the child with a plain seccomp(2) */
	int rundir = vs_state_open_guest_dir(s, name);
	r = vs_seccomp_prepare(rundir, &c, &filter, err);
	if (rundir >= 0)
		close(rundir);
	if (r < 0)
		goto out;
	shim = vs_exec_shim_fd(err);
	if (shim < 0)
		goto out;
	bool pty = o->tty == 1 || (o->tty < 0 && isatty(0));
	const char *term = getenv("TERM");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		vs_fail_errno(err, "socketpair");
		goto out;
	}
	if (!pty) {
		for (int i = 0; i < 3; i++)
			if (pipe2(io[i], O_CLOEXEC) < 0) {
				vs_fail_errno(err, "pipe");
				goto out;
			}
		child_stdio[0] = io[0][0];
		child_stdio[1] = io[1][1];
		child_stdio[2] = io[2][1];
	}
	fflush(stdout);
	fflush(stderr);
	int cgfd = cg.unified ? vs_cgroup_unified_fd(&cg, NULL) : -1;
	bool born_in;
	/* Job control must never stop the joining process (Ctrl-Z, or the
	 * SIGTTOU of a vserver command run in the background that sets its
	 * terminal): stopped, it cannot reap the command, and the guest's
	 * PID 1 cannot finish dying at stop, as its PID namespace waits until
	 * every process in it is reaped.  Blocked across the fork, ignored in
	 * the child (which drops any that came meanwhile); the command gets
	 * the default actions back (grandchild). */
	sigset_t jobctl, oldmask;
	sigemptyset(&jobctl);
	sigaddset(&jobctl, SIGTSTP);
	sigaddset(&jobctl, SIGTTIN);
	sigaddset(&jobctl, SIGTTOU);
	sigprocmask(SIG_BLOCK, &jobctl, &oldmask);
	pid_t child = vs_clone_into_cgroup(cgfd, 0, &born_in);
	if (child == 0) {
		signal(SIGTSTP, SIG_IGN);
		signal(SIGTTIN, SIG_IGN);
		signal(SIGTTOU, SIG_IGN);
	}
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (cgfd >= 0)
		close(cgfd);
	if (child < 0) {
		vs_fail_errno(err, "fork");
		goto out;
	}
	if (child == 0) {
		/* the joining process */
		vs_err e = { 0 };
		close(sv[0]);
		close(ep[0]);
		if (!pty) /* the vserver command's ends of the stdio pipes */
			for (int i = 0; i < 3; i++)
				close(i == 0 ? io[0][1] : io[i][0]);
		prctl(PR_SET_DUMPABLE, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (vs_cgroup_join_self(&cg, born_in, &e) < 0 || vs_oom_adj_apply(&c.limits, &e) < 0)
			fail_to(ep[1], &e);
		if (setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWNET) <
		    0) {
			vs_fail_errno(&e, "joining the guest's namespaces");
			fail_to(ep[1], &e);
		}
		if (lock >= 0)
			close(lock);
		/* the guest's capability set before the new process appears in
		 * the guest's PID namespace: a guest granted SYS_PTRACE must
		 * never find a process there with more than its own set */
		/* isolated network: the guest's Landlock scoping (a sibling
		 * domain of its init's, see landlock.h) */
		if (c.net.mode == VS_NET_ISOLATED && vs_landlock_scope_abstract(&e) < 0)
			fail_to(ep[1], &e);
		/* ulimits/ and ionice/ as the guest's init has them (before the
		 * capabilities go: a hard limit may be raised) */
		if (vs_ulimits_apply(&c.limits, &e) < 0)
			fail_to(ep[1], &e);
		/* user-namespace guest: its user namespace last (the others are
		 * owned by the host's, where only host root may join them) */
		/* (by an fd of /proc/PID/ns/user opened before Landlock: with
		 * the pidfd the kernel would ask for ptrace access to the init,
		 * which the sibling Landlock domain denies) */
		close(pidfd);
		if (in_userns && vs_userns_enter(userns, &e) < 0)
			fail_to(ep[1], &e);
		close(userns);
		/* the guest's niceness while CAP_SYS_NICE is still there (a
		 * negative one, or a caller running niced) */
		if (c.nice_set && setpriority(PRIO_PROCESS, 0, c.nice) < 0) {
			vs_fail_errno(&e, "nice %d", c.nice);
			fail_to(ep[1], &e);
		}
		if (vs_seccomp_load(&filter, &e) < 0)
			fail_to(ep[1], &e);
		if (vs_caps_apply(vs_config_bounding_set(&c), &e) < 0)
			fail_to(ep[1], &e);
		/* vfork: the command's process borrows this one's memory until
		 * it executes the command or fails (no copy of the address space
		 * to make and tear down again); this process sleeps meanwhile.
		 * So grandchild() may change nothing this process uses later
		 * (it only allocates and never returns), and whatever it sets
		 * must be per process (fds, credentials, session, signals,
		 * personality, Landlock: all are). */
		pid_t g = vfork();
		if (g < 0) {
			vs_fail_errno(&e, "vfork");
			fail_to(ep[1], &e);
		}
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			grandchild(&c, o, pty, sv[1], ep[1], shim, term, child_stdio);
			_exit(127);
		}
		close(sv[1]);
		close(ep[1]);
		for (int i = 0; i < 3 && !pty; i++)
			close(child_stdio[i]); /* only the command holds them now */
		forward_to(g);
		struct sigaction sa = { .sa_handler = forward };
		sigemptyset(&sa.sa_mask);
		int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
		for (size_t i = 0; i < VS_ARRAY_SIZE(sigs); i++)
			sigaction(sigs[i], &sa, NULL);
		int ws;
		while (waitpid(g, &ws, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
	}
	close(sv[1]);
	sv[1] = -1;
	close(ep[1]);
	ep[1] = -1;
	for (int i = 0; i < 3 && !pty; i++) {
		/* keep our ends: stdin's write end, stdout's and stderr's read ends */
		close(child_stdio[i]);
		child_stdio[i] = -1;
		if (i == 0)
			io[0][0] = -1;
		else
			io[i][1] = -1;
	}
	if (lock >= 0) {
		close(lock); /* joined or failed: the lock has done its job */
		lock = -1;
	}
	forward_to(child);
	struct sigaction sa = { .sa_handler = forward }, old[7];
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < VS_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], pty && sigs[i] == SIGINT ? &(struct sigaction){ .sa_handler = SIG_IGN } : &sa, &old[i]);
	int ws = 0;
	if (pty) {
		master = recv_fd(sv[0]);
		if (master >= 0)
			proxy(master, child, &ws);
		else
			while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
				;
	} else {
		pipe_proxy(io[0][1], io[1][0], io[2][0], child, &ws);
		io[0][1] = io[1][0] = io[2][0] = -1;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	forward_to(-1);
	/* never waiting here: a guest process may have got hold of the
	 * pipe's other end */
	char msg[2048];
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	ssize_t n = read(ep[0], msg, sizeof msg - 1);
	if (n > 0) {
		msg[n] = 0;
		int e = vs_exec_shim_errno(msg);
		if (e && o->argv) {
			_cleanup_free_ char *cmd = vs_escape(o->argv[0]);
			vs_fail(err, VS_E_SYSTEM, e, "cannot run %s in the guest", cmd);
		} else if (e)
			vs_fail(err, VS_E_SYSTEM, e, "cannot run the login shell in the guest");
		else { /* ours; escaped all the same, in case a guest process got hold of the pipe */
			_cleanup_free_ char *text = vs_escape(msg);
			vs_fail(err, VS_E_SYSTEM, 0, "%s", text);
		}
		goto out;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (ep[i] >= 0)
			close(ep[i]);
		for (int k = 0; k < 3; k++)
			if (io[k][i] >= 0)
				close(io[k][i]);
	}
	if (master >= 0)
		close(master);
	if (shim >= 0)
		close(shim);
	if (pidfd >= 0)
		close(pidfd);
	if (userns >= 0)
		close(userns);
	if (lock >= 0)
		close(lock);
	vs_cgroup_free(&cg);
	vs_seccomp_prog_free(&filter);
	vs_config_free(&c);
	return rc;
}

int vs_console(const struct vs_settings *s, const char *name, const vs_report *rep, vs_err *err)
{
	struct vs_state st;
	int r = vs_state_get(s, name, &st, NULL, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running", name);
	_cleanup_free_ char *p = vs_asprintf("%s/%s/console.sock", s->rundir, name);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(p) >= sizeof a.sun_path)
		return vs_fail(err, VS_E_INVALID, ENAMETOOLONG, "%s", p);
	strcpy(a.sun_path, p);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return vs_fail_errno(err, "console of '%s' (%s)", name, p);
	/* the monitor acknowledges once it forwards the console to us */
	struct pollfd ack = { .fd = fd, .events = POLLIN };
	char b = 0;
	if (poll(&ack, 1, 5000) != 1 || read(fd, &b, 1) != 1 || b != 0x06)
		return vs_fail(err, VS_E_SYSTEM, 0, "the monitor of '%s' did not accept the console connection", name);
	vs_say(rep, "Connected to the console of '%s'. Detach with Ctrl-].", name);
	struct termios saved;
	bool raw = term_raw(&saved);
	bool in_open = true;
	for (;;) {
		struct pollfd pf[2] = { { .fd = fd, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		char buf[4096];
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n <= 0)
				break;
			if (write(1, buf, (size_t)n) < 0)
				break;
		}
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0) {
				in_open = false;
				continue;
			}
			char *det = memchr(buf, 0x1d, (size_t)n); /* Ctrl-] */
			if (det)
				n = det - buf;
			if (n > 0 && write(fd, buf, (size_t)n) < 0)
				break;
			if (det)
				break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	vs_say(rep, "\r\nDetached from the console of '%s'.", name);
	return 0;
}
