/*
 * osmem.h - Domino memory objects: handles that are locked to get an address.
 */
#ifndef OSMEM_DEFS
#define OSMEM_DEFS

#include "global.h"

#ifdef __cplusplus
extern "C" {
#endif

STATUS LNPUBLIC OSMemAlloc(WORD BlkType, DWORD dwSize, DHANDLE far *retHandle);
STATUS LNPUBLIC OSMemFree(DHANDLE Handle);
STATUS LNPUBLIC OSMemGetSize(DHANDLE Handle, DWORD far *retSize);
void far * LNPUBLIC OSLockObject(DHANDLE Handle);
BOOL LNPUBLIC OSUnlockObject(DHANDLE Handle);

#ifdef __cplusplus
}
#endif

/* Lock an object and return a pointer of the given type to it. */
#define OSLock(type, handle) ((type far *)OSLockObject(handle))
#define OSUnlock(handle) OSUnlockObject(handle)

#endif
