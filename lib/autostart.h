/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Autostart: start (or stop) every guest of a mark in dependency order
 * (apps/init/mark, apps/init/depends), independent guests in parallel.
 *
 * The dependency graph is separate from the scheduler so that it can be
 * tested on its own: cycle detection and the waves (a guest's wave is one
 * more than the highest wave of what it must wait for). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "settings.h"
#include "util.h"

/* ---- the graph ---------------------------------------------------------- */

struct vs_as_node {
	char *name;
	size_t *deps;       /* indices of the nodes this one depends on */
	size_t n_deps, cap_deps;
};

struct vs_as_graph {
	struct vs_as_node *nodes;
	size_t n, cap;
};

/* Index of `name`, added if new. */
size_t vs_as_graph_add(struct vs_as_graph *g, const char *name);
/* Index of `name`, or -1. */
long vs_as_graph_find(const struct vs_as_graph *g, const char *name);
/* `node` depends on `dep` (a duplicate edge is ignored). */
void vs_as_graph_edge(struct vs_as_graph *g, size_t node, size_t dep);
void vs_as_graph_free(struct vs_as_graph *g);

/* 0 if the graph has no cycle; else -1 with err (VS_E_INVALID)
 * "dependency cycle: a -> b -> a". */
int vs_as_graph_check(const struct vs_as_graph *g, vs_err *err);

/* wave[i] (1-based) for every node: for start, 1 + the highest wave of its
 * dependencies; for stop (reverse), 1 + the highest wave of the nodes that
 * depend on it.  *nwaves: the number of waves.  -1 on a cycle. */
int vs_as_graph_waves(const struct vs_as_graph *g, bool reverse, int *wave, int *nwaves, vs_err *err);

/* ---- the command ---------------------------------------------------------- */

struct vs_autostart_opts {
	const char *mark;       /* NULL: "default" */
	char **names;           /* explicit guests (mark not used); NULL: by mark */
	size_t n_names;
	bool stop;              /* stop in reverse order instead of start */
	int jobs;               /* at most this many at once (<= 0: 4) */
	bool dry_run;           /* report the waves, do nothing */
	int stop_timeout;       /* vs_stop timeout; < 0: each guest's own */
	const char *cgroot;     /* NULL: the settings' cgroup_root */
};

/* Selects the guests (the mark's, or the named ones, plus everything they
 * depend on, transitively), refuses on a cycle or a missing dependency
 * (start; stop ignores a missing dependency with a warning) before doing
 * anything, then starts or stops them, each in a forked child, at most
 * `jobs` at once.  Every decision and result goes to `rep`, one line each:
 *   "skipping NAME: disabled", "started NAME (0.4 s)", "FAILED NAME: why",
 *   "skipped NAME: dependency DEP failed", "stopped NAME (1.2 s)", ...
 * Returns -1 with err when nothing was done (bad selection, cycle, missing
 * dependency); else 0 with *nfailed = the guests that failed or were
 * skipped because of a failure. */
int vs_autostart(const struct vs_settings *s, const struct vs_autostart_opts *o, const vs_report *rep,
		 int *nfailed, vs_err *err);
