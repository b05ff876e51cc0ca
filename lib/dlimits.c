/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk limits on project quotas (dlimits.h). */
#include "dlimits.h"
#include "disk.h"
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/quota.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

/* Directory levels the tagger descends: each level holds a directory fd,
 * and a hostile tree may nest deeper than the fd limit.  Deeper entries
 * are counted as skipped (what the guest creates there inherits the id
 * from its PROJINHERIT parent anyway). */
#define VS_DLIMITS_MAX_DEPTH 400

/* ---- configuration ------------------------------------------------------ */

void vs_dlimits_free(struct vs_dlimits *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->e[i].id);
		free(d->e[i].directory);
	}
	free(d->e);
	d->e = NULL;
	d->n = 0;
}

static struct vs_dlimit *entry(struct vs_dlimits *d, const char *id, size_t idlen)
{
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->e[i].id) == idlen && !strncmp(d->e[i].id, id, idlen))
			return &d->e[i];
	struct vs_dlimit *n = realloc(d->e, (d->n + 1) * sizeof *n);
	if (!n)
		abort();
	d->e = n;
	struct vs_dlimit *x = &d->e[d->n++];
	memset(x, 0, sizeof *x);
	x->id = strndup(id, idlen);
	if (!x->id)
		abort();
	return x;
}

static int fail_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_why(char **why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		abort();
	va_end(ap);
	return -1;
}

static int parse_total(const char *v, uint64_t max, const char *what, uint64_t *out, char **why)
{
	uint64_t n;
	_cleanup_free_ char *shown = vs_escape(v);
	if (vs_parse_u64(v, &n) < 0)
		return fail_why(why, "%s '%s' is not allowed: a decimal number 1..%llu without sign, spaces, suffix or "
				"leading zeros", what, shown, (unsigned long long)max);
	if (n == 0)
		return fail_why(why, "%s 0 is not allowed: 1..%llu (to turn the entry off, create the file disabled)",
				what, (unsigned long long)max);
	if (n > max)
		return fail_why(why, "%s '%s' is too large: at most %llu", what, shown, (unsigned long long)max);
	*out = n;
	return 0;
}

int vs_dlimit_set(struct vs_dlimits *d, const char *rel, const char *value, char **why)
{
	*why = NULL;
	if (!vs_str_startswith(rel, "dlimits/"))
		return fail_why(why, "not a dlimits file");
	const char *id = rel + strlen("dlimits/");
	const char *slash = strchr(id, '/');
	if (!slash || slash == id || strchr(slash + 1, '/'))
		return fail_why(why, "expected dlimits/NAME/FILE");
	for (const char *p = id; p < slash; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			return fail_why(why, "entry name is not allowed (letters, digits, '.', '_', '-')");
	if (slash - id > 64)
		return fail_why(why, "entry name is longer than 64 characters");
	const char *key = slash + 1;
	struct vs_dlimit *x = entry(d, id, (size_t)(slash - id));
	if (!strcmp(key, "directory")) {
		_cleanup_free_ char *shown = vs_escape(value);
		if (value[0] != '/')
			return fail_why(why, "directory '%s' must be an absolute path (the guest root)", shown);
		free(x->directory);
		x->directory = vs_strdup(value);
		return 0;
	}
	if (!strcmp(key, "space_total"))
		return parse_total(value, VS_DLIMIT_SPACE_MAX, "space_total (KiB)", &x->space_total, why);
	if (!strcmp(key, "inodes_total"))
		return parse_total(value, VS_DLIMIT_INODES_MAX, "inodes_total", &x->inodes_total, why);
	if (!strcmp(key, "reserved")) {
		uint64_t n;
		_cleanup_free_ char *shown = vs_escape(value);
		if (vs_parse_u64(value, &n) < 0 || n > 100)
			return fail_why(why, "reserved '%s' is not allowed: a percentage 0..100 (accepted and ignored: "
					"project quotas have no space reserved for root)", shown);
		x->reserved = (unsigned)n;
		x->has_reserved = true;
		return 0;
	}
	if (!strcmp(key, "disabled")) {
		x->disabled = true;
		return 0;
	}
	return fail_why(why, "unknown dlimits file '%s' (allowed: directory, space_total, inodes_total, reserved, "
			"disabled)", key);
}

/* "/a/b/" and "/a//b" name the same directory as "/a/b"; "." and ".."
 * components are refused (the path must be the guest root as written). */
static bool same_dir(const char *a, const char *b)
{
	for (;;) {
		while (*a == '/' && (a[1] == '/' || a[1] == 0))
			a++;
		while (*b == '/' && (b[1] == '/' || b[1] == 0))
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

static bool has_dot_component(const char *p)
{
	for (const char *s = p; (s = strchr(s, '/')); s++)
		if ((s[1] == '.' && (s[2] == '/' || !s[2])) || (s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3])))
			return true;
	return false;
}

void vs_dlimits_validate(const struct vs_dlimits *d, const char *vdir, struct vs_diags *diags)
{
	const struct vs_dlimit *enabled = NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct vs_dlimit *x = &d->e[i];
		_cleanup_free_ char *rel = vs_asprintf("dlimits/%s", x->id);
		static const char *const req[] = { "directory", "space_total", "inodes_total" };
		bool have[] = { x->directory != NULL, x->space_total != 0, x->inodes_total != 0 };
		bool complete = true;
		for (size_t k = 0; k < VS_ARRAY_SIZE(req); k++)
			if (!have[k]) {
				complete = false;
				if (!x->disabled) {
					_cleanup_free_ char *f = vs_asprintf("%s/%s", rel, req[k]);
					vs_diags_add(diags, f, 0, "missing: every dlimits entry needs directory, space_total "
							      "(KiB) and inodes_total (or the file disabled)");
				}
			}
		if (x->disabled)
			continue;
		if (x->directory && vdir && (has_dot_component(x->directory) || !same_dir(x->directory, vdir))) {
			_cleanup_free_ char *f = vs_asprintf("%s/directory", rel);
			_cleanup_free_ char *shown = vs_escape(x->directory);
			vs_diags_add(diags, f, 1,
				     "directory '%s' is not allowed: it must be the guest root %s (one project quota per "
				     "guest, counted over the guest's whole tree)", shown, vdir);
		}
		if (enabled && complete) {
			vs_diags_add(diags, rel, 0, "a second disk limit (dlimits/%s is one already): a guest has one "
					     "project quota; disable or remove one of them", enabled->id);
		}
		if (complete && !enabled)
			enabled = x;
	}
}

const struct vs_dlimit *vs_dlimits_active(const struct vs_dlimits *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (!d->e[i].disabled && d->e[i].directory && d->e[i].space_total && d->e[i].inodes_total)
			return &d->e[i];
	return NULL;
}

/* ---- the filesystem ------------------------------------------------------- */

static const struct {
	long magic;
	const char *name;
} fs_names[] = {
	{ EXT4_SUPER_MAGIC, "ext4" },   { XFS_SUPER_MAGIC, "xfs" },     { TMPFS_MAGIC, "tmpfs" },
	{ BTRFS_SUPER_MAGIC, "btrfs" }, { OVERLAYFS_SUPER_MAGIC, "overlay" }, { NFS_SUPER_MAGIC, "nfs" },
	{ 0x2fc12fc1, "zfs" },          { 0xf2f52010, "f2fs" },
};

static const char *fs_name(long magic)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(fs_names); i++)
		if (fs_names[i].magic == magic)
			return fs_names[i].name;
	return NULL;
}

static int quotactl_fd(int fd, int cmd, unsigned id, void *addr)
{
	/* QCMD() shifts a signed int: the Q_* commands above 0x7fffff would
	 * overflow it; the same value computed unsigned */
	unsigned qcmd = ((unsigned)cmd << SUBCMDSHIFT) | ((unsigned)PRJQUOTA & SUBCMDMASK);
	return (int)syscall(SYS_quotactl_fd, fd, qcmd, (unsigned)id, addr);
}

/* How to turn project quotas on, per filesystem type. */
static const char *howto(long magic)
{
	if (magic == XFS_SUPER_MAGIC)
		return "XFS: mount the filesystem with -o prjquota (in /etc/fstab; XFS cannot turn quotas on by a "
		       "remount); the kernel needs CONFIG_XFS_QUOTA";
	if (magic == EXT4_SUPER_MAGIC)
		return "ext4: unmount it, tune2fs -O project,quota DEVICE, and mount it with -o prjquota; the kernel "
		       "needs CONFIG_QUOTA and CONFIG_QFMT_V2";
	return "disk limits need the guest root on ext4 or XFS with project quotas (XFS: mount -o prjquota; "
	       "ext4: tune2fs -O project,quota, mount -o prjquota)";
}

int vs_dlimits_probe(int fd, vs_err *err)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return vs_fail_errno(err, "statfs");
	const char *nm = fs_name((long)sf.f_type);
	if (sf.f_type != EXT4_SUPER_MAGIC && sf.f_type != XFS_SUPER_MAGIC) {
		char hex[32];
		snprintf(hex, sizeof hex, "type 0x%lx", (unsigned long)sf.f_type);
		return vs_fail(err, VS_E_INVALID, 0,
			       "the filesystem is %s, which has no project quotas; %s", nm ? nm : hex, howto(0));
	}
	struct if_dqblk q;
	if (quotactl_fd(fd, Q_GETQUOTA, 0, &q) == 0)
		return 0;
	int e = errno;
	const char *why;
	switch (e) {
	case ESRCH:
		why = "project quotas are not enabled";
		break;
	case ENOSYS:
	case EOPNOTSUPP:
	case ENOTTY:
		why = "this kernel or filesystem has no quota support";
		break;
	default:
		return vs_fail(err, VS_E_SYSTEM, e, "quotactl (project quota) on the %s filesystem", nm);
	}
	return vs_fail(err, VS_E_INVALID, 0, "%s on this %s filesystem (quotactl: %s); %s", why, nm, strerror(e),
		       howto((long)sf.f_type));
}

int vs_dlimits_usage_at(int fd, unsigned projid, struct vs_dlimits_usage *u, vs_err *err)
{
	struct if_dqblk q;
	memset(&q, 0, sizeof q);
	if (quotactl_fd(fd, Q_GETQUOTA, projid, &q) < 0)
		return vs_fail_errno(err, "quotactl Q_GETQUOTA project %u", projid);
	u->space_used = q.dqb_curspace;
	u->space_total = q.dqb_bhardlimit; /* if_dqblk counts limits in QIF_DQBLKSIZE (1 KiB) blocks */
	u->inodes_used = q.dqb_curinodes;
	u->inodes_total = q.dqb_ihardlimit;
	return 0;
}

int vs_dlimits_set_limits(int fd, unsigned projid, uint64_t space_kib, uint64_t inodes, vs_err *err)
{
	/* Q_SETQUOTA's block limits are in QIF_DQBLKSIZE units, 1 KiB: the
	 * unit of util-vserver's space_total.  No soft limits: util-vserver
	 * had none either (and no grace time to configure). */
	struct if_dqblk q = {
		.dqb_bhardlimit = space_kib,
		.dqb_ihardlimit = inodes,
		.dqb_valid = QIF_LIMITS,
	};
	if (quotactl_fd(fd, Q_SETQUOTA, projid, &q) < 0)
		return vs_fail_errno(err, "quotactl Q_SETQUOTA project %u", projid);
	return 0;
}

/* ---- tagging ---------------------------------------------------------------- */

struct tagger {
	unsigned projid;
	dev_t dev;
	struct vs_dlimits_tag_stats *st;
};

static void skipped(struct tagger *t, const char *path, const char *name, int e)
{
	if (!t->st->skipped++)
		snprintf(t->st->first_skipped, sizeof t->st->first_skipped, "%s/%s: %s", path, name,
			 e ? strerror(e) : "skipped");
}

/* 0, or -1 with errno. */
static int set_projid(int fd, bool dir, struct tagger *t)
{
	struct fsxattr fa;
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
		return -1;
	/* PROJINHERIT is a directory flag (XFS refuses it on files) */
	uint32_t want = fa.fsx_xflags | (dir ? FS_XFLAG_PROJINHERIT : 0);
	if (fa.fsx_projid == t->projid && fa.fsx_xflags == want)
		return 0;
	fa.fsx_projid = t->projid;
	fa.fsx_xflags = want;
	if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
		return -1;
	t->st->changed++;
	return 0;
}

/* A regular file: opened as O_PATH first and re-opened through
 * /proc/self/fd only once fstat has shown it is regular, so that an entry
 * swapped for a FIFO or device meanwhile is never opened for real. */
static int open_regular(int dfd, const char *name, dev_t dev)
{
	_cleanup_close_ int p = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (p < 0 || fstat(p, &sb) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode) || sb.st_dev != dev) {
		errno = EXDEV;
		return -1;
	}
	char buf[64];
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", p);
	int fd = open(buf, O_RDONLY | O_NOATIME | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		fd = open(buf, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return fd;
}

static int walk(int dfd, const char *path, int depth, struct tagger *t, vs_err *err)
{
	int dup_fd = dup(dfd);
	if (dup_fd < 0)
		return vs_fail_errno(err, "%s", path);
	_cleanup_closedir_ DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return vs_fail_errno(err, "%s", path);
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		struct stat sb;
		if (fstatat(dfd, nm, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				skipped(t, path, nm, errno);
			errno = 0;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			/* a mount point inside the tree: another filesystem */
			if (sb.st_dev != t->dev)
				continue;
			t->st->seen++;
			if (depth >= VS_DLIMITS_MAX_DEPTH) {
				skipped(t, path, nm, 0);
				continue;
			}
			_cleanup_close_ int sub = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			struct stat sb2;
			if (sub < 0 || fstat(sub, &sb2) < 0 || sb2.st_dev != t->dev) {
				skipped(t, path, nm, sub < 0 ? errno : EXDEV);
				errno = 0;
				continue;
			}
			if (set_projid(sub, true, t) < 0)
				skipped(t, path, nm, errno);
			_cleanup_free_ char *sp = vs_asprintf("%s/%s", path, nm);
			if (walk(sub, sp, depth + 1, t, err) < 0)
				return -1;
		} else if (S_ISREG(sb.st_mode)) {
			if (sb.st_dev != t->dev)
				continue;
			t->st->seen++;
			_cleanup_close_ int fd = open_regular(dfd, nm, t->dev);
			if (fd < 0 || set_projid(fd, false, t) < 0)
				skipped(t, path, nm, errno);
		}
		/* symlinks, devices, FIFOs, sockets: the ioctl needs an open
		 * file; they hold no data blocks worth counting (a symlink's
		 * target is charged to the project where it is created) */
		errno = 0;
	}
	if (errno)
		return vs_fail_errno(err, "reading %s", path);
	return 0;
}

int vs_dlimits_tag_tree(int rootfd, unsigned projid, struct vs_dlimits_tag_stats *st, vs_err *err)
{
	memset(st, 0, sizeof *st);
	struct stat sb;
	if (fstat(rootfd, &sb) < 0)
		return vs_fail_errno(err, "stat of the guest root");
	struct tagger t = { .projid = projid, .dev = sb.st_dev, .st = st };
	if (set_projid(rootfd, true, &t) < 0)
		return vs_fail_errno(err, "setting project id %u on the guest root", projid);
	st->seen++;
	return walk(rootfd, ".", 0, &t, err);
}

/* ---- the stages -------------------------------------------------------------- */

int vs_dlimits_apply(const struct vs_config *c, int rootfd, const vs_report *rep, vs_err *err)
{
	const struct vs_dlimit *x = vs_dlimits_active(&c->dlimits);
	if (!x)
		return 0;
	if (vs_dlimits_probe(rootfd, err) < 0)
		return vs_err_prefix(err, "disk limits (dlimits/%s) for %s", x->id, c->vdir);
	struct vs_dlimits_tag_stats st;
	if (vs_dlimits_tag_tree(rootfd, c->context, &st, err) < 0)
		return vs_err_prefix(err, "disk limits (dlimits/%s)", x->id);
	if (st.skipped)
		vs_say(rep, "warning: disk limits: %llu of %llu files could not get project id %u (first: %s); they are "
			    "not counted", (unsigned long long)st.skipped, (unsigned long long)st.seen, c->context,
		       st.first_skipped);
	if (vs_dlimits_set_limits(rootfd, c->context, x->space_total, x->inodes_total, err) < 0)
		return vs_err_prefix(err, "disk limits (dlimits/%s)", x->id);
	return 0;
}

void vs_dlimits_check_host(const struct vs_config *c, struct vs_diags *diags)
{
	const struct vs_dlimit *x = vs_dlimits_active(&c->dlimits);
	if (!x)
		return;
	_cleanup_free_ char *rel = vs_asprintf("dlimits/%s/directory", x->id);
	_cleanup_close_ int fd = open(c->vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	vs_err e;
	if (fd < 0)
		vs_diags_add(diags, rel, 1, "the guest root %s: %s", c->vdir, strerror(errno));
	else if (vs_dlimits_probe(fd, &e) < 0)
		vs_diags_add(diags, rel, 1, "no disk limits possible under %s: %s", c->vdir, e.msg);
}

void vs_dlimits_tag_built(const struct vs_settings *s, const char *name, const vs_report *rep)
{
	struct vs_config c;
	vs_err e;
	if (vs_config_load(s, name, &c, NULL, &e) < 0)
		return;
	_cleanup_close_ int fd = open(c.vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct vs_dlimits_tag_stats st;
	if (fd >= 0 && c.context) {
		int r = vs_dlimits_tag_tree(fd, c.context, &st, &e);
		/* a filesystem without project ids refuses at the root: nothing to say */
		if (r == 0)
			vs_say(rep, "  project id %u (disk limits) on %llu files", c.context,
			       (unsigned long long)st.seen);
		else if (st.seen)
			vs_say(rep, "warning: disk limits: %s", e.msg);
		if (r == 0 && st.skipped)
			vs_say(rep, "warning: disk limits: %llu files could not get project id %u (first: %s)",
			       (unsigned long long)st.skipped, c.context, st.first_skipped);
	}
	vs_config_free(&c);
}

int vs_dlimits_usage(const struct vs_config *c, struct vs_dlimits_usage *u, vs_err *err)
{
	if (!vs_dlimits_active(&c->dlimits) && c->disk_image)
		return vs_disk_usage(c->disk_image, c->vdir, u, err) < 0 ? -1 : 1;
	if (!vs_dlimits_active(&c->dlimits))
		return 0;
	_cleanup_close_ int fd = open(c->vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s", c->vdir);
	if (vs_dlimits_probe(fd, err) < 0 || vs_dlimits_usage_at(fd, c->context, u, err) < 0)
		return -1;
	return 1;
}
