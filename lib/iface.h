/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses of a guest: interfaces/ (parsed and validated here; applied
 * by the networking code). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "error.h"

struct vs_ipaddr {
	int family;            /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;            /* -1: not given */
};

struct vs_iface {
	char *id;              /* directory name under interfaces/ */
	struct vs_ipaddr ip;
	char *dev;             /* NULL: inherit interfaces/dev */
	char *label;           /* interfaces/N/name */
	bool nodev, disabled, down;
};

/* Strict address parse: inet_pton only ("010.0.0.1", "1.2.3", hex are
 * refused), optional "/PREFIX" (0..32 or 0..128, decimal, no leading
 * zeros).  IPv6 scope ids ("%eth0") are refused. */
int vs_ip_parse(const char *s, struct vs_ipaddr *out, vs_err *err);
/* Dotted netmask -> prefix; non-contiguous masks are refused. */
int vs_mask_to_prefix(const char *s, int *prefix, vs_err *err);
/* Canonical text "ADDR/PREFIX" (prefix omitted if -1). */
void vs_ip_format(const struct vs_ipaddr *a, char *buf, size_t len);
bool vs_ip_equal(const struct vs_ipaddr *a, const struct vs_ipaddr *b);
/* Network interface name: 1..15 chars, no '/', ':', whitespace. */
int vs_ifname_check(const char *s, vs_err *err);
