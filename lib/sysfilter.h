/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's system call filter (a first deny-list; the security work
 * extends it): calls that no guest needs and that attack the shared
 * kernel are refused with EPERM for every architecture the host runs
 * (x86_64, i386 and x32 on an amd64 host). */
#pragma once
#include <linux/filter.h>
#include "config.h"
#include "error.h"

/* Load the filter into the calling process (inherited by its children).
 * Needs CAP_SYS_ADMIN (no_new_privs is not set: setuid programs in the
 * guest keep working), so it runs before the capabilities are dropped. */
int vs_seccomp_apply(const struct vs_config *c, vs_err *err);

/* The same filter as a classic BPF program, for a process that loads it
 * after fork (vserver exec): compiling it with libseccomp costs far more
 * than loading it, so the program libseccomp exports is cached in the
 * guest's run directory. */
struct vs_seccomp_prog {
	struct sock_filter *insns; /* malloc'd */
	unsigned short len;
};
/* Fill *p: from DIRFD/seccomp.bpf if that file is a root-only regular
 * file holding the program of these very rules, built by this libseccomp
 * for this architecture (a key in its header says so; a checksum guards
 * the program), else compiled with libseccomp and stored there (best
 * effort: atomic replace, mode 0600).  dirfd < 0: no cache.  The caller
 * vouches for dirfd (a root-only directory: the guest's run dir). */
int vs_seccomp_prepare(int dirfd, struct vs_seccomp_prog *p, vs_err *err);
/* Load *p into the calling process: the seccomp(2) call that
 * seccomp_load makes for this filter (flags 0, no no_new_privs).  Only
 * system calls, no allocation: fine in a child after fork. */
int vs_seccomp_load(const struct vs_seccomp_prog *p, vs_err *err);
void vs_seccomp_prog_free(struct vs_seccomp_prog *p);

/* Names of the refused calls, for `vserver NAME config`. */
extern const char *const vs_seccomp_denied[];
