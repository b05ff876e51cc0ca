/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "guest.h"
#include "start.h"
#include "stat.h"
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A vserver-stat field without its padding. */
static const char *trim(char *f)
{
	size_t n = strlen(f);
	while (n && f[n - 1] == ' ')
		f[--n] = 0;
	return f + strspn(f, " ");
}

/* ---- accounting lines of status (the figures: lib/usage.h) ---------------- */

#define NA "n/a" /* a figure this host cannot report */

/* Bytes as vserver-stat shows them ("61.5M"), without padding. */
static const char *usage_bytes(bool have, uint64_t v, char buf[VS_STAT_MEM_BUF])
{
	if (!have)
		return NA;
	vs_stat_mem(v, buf);
	return trim(buf);
}

/* Microseconds as seconds with two decimals. */
static const char *usage_secs(bool have, uint64_t usec, char *buf, size_t len)
{
	if (!have)
		return NA;
	snprintf(buf, len, "%llu.%02llus", (unsigned long long)(usec / 1000000),
		 (unsigned long long)(usec % 1000000 / 10000));
	return buf;
}

static void print_usage_lines(const struct vs_usage *u)
{
	char cur[VS_STAT_MEM_BUF], peak[VS_STAT_MEM_BUF], lim[VS_STAT_MEM_BUF], swap[VS_STAT_MEM_BUF];
	const char *limit = u->have_mem_limit && u->mem_limit == VS_USAGE_UNLIMITED
				    ? "none" : usage_bytes(u->have_mem_limit, u->mem_limit, lim);
	printf("Memory usage:        %s, peak %s, limit %s, swap %s\n",
	       usage_bytes(u->have_mem_current, u->mem_current, cur), usage_bytes(u->have_mem_peak, u->mem_peak, peak),
	       limit, usage_bytes(u->have_swap_current, u->swap_current, swap));
	char tot[32], usr[32], sys[32];
	printf("CPU usage:           %s (user %s, system %s)\n",
	       usage_secs(u->have_cpu_usec, u->cpu_usec, tot, sizeof tot),
	       usage_secs(u->have_cpu_user_usec, u->cpu_user_usec, usr, sizeof usr),
	       usage_secs(u->have_cpu_system_usec, u->cpu_system_usec, sys, sizeof sys));
	unsigned long long pc = u->pids_current, pl = u->pids_limit;
	if (!u->have_pids_current)
		printf("Processes:           %s\n", NA);
	else if (!u->have_pids_limit)
		printf("Processes:           %llu\n", pc);
	else if (u->pids_limit == VS_USAGE_UNLIMITED)
		printf("Processes:           %llu (no limit)\n", pc);
	else
		printf("Processes:           %llu of %llu\n", pc, pl);
	char rd[VS_STAT_MEM_BUF], wr[VS_STAT_MEM_BUF];
	printf("I/O:                 read %s, written %s\n", usage_bytes(u->have_io_read_bytes, u->io_read_bytes, rd),
	       usage_bytes(u->have_io_write_bytes, u->io_write_bytes, wr));
	if (!u->have_oom_kills)
		printf("OOM kills:           %s\n", NA);
	else if (u->have_oom_events)
		printf("OOM kills:           %llu (OOM events %llu)\n", (unsigned long long)u->oom_kills,
		       (unsigned long long)u->oom_events);
	else
		printf("OOM kills:           %llu\n", (unsigned long long)u->oom_kills);
}

/* The figures vserver-stat shows for one guest (NULL if not running). */
static struct vs_stat_entry *guest_figures(struct vs_stat *all, const char *name)
{
	for (size_t i = 0; i < all->n; i++)
		if (all->e[i].guest && !strcmp(all->e[i].guest, name))
			return &all->e[i];
	return NULL;
}

static void addresses(const struct vs_config *c, char *buf, size_t len)
{
	buf[0] = 0;
	size_t o = 0;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (!c->ifaces[i].ip.family || c->ifaces[i].disabled)
			continue;
		char a[64];
		vs_ip_format(&c->ifaces[i].ip, a, sizeof a);
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "", a);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

int cmd_list(const struct vs_settings *s, int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: vserver list [--json]\nEvery configured guest: name, context, state, init style, addresses, mark.\n");
			return 0;
		} else
			return vs_usage_error("list: unknown option '%s'", argv[i]);
	}
	struct vs_guest_info *g;
	vs_err err = { 0 };
	int n = vs_guest_list(s, &g, &err);
	if (n < 0)
		return vs_report_error(&err);
	struct vs_stat all = { 0 };
	vs_err serr;
	for (int i = 0; i < n; i++)
		if (g[i].running) {
			if (vs_stat_collect(s, NULL, &all, &serr) < 0)
				memset(&all, 0, sizeof all);
			break;
		}
	if (json) {
		json_object *a = json_object_new_array();
		for (int i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(g[i].name));
			json_object_object_add(o, "context", json_object_new_int((int)g[i].cfg.context));
			json_object_object_add(o, "state", json_object_new_string(g[i].running ? "running" : "stopped"));
			json_object_object_add(o, "init_style",
					       json_object_new_string(vs_init_style_name(g[i].cfg.init.style)));
			json_object *ad = json_object_new_array();
			for (size_t k = 0; k < g[i].cfg.n_ifaces; k++)
				if (g[i].cfg.ifaces[k].ip.family && !g[i].cfg.ifaces[k].disabled) {
					char b[64];
					vs_ip_format(&g[i].cfg.ifaces[k].ip, b, sizeof b);
					json_object_array_add(ad, json_object_new_string(b));
				}
			json_object_object_add(o, "addresses", ad);
			json_object_object_add(o, "network", vs_config_net_json(&g[i].cfg));
			json_object_object_add(o, "mark",
					       g[i].cfg.init.mark ? json_object_new_string(g[i].cfg.init.mark) : NULL);
			json_object_object_add(o, "disabled", json_object_new_boolean(g[i].cfg.disabled));
			json_object_object_add(o, "vdir", g[i].cfg.vdir ? json_object_new_string(g[i].cfg.vdir) : NULL);
			struct vs_stat_entry *f = g[i].running ? guest_figures(&all, g[i].name) : NULL;
			if (f) {
				json_object_object_add(o, "processes", json_object_new_int64((int64_t)f->nprocs));
				json_object_object_add(o, "rss_bytes", json_object_new_int64((int64_t)f->rss));
				json_object_object_add(o, "cpu_ms", json_object_new_int64((int64_t)(f->utime_ms + f->stime_ms)));
				json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)(f->uptime_ms / 1000)));
				json_object_object_add(o, "usage", vs_usage_json(&f->usage));
			}
			json_object_object_add(o, "valid", json_object_new_boolean(g[i].valid));
			json_object_object_add(o, "problem", g[i].problem ? json_object_new_string(g[i].problem) : NULL);
			json_object_array_add(a, o);
		}
		printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
	} else {
		printf("%-12s %7s %-8s %-8s %5s %7s %10s %10s %-10s %-8s %s\n", "NAME", "CONTEXT", "STATE", "INIT", "PROC",
		       "RSS", "CPU", "UPTIME", "MARK", "NET", "ADDRESSES");
		for (int i = 0; i < n; i++) {
			char ad[512];
			addresses(&g[i].cfg, ad, sizeof ad);
			char ctx[16], proc[24] = "-", rss[VS_STAT_MEM_BUF] = "-", cpu[VS_STAT_TIME_BUF] = "-",
									    up[VS_STAT_TIME_BUF] = "-";
			snprintf(ctx, sizeof ctx, "%u", g[i].cfg.context);
			struct vs_stat_entry *f = g[i].running ? guest_figures(&all, g[i].name) : NULL;
			if (f) {
				snprintf(proc, sizeof proc, "%llu", (unsigned long long)f->nprocs);
				vs_stat_mem(f->rss, rss);
				vs_stat_time(f->utime_ms + f->stime_ms, cpu);
				vs_stat_time(f->uptime_ms, up);
			}
			printf("%-12s %7s %-8s %-8s %5s %7s %10s %10s %-10s %-8s %s%s\n", g[i].name,
			       g[i].cfg.context ? ctx : "-", g[i].running ? "running" : "stopped",
			       vs_init_style_name(g[i].cfg.init.style), proc, trim(rss), trim(cpu), trim(up),
			       g[i].cfg.init.mark ? g[i].cfg.init.mark : "-", vs_net_mode_name(g[i].cfg.net.mode), ad,
			       g[i].valid ? "" : "  (invalid configuration: run 'vserver NAME check')");
		}
	}
	vs_guest_list_free(g, n);
	vs_stat_free(&all);
	return 0;
}

static bool confirm(const char *name)
{
	if (!isatty(STDIN_FILENO))
		return true;
	printf("Are you sure you want to delete the vserver %s (y/N) ", name);
	fflush(stdout);
	char buf[16];
	if (!fgets(buf, sizeof buf, stdin))
		return false;
	return buf[0] == 'y' || buf[0] == 'Y';
}

int cmd_delete(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	bool force = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else
			return vs_usage_error("delete: unknown option '%s'", argv[i]);
	}
	vs_err err = { 0 };
	struct vs_config c;
	if (vs_config_load(s, name, &c, &(struct vs_diags){ 0 }, &err) < 0)
		return vs_report_error(&err);
	vs_config_free(&c);
	if (!force && !confirm(name)) {
		printf("not deleted\n");
		return EXIT_FAIL;
	}
	if (vs_guest_delete(s, name, &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

int cmd_rename(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	if (argc != 1)
		return vs_usage_error("usage: vserver OLDNAME rename NEWNAME");
	vs_err err = { 0 };
	if (vs_guest_rename(s, name, argv[0], &vs_stdout_report, &err) < 0)
		return vs_report_error(&err);
	return 0;
}

/* Running state of an existing guest: 1 running, 0 stopped, or an exit
 * code (negated) when the guest does not exist or cannot be read. */
static int guest_state(const struct vs_settings *s, const char *name, int argc, const char *cmd,
		       struct vs_state *st)
{
	if (argc)
		return -vs_usage_error("%s takes no arguments", cmd);
	vs_err err = { 0 };
	struct vs_config c;
	if (vs_config_load(s, name, &c, &(struct vs_diags){ 0 }, &err) < 0)
		return -vs_report_error(&err);
	vs_config_free(&c);
	int r = vs_state_get(s, name, st, NULL, &err);
	return r < 0 ? -vs_report_error(&err) : r;
}

/* Disk limits (lib/dlimits.h): the project quota's usage; null without
 * dlimits, {"error": ...} when the filesystem cannot tell. */
static json_object *disk_json(const struct vs_config *c)
{
	struct vs_dlimits_usage u;
	vs_err e;
	int r = vs_dlimits_usage(c, &u, &e);
	if (r == 0)
		return NULL;
	json_object *o = json_object_new_object();
	if (r < 0) {
		json_object_object_add(o, "error", json_object_new_string(e.msg));
		return o;
	}
	if (vs_dlimits_active(&c->dlimits))
		json_object_object_add(o, "project_id", json_object_new_int((int)c->context));
	else
		json_object_object_add(o, "image", json_object_new_string(c->disk_image));
	json_object_object_add(o, "space_used_bytes", json_object_new_int64((int64_t)u.space_used));
	json_object_object_add(o, "space_used_kib", json_object_new_int64((int64_t)((u.space_used + 1023) / 1024)));
	json_object_object_add(o, "space_total_kib", json_object_new_int64((int64_t)u.space_total));
	json_object_object_add(o, "inodes_used", json_object_new_int64((int64_t)u.inodes_used));
	json_object_object_add(o, "inodes_total", json_object_new_int64((int64_t)u.inodes_total));
	return o;
}

static void print_disk_line(const struct vs_config *c)
{
	struct vs_dlimits_usage u;
	vs_err e;
	int r = vs_dlimits_usage(c, &u, &e);
	if (r < 0)
		printf("Disk:                unavailable (%s)\n", e.msg);
	else if (r > 0)
		printf("Disk:                %llu/%llu KiB, inodes %llu/%llu\n",
		       (unsigned long long)((u.space_used + 1023) / 1024), (unsigned long long)u.space_total,
		       (unsigned long long)u.inodes_used, (unsigned long long)u.inodes_total);
}

int cmd_status(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	bool json = argc == 1 && !strcmp(argv[0], "--json");
	struct vs_state st;
	int r = guest_state(s, name, json ? 0 : argc, "status", &st);
	if (r < 0)
		return -r;
	struct vs_stat all = { 0 };
	vs_err err = { 0 };
	struct vs_stat_entry *f = NULL;
	if (r && vs_stat_collect(s, NULL, &all, &err) == 0)
		f = guest_figures(&all, name);
	if (f && f->usage_problem)
		fprintf(stderr, "%s: warning: %s\n", vs_prog, f->usage_problem);
	long long up = r ? (long long)time(NULL) - st.started : 0;
	if (up < 0)
		up = 0;
	_cleanup_config_ struct vs_config cfg;
	struct vs_diags d = { 0 };
	vs_err cerr;
	bool have_cfg = vs_config_load(s, name, &cfg, &d, &cerr) == 0;
	vs_diags_free(&d);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "state", json_object_new_string(r ? "running" : "stopped"));
		if (r) {
			json_object_object_add(o, "context", json_object_new_int((int)st.context));
			json_object_object_add(o, "processes", json_object_new_int64(f ? (int64_t)f->nprocs : 0));
			json_object_object_add(o, "vsz_bytes", json_object_new_int64(f ? (int64_t)f->vsz : 0));
			json_object_object_add(o, "rss_bytes", json_object_new_int64(f ? (int64_t)f->rss : 0));
			json_object_object_add(o, "user_ms", json_object_new_int64(f ? (int64_t)f->utime_ms : 0));
			json_object_object_add(o, "sys_ms", json_object_new_int64(f ? (int64_t)f->stime_ms : 0));
			json_object_object_add(o, "uptime_s", json_object_new_int64(up));
			json_object_object_add(o, "init_pid", json_object_new_int(st.init));
			json_object_object_add(o, "monitor_pid", json_object_new_int(st.monitor));
			json_object_object_add(o, "usage", f ? vs_usage_json(&f->usage) : NULL);
		}
		if (have_cfg)
			json_object_object_add(o, "network", vs_config_net_json(&cfg));
		if (have_cfg)
			json_object_object_add(o, "disk", disk_json(&cfg));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		vs_stat_free(&all);
		return r ? 0 : EXIT_STOPPED;
	}
	if (!r) {
		printf("Vserver '%s' is stopped\n", name);
		return EXIT_STOPPED;
	}
	printf("Vserver '%s' is running at context '%u'\n", name, st.context);
	int n = f ? (int)f->nprocs : vs_guest_nprocs(s, name, NULL);
	if (n >= 0)
		printf("Number of processes: %d\n", n);
	if (up >= 86400)
		printf("Uptime:              %lld days, %02lld:%02lld\n", up / 86400, up % 86400 / 3600, up % 3600 / 60);
	else
		printf("Uptime:              %02lld:%02lld:%02lld\n", up / 3600, up % 3600 / 60, up % 60);
	if (f) {
		char rss[VS_STAT_MEM_BUF], vsz[VS_STAT_MEM_BUF], ut[VS_STAT_TIME_BUF], stt[VS_STAT_TIME_BUF];
		vs_stat_mem(f->rss, rss);
		vs_stat_mem(f->vsz, vsz);
		vs_stat_time(f->utime_ms, ut);
		vs_stat_time(f->stime_ms, stt);
		printf("Memory:              RSS %s, VSZ %s\n", trim(rss), trim(vsz));
		printf("CPU time:            user %s, sys %s\n", trim(ut), trim(stt));
		print_usage_lines(&f->usage);
	}
	if (have_cfg) {
		char ad[512];
		addresses(&cfg, ad, sizeof ad);
		printf("Network:             %s%s%s\n", vs_net_mode_name(cfg.net.mode), strcmp(ad, "-") ? " " : "",
		       strcmp(ad, "-") ? ad : "");
		print_disk_line(&cfg);
	}
	vs_stat_free(&all);
	return 0;
}

int cmd_running(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	(void)argv;
	struct vs_state st;
	int r = guest_state(s, name, argc, "running", &st);
	return r < 0 ? -r : r == 1 ? 0 : 1;
}
