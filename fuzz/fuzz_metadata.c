/*
 * libFuzzer target: the parsers that read untrusted metadata payloads of a
 * backup stream (EA chains, security descriptors, reparse buffers, POSIX ACL
 * xattrs).  The first byte picks the parser.  Properties checked beyond "no
 * crash": an EA chain that decodes re-encodes to a chain that decodes to the
 * same entries; a symlink target that comes out of a reparse buffer goes back
 * into one that yields the same target; an SD that maps onto POSIX ownership
 * maps back onto a valid SD.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"

static void check_ea(const uint8_t *data, size_t size)
{
    struct wb_ea *eas = NULL, *again = NULL;
    size_t count = 0, count2 = 0, encoded_size = 0, i;
    uint8_t *encoded = NULL;

    if (wb_ea_decode(data, size, &eas, &count)) return;
    if (wb_ea_encode(eas, count, &encoded, &encoded_size)) abort();
    if (wb_ea_decode(encoded, encoded_size, &again, &count2) || count2 != count) abort();
    for (i = 0; i < count; i++)
        if (again[i].name_len != eas[i].name_len || again[i].value_len != eas[i].value_len ||
            again[i].flags != eas[i].flags || memcmp(again[i].name, eas[i].name, eas[i].name_len) ||
            (eas[i].value_len && memcmp(again[i].value, eas[i].value, eas[i].value_len)))
            abort();
    free(again);
    free(encoded);
    free(eas);
}

static void check_sd(const uint8_t *data, size_t size)
{
    uint32_t uid, gid, mode;
    uint8_t *sd = NULL;
    size_t sd_size;
    int is_dir = size && (data[0] & 1);

    if (wb_sd_validate(data, size)) return;
    if (wb_sd_to_posix(data, size, is_dir, &uid, &gid, &mode)) return;
    if (wb_sd_from_posix(uid, gid, mode, is_dir, NULL, 0, &sd, &sd_size)) abort();
    if (wb_sd_validate(sd, sd_size)) abort();
    free(sd);
}

static void check_reparse(const uint8_t *data, size_t size)
{
    char *target = NULL, *again = NULL;
    uint8_t *buf = NULL;
    size_t buf_size;
    uint32_t tag;

    if (wb_reparse_validate(data, size)) return;
    if (wb_reparse_tag(data, size, &tag)) abort();
    if (wb_reparse_to_symlink(data, size, &target)) return;
    if (!wb_reparse_from_symlink(target, &buf, &buf_size))
    {
        if (wb_reparse_to_symlink(buf, buf_size, &again) || strcmp(again, target)) abort();
        free(again);
        free(buf);
    }
    free(target);
}

static void check_acl(const uint8_t *data, size_t size)
{
    struct wb_posix_acl_entry *entries = NULL;
    size_t count = 0;
    uint8_t *sd = NULL;
    size_t sd_size;

    if (wb_posix_acl_parse(data, size, &entries, &count)) return;
    if (!wb_sd_from_posix(1000, 1000, 0640, 0, entries, count, &sd, &sd_size) && wb_sd_validate(sd, sd_size))
        abort();
    free(sd);
    free(entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    switch (data[0] & 3)
    {
    case 0: check_ea(data + 1, size - 1); break;
    case 1: check_sd(data + 1, size - 1); break;
    case 2: check_reparse(data + 1, size - 1); break;
    case 3: check_acl(data + 1, size - 1); break;
    }
    return 0;
}
