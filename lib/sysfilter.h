/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's system call filter (a first deny-list; the security work
 * extends it): calls that no guest needs and that attack the shared
 * kernel are refused with EPERM for every architecture the host runs
 * (x86_64, i386 and x32 on an amd64 host). */
#pragma once
#include "config.h"
#include "error.h"

/* Load the filter into the calling process (inherited by its children).
 * Needs CAP_SYS_ADMIN (no_new_privs is not set: setuid programs in the
 * guest keep working), so it runs before the capabilities are dropped. */
int vs_seccomp_apply(const struct vs_config *c, vs_err *err);
/* Names of the refused calls, for `vserver NAME config`. */
extern const char *const vs_seccomp_denied[];
