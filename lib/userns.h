/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-namespace guests (the `userns` flag, or the global setting
 * userns=1 / VSERVER_USERNS=1; `nouserns` opts a guest out).
 *
 * The guest's uids and gids 0..65535 are the host's BASE..BASE+65535 with
 * BASE = 65536 * context (contexts are 2..49151, so the range stays below
 * 2^32 - 1 and two guests never share an id).  Guest root is then host
 * uid BASE: nothing that escapes the guest is root on the host.
 *
 * How a guest is run (lib/start.c, lib/attach.c):
 *   - the monitor makes the guest's user namespace (vs_userns_create) and,
 *     for the shared folders, a second one with the "share" map below;
 *   - PID 1 is cloned as host root as in the default profile, with the
 *     guest root bound through an id-mapped mount (disk uid n is guest uid
 *     n: the tree on disk stays owned by 0..65535, nothing is shifted);
 *     the whole filesystem view (/proc masks, /dev nodes, fstab) is built
 *     as host root, with the file system uid set to BASE so that what it
 *     creates belongs to guest root;
 *   - last, just before the system call filter and the capabilities, PID
 *     1 joins the user namespace (vs_userns_enter) and becomes its root.
 *     Its other namespaces stay owned by the host's user namespace, so its
 *     capabilities act on files and processes of the guest only: no mount,
 *     no host name, no network configuration, whatever the bounding set
 *     says (network mode none gets a network namespace of its own, owned
 *     by the guest's user namespace, so that NET_BIND_SERVICE and
 *     /proc/sys/net work there);
 *   - exec and enter join the same way: the other namespaces first (as
 *     host root), the user namespace last.
 *
 * Shared folders (fstab bind mounts) are id-mapped with the share map:
 * guest uids 1..65535 are host uids 1..65535 (a guest user and the host
 * user of the same uid share files as in the default profile), guest
 * root is host uid BASE.  So a setuid-root program guest root leaves in
 * a shared folder is owned by BASE on the host (catalogue PR-04), and
 * host root's files there are not guest root's (they show as nobody). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "error.h"

#define VS_USERNS_SIZE 65536U

static inline uint32_t vs_userns_base(unsigned context)
{
	return (uint32_t)context * VS_USERNS_SIZE;
}

enum vs_userns_map {
	VS_USERNS_GUEST, /* 0..65535 -> BASE..BASE+65535 */
	VS_USERNS_SHARE, /* 1..65535 -> BASE+1..; BASE -> BASE (for id-mapped shared folders) */
};

/* A new user namespace with the map of `kind` for uids and gids; returns
 * an fd of it (/proc/PID/ns/user of a helper that is gone when this
 * returns). */
int vs_userns_create(uint32_t base, enum vs_userns_map kind, vs_err *err);

/* A detached copy of the mount tree at `path` (with its submounts if
 * recursive) id-mapped with the user namespace `userns_fd`; returns its
 * fd, for vs_userns_attach.  A file system that cannot be id-mapped:
 * VS_E_INVALID naming it. */
int vs_userns_idmapped_tree(const char *path, bool recursive, int userns_fd, vs_err *err);

/* Mount the detached tree `tree` on `target_fd` (an O_PATH fd). */
int vs_userns_attach(int tree, int target_fd, const char *what, vs_err *err);

/* Join the user namespace (the caller: host root, single threaded, its
 * other namespaces joined already) and become its root (uid and gid 0, no
 * supplementary groups), with its full capability set. */
int vs_userns_enter(int userns_fd, vs_err *err);

/* Set the file system uid and gid (0 or BASE) keeping the effective
 * capabilities (a change of fsuid away from 0 drops the file ones). */
int vs_userns_set_fsids(uint32_t id, vs_err *err);

/* An fd of the user namespace of process `pid` (the caller checks that
 * pid is still the process it means, after this); *foreign: it is not
 * ours. */
int vs_userns_open_of_pid(int pid, bool *foreign, vs_err *err);
