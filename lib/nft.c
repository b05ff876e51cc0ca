/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-side nftables rules of a guest (see nft.h).
 *
 * The rules are written as nft text and loaded with libnftables in one
 * nft_run_cmd_from_buffer call, which libnftables sends as one netlink
 * batch: the kernel commits all of it or nothing.  Replacing a guest's
 * tables is "table X; delete table X; table X { ... }" per table: the
 * empty "table X" (add, a no-op if it exists) makes the delete valid
 * when the table does not exist yet, and the delete drops the old rules
 * so the new ones never pile up on top of them.
 *
 * Every name that ends up in the text is checked against [A-Za-z0-9_.-]
 * first (device names are also quoted): whatever a caller hands in, it
 * cannot add nft syntax (a '"', ';', newline, '}' ...) to the ruleset
 * and so cannot reach another table. */
#include "nft.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

/* Table name is "vserver-NAME"; callers allow 12 characters, this is only
 * a sanity bound well below the kernel's 256. */
#define NAME_MAX_LEN 64
/* Text of one address, or of a network ("ADDR/PREFIX"). */
#define ADDR_TEXT_LEN (INET6_ADDRSTRLEN + 8)

static bool word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '.' || *p == '-'))
			return false;
	return true;
}

static int check_name(const char *name, vs_err *err)
{
	if (!name)
		return vs_fail(err, VS_E_INVALID, 0, "nftables: no guest name");
	if (!word_ok(name, NAME_MAX_LEN)) {
		_cleanup_free_ char *e = vs_escape(name);
		return vs_fail(err, VS_E_INVALID, 0,
			       "guest name '%s' cannot be used in nftables rules (1..%d of A-Z a-z 0-9 _ . -)", e,
			       NAME_MAX_LEN);
	}
	return 0;
}

static int check_dev(const char *what, const char *dev, vs_err *err)
{
	if (!dev)
		return vs_fail(err, VS_E_INVALID, 0, "nftables: no %s device", what);
	if (!word_ok(dev, IFNAMSIZ - 1)) {
		_cleanup_free_ char *e = vs_escape(dev);
		return vs_fail(err, VS_E_INVALID, 0,
			       "%s device '%s' cannot be used in nftables rules (1..%d of A-Z a-z 0-9 _ . -)", what, e,
			       IFNAMSIZ - 1);
	}
	return 0;
}

/* ---- addresses ------------------------------------------------------------ */

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool is_zero(const struct vs_ipaddr *a)
{
	static const uint8_t z[16];
	return !memcmp(a->addr, z, alen(a->family));
}

static bool is_multicast(const struct vs_ipaddr *a)
{
	return a->family == AF_INET ? (a->addr[0] & 0xf0) == 0xe0 : a->addr[0] == 0xff;
}

static bool is_loopback(const struct vs_ipaddr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	return a->family == AF_INET ? a->addr[0] == 127 : !memcmp(a->addr, v6lo, 16);
}

/* fe80::/10: always accepted from the guest (the kernel gives every
 * interface one), never a NAT address (not routed). */
static bool is_linklocal(const struct vs_ipaddr *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

/* The bare address: the guest's prefix length says which network it is
 * on, the rules are about that one address. */
static void addr_text(const struct vs_ipaddr *a, char *buf, size_t len)
{
	struct vs_ipaddr t = *a;
	t.prefix = -1;
	vs_ip_format(&t, buf, len);
}

/* Its network: "10.88.0.0/24" for 10.88.0.2/24; a bare address without
 * a prefix length (or with a full one). */
static void net_text(const struct vs_ipaddr *a, char *buf, size_t len)
{
	int bits = (int)alen(a->family) * 8;
	if (a->prefix < 0 || a->prefix >= bits) {
		addr_text(a, buf, len);
		return;
	}
	struct vs_ipaddr n = *a;
	for (int i = 0; i < bits; i++)
		if (i >= a->prefix)
			n.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	vs_ip_format(&n, buf, len);
}

/* The guest's addresses (or their networks) of one family as nft text,
 * duplicates dropped; never link-local ones (see is_linklocal). */
typedef struct addr_list {
	char (*v)[ADDR_TEXT_LEN];
	size_t n;
} addr_list;

static void addr_list_free(addr_list *l)
{
	free(l->v);
}
#define _cleanup_addrs_ __attribute__((cleanup(addr_list_free)))

static void collect(const struct vs_nft_guest *g, int family, bool nets, addr_list *l)
{
	l->v = vs_xmalloc0((g->n_addrs + 1) * sizeof *l->v);
	l->n = 0;
	for (size_t i = 0; i < g->n_addrs; i++) {
		const struct vs_ipaddr *a = &g->addrs[i];
		if (a->family != family || is_linklocal(a))
			continue;
		/* the same address twice counts once, with its first
		 * prefix length */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = vs_ip_equal(a, &g->addrs[j]);
		if (dup)
			continue;
		(nets ? net_text : addr_text)(a, l->v[l->n], ADDR_TEXT_LEN);
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = !strcmp(l->v[j], l->v[l->n]);
		if (!dup)
			l->n++;
	}
}

/* "A" for one address, "{ A, B }" for more (what nft itself prints);
 * extra: more elements (text) appended to the set. */
static void put_set(FILE *f, const addr_list *l, const char *extra)
{
	if (l->n == 1 && !extra) {
		fputs(l->v[0], f);
		return;
	}
	fputs("{ ", f);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s", i ? ", " : "", l->v[i]);
	if (extra)
		fprintf(f, "%s%s", l->n ? ", " : "", extra);
	fputs(" }", f);
}

/* ---- validation ----------------------------------------------------------- */

static bool has_family(const struct vs_nft_guest *g, int family)
{
	for (size_t i = 0; i < g->n_addrs; i++)
		if (g->addrs[i].family == family && !is_linklocal(&g->addrs[i]))
			return true;
	return false;
}

static int check_guest(const struct vs_nft_guest *g, vs_err *err)
{
	if (!g)
		return vs_fail(err, VS_E_INVALID, 0, "nftables: no guest");
	if (check_name(g->name, err) < 0 || check_dev("veth", g->veth, err) < 0)
		return -1;
	if (!g->mac)
		return vs_fail(err, VS_E_INVALID, 0, "nftables: guest %s: no MAC address", g->name);
	if (g->bridge && check_dev("bridge", g->bridge, err) < 0)
		return -1;
	if ((g->n_addrs && !g->addrs) || (g->n_fwd && !g->fwd) || (g->n_host_ports && !g->host_ports))
		return vs_fail(err, VS_E_INVALID, 0, "nftables: address, forward or host port list missing");
	for (size_t i = 0; i < g->n_addrs; i++) {
		const struct vs_ipaddr *a = &g->addrs[i];
		char t[ADDR_TEXT_LEN];
		if (a->family != AF_INET && a->family != AF_INET6)
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: address %zu has no address family", g->name, i);
		/* the anti-spoofing rules would let the guest send from
		 * these: an unspecified, multicast or loopback source is
		 * never a guest's own */
		if (is_zero(a) || is_multicast(a) || is_loopback(a)) {
			addr_text(a, t, sizeof t);
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: %s is not a unicast address", g->name, t);
		}
	}
	for (size_t i = 0; i < g->n_fwd; i++) {
		const struct vs_nft_forward *f = &g->fwd[i];
		const struct vs_ipaddr *h = &f->host_addr;
		if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: forward %zu is neither tcp nor udp", g->name, i);
		if (!f->host_port || !f->guest_port)
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: forward %zu has port 0", g->name, i);
		if (h->family == 0) {
			if (!has_family(g, AF_INET) && !has_family(g, AF_INET6))
				return vs_fail(err, VS_E_INVALID, 0,
					       "guest %s: port %u is forwarded but the guest has no address", g->name,
					       f->host_port);
			continue;
		}
		if (h->family != AF_INET && h->family != AF_INET6)
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: forward %zu has a bad address family", g->name, i);
		char t[ADDR_TEXT_LEN];
		addr_text(h, t, sizeof t);
		/* a DNAT from a loopback address would leave with a loopback
		 * source, which the kernel refuses to route out of lo */
		if (is_zero(h) || is_multicast(h) || is_loopback(h) || is_linklocal(h))
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: cannot forward from host address %s", g->name, t);
		if (!has_family(g, h->family))
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: forward from %s but the guest has no IPv%c address",
				       g->name, t, h->family == AF_INET ? '4' : '6');
	}
	for (size_t i = 0; i < g->n_host_ports; i++)
		if ((g->host_ports[i].proto != IPPROTO_TCP && g->host_ports[i].proto != IPPROTO_UDP) ||
		    !g->host_ports[i].port)
			return vs_fail(err, VS_E_INVALID, 0, "guest %s: host port %zu is not a tcp or udp port 1..65535",
				       g->name, i);
	return 0;
}

/* ---- the ruleset ---------------------------------------------------------- */

/* The guest's tables, one per family */
enum { T_IP, T_IP6, T_NETDEV, T_N };
static const char *const table_family[T_N] = { "ip", "ip6", "netdev" };

struct fam {
	int family;
	int table_id;         /* T_IP, T_IP6 */
	const char *table;    /* table family, also the address match keyword */
	const char *loopback; /* never DNAT from here (see put_forwards) */
};
static const struct fam fam4 = { AF_INET, T_IP, "ip", "127.0.0.0/8" };
static const struct fam fam6 = { AF_INET6, T_IP6, "ip6", "::1" };

/* The guest's table of family T goes away in this transaction, if it
 * exists.  have[] says which exist (read just before, under the guest's
 * lock): only those are deleted.  Without have[], the text works
 * whatever exists: "table F vserver-N" (an add, a no-op on an existing
 * table) makes the delete after it valid.  The difference is time: a
 * deleted table is freed by the kernel after an RCU grace period, which
 * the closing of the nftables socket waits for (10 ms here), so a first
 * start, which has nothing to delete, must not create one to delete it. */
static void put_drop_table(FILE *f, const bool *have, int t, const char *name)
{
	if (!have)
		fprintf(f, "table %s vserver-%s\n", table_family[t], name);
	if (!have || have[t])
		fprintf(f, "delete table %s vserver-%s\n", table_family[t], name);
}

static void put_forwards(FILE *f, const struct vs_nft_guest *g, const struct fam *fm, const char *target,
			 bool output)
{
	for (size_t i = 0; i < g->n_fwd; i++) {
		const struct vs_nft_forward *fw = &g->fwd[i];
		const char *proto = fw->proto == IPPROTO_TCP ? "tcp" : "udp";
		_cleanup_free_ char *match = NULL;
		if (fw->host_addr.family == 0) {
			/* In output, "local" includes 127.0.0.1: traffic to it
			 * keeps its loopback source, which cannot be routed
			 * to the guest, so it is left to host services. */
			if (output)
				match = vs_asprintf("%s daddr != %s fib daddr type local", fm->table, fm->loopback);
			else
				match = vs_strdup("fib daddr type local");
		} else if (fw->host_addr.family == fm->family) {
			char h[ADDR_TEXT_LEN];
			addr_text(&fw->host_addr, h, sizeof h);
			match = vs_asprintf("%s daddr %s", fm->table, h);
		} else {
			continue; /* the other family's table */
		}
		if (fm->family == AF_INET)
			fprintf(f, "\t\t%s %s dport %u dnat to %s:%u\n", match, proto, fw->host_port, target,
				fw->guest_port);
		else
			fprintf(f, "\t\t%s %s dport %u dnat to [%s]:%u\n", match, proto, fw->host_port, target,
				fw->guest_port);
	}
}

static size_t n_forwards(const struct vs_nft_guest *g, int family)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_fwd; i++)
		n += g->fwd[i].host_addr.family == 0 || g->fwd[i].host_addr.family == family;
	return n;
}

/* table ip / ip6 vserver-NAME: port forwards and masquerade. */
static void put_nat_table(FILE *f, const struct vs_nft_guest *g, const bool *have, const struct fam *fm)
{
	_cleanup_addrs_ addr_list a = { 0 }, nets = { 0 };
	collect(g, fm->family, false, &a);
	collect(g, fm->family, true, &nets);
	/* the guest's own bridge, or its veth if it is routed: what stays
	 * on the guest's own link */
	const char *link = g->bridge ? g->bridge : g->veth;
	bool fwd = a.n && n_forwards(g, fm->family);

	put_drop_table(f, have, fm->table_id, g->name);
	fprintf(f, "table %s vserver-%s {\n", fm->table, g->name);
	if (fwd) {
		fputs("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n", f);
		put_forwards(f, g, fm, a.v[0], false);
		/* locally generated packets skip prerouting: the same
		 * forwards once more so they work from the host itself */
		fputs("\t}\n\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n", f);
		put_forwards(f, g, fm, a.v[0], true);
		fputs("\t}\n", f);
	}
	if (a.n) {
		/* the host's own services: only those of net/host-ports (the
		 * source addresses are the guest's, anti-spoofing vouches) */
		bool v6 = fm->family == AF_INET6;
		fputs("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n", f);
		fprintf(f, "\t\t%s saddr ", fm->table);
		put_set(f, &a, NULL);
		fputs(" ct state established,related accept\n", f);
		fprintf(f, "\t\t%s saddr ", fm->table);
		put_set(f, &a, NULL);
		fputs(v6 ? " icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } "
			   "accept\n"
			 : " icmp type echo-request accept\n",
		      f);
		for (size_t i = 0; i < g->n_host_ports; i++) {
			fprintf(f, "\t\t%s saddr ", fm->table);
			put_set(f, &a, NULL);
			fprintf(f, " %s dport %u accept\n", g->host_ports[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				g->host_ports[i].port);
		}
		fprintf(f, "\t\t%s saddr ", fm->table);
		put_set(f, &a, NULL);
		fputs(" counter drop comment \"host service not in net/host-ports\"\n\t}\n", f);
		/* link-local destinations are not the guest's business beyond
		 * its own link: cloud metadata services live there */
		fputs("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n", f);
		fprintf(f, "\t\t%s saddr ", fm->table);
		put_set(f, &a, NULL);
		fprintf(f, " %s daddr %s counter drop comment \"link-local destination\"\n\t}\n", fm->table,
			v6 ? "fe80::/10" : "169.254.0.0/16");
	}
	if (fwd || (g->masquerade && a.n)) {
		fputs("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n", f);
		if (g->masquerade && a.n) {
			fprintf(f, "\t\t%s saddr ", fm->table);
			put_set(f, &a, NULL);
			fprintf(f, " oifname != \"%s\" masquerade\n", link);
		}
		if (fwd) {
			/* A forward used from the guest's own networks
			 * (another guest on the bridge, or the guest itself)
			 * would be answered directly on the link, past the
			 * DNAT: the reply must come back through the host.
			 * Not "iifname": with br_netfilter such a DNAT is
			 * bridged, and postrouting sees no input device. */
			fprintf(f, "\t\tct status dnat %s daddr ", fm->table);
			put_set(f, &a, NULL);
			fprintf(f, " %s saddr ", fm->table);
			put_set(f, &nets, NULL);
			fputs(" masquerade\n", f);
			/* From the host to a guest on a bridge: the source
			 * is some host address the guest may have no route
			 * back to (a bridge without a default route to the
			 * host); the bridge's own address it always reaches.
			 * A routed veth is the guest's only way out, and its
			 * host end may have no address to masquerade to. */
			if (g->bridge) {
				fprintf(f, "\t\tct status dnat %s daddr ", fm->table);
				put_set(f, &a, NULL);
				fputs(" fib saddr type local masquerade\n", f);
			}
		}
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
}

/* The guest's link-local address: fe80::/64 with the EUI-64 interface
 * identifier of its MAC address, what the kernel gives eth0 by default
 * (addr_gen_mode eui64). */
static void mac_linklocal(const uint8_t mac[6], struct vs_ipaddr *ll)
{
	*ll = (struct vs_ipaddr){ .family = AF_INET6, .prefix = -1,
				  .addr = { 0xfe, 0x80, [8] = mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4],
					    mac[5] } };
}

/* An IPv6 address as a 128-bit nft constant (for a raw payload match) */
static void put_hex6(FILE *f, const uint8_t a[16])
{
	fputs("0x", f);
	for (int i = 0; i < 16; i++)
		fprintf(f, "%02x", a[i]);
}

/* table netdev vserver-NAME: anti-spoofing before the frame reaches the
 * bridge or the host's stack.  Counters on the drops show an attempt.
 * Guest root has NET_ADMIN in its namespace: it can change its MAC
 * address and send whatever it likes.  So the frame's source MAC must
 * be the one vserver gave eth0 (a guest taking another's would draw its
 * traffic on the bridge), ARP must speak for the guest's own MAC and
 * addresses, and IPv6 neighbour discovery likewise: link-local source
 * only its own (a neighbour solicitation updates the receivers' cache
 * for its source address), neighbour advertisements only for its own
 * addresses, no router advertisements or redirects. */
static void put_netdev_table(FILE *f, const struct vs_nft_guest *g, const bool *have)
{
	_cleanup_addrs_ addr_list a4 = { 0 }, a6 = { 0 };
	collect(g, AF_INET, false, &a4);
	collect(g, AF_INET6, false, &a6);
	char mac[18], ll[ADDR_TEXT_LEN], own[ADDR_TEXT_LEN + 8];
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0], g->mac[1], g->mac[2], g->mac[3],
		 g->mac[4], g->mac[5]);
	struct vs_ipaddr lla;
	mac_linklocal(g->mac, &lla);
	addr_text(&lla, ll, sizeof ll);
	snprintf(own, sizeof own, "%s, ::", ll);

	put_drop_table(f, have, T_NETDEV, g->name);
	fprintf(f, "table netdev vserver-%s {\n\tchain ingress {\n", g->name);
	fprintf(f, "\t\ttype filter hook ingress device \"%s\" priority filter; policy drop;\n", g->veth);
	/* veth moves a VLAN tag into the skb (meta protocol then shows the
	 * inner protocol); "ether type" sees the tag either way.  Tagged
	 * frames would bypass a bridge without VLAN filtering. */
	fputs("\t\tether type { 8021q, 8021ad } counter drop comment \"VLAN-tagged\"\n", f);
	fprintf(f, "\t\tether saddr != %s counter drop comment \"foreign MAC address\"\n", mac);
	if (a4.n) {
		fputs("\t\tmeta protocol ip ip saddr ", f);
		put_set(f, &a4, NULL);
		fputs(" accept\n", f);
	}
	fputs("\t\tmeta protocol ip counter drop comment \"IPv4 from a foreign address\"\n", f);
	if (a4.n) {
		/* "arp saddr ip" reads a fixed offset: only Ethernet/IPv4
		 * ARP has the sender address there */
		fprintf(f, "\t\tmeta protocol arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether %s arp saddr ip ",
			mac);
		put_set(f, &a4, NULL);
		fputs(" accept\n", f);
	}
	fputs("\t\tmeta protocol arp counter drop comment \"ARP for a foreign address\"\n", f);
	fputs("\t\tmeta protocol ip6 icmpv6 type { nd-router-advert, nd-redirect } counter drop comment "
	      "\"router advertisement or redirect\"\n",
	      f);
	/* the target of an advertisement (nft 1.0.6 has no name for it: it
	 * follows type, code, checksum and flags) */
	fputs("\t\tmeta protocol ip6 icmpv6 type nd-neighbor-advert @th,64,128 != { ", f);
	put_hex6(f, lla.addr);
	for (size_t i = 0; i < g->n_addrs; i++) {
		const struct vs_ipaddr *a = &g->addrs[i];
		bool dup = a->family != AF_INET6 || is_linklocal(a);
		for (size_t j = 0; j < i && !dup; j++)
			dup = g->addrs[j].family == AF_INET6 && !memcmp(g->addrs[j].addr, a->addr, 16);
		if (!dup) {
			fputs(", ", f);
			put_hex6(f, a->addr);
		}
	}
	fputs(" } counter drop comment \"neighbour advertisement for a foreign address\"\n", f);
	/* Link-local and unspecified sources: the host's input filter
	 * (put_nat_table) does not cover them (nor does an IPv4-only guest
	 * have an ip6 table): past ICMPv6 they would reach any host service
	 * on the bridge's fe80:: address.  What the kernel itself sends from
	 * them is ICMPv6 (ND, MLD). */
	fprintf(f,
		"\t\tmeta protocol ip6 ip6 saddr { %s } meta l4proto != ipv6-icmp counter drop comment "
		"\"IPv6 link-local other than ICMPv6\"\n",
		own);
	/* its link-local address: neighbour discovery, router solicitation;
	 * the unspecified address: duplicate address detection */
	fputs("\t\tmeta protocol ip6 ip6 saddr ", f);
	put_set(f, &a6, own);
	fputs(" accept\n", f);
	fputs("\t\tmeta protocol ip6 counter drop comment \"IPv6 from a foreign address\"\n", f);
	fputs("\t\tcounter drop comment \"other protocols\"\n", f);
	fputs("\t}\n}\n", f);
}

/* The guest's tables as nft text, g's (g NULL: the tables of guest
 * `name` deleted, "" when there is nothing to delete); have[] as for
 * put_drop_table. */
static char *ruleset(const struct vs_nft_guest *g, const char *name, const bool *have, vs_err *err)
{
	if (g && check_guest(g, err) < 0)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		vs_fail_errno(err, "open_memstream");
		return NULL;
	}
	if (g) {
		fprintf(f, "# vserver guest %s: its tables, replaced in one transaction\n", g->name);
		put_nat_table(f, g, have, &fam4);
		if (has_family(g, AF_INET6))
			put_nat_table(f, g, have, &fam6);
		else
			put_drop_table(f, have, T_IP6, g->name); /* it may have had some */
		put_netdev_table(f, g, have);
	} else
		for (int t = 0; t < T_N; t++)
			put_drop_table(f, have, t, name);
	if (fclose(f) != 0) {
		vs_fail_errno(err, "open_memstream");
		free(buf);
		return NULL;
	}
	return buf;
}

char *vs_nft_ruleset(const struct vs_nft_guest *g)
{
	vs_err e;
	return g ? ruleset(g, NULL, NULL, &e) : NULL;
}

/* ---- libnftables ---------------------------------------------------------- */

static void nft_freep(struct nft_ctx **c)
{
	if (*c)
		nft_ctx_free(*c);
}

/* nft's error report, one line: its "Error: " lines (without that
 * prefix, repeats dropped) joined by "; ".  The lines in between quote
 * the command and underline the spot, which only makes sense on a
 * terminal (and for a batch, libnftables underlines some line of it). */
static char *error_text(const char *buf)
{
	_cleanup_free_ char *copy = vs_strdup(buf ? buf : "");
	_cleanup_strv_ vs_strv seen = { 0 };
	char *out = vs_strdup("");
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!vs_str_startswith(line, "Error: "))
			continue;
		line += strlen("Error: ");
		if (vs_strv_contains(&seen, line))
			continue;
		if (vs_strv_push(&seen, line) < 0)
			abort();
		char *t = vs_asprintf("%s%s%s", out, *out ? "; " : "", line);
		free(out);
		out = t;
	}
	if (!*out) {
		/* no "Error:" line: the text as it is, or a word at least */
		free(out);
		out = vs_strdup(buf && *buf ? buf : "failed (no message)");
		size_t n = strlen(out);
		while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = 0;
	}
	return out;
}

/* The context of the last transaction that deleted tables, still open.
 * The kernel frees deleted tables after an RCU grace period, and the
 * release of the nftables socket waits for that (10 ms and more here);
 * kept open, the wait overlaps the caller's next steps (the bridge's
 * removal, itself a few grace periods), and the close at
 * vs_nft_flush finds the work done. */
static struct nft_ctx *lingering;

void vs_nft_flush(void)
{
	nft_freep(&lingering);
	lingering = NULL;
}

/* Run nft commands; the output (if wanted) is returned malloc'd.  Output
 * and errors go to buffers: libnftables would print them otherwise.
 * linger: keep the context open until vs_nft_flush (see above). */
static int nft_run(const char *cmds, char **out, bool linger, vs_err *err)
{
	vs_nft_flush();
	__attribute__((cleanup(nft_freep))) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return vs_fail(err, VS_E_SYSTEM, ENOMEM, "nftables: cannot create a context");
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		return vs_fail(err, VS_E_SYSTEM, ENOMEM, "nftables: cannot buffer the output");
	if (nft_run_cmd_from_buffer(ctx, cmds) != 0) {
		_cleanup_free_ char *msg = error_text(nft_ctx_get_error_buffer(ctx));
		return vs_fail(err, VS_E_SYSTEM, 0, "nftables: %s", msg);
	}
	if (out) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		*out = vs_strdup(o ? o : "");
	}
	if (linger) {
		lingering = ctx;
		ctx = NULL;
	}
	return 0;
}

/* Which of the guest's tables exist (have[T_IP], [T_IP6], [T_NETDEV]) */
static int guest_tables(const char *name, bool have[T_N], vs_err *err)
{
	_cleanup_free_ char *out = NULL;
	if (nft_run("list tables", &out, false, err) < 0)
		return -1;
	char *want[T_N];
	for (int t = 0; t < T_N; t++) {
		have[t] = false;
		want[t] = vs_asprintf("table %s vserver-%s", table_family[t], name);
	}
	/* one "table FAMILY NAME" per line */
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (int t = 0; t < T_N; t++)
			have[t] |= !strcmp(line, want[t]);
	for (int t = 0; t < T_N; t++)
		free(want[t]);
	return 0;
}

/* The guest's tables replaced by g's (g NULL: deleted), as a transaction
 * made for the tables that exist now; should they change in between (an
 * administrator's nft), once more with the text that works whatever
 * exists.  A deletion keeps its socket open (vs_nft_flush). */
static int run_for_tables(const struct vs_nft_guest *g, const char *name, vs_err *err)
{
	bool have[T_N];
	if (guest_tables(name, have, err) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		const bool *h = pass == 0 ? have : NULL;
		_cleanup_free_ char *text = ruleset(g, name, h, err);
		if (!text)
			return -1;
		if (!*text)
			return 0; /* nothing to delete */
		vs_err e;
		if (nft_run(text, NULL, !g, &e) == 0)
			return 0;
		if (pass == 1) {
			*err = e;
			return -1;
		}
	}
	return -1;
}

int vs_nft_guest_add(const struct vs_nft_guest *g, vs_err *err)
{
	if (check_guest(g, err) < 0)
		return -1;
	if (run_for_tables(g, g->name, err) < 0)
		return vs_err_prefix(err, "guest %s", g->name);
	return 0;
}

int vs_nft_guest_del(const char *name, vs_err *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (run_for_tables(NULL, name, err) < 0)
		return vs_err_prefix(err, "guest %s", name);
	return 0;
}

int vs_nft_guest_exists(const char *name, vs_err *err)
{
	if (check_name(name, err) < 0)
		return -1;
	bool have[T_N];
	if (guest_tables(name, have, err) < 0)
		return -1;
	return have[T_IP] || have[T_IP6] || have[T_NETDEV];
}
