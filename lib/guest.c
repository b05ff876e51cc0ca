/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"
#include "disk.h"
#include "lock.h"
#include "postinstall.h"
#include "safeio.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

int vs_guest_list(const struct vs_settings *s, struct vs_guest_info **out, vs_err *err)
{
	_cleanup_strv_ vs_strv names = { 0 };
	if (vs_config_list_names(s, &names, err) < 0)
		return -1;
	struct vs_guest_info *g = vs_xmalloc0((names.n + 1) * sizeof *g);
	for (size_t i = 0; i < names.n; i++) {
		g[i].name = vs_strdup(names.v[i]);
		struct vs_diags d = { 0 };
		vs_err e;
		if (vs_config_load(s, names.v[i], &g[i].cfg, &d, &e) < 0) {
			g[i].problem = vs_strdup(e.msg);
		} else if (d.n) {
			vs_diags_to_err(&d, g[i].cfg.cfgdir, &e);
			g[i].problem = vs_strdup(e.msg);
		} else
			g[i].valid = true;
		vs_diags_free(&d);
		g[i].running = vs_state_get(s, names.v[i], &g[i].state, NULL, &e) == 1;
	}
	*out = g;
	return (int)names.n;
}

void vs_guest_list_free(struct vs_guest_info *g, int n)
{
	for (int i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].problem);
		vs_config_free(&g[i].cfg);
	}
	free(g);
}

/* Open the directory that holds a guest-owned path (the vdir target or
 * the cache directory) and check that the path itself is a real
 * directory, not a link. */
static int open_holder(const char *path, const char **base, vs_err *err)
{
	static char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return vs_fail(err, VS_E_INVALID, 0, "%s: refusing to touch a top-level directory", path);
	*slash = 0;
	*base = path + (slash - dir) + 1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s", dir);
	return fd;
}

int vs_guest_delete(const struct vs_settings *s, const char *name, const vs_report *rep, vs_err *err)
{
	if (vs_name_check(name, err) < 0)
		return -1;
	_cleanup_close_ int lock = vs_lock(s, name, LOCK_EX | LOCK_NB, err);
	if (lock < 0)
		return -1;
	struct vs_config c;
	struct vs_diags d = { 0 };
	if (vs_config_load(s, name, &c, &d, err) < 0) {
		vs_diags_free(&d);
		return -1;
	}
	/* a broken vdir link must not send us deleting something else, nor
	 * a bad disk/image into the file system still mounted on the root */
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.d[i].file, "vdir") || !strcmp(d.d[i].file, "disk/image")) {
			vs_fail(err, VS_E_INVALID, 0, "%s/%s: %s; fix it first", c.cfgdir, d.d[i].file, d.d[i].msg);
			vs_diags_free(&d);
			vs_config_free(&c);
			return -1;
		}
	vs_diags_free(&d);
	struct vs_state st;
	int r = vs_state_get(s, name, &st, NULL, err);
	if (r != 0) {
		vs_config_free(&c);
		return r < 0 ? -1 : vs_fail(err, VS_E_STATE, 0, "guest '%s' is running; stop it first", name);
	}
	int rc = -1;
	const char *base;
	/* 0. the root's own file system (lib/disk.h): unmounted first */
	if (c.disk_image) {
		/* a copy held by another mount namespace (1) goes with the
		 * removal of the root below, where it is mounted on that dentry */
		if (vs_disk_umount(c.disk_image, c.vdir, err) < 0)
			goto out;
	}
	/* anything else mounted on the root is not ours to empty */
	if (vs_disk_is_mountpoint(c.vdir)) {
		vs_fail(err, VS_E_STATE, 0, "guest root %s is a mount point%s; unmount it first", c.vdir,
			c.disk_image ? " (not of the guest's disk image)" : "");
		goto out;
	}
	/* 1. the root */
	{
		_cleanup_close_ int h = open_holder(c.vdir, &base, err);
		if (h < 0)
			goto out;
		struct stat sb;
		if (fstatat(h, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISDIR(sb.st_mode)) {
				vs_fail(err, VS_E_INVALID, 0, "%s is not a directory (a link?); not deleting through it",
					c.vdir);
				goto out;
			}
			if (vs_rm_rf_at(h, base, err) < 0)
				goto out;
			vs_say(rep, "removed %s", c.vdir);
		}
	}
	/* 2. the cache, if it is ours (cachebase/NAME) */
	if (c.cache) {
		_cleanup_free_ char *mine = vs_asprintf("%s/%s", s->cachebase, name);
		if (!strcmp(mine, c.cache)) {
			_cleanup_close_ int h = open_holder(c.cache, &base, err);
			struct stat sb;
			if (h >= 0 && fstatat(h, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) {
				if (vs_rm_rf_at(h, base, err) < 0)
					goto out;
				vs_say(rep, "removed %s", c.cache);
			}
		}
	}
	/* 2b. the image, if build made it (ROOTBASE/.images/NAME.img) */
	if (c.disk_image) {
		_cleanup_free_ char *mine = vs_disk_default_image(c.vdir);
		vs_err held;
		bool is_held = vs_disk_held(c.disk_image, c.vdir, &held) == 1;
		if (strcmp(mine, c.disk_image)) {
			vs_say(rep, "kept the disk image %s (not where build puts it)", c.disk_image);
		} else if (unlink(c.disk_image) == 0) {
			vs_say(rep, "removed %s", c.disk_image);
			if (is_held)
				vs_say(rep, "note: %s", held.msg);
		} else if (errno != ENOENT) {
			vs_fail_errno(err, "%s", c.disk_image);
			goto out;
		}
	}
	/* 3. run state */
	if (vs_state_remove(s, name, err) < 0)
		goto out;
	/* 4. the configuration */
	{
		_cleanup_close_ int h = open(s->confdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h < 0) {
			vs_fail_errno(err, "%s", s->confdir);
			goto out;
		}
		if (vs_rm_rf_at(h, name, err) < 0)
			goto out;
		vs_say(rep, "removed %s", c.cfgdir);
	}
	rc = 0;
out:
	vs_config_free(&c);
	return rc;
}

/* ---- rename ------------------------------------------------------------- */

/* An undo log of small steps. */
struct undo {
	enum { U_RENAME, U_FILE, U_LINK, U_GUESTFILE, U_MOUNT } kind;
	char *a, *b;          /* rename: a -> b was done; undo b -> a */
	char *data;           /* previous file content / link target; NULL: did not exist */
	size_t len;
	mode_t mode;
};

struct ulog {
	struct undo *u;
	size_t n;
};

static void ulog_add(struct ulog *l, struct undo u)
{
	l->u = realloc(l->u, (l->n + 1) * sizeof *l->u);
	if (!l->u)
		abort();
	l->u[l->n++] = u;
}

static void ulog_free(struct ulog *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->u[i].a);
		free(l->u[i].b);
		free(l->u[i].data);
	}
	free(l->u);
}

static int do_rename(struct ulog *l, const char *from, const char *to, vs_err *err)
{
	struct stat st;
	if (lstat(to, &st) == 0)
		return vs_fail(err, VS_E_EXISTS, 0, "%s already exists", to);
	if (rename(from, to) < 0) {
		if (errno == EXDEV)
			return vs_fail(err, VS_E_SYSTEM, EXDEV, "cannot move %s to %s", from, to);
		return vs_fail_errno(err, "cannot move %s to %s", from, to);
	}
	ulog_add(l, (struct undo){ .kind = U_RENAME, .a = vs_strdup(from), .b = vs_strdup(to) });
	return 0;
}

/* Replace a config file (full path), remembering the old content. */
static int set_file(struct ulog *l, const char *path, const char *value, vs_err *err)
{
	struct undo u = { .kind = U_FILE, .a = vs_strdup(path), .mode = 0644 };
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, path, VS_CONFIG_MAX_FILE, &u.data, &u.len, &e) < 0 && e.errnum != ENOENT) {
		free(u.a);
		*err = e;
		return -1;
	}
	_cleanup_free_ char *v = vs_asprintf("%s\n", value);
	if (vs_write_file_atomic(path, v, strlen(v), 0644, err) < 0) {
		free(u.a);
		free(u.data);
		return -1;
	}
	ulog_add(l, u);
	return 0;
}

static int set_link(struct ulog *l, const char *path, const char *target, vs_err *err)
{
	char old[PATH_MAX];
	ssize_t n = readlink(path, old, sizeof old - 1);
	struct undo u = { .kind = U_LINK, .a = vs_strdup(path) };
	if (n >= 0) {
		old[n] = 0;
		u.data = vs_strdup(old);
	}
	_cleanup_free_ char *tmp = vs_asprintf("%s.new~", path);
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(u.a);
		free(u.data);
		return vs_fail(err, VS_E_SYSTEM, e, "%s", path);
	}
	ulog_add(l, u);
	return 0;
}

/* Move a guest root that is the mount of its disk image (a mount point
 * cannot be renamed): its file system is bound on the new directory and
 * unmounted from the old one, never let go (lib/disk.h). */
static int move_mounted_root(struct ulog *l, const char *image, const char *from, const char *to, vs_err *err)
{
	struct stat st;
	if (lstat(to, &st) == 0)
		return vs_fail(err, VS_E_EXISTS, 0, "%s already exists", to);
	if (mkdir(to, 0755) < 0)
		return vs_fail_errno(err, "%s", to);
	if (vs_disk_move(image, from, to, err) < 0) {
		rmdir(to);
		return -1;
	}
	rmdir(from);
	ulog_add(l, (struct undo){ .kind = U_MOUNT, .a = vs_strdup(from), .b = vs_strdup(to), .data = vs_strdup(image) });
	return 0;
}

static void rollback(struct ulog *l, const vs_report *rep)
{
	for (size_t i = l->n; i-- > 0;) {
		struct undo *u = &l->u[i];
		vs_err e;
		switch (u->kind) {
		case U_MOUNT:
			if ((mkdir(u->a, 0755) < 0 && errno != EEXIST) || vs_disk_move(u->data, u->b, u->a, &e) < 0)
				vs_say(rep, "warning: rollback incomplete: the file system of %s stays on %s", u->data, u->b);
			else
				rmdir(u->b);
			break;
		case U_RENAME:
			rename(u->b, u->a);
			break;
		case U_FILE:
			if (u->data)
				vs_write_file_atomic(u->a, u->data, u->len, u->mode, &e);
			else
				unlink(u->a);
			break;
		case U_LINK:
			if (u->data) {
				_cleanup_free_ char *tmp = vs_asprintf("%s.new~", u->a);
				unlink(tmp);
				if (symlink(u->data, tmp) == 0)
					rename(tmp, u->a);
			} else
				unlink(u->a);
			break;
		case U_GUESTFILE:
			break;
		}
	}
}

/* Snapshot of a regular file inside the guest (for undo). */
struct gsnap {
	const char *path;
	char *data;
	size_t len;
	bool present;
};

static void gsnap_take(int rootfd, struct gsnap *g)
{
	vs_err e;
	const char *base;
	_cleanup_close_ int d = vs_open_parent_in_root(rootfd, g->path, false, &base, &e);
	if (d < 0)
		return;
	if (d >= 0 && vs_read_file_at(d, base, 1 << 20, &g->data, &g->len, &e) == 0)
		g->present = true;
}

static void gsnap_restore(int rootfd, struct gsnap *g)
{
	if (!g->present)
		return;
	vs_err e;
	const char *base;
	_cleanup_close_ int d = vs_open_parent_in_root(rootfd, g->path, false, &base, &e);
	if (d < 0)
		return;
	if (d >= 0)
		vs_write_file_atomic_at(d, base, g->data, g->len, 0644, &e);
}

/* nodename: OLD -> NEW, OLD.domain -> NEW.domain; anything else kept */
static char *new_nodename(const char *nodename, const char *oldname, const char *newname)
{
	size_t n = strlen(oldname);
	if (!strcmp(nodename, oldname))
		return vs_strdup(newname);
	if (!strncmp(nodename, oldname, n) && nodename[n] == '.')
		return vs_asprintf("%s%s", newname, nodename + n);
	return NULL;
}

static void report_references(const struct vs_settings *s, const char *oldname, const char *oldroot,
			      const char *newname, const vs_report *rep)
{
	_cleanup_strv_ vs_strv names = { 0 };
	vs_err e;
	if (vs_config_list_names(s, &names, &e) < 0)
		return;
	for (size_t i = 0; i < names.n; i++) {
		if (!strcmp(names.v[i], newname))
			continue;
		static const char *const files[] = { "fstab", "fstab.remote" };
		for (size_t f = 0; f < 2; f++) {
			_cleanup_free_ char *p = vs_asprintf("%s/%s/%s", s->confdir, names.v[i], files[f]);
			_cleanup_free_ char *data = NULL;
			if (vs_read_file_at(AT_FDCWD, p, VS_CONFIG_MAX_FILE, &data, NULL, &e) < 0)
				continue;
			int no = 0;
			for (char *l = data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
				nl = strchr(l, '\n');
				if (nl)
					*nl = 0;
				no++;
				if (strstr(l, oldroot)) {
					_cleanup_free_ char *esc = vs_escape(l);
					vs_say(rep, "note: %s:%d mentions %s: %s", p, no, oldroot, esc);
				}
			}
		}
		_cleanup_free_ char *dp = vs_asprintf("%s/%s/apps/init/depends", s->confdir, names.v[i]);
		_cleanup_free_ char *dd = NULL;
		if (vs_read_file_at(AT_FDCWD, dp, VS_CONFIG_MAX_FILE, &dd, NULL, &e) == 0) {
			char *save = NULL;
			for (char *l = strtok_r(dd, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				if (!strcmp(l, oldname))
					vs_say(rep, "note: %s lists '%s'; update it to '%s'", dp, oldname, newname);
		}
	}
}

int vs_guest_rename(const struct vs_settings *s, const char *oldname, const char *newname, const vs_report *rep,
		    vs_err *err)
{
	if (vs_name_check(oldname, err) < 0 || vs_name_check(newname, err) < 0)
		return -1;
	if (!strcmp(oldname, newname))
		return vs_fail(err, VS_E_INVALID, 0, "old and new name are the same");
	/* lock both, in name order (no deadlock with a reverse rename) */
	const char *first = strcmp(oldname, newname) < 0 ? oldname : newname;
	const char *second = first == oldname ? newname : oldname;
	_cleanup_close_ int l1 = vs_lock(s, first, LOCK_EX | LOCK_NB, err);
	if (l1 < 0)
		return -1;
	_cleanup_close_ int l2 = vs_lock(s, second, LOCK_EX | LOCK_NB, err);
	if (l2 < 0)
		return -1;
	_cleanup_close_ int g = vs_lock(s, VS_LOCK_GLOBAL, LOCK_EX, err);
	if (g < 0)
		return -1;
	struct vs_config c;
	if (vs_config_load(s, oldname, &c, NULL, err) < 0)
		return -1;
	struct vs_state st;
	int r = vs_state_get(s, oldname, &st, NULL, err);
	if (r != 0) {
		vs_config_free(&c);
		return r < 0 ? -1 : vs_fail(err, VS_E_STATE, 0, "guest '%s' is running; stop it first", oldname);
	}
	_cleanup_free_ char *newcfg = vs_asprintf("%s/%s", s->confdir, newname);
	_cleanup_free_ char *dirpart = vs_strdup(c.vdir);
	_cleanup_free_ char *newroot = vs_asprintf("%s/%s", dirname(dirpart), newname);
	struct stat sb;
	if (lstat(newcfg, &sb) == 0 || lstat(newroot, &sb) == 0) {
		vs_config_free(&c);
		return vs_fail(err, VS_E_EXISTS, 0, "guest '%s' already exists (%s)", newname,
			       lstat(newcfg, &sb) == 0 ? newcfg : newroot);
	}
	if (lstat(c.vdir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		vs_config_free(&c);
		return vs_fail(err, VS_E_INVALID, 0, "%s is not a directory (a link?); not moving it", c.vdir);
	}
	bool have_root = lstat(c.vdir, &sb) == 0;
	/* the root's own file system: a mount point cannot be renamed, so its
	 * mount is moved to the new root (move_mounted_root), and the image
	 * renamed if build made it; not mounted (after a reboot), the root is
	 * renamed and the image mounted on it for the identity update */
	_cleanup_free_ char *oldimage = c.disk_image ? vs_disk_default_image(c.vdir) : NULL;
	_cleanup_free_ char *newimage = NULL;
	bool disk_was_mounted = false, disk_mounted_new = false;
	if (c.disk_image) {
		newimage = strcmp(oldimage, c.disk_image) ? vs_strdup(c.disk_image) : vs_disk_default_image(newroot);
		if (strcmp(newimage, c.disk_image) && lstat(newimage, &sb) == 0) {
			vs_config_free(&c);
			return vs_fail(err, VS_E_EXISTS, 0, "disk image %s already exists", newimage);
		}
		int dm = have_root ? vs_disk_mounted(c.disk_image, c.vdir, err) : 0;
		if (dm < 0) {
			vs_config_free(&c);
			return -1;
		}
		disk_was_mounted = dm == 1;
	}
	struct ulog log = { 0 };
	struct gsnap hn = { .path = "etc/hostname" }, hosts = { .path = "etc/hosts" };
	int rootfd = -1, rc = -1;
	_cleanup_free_ char *nn = new_nodename(c.nodename, oldname, newname);
	_cleanup_free_ char *oldcache = vs_asprintf("%s/%s", s->cachebase, oldname);
	_cleanup_free_ char *newcache = vs_asprintf("%s/%s", s->cachebase, newname);
	_cleanup_free_ char *namefile = vs_asprintf("%s/name", newcfg);
	_cleanup_free_ char *nodefile = vs_asprintf("%s/uts/nodename", newcfg);
	_cleanup_free_ char *vdl = vs_asprintf("%s/vdir", newcfg);
	_cleanup_free_ char *cl = vs_asprintf("%s/cache", newcfg);

	if (disk_was_mounted ? move_mounted_root(&log, c.disk_image, c.vdir, newroot, err) < 0
			     : have_root && do_rename(&log, c.vdir, newroot, err) < 0)
		goto fail;
	if (do_rename(&log, c.cfgdir, newcfg, err) < 0)
		goto fail;
	if (c.display_name && !strcmp(c.display_name, oldname) && access(namefile, F_OK) == 0 &&
	    set_file(&log, namefile, newname, err) < 0)
		goto fail;
	if (nn && set_file(&log, nodefile, nn, err) < 0)
		goto fail;
	if (!nn)
		vs_say(rep, "note: uts/nodename '%s' does not derive from the old name; kept", c.nodename);
	if (set_link(&log, vdl, newroot, err) < 0)
		goto fail;
	if (c.cache && !strcmp(c.cache, oldcache)) {
		if (lstat(oldcache, &sb) == 0 && S_ISDIR(sb.st_mode) && do_rename(&log, oldcache, newcache, err) < 0)
			goto fail;
		if (set_link(&log, cl, newcache, err) < 0)
			goto fail;
	}
	if (c.disk_image && strcmp(newimage, c.disk_image)) {
		_cleanup_free_ char *imgfile = vs_asprintf("%s/disk/image", newcfg);
		if (do_rename(&log, c.disk_image, newimage, err) < 0 || set_file(&log, imgfile, newimage, err) < 0)
			goto fail;
	}
	if (c.disk_image && have_root && !disk_was_mounted) { /* not mounted (a reboot): now it is */
		if (vs_disk_mount(newimage, newroot, err) < 0)
			goto fail;
		disk_mounted_new = true;
	}
	if (have_root) {
		rootfd = open(newroot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rootfd < 0) {
			vs_fail_errno(err, "%s", newroot);
			goto fail;
		}
		gsnap_take(rootfd, &hn);
		gsnap_take(rootfd, &hosts);
		struct vs_config nc;
		if (vs_config_load(s, newname, &nc, NULL, err) < 0)
			goto fail;
		int pr = vs_postinstall_identity(rootfd, &nc, c.nodename, rep, err);
		vs_config_free(&nc);
		if (pr < 0)
			goto fail;
	}
	vs_state_remove(s, oldname, err);
	vs_say(rep, "renamed guest '%s' to '%s'", oldname, newname);
	report_references(s, oldname, c.vdir, newname, rep);
	rc = 0;
	goto out;
fail:
	if (rootfd >= 0) {
		gsnap_restore(rootfd, &hn);
		gsnap_restore(rootfd, &hosts);
		close(rootfd);
		rootfd = -1;
	}
	{
		vs_err e2;
		if (disk_mounted_new && vs_disk_umount(newimage, newroot, &e2) != 0)
			vs_say(rep, "warning: %s", e2.msg);
		rollback(&log, rep);
	}
out:
	if (rootfd >= 0)
		close(rootfd);
	free(hn.data);
	free(hosts.data);
	ulog_free(&log);
	vs_config_free(&c);
	return rc;
}
