/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver-unpack TARBALL DEST REPORTFD: unpacks a root filesystem archive
 * for `vserver NAME build -m template` (tar formats only, any
 * compression libarchive knows).  Absolute names, ".." and writes through
 * symlinks are refused.  The result ("N entries" or the error) is
 * written to REPORTFD; the exit status is 0 on success.  A separate
 * program so that the vserver command does not load libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copy one entry's data; on failure returns the handle that failed. */
static struct archive *copy_data(struct archive *ar, struct archive *aw)
{
	for (;;) {
		const void *buff;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(ar, &buff, &size, &offset);
		if (r == ARCHIVE_EOF)
			return NULL;
		if (r < ARCHIVE_WARN)
			return ar;
		if (archive_write_data_block(aw, buff, size, offset) < ARCHIVE_WARN)
			return aw;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: vserver-unpack TARBALL DEST REPORTFD\n");
		return 2;
	}
	const char *tarball = argv[1], *dest = argv[2];
	int report = atoi(argv[3]);
	char msg[1024] = "";
	int rc = 1;
	struct archive *ar = archive_read_new(), *aw = archive_write_disk_new();
	/* tar archives only (gnutar, pax, ustar), any compression: "all
	 * formats" would take a text file for an mtree spec */
	archive_read_support_filter_all(ar);
	archive_read_support_format_tar(ar);
	archive_write_disk_set_options(aw, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
						   ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS |
						   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						   ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
	archive_write_disk_set_standard_lookup(aw);
	if (archive_read_open_filename(ar, tarball, 1 << 16) != ARCHIVE_OK) {
		snprintf(msg, sizeof msg, "%s: %s", tarball, archive_error_string(ar));
		goto out;
	}
	if (chdir(dest) < 0) {
		snprintf(msg, sizeof msg, "%s: %s", dest, strerror(errno));
		goto out;
	}
	unsigned long n = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			snprintf(msg, sizeof msg, "%s: %s", tarball, archive_error_string(ar));
			goto out;
		}
		r = archive_write_header(aw, e);
		if (r < ARCHIVE_WARN) {
			snprintf(msg, sizeof msg, "%s: %s: %s", tarball, archive_entry_pathname(e), archive_error_string(aw));
			goto out;
		}
		struct archive *bad = archive_entry_size(e) > 0 ? copy_data(ar, aw) : NULL;
		if (bad) {
			const char *why = archive_error_string(bad);
			snprintf(msg, sizeof msg, "%s: %s: %s", tarball, archive_entry_pathname(e),
				 why ? why : bad == ar ? "read error (truncated archive?)" : "write error");
			goto out;
		}
		if (archive_write_finish_entry(aw) < ARCHIVE_WARN) {
			snprintf(msg, sizeof msg, "%s: %s: %s", tarball, archive_entry_pathname(e), archive_error_string(aw));
			goto out;
		}
		n++;
	}
	if (archive_write_close(aw) < ARCHIVE_WARN) {
		snprintf(msg, sizeof msg, "%s: %s", tarball, archive_error_string(aw));
		goto out;
	}
	if (n == 0) {
		snprintf(msg, sizeof msg, "%s: the archive contains no files", tarball);
		goto out;
	}
	snprintf(msg, sizeof msg, "%lu entries", n);
	rc = 0;
out:
	if (write(report, msg, strlen(msg)) < 0)
		rc = rc ? rc : 2;
	archive_read_free(ar);
	archive_write_free(aw);
	return rc;
}
