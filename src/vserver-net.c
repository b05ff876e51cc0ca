/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-net: the network helper (lib/net.h), run by `vserver start`,
 * `stop` and the per-guest monitor:
 *   vserver-net up NAME [CGROOT]     bring the guest's network up
 *   vserver-net down NAME            undo what `up` recorded
 * It alone links libmnl, libbpf and libnftables.  Errors: one line on
 * stderr; exit 2 for a configuration problem, 1 otherwise. */
#include "cgroup.h"
#include "config.h"
#include "net.h"
#include "settings.h"
#include <stdio.h>
#include <string.h>

static int fail(const vs_err *e)
{
	fprintf(stderr, "%s\n", e->msg);
	return e->kind == VS_E_INVALID ? 2 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "up") && strcmp(argv[1], "down"))) {
		fprintf(stderr, "usage: vserver-net up|down NAME [CGROOT] (run by vserver, not by hand)\n");
		return 2;
	}
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0 || vs_name_check(argv[2], &err) < 0)
		return fail(&err);
	if (!strcmp(argv[1], "down"))
		return vs_net_down(&s, argv[2], &err) < 0 ? fail(&err) : 0;
	_cleanup_config_ struct vs_config c;
	if (vs_config_load(&s, argv[2], &c, NULL, &err) < 0)
		return fail(&err);
	struct vs_cgroup cg = { 0 };
	const char *root = argc > 3 && argv[3][0] ? argv[3] : NULL;
	if (c.net.mode == VS_NET_ISOLATED && vs_cgroup_open(&s, root, argv[2], &cg, &err) < 0)
		return fail(&err);
	int r = vs_net_up(&s, &c, &cg, &err);
	vs_cgroup_free(&cg);
	return r < 0 ? fail(&err) : 0;
}
