/*
 * The change-info format: encoder (NSFBackupGetNextChangeInfo) and decoder
 * (NSFBackupApplyNextChangeInfo), both explicit state machines that stop at
 * any byte and go on with the next call, like the BackupRead encoder.
 *
 * Layout (all integers little-endian; docs/nsf-changeinfo.md):
 *
 *   header  64 bytes: magic "WBNSFCI\0", u16 version (1), u16 header size
 *           (64), u32 flags (0), u8 backup_id[16], u64 start_size,
 *           u32 record_max, 16 reserved zero bytes, u32 CRC-32C of bytes 0..59
 *   record  24 bytes: u32 type, u32 length, u64 offset, u32 sequence,
 *           u32 CRC-32C over backup_id, the first 20 header bytes and the
 *           payload; then `length` payload bytes
 *     DATA (1): the before-image of [offset, offset+length), 1 <= length <=
 *           record_max, offset+length <= start_size, offsets strictly
 *           increasing and non-overlapping
 *     ZERO (3): [offset, offset+length) held zeros (a hole) at Start: no
 *           payload, 1 <= length <= 2^30, same offset rules as DATA
 *     END (2):  length 0, offset = number of DATA and ZERO records; the last
 *   Sequence numbers count records from 0 (END included), so a dropped,
 *   repeated or reordered record fails its CRC or its sequence check.
 *
 * Encoder states: HEAD (emit the header) -> NEXT (ask the source for the
 * next piece, at most record_max bytes, read it and checksum it) -> REC
 * (emit record header + payload from rec[]) -> ... -> END (emit the END
 * record) -> DONE.  The payload buffer is record_max bytes: memory is
 * bounded whatever the file or change size.
 *
 * Decoder states: HEAD (collect 64 bytes, validate) -> RHEAD (collect 24)
 * -> RDATA (collect the payload, verify, deliver) -> ... -> DONE after END;
 * any byte after END, a bad CRC, a bad type, sequence, offset or length is
 * ERR_CORRUPT_CHANGE_INFO and the decoder stays failed.  Payloads are
 * delivered only after their CRC verified, so nothing unverified ever
 * reaches the copy.
 */
#include <stdlib.h>
#include <string.h>
#include "../nsf.h"
#include "nsferr.h"
#include "oserr.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void encode_header(const struct nsf_ci_header *h, uint8_t out[NSF_CI_HEADER_SIZE])
{
    memset(out, 0, NSF_CI_HEADER_SIZE);
    memcpy(out, NSF_CI_MAGIC, 8);
    put16(out + 8, NSF_CI_VERSION);
    put16(out + 10, NSF_CI_HEADER_SIZE);
    put32(out + 12, h->flags);
    memcpy(out + 16, h->backup_id, 16);
    put64(out + 32, h->start_size);
    put32(out + 40, h->record_max);
    put32(out + 60, nsf_crc32c(0, out, 60));
}

static uint32_t record_crc(const uint8_t id[16], const uint8_t head[NSF_CI_RECORD_HEADER_SIZE],
                           const void *payload, uint32_t size)
{
    uint32_t crc = nsf_crc32c(0, id, 16);
    crc = nsf_crc32c(crc, head, 20);
    return nsf_crc32c(crc, payload, size);
}

/* ---------------------------------------------------------------- encoder */

enum enc_state { ENC_HEAD, ENC_NEXT, ENC_REC, ENC_END, ENC_DONE };

struct nsf_ci_encoder
{
    struct nsf_ci_header header;
    const struct nsf_range_source_ops *ops;
    void *source;
    enum enc_state state;
    uint8_t head[NSF_CI_HEADER_SIZE];       /* header or record header being emitted */
    uint32_t head_size, head_pos;
    uint8_t *rec;                           /* payload of the current record */
    uint32_t rec_size, rec_pos;
    uint64_t range_offset, range_left;      /* what is left of the source's current range */
    int range_zero;
    uint64_t last_end;                      /* end of the previous record: ranges must come after it */
    uint32_t sequence;
    uint64_t records;
};

nsf_status nsf_ci_encoder_new(const struct nsf_ci_header *header, const struct nsf_range_source_ops *ops,
                              void *source, struct nsf_ci_encoder **encoder)
{
    struct nsf_ci_encoder *enc;

    *encoder = NULL;
    if (!header->record_max || header->record_max > NSF_CI_MAX_RECORD || header->flags) return ERR_UNKNOWN;
    if (!(enc = calloc(1, sizeof(*enc)))) return ERR_MEMORY;
    if (!(enc->rec = malloc(header->record_max)))
    {
        free(enc);
        return ERR_MEMORY;
    }
    enc->header = *header;
    enc->ops = ops;
    enc->source = source;
    enc->state = ENC_HEAD;
    encode_header(header, enc->head);
    enc->head_size = NSF_CI_HEADER_SIZE;
    *encoder = enc;
    return ops->rewind(source);
}

void nsf_ci_encoder_free(struct nsf_ci_encoder *encoder)
{
    if (!encoder) return;
    free(encoder->rec);
    free(encoder);
}

/* A range from the source, checked: in order, inside the file at Start. */
static nsf_status next_range(struct nsf_ci_encoder *enc, uint64_t last_end, uint64_t *offset, uint64_t *length,
                             int *zero)
{
    nsf_status status;

    *zero = 0;
    status = enc->ops->next(enc->source, offset, length, zero);
    if (status) return status;
    if (!*length) return 0;
    if (*offset < last_end || *offset > enc->header.start_size || *length > enc->header.start_size - *offset)
        return ERR_UNKNOWN;     /* a recorder bug, never a reason to emit a bad stream */
    return 0;
}

nsf_status nsf_ci_encoder_size(struct nsf_ci_encoder *enc, uint64_t *size)
{
    uint64_t total = NSF_CI_HEADER_SIZE + NSF_CI_RECORD_HEADER_SIZE, offset, length, last_end = 0;
    nsf_status status;
    int zero;

    if (enc->state != ENC_HEAD || enc->head_pos) return ERR_UNKNOWN;   /* only before the first byte */
    for (;;)
    {
        if ((status = next_range(enc, last_end, &offset, &length, &zero))) return status;
        if (!length) break;
        if (zero) total += ((length + NSF_CI_MAX_ZERO - 1) / NSF_CI_MAX_ZERO) * NSF_CI_RECORD_HEADER_SIZE;
        else total += length + ((length + enc->header.record_max - 1) / enc->header.record_max) * NSF_CI_RECORD_HEADER_SIZE;
        last_end = offset + length;
    }
    *size = total;
    return enc->ops->rewind(enc->source);
}

static void start_record(struct nsf_ci_encoder *enc, uint32_t type, uint64_t offset, uint32_t length)
{
    uint32_t payload = type == NSF_CI_REC_DATA ? length : 0;

    put32(enc->head, type);
    put32(enc->head + 4, length);
    put64(enc->head + 8, offset);
    put32(enc->head + 16, enc->sequence++);
    put32(enc->head + 20, record_crc(enc->header.backup_id, enc->head, enc->rec, payload));
    enc->head_size = NSF_CI_RECORD_HEADER_SIZE;
    enc->head_pos = 0;
    enc->rec_size = payload;
    enc->rec_pos = 0;
}

/* NEXT: the next piece of at most record_max bytes, read and checksummed. */
static nsf_status load_record(struct nsf_ci_encoder *enc)
{
    nsf_status status;
    uint32_t piece;

    if (!enc->range_left)
    {
        if ((status = next_range(enc, enc->last_end, &enc->range_offset, &enc->range_left, &enc->range_zero)))
            return status;
        if (!enc->range_left)
        {
            start_record(enc, NSF_CI_REC_END, enc->records, 0);
            enc->state = ENC_END;
            return 0;
        }
    }
    if (enc->range_zero)
    {
        piece = enc->range_left < NSF_CI_MAX_ZERO ? (uint32_t)enc->range_left : NSF_CI_MAX_ZERO;
        start_record(enc, NSF_CI_REC_ZERO, enc->range_offset, piece);
    }
    else
    {
        piece = enc->range_left < enc->header.record_max ? (uint32_t)enc->range_left : enc->header.record_max;
        if ((status = enc->ops->read(enc->source, enc->range_offset, enc->rec, piece))) return status;
        start_record(enc, NSF_CI_REC_DATA, enc->range_offset, piece);
    }
    enc->range_offset += piece;
    enc->range_left -= piece;
    enc->last_end = enc->range_offset;
    enc->records++;
    enc->state = ENC_REC;
    return 0;
}

nsf_status nsf_ci_encoder_read(struct nsf_ci_encoder *enc, void *buffer, uint32_t size, uint32_t *filled)
{
    uint8_t *out = buffer;
    nsf_status status;
    uint32_t n;

    *filled = 0;
    while (*filled < size && enc->state != ENC_DONE)
    {
        if (enc->state == ENC_NEXT)
        {
            if ((status = load_record(enc))) return status;
            continue;
        }
        if (enc->head_pos < enc->head_size)
        {
            n = enc->head_size - enc->head_pos;
            if (n > size - *filled) n = size - *filled;
            memcpy(out + *filled, enc->head + enc->head_pos, n);
            enc->head_pos += n;
            *filled += n;
            continue;
        }
        if (enc->state == ENC_REC && enc->rec_pos < enc->rec_size)
        {
            n = enc->rec_size - enc->rec_pos;
            if (n > size - *filled) n = size - *filled;
            memcpy(out + *filled, enc->rec + enc->rec_pos, n);
            enc->rec_pos += n;
            *filled += n;
            continue;
        }
        enc->state = enc->state == ENC_END ? ENC_DONE : ENC_NEXT;
    }
    return 0;
}

/* ---------------------------------------------------------------- decoder */

enum dec_state { DEC_HEAD, DEC_RHEAD, DEC_RDATA, DEC_DONE, DEC_FAILED };

struct nsf_ci_decoder
{
    const struct nsf_ci_sink_ops *ops;
    void *sink;
    enum dec_state state;
    struct nsf_ci_header header;
    int have_header;
    uint8_t head[NSF_CI_HEADER_SIZE];
    uint32_t head_pos;
    uint8_t *rec;
    uint32_t rec_type, rec_size, rec_pos, rec_crc;
    uint32_t rec_length;        /* the header's length field (a ZERO record has no payload) */
    uint64_t rec_offset;
    uint64_t next_offset;       /* DATA offsets must be at least this */
    uint32_t sequence;
    uint64_t records, consumed;
};

struct nsf_ci_decoder *nsf_ci_decoder_new(const struct nsf_ci_sink_ops *ops, void *sink)
{
    struct nsf_ci_decoder *dec = calloc(1, sizeof(*dec));
    if (!dec) return NULL;
    dec->ops = ops;
    dec->sink = sink;
    return dec;
}

void nsf_ci_decoder_free(struct nsf_ci_decoder *dec)
{
    if (!dec) return;
    free(dec->rec);
    free(dec);
}

int nsf_ci_decoder_done(const struct nsf_ci_decoder *dec) { return dec->state == DEC_DONE; }
uint64_t nsf_ci_decoder_consumed(const struct nsf_ci_decoder *dec) { return dec->consumed; }
const struct nsf_ci_header *nsf_ci_decoder_header(const struct nsf_ci_decoder *dec)
{
    return dec->have_header ? &dec->header : NULL;
}

static nsf_status parse_header(struct nsf_ci_decoder *dec)
{
    static const uint8_t zero[16];
    const uint8_t *h = dec->head;
    nsf_status status;

    if (memcmp(h, NSF_CI_MAGIC, 8) || get16(h + 8) != NSF_CI_VERSION || get16(h + 10) != NSF_CI_HEADER_SIZE ||
        get32(h + 60) != nsf_crc32c(0, h, 60) || memcmp(h + 44, zero, 16))
        return ERR_CORRUPT_CHANGE_INFO;
    dec->header.flags = get32(h + 12);
    memcpy(dec->header.backup_id, h + 16, 16);
    dec->header.start_size = get64(h + 32);
    dec->header.record_max = get32(h + 40);
    if (dec->header.flags || !dec->header.record_max || dec->header.record_max > NSF_CI_MAX_RECORD ||
        dec->header.start_size > (UINT64_C(1) << 62))
        return ERR_CORRUPT_CHANGE_INFO;
    if (!(dec->rec = malloc(dec->header.record_max))) return ERR_MEMORY;
    dec->have_header = 1;
    if (dec->ops->begin && (status = dec->ops->begin(dec->sink, &dec->header))) return status;
    return 0;
}

static nsf_status parse_record_header(struct nsf_ci_decoder *dec)
{
    const uint8_t *h = dec->head;

    dec->rec_type = get32(h);
    dec->rec_size = get32(h + 4);
    dec->rec_offset = get64(h + 8);
    dec->rec_crc = get32(h + 20);
    if (get32(h + 16) != dec->sequence) return ERR_CORRUPT_CHANGE_INFO;
    if (dec->rec_type == NSF_CI_REC_DATA || dec->rec_type == NSF_CI_REC_ZERO)
    {
        uint32_t max = dec->rec_type == NSF_CI_REC_DATA ? dec->header.record_max : NSF_CI_MAX_ZERO;
        if (!dec->rec_size || dec->rec_size > max || dec->rec_offset < dec->next_offset ||
            dec->rec_offset > dec->header.start_size || dec->rec_size > dec->header.start_size - dec->rec_offset)
            return ERR_CORRUPT_CHANGE_INFO;
        dec->rec_length = dec->rec_size;
        if (dec->rec_type == NSF_CI_REC_ZERO) dec->rec_size = 0;    /* no payload follows */
    }
    else if (dec->rec_type == NSF_CI_REC_END)
    {
        if (dec->rec_size || dec->rec_offset != dec->records) return ERR_CORRUPT_CHANGE_INFO;
    }
    else return ERR_CORRUPT_CHANGE_INFO;
    dec->rec_pos = 0;
    return 0;
}

static nsf_status finish_record(struct nsf_ci_decoder *dec)
{
    nsf_status status;

    if (record_crc(dec->header.backup_id, dec->head, dec->rec, dec->rec_size) != dec->rec_crc)
        return ERR_CORRUPT_CHANGE_INFO;
    dec->sequence++;
    if (dec->rec_type == NSF_CI_REC_END)
    {
        dec->state = DEC_DONE;
        return 0;
    }
    if (dec->rec_type == NSF_CI_REC_ZERO) status = dec->ops->zero(dec->sink, dec->rec_offset, dec->rec_length);
    else status = dec->ops->write(dec->sink, dec->rec_offset, dec->rec, dec->rec_size);
    if (status) return status;
    dec->next_offset = dec->rec_offset + dec->rec_length;
    dec->records++;
    dec->head_pos = 0;
    dec->state = DEC_RHEAD;
    return 0;
}

nsf_status nsf_ci_decoder_feed(struct nsf_ci_decoder *dec, const void *data, size_t size)
{
    const uint8_t *in = data;
    nsf_status status = 0;
    size_t n;

    if (dec->state == DEC_FAILED) return ERR_CORRUPT_CHANGE_INFO;
    while (size && !status)
    {
        switch (dec->state)
        {
        case DEC_HEAD:
        case DEC_RHEAD:
        {
            uint32_t want = dec->state == DEC_HEAD ? NSF_CI_HEADER_SIZE : NSF_CI_RECORD_HEADER_SIZE;
            n = want - dec->head_pos;
            if (n > size) n = size;
            memcpy(dec->head + dec->head_pos, in, n);
            dec->head_pos += n;
            if (dec->head_pos < want) break;
            if (dec->state == DEC_HEAD)
            {
                if (!(status = parse_header(dec)))
                {
                    dec->head_pos = 0;
                    dec->state = DEC_RHEAD;
                }
            }
            else if (!(status = parse_record_header(dec)))
            {
                dec->state = DEC_RDATA;
                if (!dec->rec_size) status = finish_record(dec);
            }
            break;
        }
        case DEC_RDATA:
            n = dec->rec_size - dec->rec_pos;
            if (n > size) n = size;
            memcpy(dec->rec + dec->rec_pos, in, n);
            dec->rec_pos += n;
            if (dec->rec_pos == dec->rec_size) status = finish_record(dec);
            break;
        case DEC_DONE:
            status = ERR_CORRUPT_CHANGE_INFO;   /* nothing may follow END */
            n = 0;
            break;
        default:
            n = 0;
            status = ERR_CORRUPT_CHANGE_INFO;
            break;
        }
        in += n;
        size -= n;
        dec->consumed += n;
    }
    if (status) dec->state = DEC_FAILED;
    return status;
}
