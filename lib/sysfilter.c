/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sysfilter.h"
#include "vs-build-config.h"
#include "caps.h"
#include "safeio.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- the profile ----------------------------------------------------------------- */

const struct vs_seccomp_default vs_seccomp_defaults[] = {
	/* the kernel itself: loading code into it, booting another one
	 * (reboot(2) stays: in a PID namespace it ends the guest's init,
	 * which is how a guest reboots or halts) */
	{ "kexec_load", -1, EPERM, "kernel" },
	{ "kexec_file_load", -1, EPERM, "kernel" },
	{ "init_module", -1, EPERM, "kernel" },
	{ "finit_module", -1, EPERM, "kernel" },
	{ "delete_module", -1, EPERM, "kernel" },
	{ "iopl", -1, EPERM, "kernel" },
	{ "ioperm", -1, EPERM, "kernel" },
	/* large kernel attack surface no guest needs (catalogue KI-09..12) */
	{ "bpf", -1, EPERM, "attack-surface" },
	{ "perf_event_open", -1, EPERM, "attack-surface" },
	{ "userfaultfd", -1, EPERM, "attack-surface" },
	{ "io_uring_setup", -1, EPERM, "attack-surface" },
	{ "io_uring_enter", -1, EPERM, "attack-surface" },
	{ "io_uring_register", -1, EPERM, "attack-surface" },
	{ "lookup_dcookie", -1, EPERM, "attack-surface" },
	{ "nfsservctl", -1, EPERM, "attack-surface" },
	/* a file handle resolves anywhere on the file system: the "shocker"
	 * escape out of a guest tree (FS-03) */
	{ "open_by_handle_at", -1, EPERM, "file-handles" },
	/* keyrings are not namespaced: guest root would share host root's */
	{ "keyctl", -1, EPERM, "keyring" },
	{ "add_key", -1, EPERM, "keyring" },
	{ "request_key", -1, EPERM, "keyring" },
	/* host-wide state */
	{ "swapon", -1, EPERM, "host-state" },
	{ "swapoff", -1, EPERM, "host-state" },
	{ "acct", -1, EPERM, "host-state" },
	{ "quotactl", -1, EPERM, "host-state" },
	{ "quotactl_fd", -1, EPERM, "host-state" },
	/* the project id of a file is the guest's disk quota (dlimits.h):
	 * moving files to another project is refused here and through the
	 * FS_IOC_FSSETXATTR ioctl (an argument rule) */
	{ "file_setattr", -1, EPERM, "disk-quota" },
	/* another process's memory and file descriptors (PI-02, PI-03) */
	{ "ptrace", CAP_SYS_PTRACE, EPERM, "ptrace" },
	{ "process_vm_readv", CAP_SYS_PTRACE, EPERM, "ptrace" },
	{ "process_vm_writev", CAP_SYS_PTRACE, EPERM, "ptrace" },
	{ "kcmp", CAP_SYS_PTRACE, EPERM, "ptrace" },
	{ "pidfd_getfd", CAP_SYS_PTRACE, EPERM, "ptrace" },
	/* mounts: the kernel refuses them without SYS_ADMIN too; the filter
	 * keeps the parsers of the new mount API out of reach (CVE-2022-0185) */
	{ "mount", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "umount", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "umount2", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "pivot_root", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "move_mount", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "open_tree", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "open_tree_attr", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "fsopen", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "fsconfig", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "fsmount", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "fspick", CAP_SYS_ADMIN, EPERM, "mount" },
	{ "mount_setattr", CAP_SYS_ADMIN, EPERM, "mount" },
	/* the realtime clock is global (RS-06); see sysfilter.h for adjtimex */
	{ "settimeofday", CAP_SYS_TIME, EPERM, "clock" },
	{ "stime", CAP_SYS_TIME, EPERM, "clock" },
	{ "clock_settime", CAP_SYS_TIME, EPERM, "clock" },
	{ "clock_settime64", CAP_SYS_TIME, EPERM, "clock" },
	/* the kernel log is global (KI-03) */
	{ "syslog", CAP_SYSLOG, EPERM, "kernel-log" },
	{ NULL, 0, 0, NULL },
};

#define STR_(x) #x
#define STR(x) STR_(x)
const char *const vs_seccomp_fixed[] = {
	"unshare:CLONE_NEW*",       /* any namespace flag: EPERM */
	"clone:CLONE_NEW*",
	"clone3:ENOSYS",            /* the C library falls back to clone */
	"ioctl:TIOCSTI",            /* the low 32 bits of the request, as the kernel reads it: EPERM */
	"ioctl:FS_IOC_FSSETXATTR",
	">" STR(VS_SECCOMP_LAST) ":ENOSYS", /* numbers above the reviewed table */
	NULL,
};

/* Calls a guest's file may not name: the argument rules above are all or
 * nothing, and vserver makes the others after loading the filter. */
static const struct {
	const char *syscall, *why;
} untouchable[] = {
	{ "unshare", "it has argument rules of its own (no namespace flags) that cannot be changed per guest" },
	{ "clone", "it has argument rules of its own (no namespace flags) that cannot be changed per guest" },
	{ "clone3", "it has a rule of its own (ENOSYS, so that the C library uses clone) that cannot be changed" },
	{ "ioctl", "it has argument rules of its own (TIOCSTI, FS_IOC_FSSETXATTR) that cannot be changed" },
	{ "execve", "vserver needs it to start the guest's processes" },
	{ "execveat", "vserver needs it to start the guest's init" },
	{ "exit", "vserver needs it to start the guest's processes" },
	{ "exit_group", "vserver needs it to start the guest's processes" },
	{ "rt_sigreturn", "vserver needs it to start the guest's processes" },
	{ "sigreturn", "vserver needs it to start the guest's processes" },
	{ "capget", "vserver needs it to drop the guest's capabilities" },
	{ "capset", "vserver needs it to drop the guest's capabilities" },
	{ "prctl", "vserver needs it to drop the guest's capabilities" },
	{ "close_range", "vserver needs it to start the guest's processes" },
	{ "chdir", "vserver needs it to start the guest's processes" },
	{ "vfork", "vserver needs it to start the guest's processes" },
	{ "wait4", "vserver needs it to start the guest's processes" },
	{ "waitpid", "vserver needs it to start the guest's processes" },
};

static const unsigned long ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
				      CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

/* ---- system call names --------------------------------------------------------------
 * From 424 on, every architecture numbers new system calls alike (x32 with
 * its flag bit).  Those are matched here, by number, in a prefix of the
 * program: libseccomp 2.5.4 knows names only up to 456, and its rules for
 * several architectures translate a number through a name it must know.
 * The calls below 424 go through libseccomp. */

#define UNIFIED_FIRST 424
static const char *const unified[] = {
	"pidfd_send_signal", "io_uring_setup", "io_uring_enter", "io_uring_register",      /* 424 */
	"open_tree", "move_mount", "fsopen", "fsconfig",                                   /* 428 */
	"fsmount", "fspick", "pidfd_open", "clone3",                                       /* 432 */
	"close_range", "openat2", "pidfd_getfd", "faccessat2",                             /* 436 */
	"process_madvise", "epoll_pwait2", "mount_setattr", "quotactl_fd",                 /* 440 */
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "memfd_secret", /* 444 */
	"process_mrelease", "futex_waitv", "set_mempolicy_home_node", "cachestat",         /* 448 */
	"fchmodat2", "map_shadow_stack", "futex_wake", "futex_wait",                       /* 452 */
	"futex_requeue", "statmount", "listmount", "lsm_get_self_attr",                    /* 456 */
	"lsm_set_self_attr", "lsm_list_modules", "mseal", "setxattrat",                    /* 460 */
	"getxattrat", "listxattrat", "removexattrat", "open_tree_attr",                    /* 464 */
	"file_getattr", "file_setattr",                                                    /* 468 */
};
_Static_assert(UNIFIED_FIRST + VS_ARRAY_SIZE(unified) - 1 == VS_SECCOMP_LAST,
	       "VS_SECCOMP_LAST is the last entry of the unified table");

#define X32_BIT 0x40000000u
/* x32's own numbers (the calls whose x32 ABI differs from x86_64's) */
#define X32_OWN_FIRST 512u
#define X32_OWN_LAST 547u

/* The unified number of `name`, or -1. */
static int unified_nr(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(unified); i++)
		if (!strcmp(unified[i], name))
			return (int)(UNIFIED_FIRST + i);
	return -1;
}

/* A name of a system call of any table this filter covers? */
static bool syscall_known(const char *name)
{
	return unified_nr(name) >= 0 || seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

static const struct vs_seccomp_default *default_rule(const char *name)
{
	for (const struct vs_seccomp_default *d = vs_seccomp_defaults; d->syscall; d++)
		if (!strcmp(d->syscall, name))
			return d;
	return NULL;
}

const char *vs_seccomp_errno_name(int e)
{
	static __thread char buf[16];
	const char *n = e > 0 ? strerrorname_np(e) : NULL;
	if (n)
		return n;
	snprintf(buf, sizeof buf, "%d", e);
	return buf;
}

char *vs_seccomp_entry_text(const char *syscall, int errnum)
{
	return errnum == EPERM ? vs_strdup(syscall) : vs_asprintf("%s:%s", syscall, vs_seccomp_errno_name(errnum));
}

/* "EPERM", "ENOSYS" ... or a decimal 1..4095 (the kernel's MAX_ERRNO): the
 * errno, or -1. */
static int parse_errno(const char *s)
{
	uint64_t v;
	if (vs_parse_u64(s, &v) == 0)
		return v >= 1 && v <= 4095 ? (int)v : -1;
	if (s[0] != 'E')
		return -1;
	for (int e = 1; e <= 4095; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, s))
			return e;
	}
	return -1;
}

/* ---- the guest's file ------------------------------------------------------------- */

void vs_seccomp_parse_line(struct vs_seccomp_conf *s, const char *file, int line, const char *text,
			   struct vs_diags *d)
{
	static const char syntax[] = "expected 'deny SYSCALL [ERRNO]' or 'allow SYSCALL'";
	char *tok[4] = { 0 };
	size_t n = 0;
	_cleanup_free_ char *copy = vs_strdup(text);
	for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == VS_ARRAY_SIZE(tok)) {
			vs_diags_add(d, file, line, "'%s': too many words; %s", text, syntax);
			return;
		}
		tok[n++] = t;
	}
	bool allow = n && !strcmp(tok[0], "allow");
	if (!n || (!allow && strcmp(tok[0], "deny"))) {
		vs_diags_add(d, file, line, "'%s': unknown rule; %s", text, syntax);
		return;
	}
	if (n < 2 || n > (allow ? 2u : 3u)) {
		vs_diags_add(d, file, line, "'%s': %s", text, syntax);
		return;
	}
	const char *name = tok[1];
	if (!syscall_known(name)) {
		vs_diags_add(d, file, line,
			     "unknown system call '%s' (a name of the x86_64, i386 or x32 table, as in syscalls(2))",
			     name);
		return;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(untouchable); i++)
		if (!strcmp(untouchable[i].syscall, name)) {
			vs_diags_add(d, file, line, "'%s' cannot be %s per guest: %s", name,
				     allow ? "allowed" : "denied", untouchable[i].why);
			return;
		}
	int e = 0;
	if (allow && !default_rule(name)) {
		vs_diags_add(d, file, line,
			     "'%s' is not refused by the default profile, there is nothing to allow "
			     "(vserver NAME config lists it)", name);
		return;
	}
	if (!allow) {
		e = n == 3 ? parse_errno(tok[2]) : EPERM;
		if (e < 0) {
			vs_diags_add(d, file, line,
				     "'%s' is not an errno: a name such as EPERM or ENOSYS, or a number 1..4095",
				     tok[2]);
			return;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].syscall, name)) {
			vs_diags_add(d, file, line, "'%s' already has a rule on line %d", name, s->v[i].line);
			return;
		}
	struct vs_seccomp_change *v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (!v)
		abort();
	s->v = v;
	s->v[s->n++] =
		(struct vs_seccomp_change){ .syscall = vs_strdup(name), .errnum = e, .allow = allow, .line = line };
}

void vs_seccomp_conf_free(struct vs_seccomp_conf *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].syscall);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static const struct vs_seccomp_change *guest_rule(const struct vs_config *c, const char *name)
{
	for (size_t i = 0; i < c->seccomp.n; i++)
		if (!strcmp(c->seccomp.v[i].syscall, name))
			return &c->seccomp.v[i];
	return NULL;
}

struct vs_seccomp_entry *vs_seccomp_effective(const struct vs_config *c, size_t *n)
{
	size_t max = c->seccomp.n + 1;
	for (const struct vs_seccomp_default *d = vs_seccomp_defaults; d->syscall; d++)
		max++;
	struct vs_seccomp_entry *v = vs_xmalloc0(max * sizeof *v);
	uint64_t bset = vs_config_bounding_set(c);
	*n = 0;
	for (const struct vs_seccomp_default *d = vs_seccomp_defaults; d->syscall; d++) {
		const struct vs_seccomp_change *g = guest_rule(c, d->syscall);
		if (g) /* the guest's line decides: allow, or deny with its errno */
			continue;
		if (d->cap >= 0 && (bset & (UINT64_C(1) << d->cap)))
			continue;
		v[(*n)++] = (struct vs_seccomp_entry){ d->syscall, d->errnum, d->why };
	}
	for (size_t i = 0; i < c->seccomp.n; i++) {
		const struct vs_seccomp_change *g = &c->seccomp.v[i];
		if (!g->allow)
			v[(*n)++] = (struct vs_seccomp_entry){ g->syscall, g->errnum, "guest" };
	}
	return v;
}

/* ---- building the program ------------------------------------------------------------
 * One builder adds the rules to a libseccomp context and to the prefix,
 * and feeds everything that shapes the filter into a hash at the same
 * time: that hash is the key of the cached program, so a change of the
 * rules (the guest's file, its capabilities, this code, libseccomp, the
 * architecture) can never leave a stale program in use. */

struct pfx_rule {
	uint32_t nr;     /* unified number */
	uint32_t action; /* SECCOMP_RET_ERRNO | errno */
};

struct builder {
	scmp_filter_ctx ctx; /* NULL: compute the key only */
	uint64_t key;
	int r;               /* first error (-errno) */
	const char *bad;     /* the system call it concerns, if any */
	struct pfx_rule pfx[VS_ARRAY_SIZE(unified)];
	size_t n_pfx;
};

static void mix(struct builder *b, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		b->key ^= c[i];
		b->key *= UINT64_C(0x100000001b3); /* FNV-1a */
	}
}

static void mix_u64(struct builder *b, uint64_t v)
{
	mix(b, &v, sizeof v);
}

static void rule(struct builder *b, uint32_t action, const char *syscall, unsigned argc,
		 const struct scmp_arg_cmp *args)
{
	mix(b, syscall, strlen(syscall) + 1);
	mix_u64(b, action);
	mix_u64(b, argc);
	for (unsigned i = 0; i < argc; i++) {
		mix_u64(b, args[i].arg);
		mix_u64(b, (uint64_t)args[i].op);
		mix_u64(b, args[i].datum_a);
		mix_u64(b, args[i].datum_b);
	}
	if (b->r < 0)
		return;
	int u = unified_nr(syscall);
	if (u >= 0) {
		/* argument rules are only made for calls below 424 */
		if (argc) {
			b->r = -EINVAL;
			b->bad = syscall;
			return;
		}
		for (size_t i = 0; i < b->n_pfx; i++)
			if (b->pfx[i].nr == (uint32_t)u)
				return; /* the first rule wins, as in libseccomp */
		b->pfx[b->n_pfx++] = (struct pfx_rule){ (uint32_t)u, action };
		return;
	}
	int nr = seccomp_syscall_resolve_name(syscall);
	if (nr == __NR_SCMP_ERROR) {
		/* an older libseccomp than the tables here: fail closed */
		b->r = -ENOENT;
		b->bad = syscall;
		return;
	}
	if (!b->ctx)
		return;
	int r = seccomp_rule_add_array(b->ctx, action, nr, argc, args);
	if (r < 0 && r != -EEXIST) {
		b->r = r;
		b->bad = syscall;
	}
}

static void arch(struct builder *b, uint32_t a)
{
	mix_u64(b, a);
	if (!b->ctx || b->r < 0)
		return;
	int r = seccomp_arch_add(b->ctx, a);
	if (r < 0 && r != -EEXIST)
		b->r = r;
}

static void build(struct builder *b, const struct vs_config *c)
{
	static const char format[] = "vserver seccomp 2: default allow, 424..469 by prefix, ENOSYS above";
	mix(b, format, sizeof format);
	/* the vserver that builds it: the run directory (and so the cache)
	 * outlives an upgrade */
	mix(b, VS_VERSION, sizeof VS_VERSION);
	mix_u64(b, VS_SECCOMP_LAST);
	const struct scmp_version *v = seccomp_version();
	mix_u64(b, v ? ((uint64_t)v->major << 32) | ((uint64_t)v->minor << 16) | v->micro : 0);
	uint32_t native = seccomp_arch_native();
	mix_u64(b, native);
	/* no_new_privs is set by vs_seccomp_load when the guest asks for it,
	 * never by libseccomp */
	if (b->ctx)
		seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* a binary tree over the syscall numbers instead of one long chain of
	 * comparisons: the same decisions, fewer instructions run per system
	 * call, and the kernel builds its per-syscall action cache (it runs
	 * the filter for every syscall number when it is loaded) in half the
	 * time.  Without this libseccomp feature (before 2.5) the chain stays. */
	mix_u64(b, 2);
	if (b->ctx)
		seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (native == SCMP_ARCH_X86_64) {
		arch(b, SCMP_ARCH_X86);
		arch(b, SCMP_ARCH_X32);
	}
	size_t n;
	_cleanup_free_ struct vs_seccomp_entry *eff = vs_seccomp_effective(c, &n);
	for (size_t i = 0; i < n; i++)
		rule(b, SCMP_ACT_ERRNO((uint32_t)eff[i].errnum), eff[i].syscall, 0, NULL);
	/* no namespaces created by the guest (user namespaces above all): one
	 * rule per flag bit, since a rule compares (arg & mask) == value */
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t f = UINT64_C(1) << bit;
		if (!(ns_flags & f))
			continue;
		struct scmp_arg_cmp a0 = SCMP_A0(SCMP_CMP_MASKED_EQ, f, f);
		rule(b, SCMP_ACT_ERRNO(EPERM), "unshare", 1, &a0);
		rule(b, SCMP_ACT_ERRNO(EPERM), "clone", 1, &a0);
	}
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS makes
	 * the C library fall back to clone, which is checked above */
	rule(b, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
	/* TIOCSTI (typing into a terminal): the kernel looks at the low 32 bits
	 * of the request only, so compare exactly those (a full 64-bit equality
	 * is bypassed by setting high bits: CVE-2019-10063) */
	struct scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI);
	rule(b, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a1);
	/* the project id of a file is the guest's disk quota (dlimits.h): the
	 * guest must not move its files to another project.  FS_IOC_FSSETXATTR
	 * also sets the append-only/immutable flags a guest root may set on its
	 * files with FS_IOC_SETFLAGS (chattr); lsattr/chattr use that one. */
	struct scmp_arg_cmp a2 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, FS_IOC_FSSETXATTR);
	rule(b, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a2);
}

/* ---- the prefix ----------------------------------------------------------------------
 * Classic BPF run before libseccomp's program, for each architecture:
 * the rules on unified numbers, then ENOSYS for numbers above
 * VS_SECCOMP_LAST; everything else falls through to libseccomp's program
 * (which starts by loading the architecture itself).  Jumps go to labels
 * resolved at the end; conditional jumps stay inside one architecture's
 * block (at most 255 instructions, checked). */

enum { L_PASS, L_X86_64_END, L_X32, L_ENOSYS64, L_PASS64, L_I386, L_ENOSYS32, L__COUNT };

struct emitter {
	struct sock_filter v[1024];
	size_t n;
	struct {
		size_t at;
		int jt, jf; /* label or -1 (next instruction) */
	} fix[1024];
	size_t n_fix;
	size_t label[L__COUNT];
	bool overflow;
};

static void put(struct emitter *e, uint16_t code, uint32_t k)
{
	if (e->n == VS_ARRAY_SIZE(e->v)) {
		e->overflow = true;
		return;
	}
	e->v[e->n++] = (struct sock_filter)BPF_STMT(code, k);
}

/* if (A == k) (or A > k, A >= k, A & k) goto jt else goto jf */
static void cond(struct emitter *e, uint16_t op, uint32_t k, int jt, int jf)
{
	if (e->n == VS_ARRAY_SIZE(e->v)) {
		e->overflow = true;
		return;
	}
	e->fix[e->n_fix++] = (typeof(e->fix[0])){ e->n, jt, jf };
	e->v[e->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0);
}

static void label(struct emitter *e, int l)
{
	e->label[l] = e->n;
}

static void ld_arch(struct emitter *e)
{
	put(e, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
}

static void ld_nr(struct emitter *e)
{
	put(e, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
}

static void rules(struct emitter *e, const struct builder *b, uint32_t base)
{
	for (size_t i = 0; i < b->n_pfx; i++) {
		cond(e, BPF_JEQ, base + b->pfx[i].nr, -1, L__COUNT); /* L__COUNT: skip the return */
		put(e, BPF_RET | BPF_K, b->pfx[i].action);
	}
}

static int resolve(struct emitter *e)
{
	for (size_t i = 0; i < e->n_fix; i++) {
		size_t at = e->fix[i].at;
		int t[2] = { e->fix[i].jt, e->fix[i].jf };
		size_t off[2];
		for (int k = 0; k < 2; k++) {
			if (t[k] < 0)
				off[k] = 0;
			else if (t[k] == L__COUNT)
				off[k] = 1;
			else
				off[k] = e->label[t[k]] - (at + 1);
			if (off[k] > 255)
				return -E2BIG;
		}
		e->v[at].jt = (uint8_t)off[0];
		e->v[at].jf = (uint8_t)off[1];
	}
	return 0;
}

static int emit_prefix(const struct builder *b, struct emitter *e)
{
	const uint32_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
	uint32_t native = seccomp_arch_native();
	memset(e->label, 0, sizeof e->label);
	if (native == SCMP_ARCH_X86_64) {
		ld_arch(e);
		cond(e, BPF_JEQ, AUDIT_ARCH_X86_64, -1, L_I386);
		ld_nr(e);
		cond(e, BPF_JEQ, 0xffffffffu, L_PASS64, -1);
		cond(e, BPF_JSET, X32_BIT, L_X32, -1);
		rules(e, b, 0);
		cond(e, BPF_JGT, VS_SECCOMP_LAST, L_ENOSYS64, L_PASS64);
		label(e, L_X32);
		rules(e, b, X32_BIT);
		cond(e, BPF_JGT, X32_BIT | VS_SECCOMP_LAST, -1, L_PASS64);
		cond(e, BPF_JGE, X32_BIT | X32_OWN_FIRST, -1, L_ENOSYS64);
		cond(e, BPF_JGT, X32_BIT | X32_OWN_LAST, L_ENOSYS64, L_PASS64);
		label(e, L_ENOSYS64);
		put(e, BPF_RET | BPF_K, enosys);
		label(e, L_PASS64);
		put(e, BPF_JMP | BPF_JA, 0); /* patched below: to the end of the prefix */
		label(e, L_I386);
		/* A still holds the architecture */
		cond(e, BPF_JEQ, AUDIT_ARCH_I386, -1, L_PASS);
	} else if (native == SCMP_ARCH_X86) {
		label(e, L_I386);
		ld_arch(e);
		cond(e, BPF_JEQ, AUDIT_ARCH_I386, -1, L_PASS);
	} else {
		/* the unified numbering has offsets on MIPS and alpha, and vserver
		 * targets x86 hosts: no prefix elsewhere would be a hole */
		return -EAFNOSUPPORT;
	}
	ld_nr(e);
	cond(e, BPF_JEQ, 0xffffffffu, L_PASS, -1);
	rules(e, b, 0);
	cond(e, BPF_JGT, VS_SECCOMP_LAST, L_ENOSYS32, L_PASS);
	label(e, L_ENOSYS32);
	put(e, BPF_RET | BPF_K, enosys);
	label(e, L_PASS);
	if (e->overflow)
		return -E2BIG;
	if (native == SCMP_ARCH_X86_64)
		e->v[e->label[L_PASS64]].k = (uint32_t)(e->label[L_PASS] - (e->label[L_PASS64] + 1));
	return resolve(e);
}

/* ---- compiling ------------------------------------------------------------------------ */

static int build_fail(const struct builder *b, vs_err *err)
{
	if (b->r == -EAFNOSUPPORT)
		return vs_fail(err, VS_E_SYSTEM, 0, "the system call filter supports x86_64 and i386 hosts only");
	if (b->bad)
		return vs_fail(err, VS_E_SYSTEM, -b->r, "building the seccomp filter (system call %s)", b->bad);
	return vs_fail(err, VS_E_SYSTEM, -b->r, "building the seccomp filter");
}

/* The cache key of a guest's program: its rules (build() also mixes in
 * the format, the vserver and libseccomp versions and the architecture),
 * and the prefix vserver emits for them (so that a changed emitter never
 * meets an old cache) */
static uint64_t rules_key(const struct vs_config *c, struct builder *b)
{
	memset(b, 0, sizeof *b);
	b->key = UINT64_C(0xcbf29ce484222325);
	build(b, c);
	_cleanup_free_ struct emitter *e = vs_xmalloc0(sizeof *e);
	if (b->r == 0 && emit_prefix(b, e) == 0)
		mix(b, e->v, e->n * sizeof *e->v);
	return b->key;
}

uint64_t vs_seccomp_key(const struct vs_config *c)
{
	struct builder b;
	return rules_key(c, &b);
}

static uint64_t prog_sum(const struct sock_filter *insns, size_t len)
{
	struct builder b = { .key = UINT64_C(0xcbf29ce484222325) };
	mix(&b, insns, len * sizeof *insns);
	return b.key;
}

static bool read_all(int fd, void *buf, size_t n, off_t off)
{
	char *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return true;
}

/* The prefix and libseccomp's program of the guest's rules, as one. */
static int export_prog(const struct vs_config *c, struct vs_seccomp_prog *p, vs_err *err)
{
	struct builder b = { .key = UINT64_C(0xcbf29ce484222325) };
	b.ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!b.ctx)
		return vs_fail(err, VS_E_SYSTEM, ENOMEM, "seccomp_init");
	build(&b, c);
	_cleanup_free_ struct emitter *e = vs_xmalloc0(sizeof *e);
	if (b.r == 0)
		b.r = emit_prefix(&b, e);
	if (b.r < 0) {
		seccomp_release(b.ctx);
		return build_fail(&b, err);
	}
	_cleanup_close_ int fd = memfd_create("vserver-seccomp", MFD_CLOEXEC);
	int r = fd < 0 ? -errno : seccomp_export_bpf(b.ctx, fd);
	seccomp_release(b.ctx);
	struct stat st;
	if (r < 0)
		return vs_fail(err, VS_E_SYSTEM, -r, "exporting the seccomp filter");
	if (fstat(fd, &st) < 0)
		return vs_fail_errno(err, "exporting the seccomp filter");
	size_t n = (size_t)st.st_size, total = e->n + n / sizeof(struct sock_filter);
	if (n == 0 || n % sizeof(struct sock_filter) || total > BPF_MAXINSNS)
		return vs_fail(err, VS_E_SYSTEM, 0, "the seccomp filter has an unexpected size (%zu + %zu bytes)",
			       e->n * sizeof(struct sock_filter), n);
	struct sock_filter *insns = vs_xmalloc0(total * sizeof *insns);
	memcpy(insns, e->v, e->n * sizeof *insns);
	if (!read_all(fd, insns + e->n, n, 0)) {
		free(insns);
		return vs_fail(err, VS_E_SYSTEM, EIO, "reading the exported seccomp filter");
	}
	p->insns = insns;
	p->len = (unsigned short)total;
	return 0;
}

/* ---- the cached program ------------------------------------------------------- */

#define CACHE_NAME "seccomp.bpf"
#define CACHE_MAGIC "VSBPF02"

struct cache_header {
	char magic[8];     /* CACHE_MAGIC, NUL-terminated */
	uint64_t key;      /* builder key of the rules */
	uint64_t sum;      /* FNV-1a of the instructions */
	uint32_t len;      /* instructions that follow */
	uint32_t pad;
};

/* The cached program if it is current and intact (0), else -1. */
static int cache_read(int dirfd, uint64_t key, struct vs_seccomp_prog *p)
{
	_cleanup_close_ int fd = openat(dirfd, CACHE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -1;
	struct cache_header h;
	size_t n = (size_t)st.st_size;
	if (n < sizeof h || n > sizeof h + BPF_MAXINSNS * sizeof(struct sock_filter) || !read_all(fd, &h, sizeof h, 0))
		return -1;
	if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) || h.key != key || h.len == 0 || h.len > BPF_MAXINSNS ||
	    n != sizeof h + h.len * sizeof(struct sock_filter))
		return -1;
	struct sock_filter *insns = vs_xmalloc0(h.len * sizeof *insns);
	if (!read_all(fd, insns, h.len * sizeof *insns, sizeof h) || prog_sum(insns, h.len) != h.sum) {
		free(insns);
		return -1;
	}
	p->insns = insns;
	p->len = (unsigned short)h.len;
	return 0;
}

static void cache_write(int dirfd, uint64_t key, const struct vs_seccomp_prog *p)
{
	size_t body = p->len * sizeof *p->insns;
	_cleanup_free_ char *data = vs_xmalloc0(sizeof(struct cache_header) + body);
	struct cache_header h = { .magic = CACHE_MAGIC, .key = key, .sum = prog_sum(p->insns, p->len), .len = p->len };
	memcpy(data, &h, sizeof h);
	memcpy(data + sizeof h, p->insns, body);
	vs_err e;
	vs_write_runtime_file_at(dirfd, CACHE_NAME, data, sizeof h + body, 0600, &e); /* best effort */
}

int vs_seccomp_prepare(int dirfd, const struct vs_config *c, struct vs_seccomp_prog *p, vs_err *err)
{
	memset(p, 0, sizeof *p);
	struct builder b;
	uint64_t key = rules_key(c, &b);
	if (b.r < 0)
		return build_fail(&b, err);
	if (dirfd < 0 || cache_read(dirfd, key, p) < 0) {
		if (export_prog(c, p, err) < 0)
			return -1;
		if (dirfd >= 0)
			cache_write(dirfd, key, p);
	}
	p->no_new_privs = c->seccomp.no_new_privs;
	return 0;
}

int vs_seccomp_load(const struct vs_seccomp_prog *p, vs_err *err)
{
	struct sock_fprog fp = { .len = p->len, .filter = p->insns };
	if (!p->insns || !p->len)
		return vs_fail(err, VS_E_SYSTEM, EINVAL, "no seccomp filter to load");
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vs_fail_errno(err, "setting no_new_privs");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		return vs_fail_errno(err, "loading the seccomp filter");
	return 0;
}

void vs_seccomp_prog_free(struct vs_seccomp_prog *p)
{
	free(p->insns);
	memset(p, 0, sizeof *p);
}
