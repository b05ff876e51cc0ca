/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Accounting: what a guest uses, read from its cgroup (issue 6,
 * "Accounting").  The same figures on pure cgroup v2 hosts and on
 * v1/hybrid hosts; each is taken from the hierarchy that has it:
 *
 *   figure           cgroup v2                          cgroup v1
 *   memory current   memory.current                     memory.usage_in_bytes
 *   memory peak      memory.peak (kernel 5.19+)         memory.max_usage_in_bytes
 *   memory limit     memory.max                         memory.limit_in_bytes
 *   swap current     memory.swap.current                memory.memsw.usage_in_bytes - memory.usage_in_bytes
 *   cpu usage        cpu.stat usage_usec                cpuacct.usage (ns)
 *   cpu user/system  cpu.stat user_usec / system_usec   cpuacct.usage_user / cpuacct.usage_sys (ns)
 *   pids current     pids.current                       pids.current
 *   pids limit       pids.max                           pids.max
 *   io read/written  io.stat rbytes= / wbytes=          blkio.throttle.io_service_bytes_recursive (then
 *                    (summed over devices)               the non-recursive and the non-throttle files)
 *                                                       Read / Write lines, summed over devices
 *   oom kills        memory.events oom_kill             memory.oom_control oom_kill (kernel 4.13+)
 *   oom events       memory.events oom                  (none: v1 does not count them)
 *
 * The cgroup2 dir is tried first, then the v1 dirs: on a hybrid host the
 * cgroup2 hierarchy has no controllers but always accounts CPU time
 * (cpu.stat is a core file), the rest comes from v1.  The limits are the
 * guest's own cgroup's (a lower limit of a parent cgroup is not shown).
 * v2 "pids.current" and v1 counts tasks (threads), not only processes.
 *
 * A figure the host cannot provide (no such controller, older kernel,
 * no swap accounting) is marked unavailable (have_* false), never
 * invented. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "cgroup.h"
#include "error.h"

/* A limit of "max" (no limit). */
#define VS_USAGE_UNLIMITED UINT64_MAX

struct vs_usage {
	uint64_t mem_current;     /* bytes, page cache included */
	uint64_t mem_peak;        /* bytes, highest mem_current since the cgroup was made */
	uint64_t mem_limit;       /* bytes, or VS_USAGE_UNLIMITED */
	uint64_t swap_current;    /* bytes */
	uint64_t cpu_usec;        /* CPU time of every process, user + system, microseconds */
	uint64_t cpu_user_usec;
	uint64_t cpu_system_usec;
	uint64_t pids_current;    /* tasks (processes and threads) */
	uint64_t pids_limit;      /* or VS_USAGE_UNLIMITED */
	uint64_t io_read_bytes;   /* block I/O, summed over devices */
	uint64_t io_write_bytes;
	uint64_t oom_kills;       /* processes the OOM killer ended in the guest */
	uint64_t oom_events;      /* times the guest hit its limit and the OOM killer was invoked */
	bool have_mem_current, have_mem_peak, have_mem_limit, have_swap_current;
	bool have_cpu_usec, have_cpu_user_usec, have_cpu_system_usec;
	bool have_pids_current, have_pids_limit;
	bool have_io_read_bytes, have_io_write_bytes;
	bool have_oom_kills, have_oom_events;
};

/* Read every figure of the guest's cgroup (cg as vs_cgroup_open fills
 * it; a zeroed one gives no figures).  Files are read bounded, without
 * following symlinks, and parsed strictly.  *u is always filled: a
 * missing file leaves its figures unavailable.  Returns 0, or -1 with err
 * naming the first file that could not be read (other than missing) or
 * was malformed; its figures stay unavailable, the others are in *u. */
int vs_usage_read(const struct vs_cgroup *cg, struct vs_usage *u, vs_err *err);

/* The figures as a JSON object in plain units (bytes, microseconds,
 * counts): null for an unavailable figure, the string "max" for no
 * limit.  Keys: memory_bytes, memory_peak_bytes, memory_limit_bytes,
 * swap_bytes, cpu_usec, cpu_user_usec, cpu_system_usec, pids,
 * pids_limit, io_read_bytes, io_write_bytes, oom_kills, oom_events. */
struct json_object *vs_usage_json(const struct vs_usage *u);
