/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's system call filter (vserver(8) "System call filter").
 *
 * A deny-list, not an allow-list: a guest is a full distribution whose
 * software uses whatever the kernel offers (an allow-list like Docker's
 * breaks programs that use a call nobody listed, and every new libc or
 * systemd release needs another review), while the calls that attack the
 * shared kernel or change host-wide state are few and well known.  What a
 * deny-list lacks is closed by one rule: a system call numbered above the
 * newest one this profile was reviewed against (VS_SECCOMP_LAST) fails
 * with ENOSYS, the answer of an older kernel that every program handles.
 * A kernel upgrade so never opens new attack surface to the guests until
 * the table here is extended.
 *
 * The profile, for every architecture the host runs (x86_64, i386 and x32
 * on an amd64 host):
 *   - the default deny list vs_seccomp_defaults[]: EPERM, some entries only
 *     while the guest lacks a capability (ptrace-class calls without
 *     SYS_PTRACE, the mount family without SYS_ADMIN, clock setting without
 *     SYS_TIME, the kernel log without SYSLOG);
 *   - argument rules no configuration changes (vs_seccomp_fixed[]): no
 *     namespace flags for unshare and clone, clone3 -> ENOSYS (its flags are
 *     in memory a filter cannot read: the C library falls back to clone),
 *     the TIOCSTI and FS_IOC_FSSETXATTR ioctls;
 *   - numbers above VS_SECCOMP_LAST -> ENOSYS (-1, the "skip this call"
 *     number a tracer may set, is left alone);
 *   - the guest's file `seccomp`: "deny SYSCALL [ERRNO]" adds a rule (or
 *     changes the errno of a default one), "allow SYSCALL" lifts a default
 *     rule (e.g. io_uring for a database that needs it);
 *   - `nonewprivs`: PR_SET_NO_NEW_PRIVS for the init and every process
 *     vserver starts in the guest (off by default: su, sudo and other setuid
 *     programs of a full distribution need the privilege change).
 * adjtimex and clock_adjtime stay allowed: their read form (modes 0) is what
 * ntp_gettime and time daemons use, the mode is in memory a filter cannot
 * read, and the kernel refuses every change without CAP_SYS_TIME. */
#pragma once
#include <linux/filter.h>
#include "config.h"
#include "error.h"

/* Newest system call number of the reviewed table (file_setattr, Linux
 * 6.17; the same in the x86_64, i386 and x32 tables from 424 on). */
#define VS_SECCOMP_LAST 469

/* One rule of the default deny list. */
struct vs_seccomp_default {
	const char *syscall;
	int cap;         /* -1: always; else only while this capability is not in the bounding set */
	int errnum;
	const char *why; /* the class, for `vserver NAME config` and the man page */
};
extern const struct vs_seccomp_default vs_seccomp_defaults[]; /* ends with syscall == NULL */
/* The argument rules and the ENOSYS rule as "CALL:WHAT" tokens (NULL-terminated). */
extern const char *const vs_seccomp_fixed[];

/* One line of the file `seccomp` (blanks trimmed, comments skipped):
 * validated (system call names of any of the host's tables, errnos by
 * name or 1..4095, duplicates, allow only for a default rule, no rule on
 * the calls vserver itself needs or that carry argument rules); problems
 * go to `d` with file and line, and a bad line changes nothing. */
void vs_seccomp_parse_line(struct vs_seccomp_conf *s, const char *file, int line, const char *text,
			   struct vs_diags *d);
void vs_seccomp_conf_free(struct vs_seccomp_conf *s);

/* The plain deny rules in force for a guest: the defaults its bounding
 * set does not lift, minus its allow lines, then its deny lines. */
struct vs_seccomp_entry {
	const char *syscall; /* borrowed from the tables or the configuration */
	int errnum;
	const char *why;     /* the default's class, or "guest" */
};
/* malloc'd array (free()), *n entries. */
struct vs_seccomp_entry *vs_seccomp_effective(const struct vs_config *c, size_t *n);
/* "name" for EPERM, "name:ERRNO" otherwise (malloc'd). */
char *vs_seccomp_entry_text(const char *syscall, int errnum);
/* EPERM -> "EPERM"; an unnamed number as decimal.  Static storage for
 * known names, else a per-thread buffer. */
const char *vs_seccomp_errno_name(int e);

/* The same filter as a classic BPF program, for a process that loads it
 * after fork (the guest's PID 1 at start, vserver exec): compiling it with
 * libseccomp costs far more than loading it, so the program is cached in
 * the guest's run directory. */
struct vs_seccomp_prog {
	struct sock_filter *insns; /* malloc'd */
	unsigned short len;
	bool no_new_privs;         /* from the configuration, never from the cache */
};
/* Fill *p for guest `c`: from DIRFD/seccomp.bpf if that file is a
 * root-only regular file holding the program of these very rules (the
 * guest's rules, its capabilities, the prefix vserver emits for them,
 * this vserver version, this libseccomp, this architecture: a key in its
 * header says so; a checksum guards the program), else compiled
 * and stored there (best effort: atomic replace, mode 0600).  dirfd < 0:
 * no cache.  The caller vouches for dirfd (a root-only directory: the
 * guest's run dir). */
int vs_seccomp_prepare(int dirfd, const struct vs_config *c, struct vs_seccomp_prog *p, vs_err *err);
/* Load *p into the calling process: prctl(PR_SET_NO_NEW_PRIVS) if asked,
 * then seccomp(2) with flags 0 (without no_new_privs that needs
 * CAP_SYS_ADMIN: load it before the capabilities go).  Only system
 * calls, no allocation: fine in a child after fork. */
int vs_seccomp_load(const struct vs_seccomp_prog *p, vs_err *err);
void vs_seccomp_prog_free(struct vs_seccomp_prog *p);

/* For the unit tests: the cache key of a guest's rules, and the program
 * (prefix and libseccomp's part) without touching any cache. */
uint64_t vs_seccomp_key(const struct vs_config *c);
