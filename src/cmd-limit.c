/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver NAME limit [RESOURCE [VALUE]]: show or change a resource limit
 * (the logic is lib/reslimits.c's). */
#include "cli.h"
#include "config.h"
#include <stdio.h>
#include <string.h>

int cmd_limit(const struct vs_settings *s, const char *name, int argc, char **argv);

static const char limit_usage[] =
	"Usage: vserver NAME limit [RESOURCE [VALUE]]\n"
	"Without arguments: the configured limits, one 'RESOURCE VALUE' line each ('-': not set).\n"
	"With RESOURCE VALUE: check VALUE like the configuration loader, apply it to the running guest,\n"
	"then save it as limits/RESOURCE; VALUE 'max' lifts the limit, 'none' removes the setting.\n"
	"Resources: memory memory.high memory.low swap pids cpu.weight cpu.max cpuset.cpus cpuset.mems io.weight\n"
	"Sizes in bytes with an optional suffix K, M, G or T (x1024); cpu.max is 'QUOTA PERIOD' in microseconds.\n";

static void print_one(const struct vs_limits *l, const char *res)
{
	char *v = vs_limits_format(l, res);
	if (!v) {
		printf("%s -\n", res);
		return;
	}
	/* io.max holds one line per device */
	char *save = NULL;
	for (char *t = strtok_r(v, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		printf("%s %s\n", res, t);
	free(v);
}

int cmd_limit(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	if (argc > 0 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		fputs(limit_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return vs_usage_error("limit: too many arguments (RESOURCE VALUE; quote a cpu.max value: "
				      "'50000 100000')");
	if (argc > 0 && argv[0][0] == '-')
		return vs_usage_error("limit: unknown option '%s'", argv[0]);
	vs_err err = { 0 };
	if (argc < 2) {
		_cleanup_config_ struct vs_config c;
		if (vs_config_load(s, name, &c, NULL, &err) < 0)
			return vs_report_error(&err);
		if (argc == 1) {
			bool known = !strcmp(argv[0], "io.max");
			for (size_t i = 0; vs_limit_resources[i] && !known; i++)
				known = !strcmp(argv[0], vs_limit_resources[i]);
			if (!known)
				return vs_usage_error("limit: unknown resource '%s' (see vserver NAME limit --help)",
						      argv[0]);
			print_one(&c.limits, argv[0]);
			return EXIT_OK;
		}
		for (size_t i = 0; vs_limit_resources[i]; i++)
			print_one(&c.limits, vs_limit_resources[i]);
		if (c.limits.n_io_max)
			print_one(&c.limits, "io.max");
		return EXIT_OK;
	}
	bool applied;
	if (vs_limits_change(s, NULL, name, argv[0], argv[1], &applied, &err) < 0)
		return vs_report_error(&err);
	if (!strcmp(argv[1], "none"))
		printf("%s: limits/%s removed%s\n", name, argv[0],
		       applied ? "; the running guest has the default" : "");
	else
		printf("%s: %s %s saved%s\n", name, argv[0], argv[1],
		       applied ? " and applied to the running guest" : "");
	return EXIT_OK;
}
