/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-monitor: the per-guest monitor, a small static program started
 * by `vserver NAME start` (lib/start.c, stages M1-M5). */
#include "start.h"

int main(int argc, char **argv)
{
	return vs_monitor_main(argc, argv);
}
