/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lock.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

int vs_lock(const struct vs_settings *s, const char *name, int mode, vs_err *err)
{
	/* a lock file is .locks/NAME: never a path out of it */
	if (name && (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")))
		return vs_fail(err, VS_E_INVALID, 0, "invalid guest name for a lock: '%s'", name);
	_cleanup_close_ int run = vs_settings_open_rundir(s, err);
	if (run < 0)
		return -1;
	if (mkdirat(run, ".locks", 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s/.locks", s->rundir);
	_cleanup_close_ int ld = openat(run, ".locks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ld < 0)
		return vs_fail_errno(err, "%s/.locks", s->rundir);
	const char *file = name ? name : ".global";
	int fd = openat(ld, file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return vs_fail_errno(err, "%s/.locks/%s", s->rundir, file);
	while (flock(fd, mode) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return vs_fail(err, VS_E_BUSY, 0,
				       name ? "guest '%s' is busy: another vserver command (build, start, stop, rename, delete) holds its lock"
					    : "%sanother vserver command holds the global lock",
				       name ? name : "");
		return vs_fail(err, VS_E_SYSTEM, e, "lock %s", file);
	}
	return fd;
}
