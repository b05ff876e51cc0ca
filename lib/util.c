/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	fputs("vserver: out of memory\n", stderr);
	abort();
}

char *vs_strdup(const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		oom();
	return r;
}

void *vs_xmalloc0(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *vs_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;
	va_start(ap, fmt);
	int n = vasprintf(&r, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return r;
}

int vs_strv_push_take(vs_strv *l, char *s)
{
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			oom();
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

int vs_strv_push(vs_strv *l, const char *s)
{
	return vs_strv_push_take(l, vs_strdup(s));
}

bool vs_strv_contains(const vs_strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

void vs_strv_free(vs_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int vs_strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool vs_str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool vs_str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int vs_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s) {
		errno = EINVAL;
		return -1;
	}
	if (s[0] == '0' && s[1]) {
		errno = EINVAL; /* leading zero: octal trap */
		return -1;
	}
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			errno = EINVAL;
			return -1;
		}
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int vs_parse_i64(const char *s, int64_t *out)
{
	bool neg = s && s[0] == '-';
	uint64_t v;
	if (vs_parse_u64(neg ? s + 1 : s, &v) < 0)
		return -1;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) {
		errno = ERANGE;
		return -1;
	}
	if (neg && v == 0) {
		errno = EINVAL; /* "-0" */
		return -1;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

char *vs_escape(const char *s)
{
	return vs_escape_mode(s, true);
}

char *vs_escape_mode(const char *s, bool backslash)
{
	size_t n = strlen(s);
	char *r = vs_xmalloc0(n * 4 + 1), *o = r;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			/* keep valid UTF-8 except the C1 controls U+0080..U+009F */
			size_t l = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 && *p <= 0xef ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
			bool ok = l && !(*p == 0xc2 && p[1] < 0xa0);
			for (size_t i = 1; ok && i < l; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok) {
				memcpy(o, p, l);
				o += l;
				p += l - 1;
				continue;
			}
			o += sprintf(o, "\\x%02x", *p);
		} else if (*p < 0x20 || *p == 0x7f || (backslash && *p == '\\'))
			o += sprintf(o, *p == '\\' ? "\\\\" : "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = 0;
	return r;
}

double vs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vs_say(const vs_report *r, const char *fmt, ...)
{
	if (!r || !r->fn)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m;
	if (vasprintf(&m, fmt, ap) < 0)
		oom();
	va_end(ap);
	r->fn(r->ud, m);
	free(m);
}

int vs_run_host(const char *bin, char *const argv[], char *const envp[], char *msg, size_t len, vs_err *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vs_fail_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vs_fail_errno(err, "fork");
	}
	if (pid == 0) {
		/* what the caller blocked or ignored (the monitor blocks its
		 * signals) is not the program's business */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < 32; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		/* the pipe's end out of 0..2 first (a caller may have closed them) */
		int w = pfd[1] > 2 ? pfd[1] : fcntl(pfd[1], F_DUPFD_CLOEXEC, 3);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (w < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(w, 2) < 0)
			_exit(127);
		extern char **environ;
		execve(bin, argv, envp ? envp : environ);
		dprintf(2, "cannot run %s: %s", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	for (;;) {
		char sink[512];
		bool full = n + 1 >= len;
		ssize_t r = full ? read(pfd[0], sink, sizeof sink) : read(pfd[0], msg + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!full)
			n += (size_t)r;
	}
	close(pfd[0]);
	if (len) {
		msg[n] = 0;
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = 0;
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return vs_fail_errno(err, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool vs_write_all(int fd, const void *b, size_t n)
{
	const char *p = b;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = fd, .events = POLLOUT };
				poll(&pf, 1, 1000);
				continue;
			}
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}
