/*
 * Unit tests of media recovery / log archiving (libs/nsf/core/recovery.c)
 * and of TIMEDATE (libs/nsf/core/timedate.c).
 *
 * Expected values: the codes the Domino C API reference documents for a
 * server without transactional logging (NSFGetTransLogStyle,
 * NSFBeginArchivingLogs: ERR_SERVER_NOT_TRANSLOGGED; NSFIsNewBackupNeeded:
 * ERR_RM_GENERAL_FAILURE); TIMEDATE innards documented by libyal's NSF
 * format notes (libnsfdb, "NSF date and time") and checked against Domino
 * by domino-jnx's TestDateTime; the text "10/05/2020 01:10:07 PM" that
 * Notes shows (U.S. format) for 2020-10-05 17:10:07 GMT in New York.
 */
#include "testutil.h"
#include "../libs/nsf/nsf.h"
#include "global.h"
#include "misc.h"
#include "names.h"
#include "miscerr.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"

/* ---------------------------------------------------------------- recovery */

static void test_log_style_not_logged(void **state)
{
    uint16_t style = TRANSLOG_STYLE_CIRCULAR;      /* what an uninitialized variable often holds */

    assert_int_equal(nsf_api_translog_style(&style), ERR_SERVER_NOT_TRANSLOGGED);
    /* documented only on NOERROR; set to no style, so a caller that reads it anyway sees no logging */
    assert_true(style != TRANSLOG_STYLE_CIRCULAR && style != TRANSLOG_STYLE_ARCHIVE && style != TRANSLOG_STYLE_LINEAR);
    assert_int_equal(nsf_api_translog_style(NULL), ERR_UNKNOWN);
    assert_int_equal(nsf_api_archive_begin(), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(nsf_api_archive_end(), ERR_SERVER_NOT_TRANSLOGGED);
}

static void test_archive_calls(void **state)
{
    uint8_t id[16] = { 0 };
    uint32_t number = 7;
    char path[MAXPATH + 1] = "unchanged";

    assert_int_equal(nsf_api_archive_next(id, &number, path), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(number, 7);
    assert_string_equal(path, "unchanged");
    assert_int_equal(nsf_api_archive_next(NULL, &number, path), ERR_UNKNOWN);
    assert_int_equal(nsf_api_archive_next(id, NULL, path), ERR_UNKNOWN);
    assert_int_equal(nsf_api_archive_next(id, &number, NULL), ERR_UNKNOWN);
    assert_int_equal(nsf_api_archive_done(id, &number), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(nsf_api_archive_done(NULL, &number), ERR_UNKNOWN);
}

static void test_recover_arguments(void **state)
{
    uint16_t index = 9;

    assert_int_equal(nsf_api_recover("a.nsf\0b.nsf\0", 0, 0, &index), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(index, 0);                         /* not tied to one database */
    assert_int_equal(nsf_api_recover("a.nsf\0", DBRECOVER_ZAP_ID | DBRECOVER_WAIT, 0, NULL),
                     ERR_SERVER_NOT_TRANSLOGGED);
    index = 9;
    assert_int_equal(nsf_api_recover("a.nsf\0srv!!b.nsf\0c.nsf\0", 0, 0, &index), ERR_NOT_LOCAL);
    assert_int_equal(index, 2);                         /* 1-based */
    assert_int_equal(nsf_api_recover("\0", 0, 0, &index), ERR_NOEXIST);
    {
        /* a bad name past the 65535th: a WORD cannot hold its position, so 0, never a good name's */
        size_t count = 70000, i;
        char *list = malloc(count * 2 + 16), *p = list;
        for (i = 0; i < 65536; i++) { *p++ = 'a'; *p++ = 0; }
        memcpy(p, "s!!b\0\0", 6);
        index = 9;
        assert_int_equal(nsf_api_recover(list, 0, 0, &index), ERR_NOT_LOCAL);
        assert_int_equal(index, 0);
        p[0] = 'c';
        p[1] = p[2] = 0;
        assert_int_equal(nsf_api_recover(list, 0, 0, &index), ERR_SERVER_NOT_TRANSLOGGED);
        free(list);
    }
    assert_int_equal(nsf_api_recover(NULL, 0, 0, &index), ERR_UNKNOWN);
    /* reserved bits; REFRESH_BACKUP excludes ZAP_ID, POINT_IN_TIME and ZAP_REPLICAID */
    assert_int_equal(nsf_api_recover("a\0", 0x80, 0, &index), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_REFRESH_BACKUP | DBRECOVER_ZAP_ID, 0, &index), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_REFRESH_BACKUP | DBRECOVER_POINT_IN_TIME, 1, &index),
                     ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_REFRESH_BACKUP | DBRECOVER_ZAP_REPLICAID, 0, &index),
                     ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_REFRESH_BACKUP, 0, &index), ERR_SERVER_NOT_TRANSLOGGED);
    /* the point in time is required with POINT_IN_TIME */
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_POINT_IN_TIME, 0, &index), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_recover("a\0", DBRECOVER_POINT_IN_TIME, 1, &index), ERR_SERVER_NOT_TRANSLOGGED);
}

static void test_backup_needed(void **state)
{
    uint32_t needed = 3;

    assert_int_equal(nsf_api_new_backup_needed("db.bak", 0, &needed), ERR_RM_GENERAL_FAILURE);
    assert_int_equal(needed, 3);
    assert_int_equal(nsf_api_new_backup_needed("db.bak", 65536, NULL), ERR_UNKNOWN);
    assert_int_equal(nsf_api_new_backup_needed("srv!!db.bak", 0, &needed), ERR_NOT_LOCAL);
    assert_int_equal(nsf_api_new_backup_needed("", 0, &needed), ERR_NOEXIST);
    assert_int_equal(nsf_api_new_backup_needed(NULL, 0, &needed), ERR_NOEXIST);
}

static void test_offline_online(void **state)
{
    assert_int_equal(nsf_api_take_offline("db.nsf", 0, 0), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(nsf_api_take_offline("db.nsf", 100, OFFLINE_NODELETE | OFFLINE_KEEP_ACCESS_ENTITIES),
                     ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(nsf_api_take_offline("db.nsf", 0, 4), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_take_offline("srv!!db.nsf", 0, 0), ERR_NOT_LOCAL);
    assert_int_equal(nsf_api_take_offline(NULL, 0, 0), ERR_NOEXIST);
    assert_int_equal(nsf_api_bring_online("db.nsf", 0), ERR_SERVER_NOT_TRANSLOGGED);
    assert_int_equal(nsf_api_bring_online("db.nsf", 1), ERR_VALUE_FLAGS);    /* options: reserved */
    assert_int_equal(nsf_api_bring_online("srv!!db.nsf", 0), ERR_NOT_LOCAL);
}

static void test_every_code_has_text(void **state)
{
    static const uint16_t codes[] = { ERR_SERVER_NOT_TRANSLOGGED, ERR_RM_GENERAL_FAILURE, ERR_NOT_LOCAL,
                                      ERR_VALUE_FLAGS, ERR_NOEXIST, ERR_UNKNOWN, ERR_TFMT, ERR_TDO_CONV,
                                      ERR_BUFFER_OVERFLOW, ERR_NO_TRANSLOGS_TO_ARCHIVE };
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    {
        const char *text = nsf_status_text(codes[i]);
        assert_non_null(text);
        assert_true(strlen(text) > 10);
    }
    assert_non_null(strstr(nsf_status_text(ERR_SERVER_NOT_TRANSLOGGED), "ransactional logging"));
}

/* ---------------------------------------------------------------- TIMEDATE */

#define NY_STANDARD (-5 * 3600)
static int32_t new_york(int64_t t)
{
    /* EDT from 2020-03-08 07:00Z to 2020-11-01 06:00Z (U.S. rules), EST otherwise (only 1996 and 2020 used) */
    return t >= 1583650800 && t < 1604210400 ? -4 * 3600 : NY_STANDARD;
}
static int32_t gmt(int64_t t) { return 0; }

static void test_innards_documented(void **state)
{
    uint32_t in[2];
    int64_t seconds;

    /* 1996-12-10 14:49:04 EST (19:49:04 GMT): New York, 5 hours west, observes DST */
    nsf_timedate_from_unix(850247344, 0, NY_STANDARD, 1, in);
    assert_int_equal(in[0], 0x006CDCC0);
    assert_int_equal(in[1], 0x852563FC);
    assert_true(nsf_timedate_to_unix(in, &seconds));
    assert_int_equal(seconds, 850247344);
    /* 1996-12-10 14:49:04 IST (09:19:04 GMT): Calcutta, 5:30 east, no DST */
    nsf_timedate_from_unix(850209544, 0, 5 * 3600 + 1800, 0, in);
    assert_int_equal(in[0], 0x00332F20);
    assert_int_equal(in[1], 0x652563FC);
    /* hundredths; the Unix epoch is Julian day 2440588 */
    nsf_timedate_from_unix(0, 42, 0, 0, in);
    assert_int_equal(in[0], 42);
    assert_int_equal(in[1], 2440588);
    /* a date without a time, a time without a date */
    in[0] = ALLDAY;
    assert_false(nsf_timedate_to_unix(in, &seconds));
    in[0] = 0;
    in[1] = ANYDAY;
    assert_false(nsf_timedate_to_unix(in, &seconds));
}

static void check_text(const uint32_t in[2], const struct nsf_tfmt *fmt, int32_t (*zone)(int64_t), int64_t now,
                       const char *expect)
{
    char text[MAXALPHATIMEDATE + 1];
    uint16_t len = 999;

    memset(text, 'x', sizeof(text));
    assert_int_equal(nsf_timedate_format(in, fmt, zone, now, text, MAXALPHATIMEDATE, &len), NOERROR);
    text[len] = 0;
    assert_string_equal(text, expect);
}

static void test_text(void **state)
{
    uint32_t in[2];
    struct nsf_tfmt fmt = { TDFMT_FULL, TTFMT_FULL, TZFMT_NEVER, TSFMT_DATETIME };
    int64_t later = 1764158917;     /* 2025-11-26: another year than the values below */

    nsf_timedate_from_unix(1601917807, 0, NY_STANDARD, 1, in);
    check_text(in, NULL, new_york, later, "10/05/2020 01:10:07 PM");         /* Notes' own rendering */
    check_text(in, &fmt, new_york, later, "10/05/2020 01:10:07 PM");
    check_text(in, NULL, gmt, later, "10/05/2020 05:10:07 PM");
    nsf_timedate_from_unix(850247344, 0, NY_STANDARD, 1, in);
    check_text(in, NULL, new_york, later, "12/10/1996 02:49:04 PM");
    /* the local day is not the GMT one: 1996-12-11 02:00 GMT is 12/10 09:00 PM in New York */
    nsf_timedate_from_unix(850269600, 0, NY_STANDARD, 1, in);
    check_text(in, NULL, new_york, later, "12/10/1996 09:00:00 PM");
    /* midnight and noon on a 12-hour clock */
    nsf_timedate_from_unix(850176000, 0, 0, 0, in);
    check_text(in, NULL, gmt, later, "12/10/1996 12:00:00 AM");
    nsf_timedate_from_unix(850176000 + 43200 + 1, 7, 0, 0, in);
    check_text(in, NULL, gmt, later, "12/10/1996 12:00:01 PM");
    fmt.time = TTFMT_FULL_MAX;
    check_text(in, &fmt, gmt, later, "12/10/1996 12:00:01.07 PM");
    fmt.time = TTFMT_PARTIAL;
    check_text(in, &fmt, gmt, later, "12/10/1996 12:00 PM");
    fmt.time = TTFMT_HOUR;
    fmt.structure = TSFMT_TIME;
    check_text(in, &fmt, gmt, later, "12 PM");
    fmt = (struct nsf_tfmt){ TDFMT_PARTIAL, TTFMT_FULL, TZFMT_NEVER, TSFMT_DATE };
    check_text(in, &fmt, gmt, later, "12/10");
    fmt.date = TDFMT_DPARTIAL4;
    check_text(in, &fmt, gmt, later, "12/1996");
    fmt.date = TDFMT_CPARTIAL4;                                    /* year shown: not this year */
    check_text(in, &fmt, gmt, later, "12/10/1996");
    check_text(in, &fmt, gmt, 850176000 + 86400 * 10, "12/10");     /* this year: no year */
    /* Today / Yesterday */
    fmt = (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL, TZFMT_NEVER, TSFMT_CDATETIME };
    check_text(in, &fmt, gmt, 850176000 + 50000, "12:00:01 PM Today");
    check_text(in, &fmt, gmt, 850176000 + 86400 + 50000, "12:00:01 PM Yesterday");
    check_text(in, &fmt, gmt, 850176000 + 2 * 86400, "12/10/1996 12:00:01 PM");
    fmt.structure = TSFMT_CDATE;
    check_text(in, &fmt, gmt, 850176000 + 50000, "Today");
    /* TZFMT_ALWAYS: the offset shown */
    fmt = (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL, TZFMT_ALWAYS, TSFMT_DATETIME };
    nsf_timedate_from_unix(850247344, 0, NY_STANDARD, 1, in);
    check_text(in, &fmt, new_york, later, "12/10/1996 02:49:04 PM -05:00");
    /* date only, time only, neither */
    in[0] = ALLDAY;
    check_text(in, NULL, new_york, later, "12/10/1996");
    nsf_timedate_from_unix(850247344, 0, NY_STANDARD, 1, in);
    in[1] = ANYDAY;
    check_text(in, NULL, gmt, later, "07:49:04 PM");
    in[0] = ALLDAY;
    check_text(in, NULL, gmt, later, "");
}

static void test_text_errors(void **state)
{
    uint32_t in[2];
    struct nsf_tfmt fmt = { TDFMT_FULL, TTFMT_FULL, TZFMT_NEVER, TSFMT_DATETIME };
    char text[MAXALPHATIMEDATE + 1];
    uint16_t len = 77;

    nsf_timedate_from_unix(850247344, 0, NY_STANDARD, 1, in);
    /* "12/10/1996 02:49:04 PM" is 22 characters: 21 do not hold it, and nothing is claimed */
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, text, 21, &len), ERR_BUFFER_OVERFLOW);
    assert_int_equal(len, 0);
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, text, 22, &len), NOERROR);
    assert_int_equal(len, 22);
    fmt.date = TDFMT_DPARTIAL4 + 1;
    assert_int_equal(nsf_timedate_format(in, &fmt, gmt, 0, text, sizeof(text), &len), ERR_TFMT);
    fmt = (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL_MAX + 1, TZFMT_NEVER, TSFMT_DATETIME };
    assert_int_equal(nsf_timedate_format(in, &fmt, gmt, 0, text, sizeof(text), &len), ERR_TFMT);
    fmt = (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL, TZFMT_ALWAYS + 1, TSFMT_DATETIME };
    assert_int_equal(nsf_timedate_format(in, &fmt, gmt, 0, text, sizeof(text), &len), ERR_TFMT);
    fmt = (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL, TZFMT_NEVER, TSFMT_CDATE + 1 };
    assert_int_equal(nsf_timedate_format(in, &fmt, gmt, 0, text, sizeof(text), &len), ERR_TFMT);
    /* more hundredths than a day has */
    in[0] = 8640000;
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, text, sizeof(text), &len), ERR_TDO_CONV);
    assert_int_equal(len, 0);
    /* Julian day 0 is 4713 BC: no Gregorian year to print */
    in[0] = 0;
    in[1] = 0;
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, text, sizeof(text), &len), ERR_TDO_CONV);
    assert_int_equal(nsf_timedate_format(NULL, NULL, gmt, 0, text, sizeof(text), &len), ERR_UNKNOWN);
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, NULL, sizeof(text), &len), ERR_UNKNOWN);
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, text, sizeof(text), NULL), ERR_UNKNOWN);
    len = 77;
    assert_int_equal(nsf_timedate_format(NULL, NULL, gmt, 0, text, sizeof(text), &len), ERR_UNKNOWN);
    assert_int_equal(len, 0);                       /* nothing claimed, whatever the error */
    len = 77;
    assert_int_equal(nsf_timedate_format(in, NULL, gmt, 0, NULL, sizeof(text), &len), ERR_UNKNOWN);
    assert_int_equal(len, 0);
}

static int32_t absurd_west(int64_t t) { return INT32_MIN; }
static int32_t absurd_east(int64_t t) { return INT32_MAX; }

/* Offsets and clocks no real zone has (a POSIX TZ allows 24:59): clamped, never undefined (UBSan). */
static void test_extremes(void **state)
{
    struct nsf_tfmt fmt = { TDFMT_FULL, TTFMT_FULL, TZFMT_ALWAYS, TSFMT_CDATETIME };
    char text[MAXALPHATIMEDATE + 1];
    uint32_t in[2];
    uint16_t len;

    nsf_timedate_from_unix(850247344, 0, -(24 * 3600 + 59 * 60), 0, in);
    assert_int_equal(in[1] >> 24 & 0x3f, 15 | 3 << 4);     /* 15:45, the most the fields hold */
    nsf_timedate_from_unix(INT64_MAX, 0, INT32_MIN, 1, in);
    nsf_timedate_from_unix(INT64_MIN, 0, INT32_MAX, 1, in);
    nsf_timedate_from_unix(850247344, 0, 0, 0, in);
    assert_int_equal(nsf_timedate_format(in, &fmt, absurd_west, INT64_MAX, text, sizeof(text), &len), NOERROR);
    assert_int_equal(nsf_timedate_format(in, &fmt, absurd_east, INT64_MIN, text, sizeof(text), &len), NOERROR);
    text[len] = 0;
    assert_string_equal(text, "12/10/1996 07:49:04 PM +00:00");   /* an offset of a day or more: none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_style_not_logged),
        cmocka_unit_test(test_archive_calls),
        cmocka_unit_test(test_recover_arguments),
        cmocka_unit_test(test_backup_needed),
        cmocka_unit_test(test_offline_online),
        cmocka_unit_test(test_every_code_has_text),
        cmocka_unit_test(test_innards_documented),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
