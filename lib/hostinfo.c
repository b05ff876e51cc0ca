/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostinfo.h"
#include "safeio.h"
#include "util.h"
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>

static char *os_release_value(const char *key)
{
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, "/etc/os-release", VS_CONFIG_MAX_FILE, &data, NULL, &e) < 0 &&
	    vs_read_file_at(AT_FDCWD, "/usr/lib/os-release", VS_CONFIG_MAX_FILE, &data, NULL, &e) < 0)
		return NULL;
	size_t kl = strlen(key);
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, key, kl) || l[kl] != '=')
			continue;
		char *v = l + kl + 1;
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		return *v ? vs_strdup(v) : NULL;
	}
	return NULL;
}

char *vs_host_codename(void)
{
	return os_release_value("VERSION_CODENAME");
}

char *vs_host_distro(void)
{
	return os_release_value("ID");
}

const char *vs_host_dpkg_arch(void)
{
	struct utsname u;
	uname(&u);
	static const struct {
		const char *m, *a;
	} t[] = { { "x86_64", "amd64" }, { "i686", "i386" },	 { "i586", "i386" },
		  { "i386", "i386" },	{ "aarch64", "arm64" }, { "armv7l", "armhf" },
		  { "ppc64le", "ppc64el" }, { "s390x", "s390x" }, { "riscv64", "riscv64" } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(t); i++)
		if (!strcmp(u.machine, t[i].m))
			return t[i].a;
	return "amd64";
}

static bool uri_ok(const char *u)
{
	return vs_str_startswith(u, "http://") || vs_str_startswith(u, "https://") || vs_str_startswith(u, "file:/");
}

/* One-line format: deb [options] URI SUITE COMPONENT... */
static char *from_list(const char *data_in, const char *suite)
{
	_cleanup_free_ char *data = vs_strdup(data_in);
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[8] = { 0 };
		int n = 0;
		char *s2 = NULL;
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncmp(l, "deb ", 4) && strncmp(l, "deb\t", 4))
			continue;
		char *opt = strchr(l, '[');
		if (opt) {
			char *end = strchr(opt, ']');
			if (!end)
				continue;
			memset(opt, ' ', (size_t)(end - opt + 1));
		}
		for (char *t = strtok_r(l, " \t", &s2); t && n < 8; t = strtok_r(NULL, " \t", &s2))
			f[n++] = t;
		if (n >= 3 && uri_ok(f[1]) && (!suite || !strcmp(f[2], suite)))
			return vs_strdup(f[1]);
	}
	return NULL;
}

/* deb822 format: stanzas separated by blank lines. */
static char *from_sources(const char *data_in, const char *suite)
{
	_cleanup_free_ char *data = vs_asprintf("%s\n\n", data_in);
	char *p = data;
	while (*p) {
		char *end = strstr(p, "\n\n");
		if (!end)
			break;
		*end = 0;
		char *types = NULL, *uris = NULL, *suites = NULL, *enabled = NULL;
		char *save = NULL;
		for (char *l = strtok_r(p, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (l[0] == '#' || l[0] == ' ' || l[0] == '\t')
				continue;
			char *c = strchr(l, ':');
			if (!c)
				continue;
			*c = 0;
			char *v = c + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strcasecmp(l, "Types"))
				types = v;
			else if (!strcasecmp(l, "URIs"))
				uris = v;
			else if (!strcasecmp(l, "Suites"))
				suites = v;
			else if (!strcasecmp(l, "Enabled"))
				enabled = v;
		}
		bool deb = false, suite_ok = !suite;
		char *s2 = NULL;
		if (types)
			for (char *t = strtok_r(types, " \t", &s2); t; t = strtok_r(NULL, " \t", &s2))
				deb |= !strcmp(t, "deb");
		if (suites && suite)
			for (char *t = strtok_r(suites, " \t", &s2); t; t = strtok_r(NULL, " \t", &s2))
				suite_ok |= !strcmp(t, suite);
		if (deb && suite_ok && uris && !(enabled && !strcasecmp(enabled, "no"))) {
			char *u = strtok_r(uris, " \t", &s2);
			if (u && uri_ok(u))
				return vs_strdup(u);
		}
		p = end + 2;
		while (*p == '\n')
			p++;
	}
	return NULL;
}

char *vs_host_apt_mirror(const char *root, const char *suite)
{
	_cleanup_free_ char *list = vs_asprintf("%s/etc/apt/sources.list", root);
	_cleanup_free_ char *dir = vs_asprintf("%s/etc/apt/sources.list.d", root);
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: a source for exactly this suite; pass 1: any */
		const char *want = pass == 0 ? suite : NULL;
		if (pass == 1 && !suite)
			break;
		_cleanup_free_ char *data = NULL;
		vs_err e;
		if (vs_read_file_at(AT_FDCWD, list, 1 << 20, &data, NULL, &e) == 0) {
			char *m = from_list(data, want);
			if (m)
				return m;
		}
		_cleanup_closedir_ DIR *d = opendir(dir);
		if (!d)
			continue;
		vs_strv names = { 0 };
		struct dirent *de;
		while ((de = readdir(d)))
			if (vs_str_endswith(de->d_name, ".list") || vs_str_endswith(de->d_name, ".sources"))
				vs_strv_push(&names, de->d_name);
		if (names.n)
			qsort(names.v, names.n, sizeof *names.v, vs_strv_cmp);
		char *found = NULL;
		for (size_t i = 0; i < names.n && !found; i++) {
			_cleanup_free_ char *p = vs_asprintf("%s/%s", dir, names.v[i]);
			_cleanup_free_ char *d2 = NULL;
			if (vs_read_file_at(AT_FDCWD, p, 1 << 20, &d2, NULL, &e) < 0)
				continue;
			found = vs_str_endswith(names.v[i], ".list") ? from_list(d2, want) : from_sources(d2, want);
		}
		vs_strv_free(&names);
		if (found)
			return found;
	}
	return NULL;
}
