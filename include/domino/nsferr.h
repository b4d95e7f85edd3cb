/*
 * nsferr.h - NSF error codes of the backup, media recovery and log archiving API.
 * Numbers from HCL's public C API headers (PKG_NSF 0x0200, PKG_NSF3 0x1380,
 * PKG_NSF4 0x0EA0).
 */
#ifndef NSF_ERR_DEFS
#define NSF_ERR_DEFS

#include "globerr.h"

#define ERR_NOT_NSF                     (PKG_NSF+1)
#define ERR_VALUE_FLAGS                 (PKG_NSF+8)
#define ERR_NOT_LOCAL                   (PKG_NSF+32)
#define ERR_NSF_CANT_BACKUP             (PKG_NSF3+41)
#define ERR_CANT_BACKUP_DURING_COMPACT  (PKG_NSF3+42)
#define ERR_RM_FIXUP_DB                 (PKG_NSF3+65)
#define ERR_RM_GENERAL_FAILURE          (PKG_NSF3+69)
#define ERR_ONLY_V5_DATABASES           (PKG_NSF3+71)
#define ERR_NO_SUCH_TRANSLOG            (PKG_NSF3+92)
#define ERR_NO_TRANSLOGS_TO_ARCHIVE     (PKG_NSF3+94)
#define ERR_RM_MQ_LOG_ERROR             (PKG_NSF3+99)
#define ERR_RM_SCAN_IN_PROGRESS         (PKG_NSF3+104)
#define ERR_RM_LOG_SPACE_CRITICAL       (PKG_NSF3+105)
#define ERR_DBINUSE                     (PKG_NSF3+106)
#define ERR_RM_LATE_BACKUP              (PKG_NSF3+107)
#define ERR_DBOFFLINE                   (PKG_NSF3+121)
#define ERR_RM_RECOVER_NONBACKUP        (PKG_NSF3+122)
#define ERR_SERVER_NOT_TRANSLOGGED      (PKG_NSF3+127)
#define ERR_TRANSLOG_NOT_ARCHIVED       (PKG_NSF4+1)
#define ERR_BACKUP_ALREADY_IN_PROGRESS  (PKG_NSF4+4)
#define ERR_NOT_DOING_BACKUP            (PKG_NSF4+5)
#define ERR_INVALID_CHANGE_INFO_CONTEXT (PKG_NSF4+6)
#define ERR_CORRUPT_CHANGE_INFO         (PKG_NSF4+7)
#define ERR_TRANSLOG_ARCHIVE_IN_PROGRESS (PKG_NSF4+14)

#endif
