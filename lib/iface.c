/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "iface.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

static int parse_prefix(const char *s, int max, int *out, vs_err *err)
{
	uint64_t v;
	if (vs_parse_u64(s, &v) < 0 || v > (uint64_t)max)
		return vs_fail(err, VS_E_INVALID, 0, "prefix '%s' is not a decimal number in 0..%d", s, max);
	*out = (int)v;
	return 0;
}

int vs_ip_parse(const char *s, struct vs_ipaddr *out, vs_err *err)
{
	memset(out, 0, sizeof *out);
	out->prefix = -1;
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof buf)
		return vs_fail(err, VS_E_INVALID, 0, "address '%s' is too long", s);
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (strchr(buf, '%'))
		return vs_fail(err, VS_E_INVALID, 0, "address '%s': scope ids (%%IFACE) are not allowed", s);
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return vs_fail(err, VS_E_INVALID, 0,
			       "'%s' is not a valid IPv4 or IPv6 address (dotted quad without leading zeros, or IPv6)",
			       s);
	if (slash && parse_prefix(slash + 1, out->family == AF_INET ? 32 : 128, &out->prefix, err) < 0)
		return -1;
	return 0;
}

int vs_mask_to_prefix(const char *s, int *prefix, vs_err *err)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return vs_fail(err, VS_E_INVALID, 0, "netmask '%s' is not a dotted-quad IPv4 mask", s);
	uint32_t m = ntohl(a.s_addr);
	int p = 0;
	while (p < 32 && (m & (UINT32_C(1) << (31 - p))))
		p++;
	if (p < 32 && (m << p) != 0)
		return vs_fail(err, VS_E_INVALID, 0, "netmask '%s' is not contiguous", s);
	*prefix = p;
	return 0;
}

void vs_ip_format(const struct vs_ipaddr *a, char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(a->family, a->addr, t, sizeof t);
	if (a->prefix >= 0)
		snprintf(buf, len, "%s/%d", t, a->prefix);
	else
		snprintf(buf, len, "%s", t);
}

bool vs_ip_equal(const struct vs_ipaddr *a, const struct vs_ipaddr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

int vs_ifname_check(const char *s, vs_err *err)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ)
		return vs_fail(err, VS_E_INVALID, 0, "interface name '%s' must be 1..%d characters", s, IFNAMSIZ - 1);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return vs_fail(err, VS_E_INVALID, 0, "interface name '%s' is not allowed", s);
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return vs_fail(err, VS_E_INVALID, 0,
				       "interface name '%s' contains '%c' (no '/', ':', spaces or control characters)", s,
				       *p > ' ' ? *p : '?');
	return 0;
}
