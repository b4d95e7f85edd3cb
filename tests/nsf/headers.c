/*
 * The Domino headers' types, per platform (compile-time checks, built by
 * dlls/nnotes/check-nnotes.sh natively and with mingw-w64, with and without
 * <windows.h> first).  Expected values: the toolkit's documented types
 * (global.h comment; DHANDLE is 32 bits on 64-bit platforms).
 */
#ifdef WINDOWS_FIRST
#include <windows.h>
#endif
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmem.h"
#include "osmisc.h"
#include "osfile.h"
#include "names.h"

#define SAME_TYPE(a, b) _Static_assert(__builtin_types_compatible_p(a, b), #a " is not " #b)

_Static_assert(sizeof(WORD) == 2 && sizeof(DWORD) == 4 && sizeof(STATUS) == 2, "base sizes");
_Static_assert(sizeof(DHANDLE) == 4 && sizeof(DBHANDLE) == 4, "32-bit Domino handles on 64-bit platforms");
_Static_assert(sizeof(UNID) == 16 && sizeof(TIMEDATE) == 8, "UNID");
_Static_assert(MAXPATH == 256 && NULLHANDLE == 0 && NOERROR == 0, "constants");
_Static_assert(MEM_SHARE == 0x8000 && BACKUPEND_ABORT == 1 && APPLYEND_ABORT == 1, "flags");
_Static_assert(ERR(0xC000 | ERR_NOT_LOCAL) == ERR_NOT_LOCAL, "ERR() masks the flags");
SAME_TYPE(STATUS, unsigned short);
SAME_TYPE(DHANDLE, unsigned int);
SAME_TYPE(BOOL, int);
#ifdef _WIN64
SAME_TYPE(DWORD, unsigned long);
SAME_TYPE(HANDLE, void *);
_Static_assert(sizeof(HANDLE_TO_DHANDLE((HANDLE)(LONG_PTR)-1)) == 4, "HANDLE_TO_DHANDLE");
_Static_assert(sizeof(DHANDLE_TO_HANDLE(1)) == 8, "DHANDLE_TO_HANDLE");
#else
SAME_TYPE(DWORD, unsigned int);
SAME_TYPE(HANDLE, unsigned int);
#endif
SAME_TYPE(__typeof__(&NSFBackupStart), STATUS (LNPUBLIC *)(DBHANDLE, DWORD, DHANDLE *, DWORD *, DWORD *));
SAME_TYPE(__typeof__(&OSLoadString), WORD (LNPUBLIC *)(HMODULE, STATUS, char *, WORD));

int main(void)
{
    char *p = OSLock(char, NULLHANDLE);
    return p ? min(1, 2) : 0;
}
