/*
 * FILE_FULL_EA_INFORMATION chains: the reference vector from
 * backup-stream-format.md (go-winio's EA test) byte for byte, and the
 * malformed chains and names the decoder must refuse.
 */
#include "testutil.h"
#include "winbackup/metadata.h"

/* "foo"="bar", "fizz"="buzz", flags 0: 16 + 17 bytes.  go-winio's encoder
 * pads the last entry to 20 (36 bytes); [MS-FSCC] 2.4.15 wants no padding
 * after the last entry, which is what Windows returns: 33 bytes. */
static const uint8_t vector[36] =
{
    0x10, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x66, 0x6f, 0x6f, 0x00, 0x62, 0x61, 0x72, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x00, 0x66, 0x69, 0x7a, 0x7a, 0x00, 0x62, 0x75, 0x7a,
    0x7a, 0x00, 0x00, 0x00,
};
#define WINDOWS_VECTOR_SIZE 33

static void test_encode_vector(void **state)
{
    struct wb_ea eas[2] =
    {
        { 0, 3, 3, "foo", (const uint8_t *)"bar" },
        { 0, 4, 4, "fizz", (const uint8_t *)"buzz" },
    };
    uint8_t *out;
    size_t size;

    assert_int_equal(wb_ea_encode(eas, 2, &out, &size), WB_OK);
    assert_int_equal(size, WINDOWS_VECTOR_SIZE);
    assert_memory_equal(out, vector, WINDOWS_VECTOR_SIZE);
    free(out);
    /* one EA: its entry is the last one, unpadded */
    assert_int_equal(wb_ea_encode(eas, 1, &out, &size), WB_OK);
    assert_int_equal(size, 15);
    free(out);

    assert_int_equal(wb_ea_entry_size(3, 3), 16);
    assert_int_equal(wb_ea_entry_size(4, 4), 20);

    assert_int_equal(wb_ea_encode(NULL, 0, &out, &size), WB_OK);
    assert_null(out);
    assert_int_equal(size, 0);
    assert_int_equal(wb_ea_encode(NULL, 1, &out, &size), WB_ERROR_INVALID_PARAMETER);
}

static void test_decode_vector(void **state)
{
    struct wb_ea *eas;
    size_t count;

    assert_int_equal(wb_ea_decode(vector, sizeof(vector), &eas, &count), WB_OK);
    assert_int_equal(count, 2);
    assert_int_equal(eas[0].name_len, 3);
    assert_string_equal(eas[0].name, "foo");
    assert_int_equal(eas[0].value_len, 3);
    assert_memory_equal(eas[0].value, "bar", 3);
    assert_int_equal(eas[1].flags, 0);
    assert_string_equal(eas[1].name, "fizz");
    assert_int_equal(eas[1].value_len, 4);
    assert_memory_equal(eas[1].value, "buzz", 4);
    free(eas);

    /* [MS-FSCC]: no padding is required after the last entry */
    assert_int_equal(wb_ea_decode(vector, 33, &eas, &count), WB_OK);
    assert_int_equal(count, 2);
    free(eas);

    assert_int_equal(wb_ea_decode(NULL, 0, &eas, &count), WB_OK);
    assert_int_equal(count, 0);
    assert_int_equal(wb_ea_decode(vector, sizeof(vector), NULL, &count), WB_ERROR_INVALID_PARAMETER);
}

static void test_decode_malformed(void **state)
{
    uint8_t buf[48];
    struct wb_ea *eas = NULL;
    size_t count;

    /* last entry cut */
    assert_int_equal(wb_ea_decode(vector, 32, &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* shorter than a header */
    assert_int_equal(wb_ea_decode(vector, 7, &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* bytes beyond the padding of the last entry */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, vector, sizeof(vector));
    assert_int_equal(wb_ea_decode(buf, 40, &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* NextEntryOffset not the padded size of its entry */
    buf[0] = 0x14;
    assert_int_equal(wb_ea_decode(buf, sizeof(vector), &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    buf[0] = 0x0f;
    assert_int_equal(wb_ea_decode(buf, sizeof(vector), &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* NextEntryOffset past the buffer */
    buf[0] = 0x10;
    assert_int_equal(wb_ea_decode(buf, 16, &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* missing NUL after the name */
    memcpy(buf, vector, sizeof(vector));
    buf[11] = 'x';
    assert_int_equal(wb_ea_decode(buf, sizeof(vector), &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* value length running past the end */
    memcpy(buf, vector, sizeof(vector));
    buf[22] = 0xff;
    assert_int_equal(wb_ea_decode(buf, sizeof(vector), &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    /* name length running past the end */
    memcpy(buf, vector, sizeof(vector));
    buf[21] = 200;
    assert_int_equal(wb_ea_decode(buf, sizeof(vector), &eas, &count), WB_ERROR_EA_LIST_INCONSISTENT);
    assert_null(eas);
}

static void test_names(void **state)
{
    static const char bad_chars[] = "\"*+,/:;<=>?[\\]|\x01\x1f\x7f\x80";
    char name[300];
    uint8_t buf[36];
    struct wb_ea *eas;
    struct wb_ea ea = { 0, 3, 1, "a:b", (const uint8_t *)"v" };
    size_t count, i;
    uint8_t *out;

    assert_int_equal(wb_ea_validate_name("user.comment-1_x", 16), WB_OK);
    assert_int_equal(wb_ea_validate_name("", 0), WB_ERROR_INVALID_EA_NAME);
    assert_int_equal(wb_ea_validate_name(NULL, 3), WB_ERROR_INVALID_EA_NAME);
    memset(name, 'a', sizeof(name));
    assert_int_equal(wb_ea_validate_name(name, 255), WB_OK);
    assert_int_equal(wb_ea_validate_name(name, 256), WB_ERROR_INVALID_EA_NAME);
    assert_int_equal(wb_ea_validate_name("a\0b", 3), WB_ERROR_INVALID_EA_NAME);
    for (i = 0; i < sizeof(bad_chars) - 1; i++)
    {
        name[1] = bad_chars[i];
        assert_int_equal(wb_ea_validate_name(name, 3), WB_ERROR_INVALID_EA_NAME);
    }

    assert_int_equal(wb_ea_encode(&ea, 1, &out, &count), WB_ERROR_INVALID_EA_NAME);
    ea.name = "abc";
    ea.flags = 0x01;
    assert_int_equal(wb_ea_encode(&ea, 1, &out, &count), WB_ERROR_INVALID_EA_NAME);
    ea.flags = WB_FILE_NEED_EA;
    assert_int_equal(wb_ea_encode(&ea, 1, &out, &count), WB_OK);
    assert_int_equal(count, 13);     /* one entry, the last: unpadded */
    assert_int_equal(out[4], 0x80);
    free(out);

    /* a well-formed chain with a bad name or bad flags */
    memcpy(buf, vector, sizeof(vector));
    buf[9] = '*';
    assert_int_equal(wb_ea_decode(buf, sizeof(buf), &eas, &count), WB_ERROR_INVALID_EA_NAME);
    memcpy(buf, vector, sizeof(vector));
    buf[20] = 0x40;
    assert_int_equal(wb_ea_decode(buf, sizeof(buf), &eas, &count), WB_ERROR_INVALID_EA_NAME);
    /* empty name */
    memcpy(buf, vector, sizeof(vector));
    buf[20] = 0;
    memset(buf + 16, 0, 20);
    buf[16 + 6] = 1;   /* value length 1, name length 0: "\0" "v" */
    buf[16 + 9] = 'v';
    assert_int_equal(wb_ea_decode(buf, 28, &eas, &count), WB_ERROR_INVALID_EA_NAME);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_encode_vector),
        cmocka_unit_test(test_decode_vector),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
