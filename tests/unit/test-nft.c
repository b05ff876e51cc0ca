/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/nft.c.
 *
 * Ruleset text (always run, no root): the exact rules for a routed IPv4
 * guest with tcp and udp forwards, a bridged IPv4+IPv6 guest with
 * masquerade and host ports, masquerade only, no NAT, IPv6 only (each
 * with the host input and link-local forward filter); names that could
 * inject nft syntax and invalid forwards, host ports or addresses are refused before
 * anything reaches nftables.
 *
 * Real kernel (root only): main() first moves the whole test into a
 * private network namespace (unshare(CLONE_NEWNET)) and checks it did;
 * every real test then works only there and in namespaces it creates
 * itself (held by open file descriptors, no /run/netns, no process left
 * behind), so the host's interfaces and ruleset are never seen.  Tables
 * are listed with `nft -j` (the library itself never runs nft): add
 * shows exactly our tables, adding twice replaces, a foreign table is
 * untouched, del removes ours and accepts a missing guest, a failing add
 * (a table of ours held by another nftables socket with "flags owner")
 * leaves the previous rules.  Packets: a guest namespace on a bridge
 * (10.88.0.2 behind vsbr-t 10.88.0.1), a second guest on the same
 * bridge, and an "internet" namespace at 203.0.113.2 on a veth of the
 * test namespace (203.0.113.1): masquerade of the guest's connections,
 * a DNAT forward from the internet, from the host and from the guests
 * on the bridge (hairpin; with bridge-nf-call-iptables 0 and, if
 * br_netfilter is loaded, 1 with hairpin mode on the guest's port), and
 * a spoofed guest source address dropped at the veth with its counter
 * raised (the same spoof from the guest without rules gets through);
 * the host input filter: a host service (on the bridge's address or
 * another of the host's) times out for the guest with the drop counted,
 * the host still connects into the guest, the guest pings its gateway,
 * net/host-ports opens exactly its port; a "metadata" address
 * 169.254.169.254 in the internet is dropped for the guest (forward)
 * while the second guest and the host reach it; a host service on the
 * bridge's IPv6 link-local address is out of the guest's reach (ICMPv6
 * only from link-local).  Sockets are created in the right namespace by
 * setns() around socket() and driven from this process. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>
#include <cmocka.h>

#include "nft.h"
#include "util.h"

/* The test's own network namespace, once main() made one (root only). */
static bool private_ns;
static int host_ns = -1;
static ino_t initial_ns_ino;

static struct vs_ipaddr ip(const char *s)
{
	struct vs_ipaddr a;
	vs_err e;
	if (vs_ip_parse(s, &a, &e) < 0)
		fail_msg("%s: %s", s, e.msg);
	return a;
}

static struct vs_nft_forward fwd(int proto, uint16_t h, uint16_t g, const char *host)
{
	struct vs_nft_forward f = { .proto = proto, .host_port = h, .guest_port = g };
	if (host)
		f.host_addr = ip(host);
	return f;
}

static void expect_text(const char *got, const char *want)
{
	if (!got || strcmp(got, want))
		print_error("got:\n%s\nwant:\n%s\n", got ? got : "(NULL)", want);
	assert_non_null(got);
	assert_string_equal(got, want);
}

/* Calls that may reach nftables: only where they cannot touch the host's
 * ruleset (not root, or root in our private namespace). */
static bool may_call_nft(void)
{
	return geteuid() != 0 || private_ns;
}

/* ---- ruleset text ------------------------------------------------------- */

/* every test guest's MAC address, and its EUI-64 link-local address */
static const uint8_t TMAC[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
#define TLL "fe80::5eff:fe10:2030"
#define TLLHEX "0xfe8000000000000000005efffe102030"
#define NETDEV(name, dev, v4accept, arpaccept, nahex, v6set)                                                   \
	"table netdev vserver-" name "\n"                                                                      \
	"delete table netdev vserver-" name "\n"                                                               \
	"table netdev vserver-" name " {\n"                                                                    \
	"\tchain ingress {\n"                                                                                  \
	"\t\ttype filter hook ingress device \"" dev "\" priority filter; policy drop;\n"                      \
	"\t\tether type { 8021q, 8021ad } counter drop comment \"VLAN-tagged\"\n"                              \
	"\t\tether saddr != 02:00:5e:10:20:30 counter drop comment \"foreign MAC address\"\n" v4accept          \
	"\t\tmeta protocol ip counter drop comment \"IPv4 from a foreign address\"\n" arpaccept                \
	"\t\tmeta protocol arp counter drop comment \"ARP for a foreign address\"\n"                           \
	"\t\tmeta protocol ip6 icmpv6 type { nd-router-advert, nd-redirect } counter drop comment "             \
	"\"router advertisement or redirect\"\n"                                                                 \
	"\t\tmeta protocol ip6 icmpv6 type nd-neighbor-advert @th,64,128 != { " TLLHEX nahex " } counter drop "  \
	"comment \"neighbour advertisement for a foreign address\"\n"                                            \
	"\t\tmeta protocol ip6 ip6 saddr { " TLL ", :: } meta l4proto != ipv6-icmp counter drop comment "        \
	"\"IPv6 link-local other than ICMPv6\"\n"                                                                \
	"\t\tmeta protocol ip6 ip6 saddr " v6set " accept\n"                                                   \
	"\t\tmeta protocol ip6 counter drop comment \"IPv6 from a foreign address\"\n"                         \
	"\t\tcounter drop comment \"other protocols\"\n"                                                       \
	"\t}\n"                                                                                                \
	"}\n"
#define V4ACCEPT(set) "\t\tmeta protocol ip ip saddr " set " accept\n"
#define ARPACCEPT(set)                                                                                         \
	"\t\tmeta protocol arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether 02:00:5e:10:20:30 " \
	"arp saddr ip " set " accept\n"
/* the host input filter and the link-local forward filter of table ip
 * (ip6): replies and echo (IPv6: and neighbour discovery) pass, then the
 * ports of net/host-ports (ports: lines "\t\tip saddr SET tcp dport N
 * accept\n"), the rest from the guest to the host is dropped */
#define FILTER4(set, ports)                                                                                    \
	"\tchain input {\n"                                                                                      \
	"\t\ttype filter hook input priority filter; policy accept;\n"                                         \
	"\t\tip saddr " set " ct state established,related accept\n"                                           \
	"\t\tip saddr " set " icmp type echo-request accept\n" ports                                             \
	"\t\tip saddr " set " counter drop comment \"host service not in net/host-ports\"\n"                    \
	"\t}\n"                                                                                                  \
	"\tchain forward {\n"                                                                                    \
	"\t\ttype filter hook forward priority filter; policy accept;\n"                                       \
	"\t\tip saddr " set " ip daddr 169.254.0.0/16 counter drop comment \"link-local destination\"\n"       \
	"\t}\n"
#define FILTER6(set, ports)                                                                                    \
	"\tchain input {\n"                                                                                      \
	"\t\ttype filter hook input priority filter; policy accept;\n"                                         \
	"\t\tip6 saddr " set " ct state established,related accept\n"                                          \
	"\t\tip6 saddr " set " icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert, "           \
	"nd-router-solicit } accept\n" ports                                                                     \
	"\t\tip6 saddr " set " counter drop comment \"host service not in net/host-ports\"\n"                   \
	"\t}\n"                                                                                                  \
	"\tchain forward {\n"                                                                                    \
	"\t\ttype filter hook forward priority filter; policy accept;\n"                                       \
	"\t\tip6 saddr " set " ip6 daddr fe80::/10 counter drop comment \"link-local destination\"\n"          \
	"\t}\n"

static void test_ruleset_routed_v4(void **state)
{
	(void)state;
	struct vs_ipaddr a[] = { ip("10.88.0.2/24") };
	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL), fwd(IPPROTO_UDP, 10053, 53, "203.0.113.1") };
	struct vs_nft_guest g = { .name = "web", .veth = "vs-web", .mac = TMAC, .addrs = a, .n_addrs = 1, .fwd = f, .n_fwd = 2 };
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
	expect_text(t, "# vserver guest web: its tables, replaced in one transaction\n"
		       "table ip vserver-web\n"
		       "delete table ip vserver-web\n"
		       "table ip vserver-web {\n"
		       "\tchain prerouting {\n"
		       "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		       "\t\tfib daddr type local tcp dport 10022 dnat to 10.88.0.2:22\n"
		       "\t\tip daddr 203.0.113.1 udp dport 10053 dnat to 10.88.0.2:53\n"
		       "\t}\n"
		       "\tchain output {\n"
		       "\t\ttype nat hook output priority -100; policy accept;\n"
		       "\t\tip daddr != 127.0.0.0/8 fib daddr type local tcp dport 10022 dnat to 10.88.0.2:22\n"
		       "\t\tip daddr 203.0.113.1 udp dport 10053 dnat to 10.88.0.2:53\n"
		       "\t}\n"
		       FILTER4("10.88.0.2", "")
		       "\tchain postrouting {\n"
		       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		       "\t\tct status dnat ip daddr 10.88.0.2 ip saddr 10.88.0.0/24 masquerade\n"
		       "\t}\n"
		       "}\n"
		       "table ip6 vserver-web\n"
		       "delete table ip6 vserver-web\n"
		       NETDEV("web", "vs-web", V4ACCEPT("10.88.0.2"), ARPACCEPT("10.88.0.2"), "", "{ " TLL ", :: }"));
}

static void test_ruleset_bridge_v4v6(void **state)
{
	(void)state;
	/* the link-local address is covered by fe80::/10 and no NAT
	 * target; the duplicate 10.88.0.2 appears once */
	struct vs_ipaddr a[] = { ip("10.88.0.2/24"), ip("fd00:88::2/64"), ip("fe80::2/64"), ip("10.88.0.2"),
				 ip("10.88.0.3/24") };
	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL), fwd(IPPROTO_UDP, 10053, 53, "203.0.113.1"),
				      fwd(IPPROTO_TCP, 8443, 443, "2001:db8::1") };
	/* host services in both families (the guest's addresses of each) */
	struct vs_nft_port hp[] = { { IPPROTO_UDP, 53 }, { IPPROTO_TCP, 53 }, { IPPROTO_TCP, 65535 } };
	struct vs_nft_guest g = { .name = "db-1.x", .veth = "vs-db", .mac = TMAC, .bridge = "vsbr0", .addrs = a, .n_addrs = 5,
				  .masquerade = true, .fwd = f, .n_fwd = 3, .host_ports = hp, .n_host_ports = 3 };
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
#define HP4                                                                                                    \
	"\t\tip saddr { 10.88.0.2, 10.88.0.3 } udp dport 53 accept\n"                                            \
	"\t\tip saddr { 10.88.0.2, 10.88.0.3 } tcp dport 53 accept\n"                                            \
	"\t\tip saddr { 10.88.0.2, 10.88.0.3 } tcp dport 65535 accept\n"
#define HP6                                                                                                    \
	"\t\tip6 saddr fd00:88::2 udp dport 53 accept\n"                                                         \
	"\t\tip6 saddr fd00:88::2 tcp dport 53 accept\n"                                                         \
	"\t\tip6 saddr fd00:88::2 tcp dport 65535 accept\n"
	expect_text(t, "# vserver guest db-1.x: its tables, replaced in one transaction\n"
		       "table ip vserver-db-1.x\n"
		       "delete table ip vserver-db-1.x\n"
		       "table ip vserver-db-1.x {\n"
		       "\tchain prerouting {\n"
		       "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		       "\t\tfib daddr type local tcp dport 10022 dnat to 10.88.0.2:22\n"
		       "\t\tip daddr 203.0.113.1 udp dport 10053 dnat to 10.88.0.2:53\n"
		       "\t}\n"
		       "\tchain output {\n"
		       "\t\ttype nat hook output priority -100; policy accept;\n"
		       "\t\tip daddr != 127.0.0.0/8 fib daddr type local tcp dport 10022 dnat to 10.88.0.2:22\n"
		       "\t\tip daddr 203.0.113.1 udp dport 10053 dnat to 10.88.0.2:53\n"
		       "\t}\n"
		       FILTER4("{ 10.88.0.2, 10.88.0.3 }", HP4)
		       "\tchain postrouting {\n"
		       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		       "\t\tip saddr { 10.88.0.2, 10.88.0.3 } oifname != \"vsbr0\" masquerade\n"
		       "\t\tct status dnat ip daddr { 10.88.0.2, 10.88.0.3 } ip saddr 10.88.0.0/24 masquerade\n"
		       "\t\tct status dnat ip daddr { 10.88.0.2, 10.88.0.3 } fib saddr type local masquerade\n"
		       "\t}\n"
		       "}\n"
		       "table ip6 vserver-db-1.x\n"
		       "delete table ip6 vserver-db-1.x\n"
		       "table ip6 vserver-db-1.x {\n"
		       "\tchain prerouting {\n"
		       "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		       "\t\tfib daddr type local tcp dport 10022 dnat to [fd00:88::2]:22\n"
		       "\t\tip6 daddr 2001:db8::1 tcp dport 8443 dnat to [fd00:88::2]:443\n"
		       "\t}\n"
		       "\tchain output {\n"
		       "\t\ttype nat hook output priority -100; policy accept;\n"
		       "\t\tip6 daddr != ::1 fib daddr type local tcp dport 10022 dnat to [fd00:88::2]:22\n"
		       "\t\tip6 daddr 2001:db8::1 tcp dport 8443 dnat to [fd00:88::2]:443\n"
		       "\t}\n"
		       FILTER6("fd00:88::2", HP6)
		       "\tchain postrouting {\n"
		       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		       "\t\tip6 saddr fd00:88::2 oifname != \"vsbr0\" masquerade\n"
		       "\t\tct status dnat ip6 daddr fd00:88::2 ip6 saddr fd00:88::/64 masquerade\n"
		       "\t\tct status dnat ip6 daddr fd00:88::2 fib saddr type local masquerade\n"
		       "\t}\n"
		       "}\n"
		       NETDEV("db-1.x", "vs-db", V4ACCEPT("{ 10.88.0.2, 10.88.0.3 }"),
			      ARPACCEPT("{ 10.88.0.2, 10.88.0.3 }"), ", 0xfd000088000000000000000000000002",
			      "{ fd00:88::2, " TLL ", :: }"));
}

static void test_ruleset_masquerade_only(void **state)
{
	(void)state;
	struct vs_ipaddr a[] = { ip("10.88.0.7/24") };
	struct vs_nft_guest g = { .name = "m", .veth = "vs-m", .mac = TMAC, .bridge = "vsbr0", .addrs = a, .n_addrs = 1,
				  .masquerade = true };
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
	expect_text(t, "# vserver guest m: its tables, replaced in one transaction\n"
		       "table ip vserver-m\n"
		       "delete table ip vserver-m\n"
		       "table ip vserver-m {\n"
		       FILTER4("10.88.0.7", "")
		       "\tchain postrouting {\n"
		       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		       "\t\tip saddr 10.88.0.7 oifname != \"vsbr0\" masquerade\n"
		       "\t}\n"
		       "}\n"
		       "table ip6 vserver-m\n"
		       "delete table ip6 vserver-m\n"
		       NETDEV("m", "vs-m", V4ACCEPT("10.88.0.7"), ARPACCEPT("10.88.0.7"), "", "{ " TLL ", :: }"));
}

static void test_ruleset_no_nat(void **state)
{
	(void)state;
	struct vs_ipaddr a[] = { ip("192.0.2.5/24") };
	struct vs_nft_guest g = { .name = "plain", .veth = "vs-plain", .mac = TMAC, .addrs = a, .n_addrs = 1 };
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
	expect_text(t, "# vserver guest plain: its tables, replaced in one transaction\n"
		       "table ip vserver-plain\n"
		       "delete table ip vserver-plain\n"
		       "table ip vserver-plain {\n"
		       FILTER4("192.0.2.5", "")
		       "}\n"
		       "table ip6 vserver-plain\n"
		       "delete table ip6 vserver-plain\n"
		       NETDEV("plain", "vs-plain", V4ACCEPT("192.0.2.5"), ARPACCEPT("192.0.2.5"), "", "{ " TLL ", :: }"));
}

static void test_ruleset_v6_only(void **state)
{
	(void)state;
	struct vs_ipaddr a[] = { ip("2001:db8:1::5/64") };
	struct vs_nft_forward f[] = { fwd(IPPROTO_UDP, 5353, 53, NULL) };
	struct vs_nft_port hp[] = { { IPPROTO_TCP, 22 } };
	struct vs_nft_guest g = { .name = "six", .veth = "vs-six", .mac = TMAC, .addrs = a, .n_addrs = 1, .masquerade = true,
				  .fwd = f, .n_fwd = 1, .host_ports = hp, .n_host_ports = 1 };
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
#define HP6SIX "\t\tip6 saddr 2001:db8:1::5 tcp dport 22 accept\n"
	/* no IPv4: the ip table stays empty (no input filter needed: IPv4
	 * is dropped at the veth), IPv4 and ARP are all dropped */
	expect_text(t, "# vserver guest six: its tables, replaced in one transaction\n"
		       "table ip vserver-six\n"
		       "delete table ip vserver-six\n"
		       "table ip vserver-six {\n"
		       "}\n"
		       "table ip6 vserver-six\n"
		       "delete table ip6 vserver-six\n"
		       "table ip6 vserver-six {\n"
		       "\tchain prerouting {\n"
		       "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		       "\t\tfib daddr type local udp dport 5353 dnat to [2001:db8:1::5]:53\n"
		       "\t}\n"
		       "\tchain output {\n"
		       "\t\ttype nat hook output priority -100; policy accept;\n"
		       "\t\tip6 daddr != ::1 fib daddr type local udp dport 5353 dnat to [2001:db8:1::5]:53\n"
		       "\t}\n"
		       FILTER6("2001:db8:1::5", HP6SIX)
		       "\tchain postrouting {\n"
		       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		       "\t\tip6 saddr 2001:db8:1::5 oifname != \"vs-six\" masquerade\n"
		       "\t\tct status dnat ip6 daddr 2001:db8:1::5 ip6 saddr 2001:db8:1::/64 masquerade\n"
		       "\t}\n"
		       "}\n"
		       NETDEV("six", "vs-six", "", "", ", 0x20010db8000100000000000000000005",
			      "{ 2001:db8:1::5, " TLL ", :: }"));
}

/* add / del / exists must refuse what vs_nft_ruleset refuses, before
 * nftables is reached. */
static void expect_invalid(const struct vs_nft_guest *g)
{
	char *t = vs_nft_ruleset(g);
	if (t)
		print_error("accepted:\n%s\n", t);
	assert_null(t);
	if (!may_call_nft())
		return;
	vs_err e = { 0 };
	assert_int_equal(vs_nft_guest_add(g, &e), -1);
	assert_int_equal(e.kind, VS_E_INVALID);
	assert_true(e.msg[0]);
}

static void test_name_injection(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"a b",
		"a\"b",
		"x\"; flush ruleset; \"",
		"a;b",
		"a\nb",
		"a}b",
		"a{b",
		"a/b",
		"a#b",
		"$x",
		"@s",
		"a\\b",
		"\xc3\xa9",
		"1234567890123456789012345678901234567890123456789012345678901234x",
	};
	struct vs_ipaddr a[] = { ip("10.88.0.2/24") };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		struct vs_nft_guest g = { .name = bad[i], .veth = "vs-ok", .mac = TMAC, .addrs = a, .n_addrs = 1 };
		expect_invalid(&g);
		g.name = "ok";
		g.veth = bad[i];
		expect_invalid(&g);
		g.veth = "vs-ok";
		g.bridge = bad[i];
		expect_invalid(&g);
		if (may_call_nft()) {
			vs_err e = { 0 };
			assert_int_equal(vs_nft_guest_del(bad[i], &e), -1);
			assert_int_equal(e.kind, VS_E_INVALID);
			assert_int_equal(vs_nft_guest_exists(bad[i], &e), -1);
			assert_int_equal(e.kind, VS_E_INVALID);
		}
	}
	/* device names longer than an interface name */
	struct vs_nft_guest g = { .name = "ok", .veth = "vs-0123456789abc", .mac = TMAC, .addrs = a, .n_addrs = 1 };
	expect_invalid(&g);
	/* NULL names */
	g.veth = NULL;
	expect_invalid(&g);
	g.veth = "vs-ok";
	g.name = NULL;
	expect_invalid(&g);
	/* a well-formed guest passes (the checks are not simply refusing) */
	g.name = "a0_.-z";
	_cleanup_free_ char *t = vs_nft_ruleset(&g);
	assert_non_null(t);
}

static void test_invalid_input(void **state)
{
	(void)state;
	struct vs_ipaddr a4[] = { ip("10.88.0.2/24") };
	struct vs_nft_forward f = fwd(IPPROTO_TCP, 80, 8080, NULL);
	struct vs_nft_guest g = { .name = "g", .veth = "vs-g", .mac = TMAC, .addrs = a4, .n_addrs = 1, .fwd = &f, .n_fwd = 1 };
	_cleanup_free_ char *ok = vs_nft_ruleset(&g);
	assert_non_null(ok);

	f.proto = IPPROTO_SCTP;
	expect_invalid(&g);
	f.proto = IPPROTO_TCP;
	f.host_port = 0;
	expect_invalid(&g);
	f.host_port = 80;
	f.guest_port = 0;
	expect_invalid(&g);
	f.guest_port = 8080;
	/* a forward from an IPv6 host address to a guest without IPv6 */
	f.host_addr = ip("2001:db8::1");
	expect_invalid(&g);
	/* a DNAT from loopback could not be routed to the guest */
	f.host_addr = ip("127.0.0.1");
	expect_invalid(&g);
	f.host_addr = ip("0.0.0.0");
	expect_invalid(&g);
	f.host_addr = (struct vs_ipaddr){ .family = 12345 };
	expect_invalid(&g);
	f.host_addr = (struct vs_ipaddr){ 0 };

	/* host ports: tcp or udp, 1..65535, and a list if there is a count */
	struct vs_nft_port hp = { IPPROTO_TCP, 53 };
	g.host_ports = &hp;
	g.n_host_ports = 1;
	_cleanup_free_ char *okhp = vs_nft_ruleset(&g);
	assert_non_null(okhp);
	hp.proto = IPPROTO_SCTP;
	expect_invalid(&g);
	hp.proto = IPPROTO_ICMP;
	expect_invalid(&g);
	hp = (struct vs_nft_port){ IPPROTO_UDP, 0 };
	expect_invalid(&g);
	g.host_ports = NULL;
	expect_invalid(&g);
	g.n_host_ports = 0;

	/* addresses a guest never legitimately sends from */
	static const char *const bad_addr[] = { "0.0.0.0", "224.0.0.1", "127.0.0.2", "::", "ff02::1", "::1" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad_addr); i++) {
		struct vs_ipaddr b[] = { ip("10.88.0.2/24"), ip(bad_addr[i]) };
		struct vs_nft_guest h = g;
		h.addrs = b;
		h.n_addrs = 2;
		expect_invalid(&h);
	}
	struct vs_ipaddr nofam[] = { { .family = 0 } };
	g.addrs = nofam;
	expect_invalid(&g);
	/* forwards but no address to forward to (link-local does not count) */
	struct vs_ipaddr ll[] = { ip("fe80::1/64") };
	g.addrs = ll;
	expect_invalid(&g);
	g.addrs = NULL;
	g.n_addrs = 0;
	expect_invalid(&g);
	g.n_addrs = 1; /* count without a list */
	g.n_fwd = 0;
	expect_invalid(&g);
}

/* ---- real kernel helpers ------------------------------------------------ */

static ino_t ns_ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Never run a command or a real test outside our private namespace. */
static void real_or_skip(void)
{
	if (!private_ns)
		skip();
	assert_true(ns_ino("/proc/self/ns/net") != initial_ns_ino);
}

static void join(int ns)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		fail_msg("setns: %s", strerror(errno));
}

/* sh -c CMD in network namespace ns (-1: ours); its exit status. */
static int sh_ns(int ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh_ns(int ns, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define SH(ns, ...) assert_int_equal(sh_ns((ns), __VA_ARGS__), 0)

/* Output of a command run in our namespace (malloc'd). */
static char *cmd_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = 0;
	int st = pclose(p);
	if (st != 0)
		fail_msg("%s: status %d", cmd, st);
	return buf;
}

static json_object *nft_json(const char *what)
{
	_cleanup_free_ char *cmd = vs_asprintf("nft -j %s", what);
	_cleanup_free_ char *out = cmd_out(cmd);
	json_object *j = json_tokener_parse(out);
	if (!j)
		fail_msg("%s: not JSON: %s", cmd, out);
	return j;
}

static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "family name" of every table in the ruleset, sorted, one a line; from
 * `nft -j list ruleset`, or from the text of `nft list tables` (nft 1.0.6
 * prints garbage for the flags of an "owner" table in JSON). */
static char *tables_from(bool json)
{
	char *v[64];
	size_t n = 0;
	if (json) {
		json_object *j = nft_json("list ruleset");
		json_object *arr = jget(j, "nftables");
		assert_non_null(arr);
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *t = jget(json_object_array_get_idx(arr, i), "table");
			if (!t)
				continue;
			assert_true(n < VS_ARRAY_SIZE(v));
			v[n++] = vs_asprintf("%s %s", json_object_get_string(jget(t, "family")),
					     json_object_get_string(jget(t, "name")));
		}
		json_object_put(j);
	} else {
		_cleanup_free_ char *out = cmd_out("nft list tables");
		for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			assert_true(vs_str_startswith(l, "table "));
			assert_true(n < VS_ARRAY_SIZE(v));
			v[n++] = vs_strdup(l + strlen("table "));
		}
	}
	qsort(v, n, sizeof v[0], cmp_str);
	char *s = vs_strdup("");
	for (size_t i = 0; i < n; i++) {
		char *t = vs_asprintf("%s%s\n", s, v[i]);
		free(s);
		free(v[i]);
		s = t;
	}
	return s;
}

static void expect_tables(const char *want)
{
	_cleanup_free_ char *got = tables_from(true);
	expect_text(got, want);
}

static void expect_tables_text(const char *want)
{
	_cleanup_free_ char *got = tables_from(false);
	expect_text(got, want);
}

/* Packets counted by the rule with this comment in table FAMILY vserver-NAME. */
static int64_t drop_count(const char *family, const char *name, const char *comment)
{
	_cleanup_free_ char *what = vs_asprintf("list table %s vserver-%s", family, name);
	json_object *j = nft_json(what);
	json_object *arr = jget(j, "nftables");
	int64_t r = -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *rule = jget(json_object_array_get_idx(arr, i), "rule");
		json_object *c = rule ? jget(rule, "comment") : NULL;
		if (!c || strcmp(json_object_get_string(c), comment))
			continue;
		json_object *ex = jget(rule, "expr");
		for (size_t k = 0; ex && k < json_object_array_length(ex); k++) {
			json_object *cnt = jget(json_object_array_get_idx(ex, k), "counter");
			if (cnt)
				r = json_object_get_int64(jget(cnt, "packets"));
		}
	}
	json_object_put(j);
	if (r < 0)
		fail_msg("no counter with comment '%s' in %s", comment, what);
	return r;
}

static char *list_table(const char *family, const char *name)
{
	_cleanup_free_ char *cmd = vs_asprintf("nft list table %s vserver-%s", family, name);
	return cmd_out(cmd);
}

/* A new network namespace held by an fd (the test stays in its own). */
static int new_ns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("unshare: %s", strerror(errno));
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	join(host_ns);
	return fd;
}

/* "/proc/PID/fd/N" for `ip link ... netns` (it opens paths with a '/'). */
static char *ns_path(int fd)
{
	return vs_asprintf("/proc/%d/fd/%d", (int)getpid(), fd);
}

static int setup_real(void **state)
{
	(void)state;
	if (!private_ns)
		return 0;
	if (ns_ino("/proc/self/ns/net") == initial_ns_ino)
		return -1;
	/* our private namespace only: start from an empty ruleset */
	return sh_ns(-1, "nft flush ruleset") == 0 ? 0 : -1;
}

/* Holds a table with "flags owner" (test_real_failed_add): freed here
 * too, as a failed assertion leaves the test by longjmp. */
static struct nft_ctx *owner;

static int teardown_real(void **state)
{
	(void)state;
	if (owner)
		nft_ctx_free(vs_steal(owner));
	if (!private_ns)
		return 0;
	if (host_ns >= 0)
		join(host_ns);
	sh_ns(-1, "nft flush ruleset; for d in vs-t1 vs-t2 vs-tinet vsbr-t; do ip link del $d 2>/dev/null; done; true");
	return 0;
}

/* ---- real kernel: tables ------------------------------------------------ */

static struct vs_ipaddr t_addrs[] = { { 0 }, { 0 } };

static struct vs_nft_guest t_guest(struct vs_nft_forward *f, size_t n_fwd, size_t n_addrs)
{
	t_addrs[0] = ip("10.88.0.2/24");
	t_addrs[1] = ip("fd00:88::2/64");
	return (struct vs_nft_guest){ .name = "t1", .veth = "vs-t1", .mac = TMAC, .bridge = "vsbr-t", .addrs = t_addrs,
				      .n_addrs = n_addrs, .masquerade = true, .fwd = f, .n_fwd = n_fwd };
}

static void test_real_add_del(void **state)
{
	(void)state;
	real_or_skip();
	SH(-1, "ip link add vs-t1 type veth peer name vs-t1p");
	SH(-1, "nft 'table inet admin { chain input { type filter hook input priority 0; policy accept; "
	       "tcp dport 22 counter accept; }; }'");
	_cleanup_free_ char *admin = cmd_out("nft list table inet admin");

	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL), fwd(IPPROTO_UDP, 10053, 53, "10.0.0.1") };
	struct vs_nft_guest g = t_guest(f, 2, 2);
	vs_err e = { 0 };
	assert_int_equal(vs_nft_guest_exists("t1", &e), 0);
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add: %s", e.msg);
	expect_tables("inet admin\nip vserver-t1\nip6 vserver-t1\nnetdev vserver-t1\n");
	assert_int_equal(vs_nft_guest_exists("t1", &e), 1);
	assert_int_equal(vs_nft_guest_exists("t2", &e), 0);
	/* what nft lists back is our ruleset (spot checks) */
	_cleanup_free_ char *ip4 = list_table("ip", "t1");
	assert_non_null(strstr(ip4, "fib daddr type local tcp dport 10022 dnat to 10.88.0.2:22"));
	assert_non_null(strstr(ip4, "ip daddr 10.0.0.1 udp dport 10053 dnat to 10.88.0.2:53"));
	_cleanup_free_ char *nd = list_table("netdev", "t1");
	assert_non_null(strstr(nd, "device \"vs-t1\""));

	/* adding again replaces: the same rules, not twice */
	_cleanup_free_ char *ip6 = list_table("ip6", "t1");
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add again: %s", e.msg);
	expect_tables("inet admin\nip vserver-t1\nip6 vserver-t1\nnetdev vserver-t1\n");
	_cleanup_free_ char *ip4b = list_table("ip", "t1");
	_cleanup_free_ char *ip6b = list_table("ip6", "t1");
	_cleanup_free_ char *ndb = list_table("netdev", "t1");
	expect_text(ip4b, ip4);
	expect_text(ip6b, ip6);
	expect_text(ndb, nd);

	/* a changed guest: the forward goes, so does IPv6 (and its table) */
	g.n_fwd = 1;
	g.n_addrs = 1;
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add changed: %s", e.msg);
	expect_tables("inet admin\nip vserver-t1\nnetdev vserver-t1\n");
	_cleanup_free_ char *ip4c = list_table("ip", "t1");
	assert_null(strstr(ip4c, "10053"));
	assert_non_null(strstr(ip4c, "10022"));

	/* a second guest next to it */
	struct vs_nft_guest g2 = g;
	g2.name = "t2";
	g2.veth = "vs-t1p";
	if (vs_nft_guest_add(&g2, &e) < 0)
		fail_msg("add t2: %s", e.msg);
	expect_tables("inet admin\nip vserver-t1\nip vserver-t2\nnetdev vserver-t1\nnetdev vserver-t2\n");

	assert_int_equal(vs_nft_guest_del("t1", &e), 0);
	expect_tables("inet admin\nip vserver-t2\nnetdev vserver-t2\n");
	assert_int_equal(vs_nft_guest_exists("t1", &e), 0);
	/* deleting a guest without tables is fine */
	assert_int_equal(vs_nft_guest_del("t1", &e), 0);
	assert_int_equal(vs_nft_guest_del("never", &e), 0);
	assert_int_equal(vs_nft_guest_del("t2", &e), 0);
	expect_tables("inet admin\n");
	/* the foreign table as it was, rules and all */
	_cleanup_free_ char *admin2 = cmd_out("nft list table inet admin");
	expect_text(admin2, admin);
}

/* Every variant of the text loads into the kernel as it is. */
static void test_real_variants(void **state)
{
	(void)state;
	real_or_skip();
	struct vs_ipaddr a[] = { ip("10.88.0.2/24"), ip("fd00:88::2/64"), ip("fe80::2/64"), ip("10.88.0.3/24") };
	struct vs_ipaddr a6[] = { ip("2001:db8:1::5/64") };
	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL), fwd(IPPROTO_UDP, 10053, 53, "203.0.113.1"),
				      fwd(IPPROTO_TCP, 8443, 443, "2001:db8::1") };
	struct vs_nft_port hp[] = { { IPPROTO_UDP, 53 }, { IPPROTO_TCP, 65535 } };
	struct vs_nft_guest v[] = {
		{ .name = "r", .veth = "vs-r", .mac = TMAC, .addrs = a, .n_addrs = 1, .fwd = f, .n_fwd = 2 },
		{ .name = "b", .veth = "vs-b", .mac = TMAC, .bridge = "br0", .addrs = a, .n_addrs = 4, .masquerade = true,
		  .fwd = f, .n_fwd = 3, .host_ports = hp, .n_host_ports = 2 },
		{ .name = "p", .veth = "vs-p", .mac = TMAC, .addrs = a, .n_addrs = 1 },
		{ .name = "s", .veth = "vs-s", .mac = TMAC, .addrs = a6, .n_addrs = 1, .masquerade = true, .fwd = f, .n_fwd = 1,
		  .host_ports = hp, .n_host_ports = 1 },
		{ .name = "n", .veth = "vs-n", .mac = TMAC },
	};
	vs_err e = { 0 };
	for (size_t i = 0; i < VS_ARRAY_SIZE(v); i++)
		if (vs_nft_guest_add(&v[i], &e) < 0)
			fail_msg("add %s: %s", v[i].name, e.msg);
	expect_tables("ip vserver-b\nip vserver-n\nip vserver-p\nip vserver-r\nip vserver-s\nip6 vserver-b\n"
		      "ip6 vserver-s\nnetdev vserver-b\nnetdev vserver-n\nnetdev vserver-p\nnetdev vserver-r\n"
		      "netdev vserver-s\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(v); i++)
		assert_int_equal(vs_nft_guest_del(v[i].name, &e), 0);
	expect_tables("");
}

/* A failing transaction changes nothing. */
static void test_real_failed_add(void **state)
{
	(void)state;
	real_or_skip();
	SH(-1, "ip link add vs-t1 type veth peer name vs-t1p");
	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL), fwd(IPPROTO_TCP, 10080, 80, NULL) };
	struct vs_nft_guest g = t_guest(f, 1, 1);
	vs_err e = { 0 };
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add: %s", e.msg);
	_cleanup_free_ char *ip4 = list_table("ip", "t1");
	_cleanup_free_ char *nd = list_table("netdev", "t1");

	/* Another nftables socket owns a table of ours ("flags owner":
	 * nobody else may change it, it goes when the socket closes): the
	 * whole transaction is refused, the part for the other tables
	 * included. */
	owner = nft_ctx_new(NFT_CTX_DEFAULT);
	assert_non_null(owner);
	assert_int_equal(nft_ctx_buffer_output(owner), 0);
	assert_int_equal(nft_ctx_buffer_error(owner), 0);
	if (nft_run_cmd_from_buffer(owner, "table ip6 vserver-t1 { flags owner; }") != 0)
		fail_msg("owner table: %s", nft_ctx_get_error_buffer(owner));
	expect_tables_text("ip vserver-t1\nip6 vserver-t1\nnetdev vserver-t1\n");

	g.n_fwd = 2;
	g.veth = "vs-t1p";
	assert_int_equal(vs_nft_guest_add(&g, &e), -1);
	assert_int_equal(e.kind, VS_E_SYSTEM);
	print_message("refused as expected: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "nftables: "));
	_cleanup_free_ char *ip4b = list_table("ip", "t1");
	_cleanup_free_ char *ndb = list_table("netdev", "t1");
	expect_text(ip4b, ip4);
	expect_text(ndb, nd);
	/* deleting is one transaction too */
	assert_int_equal(vs_nft_guest_del("t1", &e), -1);
	expect_tables_text("ip vserver-t1\nip6 vserver-t1\nnetdev vserver-t1\n");

	nft_ctx_free(vs_steal(owner));
	expect_tables("ip vserver-t1\nnetdev vserver-t1\n");
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add after the owner left: %s", e.msg);
	_cleanup_free_ char *ip4c = list_table("ip", "t1");
	assert_non_null(strstr(ip4c, "10080"));

	/* A device that does not exist: older kernels refuse the netdev
	 * chain (then nothing may have changed), since 6.16 the hook
	 * waits for the device. */
	g.veth = "vs-none";
	g.n_fwd = 1;
	int r = vs_nft_guest_add(&g, &e);
	_cleanup_free_ char *ip4d = list_table("ip", "t1");
	if (r < 0) {
		print_message("missing device refused: %s\n", e.msg);
		expect_text(ip4d, ip4c);
	} else {
		print_message("missing device accepted (hook waits for it)\n");
		assert_null(strstr(ip4d, "10080"));
	}
	assert_int_equal(vs_nft_guest_del("t1", &e), 0);
	expect_tables("");
}

/* ---- real kernel: packets ----------------------------------------------- */

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	assert_int_equal(inet_pton(AF_INET, addr, &s.sin_addr), 1);
	return s;
}

/* A TCP socket of namespace ns. */
static int tcp_in(int ns)
{
	join(ns);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	join(host_ns);
	assert_true(s >= 0);
	return s;
}

static int listen_in(int ns, const char *addr, int port)
{
	int s = tcp_in(ns), one = 1;
	struct sockaddr_in a = sin_of(addr, port);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0)
		fail_msg("listen %s:%d: %s", addr, port, strerror(errno));
	return s;
}

/* Connect from namespace ns (from address src if not NULL) to dst:port
 * and accept on listener l.  The peer address the listener saw, or ""
 * if nothing arrived within ms. */
static const char *connect_via(int ns, const char *src, const char *dst, int port, int l, int ms)
{
	static char peer[INET_ADDRSTRLEN];
	int c = tcp_in(ns);
	if (src) {
		struct sockaddr_in b = sin_of(src, 0);
		if (bind(c, (struct sockaddr *)&b, sizeof b) < 0)
			fail_msg("bind %s: %s", src, strerror(errno));
	}
	struct sockaddr_in d = sin_of(dst, port);
	if (connect(c, (struct sockaddr *)&d, sizeof d) < 0 && errno != EINPROGRESS)
		fail_msg("connect %s:%d: %s", dst, port, strerror(errno));
	peer[0] = 0;
	struct pollfd p = { .fd = l, .events = POLLIN };
	if (poll(&p, 1, ms) == 1) {
		struct sockaddr_in a;
		socklen_t alen = sizeof a;
		int s = accept4(l, (struct sockaddr *)&a, &alen, SOCK_CLOEXEC);
		assert_true(s >= 0);
		inet_ntop(AF_INET, &a.sin_addr, peer, sizeof peer);
		close(s);
	}
	close(c);
	return peer;
}

/* IPv6 link-local: a listener on [::]:port of namespace ns, and a
 * connection from namespace ns to dst%dev:port as connect_via (the peer
 * address the listener saw, "" if nothing arrived within ms). */
static int listen6_in(int ns, int port)
{
	join(ns);
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	join(host_ns);
	assert_true(s >= 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0)
		fail_msg("listen [::]:%d: %s", port, strerror(errno));
	return s;
}

/* connect6_via from source address src (link-local on dev), NULL: the
 * kernel's choice */
static const char *connect6_from_via(int ns, const char *src, const char *dst, const char *dev, int port, int l,
				     int ms)
{
	static char peer[INET6_ADDRSTRLEN];
	struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	assert_int_equal(inet_pton(AF_INET6, dst, &d.sin6_addr), 1);
	join(ns);
	d.sin6_scope_id = if_nametoindex(dev);
	int c = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	join(host_ns);
	assert_true(c >= 0 && d.sin6_scope_id);
	if (src) {
		struct sockaddr_in6 b = { .sin6_family = AF_INET6, .sin6_scope_id = d.sin6_scope_id };
		assert_int_equal(inet_pton(AF_INET6, src, &b.sin6_addr), 1);
		if (bind(c, (struct sockaddr *)&b, sizeof b) < 0)
			fail_msg("bind [%s%%%s]: %s", src, dev, strerror(errno));
	}
	if (connect(c, (struct sockaddr *)&d, sizeof d) < 0 && errno != EINPROGRESS)
		fail_msg("connect [%s%%%s]:%d: %s", dst, dev, port, strerror(errno));
	peer[0] = 0;
	struct pollfd p = { .fd = l, .events = POLLIN };
	if (poll(&p, 1, ms) == 1) {
		struct sockaddr_in6 a;
		socklen_t alen = sizeof a;
		int s = accept4(l, (struct sockaddr *)&a, &alen, SOCK_CLOEXEC);
		assert_true(s >= 0);
		inet_ntop(AF_INET6, &a.sin6_addr, peer, sizeof peer);
		close(s);
	}
	close(c);
	return peer;
}

static const char *connect6_via(int ns, const char *dst, const char *dev, int port, int l, int ms)
{
	return connect6_from_via(ns, NULL, dst, dev, port, l, ms);
}

/* An unsolicited neighbour advertisement (override) for `target`, from
 * namespace ns to all nodes on its eth0 */
static void send_na(int ns, const char *target)
{
	join(ns);
	int s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	unsigned idx = if_nametoindex("eth0");
	join(host_ns);
	if (s < 0 || !idx)
		fail_msg("raw ICMPv6 socket or eth0: %s", strerror(errno));
	int hops = 255;
	assert_int_equal(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops), 0);
	struct nd_neighbor_advert na = { .nd_na_type = ND_NEIGHBOR_ADVERT,
					 .nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE };
	assert_int_equal(inet_pton(AF_INET6, target, &na.nd_na_target), 1);
	struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_scope_id = idx };
	assert_int_equal(inet_pton(AF_INET6, "ff02::1", &d.sin6_addr), 1);
	assert_int_equal(sendto(s, &na, sizeof na, 0, (struct sockaddr *)&d, sizeof d), (ssize_t)sizeof na);
	close(s);
	usleep(100 * 1000);
}

/* An ICMP echo from namespace ns to dst (a ping socket): answered within ms? */
static bool ping_from(int ns, const char *dst, int ms)
{
	SH(ns, "echo '0 0' > /proc/sys/net/ipv4/ping_group_range");
	join(ns);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
	join(host_ns);
	if (s < 0)
		fail_msg("ping socket: %s", strerror(errno));
	struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(1) };
	struct sockaddr_in d = sin_of(dst, 0);
	assert_int_equal(sendto(s, &h, sizeof h, 0, (struct sockaddr *)&d, sizeof d), (ssize_t)sizeof h);
	bool ok = false;
	struct pollfd p = { .fd = s, .events = POLLIN };
	if (poll(&p, 1, ms) == 1) {
		struct icmphdr r;
		ok = recv(s, &r, sizeof r, 0) >= (ssize_t)sizeof r && r.type == ICMP_ECHOREPLY;
	}
	close(s);
	return ok;
}

static void test_real_packets(void **state)
{
	(void)state;
	real_or_skip();
	int guest = new_ns(), guest2 = new_ns(), inet = new_ns();
	_cleanup_free_ char *gp = ns_path(guest), *g2p = ns_path(guest2), *inp = ns_path(inet);

	/* the host: a bridge for the guests, a veth to the internet */
	SH(-1, "echo 1 > /proc/sys/net/ipv4/ip_forward");
	SH(-1, "ip link set lo up && ip link add vsbr-t type bridge forward_delay 0 && "
	       "ip addr add 10.88.0.1/24 dev vsbr-t && ip link set vsbr-t up");
	SH(-1, "ip link add vs-t1 type veth peer name eth0 address 02:00:5e:10:20:30 netns %s && "
	       "ip link set vs-t1 master vsbr-t up", gp);
	SH(-1, "ip link add vs-t2 type veth peer name eth0 netns %s && ip link set vs-t2 master vsbr-t up", g2p);
	SH(-1, "ip link add vs-tinet type veth peer name eth0 netns %s && "
	       "ip addr add 203.0.113.1/24 dev vs-tinet && ip link set vs-tinet up", inp);
	SH(guest, "ip link set lo up && ip addr add 10.88.0.2/24 dev eth0 && ip link set eth0 up && "
		  "ip route add default via 10.88.0.1");
	SH(guest2, "ip link set lo up && ip addr add 10.88.0.3/24 dev eth0 && ip link set eth0 up && "
		   "ip route add default via 10.88.0.1");
	/* the internet has no route to the guests: only masquerade gets
	 * their traffic answered */
	SH(inet, "ip link set lo up && ip addr add 203.0.113.2/24 dev eth0 && ip link set eth0 up");

	struct vs_ipaddr a[] = { ip("10.88.0.2/24") };
	struct vs_nft_forward f[] = { fwd(IPPROTO_TCP, 10022, 22, NULL) };
	struct vs_nft_guest g = { .name = "t1", .veth = "vs-t1", .mac = TMAC, .bridge = "vsbr-t", .addrs = a, .n_addrs = 1,
				  .masquerade = true, .fwd = f, .n_fwd = 1 };
	vs_err e = { 0 };
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add: %s", e.msg);

	int web = listen_in(inet, "203.0.113.2", 8080);
	int ssh = listen_in(guest, "0.0.0.0", 22);
	int hostl = listen_in(host_ns, "0.0.0.0", 7000);
	int hostl2 = listen_in(host_ns, "10.88.0.1", 7001);

	/* guest -> internet: masqueraded to the host's address there */
	assert_string_equal(connect_via(guest, NULL, "203.0.113.2", 8080, web, 3000), "203.0.113.1");
	/* internet -> host:10022 -> guest:22, the client's address kept */
	assert_string_equal(connect_via(inet, NULL, "203.0.113.1", 10022, ssh, 3000), "203.0.113.2");
	/* from the host itself, to either of its addresses: the guest
	 * sees the bridge's address */
	assert_string_equal(connect_via(host_ns, NULL, "203.0.113.1", 10022, ssh, 3000), "10.88.0.1");
	assert_string_equal(connect_via(host_ns, NULL, "10.88.0.1", 10022, ssh, 3000), "10.88.0.1");
	/* Hairpin: another guest on the bridge, and the guest itself, see
	 * the bridge's address.  With br_netfilter (bridge-nf-call-iptables,
	 * per namespace) a DNAT back onto the bridge is bridged, not routed:
	 * the guest reaching itself then needs hairpin mode on its port.
	 * Both ways if the module is there. */
	bool brnf = access("/proc/sys/net/bridge/bridge-nf-call-iptables", W_OK) == 0;
	for (int mode = 0; mode < (brnf ? 2 : 1); mode++) {
		if (brnf)
			SH(-1, "echo %d > /proc/sys/net/bridge/bridge-nf-call-iptables", mode);
		if (mode == 1)
			SH(-1, "ip link set vs-t1 type bridge_slave hairpin on");
		print_message("hairpin, bridge-nf-call-iptables=%d\n", brnf ? mode : -1);
		assert_string_equal(connect_via(guest2, NULL, "203.0.113.1", 10022, ssh, 3000), "10.88.0.1");
		assert_string_equal(connect_via(guest2, NULL, "10.88.0.1", 10022, ssh, 3000), "10.88.0.1");
		assert_string_equal(connect_via(guest, NULL, "203.0.113.1", 10022, ssh, 3000), "10.88.0.1");
		/* the internet still sees no masquerade of its own */
		assert_string_equal(connect_via(inet, NULL, "203.0.113.1", 10022, ssh, 3000), "203.0.113.2");
	}
	/* the port is not forwarded from loopback (left to the host) */
	assert_string_equal(connect_via(host_ns, NULL, "127.0.0.1", 10022, ssh, 500), "");

	/* The host's own services are closed to the guest (NW-05): the
	 * second guest (no rules of ours) reaches them, the guest does not,
	 * on the bridge's address or any other of the host's, and the drop
	 * is counted ... */
	assert_string_equal(connect_via(guest2, NULL, "10.88.0.1", 7000, hostl, 3000), "10.88.0.3");
	int64_t in0 = drop_count("ip", "t1", "host service not in net/host-ports");
	assert_string_equal(connect_via(guest, NULL, "10.88.0.1", 7000, hostl, 1000), "");
	assert_string_equal(connect_via(guest, NULL, "203.0.113.1", 7000, hostl, 1000), "");
	int64_t in1 = drop_count("ip", "t1", "host service not in net/host-ports");
	print_message("guest to host service dropped: %lld packets\n", (long long)(in1 - in0));
	assert_true(in1 > in0);
	/* ... while the host still connects into the guest (the guest's
	 * replies are established), directly and through the forward, and
	 * the guest pings its gateway */
	assert_string_equal(connect_via(host_ns, NULL, "10.88.0.2", 22, ssh, 3000), "10.88.0.1");
	assert_string_equal(connect_via(host_ns, NULL, "10.88.0.1", 10022, ssh, 3000), "10.88.0.1");
	assert_true(ping_from(guest, "10.88.0.1", 3000));
	/* net/host-ports opens exactly the ports listed */
	struct vs_nft_port hp[] = { { IPPROTO_UDP, 7000 }, { IPPROTO_TCP, 7000 } };
	g.host_ports = hp;
	g.n_host_ports = 2;
	if (vs_nft_guest_add(&g, &e) < 0)
		fail_msg("add with host ports: %s", e.msg);
	assert_string_equal(connect_via(guest, NULL, "10.88.0.1", 7000, hostl, 3000), "10.88.0.2");
	assert_string_equal(connect_via(guest, NULL, "10.88.0.1", 7001, hostl2, 1000), "");

	/* a spoofed source: the second guest (no rules of ours) gets
	 * through with one, which shows this path would work ... */
	SH(guest2, "ip addr add 10.88.0.98/24 dev eth0");
	assert_string_equal(connect_via(guest2, "10.88.0.98", "10.88.0.1", 7000, hostl, 3000), "10.88.0.98");
	/* ... the guest with our rules does not */
	assert_string_equal(connect_via(guest, "10.88.0.2", "10.88.0.1", 7000, hostl, 3000), "10.88.0.2");
	int64_t before = drop_count("netdev", "t1", "IPv4 from a foreign address");
	SH(guest, "ip addr add 10.88.0.99/24 dev eth0");
	assert_string_equal(connect_via(guest, "10.88.0.99", "10.88.0.1", 7000, hostl, 2000), "");
	assert_string_equal(connect_via(guest, "10.88.0.99", "203.0.113.2", 8080, web, 1000), "");
	int64_t after = drop_count("netdev", "t1", "IPv4 from a foreign address");
	print_message("spoofed IPv4 dropped: %lld packets\n", (long long)(after - before));
	assert_true(after > before);
	/* the guest's own address still works after that */
	assert_string_equal(connect_via(guest, NULL, "203.0.113.2", 8080, web, 3000), "203.0.113.1");

	/* A "metadata service" at 169.254.169.254 in the internet: the host
	 * reaches it, and so does the second guest (the internet routes
	 * back to it for this), but the guest is dropped on the way out
	 * (forward), while its other forwarded traffic passes. */
	SH(inet, "ip addr add 169.254.169.254/32 dev eth0 && ip route add 10.88.0.0/24 via 203.0.113.1");
	SH(-1, "ip route add 169.254.169.254/32 via 203.0.113.2");
	int meta = listen_in(inet, "169.254.169.254", 80);
	assert_string_equal(connect_via(host_ns, NULL, "169.254.169.254", 80, meta, 3000), "203.0.113.1");
	assert_string_equal(connect_via(guest2, NULL, "169.254.169.254", 80, meta, 3000), "10.88.0.3");
	int64_t ll0 = drop_count("ip", "t1", "link-local destination");
	assert_string_equal(connect_via(guest, NULL, "169.254.169.254", 80, meta, 1000), "");
	int64_t ll1 = drop_count("ip", "t1", "link-local destination");
	print_message("guest to 169.254.169.254 dropped: %lld packets\n", (long long)(ll1 - ll0));
	assert_true(ll1 > ll0);
	assert_string_equal(connect_via(guest, NULL, "203.0.113.2", 8080, web, 3000), "203.0.113.1");
	SH(inet, "ip route del 10.88.0.0/24");

	/* IPv6 link-local: every guest has it, IPv4-only ones too (no ip6
	 * table then).  A host service on the bridge's fe80:: address: the
	 * second guest reaches it, the guest does not (ICMPv6 only from
	 * link-local, at the veth) and is still answered to ICMPv6 (its
	 * neighbour discovery works: the second guest's connection needed
	 * the same). */
	SH(-1, "ip -6 addr add fe80::1/64 dev vsbr-t nodad");
	/* the guest's own: EUI-64 of its MAC, as the kernel makes it */
	SH(guest, "ip -6 addr replace " TLL "/64 dev eth0 nodad");
	SH(guest2, "ip -6 addr add fe80::3/64 dev eth0 nodad");
	int host6 = listen6_in(host_ns, 7002);
	assert_true(vs_str_startswith(connect6_via(guest2, "fe80::1", "eth0", 7002, host6, 3000), "fe80::"));
	int64_t l60 = drop_count("netdev", "t1", "IPv6 link-local other than ICMPv6");
	assert_string_equal(connect6_via(guest, "fe80::1", "eth0", 7002, host6, 1000), "");
	int64_t l61 = drop_count("netdev", "t1", "IPv6 link-local other than ICMPv6");
	print_message("guest link-local TCP dropped: %lld packets\n", (long long)(l61 - l60));
	assert_true(l61 > l60);
	SH(guest, "ip -6 neigh show fe80::1 dev eth0 | grep -Eq 'REACHABLE|STALE|DELAY|PROBE'");
	/* another link-local address than its own: dropped, TCP or not */
	SH(guest, "ip -6 addr add fe80::2/64 dev eth0 nodad");
	int64_t f60 = drop_count("netdev", "t1", "IPv6 from a foreign address");
	assert_string_equal(connect6_from_via(guest, "fe80::2", "fe80::1", "eth0", 7002, host6, 1000), "");
	send_na(guest, "fe80::2");
	int64_t f61 = drop_count("netdev", "t1", "IPv6 from a foreign address");
	print_message("guest foreign link-local dropped: %lld packets\n", (long long)(f61 - f60));
	assert_true(f61 > f60);
	SH(guest, "ip -6 addr del fe80::2/64 dev eth0");
	/* neighbour advertisements: for its own address only (one for the
	 * second guest's would draw its traffic) */
	int64_t na0 = drop_count("netdev", "t1", "neighbour advertisement for a foreign address");
	send_na(guest, TLL);
	int64_t na1 = drop_count("netdev", "t1", "neighbour advertisement for a foreign address");
	send_na(guest, "fe80::3");
	send_na(guest, "fe80::1");
	int64_t na2 = drop_count("netdev", "t1", "neighbour advertisement for a foreign address");
	print_message("foreign neighbour advertisements dropped: %lld\n", (long long)(na2 - na1));
	assert_true(na1 == na0 && na2 == na1 + 2);
	/* its MAC address is the one it was given: with another one (guest
	 * root has NET_ADMIN in its namespace), nothing gets through, and
	 * ARP for its own address from there neither */
	int64_t m0 = drop_count("netdev", "t1", "foreign MAC address");
	SH(guest, "ip link set eth0 address 02:00:5e:99:99:99");
	assert_string_equal(connect_via(guest, NULL, "203.0.113.2", 8080, web, 1000), "");
	int64_t m1 = drop_count("netdev", "t1", "foreign MAC address");
	print_message("frames from a foreign MAC dropped: %lld\n", (long long)(m1 - m0));
	assert_true(m1 > m0);
	SH(guest, "ip link set eth0 address 02:00:5e:10:20:30");
	assert_string_equal(connect_via(guest, NULL, "203.0.113.2", 8080, web, 3000), "203.0.113.1");

	/* without the rules, no forward and no masquerade */
	assert_int_equal(vs_nft_guest_del("t1", &e), 0);
	assert_string_equal(connect_via(inet, NULL, "203.0.113.1", 10022, ssh, 1000), "");
	assert_string_equal(connect_via(guest, "10.88.0.2", "203.0.113.2", 8080, web, 1000), "");

	close(web);
	close(ssh);
	close(hostl);
	close(hostl2);
	close(meta);
	close(host6);
	close(guest);
	close(guest2);
	close(inet);
}

#define T(f) cmocka_unit_test(f)
#define R(f) cmocka_unit_test_setup_teardown(f, setup_real, teardown_real)

int main(void)
{
	/* Root: everything from here on happens in a network namespace of
	 * our own; if that fails, no real test runs. */
	if (geteuid() == 0) {
		initial_ns_ino = ns_ino("/proc/self/ns/net");
		if (unshare(CLONE_NEWNET) == 0 && ns_ino("/proc/self/ns/net") != initial_ns_ino) {
			host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			private_ns = host_ns >= 0 && access("/usr/sbin/nft", X_OK) == 0 &&
				     sh_ns(-1, "ip link set lo up && nft list ruleset >/dev/null") == 0;
		}
	}
	const struct CMUnitTest tests[] = {
		T(test_ruleset_routed_v4),
		T(test_ruleset_bridge_v4v6),
		T(test_ruleset_masquerade_only),
		T(test_ruleset_no_nat),
		T(test_ruleset_v6_only),
		T(test_name_injection),
		T(test_invalid_input),
		R(test_real_add_del),
		R(test_real_variants),
		R(test_real_failed_add),
		R(test_real_packets),
	};
	return cmocka_run_group_tests_name("nft", tests, NULL, NULL);
}
