/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the configuration loader.
 *
 * Input: byte 0 chooses the file, the rest is its content.  The file is
 * written into a private configuration tree (created once under /tmp,
 * reused, removed at exit) and the guest is loaded with a diagnostics
 * list; everything is freed after each run, so LeakSanitizer reports any
 * leak in the loader. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "config.h"
#include "util.h"

static const char *const files[] = {
	"context",
	"uts/nodename",
	"bcapabilities",
	"fstab",
	"interfaces/0/ip",
	"apps/init/killseq",
	"apps/init/environment",
	"personality",
	"interfaces/0/dev",
	"interfaces/lback",
	"net/mode",
	"net/forward",
	"net/host-ports",
	"net/gateway",
	"limits/memory",
	"limits/cpu.max",
	"limits/io.max",
	"limits/cpuset.cpus",
	"ulimits/nofile",
	"rlimits/rss",
	"sched/fill-rate",
	"cgroup/memory.swappiness",
	"ionice/class",
	"seccomp",
	"dlimits/0/space_total",
};

#define GUEST "fz"

static char base[PATH_MAX];
static struct vs_settings S;
static int gfd = -1; /* the guest's config dir */

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void cleanup(void)
{
	if (base[0])
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz-config: %s: %s\n", what, strerror(errno));
	abort();
}

static void mkdir_at(int dfd, const char *rel)
{
	if (mkdirat(dfd, rel, 0755) < 0 && errno != EEXIST)
		die(rel);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(base, sizeof base, "/tmp/vs-fuzz-config-XXXXXX");
	if (!mkdtemp(base))
		die("mkdtemp");
	atexit(cleanup);
	snprintf(S.confdir, sizeof S.confdir, "%s/etc", base);
	snprintf(S.vdirbase, sizeof S.vdirbase, "%s/vservers", base);
	snprintf(S.cachebase, sizeof S.cachebase, "%s/cache", base);
	snprintf(S.rundir, sizeof S.rundir, "%s/run", base);
	snprintf(S.cgroup_parent, sizeof S.cgroup_parent, "vserver");
	if (mkdir(S.confdir, 0755) < 0)
		die(S.confdir);
	char g[PATH_MAX];
	snprintf(g, sizeof g, "%s/" GUEST, S.confdir);
	if (mkdir(g, 0755) < 0)
		die(g);
	gfd = open(g, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (gfd < 0)
		die(g);
	mkdir_at(gfd, "uts");
	mkdir_at(gfd, "interfaces");
	mkdir_at(gfd, "interfaces/0");
	mkdir_at(gfd, "apps");
	mkdir_at(gfd, "apps/init");
	static const char *const dirs[] = { "net", "limits", "ulimits", "rlimits", "sched", "cgroup", "ionice",
					    "dlimits", "dlimits/0" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++)
		mkdir_at(gfd, dirs[i]);
	return 0;
}

static void write_file(const char *rel, const uint8_t *data, size_t len)
{
	int fd = openat(gfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		die(rel);
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(rel);
		}
		data += w;
		len -= (size_t)w;
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *rel = files[data[0] % VS_ARRAY_SIZE(files)];
	/* Only the chosen file exists: remove the others from earlier runs. */
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++)
		if (files[i] != rel && unlinkat(gfd, files[i], 0) < 0 && errno != ENOENT)
			die(files[i]);
	write_file(rel, data + 1, size - 1);

	struct vs_config c;
	struct vs_diags d = { 0 };
	vs_err err = { 0 };
	if (vs_config_load(&S, GUEST, &c, &d, &err) < 0) {
		fprintf(stderr, "fuzz-config: load failed: %s\n", err.msg);
		abort(); /* the guest exists: only diagnostics are expected */
	}
	/* Every diagnostic must name a file; the line is 0 or within the file. */
	size_t lines = 1;
	for (size_t i = 1; i < size; i++)
		lines += data[i] == '\n';
	for (size_t i = 0; i < d.n; i++) {
		if (!d.d[i].file || !d.d[i].msg || !d.d[i].file[0] || d.d[i].line < 0 ||
		    (size_t)d.d[i].line > lines + 1) {
			fprintf(stderr, "fuzz-config: bad diagnostic %s:%d: %s\n", d.d[i].file ? d.d[i].file : "(null)",
				d.d[i].line, d.d[i].msg ? d.d[i].msg : "(null)");
			abort();
		}
	}
	/* the other consumers of a loaded configuration */
	vs_config_check_conflicts(&S, &c, &d);
	struct json_object *j = vs_config_to_json(&c);
	if (!j || !json_object_to_json_string(j))
		abort();
	json_object_put(j);
	vs_diags_free(&d);
	vs_config_free(&c);
	return 0;
}
