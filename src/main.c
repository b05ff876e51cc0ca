/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver, vserver-stat, vps, vkill, vserver-autostart: one multi-call binary. */
#include "cli.h"
#include "config.h"
#include "vs-build-config.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"Usage: vserver [OPTIONS] NAME COMMAND [ARGS...]\n"
	"       vserver list [--json]\n"
	"\n"
	"Linux-VServer guests on a stock kernel.\n"
	"\n"
	"Guest commands:\n"
	"  build [OPTIONS] -m METHOD [-- ARGS]  create the guest (see below)\n"
	"  check                        report every problem in the guest's configuration\n"
	"  config [--json]              print the effective configuration (defaults applied)\n"
	"  start [--rescue [CMD...]]    start the guest (its init, or CMD in rescue mode); sysv and\n"
	"                               systemd styles: returns once it has booted (apps/init/boot-timeout)\n"
	"  stop [--timeout SEC]         clean shutdown, then kill what is left (default 30 s)\n"
	"  restart                      stop, then start\n"
	"  enter                        a root login shell in the guest (no password)\n"
	"  exec [-t|-T] CMD [ARGS...]   run a command in the guest (-t: with a terminal)\n"
	"  suexec USER CMD [ARGS...]    run a command as a guest user\n"
	"  console                      attach to the guest's console (detach: Ctrl-])\n"
	"  mount [--ro] [--rbind] SRC TARGET   bind host path SRC on TARGET in the running guest\n"
	"  umount TARGET                unmount TARGET in the running guest\n"
	"  status [--json]              running (exit 0: processes, memory, CPU, uptime) or stopped (exit 3)\n"
	"  running                      exit 0 if running, 1 if not\n"
	"  rename NEWNAME               rename a stopped guest (root, configuration, identity)\n"
	"  delete [--force]             remove a stopped guest: root, configuration, cache, state\n"
	"  limit [RESOURCE [VALUE]]     show the resource limits, or change one (live on a running guest, saved)\n"
	"\n"
	"Build options:\n"
	"  --context N                  context number (default: next free from .defaults/context.next, else 40000)\n"
	"  --hostname H                 host name (default: NAME)\n"
	"  --interface [LABEL=][DEV:]IP[/PREFIX]  an address (repeatable)\n"
	"  --initstyle sysv|plain|systemd  init style (default: detected)\n"
	"  --rootdir DIR                directory that holds the guest root (default: the vdirbase, /vservers)\n"
	"  --force                      replace an existing guest (moved aside to NAME.~TIME~)\n"
	"  --keep                       keep what was created when the build fails\n"
	"Build methods:\n"
	"  -m debootstrap -- [-d SUITE] [-m MIRROR] [-a ARCH] [-s SCRIPT] [-- DEBOOTSTRAP-OPTS]\n"
	"  -m mmdebstrap  -- [-d SUITE] [-m MIRROR] [-a ARCH] [-- MMDEBSTRAP-OPTS]\n"
	"  -m skeleton                  configuration and an empty root\n"
	"  -m template -- -t TARBALL    unpack a root filesystem archive (.tar, .gz, .xz, .zst)\n"
	"  -m clone -- --source GUEST   copy a stopped guest\n"
	"  -m rsync -- --source DIR|HOST:DIR [-o RSYNC-OPTION]... [-- RSYNC-ARGS]\n"
	"                               copy a server's tree (rsync -aHAXx --numeric-ids)\n"
	"\n"
	"Options:\n"
	"  -h, --help                   show this help\n"
	"  -V, --version                show the version\n"
	"\n"
	"Paths can be redirected with VSERVER_CONFDIR, VSERVER_VDIRBASE, VSERVER_CACHEBASE,\n"
	"VSERVER_RUNDIR or a VSERVER_SETTINGS file.  See vserver(8).\n";

int cmd_limit(const struct vs_settings *s, const char *name, int argc, char **argv); /* src/cmd-limit.c */

static int main_vserver(int argc, char **argv)
{
	if (argc < 2)
		return vs_usage_error("missing guest name and command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("vserver %s\n", VS_VERSION);
		return 0;
	}
	int i = 1;
	if (!strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return vs_usage_error("missing guest name");
	if (argv[i][0] == '-')
		return vs_usage_error("unknown option '%s'", argv[i]);
	struct vs_settings s;
	vs_err err = { 0 };
	if (vs_settings_load(&s, &err) < 0)
		return vs_report_error(&err);
	const char *name = argv[i];
	if (!strcmp(name, "list") && (i + 1 >= argc || argv[i + 1][0] == '-'))
		return cmd_list(&s, argc - i - 1, argv + i + 1);
	if (vs_name_check(name, &err) < 0)
		return vs_report_error(&err);
	if (i + 1 >= argc)
		return vs_usage_error("missing command after guest name '%s'", name);
	const char *cmd = argv[i + 1];
	int cargc = argc - i - 2;
	char **cargv = argv + i + 2;
	static const struct {
		const char *name;
		int (*fn)(const struct vs_settings *, const char *, int, char **);
	} cmds[] = {
		{ "build", cmd_build },   { "check", cmd_check },   { "config", cmd_config },
		{ "delete", cmd_delete }, { "rename", cmd_rename }, { "status", cmd_status },
		{ "running", cmd_running }, { "start", cmd_start }, { "stop", cmd_stop },
		{ "restart", cmd_restart }, { "enter", cmd_enter }, { "exec", cmd_exec },
		{ "suexec", cmd_suexec }, { "console", cmd_console }, { "limit", cmd_limit },
		{ "mount", cmd_mount },	    { "umount", cmd_umount },
	};
	for (size_t k = 0; k < VS_ARRAY_SIZE(cmds); k++)
		if (!strcmp(cmds[k].name, cmd))
			return cmds[k].fn(&s, name, cargc, cargv);
	return vs_usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "vserver-stat")) {
		vs_prog = "vserver-stat";
		return main_vserver_stat(argc, argv);
	}
	if (!strcmp(base, "vps")) {
		vs_prog = "vps";
		return main_vps(argc, argv);
	}
	if (!strcmp(base, "vkill")) {
		vs_prog = "vkill";
		return main_vkill(argc, argv);
	}
	if (!strcmp(base, "vserver-autostart")) {
		vs_prog = "vserver-autostart";
		return main_vserver_autostart(argc, argv);
	}
	return main_vserver(argc, argv);
}
