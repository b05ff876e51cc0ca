/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Route netlink with libmnl (see netlink.h).
 *
 * One request at a time: each carries NLM_F_ACK and a fresh sequence
 * number, and its replies are read up to the kernel's ack (NLMSG_ERROR,
 * with error 0 or not) or, for a dump, NLMSG_DONE.  A reply is read to its
 * end even when our own handling of it failed (ENOMEM), so that nothing of
 * it is left in the socket for the next request; messages of an earlier
 * request that was abandoned anyway (a failed recv) are recognised by
 * their sequence number and dropped.
 *
 * The socket asks for extended acks: the kernel's own explanation ("Nexthop
 * device is not up") follows the errno text in our messages.  Messages name
 * interfaces, not indexes: the name is looked up (in the socket's namespace,
 * which need not be ours, so not with if_indextoname) when a request fails. */
#include "netlink.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

/* The kernel sizes the datagrams of a dump after our receive buffer, up to
 * 32 KiB: a smaller buffer than that could see them truncated. */
#define NL_RECV_SIZE 32768
/* Our largest request, a veth pair, takes some 150 bytes. */
#define NL_SEND_SIZE 1024
/* A dump interrupted by a change of the table (NLM_F_DUMP_INTR) is started
 * again; a table that keeps changing this often is an error. */
#define DUMP_TRIES 10

struct vs_nl {
	struct mnl_socket *sock;
	uint32_t portid, seq;
	char ext[256];   /* extended ack text of the last request, "" if none */
	char sbuf[NL_SEND_SIZE] __attribute__((aligned(8)));
	char rbuf[NL_RECV_SIZE] __attribute__((aligned(8)));
};

/* A data message of a reply: 0, or -errno to fail the request. */
typedef int (*nl_cb)(const struct nlmsghdr *h, void *data);

int vs_nl_open(struct vs_nl **out, vs_err *err)
{
	*out = NULL;
	_cleanup_free_ struct vs_nl *nl = calloc(1, sizeof *nl);
	if (!nl)
		return vs_fail_errno(err, "allocating a route netlink socket");
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return vs_fail_errno(err, "opening a route netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl->sock);
		return vs_fail(err, VS_E_SYSTEM, e, "binding a route netlink socket");
	}
	/* Best effort: without extended acks (before Linux 4.12) the messages
	 * only lack the kernel's text.  CAP_ACK: error replies need not echo
	 * our request back. */
	int one = 1;
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof one);
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof one);
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = vs_steal(nl);
	return 0;
}

void vs_nl_close(struct vs_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

/* ---- request and reply ---------------------------------------------------- */

static uint32_t next_seq(struct vs_nl *nl)
{
	/* 0 is what the kernel's own notifications carry: never ours */
	if (++nl->seq == 0)
		nl->seq = 1;
	return nl->seq;
}

/* Start a request in nl->sbuf, with its fixed header (`hdrlen` bytes,
 * zeroed; the payload of the message). */
static struct nlmsghdr *nl_msg(struct vs_nl *nl, uint16_t type, uint16_t flags, size_t hdrlen)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->sbuf);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = next_seq(nl);
	mnl_nlmsg_put_extra_header(h, hdrlen);
	return h;
}

static int ext_attr_cb(const struct nlattr *a, void *data)
{
	struct vs_nl *nl = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
		/* the kernel's text, without the newline some subsystems end it with */
		snprintf(nl->ext, sizeof nl->ext, "%s", mnl_attr_get_str(a));
		nl->ext[strcspn(nl->ext, "\n")] = 0;
	}
	return MNL_CB_OK;
}

/* The extended ack attributes at `off` of the payload of h, if any. */
static void parse_ext(struct vs_nl *nl, const struct nlmsghdr *h, size_t off)
{
	size_t plen = mnl_nlmsg_get_payload_len(h);
	off = MNL_ALIGN(off);
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || off >= plen)
		return;
	mnl_attr_parse_payload((const char *)mnl_nlmsg_get_payload(h) + off, plen - off, ext_attr_cb, nl);
}

/* The ack of a request: 0 or the kernel's -errno. */
static int parse_ack(struct vs_nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	if (mnl_nlmsg_get_payload_len(h) < sizeof *e)
		return -EBADMSG;
	/* The attributes follow our request as echoed back: its header only
	 * when capped (NETLINK_CAP_ACK), all of it otherwise. */
	size_t off = sizeof *e;
	if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	parse_ext(nl, h, off);
	return e->error > 0 ? -EPROTO : e->error;
}

/* The end of a dump: it carries the dump's own error (0 or -errno). */
static int parse_done(struct vs_nl *nl, const struct nlmsghdr *h)
{
	int e = 0;
	if (mnl_nlmsg_get_payload_len(h) >= sizeof e)
		memcpy(&e, mnl_nlmsg_get_payload(h), sizeof e);
	parse_ext(nl, h, sizeof e);
	return e > 0 ? -EPROTO : e;
}

/* Send the request in nl->sbuf and read its replies; each data message
 * goes to `cb` (NULL: none expected).  0, or -errno: the kernel's (its
 * text in nl->ext) or ours.  `intr` is given for a dump (and for a dump
 * only): *intr tells that the table changed while it ran, so that its
 * result may be inconsistent. */
static int nl_talk(struct vs_nl *nl, nl_cb cb, void *data, bool *intr)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)nl->sbuf;
	bool dump = intr != NULL;
	uint32_t seq = req->nlmsg_seq;
	nl->ext[0] = 0;
	if (dump)
		*intr = false;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	int ret = 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rbuf, sizeof nl->rbuf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* the rest of this reply, if any, is dropped as stale by the next request */
			return -errno;
		}
		int len = (int)n;
		for (const struct nlmsghdr *h = (const void *)nl->rbuf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(h, nl->portid))
				continue;
			if (dump && (h->nlmsg_flags & NLM_F_DUMP_INTR))
				*intr = true;
			switch (h->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_OVERRUN:
				if (!ret)
					ret = -ENOBUFS;
				break;
			case NLMSG_ERROR: {
				/* the ack ends every request; a dump only gets one
				 * when it could not start */
				int e = parse_ack(nl, h);
				return ret ? ret : e;
			}
			case NLMSG_DONE:
				if (dump) {
					int e = parse_done(nl, h);
					return ret ? ret : e;
				}
				break;
			default:
				if (h->nlmsg_type >= NLMSG_MIN_TYPE && cb && !ret)
					ret = cb(h, data);
				break;
			}
		}
	}
}

/* A growable array of fixed-size records. */
struct vec {
	void *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *x)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		void *v = reallocarray(x->v, cap, x->size);
		if (!v)
			return NULL;
		x->v = v;
		x->cap = cap;
	}
	void *p = (char *)x->v + x->n++ * x->size;
	memset(p, 0, x->size);
	return p;
}

/* Run the dump request in nl->sbuf into `acc`.  An interrupted dump is
 * started again from scratch (with a new sequence number): the kernel
 * cannot tell which part of it was affected. */
static int nl_dump(struct vs_nl *nl, nl_cb cb, struct vec *acc)
{
	struct nlmsghdr *req = (struct nlmsghdr *)nl->sbuf;
	for (int i = 0; i < DUMP_TRIES; i++) {
		bool intr;
		acc->n = 0;
		if (i)
			req->nlmsg_seq = next_seq(nl);
		int r = nl_talk(nl, cb, acc, &intr);
		if (r < 0 || !intr)
			return r;
	}
	return -EAGAIN;
}

/* ---- attributes ---------------------------------------------------------------- */

struct attr_tb {
	const struct nlattr **tb;
	unsigned max;
};

static int attr_tb_cb(const struct nlattr *a, void *data)
{
	struct attr_tb *t = data;
	unsigned type = mnl_attr_get_type(a);
	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* Index the attributes after the fixed header (`hdrlen` bytes) of h. */
static void attrs_parse(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, unsigned max)
{
	struct attr_tb t = { tb, max };
	memset(tb, 0, (max + 1) * sizeof *tb);
	mnl_attr_parse(h, hdrlen, attr_tb_cb, &t);
}

static void attrs_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max)
{
	struct attr_tb t = { tb, max };
	memset(tb, 0, (max + 1) * sizeof *tb);
	mnl_attr_parse_nested(nest, attr_tb_cb, &t);
}

/* Copy a string attribute (if it is one: NUL-terminated). */
static void attr_str(const struct nlattr *a, char *buf, size_t len)
{
	if (a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(buf, len, "%s", mnl_attr_get_str(a));
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

/* ---- links --------------------------------------------------------------------- */

/* A link message into *l: 1 if it is no link message, 0 or -errno. */
static int link_parse(const struct nlmsghdr *h, struct vs_nl_link *l)
{
	if (h->nlmsg_type != RTM_NEWLINK)
		return 1;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	if (mnl_nlmsg_get_payload_len(h) < sizeof *ifi)
		return -EBADMSG;
	const struct nlattr *tb[IFLA_MAX + 1];
	attrs_parse(h, sizeof *ifi, tb, IFLA_MAX);
	memset(l, 0, sizeof *l);
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->up = ifi->ifi_flags & IFF_UP;
	attr_str(tb[IFLA_IFNAME], l->name, sizeof l->name);
	uint32_t master;
	if (attr_u32(tb[IFLA_MASTER], &master))
		l->master = (int)master;
	uint32_t mtu;
	if (attr_u32(tb[IFLA_MTU], &mtu))
		l->mtu = mtu;
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *li[IFLA_INFO_MAX + 1];
		attrs_parse_nested(tb[IFLA_LINKINFO], li, IFLA_INFO_MAX);
		attr_str(li[IFLA_INFO_KIND], l->kind, sizeof l->kind);
	}
	return 0;
}

struct link_one {
	struct vs_nl_link *l;
	bool found;
};

static int link_one_cb(const struct nlmsghdr *h, void *data)
{
	struct link_one *o = data;
	int r = link_parse(h, o->l);
	if (r == 0)
		o->found = true;
	return r < 0 ? r : 0;
}

/* One link by index or (ifindex 0) by name: 0 or -errno (-ENODEV: none). */
static int link_query(struct vs_nl *nl, int ifindex, const char *name, struct vs_nl_link *l)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!ifindex)
		mnl_attr_put_strz(h, IFLA_IFNAME, name);
	mnl_attr_put_u32(h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	struct link_one o = { l, false };
	int r = nl_talk(nl, link_one_cb, &o, NULL);
	if (r == 0 && !o.found)
		r = -ENODEV;
	return r;
}

/* The name of `ifindex` for a message: "eth0", or "ifindex 42" when there
 * is no such link.  Keeps nl->ext, the text of the failure reported. */
static const char *ifname_for_msg(struct vs_nl *nl, int ifindex, char buf[static 32])
{
	char ext[sizeof nl->ext];
	memcpy(ext, nl->ext, sizeof ext);
	struct vs_nl_link l;
	if (ifindex > 0 && link_query(nl, ifindex, NULL, &l) == 0 && l.name[0])
		snprintf(buf, 32, "%s", l.name);
	else
		snprintf(buf, 32, "ifindex %d", ifindex);
	memcpy(nl->ext, ext, sizeof ext);
	return buf;
}

/* Fail with the kernel's -errno `r` (or ours); the kernel's own text, if it
 * gave one, is appended. */
static int nl_fail(struct vs_nl *nl, vs_err *err, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int nl_fail(struct vs_nl *nl, vs_err *err, int r, const char *fmt, ...)
{
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	vs_fail(err, VS_E_SYSTEM, -r, "%s", what);
	if (err && nl->ext[0]) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof err->msg - len, " (%s)", nl->ext);
	}
	return -1;
}

int vs_nl_ifindex(struct vs_nl *nl, const char *ifname, vs_err *err)
{
	size_t len = strlen(ifname);
	if (len == 0 || len >= IFNAMSIZ)
		return vs_fail(err, VS_E_INVALID, 0, "interface name '%s' must be 1..%d characters", ifname,
			       IFNAMSIZ - 1);
	struct vs_nl_link l;
	int r = link_query(nl, 0, ifname, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return nl_fail(nl, err, r, "looking up interface %s", ifname);
	return l.ifindex;
}

int vs_nl_link_get(struct vs_nl *nl, int ifindex, struct vs_nl_link *out, vs_err *err)
{
	/* index 0 would make the kernel look for a name */
	int r = ifindex > 0 ? link_query(nl, ifindex, NULL, out) : -ENODEV;
	if (r < 0)
		return nl_fail(nl, err, r, "looking up ifindex %d", ifindex);
	return 0;
}

static int link_list_cb(const struct nlmsghdr *h, void *data)
{
	struct vs_nl_link l;
	int r = link_parse(h, &l);
	if (r)
		return r < 0 ? r : 0;
	struct vs_nl_link *p = vec_push(data);
	if (!p)
		return -ENOMEM;
	*p = l;
	return 0;
}

int vs_nl_link_list(struct vs_nl *nl, struct vs_nl_link **out, size_t *n, vs_err *err)
{
	*out = NULL;
	*n = 0;
	struct nlmsghdr *h = nl_msg(nl, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	struct vec acc = { .size = sizeof(struct vs_nl_link) };
	int r = nl_dump(nl, link_list_cb, &acc);
	if (r < 0) {
		free(acc.v);
		return nl_fail(nl, err, r, "listing network interfaces");
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

/* Run a link request that names an existing link; on failure the message
 * is `what` followed by the link's name. */
static int link_change(struct vs_nl *nl, int ifindex, const char *what, vs_err *err)
{
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0) {
		char name[32];
		return nl_fail(nl, err, r, "%s %s", what, ifname_for_msg(nl, ifindex, name));
	}
	return 0;
}

int vs_nl_link_set_up(struct vs_nl *nl, int ifindex, bool up, vs_err *err)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* only IFF_UP changes: the other flags are left as they are */
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return link_change(nl, ifindex, up ? "bringing up" : "bringing down", err);
}

int vs_nl_link_set_addrgen_eui64(struct vs_nl *nl, int ifindex, vs_err *err)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	struct nlattr *af = mnl_attr_nest_start(h, IFLA_AF_SPEC);
	struct nlattr *in6 = mnl_attr_nest_start(h, AF_INET6);
	mnl_attr_put_u8(h, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_EUI64);
	mnl_attr_nest_end(h, in6);
	mnl_attr_nest_end(h, af);
	return link_change(nl, ifindex, "setting the IPv6 address generation mode of", err);
}

int vs_nl_bridge_add(struct vs_nl *nl, const char *name, vs_err *err)
{
	if (vs_ifname_check(name, err) < 0)
		return vs_err_prefix(err, "creating bridge");
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(h, li);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, err, r, "creating bridge %s", name);
	return 0;
}

int vs_nl_veth_add(struct vs_nl *nl, const char *host_name, const char *peer_name, int peer_netns_fd, unsigned mtu,
		   const uint8_t *peer_mac, vs_err *err)
{
	if (vs_ifname_check(host_name, err) < 0 || vs_ifname_check(peer_name, err) < 0)
		return vs_err_prefix(err, "creating veth pair");
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, host_name);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	/* The peer is described like a link of its own: an ifinfomsg and its
	 * attributes, nested.  Its namespace given here, the kernel creates it
	 * there directly: it never shows up (under a name that might clash) in
	 * ours. */
	struct nlattr *peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(h, sizeof *pifi);
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer_name);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, peer_mac);
	mnl_attr_nest_end(h, peer);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, err, r, "creating veth pair %s/%s%s", host_name, peer_name,
			       peer_netns_fd >= 0 ? " (peer in another network namespace)" : "");
	return 0;
}

int vs_nl_link_set_master(struct vs_nl *nl, int ifindex, int master_ifindex, vs_err *err)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master_ifindex);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0) {
		char name[32], master[32];
		if (!master_ifindex)
			return nl_fail(nl, err, r, "releasing %s from its bridge", ifname_for_msg(nl, ifindex, name));
		return nl_fail(nl, err, r, "adding %s to bridge %s", ifname_for_msg(nl, ifindex, name),
			       ifname_for_msg(nl, master_ifindex, master));
	}
	return 0;
}

int vs_nl_brport_set_hairpin(struct vs_nl *nl, int ifindex, bool on, vs_err *err)
{
	/* RTM_SETLINK with family AF_BRIDGE reaches the bridge port's
	 * options (like `bridge link set dev X hairpin on`) */
	struct nlmsghdr *h = nl_msg(nl, RTM_SETLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = ifindex;
	struct nlattr *pi = mnl_attr_nest_start(h, IFLA_PROTINFO);
	mnl_attr_put_u8(h, IFLA_BRPORT_MODE, on ? 1 : 0);
	mnl_attr_nest_end(h, pi);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0) {
		char name[32];
		return nl_fail(nl, err, r, "setting hairpin mode on bridge port %s", ifname_for_msg(nl, ifindex, name));
	}
	return 0;
}

int vs_nl_link_del(struct vs_nl *nl, int ifindex, vs_err *err)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return link_change(nl, ifindex, "deleting", err);
}

int vs_nl_link_rename(struct vs_nl *nl, int ifindex, const char *name, vs_err *err)
{
	if (vs_ifname_check(name, err) < 0)
		return vs_err_prefix(err, "renaming ifindex %d", ifindex);
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0) {
		char old[32];
		return nl_fail(nl, err, r, "renaming %s to %s", ifname_for_msg(nl, ifindex, old), name);
	}
	return 0;
}

/* ---- addresses ----------------------------------------------------------------- */

/* An address message into *a: 1 if it is none we report, 0 or -errno. */
static int addr_parse(const struct nlmsghdr *h, struct vs_nl_addr *a)
{
	if (h->nlmsg_type != RTM_NEWADDR)
		return 1;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	if (mnl_nlmsg_get_payload_len(h) < sizeof *ifa)
		return -EBADMSG;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
	if (!alen)
		return 1;
	const struct nlattr *tb[IFA_MAX + 1];
	attrs_parse(h, sizeof *ifa, tb, IFA_MAX);
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer of a
	 * point-to-point link, and IPv6 sends only that one for the others */
	const struct nlattr *at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at || mnl_attr_get_payload_len(at) != alen)
		return 1;
	memset(a, 0, sizeof *a);
	a->ifindex = (int)ifa->ifa_index;
	a->ip.family = ifa->ifa_family;
	memcpy(a->ip.addr, mnl_attr_get_payload(at), alen);
	a->ip.prefix = ifa->ifa_prefixlen;
	uint32_t flags;
	/* ifa_flags has only the 8 lower bits */
	a->flags = attr_u32(tb[IFA_FLAGS], &flags) ? flags : ifa->ifa_flags;
	if (ifa->ifa_family == AF_INET)
		attr_str(tb[IFA_LABEL], a->label, sizeof a->label);
	return 0;
}

static int addr_list_cb(const struct nlmsghdr *h, void *data)
{
	struct vs_nl_addr a;
	int r = addr_parse(h, &a);
	if (r)
		return r < 0 ? r : 0;
	struct vs_nl_addr *p = vec_push(data);
	if (!p)
		return -ENOMEM;
	*p = a;
	return 0;
}

int vs_nl_addr_list(struct vs_nl *nl, struct vs_nl_addr **out, size_t *n, vs_err *err)
{
	*out = NULL;
	*n = 0;
	struct nlmsghdr *h = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	ifa->ifa_family = AF_UNSPEC;
	struct vec acc = { .size = sizeof(struct vs_nl_addr) };
	int r = nl_dump(nl, addr_list_cb, &acc);
	if (r < 0) {
		free(acc.v);
		return nl_fail(nl, err, r, "listing addresses");
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

/* Add or remove (`type`) an address. */
static int addr_change(struct vs_nl *nl, uint16_t type, int ifindex, const struct vs_ipaddr *ip, const char *label,
		       vs_err *err)
{
	int bits = ip->family == AF_INET ? 32 : ip->family == AF_INET6 ? 128 : 0;
	if (!bits)
		return vs_fail(err, VS_E_INVALID, 0, "address family %d is neither IPv4 nor IPv6", ip->family);
	struct vs_ipaddr a = *ip;
	if (a.prefix < 0)
		a.prefix = bits;
	char text[64], name[32];
	vs_ip_format(&a, text, sizeof text);
	const char *what = type == RTM_NEWADDR ? "adding" : "removing", *to = type == RTM_NEWADDR ? "to" : "from";
	if (a.prefix > bits)
		return vs_fail(err, VS_E_INVALID, 0, "%s %s: prefix longer than %d", what, text, bits);
	/* IPv6 has no labels: one given (from a configuration that names
	 * every address) is ignored */
	if (label && *label && a.family == AF_INET) {
		if (strlen(label) >= IFNAMSIZ)
			return vs_fail(err, VS_E_INVALID, 0, "%s %s: label '%s' is longer than %d characters", what, text,
				       label, IFNAMSIZ - 1);
		/* The kernel takes any label, but ip(8) and ifconfig show
		 * "eth0:web" as an alias of eth0 only. */
		struct vs_nl_link l;
		int r = ifindex > 0 ? link_query(nl, ifindex, NULL, &l) : -ENODEV;
		if (r < 0)
			return nl_fail(nl, err, r, "%s %s %s %s", what, text, to, ifname_for_msg(nl, ifindex, name));
		if (!vs_str_startswith(label, l.name))
			return vs_fail(err, VS_E_INVALID, 0, "%s %s to %s: label '%s' does not start with '%s'", what,
				       text, l.name, label, l.name);
	} else {
		label = NULL;
	}

	uint16_t flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
	struct nlmsghdr *h = nl_msg(nl, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	ifa->ifa_family = (uint8_t)a.family;
	ifa->ifa_prefixlen = (uint8_t)a.prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	/* what ip(8) chooses: loopback addresses have host scope */
	ifa->ifa_scope = a.family == AF_INET && a.addr[0] == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
	/* Without DAD an IPv6 address is usable at once, not "tentative" for
	 * a second or two (the guest starts right away); a duplicate on the
	 * link is the admin's to avoid, as for IPv4. */
	if (a.family == AF_INET6 && type == RTM_NEWADDR)
		ifa->ifa_flags = IFA_F_NODAD;
	size_t alen = (size_t)bits / 8;
	/* LOCAL and ADDRESS equal: no point-to-point peer.  Removal matches
	 * both, and so the prefix too. */
	mnl_attr_put(h, IFA_LOCAL, alen, a.addr);
	mnl_attr_put(h, IFA_ADDRESS, alen, a.addr);
	if (type == RTM_NEWADDR && a.family == AF_INET && a.prefix < 31) {
		uint32_t addr, mask = a.prefix ? htonl(~0u << (32 - a.prefix)) : 0;
		memcpy(&addr, a.addr, 4);
		uint32_t brd = addr | ~mask;
		mnl_attr_put(h, IFA_BROADCAST, 4, &brd);
	}
	if (label)
		mnl_attr_put_strz(h, IFA_LABEL, label);
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, err, r, "%s %s %s %s", what, text, to, ifname_for_msg(nl, ifindex, name));
	return 0;
}

int vs_nl_addr_add(struct vs_nl *nl, int ifindex, const struct vs_ipaddr *ip, const char *label, vs_err *err)
{
	return addr_change(nl, RTM_NEWADDR, ifindex, ip, label, err);
}

int vs_nl_addr_del(struct vs_nl *nl, int ifindex, const struct vs_ipaddr *ip, vs_err *err)
{
	return addr_change(nl, RTM_DELADDR, ifindex, ip, NULL, err);
}

/* ---- routes -------------------------------------------------------------------- */

static int route_change(struct vs_nl *nl, bool add, int family, const uint8_t *dst, int prefix, const uint8_t *gw,
			int oif, bool onlink, unsigned mtu, vs_err *err)
{
	const char *what = add ? "adding route" : "removing route";
	int bits = family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
	if (!bits)
		return vs_fail(err, VS_E_INVALID, 0, "%s: address family %d is neither IPv4 nor IPv6", what, family);
	if (!dst)
		prefix = 0;
	else if (prefix < 0)
		prefix = bits;
	if (prefix > bits)
		return vs_fail(err, VS_E_INVALID, 0, "%s: prefix /%d longer than %d", what, prefix, bits);

	struct nlmsghdr *h = nl_msg(nl, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
				    sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (add) {
		/* ip-route(8)'s defaults: without a gateway the destination is
		 * on the link */
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_type = RTN_UNICAST;
		rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	} else {
		/* removal: type, protocol and scope left open (match any) */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	size_t alen = (size_t)bits / 8;
	if (dst)
		mnl_attr_put(h, RTA_DST, alen, dst);
	if (gw)
		mnl_attr_put(h, RTA_GATEWAY, alen, gw);
	if (oif)
		mnl_attr_put_u32(h, RTA_OIF, (uint32_t)oif);
	if (mtu) {
		struct nlattr *m = mnl_attr_nest_start(h, RTA_METRICS);
		mnl_attr_put_u32(h, RTAX_MTU, mtu);
		mnl_attr_nest_end(h, m);
	}
	int r = nl_talk(nl, NULL, NULL, NULL);
	if (r == 0)
		return 0;

	char d[INET6_ADDRSTRLEN] = "default", g[INET6_ADDRSTRLEN] = "", name[32];
	if (dst)
		inet_ntop(family, dst, d, sizeof d);
	if (gw)
		inet_ntop(family, gw, g, sizeof g);
	char pfx[8] = "";
	if (dst)
		snprintf(pfx, sizeof pfx, "/%d", prefix);
	return nl_fail(nl, err, r, "%s %s%s%s%s%s%s%s", what, d, pfx, gw ? " via " : "", g, oif ? " dev " : "",
		       oif ? ifname_for_msg(nl, oif, name) : "", onlink ? " onlink" : "");
}

int vs_nl_route_add(struct vs_nl *nl, int family, const uint8_t *dst, int prefix, const uint8_t *gw, int oif,
		    bool onlink, unsigned mtu, vs_err *err)
{
	return route_change(nl, true, family, dst, prefix, gw, oif, onlink, mtu, err);
}

int vs_nl_route_del(struct vs_nl *nl, int family, const uint8_t *dst, int prefix, const uint8_t *gw, int oif,
		    vs_err *err)
{
	return route_change(nl, false, family, dst, prefix, gw, oif, false, 0, err);
}

struct default_oif {
	int family, oif;
};

static int default_oif_cb(const struct nlmsghdr *h, void *data)
{
	struct default_oif *d = data;
	if (h->nlmsg_type != RTM_NEWROUTE || d->oif)
		return 0;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	if (mnl_nlmsg_get_payload_len(h) < sizeof *rtm || rtm->rtm_family != d->family || rtm->rtm_dst_len ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	const struct nlattr *tb[RTA_MAX + 1];
	attrs_parse(h, sizeof *rtm, tb, RTA_MAX);
	uint32_t table = rtm->rtm_table, oif;
	attr_u32(tb[RTA_TABLE], &table);
	if (table == RT_TABLE_MAIN && attr_u32(tb[RTA_OIF], &oif))
		d->oif = (int)oif;
	return 0;
}

int vs_nl_route_default_oif(struct vs_nl *nl, int family, vs_err *err)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	rtm->rtm_family = (uint8_t)family;
	struct default_oif d = { .family = family };
	bool intr;
	int r = nl_talk(nl, default_oif_cb, &d, &intr);
	for (int i = 1; r == 0 && intr && i < DUMP_TRIES; i++) {
		h->nlmsg_seq = next_seq(nl);
		d.oif = 0;
		r = nl_talk(nl, default_oif_cb, &d, &intr);
	}
	if (r == 0 && intr)
		r = -EAGAIN;   /* the table kept changing: no answer is better than a partial one */
	if (r < 0)
		return nl_fail(nl, err, r, "listing the routes");
	return d.oif;
}
