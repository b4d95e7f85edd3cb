/*
 * nnotes.dll on Windows (or under Wine without the Unix library): the NT
 * platform of the engine.  Windows has no reflink on NTFS and its oplocks
 * do not hold a writer back until data is saved, so the recorder here is a
 * share mode: NSFBackupStart reopens the file denying write access until
 * NSFBackupStop.  It fails with ERR_NSF_CANT_BACKUP when a process already
 * has the file open for writing (the sharing violation), and writers that
 * come later get ERROR_SHARING_VIOLATION until Stop: the file is readable
 * but not writable during the backup, the change info is always empty, and
 * the copy is always a point-in-time image.  One backup per file: a named
 * mutex keyed by the volume serial number and file index.
 *
 * The apply mark is a side file "<copy>.nsf-apply" holding the backup id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "global.h"
#include "nsferr.h"
#include "oserr.h"
#include "nnotes_private.h"

struct nt_recorder
{
    HANDLE deny_writers;
    HANDLE busy;                    /* the named mutex: one backup per file */
    struct nsf_ci_header header;
    struct nsf_ci_encoder *encoder;
    uint64_t info_size;
};

static nsf_status empty_rewind( void *source ) { return 0; }
static nsf_status empty_next( void *source, uint64_t *offset, uint64_t *length, int *zero ) { *length = 0; return 0; }
static nsf_status empty_read( void *source, uint64_t offset, void *buffer, uint32_t size ) { return ERR_UNKNOWN; }
static const struct nsf_range_source_ops empty_ops = { empty_rewind, empty_next, empty_read };

static nsf_status nt_db_open( const char *path, void **opaque )
{
    struct pe_file *file;
    WCHAR mark[MAX_PATH * 2 + 16];
    nsf_status status;

    if ((status = pe_open_file( path, GENERIC_READ, &file ))) return status;
    swprintf( mark, ARRAYSIZE(mark), L"%ls.nsf-apply", file->path );
    if (GetFileAttributesW( mark ) != INVALID_FILE_ATTRIBUTES)
    {
        pe_close_file( file );
        return ERR_DBOFFLINE;
    }
    *opaque = file;
    return 0;
}

static nsf_status nt_db_path( void *file, char *out, size_t size ) { return pe_file_path( file, out, size ); }
static void nt_db_close( void *file ) { pe_close_file( file ); }

static void nt_backup_end( void *opaque )
{
    struct nt_recorder *rec = opaque;
    if (!rec) return;
    if (rec->deny_writers) CloseHandle( rec->deny_writers );
    if (rec->busy) CloseHandle( rec->busy );
    nsf_ci_encoder_free( rec->encoder );
    free( rec );
}

static nsf_status nt_backup_start( void *opaque, void **recorder, uint64_t *size )
{
    struct pe_file *file = opaque;
    BY_HANDLE_FILE_INFORMATION info;
    struct nt_recorder *rec;
    LARGE_INTEGER li, counter;
    WCHAR name[96];
    nsf_status status;

    if (!(rec = calloc( 1, sizeof(*rec) ))) return ERR_MEMORY;
    if (!GetFileInformationByHandle( file->handle, &info ))
    {
        free( rec );
        return status_from_win32( GetLastError() );
    }
    swprintf( name, ARRAYSIZE(name), L"winbackup-nsf-%08lx-%08lx%08lx", info.dwVolumeSerialNumber,
              info.nFileIndexHigh, info.nFileIndexLow );
    rec->busy = CreateMutexW( NULL, FALSE, name );
    if (!rec->busy || GetLastError() == ERROR_ALREADY_EXISTS)
    {
        nt_backup_end( rec );
        return ERR_BACKUP_ALREADY_IN_PROGRESS;
    }
    rec->deny_writers = ReOpenFile( file->handle, GENERIC_READ, FILE_SHARE_READ, 0 );
    if (rec->deny_writers == INVALID_HANDLE_VALUE)
    {
        DWORD error = GetLastError();
        rec->deny_writers = NULL;
        nt_backup_end( rec );
        return error == ERROR_SHARING_VIOLATION ? ERR_NSF_CANT_BACKUP : status_from_win32( error );
    }
    if (!GetFileSizeEx( rec->deny_writers, &li ))
    {
        status = status_from_win32( GetLastError() );
        nt_backup_end( rec );
        return status;
    }
    QueryPerformanceCounter( &counter );
    memcpy( rec->header.backup_id, &counter, 8 );
    memcpy( rec->header.backup_id + 8, &info.nFileIndexLow, 4 );
    *(DWORD *)(rec->header.backup_id + 12) = GetCurrentProcessId() ^ GetTickCount();
    rec->header.start_size = li.QuadPart;
    rec->header.record_max = NSF_CI_MAX_RECORD;
    *size = li.QuadPart;
    *recorder = rec;
    return 0;
}

static nsf_status nt_backup_mark( void *rec, uint64_t mark ) { return 0; }

static nsf_status nt_backup_stop( void *opaque )
{
    struct nt_recorder *rec = opaque;
    nsf_status status;

    /* the copy is complete: writers may go on */
    CloseHandle( rec->deny_writers );
    rec->deny_writers = NULL;
    if ((status = nsf_ci_encoder_new( &rec->header, &empty_ops, rec, &rec->encoder ))) return status;
    return nsf_ci_encoder_size( rec->encoder, &rec->info_size );
}

static nsf_status nt_backup_info_size( void *opaque, uint64_t *size )
{
    *size = ((struct nt_recorder *)opaque)->info_size;
    return 0;
}

static nsf_status nt_backup_info_read( void *opaque, void *buffer, uint32_t size, uint32_t *filled )
{
    return nsf_ci_encoder_read( ((struct nt_recorder *)opaque)->encoder, buffer, size, filled );
}

/* ---------------------------------------------------------------- apply */

struct nt_sink
{
    struct pe_file *file;
    WCHAR mark[MAX_PATH * 2 + 16];
    BOOL marked;
};

static nsf_status nt_apply_open( const char *path, void **opaque )
{
    struct nt_sink *sink;
    nsf_status status;

    if (!(sink = calloc( 1, sizeof(*sink) ))) return ERR_MEMORY;
    if ((status = pe_open_file( path, GENERIC_READ | GENERIC_WRITE, &sink->file )))
    {
        free( sink );
        return status;
    }
    swprintf( sink->mark, ARRAYSIZE(sink->mark), L"%ls.nsf-apply", sink->file->path );
    *opaque = sink;
    return 0;
}

static nsf_status nt_sink_begin( void *opaque, const uint8_t id[16] )
{
    struct nt_sink *sink = opaque;
    uint8_t old[16];
    DWORD done;
    HANDLE mark = CreateFileW( sink->mark, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL );

    if (mark != INVALID_HANDLE_VALUE)
    {
        BOOL same = ReadFile( mark, old, 16, &done, NULL ) && done == 16 && !memcmp( old, id, 16 );
        CloseHandle( mark );
        if (!same) return ERR_DBOFFLINE;
    }
    mark = CreateFileW( sink->mark, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL );
    if (mark == INVALID_HANDLE_VALUE) return status_from_win32( GetLastError() );
    if (!WriteFile( mark, id, 16, &done, NULL ) || done != 16 || !FlushFileBuffers( mark ))
    {
        CloseHandle( mark );
        return ERR_IOERROR;
    }
    CloseHandle( mark );
    sink->marked = TRUE;
    return 0;
}

static nsf_status nt_sink_write( void *opaque, uint64_t offset, const void *data, uint32_t size )
{
    struct nt_sink *sink = opaque;
    OVERLAPPED ov = { 0 };
    DWORD done;

    ov.Offset = (DWORD)offset;
    ov.OffsetHigh = (DWORD)(offset >> 32);
    if (!WriteFile( sink->file->handle, data, size, &done, &ov )) return status_from_win32( GetLastError() );
    return done == size ? 0 : ERR_IOERROR;
}

static nsf_status nt_sink_zero( void *opaque, uint64_t offset, uint32_t size )
{
    static const char zeros[65536];
    nsf_status status;
    uint32_t done = 0;

    while (done < size)
    {
        uint32_t piece = size - done < sizeof(zeros) ? size - done : sizeof(zeros);
        if ((status = nt_sink_write( opaque, offset + done, zeros, piece ))) return status;
        done += piece;
    }
    return 0;
}

static nsf_status nt_sink_finish( void *opaque, uint64_t start_size )
{
    struct nt_sink *sink = opaque;
    FILE_END_OF_FILE_INFO eof;

    if (!sink->marked) return ERR_CORRUPT_CHANGE_INFO;
    eof.EndOfFile.QuadPart = start_size;
    if (!SetFileInformationByHandle( sink->file->handle, FileEndOfFileInfo, &eof, sizeof(eof) ) ||
        !FlushFileBuffers( sink->file->handle ))
        return status_from_win32( GetLastError() );
    if (!DeleteFileW( sink->mark ) && GetLastError() != ERROR_FILE_NOT_FOUND) return status_from_win32( GetLastError() );
    sink->marked = FALSE;
    return 0;
}

static void nt_sink_close( void *opaque )
{
    struct nt_sink *sink = opaque;
    pe_close_file( sink->file );
    free( sink );
}

static const struct nsf_apply_sink_ops nt_sink_ops =
{
    nt_sink_begin, nt_sink_write, nt_sink_zero, nt_sink_finish, nt_sink_close,
};

const struct nsf_platform_ops nnotes_nt_platform =
{
    nt_db_open, nt_db_path, nt_db_close,
    nt_backup_start, nt_backup_mark, nt_backup_stop, nt_backup_info_size, nt_backup_info_read, nt_backup_end,
    nt_apply_open, &nt_sink_ops,
};
