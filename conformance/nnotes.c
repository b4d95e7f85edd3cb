/*
 * Conformance tests for Domino's backup API in nnotes.dll (NSFBackup*,
 * NSFDb*, OSMem*, OSLoadString), loaded dynamically so that the same .exe
 * runs against a real Notes/Domino client's nnotes.dll on Windows.
 *
 * Expected values come from HCL's C API reference (the documented flow and
 * error codes) and shared/reference/nsf-backup.md.  Where the reference does
 * not say what Domino does (argument errors, a plain file that is not an NSF
 * database, call orders it does not document), the check accepts the other
 * answer as broken().  A real client cannot open a file that is not a
 * Notes database: the flow tests then skip (win_skip).
 *
 * The flow test follows HCL's dbbackup sample: NSFDbOpen, NSFDbPathGet,
 * NSFBackupStart, NSFDbGetLogInfo, copy with ReadFile and
 * NSFBackupSetHighWaterMark every few reads, NSFBackupStop,
 * NSFBackupGetChangeInfoSize, NSFBackupStartApplyChangeInfo, then
 * NSFBackupGetNextChangeInfo/NSFBackupApplyNextChangeInfo in a loop that
 * ends with a zero-length apply, NSFBackupEndApplyChangeInfo,
 * NSFBackupEnd - while a child process keeps writing random 4 KiB blocks,
 * opening the file anew for every write.  The copy must equal the file as
 * it was at NSFBackupStart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "wine/test.h"
#include "domino/global.h"
#include "domino/nsfdb.h"
#include "domino/nsferr.h"
#include "domino/oserr.h"
#include "domino/osmem.h"
#include "domino/osmisc.h"
#include "domino/names.h"

#define FILE_SIZE (8u << 20)
#define BLOCK 4096

static HMODULE nnotes;
static STATUS (LNPUBLIC *pNotesInitExtended)(int, char **);
static void (LNPUBLIC *pNotesTerm)(void);
static STATUS (LNPUBLIC *pNSFDbOpen)(const char *, DBHANDLE *);
static STATUS (LNPUBLIC *pNSFDbClose)(DBHANDLE);
static STATUS (LNPUBLIC *pNSFDbPathGet)(DBHANDLE, char *, char *);
static STATUS (LNPUBLIC *pNSFDbGetLogInfo)(DBHANDLE, DWORD, BOOL *, UNID *, UNID *, DWORD *);
static STATUS (LNPUBLIC *pNSFBackupStart)(DBHANDLE, DWORD, DHANDLE *, DWORD *, DWORD *);
static STATUS (LNPUBLIC *pNSFBackupStop)(DBHANDLE, DHANDLE);
static STATUS (LNPUBLIC *pNSFBackupEnd)(DBHANDLE, DHANDLE, DWORD);
static STATUS (LNPUBLIC *pNSFBackupSetHighWaterMark)(DBHANDLE, DHANDLE, DWORD, DWORD);
static STATUS (LNPUBLIC *pNSFBackupGetChangeInfoSize)(DBHANDLE, DHANDLE, DWORD, DWORD *, DWORD *);
static STATUS (LNPUBLIC *pNSFBackupGetNextChangeInfo)(DBHANDLE, DHANDLE, DWORD, char *, DWORD, DWORD *);
static STATUS (LNPUBLIC *pNSFBackupStartApplyChangeInfo)(DHANDLE *, char *, DWORD, DWORD, DWORD);
static STATUS (LNPUBLIC *pNSFBackupApplyNextChangeInfo)(DHANDLE, DWORD, char *, DWORD);
static STATUS (LNPUBLIC *pNSFBackupEndApplyChangeInfo)(DHANDLE, DWORD);
static STATUS (LNPUBLIC *pOSMemAlloc)(WORD, DWORD, DHANDLE *);
static STATUS (LNPUBLIC *pOSMemFree)(DHANDLE);
static STATUS (LNPUBLIC *pOSMemGetSize)(DHANDLE, DWORD *);
static void *(LNPUBLIC *pOSLockObject)(DHANDLE);
static BOOL (LNPUBLIC *pOSUnlockObject)(DHANDLE);
static WORD (LNPUBLIC *pOSLoadString)(HMODULE, STATUS, char *, WORD);
static WORD (LNPUBLIC *pOSTranslate)(WORD, const char *, WORD, char *, WORD);

static char temp_dir[MAX_PATH];

static BOOL load_nnotes(void)
{
    if (!(nnotes = LoadLibraryA( "nnotes.dll" ))) return FALSE;
#define LOAD(f) if (!(p##f = (void *)GetProcAddress( nnotes, #f ))) return FALSE
    LOAD(NotesInitExtended); LOAD(NotesTerm); LOAD(NSFDbOpen); LOAD(NSFDbClose); LOAD(NSFDbPathGet);
    LOAD(NSFDbGetLogInfo); LOAD(NSFBackupStart); LOAD(NSFBackupStop); LOAD(NSFBackupEnd);
    LOAD(NSFBackupSetHighWaterMark); LOAD(NSFBackupGetChangeInfoSize); LOAD(NSFBackupGetNextChangeInfo);
    LOAD(NSFBackupStartApplyChangeInfo); LOAD(NSFBackupApplyNextChangeInfo); LOAD(NSFBackupEndApplyChangeInfo);
    LOAD(OSMemAlloc); LOAD(OSMemFree); LOAD(OSMemGetSize); LOAD(OSLockObject); LOAD(OSUnlockObject);
    LOAD(OSLoadString);
#undef LOAD
    pOSTranslate = (void *)GetProcAddress( nnotes, "OSTranslate" );   /* optional here */
    return TRUE;
}

static unsigned int rng_state = 12345;
static unsigned int rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void make_file( const char *path, DWORD size )
{
    BYTE *data = malloc( size );
    HANDLE file;
    DWORD i, done;

    for (i = 0; i < size; i++) data[i] = (BYTE)(i * 13 + (i >> 10));
    file = CreateFileA( path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL );
    ok( file != INVALID_HANDLE_VALUE, "CreateFile %s failed, error %lu\n", path, GetLastError() );
    ok( WriteFile( file, data, size, &done, NULL ) && done == size, "WriteFile failed, error %lu\n", GetLastError() );
    CloseHandle( file );
    free( data );
}

static BYTE *read_whole( const char *path, DWORD *size )
{
    HANDLE file = CreateFileA( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    BYTE *data;
    DWORD done;

    if (file == INVALID_HANDLE_VALUE) return NULL;
    *size = GetFileSize( file, NULL );
    data = malloc( *size + 1 );
    if (!ReadFile( file, data, *size, &done, NULL ) || done != *size) { free( data ); data = NULL; }
    CloseHandle( file );
    return data;
}

/* ---- the writer child: random 4 KiB blocks, the file opened anew for each ---- */

static void writer_child( const char *path, const char *pause_name, const char *paused_name )
{
    HANDLE go = OpenEventA( SYNCHRONIZE, FALSE, pause_name );
    HANDLE paused = OpenEventA( EVENT_MODIFY_STATE, FALSE, paused_name );
    BYTE block[BLOCK];
    DWORD done, writes = 0, i;

    rng_state = GetCurrentProcessId();
    for (;;)
    {
        HANDLE file;
        LARGE_INTEGER offset;
        if (WaitForSingleObject( go, 0 ) != WAIT_OBJECT_0)
        {
            SetEvent( paused );                       /* not holding the file: a Start may happen */
            WaitForSingleObject( go, INFINITE );
        }
        for (i = 0; i < BLOCK; i++) block[i] = (BYTE)rng();
        offset.QuadPart = (LONGLONG)(rng() % (FILE_SIZE / BLOCK)) * BLOCK;
        file = CreateFileA( path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
        /* Under Wine the server opens files without blocking: the open that
         * breaks the recorder's read lease fails once with a sharing
         * violation while the remaining image is saved.  Retry, as Windows
         * programs do on sharing violations. */
        if (file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_SHARING_VIOLATION)
        {
            Sleep( 1 );
            continue;
        }
        if (file == INVALID_HANDLE_VALUE)
        {
            trace( "writer: CreateFile failed, error %lu, after %lu writes\n", GetLastError(), writes );
            break;
        }
        SetFilePointerEx( file, offset, NULL, FILE_BEGIN );
        WriteFile( file, block, BLOCK, &done, NULL );
        CloseHandle( file );
        writes++;
    }
}

/* OSLock() expands to OSLockObject(): the loaded one */
#define OSLockObject pOSLockObject

static void test_memory(void)
{
    DHANDLE handle = 0xdead;
    DWORD size = 0;
    char *p;
    STATUS status;

    status = pOSMemAlloc( MEM_SHARE, 0, &handle );
    ok( status == NOERROR, "OSMemAlloc(0) returned %#x\n", status );
    ok( handle == NULLHANDLE, "got handle %#x for a 0-byte block\n", handle );
    status = pOSMemAlloc( MEM_SHARE, 32768, &handle );
    ok( status == NOERROR, "OSMemAlloc returned %#x\n", status );
    p = OSLock( char, handle );
    ok( p != NULL, "OSLockObject returned NULL\n" );
    if (p) memset( p, 0x42, 32768 );
    status = pOSMemGetSize( handle, &size );
    ok( status == NOERROR, "OSMemGetSize returned %#x\n", status );
    ok( size >= 32768, "got size %lu\n", size );
    ok( pOSUnlockObject( handle ), "OSUnlockObject returned FALSE\n" );
    status = pOSMemFree( handle );
    ok( status == NOERROR, "OSMemFree returned %#x\n", status );
}

static void test_load_string(void)
{
    static const STATUS codes[] =
    {
        ERR_NOT_LOCAL, ERR_NSF_CANT_BACKUP, ERR_BACKUP_ALREADY_IN_PROGRESS, ERR_NOT_DOING_BACKUP,
        ERR_INVALID_CHANGE_INFO_CONTEXT, ERR_CORRUPT_CHANGE_INFO, ERR_NOEXIST,
    };
    char text[256];
    WORD len;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(codes); i++)
    {
        len = pOSLoadString( NULLHANDLE, codes[i], text, sizeof(text) - 1 );
        ok( len > 0, "OSLoadString(%#x) returned %u\n", codes[i], len );
        ok( len == strlen( text ), "length %u, string %s\n", len, debugstr_a( text ) );
    }
}

/* OSTranslate never writes past OutLength bytes (the NUL included); what does
 * not fit is cut at a whole character. */
static void test_translate(void)
{
    static const WORD modes[] = { OS_TRANSLATE_LMBCS_TO_NATIVE, OS_TRANSLATE_NATIVE_TO_LMBCS };
    char out[64];
    unsigned int i, j;
    WORD len, size;

    if (!pOSTranslate)
    {
        win_skip( "OSTranslate not exported\n" );
        return;
    }
    for (i = 0; i < ARRAY_SIZE(modes); i++)
        for (size = 1; size <= 6; size++)
        {
            memset( out, 'X', sizeof(out) );
            len = pOSTranslate( modes[i], "hello, world", 12, out, size );
            for (j = size; j < sizeof(out); j++) if (out[j] != 'X') break;
            ok( j == sizeof(out), "mode %u, OutLength %u: byte %u written (returned %u)\n", modes[i], size, j, len );
            ok( len < size, "mode %u, OutLength %u: returned %u\n", modes[i], size, len );
            ok( len == size - 1 || broken( len == 0 ), "mode %u, OutLength %u: returned %u\n", modes[i], size, len );
            ok( !strncmp( out, "hello", len ) && !out[len], "mode %u, OutLength %u: got %s\n", modes[i], size,
                debugstr_an( out, size ) );
        }
}

/* A relative name whose full path is longer than any buffer of the DLL: the
 * open fails, or NSFDbPathGet fails or returns that path, never success with
 * an empty one.  (Windows without long paths fails the creation: skipped.) */
static void test_long_full_path(void)
{
    char cwd[MAX_PATH], dir[128], name[160], canonical[MAXPATH * 4], expanded[MAXPATH * 4];
    DBHANDLE db;
    STATUS status;
    HANDLE file;
    int depth = 0;

    GetCurrentDirectoryA( sizeof(cwd), cwd );
    SetCurrentDirectoryA( temp_dir );
    memset( dir, 'd', 100 );
    dir[100] = 0;
    memset( name, 'n', 150 );
    strcpy( name + 150, ".nsf" );
    while (depth < 4 && (CreateDirectoryA( dir, NULL ) || GetLastError() == ERROR_ALREADY_EXISTS) && SetCurrentDirectoryA( dir ))
        depth++;
    file = depth == 4 ? CreateFileA( name, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL ) : INVALID_HANDLE_VALUE;
    if (file == INVALID_HANDLE_VALUE)
    {
        skip( "cannot make a path of more than 500 characters (depth %d, error %lu)\n", depth, GetLastError() );
    }
    else
    {
        CloseHandle( file );
        SetCurrentDirectoryA( ".." );
        strcpy( canonical, dir );
        strcat( canonical, "\\" );
        strcat( canonical, name );
        strcpy( expanded, "untouched" );
        status = pNSFDbOpen( canonical, &db );
        if (!status)
        {
            status = pNSFDbPathGet( db, NULL, expanded );
            pNSFDbClose( db );
        }
        ok( status || expanded[0], "NSFDbOpen and NSFDbPathGet returned NOERROR and an empty path\n" );
        SetCurrentDirectoryA( dir );
        DeleteFileA( name );
    }
    while (depth--)
    {
        SetCurrentDirectoryA( ".." );
        RemoveDirectoryA( dir );
    }
    SetCurrentDirectoryA( cwd );
}

static void test_errors(void)
{
    DBHANDLE db = 0xdead, db2;
    DHANDLE ctx = 0xdead, apply;
    DWORD low, high, filled;
    char path[MAX_PATH], buffer[64];
    STATUS status;

    status = pNSFDbOpen( "server!!names.nsf", &db );
    ok( status == ERR_NOT_LOCAL || broken( status != NOERROR ), "NSFDbOpen(remote) returned %#x\n", status );

    snprintf( path, sizeof(path), "%s\\errors.nsf", temp_dir );
    make_file( path, 65536 );
    status = pNSFDbOpen( path, &db );
    if (status)
    {
        win_skip( "NSFDbOpen of a plain file failed with %#x: not a Notes database\n", status );
        DeleteFileA( path );
        return;
    }
    status = pNSFBackupStart( db, 1, &ctx, &low, &high );
    ok( status == ERR_VALUE_FLAGS || broken( status != NOERROR ), "Start with reserved flags returned %#x\n", status );
    status = pNSFBackupStop( db, 0x1234 );
    ok( status == ERR_NOT_DOING_BACKUP || broken( status != NOERROR ), "Stop without Start returned %#x\n", status );

    status = pNSFBackupStart( db, 0, &ctx, &low, &high );
    ok( status == NOERROR, "NSFBackupStart returned %#x\n", status );
    ok( low == 65536 && high == 0, "got size %lu:%lu\n", high, low );
    /* a second backup of the same file */
    status = pNSFDbOpen( path, &db2 );
    ok( status == NOERROR, "second NSFDbOpen returned %#x\n", status );
    status = pNSFBackupStart( db2, 0, &apply, &low, &high );
    ok( status == ERR_BACKUP_ALREADY_IN_PROGRESS, "second Start returned %#x\n", status );
    pNSFDbClose( db2 );
    /* change info only after Stop */
    status = pNSFBackupGetChangeInfoSize( db, ctx, 0, &low, &high );
    ok( status == ERR_NOT_DOING_BACKUP || broken( status == NOERROR ), "size before Stop returned %#x\n", status );
    status = pNSFBackupStop( db, ctx );
    ok( status == NOERROR, "NSFBackupStop returned %#x\n", status );
    status = pNSFBackupSetHighWaterMark( db, ctx, 0, 0 );
    ok( status == ERR_NOT_DOING_BACKUP || broken( status == NOERROR ), "mark after Stop returned %#x\n", status );
    status = pNSFBackupGetChangeInfoSize( db, ctx, 1, &low, &high );
    ok( status == ERR_VALUE_FLAGS || broken( status != NOERROR ), "size with flags returned %#x\n", status );
    status = pNSFBackupGetNextChangeInfo( db, ctx, 0, buffer, sizeof(buffer), &filled );
    ok( status == NOERROR, "GetNextChangeInfo returned %#x\n", status );
    status = pNSFBackupEnd( db, ctx, 0 );
    ok( status == NOERROR, "NSFBackupEnd returned %#x\n", status );
    status = pNSFBackupEnd( db, ctx, 0 );
    ok( status == ERR_NOT_DOING_BACKUP || broken( status != NOERROR ), "second End returned %#x\n", status );

    /* apply contexts */
    status = pNSFBackupApplyNextChangeInfo( 0x4242, 0, buffer, 10 );
    ok( status == ERR_INVALID_CHANGE_INFO_CONTEXT, "ApplyNext on a bad context returned %#x\n", status );
    status = pNSFBackupEndApplyChangeInfo( 0x4242, 0 );
    ok( status == ERR_INVALID_CHANGE_INFO_CONTEXT, "EndApply on a bad context returned %#x\n", status );
    status = pNSFBackupStartApplyChangeInfo( &apply, path, 0, 100, 0 );
    ok( status == NOERROR, "StartApply returned %#x\n", status );
    memset( buffer, 0x5a, sizeof(buffer) );
    status = pNSFBackupApplyNextChangeInfo( apply, 0, buffer, sizeof(buffer) );
    ok( status == ERR_CORRUPT_CHANGE_INFO, "garbage change info returned %#x\n", status );
    status = pNSFBackupEndApplyChangeInfo( apply, 0 );
    ok( status == ERR_CORRUPT_CHANGE_INFO || broken( status == NOERROR ), "EndApply after garbage returned %#x\n", status );
    pNSFDbClose( db );
    DeleteFileA( path );
}

static void test_backup_flow(void)
{
    char path[MAX_PATH], copy[MAX_PATH], canonical[MAXPATH], expanded[MAXPATH], cmdline[MAX_PATH * 2];
    char **argv, *buffer;
    DBHANDLE db;
    DHANDLE ctx, apply, hbuffer;
    DWORD low, high, info_low, info_high, filled, done, size, copied = 0, reads = 0, start_size, got_size;
    BYTE *start_image, *got;
    HANDLE src, dst, go, paused;
    PROCESS_INFORMATION pi;
    STARTUPINFOA si;
    BOOL logged = TRUE;
    UNID log_id, dbiid;
    DWORD extent;
    STATUS status;
    int attempt;

    memset( &si, 0, sizeof(si) );
    si.cb = sizeof(si);
    snprintf( path, sizeof(path), "%s\\live.nsf", temp_dir );
    snprintf( copy, sizeof(copy), "%s\\live.copy", temp_dir );
    make_file( path, FILE_SIZE );
    status = pNSFDbOpen( path, &db );
    if (status)
    {
        win_skip( "NSFDbOpen of a plain file failed with %#x: not a Notes database\n", status );
        DeleteFileA( path );
        return;
    }
    status = pNSFDbPathGet( db, canonical, expanded );
    ok( status == NOERROR, "NSFDbPathGet returned %#x\n", status );
    ok( !_stricmp( expanded, path ), "got path %s, expected %s\n", debugstr_a( expanded ), debugstr_a( path ) );

    /* the writer: paused while we take the image at Start */
    go = CreateEventA( NULL, TRUE, FALSE, "winbackup-nnotes-go" );
    paused = CreateEventA( NULL, FALSE, FALSE, "winbackup-nnotes-paused" );
    winetest_get_mainargs( &argv );
    snprintf( cmdline, sizeof(cmdline), "\"%s\" nnotes writer \"%s\"", argv[0], path );
    ok( CreateProcessA( NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi ), "CreateProcess failed, error %lu\n",
        GetLastError() );
    SetEvent( go );
    Sleep( 200 );

    for (attempt = 0; attempt < 20; attempt++)
    {
        ResetEvent( go );
        ok( WaitForSingleObject( paused, 10000 ) == WAIT_OBJECT_0, "the writer did not pause\n" );
        start_image = read_whole( path, &start_size );
        status = pNSFBackupStart( db, 0, &ctx, &low, &high );
        SetEvent( go );
        if (status != ERR_NSF_CANT_BACKUP) break;
        free( start_image );
    }
    ok( status == NOERROR, "NSFBackupStart returned %#x\n", status );
    if (status)
    {
        TerminateProcess( pi.hProcess, 0 );
        goto done;
    }
    ok( low == start_size && high == 0, "got size %lu:%lu, expected %lu\n", high, low, start_size );

    status = pNSFDbGetLogInfo( db, 0, &logged, &log_id, &dbiid, &extent );
    ok( status == NOERROR, "NSFDbGetLogInfo returned %#x\n", status );
    ok( !logged, "a plain file reported as logged\n" );

    /* copy with ordinary reads while the writer runs */
    status = pOSMemAlloc( MEM_SHARE, 32768, &hbuffer );
    ok( status == NOERROR, "OSMemAlloc returned %#x\n", status );
    buffer = OSLock( char, hbuffer );
    src = CreateFileA( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    dst = CreateFileA( copy, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, CREATE_ALWAYS,
                       0, NULL );
    ok( src != INVALID_HANDLE_VALUE && dst != INVALID_HANDLE_VALUE, "cannot open the files, error %lu\n", GetLastError() );
    while (copied < start_size)
    {
        size = min( 32768, start_size - copied );
        if (!ReadFile( src, buffer, size, &done, NULL ) || !done) break;
        WriteFile( dst, buffer, done, &size, NULL );
        copied += done;
        if (++reads % 10 == 0) pNSFBackupSetHighWaterMark( db, ctx, copied, 0 );
        if (reads % 16 == 0) Sleep( 1 );          /* let the writer in */
    }
    ok( copied == start_size, "copied %lu of %lu bytes\n", copied, start_size );
    CloseHandle( dst );
    CloseHandle( src );

    status = pNSFBackupStop( db, ctx );
    ok( status == NOERROR, "NSFBackupStop returned %#x\n", status );
    status = pNSFBackupGetChangeInfoSize( db, ctx, 0, &info_low, &info_high );
    ok( status == NOERROR, "NSFBackupGetChangeInfoSize returned %#x\n", status );
    trace( "change info: %lu bytes\n", info_low );
    status = pNSFBackupStartApplyChangeInfo( &apply, copy, 0, info_low, info_high );
    ok( status == NOERROR, "NSFBackupStartApplyChangeInfo returned %#x\n", status );
    do
    {
        status = pNSFBackupGetNextChangeInfo( db, ctx, 0, buffer, 32768, &filled );
        ok( status == NOERROR, "NSFBackupGetNextChangeInfo returned %#x\n", status );
        if (status) break;
        status = pNSFBackupApplyNextChangeInfo( apply, 0, buffer, filled );
        ok( status == NOERROR, "NSFBackupApplyNextChangeInfo(%lu bytes) returned %#x\n", filled, status );
        if (status) break;
    } while (filled);
    status = pNSFBackupEndApplyChangeInfo( apply, 0 );
    ok( status == NOERROR, "NSFBackupEndApplyChangeInfo returned %#x\n", status );
    status = pNSFBackupEnd( db, ctx, 0 );
    ok( status == NOERROR, "NSFBackupEnd returned %#x\n", status );
    pOSUnlockObject( hbuffer );
    pOSMemFree( hbuffer );
    TerminateProcess( pi.hProcess, 0 );
    WaitForSingleObject( pi.hProcess, 10000 );

    got = read_whole( copy, &got_size );
    ok( got != NULL && got_size == start_size, "copy has %lu bytes, expected %lu\n", got_size, start_size );
    if (got && got_size == start_size)
    {
        DWORD first = 0;
        while (first < start_size && got[first] == start_image[first]) first++;
        ok( first == start_size, "copy + change info differs from the file at Start at offset %lu\n", first );
    }
    {
        BYTE *now = read_whole( path, &size );
        ok( now && memcmp( now, start_image, start_size ), "the writer never wrote: nothing was tested\n" );
        free( now );
    }
    free( got );
    free( start_image );
done:
    CloseHandle( pi.hProcess );
    CloseHandle( pi.hThread );
    CloseHandle( go );
    CloseHandle( paused );
    pNSFDbClose( db );
    DeleteFileA( path );
    DeleteFileA( copy );
}

START_TEST(nnotes)
{
    char **argv;
    int argc = winetest_get_mainargs( &argv );
    STATUS status;

    if (argc >= 4 && !strcmp( argv[2], "writer" ))
    {
        writer_child( argv[3], "winbackup-nnotes-go", "winbackup-nnotes-paused" );
        return;
    }
    if (!load_nnotes())
    {
        win_skip( "nnotes.dll or one of its backup exports is not available\n" );
        return;
    }
    status = pNotesInitExtended( argc, argv );
    ok( status == NOERROR, "NotesInitExtended returned %#x\n", status );
    GetTempPathA( sizeof(temp_dir), temp_dir );
    strcat( temp_dir, "nnotes-test" );
    CreateDirectoryA( temp_dir, NULL );

    test_memory();
    test_load_string();
    test_translate();
    test_long_full_path();
    test_errors();
    test_backup_flow();

    RemoveDirectoryA( temp_dir );
    pNotesTerm();
}
