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
void vs_fstab_entry_free(struct vs_fstab_entry *e);
void vs_fstab_free(struct vs_fstab *f);
