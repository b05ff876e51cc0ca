/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/sysfilter.c: the guest's `seccomp` lines (every kind
 * of bad line, with its line number, and that it changes nothing), the
 * effective deny list for given capabilities and lines, the cache key
 * (changes with every input that shapes the program), and the program
 * itself: run by a small classic-BPF interpreter here for x86_64, i386 and
 * x32 system call numbers, and loaded into a forked child for real. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "sysfilter.h"
#include "util.h"
#include "testutil.h"

#define X32 0x40000000u
#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

/* ---- a guest configuration without files ----------------------------------------- */

static struct vs_config C;

static int setup(void **state)
{
	(void)state;
	memset(&C, 0, sizeof C);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_config_free(&C);
	return 0;
}

/* Parse lines into C.seccomp; returns the diagnostics (caller frees). */
static void lines(struct vs_diags *d, const char *const *l)
{
	memset(d, 0, sizeof *d);
	for (int i = 0; l[i]; i++)
		vs_seccomp_parse_line(&C.seccomp, "seccomp", i + 1, l[i], d);
}

static bool diag_has(const struct vs_diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->d[i].line == line && strstr(d->d[i].msg, needle) && !strcmp(d->d[i].file, "seccomp"))
			return true;
	return false;
}

/* ---- a classic BPF interpreter (what the kernel runs) ------------------------------ */

static uint32_t run(const struct vs_seccomp_prog *p, uint32_t arch, uint32_t nr, const uint64_t *args)
{
	struct seccomp_data sd = { .nr = (int)nr, .arch = arch };
	if (args)
		memcpy(sd.args, args, sizeof sd.args);
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 };
	for (size_t pc = 0; pc < p->len; pc++) {
		const struct sock_filter *f = &p->insns[pc];
		uint32_t k = f->k;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (BPF_MODE(f->code) == BPF_ABS) {
				assert_true(BPF_SIZE(f->code) == BPF_W && k % 4 == 0 && k + 4 <= sizeof sd);
				memcpy(&A, (const char *)&sd + k, 4);
			} else if (BPF_MODE(f->code) == BPF_IMM)
				A = k;
			else if (BPF_MODE(f->code) == BPF_MEM)
				A = M[k];
			else
				fail_msg("ld mode %#x", f->code);
			break;
		case BPF_LDX:
			X = BPF_MODE(f->code) == BPF_MEM ? M[k] : k;
			break;
		case BPF_ST:
			M[k] = A;
			break;
		case BPF_STX:
			M[k] = X;
			break;
		case BPF_ALU: {
			uint32_t v = BPF_SRC(f->code) == BPF_X ? X : k;
			switch (BPF_OP(f->code)) {
			case BPF_ADD: A += v; break;
			case BPF_SUB: A -= v; break;
			case BPF_AND: A &= v; break;
			case BPF_OR: A |= v; break;
			case BPF_LSH: A <<= v; break;
			case BPF_RSH: A >>= v; break;
			case BPF_NEG: A = -A; break;
			default: fail_msg("alu op %#x", f->code);
			}
			break;
		}
		case BPF_JMP: {
			if (BPF_OP(f->code) == BPF_JA) {
				pc += k;
				break;
			}
			uint32_t v = BPF_SRC(f->code) == BPF_X ? X : k;
			bool t;
			switch (BPF_OP(f->code)) {
			case BPF_JEQ: t = A == v; break;
			case BPF_JGT: t = A > v; break;
			case BPF_JGE: t = A >= v; break;
			case BPF_JSET: t = (A & v) != 0; break;
			default: fail_msg("jmp op %#x", f->code); return 0;
			}
			pc += t ? f->jt : f->jf;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(f->code) == BPF_A ? A : k;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			fail_msg("class %#x", f->code);
		}
	}
	fail_msg("ran off the end of the program");
	return 0;
}

static struct vs_seccomp_prog prog(void)
{
	struct vs_seccomp_prog p;
	vs_err err = { 0 };
	if (vs_seccomp_prepare(-1, &C, &p, &err) < 0)
		fail_msg("vs_seccomp_prepare: %s", err.msg);
	return p;
}

/* x86_64 / i386 / x32 numbers of a few calls (from the kernel's tables) */
enum {
	N64_IO_URING_SETUP = 425, N32_IO_URING_SETUP = 425,
	N64_PTRACE = 101, N32_PTRACE = 26,
	N64_MOUNT = 165, N32_MOUNT = 21, N32_UMOUNT = 22,
	N64_KEXEC_LOAD = 246, N32_KEXEC_LOAD = 283,
	N64_FINIT_MODULE = 313, N32_FINIT_MODULE = 350,
	N64_KEYCTL = 250, N32_KEYCTL = 288,
	N64_SETTIMEOFDAY = 164, N32_SETTIMEOFDAY = 79, N32_STIME = 25, N32_CLOCK_SETTIME64 = 404,
	N64_ADJTIMEX = 159, N64_REBOOT = 169, N32_REBOOT = 88,
	N64_UNSHARE = 272, N32_UNSHARE = 310, N64_CLONE = 56,
	N64_IOCTL = 16, N32_IOCTL = 54,
	N64_GETPID = 39, N32_GETPID = 20,
	N_CLONE3 = 435, N_STATMOUNT = 457, N_FILE_GETATTR = 468, N_FILE_SETATTR = 469, N_OPEN_TREE_ATTR = 467,
	N_PIDFD_GETFD = 438, N_LISTNS = 470,
	NX32_IOCTL = 514, NX32_READV = 515, NX32_PTRACE = 521, NX32_KEXEC_LOAD = 528, NX32_PROCESS_VM_READV = 539,
	NX32_PWRITEV2 = 547,
};

static void test_program_default(void **state)
{
	(void)state;
	struct vs_seccomp_prog p = prog();
	const uint32_t a64 = AUDIT_ARCH_X86_64, a32 = AUDIT_ARCH_I386;
	const uint32_t eperm = RET_ERRNO(EPERM), enosys = RET_ERRNO(ENOSYS);
	/* plain allowed calls, on every table */
	assert_int_equal(run(&p, a64, N64_GETPID, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, N32_GETPID, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, X32 | N64_GETPID, NULL), RET_ALLOW);
	/* one sample per class, x86_64, i386 and x32 */
	static const struct {
		uint32_t n64, n32;
	} denied[] = {
		{ N64_KEXEC_LOAD, N32_KEXEC_LOAD },     { N64_FINIT_MODULE, N32_FINIT_MODULE },
		{ N64_KEYCTL, N32_KEYCTL },             { N64_IO_URING_SETUP, N32_IO_URING_SETUP },
		{ N64_PTRACE, N32_PTRACE },             { N64_MOUNT, N32_MOUNT },
		{ N64_SETTIMEOFDAY, N32_SETTIMEOFDAY }, { N_FILE_SETATTR, N_FILE_SETATTR },
		{ N_OPEN_TREE_ATTR, N_OPEN_TREE_ATTR }, { N_PIDFD_GETFD, N_PIDFD_GETFD },
	};
	for (size_t i = 0; i < VS_ARRAY_SIZE(denied); i++) {
		assert_int_equal(run(&p, a64, denied[i].n64, NULL), eperm);
		assert_int_equal(run(&p, a32, denied[i].n32, NULL), eperm);
		/* x32 uses x86_64's numbers with the flag bit, except for its own
		 * 512..547 (kexec_load and ptrace among them) */
		if (denied[i].n64 != N64_PTRACE && denied[i].n64 != N64_KEXEC_LOAD)
			assert_int_equal(run(&p, a64, X32 | denied[i].n64, NULL), eperm);
	}
	assert_int_equal(run(&p, a64, X32 | NX32_KEXEC_LOAD, NULL), eperm);
	assert_int_equal(run(&p, a64, X32 | NX32_PTRACE, NULL), eperm);
	assert_int_equal(run(&p, a64, X32 | NX32_PROCESS_VM_READV, NULL), eperm);
	assert_int_equal(run(&p, a32, N32_UMOUNT, NULL), eperm);
	assert_int_equal(run(&p, a32, N32_STIME, NULL), eperm);
	assert_int_equal(run(&p, a32, N32_CLOCK_SETTIME64, NULL), eperm);
	/* kept: reboot (the guest's own, in its PID namespace), adjtimex,
	 * the newer harmless calls */
	assert_int_equal(run(&p, a64, N64_REBOOT, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, N32_REBOOT, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, N64_ADJTIMEX, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, N_STATMOUNT, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, N_FILE_GETATTR, NULL), RET_ALLOW);
	/* clone3: ENOSYS; namespace flags */
	assert_int_equal(run(&p, a64, N_CLONE3, NULL), enosys);
	assert_int_equal(run(&p, a32, N_CLONE3, NULL), enosys);
	uint64_t nsargs[6] = { CLONE_NEWUSER }, plain[6] = { SIGCHLD }, nsnet[6] = { CLONE_NEWNET | SIGCHLD };
	assert_int_equal(run(&p, a64, N64_UNSHARE, nsargs), eperm);
	assert_int_equal(run(&p, a32, N32_UNSHARE, nsargs), eperm);
	assert_int_equal(run(&p, a64, N64_CLONE, nsnet), eperm);
	assert_int_equal(run(&p, a64, N64_CLONE, plain), RET_ALLOW);
	/* TIOCSTI: also with high bits set (the kernel reads 32 bits) */
	uint64_t sti[6] = { 0, TIOCSTI }, sti_hi[6] = { 0, 0xdead000000000000ULL | TIOCSTI };
	uint64_t other[6] = { 0, TIOCGWINSZ };
	assert_int_equal(run(&p, a64, N64_IOCTL, sti), eperm);
	assert_int_equal(run(&p, a64, N64_IOCTL, sti_hi), eperm);
	assert_int_equal(run(&p, a32, N32_IOCTL, sti), eperm);
	assert_int_equal(run(&p, a64, X32 | NX32_IOCTL, sti_hi), eperm);
	assert_int_equal(run(&p, a64, N64_IOCTL, other), RET_ALLOW);
	/* above the reviewed table: ENOSYS; -1 (a tracer's "skip") untouched */
	assert_int_equal(run(&p, a64, N_LISTNS, NULL), enosys);
	assert_int_equal(run(&p, a32, N_LISTNS, NULL), enosys);
	assert_int_equal(run(&p, a64, 1000, NULL), enosys);
	assert_int_equal(run(&p, a64, X32 | N_LISTNS, NULL), enosys);
	assert_int_equal(run(&p, a64, X32 | 600, NULL), enosys);
	assert_int_equal(run(&p, a64, 0xffffffffu, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, 0xffffffffu, NULL), RET_ALLOW);
	/* x32's own numbers 512..547 stay x32's */
	assert_int_equal(run(&p, a64, X32 | NX32_READV, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, X32 | NX32_PWRITEV2, NULL), RET_ALLOW);
	/* an architecture the filter does not know: killed (libseccomp's default) */
	uint32_t r = run(&p, AUDIT_ARCH_AARCH64, N64_GETPID, NULL);
	assert_true(r == SECCOMP_RET_KILL_THREAD || r == SECCOMP_RET_KILL_PROCESS);
	vs_seccomp_prog_free(&p);
}

static void test_program_caps_and_lines(void **state)
{
	(void)state;
	/* SYS_PTRACE in the bounding set lifts the ptrace class */
	C.caps_add = UINT64_C(1) << CAP_SYS_PTRACE;
	struct vs_diags d;
	lines(&d, (const char *const[]){ "allow io_uring_setup", "deny getpid", "deny statmount ENOSYS",
					 "deny kexec_load EACCES", "deny fchmodat2 95", NULL });
	assert_int_equal(d.n, 0);
	struct vs_seccomp_prog p = prog();
	const uint32_t a64 = AUDIT_ARCH_X86_64, a32 = AUDIT_ARCH_I386;
	assert_int_equal(run(&p, a64, N64_PTRACE, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, N32_PTRACE, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, N_PIDFD_GETFD, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, N64_IO_URING_SETUP, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a32, N32_IO_URING_SETUP, NULL), RET_ALLOW);
	assert_int_equal(run(&p, a64, N64_IO_URING_SETUP + 1, NULL), RET_ERRNO(EPERM)); /* io_uring_enter stays */
	assert_int_equal(run(&p, a64, N64_GETPID, NULL), RET_ERRNO(EPERM));
	assert_int_equal(run(&p, a32, N32_GETPID, NULL), RET_ERRNO(EPERM));
	assert_int_equal(run(&p, a64, N_STATMOUNT, NULL), RET_ERRNO(ENOSYS));
	assert_int_equal(run(&p, a64, X32 | N_STATMOUNT, NULL), RET_ERRNO(ENOSYS));
	assert_int_equal(run(&p, a64, N64_KEXEC_LOAD, NULL), RET_ERRNO(EACCES));
	assert_int_equal(run(&p, a64, 452, NULL), RET_ERRNO(95));
	vs_seccomp_prog_free(&p);
	vs_diags_free(&d);
}

/* The kernel takes the program, and the calls fail as the profile says. */
static void test_program_loads(void **state)
{
	(void)state;
	struct vs_diags d;
	lines(&d, (const char *const[]){ "deny getppid EXDEV", NULL });
	assert_int_equal(d.n, 0);
	vs_diags_free(&d);
	C.seccomp.no_new_privs = true; /* loading without CAP_SYS_ADMIN needs it */
	struct vs_seccomp_prog p = prog();
	assert_true(p.no_new_privs);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vs_err err;
		if (vs_seccomp_load(&p, &err) < 0)
			_exit(10);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(11);
		errno = 0;
		if (syscall(N64_IO_URING_SETUP, 1, (void *)1) != -1 || errno != EPERM)
			_exit(12);
		if (syscall(N64_KEYCTL, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
			_exit(13);
		if (syscall(N_LISTNS, 0, 0, 0, 0) != -1 || errno != ENOSYS)
			_exit(14);
		if (syscall(SYS_getppid) != -1 || errno != EXDEV)
			_exit(15);
		if (syscall(N_CLONE3, (void *)1, 64) != -1 || errno != ENOSYS)
			_exit(16);
		if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
			_exit(17);
		/* allowed, reaches the kernel: a bad pointer */
		if (syscall(N_STATMOUNT, (void *)1, (void *)1, 0, 0) != -1 || errno == EPERM || errno == ENOSYS)
			_exit(18);
		if (getpid() <= 0)
			_exit(19);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	vs_seccomp_prog_free(&p);
}

/* ---- the lines of the file ------------------------------------------------------- */

static void test_parse_good(void **state)
{
	(void)state;
	struct vs_diags d;
	lines(&d, (const char *const[]){ "allow io_uring_setup", "deny  getpid", "deny\tstatmount\tENOSYS",
					 "deny kexec_load 13", "deny stime", "deny listmount 4095", NULL });
	assert_int_equal(d.n, 0);
	assert_int_equal(C.seccomp.n, 6);
	assert_true(C.seccomp.v[0].allow);
	assert_string_equal(C.seccomp.v[0].syscall, "io_uring_setup");
	assert_int_equal(C.seccomp.v[1].errnum, EPERM);
	assert_int_equal(C.seccomp.v[1].line, 2);
	assert_int_equal(C.seccomp.v[2].errnum, ENOSYS);
	assert_int_equal(C.seccomp.v[3].errnum, EACCES);
	assert_int_equal(C.seccomp.v[5].errnum, 4095);
	vs_diags_free(&d);
}

static void test_parse_bad(void **state)
{
	(void)state;
	struct vs_diags d;
	lines(&d, (const char *const[]){
		"allow io_uring_setup",        /* 1: fine */
		"deny no_such_call",           /* 2 */
		"deny getpid EFOO",            /* 3 */
		"deny getpid 0",               /* 4 */
		"deny getpid 4096",            /* 5 */
		"deny getpid 1x",              /* 6 */
		"allow io_uring_setup",        /* 7: twice */
		"allow getpid",                /* 8: not a default rule */
		"deny unshare",                /* 9: argument rules */
		"allow clone3",                /* 10 */
		"deny execve",                 /* 11: vserver needs it */
		"permit getpid",               /* 12 */
		"deny",                        /* 13 */
		"allow ptrace EPERM",          /* 14 */
		"deny getpid EPERM extra",     /* 15 */
		"deny a b c d e",              /* 16 */
		"deny GETPID",                 /* 17 */
		"deny getpid -1",              /* 18 */
		NULL });
	assert_true(diag_has(&d, 2, "unknown system call 'no_such_call'"));
	assert_true(diag_has(&d, 3, "'EFOO' is not an errno"));
	assert_true(diag_has(&d, 4, "'0' is not an errno"));
	assert_true(diag_has(&d, 5, "'4096' is not an errno"));
	assert_true(diag_has(&d, 6, "'1x' is not an errno"));
	assert_true(diag_has(&d, 7, "already has a rule on line 1"));
	assert_true(diag_has(&d, 8, "not refused by the default profile"));
	assert_true(diag_has(&d, 9, "argument rules"));
	assert_true(diag_has(&d, 10, "cannot be allowed"));
	assert_true(diag_has(&d, 11, "vserver needs it"));
	assert_true(diag_has(&d, 12, "unknown rule"));
	assert_true(diag_has(&d, 13, "expected 'deny SYSCALL"));
	assert_true(diag_has(&d, 14, "expected 'deny SYSCALL"));
	assert_true(diag_has(&d, 15, "expected 'deny SYSCALL"));
	assert_true(diag_has(&d, 16, "too many words"));
	assert_true(diag_has(&d, 17, "unknown system call 'GETPID'"));
	assert_true(diag_has(&d, 18, "'-1' is not an errno"));
	assert_int_equal(d.n, 17);
	/* bad lines change nothing */
	assert_int_equal(C.seccomp.n, 1);
	vs_diags_free(&d);
}

/* ---- the effective list ----------------------------------------------------------- */

static bool eff_has(const struct vs_seccomp_entry *v, size_t n, const char *name, int e)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].syscall, name))
			return v[i].errnum == e;
	return false;
}

static void test_effective(void **state)
{
	(void)state;
	size_t n, n0 = 0;
	for (const struct vs_seccomp_default *x = vs_seccomp_defaults; x->syscall; x++)
		n0++;
	struct vs_seccomp_entry *v = vs_seccomp_effective(&C, &n);
	/* the default bounding set grants none of the gating capabilities */
	assert_int_equal(n, n0);
	static const char *const must[] = { "kexec_load", "kexec_file_load", "init_module", "finit_module",
		"delete_module", "open_by_handle_at", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
		"io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "ptrace", "process_vm_readv",
		"process_vm_writev", "kcmp", "pidfd_getfd", "mount", "umount2", "pivot_root", "move_mount", "open_tree",
		"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "settimeofday", "clock_settime", "swapon",
		"swapoff", "acct", "quotactl", "quotactl_fd", "nfsservctl", "lookup_dcookie" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(must); i++)
		assert_true(eff_has(v, n, must[i], EPERM));
	assert_false(eff_has(v, n, "reboot", EPERM));
	assert_false(eff_has(v, n, "adjtimex", EPERM));
	free(v);
	/* SYS_PTRACE: the ptrace class goes, nothing else */
	C.caps_add = UINT64_C(1) << CAP_SYS_PTRACE;
	v = vs_seccomp_effective(&C, &n);
	assert_int_equal(n, n0 - 5);
	assert_false(eff_has(v, n, "ptrace", EPERM));
	assert_false(eff_has(v, n, "pidfd_getfd", EPERM));
	assert_true(eff_has(v, n, "mount", EPERM));
	free(v);
	/* the guest's lines: allow removes, deny adds or changes the errno */
	struct vs_diags d;
	lines(&d, (const char *const[]){ "allow io_uring_setup", "deny keyctl ENOSYS", "deny getpid", "deny ptrace",
					 NULL });
	assert_int_equal(d.n, 0);
	v = vs_seccomp_effective(&C, &n);
	assert_int_equal(n, n0 - 5 - 1 + 2);
	assert_false(eff_has(v, n, "io_uring_setup", EPERM));
	assert_true(eff_has(v, n, "io_uring_enter", EPERM));
	assert_true(eff_has(v, n, "keyctl", ENOSYS));
	assert_true(eff_has(v, n, "getpid", EPERM));
	assert_true(eff_has(v, n, "ptrace", EPERM)); /* denied again despite SYS_PTRACE */
	free(v);
	vs_diags_free(&d);
	char *t = vs_seccomp_entry_text("keyctl", ENOSYS);
	assert_string_equal(t, "keyctl:ENOSYS");
	free(t);
	t = vs_seccomp_entry_text("bpf", EPERM);
	assert_string_equal(t, "bpf");
	free(t);
}

/* ---- the cache key --------------------------------------------------------------- */

static void test_key(void **state)
{
	(void)state;
	uint64_t k0 = vs_seccomp_key(&C);
	assert_true(k0 == vs_seccomp_key(&C));
	/* nonewprivs is not part of the program (vs_seccomp_load sets it) */
	C.seccomp.no_new_privs = true;
	assert_true(k0 == vs_seccomp_key(&C));
	/* a capability that lifts a class */
	C.caps_add = UINT64_C(1) << CAP_SYS_PTRACE;
	uint64_t k1 = vs_seccomp_key(&C);
	assert_true(k1 != k0);
	/* a capability that gates nothing changes nothing */
	C.caps_add |= UINT64_C(1) << CAP_NET_RAW;
	assert_true(vs_seccomp_key(&C) == k1);
	struct vs_diags d;
	lines(&d, (const char *const[]){ "allow io_uring_setup", NULL });
	uint64_t k2 = vs_seccomp_key(&C);
	assert_true(k2 != k1);
	/* the errno of a rule is part of it */
	lines(&d, (const char *const[]){ "deny getpid", NULL });
	uint64_t k3 = vs_seccomp_key(&C);
	C.seccomp.v[1].errnum = EACCES;
	uint64_t k4 = vs_seccomp_key(&C);
	assert_true(k3 != k2 && k4 != k3);
	/* and the same rules give the same key again */
	C.seccomp.v[1].errnum = EPERM;
	assert_true(vs_seccomp_key(&C) == k3);
	vs_diags_free(&d);
}

/* ---- the files in a configuration directory ------------------------------------------ */

static char tmpdir[PATH_MAX];

static void put(const char *rel, const char *data)
{
	char *p = vs_asprintf("%s/etc/g/%s", tmpdir, rel);
	FILE *f = fopen(p, "w");
	if (!f)
		fail_msg("fopen %s: %s", p, strerror(errno));
	fputs(data, f);
	fclose(f);
	free(p);
}

static void test_config_files(void **state)
{
	(void)state;
	assert_int_equal(vs_test_mkdtemp(tmpdir, sizeof tmpdir, "sysfilter"), 0);
	struct vs_settings s;
	vs_test_settings(&s, tmpdir);
	char *g = vs_asprintf("%s/g", s.confdir);
	assert_int_equal(mkdir(s.confdir, 0755), 0);
	assert_int_equal(mkdir(s.vdirbase, 0755), 0);
	assert_int_equal(mkdir(g, 0755), 0);
	put("context", "100\n");
	put("seccomp", "# io_uring for the database\nallow io_uring_setup\n\n  deny getpid ENOSYS  \ndeny nosuch\n");
	put("nonewprivs", "");
	struct vs_diags d = { 0 };
	vs_err err = { 0 };
	struct vs_config c;
	assert_int_equal(vs_config_load(&s, "g", &c, &d, &err), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.d[0].file, "seccomp");
	assert_int_equal(d.d[0].line, 5);
	assert_true(c.seccomp.no_new_privs);
	assert_int_equal(c.seccomp.n, 2);
	assert_int_equal(c.seccomp.v[1].line, 4);
	vs_diags_free(&d);
	vs_config_free(&c);
	/* nonewprivs is a flag file */
	put("nonewprivs", "yes\n");
	put("seccomp", "deny getpid\n");
	assert_int_equal(vs_config_load(&s, "g", &c, &d, &err), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.d[0].file, "nonewprivs");
	vs_diags_free(&d);
	vs_config_free(&c);
	free(g);
	vs_test_rmtree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_program_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_caps_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_effective, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test(test_config_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
