/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource limits (vserver(8) LIMITS): parsing the limits/ schema and the
 * util-vserver keys that map onto it, writing them into the guest's
 * cgroup (v2 or v1, per controller), the per-process ulimits and ionice,
 * and live changes of a running guest. */
#include "reslimits.h"
#include "cgroup.h"
#include "config.h"
#include "lock.h"
#include "safeio.h"
#include "state.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (UINT64_C(1) << 20)
/* Below this even a busybox init and a shell get OOM-killed while
 * starting: refuse rather than start a guest that cannot boot. */
#define MEMORY_FLOOR (16 * MIB)
#define PIDS_FLOOR 8
#define PIDS_CEIL UINT64_C(4194304)  /* PID_MAX_LIMIT: pids.max refuses more */
#define SIZE_CEIL UINT64_C(9223372036854775807) /* the memory controller parses a signed 64-bit value */
#define WEIGHT_MIN 1
#define WEIGHT_MAX 10000
#define QUOTA_MIN 1000             /* cpu.max: the kernel's minimum quota and period, 1 ms */
#define PERIOD_MIN 1000
#define PERIOD_MAX 1000000         /* ... and its maximum period, 1 s */
#define PERIOD_DEFAULT 100000
#define QUOTA_MAX_CPUS 4096        /* a quota of more CPUs than this is a typo */
#define TOKEN_US 1000              /* sched/tokens-max: a token is one 1 ms tick */
#define CPU_LIST_MAX 8192

/* ---- numbers ------------------------------------------------------------- */

struct suffix {
	char c;
	uint64_t mul;
};
/* limits/: the schema's one suffix table (upper case only, powers of 1024) */
static const struct suffix size_suffixes[] = {
	{ 'K', UINT64_C(1) << 10 }, { 'M', UINT64_C(1) << 20 }, { 'G', UINT64_C(1) << 30 }, { 'T', UINT64_C(1) << 40 },
};
/* rlimits/ and ulimits/: util-vserver's own syntax (exec-ulimit, vlimit) */
static const struct suffix uv_suffixes[] = {
	{ 'K', 1024 }, { 'M', 1048576 }, { 'k', 1000 }, { 'm', 1000000 },
};

enum { NUM_OK = 0, NUM_SYNTAX = -1, NUM_RANGE = -2 };

/* Decimal digits (vs_parse_u64's rules) with at most one suffix of the
 * table; the multiplication is overflow checked. */
static int parse_suffixed(const char *s, const struct suffix *t, size_t nt, uint64_t *out)
{
	size_t len = strlen(s);
	uint64_t mul = 1;
	for (size_t i = 0; len > 1 && i < nt; i++)
		if (s[len - 1] == t[i].c) {
			mul = t[i].mul;
			len--;
			break;
		}
	char buf[32];
	if (!len || strspn(s, "0123456789") != len)
		return NUM_SYNTAX;
	if (len >= sizeof buf)
		return s[0] == '0' ? NUM_SYNTAX : NUM_RANGE;
	memcpy(buf, s, len);
	buf[len] = 0;
	uint64_t v;
	if (vs_parse_u64(buf, &v) < 0)
		return errno == ERANGE ? NUM_RANGE : NUM_SYNTAX;
	if (v > UINT64_MAX / mul)
		return NUM_RANGE;
	*out = v * mul;
	return NUM_OK;
}

int vs_parse_size(const char *s, uint64_t *out)
{
	return parse_suffixed(s, size_suffixes, VS_ARRAY_SIZE(size_suffixes), out) == NUM_OK ? 0 : -1;
}

/* Why a number was refused: a hint for the usual mistakes. */
static const char *hint(const char *v)
{
	static const char *const unlimited[] = { "inf", "infinity", "unlimited", "-1", "none", "MAX", "Max" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(unlimited); i++)
		if (!strcmp(v, unlimited[i]))
			return " (the only spelling for no limit is max)";
	if (strpbrk(v, " \t"))
		return " (no blanks)";
	if (v[0] == '-' || v[0] == '+')
		return " (no sign)";
	size_t n = strlen(v);
	if (n > 1 && strchr("kmgt", v[n - 1]) && strspn(v, "0123456789") == n - 1)
		return " (suffixes are upper case K, M, G, T: powers of 1024)";
	if (strpbrk(v, "eE."))
		return " (no exponents or fractions)";
	if (v[0] == '0' && n > 1)
		return " (no leading zeros)";
	return "";
}

static void fmt_u64(char *b, size_t n, uint64_t v, const char *max)
{
	if (v == VS_LIMIT_MAX)
		snprintf(b, n, "%s", max);
	else
		snprintf(b, n, "%" PRIu64, v);
}

enum numkind { N_SIZE, N_COUNT };

/* A limits/ value: a number (sizes with an optional suffix) or, when
 * allowed, max. */
static int parse_schema(const char *v, enum numkind kind, bool allow_max, uint64_t ceil, uint64_t *out, vs_err *e)
{
	_cleanup_free_ char *shown = vs_escape(v);
	if (!strcmp(v, "max")) {
		if (allow_max) {
			*out = VS_LIMIT_MAX;
			return 0;
		}
		return vs_fail(e, VS_E_INVALID, 0, "'max' is not allowed here: a number is required");
	}
	uint64_t x = 0;
	int r = kind == N_SIZE ? parse_suffixed(v, size_suffixes, VS_ARRAY_SIZE(size_suffixes), &x)
			       : parse_suffixed(v, NULL, 0, &x);
	if (r == NUM_RANGE || (r == NUM_OK && x > ceil))
		return vs_fail(e, VS_E_INVALID, 0, "'%s' is too large: at most %" PRIu64 "%s", shown, ceil,
			       allow_max ? " (write max for no limit)" : "");
	if (r == NUM_SYNTAX)
		return vs_fail(e, VS_E_INVALID, 0, "'%s' is not allowed%s: write %s%s", shown, hint(v),
			       kind == N_SIZE ? "a number of bytes (digits, no sign, blanks or leading zeros), "
						"optionally with one suffix K, M, G or T (x1024)"
					      : "a decimal number (digits, no sign, blanks, suffix or leading zeros)",
			       allow_max ? ", or max for no limit" : "");
	*out = x;
	return 0;
}

/* rlimits/ and ulimits/: an integer, "inf", K/M (x1024) or k/m (x1000). */
static int parse_uv(const char *v, uint64_t *out, vs_err *e)
{
	_cleanup_free_ char *shown = vs_escape(v);
	if (!strcmp(v, "inf")) {
		*out = VS_LIMIT_MAX;
		return 0;
	}
	int r = parse_suffixed(v, uv_suffixes, VS_ARRAY_SIZE(uv_suffixes), out);
	if (r == NUM_RANGE)
		return vs_fail(e, VS_E_INVALID, 0, "'%s' is too large for 64 bits (write inf for no limit)", shown);
	if (r == NUM_SYNTAX)
		return vs_fail(e, VS_E_INVALID, 0,
			       "'%s' is not allowed: util-vserver's syntax is an integer (no sign, blanks or leading "
			       "zeros), optionally with K or M (x1024) or k or m (x1000), or inf for no limit", shown);
	return 0;
}

/* ---- resources of the schema ----------------------------------------------- */

enum res {
	R_MEMORY, R_MEMORY_HIGH, R_MEMORY_LOW, R_SWAP, R_PIDS, R_CPU_WEIGHT, R_CPU_MAX,
	R_CPUSET_CPUS, R_CPUSET_MEMS, R_IO_WEIGHT, R_IO_MAX, R__COUNT,
};

/* name (limits/NAME and the limit command's RESOURCE), the source string
 * of values from limits/, v2 controller, and the file whose presence
 * marks the v1 hierarchy of that controller */
static const struct res_desc {
	const char *name, *key, *ctrl, *v1_marker;
} res_tab[R__COUNT] = {
	[R_MEMORY] = { "memory", "limits/memory", "memory", "memory.limit_in_bytes" },
	[R_MEMORY_HIGH] = { "memory.high", "limits/memory.high", "memory", "memory.limit_in_bytes" },
	[R_MEMORY_LOW] = { "memory.low", "limits/memory.low", "memory", "memory.limit_in_bytes" },
	[R_SWAP] = { "swap", "limits/swap", "memory", "memory.limit_in_bytes" },
	[R_PIDS] = { "pids", "limits/pids", "pids", "pids.max" },
	[R_CPU_WEIGHT] = { "cpu.weight", "limits/cpu.weight", "cpu", "cpu.shares" },
	[R_CPU_MAX] = { "cpu.max", "limits/cpu.max", "cpu", "cpu.shares" },
	[R_CPUSET_CPUS] = { "cpuset.cpus", "limits/cpuset.cpus", "cpuset", "cpuset.cpus" },
	[R_CPUSET_MEMS] = { "cpuset.mems", "limits/cpuset.mems", "cpuset", "cpuset.cpus" },
	[R_IO_WEIGHT] = { "io.weight", "limits/io.weight", "io", "blkio.reset_stats" },
	[R_IO_MAX] = { "io.max", "limits/io.max", "io", "blkio.reset_stats" },
};

const char *const vs_limit_resources[] = {
	"memory", "memory.high", "memory.low", "swap", "pids", "cpu.weight", "cpu.max",
	"cpuset.cpus", "cpuset.mems", "io.weight", NULL,
};

static int res_from_name(const char *n)
{
	for (int i = 0; i < R__COUNT; i++)
		if (!strcmp(res_tab[i].name, n))
			return i;
	return -1;
}

static struct vs_limit *res_limit(struct vs_limits *l, int r)
{
	switch (r) {
	case R_MEMORY: return &l->memory;
	case R_MEMORY_HIGH: return &l->memory_high;
	case R_MEMORY_LOW: return &l->memory_low;
	case R_SWAP: return &l->swap;
	case R_PIDS: return &l->pids;
	case R_CPU_WEIGHT: return &l->cpu_weight;
	case R_CPU_MAX: return &l->cpu_quota;
	case R_IO_WEIGHT: return &l->io_weight;
	default: return NULL;
	}
}

static bool res_is_set(const struct vs_limits *l, int r)
{
	switch (r) {
	case R_CPUSET_CPUS: return l->cpuset_cpus != NULL;
	case R_CPUSET_MEMS: return l->cpuset_mems != NULL;
	case R_IO_MAX: return l->n_io_max > 0;
	default: return res_limit((struct vs_limits *)l, r)->set;
	}
}

/* Where a resource's value came from (for diagnostics and the limit
 * command); NULL if unset. */
static const char *res_source(const struct vs_limits *l, int r)
{
	if (!res_is_set(l, r))
		return NULL;
	const struct vs_limit *x = res_limit((struct vs_limits *)l, r);
	return x && x->source ? x->source : res_tab[r].key;
}

/* Floors below which a guest cannot start. */
static int check_floor(int r, uint64_t v, const char *shown, vs_err *e)
{
	if (v == VS_LIMIT_MAX)
		return 0;
	if ((r == R_MEMORY || r == R_MEMORY_HIGH) && v < MEMORY_FLOOR)
		return vs_fail(e, VS_E_INVALID, 0,
			       "%s %s (%" PRIu64 " bytes) is below 16M (%" PRIu64 " bytes): "
			       "the guest's init cannot start",
			       res_tab[r].name, shown, v, MEMORY_FLOOR);
	if (r == R_PIDS && v < PIDS_FLOOR)
		return vs_fail(e, VS_E_INVALID, 0,
			       "pids %s is below %d: the guest's init cannot start with so few processes "
			       "(allowed: %d..%" PRIu64 " or max)", shown, PIDS_FLOOR, PIDS_FLOOR, PIDS_CEIL);
	if ((r == R_CPU_WEIGHT || r == R_IO_WEIGHT) && (v < WEIGHT_MIN || v > WEIGHT_MAX))
		return vs_fail(e, VS_E_INVALID, 0, "%s %s is not allowed: %d..%d (default 100)", res_tab[r].name, shown,
			       WEIGHT_MIN, WEIGHT_MAX);
	return 0;
}

static void diag(struct vs_diags *d, const char *file, int line, const vs_err *e)
{
	vs_diags_add(d, file, line, "%s", e->msg);
}

/* Store a value unless another file set it already. */
static void set_limit(struct vs_limits *l, int r, uint64_t v, const char *source, int line, const char *key,
		      struct vs_diags *d)
{
	struct vs_limit *x = res_limit(l, r);
	if (x->set) {
		vs_diags_add(d, key, line, "%s is already set by %s (line %d): keep one of them", res_tab[r].name,
			     x->source ? x->source : res_tab[r].key, x->line);
		return;
	}
	*x = (struct vs_limit){ .set = true, .v = v, .line = line, .source = source };
}

/* "0-3,5": CPU or memory-node numbers and ranges, ascending within a range. */
static int parse_cpu_list(const char *v, vs_err *e)
{
	_cleanup_free_ char *shown = vs_escape(v);
	const char *p = v;
	if (strlen(v) > CPU_LIST_MAX)
		return vs_fail(e, VS_E_INVALID, 0, "list is %zu characters long, at most %d allowed", strlen(v),
			       CPU_LIST_MAX);
	for (;;) {
		char num[16];
		uint64_t a, b;
		size_t n = strspn(p, "0123456789");
		if (!n || n >= sizeof num)
			goto bad;
		memcpy(num, p, n);
		num[n] = 0;
		if (vs_parse_u64(num, &a) < 0 || a > 65535)
			goto bad;
		p += n;
		b = a;
		if (*p == '-') {
			p++;
			n = strspn(p, "0123456789");
			if (!n || n >= sizeof num)
				goto bad;
			memcpy(num, p, n);
			num[n] = 0;
			if (vs_parse_u64(num, &b) < 0 || b > 65535 || b < a)
				goto bad;
			p += n;
		}
		if (!*p)
			return 0;
		if (*p != ',')
			goto bad;
		p++;
	}
bad:
	return vs_fail(e, VS_E_INVALID, 0,
		       "'%s' is not a list: numbers and ranges separated by commas, e.g. 0-1,3 (no blanks)", shown);
}

/* "QUOTA PERIOD", "max PERIOD", "QUOTA" or "max" (period 100000 us). */
static int parse_cpu_max(const char *v, uint64_t *quota, uint64_t *period, vs_err *e)
{
	_cleanup_free_ char *shown = vs_escape(v);
	const char *sp = strchr(v, ' ');
	_cleanup_free_ char *q = sp ? strndup(v, (size_t)(sp - v)) : vs_strdup(v);
	*period = PERIOD_DEFAULT;
	if (!q || strchr(v, '\t') || (sp && strchr(sp + 1, ' ')))
		return vs_fail(e, VS_E_INVALID, 0,
			       "'%s' is not allowed: write QUOTA PERIOD in microseconds separated by one space, "
			       "e.g. '50000 100000' for half a CPU, or max [PERIOD]", shown);
	vs_err e2;
	if (sp) {
		if (parse_schema(sp + 1, N_COUNT, false, UINT64_MAX, period, &e2) < 0)
			return vs_fail(e, VS_E_INVALID, 0, "cpu.max period: %s", e2.msg);
		if (*period < PERIOD_MIN || *period > PERIOD_MAX)
			return vs_fail(e, VS_E_INVALID, 0, "cpu.max period %" PRIu64 " us is not allowed: %d..%d us",
				       *period, PERIOD_MIN, PERIOD_MAX);
	}
	if (parse_schema(q, N_COUNT, true, UINT64_MAX, quota, &e2) < 0)
		return vs_fail(e, VS_E_INVALID, 0, "cpu.max quota: %s", e2.msg);
	if (*quota != VS_LIMIT_MAX && *quota < QUOTA_MIN)
		return vs_fail(e, VS_E_INVALID, 0,
			       "cpu.max quota %" PRIu64 " us is below %d us: the kernel refuses it (and the guest "
			       "could hardly run)", *quota, QUOTA_MIN);
	if (*quota != VS_LIMIT_MAX && *quota / *period >= QUOTA_MAX_CPUS)
		return vs_fail(e, VS_E_INVALID, 0, "cpu.max quota %" PRIu64 " us is more than %d CPUs' worth of the "
			       "period %" PRIu64 " us", *quota, QUOTA_MAX_CPUS, *period);
	return 0;
}

/* One io.max line: "MAJ:MIN [rbps=N] [wbps=N] [riops=N] [wiops=N]". */
static int parse_io_line(const char *v, struct vs_io_max *m, vs_err *e)
{
	_cleanup_free_ char *shown = vs_escape(v);
	_cleanup_free_ char *copy = vs_strdup(v);
	*m = (struct vs_io_max){ .rbps = VS_LIMIT_MAX, .wbps = VS_LIMIT_MAX, .riops = VS_LIMIT_MAX,
				 .wiops = VS_LIMIT_MAX };
	char *save = NULL;
	char *dev = strtok_r(copy, " ", &save);
	char *colon = dev ? strchr(dev, ':') : NULL;
	uint64_t maj, min;
	if (!colon || (*colon = 0, vs_parse_u64(dev, &maj) < 0) || vs_parse_u64(colon + 1, &min) < 0 || maj > 4095 ||
	    min > 1048575)
		return vs_fail(e, VS_E_INVALID, 0,
			       "'%s' is not allowed: write MAJ:MIN [rbps=N] [wbps=N] [riops=N] [wiops=N], e.g. "
			       "'8:0 wbps=10M' (a block device number, see lsblk)", shown);
	m->major = (unsigned)maj;
	m->minor = (unsigned)min;
	static const char *const names[] = { "rbps", "wbps", "riops", "wiops" };
	uint64_t *dst[] = { &m->rbps, &m->wbps, &m->riops, &m->wiops };
	bool seen[4] = { false };
	int n = 0;
	for (char *t = strtok_r(NULL, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		size_t k = VS_ARRAY_SIZE(names);
		if (eq) {
			*eq = 0;
			for (k = 0; k < VS_ARRAY_SIZE(names) && strcmp(names[k], t); k++)
				;
		}
		if (k == VS_ARRAY_SIZE(names))
			return vs_fail(e, VS_E_INVALID, 0,
				       "'%s': unknown field '%s' (allowed: rbps, wbps, riops, wiops)", shown, t);
		if (seen[k])
			return vs_fail(e, VS_E_INVALID, 0, "'%s': %s is given twice", shown, names[k]);
		seen[k] = true;
		vs_err e2;
		if (parse_schema(eq + 1, k < 2 ? N_SIZE : N_COUNT, true, SIZE_CEIL, dst[k], &e2) < 0)
			return vs_fail(e, VS_E_INVALID, 0, "%s: %s", names[k], e2.msg);
		if (*dst[k] == 0)
			return vs_fail(e, VS_E_INVALID, 0, "%s=0 would stop all I/O of the guest on %u:%u", names[k],
				       m->major, m->minor);
		n++;
	}
	if (!n)
		return vs_fail(e, VS_E_INVALID, 0, "'%s': no limit given (rbps=, wbps=, riops= or wiops=)", shown);
	return 0;
}

/* limits/NAME */
static void parse_schema_key(struct vs_limits *l, int r, const char *v, int line, const char *key,
			     struct vs_diags *d)
{
	vs_err e;
	_cleanup_free_ char *shown = vs_escape(v);
	uint64_t x;
	switch (r) {
	case R_MEMORY:
	case R_MEMORY_HIGH:
	case R_MEMORY_LOW:
	case R_SWAP:
		if (parse_schema(v, N_SIZE, true, SIZE_CEIL, &x, &e) < 0 || check_floor(r, x, shown, &e) < 0)
			return diag(d, key, line, &e);
		set_limit(l, r, x, res_tab[r].key, line, key, d);
		return;
	case R_PIDS:
		if (parse_schema(v, N_COUNT, true, PIDS_CEIL, &x, &e) < 0 || check_floor(r, x, shown, &e) < 0)
			return diag(d, key, line, &e);
		set_limit(l, r, x, res_tab[r].key, line, key, d);
		return;
	case R_CPU_WEIGHT:
	case R_IO_WEIGHT:
		if (parse_schema(v, N_COUNT, false, UINT64_MAX, &x, &e) < 0 || check_floor(r, x, shown, &e) < 0)
			return diag(d, key, line, &e);
		set_limit(l, r, x, res_tab[r].key, line, key, d);
		return;
	case R_CPU_MAX: {
		uint64_t q, p;
		if (parse_cpu_max(v, &q, &p, &e) < 0)
			return diag(d, key, line, &e);
		if (l->cpu_quota.set) {
			vs_diags_add(d, key, line, "cpu.max is already set by %s (line %d): keep one of them",
				     l->cpu_quota.source, l->cpu_quota.line);
			return;
		}
		l->cpu_quota = (struct vs_limit){ .set = true, .v = q, .line = line, .source = res_tab[r].key };
		l->cpu_period = (struct vs_limit){ .set = true, .v = p, .line = line, .source = res_tab[r].key };
		return;
	}
	case R_CPUSET_CPUS:
	case R_CPUSET_MEMS: {
		char **dst = r == R_CPUSET_CPUS ? &l->cpuset_cpus : &l->cpuset_mems;
		if (parse_cpu_list(v, &e) < 0)
			return diag(d, key, line, &e);
		free(*dst);
		*dst = vs_strdup(v);
		return;
	}
	case R_IO_MAX: {
		struct vs_io_max m;
		if (parse_io_line(v, &m, &e) < 0)
			return diag(d, key, line, &e);
		for (size_t i = 0; i < l->n_io_max; i++)
			if (l->io_max[i].major == m.major && l->io_max[i].minor == m.minor) {
				vs_diags_add(d, key, line, "device %u:%u is listed twice", m.major, m.minor);
				return;
			}
		struct vs_io_max *n = realloc(l->io_max, (l->n_io_max + 1) * sizeof *n);
		if (!n)
			abort();
		l->io_max = n;
		l->io_max[l->n_io_max++] = m;
		return;
	}
	}
}

/* ---- util-vserver keys ------------------------------------------------------ */

/* rlimits/ that map onto the schema (the rest stays refused by the
 * configuration loader with the reason); rss is in pages. */
static const struct {
	const char *key;
	int res;
	bool pages;
} rlimit_keys[] = {
	{ "rlimits/rss", R_MEMORY, true },      { "rlimits/rss.hard", R_MEMORY, true },
	{ "rlimits/rss.soft", R_MEMORY_HIGH, true }, { "rlimits/rss.min", R_MEMORY_LOW, true },
	{ "rlimits/nproc", R_PIDS, false },     { "rlimits/nproc.hard", R_PIDS, false },
};

static void parse_rlimit(struct vs_limits *l, size_t k, const char *v, int line, struct vs_diags *d)
{
	const char *key = rlimit_keys[k].key;
	int r = rlimit_keys[k].res;
	vs_err e;
	uint64_t x;
	_cleanup_free_ char *shown = vs_escape(v);
	if (parse_uv(v, &x, &e) < 0)
		return diag(d, key, line, &e);
	if (x != VS_LIMIT_MAX && rlimit_keys[k].pages) {
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
		if (x > SIZE_CEIL / page) {
			vs_diags_add(d, key, line, "'%s' pages is too large: at most %" PRIu64 " (or inf)", shown,
				     SIZE_CEIL / page);
			return;
		}
		x *= page;
	}
	if (x != VS_LIMIT_MAX && r == R_PIDS && x > PIDS_CEIL) {
		vs_diags_add(d, key, line, "'%s' is too large: at most %" PRIu64 " processes (or inf)", shown,
			     PIDS_CEIL);
		return;
	}
	if (check_floor(r, x, shown, &e) < 0) {
		vs_diags_add(d, key, line, "%s%s", e.msg, rlimit_keys[k].pages ? " (rlimits/rss counts pages)" : "");
		return;
	}
	set_limit(l, r, x, key, line, key, d);
}

static const struct {
	const char *name;
	int res;
} ulimit_tab[] = {
	{ "as", RLIMIT_AS },         { "core", RLIMIT_CORE },     { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },     { "fsize", RLIMIT_FSIZE },   { "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },   { "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO }, { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

const char *vs_ulimit_name(int res)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(ulimit_tab); i++)
		if (ulimit_tab[i].res == res)
			return ulimit_tab[i].name;
	return "?";
}

/* ulimits/RES, RES.soft, RES.hard */
static void parse_ulimit(struct vs_limits *l, const char *key, const char *v, int line, struct vs_diags *d)
{
	const char *n = key + strlen("ulimits/");
	const char *dot = strchr(n, '.');
	size_t nl = dot ? (size_t)(dot - n) : strlen(n);
	bool soft = !dot, hard = !dot;
	if (dot && !strcmp(dot, ".soft"))
		soft = true;
	else if (dot && !strcmp(dot, ".hard"))
		hard = true;
	size_t k;
	for (k = 0; k < VS_ARRAY_SIZE(ulimit_tab); k++)
		if (strlen(ulimit_tab[k].name) == nl && !strncmp(ulimit_tab[k].name, n, nl))
			break;
	if (k == VS_ARRAY_SIZE(ulimit_tab) || (!soft && !hard)) {
		vs_diags_add(d, key, 0,
			     "unknown ulimit; files are RES, RES.soft or RES.hard with RES one of as, core, cpu, data, "
			     "fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, sigpending, stack");
		return;
	}
	vs_err e;
	uint64_t x;
	if (parse_uv(v, &x, &e) < 0)
		return diag(d, key, line, &e);
	struct vs_ulimit *u = NULL;
	for (size_t i = 0; i < l->n_ulimits; i++)
		if (l->ulimits[i].resource == ulimit_tab[k].res)
			u = &l->ulimits[i];
	if (u && ((soft && u->has_soft) || (hard && u->has_hard))) {
		vs_diags_add(d, key, line, "the %s limit of %s is already set by another ulimits/%s file: keep one",
			     soft && hard ? "soft and hard" : soft ? "soft" : "hard", ulimit_tab[k].name,
			     ulimit_tab[k].name);
		return;
	}
	uint64_t s = soft ? x : u && u->has_soft ? u->soft : 0, h = hard ? x : u && u->has_hard ? u->hard : 0;
	if ((soft || (u && u->has_soft)) && (hard || (u && u->has_hard)) && s > h) {
		char sb[32], hb[32];
		fmt_u64(sb, sizeof sb, s, "inf");
		fmt_u64(hb, sizeof hb, h, "inf");
		vs_diags_add(d, key, line,
			     "the soft limit of %s (%s) is above its hard limit (%s): soft <= hard is required",
			     ulimit_tab[k].name, sb, hb);
		return;
	}
	if (!u) {
		struct vs_ulimit *nu = realloc(l->ulimits, (l->n_ulimits + 1) * sizeof *nu);
		if (!nu)
			abort();
		l->ulimits = nu;
		u = &l->ulimits[l->n_ulimits++];
		*u = (struct vs_ulimit){ .resource = ulimit_tab[k].res };
	}
	if (soft) {
		u->has_soft = true;
		u->soft = x;
	}
	if (hard) {
		u->has_hard = true;
		u->hard = x;
	}
}

static void parse_ionice(struct vs_limits *l, const char *key, const char *v, int line, struct vs_diags *d)
{
	_cleanup_free_ char *shown = vs_escape(v);
	uint64_t x;
	if (!strcmp(key, "ionice/class")) {
		static const char *const names[] = { "none", "realtime", "best-effort", "idle" };
		int c = -1;
		if (vs_parse_u64(v, &x) == 0 && x <= 3)
			c = (int)x;
		for (int i = 0; i < 4 && c < 0; i++)
			if (!strcmp(v, names[i]))
				c = i;
		if (c < 0) {
			vs_diags_add(d, key, line, "I/O class '%s' is not allowed: 1 (realtime), 2 (best-effort), "
				     "3 (idle), or 0 (none: the default)", shown);
			return;
		}
		l->ionice_class = c;
	} else {
		if (vs_parse_u64(v, &x) < 0 || x > 7) {
			vs_diags_add(d, key, line, "I/O priority '%s' is not allowed: 0 (highest) .. 7 (lowest)",
				     shown);
			return;
		}
		l->ionice_prio = (int)x;
		l->ionice_prio_set = true;
	}
}

/* util-vserver's badness (vmemctrl --badness, the context's OOM bias) is
 * the guest's oom_score_adj on a stock kernel. */
static void parse_badness(struct vs_limits *l, const char *key, const char *v, int line, struct vs_diags *d)
{
	int64_t x;
	if (vs_parse_i64(v, &x) < 0 || x < -1000 || x > 1000) {
		_cleanup_free_ char *shown = vs_escape(v);
		vs_diags_add(d, key, line,
			     "badness '%s' is not allowed: an integer -1000 (never OOM-killed) .. 1000 (killed first), "
			     "the guest's oom_score_adj",
			     shown);
		return;
	}
	l->oom_score_adj = (int)x;
	l->oom_score_adj_set = true;
}

static void parse_sched(struct vs_limits *l, const char *key, const char *v, int line, struct vs_diags *d)
{
	_cleanup_free_ char *shown = vs_escape(v);
	uint64_t x;
	struct vs_limit *dst = !strcmp(key, "sched/fill-rate") ? &l->sched_fill_rate
			       : !strcmp(key, "sched/interval") ? &l->sched_interval : &l->sched_tokens_max;
	bool zero_ok = dst == &l->sched_tokens_max;
	if (vs_parse_u64(v, &x) < 0 || (!zero_ok && x == 0) || x > UINT32_MAX) {
		vs_diags_add(d, key, line, "'%s' is not allowed: a decimal number %d..%" PRIu32 "%s", shown,
			     zero_ok ? 0 : 1, UINT32_MAX, hint(v));
		return;
	}
	const char *src = dst == &l->sched_fill_rate ? "sched/fill-rate"
			  : dst == &l->sched_interval ? "sched/interval" : "sched/tokens-max";
	*dst = (struct vs_limit){ .set = true, .v = x, .line = line, .source = src };
}

/* cgroup/FILE: written verbatim into the hierarchy of its prefix; only
 * resource knobs, never the files vserver itself manages. */
static const struct {
	const char *prefix, *v2ctrl, *v1_marker;
} verbatim_tab[] = {
	{ "memory.", "memory", "memory.limit_in_bytes" }, { "cpu.", "cpu", "cpu.shares" },
	{ "cpuset.", "cpuset", "cpuset.cpus" },          { "pids.", "pids", "pids.max" },
	{ "io.", "io", NULL },                           { "blkio.", NULL, "blkio.reset_stats" },
	{ "hugetlb.", "hugetlb", NULL },
};

static int verbatim_kind(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbatim_tab); i++)
		if (vs_str_startswith(name, verbatim_tab[i].prefix) && name[strlen(verbatim_tab[i].prefix)])
			return (int)i;
	return -1;
}

static void parse_verbatim(struct vs_limits *l, const char *key, const char *v, int line, struct vs_diags *d)
{
	const char *n = key + strlen("cgroup/");
	if (!strcmp(n, "name")) {
		vs_diags_add(d, key, 0, "not supported: the guest's cgroup is always PARENT/NAME (settings "
			     "cgroup_parent); remove the file");
		return;
	}
	if (strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(n) || verbatim_kind(n) < 0 ||
	    strstr(n, "..")) {
		vs_diags_add(d, key, 0, "'%s' is not a resource control file vserver writes: allowed are files "
			     "starting with memory., cpu., cpuset., pids., io., blkio. or hugetlb. (cgroup.*, "
			     "devices.*, tasks and the like are vserver's own)", n);
		return;
	}
	for (size_t i = 0; i < l->n_verbatim; i++)
		if (!strcmp(l->verbatim[i].name, n)) {
			vs_diags_add(d, key, line, "'%s' is given twice", n);
			return;
		}
	struct vs_cgroup_file *nv = realloc(l->verbatim, (l->n_verbatim + 1) * sizeof *nv);
	if (!nv)
		abort();
	l->verbatim = nv;
	l->verbatim[l->n_verbatim++] = (struct vs_cgroup_file){ .name = vs_strdup(n), .value = vs_strdup(v) };
}

void vs_limits_parse_key(struct vs_limits *l, const char *key, const char *value, int line, struct vs_diags *d)
{
	size_t n = strlen(value);
	_cleanup_free_ char *shown = vs_escape(value);
	if (n && (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' || value[n - 1] == '\t')) {
		vs_diags_add(d, key, line, "value '%s' has leading or trailing blanks", shown);
		return;
	}
	if (!n) {
		vs_diags_add(d, key, line, "empty value");
		return;
	}
	if (vs_str_startswith(key, "limits/")) {
		int r = res_from_name(key + strlen("limits/"));
		if (r < 0)
			vs_diags_add(d, key, 0, "unknown limit (allowed: memory, memory.high, memory.low, swap, pids, "
				     "cpu.weight, cpu.max, cpuset.cpus, cpuset.mems, io.weight, io.max)");
		else
			parse_schema_key(l, r, value, line, key, d);
		return;
	}
	for (size_t k = 0; k < VS_ARRAY_SIZE(rlimit_keys); k++)
		if (!strcmp(key, rlimit_keys[k].key))
			return parse_rlimit(l, k, value, line, d);
	if (vs_str_startswith(key, "ulimits/"))
		return parse_ulimit(l, key, value, line, d);
	if (!strcmp(key, "ionice/class") || !strcmp(key, "ionice/priority"))
		return parse_ionice(l, key, value, line, d);
	if (!strcmp(key, "badness"))
		return parse_badness(l, key, value, line, d);
	if (!strcmp(key, "sched/fill-rate") || !strcmp(key, "sched/interval") || !strcmp(key, "sched/tokens-max"))
		return parse_sched(l, key, value, line, d);
	if (vs_str_startswith(key, "cgroup/"))
		return parse_verbatim(l, key, value, line, d);
	vs_diags_add(d, key, 0, "not a limits key");
}

/* Checks across keys (also for the limit command's new value). */
static void check_cross(const struct vs_limits *l, bool memory_v1, struct vs_diags *d)
{
	const struct vs_limit *m = &l->memory;
	bool mem_finite = m->set && m->v != VS_LIMIT_MAX;
	const struct vs_limit *h = &l->memory_high, *lo = &l->memory_low;
	if (h->set && h->v != VS_LIMIT_MAX && mem_finite && h->v > m->v)
		vs_diags_add(d, h->source, h->line,
			     "memory.high %" PRIu64 " is above memory %" PRIu64 " (%s): the soft limit must not exceed "
			     "the hard limit", h->v, m->v, m->source);
	if (lo->set && lo->v != VS_LIMIT_MAX && mem_finite && lo->v > m->v)
		vs_diags_add(d, lo->source, lo->line,
			     "memory.low %" PRIu64 " is above memory %" PRIu64 " (%s): protection cannot exceed the "
			     "limit", lo->v, m->v, m->source);
	if (memory_v1 && lo->set)
		vs_diags_add(d, lo->source, lo->line,
			     "this host's memory controller is cgroup v1, which has no memory protection "
			     "(memory.low is cgroup v2 only): remove it");
	if (memory_v1 && l->swap.set && l->swap.v != VS_LIMIT_MAX && !mem_finite)
		vs_diags_add(d, l->swap.source, l->swap.line,
			     "this host's memory controller is cgroup v1: swap is limited through "
			     "memory.memsw.limit_in_bytes = memory + swap, which needs a memory limit "
			     "(set limits/memory)");
	if (l->cpu_burst.set && l->cpu_quota.set && l->cpu_quota.v != VS_LIMIT_MAX && l->cpu_burst.v > l->cpu_quota.v)
		vs_diags_add(d, l->cpu_burst.source, l->cpu_burst.line,
			     "a burst of %" PRIu64 " us is above the quota of %" PRIu64 " us per period: the kernel "
			     "refuses it", l->cpu_burst.v, l->cpu_quota.v);
}

void vs_limits_finish(struct vs_limits *l, bool memory_v1, struct vs_diags *d)
{
	const struct vs_limit *fr = &l->sched_fill_rate, *iv = &l->sched_interval, *tm = &l->sched_tokens_max;
	if (fr->set != iv->set) {
		const struct vs_limit *x = fr->set ? fr : iv;
		vs_diags_add(d, x->source, x->line, "sched/fill-rate and sched/interval go together: the CPU share "
			     "is fill-rate/interval (e.g. 1 and 4 for a quarter of a CPU)");
	} else if (fr->set) {
		uint64_t q = fr->v * PERIOD_DEFAULT / iv->v; /* both < 2^32: no overflow */
		if (l->cpu_quota.set)
			vs_diags_add(d, fr->source, fr->line,
				     "the CPU cap is already set by %s (line %d): keep one of them",
				     l->cpu_quota.source, l->cpu_quota.line);
		else if (q < QUOTA_MIN)
			vs_diags_add(d, fr->source, fr->line,
				     "fill-rate/interval %" PRIu64 "/%" PRIu64 " is below 1%% of a CPU (cpu.max quota "
				     "%d us per %d us): the kernel refuses it", fr->v, iv->v, QUOTA_MIN,
				     PERIOD_DEFAULT);
		else if (q / PERIOD_DEFAULT >= QUOTA_MAX_CPUS)
			vs_diags_add(d, fr->source, fr->line, "fill-rate/interval %" PRIu64 "/%" PRIu64 " is more than "
				     "%d CPUs", fr->v, iv->v, QUOTA_MAX_CPUS);
		else {
			l->cpu_quota = (struct vs_limit){ .set = true, .v = q, .line = fr->line, .source = fr->source };
			l->cpu_period = (struct vs_limit){ .set = true, .v = PERIOD_DEFAULT, .line = fr->line,
							   .source = fr->source };
		}
	}
	if (tm->set) {
		if (!fr->set || !iv->set)
			vs_diags_add(d, tm->source, tm->line,
				     "sched/tokens-max needs sched/fill-rate and sched/interval");
		else if (l->cpu_quota.set)
			l->cpu_burst = (struct vs_limit){ .set = true, .v = tm->v * TOKEN_US, .line = tm->line,
							  .source = tm->source };
	}
	check_cross(l, memory_v1, d);
}

bool vs_limits_host_memory_v1(const char *root)
{
	int mode;
	vs_err e;
	_cleanup_free_ char *p = vs_asprintf("%s/memory", root);
	struct stat st;
	return vs_cgroup_detect(root, &mode, &e) == 0 && mode == VS_CG_HYBRID && stat(p, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

void vs_limits_free(struct vs_limits *l)
{
	free(l->cpuset_cpus);
	free(l->cpuset_mems);
	free(l->io_max);
	for (size_t i = 0; i < l->n_verbatim; i++) {
		free(l->verbatim[i].name);
		free(l->verbatim[i].value);
	}
	free(l->verbatim);
	free(l->ulimits);
	memset(l, 0, sizeof *l);
}

/* ---- writing the cgroup files ---------------------------------------------- */

/* What a live change wrote, to put back when a later step fails. */
struct journal {
	struct jent {
		char *path, *old;
	} *e;
	size_t n;
};

static void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->e[i].path);
		free(j->e[i].old);
	}
	free(j->e);
	j->e = NULL;
	j->n = 0;
}

static int write_path(const char *p, const char *const *vals, size_t n, const char *key, vs_err *err)
{
	/* no O_CREAT: only control files the kernel offers are written (a
	 * cgroup file system would refuse to create one anyway) */
	_cleanup_close_ int fd = open(p, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return vs_fail(err, VS_E_SYSTEM, 0,
				       "%s: %s does not exist (the kernel lacks this control file)", key, p);
		return vs_fail(err, VS_E_SYSTEM, errno, "%s: %s", key, p);
	}
	for (size_t i = 0; i < n; i++) {
		int r = vs_write_value(fd, vals[i]);
		if (r < 0)
			return vs_fail(err, VS_E_SYSTEM, errno, "%s: the kernel refused '%.*s' in %s", key,
				       (int)strcspn(vals[i], "\n"), vals[i], p);
		if (r > 0)
			return vs_fail(err, VS_E_SYSTEM, EIO, "%s: short write to %s", key, p);
	}
	return 0;
}

static int wfile_one(const char *dir, const char *file, const char *const *vals, size_t n, const char *key,
		     struct journal *j, vs_err *err)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s", dir, file);
	if (j) {
		char *old = NULL;
		if (vs_read_file_at(AT_FDCWD, p, 1 << 16, &old, NULL, err) < 0)
			return vs_err_prefix(err, "%s", key);
		old[strcspn(old, "\n")] = 0;
		struct jent *ne = realloc(j->e, (j->n + 1) * sizeof *ne);
		if (!ne)
			abort();
		j->e = ne;
		j->e[j->n++] = (struct jent){ .path = vs_strdup(p), .old = old };
	}
	return write_path(p, vals, n, key, err);
}

/* v1 control files whose value does not cover the sub-cgroups: the
 * throttle rules of blkio (flat outside cgroup2) and the cpuset lists (a
 * child keeps its own, which must stay a subset of its parent's).  The
 * guest's processes live in the payload sub-cgroup (lib/cgroup.h), so
 * these are written there too. */
static const char *const v1_flat_prefixes[] = { "blkio.throttle.", "cpuset.cpus", "cpuset.mems" };

static bool v1_flat(const char *dir, const char *file)
{
	bool flat = false;
	for (size_t i = 0; i < VS_ARRAY_SIZE(v1_flat_prefixes) && !flat; i++)
		flat = vs_str_startswith(file, v1_flat_prefixes[i]);
	/* cpuset on cgroup2 is hierarchical: only v1 dirs (no cgroup.controllers) */
	_cleanup_free_ char *p = vs_asprintf("%s/cgroup.controllers", dir);
	struct stat st;
	return flat && lstat(p, &st) < 0;
}

static int wfile_v(const char *dir, const char *file, const char *const *vals, size_t n, const char *key,
		   struct journal *j, vs_err *err)
{
	_cleanup_free_ char *pl = vs_asprintf("%s/%s", dir, VS_CGROUP_PAYLOAD);
	struct stat st;
	if (!v1_flat(dir, file) || lstat(pl, &st) < 0 || !S_ISDIR(st.st_mode))
		return wfile_one(dir, file, vals, n, key, j, err);
	/* cpuset: the payload first, then the guest dir, then the payload
	 * again: a narrower list passes at the first (the guest dir takes it
	 * only once no child has more), a wider one at the last */
	vs_err e;
	if (vs_str_startswith(file, "cpuset."))
		wfile_one(pl, file, vals, n, key, j, &e);
	if (wfile_one(dir, file, vals, n, key, j, err) < 0)
		return -1;
	return wfile_one(pl, file, vals, n, key, j, err);
}

static int wfile(const char *dir, const char *file, const char *val, const char *key, struct journal *j,
		 vs_err *err)
{
	return wfile_v(dir, file, &val, 1, key, j, err);
}

/* Put back what the journal saved, newest first; twice, because v1
 * memory and memsw limits must be written in an order that keeps
 * memory <= memsw. */
static void journal_restore(struct journal *j)
{
	for (int round = 0; round < 2; round++)
		for (size_t i = j->n; i-- > 0;) {
			const char *v = j->e[i].old;
			vs_err e;
			write_path(j->e[i].path, &v, 1, "restore", &e);
		}
}

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (!p[n] || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

static bool has_file(const char *dir, const char *file)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s", dir, file);
	struct stat st;
	return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The guest dir of the hierarchy that has the controller: cgroup2 when
 * the guest's cgroup.controllers lists it (the parent enabled it in its
 * subtree_control), else the v1 hierarchy with the marker file. */
static int where(const struct vs_cgroup *cg, const char *v2ctrl, const char *v1_marker, const char *key,
		 const char **dir, bool *v2, vs_err *err)
{
	if (cg->unified && v2ctrl) {
		_cleanup_free_ char *p = vs_asprintf("%s/cgroup.controllers", cg->unified), *list = NULL;
		vs_err e;
		if (vs_read_file_at(AT_FDCWD, p, 1 << 16, &list, NULL, &e) == 0 && word_in(list, v2ctrl)) {
			*dir = cg->unified;
			*v2 = true;
			return 0;
		}
	}
	for (size_t i = 0; v1_marker && i < cg->v1.n; i++)
		if (has_file(cg->v1.v[i], v1_marker)) {
			*dir = cg->v1.v[i];
			*v2 = false;
			return 0;
		}
	const char *ctrl = v2ctrl ? v2ctrl : "blkio";
	if (cg->mode == VS_CG_UNIFIED)
		return vs_fail(err, VS_E_SYSTEM, 0,
			       "%s: the host's cgroup2 hierarchy offers no '%s' controller to the guest's cgroup %s "
			       "(not in its cgroup.controllers: the kernel lacks it, or the parent cannot enable it in "
			       "cgroup.subtree_control)", key, ctrl, cg->unified);
	return vs_fail(err, VS_E_SYSTEM, 0,
		       "%s: the host has no %s controller for the guest: no v1 %s hierarchy with the guest's cgroup%s",
		       key, ctrl, v1_marker && !strcmp(v1_marker, "blkio.reset_stats") ? "blkio" : ctrl,
		       cg->unified ? ", and the cgroup2 hierarchy does not offer it either" : "");
}

/* v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes: the kernel
 * keeps limit <= memsw at every write, so try both orders. */
static int v1_memory_pair(const char *dir, const char *lim, const char *memsw, const char *key, struct journal *j,
			  vs_err *err)
{
	vs_err e;
	if (wfile(dir, "memory.limit_in_bytes", lim, key, j, &e) == 0)
		return memsw ? wfile(dir, "memory.memsw.limit_in_bytes", memsw, key, j, err) : 0;
	if (!memsw || e.errnum != EINVAL) {
		*err = e;
		return -1;
	}
	if (wfile(dir, "memory.memsw.limit_in_bytes", memsw, key, j, err) < 0)
		return -1;
	return wfile(dir, "memory.limit_in_bytes", lim, key, j, err);
}

/* Read dirname(dir)/file (v1 cpuset: what the parent has). */
static char *parent_value(const char *dir, const char *file)
{
	_cleanup_free_ char *pd = vs_strdup(dir);
	char *slash = strrchr(pd, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	_cleanup_free_ char *p = vs_asprintf("%s/%s", pd, file);
	char *v = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, p, 1 << 16, &v, NULL, &e) < 0)
		return NULL;
	v[strcspn(v, "\n")] = 0;
	return v;
}

/* Write one resource: its configured value, or (unset) the kernel's
 * default, which is what a live "none" needs. */
static int apply_res(const struct vs_cgroup *cg, const struct vs_limits *l, int r, struct journal *j, vs_err *err)
{
	const struct res_desc *rd = &res_tab[r];
	const char *key = res_source(l, r) ? res_source(l, r) : rd->key;
	const char *dir;
	bool v2;
	if (where(cg, rd->ctrl, rd->v1_marker, key, &dir, &v2, err) < 0)
		return -1;
	char b[64], b2[64];
	const struct vs_limit *x = res_limit((struct vs_limits *)l, r);
	switch (r) {
	case R_MEMORY: {
		uint64_t v = x->set ? x->v : VS_LIMIT_MAX;
		if (v2) {
			fmt_u64(b, sizeof b, v, "max");
			return wfile(dir, "memory.max", b, key, j, err);
		}
		fmt_u64(b, sizeof b, v, "-1");
		const char *memsw = NULL;
		if (l->swap.set) {
			uint64_t s = l->swap.v;
			bool unl = v == VS_LIMIT_MAX || s == VS_LIMIT_MAX || v > SIZE_CEIL - s;
			fmt_u64(b2, sizeof b2, unl ? VS_LIMIT_MAX : v + s, "-1");
			memsw = b2;
		}
		return v1_memory_pair(dir, b, memsw, key, j, err);
	}
	case R_MEMORY_HIGH:
		fmt_u64(b, sizeof b, x->set ? x->v : VS_LIMIT_MAX, v2 ? "max" : "-1");
		return wfile(dir, v2 ? "memory.high" : "memory.soft_limit_in_bytes", b, key, j, err);
	case R_MEMORY_LOW:
		if (!v2) {
			if (!x->set)
				return 0;
			return vs_fail(err, VS_E_INVALID, 0,
				       "%s: this host's memory controller is cgroup v1, which has no "
				       "memory protection (memory.low is cgroup v2 only)", key);
		}
		fmt_u64(b, sizeof b, x->set ? x->v : 0, "max");
		return wfile(dir, "memory.low", b, key, j, err);
	case R_SWAP: {
		if (v2) {
			fmt_u64(b, sizeof b, x->set ? x->v : VS_LIMIT_MAX, "max");
			return wfile(dir, "memory.swap.max", b, key, j, err);
		}
		uint64_t m = l->memory.set ? l->memory.v : VS_LIMIT_MAX;
		if (x->set && x->v != VS_LIMIT_MAX && m == VS_LIMIT_MAX)
			return vs_fail(err, VS_E_INVALID, 0,
				       "%s: this host's memory controller is cgroup v1: swap is limited through "
				       "memory.memsw.limit_in_bytes = memory + swap, which needs limits/memory", key);
		uint64_t s = x->set ? x->v : VS_LIMIT_MAX;
		fmt_u64(b, sizeof b, m == VS_LIMIT_MAX || s == VS_LIMIT_MAX || m > SIZE_CEIL - s ? VS_LIMIT_MAX : m + s,
			"-1");
		return wfile(dir, "memory.memsw.limit_in_bytes", b, key, j, err);
	}
	case R_PIDS:
		fmt_u64(b, sizeof b, x->set ? x->v : VS_LIMIT_MAX, "max");
		return wfile(dir, "pids.max", b, key, j, err);
	case R_CPU_WEIGHT: {
		uint64_t w = x->set ? x->v : 100;
		if (v2) {
			snprintf(b, sizeof b, "%" PRIu64, w);
			return wfile(dir, "cpu.weight", b, key, j, err);
		}
		/* v1 shares: default 1024 = weight 100, minimum 2 */
		uint64_t sh = w * 1024 / 100;
		snprintf(b, sizeof b, "%" PRIu64, sh < 2 ? 2 : sh);
		return wfile(dir, "cpu.shares", b, key, j, err);
	}
	case R_CPU_MAX: {
		uint64_t q = x->set ? x->v : VS_LIMIT_MAX;
		uint64_t p = l->cpu_period.set ? l->cpu_period.v : PERIOD_DEFAULT;
		if (v2) {
			char qs[32];
			fmt_u64(qs, sizeof qs, q, "max");
			snprintf(b, sizeof b, "%s %" PRIu64, qs, p);
			if (wfile(dir, "cpu.max", b, key, j, err) < 0)
				return -1;
			if (l->cpu_burst.set || (j && has_file(dir, "cpu.max.burst"))) {
				snprintf(b, sizeof b, "%" PRIu64, l->cpu_burst.set ? l->cpu_burst.v : 0);
				return wfile(dir, "cpu.max.burst", b, key, j, err);
			}
			return 0;
		}
		snprintf(b, sizeof b, "%" PRIu64, p);
		fmt_u64(b2, sizeof b2, q, "-1");
		/* the quota first when lifting a cap, the period first otherwise,
		 * so that no intermediate state is refused */
		if (q == VS_LIMIT_MAX) {
			if (wfile(dir, "cpu.cfs_quota_us", b2, key, j, err) < 0 ||
			    wfile(dir, "cpu.cfs_period_us", b, key, j, err) < 0)
				return -1;
		} else if (wfile(dir, "cpu.cfs_period_us", b, key, j, err) < 0 ||
			   wfile(dir, "cpu.cfs_quota_us", b2, key, j, err) < 0)
			return -1;
		if (l->cpu_burst.set || (j && has_file(dir, "cpu.cfs_burst_us"))) {
			snprintf(b, sizeof b, "%" PRIu64, l->cpu_burst.set ? l->cpu_burst.v : 0);
			return wfile(dir, "cpu.cfs_burst_us", b, key, j, err);
		}
		return 0;
	}
	case R_CPUSET_CPUS:
	case R_CPUSET_MEMS: {
		const char *file = r == R_CPUSET_CPUS ? "cpuset.cpus" : "cpuset.mems";
		const char *v = r == R_CPUSET_CPUS ? l->cpuset_cpus : l->cpuset_mems;
		if (v)
			return wfile(dir, file, v, key, j, err);
		if (v2) /* empty: use the parent's */
			return wfile(dir, file, "", key, j, err);
		/* v1 has no "inherit": the parent's list */
		_cleanup_free_ char *pv = parent_value(dir, file);
		if (!pv)
			return vs_fail(err, VS_E_SYSTEM, 0, "%s: cannot read the parent cgroup's %s", key, file);
		return wfile(dir, file, pv, key, j, err);
	}
	case R_IO_WEIGHT: {
		uint64_t w = x->set ? x->v : 100;
		if (v2 && has_file(dir, "io.weight")) {
			snprintf(b, sizeof b, "default %" PRIu64, w);
			return wfile(dir, "io.weight", b, key, j, err);
		}
		/* BFQ's weights are 1..1000 with default 100: the same scale,
		 * capped; CFQ's blkio.weight is 10..1000 with default 500 */
		const char *bfq = v2 ? "io.bfq.weight" : "blkio.bfq.weight";
		if (has_file(dir, bfq)) {
			snprintf(b, sizeof b, "%" PRIu64, w > 1000 ? 1000 : w);
			return wfile(dir, bfq, b, key, j, err);
		}
		if (!v2 && has_file(dir, "blkio.weight")) {
			uint64_t bw = w * 5;
			snprintf(b, sizeof b, "%" PRIu64, bw < 10 ? 10 : bw > 1000 ? 1000 : bw);
			return wfile(dir, "blkio.weight", b, key, j, err);
		}
		return vs_fail(err, VS_E_SYSTEM, 0, "%s: the I/O controller in %s has no weight file (%s): I/O weights "
			       "need the BFQ I/O scheduler or io.cost", key, dir,
			       v2 ? "io.weight, io.bfq.weight" : "blkio.weight, blkio.bfq.weight");
	}
	case R_IO_MAX: {
		for (size_t i = 0; i < l->n_io_max; i++) {
			const struct vs_io_max *m = &l->io_max[i];
			const uint64_t vals[] = { m->rbps, m->wbps, m->riops, m->wiops };
			if (v2) {
				char line[256], f[4][32];
				for (int k = 0; k < 4; k++)
					fmt_u64(f[k], sizeof f[k], vals[k], "max");
				snprintf(line, sizeof line, "%u:%u rbps=%s wbps=%s riops=%s wiops=%s", m->major,
					 m->minor, f[0], f[1], f[2], f[3]);
				if (wfile(dir, "io.max", line, key, j, err) < 0)
					return -1;
				continue;
			}
			static const char *const v1files[] = { "blkio.throttle.read_bps_device",
							       "blkio.throttle.write_bps_device",
							       "blkio.throttle.read_iops_device",
							       "blkio.throttle.write_iops_device" };
			for (int k = 0; k < 4; k++) {
				if (vals[k] == VS_LIMIT_MAX)
					continue;
				char line[96];
				snprintf(line, sizeof line, "%u:%u %" PRIu64, m->major, m->minor, vals[k]);
				if (wfile(dir, v1files[k], line, key, j, err) < 0)
					return -1;
			}
		}
		return 0;
	}
	}
	return 0;
}

int vs_limits_apply(const struct vs_cgroup *cg, const struct vs_limits *l, vs_err *err)
{
	/* memory first: it is what keeps a starting guest from hurting the host */
	for (int r = 0; r < R__COUNT; r++)
		if (res_is_set(l, r) && apply_res(cg, l, r, NULL, err) < 0)
			return -1;
	for (size_t i = 0; i < l->n_verbatim; i++) {
		const struct vs_cgroup_file *f = &l->verbatim[i];
		int k = verbatim_kind(f->name);
		_cleanup_free_ char *key = vs_asprintf("cgroup/%s", f->name);
		const char *dir;
		bool v2;
		if (k < 0)
			return vs_fail(err, VS_E_INVALID, 0, "%s: not a resource control file", key);
		if (where(cg, verbatim_tab[k].v2ctrl, verbatim_tab[k].v1_marker, key, &dir, &v2, err) < 0 ||
		    wfile(dir, f->name, f->value, key, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- per process: ulimits and ionice ---------------------------------------- */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

/* nofile when ulimits/ does not set it (reslimits.h); without
 * CAP_SYS_RESOURCE (an exec after the drop) or above fs.nr_open, the
 * caller's hard limit stays */
static void default_nofile(const struct vs_limits *l)
{
	for (size_t i = 0; i < l->n_ulimits; i++)
		if (l->ulimits[i].resource == RLIMIT_NOFILE)
			return;
	struct rlimit cur;
	if (getrlimit(RLIMIT_NOFILE, &cur) < 0)
		return;
	struct rlimit n = { VS_NOFILE_SOFT, cur.rlim_max > VS_NOFILE_HARD ? cur.rlim_max : VS_NOFILE_HARD };
	if (setrlimit(RLIMIT_NOFILE, &n) == 0)
		return;
	n.rlim_max = cur.rlim_max;
	if (n.rlim_cur > n.rlim_max)
		n.rlim_cur = n.rlim_max;
	setrlimit(RLIMIT_NOFILE, &n);
}

int vs_ulimits_apply(const struct vs_limits *l, vs_err *err)
{
	default_nofile(l);
	for (size_t i = 0; i < l->n_ulimits; i++) {
		const struct vs_ulimit *u = &l->ulimits[i];
		struct rlimit cur;
		if (getrlimit(u->resource, &cur) < 0)
			return vs_fail_errno(err, "ulimits/%s", vs_ulimit_name(u->resource));
		struct rlimit n = cur;
		if (u->has_hard)
			n.rlim_max = u->hard == VS_LIMIT_MAX ? RLIM_INFINITY : (rlim_t)u->hard;
		if (u->has_soft)
			n.rlim_cur = u->soft == VS_LIMIT_MAX ? RLIM_INFINITY : (rlim_t)u->soft;
		else if (n.rlim_cur > n.rlim_max)
			n.rlim_cur = n.rlim_max; /* only a hard limit: the soft one follows it down */
		if (n.rlim_cur > n.rlim_max)
			return vs_fail(err, VS_E_INVALID, 0, "ulimits/%s: the soft limit is above the hard limit %llu",
				       vs_ulimit_name(u->resource), (unsigned long long)n.rlim_max);
		if (setrlimit(u->resource, &n) < 0)
			return vs_fail(err, VS_E_SYSTEM, errno, "ulimits/%s: setrlimit%s", vs_ulimit_name(u->resource),
				       errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE; nofile is also "
							"capped by fs.nr_open)" : "");
	}
	if (l->ionice_class || l->ionice_prio_set) {
		int cls = l->ionice_class ? l->ionice_class : 2; /* util-vserver: best-effort if only the priority */
		int prio = cls == 3 ? 0 : l->ionice_prio_set ? l->ionice_prio : 4;
		if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (cls << IOPRIO_CLASS_SHIFT) | prio) < 0)
			return vs_fail(err, VS_E_SYSTEM, errno, "ionice: class %d priority %d%s", cls, prio,
				       errno == EPERM ? " (the realtime class needs CAP_SYS_ADMIN)" : "");
	}
	return 0;
}

int vs_oom_adj_apply(const struct vs_limits *l, vs_err *err)
{
	if (!l->oom_score_adj_set)
		return 0;
	_cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	char b[16];
	int n = snprintf(b, sizeof b, "%d\n", l->oom_score_adj);
	if (fd < 0 || write(fd, b, (size_t)n) != n)
		return vs_fail(err, VS_E_SYSTEM, errno, "badness %d: writing /proc/self/oom_score_adj%s", l->oom_score_adj,
			       errno == EACCES ? " (a value below the caller's needs CAP_SYS_RESOURCE)" : "");
	return 0;
}

/* ---- the limit command ------------------------------------------------------- */

char *vs_limits_format(const struct vs_limits *l, const char *resource)
{
	int r = res_from_name(resource);
	if (r < 0 || !res_is_set(l, r))
		return NULL;
	char b[64];
	switch (r) {
	case R_CPU_MAX: {
		char q[32];
		fmt_u64(q, sizeof q, l->cpu_quota.v, "max");
		return vs_asprintf("%s %" PRIu64, q, l->cpu_period.set ? l->cpu_period.v : (uint64_t)PERIOD_DEFAULT);
	}
	case R_CPUSET_CPUS: return vs_strdup(l->cpuset_cpus);
	case R_CPUSET_MEMS: return vs_strdup(l->cpuset_mems);
	case R_IO_MAX: {
		char *out = vs_strdup("");
		for (size_t i = 0; i < l->n_io_max; i++) {
			const struct vs_io_max *m = &l->io_max[i];
			const uint64_t v[] = { m->rbps, m->wbps, m->riops, m->wiops };
			static const char *const n[] = { "rbps", "wbps", "riops", "wiops" };
			char *line = vs_asprintf("%u:%u", m->major, m->minor);
			for (int k = 0; k < 4; k++)
				if (v[k] != VS_LIMIT_MAX) {
					char *t = vs_asprintf("%s %s=%" PRIu64, line, n[k], v[k]);
					free(line);
					line = t;
				}
			char *t = vs_asprintf("%s%s%s", out, i ? "\n" : "", line);
			free(out);
			free(line);
			out = t;
		}
		return out;
	}
	default:
		fmt_u64(b, sizeof b, res_limit((struct vs_limits *)l, r)->v, "max");
		return vs_strdup(b);
	}
}

/* Forget a resource (for a new value or "none"). */
static void res_clear(struct vs_limits *l, int r)
{
	if (r == R_CPUSET_CPUS) {
		free(l->cpuset_cpus);
		l->cpuset_cpus = NULL;
	} else if (r == R_CPUSET_MEMS) {
		free(l->cpuset_mems);
		l->cpuset_mems = NULL;
	} else {
		memset(res_limit(l, r), 0, sizeof(struct vs_limit));
		if (r == R_CPU_MAX) {
			memset(&l->cpu_period, 0, sizeof l->cpu_period);
			memset(&l->cpu_burst, 0, sizeof l->cpu_burst);
		}
	}
}

static int persist(const char *cfgdir, const char *rel, const char *value, vs_err *err)
{
	if (value)
		return vs_config_write(cfgdir, rel, value, err);
	_cleanup_close_ int dfd = open(cfgdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "%s", cfgdir);
	if (unlinkat(dfd, rel, 0) < 0 && errno != ENOENT)
		return vs_fail_errno(err, "removing %s/%s", cfgdir, rel);
	return 0;
}

int vs_limits_change(const struct vs_settings *s, const char *cgroot, const char *name, const char *resource,
		     const char *value, bool *applied, vs_err *err)
{
	*applied = false;
	int r = res_from_name(resource);
	_cleanup_free_ char *shown = vs_escape(resource);
	if (r < 0 || r == R_IO_MAX)
		return vs_fail(err, VS_E_INVALID, 0,
			       "unknown resource '%s' (allowed: memory, memory.high, memory.low, swap, pids, "
			       "cpu.weight, cpu.max, cpuset.cpus, cpuset.mems, io.weight)", shown);
	_cleanup_close_ int lock = vs_lock(s, name, LOCK_EX | LOCK_NB, err);
	if (lock < 0)
		return -1;
	_cleanup_config_ struct vs_config c;
	if (vs_config_load(s, name, &c, NULL, err) < 0)
		return vs_err_prefix(err, "the configuration has a problem; fix it first");
	const char *src = res_source(&c.limits, r);
	if (src && strcmp(src, res_tab[r].key))
		return vs_fail(err, VS_E_INVALID, 0, "%s is configured in %s: change or remove that file instead",
			       resource, src);
	bool none = !strcmp(value, "none");
	res_clear(&c.limits, r);
	if (!none) {
		struct vs_diags d = { 0 };
		vs_limits_parse_key(&c.limits, res_tab[r].key, value, 1, &d);
		if (!d.n)
			check_cross(&c.limits, vs_limits_host_memory_v1(vs_cgroup_root(s, cgroot)), &d);
		int rc = vs_diags_to_err(&d, c.cfgdir, err);
		vs_diags_free(&d);
		if (rc < 0)
			return -1;
	} else {
		struct vs_diags d = { 0 };
		check_cross(&c.limits, vs_limits_host_memory_v1(vs_cgroup_root(s, cgroot)), &d);
		int rc = vs_diags_to_err(&d, c.cfgdir, err);
		vs_diags_free(&d);
		if (rc < 0)
			return -1;
	}
	struct vs_state st;
	bool stale;
	int running = vs_state_get(s, name, &st, &stale, err);
	if (running < 0)
		return -1;
	struct journal j = { 0 };
	struct vs_cgroup cg = { 0 };
	if (running == 1) {
		if (vs_cgroup_open(s, vs_cgroup_root(s, cgroot), name, &cg, err) < 0)
			return vs_err_prefix(err, "the cgroup of the running guest");
		if (apply_res(&cg, &c.limits, r, &j, err) < 0) {
			journal_restore(&j);
			journal_free(&j);
			vs_cgroup_free(&cg);
			return -1;
		}
		*applied = true;
	}
	_cleanup_free_ char *rel = vs_asprintf("limits/%s", resource);
	int rc = persist(c.cfgdir, rel, none ? NULL : value, err);
	if (rc < 0 && *applied) {
		journal_restore(&j);
		*applied = false;
		vs_err_prefix(err, "the running guest keeps its old %s; saving it failed", resource);
	}
	journal_free(&j);
	vs_cgroup_free(&cg);
	return rc;
}
