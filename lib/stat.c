/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "stat.h"
#include "config.h"
#include "safeio.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

/* ---- formats --------------------------------------------------------------- */

void vs_stat_mem(uint64_t val, char buf[VS_STAT_MEM_BUF])
{
	static const char *const suffix[] = { " ", "K", "M", "G", "T" };
	size_t i = 0;
	unsigned mod = 0;
	while (val >= 1000 && i + 1 < VS_ARRAY_SIZE(suffix)) {
		mod = (unsigned)(10 * (val & 1023) / 1024);
		val >>= 10;
		i++;
	}
	if (val > 9999)
		val = 9999;
	if (val >= 1000)
		mod = 0;
	char tmp[32];
	if (mod)
		snprintf(tmp, sizeof tmp, "%" PRIu64 ".%u%s", val, mod, suffix[i]);
	else
		snprintf(tmp, sizeof tmp, "%" PRIu64 "%s", val, suffix[i]);
	snprintf(buf, VS_STAT_MEM_BUF, "%7s", tmp);
}

void vs_stat_time(uint64_t t, char buf[VS_STAT_TIME_BUF])
{
	unsigned ms = (unsigned)(t % 1000);
	t /= 1000;
	unsigned ss = (unsigned)(t % 60);
	t /= 60;
	unsigned mm = (unsigned)(t % 60);
	t /= 60;
	unsigned hh = (unsigned)(t % 24);
	t /= 24; /* days */
	char tmp[VS_STAT_TIME_BUF], cc[8];
	/* the first two digits of the millisecond value (util-vserver) */
	snprintf(cc, sizeof cc, "%02u", ms);
	cc[2] = 0;
	if (t > 999ULL * 999)
		snprintf(tmp, sizeof tmp, "INVALID");
	else if (t > 999)
		snprintf(tmp, sizeof tmp, "%" PRIu64 "y%02" PRIu64 "d%02u", t / 365, t % 365, hh);
	else if (t > 0)
		snprintf(tmp, sizeof tmp, "%" PRIu64 "d%02uh%02u", t, hh, mm);
	else if (hh > 0)
		snprintf(tmp, sizeof tmp, "%uh%02um%02u", hh, mm, ss);
	else
		snprintf(tmp, sizeof tmp, "%um%02us%s", mm, ss, cc);
	snprintf(buf, VS_STAT_TIME_BUF, "%9s ", tmp);
}

/* At most max bytes of s, not cutting a UTF-8 sequence. */
static char *cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		/* back off from the middle of a multi-byte character */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	char *r = vs_xmalloc0(n + 1);
	memcpy(r, s, n);
	return r;
}

char *vs_stat_line(const struct vs_stat_entry *e)
{
	char ctx[24], procs[24];
	int lc = snprintf(ctx, sizeof ctx, "%u", e->context);
	int lp = snprintf(procs, sizeof procs, "%" PRIu64, e->nprocs);
	int pad = 10 - lc - lp;
	if (pad < 1)
		pad = 1;
	char vsz[VS_STAT_MEM_BUF], rss[VS_STAT_MEM_BUF];
	char ut[VS_STAT_TIME_BUF], st[VS_STAT_TIME_BUF], up[VS_STAT_TIME_BUF];
	vs_stat_mem(e->vsz, vsz);
	vs_stat_mem(e->rss, rss);
	vs_stat_time(e->utime_ms, ut);
	vs_stat_time(e->stime_ms, st);
	vs_stat_time(e->uptime_ms, up);
	_cleanup_free_ char *cut = cut_utf8(e->name ? e->name : "", VS_STAT_NAME_MAX);
	_cleanup_free_ char *name = vs_escape(cut);
	return vs_asprintf("%s%*s%s%s%s%s%s%s %s", ctx, pad, "", procs, vsz, rss, ut, st, up, name);
}

/* ---- /proc ----------------------------------------------------------------- */

/* Next space-separated field; -1 at the end. */
static int next_field(const char **p, int64_t *v)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return -1;
	char *end;
	errno = 0;
	bool neg = *s == '-';
	uint64_t u = strtoull(neg ? s + 1 : s, &end, 10);
	if (end == (neg ? s + 1 : s)) {
		/* not a number (the state letter): skip it */
		while (*s && *s != ' ' && *s != '\n')
			s++;
		*p = s;
		*v = 0;
		return 0;
	}
	if (*end && *end != ' ' && *end != '\n')
		return -1;
	*v = neg ? 0 : u > INT64_MAX ? INT64_MAX : (int64_t)u;
	*p = end;
	return 0;
}

int vs_stat_parse_proc(const char *data, struct vs_proc_stat *ps)
{
	memset(ps, 0, sizeof *ps);
	const char *p = strrchr(data, ')'); /* comm may hold spaces and ')' */
	if (!p || p[1] != ' ' || !p[2]) {
		errno = EINVAL;
		return -1;
	}
	p += 2;
	ps->state = *p;
	/* fields 3 (state) .. 24 (rss) */
	int64_t f[25] = { 0 };
	for (int i = 3; i <= 24; i++)
		if (next_field(&p, &f[i]) < 0) {
			errno = EINVAL;
			return -1;
		}
	ps->utime = (uint64_t)f[14];
	ps->stime = (uint64_t)f[15];
	ps->cutime = (uint64_t)f[16];
	ps->cstime = (uint64_t)f[17];
	ps->starttime = (uint64_t)f[22];
	ps->vsize = (uint64_t)f[23];
	ps->rss = (uint64_t)f[24];
	return 0;
}

size_t vs_stat_parse_nspid(const char *status, pid_t *v, size_t max)
{
	const char *p = status;
	while (p && *p) {
		if (!strncmp(p, "NSpid:", 6)) {
			p += 6;
			size_t n = 0;
			for (;;) {
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p < '0' || *p > '9')
					break;
				char *end;
				unsigned long x = strtoul(p, &end, 10);
				if (n < max)
					v[n] = (pid_t)x;
				n++;
				p = end;
			}
			return n < max ? n : max;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* One bounded read of /proc/PID/FILE (the proc dir fd given). */
static int read_proc(int procfd, pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "%d/%s", (int)pid, file);
	int fd = openat(procfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	return n ? 0 : -1;
}

/* ---- running guests ----------------------------------------------------------- */

static int owner_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct vs_pid_owner *)a)->pid, y = ((const struct vs_pid_owner *)b)->pid;
	return (x > y) - (x < y);
}

int vs_running_load(const struct vs_settings *s, const char *cgroot, struct vs_running_set *rs, vs_err *err)
{
	memset(rs, 0, sizeof *rs);
	_cleanup_strv_ vs_strv names = { 0 };
	if (vs_config_list_names(s, &names, err) < 0)
		return -1;
	rs->g = vs_xmalloc0((names.n + 1) * sizeof *rs->g);
	size_t total = 0;
	for (size_t i = 0; i < names.n; i++) {
		struct vs_state st;
		vs_err e;
		if (vs_state_get(s, names.v[i], &st, NULL, &e) != 1)
			continue;
		struct vs_running *g = &rs->g[rs->n++];
		g->name = vs_strdup(names.v[i]);
		g->st = st;
		if (vs_cgroup_open(s, cgroot, names.v[i], &g->cg, &e) == 0 &&
		    vs_cgroup_pids(&g->cg, &g->pids, &g->n, &e) == 0)
			total += g->n;
		else {
			free(g->pids);
			g->pids = NULL;
			g->n = 0;
		}
	}
	rs->idx = vs_xmalloc0((total + 1) * sizeof *rs->idx);
	for (size_t i = 0; i < rs->n; i++)
		for (size_t k = 0; k < rs->g[i].n; k++)
			rs->idx[rs->nidx++] = (struct vs_pid_owner){ .pid = rs->g[i].pids[k], .guest = (uint32_t)i };
	if (rs->nidx)
		qsort(rs->idx, rs->nidx, sizeof *rs->idx, owner_cmp);
	return 0;
}

int vs_running_find(const struct vs_running_set *rs, pid_t pid)
{
	struct vs_pid_owner key = { .pid = pid };
	const struct vs_pid_owner *o = rs->nidx ? bsearch(&key, rs->idx, rs->nidx, sizeof key, owner_cmp) : NULL;
	return o ? (int)o->guest : -1;
}

void vs_running_free(struct vs_running_set *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->g[i].name);
		free(rs->g[i].pids);
		vs_cgroup_free(&rs->g[i].cg);
	}
	free(rs->g);
	free(rs->idx);
	memset(rs, 0, sizeof *rs);
}

/* ---- vserver-stat ---------------------------------------------------------- */

/* The guest's `name` file (first line), else NULL. */
static char *display_name(const struct vs_settings *s, const char *guest)
{
	_cleanup_free_ char *path = vs_asprintf("%s/%s/name", s->confdir, guest);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, path, 4096, &data, NULL, &e) < 0)
		return NULL;
	data[strcspn(data, "\n")] = 0;
	if (!data[0])
		return NULL;
	return vs_steal(data);
}

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct acc {
	uint64_t utime, stime; /* ticks */
	uint64_t oldest;       /* start time in ticks, UINT64_MAX if none */
};

int vs_stat_collect(const struct vs_settings *s, const char *cgroot, struct vs_stat *out, vs_err *err)
{
	memset(out, 0, sizeof *out);
	struct vs_running_set rs;
	if (vs_running_load(s, cgroot, &rs, err) < 0)
		return -1;
	size_t n = rs.n + 1;
	struct vs_stat_entry *e = vs_xmalloc0(n * sizeof *e);
	struct acc *acc = vs_xmalloc0(n * sizeof *acc);
	for (size_t i = 0; i < n; i++)
		acc[i].oldest = UINT64_MAX;

	_cleanup_close_ int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = procfd >= 0 ? fdopendir(dup(procfd)) : NULL;
	if (!d) {
		vs_fail_errno(err, "/proc");
		free(e);
		free(acc);
		vs_running_free(&rs);
		return -1;
	}
	long pagesize = sysconf(_SC_PAGESIZE);
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	pid_t self = getpid();
	struct dirent *de;
	char buf[4096];
	while ((de = readdir(d))) {
		uint64_t v;
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || vs_parse_u64(de->d_name, &v) < 0 || v > INT32_MAX)
			continue;
		pid_t pid = (pid_t)v;
		if (pid == self)
			continue;
		struct vs_proc_stat ps;
		if (read_proc(procfd, pid, "stat", buf, sizeof buf) < 0 || vs_stat_parse_proc(buf, &ps) < 0)
			continue; /* gone meanwhile */
		int g = vs_running_find(&rs, pid);
		size_t k = g < 0 ? 0 : (size_t)g + 1;
		e[k].nprocs++;
		e[k].vsz += ps.vsize;
		e[k].rss += ps.rss * (uint64_t)pagesize;
		acc[k].utime += ps.utime + ps.cutime;
		acc[k].stime += ps.stime + ps.cstime;
		if (ps.starttime < acc[k].oldest)
			acc[k].oldest = ps.starttime;
	}
	closedir(d);

	uint64_t boot_now = clock_ms(CLOCK_BOOTTIME), real_now = clock_ms(CLOCK_REALTIME);
	for (size_t k = 0; k < n; k++) {
		e[k].utime_ms = acc[k].utime * 1000 / (uint64_t)hz;
		e[k].stime_ms = acc[k].stime * 1000 / (uint64_t)hz;
		if (k == 0) {
			e[k].context = 0;
			e[k].name = vs_strdup(VS_STAT_HOST_NAME);
			uint64_t start = acc[k].oldest == UINT64_MAX ? 0 : acc[k].oldest * 1000 / (uint64_t)hz;
			e[k].uptime_ms = boot_now > start ? boot_now - start : 0;
		} else {
			const struct vs_running *g = &rs.g[k - 1];
			e[k].context = g->st.context;
			e[k].guest = vs_strdup(g->name);
			e[k].name = display_name(s, g->name);
			if (!e[k].name)
				e[k].name = vs_strdup(g->name);
			uint64_t started = g->st.started > 0 ? (uint64_t)g->st.started * 1000 : 0;
			e[k].uptime_ms = real_now > started ? real_now - started : 0;
			vs_err ue;
			if (vs_usage_read(&g->cg, &e[k].usage, &ue) < 0)
				e[k].usage_problem = vs_strdup(ue.msg);
		}
	}
	free(acc);
	vs_running_free(&rs);
	/* the guests by context, then name (the host stays first) */
	for (size_t i = 2; i < n; i++)
		for (size_t j = i; j > 1; j--) {
			struct vs_stat_entry *a = &e[j - 1], *b = &e[j];
			if (a->context < b->context || (a->context == b->context && strcmp(a->guest, b->guest) <= 0))
				break;
			struct vs_stat_entry t = *a;
			*a = *b;
			*b = t;
		}
	out->e = e;
	out->n = n;
	return 0;
}

void vs_stat_free(struct vs_stat *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->e[i].guest);
		free(st->e[i].name);
		free(st->e[i].usage_problem);
	}
	free(st->e);
	memset(st, 0, sizeof *st);
}

/* ---- vps ------------------------------------------------------------------- */

ssize_t vs_vps_header_pos(const char *h)
{
	size_t i = 0, n = strlen(h);
	while (i < n) {
		while (i < n && h[i] == ' ')
			i++;
		size_t b = i;
		while (i < n && h[i] != ' ' && h[i] != '\n')
			i++;
		if (i - b == 3 && !memcmp(h + b, "PID", 3))
			return (ssize_t)i;
		if (i < n && h[i] == '\n')
			break;
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

ssize_t vs_vps_row_pid(const char *row, size_t pos, pid_t *pid)
{
	size_t n = strlen(row);
	if (pos == 0 || pos > n || !is_digit(row[pos - 1]))
		return -1;
	size_t b = pos - 1;
	while (b > 0 && is_digit(row[b - 1]))
		b--;
	/* a pid wider than its column pushes the rest of the row right */
	size_t end = pos;
	while (end < n && is_digit(row[end]))
		end++;
	if (b > 0 && row[b - 1] != ' ')
		return -1;
	if (end < n && row[end] != ' ' && row[end] != '\n')
		return -1;
	uint64_t v = 0;
	for (size_t i = b; i < end; i++) {
		v = v * 10 + (uint64_t)(row[i] - '0');
		if (v > INT32_MAX)
			return -1;
	}
	*pid = (pid_t)v;
	return (ssize_t)end;
}

char *vs_vps_cell(unsigned context, const char *name, bool header)
{
	if (header)
		return vs_asprintf(" %-*s", VS_VPS_CELL - 1, "CONTEXT");
	_cleanup_free_ char *esc = vs_escape(name ? name : "");
	return vs_asprintf(" %5u %-*s", context, VS_VPS_CELL - 7, esc);
}

char *vs_vps_escape(const char *s)
{
	return vs_escape_mode(s, false);
}

/* ---- vkill ----------------------------------------------------------------- */

int vs_running_resolve(const struct vs_settings *s, const struct vs_running_set *rs, const char *spec, size_t *idx,
		       vs_err *err)
{
	_cleanup_free_ char *shown = vs_escape(spec);
	uint64_t ctx;
	if (vs_parse_u64(spec, &ctx) == 0) {
		if (ctx == 0)
			return vs_fail(err, VS_E_INVALID, 0, "context 0 is the host, not a guest");
		for (size_t i = 0; i < rs->n; i++)
			if (rs->g[i].st.context == ctx) {
				*idx = i;
				return 0;
			}
	}
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->g[i].name, spec)) {
			*idx = i;
			return 0;
		}
	if (vs_parse_u64(spec, &ctx) == 0 && ctx <= UINT32_MAX) {
		_cleanup_free_ char *owner = vs_config_context_owner(s, (unsigned)ctx, NULL);
		if (owner)
			return vs_fail(err, VS_E_STATE, 0, "guest '%s' (context %s) is not running", owner, shown);
	}
	vs_err e;
	if (vs_name_check(spec, &e) < 0) {
		if (vs_parse_u64(spec, &ctx) == 0)
			return vs_fail(err, VS_E_NOGUEST, 0, "no guest with context %s", shown);
		return vs_fail(err, VS_E_INVALID, 0, "'%s' is neither a context number nor a guest name", shown);
	}
	_cleanup_free_ char *cfg = vs_asprintf("%s/%s", s->confdir, spec);
	struct stat sb;
	if (lstat(cfg, &sb) == 0 && S_ISDIR(sb.st_mode))
		return vs_fail(err, VS_E_STATE, 0, "guest '%s' is not running", shown);
	if (vs_parse_u64(spec, &ctx) == 0)
		return vs_fail(err, VS_E_NOGUEST, 0, "no guest with context or name '%s'", shown);
	return vs_fail(err, VS_E_NOGUEST, 0, "no guest named '%s'", shown);
}

/* NSpid of a process; 0 entries if it is gone. */
static size_t proc_nspid(pid_t pid, pid_t *v, size_t max)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, path, 64 * 1024, &data, NULL, &e) < 0)
		return 0;
	return vs_stat_parse_nspid(data, v, max);
}

#define NSPID_MAX 40 /* the kernel nests at most 32 PID namespaces */

int vs_guest_pidns_level(const struct vs_running *g, size_t *level, vs_err *err)
{
	pid_t v[NSPID_MAX];
	size_t n = g->st.init > 0 ? proc_nspid(g->st.init, v, NSPID_MAX) : 0;
	if (n < 2 || v[n - 1] != 1 || vs_proc_starttime(g->st.init) != g->st.init_start || !g->st.init_start)
		return vs_fail(err, VS_E_STATE, 0, "guest '%s': its PID 1 (host pid %d) is not there", g->name,
			       (int)g->st.init);
	*level = n - 1;
	return 0;
}

int vs_guest_host_pid(const struct vs_running *g, size_t level, pid_t inner, pid_t *host, vs_err *err)
{
	pid_t v[NSPID_MAX];
	for (size_t i = 0; i < g->n; i++) {
		size_t n = proc_nspid(g->pids[i], v, NSPID_MAX);
		if (n > level && v[level] == inner && v[0] == g->pids[i]) {
			*host = g->pids[i];
			return 0;
		}
	}
	return vs_fail(err, VS_E_INVALID, 0, "guest '%s' has no process %d", g->name, (int)inner);
}

int vs_guest_signal(const struct vs_running *g, pid_t host, size_t level, pid_t inner, int sig, vs_err *err)
{
	if (host <= 0)
		return vs_fail(err, VS_E_INVALID, 0, "bad pid %d", (int)host);
	int fd = (int)syscall(__NR_pidfd_open, host, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return vs_fail(err, VS_E_SYSTEM, ESRCH, "process %d", (int)(inner > 0 ? inner : host));
		return vs_fail_errno(err, "pidfd_open %d", (int)host);
	}
	/* the pidfd pins the process: what is checked now is what gets the
	 * signal (a pid reused after this point is never hit) */
	if (!vs_cgroup_contains(&g->cg, host)) {
		close(fd);
		return vs_fail(err, VS_E_INVALID, 0, "process %d is not in guest '%s'", (int)(inner > 0 ? inner : host),
			       g->name);
	}
	if (inner > 0) {
		pid_t v[NSPID_MAX];
		size_t n = proc_nspid(host, v, NSPID_MAX);
		if (n <= level || v[level] != inner || v[0] != host) {
			close(fd);
			return vs_fail(err, VS_E_INVALID, 0, "guest '%s' has no process %d", g->name, (int)inner);
		}
	}
	int r = (int)syscall(__NR_pidfd_send_signal, fd, sig, NULL, 0);
	int e = errno;
	close(fd);
	if (r < 0)
		return vs_fail(err, VS_E_SYSTEM, e, "signal %d to process %d of guest '%s'", sig,
			       (int)(inner > 0 ? inner : host), g->name);
	return 0;
}

int vs_guest_signal_all(const struct vs_running *g, int sig, size_t *sent, vs_err *err)
{
	*sent = 0;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (!g->cg.pids_dir)
		return vs_fail(err, VS_E_STATE, 0, "guest '%s' has no cgroup", g->name);
	if (vs_cgroup_pids(&g->cg, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		vs_err e;
		if (vs_guest_signal(g, pids[i], 0, 0, sig, &e) == 0)
			(*sent)++;
		else if (e.errnum != ESRCH && e.kind != VS_E_INVALID) {
			*err = e;
			return -1;
		}
	}
	return 0;
}
