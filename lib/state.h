/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runtime state of a guest: RUNDIR/NAME/.  A guest is running when its
 * recorded monitor process still exists with the recorded start time (a
 * reused pid is never mistaken for the guest: HS-07). */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include "error.h"
#include "settings.h"

struct vs_state {
	pid_t monitor;          /* host pid of the per-guest monitor */
	unsigned long long monitor_start; /* its start time (clock ticks) */
	pid_t init;             /* host pid of the guest's PID 1 */
	unsigned long long init_start;
	unsigned context;
	long long started;      /* wall clock, seconds since the epoch */
};

/* Start time of a process (field 22 of /proc/PID/stat); 0 if gone. */
unsigned long long vs_proc_starttime(pid_t pid);
/* Reads RUNDIR/NAME/state.  Returns 1 running (st filled), 0 stopped
 * (a stale state directory is reported through *stale), -1 on error. */
int vs_state_get(const struct vs_settings *s, const char *name, struct vs_state *st, bool *stale, vs_err *err);
/* RUNDIR/NAME as an O_DIRECTORY fd, if it is there and only ours (owned
 * by us, no group/other access): the place of the guest's run-time
 * caches.  -1 otherwise (errno not meaningful). */
int vs_state_open_guest_dir(const struct vs_settings *s, const char *name);
int vs_state_write(const struct vs_settings *s, const char *name, const struct vs_state *st, vs_err *err);
int vs_state_remove(const struct vs_settings *s, const char *name, vs_err *err);
