/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build.h"
#include "caps.h"
#include "disk.h"
#include "config.h"
#include "hostinfo.h"
#include "lock.h"
#include "mountapi.h"
#include "postinstall.h"
#include "safeio.h"
#include "state.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <seccomp.h>
#include <linux/capability.h>

const struct vs_build_method vs_build_methods[] = {
	{ "debootstrap", "-- [-d SUITE] [-m MIRROR] [-a ARCH] [-s SCRIPT] [-- DEBOOTSTRAP-OPTIONS]" },
	{ "mmdebstrap", "-- [-d SUITE] [-m MIRROR] [-a ARCH] [-- MMDEBSTRAP-OPTIONS]" },
	{ "skeleton", "" },
	{ "template", "-- -t TARBALL (.tar, .tar.gz, .tar.xz, .tar.zst)" },
	{ "clone", "-- --source GUEST" },
	{ "rsync", "-- --source DIR|HOST:DIR [-o RSYNC-OPTION]... [-- RSYNC-ARGS]" },
	{ NULL, NULL },
};

struct bctx {
	const struct vs_settings *s;
	const struct vs_build_opts *o;
	const vs_report *rep;
	char *stage_cfg;      /* confdir/.NAME.build-PID */
	char *stage_root;     /* rootbase/.NAME.build-PID */
	char *rootbase;       /* directory that will hold the root */
	char *final_root;
	char *final_cfg;
	/* --disk-size: the root's own file system (lib/disk.h) */
	uint64_t disk_bytes, disk_inodes;
	char *stage_image;    /* rootbase/.images/.NAME.build-PID.img */
	char *final_image;    /* rootbase/.images/NAME.img */
	bool disk_mounted;    /* stage_image is mounted on stage_root */
	/* clone: the source's configuration, loaded once (under its lock) */
	struct vs_config src;
	bool have_src;
	/* method arguments */
	char *suite, *mirror, *arch, *script, *tarball, *source;
	char **extra;
	int n_extra;
	vs_strv rsync_opts; /* rsync: -o OPTION..., replacing the default options */
};

/* ---- method arguments ------------------------------------------------- */

static int parse_margs(struct bctx *b, vs_err *err)
{
	const char *m = b->o->method;
	bool boot = !strcmp(m, "debootstrap") || !strcmp(m, "mmdebstrap");
	bool rsync = !strcmp(m, "rsync");
	for (int i = 0; i < b->o->n_margs;) {
		const char *a = b->o->margs[i];
		const char *v = i + 1 < b->o->n_margs ? b->o->margs[i + 1] : NULL;
		char **dst = NULL;
		if (rsync && !strcmp(a, "-o")) {
			if (!v || !*v)
				return vs_fail(err, VS_E_INVALID, 0, "build method rsync: '-o' needs an rsync option");
			vs_strv_push(&b->rsync_opts, v);
			i += 2;
			continue;
		}
		if (!strcmp(a, "--") && (boot || rsync)) {
			b->extra = b->o->margs + i + 1;
			b->n_extra = b->o->n_margs - i - 1;
			break;
		}
		if (boot && !strcmp(a, "-d"))
			dst = &b->suite;
		else if (boot && !strcmp(a, "-m"))
			dst = &b->mirror;
		else if (boot && !strcmp(a, "-a"))
			dst = &b->arch;
		else if (!strcmp(m, "debootstrap") && !strcmp(a, "-s"))
			dst = &b->script;
		else if (!strcmp(m, "template") && (!strcmp(a, "-t") || !strcmp(a, "--template")))
			dst = &b->tarball;
		else if ((!strcmp(m, "clone") || rsync) && !strcmp(a, "--source"))
			dst = &b->source;
		else
			return vs_fail(err, VS_E_INVALID, 0, "build method %s: unknown argument '%s' (usage: -m %s %s)", m,
				       a, m, ({
					       const char *syn = "";
					       for (int k = 0; vs_build_methods[k].name; k++)
						       if (!strcmp(vs_build_methods[k].name, m))
							       syn = vs_build_methods[k].synopsis;
					       syn;
				       }));
		if (!v || !*v)
			return vs_fail(err, VS_E_INVALID, 0, "build method %s: '%s' needs a value", m, a);
		free(*dst);
		*dst = vs_strdup(v);
		i += 2;
	}
	if (!strcmp(m, "template") && !b->tarball)
		return vs_fail(err, VS_E_INVALID, 0, "build method template needs -- -t TARBALL");
	if (!strcmp(m, "clone") && !b->source)
		return vs_fail(err, VS_E_INVALID, 0, "build method clone needs -- --source GUEST");
	if (rsync && !b->source)
		return vs_fail(err, VS_E_INVALID, 0, "build method rsync needs -- --source DIR (or HOST:DIR)");
	if (boot) {
		if (!b->arch && getenv("ARCH") && *getenv("ARCH"))
			b->arch = vs_strdup(getenv("ARCH"));
		if (!b->suite) {
			b->suite = vs_host_codename();
			if (!b->suite)
				return vs_fail(err, VS_E_INVALID, 0,
					       "no -d SUITE given and the host's release is unknown (no VERSION_CODENAME in /etc/os-release)");
		}
		for (const char *p = b->suite; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
				return vs_fail(err, VS_E_INVALID, 0, "suite '%s' is not a Debian suite name", b->suite);
		if (b->arch)
			for (const char *p = b->arch; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
					return vs_fail(err, VS_E_INVALID, 0, "architecture '%s' is not a Debian architecture name",
						       b->arch);
		if (!b->mirror) {
			_cleanup_free_ char *p = vs_asprintf("%s/.defaults/apps/debootstrap/mirror", b->s->confdir);
			_cleanup_free_ char *data = NULL;
			vs_err e;
			if (vs_read_file_at(AT_FDCWD, p, 4096, &data, NULL, &e) == 0) {
				data[strcspn(data, "\n")] = 0;
				if (*data)
					b->mirror = vs_strdup(data);
			}
		}
		if (!b->mirror)
			b->mirror = vs_host_apt_mirror("", b->suite);
		if (!b->mirror)
			b->mirror = vs_strdup("http://deb.debian.org/debian");
		if (!vs_str_startswith(b->mirror, "http://") && !vs_str_startswith(b->mirror, "https://") &&
		    !vs_str_startswith(b->mirror, "file:/") && b->mirror[0] != '/')
			return vs_fail(err, VS_E_INVALID, 0, "mirror '%s' must be an http://, https:// or file:/ URL",
				       b->mirror);
	}
	if (b->tarball && access(b->tarball, R_OK) < 0)
		return vs_fail(err, VS_E_INVALID, errno, "template '%s'", b->tarball);
	return 0;
}

/* ---- staging configuration ---------------------------------------------- */

static int write_iface(const char *cfg, int idx, const char *spec, vs_err *err)
{
	_cleanup_free_ char *copy = vs_strdup(spec);
	char *label = NULL, *dev = NULL, *ip = copy;
	char *eq = strchr(copy, '=');
	if (eq) {
		*eq = 0;
		label = copy;
		ip = eq + 1;
	}
	struct vs_ipaddr a;
	vs_err e;
	if (vs_ip_parse(ip, &a, &e) < 0) {
		char *colon = strchr(ip, ':');
		if (!colon)
			return vs_fail(err, VS_E_INVALID, 0, "--interface '%s': %s", spec, e.msg);
		*colon = 0;
		dev = ip;
		ip = colon + 1;
		if (vs_ip_parse(ip, &a, &e) < 0)
			return vs_fail(err, VS_E_INVALID, 0, "--interface '%s': %s", spec, e.msg);
	}
	char rel[64];
	snprintf(rel, sizeof rel, "interfaces/%d/ip", idx);
	if (vs_config_write(cfg, rel, ip, err) < 0)
		return -1;
	if (dev && strcmp(dev, "nodev")) {
		snprintf(rel, sizeof rel, "interfaces/%d/dev", idx);
		if (vs_config_write(cfg, rel, dev, err) < 0)
			return -1;
	} else if (dev) {
		snprintf(rel, sizeof rel, "interfaces/%d/nodev", idx);
		if (vs_config_write(cfg, rel, "", err) < 0)
			return -1;
	}
	if (label) {
		snprintf(rel, sizeof rel, "interfaces/%d/name", idx);
		if (vs_config_write(cfg, rel, label, err) < 0)
			return -1;
	}
	return 0;
}

static const char default_fstab[] =
	"# Mounts of this guest: SOURCE TARGET TYPE OPTIONS [DUMP PASS]\n"
	"# TARGET is a path inside the guest.  /proc, /sys, /dev, /dev/pts and /run\n"
	"# are set up by vserver itself.  Examples:\n"
	"#   none         /tmp          tmpfs  size=256m,mode=1777  0 0\n"
	"#   /srv/shared  /srv/shared   none   bind,ro              0 0\n";

static int stage_config(struct bctx *b, const char *context, vs_err *err)
{
	const struct vs_build_opts *o = b->o;
	const char *cfg = b->stage_cfg;
	if (mkdir(b->s->confdir, 0755) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s", b->s->confdir);
	if (mkdir(cfg, 0755) < 0)
		return vs_fail_errno(err, "%s", cfg);
	if (context && vs_config_write(cfg, "context", context, err) < 0)
		return -1;
	if (vs_config_write(cfg, "uts/nodename", o->hostname ? o->hostname : o->name, err) < 0)
		return -1;
	if (o->initstyle && vs_config_write(cfg, "apps/init/style", o->initstyle, err) < 0)
		return -1;
	for (size_t i = 0; i < o->interfaces.n; i++)
		if (write_iface(cfg, (int)i, o->interfaces.v[i], err) < 0)
			return -1;
	/* fstab: .defaults/fstab if the admin has one */
	_cleanup_free_ char *dfp = vs_asprintf("%s/.defaults/fstab", b->s->confdir);
	_cleanup_free_ char *df = NULL;
	vs_err e;
	const char *fstab = default_fstab;
	if (vs_read_file_at(AT_FDCWD, dfp, VS_CONFIG_MAX_FILE, &df, NULL, &e) == 0)
		fstab = df;
	if (vs_config_write(cfg, "fstab", fstab, err) < 0)
		return -1;
	if (b->arch && !strcmp(b->arch, "i386") && !strcmp(vs_host_dpkg_arch(), "amd64") &&
	    vs_config_write(cfg, "uts/machine", "i686", err) < 0)
		return -1;
	_cleanup_free_ char *vdl = vs_asprintf("%s/vdir", cfg);
	if (symlink(b->final_root, vdl) < 0)
		return vs_fail_errno(err, "%s", vdl);
	_cleanup_free_ char *cl = vs_asprintf("%s/cache", cfg);
	_cleanup_free_ char *ct = vs_asprintf("%s/%s", b->s->cachebase, o->name);
	if (symlink(ct, cl) < 0)
		return vs_fail_errno(err, "%s", cl);
	return 0;
}

/* Load the staged configuration with the loader `check` uses. */
static int validate_stage(struct bctx *b, bool need_context, vs_err *err)
{
	struct vs_config c;
	struct vs_diags d = { 0 };
	if (vs_config_load_at(b->s, b->o->name, b->stage_cfg, &c, &d, err) < 0) {
		vs_diags_free(&d);
		return -1;
	}
	/* the context is allocated at registration */
	size_t keep = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (!need_context && !strcmp(d.d[i].file, "context")) {
			free(d.d[i].file);
			free(d.d[i].msg);
			continue;
		}
		d.d[keep++] = d.d[i];
	}
	d.n = keep;
	if (d.n) {
		/* report against the option, not the staging path */
		const struct vs_diag *x = &d.d[0];
		vs_fail(err, VS_E_INVALID, 0, "invalid build option (%s): %s", x->file, x->msg);
		vs_diags_free(&d);
		vs_config_free(&c);
		return -1;
	}
	vs_diags_free(&d);
	vs_config_free(&c);
	return 0;
}

/* ---- children and interruption ------------------------------------------ */

/* SIGINT, SIGTERM and SIGHUP during a build do not kill vserver at once:
 * they are noted, the running child is killed, and the build rolls back. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct sigsave {
	struct sigaction old[3];
};
static const int build_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void signals_catch(struct sigsave *sv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waitpid returns EINTR */
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	for (int i = 0; i < 3; i++)
		sigaction(build_signals[i], &sa, &sv->old[i]);
}

static void signals_restore(struct sigsave *sv)
{
	for (int i = 0; i < 3; i++)
		sigaction(build_signals[i], &sv->old[i], NULL);
}

/* fork(); the child gets default signal actions back and dies with us. */
static pid_t fork_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			signal(build_signals[i], SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

static int check_interrupted(vs_err *err)
{
	if (interrupted)
		return vs_fail(err, VS_E_SYSTEM, 0, "interrupted by signal %d (%s)", (int)interrupted,
			       strsignal(interrupted));
	return 0;
}

/* Wait for a child; if the build is interrupted, kill it first.
 * Returns the exit code (128+N for a signal) or -1 if interrupted. */
static int wait_child(pid_t pid, vs_err *err)
{
	int st;
	for (;;) {
		if (waitpid(pid, &st, 0) >= 0)
			break;
		if (errno != EINTR)
			return vs_fail_errno(err, "waitpid");
		if (interrupted) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return check_interrupted(err);
		}
	}
	if (interrupted)
		return check_interrupted(err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- running a bootstrapper --------------------------------------------- */

/* Run argv with stdout/stderr inherited, in new mount, PID, IPC and UTS
 * namespaces so that whatever the package scripts start dies with it
 * and the mounts it makes (proc, sys in the target) vanish. */
/* What a copy from a source that may be hostile (rsync) is confined to. */
struct confine {
	const char *rw_only; /* the only writable place: every other mount read-only */
	bool own_net;        /* a network namespace of its own (a local source) */
	const char *keep_run; /* hide /run (sockets of host daemons) unless this path is below it */
};

#define CONFINE_FAILED 125 /* the child's exit status when the confinement could not be made */

/* In the child, before the program: a mount namespace where every mount
 * is read-only, nosuid and nodev but c->rw_only (nosuid, nodev), a /dev of
 * its own with the harmless nodes, /run hidden, the host's /proc (read-only
 * too), maybe a network namespace of its own; then only the capabilities a
 * copy as root needs, and no new privileges. */
static int confine_copy(const struct confine *c, vs_err *err)
{
	struct vs_mount_attr ro = { .attr_set = VS_MOUNT_ATTR_RDONLY | VS_MOUNT_ATTR_NOSUID | VS_MOUNT_ATTR_NODEV },
			     rw = { .attr_clr = VS_MOUNT_ATTR_RDONLY };
	if (mount(c->rw_only, c->rw_only, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, "/", VS_AT_RECURSIVE, &ro, sizeof ro) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, c->rw_only, VS_AT_RECURSIVE, &rw, sizeof rw) < 0)
		return vs_fail_errno(err, "making the host read-only");
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0)
		return vs_fail_errno(err, "a /dev of its own");
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = { { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
		      { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(nodes); i++)
		if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0 ||
		    chmod(nodes[i].name, 0666) < 0)
			return vs_fail_errno(err, "%s", nodes[i].name);
	if (symlink("/proc/self/fd", "/dev/fd") < 0 || syscall(SYS_mount_setattr, AT_FDCWD, "/dev", 0, &ro, sizeof ro) < 0)
		return vs_fail_errno(err, "/dev");
	/* (its nodes work: nodev is cleared for this one mount) */
	struct vs_mount_attr devok = { .attr_clr = VS_MOUNT_ATTR_NODEV };
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/dev", 0, &devok, sizeof devok) < 0)
		return vs_fail_errno(err, "/dev");
	bool run_used = false;
	const char *used[] = { c->keep_run, c->rw_only };
	for (size_t i = 0; i < VS_ARRAY_SIZE(used); i++)
		run_used |= used[i] && (vs_str_startswith(used[i], "/run/") || !strcmp(used[i], "/run"));
	if (!run_used)
		if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=755,size=4k") < 0)
			return vs_fail_errno(err, "hiding /run");
	if (c->own_net && unshare(CLONE_NEWNET) < 0)
		return vs_fail_errno(err, "a network namespace of its own");
	/* CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID (owners, modes,
	 * ACLs), MKNOD (devices, FIFOs), SETFCAP (file capabilities) */
	uint64_t keep = (UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_DAC_OVERRIDE) |
			(UINT64_C(1) << CAP_DAC_READ_SEARCH) | (UINT64_C(1) << CAP_FOWNER) | (UINT64_C(1) << CAP_FSETID) |
			(UINT64_C(1) << CAP_MKNOD) | (UINT64_C(1) << CAP_SETFCAP);
	if (vs_caps_apply(keep, err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vs_fail_errno(err, "no_new_privs");
	/* a local copy talks to no one: no socket(2) and no connect(2) (a
	 * host daemon's unix socket outside /run stays out of reach; rsync
	 * uses socketpair(2) and pipes between its own processes) */
	if (c->own_net) {
		scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
		int r = f ? 0 : -ENOMEM;
		if (!r)
			r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
		if (!r)
			r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(connect), 0);
		if (!r)
			r = seccomp_load(f);
		if (f)
			seccomp_release(f);
		if (r)
			return vs_fail(err, VS_E_SYSTEM, -r, "its system call filter");
	}
	return 0;
}

static int run_confined(char *const argv[], const struct confine *cf, int *exit_code, vs_err *err)
{
	pid_t pid = fork_child();
	if (pid < 0)
		return vs_fail_errno(err, "fork");
	if (pid == 0) {
		if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
			perror("vserver: unshare");
			_exit(CONFINE_FAILED);
		}
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
			perror("vserver: mount --make-rslave /");
			_exit(CONFINE_FAILED);
		}
		pid_t c = fork();
		if (c < 0)
			_exit(CONFINE_FAILED);
		if (c == 0) {
			/* PID 1 of the new namespace: everything the package
			 * scripts start dies with it */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			vs_err e;
			if (cf && confine_copy(cf, &e) < 0) {
				fprintf(stderr, "vserver: confining %s: %s\n", argv[0], e.msg);
				_exit(CONFINE_FAILED);
			}
			/* (a confined copy keeps the host's /proc, read-only) */
			if (!cf)
				mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
			execvp(argv[0], argv);
			fprintf(stderr, "vserver: cannot run %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		int st;
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	int code = wait_child(pid, err);
	if (code < 0)
		return -1;
	if (exit_code)
		*exit_code = code;
	if (code == CONFINE_FAILED)
		return vs_fail(err, VS_E_SYSTEM, 0, "%s: its namespaces could not be set up (see the message above)", argv[0]);
	if (code == 127)
		return vs_fail(err, VS_E_SYSTEM, 0, "%s could not be run (is it installed?)", argv[0]);
	if (code)
		return vs_fail(err, VS_E_SYSTEM, 0, "%s failed with exit status %d (see its output above)", argv[0],
			       code);
	return 0;
}

static int method_bootstrap(struct bctx *b, vs_err *err)
{
	bool mm = !strcmp(b->o->method, "mmdebstrap");
	vs_strv argv = { 0 };
	vs_strv_push(&argv, mm ? "mmdebstrap" : "debootstrap");
	if (b->arch)
		vs_strv_push_take(&argv, vs_asprintf("--arch=%s", b->arch));
	for (int i = 0; i < b->n_extra; i++)
		vs_strv_push(&argv, b->extra[i]);
	vs_strv_push(&argv, b->suite);
	vs_strv_push(&argv, b->stage_root);
	vs_strv_push(&argv, b->mirror);
	if (b->script)
		vs_strv_push(&argv, b->script);
	vs_say(b->rep, "[2/4] installing Debian %s (%s) from %s with %s", b->suite, b->arch ? b->arch : vs_host_dpkg_arch(),
	       b->mirror, argv.v[0]);
	if (mm) {
		/* mmdebstrap wants an empty or absent target */
		rmdir(b->stage_root);
	}
	int r = run_confined(argv.v, NULL, NULL, err);
	vs_strv_free(&argv);
	return r;
}

/* Where path p lies in its file system: *dev, and the path from that
 * file system's root (mountinfo: the mount's root field, plus p past its
 * mount point).  NULL if unknown. */
static char *fs_path(const char *p, dev_t *dev)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL, *best = NULL;
	size_t cap = 0, best_len = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char root[PATH_MAX], mp[PATH_MAX];
		if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &maj, &min, root, mp) != 4)
			continue;
		size_t n = strlen(mp);
		bool under = !strcmp(mp, "/") || (!strncmp(p, mp, n) && (p[n] == '/' || !p[n]));
		if (!under || (best && n < best_len))
			continue;
		/* (octal escapes of blanks in these fields are not undone:
		 * such a path simply does not match) */
		const char *rest = !strcmp(mp, "/") ? p : p + n;
		free(best);
		best = vs_asprintf("%s%s", strcmp(root, "/") ? root : "", *rest ? rest : (strcmp(root, "/") ? "" : "/"));
		best_len = n;
		*dev = makedev(maj, min);
	}
	free(line);
	return best;
}

/* base below (or equal to) the rsync source src, also when src reaches
 * it through another mount of the same file system (a bind of /): its
 * path from src as an --exclude pattern ("" when it is src itself), or
 * NULL.  Wildcards are escaped. */
static char *rsync_inside(const char *src, const char *base)
{
	_cleanup_free_ char *rel = NULL;
	size_t n = strlen(src);
	if (!strcmp(src, "/"))
		rel = vs_strdup(base);
	else if (!strncmp(base, src, n) && (base[n] == '/' || !base[n]))
		rel = vs_strdup(base + n);
	else {
		dev_t sd = 0, bd = 0;
		_cleanup_free_ char *sp = fs_path(src, &sd), *bp = fs_path(base, &bd);
		size_t m = sp ? strlen(sp) : 0;
		if (!sp || !bp || sd != bd)
			return NULL;
		if (!strcmp(sp, "/"))
			rel = vs_strdup(bp);
		else if (!strncmp(bp, sp, m) && (bp[m] == '/' || !bp[m]))
			rel = vs_strdup(bp + m);
		else
			return NULL;
	}
	if (!strpbrk(rel, "*?["))
		return vs_steal(rel);
	char *o = vs_xmalloc0(2 * strlen(rel) + 1), *q = o;
	for (const char *c = rel; *c; c++) {
		if (strchr("*?[\\", *c))
			*q++ = '\\';
		*q++ = *c;
	}
	return o;
}

static bool rsync_remote(const char *src)
{
	/* HOST:DIR, USER@HOST:DIR, rsync://...: a ':' before any '/' */
	size_t c = strcspn(src, ":/");
	return src[c] == ':';
}

/* util-vserver's rsync method: rsync SRC/ ROOT/ (a physical server or a
 * directory becomes a guest).  Options: util-vserver's -Hazx
 * --numeric-ids plus ACLs and xattrs (file capabilities), or the -o ones.
 * rsync runs with the whole host read-only but the new root: a hostile
 * source (a compromised server being migrated) cannot make it write
 * anywhere else. */
static int method_rsync(struct bctx *b, vs_err *err)
{
	vs_strv argv = { 0 };
	vs_strv_push(&argv, "rsync");
	if (b->rsync_opts.n)
		for (size_t i = 0; i < b->rsync_opts.n; i++)
			vs_strv_push(&argv, b->rsync_opts.v[i]);
	else {
		vs_strv_push(&argv, "-aHAXx");
		vs_strv_push(&argv, "--numeric-ids");
	}
	_cleanup_free_ char *src = NULL;
	if (rsync_remote(b->source))
		src = vs_asprintf("%s/", b->source);
	else {
		_cleanup_free_ char *real = realpath(b->source, NULL);
		struct stat st;
		if (b->source[0] != '/' || !real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			vs_strv_free(&argv);
			return vs_fail(err, VS_E_INVALID, real ? 0 : errno,
				       "rsync source '%s' must be an absolute path to a directory (or HOST:DIR)", b->source);
		}
		/* the source holds the guest roots or vserver's configuration
		 * (a copy of this host itself, also through a bind mount of
		 * its root): they stay out, or the copy would copy itself
		 * and hand every guest's files to the new one */
		_cleanup_strv_ vs_strv bases = { 0 };
		vs_strv_push(&bases, b->s->confdir);
		vs_strv_push(&bases, b->rootbase);
		vs_config_guest_roots(b->s, &bases); /* the vdirbase and every guest's root */
		for (size_t k = 0; k < bases.n; k++) {
			_cleanup_free_ char *base = realpath(bases.v[k], NULL);
			_cleanup_free_ char *rel = base ? rsync_inside(real, base) : NULL;
			if (!rel)
				continue;
			if (!*rel) {
				vs_strv_free(&argv);
				return vs_fail(err, VS_E_INVALID, 0, "rsync source '%s' is %s", b->source,
					       k == 0 ? "vserver's configuration directory" : "a guest root or their directory");
			}
			vs_strv_push_take(&argv, vs_asprintf("--exclude=%s", rel));
		}
		src = vs_asprintf("%s/", real);
	}
	for (int i = 0; i < b->n_extra; i++)
		vs_strv_push(&argv, b->extra[i]);
	vs_strv_push(&argv, "--");
	vs_strv_push(&argv, src);
	vs_strv_push_take(&argv, vs_asprintf("%s/", b->stage_root));
	vs_say(b->rep, "[2/4] copying %s to %s with rsync", b->source, b->final_root);
	int code = 0;
	struct confine cf = { .rw_only = b->stage_root, .own_net = !rsync_remote(b->source),
			      .keep_run = rsync_remote(b->source) ? "/run" : src };
	int r = run_confined(argv.v, &cf, &code, err);
	vs_strv_free(&argv);
	if (r < 0 && code == 24) {
		/* files that vanished while a live system was copied */
		vs_say(b->rep, "  warning: some source files vanished during the copy (rsync exit status 24)");
		return 0;
	}
	return r;
}

static int method_skeleton(struct bctx *b, vs_err *err)
{
	(void)err;
	vs_say(b->rep, "[2/4] creating an empty root %s", b->final_root);
	return 0;
}

/* Unpack with the vserver-unpack helper (libarchive lives there, so the
 * vserver command itself starts fast); its cwd is the staging root. */
static int method_template(struct bctx *b, vs_err *err)
{
	vs_say(b->rep, "[2/4] unpacking %s", b->tarball);
	_cleanup_free_ char *helper = vs_helper_path("vserver-unpack", "VSERVER_UNPACK");
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	pid_t pid = fork_child();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vs_fail_errno(err, "fork");
	}
	if (pid == 0) {
		close(pfd[0]);
		if (dup2(pfd[1], 3) < 0)
			_exit(127);
		char *argv[] = { "vserver-unpack", b->tarball, b->stage_root, "3", NULL };
		extern char **environ;
		execve(helper, argv, environ);
		dprintf(3, "cannot run %s: %s", helper, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char msg[1024] = "";
	ssize_t n, got = 0;
	while ((n = read(pfd[0], msg + got, sizeof msg - 1 - (size_t)got)) != 0) {
		if (n < 0) {
			if (errno == EINTR && !interrupted)
				continue;
			break;
		}
		got += n;
		if ((size_t)got >= sizeof msg - 1)
			break;
	}
	close(pfd[0]);
	msg[got > 0 ? got : 0] = 0;
	int code = wait_child(pid, err);
	if (code < 0)
		return -1;
	if (code)
		return vs_fail(err, VS_E_INVALID, 0, "template: %s", *msg ? msg : "extraction failed");
	vs_say(b->rep, "  unpacked %s", msg);
	return 0;
}

static int method_clone(struct bctx *b, vs_err *err)
{
	/* loaded and locked by vs_build before anything was mounted */
	const struct vs_config *src = &b->src;
	struct vs_state st;
	int running = vs_state_get(b->s, b->source, &st, NULL, err);
	if (running != 0)
		return running < 0 ? -1
				   : vs_fail(err, VS_E_STATE, 0, "clone source '%s' is running; stop it first", b->source);
	/* an image guest's files are on its image: mounted after a reboot */
	if (src->disk_image && vs_disk_mount(src->disk_image, src->vdir, err) < 0)
		return vs_err_prefix(err, "clone source");
	struct stat sb;
	if (lstat(src->vdir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return vs_fail(err, VS_E_INVALID, errno, "clone source root %s is not a directory", src->vdir);
	/* init style and fstab come from the source; name, context,
	 * addresses and host name are new */
	if (!b->o->initstyle && src->init.style_set &&
	    vs_config_write(b->stage_cfg, "apps/init/style", vs_init_style_name(src->init.style), err) < 0)
		return -1;
	_cleanup_free_ char *sf = vs_asprintf("%s/fstab", src->cfgdir);
	_cleanup_free_ char *fs = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, sf, VS_CONFIG_MAX_FILE, &fs, NULL, &e) == 0 &&
	    vs_config_write(b->stage_cfg, "fstab", fs, err) < 0)
		return -1;
	if (src->machine && vs_config_write(b->stage_cfg, "uts/machine", src->machine, err) < 0)
		return -1;
	vs_say(b->rep, "[2/4] copying %s (guest '%s') to %s", src->vdir, b->source, b->final_root);
	_cleanup_free_ char *from = vs_asprintf("%s/.", src->vdir);
	/* cp -a keeps hard links, xattrs, ACLs, device nodes and FIFOs (as
	 * nodes, never opened); -x stays on one filesystem; symlinks are
	 * copied, never followed. */
	char *argv[] = { "cp", "-a", "--preserve=all", "--one-file-system", "--no-target-directory", "--", from,
			 b->stage_root, NULL };
	pid_t pid = fork_child();
	if (pid < 0)
		return vs_fail_errno(err, "fork");
	if (pid == 0) {
		execvp("cp", argv);
		_exit(127);
	}
	int code = wait_child(pid, err);
	if (code < 0)
		return -1;
	if (code)
		return vs_fail(err, VS_E_SYSTEM, 0, "copying the source root failed (cp exit status %d)", code);
	return 0;
}

/* ---- registration --------------------------------------------------------- */

static int move_aside(const char *path, long long stamp, const vs_report *rep, vs_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : vs_fail_errno(err, "%s", path);
	_cleanup_free_ char *aside = vs_asprintf("%s.~%lld~", path, stamp);
	if (rename(path, aside) < 0)
		return vs_fail_errno(err, "cannot move %s aside", path);
	vs_say(rep, "  moved the existing %s to %s", path, aside);
	return 0;
}

static int register_guest(struct bctx *b, vs_err *err)
{
	_cleanup_close_ int g = vs_lock(b->s, VS_LOCK_GLOBAL, LOCK_EX, err);
	if (g < 0)
		return -1;
	const struct vs_build_opts *o = b->o;
	char ctxbuf[16];
	unsigned ctx;
	if (o->context) {
		if (vs_parse_context(o->context, &ctx, err) < 0)
			return -1;
		_cleanup_free_ char *owner = vs_config_context_owner(b->s, ctx, o->force ? o->name : NULL);
		if (owner)
			return vs_fail(err, VS_E_INVALID, 0, "--context %u is already used by guest '%s'", ctx, owner);
	} else {
		if (vs_config_next_context(b->s, &ctx, err) < 0)
			return -1;
	}
	snprintf(ctxbuf, sizeof ctxbuf, "%u", ctx);
	if (vs_config_write(b->stage_cfg, "context", ctxbuf, err) < 0)
		return -1;
	if (validate_stage(b, true, err) < 0)
		return -1;
	struct stat st;
	bool cfg_exists = lstat(b->final_cfg, &st) == 0, root_exists = lstat(b->final_root, &st) == 0;
	if (cfg_exists || root_exists) {
		if (!o->force)
			return vs_fail(err, VS_E_EXISTS, 0, "guest '%s' already exists (%s); use --force to replace it",
				       o->name, cfg_exists ? b->final_cfg : b->final_root);
		struct vs_state s2;
		if (vs_state_get(b->s, o->name, &s2, NULL, err) != 0)
			return vs_fail(err, VS_E_STATE, 0, "guest '%s' is running; stop it before rebuilding", o->name);
		_cleanup_free_ char *oldimg = vs_asprintf("%s/disk/image", b->final_cfg);
		if (lstat(oldimg, &st) == 0)
			return vs_fail(err, VS_E_STATE, 0,
				       "guest '%s' has its own file system (%s): --force cannot move it aside; "
				       "rename the guest (vserver %s rename NEWNAME) or delete it first",
				       o->name, oldimg, o->name);
		if (vs_disk_is_mountpoint(b->final_root))
			return vs_fail(err, VS_E_STATE, 0, "%s is a mount point: --force cannot move it aside; unmount it first",
				       b->final_root);
		long long stamp = (long long)time(NULL);
		if (move_aside(b->final_root, stamp, b->rep, err) < 0)
			return -1;
		if (move_aside(b->final_cfg, stamp, b->rep, err) < 0) {
			_cleanup_free_ char *aside = vs_asprintf("%s.~%lld~", b->final_root, stamp);
			rename(aside, b->final_root);
			return -1;
		}
	}
	/* the image file first (never over another file), then the root (a
	 * mount point cannot be renamed: its file system is moved by a bind,
	 * never let go), the configuration last: nothing names what is not
	 * there yet */
	if (b->stage_image && renameat2(AT_FDCWD, b->stage_image, AT_FDCWD, b->final_image, RENAME_NOREPLACE) < 0)
		return vs_fail_errno(err, "%s", b->final_image);
	if (b->disk_mounted) {
		int mr = mkdir(b->final_root, 0755) < 0 ? vs_fail_errno(err, "%s", b->final_root) : 0;
		if (mr == 0 && vs_disk_move(b->final_image, b->stage_root, b->final_root, err) < 0) {
			rmdir(b->final_root);
			mr = -1;
		}
		if (mr < 0) {
			rename(b->final_image, b->stage_image);
			return -1;
		}
		rmdir(b->stage_root);
		b->disk_mounted = false;
	} else if (rename(b->stage_root, b->final_root) < 0) {
		int e = errno;
		if (b->stage_image)
			rename(b->final_image, b->stage_image);
		return vs_fail(err, VS_E_SYSTEM, e, "%s", b->final_root);
	}
	if (rename(b->stage_cfg, b->final_cfg) < 0) {
		int e = errno;
		vs_err e2;
		if (b->stage_image) {
			if (mkdir(b->stage_root, 0755) == 0 &&
			    vs_disk_move(b->final_image, b->final_root, b->stage_root, &e2) == 0) {
				rmdir(b->final_root);
				b->disk_mounted = true;
				rename(b->final_image, b->stage_image);
			} else {
				/* the image stays where it is mounted: not removed */
				vs_say(b->rep, "warning: rollback incomplete: %s stays mounted on %s; unmount and remove "
					       "them by hand",
				       b->final_image, b->final_root);
				free(b->stage_image);
				b->stage_image = NULL;
			}
		} else {
			rename(b->final_root, b->stage_root);
		}
		return vs_fail(err, VS_E_SYSTEM, e, "%s", b->final_cfg);
	}
	_cleanup_free_ char *cache = vs_asprintf("%s/%s", b->s->cachebase, o->name);
	if (mkdir(b->s->cachebase, 0755) == 0 || errno == EEXIST)
		mkdir(cache, 0700);
	vs_say(b->rep, "[4/4] registered guest '%s' (context %u, configuration %s)", o->name, ctx, b->final_cfg);
	return 0;
}

/* ---- --disk-size ------------------------------------------------------------ */

/* The staging root becomes the mount of a new image. */
static int make_disk(struct bctx *b, vs_err *err)
{
	_cleanup_free_ char *dir = vs_disk_images_dir(b->rootbase);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s", dir);
	_cleanup_free_ char *label = vs_asprintf("vs-%s", b->o->name);
	bool sparse;
	if (vs_disk_create(b->stage_image, b->disk_bytes, b->disk_inodes, label, &sparse, err) < 0)
		return -1;
	if (sparse)
		vs_say(b->rep, "  warning: %s cannot allocate ahead: the image is sparse, and the guest's writes fail "
			       "with I/O errors if the host's file system fills up",
		       b->rootbase);
	if (vs_disk_mount(b->stage_image, b->stage_root, err) < 0) {
		unlink(b->stage_image);
		return -1;
	}
	b->disk_mounted = true;
	/* the tree is the same as a directory guest's (and mmdebstrap wants
	 * an empty target); e2fsck makes lost+found again when it needs it */
	_cleanup_close_ int rfd = open(b->stage_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0 || unlinkat(rfd, "lost+found", AT_REMOVEDIR) < 0)
		return vs_fail_errno(err, "%s/lost+found", b->stage_root);
	struct statvfs sv;
	if (statvfs(b->stage_root, &sv) < 0)
		return vs_fail_errno(err, "%s", b->stage_root);
	vs_say(b->rep, "  disk image %s: %llu MiB, ext4 with %llu inodes, mounted on the guest root", b->final_image,
	       (unsigned long long)(b->disk_bytes >> 20), (unsigned long long)sv.f_files);
	return 0;
}

/* ---- the driver ------------------------------------------------------------ */

static void bctx_free(struct bctx *b)
{
	free(b->stage_cfg);
	free(b->stage_root);
	free(b->rootbase);
	free(b->final_root);
	free(b->final_cfg);
	free(b->stage_image);
	free(b->final_image);
	if (b->have_src)
		vs_config_free(&b->src);
	free(b->suite);
	free(b->mirror);
	free(b->arch);
	free(b->script);
	free(b->tarball);
	free(b->source);
	vs_strv_free(&b->rsync_opts);
}

int vs_build(const struct vs_settings *s, const struct vs_build_opts *o, const vs_report *rep, vs_err *err)
{
	double t0 = vs_now();
	if (vs_name_check(o->name, err) < 0)
		return -1;
	int m;
	for (m = 0; vs_build_methods[m].name; m++)
		if (o->method && !strcmp(vs_build_methods[m].name, o->method))
			break;
	if (!o->method || !vs_build_methods[m].name)
		return vs_fail(err, VS_E_INVALID, 0,
			       "unknown build method '%s' (allowed: debootstrap, mmdebstrap, skeleton, template, clone, rsync)",
			       o->method ? o->method : "");
	if (o->context) {
		unsigned ctx;
		if (vs_parse_context(o->context, &ctx, err) < 0)
			return vs_err_prefix(err, "--context");
	}
	if (o->hostname && vs_hostname_check(o->hostname, err) < 0)
		return vs_err_prefix(err, "--hostname");
	if (o->initstyle && vs_init_style_from_name(o->initstyle) < 0)
		return vs_fail(err, VS_E_INVALID, 0, "--initstyle '%s': allowed: sysv, plain, systemd", o->initstyle);
	if (o->rootdir && o->rootdir[0] != '/')
		return vs_fail(err, VS_E_INVALID, 0, "--rootdir '%s' must be an absolute path", o->rootdir);
	if (o->method && !strcmp(o->method, "clone") && o->n_margs >= 2 && !strcmp(o->margs[1], o->name))
		return vs_fail(err, VS_E_INVALID, 0, "a guest cannot be cloned onto itself");
	uint64_t disk_bytes = 0, disk_inodes = 0;
	if (o->disk_size && vs_disk_parse_size(o->disk_size, &disk_bytes, err) < 0)
		return vs_err_prefix(err, "--disk-size");
	if (o->disk_inodes && !o->disk_size)
		return vs_fail(err, VS_E_INVALID, 0, "--disk-inodes needs --disk-size");
	if (o->disk_inodes && vs_disk_parse_inodes(o->disk_inodes, &disk_inodes, err) < 0)
		return vs_err_prefix(err, "--disk-inodes");

	struct bctx b = { .s = s, .o = o, .rep = rep, .disk_bytes = disk_bytes, .disk_inodes = disk_inodes };
	int rc = -1, lock = -1, src_lock = -1;
	bool staged = false;
	struct sigsave sv;
	signals_catch(&sv);
	if (parse_margs(&b, err) < 0)
		goto out;
	b.rootbase = vs_strdup(o->rootdir ? o->rootdir : s->vdirbase);
	for (size_t n = strlen(b.rootbase); n > 1 && b.rootbase[n - 1] == '/'; n--)
		b.rootbase[n - 1] = 0;
	b.final_root = vs_asprintf("%s/%s", b.rootbase, o->name);
	b.final_cfg = vs_asprintf("%s/%s", s->confdir, o->name);
	b.stage_root = vs_asprintf("%s/.%s.build-%d", b.rootbase, o->name, (int)getpid());
	b.stage_cfg = vs_asprintf("%s/.%s.build-%d", s->confdir, o->name, (int)getpid());

	lock = vs_lock(s, o->name, LOCK_EX | LOCK_NB, err);
	if (lock < 0)
		goto out;
	struct stat st;
	if (!o->force && (lstat(b.final_cfg, &st) == 0 || lstat(b.final_root, &st) == 0)) {
		vs_fail(err, VS_E_EXISTS, 0, "guest '%s' already exists (%s); use --force to replace it", o->name,
			lstat(b.final_cfg, &st) == 0 ? b.final_cfg : b.final_root);
		goto out;
	}
	/* clone: the source locked from here on (its image is mounted now,
	 * and a delete must not run meanwhile); an image guest's copy gets an
	 * image of the same size and inode count */
	if (b.source && !strcmp(o->method, "clone")) {
		if (vs_name_check(b.source, err) < 0) {
			vs_err_prefix(err, "clone source");
			goto out;
		}
		src_lock = vs_lock(s, b.source, LOCK_SH | LOCK_NB, err);
		if (src_lock < 0)
			goto out;
		struct vs_diags sd = { 0 };
		if (vs_config_load(s, b.source, &b.src, &sd, err) < 0) {
			vs_diags_free(&sd);
			vs_err_prefix(err, "clone source");
			goto out;
		}
		b.have_src = true;
		const struct vs_config *src = &b.src;
		int cr = 0;
		for (size_t i = 0; i < sd.n && cr == 0; i++)
			if (!strcmp(sd.d[i].file, "disk/image"))
				cr = vs_fail(err, VS_E_INVALID, 0, "%s/disk/image: %s", src->cfgdir, sd.d[i].msg);
		vs_diags_free(&sd);
		if (cr == 0 && src->disk_image && !disk_bytes) {
			/* the same size and inode count as the source's file system */
			struct statvfs svfs;
			cr = vs_disk_mount(src->disk_image, src->vdir, err);
			if (cr >= 0 && (stat(src->disk_image, &st) < 0 || statvfs(src->vdir, &svfs) < 0))
				cr = vs_fail_errno(err, "%s", src->disk_image);
			if (cr >= 0) {
				b.disk_bytes = (uint64_t)st.st_size;
				if (!disk_inodes)
					b.disk_inodes = (uint64_t)svfs.f_files;
				if (b.disk_bytes < VS_DISK_SIZE_MIN || b.disk_bytes > VS_DISK_SIZE_MAX)
					cr = vs_fail(err, VS_E_INVALID, 0,
						     "the source's disk image %s has %llu bytes; give --disk-size",
						     src->disk_image, (unsigned long long)b.disk_bytes);
			}
		}
		if (cr < 0) {
			vs_err_prefix(err, "clone source");
			goto out;
		}
	}
	if (b.disk_bytes) {
		b.final_image = vs_disk_default_image(b.final_root);
		_cleanup_free_ char *dir = vs_disk_images_dir(b.rootbase);
		b.stage_image = vs_asprintf("%s/.%s.build-%d.img", dir, o->name, (int)getpid());
		if (lstat(b.final_image, &st) == 0) {
			vs_fail(err, VS_E_EXISTS, 0, "disk image %s exists already (an earlier guest's?); move it away first",
				b.final_image);
			goto out;
		}
	}
	if (o->context) {
		unsigned ctx;
		vs_parse_context(o->context, &ctx, err);
		_cleanup_free_ char *owner = vs_config_context_owner(s, ctx, o->force ? o->name : NULL);
		if (owner) {
			vs_fail(err, VS_E_INVALID, 0, "--context %u is already used by guest '%s'", ctx, owner);
			goto out;
		}
	}

	vs_say(rep, "[1/4] checking the configuration of '%s'", o->name);
	staged = true;
	if (stage_config(&b, NULL, err) < 0 ||
	    (b.final_image && vs_config_write(b.stage_cfg, "disk/image", b.final_image, err) < 0) ||
	    validate_stage(&b, false, err) < 0)
		goto out;
	/* the new guest's addresses must not collide with other guests' */
	{
		struct vs_config c;
		struct vs_diags d = { 0 };
		if (vs_config_load_at(s, o->name, b.stage_cfg, &c, &d, err) == 0) {
			vs_diags_free(&d);
			vs_config_check_conflicts(s, &c, &d);
			for (size_t i = 0; i < d.n; i++)
				if (strcmp(d.d[i].file, "context") && !(o->force && strstr(d.d[i].msg, o->name))) {
					vs_fail(err, VS_E_INVALID, 0, "invalid build option: %s", d.d[i].msg);
					vs_diags_free(&d);
					vs_config_free(&c);
					goto out;
				}
			vs_config_free(&c);
		}
		vs_diags_free(&d);
	}
	/* 0700: the barrier that keeps host users out of guest trees (HS-10);
	 * an existing directory is the admin's, so only a warning (start
	 * refuses until it is fixed) */
	if (mkdir(b.rootbase, 0700) < 0 && errno != EEXIST) {
		vs_fail_errno(err, "%s", b.rootbase);
		goto out;
	} else {
		vs_err w;
		if (vs_settings_check_barrier(b.rootbase, &w) < 0)
			vs_say(rep, "  warning: %s (start refuses this)", w.msg);
	}
	if (mkdir(b.stage_root, 0755) < 0) {
		vs_fail_errno(err, "%s", b.stage_root);
		goto out;
	}
	if (b.disk_bytes && make_disk(&b, err) < 0)
		goto out;
	if (!strcmp(o->method, "debootstrap") || !strcmp(o->method, "mmdebstrap"))
		rc = method_bootstrap(&b, err);
	else if (!strcmp(o->method, "skeleton"))
		rc = method_skeleton(&b, err);
	else if (!strcmp(o->method, "template"))
		rc = method_template(&b, err);
	else if (!strcmp(o->method, "rsync"))
		rc = method_rsync(&b, err);
	else
		rc = method_clone(&b, err);
	if (rc < 0)
		goto out;
	rc = -1;
	if (check_interrupted(err) < 0)
		goto out;

	vs_say(rep, "[3/4] container post-install");
	{
		_cleanup_close_ int rootfd = open(b.stage_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rootfd < 0) {
			vs_fail_errno(err, "%s", b.stage_root);
			goto out;
		}
		if (fchmod(rootfd, 0755) < 0) {
			vs_fail_errno(err, "%s", b.stage_root);
			goto out;
		}
		/* what the staged configuration says already (the admin's
		 * .defaults, -a i386, a clone's source): the tree decides the rest */
		bool style_set = false, machine_set = false;
		int style = o->initstyle ? vs_init_style_from_name(o->initstyle) : vs_detect_init_style(rootfd);
		{
			struct vs_config tmp;
			struct vs_diags d = { 0 };
			vs_err e;
			if (vs_config_load_at(s, o->name, b.stage_cfg, &tmp, &d, &e) == 0) {
				style_set = tmp.init.style_set;
				machine_set = tmp.machine != NULL;
				if (style_set && !o->initstyle)
					style = tmp.init.style;
				vs_config_free(&tmp);
			}
			vs_diags_free(&d);
		}
		if (!o->initstyle && !style_set) {
			if (vs_config_write(b.stage_cfg, "apps/init/style", vs_init_style_name(style), err) < 0)
				goto out;
			vs_say(rep, "  init style: %s (detected)", vs_init_style_name(style));
		}
		/* a 32-bit guest however it came (-a i386, debootstrap's own
		 * --arch, a template, a clone): uname -m says i686 inside */
		const char *mach = machine_set ? NULL : vs_detect_machine(rootfd);
		if (mach) {
			if (vs_config_write(b.stage_cfg, "uts/machine", mach, err) < 0)
				goto out;
			vs_say(rep, "  uts/machine: %s (a 32-bit guest)", mach);
		}
		struct vs_config c;
		struct vs_diags d = { 0 };
		if (vs_config_load_at(s, o->name, b.stage_cfg, &c, &d, err) < 0) {
			vs_diags_free(&d);
			goto out;
		}
		vs_diags_free(&d);
		int r = vs_postinstall(rootfd, &c, style, o->host_resolv, rep, err);
		vs_config_free(&c);
		if (r < 0)
			goto out;
	}
	if (check_interrupted(err) < 0 || register_guest(&b, err) < 0)
		goto out;
	staged = false;
	/* disk limits: the tree carries the project id (= context) from the
	 * start, where the filesystem has project ids (lib/dlimits.h) */
	vs_dlimits_tag_built(s, o->name, rep);
	vs_say(rep, "built guest '%s' with %s in %.1f s", o->name, o->method, vs_now() - t0);
	rc = 0;
out:
	if (rc < 0 && staged) {
		if (o->keep) {
			vs_say(rep, "build failed; --keep: leaving %s and %s", b.stage_root, b.stage_cfg);
			if (b.disk_mounted)
				vs_say(rep, "  %s is the mount of %s", b.stage_root, b.stage_image);
		} else {
			vs_err e2;
			_cleanup_close_ int base = open(b.rootbase, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			_cleanup_close_ int conf = open(s->confdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			const char *rb = strrchr(b.stage_root, '/') + 1, *cb = strrchr(b.stage_cfg, '/') + 1;
			if (b.disk_mounted) {
				int u = vs_disk_umount(b.stage_image, b.stage_root, &e2);
				if (u != 0)
					vs_say(rep, "warning: %s", e2.msg);
				if (u >= 0)
					b.disk_mounted = false;
			}
			if (!b.disk_mounted && base >= 0 && vs_rm_rf_at(base, rb, &e2) < 0)
				vs_say(rep, "warning: could not remove %s: %s", b.stage_root, e2.msg);
			if (b.stage_image && !b.disk_mounted && unlink(b.stage_image) < 0 && errno != ENOENT)
				vs_say(rep, "warning: could not remove %s: %s", b.stage_image, strerror(errno));
			if (b.disk_mounted)
				vs_say(rep, "warning: %s stays mounted on %s and is kept; unmount and remove them by hand",
				       b.stage_image, b.stage_root);
			if (conf >= 0 && vs_rm_rf_at(conf, cb, &e2) < 0)
				vs_say(rep, "warning: could not remove %s: %s", b.stage_cfg, e2.msg);
			vs_say(rep, "build failed; removed everything it had created");
		}
	}
	if (lock >= 0)
		close(lock);
	if (src_lock >= 0)
		close(src_lock);
	bctx_free(&b);
	signals_restore(&sv);
	return rc;
}
