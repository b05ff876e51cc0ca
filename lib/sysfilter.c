/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sysfilter.h"
#include "caps.h"
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Refused outright (EPERM). */
const char *const vs_seccomp_denied[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"open_by_handle_at", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"iopl", "ioperm", "swapon", "swapoff", "acct", "lookup_dcookie", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "fsopen", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
	NULL,
};

static const unsigned long ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
				      CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

int vs_seccomp_apply(const struct vs_config *c, vs_err *err)
{
	(void)c;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return vs_fail(err, VS_E_SYSTEM, ENOMEM, "seccomp_init");
	int r = 0;
	/* keep no_new_privs off: su and sudo must work in a full distribution */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
			goto fail;
		if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && r != -EEXIST)
			goto fail;
	}
	for (int i = 0; vs_seccomp_denied[i]; i++) {
		int nr = seccomp_syscall_resolve_name(vs_seccomp_denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0 && r != -EEXIST)
			goto fail;
	}
	/* no namespaces created by the guest (user namespaces above all): one
	 * rule per flag bit, since a rule compares (arg & mask) == value */
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t f = UINT64_C(1) << bit;
		if (!(ns_flags & f))
			continue;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ, f, f))) < 0 ||
		    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ, f, f))) < 0)
			goto fail;
	}
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS makes
	 * the C library fall back to clone, which is checked above */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		goto fail;
	/* TIOCSTI (typing into a terminal): the kernel looks at the low 32 bits
	 * of the request only, so compare exactly those */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI))) < 0)
		goto fail;
	if ((r = seccomp_load(ctx)) < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return vs_fail(err, VS_E_SYSTEM, -r, "building the seccomp filter");
}
