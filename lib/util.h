/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the whole library: cleanup attributes, string
 * lists, strict number parsing. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include "error.h"

static inline void vs_freep(void *p) { free(*(void **)p); }
static inline void vs_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void vs_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void vs_closedirp(DIR **d) { if (*d) closedir(*d); }
#define _cleanup_free_ __attribute__((cleanup(vs_freep)))
#define _cleanup_close_ __attribute__((cleanup(vs_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(vs_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(vs_closedirp)))

/* Hand a resource out of a cleanup variable. */
#define vs_steal(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define vs_steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })
#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable NULL-terminated list of strings. */
typedef struct vs_strv {
	char **v;
	size_t n, cap;
} vs_strv;
int vs_strv_push(vs_strv *l, const char *s);   /* copies s; -1 on ENOMEM */
int vs_strv_push_take(vs_strv *l, char *s);    /* takes ownership */
bool vs_strv_contains(const vs_strv *l, const char *s);
void vs_strv_free(vs_strv *l);
static inline void vs_strv_freep(vs_strv *l) { vs_strv_free(l); }
#define _cleanup_strv_ __attribute__((cleanup(vs_strv_freep)))
int vs_strv_cmp(const void *a, const void *b); /* for qsort of char* */

char *vs_strdup(const char *s);                /* aborts on ENOMEM */
char *vs_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *vs_xmalloc0(size_t n);
bool vs_str_startswith(const char *s, const char *prefix);
bool vs_str_endswith(const char *s, const char *suffix);

/* Strict decimal parse: digits only, no sign, no leading zeros (except
 * "0"), no spaces, no overflow.  Returns 0 or -1 (errno EINVAL/ERANGE). */
int vs_parse_u64(const char *s, uint64_t *out);
/* Signed variant accepting one leading '-'. */
int vs_parse_i64(const char *s, int64_t *out);

/* Escape a string read from a guest for printing on the host terminal:
 * non-printable bytes become \xNN.  Returns malloc'd string. */
char *vs_escape(const char *s);
/* Same; `backslash` false leaves backslashes as they are (for text that
 * is not meant to be read back, like a ps line). */
char *vs_escape_mode(const char *s, bool backslash);

/* Monotonic time in seconds (double). */
double vs_now(void);

/* Progress and change reports from the library to the front-end (the
 * library itself never prints). */
typedef struct vs_report {
	void (*fn)(void *ud, const char *msg);
	void *ud;
} vs_report;
void vs_say(const vs_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* write(2) all of b[0..n), through EINTR, short writes and (on a
 * non-blocking fd) EAGAIN; false with errno on another error. */
bool vs_write_all(int fd, const void *b, size_t n);

/* The PATH a guest gets without apps/init/environment. */
#define VS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Run the host program BIN (never anything from a guest tree) with
 * argv and envp (NULL: the caller's environment), stdin and stdout on
 * /dev/null and stderr into msg: at most len - 1 bytes kept (the rest is
 * drained), newlines joined by blanks, trailing ones cut.  Returns its
 * exit status (128 + N for a signal; 127 when it could not be run, with
 * the reason in msg), or -1 with err (pipe, fork, wait). */
int vs_run_host(const char *bin, char *const argv[], char *const envp[], char *msg, size_t len, vs_err *err);
