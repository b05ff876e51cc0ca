/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util-vserver's scriptlets (see scripts.h): running them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include "config.h"
#include "scripts.h"
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

bool vs_scripts_any(const struct vs_config *c, int phase)
{
	for (size_t i = 0; i < c->n_scripts; i++)
		if (c->scripts[i].phase == phase)
			return true;
	return false;
}

/* A sourced scriptlet runs in bash as util-vserver's did (in its own
 * bash, with the arguments PHASE NAME); what it leaves in
 * DONT_SKIP_DEFAULTS is reported on fd 3, which the scriptlet itself
 * does not see (bash moves it to a free fd of 10 or above first). */
static const char source_wrapper[] = "exec {vs_status}>&3 3>&-; . \"$0\"; vs_rc=$?; "
				     "[ -z \"${DONT_SKIP_DEFAULTS-}\" ] || echo 1 >&$vs_status; exit $vs_rc";

static char **script_env(const struct vs_config *c, int phase, const struct vs_script_run *r, vs_strv *env)
{
	extern char **environ;
	static const char *const own[] = { "VSERVER_NAME=",    "VSERVER_PHASE=",    "VSERVER_CFGDIR=",
					   "VSERVER_DIR=",     "VSERVER_CONTEXT=",  "VSERVER_NET_MODE=",
					   "VSERVER_INIT_PID=", "VSERVER_NETNS=" };
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
	return env->v;
}

/* Run one scriptlet; its wait status, or -1 with err (fork, pipe). */
static int run_one(const struct vs_config *c, const struct vs_scriptlet *sc, const struct vs_script_run *r,
		   char **envp, bool *dont_skip, vs_err *err)
{
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
