/*
 * nsfdb.h - databases and the backup API (NSFBackup*).
 *
 * The flow: NSFDbOpen, NSFBackupStart (context + size at that moment), copy
 * the first FileSize bytes with ordinary reads (NSFBackupSetHighWaterMark
 * now and then), NSFBackupStop, NSFBackupGetChangeInfoSize, then
 * NSFBackupGetNextChangeInfo until FilledSize is 0; apply it to the copy
 * (now or at restore time) with NSFBackupStartApplyChangeInfo,
 * NSFBackupApplyNextChangeInfo per chunk in order, and
 * NSFBackupEndApplyChangeInfo; NSFBackupEnd frees the context.
 * Every Flags argument is reserved and must be 0.
 *
 * Media recovery and log archiving (NSFRecoverDatabases, NSFTakeDatabaseOffline,
 * NSFGetFirstLogToArchive, ...) work on the transaction log of a Domino
 * server.  The files this implementation backs up are never transaction-
 * logged: those calls check their arguments and return
 * ERR_SERVER_NOT_TRANSLOGGED (NSFIsNewBackupNeeded: ERR_RM_GENERAL_FAILURE,
 * as documented for a server without logging); no file is touched and no
 * callback is called.  NSFGetTransLogStyle sets *LogType to 0xFFFF, no
 * TRANSLOG_STYLE_xxx, for callers that read it after the error.
 */
#ifndef NSF_DB_DEFS
#define NSF_DB_DEFS

#include "global.h"
#include "nsfdata.h"

#define BACKUPEND_ABORT 0x00000001      /* NSFBackupEnd: abandon the backup */
#define APPLYEND_ABORT  0x00000001      /* NSFBackupEndApplyChangeInfo: abandon applying */

/* NSFTakeDatabaseOffline options */
#define OFFLINE_NODELETE             0x00000001    /* do not delete the database file */
#define OFFLINE_KEEP_ACCESS_ENTITIES 0x00000002    /* do not delete DB2 access entities */

/* NSFRecoverDatabases flags */
#define DBRECOVER_WAIT                0x0001   /* wait for another recovery instead of ERR_RM_SCAN_IN_PROGRESS */
#define DBRECOVER_ZAP_ID              0x0002   /* new database instance id after recovery */
#define DBRECOVER_REFRESH_BACKUP      0x0004   /* roll the backup forward, keep it a backup */
#define DBRECOVER_POINT_IN_TIME       0x0008   /* recover up to *recoveryTime */
#define DBRECOVER_ZAP_REPLICAID       0x0010   /* new replica id */
#define DBRECOVER_ZAP_ID_IF_NECESSARY 0x0020   /* new instance id if the original is online */
#define DBRECOVER_ALT_RETRIEVE_PATH   0x0040   /* archived extents restored to TRANSLOG_RECOVER_PATH */

/* NSFGetTransLogStyle */
#define TRANSLOG_STYLE_CIRCULAR 0
#define TRANSLOG_STYLE_ARCHIVE  1
#define TRANSLOG_STYLE_LINEAR   2

/* Called by media recovery for an archived log extent it needs at LogSegmentPathName. */
typedef STATUS (LNCALLBACKPTR LOGRESTORECALLBACKFUNCTION)(UNID *LogID, DWORD LogNumber, char *LogSegmentPathName);

typedef enum
{
    MediaCallback_NoteUpdate = 0x01,    /* update of an existing note */
    MediaCallback_NoteInsert = 0x02,    /* addition of a new note */
    MediaCallback_NoteDelete = 0x04,    /* deletion of a note */
    MediaCallback_CLR        = 0x08     /* undo of an action after a failure */
} MediaCallbackFlags;

typedef struct
{
    WORD InfoSize;              /* size of this structure */
    NOTEID NoteId;              /* the note being changed */
    NOTEHANDLE hNote;           /* handle to the note */
    TIMEDATE TranTime;          /* when the transaction ran */
    char far *UserName;         /* "" when not known */
    char far *PathName;         /* path of the database */
} NOTE_RESTORE_CALLBACK_INFO;

/* Called by NSFRecoverDatabasesWithCallback for each note recovered. */
typedef STATUS (LNCALLBACKPTR NOTERESTORECALLBACKFUNCTION)(DWORD state_flags, void far *userParm,
                                                           NOTE_RESTORE_CALLBACK_INFO far *info);

#ifdef __cplusplus
extern "C" {
#endif

STATUS LNPUBLIC NSFDbOpen(const char far *PathName, DBHANDLE far *rethDB);
STATUS LNPUBLIC NSFDbClose(DBHANDLE hDB);
STATUS LNPUBLIC NSFDbPathGet(DBHANDLE hDB, char far *retCanonicalPathName, char far *retExpandedPathName);
STATUS LNPUBLIC NSFDbGetLogInfo(DBHANDLE hDb, DWORD Flags, BOOL *LOGGED, UNID *LogID, UNID *DbIID,
                                DWORD *LogExtent);

STATUS LNPUBLIC NSFBackupStart(DBHANDLE hDB, DWORD Flags, DHANDLE *BackupContext,
                               DWORD *FileSizeLow, DWORD *FileSizeHigh);
STATUS LNPUBLIC NSFBackupStop(DBHANDLE hDB, DHANDLE BackupContext);
STATUS LNPUBLIC NSFBackupEnd(DBHANDLE hDB, DHANDLE BackupContext, DWORD Options);
STATUS LNPUBLIC NSFBackupSetHighWaterMark(DBHANDLE hDB, DHANDLE BackupContext,
                                          DWORD HighWaterMarkLow, DWORD HighWaterMarkHigh);
STATUS LNPUBLIC NSFBackupGetChangeInfoSize(DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags,
                                           DWORD *InfoSizeLow, DWORD *InfoSizeHigh);
STATUS LNPUBLIC NSFBackupGetNextChangeInfo(DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags,
                                           char *Buffer, DWORD BufferSize, DWORD *FilledSize);
STATUS LNPUBLIC NSFBackupStartApplyChangeInfo(DHANDLE *ApplyInfoContext, char *CopyFilePath, DWORD Flags,
                                              DWORD InfoSizeLow, DWORD InfoSizeHigh);
STATUS LNPUBLIC NSFBackupApplyNextChangeInfo(DHANDLE ApplyInfoContext, DWORD Flags, char *Buffer,
                                             DWORD BufferSize);
STATUS LNPUBLIC NSFBackupEndApplyChangeInfo(DHANDLE ApplyInfoContext, DWORD Flags);

STATUS LNPUBLIC NSFTakeDatabaseOffline(const char far *dbPath, DWORD WaitTime, DWORD options);
STATUS LNPUBLIC NSFBringDatabaseOnline(const char far *dbPath, DWORD options);
STATUS LNPUBLIC NSFRecoverDatabases(const char far *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB, DWORD Flags,
                                    WORD far *errDbIndex, TIMEDATE far *recoveryTime);
STATUS LNPUBLIC NSFRecoverDatabasesWithCallback(const char far *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB,
                                                DWORD Flags, WORD far *errDbIndex, TIMEDATE far *recoveryTime,
                                                NOTERESTORECALLBACKFUNCTION noteCB, void far *userParm);
STATUS LNPUBLIC NSFIsNewBackupNeeded(const char far *dbName, DWORD comfortSpan, DWORD far *backupNeeded);

STATUS LNPUBLIC NSFGetTransLogStyle(WORD far *LogType);
STATUS LNPUBLIC NSFBeginArchivingLogs(void);
STATUS LNPUBLIC NSFEndArchivingLogs(void);
STATUS LNPUBLIC NSFGetFirstLogToArchive(UNID far *LogID, DWORD far *LogNumber, char far *LogPath);
STATUS LNPUBLIC NSFGetNextLogToArchive(UNID far *LogID, DWORD far *LogNumber, char far *LogPath);
STATUS LNPUBLIC NSFDoneArchivingLog(UNID far *LogID, DWORD far *LogSequenceNumber);

#ifdef __cplusplus
}
#endif

#endif
