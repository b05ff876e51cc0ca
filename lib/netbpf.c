/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP isolation: load the sock_addr programs of bpf/sockaddr.bpf.c (libbpf
 * skeleton) with one guest's addresses and attach them to its cgroup. */
#include "netbpf.h"
#include "util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/sockaddr.skel.h"

/* The hooks the programs use, one program each: the INET sock_addr hooks
 * and the creation of INET sockets (sock_create). */
static const enum bpf_attach_type sockaddr_types[] = {
	BPF_CGROUP_INET_SOCK_CREATE,
	BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET6_BIND,
	BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
	BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG,
	BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_UDP6_RECVMSG,
	BPF_CGROUP_INET4_GETSOCKNAME, BPF_CGROUP_INET6_GETSOCKNAME,
	BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME,
};
#define N_TYPES VS_ARRAY_SIZE(sockaddr_types)

#define RODATA_LEN(field) VS_ARRAY_SIZE(((struct vs_sockaddr *)0)->rodata->field)
_Static_assert(RODATA_LEN(addr4) == VS_NETBPF_MAX_ADDRS, "bpf/sockaddr.bpf.c: MAX_ADDRS");
_Static_assert(RODATA_LEN(addr6) == VS_NETBPF_MAX_ADDRS, "bpf/sockaddr.bpf.c: MAX_ADDRS");

/* libbpf prints its warnings (and the verifier's log) on stderr unless
 * told otherwise; the library keeps them for the error message instead:
 * the first warning (the cause: those after it only say what failed
 * because of it), and the last line of the verifier's log, which names
 * what it refused. */
static char libbpf_first[512];
static char verifier_last[512];

/* The last line of text[0..n) that says something: the verifier ends
 * its log with statistics ("processed N insns ...") after the refusal. */
static void keep_last_line(char *dst, size_t len, const char *text, size_t n)
{
	static const char *const noise[] = { "processed ", "verification time ", "stack depth " };
	for (;;) {
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
			n--;
		size_t start = n;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		bool skip = false;
		for (size_t i = 0; i < VS_ARRAY_SIZE(noise) && start > 0; i++)
			if (!strncmp(text + start, noise[i], strlen(noise[i])))
				skip = true;
		if (!skip) {
			snprintf(dst, len, "%.*s", (int)(n - start), text + start);
			return;
		}
		n = start;
	}
}

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	if (log) {
		log += strlen("-- BEGIN PROG LOAD LOG --");
		const char *end = strstr(log, "-- END PROG LOAD LOG --");
		keep_last_line(verifier_last, sizeof verifier_last, log, end ? (size_t)(end - log) : strlen(log));
		return 0;
	}
	/* a failed probe of the kernel's memory accounting comes first
	 * when anything fails for want of privileges: not the cause */
	const char *text = vs_str_startswith(msg, "libbpf: ") ? msg + strlen("libbpf: ") : msg;
	if (libbpf_first[0] || vs_str_startswith(text, "Failed to bump RLIMIT_MEMLOCK"))
		return 0;
	keep_last_line(libbpf_first, sizeof libbpf_first, text, strlen(text));
	return 0;
}

/* The error of a failed libbpf call (a negative errno in `ret`, or
 * errno).  libbpf's own message names the errno already. */
static int libbpf_fail(vs_err *err, int ret, const char *what)
{
	int e = ret < 0 ? -ret : errno;
	if (!libbpf_first[0])
		return vs_fail(err, VS_E_SYSTEM, e, "%s", what);
	if (verifier_last[0])
		vs_fail(err, VS_E_SYSTEM, 0, "%s: %s (verifier: %s)", what, libbpf_first, verifier_last);
	else
		vs_fail(err, VS_E_SYSTEM, 0, "%s: %s", what, libbpf_first);
	err->errnum = e;
	return -1;
}

static void skel_destroyp(struct vs_sockaddr **s)
{
	if (*s)
		vs_sockaddr__destroy(*s);
}

static int check_conf(const struct vs_netbpf_conf *conf, vs_err *err)
{
	if (conf->n4 > VS_NETBPF_MAX_ADDRS || conf->n6 > VS_NETBPF_MAX_ADDRS)
		return vs_fail(err, VS_E_INVALID, 0, "IP isolation: at most %d addresses per family",
			       VS_NETBPF_MAX_ADDRS);
	for (size_t i = 0; i < conf->n4; i++)
		if (conf->v4[i].family != AF_INET)
			return vs_fail(err, VS_E_INVALID, 0, "IP isolation: IPv6 address among the IPv4 ones");
	for (size_t i = 0; i < conf->n6; i++)
		if (conf->v6[i].family != AF_INET6)
			return vs_fail(err, VS_E_INVALID, 0, "IP isolation: IPv4 address among the IPv6 ones");
	if (conf->lback[0] != 127)
		return vs_fail(err, VS_E_INVALID, 0, "IP isolation: the loopback address %u.%u.%u.%u is not in 127.0.0.0/8",
			       conf->lback[0], conf->lback[1], conf->lback[2], conf->lback[3]);
	return 0;
}

/* Open and load the programs with the guest's addresses. */
static int load(const struct vs_netbpf_conf *conf, struct vs_sockaddr **out, vs_err *err)
{
	__attribute__((cleanup(skel_destroyp))) struct vs_sockaddr *skel = vs_sockaddr__open();
	if (!skel)
		return libbpf_fail(err, -errno, "opening the IP isolation programs");
	/* addresses stay in network order, as the programs compare them with
	 * the kernel's struct bpf_sock_addr */
	skel->rodata->n4 = (uint32_t)conf->n4;
	for (size_t i = 0; i < conf->n4; i++)
		memcpy(&skel->rodata->addr4[i], conf->v4[i].addr, 4);
	skel->rodata->n6 = (uint32_t)conf->n6;
	for (size_t i = 0; i < conf->n6; i++)
		memcpy(skel->rodata->addr6[i], conf->v6[i].addr, 16);
	memcpy(&skel->rodata->lback, conf->lback, 4);
	int r = vs_sockaddr__load(skel);
	if (r < 0)
		return libbpf_fail(err, r, "loading the IP isolation programs");
	*out = vs_steal(skel);
	return 0;
}

/* The program attached directly to `cgfd` for `type` without flags (as
 * ours are): an fd of it, or -1 if there is none (or not one of that
 * kind, which our attach then fails on). */
static int current_prog(int cgfd, enum bpf_attach_type type)
{
	uint32_t flags = 0, ids[2], cnt = VS_ARRAY_SIZE(ids);
	if (bpf_prog_query(cgfd, type, 0, &flags, ids, &cnt) < 0 || cnt != 1 || flags != 0)
		return -1;
	return bpf_prog_get_fd_by_id(ids[0]);
}

int vs_netbpf_attach(int cgfd, const struct vs_netbpf_conf *conf, vs_err *err)
{
	if (check_conf(conf, err) < 0)
		return -1;
	libbpf_first[0] = verifier_last[0] = 0;
	libbpf_print_fn_t old_print = libbpf_set_print(capture_print);
	__attribute__((cleanup(skel_destroyp))) struct vs_sockaddr *skel = NULL;
	int r = load(conf, &skel, err);
	libbpf_set_print(old_print);
	if (r < 0)
		return -1;

	/* Attach one by one; each replaces the program of an earlier attach
	 * for the same hook (a new set of addresses) without a moment
	 * unguarded.  Those are kept (fds) to put back if a later one fails,
	 * so that a failed attach leaves the cgroup as it was. */
	struct bpf_program *progs[N_TYPES];
	int old[N_TYPES];
	size_t n = 0, done = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj) {
		if (n == N_TYPES)
			return vs_fail(err, VS_E_SYSTEM, 0, "IP isolation: more programs than hooks");
		progs[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		old[i] = current_prog(cgfd, bpf_program__expected_attach_type(progs[i]));
	for (; done < n; done++) {
		enum bpf_attach_type type = bpf_program__expected_attach_type(progs[done]);
		/* flags 0: neither BPF_F_ALLOW_OVERRIDE nor BPF_F_ALLOW_MULTI,
		 * so no sub-cgroup can attach a program of this type */
		if (bpf_prog_attach(bpf_program__fd(progs[done]), cgfd, type, 0) < 0) {
			int e = errno;
			vs_fail(err, VS_E_SYSTEM, e, "attaching the IP isolation program %s to the cgroup%s",
				bpf_program__name(progs[done]),
				e == EPERM ? " (a parent cgroup's program may forbid it)" : "");
			break;
		}
	}
	if (done < n) {
		for (size_t i = 0; i < done; i++) {
			enum bpf_attach_type type = bpf_program__expected_attach_type(progs[i]);
			if (old[i] >= 0)
				bpf_prog_attach(old[i], cgfd, type, 0);
			else
				bpf_prog_detach2(bpf_program__fd(progs[i]), cgfd, type);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (old[i] >= 0)
			close(old[i]);
	return done == n ? 0 : -1;
}

int vs_netbpf_detach(int cgfd, vs_err *err)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		uint32_t flags = 0, ids[64], cnt = VS_ARRAY_SIZE(ids);
		if (bpf_prog_query(cgfd, sockaddr_types[i], 0, &flags, ids, &cnt) < 0)
			return vs_fail_errno(err, "listing the IP isolation programs of the cgroup");
		if (cnt == 0)
			continue;
		if (!(flags & BPF_F_ALLOW_MULTI)) {
			/* a single program: detached without naming it */
			if (bpf_prog_detach(cgfd, sockaddr_types[i]) < 0 && errno != ENOENT)
				return vs_fail_errno(err, "detaching an IP isolation program from the cgroup");
			continue;
		}
		for (uint32_t j = 0; j < cnt; j++) {
			_cleanup_close_ int fd = bpf_prog_get_fd_by_id(ids[j]);
			if (fd < 0) {
				if (errno == ENOENT)
					continue;
				return vs_fail_errno(err, "opening program %u of the cgroup", ids[j]);
			}
			if (bpf_prog_detach2(fd, cgfd, sockaddr_types[i]) < 0 && errno != ENOENT)
				return vs_fail_errno(err, "detaching program %u from the cgroup", ids[j]);
		}
	}
	return 0;
}

int vs_netbpf_count(int cgfd, vs_err *err)
{
	int total = 0;
	for (size_t i = 0; i < N_TYPES; i++) {
		uint32_t flags = 0, cnt = 0;
		if (bpf_prog_query(cgfd, sockaddr_types[i], 0, &flags, NULL, &cnt) < 0)
			return vs_fail_errno(err, "listing the IP isolation programs of the cgroup");
		total += (int)cnt;
	}
	return total;
}
