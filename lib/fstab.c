/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fstab.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Filesystem types a guest fstab may name. */
static const char *const fs_types[] = {
	"none", "bind", "tmpfs", "proc", "devpts", "sysfs", "mqueue", "nfs", "nfs4", "cifs", "ext2", "ext3", "ext4",
	"xfs", "btrfs", "overlay", "fuse", "9p", "ramfs", "hugetlbfs", NULL,
};

/* Options accepted, with whether they take a value (key=value). */
static const struct {
	const char *name;
	bool value;
} fs_options[] = {
	{ "defaults", false }, { "ro", false }, { "rw", false }, { "bind", false }, { "rbind", false },
	{ "nosuid", false }, { "nodev", false }, { "noexec", false }, { "exec", false }, { "noatime", false },
	{ "relatime", false }, { "strictatime", false }, { "nodiratime", false }, { "sync", false },
	{ "async", false }, { "dirsync", false }, { "lazytime", false }, { "auto", false }, { "noauto", false },
	{ "nofail", false }, { "private", false }, { "slave", false }, { "rprivate", false }, { "rslave", false },
	{ "size", true }, { "mode", true }, { "uid", true }, { "gid", true }, { "nr_inodes", true },
	{ "nr_blocks", true }, { "ptmxmode", true }, { "newinstance", false }, { "hidepid", true },
	{ "subset", true }, { "lowerdir", true }, { "upperdir", true }, { "workdir", true }, { "vers", true },
	{ "addr", true }, { "soft", false }, { "hard", false }, { "proto", true }, { "timeo", true },
	{ "retrans", true }, { "rsize", true }, { "wsize", true }, { "sec", true }, { "username", true },
	{ "credentials", true }, { "x-mount.mkdir", false }, { "inode64", false }, { "huge", true },
	{ "usrquota", false }, { "grpquota", false }, { "prjquota", false },
};

/* Options refused outright, with the reason. */
static const struct {
	const char *name, *why;
} fs_refused[] = {
	{ "suid", "setuid binaries from a shared folder would run with host-root privileges; remove 'suid'" },
	{ "dev", "device nodes on a guest mount bypass the device policy; remove 'dev'" },
	{ "shared", "shared propagation would leak guest mounts to the host" },
	{ "rshared", "shared propagation would leak guest mounts to the host" },
	{ "user", "user mounts make no sense in a guest" },
	{ "users", "user mounts make no sense in a guest" },
};

/* Undo the getmntent octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash). */
static int unescape(char *s, vs_err *err)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '\\') {
			if (p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
				int c = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
				if (c == 0)
					return vs_fail(err, VS_E_INVALID, 0, "escape \\000 (NUL) is not allowed");
				*o++ = (char)c;
				p += 3;
				continue;
			}
			return vs_fail(err, VS_E_INVALID, 0, "bad escape '\\%.3s' (use \\040 for a space)", p + 1);
		}
		*o++ = *p;
	}
	*o = 0;
	return 0;
}

/* Targets must be absolute, without "." or ".." components, not "/",
 * and not under /proc, /sys or /dev (mounting there would shadow the
 * masks that keep the guest in). */
static int check_target(char *t, vs_err *err)
{
	if (t[0] != '/')
		return vs_fail(err, VS_E_INVALID, 0, "target '%s' must be an absolute path inside the guest", t);
	/* normalise repeated slashes and a trailing slash */
	char *o = t;
	for (char *p = t; *p; p++) {
		if (*p == '/' && o > t && o[-1] == '/')
			continue;
		*o++ = *p;
	}
	*o = 0;
	size_t n = strlen(t);
	if (n > 1 && t[n - 1] == '/')
		t[n - 1] = 0;
	if (strcmp(t, "/") == 0)
		return vs_fail(err, VS_E_INVALID, 0, "target '/' is not allowed (the guest root is the vdir)");
	_cleanup_free_ char *copy = vs_strdup(t);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (!strcmp(c, "..") || !strcmp(c, "."))
			return vs_fail(err, VS_E_INVALID, 0, "target '%s' contains a '%s' component", t, c);
	static const char *const allowed_exact[] = { "/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", NULL };
	for (int i = 0; allowed_exact[i]; i++)
		if (!strcmp(t, allowed_exact[i]))
			return 0;
	static const char *const forbidden[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(forbidden); i++) {
		size_t l = strlen(forbidden[i]);
		if (!strncmp(t, forbidden[i], l) && (t[l] == 0 || t[l] == '/'))
			return vs_fail(err, VS_E_INVALID, 0,
				       "target '%s' is under %s, which vserver sets up itself (not allowed)", t,
				       forbidden[i]);
	}
	return 0;
}

/* "/", "//", "/.", "/usr/..", ...: every spelling of the host root. */
static bool is_root_path(const char *p)
{
	int depth = 0;
	_cleanup_free_ char *copy = vs_strdup(p);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, ".."))
			depth = depth > 0 ? depth - 1 : 0;
		else
			depth++;
	}
	return depth == 0;
}

static int check_options(struct vs_fstab_entry *e, vs_err *err)
{
	_cleanup_free_ char *copy = vs_strdup(e->options);
	bool ro = false, rw = false;
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq = 0;
		for (size_t i = 0; i < VS_ARRAY_SIZE(fs_refused); i++)
			if (!strcmp(o, fs_refused[i].name))
				return vs_fail(err, VS_E_INVALID, 0, "option '%s' refused: %s", o, fs_refused[i].why);
		size_t i;
		for (i = 0; i < VS_ARRAY_SIZE(fs_options); i++)
			if (!strcmp(o, fs_options[i].name))
				break;
		if (i == VS_ARRAY_SIZE(fs_options))
			return vs_fail(err, VS_E_INVALID, 0, "unknown mount option '%s'", o);
		if (fs_options[i].value != (eq != NULL))
			return vs_fail(err, VS_E_INVALID, 0,
				       fs_options[i].value ? "mount option '%s' needs a value (%s=...)"
							   : "mount option '%s' takes no value%s",
				       o, fs_options[i].value ? o : "");
		if (eq && !eq[1])
			return vs_fail(err, VS_E_INVALID, 0, "mount option '%s=' has an empty value", o);
		if (!strcmp(o, "ro"))
			ro = true;
		else if (!strcmp(o, "rw"))
			rw = true;
		else if (!strcmp(o, "bind") || !strcmp(o, "rbind"))
			e->bind = true;
	}
	if (ro && rw)
		return vs_fail(err, VS_E_INVALID, 0, "options 'ro' and 'rw' contradict each other");
	e->readonly = ro;
	return 0;
}

int vs_fstab_parse_line(const char *line, struct vs_fstab_entry *out, vs_err *err)
{
	memset(out, 0, sizeof *out);
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return 0;
	_cleanup_free_ char *copy = vs_strdup(p);
	char *f[7] = { 0 };
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 6)
			return vs_fail(err, VS_E_INVALID, 0, "too many fields (at most 6: source target type options dump pass)");
		f[n++] = t;
	}
	if (n < 4)
		return vs_fail(err, VS_E_INVALID, 0, "%d field%s, expected 4 to 6: source target type options [dump pass]",
			       n, n == 1 ? "" : "s");
	for (int i = 4; i < n; i++)
		if (strcmp(f[i], "0") && strcmp(f[i], "1") && strcmp(f[i], "2"))
			return vs_fail(err, VS_E_INVALID, 0, "field %d '%s' must be 0, 1 or 2", i + 1, f[i]);
	for (int i = 0; i < 4; i++)
		if (unescape(f[i], err) < 0)
			return -1;
	if (check_target(f[1], err) < 0)
		return -1;
	size_t t;
	for (t = 0; fs_types[t]; t++)
		if (!strcmp(f[2], fs_types[t]))
			break;
	if (!fs_types[t])
		return vs_fail(err, VS_E_INVALID, 0, "unknown filesystem type '%s'", f[2]);
	out->source = vs_strdup(f[0]);
	out->target = vs_strdup(f[1]);
	out->type = vs_strdup(f[2]);
	out->options = vs_strdup(f[3]);
	if (check_options(out, err) < 0)
		goto fail;
	if (!strcmp(out->type, "bind"))
		out->bind = true;
	if (out->bind && out->source[0] != '/') {
		vs_fail(err, VS_E_INVALID, 0, "bind source '%s' must be an absolute host path", out->source);
		goto fail;
	}
	if (out->bind && is_root_path(out->source)) {
		vs_fail(err, VS_E_INVALID, 0, "binding the host's root directory '/' into a guest is not allowed");
		goto fail;
	}
	if (out->bind) {
		static const char *const host_fs[] = { "/proc", "/sys", "/dev" };
		for (size_t i = 0; i < VS_ARRAY_SIZE(host_fs); i++) {
			size_t l = strlen(host_fs[i]);
			const char *src = out->source;
			while (src[0] == '/' && src[1] == '/')
				src++;
			if (!strncmp(src, host_fs[i], l) && (src[l] == 0 || src[l] == '/')) {
				vs_fail(err, VS_E_INVALID, 0,
					"bind source '%s' exposes the host's %s to the guest (not allowed)", out->source,
					host_fs[i]);
				goto fail;
			}
		}
		if (strstr(out->source, "/../") || vs_str_endswith(out->source, "/..")) {
			vs_fail(err, VS_E_INVALID, 0, "bind source '%s' must not contain '..'", out->source);
			goto fail;
		}
	}
	if (!strcmp(out->target, "/proc") && strcmp(out->type, "proc")) {
		vs_fail(err, VS_E_INVALID, 0, "only a proc filesystem may be mounted on /proc");
		goto fail;
	}
	if (!strcmp(out->target, "/sys") && strcmp(out->type, "sysfs")) {
		vs_fail(err, VS_E_INVALID, 0, "only a sysfs filesystem may be mounted on /sys");
		goto fail;
	}
	if (!strcmp(out->type, "proc") && strcmp(out->target, "/proc")) {
		vs_fail(err, VS_E_INVALID, 0, "a proc filesystem may only be mounted on /proc");
		goto fail;
	}
	if (!strcmp(out->type, "sysfs") && strcmp(out->target, "/sys")) {
		vs_fail(err, VS_E_INVALID, 0, "a sysfs filesystem may only be mounted on /sys");
		goto fail;
	}
	return 1;
fail:
	vs_fstab_entry_free(out);
	return -1;
}

/* a field of an fstab line: blanks, newlines and backslashes escaped */
static char *escape_field(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\') ? 4 : 1;
	char *o = vs_xmalloc0(n + 1), *q = o;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
			q += sprintf(q, "\\%03o", (unsigned char)*p);
		else
			*q++ = *p;
	}
	return o;
}

int vs_fstab_bind_entry(const char *source, const char *target, bool ro, bool rec, struct vs_fstab_entry *out,
			vs_err *err)
{
	_cleanup_free_ char *s = escape_field(source), *t = escape_field(target);
	_cleanup_free_ char *line = vs_asprintf("%s %s none %s%s 0 0", s, t, rec ? "rbind" : "bind", ro ? ",ro" : "");
	int r = vs_fstab_parse_line(line, out, err);
	return r < 0 ? -1 : 0;
}

void vs_fstab_entry_free(struct vs_fstab_entry *e)
{
	free(e->source);
	free(e->target);
	free(e->type);
	free(e->options);
	memset(e, 0, sizeof *e);
}

void vs_fstab_free(struct vs_fstab *f)
{
	for (size_t i = 0; i < f->n; i++)
		vs_fstab_entry_free(&f->e[i]);
	free(f->e);
	f->e = NULL;
	f->n = 0;
}

bool vs_fstab_is_mount_root(int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0 ||
	    !(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return true;
	return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
}

int vs_fstab_behind_barrier(int dirfd, vs_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "open a shared folder's directory");
	/* bounded: a path has fewer than PATH_MAX / 2 components */
	for (int depth = 0; depth < 4096 / 2; depth++) {
		struct stat st, up_st;
		if (fstat(fd, &st) < 0)
			return vs_fail_errno(err, "stat a shared folder's parent");
		if (S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 0011) == 0)
			return 1;
		if (vs_fstab_is_mount_root(fd))
			return 0;
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (up < 0)
			return vs_fail_errno(err, "open a shared folder's parent");
		if (fstat(up, &up_st) < 0) {
			close(up);
			return vs_fail_errno(err, "stat a shared folder's parent");
		}
		close(fd);
		fd = up;
		/* ".." of the root is the root itself */
		if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino)
			return 0;
	}
	return 0;
}
