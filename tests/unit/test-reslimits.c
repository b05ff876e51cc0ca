/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/reslimits.c: the parsers (every bad value of the
 * security catalogue's "Limits" row, suffix overflow, the floors, soft >
 * hard, keys set twice, sched/ conversion) and the cgroup file writes
 * against fake trees (a pure v2 guest dir and hybrid v1 dirs made of
 * plain files in a temp dir), asserting the exact contents. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "config.h"
#include "reslimits.h"
#include "util.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];

/* ---- helpers --------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	return vs_test_mkdtemp(tmpdir, sizeof tmpdir, "reslimits");
}

static int teardown(void **state)
{
	(void)state;
	return vs_test_rmtree(tmpdir);
}

static char *T(const char *rel)
{
	return vs_asprintf("%s/%s", tmpdir, rel);
}

static void mkdirs(const char *rel)
{
	char *p = T(rel);
	for (char *s = p + strlen(tmpdir) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static void wr(const char *rel, const char *data)
{
	char *p = T(rel);
	FILE *f = fopen(p, "w");
	if (!f)
		fail_msg("create %s: %s", p, strerror(errno));
	fputs(data, f);
	fclose(f);
	free(p);
}

static void expect_file(const char *rel, const char *want)
{
	char *p = T(rel);
	FILE *f = fopen(p, "r");
	char buf[4096] = "";
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	if (!f || strcmp(buf, want))
		print_error("%s: got '%s', want '%s'\n", rel, f ? buf : "(missing)", want);
	assert_non_null(f);
	assert_string_equal(buf, want);
	free(p);
}

/* Parse key=value into l; return the number of diagnostics (the first
 * one's file and line are checked against key and line 3). */
static size_t parse(struct vs_limits *l, const char *key, const char *value)
{
	struct vs_diags d = { 0 };
	vs_limits_parse_key(l, key, value, 3, &d);
	size_t n = d.n;
	if (n) {
		assert_string_equal(d.d[0].file, key);
		assert_true(d.d[0].line == 3 || d.d[0].line == 0);
	}
	vs_diags_free(&d);
	return n;
}

/* The diagnostic message of a refused value (malloc'd; NULL if accepted). */
static char *refusal(struct vs_limits *l, const char *key, const char *value)
{
	struct vs_diags d = { 0 };
	vs_limits_parse_key(l, key, value, 1, &d);
	char *m = d.n ? vs_strdup(d.d[0].msg) : NULL;
	vs_diags_free(&d);
	return m;
}

static size_t finish(struct vs_limits *l, bool v1, char **first)
{
	struct vs_diags d = { 0 };
	vs_limits_finish(l, v1, &d);
	size_t n = d.n;
	if (first)
		*first = n ? vs_asprintf("%s:%d: %s", d.d[0].file, d.d[0].line, d.d[0].msg) : NULL;
	vs_diags_free(&d);
	return n;
}

static bool zero_limits(const struct vs_limits *l)
{
	static const struct vs_limits z;
	return !memcmp(l, &z, sizeof z);
}

/* ---- parsing ---------------------------------------------------------------- */

/* security-catalogue.md section 3, row "Limits", plus bubblewrap's vectors */
static const char *const bad_values[] = {
	"inf", "infinity", "information", "unlimited", "-1", "18446744073709551616", "9223372036854775808",
	"9223372036854775809", "1e9", "10 M", " 10", "10 ", "10m", "10k", "10g", "", "123bogus", "-12345678",
	" -12345678", "+5", "010", "0x10", "1.5G", "10MM", "K", "M", "max ", "Max", "none", "10\t",
};

static void test_bad_values(void **state)
{
	(void)state;
	static const char *const keys[] = { "limits/memory", "limits/memory.high", "limits/memory.low",
					    "limits/swap", "limits/pids" };
	for (size_t k = 0; k < VS_ARRAY_SIZE(keys); k++)
		for (size_t i = 0; i < VS_ARRAY_SIZE(bad_values); i++) {
			struct vs_limits l = { 0 };
			size_t n = parse(&l, keys[k], bad_values[i]);
			if (n != 1)
				print_error("%s = '%s': %zu diagnostics\n", keys[k], bad_values[i], n);
			assert_int_equal(n, 1);
			assert_true(zero_limits(&l)); /* bad input changes nothing */
		}
	/* the weights and cpu.max take no suffix and no "max" ... */
	static const char *const numbers[] = { "limits/cpu.weight", "limits/io.weight" };
	for (size_t k = 0; k < VS_ARRAY_SIZE(numbers); k++) {
		static const char *const more[] = { "max", "100K", "0", "10001", "-1", "1e2", " 100" };
		for (size_t i = 0; i < VS_ARRAY_SIZE(more); i++) {
			struct vs_limits l = { 0 };
			assert_int_equal(parse(&l, numbers[k], more[i]), 1);
			assert_true(zero_limits(&l));
		}
	}
	/* ... and the messages say what is wrong and what is allowed */
	struct vs_limits l = { 0 };
	char *m = refusal(&l, "limits/memory", "unlimited");
	assert_non_null(strstr(m, "the only spelling for no limit is max"));
	free(m);
	m = refusal(&l, "limits/memory", "10m");
	assert_non_null(strstr(m, "upper case"));
	free(m);
	m = refusal(&l, "limits/memory", "10 M");
	assert_non_null(strstr(m, "no blanks"));
	free(m);
	m = refusal(&l, "limits/memory", "18446744073709551616");
	assert_non_null(strstr(m, "too large"));
	free(m);
	m = refusal(&l, "limits/memory", "1e9");
	assert_non_null(strstr(m, "no exponents"));
	free(m);
	assert_true(zero_limits(&l));
}

static void test_good_values(void **state)
{
	(void)state;
	struct vs_limits l = { 0 };
	assert_int_equal(parse(&l, "limits/memory", "512M"), 0);
	assert_true(l.memory.set);
	assert_int_equal(l.memory.v, UINT64_C(536870912));
	assert_string_equal(l.memory.source, "limits/memory");
	assert_int_equal(l.memory.line, 3);
	assert_int_equal(parse(&l, "limits/memory.high", "16M"), 0);
	assert_int_equal(l.memory_high.v, 16 * 1048576);
	assert_int_equal(parse(&l, "limits/memory.low", "0"), 0);
	assert_int_equal(parse(&l, "limits/swap", "max"), 0);
	assert_true(l.swap.v == VS_LIMIT_MAX);
	assert_int_equal(parse(&l, "limits/pids", "8"), 0);
	assert_int_equal(parse(&l, "limits/cpu.weight", "10000"), 0);
	assert_int_equal(parse(&l, "limits/io.weight", "1"), 0);
	assert_int_equal(parse(&l, "limits/cpu.max", "50000 100000"), 0);
	assert_int_equal(l.cpu_quota.v, 50000);
	assert_int_equal(l.cpu_period.v, 100000);
	assert_int_equal(parse(&l, "limits/cpuset.cpus", "0-1,3"), 0);
	assert_string_equal(l.cpuset_cpus, "0-1,3");
	assert_int_equal(parse(&l, "limits/cpuset.mems", "0"), 0);
	assert_int_equal(parse(&l, "limits/io.max", "8:0 wbps=1M riops=100"), 0);
	assert_int_equal(l.n_io_max, 1);
	assert_int_equal(l.io_max[0].wbps, 1048576);
	assert_true(l.io_max[0].rbps == VS_LIMIT_MAX);
	char *s = vs_limits_format(&l, "memory");
	assert_string_equal(s, "536870912");
	free(s);
	s = vs_limits_format(&l, "cpu.max");
	assert_string_equal(s, "50000 100000");
	free(s);
	s = vs_limits_format(&l, "swap");
	assert_string_equal(s, "max");
	free(s);
	assert_null(vs_limits_format(&l, "nonsense"));
	vs_limits_free(&l);

	struct vs_limits m = { 0 };
	assert_int_equal(parse(&m, "limits/cpu.max", "max"), 0);
	assert_true(m.cpu_quota.v == VS_LIMIT_MAX);
	assert_int_equal(m.cpu_period.v, 100000);
	assert_null(vs_limits_format(&m, "memory"));
	assert_int_equal(parse(&m, "limits/memory", "9223372036854775807"), 0);
	vs_limits_free(&m);
	struct vs_limits n = { 0 };
	assert_int_equal(parse(&n, "limits/cpu.max", "max 200000"), 0);
	assert_int_equal(n.cpu_period.v, 200000);
	vs_limits_free(&n);
}

static void test_suffix_overflow(void **state)
{
	(void)state;
	static const char *const too_large[] = {
		"9007199254740992K", /* 2^53 KiB = 2^63 */
		"17179869184G",      /* 2^64 */
		"8388608T",          /* 2^63 */
		"18014398509481984K", /* 2^64: wraps to 0 without the check */
		"99999999999999999999999999999999999999T",
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(too_large); i++) {
		struct vs_limits l = { 0 };
		char *m = refusal(&l, "limits/memory", too_large[i]);
		assert_non_null(m);
		assert_non_null(strstr(m, "too large"));
		free(m);
		assert_true(zero_limits(&l));
	}
	struct vs_limits l = { 0 };
	assert_int_equal(parse(&l, "limits/memory", "8388607T"), 0);
	assert_int_equal(l.memory.v, UINT64_C(8388607) << 40);
	/* util-vserver's syntax: pages, and its own suffixes */
	struct vs_limits r = { 0 };
	assert_int_equal(parse(&r, "rlimits/rss", "4503599627370496"), 1); /* 2^52 pages: 2^64 bytes */
	assert_int_equal(parse(&r, "rlimits/rss", "18014398509481984K"), 1);
	assert_int_equal(parse(&r, "rlimits/rss", "1e6"), 1);
	assert_int_equal(parse(&r, "rlimits/rss", "unlimited"), 1);
	assert_true(zero_limits(&r));
	assert_int_equal(parse(&r, "rlimits/rss", "64K"), 0); /* 65536 pages */
	assert_int_equal(r.memory.v, UINT64_C(65536) * (uint64_t)sysconf(_SC_PAGESIZE));
	assert_string_equal(r.memory.source, "rlimits/rss");
	assert_int_equal(parse(&r, "rlimits/nproc", "1k"), 0);
	assert_int_equal(r.pids.v, 1000);
	assert_int_equal(parse(&r, "ulimits/nofile", "1m"), 0);
	assert_int_equal(parse(&r, "ulimits/core", "inf"), 0);
	assert_int_equal(parse(&r, "ulimits/stack", "18446744073709551616"), 1);
	assert_int_equal(parse(&r, "ulimits/stack", "18014398509481984K"), 1);
	assert_int_equal(r.n_ulimits, 2);
	assert_int_equal(r.ulimits[0].soft, 1000000);
	assert_true(r.ulimits[1].hard == VS_LIMIT_MAX);
	vs_limits_free(&r);
}

static void test_floors(void **state)
{
	(void)state;
	struct {
		const char *key, *value;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "limits/memory", "16777215", "the guest's init cannot start" },
		{ "limits/memory", "1M", "below 16M" },
		{ "limits/memory", "0", "below 16M" },
		{ "limits/memory", "16M", NULL },
		{ "limits/memory.high", "15M", "the guest's init cannot start" },
		{ "limits/pids", "0", "below 8" },
		{ "limits/pids", "7", "below 8" },
		{ "limits/pids", "4194305", "too large" },
		{ "limits/pids", "4194304", NULL },
		{ "limits/cpu.max", "999 100000", "below 1000" },
		{ "limits/cpu.max", "0", "below 1000" },
		{ "limits/cpu.max", "1000 999", "1000..1000000" },
		{ "limits/cpu.max", "1000 1000001", "1000..1000000" },
		{ "limits/cpu.max", "1000 1000", NULL },
		{ "limits/cpu.max", "50000  100000", "one space" },
		{ "limits/cpu.max", "50000 100000 1", "one space" },
		{ "limits/cpu.max", "-1 100000", NULL /* checked below */ },
		{ "limits/cpu.weight", "0", "1..10000" },
		{ "limits/cpu.weight", "10001", "1..10000" },
		{ "limits/io.weight", "0", "1..10000" },
		{ "limits/io.weight", "10000", NULL },
		{ "rlimits/rss.soft", "100", "rlimits/rss counts pages" },
		{ "rlimits/nproc", "0", "below 8" },
		{ "limits/cpuset.cpus", "1-0", "not a list" },
		{ "limits/cpuset.cpus", "0 1", "not a list" },
		{ "limits/cpuset.cpus", "0,,1", "not a list" },
		{ "limits/io.max", "8:0", "no limit given" },
		{ "limits/io.max", "8:0 wbps=0", "stop all I/O" },
		{ "limits/io.max", "sda wbps=1M", "MAJ:MIN" },
		{ "limits/io.max", "8:0 xbps=1", "unknown field" },
		{ "limits/io.max", "8:0 wbps=10m", "upper case" },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(cases); i++) {
		struct vs_limits l = { 0 };
		char *m = refusal(&l, cases[i].key, cases[i].value);
		if (!strcmp(cases[i].value, "-1 100000")) {
			assert_non_null(m);
			free(m);
			continue;
		}
		if (cases[i].why && (!m || !strstr(m, cases[i].why)))
			print_error("%s = '%s': got %s, want ...%s...\n", cases[i].key, cases[i].value,
				    m ? m : "(accepted)", cases[i].why);
		if (!cases[i].why && m)
			print_error("%s = '%s': refused: %s\n", cases[i].key, cases[i].value, m);
		if (cases[i].why) {
			assert_non_null(m);
			assert_non_null(strstr(m, cases[i].why));
			assert_true(zero_limits(&l));
		} else
			assert_null(m);
		free(m);
		vs_limits_free(&l);
	}
}

static void test_cross_checks(void **state)
{
	(void)state;
	char *m;
	/* memory.high above memory */
	struct vs_limits l = { 0 };
	parse(&l, "limits/memory", "64M");
	parse(&l, "limits/memory.high", "128M");
	assert_int_equal(finish(&l, false, &m), 1);
	assert_non_null(strstr(m, "limits/memory.high:3:"));
	assert_non_null(strstr(m, "must not exceed"));
	free(m);
	vs_limits_free(&l);
	/* util-vserver's soft > hard, in pages */
	parse(&l, "rlimits/rss.hard", "10000");
	parse(&l, "rlimits/rss.soft", "20000");
	assert_int_equal(finish(&l, false, &m), 1);
	assert_non_null(strstr(m, "rlimits/rss.soft:3:"));
	free(m);
	vs_limits_free(&l);
	/* swap needs memory on v1 only */
	parse(&l, "limits/swap", "1G");
	assert_int_equal(finish(&l, false, NULL), 0);
	assert_int_equal(finish(&l, true, &m), 1);
	assert_non_null(strstr(m, "memory.memsw.limit_in_bytes = memory + swap"));
	free(m);
	parse(&l, "limits/memory", "1G");
	assert_int_equal(finish(&l, true, NULL), 0);
	vs_limits_free(&l);
	/* memory.low: cgroup v2 only */
	parse(&l, "limits/memory.low", "64M");
	assert_int_equal(finish(&l, false, NULL), 0);
	assert_int_equal(finish(&l, true, &m), 1);
	assert_non_null(strstr(m, "cgroup v2 only"));
	free(m);
	vs_limits_free(&l);
	/* one limit, two files */
	assert_int_equal(parse(&l, "limits/memory", "64M"), 0);
	m = refusal(&l, "rlimits/rss", "100000");
	assert_non_null(strstr(m, "already set by limits/memory"));
	free(m);
	assert_int_equal(l.memory.v, 64 * 1048576);
	vs_limits_free(&l);
	/* ulimits: soft > hard, either order, and twice */
	assert_int_equal(parse(&l, "ulimits/nofile.hard", "100"), 0);
	m = refusal(&l, "ulimits/nofile.soft", "200");
	assert_non_null(strstr(m, "soft <= hard"));
	free(m);
	assert_int_equal(parse(&l, "ulimits/nofile.soft", "100"), 0);
	assert_int_equal(parse(&l, "ulimits/nofile", "50"), 1);
	assert_int_equal(parse(&l, "ulimits/nproc.soft", "inf"), 0);
	assert_int_equal(parse(&l, "ulimits/nproc.hard", "100"), 1);
	assert_int_equal(parse(&l, "ulimits/bogus", "1"), 1);
	assert_int_equal(parse(&l, "ulimits/nofile.min", "1"), 1);
	vs_limits_free(&l);
	/* ionice */
	assert_int_equal(parse(&l, "ionice/class", "3"), 0);
	assert_int_equal(parse(&l, "ionice/priority", "8"), 1);
	assert_int_equal(parse(&l, "ionice/class", "rt"), 1);
	assert_int_equal(l.ionice_class, 3);
	vs_limits_free(&l);
	/* cgroup/: resource knobs only */
	assert_int_equal(parse(&l, "cgroup/memory.swappiness", "10"), 0);
	assert_int_equal(parse(&l, "cgroup/cgroup.procs", "1"), 1);
	assert_int_equal(parse(&l, "cgroup/devices.allow", "a"), 1);
	assert_int_equal(parse(&l, "cgroup/tasks", "1"), 1);
	assert_int_equal(parse(&l, "cgroup/name", "x"), 1);
	assert_int_equal(parse(&l, "cgroup/memory.", "1"), 1);
	assert_int_equal(l.n_verbatim, 1);
	vs_limits_free(&l);
}

static void test_sched(void **state)
{
	(void)state;
	struct vs_limits l = { 0 };
	parse(&l, "sched/fill-rate", "1");
	parse(&l, "sched/interval", "4");
	parse(&l, "sched/tokens-max", "10");
	assert_int_equal(finish(&l, true, NULL), 0);
	assert_int_equal(l.cpu_quota.v, 25000);
	assert_int_equal(l.cpu_period.v, 100000);
	assert_int_equal(l.cpu_burst.v, 10000);
	assert_string_equal(l.cpu_quota.source, "sched/fill-rate");
	vs_limits_free(&l);
	char *m;
	parse(&l, "sched/fill-rate", "1");
	assert_int_equal(finish(&l, true, &m), 1);
	assert_non_null(strstr(m, "go together"));
	free(m);
	vs_limits_free(&l);
	parse(&l, "limits/cpu.max", "50000 100000");
	parse(&l, "sched/fill-rate", "1");
	parse(&l, "sched/interval", "2");
	assert_int_equal(finish(&l, true, &m), 1);
	assert_non_null(strstr(m, "already set by limits/cpu.max"));
	free(m);
	vs_limits_free(&l);
	parse(&l, "sched/fill-rate", "1");
	parse(&l, "sched/interval", "1000");
	assert_int_equal(finish(&l, true, &m), 1);
	assert_non_null(strstr(m, "below 1%"));
	free(m);
	vs_limits_free(&l);
	assert_int_equal(parse(&l, "sched/interval", "0"), 1);
	assert_int_equal(parse(&l, "sched/interval", "-4"), 1);
	vs_limits_free(&l);
}

/* ---- writes into fake trees --------------------------------------------------- */

/* a pure v2 guest dir with the controllers enabled by its parent */
static void fake_v2_guest(const char *controllers)
{
	mkdirs("cg/vserver/g");
	wr("cg/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	wr("cg/vserver/cgroup.subtree_control", controllers);
	wr("cg/vserver/g/cgroup.controllers", controllers);
	static const char *const files[] = { "memory.max", "memory.high", "memory.low", "memory.swap.max",
					     "pids.max", "cpu.weight", "cpu.max", "cpu.max.burst", "cpuset.cpus",
					     "cpuset.mems", "io.weight", "io.max", "memory.swappiness" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "cg/vserver/g/%s", files[i]);
		wr(rel, "");
	}
}

static struct vs_limits full_limits(void)
{
	struct vs_limits l = { 0 };
	parse(&l, "limits/memory", "512M");
	parse(&l, "limits/memory.high", "256M");
	parse(&l, "limits/swap", "1G");
	parse(&l, "limits/pids", "100");
	parse(&l, "limits/cpu.weight", "100");
	parse(&l, "limits/cpu.max", "20000 100000");
	parse(&l, "limits/cpuset.cpus", "0-1");
	parse(&l, "limits/cpuset.mems", "0");
	parse(&l, "limits/io.weight", "300");
	parse(&l, "limits/io.max", "8:0 wbps=1M riops=100");
	parse(&l, "cgroup/memory.swappiness", "10");
	return l;
}

static void test_apply_v2(void **state)
{
	(void)state;
	fake_v2_guest("cpuset cpu io memory pids\n");
	struct vs_limits l = full_limits();
	parse(&l, "limits/memory.low", "64M");
	parse(&l, "sched/tokens-max", "5"); /* ignored without fill-rate: finish not called */
	l.cpu_burst = (struct vs_limit){ .set = true, .v = 5000, .source = "sched/tokens-max" };
	char *g = T("cg/vserver/g");
	struct vs_cgroup cg = { .mode = VS_CG_UNIFIED, .unified = g };
	vs_err err = { 0 };
	if (vs_limits_apply(&cg, &l, &err) < 0)
		fail_msg("apply: %s", err.msg);
	expect_file("cg/vserver/g/memory.max", "536870912");
	expect_file("cg/vserver/g/memory.high", "268435456");
	expect_file("cg/vserver/g/memory.low", "67108864");
	expect_file("cg/vserver/g/memory.swap.max", "1073741824");
	expect_file("cg/vserver/g/pids.max", "100");
	expect_file("cg/vserver/g/cpu.weight", "100");
	expect_file("cg/vserver/g/cpu.max", "20000 100000");
	expect_file("cg/vserver/g/cpu.max.burst", "5000");
	expect_file("cg/vserver/g/cpuset.cpus", "0-1");
	expect_file("cg/vserver/g/cpuset.mems", "0");
	expect_file("cg/vserver/g/io.weight", "default 300");
	expect_file("cg/vserver/g/io.max", "8:0 rbps=max wbps=1048576 riops=100 wiops=max");
	expect_file("cg/vserver/g/memory.swappiness", "10");
	vs_limits_free(&l);

	/* "max" is written as max */
	struct vs_limits m = { 0 };
	parse(&m, "limits/memory", "max");
	parse(&m, "limits/pids", "max");
	parse(&m, "limits/cpu.max", "max");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), 0);
	expect_file("cg/vserver/g/memory.max", "max");
	expect_file("cg/vserver/g/pids.max", "max");
	expect_file("cg/vserver/g/cpu.max", "max 100000");
	vs_limits_free(&m);
	free(g);
}

static void test_apply_v2_missing_controller(void **state)
{
	(void)state;
	fake_v2_guest("cpu memory pids\n"); /* no io, no cpuset */
	char *g = T("cg/vserver/g");
	struct vs_cgroup cg = { .mode = VS_CG_UNIFIED, .unified = g };
	vs_err err = { 0 };
	struct vs_limits l = { 0 };
	parse(&l, "limits/io.weight", "200");
	assert_int_equal(vs_limits_apply(&cg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "limits/io.weight"));
	assert_non_null(strstr(err.msg, "'io' controller"));
	expect_file("cg/vserver/g/io.weight", "");
	vs_limits_free(&l);
	parse(&l, "limits/cpuset.cpus", "0");
	assert_int_equal(vs_limits_apply(&cg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "limits/cpuset.cpus"));
	vs_limits_free(&l);
	/* a control file the kernel lacks: named, not created */
	parse(&l, "cgroup/memory.nonexistent", "1");
	assert_int_equal(vs_limits_apply(&cg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "cgroup/memory.nonexistent"));
	assert_non_null(strstr(err.msg, "does not exist"));
	struct stat st;
	char *p = T("cg/vserver/g/memory.nonexistent");
	assert_int_equal(stat(p, &st), -1);
	free(p);
	vs_limits_free(&l);
	free(g);
}

/* hybrid: v1 controller dirs, cgroup2 "unified" without controllers */
static struct vs_cgroup fake_hybrid_guest(bool cfq)
{
	static const char *const files[] = {
		"memory/vserver/g/memory.limit_in_bytes", "memory/vserver/g/memory.soft_limit_in_bytes",
		"memory/vserver/g/memory.memsw.limit_in_bytes", "memory/vserver/g/memory.swappiness",
		"pids/vserver/g/pids.max", "cpu/vserver/g/cpu.shares", "cpu/vserver/g/cpu.cfs_quota_us",
		"cpu/vserver/g/cpu.cfs_period_us", "cpuset/vserver/g/cpuset.cpus", "cpuset/vserver/g/cpuset.mems",
		"blkio/vserver/g/blkio.reset_stats", "blkio/vserver/g/blkio.throttle.read_bps_device",
		"blkio/vserver/g/blkio.throttle.write_bps_device", "blkio/vserver/g/blkio.throttle.read_iops_device",
		"blkio/vserver/g/blkio.throttle.write_iops_device",
	};
	static const char *const dirs[] = { "pids", "memory", "cpu", "cpuset", "blkio" };
	struct vs_cgroup cg = { .mode = VS_CG_HYBRID };
	mkdirs("cg/unified/vserver/g");
	wr("cg/unified/vserver/g/cgroup.controllers", "");
	cg.unified = T("cg/unified/vserver/g");
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "cg/%s/vserver/g", dirs[i]);
		mkdirs(rel);
		vs_strv_push_take(&cg.v1, T(rel));
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		char rel[160];
		snprintf(rel, sizeof rel, "cg/%s", files[i]);
		wr(rel, "");
	}
	wr("cg/cpuset/vserver/cpuset.cpus", "0-3\n");
	wr(cfq ? "cg/blkio/vserver/g/blkio.weight" : "cg/blkio/vserver/g/blkio.bfq.weight", "");
	return cg;
}

static void test_apply_hybrid(void **state)
{
	(void)state;
	struct vs_cgroup cg = fake_hybrid_guest(false);
	struct vs_limits l = full_limits();
	vs_err err = { 0 };
	if (vs_limits_apply(&cg, &l, &err) < 0)
		fail_msg("apply: %s", err.msg);
	expect_file("cg/memory/vserver/g/memory.limit_in_bytes", "536870912");
	expect_file("cg/memory/vserver/g/memory.memsw.limit_in_bytes", "1610612736"); /* memory + swap */
	expect_file("cg/memory/vserver/g/memory.soft_limit_in_bytes", "268435456");
	expect_file("cg/memory/vserver/g/memory.swappiness", "10");
	expect_file("cg/pids/vserver/g/pids.max", "100");
	expect_file("cg/cpu/vserver/g/cpu.shares", "1024"); /* weight 100 */
	expect_file("cg/cpu/vserver/g/cpu.cfs_quota_us", "20000");
	expect_file("cg/cpu/vserver/g/cpu.cfs_period_us", "100000");
	expect_file("cg/cpuset/vserver/g/cpuset.cpus", "0-1");
	expect_file("cg/cpuset/vserver/g/cpuset.mems", "0");
	expect_file("cg/blkio/vserver/g/blkio.bfq.weight", "300");
	expect_file("cg/blkio/vserver/g/blkio.throttle.write_bps_device", "8:0 1048576");
	expect_file("cg/blkio/vserver/g/blkio.throttle.read_iops_device", "8:0 100");
	expect_file("cg/blkio/vserver/g/blkio.throttle.read_bps_device", "");
	vs_limits_free(&l);

	/* weights at the ends; no limit: -1 */
	struct vs_limits m = { 0 };
	parse(&m, "limits/cpu.weight", "1");
	parse(&m, "limits/memory", "max");
	parse(&m, "limits/cpu.max", "max");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), 0);
	expect_file("cg/cpu/vserver/g/cpu.shares", "10");
	expect_file("cg/memory/vserver/g/memory.limit_in_bytes", "-1");
	expect_file("cg/cpu/vserver/g/cpu.cfs_quota_us", "-1");
	vs_limits_free(&m);
	parse(&m, "limits/cpu.weight", "10000");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), 0);
	expect_file("cg/cpu/vserver/g/cpu.shares", "102400");
	vs_limits_free(&m);

	/* v1 has no memory.low; swap without memory cannot be expressed */
	parse(&m, "limits/memory.low", "64M");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), -1);
	assert_non_null(strstr(err.msg, "limits/memory.low"));
	assert_non_null(strstr(err.msg, "cgroup v2 only"));
	vs_limits_free(&m);
	parse(&m, "limits/swap", "1G");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), -1);
	assert_non_null(strstr(err.msg, "memory + swap"));
	vs_limits_free(&m);
	/* io.* files are v2's: the hybrid unified dir has no io controller */
	parse(&m, "cgroup/io.latency", "1");
	assert_int_equal(vs_limits_apply(&cg, &m, &err), -1);
	assert_non_null(strstr(err.msg, "cgroup/io.latency"));
	vs_limits_free(&m);
	vs_cgroup_free(&cg);
}

/* The flat v1 settings (cpuset lists, blkio throttle rules) go to the
 * payload sub-cgroup too; the hierarchical ones only to the guest dir. */
static void test_apply_hybrid_payload(void **state)
{
	(void)state;
	struct vs_cgroup cg = fake_hybrid_guest(false);
	static const char *const files[] = {
		"cg/cpuset/vserver/g/payload/cpuset.cpus", "cg/cpuset/vserver/g/payload/cpuset.mems",
		"cg/blkio/vserver/g/payload/blkio.throttle.write_bps_device",
		"cg/blkio/vserver/g/payload/blkio.throttle.read_iops_device", "cg/pids/vserver/g/payload/pids.max",
		"cg/unified/vserver/g/payload/cgroup.procs",
	};
	mkdirs("cg/cpuset/vserver/g/payload");
	mkdirs("cg/blkio/vserver/g/payload");
	mkdirs("cg/pids/vserver/g/payload");
	mkdirs("cg/unified/vserver/g/payload");
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++)
		wr(files[i], "");
	struct vs_limits l = full_limits();
	vs_err err = { 0 };
	if (vs_limits_apply(&cg, &l, &err) < 0)
		fail_msg("apply: %s", err.msg);
	expect_file("cg/cpuset/vserver/g/cpuset.cpus", "0-1");
	expect_file("cg/cpuset/vserver/g/payload/cpuset.cpus", "0-1");
	expect_file("cg/cpuset/vserver/g/payload/cpuset.mems", "0");
	expect_file("cg/blkio/vserver/g/payload/blkio.throttle.write_bps_device", "8:0 1048576");
	expect_file("cg/blkio/vserver/g/payload/blkio.throttle.read_iops_device", "8:0 100");
	expect_file("cg/pids/vserver/g/pids.max", "100");
	expect_file("cg/pids/vserver/g/payload/pids.max", ""); /* hierarchical: the guest dir's covers it */
	vs_limits_free(&l);
	vs_cgroup_free(&cg);
}

static void test_apply_hybrid_cfq(void **state)
{
	(void)state;
	struct vs_cgroup cg = fake_hybrid_guest(true);
	char *p = T("cg/blkio/vserver/g/blkio.bfq.weight");
	unlink(p);
	free(p);
	struct vs_limits l = { 0 };
	parse(&l, "limits/io.weight", "100");
	vs_err err = { 0 };
	if (vs_limits_apply(&cg, &l, &err) < 0)
		fail_msg("apply: %s", err.msg);
	expect_file("cg/blkio/vserver/g/blkio.weight", "500"); /* CFQ's default for the default weight */
	vs_limits_free(&l);
	/* neither weight file: a clear error */
	p = T("cg/blkio/vserver/g/blkio.weight");
	unlink(p);
	free(p);
	parse(&l, "limits/io.weight", "100");
	assert_int_equal(vs_limits_apply(&cg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "no weight file"));
	vs_limits_free(&l);
	vs_cgroup_free(&cg);
}

/* ulimits/ in a child: lowered soft and hard limits, unlisted ones kept */
static void test_ulimits_apply(void **state)
{
	(void)state;
	struct vs_limits l = { 0 };
	assert_int_equal(parse(&l, "ulimits/nofile.hard", "200"), 0);
	assert_int_equal(parse(&l, "ulimits/nofile.soft", "100"), 0);
	assert_int_equal(parse(&l, "ulimits/core", "0"), 0);
	struct rlimit before;
	getrlimit(RLIMIT_STACK, &before);
	pid_t p = fork();
	if (p == 0) {
		vs_err err;
		struct rlimit r, s;
		if (vs_ulimits_apply(&l, &err) < 0)
			_exit(10);
		getrlimit(RLIMIT_NOFILE, &r);
		if (r.rlim_cur != 100 || r.rlim_max != 200)
			_exit(11);
		getrlimit(RLIMIT_CORE, &r);
		if (r.rlim_cur != 0 || r.rlim_max != 0)
			_exit(12);
		getrlimit(RLIMIT_STACK, &s);
		if (s.rlim_cur != before.rlim_cur || s.rlim_max != before.rlim_max)
			_exit(13);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	vs_limits_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_suffix_overflow),
		cmocka_unit_test(test_floors),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_sched),
		cmocka_unit_test_setup_teardown(test_apply_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_v2_missing_controller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_hybrid_cfq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_hybrid_payload, setup, teardown),
		cmocka_unit_test(test_ulimits_apply),
	};
	return cmocka_run_group_tests_name("reslimits", tests, NULL, NULL);
}
