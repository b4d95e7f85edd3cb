/*
 * misc.h - time/date text conversion (ConvertTIMEDATEToText) and its formats.
 *
 * A TIMEDATE is GMT: Innards[0] is hundredths of a second since midnight,
 * Innards[1] bits 0-23 the Julian day number; bits 24-27 hold the hours and
 * bits 28-29 the quarter hours of the zone's standard offset, bit 30 is set
 * east of Greenwich and bit 31 when the zone observes daylight saving time.
 * ALLDAY in Innards[0] means a date without a time, ANYDAY in Innards[1] a
 * time without a date.
 */
#ifndef MISC_DEFS
#define MISC_DEFS

#include "global.h"

#define MAXALPHATIMEDATE 80     /* longest text ConvertTIMEDATEToText returns */

#ifndef ALLDAY
# define ALLDAY 0xffffffff
#endif
#ifndef ANYDAY
# define ANYDAY 0xffffffff
#endif

/* TFMT.Date */
#define TDFMT_FULL      0   /* year, month and day */
#define TDFMT_CPARTIAL  1   /* month and day, year if not this year */
#define TDFMT_PARTIAL   2   /* month and day */
#define TDFMT_DPARTIAL  3   /* year and month */
#define TDFMT_FULL4     4   /* 4-digit year, month and day */
#define TDFMT_CPARTIAL4 5   /* month and day, 4-digit year if not this year */
#define TDFMT_DPARTIAL4 6   /* 4-digit year and month */
/* TFMT.Time */
#define TTFMT_FULL      0   /* hour, minute and second */
#define TTFMT_PARTIAL   1   /* hour and minute */
#define TTFMT_HOUR      2   /* hour */
#define TTFMT_FULL_MAX  3   /* hour, minute, second and hundredths */
/* TFMT.Zone */
#define TZFMT_NEVER     0   /* all times converted to this zone */
#define TZFMT_SOMETIMES 1   /* zone shown only when outside this zone */
#define TZFMT_ALWAYS    2   /* zone shown on all times */
/* TFMT.Structure */
#define TSFMT_DATE      0
#define TSFMT_TIME      1
#define TSFMT_DATETIME  2
#define TSFMT_CDATETIME 3   /* DATE TIME, or TIME Today / TIME Yesterday */
#define TSFMT_CDATE     4   /* DATE, or Today / Yesterday */

typedef struct
{
    BYTE Date;          /* TDFMT_xxx */
    BYTE Time;          /* TTFMT_xxx */
    BYTE Zone;          /* TZFMT_xxx */
    BYTE Structure;     /* TSFMT_xxx */
} TFMT;

#ifdef __cplusplus
extern "C" {
#endif

STATUS LNPUBLIC ConvertTIMEDATEToText(const void far *IntlFormat, const TFMT far *TextFormat,
                                      const TIMEDATE far *InputTime, char far *retTextBuffer,
                                      WORD TextBufferLength, WORD far *retTextLength);

#ifdef __cplusplus
}
#endif

#endif
