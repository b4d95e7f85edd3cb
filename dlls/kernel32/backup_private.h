/*
 * Backup APIs: what backup.c and backup_nt.c share
 *
 * backup.c owns the BackupRead/BackupWrite context and runs the portable
 * codec (winbackup/stream.h); backup_nt.c is the codec's source and sink
 * over NT calls on the file handle.
 */
#ifndef __WINE_KERNEL32_BACKUP_PRIVATE_H
#define __WINE_KERNEL32_BACKUP_PRIVATE_H

#include "winbackup/stream.h"

/* Both return Win32 error codes. */
struct backup_nt_source;
struct backup_nt_sink;
extern const struct wb_source_ops backup_nt_source_ops;
extern const struct wb_sink_ops backup_nt_sink_ops;
/* object_ids: FALSE where FSCTL_GET_OBJECT_ID invents IDs (Wine), so that none goes into the backup */
DWORD backup_nt_source_open( HANDLE file, BOOL security, BOOL object_ids, struct backup_nt_source **source );
void backup_nt_source_close( struct backup_nt_source *source );
DWORD backup_nt_sink_open( HANDLE file, BOOL security, struct backup_nt_sink **sink );
DWORD backup_nt_sink_finish( struct backup_nt_sink *sink );
void backup_nt_sink_close( struct backup_nt_sink *sink );

#endif
