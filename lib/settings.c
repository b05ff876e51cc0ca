/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "settings.h"
#include "lxcfs.h"
#include "safeio.h"
#include "util.h"
#include "vs-build-config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	const char *key, *env;
	size_t off, size;
	const char *def;
	const char *deflink; /* .defaults/<link> consulted before def */
} setting_table[] = {
	{ "confdir", "VSERVER_CONFDIR", offsetof(struct vs_settings, confdir), PATH_MAX, VS_CONFDIR, NULL },
	{ "vdirbase", "VSERVER_VDIRBASE", offsetof(struct vs_settings, vdirbase), PATH_MAX, "/vservers", "vdirbase" },
	{ "cachebase", "VSERVER_CACHEBASE", offsetof(struct vs_settings, cachebase), PATH_MAX,
	  "/var/cache/vservers", "cachebase" },
	{ "rundir", "VSERVER_RUNDIR", offsetof(struct vs_settings, rundir), PATH_MAX, "/run/vservers", NULL },
	{ "cgroup_parent", "VSERVER_CGROUP_PARENT", offsetof(struct vs_settings, cgroup_parent), 128, "vserver", NULL },
	/* where the host's cgroups are mounted; the cgroup2 mount of a hybrid
	 * host (/sys/fs/cgroup/unified) runs the guests on cgroup2 alone */
	{ "cgroup_root", "VSERVER_CGROUP_ROOT", offsetof(struct vs_settings, cgroup_root), PATH_MAX, "/sys/fs/cgroup",
	  NULL },
	{ "lxcfs", "VSERVER_LXCFS", offsetof(struct vs_settings, lxcfs), PATH_MAX, VS_LXCFS_DEFAULT, NULL },
	/* off by default: see SECURITY.md, "User-namespace guests" */
	{ "userns", "VSERVER_USERNS", offsetof(struct vs_settings, userns), 2, "0", NULL },
};

static int set_value(struct vs_settings *s, size_t i, const char *v, const char *origin, vs_err *err)
{
	char *dst = (char *)s + setting_table[i].off;
	if (!*v)
		return vs_fail(err, VS_E_INVALID, 0, "%s: %s is empty", origin, setting_table[i].key);
	if (!strcmp(setting_table[i].key, "userns")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return vs_fail(err, VS_E_INVALID, 0, "%s: userns='%s' must be 1 (on) or 0 (off)", origin, v);
		strcpy(dst, v);
		return 0;
	}
	/* lxcfs=none turns LXCFS off; every other value but cgroup_parent is a path */
	bool off_ok = !strcmp(setting_table[i].key, "lxcfs");
	if (strcmp(setting_table[i].key, "cgroup_parent") != 0 && v[0] != '/' && !(off_ok && !strcmp(v, VS_LXCFS_OFF)))
		return vs_fail(err, VS_E_INVALID, 0, "%s: %s='%s' must be an absolute path%s", origin,
			       setting_table[i].key, v, off_ok ? " or '" VS_LXCFS_OFF "'" : "");
	if (strlen(v) >= setting_table[i].size)
		return vs_fail(err, VS_E_INVALID, 0, "%s: %s is too long", origin, setting_table[i].key);
	strcpy(dst, v);
	/* strip trailing slashes (but keep "/") */
	for (size_t n = strlen(dst); n > 1 && dst[n - 1] == '/'; n--)
		dst[n - 1] = 0;
	return 0;
}

int vs_settings_load(struct vs_settings *s, vs_err *err)
{
	memset(s, 0, sizeof *s);
	bool set[VS_ARRAY_SIZE(setting_table)] = { 0 };
	/* 1. environment */
	for (size_t i = 0; i < VS_ARRAY_SIZE(setting_table); i++) {
		const char *v = getenv(setting_table[i].env);
		if (v) {
			if (set_value(s, i, v, setting_table[i].env, err) < 0)
				return -1;
			set[i] = true;
		}
	}
	/* 2. settings file */
	const char *file = getenv("VSERVER_SETTINGS");
	if (file && *file) {
		_cleanup_free_ char *data = NULL;
		if (vs_read_file_at(AT_FDCWD, file, VS_CONFIG_MAX_FILE, &data, NULL, err) < 0)
			return vs_err_prefix(err, "settings file (VSERVER_SETTINGS)");
		int lineno = 0;
		char *save = NULL;
		for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			lineno++;
			if (!*line || *line == '#')
				continue;
			char *eq = strchr(line, '=');
			if (!eq)
				return vs_fail(err, VS_E_INVALID, 0, "%s:%d: '%s': expected KEY=VALUE", file, lineno,
					       line);
			*eq = 0;
			size_t i;
			for (i = 0; i < VS_ARRAY_SIZE(setting_table); i++)
				if (!strcmp(line, setting_table[i].key))
					break;
			if (i == VS_ARRAY_SIZE(setting_table))
				return vs_fail(err, VS_E_INVALID, 0,
					       "%s:%d: unknown key '%s' (allowed: confdir, vdirbase, cachebase, rundir, "
					       "cgroup_parent, cgroup_root, lxcfs, userns)",
					       file, lineno, line);
			if (set[i])
				continue;
			_cleanup_free_ char *origin = vs_asprintf("%s:%d", file, lineno);
			if (set_value(s, i, eq + 1, origin, err) < 0)
				return -1;
			set[i] = true;
		}
	}
	/* 3. .defaults links and built-in defaults */
	for (size_t i = 0; i < VS_ARRAY_SIZE(setting_table); i++) {
		if (set[i])
			continue;
		const char *v = setting_table[i].def;
		char buf[PATH_MAX];
		if (setting_table[i].deflink) {
			_cleanup_free_ char *link = vs_asprintf("%s/.defaults/%s", s->confdir, setting_table[i].deflink);
			ssize_t n = readlink(link, buf, sizeof buf - 1);
			if (n > 0) {
				buf[n] = 0;
				if (buf[0] != '/')
					return vs_fail(err, VS_E_INVALID, 0, "%s: link target '%s' must be absolute", link,
						       buf);
				v = buf;
			}
		}
		if (set_value(s, i, v, "default", err) < 0)
			return -1;
	}
	return 0;
}

int vs_settings_check_barrier(const char *dir, vs_err *err)
{
	struct stat st;
	/* stat, not lstat: a /vservers that links elsewhere is judged by its target */
	if (stat(dir, &st) < 0)
		return vs_fail_errno(err, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return vs_fail(err, VS_E_INVALID, 0, "%s (holding guest roots) is not a directory", dir);
	if (st.st_uid != 0 || (st.st_mode & 077))
		return vs_fail(err, VS_E_INVALID, 0,
			       "%s (holding guest roots) has owner uid %u and mode %04o: host users could reach the "
			       "guests' files and run their setuid programs; it must be owned by root with mode 0700 "
			       "(or 0000); fix: chown root: %s && chmod 0700 %s",
			       dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), dir, dir);
	return 0;
}

int vs_settings_open_rundir(const struct vs_settings *s, vs_err *err)
{
	if (mkdir(s->rundir, 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s", s->rundir);
	int fd = open(s->rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s", s->rundir);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return vs_fail(err, VS_E_INVALID, 0, "%s: must be owned by root and not writable by others",
			       s->rundir);
	}
	return fd;
}

/* $ENV, else next to the running vserver binary (a build tree), else
 * LIBEXECDIR/vserver. */
char *vs_helper_path(const char *name, const char *env)
{
	const char *e = getenv(env);
	if (e && *e)
		return vs_strdup(e);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			_cleanup_free_ char *p = vs_asprintf("%s/%s", self, name);
			if (strcmp(self, VS_SBINDIR) && access(p, X_OK) == 0)
				return vs_steal(p);
		}
	}
	return vs_asprintf("%s/%s", VS_LIBEXECDIR, name);
}

