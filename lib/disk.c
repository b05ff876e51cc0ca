/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest file-system images (lib/disk.h). */
#include "disk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "config.h"
#include "dlimits.h"
#include "reslimits.h"
#include "util.h"

int vs_disk_parse_size(const char *v, uint64_t *bytes, vs_err *err)
{
	uint64_t b;
	if (vs_parse_size(v, &b) < 0 || b < VS_DISK_SIZE_MIN || b > VS_DISK_SIZE_MAX)
		return vs_fail(err, VS_E_INVALID, 0,
			       "disk size '%s' is not allowed: bytes with an optional suffix K, M, G or T (powers of 1024), "
			       "16M..64T",
			       v);
	*bytes = b;
	return 0;
}

int vs_disk_parse_inodes(const char *v, uint64_t *n, vs_err *err)
{
	uint64_t i;
	if (vs_parse_u64(v, &i) < 0 || i < VS_DISK_INODES_MIN || i > VS_DISK_INODES_MAX)
		return vs_fail(err, VS_E_INVALID, 0, "disk inodes '%s' is not allowed: an integer %d..%u", v,
			       VS_DISK_INODES_MIN, VS_DISK_INODES_MAX);
	*n = i;
	return 0;
}

char *vs_disk_images_dir(const char *rootbase)
{
	return vs_asprintf("%s/.images", strcmp(rootbase, "/") ? rootbase : "");
}

char *vs_disk_default_image(const char *vdir)
{
	_cleanup_free_ char *a = vs_strdup(vdir), *b = vs_strdup(vdir);
	_cleanup_free_ char *dir = vs_disk_images_dir(dirname(a));
	return vs_asprintf("%s/%s.img", dir, basename(b));
}

/* ---- making an image ------------------------------------------------------ */

/* Run the host's mkfs.ext4 (a host program on a host file: never anything
 * from a guest tree) with a clean environment; its complaint, if any,
 * becomes the error message. */
static int run_mkfs(char *const argv[], vs_err *err)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	_cleanup_free_ char *bin = NULL;
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs) && !bin; i++) {
		char *p = vs_asprintf("%s/mkfs.ext4", dirs[i]);
		if (access(p, X_OK) == 0)
			bin = p;
		else
			free(p);
	}
	if (!bin)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "mkfs.ext4 is not installed (package e2fsprogs)");
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	char msg[2048];
	int st = vs_run_host(bin, argv, env, msg, sizeof msg, err);
	if (st < 0)
		return -1;
	if (st == 0)
		return 0;
	return vs_fail(err, VS_E_SYSTEM, 0, "mkfs.ext4 failed (exit status %d)%s%s", st, *msg ? ": " : "", msg);
}

int vs_disk_create(const char *image, uint64_t bytes, uint64_t inodes, const char *label, bool *sparse, vs_err *err)
{
	*sparse = false;
	int fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vs_fail(err, errno == EEXIST ? VS_E_EXISTS : VS_E_SYSTEM, errno, "disk image %s", image);
	/* allocated in full: a sparse image would fail the guest's writes with
	 * I/O errors when the host's file system fills up */
	int r = fallocate(fd, 0, 0, (off_t)bytes);
	if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
		*sparse = true; /* the caller says so */
		r = ftruncate(fd, (off_t)bytes);
	}
	if (r < 0) {
		vs_fail(err, VS_E_SYSTEM, errno, "disk image %s: cannot allocate %llu bytes", image,
			(unsigned long long)bytes);
		goto fail;
	}
	close(fd);
	fd = -1;
	char lab[17], nbuf[24];
	snprintf(lab, sizeof lab, "%s", label);
	snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)inodes);
	/* -m 0: no blocks reserved for root (the guest's root would get them);
	 * -N: the inode count; nodiscard: the blocks were just allocated */
	char *argv[16];
	int a = 0;
	argv[a++] = "mkfs.ext4";
	argv[a++] = "-q";
	argv[a++] = "-F";
	argv[a++] = "-m";
	argv[a++] = "0";
	argv[a++] = "-L";
	argv[a++] = lab;
	argv[a++] = "-E";
	argv[a++] = "nodiscard,root_owner=0:0";
	if (inodes) {
		argv[a++] = "-N";
		argv[a++] = nbuf;
	}
	argv[a++] = (char *)image;
	argv[a] = NULL;
	if (run_mkfs(argv, err) < 0) {
		vs_err_prefix(err, "disk image %s", image);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(image);
	return -1;
}

/* ---- loop devices ---------------------------------------------------------- */

/* The image, opened for use: a regular file owned by root, writable by
 * root alone, reached without following a link, in a directory owned by
 * root that no one else may write, and not among the guest roots next to
 * DIR (where a guest could write it) unless in their .images. */
static int open_image(const char *image, const char *dir, struct stat *st, vs_err *err)
{
	_cleanup_free_ char *copy = vs_strdup(image), *bcopy = vs_strdup(image), *dcopy = vs_strdup(dir);
	const char *pdir = dirname(copy), *base = basename(bcopy);
	/* the directory opened once; what is checked is what the image is
	 * then opened in (no swap between the checks and the open) */
	_cleanup_close_ int dfd = open(pdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat ps;
	if (dfd < 0 || fstat(dfd, &ps) < 0)
		return vs_fail(err, errno == ENOENT || errno == ENOTDIR ? VS_E_INVALID : VS_E_SYSTEM, errno, "disk image %s",
			       image);
	if (ps.st_uid != 0 || (ps.st_mode & 022))
		return vs_fail(err, VS_E_INVALID, 0,
			       "the directory of disk image %s must be owned by root and writable by root alone "
			       "(owner %u, mode %04o)",
			       image, (unsigned)ps.st_uid, (unsigned)(ps.st_mode & 07777));
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", dfd);
	_cleanup_free_ char *rp = realpath(fdpath, NULL), *rootbase = realpath(dirname(dcopy), NULL);
	if (rp && rootbase) {
		_cleanup_free_ char *images = vs_disk_images_dir(rootbase);
		size_t n = strlen(rootbase);
		if (strcmp(rp, images) && !strncmp(rp, rootbase, n) && rp[n] == '/')
			return vs_fail(err, VS_E_INVALID, 0,
				       "disk image %s lies among the guest roots in %s, where a guest could write it: "
				       "keep images in %s or outside %s",
				       image, rootbase, images, rootbase);
	}
	int fd = openat(dfd, base, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno == ENOENT || errno == ELOOP ? VS_E_INVALID : VS_E_SYSTEM, errno,
			       "disk image %s%s", image, errno == ELOOP ? " (a link: not followed)" : "");
	if (fstat(fd, st) < 0) {
		close(fd);
		return vs_fail_errno(err, "disk image %s", image);
	}
	if (!S_ISREG(st->st_mode) || st->st_uid != 0 || (st->st_mode & 022)) {
		close(fd);
		return vs_fail(err, VS_E_INVALID, 0,
			       "disk image %s must be a regular file owned by root and writable by root alone "
			       "(it is %s, owner %u, mode %04o)",
			       image, S_ISREG(st->st_mode) ? "a file" : "not a regular file", (unsigned)st->st_uid,
			       (unsigned)(st->st_mode & 07777));
	}
	return fd;
}

/* The backing file of loop device `name` ("loop3"): 0 with *li filled,
 * -1 if it is no bound loop device. */
static int loop_info(const char *name, dev_t want_rdev, struct loop_info64 *li)
{
	char dev[64];
	snprintf(dev, sizeof dev, "/dev/%s", name);
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || (want_rdev && st.st_rdev != want_rdev))
		return -1;
	return ioctl(fd, LOOP_GET_STATUS64, li) < 0 ? -1 : 0;
}

static bool backs(const struct loop_info64 *li, const struct stat *img)
{
	return li->lo_device == (uint64_t)img->st_dev && li->lo_inode == (uint64_t)img->st_ino;
}

/* The loop devices the image is attached to (normally none or one). */
#define MAX_ATTACH 8
struct attachments {
	int n;
	char who[MAX_ATTACH][32]; /* /dev/loopN */
	dev_t rdev[MAX_ATTACH];
	struct loop_info64 li[MAX_ATTACH];
};

static int image_attachments(const struct stat *img, struct attachments *a)
{
	a->n = 0;
	_cleanup_closedir_ DIR *d = opendir("/sys/block");
	struct dirent *e;
	while (d && a->n < MAX_ATTACH && (e = readdir(d))) {
		struct loop_info64 li;
		if (strncmp(e->d_name, "loop", 4) || strlen(e->d_name) > 20 || loop_info(e->d_name, 0, &li) < 0 ||
		    !backs(&li, img))
			continue;
		snprintf(a->who[a->n], sizeof a->who[a->n], "/dev/%s", e->d_name);
		struct stat ds;
		a->rdev[a->n] = stat(a->who[a->n], &ds) == 0 ? ds.st_rdev : 0;
		a->li[a->n] = li;
		a->n++;
	}
	return a->n;
}

/* Is block device `dev` mounted somewhere in this mount namespace?  The
 * first mount point in `where` (as mountinfo spells it). */
static bool dev_mounted_here(dev_t dev, char *where, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	while (f && fgets(line, sizeof line, f)) {
		unsigned ma, mi;
		char mp[4096];
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &ma, &mi, mp) == 3 && makedev(ma, mi) == dev) {
			snprintf(where, len, "%s", mp);
			return true;
		}
	}
	return false;
}

/* A free loop device bound to imgfd, autoclear: *nr and its fd. */
static int loop_attach(int imgfd, const char *image, int *nr, vs_err *err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return vs_fail_errno(err, "/dev/loop-control (no loop device support?)");
	for (int tries = 0; tries < 32; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return vs_fail_errno(err, "/dev/loop-control: no free loop device");
		char dev[32];
		snprintf(dev, sizeof dev, "/dev/loop%d", n);
		int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return vs_fail_errno(err, "%s", dev);
		struct loop_config cfg;
		memset(&cfg, 0, sizeof cfg);
		cfg.fd = (uint32_t)imgfd;
		/* direct I/O on the image where its file system allows it: the
		 * guest's data is cached once (in the guest's file system), not a
		 * second time as pages of the image file */
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
		snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "%s", image);
		int r = ioctl(fd, LOOP_CONFIGURE, &cfg);
		if (r < 0 && errno == EINVAL) {
			cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
			r = ioctl(fd, LOOP_CONFIGURE, &cfg);
		}
		if (r == 0) {
			*nr = n;
			return fd;
		}
		int e = errno;
		close(fd);
		if (e != EBUSY) /* EBUSY: another program took it meanwhile */
			return vs_fail(err, VS_E_SYSTEM, e, "%s: cannot attach %s", dev, image);
	}
	return vs_fail(err, VS_E_BUSY, EBUSY, "no free loop device could be claimed for %s", image);
}

/* ---- mounting ---------------------------------------------------------------- */

int vs_disk_mounted(const char *image, const char *dir, vs_err *err)
{
	struct statx sx;
	if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, &sx) < 0)
		return errno == ENOENT ? 0 : vs_fail_errno(err, "guest root %s", dir);
	if (!S_ISDIR(sx.stx_mode))
		return vs_fail(err, VS_E_INVALID, 0, "guest root %s is not a directory (a link?)", dir);
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return vs_fail(err, VS_E_SYSTEM, ENOTSUP, "%s: the kernel cannot tell mount points (statx)", dir);
	if (!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return 0;
	dev_t dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	struct stat img;
	if (stat(image, &img) < 0)
		return vs_fail(err, errno == ENOENT ? VS_E_INVALID : VS_E_SYSTEM, errno,
			       "guest root %s is a mount point, and its disk image %s cannot be checked", dir, image);
	{
		char p[64], buf[256];
		snprintf(p, sizeof p, "/sys/dev/block/%u:%u/uevent", sx.stx_dev_major, sx.stx_dev_minor);
		FILE *f = fopen(p, "re");
		char name[64] = "";
		if (f) {
			while (fgets(buf, sizeof buf, f))
				if (!strncmp(buf, "DEVNAME=", 8)) {
					snprintf(name, sizeof name, "%s", buf + 8);
					name[strcspn(name, "\n")] = 0;
				}
			fclose(f);
		}
		struct loop_info64 li;
		if (!strncmp(name, "loop", 4) && !strchr(name, '/') && loop_info(name, dev, &li) == 0 && backs(&li, &img))
			return 1;
	}
	return vs_fail(err, VS_E_INVALID, 0, "guest root %s is a mount point of another file system than its disk image %s",
		       dir, image);
}

bool vs_disk_is_mountpoint(const char *dir)
{
	struct statx sx;
	return statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) == 0 &&
	       (sx.stx_attributes & sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
}

int vs_disk_mount(const char *image, const char *dir, vs_err *err)
{
	/* the image is checked at every use, mounted or not */
	struct stat st;
	_cleanup_close_ int imgfd = open_image(image, dir, &st, err);
	if (imgfd < 0)
		return -1;
	/* one image, one mount: the checks and the attach under the image's
	 * lock, taken on a description of its own (the loop device keeps the
	 * one it is given open, and a lock on it with it) */
	_cleanup_close_ int lockfd = open(image, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat lst;
	if (lockfd < 0 || fstat(lockfd, &lst) < 0 || flock(lockfd, LOCK_EX) < 0)
		return vs_fail_errno(err, "disk image %s: lock", image);
	if (lst.st_ino != st.st_ino || lst.st_dev != st.st_dev)
		return vs_fail(err, VS_E_BUSY, 0, "disk image %s was replaced while it was being opened; try again", image);
	int r = vs_disk_mounted(image, dir, err); /* again, under the lock */
	if (r != 0)
		return r < 0 ? -1 : 0;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "guest root %s", dir);
	char target[64];
	snprintf(target, sizeof target, "/proc/self/fd/%d", dfd);
	for (int attempt = 0;; attempt++) {
		char src[64], where[4096];
		struct attachments a;
		_cleanup_close_ int loopfd = -1;
		image_attachments(&st, &a);
		for (int i = 0; i < a.n; i++)
			if (a.rdev[i] && dev_mounted_here(a.rdev[i], where, sizeof where))
				return vs_fail(err, VS_E_BUSY, 0,
					       "disk image %s is mounted on %s already (%s): an image serves one guest",
					       image, where, a.who[i]);
		if (a.n > 1)
			return vs_fail(err, VS_E_BUSY, 0,
				       "disk image %s is attached to several loop devices (%s, %s%s): mounting it "
				       "would corrupt it; detach the ones nothing uses (losetup -d)",
				       image, a.who[0], a.who[1], a.n > 2 ? ", ..." : "");
		if (a.n == 1) {
			struct loop_info64 *li = &a.li[0];
			if (li->lo_offset || li->lo_sizelimit || (li->lo_flags & LO_FLAGS_READ_ONLY))
				return vs_fail(err, VS_E_BUSY, 0,
					       "disk image %s is attached to %s with an offset, a size limit or read-only: "
					       "detach it first (losetup -d %s)",
					       image, a.who[0], a.who[0]);
			/* attached and mounted nowhere here: what is left of its
			 * last mount, held by another mount namespace (a copy
			 * outlives our unmount, and the autoclear loop device
			 * with it).  The same block device again shares that
			 * file system; a second loop device on the file would
			 * corrupt it.  Held open until mounted (an open device
			 * is not cleared), and checked again through that fd. */
			struct loop_info64 now;
			struct stat ds;
			loopfd = open(a.who[0], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (loopfd < 0 || fstat(loopfd, &ds) < 0 || ds.st_rdev != a.rdev[0] ||
			    ioctl(loopfd, LOOP_GET_STATUS64, &now) < 0 || !backs(&now, &st)) {
				if (attempt < 2)
					continue; /* released meanwhile: look again */
				return vs_fail(err, VS_E_BUSY, 0, "disk image %s: its loop device %s keeps changing", image,
					       a.who[0]);
			}
			snprintf(src, sizeof src, "%s", a.who[0]);
		} else {
			int nr = -1;
			loopfd = loop_attach(imgfd, image, &nr, err);
			if (loopfd < 0)
				return -1;
			snprintf(src, sizeof src, "/dev/loop%d", nr);
		}
		if (mount(src, target, "ext4", 0, "errors=remount-ro") < 0) {
			int e = errno;
			return vs_fail(err, VS_E_SYSTEM, e, "cannot mount disk image %s (%s) on %s%s", image, src, dir,
				       e == EINVAL || e == EUCLEAN || e == EBADMSG
					       ? " (not an ext4 file system, or a damaged one: e2fsck -f IMAGE)"
					       : "");
		}
		/* what is mounted is the image's file system, or it goes again */
		vs_err e2;
		if (vs_disk_mounted(image, dir, &e2) != 1) {
			umount2(dir, UMOUNT_NOFOLLOW);
			return vs_fail(err, VS_E_SYSTEM, 0, "disk image %s: %s did not mount its file system on %s", image,
				       src, dir);
		}
		return 1; /* the loop device goes with the last unmount (autoclear) */
	}
}

int vs_disk_held(const char *image, const char *dir, vs_err *err)
{
	struct stat st;
	struct attachments a;
	if (stat(image, &st) < 0 || image_attachments(&st, &a) == 0)
		return 0;
	if (!(a.li[0].lo_flags & LO_FLAGS_AUTOCLEAR))
		vs_fail(err, VS_E_BUSY, 0,
			"disk image %s: unmounted from %s, but it stays attached to %s, a loop device set up without "
			"autoclear (losetup -d %s)",
			image, dir, a.who[0], a.who[0]);
	else
		vs_fail(err, VS_E_BUSY, 0,
			"disk image %s: unmounted from %s, but another mount namespace still holds its file system (%s; "
			"grep %u:%u /proc/*/mountinfo): the loop device, and after a delete the image's space, are "
			"released when that goes",
			image, dir, a.who[0], major(a.rdev[0]), minor(a.rdev[0]));
	return 1;
}

int vs_disk_move(const char *image, const char *from, const char *to, vs_err *err)
{
	int r = vs_disk_mounted(image, from, err);
	if (r <= 0)
		return r < 0 ? -1 : vs_fail(err, VS_E_STATE, 0, "disk image %s is not mounted on %s", image, from);
	if (vs_disk_is_mountpoint(to))
		return vs_fail(err, VS_E_INVALID, 0, "%s is a mount point already", to);
	_cleanup_close_ int ffd = open(from, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int tfd = open(to, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ffd < 0 || tfd < 0)
		return vs_fail_errno(err, "%s", ffd < 0 ? from : to);
	char fp[64], tp[64];
	snprintf(fp, sizeof fp, "/proc/self/fd/%d", ffd);
	snprintf(tp, sizeof tp, "/proc/self/fd/%d", tfd);
	/* a bind of the mounted file system first, then the old mount goes:
	 * the file system is never let go (no unmount and mount again, which
	 * a copy held in another mount namespace could make fail) */
	if (mount(fp, tp, NULL, MS_BIND, NULL) < 0)
		return vs_fail_errno(err, "cannot bind the file system of %s from %s to %s", image, from, to);
	close(ffd); /* an open fd of the old mount keeps it busy */
	ffd = -1;
	if (umount2(from, UMOUNT_NOFOLLOW) < 0) {
		int e = errno;
		umount2(to, UMOUNT_NOFOLLOW);
		return vs_fail(err, e == EBUSY ? VS_E_BUSY : VS_E_SYSTEM, e, "cannot unmount %s (the file system of %s)%s",
			       from, image, e == EBUSY ? ": a process uses it (a shell's cwd, an open file?)" : "");
	}
	return 0;
}

int vs_disk_umount(const char *image, const char *dir, vs_err *err)
{
	int r = vs_disk_mounted(image, dir, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		/* not here: then nowhere else either (a guest whose disk/image
		 * names another's image must not take it along when deleted) */
		struct stat st;
		struct attachments a;
		char where[4096];
		if (stat(image, &st) == 0)
			for (int i = 0; i < image_attachments(&st, &a); i++)
				if (a.rdev[i] && dev_mounted_here(a.rdev[i], where, sizeof where))
					return vs_fail(err, VS_E_BUSY, 0,
						       "disk image %s is in use elsewhere (mounted on %s), not on %s", image,
						       where, dir);
		return 0;
	}
	if (umount2(dir, UMOUNT_NOFOLLOW) < 0)
		return vs_fail(err, errno == EBUSY ? VS_E_BUSY : VS_E_SYSTEM, errno,
			       "cannot unmount the disk image %s from %s%s", image, dir,
			       errno == EBUSY ? " (a process uses it: a shell's cwd, an open file?)" : "");
	return vs_disk_held(image, dir, err);
}

void vs_disk_check_host(const char *image, const char *dir, struct vs_diags *diags)
{
	struct stat st;
	vs_err e;
	int fd = open_image(image, dir, &st, &e);
	if (fd < 0 || vs_disk_mounted(image, dir, &e) < 0)
		vs_diags_add(diags, "disk/image", 0, "%s", e.msg);
	if (fd >= 0)
		close(fd);
}

int vs_disk_usage(const char *image, const char *dir, struct vs_dlimits_usage *u, vs_err *err)
{
	int r = vs_disk_mounted(image, dir, err);
	if (r <= 0)
		return r < 0 ? -1 : vs_fail(err, VS_E_STATE, 0, "the disk image %s is not mounted (start mounts it)", image);
	struct statvfs sv;
	if (statvfs(dir, &sv) < 0)
		return vs_fail_errno(err, "%s", dir);
	u->space_used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	u->space_total = (uint64_t)sv.f_blocks * sv.f_frsize / 1024;
	u->inodes_used = (uint64_t)(sv.f_files - sv.f_ffree);
	u->inodes_total = (uint64_t)sv.f_files;
	return 0;
}
