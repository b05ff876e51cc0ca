/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Joining a running guest: vserver NAME exec / enter / suexec.
 * (security-catalogue.md 2.2, in that order): the guest's PID 1 is
 * verified through a pidfd (a reused pid is never joined); the joining
 * process is made non-dumpable, moves into the guest's cgroup first, then
 * joins every namespace of PID 1 in one setns(pidfd) call, forks into
 * the PID namespace, takes the same capability set as the guest's init,
 * keeps only fds 0-2 and a clean environment, and executes the guest
 * binary.  With a terminal, a new pty is allocated in the guest's own
 * devpts instance and proxied, so a guest process can never inject
 * keystrokes into the admin's terminal (TIOCSTI). */
#pragma once
#include <stdbool.h>
#include "settings.h"
#include "util.h"

struct vs_attach_opts {
	char **argv;          /* NULL: the guest's login shell (enter) */
	const char *user;     /* NULL: root; a name from the guest's /etc/passwd or a uid */
	int tty;              /* 1: pty, 0: none, -1: a pty if stdin is a terminal */
	bool no_lock;         /* the caller already holds the guest's lock */
	const char *cgroot;   /* NULL: the settings' cgroup_root */
};

/* *status: the command's exit status (128+N if killed by signal N). */
int vs_attach(const struct vs_settings *s, const char *name, const struct vs_attach_opts *o, int *status,
	      vs_err *err);

/* vserver NAME console: attach the terminal to the guest's console (the
 * monitor's pty); Ctrl-] detaches. */
int vs_console(const struct vs_settings *s, const char *name, const vs_report *rep, vs_err *err);
