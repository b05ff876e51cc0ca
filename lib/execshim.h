/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Executing a command inside a guest from a host program (the guest's
 * init from the monitor's child, exec/enter/suexec from vserver's): never
 * with the host program's image as the caller's /proc/self/exe, which
 * the kernel follows when the command, a "#!" interpreter or an ELF
 * interpreter leads there (a guest link to /proc/self/exe).  Guest root
 * would then hold the host binary through /proc/PID/exe and could rewrite
 * it (CVE-2019-5736).  The command is executed by the exec shim
 * (src/vserver-exec-shim.c, built into libvserver) from a sealed memfd:
 * that link then leads to the shim's sealed copy. */
#pragma once
#include "error.h"

/* An empty memfd that can be sealed and executed (also under
 * vm.memfd_noexec=1), close-on-exec; -1 on error. */
int vs_exec_memfd(const char *name, vs_err *err);

/* A sealed memfd holding the shim (close-on-exec); -1 on error. */
int vs_exec_shim_fd(vs_err *err);

/* In the process that is to become the command: execute FILE (searched
 * in PATH when it has no '/'; PATH "" for no search) with argv and envp
 * through the shim.  The shim reports its failure on errfd (which it
 * closes on success), see vs_exec_shim_errno; this returns, with errno
 * set, only if the shim itself could not be run. */
void vs_exec_shim_run(int shim, int errfd, const char *path, const char *file, char *const argv[],
		      char *const envp[]);

/* The PATH a command name is searched in: envp's, else VS_DEFAULT_PATH. */
const char *vs_exec_shim_path(char *const envp[]);

/* A failure report read from errfd: the errno if it is the shim's, else
 * 0 (a message of the caller's own). */
int vs_exec_shim_errno(const char *msg);
