/*
 * Portable metadata formats carried inside backup streams: extended
 * attribute chains (BACKUP_EA_DATA), self-relative security descriptors
 * (BACKUP_SECURITY_DATA), reparse buffers (BACKUP_REPARSE_DATA) and the
 * UTF-8 <-> UTF-16 conversions the POSIX backend needs for names.
 *
 * No OS calls: these modules are built natively and with mingw-w64.  All
 * multi-byte fields are read and written little-endian byte by byte, so
 * buffers need no alignment.  Functions that allocate return memory the
 * caller releases with free().
 */
#ifndef WINBACKUP_METADATA_H
#define WINBACKUP_METADATA_H

#include <stddef.h>
#include <stdint.h>
#include "winbackup/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UTF-8 <-> UTF-16 (utf16.c) ----
 * Strict conversions: invalid UTF-8 (overlong forms, encoded surrogates,
 * values above U+10FFFF, truncated sequences) and unpaired UTF-16
 * surrogates give WB_ERROR_INVALID_NAME.  NUL characters are converted like
 * any other; callers that forbid them check.  The outputs are allocated and
 * carry one extra terminating NUL that the returned length does not count. */
uint32_t wb_utf8_to_utf16(const char *utf8, size_t len, uint16_t **utf16, size_t *chars);
uint32_t wb_utf16_to_utf8(const uint16_t *utf16, size_t chars, char **utf8, size_t *len);
/* UTF-16LE bytes <-> host-endian code units (count = code units). */
void wb_utf16_from_le(const uint8_t *le, size_t count, uint16_t *out);
void wb_utf16_to_le(const uint16_t *in, size_t count, uint8_t *le);

/* ---- FILE_FULL_EA_INFORMATION chains (ea.c) ----
 * Entry layout: NextEntryOffset u32, Flags u8, EaNameLength u8,
 * EaValueLength u16, EaName + NUL, EaValue, zero padding to a multiple of 4.
 * The encoder pads every entry but the last, as Windows does ([MS-FSCC]
 * 2.4.15: no padding after the last element; the reference's two-EA vector
 * is 33 bytes from Windows, 36 from go-winio, which pads it).  The decoder
 * requires NextEntryOffset to equal the padded size of its entry (as
 * IoCheckEaBufferValidity does) and accepts the last entry with or without
 * its padding, but nothing beyond it. */
#define WB_EA_HEADER_SIZE   8u
#define WB_EA_MAX_NAME      255u
#define WB_EA_MAX_VALUE     65535u
#define WB_FILE_NEED_EA     0x80u

struct wb_ea
{
    uint8_t flags;
    uint8_t name_len;
    uint16_t value_len;
    const char *name;       /* name_len bytes, NUL-terminated in decoded chains */
    const uint8_t *value;
};

/* WB_OK, or WB_ERROR_INVALID_EA_NAME: empty, longer than 255 bytes, or
 * containing a byte NTFS refuses in EA names (controls, non-ASCII and
 * " * + , / : ; < = > ? [ \ ] |). */
uint32_t wb_ea_validate_name(const char *name, size_t len);
/* Bytes an entry takes in a chain, padding included. */
size_t wb_ea_entry_size(size_t name_len, size_t value_len);
/* Encode count EAs into a newly allocated chain (*out, *out_size).
 * count == 0 gives an empty buffer (*out NULL, *out_size 0). */
uint32_t wb_ea_encode(const struct wb_ea *eas, size_t count, uint8_t **out, size_t *out_size);
/* Validate a chain and return its entries, pointing into buf:
 * WB_ERROR_EA_LIST_INCONSISTENT for a malformed chain (bad offsets,
 * truncation, missing NUL), WB_ERROR_INVALID_EA_NAME for a well-formed entry
 * with a bad name or Flags other than 0 / FILE_NEED_EA ([MS-FSA]
 * 2.1.5.15.5).  An empty buffer is an empty list. */
uint32_t wb_ea_decode(const uint8_t *buf, size_t size, struct wb_ea **eas, size_t *count);

/* ---- Security descriptors (sd.c) ---- */
#define WB_SE_DACL_PRESENT      0x0004u
#define WB_SE_SACL_PRESENT      0x0010u
#define WB_SE_SELF_RELATIVE     0x8000u

#define WB_FILE_GENERIC_READ    0x00120089u
#define WB_FILE_GENERIC_WRITE   0x00120116u
#define WB_FILE_GENERIC_EXECUTE 0x001200a0u
#define WB_FILE_DELETE_CHILD    0x00000040u
#define WB_READ_CONTROL         0x00020000u
#define WB_WRITE_DAC            0x00040000u
#define WB_WRITE_OWNER          0x00080000u
#define WB_OWNER_EXTRA_RIGHTS   (WB_READ_CONTROL | WB_WRITE_DAC | WB_WRITE_OWNER)

/* POSIX ACL entry tags: the values of Linux's system.posix_acl_access. */
#define WB_ACL_USER_OBJ   0x01u
#define WB_ACL_USER       0x02u
#define WB_ACL_GROUP_OBJ  0x04u
#define WB_ACL_GROUP      0x08u
#define WB_ACL_MASK       0x10u
#define WB_ACL_OTHER      0x20u

struct wb_posix_acl_entry
{
    uint32_t tag;
    uint32_t id;        /* uid / gid for WB_ACL_USER / WB_ACL_GROUP */
    uint32_t perms;     /* 4 = r, 2 = w, 1 = x */
};

/* WB_OK or WB_ERROR_INVALID_SECURITY_DESCR. */
uint32_t wb_sd_validate(const uint8_t *sd, size_t size);
/* Synthesize a self-relative SD (see the mapping at the top of sd.c).  acl
 * may be NULL (count 0): the DACL then comes from mode alone. */
uint32_t wb_sd_from_posix(uint32_t uid, uint32_t gid, uint32_t mode, int is_dir,
                          const struct wb_posix_acl_entry *acl, size_t count,
                          uint8_t **sd, size_t *sd_size);
/* The inverse, only when the SD has exactly the shape wb_sd_from_posix gives
 * without an ACL; WB_ERROR_NOT_SUPPORTED otherwise, INVALID_SECURITY_DESCR
 * when it is malformed.  *mode gets permission bits only (0777). */
uint32_t wb_sd_to_posix(const uint8_t *sd, size_t size, int is_dir,
                        uint32_t *uid, uint32_t *gid, uint32_t *mode);
/* Parse Linux's system.posix_acl_access value (version 2). */
uint32_t wb_posix_acl_parse(const uint8_t *value, size_t size,
                            struct wb_posix_acl_entry **entries, size_t *count);

/* ---- Reparse buffers (reparse.c) ---- */
#define WB_IO_REPARSE_TAG_MOUNT_POINT  0xa0000003u
#define WB_IO_REPARSE_TAG_SYMLINK      0xa000000cu
#define WB_SYMLINK_FLAG_RELATIVE       0x1u
#define WB_REPARSE_HEADER_SIZE         8u
#define WB_REPARSE_GUID_HEADER_SIZE    24u

/* Validate a complete REPARSE_DATA_BUFFER (or REPARSE_GUID_DATA_BUFFER for
 * non-Microsoft tags): WB_OK or WB_ERROR_INVALID_REPARSE_DATA. */
uint32_t wb_reparse_validate(const uint8_t *buf, size_t size);
uint32_t wb_reparse_tag(const uint8_t *buf, size_t size, uint32_t *tag);
/* POSIX symlink target (UTF-8) -> IO_REPARSE_TAG_SYMLINK buffer. */
uint32_t wb_reparse_from_symlink(const char *target, uint8_t **buf, size_t *size);
/* IO_REPARSE_TAG_SYMLINK buffer -> POSIX target (NUL-terminated UTF-8).
 * WB_ERROR_NOT_A_REPARSE_POINT for another tag, WB_ERROR_NOT_SUPPORTED for
 * an absolute target outside Z: (or not in \??\X:\ form), and
 * WB_ERROR_INVALID_REPARSE_DATA for malformed data or a NUL in the name. */
uint32_t wb_reparse_to_symlink(const uint8_t *buf, size_t size, char **target);

#ifdef __cplusplus
}
#endif

#endif
