/*
 * osmisc.h - error texts and character set translation.
 */
#ifndef OSMISC_DEFS
#define OSMISC_DEFS

#include "global.h"

#define OS_TRANSLATE_NATIVE_TO_LMBCS   0
#define OS_TRANSLATE_LMBCS_TO_NATIVE   1
#define OS_TRANSLATE_LOWER_TO_UPPER    3
#define OS_TRANSLATE_UPPER_TO_LOWER    4
#define OS_TRANSLATE_UNACCENT          5
#define OS_TRANSLATE_LMBCS_TO_UNICODE  20
#define OS_TRANSLATE_LMBCS_TO_UTF8     22
#define OS_TRANSLATE_UNICODE_TO_LMBCS  23
#define OS_TRANSLATE_UTF8_TO_LMBCS     24

#ifdef __cplusplus
extern "C" {
#endif

WORD LNPUBLIC OSLoadString(HMODULE hModule, STATUS StringCode, char far *retBuffer, WORD BufferLength);
WORD LNPUBLIC OSTranslate(WORD TranslateMode, const char far *In, WORD InLength, char far *Out, WORD OutLength);

#ifdef __cplusplus
}
#endif

#endif
