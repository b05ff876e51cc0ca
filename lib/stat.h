/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's view of the running guests: vserver-stat figures and
 * formats (util-vserver reference section 5.1), the pid -> guest map of
 * vps (section 5.2), and the guest-side pid lookup and verified signals
 * of vkill.
 *
 * A running guest is one whose state says so (vs_state_get() == 1); its
 * processes are the pids of its cgroup.  Everything else in /proc is the
 * host's ("root server", context 0).  /proc/PID/stat is read once per
 * process, bounded, and parsed after the last ')' (comm is whatever the
 * process chose). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"
#include "error.h"
#include "settings.h"
#include "state.h"
#include "usage.h"

/* ---- formats --------------------------------------------------------------- */

#define VS_STAT_HEADER "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME"
#define VS_STAT_HOST_NAME "root server"
#define VS_STAT_NAME_MAX 20      /* NAME is cut to this many bytes (then escaped) */
#define VS_STAT_MEM_BUF 8        /* 7 characters and the NUL */
#define VS_STAT_TIME_BUF 32      /* 10 characters (more only for absurd values) */

/* shortenMem: bytes in a 7-character field, right-aligned: divided by
 * 1024 until below 1000, suffix ' ' (bytes), K, M, G, T, one decimal
 * (truncated, shown when not 0) below 1000, capped at 9999.
 * 61.5 MiB -> "  61.5M", 412 MiB -> "   412M", 512 -> "   512 ". */
void vs_stat_mem(uint64_t bytes, char buf[VS_STAT_MEM_BUF]);

/* shortenTime: milliseconds, right-aligned in 9 characters plus a
 * trailing blank: MmSSsCC under an hour (CC: the first two digits of the
 * millisecond value), HhMMmSS under a day, DdHHhMM under 1000 days, else
 * YyDDdHH (years of 365 days; DD is the day of the year, at least two
 * digits), "INVALID" beyond 999*999 days. */
void vs_stat_time(uint64_t ms, char buf[VS_STAT_TIME_BUF]);

/* One line of vserver-stat. */
struct vs_stat_entry {
	unsigned context;
	char *guest;          /* the guest's name (configuration directory); NULL for the host */
	char *name;           /* shown: the guest's `name` file, else `guest`; "root server" */
	uint64_t nprocs;
	uint64_t vsz, rss;    /* bytes */
	uint64_t utime_ms;    /* utime + cutime of every process */
	uint64_t stime_ms;    /* stime + cstime */
	uint64_t uptime_ms;   /* guest: since `started` of its state; host: since its oldest process */
	/* Accounting from the guest's cgroup (lib/usage.h); nothing
	 * available for the host.  usage_problem: why a figure could not be
	 * read (a malformed or unreadable cgroup file), NULL if none. */
	struct vs_usage usage;
	char *usage_problem;
};

/* The line (no newline), malloc'd: CTX left-aligned and PROC right-aligned
 * in 10 columns, VSZ, RSS, userTIME, sysTIME, UPTIME, a blank and NAME
 * (cut to VS_STAT_NAME_MAX bytes on a character boundary, then escaped
 * with vs_escape). */
char *vs_stat_line(const struct vs_stat_entry *e);

/* ---- /proc ----------------------------------------------------------------- */

struct vs_proc_stat {
	char state;
	uint64_t utime, stime, cutime, cstime; /* clock ticks */
	uint64_t starttime;                    /* clock ticks after boot */
	uint64_t vsize;                        /* bytes */
	uint64_t rss;                          /* pages */
};
/* Parse the text of /proc/PID/stat (NUL-terminated): the fields after the
 * last ')'.  Negative values count as 0.  -1 (EINVAL) if malformed. */
int vs_stat_parse_proc(const char *data, struct vs_proc_stat *ps);

/* The pids of the "NSpid:" line of a /proc/PID/status text, outermost
 * first, at most `max`.  Returns how many (0: no such line). */
size_t vs_stat_parse_nspid(const char *status, pid_t *v, size_t max);

/* ---- running guests and their processes ---------------------------------- */

struct vs_running {
	char *name;
	struct vs_state st;
	struct vs_cgroup cg;  /* zeroed if the cgroup is gone */
	pid_t *pids;          /* sorted; the cgroup's processes when it was listed */
	size_t n;
};

struct vs_pid_owner {
	pid_t pid;
	uint32_t guest;       /* index in vs_running_set.g */
};

struct vs_running_set {
	struct vs_running *g; /* by name */
	size_t n;
	struct vs_pid_owner *idx; /* every guest pid, sorted by pid */
	size_t nidx;
};

/* Every running guest of the configuration directory, its cgroup and its
 * pids (listed once).  `cgroot`: NULL for the settings' cgroup_root.  A guest whose
 * cgroup cannot be read is kept with no pids. */
int vs_running_load(const struct vs_settings *s, const char *cgroot, struct vs_running_set *rs, vs_err *err);
/* Index of the guest that held `pid` when the set was loaded, -1 if none
 * (a host process). */
int vs_running_find(const struct vs_running_set *rs, pid_t pid);
void vs_running_free(struct vs_running_set *rs);

/* ---- vserver-stat ---------------------------------------------------------- */

struct vs_stat {
	struct vs_stat_entry *e; /* e[0]: the host (context 0), then the guests by context */
	size_t n;
};

/* One pass over /proc.  Processes of a guest's cgroup count for the
 * guest, every other process (but the caller) for the host.  Each
 * guest's cgroup figures are read too (vs_usage_read). */
int vs_stat_collect(const struct vs_settings *s, const char *cgroot, struct vs_stat *st, vs_err *err);
void vs_stat_free(struct vs_stat *st);

/* ---- vps ------------------------------------------------------------------- */

#define VS_VPS_CELL 20 /* width of the CONTEXT column, with its leading blank */

/* Offset just after the "PID" column title of a ps header line, -1 if the
 * header has no PID column. */
ssize_t vs_vps_header_pos(const char *header);
/* The pid of a row whose PID column (right-aligned) ends at `pos`; the
 * offset where the CONTEXT cell goes (after the digits), -1 if the row
 * has no number there. */
ssize_t vs_vps_row_pid(const char *row, size_t pos, pid_t *pid);
/* The cell: " %5u %-13s" (context, name); name NULL: the header cell
 * " CONTEXT" padded to VS_VPS_CELL.  The name is escaped.  malloc'd. */
char *vs_vps_cell(unsigned context, const char *name, bool header);
/* Terminal-safe copy of a line of ps output: control characters, DEL,
 * C1 controls and invalid UTF-8 become \xNN (backslashes stay). */
char *vs_vps_escape(const char *s);

/* ---- vkill ----------------------------------------------------------------- */

/* The running guest given as a context number or a name (a number is a
 * context first, then a name).  VS_E_NOGUEST if there is no such guest,
 * VS_E_STATE if it is not running, VS_E_INVALID for context 0 (the
 * host) or a malformed name. */
int vs_running_resolve(const struct vs_settings *s, const struct vs_running_set *rs, const char *spec, size_t *idx,
		       vs_err *err);

/* Index of the guest's PID namespace in NSpid lists: one less than the
 * number of NSpid entries of its PID 1 (checked against the recorded
 * start time). */
int vs_guest_pidns_level(const struct vs_running *g, size_t *level, vs_err *err);

/* Host pid of the process that is `inner` in the guest's PID namespace
 * (among the guest's listed pids).  VS_E_INVALID if the guest has no such
 * process. */
int vs_guest_host_pid(const struct vs_running *g, size_t level, pid_t inner, pid_t *host, vs_err *err);

/* Signal one process of the guest: pinned with a pidfd, then checked to
 * be in the guest's cgroup (and, when inner > 0, to still be `inner` in
 * the guest's PID namespace at `level`), then pidfd_send_signal.
 * Returns 0, or -1: VS_E_INVALID if it is not the guest's, VS_E_SYSTEM
 * (ESRCH) if it is gone. */
int vs_guest_signal(const struct vs_running *g, pid_t host, size_t level, pid_t inner, int sig, vs_err *err);

/* Signal every process of the guest's cgroup (each verified as above).
 * *sent: how many were signalled. */
int vs_guest_signal_all(const struct vs_running *g, int sig, size_t *sent, vs_err *err);
