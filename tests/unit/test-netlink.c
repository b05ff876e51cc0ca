/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/netlink.c against the real kernel (root only; every
 * test is skipped otherwise).
 *
 * Safety: before anything else the process moves into a network namespace
 * and a mount namespace of its own (unshare), and every test starts in yet
 * another fresh network namespace, so the host's interfaces, addresses and
 * routes are never seen nor touched, and no packet leaves.  A "second"
 * namespace (for a veth peer) is made the same way: unshare again, keep an
 * fd of it, setns back.  The one child (address churn for the dump
 * test) lives in the test's namespace and is killed by its pid.  sysfs is
 * mounted again (in the private mount namespace) so that /sys/class/net
 * shows the test's namespace: it checks what the library reports
 * independently. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <cmocka.h>

#include "netlink.h"
#include "util.h"

static bool isolated; /* in private network and mount namespaces */
static struct vs_nl *nl;
static vs_err err;

/* ---- helpers ------------------------------------------------------------- */

/* Replace the current network namespace with a new, empty one; /sys shows
 * it (sysfs shows the namespace of whoever mounts it). */
static int fresh_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -1;
	return 0;
}

/* A second namespace, left as an fd; the current one is unchanged. */
static int second_netns(void)
{
	_cleanup_close_ int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(here >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(here, CLONE_NEWNET), 0);
	return fd;
}

/* A netlink socket opened in namespace `fd`. */
static struct vs_nl *nl_in(int fd)
{
	_cleanup_close_ int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(here >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	struct vs_nl *n = NULL;
	int r = vs_nl_open(&n, &err);
	assert_int_equal(setns(here, CLONE_NEWNET), 0);
	assert_int_equal(r, 0);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (!isolated)
		return 0;
	if (fresh_netns() < 0) {
		print_error("fresh network namespace: %s\n", strerror(errno));
		return -1;
	}
	vs_err_clear(&err);
	return vs_nl_open(&nl, &err);
}

static int teardown(void **state)
{
	(void)state;
	vs_nl_close(nl);
	nl = NULL;
	return 0;
}

#define NEED_ROOT()                                                   \
	do {                                                          \
		if (!isolated)                                        \
			skip();                                       \
	} while (0)

/* Assert success, showing the library's message if not. */
#define OK(call)                                                      \
	do {                                                          \
		int _r = (call);                                      \
		if (_r < 0)                                           \
			fail_msg("%s: %s", #call, err.msg);           \
	} while (0)

static int ifindex(const char *name)
{
	int r = vs_nl_ifindex(nl, name, &err);
	if (r < 0)
		fail_msg("ifindex %s: %s", name, err.msg);
	return r;
}

static void ip(struct vs_ipaddr *a, const char *s)
{
	vs_err e;
	if (vs_ip_parse(s, a, &e) < 0)
		fail_msg("%s", e.msg);
}

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void veth_up(const char *a, const char *b)
{
	OK(vs_nl_veth_add(nl, a, b, -1, 0, NULL, &err));
	OK(vs_nl_link_set_up(nl, ifindex(a), true, &err));
	OK(vs_nl_link_set_up(nl, ifindex(b), true, &err));
}

/* IFF_* of a link, read with an ioctl (not netlink). */
static short ioctl_flags(const char *name)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	return ifr.ifr_flags;
}

static bool sys_exists(const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "/sys/class/net/%s", name);
	return access(p, F_OK) == 0;
}

/* Does /proc/net/{route,ipv6_route} (this namespace's) have a line with
 * every one of the words? */
static bool proc_route_has(const char *file, const char *const *words)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	assert_non_null(f);
	char line[512];
	while (fgets(line, sizeof line, f)) {
		bool all = true;
		for (const char *const *w = words; *w && all; w++)
			all = strstr(line, *w) != NULL;
		if (all)
			return true;
	}
	return false;
}

static const struct vs_nl_addr *find_addr(const struct vs_nl_addr *l, size_t n, const char *s)
{
	struct vs_ipaddr a;
	ip(&a, s);
	for (size_t i = 0; i < n; i++)
		if (l[i].ip.family == a.family && !memcmp(l[i].ip.addr, a.addr, a.family == AF_INET ? 4 : 16))
			return &l[i];
	return NULL;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_ifindex(void **state)
{
	(void)state;
	NEED_ROOT();
	/* lo is the first link of every namespace */
	assert_int_equal(ifindex("lo"), 1);
	assert_int_equal(ifindex("vs-missing"), 0);
	assert_int_equal(vs_nl_ifindex(nl, "0123456789abcdef", &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	assert_int_equal(vs_nl_ifindex(nl, "", &err), -1);
}

static void test_bridge_add(void **state)
{
	(void)state;
	NEED_ROOT();
	OK(vs_nl_bridge_add(nl, "vsbr0", &err));
	int b = ifindex("vsbr0");
	assert_true(b > 1);
	struct vs_nl_link l;
	OK(vs_nl_link_get(nl, b, &l, &err));
	assert_string_equal(l.name, "vsbr0");
	assert_string_equal(l.kind, "bridge");
	assert_int_equal(l.master, 0);
	assert_false(l.up);
	assert_true(sys_exists("vsbr0/bridge"));

	assert_int_equal(vs_nl_bridge_add(nl, "vsbr0", &err), -1);
	assert_int_equal(err.kind, VS_E_SYSTEM);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "creating bridge vsbr0: File exists");

	assert_int_equal(vs_nl_bridge_add(nl, "bad/name", &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
}

static void test_veth_peer_netns(void **state)
{
	(void)state;
	NEED_ROOT();
	_cleanup_close_ int ns2 = second_netns();
	OK(vs_nl_veth_add(nl, "vsv0", "vsp0", ns2, 0, NULL, &err));
	_cleanup_nl_ struct vs_nl *nl2 = nl_in(ns2);

	/* the host end here, the peer there and only there */
	int h = ifindex("vsv0");
	assert_true(h > 0);
	assert_int_equal(ifindex("vsp0"), 0);
	assert_false(sys_exists("vsp0"));
	int p = vs_nl_ifindex(nl2, "vsp0", &err);
	assert_true(p > 0);
	assert_int_equal(vs_nl_ifindex(nl2, "vsv0", &err), 0);
	struct vs_nl_link l;
	OK(vs_nl_link_get(nl2, p, &l, &err));
	assert_string_equal(l.kind, "veth");
	assert_string_equal(l.name, "vsp0");

	/* the peer's name is taken in that namespace: EEXIST, named */
	assert_int_equal(vs_nl_veth_add(nl, "vsv1", "vsp0", ns2, 0, NULL, &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "vsv1/vsp0");
	assert_int_equal(ifindex("vsv1"), 0);

	/* both ends in this namespace */
	OK(vs_nl_veth_add(nl, "vsv2", "vsp2", -1, 0, NULL, &err));
	assert_true(ifindex("vsv2") > 0);
	assert_true(ifindex("vsp2") > 0);
}

static void test_master_up(void **state)
{
	(void)state;
	NEED_ROOT();
	OK(vs_nl_bridge_add(nl, "vsbr0", &err));
	OK(vs_nl_veth_add(nl, "vsv0", "vsp0", -1, 65535, NULL, &err));
	int b = ifindex("vsbr0"), h = ifindex("vsv0");
	OK(vs_nl_link_set_master(nl, h, b, &err));
	OK(vs_nl_link_set_up(nl, h, true, &err));
	OK(vs_nl_link_set_up(nl, b, true, &err));

	struct vs_nl_link l;
	OK(vs_nl_link_get(nl, h, &l, &err));
	assert_int_equal(l.mtu, 65535);              /* both ends made with the MTU asked for */
	OK(vs_nl_link_get(nl, ifindex("vsp0"), &l, &err));
	assert_int_equal(l.mtu, 65535);
	OK(vs_nl_link_get(nl, b, &l, &err));
	assert_int_equal(l.mtu, 65535);              /* a bridge takes its ports' smallest MTU */
	OK(vs_nl_link_get(nl, h, &l, &err));
	assert_int_equal(l.master, b);
	assert_true(l.up);
	assert_true(l.flags & IFF_UP);
	assert_true(ioctl_flags("vsv0") & IFF_UP);
	assert_true(ioctl_flags("vsbr0") & IFF_UP);
	assert_false(ioctl_flags("vsp0") & IFF_UP);
	char target[PATH_MAX] = "";
	assert_true(readlink("/sys/class/net/vsv0/master", target, sizeof target - 1) > 0);
	assert_true(vs_str_endswith(target, "/vsbr0"));

	/* the list agrees */
	_cleanup_free_ struct vs_nl_link *all = NULL;
	size_t n;
	OK(vs_nl_link_list(nl, &all, &n, &err));
	assert_int_equal(n, 4); /* lo, vsbr0, vsv0, vsp0 */
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(all[i].name, "lo"))
			seen |= 1, assert_string_equal(all[i].kind, "");
		if (!strcmp(all[i].name, "vsv0"))
			seen |= 2, assert_int_equal(all[i].master, b), assert_string_equal(all[i].kind, "veth");
		if (!strcmp(all[i].name, "vsp0"))
			seen |= 4, assert_int_equal(all[i].master, 0), assert_false(all[i].up);
		if (!strcmp(all[i].name, "vsbr0"))
			seen |= 8, assert_true(all[i].up);
	}
	assert_int_equal(seen, 15);

	/* down again, and released */
	OK(vs_nl_link_set_up(nl, h, false, &err));
	assert_false(ioctl_flags("vsv0") & IFF_UP);
	OK(vs_nl_link_set_master(nl, h, 0, &err));
	OK(vs_nl_link_get(nl, h, &l, &err));
	assert_int_equal(l.master, 0);
	assert_false(sys_exists("vsv0/master"));

	/* a veth is no bridge */
	assert_int_equal(vs_nl_link_set_master(nl, b, ifindex("vsp0"), &err), -1);
	contains(err.msg, "adding vsbr0 to bridge vsp0: ");
}

static void test_addr_add(void **state)
{
	(void)state;
	NEED_ROOT();
	veth_up("vsv0", "vsp0");
	int h = ifindex("vsv0");
	struct vs_ipaddr a4, a6, h4;
	ip(&a4, "10.0.0.2/24");
	ip(&a6, "2001:db8::2/64");
	ip(&h4, "10.0.5.1");
	OK(vs_nl_addr_add(nl, h, &a4, "vsv0:web", &err));
	OK(vs_nl_addr_add(nl, h, &a6, NULL, &err));
	OK(vs_nl_addr_add(nl, h, &h4, NULL, &err)); /* no prefix: /32 */

	_cleanup_free_ struct vs_nl_addr *l = NULL;
	size_t n;
	OK(vs_nl_addr_list(nl, &l, &n, &err));
	const struct vs_nl_addr *x = find_addr(l, n, "10.0.0.2");
	assert_non_null(x);
	assert_int_equal(x->ifindex, h);
	assert_int_equal(x->ip.family, AF_INET);
	assert_int_equal(x->ip.prefix, 24);
	assert_string_equal(x->label, "vsv0:web");
	x = find_addr(l, n, "10.0.5.1");
	assert_non_null(x);
	assert_int_equal(x->ip.prefix, 32);
	assert_string_equal(x->label, "vsv0");
	x = find_addr(l, n, "2001:db8::2");
	assert_non_null(x);
	assert_int_equal(x->ifindex, h);
	assert_int_equal(x->ip.prefix, 64);
	assert_string_equal(x->label, "");
	assert_true(x->flags & IFA_F_NODAD);
	assert_false(x->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));

	/* the broadcast address derived from the prefix, seen by ioctl */
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "vsv0:web");
	assert_int_equal(ioctl(s, SIOCGIFBRDADDR, &ifr), 0);
	char brd[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_broadaddr)->sin_addr, brd, sizeof brd);
	assert_string_equal(brd, "10.0.0.255");

	/* and the IPv6 one is usable at once: /proc says not tentative */
	_cleanup_fclose_ FILE *f = fopen("/proc/net/if_inet6", "re");
	assert_non_null(f);
	char line[256];
	bool found = false;
	while (fgets(line, sizeof line, f)) {
		char hex[40], dev[32];
		unsigned idx, plen, scope, flags;
		if (sscanf(line, "%39s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags, dev) == 6 &&
		    !strcmp(hex, "20010db8000000000000000000000002")) {
			found = true;
			assert_int_equal(plen, 64);
			assert_false(flags & IFA_F_TENTATIVE);
		}
	}
	assert_true(found);

	/* duplicates: EEXIST, address and device named */
	assert_int_equal(vs_nl_addr_add(nl, h, &a4, NULL, &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "adding 10.0.0.2/24 to vsv0: File exists");
	assert_int_equal(vs_nl_addr_add(nl, h, &a6, NULL, &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "adding 2001:db8::2/64 to vsv0: File exists");

	/* a label must name the device */
	struct vs_ipaddr b4;
	ip(&b4, "10.0.0.3/24");
	assert_int_equal(vs_nl_addr_add(nl, h, &b4, "eth0:web", &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	contains(err.msg, "eth0:web");
}

static void test_addr_del(void **state)
{
	(void)state;
	NEED_ROOT();
	veth_up("vsv0", "vsp0");
	int h = ifindex("vsv0");
	struct vs_ipaddr a4, a6, other;
	ip(&a4, "10.0.0.2/24");
	ip(&a6, "2001:db8::2/64");
	OK(vs_nl_addr_add(nl, h, &a4, NULL, &err));
	OK(vs_nl_addr_add(nl, h, &a6, NULL, &err));

	/* the prefix is part of the address: /16 is another one */
	ip(&other, "10.0.0.2/16");
	assert_int_equal(vs_nl_addr_del(nl, h, &other, &err), -1);
	assert_int_equal(err.errnum, EADDRNOTAVAIL);
	contains(err.msg, "removing 10.0.0.2/16 from vsv0: ");

	OK(vs_nl_addr_del(nl, h, &a4, &err));
	OK(vs_nl_addr_del(nl, h, &a6, &err));
	_cleanup_free_ struct vs_nl_addr *l = NULL;
	size_t n;
	OK(vs_nl_addr_list(nl, &l, &n, &err));
	assert_null(find_addr(l, n, "10.0.0.2"));
	assert_null(find_addr(l, n, "2001:db8::2"));

	assert_int_equal(vs_nl_addr_del(nl, h, &a6, &err), -1);
	assert_int_equal(err.errnum, EADDRNOTAVAIL);
	contains(err.msg, "removing 2001:db8::2/64 from vsv0: ");
}

static void test_addr_list_many(void **state)
{
	(void)state;
	NEED_ROOT();
	/* more addresses than one 32 KiB datagram holds: a multi-part dump */
	veth_up("vsv0", "vsp0");
	int h = ifindex("vsv0");
	for (int i = 0; i < 600; i++) {
		char s[32];
		snprintf(s, sizeof s, "10.1.%d.%d/16", i / 200, i % 200 + 1);
		struct vs_ipaddr a;
		ip(&a, s);
		OK(vs_nl_addr_add(nl, h, &a, NULL, &err));
	}
	_cleanup_free_ struct vs_nl_addr *l = NULL;
	size_t n;
	OK(vs_nl_addr_list(nl, &l, &n, &err));
	size_t mine = 0;
	for (size_t i = 0; i < n; i++)
		mine += l[i].ifindex == h && l[i].ip.family == AF_INET;
	assert_int_equal(mine, 600);
	assert_non_null(find_addr(l, n, "10.1.2.200"));
}

/* Dumps while another process keeps adding and removing addresses: some
 * get interrupted (NLM_F_DUMP_INTR) and must be retried, or the addresses
 * after a removed one could be skipped or listed twice. */
static void test_addr_list_churn(void **state)
{
	(void)state;
	NEED_ROOT();
	veth_up("vsv0", "vsp0");
	int h = ifindex("vsv0");
	for (int i = 0; i < 1000; i++) {
		char s[32];
		snprintf(s, sizeof s, "10.1.%d.%d/16", i / 200, i % 200 + 1);
		struct vs_ipaddr a;
		ip(&a, s);
		OK(vs_nl_addr_add(nl, h, &a, NULL, &err));
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* primaries of other subnets go before the secondaries above */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct vs_nl *c = NULL;
		if (vs_nl_open(&c, &err) < 0)
			_exit(1);
		for (unsigned i = 0;; i++) {
			struct vs_ipaddr a = { AF_INET, { 10, 3, (uint8_t)(i % 8), 1 }, 24 };
			vs_nl_addr_add(c, h, &a, NULL, &err);
			/* busy, but not so busy that no dump can ever finish */
			usleep(2000);
			if (i % 8 == 7)
				for (int j = 0; j < 8; j++) {
					a.addr[2] = (uint8_t)j;
					vs_nl_addr_del(c, h, &a, &err);
				}
		}
	}
	for (int round = 0; round < 200; round++) {
		_cleanup_free_ struct vs_nl_addr *l = NULL;
		size_t n;
		if (vs_nl_addr_list(nl, &l, &n, &err) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("round %d: %s", round, err.msg);
		}
		size_t stable = 0;
		for (size_t i = 0; i < n; i++)
			stable += l[i].ip.family == AF_INET && l[i].ip.addr[1] == 1;
		if (stable != 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("round %d: %zu of the 1000 stable addresses listed", round, stable);
		}
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void test_routes(void **state)
{
	(void)state;
	NEED_ROOT();
	/* lo up, as in any guest: without a single local IPv4 address the
	 * kernel has no local table, and refuses every gateway ("Nexthop has
	 * invalid gateway"), even onlink */
	OK(vs_nl_link_set_up(nl, 1, true, &err));
	veth_up("vsv0", "vsp0");
	int h = ifindex("vsv0");
	assert_int_equal(vs_nl_route_default_oif(nl, AF_INET, &err), 0);   /* no default route yet */
	struct vs_ipaddr a6;
	ip(&a6, "2001:db8::2/64");
	OK(vs_nl_addr_add(nl, h, &a6, NULL, &err));

	/* a host route out of the veth, no gateway */
	uint8_t host[4] = { 10, 9, 9, 9 };
	OK(vs_nl_route_add(nl, AF_INET, host, 32, NULL, h, false, 0, &err));
	assert_true(proc_route_has("/proc/net/route", (const char *const[]){ "vsv0\t0909090A\t00000000\t0005",
		"FFFFFFFF", NULL }));
	/* a default route via a gateway in no subnet of ours: onlink */
	uint8_t gw[4] = { 192, 168, 77, 1 };
	OK(vs_nl_route_add(nl, AF_INET, NULL, 0, gw, h, true, 0, &err));
	assert_true(proc_route_has("/proc/net/route", (const char *const[]){ "vsv0\t00000000\t014DA8C0\t0003",
		NULL }));
	/* the same without onlink: the gateway is unreachable */
	uint8_t gw2[4] = { 192, 168, 78, 1 };
	assert_int_equal(vs_nl_route_add(nl, AF_INET, host, 32, gw2, h, false, 0, &err), -1);
	contains(err.msg, "adding route 10.9.9.9/32 via 192.168.78.1 dev vsv0: ");

	/* IPv6: a host route and a default route via a link-local gateway */
	uint8_t host6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 9 };
	uint8_t gw6[16] = { 0xfe, 0x80, [15] = 1 };
	OK(vs_nl_route_add(nl, AF_INET6, host6, -1, NULL, h, false, 0, &err));
	OK(vs_nl_route_add(nl, AF_INET6, NULL, 0, gw6, h, false, 0, &err));
	assert_true(proc_route_has("/proc/net/ipv6_route", (const char *const[]){
		"20010db8000900000000000000000009 80 ", "vsv0", NULL }));
	assert_true(proc_route_has("/proc/net/ipv6_route", (const char *const[]){
		"00000000000000000000000000000000 00 ", "fe800000000000000000000000000001", "vsv0", NULL }));

	/* the default routes' device */
	assert_int_equal(vs_nl_route_default_oif(nl, AF_INET6, &err), h);
	/* a route with an MTU metric below the device's (what ip-route(8) shows as "mtu N") */
	uint8_t net3[4] = { 10, 9, 3, 0 };
	OK(vs_nl_route_add(nl, AF_INET, net3, 24, NULL, h, false, 1400, &err));
	FILE *p = popen("ip -4 route show 10.9.3.0/24", "r");
	char line[256] = "";
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof line, p));
	pclose(p);
	contains(line, "mtu 1400");
	assert_int_equal(vs_nl_route_default_oif(nl, AF_INET, &err), h);

	/* twice: EEXIST, the route named */
	assert_int_equal(vs_nl_route_add(nl, AF_INET, NULL, 0, gw, h, true, 0, &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "adding route default via 192.168.77.1 dev vsv0 onlink: File exists");

	/* removal */
	OK(vs_nl_route_del(nl, AF_INET, host, 32, NULL, h, &err));
	assert_false(proc_route_has("/proc/net/route", (const char *const[]){ "0909090A", NULL }));
	OK(vs_nl_route_del(nl, AF_INET6, NULL, 0, gw6, h, &err));
	assert_false(proc_route_has("/proc/net/ipv6_route", (const char *const[]){ "fe800000000000000000000000000001",
		NULL }));
	assert_int_equal(vs_nl_route_del(nl, AF_INET, host, 32, NULL, h, &err), -1);
	assert_int_equal(err.errnum, ESRCH);
	contains(err.msg, "removing route 10.9.9.9/32 dev vsv0: ");
}

static void test_extack(void **state)
{
	(void)state;
	NEED_ROOT();
	/* a route out of a link that is down: the kernel says why */
	OK(vs_nl_veth_add(nl, "vsv0", "vsp0", -1, 0, NULL, &err));
	uint8_t host[4] = { 10, 9, 9, 9 };
	assert_int_equal(vs_nl_route_add(nl, AF_INET, host, 32, NULL, ifindex("vsv0"), false, 0, &err), -1);
	assert_int_equal(err.errnum, ENETDOWN);
	contains(err.msg, "adding route 10.9.9.9/32 dev vsv0: Network is down (");
	/* and the socket goes on */
	assert_int_equal(ifindex("lo"), 1);
}

static void test_link_del(void **state)
{
	(void)state;
	NEED_ROOT();
	_cleanup_close_ int ns2 = second_netns();
	_cleanup_nl_ struct vs_nl *nl2 = nl_in(ns2);
	OK(vs_nl_veth_add(nl, "vsv0", "vsp0", ns2, 0, NULL, &err));
	assert_true(vs_nl_ifindex(nl2, "vsp0", &err) > 0);
	OK(vs_nl_link_del(nl, ifindex("vsv0"), &err));
	assert_int_equal(ifindex("vsv0"), 0);
	assert_false(sys_exists("vsv0"));
	assert_int_equal(vs_nl_ifindex(nl2, "vsp0", &err), 0);

	/* a bridge */
	OK(vs_nl_bridge_add(nl, "vsbr0", &err));
	OK(vs_nl_link_del(nl, ifindex("vsbr0"), &err));
	assert_int_equal(ifindex("vsbr0"), 0);
}

static void test_rename(void **state)
{
	(void)state;
	NEED_ROOT();
	OK(vs_nl_veth_add(nl, "vsv0", "vsp0", -1, 0, NULL, &err));
	int h = ifindex("vsv0");
	OK(vs_nl_link_rename(nl, h, "vsv9", &err));
	assert_int_equal(ifindex("vsv9"), h);
	assert_int_equal(ifindex("vsv0"), 0);
	assert_int_equal(vs_nl_link_rename(nl, h, "vsp0", &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	contains(err.msg, "renaming vsv9 to vsp0: File exists");
}

static void test_bad_ifindex(void **state)
{
	(void)state;
	NEED_ROOT();
	const int bad = 99999;
	assert_int_equal(vs_nl_link_set_up(nl, bad, true, &err), -1);
	assert_int_equal(err.kind, VS_E_SYSTEM);
	assert_int_equal(err.errnum, ENODEV);
	contains(err.msg, "bringing up ifindex 99999: No such device");

	struct vs_ipaddr a;
	ip(&a, "10.0.0.2/24");
	assert_int_equal(vs_nl_addr_add(nl, bad, &a, NULL, &err), -1);
	assert_int_equal(err.errnum, ENODEV);
	contains(err.msg, "adding 10.0.0.2/24 to ifindex 99999: No such device");
	assert_int_equal(vs_nl_addr_add(nl, bad, &a, "x", &err), -1);
	assert_int_equal(err.errnum, ENODEV);

	assert_int_equal(vs_nl_link_del(nl, bad, &err), -1);
	assert_int_equal(err.errnum, ENODEV);
	contains(err.msg, "deleting ifindex 99999: No such device");

	assert_int_equal(vs_nl_link_set_master(nl, 1, bad, &err), -1);
	assert_int_equal(err.errnum, EINVAL); /* the kernel's answer for a missing master */
	contains(err.msg, "adding lo to bridge ifindex 99999: ");

	struct vs_nl_link l;
	assert_int_equal(vs_nl_link_get(nl, bad, &l, &err), -1);
	assert_int_equal(err.errnum, ENODEV);
	contains(err.msg, "99999");

	uint8_t host[4] = { 10, 9, 9, 9 };
	assert_int_equal(vs_nl_route_add(nl, AF_INET, host, 32, NULL, bad, false, 0, &err), -1);
	assert_int_equal(err.errnum, ENODEV);
	contains(err.msg, "dev ifindex 99999: No such device");
}

int main(void)
{
	if (geteuid() == 0) {
		/* Everything from here on happens in namespaces of our own; if
		 * they cannot be had, nothing is run at all. */
		if (unshare(CLONE_NEWNET | CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
			isolated = true;
		else
			fprintf(stderr, "test-netlink: no private namespaces (%s): skipping\n", strerror(errno));
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ifindex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_veth_peer_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_list_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_list_churn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ifindex, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
