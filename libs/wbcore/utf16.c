/*
 * UTF-8 <-> UTF-16 conversion for names crossing between POSIX (UTF-8 bytes)
 * and the backup stream (UTF-16LE).  Both directions are strict: anything
 * that would not survive the round trip unchanged (overlong UTF-8, encoded
 * surrogates, code points above U+10FFFF, unpaired surrogates) is refused
 * with WB_ERROR_INVALID_NAME rather than replaced, because a silently
 * altered name would restore to a different file or stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"

uint32_t wb_utf8_to_utf16(const char *utf8, size_t len, uint16_t **utf16, size_t *chars)
{
    const uint8_t *in = (const uint8_t *)utf8;
    uint16_t *out;
    size_t pos = 0, count = 0;

    if (!utf16 || !chars || (!utf8 && len)) return WB_ERROR_INVALID_PARAMETER;
    *utf16 = NULL;
    *chars = 0;
    /* at most one UTF-16 unit per input byte */
    if (!(out = malloc((len + 1) * sizeof(*out)))) return WB_ERROR_NOT_ENOUGH_MEMORY;

    while (pos < len)
    {
        uint32_t cp, min;
        size_t extra, i;
        uint8_t lead = in[pos];

        if (lead < 0x80) { cp = lead; extra = 0; min = 0; }
        else if ((lead & 0xe0) == 0xc0) { cp = lead & 0x1f; extra = 1; min = 0x80; }
        else if ((lead & 0xf0) == 0xe0) { cp = lead & 0x0f; extra = 2; min = 0x800; }
        else if ((lead & 0xf8) == 0xf0) { cp = lead & 0x07; extra = 3; min = 0x10000; }
        else goto invalid;
        if (len - pos <= extra) goto invalid;
        for (i = 1; i <= extra; i++)
        {
            if ((in[pos + i] & 0xc0) != 0x80) goto invalid;
            cp = (cp << 6) | (in[pos + i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) goto invalid;
        pos += extra + 1;
        if (cp >= 0x10000)
        {
            cp -= 0x10000;
            out[count++] = 0xd800 | (cp >> 10);
            out[count++] = 0xdc00 | (cp & 0x3ff);
        }
        else out[count++] = cp;
    }
    out[count] = 0;
    *utf16 = out;
    *chars = count;
    return WB_OK;

invalid:
    free(out);
    return WB_ERROR_INVALID_NAME;
}

uint32_t wb_utf16_to_utf8(const uint16_t *utf16, size_t chars, char **utf8, size_t *len)
{
    uint8_t *out;
    size_t pos, count = 0;

    if (!utf8 || !len || (!utf16 && chars)) return WB_ERROR_INVALID_PARAMETER;
    *utf8 = NULL;
    *len = 0;
    /* a BMP unit gives at most 3 bytes, a surrogate pair (2 units) 4 */
    if (chars > (SIZE_MAX - 1) / 3) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if (!(out = malloc(chars * 3 + 1))) return WB_ERROR_NOT_ENOUGH_MEMORY;

    for (pos = 0; pos < chars; pos++)
    {
        uint32_t cp = utf16[pos];

        if (cp >= 0xdc00 && cp <= 0xdfff) goto invalid;
        if (cp >= 0xd800 && cp <= 0xdbff)
        {
            if (pos + 1 >= chars || utf16[pos + 1] < 0xdc00 || utf16[pos + 1] > 0xdfff) goto invalid;
            cp = 0x10000 + (((cp - 0xd800) << 10) | (utf16[pos + 1] - 0xdc00));
            pos++;
        }
        if (cp < 0x80) out[count++] = cp;
        else if (cp < 0x800)
        {
            out[count++] = 0xc0 | (cp >> 6);
            out[count++] = 0x80 | (cp & 0x3f);
        }
        else if (cp < 0x10000)
        {
            out[count++] = 0xe0 | (cp >> 12);
            out[count++] = 0x80 | ((cp >> 6) & 0x3f);
            out[count++] = 0x80 | (cp & 0x3f);
        }
        else
        {
            out[count++] = 0xf0 | (cp >> 18);
            out[count++] = 0x80 | ((cp >> 12) & 0x3f);
            out[count++] = 0x80 | ((cp >> 6) & 0x3f);
            out[count++] = 0x80 | (cp & 0x3f);
        }
    }
    out[count] = 0;
    *utf8 = (char *)out;
    *len = count;
    return WB_OK;

invalid:
    free(out);
    return WB_ERROR_INVALID_NAME;
}

void wb_utf16_from_le(const uint8_t *le, size_t count, uint16_t *out)
{
    size_t i;
    for (i = 0; i < count; i++) out[i] = le[2 * i] | (le[2 * i + 1] << 8);
}

void wb_utf16_to_le(const uint16_t *in, size_t count, uint8_t *le)
{
    size_t i;
    for (i = 0; i < count; i++)
    {
        le[2 * i] = in[i] & 0xff;
        le[2 * i + 1] = in[i] >> 8;
    }
}
