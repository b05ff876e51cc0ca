/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util-vserver's sysctl/<x>/{setting,value}: kernel settings written at
 * start into the guest's own namespaces (vsysctl).  On a stock kernel only
 * the namespaced ones can be the guest's: those of its IPC namespace
 * (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) and, when it has a
 * network namespace of its own (modes private and none), net.*.  Anything
 * else would change the host's setting for everyone, so it is refused. */
#pragma once
#include "error.h"
#include <stdbool.h>
#include <stddef.h>

struct vs_sysctl {
	char *id;      /* the directory name under sysctl/ */
	char *setting; /* as configured: dotted, e.g. net.ipv4.ip_forward */
	char *value;
};

/* Is `setting` (dotted, with '/' standing for a '.' inside a component,
 * as sysctl(8) writes it) one vserver may write for a guest, which has its
 * own network namespace or not?  0, or -1 with the reason in *why
 * (malloc'd). */
int vs_sysctl_check(const char *setting, bool own_netns, char **why);

/* A net.* setting (the network namespace's; the others are the IPC
 * namespace's)? */
bool vs_sysctl_is_net(const struct vs_sysctl *s);

/* Write the settings (VS_SYSCTL_ALL, or only the NET or only the IPC
 * ones), in the order of the configuration, through /proc/sys of the
 * calling process (the guest's child: at C1, after it joined the guest's
 * network namespace, through the host's /proc, still writable; the net.*
 * ones of a user-namespace guest in mode none after C7 made its network
 * namespace, through the guest's writable /proc/sys/net).  Each is opened
 * beneath /proc/sys.  Stops at the first failure, naming the entry. */
enum { VS_SYSCTL_ALL, VS_SYSCTL_NET, VS_SYSCTL_IPC };
int vs_sysctl_apply(const struct vs_sysctl *s, size_t n, int which, vs_err *err);
