/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/config.c: the configuration loader against the bad
 * inputs of security-catalogue.md section 3.  Every test gets a fresh
 * configuration tree under a mkdtemp directory; struct vs_settings points
 * there, so nothing outside /tmp is touched. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "caps.h"
#include "config.h"
#include "state.h"
#include "util.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];
static struct vs_settings S;

/* ---- fixture ----------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(tmpdir, sizeof tmpdir, "config") < 0)
		return -1;
	vs_test_settings(&S, tmpdir);
	if (mkdir(S.confdir, 0755) < 0 || mkdir(S.vdirbase, 0755) < 0)
		return -1;
	alarm(20); /* a hang (FIFO opened without O_NONBLOCK) kills the test */
	return 0;
}

/* Configurations loaded by the running test, freed by teardown if an
 * assertion jumps out of the test before done().  The tests keep their
 * struct vs_config and vs_diags in static storage, so the pointers are
 * still valid after cmocka's longjmp. */
static struct {
	struct vs_config *c;
	struct vs_diags *d;
} live[8];

static void live_add(struct vs_config *c, struct vs_diags *d)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(live); i++)
		if (live[i].c == c)
			return;
	for (size_t i = 0; i < VS_ARRAY_SIZE(live); i++)
		if (!live[i].c) {
			live[i].c = c;
			live[i].d = d;
			return;
		}
	fail_msg("too many live configurations");
}

static void live_del(struct vs_config *c)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(live); i++)
		if (live[i].c == c)
			live[i].c = NULL;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	for (size_t i = 0; i < VS_ARRAY_SIZE(live); i++)
		if (live[i].c) {
			vs_diags_free(live[i].d);
			vs_config_free(live[i].c);
			live[i].c = NULL;
		}
	return vs_test_rmtree(tmpdir);
}

static char *gpath(const char *guest, const char *rel)
{
	return rel ? vs_asprintf("%s/%s/%s", S.confdir, guest, rel) : vs_asprintf("%s/%s", S.confdir, guest);
}

static void mkdirs_for(const char *path)
{
	char *p = vs_strdup(path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	free(p);
}

static void guest_new(const char *guest)
{
	char *p = gpath(guest, NULL);
	if (mkdir(p, 0755) < 0)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static void put_n(const char *guest, const char *rel, const void *data, size_t len)
{
	char *p = gpath(guest, rel);
	mkdirs_for(p);
	FILE *f = fopen(p, "w");
	if (!f)
		fail_msg("fopen %s: %s", p, strerror(errno));
	if (len && fwrite(data, 1, len, f) != len)
		fail_msg("write %s", p);
	fclose(f);
	free(p);
}

static void put(const char *guest, const char *rel, const char *data)
{
	put_n(guest, rel, data, strlen(data));
}

/* A guest with a valid context plus one more file. */
static void guest_with(const char *guest, const char *rel, const char *data)
{
	guest_new(guest);
	if (strcmp(rel, "context"))
		put(guest, "context", "100\n");
	put(guest, rel, data);
}

static void load(const char *guest, struct vs_config *c, struct vs_diags *d)
{
	vs_err err = { 0 };
	memset(d, 0, sizeof *d);
	int r = vs_config_load(&S, guest, c, d, &err);
	live_add(c, d);
	if (r != 0)
		fail_msg("vs_config_load(%s) failed: %s", guest, err.msg);
}

static void dump_diags(const struct vs_diags *d)
{
	print_message("  %zu diagnostic(s):\n", d->n);
	for (size_t i = 0; i < d->n; i++)
		print_message("    %s:%d: %s\n", d->d[i].file, d->d[i].line, d->d[i].msg);
}

static const struct vs_diag *find_diag(const struct vs_diags *d, const char *file, int line, const char *frag)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->d[i].file, file) && d->d[i].line == line && (!frag || strstr(d->d[i].msg, frag)))
			return &d->d[i];
	return NULL;
}

#define expect_diag(d, file, line, frag)                                                                     \
	do {                                                                                                 \
		if (!find_diag((d), (file), (line), (frag))) {                                               \
			print_error("expected a diagnostic %s:%d containing '%s'\n", (file), (line),          \
				    (frag) ? (frag) : "");                                                    \
			dump_diags(d);                                                                       \
			fail();                                                                              \
		}                                                                                            \
	} while (0)

#define expect_no_diags(d)                                                                                   \
	do {                                                                                                 \
		if ((d)->n) {                                                                                \
			print_error("expected no diagnostics\n");                                            \
			dump_diags(d);                                                                       \
			fail();                                                                              \
		}                                                                                            \
	} while (0)

/* No diagnostic may carry raw control characters (terminal injection);
 * a tab is harmless. */
static void check_diags_printable(const struct vs_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (const unsigned char *p = (const unsigned char *)d->d[i].msg; *p; p++)
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
				print_error("diagnostic %s:%d has control byte 0x%02x\n", d->d[i].file, d->d[i].line,
					    *p);
				fail();
			}
	}
}

static void done(struct vs_config *c, struct vs_diags *d)
{
	check_diags_printable(d);
	live_del(c);
	vs_diags_free(d);
	vs_config_free(c);
}

/* Load a guest whose only problem is in `file`; expect a diagnostic there. */
static void expect_bad(const char *guest, const char *file, int line, const char *frag)
{
	static struct vs_config c;
	static struct vs_diags d;
	load(guest, &c, &d);
	expect_diag(&d, file, line, frag);
	done(&c, &d);
}

/* ---- a complete, valid guest ------------------------------------------- */

static void test_good_guest(void **state)
{
	(void)state;
	guest_new("web1");
	put("web1", "context", "42\n");
	put("web1", "name", "Web server 1\n");
	put("web1", "uts/nodename", "web1.example.com\n");
	put("web1", "uts/domainname", "example\n");
	put("web1", "personality", "LINUX\nADDR_NO_RANDOMIZE\n");
	put("web1", "apps/init/style", "systemd\n");
	put("web1", "apps/init/mark", "default\n");
	put("web1", "apps/init/runlevel", "2\n");
	put("web1", "apps/init/cmd.start", "/sbin/init\n--log-level=info\n");
	put("web1", "apps/init/environment", "LANG=C.UTF-8\nTERM=linux\n");
	put("web1", "apps/init/killseq", "TERM\n10\nKILL\n");
	put("web1", "bcapabilities", "# extra\nSYS_NICE\n\n~CHOWN\n");
	put("web1", "fstab", "# mounts\nnone /tmp tmpfs size=16m,mode=1777 0 0\n\n/srv/www /srv/www none bind,ro 0 0\n");
	put("web1", "interfaces/dev", "eth0\n");
	put("web1", "interfaces/0/ip", "192.0.2.10\n");
	put("web1", "interfaces/0/prefix", "24\n");
	put("web1", "interfaces/1/ip", "2001:db8::10/64\n");
	put("web1", "interfaces/1/nodev", "");
	put("web1", "shell", "/bin/bash\n");
	put("web1", "nice", "-5\n");
	put("web1", "disabled", "");
	put("web1", "context.rpmnew", "garbage\n"); /* ignored */
	put("web1", "name~", "garbage\n");          /* ignored */

	static struct vs_config c;
	static struct vs_diags d;
	load("web1", &c, &d);
	expect_no_diags(&d);
	assert_string_equal(c.name, "web1");
	assert_int_equal(c.context, 42);
	assert_string_equal(c.display_name, "Web server 1");
	assert_string_equal(c.nodename, "web1.example.com");
	assert_string_equal(c.domainname, "example");
	assert_false(c.linux32);
	assert_int_equal(c.personality_flags.n, 1);
	assert_int_equal(c.init.style, VS_INIT_SYSTEMD);
	assert_string_equal(c.init.mark, "default");
	assert_string_equal(c.init.runlevel, "2");
	assert_int_equal(c.init.cmd_start.n, 2);
	assert_string_equal(c.init.cmd_start.v[1], "--log-level=info");
	assert_int_equal(c.init.environment.n, 2);
	assert_string_equal(c.init.environment.v[0], "LANG=C.UTF-8");
	assert_int_equal(c.init.killseq.n, 3);
	assert_string_equal(c.init.killseq.v[2], "KILL");
	assert_true(c.caps_add == (UINT64_C(1) << CAP_SYS_NICE));
	assert_true(c.caps_drop == (UINT64_C(1) << CAP_CHOWN));
	assert_int_equal(c.fstab.n, 2);
	assert_string_equal(c.fstab.e[0].target, "/tmp");
	assert_int_equal(c.fstab.e[0].line, 2);
	assert_int_equal(c.fstab.e[1].line, 4);
	assert_true(c.fstab.e[1].readonly);
	assert_string_equal(c.iface_dev, "eth0");
	assert_int_equal(c.n_ifaces, 2);
	char buf[80];
	vs_ip_format(&c.ifaces[0].ip, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.10/24");
	assert_string_equal(c.ifaces[0].id, "0");
	vs_ip_format(&c.ifaces[1].ip, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::10/64");
	assert_true(c.ifaces[1].nodev);
	assert_string_equal(c.shell, "/bin/bash");
	assert_true(c.nice_set);
	assert_int_equal(c.nice, -5);
	assert_true(c.disabled);
	char *vd = vs_asprintf("%s/web1", S.vdirbase);
	assert_string_equal(c.vdir, vd);
	assert_true(c.vdir_is_default);
	free(vd);
	done(&c, &d);
}

static void test_defaults(void **state)
{
	(void)state;
	guest_new("min");
	put("min", "context", "7");
	static struct vs_config c;
	static struct vs_diags d;
	load("min", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.context, 7);
	assert_string_equal(c.display_name, "min");
	assert_string_equal(c.nodename, "min");
	assert_string_equal(c.init.runlevel, "3");
	assert_int_equal(c.init.killseq.n, 3);
	assert_string_equal(c.init.killseq.v[0], "15");
	assert_string_equal(c.init.killseq.v[1], "5");
	assert_string_equal(c.init.killseq.v[2], "9");
	assert_int_equal(c.init.environment.n, 1);
	assert_true(vs_str_startswith(c.init.environment.v[0], "PATH="));
	assert_true(c.caps_add == 0 && c.caps_drop == 0);
	assert_int_equal(c.n_ifaces, 0);
	assert_false(c.disabled);
	done(&c, &d);
}

static void test_no_such_guest(void **state)
{
	(void)state;
	static struct vs_config c;
	struct vs_diags d = { 0 };
	vs_err err = { 0 };
	assert_int_equal(vs_config_load(&S, "nosuch", &c, &d, &err), -1);
	assert_int_equal(err.kind, VS_E_NOGUEST);
	assert_non_null(strstr(err.msg, "nosuch"));
	vs_config_free(&c);
	vs_diags_free(&d);
}

static void test_missing_context(void **state)
{
	(void)state;
	guest_new("noctx");
	put("noctx", "name", "x\n");
	expect_bad("noctx", "context", 0, "missing");
}

/* Without a diags list the first problem becomes the error, with the
 * full path and the line. */
static void test_diags_null_error(void **state)
{
	(void)state;
	guest_new("g");
	put("g", "context", "05\n");
	put("g", "nice", "99\n");
	static struct vs_config c;
	vs_err err = { 0 };
	assert_int_equal(vs_config_load(&S, "g", &c, NULL, &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	char *want = vs_asprintf("%s/g/context:1: ", S.confdir);
	if (!strstr(err.msg, want))
		print_error("message '%s' lacks '%s'\n", err.msg, want);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "1 more problem"));
	free(want);
	vs_config_free(&c);
}

/* ---- context --------------------------------------------------------------- */

static void context_bad(const char *value, size_t len, int line, const char *frag)
{
	guest_new("ctx");
	put_n("ctx", "context", value, len);
	static struct vs_config c;
	static struct vs_diags d;
	load("ctx", &c, &d);
	expect_diag(&d, "context", line, frag);
	if (c.context != 0)
		print_error("context value accepted as %u\n", c.context);
	assert_int_equal(c.context, 0);
	/* the bad value is reported once, not also as "missing" */
	assert_null(find_diag(&d, "context", 0, "missing"));
	done(&c, &d);
	char *p = gpath("ctx", NULL);
	vs_test_rmtree(p);
	free(p);
}

#define CTX_BAD(lit, line, frag) context_bad(lit, sizeof(lit) - 1, line, frag)

static void test_context_values(void **state)
{
	(void)state;
	CTX_BAD("0\n", 1, "not allowed");
	CTX_BAD("1\n", 1, "not allowed");
	CTX_BAD("-5\n", 1, "not allowed");
	CTX_BAD("+5\n", 1, "not allowed");
	CTX_BAD(" 5\n", 1, "blanks");
	CTX_BAD("5 \n", 1, "blanks");
	CTX_BAD("\t5\n", 1, "blanks");
	CTX_BAD("05\n", 1, "not allowed");
	CTX_BAD("010\n", 1, "not allowed");
	CTX_BAD("0x10\n", 1, "not allowed");
	CTX_BAD("4294967296\n", 1, "not allowed");
	CTX_BAD("18446744073709551616\n", 1, "not allowed");
	CTX_BAD("49152\n", 1, "not allowed");
	CTX_BAD("1e3\n", 1, "not allowed");
	CTX_BAD("abc\n", 1, "not allowed");
	CTX_BAD("", 1, "empty");
	CTX_BAD("\n", 1, "empty");
	CTX_BAD("\n5\n", 1, "empty");
	CTX_BAD("5\n6\n", 2, "second");
	CTX_BAD("5\n6", 2, "second");
	CTX_BAD("5\r\n", 1, "carriage return");
	CTX_BAD("5\0\n", 0, "NUL");
	CTX_BAD("5\x1b\n", 1, "control character");
}

static void ctx_ok(const char *value, unsigned want)
{
	guest_new("ok");
	put("ok", "context", value);
	static struct vs_config c;
	static struct vs_diags d;
	load("ok", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.context, want);
	done(&c, &d);
	char *p = gpath("ok", NULL);
	vs_test_rmtree(p);
	free(p);
}

static void test_context_good(void **state)
{
	(void)state;
	ctx_ok("2\n", 2);
	ctx_ok("49151\n", 49151);
	ctx_ok("40000", 40000);     /* no final newline */
	ctx_ok("40001\n\n\n", 40001); /* trailing blank lines */
}

/* A blank line between two values: the diagnostic must point at the
 * line that holds the extra value. */
static void test_scalar_second_value_line(void **state)
{
	(void)state;
	CTX_BAD("5\n\n6\n", 3, "'6'");
}

/* ---- names ----------------------------------------------------------------- */

static void name_bad(const char *name)
{
	vs_err err = { 0 };
	int r = vs_name_check(name, &err);
	if (r != -1)
		print_error("name '%s' accepted\n", name);
	assert_int_equal(r, -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	assert_non_null(strstr(err.msg, "invalid guest name"));
	assert_null(strchr(err.msg, '\n'));
	/* the loader refuses it before building a path */
	static struct vs_config c;
	memset(&err, 0, sizeof err);
	assert_int_equal(vs_config_load(&S, name, &c, NULL, &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	vs_config_free(&c);
}

static void test_names(void **state)
{
	(void)state;
	name_bad("");
	name_bad(".");
	name_bad("..");
	name_bad("a/b");
	name_bad("../x");
	name_bad("/abs");
	name_bad("./rel");
	name_bad("-rf");
	name_bad("_a");
	name_bad(".hidden");
	name_bad("a b");
	name_bad("a\nb");
	name_bad("a\tb");
	name_bad("abcdefghijklm"); /* 13 */
	name_bad("AB");
	name_bad("aB");
	name_bad("caf\xc3\xa9");
	name_bad("a\xff");
	name_bad("a:b");
	name_bad("a*");
	vs_err err;
	assert_int_equal(vs_name_check("a", &err), 0);
	assert_int_equal(vs_name_check("web-1", &err), 0);
	assert_int_equal(vs_name_check("0db_2.x", &err), 0);
	assert_int_equal(vs_name_check("abcdefghijkl", &err), 0); /* 12 */
	assert_int_equal(vs_name_check("a..", &err), 0);
}

/* ---- host names ------------------------------------------------------------ */

static void test_hostnames(void **state)
{
	(void)state;
	char h65[66], h64[65];
	memset(h65, 'a', 65);
	h65[65] = 0;
	for (int i = 0; i < 64; i++)
		h64[i] = (i % 16 == 15) ? '.' : 'a';
	h64[64] = 0;
	h64[63] = 'z';
	char *v = vs_asprintf("%s\n", h65);
	static const struct {
		const char *value, *frag;
	} bad[] = {
		{ "a..b\n", "empty label" },    { "-a\n", "'-'" },        { "a-\n", "'-'" },
		{ "a_b\n", "contains '_'" },    { ".a\n", "empty label" }, { "a.\n", "empty label" },
		{ "a b\n", "contains" },        { "a/b\n", "contains" },  { "a.-b.c\n", "'-'" },
		{ "caf\xc3\xa9\n", "contains" },
	};
	guest_with("h", "uts/nodename", v);
	expect_bad("h", "uts/nodename", 1, "1..64");
	free(v);
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		put("h", "uts/nodename", bad[i].value);
		expect_bad("h", "uts/nodename", 1, bad[i].frag);
		put("h", "uts/domainname", bad[i].value);
		put("h", "uts/nodename", "ok\n");
		expect_bad("h", "uts/domainname", 1, bad[i].frag);
		char *p = gpath("h", "uts/domainname");
		unlink(p);
		free(p);
	}
	/* a 63-character label is fine, 64 is not */
	vs_err err;
	char l63[64], l64[65];
	memset(l63, 'b', 63);
	l63[63] = 0;
	memset(l64, 'b', 64);
	l64[64] = 0;
	assert_int_equal(vs_hostname_check(l63, &err), 0);
	assert_int_equal(vs_hostname_check(l64, &err), -1);
	assert_int_equal(vs_hostname_check(h64, &err), 0);
	assert_int_equal(vs_hostname_check("", &err), -1);
	assert_int_equal(vs_hostname_check("Web-1.Example.COM", &err), 0);

	v = vs_asprintf("%s\n", h64);
	put("h", "uts/nodename", v);
	free(v);
	static struct vs_config c;
	static struct vs_diags d;
	load("h", &c, &d);
	expect_no_diags(&d);
	assert_string_equal(c.nodename, h64);
	done(&c, &d);
}

/* ---- odd files ------------------------------------------------------------- */

static void test_fifo(void **state)
{
	(void)state;
	guest_new("fifo");
	char *p = gpath("fifo", "context");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	put("fifo", "apps/init/style", "sysv\n");
	p = gpath("fifo", "apps/init/environment");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	static struct vs_config c;
	static struct vs_diags d;
	load("fifo", &c, &d); /* must return: the FIFO has no writer */
	expect_diag(&d, "context", 0, "FIFO");
	expect_diag(&d, "apps/init/environment", 0, "FIFO");
	assert_int_equal(c.context, 0);
	done(&c, &d);
}

static void test_fifo_in_defaults(void **state)
{
	(void)state;
	char *p = vs_asprintf("%s/.defaults", S.confdir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = vs_asprintf("%s/.defaults/shell", S.confdir);
	assert_int_equal(mkfifo(p, 0600), 0);
	guest_with("g", "nice", "0\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("g", &c, &d);
	expect_diag(&d, p, 0, "FIFO");
	free(p);
	done(&c, &d);
}

static void test_symlinks(void **state)
{
	(void)state;
	guest_new("sym");
	char *p = gpath("sym", "context");
	assert_int_equal(symlink("/dev/zero", p), 0);
	free(p);
	p = gpath("sym", "bcapabilities");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	put("sym", "real-name", "x\n");
	p = gpath("sym", "name");
	assert_int_equal(symlink("real-name", p), 0);
	free(p);
	static struct vs_config c;
	static struct vs_diags d;
	load("sym", &c, &d);
	expect_diag(&d, "context", 0, "symbolic link");
	expect_diag(&d, "bcapabilities", 0, "symbolic link");
	expect_diag(&d, "name", 0, "symbolic link");
	assert_int_equal(c.context, 0);
	assert_true(c.caps_add == 0);
	assert_string_equal(c.display_name, "sym");
	done(&c, &d);
}

static void test_directory_as_file(void **state)
{
	(void)state;
	guest_new("dir");
	char *p = gpath("dir", "context");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	expect_bad("dir", "context", 0, "directory");
}

static void test_large_files(void **state)
{
	(void)state;
	/* 100 KiB: refused as a whole */
	size_t n = 100 * 1024;
	char *big = vs_xmalloc0(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 64 == 63) ? '\n' : '#';
	guest_with("big", "bcapabilities", "");
	put_n("big", "bcapabilities", big, n);
	expect_bad("big", "bcapabilities", 0, "too large");
	/* exactly 64 KiB of comments is fine, one byte more is not */
	put_n("big", "bcapabilities", big, 64 * 1024);
	static struct vs_config c;
	static struct vs_diags d;
	load("big", &c, &d);
	expect_no_diags(&d);
	done(&c, &d);
	put_n("big", "bcapabilities", big, 64 * 1024 + 1);
	expect_bad("big", "bcapabilities", 0, "too large");
	free(big);
}

static void test_long_line(void **state)
{
	(void)state;
	char *line = vs_xmalloc0(5002);
	memset(line, 'A', 5000);
	line[1] = '=';
	char *data = vs_asprintf("A=1\n%s\n", line);
	guest_with("ll", "apps/init/environment", data);
	expect_bad("ll", "apps/init/environment", 2, "at most 4096");
	free(data);
	free(line);
}

static void test_nul_byte(void **state)
{
	(void)state;
	guest_with("nul", "apps/init/environment", "");
	put_n("nul", "apps/init/environment", "A=1\nB=2\0C=3\n", 12);
	static struct vs_config c;
	static struct vs_diags d;
	load("nul", &c, &d);
	expect_diag(&d, "apps/init/environment", 0, "NUL");
	/* the file is refused as a whole, not truncated at the NUL */
	assert_false(vs_strv_contains(&c.init.environment, "A=1"));
	done(&c, &d);
}

static void test_crlf(void **state)
{
	(void)state;
	guest_with("crlf", "bcapabilities", "MKNOD\nCHOWN\r\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("crlf", &c, &d);
	expect_diag(&d, "bcapabilities", 2, "carriage return");
	assert_true(c.caps_add == 0);
	done(&c, &d);

	put("crlf", "bcapabilities", "MKNOD\n");
	put("crlf", "uts/nodename", "host\r\n");
	expect_bad("crlf", "uts/nodename", 1, "carriage return");
}

static void test_control_chars(void **state)
{
	(void)state;
	guest_with("cc", "name", "evil\x1b]0;title\x07\n");
	expect_bad("cc", "name", 1, "control character");
	put("cc", "name", "ok\n");
	put("cc", "fstab", "none /tmp tmpfs defaults 0 0\nnone /run tmpfs mode=755\x08 0 0\n");
	expect_bad("cc", "fstab", 2, "control character");
}

static void test_unknown_files(void **state)
{
	(void)state;
	guest_with("unk", "contxt", "5\n");
	put("unk", "flags", "fakeinit\n");
	put("unk", "interface/0/ip", "10.0.0.1\n");
	put("unk", "apps/init/stlye", "sysv\n");
	put("unk", "uts/release", "5.0\n");
	put("unk", ".hidden", "x\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("unk", &c, &d);
	expect_diag(&d, "contxt", 0, "unknown configuration file");
	expect_diag(&d, "flags", 0, "not supported");
	expect_diag(&d, "interface", 0, "unknown configuration directory");
	expect_diag(&d, "apps/init/stlye", 0, "unknown configuration file");
	expect_diag(&d, "uts/release", 0, "not supported");
	expect_diag(&d, ".hidden", 0, "unknown");
	assert_int_equal(c.context, 100);
	done(&c, &d);
}

/* sysctl/<x>/{setting,value}: namespaced settings only, net.* only with a
 * network namespace of the guest's own; entries in name order */
static void test_sysctl(void **state)
{
	(void)state;
	guest_with("s", "sysctl/b/setting", "net.ipv4.conf.eth0/100.forwarding\n");
	put("s", "sysctl/b/value", "1\n");
	put("s", "sysctl/a/setting", "kernel.shmmax\n");
	put("s", "sysctl/a/value", "268435456\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("s", &c, &d); /* no interfaces: mode none, its own network namespace */
	expect_no_diags(&d);
	assert_int_equal(c.n_sysctls, 2);
	assert_string_equal(c.sysctls[0].id, "a");
	assert_string_equal(c.sysctls[0].setting, "kernel.shmmax");
	assert_string_equal(c.sysctls[0].value, "268435456");
	assert_string_equal(c.sysctls[1].setting, "net.ipv4.conf.eth0/100.forwarding");
	done(&c, &d);
	/* the host's network stack: net.* would be the host's */
	put("s", "net/mode", "host\n");
	load("s", &c, &d);
	expect_diag(&d, "sysctl/b/setting", 1, "is the host's in this network mode");
	done(&c, &d);
	put("s", "net/mode", "none\n");
	const struct {
		const char *setting, *frag;
	} bad[] = {
		{ "kernel.sysrq", "is not namespaced: writing it would change the host's setting" },
		{ "vm.overcommit_memory", "is not namespaced" },
		{ "kernel.hostname", "is not namespaced" },
		{ "net..ipv4", "is not a sysctl name" },
		{ "../../etc/passwd", "is not a sysctl name" },
		{ "net.ipv4 .x", "is not a sysctl name" },
		{ ".net", "is not a sysctl name" },
		/* '/' is a dot inside a component: never a whole "." or ".." */
		{ "net.//.kernel.core_pattern", "is not a sysctl name" },
		{ "net./.ipv4.ip_forward", "is not a sysctl name" },
		{ "net.ipv4.//", "is not a sysctl name" },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *v = vs_asprintf("%s\n", bad[i].setting);
		put("s", "sysctl/a/setting", v);
		load("s", &c, &d);
		expect_diag(&d, "sysctl/a/setting", 1, bad[i].frag);
		done(&c, &d);
	}
	put("s", "sysctl/a/setting", "kernel.sem\n");
	put("s", "sysctl/a/value", "\n");
	load("s", &c, &d);
	expect_diag(&d, "sysctl/a/value", 1, "empty value");
	done(&c, &d);
	_cleanup_free_ char *value = gpath("s", "sysctl/a/value");
	unlink(value);
	load("s", &c, &d);
	expect_diag(&d, "sysctl/a/setting", 0, "sysctl/a/value is missing");
	done(&c, &d);
	_cleanup_free_ char *setting = gpath("s", "sysctl/a/setting");
	unlink(setting);
	put("s", "sysctl/a/value", "1\n");
	load("s", &c, &d);
	expect_diag(&d, "sysctl/a/setting", 0, "needs its setting");
	done(&c, &d);
}

/* scripts/PHASE and scripts/PHASE.d/ *: in running order, executable or
 * sourced, .defaults' kept apart; bad entries named */
static void test_scripts(void **state)
{
	(void)state;
	guest_with("s", "scripts/pre-start.d/20-b", "#!/bin/sh\n");
	put("s", "scripts/pre-start.d/10-a", "echo sourced\n");
	put("s", "scripts/pre-start.d/.hidden", "x\n");  /* skipped, as a shell glob would */
	put("s", "scripts/pre-start.d/30-c~", "x\n");    /* a backup: skipped */
	put("s", "scripts/pre-start", "#!/bin/sh\n");
	put("s", "scripts/postpost-stop", "#!/bin/sh\n");
	_cleanup_free_ char *b = gpath("s", "scripts/pre-start.d/20-b"), *f = gpath("s", "scripts/pre-start"),
			    *pp = gpath("s", "scripts/postpost-stop"), *a = gpath("s", "scripts/pre-start.d/10-a");
	chmod(b, 0755);
	chmod(f, 0700);
	chmod(pp, 0755);
	_cleanup_free_ char *dd = vs_asprintf("%s/.defaults/scripts/pre-stop", S.confdir);
	mkdirs_for(dd);
	FILE *df = fopen(dd, "w");
	assert_non_null(df);
	fclose(df);
	chmod(dd, 0755);
	static struct vs_config c;
	static struct vs_diags d;
	load("s", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.n_scripts, 5);
	/* .defaults first (loaded first), then the guest's in running order */
	assert_int_equal(c.scripts[0].phase, VS_SCRIPT_PRE_STOP);
	assert_true(c.scripts[0].is_default && c.scripts[0].exec);
	assert_string_equal(c.scripts[0].path, dd);
	const struct {
		int phase;
		const char *path;
		bool exec;
	} want[] = { { VS_SCRIPT_POSTPOST_STOP, pp, true }, { VS_SCRIPT_PRE_START, f, true },
		     { VS_SCRIPT_PRE_START, a, false }, { VS_SCRIPT_PRE_START, b, true } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(want); i++) {
		assert_int_equal(c.scripts[i + 1].phase, want[i].phase);
		assert_string_equal(c.scripts[i + 1].path, want[i].path);
		assert_int_equal(c.scripts[i + 1].exec, want[i].exec);
		assert_false(c.scripts[i + 1].is_default);
	}
	assert_true(vs_scripts_any(&c, VS_SCRIPT_PRE_STOP));
	assert_false(vs_scripts_any(&c, VS_SCRIPT_POST_START));
	done(&c, &d);
	/* bad entries: the file and what is allowed */
	put("s", "scripts/prestart", "#!/bin/sh\n");
	put("s", "scripts/post-stop.d", "x\n");
	load("s", &c, &d);
	expect_diag(&d, "scripts/prestart", 0, "unknown scriptlet phase 'prestart'; the phases are initialize, "
					      "prepre-start, pre-start, post-start, pre-stop, post-stop, postpost-stop");
	expect_diag(&d, "scripts/post-stop.d", 0, "must be a directory of scriptlets");
	done(&c, &d);
	_cleanup_free_ char *bad = gpath("s", "scripts/prestart"), *bad2 = gpath("s", "scripts/post-stop.d");
	unlink(bad);
	unlink(bad2);
	/* a FIFO would hang whoever runs it: refused, never opened */
	_cleanup_free_ char *fifo = gpath("s", "scripts/pre-start.d/40-fifo");
	assert_int_equal(mkfifo(fifo, 0700), 0);
	load("s", &c, &d);
	expect_diag(&d, "scripts/pre-start.d/40-fifo", 0, "is not a regular file");
	done(&c, &d);
	unlink(fifo);
	/* VSERVER_LOCK_HOLDER: only a live holder of this guest counts */
	/* (the test's parent stands for the start or stop holding the lock) */
	_cleanup_free_ char *tok = vs_asprintf("s %d %llu", (int)getppid(), vs_proc_starttime(getppid()));
	setenv("VSERVER_LOCK_HOLDER", tok, 1);
	assert_true(vs_lock_held_by_caller("s"));
	assert_false(vs_lock_held_by_caller("t"));
	_cleanup_free_ char *stale = vs_asprintf("s %d %llu", (int)getppid(), vs_proc_starttime(getppid()) + 1);
	setenv("VSERVER_LOCK_HOLDER", stale, 1);
	assert_false(vs_lock_held_by_caller("s"));
	/* a live process that is not an ancestor (this one), a missing one
	 * (start time 0), pid 1 */
	_cleanup_free_ char *self = vs_asprintf("s %d %llu", (int)getpid(), vs_proc_starttime(getpid()));
	setenv("VSERVER_LOCK_HOLDER", self, 1);
	assert_false(vs_lock_held_by_caller("s"));
	setenv("VSERVER_LOCK_HOLDER", "s 999999 0", 1);
	assert_false(vs_lock_held_by_caller("s"));
	_cleanup_free_ char *one = vs_asprintf("s 1 %llu", vs_proc_starttime(1));
	setenv("VSERVER_LOCK_HOLDER", one, 1);
	assert_false(vs_lock_held_by_caller("s"));
	unsetenv("VSERVER_LOCK_HOLDER");
	assert_false(vs_lock_held_by_caller("s"));
	/* group-writable: untrusted, the load fails (HS-09) */
	chmod(b, 0775);
	struct vs_config c2;
	vs_err err;
	assert_int_equal(vs_config_load(&S, "s", &c2, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "scripts/pre-start.d/20-b: owner uid"));
	assert_non_null(strstr(err.msg, "not trusted"));
}

/* badness: util-vserver's OOM bias, the guest's oom_score_adj */
static void test_badness(void **state)
{
	(void)state;
	guest_with("o", "badness", "-1000\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("o", &c, &d);
	expect_no_diags(&d);
	assert_true(c.limits.oom_score_adj_set);
	assert_int_equal(c.limits.oom_score_adj, -1000);
	done(&c, &d);
	const char *bad[] = { "1001", "-1001", "high", "1e3", "99999999999999999999" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *v = vs_asprintf("%s\n", bad[i]);
		put("o", "badness", v);
		load("o", &c, &d);
		expect_diag(&d, "badness", 1, "-1000 (never OOM-killed) .. 1000 (killed first)");
		assert_false(c.limits.oom_score_adj_set);
		done(&c, &d);
	}
}

static void test_bool_files(void **state)
{
	(void)state;
	guest_with("b", "disabled", "yes\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("b", &c, &d);
	expect_diag(&d, "disabled", 1, "flag file");
	assert_false(c.disabled);
	done(&c, &d);
	put("b", "disabled", "\n\n");
	load("b", &c, &d);
	expect_no_diags(&d);
	assert_true(c.disabled);
	done(&c, &d);
}

static void test_nice(void **state)
{
	(void)state;
	static const char *const bad[] = { "-21\n", "20\n", "-0\n", "+5\n", "05\n", "1e1\n", "5.0\n", "x\n" };
	guest_new("n");
	put("n", "context", "100\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		put("n", "nice", bad[i]);
		static struct vs_config c;
		static struct vs_diags d;
		load("n", &c, &d);
		expect_diag(&d, "nice", 1, "-20..19");
		assert_false(c.nice_set);
		done(&c, &d);
	}
	put("n", "nice", "-20");
	static struct vs_config c;
	static struct vs_diags d;
	load("n", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.nice, -20);
	done(&c, &d);
}

/* ---- capabilities ------------------------------------------------------------ */

static void caps_load(const char *data, struct vs_config *c, struct vs_diags *d)
{
	char *p = gpath("cap", NULL);
	vs_test_rmtree(p);
	free(p);
	guest_with("cap", "bcapabilities", data);
	load("cap", c, d);
}

static void test_bcaps_unknown(void **state)
{
	(void)state;
	static const char *const bad[] = { "FOO", "CAP_FOO", "41", "21", "ALL", "~FOO", "!41", "~", "CAP_", "SYS ADMIN" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		char *data = vs_asprintf("MKNOD\n%s\n", bad[i]);
		static struct vs_config c;
		static struct vs_diags d;
		caps_load(data, &c, &d);
		expect_diag(&d, "bcapabilities", 2, "unknown capability");
		free(data);
		done(&c, &d);
	}
}

static void test_bcaps_forbidden(void **state)
{
	(void)state;
	static const char *const bad[] = { "SYS_ADMIN", "cap_sys_admin", "CAP_SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO",
					   "MAC_ADMIN", "MAC_OVERRIDE", "DAC_READ_SEARCH", "BPF", "PERFMON" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		char *data = vs_asprintf("# comment\n%s\n", bad[i]);
		static struct vs_config c;
		static struct vs_diags d;
		caps_load(data, &c, &d);
		expect_diag(&d, "bcapabilities", 2, "cannot be granted");
		assert_true(c.caps_add == 0);
		free(data);
		done(&c, &d);
	}
	/* removing them is fine */
	static struct vs_config c;
	static struct vs_diags d;
	caps_load("~SYS_ADMIN\n!cap_sys_module\n", &c, &d);
	expect_no_diags(&d);
	assert_true(c.caps_drop == ((UINT64_C(1) << CAP_SYS_ADMIN) | (UINT64_C(1) << CAP_SYS_MODULE)));
	done(&c, &d);
}

static void test_bcaps_add_and_remove(void **state)
{
	(void)state;
	static struct vs_config c;
	static struct vs_diags d;
	caps_load("MKNOD\n~MKNOD\n", &c, &d);
	expect_diag(&d, "bcapabilities", 2, "both added and removed");
	done(&c, &d);
	caps_load("~MKNOD\n\n# x\nCAP_MKNOD\n", &c, &d);
	expect_diag(&d, "bcapabilities", 4, "both added and removed");
	done(&c, &d);
}

/* ---- net/ (issue 5) ------------------------------------------------------ */

static void test_net_defaults(void **state)
{
	(void)state;
	static struct vs_config c;
	static struct vs_diags d;
	guest_with("n0", "context", "40001\n");
	load("n0", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.net.mode, VS_NET_NONE);
	done(&c, &d);
	guest_with("n1", "context", "40001\n");
	put("n1", "interfaces/0/ip", "192.0.2.7/24\n");
	put("n1", "interfaces/0/dev", "eth0\n");
	load("n1", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.net.mode, VS_NET_ISOLATED);
	struct vs_ipaddr lb;
	char buf[64];
	vs_config_lback(&c, &lb);
	vs_ip_format(&lb, buf, sizeof buf);
	assert_string_equal(buf, "127.1.156.65"); /* 40001 = 0x9c41 */
	/* NET_ADMIN in isolated: refused; NET_ADMIN in the private default set */
	assert_false(vs_config_bounding_set(&c) & (UINT64_C(1) << CAP_NET_ADMIN));
	done(&c, &d);
	put("n1", "bcapabilities", "NET_RAW\n");
	load("n1", &c, &d);
	expect_diag(&d, "bcapabilities", 0, "NET_RAW cannot be granted in mode isolated");
	done(&c, &d);
}

static void test_net_private(void **state)
{
	(void)state;
	static struct vs_config c;
	static struct vs_diags d;
	guest_with("p", "context", "40002\n");
	put("p", "interfaces/0/ip", "10.66.0.2\n");
	put("p", "interfaces/1/ip", "fd66::2/64\n");
	put("p", "net/mode", "private\n");
	put("p", "net/gateway", "10.66.0.1/24\n");
	put("p", "net/forward", "# ssh\ntcp 10022 22\n\nudp 192.0.2.1:5353 53\ntcp [2001:db8::1]:8080 80\n");
	load("p", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.net.mode, VS_NET_PRIVATE);
	assert_string_equal(c.net.bridge, "vsbr0");
	assert_int_equal(c.ifaces[0].ip.prefix, 24); /* from the gateway */
	assert_int_equal(c.net.n_fwd, 3);
	assert_int_equal(c.net.fwd[0].proto, IPPROTO_TCP);
	assert_int_equal(c.net.fwd[0].host_port, 10022);
	assert_int_equal(c.net.fwd[0].guest_port, 22);
	assert_int_equal(c.net.fwd[0].host_addr.family, 0);
	assert_int_equal(c.net.fwd[0].line, 2);
	assert_int_equal(c.net.fwd[1].proto, IPPROTO_UDP);
	assert_int_equal(c.net.fwd[1].host_addr.family, AF_INET);
	assert_int_equal(c.net.fwd[2].host_addr.family, AF_INET6);
	assert_int_equal(c.net.fwd[2].line, 5);
	assert_true(vs_config_bounding_set(&c) & (UINT64_C(1) << CAP_NET_ADMIN));
	char veth[32];
	vs_config_veth_name(&c, veth, sizeof veth);
	assert_string_equal(veth, "vs-p");
	done(&c, &d);
	/* outside the gateway's subnet; the gateway itself */
	put("p", "interfaces/0/ip", "10.67.0.2\n");
	load("p", &c, &d);
	expect_diag(&d, "interfaces/0", 0, "not a host address in the bridge's subnet 10.66.0.1/24");
	done(&c, &d);
	put("p", "interfaces/0/ip", "10.66.0.1\n");
	load("p", &c, &d);
	expect_diag(&d, "interfaces/0", 0, "not a host address in the bridge's subnet");
	done(&c, &d);
	/* routed with a bridge: contradictory */
	put("p", "interfaces/0/ip", "10.66.0.2\n");
	put("p", "net/routed", "");
	load("p", &c, &d);
	expect_diag(&d, "net/routed", 0, "a routed guest has no bridge");
	done(&c, &d);
}

static void test_net_forward_bad(void **state)
{
	(void)state;
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "tcp", "is not a forward" },
		{ "tcp 1 2 3", "is not a forward" },
		{ "icmp 1 2", "protocol 'icmp' is not allowed" },
		{ "tcp 01 2", "host port '01' is not a port number" },
		{ "tcp -1 2", "host port '-1'" },
		{ "tcp 1 99999", "guest port '99999'" },
		{ "tcp 18446744073709551617 2", "host port" },
		{ "tcp 192.0.2.1/24:80 80", "must not have a prefix" },
		{ "tcp [192.0.2.1]:80 80", "brackets are for IPv6 addresses only" },
		{ "tcp 010.0.0.1:80 80", "host address" },
		{ "udp ::1:53 53", "write an IPv6 address in brackets" },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		static struct vs_config c;
		static struct vs_diags d;
		char *p = gpath("fb", NULL);
		vs_test_rmtree(p);
		free(p);
		guest_with("fb", "context", "40003\n");
		put("fb", "interfaces/0/ip", "10.66.0.2\n");
		put("fb", "net/mode", "private\n");
		put("fb", "net/gateway", "10.66.0.1/24\n");
		char *data = vs_asprintf("tcp 9 9\n%s\n", bad[i].line);
		put("fb", "net/forward", data);
		free(data);
		load("fb", &c, &d);
		expect_diag(&d, "net/forward", 2, bad[i].msg);
		done(&c, &d);
	}
}

static void test_bcaps_names(void **state)
{
	(void)state;
	static struct vs_config c;
	static struct vs_diags d;
	caps_load("  cap_mknod\t\nCAP_NET_ADMIN\nsys_nice\n~chown\n!CAP_KILL\n", &c, &d);
	expect_no_diags(&d);
	assert_true(c.caps_add ==
		    ((UINT64_C(1) << CAP_MKNOD) | (UINT64_C(1) << CAP_NET_ADMIN) | (UINT64_C(1) << CAP_SYS_NICE)));
	assert_true(c.caps_drop == ((UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_KILL)));
	done(&c, &d);
	/* SYS_PTRACE: only with a user namespace (it would reach vserver's
	 * joining process in the host's) */
	caps_load("sys_ptrace\n", &c, &d);
	expect_diag(&d, "bcapabilities", 0, "user-namespace guest");
	done(&c, &d);
}

/* ---- a missing final newline keeps the last line ------------------------------ */

static void test_no_final_newline(void **state)
{
	(void)state;
	static struct vs_config c;
	static struct vs_diags d;
	caps_load("MKNOD", &c, &d);
	expect_no_diags(&d);
	assert_true(c.caps_add == (UINT64_C(1) << CAP_MKNOD));
	done(&c, &d);

	caps_load("CHOWN\nMKNOD", &c, &d);
	expect_no_diags(&d);
	assert_true(c.caps_add == ((UINT64_C(1) << CAP_MKNOD) | (UINT64_C(1) << CAP_CHOWN)));
	done(&c, &d);

	guest_new("nl");
	put("nl", "context", "9");
	put("nl", "apps/init/killseq", "15\n5\n9");
	put("nl", "apps/init/environment", "A=1\nB=2");
	put("nl", "apps/init/depends", "other");
	put("nl", "fstab", "none /tmp tmpfs defaults 0 0\nnone /run tmpfs defaults 0 0");
	put("nl", "interfaces/0/ip", "10.9.9.9/24");
	put("nl", "uts/nodename", "nodename");
	load("nl", &c, &d);
	expect_no_diags(&d);
	assert_int_equal(c.context, 9);
	assert_int_equal(c.init.killseq.n, 3);
	assert_string_equal(c.init.killseq.v[2], "9");
	assert_int_equal(c.init.environment.n, 2);
	assert_string_equal(c.init.environment.v[1], "B=2");
	assert_int_equal(c.init.depends.n, 1);
	assert_int_equal(c.fstab.n, 2);
	assert_string_equal(c.fstab.e[1].target, "/run");
	assert_int_equal(c.n_ifaces, 1);
	assert_int_equal(c.ifaces[0].ip.prefix, 24);
	assert_string_equal(c.nodename, "nodename");
	done(&c, &d);
}

/* ---- other per-key checks ---------------------------------------------------- */

static void test_fstab_lines(void **state)
{
	(void)state;
	guest_with("fs", "fstab",
		   "# comment\n"
		   "none /proc proc defaults 0 0\n"            /* 2 ok */
		   "none tmp tmpfs defaults 0 0\n"             /* 3 relative */
		   "none /mnt/../etc tmpfs defaults 0 0\n"     /* 4 .. */
		   "/ /mnt/host none rbind 0 0\n"              /* 5 host root */
		   "/srv /srv none bind,suid 0 0\n"            /* 6 suid */
		   "\n"
		   "none /tmp tmpfs defaults 0 0 0\n"          /* 8 too many */
		   "none /tmp tmpfs\n"                         /* 9 too few */
		   "none /tmp tmpfs ro,rw 0 0\n"               /* 10 ro+rw */
		   "none /sys/kernel tmpfs defaults 0 0\n"     /* 11 under /sys */
		   "none /mnt/p proc defaults 0 0\n"           /* 12 proc elsewhere */
		   "proc /proc proc defaults 0 0\n");          /* 13 duplicate target */
	static struct vs_config c;
	static struct vs_diags d;
	load("fs", &c, &d);
	expect_diag(&d, "fstab", 3, "absolute");
	expect_diag(&d, "fstab", 4, "'..'");
	expect_diag(&d, "fstab", 5, "'/'");
	expect_diag(&d, "fstab", 6, "suid");
	expect_diag(&d, "fstab", 8, "too many");
	expect_diag(&d, "fstab", 9, "3 fields");
	expect_diag(&d, "fstab", 10, "contradict");
	expect_diag(&d, "fstab", 11, "/sys");
	expect_diag(&d, "fstab", 12, "/proc");
	expect_diag(&d, "fstab", 13, "already mounted by line 2");
	assert_int_equal(d.n, 10);
	assert_int_equal(c.fstab.n, 1);
	done(&c, &d);
}

static void test_killseq(void **state)
{
	(void)state;
	guest_with("k", "apps/init/killseq", "TERM\n5\n");
	expect_bad("k", "apps/init/killseq", 0, "ending with a signal");
	put("k", "apps/init/killseq", "TERM\nabc\nKILL\n");
	expect_bad("k", "apps/init/killseq", 2, "wait time");
	put("k", "apps/init/killseq", "TERM\n3601\nKILL\n");
	expect_bad("k", "apps/init/killseq", 2, "wait time");
	put("k", "apps/init/killseq", "SIGFOO\n");
	expect_bad("k", "apps/init/killseq", 1, "not a signal");
	put("k", "apps/init/killseq", "0\n");
	expect_bad("k", "apps/init/killseq", 1, "not a signal");
	put("k", "apps/init/killseq", "65\n");
	expect_bad("k", "apps/init/killseq", 1, "not a signal");
	put("k", "apps/init/killseq", "");
	expect_bad("k", "apps/init/killseq", 0, "ending with a signal");
}

static void test_environment(void **state)
{
	(void)state;
	guest_with("e", "apps/init/environment", "A=1\n=x\n1A=2\nNOEQUALS\nA-B=3\nOK_2=a=b c\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("e", &c, &d);
	expect_diag(&d, "apps/init/environment", 2, "VAR=VALUE");
	expect_diag(&d, "apps/init/environment", 3, "VAR=VALUE");
	expect_diag(&d, "apps/init/environment", 4, "VAR=VALUE");
	expect_diag(&d, "apps/init/environment", 5, "VAR=VALUE");
	assert_int_equal(d.n, 4);
	assert_true(vs_strv_contains(&c.init.environment, "OK_2=a=b c"));
	done(&c, &d);
}

static void test_personality(void **state)
{
	(void)state;
	guest_with("p", "personality", "LINUX_32BIT\nUNAME26\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("p", &c, &d);
	expect_no_diags(&d);
	assert_true(c.linux32);
	assert_int_equal(c.personality_flags.n, 1);
	done(&c, &d);
	put("p", "personality", "SOLARIS\nBOGUS\n");
	load("p", &c, &d);
	expect_diag(&d, "personality", 1, "not supported");
	expect_diag(&d, "personality", 2, "unknown personality flag");
	done(&c, &d);
	put("p", "personality", "# only a comment\n");
	expect_bad("p", "personality", 0, "empty");
}

static void test_interfaces(void **state)
{
	(void)state;
	guest_with("if", "interfaces/0/ip", "999.1.1.1\n");
	put("if", "interfaces/1/ip", "10.0.0.1/33\n");
	put("if", "interfaces/2/ip", "fe80::1%eth0\n");
	put("if", "interfaces/3/ip", "010.0.0.1\n");
	put("if", "interfaces/4/ip", "10.0.0.5\n");
	put("if", "interfaces/4/mask", "255.0.255.0\n");
	put("if", "interfaces/5/dev", "eth0\n"); /* no ip */
	put("if", "interfaces/6/ip", "10.0.0.6\n");
	put("if", "interfaces/7/ip", "10.0.0.6/24\n"); /* same address as 6 */
	put("if", "interfaces/8/ip", "10.0.0.8/24\n");
	put("if", "interfaces/8/prefix", "16\n"); /* disagrees */
	put("if", "interfaces/lback", "10.0.0.1\n");
	put("if", "interfaces/dev", "bad/dev\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("if", &c, &d);
	expect_diag(&d, "interfaces/0/ip", 1, "not a valid");
	expect_diag(&d, "interfaces/1/ip", 1, "prefix");
	expect_diag(&d, "interfaces/2/ip", 1, "scope");
	expect_diag(&d, "interfaces/3/ip", 1, "not a valid");
	expect_diag(&d, "interfaces/4/mask", 1, "not contiguous");
	expect_diag(&d, "interfaces/5", 0, "no 'ip'");
	expect_diag(&d, "interfaces/7", 0, "also configured in interfaces/6");
	expect_diag(&d, "interfaces/8/prefix", 1, "disagrees");
	expect_diag(&d, "interfaces/lback", 1, "127.0.0.0/8");
	expect_diag(&d, "interfaces/dev", 1, "interface name");
	done(&c, &d);
}

/* A per-interface prefix file must be checked against the address family
 * like the ADDR/PREFIX form is. */
static void test_interface_prefix_family(void **state)
{
	(void)state;
	guest_with("ifp", "interfaces/0/ip", "10.0.0.1\n");
	put("ifp", "interfaces/0/prefix", "64\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("ifp", &c, &d);
	if (!d.n) {
		char b[80];
		vs_ip_format(&c.ifaces[0].ip, b, sizeof b);
		print_error("accepted as %s\n", b);
	}
	assert_true(d.n > 0);
	expect_diag(&d, "interfaces/0/prefix", 1, NULL);
	done(&c, &d);
}

static void test_vdir(void **state)
{
	(void)state;
	guest_with("vd", "name", "x\n");
	char *p = gpath("vd", "vdir");
	assert_int_equal(symlink("/", p), 0);
	expect_bad("vd", "vdir", 0, "must end in the guest name");
	unlink(p);
	assert_int_equal(symlink("vservers/vd", p), 0);
	expect_bad("vd", "vdir", 0, "absolute");
	unlink(p);
	char *t = vs_asprintf("%s/../vd", S.vdirbase);
	assert_int_equal(symlink(t, p), 0);
	free(t);
	expect_bad("vd", "vdir", 0, "normalised");
	unlink(p);
	t = vs_asprintf("%s/other", S.vdirbase);
	assert_int_equal(symlink(t, p), 0);
	free(t);
	expect_bad("vd", "vdir", 0, "guest name");
	unlink(p);
	put("vd", "vdir", "/vservers/vd\n");
	expect_bad("vd", "vdir", 0, "symbolic link");
	unlink(p);
	t = vs_asprintf("%s/vd", S.vdirbase);
	assert_int_equal(symlink(t, p), 0);
	static struct vs_config c;
	static struct vs_diags d;
	load("vd", &c, &d);
	expect_no_diags(&d);
	assert_string_equal(c.vdir, t);
	assert_true(c.vdir_is_default);
	done(&c, &d);
	free(t);
	free(p);
}

/* ---- conflicts between guests -------------------------------------------------- */

static void test_conflict_context(void **state)
{
	(void)state;
	guest_new("g1");
	put("g1", "context", "100\n");
	guest_new("g2");
	put("g2", "context", "100\n");
	guest_new("g3");
	put("g3", "context", "101\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("g1", &c, &d);
	expect_no_diags(&d);
	vs_config_check_conflicts(&S, &c, &d);
	expect_diag(&d, "context", 1, "already used by guest 'g2'");
	assert_int_equal(d.n, 1);
	done(&c, &d);

	load("g3", &c, &d);
	vs_config_check_conflicts(&S, &c, &d);
	expect_no_diags(&d);
	done(&c, &d);

	char *owner = vs_config_context_owner(&S, 100, "g2");
	assert_non_null(owner);
	assert_string_equal(owner, "g1");
	free(owner);
	assert_null(vs_config_context_owner(&S, 102, NULL));
	unsigned next = 0;
	vs_err err;
	assert_int_equal(vs_config_next_context(&S, &next, &err), 0);
	assert_int_equal(next, VS_CONTEXT_START);
}

static void test_conflict_ip(void **state)
{
	(void)state;
	guest_new("i1");
	put("i1", "context", "201\n");
	put("i1", "interfaces/0/ip", "10.1.2.3/24\n");
	put("i1", "interfaces/1/ip", "fd00::7/64\n");
	guest_new("i2");
	put("i2", "context", "202\n");
	put("i2", "interfaces/eth/ip", "10.1.2.3/16\n");
	guest_new("i3");
	put("i3", "context", "203\n");
	put("i3", "interfaces/x/ip", "fd00:0::7\n");
	put("i3", "interfaces/x/disabled", "");
	static struct vs_config c;
	static struct vs_diags d;
	load("i1", &c, &d);
	expect_no_diags(&d);
	vs_config_check_conflicts(&S, &c, &d);
	expect_diag(&d, "interfaces/0/ip", 1, "already used by guest 'i2'");
	assert_null(find_diag(&d, "interfaces/1/ip", 1, NULL)); /* i3's copy is disabled */
	assert_int_equal(d.n, 1);
	done(&c, &d);

	put("i3", "context", "201\n");
	char *p = gpath("i3", "interfaces/x/disabled");
	unlink(p);
	free(p);
	load("i1", &c, &d);
	vs_config_check_conflicts(&S, &c, &d);
	expect_diag(&d, "context", 1, "already used by guest 'i3'");
	expect_diag(&d, "interfaces/0/ip", 1, "guest 'i2'");
	expect_diag(&d, "interfaces/1/ip", 1, "guest 'i3'");
	done(&c, &d);
}

static void test_depends(void **state)
{
	(void)state;
	guest_with("dep", "apps/init/depends", "other\ndep\nBAD\nother\nghost\n");
	guest_new("other");
	put("other", "context", "5\n");
	static struct vs_config c;
	static struct vs_diags d;
	load("dep", &c, &d);
	expect_diag(&d, "apps/init/depends", 2, "itself");
	expect_diag(&d, "apps/init/depends", 3, "invalid guest name");
	expect_diag(&d, "apps/init/depends", 4, "twice");
	assert_int_equal(d.n, 3);
	vs_config_check_conflicts(&S, &c, &d);
	expect_diag(&d, "apps/init/depends", 0, "'ghost'");
	done(&c, &d);
}

static void test_list_names(void **state)
{
	(void)state;
	guest_new("b");
	guest_new("a");
	char *p = vs_asprintf("%s/.defaults", S.confdir);
	mkdir(p, 0755);
	free(p);
	p = vs_asprintf("%s/UPPER", S.confdir);
	mkdir(p, 0755);
	free(p);
	p = vs_asprintf("%s/file", S.confdir);
	FILE *f = fopen(p, "w");
	fclose(f);
	free(p);
	vs_strv names = { 0 };
	vs_err err;
	assert_int_equal(vs_config_list_names(&S, &names, &err), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], "a");
	assert_string_equal(names.v[1], "b");
	vs_strv_free(&names);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_guest),
		T(test_defaults),
		T(test_no_such_guest),
		T(test_missing_context),
		T(test_diags_null_error),
		T(test_context_values),
		T(test_context_good),
		T(test_scalar_second_value_line),
		T(test_names),
		T(test_hostnames),
		T(test_fifo),
		T(test_fifo_in_defaults),
		T(test_symlinks),
		T(test_directory_as_file),
		T(test_large_files),
		T(test_long_line),
		T(test_nul_byte),
		T(test_crlf),
		T(test_control_chars),
		T(test_unknown_files),
		T(test_sysctl),
		T(test_scripts),
		T(test_badness),
		T(test_bool_files),
		T(test_nice),
		T(test_bcaps_unknown),
		T(test_bcaps_forbidden),
		T(test_bcaps_add_and_remove),
		T(test_bcaps_names),
		T(test_net_defaults),
		T(test_net_private),
		T(test_net_forward_bad),
		T(test_no_final_newline),
		T(test_fstab_lines),
		T(test_killseq),
		T(test_environment),
		T(test_personality),
		T(test_interfaces),
		T(test_interface_prefix_family),
		T(test_vdir),
		T(test_conflict_context),
		T(test_conflict_ip),
		T(test_depends),
		T(test_list_names),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
