/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "execshim.h"
#include "exec-shim.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3; not in Debian 12's headers */
#endif

int vs_exec_memfd(const char *name, vs_err *err)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	/* executable even where vm.memfd_noexec makes memfds noexec by
	 * default (kernels before 6.3 refuse the flag) */
	int fd = memfd_create(name, flags | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, flags);
	if (fd < 0)
		return vs_fail_errno(err, "memfd_create (%s%s)", name,
				     errno == EACCES ? "; vm.memfd_noexec=2 forbids executable memfds, which vserver "
						       "needs"
						     : "");
	return fd;
}

int vs_exec_shim_fd(vs_err *err)
{
	int fd = vs_exec_memfd("vserver-exec", err);
	if (fd < 0)
		return -1;
	if (!vs_write_all(fd, vs_exec_shim, vs_exec_shim_len)) {
		int e = errno;
		close(fd);
		return vs_fail(err, VS_E_SYSTEM, e, "writing the exec shim");
	}
	/* execute-only: run by a process without DAC_OVERRIDE and
	 * DAC_READ_SEARCH in its effective set (vs_exec_shim_run drops them
	 * for the execve), the shim starts non-dumpable, so that no guest
	 * process can open its /proc/PID/fd while it holds the error pipe */
	if (fchmod(fd, 0111) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = errno;
		close(fd);
		return vs_fail(err, VS_E_SYSTEM, e, "sealing the exec shim");
	}
	return fd;
}

/* DAC_OVERRIDE and DAC_READ_SEARCH out of the effective set (they come
 * back at root's next execve, from the bounding set) */
static void drop_dac_effective(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return;
	d[0].effective &= ~((1U << CAP_DAC_OVERRIDE) | (1U << CAP_DAC_READ_SEARCH));
	syscall(SYS_capset, &h, d);
}

void vs_exec_shim_run(int shim, int errfd, const char *path, const char *file, char *const argv[],
		      char *const envp[])
{
	/* errfd stays open across the shim's execve (the shim closes it on
	 * its own); the shim's memfd is close-on-exec, which an ELF program
	 * run through execveat does not mind */
	if (fcntl(errfd, F_SETFD, 0) < 0)
		return;
	drop_dac_effective();
	vs_strv av = { 0 };
	vs_strv_push(&av, "vserver-exec");
	vs_strv_push_take(&av, vs_asprintf("%d", errfd));
	vs_strv_push(&av, path);
	vs_strv_push(&av, file);
	for (size_t i = 0; argv[i]; i++)
		vs_strv_push(&av, argv[i]);
	syscall(SYS_execveat, shim, "", av.v, envp, AT_EMPTY_PATH);
	int e = errno;
	fcntl(errfd, F_SETFD, FD_CLOEXEC);
	vs_strv_free(&av);
	errno = e;
}

const char *vs_exec_shim_path(char *const envp[])
{
	for (size_t i = 0; envp[i]; i++)
		if (vs_str_startswith(envp[i], "PATH="))
			return envp[i] + 5;
	return VS_DEFAULT_PATH;
}

int vs_exec_shim_errno(const char *msg)
{
	if (msg[0] != '\001' || msg[1] < '0' || msg[1] > '9')
		return 0;
	int e = atoi(msg + 1);
	return e > 0 ? e : EIO;
}
