/*
 * REPARSE_DATA_BUFFER ([MS-FSCC] 2.1.2.1 tags, 2.1.2.4 symbolic link
 * reparse data): POSIX targets to IO_REPARSE_TAG_SYMLINK buffers laid out by
 * hand, the way back, and the buffers validation must refuse.
 */
#include "testutil.h"
#include "winbackup/metadata.h"
#include "winbackup/stream.h"

#define W(c) (c), 0

/* "/a/b" -> SubstituteName "\??\Z:\a\b" (20 bytes), PrintName "Z:\a\b" (12 bytes) */
static const uint8_t absolute_link[52] =
{
    0x0c, 0x00, 0x00, 0xa0,     /* IO_REPARSE_TAG_SYMLINK */
    0x2c, 0x00, 0x00, 0x00,     /* ReparseDataLength 44 = 12 + 32, Reserved */
    0x00, 0x00, 0x14, 0x00,     /* SubstituteNameOffset 0, Length 20 */
    0x14, 0x00, 0x0c, 0x00,     /* PrintNameOffset 20, Length 12 */
    0x00, 0x00, 0x00, 0x00,     /* Flags: absolute */
    W('\\'), W('?'), W('?'), W('\\'), W('Z'), W(':'), W('\\'), W('a'), W('\\'), W('b'),
    W('Z'), W(':'), W('\\'), W('a'), W('\\'), W('b'),
};

/* "../x" -> both names "..\x", SYMLINK_FLAG_RELATIVE */
static const uint8_t relative_link[36] =
{
    0x0c, 0x00, 0x00, 0xa0,
    0x1c, 0x00, 0x00, 0x00,     /* 12 + 16 */
    0x00, 0x00, 0x08, 0x00,
    0x08, 0x00, 0x08, 0x00,
    0x01, 0x00, 0x00, 0x00,
    W('.'), W('.'), W('\\'), W('x'),
    W('.'), W('.'), W('\\'), W('x'),
};

static void test_build(void **state)
{
    uint8_t *buf;
    size_t size;

    assert_int_equal(wb_reparse_from_symlink("/a/b", &buf, &size), WB_OK);
    assert_int_equal(size, sizeof(absolute_link));
    assert_memory_equal(buf, absolute_link, size);
    free(buf);
    assert_int_equal(wb_reparse_from_symlink("../x", &buf, &size), WB_OK);
    assert_int_equal(size, sizeof(relative_link));
    assert_memory_equal(buf, relative_link, size);
    free(buf);

    assert_int_equal(wb_reparse_from_symlink("", &buf, &size), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_reparse_from_symlink(NULL, &buf, &size), WB_ERROR_INVALID_PARAMETER);
    /* '\' is a name character on Linux but a separator on Windows */
    assert_int_equal(wb_reparse_from_symlink("a\\b", &buf, &size), WB_ERROR_NOT_SUPPORTED);
    assert_int_equal(wb_reparse_from_symlink("bad\xff", &buf, &size), WB_ERROR_INVALID_NAME);
}

static void test_parse(void **state)
{
    uint8_t buf[64];
    char *target;
    uint8_t *built;
    size_t size;

    assert_int_equal(wb_reparse_to_symlink(absolute_link, sizeof(absolute_link), &target), WB_OK);
    assert_string_equal(target, "/a/b");
    free(target);
    assert_int_equal(wb_reparse_to_symlink(relative_link, sizeof(relative_link), &target), WB_OK);
    assert_string_equal(target, "../x");
    free(target);

    /* non-ASCII survives both ways (U+00E9, U+1F600 as a surrogate pair) */
    assert_int_equal(wb_reparse_from_symlink("/caf\xc3\xa9/\xf0\x9f\x98\x80", &built, &size), WB_OK);
    assert_int_equal(wb_reparse_to_symlink(built, size, &target), WB_OK);
    assert_string_equal(target, "/caf\xc3\xa9/\xf0\x9f\x98\x80");
    free(target);
    free(built);

    /* "\??\Z:" alone is / ; "\??\C:\x" has no POSIX meaning */
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[4] = 12 + 12; buf[10] = 12; buf[12] = 12; buf[14] = 0;
    assert_int_equal(wb_reparse_to_symlink(buf, 8 + 24, &target), WB_OK);
    assert_string_equal(target, "/");
    free(target);
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[28] = 'C';
    assert_int_equal(wb_reparse_to_symlink(buf, sizeof(absolute_link), &target), WB_ERROR_NOT_SUPPORTED);
    /* a NUL inside the substitute name */
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[34] = 0;
    assert_int_equal(wb_reparse_to_symlink(buf, sizeof(absolute_link), &target), WB_ERROR_INVALID_REPARSE_DATA);
    assert_null(target);
    /* a relative name starting with '\' is drive-relative */
    memcpy(buf, relative_link, sizeof(relative_link));
    buf[20] = '\\';
    assert_int_equal(wb_reparse_to_symlink(buf, sizeof(relative_link), &target), WB_ERROR_NOT_SUPPORTED);
    /* another tag */
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[0] = 0x03;   /* IO_REPARSE_TAG_MOUNT_POINT, same name layout minus Flags */
    assert_int_equal(wb_reparse_to_symlink(buf, sizeof(absolute_link), &target), WB_ERROR_NOT_A_REPARSE_POINT);
}

static void test_validate(void **state)
{
    uint8_t buf[WB_MAX_REPARSE_SIZE + 8];
    uint32_t tag;

    assert_int_equal(wb_reparse_validate(absolute_link, sizeof(absolute_link)), WB_OK);
    assert_int_equal(wb_reparse_tag(relative_link, sizeof(relative_link), &tag), WB_OK);
    assert_int_equal(tag, WB_IO_REPARSE_TAG_SYMLINK);
    assert_int_equal(wb_reparse_validate(NULL, 0), WB_ERROR_INVALID_REPARSE_DATA);
    assert_int_equal(wb_reparse_validate(absolute_link, 7), WB_ERROR_INVALID_REPARSE_DATA);
    /* ReparseDataLength disagreeing with the size */
    assert_int_equal(wb_reparse_validate(absolute_link, sizeof(absolute_link) - 2), WB_ERROR_INVALID_REPARSE_DATA);
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[4] = 0x2e;
    assert_int_equal(wb_reparse_validate(buf, sizeof(absolute_link)), WB_ERROR_INVALID_REPARSE_DATA);
    /* a name outside the path buffer, an odd name length, unknown flags */
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[12] = 0x16;
    assert_int_equal(wb_reparse_validate(buf, sizeof(absolute_link)), WB_ERROR_INVALID_REPARSE_DATA);
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[10] = 0x13;
    assert_int_equal(wb_reparse_validate(buf, sizeof(absolute_link)), WB_ERROR_INVALID_REPARSE_DATA);
    memcpy(buf, absolute_link, sizeof(absolute_link));
    buf[16] = 0x02;
    assert_int_equal(wb_reparse_validate(buf, sizeof(absolute_link)), WB_ERROR_INVALID_REPARSE_DATA);
    /* symlink data shorter than its fixed fields */
    memcpy(buf, absolute_link, 8);
    buf[4] = 4;
    assert_int_equal(wb_reparse_validate(buf, 12), WB_ERROR_INVALID_REPARSE_DATA);
    /* reserved tags and reserved tag bits */
    memset(buf, 0, 8);
    assert_int_equal(wb_reparse_validate(buf, 8), WB_ERROR_INVALID_REPARSE_DATA);
    buf[0] = 1;
    assert_int_equal(wb_reparse_validate(buf, 8), WB_ERROR_INVALID_REPARSE_DATA);
    buf[0] = 0x17; buf[3] = 0x80;                 /* IO_REPARSE_TAG_DEDUP-like, no data */
    assert_int_equal(wb_reparse_validate(buf, 8), WB_OK);
    buf[2] = 0x01;                                /* bit 16 is reserved */
    assert_int_equal(wb_reparse_validate(buf, 8), WB_ERROR_INVALID_REPARSE_DATA);
    /* a non-Microsoft tag needs the 16-byte GUID */
    memset(buf, 0, 32);
    buf[0] = 0x34; buf[3] = 0x00; buf[4] = 4;
    assert_int_equal(wb_reparse_validate(buf, 28), WB_OK);
    assert_int_equal(wb_reparse_validate(buf, 12), WB_ERROR_INVALID_REPARSE_DATA);
    /* MAXIMUM_REPARSE_DATA_BUFFER_SIZE */
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x17; buf[3] = 0x80;
    buf[4] = (WB_MAX_REPARSE_SIZE - 8) & 0xff; buf[5] = (WB_MAX_REPARSE_SIZE - 8) >> 8;
    assert_int_equal(wb_reparse_validate(buf, WB_MAX_REPARSE_SIZE), WB_OK);
    assert_int_equal(wb_reparse_validate(buf, WB_MAX_REPARSE_SIZE + 8), WB_ERROR_INVALID_REPARSE_DATA);
}

static void test_utf16(void **state)
{
    static const uint16_t pair[] = {'a', 0xd83d, 0xde00};
    static const uint16_t lone[] = {'a', 0xdc00};
    uint16_t *utf16;
    char *utf8;
    size_t n;

    assert_int_equal(wb_utf8_to_utf16("a\xf0\x9f\x98\x80", 5, &utf16, &n), WB_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(utf16, pair, sizeof(pair));
    free(utf16);
    assert_int_equal(wb_utf16_to_utf8(pair, 3, &utf8, &n), WB_OK);
    assert_int_equal(n, 5);
    assert_string_equal(utf8, "a\xf0\x9f\x98\x80");
    free(utf8);
    assert_int_equal(wb_utf16_to_utf8(lone, 2, &utf8, &n), WB_ERROR_INVALID_NAME);
    assert_int_equal(wb_utf16_to_utf8(pair, 2, &utf8, &n), WB_ERROR_INVALID_NAME);   /* cut pair */
    assert_int_equal(wb_utf8_to_utf16("\xc0\xaf", 2, &utf16, &n), WB_ERROR_INVALID_NAME);        /* overlong '/' */
    assert_int_equal(wb_utf8_to_utf16("\xed\xa0\x80", 3, &utf16, &n), WB_ERROR_INVALID_NAME);    /* U+D800 */
    assert_int_equal(wb_utf8_to_utf16("\xf4\x90\x80\x80", 4, &utf16, &n), WB_ERROR_INVALID_NAME); /* > U+10FFFF */
    assert_int_equal(wb_utf8_to_utf16("\xe2\x82", 2, &utf16, &n), WB_ERROR_INVALID_NAME);        /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_utf16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
