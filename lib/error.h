/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error values: every library function that can fail takes a `vs_err *`
 * and returns -1 (or NULL) after filling it.  The library never prints. */
#pragma once
#include <stdarg.h>

/* Broad classes; the front-ends map them to exit codes (see vserver(8)). */
enum vs_err_kind {
	VS_OK = 0,
	VS_E_SYSTEM = 1,   /* a system call failed */
	VS_E_INVALID = 2,  /* bad command-line or configuration input */
	VS_E_STATE = 3,    /* guest in the wrong state (running / stopped) */
	VS_E_BUSY = 4,     /* lock held by another operation */
	VS_E_NOGUEST = 5,  /* no such guest */
	VS_E_EXISTS = 6,   /* target already exists */
};

typedef struct vs_err {
	int kind;          /* enum vs_err_kind */
	int errnum;        /* errno at the point of failure, 0 if none */
	char msg[2048];
} vs_err;

/* Set the error and return -1.  The message gets ": strerror(errnum)"
 * appended when errnum != 0. */
int vs_fail(vs_err *err, int kind, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Shorthand for a system error carrying the current errno. */
#define vs_fail_errno(err, ...) vs_fail((err), VS_E_SYSTEM, errno, __VA_ARGS__)
/* Prefix an existing error message with context ("while X: "). */
int vs_err_prefix(vs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vs_err_clear(vs_err *err);
