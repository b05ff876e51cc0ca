/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest file-system images (lib/disk.h). */
#include "disk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
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

char *vs_disk_default_image(const char *vdir)
{
	_cleanup_free_ char *a = vs_strdup(vdir), *b = vs_strdup(vdir);
	const char *dir = dirname(a);
	return vs_asprintf("%s/.images/%s.img", strcmp(dir, "/") ? dir : "", basename(b));
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
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vs_fail_errno(err, "fork");
	}
	if (pid == 0) {
		char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execve(bin, argv, env);
		_exit(127);
	}
	close(pfd[1]);
	char msg[2048];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(pfd[0], msg + len, sizeof msg - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof msg - 1) {
			char sink[512]; /* drain the rest, keep the start */
			while (read(pfd[0], sink, sizeof sink) > 0 || errno == EINTR)
				;
			break;
		}
	}
	close(pfd[0]);
	msg[len] = 0;
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = 0;
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return vs_fail_errno(err, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return vs_fail(err, VS_E_SYSTEM, 0, "%s could not be run", bin);
	return vs_fail(err, VS_E_SYSTEM, 0, "mkfs.ext4 failed (%s %d)%s%s",
		       WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
		       len ? ": " : "", msg);
}

int vs_disk_create(const char *image, uint64_t bytes, uint64_t inodes, const char *label, vs_err *err)
{
	int fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vs_fail(err, errno == EEXIST ? VS_E_EXISTS : VS_E_SYSTEM, errno, "disk image %s", image);
	/* allocated in full: a sparse image would fail the guest's writes with
	 * I/O errors when the host's file system fills up */
	int r = fallocate(fd, 0, 0, (off_t)bytes);
	if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		r = ftruncate(fd, (off_t)bytes);
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
 * root alone, reached without following a link. */
static int open_image(const char *image, struct stat *st, vs_err *err)
{
	int fd = open(image, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
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

/* Is the image attached to a loop device already?  Its name in `who`. */
static bool image_attached(const struct stat *img, char *who, size_t len)
{
	_cleanup_closedir_ DIR *d = opendir("/sys/block");
	if (!d)
		return false;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct loop_info64 li;
		if (strncmp(e->d_name, "loop", 4) || loop_info(e->d_name, 0, &li) < 0 || !backs(&li, img))
			continue;
		snprintf(who, len, "/dev/%s", e->d_name);
		return true;
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
	if (stat(image, &img) == 0) {
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
	int r = vs_disk_mounted(image, dir, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	struct stat st;
	_cleanup_close_ int imgfd = open_image(image, &st, err);
	if (imgfd < 0)
		return -1;
	/* one image, one mount: the check and the attach under the image's
	 * lock, taken on a description of its own (the loop device keeps the
	 * one it is given open, and a lock on it with it) */
	_cleanup_close_ int lockfd = open(image, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat lst;
	if (lockfd < 0 || fstat(lockfd, &lst) < 0 || lst.st_ino != st.st_ino || lst.st_dev != st.st_dev ||
	    flock(lockfd, LOCK_EX) < 0)
		return vs_fail(err, VS_E_SYSTEM, lockfd < 0 ? errno : EAGAIN, "disk image %s: lock", image);
	char who[64];
	if (image_attached(&st, who, sizeof who))
		return vs_fail(err, VS_E_BUSY, 0,
			       "disk image %s is in use already (attached to %s): an image serves one guest, mounted once",
			       image, who);
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "guest root %s", dir);
	int nr = -1;
	_cleanup_close_ int loopfd = loop_attach(imgfd, image, &nr, err);
	if (loopfd < 0)
		return -1;
	char src[32], target[64];
	snprintf(src, sizeof src, "/dev/loop%d", nr);
	snprintf(target, sizeof target, "/proc/self/fd/%d", dfd);
	if (mount(src, target, "ext4", 0, "errors=remount-ro") < 0) {
		int e = errno;
		return vs_fail(err, VS_E_SYSTEM, e, "cannot mount disk image %s on %s%s", image, dir,
			       e == EINVAL || e == EUCLEAN || e == EBADMSG
				       ? " (not an ext4 file system, or a damaged one: e2fsck -f IMAGE)"
				       : "");
	}
	return 1; /* the loop device goes with the last unmount (autoclear) */
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
		char who[64];
		if (stat(image, &st) == 0 && image_attached(&st, who, sizeof who))
			return vs_fail(err, VS_E_BUSY, 0, "disk image %s is in use elsewhere (attached to %s), not on %s",
				       image, who, dir);
		return 0;
	}
	if (umount2(dir, UMOUNT_NOFOLLOW) < 0)
		return vs_fail(err, errno == EBUSY ? VS_E_BUSY : VS_E_SYSTEM, errno,
			       "cannot unmount the disk image %s from %s%s", image, dir,
			       errno == EBUSY ? " (a process uses it: a shell's cwd, an open file?)" : "");
	return 0;
}
