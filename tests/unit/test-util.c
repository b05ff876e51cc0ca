/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/util.c: strict number parsing, escaping, string lists. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

/* ---- vs_parse_u64 ------------------------------------------------------- */

static void u64_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	errno = 0;
	int r = vs_parse_u64(s, &v);
	if (r != 0)
		print_error("vs_parse_u64(\"%s\") failed, expected %llu\n", s, (unsigned long long)want);
	assert_int_equal(r, 0);
	assert_true(v == want);
}

static void u64_bad(const char *s, int want_errno)
{
	uint64_t v = 777;
	errno = 0;
	int r = vs_parse_u64(s, &v);
	if (r != -1)
		print_error("vs_parse_u64(\"%s\") accepted (%llu)\n", s ? s : "(null)", (unsigned long long)v);
	assert_int_equal(r, -1);
	assert_int_equal(errno, want_errno);
	assert_true(v == 777); /* output untouched on failure */
}

static void test_u64_valid(void **state)
{
	(void)state;
	u64_ok("0", 0);
	u64_ok("1", 1);
	u64_ok("9", 9);
	u64_ok("10", 10);
	u64_ok("49151", 49151);
	u64_ok("4294967296", UINT64_C(4294967296));
	u64_ok("9223372036854775808", UINT64_C(9223372036854775808));
	u64_ok("18446744073709551615", UINT64_MAX);
}

static void test_u64_leading_zeros(void **state)
{
	(void)state;
	u64_bad("00", EINVAL);
	u64_bad("01", EINVAL);
	u64_bad("05", EINVAL);
	u64_bad("010", EINVAL);
	u64_bad("000000000000000000001", EINVAL);
}

static void test_u64_signs_spaces_garbage(void **state)
{
	(void)state;
	u64_bad("-1", EINVAL);
	u64_bad("-0", EINVAL);
	u64_bad("+5", EINVAL);
	u64_bad("+0", EINVAL);
	u64_bad(" 5", EINVAL);
	u64_bad("5 ", EINVAL);
	u64_bad("\t5", EINVAL);
	u64_bad("5\n", EINVAL);
	u64_bad("1 0", EINVAL);
	u64_bad("0x10", EINVAL);
	u64_bad("1e3", EINVAL);
	u64_bad("abc", EINVAL);
	u64_bad("12abc", EINVAL);
	u64_bad("1.0", EINVAL);
	u64_bad("inf", EINVAL);
	u64_bad("10M", EINVAL);
	u64_bad("\xd9\xa1", EINVAL); /* ARABIC-INDIC DIGIT ONE */
}

static void test_u64_empty_null(void **state)
{
	(void)state;
	u64_bad("", EINVAL);
	u64_bad(NULL, EINVAL);
}

static void test_u64_overflow(void **state)
{
	(void)state;
	u64_bad("18446744073709551616", ERANGE); /* 2^64 */
	u64_bad("18446744073709551620", ERANGE);
	u64_bad("18446744073709551625", ERANGE);
	u64_bad("99999999999999999999", ERANGE);
	u64_bad("184467440737095516150", ERANGE);
	u64_bad("1000000000000000000000000000000", ERANGE);
}

/* ---- vs_parse_i64 ------------------------------------------------------- */

static void i64_ok(const char *s, int64_t want)
{
	int64_t v = 12345;
	int r = vs_parse_i64(s, &v);
	if (r != 0)
		print_error("vs_parse_i64(\"%s\") failed, expected %lld\n", s, (long long)want);
	assert_int_equal(r, 0);
	assert_true(v == want);
}

static void i64_bad(const char *s, int want_errno)
{
	int64_t v = 777;
	errno = 0;
	int r = vs_parse_i64(s, &v);
	if (r != -1)
		print_error("vs_parse_i64(\"%s\") accepted (%lld)\n", s ? s : "(null)", (long long)v);
	assert_int_equal(r, -1);
	assert_int_equal(errno, want_errno);
	assert_true(v == 777);
}

static void test_i64_valid(void **state)
{
	(void)state;
	i64_ok("0", 0);
	i64_ok("5", 5);
	i64_ok("-5", -5);
	i64_ok("-20", -20);
	i64_ok("19", 19);
	i64_ok("9223372036854775807", INT64_MAX);
	i64_ok("-9223372036854775808", INT64_MIN);
}

static void test_i64_bad(void **state)
{
	(void)state;
	i64_bad("-0", EINVAL);
	i64_bad("-00", EINVAL);
	i64_bad("-05", EINVAL);
	i64_bad("05", EINVAL);
	i64_bad("+5", EINVAL);
	i64_bad("--5", EINVAL);
	i64_bad("-", EINVAL);
	i64_bad("", EINVAL);
	i64_bad(NULL, EINVAL);
	i64_bad(" -5", EINVAL);
	i64_bad("- 5", EINVAL);
	i64_bad("-5 ", EINVAL);
	i64_bad("0x10", EINVAL);
	i64_bad("1e3", EINVAL);
}

static void test_i64_overflow(void **state)
{
	(void)state;
	i64_bad("9223372036854775808", ERANGE);  /* INT64_MAX + 1 */
	i64_bad("-9223372036854775809", ERANGE); /* INT64_MIN - 1 */
	i64_bad("18446744073709551615", ERANGE);
	i64_bad("-18446744073709551615", ERANGE);
	i64_bad("18446744073709551616", ERANGE);
	i64_bad("-18446744073709551616", ERANGE);
}

/* ---- vs_escape ------------------------------------------------------------ */

static void escape_is(const char *in, const char *want)
{
	char *got = vs_escape(in);
	if (strcmp(got, want))
		print_error("vs_escape: got '%s', want '%s'\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_escape(void **state)
{
	(void)state;
	escape_is("", "");
	escape_is("plain text 123 ~!", "plain text 123 ~!");
	escape_is("a\nb", "a\\x0ab");
	escape_is("\t", "\\x09");
	escape_is("\r", "\\x0d");
	escape_is("\x1b[31mred", "\\x1b[31mred"); /* terminal escape sequence */
	escape_is("\x7f", "\\x7f");
	escape_is("\x01\x1f", "\\x01\\x1f");
	escape_is("back\\slash", "back\\\\slash");     /* backslash is escaped, so output is unambiguous */
	escape_is("\\x41", "\\\\x41");                  /* a literal "\x41" cannot pass for an escape */
}

static void test_escape_no_control_left(void **state)
{
	(void)state;
	char in[256];
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = 0;
	char *got = vs_escape(in);
	for (const unsigned char *p = (const unsigned char *)got; *p; p++)
		assert_false(*p < 0x20 || *p == 0x7f);
	free(got);
}

/* C1 control characters (0x80-0x9f) act like ESC sequences on terminals
 * that honour them: 0x9b is CSI.  Neither the raw byte nor its UTF-8
 * encoding U+009B (c2 9b) may reach the terminal unescaped. */
static void test_escape_c1(void **state)
{
	(void)state;
	static const char *const in[] = { "\x9b" "2J", "a\xc2\x9b" "31mred", "\x9d" "0;title\x9c", "\xc2\x85" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(in); i++) {
		char *got = vs_escape(in[i]);
		bool bad = false;
		for (const unsigned char *p = (const unsigned char *)got; *p; p++)
			bad |= *p >= 0x80 && *p <= 0x9f; /* none of these inputs has another use for such a byte */
		if (bad)
			print_error("vs_escape(input %zu) left a C1 control byte in the output\n", i);
		free(got);
		assert_false(bad);
	}
}

/* ---- string lists and helpers -------------------------------------------- */

static void test_strv(void **state)
{
	(void)state;
	vs_strv l = { 0 };
	assert_false(vs_strv_contains(&l, "a"));
	for (int i = 0; i < 100; i++) {
		char b[16];
		snprintf(b, sizeof b, "item%d", i);
		vs_strv_push(&l, b);
	}
	vs_strv_push_take(&l, vs_strdup("taken"));
	assert_int_equal(l.n, 101);
	assert_null(l.v[l.n]); /* NULL-terminated */
	assert_string_equal(l.v[0], "item0");
	assert_string_equal(l.v[99], "item99");
	assert_true(vs_strv_contains(&l, "item42"));
	assert_true(vs_strv_contains(&l, "taken"));
	assert_false(vs_strv_contains(&l, "item100"));
	qsort(l.v, l.n, sizeof *l.v, vs_strv_cmp);
	assert_string_equal(l.v[0], "item0");
	assert_string_equal(l.v[1], "item1");
	assert_string_equal(l.v[2], "item10");
	vs_strv_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	vs_strv_free(&l); /* idempotent */
}

static void test_str_helpers(void **state)
{
	(void)state;
	assert_true(vs_str_startswith("interfaces/0/ip", "interfaces/"));
	assert_false(vs_str_startswith("inter", "interfaces/"));
	assert_true(vs_str_startswith("x", ""));
	assert_true(vs_str_endswith("file.rpmnew", ".rpmnew"));
	assert_false(vs_str_endswith("new", ".rpmnew"));
	assert_true(vs_str_endswith("x", ""));
	char *s = vs_asprintf("%s-%d", "a", 5);
	assert_string_equal(s, "a-5");
	free(s);
	s = vs_strdup(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_err(void **state)
{
	(void)state;
	vs_err e;
	assert_int_equal(vs_fail(&e, VS_E_INVALID, 0, "bad %s", "value"), -1);
	assert_int_equal(e.kind, VS_E_INVALID);
	assert_string_equal(e.msg, "bad value");
	assert_int_equal(vs_fail(&e, VS_E_SYSTEM, ENOENT, "open %s", "x"), -1);
	assert_int_equal(e.errnum, ENOENT);
	assert_non_null(strstr(e.msg, "open x"));
	assert_non_null(strstr(e.msg, strerror(ENOENT)));
}

/* vs_run_host: status, stderr kept (joined, bounded, drained), stdout
 * discarded, a program that cannot be run */
static void test_run_host(void **state)
{
	(void)state;
	char msg[64];
	vs_err e = { 0 };
	char *a1[] = { "sh", "-c", "echo out; printf 'first\\nsecond\\n' >&2; exit 3", NULL };
	assert_int_equal(vs_run_host("/bin/sh", a1, NULL, msg, sizeof msg, &e), 3);
	assert_string_equal(msg, "first second");
	/* 1 MiB on stderr: kept up to the buffer, the rest drained (no hang) */
	char *a2[] = { "sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x >&2; exit 0", NULL };
	assert_int_equal(vs_run_host("/bin/sh", a2, NULL, msg, sizeof msg, &e), 0);
	assert_int_equal(strlen(msg), sizeof msg - 1);
	char *env[] = { "VSTEST=1", NULL };
	char *a3[] = { "sh", "-c", "test \"$VSTEST\" = 1 && kill -TERM $$", NULL };
	assert_int_equal(vs_run_host("/bin/sh", a3, env, msg, sizeof msg, &e), 128 + 15);
	/* a caller's blocked and ignored signals do not reach the program */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	void (*oldint)(int) = signal(SIGINT, SIG_IGN);
	char *a5[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
	assert_int_equal(vs_run_host("/bin/sh", a5, NULL, msg, sizeof msg, &e), 128 + 15);
	char *a6[] = { "sh", "-c", "grep -q '^SigIgn:.*0000000000000000$' /proc/self/status || exit 7", NULL };
	assert_int_equal(vs_run_host("/bin/sh", a6, NULL, msg, sizeof msg, &e), 0);
	signal(SIGINT, oldint);
	sigprocmask(SIG_SETMASK, &old, NULL);
	char *a4[] = { "nothing", NULL };
	assert_int_equal(vs_run_host("/nonexistent/nothing", a4, NULL, msg, sizeof msg, &e), 127);
	assert_non_null(strstr(msg, "cannot run /nonexistent/nothing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_valid),
		cmocka_unit_test(test_u64_leading_zeros),
		cmocka_unit_test(test_u64_signs_spaces_garbage),
		cmocka_unit_test(test_u64_empty_null),
		cmocka_unit_test(test_u64_overflow),
		cmocka_unit_test(test_i64_valid),
		cmocka_unit_test(test_i64_bad),
		cmocka_unit_test(test_i64_overflow),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_no_control_left),
		cmocka_unit_test(test_escape_c1),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_str_helpers),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_run_host),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
