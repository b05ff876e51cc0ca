/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's own figures in /proc: free, top, uptime and nproc read
 * /proc/{meminfo,cpuinfo,stat,uptime,loadavg,diskstats,swaps} and
 * /sys/devices/system/cpu/online, which the kernel fills with the host's
 * figures.  LXCFS (Debian's lxcfs: a FUSE file system the lxcfs service
 * mounts at /var/lib/lxcfs) serves the same files computed for the
 * process that reads them: memory from its memory cgroup (limit, usage,
 * swap), CPUs from its cpuset (and with --enable-cfs its CPU quota),
 * uptime from the start of its PID namespace's init.  vserver binds
 * those files over the guest's, in the guest's mount namespace only.
 *
 * LXCFS is used only when it really serves at the configured place
 * (settings key `lxcfs`, VSERVER_LXCFS; "none" turns it off): a
 * fuse.lxcfs mount whose files all answer.  Otherwise the guest starts
 * with the host's figures, and `start` says so in one line. */
#pragma once
#include "error.h"
#include "util.h"

#define VS_LXCFS_DEFAULT "/var/lib/lxcfs"
/* The settings value that turns LXCFS off (no bind, no notice). */
#define VS_LXCFS_OFF "none"

/* Does LXCFS serve at `dir`?  0: the top mount at `dir` is fuse.lxcfs
 * (mountinfo, FUSE magic) and every file vserver binds is there; -1 with
 * err saying what is missing (kind VS_E_STATE), also for "none". */
int vs_lxcfs_probe(const char *dir, vs_err *err);

/* The start front-end's notice, through `rep`, when `dir` is not "none"
 * and LXCFS does not serve there:
 *   notice: LXCFS is not running at DIR: free, top and uptime in GUEST
 *   show the host's figures (apt-get install lxcfs) */
void vs_lxcfs_notice(const char *dir, const char *guest, const vs_report *rep);

/* In the guest's private mount namespace, with /proc and /sys of the
 * guest mounted and masked, before pivot_root: bind the LXCFS files
 * (read-only, nosuid, nodev, noexec) over the guest's, targets resolved
 * inside the guest root.  LXCFS not serving at `dir` (or "none"):
 * nothing is bound and 0 is returned (the guest sees the host's
 * figures; `start` gave the notice).  -1 only when a bind fails. */
int vs_lxcfs_bind(int rootfd, const char *dir, vs_err *err);

/* vs_lxcfs_bind with the configured directory (vs_settings_load). */
int vs_lxcfs_bind_configured(int rootfd, vs_err *err);
