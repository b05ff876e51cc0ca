/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live binds into a running guest (see livemount.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include "config.h"
#include "fstab.h"
#include "livemount.h"
#include "lock.h"
#include "mountapi.h"
#include "mounts.h"
#include "safeio.h"
#include "scripts.h"
#include "state.h"
#include "userns.h"


struct guest {
	struct vs_config c;
	bool have_c;
	int lock, pidfd;
};

static void guest_close(struct guest *g)
{
	if (g->have_c)
		vs_config_free(&g->c);
	if (g->lock >= 0)
		close(g->lock);
	if (g->pidfd >= 0)
		close(g->pidfd);
}

/* The running guest, locked (unless a scriptlet of its start or stop
 * asks: scripts.h), its PID 1 pinned and checked to be the recorded one. */
static int guest_open(const struct vs_settings *s, const char *name, struct guest *g, vs_err *err)
{
	g->lock = g->pidfd = -1;
	struct vs_diags d = { 0 };
	int r = vs_config_load(s, name, &g->c, &d, err);
	vs_diags_free(&d);
	if (r < 0)
		return -1;
	g->have_c = true;
	if (!vs_lock_held_by_caller(name) && (g->lock = vs_lock(s, name, LOCK_EX, err)) < 0)
		return -1;
	struct vs_state st;
	r = vs_state_get(s, name, &st, NULL, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running", name);
	g->pidfd = (int)syscall(SYS_pidfd_open, st.init, 0);
	if (g->pidfd < 0 || vs_proc_starttime(st.init) != st.init_start)
		return vs_fail(err, VS_E_STATE, 0, "vserver '%s' is not running (its PID 1 is gone)", name);
	return 0;
}

/* Run fn in a child that joined the guest's mount namespace (its root
 * and cwd are then the guest root); its error comes back as err. */
static int in_guest_ns(struct guest *g, int (*fn)(void *arg, vs_err *e), void *arg, vs_err *err)
{
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(ep[0]);
		close(ep[1]);
		return vs_fail_errno(err, "fork");
	}
	if (pid == 0) {
		close(ep[0]);
		vs_err e = { 0 };
		/* nothing of this process for the guest to read */
		prctl(PR_SET_DUMPABLE, 0);
		int r = setns(g->pidfd, CLONE_NEWNS) < 0 ? vs_fail_errno(&e, "joining the guest's mount namespace") : 0;
		if (r == 0) {
			vs_safeio_allow_xdev(true);
			r = fn(arg, &e);
		}
		/* the error's kind, then its message */
		char kind = (char)('0' + (e.kind >= 0 && e.kind <= 9 ? e.kind : VS_E_SYSTEM));
		if (r < 0 && (write(ep[1], &kind, 1) < 0 || write(ep[1], e.msg, strlen(e.msg)) < 0)) {
		}
		_exit(r < 0 ? 1 : 0);
	}
	close(ep[1]);
	char msg[sizeof err->msg];
	ssize_t n = 0, k;
	while ((k = read(ep[0], msg + n, sizeof msg - 1 - (size_t)n)) > 0 || (k < 0 && errno == EINTR))
		if (k > 0)
			n += k;
	close(ep[0]);
	msg[n] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return vs_fail_errno(err, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (n < 2)
		return vs_fail(err, VS_E_SYSTEM, 0, "the helper in the guest's mount namespace failed");
	return vs_fail(err, msg[0] - '0', 0, "%s", msg + 1);
}

/* The file systems vserver's own guest mounts are (and their masks
 * live on): nothing is mounted on them, or taken from them, here. */
static bool kernel_fs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) < 0 || vs_mounts_kernel_fs((unsigned long)sf.f_type);
}

/* In the guest's mount namespace, `path` (absolute, normalised: the fstab
 * rules) below its root (the namespace's, after the guest's pivot_root),
 * by the very name the administrator gave: no link on the way is followed
 * (the guest could have made one after the administrator looked), the
 * last component not either, and nothing on one of the kernel file
 * systems vserver sets up.  The directory that holds it in *dirfd. */
static int open_exact(const char *path, int *dirfd, const char **base, vs_err *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vs_fail_errno(err, "the guest root");
	_cleanup_free_ char *dir = vs_strdup(path);
	char *sl = strrchr(dir, '/');
	*base = path + (sl - dir) + 1;
	*sl = 0;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int d = (int)syscall(SYS_openat2, root, *dir ? dir : "/", &how, sizeof how);
	if (d < 0) {
		int e = errno;
		if (e == ELOOP)
			return vs_fail(err, VS_E_INVALID, 0,
				       "%s: a symbolic link on the way in the guest (give the real path, not through a link)",
				       path);
		return vs_fail(err, e == ENOENT || e == ENOTDIR ? VS_E_INVALID : VS_E_SYSTEM, e, "%s in the guest", path);
	}
	if (kernel_fs(d)) {
		close(d);
		return vs_fail(err, VS_E_INVALID, 0, "%s: in one of the file systems vserver sets up itself", path);
	}
	int t = openat(d, *base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t < 0) {
		int e = errno;
		close(d);
		if (e == ENOENT)
			return vs_fail(err, VS_E_INVALID, ENOENT,
				       "%s: not in the guest (make it first: vserver NAME exec mkdir -p %s)", path, path);
		return vs_fail(err, VS_E_SYSTEM, e, "%s in the guest", path);
	}
	if (kernel_fs(t)) {
		close(t);
		close(d);
		return vs_fail(err, VS_E_INVALID, 0, "%s: one of the file systems vserver sets up itself", path);
	}
	*dirfd = d;
	return t;
}

struct attach_arg {
	int tree;
	const char *target;
	bool dir;
};

static int attach_in_guest(void *arg, vs_err *err)
{
	struct attach_arg *a = arg;
	_cleanup_close_ int dir = -1;
	const char *base;
	_cleanup_close_ int t = open_exact(a->target, &dir, &base, err);
	if (t < 0)
		return -1;
	struct stat st;
	if (fstat(t, &st) < 0)
		return vs_fail_errno(err, "%s", a->target);
	if (a->dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return vs_fail(err, VS_E_INVALID, 0, "%s in the guest is %s; the source is a %s", a->target,
			       S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
			       a->dir ? "directory" : "file");
	if (syscall(SYS_move_mount, a->tree, "", t, "", VS_MOVE_MOUNT_F_EMPTY_PATH | VS_MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return vs_fail_errno(err, "mounting on %s in the guest", a->target);
	return 0;
}

int vs_live_mount(const struct vs_settings *s, const char *name, const struct vs_live_mount *m, const vs_report *rep,
		  vs_err *err)
{
	struct vs_fstab_entry e;
	if (vs_fstab_bind_entry(m->source, m->target, m->readonly, m->recursive, &e, err) < 0)
		return -1;
	int rc = -1;
	struct guest g = { .lock = -1, .pidfd = -1 };
	_cleanup_close_ int sfd = -1, tree = -1, share = -1;
	if (vs_mounts_base_target(e.target)) {
		vs_fail(err, VS_E_INVALID, 0, "%s is one of the mounts vserver makes itself", e.target);
		goto out;
	}
	if (guest_open(s, name, &g, err) < 0)
		goto out;
	struct stat st;
	sfd = open(e.source, O_PATH | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0) {
		vs_fail(err, errno == ENOENT ? VS_E_INVALID : VS_E_SYSTEM, errno, "source %s", e.source);
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		vs_fail(err, VS_E_INVALID, 0, "source %s is neither a directory nor a regular file", e.source);
		goto out;
	}
	if (vs_mounts_bind_object_ok(sfd, e.source, err) < 0)
		goto out;
	unsigned rec = m->recursive ? VS_AT_RECURSIVE : 0;
	if (g.c.userns) {
		/* as for the guest's fstab binds (lib/userns.h) */
		share = vs_userns_create(vs_userns_base(g.c.context), VS_USERNS_SHARE, err);
		if (share < 0)
			goto out;
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", sfd);
		tree = vs_userns_idmapped_tree(p, m->recursive, share, err);
		if (tree < 0)
			goto out;
	} else {
		/* PR-04, as at every start for the fstab's binds (a read-only
		 * bind is read-only here with everything below it) */
		_cleanup_free_ char *why = NULL;
		bool mknod = vs_config_bounding_set(&g.c) & (UINT64_C(1) << CAP_MKNOD);
		int r = m->readonly ? 1 : vs_mounts_bind_safe(&e, sfd, mknod, &why, err);
		if (r <= 0) {
			if (r == 0)
				vs_fail(err, VS_E_INVALID, 0, "%s", why);
			goto out;
		}
		tree = (int)syscall(SYS_open_tree, sfd, "", VS_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | rec);
		if (tree < 0) {
			vs_fail_errno(err, "%s: cloning the mount", e.source);
			goto out;
		}
	}
	struct vs_mount_attr attr = { .attr_set = VS_MOUNT_ATTR_NOSUID | VS_MOUNT_ATTR_NODEV | (m->readonly ? VS_MOUNT_ATTR_RDONLY : 0) };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | VS_AT_RECURSIVE, &attr, sizeof attr) < 0) {
		vs_fail_errno(err, "%s: setting nosuid, nodev%s", e.source, m->readonly ? ", ro" : "");
		goto out;
	}
	struct attach_arg a = { .tree = tree, .target = e.target, .dir = S_ISDIR(st.st_mode) };
	if (in_guest_ns(&g, attach_in_guest, &a, err) < 0)
		goto out;
	vs_say(rep, "mounted %s on %s in guest '%s'%s%s (until it stops; its fstab keeps a bind)", e.source, e.target,
	       name, m->readonly ? ", read-only" : "", m->recursive ? ", with the mounts below it" : "");
	rc = 0;
out:
	guest_close(&g);
	vs_fstab_entry_free(&e);
	return rc;
}

static int detach_in_guest(void *arg, vs_err *err)
{
	const char *target = arg;
	const char *base;
	_cleanup_close_ int dir = -1;
	_cleanup_close_ int t = open_exact(target, &dir, &base, err);
	if (t < 0)
		return -1;
	if (!vs_fstab_is_mount_root(t))
		return vs_fail(err, VS_E_INVALID, 0, "%s is not a mount point in the guest", target);
	/* by its name in the directory held open: nothing the guest
	 * renames meanwhile takes us elsewhere */
	if (fchdir(dir) < 0 || umount2(base, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
		return vs_fail_errno(err, "unmounting %s in the guest", target);
	return 0;
}

int vs_live_umount(const struct vs_settings *s, const char *name, const char *target, const vs_report *rep,
		   vs_err *err)
{
	struct vs_fstab_entry e;
	/* the target's rules are the fstab's */
	if (vs_fstab_bind_entry("/nonexistent", target, false, false, &e, err) < 0)
		return -1;
	int rc = -1;
	struct guest g = { .lock = -1, .pidfd = -1 };
	if (vs_mounts_base_target(e.target)) {
		vs_fail(err, VS_E_INVALID, 0, "%s is one of the mounts vserver makes itself", e.target);
		goto out;
	}
	if (guest_open(s, name, &g, err) < 0 || in_guest_ns(&g, detach_in_guest, e.target, err) < 0)
		goto out;
	vs_say(rep, "unmounted %s in guest '%s'", e.target, name);
	rc = 0;
out:
	guest_close(&g);
	vs_fstab_entry_free(&e);
	return rc;
}
