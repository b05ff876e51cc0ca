/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "usage.h"
#include "safeio.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stddef.h>
#include <string.h>

/* Bound of one cgroup file: io.stat and the blkio files grow with the
 * number of block devices (a few lines each); 1 MiB is far beyond any
 * real host and still a bounded read. */
#define USAGE_READ_MAX (1u << 20)

/* v1 shows "no limit" as PAGE_COUNTER_MAX pages: LONG_MAX rounded down
 * to a multiple of the page size.  Any value within a 64 KiB page of
 * INT64_MAX is that (no memory limit can be so large). */
#define V1_UNLIMITED_MIN ((uint64_t)INT64_MAX - 65535)

enum kind {
	K_VALUE,    /* one number */
	K_LIMIT,    /* one number or "max" */
	K_LIMIT_V1, /* one number, V1_UNLIMITED_MIN and above meaning no limit */
	K_KEY,      /* "KEY NUMBER" lines: the value of `key` (absent: unavailable) */
	K_SWAP_V1,  /* memory.memsw.usage_in_bytes minus memory.usage_in_bytes of the same dir */
	K_IO_V2,    /* io.stat: rbytes= and wbytes= summed over the device lines */
	K_IO_V1,    /* blkio: "MAJ:MIN Read N" / "MAJ:MIN Write N" summed; "Total N" and other ops skipped */
};

struct source {
	bool v2;          /* in the cgroup2 dir, else in a v1 dir */
	const char *file;
	enum kind kind;
	const char *key;  /* K_KEY */
	uint64_t div;     /* 1000: the file counts nanoseconds */
	size_t val, have; /* the figure (offsets into struct vs_usage) */
	size_t val2, have2; /* K_IO_*: the bytes written */
};

/* v1 K_KEY files that count in one cgroup only (v1 events do not go up:
 * an OOM kill counts in the killed process's cgroup): summed over the
 * guest dir's sub-cgroups too, as the guest's processes live in its
 * payload sub-cgroup (lib/cgroup.h). */
static const char *const v1_subtree_files[] = { "memory.oom_control" };

static bool subtree_summed(const struct source *src)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(v1_subtree_files); i++)
		if (!src->v2 && !strcmp(src->file, v1_subtree_files[i]))
			return true;
	return false;
}

#define FIG(x) offsetof(struct vs_usage, x), offsetof(struct vs_usage, have_##x)
#define NOFIG 0, 0

/* In order of preference: a figure is taken from the first source that
 * provides it.  cgroup2 first (on a hybrid host its dir has only the
 * core files, of which cpu.stat gives the CPU time exactly), then v1. */
static const struct source sources[] = {
	{ true, "memory.current", K_VALUE, NULL, 1, FIG(mem_current), NOFIG },
	{ true, "memory.peak", K_VALUE, NULL, 1, FIG(mem_peak), NOFIG },
	{ true, "memory.max", K_LIMIT, NULL, 1, FIG(mem_limit), NOFIG },
	{ true, "memory.swap.current", K_VALUE, NULL, 1, FIG(swap_current), NOFIG },
	{ true, "cpu.stat", K_KEY, "usage_usec", 1, FIG(cpu_usec), NOFIG },
	{ true, "cpu.stat", K_KEY, "user_usec", 1, FIG(cpu_user_usec), NOFIG },
	{ true, "cpu.stat", K_KEY, "system_usec", 1, FIG(cpu_system_usec), NOFIG },
	{ true, "pids.current", K_VALUE, NULL, 1, FIG(pids_current), NOFIG },
	{ true, "pids.max", K_LIMIT, NULL, 1, FIG(pids_limit), NOFIG },
	{ true, "io.stat", K_IO_V2, NULL, 1, FIG(io_read_bytes), FIG(io_write_bytes) },
	{ true, "memory.events", K_KEY, "oom_kill", 1, FIG(oom_kills), NOFIG },
	{ true, "memory.events", K_KEY, "oom", 1, FIG(oom_events), NOFIG },

	{ false, "memory.usage_in_bytes", K_VALUE, NULL, 1, FIG(mem_current), NOFIG },
	{ false, "memory.max_usage_in_bytes", K_VALUE, NULL, 1, FIG(mem_peak), NOFIG },
	{ false, "memory.limit_in_bytes", K_LIMIT_V1, NULL, 1, FIG(mem_limit), NOFIG },
	/* present only with swap accounting (swapaccount=1 / CONFIG_MEMCG_SWAP) */
	{ false, "memory.memsw.usage_in_bytes", K_SWAP_V1, NULL, 1, FIG(swap_current), NOFIG },
	{ false, "cpuacct.usage", K_VALUE, NULL, 1000, FIG(cpu_usec), NOFIG },
	{ false, "cpuacct.usage_user", K_VALUE, NULL, 1000, FIG(cpu_user_usec), NOFIG },
	{ false, "cpuacct.usage_sys", K_VALUE, NULL, 1000, FIG(cpu_system_usec), NOFIG },
	{ false, "pids.current", K_VALUE, NULL, 1, FIG(pids_current), NOFIG },
	{ false, "pids.max", K_LIMIT, NULL, 1, FIG(pids_limit), NOFIG },
	/* the throttle layer sees every bio of the cgroup (the files without
	 * "throttle" exist with BFQ only); _recursive includes the guest's
	 * own sub-cgroups */
	{ false, "blkio.throttle.io_service_bytes_recursive", K_IO_V1, NULL, 1, FIG(io_read_bytes),
	  FIG(io_write_bytes) },
	{ false, "blkio.throttle.io_service_bytes", K_IO_V1, NULL, 1, FIG(io_read_bytes), FIG(io_write_bytes) },
	{ false, "blkio.io_service_bytes_recursive", K_IO_V1, NULL, 1, FIG(io_read_bytes), FIG(io_write_bytes) },
	{ false, "blkio.io_service_bytes", K_IO_V1, NULL, 1, FIG(io_read_bytes), FIG(io_write_bytes) },
	{ false, "memory.oom_control", K_KEY, "oom_kill", 1, FIG(oom_kills), NOFIG },
};

static uint64_t *val_at(struct vs_usage *u, size_t off)
{
	return (uint64_t *)((char *)u + off);
}

static bool *have_at(struct vs_usage *u, size_t off)
{
	return (bool *)((char *)u + off);
}

static uint64_t get_val(const struct vs_usage *u, size_t off)
{
	return *(const uint64_t *)((const char *)u + off);
}

static bool get_have(const struct vs_usage *u, size_t off)
{
	return *(const bool *)((const char *)u + off);
}

/* ---- parsers: 0, or -1 with a reason in *why (a static string) ----------- */

/* The whole text is one token and an optional newline: the token, cut
 * at the newline (in place). */
static int one_token(char *text, const char **why)
{
	size_t n = strlen(text);
	if (n && text[n - 1] == '\n')
		text[--n] = 0;
	if (!n || strpbrk(text, " \t\n")) {
		*why = "expected one value";
		return -1;
	}
	return 0;
}

static int parse_number(const char *s, uint64_t *v, const char **why)
{
	if (vs_parse_u64(s, v) < 0) {
		*why = errno == ERANGE ? "number out of range" : "not a number";
		return -1;
	}
	return 0;
}

static int add_checked(uint64_t *sum, uint64_t v, const char **why)
{
	if (__builtin_add_overflow(*sum, v, sum)) {
		*why = "sum out of range";
		return -1;
	}
	return 0;
}

/* Next line of *p (NUL-terminated in place), NULL at the end.  The text
 * ends with a newline (or not); an empty line is malformed. */
static char *next_line(char **p, const char **why, bool *bad)
{
	char *s = *p;
	if (!*s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = s + strlen(s);
	}
	if (!*s) {
		*why = "empty line";
		*bad = true;
		return NULL;
	}
	return s;
}

/* "KEY NUMBER" lines, every one checked; *found false if `key` is not
 * among them. */
static int parse_keyed(char *text, const char *key, uint64_t *v, bool *found, const char **why)
{
	*found = false;
	bool bad = false;
	char *line;
	while ((line = next_line(&text, why, &bad))) {
		char *sp = strchr(line, ' ');
		if (!sp || sp == line) {
			*why = "expected 'KEY NUMBER' lines";
			return -1;
		}
		*sp = 0;
		uint64_t x;
		if (parse_number(sp + 1, &x, why) < 0)
			return -1;
		if (!strcmp(line, key)) {
			if (*found) {
				*why = "key listed twice";
				return -1;
			}
			*found = true;
			*v = x;
		}
	}
	return bad ? -1 : 0;
}

/* "MAJ:MIN" of a device line. */
static bool is_devno(const char *s)
{
	size_t a = strspn(s, "0123456789");
	if (!a || s[a] != ':')
		return false;
	size_t b = strspn(s + a + 1, "0123456789");
	return b && !s[a + 1 + b];
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device.  Only
 * rbytes and wbytes are parsed (other keys, e.g. iocost's cost.*, may
 * not be integers), each at most once per line. */
static int parse_io_v2(char *text, uint64_t *rd, uint64_t *wr, const char **why)
{
	*rd = *wr = 0;
	bool bad = false;
	char *line;
	while ((line = next_line(&text, why, &bad))) {
		char *save = NULL;
		char *dev = strtok_r(line, " ", &save);
		if (!dev || !is_devno(dev)) {
			*why = "expected a device number MAJ:MIN at the start of each line";
			return -1;
		}
		bool seen_r = false, seen_w = false;
		for (char *tok; (tok = strtok_r(NULL, " ", &save));) {
			char *eq = strchr(tok, '=');
			if (!eq || eq == tok) {
				*why = "expected KEY=VALUE fields";
				return -1;
			}
			*eq = 0;
			bool is_r = !strcmp(tok, "rbytes"), is_w = !strcmp(tok, "wbytes");
			if (!is_r && !is_w)
				continue;
			if ((is_r && seen_r) || (is_w && seen_w)) {
				*why = "key listed twice on a line";
				return -1;
			}
			uint64_t x;
			if (parse_number(eq + 1, &x, why) < 0 || add_checked(is_r ? rd : wr, x, why) < 0)
				return -1;
			seen_r |= is_r;
			seen_w |= is_w;
		}
	}
	return bad ? -1 : 0;
}

/* blkio.*io_service_bytes*: "MAJ:MIN OP N" per device and operation
 * (Read Write Sync Async Discard Total), then "Total N". */
static int parse_io_v1(char *text, uint64_t *rd, uint64_t *wr, const char **why)
{
	*rd = *wr = 0;
	bool bad = false;
	char *line;
	while ((line = next_line(&text, why, &bad))) {
		char *f[4] = { 0 };
		size_t n = 0;
		char *save = NULL;
		for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (n == VS_ARRAY_SIZE(f)) {
				*why = "too many fields on a line";
				return -1;
			}
			f[n++] = tok;
		}
		uint64_t x;
		if (n == 2 && !strcmp(f[0], "Total")) {
			if (parse_number(f[1], &x, why) < 0)
				return -1;
			continue;
		}
		if (n != 3 || !is_devno(f[0]) || !f[1][0] || strspn(f[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
								       "abcdefghijklmnopqrstuvwxyz") != strlen(f[1])) {
			*why = "expected 'MAJ:MIN OPERATION BYTES' or 'Total BYTES' lines";
			return -1;
		}
		if (parse_number(f[2], &x, why) < 0)
			return -1;
		if (!strcmp(f[1], "Read") && add_checked(rd, x, why) < 0)
			return -1;
		if (!strcmp(f[1], "Write") && add_checked(wr, x, why) < 0)
			return -1;
	}
	return bad ? -1 : 0;
}

/* ---- reading --------------------------------------------------------------- */

/* dir/file read whole.  1 read, 0 missing, -1 error (err set). */
static int read_cg(const char *dir, const char *file, char **out, vs_err *err)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s", dir, file);
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, p, USAGE_READ_MAX, out, NULL, &e) < 0) {
		if (e.errnum == ENOENT)
			return 0;
		*err = e;
		return -1;
	}
	return 1;
}

/* Sub-cgroups deeper than this are not summed (the guest cannot make v1
 * cgroups: only its payload dir is below the guest dir). */
#define SUBTREE_DEPTH 8

/* Add src->key of src->file of every sub-cgroup of dir (not dir itself)
 * to *sum.  A sub-cgroup that vanished meanwhile counts as 0. */
static int subtree_add(const struct source *src, const char *dir, int depth, uint64_t *sum, vs_err *err,
		       const char **why)
{
	if (depth >= SUBTREE_DEPTH)
		return 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : (vs_fail_errno(err, "%s", dir), -2);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return vs_fail_errno(err, "%s", dir), -2;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = vs_asprintf("%s/%s", dir, de->d_name);
		_cleanup_free_ char *text = NULL;
		int r = read_cg(sub, src->file, &text, err);
		if (r < 0)
			return -2;
		uint64_t v = 0;
		bool found = false;
		if (r > 0 && parse_keyed(text, src->key, &v, &found, why) < 0)
			return -1;
		if (found && add_checked(sum, v / src->div, why) < 0)
			return -1;
		r = subtree_add(src, sub, depth + 1, sum, err, why);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Figures of one source from its file's text (modified in place). */
static int apply(const struct source *src, const char *dir, char *text, struct vs_usage *u, vs_err *err,
		 const char **why)
{
	uint64_t v = 0, v2 = 0;
	switch (src->kind) {
	case K_VALUE:
	case K_LIMIT:
	case K_LIMIT_V1:
		if (one_token(text, why) < 0)
			return -1;
		if (src->kind == K_LIMIT && !strcmp(text, "max"))
			v = VS_USAGE_UNLIMITED;
		else if (parse_number(text, &v, why) < 0)
			return -1;
		else if (src->kind == K_LIMIT_V1 && v >= V1_UNLIMITED_MIN)
			v = VS_USAGE_UNLIMITED;
		else
			v /= src->div;
		break;
	case K_KEY: {
		bool found;
		if (parse_keyed(text, src->key, &v, &found, why) < 0)
			return -1;
		if (!found)
			return 0; /* e.g. oom_kill of memory.oom_control before 4.13 */
		v /= src->div;
		if (subtree_summed(src)) {
			int r = subtree_add(src, dir, 0, &v, err, why);
			if (r < 0)
				return r;
		}
		break;
	}
	case K_SWAP_V1: {
		uint64_t memsw, mem;
		if (one_token(text, why) < 0 || parse_number(text, &memsw, why) < 0)
			return -1;
		_cleanup_free_ char *t2 = NULL;
		int r = read_cg(dir, "memory.usage_in_bytes", &t2, err);
		if (r < 0)
			return -2;
		if (r == 0)
			return 0;
		if (one_token(t2, why) < 0 || parse_number(t2, &mem, why) < 0) {
			*why = "memory.usage_in_bytes next to it is malformed";
			return -1;
		}
		/* two reads, not one snapshot: memory may have grown in between */
		v = memsw > mem ? memsw - mem : 0;
		break;
	}
	case K_IO_V2:
	case K_IO_V1:
		if ((src->kind == K_IO_V2 ? parse_io_v2 : parse_io_v1)(text, &v, &v2, why) < 0)
			return -1;
		*val_at(u, src->val2) = v2;
		*have_at(u, src->have2) = true;
		break;
	}
	*val_at(u, src->val) = v;
	*have_at(u, src->have) = true;
	return 0;
}

int vs_usage_read(const struct vs_cgroup *cg, struct vs_usage *u, vs_err *err)
{
	memset(u, 0, sizeof *u);
	/* the figures whose file was malformed: not taken from a later
	 * source instead (that would show another figure under its name) */
	struct vs_usage bad;
	memset(&bad, 0, sizeof bad);
	bool failed = false;
	for (size_t i = 0; i < VS_ARRAY_SIZE(sources); i++) {
		const struct source *src = &sources[i];
		if (get_have(u, src->have) || get_have(&bad, src->have))
			continue;
		const char *const *dirs = src->v2 ? (const char *const *)&cg->unified
						  : (const char *const *)cg->v1.v;
		size_t ndirs = src->v2 ? (cg->unified ? 1 : 0) : cg->v1.n;
		for (size_t d = 0; d < ndirs; d++) {
			_cleanup_free_ char *text = NULL;
			vs_err e;
			int r = read_cg(dirs[d], src->file, &text, &e);
			if (r == 0)
				continue;
			const char *why = NULL;
			if (r > 0) {
				r = apply(src, dirs[d], text, u, &e, &why);
				if (r == -1)
					vs_fail(&e, VS_E_SYSTEM, 0, "%s/%s: malformed (%s)", dirs[d], src->file,
						why);
			}
			if (r < 0) {
				*have_at(&bad, src->have) = true;
				if (src->have2)
					*have_at(&bad, src->have2) = true;
			}
			if (r < 0 && !failed) {
				/* the first problem is reported; the other figures are still read */
				*err = e;
				failed = true;
			}
			break; /* the hierarchy that has the file is the one to ask */
		}
	}
	return failed ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static const struct {
	const char *key;
	size_t val, have;
	bool limit; /* VS_USAGE_UNLIMITED is "max" */
} json_keys[] = {
	{ "memory_bytes", FIG(mem_current), false },
	{ "memory_peak_bytes", FIG(mem_peak), false },
	{ "memory_limit_bytes", FIG(mem_limit), true },
	{ "swap_bytes", FIG(swap_current), false },
	{ "cpu_usec", FIG(cpu_usec), false },
	{ "cpu_user_usec", FIG(cpu_user_usec), false },
	{ "cpu_system_usec", FIG(cpu_system_usec), false },
	{ "pids", FIG(pids_current), false },
	{ "pids_limit", FIG(pids_limit), true },
	{ "io_read_bytes", FIG(io_read_bytes), false },
	{ "io_write_bytes", FIG(io_write_bytes), false },
	{ "oom_kills", FIG(oom_kills), false },
	{ "oom_events", FIG(oom_events), false },
};

struct json_object *vs_usage_json(const struct vs_usage *u)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < VS_ARRAY_SIZE(json_keys); i++) {
		json_object *v = NULL;
		if (get_have(u, json_keys[i].have)) {
			uint64_t x = get_val(u, json_keys[i].val);
			v = json_keys[i].limit && x == VS_USAGE_UNLIMITED ? json_object_new_string("max")
									   : json_object_new_uint64(x);
		}
		json_object_object_add(o, json_keys[i].key, v);
	}
	return o;
}
