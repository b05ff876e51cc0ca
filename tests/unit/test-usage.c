/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/usage.c: the accounting figures read from FAKE
 * cgroup trees (plain directories in a temp dir, laid out like
 * test-cgroup.c's): a pure v2 host, a hybrid host (v1 controllers plus a
 * cgroup2 "unified" without controllers), a v1 host without cgroup2,
 * older kernels (files or keys missing), malformed files and symlinks.
 * The guest's dirs are found with vs_cgroup_open, as vserver does. */
#include <errno.h>
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
#include <json-c/json.h>

#include "cgroup.h"
#include "usage.h"
#include "util.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];
static char root[PATH_MAX]; /* tmpdir/cg: the fake cgroup root */
static struct vs_settings S;

static const char *const v1_ctrls[] = { "cpu", "cpuacct", "cpuset", "memory", "devices",
					"freezer", "blkio", "pids", "systemd" };

/* "no limit" as v1 shows it with 4 KiB pages: LONG_MAX rounded down */
#define V1_NOLIMIT "9223372036854771712\n"

/* ---- helpers ------------------------------------------------------------- */

static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *P(const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	return vs_asprintf("%s/%s", root, rel);
}

static void mk(const char *rel)
{
	char *p = P("%s", rel);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static void wr(const char *rel, const char *data)
{
	char *p = P("%s", rel);
	FILE *f = fopen(p, "w");
	if (!f)
		fail_msg("create %s: %s", p, strerror(errno));
	fputs(data, f);
	fclose(f);
	free(p);
}

static void rm(const char *rel)
{
	char *p = P("%s", rel);
	unlink(p);
	free(p);
}

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(tmpdir, sizeof tmpdir, "usage") < 0)
		return -1;
	snprintf(root, sizeof root, "%s/cg", tmpdir);
	if (mkdir(root, 0755) < 0)
		return -1;
	memset(&S, 0, sizeof S);
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "vserver");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return vs_test_rmtree(tmpdir);
}

/* A pure v2 root with the guest dir vserver/g and every file of a
 * recent kernel with all controllers enabled. */
static void fake_v2(void)
{
	wr("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	wr("cgroup.procs", "1\n");
	mk("vserver");
	mk("vserver/g");
	wr("vserver/g/cgroup.procs", "100\n101\n");
	wr("vserver/g/memory.current", "67108864\n");
	wr("vserver/g/memory.peak", "134217728\n");
	wr("vserver/g/memory.max", "268435456\n");
	wr("vserver/g/memory.swap.current", "4096\n");
	wr("vserver/g/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n"
				 "core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"
				 "nr_bursts 0\nburst_usec 0\n");
	wr("vserver/g/pids.current", "7\n");
	wr("vserver/g/pids.max", "512\n");
	wr("vserver/g/io.stat", "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n"
				"253:1 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0 cost.vrate=100.00 "
				"cost.usage=12 cost.wait=0 cost.indebt=0 cost.indelay=0\n");
	wr("vserver/g/memory.events", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n");
}

/* v1 controller dirs, each with the guest dir vserver/g, and (optionally)
 * a cgroup2 "unified" with no controllers but the core cpu.stat. */
static void fake_hybrid(bool with_unified)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(v1_ctrls); i++) {
		char rel[128];
		mk(v1_ctrls[i]);
		snprintf(rel, sizeof rel, "%s/cgroup.procs", v1_ctrls[i]);
		wr(rel, "1\n");
		snprintf(rel, sizeof rel, "%s/vserver", v1_ctrls[i]);
		mk(rel);
		snprintf(rel, sizeof rel, "%s/vserver/g", v1_ctrls[i]);
		mk(rel);
	}
	wr("memory/vserver/g/memory.usage_in_bytes", "52428800\n");
	wr("memory/vserver/g/memory.max_usage_in_bytes", "73400320\n");
	wr("memory/vserver/g/memory.limit_in_bytes", V1_NOLIMIT);
	wr("memory/vserver/g/memory.memsw.usage_in_bytes", "53477376\n");
	wr("memory/vserver/g/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
	/* v1's cpu.stat has no usage figures */
	wr("cpu/vserver/g/cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
	wr("cpuacct/vserver/g/cpuacct.usage", "3000000999\n");
	wr("cpuacct/vserver/g/cpuacct.usage_user", "2000000000\n");
	wr("cpuacct/vserver/g/cpuacct.usage_sys", "1000000999\n");
	wr("pids/vserver/g/pids.current", "4\n");
	wr("pids/vserver/g/pids.max", "max\n");
	wr("blkio/vserver/g/blkio.throttle.io_service_bytes_recursive",
	   "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n"
	   "8:16 Read 1\n8:16 Write 2\n8:16 Sync 3\n8:16 Async 0\n8:16 Discard 0\n8:16 Total 3\nTotal 12291\n");
	wr("blkio/vserver/g/blkio.throttle.io_service_bytes", "8:0 Read 1\n8:0 Write 1\nTotal 2\n");
	if (with_unified) {
		mk("unified");
		wr("unified/cgroup.controllers", "");
		wr("unified/cgroup.procs", "1\n");
		mk("unified/vserver");
		mk("unified/vserver/g");
		wr("unified/vserver/g/cpu.stat", "usage_usec 3100000\nuser_usec 2100000\nsystem_usec 1000000\n"
						 "nice_usec 0\n");
	}
}

static int read_usage(struct vs_usage *u, vs_err *err)
{
	struct vs_cgroup cg;
	vs_err e = { 0 };
	assert_int_equal(vs_cgroup_open(&S, root, "g", &cg, &e), 0);
	int r = vs_usage_read(&cg, u, err);
	vs_cgroup_free(&cg);
	return r;
}

static void expect_ok(struct vs_usage *u)
{
	vs_err err = { 0 };
	int r = read_usage(u, &err);
	if (r)
		print_error("vs_usage_read: %s\n", err.msg);
	assert_int_equal(r, 0);
}

/* Read, expect a failure naming `file`, return the figures. */
static void expect_malformed(struct vs_usage *u, const char *file)
{
	vs_err err = { 0 };
	assert_int_equal(read_usage(u, &err), -1);
	if (!strstr(err.msg, file))
		print_error("error '%s' does not name %s\n", err.msg, file);
	assert_non_null(strstr(err.msg, file));
}

/* ---- pure v2 --------------------------------------------------------------- */

static void test_v2_all(void **state)
{
	(void)state;
	fake_v2();
	struct vs_usage u;
	expect_ok(&u);
	assert_true(u.have_mem_current && u.have_mem_peak && u.have_mem_limit && u.have_swap_current);
	assert_int_equal(u.mem_current, 67108864);
	assert_int_equal(u.mem_peak, 134217728);
	assert_int_equal(u.mem_limit, 268435456);
	assert_int_equal(u.swap_current, 4096);
	assert_true(u.have_cpu_usec && u.have_cpu_user_usec && u.have_cpu_system_usec);
	assert_int_equal(u.cpu_usec, 2500000);
	assert_int_equal(u.cpu_user_usec, 2000000);
	assert_int_equal(u.cpu_system_usec, 500000);
	assert_true(u.have_pids_current && u.have_pids_limit);
	assert_int_equal(u.pids_current, 7);
	assert_int_equal(u.pids_limit, 512);
	assert_true(u.have_io_read_bytes && u.have_io_write_bytes);
	assert_int_equal(u.io_read_bytes, 1010);
	assert_int_equal(u.io_write_bytes, 2020);
	assert_true(u.have_oom_kills && u.have_oom_events);
	assert_int_equal(u.oom_kills, 2);
	assert_int_equal(u.oom_events, 3);
}

static void test_v2_max_and_empty(void **state)
{
	(void)state;
	fake_v2();
	wr("vserver/g/memory.max", "max\n");
	wr("vserver/g/pids.max", "max\n");
	wr("vserver/g/io.stat", ""); /* no I/O yet: no device lines */
	struct vs_usage u;
	expect_ok(&u);
	assert_true(u.have_mem_limit && u.have_pids_limit);
	assert_true(u.mem_limit == VS_USAGE_UNLIMITED);
	assert_true(u.pids_limit == VS_USAGE_UNLIMITED);
	assert_true(u.have_io_read_bytes && u.have_io_write_bytes);
	assert_int_equal(u.io_read_bytes, 0);
	assert_int_equal(u.io_write_bytes, 0);
}

/* A kernel before 5.19 (no memory.peak), no swap, controllers not
 * enabled for the guests: those figures are unavailable, not 0. */
static void test_v2_older_kernel(void **state)
{
	(void)state;
	fake_v2();
	rm("vserver/g/memory.peak");
	rm("vserver/g/memory.swap.current");
	rm("vserver/g/io.stat");
	rm("vserver/g/pids.current");
	rm("vserver/g/pids.max");
	wr("vserver/g/cpu.stat", "usage_usec 42\n");
	wr("vserver/g/memory.events", "low 0\nhigh 0\nmax 0\noom 1\n");
	struct vs_usage u;
	expect_ok(&u);
	assert_true(u.have_mem_current && u.have_mem_limit);
	assert_false(u.have_mem_peak);
	assert_false(u.have_swap_current);
	assert_false(u.have_io_read_bytes || u.have_io_write_bytes);
	assert_false(u.have_pids_current || u.have_pids_limit);
	assert_true(u.have_cpu_usec);
	assert_int_equal(u.cpu_usec, 42);
	assert_false(u.have_cpu_user_usec || u.have_cpu_system_usec);
	assert_true(u.have_oom_events);
	assert_int_equal(u.oom_events, 1);
	assert_false(u.have_oom_kills);
	assert_int_equal(u.oom_kills, 0);
}

/* ---- hybrid and v1 ----------------------------------------------------------- */

static void test_hybrid(void **state)
{
	(void)state;
	fake_hybrid(true);
	struct vs_usage u;
	expect_ok(&u);
	assert_true(u.have_mem_current && u.have_mem_peak && u.have_mem_limit && u.have_swap_current);
	assert_int_equal(u.mem_current, 52428800);
	assert_int_equal(u.mem_peak, 73400320);
	assert_true(u.mem_limit == VS_USAGE_UNLIMITED);
	assert_int_equal(u.swap_current, 53477376 - 52428800);
	/* the cgroup2 core cpu.stat first */
	assert_int_equal(u.cpu_usec, 3100000);
	assert_int_equal(u.cpu_user_usec, 2100000);
	assert_int_equal(u.cpu_system_usec, 1000000);
	assert_int_equal(u.pids_current, 4);
	assert_true(u.have_pids_limit && u.pids_limit == VS_USAGE_UNLIMITED);
	/* the recursive blkio file, Read/Write summed over both devices */
	assert_int_equal(u.io_read_bytes, 4097);
	assert_int_equal(u.io_write_bytes, 8194);
	assert_true(u.have_oom_kills);
	assert_int_equal(u.oom_kills, 5);
	assert_false(u.have_oom_events); /* v1 does not count them */
}

static void test_v1_only(void **state)
{
	(void)state;
	fake_hybrid(false);
	wr("memory/vserver/g/memory.limit_in_bytes", "67108864\n");
	rm("blkio/vserver/g/blkio.throttle.io_service_bytes_recursive");
	struct vs_usage u;
	expect_ok(&u);
	assert_int_equal(u.mem_limit, 67108864);
	/* cpuacct counts nanoseconds */
	assert_int_equal(u.cpu_usec, 3000000);
	assert_int_equal(u.cpu_user_usec, 2000000);
	assert_int_equal(u.cpu_system_usec, 1000000);
	/* the non-recursive file when the recursive one is missing */
	assert_int_equal(u.io_read_bytes, 1);
	assert_int_equal(u.io_write_bytes, 1);
}

/* v1 counts an OOM kill only in the killed process's cgroup: the guest's
 * processes are in its payload sub-cgroup (and below), summed up. */
static void test_v1_oom_kill_in_payload(void **state)
{
	(void)state;
	fake_hybrid(false);
	mk("memory/vserver/g/payload");
	mk("memory/vserver/g/payload/sub");
	wr("memory/vserver/g/payload/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	wr("memory/vserver/g/payload/sub/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	struct vs_usage u;
	expect_ok(&u);
	assert_int_equal(u.oom_kills, 8);
	/* the other figures are hierarchical: the guest dir's alone */
	assert_int_equal(u.mem_current, 52428800);
	/* a malformed one below: an error, the figure unavailable */
	wr("memory/vserver/g/payload/sub/memory.oom_control", "oom_kill x\n");
	vs_err err = { 0 };
	assert_int_equal(read_usage(&u, &err), -1);
	assert_false(u.have_oom_kills);
	assert_true(u.have_mem_current);
}

/* Old v1: no memsw (swap accounting off), oom_control without oom_kill
 * (before 4.13), no cpuacct user/sys split, no blkio throttling. */
static void test_v1_older(void **state)
{
	(void)state;
	fake_hybrid(false);
	rm("memory/vserver/g/memory.memsw.usage_in_bytes");
	wr("memory/vserver/g/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
	rm("cpuacct/vserver/g/cpuacct.usage_user");
	rm("cpuacct/vserver/g/cpuacct.usage_sys");
	rm("blkio/vserver/g/blkio.throttle.io_service_bytes_recursive");
	rm("blkio/vserver/g/blkio.throttle.io_service_bytes");
	struct vs_usage u;
	expect_ok(&u);
	assert_false(u.have_swap_current);
	assert_false(u.have_oom_kills || u.have_oom_events);
	assert_true(u.have_cpu_usec);
	assert_false(u.have_cpu_user_usec || u.have_cpu_system_usec);
	assert_false(u.have_io_read_bytes || u.have_io_write_bytes);
	assert_true(u.have_mem_current && u.have_pids_current);
}

/* memsw read a moment after usage may be smaller: 0, not a wrap-around */
static void test_v1_swap_clamped(void **state)
{
	(void)state;
	fake_hybrid(false);
	wr("memory/vserver/g/memory.memsw.usage_in_bytes", "1000\n");
	struct vs_usage u;
	expect_ok(&u);
	assert_true(u.have_swap_current);
	assert_int_equal(u.swap_current, 0);
}

static void test_no_cgroup(void **state)
{
	(void)state;
	struct vs_cgroup cg = { 0 };
	struct vs_usage u;
	memset(&u, 0xff, sizeof u);
	vs_err err = { 0 };
	assert_int_equal(vs_usage_read(&cg, &u, &err), 0);
	struct vs_usage zero;
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&u, &zero, sizeof u);
}

/* ---- malformed files ------------------------------------------------------------ */

static const struct {
	const char *file; /* below vserver/g of the v2 tree */
	const char *data;
} bad_v2[] = {
	{ "memory.current", "" },
	{ "memory.current", "\n" },
	{ "memory.current", "12a\n" },
	{ "memory.current", "-1\n" },
	{ "memory.current", "+1\n" },
	{ "memory.current", "012\n" },
	{ "memory.current", " 12\n" },
	{ "memory.current", "12 \n" },
	{ "memory.current", "12\n\n" },
	{ "memory.current", "1 2\n" },
	{ "memory.current", "max\n" },            /* not a limit */
	{ "memory.current", "18446744073709551616\n" },
	{ "memory.max", "unlimited\n" },
	{ "memory.max", "max max\n" },
	{ "pids.max", "-1\n" },
	{ "cpu.stat", "usage_usec\n" },
	{ "cpu.stat", "usage_usec 12 13\n" },
	{ "cpu.stat", "usage_usec 1\nusage_usec 2\n" },
	{ "cpu.stat", "usage_usec 1\n\nuser_usec 2\n" },
	{ "cpu.stat", " 5\n" },
	{ "cpu.stat", "usage_usec 1\nnr_periods x\n" }, /* every line is checked */
	{ "memory.events", "oom_kill -1\n" },
	{ "io.stat", "rbytes=1 wbytes=2\n" },
	{ "io.stat", "8: rbytes=1\n" },
	{ "io.stat", "8:0 rbytes=1 wbytes\n" },
	{ "io.stat", "8:0 rbytes=x\n" },
	{ "io.stat", "8:0 rbytes=1 rbytes=2\n" },
	{ "io.stat", "8:0 =1\n" },
	{ "io.stat", "8:0 wbytes=18446744073709551615\n8:1 wbytes=1\n" }, /* the sum overflows */
};

static void test_malformed_v2(void **state)
{
	(void)state;
	fake_v2();
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_v2); i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "vserver/g/%s", bad_v2[i].file);
		wr(rel, bad_v2[i].data);
		struct vs_usage u;
		expect_malformed(&u, bad_v2[i].file);
		/* its figures are unavailable, the others still there */
		if (!strcmp(bad_v2[i].file, "memory.current"))
			assert_false(u.have_mem_current);
		if (!strcmp(bad_v2[i].file, "io.stat"))
			assert_false(u.have_io_read_bytes || u.have_io_write_bytes);
		if (!strcmp(bad_v2[i].file, "cpu.stat"))
			assert_false(u.have_cpu_usec);
		if (!strcmp(bad_v2[i].file, "memory.events"))
			assert_false(u.have_oom_kills);
		assert_true(u.have_pids_current || !strcmp(bad_v2[i].file, "pids.current"));
		assert_int_equal(u.mem_peak, 134217728);
		fake_v2(); /* everything well-formed again */
	}
}

static const struct {
	const char *file; /* below the v1 controller dir */
	const char *data;
} bad_v1[] = {
	{ "memory/vserver/g/memory.usage_in_bytes", "lots\n" },
	{ "memory/vserver/g/memory.limit_in_bytes", "-1\n" },
	{ "memory/vserver/g/memory.memsw.usage_in_bytes", "1k\n" },
	{ "memory/vserver/g/memory.oom_control", "oom_kill_disable 0\nunder_oom\noom_kill 1\n" },
	{ "cpuacct/vserver/g/cpuacct.usage", "1.5\n" },
	{ "pids/vserver/g/pids.max", "infinity\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "8:0 Read\nTotal 0\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "8:0 Read 1 2\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "sda Read 1\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "8:0 R3ad 1\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "Total x\n" },
	{ "blkio/vserver/g/blkio.throttle.io_service_bytes_recursive", "8:0 Write -4\n" },
};

static void test_malformed_v1(void **state)
{
	(void)state;
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_v1); i++) {
		bool cpuacct = strstr(bad_v1[i].file, "cpuacct") != NULL;
		/* with a cgroup2 dir, its cpu.stat is read and cpuacct never */
		fake_hybrid(!cpuacct);
		wr(bad_v1[i].file, bad_v1[i].data);
		struct vs_usage u;
		expect_malformed(&u, strrchr(bad_v1[i].file, '/') + 1);
		if (strstr(bad_v1[i].file, "blkio"))
			/* a malformed file is not replaced by a less precise one */
			assert_false(u.have_io_read_bytes || u.have_io_write_bytes);
		if (strstr(bad_v1[i].file, "usage_in_bytes"))
			assert_false(u.have_swap_current);
		assert_true(u.have_cpu_usec != cpuacct);
		assert_int_equal(u.pids_current, 4);
		teardown(NULL);
		setup(NULL);
	}
}

/* A guest (or anyone) replacing a cgroup file by a symlink, a FIFO or a
 * directory: never followed or opened, reported, the figure unavailable. */
static void test_not_regular(void **state)
{
	(void)state;
	fake_v2();
	char *target = vs_asprintf("%s/secret", tmpdir);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fputs("123\n", f);
	fclose(f);
	rm("vserver/g/memory.current");
	char *link = P("vserver/g/memory.current");
	assert_int_equal(symlink(target, link), 0);
	struct vs_usage u;
	expect_malformed(&u, "memory.current");
	assert_false(u.have_mem_current);
	assert_true(u.have_mem_peak);
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	expect_malformed(&u, "memory.current");
	assert_false(u.have_mem_current);
	unlink(link);
	assert_int_equal(mkdir(link, 0755), 0);
	expect_malformed(&u, "memory.current");
	assert_false(u.have_mem_current);
	rmdir(link);
	free(link);
	free(target);
}

/* An absurdly large file is not read whole. */
static void test_too_large(void **state)
{
	(void)state;
	fake_v2();
	char *p = P("vserver/g/io.stat");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "8:%d rbytes=1 wbytes=1\n", i);
	fclose(f);
	free(p);
	struct vs_usage u;
	expect_malformed(&u, "io.stat");
	assert_false(u.have_io_read_bytes);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void test_json(void **state)
{
	(void)state;
	struct vs_usage u;
	memset(&u, 0, sizeof u);
	u.have_mem_current = true;
	u.mem_current = UINT64_MAX - 1; /* beyond int64: still exact */
	u.have_mem_limit = true;
	u.mem_limit = VS_USAGE_UNLIMITED;
	u.have_pids_limit = true;
	u.pids_limit = 100;
	u.have_oom_kills = true;
	u.oom_kills = 0;
	json_object *o = vs_usage_json(&u);
	const char *got = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(got, "{\"memory_bytes\":18446744073709551614,\"memory_peak_bytes\":null,"
				 "\"memory_limit_bytes\":\"max\",\"swap_bytes\":null,\"cpu_usec\":null,"
				 "\"cpu_user_usec\":null,\"cpu_system_usec\":null,\"pids\":null,\"pids_limit\":100,"
				 "\"io_read_bytes\":null,\"io_write_bytes\":null,\"oom_kills\":0,\"oom_events\":null}");
	json_object_put(o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_v2_all),
		T(test_v2_max_and_empty),
		T(test_v2_older_kernel),
		T(test_hybrid),
		T(test_v1_only),
		T(test_v1_oom_kill_in_payload),
		T(test_v1_older),
		T(test_v1_swap_clamped),
		T(test_no_cgroup),
		T(test_malformed_v2),
		T(test_malformed_v1),
		T(test_not_regular),
		T(test_too_large),
		T(test_json),
	};
	return cmocka_run_group_tests_name("usage", tests, NULL, NULL);
}
