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

/* The zone's standard offset, seconds east of GMT. */
static int32_t standard_offset( TIME_ZONE_INFORMATION *zone )
{
    if (GetTimeZoneInformation( zone ) == TIME_ZONE_ID_INVALID) memset( zone, 0, sizeof(*zone) );
    /* UTC = local standard time + Bias + StandardBias (minutes) */
    return (int32_t)-(zone->Bias + zone->StandardBias) * 60;
}

/* Seconds east of GMT of the local zone at a POSIX time, daylight saving time
 * included.  FILETIME starts in 1601: before that (or when the local time
 * would be before it), the zone's standard offset, as the Unix side's
 * calendar would give. */
static int32_t local_offset( int64_t seconds )
{
    TIME_ZONE_INFORMATION zone;
    ULARGE_INTEGER t;
    FILETIME utc_ft, local_ft;
    SYSTEMTIME utc, local;

    if (seconds < -SECONDS_1601_TO_1970 + 86400) return standard_offset( &zone );
    t.QuadPart = (ULONGLONG)(seconds + SECONDS_1601_TO_1970) * 10000000;
    utc_ft.dwLowDateTime = t.u.LowPart;
    utc_ft.dwHighDateTime = t.u.HighPart;
    if (!FileTimeToSystemTime( &utc_ft, &utc ) || !SystemTimeToTzSpecificLocalTime( NULL, &utc, &local ) ||
        !SystemTimeToFileTime( &local, &local_ft ))
        return standard_offset( &zone );
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
    int32_t standard;
    int has_dst;

    TRACE( "%p\n", retTimeDate );
    if (!retTimeDate) return;
    GetSystemTimeAsFileTime( &now );
    t.u.LowPart = now.dwLowDateTime;
    t.u.HighPart = now.dwHighDateTime;
    standard = standard_offset( &zone );
    has_dst = zone.DaylightDate.wMonth != 0;        /* a zone with a summer time has its transition date */
    nsf_timedate_from_unix( unix_from_filetime( &now ), (uint32_t)(t.QuadPart / 100000 % 100), standard, has_dst,
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
