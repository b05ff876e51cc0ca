/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP isolation on the host's network stack (network mode "isolated"):
 * cgroup sock_addr BPF programs and one sock_create program
 * (bpf/sockaddr.bpf.c, compiled with clang, loaded with libbpf) attached
 * to the guest's cgroup2 directory, so that every process of the guest
 * (and of its sub-cgroups) is covered.
 *
 * What a guest process sees:
 *  - bind: only the guest's addresses.  A wildcard bind (0.0.0.0) becomes
 *    a bind to the primary (first) IPv4 address; "::" to the primary IPv6
 *    address, or, for a guest without IPv6, to ::ffff:PRIMARY4 (so a
 *    dual-stack socket serves IPv4).  127.0.0.1 (and ::1 as ::ffff:LBACK)
 *    becomes the guest's own loopback address LBACK (127.x.y.z).  Any other
 *    address: EADDRNOTAVAIL.  v4-mapped addresses on IPv6 sockets follow
 *    the IPv4 rules everywhere.
 *  - connect / sendmsg (TCP, UDP): a destination of 127.0.0.1 or LBACK
 *    goes to LBACK; any other 127.0.0.0/8 (::1 likewise) is refused with
 *    ECONNREFUSED.  The "this host" destinations 0.0.0.0 and :: go to
 *    LBACK as well (the kernel would send them to 127.0.0.1 / ::1).  An
 *    unbound socket gets the guest's address as source (LBACK for
 *    loopback destinations): connect binds it (bpf_bind, address only, the
 *    port comes with the connect), unconnected UDP gets it per datagram.
 *    A source chosen with IP_PKTINFO / IPV6_PKTINFO must be the guest's
 *    (127.0.0.1: LBACK), else EADDRNOTAVAIL.  A family the guest has no
 *    address of: ENETUNREACH.  A connected UDP socket sending with
 *    ancillary data and no address keeps the source connect gave it.
 *  - LBACK as a source (a socket bound to 127.0.0.1, or IP_PKTINFO) goes
 *    to LBACK only, else EINVAL: the kernel delivers a 127/8 source to
 *    any local address, so a host service on the wildcard address would
 *    see (and trust) a loopback peer.
 *  - The guest's loopback reaches the guest's services only: LBACK is a
 *    host address, so a host service bound to the wildcard address
 *    (0.0.0.0, or [::] dual-stack) would take a connection to LBACK, with
 *    LBACK (127.x, "local" to many services) as the client's address.  So
 *    a connect or sendmsg to LBACK:PORT looks up the socket the kernel
 *    would deliver to (bpf_sk_lookup_tcp / _udp, the IPv4 tables: also
 *    for a v6 socket's ::1 or ::ffff:127.0.0.1) and goes on only if that
 *    socket is bound to LBACK itself (or ::ffff:LBACK); no such socket, or
 *    a wildcard one: ECONNREFUSED.  The guest cannot have a wildcard socket (its wildcard
 *    binds become its addresses), and the kernel prefers a socket bound
 *    to the address to a wildcard one, so a guest service on 127.0.0.1:P
 *    is reached even with a host service on 0.0.0.0:P beside it (UDP with
 *    SO_REUSEADDR on both).  TCP: only listeners count (the lookup leaves
 *    the client's ports out, so a TIME_WAIT or established socket of an
 *    earlier connection is not found); a SO_REUSEPORT group shares one
 *    address, so whichever member the lookup picks answers the same.
 *    UDP: with the real source (address, port if bound), so that a
 *    connected socket is found as the kernel would.
 *  - recvmsg, getsockname, getpeername (and accept's peer): LBACK is shown
 *    as 127.0.0.1 (::ffff:127.0.0.1 on an IPv6 socket, also for a socket
 *    bound or connected to ::1), so the guest's loopback looks like any
 *    loopback.
 *  - socket(): INET sockets are TCP, MPTCP and UDP only.  ICMP datagram
 *    ("ping") sockets are refused with EACCES (what the kernel says outside
 *    net.ipv4.ping_group_range), raw sockets with EPERM (what it says
 *    without CAP_NET_RAW), whatever the guest's capabilities: the
 *    sock_addr hooks cannot confine them (see below).  Any other protocol
 *    (UDP-Lite, SCTP, L2TP/IP ...): EPROTONOSUPPORT; the kernel runs the
 *    connect hooks from a protocol's pre_connect, which UDP-Lite lacks, so
 *    its connect would go unchecked.  So ping does not work in isolated mode; use private mode.
 *    (Confining ping sockets instead, e.g. with a cgroup_skb egress program
 *    checking the source address of echo requests, would still leave
 *    their bind unchecked and the errors late: not done.)
 * The errno values are chosen with bpf_set_retval(), which the kernel
 * allows in the sock_create, bind, connect and sendmsg hooks (checked on
 * 6.18).
 *
 * Where the kernel (6.18) sets limits:
 *  - IPv6 UDP sendto(::1) or sendto(::) on an unconnected socket: the
 *    sendmsg6 hook may not turn a native IPv6 destination into a v4-mapped
 *    one (the kernel fails it with ENOTSUPP), so these are refused with
 *    ENETUNREACH.  connect(::1) works (TCP and UDP); an IPV6_V6ONLY socket
 *    cannot reach the loopback at all (the kernel: ENETUNREACH).
 *  - ICMP datagram ("ping") sockets get only the connect hook: their bind
 *    and unconnected sendto are not seen (hence the refusal at socket());
 *    raw sockets get no sock_addr hook at all.
 *  - The sock_create hook runs for AF_INET / AF_INET6 sockets only: packet
 *    sockets (AF_PACKET) are not seen (the program would refuse them with
 *    EPERM should a kernel run it for them).  They need CAP_NET_RAW, which
 *    a guest in isolated mode does not have (not in the default set, and
 *    lib/config.c refuses to grant it, or CAP_NET_ADMIN, in this mode);
 *    the refusal of raw sockets above is defence in depth for the same.
 *  - An unconnected UDP socket is bound by the kernel to a port on the
 *    wildcard address at its first sendto (the source address is ours, but
 *    the socket then receives datagrams sent to that port on any local
 *    address); a later connect() of such a socket fails with EINVAL, as
 *    its address can no longer be bound.
 *  - The loopback check is made at connect / sendmsg time, not per
 *    packet.  A connected UDP socket was checked once, at connect: a
 *    guest can connect it while its own socket is bound to LBACK:P, close
 *    that, and go on sending to LBACK:P, which a host UDP service bound to
 *    0.0.0.0:P (started later, or beside it with SO_REUSEADDR) then
 *    receives.  Likewise a guest closing its LBACK:P socket in the instant
 *    between the check and the delivery of an unconnected datagram or a
 *    SYN (the latter needs a host listener sharing the port, SO_REUSEPORT
 *    and the guest's uid).  Closing these would take a per-packet check
 *    (cgroup_skb egress with the same lookup).
 * The programs carry the addresses as constants (.rodata), one instance
 * per guest; they stay attached as long as the cgroup exists (no pinning,
 * no fd kept).  They are attached without BPF_F_ALLOW_OVERRIDE, so nothing
 * below the guest's cgroup can replace them (attaching there: EPERM); and
 * an ancestor with such a program makes our attach fail the same way. */
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
 * nothing: on failure the cgroup keeps what it had.  Attaching again
 * (e.g. new addresses) replaces the programs of the earlier attach, each
 * hook at once (never a moment without a program); a failure halfway puts
 * the earlier ones back.  conf: at most VS_NETBPF_MAX_ADDRS per family,
 * lback in 127.0.0.0/8, else VS_E_INVALID. */
int vs_netbpf_attach(int cgfd, const struct vs_netbpf_conf *conf, vs_err *err);
/* Detach every program attached directly to `cgfd` on the thirteen hooks
 * we use (twelve INET sock_addr hooks and INET sock_create; rollback,
 * removing the cgroup does the same).
 * Nothing attached: not an error. */
int vs_netbpf_detach(int cgfd, vs_err *err);
/* Number of programs attached directly to `cgfd` on those hooks (13 after
 * vs_netbpf_attach; status, tests). */
int vs_netbpf_count(int cgfd, vs_err *err);
