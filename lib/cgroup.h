/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One cgroup per guest, created before its first process, used to count,
 * freeze and kill every process of the guest and to hold its device
 * policy.  Works on pure cgroup v2 hosts (/sys/fs/cgroup is cgroup2) and
 * on v1/hybrid hosts (v1 controllers under /sys/fs/cgroup/<ctrl>, and
 * possibly a cgroup2 mount at /sys/fs/cgroup/unified): detected, never
 * assumed.
 *
 * Layout: <hierarchy>/<settings.cgroup_parent>/<guest name>, for the
 * cgroup2 hierarchy (if any) and, on v1/hybrid, for each v1 controller
 * among pids, memory, cpu, cpuacct, cpuset, devices, freezer, blkio
 * (and the name=systemd hierarchy when mounted).  The parent is created
 * on demand; tests point cgroup_parent at a private name.
 *
 * The guest's processes never live in that dir: they live in its leaf
 * child VS_CGROUP_PAYLOAD (and whatever the guest makes below it), in
 * every hierarchy, and the guest's cgroup namespace is rooted there.  The
 * guest dir carries the limits, the device policy and the network
 * programs, which all cover the descendants; from inside, the guest dir
 * is out of reach (not in the guest's cgroup2 mount, above the root of
 * its cgroup namespace), so guest root can neither raise its own limits
 * nor move itself out (LXC and systemd-nspawn do the same). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"
#include "settings.h"
#include "util.h"

/* The host's cgroup mount point; the `root` arguments below default to
 * the settings' cgroup_root, which defaults to it, when NULL.  Only for this path is the layout confirmed with file
 * system magic (cgroup2 / tmpfs with cgroup mounts); any other root (the
 * unit tests' fake trees) is recognised by its files alone: a
 * cgroup.controllers file at the root means pure v2, otherwise v1
 * controller dirs and/or a cgroup2 "unified" dir (hybrid). */
#define VS_CGROUP_ROOT "/sys/fs/cgroup"

/* The sub-cgroup of the guest dir that holds every guest process: the
 * root of the guest's cgroup namespace ("/" in its /proc/self/cgroup). */
#define VS_CGROUP_PAYLOAD "payload"

enum vs_cgroup_mode {
	VS_CG_UNIFIED = 2,   /* pure cgroup v2 */
	VS_CG_HYBRID = 1,    /* v1 controllers (+ optional cgroup2 at /sys/fs/cgroup/unified) */
};

struct vs_cgroup {
	int mode;            /* enum vs_cgroup_mode */
	char *unified;       /* guest dir in the cgroup2 hierarchy; NULL if the host has none */
	vs_strv v1;          /* guest dirs in each v1 hierarchy (hybrid only) */
	char *pids_dir;      /* the dir whose cgroup.procs files (read recursively) list every
			      * process: v1 pids, else v1 freezer, else cgroup2 */
	/* Hybrid only, NULL when not mounted: the guest dirs of the v1
	 * controllers with a duty (also listed in v1). */
	char *v1_freezer;    /* used by vs_cgroup_kill */
	char *v1_devices;    /* used by vs_cgroup_set_devices */
};
/* The functions below use only the fields of struct vs_cgroup, so a copy
 * with some fields cleared acts on part of the hierarchies (the unit
 * tests use this to drive the v1 and the BPF device policy, or the v1
 * freezer and cgroup.kill, separately on a hybrid host).  Never free
 * such a copy. */

/* Root of the host's cgroup hierarchies (default /sys/fs/cgroup; the
 * unit tests pass a fake tree). */
int vs_cgroup_detect(const char *root, int *mode, vs_err *err);
/* The cgroup root to use: `root` if given (non-empty), else the settings'
 * cgroup_root (VSERVER_CGROUP_ROOT), else VS_CGROUP_ROOT.  The functions
 * below that take settings and a root apply it. */
const char *vs_cgroup_root(const struct vs_settings *s, const char *root);

/* Create the guest's cgroup(s) under the parent.  Fails (VS_E_STATE) if
 * it exists and is not empty of processes; an existing empty one (left by
 * a crash) is removed with its sub-cgroups and made afresh.  On v2
 * enables the available controllers (pids memory cpu io cpuset) in the
 * parent's cgroup.subtree_control; on v1 copies cpuset.cpus/cpuset.mems
 * from the parent.  On failure nothing of the guest's is left (the shared
 * parent dirs stay) and *cg is cleared.  Names: the guest name is one
 * path component; settings.cgroup_parent is one or more ('a/b'), no '.',
 * '..' or control characters (VS_E_INVALID). */
int vs_cgroup_create(const struct vs_settings *s, const char *root, const char *name, struct vs_cgroup *cg,
		     vs_err *err);
/* Find the existing cgroup(s) of a guest (no creation).  Returns 0 if
 * found (only the hierarchies where the dir exists are filled in), -1
 * with VS_E_NOGUEST if none (*cg is then cleared). */
int vs_cgroup_open(const struct vs_settings *s, const char *root, const char *name, struct vs_cgroup *cg,
		   vs_err *err);
/* Also fine on a zeroed struct; leaves it zeroed. */
void vs_cgroup_free(struct vs_cgroup *cg);

/* Create the payload sub-cgroup in every hierarchy (existing: kept).
 * Call it after vs_cgroup_set_devices (v1 refuses "deny a" once a
 * sub-cgroup exists) and before vs_limits_apply.  v1 memory: the guest
 * dir's memory.use_hierarchy must be 1 (its limit must cover the
 * payload): set when 0, refused when that fails.  v1 cpuset: the payload
 * gets the guest dir's cpus and mems.  cgroup2: the guest dir's
 * controllers are enabled in its subtree_control, so that systemd in the
 * guest can delegate them further (the guest dir holds no process, so
 * the no-internal-process rule is kept). */
int vs_cgroup_make_payload(const struct vs_cgroup *cg, vs_err *err);
/* Move a process into the guest's payload cgroup in every hierarchy
 * (made first by vs_cgroup_make_payload if missing). */
int vs_cgroup_attach(const struct vs_cgroup *cg, pid_t pid, vs_err *err);
/* Move the calling process, which must have a single thread (a child
 * right after fork), into the guest's payload cgroup in every hierarchy
 * (it must exist: the guest is running); with
 * skip_unified, not into the cgroup2 one (it was born there: clone3
 * CLONE_INTO_CGROUP).  Never waits for an RCU grace period on v1 (the
 * thread is moved through `tasks`); a cgroup.procs write on cgroup2
 * can. */
int vs_cgroup_join_self(const struct vs_cgroup *cg, bool skip_unified, vs_err *err);
/* O_DIRECTORY fd of the cgroup2 payload dir (for clone3 CLONE_INTO_CGROUP), -1
 * if the host has no cgroup2 hierarchy (err: VS_E_SYSTEM, errnum ENOENT;
 * callers can test cg->unified first). */
int vs_cgroup_unified_fd(const struct vs_cgroup *cg, vs_err *err);
/* clone(2) with `flags` (CLONE_NEW*; SIGCHLD is the exit signal), the
 * child born in the cgroup2 directory `cgfd` (clone3 CLONE_INTO_CGROUP,
 * Linux 5.7; cgfd -1: none).  Moving a process there afterwards takes the
 * kernel's global threadgroup lock, whose first use after a pause waits
 * for an RCU grace period (5-20 ms).  *born_in tells whether that worked;
 * else (no cgroup2, an older kernel, clone3 filtered: ENOSYS, E2BIG,
 * EINVAL, EPERM) a plain clone, and the caller moves the child; any other
 * clone3 error is returned (-1, errno).  A child the kernel kills at birth
 * (after a cgroup.kill in the target, on kernels with kill_seq: see cgroup.c) is reaped
 * and made again the plain way.  Like a raw clone, the child skips libc's
 * fork handlers: the caller must have one thread. */
pid_t vs_clone_into_cgroup(int cgfd, unsigned long flags, bool *born_in);
/* Every pid in the guest's cgroup (and its sub-cgroups), sorted, no
 * duplicates; *pids is malloc'd (also when *n is 0). */
int vs_cgroup_pids(const struct vs_cgroup *cg, pid_t **pids, size_t *n, vs_err *err);
/* Is `pid` in the guest's cgroup (or a sub-cgroup)? */
bool vs_cgroup_contains(const struct vs_cgroup *cg, pid_t pid);
/* Send `sig` to every process of the guest's cgroup: each pid pinned by
 * a pidfd and signalled only if it is still listed (never a reused pid). */
int vs_cgroup_signal(const struct vs_cgroup *cg, int sig, vs_err *err);
/* SIGKILL every process (v2: cgroup.kill, else freeze + kill + thaw,
 * repeated) and wait up to timeout_ms until the cgroup is empty.
 * Hybrid: the v1 freezer (FROZEN, kill, THAWED).  Only processes listed
 * in the cgroup are signalled (pinned by pidfd and listed again before
 * the signal, so a reused pid is never hit).  At least one round is
 * made; still populated at the deadline: VS_E_SYSTEM, ETIMEDOUT.
 * Zombies (exited, not yet reaped) are no longer listed. */
int vs_cgroup_kill(const struct vs_cgroup *cg, int timeout_ms, vs_err *err);
/* Remove the guest's cgroup directories (depth first: sub-cgroups the
 * guest made, e.g. systemd's, go too).  Fails (VS_E_STATE) if processes
 * remain.  The parent dirs stay (see below). */
int vs_cgroup_destroy(const struct vs_cgroup *cg, vs_err *err);

/* Remove settings.cgroup_parent (deepest level first) in every
 * hierarchy where it holds no cgroup any more; in use: left alone, not
 * an error. */
int vs_cgroup_remove_parent_if_empty(const struct vs_settings *s, const char *root, vs_err *err);

/* Device policy: only these devices, type 'c' or 'b', major/minor
 * (-1 = any), with the accesses in `access` (letters of "rwm": read,
 * write, mknod).  Anything else is denied. */
struct vs_dev_rule {
	char type;    /* 'c' or 'b' */
	int major, minor;
	const char *access; /* "rwm" */
};
#define VS_DEV_RULES_MAX 4096
/* v1: devices.deny "a" then devices.allow each rule; v2: a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (raw instructions, no compiler
 * needed) attached to the unified dir.  On hybrid hosts both are set
 * when both exist (the kernel checks both).
 * v1 refuses "deny a" once the cgroup has sub-cgroups: set the policy
 * right after vs_cgroup_create.  The BPF program is attached with
 * BPF_F_ALLOW_MULTI (the guest's own programs on its sub-cgroups can only
 * narrow it) and replaces the programs attached to the guest dir before
 * (attach first, then detach: no moment without a policy).  It lives as
 * long as the cgroup; no fd is kept. */
int vs_cgroup_set_devices(const struct vs_cgroup *cg, const struct vs_dev_rule *rules, size_t n, vs_err *err);

/* Ids of the BPF device programs attached directly to the cgroup2 dir
 * `cgfd` (*ids malloc'd). */
int vs_cgroup_bpf_device_progs(int cgfd, uint32_t **ids, uint32_t *n, vs_err *err);
