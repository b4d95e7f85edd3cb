/*
 * Unit tests of the NSF change-info format (libs/nsf/core/changeinfo.c),
 * against docs/nsf-changeinfo.md: expected bytes are built here from the
 * spec with a bit-by-bit CRC-32C of our own, never taken from the encoder.
 */
#include "testutil.h"
#include "../libs/nsf/nsf.h"
#include "nsferr.h"
#include "oserr.h"

/* Bitwise CRC-32C, independent of the library's slice-by-8 tables. */
static uint32_t ref_crc(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (size--)
    {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }

/* ---- a stream built from the spec ---- */

struct builder { uint8_t *data; size_t size, capacity; uint8_t id[16]; uint32_t seq; uint64_t records; };

static void put(struct builder *b, const void *p, size_t n)
{
    if (!n) return;
    if (b->size + n > b->capacity) b->data = realloc(b->data, b->capacity = (b->size + n) * 2);
    memcpy(b->data + b->size, p, n);
    b->size += n;
}

static void build_header(struct builder *b, uint64_t start_size, uint32_t record_max)
{
    uint8_t h[64] = { 0 };
    memcpy(h, "WBNSFCI\0", 8);
    h[8] = 1; h[10] = 64;
    for (int i = 0; i < 16; i++) b->id[i] = (uint8_t)(0xA0 + i);
    memcpy(h + 16, b->id, 16);
    le64(h + 32, start_size);
    le32(h + 40, record_max);
    le32(h + 60, ref_crc(0, h, 60));
    put(b, h, 64);
}

static void build_record(struct builder *b, uint32_t type, uint64_t offset, uint32_t length, const void *payload)
{
    uint8_t h[24];
    uint32_t crc, psize = type == NSF_CI_REC_DATA ? length : 0;
    le32(h, type);
    le32(h + 4, length);
    le64(h + 8, offset);
    le32(h + 16, b->seq++);
    crc = ref_crc(0, b->id, 16);
    crc = ref_crc(crc, h, 20);
    crc = ref_crc(crc, payload, psize);
    le32(h + 20, crc);
    put(b, h, 24);
    put(b, payload, psize);
    if (type != NSF_CI_REC_END) b->records++;
}

/* ---- a sink that records what it is given ---- */

struct got { uint64_t offset; uint32_t size; int zero; uint8_t first, last; };
struct sink { struct got items[64]; int count; int begun; uint64_t data_bytes; };

static nsf_status s_begin(void *o, const struct nsf_ci_header *h) { ((struct sink *)o)->begun++; return 0; }
static nsf_status s_write(void *o, uint64_t off, const void *d, uint32_t n)
{
    struct sink *s = o;
    if (s->count < 64) s->items[s->count++] = (struct got){ off, n, 0, ((const uint8_t *)d)[0], ((const uint8_t *)d)[n - 1] };
    s->data_bytes += n;
    return 0;
}
static nsf_status s_zero(void *o, uint64_t off, uint32_t n)
{
    struct sink *s = o;
    if (s->count < 64) s->items[s->count++] = (struct got){ off, n, 1, 0, 0 };
    return 0;
}
static const struct nsf_ci_sink_ops sink_ops = { s_begin, s_write, s_zero };

/* decode in chunks of `chunk` bytes; returns the first error */
static nsf_status decode(const uint8_t *data, size_t size, size_t chunk, struct sink *s, int *done)
{
    struct nsf_ci_decoder *d = nsf_ci_decoder_new(&sink_ops, s);
    nsf_status st = 0;
    assert_non_null(d);
    for (size_t pos = 0; pos < size && !st; pos += chunk)
        st = nsf_ci_decoder_feed(d, data + pos, size - pos < chunk ? size - pos : chunk);
    *done = nsf_ci_decoder_done(d);
    nsf_ci_decoder_free(d);
    return st;
}

/* ---- a memory range source for the encoder ---- */

struct range { uint64_t offset, length; int zero; };
struct msource { const struct range *ranges; int count, next; const uint8_t *image; };

static nsf_status m_rewind(void *o) { ((struct msource *)o)->next = 0; return 0; }
static nsf_status m_next(void *o, uint64_t *off, uint64_t *len, int *zero)
{
    struct msource *m = o;
    if (m->next == m->count) { *len = 0; return 0; }
    *off = m->ranges[m->next].offset;
    *len = m->ranges[m->next].length;
    *zero = m->ranges[m->next].zero;
    m->next++;
    return 0;
}
static nsf_status m_read(void *o, uint64_t off, void *buf, uint32_t n)
{
    memcpy(buf, ((struct msource *)o)->image + off, n);
    return 0;
}
static const struct nsf_range_source_ops msource_ops = { m_rewind, m_next, m_read };

static uint8_t *encode_all(const struct nsf_ci_header *h, struct msource *m, uint32_t bufsize, size_t *size,
                           uint64_t *announced)
{
    struct nsf_ci_encoder *e;
    uint8_t *out = malloc(1 << 16), *buf = malloc(bufsize);
    size_t capacity = 1 << 16;
    uint32_t filled;
    *size = 0;
    assert_int_equal(nsf_ci_encoder_new(h, &msource_ops, m, &e), 0);
    assert_int_equal(nsf_ci_encoder_size(e, announced), 0);
    do
    {
        assert_int_equal(nsf_ci_encoder_read(e, buf, bufsize, &filled), 0);
        while (*size + filled > capacity) out = realloc(out, capacity *= 2);
        memcpy(out + *size, buf, filled);
        *size += filled;
    } while (filled);
    nsf_ci_encoder_free(e);
    free(buf);
    return out;
}

#define IMAGE_SIZE (3u << 20)
static uint8_t *image;

static void make_image(void)
{
    if (image) return;
    image = malloc(IMAGE_SIZE);
    for (uint32_t i = 0; i < IMAGE_SIZE; i++) image[i] = (uint8_t)(i * 31 + (i >> 11));
}

static const struct range sample_ranges[] =
{
    { 0, 10, 0 },                       /* a small DATA range at offset 0 */
    { 4096, 8192, 1 },                  /* a hole */
    { 20000, (1u << 20) + 5, 0 },       /* more than one record: split at record_max */
    { IMAGE_SIZE - 3, 3, 0 },           /* up to the size at Start */
};

static void test_crc32c_known_value(void **state)
{
    /* the published check value of CRC-32C */
    assert_int_equal(nsf_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ref_crc(0, "123456789", 9), 0xE3069283u);
    make_image();
    assert_int_equal(nsf_crc32c(0, image, 100001), ref_crc(0, image, 100001));
    /* incremental == one pass */
    assert_int_equal(nsf_crc32c(nsf_crc32c(0, image, 13), image + 13, 5000), ref_crc(0, image, 5013));
}

/* The encoder's bytes equal the stream built from the spec. */
static void test_encoder_matches_spec(void **state)
{
    struct nsf_ci_header h = { .start_size = IMAGE_SIZE, .record_max = NSF_CI_MAX_RECORD };
    struct msource m = { sample_ranges, 4, 0, NULL };
    struct builder b = { 0 };
    uint64_t announced;
    size_t size;
    uint8_t *out;

    make_image();
    m.image = image;
    build_header(&b, IMAGE_SIZE, NSF_CI_MAX_RECORD);
    memcpy(h.backup_id, b.id, 16);
    build_record(&b, NSF_CI_REC_DATA, 0, 10, image);
    build_record(&b, NSF_CI_REC_ZERO, 4096, 8192, NULL);
    build_record(&b, NSF_CI_REC_DATA, 20000, 1u << 20, image + 20000);
    build_record(&b, NSF_CI_REC_DATA, 20000 + (1u << 20), 5, image + 20000 + (1u << 20));
    build_record(&b, NSF_CI_REC_DATA, IMAGE_SIZE - 3, 3, image + IMAGE_SIZE - 3);
    build_record(&b, NSF_CI_REC_END, b.records, 0, NULL);

    for (uint32_t bufsize = 1; bufsize <= 70000; bufsize = bufsize * 7 + 3)
    {
        out = encode_all(&h, &m, bufsize, &size, &announced);
        assert_int_equal(size, b.size);
        assert_int_equal(announced, b.size);
        assert_memory_equal(out, b.data, b.size);
        free(out);
    }
    free(b.data);
}

static void test_empty_change_info(void **state)
{
    struct nsf_ci_header h = { .start_size = 12345, .record_max = 4096 };
    struct msource m = { NULL, 0, 0, NULL };
    struct sink s = { 0 };
    uint64_t announced;
    size_t size;
    int done;
    uint8_t *out = encode_all(&h, &m, 1000, &size, &announced);

    assert_int_equal(size, 64 + 24);            /* header + END */
    assert_int_equal(announced, 64 + 24);
    assert_int_equal(decode(out, size, 5, &s, &done), 0);
    assert_true(done);
    assert_int_equal(s.begun, 1);
    assert_int_equal(s.count, 0);
    free(out);
}

/* Every chunking of the input gives the same records, in order. */
static void test_decoder_any_chunking(void **state)
{
    struct nsf_ci_header h = { .start_size = IMAGE_SIZE, .record_max = NSF_CI_MAX_RECORD };
    struct msource m = { sample_ranges, 4, 0, NULL };
    uint64_t announced;
    size_t size, chunks[] = { 1, 2, 23, 24, 25, 64, 4096, 1 << 20, 1 << 22 };
    uint8_t *out;

    make_image();
    m.image = image;
    out = encode_all(&h, &m, 65536, &size, &announced);
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
    {
        struct sink s = { 0 };
        int done;
        assert_int_equal(decode(out, size, chunks[c], &s, &done), 0);
        assert_true(done);
        assert_int_equal(s.count, 5);
        assert_int_equal(s.items[0].offset, 0);
        assert_int_equal(s.items[0].size, 10);
        assert_int_equal(s.items[0].first, image[0]);
        assert_int_equal(s.items[0].last, image[9]);
        assert_true(s.items[1].zero);
        assert_int_equal(s.items[1].offset, 4096);
        assert_int_equal(s.items[1].size, 8192);
        assert_int_equal(s.items[2].size, 1u << 20);
        assert_int_equal(s.items[3].offset, 20000 + (1u << 20));
        assert_int_equal(s.items[3].size, 5);
        assert_int_equal(s.items[4].last, image[IMAGE_SIZE - 1]);
        assert_int_equal(s.data_bytes, 10 + (1u << 20) + 5 + 3);
    }
    free(out);
}

/* Every single damaged byte is refused, and nothing damaged reaches the sink. */
static void test_every_flipped_byte_is_refused(void **state)
{
    struct builder b = { 0 };
    uint8_t payload[300];

    for (int i = 0; i < 300; i++) payload[i] = (uint8_t)(i * 7);
    build_header(&b, 10000, 4096);
    build_record(&b, NSF_CI_REC_DATA, 100, 300, payload);
    build_record(&b, NSF_CI_REC_ZERO, 1000, 500, NULL);
    build_record(&b, NSF_CI_REC_DATA, 5000, 20, payload);
    build_record(&b, NSF_CI_REC_END, b.records, 0, NULL);
    for (size_t pos = 0; pos < b.size; pos++)
        for (int bit = 0; bit < 8; bit++)
        {
            struct sink s = { 0 };
            int done;
            nsf_status st;
            b.data[pos] ^= 1 << bit;
            st = decode(b.data, b.size, 7, &s, &done);
            /* refused at once, or (a length grown by the flip) still waiting
             * for bytes that never come: never complete */
            assert_true(st == ERR_CORRUPT_CHANGE_INFO || st == 0);
            assert_false(done);
            /* only the records before the damaged one were delivered, intact */
            for (int i = 0; i < s.count; i++)
            {
                if (s.items[i].zero) assert_int_equal(s.items[i].offset, 1000);
                else if (s.items[i].offset == 100) assert_int_equal(s.items[i].last, payload[299]);
                else assert_int_equal(s.items[i].offset, 5000);
            }
            b.data[pos] ^= 1 << bit;
        }
    free(b.data);
}

/* A truncated stream never completes; bytes after END are refused. */
static void test_truncated_and_trailing(void **state)
{
    struct builder b = { 0 };
    uint8_t payload[50] = { 1, 2, 3 };
    struct sink s = { 0 };
    int done;

    build_header(&b, 1000, 4096);
    build_record(&b, NSF_CI_REC_DATA, 0, 50, payload);
    build_record(&b, NSF_CI_REC_END, b.records, 0, NULL);
    for (size_t len = 0; len < b.size; len++)
    {
        memset(&s, 0, sizeof(s));
        assert_int_equal(decode(b.data, len, 3, &s, &done), 0);
        assert_false(done);
    }
    put(&b, "x", 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(decode(b.data, b.size, 1000, &s, &done), ERR_CORRUPT_CHANGE_INFO);
    free(b.data);
}

/* Records with valid CRCs that break the rules: refused. */
static void check_refused(void (*build)(struct builder *))
{
    struct builder b = { 0 };
    struct sink s = { 0 };
    int done;
    build(&b);
    assert_int_equal(decode(b.data, b.size, 11, &s, &done), ERR_CORRUPT_CHANGE_INFO);
    assert_false(done);
    free(b.data);
}

static uint8_t pl[64];
static void bad_overlap(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 1, 100, 50, pl); build_record(b, 1, 120, 10, pl); build_record(b, 2, 2, 0, NULL); }
static void bad_order(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 1, 500, 10, pl); build_record(b, 1, 100, 10, pl); build_record(b, 2, 2, 0, NULL); }
static void bad_past_end(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 1, 995, 10, pl); build_record(b, 2, 1, 0, NULL); }
static void bad_zero_past_end(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 3, 900, 200, NULL); build_record(b, 2, 1, 0, NULL); }
static void bad_too_long(struct builder *b)
{ build_header(b, 1000, 32); build_record(b, 1, 0, 33, pl); build_record(b, 2, 1, 0, NULL); }
static void bad_empty_record(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 1, 0, 0, pl); build_record(b, 2, 1, 0, NULL); }
static void bad_type(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 9, 0, 0, NULL); build_record(b, 2, 1, 0, NULL); }
static void bad_end_count(struct builder *b)
{ build_header(b, 1000, 64); build_record(b, 1, 0, 10, pl); build_record(b, 2, 7, 0, NULL); }
static void bad_record_max(struct builder *b)
{ build_header(b, 1000, NSF_CI_MAX_RECORD + 1); build_record(b, 2, 0, 0, NULL); }
static void bad_sequence(struct builder *b)
{ build_header(b, 1000, 64); b->seq = 1; build_record(b, 2, 0, 0, NULL); }
static void bad_version(struct builder *b)
{
    build_header(b, 1000, 64);
    b->data[8] = 2;
    le32(b->data + 60, ref_crc(0, b->data, 60));
    build_record(b, 2, 0, 0, NULL);
}

/* docs/nsf-changeinfo.md: flags (offset 12) are 0, anything else refused
 * (a later version's flag would change the meaning of what follows) */
static void bad_flags(struct builder *b)
{
    build_header(b, 1000, 64);
    le32(b->data + 12, 1);
    le32(b->data + 60, ref_crc(0, b->data, 60));
    build_record(b, 2, 0, 0, NULL);
}
static void bad_flags_high(struct builder *b)
{
    build_header(b, 1000, 64);
    le32(b->data + 12, 0x80000000u);
    le32(b->data + 60, ref_crc(0, b->data, 60));
    build_record(b, 2, 0, 0, NULL);
}

static void test_rule_breaking_records(void **state)
{
    check_refused(bad_overlap);
    check_refused(bad_order);
    check_refused(bad_past_end);
    check_refused(bad_zero_past_end);
    check_refused(bad_too_long);
    check_refused(bad_empty_record);
    check_refused(bad_type);
    check_refused(bad_end_count);
    check_refused(bad_record_max);
    check_refused(bad_sequence);
    check_refused(bad_version);
    check_refused(bad_flags);
    check_refused(bad_flags_high);
}

/* Records from another change info (another backup id) are refused. */
static void test_spliced_record(void **state)
{
    struct builder a = { 0 }, b = { 0 };
    struct sink s = { 0 };
    int done;

    build_header(&a, 1000, 64);
    build_record(&a, 1, 0, 10, pl);
    build_header(&b, 1000, 64);
    b.id[0] ^= 1;                               /* another backup */
    build_record(&b, 1, 0, 10, pl);
    /* a's header followed by b's record (its CRC covers b's id) */
    memcpy(a.data + 64, b.data + 64, 24 + 10);
    assert_int_equal(decode(a.data, a.size, 100, &s, &done), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(s.count, 0);
    free(a.data);
    free(b.data);
}

/* The encoder refuses a source that breaks the order (a recorder bug). */
static void test_encoder_refuses_bad_source(void **state)
{
    static const struct range bad[] = { { 100, 10, 0 }, { 50, 10, 0 } };
    static const struct range past[] = { { 990, 20, 0 } };
    struct nsf_ci_header h = { .start_size = 1000, .record_max = 64 };
    struct msource m = { bad, 2, 0, NULL };
    struct nsf_ci_encoder *e;
    uint64_t size;

    make_image();
    m.image = image;
    assert_int_equal(nsf_ci_encoder_new(&h, &msource_ops, &m, &e), 0);
    assert_int_not_equal(nsf_ci_encoder_size(e, &size), 0);
    nsf_ci_encoder_free(e);
    m.ranges = past;
    m.count = 1;
    assert_int_equal(nsf_ci_encoder_new(&h, &msource_ops, &m, &e), 0);
    assert_int_not_equal(nsf_ci_encoder_size(e, &size), 0);
    nsf_ci_encoder_free(e);
    h.record_max = NSF_CI_MAX_RECORD + 1;
    assert_int_not_equal(nsf_ci_encoder_new(&h, &msource_ops, &m, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_crc32c_known_value),
        cmocka_unit_test(test_encoder_matches_spec),
        cmocka_unit_test(test_empty_change_info),
        cmocka_unit_test(test_decoder_any_chunking),
        cmocka_unit_test(test_every_flipped_byte_is_refused),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_rule_breaking_records),
        cmocka_unit_test(test_spliced_record),
        cmocka_unit_test(test_encoder_refuses_bad_source),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free(image);
    return failed;
}
