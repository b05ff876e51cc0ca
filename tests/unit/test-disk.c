/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/disk.c: the size and inode options, the image path
 * build gives a guest, and the refusals that need no loop device (an
 * existing image is never overwritten; a directory that is no mount
 * point is "not mounted").  Mounting is tested by
 * tests/system/test_disk.py, as root, against real loop devices. */
#include <errno.h>
#include <fcntl.h>
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

#include "disk.h"
#include "util.h"
#include "testutil.h"

static void test_parse_size(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		uint64_t want; /* 0: refused */
	} t[] = {
		{ "16M", UINT64_C(16) << 20 },	   { "1G", UINT64_C(1) << 30 },
		{ "16777216", UINT64_C(16) << 20 }, { "64T", UINT64_C(64) << 40 },
		{ "20480K", UINT64_C(20) << 20 },   { "15M", 0 },
		{ "65T", 0 },			   { "1g", 0 },
		{ "-64M", 0 },			   { "", 0 },
		{ "M", 0 },			   { "64MB", 0 },
		{ "064M", 0 },			   { " 64M", 0 },
		{ "99999999999999999999T", 0 },	   { "18446744073709551615T", 0 },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(t); i++) {
		uint64_t b = 0;
		vs_err e = { 0 };
		int r = vs_disk_parse_size(t[i].v, &b, &e);
		if (t[i].want) {
			assert_int_equal(r, 0);
			assert_true(b == t[i].want);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(e.kind, VS_E_INVALID);
			assert_non_null(strstr(e.msg, "16M..64T"));
		}
	}
}

static void test_parse_inodes(void **state)
{
	(void)state;
	uint64_t n;
	vs_err e;
	assert_int_equal(vs_disk_parse_inodes("64", &n, &e), 0);
	assert_true(n == 64);
	assert_int_equal(vs_disk_parse_inodes("4294967295", &n, &e), 0);
	assert_int_equal(vs_disk_parse_inodes("63", &n, &e), -1);
	assert_non_null(strstr(e.msg, "'63'"));
	assert_int_equal(vs_disk_parse_inodes("4294967296", &n, &e), -1);
	assert_int_equal(vs_disk_parse_inodes("1e4", &n, &e), -1);
	assert_int_equal(vs_disk_parse_inodes("4K", &n, &e), -1);
}

static void test_default_image(void **state)
{
	(void)state;
	char *p = vs_disk_default_image("/vservers/web");
	assert_string_equal(p, "/vservers/.images/web.img");
	free(p);
	p = vs_disk_default_image("/srv/guests/db.1");
	assert_string_equal(p, "/srv/guests/.images/db.1.img");
	free(p);
	p = vs_disk_default_image("/top");
	assert_string_equal(p, "/.images/top.img");
	free(p);
}

static void test_create_never_overwrites(void **state)
{
	(void)state;
	char dir[PATH_MAX];
	assert_int_equal(vs_test_mkdtemp(dir, sizeof dir, "disk"), 0);
	char *img = vs_asprintf("%s/x.img", dir);
	int fd = open(img, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	vs_err e;
	bool sparse;
	assert_int_equal(vs_disk_create(img, UINT64_C(16) << 20, 0, "t", &sparse, &e), -1);
	assert_int_equal(e.kind, VS_E_EXISTS);
	struct stat st;
	assert_int_equal(stat(img, &st), 0);
	assert_int_equal(st.st_size, 4);
	/* a link in its place is not followed either */
	char *ln = vs_asprintf("%s/l.img", dir);
	assert_int_equal(symlink(img, ln), 0);
	assert_int_equal(vs_disk_create(ln, UINT64_C(16) << 20, 0, "t", &sparse, &e), -1);
	assert_int_equal(stat(img, &st), 0);
	assert_int_equal(st.st_size, 4);
	/* not a mount point: not mounted; a missing directory neither */
	assert_int_equal(vs_disk_mounted(img, dir, &e), 0);
	char *gone = vs_asprintf("%s/gone", dir);
	assert_int_equal(vs_disk_mounted(img, gone, &e), 0);
	assert_false(vs_disk_is_mountpoint(dir));
	assert_int_equal(vs_disk_umount(img, gone, &e), 0);
	free(gone);
	free(ln);
	free(img);
	vs_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_inodes),
		cmocka_unit_test(test_default_image),
		cmocka_unit_test(test_create_never_overwrites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
