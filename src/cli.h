/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Front-end helpers: the commands are thin; all logic is in lib/. */
#pragma once
#include <stdbool.h>
#include "error.h"
#include "settings.h"
#include "util.h"

/* Exit codes (documented in vserver(8)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* operation failed */
	EXIT_USAGE = 2,     /* bad command line or configuration */
	EXIT_STOPPED = 3,   /* status: guest is stopped */
	EXIT_BUSY = 4,      /* another command holds the guest's lock */
	EXIT_NOGUEST = 5,   /* no such guest */
	EXIT_EXISTS = 6,    /* guest already exists */
};

extern const char *vs_prog;
int vs_exit_code(const vs_err *err);
/* Print "PROG: message" on stderr and return the exit code. */
int vs_report_error(const vs_err *err);
int vs_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const vs_report vs_stdout_report;

int cmd_build(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_check(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_config(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_list(const struct vs_settings *s, int argc, char **argv);
int cmd_delete(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_rename(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_status(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_start(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_stop(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_restart(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_enter(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_exec(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_suexec(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_console(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_mount(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_umount(const struct vs_settings *s, const char *name, int argc, char **argv);
int cmd_running(const struct vs_settings *s, const char *name, int argc, char **argv);
int main_vserver_stat(int argc, char **argv);
int main_vps(int argc, char **argv);
int main_vkill(int argc, char **argv);
int main_vserver_autostart(int argc, char **argv);
