/*
 * libFuzzer target: the decoder behind BackupWrite.
 *
 * The input is split into pieces whose sizes come from the input itself, so
 * the fuzzer explores header/name/payload boundaries at every byte.  The
 * sink checks the contract the decoder promises: begin/end pair up, writes
 * stay inside the announced payload, metadata arrives in one write.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/stream.h"

struct check_sink
{
    int open;
    struct wb_sink_stream stream;
    uint64_t delivered;
};

static uint32_t check_begin(void *ctx, const struct wb_sink_stream *stream)
{
    struct check_sink *sink = ctx;
    if (sink->open) abort();
    if (stream->id == WB_BACKUP_ALTERNATE_DATA && (!stream->name_chars || stream->name_chars > WB_MAX_STREAM_NAME_CHARS))
        abort();
    sink->open = 1;
    sink->stream = *stream;
    sink->delivered = 0;
    return WB_OK;
}

static uint32_t check_write(void *ctx, uint64_t offset, const void *buffer, uint32_t size)
{
    struct check_sink *sink = ctx;
    uint64_t base = sink->stream.id == WB_BACKUP_SPARSE_BLOCK ? sink->stream.sparse_offset : 0;
    volatile uint8_t touch;

    if (!sink->open || !size) abort();
    if (offset != base + sink->delivered) abort();
    sink->delivered += size;
    if (sink->delivered > sink->stream.data_size) abort();
    touch = ((const uint8_t *)buffer)[size - 1];   /* the whole chunk must be readable */
    (void)touch;
    return WB_OK;
}

static uint32_t check_end(void *ctx)
{
    struct check_sink *sink = ctx;
    if (!sink->open) abort();
    sink->open = 0;
    return WB_OK;
}

static const struct wb_sink_ops check_ops = { check_begin, check_write, check_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct check_sink sink = { 0 };
    struct wb_decoder *decoder;
    size_t pos = 1;
    uint32_t status = WB_OK;
    int boundary;
    unsigned int piece = size ? (data[0] % 64) + 1 : 1;

    if (!(decoder = wb_decoder_new(&check_ops, &sink, size && (data[0] & 0x80) ? WB_DECODE_SECURITY : 0)))
        return 0;
    while (pos < size)
    {
        size_t take = size - pos < piece ? size - pos : piece;
        if ((status = wb_decoder_write(decoder, data + pos, take))) break;
        pos += take;
        piece = piece * 7 % 97 + 1;
    }
    boundary = wb_decoder_at_boundary(decoder);
    wb_decoder_free(decoder);
    /* An error must close the stream it interrupted, and so must a stream
     * that ended; input that merely stops mid-stream leaves it open. */
    if (sink.open && (status || boundary)) abort();
    return 0;
}
