/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "userns.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mountapi.h"

/* The maps, as written to uid_map and gid_map. */
static char *map_text(uint32_t base, enum vs_userns_map kind)
{
	if (kind == VS_USERNS_GUEST)
		return vs_asprintf("0 %u %u\n", base, VS_USERNS_SIZE);
	return vs_asprintf("1 %u %u\n%u %u 1\n", base + 1, VS_USERNS_SIZE - 1, base, base);
}

static int write_map(pid_t pid, const char *file, const char *text, vs_err *err)
{
	_cleanup_free_ char *p = vs_asprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return vs_fail_errno(err, "writing %s of the guest's user namespace", file);
	return 0;
}

int vs_userns_create(uint32_t base, enum vs_userns_map kind, vs_err *err)
{
	if (base < 2 * VS_USERNS_SIZE || base > UINT32_MAX - VS_USERNS_SIZE)
		return vs_fail(err, VS_E_INVALID, 0, "user namespace base %u out of range", base);
	int hold[2];
	if (pipe2(hold, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	/* a helper born in the new user namespace; it waits until its
	 * namespace is mapped and pinned by an fd, then exits */
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		int e = errno;
		close(hold[0]);
		close(hold[1]);
		return vs_fail(err, VS_E_SYSTEM, e, "creating the guest's user namespace");
	}
	if (pid == 0) {
		char b;
		close(hold[1]);
		while (read(hold[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	_cleanup_free_ char *map = map_text(base, kind);
	int fd = -1;
	if (write_map(pid, "uid_map", map, err) == 0 && write_map(pid, "gid_map", map, err) == 0) {
		_cleanup_free_ char *p = vs_asprintf("/proc/%d/ns/user", (int)pid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			vs_fail_errno(err, "%s", p);
	}

	close(hold[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

int vs_userns_idmapped_tree(const char *path, bool recursive, int userns_fd, vs_err *err)
{
	unsigned rec = recursive ? VS_AT_RECURSIVE : 0;
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, path, VS_OPEN_TREE_CLONE | O_CLOEXEC | rec);
	if (t < 0)
		return vs_fail_errno(err, "%s: cloning the mount for an id-mapped mount", path);
	struct vs_mount_attr a = { .attr_set = VS_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | rec, &a, sizeof a) < 0) {
		int e = errno;
		close(t);
		if (e == EINVAL || e == EPERM || e == EOPNOTSUPP)
			return vs_fail(err, VS_E_INVALID, e,
				       "%s: its file system cannot be id-mapped (needed by the user-namespace profile: "
				       "use ext4, xfs, btrfs or tmpfs, or turn userns off for this guest with nouserns)",
				       path);
		return vs_fail(err, VS_E_SYSTEM, e, "%s: id-mapped mount", path);
	}
	return t;
}

int vs_userns_attach(int tree, int target_fd, const char *what, vs_err *err)
{
	if (syscall(SYS_move_mount, tree, "", target_fd, "", VS_MOVE_MOUNT_F_EMPTY_PATH | VS_MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return vs_fail_errno(err, "mounting the id-mapped %s", what);
	return 0;
}

int vs_userns_enter(int userns_fd, vs_err *err)
{
	if (setns(userns_fd, CLONE_NEWUSER) < 0)
		return vs_fail_errno(err, "joining the guest's user namespace");
	/* root of the namespace: its uid 0 is host uid BASE; the full
	 * capability set setns gave stays (the ids were not root in it) */
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
		return vs_fail_errno(err, "becoming root of the guest's user namespace");
	return 0;
}

int vs_userns_set_fsids(uint32_t id, vs_err *err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return vs_fail_errno(err, "capget");
	setfsgid(id);
	setfsuid(id);
	if ((uint32_t)setfsuid((uid_t)-1) != id || (uint32_t)setfsgid((gid_t)-1) != id)
		return vs_fail(err, VS_E_SYSTEM, EPERM, "setting the file system ids to %u", id);
	if (syscall(SYS_capset, &h, d) < 0)
		return vs_fail_errno(err, "capset");
	return 0;
}

int vs_userns_open_of_pid(int pid, bool *foreign, vs_err *err)
{
	struct stat a, b;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/ns/user", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &a) < 0 || stat("/proc/self/ns/user", &b) < 0) {
		vs_fail_errno(err, "%s", p);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*foreign = a.st_ino != b.st_ino || a.st_dev != b.st_dev;
	return fd;
}
