/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/sdguest.c: Options= of unit texts and drop-ins,
 * systemd's mount unit names, whether a guest's systemd wants /tmp
 * mounted (on small guest trees made here, hostile symlinks included),
 * and the runtime units written into the guest's /run. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "safeio.h"
#include "sdguest.h"
#include "testutil.h"
#include "util.h"

static const char tmp_mount[] = "[Unit]\nDescription=Temporary Directory /tmp\nConflicts=umount.target\n\n"
				"[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n"
				"Options=mode=1777,strictatime,nosuid,nodev,size=50%%,nr_inodes=1m\n";

static void test_unit_options(void **state)
{
	(void)state;
	char *opt = vs_strdup("keep"), *why = NULL;
	assert_int_equal(vs_sdguest_unit_options("[Unit]\nOptions=not-this\n", &opt, &why), 0);
	assert_string_equal(opt, "keep");
	assert_int_equal(vs_sdguest_unit_options(tmp_mount, &opt, &why), 0);
	assert_string_equal(opt, "mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m");
	/* the last assignment wins; spaces around '='; an empty one resets */
	assert_int_equal(vs_sdguest_unit_options("[Mount]\nOptions=a\n  Options =  size=1m \n", &opt, &why), 0);
	assert_string_equal(opt, "size=1m");
	assert_int_equal(vs_sdguest_unit_options("[Mount]\nOptions=\n", &opt, &why), 0);
	assert_string_equal(opt, "");
	/* a key that only starts with Options, and another section after */
	assert_int_equal(vs_sdguest_unit_options("[Mount]\nOptionsX=1\n[Install]\nOptions=2\n", &opt, &why), 0);
	assert_string_equal(opt, "");
	/* specifiers other than %% are not expanded: refused */
	assert_int_equal(vs_sdguest_unit_options("[Mount]\nOptions=uid=%U\n", &opt, &why), -1);
	assert_non_null(strstr(why, "%U"));
	assert_string_equal(opt, "");
	free(why);
	free(opt);
}

static void name_is(const char *path, const char *want)
{
	char *n = vs_sdguest_mount_unit_name(path);
	assert_non_null(n);
	assert_string_equal(n, want);
	free(n);
}

static void test_unit_names(void **state)
{
	(void)state;
	/* as `systemd-escape --path --suffix=mount` prints them */
	name_is("/tmp", "tmp.mount");
	name_is("/run/lock", "run-lock.mount");
	name_is("/srv/a-b", "srv-a\\x2db.mount");
	name_is("/srv/my dir/", "srv-my\\x20dir.mount");
	name_is("/a/.hidden", "a-.hidden.mount");
	name_is("/.hidden", "\\x2ehidden.mount");
	name_is("/", "-.mount");
	char longp[300];
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	assert_null(vs_sdguest_mount_unit_name(longp));
}

/* ---- guest trees ---------------------------------------------------------- */

static char dir[128];
static int rootfd = -1;

static void put(const char *path, const char *text)
{
	vs_err e = { 0 };
	const char *base;
	int d = vs_open_parent_in_root(rootfd, path, true, &base, &e);
	assert_true(d >= 0);
	int fd = openat(d, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	close(d);
}

static void link_(const char *target, const char *path)
{
	vs_err e = { 0 };
	const char *base;
	int d = vs_open_parent_in_root(rootfd, path, true, &base, &e);
	assert_true(d >= 0);
	assert_int_equal(symlinkat(target, d, base), 0);
	close(d);
}

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(dir, sizeof dir, "sdguest") < 0)
		return -1;
	rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	return rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(rootfd);
	return vs_test_rmtree(dir);
}

/* a trixie-like guest: /lib -> usr/lib, tmp.mount wanted in /usr/lib */
static void trixie(void)
{
	put("usr/lib/systemd/system/tmp.mount", tmp_mount);
	link_("../tmp.mount", "usr/lib/systemd/system/local-fs.target.wants/tmp.mount");
	link_("usr/lib", "lib");
	assert_int_equal(mkdirat(rootfd, "tmp", 01777), 0);
}

static int tmp_of(struct vs_fstab_entry *e, char **warning)
{
	struct vs_config c;
	memset(&c, 0, sizeof c);
	return vs_sdguest_tmp(rootfd, &c, e, warning);
}

/* vs_sdguest_tmp mounts a tmpfs with `opts`, with a warning holding
 * `warning` (NULL: none) */
static void tmp_is(const char *opts, const char *warning)
{
	struct vs_fstab_entry e;
	char *w = NULL;
	assert_int_equal(tmp_of(&e, &w), 1);
	if (warning) {
		assert_non_null(w);
		assert_non_null(strstr(w, warning));
	} else
		assert_null(w);
	assert_string_equal(e.options, opts);
	free(w);
	vs_fstab_entry_free(&e);
}

static void test_tmp_not_wanted(void **state)
{
	(void)state;
	struct vs_fstab_entry e;
	char *w = NULL;
	/* bookworm: the unit exists, nothing pulls it in */
	put("lib/systemd/system/tmp.mount", tmp_mount);
	assert_int_equal(tmp_of(&e, &w), 0);
	assert_null(w);
}

static void test_tmp_wanted(void **state)
{
	(void)state;
	trixie();
	struct vs_fstab_entry e;
	char *w = NULL;
	assert_int_equal(tmp_of(&e, &w), 1);
	assert_null(w);
	assert_string_equal(e.target, "/tmp");
	assert_string_equal(e.type, "tmpfs");
	assert_string_equal(e.options, "mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m");
	assert_false(e.bind);
	vs_fstab_entry_free(&e);
}

static void test_tmp_dropins(void **state)
{
	(void)state;
	trixie();
	/* drop-ins in name order; /etc's 50-size.conf hides /usr/lib's */
	put("usr/lib/systemd/system/tmp.mount.d/50-size.conf", "[Mount]\nOptions=size=1g\n");
	put("usr/lib/systemd/system/tmp.mount.d/70-late.conf", "[Mount]\nOptions=mode=1777,size=64m\n");
	put("etc/systemd/system/tmp.mount.d/50-size.conf", "[Mount]\nOptions=size=2g\n");
	put("etc/systemd/system/tmp.mount.d/90-last.conf", "[Mount]\nOptions=mode=1777,size=128m,nosuid\n");
	put("etc/systemd/system/tmp.mount.d/95-other.conf", "[Unit]\nOptions=size=1k\n");
	put("etc/systemd/system/tmp.mount.d/README", "[Mount]\nOptions=size=1k\n");
	tmp_is("mode=1777,size=128m,nosuid", NULL);
}

static void test_tmp_bad_options_fall_back(void **state)
{
	(void)state;
	trixie();
	/* the guest asks for setuid programs on /tmp: refused as in fstab */
	put("etc/systemd/system/tmp.mount.d/x.conf", "[Mount]\nOptions=mode=1777,suid\n");
	tmp_is("mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m", "suid");
}

static void test_tmp_masked_or_symlink(void **state)
{
	(void)state;
	trixie();
	struct vs_fstab_entry e;
	char *w = NULL;
	/* `systemctl mask tmp.mount` */
	link_("/dev/null", "etc/systemd/system/tmp.mount");
	assert_int_equal(tmp_of(&e, &w), 0);
	assert_int_equal(unlinkat(rootfd, "etc/systemd/system/tmp.mount", 0), 0);
	/* an empty file masks too */
	put("etc/systemd/system/tmp.mount", "");
	assert_int_equal(tmp_of(&e, &w), 0);
	assert_int_equal(unlinkat(rootfd, "etc/systemd/system/tmp.mount", 0), 0);
	/* /tmp a symlink (ConditionPathIsSymbolicLink=!/tmp) */
	assert_int_equal(unlinkat(rootfd, "tmp", AT_REMOVEDIR), 0);
	link_("var/tmp", "tmp");
	assert_int_equal(tmp_of(&e, &w), 0);
	assert_null(w);
}

static void test_tmp_fstab_line_wins(void **state)
{
	(void)state;
	trixie();
	struct vs_config c;
	memset(&c, 0, sizeof c);
	struct vs_fstab_entry line;
	vs_err err = { 0 };
	assert_int_equal(vs_fstab_parse_line("none /tmp tmpfs size=16m,mode=1777 0 0", &line, &err), 1);
	c.fstab.e = &line;
	c.fstab.n = 1;
	struct vs_fstab_entry e;
	char *w = NULL;
	assert_int_equal(vs_sdguest_tmp(rootfd, &c, &e, &w), 0);
	vs_fstab_entry_free(&line);
}

static void test_tmp_hostile_links_stay_inside(void **state)
{
	(void)state;
	/* every path of the guest resolved inside its root: absolute links
	 * to the host's /usr/lib find nothing here */
	link_("/usr/lib", "lib");
	put("usr/lib/systemd/system/tmp.mount", "[Mount]\nOptions=size=3m\n");
	link_("/usr/lib/systemd/system/tmp.mount", "etc/systemd/system/local-fs.target.wants/tmp.mount");
	link_("/etc/passwd", "etc/systemd/system/tmp.mount.d");
	assert_int_equal(mkdirat(rootfd, "tmp", 01777), 0);
	tmp_is("size=3m", NULL);
}

static void test_write_units(void **state)
{
	(void)state;
	assert_int_equal(mkdirat(rootfd, "run", 0755), 0);
	struct vs_fstab_entry ents[4];
	vs_err err = { 0 };
	const char *lines[] = { "none /tmp tmpfs size=50%,mode=1777 0 0", "/srv/x /srv/sha-red none bind,ro 0 0",
				"none /proc proc defaults 0 0", "none /dev/pts devpts gid=5,mode=620 0 0" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(vs_fstab_parse_line(lines[i], &ents[i], &err), 1);
	struct vs_fstab f = { .e = ents, .n = 4 };
	const struct vs_fstab *tabs[] = { &f };
	assert_int_equal(vs_sdguest_write_units(rootfd, tabs, 1, &err), 0);
	char *t = NULL;
	int d = vs_openat_in_root(rootfd, "run/systemd/system", O_RDONLY | O_DIRECTORY, 0, &err);
	assert_true(d >= 0);
	assert_int_equal(vs_read_file_at(d, "tmp.mount", 4096, &t, NULL, &err), 0);
	assert_non_null(strstr(t, "\nWhere=/tmp\n"));
	assert_non_null(strstr(t, "\nOptions=size=50%%,mode=1777\n"));
	assert_non_null(strstr(t, "\nDefaultDependencies=no\n"));
	assert_null(strstr(t, "\nConflicts="));
	free(t);
	/* a bind: no host path in What=, no "bind" */
	assert_int_equal(vs_read_file_at(d, "srv-sha\\x2dred.mount", 4096, &t, NULL, &err), 0);
	assert_non_null(strstr(t, "\nWhat=none\n"));
	assert_non_null(strstr(t, "\nOptions=ro\n"));
	assert_null(strstr(t, "/srv/x"));
	assert_null(strstr(t, "\nType="));
	free(t);
	/* /run/lock: the guest's systemd has no unit for it (bookworm's
	 * counts it among the API file systems and would refuse one) */
	assert_int_equal(faccessat(d, "run-lock.mount", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	/* API file systems get none (systemd refuses units for them) */
	assert_int_equal(faccessat(d, "proc.mount", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(d, "dev-pts.mount", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(d);
	/* trixie's systemd has run-lock.mount: then vserver's takes its place */
	put("usr/lib/systemd/system/run-lock.mount", "[Mount]\nWhat=tmpfs\nWhere=/run/lock\n");
	assert_int_equal(vs_rm_rf_at(rootfd, "run/systemd", &err), 0);
	assert_int_equal(vs_sdguest_write_units(rootfd, tabs, 1, &err), 0);
	d = vs_openat_in_root(rootfd, "run/systemd/system", O_RDONLY | O_DIRECTORY, 0, &err);
	assert_true(d >= 0);
	assert_int_equal(vs_read_file_at(d, "run-lock.mount", 4096, &t, NULL, &err), 0);
	assert_non_null(strstr(t, "\nWhere=/run/lock\n"));
	assert_non_null(strstr(t, "\nType=tmpfs\n"));
	free(t);
	close(d);
	for (size_t i = 0; i < 4; i++)
		vs_fstab_entry_free(&ents[i]);
}

static void test_tmp_dropin_rules(void **state)
{
	(void)state;
	trixie();
	/* by name: "a.conf" before "a.conf-b.conf"; hidden files and
	 * directories are no drop-ins */
	put("etc/systemd/system/tmp.mount.d/a.conf-b.conf", "[Mount]\nOptions=size=2m\n");
	put("usr/lib/systemd/system/tmp.mount.d/a.conf", "[Mount]\nOptions=size=1m\n");
	put("etc/systemd/system/tmp.mount.d/.z.conf", "[Mount]\nOptions=size=9m\n");
	put("etc/systemd/system/tmp.mount.d/z.conf/x", "");
	put("usr/lib/systemd/system/tmp.mount.d/z.conf", "[Mount]\nOptions=size=8m\n");
	tmp_is("size=8m", NULL);
}

static void test_tmp_options_tmpfs_takes(void **state)
{
	(void)state;
	trixie();
	/* an option an fstab line may have but tmpfs does not take would
	 * fail the mount, and with it every start: the defaults instead */
	const char *bad[] = { "mode=1777,lowerdir=x", "newinstance", "hidepid=2", "uid=1000", "bind" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		char text[128];
		snprintf(text, sizeof text, "[Mount]\nOptions=%s\n", bad[i]);
		put("etc/systemd/system/tmp.mount.d/x.conf", text);
		struct vs_fstab_entry e;
		char *w = NULL;
		assert_int_equal(tmp_of(&e, &w), 1);
		if (!w)
			print_error("Options=%s: no warning\n", bad[i]);
		assert_non_null(w);
		assert_string_equal(e.options, "mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m");
		free(w);
		vs_fstab_entry_free(&e);
	}
	struct vs_fstab_entry e;
	assert_int_equal(vs_sdguest_tmp_defaults(&e), 0);
	assert_string_equal(e.options, "mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m");
	vs_fstab_entry_free(&e);
}

static void test_tmp_masked_spellings(void **state)
{
	(void)state;
	trixie();
	const char *links[] = { "//dev/null", "../../../dev/null", "/dev/./null", "../../../../../../dev/null" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(links); i++) {
		link_(links[i], "etc/systemd/system/tmp.mount");
		struct vs_fstab_entry e;
		char *w = NULL;
		if (tmp_of(&e, &w) != 0)
			print_error("%s: not seen as a mask\n", links[i]);
		assert_int_equal(tmp_of(&e, &w), 0);
		assert_int_equal(unlinkat(rootfd, "etc/systemd/system/tmp.mount", 0), 0);
	}
	/* a link to an empty file masks too; one to another unit does not */
	put("etc/empty", "");
	link_("/etc/empty", "etc/systemd/system/tmp.mount");
	struct vs_fstab_entry e;
	char *w = NULL;
	assert_int_equal(tmp_of(&e, &w), 0);
	assert_int_equal(unlinkat(rootfd, "etc/systemd/system/tmp.mount", 0), 0);
	link_("/usr/lib/systemd/system/tmp.mount", "etc/systemd/system/tmp.mount");
	assert_int_equal(tmp_of(&e, &w), 1);
	vs_fstab_entry_free(&e);
}

static void test_tmp_too_many_dropins(void **state)
{
	(void)state;
	trixie();
	for (int i = 0; i < 1100; i++) {
		char p[96];
		snprintf(p, sizeof p, "etc/systemd/system/tmp.mount.d/%04d.conf", i);
		put(p, "[Mount]\nOptions=size=1m\n");
	}
	tmp_is("mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m", "more than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_options),
		cmocka_unit_test(test_unit_names),
		cmocka_unit_test_setup_teardown(test_tmp_not_wanted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_wanted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_dropins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_bad_options_fall_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_masked_or_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_fstab_line_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_hostile_links_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_dropin_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_options_tmpfs_takes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_masked_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_too_many_dropins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
