/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "landlock.h"
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's kernel headers predate the `scoped` field: our own copy of
 * the ABI 6 struct (the kernel accepts any size it knows). */
struct vs_landlock_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
#define VS_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define VS_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)

int vs_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, VS_LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

int vs_landlock_scope_abstract(vs_err *err)
{
	int abi = vs_landlock_abi();
	if (abi < 6)
		return vs_fail(err, VS_E_SYSTEM, EOPNOTSUPP,
			       "Landlock ABI %d: scoping abstract unix sockets needs ABI 6 (Linux 6.12)", abi);
	struct vs_landlock_attr a = { .scoped = VS_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET };
	int fd = (int)syscall(SYS_landlock_create_ruleset, &a, sizeof a, 0);
	if (fd < 0)
		return vs_fail_errno(err, "creating the Landlock ruleset");
	int r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	int e = errno;
	close(fd);
	if (r < 0)
		return vs_fail(err, VS_E_SYSTEM, e, "entering the Landlock domain");
	return 0;
}
