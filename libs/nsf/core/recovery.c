/*
 * Media recovery and transaction-log archiving (NSFRecoverDatabases,
 * NSFTakeDatabaseOffline, NSFGetFirstLogToArchive, ...), for a store that
 * keeps no transaction log.
 *
 * Domino rolls a backup forward by replaying its server's transaction log;
 * the files this library backs up are plain files that no log records, so
 * there is nothing to replay, archive or take offline for recovery.  Each
 * call checks its arguments (the toolkit's codes for a missing pointer,
 * reserved flags, a remote name) and then returns what Domino documents for
 * a server without transactional logging: ERR_SERVER_NOT_TRANSLOGGED, and
 * for NSFIsNewBackupNeeded ERR_RM_GENERAL_FAILURE.  Nothing is touched:
 * NSFTakeDatabaseOffline(options 0) would delete the database "so that it
 * can be recovered", and with no log it could not be, so the file stays.
 * No callback is ever called and no output is written on these errors.
 */
#include <string.h>
#include "../nsf.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"

#define DBRECOVER_KNOWN (DBRECOVER_WAIT | DBRECOVER_ZAP_ID | DBRECOVER_REFRESH_BACKUP | DBRECOVER_POINT_IN_TIME | \
                         DBRECOVER_ZAP_REPLICAID | DBRECOVER_ZAP_ID_IF_NECESSARY | DBRECOVER_ALT_RETRIEVE_PATH)
#define DBRECOVER_NEW_INSTANCE (DBRECOVER_ZAP_ID | DBRECOVER_POINT_IN_TIME | DBRECOVER_ZAP_REPLICAID)

/* A name of a local file: not empty, not "server!!path". */
static nsf_status local_name(const char *name)
{
    if (!name || !*name) return ERR_NOEXIST;
    if (strstr(name, "!!")) return ERR_NOT_LOCAL;
    return NOERROR;
}

/* *style is documented only for NOERROR; it is set anyway to a value that
 * is no TRANSLOG_STYLE_xxx, because callers read it after the error (HCL's
 * dbrecs sample prints the error and goes on to compare it with
 * TRANSLOG_STYLE_CIRCULAR, and would report circular logging from whatever
 * the variable held). */
#define TRANSLOG_STYLE_NONE 0xffff

nsf_status nsf_api_translog_style(uint16_t *style)
{
    if (!style) return ERR_UNKNOWN;
    *style = TRANSLOG_STYLE_NONE;
    return ERR_SERVER_NOT_TRANSLOGGED;
}

nsf_status nsf_api_archive_begin(void) { return ERR_SERVER_NOT_TRANSLOGGED; }
nsf_status nsf_api_archive_end(void) { return ERR_SERVER_NOT_TRANSLOGGED; }

nsf_status nsf_api_archive_next(const void *log_id, const uint32_t *number, const char *path)
{
    if (!log_id || !number || !path) return ERR_UNKNOWN;
    return ERR_SERVER_NOT_TRANSLOGGED;
}

nsf_status nsf_api_archive_done(const void *log_id, const uint32_t *number)
{
    if (!log_id || !number) return ERR_UNKNOWN;
    return ERR_SERVER_NOT_TRANSLOGGED;
}

/* names: the toolkit's list, names each NUL-terminated, an empty one last. */
nsf_status nsf_api_recover(const char *names, uint32_t flags, int time_given, uint16_t *error_index)
{
    nsf_status status;
    uint32_t index = 0;

    if (error_index) *error_index = 0;
    if (!names) return ERR_UNKNOWN;
    /* REFRESH_BACKUP keeps the backup a backup: it excludes every flag that makes a new instance */
    if ((flags & ~DBRECOVER_KNOWN) ||
        ((flags & DBRECOVER_REFRESH_BACKUP) && (flags & DBRECOVER_NEW_INSTANCE)) ||
        ((flags & DBRECOVER_POINT_IN_TIME) && !time_given))
        return ERR_VALUE_FLAGS;
    if (!*names) return ERR_NOEXIST;
    for (; *names; names += strlen(names) + 1)
    {
        index++;
        if ((status = local_name(names)))
        {
            /* 1-based; a position a WORD cannot hold is "not tied to one database" (0), never another name's */
            if (error_index) *error_index = index <= 0xffff ? (uint16_t)index : 0;
            return status;
        }
    }
    return ERR_SERVER_NOT_TRANSLOGGED;          /* not tied to one database: *error_index stays 0 */
}

nsf_status nsf_api_new_backup_needed(const char *name, uint32_t span, uint32_t *needed)
{
    nsf_status status;

    if (!needed) return ERR_UNKNOWN;
    if ((status = local_name(name))) return status;
    return ERR_RM_GENERAL_FAILURE;              /* documented for "the server is not logged" */
}

nsf_status nsf_api_take_offline(const char *path, uint32_t wait, uint32_t options)
{
    nsf_status status;

    if (options & ~(uint32_t)(OFFLINE_NODELETE | OFFLINE_KEEP_ACCESS_ENTITIES)) return ERR_VALUE_FLAGS;
    if ((status = local_name(path))) return status;
    return ERR_SERVER_NOT_TRANSLOGGED;
}

nsf_status nsf_api_bring_online(const char *path, uint32_t options)
{
    nsf_status status;

    if (options) return ERR_VALUE_FLAGS;
    if ((status = local_name(path))) return status;
    return ERR_SERVER_NOT_TRANSLOGGED;
}
