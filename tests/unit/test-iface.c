/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/iface.c: strict address and netmask parsing. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface.h"
#include "util.h"

static void ip_ok(const char *s, int family, int prefix, const char *canon)
{
	struct vs_ipaddr a;
	vs_err err = { 0 };
	int r = vs_ip_parse(s, &a, &err);
	if (r != 0)
		print_error("vs_ip_parse('%s') refused: %s\n", s, err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(a.family, family);
	assert_int_equal(a.prefix, prefix);
	char buf[80];
	vs_ip_format(&a, buf, sizeof buf);
	assert_string_equal(buf, canon);
}

static void ip_bad(const char *s, const char *frag)
{
	struct vs_ipaddr a;
	vs_err err = { 0 };
	int r = vs_ip_parse(s, &a, &err);
	if (r != -1)
		print_error("vs_ip_parse('%s') accepted\n", s);
	assert_int_equal(r, -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	if (frag && !strstr(err.msg, frag))
		print_error("vs_ip_parse('%s'): message '%s' lacks '%s'\n", s, err.msg, frag);
	if (frag)
		assert_non_null(strstr(err.msg, frag));
}

static void test_ipv4_ok(void **state)
{
	(void)state;
	ip_ok("192.168.1.10", AF_INET, -1, "192.168.1.10");
	ip_ok("10.0.0.1/8", AF_INET, 8, "10.0.0.1/8");
	ip_ok("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
	ip_ok("255.255.255.255/32", AF_INET, 32, "255.255.255.255/32");
	ip_ok("127.0.0.1", AF_INET, -1, "127.0.0.1");
}

static void test_ipv4_bad(void **state)
{
	(void)state;
	ip_bad("999.1.1.1", "not a valid");
	ip_bad("256.0.0.1", "not a valid");
	ip_bad("1.2.3", "not a valid");
	ip_bad("1.2", "not a valid");
	ip_bad("1", "not a valid");
	ip_bad("16909060", "not a valid"); /* inet_aton would take 1.2.3.4 */
	ip_bad("010.0.0.1", "not a valid"); /* octal trap */
	ip_bad("10.00.0.1", "not a valid");
	ip_bad("0x0a.0.0.1", "not a valid");
	ip_bad("1.2.3.4.5", "not a valid");
	ip_bad(" 1.2.3.4", "not a valid");
	ip_bad("1.2.3.4 ", "not a valid");
	ip_bad("", "not a valid");
	ip_bad("example.com", "not a valid");
	ip_bad("1.2.3.4/33", "prefix");
	ip_bad("1.2.3.4/99999999999999999999", "prefix");
	ip_bad("1.2.3.4/-1", "prefix");
	ip_bad("1.2.3.4/+8", "prefix");
	ip_bad("1.2.3.4/08", "prefix");
	ip_bad("1.2.3.4/ 8", "prefix");
	ip_bad("1.2.3.4/", "prefix");
	ip_bad("1.2.3.4/8/8", "prefix");
	ip_bad("1.2.3.4/255.0.0.0", "prefix");
	ip_bad("/24", "not a valid");
}

static void test_ipv6(void **state)
{
	(void)state;
	ip_ok("::1", AF_INET6, -1, "::1");
	ip_ok("fd00::10/64", AF_INET6, 64, "fd00::10/64");
	ip_ok("2001:DB8:0:0:0:0:0:1/128", AF_INET6, 128, "2001:db8::1/128");
	ip_ok("::/0", AF_INET6, 0, "::/0");
	ip_ok("::ffff:1.2.3.4", AF_INET6, -1, "::ffff:1.2.3.4");
	ip_bad("fd00::1/129", "prefix");
	ip_bad("fd00::1/064", "prefix");
	ip_bad("fd00:::1", "not a valid");
	ip_bad("fd00::g", "not a valid");
	ip_bad("fe80::1%eth0", "scope");
	ip_bad("fe80::1%eth0/64", "scope");
	ip_bad("fe80::1%1", "scope");
	ip_bad("1.2.3.4%eth0", "scope");
	/* longer than any address */
	ip_bad("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/64", "too long");
}

static void mask_ok(const char *s, int want)
{
	int p = -7;
	vs_err err = { 0 };
	int r = vs_mask_to_prefix(s, &p, &err);
	if (r != 0)
		print_error("mask '%s' refused: %s\n", s, err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(p, want);
}

static void mask_bad(const char *s)
{
	int p = -7;
	vs_err err = { 0 };
	int r = vs_mask_to_prefix(s, &p, &err);
	if (r != -1)
		print_error("mask '%s' accepted as /%d\n", s, p);
	assert_int_equal(r, -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	assert_int_equal(p, -7);
}

static void test_masks(void **state)
{
	(void)state;
	mask_ok("0.0.0.0", 0);
	mask_ok("128.0.0.0", 1);
	mask_ok("255.0.0.0", 8);
	mask_ok("255.255.0.0", 16);
	mask_ok("255.255.255.0", 24);
	mask_ok("255.255.255.128", 25);
	mask_ok("255.255.255.254", 31);
	mask_ok("255.255.255.255", 32);
	mask_bad("255.0.255.0");
	mask_bad("0.255.255.255");
	mask_bad("255.255.255.1");
	mask_bad("255.254.255.0");
	mask_bad("255.255.0");
	mask_bad("255.255.255.0 ");
	mask_bad("0377.0.0.0");
	mask_bad("24");
	mask_bad("/24");
	mask_bad("ffff:ff00::");
	mask_bad("");
}

static void test_equal(void **state)
{
	(void)state;
	struct vs_ipaddr a, b;
	vs_err err;
	assert_int_equal(vs_ip_parse("10.0.0.1/24", &a, &err), 0);
	assert_int_equal(vs_ip_parse("10.0.0.1/16", &b, &err), 0);
	assert_true(vs_ip_equal(&a, &b)); /* same address, whatever the prefix */
	assert_int_equal(vs_ip_parse("10.0.0.2", &b, &err), 0);
	assert_false(vs_ip_equal(&a, &b));
	assert_int_equal(vs_ip_parse("::ffff:10.0.0.1", &b, &err), 0);
	assert_false(vs_ip_equal(&a, &b)); /* different families */
	assert_int_equal(vs_ip_parse("fd00::1", &a, &err), 0);
	assert_int_equal(vs_ip_parse("fd00:0::1/64", &b, &err), 0);
	assert_true(vs_ip_equal(&a, &b));
}

static void ifname_ok(const char *s)
{
	vs_err err = { 0 };
	int r = vs_ifname_check(s, &err);
	if (r)
		print_error("ifname '%s' refused: %s\n", s, err.msg);
	assert_int_equal(r, 0);
}

static void ifname_bad(const char *s)
{
	vs_err err = { 0 };
	int r = vs_ifname_check(s, &err);
	if (r != -1)
		print_error("ifname '%s' accepted\n", s);
	assert_int_equal(r, -1);
	assert_int_equal(err.kind, VS_E_INVALID);
}

static void test_ifname(void **state)
{
	(void)state;
	ifname_ok("eth0");
	ifname_ok("br-lan.100");
	ifname_ok("abcdefghijklmno"); /* 15 */
	ifname_bad("");
	ifname_bad("abcdefghijklmnop"); /* 16 */
	ifname_bad(".");
	ifname_bad("..");
	ifname_bad("eth/0");
	ifname_bad("eth0:1");
	ifname_bad("eth 0");
	ifname_bad("eth\t0");
	ifname_bad("eth\n0");
	ifname_bad("eth\x7f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_ok),
		cmocka_unit_test(test_ipv4_bad),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_ifname),
	};
	return cmocka_run_group_tests_name("iface", tests, NULL, NULL);
}
