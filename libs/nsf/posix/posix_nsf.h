/*
 * The Linux side of the NSF backup engine: recorders over a file
 * descriptor, the apply sink, errno mapping.  Used by the native library
 * (libs/nsf/native) and by nnotes.dll's Unix library (dlls/nnotes).
 */
#ifndef WINBACKUP_LIBS_NSF_POSIX_H
#define WINBACKUP_LIBS_NSF_POSIX_H

#include "../nsf.h"

nsf_status nsf_status_from_errno(int err);

/* Recording.  fd: any descriptor of the file (it is reopened read-only, so
 * the caller's descriptor is never used or changed).  Strategy, in order
 * (docs/nsf-backup.md):
 *   reflink  FICLONE into an unnamed file beside it at Start and at Stop;
 *            the changed ranges are where the two clones' FIEMAP maps differ;
 *   lease    a read lease (only when no process holds the file open for
 *            writing); its break saves [high-water mark, size at Start)
 *            before the writer may go on.
 * ERR_BACKUP_ALREADY_IN_PROGRESS when another backup of the same inode is
 * running in any process; ERR_NSF_CANT_BACKUP when neither strategy can
 * guarantee the invariant. */
struct nsf_recorder;
enum nsf_recorder_kind { NSF_RECORDER_REFLINK = 1, NSF_RECORDER_LEASE = 2 };
nsf_status nsf_recorder_start(int fd, struct nsf_recorder **recorder, uint64_t *size);
nsf_status nsf_recorder_names(struct nsf_recorder *rec, const char *opened, const char *full);
nsf_status nsf_recorder_mark(struct nsf_recorder *recorder, uint64_t mark);
nsf_status nsf_recorder_stop(struct nsf_recorder *recorder);
nsf_status nsf_recorder_info_size(struct nsf_recorder *recorder, uint64_t *size);
nsf_status nsf_recorder_info_read(struct nsf_recorder *recorder, void *buffer, uint32_t size, uint32_t *filled);
void nsf_recorder_end(struct nsf_recorder *recorder);
enum nsf_recorder_kind nsf_recorder_kind(const struct nsf_recorder *recorder);
/* Testing/forcing: WINBACKUP_NSF_RECORDER=lease|reflink in the environment
 * restricts the choice (reflink-only fails where FICLONE cannot work). */

/* Applying: a sink over a descriptor open for reading and writing; the sink
 * owns it from then on (closed by close()). */
struct nsf_posix_sink;
nsf_status nsf_posix_sink_open(int fd, struct nsf_posix_sink **sink);
extern const struct nsf_apply_sink_ops nsf_posix_sink_ops;
/* ERR_DBOFFLINE when the file carries an unfinished apply's mark. */
nsf_status nsf_posix_check_no_pending_apply(int fd);

#endif
