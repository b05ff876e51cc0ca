/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "caps.h"
#include "cli.h"
#include "disk.h"
#include "config.h"
#include "dlimits.h"
#include "mounts.h"
#include "net.h"
#include "postinstall.h"
#include "settings.h"
#include "state.h"
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cmd_check(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return vs_usage_error("check takes no arguments");
	struct vs_config c;
	struct vs_diags d = { 0 };
	vs_err err = { 0 };
	if (vs_config_load(s, name, &c, &d, &err) < 0) {
		vs_diags_free(&d);
		return vs_report_error(&err);
	}
	vs_config_check_conflicts(s, &c, &d);
	/* against the host as it is now: only for a stopped guest (a running
	 * one holds its addresses, veth and ports itself) */
	struct vs_state st;
	vs_err serr;
	struct vs_diags host = { 0 };
	/* PR-04: shared folders host users could run guest root's setuid
	 * programs from (also for a running guest: it is exposed now) */
	vs_mounts_check_host(&c, &host);
	if (c.disk_image) /* its own file system: what start checks each time */
		vs_disk_check_host(c.disk_image, c.vdir, &host);
	if (vs_state_get(s, name, &st, NULL, &serr) == 0) {
		vs_net_check_host(s, &c, &host);
		vs_dlimits_check_host(&c, &host);
		/* HS-10: the directory holding the guest root */
		_cleanup_free_ char *parent = vs_strdup(c.vdir);
		char *slash = strrchr(parent, '/');
		vs_err berr;
		if (slash && slash != parent) {
			*slash = 0;
			if (vs_settings_check_barrier(parent, &berr) < 0)
				vs_diags_add(&host, "vdir", 0, "%s", berr.msg);
		}
	}
	for (size_t i = 0; i < d.n; i++) {
		const char *f = d.d[i].file;
		const char *sep = f[0] == '/' ? "" : "/";
		const char *dir = f[0] == '/' ? "" : c.cfgdir;
		if (d.d[i].line)
			printf("%s%s%s:%d: %s\n", dir, sep, f, d.d[i].line, d.d[i].msg);
		else
			printf("%s%s%s: %s\n", dir, sep, f, d.d[i].msg);
	}
	/* the host as it is now: start refuses these, but they are not
	 * errors of the configuration */
	for (size_t i = 0; i < host.n; i++) {
		const char *f = host.d[i].file;
		if (host.d[i].line)
			printf("warning: %s/%s:%d: %s (start refuses this)\n", c.cfgdir, f, host.d[i].line, host.d[i].msg);
		else
			printf("warning: %s/%s: %s (start refuses this)\n", c.cfgdir, f, host.d[i].msg);
	}
	vs_diags_free(&host);
	if (c.init.style == VS_INIT_PLAIN) {
		_cleanup_close_ int rfd = open(c.vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_free_ char *gap = rfd >= 0 ? vs_plain_shutdown_gap(rfd, name) : NULL;
		if (gap)
			printf("warning: %s\n", gap);
	}
	if (c.limits.oom_score_adj_set && c.limits.oom_score_adj == -1000 &&
	    (!c.limits.memory.set || c.limits.memory.v == VS_LIMIT_MAX))
		printf("warning: %s/badness: -1000 exempts the guest's processes from the OOM killer; without "
		       "limits/memory, a guest that takes the host's memory makes the kernel kill host processes "
		       "instead\n",
		       c.cfgdir);
	int rc = d.n ? EXIT_USAGE : EXIT_OK;
	if (!d.n)
		printf("%s: configuration OK\n", name);
	else
		printf("%s: %zu problem%s\n", name, d.n, d.n == 1 ? "" : "s");
	vs_diags_free(&d);
	vs_config_free(&c);
	return rc;
}

static void print_strv(const char *key, json_object *arr)
{
	printf("%-22s", key);
	size_t n = json_object_array_length(arr);
	if (!n)
		printf(" -");
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(x, json_type_object)) {
			printf(" %s", json_object_get_string(x));
			continue;
		}
		/* a list of objects (network/forwards): KEY=VALUE,... per item */
		printf(" ");
		bool first = true;
		json_object_object_foreach(x, k, v)
		{
			printf("%s%s=%s", first ? "" : ",", k, v ? json_object_get_string(v) : "-");
			first = false;
		}
	}
	printf("\n");
}

static void print_text(json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		if (!val) {
			printf("%-22s -\n", key);
			continue;
		}
		switch (json_object_get_type(val)) {
		case json_type_object: {
			json_object_object_foreach(val, k2, v2)
			{
				char full[128];
				snprintf(full, sizeof full, "%s/%s", key, k2);
				if (!v2)
					printf("%-22s -\n", full);
				else if (json_object_is_type(v2, json_type_array))
					print_strv(full, v2);
				else
					printf("%-22s %s\n", full, json_object_get_string(v2));
			}
			break;
		}
		case json_type_array: {
			size_t n = json_object_array_length(val);
			if (n && json_object_is_type(json_object_array_get_idx(val, 0), json_type_object)) {
				for (size_t i = 0; i < n; i++) {
					json_object *e = json_object_array_get_idx(val, i);
					printf("%-22s", key);
					json_object_object_foreach(e, k3, v3)
					printf(" %s=%s", k3, v3 ? json_object_get_string(v3) : "-");
					printf("\n");
				}
				if (!n)
					printf("%-22s -\n", key);
			} else
				print_strv(key, val);
			break;
		}
		default:
			printf("%-22s %s\n", key, json_object_get_string(val));
		}
	}
}

int cmd_config(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return vs_usage_error("config: unknown option '%s'", argv[i]);
	}
	struct vs_config c;
	vs_err err = { 0 };
	if (vs_config_load(s, name, &c, NULL, &err) < 0)
		return vs_report_error(&err);
	json_object *o = vs_config_to_json(&c);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(o);
	json_object_put(o);
	vs_config_free(&c);
	return 0;
}
