/*
 * nnotes.dll: the clock as a TIMEDATE and its text.
 *
 * Copyright 2026 the winbackup authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * The layout and the text are the engine's (libs/nsf/core/timedate.c);
 * this file gives it Windows' clock and time zone.
 */
#include <stdarg.h>
#include <string.h>

#include "global.h"
#include "misc.h"
#include "ostime.h"
#include "nnotes_private.h"

#define SECONDS_1601_TO_1970 11644473600LL

static int64_t unix_from_filetime( const FILETIME *ft )
{
    ULARGE_INTEGER t = { .u.LowPart = ft->dwLowDateTime, .u.HighPart = ft->dwHighDateTime };
    return (int64_t)(t.QuadPart / 10000000) - SECONDS_1601_TO_1970;
}

/* Seconds east of GMT of the local zone at a POSIX time, daylight saving time included. */
static int32_t local_offset( int64_t seconds )
{
    ULARGE_INTEGER t;
    FILETIME utc_ft, local_ft;
    SYSTEMTIME utc, local;

    if (seconds < -SECONDS_1601_TO_1970) return 0;
    t.QuadPart = (ULONGLONG)(seconds + SECONDS_1601_TO_1970) * 10000000;
    utc_ft.dwLowDateTime = t.u.LowPart;
    utc_ft.dwHighDateTime = t.u.HighPart;
    if (!FileTimeToSystemTime( &utc_ft, &utc ) || !SystemTimeToTzSpecificLocalTime( NULL, &utc, &local ) ||
        !SystemTimeToFileTime( &local, &local_ft ))
        return 0;
    return (int32_t)(unix_from_filetime( &local_ft ) - seconds);
}

/***********************************************************************
 *           OSCurrentTIMEDATE   (NNOTES.@)
 */
void LNPUBLIC OSCurrentTIMEDATE( TIMEDATE *retTimeDate )
{
    TIME_ZONE_INFORMATION zone;
    ULARGE_INTEGER t;
    FILETIME now;
    int has_dst;

    TRACE( "%p\n", retTimeDate );
    if (!retTimeDate) return;
    GetSystemTimeAsFileTime( &now );
    t.u.LowPart = now.dwLowDateTime;
    t.u.HighPart = now.dwHighDateTime;
    /* UTC = local standard time + Bias + StandardBias (minutes); a zone with summer time has a transition date */
    if (GetTimeZoneInformation( &zone ) == TIME_ZONE_ID_INVALID) memset( &zone, 0, sizeof(zone) );
    has_dst = zone.DaylightDate.wMonth != 0;
    nsf_timedate_from_unix( unix_from_filetime( &now ), (uint32_t)(t.QuadPart / 100000 % 100),
                            (int32_t)-(zone.Bias + zone.StandardBias) * 60, has_dst,
                            (uint32_t *)retTimeDate->Innards );
}

/***********************************************************************
 *           ConvertTIMEDATEToText   (NNOTES.@)
 *
 * IntlFormat is not read: the text is U.S. English with 4-digit years.
 */
STATUS LNPUBLIC ConvertTIMEDATEToText( const void *IntlFormat, const TFMT *TextFormat, const TIMEDATE *InputTime,
                                       char *retTextBuffer, WORD TextBufferLength, WORD *retTextLength )
{
    struct nsf_tfmt format;
    FILETIME now;

    TRACE( "%p, %p, %p, %p, %u, %p\n", IntlFormat, TextFormat, InputTime, retTextBuffer, TextBufferLength,
           retTextLength );
    if (TextFormat)
        format = (struct nsf_tfmt){ TextFormat->Date, TextFormat->Time, TextFormat->Zone, TextFormat->Structure };
    GetSystemTimeAsFileTime( &now );
    return nsf_timedate_format( InputTime ? (const uint32_t *)InputTime->Innards : NULL, TextFormat ? &format : NULL, local_offset,
                                unix_from_filetime( &now ), retTextBuffer, TextBufferLength, retTextLength );
}
