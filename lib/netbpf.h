/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP isolation on the host's network stack (network mode "isolated"):
 * cgroup sock_addr BPF programs (bpf/sockaddr.bpf.c, compiled with clang,
 * loaded with libbpf) attached to the guest's cgroup2 directory, so that
 * every process of the guest (and of its sub-cgroups) is covered.
 *
 * What a guest process sees:
 *  - bind: only the guest's addresses.  A wildcard bind (0.0.0.0) becomes
 *    a bind to the primary (first) IPv4 address; "::" to the primary IPv6
 *    address, or, for a guest without IPv6, to ::ffff:PRIMARY4 (so a
 *    dual-stack socket serves IPv4).  127.0.0.1 (and ::1 as ::ffff:LBACK)
 *    becomes the guest's own loopback address LBACK (127.x.y.z).  Any other
 *    address: EADDRNOTAVAIL.
 *  - connect / sendmsg (TCP, UDP, ICMP datagram sockets): a destination of
 *    127.0.0.1 or LBACK goes to LBACK; any other 127.0.0.0/8 (::1 likewise)
 *    is refused with ECONNREFUSED.  An unbound socket gets the guest's
 *    address as source (LBACK for loopback destinations); a family the
 *    guest has no address of: ENETUNREACH.
 *  - recvmsg, getsockname, getpeername: LBACK is shown as 127.0.0.1, so
 *    the guest's loopback looks like any loopback.
 * The programs carry the addresses as constants (.rodata), one instance
 * per guest; they stay attached as long as the cgroup exists (no pinning,
 * no fd kept).  They are attached without BPF_F_ALLOW_OVERRIDE, so nothing
 * below the guest's cgroup can replace them. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "iface.h"

#define VS_NETBPF_MAX_ADDRS 16

struct vs_netbpf_conf {
	struct vs_ipaddr v4[VS_NETBPF_MAX_ADDRS]; /* first = primary */
	size_t n4;
	struct vs_ipaddr v6[VS_NETBPF_MAX_ADDRS];
	size_t n6;
	uint8_t lback[4];  /* 127.x.y.z, network order */
};

/* Load and attach the programs to the cgroup2 directory `cgfd`.  All or
 * nothing: on failure no program of ours stays attached. */
int vs_netbpf_attach(int cgfd, const struct vs_netbpf_conf *conf, vs_err *err);
/* Detach every sock_addr program attached directly to `cgfd` (rollback;
 * removing the cgroup does the same). */
int vs_netbpf_detach(int cgfd, vs_err *err);
/* Number of sock_addr programs attached directly to `cgfd` (status, tests). */
int vs_netbpf_count(int cgfd, vs_err *err);
