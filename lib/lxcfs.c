/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lxcfs.h"
#include "safeio.h"
#include "settings.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

/* The files bound over the guest's, each the same relative path in the
 * LXCFS mount and in the guest root.  All are served by every LXCFS
 * since 4.0 (Debian 11 and later), so a missing one means the mount is
 * not what it claims to be.  LXCFS 5 also serves proc/slabinfo, left out
 * on purpose: it is mode 0444 there (the kernel's is 0400) and falls back
 * to the host's slab figures, a help for heap exploits. */
static const char *const lxcfs_files[] = {
	"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime", "proc/loadavg", "proc/diskstats", "proc/swaps",
	"sys/devices/system/cpu/online",
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (const char *r = s; *r; w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w = *r++;
		}
	}
	*w = 0;
}

/* The file system type of the top mount at `path` (canonical), from
 * /proc/self/mountinfo: the last line with that mount point is the one
 * a lookup reaches.  Returns a malloc'd type, or NULL if nothing is
 * mounted there. */
static char *mount_type_at(const char *path, vs_err *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		vs_fail_errno(err, "/proc/self/mountinfo");
		return NULL;
	}
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char *type = NULL;
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER */
		char *save = NULL, *mp = NULL;
		char *tok = strtok_r(line, " \n", &save);
		for (int i = 0; tok && i < 4; i++) {
			tok = strtok_r(NULL, " \n", &save);
			if (i == 3)
				mp = tok;
		}
		if (!mp)
			continue;
		unescape_octal(mp);
		if (strcmp(mp, path) != 0)
			continue;
		while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-") != 0)
			;
		tok = tok ? strtok_r(NULL, " \n", &save) : NULL;
		if (tok) {
			free(type);
			type = vs_strdup(tok);
		}
	}
	if (!type)
		vs_fail(err, VS_E_STATE, 0, "nothing is mounted at %s", path);
	return type;
}

int vs_lxcfs_probe(const char *dir, vs_err *err)
{
	if (!strcmp(dir, VS_LXCFS_OFF))
		return vs_fail(err, VS_E_STATE, 0, "LXCFS is turned off (lxcfs=%s)", VS_LXCFS_OFF);
	/* a dead LXCFS (its daemon gone, the mount left) fails here with
	 * ENOTCONN: the lookup of the mount's root asks the daemon */
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return vs_fail(err, VS_E_STATE, errno, "%s", dir);
	_cleanup_free_ char *type = mount_type_at(real, err);
	if (!type)
		return -1;
	struct statfs sf;
	if (strcmp(type, "fuse.lxcfs") != 0 || statfs(real, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
		return vs_fail(err, VS_E_STATE, 0, "%s is a %s mount, not fuse.lxcfs", real, type);
	_cleanup_close_ int dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail(err, VS_E_STATE, errno, "%s", real);
	for (size_t i = 0; i < VS_ARRAY_SIZE(lxcfs_files); i++) {
		struct stat st;
		if (fstatat(dfd, lxcfs_files[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return vs_fail(err, VS_E_STATE, errno, "%s/%s", real, lxcfs_files[i]);
		if (!S_ISREG(st.st_mode))
			return vs_fail(err, VS_E_STATE, 0, "%s/%s is not a regular file", real, lxcfs_files[i]);
	}
	return 0;
}

void vs_lxcfs_notice(const char *dir, const char *guest, const vs_report *rep)
{
	vs_err e;
	if (!strcmp(dir, VS_LXCFS_OFF) || vs_lxcfs_probe(dir, &e) == 0)
		return;
	vs_say(rep, "notice: LXCFS is not running at %s: free, top and uptime in %s show the host's figures "
		    "(apt-get install lxcfs)", dir, guest);
}

/* Bind one LXCFS file over the guest's and make the bind read-only.
 * Both ends are O_PATH fds: the source in the host's LXCFS mount, the
 * target resolved inside the guest root. */
static int bind_one(int srcdir, int rootfd, const char *rel, vs_err *err)
{
	vs_err e;
	_cleanup_close_ int t = vs_openat_in_root(rootfd, rel, O_PATH | O_NOFOLLOW, 0, &e);
	if (t < 0)
		return 0; /* not on this kernel (e.g. /proc/swaps without CONFIG_SWAP) */
	struct stat st;
	if (fstat(t, &st) < 0)
		return vs_fail_errno(err, "guest /%s", rel);
	if (!S_ISREG(st.st_mode))
		return vs_fail(err, VS_E_SYSTEM, 0, "guest /%s is not a regular file", rel);
	_cleanup_close_ int s = openat(srcdir, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0)
		return vs_fail_errno(err, "LXCFS %s", rel);
	char sp[64], tp[64];
	snprintf(sp, sizeof sp, "/proc/self/fd/%d", s);
	snprintf(tp, sizeof tp, "/proc/self/fd/%d", t);
	if (mount(sp, tp, NULL, MS_BIND, NULL) < 0)
		return vs_fail_errno(err, "binding LXCFS %s on guest /%s", rel, rel);
	/* the fd still names the file under the bind: reopen for the top */
	close(t);
	t = vs_openat_in_root(rootfd, rel, O_PATH | O_NOFOLLOW, 0, err);
	if (t < 0)
		return vs_err_prefix(err, "LXCFS bind");
	snprintf(tp, sizeof tp, "/proc/self/fd/%d", t);
	if (mount(NULL, tp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return vs_fail_errno(err, "read-only remount of guest /%s", rel);
	return 0;
}

int vs_lxcfs_bind(int rootfd, const char *dir, vs_err *err)
{
	vs_err e;
	/* probed again here, not only by `start`: a reboot of the guest
	 * mounts afresh, and LXCFS may have gone (or come) meanwhile */
	if (vs_lxcfs_probe(dir, &e) < 0)
		return 0;
	_cleanup_close_ int srcdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcdir < 0)
		return vs_fail_errno(err, "%s", dir);
	for (size_t i = 0; i < VS_ARRAY_SIZE(lxcfs_files); i++)
		if (bind_one(srcdir, rootfd, lxcfs_files[i], err) < 0)
			return -1;
	return 0;
}

int vs_lxcfs_bind_configured(int rootfd, vs_err *err)
{
	/* The guest's PID 1 has no settings at hand (the static
	 * vserver-monitor gets only names and fds); it inherits the
	 * environment and VSERVER_SETTINGS of the vserver command unchanged,
	 * so loading them again gives the same directory `start` checked. */
	struct vs_settings s;
	if (vs_settings_load(&s, err) < 0)
		return vs_err_prefix(err, "LXCFS");
	return vs_lxcfs_bind(rootfd, s.lxcfs, err);
}
