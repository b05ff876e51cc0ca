/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource limits and accounting of a guest (vserver(8) LIMITS), on
 * cgroups: pure v2 and v1/hybrid hosts.
 *
 * The schema (the configuration directory limits/, one value per file):
 *   limits/memory        hard memory limit (v2 memory.max, v1 memory.limit_in_bytes)
 *   limits/memory.high   soft limit: reclaim and throttle above it (v2 memory.high,
 *                        v1 memory.soft_limit_in_bytes); must not exceed memory
 *   limits/memory.low    protection (v2 memory.low; v1: none, refused on v1 hosts at start)
 *   limits/swap          swap the guest may use besides memory (v2 memory.swap.max,
 *                        v1 memory.memsw.limit_in_bytes = memory + swap; needs memory)
 *   limits/pids          processes and threads (pids.max)
 *   limits/cpu.weight    share 1..10000, default 100 (v2 cpu.weight, v1 cpu.shares =
 *                        weight * 1024 / 100)
 *   limits/cpu.max       hard cap "QUOTA PERIOD" in microseconds or "max" (v2 cpu.max,
 *                        v1 cpu.cfs_quota_us / cpu.cfs_period_us), e.g. "50000 100000"
 *                        = half a CPU
 *   limits/cpuset.cpus, limits/cpuset.mems   cpu and memory-node lists ("0-1,3")
 *   limits/io.weight     1..10000 (v2 io.weight "default N", v1 blkio.weight 10..1000)
 *   limits/io.max        lines "MAJ:MIN [rbps=N] [wbps=N] [riops=N] [wiops=N]" (v2 io.max,
 *                        v1 blkio.throttle.*_device)
 * Values: decimal, no sign, no leading zeros, no blanks; sizes may end in
 * one of the suffixes K M G T (powers of 1024, upper case only); the only
 * spelling for "no limit" is "max".  64-bit, overflow checked (also the
 * suffix multiplication); sizes at most 2^63-1 (what the kernel takes).
 * Floors that make a start impossible are refused: memory and memory.high
 * below 16M (the guest's init cannot start), pids below 8, a cpu.max quota
 * below 1000 us or a period outside 1000..1000000 us, weights outside
 * 1..10000.  memory.high above memory is refused, and so is swap without
 * memory on hosts with a v1 memory controller (memsw = memory + swap).
 *
 * util-vserver keys that map cleanly are read too (reference 4.3):
 *   rlimits/rss[.hard|.soft|.min] (pages -> bytes: memory, memory.high,
 *   memory.low), rlimits/nproc[...] (pids), sched/fill-rate + sched/interval
 *   (+ tokens-max: cpu.max.burst on v2) -> cpu.max, cgroup/FILE written
 *   verbatim (allowed controller prefixes only: memory. cpu. cpuset. pids.
 *   io. blkio. hugetlb.; never cgroup.* devices.* tasks ...), ulimits/
 *   (per-process setrlimit, without util-vserver's raising of unlisted hard
 *   limits), ionice/{class,priority}.  util-vserver's value syntax there
 *   (rlimits/ and ulimits/ only): an integer, "inf", or a K/M (x1024) or
 *   k/m (x1000) suffix.  Keys that cannot map are refused by `check` with
 *   the reason.  A plain rlimits/rss counts as rss.hard (util-vserver's
 *   min=soft=hard would protect the whole limit from reclaim).
 *   sched/: quota = 100000 us * fill-rate / interval per period of
 *   100000 us; a token (tokens-max) is 1 ms of burst. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define VS_LIMIT_MAX UINT64_MAX /* "max": no limit */

struct vs_limit {
	bool set;
	uint64_t v;         /* VS_LIMIT_MAX = max */
	int line;           /* for diagnostics */
	const char *source; /* the configuration file it came from (static string or owned by the config) */
};

struct vs_io_max {
	unsigned major, minor;
	uint64_t rbps, wbps, riops, wiops; /* VS_LIMIT_MAX: not limited */
};

struct vs_cgroup_file {
	char *name;   /* e.g. "memory.swappiness" */
	char *value;
};

struct vs_ulimit {
	int resource;     /* RLIMIT_* */
	bool has_soft, has_hard;
	uint64_t soft, hard; /* RLIM_INFINITY as VS_LIMIT_MAX */
};

struct vs_limits {
	struct vs_limit memory, memory_high, memory_low, swap, pids, cpu_weight, io_weight;
	struct vs_limit cpu_quota, cpu_period, cpu_burst; /* cpu.max; quota VS_LIMIT_MAX = max */
	char *cpuset_cpus, *cpuset_mems;
	struct vs_io_max *io_max;
	size_t n_io_max;
	struct vs_cgroup_file *verbatim; /* cgroup/ */
	size_t n_verbatim;
	struct vs_ulimit *ulimits;
	size_t n_ulimits;
	int ionice_class;    /* 0: unset (IOPRIO_CLASS_NONE), 1 realtime, 2 best-effort, 3 idle */
	int ionice_prio;     /* 0..7, when ionice_prio_set */
	bool ionice_prio_set;
	int oom_score_adj;   /* badness: -1000..1000, when oom_score_adj_set */
	bool oom_score_adj_set;
	/* sched/ as read; vs_limits_finish turns them into cpu.max */
	struct vs_limit sched_fill_rate, sched_interval, sched_tokens_max;
};
/* A zeroed struct vs_limits is "nothing configured". */

void vs_limits_free(struct vs_limits *l);

struct vs_diags;
struct vs_cgroup;
struct vs_settings;

/* Parse one configuration value of the limits keys (limits/, rlimits/,
 * sched/, cgroup/, ulimits/, ionice/, badness); `key` is the path relative to the
 * configuration dir, `value` one line (io.max: each line on its own).
 * Problems go to `d` as diagnostics of file `key`, line `line`, with the
 * value and what is allowed; a refused value changes nothing. */
void vs_limits_parse_key(struct vs_limits *l, const char *key, const char *value, int line, struct vs_diags *d);
/* After every key: sched/ into cpu.max, then the checks across keys
 * (memory.high <= memory, swap needs memory when memory_v1, ulimits soft
 * <= hard ...). */
void vs_limits_finish(struct vs_limits *l, bool memory_v1, struct vs_diags *d);
/* Does the cgroup root (vs_cgroup_root) keep memory in a v1 hierarchy
 * (ROOT/memory)? */
bool vs_limits_host_memory_v1(const char *root);

/* Write the limits into the guest's fresh cgroup: every set limit, each to
 * the hierarchy that has its controller (cgroup2 when the guest's
 * cgroup.controllers lists it, else the v1 hierarchy), then io.max and the
 * verbatim cgroup/ files.  A controller the host lacks is an error naming
 * the key.  Only existing control files are written (never created). */
/* A size as limits/ writes it: decimal bytes with at most one suffix K, M,
 * G or T (powers of 1024), overflow checked.  0, or -1 (syntax or range). */
int vs_parse_size(const char *s, uint64_t *out);

int vs_limits_apply(const struct vs_cgroup *cg, const struct vs_limits *l, vs_err *err);
/* ulimits/ (setrlimit) and ionice/ (ioprio_set) for the calling process,
 * right before it executes a guest program.  Unlisted limits stay as they
 * are (never raised), except nofile: without ulimits/nofile a guest gets
 * what a systemd host gives every service, soft VS_NOFILE_SOFT and hard
 * VS_NOFILE_HARD (a higher hard limit of the caller is kept), not the
 * caller's (an admin shell's, a sysvinit host's 1024:4096), which the
 * guest could not raise. */
#define VS_NOFILE_SOFT 1024
#define VS_NOFILE_HARD 524288
int vs_ulimits_apply(const struct vs_limits *l, vs_err *err);
/* badness: the calling process's oom_score_adj (/proc/self of the host's
 * /proc, so before it joins the guest's mount namespace), inherited by what
 * it starts.  Nothing when unset (the caller's value stays). */
int vs_oom_adj_apply(const struct vs_limits *l, vs_err *err);
/* "nofile" for RLIMIT_NOFILE ("?" if not a ulimits/ resource). */
const char *vs_ulimit_name(int resource);

/* The resources of `vserver NAME limit`, NULL-terminated (the limits/
 * keys but io.max). */
extern const char *const vs_limit_resources[];
/* Configured value of a resource as limits/RESOURCE holds it, in plain
 * units ("max" for no limit; NULL if not set); malloc'd. */
char *vs_limits_format(const struct vs_limits *l, const char *resource);

/* vserver NAME limit RESOURCE VALUE: validate like the loader, apply to
 * the running guest's cgroup (under the guest lock), then persist
 * limits/RESOURCE (VALUE "none": remove it); when persisting fails the
 * cgroup gets its old values back, and a value the kernel refuses
 * changes nothing.  `cgroot` NULL: the settings' cgroup_root.  *applied: a running
 * guest was changed. */
int vs_limits_change(const struct vs_settings *s, const char *cgroot, const char *name, const char *resource,
		     const char *value, bool *applied, vs_err *err);
