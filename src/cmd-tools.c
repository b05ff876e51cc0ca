/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-stat, vps, vkill: the host's view (filled in by the host-view
 * work; for now they answer --help and --version). */
#include "cli.h"
#include "vs-build-config.h"
#include <stdio.h>
#include <string.h>

static int stub(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("%s %s\n", vs_prog, VS_VERSION);
			return 0;
		}
	}
	fprintf(stderr, "%s: not available in this version yet (comes with the host-view work)\n", vs_prog);
	return EXIT_FAIL;
}

int main_vserver_stat(int argc, char **argv)
{
	return stub(argc, argv,
		    "Usage: vserver-stat [--json]\n"
		    "One line per running guest: CTX PROC VSZ RSS userTIME sysTIME UPTIME NAME.\n");
}

int main_vps(int argc, char **argv)
{
	return stub(argc, argv, "Usage: vps [PS-OPTIONS...]\nps with a CONTEXT column (context and guest name).\n");
}

int main_vkill(int argc, char **argv)
{
	return stub(argc, argv,
		    "Usage: vkill [--xid CTX|NAME] [-s SIGNAL] [--] [PID...]\n"
		    "Signal processes of a guest by their PID inside the guest, or all of them.\n");
}
