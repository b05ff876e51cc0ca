/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/safeio.c: no escape from a guest root, bounded reads
 * of regular files only, atomic writes that never follow the old name,
 * recursive removal that never follows a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "safeio.h"
#include "util.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];
static int tfd = -1;      /* tmpdir */
static int rootfd = -1;   /* tmpdir/root: a "guest root" */

/* Helpers working relative to tmpdir. */
static void mk(const char *rel)
{
	if (mkdirat(tfd, rel, 0755) < 0)
		fail_msg("mkdir %s: %s", rel, strerror(errno));
}

static void wr(const char *rel, const char *data)
{
	int fd = openat(tfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", rel, strerror(errno));
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n)
		fail_msg("write %s", rel);
	close(fd);
}

static void ln(const char *target, const char *rel)
{
	if (symlinkat(target, tfd, rel) < 0)
		fail_msg("symlink %s: %s", rel, strerror(errno));
}

static char *abs_path(const char *rel)
{
	return vs_asprintf("%s/%s", tmpdir, rel);
}

static char *slurp_fd(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	return vs_strdup(buf);
}

static char *slurp(const char *rel)
{
	int fd = openat(tfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *r = slurp_fd(fd);
	close(fd);
	return r;
}

static int exists(const char *rel)
{
	struct stat st;
	return fstatat(tfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int setup(void **state)
{
	(void)state;
	if (vs_test_mkdtemp(tmpdir, sizeof tmpdir, "safeio") < 0)
		return -1;
	tfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0 || mkdirat(tfd, "root", 0755) < 0 || mkdirat(tfd, "outside", 0755) < 0)
		return -1;
	rootfd = openat(tfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	/* the host side, which nothing may reach through the root */
	wr("outside/secret", "host secret\n");
	/* the guest side */
	mk("root/etc");
	wr("root/etc/passwd", "guest passwd\n");
	wr("root/etc/marker", "inside\n");
	alarm(20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	close(rootfd);
	close(tfd);
	rootfd = tfd = -1;
	return vs_test_rmtree(tmpdir);
}

/* ---- vs_openat_in_root ------------------------------------------------- */

/* Open inside the root and return the content, NULL if refused. */
static char *read_in_root(const char *path, int extra_flags)
{
	vs_err err = { 0 };
	int fd = vs_openat_in_root(rootfd, path, O_RDONLY | extra_flags, 0, &err);
	if (fd < 0)
		return NULL;
	char *r = slurp_fd(fd);
	close(fd);
	return r;
}

static void expect_in_root(const char *path, const char *want)
{
	char *got = read_in_root(path, 0);
	if (!got || strcmp(got, want))
		print_error("open '%s' in root: got %s%s%s, want '%s'\n", path, got ? "'" : "", got ? got : "(refused)",
			    got ? "'" : "", want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void expect_refused_in_root(const char *path)
{
	char *got = read_in_root(path, 0);
	if (got)
		print_error("open '%s' in root returned '%s'\n", path, got);
	assert_null(got);
}

static void test_openat_in_root_absolute_symlink(void **state)
{
	(void)state;
	ln("/etc", "root/etclink");            /* absolute, resolves inside the root */
	ln("/etc/passwd", "root/pw");
	char *host = abs_path("outside/secret");
	ln(host, "root/esc");                  /* absolute path of a host file */
	free(host);
	ln("../outside/secret", "root/esc-rel"); /* relative escape */
	ln("../../../../../../../../etc/passwd", "root/deep");

	expect_in_root("etc/marker", "inside\n");
	expect_in_root("/etc/marker", "inside\n");
	expect_in_root("etclink/marker", "inside\n");
	expect_in_root("pw", "guest passwd\n");
	expect_in_root("/pw", "guest passwd\n");
	expect_in_root("deep", "guest passwd\n");
	expect_in_root("../../../../etc/passwd", "guest passwd\n");
	expect_in_root("etc/../../etc/passwd", "guest passwd\n");
	expect_refused_in_root("esc");
	expect_refused_in_root("esc-rel");
	expect_refused_in_root("../outside/secret");
	/* magic links cannot be used to get out either */
	ln("/proc/self/root/etc/passwd", "root/magic");
	expect_refused_in_root("magic");

	/* O_NOFOLLOW applies to the last component */
	char *got = read_in_root("pw", O_NOFOLLOW);
	assert_null(got);
	/* the root itself */
	vs_err err;
	int fd = vs_openat_in_root(rootfd, "/", O_RDONLY | O_DIRECTORY, 0, &err);
	assert_true(fd >= 0);
	struct stat a, b;
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(rootfd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
}

static void test_openat_in_root_create(void **state)
{
	(void)state;
	char *host = abs_path("outside");
	ln(host, "root/hostdir");
	free(host);
	vs_err err;
	int fd = vs_openat_in_root(rootfd, "hostdir/new", O_WRONLY | O_CREAT | O_EXCL, 0644, &err);
	if (fd >= 0)
		close(fd);
	assert_false(exists("outside/new"));
	/* a plain create inside works */
	fd = vs_openat_in_root(rootfd, "etc/new", O_WRONLY | O_CREAT | O_EXCL, 0600, &err);
	assert_true(fd >= 0);
	close(fd);
	struct stat st;
	assert_int_equal(fstatat(tfd, "root/etc/new", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_mkdir_p_in_root(void **state)
{
	(void)state;
	mk("root/sub");
	ln("/sub", "root/d");                    /* absolute: root/sub */
	char *host = abs_path("outside");
	ln(host, "root/hostdir");                /* absolute host path */
	free(host);
	ln("../outside", "root/hostrel");
	vs_err err = { 0 };
	if (vs_mkdir_p_in_root(rootfd, "d/x/y", 0755, &err) < 0)
		print_error("mkdir_p d/x/y: %s\n", err.msg);
	assert_true(exists("root/sub/x/y"));
	(void)vs_mkdir_p_in_root(rootfd, "hostdir/x", 0755, &err);
	(void)vs_mkdir_p_in_root(rootfd, "hostrel/y", 0755, &err);
	assert_false(exists("outside/x"));
	assert_false(exists("outside/y"));
	assert_int_equal(vs_mkdir_p_in_root(rootfd, "a/../../b", 0755, &err), -1);
	assert_false(exists("b"));
	assert_int_equal(vs_mkdir_p_in_root(rootfd, "/usr/local/lib/", 0755, &err), 0);
	assert_true(exists("root/usr/local/lib"));

	const char *base = NULL;
	int fd = vs_open_parent_in_root(rootfd, "var/lib/x/file", true, &base, &err);
	assert_true(fd >= 0);
	assert_string_equal(base, "file");
	close(fd);
	assert_true(exists("root/var/lib/x"));
	assert_int_equal(vs_open_parent_in_root(rootfd, "var/..", true, &base, &err), -1);
	assert_int_equal(vs_open_parent_in_root(rootfd, "var/", true, &base, &err), -1);
	fd = vs_open_parent_in_root(rootfd, "hostdir/file", false, &base, &err);
	if (fd >= 0) {
		/* whatever it opened must be inside the root */
		struct stat a, b;
		assert_int_equal(fstat(fd, &a), 0);
		assert_int_equal(fstatat(tfd, "outside", &b, 0), 0);
		assert_false(a.st_ino == b.st_ino);
		close(fd);
	}
}

/* The fallback used when openat2 is missing (kernels before 5.6): run
 * vs_openat_in_root in a child where openat2 fails with ENOSYS. */
static int deny_openat2(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)VS_ARRAY_SIZE(f), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void test_openat_in_root_fallback(void **state)
{
	(void)state;
	ln("/etc", "root/etclink");
	char *host = abs_path("outside/secret");
	ln(host, "root/esc");
	free(host);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad = 0;
		if (deny_openat2() < 0)
			_exit(100);
		if (syscall(__NR_openat2, AT_FDCWD, ".", NULL, 0) != -1 || errno != ENOSYS)
			_exit(101);
		vs_err err = { 0 };
		char *s = NULL;
		int fd = vs_openat_in_root(rootfd, "etc/marker", O_RDONLY, 0, &err);
		if (fd >= 0) {
			s = slurp_fd(fd);
			close(fd);
		}
		if (!s || strcmp(s, "inside\n")) {
			fprintf(stderr, "fallback: etc/marker: %s\n", s ? s : err.msg);
			bad |= 1;
		}
		free(s);
		fd = vs_openat_in_root(rootfd, "etc", O_RDONLY | O_DIRECTORY, 0, &err);
		if (fd < 0) {
			fprintf(stderr, "fallback: etc (dir): %s\n", err.msg);
			bad |= 2;
		} else
			close(fd);
		if ((s = read_in_root("esc", 0))) {
			fprintf(stderr, "fallback: esc opened: %s\n", s);
			bad |= 4;
			free(s);
		}
		if ((s = read_in_root("../outside/secret", 0))) {
			fprintf(stderr, "fallback: ../outside/secret opened\n");
			bad |= 8;
			free(s);
		}
		if ((s = read_in_root("etclink/marker", 0))) { /* links are refused, never followed out */
			if (strcmp(s, "inside\n"))
				bad |= 16;
			free(s);
		}
		fd = vs_openat_in_root(rootfd, "/", O_RDONLY | O_DIRECTORY, 0, &err);
		if (fd < 0) {
			fprintf(stderr, "fallback: '/': %s\n", err.msg);
			bad |= 32;
		} else
			close(fd);
		_exit(bad);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 100 || WEXITSTATUS(st) == 101)
		skip(); /* seccomp not available here */
	if (WEXITSTATUS(st))
		print_error("fallback path failed checks, mask 0x%x\n", WEXITSTATUS(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- vs_read_file_at ------------------------------------------------------ */

static void test_read_file_regular(void **state)
{
	(void)state;
	wr("f", "hello\n");
	char *data = NULL;
	size_t len = 0;
	vs_err err = { 0 };
	assert_int_equal(vs_read_file_at(tfd, "f", 64, &data, &len, &err), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "hello\n");
	free(data);
	/* len may be NULL */
	assert_int_equal(vs_read_file_at(tfd, "f", 6, &data, NULL, &err), 0);
	free(data);
	/* one byte too many */
	data = NULL;
	assert_int_equal(vs_read_file_at(tfd, "f", 5, &data, &len, &err), -1);
	assert_null(data);
	assert_non_null(strstr(err.msg, "too large"));
	/* empty */
	wr("e", "");
	assert_int_equal(vs_read_file_at(tfd, "e", 0, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	/* missing */
	data = NULL;
	assert_int_equal(vs_read_file_at(tfd, "missing", 64, &data, &len, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_null(data);
}

static void read_refused(const char *rel, const char *frag)
{
	char *data = NULL;
	size_t len = 0;
	vs_err err = { 0 };
	int r = vs_read_file_at(tfd, rel, 1024, &data, &len, &err);
	if (r != -1)
		print_error("%s was read: '%s'\n", rel, data);
	assert_int_equal(r, -1);
	assert_null(data);
	if (!strstr(err.msg, frag))
		print_error("%s: message '%s' lacks '%s'\n", rel, err.msg, frag);
	assert_non_null(strstr(err.msg, frag));
}

static void test_read_file_refuses(void **state)
{
	(void)state;
	assert_int_equal(mkfifoat(tfd, "fifo", 0600), 0);
	read_refused("fifo", "FIFO"); /* must not block: no writer */
	mk("dir");
	read_refused("dir", "directory");
	wr("target", "x\n");
	ln("target", "link");
	read_refused("link", "symbolic link");
	ln("/dev/zero", "zero");
	read_refused("zero", "symbolic link");
	char *p = abs_path("outside/secret");
	ln(p, "hostlink");
	free(p);
	read_refused("hostlink", "symbolic link");
	/* a device node reached directly */
	char *data = NULL;
	vs_err err;
	assert_int_equal(vs_read_file_at(AT_FDCWD, "/dev/zero", 1024, &data, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "device"));
	assert_int_equal(vs_read_file_at(AT_FDCWD, "/dev/null", 1024, &data, NULL, &err), -1);
	/* a FIFO with a writer that never stops */
	assert_int_equal(mkfifoat(tfd, "fifo2", 0600), 0);
	p = abs_path("fifo2");
	int w = open(p, O_RDWR | O_NONBLOCK); /* keeps a writer end open */
	free(p);
	assert_true(w >= 0);
	read_refused("fifo2", "FIFO");
	close(w);
}

/* ---- vs_write_file_atomic_at ---------------------------------------------- */

static int count_entries(const char *rel)
{
	int fd = openat(tfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic_replaces_symlink(void **state)
{
	(void)state;
	mk("w");
	int wfd = openat(tfd, "w", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *host = abs_path("outside/secret");
	ln(host, "w/conf");
	free(host);
	vs_err err = { 0 };
	assert_int_equal(vs_write_file_atomic_at(wfd, "conf", "new\n", 4, 0640, &err), 0);
	char *s = slurp("outside/secret");
	assert_string_equal(s, "host secret\n"); /* not followed */
	free(s);
	struct stat st;
	assert_int_equal(fstatat(tfd, "w/conf", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	s = slurp("w/conf");
	assert_string_equal(s, "new\n");
	free(s);

	/* a dangling symlink is replaced, its target not created */
	ln("../outside/created", "w/dangling");
	assert_int_equal(vs_write_file_atomic_at(wfd, "dangling", "x", 1, 0644, &err), 0);
	assert_false(exists("outside/created"));

	/* a FIFO is replaced without being opened */
	assert_int_equal(mkfifoat(wfd, "fifo", 0600), 0);
	assert_int_equal(vs_write_file_atomic_at(wfd, "fifo", "y\n", 2, 0600, &err), 0);
	assert_int_equal(fstatat(wfd, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));

	/* overwrite, empty content */
	assert_int_equal(vs_write_file_atomic_at(wfd, "conf", "", 0, 0644, &err), 0);
	assert_int_equal(fstatat(wfd, "conf", &st, 0), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* no temporary files left behind */
	assert_int_equal(count_entries("w"), 3);

	/* a directory in the way: error, directory kept */
	assert_int_equal(mkdirat(wfd, "adir", 0755), 0);
	assert_int_equal(vs_write_file_atomic_at(wfd, "adir", "z", 1, 0644, &err), -1);
	assert_int_equal(fstatat(wfd, "adir", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_entries("w"), 4);
	close(wfd);
}

static void test_write_atomic_owned_and_path(void **state)
{
	(void)state;
	vs_err err = { 0 };
	mk("o");
	int ofd = openat(tfd, "o", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = vs_write_file_atomic_owned(ofd, "f", "abc", 3, 0600, 1234, 5678, &err);
	if (geteuid() == 0) {
		assert_int_equal(r, 0);
		struct stat st;
		assert_int_equal(fstatat(ofd, "f", &st, 0), 0);
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 5678);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	close(ofd);
	char *p = abs_path("o/g");
	assert_int_equal(vs_write_file_atomic(p, "data\n", 5, 0644, &err), 0);
	free(p);
	char *s = slurp("o/g");
	assert_string_equal(s, "data\n");
	free(s);
	p = abs_path("nonexistent-dir/g");
	assert_int_equal(vs_write_file_atomic(p, "data\n", 5, 0644, &err), -1);
	free(p);
}

/* the temporary names of the atomic writes, and only those */
static void test_atomic_temp_name(void **state)
{
	(void)state;
	assert_true(vs_atomic_temp_name(".stopping.0123abcd~"));
	assert_true(vs_atomic_temp_name(".s.ffffffff~"));
	const char *no[] = { "stopping", ".stopping", ".stopping~", ".stopping.0123abc~", ".stopping.0123abcde~",
			     ".stopping.0123ABCD~", "stopping.0123abcd~", ".stopping.0123abcd", "..0123abcd~", "" };
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(vs_atomic_temp_name(no[i]));
}

/* ---- vs_rm_rf_at ------------------------------------------------------------ */

static void test_rm_rf_no_follow(void **state)
{
	(void)state;
	mk("outside/keep");
	wr("outside/keep/file", "keep\n");
	mk("victim");
	mk("victim/sub");
	mk("victim/sub/deeper");
	wr("victim/sub/deeper/f", "x");
	wr("victim/file", "x");
	char *host = abs_path("outside/keep");
	ln(host, "victim/abs-dir-link");
	ln(host, "victim/sub/abs-dir-link");
	free(host);
	ln("../outside/keep", "victim/rel-dir-link");
	ln("../outside/secret", "victim/file-link");
	ln("/", "victim/rootlink");
	assert_int_equal(mkfifoat(tfd, "victim/fifo", 0600), 0);
	vs_err err = { 0 };
	if (vs_rm_rf_at(tfd, "victim", &err) < 0)
		print_error("rm_rf: %s\n", err.msg);
	assert_false(exists("victim"));
	assert_true(exists("outside/keep/file"));
	assert_true(exists("outside/secret"));

	/* the top-level name itself a symlink to a directory */
	host = abs_path("outside/keep");
	ln(host, "toplink");
	free(host);
	assert_int_equal(vs_rm_rf_at(tfd, "toplink", &err), 0);
	assert_false(exists("toplink"));
	assert_true(exists("outside/keep/file"));

	/* missing is fine, a plain file is removed */
	assert_int_equal(vs_rm_rf_at(tfd, "nothing-here", &err), 0);
	wr("plain", "x");
	assert_int_equal(vs_rm_rf_at(tfd, "plain", &err), 0);
	assert_false(exists("plain"));
}

static void test_rm_rf_deep(void **state)
{
	(void)state;
	char path[4096] = "deep";
	mk(path);
	for (int i = 0; i < 60; i++) {
		strcat(path, "/d");
		mk(path);
	}
	strcat(path, "/f");
	wr(path, "x");
	vs_err err = { 0 };
	assert_int_equal(vs_rm_rf_at(tfd, "deep", &err), 0);
	assert_false(exists("deep"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_openat_in_root_absolute_symlink),
		T(test_openat_in_root_create),
		T(test_mkdir_p_in_root),
		T(test_openat_in_root_fallback),
		T(test_read_file_regular),
		T(test_read_file_refuses),
		T(test_write_atomic_replaces_symlink),
		T(test_write_atomic_owned_and_path),
		T(test_atomic_temp_name),
		T(test_rm_rf_no_follow),
		T(test_rm_rf_deep),
	};
	return cmocka_run_group_tests_name("safeio", tests, NULL, NULL);
}
