/*
 * Encoder: the state machine behind BackupRead and BackupSeek.
 *
 * One wb_encoder holds the whole state of one backup of one file, the way
 * sqlite3_backup holds a long operation: read() advances it by at most the
 * caller's buffer and can be called again; free() ends it on any path.
 *
 * States, in order for every stream the source describes:
 *
 *   NEXT  -> ask the source for the next stream (or finish: DONE)
 *   HEAD  -> emit the 20-byte header and the name (head[], head_pos/head_size)
 *   BODY  -> emit the payload (body_pos/body_size): for a sparse block the
 *            8-byte offset first (prefix[]), then the blob or the file range
 *   DONE  -> every read returns 0 bytes
 *
 * Invariants: head_pos <= head_size; body_pos <= body_size; BODY is entered
 * only once the whole header went out, so BackupSeek (which may only move
 * inside the current payload) is legal exactly in BODY.  A read fills the
 * whole buffer, across stream boundaries, unless the backup ends or an
 * error comes: programs written for Windows read a payload with one
 * BackupRead of its size and do not look at the count (AmsiScanner's stream
 * lister), as they would with ReadFile.  Errors are not sticky, so a caller
 * may skip unreadable data with seek and go on, as BackupRead allows.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/stream.h"
#include "le.h"

enum encoder_state { ENC_NEXT, ENC_HEAD, ENC_BODY, ENC_DONE };

/* Large file reads start on a page boundary of the FILE offset.  Without
 * this, every read after a 20-byte header starts 20 bytes past a page
 * boundary and the kernel's copy out of the page cache gets ~13% slower
 * (`make bench`: BackupRead/read 0.87 vs 0.98-1.18 for a plain read shifted
 * by 20 bytes).  A read of at least ALIGN_MIN bytes that starts elsewhere is
 * split: up to the next page boundary, then the rest from there.  The call
 * still fills the caller's buffer. */
#define ALIGN_PAGE 4096u
#define ALIGN_MIN  (16u * 1024u)

struct wb_encoder
{
    const struct wb_source_ops *ops;
    void *source;
    enum encoder_state state;
    struct wb_source_stream stream;         /* the current stream, as the source described it */
    uint8_t head[WB_STREAM_HEADER_SIZE + WB_MAX_STREAM_NAME_BYTES];
    uint32_t head_size;
    uint32_t head_pos;
    uint8_t prefix[8];                      /* sparse block offset, LE */
    uint32_t prefix_size;
    uint64_t body_size;                     /* payload bytes: prefix + blob or file range */
    uint64_t body_pos;
};

struct wb_encoder *wb_encoder_new(const struct wb_source_ops *ops, void *source)
{
    struct wb_encoder *encoder;

    if (!ops || !ops->next || !ops->read) return NULL;
    if (!(encoder = calloc(1, sizeof(*encoder)))) return NULL;
    encoder->ops = ops;
    encoder->source = source;
    encoder->state = ENC_NEXT;
    return encoder;
}

void wb_encoder_free(struct wb_encoder *encoder)
{
    free(encoder);
}

/* Turn the source's description into header bytes and payload bounds. */
static uint32_t start_stream(struct wb_encoder *encoder)
{
    const struct wb_source_stream *stream = &encoder->stream;
    struct wb_stream_header header;
    uint64_t payload;

    if (stream->name_size > WB_MAX_STREAM_NAME_BYTES || stream->name_size % 2 ||
        (stream->name_size && !stream->name))
        return WB_ERROR_INVALID_PARAMETER;

    payload = stream->blob ? stream->blob_size : stream->data_size;
    encoder->prefix_size = 0;
    if (stream->id == WB_BACKUP_SPARSE_BLOCK)
    {
        if (stream->blob || stream->data_offset > WB_MAX_FILE_OFFSET ||
            stream->data_size > WB_MAX_FILE_OFFSET - stream->data_offset)
            return WB_ERROR_INVALID_PARAMETER;
        put_u64(encoder->prefix, stream->data_offset);
        encoder->prefix_size = 8;
    }
    if (payload > WB_MAX_FILE_OFFSET) return WB_ERROR_INVALID_PARAMETER;

    header.id = stream->id;
    header.attributes = stream->attributes;
    header.size = payload + encoder->prefix_size;
    header.name_size = stream->name_size;
    wb_stream_header_pack(&header, encoder->head);
    if (stream->name_size) memcpy(encoder->head + WB_STREAM_HEADER_SIZE, stream->name, stream->name_size);
    encoder->head_size = WB_STREAM_HEADER_SIZE + stream->name_size;
    encoder->head_pos = 0;
    encoder->body_size = header.size;
    encoder->body_pos = 0;
    encoder->state = ENC_HEAD;
    return WB_OK;
}

/* Copy up to `size` payload bytes of the current stream into out. */
static uint32_t read_body(struct wb_encoder *encoder, uint8_t *out, uint32_t size, uint32_t *done)
{
    const struct wb_source_stream *stream = &encoder->stream;
    uint64_t left = encoder->body_size - encoder->body_pos;
    uint64_t pos;
    uint32_t want, got = 0, status;

    if (size > left) size = (uint32_t)left;
    *done = 0;
    if (encoder->body_pos < encoder->prefix_size)
    {
        want = encoder->prefix_size - (uint32_t)encoder->body_pos;
        if (want > size) want = size;
        memcpy(out, encoder->prefix + encoder->body_pos, want);
        *done = want;
        return WB_OK;
    }
    pos = encoder->body_pos - encoder->prefix_size;
    if (stream->blob)
    {
        memcpy(out, stream->blob + pos, size);
        *done = size;
        return WB_OK;
    }
    if (size >= ALIGN_MIN)
    {
        uint64_t start = stream->data_offset + pos;
        uint32_t to_boundary = (uint32_t)(-start & (ALIGN_PAGE - 1));
        if (to_boundary) size = to_boundary;     /* the rest comes aligned, in the next round */
    }
    status = encoder->ops->read(encoder->source, stream->data_offset + pos, out, size, &got);
    if (status) return status;
    if (got > size) return WB_ERROR_INVALID_PARAMETER;
    /* The header already promised body_size bytes: a file that shrank while
     * it was read cannot be represented any more. */
    if (!got && size) return WB_ERROR_HANDLE_EOF;
    *done = got;
    return WB_OK;
}

/* In BODY past the sparse offset, reading from the file (not a blob). */
static int at_file_range(const struct wb_encoder *encoder)
{
    return encoder->state == ENC_BODY && !encoder->stream.blob && encoder->body_pos >= encoder->prefix_size &&
           encoder->body_pos < encoder->body_size;
}

/* stop_at_range: return as soon as the next bytes would come from the file,
 * so that the caller can move them without copying (wb_encoder_data_range). */
static uint32_t encoder_read(struct wb_encoder *encoder, void *buffer, uint32_t size, uint32_t *done, int stop_at_range)
{
    uint8_t *out = buffer;
    uint32_t filled = 0, status = WB_OK, chunk;

    if (!encoder || !done || (size && !buffer)) return WB_ERROR_INVALID_PARAMETER;

    while (filled < size && encoder->state != ENC_DONE)
    {
        if (stop_at_range && at_file_range(encoder)) break;
        switch (encoder->state)
        {
        case ENC_NEXT:
            memset(&encoder->stream, 0, sizeof(encoder->stream));
            status = encoder->ops->next(encoder->source, &encoder->stream);
            if (status == WB_ERROR_NO_MORE_ITEMS)
            {
                encoder->state = ENC_DONE;
                status = WB_OK;
                break;
            }
            if (!status) status = start_stream(encoder);
            break;

        case ENC_HEAD:
            chunk = encoder->head_size - encoder->head_pos;
            if (chunk > size - filled) chunk = size - filled;
            memcpy(out + filled, encoder->head + encoder->head_pos, chunk);
            encoder->head_pos += chunk;
            filled += chunk;
            if (encoder->head_pos == encoder->head_size)
                encoder->state = encoder->body_size ? ENC_BODY : ENC_NEXT;
            break;

        case ENC_BODY:
            /* the prefix, a part up to a page boundary, or all the file had
             * left: the loop goes on until the buffer is full, and a file
             * that ended early fails on the next round (HANDLE_EOF) */
            status = read_body(encoder, out + filled, size - filled, &chunk);
            encoder->body_pos += chunk;
            filled += chunk;
            assert(encoder->body_pos <= encoder->body_size);
            if (encoder->body_pos == encoder->body_size) encoder->state = ENC_NEXT;
            break;

        case ENC_DONE:
            break;
        }
        if (status) break;
    }

    *done = filled;
    /* Bytes already copied are handed out first; the error comes back on the
     * next call, from the same position, like a short ReadFile. */
    return filled ? WB_OK : status;
}

uint32_t wb_encoder_read(struct wb_encoder *encoder, void *buffer, uint32_t size, uint32_t *done)
{
    return encoder_read(encoder, buffer, size, done, 0);
}

uint32_t wb_encoder_read_to_range(struct wb_encoder *encoder, void *buffer, uint32_t size, uint32_t *done)
{
    return encoder_read(encoder, buffer, size, done, 1);
}

int wb_encoder_data_range(const struct wb_encoder *encoder, uint64_t *offset, uint64_t *length)
{
    if (!encoder || !offset || !length || !at_file_range(encoder)) return 0;
    *offset = encoder->stream.data_offset + (encoder->body_pos - encoder->prefix_size);
    *length = encoder->body_size - encoder->body_pos;
    return 1;
}

uint32_t wb_encoder_seek(struct wb_encoder *encoder, uint64_t distance, uint64_t *skipped)
{
    uint64_t left;

    if (!encoder || !skipped) return WB_ERROR_INVALID_PARAMETER;
    *skipped = 0;
    if (!distance) return WB_OK;
    if (encoder->state != ENC_BODY) return WB_ERROR_SEEK;

    left = encoder->body_size - encoder->body_pos;
    if (distance < left)
    {
        encoder->body_pos += distance;
        *skipped = distance;
        return WB_OK;
    }
    /* Past (or exactly to) the end: stop at the end of this stream.  Asking
     * for exactly what is left is a complete seek, anything more is not. */
    encoder->body_pos = encoder->body_size;
    encoder->state = ENC_NEXT;
    *skipped = left;
    return distance == left ? WB_OK : WB_ERROR_SEEK;
}
