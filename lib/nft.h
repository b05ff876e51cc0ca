/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-side nftables rules of a guest with a private network namespace
 * (libnftables).  Each guest owns its tables and nothing else:
 *   table ip  vserver-NAME   NAT: DNAT port forwards (prerouting and
 *                            output, so a forward also works from the
 *                            host itself), masquerade of the guest's
 *                            traffic leaving through any interface but
 *                            its own bridge / veth
 *   table ip6 vserver-NAME   the same for IPv6 (only if the guest has
 *                            IPv6 addresses)
 *   table netdev vserver-NAME  anti-spoofing on the ingress of the host
 *                            end of the guest's veth: IPv4 only from the
 *                            guest's addresses, ARP only for them, IPv6
 *                            only from them, link-local (fe80::/10) or ::
 *                            (duplicate address detection)
 * Other tables (the admin's, other tools') are never read or touched.
 * Adding is one nft transaction (all or nothing); it replaces the
 * guest's tables if they exist. */
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

struct vs_nft_guest {
	const char *name;            /* guest name; tables are "vserver-NAME" */
	const char *veth;            /* host end of the guest's veth */
	const char *bridge;          /* the bridge it is on, NULL: routed veth */
	const struct vs_ipaddr *addrs; /* the guest's addresses (both families) */
	size_t n_addrs;
	bool masquerade;
	const struct vs_nft_forward *fwd; /* to the guest's first address of the forward's family */
	size_t n_fwd;
};

/* The ruleset text (nft syntax) that vs_nft_guest_add loads; malloc'd. */
char *vs_nft_ruleset(const struct vs_nft_guest *g);
int vs_nft_guest_add(const struct vs_nft_guest *g, vs_err *err);
/* Delete the guest's tables; tables that do not exist are fine. */
int vs_nft_guest_del(const char *name, vs_err *err);
/* 1 if any table of the guest exists, 0 if none, -1 on error. */
int vs_nft_guest_exists(const char *name, vs_err *err);
