/*
 * WIN32_STREAM_ID header: 20 little-endian bytes on the wire.
 *
 * Packing is done byte by byte so the result does not depend on the host's
 * endianness or on struct padding (sizeof(WIN32_STREAM_ID) is 24).
 */
#include "winbackup/stream.h"
#include "le.h"

void wb_stream_header_pack(const struct wb_stream_header *header, uint8_t out[WB_STREAM_HEADER_SIZE])
{
    put_u32(out, header->id);
    put_u32(out + 4, header->attributes);
    put_u64(out + 8, header->size);
    put_u32(out + 16, header->name_size);
}

void wb_stream_header_unpack(const uint8_t in[WB_STREAM_HEADER_SIZE], struct wb_stream_header *header)
{
    header->id = get_u32(in);
    header->attributes = get_u32(in + 4);
    header->size = get_u64(in + 8);
    header->name_size = get_u32(in + 16);
}

const char *wb_stream_id_name(uint32_t id)
{
    static const char * const names[] =
    {
        "BACKUP_INVALID", "BACKUP_DATA", "BACKUP_EA_DATA", "BACKUP_SECURITY_DATA",
        "BACKUP_ALTERNATE_DATA", "BACKUP_LINK", "BACKUP_PROPERTY_DATA", "BACKUP_OBJECT_ID",
        "BACKUP_REPARSE_DATA", "BACKUP_SPARSE_BLOCK", "BACKUP_TXFS_DATA", "BACKUP_GHOSTED_FILE_EXTENTS",
    };
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

/* ":name:$DATA" -> the bare name.  ":name" alone is the same stream: NTFS
 * appends the default type ":$DATA" ([MS-BKUP] 2.2, note 2); any other type
 * is not a data stream.  The characters refused are those that would let a
 * name escape the file it belongs to once it becomes an xattr or a path
 * component (separators, NUL, "." and ".."), and ':' which NTFS reserves
 * as the name/type separator. */
uint32_t wb_validate_stream_name(const uint8_t *name, uint32_t name_size, uint32_t *start, uint32_t *chars)
{
    static const char suffix[] = ":$DATA";
    uint32_t count = name_size / 2, suffix_chars = 6, i, bare;

    if (name_size % 2) return WB_ERROR_INVALID_NAME;
    if (count < 2) return WB_ERROR_INVALID_NAME;
    if (name[0] != ':' || name[1]) return WB_ERROR_INVALID_NAME;
    bare = count - 1;
    if (count >= 1 + 1 + suffix_chars)
    {
        for (i = 0; i < suffix_chars; i++)
        {
            uint16_t c = get_u16(name + (count - suffix_chars + i) * 2);
            uint16_t want = (uint8_t)suffix[i];
            if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
            if (c != want) break;
        }
        if (i == suffix_chars) bare = count - 1 - suffix_chars;
    }
    if (!bare || bare > WB_MAX_STREAM_NAME_CHARS) return WB_ERROR_INVALID_NAME;
    for (i = 1; i <= bare; i++)
    {
        uint16_t c = get_u16(name + i * 2);
        if (c == 0 || c == '/' || c == '\\' || c == ':') return WB_ERROR_INVALID_NAME;
    }
    if (name[2] == '.' && !name[3])
    {
        if (bare == 1) return WB_ERROR_INVALID_NAME;
        if (bare == 2 && name[4] == '.' && !name[5]) return WB_ERROR_INVALID_NAME;
    }
    *start = 1;
    *chars = bare;
    return WB_OK;
}
