/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build.h"
#include "cli.h"
#include <stdio.h>
#include <string.h>

int cmd_build(const struct vs_settings *s, const char *name, int argc, char **argv)
{
	struct vs_build_opts o = { .name = name };
	int rc;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                     \
	do {                                                                        \
		if (!v) {                                                           \
			rc = vs_usage_error("build: option '%s' needs a value", a); \
			goto out;                                                   \
		}                                                                   \
		i++;                                                                \
	} while (0)
		if (!strcmp(a, "--")) {
			o.margs = argv + i + 1;
			o.n_margs = argc - i - 1;
			break;
		} else if (!strcmp(a, "-m") || !strcmp(a, "--method")) {
			NEEDV();
			o.method = v;
		} else if (!strcmp(a, "--context")) {
			NEEDV();
			o.context = v;
		} else if (!strcmp(a, "--hostname")) {
			NEEDV();
			o.hostname = v;
		} else if (!strcmp(a, "--interface")) {
			NEEDV();
			vs_strv_push(&o.interfaces, v);
		} else if (!strcmp(a, "--initstyle")) {
			NEEDV();
			o.initstyle = v;
		} else if (!strcmp(a, "--rootdir")) {
			NEEDV();
			o.rootdir = v;
		} else if (!strcmp(a, "--disk-size")) {
			NEEDV();
			o.disk_size = v;
		} else if (!strcmp(a, "--disk-inodes")) {
			NEEDV();
			o.disk_inodes = v;
		} else if (!strcmp(a, "--force")) {
			o.force = true;
		} else if (!strcmp(a, "--keep")) {
			o.keep = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("Usage: vserver NAME build [--context N] [--hostname H] [--interface SPEC]...\n"
			       "                          [--initstyle S] [--rootdir DIR] [--force] [--keep]\n"
			       "                          [--disk-size SIZE [--disk-inodes N]]\n"
			       "                          -m METHOD [-- METHOD-ARGS]\n"
			       "Methods:\n");
			for (int k = 0; vs_build_methods[k].name; k++)
				printf("  -m %s %s\n", vs_build_methods[k].name, vs_build_methods[k].synopsis);
			printf("--disk-size SIZE: the guest root gets its own ext4 file system, an image of SIZE\n"
			       "  (K, M, G, T; at least 16M) in ROOTBASE/.images, mounted on the root: a hard limit on\n"
			       "  its space (and with --disk-inodes, on its files).  A clone of such a guest gets one too.\n");
			rc = 0;
			goto out;
		} else {
			rc = vs_usage_error("build: unknown option '%s'", a);
			goto out;
		}
#undef NEEDV
	}
	if (!o.method) {
		rc = vs_usage_error("build: missing -m METHOD (debootstrap, mmdebstrap, skeleton, template, clone, rsync)");
		goto out;
	}
	o.host_resolv = getenv("VSERVER_HOST_RESOLV_CONF");
	vs_err err = { 0 };
	if (vs_build(s, &o, &vs_stdout_report, &err) < 0)
		rc = vs_report_error(&err);
	else
		rc = 0;
out:
	vs_strv_free(&o.interfaces);
	return rc;
}
