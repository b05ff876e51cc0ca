/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Binding a host folder into a running guest, and taking it away
 * (`vserver NAME mount`, `umount`: util-vserver's vmount).  The bind is
 * made on the host (a detached mount tree: nosuid, nodev, read-only if
 * asked, id-mapped for a user-namespace guest) and attached in the guest's
 * mount namespace by a child that joined it, on a target resolved inside
 * the guest root.  It lasts until the guest stops; fstab keeps it. */
#pragma once
#include <stdbool.h>
#include "error.h"
#include "settings.h"
#include "util.h"

struct vs_live_mount {
	const char *source; /* absolute host path */
	const char *target; /* absolute path in the guest; must exist, of the source's type */
	bool readonly;
	bool recursive;     /* rbind: the mounts below the source too */
};

int vs_live_mount(const struct vs_settings *s, const char *name, const struct vs_live_mount *m, const vs_report *rep,
		  vs_err *err);
/* Unmount `target` in the running guest: a mount point, not one of the
 * mounts vserver makes itself (/proc, /dev, /run ...). */
int vs_live_umount(const struct vs_settings *s, const char *name, const char *target, const vs_report *rep,
		   vs_err *err);
