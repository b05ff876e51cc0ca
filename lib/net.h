/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's network (vserver(8) NETWORKING), by mode:
 *   none      own network namespace with only lo (made by the guest's
 *             PID 1 itself, see start.c C1); nothing on the host
 *   host      the host's stack, nothing done (explicit opt-in)
 *   isolated  the host's stack: the guest's addresses added to their
 *             devices (unless nodev) and the sock_addr BPF programs of
 *             netbpf.h on the guest's cgroup2 directory; abstract unix
 *             sockets of the host are cut off by Landlock scoping
 *             (landlock.h) in every guest process
 *   private   own network namespace (a file RUNDIR/NAME/netns, bound like
 *             `ip netns` does, that PID 1 joins and that survives a reboot
 *             inside the guest), a veth pair "vs-NAME" (host) / "eth0"
 *             (guest) on a bridge holding the gateway address, or routed
 *             (/32 routes; the guest's gateway is 169.254.0.1 / fe80::1 on
 *             the host end), the guest's addresses and default route set
 *             inside, and the nftables tables of nft.h on the host
 *
 * Bringing up and down (net.c) needs libmnl, libbpf and libnftables: it
 * runs in the vserver-net helper, so that the vserver command (every
 * exec, enter, status) does not load those libraries.  What was done is
 * recorded first in RUNDIR/NAME/net, and vs_net_down undoes exactly what
 * is listed there (tolerating what is already gone), so that a crash at
 * any point leaves nothing that `stop` cannot remove.
 *
 * The checks against the host (netcheck.c) need only libc and run in
 * `check` and at the first stage of `start`. */
#pragma once
#include "cgroup.h"
#include "config.h"
#include "error.h"
#include "settings.h"

/* Problems of the guest's network against the host as it is now:
 * devices that do not exist, an address the host (or a running guest's
 * device) already has, a nodev address the host does not have, a
 * forwarded port a host process already listens on.  Each one goes to
 * `diags` with the configuration file and line. */
void vs_net_check_host(const struct vs_settings *s, const struct vs_config *c, struct vs_diags *diags);

/* Does the mode need the vserver-net helper at start and stop? */
static inline bool vs_net_needs_helper(const struct vs_config *c)
{
	return c->net.mode == VS_NET_ISOLATED || c->net.mode == VS_NET_PRIVATE;
}

/* vserver-net up / down (net.c). */
int vs_net_up(const struct vs_settings *s, const struct vs_config *c, const struct vs_cgroup *cg, vs_err *err);
int vs_net_down(const struct vs_settings *s, const char *name, vs_err *err);

/* Run the helper (start.c, the monitor): "vserver-net up|down NAME
 * [CGROOT]"; its one-line error becomes err. */
int vs_net_helper(const char *verb, const char *name, const char *cgroot, vs_err *err);

/* Path of the namespace file of a private guest (malloc'd). */
char *vs_net_netns_path(const struct vs_settings *s, const char *name);
