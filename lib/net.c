/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bringing a guest's network up and down (net.h): run by the vserver-net
 * helper, which links libmnl, libbpf and libnftables.
 *
 * Up, isolated:
 *   N1  record the plan in RUNDIR/NAME/net (mode, the addresses to add)
 *   N2  add each address (not nodev) to its device, bring the device up
 *   N3  attach the sock_addr programs to the guest's cgroup2 directory
 * Up, private:
 *   N1  record the plan (mode, netns file, veth, nft)
 *   N2  a new network namespace, bound to RUNDIR/NAME/netns
 *   N3  veth vs-NAME, its peer created as eth0 inside the namespace; both
 *       ends with the largest MTU (guest <-> host at loopback speed), or
 *       with the MTU of the bridge if it exists (its other ports')
 *   N4  bridge (made if missing, with the gateway address) and the host
 *       end on it in hairpin mode; or routed: 169.254.0.1/32 and fe80::1 on the host end,
 *       /32 (/128) routes to the guest's addresses through it
 *   N5  forwarding on in the host's namespace (IPv4; IPv6 only if it is
 *       routed to the guest: routed veth or IPv6 forwards)
 *   N6  inside: lo and eth0 up, the addresses, the default route with
 *       the MTU of the way out (net/mtu, else the host's default route's
 *       device), so that nothing for outside needs fragmenting
 *   N7  the guest's nftables tables (NAT, forwards, anti-spoofing)
 * Any failure undoes everything through vs_net_down, which works from the
 * recorded plan and ignores what does not exist (also after a crash). */
#include "net.h"
#include "netbpf.h"
#include "netlink.h"
#include "nft.h"
#include "landlock.h"
#include "safeio.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX 16384

static int write_plan(const struct vs_settings *s, const char *name, const char *text, vs_err *err)
{
	_cleanup_close_ int run = vs_settings_open_rundir(s, err);
	if (run < 0)
		return -1;
	if (mkdirat(run, name, 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s/%s", s->rundir, name);
	_cleanup_close_ int dir = openat(run, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return vs_fail_errno(err, "%s/%s", s->rundir, name);
	return vs_write_runtime_file_at(dir, "net", text, strlen(text), 0600, err);
}

static const char *iface_dev(const struct vs_config *c, const struct vs_iface *f)
{
	return f->dev ? f->dev : c->iface_dev;
}

/* ---- isolated ---------------------------------------------------------- */

static int up_isolated(const struct vs_settings *s, const struct vs_config *c, const struct vs_cgroup *cg,
		       vs_err *err)
{
	if (!cg->unified)
		return vs_fail(err, VS_E_INVALID, 0,
			       "%s/net/mode: mode isolated needs a cgroup2 hierarchy for its BPF socket programs, and "
			       "this host has none mounted (use net/mode private)",
			       c->cfgdir);
	int abi = vs_landlock_abi();
	if (abi < 6)
		return vs_fail(err, VS_E_INVALID, 0,
			       "%s/net/mode: mode isolated needs Landlock ABI 6 (Linux 6.12) to keep the guest off the "
			       "host's abstract unix sockets; this kernel has ABI %d (use net/mode private)",
			       c->cfgdir, abi);
	/* N1: an address is recorded once it is added (an address that is
	 * already there when ours is added - a race with the check of S5 -
	 * must never be removed by the rollback) */
	_cleanup_free_ char *plan = vs_strdup("mode isolated\n");
	if (write_plan(s, c->name, plan, err) < 0)
		return -1;
	/* N2 */
	_cleanup_nl_ struct vs_nl *nl = NULL;
	if (vs_nl_open(&nl, err) < 0)
		return -1;
	struct vs_netbpf_conf bc = { 0 };
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct vs_iface *f = &c->ifaces[i];
		if (f->disabled || !f->ip.family)
			continue;
		if (f->ip.family == AF_INET && bc.n4 < VS_NETBPF_MAX_ADDRS)
			bc.v4[bc.n4++] = f->ip;
		else if (f->ip.family == AF_INET6 && bc.n6 < VS_NETBPF_MAX_ADDRS)
			bc.v6[bc.n6++] = f->ip;
		if (f->nodev)
			continue;
		const char *dev = iface_dev(c, f);
		int idx = vs_nl_ifindex(nl, dev, err);
		if (idx < 0)
			return -1;
		if (idx == 0)
			return vs_fail(err, VS_E_INVALID, 0, "%s/interfaces/%s: device '%s' does not exist on the host",
				       c->cfgdir, f->id, dev);
		char label[IFNAMSIZ + 20] = "";
		if (f->label && f->ip.family == AF_INET) {
			snprintf(label, sizeof label, "%s:%s", dev, f->label);
			if (strlen(label) >= IFNAMSIZ)
				return vs_fail(err, VS_E_INVALID, 0,
					       "%s/interfaces/%s/name: the label '%s' is longer than %d characters",
					       c->cfgdir, f->id, label, IFNAMSIZ - 1);
		}
		if (vs_nl_addr_add(nl, idx, &f->ip, label[0] ? label : NULL, err) < 0)
			return -1;
		char a[64];
		vs_ip_format(&f->ip, a, sizeof a);
		char *np = vs_asprintf("%saddr %s %s\n", plan, dev, a);
		free(plan);
		plan = np;
		if (write_plan(s, c->name, plan, err) < 0) {
			/* not recorded: take it back here */
			vs_err e2;
			vs_nl_addr_del(nl, idx, &f->ip, &e2);
			return -1;
		}
		if (!f->down && vs_nl_link_set_up(nl, idx, true, err) < 0)
			return -1;
	}
	/* N3 */
	struct vs_ipaddr lb;
	vs_config_lback(c, &lb);
	memcpy(bc.lback, lb.addr, 4);
	_cleanup_close_ int cgfd = open(cg->unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return vs_fail_errno(err, "%s", cg->unified);
	return vs_netbpf_attach(cgfd, &bc, err);
}

/* ---- private ----------------------------------------------------------- */

/* Bridges vserver made carry a marker RUNDIR/.bridges/NAME: the last
 * guest leaving such a bridge removes it; a bridge the admin made is
 * never removed.  Bridge changes are serialized on the directory's flock
 * (guests start in parallel under vserver-autostart -j). */
static int bridges_lock(const struct vs_settings *s, vs_err *err)
{
	_cleanup_close_ int run = vs_settings_open_rundir(s, err);
	if (run < 0)
		return -1;
	if (mkdirat(run, ".bridges", 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s/.bridges", s->rundir);
	int fd = openat(run, ".bridges", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail_errno(err, "%s/.bridges", s->rundir);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return vs_fail_errno(err, "locking %s/.bridges", s->rundir);
		}
	return fd;
}

/* Remove the bridge if vserver made it and nothing is on it any more. */
static int bridge_release(const struct vs_settings *s, struct vs_nl *nl, const char *bridge, vs_err *err)
{
	_cleanup_close_ int dir = bridges_lock(s, err);
	if (dir < 0)
		return -1;
	if (faccessat(dir, bridge, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	int b = vs_nl_ifindex(nl, bridge, err);
	if (b < 0)
		return -1;
	if (b > 0) {
		struct vs_nl_link *l = NULL;
		size_t n = 0;
		if (vs_nl_link_list(nl, &l, &n, err) < 0)
			return -1;
		bool used = false;
		for (size_t i = 0; i < n; i++)
			used |= l[i].master == b;
		free(l);
		if (used)
			return 0;
		if (vs_nl_link_del(nl, b, err) < 0 && err->errnum != ENODEV)
			return -1;
	}
	unlinkat(dir, bridge, 0);
	return 0;
}

static int write_sysctl(const char *path, const char *value, vs_err *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		return vs_fail_errno(err, "%s", path);
	return 0;
}

/* N2: a namespace bound to `path`; returns its fd.  The calling process
 * stays in (returns to) the namespace it was in. */
static int make_netns(const char *path, vs_err *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return vs_fail_errno(err, "/proc/self/ns/net");
	umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
	unlink(path);
	int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return vs_fail_errno(err, "%s", path);
	close(f);
	if (unshare(CLONE_NEWNET) < 0)
		return vs_fail_errno(err, "new network namespace");
	int r = mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
	int e = errno;
	int fd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 && r == 0)
		e = errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* cannot happen with the fd we hold; never go on in the wrong namespace */
		abort();
	}
	if (r < 0 || fd < 0)
		return vs_fail(err, VS_E_SYSTEM, e, "binding the network namespace to %s", path);
	return fd;
}

static int has_addr(struct vs_nl *nl, int ifindex, const struct vs_ipaddr *a, vs_err *err)
{
	struct vs_nl_addr *l = NULL;
	size_t n = 0;
	if (vs_nl_addr_list(nl, &l, &n, err) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < n && !r; i++)
		r = (!ifindex || l[i].ifindex == ifindex) && vs_ip_equal(&l[i].ip, a);
	free(l);
	return r;
}

/* The veth's MTU: the largest a veth has, on a routed veth or a bridge
 * made now; on a bridge that exists (ours with its guests, or the
 * admin's with its ports), the bridge's own, which its ports set: a
 * larger one would send frames its other ports drop.  Under the bridges
 * lock (a bridge made or released meanwhile). */
#define VETH_MTU 65535u

static unsigned veth_mtu(const struct vs_config *c, struct vs_nl *nl, vs_err *err)
{
	if (c->net.routed)
		return VETH_MTU;
	int b = vs_nl_ifindex(nl, c->net.bridge, err);
	if (b <= 0)
		return b < 0 ? 0 : VETH_MTU;
	struct vs_nl_link l;
	if (vs_nl_link_get(nl, b, &l, err) < 0)
		return 0;
	return l.mtu ? l.mtu : 1500;
}

/* The MTU of the way out for `family`: net/mtu, else that of the device
 * of the host's default route of that family, else Ethernet's. */
static unsigned outside_mtu(const struct vs_config *c, int family, struct vs_nl *nl, vs_err *err)
{
	if (c->net.mtu)
		return c->net.mtu;
	int oif = vs_nl_route_default_oif(nl, family, err);
	if (oif < 0)
		return 0;
	struct vs_nl_link l;
	if (oif > 0 && vs_nl_link_get(nl, oif, &l, err) == 0 && l.mtu)
		return l.mtu;
	return 1500;
}

/* N6, run inside the guest's namespace; mtu4/mtu6 (0: none) are the MTU
 * metrics of the default routes */
static int configure_inside(const struct vs_config *c, unsigned mtu4, unsigned mtu6, vs_err *err)
{
	_cleanup_nl_ struct vs_nl *nl = NULL;
	if (vs_nl_open(&nl, err) < 0)
		return -1;
	int lo = vs_nl_ifindex(nl, "lo", err), eth = vs_nl_ifindex(nl, "eth0", err);
	if (lo <= 0 || eth <= 0)
		return lo < 0 || eth < 0 ? -1 : vs_fail(err, VS_E_SYSTEM, ENODEV, "the guest's lo or eth0 is missing");
	if (vs_nl_link_set_up(nl, lo, true, err) < 0)
		return -1;
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct vs_iface *f = &c->ifaces[i];
		if (f->disabled || !f->ip.family)
			continue;
		struct vs_ipaddr a = f->ip;
		if (c->net.routed)
			a.prefix = a.family == AF_INET ? 32 : 128;
		else if (a.prefix < 0)
			a.prefix = a.family == AF_INET ? c->net.gateway.prefix : 64;
		if (vs_nl_addr_add(nl, eth, &a, NULL, err) < 0)
			return -1;
		*(a.family == AF_INET ? &v4 : &v6) = true;
	}
	/* its link-local address is the one its netdev table lets through
	 * (nft.h), whatever the namespace's default */
	vs_err e6;
	if (vs_nl_link_set_addrgen_eui64(nl, eth, &e6) < 0 && e6.errnum != EAFNOSUPPORT) { /* no IPv6 */
		*err = e6;
		return -1;
	}
	if (vs_nl_link_set_up(nl, eth, true, err) < 0)
		return -1;
	if (c->net.routed) {
		uint8_t gw4[4] = { 169, 254, 0, 1 };
		uint8_t gw6[16] = { 0xfe, 0x80, [15] = 1 };
		/* the host end itself on the link (at the veth's MTU), everything
		 * else through it (at the way out's) */
		if (v4 && (vs_nl_route_add(nl, AF_INET, gw4, 32, NULL, eth, false, 0, err) < 0 ||
			   vs_nl_route_add(nl, AF_INET, NULL, 0, gw4, eth, true, mtu4, err) < 0))
			return -1;
		if (v6 && vs_nl_route_add(nl, AF_INET6, NULL, 0, gw6, eth, false, mtu6, err) < 0)
			return -1;
	} else if (v4 && vs_nl_route_add(nl, AF_INET, NULL, 0, c->net.gateway.addr, eth, false, mtu4, err) < 0)
		return -1;
	return 0;
}

static int up_private(const struct vs_settings *s, const struct vs_config *c, vs_err *err)
{
	char veth[IFNAMSIZ];
	vs_config_veth_name(c, veth, sizeof veth);
	_cleanup_free_ char *nspath = vs_net_netns_path(s, c->name);
	/* N1 */
	_cleanup_free_ char *plan = vs_asprintf("mode private\nnetns %s\nveth %s\nnft\n%s%s%s", nspath, veth,
						c->net.routed ? "" : "bridge ", c->net.routed ? "" : c->net.bridge,
						c->net.routed ? "" : "\n");
	if (write_plan(s, c->name, plan, err) < 0)
		return -1;
	/* N2 */
	_cleanup_close_ int gns = make_netns(nspath, err);
	if (gns < 0)
		return -1;
	/* N3 */
	_cleanup_nl_ struct vs_nl *nl = NULL;
	if (vs_nl_open(&nl, err) < 0)
		return -1;
	/* the bridges lock from here to the bridge port (N4): the veth's MTU
	 * is the bridge's as it is then */
	_cleanup_close_ int lk = c->net.routed ? -1 : bridges_lock(s, err);
	if (!c->net.routed && lk < 0)
		return -1;
	unsigned mtu = veth_mtu(c, nl, err), out4 = outside_mtu(c, AF_INET, nl, err),
		 out6 = out4 ? outside_mtu(c, AF_INET6, nl, err) : 0;
	/* the guest's MAC address, pinned by its netdev table (N7): random,
	 * locally administered, unicast (a bridge may have the LAN on it) */
	uint8_t mac[6];
	if (getrandom(mac, sizeof mac, 0) != (ssize_t)sizeof mac)
		return vs_fail_errno(err, "getrandom");
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	if (!mtu || !out4 || !out6 || vs_nl_veth_add(nl, veth, "eth0", gns, mtu, mac, err) < 0)
		return -1;
	int h = vs_nl_ifindex(nl, veth, err);
	if (h <= 0)
		return h < 0 ? -1 : vs_fail(err, VS_E_SYSTEM, ENODEV, "%s vanished", veth);
	/* N4 */
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!c->ifaces[i].disabled && c->ifaces[i].ip.family)
			*(c->ifaces[i].ip.family == AF_INET ? &v4 : &v6) = true;
	if (c->net.routed) {
		struct vs_ipaddr g4 = { .family = AF_INET, .addr = { 169, 254, 0, 1 }, .prefix = 32 };
		struct vs_ipaddr g6 = { .family = AF_INET6, .addr = { 0xfe, 0x80, [15] = 1 }, .prefix = 64 };
		if ((v4 && vs_nl_addr_add(nl, h, &g4, NULL, err) < 0) || (v6 && vs_nl_addr_add(nl, h, &g6, NULL, err) < 0))
			return -1;
		if (vs_nl_link_set_up(nl, h, true, err) < 0)
			return -1;
		for (size_t i = 0; i < c->n_ifaces; i++) {
			const struct vs_iface *f = &c->ifaces[i];
			if (f->disabled || !f->ip.family)
				continue;
			if (vs_nl_route_add(nl, f->ip.family, f->ip.addr, f->ip.family == AF_INET ? 32 : 128, NULL, h, false,
					    0, err) < 0)
				return -1;
		}
	} else {
		int b = vs_nl_ifindex(nl, c->net.bridge, err);
		if (b < 0)
			return -1;
		if (b > 0) {
			struct vs_nl_link l;
			if (vs_nl_link_get(nl, b, &l, err) < 0)
				return -1;
			if (strcmp(l.kind, "bridge"))
				return vs_fail(err, VS_E_INVALID, 0, "%s/net/bridge: device %s exists and is not a bridge (%s)",
					       c->cfgdir, c->net.bridge, l.kind[0] ? l.kind : "no link kind");
		}
		if (b == 0) {
			if (vs_nl_bridge_add(nl, c->net.bridge, err) < 0)
				return -1;
			int mk = openat(lk, c->net.bridge, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (mk < 0)
				return vs_fail_errno(err, "%s/.bridges/%s", s->rundir, c->net.bridge);
			close(mk);
			b = vs_nl_ifindex(nl, c->net.bridge, err);
			if (b <= 0)
				return b < 0 ? -1 : vs_fail(err, VS_E_SYSTEM, ENODEV, "bridge %s vanished", c->net.bridge);
		}
		if (c->net.gateway.family) {
			int r = has_addr(nl, b, &c->net.gateway, err);
			if (r < 0 || (r == 0 && vs_nl_addr_add(nl, b, &c->net.gateway, NULL, err) < 0))
				return -1;
		}
		/* hairpin: the guest reaches its own port forwards (the DNAT
		 * sends the packet back out of the port it came in by) */
		if (vs_nl_link_set_up(nl, b, true, err) < 0 || vs_nl_link_set_master(nl, h, b, err) < 0 ||
		    vs_nl_brport_set_hairpin(nl, h, true, err) < 0 || vs_nl_link_set_up(nl, h, true, err) < 0)
			return -1;
	}
	/* N5 */
	if (v4 && write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return -1;
	/* IPv6 forwarding only where IPv6 is routed to the guest (routed
	 * veth, or forwards): it also makes the host ignore router
	 * advertisements on its own interfaces (vserver(8) NETWORKING) */
	bool fwd6 = false;
	for (size_t i = 0; i < c->net.n_fwd; i++)
		fwd6 |= c->net.fwd[i].host_addr.family != AF_INET;
	if (v6 && (c->net.routed || fwd6) && write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1", err) < 0)
		return -1;
	/* N6 */
	{
		_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(gns, CLONE_NEWNET) < 0)
			return vs_fail_errno(err, "entering the guest's network namespace");
		int r = configure_inside(c, out4 < mtu ? out4 : 0, out6 < mtu ? out6 : 0, err);
		if (setns(self, CLONE_NEWNET) < 0)
			abort();
		if (r < 0)
			return vs_err_prefix(err, "inside the guest's network namespace");
	}
	/* N7 */
	struct vs_ipaddr addrs[64];
	size_t n = 0;
	for (size_t i = 0; i < c->n_ifaces && n < VS_ARRAY_SIZE(addrs); i++)
		if (!c->ifaces[i].disabled && c->ifaces[i].ip.family)
			addrs[n++] = c->ifaces[i].ip;
	struct vs_nft_forward fw[64];
	size_t nf = 0;
	for (size_t i = 0; i < c->net.n_fwd && nf < VS_ARRAY_SIZE(fw); i++)
		fw[nf++] = (struct vs_nft_forward){ .proto = c->net.fwd[i].proto, .host_port = c->net.fwd[i].host_port,
						    .guest_port = c->net.fwd[i].guest_port,
						    .host_addr = c->net.fwd[i].host_addr };
	struct vs_nft_port hp[64];
	size_t nh = 0;
	for (size_t i = 0; i < c->net.n_host_ports && nh < VS_ARRAY_SIZE(hp); i++)
		hp[nh++] = (struct vs_nft_port){ .proto = c->net.host_ports[i].proto,
						 .port = c->net.host_ports[i].host_port };
	struct vs_nft_guest g = { .name = c->name, .veth = veth, .bridge = c->net.routed ? NULL : c->net.bridge,
				  .mac = mac, .addrs = addrs, .n_addrs = n, .masquerade = !c->net.nomasquerade, .fwd = fw,
				  .n_fwd = nf, .host_ports = hp, .n_host_ports = nh };
	return vs_nft_guest_add(&g, err);
}

int vs_net_up(const struct vs_settings *s, const struct vs_config *c, const struct vs_cgroup *cg, vs_err *err)
{
	int r = 0;
	if (c->net.mode == VS_NET_ISOLATED)
		r = up_isolated(s, c, cg, err);
	else if (c->net.mode == VS_NET_PRIVATE)
		r = up_private(s, c, err);
	if (r < 0) {
		vs_err e2;
		vs_net_down(s, c->name, &e2);
	}
	return r;
}

/* ---- down ---------------------------------------------------------------- */

int vs_net_down(const struct vs_settings *s, const char *name, vs_err *err)
{
	_cleanup_close_ int run = vs_settings_open_rundir(s, err);
	if (run < 0)
		return -1;
	_cleanup_free_ char *rel = vs_asprintf("%s/net", name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (vs_read_file_at(run, rel, STATE_MAX, &text, &len, err) < 0) {
		if (err->errnum == ENOENT)
			return 0;
		return -1;
	}
	_cleanup_nl_ struct vs_nl *nl = NULL;
	int rc = 0;
	vs_err e;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[16], a1[4096], a2[128];
		int n = sscanf(line, "%15s %4095s %127s", key, a1, a2);
		if (n < 1)
			continue;
		if (!strcmp(key, "addr") && n == 3) {
			struct vs_ipaddr ip;
			if (vs_ip_parse(a2, &ip, &e) < 0 || (!nl && vs_nl_open(&nl, &e) < 0))
				continue;
			int idx = vs_nl_ifindex(nl, a1, &e);
			if (idx > 0 && vs_nl_addr_del(nl, idx, &ip, &e) < 0 && e.errnum != EADDRNOTAVAIL &&
			    e.errnum != ENODEV) {
				*err = e;
				rc = -1;
			}
		} else if (!strcmp(key, "nft")) {
			if (vs_nft_guest_del(name, &e) < 0) {
				*err = e;
				rc = -1;
			}
		} else if (!strcmp(key, "veth") && n >= 2) {
			if (!nl && vs_nl_open(&nl, &e) < 0)
				continue;
			int idx = vs_nl_ifindex(nl, a1, &e);
			if (idx > 0 && vs_nl_link_del(nl, idx, &e) < 0 && e.errnum != ENODEV) {
				*err = e;
				rc = -1;
			}
		} else if (!strcmp(key, "bridge") && n >= 2) {
			vs_err e2;
			if ((!nl && vs_nl_open(&nl, &e) < 0) || vs_ifname_check(a1, &e2) < 0)
				continue;
			if (bridge_release(s, nl, a1, &e) < 0) {
				*err = e;
				rc = -1;
			}
		} else if (!strcmp(key, "netns") && n >= 2) {
			_cleanup_free_ char *want = vs_net_netns_path(s, name);
			if (strcmp(a1, want))
				continue; /* never unmount anything but our own file */
			if (umount2(a1, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
				vs_fail_errno(err, "unmounting %s", a1);
				rc = -1;
			}
			unlink(a1);
		}
	}
	vs_nft_flush(); /* after the bridge: see vs_nft_flush */
	if (rc == 0)
		unlinkat(run, rel, 0);
	return rc;
}
