/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int vs_fail(vs_err *err, int kind, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = 0;
	size_t len = strlen(err->msg);
	if (errnum && len < sizeof err->msg)
		snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
	err->kind = kind;
	err->errnum = errnum;
	return -1;
}

int vs_err_prefix(vs_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char pre[512], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
	return -1;
}

void vs_err_clear(vs_err *err)
{
	if (err) {
		err->kind = VS_OK;
		err->errnum = 0;
		err->msg[0] = 0;
	}
}
