/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sdguest.h"
#include "safeio.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where systemd looks for a system unit, highest priority first (the
 * guest's /run is vserver's fresh tmpfs: nothing there yet). */
static const char *const unit_dirs[] = {
	"etc/systemd/system",
	"usr/local/lib/systemd/system",
	"usr/lib/systemd/system",
	"lib/systemd/system",
};

/* systemd's own tmp.mount options (units/tmp.mount), used when the
 * guest's cannot be */
static const char tmp_default_options[] = "mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m";

/* The runtime units of the mounts vserver makes besides fstab's */
static const struct vs_fstab_entry run_lock = {
	.source = "tmpfs", .target = "/run/lock", .type = "tmpfs", .options = "mode=1777,size=5m,nosuid,nodev,noexec",
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

int vs_sdguest_unit_options(const char *text, char **opt, char **why)
{
	_cleanup_free_ char *copy = vs_strdup(text);
	bool in_mount = false;
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = trim(l);
		if (*l == '[') {
			in_mount = !strcmp(l, "[Mount]");
			continue;
		}
		if (!in_mount || strncmp(l, "Options", 7))
			continue;
		char *v = trim(l + 7);
		if (*v != '=')
			continue;
		v = trim(v + 1);
		/* specifiers: only %% (a literal %) makes sense for tmpfs */
		char *out = vs_xmalloc0(strlen(v) + 1), *o = out;
		for (const char *p = v; *p; p++) {
			if (*p == '%') {
				if (p[1] != '%') {
					*why = vs_asprintf("Options=%s: specifier %%%c is not expanded by vserver", v,
							   p[1] ? p[1] : ' ');
					free(out);
					return -1;
				}
				p++;
			}
			*o++ = *p;
		}
		free(*opt);
		*opt = out;
	}
	return 0;
}

char *vs_sdguest_mount_unit_name(const char *path)
{
	while (*path == '/')
		path++;
	size_t n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (!n)
		return vs_strdup("-.mount");
	char *out = vs_xmalloc0(n * 4 + sizeof ".mount");
	char *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)path[i];
		if (ch == '/')
			*o++ = '-';
		else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			 ch == ':' || ch == '_' || (ch == '.' && i > 0))
			*o++ = (char)ch;
		else
			o += sprintf(o, "\\x%02x", ch);
	}
	strcpy(o, ".mount");
	if (strlen(out) > 255) {
		free(out);
		return NULL;
	}
	return out;
}

/* lstat of a guest path, its directories resolved inside the root */
static bool guest_lstat(int rootfd, const char *path, struct stat *st)
{
	const char *base;
	vs_err e;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, path, false, &base, &e);
	return dfd >= 0 && fstatat(dfd, base, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* `link`, a symlink's text, resolved against the directory `dir` of the
 * guest tree (both relative to the root; ".." stops at the root): is it
 * dev/null? */
static bool link_is_dev_null(const char *dir, const char *link)
{
	_cleanup_free_ char *path = link[0] == '/' ? vs_strdup(link) : vs_asprintf("%s/%s", dir, link);
	char *comp[64];
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (n)
				n--;
			continue;
		}
		if (n == VS_ARRAY_SIZE(comp))
			return false;
		comp[n++] = c;
	}
	return n == 2 && !strcmp(comp[0], "dev") && !strcmp(comp[1], "null");
}

/* systemd's "masked": the unit file is /dev/null (a symlink to it, by
 * any spelling) or empty */
static bool guest_masked(int rootfd, const char *path)
{
	const char *base;
	vs_err e;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, path, false, &base, &e);
	if (dfd < 0)
		return false;
	char l[PATH_MAX];
	ssize_t n = readlinkat(dfd, base, l, sizeof l - 1);
	if (n >= 0) {
		l[n] = 0;
		_cleanup_free_ char *dir = vs_asprintf("%.*s", base > path ? (int)(base - path - 1) : 0, path);
		if (link_is_dev_null(dir, l))
			return true;
	}
	/* followed inside the root: a character device, or an empty file */
	_cleanup_close_ int fd = vs_openat_in_root(rootfd, path, O_PATH, 0, &e);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 &&
	       (S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0));
}

/* A unit file's text (a symlink followed inside the root, as a linked
 * unit); NULL if absent or not a regular file of at most 64 KiB */
static char *guest_unit_text(int rootfd, const char *path)
{
	vs_err e;
	char *text = NULL;
	_cleanup_close_ int fd = vs_openat_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &e);
	if (fd < 0 || vs_read_fd(fd, path, VS_CONFIG_MAX_FILE, &text, NULL, &e) < 0)
		return NULL;
	return text;
}

/* The first of unit_dirs that holds `name` (any file type), or -1 */
static int unit_dir_of(int rootfd, const char *name)
{
	struct stat st;
	for (size_t i = 0; i < VS_ARRAY_SIZE(unit_dirs); i++) {
		_cleanup_free_ char *p = vs_asprintf("%s/%s", unit_dirs[i], name);
		if (guest_lstat(rootfd, p, &st))
			return (int)i;
	}
	return -1;
}

/* A drop-in: its name and the unit directory it is in */
struct dropin {
	char *name;
	const char *dir;
};

static int dropin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* At most this many entries are read from a guest's drop-in directory: a
 * directory of a million entries would hold up the guest's start (only
 * its own, in its own cgroup); beyond it, the defaults and a warning. */
#define MAX_DROPIN_ENTRIES 1024

/* tmp.mount's Options= as the guest's systemd would see them: the
 * fragment (the first in unit_dirs: index frag, -1 for none), then the drop-ins tmp.mount.d/ *.conf of all of
 * them in the order of their names (a name in a higher directory hides
 * the same name below; hidden files and directories are not drop-ins).
 * -1 with *why when they cannot be used. */
static int tmp_options(int rootfd, int frag, char **opt, char **why)
{
	struct stat st;
	if (frag >= 0) {
		/* the first one found is the unit, readable or not */
		_cleanup_free_ char *p = vs_asprintf("%s/tmp.mount", unit_dirs[frag]);
		_cleanup_free_ char *text = guest_unit_text(rootfd, p);
		if (!text) {
			*why = vs_asprintf("/%s: not a regular file of at most %d bytes", p, VS_CONFIG_MAX_FILE);
			return -1;
		}
		if (vs_sdguest_unit_options(text, opt, why) < 0)
			return -1;
	}
	struct dropin *d = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; i < VS_ARRAY_SIZE(unit_dirs) && r == 0; i++) {
		_cleanup_free_ char *dn = vs_asprintf("%s/tmp.mount.d", unit_dirs[i]);
		vs_err e;
		int fd = vs_openat_in_root(rootfd, dn, O_RDONLY | O_DIRECTORY, 0, &e);
		_cleanup_closedir_ DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
		if (!dir) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct dirent *de;
		size_t seen = 0;
		while ((de = readdir(dir))) {
			if (++seen > MAX_DROPIN_ENTRIES) {
				*why = vs_asprintf("/%s: more than %d entries", dn, MAX_DROPIN_ENTRIES);
				r = -1;
				break;
			}
			size_t len = strlen(de->d_name);
			if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
				continue;
			if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
				continue;
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(d[k].name, de->d_name);
			if (dup)
				continue;
			struct dropin *nd = realloc(d, (n + 1) * sizeof *d);
			if (!nd)
				abort();
			d = nd;
			d[n++] = (struct dropin){ vs_strdup(de->d_name), unit_dirs[i] };
		}
	}
	if (n)
		qsort(d, n, sizeof *d, dropin_cmp);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *p = vs_asprintf("%s/tmp.mount.d/%s", d[i].dir, d[i].name);
		_cleanup_free_ char *text = guest_unit_text(rootfd, p);
		if (text && vs_sdguest_unit_options(text, opt, why) < 0) {
			char *w = vs_asprintf("/%s: %s", p, *why);
			free(*why);
			*why = w;
			r = -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
	return r;
}

/* The fstab entry of a tmpfs on /tmp with these options, checked as an
 * fstab line is */
static int tmp_entry(const char *opt, struct vs_fstab_entry *out, char **why)
{
	vs_err e = { 0 };
	_cleanup_free_ char *line = vs_asprintf("tmpfs /tmp tmpfs %s 0 0", *opt ? opt : "defaults");
	if (vs_fstab_parse_line(line, out, &e) != 1) {
		*why = vs_asprintf("Options=%s: %s", opt, e.msg);
		return -1;
	}
	/* what tmpfs takes; uid= and gid= would name host ids in a
	 * user-namespace guest */
	static const char *const tmpfs_opts[] = {
		"defaults", "rw", "ro", "nosuid", "nodev", "noexec", "exec", "noatime", "relatime", "strictatime",
		"nodiratime", "lazytime", "sync", "async", "dirsync", "size", "mode", "nr_inodes", "nr_blocks",
		"huge", "inode64",
	};
	_cleanup_free_ char *copy = vs_strdup(out->options);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		o[strcspn(o, "=")] = 0;
		size_t i = 0;
		while (i < VS_ARRAY_SIZE(tmpfs_opts) && strcmp(o, tmpfs_opts[i]))
			i++;
		if (i == VS_ARRAY_SIZE(tmpfs_opts)) {
			*why = vs_asprintf("Options=%s: '%s' is not a tmpfs option vserver passes on", opt, o);
			vs_fstab_entry_free(out);
			return -1;
		}
	}
	return 0;
}

int vs_sdguest_tmp_defaults(struct vs_fstab_entry *out)
{
	char *why = NULL;
	int r = tmp_entry(tmp_default_options, out, &why);
	free(why);
	return r;
}

int vs_sdguest_tmp(int rootfd, const struct vs_config *c, struct vs_fstab_entry *out, char **warning)
{
	*warning = NULL;
	const struct vs_fstab *tabs[] = { &c->fstab, &c->fstab_remote };
	for (size_t t = 0; t < VS_ARRAY_SIZE(tabs); t++)
		for (size_t i = 0; i < tabs[t]->n; i++)
			if (!strcmp(tabs[t]->e[i].target, "/tmp"))
				return 0;
	struct stat st;
	if (guest_lstat(rootfd, "tmp", &st) && S_ISLNK(st.st_mode))
		return 0;
	if (unit_dir_of(rootfd, "local-fs.target.wants/tmp.mount") < 0)
		return 0;
	int frag = unit_dir_of(rootfd, "tmp.mount");
	if (frag >= 0) {
		_cleanup_free_ char *p = vs_asprintf("%s/tmp.mount", unit_dirs[frag]);
		if (guest_masked(rootfd, p))
			return 0;
	}
	_cleanup_free_ char *opt = vs_strdup(tmp_default_options), *why = NULL;
	if (tmp_options(rootfd, frag, &opt, &why) == 0 && tmp_entry(opt, out, &why) == 0)
		return 1;
	*warning = vs_asprintf("the guest's tmp.mount: %s; /tmp mounted with %s", why, tmp_default_options);
	return vs_sdguest_tmp_defaults(out) == 0 ? 1 : 0;
}

/* Outside systemd's reach anyway (API file systems and what lies below
 * them: systemd makes no unit or an "extrinsic" one for those) */
static bool under(const char *t, const char *p)
{
	size_t n = strlen(p);
	return !strncmp(t, p, n) && (t[n] == 0 || t[n] == '/');
}

static bool api_path(const char *t)
{
	return under(t, "/proc") || under(t, "/sys") || under(t, "/dev") || !strcmp(t, "/run") || under(t, "/run/host");
}

/* a value for a unit file: % doubled (no specifier) */
static char *unit_escape(const char *v)
{
	char *out = vs_xmalloc0(strlen(v) * 2 + 1), *o = out;
	for (; *v; v++) {
		if (*v == '%')
			*o++ = '%';
		*o++ = *v;
	}
	return out;
}

static int write_unit(int dfd, const struct vs_fstab_entry *m, vs_err *err)
{
	_cleanup_free_ char *name = vs_sdguest_mount_unit_name(m->target);
	/* no line break or backslash (escapes) in a unit file's value; a %
	 * is written %% (specifiers) */
	size_t tl = strlen(m->target);
	if (!name || strpbrk(m->target, "\n\\") || strpbrk(m->options, "\n\\") || strchr(" \t", m->target[tl - 1]))
		return 0;
	/* What=: an absolute source would make systemd order the mount after
	 * the mounts of that path (a bind) or bind it to a device unit, which
	 * never appears in a container and would stop it */
	const char *what = m->bind || m->source[0] == '/' || strpbrk(m->source, "%\n\\") ? "none" : m->source;
	_cleanup_free_ char *opts = vs_strdup("");
	_cleanup_free_ char *copy = vs_strdup(m->options);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "bind") || !strcmp(o, "rbind") || !strcmp(o, "defaults"))
			continue;
		char *n = vs_asprintf("%s%s%s", opts, *opts ? "," : "", o);
		free(opts);
		opts = n;
	}
	_cleanup_free_ char *where = unit_escape(m->target);
	char *o2 = unit_escape(opts);
	free(opts);
	opts = o2;
	_cleanup_free_ char *text = vs_asprintf(
		"# Written by vserver at the start of this guest.  vserver mounted %s\n"
		"# before systemd started, and unmounts it when the guest has stopped: the\n"
		"# guest cannot (no CAP_SYS_ADMIN), so this unit has no Conflicts=umount.target.\n"
		"[Unit]\n"
		"Description=%s (mounted by vserver)\n"
		"DefaultDependencies=no\n"
		"Before=local-fs.target\n"
		"\n"
		"[Mount]\n"
		"What=%s\n"
		"Where=%s\n"
		"%s%s%s"
		"%s%s%s",
		m->target, where, what, where, m->bind ? "" : "Type=", m->bind ? "" : strcmp(m->type, "none") ? m->type : "tmpfs",
		m->bind ? "" : "\n", *opts ? "Options=" : "", opts, *opts ? "\n" : "");
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : vs_fail_errno(err, "guest /run/systemd/system/%s", name);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return vs_fail_errno(err, "guest /run/systemd/system/%s", name);
	return 0;
}

int vs_sdguest_write_units(int rootfd, const struct vs_fstab *const *tabs, size_t ntabs, vs_err *err)
{
	if (vs_mkdir_p_in_root(rootfd, "run/systemd/system", 0755, err) < 0)
		return -1;
	_cleanup_close_ int dfd = vs_openat_in_root(rootfd, "run/systemd/system", O_RDONLY | O_DIRECTORY, 0, err);
	if (dfd < 0)
		return -1;
	/* /run/lock: only where the guest's systemd has a unit for it (Debian
	 * 13); before, Debian's systemd counted it among the API file
	 * systems and refused a unit for it */
	if (unit_dir_of(rootfd, "run-lock.mount") >= 0 && write_unit(dfd, &run_lock, err) < 0)
		return -1;
	for (size_t t = 0; t < ntabs; t++)
		for (size_t i = 0; i < tabs[t]->n; i++)
			if (!api_path(tabs[t]->e[i].target) && write_unit(dfd, &tabs[t]->e[i], err) < 0)
				return -1;
	return 0;
}
