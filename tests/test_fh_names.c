/*
 * Unit tests of the File History version names and target layout
 * (libs/fh/fh_names.c).
 *
 * Expected names follow the layout in the reference (file-history.md):
 * `<name> (YYYY_MM_DD HH_MM_SS UTC).<ext>` under Data\<drive>\<path>, the
 * example `report (2026_11_23 09_15_02 UTC).docx`.  Times are built with
 * timegm() from the calendar fields, not from the code under test.
 */
#include "testutil.h"
#include "../libs/fh/fh_names.c"

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
    tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = s;
    return timegm(&tm);
}

static void check_name(const char *base, const char *expect)
{
    char *got = fh_version_name(base, utc(2026, 11, 23, 9, 15, 2));
    assert_non_null(got);
    assert_string_equal(got, expect);
    free(got);
}

static void test_stamp(void **state)
{
    char buf[64];
    assert_int_equal(fh_format_stamp(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1970_01_01 00_00_00 UTC");
    assert_int_equal(fh_format_stamp(utc(2026, 11, 23, 9, 15, 2), buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2026_11_23 09_15_02 UTC");
    assert_int_equal(strlen(buf), FH_STAMP_LEN);
    /* too small a buffer is refused, not truncated */
    assert_int_equal(fh_format_stamp(0, buf, FH_STAMP_LEN), -1);
}

static void test_version_name(void **state)
{
    check_name("report.docx", "report (2026_11_23 09_15_02 UTC).docx");
    check_name("README", "README (2026_11_23 09_15_02 UTC)");
    check_name("a.tar.gz", "a.tar (2026_11_23 09_15_02 UTC).gz");
    check_name(".bashrc", " (2026_11_23 09_15_02 UTC).bashrc");
    check_name("trailing.", "trailing (2026_11_23 09_15_02 UTC).");
    check_name("with space.txt", "with space (2026_11_23 09_15_02 UTC).txt");
    check_name("caf\xc3\xa9.txt", "caf\xc3\xa9 (2026_11_23 09_15_02 UTC).txt");
}

static void test_version_name_invalid(void **state)
{
    assert_null(fh_version_name(NULL, 0));
    assert_null(fh_version_name("", 0));
    assert_null(fh_version_name("a/b", 0));
    assert_null(fh_version_name(".", 0));
    assert_null(fh_version_name("..", 0));
    assert_null(fh_version_name("new\nline", 0));
}

static void test_parse_version_name(void **state)
{
    char *base = NULL;
    time_t t = 0;

    assert_int_equal(fh_parse_version_name("report (2026_11_23 09_15_02 UTC).docx", &base, &t), 0);
    assert_string_equal(base, "report.docx");
    assert_int_equal(t, utc(2026, 11, 23, 9, 15, 2));
    free(base);
    assert_int_equal(fh_parse_version_name("README (2026_11_23 09_15_02 UTC)", &base, &t), 0);
    assert_string_equal(base, "README");
    free(base);
    /* a name that already looks like a version: the last stamp is the version's */
    assert_int_equal(fh_parse_version_name("a (2020_01_01 00_00_00 UTC) (2026_11_23 09_15_02 UTC).txt", &base, &t), 0);
    assert_string_equal(base, "a (2020_01_01 00_00_00 UTC).txt");
    assert_int_equal(t, utc(2026, 11, 23, 9, 15, 2));
    free(base);

    assert_int_equal(fh_parse_version_name("report.docx", &base, &t), -1);
    assert_int_equal(fh_parse_version_name("x (2026_02_30 00_00_00 UTC).txt", &base, &t), -1);  /* no 30 Feb */
    assert_int_equal(fh_parse_version_name("x (2026_11_23 09_15_02 GMT).txt", &base, &t), -1);
    assert_int_equal(fh_parse_version_name("x (2026_11_23 09_15_02 UTC).a.b", &base, &t), -1);
    assert_int_equal(fh_parse_version_name(NULL, &base, &t), -1);
}

static void test_path_valid(void **state)
{
    char long_name[300];

    assert_true(fh_path_is_valid("/a"));
    assert_true(fh_path_is_valid("/home/alice/doc.txt"));
    assert_false(fh_path_is_valid(NULL));
    assert_false(fh_path_is_valid(""));
    assert_false(fh_path_is_valid("/"));
    assert_false(fh_path_is_valid("relative/path"));
    assert_false(fh_path_is_valid("/a/"));
    assert_false(fh_path_is_valid("/a//b"));
    assert_false(fh_path_is_valid("/a/./b"));
    assert_false(fh_path_is_valid("/a/../b"));
    assert_false(fh_path_is_valid("/.."));
    assert_false(fh_path_is_valid("/a\x01"));
    assert_true(fh_path_is_valid("/a/..b/c.."));
    long_name[0] = '/';
    memset(long_name + 1, 'x', 256);
    long_name[257] = 0;
    assert_false(fh_path_is_valid(long_name));   /* a component longer than NAME_MAX */
}

static void test_data_relpath(void **state)
{
    time_t t = utc(2026, 11, 23, 9, 15, 2);
    char *p;

    p = fh_data_relpath("/home/alice/doc/report.docx", t);
    assert_string_equal(p, "Data/C/home/alice/doc/report (2026_11_23 09_15_02 UTC).docx");
    free(p);
    p = fh_data_relpath("/top.txt", t);
    assert_string_equal(p, "Data/C/top (2026_11_23 09_15_02 UTC).txt");
    free(p);
    assert_null(fh_data_relpath("home/alice/x", t));
    assert_null(fh_data_relpath("/home/../etc/passwd", t));
    assert_null(fh_data_relpath("/", t));

    p = fh_overflow_relpath("/very/deep/name.txt", 42, t);
    assert_string_equal(p, "Data/$OF/42/name (2026_11_23 09_15_02 UTC).txt");
    free(p);
    assert_null(fh_overflow_relpath("/a.txt", 0, t));
    assert_null(fh_overflow_relpath("rel.txt", 1, t));
}

static void test_windows_length(void **state)
{
    /* "Z:" + "/t" + "\" + "Data/C/a" */
    assert_int_equal(fh_windows_length("/t", "Data/C/a"), 2 + 2 + 1 + 8);
    assert_int_equal(fh_windows_length("/t/", "Data/C/a"), 2 + 2 + 1 + 8);
}

static void test_parse_time(void **state)
{
    time_t t = 0, expect = utc(2026, 11, 23, 9, 15, 2);

    assert_int_equal(fh_parse_time("2026-11-23T09:15:02Z", &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(fh_parse_time("2026-11-23 09:15:02", &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(fh_parse_time("2026_11_23 09_15_02 UTC", &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(fh_parse_time("2026-11-23", &t), 0);
    assert_int_equal(t, utc(2026, 11, 23, 23, 59, 59));
    assert_int_equal(fh_parse_time("@1700000000", &t), 0);
    assert_int_equal(t, 1700000000);
    assert_int_equal(fh_parse_time("", &t), -1);
    assert_int_equal(fh_parse_time("@", &t), -1);
    assert_int_equal(fh_parse_time("@12x", &t), -1);
    assert_int_equal(fh_parse_time("2026-13-01T00:00:00Z", &t), -1);
    assert_int_equal(fh_parse_time("2026-11-23T25:00:00Z", &t), -1);
    assert_int_equal(fh_parse_time("yesterday", &t), -1);
    assert_int_equal(fh_parse_time(NULL, &t), -1);
}

static void test_format_iso(void **state)
{
    char buf[32];
    fh_format_iso(utc(2026, 11, 23, 9, 15, 2), buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-23T09:15:02Z");
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_version_name),
        cmocka_unit_test(test_version_name_invalid),
        cmocka_unit_test(test_parse_version_name),
        cmocka_unit_test(test_path_valid),
        cmocka_unit_test(test_data_relpath),
        cmocka_unit_test(test_windows_length),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_format_iso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
