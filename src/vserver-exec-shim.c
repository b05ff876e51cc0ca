/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-exec-shim: the last step of `vserver NAME exec`, `enter` and
 * `suexec`, inside the guest.  It is built into the vserver binary
 * (lib/exec-shim.h, generated) and run from a sealed memfd copy.
 *
 * Why: a process that executes a command keeps the image of the program
 * that called execve() as its /proc/self/exe until the new image is in
 * place, and the kernel follows that link when it resolves the command, a
 * "#!" interpreter or an ELF interpreter.  Had vserver's own process
 * executed a command that leads there (a guest link to /proc/self/exe, a
 * script starting "#!/proc/self/exe"), the host's vserver binary would
 * run inside the guest, where guest root could open it through
 * /proc/PID/exe and later rewrite it (CVE-2019-5736).  From here, that
 * link leads to this sealed copy, which nobody can write.
 *
 *   vserver-exec ERRFD PATH FILE ARGV0 [ARG...]
 *
 * Executes FILE with ARGV0 ARG... and the environment it was given; a
 * FILE without '/' is searched in PATH (a colon-separated list, empty
 * entries skipped: never the current directory), as execvp(3) does but
 * for that: ENOENT when no directory has it, EACCES when one had it but
 * none could run it, else the error of a file found that cannot run.  If
 * it cannot, it writes "\001" and the errno in decimal to ERRFD and
 * exits 127; ERRFD is closed on a successful execve.
 *
 * No C library where the system calls are written out here (x86-64,
 * AArch64): the shim is a few kilobytes and starts in a few microseconds.
 * Elsewhere it is an ordinary static program. */
#include <asm/unistd.h>
#include <linux/errno.h>

#define MAX_PATH 4096

#if defined(__x86_64__) || defined(__aarch64__)
#define SHIM_FREESTANDING 1
#include <linux/fcntl.h>
static long sys3(long n, long a, long b, long c)
{
	long r;
#if defined(__x86_64__)
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#else
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	r = x0;
#endif
	return r;
}
#define SYS_EXECVE(f, a, e) sys3(__NR_execve, (long)(f), (long)(a), (long)(e))
#define SYS_WRITE(fd, b, n) sys3(__NR_write, (fd), (long)(b), (long)(n))
#define SYS_SETFD_CLOEXEC(fd) sys3(__NR_fcntl, (fd), F_SETFD, FD_CLOEXEC)
#define SYS_EXIT(c) sys3(__NR_exit_group, (c), 0, 0)
#define SYS_NODUMP() sys3(__NR_prctl, 4 /* PR_SET_DUMPABLE */, 0, 0)
#else
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#define SYS_EXECVE(f, a, e) (execve((f), (a), (e)) < 0 ? -errno : 0)
#define SYS_WRITE(fd, b, n) write((fd), (b), (n))
#define SYS_SETFD_CLOEXEC(fd) fcntl((fd), F_SETFD, FD_CLOEXEC)
#define SYS_EXIT(c) _exit(c)
#include <sys/prctl.h>
#define SYS_NODUMP() prctl(PR_SET_DUMPABLE, 0)
#endif

static void fail(int errfd, long e)
{
	char b[16], *p = b + sizeof b;
	unsigned long v = (unsigned long)e;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) && p > b + 1);
	*--p = '\001';
	SYS_WRITE(errfd, p, (long)(b + sizeof b - p));
	SYS_EXIT(127);
	for (;;)
		;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static int has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

static int shim(int argc, char **argv, char **envp)
{
	/* no ptrace and no /proc/PID/fd from the guest while ERRFD, a pipe
	 * to the host's vserver, is open here: the command's execve makes
	 * it dumpable again */
	SYS_NODUMP();
	if (argc < 5)
		SYS_EXIT(127);
	int errfd = 0;
	for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++)
		errfd = errfd * 10 + (*p - '0');
	const char *path = argv[2], *file = argv[3];
	char **args = argv + 4;
	SYS_SETFD_CLOEXEC(errfd);
	if (!*file)
		fail(errfd, ENOENT);
	if (has_slash(file))
		fail(errfd, -SYS_EXECVE(file, args, envp));
	unsigned long fl = len(file);
	int denied = 0;
	char buf[MAX_PATH];
	for (const char *d = path; *d;) {
		const char *end = d;
		while (*end && *end != ':')
			end++;
		unsigned long dl = (unsigned long)(end - d);
		if (dl && dl + 1 + fl >= sizeof buf)
			fail(errfd, ENAMETOOLONG); /* what execve would say */
		if (dl) {
			for (unsigned long i = 0; i < dl; i++)
				buf[i] = d[i];
			buf[dl] = '/';
			for (unsigned long i = 0; i <= fl; i++)
				buf[dl + 1 + i] = file[i];
			long e = -SYS_EXECVE(buf, args, envp);
			if (e == EACCES)
				denied = 1;
			else if (e != ENOENT && e != ENOTDIR)
				fail(errfd, e); /* found, but it cannot run: that error */
		}
		d = *end ? end + 1 : end;
	}
	fail(errfd, denied ? EACCES : ENOENT);
	return 127;
}

#ifdef SHIM_FREESTANDING
/* the kernel's initial stack: argc, argv[], NULL, envp[], NULL */
__attribute__((used, noinline)) void shim_start(long *sp);
void shim_start(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	SYS_EXIT(shim(argc, argv, argv + argc + 1));
}
#if defined(__x86_64__)
__asm__(".text\n.globl _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall shim_start\n\thlt\n");
#else
__asm__(".text\n.globl _start\n_start:\n\tmov x0, sp\n\tbl shim_start\n\tbrk #0\n");
#endif
#else
int main(int argc, char **argv, char **envp)
{
	return shim(argc, argv, envp);
}
#endif
