/*
 * libFuzzer target: the metadata parsers fed with inputs BUILT from the fuzz
 * bytes rather than mutated blobs, so that the fuzzer reaches the deep paths
 * (every ACE of an ACL, every entry of an EA chain, a SID ending exactly at
 * the end of the buffer) instead of stopping at the first size field.
 *
 * The bytes are read as a little program by a cursor (struct reader): each
 * structure takes its counts, types and lengths from it, and "exact or off by
 * a little" choices for every size field, so both the well-formed shape and
 * its near misses come out.  Every built object lives in a heap block of
 * exactly its size, so ASan sees a read one byte past it.
 *
 * Properties checked, beyond "no crash":
 *  - a descriptor that maps onto owner, group and mode maps back onto a
 *    valid descriptor that maps onto the same owner, group and mode;
 *  - an EA chain that decodes re-encodes (last entry unpadded, as [MS-FSCC]
 *    2.4.15 says) and decodes to the same entries;
 *  - a reparse buffer that yields a symlink target yields it again after a
 *    round trip through wb_reparse_from_symlink;
 *  - a POSIX ACL that parses gives a valid descriptor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"

struct reader
{
    const uint8_t *data;
    size_t size, pos;
};

static uint8_t u8(struct reader *r)
{
    return r->pos < r->size ? r->data[r->pos++] : 0;
}

static uint16_t u16(struct reader *r)
{
    return u8(r) | (uint16_t)u8(r) << 8;
}

static uint32_t u32(struct reader *r)
{
    return u16(r) | (uint32_t)u16(r) << 16;
}

/* A size field: the exact value most of the time, else a near miss. */
static uint32_t size_field(struct reader *r, uint32_t exact)
{
    uint8_t pick = u8(r);
    if (pick < 200) return exact;
    if (pick < 215) return exact + 1 + (pick & 7);
    if (pick < 230) return exact > (uint32_t)(pick & 7) ? exact - 1 - (pick & 7) : 0;
    if (pick < 245) return exact + 4;
    return u16(r);
}

struct buf
{
    uint8_t bytes[65536];
    size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > sizeof(b->bytes)) n = sizeof(b->bytes) - b->len;
    memcpy(b->bytes + b->len, p, n);
    b->len += n;
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { uint8_t x[2] = { v, v >> 8 }; put(b, x, 2); }
static void put32(struct buf *b, uint32_t v) { uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 }; put(b, x, 4); }

static void patch16(struct buf *b, size_t at, uint16_t v)
{
    if (at + 2 <= b->len) { b->bytes[at] = v; b->bytes[at + 1] = v >> 8; }
}

static void patch32(struct buf *b, size_t at, uint32_t v)
{
    if (at + 4 <= b->len) { patch16(b, at, v); patch16(b, at + 2, v >> 16); }
}

/* A SID: mostly revision 1 with 0..15 sub-authorities, and the well-known
 * shapes the SD code looks for (S-1-1-0, S-1-22-1-x, S-1-22-2-x) often. */
static void build_sid(struct reader *r, struct buf *b)
{
    uint8_t kind = u8(r), count, i;

    switch (kind & 7)
    {
    case 0:     /* Everyone, or a prefix of it */
        put8(b, 1); put8(b, kind & 8 ? 0 : 1);
        put(b, "\0\0\0\0\0\1", 6);
        if (!(kind & 8)) put32(b, 0);
        return;
    case 1:
    case 2:     /* S-1-22-1-uid, S-1-22-2-gid */
        put8(b, 1); put8(b, 2);
        put(b, "\0\0\0\0\0\x16", 6);
        put32(b, kind & 7);
        put32(b, u8(r) < 128 ? u8(r) : u32(r));
        return;
    default:
        count = u8(r);
        if (count < 240) count %= 16;
        put8(b, (kind & 0x10) ? u8(r) : 1);
        put8(b, count);
        for (i = 0; i < 6; i++) put8(b, u8(r) & 0x1f);
        for (i = 0; i < count && i < 16; i++) put32(b, u32(r));
        return;
    }
}

static void build_ace(struct reader *r, struct buf *b)
{
    static const uint8_t types[] = { 0, 0, 0, 1, 2, 3, 5, 6, 7, 8, 9, 0x0b, 0x11, 0x12, 0x13 };
    size_t start = b->len;
    uint8_t type = types[u8(r) % sizeof(types)];

    put8(b, type);
    put8(b, u8(r) < 200 ? 0 : u8(r));
    put16(b, 0);                                        /* AceSize, patched below */
    put32(b, u8(r) < 128 ? 0x001f01ffu : u32(r));
    if (type >= 5 && type <= 8)
    {
        uint32_t flags = u8(r) & 3, i;
        put32(b, flags);
        for (i = 0; i < ((flags & 1) ? 16u : 0u) + ((flags & 2) ? 16u : 0u); i++) put8(b, u8(r));
    }
    build_sid(r, b);
    patch16(b, start + 2, size_field(r, (uint32_t)(b->len - start)));
}

static void build_acl(struct reader *r, struct buf *b)
{
    size_t start = b->len;
    unsigned int count = u8(r) % 12, i;

    put8(b, u8(r) < 230 ? 2 : u8(r));                   /* AclRevision */
    put8(b, 0);
    put16(b, 0);                                        /* AclSize */
    put16(b, count);
    put16(b, 0);
    for (i = 0; i < count; i++) build_ace(r, b);
    patch16(b, start + 2, size_field(r, (uint32_t)(b->len - start)));
    if (u8(r) > 240) patch16(b, start + 4, u8(r));      /* AceCount that lies */
}

/* A self-relative descriptor: the parts in a fuzzer-chosen order, each at
 * its offset, the buffer ending right after the last one. */
static size_t build_sd(struct reader *r, struct buf *b)
{
    uint16_t control = 0x8000 | (u8(r) < 128 ? 0x0004 : u16(r));
    size_t offsets[4] = { 0 };
    uint8_t order = u8(r), present = u8(r), i;

    put8(b, 1); put8(b, 0);
    put16(b, control);
    put32(b, 0); put32(b, 0); put32(b, 0); put32(b, 0);
    for (i = 0; i < 4; i++)
    {
        uint8_t part = (order + i) % 4;     /* 0 owner, 1 group, 2 sacl, 3 dacl */
        if (!((present | 0x0b) & (1 << part)) && u8(r) < 200) continue;
        offsets[part] = b->len;
        if (part < 2) build_sid(r, b);
        else build_acl(r, b);
    }
    patch32(b, 4, offsets[0]);
    patch32(b, 8, offsets[1]);
    patch32(b, 12, offsets[2]);
    patch32(b, 16, offsets[3]);
    if (offsets[2]) patch16(b, 2, control | 0x0010);
    if (offsets[3]) patch16(b, 2, (control | 0x0004));
    return b->len;
}

static uint8_t *exact_copy(const struct buf *b)
{
    uint8_t *copy = malloc(b->len ? b->len : 1);
    if (copy && b->len) memcpy(copy, b->bytes, b->len);
    return copy;
}

static void check_sd(struct reader *r)
{
    static struct buf b;
    uint32_t uid, gid, mode, uid2, gid2, mode2;
    uint8_t *sd, *again = NULL;
    size_t again_size;
    int is_dir = u8(r) & 1;

    b.len = 0;
    build_sd(r, &b);
    if (!(sd = exact_copy(&b))) return;
    if (!wb_sd_validate(sd, b.len) && !wb_sd_to_posix(sd, b.len, is_dir, &uid, &gid, &mode))
    {
        if (wb_sd_from_posix(uid, gid, mode, is_dir, NULL, 0, &again, &again_size)) abort();
        if (wb_sd_validate(again, again_size)) abort();
        if (wb_sd_to_posix(again, again_size, is_dir, &uid2, &gid2, &mode2)) abort();
        if (uid2 != uid || gid2 != gid || mode2 != mode) abort();
        free(again);
    }
    free(sd);
}

static void check_ea(struct reader *r)
{
    static struct buf b;
    struct wb_ea *eas = NULL, *back = NULL;
    size_t count = 0, back_count = 0, encoded_size = 0, expected = 0, i;
    unsigned int entries = u8(r) % 8 + 1, e;
    uint8_t *chain, *encoded = NULL;

    b.len = 0;
    for (e = 0; e < entries; e++)
    {
        size_t start = b.len, name_len = u8(r) % 12 + (u8(r) > 250 ? 250 : 0), value_len = u8(r) % 40, k;
        uint8_t flags = u8(r) < 200 ? 0 : (u8(r) < 128 ? 0x80 : u8(r));

        put32(&b, 0);
        put8(&b, flags);
        put8(&b, (uint8_t)name_len);
        put16(&b, (uint16_t)value_len);
        for (k = 0; k < name_len; k++) put8(&b, u8(r) < 240 ? 'a' + u8(r) % 26 : u8(r));
        put8(&b, u8(r) < 250 ? 0 : 1);                  /* the name's NUL */
        for (k = 0; k < value_len; k++) put8(&b, u8(r));
        if (e + 1 < entries || u8(r) < 128)
            while ((b.len - start) % 4) put8(&b, u8(r) < 250 ? 0 : 1);
        if (e + 1 < entries) patch32(&b, start, size_field(r, (uint32_t)((b.len - start + 3) & ~3u)));
        else if (u8(r) > 245) patch32(&b, start, u8(r));
    }
    if (!(chain = exact_copy(&b))) return;
    if (!wb_ea_decode(chain, b.len, &eas, &count))
    {
        if (wb_ea_encode(eas, count, &encoded, &encoded_size)) abort();
        for (i = 0; i < count; i++)
            expected += i + 1 < count ? wb_ea_entry_size(eas[i].name_len, eas[i].value_len)
                                      : WB_EA_HEADER_SIZE + eas[i].name_len + 1 + eas[i].value_len;
        if (encoded_size != expected) abort();
        if (wb_ea_decode(encoded, encoded_size, &back, &back_count) || back_count != count) abort();
        for (i = 0; i < count; i++)
            if (back[i].name_len != eas[i].name_len || back[i].value_len != eas[i].value_len ||
                back[i].flags != eas[i].flags || memcmp(back[i].name, eas[i].name, eas[i].name_len) ||
                (eas[i].value_len && memcmp(back[i].value, eas[i].value, eas[i].value_len)))
                abort();
        free(back);
        free(encoded);
        free(eas);
    }
    free(chain);
}

/* IO_REPARSE_TAG_SYMLINK / MOUNT_POINT buffers with name offsets and lengths
 * that point anywhere near the path buffer, or a GUID-form tag. */
static void check_reparse(struct reader *r)
{
    static struct buf b;
    char *target = NULL, *again = NULL;
    uint8_t *rp, *round = NULL;
    size_t round_size, chars = u8(r) % 40, i, start;
    uint8_t kind = u8(r) % 3;

    b.len = 0;
    if (kind == 2)
    {
        put32(&b, u8(r) < 200 ? 0x1234 : u32(r));
        put16(&b, 0);
        put16(&b, 0);
        for (i = 0; i < 16; i++) put8(&b, u8(r));
        start = b.len;
        for (i = 0; i < chars; i++) put8(&b, u8(r));
        patch16(&b, 4, size_field(r, (uint32_t)(b.len - start)));
    }
    else
    {
        uint16_t sub_off = 0, sub_len = chars * 2, print_off = chars * 2, print_len = chars * 2;
        put32(&b, kind ? 0xa000000c : 0xa0000003);
        put16(&b, 0);
        put16(&b, 0);
        put16(&b, size_field(r, sub_off));
        put16(&b, size_field(r, sub_len));
        put16(&b, size_field(r, print_off));
        put16(&b, size_field(r, print_len));
        if (kind) put32(&b, u8(r) < 200 ? (u8(r) & 1) : u32(r));
        start = b.len;
        for (i = 0; i < 2 * chars; i++)
        {
            uint8_t c = u8(r);
            put8(&b, c < 200 ? "\\?Z:/ab.c"[c % 9] : c);
            put8(&b, 0);
        }
        patch16(&b, 4, size_field(r, (uint32_t)(b.len - 8)));
        (void)start;
    }
    if (!(rp = exact_copy(&b))) return;
    if (!wb_reparse_validate(rp, b.len) && !wb_reparse_to_symlink(rp, b.len, &target))
    {
        if (!wb_reparse_from_symlink(target, &round, &round_size))
        {
            if (wb_reparse_to_symlink(round, round_size, &again) || strcmp(again, target)) abort();
            free(again);
            free(round);
        }
        free(target);
    }
    free(rp);
}

/* system.posix_acl_access: version 2, then (tag u16, perm u16, id u32) */
static void check_acl(struct reader *r)
{
    static const uint16_t tags[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20 };
    static struct buf b;
    struct wb_posix_acl_entry *entries = NULL;
    size_t count = 0;
    unsigned int n = u8(r) % 10, i;
    uint8_t *xattr, *sd = NULL;
    size_t sd_size;

    b.len = 0;
    put32(&b, u8(r) < 240 ? 2 : u32(r));
    for (i = 0; i < n; i++)
    {
        put16(&b, u8(r) < 240 ? tags[u8(r) % 6] : u16(r));
        put16(&b, u8(r) < 240 ? u8(r) & 7 : u16(r));
        put32(&b, u8(r) < 128 ? 0xffffffffu : u32(r));
    }
    if (u8(r) > 240) b.len -= b.len > 4 ? u8(r) % 4 : 0;
    if (!(xattr = exact_copy(&b))) return;
    if (!wb_posix_acl_parse(xattr, b.len, &entries, &count))
    {
        if (!wb_sd_from_posix(1000, 1000, 0640, u8(r) & 1, entries, count, &sd, &sd_size) &&
            wb_sd_validate(sd, sd_size))
            abort();
        free(sd);
        free(entries);
    }
    free(xattr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size, 1 };

    if (!size) return 0;
    switch (data[0] & 3)
    {
    case 0: check_sd(&r); break;
    case 1: check_ea(&r); break;
    case 2: check_reparse(&r); break;
    case 3: check_acl(&r); break;
    }
    return 0;
}
