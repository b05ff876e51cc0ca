/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/dlimits.c: the dlimits/ keys through the real
 * configuration loader (file, line and reason of every refusal), and the
 * project-quota probe on the filesystem of /tmp.  Every test gets a fresh
 * configuration tree under a mkdtemp directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "dlimits.h"
#include "util.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];
static struct vs_settings S;
static struct vs_config C;
static struct vs_diags D;

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(tmpdir, sizeof tmpdir, "dlimits") < 0)
		return -1;
	memset(&C, 0, sizeof C);
	memset(&D, 0, sizeof D);
	vs_test_settings(&S, tmpdir);
	char g[PATH_MAX + 8];
	snprintf(g, sizeof g, "%s/g", S.confdir);
	if (mkdir(S.confdir, 0755) < 0 || mkdir(S.vdirbase, 0755) < 0 || mkdir(g, 0755) < 0)
		return -1;
	alarm(20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_config_free(&C);
	vs_diags_free(&D);
	alarm(0);
	vs_test_rmtree(tmpdir);
	return 0;
}

/* Write etc/g/REL (creating directories) with CONTENT. */
static void put(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/g/%s", S.confdir, rel);
	for (char *s = p + strlen(S.confdir) + 3; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void base_guest(void)
{
	put("context", "40001\n");
}

static void good_entry(void)
{
	char root[PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/g\n", S.vdirbase);
	put("dlimits/root/directory", root);
	put("dlimits/root/space_total", "20480\n");
	put("dlimits/root/inodes_total", "500\n");
	put("dlimits/root/reserved", "5\n");
}

static void load(void)
{
	vs_err e;
	assert_int_equal(vs_config_load(&S, "g", &C, &D, &e), 0);
}

/* A diagnostic for FILE (relative) containing TEXT, at LINE (-1: any). */
static bool has_diag(const char *file, int line, const char *text)
{
	for (size_t i = 0; i < D.n; i++)
		if (!strcmp(D.d[i].file, file) && (line < 0 || D.d[i].line == line) && strstr(D.d[i].msg, text))
			return true;
	return false;
}

static void dump(void)
{
	for (size_t i = 0; i < D.n; i++)
		print_message("diag: %s:%d: %s\n", D.d[i].file, D.d[i].line, D.d[i].msg);
}

static void test_good(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	load();
	dump();
	assert_int_equal(D.n, 0);
	const struct vs_dlimit *x = vs_dlimits_active(&C.dlimits);
	assert_non_null(x);
	assert_string_equal(x->id, "root");
	assert_int_equal(x->space_total, 20480);
	assert_int_equal(x->inodes_total, 500);
	assert_int_equal(x->reserved, 5);
	assert_true(x->has_reserved);
}

static void test_none(void **state)
{
	(void)state;
	base_guest();
	load();
	assert_int_equal(D.n, 0);
	assert_null(vs_dlimits_active(&C.dlimits));
}

static void test_trailing_slash_same_root(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	char root[PATH_MAX + 16];
	snprintf(root, sizeof root, "%s//g/\n", S.vdirbase);
	put("dlimits/root/directory", root);
	load();
	dump();
	assert_int_equal(D.n, 0);
}

static const struct {
	const char *file, *value, *text;
} bad_numbers[] = {
	{ "space_total", "-1\n", "decimal number" },
	{ "space_total", "20M\n", "decimal number" },
	{ "space_total", "020480\n", "decimal number" },
	{ "space_total", "0\n", "0 is not allowed" },
	{ "space_total", "18446744073709551616\n", "decimal number" },       /* 2^64: overflow */
	{ "space_total", "9007199254740992\n", "too large" },                /* 2^53 KiB: bytes overflow */
	{ "space_total", "1 2\n", "decimal number" },
	{ "inodes_total", "9223372036854775808\n", "too large" },            /* 2^63 */
	{ "inodes_total", "abc\n", "decimal number" },
	{ "inodes_total", "0x10\n", "decimal number" },
	{ "reserved", "101\n", "0..100" },
	{ "reserved", "-5\n", "0..100" },
};

static void test_bad_numbers(void **state)
{
	(void)state;
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_numbers); i++) {
		base_guest();
		good_entry();
		char rel[64];
		snprintf(rel, sizeof rel, "dlimits/root/%s", bad_numbers[i].file);
		put(rel, bad_numbers[i].value);
		vs_config_free(&C);
		vs_diags_free(&D);
		load();
		if (!has_diag(rel, 1, bad_numbers[i].text)) {
			dump();
			fail_msg("%s = %s: no diagnostic with '%s'", rel, bad_numbers[i].value, bad_numbers[i].text);
		}
	}
}

static void test_second_line(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	put("dlimits/root/space_total", "100\n200\n");
	load();
	assert_true(has_diag("dlimits/root/space_total", 2, "second value"));
}

static void test_missing_required(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/g/dlimits/root/inodes_total", S.confdir);
	assert_int_equal(unlink(p), 0);
	load();
	dump();
	assert_true(has_diag("dlimits/root/inodes_total", 0, "missing"));
	assert_null(vs_dlimits_active(&C.dlimits));
}

static void test_missing_but_disabled(void **state)
{
	(void)state;
	base_guest();
	put("dlimits/old/space_total", "100\n");
	put("dlimits/old/disabled", "");
	load();
	dump();
	assert_int_equal(D.n, 0);
	assert_null(vs_dlimits_active(&C.dlimits));
}

static void test_directory_not_root(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/g/var\n", S.vdirbase);
	put("dlimits/root/directory", p);
	load();
	assert_true(has_diag("dlimits/root/directory", 1, "must be the guest root"));
	put("dlimits/root/directory", "relative/path\n");
	vs_config_free(&C);
	vs_diags_free(&D);
	load();
	assert_true(has_diag("dlimits/root/directory", 1, "absolute path"));
	snprintf(p, sizeof p, "%s/g/../g\n", S.vdirbase);
	put("dlimits/root/directory", p);
	vs_config_free(&C);
	vs_diags_free(&D);
	load();
	assert_true(has_diag("dlimits/root/directory", 1, "must be the guest root"));
}

static void test_two_entries(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	char root[PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/g\n", S.vdirbase);
	put("dlimits/two/directory", root);
	put("dlimits/two/space_total", "1\n");
	put("dlimits/two/inodes_total", "1\n");
	load();
	assert_true(has_diag("dlimits/two", 0, "second disk limit"));
	/* disabling one makes it valid */
	put("dlimits/two/disabled", "");
	vs_config_free(&C);
	vs_diags_free(&D);
	load();
	dump();
	assert_int_equal(D.n, 0);
	assert_string_equal(vs_dlimits_active(&C.dlimits)->id, "root");
}

static void test_unknown_file_and_flag(void **state)
{
	(void)state;
	base_guest();
	good_entry();
	put("dlimits/root/space_used", "5\n");
	put("dlimits/root/disabled", "yes\n");
	load();
	assert_true(has_diag("dlimits/root/space_used", 0, "unknown configuration file"));
	assert_true(has_diag("dlimits/root/disabled", 1, "flag file"));
}

static void test_set_direct(void **state)
{
	(void)state;
	struct vs_dlimits d = { 0 };
	char *why = NULL;
	assert_int_equal(vs_dlimit_set(&d, "dlimits/a b/space_total", "1", &why), -1);
	assert_non_null(strstr(why, "entry name"));
	free(why);
	assert_int_equal(vs_dlimit_set(&d, "dlimits/x/space_total", "9007199254740991", &why), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.e[0].space_total, VS_DLIMIT_SPACE_MAX);
	assert_int_equal(vs_dlimit_set(&d, "dlimits/x/inodes_total", "9223372036854775807", &why), 0);
	assert_int_equal(d.e[0].inodes_total, VS_DLIMIT_INODES_MAX);
	/* a refused value leaves the entry as it was */
	assert_int_equal(vs_dlimit_set(&d, "dlimits/x/inodes_total", "x", &why), -1);
	free(why);
	assert_int_equal(d.e[0].inodes_total, VS_DLIMIT_INODES_MAX);
	vs_dlimits_free(&d);
}

/* /tmp here is no ext4/XFS with project quotas on: the probe says why
 * and how to enable them, never "OK" by accident. */
static void test_probe_tmp(void **state)
{
	(void)state;
	int fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	vs_err e;
	int r = vs_dlimits_probe(fd, &e);
	if (r < 0) {
		assert_int_equal(e.kind, VS_E_INVALID);
		assert_non_null(strstr(e.msg, "prjquota"));
	}
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good),          T(test_none),          T(test_trailing_slash_same_root),
		T(test_bad_numbers),   T(test_second_line),   T(test_missing_required),
		T(test_missing_but_disabled), T(test_directory_not_root), T(test_two_entries),
		T(test_unknown_file_and_flag), T(test_set_direct), T(test_probe_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
