/*
 * LMBCS, the Lotus Multi-Byte Character Set, as the C API passes paths and
 * strings: "optimization group 1", where bytes 0x20-0x7F are ASCII and
 * 0x80-0xFF are code page 850 without a prefix.  Other characters are
 * written as group byte 0x14 followed by a big-endian UTF-16 unit; C0
 * control characters as 0x0F followed by the character + 0x20 (UNVERIFIED
 * against a real Notes client: ASCII and CP850 text, which is what paths
 * hold, is what tests/test_nsf_lmbcs.c checks against iconv's CP850).
 * Explicit group 1 (0x01 + byte) is read; other groups (0x02-0x13, code
 * pages and DBCS) are read as '?' with *bad set.
 */
#include <string.h>
#include "../nsf.h"
#include "osmisc.h"

static const uint16_t cp850_high[128] =
{
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00C1, 0x00C2, 0x00C0, 0x00A9, 0x2563, 0x2551, 0x2557, 0x255D, 0x00A2, 0x00A5, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x00A4,
    0x00F0, 0x00D0, 0x00CA, 0x00CB, 0x00C8, 0x0131, 0x00CD, 0x00CE, 0x00CF, 0x2518, 0x250C, 0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580,
    0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE, 0x00DE, 0x00DA, 0x00DB, 0x00D9, 0x00FD, 0x00DD, 0x00AF, 0x00B4,
    0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6, 0x00A7, 0x00F7, 0x00B8, 0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0,
};

#define GROUP_CP850   0x01
#define GROUP_CTRL    0x0F
#define GROUP_UNICODE 0x14

/* Next UTF-16 unit of LMBCS input; 0 length = end. */
static size_t lmbcs_next(const unsigned char *in, size_t len, uint16_t *unit, int *bad)
{
    unsigned char b = in[0];

    if (b >= 0x80) { *unit = cp850_high[b - 0x80]; return 1; }
    if (b >= 0x20 || !b) { *unit = b; return 1; }
    if (b == GROUP_UNICODE && len >= 3) { *unit = (uint16_t)(in[1] << 8 | in[2]); return 3; }
    if (b == GROUP_CTRL && len >= 2 && in[1] >= 0x20 && in[1] < 0x40) { *unit = in[1] - 0x20; return 2; }
    if (b == GROUP_CP850 && len >= 2)
    {
        *unit = in[1] >= 0x80 ? cp850_high[in[1] - 0x80] : in[1];
        return 2;
    }
    *bad = 1;
    *unit = '?';
    if (b >= 0x10 && b <= 0x13) return len >= 3 ? 3 : len;      /* double-byte groups */
    return len >= 2 ? 2 : 1;
}

/* LMBCS bytes of one UTF-16 unit (at most 3). */
static size_t lmbcs_put(uint16_t unit, unsigned char out[3])
{
    unsigned int i;

    if (unit >= 0x20 && unit < 0x80) { out[0] = (unsigned char)unit; return 1; }
    if (unit < 0x20) { out[0] = GROUP_CTRL; out[1] = (unsigned char)(unit + 0x20); return 2; }
    for (i = 0; i < 128; i++)
        if (cp850_high[i] == unit) { out[0] = (unsigned char)(0x80 + i); return 1; }
    out[0] = GROUP_UNICODE;
    out[1] = unit >> 8;
    out[2] = unit & 0xff;
    return 3;
}

size_t nsf_lmbcs_to_utf16(const char *in, size_t in_len, uint16_t *out, size_t out_units, int *bad)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t used = 0, n;
    uint16_t unit;

    *bad = 0;
    while (in_len && *p)
    {
        n = lmbcs_next(p, in_len, &unit, bad);
        if (used + 1 >= out_units) break;
        out[used++] = unit;
        p += n;
        in_len -= n;
    }
    if (used < out_units) out[used] = 0;
    return used;
}

size_t nsf_utf16_to_lmbcs(const uint16_t *in, size_t in_units, char *out, size_t out_size, int *bad)
{
    unsigned char bytes[3];
    size_t used = 0, i, n;

    *bad = 0;
    for (i = 0; i < in_units && in[i]; i++)
    {
        n = lmbcs_put(in[i], bytes);
        if (used + n >= out_size) break;
        memcpy(out + used, bytes, n);
        used += n;
    }
    if (used < out_size) out[used] = 0;
    return used;
}

size_t nsf_lmbcs_to_utf8(const char *in, size_t in_len, char *out, size_t out_size, int *bad)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t used = 0, n, k;
    uint16_t unit, low;
    uint32_t cp;
    char enc[4];

    *bad = 0;
    while (in_len && *p)
    {
        n = lmbcs_next(p, in_len, &unit, bad);
        cp = unit;
        if (unit >= 0xD800 && unit < 0xDC00 && in_len > n &&
            lmbcs_next(p + n, in_len - n, &low, bad) == 3 && low >= 0xDC00 && low < 0xE000)
        {
            cp = 0x10000 + ((uint32_t)(unit - 0xD800) << 10) + (low - 0xDC00);
            n += 3;
        }
        else if (unit >= 0xD800 && unit < 0xE000) { cp = '?'; *bad = 1; }
        if (cp < 0x80) { enc[0] = (char)cp; k = 1; }
        else if (cp < 0x800) { enc[0] = (char)(0xC0 | cp >> 6); enc[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
        else if (cp < 0x10000)
        {
            enc[0] = (char)(0xE0 | cp >> 12); enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            enc[2] = (char)(0x80 | (cp & 0x3F)); k = 3;
        }
        else
        {
            enc[0] = (char)(0xF0 | cp >> 18); enc[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            enc[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); enc[3] = (char)(0x80 | (cp & 0x3F)); k = 4;
        }
        if (used + k >= out_size) break;
        memcpy(out + used, enc, k);
        used += k;
        p += n;
        in_len -= n;
    }
    if (used < out_size) out[used] = 0;
    return used;
}

size_t nsf_utf8_to_lmbcs(const char *in, size_t in_len, char *out, size_t out_size, int *bad)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char bytes[6];
    size_t used = 0, n, k;
    uint32_t cp;

    *bad = 0;
    while (in_len && *p)
    {
        unsigned char c = p[0];
        if (c < 0x80) { cp = c; n = 1; }
        else if (c >= 0xC2 && c < 0xE0 && in_len >= 2 && (p[1] & 0xC0) == 0x80)
        { cp = (c & 0x1F) << 6 | (p[1] & 0x3F); n = 2; }
        else if (c >= 0xE0 && c < 0xF0 && in_len >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
        {
            cp = (uint32_t)(c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F); n = 3;
            if (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000)) { cp = '?'; *bad = 1; }
        }
        else if (c >= 0xF0 && c < 0xF5 && in_len >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
                 (p[3] & 0xC0) == 0x80)
        {
            cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
            n = 4;
            if (cp < 0x10000 || cp > 0x10FFFF) { cp = '?'; *bad = 1; }
        }
        else { cp = '?'; n = 1; *bad = 1; }
        if (cp >= 0x10000)
        {
            k = lmbcs_put((uint16_t)(0xD800 + ((cp - 0x10000) >> 10)), bytes);
            k += lmbcs_put((uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF)), bytes + k);
        }
        else k = lmbcs_put((uint16_t)cp, bytes);
        if (used + k >= out_size) break;
        memcpy(out + used, bytes, k);
        used += k;
        p += n;
        in_len -= n;
    }
    if (used < out_size) out[used] = 0;
    return used;
}

int nsf_translate(uint16_t mode, const char *in, size_t in_len, char *out, size_t out_size, size_t *written)
{
    int bad;
    size_t i;

    in_len = strnlen(in, in_len);
    switch (mode)
    {
    case OS_TRANSLATE_LMBCS_TO_UTF8:
        *written = nsf_lmbcs_to_utf8(in, in_len, out, out_size, &bad);
        return 1;
    case OS_TRANSLATE_UTF8_TO_LMBCS:
        *written = nsf_utf8_to_lmbcs(in, in_len, out, out_size, &bad);
        return 1;
    case OS_TRANSLATE_LOWER_TO_UPPER:
    case OS_TRANSLATE_UPPER_TO_LOWER:
        /* ASCII letters only; other bytes pass unchanged (UNVERIFIED for CP850 letters) */
        for (i = 0; i < in_len && i + 1 < out_size; i++)
        {
            char c = in[i];
            if (mode == OS_TRANSLATE_LOWER_TO_UPPER && c >= 'a' && c <= 'z') c -= 32;
            if (mode == OS_TRANSLATE_UPPER_TO_LOWER && c >= 'A' && c <= 'Z') c += 32;
            out[i] = c;
        }
        if (i < out_size) out[i] = 0;
        *written = i;
        return 1;
    }
    return 0;
}
