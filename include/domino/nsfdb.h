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
 */
#ifndef NSF_DB_DEFS
#define NSF_DB_DEFS

#include "global.h"
#include "nsfdata.h"

#define BACKUPEND_ABORT 0x00000001      /* NSFBackupEnd: abandon the backup */
#define APPLYEND_ABORT  0x00000001      /* NSFBackupEndApplyChangeInfo: abandon applying */

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

#ifdef __cplusplus
}
#endif

#endif
