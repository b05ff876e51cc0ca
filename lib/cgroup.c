/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest cgroups on cgroup v2 and v1/hybrid hosts (see cgroup.h).
 *
 * Paths: every hierarchy found under the root gets
 * <hierarchy>/<cgroup_parent>/<guest>.  Control files are written with one
 * write(2) per value (the kernel takes one rule or one pid per write).
 * The unit tests run this code against a fake tree of plain directories:
 * there, control files are created by the writes and destroy removes
 * them; on a real cgroup file system both are no-ops (files cannot be
 * created there, and rmdir ignores them). */
#include "cgroup.h"
#include "safeio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

/* Largest control file we read (cgroup.procs of a big guest). */
#define CG_READ_MAX (16u << 20)
/* Pids signalled per batch (one pidfd each). */
#define KILL_BATCH 256

/* v1 hierarchies the guest joins, in the order listed in cgroup.h; the
 * directory name under the root is the controller name ("systemd" is the
 * name=systemd hierarchy).  Co-mounted controllers (cpu,cpuacct reached
 * through symlinks) count once. */
static const char *const v1_names[] = {
	"pids", "memory", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd",
};

/* v2 controllers enabled for the guests (in the parent's
 * cgroup.subtree_control), when the parent has them. */
static const char *const v2_controllers[] = { "pids", "memory", "cpu", "io", "cpuset" };

/* ---- small file helpers ------------------------------------------------- */

static char *path_join(const char *a, const char *b)
{
	return vs_asprintf("%s/%s", a, b);
}

static bool is_regular(const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_join(dir, name);
	struct stat st;
	return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read dir/name whole.  0, or -1 with errno set. */
/* A cgroup file (size reported as 0 or 4096, whatever it holds): the
 * shared bounded reader of safeio.c.  -1 with errno on failure. */
static int cg_read(const char *dir, const char *name, char **out)
{
	_cleanup_free_ char *p = path_join(dir, name);
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, p, CG_READ_MAX, out, NULL, &e) < 0) {
		errno = e.errnum ? e.errnum : (e.kind == VS_E_INVALID ? EINVAL : EIO);
		return -1;
	}
	return 0;
}

/* Write each of `vals` with its own write(2) to dir/name (opened once).
 * O_CREAT only matters for the fake trees of the unit tests: a cgroup
 * file system refuses to create files (EACCES). */
static int cg_write_v(const char *dir, const char *name, const char *const *vals, size_t n, vs_err *err)
{
	_cleanup_free_ char *p = path_join(dir, name);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return vs_fail_errno(err, "%s", p);
	for (size_t i = 0; i < n; i++) {
		int r = vs_write_value(fd, vals[i]);
		if (r < 0)
			return vs_fail_errno(err, "writing '%.*s' to %s", (int)strcspn(vals[i], "\n"), vals[i], p);
		if (r > 0)
			return vs_fail(err, VS_E_SYSTEM, EIO, "short write of '%.*s' to %s",
				       (int)strcspn(vals[i], "\n"), vals[i], p);
	}
	return 0;
}

static int cg_write(const char *dir, const char *name, const char *val, vs_err *err)
{
	return cg_write_v(dir, name, &val, 1, err);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- names and layout --------------------------------------------------- */

static int check_component(const char *what, const char *s, size_t len, vs_err *err)
{
	if (len == 0)
		return vs_fail(err, VS_E_INVALID, 0, "%s: empty name or path component", what);
	if (len > NAME_MAX)
		return vs_fail(err, VS_E_INVALID, 0, "%s: name too long", what);
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return vs_fail(err, VS_E_INVALID, 0, "%s: '.' and '..' are not allowed", what);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
			return vs_fail(err, VS_E_INVALID, 0, "%s: '/' and control characters are not allowed",
				       what);
	return 0;
}

/* Parent: one or more components separated by single '/', relative. */
static int check_parent(const struct vs_settings *s, vs_err *err)
{
	const char *p = s->cgroup_parent;
	for (;;) {
		size_t len = strcspn(p, "/");
		if (check_component("cgroup parent", p, len, err) < 0)
			return vs_err_prefix(err, "cgroup_parent '%s'", s->cgroup_parent);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int check_names(const struct vs_settings *s, const char *name, vs_err *err)
{
	if (check_parent(s, err) < 0)
		return -1;
	if (!name)
		return vs_fail(err, VS_E_INVALID, 0, "guest name missing");
	return check_component("guest name", name, strlen(name), err);
}

struct layout {
	int mode;
	char *unified;                           /* cgroup2 hierarchy root, or NULL */
	char *v1[VS_ARRAY_SIZE(v1_names)];       /* hierarchy roots (deduplicated) */
	const char *v1_name[VS_ARRAY_SIZE(v1_names)];
	size_t nv1;
	int freezer, devices, cpuset;            /* index into v1, -1 if absent */
};

static void layout_free(struct layout *l)
{
	free(l->unified);
	for (size_t i = 0; i < l->nv1; i++)
		free(l->v1[i]);
	memset(l, 0, sizeof *l);
}

const char *vs_cgroup_root(const struct vs_settings *s, const char *root)
{
	if (root && *root)
		return root;
	return s && *s->cgroup_root ? s->cgroup_root : VS_CGROUP_ROOT;
}

/* The real host's cgroup mount point, or one below it (a hybrid host's
 * cgroup2 mount as cgroup_root): confirm with file system magic. */
static bool is_host_root(const char *root)
{
	size_t n = strlen(root), m = strlen(VS_CGROUP_ROOT);
	while (n > 1 && root[n - 1] == '/')
		n--;
	return n >= m && strncmp(root, VS_CGROUP_ROOT, m) == 0 && (n == m || root[m] == '/');
}

static bool fs_is(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

static bool is_cgroupfs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && ((long)sf.f_type == CGROUP_SUPER_MAGIC ||
					  (long)sf.f_type == CGROUP2_SUPER_MAGIC);
}

int vs_cgroup_detect(const char *root, int *mode, vs_err *err)
{
	root = vs_cgroup_root(NULL, root);
	if (!is_dir(root))
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "cgroup root %s", root);
	bool v2 = is_regular(root, "cgroup.controllers");
	if (is_host_root(root)) {
		struct statfs sf;
		if (statfs(root, &sf) < 0)
			return vs_fail_errno(err, "statfs %s", root);
		if ((long)sf.f_type == CGROUP2_SUPER_MAGIC && v2) {
			*mode = VS_CG_UNIFIED;
			return 0;
		}
		if ((long)sf.f_type == TMPFS_MAGIC && !v2) {
			*mode = VS_CG_HYBRID;
			return 0;
		}
		return vs_fail(err, VS_E_SYSTEM, 0,
			       "%s is neither a cgroup2 mount nor a tmpfs holding cgroup mounts (file system magic %#lx)",
			       root, (unsigned long)sf.f_type);
	}
	if (v2) {
		*mode = VS_CG_UNIFIED;
		return 0;
	}
	_cleanup_free_ char *u = path_join(root, "unified");
	bool any = is_regular(u, "cgroup.controllers");
	for (size_t i = 0; i < VS_ARRAY_SIZE(v1_names) && !any; i++) {
		_cleanup_free_ char *p = path_join(root, v1_names[i]);
		struct stat st;
		any = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	}
	if (!any)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "no cgroup hierarchy found under %s", root);
	*mode = VS_CG_HYBRID;
	return 0;
}

static int layout_scan(const char *root, struct layout *l, vs_err *err)
{
	memset(l, 0, sizeof *l);
	l->freezer = l->devices = l->cpuset = -1;
	root = vs_cgroup_root(NULL, root);
	if (vs_cgroup_detect(root, &l->mode, err) < 0)
		return -1;
	bool host = is_host_root(root);
	if (l->mode == VS_CG_UNIFIED) {
		l->unified = vs_strdup(root);
		return 0;
	}
	char *u = path_join(root, "unified");
	if (is_regular(u, "cgroup.controllers") && (!host || fs_is(u, CGROUP2_SUPER_MAGIC)))
		l->unified = u;
	else
		free(u);
	struct stat seen[VS_ARRAY_SIZE(v1_names)];
	for (size_t i = 0; i < VS_ARRAY_SIZE(v1_names); i++) {
		char *p = path_join(root, v1_names[i]);
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || (host && !fs_is(p, CGROUP_SUPER_MAGIC))) {
			free(p);
			continue;
		}
		size_t j;
		for (j = 0; j < l->nv1; j++)
			if (seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino)
				break;
		if (j == l->nv1) {
			seen[j] = st;
			l->v1[j] = p;
			l->v1_name[j] = v1_names[i];
			l->nv1++;
		} else {
			free(p);
		}
		if (!strcmp(v1_names[i], "freezer"))
			l->freezer = (int)j;
		else if (!strcmp(v1_names[i], "devices"))
			l->devices = (int)j;
		else if (!strcmp(v1_names[i], "cpuset"))
			l->cpuset = (int)j;
	}
	if (!l->unified && l->nv1 == 0) {
		layout_free(l);
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "no cgroup hierarchy mounted under %s", root);
	}
	return 0;
}

/* Fill *cg with the guest's dirs (all of them, or only those that exist). */
static void layout_guest(const struct layout *l, const struct vs_settings *s, const char *name, bool only_existing,
			 struct vs_cgroup *cg)
{
	memset(cg, 0, sizeof *cg);
	cg->mode = l->mode;
	const char *pids = NULL;
	if (l->unified) {
		char *p = vs_asprintf("%s/%s/%s", l->unified, s->cgroup_parent, name);
		if (!only_existing || is_dir(p))
			cg->unified = p;
		else
			free(p);
	}
	for (size_t i = 0; i < l->nv1; i++) {
		char *p = vs_asprintf("%s/%s/%s", l->v1[i], s->cgroup_parent, name);
		if (only_existing && !is_dir(p)) {
			free(p);
			continue;
		}
		vs_strv_push_take(&cg->v1, p);
		if ((int)i == l->freezer)
			cg->v1_freezer = vs_strdup(p);
		if ((int)i == l->devices)
			cg->v1_devices = vs_strdup(p);
		if (!strcmp(l->v1_name[i], "pids"))
			pids = p;
	}
	/* the listing hierarchy: v1 pids, else the freezer, else cgroup2 */
	if (!pids)
		pids = cg->v1_freezer ? cg->v1_freezer : cg->unified ? cg->unified : cg->v1.n ? cg->v1.v[0] : NULL;
	cg->pids_dir = pids ? vs_strdup(pids) : NULL;
}

void vs_cgroup_free(struct vs_cgroup *cg)
{
	if (!cg)
		return;
	free(cg->unified);
	vs_strv_free(&cg->v1);
	free(cg->pids_dir);
	free(cg->v1_freezer);
	free(cg->v1_devices);
	memset(cg, 0, sizeof *cg);
}

/* ---- pid listing ----------------------------------------------------------- */

struct pidset {
	pid_t *v;
	size_t n, cap;
};

static void pidset_add(struct pidset *ps, pid_t p)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		pid_t *v = realloc(ps->v, cap * sizeof *v);
		if (!v)
			abort();
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n++] = p;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Names of the sub-directories of `dir` (ENOENT: none). */
static int subdirs(const char *dir, vs_strv *out, vs_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vs_fail_errno(err, "%s", dir);
	}
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return vs_fail_errno(err, "%s", dir);
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			isdir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		}
		if (isdir)
			vs_strv_push(out, de->d_name);
	}
	if (errno)
		return vs_fail_errno(err, "reading %s", dir);
	return 0;
}

/* Add every pid of dir/cgroup.procs and of its sub-cgroups.  A dir that
 * vanished meanwhile counts as empty.  With `want` > 0, stop as soon as
 * it is found (*found). */
static int collect(const char *dir, struct pidset *ps, pid_t want, bool *found, vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	if (cg_read(dir, "cgroup.procs", &data) < 0) {
		if (errno != ENOENT)
			return vs_fail_errno(err, "%s/cgroup.procs", dir);
	} else {
		char *save = NULL;
		for (char *t = strtok_r(data, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
			uint64_t v;
			if (vs_parse_u64(t, &v) < 0 || v == 0 || v > INT32_MAX)
				return vs_fail(err, VS_E_SYSTEM, 0, "%s/cgroup.procs: unexpected line '%.32s'", dir, t);
			if (want > 0 && (pid_t)v == want) {
				*found = true;
				return 0;
			}
			if (ps)
				pidset_add(ps, (pid_t)v);
		}
	}
	_cleanup_strv_ vs_strv subs = { 0 };
	if (subdirs(dir, &subs, err) < 0)
		return -1;
	for (size_t i = 0; i < subs.n; i++) {
		_cleanup_free_ char *p = path_join(dir, subs.v[i]);
		if (collect(p, ps, want, found, err) < 0)
			return -1;
		if (found && *found)
			return 0;
	}
	return 0;
}

static int list_pids(const struct vs_cgroup *cg, struct pidset *ps, vs_err *err)
{
	ps->n = 0;
	if (!cg->pids_dir)
		return 0;
	if (collect(cg->pids_dir, ps, 0, NULL, err) < 0)
		return -1;
	if (ps->n) {
		qsort(ps->v, ps->n, sizeof *ps->v, pid_cmp);
		size_t k = 1;
		for (size_t i = 1; i < ps->n; i++)
			if (ps->v[i] != ps->v[k - 1])
				ps->v[k++] = ps->v[i];
		ps->n = k;
	}
	return 0;
}

int vs_cgroup_pids(const struct vs_cgroup *cg, pid_t **pids, size_t *n, vs_err *err)
{
	struct pidset ps = { 0 };
	if (list_pids(cg, &ps, err) < 0) {
		free(ps.v);
		return -1;
	}
	*pids = ps.v ? ps.v : vs_xmalloc0(sizeof(pid_t));
	*n = ps.n;
	return 0;
}

bool vs_cgroup_contains(const struct vs_cgroup *cg, pid_t pid)
{
	bool found = false;
	if (pid <= 0 || !cg->pids_dir)
		return false;
	if (collect(cg->pids_dir, NULL, pid, &found, NULL) < 0)
		return false;
	return found;
}

/* ---- create / open / attach ------------------------------------------------ */

/* Is the value of a cpuset file empty (only blanks)? */
static bool blank(const char *s)
{
	return s[strspn(s, " \t\n")] == 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems and accepts no
 * task; give it its parent's. */
static int cpuset_inherit(const char *parent, const char *dir, vs_err *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *cur = NULL, *up = NULL;
		if (cg_read(dir, files[i], &cur) == 0 && !blank(cur))
			continue;
		if (cg_read(parent, files[i], &up) < 0)
			return vs_fail_errno(err, "%s/%s", parent, files[i]);
		if (blank(up))
			return vs_fail(err, VS_E_SYSTEM, 0, "%s/%s is empty", parent, files[i]);
		if (cg_write(dir, files[i], up, err) < 0)
			return -1;
	}
	return 0;
}

/* v2: enable in dir/cgroup.subtree_control the wanted controllers that
 * dir has.  Controllers are extras (the guest is counted, killed and
 * confined without them): when the whole set is refused, each is tried
 * alone and the refused ones are left out. */
static int enable_controllers(const char *dir, vs_err *err)
{
	_cleanup_free_ char *have = NULL;
	if (cg_read(dir, "cgroup.controllers", &have) < 0) {
		if (errno == ENOENT)
			return 0;
		return vs_fail_errno(err, "%s/cgroup.controllers", dir);
	}
	char want[256] = "";
	const char *one[VS_ARRAY_SIZE(v2_controllers)];
	char ones[VS_ARRAY_SIZE(v2_controllers)][32];
	size_t n = 0;
	for (size_t i = 0; i < VS_ARRAY_SIZE(v2_controllers); i++) {
		bool present = false;
		char *save = NULL;
		_cleanup_free_ char *copy = vs_strdup(have);
		for (char *t = strtok_r(copy, " \t\n", &save); t && !present; t = strtok_r(NULL, " \t\n", &save))
			present = !strcmp(t, v2_controllers[i]);
		if (!present)
			continue;
		snprintf(ones[n], sizeof ones[n], "+%s", v2_controllers[i]);
		one[n] = ones[n];
		size_t l = strlen(want);
		snprintf(want + l, sizeof want - l, "%s%s", l ? " " : "", ones[n]);
		n++;
	}
	if (!n)
		return 0;
	vs_err e;
	if (cg_write(dir, "cgroup.subtree_control", want, &e) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		cg_write(dir, "cgroup.subtree_control", one[i], &e);
	return 0;
}

/* Create <hroot>/<parent> level by level (existing levels are kept). */
static int make_parent(const char *hroot, const struct vs_settings *s, bool v2_controllers_on, bool cpuset,
		       vs_err *err)
{
	_cleanup_free_ char *prev = vs_strdup(hroot);
	const char *p = s->cgroup_parent;
	for (;;) {
		size_t len = strcspn(p, "/");
		_cleanup_free_ char *dir = vs_asprintf("%.*s", (int)(p + len - s->cgroup_parent), s->cgroup_parent);
		_cleanup_free_ char *full = path_join(hroot, dir);
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			return vs_fail_errno(err, "creating cgroup %s", full);
		if (!is_dir(full))
			return vs_fail(err, VS_E_SYSTEM, ENOTDIR, "cgroup %s", full);
		if (cpuset && cpuset_inherit(prev, full, err) < 0)
			return -1;
		if (v2_controllers_on && enable_controllers(full, err) < 0)
			return -1;
		free(prev);
		prev = vs_steal(full);
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

static bool dir_has_subdirs(const char *dir)
{
	_cleanup_strv_ vs_strv subs = { 0 };
	return subdirs(dir, &subs, NULL) < 0 || subs.n > 0;
}

/* rmdir one cgroup dir (no sub-cgroups left).  Outside a cgroup file
 * system (the unit tests' fake trees) the plain files go first.  EBUSY
 * right after the last process left is transient: retried for a while.
 * Returns 0 (also when already gone), 1 when still in use, -1 on error. */
static int rmdir_cg(const char *dir, vs_err *err)
{
	if (!is_cgroupfs(dir)) {
		_cleanup_closedir_ DIR *d = opendir(dir);
		if (!d)
			return errno == ENOENT ? 0 : vs_fail_errno(err, "%s", dir);
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_type != DT_DIR)
				unlinkat(dirfd(d), de->d_name, 0);
	}
	for (int i = 0;; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno == ENOTEMPTY)
			return 1;
		if (errno != EBUSY)
			return vs_fail_errno(err, "removing cgroup %s", dir);
		if (i >= 100)
			return 1;
		sleep_ms(10);
	}
}

/* Remove dir and its sub-cgroups, depth first. */
static int rm_tree(const char *dir, vs_err *err)
{
	_cleanup_strv_ vs_strv subs = { 0 };
	if (subdirs(dir, &subs, err) < 0)
		return -1;
	for (size_t i = 0; i < subs.n; i++) {
		_cleanup_free_ char *p = path_join(dir, subs.v[i]);
		if (rm_tree(p, err) < 0)
			return -1;
	}
	int r = rmdir_cg(dir, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return vs_fail(err, VS_E_STATE, EBUSY, "removing cgroup %s", dir);
	return 0;
}

static int guest_dirs(const struct vs_cgroup *cg, const char **out, size_t max)
{
	size_t n = 0;
	if (cg->unified && n < max)
		out[n++] = cg->unified;
	for (size_t i = 0; i < cg->v1.n && n < max; i++)
		out[n++] = cg->v1.v[i];
	return (int)n;
}

/* Common start of create and open: names checked, hierarchies scanned. */
static int begin(const struct vs_settings *s, const char *root, const char *name, struct vs_cgroup *cg,
		 struct layout *l, vs_err *err)
{
	memset(cg, 0, sizeof *cg);
	if (check_names(s, name, err) < 0)
		return -1;
	return layout_scan(vs_cgroup_root(s, root), l, err);
}

int vs_cgroup_create(const struct vs_settings *s, const char *root, const char *name, struct vs_cgroup *cg,
		     vs_err *err)
{
	struct layout l;
	if (begin(s, root, name, cg, &l, err) < 0)
		return -1;
	int rc = -1;
	/* leftovers of an earlier run: refuse while processes remain, else
	 * start afresh (stale sub-cgroups and device programs go with it) */
	struct vs_cgroup old;
	layout_guest(&l, s, name, true, &old);
	if (old.unified || old.v1.n) {
		struct pidset ps = { 0 };
		int r = list_pids(&old, &ps, err);
		size_t np = ps.n;
		free(ps.v);
		if (r == 0 && np)
			vs_fail(err, VS_E_STATE, 0, "the cgroup of '%s' already exists and holds %zu process%s", name,
				np, np == 1 ? "" : "es");
		if (r < 0 || np || vs_cgroup_destroy(&old, err) < 0) {
			vs_cgroup_free(&old);
			goto out;
		}
	}
	vs_cgroup_free(&old);
	if (l.unified && make_parent(l.unified, s, l.mode == VS_CG_UNIFIED, false, err) < 0)
		goto out;
	for (size_t i = 0; i < l.nv1; i++)
		if (make_parent(l.v1[i], s, false, (int)i == l.cpuset, err) < 0)
			goto out;
	layout_guest(&l, s, name, false, cg);
	const char *dirs[VS_ARRAY_SIZE(v1_names) + 1];
	int nd = guest_dirs(cg, dirs, VS_ARRAY_SIZE(dirs));
	int made = 0;
	for (; made < nd; made++) {
		if (mkdir(dirs[made], 0755) < 0) {
			vs_fail(err, errno == EEXIST ? VS_E_EXISTS : VS_E_SYSTEM, errno, "creating cgroup %s",
				dirs[made]);
			break;
		}
	}
	if (made == nd && l.cpuset >= 0) {
		_cleanup_free_ char *pdir = vs_asprintf("%s/%s", l.v1[l.cpuset], s->cgroup_parent);
		_cleanup_free_ char *gdir = path_join(pdir, name);
		if (cpuset_inherit(pdir, gdir, err) == 0)
			rc = 0;
	} else if (made == nd) {
		rc = 0;
	}
	if (rc < 0) {
		for (int i = made - 1; i >= 0; i--)
			rmdir_cg(dirs[i], NULL);
		vs_cgroup_free(cg);
	}
out:
	layout_free(&l);
	return rc;
}

int vs_cgroup_open(const struct vs_settings *s, const char *root, const char *name, struct vs_cgroup *cg,
		   vs_err *err)
{
	struct layout l;
	if (begin(s, root, name, cg, &l, err) < 0)
		return -1;
	layout_guest(&l, s, name, true, cg);
	layout_free(&l);
	if (!cg->unified && !cg->v1.n) {
		vs_cgroup_free(cg);
		return vs_fail(err, VS_E_NOGUEST, 0, "no cgroup for guest '%s'", name);
	}
	return 0;
}

/* v1 memory: a limit covers the sub-cgroups only with use_hierarchy 1
 * (the only mode since Linux 5.16; older kernels let it be 0, and it can
 * be changed only while the cgroup has no sub-cgroup). */
static int v1_memory_hierarchical(const char *dir, vs_err *err)
{
	_cleanup_free_ char *v = NULL;
	if (cg_read(dir, "memory.use_hierarchy", &v) < 0)
		return errno == ENOENT ? 0 : vs_fail_errno(err, "%s/memory.use_hierarchy", dir);
	if (v[strspn(v, " \t\n")] == '1')
		return 0;
	if (cg_write(dir, "memory.use_hierarchy", "1", err) < 0)
		return vs_err_prefix(err, "the guest's memory limit would not cover its processes "
				     "(memory.use_hierarchy is 0 and cannot be set to 1)");
	return 0;
}

int vs_cgroup_make_payload(const struct vs_cgroup *cg, vs_err *err)
{
	const char *dirs[VS_ARRAY_SIZE(v1_names) + 1];
	int nd = guest_dirs(cg, dirs, VS_ARRAY_SIZE(dirs));
	if (!nd)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "no guest cgroup to make the payload cgroup in");
	for (int i = 0; i < nd; i++) {
		_cleanup_free_ char *pl = path_join(dirs[i], VS_CGROUP_PAYLOAD);
		if (is_dir(pl))
			continue;
		bool v2 = dirs[i] == cg->unified;
		/* cgroup2: hand the guest dir's controllers down, so that the
		 * payload (systemd's root) can delegate them in turn */
		if (v2 && enable_controllers(dirs[i], err) < 0)
			return -1;
		if (!v2 && v1_memory_hierarchical(dirs[i], err) < 0)
			return -1;
		if (mkdir(pl, 0755) < 0 && errno != EEXIST)
			return vs_fail_errno(err, "creating cgroup %s", pl);
		if (!is_dir(pl))
			return vs_fail(err, VS_E_SYSTEM, ENOTDIR, "cgroup %s", pl);
		/* v1 cpuset: a new cgroup has no cpus and mems and takes no task */
		if (!v2 && is_regular(dirs[i], "cpuset.cpus") && cpuset_inherit(dirs[i], pl, err) < 0)
			return -1;
	}
	return 0;
}

int vs_cgroup_attach(const struct vs_cgroup *cg, pid_t pid, vs_err *err)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%d\n", (int)pid);
	const char *dirs[VS_ARRAY_SIZE(v1_names) + 1];
	int nd = guest_dirs(cg, dirs, VS_ARRAY_SIZE(dirs));
	if (!nd)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "no cgroup to attach process %d to", (int)pid);
	if (vs_cgroup_make_payload(cg, err) < 0)
		return vs_err_prefix(err, "moving process %d into the guest cgroup", (int)pid);
	for (int i = 0; i < nd; i++) {
		_cleanup_free_ char *pl = path_join(dirs[i], VS_CGROUP_PAYLOAD);
		if (cg_write(pl, "cgroup.procs", buf, err) < 0)
			return vs_err_prefix(err, "moving process %d into the guest cgroup", (int)pid);
	}
	return 0;
}

int vs_cgroup_join_self(const struct vs_cgroup *cg, bool skip_unified, vs_err *err)
{
	if (!cg->unified && !cg->v1.n)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "no cgroup to join");
	/* v1: the calling thread through `tasks`, pid 0 (this thread).  The
	 * kernel takes its global threadgroup lock for cgroup.procs writes
	 * and for other pids only; that lock makes the first migration after
	 * a pause wait for an RCU grace period (5-20 ms). */
	for (size_t i = 0; i < cg->v1.n; i++) {
		_cleanup_free_ char *pl = path_join(cg->v1.v[i], VS_CGROUP_PAYLOAD);
		if (cg_write(pl, "tasks", "0\n", err) < 0)
			return vs_err_prefix(err, "joining the guest cgroup");
	}
	if (cg->unified && !skip_unified) {
		_cleanup_free_ char *pl = path_join(cg->unified, VS_CGROUP_PAYLOAD);
		if (cg_write(pl, "cgroup.procs", "0\n", err) < 0)
			return vs_err_prefix(err, "joining the guest cgroup");
	}
	return 0;
}

int vs_cgroup_unified_fd(const struct vs_cgroup *cg, vs_err *err)
{
	if (!cg->unified)
		return vs_fail(err, VS_E_SYSTEM, ENOENT, "this host has no cgroup2 hierarchy");
	_cleanup_free_ char *pl = path_join(cg->unified, VS_CGROUP_PAYLOAD);
	int fd = open(pl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s", pl);
	return fd;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

pid_t vs_clone_into_cgroup(int cgfd, unsigned long flags, bool *born_in)
{
	*born_in = false;
	if (cgfd >= 0) {
		/* The child reports that it runs: see below. */
		int alive[2];
		if (pipe2(alive, O_CLOEXEC) < 0)
			return -1;
		struct {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
				set_tid, set_tid_size, cgroup;
		} a = { .flags = CLONE_INTO_CGROUP | (flags & ~(unsigned long)CSIGNAL), .exit_signal = SIGCHLD,
			.cgroup = (uint64_t)cgfd };
		long r = syscall(SYS_clone3, &a, sizeof a);
		if (r == 0) {
			*born_in = true; /* the child's copy: it joins the v1 hierarchies itself */
			close(alive[0]);
			if (write(alive[1], "+", 1) < 0) {
			}
			close(alive[1]);
			return 0;
		}
		int e = errno;
		close(alive[1]);
		if (r > 0) {
			/* Kernels with the 2025 fork/cgroup.kill race fix
			 * (cgroup kill_seq; this 6.18 has it) compare the target
			 * cgroup's count of cgroup.kill writes with that of the
			 * parent's cgroup, not of the target's: once anyone
			 * wrote cgroup.kill in the target (a guest that rebooted
			 * with processes left, an admin), every child born there
			 * gets SIGKILL before it runs.  Such a child never
			 * writes; it is reaped and made again the plain way. */
			char c;
			ssize_t n;
			while ((n = read(alive[0], &c, 1)) < 0 && errno == EINTR)
				;
			close(alive[0]);
			if (n == 1) {
				*born_in = true;
				return (pid_t)r;
			}
			kill((pid_t)r, SIGKILL); /* no write end left: it is dead already */
			int st = 0;
			while (waitpid((pid_t)r, &st, 0) < 0 && errno == EINTR)
				;
			if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
				errno = ECHILD;
				return -1;
			}
		} else {
			close(alive[0]);
			/* only "cannot do that here" falls back (no clone3, an
			 * older kernel, a filter); a real error (EAGAIN at
			 * pids.max, EBUSY, ENOMEM) is the answer: a plain clone
			 * in our cgroup would step around the guest's pids
			 * limit */
			if (e != ENOSYS && e != E2BIG && e != EINVAL && e != EPERM) {
				errno = e;
				return -1;
			}
		}
	}
	return (pid_t)syscall(SYS_clone, (flags & ~(unsigned long)CSIGNAL) | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* ---- kill ------------------------------------------------------------------ */

/* SIGKILL every process listed in the cgroup.  A pid is pinned with a
 * pidfd and signalled only if it is still listed afterwards, so a pid
 * that was reused meanwhile by a process outside the guest is never hit. */
static int signal_listed(const struct vs_cgroup *cg, int sig, vs_err *err)
{
	struct pidset a = { 0 }, b = { 0 };
	int rc = list_pids(cg, &a, err);
	for (size_t off = 0; rc == 0 && off < a.n; off += KILL_BATCH) {
		size_t cnt = a.n - off < KILL_BATCH ? a.n - off : KILL_BATCH;
		int fds[KILL_BATCH];
		bool nosys[KILL_BATCH];
		for (size_t i = 0; i < cnt; i++) {
			fds[i] = (int)syscall(__NR_pidfd_open, a.v[off + i], 0);
			nosys[i] = fds[i] < 0 && errno == ENOSYS;
		}
		rc = list_pids(cg, &b, err);
		for (size_t i = 0; i < cnt; i++) {
			pid_t p = a.v[off + i];
			bool listed = rc == 0 && bsearch(&p, b.v, b.n, sizeof *b.v, pid_cmp);
			if (listed) {
				if (fds[i] >= 0)
					syscall(__NR_pidfd_send_signal, fds[i], sig, NULL, 0);
				else if (nosys[i])
					kill(p, sig); /* kernel < 5.3 */
			}
			if (fds[i] >= 0)
				close(fds[i]);
		}
	}
	free(a.v);
	free(b.v);
	return rc;
}

static int frozen_kill_blocked(const struct vs_cgroup *cg, const char *dir, bool v1, const char *file,
			       double deadline, vs_err *err);

/* Freeze through `file` (v1 freezer.state / v2 cgroup.freeze), wait a
 * little for the freeze to complete, kill, and always thaw. */
static int frozen_kill(const struct vs_cgroup *cg, const char *dir, bool v1, double deadline, vs_err *err)
{
	const char *file = v1 ? "freezer.state" : "cgroup.freeze";
	/* a stop interrupted (Ctrl-C) between freeze and thaw would leave the
	 * whole guest frozen: those signals wait until it is thawed */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);
	int rc = frozen_kill_blocked(cg, dir, v1, file, deadline, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int frozen_kill_blocked(const struct vs_cgroup *cg, const char *dir, bool v1, const char *file,
			       double deadline, vs_err *err)
{
	if (cg_write(dir, file, v1 ? "FROZEN" : "1", err) < 0)
		return -1;
	double until = vs_now() + 0.2;
	if (until > deadline)
		until = deadline;
	for (;;) {
		_cleanup_free_ char *st = NULL;
		bool done;
		if (v1)
			done = cg_read(dir, "freezer.state", &st) == 0 && vs_str_startswith(st, "FROZEN");
		else
			done = cg_read(dir, "cgroup.events", &st) == 0 && strstr(st, "frozen 1");
		if (done || vs_now() >= until)
			break;
		sleep_ms(2);
	}
	/* frozen or not, kill what is listed: dying tasks may hold up the freeze */
	int rc = signal_listed(cg, SIGKILL, err);
	vs_err e2;
	if (cg_write(dir, file, v1 ? "THAWED" : "0", &e2) < 0 && rc == 0) {
		*err = e2;
		rc = -1;
	}
	return rc;
}

/* On cgroup2 the freezer, not cgroup.kill: a cgroup.kill write makes the
 * kernel (kill_seq, see vs_clone_into_cgroup) kill every child later born in
 * that cgroup with CLONE_INTO_CGROUP, and the guest dir and its payload
 * live on across a reboot inside the guest.  Frozen tasks cannot fork
 * either, so nothing escapes the kill. */
static int kill_round(const struct vs_cgroup *cg, double deadline, vs_err *err)
{
	if (cg->mode == VS_CG_HYBRID && cg->v1_freezer)
		return frozen_kill(cg, cg->v1_freezer, true, deadline, err);
	if (cg->unified && is_regular(cg->unified, "cgroup.freeze") &&
	    frozen_kill(cg, cg->unified, false, deadline, err) == 0)
		return 0;
	if (cg->unified && is_regular(cg->unified, "cgroup.kill") && cg_write(cg->unified, "cgroup.kill", "1", err) == 0)
		return 0;
	return signal_listed(cg, SIGKILL, err);
}

int vs_cgroup_signal(const struct vs_cgroup *cg, int sig, vs_err *err)
{
	return signal_listed(cg, sig, err);
}

int vs_cgroup_kill(const struct vs_cgroup *cg, int timeout_ms, vs_err *err)
{
	double deadline = vs_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
	struct pidset ps = { 0 };
	int rc = -1;
	for (int round = 0;; round++) {
		if (list_pids(cg, &ps, err) < 0)
			break;
		if (ps.n == 0) {
			rc = 0;
			break;
		}
		if (round > 0 && vs_now() >= deadline) {
			vs_fail(err, VS_E_SYSTEM, ETIMEDOUT, "%zu process%s still in cgroup %s after %d ms", ps.n,
				ps.n == 1 ? "" : "es", cg->pids_dir, timeout_ms);
			break;
		}
		if (kill_round(cg, deadline, err) < 0)
			break;
		/* let them die: poll for up to 100 ms before the next round */
		double next = vs_now() + 0.1;
		bool empty = false;
		while (!empty && vs_now() < next && vs_now() < deadline) {
			sleep_ms(5);
			if (list_pids(cg, &ps, err) < 0)
				goto out;
			empty = ps.n == 0;
		}
		if (empty) {
			rc = 0;
			break;
		}
	}
out:
	free(ps.v);
	return rc;
}

/* ---- destroy ---------------------------------------------------------------- */

int vs_cgroup_destroy(const struct vs_cgroup *cg, vs_err *err)
{
	struct pidset ps = { 0 };
	if (list_pids(cg, &ps, err) < 0)
		return -1;
	free(ps.v);
	if (ps.n)
		return vs_fail(err, VS_E_STATE, 0, "cgroup %s still holds %zu process%s", cg->pids_dir, ps.n,
			       ps.n == 1 ? "" : "es");
	const char *dirs[VS_ARRAY_SIZE(v1_names) + 1];
	int nd = guest_dirs(cg, dirs, VS_ARRAY_SIZE(dirs));
	for (int i = 0; i < nd; i++)
		if (rm_tree(dirs[i], err) < 0)
			return -1;
	return 0;
}

int vs_cgroup_remove_parent_if_empty(const struct vs_settings *s, const char *root, vs_err *err)
{
	if (check_parent(s, err) < 0)
		return -1;
	struct layout l;
	if (layout_scan(vs_cgroup_root(s, root), &l, err) < 0)
		return -1;
	int rc = 0;
	for (size_t h = 0; h <= l.nv1 && rc == 0; h++) {
		const char *hroot = h < l.nv1 ? l.v1[h] : l.unified;
		if (!hroot)
			continue;
		/* deepest level first; stop at the first one still in use */
		_cleanup_free_ char *rel = vs_strdup(s->cgroup_parent);
		for (;;) {
			_cleanup_free_ char *full = path_join(hroot, rel);
			if (is_dir(full)) {
				if (dir_has_subdirs(full))
					break;
				int r = rmdir_cg(full, err);
				if (r < 0)
					rc = -1;
				if (r != 0)
					break;
			}
			char *slash = strrchr(rel, '/');
			if (!slash)
				break;
			*slash = 0;
		}
	}
	layout_free(&l);
	return rc;
}

/* ---- device policy -------------------------------------------------------- */

static int check_rules(const struct vs_dev_rule *rules, size_t n, vs_err *err)
{
	if (n > VS_DEV_RULES_MAX)
		return vs_fail(err, VS_E_INVALID, 0, "too many device rules (%zu, at most %d)", n, VS_DEV_RULES_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct vs_dev_rule *r = &rules[i];
		if (r->type != 'c' && r->type != 'b')
			return vs_fail(err, VS_E_INVALID, 0, "device rule %zu: type must be 'c' or 'b'", i + 1);
		if (r->major < -1 || r->minor < -1 || r->major > 0xfff || r->minor > 0xfffff)
			return vs_fail(err, VS_E_INVALID, 0, "device rule %zu: bad major/minor %d:%d", i + 1, r->major,
				       r->minor);
		const char *a = r->access;
		if (!a || !*a || strlen(a) > 3 || strspn(a, "rwm") != strlen(a) ||
		    (strchr(a, 'r') != strrchr(a, 'r')) || (strchr(a, 'w') != strrchr(a, 'w')) ||
		    (strchr(a, 'm') != strrchr(a, 'm')))
			return vs_fail(err, VS_E_INVALID, 0, "device rule %zu: access must be letters of \"rwm\"",
				       i + 1);
	}
	return 0;
}

static int set_devices_v1(const char *dir, const struct vs_dev_rule *rules, size_t n, vs_err *err)
{
	if (cg_write(dir, "devices.deny", "a", err) < 0) {
		if (err && err->errnum == EINVAL)
			vs_err_prefix(err, "the cgroup already has sub-cgroups");
		return -1;
	}
	char(*lines)[48] = vs_xmalloc0((n ? n : 1) * sizeof *lines);
	const char **vals = vs_xmalloc0((n ? n : 1) * sizeof *vals);
	for (size_t i = 0; i < n; i++) {
		char maj[16] = "*", min[16] = "*";
		if (rules[i].major >= 0)
			snprintf(maj, sizeof maj, "%d", rules[i].major);
		if (rules[i].minor >= 0)
			snprintf(min, sizeof min, "%d", rules[i].minor);
		snprintf(lines[i], sizeof lines[i], "%c %s:%s %s\n", rules[i].type, maj, min, rules[i].access);
		vals[i] = lines[i];
	}
	int rc = n ? cg_write_v(dir, "devices.allow", vals, n, err) : 0;
	free(lines);
	free(vals);
	return rc;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			abort();
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return p->n++;
}

/* The program, for a bpf_cgroup_dev_ctx in r1:
 *   r2 = type (low 16 bits of access_type), r3 = access (high 16 bits),
 *   r4 = major, r5 = minor
 *   per rule:  if r2 != TYPE goto next
 *              if (r3 & ~ACCESS) != 0 goto next     (unless ACCESS is rwm)
 *              if r4 != MAJOR goto next             (unless any major)
 *              if r5 != MINOR goto next             (unless any minor)
 *              return 1
 *   next: ...  return 0 */
static void build_prog(const struct vs_dev_rule *rules, size_t n, struct prog *p)
{
	enum { R0, R1, R2, R3, R4, R5 };
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R2, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R3, R2, 0, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	for (size_t i = 0; i < n; i++) {
		const struct vs_dev_rule *r = &rules[i];
		size_t jumps[4], nj = 0;
		int acc = 0;
		for (const char *a = r->access; *a; a++)
			acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
		int type = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
		jumps[nj++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, 0, type);
		if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
			emit(p, BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0);
			emit(p, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, ~acc);
			jumps[nj++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R1, 0, 0, 0);
		}
		if (r->major >= 0)
			jumps[nj++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, 0, r->major);
		if (r->minor >= 0)
			jumps[nj++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, 0, r->minor);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1);
		emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		for (size_t j = 0; j < nj; j++)
			p->v[jumps[j]].off = (int16_t)(p->n - jumps[j] - 1);
	}
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int load_prog(const struct prog *p, vs_err *err)
{
	static const char license[] = "GPL";
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uint64_t)(uintptr_t)license;
	snprintf(a.prog_name, sizeof a.prog_name, "vserver_devices");
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int e = errno;
	/* again with the verifier's log, for the error message */
	_cleanup_free_ char *log = vs_xmalloc0(16384);
	a.log_level = 1;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = 16384;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	size_t l = strlen(log);
	return vs_fail(err, VS_E_SYSTEM, e, "loading the BPF device program (%zu instructions)%s%.1200s", p->n,
		       l ? "; verifier: " : "", l > 1200 ? log + l - 1200 : log);
}

int vs_cgroup_bpf_device_progs(int cgfd, uint32_t **ids, uint32_t *n, vs_err *err)
{
	uint32_t cap = 16;
	for (;;) {
		uint32_t *v = vs_xmalloc0(cap * sizeof *v);
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.query.target_fd = (uint32_t)cgfd;
		a.query.attach_type = BPF_CGROUP_DEVICE;
		a.query.prog_ids = (uint64_t)(uintptr_t)v;
		a.query.prog_cnt = cap;
		if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
			*ids = v;
			*n = a.query.prog_cnt;
			return 0;
		}
		int e = errno;
		free(v);
		if (e != ENOSPC || a.query.prog_cnt <= cap)
			return vs_fail(err, VS_E_SYSTEM, e, "querying the cgroup's BPF device programs");
		cap = a.query.prog_cnt;
	}
}

static int set_devices_bpf(const char *dir, const struct vs_dev_rule *rules, size_t n, vs_err *err)
{
	struct prog p = { 0 };
	build_prog(rules, n, &p);
	_cleanup_close_ int prog = load_prog(&p, err);
	free(p.v);
	if (prog < 0)
		return -1;
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cgfd < 0)
		return vs_fail_errno(err, "%s", dir);
	_cleanup_free_ uint32_t *old = NULL;
	uint32_t nold = 0;
	if (vs_cgroup_bpf_device_progs(cgfd, &old, &nold, err) < 0)
		return vs_err_prefix(err, "%s", dir);
	/* the new program first, then the old ones go: never a moment
	 * without a policy (with several programs, all must allow) */
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return vs_fail_errno(err, "attaching the BPF device program to %s", dir);
	for (uint32_t i = 0; i < nold; i++) {
		memset(&a, 0, sizeof a);
		a.prog_id = old[i];
		_cleanup_close_ int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (ofd < 0) {
			if (errno == ENOENT)
				continue;
			return vs_fail_errno(err, "BPF program %u on %s", old[i], dir);
		}
		memset(&a, 0, sizeof a);
		a.target_fd = (uint32_t)cgfd;
		a.attach_bpf_fd = (uint32_t)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			return vs_fail_errno(err, "detaching the old BPF device program %u from %s", old[i], dir);
	}
	return 0;
}

int vs_cgroup_set_devices(const struct vs_cgroup *cg, const struct vs_dev_rule *rules, size_t n, vs_err *err)
{
	if (check_rules(rules, n, err) < 0)
		return -1;
	if (!cg->v1_devices && !cg->unified)
		return vs_fail(err, VS_E_SYSTEM, ENOTSUP, "no device controller: neither v1 devices nor cgroup2");
	if (cg->v1_devices && set_devices_v1(cg->v1_devices, rules, n, err) < 0)
		return vs_err_prefix(err, "device policy (v1)");
	if (cg->unified && set_devices_bpf(cg->unified, rules, n, err) < 0)
		return vs_err_prefix(err, "device policy (BPF)");
	return 0;
}
