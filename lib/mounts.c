/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mounts.h"
#include "lxcfs.h"
#include "safeio.h"
#include "userns.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>

/* Mounts vserver makes itself, in this order. */
static const struct vmount {
	const char *target, *type, *source, *data;
	unsigned long flags;
	mode_t mode;
} base_mounts[] = {
	{ "proc", "proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555 },
	{ "sys", "sysfs", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 0555 },
	{ "dev", "tmpfs", "tmpfs", "mode=755,size=65536k", MS_NOSUID | MS_NOEXEC, 0755 },
	{ "dev/pts", "devpts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5,max=1024", MS_NOSUID | MS_NOEXEC, 0755 },
	{ "dev/shm", "tmpfs", "shm", "mode=1777,size=50%", MS_NOSUID | MS_NODEV, 01777 },
	{ "dev/mqueue", "mqueue", "mqueue", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0755 },
	{ "run", "tmpfs", "tmpfs", "mode=755,size=20%", MS_NOSUID | MS_NODEV, 0755 },
	{ "run/lock", "tmpfs", "tmpfs", "mode=1777,size=5m", MS_NOSUID | MS_NODEV | MS_NOEXEC, 01777 },
};

/* Device nodes in the guest's /dev (the device policy allows exactly
 * these, plus the devpts ptys). */
static const struct vdev {
	const char *name;
	unsigned maj, min;
} dev_nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const char *const dev_links[][2] = {
	{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" }, { "core", "/proc/kcore" },
};

/* /proc files hidden (bound to /dev/null) and directories hidden (an
 * empty read-only tmpfs), as the peers do.  Not /proc/kmsg: a reader of
 * /dev/null gets end-of-file at once, and rsyslog's imklog (in every
 * Debian guest with rsyslog) then read it in a loop at 100% CPU; opening
 * /proc/kmsg needs CAP_SYSLOG, which no guest can hold (vs_cap_forbidden,
 * and a user namespace's counts nothing there): EPERM, as under LXC. */
static const char *const proc_masked_files[] = {
	"proc/kcore", "proc/keys", "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/latency_stats",
	"proc/sysrq-trigger", "proc/kpagecount", "proc/kpageflags", "proc/kpagecgroup", "proc/config.gz",
	"proc/kallsyms", "proc/interrupts",
};
static const char *const proc_masked_dirs[] = {
	"proc/acpi", "proc/scsi", "proc/asound", "proc/driver/rtc", "sys/firmware", "sys/devices/virtual/powercap",
	"sys/kernel/security", "sys/kernel/debug", "sys/kernel/tracing",
};
/* /proc paths made read-only. */
static const char *const proc_readonly[] = { "proc/sys", "proc/irq", "proc/bus", "proc/fs", "proc/apm",
					     "proc/pressure" };
/* Under a read-only path above, what stays writable when the guest has
 * its own network namespace (net modes none and private): the net.*
 * sysctls belong to the namespace of the process that opens them, so
 * there they change only the guest's stack.  With the host's stack
 * (isolated, host) they would change the host's: read-only then. */
static const char *const proc_own_netns_rw[] = { "proc/sys/net" };

static int fd_path(int fd, char *buf, size_t len)
{
	return snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Resolve target inside the root; create it (dir or file) if missing. */
static int target_fd(int rootfd, const char *target, bool dir, mode_t mode, vs_err *err)
{
	int fd = vs_openat_in_root(rootfd, target, O_PATH | O_NOFOLLOW, 0, err);
	if (fd < 0 && err->errnum == ENOENT) {
		const char *base;
		_cleanup_close_ int pfd = vs_open_parent_in_root(rootfd, target, true, &base, err);
		if (pfd < 0)
			return -1;
		if (dir) {
			if (mkdirat(pfd, base, mode) < 0 && errno != EEXIST)
				return vs_fail_errno(err, "guest %s: mkdir", target);
		} else {
			int f = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (f < 0 && errno != EEXIST)
				return vs_fail_errno(err, "guest %s: create", target);
			if (f >= 0)
				close(f);
		}
		fd = vs_openat_in_root(rootfd, target, O_PATH | O_NOFOLLOW, 0, err);
	}
	if (fd < 0)
		return vs_err_prefix(err, "mount target");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return vs_fail_errno(err, "guest %s", target);
	}
	if (S_ISLNK(st.st_mode) || (dir && !S_ISDIR(st.st_mode)) || (!dir && S_ISDIR(st.st_mode))) {
		close(fd);
		return vs_fail(err, VS_E_INVALID, 0, "mount target %s in the guest is %s, expected a %s", target,
			       S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
			       dir ? "directory" : "file");
	}
	return fd;
}

static int mount_at(const char *src, int tfd, const char *type, unsigned long flags, const char *data,
		    const char *what, vs_err *err)
{
	char p[64];
	fd_path(tfd, p, sizeof p);
	if (mount(src, p, type, flags, data) < 0)
		return vs_fail_errno(err, "mount %s on guest %s", type ? type : src, what);
	return 0;
}

/* Remount a bind mount read-only (and nosuid,nodev). */
static int remount_ro(int tfd, const char *what, unsigned long extra, vs_err *err)
{
	char p[64];
	fd_path(tfd, p, sizeof p);
	/* the fd points at the mounted-over dentry? reopen to get the top */
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL) < 0)
		return vs_fail_errno(err, "read-only remount of guest %s", what);
	return 0;
}

static int reopen(int rootfd, const char *target, bool dir, vs_err *err)
{
	return target_fd(rootfd, target, dir, 0755, err);
}

/* util-vserver's default fstab mounts /proc and /dev/pts itself: vserver
 * always makes these (with the masks and read-only paths), so fstab
 * lines for them are accepted and ignored. */
static bool base_target(const char *target)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(base_mounts); i++)
		if (!strcmp(target + 1, base_mounts[i].target))
			return true;
	return false;
}

/* An option of an fstab entry, as a whole word. */
static bool has_option(const struct vs_fstab_entry *e, const char *opt)
{
	_cleanup_free_ char *copy = vs_strdup(e->options);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
		if (!strcmp(o, opt))
			return true;
	return false;
}

/* The directory above a bind source `sfd`, where the barrier walk
 * starts: not the source itself, whose mode guest root changes at will
 * through the writable bind.  A directory's parent is its "..".  A
 * file's is the directory its (resolved) name lies in, but only if that
 * still holds this very file (else -1 with errno ENOENT: no barrier can
 * be told). */
static int source_parent(int sfd, const struct stat *sst)
{
	if (S_ISDIR(sst->st_mode))
		return openat(sfd, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char link[64], dir[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", sfd);
	ssize_t n = readlink(link, dir, sizeof dir - 1);
	if (n <= 0 || dir[0] != '/') {
		errno = ENOENT;
		return -1;
	}
	dir[n] = 0;
	char *slash = strrchr(dir, '/');
	const char *base = slash + 1;
	*slash = 0;
	int pfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (pfd >= 0 && (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != sst->st_dev ||
			 st.st_ino != sst->st_ino)) {
		close(pfd);
		errno = ENOENT;
		return -1;
	}
	return pfd;
}

/* Are all the mounts below the (opened) source `sfd` mounted with the
 * options of `want` (ST_NOSUID, ST_NODEV)?  An rbind takes them along,
 * and nosuid on the source's own mount does not cover them. */
static bool submounts_have(int sfd, unsigned long want)
{
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", sfd);
	ssize_t n = readlink(link, real, sizeof real - 1);
	if (n <= 0)
		return false;
	real[n] = 0;
	size_t rl = strcmp(real, "/") ? (size_t)n : 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX], opts[1024];
		if (sscanf(line, "%*d %*d %*u:%*u %*s %4095s %1023s", mp, opts) != 2)
			continue;
		/* mountinfo escapes blanks, tabs, newlines and backslashes as \NNN */
		char *o = mp;
		for (const char *p = mp; *p; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
			    p[3] <= '7') {
				*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else
				*o++ = *p;
		}
		*o = 0;
		if (strncmp(mp, real, rl) || mp[rl] != '/' || !mp[rl + 1])
			continue;
		_cleanup_free_ char *ol = vs_asprintf(",%s,", opts);
		if (((want & ST_NOSUID) && !strstr(ol, ",nosuid,")) || ((want & ST_NODEV) && !strstr(ol, ",nodev,")))
			ok = false;
	}
	free(line);
	return ok;
}

/* PR-04: may host users run what guest root leaves in the bind source
 * `sfd` of `e`?  1: no (nosuid, and nodev when the guest has MKNOD, or a
 * barrier above it on its own mount), 0: yes, with the message in *why
 * (malloc'd), -1: err set.  Read-only binds are safe, except recursive
 * ones: the read-only remount covers the top mount only. */
static int bind_source_safe(const struct vs_fstab_entry *e, int sfd, bool mknod, char **why, vs_err *err)
{
	*why = NULL;
	if (e->readonly && !has_option(e, "rbind"))
		return 1;
	struct stat st;
	struct statvfs sv;
	if (fstat(sfd, &st) < 0 || fstatvfs(sfd, &sv) < 0)
		return vs_fail_errno(err, "bind source %s", e->source);
	/* (nosuid on the source's mount does not cover the mounts below an
	 * rbind source: they must have it too, else a barrier is needed) */
	unsigned long want = ST_NOSUID | (mknod ? ST_NODEV : 0);
	if ((sv.f_flag & want) == want && (!has_option(e, "rbind") || submounts_have(sfd, want)))
		return 1;
	_cleanup_close_ int pfd = vs_fstab_is_mount_root(sfd) ? -1 : source_parent(sfd, &st);
	int r = pfd < 0 ? 0 : vs_fstab_behind_barrier(pfd, err);
	if (r != 0)
		return r < 0 ? vs_err_prefix(err, "bind source %s", e->source) : 1;
	const char *missing = "nodev";
	if (!(sv.f_flag & ST_NOSUID))
		missing = mknod && !(sv.f_flag & ST_NODEV) ? "nosuid,nodev" : "nosuid";
	*why = vs_asprintf("%s of %s: host users could run the setuid programs%s that guest root (host root in this "
			   "guest) leaves there, since its filesystem is not mounted %s on the host and no parent "
			   "directory on its mount is root-owned without search permission for others; mount %s's "
			   "filesystem nosuid (and nodev), make a parent directory root-owned mode 0700, or use a "
			   "user-namespace guest (userns)",
			   e->readonly ? "recursive bind (ro covers only its top mount)" : "read-write bind", e->source,
			   mknod ? " and device nodes" : "", missing, e->source);
	return 0;
}

/* An error of entry e, prefixed with its fstab line (line 0: an entry
 * vserver made itself, sdguest.h) */
static int entry_fail(const struct vs_fstab_entry *e, vs_err *err)
{
	return e->line > 0 ? vs_err_prefix(err, "fstab line %d", e->line) : -1;
}

/* `mknod`: the guest has CAP_MKNOD (PR-04 asks for nodev then); `u`
 * NULL: a privileged guest, whose read-write binds are checked here, on
 * the very source that is bound, at every start and reboot */
static int mount_fstab(int rootfd, const struct vs_fstab *f, const struct vs_mounts_userns *u, bool mknod,
		       vs_err *err)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct vs_fstab_entry *e = &f->e[i];
		if (base_target(e->target))
			continue;
		struct stat st;
		bool dir = true;
		_cleanup_close_ int sfd = -1;
		char src[64] = "";
		if (e->bind) {
			sfd = open(e->source, O_PATH | O_CLOEXEC);
			if (sfd < 0 || fstat(sfd, &st) < 0)
				return vs_fail_errno(err, "fstab line %d: bind source %s", e->line, e->source);
			/* what the name leads to, links and "." included */
			if (vs_mounts_bind_object_ok(sfd, e->source, err) < 0)
				return entry_fail(e, err);
			dir = S_ISDIR(st.st_mode);
			fd_path(sfd, src, sizeof src);
			_cleanup_free_ char *why = NULL;
			int r = u ? 1 : bind_source_safe(e, sfd, mknod, &why, err);
			if (r <= 0)
				return r < 0 ? entry_fail(e, err)
					     : vs_fail(err, VS_E_INVALID, 0, "fstab line %d: %s", e->line, why);
		}
		_cleanup_close_ int t = target_fd(rootfd, e->target, dir, 0755, err);
		if (t < 0)
			return entry_fail(e, err);
		unsigned long flags = MS_NOSUID | MS_NODEV;
		/* translate the options we allow */
		_cleanup_free_ char *copy = vs_strdup(e->options);
		_cleanup_free_ char *data = vs_xmalloc0(strlen(e->options) + 1);
		bool rec = false;
		char *save = NULL;
		for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			if (!strcmp(o, "ro"))
				flags |= MS_RDONLY;
			else if (!strcmp(o, "noexec"))
				flags |= MS_NOEXEC;
			else if (!strcmp(o, "noatime"))
				flags |= MS_NOATIME;
			else if (!strcmp(o, "nodiratime"))
				flags |= MS_NODIRATIME;
			else if (!strcmp(o, "relatime"))
				flags |= MS_RELATIME;
			else if (!strcmp(o, "strictatime"))
				flags |= MS_STRICTATIME;
			else if (!strcmp(o, "sync"))
				flags |= MS_SYNCHRONOUS;
			else if (!strcmp(o, "dirsync"))
				flags |= MS_DIRSYNC;
			else if (!strcmp(o, "rbind"))
				rec = true;
			else if (strchr(o, '=') || !strcmp(o, "newinstance")) {
				if (*data)
					strcat(data, ",");
				strcat(data, o);
			}
		}
		if (e->bind && u) {
			/* user-namespace guest: an id-mapped bind (guest root is
			 * host uid BASE there, guest users are host users) */
			_cleanup_close_ int tree = vs_userns_idmapped_tree(e->source, rec, u->share_fd, err);
			if (tree < 0 || vs_userns_attach(tree, t, e->target, err) < 0)
				return entry_fail(e, err);
		} else if (e->bind && mount_at(src, t, NULL, MS_BIND | (rec ? MS_REC : 0), NULL, e->target, err) < 0)
			return entry_fail(e, err);
		if (e->bind) {
			close(t);
			t = reopen(rootfd, e->target, dir, err);
			if (t < 0)
				return -1;
			char p[64];
			fd_path(t, p, sizeof p);
			if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
				return vs_fail_errno(err, "fstab line %d: remount of %s", e->line, e->target);
		} else {
			const char *type = strcmp(e->type, "none") ? e->type : "tmpfs";
			if (mount_at(e->source, t, type, flags, *data ? data : NULL, e->target, err) < 0)
				return entry_fail(e, err);
		}
	}
	return 0;
}

static void check_binds(const struct vs_fstab *f, const char *file, bool mknod, struct vs_diags *d)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct vs_fstab_entry *e = &f->e[i];
		/* lines for vserver's own mounts are ignored (mount_fstab) */
		if (!e->bind || base_target(e->target))
			continue;
		_cleanup_close_ int sfd = open(e->source, O_PATH | O_CLOEXEC);
		if (sfd < 0) {
			vs_diags_add(d, file, e->line, "bind source %s: %s", e->source, strerror(errno));
			continue;
		}
		_cleanup_free_ char *why = NULL;
		vs_err err;
		int r = bind_source_safe(e, sfd, mknod, &why, &err);
		if (r <= 0)
			vs_diags_add(d, file, e->line, "%s", r < 0 ? err.msg : why);
	}
}

int vs_mounts_bind_object_ok(int sfd, const char *source, vs_err *err)
{
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", sfd);
	ssize_t n = readlink(link, real, sizeof real - 1);
	struct stat st, root;
	struct statfs sf;
	if (n <= 0 || fstat(sfd, &st) < 0 || fstatfs(sfd, &sf) < 0 || stat("/", &root) < 0)
		return vs_fail_errno(err, "bind source %s", source);
	real[n] = 0;
	if (st.st_dev == root.st_dev && st.st_ino == root.st_ino)
		return vs_fail(err, VS_E_INVALID, 0, "bind source %s is the host's root directory (not allowed)", source);
	static const char *const host_fs[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(host_fs); i++) {
		size_t l = strlen(host_fs[i]);
		if (!strncmp(real, host_fs[i], l) && (real[l] == 0 || real[l] == '/'))
			return vs_fail(err, VS_E_INVALID, 0, "bind source %s is the host's %s (%s; not allowed)", source,
				       host_fs[i], real);
	}
	if (vs_mounts_kernel_fs(sf.f_type))
		return vs_fail(err, VS_E_INVALID, 0, "bind source %s is on a kernel file system of the host (%s; not allowed)",
			       source, real);
	return 0;
}

bool vs_mounts_kernel_fs(unsigned long f_type)
{
	static const unsigned long types[] = {
		0x9fa0,     /* proc */
		0x62656572, /* sysfs */
		0x1cd1,     /* devpts */
		0x19800202, /* mqueue */
		0x27e0eb,   /* cgroup */
		0x63677270, /* cgroup2 */
		0x73636673, /* securityfs */
		0x64626720, /* debugfs */
		0x74726163, /* tracefs */
		0xcafe4a11, /* bpf */
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(types); i++)
		if (f_type == types[i])
			return true;
	return false;
}

bool vs_mounts_base_target(const char *target)
{
	return base_target(target);
}

int vs_mounts_bind_safe(const struct vs_fstab_entry *e, int sfd, bool mknod, char **why, vs_err *err)
{
	return bind_source_safe(e, sfd, mknod, why, err);
}

void vs_mounts_check_host(const struct vs_config *c, struct vs_diags *diags)
{
	/* user-namespace guests: guest root is host uid BASE, its setuid
	 * programs are BASE's on the host */
	if (c->userns)
		return;
	bool mknod = vs_config_bounding_set(c) & (UINT64_C(1) << CAP_MKNOD);
	check_binds(&c->fstab, "fstab", mknod, diags);
	check_binds(&c->fstab_remote, "fstab.remote", mknod, diags);
}

static int setup_dev(int rootfd, const struct vs_config *c, const char *console_path, vs_err *err)
{
	_cleanup_close_ int dfd = vs_openat_in_root(rootfd, "dev", O_RDONLY | O_DIRECTORY, 0, err);
	if (dfd < 0)
		return -1;
	for (size_t i = 0; i < VS_ARRAY_SIZE(dev_nodes); i++) {
		if (mknodat(dfd, dev_nodes[i].name, S_IFCHR | 0666, makedev(dev_nodes[i].maj, dev_nodes[i].min)) < 0)
			return vs_fail_errno(err, "guest /dev/%s", dev_nodes[i].name);
		fchmodat(dfd, dev_nodes[i].name, 0666, 0);
	}
	/* net/tun: the guest makes its own tun and tap devices, in its own
	 * network namespace (the device policy allows 10:200 then) */
	if (c->net.tun) {
		if (mkdirat(dfd, "net", 0755) < 0)
			return vs_fail_errno(err, "guest /dev/net");
		_cleanup_close_ int nfd = openat(dfd, "net", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 || mknodat(nfd, "tun", S_IFCHR | 0666, makedev(10, 200)) < 0 ||
		    fchmodat(nfd, "tun", 0666, 0) < 0)
			return vs_fail_errno(err, "guest /dev/net/tun");
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i][1], dfd, dev_links[i][0]) < 0)
			return vs_fail_errno(err, "guest /dev/%s", dev_links[i][0]);
	if (console_path) {
		int f = openat(dfd, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0)
			return vs_fail_errno(err, "guest /dev/console");
		close(f);
		_cleanup_close_ int t = openat(dfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0 || mount_at(console_path, t, NULL, MS_BIND, NULL, "/dev/console", err) < 0)
			return t < 0 ? vs_fail_errno(err, "guest /dev/console") : -1;
	}
	return 0;
}

/* Masks and read-only binds of the entries under `under` ("proc/" or
 * "sys/"). */
static int mask_and_protect(int rootfd, const char *under, vs_err *err)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(proc_masked_files); i++) {
		vs_err e;
		if (!vs_str_startswith(proc_masked_files[i], under))
			continue;
		int t = vs_openat_in_root(rootfd, proc_masked_files[i], O_PATH | O_NOFOLLOW, 0, &e);
		if (t < 0)
			continue; /* not on this kernel */
		int r = mount_at("/dev/null", t, NULL, MS_BIND, NULL, proc_masked_files[i], err);
		close(t);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(proc_masked_dirs); i++) {
		vs_err e;
		if (!vs_str_startswith(proc_masked_dirs[i], under))
			continue;
		int t = vs_openat_in_root(rootfd, proc_masked_dirs[i], O_PATH | O_NOFOLLOW | O_DIRECTORY, 0, &e);
		if (t < 0)
			continue;
		int r = mount_at("tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0", proc_masked_dirs[i], err);
		close(t);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(proc_readonly); i++) {
		vs_err e;
		if (!vs_str_startswith(proc_readonly[i], under))
			continue;
		int t = vs_openat_in_root(rootfd, proc_readonly[i], O_PATH | O_NOFOLLOW | O_DIRECTORY, 0, &e);
		if (t < 0)
			continue;
		char self[64];
		fd_path(t, self, sizeof self);
		int r = mount_at(self, t, NULL, MS_BIND | MS_REC, NULL, proc_readonly[i], err);
		close(t);
		if (r < 0)
			return -1;
		t = vs_openat_in_root(rootfd, proc_readonly[i], O_PATH | O_NOFOLLOW | O_DIRECTORY, 0, err);
		if (t < 0)
			return -1;
		r = remount_ro(t, proc_readonly[i], MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
		close(t);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* proc_own_netns_rw: bind each from the writable /proc mount (fds opened
 * before the read-only binds covered them) onto itself. */
static int writable_again(int rootfd, const int *fds, vs_err *err)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(proc_own_netns_rw); i++) {
		if (fds[i] < 0)
			continue;
		char src[64];
		fd_path(fds[i], src, sizeof src);
		const int how = O_PATH | O_NOFOLLOW | O_DIRECTORY;
		_cleanup_close_ int t = vs_openat_in_root(rootfd, proc_own_netns_rw[i], how, 0, err);
		if (t < 0 || mount_at(src, t, NULL, MS_BIND, NULL, proc_own_netns_rw[i], err) < 0)
			return -1;
	}
	return 0;
}

/* Masks and read-only binds of the entries under `under` ("proc/" or
 * "sys/"), right after that file system is mounted; with own_netns, the
 * paths of proc_own_netns_rw stay writable. */
static int mask_paths(int rootfd, const char *under, bool own_netns, vs_err *err)
{
	int rw[VS_ARRAY_SIZE(proc_own_netns_rw)];
	for (size_t i = 0; i < VS_ARRAY_SIZE(rw); i++) {
		vs_err e;
		rw[i] = -1;
		if (own_netns && vs_str_startswith(proc_own_netns_rw[i], under))
			rw[i] = vs_openat_in_root(rootfd, proc_own_netns_rw[i], O_PATH | O_NOFOLLOW | O_DIRECTORY, 0,
						  &e);
	}
	int rc = mask_and_protect(rootfd, under, err);
	if (rc == 0)
		rc = writable_again(rootfd, rw, err);
	for (size_t i = 0; i < VS_ARRAY_SIZE(rw); i++)
		if (rw[i] >= 0)
			close(rw[i]);
	return rc;
}

/* Every start of a guest is a new boot: a fresh random boot id over
 * /proc/sys/kernel/random/boot_id (otherwise all boots of all guests
 * share the host's, and `journalctl -b -1` cannot tell them apart). */
static int boot_id(int rootfd, vs_err *err)
{
	unsigned char u[16];
	if (getrandom(u, sizeof u, 0) != sizeof u)
		return vs_fail_errno(err, "getrandom");
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* variant 1 */
	char id[40];
	snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	_cleanup_close_ int dfd = vs_openat_in_root(rootfd, "dev", O_RDONLY | O_DIRECTORY, 0, err);
	if (dfd < 0)
		return -1;
	int f = openat(dfd, ".boot_id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (f < 0)
		return vs_fail_errno(err, "guest /dev/.boot_id");
	bool ok = write(f, id, strlen(id)) == (ssize_t)strlen(id);
	close(f);
	if (!ok)
		return vs_fail_errno(err, "guest /dev/.boot_id");
	vs_err e;
	_cleanup_close_ int t = vs_openat_in_root(rootfd, "proc/sys/kernel/random/boot_id", O_PATH | O_NOFOLLOW, 0, &e);
	_cleanup_close_ int src = openat(dfd, ".boot_id", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t >= 0 && src >= 0) {
		char sp[64];
		fd_path(src, sp, sizeof sp);
		if (mount_at(sp, t, NULL, MS_BIND, NULL, "/proc/sys/kernel/random/boot_id", err) < 0)
			return -1;
		_cleanup_close_ int top = vs_openat_in_root(rootfd, "proc/sys/kernel/random/boot_id", O_PATH | O_NOFOLLOW, 0, err);
		if (top < 0 || remount_ro(top, "/proc/sys/kernel/random/boot_id", MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
			return -1;
	}
	unlinkat(dfd, ".boot_id", 0);
	return 0;
}

int vs_mounts_setup(int rootfd, const struct vs_config *c, const char *console_path, const struct vs_mounts_userns *u,
		    vs_err *err)
{
	/* 1. the guest's own fstab first (so /proc etc. below are on top of
	 *    anything it mounted at those places) */
	bool mknod = vs_config_bounding_set(c) & (UINT64_C(1) << CAP_MKNOD);
	if (mount_fstab(rootfd, &c->fstab, u, mknod, err) < 0 || mount_fstab(rootfd, &c->fstab_remote, u, mknod, err) < 0)
		return -1;
	/* 2. the base mounts */
	bool own_netns = c->net.mode == VS_NET_NONE || c->net.mode == VS_NET_PRIVATE;
	for (size_t i = 0; i < VS_ARRAY_SIZE(base_mounts); i++) {
		const struct vmount *m = &base_mounts[i];
		_cleanup_close_ int t = target_fd(rootfd, m->target, true, m->mode, err);
		if (t < 0)
			return -1;
		/* user-namespace guest: the guest's tty group 5 is host gid BASE+5 */
		_cleanup_free_ char *data = u && !strcmp(m->type, "devpts")
						    ? vs_asprintf("newinstance,ptmxmode=0666,mode=0620,gid=%u,max=1024", u->base + 5)
						    : NULL;
		if (mount_at(m->source, t, m->type, m->flags, data ? data : m->data, m->target, err) < 0)
			return -1;
		if (!strcmp(m->target, "proc") && mask_paths(rootfd, "proc/", own_netns, err) < 0)
			return -1;
		if (!strcmp(m->target, "sys") && mask_paths(rootfd, "sys/", own_netns, err) < 0)
			return -1;
		if (!strcmp(m->target, "dev") && (setup_dev(rootfd, c, console_path, err) < 0 || boot_id(rootfd, err) < 0))
			return -1;
	}
	/* 3. LXCFS's figures of this guest over /proc/meminfo etc. and
	 *    /sys/devices/system/cpu/online, now that both are masked */
	return vs_lxcfs_bind_configured(rootfd, err);
}

int vs_mounts_extra(int rootfd, const struct vs_fstab *f, const struct vs_config *c, const struct vs_mounts_userns *u,
		    vs_err *err)
{
	return mount_fstab(rootfd, f, u, vs_config_bounding_set(c) & (UINT64_C(1) << CAP_MKNOD), err);
}

int vs_mounts_pivot(int rootfd, vs_err *err)
{
	if (fchdir(rootfd) < 0)
		return vs_fail_errno(err, "chdir to the guest root");
	/* pivot_root(".", "."): the old root ends up stacked on top of the
	 * new one and is detached right away (no put_old directory in the
	 * guest tree) */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return vs_fail_errno(err, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return vs_fail_errno(err, "detach the old root");
	if (chdir("/") < 0)
		return vs_fail_errno(err, "chdir /");
	return 0;
}
