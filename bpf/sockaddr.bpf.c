/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP isolation of one guest on the host's network stack: cgroup sock_addr
 * programs, attached to the guest's cgroup2 directory by lib/netbpf.c.
 * The semantics are described in lib/netbpf.h.
 *
 * All addresses are in network byte order, as the kernel hands them over
 * in struct bpf_sock_addr.  IPv4 destinations and sources seen by the
 * IPv6 programs as v4-mapped addresses (::ffff:a.b.c.d, dual-stack
 * sockets) follow the IPv4 rules, so a v6 socket is no way around them.
 *
 * The kernel runs these hooks on the cgroup the socket was created in,
 * whoever uses it later.  Errors are chosen with bpf_set_retval() and
 * "return 0"; the kernel allows that for bind, connect and sendmsg (the
 * recvmsg / getsockname / getpeername hooks cannot fail: they must
 * return 1 and only rewrite what the process is shown). */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* lib/netbpf.c checks that these arrays hold VS_NETBPF_MAX_ADDRS */
#define MAX_ADDRS 16
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3

/* Set through the skeleton before loading: constants for the verifier,
 * so that the loops below are bounded by MAX_ADDRS and dead branches go. */
const volatile __u32 n4 = 0;
const volatile __u32 addr4[MAX_ADDRS] = {};
const volatile __u32 n6 = 0;
const volatile __u32 addr6[MAX_ADDRS][4] = {};
const volatile __u32 lback = 0; /* 127.x.y.z */

#define LOCALHOST bpf_htonl(0x7f000001)
#define IS_LOOPBACK4(a) ((bpf_ntohl(a) >> 24) == 127)

/* A verdict that fails the system call with `err` (a negative errno). */
static __always_inline int refuse(int err)
{
	bpf_set_retval(err);
	return 0;
}

static __always_inline int is_guest4(__u32 a)
{
	for (__u32 i = 0; i < MAX_ADDRS; i++) {
		if (i >= n4)
			break;
		if (addr4[i] == a)
			return 1;
	}
	return 0;
}

static __always_inline int is_guest6(const __u32 a[4])
{
	for (__u32 i = 0; i < MAX_ADDRS; i++) {
		if (i >= n6)
			break;
		if (addr6[i][0] == a[0] && addr6[i][1] == a[1] && addr6[i][2] == a[2] && addr6[i][3] == a[3])
			return 1;
	}
	return 0;
}

static __always_inline int is_mapped(const __u32 a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

static __always_inline int is_any6(const __u32 a[4])
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static __always_inline int is_localhost6(const __u32 a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == bpf_htonl(1);
}

/* The address a bind to `*a` gets, in place: 0 if allowed, else a
 * negative errno. */
static __always_inline int bind_addr4(__u32 *a)
{
	if (*a == 0) {
		if (n4 == 0)
			return -EADDRNOTAVAIL;
		*a = addr4[0];
		return 0;
	}
	if (*a == LOCALHOST || *a == lback) {
		*a = lback;
		return 0;
	}
	return is_guest4(*a) ? 0 : -EADDRNOTAVAIL;
}

/* Destination of a connect / sendmsg, in place; *src is the source an
 * unbound socket gets.  0 if allowed, else a negative errno. */
static __always_inline int dest_addr4(__u32 *a, __u32 *src)
{
	/* 0.0.0.0 means "this host" to the kernel, which sends it to
	 * 127.0.0.1 (or to the source address): here the guest itself */
	if (*a == 0 || *a == LOCALHOST || *a == lback) {
		*a = lback;
		*src = lback;
		return 0;
	}
	if (IS_LOOPBACK4(*a))
		return -ECONNREFUSED;
	if (n4 == 0)
		return -ENETUNREACH;
	*src = addr4[0];
	return 0;
}

/* A packet from the guest's loopback goes to that loopback only.  The
 * kernel delivers a packet with a 127/8 source to any local address, so
 * a socket bound to 127.0.0.1 (the guest's LBACK), or a send choosing it
 * with IP_PKTINFO, would otherwise reach a host service on the wildcard
 * address as a 127/8 peer, which such services trust.  EINVAL, what the
 * kernel says to a loopback source towards a non-local address. */
static __always_inline int lback_only_to_lback(__u32 src, __u32 dst)
{
	return src == lback && dst != lback ? -EINVAL : 0;
}

/* A source address chosen by the process (IP_PKTINFO) or kept from its
 * bind, in place; 0 if allowed. */
static __always_inline int src_addr4(__u32 *a)
{
	if (*a == LOCALHOST)
		*a = lback;
	if (*a == lback || is_guest4(*a))
		return 0;
	return -EADDRNOTAVAIL;
}

static __always_inline void set_mapped(__u32 a[4], __u32 v4)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = bpf_htonl(0xffff);
	a[3] = v4;
}

/* ctx->user_ip6 and friends are accessed one __u32 at a time: the
 * context allows 4-byte loads and stores of each word. */
static __always_inline void load6(__u32 a[4], const __u32 *ctxa)
{
	a[0] = ctxa[0];
	a[1] = ctxa[1];
	a[2] = ctxa[2];
	a[3] = ctxa[3];
}

static __always_inline void store6(__u32 *ctxa, const __u32 a[4])
{
	ctxa[0] = a[0];
	ctxa[1] = a[1];
	ctxa[2] = a[2];
	ctxa[3] = a[3];
}

/* ---- loopback: only the guest's own services ----------------------------- */

/* A connect / sendmsg of the socket `self` to LBACK:port (port in network
 * order), the source being `saddr` (network order): allowed (0) only if
 * the socket the kernel would deliver it to is bound to LBACK itself, so
 * that a host service on the wildcard address (0.0.0.0, or [::] dual-stack)
 * is not reachable from the guest's loopback; nothing there, or another
 * protocol than TCP and UDP: -ECONNREFUSED.
 *
 * TCP: the source is left out (0:0) so that only listeners are found, not
 * an established or TIME_WAIT socket of an earlier connection with the
 * same ports.  UDP: with the real source, so that a host socket connected
 * to it would be found (the kernel prefers it). */
static __always_inline int loopback_peer(void *ctx, const struct bpf_sock_addr *sa, __u32 saddr, __u16 port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	int ok;
	t.ipv4.daddr = lback;
	t.ipv4.dport = port;
	if (sa->protocol == IPPROTO_TCP) {
		sk = bpf_sk_lookup_tcp(ctx, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
	} else if (sa->protocol == IPPROTO_UDP) {
		t.ipv4.saddr = saddr;
		t.ipv4.sport = bpf_htons((__u16)sa->sk->src_port);
		sk = bpf_sk_lookup_udp(ctx, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
	} else {
		return -ECONNREFUSED;
	}
	/* a full socket (a request socket stands for its listener, a
	 * TIME_WAIT one for nothing) with a reference, or NULL */
	if (!sk)
		return -ECONNREFUSED;
	/* the v4 lookup also finds IPv6 sockets bound to :: (dual-stack, not
	 * ours) or to ::ffff:LBACK (ours) */
	if (sk->family == AF_INET6)
		ok = sk->src_ip6[0] == 0 && sk->src_ip6[1] == 0 && sk->src_ip6[2] == bpf_htonl(0xffff) &&
		     sk->src_ip6[3] == lback;
	else
		ok = sk->family == AF_INET && sk->src_ip4 == lback;
	bpf_sk_release(sk);
	return ok ? 0 : -ECONNREFUSED;
}

/* ---- socket creation ----------------------------------------------------- */

/* Only the protocols whose every way of choosing an address the hooks
 * below see: TCP, MPTCP and UDP.  The kernel runs the connect hooks from
 * a protocol's pre_connect, which UDP-Lite, for one, does not have (its
 * connect went unchecked, to host addresses and the host's loopback); a
 * protocol added to the kernel later is refused until it is looked at.
 * ICMP datagram ("ping") sockets: EACCES, what the kernel says to a group
 * outside net.ipv4.ping_group_range; raw and packet sockets (if the
 * kernel runs this hook for them at all: see lib/netbpf.h): EPERM, what
 * it says without CAP_NET_RAW; any other: EPROTONOSUPPORT, as for a
 * protocol the kernel lacks. */
SEC("cgroup/sock_create")
int vs_sock_create(struct bpf_sock *sk)
{
	if (sk->family == AF_PACKET || sk->type == SOCK_RAW)
		return refuse(-EPERM);
	if (sk->type == SOCK_DGRAM && (sk->protocol == IPPROTO_ICMP || sk->protocol == IPPROTO_ICMPV6))
		return refuse(-EACCES);
	if ((sk->type == SOCK_STREAM && (sk->protocol == IPPROTO_TCP || sk->protocol == IPPROTO_MPTCP)) ||
	    (sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP))
		return 1;
	return refuse(-EPROTONOSUPPORT);
}

/* ---- bind ---------------------------------------------------------------- */

SEC("cgroup/bind4")
int vs_bind4(struct bpf_sock_addr *ctx)
{
	__u32 a = ctx->user_ip4;
	int r = bind_addr4(&a);
	if (r < 0)
		return refuse(r);
	if (a != ctx->user_ip4)
		ctx->user_ip4 = a;
	return 1;
}

SEC("cgroup/bind6")
int vs_bind6(struct bpf_sock_addr *ctx)
{
	__u32 a[4];
	load6(a, ctx->user_ip6);
	if (is_mapped(a)) {
		__u32 v4 = a[3];
		int r = bind_addr4(&v4);
		if (r < 0)
			return refuse(r);
		set_mapped(a, v4);
	} else if (is_any6(a)) {
		if (n6 > 0) {
			a[0] = addr6[0][0];
			a[1] = addr6[0][1];
			a[2] = addr6[0][2];
			a[3] = addr6[0][3];
		} else if (n4 > 0) {
			/* a guest without IPv6: a dual-stack socket on its
			 * IPv4 address (EINVAL from the kernel if V6ONLY) */
			set_mapped(a, addr4[0]);
		} else {
			return refuse(-EADDRNOTAVAIL);
		}
	} else if (is_localhost6(a)) {
		/* no IPv6 loopback of its own: the guest's IPv4 one */
		set_mapped(a, lback);
	} else if (!is_guest6(a)) {
		return refuse(-EADDRNOTAVAIL);
	}
	store6(ctx->user_ip6, a);
	return 1;
}

/* ---- connect ------------------------------------------------------------- */

SEC("cgroup/connect4")
int vs_connect4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	__u32 a = ctx->user_ip4, src = 0;
	int r = dest_addr4(&a, &src);
	if (r < 0)
		return refuse(r);
	r = lback_only_to_lback(sk->src_ip4 ? sk->src_ip4 : src, a);
	if (r < 0)
		return refuse(r);
	if (a == lback) {
		r = loopback_peer(ctx, ctx, sk->src_ip4 ? sk->src_ip4 : src, (__u16)ctx->user_port);
		if (r < 0)
			return refuse(r);
	}
	if (a != ctx->user_ip4)
		ctx->user_ip4 = a;
	/* Unbound: bind it to the guest's address now, or the kernel would
	 * pick the route's source (a host address).  bpf_bind() binds the
	 * address only (the port comes with the connect) and does not run
	 * the bind hook. */
	if (sk->src_ip4 == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = src };
		r = bpf_bind(ctx, (struct sockaddr *)&sin, sizeof sin);
		if (r < 0)
			return refuse(r);
	}
	return 1;
}

SEC("cgroup/connect6")
int vs_connect6(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	__u32 a[4], s[4] = { 0, 0, 0, 0 };
	int r;
	load6(a, ctx->user_ip6);
	if (is_any6(a) || is_localhost6(a)) {
		/* "::" is the local host for the kernel too; both go to the
		 * guest's loopback, reached through its v4-mapped form
		 * (ENETUNREACH from the kernel on a V6ONLY socket) */
		set_mapped(a, lback);
		set_mapped(s, lback);
	} else if (is_mapped(a)) {
		__u32 v4 = a[3], src = 0;
		r = dest_addr4(&v4, &src);
		if (r < 0)
			return refuse(r);
		set_mapped(a, v4);
		set_mapped(s, src);
	} else {
		if (n6 == 0)
			return refuse(-ENETUNREACH);
		s[0] = addr6[0][0];
		s[1] = addr6[0][1];
		s[2] = addr6[0][2];
		s[3] = addr6[0][3];
	}
	if (is_mapped(a)) {
		r = lback_only_to_lback(sk->src_ip4 ? sk->src_ip4 : s[3], a[3]);
		if (r < 0)
			return refuse(r);
	}
	/* the guest's loopback is IPv4 (v4-mapped): the kernel delivers to
	 * the IPv4 socket lookup's result */
	if (is_mapped(a) && a[3] == lback) {
		r = loopback_peer(ctx, ctx, sk->src_ip4 ? sk->src_ip4 : s[3], (__u16)ctx->user_port);
		if (r < 0)
			return refuse(r);
	}
	store6(ctx->user_ip6, a);
	if ((sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3]) == 0) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		__builtin_memcpy(&sin6.sin6_addr, s, sizeof s);
		r = bpf_bind(ctx, (struct sockaddr *)&sin6, sizeof sin6);
		if (r < 0)
			return refuse(r);
	}
	return 1;
}

/* ---- sendmsg (unconnected UDP, ICMP datagram sockets) -------------------- */

SEC("cgroup/sendmsg4")
int vs_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	__u32 a, src = 0, msrc = ctx->msg_src_ip4;
	int r;
	if (ctx->user_port == 0) {
		/* No address (port 0 never gets here otherwise: the kernel
		 * refuses it first): a connected socket sending with
		 * ancillary data (IP_PKTINFO ...).  Its destination was
		 * checked by connect4, which bound its source. */
		a = sk->dst_ip4;
		src = sk->src_ip4;
	} else {
		/* An explicit AF_UNSPEC address counts as AF_INET for UDP:
		 * checked like one. */
		a = ctx->user_ip4;
		r = dest_addr4(&a, &src);
		if (r < 0)
			return refuse(r);
		if (a != ctx->user_ip4)
			ctx->user_ip4 = a;
	}
	/* msg_src_ip4: the socket's bound address or the one the process
	 * chose with IP_PKTINFO; 0 leaves the choice to the route (a host
	 * address) */
	if (msrc == 0) {
		if (src == 0) {
			if (n4 == 0)
				return refuse(-ENETUNREACH);
			src = addr4[0];
		}
		msrc = src;
	} else {
		r = src_addr4(&msrc);
		if (r < 0)
			return refuse(r);
	}
	r = lback_only_to_lback(msrc, a);
	if (r < 0)
		return refuse(r);
	if (a == lback && ctx->user_port != 0) {
		r = loopback_peer(ctx, ctx, msrc, (__u16)ctx->user_port);
		if (r < 0)
			return refuse(r);
	}
	if (msrc != ctx->msg_src_ip4)
		ctx->msg_src_ip4 = msrc;
	return 1;
}

SEC("cgroup/sendmsg6")
int vs_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 a[4], s[4];
	load6(a, ctx->user_ip6);
	load6(s, ctx->msg_src_ip6);
	/* AF_UNSPEC (0) stands for "no address" here: the connected one */
	if (ctx->user_family != 0) {
		/* The kernel sends v4-mapped destinations through sendmsg4
		 * (never here), and refuses a rewrite of a native IPv6
		 * destination into a v4-mapped one: ::1 and :: (the local
		 * host) cannot be sent to the guest's loopback from here. */
		if (is_any6(a) || is_localhost6(a) || is_mapped(a))
			return refuse(-ENETUNREACH);
		if (n6 == 0)
			return refuse(-ENETUNREACH);
	}
	if (is_any6(s)) {
		/* bound: the kernel takes the bound address (connect6 and
		 * bind6 saw to it) */
		if ((ctx->sk->src_ip6[0] | ctx->sk->src_ip6[1] | ctx->sk->src_ip6[2] | ctx->sk->src_ip6[3]) != 0)
			return 1;
		if (n6 == 0)
			return refuse(-ENETUNREACH);
		s[0] = addr6[0][0];
		s[1] = addr6[0][1];
		s[2] = addr6[0][2];
		s[3] = addr6[0][3];
		store6(ctx->msg_src_ip6, s);
		return 1;
	}
	if (!is_guest6(s))
		return refuse(-EADDRNOTAVAIL);
	return 1;
}

/* ---- what the process is shown ------------------------------------------- */

/* LBACK is shown as 127.0.0.1 (::ffff:127.0.0.1 on a v6 socket). */
static __always_inline int show4(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 == lback)
		ctx->user_ip4 = LOCALHOST;
	return 1;
}

static __always_inline int show6(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 && ctx->user_ip6[2] == bpf_htonl(0xffff) &&
	    ctx->user_ip6[3] == lback)
		ctx->user_ip6[3] = LOCALHOST;
	return 1;
}

SEC("cgroup/recvmsg4")
int vs_recvmsg4(struct bpf_sock_addr *ctx)
{
	return show4(ctx);
}

SEC("cgroup/recvmsg6")
int vs_recvmsg6(struct bpf_sock_addr *ctx)
{
	return show6(ctx);
}

SEC("cgroup/getsockname4")
int vs_getsockname4(struct bpf_sock_addr *ctx)
{
	return show4(ctx);
}

SEC("cgroup/getsockname6")
int vs_getsockname6(struct bpf_sock_addr *ctx)
{
	return show6(ctx);
}

SEC("cgroup/getpeername4")
int vs_getpeername4(struct bpf_sock_addr *ctx)
{
	return show4(ctx);
}

SEC("cgroup/getpeername6")
int vs_getpeername6(struct bpf_sock_addr *ctx)
{
	return show6(ctx);
}

char LICENSE[] SEC("license") = "GPL";
