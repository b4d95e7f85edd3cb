/*
 * Backup APIs: the codec's source and sink over NT calls
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
 * This is how the streams map to NT calls, as NTFS keeps them:
 *   BACKUP_SECURITY_DATA   NtQuerySecurityObject / NtSetSecurityObject
 *   BACKUP_DATA            NtReadFile / NtWriteFile at explicit offsets
 *   BACKUP_SPARSE_BLOCK    FSCTL_QUERY_ALLOCATED_RANGES / FSCTL_SET_SPARSE
 *   BACKUP_EA_DATA         NtQueryEaFile / NtSetEaFile (FILE_FULL_EA_INFORMATION list)
 *   BACKUP_ALTERNATE_DATA  FileStreamInformation; each stream opened relative to the file
 *   BACKUP_REPARSE_DATA    FSCTL_GET_REPARSE_POINT / FSCTL_SET_REPARSE_POINT
 *   BACKUP_OBJECT_ID       FSCTL_GET_OBJECT_ID / FSCTL_SET_OBJECT_ID
 *   BACKUP_LINK            FileLinkInformation
 * A kind of metadata the file system does not support (STATUS_NOT_IMPLEMENTED,
 * STATUS_INVALID_DEVICE_REQUEST, ...) is simply absent from the backup, as
 * on FAT.  The source walks a fixed order of stages; everything a stage
 * needs lives in struct backup_nt_source until the next stage starts.
 */

#include <stdarg.h>
#include <string.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#include "winioctl.h"

#include "backup_private.h"

#ifdef WINBACKUP_OUT_OF_TREE
/* mingw-w64's winternl.h lacks these; Wine's has them all */
NTSTATUS NTAPI NtReadFile( HANDLE, HANDLE, PIO_APC_ROUTINE, void *, IO_STATUS_BLOCK *, void *, ULONG,
                           LARGE_INTEGER *, ULONG * );
NTSTATUS NTAPI NtWriteFile( HANDLE, HANDLE, PIO_APC_ROUTINE, void *, IO_STATUS_BLOCK *, const void *, ULONG,
                            LARGE_INTEGER *, ULONG * );
NTSTATUS NTAPI NtQueryEaFile( HANDLE, IO_STATUS_BLOCK *, void *, ULONG, BOOLEAN, void *, ULONG, ULONG *, BOOLEAN );
NTSTATUS NTAPI NtSetEaFile( HANDLE, IO_STATUS_BLOCK *, void *, ULONG );
NTSTATUS NTAPI NtQuerySecurityObject( HANDLE, SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, ULONG, ULONG * );
NTSTATUS NTAPI NtSetSecurityObject( HANDLE, SECURITY_INFORMATION, PSECURITY_DESCRIPTOR );
NTSTATUS NTAPI NtSetInformationFile( HANDLE, IO_STATUS_BLOCK *, void *, ULONG, FILE_INFORMATION_CLASS );
ULONG NTAPI RtlLengthSecurityDescriptor( PSECURITY_DESCRIPTOR );
BOOLEAN NTAPI RtlValidSecurityDescriptor( PSECURITY_DESCRIPTOR );
NTSTATUS NTAPI RtlGetOwnerSecurityDescriptor( PSECURITY_DESCRIPTOR, PSID *, BOOLEAN * );
NTSTATUS NTAPI RtlGetGroupSecurityDescriptor( PSECURITY_DESCRIPTOR, PSID *, BOOLEAN * );
NTSTATUS NTAPI RtlGetDaclSecurityDescriptor( PSECURITY_DESCRIPTOR, BOOLEAN *, PACL *, BOOLEAN * );
NTSTATUS NTAPI RtlGetSaclSecurityDescriptor( PSECURITY_DESCRIPTOR, BOOLEAN *, PACL *, BOOLEAN * );
#endif

/* FILE_ALLOCATED_RANGE_BUFFER, which not every SDK's winioctl.h has */
struct allocated_range
{
    LARGE_INTEGER offset;
    LARGE_INTEGER length;
};

/* Statuses meaning "this file system does not keep that kind of metadata". */
static BOOL is_unsupported( NTSTATUS status )
{
    return status == STATUS_NOT_IMPLEMENTED || status == STATUS_INVALID_DEVICE_REQUEST ||
           status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_PARAMETER ||
           status == STATUS_EAS_NOT_SUPPORTED || status == STATUS_NO_EAS_ON_FILE ||
           status == STATUS_NOT_A_REPARSE_POINT || status == STATUS_OBJECTID_NOT_FOUND ||
           status == STATUS_OBJECT_NAME_NOT_FOUND || status == STATUS_INVALID_INFO_CLASS;
}

static DWORD error_from_status( NTSTATUS status )
{
    return status ? RtlNtStatusToDosError( status ) : 0;
}

/* --------------------------------------------------------------------- */
/* source                                                                 */

/* The order of the streams: security, reparse data, data, EAs, named
 * streams, object id.  Reparse data comes before the data because readers
 * written against Windows' output take it there (go-winio's backuptar). */
enum source_stage
{
    STAGE_SECURITY,
    STAGE_REPARSE,
    STAGE_DATA,
    STAGE_SPARSE,       /* one SPARSE_BLOCK per allocated range, then the final one */
    STAGE_EA,
    STAGE_STREAMS,      /* one ALTERNATE_DATA per named stream */
    STAGE_OBJECT_ID,
    STAGE_DONE,
};

struct backup_nt_source
{
    HANDLE file;
    BOOL security;
    BOOL object_ids;                /* FSCTL_GET_OBJECT_ID reports only IDs the file really has */
    enum source_stage stage;
    ULONG attributes;               /* FILE_ATTRIBUTE_* of the file */
    ULONGLONG size;                 /* of the unnamed stream */
    HANDLE read_handle;             /* what read() reads: the file or the current named stream */
    HANDLE stream_handle;           /* the current named stream, closed at the next stage */
    BYTE *blob;                     /* payload of the current metadata stream */
    struct allocated_range *ranges;
    ULONG range_count, range_index;
    BOOL streams_listed;
    BYTE *streams;                  /* FILE_STREAM_INFORMATION list */
    ULONG stream_offset;            /* of the next entry; ~0u after the last */
    BYTE name[2 * 256 + 16];        /* ":name:$DATA" of the current named stream */
};

static void source_reset_stream( struct backup_nt_source *source )
{
    if (source->stream_handle) NtClose( source->stream_handle );
    source->stream_handle = NULL;
    source->read_handle = source->file;
    HeapFree( GetProcessHeap(), 0, source->blob );
    source->blob = NULL;
}

static NTSTATUS query_security( struct backup_nt_source *source, struct wb_source_stream *stream )
{
    SECURITY_INFORMATION info = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
                                DACL_SECURITY_INFORMATION;
    ULONG size = 256, needed;
    NTSTATUS status;

    for (;;)
    {
        if (!(source->blob = HeapAlloc( GetProcessHeap(), 0, size ))) return STATUS_NO_MEMORY;
        status = NtQuerySecurityObject( source->file, info | SACL_SECURITY_INFORMATION, source->blob, size, &needed );
        /* The SACL needs ACCESS_SYSTEM_SECURITY on the handle; go on without it. */
        if (status == STATUS_ACCESS_DENIED || status == STATUS_PRIVILEGE_NOT_HELD)
            status = NtQuerySecurityObject( source->file, info, source->blob, size, &needed );
        if (status != STATUS_BUFFER_TOO_SMALL || needed <= size || needed > WB_MAX_SECURITY_SIZE) break;
        HeapFree( GetProcessHeap(), 0, source->blob );
        source->blob = NULL;
        size = needed;
    }
    if (status) return status;
    stream->id = WB_BACKUP_SECURITY_DATA;
    stream->attributes = WB_STREAM_CONTAINS_SECURITY;
    stream->blob = source->blob;
    stream->blob_size = RtlLengthSecurityDescriptor( source->blob );
    return STATUS_SUCCESS;
}

static NTSTATUS query_eas( struct backup_nt_source *source, struct wb_source_stream *stream )
{
    FILE_EA_INFORMATION info;
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    status = NtQueryInformationFile( source->file, &io, &info, sizeof(info), FileEaInformation );
    if (status) return status;
    if (!info.EaSize) return STATUS_NO_EAS_ON_FILE;
    /* EaSize counts the packed list; the FILE_FULL_EA_INFORMATION one is at most that plus padding. */
    if (!(source->blob = HeapAlloc( GetProcessHeap(), 0, WB_MAX_EA_SIZE ))) return STATUS_NO_MEMORY;
    status = NtQueryEaFile( source->file, &io, source->blob, WB_MAX_EA_SIZE, FALSE, NULL, 0, NULL, TRUE );
    if (status) return status;
    stream->id = WB_BACKUP_EA_DATA;
    stream->blob = source->blob;
    stream->blob_size = io.Information;
    return io.Information ? STATUS_SUCCESS : STATUS_NO_EAS_ON_FILE;
}

static NTSTATUS query_fsctl( struct backup_nt_source *source, ULONG code, ULONG max, ULONG *size )
{
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    if (!(source->blob = HeapAlloc( GetProcessHeap(), 0, max ))) return STATUS_NO_MEMORY;
    status = NtFsControlFile( source->file, NULL, NULL, NULL, &io, code, NULL, 0, source->blob, max );
    *size = io.Information;
    return status;
}

static NTSTATUS query_ranges( struct backup_nt_source *source )
{
    struct allocated_range query;
    IO_STATUS_BLOCK io;
    ULONG size = 16 * sizeof(*source->ranges);
    NTSTATUS status;

    query.offset.QuadPart = 0;
    query.length.QuadPart = source->size;
    for (;;)
    {
        HeapFree( GetProcessHeap(), 0, source->ranges );
        if (!(source->ranges = HeapAlloc( GetProcessHeap(), 0, size ))) return STATUS_NO_MEMORY;
        status = NtFsControlFile( source->file, NULL, NULL, NULL, &io, FSCTL_QUERY_ALLOCATED_RANGES,
                                  &query, sizeof(query), source->ranges, size );
        if (status != STATUS_BUFFER_OVERFLOW && status != STATUS_BUFFER_TOO_SMALL) break;
        if (size >= 64 * 1024 * 1024) return STATUS_NO_MEMORY;
        size *= 2;
    }
    source->range_count = status ? 0 : io.Information / sizeof(*source->ranges);
    source->range_index = 0;
    return status;
}

/* The next named stream other than the unnamed "::$DATA", or FALSE. */
static BOOL next_named_stream( struct backup_nt_source *source, struct wb_source_stream *stream )
{
    while (source->streams && source->stream_offset != ~0u)
    {
        FILE_STREAM_INFORMATION *info = (FILE_STREAM_INFORMATION *)(source->streams + source->stream_offset);
        source->stream_offset = info->NextEntryOffset ? source->stream_offset + info->NextEntryOffset : ~0u;
        if (info->StreamNameLength == 7 * sizeof(WCHAR) && !memcmp( info->StreamName, L"::$DATA", 14 )) continue;
        if (info->StreamNameLength > sizeof(source->name)) continue;
        memcpy( source->name, info->StreamName, info->StreamNameLength );
        stream->id = WB_BACKUP_ALTERNATE_DATA;
        stream->name = source->name;
        stream->name_size = info->StreamNameLength;
        stream->data_size = info->StreamSize.QuadPart;
        return TRUE;
    }
    return FALSE;
}

static NTSTATUS open_named_stream( HANDLE file, const BYTE *name, ULONG name_size, BOOL write, HANDLE *handle )
{
    UNICODE_STRING str;
    OBJECT_ATTRIBUTES attr;
    IO_STATUS_BLOCK io;

    str.Buffer = (WCHAR *)name;
    str.Length = str.MaximumLength = name_size;
    InitializeObjectAttributes( &attr, &str, OBJ_CASE_INSENSITIVE, file, NULL );
    return NtCreateFile( handle, (write ? GENERIC_WRITE : GENERIC_READ) | SYNCHRONIZE, &attr, &io, NULL,
                         FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         write ? FILE_OVERWRITE_IF : FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE,
                         NULL, 0 );
}

static NTSTATUS list_streams( struct backup_nt_source *source )
{
    IO_STATUS_BLOCK io;
    ULONG size = 4096;
    NTSTATUS status;

    for (;;)
    {
        if (!(source->streams = HeapAlloc( GetProcessHeap(), 0, size ))) return STATUS_NO_MEMORY;
        status = NtQueryInformationFile( source->file, &io, source->streams, size, FileStreamInformation );
        if (status != STATUS_BUFFER_OVERFLOW && status != STATUS_BUFFER_TOO_SMALL) break;
        HeapFree( GetProcessHeap(), 0, source->streams );
        source->streams = NULL;
        if (size >= 16 * 1024 * 1024) return STATUS_NO_MEMORY;
        size *= 2;
    }
    if (status || !io.Information)
    {
        HeapFree( GetProcessHeap(), 0, source->streams );
        source->streams = NULL;
    }
    source->stream_offset = 0;
    return status;
}

static uint32_t source_next( void *opaque, struct wb_source_stream *stream )
{
    struct backup_nt_source *source = opaque;
    NTSTATUS status;
    ULONG size;

    source_reset_stream( source );
    memset( stream, 0, sizeof(*stream) );
    for (;;)
    {
        switch (source->stage)
        {
        case STAGE_SECURITY:
            source->stage = STAGE_REPARSE;
            if (!source->security) break;
            status = query_security( source, stream );
            if (!status) return WB_OK;
            if (!is_unsupported( status )) return error_from_status( status );
            source_reset_stream( source );
            break;

        case STAGE_DATA:
            source->stage = STAGE_EA;
            if (source->attributes & FILE_ATTRIBUTE_DIRECTORY) break;
            if ((source->attributes & FILE_ATTRIBUTE_SPARSE_FILE) && !query_ranges( source ) &&
                !(source->range_count == 1 && !source->ranges[0].offset.QuadPart &&
                  (ULONGLONG)source->ranges[0].length.QuadPart >= source->size))
            {
                /* the header of a sparse file: size 0, the ranges follow as SPARSE_BLOCKs */
                source->stage = STAGE_SPARSE;
                stream->id = WB_BACKUP_DATA;
                stream->attributes = WB_STREAM_SPARSE_ATTRIBUTE;
                return WB_OK;
            }
            if (!source->size) break;
            stream->id = WB_BACKUP_DATA;
            stream->data_size = source->size;
            return WB_OK;

        case STAGE_SPARSE:
            stream->id = WB_BACKUP_SPARSE_BLOCK;
            stream->attributes = WB_STREAM_SPARSE_ATTRIBUTE;
            if (source->range_index < source->range_count)
            {
                const struct allocated_range *range = &source->ranges[source->range_index++];
                ULONGLONG end = range->offset.QuadPart + range->length.QuadPart;
                stream->data_offset = range->offset.QuadPart;
                stream->data_size = (end > source->size ? source->size : end) - range->offset.QuadPart;
                return WB_OK;
            }
            /* the final block carries the file length */
            source->stage = STAGE_EA;
            stream->data_offset = source->size;
            return WB_OK;

        case STAGE_EA:
            source->stage = STAGE_STREAMS;
            status = query_eas( source, stream );
            if (!status) return WB_OK;
            if (!is_unsupported( status )) return error_from_status( status );
            source_reset_stream( source );
            break;

        case STAGE_STREAMS:
            if (!source->streams_listed)
            {
                source->streams_listed = TRUE;
                if ((status = list_streams( source )) && !is_unsupported( status ))
                    return error_from_status( status );
            }
            if (!next_named_stream( source, stream ))
            {
                source->stage = STAGE_OBJECT_ID;
                break;
            }
            status = open_named_stream( source->file, stream->name, stream->name_size, FALSE, &source->stream_handle );
            if (status)
            {
                source->stream_handle = NULL;
                return error_from_status( status );
            }
            source->read_handle = source->stream_handle;
            return WB_OK;

        case STAGE_REPARSE:
            source->stage = STAGE_DATA;
            if (!(source->attributes & FILE_ATTRIBUTE_REPARSE_POINT)) break;
            status = query_fsctl( source, FSCTL_GET_REPARSE_POINT, WB_MAX_REPARSE_SIZE, &size );
            if (!status)
            {
                stream->id = WB_BACKUP_REPARSE_DATA;
                stream->blob = source->blob;
                stream->blob_size = size;
                return WB_OK;
            }
            if (!is_unsupported( status )) return error_from_status( status );
            source_reset_stream( source );
            break;

        case STAGE_OBJECT_ID:
            source->stage = STAGE_DONE;
            if (!source->object_ids) break;
            status = query_fsctl( source, FSCTL_GET_OBJECT_ID, WB_OBJECT_ID_SIZE, &size );
            if (!status && size == WB_OBJECT_ID_SIZE)
            {
                stream->id = WB_BACKUP_OBJECT_ID;
                stream->blob = source->blob;
                stream->blob_size = size;
                return WB_OK;
            }
            if (status && !is_unsupported( status )) return error_from_status( status );
            source_reset_stream( source );
            break;

        case STAGE_DONE:
            return WB_ERROR_NO_MORE_ITEMS;
        }
    }
}

static uint32_t source_read( void *opaque, uint64_t offset, void *buffer, uint32_t size, uint32_t *done )
{
    struct backup_nt_source *source = opaque;
    IO_STATUS_BLOCK io;
    LARGE_INTEGER pos;
    NTSTATUS status;

    *done = 0;
    while (*done < size)
    {
        pos.QuadPart = offset + *done;
        status = NtReadFile( source->read_handle, NULL, NULL, NULL, &io, (BYTE *)buffer + *done,
                             size - *done, &pos, NULL );
        if (status == STATUS_END_OF_FILE) break;
        if (status) return error_from_status( status );
        if (!io.Information) break;
        *done += io.Information;
    }
    return WB_OK;
}

const struct wb_source_ops backup_nt_source_ops = { source_next, source_read };

DWORD backup_nt_source_open( HANDLE file, BOOL security, BOOL object_ids, struct backup_nt_source **ret )
{
    struct backup_nt_source *source;
    FILE_STANDARD_INFORMATION std;
    FILE_BASIC_INFORMATION basic;
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    if ((status = NtQueryInformationFile( file, &io, &basic, sizeof(basic), FileBasicInformation )))
        return error_from_status( status );
    if ((status = NtQueryInformationFile( file, &io, &std, sizeof(std), FileStandardInformation )))
        return error_from_status( status );
    if (!(source = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*source) )))
        return ERROR_NOT_ENOUGH_MEMORY;
    source->file = source->read_handle = file;
    source->security = security;
    source->object_ids = object_ids;
    source->attributes = basic.FileAttributes;
    source->size = std.Directory ? 0 : std.EndOfFile.QuadPart;
    source->stage = STAGE_SECURITY;
    *ret = source;
    return 0;
}

void backup_nt_source_close( struct backup_nt_source *source )
{
    source_reset_stream( source );
    HeapFree( GetProcessHeap(), 0, source->ranges );
    HeapFree( GetProcessHeap(), 0, source->streams );
    HeapFree( GetProcessHeap(), 0, source );
}

/* --------------------------------------------------------------------- */
/* sink                                                                   */

struct backup_nt_sink
{
    HANDLE file;
    BOOL security;
    BOOL sparse;                    /* FSCTL_SET_SPARSE done */
    struct wb_sink_stream stream;   /* the current one */
    HANDLE write_handle;            /* the file, the current named stream, or NULL: drop the payload */
    HANDLE stream_handle;
};

static NTSTATUS set_sparse( struct backup_nt_sink *sink )
{
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    if (sink->sparse) return STATUS_SUCCESS;
    status = NtFsControlFile( sink->file, NULL, NULL, NULL, &io, FSCTL_SET_SPARSE, NULL, 0, NULL, 0 );
    sink->sparse = TRUE;
    /* a file system without sparse files still gets the right bytes, with zeros written out */
    return is_unsupported( status ) ? STATUS_SUCCESS : status;
}

static NTSTATUS set_end_of_file( HANDLE file, ULONGLONG size )
{
    LARGE_INTEGER eof;
    IO_STATUS_BLOCK io;

    eof.QuadPart = size;
    return NtSetInformationFile( file, &io, &eof, sizeof(eof), FileEndOfFileInformation );
}

static uint32_t sink_begin( void *opaque, const struct wb_sink_stream *stream )
{
    struct backup_nt_sink *sink = opaque;
    NTSTATUS status = STATUS_SUCCESS;

    sink->stream = *stream;
    sink->write_handle = NULL;
    switch (stream->id)
    {
    case WB_BACKUP_DATA:
        if (stream->attributes & WB_STREAM_SPARSE_ATTRIBUTE) status = set_sparse( sink );
        sink->write_handle = sink->file;
        break;
    case WB_BACKUP_SPARSE_BLOCK:
        if ((status = set_sparse( sink ))) break;
        if (!stream->data_size) status = set_end_of_file( sink->file, stream->sparse_offset );
        sink->write_handle = sink->file;
        break;
    case WB_BACKUP_ALTERNATE_DATA:
    {
        WCHAR name[WB_MAX_STREAM_NAME_CHARS + 8];
        ULONG len = 0;
        name[len++] = ':';
        memcpy( name + len, stream->name, stream->name_chars * sizeof(WCHAR) );
        len += stream->name_chars;
        memcpy( name + len, L":$DATA", 6 * sizeof(WCHAR) );
        len += 6;
        status = open_named_stream( sink->file, (const BYTE *)name, len * sizeof(WCHAR), TRUE, &sink->stream_handle );
        if (status) sink->stream_handle = NULL;
        sink->write_handle = sink->stream_handle;
        break;
    }
    default:
        /* metadata arrives whole in one write(); the rest is dropped as BackupWrite does */
        break;
    }
    return error_from_status( status );
}

static NTSTATUS apply_security( struct backup_nt_sink *sink, const void *buffer, uint32_t size )
{
    SECURITY_INFORMATION info = 0;
    PSID sid;
    PACL acl;
    BOOLEAN present, defaulted;

    if (!RtlValidSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer ) ||
        RtlLengthSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer ) > size)
        return STATUS_INVALID_SECURITY_DESCR;
    if (!RtlGetOwnerSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer, &sid, &defaulted ) && sid)
        info |= OWNER_SECURITY_INFORMATION;
    if (!RtlGetGroupSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer, &sid, &defaulted ) && sid)
        info |= GROUP_SECURITY_INFORMATION;
    if (!RtlGetDaclSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer, &present, &acl, &defaulted ) && present)
        info |= DACL_SECURITY_INFORMATION;
    if (!RtlGetSaclSecurityDescriptor( (PSECURITY_DESCRIPTOR)buffer, &present, &acl, &defaulted ) && present)
        info |= SACL_SECURITY_INFORMATION;
    return NtSetSecurityObject( sink->file, info, (PSECURITY_DESCRIPTOR)buffer );
}

static NTSTATUS apply_link( struct backup_nt_sink *sink, const void *buffer, uint32_t size )
{
    const WCHAR *path = buffer;
    UNICODE_STRING nt_name;
    FILE_LINK_INFORMATION *info;
    IO_STATUS_BLOCK io;
    ULONG info_size;
    NTSTATUS status;

    /* the payload is a NUL-terminated Win32 path */
    if (size < 2 * sizeof(WCHAR) || size % sizeof(WCHAR) || path[size / sizeof(WCHAR) - 1] ||
        wcslen( path ) != size / sizeof(WCHAR) - 1)
        return STATUS_INVALID_PARAMETER;
    if (!RtlDosPathNameToNtPathName_U( path, &nt_name, NULL, NULL )) return STATUS_OBJECT_NAME_INVALID;
    info_size = FIELD_OFFSET( FILE_LINK_INFORMATION, FileName ) + nt_name.Length;
    if (!(info = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, info_size )))
    {
        RtlFreeUnicodeString( &nt_name );
        return STATUS_NO_MEMORY;
    }
    /* the KB CreateHardLink sample: an existing link name "will be overwritten" */
    info->ReplaceIfExists = TRUE;
    info->RootDirectory = NULL;
    info->FileNameLength = nt_name.Length;
    memcpy( info->FileName, nt_name.Buffer, nt_name.Length );
    status = NtSetInformationFile( sink->file, &io, info, info_size, FileLinkInformation );
    HeapFree( GetProcessHeap(), 0, info );
    RtlFreeUnicodeString( &nt_name );
    return status;
}

static uint32_t sink_write( void *opaque, uint64_t offset, const void *buffer, uint32_t size )
{
    struct backup_nt_sink *sink = opaque;
    IO_STATUS_BLOCK io;
    NTSTATUS status = STATUS_SUCCESS;

    switch (sink->stream.id)
    {
    case WB_BACKUP_SECURITY_DATA:
        if (sink->security) status = apply_security( sink, buffer, size );
        break;
    case WB_BACKUP_EA_DATA:
        status = NtSetEaFile( sink->file, &io, (void *)buffer, size );
        break;
    case WB_BACKUP_REPARSE_DATA:
        status = NtFsControlFile( sink->file, NULL, NULL, NULL, &io, FSCTL_SET_REPARSE_POINT,
                                  (void *)buffer, size, NULL, 0 );
        break;
    case WB_BACKUP_OBJECT_ID:
        status = NtFsControlFile( sink->file, NULL, NULL, NULL, &io, FSCTL_SET_OBJECT_ID,
                                  (void *)buffer, size, NULL, 0 );
        break;
    case WB_BACKUP_LINK:
        status = apply_link( sink, buffer, size );
        break;
    default:
        if (sink->write_handle)
        {
            LARGE_INTEGER pos;
            const BYTE *p = buffer;
            while (size)
            {
                pos.QuadPart = offset;
                status = NtWriteFile( sink->write_handle, NULL, NULL, NULL, &io, p, size, &pos, NULL );
                if (status) break;
                if (!io.Information) return ERROR_WRITE_FAULT;
                p += io.Information;
                offset += io.Information;
                size -= io.Information;
            }
        }
        break;
    }
    return error_from_status( status );
}

static uint32_t sink_end( void *opaque )
{
    struct backup_nt_sink *sink = opaque;

    if (sink->stream_handle) NtClose( sink->stream_handle );
    sink->stream_handle = sink->write_handle = NULL;
    return WB_OK;
}

const struct wb_sink_ops backup_nt_sink_ops = { sink_begin, sink_write, sink_end };

DWORD backup_nt_sink_open( HANDLE file, BOOL security, struct backup_nt_sink **ret )
{
    struct backup_nt_sink *sink;

    if (!(sink = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*sink) ))) return ERROR_NOT_ENOUGH_MEMORY;
    sink->file = file;
    sink->security = security;
    *ret = sink;
    return 0;
}

DWORD backup_nt_sink_finish( struct backup_nt_sink *sink )
{
    /* every stream is applied as it arrives; nothing is deferred */
    return 0;
}

void backup_nt_sink_close( struct backup_nt_sink *sink )
{
    if (sink->stream_handle) NtClose( sink->stream_handle );
    HeapFree( GetProcessHeap(), 0, sink );
}
