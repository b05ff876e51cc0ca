/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running guests: start (with its per-guest monitor) and stop. */
#pragma once
#include <stdbool.h>
#include "config.h"
#include "settings.h"
#include "util.h"

struct vs_start_opts {
	bool rescue;          /* start --rescue [CMD...] */
	char **rescue_argv;   /* NULL: /bin/sh */
	const char *init_bin; /* the static vserver-init (NULL: built-in path) */
	const char *cgroot;   /* cgroup root (NULL: the settings' cgroup_root) */
};

/* Returns 0 when the guest runs (also when it already ran: *already is
 * set), -1 with err otherwise; on failure nothing is left behind. */
int vs_start(const struct vs_settings *s, const char *name, const struct vs_start_opts *o, bool *already,
	     const vs_report *rep, vs_err *err);

/* timeout < 0: the guest's configured or default (30 s). */
int vs_stop(const struct vs_settings *s, const char *name, int timeout, const char *cgroot, const vs_report *rep,
	    vs_err *err);

/* Entry point of the static vserver-monitor program (see start.c). */
int vs_monitor_main(int argc, char **argv);

/* Process count and the cgroup of a running guest (for status). */
int vs_guest_nprocs(const struct vs_settings *s, const char *name, const char *cgroot);

/* Shutdown signal and default stop for each init style (table). */
struct vs_init_style_info {
	const char *name;
	int stop_signal;          /* sent to PID 1 by stop; 0: run stop_cmd */
	const char *const *default_start; /* NULL-terminated */
};
const struct vs_init_style_info *vs_init_style_info(int style);
