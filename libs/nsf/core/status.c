/*
 * OSLoadString's texts: one sentence for every status the engine returns.
 * The wording is ours (Domino's own string tables are not public); the
 * codes are the toolkit's.
 */
#include <stddef.h>
#include "../nsf.h"
#include "nsferr.h"
#include "oserr.h"
#include "miscerr.h"

static const struct { uint16_t code; const char *text; } status_texts[] =
{
    { ERR_UNKNOWN, "Unknown OS error (an argument was missing or invalid)" },
    { ERR_PROTECTED, "Cannot write or create file (file or disk is read-only)" },
    { ERR_NOEXIST, "File does not exist" },
    { ERR_EXISTS, "File already exists" },
    { ERR_FILES, "Too many open files" },
    { ERR_DISK, "Insufficient disk space" },
    { ERR_MEMORY, "Insufficient memory" },
    { ERR_CREATE, "File cannot be created" },
    { ERR_TRUNC, "File truncated - file may have been damaged" },
    { ERR_LOCKS, "Too many file locks" },
    { ERR_NO_MORE_FILES, "No more files" },
    { ERR_LOCK, "File is in use by another program" },
    { ERR_FD, "Invalid file handle" },
    { ERR_IOERROR, "I/O data error" },
    { ERR_ACCESS, "Access to data denied" },
    { ERR_INV_FILE_NAME, "File name too long or invalid file name syntax" },
    { ERR_PATHCHAR, "Invalid character in file name" },
    { ERR_INVALID_DRIVE, "Invalid drive" },
    { ERR_OS_NULL_HANDLE, "Null handle" },
    { ERR_OS_HANDLE_RANGE, "Invalid handle (not a handle of this kind)" },
    { ERR_OS_FREE_HANDLE, "Handle is not allocated (already freed or closed)" },
    { ERR_SEGMENT_TOO_BIG, "Memory allocation request is larger than supported" },
    { ERR_THREAD_CREATE, "Cannot create thread" },
    { ERR_NOT_NSF, "File is not a database (not a regular file)" },
    { ERR_VALUE_FLAGS, "Invalid flags: reserved flags must be zero" },
    { ERR_NOT_LOCAL, "Database is remote: only local files can be backed up" },
    { ERR_NSF_CANT_BACKUP, "Cannot back up this file consistently: another process holds it open for writing "
                           "and the file system cannot clone it, or its name came to name another file during "
                           "the backup (see docs/nsf-backup.md)" },
    { ERR_CANT_BACKUP_DURING_COMPACT, "Cannot back up during in-place compaction" },
    { ERR_DBINUSE, "Database is in use (change information is being applied to it by another process)" },
    { ERR_DBOFFLINE, "The copy holds change information that was only partly applied: apply the same "
                     "change information again" },
    { ERR_BACKUP_ALREADY_IN_PROGRESS, "A backup of this file is already in progress" },
    { ERR_NOT_DOING_BACKUP, "No backup is underway with this context (or the call is out of order)" },
    { ERR_INVALID_CHANGE_INFO_CONTEXT, "Invalid change information context" },
    { ERR_CORRUPT_CHANGE_INFO, "The change information is damaged, truncated or does not match the copy" },
    { ERR_SERVER_NOT_TRANSLOGGED, "Transactional logging is not enabled: the files backed up here are never "
                                  "transaction-logged, so there is no log to recover from or archive" },
    { ERR_RM_GENERAL_FAILURE, "Recovery Manager: the server does not keep a transaction log (transactional "
                              "logging is not enabled)" },
    { ERR_RM_FIXUP_DB, "Recovery Manager: the database is damaged and needs Fixup or media recovery" },
    { ERR_ONLY_V5_DATABASES, "Function not supported for this database (not in R5 format or not logged)" },
    { ERR_NO_SUCH_TRANSLOG, "The transaction log file is not in the list of files to be archived" },
    { ERR_NO_TRANSLOGS_TO_ARCHIVE, "No transaction log files are waiting to be archived" },
    { ERR_RM_MQ_LOG_ERROR, "Recovery Manager: error from the logging subsystem" },
    { ERR_RM_SCAN_IN_PROGRESS, "Recovery Manager: a log scan is in progress, try again later" },
    { ERR_RM_LOG_SPACE_CRITICAL, "Recovery Manager: log space is becoming critical" },
    { ERR_RM_LATE_BACKUP, "Recovery Manager: the backup is later than the recovery point in time" },
    { ERR_RM_RECOVER_NONBACKUP, "Recovery Manager: recovery is only supported for backup files" },
    { ERR_TRANSLOG_NOT_ARCHIVED, "Transaction log not archived (the logging style is not archive)" },
    { ERR_TRANSLOG_ARCHIVE_IN_PROGRESS, "Another process is archiving the transaction logs" },
    { ERR_BUFFER_OVERFLOW, "Output buffer overflow: the text does not fit in the buffer given" },
    { ERR_IFMT, "Invalid international format specifier" },
    { ERR_TFMT, "Invalid time/date format specifier" },
    { ERR_TDI_CONV, "Unable to interpret time or date" },
    { ERR_TDO_CONV, "Invalid time or date encountered" },
};

const char *nsf_status_text(nsf_status status)
{
    size_t i;

    status &= ERR_MASK;
    for (i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
        if (status_texts[i].code == status) return status_texts[i].text;
    return NULL;
}
