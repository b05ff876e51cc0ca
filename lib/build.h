/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver NAME build [options] -m METHOD [-- method-args]
 *
 * Stages (each reported through vs_report):
 *   1. check      options are written into a staging configuration
 *                 directory and validated by the same loader as `check`
 *   2. install    the method fills a staging root (debootstrap,
 *                 mmdebstrap, skeleton, template, clone); with
 *                 --disk-size the staging root is the mount of a new
 *                 image (ROOTBASE/.images/.NAME.build-PID.img)
 *   3. post       container post-install (postinstall.h)
 *   4. register   under the global lock: context allocated, existing
 *                 guest moved aside (--force), staging root and
 *                 configuration renamed into place (an image is
 *                 unmounted, renamed and mounted on the final root)
 * Any failure removes everything created (unless --keep); nothing is
 * visible under the guest's name before stage 4. */
#pragma once
#include <stdbool.h>
#include "settings.h"
#include "util.h"

struct vs_build_opts {
	const char *name;
	const char *method;
	const char *context;      /* NULL: next free */
	const char *hostname;     /* NULL: the name */
	vs_strv interfaces;       /* [NAME=][DEV:]IP[/PREFIX] */
	const char *initstyle;    /* NULL: detected */
	const char *rootdir;      /* NULL: vdirbase */
	bool force, keep;
	char **margs;             /* method arguments (after --) */
	int n_margs;
	const char *host_resolv;  /* host resolv.conf (NULL: /etc/resolv.conf) */
	const char *disk_size;    /* --disk-size: the root's own ext4 image (lib/disk.h); NULL: none */
	const char *disk_inodes;  /* --disk-inodes (with --disk-size) */
};

struct vs_build_method {
	const char *name;
	const char *synopsis;
};
extern const struct vs_build_method vs_build_methods[];

int vs_build(const struct vs_settings *s, const struct vs_build_opts *o, const vs_report *rep, vs_err *err);
