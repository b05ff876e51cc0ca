/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File access that is safe against hostile trees (security-catalogue.md
 * HS-01, HS-02, HS-08): bounded reads of regular files only, atomic
 * writes, and path resolution that cannot leave a guest root. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "error.h"

/* Maximum size of any configuration file we read. */
#define VS_CONFIG_MAX_FILE (64 * 1024)

/* Read a regular file (never a FIFO, device, directory or symlink) of at
 * most `max` bytes.  *out is NUL-terminated; *len excludes the NUL.
 * Returns 0, or -1 with err set (errno ENOENT when it does not exist). */
int vs_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, vs_err *err);
/* The same for an open fd (`path` names it in messages). */
int vs_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, vs_err *err);

/* Write the whole value `v` with one write(2), as control files (cgroup,
 * sysfs) want: each write is one command.  0; 1 for a short write; -1
 * with errno set when the kernel refused it. */
int vs_write_value(int fd, const char *v);

/* Is n the name of the temporary file of an atomic write below
 * (".NAME.XXXXXXXX~", 8 hex digits), which a process killed between
 * creating and renaming it leaves behind? */
bool vs_atomic_temp_name(const char *n);

/* Atomically replace dirfd/name: temp file, write, fsync, rename, fsync
 * of the directory.  The final name is replaced even if it is a symlink,
 * FIFO or device (rename does not open it). */
int vs_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    vs_err *err);
/* Same, giving the new file an owner (uid/gid -1: keep root). */
int vs_write_file_atomic_owned(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			       uid_t uid, gid_t gid, vs_err *err);
/* Atomically replace a run-time file (the run directory: state, plans,
 * caches): like vs_write_file_atomic_at, but without the fsyncs.  A
 * crashed process leaves the old or the new file; a crashed machine
 * takes away what they describe (processes, mounts, devices), and the
 * run directory is normally a tmpfs.  Readers treat a torn file as stale
 * (state) or invalid (the checksummed seccomp cache). */
int vs_write_runtime_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, vs_err *err);

/* Resolve `path` inside the tree rooted at rootfd (absolute symlinks and
 * ".." are clamped to the root: openat2 RESOLVE_IN_ROOT).  `flags` are
 * open flags; O_NOFOLLOW applies to the last component. */
int vs_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, vs_err *err);

/* Paths are resolved with RESOLVE_NO_XDEV (no crossing of mount points)
 * except after vs_safeio_allow_xdev(true), which the start sequence calls
 * in the guest's own mount namespace while it mounts. */
void vs_safeio_allow_xdev(bool allow);

/* Open (O_RDONLY|O_DIRECTORY) the directory that contains `path` inside
 * the root, creating the missing directories (mode 0755) when `create`
 * is set.  *base points into `path` at the final component. */
int vs_open_parent_in_root(int rootfd, const char *path, bool create, const char **base, vs_err *err);

/* Create every missing directory of `path` inside the root. */
int vs_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, vs_err *err);

/* Remove dirfd/name recursively.  Symlinks are removed, never followed;
 * the walk does not cross into other filesystems (mount points are left
 * and reported as an error). */
int vs_rm_rf_at(int dirfd, const char *name, vs_err *err);

/* fsync a directory by path / fd. */
int vs_fsync_dir(int dirfd);

/* Same, for a plain host path (trusted location, e.g. /etc/vservers). */
int vs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, vs_err *err);
