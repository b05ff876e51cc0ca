/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-side nftables rules of a guest with a private network namespace
 * (libnftables).  Each guest owns its tables and nothing else:
 *   table ip  vserver-NAME   NAT: DNAT port forwards (prerouting and
 *                            output, so a forward also works from the
 *                            host itself; not from 127.0.0.0/8), masquerade
 *                            of the guest's traffic leaving through any
 *                            interface but its own bridge / veth, and of
 *                            forwarded connections that would otherwise
 *                            be answered past the host: from the guest's
 *                            own networks (hairpin: another guest on the
 *                            bridge, the guest itself) and, on a bridge,
 *                            from the host's own addresses
 *                            an input filter: the guest reaches only the
 *                            host services of net/host-ports (and replies,
 *                            ICMP echo); a forward filter: no link-local
 *                            destinations (cloud metadata 169.254.169.254)
 *   table ip6 vserver-NAME   the same for IPv6 (only if the guest has
 *                            IPv6 addresses other than link-local ones)
 *   table netdev vserver-NAME  anti-spoofing on the ingress of the host
 *                            end of the guest's veth: IPv4 only from the
 *                            guest's addresses, ARP only for them, IPv6
 *                            only from them, link-local (fe80::/10) or ::
 *                            (duplicate address detection), those two
 *                            for ICMPv6 only (no host service is reached
 *                            over link-local); VLAN-tagged
 *                            and other frames dropped; counters on drops
 * Other tables (the admin's, other tools') are never read or touched.
 * Adding is one nft transaction (all or nothing); it replaces the
 * guest's tables if they exist.  Names and devices that go into the
 * rules must be made of [A-Za-z0-9_.-] (VS_E_INVALID otherwise), so they
 * cannot inject nft syntax.
 * A guest reaching its own forward over a bridge with br_netfilter
 * (bridge-nf-call-iptables) also needs hairpin mode on its bridge port:
 * the DNAT is bridged back out of the port it came in by. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "iface.h"

struct vs_nft_forward {
	int proto;                   /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t host_port, guest_port;
	struct vs_ipaddr host_addr;  /* family 0: any local address of the host */
};

struct vs_nft_port {
	int proto;                   /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

struct vs_nft_guest {
	const char *name;            /* guest name; tables are "vserver-NAME" */
	const char *veth;            /* host end of the guest's veth */
	const char *bridge;          /* the bridge it is on, NULL: routed veth */
	const uint8_t *mac;          /* 6 bytes: the MAC address of the guest's end;
				      * frames from any other are dropped */
	const struct vs_ipaddr *addrs; /* the guest's addresses (both families); with
					* their prefix length: the guest's networks */
	size_t n_addrs;
	bool masquerade;
	/* to the guest's first (not link-local) address of the forward's
	 * family; host_addr family 0: in both families the guest has */
	const struct vs_nft_forward *fwd;
	size_t n_fwd;
	/* the host's own services the guest may reach (net/host-ports):
	 * everything else addressed to the host from the guest is dropped,
	 * but for replies (established, related) and ICMP echo (and the
	 * IPv6 neighbour discovery) */
	const struct vs_nft_port *host_ports;
	size_t n_host_ports;
};

/* The ruleset text (nft syntax) that vs_nft_guest_add loads; malloc'd.
 * NULL if g is invalid (vs_nft_guest_add says why): a bad name, a
 * forward that is not tcp/udp, has port 0, comes from a loopback
 * address or has no guest address of its family, a guest address that
 * is unspecified, loopback or multicast. */
char *vs_nft_ruleset(const struct vs_nft_guest *g);
int vs_nft_guest_add(const struct vs_nft_guest *g, vs_err *err);
/* Delete the guest's tables; tables that do not exist are fine. */
int vs_nft_guest_del(const char *name, vs_err *err);
/* Close what vs_nft_guest_del left open: its nftables socket, whose
 * release waits for the kernel to free the deleted tables.  Call it
 * after the rest of a teardown (at exit the kernel does the same). */
void vs_nft_flush(void);
/* 1 if any table of the guest exists, 0 if none, -1 on error. */
int vs_nft_guest_exists(const char *name, vs_err *err);
