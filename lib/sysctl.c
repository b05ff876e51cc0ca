/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's namespaced sysctls (sysctl.h). */
#include "sysctl.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Settings that belong to the guest's IPC namespace (ipc/ipc_sysctl.c,
 * ipc/mq_sysctl.c); the *_next_id ones are for checkpoint/restore. */
static const char *const ipc_settings[] = {
	"kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.msgmax",
	"kernel.msgmnb", "kernel.msgmni", "kernel.sem", "fs.mqueue.queues_max", "fs.mqueue.msg_max",
	"fs.mqueue.msgsize_max", "fs.mqueue.msg_default", "fs.mqueue.msgsize_default",
};

static bool name_ok(const char *s)
{
	/* components of [A-Za-z0-9_-/], separated by single dots; a '/' is a
	 * dot inside a file name, so a component must not be made of slashes
	 * only ("/" and "//" would be "." and "..": net.//.kernel.x) */
	if (!*s || *s == '.' || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.' && (p[1] == '.' || !p[1]))
			return false;
		if (*p != '.' && *p != '_' && *p != '-' && *p != '/' && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			return false;
	}
	for (const char *c = s; *c;) {
		size_t len = strcspn(c, "."), slashes = strspn(c, "/");
		if (slashes >= len)
			return false;
		c += len + (c[len] == '.');
	}
	return true;
}

bool vs_sysctl_is_net(const struct vs_sysctl *s)
{
	return vs_str_startswith(s->setting, "net.");
}

int vs_sysctl_check(const char *setting, bool own_netns, char **why)
{
	if (!name_ok(setting)) {
		_cleanup_free_ char *shown = vs_escape(setting);
		*why = vs_asprintf("'%s' is not a sysctl name: dotted components of letters, digits, '_', '-' (and "
				   "'/' for a '.' inside one, as in net.ipv4.conf.eth0/100.forwarding)",
				   shown);
		return -1;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(ipc_settings); i++)
		if (!strcmp(setting, ipc_settings[i]))
			return 0;
	if (vs_str_startswith(setting, "net.")) {
		if (own_netns)
			return 0;
		*why = vs_asprintf("%s is the host's in this network mode (net.* settings need a network namespace of "
				   "the guest's own: net/mode private or none)",
				   setting);
		return -1;
	}
	*why = vs_asprintf("%s is not namespaced: writing it would change the host's setting (allowed: net.* with "
			   "net/mode private or none, kernel.shmmax, kernel.shmall, kernel.shmmni, "
			   "kernel.shm_rmid_forced, kernel.msgmax, kernel.msgmnb, kernel.msgmni, kernel.sem, "
			   "fs.mqueue.*)",
			   setting);
	return -1;
}

int vs_sysctl_apply(const struct vs_sysctl *s, size_t n, int which, vs_err *err)
{
	_cleanup_close_ int dir = -1;
	for (size_t i = 0; i < n; i++) {
		if (which != VS_SYSCTL_ALL && (which == VS_SYSCTL_NET) != vs_sysctl_is_net(&s[i]))
			continue;
		if (dir < 0 && (dir = open("/proc/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return vs_fail_errno(err, "/proc/sys");
		/* net.ipv4.conf.eth0/100.forwarding -> net/ipv4/conf/eth0.100/forwarding;
		 * opened beneath /proc/sys whatever the name says */
		_cleanup_free_ char *rel = vs_strdup(s[i].setting);
		for (char *p = rel; *p; p++)
			*p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
		struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
					.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		_cleanup_close_ int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof how);
		size_t len = strlen(s[i].value);
		if (fd < 0 || write(fd, s[i].value, len) != (ssize_t)len)
			return vs_fail(err, VS_E_SYSTEM, errno, "sysctl/%s: %s = %s%s", s[i].id, s[i].setting, s[i].value,
				       errno == ENOENT ? " (no such setting in the guest's namespaces)" : "");
	}
	return 0;
}
