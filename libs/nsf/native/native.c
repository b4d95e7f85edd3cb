/*
 * libnotes.so: the Domino C API's backup functions for Linux programs, so a
 * tool written against the toolkit builds unchanged (pkg-config
 * winbackup-notes).  The exports are one-line calls into the engine's API
 * core (core/api.c); this file gives it the platform: files opened by
 * path (LMBCS, converted to UTF-8, relative to the current directory: there
 * is no notes.ini data directory), the POSIX recorders and apply sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../nsf.h"
#include "../posix/posix_nsf.h"
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmem.h"
#include "osmisc.h"
#include "names.h"
#include "misc.h"
#include "ostime.h"

#define EXPORT __attribute__((visibility("default")))

struct native_file
{
    int fd;
    char path[PATH_MAX];        /* absolute, UTF-8 */
    char opened[PATH_MAX];      /* the name given to NSFDbOpen, made absolute (symlinks kept) */
};

static nsf_status native_path(const char *lmbcs, char *utf8, size_t size)
{
    int bad;
    size_t in_len = strlen(lmbcs);
    size_t len = nsf_lmbcs_to_utf8(lmbcs, in_len, utf8, size, &bad);
    if (bad || len + 1 >= size || memchr(utf8, 0, len)) return bad ? ERR_PATHCHAR : ERR_INV_FILE_NAME;
    return 0;
}

/* Open a regular file only: a FIFO would block open() until a writer comes,
 * a device may act on open itself.  The name is looked up once (O_PATH) and
 * the file reopened through that descriptor, so what was checked is what is
 * opened. */
static nsf_status open_regular(const char *utf8, int flags, int *fd)
{
    char link[64];
    struct stat st;
    nsf_status status = 0;
    int path_fd;

    *fd = -1;
    if ((path_fd = open(utf8, O_PATH | O_CLOEXEC)) < 0) return nsf_status_from_errno(errno);
    if (fstat(path_fd, &st) < 0) status = nsf_status_from_errno(errno);
    else if (!S_ISREG(st.st_mode)) status = ERR_NOT_NSF;
    else
    {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", path_fd);
        if ((*fd = open(link, flags | O_CLOEXEC | O_NOCTTY)) < 0) status = nsf_status_from_errno(errno);
    }
    close(path_fd);
    return status;
}

static nsf_status db_open(const char *path, void **opaque)
{
    struct native_file *file;
    char utf8[PATH_MAX], link[64];
    nsf_status status;

    if ((status = native_path(path, utf8, sizeof(utf8)))) return status;
    if (!(file = calloc(1, sizeof(*file)))) return ERR_MEMORY;
    status = open_regular(utf8, O_RDONLY, &file->fd);
    /* the full path of what was opened, not of a second lookup of the name */
    snprintf(link, sizeof(link), "/proc/self/fd/%d", file->fd);
    if (!status && !realpath(link, file->path)) status = nsf_status_from_errno(errno);
    if (!status) status = nsf_posix_check_no_pending_apply(file->fd);
    if (!status)
    {
        char cwd[PATH_MAX];
        /* a /proc/self/fd link names a descriptor, not a file: nothing to re-check */
        if (!strncmp(utf8, "/proc/", 6)) file->opened[0] = 0;
        else if (utf8[0] == '/') snprintf(file->opened, sizeof(file->opened), "%s", utf8);
        else if (getcwd(cwd, sizeof(cwd)) && strlen(cwd) + strlen(utf8) + 2 <= sizeof(file->opened))
        {
            strcpy(file->opened, cwd);
            strcat(file->opened, "/");
            strcat(file->opened, utf8);
        }
    }
    if (status)
    {
        if (file->fd >= 0) close(file->fd);
        free(file);
        return status;
    }
    *opaque = file;
    return 0;
}

static nsf_status db_path(void *opaque, char *expanded, size_t size)
{
    struct native_file *file = opaque;
    int bad;
    size_t len = nsf_utf8_to_lmbcs(file->path, strlen(file->path), expanded, size, &bad);
    return len + 1 >= size ? ERR_INV_FILE_NAME : 0;
}

static void db_close(void *opaque)
{
    struct native_file *file = opaque;
    close(file->fd);
    free(file);
}

static nsf_status backup_start(void *opaque, void **recorder, uint64_t *size)
{
    struct native_file *file = opaque;
    nsf_status status = nsf_recorder_start(file->fd, (struct nsf_recorder **)recorder, size);

    if (!status && (status = nsf_recorder_names(*recorder, file->opened, file->path)))
    {
        nsf_recorder_end(*recorder);
        *recorder = NULL;
    }
    return status;
}

static nsf_status backup_mark(void *rec, uint64_t mark) { return nsf_recorder_mark(rec, mark); }
static nsf_status backup_stop(void *rec) { return nsf_recorder_stop(rec); }
static nsf_status backup_info_size(void *rec, uint64_t *size) { return nsf_recorder_info_size(rec, size); }
static nsf_status backup_info_read(void *rec, void *buffer, uint32_t size, uint32_t *filled)
{
    return nsf_recorder_info_read(rec, buffer, size, filled);
}
static void backup_end(void *rec) { nsf_recorder_end(rec); }

static nsf_status apply_open(const char *path, void **sink)
{
    char utf8[PATH_MAX];
    nsf_status status;
    int fd;

    if ((status = native_path(path, utf8, sizeof(utf8)))) return status;
    if ((status = open_regular(utf8, O_RDWR, &fd))) return status;
    if ((status = nsf_posix_sink_open(fd, (struct nsf_posix_sink **)sink))) close(fd);
    return status;
}

static const struct nsf_platform_ops native_platform =
{
    db_open, db_path, db_close,
    backup_start, backup_mark, backup_stop, backup_info_size, backup_info_read, backup_end,
    apply_open, &nsf_posix_sink_ops,
};

__attribute__((constructor)) static void native_init(void)
{
    nsf_api_set_platform(&native_platform);
}

/* ---------------------------------------------------------------- exports */

EXPORT STATUS LNPUBLIC NotesInit(void) { return nsf_api_notes_init(); }
EXPORT STATUS LNPUBLIC NotesInitExtended(int argc, char **argv) { return nsf_api_notes_init(); }
EXPORT void LNPUBLIC NotesTerm(void) { nsf_api_notes_term(); }

EXPORT STATUS LNPUBLIC NSFDbOpen(const char *PathName, DBHANDLE *rethDB) { return nsf_api_db_open(PathName, rethDB); }
EXPORT STATUS LNPUBLIC NSFDbClose(DBHANDLE hDB) { return nsf_api_db_close(hDB); }
EXPORT STATUS LNPUBLIC NSFDbPathGet(DBHANDLE hDB, char *retCanonicalPathName, char *retExpandedPathName)
{
    return nsf_api_db_path(hDB, retCanonicalPathName, retExpandedPathName);
}
EXPORT STATUS LNPUBLIC NSFDbGetLogInfo(DBHANDLE hDb, DWORD Flags, BOOL *LOGGED, UNID *LogID, UNID *DbIID,
                                       DWORD *LogExtent)
{
    return nsf_api_db_log_info(hDb, Flags, LOGGED, (uint8_t *)LogID, (uint8_t *)DbIID, LogExtent);
}

EXPORT STATUS LNPUBLIC NSFBackupStart(DBHANDLE hDB, DWORD Flags, DHANDLE *BackupContext, DWORD *FileSizeLow,
                                      DWORD *FileSizeHigh)
{
    return nsf_api_backup_start(hDB, Flags, BackupContext, FileSizeLow, FileSizeHigh);
}
EXPORT STATUS LNPUBLIC NSFBackupStop(DBHANDLE hDB, DHANDLE BackupContext) { return nsf_api_backup_stop(hDB, BackupContext); }
EXPORT STATUS LNPUBLIC NSFBackupEnd(DBHANDLE hDB, DHANDLE BackupContext, DWORD Options)
{
    return nsf_api_backup_end(hDB, BackupContext, Options);
}
EXPORT STATUS LNPUBLIC NSFBackupSetHighWaterMark(DBHANDLE hDB, DHANDLE BackupContext, DWORD HighWaterMarkLow,
                                                 DWORD HighWaterMarkHigh)
{
    return nsf_api_backup_mark(hDB, BackupContext, HighWaterMarkLow, HighWaterMarkHigh);
}
EXPORT STATUS LNPUBLIC NSFBackupGetChangeInfoSize(DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags,
                                                  DWORD *InfoSizeLow, DWORD *InfoSizeHigh)
{
    return nsf_api_backup_info_size(hDB, hBackupContext, Flags, InfoSizeLow, InfoSizeHigh);
}
EXPORT STATUS LNPUBLIC NSFBackupGetNextChangeInfo(DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags, char *Buffer,
                                                  DWORD BufferSize, DWORD *FilledSize)
{
    return nsf_api_backup_info_next(hDB, hBackupContext, Flags, Buffer, BufferSize, FilledSize);
}
EXPORT STATUS LNPUBLIC NSFBackupStartApplyChangeInfo(DHANDLE *ApplyInfoContext, char *CopyFilePath, DWORD Flags,
                                                     DWORD InfoSizeLow, DWORD InfoSizeHigh)
{
    return nsf_api_apply_start(ApplyInfoContext, CopyFilePath, Flags, InfoSizeLow, InfoSizeHigh);
}
EXPORT STATUS LNPUBLIC NSFBackupApplyNextChangeInfo(DHANDLE ApplyInfoContext, DWORD Flags, char *Buffer,
                                                    DWORD BufferSize)
{
    return nsf_api_apply_next(ApplyInfoContext, Flags, Buffer, BufferSize);
}
EXPORT STATUS LNPUBLIC NSFBackupEndApplyChangeInfo(DHANDLE ApplyInfoContext, DWORD Flags)
{
    return nsf_api_apply_end(ApplyInfoContext, Flags);
}

EXPORT STATUS LNPUBLIC OSMemAlloc(WORD BlkType, DWORD dwSize, DHANDLE *retHandle)
{
    return nsf_api_mem_alloc(BlkType, dwSize, retHandle);
}
EXPORT STATUS LNPUBLIC OSMemFree(DHANDLE Handle) { return nsf_api_mem_free(Handle); }
EXPORT STATUS LNPUBLIC OSMemGetSize(DHANDLE Handle, DWORD *retSize) { return nsf_api_mem_size(Handle, retSize); }
EXPORT void * LNPUBLIC OSLockObject(DHANDLE Handle) { return nsf_api_mem_lock(Handle); }
EXPORT BOOL LNPUBLIC OSUnlockObject(DHANDLE Handle) { return nsf_api_mem_unlock(Handle); }
EXPORT WORD LNPUBLIC OSLoadString(HMODULE hModule, STATUS StringCode, char *retBuffer, WORD BufferLength)
{
    return nsf_api_load_string(StringCode, retBuffer, BufferLength);
}

EXPORT STATUS LNPUBLIC NSFTakeDatabaseOffline(const char *dbPath, DWORD WaitTime, DWORD options)
{
    return nsf_api_take_offline(dbPath, WaitTime, options);
}
EXPORT STATUS LNPUBLIC NSFBringDatabaseOnline(const char *dbPath, DWORD options)
{
    return nsf_api_bring_online(dbPath, options);
}
EXPORT STATUS LNPUBLIC NSFRecoverDatabases(const char *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB, DWORD Flags,
                                           WORD *errDbIndex, TIMEDATE *recoveryTime)
{
    return nsf_api_recover(dbNames, Flags, recoveryTime != NULL, errDbIndex);
}
EXPORT STATUS LNPUBLIC NSFRecoverDatabasesWithCallback(const char *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB,
                                                       DWORD Flags, WORD *errDbIndex, TIMEDATE *recoveryTime,
                                                       NOTERESTORECALLBACKFUNCTION noteCB, void *userParm)
{
    return nsf_api_recover(dbNames, Flags, recoveryTime != NULL, errDbIndex);
}
EXPORT STATUS LNPUBLIC NSFIsNewBackupNeeded(const char *dbName, DWORD comfortSpan, DWORD *backupNeeded)
{
    return nsf_api_new_backup_needed(dbName, comfortSpan, backupNeeded);
}
EXPORT STATUS LNPUBLIC NSFGetTransLogStyle(WORD *LogType) { return nsf_api_translog_style(LogType); }
EXPORT STATUS LNPUBLIC NSFBeginArchivingLogs(void) { return nsf_api_archive_begin(); }
EXPORT STATUS LNPUBLIC NSFEndArchivingLogs(void) { return nsf_api_archive_end(); }
EXPORT STATUS LNPUBLIC NSFGetFirstLogToArchive(UNID *LogID, DWORD *LogNumber, char *LogPath)
{
    return nsf_api_archive_next(LogID, LogNumber, LogPath);
}
EXPORT STATUS LNPUBLIC NSFGetNextLogToArchive(UNID *LogID, DWORD *LogNumber, char *LogPath)
{
    return nsf_api_archive_next(LogID, LogNumber, LogPath);
}
EXPORT STATUS LNPUBLIC NSFDoneArchivingLog(UNID *LogID, DWORD *LogSequenceNumber)
{
    return nsf_api_archive_done(LogID, LogSequenceNumber);
}

/* The local zone this year: its standard offset (seconds east) and whether
 * it has a summer time - the offsets of January and July differ.  (glibc's
 * `daylight` also counts summer times the zone's rules held long ago:
 * Asia/Kolkata's of 1942.) */
static void local_zone(time_t now, int32_t *standard, int *has_dst)
{
    struct tm tm, jan, jul;
    time_t t;

    localtime_r(&now, &tm);
    jan = (struct tm){ .tm_year = tm.tm_year, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12, .tm_isdst = -1 };
    jul = (struct tm){ .tm_year = tm.tm_year, .tm_mon = 6, .tm_mday = 1, .tm_hour = 12, .tm_isdst = -1 };
    t = mktime(&jan);
    localtime_r(&t, &jan);
    t = mktime(&jul);
    localtime_r(&t, &jul);
    *has_dst = jan.tm_gmtoff != jul.tm_gmtoff;
    *standard = (int32_t)(jan.tm_gmtoff < jul.tm_gmtoff ? jan.tm_gmtoff : jul.tm_gmtoff);
}

EXPORT void LNPUBLIC OSCurrentTIMEDATE(TIMEDATE *retTimeDate)
{
    struct timespec now;
    int32_t standard;
    int has_dst;

    if (!retTimeDate) return;
    clock_gettime(CLOCK_REALTIME, &now);
    local_zone(now.tv_sec, &standard, &has_dst);
    nsf_timedate_from_unix(now.tv_sec, (uint32_t)(now.tv_nsec / 10000000), standard, has_dst, retTimeDate->Innards);
}

static int32_t local_offset(int64_t seconds)
{
    time_t t = (time_t)seconds;
    struct tm tm;

    return localtime_r(&t, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

EXPORT STATUS LNPUBLIC ConvertTIMEDATEToText(const void *IntlFormat, const TFMT *TextFormat, const TIMEDATE *InputTime,
                                             char *retTextBuffer, WORD TextBufferLength, WORD *retTextLength)
{
    struct nsf_tfmt format;

    if (TextFormat)
        format = (struct nsf_tfmt){ TextFormat->Date, TextFormat->Time, TextFormat->Zone, TextFormat->Structure };
    return nsf_timedate_format(InputTime ? InputTime->Innards : NULL, TextFormat ? &format : NULL, local_offset,
                               (int64_t)time(NULL), retTextBuffer, TextBufferLength, retTextLength);
}

/* Native here is UTF-8. */
EXPORT WORD LNPUBLIC OSTranslate(WORD TranslateMode, const char *In, WORD InLength, char *Out, WORD OutLength)
{
    size_t written = 0;
    int bad;

    if (!In || !Out || !OutLength) return 0;
    switch (TranslateMode)
    {
    case OS_TRANSLATE_LMBCS_TO_NATIVE:
        written = nsf_lmbcs_to_utf8(In, strnlen(In, InLength), Out, OutLength, &bad);
        break;
    case OS_TRANSLATE_NATIVE_TO_LMBCS:
        written = nsf_utf8_to_lmbcs(In, strnlen(In, InLength), Out, OutLength, &bad);
        break;
    default:
        if (!nsf_translate(TranslateMode, In, InLength, Out, OutLength, &written)) written = 0;
        break;
    }
    return (WORD)written;
}
