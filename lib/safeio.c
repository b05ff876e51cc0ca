/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "safeio.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

int vs_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, vs_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return vs_fail(err, VS_E_INVALID, 0, "%s: is a symbolic link, expected a regular file", path);
		return vs_fail(err, e == ENOENT ? VS_E_NOGUEST : VS_E_SYSTEM, e, "%s", path);
	}
	return vs_read_fd(fd, path, max, out, len, err);
}

int vs_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, vs_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vs_fail_errno(err, "%s: stat", path);
	if (!S_ISREG(st.st_mode))
		return vs_fail(err, VS_E_INVALID, 0, "%s: not a regular file (%s)", path,
			       S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
			       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node" : "a special file");
	if ((size_t)st.st_size > max)
		return vs_fail(err, VS_E_INVALID, 0, "%s: file too large (%lld bytes, at most %zu allowed)", path,
			       (long long)st.st_size, max);
	/* sized to the file (procfs files say 0: start small and grow) */
	size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (cap > max + 1)
		cap = max + 1;
	char *buf = vs_xmalloc0(cap + 1);
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return vs_fail(err, VS_E_INVALID, 0, "%s: file too large (more than %zu bytes)", path, max);
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				abort();
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return vs_fail(err, VS_E_SYSTEM, e, "%s: read", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return vs_fail(err, VS_E_INVALID, 0, "%s: file too large (more than %zu bytes)", path, max);
		}
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int vs_fsync_dir(int dirfd)
{
	return fsync(dirfd);
}

bool vs_atomic_temp_name(const char *n)
{
	size_t len = strlen(n);
	if (len < 12 || n[0] != '.' || n[len - 1] != '~' || n[len - 10] != '.')
		return false;
	for (size_t i = len - 9; i < len - 1; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return false;
	return true;
}

int vs_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    vs_err *err)
{
	return vs_write_file_atomic_owned(dirfd, name, data, len, mode, (uid_t)-1, (gid_t)-1, err);
}

int vs_write_value(int fd, const char *v)
{
	size_t len = strlen(v);
	ssize_t w;
	do
		w = write(fd, v, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	return (size_t)w == len ? 0 : 1;
}

static int write_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
			 gid_t gid, bool durable, vs_err *err)
{
	char tmp[NAME_MAX + 1];
	int fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) {
		unsigned r;
		if (getentropy(&r, sizeof r) < 0)
			r = (unsigned)getpid() * 2654435761u + (unsigned)i;
		if (snprintf(tmp, sizeof tmp, ".%.200s.%08x~", name, r) >= (int)sizeof tmp)
			return vs_fail(err, VS_E_INVALID, ENAMETOOLONG, "%s", name);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			return vs_fail_errno(err, "%s: cannot create temporary file", name);
	}
	if (fd < 0)
		return vs_fail(err, VS_E_SYSTEM, EEXIST, "%s: cannot create temporary file", name);
	if (!vs_write_all(fd, data, len))
		goto fail;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	if (durable)
		vs_fsync_dir(dirfd);
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return vs_fail(err, VS_E_SYSTEM, e, "%s: write", name);
}

int vs_write_file_atomic_owned(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			       uid_t uid, gid_t gid, vs_err *err)
{
	return write_replace(dirfd, name, data, len, mode, uid, gid, true, err);
}

int vs_write_runtime_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, vs_err *err)
{
	return write_replace(dirfd, name, data, len, mode, (uid_t)-1, (gid_t)-1, false, err);
}

int vs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, vs_err *err)
{
	_cleanup_free_ char *dir = vs_strdup(path);
	char *slash = strrchr(dir, '/');
	const char *base = path;
	if (slash) {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
	} else {
		free(dir);
		dir = vs_strdup(".");
	}
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "%s", dir);
	if (vs_write_file_atomic_at(dfd, base, data, len, mode, err) < 0)
		return vs_fail(err, err->kind, err->errnum, "%s: write failed", path);
	return 0;
}

/* Fallback when openat2 is missing: walk component by component and
 * refuse any symlink at all (stricter than RESOLVE_IN_ROOT). */
static int walk_nofollow(int rootfd, const char *path, int flags, mode_t mode)
{
	_cleanup_free_ char *copy = vs_strdup(path);
	int cur = dup(rootfd);
	if (cur < 0)
		return -1;
	char *save = NULL, *tok = strtok_r(copy, "/", &save);
	bool walked = tok != NULL;
	while (tok) {
		char *next = strtok_r(NULL, "/", &save);
		int nfd;
		if (strcmp(tok, "..") == 0) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		if (next)
			nfd = openat(cur, tok, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else
			nfd = openat(cur, tok, flags | O_NOFOLLOW | O_CLOEXEC, mode);
		int e = errno;
		close(cur);
		if (nfd < 0) {
			errno = e;
			return -1;
		}
		cur = nfd;
		tok = next;
	}
	if (!walked) {
		/* path was "/" or empty: reopen the root itself with flags */
		int nfd = openat(cur, ".", flags | O_CLOEXEC, mode);
		close(cur);
		return nfd;
	}
	return cur;
}

/* RESOLVE_NO_XDEV unless a guest's mounts are being set up (then paths
 * legitimately cross the mounts vserver just made). */
static bool allow_xdev;

void vs_safeio_allow_xdev(bool allow)
{
	allow_xdev = allow;
}

static uint64_t resolve_flags(void)
{
	return RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (allow_xdev ? 0 : RESOLVE_NO_XDEV);
}

int vs_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, vs_err *err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve_flags(),
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS)
		fd = walk_nofollow(rootfd, path, flags, mode);
	if (fd < 0)
		return vs_fail(err, errno == ENOENT ? VS_E_NOGUEST : VS_E_SYSTEM, errno, "%s", path);
	return fd;
}

int vs_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, vs_err *err)
{
	_cleanup_free_ char *copy = vs_strdup(path);
	_cleanup_close_ int cur = dup(rootfd);
	if (cur < 0)
		return vs_fail_errno(err, "dup");
	char *save = NULL;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0)
			return vs_fail(err, VS_E_INVALID, 0, "%s: '..' is not allowed", path);
		if (mkdirat(cur, tok, mode) < 0 && errno != EEXIST)
			return vs_fail_errno(err, "%s: mkdir %s", path, tok);
		/* Resolve (possibly a guest symlink) without leaving the root. */
		struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = resolve_flags() };
		/* Resolution must be relative to the guest root to clamp
		 * absolute links, so resolve the prefix so far from rootfd. */
		size_t off = (size_t)(tok - copy) + strlen(tok);
		char prefix[PATH_MAX];
		snprintf(prefix, sizeof prefix, "%.*s", (int)off, path);
		const char *pp = prefix;
		while (*pp == '/')
			pp++;
		int nfd = (int)syscall(SYS_openat2, rootfd, pp, &how, sizeof how);
		if (nfd < 0 && errno == ENOSYS)
			nfd = walk_nofollow(rootfd, pp, O_PATH | O_DIRECTORY, 0);
		if (nfd < 0)
			return vs_fail_errno(err, "%s: %s", path, prefix);
		close(cur);
		cur = nfd;
	}
	return 0;
}

int vs_open_parent_in_root(int rootfd, const char *path, bool create, const char **base, vs_err *err)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		*base = path;
		int fd = dup(rootfd);
		return fd < 0 ? vs_fail_errno(err, "dup") : fd;
	}
	*base = slash + 1;
	if (!**base || strcmp(*base, "..") == 0 || strcmp(*base, ".") == 0)
		return vs_fail(err, VS_E_INVALID, 0, "%s: invalid path", path);
	_cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return vs_fail_errno(err, "strndup");
	if (create && *dir && vs_mkdir_p_in_root(rootfd, dir, 0755, err) < 0)
		return -1;
	return vs_openat_in_root(rootfd, *dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0, err);
}

/* A directory that is the root of a mount (bind mounts of the same
 * filesystem included, which st_dev alone does not reveal). */
static bool is_mount_root(int dfd, const char *name, dev_t parent_dev, uint64_t parent_mnt)
{
	struct statx stx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0)
		return true; /* cannot tell: do not descend */
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return true;
	if ((stx.stx_mask & STATX_MNT_ID) && parent_mnt && stx.stx_mnt_id != parent_mnt)
		return true;
	return makedev(stx.stx_dev_major, stx.stx_dev_minor) != parent_dev;
}

static uint64_t mnt_id_of(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

static int rm_rf_children(int dfd, dev_t dev, const char *what, vs_err *err)
{
	uint64_t mnt = mnt_id_of(dfd);
	int dup_fd = dup(dfd);
	if (dup_fd < 0)
		return vs_fail_errno(err, "%s: dup", what);
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return vs_fail_errno(err, "%s: opendir", what);
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			rc = vs_fail_errno(err, "%s/%s: stat", what, de->d_name);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (is_mount_root(dfd, de->d_name, dev, mnt)) {
				rc = vs_fail(err, VS_E_STATE, 0, "%s/%s: is a mount point; unmount it first", what,
					     de->d_name);
				break;
			}
			int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				rc = vs_fail_errno(err, "%s/%s", what, de->d_name);
				break;
			}
			_cleanup_free_ char *sub = vs_asprintf("%s/%s", what, de->d_name);
			rc = rm_rf_children(cfd, dev, sub, err);
			close(cfd);
			if (rc < 0)
				break;
			if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
				rc = vs_fail_errno(err, "%s: rmdir", sub);
				break;
			}
		} else if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
			rc = vs_fail_errno(err, "%s/%s: unlink", what, de->d_name);
			break;
		}
	}
	closedir(d);
	return rc;
}

int vs_rm_rf_at(int dirfd, const char *name, vs_err *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return vs_fail_errno(err, "%s: stat", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return vs_fail_errno(err, "%s: unlink", name);
		return 0;
	}
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s", name);
	if (rm_rf_children(fd, st.st_dev, name, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return vs_fail_errno(err, "%s: rmdir", name);
	return 0;
}
