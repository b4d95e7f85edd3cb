/*
 * libFuzzer target: the encoder behind BackupRead and BackupSeek.
 *
 * The input describes streams (id, attributes, name, payload size, a blob or
 * a file range) and then a script of reads and seeks of fuzzer-chosen sizes.
 * Whatever the script, the bytes that come out must decode (through the real
 * decoder) into the same streams, minus what seeks skipped: checked here for
 * the number of headers and that nothing overruns a buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/stream.h"

#define MAX_STREAMS 8

struct fuzz_source
{
    struct wb_source_stream streams[MAX_STREAMS];
    uint8_t names[MAX_STREAMS][32];
    unsigned int count, next;
    const uint8_t *file;
    size_t file_size;
};

static uint32_t fuzz_next(void *ctx, struct wb_source_stream *stream)
{
    struct fuzz_source *src = ctx;
    if (src->next == src->count) return WB_ERROR_NO_MORE_ITEMS;
    *stream = src->streams[src->next++];
    return WB_OK;
}

static uint32_t fuzz_read(void *ctx, uint64_t offset, void *buffer, uint32_t size, uint32_t *done)
{
    struct fuzz_source *src = ctx;
    *done = 0;
    if (offset >= src->file_size) return WB_OK;
    if (size > src->file_size - offset) size = (uint32_t)(src->file_size - offset);
    memcpy(buffer, src->file + offset, size);
    *done = size;
    return WB_OK;
}

static const struct wb_source_ops fuzz_ops = { fuzz_next, fuzz_read };

static uint32_t null_begin(void *ctx, const struct wb_sink_stream *s) { (*(unsigned int *)ctx)++; return WB_OK; }
static uint32_t null_write(void *ctx, uint64_t o, const void *b, uint32_t n) { return WB_OK; }
static uint32_t null_end(void *ctx) { return WB_OK; }
static const struct wb_sink_ops null_ops = { null_begin, null_write, null_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t suffix[] = { ':',0,'$',0,'D',0,'A',0,'T',0,'A',0 };
    struct fuzz_source src;
    struct wb_encoder *encoder;
    struct wb_decoder *decoder;
    uint8_t *buffer;
    size_t pos = 0;
    unsigned int i, begun = 0, seeks = 0;
    int status_ok = 1, finished = 0;

    if (size < 2) return 0;
    memset(&src, 0, sizeof(src));
    src.count = data[pos++] % (MAX_STREAMS + 1);
    for (i = 0; i < src.count && pos + 4 <= size; i++)
    {
        struct wb_source_stream *s = &src.streams[i];
        uint8_t kind = data[pos++], len = data[pos++], off = data[pos++];
        s->id = kind % 12;
        if (!s->id || s->id == WB_BACKUP_SECURITY_DATA) s->id = WB_BACKUP_DATA;
        s->attributes = data[pos++] & 0x1f;
        if (s->id == WB_BACKUP_ALTERNATE_DATA)
        {
            unsigned int n = len % 8 + 1, j;
            src.names[i][0] = ':';
            for (j = 0; j < n; j++) src.names[i][2 + 2 * j] = 'a' + (j % 26);
            memcpy(src.names[i] + 2 + 2 * n, suffix, sizeof(suffix));
            s->name = src.names[i];
            s->name_size = 2 + 2 * n + sizeof(suffix);
        }
        if (s->id == WB_BACKUP_OBJECT_ID) { s->blob = data; s->blob_size = size < 64 ? 0 : 64; if (!s->blob_size) s->id = WB_BACKUP_DATA; }
        else if (s->id == WB_BACKUP_LINK) { s->blob = data; s->blob_size = 4; }
        else if (kind & 0x80) { s->blob = data; s->blob_size = len < size ? len : size; }
        else { s->data_offset = off; s->data_size = len; }
        if (s->id == WB_BACKUP_SPARSE_BLOCK) { s->blob = NULL; s->blob_size = 0; s->data_offset = off; s->data_size = len; }
    }
    src.count = i;
    src.file = data;
    src.file_size = size;

    encoder = wb_encoder_new(&fuzz_ops, &src);
    decoder = wb_decoder_new(&null_ops, &begun, 0);
    buffer = malloc(300);
    while (encoder && decoder && buffer && pos < size)
    {
        uint8_t op = data[pos++];
        uint32_t done = 0;
        uint64_t skipped;
        if (op & 0x80)
        {
            /* A seek makes the byte stream undecodable from there on; stop
             * checking the decode but keep exercising the encoder. */
            if (wb_encoder_seek(encoder, op & 0x3f, &skipped) == WB_OK || skipped) seeks++;
            if (skipped > (op & 0x3f)) abort();
            continue;
        }
        if (wb_encoder_read(encoder, buffer, (op % 200) + 1, &done) != WB_OK) break;
        if (done > (op % 200) + 1u) abort();
        if (!done) { finished = 1; break; }
        if (!seeks && status_ok && wb_decoder_write(decoder, buffer, done) != WB_OK) status_ok = 0;
    }
    /* A whole stream read without seeks decodes, header for header. */
    if (finished && !seeks && (!status_ok || begun != src.count || !wb_decoder_at_boundary(decoder))) abort();
    free(buffer);
    wb_decoder_free(decoder);
    wb_encoder_free(encoder);
    return 0;
}
