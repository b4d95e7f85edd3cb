/*
 * REPARSE_DATA_BUFFER ([MS-FSCC] 2.1.2), the payload of BACKUP_REPARSE_DATA.
 *
 *   ReparseTag u32 | ReparseDataLength u16 | Reserved u16 | data
 * Non-Microsoft tags (bit 31 clear) use REPARSE_GUID_DATA_BUFFER: a 16-byte
 * GUID sits between Reserved and the data.  The whole buffer is limited to
 * MAXIMUM_REPARSE_DATA_BUFFER_SIZE (16 KiB).
 *
 * IO_REPARSE_TAG_SYMLINK data: SubstituteNameOffset u16, SubstituteNameLength
 * u16, PrintNameOffset u16, PrintNameLength u16, Flags u32, PathBuffer
 * (offsets relative to PathBuffer, lengths in bytes, no terminators).  We
 * write the substitute name first, then the print name.
 *
 * POSIX target mapping (Wine maps drive Z: to /):
 *   "a/b"   <-> SubstituteName = PrintName = "a\b", Flags SYMLINK_FLAG_RELATIVE
 *   "/a/b"  <-> SubstituteName "\??\Z:\a\b", PrintName "Z:\a\b", Flags 0
 * A POSIX target containing '\' cannot be expressed (it would turn into a
 * separator) and absolute Windows targets on another drive have no POSIX
 * meaning: both are WB_ERROR_NOT_SUPPORTED.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"
#include "winbackup/stream.h"
#include "le.h"

#define SYMLINK_FIXED 12u   /* the four name fields + Flags */
#define MOUNT_FIXED   8u


/* Check that both names of a symlink / mount point lie inside the path buffer. */
static int names_in_bounds(const uint8_t *fields, size_t path_size)
{
    unsigned int i;
    for (i = 0; i < 2; i++)
    {
        size_t offset = get_u16(fields + 4 * i), length = get_u16(fields + 4 * i + 2);
        if ((length & 1) || offset + length > path_size) return 0;
    }
    return 1;
}

uint32_t wb_reparse_validate(const uint8_t *buf, size_t size)
{
    uint32_t tag;
    size_t length;

    if (!buf || size < WB_REPARSE_HEADER_SIZE || size > WB_MAX_REPARSE_SIZE) return WB_ERROR_INVALID_REPARSE_DATA;
    tag = get_u32(buf);
    length = get_u16(buf + 4);
    /* IO_REPARSE_TAG_RESERVED_ZERO/ONE are never valid; bits 16-27 are reserved */
    if (tag <= 1 || (tag & 0x0fff0000u)) return WB_ERROR_INVALID_REPARSE_DATA;
    if (!(tag & 0x80000000u))
    {
        if (size != WB_REPARSE_GUID_HEADER_SIZE + length) return WB_ERROR_INVALID_REPARSE_DATA;
        return WB_OK;
    }
    if (size != WB_REPARSE_HEADER_SIZE + length) return WB_ERROR_INVALID_REPARSE_DATA;
    if (tag == WB_IO_REPARSE_TAG_SYMLINK)
    {
        if (length < SYMLINK_FIXED || !names_in_bounds(buf + 8, length - SYMLINK_FIXED)) return WB_ERROR_INVALID_REPARSE_DATA;
        if (get_u32(buf + 16) & ~WB_SYMLINK_FLAG_RELATIVE) return WB_ERROR_INVALID_REPARSE_DATA;
    }
    else if (tag == WB_IO_REPARSE_TAG_MOUNT_POINT)
    {
        if (length < MOUNT_FIXED || !names_in_bounds(buf + 8, length - MOUNT_FIXED)) return WB_ERROR_INVALID_REPARSE_DATA;
    }
    return WB_OK;
}

uint32_t wb_reparse_tag(const uint8_t *buf, size_t size, uint32_t *tag)
{
    uint32_t ret;
    if (!tag) return WB_ERROR_INVALID_PARAMETER;
    if ((ret = wb_reparse_validate(buf, size))) return ret;
    *tag = get_u32(buf);
    return WB_OK;
}

uint32_t wb_reparse_from_symlink(const char *target, uint8_t **buf, size_t *size)
{
    static const uint16_t nt_prefix[] = {'\\', '?', '?', '\\', 'Z', ':'};
    uint16_t *name;
    size_t chars, i, prefix, subst_bytes, print_bytes, total;
    uint8_t *out;
    uint32_t ret;
    int absolute;

    if (!target || !buf || !size) return WB_ERROR_INVALID_PARAMETER;
    *buf = NULL;
    *size = 0;
    if (!*target) return WB_ERROR_INVALID_PARAMETER;
    if (strchr(target, '\\')) return WB_ERROR_NOT_SUPPORTED;
    if ((ret = wb_utf8_to_utf16(target, strlen(target), &name, &chars))) return ret;
    for (i = 0; i < chars; i++) if (name[i] == '/') name[i] = '\\';
    absolute = target[0] == '/';
    prefix = absolute ? 6 : 0;              /* "\??\Z:" in front of the substitute name */
    subst_bytes = (prefix + chars) * 2;
    print_bytes = ((absolute ? 2 : 0) + chars) * 2;   /* "Z:" in front of the print name */
    total = WB_REPARSE_HEADER_SIZE + SYMLINK_FIXED + subst_bytes + print_bytes;
    if (total > WB_MAX_REPARSE_SIZE)
    {
        free(name);
        return WB_ERROR_FILENAME_EXCED_RANGE;
    }
    if (!(out = calloc(1, total)))
    {
        free(name);
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    put_u32(out, WB_IO_REPARSE_TAG_SYMLINK);
    put_u16(out + 4, total - WB_REPARSE_HEADER_SIZE);
    put_u16(out + 8, 0);
    put_u16(out + 10, subst_bytes);
    put_u16(out + 12, subst_bytes);
    put_u16(out + 14, print_bytes);
    put_u32(out + 16, absolute ? 0 : WB_SYMLINK_FLAG_RELATIVE);
    wb_utf16_to_le(nt_prefix, prefix, out + 20);
    wb_utf16_to_le(name, chars, out + 20 + prefix * 2);
    if (absolute) wb_utf16_to_le(nt_prefix + 4, 2, out + 20 + subst_bytes);
    wb_utf16_to_le(name, chars, out + 20 + subst_bytes + (absolute ? 4 : 0));
    free(name);
    *buf = out;
    *size = total;
    return WB_OK;
}

uint32_t wb_reparse_to_symlink(const uint8_t *buf, size_t size, char **target)
{
    size_t offset, length, chars, i, len;
    uint16_t *name;
    uint32_t tag, flags, ret;
    char *utf8, *result;
    int absolute;

    if (!target) return WB_ERROR_INVALID_PARAMETER;
    *target = NULL;
    if ((ret = wb_reparse_tag(buf, size, &tag))) return ret;
    if (tag != WB_IO_REPARSE_TAG_SYMLINK) return WB_ERROR_NOT_A_REPARSE_POINT;
    offset = get_u16(buf + 8);
    length = get_u16(buf + 10);
    flags = get_u32(buf + 16);
    absolute = !(flags & WB_SYMLINK_FLAG_RELATIVE);
    chars = length / 2;
    if (!chars) return WB_ERROR_INVALID_REPARSE_DATA;
    if (!(name = malloc(length))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    wb_utf16_from_le(buf + 20 + offset, chars, name);
    ret = WB_OK;
    for (i = 0; i < chars && !ret; i++)
    {
        if (!name[i]) ret = WB_ERROR_INVALID_REPARSE_DATA;
        else if (name[i] == '/') ret = WB_ERROR_NOT_SUPPORTED;   /* not a separator on Windows */
    }
    if (!ret && absolute)
    {
        /* only "\??\Z:" followed by nothing or "\..." maps to a POSIX path */
        if (chars < 6 || name[0] != '\\' || name[1] != '?' || name[2] != '?' || name[3] != '\\' ||
            (name[4] != 'Z' && name[4] != 'z') || name[5] != ':' || (chars > 6 && name[6] != '\\'))
            ret = WB_ERROR_NOT_SUPPORTED;
    }
    else if (!ret && name[0] == '\\') ret = WB_ERROR_NOT_SUPPORTED;   /* drive-relative "\x" */
    if (ret)
    {
        free(name);
        return ret;
    }
    for (i = 0; i < chars; i++) if (name[i] == '\\') name[i] = '/';
    ret = absolute ? wb_utf16_to_utf8(name + 6, chars - 6, &utf8, &len) : wb_utf16_to_utf8(name, chars, &utf8, &len);
    free(name);
    if (ret) return ret;
    if (absolute && !len)
    {
        /* "\??\Z:" alone is the root */
        free(utf8);
        if (!(result = strdup("/"))) return WB_ERROR_NOT_ENOUGH_MEMORY;
        *target = result;
        return WB_OK;
    }
    *target = utf8;
    return WB_OK;
}
