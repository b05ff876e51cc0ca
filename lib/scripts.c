/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util-vserver's scriptlets (see scripts.h): running them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <linux/close_range.h>
#include "config.h"
#include "scripts.h"
#include "state.h"
#include "util.h"

static const struct {
	const char *name;
	bool in_root; /* cwd: the guest root, else the configuration directory */
} phases[VS_SCRIPT_NPHASES] = {
	[VS_SCRIPT_INITIALIZE] = { "initialize", false },
	[VS_SCRIPT_PREPRE_START] = { "prepre-start", false },
	[VS_SCRIPT_PRE_START] = { "pre-start", true },
	[VS_SCRIPT_POST_START] = { "post-start", true },
	[VS_SCRIPT_PRE_STOP] = { "pre-stop", true },
	[VS_SCRIPT_POST_STOP] = { "post-stop", true },
	[VS_SCRIPT_POSTPOST_STOP] = { "postpost-stop", true },
};

const char *vs_script_phase_name(int phase)
{
	return phase >= 0 && phase < VS_SCRIPT_NPHASES ? phases[phase].name : NULL;
}

int vs_script_phase_of(const char *s, size_t len)
{
	for (int i = 0; i < VS_SCRIPT_NPHASES; i++)
		if (strlen(phases[i].name) == len && !strncmp(phases[i].name, s, len))
			return i;
	return -1;
}

const char *vs_script_phase_list(void)
{
	return "initialize, prepre-start, pre-start, post-start, pre-stop, post-stop, postpost-stop";
}

static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

static char *untrusted(const char *path, const struct stat *st)
{
	return vs_asprintf("%s: owner uid %u, mode %04o: not trusted (a scriptlet runs as root: it and the way to it "
			   "must be root's alone; fix: chown root %s; chmod go-w %s)",
			   path, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), path, path);
}

struct root_id {
	dev_t dev;
	ino_t ino;
	const char *name;
};

/* Is directory st one of the roots (ids: n of them)?  Its name, else NULL. */
static const char *is_root(const struct stat *st, const struct root_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i].dev == st->st_dev && ids[i].ino == st->st_ino)
			return ids[i].name;
	return NULL;
}

int vs_script_trusted(const char *path, const char *const *roots, bool *exec, char **why)
{
	*why = NULL;
	if (path[0] != '/') {
		*why = vs_asprintf("%s: not an absolute path", path);
		return -2;
	}
	struct stat st;
	if (stat("/", &st) < 0 || !owner_ok(&st) || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
		*why = untrusted("/", &st);
		return -1;
	}
	/* the roots' identities, once (a missing root is no root) */
	size_t nroots = 0;
	for (const char *const *r = roots; r && *r; r++)
		nroots++;
	_cleanup_free_ struct root_id *ids = vs_xmalloc0((nroots + 1) * sizeof *ids);
	size_t nid = 0;
	for (size_t i = 0; i < nroots; i++) {
		struct stat rs;
		if (stat(roots[i], &rs) == 0)
			ids[nid++] = (struct root_id){ rs.st_dev, rs.st_ino, roots[i] };
	}
	/* cur: the directory reached (checked), "" for /; rest: what is
	 * left to walk, links expanded in front of it */
	char cur[PATH_MAX] = "";
	_cleanup_free_ char *rest = vs_strdup(path);
	int links = 0;
	for (;;) {
		char *p = rest;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		bool last = !*end || !end[strspn(end, "/")];
		if (len == 1 && p[0] == '.') {
			memmove(rest, end, strlen(end) + 1);
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* every prefix of cur was checked on the way down */
			char *sl = strrchr(cur, '/');
			if (sl)
				*sl = 0;
			memmove(rest, end, strlen(end) + 1);
			continue;
		}
		char next[PATH_MAX];
		if ((size_t)snprintf(next, sizeof next, "%s/%.*s", cur, (int)len, p) >= sizeof next) {
			*why = vs_asprintf("%s: path too long", path);
			return -2;
		}
		/* procfs: its links (/proc/PID/root ...) lead where readlink
		 * does not say */
		struct statfs sf;
		if (statfs(*cur ? cur : "/", &sf) == 0 && sf.f_type == 0x9fa0 /* PROC_SUPER_MAGIC */) {
			*why = vs_asprintf("%s: on /proc, which a scriptlet may not go through", next);
			return -1;
		}
		if (lstat(next, &st) < 0) {
			*why = vs_asprintf("%s: %s", next, strerror(errno));
			return -2;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > 40) {
				*why = vs_asprintf("%s: too many levels of symbolic links", path);
				return -2;
			}
			if (!owner_ok(&st)) {
				*why = untrusted(next, &st);
				return -1;
			}
			char target[PATH_MAX];
			ssize_t n = readlink(next, target, sizeof target - 1);
			if (n <= 0) {
				*why = vs_asprintf("%s: %s", next, n < 0 ? strerror(errno) : "empty link");
				return -2;
			}
			target[n] = 0;
			if (target[0] == '/')
				cur[0] = 0;
			char *nr = vs_asprintf("%s/%s", target, end);
			free(rest);
			rest = nr;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			const char *root = is_root(&st, ids, nid);
			if (root) {
				*why = vs_asprintf("%s: is %s, whose files guests can change (a scriptlet runs as host root)",
						   next, root);
				return -1;
			}
			if (!owner_ok(&st) || ((st.st_mode & 022) && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))) {
				*why = untrusted(next, &st);
				return -1;
			}
			snprintf(cur, sizeof cur, "%s", next);
			memmove(rest, end, strlen(end) + 1);
			continue;
		}
		if (!last || !S_ISREG(st.st_mode)) {
			*why = vs_asprintf("%s: not a regular file", next);
			return -2;
		}
		if (!owner_ok(&st) || (st.st_mode & 022)) {
			*why = untrusted(next, &st);
			return -1;
		}
		*exec = (st.st_mode & S_IXUSR) != 0;
		return 0;
	}
	*why = vs_asprintf("%s: a directory, not a file", path);
	return -2;
}

/* The parent of `pid` (its /proc/PID/stat field 4), 0 if unknown. */
static pid_t parent_of(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *rp = strrchr(buf, ')'); /* the name may hold anything */
	int ppid = 0;
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

bool vs_lock_held_by_caller(const char *name)
{
	const char *v = getenv("VSERVER_LOCK_HOLDER");
	char n[64];
	int pid;
	unsigned long long st;
	if (!v || sscanf(v, "%63s %d %llu", n, &pid, &st) != 3 || strcmp(n, name) || pid <= 1 || st == 0 ||
	    vs_proc_starttime(pid) != st)
		return false;
	/* only for a descendant of the holder (a scriptlet, what it runs):
	 * a variable copied elsewhere, or a daemon a scriptlet left behind
	 * (reparented), does not count */
	for (pid_t p = getppid(), hops = 0; p > 1 && hops < 64; p = parent_of(p), hops++)
		if (p == pid)
			return true;
	return false;
}

bool vs_scripts_any(const struct vs_config *c, int phase)
{
	for (size_t i = 0; i < c->n_scripts; i++)
		if (c->scripts[i].phase == phase)
			return true;
	return false;
}

/* A sourced scriptlet runs in bash as util-vserver's did (in its own
 * bash, with the arguments PHASE NAME); what it leaves in
 * DONT_SKIP_DEFAULTS is reported on fd 3, which is closed while the file
 * is sourced (bash keeps a close-on-exec copy: no program the scriptlet
 * runs gets it). */
static const char source_wrapper[] = "{ . \"$0\"; } 3>&-; vs_rc=$?; "
				     "[ -z \"${DONT_SKIP_DEFAULTS-}\" ] || echo 1 >&3; exit $vs_rc";

static char **script_env(const struct vs_config *c, int phase, const struct vs_script_run *r, vs_strv *env)
{
	extern char **environ;
	static const char *const own[] = { "VSERVER_NAME=",	"VSERVER_PHASE=",    "VSERVER_CFGDIR=",
					   "VSERVER_DIR=",	"VSERVER_CONTEXT=",  "VSERVER_NET_MODE=",
					   "VSERVER_INIT_PID=", "VSERVER_NETNS=",    "VSERVER_LOCK_HOLDER=" };
	vs_strv_push(env, "PATH=" VS_DEFAULT_PATH);
	/* the caller's settings (VSERVER_CONFDIR, VSERVER_RUNDIR ...): a
	 * scriptlet that calls vserver must see the same guests */
	for (char **e = environ; e && *e; e++) {
		if (!vs_str_startswith(*e, "VSERVER_"))
			continue;
		bool mine = false;
		for (size_t i = 0; i < VS_ARRAY_SIZE(own); i++)
			mine |= vs_str_startswith(*e, own[i]);
		if (!mine)
			vs_strv_push(env, *e);
	}
	vs_strv_push_take(env, vs_asprintf("VSERVER_NAME=%s", c->name));
	vs_strv_push_take(env, vs_asprintf("VSERVER_PHASE=%s", phases[phase].name));
	vs_strv_push_take(env, vs_asprintf("VSERVER_CFGDIR=%s", c->cfgdir));
	vs_strv_push_take(env, vs_asprintf("VSERVER_DIR=%s", c->vdir));
	vs_strv_push_take(env, vs_asprintf("VSERVER_CONTEXT=%u", c->context));
	vs_strv_push_take(env, vs_asprintf("VSERVER_NET_MODE=%s", vs_net_mode_name(c->net.mode)));
	if (r->init > 0)
		vs_strv_push_take(env, vs_asprintf("VSERVER_INIT_PID=%d", (int)r->init));
	if (r->netns)
		vs_strv_push_take(env, vs_asprintf("VSERVER_NETNS=%s", r->netns));
	if (r->locked)
		vs_strv_push_take(env, vs_asprintf("VSERVER_LOCK_HOLDER=%s %d %llu", c->name, (int)getpid(),
						   vs_proc_starttime(getpid())));
	return env->v;
}

/* Run one scriptlet; its wait status, or -1 with err (fork, pipe). */
static int run_one(const struct vs_config *c, const struct vs_scriptlet *sc, const struct vs_script_run *r,
		   char **envp, bool *dont_skip, vs_err *err)
{
	/* checked again now, not only when the configuration was read:
	 * nobody but root may have changed the way to it since */
	_cleanup_free_ char *why = NULL;
	bool exec = false;
	if (vs_script_trusted(sc->path, (const char *const *)c->script_roots.v, &exec, &why) < 0)
		return vs_fail(err, VS_E_INVALID, 0, "%s scriptlet %s not run: %s", phases[sc->phase].name, sc->path, why);
	if (exec != sc->exec)
		return vs_fail(err, VS_E_INVALID, 0, "%s scriptlet %s not run: its mode changed since the configuration "
						     "was read", phases[sc->phase].name, sc->path);
	int sp[2] = { -1, -1 };
	if (!sc->exec && pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		return vs_fail_errno(err, "pipe");
	const char *phase = phases[sc->phase].name;
	const char *cwd = phases[sc->phase].in_root ? c->vdir : c->cfgdir;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		if (sp[0] >= 0) {
			close(sp[0]);
			close(sp[1]);
		}
		return vs_fail(err, VS_E_SYSTEM, e, "fork");
	}
	if (pid == 0) {
		/* what the caller blocked or ignored (the monitor blocks its
		 * signals) is not the scriptlet's business */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < _NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		/* a monitor killed by a stop that ran out of time takes its
		 * scriptlet along */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		umask(022);
		if (r->out_fd >= 0 && (dup2(r->out_fd, 1) < 0 || dup2(r->out_fd, 2) < 0))
			_exit(127);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0)
			_exit(127);
		if (chdir(cwd) < 0) {
			dprintf(2, "vserver: %s: cannot change to %s: %s\n", sc->path, cwd, strerror(errno));
			_exit(127);
		}
		if (!sc->exec && dup2(sp[1], 3) < 0) /* dup2 clears FD_CLOEXEC on 3 */
			_exit(127);
		syscall(SYS_close_range, sc->exec ? 3 : 4, ~0U, CLOSE_RANGE_CLOEXEC);
		if (sc->exec) {
			char *argv[] = { sc->path, (char *)phase, c->name, NULL };
			execve(sc->path, argv, envp);
		} else {
			char *argv[] = { "bash", "-c", (char *)source_wrapper, sc->path, (char *)phase, c->name, NULL };
			execve("/bin/bash", argv, envp);
		}
		dprintf(2, "vserver: cannot run %s: %s\n", sc->exec ? sc->path : "/bin/bash", strerror(errno));
		_exit(127);
	}
	if (sp[1] >= 0)
		close(sp[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = -1;
			break;
		}
	if (sp[0] >= 0) {
		/* non-blocking: a daemon the scriptlet left behind may hold it */
		char b[8];
		if (read(sp[0], b, sizeof b) > 0)
			*dont_skip = true;
		close(sp[0]);
	}
	if (st == -1)
		return vs_fail_errno(err, "waiting for %s", sc->path);
	return st;
}

int vs_scripts_run(const struct vs_config *c, int phase, const struct vs_script_run *r, vs_err *err)
{
	if (phase < 0 || phase >= VS_SCRIPT_NPHASES)
		return vs_fail(err, VS_E_INVALID, 0, "bad scriptlet phase %d", phase);
	if (!vs_scripts_any(c, phase))
		return 0;
	_cleanup_strv_ vs_strv env = { 0 };
	char **envp = script_env(c, phase, r, &env);
	int rc = 0, failed = 0;
	bool own = false, dont_skip = false;
	/* the guest's own, then .defaults' if it has none (or one said
	 * DONT_SKIP_DEFAULTS) */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && own && !dont_skip)
			break;
		for (size_t i = 0; i < c->n_scripts; i++) {
			const struct vs_scriptlet *sc = &c->scripts[i];
			if (sc->phase != phase || sc->is_default != (pass == 1))
				continue;
			own |= pass == 0;
			vs_err e;
			int st = run_one(c, sc, r, envp, &dont_skip, &e);
			if (st == 0)
				continue;
			if (failed++ == 0) {
				rc = -1;
				if (st < 0)
					*err = e;
				else if (WIFSIGNALED(st))
					vs_fail(err, VS_E_SYSTEM, 0, "%s scriptlet %s was killed by signal %d (%s)", phases[phase].name,
						sc->path, WTERMSIG(st), strsignal(WTERMSIG(st)));
				else
					vs_fail(err, VS_E_SYSTEM, 0, "%s scriptlet %s exited with status %d", phases[phase].name,
						sc->path, WEXITSTATUS(st));
			}
			if (!r->keep_going)
				return -1;
		}
	}
	if (failed > 1) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof err->msg - l, " (and %d more failed)", failed - 1);
	}
	return rc;
}
