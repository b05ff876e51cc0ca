/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Managing guests as a whole: list, delete, rename. */
#pragma once
#include <stdbool.h>
#include "config.h"
#include "settings.h"
#include "state.h"
#include "util.h"

struct vs_guest_info {
	char *name;
	bool valid;           /* configuration loads without problems */
	char *problem;        /* first problem if !valid */
	struct vs_config cfg; /* loaded even when !valid (best effort) */
	bool running;
	struct vs_state state;
};

/* Every configured guest.  Returns the count or -1. */
int vs_guest_list(const struct vs_settings *s, struct vs_guest_info **out, vs_err *err);
void vs_guest_list_free(struct vs_guest_info *g, int n);

/* Remove root, configuration, cache and run state of a stopped guest.
 * Never follows a link out of them. */
int vs_guest_delete(const struct vs_settings *s, const char *name, const vs_report *rep, vs_err *err);

/* Rename a stopped guest (the seed's hand script as one transaction):
 * root and configuration moved, name, uts/nodename, vdir and cache
 * links, the guest's /etc/hostname and /etc/hosts rewritten.  Rolls
 * back on any failure.  Other guests' fstab lines that mention the old
 * root are reported. */
int vs_guest_rename(const struct vs_settings *s, const char *oldname, const char *newname, const vs_report *rep,
		    vs_err *err);
