/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's filesystem view, built in the guest's private mount
 * namespace before pivot_root.  Every target is resolved inside the
 * guest root (openat2 RESOLVE_IN_ROOT) to an O_PATH fd and mounted
 * through /proc/self/fd/N, so a symlink planted by the guest can never
 * redirect a mount onto the host (CVE-2021-30465 class). */
#pragma once
#include "config.h"
#include "error.h"
#include <stdint.h>

/* User-namespace guests (lib/userns.h): the shared folders' user
 * namespace (fstab binds are id-mapped with it) and the guest's BASE. */
struct vs_mounts_userns {
	int share_fd;
	uint32_t base;
};

/* Mount everything under the guest root (rootfd: an O_DIRECTORY fd of
 * the guest root, already a mount point in a private namespace):
 * fstab entries, /proc with masks, /sys read-only, /dev, /dev/pts,
 * /dev/shm, /dev/mqueue, /run, and /dev/console bound to console_path
 * (NULL: none).  u: NULL, or the id maps of a user-namespace guest (then
 * the caller has set its file system ids to BASE: lib/userns.h). */
int vs_mounts_setup(int rootfd, const struct vs_config *c, const char *console_path, const struct vs_mounts_userns *u,
		    vs_err *err);

/* Mount the entries of `f` as vs_mounts_setup mounts fstab's (after it:
 * the mounts vserver adds for an init style, lib/sdguest.h). */
int vs_mounts_extra(int rootfd, const struct vs_fstab *f, const struct vs_config *c, const struct vs_mounts_userns *u,
		    vs_err *err);

/* PR-04, HS-10, before anything of a start exists (and for `check`): in a
 * guest without a user namespace, guest root is host root, so a setuid
 * program (or, with MKNOD, a device node) that it leaves in a writable
 * shared folder is one for host users too, unless they cannot run it
 * there.  Each writable bind of fstab and fstab.remote must have a
 * source whose filesystem is mounted nosuid (and nodev, when the guest
 * holds MKNOD) on the host, or that lies below a barrier directory
 * (vs_fstab_behind_barrier; guest roots in the vdirbase always do).
 * Problems go to `diags`, by file and line. */
void vs_mounts_check_host(const struct vs_config *c, struct vs_diags *diags);

/* The rules of bind sources (not the host's /, /proc, /sys, /dev or a
 * kernel file system) on what the opened source `sfd` really is: a name
 * that gets there through links or "." is refused too. */
int vs_mounts_bind_object_ok(int sfd, const char *source, vs_err *err);
/* A kernel file system (proc, sysfs, devpts, mqueue, cgroup, securityfs,
 * debugfs, tracefs, bpf): no bind from one, no live mount onto one. */
bool vs_mounts_kernel_fs(unsigned long f_type);
/* A mount target vserver makes itself (/proc, /dev, /run ...). */
bool vs_mounts_base_target(const char *target);
/* PR-04 for one bind of a privileged guest (see vs_mounts_check_host):
 * 1 safe, 0 not (*why, malloc'd), -1 err. */
int vs_mounts_bind_safe(const struct vs_fstab_entry *e, int sfd, bool mknod, char **why, vs_err *err);

/* pivot_root into the guest root and detach the old root. */
int vs_mounts_pivot(int rootfd, vs_err *err);
