/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the unit tests: a private temporary directory, the
 * settings of a vserver world inside it, and its removal.  Header only
 * (each test is a program of its own); static inline, so that a test
 * that uses a part only is still warning-free. */
#ifndef VS_TESTUTIL_H
#define VS_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "settings.h"

static inline int vs_test_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Remove the tree `dir`, deepest first, never through a symbolic link. */
static inline int vs_test_rmtree(const char *dir)
{
	return nftw(dir, vs_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new directory /tmp/vs-test-NAME-XXXXXX in buf: 0, or -1 (errno). */
static inline int vs_test_mkdtemp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/vs-test-%s-XXXXXX", name);
	return mkdtemp(buf) ? 0 : -1;
}

/* Settings whose directories all lie below `dir` (etc, vservers, cache,
 * run; not made) and whose cgroup parent is "vserver". */
static inline void vs_test_settings(struct vs_settings *s, const char *dir)
{
	memset(s, 0, sizeof *s);
	snprintf(s->confdir, sizeof s->confdir, "%s/etc", dir);
	snprintf(s->vdirbase, sizeof s->vdirbase, "%s/vservers", dir);
	snprintf(s->cachebase, sizeof s->cachebase, "%s/cache", dir);
	snprintf(s->rundir, sizeof s->rundir, "%s/run", dir);
	snprintf(s->cgroup_parent, sizeof s->cgroup_parent, "vserver");
}

#endif
