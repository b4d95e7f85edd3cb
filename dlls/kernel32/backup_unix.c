/*
 * Backup APIs, Unix side (Wine only)
 *
 * Wine 8 stores named streams, EAs, security descriptors and sparse ranges of
 * a file where its NT layer cannot report them (xattrs, holes).  This library
 * takes the file's Unix fd from the handle and runs the portable codec over
 * the project's POSIX backend, so that a Windows program gets the same stream
 * as the native `winbackup read`.
 *
 * Each open returns a heap object owning a dup of the fd, the POSIX
 * source/sink and the encoder/decoder; the PE side keeps it in its context
 * and frees it through unix_backup_close.  Nothing here is global.
 */
#if 0
#pragma makedep unix
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "winbackup/stream.h"
#include "winbackup/posix.h"
#include "backup_unixlib.h"

typedef int32_t NTSTATUS;
typedef NTSTATUS (*unixlib_entry_t)( void *args );

#define FILE_READ_DATA   0x0001
#define FILE_WRITE_DATA  0x0002

/* Exported by Wine's ntdll.so; built for the Windows ABI in Wine 8. */
extern NTSTATUS __attribute__((ms_abi)) wine_server_handle_to_fd( void *handle, unsigned int access,
                                                                  int *unix_fd, unsigned int *options );

/* BACKUP_LINK goes through Wine's own NtSetInformationFile(FileLinkInformation):
 * only Wine knows how a Win32 path maps to a Unix one (drives, case). */
struct io_status_block
{
    union { NTSTATUS status; void *pointer; } u;
    uintptr_t information;
};
extern NTSTATUS __attribute__((ms_abi)) NtSetInformationFile( void *handle, struct io_status_block *io,
                                                              void *info, uint32_t size, int info_class );
extern uint32_t __attribute__((ms_abi)) RtlNtStatusToDosError( NTSTATUS status );
#define FILE_LINK_INFORMATION_CLASS 11

struct unix_backup
{
    void *handle;
    int fd;
    int write;
    struct wb_posix_source *source;
    struct wb_encoder *encoder;
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
    uint32_t stream_id;         /* of the stream being restored */
    int failed;                 /* a BackupWrite call already reported an error */
};

static void free_backup( struct unix_backup *backup )
{
    if (backup->encoder) wb_encoder_free( backup->encoder );
    if (backup->source) wb_posix_source_close( backup->source );
    if (backup->decoder) wb_decoder_free( backup->decoder );
    if (backup->sink) wb_posix_sink_close( backup->sink );
    if (backup->fd != -1) close( backup->fd );
    free( backup );
}

/* Win32 path normalization of what follows the root of a path, as
 * RtlDosPathNameToNtPathName does it for the NT side ("File path formats on
 * Windows systems"): '/' is a separator, runs of separators are one, "."
 * segments go, ".." takes the segment before it (never the root), a segment
 * ending in a single period loses it, and the last segment loses all its
 * trailing periods and spaces.  Appends to out at *pos. */
static void normalize_win32( const uint16_t *path, uint32_t chars, uint16_t *out, uint32_t *pos )
{
    uint32_t base = *pos, start, end, i = 0, len;

    while (i < chars)
    {
        while (i < chars && (path[i] == '\\' || path[i] == '/')) i++;
        start = i;
        while (i < chars && path[i] != '\\' && path[i] != '/') i++;
        end = i;
        len = end - start;
        if (!len || (len == 1 && path[start] == '.')) continue;
        if (len == 2 && path[start] == '.' && path[start + 1] == '.')
        {
            while (*pos > base && out[*pos - 1] != '\\') (*pos)--;   /* the segment before */
            if (*pos > base) (*pos)--;                                 /* and its separator */
            continue;
        }
        if (i >= chars)   /* the last segment, no separator after it */
            while (len && (path[start + len - 1] == '.' || path[start + len - 1] == ' ')) len--;
        else if (len >= 2 && path[start + len - 1] == '.' && path[start + len - 2] != '.') len--;
        if (!len) continue;
        if (*pos > base) out[(*pos)++] = '\\';
        memcpy( out + *pos, path + start, len * sizeof(*out) );
        *pos += len;
    }
    if (chars && (path[chars - 1] == '\\' || path[chars - 1] == '/') && *pos > base) out[(*pos)++] = '\\';
}

/* The NT name of a link payload: "X:\\...", "\\??\\...", "\\\\?\\...",
 * "\\\\.\\..." or a UNC "\\\\server\\share\\..." path; all but the "\\??\\" and
 * "\\\\?\\" forms normalized as Win32 does.  Relative paths are refused
 * (UNVERIFIED whether Windows resolves them against the current directory). */
static uint32_t link_nt_name( const uint16_t *path, uint32_t chars, uint16_t *out, uint32_t *out_chars )
{
    static const uint16_t prefix[] = { '\\', '?', '?', '\\' };
    uint32_t pos = 0, i;

    for (i = 0; i < 4; i++) out[pos++] = prefix[i];
    if (chars >= 3 && path[1] == ':' && (path[2] == '\\' || path[2] == '/') &&
        ((path[0] | 0x20) >= 'a' && (path[0] | 0x20) <= 'z'))
    {
        out[pos++] = path[0];
        out[pos++] = ':';
        out[pos++] = '\\';
        normalize_win32( path + 3, chars - 3, out, &pos );
    }
    else if (chars >= 4 && path[0] == '\\' && ((path[1] == '?' && path[2] == '?') || (path[1] == '\\' && path[2] == '?')) &&
             path[3] == '\\')
    {
        for (i = 4; i < chars; i++) out[pos++] = path[i];   /* taken as it is, as Windows does */
    }
    else if (chars >= 4 && path[0] == '\\' && path[1] == '\\' && path[2] == '.' && path[3] == '\\')
        normalize_win32( path + 4, chars - 4, out, &pos );
    else if (chars >= 3 && (path[0] == '\\' || path[0] == '/') && (path[1] == '\\' || path[1] == '/') &&
             path[2] != '\\' && path[2] != '/')
    {
        /* \\server\share -> \??\UNC\server\share, which ".." does not climb above */
        uint32_t root = 2, segments = 0;
        while (root < chars && segments < 2)
        {
            if (path[root] == '\\' || path[root] == '/') segments++;
            if (segments < 2) root++;
        }
        out[pos++] = 'U'; out[pos++] = 'N'; out[pos++] = 'C'; out[pos++] = '\\';
        for (i = 2; i < root; i++) out[pos++] = path[i] == '/' ? '\\' : path[i];
        if (root < chars) out[pos++] = '\\';
        normalize_win32( path + root, chars - root, out, &pos );
    }
    else return WB_ERROR_INVALID_NAME;
    *out_chars = pos;
    return WB_OK;
}

static uint32_t apply_link( struct unix_backup *backup, const uint8_t *payload, uint32_t size )
{
    uint32_t chars = size / 2, name_chars, error, i;
    struct io_status_block io;
    uint16_t *path;
    uint8_t *info;
    NTSTATUS status;

    /* a NUL-terminated UTF-16 path, no other NUL */
    if (size < 4 || size % 2 || payload[size - 1] || payload[size - 2]) return WB_ERROR_INVALID_DATA;
    chars--;
    if (!(path = malloc( chars * 2 ))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    for (i = 0; i < chars; i++)
    {
        path[i] = payload[2 * i] | (payload[2 * i + 1] << 8);
        if (!path[i])
        {
            free( path );
            return WB_ERROR_INVALID_DATA;
        }
    }
    /* FILE_LINK_INFORMATION: BOOLEAN ReplaceIfExists, HANDLE RootDirectory,
     * ULONG FileNameLength, WCHAR FileName[] (offsets 0, 8, 16, 20 on x86_64) */
    if (!(info = calloc( 1, 20 + (chars + 8) * 2 )))
    {
        free( path );
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    error = link_nt_name( path, chars, (uint16_t *)(info + 20), &name_chars );
    free( path );
    if (!error)
    {
        uint32_t length = name_chars * 2;
        /* an existing name is replaced: the KB CreateHardLink sample says
         * the link name "will be overwritten" if it exists */
        info[0] = 1;
        memcpy( info + 16, &length, sizeof(length) );
        status = NtSetInformationFile( backup->handle, &io, info, 20 + length, FILE_LINK_INFORMATION_CLASS );
        error = status ? RtlNtStatusToDosError( status ) : WB_OK;
    }
    free( info );
    return error;
}

/* The sink the decoder drives: the POSIX sink for everything but BACKUP_LINK. */
static uint32_t sink_begin( void *opaque, const struct wb_sink_stream *stream )
{
    struct unix_backup *backup = opaque;
    backup->stream_id = stream->id;
    if (stream->id == WB_BACKUP_LINK) return WB_OK;
    return wb_posix_sink_ops.begin( backup->sink, stream );
}

static uint32_t sink_write( void *opaque, uint64_t offset, const void *buffer, uint32_t size )
{
    struct unix_backup *backup = opaque;
    if (backup->stream_id == WB_BACKUP_LINK) return apply_link( backup, buffer, size );
    return wb_posix_sink_ops.write( backup->sink, offset, buffer, size );
}

static uint32_t sink_end( void *opaque )
{
    struct unix_backup *backup = opaque;
    if (backup->stream_id == WB_BACKUP_LINK) return WB_OK;
    return wb_posix_sink_ops.end( backup->sink );
}

static const struct wb_sink_ops sink_ops = { sink_begin, sink_write, sink_end };

static NTSTATUS backup_open( void *args )
{
    struct backup_open_params *params = args;
    struct unix_backup *backup;
    unsigned int flags = params->security ? WB_POSIX_SECURITY : 0;
    NTSTATUS status;
    uint32_t error;

    params->state = 0;
    if (!(backup = calloc( 1, sizeof(*backup) )))
    {
        params->error = WB_ERROR_NOT_ENOUGH_MEMORY;
        return 0;
    }
    backup->fd = -1;
    backup->write = params->write;
    backup->handle = (void *)(uintptr_t)params->handle;
    /* A restore asks for no access: which streams the handle may apply is
     * decided per stream from params->access (the sink's options), so that
     * a handle opened for FILE_WRITE_ATTRIBUTES only can still make a hard
     * link, as on Windows. */
    status = wine_server_handle_to_fd( (void *)(uintptr_t)params->handle,
                                       params->write ? 0 : FILE_READ_DATA, &backup->fd, NULL );
    if (status)
    {
        backup->fd = -1;
        error = RtlNtStatusToDosError( status );
    }
    else if (!params->write)
    {
        error = wb_posix_source_open( backup->fd, flags, &backup->source );
        if (!error && !(backup->encoder = wb_encoder_new( &wb_posix_source_ops, backup->source )))
            error = WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    else
    {
        /* No Unix path from a handle: a restored symlink reparse point stays in
         * user.WINEREPARSE, which Wine itself reads.  BACKUP_LINK never reaches
         * the POSIX sink (see sink_ops). */
        struct wb_posix_sink_options options;
        memset( &options, 0, sizeof(options) );
        options.access = params->access;
        error = wb_posix_sink_open( backup->fd, flags, &options, &backup->sink );
        if (!error && !(backup->decoder = wb_decoder_new( &sink_ops, backup,
                                                          params->security ? WB_DECODE_SECURITY : 0 )))
            error = WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    if (error)
    {
        free_backup( backup );
        params->error = error;
        return 0;
    }
    params->state = (uintptr_t)backup;
    params->error = 0;
    return 0;
}

static NTSTATUS backup_read( void *args )
{
    struct backup_io_params *params = args;
    struct unix_backup *backup = (struct unix_backup *)(uintptr_t)params->state;

    params->done = 0;
    if (backup->write) params->error = WB_ERROR_INVALID_PARAMETER;
    else params->error = wb_encoder_read( backup->encoder, (void *)(uintptr_t)params->buffer,
                                          params->size, &params->done );
    return 0;
}

static NTSTATUS backup_seek( void *args )
{
    struct backup_seek_params *params = args;
    struct unix_backup *backup = (struct unix_backup *)(uintptr_t)params->state;

    params->skipped = 0;
    if (backup->write)
    {
        params->error = wb_decoder_seek( backup->decoder, params->distance, &params->skipped );
        if (params->error && params->error != WB_ERROR_SEEK) backup->failed = 1;
    }
    else params->error = wb_encoder_seek( backup->encoder, params->distance, &params->skipped );
    return 0;
}

static NTSTATUS backup_write( void *args )
{
    struct backup_io_params *params = args;
    struct unix_backup *backup = (struct unix_backup *)(uintptr_t)params->state;

    params->done = 0;
    if (!backup->write)
    {
        params->error = WB_ERROR_INVALID_PARAMETER;
        return 0;
    }
    params->error = wb_decoder_write( backup->decoder, (const void *)(uintptr_t)params->buffer, params->size );
    if (!params->error) params->done = params->size;
    else backup->failed = 1;
    return 0;
}

static NTSTATUS backup_close( void *args )
{
    struct backup_close_params *params = args;
    struct unix_backup *backup = (struct unix_backup *)(uintptr_t)params->state;

    params->error = 0;
    if (!backup) return 0;
    /* What must come last (owner and mode, fdatasync) is applied when the
     * whole restore went through; after an error the caller already had it,
     * and a restore abandoned mid-stream is a cancel, not a failure. */
    if (backup->sink && !backup->failed && wb_decoder_at_boundary( backup->decoder ))
        params->error = wb_posix_sink_finish( backup->sink );
    free_backup( backup );
    return 0;
}

__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] =
{
    backup_open,
    backup_read,
    backup_seek,
    backup_write,
    backup_close,
};

_Static_assert( sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == unix_backup_funcs_count,
                "unix call table out of sync" );
