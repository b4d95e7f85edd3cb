/*
 * nnotes.dll: media recovery and transaction-log archiving.
 *
 * Copyright 2026 the winbackup authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * The files this DLL backs up are never transaction-logged, so these calls
 * check their arguments and return what Domino documents for a server
 * without transactional logging (libs/nsf/core/recovery.c); nothing is
 * deleted or taken offline and no callback is called.
 */
#include <stdarg.h>

#include "global.h"
#include "nsfdb.h"
#include "nnotes_private.h"

/***********************************************************************
 *           NSFTakeDatabaseOffline   (NNOTES.@)
 */
STATUS LNPUBLIC NSFTakeDatabaseOffline( const char *dbPath, DWORD WaitTime, DWORD options )
{
    TRACE( "%s, %lu, %#lx\n", dbPath ? dbPath : "(null)", WaitTime, options );
    return nsf_api_take_offline( dbPath, WaitTime, options );
}

/***********************************************************************
 *           NSFBringDatabaseOnline   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBringDatabaseOnline( const char *dbPath, DWORD options )
{
    TRACE( "%s, %#lx\n", dbPath ? dbPath : "(null)", options );
    return nsf_api_bring_online( dbPath, options );
}

/***********************************************************************
 *           NSFRecoverDatabases   (NNOTES.@)
 */
STATUS LNPUBLIC NSFRecoverDatabases( const char *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB, DWORD Flags,
                                     WORD *errDbIndex, TIMEDATE *recoveryTime )
{
    TRACE( "%s, %p, %#lx, %p, %p\n", dbNames ? dbNames : "(null)", restoreCB, Flags, errDbIndex, recoveryTime );
    return nsf_api_recover( dbNames, Flags, recoveryTime != NULL, errDbIndex );
}

/***********************************************************************
 *           NSFRecoverDatabasesWithCallback   (NNOTES.@)
 */
STATUS LNPUBLIC NSFRecoverDatabasesWithCallback( const char *dbNames, LOGRESTORECALLBACKFUNCTION restoreCB,
                                                 DWORD Flags, WORD *errDbIndex, TIMEDATE *recoveryTime,
                                                 NOTERESTORECALLBACKFUNCTION noteCB, void *userParm )
{
    TRACE( "%s, %p, %#lx, %p, %p, %p, %p\n", dbNames ? dbNames : "(null)", restoreCB, Flags, errDbIndex,
           recoveryTime, noteCB, userParm );
    return nsf_api_recover( dbNames, Flags, recoveryTime != NULL, errDbIndex );
}

/***********************************************************************
 *           NSFIsNewBackupNeeded   (NNOTES.@)
 */
STATUS LNPUBLIC NSFIsNewBackupNeeded( const char *dbName, DWORD comfortSpan, DWORD *backupNeeded )
{
    TRACE( "%s, %lu, %p\n", dbName ? dbName : "(null)", comfortSpan, backupNeeded );
    return nsf_api_new_backup_needed( dbName, comfortSpan, (uint32_t *)backupNeeded );
}

/***********************************************************************
 *           NSFGetTransLogStyle   (NNOTES.@)
 */
STATUS LNPUBLIC NSFGetTransLogStyle( WORD *LogType )
{
    TRACE( "%p\n", LogType );
    return nsf_api_translog_style( LogType );
}

/***********************************************************************
 *           NSFBeginArchivingLogs   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBeginArchivingLogs(void)
{
    TRACE( "\n" );
    return nsf_api_archive_begin();
}

/***********************************************************************
 *           NSFEndArchivingLogs   (NNOTES.@)
 */
STATUS LNPUBLIC NSFEndArchivingLogs(void)
{
    TRACE( "\n" );
    return nsf_api_archive_end();
}

/***********************************************************************
 *           NSFGetFirstLogToArchive   (NNOTES.@)
 */
STATUS LNPUBLIC NSFGetFirstLogToArchive( UNID *LogID, DWORD *LogNumber, char *LogPath )
{
    TRACE( "%p, %p, %p\n", LogID, LogNumber, LogPath );
    return nsf_api_archive_next( LogID, (uint32_t *)LogNumber, LogPath );
}

/***********************************************************************
 *           NSFGetNextLogToArchive   (NNOTES.@)
 */
STATUS LNPUBLIC NSFGetNextLogToArchive( UNID *LogID, DWORD *LogNumber, char *LogPath )
{
    TRACE( "%p, %p, %p\n", LogID, LogNumber, LogPath );
    return nsf_api_archive_next( LogID, (uint32_t *)LogNumber, LogPath );
}

/***********************************************************************
 *           NSFDoneArchivingLog   (NNOTES.@)
 */
STATUS LNPUBLIC NSFDoneArchivingLog( UNID *LogID, DWORD *LogSequenceNumber )
{
    TRACE( "%p, %p\n", LogID, LogSequenceNumber );
    return nsf_api_archive_done( LogID, (uint32_t *)LogSequenceNumber );
}
