/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The effective configuration as JSON (vserver NAME config --json); kept
 * apart from the loader so that the static helpers do not link json-c. */
#include "caps.h"
#include "config.h"
#include "sysfilter.h"
#include <netinet/in.h>
#include <json-c/json.h>
#include <sys/utsname.h>

static json_object *strv_json(const vs_strv *v)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

static json_object *caps_json(uint64_t mask)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i <= VS_CAP_TABLE_LAST; i++)
		if (mask & (UINT64_C(1) << i))
			json_object_array_add(a, json_object_new_string(vs_cap_name(i)));
	return a;
}

static json_object *fstab_json(const struct vs_fstab *f)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < f->n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "source", json_object_new_string(f->e[i].source));
		json_object_object_add(o, "target", json_object_new_string(f->e[i].target));
		json_object_object_add(o, "type", json_object_new_string(f->e[i].type));
		json_object_object_add(o, "options", json_object_new_string(f->e[i].options));
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *vs_config_net_json(const struct vs_config *c)
{
	json_object *n = json_object_new_object();
	json_object_object_add(n, "mode", json_object_new_string(vs_net_mode_name(c->net.mode)));
	json_object *ad = json_object_new_array();
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ip.family && !c->ifaces[i].disabled) {
			char b[64];
			vs_ip_format(&c->ifaces[i].ip, b, sizeof b);
			json_object_array_add(ad, json_object_new_string(b));
		}
	json_object_object_add(n, "addresses", ad);
	if (c->net.mode == VS_NET_ISOLATED) {
		struct vs_ipaddr lb;
		char b[64];
		vs_config_lback(c, &lb);
		vs_ip_format(&lb, b, sizeof b);
		json_object_object_add(n, "lback", json_object_new_string(b));
	}
	if (c->net.mode == VS_NET_PRIVATE) {
		char veth[32], b[64] = "";
		vs_config_veth_name(c, veth, sizeof veth);
		json_object_object_add(n, "veth", json_object_new_string(veth));
		json_object_object_add(n, "bridge", c->net.bridge ? json_object_new_string(c->net.bridge) : NULL);
		if (c->net.gateway.family)
			vs_ip_format(&c->net.gateway, b, sizeof b);
		json_object_object_add(n, "gateway", b[0] ? json_object_new_string(b) : NULL);
		json_object_object_add(n, "routed", json_object_new_boolean(c->net.routed));
		json_object_object_add(n, "masquerade", json_object_new_boolean(!c->net.nomasquerade));
		json_object_object_add(n, "tun", json_object_new_boolean(c->net.tun));
		json_object_object_add(n, "mtu", c->net.mtu ? json_object_new_int((int)c->net.mtu) : NULL);
		json_object *fw = json_object_new_array();
		for (size_t i = 0; i < c->net.n_fwd; i++) {
			const struct vs_net_forward *f = &c->net.fwd[i];
			json_object *x = json_object_new_object();
			json_object_object_add(x, "proto", json_object_new_string(f->proto == IPPROTO_TCP ? "tcp" : "udp"));
			char h[64] = "";
			if (f->host_addr.family)
				vs_ip_format(&f->host_addr, h, sizeof h);
			json_object_object_add(x, "host_address", h[0] ? json_object_new_string(h) : NULL);
			json_object_object_add(x, "host_port", json_object_new_int(f->host_port));
			json_object_object_add(x, "guest_port", json_object_new_int(f->guest_port));
			json_object_array_add(fw, x);
		}
		json_object_object_add(n, "forwards", fw);
		json_object *hp = json_object_new_array();
		for (size_t i = 0; i < c->net.n_host_ports; i++) {
			char pb[16];
			snprintf(pb, sizeof pb, "%s %u", c->net.host_ports[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				 c->net.host_ports[i].host_port);
			json_object_array_add(hp, json_object_new_string(pb));
		}
		json_object_object_add(n, "host_ports", hp);
	}
	return n;
}

/* A limit in plain units: a number, "max", or null when not set. */
static json_object *limit_json(const struct vs_limit *x)
{
	if (!x->set)
		return NULL;
	return x->v == VS_LIMIT_MAX ? json_object_new_string("max") : json_object_new_uint64(x->v);
}

static json_object *limits_json(const struct vs_limits *l)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "memory_bytes", limit_json(&l->memory));
	json_object_object_add(o, "memory_high_bytes", limit_json(&l->memory_high));
	json_object_object_add(o, "memory_low_bytes", limit_json(&l->memory_low));
	json_object_object_add(o, "swap_bytes", limit_json(&l->swap));
	json_object_object_add(o, "pids", limit_json(&l->pids));
	json_object_object_add(o, "cpu_weight", limit_json(&l->cpu_weight));
	json_object *cm = NULL;
	if (l->cpu_quota.set) {
		cm = json_object_new_object();
		json_object_object_add(cm, "quota_us", limit_json(&l->cpu_quota));
		json_object_object_add(cm, "period_us", limit_json(&l->cpu_period));
		json_object_object_add(cm, "burst_us", limit_json(&l->cpu_burst));
	}
	json_object_object_add(o, "cpu_max", cm);
	json_object_object_add(o, "cpuset_cpus", l->cpuset_cpus ? json_object_new_string(l->cpuset_cpus) : NULL);
	json_object_object_add(o, "cpuset_mems", l->cpuset_mems ? json_object_new_string(l->cpuset_mems) : NULL);
	json_object_object_add(o, "io_weight", limit_json(&l->io_weight));
	json_object *io = json_object_new_array();
	for (size_t i = 0; i < l->n_io_max; i++) {
		const struct vs_io_max *m = &l->io_max[i];
		json_object *d = json_object_new_object();
		char dev[32];
		snprintf(dev, sizeof dev, "%u:%u", m->major, m->minor);
		json_object_object_add(d, "device", json_object_new_string(dev));
		const char *const names[] = { "rbps", "wbps", "riops", "wiops" };
		const uint64_t v[] = { m->rbps, m->wbps, m->riops, m->wiops };
		for (int k = 0; k < 4; k++)
			json_object_object_add(d, names[k], v[k] == VS_LIMIT_MAX ? NULL : json_object_new_uint64(v[k]));
		json_object_array_add(io, d);
	}
	json_object_object_add(o, "io_max", io);
	json_object *cg = json_object_new_object();
	for (size_t i = 0; i < l->n_verbatim; i++)
		json_object_object_add(cg, l->verbatim[i].name, json_object_new_string(l->verbatim[i].value));
	json_object_object_add(o, "cgroup", cg);
	json_object *ul = json_object_new_object();
	for (size_t i = 0; i < l->n_ulimits; i++) {
		const struct vs_ulimit *u = &l->ulimits[i];
		json_object *x = json_object_new_object();
		/* like the files: a number or "inf" (util-vserver's spelling) */
		json_object_object_add(x, "soft", !u->has_soft ? NULL
						  : u->soft == VS_LIMIT_MAX ? json_object_new_string("inf")
									     : json_object_new_uint64(u->soft));
		json_object_object_add(x, "hard", !u->has_hard ? NULL
						  : u->hard == VS_LIMIT_MAX ? json_object_new_string("inf")
									     : json_object_new_uint64(u->hard));
		json_object_object_add(ul, vs_ulimit_name(u->resource), x);
	}
	json_object_object_add(o, "ulimits", ul);
	json_object *in = NULL;
	if (l->ionice_class || l->ionice_prio_set) {
		in = json_object_new_object();
		json_object_object_add(in, "class", json_object_new_int(l->ionice_class ? l->ionice_class : 2));
		json_object_object_add(in, "priority", l->ionice_prio_set ? json_object_new_int(l->ionice_prio) : NULL);
	}
	json_object_object_add(o, "ionice", in);
	json_object_object_add(o, "badness", l->oom_score_adj_set ? json_object_new_int(l->oom_score_adj) : NULL);
	return o;
}

/* The system call filter (lib/sysfilter.h): the default deny list as this
 * guest's capabilities leave it, the guest's own lines, what is in force,
 * the rules no configuration changes, nonewprivs.  A call is listed as
 * "name" when it fails with EPERM, else as "name:ERRNO". */
static json_object *seccomp_json(const struct vs_config *c)
{
	json_object *o = json_object_new_object();
	uint64_t bset = vs_config_bounding_set(c);
	json_object *def = json_object_new_array();
	for (const struct vs_seccomp_default *d = vs_seccomp_defaults; d->syscall; d++)
		if (d->cap < 0 || !(bset & (UINT64_C(1) << d->cap)))
			json_object_array_add(def, json_object_new_string(d->syscall));
	json_object_object_add(o, "default_deny", def);
	json_object *allow = json_object_new_array(), *deny = json_object_new_array();
	for (size_t i = 0; i < c->seccomp.n; i++) {
		const struct vs_seccomp_change *g = &c->seccomp.v[i];
		_cleanup_free_ char *t = vs_seccomp_entry_text(g->syscall, g->errnum);
		json_object_array_add(g->allow ? allow : deny, json_object_new_string(g->allow ? g->syscall : t));
	}
	json_object_object_add(o, "allow", allow);
	json_object_object_add(o, "deny", deny);
	size_t n;
	_cleanup_free_ struct vs_seccomp_entry *eff = vs_seccomp_effective(c, &n);
	json_object *e = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *t = vs_seccomp_entry_text(eff[i].syscall, eff[i].errnum);
		json_object_array_add(e, json_object_new_string(t));
	}
	json_object_object_add(o, "effective_deny", e);
	json_object *fx = json_object_new_array();
	for (size_t i = 0; vs_seccomp_fixed[i]; i++)
		json_object_array_add(fx, json_object_new_string(vs_seccomp_fixed[i]));
	json_object_object_add(o, "argument_rules", fx);
	json_object_object_add(o, "no_new_privs", json_object_new_boolean(c->seccomp.no_new_privs));
	return o;
}

json_object *vs_config_to_json(const struct vs_config *c)
{
	struct utsname u;
	uname(&u);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "display_name", json_object_new_string(c->display_name));
	json_object_object_add(o, "context", json_object_new_int((int)c->context));
	json_object_object_add(o, "cfgdir", json_object_new_string(c->cfgdir));
	json_object_object_add(o, "vdir", json_object_new_string(c->vdir));
	json_object_object_add(o, "cache", c->cache ? json_object_new_string(c->cache) : NULL);
	json_object *uts = json_object_new_object();
	json_object_object_add(uts, "nodename", json_object_new_string(c->nodename));
	json_object_object_add(uts, "domainname", c->domainname ? json_object_new_string(c->domainname) : NULL);
	json_object_object_add(uts, "machine",
			       json_object_new_string(c->machine ? c->machine : c->linux32 ? "i686" : u.machine));
	json_object_object_add(o, "uts", uts);
	json_object *pers = json_object_new_object();
	json_object_object_add(pers, "type", json_object_new_string(c->linux32 ? "LINUX_32BIT" : "LINUX"));
	json_object_object_add(pers, "flags", strv_json(&c->personality_flags));
	json_object_object_add(o, "personality", pers);
	json_object *init = json_object_new_object();
	json_object_object_add(init, "style", json_object_new_string(vs_init_style_name(c->init.style)));
	json_object_object_add(init, "mark", c->init.mark ? json_object_new_string(c->init.mark) : NULL);
	json_object_object_add(init, "depends", strv_json(&c->init.depends));
	json_object_object_add(init, "runlevel", json_object_new_string(c->init.runlevel));
	json_object_object_add(init, "cmd_start", strv_json(&c->init.cmd_start));
	json_object_object_add(init, "cmd_stop", strv_json(&c->init.cmd_stop));
	json_object_object_add(init, "environment", strv_json(&c->init.environment));
	json_object_object_add(init, "killseq", strv_json(&c->init.killseq));
	json_object_object_add(init, "boot_timeout", json_object_new_int(c->boot_timeout));
	json_object_object_add(o, "init", init);
	uint64_t eff = vs_config_bounding_set(c);
	json_object *caps = json_object_new_object();
	json_object_object_add(caps, "add", caps_json(c->caps_add));
	json_object_object_add(caps, "remove", caps_json(c->caps_drop));
	json_object_object_add(caps, "bounding", caps_json(eff));
	json_object_object_add(o, "capabilities", caps);
	json_object_object_add(o, "fstab", fstab_json(&c->fstab));
	json_object_object_add(o, "fstab_remote", fstab_json(&c->fstab_remote));
	json_object *ifs = json_object_new_array();
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct vs_iface *f = &c->ifaces[i];
		json_object *x = json_object_new_object();
		char buf[64] = "";
		if (f->ip.family)
			vs_ip_format(&f->ip, buf, sizeof buf);
		json_object_object_add(x, "id", json_object_new_string(f->id));
		json_object_object_add(x, "ip", json_object_new_string(buf));
		const char *dev = f->nodev ? NULL : f->dev ? f->dev : c->iface_dev;
		json_object_object_add(x, "dev", dev ? json_object_new_string(dev) : NULL);
		json_object_object_add(x, "label", f->label ? json_object_new_string(f->label) : NULL);
		json_object_object_add(x, "nodev", json_object_new_boolean(f->nodev));
		json_object_object_add(x, "disabled", json_object_new_boolean(f->disabled));
		json_object_object_add(x, "down", json_object_new_boolean(f->down));
		json_object_array_add(ifs, x);
	}
	json_object_object_add(o, "interfaces", ifs);
	if (c->lback.family) {
		char buf[64];
		vs_ip_format(&c->lback, buf, sizeof buf);
		json_object_object_add(o, "lback", json_object_new_string(buf));
	}
	json_object_object_add(o, "network", vs_config_net_json(c));
	/* the effective value: the guest's userns/nouserns flag, else the setting */
	json_object_object_add(o, "userns", json_object_new_boolean(c->userns));
	json_object_object_add(o, "shell", c->shell ? json_object_new_string(c->shell) : NULL);
	json_object_object_add(o, "disabled", json_object_new_boolean(c->disabled));
	json_object_object_add(o, "disk_image", c->disk_image ? json_object_new_string(c->disk_image) : NULL);
	/* dlimits: the enabled entry (one at most), null without disk limits */
	const struct vs_dlimit *dl = vs_dlimits_active(&c->dlimits);
	json_object *dj = NULL;
	if (dl) {
		dj = json_object_new_object();
		json_object_object_add(dj, "entry", json_object_new_string(dl->id));
		json_object_object_add(dj, "directory", json_object_new_string(dl->directory));
		json_object_object_add(dj, "space_total_kib", json_object_new_int64((int64_t)dl->space_total));
		json_object_object_add(dj, "inodes_total", json_object_new_int64((int64_t)dl->inodes_total));
		json_object_object_add(dj, "reserved", dl->has_reserved ? json_object_new_int((int)dl->reserved) : NULL);
		json_object_object_add(dj, "project_id", json_object_new_int((int)c->context));
	}
	json_object_object_add(o, "dlimits", dj);
	json_object_object_add(o, "nice", json_object_new_int(c->nice));
	json_object *sy = json_object_new_array();
	for (size_t i = 0; i < c->n_sysctls; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_string(c->sysctls[i].id));
		json_object_object_add(x, "setting", c->sysctls[i].setting ? json_object_new_string(c->sysctls[i].setting) : NULL);
		json_object_object_add(x, "value", c->sysctls[i].value ? json_object_new_string(c->sysctls[i].value) : NULL);
		json_object_array_add(sy, x);
	}
	json_object_object_add(o, "sysctl", sy);
	/* the scriptlets each phase runs: the guest's own, else (or also,
	 * with DONT_SKIP_DEFAULTS) .defaults' */
	json_object *sc = json_object_new_object();
	for (int ph = 0; ph < VS_SCRIPT_NPHASES; ph++) {
		if (!vs_scripts_any(c, ph))
			continue;
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < c->n_scripts; i++) {
			const struct vs_scriptlet *x = &c->scripts[i];
			if (x->phase != ph)
				continue;
			json_object *e = json_object_new_object();
			json_object_object_add(e, "path", json_object_new_string(x->path));
			json_object_object_add(e, "run", json_object_new_string(x->exec ? "executed" : "sourced"));
			json_object_object_add(e, "default", json_object_new_boolean(x->is_default));
			json_object_array_add(arr, e);
		}
		json_object_object_add(sc, vs_script_phase_name(ph), arr);
	}
	json_object_object_add(o, "scripts", sc);
	json_object_object_add(o, "limits", limits_json(&c->limits));
	json_object_object_add(o, "seccomp", seccomp_json(c));
	return o;
}

