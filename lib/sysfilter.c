/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sysfilter.h"
#include "caps.h"
#include "safeio.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* ---- the rules ----------------------------------------------------------------
 * One builder adds them to a libseccomp context and feeds everything that
 * shapes the filter into a hash at the same time: that hash is the key of
 * the cached program, so a change of the rules (or of libseccomp, or of
 * the architecture) can never leave a stale program in use. */

struct builder {
	scmp_filter_ctx ctx; /* NULL: compute the key only */
	uint64_t key;
	int r;               /* first libseccomp error */
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
	if (!b->ctx || b->r < 0)
		return;
	int nr = seccomp_syscall_resolve_name(syscall);
	if (nr == __NR_SCMP_ERROR)
		return; /* not a system call of this libseccomp */
	int r = seccomp_rule_add_array(b->ctx, action, nr, argc, args);
	if (r < 0 && r != -EEXIST)
		b->r = r;
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

static void build(struct builder *b)
{
	static const char format[] = "vserver seccomp 1: default allow, no_new_privs off";
	mix(b, format, sizeof format);
	const struct scmp_version *v = seccomp_version();
	mix_u64(b, v ? ((uint64_t)v->major << 32) | ((uint64_t)v->minor << 16) | v->micro : 0);
	uint32_t native = seccomp_arch_native();
	mix_u64(b, native);
	/* keep no_new_privs off: su and sudo must work in a full distribution */
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
	for (int i = 0; vs_seccomp_denied[i]; i++)
		rule(b, SCMP_ACT_ERRNO(EPERM), vs_seccomp_denied[i], 0, NULL);
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
	 * of the request only, so compare exactly those */
	struct scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI);
	rule(b, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a1);
	/* the project id of a file is the guest's disk quota (dlimits.h): the
	 * guest must not move its files to another project.  FS_IOC_FSSETXATTR
	 * also sets the append-only/immutable flags a guest root may set on its
	 * files with FS_IOC_SETFLAGS (chattr); lsattr/chattr use that one. */
	struct scmp_arg_cmp a2 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, FS_IOC_FSSETXATTR);
	rule(b, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a2);
	/* the same through the newer system call (Linux 6.17) */
	rule(b, SCMP_ACT_ERRNO(EPERM), "file_setattr", 0, NULL);
}

/* A libseccomp context holding the rules, or NULL (err set). */
static scmp_filter_ctx compile(vs_err *err)
{
	struct builder b = { .key = UINT64_C(0xcbf29ce484222325) };
	b.ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!b.ctx) {
		vs_fail(err, VS_E_SYSTEM, ENOMEM, "seccomp_init");
		return NULL;
	}
	build(&b);
	if (b.r < 0) {
		seccomp_release(b.ctx);
		vs_fail(err, VS_E_SYSTEM, -b.r, "building the seccomp filter");
		return NULL;
	}
	return b.ctx;
}

int vs_seccomp_apply(const struct vs_config *c, vs_err *err)
{
	(void)c;
	scmp_filter_ctx ctx = compile(err);
	if (!ctx)
		return -1;
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return vs_fail(err, VS_E_SYSTEM, -r, "loading the seccomp filter");
	return 0;
}

/* ---- the cached program ------------------------------------------------------- */

#define CACHE_NAME "seccomp.bpf"
#define CACHE_MAGIC "VSBPF01"

struct cache_header {
	char magic[8];     /* CACHE_MAGIC, NUL-terminated */
	uint64_t key;      /* builder key of the rules */
	uint64_t sum;      /* FNV-1a of the instructions */
	uint32_t len;      /* instructions that follow */
	uint32_t pad;
};

static uint64_t rules_key(void)
{
	struct builder b = { .key = UINT64_C(0xcbf29ce484222325) };
	build(&b);
	return b.key;
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
	vs_write_file_atomic_at(dirfd, CACHE_NAME, data, sizeof h + body, 0600, &e); /* best effort */
}

/* Compile the rules and take the program libseccomp would load. */
static int export_prog(struct vs_seccomp_prog *p, vs_err *err)
{
	scmp_filter_ctx ctx = compile(err);
	if (!ctx)
		return -1;
	_cleanup_close_ int fd = memfd_create("vserver-seccomp", MFD_CLOEXEC);
	int r = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	struct stat st;
	if (r < 0)
		return vs_fail(err, VS_E_SYSTEM, -r, "exporting the seccomp filter");
	if (fstat(fd, &st) < 0)
		return vs_fail_errno(err, "exporting the seccomp filter");
	size_t n = (size_t)st.st_size;
	if (n == 0 || n % sizeof(struct sock_filter) || n > BPF_MAXINSNS * sizeof(struct sock_filter))
		return vs_fail(err, VS_E_SYSTEM, 0, "the exported seccomp filter has an unexpected size (%zu bytes)", n);
	struct sock_filter *insns = vs_xmalloc0(n);
	if (!read_all(fd, insns, n, 0)) {
		free(insns);
		return vs_fail(err, VS_E_SYSTEM, EIO, "reading the exported seccomp filter");
	}
	p->insns = insns;
	p->len = (unsigned short)(n / sizeof *insns);
	return 0;
}

int vs_seccomp_prepare(int dirfd, struct vs_seccomp_prog *p, vs_err *err)
{
	memset(p, 0, sizeof *p);
	uint64_t key = rules_key();
	if (dirfd >= 0 && cache_read(dirfd, key, p) == 0)
		return 0;
	if (export_prog(p, err) < 0)
		return -1;
	if (dirfd >= 0)
		cache_write(dirfd, key, p);
	return 0;
}

int vs_seccomp_load(const struct vs_seccomp_prog *p, vs_err *err)
{
	struct sock_fprog fp = { .len = p->len, .filter = p->insns };
	if (!p->insns || !p->len)
		return vs_fail(err, VS_E_SYSTEM, EINVAL, "no seccomp filter to load");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		return vs_fail_errno(err, "loading the seccomp filter");
	return 0;
}

void vs_seccomp_prog_free(struct vs_seccomp_prog *p)
{
	free(p->insns);
	memset(p, 0, sizeof *p);
}
