/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container post-install, applied after every build method (the seed did
 * all of it by hand).  Every access goes through the guest root dirfd
 * with RESOLVE_IN_ROOT (safeio.h): a planted symlink, FIFO or device can
 * neither redirect a write to the host nor hang the tool, and no guest
 * binary is ever run. */
#pragma once
#include "config.h"
#include "util.h"

/* Init style detected from the tree: systemd if /sbin/init is systemd,
 * sysv if /etc/init.d/rc exists, plain if /sbin/init exists, else sysv. */
int vs_detect_init_style(int rootfd);

/* "i686" when the guest's programs (its /bin/sh, else /sbin/init, else
 * /bin/busybox) are 32-bit x86 and the host is x86_64: such a guest
 * wants uts/machine i686 (a 32-bit personality), or its uname -m,
 * config.guess and the like say x86_64.  NULL otherwise. */
const char *vs_detect_machine(int rootfd);

/* A plain-style guest whose sysvinit runs "rc 0" and "rc 6" needs its
 * halt and reboot scripts there; the sysv style's post-install removes
 * them, so a guest built for sysv and switched to plain lacks them.  The
 * warning text (what is missing, what it does, how to restore it), or
 * NULL when nothing is missing.  `name` is the guest's, for the advice. */
char *vs_plain_shutdown_gap(int rootfd, const char *name);

/* The whole post-install: base directories, /etc/hostname, /etc/hosts,
 * root password locked, resolv.conf from the host, mtab, and services
 * that make no sense in a container disabled for the given style.
 * `host_resolv` is the host's resolv.conf path (NULL: /etc/resolv.conf). */
int vs_postinstall(int rootfd, const struct vs_config *c, int style, const char *host_resolv,
		   const vs_report *rep, vs_err *err);

/* The parts that carry the guest's name: /etc/hostname and /etc/hosts.
 * `old_nodename` (may be NULL) is replaced in /etc/hosts (rename). */
int vs_postinstall_identity(int rootfd, const struct vs_config *c, const char *old_nodename,
			    const vs_report *rep, vs_err *err);
