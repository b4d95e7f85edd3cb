/*
 * ostime.h - the system clock as a TIMEDATE (see misc.h for its layout).
 */
#ifndef OS_TIME_DEFS
#define OS_TIME_DEFS

#include "global.h"

#ifdef __cplusplus
extern "C" {
#endif

void LNPUBLIC OSCurrentTIMEDATE(TIMEDATE far *retTimeDate);

#ifdef __cplusplus
}
#endif

#endif
