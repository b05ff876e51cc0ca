/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver NAME start / stop.
 *
 * Start, as run by the vserver command (host side):
 *   S1  load and validate the configuration (same loader as `check`,
 *       plus conflicts with other guests); refuse on any problem
 *   S2  take the guest's lock (start, stop and enter serialize on it)
 *   S3  running already -> message, done; stale state -> cleaned
 *   S4  mount the root's disk image if it has one and it is not
 *       mounted (lib/disk.h; unmounted again if the start fails);
 *       open the guest root (a real directory owned by root, in a
 *       directory root alone may enter: HS-10); disk limits:
 *       project id on the tree and quota limits (lib/dlimits.h), refused
 *       when the filesystem has no project quotas; the shared folders
 *       host users could run guest root's setuid files from (PR-04,
 *       lib/mounts.h), refused
 *   S5  create the guest's cgroup(s), set the device policy and the
 *       resource limits (lib/reslimits.h), before any guest process
 *       exists; check the network against the host
 *   S5b isolated and private network modes: the vserver-net helper
 *       brings the network up (lib/net.c N1-N7)
 *   S6  sysv style: copy the static vserver-init into a sealed memfd
 *   S7  fork the per-guest monitor and wait for its report
 *   S8  sysv and systemd styles: release the lock, wait for the boot (the
 *       monitor's second report: PID 1's READY=1), at most
 *       apps/init/boot-timeout s
 * The monitor (host side, one per guest, detached):
 *   M1  console pty (log in RUNDIR/NAME/console.log); the monitor holds its
 *       slave end too, so the master never polls as hung up (no spinning
 *       while no guest process has /dev/console open)
 *   M2  clone the guest's PID 1 in new PID, mount, UTS and IPC namespaces (and
 *       network in mode none), born in the guest's cgroup2 payload dir
 *       (clone3 CLONE_INTO_CGROUP; else moved there), let it run
 *   M3  record the state (monitor and init pids with start times); on a
 *       restart, a stop marker already there means the stop may have
 *       signalled the old PID 1 only: kill the new one
 *   M4  wait: console output to the log; sysv/systemd: the readiness
 *       socket (VS_NOTIFY_PATH), PID 1's first READY=1 to the waiting
 *       start, then closed; PID 1 exit -> reboot (SIGHUP,
 *       i.e. reboot(2) in the guest) respawns at M2, anything else stops
 *   M5  kill what is left in the cgroup, remove it, the network
 *       (vserver-net down) and the state
 * The guest's PID 1 before it executes the init (child stages):
 *   C1  wait for the monitor's go; umask 022, badness (oom_score_adj);
 *       join the v1 payload cgroups (by
 *       `tasks`, itself: no global lock) when born in the cgroup2 one;
 *       the seccomp program (RUNDIR/NAME/seccomp.bpf if the rules are
 *       unchanged, else compiled and cached there); then a new cgroup namespace rooted there (the limits on
 *       the guest dir above are out of its reach); network: private joins the
 *       namespace vserver-net made, none brings up lo in its new one;
 *       sysctl/ into the guest's network and IPC namespaces (lib/sysctl.h)
 *   C2  all mounts slave (no propagation to the host), the guest root
 *       bound onto itself
 *   C3  fstab (a read-write bind of a privileged guest checked for PR-04
 *       again, on the opened source it binds), /proc (masked, /proc/sys read-only but /proc/sys/net
 *       with its own network namespace), /sys read-only, /dev (tmpfs
 *       with null zero full random urandom tty, devpts, shm, mqueue,
 *       console), /run, the LXCFS files over /proc's (lib/lxcfs.h);
 *       targets resolved inside the root; systemd style: the tmpfs of
 *       the guest's tmp.mount and vserver's runtime mount units
 *       (lib/sdguest.h), the cgroup2 view
 *   C4  pivot_root, old root detached; bind the monitor's readiness
 *       socket (sysv and systemd styles)
 *   C5  host name, domain name, personality (i686)
 *   C6  session and controlling terminal (the console), fds 0-2 only
 *   C7  isolated network: the Landlock domain scoping abstract unix
 *       sockets; ulimits/ and ionice/ (lib/reslimits.h, while a hard
 *       limit may still be raised); the exec shim's sealed memfd
 *       (lib/execshim.h; not for vserver-init, its own sealed copy);
 *       nice; system call filter (C1's program, no_new_privs if
 *       configured, lib/sysfilter.h), then capabilities: bounding set,
 *       inheritable, ambient, permitted
 *   C8  clean environment, cwd /, exec the init of the style (through
 *       the shim) */
#include "start.h"
#include "execshim.h"
#include "disk.h"
#include "attach.h"
#include "caps.h"
#include "cgroup.h"
#include "landlock.h"
#include "lock.h"
#include "lxcfs.h"
#include "net.h"
#include "mounts.h"
#include "scripts.h"
#include "sdguest.h"
#include "postinstall.h"
#include "safeio.h"
#include "sysfilter.h"
#include "state.h"
#include "userns.h"
#include "vs-build-config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <net/if.h>
#include <sys/un.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *const systemd_start[] = { "/sbin/init", NULL };
static const char *const plain_start[] = { "/sbin/init", NULL };
static const char *const sysv_start[] = { "/etc/init.d/rc", NULL }; /* + runlevel */

static const struct vs_init_style_info style_table[VS_INIT__COUNT] = {
	[VS_INIT_SYSV] = { "sysv", SIGTERM, sysv_start },
	[VS_INIT_PLAIN] = { "plain", 0, plain_start },
	[VS_INIT_SYSTEMD] = { "systemd", 0, systemd_start }, /* SIGRTMIN+3, set at run time */
};

const struct vs_init_style_info *vs_init_style_info(int style)
{
	return style >= 0 && style < VS_INIT__COUNT ? &style_table[style] : NULL;
}

static int stop_signal(int style)
{
	if (style == VS_INIT_SYSTEMD)
		return SIGRTMIN + 3;
	return style_table[style].stop_signal;
}

/* The device policy of every guest. */
static const struct vs_dev_rule dev_rules[] = {
	{ 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" }, { 'c', 1, 7, "rwm" }, { 'c', 1, 8, "rwm" },
	{ 'c', 1, 9, "rwm" }, { 'c', 5, 0, "rwm" }, { 'c', 5, 1, "rwm" }, { 'c', 5, 2, "rwm" },
	{ 'c', 136, -1, "rwm" },
};

/* ---- the guest's PID 1 (child stages) -------------------------------------- */

struct child_args {
	const struct vs_config *c;
	const struct vs_start_opts *o;
	int style;
	int go_fd, err_fd;
	int init_memfd;
	const char *console;     /* host path of the console pty slave */
	bool has_unified;
	const struct vs_cgroup *cg;
	bool born_in;            /* born in the cgroup2 payload dir: joins the v1 ones itself */
	int netns_fd;            /* private network: the namespace to join */
	int userns_fd, share_fd; /* user-namespace guest: its namespace and the shared folders' (else -1) */
	int rundir_fd;           /* RUNDIR/NAME (the seccomp cache), -1 if unusable */
	int notify_fd;           /* the monitor's readiness socket, bound at C4 (-1: start does not wait) */
};

/* The readiness socket inside the guest (systemd's NOTIFY_SOCKET; the
 * path of systemd-nspawn's): PID 1 sends READY=1 there when its boot is
 * done (systemd by itself, vserver-init after its start command). */
#define VS_NOTIFY_PATH "/run/host/notify"

/* Does `start` wait for the guest's boot (apps/init/boot-timeout)?  Only
 * where PID 1 tells: vserver-init (sysv) and systemd.  Not plain (a
 * sysvinit says nothing) nor rescue. */
static bool waits_for_boot(const struct vs_config *c, int style, bool rescue)
{
	return !rescue && c->boot_timeout != 0 && (style == VS_INIT_SYSV || style == VS_INIT_SYSTEMD);
}

/* mode none: the new namespace's lo is down */
static int loopback_up(vs_err *err)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) < 0) {
		vs_fail_errno(err, "bringing up lo in the guest's network namespace");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* User-namespace guest, private network: the namespace vserver-net made
 * is owned by the host's user namespace, where guest root has no
 * NET_BIND_SERVICE; ports below 1024 are opened to every guest process
 * instead (only in the guest's own namespace, as Docker does). */
static int unprivileged_ports(vs_err *err)
{
	_cleanup_close_ int fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		return vs_fail_errno(err, "net.ipv4.ip_unprivileged_port_start in the guest's network namespace");
	return 0;
}

/* Join the guest's user namespace as its root.  Network mode none: a
 * new network namespace owned by it (the one of the clone belongs to the
 * host's user namespace, where guest root could neither bind a port
 * below 1024 nor write /proc/sys/net), with lo up. */
static int enter_userns(const struct child_args *a, vs_err *err)
{
	if (vs_userns_enter(a->userns_fd, err) < 0)
		return -1;
	if (a->c->net.mode == VS_NET_NONE) {
		if (unshare(CLONE_NEWNET) < 0)
			return vs_fail_errno(err, "network namespace of the guest's user namespace");
		if (loopback_up(err) < 0)
			return -1;
		/* its net.* sysctls: this namespace is the guest's, not C1's */
		if (vs_sysctl_apply(a->c->sysctls, a->c->n_sysctls, VS_SYSCTL_NET, err) < 0)
			return -1;
	}
	return 0;
}

static void child_fail(int fd, const vs_err *e)
{
	if (write(fd, e->msg, strlen(e->msg)) < 0) {
	}
	_exit(127);
}

/* What PID 1 executes but vserver-init: the rescue command (default
 * /bin/sh), else apps/init/cmd.start, else the style's default */
static char *const rescue_sh[] = { "/bin/sh", NULL };
static char *const *pid1_argv(const struct vs_config *c, const struct vs_start_opts *o, int style)
{
	if (o->rescue)
		return o->rescue_argv && o->rescue_argv[0] ? o->rescue_argv : rescue_sh;
	return c->init.cmd_start.n ? c->init.cmd_start.v : (char *const *)style_table[style].default_start;
}

static char **build_env(const struct vs_config *c, int style, bool notify)
{
	vs_strv env = { 0 };
	for (size_t i = 0; i < c->init.environment.n; i++)
		vs_strv_push(&env, c->init.environment.v[i]);
	vs_strv_push(&env, "container=vserver");
	if (notify)
		vs_strv_push(&env, "NOTIFY_SOCKET=" VS_NOTIFY_PATH);
	if (style == VS_INIT_SYSV) {
		vs_strv_push_take(&env, vs_asprintf("VSERVER_RUNLEVEL=%s", c->init.runlevel));
		/* the limit of a shutdown the guest asks for itself (a stop
		 * from the host has its own, see vs_stop) */
		vs_strv_push_take(&env, vs_asprintf("VSERVER_STOP_TIMEOUT=%d",
						    c->stop_timeout >= 0 ? c->stop_timeout : 30));
	}
	vs_strv_push(&env, "TERM=linux");
	return env.v;
}

static void guest_child(struct child_args *a)
{
	vs_err e = { 0 };
	const struct vs_config *c = a->c;
	char b;
	/* C1 */
	if (read(a->go_fd, &b, 1) != 1)
		_exit(127);
	/* the umask the kernel gives init (the caller's, such as an admin's
	 * 077, would make every file the guest's rc scripts create private) */
	umask(022);
	close(a->go_fd);
	/* badness: written here, through the host's /proc */
	if (vs_oom_adj_apply(&c->limits, &e) < 0)
		child_fail(a->err_fd, &e);
	/* born in the cgroup2 payload dir: the v1 ones by `tasks`, the
	 * calling thread (no global lock, see vs_clone_into_cgroup) */
	if (a->born_in && vs_cgroup_join_self(a->cg, true, &e) < 0)
		child_fail(a->err_fd, &e);
	/* the seccomp program, loaded in C7: from RUNDIR/NAME's cache when the
	 * rules are the same as at the last start (compiling takes a
	 * millisecond), else compiled and cached there for the next start and
	 * for exec; here, as host root, in memory that the exec drops (the
	 * monitor stays small) */
	struct vs_seccomp_prog filter;
	if (vs_seccomp_prepare(a->rundir_fd, c, &filter, &e) < 0)
		child_fail(a->err_fd, &e);
	if (a->rundir_fd >= 0)
		close(a->rundir_fd);
	if (a->netns_fd >= 0 && setns(a->netns_fd, CLONE_NEWNET) < 0) {
		vs_fail_errno(&e, "joining the guest's network namespace");
		child_fail(a->err_fd, &e);
	}
	if (c->net.mode == VS_NET_NONE && loopback_up(&e) < 0)
		child_fail(a->err_fd, &e);
	/* sysctl/: in the guest's network and IPC namespaces, through the
	 * host's /proc (writable; the guest's /proc/sys is read-only) */
	bool late_net = a->userns_fd >= 0 && c->net.mode == VS_NET_NONE; /* see enter_userns */
	if (vs_sysctl_apply(c->sysctls, c->n_sysctls, late_net ? VS_SYSCTL_IPC : VS_SYSCTL_ALL, &e) < 0)
		child_fail(a->err_fd, &e);
	if (a->userns_fd >= 0 && a->netns_fd >= 0 && unprivileged_ports(&e) < 0)
		child_fail(a->err_fd, &e);
	if (unshare(CLONE_NEWCGROUP) < 0) {
		vs_fail_errno(&e, "new cgroup namespace");
		child_fail(a->err_fd, &e);
	}
	/* C2 */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		vs_fail_errno(&e, "making the mounts slave");
		child_fail(a->err_fd, &e);
	}
	if (a->userns_fd < 0 && mount(c->vdir, c->vdir, NULL, MS_BIND | MS_REC, NULL) < 0) {
		vs_fail_errno(&e, "binding the guest root %s", c->vdir);
		child_fail(a->err_fd, &e);
	}
	if (a->userns_fd >= 0) {
		/* user-namespace guest: the root id-mapped (disk uid n is guest
		 * uid n), and what C3 creates belongs to guest root */
		_cleanup_close_ int tree = vs_userns_idmapped_tree(c->vdir, true, a->userns_fd, &e);
		_cleanup_close_ int at = open(c->vdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (tree < 0 || at < 0 || vs_userns_attach(tree, at, "guest root", &e) < 0) {
			if (tree >= 0 && at < 0)
				vs_fail_errno(&e, "%s", c->vdir);
			child_fail(a->err_fd, &e);
		}
		if (vs_userns_set_fsids(vs_userns_base(c->context), &e) < 0)
			child_fail(a->err_fd, &e);
	}
	int rootfd = open(c->vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		vs_fail_errno(&e, "%s", c->vdir);
		child_fail(a->err_fd, &e);
	}
	/* C3 */
	vs_safeio_allow_xdev(true);
	struct vs_mounts_userns mu = { .share_fd = a->share_fd, .base = vs_userns_base(c->context) };
	/* systemd style: what the guest's systemd cannot do itself (it has no
	 * CAP_SYS_ADMIN): the tmpfs of its tmp.mount, first (fstab may mount
	 * below /tmp), and runtime units that keep it from unmounting
	 * vserver's mounts at shutdown (sdguest.h) */
	_cleanup_free_ char *sd_warning = NULL;
	struct vs_fstab_entry te;
	struct vs_fstab tmp = { .e = &te };
	const struct vs_mounts_userns *mup = a->userns_fd >= 0 ? &mu : NULL;
	if (a->style == VS_INIT_SYSTEMD && vs_sdguest_tmp(rootfd, c, &te, &sd_warning) == 1) {
		tmp.n = 1;
		if (vs_mounts_extra(rootfd, &tmp, c, mup, &e) < 0) {
			/* the guest's options, refused by the kernel */
			free(sd_warning);
			sd_warning = vs_asprintf("the guest's tmp.mount (Options=%s): %s; /tmp mounted with its default "
						 "options", te.options, e.msg);
			vs_fstab_entry_free(&te);
			if (vs_sdguest_tmp_defaults(&te) < 0 || vs_mounts_extra(rootfd, &tmp, c, mup, &e) < 0)
				child_fail(a->err_fd, &e);
		}
	}
	if (vs_mounts_setup(rootfd, c, a->console, mup, &e) < 0)
		child_fail(a->err_fd, &e);
	if (a->style == VS_INIT_SYSTEMD) {
		const struct vs_fstab *tabs[] = { &c->fstab, &c->fstab_remote, &tmp };
		if (vs_sdguest_write_units(rootfd, tabs, VS_ARRAY_SIZE(tabs), &e) < 0)
			child_fail(a->err_fd, &e);
	}
	if (tmp.n)
		vs_fstab_entry_free(&te);
	if (a->style == VS_INIT_SYSTEMD && a->has_unified) {
		/* systemd wants a writable cgroup2 view of its own subtree: mounted
		 * in the new cgroup namespace, it shows the payload cgroup and
		 * below, never the guest dir with the limits */
		int t = vs_openat_in_root(rootfd, "sys/fs/cgroup", O_PATH | O_DIRECTORY, 0, &e);
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", t);
		if (t < 0 || mount("cgroup2", p, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			if (t >= 0)
				vs_fail_errno(&e, "mounting cgroup2 on guest /sys/fs/cgroup");
			child_fail(a->err_fd, &e);
		}
		close(t);
	}
	int console = -1;
	if (a->console) {
		console = open(a->console, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (console < 0) {
			vs_fail_errno(&e, "console %s", a->console);
			child_fail(a->err_fd, &e);
		}
	}
	if (a->userns_fd >= 0 && vs_userns_set_fsids(0, &e) < 0)
		child_fail(a->err_fd, &e);
	/* C4 */
	if (vs_mounts_pivot(rootfd, &e) < 0)
		child_fail(a->err_fd, &e);
	close(rootfd);
	/* the monitor's readiness socket, bound in the guest's fresh /run
	 * (nothing of the guest has run yet); only PID 1's messages count */
	if (a->notify_fd >= 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = VS_NOTIFY_PATH };
		uid_t owner = a->userns_fd >= 0 ? vs_userns_base(c->context) : 0;
		if ((mkdir("/run/host", 0755) < 0 && errno != EEXIST) ||
		    bind(a->notify_fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
		    chown(VS_NOTIFY_PATH, owner, owner) < 0 || chmod(VS_NOTIFY_PATH, 0600) < 0) {
			vs_fail_errno(&e, "the readiness socket %s", VS_NOTIFY_PATH);
			child_fail(a->err_fd, &e);
		}
		close(a->notify_fd);
	}
	/* C5 */
	if (sethostname(c->nodename, strlen(c->nodename)) < 0) {
		vs_fail_errno(&e, "sethostname");
		child_fail(a->err_fd, &e);
	}
	const char *dn = c->domainname ? c->domainname : "(none)";
	if (setdomainname(dn, strlen(dn)) < 0) {
		vs_fail_errno(&e, "setdomainname");
		child_fail(a->err_fd, &e);
	}
	if (vs_config_personality(c) && personality(vs_config_personality(c)) < 0) {
		vs_fail_errno(&e, "personality LINUX32");
		child_fail(a->err_fd, &e);
	}
	/* C6 */
	setsid();
	if (console >= 0) {
		if (dup2(console, 0) < 0 || dup2(console, 1) < 0 || dup2(console, 2) < 0) {
			vs_fail_errno(&e, "console");
			child_fail(a->err_fd, &e);
		}
		ioctl(0, TIOCSCTTY, 0);
		close(console);
		if (sd_warning)
			dprintf(2, "vserver: warning: %s\n", sd_warning);
	}
	/* C7: the system call filter first (loading it needs CAP_SYS_ADMIN),
	 * then the capabilities */
	if (c->net.mode == VS_NET_ISOLATED && vs_landlock_scope_abstract(&e) < 0)
		child_fail(a->err_fd, &e);
	/* ulimits/ and ionice/ while CAP_SYS_RESOURCE is still there (a
	 * configured hard limit may be above the host's) */
	if (vs_ulimits_apply(&c->limits, &e) < 0)
		child_fail(a->err_fd, &e);
	/* user-namespace guest: from here on root of its user namespace
	 * (the filter and the bounding set apply there) */
	if (a->userns_fd >= 0 && enter_userns(a, &e) < 0)
		child_fail(a->err_fd, &e);
	/* the init (but vserver-init, which is its own sealed copy) and the
	 * rescue command are executed through the exec shim: never from the
	 * monitor's image (execshim.h) */
	int shim = -1;
	if (a->o->rescue || a->style != VS_INIT_SYSV) {
		shim = vs_exec_shim_fd(&e);
		if (shim < 0)
			child_fail(a->err_fd, &e);
	}
	/* the guest's niceness while CAP_SYS_NICE is still there (a negative
	 * one; or the monitor running niced) */
	if (c->nice_set && setpriority(PRIO_PROCESS, 0, c->nice) < 0) {
		vs_fail_errno(&e, "nice %d", c->nice);
		child_fail(a->err_fd, &e);
	}
	if (vs_seccomp_load(&filter, &e) < 0 || vs_caps_apply(vs_config_bounding_set(c), &e) < 0)
		child_fail(a->err_fd, &e);
	/* C8 */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (chdir("/") < 0)
		_exit(127);
	char **env = build_env(c, a->style, a->notify_fd >= 0);
	char *const *argv = pid1_argv(c, a->o, a->style);
	if (a->o->rescue) {
		vs_exec_shim_run(shim, a->err_fd, strchr(argv[0], '/') ? "" : vs_exec_shim_path(env), argv[0], argv, env);
		vs_fail_errno(&e, "cannot run the exec shim in the guest");
		child_fail(a->err_fd, &e);
	}
	if (a->style == VS_INIT_SYSV) {
		/* vserver-init NSTART START... NSTOP STOP... */
		vs_strv av = { 0 };
		vs_strv_push(&av, "vserver-init");
		vs_strv st = { 0 }, sp = { 0 };
		if (c->init.cmd_start.n)
			for (size_t i = 0; i < c->init.cmd_start.n; i++)
				vs_strv_push(&st, c->init.cmd_start.v[i]);
		else {
			vs_strv_push(&st, "/etc/init.d/rc");
			vs_strv_push(&st, c->init.runlevel);
		}
		if (c->init.cmd_stop.n)
			for (size_t i = 0; i < c->init.cmd_stop.n; i++)
				vs_strv_push(&sp, c->init.cmd_stop.v[i]);
		else {
			vs_strv_push(&sp, "/etc/init.d/rc");
			vs_strv_push(&sp, "6");
		}
		vs_strv_push_take(&av, vs_asprintf("%zu", st.n));
		for (size_t i = 0; i < st.n; i++)
			vs_strv_push(&av, st.v[i]);
		vs_strv_push_take(&av, vs_asprintf("%zu", sp.n));
		for (size_t i = 0; i < sp.n; i++)
			vs_strv_push(&av, sp.v[i]);
		syscall(SYS_execveat, a->init_memfd, "", av.v, env, AT_EMPTY_PATH);
		vs_fail_errno(&e, "cannot start vserver-init");
		child_fail(a->err_fd, &e);
	}
	/* (a name without '/' is relative to the cwd, /, as execve(2) takes it) */
	_cleanup_free_ char *file = strchr(argv[0], '/') ? vs_strdup(argv[0]) : vs_asprintf("/%s", argv[0]);
	vs_exec_shim_run(shim, a->err_fd, "", file, argv, env);
	vs_fail_errno(&e, "cannot run the exec shim in the guest");
	child_fail(a->err_fd, &e);
}

/* ---- monitor ------------------------------------------------------------------ */

struct mon {
	const struct vs_settings *s;
	const struct vs_config *c;
	const struct vs_start_opts *o;
	struct vs_cgroup *cg;
	int style;
	int init_memfd;
	int netns_fd;         /* private network: RUNDIR/NAME/netns, else -1 */
	int master;           /* console pty master */
	int lsock, client;    /* console socket and the attached client */
	char console[64];
	int log;              /* console log */
	off_t log_bytes;      /* its size, capped at VS_CONSOLE_LOG_MAX */
	pid_t init;
	unsigned long long init_start;
	unsigned long long my_start;
	long long started;
	int notify;           /* readiness socket of the current boot, -1: none */
	int report;           /* to `vserver start`, open until the first boot is done, else -1 */
	unsigned notify_junk; /* messages not from PID 1 */
	unsigned notify_count; /* PID 1's messages without READY=1 */
};

/* M2: spawn PID 1.  Returns its pid, or -1 with err set. */
static pid_t spawn_guest(struct mon *m, vs_err *err)
{
	int go[2], ep[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	/* the child takes its seccomp program from there (C1) */
	_cleanup_close_ int rundir_fd = vs_state_open_guest_dir(m->s, m->c->name);
	if (m->notify >= 0)
		close(m->notify);
	m->notify = -1;
	m->notify_junk = 0;
	m->notify_count = 0;
	/* the first boot, or a reboot before the first boot was done: a
	 * start is waiting */
	if (waits_for_boot(m->c, m->style, m->o->rescue) && (m->init == 0 || m->report >= 0)) {
		int one = 1;
		m->notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (m->notify < 0 || setsockopt(m->notify, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
			vs_fail_errno(err, "readiness socket");
			close(go[0]);
			close(go[1]);
			close(ep[0]);
			close(ep[1]);
			return -1;
		}
	}
	struct child_args a = { .rundir_fd = rundir_fd, .c = m->c, .o = m->o, .style = m->style, .go_fd = go[0], .err_fd = ep[1],
				.init_memfd = m->init_memfd, .console = m->console[0] ? m->console : NULL,
				.has_unified = m->cg->unified != NULL, .netns_fd = m->netns_fd, .userns_fd = -1,
				.share_fd = -1, .notify_fd = m->notify };
	if (m->c->userns) {
		uint32_t base = vs_userns_base(m->c->context);
		a.userns_fd = vs_userns_create(base, VS_USERNS_GUEST, err);
		if (a.userns_fd >= 0)
			a.share_fd = vs_userns_create(base, VS_USERNS_SHARE, err);
		if (a.share_fd < 0) {
			if (a.userns_fd >= 0)
				close(a.userns_fd);
			close(go[0]);
			close(go[1]);
			close(ep[0]);
			close(ep[1]);
			return -1;
		}
	}
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
	if (m->c->net.mode == VS_NET_NONE)
		flags |= CLONE_NEWNET;
	/* born in the guest's cgroup2 payload dir where possible (no wait
	 * for an RCU grace period, as a cgroup.procs write has) */
	_cleanup_close_ int cgfd = -1;
	if (m->cg->unified) {
		vs_err ce;
		if (vs_cgroup_make_payload(m->cg, &ce) == 0)
			cgfd = vs_cgroup_unified_fd(m->cg, &ce);
	}
	a.cg = m->cg;
	pid_t pid = vs_clone_into_cgroup(cgfd, flags, &a.born_in);
	if (pid < 0) {
		int e = errno;
		close(go[0]);
		close(go[1]);
		close(ep[0]);
		close(ep[1]);
		if (a.userns_fd >= 0) {
			close(a.userns_fd);
			close(a.share_fd);
		}
		return vs_fail(err, VS_E_SYSTEM, e, "clone of the guest's PID 1");
	}
	if (pid == 0) {
		close(go[1]);
		close(ep[0]);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		guest_child(&a);
		_exit(127);
	}
	close(go[0]);
	close(ep[1]);
	if (a.userns_fd >= 0) {
		close(a.userns_fd);
		close(a.share_fd);
	}
	int rc = a.born_in ? 0 : vs_cgroup_attach(m->cg, pid, err);
	if (rc == 0 && write(go[1], "g", 1) != 1)
		rc = vs_fail_errno(err, "releasing the guest's PID 1");
	close(go[1]);
	char msg[2048];
	ssize_t n = 0, r;
	while (rc == 0 && (r = read(ep[0], msg + n, sizeof msg - 1 - (size_t)n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += r;
		if ((size_t)n >= sizeof msg - 1)
			break;
	}
	close(ep[0]);
	if (rc == 0 && n > 0) {
		msg[n] = 0;
		int e = vs_exec_shim_errno(msg);
		if (e)
			rc = vs_fail(err, VS_E_SYSTEM, e, "cannot run the %s %s in the guest",
				     m->o->rescue ? "rescue command" : "guest's init", pid1_argv(m->c, m->o, m->style)[0]);
		else
			rc = vs_fail(err, VS_E_SYSTEM, 0, "%s", msg);
	}
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* The console log lives in RUNDIR (a tmpfs, not charged to the guest):
 * it is cut when it reaches this size, so a guest cannot fill /run. */
#define VS_CONSOLE_LOG_MAX (4 << 20)

static void log_console(struct mon *m, const char *buf, size_t n)
{
	if (m->log < 0)
		return;
	if (m->log_bytes + (off_t)n > VS_CONSOLE_LOG_MAX) {
		static const char note[] = "[vserver] console log reached 4 MiB: truncated\n";
		if (ftruncate(m->log, 0) == 0) {
			m->log_bytes = 0;
			if (write(m->log, note, sizeof note - 1) > 0)
				m->log_bytes = sizeof note - 1;
		}
	}
	if (write(m->log, buf, n) > 0)
		m->log_bytes += (off_t)n;
}

static void mon_log(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mon_log(struct mon *m, const char *fmt, ...)
{
	if (m->log < 0)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	log_console(m, "[vserver] ", 10);
	log_console(m, buf, (size_t)n);
}

/* RUNDIR/NAME/stopping names the `stop` in progress ("PID STARTTIME"):
 * a stop killed before it removed its marker leaves one that names a
 * process gone, which must not turn the guest's next reboot into a halt */
static bool stopping(const struct vs_settings *s, const char *name)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s/stopping", s->rundir, name);
	_cleanup_free_ char *text = NULL;
	vs_err e;
	int pid;
	unsigned long long st;
	if (vs_read_file_at(AT_FDCWD, p, 64, &text, NULL, &e) < 0 || sscanf(text, "%d %llu", &pid, &st) != 2 ||
	    pid <= 0 || st == 0)
		return false;
	return vs_proc_starttime(pid) == st;
}

static int write_state(struct mon *m, vs_err *err)
{
	struct vs_state st = { .monitor = getpid(), .monitor_start = m->my_start, .init = m->init,
			       .init_start = m->init_start, .context = m->c->context, .started = m->started };
	return vs_state_write(m->s, m->c->name, &st, err);
}

static void drain_console(struct mon *m)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(m->master, buf, sizeof buf);
		if (n <= 0)
			return;
		log_console(m, buf, (size_t)n);
		if (m->client >= 0 && send(m->client, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN) {
			close(m->client);
			m->client = -1;
		}
	}
}

/* vserver NAME console: one client at a time on RUNDIR/NAME/console.sock;
 * a new client replaces the old one. */
static int console_listen(struct mon *m)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s/console.sock", m->s->rundir, m->c->name);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(p) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, p);
	unlink(p);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	mode_t old = umask(077);
	int r = bind(fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (r < 0 || listen(fd, 2) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void console_events(struct mon *m, short lrev, short crev)
{
	if (lrev & POLLIN) {
		int c = accept4(m->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0) {
			struct ucred cr;
			socklen_t l = sizeof cr;
			if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0 || cr.uid != 0) {
				close(c);
			} else {
				if (m->client >= 0)
					close(m->client);
				m->client = c;
				/* tell the client it is attached from here on */
				if (send(c, "\x06", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
					close(c);
					m->client = -1;
				}
			}
		}
	}
	if (m->client >= 0 && (crev & (POLLIN | POLLHUP | POLLERR))) {
		char buf[1024];
		ssize_t n = recv(m->client, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0) {
			if (write(m->master, buf, (size_t)n) < 0) {
			}
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(m->client);
			m->client = -1;
		}
	}
}

/* The monitor sits in poll() for the guest's whole life: drop the
 * start-up code pages it will not run again (they are clean file pages,
 * read back from the binary if ever needed).  Keeps it well under 1 MiB. */
extern char __executable_start[], etext[];
static void trim_working_set(void);

/* The readiness socket: PID 1's READY=1 (with its STATUS= line, if any)
 * goes to `vserver start`, which is waiting; then the socket is closed.
 * Messages from other guest processes are dropped, and after 64 of them
 * the socket is closed too: a guest cannot keep the monitor busy. */
static void notify_events(struct mon *m)
{
	for (;;) {
		char buf[4096];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} cm;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm, .msg_controllen = sizeof cm };
		ssize_t n = recvmsg(m->notify, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return;
		struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
		struct ucred cr = { 0 };
		bool creds = false;
		for (; h; h = CMSG_NXTHDR(&mh, h))
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
				memcpy(&cr, CMSG_DATA(h), sizeof cr);
				creds = true;
			} else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
				/* no fds are taken from a guest */
				int *fds = (int *)CMSG_DATA(h);
				for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
					close(fds[i]);
			}
		buf[n] = 0;
		bool ready = false;
		const char *status = "";
		size_t slen = 0;
		for (char *l = buf; creds && cr.pid == m->init && l && *l;) {
			char *nl = strchr(l, '\n');
			size_t len = nl ? (size_t)(nl - l) : strlen(l);
			if (len == 7 && !strncmp(l, "READY=1", 7))
				ready = true;
			else if (len > 7 && !strncmp(l, "STATUS=", 7))
				status = l + 7, slen = len - 7;
			l = nl ? nl + 1 : NULL;
		}
		bool pid1 = creds && cr.pid == m->init;
		if ((!pid1 && ++m->notify_junk >= 64) || (!ready && ++m->notify_count >= 4096)) {
			mon_log(m, "readiness socket: too many messages%s: closed", pid1 ? "" : " not from PID 1");
			close(m->notify);
			m->notify = -1;
			return;
		}
		if (!pid1 || !ready)
			continue;
		/* closed first: once `vserver start` sees the report's end, the
		 * monitor holds only what it keeps for the guest's life */
		close(m->notify);
		m->notify = -1;
		if (m->report >= 0) {
			char r[600];
			int k = snprintf(r, sizeof r, "R%.*s", (int)(slen < 512 ? slen : 512), status);
			if (write(m->report, r, (size_t)k) < 0) {
			}
			close(m->report);
			m->report = -1;
		}
		/* the boot's work is done: drop again the code pages it paged
		 * in (the monitor stays small, see trim_working_set) */
		trim_working_set();
		return;
	}
}

static void trim_working_set(void)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)__executable_start + pg - 1) & ~(pg - 1), b = (uintptr_t)etext & ~(pg - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* A problem of the configuration that concerns the scriptlets: said even
 * where the rest of the configuration's problems are not (a stop). */
static bool script_diag(const struct vs_diag *x)
{
	return vs_str_startswith(x->file, "scripts") || strstr(x->file, "/scripts/");
}

/* Can the guest have scriptlets at all (its scripts/ or .defaults')?  A
 * stat each: the configuration is read again only then. */
static bool scripts_possible(const struct vs_settings *s, const char *name)
{
	_cleanup_free_ char *own = vs_asprintf("%s/%s/scripts", s->confdir, name);
	_cleanup_free_ char *def = vs_asprintf("%s/.defaults/scripts", s->confdir);
	return access(own, F_OK) == 0 || access(def, F_OK) == 0;
}

/* M5: the guest's processes are gone.  post-stop scriptlets, the cgroup
 * and the network removed, postpost-stop scriptlets (their output in the
 * console log), the state.  A waiting stop gets the scriptlets' failures
 * in RUNDIR/NAME/scripts.failed. */
static void mon_teardown(struct mon *m, bool stop_waits)
{
	vs_err err;
	struct vs_config now;
	struct vs_diags d = { 0 };
	/* the configuration as it is now: the scriptlets of a guest that
	 * ran for months are those of today */
	bool scripts = scripts_possible(m->s, m->c->name);
	if (scripts && !(scripts = vs_config_load(m->s, m->c->name, &now, &d, &err) == 0))
		mon_log(m, "the stop scriptlets are not run: %s", err.msg);
	for (size_t i = 0; scripts && i < d.n; i++)
		if (script_diag(&d.d[i]))
			mon_log(m, "warning: %s: %s", d.d[i].file, d.d[i].msg);
	vs_diags_free(&d);
	_cleanup_free_ char *failed = vs_strdup("");
	_cleanup_free_ char *nsp = m->c->net.mode == VS_NET_PRIVATE ? vs_net_netns_path(m->s, m->c->name) : NULL;
	/* locked: this monitor or the stop waiting for it holds the lock */
	struct vs_script_run sr = { .netns = nsp, .out_fd = m->log, .keep_going = true, .locked = true };
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (vs_cgroup_destroy(m->cg, &err) < 0)
				mon_log(m, "%s", err.msg);
			if (vs_net_needs_helper(m->c) && vs_net_helper("down", m->c->name, NULL, &err) < 0)
				mon_log(m, "network: %s", err.msg);
			sr.netns = NULL;
		}
		if (scripts && vs_scripts_run(&now, pass ? VS_SCRIPT_POSTPOST_STOP : VS_SCRIPT_POST_STOP, &sr, &err) < 0) {
			mon_log(m, "%s", err.msg);
			char *t = vs_asprintf("%s%s\n", failed, err.msg);
			free(failed);
			failed = t;
		}
	}
	if (scripts)
		vs_config_free(&now);
	if (stop_waits && *failed) {
		vs_err e;
		_cleanup_close_ int gd = vs_state_open_guest_dir(m->s, m->c->name);
		if (gd >= 0)
			vs_write_runtime_file_at(gd, "scripts.failed", failed, strlen(failed), 0600, &e);
	}
	/* remove the state only if it is still ours */
	struct vs_state st;
	if (vs_state_get(m->s, m->c->name, &st, NULL, &err) >= 0 && (st.monitor == 0 || st.monitor == getpid())) {
		_cleanup_free_ char *sp = vs_asprintf("%s/%s/state", m->s->rundir, m->c->name);
		unlink(sp);
	}
}

/* The monitor's life.  report_fd gets "OK" or the error of the first
 * start.  Never returns. */
static void monitor_main(struct mon *m, int report_fd)
{
	vs_err err = { 0 };
	prctl(PR_SET_NAME, "vserver-mon");
	m->my_start = vs_proc_starttime(getpid());
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* The monitor holds the console's slave end open (never reads it):
	 * while no guest process has /dev/console open, as between two of
	 * systemd's status lines, the master would poll as POLLHUP without
	 * end and this loop would spin, taking the CPU from the guest's
	 * boot (1400 turns in one systemd boot). */
	int console_peer = ioctl(m->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (console_peer < 0)
		console_peer = open(m->console, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (console_peer < 0)
		mon_log(m, "cannot hold the console open (%s): console polling may spin", strerror(errno));
	m->client = -1;
	m->notify = -1;
	m->report = -1;
	m->lsock = console_listen(m);
	bool first = true;
	for (;;) {
		m->init = spawn_guest(m, &err);
		if (m->init < 0) {
			if (first) {
				if (write(report_fd, err.msg, strlen(err.msg)) < 0) {
				}
				close(report_fd);
			} else
				mon_log(m, "restart failed: %s", err.msg);
			break;
		}
		m->init_start = vs_proc_starttime(m->init);
		if (first)
			m->started = (long long)time(NULL);
		if (write_state(m, &err) < 0) {
			mon_log(m, "cannot record the state: %s", err.msg);
			kill(m->init, SIGKILL);
			if (first) {
				if (write(report_fd, err.msg, strlen(err.msg)) < 0) {
				}
				close(report_fd);
			}
			waitpid(m->init, NULL, 0);
			break;
		}
		if (first) {
			if (write(report_fd, "OK", 2) < 0) {
			}
			/* waiting for the boot: the report stays open until
			 * PID 1's READY=1 (or the end of the guest) */
			if (m->notify >= 0)
				m->report = report_fd;
			else
				close(report_fd);
			first = false;
		} else if (stopping(m->s, m->c->name)) {
			/* a stop came while the guest rebooted: it may have
			 * signalled the old PID 1 only (see vs_stop) */
			mon_log(m, "stop requested during the reboot: stopping");
			kill(m->init, SIGKILL);
		}
		trim_working_set();
		int status = 0;
		for (;;) {
			struct pollfd p[5] = { { .fd = m->master, .events = POLLIN },
					       { .fd = sfd, .events = POLLIN },
					       { .fd = m->lsock, .events = POLLIN },
					       { .fd = m->client, .events = POLLIN },
					       { .fd = m->notify, .events = POLLIN } };
			int n = poll(p, 5, -1);
			if (n < 0 && errno != EINTR)
				break;
			if (p[0].revents & POLLIN)
				drain_console(m);
			if (p[4].revents & POLLIN)
				notify_events(m);
			console_events(m, p[2].revents, p[3].revents);
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si) {
			}
			pid_t r = waitpid(m->init, &status, WNOHANG);
			if (r == m->init)
				break;
		}
		drain_console(m);
		if (m->notify >= 0)
			notify_events(m); /* a READY=1 sent right before PID 1 ended */
		bool reboot = (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) ||
			      (m->style == VS_INIT_SYSV && WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGHUP);
		if (WIFSIGNALED(status))
			mon_log(m, "PID 1 ended by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			mon_log(m, "PID 1 exited with status %d", WEXITSTATUS(status));
		vs_cgroup_kill(m->cg, 10000, &err);
		if (!reboot || stopping(m->s, m->c->name) || m->o->rescue)
			break;
		mon_log(m, "reboot requested inside the guest: restarting");
	}
	vs_cgroup_kill(m->cg, 10000, &err);
	if (m->netns_fd >= 0)
		close(m->netns_fd);
	/* M5, under the guest's lock: either a stop holds it and waits for
	 * this monitor, or the guest ended by itself (halt, poweroff, a
	 * failed reboot) and a stop or start that comes now waits until the
	 * guest is gone, scriptlets included */
	int lk = -1;
	bool stop_waits;
	while (!(stop_waits = stopping(m->s, m->c->name)) &&
	       (lk = vs_lock(m->s, m->c->name, LOCK_EX | LOCK_NB, &err)) < 0 && err.kind == VS_E_BUSY)
		usleep(10000);
	mon_teardown(m, stop_waits);
	if (lk >= 0)
		close(lk);
	_exit(0);
}

/* ---- helpers: vserver-init and vserver-monitor ------------------------------------ */

static void clear_cloexec(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
}

/* The monitor is a small static program (vserver-monitor) so that it
 * costs well under 1 MiB per guest; it is handed everything the vserver
 * command prepared as inherited fds:
 *   vserver-monitor NAME STYLE REPORTFD MASTERFD LOGFD MEMFD CONSOLE CGROOT [RESCUE ARGV...] */
int vs_monitor_main(int argc, char **argv)
{
	if (argc < 9)
		return 2;
	struct vs_settings s;
	vs_err err = { 0 };
	int report = atoi(argv[3]);
	struct vs_config c;
	struct vs_cgroup cg = { 0 };
	struct vs_start_opts o = { .cgroot = argv[8] };
	if (argc > 9) {
		o.rescue = true;
		o.rescue_argv = argv + 9;
	}
	if (vs_settings_load(&s, &err) < 0 || vs_config_load(&s, argv[1], &c, NULL, &err) < 0 ||
	    vs_cgroup_open(&s, argv[8], argv[1], &cg, &err) < 0) {
		if (write(report, err.msg, strlen(err.msg)) < 0) {
		}
		return 1;
	}
	struct mon m = { .s = &s, .c = &c, .o = &o, .cg = &cg, .style = atoi(argv[2]), .master = atoi(argv[4]),
			 .log = atoi(argv[5]), .init_memfd = atoi(argv[6]), .netns_fd = -1 };
	if (c.net.mode == VS_NET_PRIVATE) {
		_cleanup_free_ char *np = vs_net_netns_path(&s, c.name);
		m.netns_fd = open(np, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (m.netns_fd < 0) {
			vs_fail_errno(&err, "%s", np);
			if (write(report, err.msg, strlen(err.msg)) < 0) {
			}
			return 1;
		}
	}
	snprintf(m.console, sizeof m.console, "%s", argv[7]);
	int fds[] = { report, m.master, m.log, m.init_memfd };
	for (size_t i = 0; i < VS_ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	monitor_main(&m, report);
	return 0;
}

/* ---- start -------------------------------------------------------------------- */

static int init_memfd(const char *path, vs_err *err)
{
	_cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return vs_fail_errno(err, "%s (vserver-init)", path);
	int fd = vs_exec_memfd("vserver-init", err);
	if (fd < 0)
		return -1;
	/* in the kernel (sendfile), not through a user buffer: the copy is
	 * on every start */
	struct stat st;
	if (fstat(in, &st) < 0) {
		close(fd);
		return vs_fail_errno(err, "%s (vserver-init)", path);
	}
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(fd, in, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* an error, or the file shrank under us (an install
			 * rewriting it): never seal and run a partial copy */
			int e = n < 0 ? errno : EIO;
			close(fd);
			return vs_fail(err, VS_E_SYSTEM, e, "copying vserver-init %s", path);
		}
		left -= n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = errno;
		close(fd);
		return vs_fail(err, VS_E_SYSTEM, e, "sealing vserver-init");
	}
	return fd;
}

/* User-namespace guest: the cgroup2 payload dir and its interface files
 * belong to guest root, so that an init in the guest (systemd) can make
 * and manage sub-cgroups of its own; the guest dir above, with the
 * limits, stays host root's. */
static int give_payload(const struct vs_cgroup *cg, uint32_t base, vs_err *err)
{
	static const char *const files[] = { ".", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control" };
	if (!cg->unified)
		return 0;
	_cleanup_free_ char *dir = vs_asprintf("%s/%s", cg->unified, VS_CGROUP_PAYLOAD);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "%s", dir);
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++)
		if (fchownat(dfd, files[i], base, base, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
			return vs_fail_errno(err, "%s/%s: giving it to the guest's root", dir, files[i]);
	return 0;
}

static void cleanup_leftovers(const struct vs_settings *s, const char *name, const char *cgroot, const vs_report *rep)
{
	struct vs_cgroup cg;
	vs_err e;
	if (vs_cgroup_open(s, cgroot, name, &cg, &e) == 0) {
		vs_cgroup_kill(&cg, 10000, &e);
		vs_cgroup_destroy(&cg, &e);
		vs_cgroup_free(&cg);
	}
	_cleanup_free_ char *np = vs_asprintf("%s/%s/net", s->rundir, name);
	if (access(np, F_OK) == 0 && vs_net_helper("down", name, cgroot, &e) < 0)
		vs_say(rep, "warning: network of '%s': %s", name, e.msg);
	/* the console log stays for the admin; state, marker and socket go */
	static const char *const files[] = { "state", "stopping", "console.sock", "rescue", "scripts.failed" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = vs_asprintf("%s/%s/%s", s->rundir, name, files[i]);
		unlink(p);
	}
	/* and the temporary files of an atomic write (".state.1a2b3c4d~")
	 * that a killed vserver or monitor left behind */
	_cleanup_free_ char *dir = vs_asprintf("%s/%s", s->rundir, name);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	for (struct dirent *de; d && (de = readdir(d));)
		if (vs_atomic_temp_name(de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
}

int vs_start(const struct vs_settings *s, const char *name, const struct vs_start_opts *o, bool *already,
	     const vs_report *rep, vs_err *err)
{
	*already = false;
	const char *cgroot = vs_cgroup_root(s, o->cgroot);
	/* S1 */
	struct vs_config c;
	struct vs_diags d = { 0 };
	if (vs_config_load(s, name, &c, &d, err) < 0) {
		vs_diags_free(&d);
		return -1;
	}
	vs_config_check_conflicts(s, &c, &d);
	if (d.n) {
		vs_diags_to_err(&d, c.cfgdir, err);
		vs_diags_free(&d);
		vs_config_free(&c);
		return -1;
	}
	vs_diags_free(&d);
	int rc = -1, lock = -1, memfd = -1;
	struct vs_cgroup cg = { 0 };
	bool made_cg = false;
	_cleanup_free_ char *logp = vs_asprintf("%s/%s/console.log", s->rundir, name);
	struct mon m = { .s = s, .c = &c, .o = o, .cg = &cg, .init_memfd = -1, .master = -1, .log = -1, .netns_fd = -1 };
	bool made_net = false, mounted_disk = false;
	/* the administrator's scriptlets (lib/scripts.h) run as the start
	 * goes on; a failing one fails the start, which is rolled back */
	_cleanup_free_ char *nsp = NULL, *started = NULL;
	struct vs_script_run sr = { .out_fd = -1, .locked = true };
	struct vs_state mine = { 0 }; /* the guest this start made (post-start) */
	/* S2 */
	lock = vs_lock(s, name, LOCK_EX, err);
	if (lock < 0)
		goto out;
	/* S3 */
	struct vs_state st;
	bool stale;
	int r = vs_state_get(s, name, &st, &stale, err);
	if (r < 0)
		goto out;
	if (r == 1) {
		*already = true;
		vs_say(rep, "vserver '%s' is already running", name);
		rc = 0;
		goto out;
	}
	cleanup_leftovers(s, name, cgroot, rep);
	if (c.net.mode == VS_NET_PRIVATE)
		nsp = vs_net_netns_path(s, name);
	if (vs_scripts_run(&c, VS_SCRIPT_INITIALIZE, &sr, err) < 0)
		goto out;
	/* S4 */
	{
		/* HS-10: the directory holding the root (the vdirbase, or a build
		 * --rootdir) is the barrier that keeps host users out of the
		 * guest's files; the loader made c.vdir absolute and normalised */
		_cleanup_free_ char *holder = strndup(c.vdir, (size_t)(strrchr(c.vdir, '/') - c.vdir));
		if (!holder || vs_settings_check_barrier(*holder ? holder : "/", err) < 0) {
			if (!holder)
				vs_fail_errno(err, "%s", c.vdir);
			goto out;
		}
		/* the root's own file system (lib/disk.h): mounted since the
		 * build, or again after a host reboot; it stays mounted after stop */
		if (c.disk_image) {
			int dm = vs_disk_mount(c.disk_image, c.vdir, err);
			if (dm < 0)
				goto out;
			mounted_disk = dm == 1;
		}
		_cleanup_close_ int rfd = open(c.vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat sb;
		if (rfd < 0) {
			vs_fail(err, errno == ENOENT ? VS_E_INVALID : VS_E_SYSTEM, errno, "guest root %s", c.vdir);
			goto out;
		}
		if (fstat(rfd, &sb) < 0 || sb.st_uid != 0) {
			vs_fail(err, VS_E_INVALID, 0, "guest root %s must be owned by root", c.vdir);
			goto out;
		}
		if (vs_dlimits_apply(&c, rfd, rep, err) < 0)
			goto out;
		if (c.init.style == VS_INIT_PLAIN && !o->rescue) {
			_cleanup_free_ char *gap = vs_plain_shutdown_gap(rfd, name);
			if (gap)
				vs_say(rep, "warning: %s", gap);
		}
	}
	if (vs_scripts_run(&c, VS_SCRIPT_PREPRE_START, &sr, err) < 0)
		goto out;
	/* PR-04: shared folders that host users could run guest root's
	 * setuid programs from (checked again on the opened source at each
	 * mount, C3: this is for the early, complete message) */
	vs_mounts_check_host(&c, &d);
	if (d.n) {
		vs_diags_to_err(&d, c.cfgdir, err);
		vs_diags_free(&d);
		goto out;
	}
	int style = c.init.style;
	if (o->rescue)
		style = VS_INIT_PLAIN;
	/* S5 */
	if (vs_cgroup_create(s, cgroot, name, &cg, err) < 0)
		goto out;
	made_cg = true;
	{
		/* net/tun: /dev/net/tun too */
		struct vs_dev_rule rules[VS_ARRAY_SIZE(dev_rules) + 1];
		size_t nr = VS_ARRAY_SIZE(dev_rules);
		memcpy(rules, dev_rules, sizeof dev_rules);
		if (c.net.tun)
			rules[nr++] = (struct vs_dev_rule){ 'c', 10, 200, "rwm" };
		if (vs_cgroup_set_devices(&cg, rules, nr, err) < 0)
			goto out;
	}
	/* the guest's processes live in its payload sub-cgroup, out of reach
	 * of the limits on the guest dir (lib/cgroup.h) */
	if (vs_cgroup_make_payload(&cg, err) < 0)
		goto out;
	if (vs_limits_apply(&cg, &c.limits, err) < 0)
		goto out;
	if (c.userns && give_payload(&cg, vs_userns_base(c.context), err) < 0)
		goto out;
	vs_net_check_host(s, &c, &d);
	if (d.n) {
		vs_diags_to_err(&d, c.cfgdir, err);
		vs_diags_free(&d);
		goto out;
	}
	/* S5b */
	if (vs_net_needs_helper(&c)) {
		made_net = true;
		if (vs_net_helper("up", name, cgroot, err) < 0)
			goto out;
		if (c.net.mode == VS_NET_PRIVATE) {
			/* for the monitor run in this process (no static helper) */
			_cleanup_free_ char *np = vs_net_netns_path(s, name);
			m.netns_fd = open(np, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (m.netns_fd < 0) {
				vs_fail_errno(err, "%s", np);
				goto out;
			}
		}
	}
	/* S6 */
	if (style == VS_INIT_SYSV && !o->rescue) {
		_cleanup_free_ char *ib = o->init_bin ? vs_strdup(o->init_bin) : vs_helper_path("vserver-init", "VSERVER_INIT");
		memfd = init_memfd(ib, err);
		if (memfd < 0)
			goto out;
	}
	/* cgroup and network made, PID 1 not yet */
	sr.netns = nsp;
	if (vs_scripts_run(&c, VS_SCRIPT_PRE_START, &sr, err) < 0)
		goto out;
	/* run state directory and console */
	{
		_cleanup_close_ int run = vs_settings_open_rundir(s, err);
		if (run < 0)
			goto out;
		if (mkdirat(run, name, 0700) < 0 && errno != EEXIST) {
			vs_fail_errno(err, "%s/%s", s->rundir, name);
			goto out;
		}
		_cleanup_free_ char *mk = vs_asprintf("%s/%s/stopping", s->rundir, name);
		unlink(mk);
		if (o->rescue) {
			_cleanup_free_ char *rel = vs_asprintf("%s/rescue", name);
			int f = openat(run, rel, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (f >= 0)
				close(f);
		}
	}
	m.style = style;
	m.init_memfd = memfd;
	/* M1 prepared here so that errors reach the caller */
	m.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m.master < 0 || grantpt(m.master) < 0 || unlockpt(m.master) < 0 ||
	    ptsname_r(m.master, m.console, sizeof m.console) != 0) {
		vs_fail_errno(err, "console pty");
		goto out;
	}
	fcntl(m.master, F_SETFL, fcntl(m.master, F_GETFL) | O_NONBLOCK);
	/* user-namespace guest: its console belongs to guest root and the
	 * guest's tty group (5), else its processes cannot open /dev/console */
	if (c.userns && chown(m.console, vs_userns_base(c.context), vs_userns_base(c.context) + 5) < 0) {
		vs_fail_errno(err, "console pty %s", m.console);
		goto out;
	}
	{
		/* raw: the guest's console output is logged as it is */
		struct termios t;
		int sl = open(m.console, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (sl >= 0 && tcgetattr(sl, &t) == 0) {
			t.c_oflag &= ~(tcflag_t)ONLCR;
			tcsetattr(sl, TCSANOW, &t);
		}
		if (sl >= 0)
			close(sl);
	}
	m.log = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (m.log < 0) {
		vs_fail_errno(err, "%s", logp);
		goto out;
	}
	/* S7 */
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		vs_fail_errno(err, "pipe");
		goto out;
	}
	pid_t mon = fork();
	if (mon < 0) {
		vs_fail_errno(err, "fork");
		close(rp[0]);
		close(rp[1]);
		goto out;
	}
	if (mon == 0) {
		close(rp[0]);
		close(lock); /* the lock belongs to the vserver command, not the monitor */
		setsid();
		if (chdir("/") < 0) {
		}
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			close(nul);
		}
		/* detach from the vserver command: the monitor's parent is init */
		pid_t p2 = fork();
		if (p2 < 0)
			_exit(1);
		if (p2 > 0)
			_exit(0);
		_cleanup_free_ char *mb = vs_helper_path("vserver-monitor", "VSERVER_MONITOR");
		int fds[] = { rp[1], m.master, m.log, memfd };
		/* nothing else the vserver command had open reaches the monitor */
		syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		for (size_t i = 0; i < VS_ARRAY_SIZE(fds); i++)
			clear_cloexec(fds[i]);
		vs_strv av = { 0 };
		vs_strv_push(&av, "vserver-monitor");
		vs_strv_push(&av, name);
		vs_strv_push_take(&av, vs_asprintf("%d", style));
		for (size_t i = 0; i < VS_ARRAY_SIZE(fds); i++)
			vs_strv_push_take(&av, vs_asprintf("%d", fds[i]));
		vs_strv_push(&av, m.console);
		vs_strv_push(&av, cgroot);
		if (o->rescue)
			for (char *const *a = pid1_argv(&c, o, VS_INIT_SYSV); *a; a++)
				vs_strv_push(&av, *a);
		extern char **environ;
		execve(mb, av.v, environ);
		/* no static monitor installed: run it from this process */
		monitor_main(&m, rp[1]);
	}
	close(rp[1]);
	waitpid(mon, NULL, 0);
	/* the monitor's report: "OK" once PID 1 runs (else the error), then,
	 * when start waits for the boot, "R[STATUS]" at PID 1's READY=1 */
	char msg[2048];
	ssize_t n = 0, rr;
	while ((rr = read(rp[0], msg + n, sizeof msg - 1 - (size_t)n)) != 0) {
		if (rr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += rr;
		if ((size_t)n >= sizeof msg - 1 || (n >= 2 && !memcmp(msg, "OK", 2)))
			break;
	}
	msg[n > 0 ? n : 0] = 0;
	if (strncmp(msg, "OK", 2) != 0) {
		close(rp[0]);
		vs_fail(err, VS_E_SYSTEM, 0, "guest '%s' failed to start: %s", name, n > 0 ? msg : "the monitor died");
		goto out;
	}
	made_cg = false; /* the monitor owns it now */
	made_net = false;
	mounted_disk = false;
	if (vs_scripts_any(&c, VS_SCRIPT_POST_START)) {
		vs_err e2;
		vs_state_get(s, name, &mine, NULL, &e2);
	}
	vs_lxcfs_notice(s->lxcfs, name, rep); /* no LXCFS: one line, the guest starts anyway */
	const char *sname = o->rescue ? "rescue" : vs_init_style_name(style);
	started = vs_asprintf("vserver '%s' started (context %u, init style %s)", name, c.context, sname);
	if (!waits_for_boot(&c, style, o->rescue)) {
		close(rp[0]);
		goto post_start;
	}
	/* S8: wait for the boot, without the lock (a stop may come meanwhile) */
	close(lock);
	lock = -1;
	int limit_ms = c.boot_timeout * 1000;
	double t0 = vs_now();
	memmove(msg, msg + 2, (size_t)n - 1);
	n -= 2;
	for (;;) {
		if (n > 0)
			break;
		int left = limit_ms - (int)((vs_now() - t0) * 1000);
		struct pollfd pf = { .fd = rp[0], .events = POLLIN };
		int pr = left > 0 ? poll(&pf, 1, left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		rr = read(rp[0], msg, sizeof msg - 1);
		if (rr < 0 && errno == EINTR)
			continue;
		if (rr <= 0) {
			n = -1; /* the monitor ended: the guest stopped */
			break;
		}
		n = rr;
	}
	/* after "R", the end of the report: the monitor is done with it */
	if (n > 0) {
		struct pollfd pf = { .fd = rp[0], .events = POLLIN };
		char b[64];
		while (poll(&pf, 1, 1000) > 0 && read(rp[0], b, sizeof b) > 0) {
		}
	}
	close(rp[0]);
	if (n < 0) {
		/* the report ended without READY=1: the guest stopped, or the
		 * monitor does not wait (a boot-timeout of 0 written meanwhile:
		 * the monitor reads the configuration again) */
		struct vs_state now;
		vs_err e2;
		if (vs_state_get(s, name, &now, NULL, &e2) == 1)
			goto post_start;
		vs_fail(err, VS_E_SYSTEM, 0,
			"guest '%s' stopped during its boot (its console log: %s/%s/console.log)", name, s->rundir, name);
		goto out;
	}
	if (n == 0) {
		free(started);
		started = vs_asprintf("vserver '%s' started (context %u, init style %s); its boot has not finished after "
				      "%d s (apps/init/boot-timeout): see 'vserver %s console'",
				      name, c.context, sname, limit_ms / 1000, name);
		goto post_start;
	}
	msg[n] = 0;
	/* vserver-init's STATUS= is set only when the start command failed */
	if (style == VS_INIT_SYSV && msg[1])
		vs_say(rep, "warning: %s", msg + 1);
post_start:
	/* under the lock again (S8 let it go), and only for the guest
	 * started here: a stop may have come meanwhile */
	if (vs_scripts_any(&c, VS_SCRIPT_POST_START)) {
		struct vs_state now;
		vs_err e2;
		if (lock < 0 && (lock = vs_lock(s, name, LOCK_EX, err)) < 0)
			goto out;
		if (vs_state_get(s, name, &now, NULL, &e2) == 1 && now.monitor == mine.monitor &&
		    now.monitor_start == mine.monitor_start) {
			sr.init = now.init;
			if (vs_scripts_run(&c, VS_SCRIPT_POST_START, &sr, err) < 0) {
				/* rolled back like any failed start: the guest
				 * is stopped (with its stop scriptlets) */
				close(lock);
				lock = -1;
				if (vs_stop(s, name, -1, o->cgroot, rep, &e2) < 0)
					vs_say(rep, "warning: %s", e2.msg);
				vs_err_prefix(err, "guest '%s' stopped again", name);
				goto out;
			}
		}
	}
	vs_say(rep, "%s", started);
	rc = 0;
out:
	if (m.master >= 0)
		close(m.master);
	if (m.log >= 0)
		close(m.log);
	if (rc < 0 && made_cg) {
		vs_err e2;
		vs_cgroup_kill(&cg, 5000, &e2);
		vs_cgroup_destroy(&cg, &e2);
		cleanup_leftovers(s, name, cgroot, rep);
	}
	if (rc < 0 && made_net) {
		vs_err e2;
		vs_net_helper("down", name, cgroot, &e2);
	}
	if (rc < 0 && mounted_disk) {
		vs_err e2; /* a failed start leaves the host as it found it */
		if (vs_disk_umount(c.disk_image, c.vdir, &e2) < 0)
			vs_say(rep, "warning: %s", e2.msg);
	}
	if (m.netns_fd >= 0)
		close(m.netns_fd);
	vs_cgroup_free(&cg);
	if (memfd >= 0)
		close(memfd);
	if (lock >= 0)
		close(lock);
	vs_config_free(&c);
	return rc;
}

/* ---- stop --------------------------------------------------------------------- */

/* Wait until the process (verified by start time) is gone. */
static bool wait_gone(pid_t pid, unsigned long long start, int timeout_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return true;
	if (vs_proc_starttime(pid) != start) {
		close(fd);
		return true;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	close(fd);
	return r > 0;
}

static int signal_verified(pid_t pid, unsigned long long start, int sig)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	int r = -1;
	if (vs_proc_starttime(pid) == start)
		r = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	else
		errno = ESRCH; /* the pid is another process's now */
	close(fd);
	return r;
}

/* A namespace's PID 1 drops every signal it has no handler for, even
 * one from the host.  A stop that comes right after a start or a
 * reboot, before the new init has set up its handlers, would be lost
 * and wait its whole timeout: wait (at most ms) until PID 1 catches or
 * blocks `sig` (a blocked signal waits for it), or, for sig 0, until it
 * catches any signal at all (its init has started: halt can reach it).
 * False when PID 1 is gone or never got ready. */
static bool wait_pid1_ready(pid_t pid, unsigned long long start, int sig, int ms)
{
	for (int waited = 0;; waited += 5) {
		if (vs_proc_starttime(pid) != start)
			return false;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
		_cleanup_free_ char *text = NULL;
		vs_err e;
		unsigned long long blk = 0, cgt = 0;
		if (vs_read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, &e) < 0)
			return false;
		const char *b = strstr(text, "\nSigBlk:"), *c = strstr(text, "\nSigCgt:");
		if (b)
			blk = strtoull(b + 9, NULL, 16);
		if (c)
			cgt = strtoull(c + 9, NULL, 16);
		if (sig ? ((blk | cgt) >> (sig - 1)) & 1 : cgt != 0)
			return true;
		if (waited >= ms)
			return false;
		usleep(5000);
	}
}

/* Is the PID 1 the state named still there?  (If not, a reboot is
 * under way and the monitor ends the new one: see vs_stop.) */
static bool pid1_alive(const struct vs_state *st)
{
	return vs_proc_starttime(st->init) == st->init_start;
}

/* The guest's processes are gone and its monitor is in M5, where the
 * post-stop and postpost-stop scriptlets (no time limit) run: the monitor
 * is waited for, never killed in the middle of them. */
static bool stop_scripts_running(const struct vs_settings *s, const struct vs_config *c, const char *name,
				 const char *cgroot, const vs_report *rep)
{
	if (!vs_scripts_any(c, VS_SCRIPT_POST_STOP) && !vs_scripts_any(c, VS_SCRIPT_POSTPOST_STOP))
		return false;
	if (vs_guest_nprocs(s, name, cgroot) != 0)
		return false;
	vs_say(rep, "vserver '%s': its processes are gone; waiting for its stop scriptlets (no time limit)", name);
	return true;
}

int vs_stop(const struct vs_settings *s, const char *name, int timeout, const char *cgroot_in, const vs_report *rep,
	    vs_err *err)
{
	const char *cgroot = vs_cgroup_root(s, cgroot_in);
	struct vs_config c;
	struct vs_diags d = { 0 };
	bool untrusted = false;
	if (vs_config_load(s, name, &c, &d, err) < 0) {
		vs_diags_free(&d);
		if (err->kind == VS_E_NOGUEST)
			return -1;
		/* a configuration that cannot be used (not owned by root, say)
		 * must not keep a guest running: stop without it, by killing
		 * (its stop command and kill sequence are not to be trusted) */
		vs_say(rep, "warning: %s", err->msg);
		vs_say(rep, "warning: stopping '%s' without its configuration: its processes are killed", name);
		vs_config_free(&c);
		memset(&c, 0, sizeof c);
		c.stop_timeout = -1;
		vs_err_clear(err);
		untrusted = true;
	}
	/* a broken configuration must not prevent a stop; what makes a stop
	 * scriptlet unusable is said, though */
	for (size_t i = 0; i < d.n; i++)
		if (script_diag(&d.d[i]))
			vs_say(rep, "warning: %s: %s", d.d[i].file, d.d[i].msg);
	vs_diags_free(&d);
	if (timeout < 0)
		timeout = c.stop_timeout >= 0 ? c.stop_timeout : 30;
	_cleanup_close_ int lock = vs_lock(s, name, LOCK_EX, err);
	if (lock < 0) {
		vs_config_free(&c);
		return -1;
	}
	/* The marker first, the state (which PID 1 to signal) after it: a
	 * monitor restarting the guest for a reboot in the guest either sees
	 * the marker before it writes the new PID 1 into the state (and
	 * kills that PID 1 itself), or the state read here names it. */
	_cleanup_free_ char *mk = vs_asprintf("%s/%s/stopping", s->rundir, name);
	{
		_cleanup_free_ char *who = vs_asprintf("%d %llu\n", (int)getpid(), vs_proc_starttime(getpid()));
		vs_err e;
		_cleanup_close_ int run = vs_settings_open_rundir(s, &e);
		_cleanup_close_ int gd = run >= 0 ? openat(run, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (gd >= 0)
			vs_write_runtime_file_at(gd, "stopping", who, strlen(who), 0600, &e);
	}
	struct vs_state st;
	int r = vs_state_get(s, name, &st, NULL, err);
	if (r < 0) {
		unlink(mk);
		vs_config_free(&c);
		return -1;
	}
	if (r == 0) {
		cleanup_leftovers(s, name, cgroot, rep);
		vs_say(rep, "vserver '%s' is not running", name);
		vs_config_free(&c);
		return 0;
	}
	int style = c.init.style;
	double t0 = vs_now();
	_cleanup_free_ char *rescue = vs_asprintf("%s/%s/rescue", s->rundir, name);
	bool is_rescue = access(rescue, F_OK) == 0;
	/* the administrator's stop scriptlets (lib/scripts.h); never those of
	 * a configuration that is not trusted.  A failing one is reported,
	 * the stop goes on. */
	_cleanup_free_ char *nsp = c.net.mode == VS_NET_PRIVATE ? vs_net_netns_path(s, name) : NULL;
	struct vs_script_run sr = { .init = st.init, .netns = nsp, .out_fd = -1, .keep_going = true, .locked = true };
	vs_err se;
	/* (post-stop and postpost-stop: the monitor, M5) */
	if (!untrusted && vs_scripts_run(&c, VS_SCRIPT_PRE_STOP, &sr, &se) < 0)
		vs_say(rep, "warning: %s", se.msg);
	/* 1. the style's graceful shutdown (a rescue command has none) */
	int sig = untrusted ? 0 : stop_signal(style);
	if (is_rescue || untrusted) {
		timeout = 0;
	} else if (c.init.cmd_stop.n && style != VS_INIT_SYSV) {
		struct vs_attach_opts ao = { .argv = c.init.cmd_stop.v, .no_lock = true };
		int status;
		vs_err e2;
		/* (a PID 1 gone already: a reboot under way, see below) */
		if (vs_attach(s, name, &ao, &status, &e2) < 0 && pid1_alive(&st))
			vs_say(rep, "warning: stop command failed: %s", e2.msg);
	} else if (sig) {
		/* gone already: the guest is rebooting, and its monitor
		 * ends the new PID 1 when it sees the stop marker (M3) */
		wait_pid1_ready(st.init, st.init_start, sig, 2000);
		if (signal_verified(st.init, st.init_start, sig) < 0 && errno != ESRCH)
			vs_say(rep, "warning: cannot signal the guest's PID 1: %s", strerror(errno));
	} else {
		char *halt[] = { "/sbin/halt", NULL };
		struct vs_attach_opts ao = { .argv = halt, .no_lock = true };
		int status;
		vs_err e2;
		wait_pid1_ready(st.init, st.init_start, 0, 2000);
		int ar = vs_attach(s, name, &ao, &status, &e2);
		if ((ar < 0 || status != 0) && pid1_alive(&st)) {
			/* no halt (an init such as tini or dumb-init, which
			 * pass SIGTERM on to their command): SIGTERM if PID 1
			 * takes it, then the timeout and the kill sequence as
			 * for any style */
			_cleanup_free_ char *why = ar < 0 ? vs_strdup(e2.msg) : vs_asprintf("exit status %d", status);
			if (wait_pid1_ready(st.init, st.init_start, SIGTERM, 2000) &&
			    signal_verified(st.init, st.init_start, SIGTERM) == 0)
				vs_say(rep, "/sbin/halt in the guest failed (%s): sent SIGTERM to its PID 1", why);
			else
				vs_say(rep, "warning: /sbin/halt in the guest failed (%s) and its PID 1 takes no SIGTERM: "
					    "waiting %d s, then killing",
				       why, timeout);
		}
	}
	/* 2. wait for the guest to go down */
	bool down = wait_gone(st.monitor, st.monitor_start, timeout * 1000);
	if (!down && (is_rescue || untrusted)) {
		struct vs_cgroup cg;
		vs_err e2;
		if (vs_cgroup_open(s, cgroot, name, &cg, &e2) == 0) {
			vs_cgroup_kill(&cg, 10000, &e2);
			vs_cgroup_free(&cg);
		}
		down = wait_gone(st.monitor, st.monitor_start, 10000);
	}
	if (!down && !untrusted && stop_scripts_running(s, &c, name, cgroot, rep))
		down = wait_gone(st.monitor, st.monitor_start, -1);
	if (!down) {
		vs_say(rep, "vserver '%s' did not stop within %d s; killing its processes", name, timeout);
		struct vs_cgroup cg;
		vs_err e2;
		if (vs_cgroup_open(s, cgroot, name, &cg, &e2) == 0) {
			/* apps/init/killseq: SIG [WAIT SIG]... */
			for (size_t i = 0; i < c.init.killseq.n && !down; i += 2) {
				int ks = vs_signal_from_name(c.init.killseq.v[i]);
				if (ks <= 0)
					ks = SIGKILL;
				vs_cgroup_signal(&cg, ks, &e2);
				int w = i + 1 < c.init.killseq.n ? atoi(c.init.killseq.v[i + 1]) : 2;
				down = wait_gone(st.monitor, st.monitor_start, w * 1000);
				if (!down && stop_scripts_running(s, &c, name, cgroot, rep))
					down = wait_gone(st.monitor, st.monitor_start, -1);
			}
			if (!down) {
				vs_cgroup_kill(&cg, 10000, &e2);
				down = wait_gone(st.monitor, st.monitor_start, 10000);
			}
			vs_cgroup_free(&cg);
		}
		if (!down && stop_scripts_running(s, &c, name, cgroot, rep))
			down = wait_gone(st.monitor, st.monitor_start, -1);
		if (!down) {
			signal_verified(st.monitor, st.monitor_start, SIGKILL);
			wait_gone(st.monitor, st.monitor_start, 5000);
		}
	}
	/* what the monitor's post-stop and postpost-stop scriptlets reported */
	{
		_cleanup_free_ char *fp = vs_asprintf("%s/%s/scripts.failed", s->rundir, name);
		_cleanup_free_ char *text = NULL;
		vs_err e2;
		if (vs_read_file_at(AT_FDCWD, fp, 1 << 16, &text, NULL, &e2) == 0)
			for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
				vs_say(rep, "warning: %s", l);
	}
	cleanup_leftovers(s, name, cgroot, rep);
	unlink(mk);
	vs_say(rep, "vserver '%s' stopped in %.1f s", name, vs_now() - t0);
	vs_config_free(&c);
	return 0;
}

int vs_guest_nprocs(const struct vs_settings *s, const char *name, const char *cgroot)
{
	struct vs_cgroup cg;
	vs_err e;
	if (vs_cgroup_open(s, vs_cgroup_root(s, cgroot), name, &cg, &e) < 0)
		return -1;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = vs_cgroup_pids(&cg, &pids, &n, &e) == 0 ? (int)n : -1;
	free(pids);
	vs_cgroup_free(&cg);
	return r;
}
