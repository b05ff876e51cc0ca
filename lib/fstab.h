/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest fstab (util-vserver format: targets relative to the guest root). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

struct vs_fstab_entry {
	char *source;
	char *target;   /* absolute inside the guest, normalised */
	char *type;
	char *options;  /* as written (validated) */
	int line;
	bool bind, readonly;
};

struct vs_fstab {
	struct vs_fstab_entry *e;
	size_t n;
};

/* Parse one fstab line (already split from the file, no newline).
 * Returns 1 if an entry was produced, 0 for blank/comment lines, -1 on
 * error (err->msg says what is wrong with the value; the caller adds
 * file and line). */
int vs_fstab_parse_line(const char *line, struct vs_fstab_entry *out, vs_err *err);
/* The entry of a bind of host path `source` on guest path `target`
 * (options bind or rbind, plus ro), checked as an fstab line is. */
int vs_fstab_bind_entry(const char *source, const char *target, bool ro, bool rec, struct vs_fstab_entry *out,
			vs_err *err);
void vs_fstab_entry_free(struct vs_fstab_entry *e);
void vs_fstab_free(struct vs_fstab *f);

/* PR-04: is the host directory `dirfd` behind a barrier that keeps host
 * users out of everything below it?  A barrier is a directory owned by
 * root with no search permission for group and others ((mode & 0011) ==
 * 0), as the 0700 vdirbase is for guest roots.  Checks `dirfd` itself,
 * then its ancestors through "..", never by path, up to the root of its
 * mount and no further: a barrier above a mount point says nothing of
 * the other places the mounted tree can be reached from (a bind mount of
 * /home/alice/www under a 0700 directory is still alice's).  Returns 1
 * (found), 0 (none), -1 (err set). */
int vs_fstab_behind_barrier(int dirfd, vs_err *err);
/* Is `fd` the root of a mount (statx STATX_ATTR_MOUNT_ROOT)?  On a
 * kernel that cannot tell, true: a barrier walk then judges `fd` alone. */
bool vs_fstab_is_mount_root(int fd);
