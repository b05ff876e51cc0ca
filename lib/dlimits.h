/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk limits: util-vserver's dlimits/ on ext4 and XFS project quotas
 * (vserver(8) DISK LIMITS).
 *
 * Linux-VServer counted the space and inodes of a context per
 * superblock in its kernel patch.  A stock kernel has project quotas:
 * every inode carries a project id, a directory with the PROJINHERIT
 * flag hands its id to what is created in it, and the quota subsystem
 * counts and limits per project.  The project id of a guest is its
 * context number.  The whole guest tree gets it at the end of a build
 * and again at every start (files the host put there in between, or
 * from a tarball copied in, are counted too); the limits are set with
 * quotactl_fd(2) at every start and stay in the filesystem while the
 * guest is stopped.
 *
 * Configuration, dlimits/<x>/:
 *   directory     the guest root (the only directory accepted: one
 *                 project per guest, and a project counts per filesystem)
 *   space_total   hard limit on space, in KiB (util-vserver's 1 KiB blocks)
 *   inodes_total  hard limit on inodes
 *   reserved      percentage reserved for root, 0..100: accepted and
 *                 ignored (project quotas have no such notion)
 *   disabled      skip the entry
 * directory, space_total and inodes_total are required; at most one
 * entry may be enabled. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "util.h"

struct vs_config;
struct vs_diags;
struct vs_settings;

/* The largest accepted values: space in bytes must fit the kernel's
 * signed 64-bit counters, the quota formats' inode limit is 2^63 - 1. */
#define VS_DLIMIT_SPACE_MAX (INT64_MAX >> 10) /* KiB */
#define VS_DLIMIT_INODES_MAX ((uint64_t)INT64_MAX)

struct vs_dlimit {
	char *id;              /* the <x> of dlimits/<x> */
	char *directory;       /* NULL: not given */
	uint64_t space_total;  /* KiB; 0: not given */
	uint64_t inodes_total; /* 0: not given */
	unsigned reserved;     /* percent; ignored */
	bool has_reserved;
	bool disabled;
};

struct vs_dlimits {
	struct vs_dlimit *e;
	size_t n;
};

void vs_dlimits_free(struct vs_dlimits *d);

/* Loader helper: one file dlimits/<x>/<key> with its value (a scalar,
 * or "" for the `disabled` flag).  Returns 0, or -1 with *why set to a
 * malloc'd description of the problem and what is allowed. */
int vs_dlimit_set(struct vs_dlimits *d, const char *rel, const char *value, char **why);

/* Checks once the whole configuration is read: required files, the
 * directory is the guest root `vdir`, at most one enabled entry. */
void vs_dlimits_validate(const struct vs_dlimits *d, const char *vdir, struct vs_diags *diags);

/* The enabled entry, NULL if the guest has no disk limits. */
const struct vs_dlimit *vs_dlimits_active(const struct vs_dlimits *d);

/* Usage and limits of project `projid` on the filesystem of `fd`. */
struct vs_dlimits_usage {
	uint64_t space_used;   /* bytes */
	uint64_t space_total;  /* KiB, 0: no limit */
	uint64_t inodes_used;
	uint64_t inodes_total; /* 0: no limit */
};
int vs_dlimits_usage_at(int fd, unsigned projid, struct vs_dlimits_usage *u, vs_err *err);

/* Is there project quota support on the filesystem of `fd`?  0, or -1
 * with err (kind VS_E_INVALID) saying why not and how to enable it. */
int vs_dlimits_probe(int fd, vs_err *err);

/* Give every directory and regular file of the tree at `rootfd` the
 * project id, and the directories PROJINHERIT.  Never follows a
 * symlink, never leaves the root's filesystem (mount points inside are
 * skipped); symlinks and special files are left as they are (the
 * ioctl needs an open file).  Files that refuse are counted in
 * *skipped (the first one's path in `first_skipped`). */
struct vs_dlimits_tag_stats {
	uint64_t seen, changed, skipped;
	char first_skipped[256];
};
int vs_dlimits_tag_tree(int rootfd, unsigned projid, struct vs_dlimits_tag_stats *st, vs_err *err);

/* Set the hard limits of project `projid` (space in KiB, inodes). */
int vs_dlimits_set_limits(int fd, unsigned projid, uint64_t space_kib, uint64_t inodes, vs_err *err);

/* Start (stage S4): with disk limits configured, check the support,
 * tag the tree and set the limits.  Without, nothing. */
int vs_dlimits_apply(const struct vs_config *c, int rootfd, const vs_report *rep, vs_err *err);

/* For `check`: the host as it is now (no project quotas under the guest
 * root) as diagnostics that start would refuse. */
void vs_dlimits_check_host(const struct vs_config *c, struct vs_diags *diags);

/* End of a build: the new guest's tree gets its project id when the
 * filesystem has project ids (best effort, nothing said otherwise). */
void vs_dlimits_tag_built(const struct vs_settings *s, const char *name, const vs_report *rep);

/* Status: usage of the guest's project, or of its own file system (a
 * disk image, lib/disk.h: the file system's figures).  1 with *u
 * filled, 0 if the guest has neither, -1 with err (e.g. no quota
 * support, the image is not mounted). */
int vs_dlimits_usage(const struct vs_config *c, struct vs_dlimits_usage *u, vs_err *err);
