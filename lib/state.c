/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "state.h"
#include "safeio.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

unsigned long long vs_proc_starttime(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (pid <= 0 || vs_read_file_at(AT_FDCWD, path, 8192, &data, NULL, &e) < 0)
		return 0;
	char *p = strrchr(data, ')'); /* comm may contain spaces and ')' */
	if (!p)
		return 0;
	/* a zombie (Z) or dead (X) process is gone, even before its parent
	 * has reaped it */
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 0;
	unsigned long long start = 0;
	/* after ") " come fields 3..: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime priority
	 * nice num_threads itrealvalue starttime */
	int field = 2;
	for (char *t = p + 1; *t && field < 22; t++)
		if (*t == ' ') {
			field++;
			if (field == 22)
				start = strtoull(t + 1, NULL, 10);
		}
	return start;
}

int vs_state_get(const struct vs_settings *s, const char *name, struct vs_state *st, bool *stale, vs_err *err)
{
	memset(st, 0, sizeof *st);
	if (stale)
		*stale = false;
	_cleanup_free_ char *path = vs_asprintf("%s/%s/state", s->rundir, name);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, path, 4096, &data, NULL, &e) < 0) {
		if (e.errnum == ENOENT) {
			_cleanup_free_ char *dir = vs_asprintf("%s/%s", s->rundir, name);
			struct stat sb;
			if (stale && lstat(dir, &sb) == 0)
				*stale = true;
			return 0;
		}
		*err = e;
		return -1;
	}
	int m, i;
	if (sscanf(data, "monitor %d %llu\ninit %d %llu\ncontext %u\nstarted %lld", &m, &st->monitor_start, &i,
		   &st->init_start, &st->context, &st->started) != 6) {
		if (stale)
			*stale = true;
		return 0;
	}
	st->monitor = m;
	st->init = i;
	if (vs_proc_starttime(st->monitor) != st->monitor_start || st->monitor_start == 0) {
		if (stale)
			*stale = true;
		return 0;
	}
	return 1;
}

int vs_state_open_guest_dir(const struct vs_settings *s, const char *name)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s", s->rundir, name);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int vs_state_write(const struct vs_settings *s, const char *name, const struct vs_state *st, vs_err *err)
{
	_cleanup_close_ int run = vs_settings_open_rundir(s, err);
	if (run < 0)
		return -1;
	if (mkdirat(run, name, 0700) < 0 && errno != EEXIST)
		return vs_fail_errno(err, "%s/%s", s->rundir, name);
	_cleanup_close_ int d = openat(run, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return vs_fail_errno(err, "%s/%s", s->rundir, name);
	_cleanup_free_ char *data = vs_asprintf("monitor %d %llu\ninit %d %llu\ncontext %u\nstarted %lld\n",
						(int)st->monitor, st->monitor_start, (int)st->init, st->init_start,
						st->context, st->started);
	return vs_write_runtime_file_at(d, "state", data, strlen(data), 0600, err);
}

int vs_state_remove(const struct vs_settings *s, const char *name, vs_err *err)
{
	_cleanup_close_ int run = open(s->rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run < 0)
		return errno == ENOENT ? 0 : vs_fail_errno(err, "%s", s->rundir);
	return vs_rm_rf_at(run, name, err);
}
