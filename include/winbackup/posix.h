/*
 * POSIX backend: a source (BackupRead side) and a sink (BackupWrite side)
 * over a Linux file descriptor, mapping each backup stream to where Wine,
 * Samba and ntfs-3g keep that kind of metadata on Linux:
 *
 *   BACKUP_DATA / SPARSE_BLOCK   file contents; holes found with SEEK_DATA/SEEK_HOLE, punched on restore
 *   BACKUP_SECURITY_DATA         xattr user.wine.sd (wine-staging: 2 bytes {1,0} + self-relative SD),
 *                                else synthesized from owner, group, mode and POSIX ACL
 *   BACKUP_ALTERNATE_DATA        xattr user.DosStream.<name>:$DATA (Samba streams_xattr; value + 1 NUL)
 *   BACKUP_EA_DATA               the remaining user.* xattrs (EA name = xattr name without "user.")
 *   BACKUP_REPARSE_DATA          symlinks (IO_REPARSE_TAG_SYMLINK), else xattr user.WINEREPARSE
 *   BACKUP_OBJECT_ID             xattr user.winbackup.objectid (64 bytes)
 *   BACKUP_LINK                  link(2)
 * DOS attributes are not part of the stream format (Windows keeps them out of
 * it too); wb_posix_get_attributes/wb_posix_set_attributes read and write
 * them in user.DOSATTRIB, in Wine's "0x%x" text form.
 */
#ifndef WINBACKUP_POSIX_H
#define WINBACKUP_POSIX_H

#include <stdint.h>
#include "winbackup/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* flags for sources and sinks */
#define WB_POSIX_SECURITY   0x1u    /* bProcessSecurity: emit / apply BACKUP_SECURITY_DATA */
#define WB_POSIX_NO_SYNC    0x100u  /* sink: no fdatasync in finish(); the caller makes it durable */

struct wb_posix_source;
struct wb_posix_sink;

extern const struct wb_source_ops wb_posix_source_ops;
extern const struct wb_sink_ops wb_posix_sink_ops;

/* fd: a regular file or directory opened for reading, or an O_PATH|O_NOFOLLOW
 * descriptor of a symbolic link.  The fd stays the caller's. */
uint32_t wb_posix_source_open(int fd, unsigned int flags, struct wb_posix_source **source);
void wb_posix_source_close(struct wb_posix_source *source);

struct wb_posix_sink_options
{
    /* Path of the file behind fd, or NULL.  Needed only to turn a restored
     * IO_REPARSE_TAG_SYMLINK into a real symbolic link; without it the
     * reparse data is kept in user.WINEREPARSE. */
    const char *path;
    /* Where BACKUP_LINK paths resolve.  A link payload is a full Win32 path
     * ("Z:\dir\name", "\??\Z:\dir\name") or a POSIX absolute path; with
     * link_root set it is taken relative to link_root (drive letter dropped)
     * and must stay below it.  NULL: Wine's mapping (Z: is /).  Components
     * ".." are always refused. */
    const char *link_root;
};

/* fd: the file or directory to restore onto, opened for writing. */
uint32_t wb_posix_sink_open(int fd, unsigned int flags, const struct wb_posix_sink_options *options,
                            struct wb_posix_sink **sink);
/* Apply what must come last (file length, fsync of data); WB_OK or the first error. */
uint32_t wb_posix_sink_finish(struct wb_posix_sink *sink);
void wb_posix_sink_close(struct wb_posix_sink *sink);

/* Win32 FILE_ATTRIBUTE_* of a file, from its mode and user.DOSATTRIB. */
uint32_t wb_posix_get_attributes(int fd, uint32_t *attributes);
/* Store HIDDEN/SYSTEM/ARCHIVE (and READONLY as the mode's write bits) the way Wine does. */
uint32_t wb_posix_set_attributes(int fd, uint32_t attributes);

/* errno -> Win32 error code */
uint32_t wb_win32_error_from_errno(int error);

#ifdef __cplusplus
}
#endif

#endif
