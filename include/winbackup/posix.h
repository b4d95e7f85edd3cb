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
/* user.* xattrs the backup leaves out because Windows could not hold them
 * (an EA name NTFS refuses, an empty or over-long EA value, a named stream
 * whose name cannot be an NTFS stream name): callers report the count. */
unsigned int wb_posix_source_skipped(const struct wb_posix_source *source);

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
    /* The Win32 access rights of the handle the sink stands for
     * (FILE_WRITE_DATA 0x2, FILE_WRITE_EA 0x10, FILE_WRITE_ATTRIBUTES 0x100,
     * WRITE_DAC 0x40000, WRITE_OWNER 0x80000, ...).  A stream that needs a
     * right the handle lacks fails with WB_ERROR_ACCESS_DENIED when it
     * arrives, as it does on Windows; BACKUP_LINK needs none (Microsoft's
     * CreateHardLink sample opens the file with FILE_WRITE_ATTRIBUTES only).
     * 0: derived from the fd (read-only: GENERIC_READ's rights; else all). */
    uint32_t access;
    /* What BACKUP_LINK does (WB_POSIX_LINK_*). */
    unsigned int link_mode;
};

/* BACKUP_LINK: made at once, an existing name replaced (what BackupWrite
 * does: the KB sample says an existing link name "will be overwritten") */
#define WB_POSIX_LINK_NOW       0u
/* recorded and checked, made only by wb_posix_sink_stage_links and
 * wb_posix_sink_commit_links, so a restore that fails leaves none behind */
#define WB_POSIX_LINK_DEFERRED  1u
/* refused with WB_ERROR_PRIVILEGE_NOT_HELD: a stream from elsewhere may not
 * place names anywhere on this system unless the caller says where */
#define WB_POSIX_LINK_REFUSED   2u

/* fd: the file or directory to restore onto. */
uint32_t wb_posix_sink_open(int fd, unsigned int flags, const struct wb_posix_sink_options *options,
                            struct wb_posix_sink **sink);
/* Apply what must come last (file length, fsync of data); WB_OK or the first error. */
uint32_t wb_posix_sink_finish(struct wb_posix_sink *sink);
/* WB_POSIX_LINK_DEFERRED: make every recorded link to the file behind fd
 * under a temporary name next to its final one; nothing is replaced yet.
 * On failure the temporary names made so far are removed. */
uint32_t wb_posix_sink_stage_links(struct wb_posix_sink *sink, int fd);
/* Rename the staged links over their final names.  WB_OK or the first error. */
uint32_t wb_posix_sink_commit_links(struct wb_posix_sink *sink);
/* What the stream's security descriptor did to the file so far. */
#define WB_POSIX_SD_NONE    0   /* none arrived, or security was not asked for */
#define WB_POSIX_SD_STORED  1   /* kept in user.wine.sd (owner and mode untouched) */
#define WB_POSIX_SD_MAPPED  2   /* became the owner, group and mode (by finish()) */
#define WB_POSIX_SD_MODE    3   /* became the mode; the owner could not be given, so
                                   the descriptor is kept in user.wine.sd too */
int wb_posix_sink_security(const struct wb_posix_sink *sink);
/* Frees the sink; links staged and not committed are removed. */
void wb_posix_sink_close(struct wb_posix_sink *sink);

/* A temporary name in the directory of `path` (NAME_MAX-safe whatever the
 * length of the final name): "<dir>/.<up to 200 bytes of the name>.wb<pid>.<n>".
 * Returns a malloc()ed path, NULL when out of memory. */
char *wb_posix_temp_sibling(const char *path, unsigned int n);

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
