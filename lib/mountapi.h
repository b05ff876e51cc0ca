/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The new mount API (open_tree, move_mount, mount_setattr), by number:
 * the static helpers may be built against a C library without the
 * wrappers, and <linux/mount.h> clashes with <sys/mount.h> on older
 * glibc.  Used by lib/userns.c, lib/livemount.c and lib/build.c. */
#pragma once
#include <stdint.h>
#include <sys/syscall.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define VS_OPEN_TREE_CLONE 1U
#define VS_AT_RECURSIVE 0x8000
#define VS_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define VS_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define VS_MOUNT_ATTR_RDONLY 0x1ULL
#define VS_MOUNT_ATTR_NOSUID 0x2ULL
#define VS_MOUNT_ATTR_NODEV 0x4ULL
#define VS_MOUNT_ATTR_IDMAP 0x00100000ULL

struct vs_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
