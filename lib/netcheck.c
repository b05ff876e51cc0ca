/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-side checks of a guest's network configuration (net.h), with libc
 * only: getifaddrs(3) for the host's addresses, if_nametoindex(3) for
 * devices, a bind probe for forwarded ports.  Also the helper runner. */
#include "net.h"
#include "cgroup.h"
#include "landlock.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

static bool host_has(const struct ifaddrs *ifa, const struct vs_ipaddr *a, const char **dev)
{
	for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->family)
			continue;
		const void *p = a->family == AF_INET ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr
						     : (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!memcmp(p, a->addr, a->family == AF_INET ? 4 : 16)) {
			*dev = i->ifa_name;
			return true;
		}
	}
	return false;
}

/* Can a host process bind this port?  EADDRINUSE: someone listens. */
static bool port_taken(int proto, const struct vs_ipaddr *addr, uint16_t port)
{
	int fam = addr->family ? addr->family : AF_INET;
	int fd = socket(fam, (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int one = 1;
	/* SO_REUSEADDR: a TCP port in TIME_WAIT is not "taken" */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (addr->family)
			memcpy(&s4->sin_addr, addr->addr, 4);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr->addr, 16);
		len = sizeof *s6;
	}
	bool taken = bind(fd, (struct sockaddr *)&ss, len) < 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

void vs_net_check_host(const struct vs_settings *s, const struct vs_config *c, struct vs_diags *d)
{
	if (!vs_net_needs_helper(c))
		return;
	if (c->net.mode == VS_NET_ISOLATED) {
		int abi = vs_landlock_abi();
		if (abi < 6)
			vs_diags_add(d, "net/mode", 1,
				     "mode isolated needs Landlock ABI 6 (Linux 6.12) to keep the guest off the host's "
				     "abstract unix sockets; this kernel has ABI %d (use mode private)",
				     abi);
		const char *root = vs_cgroup_root(s, NULL);
		_cleanup_free_ char *v2 = vs_asprintf("%s/cgroup.controllers", root);
		_cleanup_free_ char *hy = vs_asprintf("%s/unified/cgroup.controllers", root);
		if (access(v2, F_OK) < 0 && access(hy, F_OK) < 0)
			vs_diags_add(d, "net/mode", 1,
				     "mode isolated needs a cgroup2 hierarchy (BPF socket programs) and this host has "
				     "none mounted (use mode private)");
	}
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0) {
		vs_diags_add(d, "net/mode", 0, "cannot read the host's addresses: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct vs_iface *f = &c->ifaces[i];
		if (f->disabled || !f->ip.family)
			continue;
		_cleanup_free_ char *rel = vs_asprintf("interfaces/%s/ip", f->id);
		char a[64];
		vs_ip_format(&f->ip, a, sizeof a);
		const char *dev = NULL;
		bool has = host_has(ifa, &f->ip, &dev);
		if (c->net.mode == VS_NET_ISOLATED) {
			const char *want = f->dev ? f->dev : c->iface_dev;
			if (f->nodev && !has)
				vs_diags_add(d, rel, 1,
					     "address %s is marked nodev (or no device is configured) but the host does "
					     "not have it; add it on the host or set interfaces/dev",
					     a);
			else if (!f->nodev && has)
				vs_diags_add(d, rel, 1,
					     "address %s is already on the host (device %s); mark interfaces/%s/nodev if "
					     "the guest should use it as it is",
					     a, dev, f->id);
			else if (!f->nodev && want && !if_nametoindex(want)) {
				_cleanup_free_ char *drel = f->dev ? vs_asprintf("interfaces/%s/dev", f->id)
								   : vs_strdup("interfaces/dev");
				vs_diags_add(d, drel, 1, "device '%s' does not exist on the host", want);
			}
		} else if (has) {
			vs_diags_add(d, rel, 1, "address %s is already on the host (device %s)", a, dev);
		}
	}
	if (c->net.mode == VS_NET_PRIVATE) {
		char veth[32];
		vs_config_veth_name(c, veth, sizeof veth);
		if (if_nametoindex(veth))
			vs_diags_add(d, "net/mode", 0, "device %s already exists on the host", veth);
		for (size_t i = 0; i < c->net.n_fwd; i++) {
			const struct vs_net_forward *f = &c->net.fwd[i];
			const char *fdev;
			if (f->host_addr.family && !host_has(ifa, &f->host_addr, &fdev)) {
				char a[64];
				vs_ip_format(&f->host_addr, a, sizeof a);
				vs_diags_add(d, "net/forward", f->line, "%s is not an address of this host", a);
			} else if (port_taken(f->proto, &f->host_addr, f->host_port))
				vs_diags_add(d, "net/forward", f->line, "%s port %u is already in use on the host",
					     f->proto == IPPROTO_TCP ? "tcp" : "udp", f->host_port);
		}
		if (c->net.gateway.family) {
			const char *dev = NULL;
			if (host_has(ifa, &c->net.gateway, &dev) && strcmp(dev, c->net.bridge)) {
				char a[64];
				vs_ip_format(&c->net.gateway, a, sizeof a);
				vs_diags_add(d, "net/gateway", 1, "address %s is on device %s, not on the bridge %s", a, dev,
					     c->net.bridge);
			}
		}
	}
	freeifaddrs(ifa);
}

char *vs_net_netns_path(const struct vs_settings *s, const char *name)
{
	return vs_asprintf("%s/%s/netns", s->rundir, name);
}

int vs_net_helper(const char *verb, const char *name, const char *cgroot, vs_err *err)
{
	_cleanup_free_ char *bin = vs_helper_path("vserver-net", "VSERVER_NET");
	char *argv[] = { "vserver-net", (char *)verb, (char *)name, (char *)(cgroot ? cgroot : ""), NULL };
	char msg[1536];
	int st = vs_run_host(bin, argv, NULL, msg, sizeof msg, err);
	if (st <= 0)
		return st;
	return vs_fail(err, st == 2 ? VS_E_INVALID : VS_E_SYSTEM, 0, "%s", *msg ? msg : "the network helper failed");
}
