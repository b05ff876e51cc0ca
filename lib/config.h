/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-guest configuration tree /etc/vservers/NAME (util-vserver
 * layout, reference section 4) and the global .defaults.
 *
 * Format rules: a scalar is the first line of a file (further non-empty
 * lines are an error); a boolean is "the file exists" (it must be
 * empty); a list has one item per line, blank lines and '#' lines
 * skipped; an argv file (cmd.*, environment, killseq) has one element per
 * line.  A missing final newline never loses the last line.  Every file
 * is read with O_NOFOLLOW|O_NONBLOCK, must be a regular file of at most
 * 64 KiB, and may not contain NUL, CR or other control characters.
 *
 * The loader never stops at the first problem: it collects diagnostics
 * (file, line, value, what is allowed) so that `vserver NAME check` can
 * report them all. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "dlimits.h"
#include "reslimits.h"
#include "scripts.h"
#include "sysctl.h"
#include "error.h"
#include "fstab.h"
#include "iface.h"
#include "settings.h"
#include "util.h"

#define VS_NAME_MAX 12          /* "vs-" + name fits IFNAMSIZ - 1 */
#define VS_CONTEXT_MIN 2
#define VS_CONTEXT_MAX 49151
#define VS_CONTEXT_START 40000  /* first context handed out by build */

/* net/mode: how the guest is networked (vserver(8) NETWORKING). */
enum vs_net_mode {
	VS_NET_NONE,       /* own network namespace, loopback only (default without addresses) */
	VS_NET_ISOLATED,   /* host stack, restricted to the guest's addresses (default with addresses) */
	VS_NET_PRIVATE,    /* own network namespace, veth to a bridge or routed, NAT and forwards */
	VS_NET_HOST,       /* host stack, no isolation (explicit opt-in) */
	VS_NET__COUNT,
};
const char *vs_net_mode_name(int mode);

struct vs_net_forward {
	int proto;                     /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t host_port, guest_port;
	struct vs_ipaddr host_addr;    /* family 0: any address of the host */
	int line;                      /* line in net/forward (diagnostics) */
};

enum vs_init_style {
	VS_INIT_SYSV,
	VS_INIT_PLAIN,
	VS_INIT_SYSTEMD,
	VS_INIT__COUNT,
};
const char *vs_init_style_name(int style);
int vs_init_style_from_name(const char *s); /* -1 if unknown */

struct vs_diag {
	char *file;   /* path relative to the config dir, or absolute */
	int line;     /* 0: whole file */
	char *msg;
};
struct vs_diags {
	struct vs_diag *d;
	size_t n;
};
void vs_diags_add(struct vs_diags *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void vs_diags_free(struct vs_diags *d);
/* Turn the first diagnostic into an error (kind VS_E_INVALID). */
int vs_diags_to_err(const struct vs_diags *d, const char *cfgdir, vs_err *err);

/* The guest's system call rules (the file seccomp) and nonewprivs: lib/sysfilter.h. */
struct vs_seccomp_change {
	char *syscall;
	int errnum;   /* deny: the errno the call fails with; allow: 0 */
	bool allow;   /* allow: lift a rule of the default profile */
	int line;     /* line in the seccomp file (diagnostics) */
};
struct vs_seccomp_conf {
	struct vs_seccomp_change *v;
	size_t n;
	bool no_new_privs; /* nonewprivs */
};

struct vs_config {
	char *name;            /* guest name = directory name */
	char *cfgdir;          /* absolute path of /etc/vservers/NAME */
	char *display_name;    /* `name` file; defaults to name */
	char *vdir;            /* guest root (target of the vdir link) */
	bool vdir_is_default;
	char *cache;           /* target of the cache link, NULL if none */
	unsigned context;      /* 0: missing */
	char *nodename;        /* uts/nodename; defaults to name */
	char *domainname;      /* uts/domainname; NULL: none */
	char *machine;         /* uts/machine; NULL: the host's */
	bool linux32;          /* personality LINUX_32BIT or machine i686 */
	vs_strv personality_flags;
	struct {
		int style;
		bool style_set;
		char *mark;
		vs_strv depends;
		char *runlevel;       /* "3" by default */
		vs_strv cmd_start, cmd_stop;
		vs_strv environment;  /* VAR=VAL */
		vs_strv killseq;      /* SIG [WAIT SIG]... */
	} init;
	uint64_t caps_add, caps_drop; /* from bcapabilities */
	struct vs_fstab fstab, fstab_remote;
	struct vs_iface *ifaces;
	size_t n_ifaces;
	struct vs_sysctl *sysctls; /* sysctl/<x>/{setting,value} (lib/sysctl.h), in name order */
	size_t n_sysctls;
	struct vs_scriptlet *scripts; /* scripts/ and .defaults/scripts/ (lib/scripts.h), in running order per phase */
	size_t n_scripts;
	vs_strv script_roots; /* where no scriptlet may lead: the vdirbase and every guest's root */
	char *iface_dev;       /* interfaces/dev */
	int iface_prefix;      /* interfaces/prefix or mask; -1 */
	struct vs_ipaddr lback;/* interfaces/lback; family 0 if unset */
	struct {
		int mode;              /* enum vs_net_mode, after defaults */
		bool mode_set;
		char *bridge;          /* net/bridge (private; default vsbr0) */
		struct vs_ipaddr gateway; /* net/gateway: the bridge's address; family 0 if unset */
		bool routed;           /* net/routed: no bridge, /32 routes to the veth */
		bool nomasquerade;     /* net/nomasquerade */
		bool tun;              /* net/tun: /dev/net/tun in the guest (private) */
		unsigned mtu;          /* net/mtu: the MTU of the way out; 0: the host's (lib/net.c) */
		struct vs_net_forward *fwd; /* net/forward */
		size_t n_fwd;
		struct vs_net_forward *host_ports; /* net/host-ports: proto, host_port, line */
		size_t n_host_ports;
	} net;
	int stop_timeout;      /* apps/vshelper/sync-timeout; -1: default 30 s */
	int boot_timeout;      /* apps/init/boot-timeout: how long start waits for the boot (default 30 s; 0: not) */
	char *shell;
	char *disk_image;       /* disk/image: the guest root's own file system (lib/disk.h), NULL: none */
	bool disabled;
	int nice;
	bool nice_set;
	struct vs_dlimits dlimits; /* dlimits/<x>/ (lib/dlimits.h) */
	struct vs_limits limits;   /* limits/, rlimits/, sched/, cgroup/, ulimits/, ionice/ (lib/reslimits.h) */
	struct vs_seccomp_conf seccomp; /* seccomp, nonewprivs (lib/sysfilter.h) */
	bool userns;           /* user-namespace guest (lib/userns.h): the flag userns, else nouserns,
				* else the setting userns */
	int userns_flag;       /* 1: userns file, 0: nouserns file, -1: neither */
};

void vs_config_free(struct vs_config *c);
static inline void vs_config_freep(struct vs_config *c) { vs_config_free(c); }
#define _cleanup_config_ __attribute__((cleanup(vs_config_freep)))

/* Guest names: [a-z0-9][a-z0-9_.-]{0,11}, not "." or "..".  Checked
 * before any path is built from a name. */
int vs_name_check(const char *name, vs_err *err);
/* RFC 1123 host name: <= 64 bytes, labels of [A-Za-z0-9-], no empty
 * labels, no leading or trailing '-'. */
int vs_hostname_check(const char *s, vs_err *err);

/* The vdirbase and every guest's root (its vdir link, else VDIRBASE/NAME),
 * wherever a build --rootdir put it: where host-side code must not go
 * for what the guests can change. */
void vs_config_guest_roots(const struct vs_settings *s, vs_strv *out);

/* Load /etc/vservers/NAME.  Returns -1 (err set, kind VS_E_NOGUEST) if
 * the guest does not exist, or on a system error; problems in the files
 * go to `diags` (which may be NULL: then the first problem is returned
 * as an error). */
int vs_config_load(const struct vs_settings *s, const char *name, struct vs_config *c, struct vs_diags *diags,
		   vs_err *err);

/* Same, from an explicit directory (a build's staging directory). */
int vs_config_load_at(const struct vs_settings *s, const char *name, const char *cfgdir, struct vs_config *c,
		      struct vs_diags *diags, vs_err *err);

/* Checks that involve other guests: context and addresses in use. */
void vs_config_check_conflicts(const struct vs_settings *s, const struct vs_config *c, struct vs_diags *diags);

/* Every configured guest name, sorted. */
int vs_config_list_names(const struct vs_settings *s, vs_strv *names, vs_err *err);

/* Smallest free context >= .defaults/context.next (or 40000). */
int vs_config_next_context(const struct vs_settings *s, unsigned *out, vs_err *err);
/* The guest that uses `context`, excluding `except`; NULL if none. */
char *vs_config_context_owner(const struct vs_settings *s, unsigned context, const char *except);

/* The guest's capability bounding set: default + bcapabilities adds -
 * bcapabilities removals. */
uint64_t vs_config_bounding_set(const struct vs_config *c);

/* Effective configuration (defaults applied) as a json-c object. */
struct json_object;
struct json_object *vs_config_to_json(const struct vs_config *c);
/* The "network" object of it: mode, addresses, and per mode lback or
 * veth, bridge, gateway, routed, masquerade, forwards. */
struct json_object *vs_config_net_json(const struct vs_config *c);

/* Write one configuration value atomically (relative path inside the
 * guest's config dir, creating sub-directories). */
int vs_config_write(const char *cfgdir, const char *rel, const char *value, vs_err *err);

/* The guest's loopback address in isolated mode: interfaces/lback, else
 * 127.X.Y.Z derived from the context (X.Y.Z = context's bytes, never
 * 127.0.0.1). */
void vs_config_lback(const struct vs_config *c, struct vs_ipaddr *out);
/* Host end of a private guest's veth: "vs-NAME". */
void vs_config_veth_name(const struct vs_config *c, char *buf, size_t len);

/* personality(2) value: PER_LINUX or PER_LINUX32, with the flags. */
unsigned long vs_config_personality(const struct vs_config *c);

/* "TERM", "SIGTERM", "15", "RTMIN+3" -> signal number; -1 if unknown. */
int vs_signal_from_name(const char *s);

/* Parse helpers shared with the command line. */
int vs_parse_context(const char *s, unsigned *out, vs_err *err);
