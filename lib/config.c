/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration loader: one table of keys, one parser per key. */
#include "config.h"
#include "caps.h"
#include "cgroup.h"
#include <linux/capability.h>
#include "safeio.h"
#include "sysfilter.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define VS_LINE_MAX 4096

/* ---- diagnostics ---------------------------------------------------- */

void vs_diags_add(struct vs_diags *d, const char *file, int line, const char *fmt, ...)
{
	if (!d)
		return;
	struct vs_diag *n = realloc(d->d, (d->n + 1) * sizeof *n);
	if (!n)
		abort();
	d->d = n;
	va_list ap;
	va_start(ap, fmt);
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	d->d[d->n++] = (struct vs_diag){ .file = vs_strdup(file), .line = line, .msg = msg };
}

void vs_diags_free(struct vs_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->d[i].file);
		free(d->d[i].msg);
	}
	free(d->d);
	d->d = NULL;
	d->n = 0;
}

int vs_diags_to_err(const struct vs_diags *d, const char *cfgdir, vs_err *err)
{
	if (!d->n)
		return 0;
	const struct vs_diag *x = &d->d[0];
	const char *sep = x->file[0] == '/' ? "" : "/";
	const char *dir = x->file[0] == '/' ? "" : cfgdir;
	if (x->line)
		vs_fail(err, VS_E_INVALID, 0, "%s%s%s:%d: %s", dir, sep, x->file, x->line, x->msg);
	else
		vs_fail(err, VS_E_INVALID, 0, "%s%s%s: %s", dir, sep, x->file, x->msg);
	if (d->n > 1) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof err->msg - l, " (and %zu more problem%s; run 'vserver NAME check')",
			 d->n - 1, d->n == 2 ? "" : "s");
	}
	return -1;
}

/* ---- names ------------------------------------------------------------ */

static const char *const style_names[VS_INIT__COUNT] = {
	[VS_INIT_SYSV] = "sysv",
	[VS_INIT_PLAIN] = "plain",
	[VS_INIT_SYSTEMD] = "systemd",
};

const char *vs_init_style_name(int style)
{
	return style >= 0 && style < VS_INIT__COUNT ? style_names[style] : "?";
}

int vs_init_style_from_name(const char *s)
{
	for (int i = 0; i < VS_INIT__COUNT; i++)
		if (!strcmp(style_names[i], s))
			return i;
	return -1;
}

int vs_name_check(const char *name, vs_err *err)
{
	size_t n = strlen(name);
	_cleanup_free_ char *shown = vs_escape(name);
	if (n == 0)
		return vs_fail(err, VS_E_INVALID, 0, "invalid guest name '': a name cannot be empty");
	if (n > VS_NAME_MAX)
		return vs_fail(err, VS_E_INVALID, 0,
			       "invalid guest name '%s': %zu characters, at most %d allowed (interface names derived from it must fit in 15)",
			       shown, n, VS_NAME_MAX);
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return vs_fail(err, VS_E_INVALID, 0,
			       "invalid guest name '%s': must start with a lower-case letter or a digit (allowed: a-z 0-9 . _ -)",
			       shown);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return vs_fail(err, VS_E_INVALID, 0,
				       "invalid guest name '%s': character '%s' not allowed (allowed: a-z 0-9 . _ -)", shown,
				       (*p >= 0x20 && *p < 0x7f) ? (char[]){ *p, 0 } : "\\x..");
	return 0;
}

int vs_hostname_check(const char *s, vs_err *err)
{
	size_t n = strlen(s);
	_cleanup_free_ char *shown = vs_escape(s);
	if (n == 0 || n > 64)
		return vs_fail(err, VS_E_INVALID, 0, "host name '%s' must be 1..64 characters", shown);
	const char *label = s;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == 0) {
			size_t l = (size_t)(p - label);
			if (l == 0)
				return vs_fail(err, VS_E_INVALID, 0, "host name '%s' has an empty label", shown);
			if (l > 63)
				return vs_fail(err, VS_E_INVALID, 0, "host name '%s' has a label longer than 63", shown);
			if (label[0] == '-' || p[-1] == '-')
				return vs_fail(err, VS_E_INVALID, 0,
					       "host name '%s': a label may not start or end with '-'", shown);
			if (!*p)
				break;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return vs_fail(err, VS_E_INVALID, 0,
				       "host name '%s' contains '%s' (allowed: letters, digits, '-' and '.')", shown,
				       (*p > 0x20 && *p < 0x7f) ? (char[]){ *p, 0 } : "a control character or space");
	}
	return 0;
}

int vs_parse_context(const char *s, unsigned *out, vs_err *err)
{
	uint64_t v;
	_cleanup_free_ char *shown = vs_escape(s);
	if (vs_parse_u64(s, &v) < 0 || v < VS_CONTEXT_MIN || v > VS_CONTEXT_MAX)
		return vs_fail(err, VS_E_INVALID, 0,
			       "context '%s' is not allowed: a decimal number %d..%d without sign, spaces or leading zeros",
			       shown, VS_CONTEXT_MIN, VS_CONTEXT_MAX);
	*out = (unsigned)v;
	return 0;
}

/* ---- loader ----------------------------------------------------------- */

struct line {
	int no;
	char *text;
};

struct ld {
	struct vs_config *c;
	struct vs_diags *diags;
	const struct vs_settings *s;
	const char *rel;        /* file being parsed, relative to cfgdir */
	struct line *lines;
	size_t n_lines;
	char *ifdir;            /* interfaces/<id> of the file being parsed */
	bool seen_prefix_for_if; /* prefix and mask both given? */
	struct vs_diags strict;  /* untrusted files and directories (strict_check) */
};

#define D(L, line, ...) vs_diags_add((L)->diags, (L)->rel, (line), __VA_ARGS__)

/* StrictModes (security catalogue HS-09).  The configuration decides what
 * runs in the guest and with which capabilities, devices and mounts, so
 * whoever can write it owns the guest and, through it, the host.  Like
 * sshd's StrictModes, every directory walked and every file read must be
 * owned by root (or by the user running vserver, for tests and `check` as
 * a user) and not writable by group or others.  Such problems are
 * diagnostics (so `check` lists them all) and also make the load fail,
 * because exec, enter and stop go on despite ordinary diagnostics. */
static void strict_check(struct ld *L, const char *path, const struct stat *st)
{
	if ((st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH)))
		return;
	_cleanup_free_ char *abs = path[0] == '/' ? vs_strdup(path) : vs_asprintf("%s/%s", L->c->cfgdir, path);
	static const char fmt[] = "owner uid %u, mode %04o: not trusted; the configuration must be owned by root "
				  "and not writable by group or others (fix: chown root %s; chmod go-w %s)";
	unsigned mode = st->st_mode & 07777;
	vs_diags_add(L->diags, path, 0, fmt, (unsigned)st->st_uid, mode, abs, abs);
	vs_diags_add(&L->strict, path, 0, fmt, (unsigned)st->st_uid, mode, abs, abs);
}

enum kind { K_SCALAR, K_BOOL, K_LIST, K_ARGV, K_FSTAB, K_LINK };

struct key {
	const char *path;   /* '*' matches one path component */
	enum kind kind;
	void (*parse)(struct ld *L, const char *value);
	const char *doc;
};

/* The entry of a per-directory key (interfaces/<id>/..., sysctl/<id>/...)
 * in *arr: found by the <id> after `prefix` in the file being read, or
 * appended zeroed with a copy of <id> in its `char *` at id_off (*made). */
static void *entry_of(struct ld *L, const char *prefix, void **arr, size_t *n, size_t size, size_t id_off, bool *made)
{
	const char *id = L->rel + strlen(prefix);
	size_t idlen = strcspn(id, "/");
	*made = false;
	for (size_t i = 0; i < *n; i++) {
		const char *have = *(char **)((char *)*arr + i * size + id_off);
		if (strlen(have) == idlen && !strncmp(have, id, idlen))
			return (char *)*arr + i * size;
	}
	char *grown = realloc(*arr, (*n + 1) * size);
	if (!grown)
		abort();
	*arr = grown;
	char *e = grown + (*n)++ * size;
	memset(e, 0, size);
	char *copy = strndup(id, idlen);
	if (!copy)
		abort();
	memcpy(e + id_off, &copy, sizeof copy);
	*made = true;
	return e;
}

static struct vs_iface *cur_iface(struct ld *L)
{
	bool made;
	struct vs_iface *f = entry_of(L, "interfaces/", (void **)&L->c->ifaces, &L->c->n_ifaces, sizeof *f,
				      offsetof(struct vs_iface, id), &made);
	if (made)
		f->ip.prefix = -1;
	return f;
}

static void p_sysctl(struct ld *L, const char *v)
{
	bool made;
	struct vs_sysctl *x = entry_of(L, "sysctl/", (void **)&L->c->sysctls, &L->c->n_sysctls, sizeof *x,
				       offsetof(struct vs_sysctl, id), &made);
	*(vs_str_endswith(L->rel, "/setting") ? &x->setting : &x->value) = vs_strdup(v);
}

static int first_line_no(struct ld *L)
{
	return L->n_lines ? L->lines[0].no : 1;
}

static void p_name(struct ld *L, const char *v)
{
	if (strlen(v) > 64)
		D(L, 1, "display name is %zu characters, at most 64 allowed", strlen(v));
	else
		L->c->display_name = vs_strdup(v);
}

static void p_context(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_parse_context(v, &L->c->context, &e) < 0)
		D(L, first_line_no(L), "%s", e.msg);
}

static void p_nodename(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_hostname_check(v, &e) < 0)
		D(L, 1, "%s", e.msg);
	else
		L->c->nodename = vs_strdup(v);
}

static void p_domainname(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_hostname_check(v, &e) < 0)
		D(L, 1, "%s", e.msg);
	else
		L->c->domainname = vs_strdup(v);
}

static void p_machine(struct ld *L, const char *v)
{
	struct utsname u;
	uname(&u);
	if (!strcmp(v, "i686") || !strcmp(v, "i586") || !strcmp(v, "i486") || !strcmp(v, "i386")) {
		if (strcmp(u.machine, "x86_64") && strcmp(u.machine, "i686")) {
			D(L, 1, "machine '%s' cannot be emulated on a %s host", v, u.machine);
			return;
		}
		if (strcmp(v, "i686")) {
			D(L, 1, "machine '%s' is not possible on a stock kernel: a 32-bit personality reports 'i686' (write i686)", v);
			return;
		}
		L->c->linux32 = true;
	} else if (strcmp(v, u.machine)) {
		D(L, 1, "machine '%s' is not possible on this %s host (allowed: %s, or i686 for a 32-bit guest)", v,
		  u.machine, u.machine);
		return;
	}
	L->c->machine = vs_strdup(v);
}

static const struct {
	const char *name;
	unsigned long value;
} persona_flags[] = {
	{ "UNAME26", 0x0020000 },        { "ADDR_NO_RANDOMIZE", 0x0040000 }, { "FDPIC_FUNCPTRS", 0x0080000 },
	{ "MMAP_PAGE_ZERO", 0x0100000 }, { "ADDR_COMPAT_LAYOUT", 0x0200000 }, { "READ_IMPLIES_EXEC", 0x0400000 },
	{ "ADDR_LIMIT_32BIT", 0x0800000 }, { "SHORT_INODE", 0x1000000 },      { "WHOLE_SECONDS", 0x2000000 },
	{ "STICKY_TIMEOUTS", 0x4000000 }, { "ADDR_LIMIT_3GB", 0x8000000 },
};

static void p_personality(struct ld *L, const char *unused)
{
	(void)unused;
	bool first = true;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *v = L->lines[i].text;
		if (!*v || *v == '#')
			continue;
		if (first) {
			first = false;
			if (!strcasecmp(v, "LINUX_32BIT") || !strcasecmp(v, "LINUX32"))
				L->c->linux32 = true;
			else if (strcasecmp(v, "LINUX"))
				D(L, L->lines[i].no, "personality type '%s' is not supported (allowed: LINUX, LINUX_32BIT)", v);
			continue;
		}
		size_t k;
		for (k = 0; k < VS_ARRAY_SIZE(persona_flags); k++)
			if (!strcasecmp(v, persona_flags[k].name))
				break;
		if (k == VS_ARRAY_SIZE(persona_flags))
			D(L, L->lines[i].no, "unknown personality flag '%s' (allowed: UNAME26, ADDR_NO_RANDOMIZE, FDPIC_FUNCPTRS, "
			  "MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT, READ_IMPLIES_EXEC, ADDR_LIMIT_32BIT, SHORT_INODE, "
			  "WHOLE_SECONDS, STICKY_TIMEOUTS, ADDR_LIMIT_3GB)", v);
		else
			vs_strv_push(&L->c->personality_flags, persona_flags[k].name);
	}
	if (first)
		D(L, 0, "empty file; the first line must be the personality type (LINUX or LINUX_32BIT)");
}

unsigned long vs_config_personality(const struct vs_config *c)
{
	unsigned long p = c->linux32 ? 0x0008 /* PER_LINUX32 */ : 0;
	for (size_t i = 0; i < c->personality_flags.n; i++)
		for (size_t k = 0; k < VS_ARRAY_SIZE(persona_flags); k++)
			if (!strcmp(c->personality_flags.v[i], persona_flags[k].name))
				p |= persona_flags[k].value;
	return p;
}

static void p_style(struct ld *L, const char *v)
{
	int s = vs_init_style_from_name(v);
	if (s < 0) {
		const char *why = "";
		if (!strcmp(v, "minit") || !strcmp(v, "gentoo") || !strcmp(v, "openrc") || !strcmp(v, "arch"))
			why = " (util-vserver style not provided; use apps/init/cmd.start and cmd.stop)";
		D(L, 1, "unknown init style '%s'%s; allowed: sysv, plain, systemd", v, why);
		return;
	}
	L->c->init.style = s;
	L->c->init.style_set = true;
}

static bool word_ok(const char *v)
{
	if (!*v)
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static void p_mark(struct ld *L, const char *v)
{
	if (!word_ok(v) || strlen(v) > 64)
		D(L, 1, "mark '%s' is not allowed: 1..64 characters of letters, digits, '.', '_' and '-'", v);
	else
		L->c->init.mark = vs_strdup(v);
}

static void p_depends(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *v = L->lines[i].text;
		vs_err e;
		if (vs_name_check(v, &e) < 0)
			D(L, L->lines[i].no, "%s", e.msg);
		else if (!strcmp(v, L->c->name))
			D(L, L->lines[i].no, "guest '%s' cannot depend on itself", v);
		else if (vs_strv_contains(&L->c->init.depends, v))
			D(L, L->lines[i].no, "'%s' is listed twice", v);
		else
			vs_strv_push(&L->c->init.depends, v);
	}
}

static void p_runlevel(struct ld *L, const char *v)
{
	if (strlen(v) != 1 || !strchr("12345Ss", v[0]))
		D(L, 1, "runlevel '%s' is not allowed (allowed: 1, 2, 3, 4, 5 or S)", v);
	else
		L->c->init.runlevel = vs_strdup(v);
}

static void argv_into(struct ld *L, vs_strv *dst, bool need_abs)
{
	for (size_t i = 0; i < L->n_lines; i++) {
		if (i == 0 && need_abs && L->lines[i].text[0] != '/') {
			D(L, L->lines[i].no, "'%s': the command must be an absolute path inside the guest",
			  L->lines[i].text);
			return;
		}
		vs_strv_push(dst, L->lines[i].text);
	}
	if (!L->n_lines)
		D(L, 0, "empty file; expected a command, one argument per line");
}

static void p_cmd_start(struct ld *L, const char *v)
{
	(void)v;
	argv_into(L, &L->c->init.cmd_start, true);
}

static void p_cmd_stop(struct ld *L, const char *v)
{
	(void)v;
	argv_into(L, &L->c->init.cmd_stop, true);
}

static void p_environment(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *v = L->lines[i].text, *eq = strchr(v, '=');
		bool ok = eq && eq != v && (isalpha((unsigned char)v[0]) || v[0] == '_');
		for (const char *p = v; ok && p < eq; p++)
			ok = isalnum((unsigned char)*p) || *p == '_';
		if (!ok)
			D(L, L->lines[i].no, "'%s' is not VAR=VALUE (VAR: letters, digits and '_', not starting with a digit)", v);
		else
			vs_strv_push(&L->c->init.environment, v);
	}
}

int vs_signal_from_name(const char *s)
{
	uint64_t n;
	if (vs_parse_u64(s, &n) == 0)
		return n >= 1 && n <= 64 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	static const struct {
		const char *n;
		int v;
	} t[] = { { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		  { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "PWR", SIGPWR },
		  { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "ALRM", SIGALRM } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(t); i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].v;
	if (!strncasecmp(s, "RTMIN+", 6) && vs_parse_u64(s + 6, &n) == 0 && n <= 30)
		return SIGRTMIN + (int)n;
	return -1;
}

static void p_killseq(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *v = L->lines[i].text;
		uint64_t w;
		if (i % 2 == 0) {
			if (vs_signal_from_name(v) < 0) {
				D(L, L->lines[i].no, "'%s' is not a signal (a number 1..64 or a name like TERM, KILL)", v);
				return;
			}
		} else if (vs_parse_u64(v, &w) < 0 || w > 3600) {
			D(L, L->lines[i].no, "'%s' is not a wait time (seconds, 0..3600)", v);
			return;
		}
		vs_strv_push(&L->c->init.killseq, v);
	}
	if (L->n_lines % 2 == 0)
		D(L, 0, "the sequence must be SIGNAL [WAIT SIGNAL]..., ending with a signal (one token per line)");
}

static void p_bcaps(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *v = L->lines[i].text;
		bool neg = v[0] == '~' || v[0] == '!';
		const char *nm = neg ? v + 1 : v;
		int cap = vs_cap_from_name(nm);
		if (cap < 0) {
			D(L, L->lines[i].no, "unknown capability '%s' (names like MKNOD or CAP_MKNOD, '~' to remove)", v);
			continue;
		}
		uint64_t bit = UINT64_C(1) << cap;
		if (!neg && vs_cap_forbidden(cap)) {
			D(L, L->lines[i].no,
			  "capability %s cannot be granted to a guest: it gives guest root power over the whole host", nm);
			continue;
		}
		if ((neg ? L->c->caps_add : L->c->caps_drop) & bit)
			D(L, L->lines[i].no, "capability %s is both added and removed", vs_cap_name(cap));
		if (neg)
			L->c->caps_drop |= bit;
		else
			L->c->caps_add |= bit;
	}
}

static void fstab_into(struct ld *L, struct vs_fstab *f)
{
	for (size_t i = 0; i < L->n_lines; i++) {
		struct vs_fstab_entry e;
		vs_err err;
		int r = vs_fstab_parse_line(L->lines[i].text, &e, &err);
		if (r < 0) {
			D(L, L->lines[i].no, "%s", err.msg);
			continue;
		}
		if (r == 0)
			continue;
		e.line = L->lines[i].no;
		bool dup = false;
		for (size_t k = 0; k < f->n; k++)
			if (!strcmp(f->e[k].target, e.target)) {
				D(L, e.line, "target '%s' is already mounted by line %d", e.target, f->e[k].line);
				dup = true;
			}
		if (dup) {
			vs_fstab_entry_free(&e);
			continue;
		}
		f->e = realloc(f->e, (f->n + 1) * sizeof *f->e);
		if (!f->e)
			abort();
		f->e[f->n++] = e;
	}
}

static void p_fstab(struct ld *L, const char *v)
{
	(void)v;
	fstab_into(L, &L->c->fstab);
}

static void p_fstab_remote(struct ld *L, const char *v)
{
	(void)v;
	fstab_into(L, &L->c->fstab_remote);
}

static void p_if_dev(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_ifname_check(v, &e) < 0)
		D(L, 1, "%s", e.msg);
	else if (!strncmp(L->rel, "interfaces/dev", 15) && !strcmp(L->rel, "interfaces/dev"))
		L->c->iface_dev = vs_strdup(v);
	else
		cur_iface(L)->dev = vs_strdup(v);
}

static void set_prefix(struct ld *L, int p)
{
	if (!strcmp(L->rel, "interfaces/prefix") || !strcmp(L->rel, "interfaces/mask")) {
		if (L->c->iface_prefix >= 0 && L->c->iface_prefix != p)
			D(L, 1, "interfaces/prefix and interfaces/mask disagree");
		L->c->iface_prefix = p;
	} else {
		struct vs_iface *f = cur_iface(L);
		if (f->ip.family == AF_INET && p > 32)
			D(L, 1, "prefix /%d is too large for the IPv4 address of this interface", p);
		else if (f->ip.prefix >= 0 && f->ip.prefix != p)
			D(L, 1, "prefix/mask disagrees with the prefix already given for this interface");
		else
			f->ip.prefix = p;
	}
}

static void p_if_prefix(struct ld *L, const char *v)
{
	uint64_t p;
	if (vs_parse_u64(v, &p) < 0 || p > 128)
		D(L, 1, "prefix '%s' is not a decimal number in 0..128", v);
	else
		set_prefix(L, (int)p);
}

static void p_if_mask(struct ld *L, const char *v)
{
	int p;
	vs_err e;
	if (vs_mask_to_prefix(v, &p, &e) < 0)
		D(L, 1, "%s", e.msg);
	else
		set_prefix(L, p);
}

static void p_if_lback(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_ip_parse(v, &L->c->lback, &e) < 0)
		D(L, 1, "%s", e.msg);
	else if (L->c->lback.family != AF_INET || L->c->lback.addr[0] != 127)
		D(L, 1, "loopback address '%s' must be an IPv4 address in 127.0.0.0/8", v);
}

static void p_if_ip(struct ld *L, const char *v)
{
	struct vs_iface *f = cur_iface(L);
	struct vs_ipaddr a;
	vs_err e;
	if (vs_ip_parse(v, &a, &e) < 0) {
		D(L, 1, "%s", e.msg);
		return;
	}
	if (f->ip.prefix >= 0 && a.prefix >= 0 && a.prefix != f->ip.prefix)
		D(L, 1, "prefix /%d disagrees with this interface's prefix or mask file", a.prefix);
	if (a.prefix < 0)
		a.prefix = f->ip.prefix;
	if (a.family == AF_INET && a.prefix > 32)
		D(L, 1, "prefix /%d is too large for an IPv4 address", a.prefix);
	f->ip = a;
}

static void p_if_name(struct ld *L, const char *v)
{
	if (!word_ok(v) || strlen(v) > 15)
		D(L, 1, "label '%s' is not allowed: 1..15 letters, digits, '.', '_' or '-'", v);
	else
		cur_iface(L)->label = vs_strdup(v);
}

static void p_if_nodev(struct ld *L, const char *v)
{
	(void)v;
	cur_iface(L)->nodev = true;
}
static void p_if_disabled(struct ld *L, const char *v)
{
	(void)v;
	cur_iface(L)->disabled = true;
}
static void p_if_down(struct ld *L, const char *v)
{
	(void)v;
	cur_iface(L)->down = true;
}

/* ---- networking (net/) ----------------------------------------------- */

static const char *const net_mode_names[VS_NET__COUNT] = {
	[VS_NET_NONE] = "none", [VS_NET_ISOLATED] = "isolated", [VS_NET_PRIVATE] = "private", [VS_NET_HOST] = "host",
};

const char *vs_net_mode_name(int mode)
{
	return mode >= 0 && mode < VS_NET__COUNT ? net_mode_names[mode] : "?";
}

static void p_net_mode(struct ld *L, const char *v)
{
	for (int i = 0; i < VS_NET__COUNT; i++)
		if (!strcmp(v, net_mode_names[i])) {
			L->c->net.mode = i;
			L->c->net.mode_set = true;
			return;
		}
	D(L, 1, "unknown network mode '%s'; allowed: isolated, private, none, host", v);
}

static void p_net_bridge(struct ld *L, const char *v)
{
	vs_err e;
	if (vs_ifname_check(v, &e) < 0)
		D(L, 1, "%s", e.msg);
	else if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(v))
		D(L, 1, "bridge name '%s' is not allowed: letters, digits, '.', '_' or '-'", v);
	else
		L->c->net.bridge = vs_strdup(v);
}

static void p_net_gateway(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		struct vs_ipaddr a;
		vs_err e;
		if (vs_ip_parse(L->lines[i].text, &a, &e) < 0) {
			D(L, L->lines[i].no, "%s", e.msg);
			continue;
		}
		if (a.family != AF_INET) {
			D(L, L->lines[i].no, "gateway '%s': only an IPv4 ADDR/PREFIX is supported (IPv6 guests are on-link)",
			  L->lines[i].text);
			continue;
		}
		if (a.prefix < 0 || a.prefix > 30) {
			D(L, L->lines[i].no, "gateway '%s' needs a prefix /1../30 (the bridge's subnet, e.g. 10.66.0.1/24)",
			  L->lines[i].text);
			continue;
		}
		if (L->c->net.gateway.family) {
			D(L, L->lines[i].no, "only one gateway address is allowed");
			continue;
		}
		L->c->net.gateway = a;
	}
}

static void p_net_routed(struct ld *L, const char *v)
{
	(void)v;
	L->c->net.routed = true;
}

/* The veth of a private guest has the largest MTU (guest <-> host traffic
 * at loopback speed); only its default route carries the MTU of the way
 * out, so that nothing the guest sends outside needs fragmenting. */
static void p_net_mtu(struct ld *L, const char *v)
{
	uint64_t m;
	if (vs_parse_u64(v, &m) < 0 || m < 576 || m > 65535)
		D(L, 1, "MTU '%s' is not a number from 576 to 65535 (the MTU of the host's way out, e.g. 1500)", v);
	else
		L->c->net.mtu = (unsigned)m;
}

static void p_net_nomasq(struct ld *L, const char *v)
{
	(void)v;
	L->c->net.nomasquerade = true;
}

static void p_net_tun(struct ld *L, const char *v)
{
	(void)v;
	L->c->net.tun = true;
}

/* "tcp" or "udp" of net/forward and net/host-ports */
static int parse_proto(struct ld *L, int line, const char *s, int *out)
{
	if (!strcmp(s, "tcp"))
		*out = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*out = IPPROTO_UDP;
	else {
		D(L, line, "protocol '%s' is not allowed: tcp or udp", s);
		return -1;
	}
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	uint64_t v;
	if (vs_parse_u64(s, &v) < 0 || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* net/forward: "PROTO [HOSTADDR:]HOSTPORT GUESTPORT" per line, PROTO tcp
 * or udp; an IPv6 host address in brackets: "[2001:db8::1]:8080". */
static void p_net_forward(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *t = L->lines[i].text;
		int no = L->lines[i].no;
		char proto[8], host[80], guest[16], extra[2];
		if (strlen(t) > 120 || sscanf(t, "%7s %79s %15s %1s", proto, host, guest, extra) != 3) {
			D(L, no, "'%s' is not a forward; write PROTO [HOSTADDR:]HOSTPORT GUESTPORT, e.g. 'tcp 10022 22'", t);
			continue;
		}
		struct vs_net_forward f = { .line = no };
		if (parse_proto(L, no, proto, &f.proto) < 0)
			continue;
		char *hp = host;
		char *colon = strrchr(host, ':');
		if (colon) {
			*colon = 0;
			char *a = host;
			size_t al = strlen(a);
			if (a[0] == '[' && al > 2 && a[al - 1] == ']') {
				a[al - 1] = 0;
				a++;
				if (!strchr(a, ':')) {
					D(L, no, "host address '[%s]': brackets are for IPv6 addresses only", a);
					continue;
				}
			} else if (strchr(a, ':')) {
				D(L, no, "host address '%s': write an IPv6 address in brackets, e.g. [2001:db8::1]:8080", a);
				continue;
			}
			vs_err e;
			if (vs_ip_parse(a, &f.host_addr, &e) < 0) {
				D(L, no, "host address: %s", e.msg);
				continue;
			}
			if (f.host_addr.prefix >= 0) {
				D(L, no, "host address '%s' must not have a prefix", a);
				continue;
			}
			hp = colon + 1;
		}
		if (parse_port(hp, &f.host_port) < 0) {
			D(L, no, "host port '%s' is not a port number 1..65535", hp);
			continue;
		}
		if (parse_port(guest, &f.guest_port) < 0) {
			D(L, no, "guest port '%s' is not a port number 1..65535", guest);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < L->c->net.n_fwd && !dup; k++) {
			const struct vs_net_forward *o = &L->c->net.fwd[k];
			dup = o->proto == f.proto && o->host_port == f.host_port &&
			      (!o->host_addr.family || !f.host_addr.family || vs_ip_equal(&o->host_addr, &f.host_addr));
			if (dup)
				D(L, no, "%s port %u is already forwarded on line %d", proto, f.host_port, o->line);
		}
		if (dup)
			continue;
		L->c->net.fwd = realloc(L->c->net.fwd, (L->c->net.n_fwd + 1) * sizeof *L->c->net.fwd);
		if (!L->c->net.fwd)
			abort();
		L->c->net.fwd[L->c->net.n_fwd++] = f;
	}
}

/* net/host-ports: "PROTO PORT" per line, the host services a private
 * guest may reach (vserver(8) NETWORKING) */
static void p_net_host_ports(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++) {
		const char *t = L->lines[i].text;
		int no = L->lines[i].no;
		char proto[8], port[16], extra[2];
		struct vs_net_forward f = { .line = no };
		if (strlen(t) > 40 || sscanf(t, "%7s %15s %1s", proto, port, extra) != 2) {
			D(L, no, "'%s' is not a host port; write PROTO PORT, e.g. 'udp 53'", t);
			continue;
		}
		if (parse_proto(L, no, proto, &f.proto) < 0)
			continue;
		if (parse_port(port, &f.host_port) < 0) {
			D(L, no, "port '%s' is not a port number 1..65535", port);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < L->c->net.n_host_ports && !dup; k++)
			dup = L->c->net.host_ports[k].proto == f.proto && L->c->net.host_ports[k].host_port == f.host_port;
		if (dup) {
			D(L, no, "%s port %u is listed twice", proto, f.host_port);
			continue;
		}
		L->c->net.host_ports = realloc(L->c->net.host_ports, (L->c->net.n_host_ports + 1) * sizeof(f));
		if (!L->c->net.host_ports)
			abort();
		L->c->net.host_ports[L->c->net.n_host_ports++] = f;
	}
}

void vs_config_lback(const struct vs_config *c, struct vs_ipaddr *out)
{
	if (c->lback.family) {
		*out = c->lback;
		return;
	}
	/* 127.1.HI.LO: clear of 127.0.0.1, 127.0.1.1 (Debian's host name
	 * line) and 127.0.0.53 (systemd-resolved) */
	memset(out, 0, sizeof *out);
	out->family = AF_INET;
	out->prefix = -1;
	out->addr[0] = 127;
	out->addr[1] = 1;
	out->addr[2] = (uint8_t)(c->context >> 8);
	out->addr[3] = (uint8_t)c->context;
}

void vs_config_veth_name(const struct vs_config *c, char *buf, size_t len)
{
	snprintf(buf, len, "vs-%s", c->name);
}

static void p_shell(struct ld *L, const char *v)
{
	if (v[0] != '/')
		D(L, 1, "shell '%s' must be an absolute path inside the guest", v);
	else
		L->c->shell = vs_strdup(v);
}

static void p_disk_image(struct ld *L, const char *v)
{
	size_t n = strlen(v);
	if (v[0] != '/' || v[n - 1] == '/' || strstr(v, "/../") || vs_str_endswith(v, "/.."))
		D(L, 1, "disk image '%s' is not allowed: the absolute path of an image file, without '..'", v);
	else
		L->c->disk_image = vs_strdup(v);
}

static void p_disabled(struct ld *L, const char *v)
{
	(void)v;
	L->c->disabled = true;
}

static void p_nice(struct ld *L, const char *v)
{
	int64_t n;
	if (vs_parse_i64(v, &n) < 0 || n < -20 || n > 19)
		D(L, 1, "nice '%s' is not allowed: an integer -20..19", v);
	else {
		L->c->nice = (int)n;
		L->c->nice_set = true;
	}
}

/* apps/vshelper/sync-timeout and apps/init/boot-timeout: seconds */
static void p_timeout(struct ld *L, const char *v)
{
	bool boot = !strcmp(L->rel, "apps/init/boot-timeout");
	uint64_t t;
	if (vs_parse_u64(v, &t) < 0 || t > 86400)
		D(L, 1, "timeout '%s' is not allowed: seconds, 0..86400%s", v,
		  boot ? " (0: start does not wait for the boot)" : "");
	else
		*(boot ? &L->c->boot_timeout : &L->c->stop_timeout) = (int)t;
}

static void p_link(struct ld *L, const char *v)
{
	(void)L;
	(void)v; /* handled by the walker */
}

/* dlimits/<x>/<file>: the entry is kept in lib/dlimits.c's parser */
static void p_dlimit(struct ld *L, const char *v)
{
	_cleanup_free_ char *why = NULL;
	if (vs_dlimit_set(&L->c->dlimits, L->rel, v, &why) < 0)
		D(L, first_line_no(L), "%s", why);
}

/* limits/, rlimits/, sched/, cgroup/, ulimits/, ionice/, badness: lib/reslimits.c */
static void p_limit(struct ld *L, const char *v)
{
	vs_limits_parse_key(&L->c->limits, L->rel, v, first_line_no(L), L->diags);
}

static void p_limit_list(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++)
		vs_limits_parse_key(&L->c->limits, L->rel, L->lines[i].text, L->lines[i].no, L->diags);
}

/* seccomp: the guest's system call rules, lib/sysfilter.c */
static void p_seccomp(struct ld *L, const char *unused)
{
	(void)unused;
	for (size_t i = 0; i < L->n_lines; i++)
		vs_seccomp_parse_line(&L->c->seccomp, L->rel, L->lines[i].no, L->lines[i].text, L->diags);
}

static void p_nonewprivs(struct ld *L, const char *v)
{
	(void)v;
	L->c->seccomp.no_new_privs = true;
}

/* userns / nouserns: lib/userns.h; both present is an error */
static void p_userns(struct ld *L, const char *v)
{
	(void)v;
	bool on = !strcmp(L->rel, "userns");
	if (L->c->userns_flag == !on)
		D(L, 0, "both userns and nouserns are present: remove one");
	L->c->userns_flag = on;
}

static const struct key keys[] = {
	{ "name", K_SCALAR, p_name, "display name shown by vserver-stat (default: the directory name)" },
	{ "context", K_SCALAR, p_context, "unique context number, 2..49151" },
	{ "vdir", K_LINK, p_link, "symlink to the guest root (default .defaults/vdirbase/NAME)" },
	{ "cache", K_LINK, p_link, "symlink to the guest's cache directory" },
	{ "run", K_LINK, p_link, "util-vserver run link (ignored; state lives in the run directory)" },
	{ "uts/nodename", K_SCALAR, p_nodename, "host name inside the guest (default: the guest name)" },
	{ "uts/domainname", K_SCALAR, p_domainname, "NIS domain name inside the guest" },
	{ "uts/machine", K_SCALAR, p_machine, "uname -m inside the guest: the host's, or i686 (32-bit personality)" },
	{ "personality", K_LIST, p_personality, "LINUX or LINUX_32BIT, then personality flags, one per line" },
	{ "apps/init/style", K_SCALAR, p_style, "init style: sysv, plain or systemd" },
	{ "apps/init/mark", K_SCALAR, p_mark, "autostart mark, e.g. default" },
	{ "apps/init/depends", K_LIST, p_depends, "guests to start before this one, one per line" },
	{ "apps/init/runlevel", K_SCALAR, p_runlevel, "start runlevel (default 3)" },
	{ "apps/init/cmd.start", K_ARGV, p_cmd_start, "start command, one argument per line" },
	{ "apps/init/cmd.stop", K_ARGV, p_cmd_stop, "stop command, one argument per line" },
	{ "apps/init/environment", K_ARGV, p_environment, "VAR=VALUE lines: the guest's start environment" },
	{ "apps/init/killseq", K_ARGV, p_killseq, "SIGNAL [WAIT SIGNAL]..., one token per line (default 15 5 9)" },
	{ "apps/init/boot-timeout", K_SCALAR, p_timeout,
	  "seconds start waits for the guest's boot to finish (sysv: its rc; systemd: READY=1; default 30, 0: no wait)" },
	{ "apps/vshelper/sync-timeout", K_SCALAR, p_timeout,
	  "seconds stop waits for a clean shutdown before killseq (default 30)" },
	{ "bcapabilities", K_LIST, p_bcaps, "capabilities added to (or with ~ removed from) the default set" },
	{ "fstab", K_FSTAB, p_fstab, "mounts, targets relative to the guest root" },
	{ "fstab.remote", K_FSTAB, p_fstab_remote, "network mounts, done in the guest's network context" },
	{ "interfaces/dev", K_SCALAR, p_if_dev, "default device for the guest's addresses" },
	{ "interfaces/prefix", K_SCALAR, p_if_prefix, "default prefix length" },
	{ "interfaces/mask", K_SCALAR, p_if_mask, "default netmask (dotted quad)" },
	{ "interfaces/lback", K_SCALAR, p_if_lback, "the guest's own loopback address (127.x.y.z)" },
	{ "interfaces/*/ip", K_SCALAR, p_if_ip, "address, ADDR or ADDR/PREFIX (required)" },
	{ "interfaces/*/dev", K_SCALAR, p_if_dev, "device of this address" },
	{ "interfaces/*/prefix", K_SCALAR, p_if_prefix, "prefix length of this address" },
	{ "interfaces/*/mask", K_SCALAR, p_if_mask, "netmask of this address" },
	{ "interfaces/*/name", K_SCALAR, p_if_name, "address label (DEV:NAME)" },
	{ "interfaces/*/nodev", K_BOOL, p_if_nodev, "the address already exists on the host; do not add it" },
	{ "interfaces/*/disabled", K_BOOL, p_if_disabled, "skip this address" },
	{ "interfaces/*/down", K_BOOL, p_if_down, "do not bring the device up" },
	{ "sysctl/*/setting", K_SCALAR, p_sysctl,
	  "a namespaced kernel setting for the guest: net.* (modes private, none), kernel.shm*, kernel.msg*, "
	  "kernel.sem, fs.mqueue.*" },
	{ "sysctl/*/value", K_SCALAR, p_sysctl, "its value, written at start" },
	{ "net/mode", K_SCALAR, p_net_mode,
	  "isolated (host stack, only the guest's addresses), private (own namespace, veth), none, host" },
	{ "net/bridge", K_SCALAR, p_net_bridge, "private: the bridge of the guest's veth (default vsbr0)" },
	{ "net/gateway", K_LIST, p_net_gateway, "private: the bridge's address ADDR/PREFIX, the guest's default route" },
	{ "net/routed", K_BOOL, p_net_routed, "private: no bridge; /32 routes to the guest's veth" },
	{ "net/mtu", K_SCALAR, p_net_mtu,
	  "private: the MTU of the guest's default route (default: the host's default route's device, else 1500)" },
	{ "net/nomasquerade", K_BOOL, p_net_nomasq, "private: no source NAT of the guest's outgoing traffic" },
	{ "net/tun", K_BOOL, p_net_tun, "private: /dev/net/tun in the guest, for its own tun and tap devices" },
	{ "net/forward", K_LIST, p_net_forward, "private: port forwards, PROTO [HOSTADDR:]HOSTPORT GUESTPORT per line" },
	{ "net/host-ports", K_LIST, p_net_host_ports,
	  "private: host services the guest may reach, PROTO PORT per line (default: none)" },
	{ "shell", K_SCALAR, p_shell, "shell for vserver NAME enter" },
	{ "disabled", K_BOOL, p_disabled, "not started by autostart" },
	{ "disk/image", K_SCALAR, p_disk_image,
	  "the guest root's own ext4 file system: an image file, loop-mounted on the root (build --disk-size)" },
	{ "dlimits/*/directory", K_SCALAR, p_dlimit, "disk limit: the guest root (project quota over its tree)" },
	{ "dlimits/*/space_total", K_SCALAR, p_dlimit, "disk limit: hard limit on space in KiB" },
	{ "dlimits/*/inodes_total", K_SCALAR, p_dlimit, "disk limit: hard limit on inodes" },
	{ "dlimits/*/reserved", K_SCALAR, p_dlimit, "disk limit: percent reserved for root, 0..100 (ignored)" },
	{ "dlimits/*/disabled", K_BOOL, p_dlimit, "disk limit: skip this entry" },
	{ "nice", K_SCALAR, p_nice, "nice level of the guest's processes, -20..19" },
	{ "limits/memory", K_SCALAR, p_limit, "hard memory limit: bytes (suffix K, M, G or T) or max" },
	{ "limits/memory.high", K_SCALAR, p_limit, "soft memory limit, reclaim and throttle above it (<= memory)" },
	{ "limits/memory.low", K_SCALAR, p_limit, "memory protected from reclaim (cgroup v2 only)" },
	{ "limits/swap", K_SCALAR, p_limit, "swap besides memory: bytes or max (cgroup v1: needs memory)" },
	{ "limits/pids", K_SCALAR, p_limit, "processes and threads: 8..4194304 or max" },
	{ "limits/cpu.weight", K_SCALAR, p_limit, "CPU share 1..10000 (default 100)" },
	{ "limits/cpu.max", K_SCALAR, p_limit,
	  "CPU cap 'QUOTA PERIOD' in microseconds, or max (50000 100000: half a CPU)" },
	{ "limits/cpuset.cpus", K_SCALAR, p_limit, "CPUs the guest may use, e.g. 0-1,3" },
	{ "limits/cpuset.mems", K_SCALAR, p_limit, "memory nodes the guest may use, e.g. 0" },
	{ "limits/io.weight", K_SCALAR, p_limit, "I/O share 1..10000 (default 100)" },
	{ "limits/io.max", K_LIST, p_limit_list, "I/O caps, lines 'MAJ:MIN [rbps=N] [wbps=N] [riops=N] [wiops=N]'" },
	{ "rlimits/rss", K_SCALAR, p_limit, "util-vserver: memory limit in pages (as rss.hard)" },
	{ "rlimits/rss.hard", K_SCALAR, p_limit, "util-vserver: memory limit in pages" },
	{ "rlimits/rss.soft", K_SCALAR, p_limit, "util-vserver: soft memory limit (memory.high) in pages" },
	{ "rlimits/rss.min", K_SCALAR, p_limit, "util-vserver: protected memory (memory.low) in pages" },
	{ "rlimits/nproc", K_SCALAR, p_limit, "util-vserver: process limit (pids)" },
	{ "rlimits/nproc.hard", K_SCALAR, p_limit, "util-vserver: process limit (pids)" },
	{ "sched/fill-rate", K_SCALAR, p_limit, "util-vserver token bucket: CPU cap fill-rate/interval (cpu.max)" },
	{ "sched/interval", K_SCALAR, p_limit, "util-vserver token bucket: CPU cap fill-rate/interval (cpu.max)" },
	{ "sched/tokens-max", K_SCALAR, p_limit, "util-vserver token bucket: burst in 1 ms tokens (cpu.max.burst)" },
	{ "cgroup/*", K_SCALAR, p_limit,
	  "cgroup control file written verbatim at start (memory. cpu. cpuset. pids. io. blkio. hugetlb.)" },
	{ "ulimits/*", K_SCALAR, p_limit,
	  "per-process limit RES[.soft|.hard]: integer, inf, K/M (x1024), k/m (x1000)" },
	{ "ionice/class", K_SCALAR, p_limit, "I/O scheduling class: 1 realtime, 2 best-effort, 3 idle" },
	{ "ionice/priority", K_SCALAR, p_limit, "I/O priority 0..7 (class 2 if no class is given)" },
	{ "badness", K_SCALAR, p_limit, "OOM score adjustment of the guest's processes, -1000..1000 (oom_score_adj)" },
	{ "seccomp", K_LIST, p_seccomp, "system call rules: 'deny SYSCALL [ERRNO]' or 'allow SYSCALL' per line" },
	{ "nonewprivs", K_BOOL, p_nonewprivs, "no_new_privs for every guest process (setuid programs lose their power)" },
	{ "userns", K_BOOL, p_userns,
	  "user-namespace guest: guest ids 0..65535 are host ids 65536*context.. (default: the setting userns)" },
	{ "nouserns", K_BOOL, p_userns, "not a user-namespace guest, whatever the setting userns says" },
};

/* util-vserver keys that are recognised but not (or not yet) provided:
 * a clear error instead of "unknown file". */
static const struct {
	const char *path, *why;
} unsupported[] = {
	{ "ccapabilities", "context capabilities need the Linux-VServer kernel patch" },
	{ "cflags", "context flags need the Linux-VServer kernel patch" },
	{ "flags", "context flags need the Linux-VServer kernel patch" },
	{ "nflags", "network flags need the Linux-VServer kernel patch" },
	{ "ncapabilities", "network capabilities need the Linux-VServer kernel patch" },
	{ "ncontext", "network contexts need the Linux-VServer kernel patch" },
	{ "noncontext", "network contexts need the Linux-VServer kernel patch" },
	{ "tag", "filesystem tagging needs the Linux-VServer kernel patch" },
	{ "capabilities", "2.4-kernel key; use bcapabilities" },
	{ "umask", "namespace unsharing is controlled by vserver itself" },
	{ "schedule", "deprecated util-vserver key; use sched/fill-rate and sched/interval, or limits/cpu.max" },
	/* limits that cannot map onto a stock kernel (vserver(8) LIMITS) */
	{ "sched/prio-bias", "priority biasing has no cgroup equivalent; use limits/cpu.weight" },
	{ "sched/priority-bias", "priority biasing has no cgroup equivalent; use limits/cpu.weight" },
	{ "sched/idle-time", "the idle-time token bucket has no cgroup equivalent (idle CPU goes to others anyway)" },
	{ "sched/fill-rate2", "the idle-time token bucket has no cgroup equivalent (idle CPU goes to others anyway)" },
	{ "sched/interval2", "the idle-time token bucket has no cgroup equivalent (idle CPU goes to others anyway)" },
	{ "sched/tokens", "cpu.max refills the quota every period: an initial fill has no equivalent; remove it" },
	{ "sched/tokens-min", "cpu.max refills the quota every period: a resume level has no equivalent; remove it" },
	{ "sched/*", "per-CPU and per-bucket settings (cpu-id, bucket-id directories) have no cgroup equivalent; "
		     "mapped are fill-rate, interval and tokens-max" },
	{ "rlimits/as*", "per-context address-space limits do not exist on a stock kernel; use ulimits/as for a "
			 "per-process limit" },
	{ "rlimits/anon*", "anonymous memory is not limited apart from the rest; use limits/memory (or rlimits/rss)" },
	{ "rlimits/shmem*", "shared memory is charged to the guest's memory; use limits/memory (and the IPC "
			    "namespace's kernel.shm* sysctls)" },
	{ "rlimits/nofile*", "a stock kernel has no per-guest count of open files; use ulimits/nofile for a "
			     "per-process limit (their kernel memory is charged to limits/memory)" },
	{ "rlimits/openfd*", "a stock kernel has no per-guest count of open files; use ulimits/nofile for a "
			     "per-process limit" },
	{ "rlimits/nsock*", "a stock kernel has no per-guest socket count; socket memory is charged to limits/memory" },
	{ "rlimits/semary*", "System V semaphores are limited per IPC namespace (kernel.sem), not per guest" },
	{ "rlimits/nsems*", "System V semaphores are limited per IPC namespace (kernel.sem), not per guest" },
	{ "rlimits/dentry*", "a stock kernel has no per-guest dentry count; dentries are charged to limits/memory" },
	{ "rlimits/msgqueue*", "POSIX message queues are limited per IPC namespace (fs.mqueue.*) and per user "
			       "(ulimits/msgqueue)" },
	{ "rlimits/mapped*", "a stock kernel has no per-guest count of mapped pages; use limits/memory" },
	{ "rlimits/nproc*", "the pids controller has one limit only: use rlimits/nproc or limits/pids" },
	{ "rlimits/rss*", "mapped are rss, rss.hard, rss.soft and rss.min" },
	{ "rlimits", "a per-process resource: use ulimits/<res>; per guest, rss and nproc map onto limits/ "
		     "(vserver(8) LIMITS)" },
	{ "nocgroup", "vserver always uses a cgroup per guest" },
	{ "cpuset", "the legacy cpuset interface is not provided; use limits/cpuset.cpus and limits/cpuset.mems" },
	{ "spaces", "vserver always gives each guest its own namespaces" },
	{ "namespace", "vserver always uses a private mount namespace" },
	{ "nonamespace", "vserver always uses a private mount namespace" },
	{ "netns", "util-vserver's netns/ is not read; use net/mode private (vserver(8) NETWORKING)" },
	{ "nonetns", "util-vserver's netns/ is not read; use net/mode" },
	{ "fstab.local", "deprecated util-vserver key; merge it into fstab" },
	{ "keepfds", "a guest always starts with only fds 0-2" },
	{ "legacy", "2.4-era configuration is not supported" },
	{ "noisy", "not needed" },
	{ "hostname", "deprecated util-vserver key; use uts/nodename" },
	{ "domainname", "deprecated util-vserver key; use uts/domainname" },
	{ "uts/context", "internal util-vserver key" },
	{ "uts/sysname", "a stock kernel reports the host's value; only nodename, domainname and machine can differ" },
	{ "uts/release", "a stock kernel reports the host's value; only nodename, domainname and machine can differ" },
	{ "uts/version", "a stock kernel reports the host's value; only nodename, domainname and machine can differ" },
	{ "apps/init/cmd.prepare", "not provided" },
	{ "apps/init/runlevel.start", "use apps/init/runlevel" },
	{ "apps/init/runlevel.stop", "the stop runlevel is always 6 (sysv) or the init's own shutdown" },
	{ "apps/init/sync", "not needed: stop is always synchronous" },
	{ "apps/init/tty", "not needed: console output goes to the console log" },
	{ "apps/init/mtab", "vserver writes /etc/mtab as a link to /proc/self/mounts" },
	{ "apps/vshelper", "not needed: the per-guest monitor handles reboot and halt" },
	{ "apps/vunify", "unification is not provided" },
	{ "apps/pkgmgmt", "host-side package management is not provided" },
	{ "apps/vdevmap", "device maps are not provided" },
	{ "interfaces/bcast", "broadcast addresses are derived from the prefix" },
	{ "interfaces/scope", "ignored by util-vserver too" },
	{ "interfaces/vlandev", "VLAN creation is not provided; create it on the host and use it as dev" },
	{ "interfaces/novlandev", "VLAN creation is not provided" },
	{ "interfaces/*/bcast", "broadcast addresses are derived from the prefix" },
	{ "interfaces/*/scope", "ignored by util-vserver too" },
	{ "interfaces/*/peer", "not provided" },
	{ "interfaces/*/mac", "indirect interfaces are not provided" },
	{ "interfaces/*/extip", "indirect interfaces are not provided" },
	{ "interfaces/*/indirect", "indirect interfaces need the dummy module; not provided" },
	{ "interfaces/*/tun", "host-side tun/tap interfaces are not provided; a guest in mode private with net/tun "
			      "makes its own" },
	{ "interfaces/*/tap", "host-side tun/tap interfaces are not provided; a guest in mode private with net/tun "
			      "makes its own" },
	{ "interfaces/*/only_ip", "deprecated util-vserver key; use nodev" },
	{ "interfaces/*/vlandev", "VLAN creation is not provided" },
	{ "interfaces/*/novlandev", "VLAN creation is not provided" },
};

static bool ignored_file(const char *n)
{
	static const char *const suffixes[] = { ".rpmsave", ".rpmnew", ".rpmorig", ".dpkg-old", ".dpkg-dist",
						".dpkg-new", "~" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(suffixes); i++)
		if (vs_str_endswith(n, suffixes[i]))
			return true;
	return strstr(n, ".cfsaved") != NULL;
}

static bool path_match(const char *pattern, const char *rel)
{
	return fnmatch(pattern, rel, FNM_PATHNAME) == 0;
}

/* Is `rel` a directory that some key lives under? */
static bool known_dir(const char *rel)
{
	size_t n = strlen(rel);
	for (size_t i = 0; i < VS_ARRAY_SIZE(keys); i++) {
		const char *p = keys[i].path;
		/* compare rel against each prefix of p that ends at a '/' */
		for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
			_cleanup_free_ char *pre = strndup(p, (size_t)(s - p));
			if (pre && path_match(pre, rel) && strlen(rel) == n)
				return true;
		}
	}
	return false;
}

static const struct key *find_key(const char *rel)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(keys); i++)
		if (path_match(keys[i].path, rel))
			return &keys[i];
	return NULL;
}

static const char *find_unsupported(const char *rel)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(unsupported); i++)
		if (path_match(unsupported[i].path, rel) ||
		    (vs_str_startswith(rel, unsupported[i].path) && rel[strlen(unsupported[i].path)] == '/'))
			return unsupported[i].why;
	return NULL;
}

/* Split file content into lines, reporting bytes that are never allowed.
 * Returns false if the file is unusable. */
static bool split_lines(struct ld *L, char *data, size_t len)
{
	bool ok = true;
	if (memchr(data, 0, len)) {
		D(L, 0, "contains a NUL byte");
		return false;
	}
	int no = 1;
	char *p = data;
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > VS_LINE_MAX) {
			D(L, no, "line is %zu bytes long, at most %d allowed", l, VS_LINE_MAX);
			ok = false;
		}
		for (size_t i = 0; i < l && ok; i++) {
			unsigned char ch = (unsigned char)p[i];
			if (ch == '\r') {
				D(L, no, "carriage return (DOS line ending); save the file with Unix line endings");
				ok = false;
			} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				D(L, no, "control character 0x%02x is not allowed", ch);
				ok = false;
			}
		}
		L->lines = realloc(L->lines, (L->n_lines + 1) * sizeof *L->lines);
		if (!L->lines)
			abort();
		L->lines[L->n_lines++] = (struct line){ .no = no, .text = strndup(p, l) };
		no++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return ok;
}

static void free_lines(struct ld *L)
{
	for (size_t i = 0; i < L->n_lines; i++)
		free(L->lines[i].text);
	free(L->lines);
	L->lines = NULL;
	L->n_lines = 0;
}

/* Keep only meaningful lines for list and argv kinds. */
static void filter_lines(struct ld *L, bool skip_comments, bool trim)
{
	size_t o = 0;
	for (size_t i = 0; i < L->n_lines; i++) {
		char *t = L->lines[i].text;
		if (trim) {
			while (*t == ' ' || *t == '\t')
				memmove(t, t + 1, strlen(t));
			size_t n = strlen(t);
			while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
				t[--n] = 0;
		}
		if (!*t || (skip_comments && *t == '#')) {
			free(t);
			continue;
		}
		L->lines[o++] = L->lines[i];
	}
	L->n_lines = o;
}

static void parse_file(struct ld *L, int dirfd, const char *fname, const struct key *k)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	vs_err e;
	if (vs_read_file_at(dirfd, fname, VS_CONFIG_MAX_FILE, &data, &len, &e) < 0) {
		const char *m = strchr(e.msg, ':');
		D(L, 0, "%s", m ? m + 2 : e.msg);
		return;
	}
	if (!split_lines(L, data, len)) {
		free_lines(L);
		return;
	}
	switch (k->kind) {
	case K_SCALAR: {
		/* drop trailing empty lines */
		while (L->n_lines && !L->lines[L->n_lines - 1].text[0]) {
			free(L->lines[--L->n_lines].text);
		}
		if (!L->n_lines || !L->lines[0].text[0]) {
			D(L, 1, "empty value; expected %s", k->doc);
			break;
		}
		if (L->n_lines > 1) {
			size_t i = 1;
			while (!L->lines[i].text[0])
				i++; /* trailing empty lines are gone: a non-empty one follows */
			D(L, L->lines[i].no, "unexpected second value '%s': this file holds a single value",
			  L->lines[i].text);
			break;
		}
		const char *v = L->lines[0].text;
		size_t n = strlen(v);
		if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t') {
			D(L, 1, "value '%s' has leading or trailing blanks", v);
			break;
		}
		k->parse(L, v);
		break;
	}
	case K_BOOL:
		for (size_t i = 0; i < L->n_lines; i++)
			if (L->lines[i].text[0]) {
				D(L, L->lines[i].no,
				  "'%s': this is a flag file, its existence turns it on; it must be empty (remove the file to turn it off)",
				  L->lines[i].text);
				goto out;
			}
		k->parse(L, "");
		break;
	case K_LIST:
		filter_lines(L, true, true);
		k->parse(L, NULL);
		break;
	case K_ARGV:
		filter_lines(L, false, false);
		k->parse(L, NULL);
		break;
	case K_FSTAB:
		k->parse(L, NULL);
		break;
	case K_LINK:
		break;
	}
out:
	free_lines(L);
}

static void check_link(struct ld *L, int dirfd, const char *fname, const char *rel)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, fname, buf, sizeof buf - 1);
	if (n < 0) {
		D(L, 0, "cannot read link: %s", strerror(errno));
		return;
	}
	buf[n] = 0;
	if (!strcmp(rel, "vdir")) {
		free(L->c->vdir);
		L->c->vdir = vs_strdup(buf);
	} else if (!strcmp(rel, "cache")) {
		free(L->c->cache);
		L->c->cache = vs_strdup(buf);
	}
}

/* ---- scripts/ (lib/scripts.h) ---------------------------------------------- */

/* Names in a directory, sorted, without ".", "..", hidden files (a shell
 * glob skips them, as util-vserver's did) and backup files. */
static void sorted_names(int dirfd, vs_strv *out)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.' && !ignored_file(de->d_name))
			vs_strv_push(out, de->d_name);
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, vs_strv_cmp);
}

/* A scriptlet: a regular file or a link, recorded here; whether root
 * alone can change it (it, every directory and link on the way to it:
 * HS-09) is decided by check_scriptlets once the guest root is known. */
static void add_scriptlet(struct ld *L, int dirfd, const char *nm, const char *abs, int phase, bool is_default)
{
	struct stat st;
	if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		D(L, 0, "%s", strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		D(L, 0, "is not a regular file; a scriptlet is a program or a bash script to source");
		return;
	}
	struct vs_scriptlet *n = realloc(L->c->scripts, (L->c->n_scripts + 1) * sizeof *n);
	if (!n)
		abort();
	L->c->scripts = n;
	n[L->c->n_scripts++] = (struct vs_scriptlet){ .phase = phase, .path = vs_strdup(abs), .rel = vs_strdup(L->rel),
						      .is_default = is_default };
}

void vs_config_guest_roots(const struct vs_settings *s, vs_strv *out)
{
	vs_strv_push(out, s->vdirbase);
	int dfd = open(s->confdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		vs_err e;
		if (de->d_name[0] == '.' || vs_name_check(de->d_name, &e) < 0)
			continue;
		char link[PATH_MAX];
		_cleanup_free_ char *lp = vs_asprintf("%s/vdir", de->d_name);
		ssize_t n = readlinkat(dirfd(d), lp, link, sizeof link - 1);
		if (n > 0 && link[0] == '/') {
			link[n] = 0;
			vs_strv_push(out, link);
		}
		vs_strv_push_take(out, vs_asprintf("%s/%s", s->vdirbase, de->d_name));
	}
	closedir(d);
}

static void check_scriptlets(struct ld *L)
{
	if (!L->c->n_scripts)
		return;
	if (L->c->vdir)
		vs_strv_push(&L->c->script_roots, L->c->vdir);
	vs_config_guest_roots(L->s, &L->c->script_roots);
	const char *const *roots = (const char *const *)L->c->script_roots.v;
	for (size_t i = 0; i < L->c->n_scripts; i++) {
		struct vs_scriptlet *x = &L->c->scripts[i];
		_cleanup_free_ char *why = NULL;
		int r = vs_script_trusted(x->path, roots, &x->exec, &why);
		if (r == 0)
			continue;
		vs_diags_add(L->diags, x->rel, 0, "%s", why);
		if (r == -1) /* not trusted: the configuration is not used at all */
			vs_diags_add(&L->strict, x->rel, 0, "%s", why);
	}
}

/* BASE/scripts/PHASE and BASE/scripts/PHASE.d/ *, in running order.
 * base: the configuration directory (messages name scripts/...
 * relative to it) or .defaults (messages name the absolute path). */
static void load_scripts(struct ld *L, int basefd, const char *base, bool is_default)
{
	const char *saved = L->rel;
	_cleanup_free_ char *sabs = vs_asprintf("%s/scripts", base);
	struct stat st;
	if (fstatat(basefd, "scripts", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	L->rel = is_default ? sabs : "scripts";
	if (!S_ISDIR(st.st_mode)) {
		D(L, 0, "must be a directory of scriptlets (PHASE files and PHASE.d directories)");
		L->rel = saved;
		return;
	}
	_cleanup_close_ int sfd = openat(basefd, "scripts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0) {
		D(L, 0, "cannot open directory: %s", strerror(errno));
		L->rel = saved;
		return;
	}
	strict_check(L, L->rel, &st);
	_cleanup_strv_ vs_strv names = { 0 };
	sorted_names(sfd, &names);
	for (size_t i = 0; i < names.n; i++) {
		const char *nm = names.v[i];
		size_t len = strlen(nm);
		bool dotd = vs_str_endswith(nm, ".d");
		int phase = vs_script_phase_of(nm, dotd ? len - 2 : len);
		_cleanup_free_ char *abs = vs_asprintf("%s/%s", sabs, nm);
		_cleanup_free_ char *rel = vs_asprintf("scripts/%s", nm);
		L->rel = is_default ? abs : rel;
		if (phase < 0) {
			D(L, 0, "unknown scriptlet phase '%.*s'; the phases are %s (a file, or a directory PHASE.d)",
			  (int)(dotd ? len - 2 : len), nm, vs_script_phase_list());
			continue;
		}
		if (!dotd) {
			add_scriptlet(L, sfd, nm, abs, phase, is_default);
			continue;
		}
		if (fstatat(sfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			D(L, 0, "must be a directory of scriptlets");
			continue;
		}
		_cleanup_close_ int dfd = openat(sfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || fstat(dfd, &st) < 0) {
			D(L, 0, "cannot open directory: %s", strerror(errno));
			continue;
		}
		strict_check(L, L->rel, &st);
		_cleanup_strv_ vs_strv subs = { 0 };
		sorted_names(dfd, &subs);
		for (size_t j = 0; j < subs.n; j++) {
			_cleanup_free_ char *sa = vs_asprintf("%s/%s", abs, subs.v[j]);
			_cleanup_free_ char *sr = vs_asprintf("%s/%s", rel, subs.v[j]);
			L->rel = is_default ? sa : sr;
			add_scriptlet(L, dfd, subs.v[j], sa, phase, is_default);
		}
	}
	L->rel = saved;
}

static void walk(struct ld *L, int dirfd, const char *prefix, int depth)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	vs_strv names = { 0 };
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			vs_strv_push(&names, de->d_name);
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, vs_strv_cmp);
	for (size_t i = 0; i < names.n; i++) {
		const char *nm = names.v[i];
		_cleanup_free_ char *rel = *prefix ? vs_asprintf("%s/%s", prefix, nm) : vs_strdup(nm);
		L->rel = rel;
		if (ignored_file(nm))
			continue;
		if (depth == 0 && !strcmp(nm, "scripts")) {
			load_scripts(L, dirfd, L->c->cfgdir, false);
			continue;
		}
		struct stat st;
		if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		const struct key *k = find_key(rel);
		if (S_ISLNK(st.st_mode)) {
			if (k && k->kind == K_LINK)
				check_link(L, dirfd, nm, rel);
			else
				D(L, 0, "is a symbolic link; only vdir, cache and run may be links");
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			const char *why;
			if (depth < 4 && known_dir(rel)) {
				if (!strcmp(prefix, "interfaces")) {
					vs_err e;
					if (!word_ok(nm) || strlen(nm) > 32) {
						D(L, 0, "interface directory name '%s' is not allowed (letters, digits, '.', '_', '-')", nm);
						continue;
					}
					(void)e;
					cur_iface(L);
				}
				int sub = openat(dirfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub < 0) {
					D(L, 0, "cannot open directory: %s", strerror(errno));
					continue;
				}
				struct stat sst;
				if (fstat(sub, &sst) == 0)
					strict_check(L, rel, &sst);
				walk(L, sub, rel, depth + 1);
				close(sub);
			} else if ((why = find_unsupported(rel)))
				D(L, 0, "not supported: %s", why);
			else if (k)
				D(L, 0, "is a directory, expected a file (%s)", k->doc);
			else
				D(L, 0, "unknown configuration directory (typo?)");
			continue;
		}
		if (k && k->kind == K_LINK) {
			D(L, 0, "must be a symbolic link (%s)", k->doc);
			continue;
		}
		if (!k) {
			const char *why = find_unsupported(rel);
			if (why)
				D(L, 0, "not supported: %s", why);
			else
				D(L, 0, "unknown configuration file (typo?); see vserver(8) for the keys");
			continue;
		}
		strict_check(L, rel, &st);
		parse_file(L, dirfd, nm, k);
	}
	vs_strv_free(&names);
	closedir(d);
}


static bool in_subnet(const struct vs_ipaddr *net, const struct vs_ipaddr *a)
{
	if (net->family != a->family)
		return false;
	int bits = net->prefix;
	for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((net->addr[i] & m) != (a->addr[i] & m))
			return false;
	}
	return true;
}

/* The network mode and what it needs (vserver(8) NETWORKING). */
static void finish_net(struct ld *L)
{
	struct vs_config *c = L->c;
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ip.family && !c->ifaces[i].disabled)
			*(c->ifaces[i].ip.family == AF_INET ? &n4 : &n6) += 1;
	if (!c->net.mode_set)
		c->net.mode = n4 + n6 ? VS_NET_ISOLATED : VS_NET_NONE;
	const char *mode = vs_net_mode_name(c->net.mode);
	L->rel = "net/mode";
	bool priv = c->net.mode == VS_NET_PRIVATE;
	switch (c->net.mode) {
	case VS_NET_ISOLATED:
		if (!n4 && !n6)
			D(L, 1, "mode isolated needs at least one address in interfaces/N/ip");
		if (n4 > 16 || n6 > 16)
			D(L, 1, "mode isolated allows at most 16 IPv4 and 16 IPv6 addresses per guest");
		break;
	case VS_NET_PRIVATE:
		if (!n4 && !n6)
			D(L, 1, "mode private needs at least one address in interfaces/N/ip");
		for (size_t i = 0; i < c->n_ifaces; i++) {
			struct vs_iface *f = &c->ifaces[i];
			if (f->disabled || !f->ip.family)
				continue;
			_cleanup_free_ char *rel = vs_asprintf("interfaces/%s", f->id);
			L->rel = rel;
			if (f->dev || f->label)
				D(L, 0, "dev and name are not used in mode private (the guest's device is eth0): remove them");
			f->nodev = false;
			if (!c->net.routed && c->net.gateway.family && f->ip.family == AF_INET) {
				if (f->ip.prefix < 0)
					f->ip.prefix = c->net.gateway.prefix;
				if (!in_subnet(&c->net.gateway, &f->ip) || vs_ip_equal(&c->net.gateway, &f->ip)) {
					char a[64], g[64];
					vs_ip_format(&f->ip, a, sizeof a);
					vs_ip_format(&c->net.gateway, g, sizeof g);
					D(L, 0, "address %s is not a host address in the bridge's subnet %s (net/gateway)", a, g);
				}
			}
		}
		L->rel = "net/mode";
		if (c->iface_dev) {
			L->rel = "interfaces/dev";
			D(L, 0, "not used in mode private (the guest's device is eth0): remove it");
		}
		if (c->net.routed) {
			L->rel = "net/routed";
			if (c->net.bridge || c->net.gateway.family)
				D(L, 0, "a routed guest has no bridge: remove net/bridge and net/gateway");
		} else if (!c->net.gateway.family && n4) {
			L->rel = "net/gateway";
			D(L, 0, "missing: mode private on a bridge needs the bridge's address, e.g. 10.66.0.1/24 "
				"(or net/routed for a routed veth)");
		}
		break;
	default:
		if (n4 + n6) {
			L->rel = "net/mode";
			D(L, 1, "mode %s gives the guest no addresses, but interfaces/ configures some "
				"(use isolated or private, or mark them disabled)", mode);
		}
		break;
	}
	if (!priv) {
		static const char *const only_private[] = { "net/bridge",	"net/gateway",	  "net/routed", "net/nomasquerade",
							    "net/forward",	"net/host-ports", "net/mtu",	"net/tun" };
		bool set[] = { c->net.bridge != NULL, c->net.gateway.family != 0, c->net.routed, c->net.nomasquerade,
			       c->net.n_fwd != 0, c->net.n_host_ports != 0, c->net.mtu != 0, c->net.tun };
		for (size_t i = 0; i < VS_ARRAY_SIZE(only_private); i++)
			if (set[i]) {
				L->rel = only_private[i];
				D(L, 0, "only used in mode private (the mode is %s)", mode);
			}
	}
	/* (only a routed veth gives IPv6 a default route, which carries it) */
	if (c->net.mode == VS_NET_PRIVATE && c->net.routed && c->net.mtu && c->net.mtu < 1280)
		for (size_t i = 0; i < c->n_ifaces; i++)
			if (!c->ifaces[i].disabled && c->ifaces[i].ip.family == AF_INET6) {
				L->rel = "net/mtu";
				D(L, 0, "MTU %u is below IPv6's minimum of 1280, and the guest has IPv6 addresses",
				  c->net.mtu);
				break;
			}
	if (c->net.mode == VS_NET_ISOLATED) {
		static const int shared_forbidden[] = { CAP_NET_ADMIN, CAP_NET_RAW };
		for (size_t i = 0; i < VS_ARRAY_SIZE(shared_forbidden); i++)
			if (c->caps_add & (UINT64_C(1) << shared_forbidden[i])) {
				L->rel = "bcapabilities";
				D(L, 0, "%s cannot be granted in mode isolated: on the host's network stack it would let guest "
					"root %s (use net/mode private)",
				  vs_cap_name(shared_forbidden[i]),
				  shared_forbidden[i] == CAP_NET_ADMIN ? "reconfigure the host's network"
								       : "send packets from any address");
			}
	}
	if (c->net.n_fwd > 64) {
		L->rel = "net/forward";
		D(L, 0, "%zu forwards: at most 64 are allowed", c->net.n_fwd);
	}
	if (c->net.n_host_ports > 64) {
		L->rel = "net/host-ports";
		D(L, 0, "%zu host ports: at most 64 are allowed", c->net.n_host_ports);
	}
	if (priv && !c->net.routed && !c->net.bridge)
		c->net.bridge = vs_strdup("vsbr0");
	if (priv)
		for (size_t i = 0; i < c->net.n_fwd; i++) {
			const struct vs_net_forward *f = &c->net.fwd[i];
			bool has = f->host_addr.family == AF_INET6 ? n6 > 0 : f->host_addr.family == AF_INET ? n4 > 0 : n4 + n6 > 0;
			if (!has) {
				L->rel = "net/forward";
				D(L, f->line, "the guest has no %s address to forward to",
				  f->host_addr.family == AF_INET6 ? "IPv6" : "IPv4");
			}
		}
}

static int sysctl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vs_sysctl *)a)->id, ((const struct vs_sysctl *)b)->id);
}

/* sysctl/: both files in each entry, a setting the guest may have in its
 * network mode (after finish_net: the mode is known), in name order */
static void finish_sysctl(struct ld *L)
{
	struct vs_config *c = L->c;
	if (c->n_sysctls > 1)
		qsort(c->sysctls, c->n_sysctls, sizeof *c->sysctls, sysctl_cmp);
	bool own_netns = c->net.mode == VS_NET_PRIVATE || c->net.mode == VS_NET_NONE;
	for (size_t i = 0; i < c->n_sysctls; i++) {
		struct vs_sysctl *x = &c->sysctls[i];
		_cleanup_free_ char *setting = vs_asprintf("sysctl/%s/setting", x->id);
		_cleanup_free_ char *why = NULL;
		if (!x->setting)
			vs_diags_add(L->diags, setting, 0, "missing: sysctl/%s/value needs its setting", x->id);
		else if (vs_sysctl_check(x->setting, own_netns, &why) < 0)
			vs_diags_add(L->diags, setting, 1, "%s", why);
		else if (!x->value)
			vs_diags_add(L->diags, setting, 0, "sysctl/%s/value is missing", x->id);
	}
}

static void finish(struct ld *L)
{
	struct vs_config *c = L->c;
	L->rel = "context";
	if (!c->context)
		if (!L->diags || ({
			    bool had = false;
			    for (size_t i = 0; i < L->diags->n; i++)
				    had |= !strcmp(L->diags->d[i].file, "context");
			    !had;
		    }))
			vs_diags_add(L->diags, "context", 0,
				     "missing: every guest needs a unique context number %d..%d", VS_CONTEXT_MIN,
				     VS_CONTEXT_MAX);
	/* vdir: absolute, normalised, last component is the guest name */
	L->rel = "vdir";
	if (!c->vdir) {
		c->vdir = vs_asprintf("%s/%s", L->s->vdirbase, c->name);
		c->vdir_is_default = true;
	} else {
		_cleanup_free_ char *relv = vs_asprintf("../.defaults/vdirbase/%s", c->name);
		if (!strcmp(c->vdir, relv)) {
			free(c->vdir);
			c->vdir = vs_asprintf("%s/%s", L->s->vdirbase, c->name);
		}
		const char *v = c->vdir;
		const char *base = strrchr(v, '/');
		if (v[0] != '/')
			D(L, 0, "target '%s' must be an absolute path", v);
		else if (strstr(v, "/../") || vs_str_endswith(v, "/..") || strstr(v, "/./") || strstr(v, "//") ||
			 vs_str_endswith(v, "/."))
			D(L, 0, "target '%s' must be a normalised path (no '.', '..' or '//')", v);
		else if (!base || strcmp(base + 1, c->name))
			D(L, 0, "target '%s' must end in the guest name '/%s'", v, c->name);
		else if (base == v || ({
				 static const char *const sysdirs[] = { "/bin", "/boot", "/dev", "/etc", "/lib",
									 "/lib32", "/lib64", "/libx32", "/proc",
									 "/root", "/run", "/sbin", "/sys", "/usr",
									 "/tmp" };
				 bool bad = false;
				 for (size_t k = 0; k < VS_ARRAY_SIZE(sysdirs); k++) {
					 size_t l = strlen(sysdirs[k]);
					 bad |= (size_t)(base - v) >= l && !strncmp(v, sysdirs[k], l) &&
						(v[l] == '/' || v[l] == 0) && (size_t)(base - v) == l;
				 }
				 bad;
			 }))
			D(L, 0, "target '%s' is a system directory; a guest root must live in its own directory (e.g. %s/%s)",
			  v, L->s->vdirbase, c->name);
		else {
			_cleanup_free_ char *def = vs_asprintf("%s/%s", L->s->vdirbase, c->name);
			c->vdir_is_default = !strcmp(def, v);
		}
	}
	/* interfaces */
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct vs_iface *f = &c->ifaces[i];
		_cleanup_free_ char *rel = vs_asprintf("interfaces/%s", f->id);
		L->rel = rel;
		if (!f->ip.family) {
			if (!f->disabled)
				D(L, 0, "has no 'ip' file (required)");
			continue;
		}
		if (f->ip.prefix < 0 && c->iface_prefix >= 0)
			f->ip.prefix = f->ip.family == AF_INET && c->iface_prefix > 32 ? -1 : c->iface_prefix;
		if (!f->dev && !f->nodev && !c->iface_dev)
			f->nodev = true; /* util-vserver: no dev anywhere means nodev */
		for (size_t k = 0; k < i; k++)
			if (c->ifaces[k].ip.family && vs_ip_equal(&c->ifaces[k].ip, &f->ip)) {
				char b[64];
				vs_ip_format(&f->ip, b, sizeof b);
				D(L, 0, "address %s is also configured in interfaces/%s", b, c->ifaces[k].id);
			}
	}
	finish_net(L);
	finish_sysctl(L);
	vs_limits_finish(&c->limits, vs_limits_host_memory_v1(vs_cgroup_root(L->s, NULL)), L->diags);
}

static void load_defaults(struct ld *L)
{
	/* .defaults/shell and .defaults/apps/init/environment provide
	 * defaults for guests that do not set them. */
	_cleanup_free_ char *dd = vs_asprintf("%s/.defaults", L->s->confdir);
	int dfd = open(dd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	/* .defaults also holds the vdirbase link (lib/settings.c): trusted like the rest */
	struct stat st;
	if (fstat(dfd, &st) == 0)
		strict_check(L, dd, &st);
	static const char *const rels[] = { "shell", "apps/init/environment" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(rels); i++) {
		if (fstatat(dfd, rels[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* and the directories on the way (apps, apps/init) */
		for (const char *sl = strchr(rels[i], '/'); sl; sl = strchr(sl + 1, '/')) {
			_cleanup_free_ char *sub = strndup(rels[i], (size_t)(sl - rels[i]));
			struct stat sst;
			if (sub && fstatat(dfd, sub, &sst, AT_SYMLINK_NOFOLLOW) == 0) {
				_cleanup_free_ char *abs = vs_asprintf("%s/%s", dd, sub);
				strict_check(L, abs, &sst);
			}
		}
		_cleanup_free_ char *rel = vs_asprintf("%s/%s", dd, rels[i]);
		L->rel = rel;
		strict_check(L, rel, &st);
		parse_file(L, dfd, rels[i], find_key(rels[i]));
	}
	load_scripts(L, dfd, dd, true);
	close(dfd);
}

int vs_config_load(const struct vs_settings *s, const char *name, struct vs_config *c, struct vs_diags *diags,
		   vs_err *err)
{
	return vs_config_load_at(s, name, NULL, c, diags, err);
}

int vs_config_load_at(const struct vs_settings *s, const char *name, const char *cfgdir, struct vs_config *c,
		      struct vs_diags *diags, vs_err *err)
{
	memset(c, 0, sizeof *c);
	c->iface_prefix = -1;
	c->stop_timeout = -1;
	c->boot_timeout = 30;
	c->userns_flag = -1;
	if (vs_name_check(name, err) < 0)
		return -1;
	c->name = vs_strdup(name);
	c->cfgdir = cfgdir ? vs_strdup(cfgdir) : vs_asprintf("%s/%s", s->confdir, name);
	_cleanup_close_ int dfd = open(c->cfgdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return vs_fail(err, VS_E_NOGUEST, 0, "no guest named '%s' (no directory %s)", name, c->cfgdir);
		return vs_fail_errno(err, "%s", c->cfgdir);
	}
	struct vs_diags local = { 0 };
	struct ld L = { .c = c, .diags = diags ? diags : &local, .s = s };
	struct stat st;
	if (stat(s->confdir, &st) == 0)
		strict_check(&L, s->confdir, &st);
	if (fstat(dfd, &st) == 0)
		strict_check(&L, c->cfgdir, &st);
	load_defaults(&L);
	/* guest values override .defaults ones */
	vs_strv defenv = c->init.environment;
	memset(&c->init.environment, 0, sizeof c->init.environment);
	char *defshell = c->shell;
	c->shell = NULL;
	walk(&L, dfd, "", 0);
	if (!c->shell)
		c->shell = defshell;
	else
		free(defshell);
	if (!c->init.environment.n)
		c->init.environment = defenv;
	else
		vs_strv_free(&defenv);
	finish(&L);
	c->userns = c->userns_flag >= 0 ? c->userns_flag == 1 : s->userns[0] == '1';
	check_scriptlets(&L);
	/* SYS_PTRACE in the host's user namespace reaches non-dumpable
	 * processes too: guest root could trace the vserver process that
	 * joins the guest for exec/enter (it appears in the guest's PID
	 * namespace before it executes the command) and hold the host's
	 * binary through /proc/PID/exe (CVE-2019-5736).  A user-namespace
	 * guest's SYS_PTRACE is its own namespace's, which that process's
	 * memory does not belong to. */
	if (!c->userns && (c->caps_add & (UINT64_C(1) << CAP_SYS_PTRACE)))
		vs_diags_add(L.diags, "bcapabilities", 0,
			     "SYS_PTRACE can only be granted to a user-namespace guest (the flag userns): in the "
			     "host's user namespace it would let guest root trace vserver's own process while it "
			     "joins the guest, and reach the host's vserver binary");
	if (c->userns && c->net.tun && c->net.mode == VS_NET_PRIVATE)
		vs_diags_add(L.diags, "net/tun", 0,
			     "a user-namespace guest cannot make tun devices: its network namespace is the host's "
			     "user namespace's (remove net/tun, or the guest's userns)");
	vs_dlimits_validate(&c->dlimits, c->vdir, L.diags);
	if (c->disk_image && vs_dlimits_active(&c->dlimits))
		vs_diags_add(L.diags, "disk/image", 0,
			     "disk/image and dlimits/ exclude each other: the image's size is the guest's limit "
			     "(its file system has no project quotas); disable the dlimits entry");
	if (!c->display_name)
		c->display_name = vs_strdup(name);
	if (!c->nodename)
		c->nodename = vs_strdup(name);
	if (!c->init.runlevel)
		c->init.runlevel = vs_strdup("3");
	if (!c->init.killseq.n) {
		vs_strv_push(&c->init.killseq, "15");
		vs_strv_push(&c->init.killseq, "5");
		vs_strv_push(&c->init.killseq, "9");
	}
	if (!c->init.environment.n)
		vs_strv_push(&c->init.environment, "PATH=" VS_DEFAULT_PATH);
	if (L.strict.n) {
		/* an untrusted configuration is not used at all (HS-09): the
		 * first problem in full, the other files by name */
		const struct vs_diag *x = &L.strict.d[0];
		_cleanup_free_ char *f = x->file[0] == '/' ? vs_strdup(x->file)
							    : vs_asprintf("%s/%s", c->cfgdir, x->file);
		vs_fail(err, VS_E_INVALID, 0, "refusing the configuration of '%s': %s: %s", name, f, x->msg);
		for (size_t i = 1; i < L.strict.n; i++) {
			size_t l = strlen(err->msg);
			snprintf(err->msg + l, sizeof err->msg - l, "%s%s", i == 1 ? "; also not trusted: " : ", ",
				 L.strict.d[i].file);
		}
		vs_diags_free(&L.strict);
		vs_diags_free(&local);
		vs_config_free(c);
		memset(c, 0, sizeof *c);
		return -1;
	}
	if (!diags) {
		int r = vs_diags_to_err(&local, c->cfgdir, err);
		vs_diags_free(&local);
		if (r < 0)
			return -1;
	}
	return 0;
}

void vs_config_free(struct vs_config *c)
{
	free(c->name);
	free(c->cfgdir);
	free(c->display_name);
	free(c->vdir);
	free(c->cache);
	free(c->nodename);
	free(c->domainname);
	free(c->machine);
	vs_strv_free(&c->personality_flags);
	free(c->init.mark);
	vs_strv_free(&c->init.depends);
	free(c->init.runlevel);
	vs_strv_free(&c->init.cmd_start);
	vs_strv_free(&c->init.cmd_stop);
	vs_strv_free(&c->init.environment);
	vs_strv_free(&c->init.killseq);
	vs_fstab_free(&c->fstab);
	vs_fstab_free(&c->fstab_remote);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		free(c->ifaces[i].id);
		free(c->ifaces[i].dev);
		free(c->ifaces[i].label);
	}
	free(c->ifaces);
	for (size_t i = 0; i < c->n_sysctls; i++) {
		free(c->sysctls[i].id);
		free(c->sysctls[i].setting);
		free(c->sysctls[i].value);
	}
	free(c->sysctls);
	for (size_t i = 0; i < c->n_scripts; i++) {
		free(c->scripts[i].path);
		free(c->scripts[i].rel);
	}
	vs_strv_free(&c->script_roots);
	free(c->scripts);
	free(c->iface_dev);
	free(c->net.bridge);
	free(c->net.fwd);
	free(c->net.host_ports);
	free(c->shell);
	free(c->disk_image);
	vs_dlimits_free(&c->dlimits);
	vs_limits_free(&c->limits);
	vs_seccomp_conf_free(&c->seccomp);
	memset(c, 0, sizeof *c);
}

/* ---- the set of guests ------------------------------------------------ */

int vs_config_list_names(const struct vs_settings *s, vs_strv *names, vs_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(s->confdir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return vs_fail_errno(err, "%s", s->confdir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (vs_name_check(de->d_name, NULL) < 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		vs_strv_push(names, de->d_name);
	}
	if (names->n)
		qsort(names->v, names->n, sizeof *names->v, vs_strv_cmp);
	return 0;
}

/* Context of another guest, read leniently (0 if unreadable). */
static unsigned read_context(const struct vs_settings *s, const char *name)
{
	_cleanup_free_ char *p = vs_asprintf("%s/%s/context", s->confdir, name);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, p, 64, &data, NULL, &e) < 0)
		return 0;
	data[strcspn(data, "\n")] = 0;
	unsigned ctx;
	return vs_parse_context(data, &ctx, &e) == 0 ? ctx : 0;
}

char *vs_config_context_owner(const struct vs_settings *s, unsigned context, const char *except)
{
	_cleanup_strv_ vs_strv names = { 0 };
	vs_err e;
	if (vs_config_list_names(s, &names, &e) < 0)
		return NULL;
	for (size_t i = 0; i < names.n; i++)
		if ((!except || strcmp(names.v[i], except)) && read_context(s, names.v[i]) == context)
			return vs_strdup(names.v[i]);
	return NULL;
}

int vs_config_next_context(const struct vs_settings *s, unsigned *out, vs_err *err)
{
	unsigned start = VS_CONTEXT_START;
	_cleanup_free_ char *p = vs_asprintf("%s/.defaults/context.next", s->confdir);
	_cleanup_free_ char *data = NULL;
	vs_err e;
	if (vs_read_file_at(AT_FDCWD, p, 64, &data, NULL, &e) == 0) {
		data[strcspn(data, "\n")] = 0;
		if (vs_parse_context(data, &start, &e) < 0)
			return vs_fail(err, VS_E_INVALID, 0, "%s:1: %s", p, e.msg);
	}
	_cleanup_strv_ vs_strv names = { 0 };
	if (vs_config_list_names(s, &names, err) < 0)
		return -1;
	unsigned *used = vs_xmalloc0((names.n + 1) * sizeof *used);
	for (size_t i = 0; i < names.n; i++)
		used[i] = read_context(s, names.v[i]);
	for (unsigned c = start; c <= VS_CONTEXT_MAX; c++) {
		bool taken = false;
		for (size_t i = 0; i < names.n && !taken; i++)
			taken = used[i] == c;
		if (!taken) {
			free(used);
			*out = c;
			return 0;
		}
	}
	free(used);
	return vs_fail(err, VS_E_INVALID, 0, "no free context number left in %u..%d", start, VS_CONTEXT_MAX);
}

void vs_config_check_conflicts(const struct vs_settings *s, const struct vs_config *c, struct vs_diags *diags)
{
	if (c->context) {
		_cleanup_free_ char *owner = vs_config_context_owner(s, c->context, c->name);
		if (owner)
			vs_diags_add(diags, "context", 1, "context %u is already used by guest '%s'", c->context, owner);
	}
	_cleanup_strv_ vs_strv names = { 0 };
	vs_err e;
	if (vs_config_list_names(s, &names, &e) < 0)
		return;
	for (size_t i = 0; i < c->init.depends.n; i++)
		if (!vs_strv_contains(&names, c->init.depends.v[i]))
			vs_diags_add(diags, "apps/init/depends", 0, "depends on '%s', which is not a configured guest",
				     c->init.depends.v[i]);
	if (!c->n_ifaces)
		return;
	struct vs_ipaddr lb;
	vs_config_lback(c, &lb);
	for (size_t i = 0; i < names.n; i++) {
		if (!strcmp(names.v[i], c->name))
			continue;
		struct vs_config o;
		struct vs_diags od = { 0 };
		if (vs_config_load(s, names.v[i], &o, &od, &e) == 0) {
			for (size_t a = 0; a < c->n_ifaces; a++)
				for (size_t b = 0; b < o.n_ifaces; b++)
					if (c->ifaces[a].ip.family && !c->ifaces[a].disabled && !o.ifaces[b].disabled &&
					    vs_ip_equal(&c->ifaces[a].ip, &o.ifaces[b].ip)) {
						char buf[64];
						vs_ip_format(&c->ifaces[a].ip, buf, sizeof buf);
						_cleanup_free_ char *rel = vs_asprintf("interfaces/%s/ip", c->ifaces[a].id);
						vs_diags_add(diags, rel, 1, "address %s is already used by guest '%s'", buf,
							     o.name);
					}
			struct vs_ipaddr olb;
			vs_config_lback(&o, &olb);
			if (c->net.mode == VS_NET_ISOLATED && o.net.mode == VS_NET_ISOLATED && vs_ip_equal(&lb, &olb)) {
				char buf[64];
				vs_ip_format(&lb, buf, sizeof buf);
				vs_diags_add(diags, "interfaces/lback", 0, "loopback address %s is also guest '%s''s", buf,
					     o.name);
			}
			for (size_t a = 0; a < c->net.n_fwd; a++)
				for (size_t b = 0; b < o.net.n_fwd; b++) {
					const struct vs_net_forward *x = &c->net.fwd[a], *y = &o.net.fwd[b];
					if (x->proto == y->proto && x->host_port == y->host_port &&
					    (!x->host_addr.family || !y->host_addr.family ||
					     vs_ip_equal(&x->host_addr, &y->host_addr)))
						vs_diags_add(diags, "net/forward", x->line,
							     "%s port %u is already forwarded to guest '%s'",
							     x->proto == IPPROTO_TCP ? "tcp" : "udp", x->host_port, o.name);
				}
		}
		vs_diags_free(&od);
		vs_config_free(&o);
	}
}

uint64_t vs_config_bounding_set(const struct vs_config *c)
{
	uint64_t def = vs_caps_default();
	/* a guest with its own network namespace administers it (its own
	 * firewall, routes, addresses) */
	if (c->net.mode == VS_NET_PRIVATE)
		def |= UINT64_C(1) << CAP_NET_ADMIN;
	return (def | c->caps_add) & ~c->caps_drop;
}

int vs_config_write(const char *cfgdir, const char *rel, const char *value, vs_err *err)
{
	_cleanup_close_ int dfd = open(cfgdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail_errno(err, "%s", cfgdir);
	_cleanup_free_ char *copy = vs_strdup(rel);
	char *slash = strrchr(copy, '/');
	int pfd = dfd;
	_cleanup_close_ int sub = -1;
	const char *base = copy;
	if (slash) {
		*slash = 0;
		base = slash + 1;
		char *save = NULL;
		int cur = dup(dfd);
		for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
			if (mkdirat(cur, t, 0755) < 0 && errno != EEXIST) {
				close(cur);
				return vs_fail_errno(err, "%s/%s: mkdir", cfgdir, rel);
			}
			int n = openat(cur, t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(cur);
			if (n < 0)
				return vs_fail_errno(err, "%s/%s", cfgdir, rel);
			cur = n;
		}
		sub = cur;
		pfd = sub;
	}
	size_t len = strlen(value);
	_cleanup_free_ char *data = NULL;
	if (len && value[len - 1] != '\n') {
		data = vs_asprintf("%s\n", value);
		value = data;
		len++;
	}
	if (vs_write_file_atomic_at(pfd, base, value, len, 0644, err) < 0)
		return vs_err_prefix(err, "%s", cfgdir);
	return 0;
}
