/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The effective configuration as JSON (vserver NAME config --json); kept
 * apart from the loader so that the static helpers do not link json-c. */
#include "caps.h"
#include "config.h"
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
	json_object_object_add(o, "shell", c->shell ? json_object_new_string(c->shell) : NULL);
	json_object_object_add(o, "disabled", json_object_new_boolean(c->disabled));
	json_object_object_add(o, "nice", json_object_new_int(c->nice));
	return o;
}

