/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest file-system images: one ext4 file system per guest, kept in a
 * file and loop-mounted on the guest root (vserver(8) DISK IMAGES).
 *
 * Where the kernel has project quotas, dlimits/ (lib/dlimits.h) bounds a
 * guest's space and inodes on a shared file system.  Where it has not
 * (this project's own CI hosts), or where the admin wants a hard wall, a
 * guest gets a file system of its own: `build --disk-size SIZE
 * [--disk-inodes N]` makes IMAGE = ROOTBASE/.images/NAME.img (allocated
 * in full, so the host cannot run out of space under it), formats it
 * with the host's mkfs.ext4 (no reserved blocks: the guest's root gets
 * exactly SIZE) and builds the guest into it.  The key disk/image holds
 * the image's path.
 *
 * The file system stays mounted on the guest root, so the admin sees the
 * guest's files at /vservers/NAME as with any guest; after a host reboot
 * `start` mounts it again (S4).  `delete` unmounts it and removes the
 * image, `rename` moves both.
 *
 * An image is used only if it is a regular file owned by root that no one
 * else may write (a host user who could write it could plant setuid
 * programs or a malformed file system for the kernel to parse), and only
 * if no loop device has it attached already (two mounts of one ext4
 * would corrupt it); the check and the attach happen under a lock on the
 * image.  The loop device is set up with LO_FLAGS_AUTOCLEAR: it goes with
 * the last unmount. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "error.h"

#define VS_DISK_SIZE_MIN (UINT64_C(16) << 20)   /* 16 MiB */
#define VS_DISK_SIZE_MAX (UINT64_C(64) << 40)   /* 64 TiB */
#define VS_DISK_INODES_MIN 64
#define VS_DISK_INODES_MAX UINT32_MAX

/* SIZE: bytes with an optional suffix K, M, G or T (powers of 1024),
 * VS_DISK_SIZE_MIN..VS_DISK_SIZE_MAX.  INODES: VS_DISK_INODES_MIN..MAX.
 * Errors (VS_E_INVALID) name the value and what is allowed. */
int vs_disk_parse_size(const char *v, uint64_t *bytes, vs_err *err);
int vs_disk_parse_inodes(const char *v, uint64_t *n, vs_err *err);

/* The directory of the images of the guests whose roots are in ROOTBASE:
 * ROOTBASE/.images (malloc'd). */
char *vs_disk_images_dir(const char *rootbase);

/* The image path build gives a guest whose root is VDIR:
 * dirname(VDIR)/.images/basename(VDIR).img (malloc'd). */
char *vs_disk_default_image(const char *vdir);

/* Make IMAGE (which must not exist; its directory must) of `bytes`,
 * mode 0600, allocated (*sparse: the host's file system cannot allocate
 * ahead, the image is sparse), with an ext4 file system labelled `label`
 * (`inodes` 0: mkfs's default).  Nothing is left on failure. */
int vs_disk_create(const char *image, uint64_t bytes, uint64_t inodes, const char *label, bool *sparse, vs_err *err);

/* Is DIR the root of a mount of IMAGE?  1 yes, 0 DIR is no mount point
 * (or does not exist),
 * -1 with err otherwise (VS_E_INVALID: something else is mounted there). */
int vs_disk_mounted(const char *image, const char *dir, vs_err *err);

/* Is DIR the root of a mount (of anything)?  No link is followed. */
bool vs_disk_is_mountpoint(const char *dir);

/* Mount IMAGE on DIR unless it is mounted there already (the image is
 * checked either way).  Returns 1 when it mounted it now, 0 when it was
 * mounted, -1 with err.  An image still attached to a loop device but
 * mounted nowhere in this mount namespace (a copy of its last mount held
 * by another one) is mounted from that device again. */
int vs_disk_mount(const char *image, const char *dir, vs_err *err);

/* Unmount IMAGE from DIR if it is mounted there (0 either way), -1 with
 * err (VS_E_BUSY: a process still uses the file system, or the image is
 * mounted elsewhere in this mount namespace, not on DIR).  1 with a note
 * in err: unmounted, but another mount namespace still holds the file
 * system (and its loop device). */
int vs_disk_umount(const char *image, const char *dir, vs_err *err);

/* Is IMAGE, no longer mounted on DIR, still attached to a loop device
 * (a copy of the mount held by another mount namespace, or a device set
 * up by hand without autoclear)?  1 with a note saying which in err,
 * else 0. */
int vs_disk_held(const char *image, const char *dir, vs_err *err);

/* Move the mount of IMAGE from FROM to TO (an existing empty directory):
 * a bind on TO, then FROM unmounted; the file system is never released. */
int vs_disk_move(const char *image, const char *from, const char *to, vs_err *err);

/* `check`: what start would refuse about IMAGE for the guest root DIR
 * (the image's owner, mode, place; something else mounted on DIR), as a
 * diagnostic of disk/image. */
struct vs_diags;
void vs_disk_check_host(const char *image, const char *dir, struct vs_diags *diags);

/* status: the figures of the image's file system mounted on DIR (space in
 * bytes used, KiB in all; inodes), as the dlimits report has them.  0, or
 * -1 with err (VS_E_STATE: not mounted). */
struct vs_dlimits_usage;
int vs_disk_usage(const char *image, const char *dir, struct vs_dlimits_usage *u, vs_err *err);
