/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/stat.c: the vserver-stat number formats (reference
 * section 5.1, every branch), whole lines, /proc parsing with hostile
 * process names, and the vps column helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stat.h"
#include "util.h"

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)
#define SEC 1000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* ---- shortenMem ------------------------------------------------------------- */

static void mem_is(uint64_t bytes, const char *want)
{
	char buf[VS_STAT_MEM_BUF];
	memset(buf, 'X', sizeof buf);
	vs_stat_mem(bytes, buf);
	if (strcmp(buf, want))
		print_error("vs_stat_mem(%llu) = \"%s\", expected \"%s\"\n", (unsigned long long)bytes, buf, want);
	assert_string_equal(buf, want);
	assert_int_equal(strlen(buf), 7);
}

static void test_mem_bytes(void **state)
{
	(void)state;
	mem_is(0, "     0 ");
	mem_is(1, "     1 ");
	mem_is(512, "   512 ");
	mem_is(999, "   999 ");
}

static void test_mem_kib(void **state)
{
	(void)state;
	/* 1000..1023 bytes are already divided: 0.9K */
	mem_is(1000, "   0.9K");
	mem_is(KiB, "     1K");
	mem_is(KiB + 512, "   1.5K");
	mem_is(KiB + 1023, "   1.9K"); /* the decimal is truncated, not rounded */
	mem_is(10 * KiB + 102, "    10K"); /* 10.0996: a 0 decimal is not shown */
	mem_is(999 * KiB, "   999K");
	mem_is(999 * KiB + 1023, " 999.9K");
}

static void test_mem_mib_gib_tib(void **state)
{
	(void)state;
	mem_is(1000 * KiB, "   0.9M");
	mem_is(9 * MiB, "     9M");
	mem_is(61 * MiB + 512 * KiB, "  61.5M");
	mem_is(75 * MiB, "    75M");
	mem_is(398 * MiB, "   398M");
	mem_is(412 * MiB, "   412M");
	mem_is(64 * MiB, "    64M");
	mem_is(GiB, "     1G");
	mem_is(2 * GiB + 256 * MiB, "   2.2G");
	mem_is(999 * GiB, "   999G");
	mem_is(TiB, "     1T");
	mem_is(3 * TiB + 717 * GiB, "   3.7T");
}

static void test_mem_cap(void **state)
{
	(void)state;
	/* no suffix beyond T: the decimal goes at 1000, the value stops at 9999 */
	mem_is(1000 * TiB, "  1000T");
	mem_is(1000 * TiB + 900 * GiB, "  1000T");
	mem_is(9999 * TiB, "  9999T");
	mem_is(10000 * TiB, "  9999T");
	mem_is(UINT64_MAX, "  9999T");
}

/* ---- shortenTime ------------------------------------------------------------ */

static void time_is(uint64_t ms, const char *want)
{
	char buf[VS_STAT_TIME_BUF];
	vs_stat_time(ms, buf);
	if (strcmp(buf, want))
		print_error("vs_stat_time(%llu) = \"%s\", expected \"%s\"\n", (unsigned long long)ms, buf, want);
	assert_string_equal(buf, want);
}

static void test_time_under_an_hour(void **state)
{
	(void)state;
	time_is(0, "  0m00s00 ");
	time_is(5, "  0m00s05 ");     /* 5 ms: "05" */
	time_is(50, "  0m00s50 ");
	time_is(123, "  0m00s12 ");   /* CC: the first two digits of the ms value */
	time_is(1230, "  0m01s23 ");
	time_is(560, "  0m00s56 ");
	time_is(3 * MIN + 40 * SEC + 320, "  3m40s32 ");
	time_is(59 * MIN + 7 * SEC + 250, " 59m07s25 ");
	time_is(HOUR - 1, " 59m59s99 ");
}

static void test_time_under_a_day(void **state)
{
	(void)state;
	time_is(HOUR, "  1h00m00 ");
	time_is(HOUR + 2 * MIN + 3 * SEC + 999, "  1h02m03 ");
	time_is(18 * HOUR + 51 * MIN + 33 * SEC, " 18h51m33 ");
	time_is(DAY - 1, " 23h59m59 ");
}

static void test_time_days(void **state)
{
	(void)state;
	time_is(DAY, "  1d00h00 ");
	time_is(3 * DAY + 4 * HOUR + 5 * MIN + 59 * SEC, "  3d04h05 ");
	time_is(999 * DAY + 23 * HOUR + 59 * MIN, "999d23h59 ");
	time_is(1000 * DAY - 1, "999d23h59 ");
}

static void test_time_thousand_days(void **state)
{
	(void)state;
	/* 1000 days or more: years of 365 days, day of the year, hours */
	time_is(1000 * DAY, " 2y270d00 ");
	time_is(1000 * DAY + 7 * HOUR, " 2y270d07 ");
	time_is(5 * 365 * DAY + 3 * HOUR, "  5y00d03 ");
	time_is(3 * 365 * DAY + 9 * DAY + 23 * HOUR, "  3y09d23 ");
	time_is(99 * 365 * DAY + 364 * DAY, "99y364d00 ");
	/* beyond 999*999 days */
	time_is((999ULL * 999 + 1) * DAY, "  INVALID ");
	time_is(UINT64_MAX, "  INVALID ");
}

/* ---- whole lines ------------------------------------------------------------ */

static void line_is(const struct vs_stat_entry *e, const char *want)
{
	char *l = vs_stat_line(e);
	if (strcmp(l, want))
		print_error("line\n  \"%s\"\nexpected\n  \"%s\"\n", l, want);
	assert_string_equal(l, want);
	free(l);
}

static void test_reference_example(void **state)
{
	(void)state;
	/* reference section 5.1, the example output */
	assert_string_equal(VS_STAT_HEADER, "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME");
	struct vs_stat_entry host = {
		.context = 0, .name = "root server", .nprocs = 112,
		.vsz = 2 * GiB + 256 * MiB, .rss = 412 * MiB,
		.utime_ms = 3 * MIN + 40 * SEC + 320, .stime_ms = MIN + 27 * SEC + 600,
		.uptime_ms = 18 * HOUR + 51 * MIN + 33 * SEC + 400,
	};
	line_is(&host, "0      112   2.2G   412M  3m40s32   1m27s60  18h51m33  root server");
	struct vs_stat_entry web1 = {
		.context = 40001, .guest = "web1", .name = "web1", .nprocs = 23,
		.vsz = 398 * MiB, .rss = 61 * MiB + 512 * KiB,
		.utime_ms = HOUR + 2 * MIN + 3 * SEC, .stime_ms = MIN + 35 * SEC + 120,
		.uptime_ms = 3 * DAY + 4 * HOUR + 5 * MIN,
	};
	line_is(&web1, "40001   23   398M  61.5M  1h02m03   1m35s12   3d04h05  web1");
	struct vs_stat_entry mail = {
		.context = 40002, .guest = "mail", .name = "mail", .nprocs = 5,
		.vsz = 75 * MiB, .rss = 9 * MiB,
		.utime_ms = 1230, .stime_ms = 560, .uptime_ms = 59 * MIN + 7 * SEC + 250,
	};
	line_is(&mail, "40002    5    75M     9M  0m01s23   0m00s56  59m07s25  mail");
}

static void test_line_columns(void **state)
{
	(void)state;
	/* PROC right-aligned to column 10, NAME at column 55 */
	struct vs_stat_entry e = { .context = 2, .name = "x", .nprocs = 1 };
	char *l = vs_stat_line(&e);
	assert_int_equal(strlen(l), 56);
	assert_int_equal(l[9], '1');
	assert_int_equal(l[55], 'x');
	free(l);
	/* a huge count still leaves a blank after the context */
	e.context = 49151;
	e.nprocs = 123456;
	l = vs_stat_line(&e);
	assert_true(!strncmp(l, "49151 123456", 12));
	free(l);
}

static void test_line_name_cut_and_escaped(void **state)
{
	(void)state;
	struct vs_stat_entry e = { .context = 40000, .name = "abcdefghijklmnopqrstuvwxyz" };
	char *l = vs_stat_line(&e);
	assert_string_equal(l + 55, "abcdefghijklmnopqrst");
	free(l);
	/* control characters never reach the terminal */
	e.name = "a\033]0;pwned\a";
	l = vs_stat_line(&e);
	assert_null(strchr(l, '\033'));
	assert_null(strchr(l, '\a'));
	assert_string_equal(l + 55, "a\\x1b]0;pwned\\x07");
	free(l);
	/* cut on a character boundary: 19 bytes + a 2-byte character */
	e.name = "abcdefghijklmnopqrs\xc3\xa9z";
	l = vs_stat_line(&e);
	assert_string_equal(l + 55, "abcdefghijklmnopqrs");
	free(l);
}

/* ---- /proc parsing ------------------------------------------------------------ */

static void test_parse_proc(void **state)
{
	(void)state;
	struct vs_proc_stat ps;
	const char *real = "23850 (cat) R 23848 23848 356 0 -1 4194304 99 0 0 0 7 3 11 13 20 0 1 0 471258 3133440 361 "
			   "18446744073709551615 94860656812032 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
	assert_int_equal(vs_stat_parse_proc(real, &ps), 0);
	assert_int_equal(ps.state, 'R');
	assert_int_equal(ps.utime, 7);
	assert_int_equal(ps.stime, 3);
	assert_int_equal(ps.cutime, 11);
	assert_int_equal(ps.cstime, 13);
	assert_int_equal(ps.starttime, 471258);
	assert_int_equal(ps.vsize, 3133440);
	assert_int_equal(ps.rss, 361);
}

static void test_parse_proc_hostile_comm(void **state)
{
	(void)state;
	struct vs_proc_stat ps;
	/* a comm that looks like fields and holds ')' and a newline: only
	 * what follows the last ')' counts */
	const char *evil = "77 (x) S 1 2 3 4 5 6 7 8 9 10 999 999 999 999 1 1 1 1 1 1 1\n) Z 1 1 1 0 -1 0 0 0 0 0 "
			   "100 200 -5 300 20 0 1 0 4242 65536 -3 0 0 0\n";
	assert_int_equal(vs_stat_parse_proc(evil, &ps), 0);
	assert_int_equal(ps.state, 'Z');
	assert_int_equal(ps.utime, 100);
	assert_int_equal(ps.stime, 200);
	assert_int_equal(ps.cutime, 0); /* negative: 0 */
	assert_int_equal(ps.cstime, 300);
	assert_int_equal(ps.starttime, 4242);
	assert_int_equal(ps.vsize, 65536);
	assert_int_equal(ps.rss, 0);
	/* malformed */
	assert_int_equal(vs_stat_parse_proc("", &ps), -1);
	assert_int_equal(vs_stat_parse_proc("1 (x", &ps), -1);
	assert_int_equal(vs_stat_parse_proc("1 (x) S 1 2 3", &ps), -1);
	assert_int_equal(vs_stat_parse_proc("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12x 13 14 15 16 17 18 19 20 21", &ps), -1);
}

static void test_parse_nspid(void **state)
{
	(void)state;
	pid_t v[4];
	assert_int_equal(vs_stat_parse_nspid("Name:\tx\nNSpid:\t4567\t1\nNSpgid:\t1\n", v, 4), 2);
	assert_int_equal(v[0], 4567);
	assert_int_equal(v[1], 1);
	assert_int_equal(vs_stat_parse_nspid("NSpid:\t99\n", v, 4), 1);
	assert_int_equal(v[0], 99);
	assert_int_equal(vs_stat_parse_nspid("Name:\tNSpid:\t5\nPid:\t3\n", v, 4), 0);
	assert_int_equal(vs_stat_parse_nspid("NSpid:\t1\t2\t3\t4\t5\t6\n", v, 4), 4);
}

/* ---- vps ---------------------------------------------------------------------- */

static void test_vps_header(void **state)
{
	(void)state;
	assert_int_equal(vs_vps_header_pos("USER       PID %CPU %MEM"), 14);
	assert_int_equal(vs_vps_header_pos("    PID TTY          TIME CMD"), 7);
	/* PPID, PGID, SPID, TPGID are not PID */
	assert_int_equal(vs_vps_header_pos("UID        PPID   PID  C"), 21);
	assert_int_equal(vs_vps_header_pos("  PPID  PGID COMMAND"), -1);
	assert_int_equal(vs_vps_header_pos("COMMAND           PID"), 21);
	assert_int_equal(vs_vps_header_pos(""), -1);
}

static void test_vps_rows(void **state)
{
	(void)state;
	pid_t pid = 0;
	assert_int_equal(vs_vps_row_pid("root         1  0.0", 14, &pid), 14);
	assert_int_equal(pid, 1);
	assert_int_equal(vs_vps_row_pid("root      2301  0.0", 14, &pid), 14);
	assert_int_equal(pid, 2301);
	/* a pid wider than the column */
	assert_int_equal(vs_vps_row_pid("root   12345678 0.0", 14, &pid), 15);
	assert_int_equal(pid, 12345678);
	/* no number there */
	assert_int_equal(vs_vps_row_pid("root         x  0.0", 14, &pid), -1);
	assert_int_equal(vs_vps_row_pid("short", 14, &pid), -1);
	assert_int_equal(vs_vps_row_pid("root        a1  0.0", 14, &pid), -1);
	assert_int_equal(vs_vps_row_pid("COMMAND           123", 21, &pid), 21);
	assert_int_equal(pid, 123);
}

static void test_vps_cells(void **state)
{
	(void)state;
	char *c = vs_vps_cell(0, NULL, true);
	assert_string_equal(c, " CONTEXT            ");
	assert_int_equal(strlen(c), VS_VPS_CELL);
	free(c);
	c = vs_vps_cell(0, "MAIN", false);
	assert_string_equal(c, "     0 MAIN         ");
	assert_int_equal(strlen(c), VS_VPS_CELL);
	free(c);
	c = vs_vps_cell(40001, "web1", false);
	assert_string_equal(c, " 40001 web1         ");
	free(c);
	/* the reference example row */
	char *row = vs_asprintf("root         1%s%s", (c = vs_vps_cell(0, "MAIN", false)), "  0.0  0.0   2144");
	assert_string_equal(row, "root         1     0 MAIN           0.0  0.0   2144");
	free(row);
	free(c);
}

static void test_vps_escape(void **state)
{
	(void)state;
	char *s = vs_vps_escape("a\033]0;pwned\a b\\c \xc3\xa9 \xc2\x9b \xff\x7f\t");
	assert_string_equal(s, "a\\x1b]0;pwned\\x07 b\\c \xc3\xa9 \\xc2\\x9b \\xff\\x7f\\x09");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_bytes),
		cmocka_unit_test(test_mem_kib),
		cmocka_unit_test(test_mem_mib_gib_tib),
		cmocka_unit_test(test_mem_cap),
		cmocka_unit_test(test_time_under_an_hour),
		cmocka_unit_test(test_time_under_a_day),
		cmocka_unit_test(test_time_days),
		cmocka_unit_test(test_time_thousand_days),
		cmocka_unit_test(test_reference_example),
		cmocka_unit_test(test_line_columns),
		cmocka_unit_test(test_line_name_cut_and_escaped),
		cmocka_unit_test(test_parse_proc),
		cmocka_unit_test(test_parse_proc_hostile_comm),
		cmocka_unit_test(test_parse_nspid),
		cmocka_unit_test(test_vps_header),
		cmocka_unit_test(test_vps_rows),
		cmocka_unit_test(test_vps_cells),
		cmocka_unit_test(test_vps_escape),
	};
	return cmocka_run_group_tests_name("stat", tests, NULL, NULL);
}
