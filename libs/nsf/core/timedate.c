/*
 * TIMEDATE, the toolkit's binary time: encoding from a POSIX time and
 * ConvertTIMEDATEToText's text.  Layout (misc.h): Innards[0] hundredths of
 * a second since midnight GMT, Innards[1] the Julian day number in bits
 * 0-23 and the zone above it (hours 24-27, quarter hours 28-29, east 30,
 * observes daylight saving time 31).  The face supplies the clock and the
 * local zone; nothing here calls the OS.
 *
 * Text: the U.S. English form of a client whose OS asks for 4-digit years,
 * "11/26/2026 01:08:37 PM", converted to the local zone (TZFMT_NEVER and
 * TZFMT_SOMETIMES alike: every time shown is in this zone); TZFMT_ALWAYS
 * adds the local offset as "+hh:mm".  The INTLFORMAT argument is not read.
 */
#include <stdio.h>
#include <string.h>
#include "../nsf.h"
#include "misc.h"
#include "miscerr.h"
#include "oserr.h"

#define JDN_1970        2440588         /* Julian day number of 1970-01-01 */
#define TICKS_PER_DAY   8640000u        /* hundredths of a second */
#define MAX_ZONE_MINUTES (15 * 60 + 45) /* the most 4 bits of hours and 2 of quarter hours hold */
#define MAX_NOW         ((int64_t)1 << 40)  /* seconds: far beyond year 9999, far from overflow */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Gregorian calendar date of a day count from 1970-01-01 (H. Hinnant's
 * civil_from_days, valid for every day a 24-bit Julian day can name). */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468, era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

void nsf_timedate_from_unix(int64_t seconds, uint32_t hundredths, int32_t zone_offset, int zone_has_dst,
                            uint32_t innards[2])
{
    int64_t days;
    uint32_t east = zone_offset > 0;
    uint32_t minutes = (uint32_t)((east ? zone_offset : -(int64_t)zone_offset) / 60);
    uint32_t zone;

    if (minutes > MAX_ZONE_MINUTES) minutes = MAX_ZONE_MINUTES;     /* POSIX TZ allows 24:59 */
    if (seconds > MAX_NOW) seconds = MAX_NOW;
    if (seconds < -MAX_NOW) seconds = -MAX_NOW;
    days = floor_div(seconds, 86400);

    innards[0] = (uint32_t)(seconds - days * 86400) * 100 + (hundredths < 100 ? hundredths : 99);
    zone = (minutes / 60 & 0xf) << 24 | (minutes % 60 / 15) << 28;
    if (east) zone |= 1u << 30;
    if (zone_has_dst) zone |= 1u << 31;
    innards[1] = ((uint32_t)(days + JDN_1970) & 0xffffff) | zone;
}

int nsf_timedate_to_unix(const uint32_t innards[2], int64_t *seconds)
{
    if (innards[0] == ALLDAY || innards[1] == ANYDAY || innards[0] >= TICKS_PER_DAY) return 0;
    *seconds = ((int64_t)(innards[1] & 0xffffff) - JDN_1970) * 86400 + innards[0] / 100;
    return 1;
}

/* Append printf output to out[*len..size), failing when it does not fit. */
static int put(char *out, size_t size, size_t *len, const char *format, int a, int b, int c)
{
    char piece[64];
    int n = snprintf(piece, sizeof(piece), format, a, b, c);

    if (n < 0 || (size_t)n >= sizeof(piece) || *len + n > size) return 0;
    memcpy(out + *len, piece, n);
    *len += n;
    return 1;
}

nsf_status nsf_timedate_format(const uint32_t innards[2], const struct nsf_tfmt *format,
                               int32_t (*local_offset)(int64_t seconds), int64_t now, char *out, uint16_t size,
                               uint16_t *length)
{
    struct nsf_tfmt fmt = format ? *format
                                 : (struct nsf_tfmt){ TDFMT_FULL, TTFMT_FULL, TZFMT_NEVER, TSFMT_DATETIME };
    int has_date, has_time;
    int64_t year = 0, this_year, local_day = 0, today, seconds = 0, tick = 0;
    int month = 0, day = 0, ok = 1, want_date, want_time, relative = 0, unused_month, unused_day;
    int32_t offset = 0, now_offset;
    size_t len = 0;

    if (length) *length = 0;
    if (!innards || !out || !length) return ERR_UNKNOWN;
    if (now > MAX_NOW) now = MAX_NOW;
    if (now < -MAX_NOW) now = -MAX_NOW;
    if (fmt.date > TDFMT_DPARTIAL4 || fmt.time > TTFMT_FULL_MAX || fmt.zone > TZFMT_ALWAYS ||
        fmt.structure > TSFMT_CDATE)
        return ERR_TFMT;
    has_date = innards[1] != ANYDAY;
    has_time = innards[0] != ALLDAY;
    if (has_time && innards[0] >= TICKS_PER_DAY) return ERR_TDO_CONV;

    now_offset = local_offset(now);
    if (has_time)
    {
        tick = innards[0];
        offset = nsf_timedate_to_unix(innards, &seconds) ? local_offset(seconds) : now_offset;
        if (offset >= 86400 || offset <= -86400) offset = 0;     /* no zone is a day away from GMT */
        tick += (int64_t)offset * 100;
    }
    local_day = has_date ? (int64_t)(innards[1] & 0xffffff) - JDN_1970 : 0;
    local_day += floor_div(tick, TICKS_PER_DAY);        /* the local day may differ from the GMT one */
    tick -= floor_div(tick, TICKS_PER_DAY) * TICKS_PER_DAY;
    if (has_date)
    {
        civil_from_days(local_day, &year, &month, &day);
        if (year < 1 || year > 9999) return ERR_TDO_CONV;
    }
    today = floor_div(now + now_offset, 86400);
    civil_from_days(today, &this_year, &unused_month, &unused_day);

    want_date = has_date && fmt.structure != TSFMT_TIME;
    want_time = has_time && fmt.structure != TSFMT_DATE && fmt.structure != TSFMT_CDATE;
    if (want_date && (fmt.structure == TSFMT_CDATETIME || fmt.structure == TSFMT_CDATE) &&
        (local_day == today || local_day == today - 1))
        relative = local_day == today ? 1 : 2;

    if (want_date && !relative)
    {
        switch (fmt.date)
        {
        case TDFMT_PARTIAL:
            ok = put(out, size, &len, "%02d/%02d", month, day, 0);
            break;
        case TDFMT_DPARTIAL:
        case TDFMT_DPARTIAL4:
            ok = put(out, size, &len, "%02d/%04d", month, (int)year, 0);
            break;
        case TDFMT_CPARTIAL:
        case TDFMT_CPARTIAL4:
            if (year == this_year)
            {
                ok = put(out, size, &len, "%02d/%02d", month, day, 0);
                break;
            }
            /* fall through */
        default:
            ok = put(out, size, &len, "%02d/%02d/%04d", month, day, (int)year);
            break;
        }
    }
    if (ok && want_time)
    {
        int h = (int)(tick / 360000), m = (int)(tick / 6000 % 60), s = (int)(tick / 100 % 60);
        int h12 = h % 12 ? h % 12 : 12;

        if (len) ok = put(out, size, &len, " ", 0, 0, 0);
        if (ok && fmt.time == TTFMT_HOUR) ok = put(out, size, &len, "%02d", h12, 0, 0);
        else if (ok && fmt.time == TTFMT_PARTIAL) ok = put(out, size, &len, "%02d:%02d", h12, m, 0);
        else if (ok)
        {
            ok = put(out, size, &len, "%02d:%02d:%02d", h12, m, s);
            if (ok && fmt.time == TTFMT_FULL_MAX) ok = put(out, size, &len, ".%02d", (int)(tick % 100), 0, 0);
        }
        if (ok) ok = put(out, size, &len, h < 12 ? " AM" : " PM", 0, 0, 0);
        if (ok && fmt.zone == TZFMT_ALWAYS)
        {
            int32_t east = offset < 0 ? -offset : offset;      /* |offset| < 86400 (above) */
            ok = put(out, size, &len, offset < 0 ? " -%02d:%02d" : " +%02d:%02d", east / 3600, east / 60 % 60, 0);
        }
    }
    if (ok && relative)
    {
        if (len) ok = put(out, size, &len, " ", 0, 0, 0);
        if (ok) ok = put(out, size, &len, relative == 1 ? "Today" : "Yesterday", 0, 0, 0);
    }
    if (!ok) return ERR_BUFFER_OVERFLOW;
    *length = (uint16_t)len;
    return NOERROR;
}
