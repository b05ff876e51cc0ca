/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Landlock scoping (Linux 6.12, Landlock ABI 6): a process in a scoped
 * domain cannot connect to an abstract unix socket created outside that
 * domain.  Guests on the host's network stack (mode isolated) share the
 * host's abstract socket namespace (it is per network namespace); this
 * cuts them off from the host's abstract sockets (catalogue NW-04) while
 * path sockets, which the mount namespace already confines, are untouched.
 * No file system access is restricted (handled_access_fs = 0).
 *
 * Every Landlock domain also confines ptrace to the same or nested
 * domains.  The guest's PID 1 makes the domain its whole tree inherits;
 * `vserver exec` and `enter` make a sibling one (a domain cannot be
 * joined), so such a session cannot ptrace the guest's other processes or
 * reach abstract sockets they created, and vice versa. */
#pragma once
#include "error.h"

/* Landlock ABI version of the running kernel, 0 if unavailable. */
int vs_landlock_abi(void);
/* Enter a new domain scoping abstract unix sockets.  Needs
 * CAP_SYS_ADMIN or no_new_privs.  Fails (VS_E_SYSTEM, EOPNOTSUPP) on a
 * kernel below ABI 6. */
int vs_landlock_scope_abstract(vs_err *err);
