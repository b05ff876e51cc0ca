/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where things live.  Defaults follow util-vserver: /etc/vservers,
 * /vservers (through .defaults/vdirbase), /var/cache/vservers (through
 * .defaults/cachebase), /run/vservers.  Each can be redirected for a
 * whole run, which is how the tests stay off the real paths:
 *
 *   VSERVER_SETTINGS=FILE   a file of KEY=VALUE lines (keys below)
 *   VSERVER_CONFDIR, VSERVER_VDIRBASE, VSERVER_CACHEBASE, VSERVER_RUNDIR
 *   VSERVER_CGROUP_PARENT   the guests' parent cgroup (key cgroup_parent,
 *                           default "vserver")
 *   VSERVER_CGROUP_ROOT     where the host's cgroups are mounted (key
 *                           cgroup_root, default /sys/fs/cgroup); the
 *                           cgroup2 mount of a hybrid host runs the guests
 *                           on cgroup2 alone.  Like cgroup_parent, change
 *                           it only while no guest runs.
 *   VSERVER_LXCFS           where LXCFS is mounted (key lxcfs; "none": not
 *                           used; lib/lxcfs.h)
 *   VSERVER_USERNS          1 or 0 (key userns, default 0): the default of
 *                           the guests' `userns` flag (lib/userns.h); a
 *                           guest's `userns` or `nouserns` file wins
 *
 * Precedence: environment variable > settings file > .defaults link >
 * built-in default. */
#pragma once
#include <limits.h>
#include "error.h"

struct vs_settings {
	char confdir[PATH_MAX];   /* /etc/vservers */
	char vdirbase[PATH_MAX];  /* /vservers */
	char cachebase[PATH_MAX]; /* /var/cache/vservers */
	char rundir[PATH_MAX];    /* /run/vservers */
	char cgroup_parent[128];  /* name of the parent cgroup: "vserver" */
	char cgroup_root[PATH_MAX]; /* where the host's cgroups are: /sys/fs/cgroup */
	char lxcfs[PATH_MAX];     /* /var/lib/lxcfs, or "none" */
	char userns[2];           /* "1": guests are user-namespace guests unless they say nouserns */
};

int vs_settings_load(struct vs_settings *s, vs_err *err);
/* HS-10: `dir` holds guest roots (the vdirbase, or a build --rootdir).
 * It must be owned by root with no permission for group or others (0700,
 * or 0000 like the old VServer barrier): otherwise unprivileged host users
 * reach the guests' files and run their setuid programs.  The message
 * names the chmod that fixes it. */
int vs_settings_check_barrier(const char *dir, vs_err *err);
/* Create the run directory (0700) if missing; returns an O_DIRECTORY fd. */
int vs_settings_open_rundir(const struct vs_settings *s, vs_err *err);

/* Path of a helper program (vserver-init, vserver-monitor, vserver-unpack):
 * $ENV if set, else next to the running vserver binary (a build tree),
 * else LIBEXECDIR/vserver. */
char *vs_helper_path(const char *name, const char *env);
