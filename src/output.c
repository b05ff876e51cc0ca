/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include <stdarg.h>
#include <stdio.h>

const char *vs_prog = "vserver";

int vs_exit_code(const vs_err *err)
{
	switch (err->kind) {
	case VS_E_INVALID:
		return EXIT_USAGE;
	case VS_E_STATE:
		return EXIT_FAIL;
	case VS_E_BUSY:
		return EXIT_BUSY;
	case VS_E_NOGUEST:
		return EXIT_NOGUEST;
	case VS_E_EXISTS:
		return EXIT_EXISTS;
	default:
		return EXIT_FAIL;
	}
}

int vs_report_error(const vs_err *err)
{
	fprintf(stderr, "%s: %s\n", vs_prog, err->msg[0] ? err->msg : "unknown error");
	return vs_exit_code(err);
}

int vs_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", vs_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", vs_prog);
	va_end(ap);
	return EXIT_USAGE;
}

static void say_stdout(void *ud, const char *msg)
{
	(void)ud;
	printf("%s\n", msg);
	fflush(stdout);
}

const vs_report vs_stdout_report = { .fn = say_stdout };
