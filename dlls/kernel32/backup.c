/*
 * Backup APIs: BackupRead, BackupSeek, BackupWrite
 *
 * Copyright 2026 the winbackup authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with this library; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin St, Fifth Floor, Boston, MA 02110-1301, USA
 *
 * The WIN32_STREAM_ID encoding itself is the portable codec
 * (winbackup/stream.h).  This file owns the caller-visible context: one
 * heap object per BackupRead or BackupWrite sequence, tagged with a magic so
 * that a context of the other kind (or garbage) is refused, and freed by
 * the bAbort call.  The bytes come from NT calls on the handle (backup_nt.c).
#ifdef WINBACKUP_OUT_OF_TREE
 *
 * Built out of tree as winbackup.dll for stock Wine, whose NT layer hides
 * named streams, EAs, stored security and holes: when its Unix library
 * (backup_unix.c) loads, the context holds Unix-side state instead and every
 * call goes there.  The blocks marked WINBACKUP_OUT_OF_TREE are removed from
 * the copy that goes into Wine (patches/make-patches.sh).
#endif
 */

#include <stdarg.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"

#include "backup_private.h"

#ifdef WINBACKUP_OUT_OF_TREE
#include "backup_debug.h"
#include "backup_unixlib.h"
typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)( unixlib_handle_t, unsigned int, void * );
extern NTSTATUS WINAPI __wine_init_unix_call(void);
#define WINE_UNIX_CALL(code, args) __wine_unix_call_dispatcher( __wine_unixlib_handle, (code), (args) )
#else
#include "wine/debug.h"
#endif

WINE_DEFAULT_DEBUG_CHANNEL(backup);

#define BACKUP_READ_MAGIC   0x52424b57  /* "WKBR" */
#define BACKUP_WRITE_MAGIC  0x57424b57  /* "WKBW" */

struct backup_context
{
    DWORD magic;
    BOOL security;                      /* bProcessSecurity of the first call; later values are ignored (UNVERIFIED) */
#ifdef WINBACKUP_OUT_OF_TREE
    UINT64 unix_state;                  /* non-zero: the Unix side does the work */
#endif
    struct backup_nt_source *source;    /* NT backend, BackupRead */
    struct wb_encoder *encoder;
    struct backup_nt_sink *sink;        /* NT backend, BackupWrite */
    struct wb_decoder *decoder;
};
#ifdef WINBACKUP_OUT_OF_TREE

static INIT_ONCE unix_init_once = INIT_ONCE_STATIC_INIT;
static BOOL have_unix;

static BOOL WINAPI init_unix( INIT_ONCE *once, void *param, void **context )
{
    /* Fails on Windows (no __wine_unix_call_dispatcher in ntdll) and under
     * Wine when the Unix library was not found: the NT backend is used then. */
    NTSTATUS status = __wine_init_unix_call();
    have_unix = !status;
    TRACE( "Unix library %s (status %#lx)\n", have_unix ? "loaded" : "not available", (ULONG)status );
    return TRUE;
}
#endif

static BOOL set_ntstatus( NTSTATUS status )
{
    if (status) SetLastError( RtlNtStatusToDosError( status ) );
    return !status;
}

/* Errors from the codec and the backends are already Win32 codes. */
static BOOL set_win32_error( DWORD error )
{
    if (error) SetLastError( error );
    return !error;
}

/* Wine's FSCTL_GET_OBJECT_ID makes an ID up from the inode of every file,
 * where NTFS reports STATUS_OBJECTID_NOT_FOUND for a file that has none; an
 * invented ID must not go into a backup (restoring it would tag the new file). */
static BOOL object_ids_are_real(void)
{
    return !GetProcAddress( GetModuleHandleW( L"ntdll.dll" ), "wine_get_version" );
}

/* The checks Windows makes on the handle before the first stream; returns
 * the handle's access rights.  What a stream needs is checked when it comes:
 * BACKUP_LINK needs no right at all (Microsoft's CreateHardLink sample opens
 * the file with FILE_WRITE_ATTRIBUTES only), BACKUP_DATA needs
 * FILE_WRITE_DATA; without READ_CONTROL no descriptor can be read. */
static BOOL check_file_handle( HANDLE file, BOOL write, BOOL security, ACCESS_MASK *rights )
{
    FILE_MODE_INFORMATION mode;
    FILE_ACCESS_INFORMATION access;
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    status = NtQueryInformationFile( file, &io, &mode, sizeof(mode), FileModeInformation );
    if (status == STATUS_OBJECT_TYPE_MISMATCH) status = STATUS_INVALID_HANDLE;
    if (!set_ntstatus( status )) return FALSE;
    /* BackupRead/BackupWrite move arbitrary amounts at arbitrary offsets. */
    if (mode.Mode & FILE_NO_INTERMEDIATE_BUFFERING)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    status = NtQueryInformationFile( file, &io, &access, sizeof(access), FileAccessInformation );
    if (!set_ntstatus( status )) return FALSE;
    *rights = access.AccessFlags;
    if (!write && security && !(access.AccessFlags & READ_CONTROL))
    {
        WARN( "bProcessSecurity on handle %p without READ_CONTROL\n", file );
        SetLastError( ERROR_ACCESS_DENIED );
        return FALSE;
    }
    return TRUE;
}

#ifdef WINBACKUP_OUT_OF_TREE
/* The Unix side works on its own dup of the handle's fd; the handle must
 * still be open for every call, as the NT path needs it for every read.
 * FilePositionInformation is answered from ntdll's cache of the handle's
 * fd (an lseek), where FileModeInformation costs a wineserver round trip
 * per call: make bench measured BackupRead at 0.20x ReadFile with 64 KiB
 * buffers that way.  A closed handle is no longer in the cache, so the
 * server is asked and says STATUS_INVALID_HANDLE. */
static BOOL handle_is_open( HANDLE file )
{
    FILE_POSITION_INFORMATION pos;
    IO_STATUS_BLOCK io;
    NTSTATUS status = NtQueryInformationFile( file, &io, &pos, sizeof(pos), FilePositionInformation );

    if (status == STATUS_OBJECT_TYPE_MISMATCH) status = STATUS_INVALID_HANDLE;
    return set_ntstatus( status );
}
#endif

static void free_context( struct backup_context *ctx, DWORD *error )
{
    *error = 0;
#ifdef WINBACKUP_OUT_OF_TREE
    if (ctx->unix_state)
    {
        struct backup_close_params params = { ctx->unix_state };
        WINE_UNIX_CALL( unix_backup_close, &params );
        *error = params.error;
    }
#endif
    if (ctx->encoder) wb_encoder_free( ctx->encoder );
    if (ctx->source) backup_nt_source_close( ctx->source );
    if (ctx->decoder) wb_decoder_free( ctx->decoder );
    if (ctx->sink)
    {
        *error = backup_nt_sink_finish( ctx->sink );
        backup_nt_sink_close( ctx->sink );
    }
    ctx->magic = 0;
    HeapFree( GetProcessHeap(), 0, ctx );
}

static struct backup_context *create_context( HANDLE file, BOOL write, BOOL security )
{
    struct backup_context *ctx;
    ACCESS_MASK access;
    DWORD error = 0;

    if (!check_file_handle( file, write, security, &access )) return NULL;
    if (!(ctx = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*ctx) )))
    {
        SetLastError( ERROR_NOT_ENOUGH_MEMORY );
        return NULL;
    }
    ctx->magic = write ? BACKUP_WRITE_MAGIC : BACKUP_READ_MAGIC;
    ctx->security = security;

#ifdef WINBACKUP_OUT_OF_TREE
    InitOnceExecuteOnce( &unix_init_once, init_unix, NULL, NULL );
    if (have_unix)
    {
        struct backup_open_params params = { (UINT_PTR)file, write, !!security, access };
        NTSTATUS status = WINE_UNIX_CALL( unix_backup_open, &params );
        if (status) error = RtlNtStatusToDosError( status );
        else error = params.error;
        ctx->unix_state = params.state;
    }
    else
#endif
    if (!write)
    {
        error = backup_nt_source_open( file, security, object_ids_are_real(), &ctx->source );
        if (!error && !(ctx->encoder = wb_encoder_new( &backup_nt_source_ops, ctx->source )))
            error = ERROR_NOT_ENOUGH_MEMORY;
    }
    else
    {
        error = backup_nt_sink_open( file, security, &ctx->sink );
        if (!error && !(ctx->decoder = wb_decoder_new( &backup_nt_sink_ops, ctx->sink,
                                                       security ? WB_DECODE_SECURITY : 0 )))
            error = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (error)
    {
        DWORD ignored;
        free_context( ctx, &ignored );
        SetLastError( error );
        return NULL;
    }
    return ctx;
}

/* The context of an ongoing sequence of the wanted kind, a new one, or NULL with the error set. */
static struct backup_context *get_context( HANDLE file, void **context, BOOL write, BOOL security )
{
    struct backup_context *ctx = *context;

    if (!ctx)
    {
        if (!(ctx = create_context( file, write, security ))) return NULL;
        *context = ctx;
        return ctx;
    }
    if (ctx->magic != (write ? BACKUP_WRITE_MAGIC : BACKUP_READ_MAGIC))
    {
        WARN( "context %p is not a %s context\n", ctx, write ? "BackupWrite" : "BackupRead" );
        SetLastError( ERROR_INVALID_PARAMETER );
        return NULL;
    }
    return ctx;
}

/* bAbort: free the context of either kind; a NULL context is fine. */
static BOOL abort_context( void **context )
{
    struct backup_context *ctx = *context;
    DWORD error;

    if (!ctx) return TRUE;
    if (ctx->magic != BACKUP_READ_MAGIC && ctx->magic != BACKUP_WRITE_MAGIC)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    free_context( ctx, &error );
    *context = NULL;
    return set_win32_error( error );
}

/***********************************************************************
 *           BackupRead   (KERNEL32.@)
 *
 * Read the data, named streams, EAs, security descriptor and other
 * metadata of a file as a sequence of WIN32_STREAM_ID streams.  Returns
 * TRUE with *read == 0 once everything was read; the context lives until
 * a call with abort set.
 */
BOOL WINAPI BackupRead( HANDLE file, LPBYTE buffer, DWORD count, LPDWORD read,
                        BOOL abort, BOOL security, LPVOID *context )
{
    struct backup_context *ctx;
    DWORD error;

    TRACE( "%p, %p, %lu, %p, %d, %d, %p\n", file, buffer, count, read, abort, security, context );

    /* UNVERIFIED: NULL pointers give ERROR_INVALID_PARAMETER (Windows may fault or say ERROR_NOACCESS). */
    if (!context)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    if (abort) return abort_context( context );
    if (!read)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    *read = 0;
    if (!buffer && count)
    {
        SetLastError( ERROR_NOACCESS );
        return FALSE;
    }
    if (!(ctx = get_context( file, context, FALSE, security ))) return FALSE;
    if (!count) return TRUE;

#ifdef WINBACKUP_OUT_OF_TREE
    if (ctx->unix_state)
    {
        struct backup_io_params params = { ctx->unix_state, (UINT_PTR)buffer, count };
        NTSTATUS status;
        if (!handle_is_open( file )) return FALSE;
        status = WINE_UNIX_CALL( unix_backup_read, &params );
        if (status) return set_ntstatus( status );
        *read = params.done;
        error = params.error;
    }
    else
#endif
    {
        UINT32 done = 0;
        error = wb_encoder_read( ctx->encoder, buffer, count, &done );
        *read = done;
    }
    TRACE( "-> %lu bytes, error %lu\n", *read, error );
    return set_win32_error( error );
}

/***********************************************************************
 *           BackupSeek   (KERNEL32.@)
 *
 * Skip forward inside the payload of the current stream of a BackupRead
 * or BackupWrite sequence.  Asking for more than is left skips to the end
 * of the stream, reports the bytes skipped and fails with ERROR_SEEK.
 */
BOOL WINAPI BackupSeek( HANDLE file, DWORD seek_low, DWORD seek_high, LPDWORD seeked_low,
                        LPDWORD seeked_high, LPVOID *context )
{
    struct backup_context *ctx;
    UINT64 distance = ((UINT64)seek_high << 32) | seek_low, skipped = 0;
    DWORD error;

    TRACE( "%p, %lu, %lu, %p, %p, %p\n", file, seek_low, seek_high, seeked_low, seeked_high, context );

    /* UNVERIFIED: a missing or foreign context gives ERROR_INVALID_PARAMETER.
     * A BackupWrite context is fine: the documentation has BackupSeek move in
     * a stream "initially accessed by using the BackupRead or BackupWrite
     * function"; on a restore the skipped bytes are not written. */
    if (!context || !seeked_low || !seeked_high || !(ctx = *context) ||
        (ctx->magic != BACKUP_READ_MAGIC && ctx->magic != BACKUP_WRITE_MAGIC))
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }

#ifdef WINBACKUP_OUT_OF_TREE
    if (ctx->unix_state)
    {
        struct backup_seek_params params = { ctx->unix_state, distance };
        NTSTATUS status;
        if (!handle_is_open( file )) return FALSE;
        status = WINE_UNIX_CALL( unix_backup_seek, &params );
        if (status) return set_ntstatus( status );
        skipped = params.skipped;
        error = params.error;
    }
    else
#endif
    if (ctx->encoder) error = wb_encoder_seek( ctx->encoder, distance, &skipped );
    else error = wb_decoder_seek( ctx->decoder, distance, &skipped );

    *seeked_low = (DWORD)skipped;
    *seeked_high = (DWORD)(skipped >> 32);
    return set_win32_error( error );
}

/***********************************************************************
 *           BackupWrite   (KERNEL32.@)
 *
 * Restore a file from a sequence of WIN32_STREAM_ID streams, split
 * anywhere across calls.  The call with abort set frees the context and
 * applies what can only be applied at the end (the length of a sparse file).
 */
BOOL WINAPI BackupWrite( HANDLE file, LPBYTE buffer, DWORD count, LPDWORD written,
                         BOOL abort, BOOL security, LPVOID *context )
{
    struct backup_context *ctx;
    DWORD error;

    TRACE( "%p, %p, %lu, %p, %d, %d, %p\n", file, buffer, count, written, abort, security, context );

    /* UNVERIFIED: NULL pointers give ERROR_INVALID_PARAMETER, as in BackupRead. */
    if (!context)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    if (abort) return abort_context( context );
    if (!written)
    {
        SetLastError( ERROR_INVALID_PARAMETER );
        return FALSE;
    }
    *written = 0;
    if (!buffer && count)
    {
        SetLastError( ERROR_NOACCESS );
        return FALSE;
    }
    if (!(ctx = get_context( file, context, TRUE, security ))) return FALSE;
    if (!count) return TRUE;

#ifdef WINBACKUP_OUT_OF_TREE
    if (ctx->unix_state)
    {
        struct backup_io_params params = { ctx->unix_state, (UINT_PTR)buffer, count };
        NTSTATUS status;
        if (!handle_is_open( file )) return FALSE;
        status = WINE_UNIX_CALL( unix_backup_write, &params );
        if (status) return set_ntstatus( status );
        error = params.error;
    }
    else
#endif
    error = wb_decoder_write( ctx->decoder, buffer, count );

    if (!error) *written = count;
    return set_win32_error( error );
}
