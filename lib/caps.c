/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "caps.h"
#include "util.h"
#include <linux/capability.h>
#include <strings.h>
#include <string.h>

static const char *const cap_names[VS_CAP_TABLE_LAST + 1] = {
	[CAP_CHOWN] = "CHOWN",
	[CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
	[CAP_FOWNER] = "FOWNER",
	[CAP_FSETID] = "FSETID",
	[CAP_KILL] = "KILL",
	[CAP_SETGID] = "SETGID",
	[CAP_SETUID] = "SETUID",
	[CAP_SETPCAP] = "SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "NET_BROADCAST",
	[CAP_NET_ADMIN] = "NET_ADMIN",
	[CAP_NET_RAW] = "NET_RAW",
	[CAP_IPC_LOCK] = "IPC_LOCK",
	[CAP_IPC_OWNER] = "IPC_OWNER",
	[CAP_SYS_MODULE] = "SYS_MODULE",
	[CAP_SYS_RAWIO] = "SYS_RAWIO",
	[CAP_SYS_CHROOT] = "SYS_CHROOT",
	[CAP_SYS_PTRACE] = "SYS_PTRACE",
	[CAP_SYS_PACCT] = "SYS_PACCT",
	[CAP_SYS_ADMIN] = "SYS_ADMIN",
	[CAP_SYS_BOOT] = "SYS_BOOT",
	[CAP_SYS_NICE] = "SYS_NICE",
	[CAP_SYS_RESOURCE] = "SYS_RESOURCE",
	[CAP_SYS_TIME] = "SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
	[CAP_MKNOD] = "MKNOD",
	[CAP_LEASE] = "LEASE",
	[CAP_AUDIT_WRITE] = "AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
	[CAP_SETFCAP] = "SETFCAP",
	[CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "MAC_ADMIN",
	[CAP_SYSLOG] = "SYSLOG",
	[CAP_WAKE_ALARM] = "WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "AUDIT_READ",
	[38] = "PERFMON",
	[39] = "BPF",
	[40] = "CHECKPOINT_RESTORE",
};

int vs_cap_from_name(const char *name)
{
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i <= VS_CAP_TABLE_LAST; i++)
		if (cap_names[i] && strcasecmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

const char *vs_cap_name(int cap)
{
	return cap >= 0 && cap <= VS_CAP_TABLE_LAST ? cap_names[cap] : NULL;
}

#define B(c) (UINT64_C(1) << (c))

uint64_t vs_caps_default(void)
{
	/* security-catalogue.md 5.7, the recommended baseline for a
	 * privileged guest: what a full distribution needs to boot and run
	 * services as root.  Not kept: SYS_ADMIN, SYS_MODULE, SYS_RAWIO,
	 * SYS_TIME, MKNOD, NET_ADMIN, NET_RAW (ping works through
	 * net.ipv4.ping_group_range, except in network mode isolated, where
	 * ICMP sockets are refused: netbpf.h), DAC_READ_SEARCH, SYS_PTRACE, MAC_*, BPF,
	 * PERFMON, SYSLOG, SYS_NICE and SYS_RESOURCE (no realtime starvation or
	 * oom_score_adj shields), IPC_LOCK, and everything else not listed. */
	return B(CAP_CHOWN) | B(CAP_DAC_OVERRIDE) | B(CAP_FOWNER) | B(CAP_FSETID) | B(CAP_KILL) |
	       B(CAP_SETGID) | B(CAP_SETUID) | B(CAP_SETPCAP) | B(CAP_SETFCAP) | B(CAP_NET_BIND_SERVICE) |
	       B(CAP_SYS_CHROOT) | B(CAP_AUDIT_WRITE) | B(CAP_SYS_BOOT) | B(CAP_IPC_OWNER) | B(CAP_LEASE) |
	       B(CAP_SYS_TTY_CONFIG);
}

bool vs_cap_forbidden(int cap)
{
	/* Granting these to a guest without a user namespace hands it the
	 * host (security-catalogue.md 0.1). */
	return cap == CAP_SYS_ADMIN || cap == CAP_SYS_MODULE || cap == CAP_SYS_RAWIO || cap == CAP_MAC_ADMIN ||
	       cap == CAP_MAC_OVERRIDE || cap == CAP_DAC_READ_SEARCH || cap == CAP_BPF || cap == CAP_PERFMON ||
	       cap == CAP_SYS_TIME || cap == CAP_SYSLOG;
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "safeio.h"

int vs_cap_last(void)
{
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &data, NULL, &e) == 0) {
		int n = atoi(data);
		if (n > 0 && n < 64)
			return n;
	}
	return 63; /* unknown: try every bit */
}

int vs_caps_apply(uint64_t keep, vs_err *err)
{
	int last = vs_cap_last();
	for (int c = 0; c <= last; c++) {
		if (keep & (UINT64_C(1) << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return vs_fail_errno(err, "dropping capability %d from the bounding set", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return vs_fail_errno(err, "clearing the ambient capabilities");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	/* never more than we have (vserver itself may run with a reduced set) */
	if (syscall(SYS_capget, &h, d) < 0)
		return vs_fail_errno(err, "reading the capability sets");
	keep &= (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
	for (int i = 0; i < 2; i++) {
		d[i].effective = d[i].permitted = (uint32_t)(keep >> (32 * i));
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return vs_fail_errno(err, "setting the capability sets");
	return 0;
}
