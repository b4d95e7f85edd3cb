/*
 * Decoder: the state machine behind BackupWrite.
 *
 * The caller feeds the stream in pieces split anywhere (hcsshim writes
 * through a 4096-byte buffer, tests write 1 byte at a time); every header is
 * validated before anything of its stream reaches the sink.  States:
 *
 *   HEAD     collect 20 header bytes, validate them
 *   NAME     collect name_size bytes, validate the ADS name
 *   OFFSET   collect the 8-byte offset of a sparse block
 *   STREAM   hand payload bytes to the sink as they come (DATA, ADS, sparse)
 *   BUFFER   collect a bounded metadata payload (SD, EAs, reparse, object id,
 *            link), then hand it to the sink in one write()
 *   SKIP     drop the payload (security data without WB_DECODE_SECURITY)
 *   FAILED   the first error, returned again by every later call
 *
 * Invariants: `have` counts the bytes of the current unit collected so far
 * and never exceeds that unit's size; begin() and end() pair up exactly once
 * per stream that reaches the sink; nothing is allocated beyond the WB_MAX_*
 * limits however large a header claims its stream to be.
 */
#include <stdlib.h>
#include <string.h>
#include "winbackup/stream.h"
#include "le.h"

enum decoder_state { DEC_HEAD, DEC_NAME, DEC_OFFSET, DEC_STREAM, DEC_BUFFER, DEC_SKIP, DEC_FAILED };

struct wb_decoder
{
    const struct wb_sink_ops *ops;
    void *sink;
    unsigned int flags;
    enum decoder_state state;
    uint32_t error;
    struct wb_stream_header header;
    struct wb_sink_stream stream;
    uint8_t unit[WB_STREAM_HEADER_SIZE + WB_MAX_STREAM_NAME_BYTES];  /* header, then name, then offset */
    uint32_t have;
    uint16_t name[WB_MAX_STREAM_NAME_CHARS + 1];
    uint8_t *blob;                          /* BUFFER state: payload collected so far */
    uint64_t payload_pos;                   /* payload bytes consumed in STREAM/BUFFER/SKIP */
    int in_sink;                            /* begin() called, end() not yet */
};

struct wb_decoder *wb_decoder_new(const struct wb_sink_ops *ops, void *sink, unsigned int flags)
{
    struct wb_decoder *decoder;

    if (!ops || !ops->begin || !ops->write || !ops->end) return NULL;
    if (!(decoder = calloc(1, sizeof(*decoder)))) return NULL;
    decoder->ops = ops;
    decoder->sink = sink;
    decoder->flags = flags;
    decoder->state = DEC_HEAD;
    return decoder;
}

void wb_decoder_free(struct wb_decoder *decoder)
{
    if (!decoder) return;
    free(decoder->blob);
    free(decoder);
}

int wb_decoder_at_boundary(const struct wb_decoder *decoder)
{
    return decoder && decoder->state == DEC_HEAD && decoder->have == 0;
}

static uint32_t fail(struct wb_decoder *decoder, uint32_t error)
{
    decoder->state = DEC_FAILED;
    decoder->error = error;
    return error;
}

/* Largest payload a buffered (metadata) stream may have; 0 for streamed ids. */
static uint64_t buffered_limit(uint32_t id)
{
    switch (id)
    {
    case WB_BACKUP_SECURITY_DATA: return WB_MAX_SECURITY_SIZE;
    case WB_BACKUP_EA_DATA: return WB_MAX_EA_SIZE;
    case WB_BACKUP_REPARSE_DATA: return WB_MAX_REPARSE_SIZE;
    case WB_BACKUP_OBJECT_ID: return WB_OBJECT_ID_SIZE;
    case WB_BACKUP_LINK: return WB_MAX_LINK_SIZE;
    default: return 0;
    }
}

static uint32_t check_header(const struct wb_stream_header *header)
{
    uint64_t limit;

    if (header->id == WB_BACKUP_INVALID || header->id > WB_BACKUP_GHOSTED_FILE_EXTENTS)
        return WB_ERROR_INVALID_DATA;
    if (header->size > WB_MAX_FILE_OFFSET) return WB_ERROR_INVALID_DATA;
    if (header->name_size % 2 || header->name_size > WB_MAX_STREAM_NAME_BYTES)
        return WB_ERROR_INVALID_DATA;
    /* Only named streams carry a name; a name anywhere else has no place to go. */
    if (header->id == WB_BACKUP_ALTERNATE_DATA ? !header->name_size : header->name_size != 0)
        return header->id == WB_BACKUP_ALTERNATE_DATA ? WB_ERROR_INVALID_NAME : WB_ERROR_INVALID_DATA;

    if ((limit = buffered_limit(header->id)) && header->size > limit) return WB_ERROR_INVALID_DATA;
    switch (header->id)
    {
    case WB_BACKUP_OBJECT_ID:
        if (header->size != WB_OBJECT_ID_SIZE) return WB_ERROR_INVALID_DATA;
        break;
    case WB_BACKUP_LINK:
        /* UTF-16 path with its NUL: at least one character */
        if (header->size < 4 || header->size % 2) return WB_ERROR_INVALID_DATA;
        break;
    case WB_BACKUP_SPARSE_BLOCK:
        if (header->size < 8) return WB_ERROR_INVALID_DATA;
        break;
    }
    return WB_OK;
}

/* Header, name and offset are complete: tell the sink, choose the payload state. */
static uint32_t begin_stream(struct wb_decoder *decoder)
{
    struct wb_sink_stream *stream = &decoder->stream;
    uint32_t status;

    decoder->payload_pos = 0;
    if (stream->id == WB_BACKUP_SECURITY_DATA && !(decoder->flags & WB_DECODE_SECURITY))
    {
        decoder->state = DEC_SKIP;
        return WB_OK;
    }
    if ((status = decoder->ops->begin(decoder->sink, stream))) return status;
    decoder->in_sink = 1;
    if (buffered_limit(stream->id))
    {
        free(decoder->blob);
        decoder->blob = NULL;
        if (stream->data_size && !(decoder->blob = malloc((size_t)stream->data_size)))
            return WB_ERROR_NOT_ENOUGH_MEMORY;
        decoder->state = DEC_BUFFER;
    }
    else decoder->state = DEC_STREAM;
    return WB_OK;
}

/* The payload is complete: hand over a buffered blob, close the stream. */
static uint32_t end_stream(struct wb_decoder *decoder)
{
    uint32_t status = WB_OK;

    if (decoder->state == DEC_BUFFER && decoder->stream.data_size)
        status = decoder->ops->write(decoder->sink, 0, decoder->blob, (uint32_t)decoder->stream.data_size);
    free(decoder->blob);
    decoder->blob = NULL;
    if (decoder->in_sink)
    {
        uint32_t end_status = decoder->ops->end(decoder->sink);
        decoder->in_sink = 0;
        if (!status) status = end_status;
    }
    decoder->state = DEC_HEAD;
    decoder->have = 0;
    return status;
}

static uint32_t header_done(struct wb_decoder *decoder)
{
    struct wb_sink_stream *stream = &decoder->stream;
    uint32_t status;

    wb_stream_header_unpack(decoder->unit, &decoder->header);
    if ((status = check_header(&decoder->header))) return status;
    memset(stream, 0, sizeof(*stream));
    stream->id = decoder->header.id;
    stream->attributes = decoder->header.attributes;
    stream->size = decoder->header.size;
    stream->data_size = decoder->header.size;
    if (decoder->header.name_size)
    {
        decoder->state = DEC_NAME;
        return WB_OK;
    }
    if (stream->id == WB_BACKUP_SPARSE_BLOCK)
    {
        decoder->state = DEC_OFFSET;
        decoder->have = 0;
        return WB_OK;
    }
    return begin_stream(decoder);
}

static uint32_t name_done(struct wb_decoder *decoder)
{
    const uint8_t *name = decoder->unit + WB_STREAM_HEADER_SIZE;
    uint32_t start, chars, i, status;

    status = wb_validate_stream_name(name, decoder->header.name_size, &start, &chars);
    if (status) return status;
    for (i = 0; i < chars; i++)
        decoder->name[i] = get_u16(name + (start + i) * 2);
    decoder->name[chars] = 0;
    decoder->stream.name = decoder->name;
    decoder->stream.name_chars = chars;
    return begin_stream(decoder);
}

static uint32_t offset_done(struct wb_decoder *decoder)
{
    uint64_t offset = get_u64(decoder->unit);
    decoder->stream.data_size = decoder->header.size - 8;
    if (offset > WB_MAX_FILE_OFFSET || decoder->stream.data_size > WB_MAX_FILE_OFFSET - offset)
        return WB_ERROR_INVALID_DATA;
    decoder->stream.sparse_offset = offset;
    return begin_stream(decoder);
}

/* Collect into unit[] up to `want` bytes in total; returns bytes taken. */
static size_t collect(struct wb_decoder *decoder, uint32_t offset, uint32_t want, const uint8_t *in, size_t size)
{
    size_t take = want - decoder->have;
    if (take > size) take = size;
    memcpy(decoder->unit + offset + decoder->have, in, take);
    decoder->have += (uint32_t)take;
    return take;
}

/*
 * BackupSeek on a BackupWrite context: the documentation lets BackupSeek
 * move forward in a stream "initially accessed by using the BackupRead or
 * BackupWrite function".  As with BackupRead, it moves only inside the
 * current stream's payload: the skipped bytes are not written (a gap in a
 * data stream reads as zeros, a metadata payload gets zeros), the caller
 * goes on with the bytes after them, and asking for more than is left
 * stops at the end of the stream with WB_ERROR_SEEK.
 */
uint32_t wb_decoder_seek(struct wb_decoder *decoder, uint64_t distance, uint64_t *skipped)
{
    uint64_t left, step;
    uint32_t status;

    if (!decoder || !skipped) return WB_ERROR_INVALID_PARAMETER;
    *skipped = 0;
    if (decoder->state == DEC_FAILED) return decoder->error;
    if (!distance) return WB_OK;
    if (decoder->state != DEC_STREAM && decoder->state != DEC_BUFFER && decoder->state != DEC_SKIP)
        return WB_ERROR_SEEK;
    left = decoder->stream.data_size - decoder->payload_pos;
    step = distance < left ? distance : left;
    if (decoder->state == DEC_BUFFER) memset(decoder->blob + decoder->payload_pos, 0, (size_t)step);
    decoder->payload_pos += step;
    *skipped = step;
    if (decoder->payload_pos == decoder->stream.data_size && (status = end_stream(decoder)))
    {
        if (decoder->in_sink)
        {
            decoder->ops->end(decoder->sink);
            decoder->in_sink = 0;
        }
        return fail(decoder, status);
    }
    return distance > left ? WB_ERROR_SEEK : WB_OK;
}

uint32_t wb_decoder_write(struct wb_decoder *decoder, const void *buffer, size_t size)
{
    const uint8_t *in = buffer;
    uint32_t status = WB_OK;

    if (!decoder || (size && !buffer)) return WB_ERROR_INVALID_PARAMETER;
    if (decoder->state == DEC_FAILED) return decoder->error;

    while (size || (decoder->state != DEC_HEAD && decoder->state != DEC_NAME &&
                    decoder->state != DEC_OFFSET && decoder->payload_pos == decoder->stream.data_size))
    {
        size_t take;

        switch (decoder->state)
        {
        case DEC_HEAD:
            take = collect(decoder, 0, WB_STREAM_HEADER_SIZE, in, size);
            in += take; size -= take;
            if (decoder->have == WB_STREAM_HEADER_SIZE)
            {
                decoder->have = 0;
                status = header_done(decoder);
            }
            break;

        case DEC_NAME:
            take = collect(decoder, WB_STREAM_HEADER_SIZE, decoder->header.name_size, in, size);
            in += take; size -= take;
            if (decoder->have == decoder->header.name_size)
            {
                decoder->have = 0;
                status = name_done(decoder);
            }
            break;

        case DEC_OFFSET:
            take = collect(decoder, 0, 8, in, size);
            in += take; size -= take;
            if (decoder->have == 8)
            {
                decoder->have = 0;
                status = offset_done(decoder);
            }
            break;

        case DEC_STREAM:
        case DEC_BUFFER:
        case DEC_SKIP:
        {
            uint64_t left = decoder->stream.data_size - decoder->payload_pos;
            if (!left)
            {
                status = end_stream(decoder);
                break;
            }
            take = left < size ? (size_t)left : size;
            if (take > 0x40000000) take = 0x40000000;   /* sink writes take a uint32_t */
            if (decoder->state == DEC_STREAM)
            {
                uint64_t offset = decoder->stream.id == WB_BACKUP_SPARSE_BLOCK
                                  ? decoder->stream.sparse_offset + decoder->payload_pos
                                  : decoder->payload_pos;
                status = decoder->ops->write(decoder->sink, offset, in, (uint32_t)take);
            }
            else if (decoder->state == DEC_BUFFER)
                memcpy(decoder->blob + decoder->payload_pos, in, take);
            if (!status)
            {
                decoder->payload_pos += take;
                in += take; size -= take;
            }
            break;
        }

        case DEC_FAILED:
            return decoder->error;
        }
        if (status)
        {
            if (decoder->in_sink)
            {
                decoder->ops->end(decoder->sink);
                decoder->in_sink = 0;
            }
            free(decoder->blob);
            decoder->blob = NULL;
            return fail(decoder, status);
        }
    }
    return WB_OK;
}
