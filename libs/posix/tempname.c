/*
 * Temporary names next to a file, for restores that build a file aside and
 * rename it into place.  The name must fit NAME_MAX (255 bytes) whatever the
 * final name's length: a final name of 243 bytes or more plus a suffix would
 * not, so only a prefix of the final name is kept (cut on a UTF-8 character
 * boundary, so the name stays valid text), enough for a person to recognise
 * what a leftover belongs to.  Uniqueness comes from the pid and a counter;
 * callers create with O_EXCL (or symlink/link, which fail on EEXIST) and
 * retry with the next n.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "winbackup/posix.h"

#define KEPT_NAME_BYTES 200u    /* + ".", ".wb", 8 + 1 + 8 hex digits: at most 221 */

char *wb_posix_temp_sibling(const char *path, unsigned int n)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t dir_len = base - path, base_len = strlen(base);
    char *temp;

    if (base_len > KEPT_NAME_BYTES)
    {
        base_len = KEPT_NAME_BYTES;
        /* back up to the start of a UTF-8 character */
        while (base_len && ((unsigned char)base[base_len] & 0xc0) == 0x80) base_len--;
    }
    if (!(temp = malloc(dir_len + base_len + 32))) return NULL;
    memcpy(temp, path, dir_len);
    sprintf(temp + dir_len, ".%.*s.wb%x.%x", (int)base_len, base, (unsigned int)getpid(), n);
    return temp;
}
