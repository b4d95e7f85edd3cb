/*
 * nsfdata.h - NSF data types a backup tool needs: DBHANDLE, NOTEHANDLE, NOTEID
 * and UNID.
 */
#ifndef NSF_DATA_DEFS
#define NSF_DATA_DEFS

#include "global.h"

#define DBHANDLE DHANDLE
#define NOTEHANDLE DHANDLE

typedef DWORD NOTEID;

typedef TIMEDATE DBID;

typedef struct
{
    DBID File;          /* unique (random) number for the file */
    TIMEDATE Note;      /* the note's origination time */
} UNIVERSALNOTEID;

#define UNID UNIVERSALNOTEID

#endif
