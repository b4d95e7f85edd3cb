/*
 * DOS attributes of POSIX files, kept the way Wine keeps them: HIDDEN and
 * SYSTEM (and here ARCHIVE too) in xattr user.DOSATTRIB as the text "0x%x"
 * (Samba writes the same text followed by a NUL and binary data, so only
 * the leading hex number is parsed), READONLY as "no write bit in the mode",
 * DIRECTORY from the file type, REPARSE_POINT for symlinks and files that
 * carry user.WINEREPARSE.
 *
 * Defaults when user.DOSATTRIB is absent follow Wine: regular files report
 * ARCHIVE, directories do not.  Setting exactly the default removes the
 * xattr, so an untouched file stays untouched.  Clearing READONLY gives the
 * owner its write bit back (group/other write bits are not guessed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "winbackup/posix.h"
#include "posix_private.h"

#define FILE_ATTRIBUTE_READONLY      0x00000001u
#define FILE_ATTRIBUTE_HIDDEN        0x00000002u
#define FILE_ATTRIBUTE_SYSTEM        0x00000004u
#define FILE_ATTRIBUTE_DIRECTORY     0x00000010u
#define FILE_ATTRIBUTE_ARCHIVE       0x00000020u
#define FILE_ATTRIBUTE_NORMAL        0x00000080u
#define FILE_ATTRIBUTE_REPARSE_POINT 0x00000400u
#define STORED_MASK (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE)

static int parse_dosattrib(const uint8_t *value, size_t size, uint32_t *attributes)
{
    char text[16];
    char *end;
    unsigned long parsed;
    size_t len = 0;

    while (len < size && len < sizeof(text) - 1 && value[len]) { text[len] = value[len]; len++; }
    text[len] = 0;
    if (len < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return 0;
    errno = 0;
    parsed = strtoul(text + 2, &end, 16);
    if (errno || *end || end == text + 2) return 0;
    *attributes = parsed;
    return 1;
}

uint32_t wb_posix_get_attributes(int fd, uint32_t *attributes)
{
    struct stat st;
    uint32_t result = 0, stored;
    uint8_t *value;
    size_t size;

    if (!attributes) return WB_ERROR_INVALID_PARAMETER;
    if (fd < 0 || fstat(fd, &st)) return WB_ERROR_INVALID_HANDLE;
    if (S_ISLNK(st.st_mode))
    {
        /* O_PATH descriptor of a symlink: no xattrs can be read or exist */
        *attributes = FILE_ATTRIBUTE_REPARSE_POINT;
        return WB_OK;
    }
    if (S_ISDIR(st.st_mode)) result = FILE_ATTRIBUTE_DIRECTORY;
    else
    {
        result = FILE_ATTRIBUTE_ARCHIVE;
        if (!(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) result |= FILE_ATTRIBUTE_READONLY;
    }
    if (!wbp_xattr_get(fd, WBP_XATTR_DOSATTRIB, &value, &size))
    {
        if (parse_dosattrib(value, size, &stored))
            result = (result & ~FILE_ATTRIBUTE_ARCHIVE) | (stored & STORED_MASK);
        free(value);
    }
    if (!wbp_xattr_get(fd, WBP_XATTR_REPARSE, &value, &size))
    {
        result |= FILE_ATTRIBUTE_REPARSE_POINT;
        free(value);
    }
    if (!result) result = FILE_ATTRIBUTE_NORMAL;
    *attributes = result;
    return WB_OK;
}

uint32_t wb_posix_set_attributes(int fd, uint32_t attributes)
{
    struct stat st;
    uint32_t stored = attributes & STORED_MASK, defaults;
    char text[16];

    if (fd < 0 || fstat(fd, &st)) return WB_ERROR_INVALID_HANDLE;
    if (S_ISLNK(st.st_mode)) return WB_ERROR_ACCESS_DENIED;
    /* the same rule as SetFileAttributesW: only these bits can be set */
    if (attributes & ~(STORED_MASK | FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_NORMAL |
                       FILE_ATTRIBUTE_DIRECTORY | 0x100 /* TEMPORARY */ | 0x2000 /* NOT_CONTENT_INDEXED */ |
                       0x1000 /* OFFLINE */))
        return WB_ERROR_INVALID_PARAMETER;
    defaults = S_ISDIR(st.st_mode) ? 0 : FILE_ATTRIBUTE_ARCHIVE;

    if (stored == defaults)
    {
        if (fremovexattr(fd, WBP_XATTR_DOSATTRIB) && errno != ENODATA && errno != ENOTSUP)
            return wb_win32_error_from_errno(errno);
    }
    else
    {
        snprintf(text, sizeof(text), "0x%x", stored);
        if (fsetxattr(fd, WBP_XATTR_DOSATTRIB, text, strlen(text), 0))
            return errno == ENOTSUP ? WB_ERROR_NOT_SUPPORTED : wb_win32_error_from_errno(errno);
    }
    if (S_ISREG(st.st_mode))
    {
        mode_t mode = st.st_mode & 07777;
        if (attributes & FILE_ATTRIBUTE_READONLY) mode &= ~(mode_t)(S_IWUSR | S_IWGRP | S_IWOTH);
        else if (!(mode & (S_IWUSR | S_IWGRP | S_IWOTH))) mode |= S_IWUSR;
        if (mode != (st.st_mode & 07777) && fchmod(fd, mode)) return wb_win32_error_from_errno(errno);
    }
    return WB_OK;
}
