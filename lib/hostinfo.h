/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Facts about the host used as build defaults. */
#pragma once
#include "error.h"

/* VERSION_CODENAME of the host's /etc/os-release ("bookworm"); NULL. */
char *vs_host_codename(void);
/* ID of the host's distribution ("debian"); NULL. */
char *vs_host_distro(void);
/* The host's Debian architecture: amd64, i386, arm64 ... */
const char *vs_host_dpkg_arch(void);
/* First APT source of the host that serves `suite` (sources.list,
 * sources.list.d/ *.list and deb822 *.sources); NULL if none.
 * `root` is normally "/" (tests point it elsewhere). */
char *vs_host_apt_mirror(const char *root, const char *suite);
