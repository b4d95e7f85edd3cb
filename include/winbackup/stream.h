/*
 * The WIN32_STREAM_ID backup stream format ([MS-BKUP], winbase.h) and the
 * portable codec behind BackupRead / BackupSeek / BackupWrite.
 *
 * No OS calls here: the same code is built natively, with mingw-w64 and
 * inside a Wine tree.  Bytes come from a *source* and go to a *sink*, both
 * small callback tables filled by a backend (POSIX files, NT handles).
 *
 * On the wire every stream is a 20-byte little-endian header, the stream name
 * (UTF-16LE, not NUL-terminated) and the payload; streams follow each other
 * with no padding.  sizeof(WIN32_STREAM_ID) is 24 because of alignment, but
 * the name starts at offset 20: never use sizeof.
 */
#ifndef WINBACKUP_STREAM_H
#define WINBACKUP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "winbackup/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_STREAM_HEADER_SIZE 20u

/* dwStreamId values (winbase.h / winnt.h) */
#define WB_BACKUP_INVALID               0x00000000u
#define WB_BACKUP_DATA                  0x00000001u
#define WB_BACKUP_EA_DATA               0x00000002u
#define WB_BACKUP_SECURITY_DATA         0x00000003u
#define WB_BACKUP_ALTERNATE_DATA        0x00000004u
#define WB_BACKUP_LINK                  0x00000005u
#define WB_BACKUP_PROPERTY_DATA         0x00000006u
#define WB_BACKUP_OBJECT_ID             0x00000007u
#define WB_BACKUP_REPARSE_DATA          0x00000008u
#define WB_BACKUP_SPARSE_BLOCK          0x00000009u
#define WB_BACKUP_TXFS_DATA             0x0000000au
#define WB_BACKUP_GHOSTED_FILE_EXTENTS  0x0000000bu

/* dwStreamAttributes flags */
#define WB_STREAM_NORMAL_ATTRIBUTE              0x00000000u
#define WB_STREAM_MODIFIED_WHEN_READ            0x00000001u
#define WB_STREAM_CONTAINS_SECURITY             0x00000002u
#define WB_STREAM_CONTAINS_PROPERTIES           0x00000004u
#define WB_STREAM_SPARSE_ATTRIBUTE              0x00000008u
#define WB_STREAM_CONTAINS_GHOSTED_FILE_EXTENTS 0x00000010u

/* Limits the decoder enforces before it buffers anything. */
#define WB_MAX_STREAM_NAME_CHARS   255u   /* NTFS name limit, without ":" and ":$DATA" */
#define WB_MAX_STREAM_NAME_BYTES   ((WB_MAX_STREAM_NAME_CHARS + 7u) * 2u)
#define WB_MAX_SECURITY_SIZE       (256u * 1024u)
#define WB_MAX_EA_SIZE             (64u * 1024u)     /* NTFS limit on a file's EA set */
#define WB_MAX_REPARSE_SIZE        (16u * 1024u)     /* MAXIMUM_REPARSE_DATA_BUFFER_SIZE */
#define WB_OBJECT_ID_SIZE          64u               /* FILE_OBJECTID_BUFFER */
#define WB_MAX_LINK_SIZE           (32768u * 2u)     /* UNICODE_STRING limit, NUL included */
#define WB_MAX_FILE_OFFSET         0x7fffffffffffffffull

struct wb_stream_header
{
    uint32_t id;
    uint32_t attributes;
    uint64_t size;          /* payload bytes; the name is not included */
    uint32_t name_size;     /* bytes of UTF-16LE name */
};

void wb_stream_header_pack(const struct wb_stream_header *header, uint8_t out[WB_STREAM_HEADER_SIZE]);
void wb_stream_header_unpack(const uint8_t in[WB_STREAM_HEADER_SIZE], struct wb_stream_header *header);
const char *wb_stream_id_name(uint32_t id);   /* "BACKUP_DATA", ..., or NULL when unknown */

/*
 * Source: what BackupRead encodes.  next() describes the next stream; the
 * description (and the memory it points to) stays valid until the following
 * next() call or until the encoder is freed.
 *
 * The payload of a stream is `blob` when it is not NULL (security
 * descriptors, EAs, reparse data, named streams kept in xattrs), otherwise
 * `data_size` bytes read through read() from `data_offset` on.  For
 * WB_BACKUP_SPARSE_BLOCK the encoder itself emits the 8-byte LE offset
 * (= data_offset) in front of the range; a final block with data_size 0 and
 * data_offset = file size gives the restorer the file length.
 */
struct wb_source_stream
{
    uint32_t id;
    uint32_t attributes;
    const uint8_t *name;        /* UTF-16LE, name_size bytes (":name:$DATA" for ADS) */
    uint32_t name_size;
    const uint8_t *blob;
    uint64_t blob_size;
    uint64_t data_offset;
    uint64_t data_size;
};

struct wb_source_ops
{
    /* WB_OK with *stream filled, WB_ERROR_NO_MORE_ITEMS after the last one, or an error */
    uint32_t (*next)(void *source, struct wb_source_stream *stream);
    /* read up to size bytes at offset; *done < size only at end of file */
    uint32_t (*read)(void *source, uint64_t offset, void *buffer, uint32_t size, uint32_t *done);
};

struct wb_encoder;

struct wb_encoder *wb_encoder_new(const struct wb_source_ops *ops, void *source);
/* Fill up to size bytes (any size from 1 up); *done == 0 with WB_OK: end of the backup. */
uint32_t wb_encoder_read(struct wb_encoder *encoder, void *buffer, uint32_t size, uint32_t *done);
/* Zero-copy helpers for callers that own the file behind the source (the
 * native whole-file backup): wb_encoder_read_to_range reads like
 * wb_encoder_read but stops where the next bytes would come from the file
 * through read(); wb_encoder_data_range then gives that range (the offset in
 * the file and the bytes left in this payload), which the caller may move
 * itself (sendfile, copy_file_range) and pass with wb_encoder_seek.
 * wb_encoder_data_range returns 0 when the next bytes are not such a range. */
uint32_t wb_encoder_read_to_range(struct wb_encoder *encoder, void *buffer, uint32_t size, uint32_t *done);
int wb_encoder_data_range(const struct wb_encoder *encoder, uint64_t *offset, uint64_t *length);
/* BackupSeek: skip forward inside the current stream's payload only.  Asking
 * for more than is left skips to the end of the stream, reports the bytes
 * skipped and returns WB_ERROR_SEEK; the next read starts at the next header. */
uint32_t wb_encoder_seek(struct wb_encoder *encoder, uint64_t distance, uint64_t *skipped);
void wb_encoder_free(struct wb_encoder *encoder);

/*
 * Sink: what BackupWrite drives.  For each stream, begin() once, write() for
 * the payload, end() once the payload is complete.
 *
 * Payload delivery by stream kind:
 *  - DATA, ALTERNATE_DATA: write() calls in order, offset = position in the
 *    payload (= file offset for DATA); chunks of any size.
 *  - SPARSE_BLOCK: the decoder strips the 8-byte offset; stream->sparse_offset
 *    holds it and write() offsets are FILE offsets; data_size may be 0 (the
 *    final block: set the file length to sparse_offset).
 *  - SECURITY_DATA, EA_DATA, REPARSE_DATA, OBJECT_ID, LINK: the decoder
 *    buffers the payload (bounded by the WB_MAX_* limits) and calls write()
 *    exactly once with all of it at offset 0 (or not at all when it is empty).
 *  - PROPERTY_DATA, TXFS_DATA, GHOSTED_FILE_EXTENTS: streamed like DATA.
 * SECURITY_DATA reaches the sink only when the decoder was created with
 * WB_DECODE_SECURITY; otherwise it is consumed and dropped, as BackupWrite does.
 */
struct wb_sink_stream
{
    uint32_t id;
    uint32_t attributes;
    uint64_t size;              /* header size (includes the 8 offset bytes of a sparse block) */
    uint64_t data_size;         /* payload bytes that write() will deliver */
    uint64_t sparse_offset;     /* SPARSE_BLOCK only */
    const uint16_t *name;       /* ALTERNATE_DATA: bare stream name (between ':' and ':$DATA'), host-endian */
    uint32_t name_chars;
};

struct wb_sink_ops
{
    uint32_t (*begin)(void *sink, const struct wb_sink_stream *stream);
    uint32_t (*write)(void *sink, uint64_t offset, const void *buffer, uint32_t size);
    uint32_t (*end)(void *sink);
};

#define WB_DECODE_SECURITY  0x1u

struct wb_decoder;

struct wb_decoder *wb_decoder_new(const struct wb_sink_ops *ops, void *sink, unsigned int flags);
/* Consume all of buffer (split anywhere).  The first error is sticky: later
 * calls return it again and consume nothing. */
uint32_t wb_decoder_write(struct wb_decoder *decoder, const void *buffer, size_t size);
/* BackupSeek on a restore: skip forward inside the current stream's payload
 * (the skipped bytes are not written: zeros).  More than is left stops at the
 * end of the stream, reports the bytes skipped and returns WB_ERROR_SEEK;
 * outside a payload nothing moves and it is WB_ERROR_SEEK. */
uint32_t wb_decoder_seek(struct wb_decoder *decoder, uint64_t distance, uint64_t *skipped);
/* Non-zero when the decoder sits between two streams (nothing half-read). */
int wb_decoder_at_boundary(const struct wb_decoder *decoder);
void wb_decoder_free(struct wb_decoder *decoder);

/* Validate an ALTERNATE_DATA stream name ":name:$DATA" or ":name" (UTF-16LE bytes).  On
 * success the bare name starts at *start and has *chars characters. */
uint32_t wb_validate_stream_name(const uint8_t *name, uint32_t name_size, uint32_t *start, uint32_t *chars);

#ifdef __cplusplus
}
#endif

#endif
