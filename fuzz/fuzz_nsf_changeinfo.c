/*
 * libFuzzer target: NSF change info through NSFBackupApplyNextChangeInfo's
 * code (core/api.c + core/changeinfo.c) into an in-memory copy.
 *
 * Structure-aware: the input describes a stream (header fields, records
 * with types, offsets, lengths and payload seeds) that is assembled with
 * valid CRCs, so the fuzzer explores the decoder's rules instead of dying
 * on checksums; then an optional damage (byte position, XOR value) and the
 * chunk size the stream is fed in.  Checked on every input:
 *   - every write the sink receives lies inside [0, size at Start) and
 *     comes after the previous one (no overlap, increasing);
 *   - nothing is finished (size set, mark cleared) unless the END record
 *     arrived and exactly the announced size was fed;
 *   - an undamaged stream built from rule-abiding records is accepted, and
 *     the copy then holds exactly the records' bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../libs/nsf/nsf.h"
#include "nsferr.h"

#define MAX_SIZE 65536

struct input { const uint8_t *data; size_t size, pos; };
static uint32_t take(struct input *in, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint32_t)(in->pos < in->size ? in->data[in->pos++] : 0) << (8 * i);
    return v;
}

static uint8_t copy[MAX_SIZE], expect[MAX_SIZE];
static uint64_t start_size, last_end;
static int finished;

static nsf_status s_begin(void *s, const uint8_t id[16]) { return 0; }
static nsf_status s_write(void *s, uint64_t off, const void *d, uint32_t n)
{
    if (off < last_end || off + n > start_size || !n) abort();
    memcpy(copy + off, d, n);
    last_end = off + n;
    return 0;
}
static nsf_status s_zero(void *s, uint64_t off, uint32_t n)
{
    if (off < last_end || off + n > start_size || !n) abort();
    memset(copy + off, 0, n);
    last_end = off + n;
    return 0;
}
static nsf_status s_finish(void *s, uint64_t size) { finished = 1; return 0; }
static void s_close(void *s) {}
static const struct nsf_apply_sink_ops sink = { s_begin, s_write, s_zero, s_finish, s_close };
static nsf_status p_apply_open(const char *path, void **s) { *s = NULL; return 0; }
static const struct nsf_platform_ops platform = { .apply_open = p_apply_open, .sink_ops = &sink };

static void le(uint8_t *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i)); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t stream[1 << 20];
    struct input in = { data, size, 0 };
    size_t len = 0, chunk;
    uint8_t id[16];
    uint32_t record_max, seq = 0, records = 0, nrec, damage_pos, damage_xor, ctx;
    uint64_t next_off = 0;
    int valid = 1;
    nsf_status st = 0;

    nsf_api_set_platform(&platform);
    start_size = take(&in, 2);
    record_max = take(&in, 2) + 1;
    nrec = take(&in, 1) % 32;
    memset(id, take(&in, 1), 16);
    /* header */
    memset(stream, 0, 64);
    memcpy(stream, "WBNSFCI\0", 8);
    le(stream + 8, 1, 2);
    le(stream + 10, 64, 2);
    memcpy(stream + 16, id, 16);
    le(stream + 32, start_size, 8);
    le(stream + 40, record_max, 4);
    le(stream + 60, nsf_crc32c(0, stream, 60), 4);
    len = 64;
    memset(expect, 0xEE, sizeof(expect));
    memset(copy, 0xEE, sizeof(copy));
    for (uint32_t r = 0; r < nrec; r++)
    {
        uint32_t type = take(&in, 1) % 4;          /* 0 is not a type: a rule breaker */
        uint64_t off = next_off + take(&in, 1);
        uint32_t length = take(&in, 2) % 4096, seed = take(&in, 1), crc;
        uint8_t *h = stream + len;
        uint32_t payload = type == NSF_CI_REC_DATA ? length : 0;
        if (type == NSF_CI_REC_END) break;
        if (len + 24 + payload > sizeof(stream)) break;
        if (!type || !length || off + length > start_size || (type == 1 && length > record_max)) valid = 0;
        le(h, type, 4);
        le(h + 4, length, 4);
        le(h + 8, off, 8);
        le(h + 16, seq++, 4);
        for (uint32_t i = 0; i < payload; i++) h[24 + i] = (uint8_t)(seed + i * 7);
        crc = nsf_crc32c(0, id, 16);
        crc = nsf_crc32c(crc, h, 20);
        crc = nsf_crc32c(crc, h + 24, payload);
        le(h + 20, crc, 4);
        if (valid && off + length <= MAX_SIZE)
            for (uint32_t i = 0; i < length; i++) expect[off + i] = type == 1 ? (uint8_t)(seed + i * 7) : 0;
        len += 24 + payload;
        next_off = off + length;
        records++;
    }
    {
        uint8_t *h = stream + len;
        uint32_t crc;
        le(h, NSF_CI_REC_END, 4);
        le(h + 4, 0, 4);
        le(h + 8, records, 8);
        le(h + 16, seq, 4);
        crc = nsf_crc32c(nsf_crc32c(0, id, 16), h, 20);
        le(h + 20, crc, 4);
        len += 24;
    }
    damage_pos = take(&in, 2);
    damage_xor = take(&in, 1);
    if (damage_xor && damage_pos < len) { stream[damage_pos] ^= damage_xor; valid = 0; }
    chunk = take(&in, 2) % 300 + 1;
    if (record_max > NSF_CI_MAX_RECORD) valid = 0;

    finished = 0;
    last_end = 0;
    if (nsf_api_apply_start(&ctx, "copy", 0, (uint32_t)len, 0)) return 0;
    for (size_t pos = 0; pos < len && !st; pos += chunk)
        st = nsf_api_apply_next(ctx, 0, (const char *)stream + pos, len - pos < chunk ? len - pos : chunk);
    st = nsf_api_apply_end(ctx, 0);
    if ((!st) != finished) abort();                /* finished exactly when End succeeded */
    if (valid && st) abort();                      /* a rule-abiding stream is accepted */
    if (valid && start_size <= MAX_SIZE && memcmp(copy, expect, start_size)) abort();
    return 0;
}
