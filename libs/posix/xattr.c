/*
 * Small wrappers around the Linux xattr calls: sized reads that survive a
 * concurrent change of the value (ERANGE retry), sorted name lists (so a
 * backup of the same file is byte-for-byte reproducible whatever order the
 * file system lists them in), and the list of names the backend reserves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/xattr.h>
#include "winbackup/posix.h"
#include "posix_private.h"

uint32_t wbp_xattr_get(int fd, const char *name, uint8_t **value, size_t *size)
{
    int tries;

    *value = NULL;
    *size = 0;
    for (tries = 0; tries < 8; tries++)
    {
        ssize_t len = fgetxattr(fd, name, NULL, 0), got;
        uint8_t *buf;

        if (len < 0)
        {
            if (errno == ENODATA || errno == ENOTSUP) return WB_ERROR_FILE_NOT_FOUND;
            return wb_win32_error_from_errno(errno);
        }
        if (!(buf = malloc(len ? len : 1))) return WB_ERROR_NOT_ENOUGH_MEMORY;
        got = fgetxattr(fd, name, buf, len);
        if (got >= 0)
        {
            *value = buf;
            *size = got;
            return WB_OK;
        }
        free(buf);
        if (errno == ENODATA) return WB_ERROR_FILE_NOT_FOUND;
        if (errno != ERANGE) return wb_win32_error_from_errno(errno);
    }
    return WB_ERROR_READ_FAULT;
}

void wbp_xattr_free_list(char **names, size_t count)
{
    size_t i;
    if (!names) return;
    for (i = 0; i < count; i++) free(names[i]);
    free(names);
}

uint32_t wbp_xattr_list(int fd, char ***names, size_t *count)
{
    char *buf = NULL, **list = NULL, *p;
    ssize_t len = 0;
    size_t n = 0, i;
    int tries;

    *names = NULL;
    *count = 0;
    for (tries = 0; tries < 8; tries++)
    {
        ssize_t got;
        if ((len = flistxattr(fd, NULL, 0)) < 0)
        {
            if (errno == ENOTSUP) return WB_OK;
            return wb_win32_error_from_errno(errno);
        }
        if (!len) return WB_OK;
        if (!(buf = malloc(len))) return WB_ERROR_NOT_ENOUGH_MEMORY;
        if ((got = flistxattr(fd, buf, len)) >= 0)
        {
            len = got;
            break;
        }
        free(buf);
        buf = NULL;
        if (errno != ERANGE) return wb_win32_error_from_errno(errno);
    }
    if (!buf) return WB_ERROR_READ_FAULT;

    for (p = buf; p < buf + len; p += strlen(p) + 1) n++;
    if (!(list = calloc(n ? n : 1, sizeof(*list))))
    {
        free(buf);
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    for (i = 0, p = buf; i < n; i++, p += strlen(p) + 1)
    {
        if (!(list[i] = strdup(p)))
        {
            wbp_xattr_free_list(list, i);
            free(buf);
            return WB_ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    free(buf);
    *names = list;
    *count = n;
    return WB_OK;
}

int wbp_ea_name_reserved(const char *ea_name, int ignore_case)
{
    static const char *const exact[] = {"DOSATTRIB", "wine.sd", "WINEREPARSE"};
    static const char *const prefixes[] = {"DosStream.", "winbackup."};
    size_t i;

    for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (ignore_case ? !strcasecmp(ea_name, exact[i]) : !strcmp(ea_name, exact[i])) return 1;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    {
        size_t len = strlen(prefixes[i]);
        if (ignore_case ? !strncasecmp(ea_name, prefixes[i], len) : !strncmp(ea_name, prefixes[i], len)) return 1;
    }
    return 0;
}
