/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capability names (table) and the default bounding set of a guest. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VS_CAP_TABLE_LAST 40 /* CAP_CHECKPOINT_RESTORE */

/* "SYS_ADMIN", "cap_sys_admin", "CAP_SYS_ADMIN" -> 21; -1 if unknown.
 * Numbers are refused: names only. */
int vs_cap_from_name(const char *name);
const char *vs_cap_name(int cap); /* "SYS_ADMIN", NULL if out of table */

/* The default bounding set: util-vserver's secure set made safe on a
 * mainline kernel (security-catalogue.md 0.1, 5.7). */
uint64_t vs_caps_default(void);
/* Capabilities that bcapabilities may never add (they defeat every
 * other barrier on a stock kernel). */
bool vs_cap_forbidden(int cap);

#include "error.h"
/* The calling process keeps exactly `keep`: every other capability is
 * dropped from the bounding set (up to /proc/sys/kernel/cap_last_cap, so
 * capabilities newer than this table go too), inheritable and ambient
 * sets are cleared, permitted and effective become `keep`. */
int vs_caps_apply(uint64_t keep, vs_err *err);
/* Highest capability the running kernel knows. */
int vs_cap_last(void);
