/*
 * miscerr.h - PKG_MISC error codes of the time/date conversions.
 * Numbers from HCL's public C API headers (PKG_MISC 0x0400).
 */
#ifndef MISC_ERR_DEFS
#define MISC_ERR_DEFS

#include "globerr.h"

#define ERR_BUFFER_OVERFLOW (PKG_MISC+9)
#define ERR_IFMT            (PKG_MISC+10)
#define ERR_TFMT            (PKG_MISC+11)
#define ERR_TDI_CONV        (PKG_MISC+12)
#define ERR_TDO_CONV        (PKG_MISC+13)

#endif
