/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vserver does for a guest whose PID 1 is its own systemd (init
 * style systemd), in the child's C3 stage, before pivot_root.
 *
 * Such a guest has no CAP_SYS_ADMIN: its systemd can neither mount nor
 * unmount.  Two things follow, and both would show on a stock Debian:
 *
 * - Debian 13 (trixie) mounts a tmpfs on /tmp through systemd's own
 *   tmp.mount.  In the guest it failed ("permission denied") and the
 *   guest booted "degraded".  vserver mounts that tmpfs itself, with the
 *   unit's Options= (systemd then finds it mounted and is content),
 *   unless the unit is masked, /tmp is a symlink, or the guest's fstab in
 *   /etc/vservers mounts /tmp.
 * - At shutdown systemd stopped every mount unit ordered against
 *   umount.target, also those of the mounts vserver made (the guest's
 *   fstab, /run/lock, /tmp), and logged "Failed unmounting" for each.
 *   vserver writes a runtime unit for each into the guest's fresh
 *   /run/systemd/system (above /usr/lib, below the admin's /etc) that
 *   describes the mount without that conflict; vserver unmounts them all
 *   when the guest is gone (systemd issue #3774 asks for this upstream).
 *
 * Guest files are read through the guest root (RESOLVE_IN_ROOT) and only
 * if regular; nothing in the guest is run. */
#pragma once
#include "config.h"
#include "error.h"
#include "fstab.h"
#include <stdbool.h>

/* The Options= of a [Mount] unit text applied over *opt (the last
 * assignment wins, an empty one resets; "%%" is a literal %).  Returns 0,
 * or -1 with *why set (a specifier other than %%). */
int vs_sdguest_unit_options(const char *text, char **opt, char **why);

/* systemd's unit name for a mount point (systemd-escape --path --suffix
 * mount): "/srv/a-b" -> "srv-a\x2db.mount".  NULL when the name would be
 * longer than systemd's 255 characters. */
char *vs_sdguest_mount_unit_name(const char *path);

/* Whether the guest's systemd would mount /tmp itself (tmp.mount pulled
 * in by local-fs.target, not masked, /tmp not a symlink) and the guest's
 * fstab in /etc/vservers has no /tmp line.  1: *out is the tmpfs entry to
 * mount instead (options from the guest's unit and drop-ins, checked
 * like an fstab line; when they do not pass, tmp.mount's defaults and
 * *warning says why); 0: nothing to mount. */
int vs_sdguest_tmp(int rootfd, const struct vs_config *c, struct vs_fstab_entry *out, char **warning);

/* The tmpfs entry with tmp.mount's default options (when the kernel
 * refused the guest's): 0, or -1. */
int vs_sdguest_tmp_defaults(struct vs_fstab_entry *out);

/* Write the runtime units of the mounts vserver made (tabs: fstab lists;
 * /run/lock is added where the guest's systemd has a unit for it) into
 * the guest's run/systemd/system.  The guest's
 * /run must be vserver's fresh tmpfs. */
int vs_sdguest_write_units(int rootfd, const struct vs_fstab *const *tabs, size_t ntabs, vs_err *err);
