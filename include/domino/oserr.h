/*
 * oserr.h - PKG_OS error codes (the ones backup tools and HCL's samples use).
 * Numbers from HCL's public C API headers.
 */
#ifndef OSERR_DEFS
#define OSERR_DEFS

#include "globerr.h"

#define ERR_UNKNOWN         (PKG_OS+1)
#define ERR_PROTECTED       (PKG_OS+2)
#define ERR_NOEXIST         (PKG_OS+3)
#define ERR_EXISTS          (PKG_OS+4)
#define ERR_FILES           (PKG_OS+5)
#define ERR_DISK            (PKG_OS+6)
#define ERR_MEMORY          (PKG_OS+7)
#define ERR_CREATE          (PKG_OS+8)
#define ERR_TRUNC           (PKG_OS+9)
#define ERR_LOCKS           (PKG_OS+10)
#define ERR_NO_MORE_FILES   (PKG_OS+11)
#define ERR_LOCK            (PKG_OS+12)
#define ERR_FD              (PKG_OS+13)
#define ERR_IOERROR         (PKG_OS+14)
#define ERR_ACCESS          (PKG_OS+16)
#define ERR_INV_FILE_NAME   (PKG_OS+19)
#define ERR_PATHCHAR        (PKG_OS+27)
#define ERR_INVALID_DRIVE   (PKG_OS+53)
#define ERR_OS_NULL_HANDLE  (PKG_OS+54)
#define ERR_OS_HANDLE_RANGE (PKG_OS+55)
#define ERR_OS_FREE_HANDLE  (PKG_OS+56)
#define ERR_SEGMENT_TOO_BIG (PKG_OS+59)
#define ERR_THREAD_CREATE   (PKG_OS+61)

#endif
