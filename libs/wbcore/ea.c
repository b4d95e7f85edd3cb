/*
 * FILE_FULL_EA_INFORMATION chains, the payload of BACKUP_EA_DATA.
 *
 *   NextEntryOffset u32 | Flags u8 | EaNameLength u8 | EaValueLength u16 |
 *   EaName (EaNameLength bytes) NUL | EaValue | zero padding to 4
 *
 * [MS-FSCC] 2.4.15: entries are 4-byte aligned and "no padding is required
 * following the last data element".  Windows writes none (FastFAT's ea.c
 * returns the unaligned size of the last entry; the reference's two-EA
 * vector is 33 bytes from Windows), so neither do we.  On input we accept
 * the last entry with or without padding (go-winio's encoder pads it: 36
 * bytes) but nothing else after it.
 * A non-last entry's NextEntryOffset must equal its padded size, as Windows'
 * IoCheckEaBufferValidity requires; anything else could hide bytes that no
 * entry owns.
 *
 * [MS-FSA] 2.1.5.15.5: a badly formed name or an invalid Flags value fails
 * with STATUS_INVALID_EA_NAME (WB_ERROR_INVALID_EA_NAME); structural damage
 * is WB_ERROR_EA_LIST_INCONSISTENT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"
#include "le.h"

uint32_t wb_ea_validate_name(const char *name, size_t len)
{
    static const char forbidden[] = "\"*+,/:;<=>?[\\]|";
    size_t i;

    if (!name || !len || len > WB_EA_MAX_NAME) return WB_ERROR_INVALID_EA_NAME;
    for (i = 0; i < len; i++)
    {
        unsigned char c = name[i];
        /* EA names are 8-bit ASCII upper-cased by NTFS; controls (NUL
         * included) and the FAT-illegal punctuation are refused. */
        if (c < 0x20 || c >= 0x7f || strchr(forbidden, c)) return WB_ERROR_INVALID_EA_NAME;
    }
    return WB_OK;
}

size_t wb_ea_entry_size(size_t name_len, size_t value_len)
{
    return (WB_EA_HEADER_SIZE + name_len + 1 + value_len + 3) & ~(size_t)3;
}

uint32_t wb_ea_encode(const struct wb_ea *eas, size_t count, uint8_t **out, size_t *out_size)
{
    size_t i, total = 0, pos = 0;
    uint8_t *buf;
    uint32_t ret;

    if (!out || !out_size || (!eas && count)) return WB_ERROR_INVALID_PARAMETER;
    *out = NULL;
    *out_size = 0;
    for (i = 0; i < count; i++)
    {
        if ((ret = wb_ea_validate_name(eas[i].name, eas[i].name_len))) return ret;
        if (eas[i].flags & ~WB_FILE_NEED_EA) return WB_ERROR_INVALID_EA_NAME;
        if (eas[i].value_len && !eas[i].value) return WB_ERROR_INVALID_PARAMETER;
        total += i + 1 < count ? wb_ea_entry_size(eas[i].name_len, eas[i].value_len)
                               : WB_EA_HEADER_SIZE + eas[i].name_len + 1 + eas[i].value_len;
    }
    if (!count) return WB_OK;
    if (!(buf = calloc(1, total))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    for (i = 0; i < count; i++)
    {
        size_t entry = wb_ea_entry_size(eas[i].name_len, eas[i].value_len);   /* padded */
        uint8_t *p = buf + pos;

        put_u32(p, i + 1 < count ? (uint32_t)entry : 0);
        p[4] = eas[i].flags;
        p[5] = eas[i].name_len;
        p[6] = eas[i].value_len & 0xff;
        p[7] = eas[i].value_len >> 8;
        memcpy(p + 8, eas[i].name, eas[i].name_len);
        /* p[8 + name_len] stays 0: the terminator; padding stays 0 too */
        if (eas[i].value_len) memcpy(p + 9 + eas[i].name_len, eas[i].value, eas[i].value_len);
        pos += entry;
    }
    *out = buf;
    *out_size = total;
    return WB_OK;
}

uint32_t wb_ea_decode(const uint8_t *buf, size_t size, struct wb_ea **eas, size_t *count)
{
    struct wb_ea *list = NULL;
    size_t pos = 0, n = 0, cap = 0;
    uint32_t ret = WB_OK;

    if (!eas || !count || (!buf && size)) return WB_ERROR_INVALID_PARAMETER;
    *eas = NULL;
    *count = 0;
    if (!size) return WB_OK;

    for (;;)
    {
        const uint8_t *p = buf + pos;
        size_t left = size - pos, raw, padded;
        uint32_t next;
        struct wb_ea ea;

        if (left < WB_EA_HEADER_SIZE) { ret = WB_ERROR_EA_LIST_INCONSISTENT; break; }
        next = get_u32(p);
        ea.flags = p[4];
        ea.name_len = p[5];
        ea.value_len = get_u16(p + 6);
        raw = WB_EA_HEADER_SIZE + ea.name_len + 1 + ea.value_len;
        padded = wb_ea_entry_size(ea.name_len, ea.value_len);
        if (raw > left || p[8 + ea.name_len]) { ret = WB_ERROR_EA_LIST_INCONSISTENT; break; }
        if (next ? (next != padded || next > left) : (left > padded))
        {
            ret = WB_ERROR_EA_LIST_INCONSISTENT;
            break;
        }
        ea.name = (const char *)p + 8;
        ea.value = p + 9 + ea.name_len;
        if ((ret = wb_ea_validate_name(ea.name, ea.name_len))) break;
        if (ea.flags & ~WB_FILE_NEED_EA) { ret = WB_ERROR_INVALID_EA_NAME; break; }
        if (n == cap)
        {
            struct wb_ea *grown;
            cap = cap ? cap * 2 : 8;
            if (!(grown = realloc(list, cap * sizeof(*list)))) { ret = WB_ERROR_NOT_ENOUGH_MEMORY; break; }
            list = grown;
        }
        list[n++] = ea;
        if (!next) break;
        pos += next;
    }
    if (ret)
    {
        free(list);
        return ret;
    }
    *eas = list;
    *count = n;
    return WB_OK;
}
