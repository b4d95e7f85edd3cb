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
#include "misc.h"
#include "miscerr.h"
#include "ostime.h"

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

/* media recovery, log archiving and time: numbers from HCL's headers (PKG_NSF3 0x1380,
 * PKG_NSF4 0x0EA0, PKG_MISC 0x0400) */
_Static_assert(ERR_SERVER_NOT_TRANSLOGGED == 0x13FF && ERR_RM_GENERAL_FAILURE == 0x13C5 &&
               ERR_NO_TRANSLOGS_TO_ARCHIVE == 0x13DE && ERR_RM_RECOVER_NONBACKUP == 0x13FA &&
               ERR_TRANSLOG_ARCHIVE_IN_PROGRESS == 0x0EAE && ERR_TFMT == 0x040B && ERR_TDO_CONV == 0x040D,
               "error numbers");
_Static_assert(DBRECOVER_WAIT == 1 && DBRECOVER_ZAP_ID == 2 && DBRECOVER_ALT_RETRIEVE_PATH == 0x40 &&
               OFFLINE_NODELETE == 1 && TRANSLOG_STYLE_CIRCULAR == 0 && TRANSLOG_STYLE_ARCHIVE == 1 &&
               TRANSLOG_STYLE_LINEAR == 2 && MediaCallback_CLR == 8, "recovery constants");
_Static_assert(MAXALPHATIMEDATE == 80 && sizeof(TFMT) == 4 && TSFMT_DATETIME == 2 && TTFMT_FULL_MAX == 3,
               "time formats");
_Static_assert(sizeof(NOTEID) == 4 && sizeof(NOTEHANDLE) == 4, "note types");
_Static_assert(__builtin_offsetof(NOTE_RESTORE_CALLBACK_INFO, NoteId) == 4 &&
               __builtin_offsetof(NOTE_RESTORE_CALLBACK_INFO, TranTime) == 12 &&
               __builtin_offsetof(NOTE_RESTORE_CALLBACK_INFO, UserName) == (sizeof(void *) == 8 ? 24 : 20),
               "NOTE_RESTORE_CALLBACK_INFO layout");
SAME_TYPE(LOGRESTORECALLBACKFUNCTION, STATUS (LNCALLBACKPTR)(UNID *, DWORD, char *));
SAME_TYPE(__typeof__(&NSFRecoverDatabases),
          STATUS (LNPUBLIC *)(const char *, LOGRESTORECALLBACKFUNCTION, DWORD, WORD *, TIMEDATE *));
SAME_TYPE(__typeof__(&ConvertTIMEDATEToText),
          STATUS (LNPUBLIC *)(const void *, const TFMT *, const TIMEDATE *, char *, WORD, WORD *));
SAME_TYPE(__typeof__(&OSCurrentTIMEDATE), void (LNPUBLIC *)(TIMEDATE *));

int main(void)
{
    char *p = OSLock(char, NULLHANDLE);
    return p ? min(1, 2) : 0;
}
