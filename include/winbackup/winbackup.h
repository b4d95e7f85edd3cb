/*
 * libwinbackup: the native API for Linux programs.
 *
 * Whole-file operations built from the codec (stream.h) and the POSIX
 * backend (posix.h).  For Windows code ported unchanged, see win32.h.
 */
#ifndef WINBACKUP_WINBACKUP_H
#define WINBACKUP_WINBACKUP_H

#include <stdint.h>
#include "winbackup/errors.h"
#include "winbackup/stream.h"
#include "winbackup/posix.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_VERSION_STRING "0.1.0"

/* flags */
#define WB_SECURITY        WB_POSIX_SECURITY  /* include / apply the security descriptor */
#define WB_NO_SYNC         WB_POSIX_NO_SYNC   /* restore/copy: skip fsync of the file and of the
                                                 rename; the caller makes the result durable
                                                 (e.g. one syncfs() for many files) */

/* Write the backup stream of `path` (not following a final symlink) to out_fd. */
uint32_t wb_backup_path(const char *path, unsigned int flags, int out_fd);
/* wb_backup_path that also says how many xattrs of path stayed out of the
 * stream because a Windows file could not hold them (wb_posix_source_skipped). */
uint32_t wb_backup_path_report(const char *path, unsigned int flags, int out_fd, unsigned int *skipped);

/* Restore the backup stream read from in_fd onto `path`.  The stream is
 * restored into a temporary file next to `path` that replaces `path` only
 * once the whole stream was applied, so a malformed or truncated stream
 * leaves an existing `path` untouched.  An existing regular file keeps its
 * owner, group, mode, POSIX ACL and stored descriptor unless the stream's
 * security descriptor (WB_SECURITY) replaces them; one with other hard links
 * (or whose owner the caller cannot give to a new file) is rewritten in
 * place after the whole stream was checked, so that its links stay one file.
 * BACKUP_LINK streams: refused (WB_ERROR_PRIVILEGE_NOT_HELD) without link_root;
 * with it, the links are made below link_root (see wb_posix_sink_options),
 * replacing existing names, and only once everything else succeeded. */
uint32_t wb_restore_path(const char *path, unsigned int flags, const char *link_root, int in_fd);

/* Copy a file with all its Windows metadata (the stream of src restored onto
 * dst, atomically as above). */
uint32_t wb_copy_path(const char *src, const char *dst, unsigned int flags);
/* wb_copy_path that also says how many xattrs of src stayed behind because a
 * Windows file could not hold them (wb_posix_source_skipped). */
uint32_t wb_copy_path_report(const char *src, const char *dst, unsigned int flags, unsigned int *skipped);

#ifdef __cplusplus
}
#endif

#endif
