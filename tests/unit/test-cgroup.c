/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/cgroup.c.
 *
 * Fake trees (always run): a pure v2 layout and a hybrid layout (v1
 * controller dirs plus "unified") made of plain directories in a temp dir.
 * They check detection, the files create/attach/set_devices write, the
 * recursive pid listing, and that destroy removes exactly the guest's
 * dirs.
 *
 * Real kernel (root and /sys/fs/cgroup only; skipped otherwise): a
 * private parent "vserver-unittest-PID" in every hierarchy, children of
 * this test attached, listed, killed (v1 freezer and cgroup.kill apart),
 * and the device policy enforced by the v1 devices controller and by the
 * BPF program each on its own, and the pure-v2 mode run against the real
 * cgroup2 hierarchy mounted again at a temp dir (private mount namespace).
 * Every test removes the private parent again; the teardown (also run on
 * SIGALRM/SIGTERM) thaws, kills and reaps our children and sweeps the
 * parent independently of the library. */
#include <dirent.h>
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
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "util.h"
#include "testutil.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static char tmpdir[PATH_MAX];
static char root[PATH_MAX]; /* tmpdir/cg: the fake cgroup root */
static struct vs_settings S;

static const char *const hybrid_dirs[] = { "cpu", "cpuacct", "cpuset", "memory", "devices",
					   "freezer", "blkio", "pids", "systemd" };

/* ---- helpers ------------------------------------------------------------- */

static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* root-relative path (malloc'd) */
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
	if (mkdir(p, 0755) < 0)
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

/* Content of a file (NULL if missing). */
static char *slurp_abs(const char *p)
{
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return vs_strdup(buf);
}

static char *slurp(const char *rel)
{
	char *p = P("%s", rel);
	char *r = slurp_abs(p);
	free(p);
	return r;
}

static void expect_file(const char *rel, const char *want)
{
	char *got = slurp(rel);
	if (!got || strcmp(got, want))
		print_error("%s: got %s%s%s, want '%s'\n", rel, got ? "'" : "", got ? got : "(missing)", got ? "'" : "",
			    want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static bool exists_abs(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static bool exists(const char *rel)
{
	char *p = P("%s", rel);
	bool r = exists_abs(p);
	free(p);
	return r;
}

static void expect_path(const char *got, const char *rel)
{
	char *want = P("%s", rel);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
}

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(tmpdir, sizeof tmpdir, "cgroup") < 0)
		return -1;
	snprintf(root, sizeof root, "%s/cg", tmpdir);
	if (mkdir(root, 0755) < 0)
		return -1;
	memset(&S, 0, sizeof S);
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "vserver");
	alarm(30);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	return vs_test_rmtree(tmpdir);
}

/* What the kernel shows in a cgroup2 root. */
static void fake_v2(void)
{
	wr("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	wr("cgroup.subtree_control", "cpu io memory pids\n");
	wr("cgroup.procs", "1\n");
}

/* v1 controller dirs and a cgroup2 "unified" with no controllers. */
static void fake_hybrid(bool with_unified)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		mk(hybrid_dirs[i]);
		char rel[64];
		snprintf(rel, sizeof rel, "%s/cgroup.procs", hybrid_dirs[i]);
		wr(rel, "1\n");
	}
	wr("cpuset/cpuset.cpus", "0-3\n");
	wr("cpuset/cpuset.mems", "0\n");
	if (with_unified) {
		mk("unified");
		wr("unified/cgroup.controllers", "hugetlb\n");
		wr("unified/cgroup.subtree_control", "");
		wr("unified/cgroup.procs", "1\n");
	}
}

/* ---- detection -------------------------------------------------------------- */

static void test_detect(void **state)
{
	(void)state;
	vs_err err = { 0 };
	int mode = 0;
	/* nothing there */
	assert_int_equal(vs_cgroup_detect(root, &mode, &err), -1);
	assert_int_equal(err.kind, VS_E_SYSTEM);
	assert_int_equal(err.errnum, ENOENT);
	char *missing = P("nope");
	assert_int_equal(vs_cgroup_detect(missing, &mode, &err), -1);
	free(missing);
	/* hybrid: per-controller dirs */
	fake_hybrid(true);
	assert_int_equal(vs_cgroup_detect(root, &mode, &err), 0);
	assert_int_equal(mode, VS_CG_HYBRID);
	/* v2: cgroup.controllers at the root wins */
	fake_v2();
	assert_int_equal(vs_cgroup_detect(root, &mode, &err), 0);
	assert_int_equal(mode, VS_CG_UNIFIED);
}

static void test_detect_unified_only(void **state)
{
	(void)state;
	/* only a cgroup2 "unified" dir and no v1 controller: still hybrid */
	mk("unified");
	wr("unified/cgroup.controllers", "\n");
	vs_err err;
	int mode = 0;
	assert_int_equal(vs_cgroup_detect(root, &mode, &err), 0);
	assert_int_equal(mode, VS_CG_HYBRID);
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	expect_path(cg.unified, "unified/vserver/g");
	expect_path(cg.pids_dir, "unified/vserver/g");
	assert_int_equal(cg.v1.n, 0);
	vs_cgroup_free(&cg);
}

/* ---- create ------------------------------------------------------------------ */

static void test_create_v2(void **state)
{
	(void)state;
	fake_v2();
	/* an existing parent, as the kernel shows it: root's subtree_control */
	mk("vserver");
	wr("vserver/cgroup.controllers", "cpu io memory pids\n");
	vs_err err = { 0 };
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g1", &cg, &err), 0);
	assert_int_equal(cg.mode, VS_CG_UNIFIED);
	expect_path(cg.unified, "vserver/g1");
	expect_path(cg.pids_dir, "vserver/g1");
	assert_int_equal(cg.v1.n, 0);
	assert_null(cg.v1_freezer);
	assert_null(cg.v1_devices);
	assert_true(exists("vserver/g1"));
	/* the available ones among pids memory cpu io cpuset, in that order */
	expect_file("vserver/cgroup.subtree_control", "+pids +memory +cpu +io");
	/* the root is not touched */
	expect_file("cgroup.subtree_control", "cpu io memory pids\n");
	expect_file("cgroup.procs", "1\n");
	/* the guest dir gets no subtree_control (its processes live in it) */
	assert_false(exists("vserver/g1/cgroup.subtree_control"));
	vs_cgroup_free(&cg);
	vs_cgroup_free(&cg); /* idempotent on a cleared struct */
}

static void test_create_v2_new_parent(void **state)
{
	(void)state;
	fake_v2();
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "machine/vs");
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	assert_true(exists("machine/vs/g"));
	expect_path(cg.unified, "machine/vs/g");
	/* a fake dir has no cgroup.controllers, so nothing is enabled */
	assert_false(exists("machine/cgroup.subtree_control"));
	assert_false(exists("machine/vs/cgroup.subtree_control"));
	vs_cgroup_free(&cg);
}

/* A NULL root is the settings' cgroup_root (VSERVER_CGROUP_ROOT). */
static void test_root_from_settings(void **state)
{
	(void)state;
	fake_v2();
	assert_string_equal(vs_cgroup_root(&S, NULL), VS_CGROUP_ROOT); /* not set: the built-in */
	assert_string_equal(vs_cgroup_root(NULL, NULL), VS_CGROUP_ROOT);
	snprintf(S.cgroup_root, sizeof S.cgroup_root, "%s", root);
	assert_string_equal(vs_cgroup_root(&S, NULL), root);
	assert_string_equal(vs_cgroup_root(&S, ""), root);
	assert_string_equal(vs_cgroup_root(&S, "/elsewhere"), "/elsewhere");
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, NULL, "g", &cg, &err), 0);
	assert_int_equal(cg.mode, VS_CG_UNIFIED);
	expect_path(cg.unified, "vserver/g");
	vs_cgroup_free(&cg);
	assert_int_equal(vs_cgroup_open(&S, NULL, "g", &cg, &err), 0);
	expect_path(cg.unified, "vserver/g");
	vs_cgroup_free(&cg);
}

static void test_create_hybrid(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g1", &cg, &err), 0);
	assert_int_equal(cg.mode, VS_CG_HYBRID);
	assert_int_equal(cg.v1.n, VS_ARRAY_SIZE(hybrid_dirs));
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/vserver/g1", hybrid_dirs[i]);
		assert_true(exists(rel));
		char *p = P("%s", rel);
		assert_true(vs_strv_contains(&cg.v1, p));
		free(p);
	}
	expect_path(cg.unified, "unified/vserver/g1");
	expect_path(cg.pids_dir, "pids/vserver/g1");
	expect_path(cg.v1_freezer, "freezer/vserver/g1");
	expect_path(cg.v1_devices, "devices/vserver/g1");
	/* cpuset: the parent and the guest get the root's cpus and mems */
	expect_file("cpuset/vserver/cpuset.cpus", "0-3\n");
	expect_file("cpuset/vserver/cpuset.mems", "0\n");
	expect_file("cpuset/vserver/g1/cpuset.cpus", "0-3\n");
	expect_file("cpuset/vserver/g1/cpuset.mems", "0\n");
	/* nothing else is written: no controllers on the hybrid cgroup2 */
	assert_false(exists("unified/vserver/cgroup.subtree_control"));
	assert_false(exists("memory/vserver/g1/cgroup.procs"));
	assert_false(exists("cpu/vserver/cpuset.cpus"));
	vs_cgroup_free(&cg);

	/* a restricted parent keeps its cpus; the guest inherits them */
	wr("cpuset/vserver/cpuset.cpus", "1\n");
	assert_int_equal(vs_cgroup_create(&S, root, "g2", &cg, &err), 0);
	expect_file("cpuset/vserver/cpuset.cpus", "1\n");
	expect_file("cpuset/vserver/g2/cpuset.cpus", "1\n");
	vs_cgroup_free(&cg);
}

static void test_create_hybrid_comounted(void **state)
{
	(void)state;
	/* cpu,cpuacct mounted once with two links to it (Debian 10 style),
	 * no systemd hierarchy, no cgroup2 */
	static const char *const dirs[] = { "cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "pids" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++)
		mk(dirs[i]);
	wr("cpuset/cpuset.cpus", "0\n");
	wr("cpuset/cpuset.mems", "0\n");
	char *t = P("cpu");
	assert_int_equal(symlink("cpu,cpuacct", t), 0);
	free(t);
	t = P("cpuacct");
	assert_int_equal(symlink("cpu,cpuacct", t), 0);
	free(t);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	assert_int_equal(cg.v1.n, 6); /* pids memory cpu cpuset devices freezer */
	assert_null(cg.unified);
	assert_true(exists("cpu,cpuacct/vserver/g"));
	vs_cgroup_free(&cg);
	int fd = -2;
	assert_int_equal(vs_cgroup_open(&S, root, "g", &cg, &err), 0);
	fd = vs_cgroup_unified_fd(&cg, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err.errnum, ENOENT);
	vs_cgroup_free(&cg);
}

static void test_create_existing(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	vs_cgroup_free(&cg);
	/* left over with a process in it: refused, nothing removed */
	wr("pids/vserver/g/cgroup.procs", "4242\n");
	memset(&cg, 0x5a, sizeof cg);
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), -1);
	assert_int_equal(err.kind, VS_E_STATE);
	assert_null(cg.unified); /* cleared on failure */
	assert_true(exists("pids/vserver/g"));
	assert_true(exists("memory/vserver/g"));
	/* left over, empty, with a stale sub-cgroup: made afresh */
	wr("pids/vserver/g/cgroup.procs", "");
	mk("pids/vserver/g/init.scope");
	wr("pids/vserver/g/init.scope/cgroup.procs", "");
	mk("unified/vserver/g/stale");
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	assert_false(exists("pids/vserver/g/init.scope"));
	assert_false(exists("pids/vserver/g/cgroup.procs"));
	assert_false(exists("unified/vserver/g/stale"));
	assert_true(exists("pids/vserver/g"));
	assert_true(exists("unified/vserver/g"));
	vs_cgroup_free(&cg);
}

static void test_invalid_names(void **state)
{
	(void)state;
	fake_v2();
	static const char *const bad_names[] = { "", ".", "..", "a/b", "x\ny", "/abs" };
	static const char *const bad_parents[] = { "..", "../x", "/abs", "a//b", "a/", "a/./b", "a\tb" };
	vs_err err;
	struct vs_cgroup cg;
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_names); i++) {
		assert_int_equal(vs_cgroup_create(&S, root, bad_names[i], &cg, &err), -1);
		assert_int_equal(err.kind, VS_E_INVALID);
		assert_int_equal(vs_cgroup_open(&S, root, bad_names[i], &cg, &err), -1);
		assert_int_equal(err.kind, VS_E_INVALID);
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_parents); i++) {
		snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "%s", bad_parents[i]);
		assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), -1);
		assert_int_equal(err.kind, VS_E_INVALID);
		assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, root, &err), -1);
		assert_int_equal(err.kind, VS_E_INVALID);
	}
	/* nothing was made */
	DIR *d = opendir(root);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_true(de->d_name[0] == '.' || !strncmp(de->d_name, "cgroup.", 7));
	closedir(d);
}

/* ---- open / attach / pids ----------------------------------------------------- */

static void test_open(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_open(&S, root, "g", &cg, &err), -1);
	assert_int_equal(err.kind, VS_E_NOGUEST);
	assert_null(cg.pids_dir);
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	vs_cgroup_free(&cg);
	assert_int_equal(vs_cgroup_open(&S, root, "g", &cg, &err), 0);
	assert_int_equal(cg.v1.n, VS_ARRAY_SIZE(hybrid_dirs));
	expect_path(cg.unified, "unified/vserver/g");
	expect_path(cg.pids_dir, "pids/vserver/g");
	vs_cgroup_free(&cg);
	/* half made (a crash): only what exists, listing falls back to the freezer */
	char *p = P("pids/vserver/g");
	assert_int_equal(rmdir(p), 0);
	free(p);
	p = P("memory/vserver/g");
	assert_int_equal(rmdir(p), 0);
	free(p);
	assert_int_equal(vs_cgroup_open(&S, root, "g", &cg, &err), 0);
	assert_int_equal(cg.v1.n, VS_ARRAY_SIZE(hybrid_dirs) - 2);
	expect_path(cg.pids_dir, "freezer/vserver/g");
	vs_cgroup_free(&cg);
}

static void test_attach_and_pids(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	pid_t *pids = NULL;
	size_t n = 99;
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	assert_int_equal(n, 0);
	free(pids);
	assert_int_equal(vs_cgroup_attach(&cg, 4711, &err), 0);
	/* into the payload sub-cgroup, never the guest dir with the limits */
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/vserver/g/payload/cgroup.procs", hybrid_dirs[i]);
		expect_file(rel, "4711\n");
		snprintf(rel, sizeof rel, "%s/vserver/g/cgroup.procs", hybrid_dirs[i]);
		assert_false(exists(rel));
	}
	expect_file("unified/vserver/g/payload/cgroup.procs", "4711\n");
	assert_false(exists("unified/vserver/g/cgroup.procs"));
	expect_file("pids/cgroup.procs", "1\n");
	/* sub-cgroups are listed too; sorted, no duplicates */
	mk("pids/vserver/g/a");
	mk("pids/vserver/g/a/b");
	wr("pids/vserver/g/a/cgroup.procs", "900\n5\n");
	wr("pids/vserver/g/a/b/cgroup.procs", "5\n77\n");
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(pids[0], 5);
	assert_int_equal(pids[1], 77);
	assert_int_equal(pids[2], 900);
	assert_int_equal(pids[3], 4711);
	free(pids);
	assert_true(vs_cgroup_contains(&cg, 77));
	assert_true(vs_cgroup_contains(&cg, 4711));
	assert_false(vs_cgroup_contains(&cg, 1));
	assert_false(vs_cgroup_contains(&cg, 78));
	assert_false(vs_cgroup_contains(&cg, 0));
	/* garbage in cgroup.procs is an error, not a pid */
	wr("pids/vserver/g/a/b/cgroup.procs", "5\n-1\n");
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), -1);
	assert_int_equal(err.kind, VS_E_SYSTEM);
	vs_cgroup_free(&cg);
}

static void test_attach_v2(void **state)
{
	(void)state;
	fake_v2();
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	assert_int_equal(vs_cgroup_attach(&cg, 321, &err), 0);
	expect_file("vserver/g/payload/cgroup.procs", "321\n");
	assert_false(exists("vserver/g/cgroup.procs"));
	assert_true(vs_cgroup_contains(&cg, 321));
	mk("vserver/g/payload/init.scope");
	wr("vserver/g/payload/init.scope/cgroup.procs", "1000\n");
	assert_true(vs_cgroup_contains(&cg, 1000));
	/* CLONE_INTO_CGROUP: born in the payload */
	int fd = vs_cgroup_unified_fd(&cg, &err);
	assert_true(fd >= 0);
	struct stat a, b;
	assert_int_equal(fstat(fd, &a), 0);
	char *pl = P("vserver/g/payload");
	assert_int_equal(stat(pl, &b), 0);
	free(pl);
	assert_true(a.st_ino == b.st_ino && S_ISDIR(a.st_mode));
	close(fd);
	vs_cgroup_free(&cg);
}

/* The payload sub-cgroup: made once, v1 memory hierarchical, v1 cpuset
 * inherited, cgroup2 controllers handed down; joins need it. */
static void test_payload(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	/* an exec into a guest without payload: refused, nothing written */
	assert_int_equal(vs_cgroup_join_self(&cg, false, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_false(exists("pids/vserver/g/tasks"));
	wr("memory/vserver/g/memory.use_hierarchy", "0\n");
	wr("cpuset/vserver/g/cpuset.cpus", "1-2\n");
	assert_int_equal(vs_cgroup_make_payload(&cg, &err), 0);
	expect_file("memory/vserver/g/memory.use_hierarchy", "1");
	expect_file("cpuset/vserver/g/payload/cpuset.cpus", "1-2\n");
	expect_file("cpuset/vserver/g/payload/cpuset.mems", "0\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/vserver/g/payload", hybrid_dirs[i]);
		assert_true(exists(rel));
	}
	/* again: kept as it is */
	wr("cpuset/vserver/g/payload/cpuset.cpus", "2\n");
	assert_int_equal(vs_cgroup_make_payload(&cg, &err), 0);
	expect_file("cpuset/vserver/g/payload/cpuset.cpus", "2\n");
	/* the exec'd process joins the payload: v1 through tasks */
	assert_int_equal(vs_cgroup_join_self(&cg, false, &err), 0);
	expect_file("pids/vserver/g/payload/tasks", "0\n");
	expect_file("unified/vserver/g/payload/cgroup.procs", "0\n");
	assert_false(exists("pids/vserver/g/tasks"));
	vs_cgroup_free(&cg);
}

/* cgroup2: the guest dir hands its controllers down to the payload (for
 * systemd in the guest); the payload is all a join reaches. */
static void test_payload_v2(void **state)
{
	(void)state;
	fake_v2();
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "h", &cg, &err), 0);
	wr("vserver/h/cgroup.controllers", "cpu memory pids\n");
	assert_int_equal(vs_cgroup_make_payload(&cg, &err), 0);
	expect_file("vserver/h/cgroup.subtree_control", "+pids +memory +cpu");
	assert_true(exists("vserver/h/payload"));
	assert_int_equal(vs_cgroup_join_self(&cg, false, &err), 0);
	expect_file("vserver/h/payload/cgroup.procs", "0\n");
	assert_false(exists("vserver/h/cgroup.procs"));
	vs_cgroup_free(&cg);
}

/* v1 memory.use_hierarchy that cannot be set: refused, no payload. */
static void test_payload_flat_memory_refused(void **state)
{
	(void)state;
	fake_hybrid(false);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	/* a directory where the file should be: the write fails */
	mk("memory/vserver/g/memory.use_hierarchy");
	char *p = P("memory/vserver/g/memory.use_hierarchy/x");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	free(p);
	assert_int_equal(vs_cgroup_make_payload(&cg, &err), -1);
	assert_false(exists("memory/vserver/g/payload"));
	vs_cgroup_free(&cg);
}

/* ---- kill / destroy ------------------------------------------------------------ */

static void test_kill_empty(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	/* empty: done at once, the freezer is not even touched */
	assert_int_equal(vs_cgroup_kill(&cg, 0, &err), 0);
	assert_false(exists("freezer/vserver/g/freezer.state"));
	vs_cgroup_free(&cg);
}

static void test_destroy(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup g1, g2;
	assert_int_equal(vs_cgroup_create(&S, root, "g1", &g1, &err), 0);
	assert_int_equal(vs_cgroup_create(&S, root, "g2", &g2, &err), 0);
	assert_int_equal(vs_cgroup_attach(&g1, 4711, &err), 0);
	/* processes left: refused, nothing removed */
	assert_int_equal(vs_cgroup_destroy(&g1, &err), -1);
	assert_int_equal(err.kind, VS_E_STATE);
	assert_true(exists("memory/vserver/g1"));
	/* sub-cgroups the guest made (systemd's) go too */
	wr("pids/vserver/g1/payload/cgroup.procs", "");
	mk("systemd/vserver/g1/payload/init.scope");
	wr("systemd/vserver/g1/payload/init.scope/cgroup.procs", "");
	mk("unified/vserver/g1/payload/system.slice");
	mk("unified/vserver/g1/payload/system.slice/cron.service");
	assert_int_equal(vs_cgroup_destroy(&g1, &err), 0);
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/vserver/g1", hybrid_dirs[i]);
		assert_false(exists(rel));
		snprintf(rel, sizeof rel, "%s/vserver/g2", hybrid_dirs[i]);
		assert_true(exists(rel));
	}
	assert_false(exists("unified/vserver/g1"));
	/* again: nothing left to do */
	assert_int_equal(vs_cgroup_destroy(&g1, &err), 0);
	/* the parent still holds g2 */
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, root, &err), 0);
	assert_true(exists("cpuset/vserver/g2"));
	assert_true(exists("unified/vserver"));
	assert_int_equal(vs_cgroup_destroy(&g2, &err), 0);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, root, &err), 0);
	for (size_t i = 0; i < VS_ARRAY_SIZE(hybrid_dirs); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/vserver", hybrid_dirs[i]);
		assert_false(exists(rel));
		snprintf(rel, sizeof rel, "%s/cgroup.procs", hybrid_dirs[i]);
		assert_true(exists(rel));
	}
	assert_false(exists("unified/vserver"));
	expect_file("cpuset/cpuset.cpus", "0-3\n");
	vs_cgroup_free(&g1);
	vs_cgroup_free(&g2);
}

static void test_remove_nested_parent(void **state)
{
	(void)state;
	fake_v2();
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "a/b");
	mk("a");
	mk("a/other"); /* someone else's cgroup under a */
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	assert_int_equal(vs_cgroup_destroy(&cg, &err), 0);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, root, &err), 0);
	assert_false(exists("a/b"));
	assert_true(exists("a/other"));
	vs_cgroup_free(&cg);
	/* without the neighbour both levels go */
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	char *o = P("a/other");
	assert_int_equal(rmdir(o), 0);
	free(o);
	assert_int_equal(vs_cgroup_destroy(&cg, &err), 0);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, root, &err), 0);
	assert_false(exists("a"));
	vs_cgroup_free(&cg);
}

/* ---- device policy (files) ------------------------------------------------------- */

static void test_devices_v1_files(void **state)
{
	(void)state;
	fake_hybrid(true);
	vs_err err;
	struct vs_cgroup cg;
	assert_int_equal(vs_cgroup_create(&S, root, "g", &cg, &err), 0);
	/* a plain dir is no cgroup2: take the v1 part only */
	struct vs_cgroup v1 = cg;
	v1.unified = NULL;
	static const struct vs_dev_rule rules[] = {
		{ 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" }, { 'c', 136, -1, "rw" }, { 'b', -1, -1, "m" },
	};
	/* bad rules: refused before anything is written */
	static const struct vs_dev_rule bad[] = {
		{ 'x', 1, 3, "rwm" }, { 'a', 1, 3, "rwm" }, { 'c', -2, 3, "r" }, { 'c', 1, -5, "r" },
		{ 'c', 1, 3, "rwx" }, { 'c', 1, 3, "" }, { 'c', 1, 3, "rr" }, { 'c', 1, 3, NULL },
		{ 'c', 4096, 0, "r" }, { 'c', 1, 1 << 20, "r" },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		assert_int_equal(vs_cgroup_set_devices(&v1, &bad[i], 1, &err), -1);
		assert_int_equal(err.kind, VS_E_INVALID);
	}
	assert_false(exists("devices/vserver/g/devices.deny"));
	assert_int_equal(vs_cgroup_set_devices(&v1, rules, VS_ARRAY_SIZE(rules), &err), 0);
	expect_file("devices/vserver/g/devices.deny", "a");
	expect_file("devices/vserver/g/devices.allow", "c 1:3 rwm\nc 1:5 rwm\nc 136:* rw\nb *:* m\n");
	/* nothing is written to the other controllers */
	assert_false(exists("devices/vserver/devices.deny"));
	assert_false(exists("memory/vserver/g/devices.deny"));
	/* no rules: deny everything */
	assert_int_equal(vs_cgroup_set_devices(&v1, NULL, 0, &err), 0);
	expect_file("devices/vserver/g/devices.deny", "a");
	/* neither v1 devices nor cgroup2 */
	struct vs_cgroup none = v1;
	none.v1_devices = NULL;
	assert_int_equal(vs_cgroup_set_devices(&none, rules, 1, &err), -1);
	assert_int_equal(err.errnum, ENOTSUP);
	vs_cgroup_free(&cg);
}

/* ---- real kernel -------------------------------------------------------------------- */

#define REAL_ROOT "/sys/fs/cgroup"

static pid_t kids[16];
static size_t nkids;
static char runner_comm[16];

static void real_or_skip(void)
{
	int mode;
	vs_err err;
	if (geteuid() != 0 || vs_cgroup_detect(REAL_ROOT, &mode, &err) < 0)
		skip();
}

static void on_fatal(int sig);

static int setup_real(void **state)
{
	(void)state;
	memset(&S, 0, sizeof S);
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "vserver-unittest-%d", (int)getpid());
	snprintf(runner_comm, sizeof runner_comm, "vscgr%d", (int)getpid());
	nkids = 0;
	signal(SIGALRM, on_fatal);
	signal(SIGTERM, on_fatal);
	alarm(40);
	return 0;
}

static int rmdir_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		rmdir(p);
	return 0;
}

/* Reap every exited descendant handed to us as subreaper. */
static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Our runners that may have escaped (they are descendants of this test). */
static int kill_runners(void)
{
	int found = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char p[64];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof p, "/proc/%s/stat", de->d_name);
		char *c = slurp_abs(p);
		char *name = c ? strchr(c, '(') : NULL, *end = c ? strrchr(c, ')') : NULL;
		/* "PID (COMM) STATE ...": live (not zombie) runners only */
		if (name && end && end > name && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X' &&
		    (size_t)(end - name - 1) == strlen(runner_comm) && !strncmp(name + 1, runner_comm, strlen(runner_comm))) {
			kill(atoi(de->d_name), SIGKILL);
			found++;
		}
		free(c);
	}
	closedir(d);
	return found;
}

/* Call fn on <hierarchy>/<private parent> for every hierarchy where it exists. */
static void each_parent_dir(void (*fn)(const char *))
{
	DIR *d = opendir(REAL_ROOT);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s/%s", REAL_ROOT, de->d_name, S.cgroup_parent);
		if (exists_abs(p))
			fn(p);
	}
	closedir(d);
}

static void write_if_there(const char *dir, const char *file, const char *val)
{
	char q[PATH_MAX];
	snprintf(q, sizeof q, "%s/%s", dir, file);
	int fd = open(q, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

static int thaw_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_D) {
		write_if_there(p, "freezer.state", "THAWED");
		write_if_there(p, "cgroup.freeze", "0");
	}
	return 0;
}

static void thaw_tree(const char *p)
{
	nftw(p, thaw_cb, 16, FTW_PHYS | FTW_MOUNT);
}

static void remove_tree(const char *p)
{
	for (int i = 0; i < 50 && exists_abs(p); i++) {
		nftw(p, rmdir_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		if (exists_abs(p))
			usleep(20000);
	}
	if (exists_abs(p))
		fprintf(stderr, "test-cgroup: could not remove %s\n", p);
}

/* Independent of the library: everything under the private parent
 * thawed, our children killed and reaped (bounded), then every dir of
 * the private parent removed, depth first. */
static void real_cleanup(void)
{
	each_parent_dir(thaw_tree);
	for (size_t i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	for (size_t i = 0; i < nkids; i++)
		for (int k = 0; k < 200 && waitpid(kids[i], NULL, WNOHANG) == 0; k++)
			usleep(10000);
	nkids = 0;
	for (int i = 0; i < 100 && kill_runners(); i++) {
		usleep(10000);
		reap_all();
	}
	reap_all();
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	each_parent_dir(remove_tree);
}

/* A hung test (alarm) or meson's timeout (SIGTERM) still cleans up. */
static void on_fatal(int sig)
{
	static const char m[] = "test-cgroup: timed out or terminated, cleaning up\n";
	if (write(2, m, sizeof m - 1) < 0) {
		/* nothing to do */
	}
	real_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int teardown_real(void **state)
{
	(void)state;
	alarm(0);
	real_cleanup();
	signal(SIGALRM, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return 0;
}

/* Every hierarchy under the real root holds no dir of the private parent. */
static void expect_no_parent_left(void)
{
	DIR *d = opendir(REAL_ROOT);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s/%s", REAL_ROOT, de->d_name, S.cgroup_parent);
		if (exists_abs(p))
			fail_msg("left behind: %s", p);
	}
	closedir(d);
}

static pid_t track(pid_t p)
{
	assert_true(p > 0);
	assert_true(nkids < VS_ARRAY_SIZE(kids));
	kids[nkids++] = p;
	return p;
}

static void reaped(pid_t p, int *status)
{
	assert_int_equal(waitpid(p, status, 0), p);
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] == p)
			kids[i] = kids[--nkids];
}

/* A child that sleeps until killed. */
static pid_t sleeper(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	return track(p);
}

/* Write pid into dir/sub/cgroup.procs for every guest dir (sub made). */
static void attach_sub(const struct vs_cgroup *cg, const char *sub, pid_t pid)
{
	const char *dirs[32];
	size_t n = 0;
	if (cg->unified)
		dirs[n++] = cg->unified;
	for (size_t i = 0; i < cg->v1.n; i++)
		dirs[n++] = cg->v1.v[i];
	for (size_t i = 0; i < n; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", dirs[i], sub);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		/* v1 cpuset: a new cgroup takes no task before it has cpus and mems */
		static const char *const cs[] = { "cpuset.cpus", "cpuset.mems" };
		for (size_t k = 0; k < VS_ARRAY_SIZE(cs); k++) {
			char from[PATH_MAX], to[PATH_MAX];
			snprintf(from, sizeof from, "%s/%s", dirs[i], cs[k]);
			snprintf(to, sizeof to, "%s/%s/%s", dirs[i], sub, cs[k]);
			char *v = slurp_abs(from);
			if (v) {
				FILE *f = fopen(to, "w");
				assert_non_null(f);
				fputs(v, f);
				assert_int_equal(fclose(f), 0);
				free(v);
			}
		}
		snprintf(p, sizeof p, "%s/%s/cgroup.procs", dirs[i], sub);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fprintf(f, "%d\n", (int)pid);
		if (fclose(f) != 0)
			fail_msg("attach %d to %s: %s", (int)pid, p, strerror(errno));
	}
}

static void expect_all_gone(const struct vs_cgroup *cg)
{
	if (cg->unified)
		assert_false(exists_abs(cg->unified));
	for (size_t i = 0; i < cg->v1.n; i++)
		assert_false(exists_abs(cg->v1.v[i]));
}

/* A real guest cgroup "g" below this test's parent (skipped when not root
 * or without cgroups). */
static void real_guest(struct vs_cgroup *cg)
{
	real_or_skip();
	vs_err err = { 0 };
	if (vs_cgroup_create(&S, REAL_ROOT, "g", cg, &err) < 0)
		fail_msg("create: %s", err.msg);
}

static void test_real_lifecycle(void **state)
{
	(void)state;
	vs_err err = { 0 };
	struct vs_cgroup cg;
	real_guest(&cg);
	int mode;
	assert_int_equal(vs_cgroup_detect(REAL_ROOT, &mode, &err), 0);
	assert_int_equal(cg.mode, mode);
	if (cg.unified)
		assert_true(exists_abs(cg.unified));
	for (size_t i = 0; i < cg.v1.n; i++)
		assert_true(exists_abs(cg.v1.v[i]));
	/* two sleepers: one in the guest dir, one in a sub-cgroup */
	pid_t a = sleeper(), b = sleeper();
	if (vs_cgroup_attach(&cg, a, &err) < 0 || vs_cgroup_attach(&cg, b, &err) < 0)
		fail_msg("attach: %s", err.msg);
	attach_sub(&cg, "sub", b);
	pid_t *pids;
	size_t n;
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true((pids[0] == a && pids[1] == b) || (pids[0] == b && pids[1] == a));
	free(pids);
	assert_true(vs_cgroup_contains(&cg, a));
	assert_true(vs_cgroup_contains(&cg, b));
	assert_false(vs_cgroup_contains(&cg, getpid()));
	assert_false(vs_cgroup_contains(&cg, 1));
	/* the kernel agrees: /proc/PID/cgroup names our cgroup */
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/cgroup", (int)b);
	char *pc = slurp_abs(p);
	char want[256];
	snprintf(want, sizeof want, "/%s/g/sub\n", S.cgroup_parent);
	assert_non_null(pc);
	assert_non_null(strstr(pc, want));
	free(pc);
	/* busy: not destroyed */
	assert_int_equal(vs_cgroup_destroy(&cg, &err), -1);
	assert_int_equal(err.kind, VS_E_STATE);
	/* a guest frozen by the v1 freezer: a SIGKILL alone does not end its
	 * processes (they die only once thawed); kill must thaw */
	if (cg.v1_freezer) {
		char fs[PATH_MAX];
		snprintf(fs, sizeof fs, "%s/freezer.state", cg.v1_freezer);
		FILE *f = fopen(fs, "w");
		assert_non_null(f);
		fputs("FROZEN", f);
		assert_int_equal(fclose(f), 0);
		char *st = NULL;
		for (int i = 0; i < 100; i++) {
			free(st);
			st = slurp_abs(fs);
			if (st && !strcmp(st, "FROZEN\n"))
				break;
			usleep(10000);
		}
		assert_non_null(st);
		assert_string_equal(st, "FROZEN\n");
		free(st);
	}
	/* killed (freezer on hybrid, cgroup.kill on v2), unreaped zombies not listed */
	double t0 = vs_now();
	if (vs_cgroup_kill(&cg, 5000, &err) < 0)
		fail_msg("kill: %s", err.msg);
	assert_true(vs_now() - t0 < 5.0);
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	assert_int_equal(n, 0);
	free(pids);
	if (cg.v1_freezer) {
		char fs[PATH_MAX];
		snprintf(fs, sizeof fs, "%s/freezer.state", cg.v1_freezer);
		char *st = slurp_abs(fs);
		assert_non_null(st);
		assert_string_equal(st, "THAWED\n");
		free(st);
	}
	/* a and b are zombies now (not reaped yet): they hold up nothing */
	if (vs_cgroup_destroy(&cg, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	expect_all_gone(&cg);
	int status;
	reaped(a, &status);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	reaped(b, &status);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* the parent stays until asked */
	char par[PATH_MAX];
	snprintf(par, sizeof par, "%s/%s", cg.unified ? REAL_ROOT "/unified" : REAL_ROOT "/pids", S.cgroup_parent);
	if (mode == VS_CG_UNIFIED)
		snprintf(par, sizeof par, "%s/%s", REAL_ROOT, S.cgroup_parent);
	assert_true(exists_abs(par));
	/* open finds nothing now */
	struct vs_cgroup again;
	assert_int_equal(vs_cgroup_open(&S, REAL_ROOT, "g", &again, &err), -1);
	assert_int_equal(err.kind, VS_E_NOGUEST);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err), 0);
	expect_no_parent_left();
	vs_cgroup_free(&cg);
}

/* RUNNER_CHAINS processes that keep replacing themselves (fork, the
 * parent exits): a pid list is always stale, only a frozen or atomic kill
 * gets them all.  They name themselves runner_comm and give up after 20 s
 * whatever happens.  This test process is their subreaper, so the exited
 * ones are ours to reap (reap_all), not left to PID 1. */
#define RUNNER_CHAINS 8

static pid_t runner(int *go)
{
	int pp[2];
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(pp), 0);
	pid_t p = fork();
	if (p == 0) {
		close(pp[1]);
		char c;
		if (read(pp[0], &c, 1) != 1)
			_exit(1);
		close(pp[0]);
		prctl(PR_SET_NAME, runner_comm);
		time_t end = time(NULL) + 20;
		for (int i = 1; i < RUNNER_CHAINS; i++)
			if (fork() == 0)
				break;
		while (time(NULL) < end) {
			pid_t q = fork();
			if (q > 0)
				_exit(0);
			if (q < 0)
				usleep(1000);
		}
		_exit(0);
	}
	close(pp[0]);
	*go = pp[1];
	return track(p);
}


static void kill_runner_case(bool v2_view)
{
	vs_err err = { 0 };
	struct vs_cgroup cg;
	real_guest(&cg);
	struct vs_cgroup view = cg;
	if (v2_view) {
		/* only the cgroup2 part: its freezer (cgroup.kill would leave
		 * the kernel killing what is born there later) */
		if (!cg.unified) {
			vs_cgroup_destroy(&cg, &err);
			vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err);
			vs_cgroup_free(&cg);
			skip();
		}
		char k[PATH_MAX];
		snprintf(k, sizeof k, "%s/cgroup.kill", cg.unified);
		assert_true(exists_abs(k));
		memset(&view, 0, sizeof view);
		view.mode = VS_CG_UNIFIED;
		view.unified = cg.unified;
		view.pids_dir = cg.unified;
	} else if (!cg.v1_freezer) {
		vs_cgroup_destroy(&cg, &err);
		vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err);
		vs_cgroup_free(&cg);
		skip();
	}
	int go;
	pid_t r = runner(&go);
	if (vs_cgroup_attach(&cg, r, &err) < 0)
		fail_msg("attach: %s", err.msg);
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	int status;
	reaped(r, &status); /* the first one exits at once, its successors run on */
	usleep(50000);
	reap_all();
	pid_t *pids;
	size_t n;
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	free(pids);
	assert_true(n >= 1);
	/* one round (freeze, kill, thaw / cgroup.kill) must be enough: a
	 * plain list-and-kill loop needs many rounds or never ends */
	double t0 = vs_now();
	int rc = vs_cgroup_kill(&view, 2000, &err);
	double took = vs_now() - t0;
	reap_all();
	if (rc < 0)
		fail_msg("kill: %s", err.msg);
	if (took > 0.5)
		fail_msg("kill took %.3f s", took);
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	free(pids);
	assert_int_equal(n, 0);
	assert_int_equal(kill_runners(), 0);
	if (v2_view && cg.v1_freezer) {
		char fs[PATH_MAX];
		snprintf(fs, sizeof fs, "%s/freezer.state", cg.v1_freezer);
		char *st = slurp_abs(fs);
		assert_non_null(st);
		assert_string_equal(st, "THAWED\n"); /* never frozen */
		free(st);
	}
	if (v2_view) { /* frozen for the kill, thawed after it */
		char ev[PATH_MAX];
		snprintf(ev, sizeof ev, "%s/cgroup.events", cg.unified);
		char *st = slurp_abs(ev);
		assert_non_null(st);
		assert_non_null(strstr(st, "frozen 0"));
		free(st);
		snprintf(ev, sizeof ev, "%s/cgroup.freeze", cg.unified);
		st = slurp_abs(ev);
		assert_non_null(st);
		assert_string_equal(st, "0\n");
		free(st);
	}
	if (vs_cgroup_destroy(&cg, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err), 0);
	expect_no_parent_left();
	vs_cgroup_free(&cg);
}

static void test_real_kill_freezer(void **state)
{
	(void)state;
	kill_runner_case(false);
}

/* cgroup2 view: the kill goes through its freezer (see kill_round) */
static void test_real_kill_cgroup_kill(void **state)
{
	(void)state;
	kill_runner_case(true);
}

/* A child born in a cgroup where cgroup.kill was written runs: the
 * kernel (kill_seq) kills it at birth, vs_clone_into_cgroup makes it again. */
static void test_real_clone_after_cgroup_kill(void **state)
{
	(void)state;
	vs_err err = { 0 };
	struct vs_cgroup cg;
	real_guest(&cg);
	if (!cg.unified) {
		vs_cgroup_destroy(&cg, &err);
		vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err);
		vs_cgroup_free(&cg);
		skip();
	}
	assert_int_equal(vs_cgroup_make_payload(&cg, &err), 0);
	int fd = vs_cgroup_unified_fd(&cg, &err);
	assert_true(fd >= 0);
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			char k[PATH_MAX];
			snprintf(k, sizeof k, "%s/" VS_CGROUP_PAYLOAD "/cgroup.kill", cg.unified);
			int kf = open(k, O_WRONLY | O_CLOEXEC);
			assert_true(kf >= 0);
			assert_int_equal(write(kf, "1", 1), 1); /* an empty cgroup: kills nothing */
			close(kf);
		}
		/* does this kernel kill a child born there now? (a raw clone3) */
		struct {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
				set_tid_size, cgroup;
		} ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)fd };
		long raw = syscall(SYS_clone3, &ca, sizeof ca);
		assert_true(raw >= 0);
		if (raw == 0)
			_exit(0);
		int rs;
		assert_int_equal(waitpid((pid_t)raw, &rs, 0), (pid_t)raw);
		bool kernel_kills = WIFSIGNALED(rs) && WTERMSIG(rs) == SIGKILL;
		assert_false(round == 0 && kernel_kills);
		bool born_in;
		pid_t p = vs_clone_into_cgroup(fd, 0, &born_in);
		assert_true(p >= 0);
		if (p == 0)
			_exit(born_in ? 7 : 8); /* the child knows how it was born */
		int status;
		assert_int_equal(waitpid(p, &status, 0), p);
		if (!WIFEXITED(status))
			fail_msg("round %d: the child did not run (signal %d)", round,
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		/* parent and child agree: born there (7), or made the plain way
		 * (8) exactly when the kernel kills what is born there */
		assert_int_equal(WEXITSTATUS(status), born_in ? 7 : 8);
		assert_int_equal(born_in, !kernel_kills);
	}
	close(fd);
	assert_int_equal(vs_cgroup_destroy(&cg, &err), 0);
	vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err);
	vs_cgroup_free(&cg);
}

/* ---- real device policy ---- */

struct dev_check {
	const char *path;
	int flags;
	int err; /* 0: must open; else the errno expected */
};

/* Run the checks in a child attached to the whole guest cgroup; 0 if all
 * behave, else 1 + the index of the first that does not (+100 if it
 * opened but should not have). */
static int run_checks(const struct vs_cgroup *cg, const struct dev_check *c, size_t n)
{
	int pp[2];
	assert_int_equal(pipe(pp), 0);
	pid_t p = fork();
	if (p == 0) {
		close(pp[1]);
		char ch;
		if (read(pp[0], &ch, 1) != 1)
			_exit(99);
		for (size_t i = 0; i < n; i++) {
			int fd = open(c[i].path, c[i].flags | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
			if (c[i].err == 0 && fd < 0)
				_exit((int)i + 1);
			if (c[i].err != 0 && (fd >= 0 || errno != c[i].err))
				_exit((int)i + 1 + (fd >= 0 ? 100 : 0));
		}
		_exit(0);
	}
	track(p);
	close(pp[0]);
	vs_err err;
	if (vs_cgroup_attach(cg, p, &err) < 0)
		fail_msg("attach: %s", err.msg);
	assert_int_equal(write(pp[1], "g", 1), 1);
	close(pp[1]);
	int status;
	reaped(p, &status);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect_checks(const struct vs_cgroup *cg, const struct dev_check *c, size_t n, const char *what)
{
	int r = run_checks(cg, c, n);
	if (r) {
		size_t i = (size_t)(r % 100) - 1;
		fail_msg("%s: %s (flags %#x) %s", what, i < n ? c[i].path : "?", i < n ? c[i].flags : 0,
			 r > 100 ? "opened, should have been refused" : "not as expected");
	}
}

static bool dev_is(const char *path, unsigned ma, unsigned mi)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == ma && minor(st.st_rdev) == mi;
}

/* The programs attached to the guest dir (vs_cgroup_unified_fd is the
 * payload's, where nothing is attached: the guest dir's programs cover it). */
static size_t bpf_progs(const struct vs_cgroup *cg)
{
	vs_err err;
	int fd = open(cg->unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	uint32_t *ids = NULL, n = 0;
	if (vs_cgroup_bpf_device_progs(fd, &ids, &n, &err) < 0)
		fail_msg("%s", err.msg);
	close(fd);
	free(ids);
	return n;
}

/* which: 'v' v1 devices only, 'b' BPF only, 'a' both (the real API call) */
static void devices_case(char which)
{
	real_or_skip();
	if (!dev_is("/dev/null", 1, 3) || !dev_is("/dev/zero", 1, 5) || !dev_is("/dev/full", 1, 7))
		skip();
	vs_err err = { 0 };
	struct vs_cgroup cg;
	if (vs_cgroup_create(&S, REAL_ROOT, "g", &cg, &err) < 0)
		fail_msg("create: %s", err.msg);
	struct vs_cgroup view = cg;
	bool ok = true;
	if (which == 'v') {
		view.unified = NULL;
		ok = cg.v1_devices != NULL;
	} else if (which == 'b') {
		view.v1 = (vs_strv){ 0 };
		view.v1_devices = NULL;
		view.v1_freezer = NULL;
		ok = cg.unified != NULL;
	}
	if (!ok) {
		vs_cgroup_destroy(&cg, &err);
		vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err);
		vs_cgroup_free(&cg);
		skip();
	}
	/* 1: null and zero only */
	static const struct vs_dev_rule r1[] = { { 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" } };
	static const struct dev_check c1[] = {
		{ "/dev/null", O_RDWR, 0 },
		{ "/dev/zero", O_RDONLY, 0 },
		{ "/dev/full", O_RDONLY, EPERM },
		{ "/dev/full", O_WRONLY, EPERM },
	};
	/* 2: full read-only, then any minor of major 1 read/write */
	static const struct vs_dev_rule r2[] = { { 'c', 1, 3, "rwm" }, { 'c', 1, 7, "r" } };
	static const struct dev_check c2[] = {
		{ "/dev/null", O_RDWR, 0 },
		{ "/dev/full", O_RDONLY, 0 },
		{ "/dev/full", O_WRONLY, EPERM },
		{ "/dev/zero", O_RDONLY, EPERM },
	};
	static const struct vs_dev_rule r3[] = { { 'b', 1, -1, "rwm" }, { 'c', 1, -1, "rw" } };
	static const struct dev_check c3[] = {
		{ "/dev/full", O_RDWR, 0 },
		{ "/dev/zero", O_RDWR, 0 },
	};
	static const struct {
		const struct vs_dev_rule *r;
		size_t nr;
		const struct dev_check *c;
		size_t nc;
	} cases[] = {
		{ r1, VS_ARRAY_SIZE(r1), c1, VS_ARRAY_SIZE(c1) },
		{ r2, VS_ARRAY_SIZE(r2), c2, VS_ARRAY_SIZE(c2) },
		{ r3, VS_ARRAY_SIZE(r3), c3, VS_ARRAY_SIZE(c3) },
	};
	for (size_t k = 0; k < VS_ARRAY_SIZE(cases); k++) {
		/* as vserver start does: the policy first, then the payload
		 * (made by the attach of run_checks; v1 refuses "deny a" in a
		 * cgroup with children, so the last case's empty one goes) */
		const char *dirs[] = { cg.unified, cg.v1_devices };
		for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++) {
			char p[PATH_MAX];
			snprintf(p, sizeof p, "%s/%s", dirs[i] ? dirs[i] : "/nonexistent", VS_CGROUP_PAYLOAD);
			if (rmdir(p) < 0 && errno != ENOENT)
				fail_msg("rmdir %s: %s", p, strerror(errno));
		}
		/* the removed child goes offline asynchronously: until then v1
		 * still counts it (EINVAL) */
		int rc;
		for (int tries = 0; (rc = vs_cgroup_set_devices(&view, cases[k].r, cases[k].nr, &err)) < 0 &&
				    err.errnum == EINVAL && tries < 200; tries++)
			usleep(10000);
		if (rc < 0)
			fail_msg("set_devices (case %zu): %s", k + 1, err.msg);
		/* replaced, not piled up: one program at most */
		if (cg.unified)
			assert_int_equal(bpf_progs(&cg), which == 'v' ? 0 : 1);
		char what[64];
		snprintf(what, sizeof what, "%s, case %zu",
			 which == 'v' ? "v1 devices" : which == 'b' ? "BPF" : "both", k + 1);
		expect_checks(&cg, cases[k].c, cases[k].nc, what);
	}
	if (cg.v1_devices) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/devices.list", cg.v1_devices);
		char *l = slurp_abs(p);
		assert_non_null(l);
		if (which == 'b')
			assert_string_equal(l, "a *:* rwm\n"); /* BPF alone did it */
		else
			assert_string_equal(l, "b 1:* rwm\nc 1:* rw\n");
		free(l);
	}
	/* the children exited on their own: nothing to kill */
	assert_int_equal(vs_cgroup_kill(&cg, 1000, &err), 0);
	if (vs_cgroup_destroy(&cg, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, REAL_ROOT, &err), 0);
	expect_no_parent_left();
	vs_cgroup_free(&cg);
}

static void test_real_devices_v1(void **state)
{
	(void)state;
	devices_case('v');
}

static void test_real_devices_bpf(void **state)
{
	(void)state;
	devices_case('b');
}

static void test_real_devices_both(void **state)
{
	(void)state;
	devices_case('a');
}

/* The pure-v2 mode on a real kernel, even on this hybrid host: the
 * cgroup2 hierarchy mounted again at a temp dir (in a mount namespace of
 * this test process only) is a root the library takes for a pure v2 host.
 * Its dirs are the same as under /sys/fs/cgroup/unified, where the
 * teardown sweeps them. */
static char v2mnt[PATH_MAX];

/* What a guest sees on cgroup2 (run in a child): join the payload, unshare
 * the cgroup namespace as the guest's PID 1 does, mount cgroup2 as for a
 * systemd guest.  0 if the view is the payload's, else the failed step. */
static int guest_view_child(const struct vs_cgroup *cg, const char *mnt)
{
	vs_err err;
	if (vs_cgroup_join_self(cg, false, &err) < 0 || unshare(CLONE_NEWCGROUP) < 0)
		return 1;
	char buf[256] = "";
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0 || !strstr(buf, "0::/\n") || strstr(buf, "0::/."))
		return 2;
	if (mount("cgroup2", mnt, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return 3;
	/* the mount's root is the payload: same inode; the guest dir's
	 * files (the limits) are nowhere in it */
	struct stat a, b;
	char pl[PATH_MAX];
	snprintf(pl, sizeof pl, "%s/%s", cg->unified, VS_CGROUP_PAYLOAD);
	int rc = 0;
	if (stat(mnt, &a) < 0 || stat(pl, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		rc = 4;
	char sub[PATH_MAX];
	snprintf(sub, sizeof sub, "%s/%s", mnt, VS_CGROUP_PAYLOAD);
	if (!rc && exists_abs(sub))
		rc = 5;
	umount2(mnt, MNT_DETACH);
	return rc;
}

static void test_real_pure_v2_mode(void **state)
{
	(void)state;
	real_or_skip();
	int mode;
	vs_err err = { 0 };
	assert_int_equal(vs_cgroup_detect(REAL_ROOT, &mode, &err), 0);
	if (mode == VS_CG_UNIFIED || !exists_abs(REAL_ROOT "/unified/cgroup.controllers"))
		skip(); /* pure v2 host: the other tests ran this mode already */
	if (!v2mnt[0]) {
		assert_int_equal(unshare(CLONE_NEWNS), 0);
		assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
		snprintf(v2mnt, sizeof v2mnt, "/tmp/vs-test-cgroup2-XXXXXX");
		assert_non_null(mkdtemp(v2mnt));
		if (mount("cgroup2", v2mnt, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			rmdir(v2mnt);
			v2mnt[0] = 0;
			skip();
		}
	}
	assert_int_equal(vs_cgroup_detect(v2mnt, &mode, &err), 0);
	assert_int_equal(mode, VS_CG_UNIFIED);
	struct vs_cgroup cg;
	if (vs_cgroup_create(&S, v2mnt, "g", &cg, &err) < 0)
		fail_msg("create: %s", err.msg);
	assert_int_equal(cg.mode, VS_CG_UNIFIED);
	assert_int_equal(cg.v1.n, 0);
	assert_null(cg.v1_freezer);
	assert_string_equal(cg.pids_dir, cg.unified);
	char seen[PATH_MAX];
	snprintf(seen, sizeof seen, "%s/unified/%s/g", REAL_ROOT, S.cgroup_parent);
	assert_true(exists_abs(seen)); /* the same hierarchy */
	/* device policy: the BPF program alone */
	static const struct vs_dev_rule r1[] = { { 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" } };
	static const struct dev_check c1[] = {
		{ "/dev/null", O_RDWR, 0 },
		{ "/dev/zero", O_RDONLY, 0 },
		{ "/dev/full", O_RDONLY, EPERM },
	};
	if (vs_cgroup_set_devices(&cg, r1, VS_ARRAY_SIZE(r1), &err) < 0)
		fail_msg("set_devices: %s", err.msg);
	assert_int_equal(bpf_progs(&cg), 1);
	if (dev_is("/dev/null", 1, 3) && dev_is("/dev/zero", 1, 5) && dev_is("/dev/full", 1, 7))
		expect_checks(&cg, c1, VS_ARRAY_SIZE(c1), "pure v2 mode");
	/* listing and cgroup.kill, with a sleeper in a sub-cgroup */
	pid_t a = sleeper();
	if (vs_cgroup_attach(&cg, a, &err) < 0)
		fail_msg("attach: %s", err.msg);
	/* the guest's view of it: only the payload */
	char mnt[] = "/tmp/vs-test-guestview-XXXXXX";
	assert_non_null(mkdtemp(mnt));
	pid_t v = fork();
	if (v == 0)
		_exit(guest_view_child(&cg, mnt));
	track(v);
	int vstatus;
	reaped(v, &vstatus);
	rmdir(mnt);
	if (!WIFEXITED(vstatus) || WEXITSTATUS(vstatus))
		fail_msg("guest view: step %d", WIFEXITED(vstatus) ? WEXITSTATUS(vstatus) : -1);
	attach_sub(&cg, "sub", a);
	assert_true(vs_cgroup_contains(&cg, a));
	pid_t *pids;
	size_t n;
	assert_int_equal(vs_cgroup_pids(&cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], a);
	free(pids);
	if (vs_cgroup_kill(&cg, 5000, &err) < 0)
		fail_msg("kill: %s", err.msg);
	int status;
	reaped(a, &status);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (vs_cgroup_destroy(&cg, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	assert_false(exists_abs(seen));
	assert_int_equal(vs_cgroup_remove_parent_if_empty(&S, v2mnt, &err), 0);
	expect_no_parent_left();
	vs_cgroup_free(&cg);
}

static int teardown_v2mnt(void **state)
{
	teardown_real(state);
	if (v2mnt[0]) {
		umount2(v2mnt, MNT_DETACH);
		rmdir(v2mnt);
		v2mnt[0] = 0;
	}
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define R(f) cmocka_unit_test_setup_teardown(f, setup_real, teardown_real)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_detect),
		T(test_detect_unified_only),
		T(test_create_v2),
		T(test_create_v2_new_parent),
		T(test_root_from_settings),
		T(test_create_hybrid),
		T(test_create_hybrid_comounted),
		T(test_create_existing),
		T(test_invalid_names),
		T(test_open),
		T(test_attach_and_pids),
		T(test_attach_v2),
		T(test_payload),
		T(test_payload_v2),
		T(test_payload_flat_memory_refused),
		T(test_kill_empty),
		T(test_destroy),
		T(test_remove_nested_parent),
		T(test_devices_v1_files),
		R(test_real_lifecycle),
		R(test_real_kill_freezer),
		R(test_real_kill_cgroup_kill),
		R(test_real_clone_after_cgroup_kill),
		R(test_real_devices_v1),
		R(test_real_devices_bpf),
		R(test_real_devices_both),
		cmocka_unit_test_setup_teardown(test_real_pure_v2_mode, setup_real, teardown_v2mnt),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
