/*
 * nnotes.dll: Domino's backup API (NSFBackup*) and what a backup tool calls
 * around it, for Windows programs - under Wine over live POSIX files, and
 * on Windows itself.
 *
 * Copyright 2026 the winbackup authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * The exports are one-line calls into the engine's API core
 * (libs/nsf/core/api.c: handles, argument and call-order rules, memory
 * objects, texts), which this DLL links in.  What the core cannot do
 * portably - files, recording, applying - comes from a platform table:
 * under Wine the Unix library (nnotes_unix.c) runs the Linux recorders on
 * the file's Unix fd; without it (Windows, or no Unix library) the NT
 * platform (nnotes_nt.c) does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "global.h"
#include <winternl.h>
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmem.h"
#include "osmisc.h"
#include "names.h"
#include "nnotes_private.h"
#include "nnotes_unixlib.h"

typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)( unixlib_handle_t, unsigned int, void * );
extern NTSTATUS WINAPI __wine_init_unix_call(void);
#define UNIX_CALL(code, args) __wine_unix_call_dispatcher( __wine_unixlib_handle, unix_##code, (args) )

static BOOL trace_on;

void nnotes_trace( const char *func, const char *format, ... )
{
    va_list args;
    if (!trace_on) return;
    fprintf( stderr, "%04lx:trace:nnotes:%s ", GetCurrentThreadId(), func );
    va_start( args, format );
    vfprintf( stderr, format, args );
    va_end( args );
}

nsf_status status_from_win32( DWORD error )
{
    switch (error)
    {
    case ERROR_SUCCESS: return NOERROR;
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: return ERR_NOEXIST;
    case ERROR_ACCESS_DENIED: return ERR_ACCESS;
    case ERROR_WRITE_PROTECT: return ERR_PROTECTED;
    case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION: return ERR_LOCK;
    case ERROR_TOO_MANY_OPEN_FILES: return ERR_FILES;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return ERR_MEMORY;
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: return ERR_DISK;
    case ERROR_INVALID_NAME: case ERROR_FILENAME_EXCED_RANGE: return ERR_INV_FILE_NAME;
    case ERROR_INVALID_HANDLE: return ERR_FD;
    default: return ERR_UNKNOWN;
    }
}

/* ---------------------------------------------------------------- files by path */

nsf_status pe_open_file( const char *lmbcs_path, DWORD access, struct pe_file **ret )
{
    WCHAR wide[MAX_PATH * 2];
    struct pe_file *file;
    DWORD attributes, full;
    int bad;
    size_t len = nsf_lmbcs_to_utf16( lmbcs_path, strlen( lmbcs_path ), (uint16_t *)wide, ARRAYSIZE(wide), &bad );

    if (bad) return ERR_PATHCHAR;
    if (len + 1 >= ARRAYSIZE(wide)) return ERR_INV_FILE_NAME;
    attributes = GetFileAttributesW( wide );
    if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY)) return ERR_NOT_NSF;
    if (!(file = calloc( 1, sizeof(*file) ))) return ERR_MEMORY;
    file->handle = CreateFileW( wide, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                                OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL );
    if (file->handle == INVALID_HANDLE_VALUE)
    {
        nsf_status status = status_from_win32( GetLastError() );
        free( file );
        return status;
    }
    if (GetFileType( file->handle ) != FILE_TYPE_DISK)
    {
        pe_close_file( file );
        return ERR_NOT_NSF;
    }
    /* a path that does not fit returns the size it needs, the buffer untouched */
    full = GetFullPathNameW( wide, ARRAYSIZE(file->path), file->path, NULL );
    if (!full || full >= ARRAYSIZE(file->path))
    {
        pe_close_file( file );
        return ERR_INV_FILE_NAME;
    }
    *ret = file;
    return 0;
}

nsf_status pe_file_path( struct pe_file *file, char *lmbcs, size_t size )
{
    int bad;
    size_t len = nsf_utf16_to_lmbcs( (const uint16_t *)file->path, wcslen( file->path ), lmbcs, size, &bad );
    return len + 1 >= size ? ERR_INV_FILE_NAME : 0;
}

void pe_close_file( struct pe_file *file )
{
    if (!file) return;
    CloseHandle( file->handle );
    free( file );
}

/* ---------------------------------------------------------------- Wine platform */

static nsf_status wine_db_open( const char *path, void **opaque )
{
    struct nnotes_file_params params = { 0 };
    struct pe_file *file;
    nsf_status status;

    if ((status = pe_open_file( path, GENERIC_READ, &file ))) return status;
    params.handle = (UINT_PTR)file->handle;
    if (UNIX_CALL( file_check, &params )) params.status = ERR_UNKNOWN;
    if (params.status)
    {
        pe_close_file( file );
        return params.status;
    }
    *opaque = file;
    return 0;
}

/* The Unix name of a DOS path (Wine's kernel32 export), from the process heap; NULL if unknown. */
static char *unix_name( const WCHAR *path )
{
    static char * (CDECL *get_unix_name)( const WCHAR * );

    if (!get_unix_name)
        get_unix_name = (void *)GetProcAddress( GetModuleHandleA( "kernel32.dll" ), "wine_get_unix_file_name" );
    return get_unix_name ? get_unix_name( path ) : NULL;
}

/* A backup under Wine: the Unix side's recorder, and the DOS name the program
 * reads the file by.  That name is resolved to a Unix name again at Start and
 * at Stop - as the program's own open resolves it then (Wine prefers the exact
 * spelling, then a case-insensitive or 8.3 match; drive letters are links in
 * dosdevices) - and the recorder checks that it still names the file backed
 * up: a file that appeared under the exact spelling, a re-pointed drive or
 * directory link, a file renamed over it would have the program copy another
 * file, which this file's change info cannot correct. */
struct wine_backup
{
    UINT64 state;
    BOOL named;                     /* the name resolved at Start (wine_get_unix_file_name is there) */
    WCHAR path[MAX_PATH * 2];
};

static nsf_status wine_backup_start( void *opaque, void **recorder, uint64_t *size )
{
    struct nnotes_file_params params = { 0 };
    struct pe_file *file = opaque;
    struct wine_backup *backup;
    char *name;
    nsf_status status;

    if (!(backup = calloc( 1, sizeof(*backup) ))) return ERR_MEMORY;
    wcscpy( backup->path, file->path );
    name = unix_name( file->path );
    params.handle = (UINT_PTR)file->handle;
    params.name = (UINT_PTR)name;
    status = UNIX_CALL( backup_start, &params ) ? ERR_UNKNOWN : params.status;
    if (status)
    {
        HeapFree( GetProcessHeap(), 0, name );
        free( backup );
        return status;
    }
    backup->state = params.state;
    backup->named = name != NULL;
    HeapFree( GetProcessHeap(), 0, name );
    *recorder = backup;
    *size = params.size;
    return 0;
}

static nsf_status state_call( unsigned int code, void *state, uint64_t value, void *buffer, uint32_t size,
                              uint32_t *done, uint64_t *value_out )
{
    struct nnotes_state_params params = { (UINT_PTR)state, value, (UINT_PTR)buffer, size, 0, 0 };

    if (__wine_unix_call_dispatcher( __wine_unixlib_handle, code, &params )) return ERR_UNKNOWN;
    if (done) *done = params.done;
    if (value_out) *value_out = params.value;
    return params.status;
}

#define BACKUP_STATE(rec) ((void *)(UINT_PTR)((struct wine_backup *)(rec))->state)

static nsf_status wine_backup_mark( void *rec, uint64_t mark )
{
    return state_call( unix_backup_mark, BACKUP_STATE(rec), mark, NULL, 0, NULL, NULL );
}
static nsf_status wine_backup_stop( void *rec )
{
    struct wine_backup *backup = rec;
    char *name = unix_name( backup->path );
    nsf_status status;

    /* no Unix name now (a drive letter removed): the program's open would not find this file either */
    if (!name && backup->named) return ERR_NSF_CANT_BACKUP;
    status = state_call( unix_backup_stop, BACKUP_STATE(rec), 0, name, 0, NULL, NULL );
    HeapFree( GetProcessHeap(), 0, name );
    return status;
}
static nsf_status wine_backup_info_size( void *rec, uint64_t *size )
{
    return state_call( unix_backup_info_size, BACKUP_STATE(rec), 0, NULL, 0, NULL, size );
}
static nsf_status wine_backup_info_read( void *rec, void *buffer, uint32_t size, uint32_t *filled )
{
    return state_call( unix_backup_info_read, BACKUP_STATE(rec), 0, buffer, size, filled, NULL );
}
static void wine_backup_end( void *rec )
{
    state_call( unix_backup_end, BACKUP_STATE(rec), 0, NULL, 0, NULL, NULL );
    free( rec );
}

struct wine_sink
{
    struct pe_file *file;
    UINT64 state;
};

static nsf_status wine_apply_open( const char *path, void **opaque )
{
    struct nnotes_file_params params = { 0 };
    struct wine_sink *sink;
    nsf_status status;

    if (!(sink = calloc( 1, sizeof(*sink) ))) return ERR_MEMORY;
    if ((status = pe_open_file( path, GENERIC_READ | GENERIC_WRITE, &sink->file )))
    {
        free( sink );
        return status;
    }
    params.handle = (UINT_PTR)sink->file->handle;
    if (UNIX_CALL( sink_open, &params )) params.status = ERR_UNKNOWN;
    if (params.status)
    {
        pe_close_file( sink->file );
        free( sink );
        return params.status;
    }
    sink->state = params.state;
    *opaque = sink;
    return 0;
}

#define SINK_STATE(s) ((void *)(UINT_PTR)((struct wine_sink *)(s))->state)
static nsf_status wine_sink_begin( void *s, const uint8_t id[16] )
{
    return state_call( unix_sink_begin, SINK_STATE(s), 0, (void *)id, 16, NULL, NULL );
}
static nsf_status wine_sink_write( void *s, uint64_t offset, const void *data, uint32_t size )
{
    return state_call( unix_sink_write, SINK_STATE(s), offset, (void *)data, size, NULL, NULL );
}
static nsf_status wine_sink_zero( void *s, uint64_t offset, uint32_t size )
{
    return state_call( unix_sink_zero, SINK_STATE(s), offset, NULL, size, NULL, NULL );
}
static nsf_status wine_sink_finish( void *s, uint64_t start_size )
{
    return state_call( unix_sink_finish, SINK_STATE(s), start_size, NULL, 0, NULL, NULL );
}
static void wine_sink_close( void *s )
{
    struct wine_sink *sink = s;
    state_call( unix_sink_close, SINK_STATE(s), 0, NULL, 0, NULL, NULL );
    pe_close_file( sink->file );
    free( sink );
}

static const struct nsf_apply_sink_ops wine_sink_ops =
{
    wine_sink_begin, wine_sink_write, wine_sink_zero, wine_sink_finish, wine_sink_close,
};

static nsf_status wine_db_path( void *file, char *out, size_t size ) { return pe_file_path( file, out, size ); }
static void wine_db_close( void *file ) { pe_close_file( file ); }

static const struct nsf_platform_ops wine_platform =
{
    wine_db_open, wine_db_path, wine_db_close,
    wine_backup_start, wine_backup_mark, wine_backup_stop, wine_backup_info_size, wine_backup_info_read,
    wine_backup_end, wine_apply_open, &wine_sink_ops,
};

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    char debug[256];
    DWORD len;

    if (reason != DLL_PROCESS_ATTACH) return TRUE;
    DisableThreadLibraryCalls( instance );
    len = GetEnvironmentVariableA( "WINEDEBUG", debug, sizeof(debug) );
    trace_on = len && len < sizeof(debug) && (strstr( debug, "+nnotes" ) || strstr( debug, "+all" ));
    /* fails on Windows (no Unix call dispatcher) and when the Unix library is missing */
    if (!__wine_init_unix_call())
    {
        TRACE( "Unix library loaded: Linux recorders\n" );
        nsf_api_set_platform( &wine_platform );
    }
    else
    {
        TRACE( "no Unix library: NT platform\n" );
        nsf_api_set_platform( &nnotes_nt_platform );
    }
    return TRUE;
}

/* ---------------------------------------------------------------- exports */

/***********************************************************************
 *           NotesInit   (NNOTES.@)
 */
STATUS LNPUBLIC NotesInit(void)
{
    TRACE( "\n" );
    return nsf_api_notes_init();
}

/***********************************************************************
 *           NotesInitExtended   (NNOTES.@)
 *
 * The arguments (e.g. "=notes.ini") are accepted and not used: there is no
 * data directory, relative paths are relative to the current directory.
 */
STATUS LNPUBLIC NotesInitExtended( int argc, char **argv )
{
    TRACE( "%d, %p\n", argc, argv );
    return nsf_api_notes_init();
}

/***********************************************************************
 *           NotesTerm   (NNOTES.@)
 */
void LNPUBLIC NotesTerm(void)
{
    TRACE( "\n" );
    nsf_api_notes_term();
}

/***********************************************************************
 *           NSFDbOpen   (NNOTES.@)
 *
 * Open a local file as a "database"; "server!!path" is ERR_NOT_LOCAL.
 */
STATUS LNPUBLIC NSFDbOpen( const char *PathName, DBHANDLE *rethDB )
{
    TRACE( "%s, %p\n", PathName ? PathName : "(null)", rethDB );
    return nsf_api_db_open( PathName, rethDB );
}

/***********************************************************************
 *           NSFDbClose   (NNOTES.@)
 */
STATUS LNPUBLIC NSFDbClose( DBHANDLE hDB )
{
    TRACE( "%#x\n", hDB );
    return nsf_api_db_close( hDB );
}

/***********************************************************************
 *           NSFDbPathGet   (NNOTES.@)
 */
STATUS LNPUBLIC NSFDbPathGet( DBHANDLE hDB, char *retCanonicalPathName, char *retExpandedPathName )
{
    TRACE( "%#x, %p, %p\n", hDB, retCanonicalPathName, retExpandedPathName );
    return nsf_api_db_path( hDB, retCanonicalPathName, retExpandedPathName );
}

/***********************************************************************
 *           NSFDbGetLogInfo   (NNOTES.@)
 *
 * A plain file is never transaction-logged: LOGGED is FALSE, the IDs zero.
 */
STATUS LNPUBLIC NSFDbGetLogInfo( DBHANDLE hDb, DWORD Flags, BOOL *LOGGED, UNID *LogID, UNID *DbIID, DWORD *LogExtent )
{
    STATUS status;
    int logged = 0;
    uint32_t extent = 0;

    TRACE( "%#x, %#lx, %p, %p, %p, %p\n", hDb, Flags, LOGGED, LogID, DbIID, LogExtent );
    status = nsf_api_db_log_info( hDb, Flags, &logged, (uint8_t *)LogID, (uint8_t *)DbIID, &extent );
    if (!status && LOGGED) *LOGGED = logged;
    if (!status && LogExtent) *LogExtent = extent;
    return status;
}

/***********************************************************************
 *           NSFBackupStart   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupStart( DBHANDLE hDB, DWORD Flags, DHANDLE *BackupContext, DWORD *FileSizeLow,
                                DWORD *FileSizeHigh )
{
    uint32_t low = 0, high = 0;
    STATUS status;

    TRACE( "%#x, %#lx, %p, %p, %p\n", hDB, Flags, BackupContext, FileSizeLow, FileSizeHigh );
    status = nsf_api_backup_start( hDB, Flags, BackupContext, FileSizeLow ? &low : NULL, FileSizeHigh ? &high : NULL );
    if (!status)
    {
        *FileSizeLow = low;
        *FileSizeHigh = high;
    }
    return status;
}

/***********************************************************************
 *           NSFBackupStop   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupStop( DBHANDLE hDB, DHANDLE BackupContext )
{
    TRACE( "%#x, %#x\n", hDB, BackupContext );
    return nsf_api_backup_stop( hDB, BackupContext );
}

/***********************************************************************
 *           NSFBackupEnd   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupEnd( DBHANDLE hDB, DHANDLE BackupContext, DWORD Options )
{
    TRACE( "%#x, %#x, %#lx\n", hDB, BackupContext, Options );
    return nsf_api_backup_end( hDB, BackupContext, Options );
}

/***********************************************************************
 *           NSFBackupSetHighWaterMark   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupSetHighWaterMark( DBHANDLE hDB, DHANDLE BackupContext, DWORD HighWaterMarkLow,
                                           DWORD HighWaterMarkHigh )
{
    TRACE( "%#x, %#x, %#lx, %#lx\n", hDB, BackupContext, HighWaterMarkLow, HighWaterMarkHigh );
    return nsf_api_backup_mark( hDB, BackupContext, HighWaterMarkLow, HighWaterMarkHigh );
}

/***********************************************************************
 *           NSFBackupGetChangeInfoSize   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupGetChangeInfoSize( DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags, DWORD *InfoSizeLow,
                                            DWORD *InfoSizeHigh )
{
    uint32_t low = 0, high = 0;
    STATUS status;

    TRACE( "%#x, %#x, %#lx, %p, %p\n", hDB, hBackupContext, Flags, InfoSizeLow, InfoSizeHigh );
    status = nsf_api_backup_info_size( hDB, hBackupContext, Flags, InfoSizeLow ? &low : NULL,
                                       InfoSizeHigh ? &high : NULL );
    if (!status)
    {
        *InfoSizeLow = low;
        *InfoSizeHigh = high;
    }
    return status;
}

/***********************************************************************
 *           NSFBackupGetNextChangeInfo   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupGetNextChangeInfo( DBHANDLE hDB, DHANDLE hBackupContext, DWORD Flags, char *Buffer,
                                            DWORD BufferSize, DWORD *FilledSize )
{
    uint32_t filled = 0;
    STATUS status;

    TRACE( "%#x, %#x, %#lx, %p, %lu, %p\n", hDB, hBackupContext, Flags, Buffer, BufferSize, FilledSize );
    status = nsf_api_backup_info_next( hDB, hBackupContext, Flags, Buffer, BufferSize, FilledSize ? &filled : NULL );
    if (FilledSize) *FilledSize = filled;
    return status;
}

/***********************************************************************
 *           NSFBackupStartApplyChangeInfo   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupStartApplyChangeInfo( DHANDLE *ApplyInfoContext, char *CopyFilePath, DWORD Flags,
                                               DWORD InfoSizeLow, DWORD InfoSizeHigh )
{
    TRACE( "%p, %s, %#lx, %lu, %lu\n", ApplyInfoContext, CopyFilePath ? CopyFilePath : "(null)", Flags,
           InfoSizeLow, InfoSizeHigh );
    return nsf_api_apply_start( ApplyInfoContext, CopyFilePath, Flags, InfoSizeLow, InfoSizeHigh );
}

/***********************************************************************
 *           NSFBackupApplyNextChangeInfo   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupApplyNextChangeInfo( DHANDLE ApplyInfoContext, DWORD Flags, char *Buffer, DWORD BufferSize )
{
    TRACE( "%#x, %#lx, %p, %lu\n", ApplyInfoContext, Flags, Buffer, BufferSize );
    return nsf_api_apply_next( ApplyInfoContext, Flags, Buffer, BufferSize );
}

/***********************************************************************
 *           NSFBackupEndApplyChangeInfo   (NNOTES.@)
 */
STATUS LNPUBLIC NSFBackupEndApplyChangeInfo( DHANDLE ApplyInfoContext, DWORD Flags )
{
    TRACE( "%#x, %#lx\n", ApplyInfoContext, Flags );
    return nsf_api_apply_end( ApplyInfoContext, Flags );
}

/***********************************************************************
 *           OSMemAlloc   (NNOTES.@)
 */
STATUS LNPUBLIC OSMemAlloc( WORD BlkType, DWORD dwSize, DHANDLE *retHandle )
{
    TRACE( "%#x, %lu, %p\n", BlkType, dwSize, retHandle );
    return nsf_api_mem_alloc( BlkType, dwSize, retHandle );
}

/***********************************************************************
 *           OSMemFree   (NNOTES.@)
 */
STATUS LNPUBLIC OSMemFree( DHANDLE Handle )
{
    TRACE( "%#x\n", Handle );
    return nsf_api_mem_free( Handle );
}

/***********************************************************************
 *           OSMemGetSize   (NNOTES.@)
 */
STATUS LNPUBLIC OSMemGetSize( DHANDLE Handle, DWORD *retSize )
{
    uint32_t size = 0;
    STATUS status;

    TRACE( "%#x, %p\n", Handle, retSize );
    status = nsf_api_mem_size( Handle, &size );
    if (retSize) *retSize = size;
    return status;
}

/***********************************************************************
 *           OSLockObject   (NNOTES.@)
 */
void * LNPUBLIC OSLockObject( DHANDLE Handle )
{
    TRACE( "%#x\n", Handle );
    return nsf_api_mem_lock( Handle );
}

/***********************************************************************
 *           OSUnlockObject   (NNOTES.@)
 */
BOOL LNPUBLIC OSUnlockObject( DHANDLE Handle )
{
    TRACE( "%#x\n", Handle );
    return nsf_api_mem_unlock( Handle );
}

/***********************************************************************
 *           OSLoadString   (NNOTES.@)
 */
WORD LNPUBLIC OSLoadString( HMODULE hModule, STATUS StringCode, char *retBuffer, WORD BufferLength )
{
    TRACE( "%p, %#x, %p, %u\n", hModule, StringCode, retBuffer, BufferLength );
    return nsf_api_load_string( StringCode, retBuffer, BufferLength );
}

/* The whole characters of wide[0..count) that fit in size bytes of the ANSI
 * code page, without a NUL; returns the bytes written.  (WideCharToMultiByte
 * fails outright when the output is too small, and with a size of 0 returns
 * the size it would need without writing anything.) */
static int wide_to_acp( const WCHAR *wide, int count, char *out, int size )
{
    while (count > 0 && WideCharToMultiByte( CP_ACP, 0, wide, count, NULL, 0, NULL, NULL ) > size)
    {
        count--;
        if (count > 0 && IS_HIGH_SURROGATE( wide[count - 1] )) count--;
    }
    return count > 0 ? WideCharToMultiByte( CP_ACP, 0, wide, count, out, size, NULL, NULL ) : 0;
}

/***********************************************************************
 *           OSTranslate   (NNOTES.@)
 *
 * Native is the ANSI code page here.
 */
WORD LNPUBLIC OSTranslate( WORD TranslateMode, const char *In, WORD InLength, char *Out, WORD OutLength )
{
    WCHAR wide[4096];
    size_t written = 0, len;
    int bad, n;

    TRACE( "%u, %p, %u, %p, %u\n", TranslateMode, In, InLength, Out, OutLength );
    if (!In || !Out || !OutLength) return 0;
    len = strnlen( In, InLength );
    switch (TranslateMode)
    {
    case OS_TRANSLATE_LMBCS_TO_NATIVE:
        n = (int)nsf_lmbcs_to_utf16( In, len, (uint16_t *)wide, ARRAYSIZE(wide), &bad );
        n = wide_to_acp( wide, n, Out, OutLength - 1 );
        Out[n] = 0;
        return (WORD)n;
    case OS_TRANSLATE_NATIVE_TO_LMBCS:
        n = MultiByteToWideChar( CP_ACP, 0, In, (int)len, wide, ARRAYSIZE(wide) - 1 );
        return (WORD)nsf_utf16_to_lmbcs( (const uint16_t *)wide, n, Out, OutLength, &bad );
    default:
        if (!nsf_translate( TranslateMode, In, InLength, Out, OutLength, &written )) return 0;
        return (WORD)written;
    }
}
