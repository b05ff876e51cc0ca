/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Route netlink (libmnl): the link, address and route operations the
 * networking modes need.  The product never runs ip(8).
 *
 * Every call acts in the network namespace the netlink socket was opened
 * in (vs_nl_open opens it in the caller's current one).  Errors carry the
 * kernel's errno (EEXIST, ENODEV, EADDRNOTAVAIL ...) in err->errnum and a
 * message naming the object ("adding 10.0.0.2/24 to eth0: File exists"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "iface.h"

struct vs_nl;

int vs_nl_open(struct vs_nl **nl, vs_err *err);
void vs_nl_close(struct vs_nl *nl);
static inline void vs_nl_closep(struct vs_nl **nl) { if (*nl) vs_nl_close(*nl); }
#define _cleanup_nl_ __attribute__((cleanup(vs_nl_closep)))

/* Interface index of `ifname`; 0 (not an error) if there is none.  A
 * name that cannot be an interface name (empty, 16 bytes or more) is an
 * error (VS_E_INVALID). */
int vs_nl_ifindex(struct vs_nl *nl, const char *ifname, vs_err *err);

/* One link as seen by the kernel. */
struct vs_nl_link {
	int ifindex;
	char name[16];
	char kind[16];           /* IFLA_INFO_KIND ("bridge", "veth" ...), "" for none (lo, physical) */
	int master;              /* ifindex of the bridge it is enslaved to, 0: none */
	unsigned flags;          /* IFF_* (IFF_UP, IFF_LOWER_UP ...) */
	bool up;                 /* IFF_UP */
	unsigned mtu;            /* IFLA_MTU */
};
/* The link with index `ifindex` (ENODEV if there is none). */
int vs_nl_link_get(struct vs_nl *nl, int ifindex, struct vs_nl_link *out, vs_err *err);
/* Every link of the namespace; *out malloc'd. */
int vs_nl_link_list(struct vs_nl *nl, struct vs_nl_link **out, size_t *n, vs_err *err);

/* One address as seen by the kernel. */
struct vs_nl_addr {
	int ifindex;
	struct vs_ipaddr ip;     /* prefix always set */
	char label[16];          /* IFA_LABEL, "" for IPv6 */
	unsigned flags;          /* IFA_F_* (IFA_F_TENTATIVE, IFA_F_DADFAILED ...) */
};
/* Every address of the namespace (both families); *out malloc'd. */
int vs_nl_addr_list(struct vs_nl *nl, struct vs_nl_addr **out, size_t *n, vs_err *err);
/* Add/remove an address.  ip->prefix -1 means /32 or /128.  IPv4: the
 * broadcast address is derived from the prefix; `label` (may be NULL) is
 * the IPv4 label (e.g. "eth0:web"; must start with the device name).
 * IPv6 addresses are added with IFA_F_NODAD so that they are usable at
 * once.  Adding an address that exists fails with EEXIST. */
int vs_nl_addr_add(struct vs_nl *nl, int ifindex, const struct vs_ipaddr *ip, const char *label, vs_err *err);
int vs_nl_addr_del(struct vs_nl *nl, int ifindex, const struct vs_ipaddr *ip, vs_err *err);

int vs_nl_link_set_up(struct vs_nl *nl, int ifindex, bool up, vs_err *err);
/* IPv6 link-local address from the MAC address (EUI-64), whatever the
 * namespace's default: set before the link is up. */
int vs_nl_link_set_addrgen_eui64(struct vs_nl *nl, int ifindex, vs_err *err);
/* Create a bridge (fails with EEXIST if the name is taken). */
int vs_nl_bridge_add(struct vs_nl *nl, const char *name, vs_err *err);
/* Create a veth pair: `host_name` in this namespace, `peer_name` created
 * directly in the namespace of `peer_netns_fd` (an nsfs fd; -1: here);
 * both ends with MTU `mtu` (0: the kernel's default, 1500); the peer with
 * MAC address `peer_mac` (6 bytes; NULL: a random one of the kernel's). */
int vs_nl_veth_add(struct vs_nl *nl, const char *host_name, const char *peer_name, int peer_netns_fd, unsigned mtu,
		   const uint8_t *peer_mac, vs_err *err);
/* Enslave to a bridge (master_ifindex 0: release; one that does not exist:
 * EINVAL, the kernel's answer). */
int vs_nl_link_set_master(struct vs_nl *nl, int ifindex, int master_ifindex, vs_err *err);
/* Hairpin mode of a bridge port: frames may leave through the port they
 * came in by (a guest reaching its own port forward on the bridge). */
int vs_nl_brport_set_hairpin(struct vs_nl *nl, int ifindex, bool on, vs_err *err);
/* Delete a link (a veth: both ends).  ENODEV is reported like any error. */
int vs_nl_link_del(struct vs_nl *nl, int ifindex, vs_err *err);
/* Rename a link (the kernel may refuse it while the link is up: EBUSY). */
int vs_nl_link_rename(struct vs_nl *nl, int ifindex, const char *name, vs_err *err);
/* Routes go to the main table (protocol "boot", like ip-route(8)).
 * Add a route: dst/prefix (dst NULL: default route; prefix -1: /32 or
 * /128), via gw (NULL: none, i.e. on-link), out of oif (0: none);
 * `onlink` sets RTNH_F_ONLINK (gateway not in any configured subnet; IPv4
 * still wants some local address in the namespace, e.g. lo up, or refuses
 * the gateway with EINVAL).  family AF_INET or AF_INET6; addresses are 4
 * or 16 bytes in network order.  `mtu` (0: none) is the route's MTU
 * metric (ip-route(8)'s `mtu`), below the device's.  An existing route:
 * EEXIST. */
int vs_nl_route_add(struct vs_nl *nl, int family, const uint8_t *dst, int prefix, const uint8_t *gw, int oif,
		    bool onlink, unsigned mtu, vs_err *err);
/* The output device of the main table's default route of `family` (the
 * first one listed): its ifindex, 0 if there is none. */
int vs_nl_route_default_oif(struct vs_nl *nl, int family, vs_err *err);
/* Remove a route of the main table; the arguments select it like
 * ip-route(8) does (gw NULL / oif 0: any).  ESRCH if there is none. */
int vs_nl_route_del(struct vs_nl *nl, int family, const uint8_t *dst, int prefix, const uint8_t *gw, int oif,
		    vs_err *err);
