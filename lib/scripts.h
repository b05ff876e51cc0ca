/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util-vserver's scriptlets: the administrator's host-side programs run
 * around a guest's start and stop, as host root.
 *
 * CONFDIR/NAME/scripts/PHASE, then CONFDIR/NAME/scripts/PHASE.d/ * in
 * name order; when the guest has none for a phase, those of
 * CONFDIR/.defaults/scripts/ (also after the guest's own, when one of
 * them, sourced, sets DONT_SKIP_DEFAULTS).  An executable file is run as
 * `FILE PHASE NAME`; any other file is sourced by bash with the same
 * arguments.  The loader (lib/config.c) finds them and checks that only
 * root can change them (HS-09); this file runs them. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include "error.h"

struct vs_config;

enum vs_script_phase {
	VS_SCRIPT_INITIALIZE,    /* start, before anything (cwd: the configuration directory) */
	VS_SCRIPT_PREPRE_START,  /* start, guest root ready, nothing else made (cwd: the configuration directory) */
	VS_SCRIPT_PRE_START,     /* start, cgroup and network made, PID 1 not yet (cwd: the guest root) */
	VS_SCRIPT_POST_START,    /* start, the guest has booted */
	VS_SCRIPT_PRE_STOP,      /* stop asked from the host, the guest still runs */
	VS_SCRIPT_POST_STOP,     /* the guest's processes are gone, its cgroup and network not yet */
	VS_SCRIPT_POSTPOST_STOP, /* everything is gone */
	VS_SCRIPT_NPHASES
};

struct vs_scriptlet {
	int phase;        /* enum vs_script_phase */
	char *path;       /* absolute path, run by this name (a link: by the link's) */
	char *rel;        /* for messages: scripts/... in the guest's directory, else the path */
	bool exec;        /* executable (run), else sourced by bash */
	bool is_default;  /* from .defaults/scripts */
};

/* "pre-start" ...; NULL for a bad phase. */
const char *vs_script_phase_name(int phase);
/* The phase of "pre-start" (len bytes of s), or -1. */
int vs_script_phase_of(const char *s, size_t len);
/* "initialize, prepre-start, ...": for messages. */
const char *vs_script_phase_list(void);

/* Is the file a scriptlet may be, followed as execve(2) follows it, root's
 * alone?  Every directory from / on (a sticky one of root's apart), every
 * link on the way and the final regular file must be owned by root (or
 * the caller) and not writable by group or others; nothing on the way
 * may be on procfs (its links lead where readlink does not say) nor be
 * one of the directories `roots` (NULL-terminated: the guest roots and
 * the vdirbase, compared by device and inode, so also through another
 * path: the guests can change what is below them).  Returns 0 with *exec (the owner may execute
 * it); -1 when something is not trusted, -2 when the file is unusable
 * (missing, not a regular file, a link loop); *why gets the reason
 * (malloc'd). */
int vs_script_trusted(const char *path, const char *const *roots, bool *exec, char **why);

/* Does the guest have scriptlets for this phase (its own or defaults)? */
bool vs_scripts_any(const struct vs_config *c, int phase);

struct vs_script_run {
	pid_t init;        /* host pid of the guest's PID 1 (VSERVER_INIT_PID), 0: none */
	const char *netns; /* the guest's network namespace file (VSERVER_NETNS), NULL: none */
	int out_fd;        /* stdout and stderr of the scriptlets; -1: the caller's */
	bool keep_going;   /* after a failure, run the others (stop phases) */
	bool locked;       /* the caller holds the guest's lock: `vserver NAME exec` from a
			    * scriptlet skips it (VSERVER_LOCK_HOLDER, see vs_lock_held_by_caller) */
};

/* VSERVER_LOCK_HOLDER="NAME PID STARTTIME": a scriptlet's `vserver NAME
 * exec` (enter, suexec) runs while the start or stop that runs the
 * scriptlet holds the guest's lock.  True when the variable names this
 * guest and a process that still lives: the lock is held for us. */
bool vs_lock_held_by_caller(const char *name);

/* Run the phase's scriptlets, one after the other, each waited for.
 * Each gets stdin from /dev/null, umask 022, no fd above 2, the cwd of
 * its phase, and a clean environment: PATH, the VSERVER_* settings of
 * the caller (so that a scriptlet calling `vserver` sees the same
 * guests), and VSERVER_NAME, VSERVER_PHASE, VSERVER_CFGDIR, VSERVER_DIR,
 * VSERVER_CONTEXT, VSERVER_NET_MODE, plus VSERVER_INIT_PID and
 * VSERVER_NETNS when given.  Returns 0, or -1 with err naming the
 * (first) scriptlet that failed: a non-zero exit, a signal, or a file
 * that cannot be run. */
int vs_scripts_run(const struct vs_config *c, int phase, const struct vs_script_run *r, vs_err *err);
