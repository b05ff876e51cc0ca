/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/fstab.c: vs_fstab_parse_line, good lines and every
 * bad case of security-catalogue.md section 3 (fstab row). */
#include <fcntl.h>
#include <limits.h>
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

#include "fstab.h"
#include "util.h"

/* Parse a line that must produce an entry; the caller frees *e. */
static void parse_ok(const char *line, struct vs_fstab_entry *e)
{
	vs_err err = { 0 };
	int r = vs_fstab_parse_line(line, e, &err);
	if (r != 1)
		print_error("line '%s': expected an entry, got %d (%s)\n", line, r, err.msg);
	assert_int_equal(r, 1);
	assert_non_null(e->source);
	assert_non_null(e->target);
	assert_non_null(e->type);
	assert_non_null(e->options);
}

/* Parse a line that must be refused with a message containing `frag`
 * (NULL: any message). */
static void parse_bad(const char *line, const char *frag)
{
	struct vs_fstab_entry e;
	vs_err err = { 0 };
	int r = vs_fstab_parse_line(line, &e, &err);
	if (r != -1) {
		print_error("line '%s' was accepted (r=%d target=%s options=%s)\n", line, r,
			    r == 1 ? e.target : "-", r == 1 ? e.options : "-");
		if (r == 1)
			vs_fstab_entry_free(&e);
	}
	assert_int_equal(r, -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	assert_true(err.msg[0] != 0);
	if (frag && !strstr(err.msg, frag))
		print_error("line '%s': message '%s' lacks '%s'\n", line, err.msg, frag);
	if (frag)
		assert_non_null(strstr(err.msg, frag));
	/* nothing allocated on failure */
	assert_null(e.source);
	assert_null(e.target);
	assert_null(e.type);
	assert_null(e.options);
}

static void parse_skip(const char *line)
{
	struct vs_fstab_entry e;
	vs_err err = { 0 };
	int r = vs_fstab_parse_line(line, &e, &err);
	if (r != 0)
		print_error("line '%s': expected a skipped line, got %d (%s)\n", line, r, err.msg);
	assert_int_equal(r, 0);
	assert_null(e.source);
}

/* ---- good lines ------------------------------------------------------- */

static void test_blank_and_comments(void **state)
{
	(void)state;
	parse_skip("");
	parse_skip("   ");
	parse_skip("\t \t");
	parse_skip("# a comment");
	parse_skip("   # indented comment with /proc /sys suid");
	parse_skip("#none /proc proc defaults");
}

static void test_good_lines(void **state)
{
	(void)state;
	struct vs_fstab_entry e;

	parse_ok("none /proc proc defaults 0 0", &e);
	assert_string_equal(e.source, "none");
	assert_string_equal(e.target, "/proc");
	assert_string_equal(e.type, "proc");
	assert_string_equal(e.options, "defaults");
	assert_false(e.bind);
	assert_false(e.readonly);
	vs_fstab_entry_free(&e);
	assert_null(e.source); /* free resets */

	parse_ok("none /tmp tmpfs size=16m,mode=1777", &e); /* 4 fields */
	assert_string_equal(e.target, "/tmp");
	assert_string_equal(e.type, "tmpfs");
	assert_string_equal(e.options, "size=16m,mode=1777");
	vs_fstab_entry_free(&e);

	parse_ok("none\t/dev/pts\tdevpts\tgid=5,mode=620,ptmxmode=000,newinstance\t0\t0", &e); /* tabs */
	assert_string_equal(e.target, "/dev/pts");
	assert_string_equal(e.type, "devpts");
	vs_fstab_entry_free(&e);

	parse_ok("none /dev/shm tmpfs nosuid,nodev 0", &e); /* 5 fields */
	assert_string_equal(e.target, "/dev/shm");
	vs_fstab_entry_free(&e);

	parse_ok("none /sys sysfs ro,nosuid,nodev,noexec 0 0", &e);
	assert_true(e.readonly);
	vs_fstab_entry_free(&e);

	parse_ok("/srv/data /srv/data none bind,ro 0 0", &e);
	assert_string_equal(e.source, "/srv/data");
	assert_true(e.bind);
	assert_true(e.readonly);
	vs_fstab_entry_free(&e);

	parse_ok("/srv/data /mnt/data bind defaults 0 0", &e); /* type bind */
	assert_true(e.bind);
	assert_false(e.readonly);
	vs_fstab_entry_free(&e);

	parse_ok("/srv/tree /mnt/tree none rbind,rw,nosuid,nodev 0 0", &e);
	assert_true(e.bind);
	assert_false(e.readonly);
	vs_fstab_entry_free(&e);

	parse_ok("server:/export /mnt/nfs nfs4 vers=4.2,soft,timeo=30 0 0", &e);
	assert_string_equal(e.type, "nfs4");
	vs_fstab_entry_free(&e);

	parse_ok("   none   /run   tmpfs   mode=755   0   2   ", &e); /* leading/trailing blanks */
	assert_string_equal(e.target, "/run");
	vs_fstab_entry_free(&e);
}

static void test_target_normalised(void **state)
{
	(void)state;
	struct vs_fstab_entry e;
	parse_ok("none //var//tmp/ tmpfs defaults 0 0", &e);
	assert_string_equal(e.target, "/var/tmp");
	vs_fstab_entry_free(&e);
	parse_ok("none /proc/ proc defaults 0 0", &e);
	assert_string_equal(e.target, "/proc");
	vs_fstab_entry_free(&e);
}

static void test_octal_escapes(void **state)
{
	(void)state;
	struct vs_fstab_entry e;
	parse_ok("/srv/my\\040data /mnt/my\\040data none bind 0 0", &e);
	assert_string_equal(e.source, "/srv/my data");
	assert_string_equal(e.target, "/mnt/my data");
	vs_fstab_entry_free(&e);
	parse_ok("/srv/a\\011b /mnt/back\\134slash none bind 0 0", &e);
	assert_string_equal(e.source, "/srv/a\tb");
	assert_string_equal(e.target, "/mnt/back\\slash");
	vs_fstab_entry_free(&e);

	parse_bad("/srv/a\\000b /mnt/x none bind 0 0", "NUL");
	parse_bad("/srv/a\\x20 /mnt/x none bind 0 0", "escape");
	parse_bad("/srv/a\\b /mnt/x none bind 0 0", "escape");
	parse_bad("/srv/a\\4 /mnt/x none bind 0 0", "escape");
	parse_bad("/srv/a\\ /mnt/x none bind 0 0", "escape"); /* trailing backslash */
	parse_bad("/srv/a\\400 /mnt/x none bind 0 0", "escape"); /* > 0377 */
	parse_bad("none /mnt/x\\ tmpfs defaults 0 0", "escape");
	/* escapes are decoded before the target checks */
	parse_bad("none /mnt/\\056\\056/etc tmpfs defaults 0 0", "'..'");
	parse_bad("none \\057 tmpfs defaults 0 0", "'/'");
	parse_bad("none \\057proc\\057sys tmpfs defaults 0 0", "/proc");
	parse_bad("none tmp\\057x tmpfs defaults 0 0", "absolute");
}

/* ---- field count ------------------------------------------------------ */

static void test_field_count(void **state)
{
	(void)state;
	parse_bad("none", "1 field,");
	parse_bad("none /tmp", "2 fields");
	parse_bad("none /tmp tmpfs", "3 fields");
	parse_bad("none /tmp tmpfs defaults 0 0 0", "too many");
	parse_bad("none /tmp tmpfs defaults 0 0 extra words here", "too many");
	parse_bad("none /tmp tmpfs defaults 0 0 # trailing comment", "too many");
	parse_bad("none /tmp tmpfs defaults 3 0", "must be 0, 1 or 2");
	parse_bad("none /tmp tmpfs defaults 0 x", "must be 0, 1 or 2");
	parse_bad("none /tmp tmpfs defaults -1", "must be 0, 1 or 2");
	parse_bad("none /tmp tmpfs defaults 00", "must be 0, 1 or 2");
}

/* ---- targets ----------------------------------------------------------- */

static void test_target_relative(void **state)
{
	(void)state;
	parse_bad("none tmp tmpfs defaults 0 0", "absolute");
	parse_bad("none ./tmp tmpfs defaults 0 0", "absolute");
	parse_bad("none ../tmp tmpfs defaults 0 0", "absolute");
	parse_bad("none ~/tmp tmpfs defaults 0 0", "absolute");
}

static void test_target_dotdot(void **state)
{
	(void)state;
	parse_bad("none /.. tmpfs defaults 0 0", "'..'");
	parse_bad("none /../etc tmpfs defaults 0 0", "'..'");
	parse_bad("none /mnt/../../etc tmpfs defaults 0 0", "'..'");
	parse_bad("none /mnt/.. tmpfs defaults 0 0", "'..'");
	parse_bad("none /mnt/./x tmpfs defaults 0 0", "'.'");
	parse_bad("none /. tmpfs defaults 0 0", "'.'");
	/* names that merely contain dots are fine */
	struct vs_fstab_entry e;
	parse_ok("none /mnt/..x tmpfs defaults 0 0", &e);
	vs_fstab_entry_free(&e);
	parse_ok("none /mnt/.hidden tmpfs defaults 0 0", &e);
	vs_fstab_entry_free(&e);
}

static void test_target_root(void **state)
{
	(void)state;
	parse_bad("none / tmpfs defaults 0 0", "'/'");
	parse_bad("none // tmpfs defaults 0 0", "'/'");
	parse_bad("none /// tmpfs defaults 0 0", "'/'");
	parse_bad("/srv/root / none bind 0 0", "'/'");
}

static void test_target_proc_sys_dev(void **state)
{
	(void)state;
	parse_bad("none /proc/sys tmpfs defaults 0 0", "/proc");
	parse_bad("none /proc/sysrq-trigger tmpfs defaults 0 0", "/proc");
	parse_bad("/srv/x /proc/1/root none bind 0 0", "/proc");
	parse_bad("none //proc//sys/ tmpfs defaults 0 0", "/proc");
	parse_bad("none /sys/fs/cgroup tmpfs defaults 0 0", "/sys");
	parse_bad("/srv/x /sys/kernel none bind 0 0", "/sys");
	parse_bad("none /dev tmpfs defaults 0 0", "/dev");
	parse_bad("none /dev/sda tmpfs defaults 0 0", "/dev");
	parse_bad("/dev/sda1 /dev/mapper ext4 defaults 0 0", "/dev");
	parse_bad("none /dev/pts/0 tmpfs defaults 0 0", "/dev");
	/* prefixes that are only string prefixes are fine */
	struct vs_fstab_entry e;
	parse_ok("none /procfoo tmpfs defaults 0 0", &e);
	vs_fstab_entry_free(&e);
	parse_ok("none /system tmpfs defaults 0 0", &e);
	vs_fstab_entry_free(&e);
	parse_ok("none /devices tmpfs defaults 0 0", &e);
	vs_fstab_entry_free(&e);
	parse_ok("none /dev/mqueue mqueue defaults 0 0", &e);
	vs_fstab_entry_free(&e);
}

/* ---- sources ------------------------------------------------------------ */

static void test_bind_source(void **state)
{
	(void)state;
	parse_bad("/ /mnt/host none rbind 0 0", "'/'");
	parse_bad("/ /mnt/host none bind 0 0", "'/'");
	parse_bad("/ /mnt/host bind defaults 0 0", "'/'");
	parse_bad("/ /mnt/host none ro,rbind 0 0", "'/'");
	parse_bad("srv/data /mnt/data none bind 0 0", "absolute host path");
	parse_bad("data /mnt/data bind defaults 0 0", "absolute host path");
}

/* The host root spelled differently is still the host root. */
static void test_bind_source_root_spellings(void **state)
{
	(void)state;
	parse_bad("// /mnt/host none rbind 0 0", "'/'");
	parse_bad("/. /mnt/host none rbind 0 0", NULL);
	parse_bad("/./ /mnt/host none rbind 0 0", NULL);
	parse_bad("/usr/.. /mnt/host none rbind 0 0", NULL);
	parse_bad("/\\057 /mnt/host none rbind 0 0", NULL);
}

/* ---- options ----------------------------------------------------------- */

static void test_refused_options(void **state)
{
	(void)state;
	parse_bad("/srv/x /mnt/x none bind,suid 0 0", "'suid' refused");
	parse_bad("none /mnt/x tmpfs suid 0 0", "'suid' refused");
	parse_bad("none /mnt/x tmpfs defaults,dev 0 0", "'dev' refused");
	parse_bad("/srv/x /mnt/x none rbind,shared 0 0", "'shared' refused");
	parse_bad("/srv/x /mnt/x none rbind,rshared 0 0", "'rshared' refused");
	parse_bad("/srv/x /mnt/x none bind,user 0 0", "'user' refused");
	parse_bad("/srv/x /mnt/x none bind,users 0 0", "'users' refused");
	parse_bad("none /mnt/x tmpfs suid=1 0 0", "'suid' refused");
}

static void test_unknown_options(void **state)
{
	(void)state;
	parse_bad("none /mnt/x tmpfs bogus 0 0", "unknown mount option 'bogus'");
	parse_bad("none /mnt/x tmpfs RO 0 0", "unknown mount option");
	parse_bad("none /mnt/x tmpfs ro,nosuidd 0 0", "unknown mount option");
	parse_bad("none /mnt/x tmpfs size 0 0", "needs a value");
	parse_bad("none /mnt/x tmpfs size= 0 0", "empty value");
	parse_bad("none /mnt/x tmpfs ro=1 0 0", "takes no value");
	parse_bad("none /mnt/x tmpfs =5 0 0", "unknown mount option");
}

static void test_ro_rw(void **state)
{
	(void)state;
	parse_bad("none /mnt/x tmpfs ro,rw 0 0", "contradict");
	parse_bad("/srv/x /mnt/x none rw,bind,ro 0 0", "contradict");
	struct vs_fstab_entry e;
	parse_ok("none /mnt/x tmpfs ro,ro 0 0", &e);
	assert_true(e.readonly);
	vs_fstab_entry_free(&e);
	parse_ok("none /mnt/x tmpfs rw 0 0", &e);
	assert_false(e.readonly);
	vs_fstab_entry_free(&e);
}

/* ---- types -------------------------------------------------------------- */

static void test_types(void **state)
{
	(void)state;
	parse_bad("none /mnt/x bogusfs defaults 0 0", "unknown filesystem type 'bogusfs'");
	parse_bad("none /mnt/x PROC defaults 0 0", "unknown filesystem type");
	parse_bad("none /mnt/proc proc defaults 0 0", "only be mounted on /proc");
	parse_bad("proc /tmp/p proc defaults 0 0", "only be mounted on /proc");
	parse_bad("none /mnt/sys sysfs defaults 0 0", "only be mounted on /sys");
	parse_bad("none /mnt/x cgroup2 defaults 0 0", "unknown filesystem type");
	parse_bad("none /mnt/x debugfs defaults 0 0", "unknown filesystem type");
	parse_bad("none /mnt/x securityfs defaults 0 0", "unknown filesystem type");
}

/* ---- the barrier above a shared folder (PR-04) ---------------------------- */

static int barrier_at(const char *top, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", top, rel);
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	vs_err err = { 0 };
	int r = vs_fstab_behind_barrier(fd, &err);
	close(fd);
	if (r < 0)
		print_error("%s: %s\n", p, err.msg);
	return r;
}

static void mkdir_mode(const char *top, const char *rel, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", top, rel);
	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void test_barrier(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* a barrier is owned by root */
	char top[] = "/tmp/vs-test-fstab.XXXXXX";
	assert_non_null(mkdtemp(top));
	assert_int_equal(chmod(top, 0755), 0);
	/* the walk goes up to / when nothing stops it: a host whose /tmp or /
	 * is itself a barrier cannot show the open case */
	int open_above = barrier_at(top, ".");
	mkdir_mode(top, "open", 0755);
	mkdir_mode(top, "open/sub", 0755);
	mkdir_mode(top, "closed", 0700);
	mkdir_mode(top, "closed/sub", 0755);
	mkdir_mode(top, "closed/sub/deeper", 0777);
	mkdir_mode(top, "readable", 0744);    /* names listable, not traversable */
	mkdir_mode(top, "readable/sub", 0755);
	mkdir_mode(top, "others_x", 0701);
	mkdir_mode(top, "others_x/sub", 0755);
	mkdir_mode(top, "group_x", 0710);
	mkdir_mode(top, "group_x/sub", 0755);
	mkdir_mode(top, "user_owned", 0700);
	mkdir_mode(top, "user_owned/sub", 0755);
	char p[PATH_MAX], q[PATH_MAX];
	snprintf(p, sizeof p, "%s/user_owned", top);
	assert_int_equal(chown(p, 1000, 1000), 0);
	/* a link in the open part to a directory behind the barrier: judged
	 * where it leads, not by the path's spelling */
	snprintf(p, sizeof p, "%s/closed/sub", top);
	snprintf(q, sizeof q, "%s/open/link", top);
	assert_int_equal(symlink(p, q), 0);
	if (open_above == 0) {
		assert_int_equal(barrier_at(top, "open/sub"), 0);
		assert_int_equal(barrier_at(top, "others_x/sub"), 0);
		assert_int_equal(barrier_at(top, "group_x/sub"), 0);
		assert_int_equal(barrier_at(top, "user_owned/sub"), 0);
	}
	assert_int_equal(barrier_at(top, "closed/sub"), 1);
	assert_int_equal(barrier_at(top, "closed/sub/deeper"), 1);
	assert_int_equal(barrier_at(top, "closed"), 1);   /* the directory itself counts */
	assert_int_equal(barrier_at(top, "readable/sub"), 1);
	assert_int_equal(barrier_at(top, "open/link"), 1);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

/* vserver NAME mount: a bind entry from two paths, checked as a line is */
static void test_bind_entry(void **state)
{
	(void)state;
	struct vs_fstab_entry e;
	vs_err err;
	assert_int_equal(vs_fstab_bind_entry("/srv/my data\\x", "/mnt//in guest/", true, true, &e, &err), 0);
	assert_string_equal(e.source, "/srv/my data\\x");
	assert_string_equal(e.target, "/mnt/in guest");
	assert_true(e.bind && e.readonly);
	assert_string_equal(e.options, "rbind,ro");
	vs_fstab_entry_free(&e);
	assert_int_equal(vs_fstab_bind_entry("/srv", "/proc/x", false, false, &e, &err), -1);
	assert_non_null(strstr(err.msg, "which vserver sets up itself"));
	assert_int_equal(vs_fstab_bind_entry("/", "/mnt", false, false, &e, &err), -1);
	assert_int_equal(vs_fstab_bind_entry("/srv/../etc", "/mnt", false, false, &e, &err), -1);
	assert_non_null(strstr(err.msg, "must not contain '..'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_and_comments),
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_target_normalised),
		cmocka_unit_test(test_octal_escapes),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_target_relative),
		cmocka_unit_test(test_target_dotdot),
		cmocka_unit_test(test_target_root),
		cmocka_unit_test(test_target_proc_sys_dev),
		cmocka_unit_test(test_bind_source),
		cmocka_unit_test(test_bind_source_root_spellings),
		cmocka_unit_test(test_refused_options),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_ro_rw),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_barrier),
		cmocka_unit_test(test_bind_entry),
	};
	return cmocka_run_group_tests_name("fstab", tests, NULL, NULL);
}
