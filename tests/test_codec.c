/*
 * Unit tests of the portable stream codec (libs/wbcore/{header,encoder,decoder}.c).
 *
 * Expected bytes are written out by hand from the WIN32_STREAM_ID layout in
 * [MS-BKUP] / winbase.h (20-byte LE header: id, attributes, 64-bit size,
 * name size; UTF-16LE name; payload), never taken from the encoder's output.
 */
#include "testutil.h"
#include "winbackup/stream.h"

/* ---------------------------------------------------------------- golden vectors */

/* BACKUP_DATA, attributes 0, size 5, no name, "hello" */
static const uint8_t golden_data[] =
{
    0x01,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x05,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    'h','e','l','l','o',
};

/* BACKUP_ALTERNATE_DATA ":s:$DATA" (16 name bytes), payload "xy" */
static const uint8_t golden_ads[] =
{
    0x04,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x02,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x10,0x00,0x00,0x00,
    ':',0, 's',0, ':',0, '$',0, 'D',0, 'A',0, 'T',0, 'A',0,
    'x','y',
};

/* Sparse file of length 0x20000 with "abc" at 0x10000: DATA header (size 0,
 * STREAM_SPARSE_ATTRIBUTE), one block, the final block that gives the length. */
static const uint8_t golden_sparse[] =
{
    0x01,0x00,0x00,0x00, 0x08,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    0x09,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x0b,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    0x00,0x00,0x01,0x00,0x00,0x00,0x00,0x00, 'a','b','c',
    0x09,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x08,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    0x00,0x00,0x02,0x00,0x00,0x00,0x00,0x00,
};

/* The EA vector of the reference (go-winio's test): foo=bar, fizz=buzz */
static const uint8_t golden_ea_payload[] =
{
    0x10,0x00,0x00,0x00,0x00,0x03,0x03,0x00,0x66,0x6f,0x6f,0x00,0x62,0x61,0x72,0x00,
    0x00,0x00,0x00,0x00,0x00,0x04,0x04,0x00,0x66,0x69,0x7a,0x7a,0x00,0x62,0x75,0x7a,
    0x7a,0x00,0x00,0x00,
};

static const uint8_t ads_name[] = { ':',0, 's',0, ':',0, '$',0, 'D',0, 'A',0, 'T',0, 'A',0 };

/* ---------------------------------------------------------------- a memory source */

struct mem_source
{
    const struct wb_source_stream *streams;
    unsigned int count, next;
    const uint8_t *file;            /* what read() serves; NULL: zeros */
    uint64_t file_size;
    uint64_t fail_at;               /* read() of this offset fails with WB_ERROR_READ_FAULT, like a bad sector (0: never) */
    uint32_t next_error;            /* next() fails with this after the streams (0: NO_MORE_ITEMS) */
    unsigned int large_unaligned;   /* reads of 16 KiB or more that did not start on a 4 KiB file offset */
};

static uint32_t mem_next(void *source, struct wb_source_stream *stream)
{
    struct mem_source *src = source;
    if (src->next == src->count) return src->next_error ? src->next_error : WB_ERROR_NO_MORE_ITEMS;
    *stream = src->streams[src->next++];
    return WB_OK;
}

static uint32_t mem_read(void *source, uint64_t offset, void *buffer, uint32_t size, uint32_t *done)
{
    struct mem_source *src = source;
    if (size >= 16384 && offset % 4096) src->large_unaligned++;
    if (src->fail_at && offset <= src->fail_at && src->fail_at < offset + size)
    {
        if (offset < src->fail_at) size = (uint32_t)(src->fail_at - offset);
        else { *done = 0; return WB_ERROR_READ_FAULT; }
    }
    if (offset >= src->file_size) { *done = 0; return WB_OK; }
    if (size > src->file_size - offset) size = (uint32_t)(src->file_size - offset);
    if (src->file) memcpy(buffer, src->file + offset, size);
    else memset(buffer, 0, size);
    *done = size;
    return WB_OK;
}

static const struct wb_source_ops mem_source_ops = { mem_next, mem_read };

/* Encode everything with reads of `chunk` bytes; returns a malloc'ed buffer. */
static uint8_t *encode_all(struct mem_source *src, uint32_t chunk, size_t *size)
{
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, src);
    uint8_t *out = NULL;
    size_t used = 0;
    uint32_t done;

    assert_non_null(encoder);
    src->next = 0;
    for (;;)
    {
        out = realloc(out, used + chunk);
        assert_int_equal(wb_encoder_read(encoder, out + used, chunk, &done), WB_OK);
        assert_true(done <= chunk);
        if (!done) break;
        used += done;
    }
    /* after the end every further read keeps returning 0 bytes */
    assert_int_equal(wb_encoder_read(encoder, out, chunk, &done), WB_OK);
    assert_int_equal(done, 0);
    wb_encoder_free(encoder);
    *size = used;
    return out;
}

static void test_header_layout(void **state)
{
    struct wb_stream_header header = { WB_BACKUP_SPARSE_BLOCK, WB_STREAM_SPARSE_ATTRIBUTE, 0x0123456789abcdefull, 0x10 };
    static const uint8_t want[] =
    {
        0x09,0x00,0x00,0x00, 0x08,0x00,0x00,0x00, 0xef,0xcd,0xab,0x89,0x67,0x45,0x23,0x01, 0x10,0x00,0x00,0x00,
    };
    struct wb_stream_header back;
    uint8_t bytes[WB_STREAM_HEADER_SIZE];

    wb_stream_header_pack(&header, bytes);
    assert_memory_equal(bytes, want, sizeof(want));
    wb_stream_header_unpack(want, &back);
    assert_int_equal(back.id, header.id);
    assert_int_equal(back.attributes, header.attributes);
    assert_true(back.size == header.size);
    assert_int_equal(back.name_size, header.name_size);
    assert_string_equal(wb_stream_id_name(WB_BACKUP_ALTERNATE_DATA), "BACKUP_ALTERNATE_DATA");
    assert_string_equal(wb_stream_id_name(WB_BACKUP_GHOSTED_FILE_EXTENTS), "BACKUP_GHOSTED_FILE_EXTENTS");
    assert_null(wb_stream_id_name(12));
}

/* Data + ADS + EA + sparse (as three files' worth of streams in one run):
 * every read size from 1 to past the whole stream gives the same bytes. */
static void test_encoder_every_chunk_size(void **state)
{
    uint8_t file[0x20000] = {0};
    struct wb_source_stream streams[] =
    {
        { .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 5 },
        { .id = WB_BACKUP_ALTERNATE_DATA, .name = ads_name, .name_size = sizeof(ads_name),
          .blob = (const uint8_t *)"xy", .blob_size = 2 },
        { .id = WB_BACKUP_EA_DATA, .blob = golden_ea_payload, .blob_size = sizeof(golden_ea_payload) },
        { .id = WB_BACKUP_DATA, .attributes = WB_STREAM_SPARSE_ATTRIBUTE },
        { .id = WB_BACKUP_SPARSE_BLOCK, .data_offset = 0x10000, .data_size = 3 },
        { .id = WB_BACKUP_SPARSE_BLOCK, .data_offset = 0x20000, .data_size = 0 },
    };
    static const uint8_t ea_header[] =
    {
        0x02,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x24,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    };
    struct mem_source src = { streams, 6, 0, file, sizeof(file), 0, 0 , 0 };
    size_t want_size = sizeof(golden_data) + sizeof(golden_ads) + sizeof(ea_header) +
                       sizeof(golden_ea_payload) + sizeof(golden_sparse);
    uint8_t *want = malloc(want_size), *p = want;
    uint32_t chunk;

    memcpy(file, "hello", 5);
    memcpy(file + 0x10000, "abc", 3);
    memcpy(p, golden_data, sizeof(golden_data)); p += sizeof(golden_data);
    memcpy(p, golden_ads, sizeof(golden_ads)); p += sizeof(golden_ads);
    memcpy(p, ea_header, sizeof(ea_header)); p += sizeof(ea_header);
    memcpy(p, golden_ea_payload, sizeof(golden_ea_payload)); p += sizeof(golden_ea_payload);
    memcpy(p, golden_sparse, sizeof(golden_sparse));

    for (chunk = 1; chunk <= want_size + 1; chunk++)
    {
        size_t size;
        uint8_t *got = encode_all(&src, chunk, &size);
        assert_int_equal(size, want_size);
        assert_memory_equal(got, want, want_size);
        free(got);
    }
    free(want);
}

static void test_encoder_empty_source(void **state)
{
    struct mem_source src = { NULL, 0, 0, NULL, 0, 0, 0 , 0 };
    size_t size;
    uint8_t *got = encode_all(&src, 64, &size);
    assert_int_equal(size, 0);
    free(got);
}

static void test_encoder_bad_parameters(void **state)
{
    struct mem_source src = { NULL, 0, 0, NULL, 0, 0, 0 , 0 };
    struct wb_source_ops no_read = { mem_next, NULL };
    struct wb_encoder *encoder;
    uint8_t buffer[4];
    uint32_t done;
    uint64_t skipped;

    assert_null(wb_encoder_new(NULL, &src));
    assert_null(wb_encoder_new(&no_read, &src));
    encoder = wb_encoder_new(&mem_source_ops, &src);
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), NULL), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_encoder_read(encoder, NULL, 4, &done), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_encoder_read(NULL, buffer, 4, &done), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_encoder_seek(encoder, 1, NULL), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_encoder_seek(NULL, 1, &skipped), WB_ERROR_INVALID_PARAMETER);
    wb_encoder_free(encoder);
    wb_encoder_free(NULL);
}

/* A source that describes an impossible stream gets an error, not a bad header. */
static void test_encoder_rejects_bad_source_stream(void **state)
{
    uint8_t odd_name[3] = { ':', 0, 'x' };
    struct wb_source_stream streams[] =
    {
        { .id = WB_BACKUP_ALTERNATE_DATA, .name = odd_name, .name_size = 3, .blob = odd_name, .blob_size = 1 },
    };
    struct mem_source src = { streams, 1, 0, NULL, 0, 0, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[64];
    uint32_t done = 99;

    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(done, 0);
    wb_encoder_free(encoder);
}

/* A read fills the whole buffer, header and payload alike, as a program that
 * reads a payload with one BackupRead of its size expects (AmsiScanner);
 * the file is still read from 4 KiB file offsets when the reads are large:
 * the part up to the next page boundary first, then the rest. */
static void test_encoder_full_and_aligned_reads(void **state)
{
    const uint64_t file_size = 1u << 20;
    struct wb_source_stream streams[] = { { .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 1u << 20 } };
    struct mem_source src = { streams, 1, 0, NULL, 1u << 20, 0, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t *buffer = malloc(65536);
    uint64_t total = 0, stream_size = WB_STREAM_HEADER_SIZE + file_size;
    uint32_t done;

    while (total < stream_size)
    {
        assert_int_equal(wb_encoder_read(encoder, buffer, 65536, &done), WB_OK);
        assert_int_equal(done, stream_size - total < 65536 ? stream_size - total : 65536);
        total += done;
    }
    assert_int_equal(wb_encoder_read(encoder, buffer, 65536, &done), WB_OK);
    assert_int_equal(done, 0);
    assert_int_equal(src.large_unaligned, 0);
    wb_encoder_free(encoder);

    /* a sparse block read with one call of its size: the 8-byte offset and
     * the data together */
    {
        struct wb_source_stream sparse[] =
        {
            { .id = WB_BACKUP_DATA, .attributes = WB_STREAM_SPARSE_ATTRIBUTE },
            { .id = WB_BACKUP_SPARSE_BLOCK, .attributes = WB_STREAM_SPARSE_ATTRIBUTE, .data_offset = 8192, .data_size = 4096 },
        };
        struct mem_source sparse_src = { sparse, 2, 0, NULL, 1u << 20, 0, 0 , 0 };
        encoder = wb_encoder_new(&mem_source_ops, &sparse_src);
        assert_int_equal(wb_encoder_read(encoder, buffer, 2 * WB_STREAM_HEADER_SIZE, &done), WB_OK);
        assert_int_equal(done, 2 * WB_STREAM_HEADER_SIZE);
        assert_int_equal(wb_encoder_read(encoder, buffer, 8 + 4096, &done), WB_OK);
        assert_int_equal(done, 8 + 4096);
        assert_int_equal(buffer[1], 0x20);      /* offset 8192, little-endian */
        wb_encoder_free(encoder);
    }

    /* small reads fill the buffer across the header */
    src.next = 0;
    encoder = wb_encoder_new(&mem_source_ops, &src);
    assert_int_equal(wb_encoder_read(encoder, buffer, 16383, &done), WB_OK);
    assert_int_equal(done, 16383);
    wb_encoder_free(encoder);
    free(buffer);
}

/* ---------------------------------------------------------------- BackupSeek */

static struct wb_encoder *two_stream_encoder(struct mem_source *src, struct wb_source_stream *streams, uint8_t *file)
{
    memcpy(file, "hello", 5);
    streams[0] = (struct wb_source_stream){ .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 5 };
    streams[1] = (struct wb_source_stream){ .id = WB_BACKUP_ALTERNATE_DATA, .name = ads_name,
                                            .name_size = sizeof(ads_name), .blob = (const uint8_t *)"xy", .blob_size = 2 };
    *src = (struct mem_source){ streams, 2, 0, file, 5, 0, 0 , 0 };
    return wb_encoder_new(&mem_source_ops, src);
}

static void test_seek_within_stream(void **state)
{
    struct wb_source_stream streams[2];
    struct mem_source src;
    uint8_t file[5], buffer[64];
    struct wb_encoder *encoder = two_stream_encoder(&src, streams, file);
    uint64_t skipped = 99;
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, WB_STREAM_HEADER_SIZE, &done), WB_OK);
    assert_int_equal(done, WB_STREAM_HEADER_SIZE);
    assert_memory_equal(buffer, golden_data, WB_STREAM_HEADER_SIZE);
    assert_int_equal(wb_encoder_seek(encoder, 2, &skipped), WB_OK);
    assert_int_equal(skipped, 2);
    assert_int_equal(wb_encoder_read(encoder, buffer, 3, &done), WB_OK);
    assert_int_equal(done, 3);
    assert_memory_equal(buffer, "llo", 3);
    /* the stream is finished: the next read is the ADS header */
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(golden_ads), &done), WB_OK);
    assert_int_equal(done, sizeof(golden_ads));
    assert_memory_equal(buffer, golden_ads, sizeof(golden_ads));
    wb_encoder_free(encoder);
}

static void test_seek_past_end_of_stream(void **state)
{
    struct wb_source_stream streams[2];
    struct mem_source src;
    uint8_t file[5], buffer[64];
    struct wb_encoder *encoder = two_stream_encoder(&src, streams, file);
    uint64_t skipped = 99;
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, WB_STREAM_HEADER_SIZE + 1, &done), WB_OK);
    assert_int_equal(done, WB_STREAM_HEADER_SIZE + 1);
    /* 4 bytes are left in the DATA stream: asking for 100 skips those 4 and fails */
    assert_int_equal(wb_encoder_seek(encoder, 100, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 4);
    /* the next read starts with the next stream's header */
    assert_int_equal(wb_encoder_read(encoder, buffer, 4, &done), WB_OK);
    assert_int_equal(done, 4);
    assert_memory_equal(buffer, golden_ads, 4);
    wb_encoder_free(encoder);
}

static void test_seek_exactly_to_end(void **state)
{
    struct wb_source_stream streams[2];
    struct mem_source src;
    uint8_t file[5], buffer[64];
    struct wb_encoder *encoder = two_stream_encoder(&src, streams, file);
    uint64_t skipped = 99;
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, WB_STREAM_HEADER_SIZE, &done), WB_OK);
    assert_int_equal(wb_encoder_seek(encoder, 5, &skipped), WB_OK);
    assert_int_equal(skipped, 5);
    /* now between streams: no current payload to move in */
    assert_int_equal(wb_encoder_seek(encoder, 1, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 0);
    assert_int_equal(wb_encoder_read(encoder, buffer, WB_STREAM_HEADER_SIZE, &done), WB_OK);
    assert_memory_equal(buffer, golden_ads, WB_STREAM_HEADER_SIZE);
    wb_encoder_free(encoder);
}

/* Before the header went out there is no payload to seek in. */
static void test_seek_inside_header(void **state)
{
    struct wb_source_stream streams[2];
    struct mem_source src;
    uint8_t file[5], buffer[64];
    struct wb_encoder *encoder = two_stream_encoder(&src, streams, file);
    uint64_t skipped = 99;
    uint32_t done;

    assert_int_equal(wb_encoder_seek(encoder, 1, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 0);
    assert_int_equal(wb_encoder_read(encoder, buffer, 10, &done), WB_OK);
    assert_int_equal(wb_encoder_seek(encoder, 1, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 0);
    assert_int_equal(wb_encoder_seek(encoder, 0, &skipped), WB_OK);
    /* the failed seeks moved nothing */
    assert_int_equal(wb_encoder_read(encoder, buffer + 10, sizeof(golden_data) - 10, &done), WB_OK);
    assert_memory_equal(buffer, golden_data, sizeof(golden_data));
    wb_encoder_free(encoder);
}

/* The ADS name is part of the header, not of the payload. */
static void test_seek_after_name(void **state)
{
    struct wb_source_stream streams[2];
    struct mem_source src;
    uint8_t file[5], buffer[64];
    struct wb_encoder *encoder = two_stream_encoder(&src, streams, file);
    uint64_t skipped;
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(golden_data) + WB_STREAM_HEADER_SIZE + 8, &done), WB_OK);
    assert_int_equal(wb_encoder_seek(encoder, 1, &skipped), WB_ERROR_SEEK);   /* still in the name */
    assert_int_equal(wb_encoder_read(encoder, buffer, 8, &done), WB_OK);     /* rest of the name */
    assert_int_equal(wb_encoder_seek(encoder, 1, &skipped), WB_OK);
    assert_int_equal(skipped, 1);
    assert_int_equal(wb_encoder_read(encoder, buffer, 64, &done), WB_OK);
    assert_int_equal(done, 1);
    assert_int_equal(buffer[0], 'y');
    wb_encoder_free(encoder);
}

/* Seek distances beyond 32 bits (BackupSeek's high DWORD). */
static void test_seek_large_distance(void **state)
{
    struct wb_source_stream streams[] = { { .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 0x140000000ull } };
    struct mem_source src = { streams, 1, 0, NULL, 0x140000000ull, 0, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[WB_STREAM_HEADER_SIZE];
    uint64_t skipped;
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_OK);
    assert_int_equal(wb_encoder_seek(encoder, 0x100000000ull, &skipped), WB_OK);
    assert_true(skipped == 0x100000000ull);
    assert_int_equal(wb_encoder_seek(encoder, 0x100000000ull, &skipped), WB_ERROR_SEEK);
    assert_true(skipped == 0x40000000ull);
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_OK);
    assert_int_equal(done, 0);
    wb_encoder_free(encoder);
}

/* Sparse blocks: the 8 offset bytes are payload, so a seek can skip them. */
static void test_seek_sparse_block(void **state)
{
    uint8_t file[0x10003] = {0};
    struct wb_source_stream streams[] =
    {
        { .id = WB_BACKUP_SPARSE_BLOCK, .data_offset = 0x10000, .data_size = 3 },
    };
    struct mem_source src = { streams, 1, 0, file, sizeof(file), 0, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[64];
    uint64_t skipped;
    uint32_t done;

    memcpy(file + 0x10000, "abc", 3);
    assert_int_equal(wb_encoder_read(encoder, buffer, WB_STREAM_HEADER_SIZE + 6, &done), WB_OK);
    assert_int_equal(wb_encoder_seek(encoder, 3, &skipped), WB_OK);
    assert_int_equal(skipped, 3);
    assert_int_equal(wb_encoder_read(encoder, buffer, 64, &done), WB_OK);
    assert_int_equal(done, 2);
    assert_memory_equal(buffer, "bc", 2);
    wb_encoder_free(encoder);
}

/* A read error mid-payload: bytes before it come out, then the error, then
 * BackupSeek skips the bad part and reading goes on. */
static void test_read_error_then_seek(void **state)
{
    uint8_t file[100];
    struct wb_source_stream streams[] =
    {
        { .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 100 },
        { .id = WB_BACKUP_EA_DATA, .blob = golden_ea_payload, .blob_size = sizeof(golden_ea_payload) },
    };
    struct mem_source src = { streams, 2, 0, file, sizeof(file), 40, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[256];
    uint64_t skipped;
    uint32_t done, i;

    for (i = 0; i < sizeof(file); i++) file[i] = (uint8_t)i;
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_OK);
    assert_int_equal(done, WB_STREAM_HEADER_SIZE + 40);
    assert_int_equal(buffer[WB_STREAM_HEADER_SIZE + 39], 39);
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_ERROR_READ_FAULT);
    assert_int_equal(done, 0);
    assert_int_equal(wb_encoder_seek(encoder, 1000, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 60);
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_OK);
    assert_int_equal(done, WB_STREAM_HEADER_SIZE + sizeof(golden_ea_payload));
    assert_int_equal(buffer[0], WB_BACKUP_EA_DATA);
    wb_encoder_free(encoder);
}

/* The file shrank after its header promised more bytes. */
static void test_file_shrank(void **state)
{
    uint8_t file[10] = "0123456789";
    struct wb_source_stream streams[] = { { .id = WB_BACKUP_DATA, .data_offset = 0, .data_size = 20 } };
    struct mem_source src = { streams, 1, 0, file, sizeof(file), 0, 0 , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[64];
    uint32_t done;

    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_OK);
    assert_int_equal(done, WB_STREAM_HEADER_SIZE + 10);
    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_ERROR_HANDLE_EOF);
    assert_int_equal(done, 0);
    wb_encoder_free(encoder);
}

static void test_source_error_reported(void **state)
{
    struct mem_source src = { NULL, 0, 0, NULL, 0, 0, WB_ERROR_ACCESS_DENIED , 0 };
    struct wb_encoder *encoder = wb_encoder_new(&mem_source_ops, &src);
    uint8_t buffer[8];
    uint32_t done = 5;

    assert_int_equal(wb_encoder_read(encoder, buffer, sizeof(buffer), &done), WB_ERROR_ACCESS_DENIED);
    assert_int_equal(done, 0);
    wb_encoder_free(encoder);
}

/* ---------------------------------------------------------------- a recording sink */

struct rec_sink
{
    char log[4096];
    size_t log_len;
    uint8_t data[0x30000];          /* DATA and sparse blocks, at file offsets */
    uint8_t other[256];             /* the payload of the last other stream */
    uint32_t current_id;
    uint32_t fail_begin_id;         /* begin() of this id fails with ACCESS_DENIED */
    int ended;
};

static void rec_log(struct rec_sink *sink, const char *text)
{
    size_t len = strlen(text);
    assert_true(sink->log_len + len < sizeof(sink->log));
    memcpy(sink->log + sink->log_len, text, len + 1);
    sink->log_len += len;
}

static uint32_t rec_begin(void *ctx, const struct wb_sink_stream *stream)
{
    struct rec_sink *sink = ctx;
    char line[256], name[64] = "";
    uint32_t i;

    if (stream->id == sink->fail_begin_id) return WB_ERROR_ACCESS_DENIED;
    sink->current_id = stream->id;
    for (i = 0; i < stream->name_chars && i < 63; i++) name[i] = (char)stream->name[i];
    name[i] = 0;
    snprintf(line, sizeof(line), "begin %u attr %u size %llu data %llu off %llu name '%s'\n",
             stream->id, stream->attributes, (unsigned long long)stream->size,
             (unsigned long long)stream->data_size, (unsigned long long)stream->sparse_offset, name);
    rec_log(sink, line);
    return WB_OK;
}

static uint32_t rec_write(void *ctx, uint64_t offset, const void *buffer, uint32_t size)
{
    struct rec_sink *sink = ctx;
    if (sink->current_id == WB_BACKUP_DATA || sink->current_id == WB_BACKUP_SPARSE_BLOCK)
    {
        assert_true(offset + size <= sizeof(sink->data));
        memcpy(sink->data + offset, buffer, size);
    }
    else
    {
        assert_true(offset + size <= sizeof(sink->other));
        memcpy(sink->other + offset, buffer, size);
    }
    return WB_OK;
}

static uint32_t rec_end(void *ctx)
{
    struct rec_sink *sink = ctx;
    rec_log(sink, "end\n");
    sink->ended++;
    return WB_OK;
}

static const struct wb_sink_ops rec_sink_ops = { rec_begin, rec_write, rec_end };

static uint32_t decode_chunks(struct rec_sink *sink, const uint8_t *stream, size_t size, size_t chunk,
                              unsigned int flags, int *boundary)
{
    struct wb_decoder *decoder = wb_decoder_new(&rec_sink_ops, sink, flags);
    uint32_t status = WB_OK;
    size_t pos;

    assert_non_null(decoder);
    for (pos = 0; pos < size && !status; pos += chunk)
        status = wb_decoder_write(decoder, stream + pos, size - pos < chunk ? size - pos : chunk);
    if (boundary) *boundary = wb_decoder_at_boundary(decoder);
    wb_decoder_free(decoder);
    return status;
}

static void test_decoder_every_chunk_size(void **state)
{
    static const uint8_t security_stream[] =
    {
        0x03,0x00,0x00,0x00, 0x02,0x00,0x00,0x00, 0x04,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
        0xde,0xad,0xbe,0xef,
    };
    static const char want_log[] =
        "begin 1 attr 0 size 5 data 5 off 0 name ''\nend\n"
        "begin 4 attr 0 size 2 data 2 off 0 name 's'\nend\n"
        "begin 1 attr 8 size 0 data 0 off 0 name ''\nend\n"
        "begin 9 attr 0 size 11 data 3 off 65536 name ''\nend\n"
        "begin 9 attr 0 size 8 data 0 off 131072 name ''\nend\n";
    size_t size = sizeof(security_stream) + sizeof(golden_data) + sizeof(golden_ads) + sizeof(golden_sparse);
    uint8_t *stream = malloc(size), *p = stream;
    size_t chunk;

    memcpy(p, security_stream, sizeof(security_stream)); p += sizeof(security_stream);
    memcpy(p, golden_data, sizeof(golden_data)); p += sizeof(golden_data);
    memcpy(p, golden_ads, sizeof(golden_ads)); p += sizeof(golden_ads);
    memcpy(p, golden_sparse, sizeof(golden_sparse));

    for (chunk = 1; chunk <= size + 1; chunk++)
    {
        struct rec_sink *sink = calloc(1, sizeof(*sink));
        int boundary;
        /* without WB_DECODE_SECURITY the SD is consumed but never reaches the sink */
        assert_int_equal(decode_chunks(sink, stream, size, chunk, 0, &boundary), WB_OK);
        assert_true(boundary);
        assert_string_equal(sink->log, want_log);
        assert_memory_equal(sink->data, "hello", 5);
        assert_memory_equal(sink->data + 0x10000, "abc", 3);
        assert_memory_equal(sink->other, "xy", 2);
        free(sink);
    }

    {
        struct rec_sink *sink = calloc(1, sizeof(*sink));
        assert_int_equal(decode_chunks(sink, stream, sizeof(security_stream), 7, WB_DECODE_SECURITY, NULL), WB_OK);
        assert_string_equal(sink->log, "begin 3 attr 2 size 4 data 4 off 0 name ''\nend\n");
        assert_memory_equal(sink->other, "\xde\xad\xbe\xef", 4);
        free(sink);
    }
    free(stream);
}

/* Metadata streams arrive in one write() even when fed a byte at a time. */
static uint32_t one_write_calls;
static uint32_t counting_write(void *ctx, uint64_t offset, const void *buffer, uint32_t size)
{
    one_write_calls++;
    assert_int_equal(offset, 0);
    assert_int_equal(size, sizeof(golden_ea_payload));
    assert_memory_equal(buffer, golden_ea_payload, size);
    return WB_OK;
}

static void test_decoder_buffers_metadata(void **state)
{
    static const uint8_t ea_header[] =
    {
        0x02,0x00,0x00,0x00, 0x00,0x00,0x00,0x00, 0x24,0x00,0x00,0x00,0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00,
    };
    struct wb_sink_ops ops = { rec_begin, counting_write, rec_end };
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    struct wb_decoder *decoder = wb_decoder_new(&ops, sink, 0);
    size_t i;

    one_write_calls = 0;
    for (i = 0; i < sizeof(ea_header); i++) assert_int_equal(wb_decoder_write(decoder, ea_header + i, 1), WB_OK);
    for (i = 0; i < sizeof(golden_ea_payload); i++)
        assert_int_equal(wb_decoder_write(decoder, golden_ea_payload + i, 1), WB_OK);
    assert_int_equal(one_write_calls, 1);
    assert_int_equal(sink->ended, 1);
    assert_true(wb_decoder_at_boundary(decoder));
    wb_decoder_free(decoder);
    free(sink);
}

/* Every id winnt.h defines is a stream the restore must take, the last two
 * (BACKUP_TXFS_DATA, BACKUP_GHOSTED_FILE_EXTENTS) included; the sink decides
 * what to do with them. */
static void test_decoder_takes_every_known_id(void **state)
{
    uint8_t stream[32] = { 0 };
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    uint32_t id;
    int boundary;

    for (id = WB_BACKUP_TXFS_DATA; id <= WB_BACKUP_GHOSTED_FILE_EXTENTS; id++)
    {
        struct wb_stream_header header = { id, 0, 4, 0 };
        memset(sink, 0, sizeof(*sink));
        wb_stream_header_pack(&header, stream);
        memcpy(stream + WB_STREAM_HEADER_SIZE, "abcd", 4);
        assert_int_equal(decode_chunks(sink, stream, WB_STREAM_HEADER_SIZE + 4, 7, 0, &boundary), WB_OK);
        assert_true(boundary);
        assert_int_equal(sink->ended, 1);
    }
    /* and the next id is unknown */
    {
        struct wb_stream_header header = { WB_BACKUP_GHOSTED_FILE_EXTENTS + 1, 0, 4, 0 };
        memset(sink, 0, sizeof(*sink));
        wb_stream_header_pack(&header, stream);
        assert_int_equal(decode_chunks(sink, stream, WB_STREAM_HEADER_SIZE + 4, 7, 0, &boundary), WB_ERROR_INVALID_DATA);
    }
    free(sink);
}

/* BackupSeek on a restore: inside a payload it skips (the bytes are not
 * written); asking for more than is left stops at the end of the stream,
 * reports what it skipped and fails with ERROR_SEEK; between streams it
 * moves nothing. */
static void test_decoder_seek(void **state)
{
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    struct wb_decoder *decoder = wb_decoder_new(&rec_sink_ops, sink, 0);
    struct wb_stream_header header = { WB_BACKUP_DATA, 0, 10, 0 };
    uint8_t head[WB_STREAM_HEADER_SIZE];
    uint64_t skipped = 99;

    wb_stream_header_pack(&header, head);
    assert_int_equal(wb_decoder_seek(decoder, 1, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 0);
    assert_int_equal(wb_decoder_write(decoder, head, 12), WB_OK);
    assert_int_equal(wb_decoder_seek(decoder, 1, &skipped), WB_ERROR_SEEK);      /* inside the header */
    assert_int_equal(wb_decoder_write(decoder, head + 12, 8), WB_OK);
    assert_int_equal(wb_decoder_write(decoder, "ab", 2), WB_OK);
    assert_int_equal(wb_decoder_seek(decoder, 3, &skipped), WB_OK);
    assert_int_equal(skipped, 3);
    assert_int_equal(wb_decoder_write(decoder, "f", 1), WB_OK);
    assert_int_equal(wb_decoder_seek(decoder, 100, &skipped), WB_ERROR_SEEK);
    assert_int_equal(skipped, 4);
    assert_true(wb_decoder_at_boundary(decoder));
    assert_int_equal(sink->ended, 1);
    assert_memory_equal(sink->data, "ab\0\0\0f", 6);
    wb_decoder_free(decoder);
    free(sink);
}

/* Each malformed-input class and the exact error it gets. */
static void test_decoder_malformed(void **state)
{
    struct case_
    {
        const char *what;
        uint8_t bytes[64];
        size_t size;
        uint32_t error;
    };
#define HDR(id, size_lo, size_hi, name) \
    id,0,0,0, 0,0,0,0, (size_lo)&0xff,((size_lo)>>8)&0xff,((size_lo)>>16)&0xff,((size_lo)>>24)&0xff, \
    (size_hi)&0xff,((size_hi)>>8)&0xff,((size_hi)>>16)&0xff,((size_hi)>>24)&0xff, (name)&0xff,((name)>>8)&0xff,0,0
    static const struct case_ cases[] =
    {
        { "id 0 (BACKUP_INVALID)", { HDR(0, 0, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "unknown id 12", { HDR(12, 0, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "size over 2^63", { HDR(1, 0, 0x80000000, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "odd name size", { HDR(4, 0, 0, 17) }, 20, WB_ERROR_INVALID_DATA },
        { "name too long", { HDR(4, 0, 0, WB_MAX_STREAM_NAME_BYTES + 2) }, 20, WB_ERROR_INVALID_DATA },
        { "name on a DATA stream", { HDR(1, 0, 0, 2), 'a', 0 }, 22, WB_ERROR_INVALID_DATA },
        { "ADS without a name", { HDR(4, 0, 0, 0) }, 20, WB_ERROR_INVALID_NAME },
        { "ADS name without ':'", { HDR(4, 0, 0, 16), 'x',0,'s',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 36, WB_ERROR_INVALID_NAME },
        { "ADS name without :$DATA", { HDR(4, 0, 0, 16), ':',0,'s',0,':',0,'$',0,'D',0,'A',0,'T',0,'X',0 }, 36, WB_ERROR_INVALID_NAME },
        { "empty ADS name", { HDR(4, 0, 0, 14), ':',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 34, WB_ERROR_INVALID_NAME },
        { "ADS name with '/'", { HDR(4, 0, 0, 20), ':',0,'a',0,'/',0,'b',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 40, WB_ERROR_INVALID_NAME },
        { "ADS name with '\\'", { HDR(4, 0, 0, 20), ':',0,'a',0,'\\',0,'b',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 40, WB_ERROR_INVALID_NAME },
        { "ADS name with NUL", { HDR(4, 0, 0, 20), ':',0,'a',0,0,0,'b',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 40, WB_ERROR_INVALID_NAME },
        { "ADS name with ':'", { HDR(4, 0, 0, 20), ':',0,'a',0,':',0,'b',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 40, WB_ERROR_INVALID_NAME },
        { "ADS name '..'", { HDR(4, 0, 0, 18), ':',0,'.',0,'.',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 38, WB_ERROR_INVALID_NAME },
        { "ADS name '.'", { HDR(4, 0, 0, 16), ':',0,'.',0,':',0,'$',0,'D',0,'A',0,'T',0,'A',0 }, 36, WB_ERROR_INVALID_NAME },
        { "EA set over 64 KiB", { HDR(2, 0x10001, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "security descriptor over the limit", { HDR(3, WB_MAX_SECURITY_SIZE + 1, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "reparse data over 16 KiB", { HDR(8, 0x4001, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "object id of 16 bytes", { HDR(7, 16, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "link of odd size", { HDR(5, 5, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "link of 2 bytes", { HDR(5, 2, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "sparse block under 8 bytes", { HDR(9, 7, 0, 0) }, 20, WB_ERROR_INVALID_DATA },
        { "sparse offset over 2^63", { HDR(9, 8, 0, 0), 0,0,0,0,0,0,0,0x80 }, 28, WB_ERROR_INVALID_DATA },
        { "sparse block past 2^63", { HDR(9, 0x10, 0, 0), 0xff,0xff,0xff,0xff,0xff,0xff,0xff,0x7f }, 28, WB_ERROR_INVALID_DATA },
    };
#undef HDR
    unsigned int i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    {
        size_t chunk;
        for (chunk = 1; chunk <= cases[i].size; chunk += 3)
        {
            struct rec_sink *sink = calloc(1, sizeof(*sink));
            uint32_t status = decode_chunks(sink, cases[i].bytes, cases[i].size, chunk, WB_DECODE_SECURITY, NULL);
            if (status != cases[i].error)
                fail_msg("%s (chunk %zu): got %u, expected %u", cases[i].what, chunk, status, cases[i].error);
            /* nothing of a rejected stream reaches the sink */
            if (sink->log_len) fail_msg("%s: sink saw '%s'", cases[i].what, sink->log);
            free(sink);
        }
    }
}

/* The first error sticks; later writes return it and consume nothing. */
static void test_decoder_error_is_sticky(void **state)
{
    static const uint8_t bad[20] = { 0 };
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    struct wb_decoder *decoder = wb_decoder_new(&rec_sink_ops, sink, 0);

    assert_int_equal(wb_decoder_write(decoder, bad, sizeof(bad)), WB_ERROR_INVALID_DATA);
    assert_int_equal(wb_decoder_write(decoder, golden_data, sizeof(golden_data)), WB_ERROR_INVALID_DATA);
    assert_int_equal(sink->log_len, 0);
    assert_false(wb_decoder_at_boundary(decoder));
    wb_decoder_free(decoder);
    free(sink);
}

/* A sink error stops decoding; begin/end stay paired. */
static void test_decoder_sink_error(void **state)
{
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    uint8_t stream[sizeof(golden_data) + sizeof(golden_ads)];

    memcpy(stream, golden_data, sizeof(golden_data));
    memcpy(stream + sizeof(golden_data), golden_ads, sizeof(golden_ads));
    sink->fail_begin_id = WB_BACKUP_ALTERNATE_DATA;
    assert_int_equal(decode_chunks(sink, stream, sizeof(stream), 5, 0, NULL), WB_ERROR_ACCESS_DENIED);
    assert_string_equal(sink->log, "begin 1 attr 0 size 5 data 5 off 0 name ''\nend\n");
    free(sink);
}

static void test_decoder_truncated(void **state)
{
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    int boundary;

    assert_int_equal(decode_chunks(sink, golden_data, sizeof(golden_data) - 1, 4, 0, &boundary), WB_OK);
    assert_false(boundary);
    assert_int_equal(decode_chunks(sink, golden_data, 10, 4, 0, &boundary), WB_OK);
    assert_false(boundary);
    free(sink);
}

static void test_decoder_bad_parameters(void **state)
{
    struct wb_sink_ops no_end = { rec_begin, rec_write, NULL };
    struct rec_sink *sink = calloc(1, sizeof(*sink));
    struct wb_decoder *decoder;

    assert_null(wb_decoder_new(NULL, sink, 0));
    assert_null(wb_decoder_new(&no_end, sink, 0));
    decoder = wb_decoder_new(&rec_sink_ops, sink, 0);
    assert_int_equal(wb_decoder_write(decoder, NULL, 4), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_decoder_write(NULL, golden_data, 4), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_decoder_write(decoder, NULL, 0), WB_OK);
    assert_false(wb_decoder_at_boundary(NULL));
    wb_decoder_free(decoder);
    wb_decoder_free(NULL);
    free(sink);
}

/* "$data" in any case names the data type, as NTFS accepts it. */
static void test_stream_name_validation(void **state)
{
    static const uint8_t lower[] = { ':',0, 'n',0, ':',0, '$',0, 'd',0, 'a',0, 't',0, 'a',0 };
    static const uint8_t dots3[] = { ':',0, '.',0, '.',0, '.',0, ':',0, '$',0, 'D',0, 'A',0, 'T',0, 'A',0 };
    uint32_t start, chars;

    assert_int_equal(wb_validate_stream_name(lower, sizeof(lower), &start, &chars), WB_OK);
    assert_int_equal(start, 1);
    assert_int_equal(chars, 1);
    assert_int_equal(wb_validate_stream_name(dots3, sizeof(dots3), &start, &chars), WB_OK);
    assert_int_equal(chars, 3);
    assert_int_equal(wb_validate_stream_name(lower, 7, &start, &chars), WB_ERROR_INVALID_NAME);
}

/* [MS-BKUP] 2.2 note 2: a name without a type gets ":$DATA" from NTFS, so
 * ":ads" is the stream ":ads:$DATA"; another type is not a data stream. */
static void test_stream_name_without_type(void **state)
{
    static const uint8_t bare[] = { ':',0, 'a',0, 'd',0, 's',0 };
    static const uint8_t one[] = { ':',0, 'x',0 };
    static const uint8_t colon[] = { ':',0 };
    static const uint8_t index[] = { ':',0, 'i',0, ':',0, '$',0, 'I',0, 'N',0, 'D',0, 'E',0, 'X',0 };
    static const uint8_t trailing[] = { ':',0, 'a',0, ':',0 };
    uint32_t start = 0, chars = 0;

    assert_int_equal(wb_validate_stream_name(bare, sizeof(bare), &start, &chars), WB_OK);
    assert_int_equal(start, 1);
    assert_int_equal(chars, 3);
    assert_int_equal(wb_validate_stream_name(one, sizeof(one), &start, &chars), WB_OK);
    assert_int_equal(chars, 1);
    assert_int_equal(wb_validate_stream_name(colon, sizeof(colon), &start, &chars), WB_ERROR_INVALID_NAME);
    assert_int_equal(wb_validate_stream_name(index, sizeof(index), &start, &chars), WB_ERROR_INVALID_NAME);
    assert_int_equal(wb_validate_stream_name(trailing, sizeof(trailing), &start, &chars), WB_ERROR_INVALID_NAME);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_encoder_every_chunk_size),
        cmocka_unit_test(test_encoder_empty_source),
        cmocka_unit_test(test_encoder_bad_parameters),
        cmocka_unit_test(test_encoder_rejects_bad_source_stream),
        cmocka_unit_test(test_encoder_full_and_aligned_reads),
        cmocka_unit_test(test_seek_within_stream),
        cmocka_unit_test(test_seek_past_end_of_stream),
        cmocka_unit_test(test_seek_exactly_to_end),
        cmocka_unit_test(test_seek_inside_header),
        cmocka_unit_test(test_seek_after_name),
        cmocka_unit_test(test_seek_large_distance),
        cmocka_unit_test(test_seek_sparse_block),
        cmocka_unit_test(test_read_error_then_seek),
        cmocka_unit_test(test_file_shrank),
        cmocka_unit_test(test_source_error_reported),
        cmocka_unit_test(test_decoder_every_chunk_size),
        cmocka_unit_test(test_decoder_buffers_metadata),
        cmocka_unit_test(test_decoder_takes_every_known_id),
        cmocka_unit_test(test_decoder_seek),
        cmocka_unit_test(test_decoder_malformed),
        cmocka_unit_test(test_decoder_error_is_sticky),
        cmocka_unit_test(test_decoder_sink_error),
        cmocka_unit_test(test_decoder_truncated),
        cmocka_unit_test(test_decoder_bad_parameters),
        cmocka_unit_test(test_stream_name_validation),
        cmocka_unit_test(test_stream_name_without_type),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
