/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Locks (security-catalogue.md HS-06): one per guest, held from reading
 * the configuration until the new state is recorded, and one global lock
 * for allocating context numbers.  Lock files live in RUNDIR/.locks
 * (root-owned 0700), never inside a guest tree, and are O_CLOEXEC so they
 * never leak into a guest. */
#pragma once
#include <stdbool.h>
#include "error.h"
#include "settings.h"

#define VS_LOCK_GLOBAL NULL
/* mode: LOCK_EX or LOCK_SH, optionally | LOCK_NB.  Returns the lock fd;
 * with LOCK_NB a held lock fails with kind VS_E_BUSY. */
int vs_lock(const struct vs_settings *s, const char *name, int mode, vs_err *err);
