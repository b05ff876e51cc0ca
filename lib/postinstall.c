/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "postinstall.h"
#include "safeio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Services of a sysv guest that touch hardware or the host (the seed's
 * list, plus their modern Debian names).  For the plain style, whose
 * /sbin/init runs runlevels 0 and 6 itself, halt, reboot, sendsigs and
 * single are kept (umountfs and umountroot only fail there: a guest
 * cannot unmount or remount its root read-only). */
static const char *const sysv_disable[] = {
	"bootlogd", "bootmisc.sh", "checkfs", "checkfs.sh", "checkroot", "checkroot.sh",
	"checkroot-bootclean.sh", "hwclock.sh", "ifupdown", "klogd", "libdevmapper1.02", "makedev",
	"module-init-tools", "kmod", "mountall.sh", "mountall-bootclean.sh", "mountdevsubfs.sh",
	"mountnfs.sh", "mountnfs-bootclean.sh", "mountkernfs.sh", "mountvirtfs", "networking", "setserial",
	"stop-bootlogd", "stop-bootlogd-single", "umountfs", "umountnfs.sh", "umountroot", "urandom", "udev",
	"udev-finish", "keyboard-setup.sh", "console-setup.sh", "hdparm", "brightness", "procps",
	"hostname.sh", "single", "halt", "reboot", "sendsigs",
	"bootlogs", /* dmesg: a guest cannot read the kernel's log */
};

/* Units of a systemd guest that touch hardware: masked (-> /dev/null). */
static const char *const systemd_mask[] = {
	"systemd-udevd.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
	"systemd-udev-trigger.service", "systemd-udev-settle.service", "systemd-timesyncd.service",
	"systemd-modules-load.service", "kmod-static-nodes.service", "systemd-remount-fs.service",
	"sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount",
	"sys-fs-fuse-connections.mount", "dev-hugepages.mount", "proc-sys-fs-binfmt_misc.automount",
	"systemd-binfmt.service", "getty-static.service", "getty@tty1.service", "getty@tty2.service",
	"getty@tty3.service", "getty@tty4.service", "getty@tty5.service", "getty@tty6.service",
	"systemd-hwdb-update.service", "systemd-journald-audit.socket",
};

static bool same_file(int rootfd, const char *a, const char *b)
{
	vs_err e;
	_cleanup_close_ int fa = vs_openat_in_root(rootfd, a, O_PATH, 0, &e);
	_cleanup_close_ int fb = vs_openat_in_root(rootfd, b, O_PATH, 0, &e);
	struct stat sa, sb;
	return fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static bool exists_in_root(int rootfd, const char *p)
{
	vs_err e;
	_cleanup_close_ int fd = vs_openat_in_root(rootfd, p, O_PATH, 0, &e);
	return fd >= 0;
}

int vs_detect_init_style(int rootfd)
{
	if (same_file(rootfd, "sbin/init", "lib/systemd/systemd") ||
	    same_file(rootfd, "sbin/init", "usr/lib/systemd/systemd"))
		return VS_INIT_SYSTEMD;
	if (exists_in_root(rootfd, "etc/init.d/rc"))
		return VS_INIT_SYSV;
	if (exists_in_root(rootfd, "sbin/init"))
		return VS_INIT_PLAIN;
	return VS_INIT_SYSV;
}

const char *vs_detect_machine(int rootfd)
{
	struct utsname u;
	if (uname(&u) < 0 || strcmp(u.machine, "x86_64"))
		return NULL;
	/* the guest's shell, as the guest resolves it (/bin/sh -> dash,
	 * busybox ...), never a file outside its root */
	static const char *const probes[] = { "bin/sh", "sbin/init", "bin/busybox" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(probes); i++) {
		vs_err e;
		_cleanup_close_ int fd = vs_openat_in_root(rootfd, probes[i], O_RDONLY | O_NONBLOCK, 0, &e);
		struct stat st;
		unsigned char h[20];
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
			continue;
		if (memcmp(h, "\177ELF", 4))
			continue;
		/* ELFCLASS32, little-endian, EM_386 */
		bool i386 = h[4] == 1 && h[5] == 1 && h[18] == 3 && h[19] == 0;
		return i386 ? "i686" : NULL;
	}
	return NULL;
}

/* Write a whole file inside the guest, replacing whatever is there (a
 * symlink or FIFO is replaced, never followed or opened). */
static int put_file(int rootfd, const char *path, const char *data, mode_t mode, const vs_report *rep,
		    vs_err *err)
{
	const char *base;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, path, true, &base, err);
	if (dfd < 0)
		return vs_err_prefix(err, "guest %s", path);
	struct stat st;
	const char *what = NULL;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return vs_fail(err, VS_E_INVALID, 0, "guest %s is a directory; not replacing it", path);
		if (S_ISLNK(st.st_mode))
			what = "a symbolic link";
		else if (S_ISFIFO(st.st_mode))
			what = "a FIFO";
		else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			what = "a device node";
		else if (!S_ISREG(st.st_mode))
			what = "a special file";
	}
	if (vs_write_file_atomic_at(dfd, base, data, strlen(data), mode, err) < 0)
		return vs_err_prefix(err, "guest %s", path);
	if (what)
		vs_say(rep, "  %s: replaced %s with a regular file", path, what);
	else
		vs_say(rep, "  %s: written", path);
	return 0;
}

/* Read a regular file inside the guest; *out NULL if it does not exist. */
static int get_file(int rootfd, const char *path, char **out, struct stat *st, vs_err *err)
{
	*out = NULL;
	const char *base;
	vs_err e;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, path, false, &base, &e);
	if (dfd < 0)
		return 0;
	if (fstatat(dfd, base, st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : vs_fail_errno(err, "guest %s", path);
	if (vs_read_file_at(dfd, base, 4 << 20, out, NULL, err) < 0)
		return vs_err_prefix(err, "guest %s", path);
	return 0;
}

static bool token_in(const char *line, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = line; (p = strstr(p, tok)); p += n) {
		bool start = p == line || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[n] == 0 || p[n] == ' ' || p[n] == '\t';
		if (start && end)
			return true;
	}
	return false;
}

/* Is this inittab line (id:runlevels:action:process) sysvinit's
 * "wait" entry running "/etc/init.d/rc R" for runlevel R? */
static bool rc_entry(const char *l, size_t len, char r)
{
	char line[512];
	while (len && (*l == ' ' || *l == '\t'))
		l++, len--;
	if (len && l[len - 1] == '\r')
		len--;
	if (len >= sizeof line || (len && l[0] == '#'))
		return false;
	memcpy(line, l, len);
	line[len] = 0;
	char *f[4], *p = line;
	for (int n = 0; n < 4; n++) {
		if (!p)
			return false;
		f[n] = p;
		p = n < 3 ? strchr(p, ':') : NULL;
		if (p)
			*p++ = 0;
	}
	if (!strchr(f[1], r) || strcmp(f[2], "wait"))
		return false;
	char want[] = "/etc/init.d/rc X";
	want[sizeof want - 2] = r;
	size_t wl = strlen(want);
	return !strncmp(f[3], want, wl) && (f[3][wl] == 0 || f[3][wl] == ' ' || f[3][wl] == '\t');
}

static bool inittab_runs_rc(const char *tab, char r)
{
	for (const char *l = tab; *l;) {
		const char *end = strchrnul(l, '\n');
		if (rc_entry(l, (size_t)(end - l), r))
			return true;
		l = *end ? end + 1 : end;
	}
	return false;
}

/* Is there a K??SERVICE (or, before insserv, S??SERVICE) link in the
 * guest's DIR? */
static bool has_kill_link(int rootfd, const char *dir, const char *svc)
{
	vs_err e;
	int fd = vs_openat_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY, 0, &e);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)))
		found = (de->d_name[0] == 'K' || de->d_name[0] == 'S') && de->d_name[1] >= '0' && de->d_name[1] <= '9' && de->d_name[2] >= '0' &&
			de->d_name[2] <= '9' && !strcmp(de->d_name + 3, svc);
	closedir(d);
	return found;
}

char *vs_plain_shutdown_gap(int rootfd, const char *name)
{
	static const struct {
		char runlevel;
		const char *dir, *svc, *what;
	} need[] = {
		{ '0', "etc/rc0.d", "halt", "stop waits its whole timeout (init stays in runlevel 0)" },
		{ '6', "etc/rc6.d", "reboot", "a reboot inside ends in sulogin (init stays in runlevel 6)" },
	};
	_cleanup_free_ char *tab = NULL;
	struct stat st;
	vs_err e;
	if (get_file(rootfd, "etc/inittab", &tab, &st, &e) < 0 || !tab)
		return NULL;
	char *msg = NULL;
	for (size_t i = 0; i < VS_ARRAY_SIZE(need); i++) {
		if (!inittab_runs_rc(tab, need[i].runlevel) || has_kill_link(rootfd, need[i].dir, need[i].svc))
			continue;
		char *m = vs_asprintf("%s%s/%s has no %s script, so %s; restore it in the running guest with: "
				      "vserver %s exec update-rc.d %s defaults",
				      msg ? msg : "", msg ? "; " : "", need[i].dir, need[i].svc, need[i].what, name,
				      need[i].svc);
		free(msg);
		msg = m;
	}
	return msg;
}

int vs_postinstall_identity(int rootfd, const struct vs_config *c, const char *old_nodename,
			    const vs_report *rep, vs_err *err)
{
	_cleanup_free_ char *hn = vs_asprintf("%s\n", c->nodename);
	if (put_file(rootfd, "etc/hostname", hn, 0644, rep, err) < 0)
		return -1;

	/* /etc/hosts: keep the admin's lines, drop the ones naming the old or
	 * new identity, then add ours. */
	_cleanup_free_ char *fqdn = c->domainname && !strchr(c->nodename, '.')
					    ? vs_asprintf("%s.%s", c->nodename, c->domainname)
					    : vs_strdup(c->nodename);
	_cleanup_free_ char *shortname = vs_strdup(c->nodename);
	shortname[strcspn(shortname, ".")] = 0;
	const char *base;
	vs_err e;
	_cleanup_free_ char *old = NULL;
	{
		_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, "etc/hosts", true, &base, err);
		if (dfd < 0)
			return vs_err_prefix(err, "guest etc/hosts");
		struct stat st;
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    vs_read_file_at(dfd, base, 1 << 20, &old, NULL, &e) < 0)
			old = NULL;
	}
	size_t cap = (old ? strlen(old) : 0) + 1024;
	char *out = vs_xmalloc0(cap);
	size_t len = 0;
#define APPEND(...) len += (size_t)snprintf(out + len, cap - len, __VA_ARGS__)
	APPEND("127.0.0.1\tlocalhost\n");
	APPEND("127.0.1.1\t%s%s%s\n", fqdn, strcmp(fqdn, shortname) ? " " : "", strcmp(fqdn, shortname) ? shortname : "");
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ip.family && !c->ifaces[i].disabled) {
			struct vs_ipaddr a = c->ifaces[i].ip;
			a.prefix = -1;
			char b[64];
			vs_ip_format(&a, b, sizeof b);
			APPEND("%s\t%s%s%s\n", b, fqdn, strcmp(fqdn, shortname) ? " " : "",
			       strcmp(fqdn, shortname) ? shortname : "");
		}
	bool have_v6 = false;
	if (old) {
		char *save = NULL;
		for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (vs_str_startswith(l, "127.0.0.1") && token_in(l, "localhost") &&
			    (l[9] == ' ' || l[9] == '\t'))
				continue;
			if (vs_str_startswith(l, "127.0.1.1") && (l[9] == ' ' || l[9] == '\t'))
				continue;
			if (l[0] != '#' && (token_in(l, c->nodename) || token_in(l, fqdn) ||
					    (old_nodename && token_in(l, old_nodename))))
				continue;
			if (vs_str_startswith(l, "::1"))
				have_v6 = true;
			size_t need = strlen(l) + 2;
			if (len + need + 256 > cap) {
				cap = (len + need) * 2 + 256;
				out = realloc(out, cap);
				if (!out)
					abort();
			}
			APPEND("%s\n", l);
		}
	}
	if (!have_v6)
		APPEND("::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n");
#undef APPEND
	int r = put_file(rootfd, "etc/hosts", out, 0644, rep, err);
	free(out);
	return r;
}

static int lock_root_password(int rootfd, const vs_report *rep, vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	struct stat st;
	if (get_file(rootfd, "etc/shadow", &data, &st, err) < 0)
		return -1;
	if (!data)
		return 0;
	if (!vs_str_startswith(data, "root::") && !strstr(data, "\nroot::"))
		return 0; /* root has a password or is already locked */
	char *p = vs_str_startswith(data, "root::") ? data : strstr(data, "\nroot::") + 1;
	_cleanup_free_ char *out = vs_asprintf("%.*sroot:*:%s", (int)(p - data), data, p + 6);
	const char *base;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, "etc/shadow", false, &base, err);
	if (dfd < 0)
		return -1;
	if (vs_write_file_atomic_owned(dfd, base, out, strlen(out), st.st_mode & 07777, st.st_uid,
						  st.st_gid, err) < 0)
		return vs_err_prefix(err, "guest etc/shadow");
	vs_say(rep, "  etc/shadow: root's empty password locked");
	return 0;
}

static int resolv_conf(int rootfd, const char *host_resolv, const vs_report *rep, vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	vs_err e;
	const char *src = host_resolv ? host_resolv : "/etc/resolv.conf";
	char real[PATH_MAX];
	/* the host side is trusted: follow its link (e.g. to a resolver
	 * stub file) */
	if (!realpath(src, real) || vs_read_file_at(AT_FDCWD, real, 1 << 20, &data, NULL, &e) < 0) {
		vs_say(rep, "  etc/resolv.conf: host's %s unreadable, left alone", src);
		return 0;
	}
	if (strstr(data, "nameserver 127.0.0.53")) {
		/* systemd-resolved stub: the guest cannot reach it */
		_cleanup_free_ char *up = NULL;
		if (vs_read_file_at(AT_FDCWD, "/run/systemd/resolve/resolv.conf", 1 << 20, &up, NULL, &e) == 0) {
			free(data);
			data = vs_steal(up);
		}
	}
	return put_file(rootfd, "etc/resolv.conf", data, 0644, rep, err);
}

static int mtab_link(int rootfd, const vs_report *rep, vs_err *err)
{
	const char *base;
	_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, "etc/mtab", true, &base, err);
	if (dfd < 0)
		return -1;
	char buf[64];
	ssize_t n = readlinkat(dfd, base, buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = 0;
		if (!strcmp(buf, "../proc/self/mounts") || !strcmp(buf, "/proc/self/mounts") ||
		    !strcmp(buf, "/proc/mounts"))
			return 0;
	}
	/* create the link next to it, then rename over (atomic) */
	if (unlinkat(dfd, ".mtab.vserver~", 0) < 0 && errno != ENOENT)
		return vs_fail_errno(err, "guest etc/.mtab.vserver~");
	if (symlinkat("../proc/self/mounts", dfd, ".mtab.vserver~") < 0)
		return vs_fail_errno(err, "guest etc/mtab");
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		unlinkat(dfd, ".mtab.vserver~", 0);
		return vs_fail(err, VS_E_INVALID, 0, "guest etc/mtab is a directory");
	}
	if (renameat(dfd, ".mtab.vserver~", dfd, base) < 0)
		return vs_fail_errno(err, "guest etc/mtab");
	vs_say(rep, "  etc/mtab: -> ../proc/self/mounts");
	return 0;
}

static int base_dirs(int rootfd, const vs_report *rep, vs_err *err)
{
	static const struct {
		const char *p;
		mode_t m;
	} dirs[] = { { "dev", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "run", 0755 },
		     { "tmp", 01777 }, { "etc", 0755 }, { "root", 0700 }, { "var", 0755 } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++) {
		if (mkdirat(rootfd, dirs[i].p, dirs[i].m) == 0) {
			if (fchmodat(rootfd, dirs[i].p, dirs[i].m, 0) < 0)
				return vs_fail_errno(err, "guest %s", dirs[i].p);
			vs_say(rep, "  /%s: created", dirs[i].p);
		} else if (errno != EEXIST)
			return vs_fail_errno(err, "guest %s", dirs[i].p);
	}
	return 0;
}

static int disable_sysv(int rootfd, int style, const vs_report *rep, vs_err *err)
{
	static const char rl[] = "0123456S";
	int n = 0;
	for (size_t i = 0; rl[i]; i++) {
		char dir[32];
		snprintf(dir, sizeof dir, "etc/rc%c.d", rl[i]);
		vs_err e;
		_cleanup_close_ int dfd = vs_openat_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY, 0, &e);
		if (dfd < 0)
			continue;
		int dup_fd = dup(dfd);
		DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		if (!d) {
			if (dup_fd >= 0)
				close(dup_fd);
			continue;
		}
		struct dirent *de;
		vs_strv victims = { 0 };
		while ((de = readdir(d))) {
			const char *nm = de->d_name;
			if ((nm[0] != 'S' && nm[0] != 'K') || !(nm[1] >= '0' && nm[1] <= '9') ||
			    !(nm[2] >= '0' && nm[2] <= '9'))
				continue;
			for (size_t k = 0; k < VS_ARRAY_SIZE(sysv_disable); k++) {
				const char *svc = sysv_disable[k];
				if (strcmp(nm + 3, svc))
					continue;
				if (style == VS_INIT_PLAIN && (!strcmp(svc, "halt") || !strcmp(svc, "reboot") ||
							       !strcmp(svc, "sendsigs") || !strcmp(svc, "single")))
					continue;
				vs_strv_push(&victims, nm);
			}
		}
		closedir(d);
		for (size_t k = 0; k < victims.n; k++) {
			if (unlinkat(dfd, victims.v[k], 0) < 0 && errno != ENOENT) {
				vs_strv_free(&victims);
				return vs_fail_errno(err, "guest %s/%s", dir, victims.v[k]);
			}
			vs_say(rep, "  /%s/%s: removed (service disabled)", dir, victims.v[k]);
			n++;
		}
		vs_strv_free(&victims);
	}
	/* comment out gettys in /etc/inittab */
	_cleanup_free_ char *tab = NULL;
	struct stat st;
	if (get_file(rootfd, "etc/inittab", &tab, &st, err) < 0)
		return -1;
	if (tab) {
		size_t cap = strlen(tab) * 2 + 16, len = 0;
		_cleanup_free_ char *out = vs_xmalloc0(cap);
		int changed = 0;
		char *p = tab;
		while (*p) {
			char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
			bool getty = p[0] != '#' && memmem(p, l, "getty", 5) && memmem(p, l, "respawn", 7);
			if (getty) {
				out[len++] = '#';
				changed++;
			}
			memcpy(out + len, p, l);
			len += l;
			p += l;
		}
		if (changed) {
			const char *base;
			_cleanup_close_ int dfd = vs_open_parent_in_root(rootfd, "etc/inittab", false, &base, err);
			if (dfd < 0)
				return -1;
			if (vs_write_file_atomic_at(dfd, base, out, len, st.st_mode & 07777, err) < 0)
				return -1;
			vs_say(rep, "  etc/inittab: %d getty line%s commented out", changed, changed == 1 ? "" : "s");
		}
	}
	(void)n;
	return 0;
}

static int disable_systemd(int rootfd, const vs_report *rep, vs_err *err)
{
	if (vs_mkdir_p_in_root(rootfd, "etc/systemd/system", 0755, err) < 0)
		return -1;
	_cleanup_close_ int dfd = vs_openat_in_root(rootfd, "etc/systemd/system", O_RDONLY | O_DIRECTORY, 0, err);
	if (dfd < 0)
		return -1;
	for (size_t i = 0; i < VS_ARRAY_SIZE(systemd_mask); i++) {
		const char *u = systemd_mask[i];
		/* only units the guest has (templates count for instances) */
		char tmpl[128];
		const char *at = strchr(u, '@');
		snprintf(tmpl, sizeof tmpl, "%.*s%s", at ? (int)(at - u + 1) : (int)strlen(u), u,
			 at ? strchr(u, '.') : "");
		bool have = false;
		static const char *const dirs[] = { "lib/systemd/system", "usr/lib/systemd/system" };
		for (size_t d = 0; d < 2 && !have; d++) {
			_cleanup_free_ char *p = vs_asprintf("%s/%s", dirs[d], tmpl);
			have = exists_in_root(rootfd, p);
		}
		if (!have)
			continue;
		char buf[32];
		ssize_t n = readlinkat(dfd, u, buf, sizeof buf - 1);
		if (n == 9 && !memcmp(buf, "/dev/null", 9))
			continue;
		struct stat st;
		if (fstatat(dfd, u, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				continue;
			if (unlinkat(dfd, u, 0) < 0)
				return vs_fail_errno(err, "guest etc/systemd/system/%s", u);
		}
		if (symlinkat("/dev/null", dfd, u) < 0)
			return vs_fail_errno(err, "guest etc/systemd/system/%s", u);
		vs_say(rep, "  etc/systemd/system/%s: masked", u);
	}
	return 0;
}

int vs_postinstall(int rootfd, const struct vs_config *c, int style, const char *host_resolv,
		   const vs_report *rep, vs_err *err)
{
	if (base_dirs(rootfd, rep, err) < 0 || vs_postinstall_identity(rootfd, c, NULL, rep, err) < 0 ||
	    lock_root_password(rootfd, rep, err) < 0 || resolv_conf(rootfd, host_resolv, rep, err) < 0 ||
	    mtab_link(rootfd, rep, err) < 0)
		return -1;
	if (style == VS_INIT_SYSTEMD)
		return disable_systemd(rootfd, rep, err);
	return disable_sysv(rootfd, style, rep, err);
}
