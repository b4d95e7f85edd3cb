/*
 * global.h - basic types of the Domino C API, for the winbackup NSFBackup API.
 *
 * Written for winbackup from HCL's public C API documentation (DHANDLE,
 * STATUS, LNPUBLIC, NULLHANDLE, MAXDWORD, MAXWORD) and the types its public
 * samples rely on.  Only the names a backup tool needs are here.
 *
 * Platform selection follows the toolkit's switches: NT (Windows, with W32,
 * W, and W64/ND64 on 64-bit) or UNIX (with LINUX, ND64, NDUNIX64,
 * LONGIS64BIT, HANDLE_IS_32BITS on 64-bit Linux).  The toolkit asks for
 * them on the compiler's command line; when none is given they are derived
 * from the compiler's own target macros, because only one choice matches
 * the ABI of the library a 64-bit program links with.
 *
 * Resulting types (Linux x86_64 and Win64 checked by dlls/nnotes/check-nnotes.sh):
 *
 *   type       Win32 (NT)         Win64 (NT, ND64)    Linux x86_64 (UNIX, ND64)
 *   WORD       unsigned short     unsigned short      unsigned short
 *   DWORD      unsigned long      unsigned long       unsigned int
 *   BOOL       int                int                 int
 *   STATUS     WORD               WORD                WORD
 *   HANDLE     void * (Windows)   void * (Windows)    unsigned int
 *   DHANDLE    HANDLE             unsigned int        unsigned int
 *   DBHANDLE   DHANDLE            DHANDLE             DHANDLE
 *   LNPUBLIC   __stdcall          (x64 ABI)           (nothing)
 *
 * On Windows <windows.h> is included here (before or after a program's own
 * #include <windows.h>, either order works), so WORD, DWORD, BOOL, HANDLE
 * and VOID are Windows' own.
 */
#ifndef GLOBAL_DEFS
#define GLOBAL_DEFS

/* ---- platform switches ---- */
#if !defined(NT) && !defined(UNIX)
# if defined(_WIN32)
#  define NT
# elif defined(__unix__) || defined(__APPLE__)
#  define UNIX
# else
#  error "global.h: define NT or UNIX"
# endif
#endif

#if defined(NT)
# ifndef W32
#  define W32
# endif
# ifndef W
#  define W
# endif
# if defined(_WIN64)
#  ifndef W64
#   define W64
#  endif
#  ifndef ND64
#   define ND64
#  endif
# endif
#else /* UNIX */
# if defined(__linux__) && !defined(LINUX)
#  define LINUX
# endif
# if defined(__LP64__) || defined(_LP64)
#  ifndef ND64
#   define ND64
#  endif
#  ifndef NDUNIX64
#   define NDUNIX64
#  endif
#  ifndef LONGIS64BIT
#   define LONGIS64BIT
#  endif
# endif
# ifndef HANDLE_IS_32BITS
#  define HANDLE_IS_32BITS
# endif
#endif

/* ---- Windows: the SDK's own base types ---- */
#if defined(NT)
# ifndef _WINDEF_
#  include <windows.h>
# endif
#endif
#if defined(_INC_WINDOWS) || defined(_WINDEF_)
# define WINDOWS_INCLUDED
#endif

#ifndef far
# define far
#endif
#ifndef near
# define near
#endif
#ifndef FAR
# define FAR far
#endif
#ifndef NEAR
# define NEAR near
#endif
#ifndef PASCAL
# define PASCAL
#endif

#if !defined(WINDOWS_INCLUDED)
# ifndef VOID
#  define VOID void
# endif
typedef unsigned char BYTE;
typedef unsigned short WORD;
# if defined(LONGIS64BIT)
typedef unsigned int DWORD;
typedef int LONG;
typedef unsigned int ULONG;
# else
typedef unsigned long DWORD;
typedef long LONG;
typedef unsigned long ULONG;
# endif
typedef int BOOL;
typedef unsigned short USHORT;
typedef unsigned char UCHAR;
typedef unsigned int UINT;
typedef unsigned int HANDLE, *PHANDLE;   /* a Domino handle, not a Windows one */
#endif

/* ---- Domino handle types ---- */
#if defined(ND64)
# if defined(HANDLE_IS_64BITS)
#  if defined(UNIX)
typedef unsigned long DHANDLE;
#  else
typedef unsigned long long DHANDLE;
#  endif
# else
typedef unsigned int DHANDLE;
#  ifndef HANDLE_IS_32BITS
#   define HANDLE_IS_32BITS
#  endif
# endif
#else
typedef HANDLE DHANDLE;
#endif

/* Windows kernel handles carry 32 significant bits, sign-extended on
 * 64-bit Windows: a DHANDLE (32 bits with ND64) can hold one. */
#if defined(NT) && defined(ND64) && !defined(HANDLE_IS_64BITS)
# define HANDLE_TO_DHANDLE(h) ((DHANDLE)(ULONG_PTR)(h))
# define DHANDLE_TO_HANDLE(h) ((HANDLE)(LONG_PTR)(LONG)(h))
#else
# define HANDLE_TO_DHANDLE(h) ((DHANDLE)(h))
# define DHANDLE_TO_HANDLE(h) ((HANDLE)(h))
#endif

#ifndef HMODULE
# if !defined(WINDOWS_INCLUDED)
#  define HMODULE HANDLE
# endif
#endif

typedef WORD STATUS;                    /* NOERROR or an ERR_xxx code */
typedef DWORD MEMHANDLE;
#define NULLMEMHANDLE ((MEMHANDLE)0)

#ifdef NULLHANDLE
# undef NULLHANDLE
#endif
#define NULLHANDLE 0

/* Basic time/date: two DWORDs, interpreted only by the Time package. */
typedef struct tagTIMEDATE
{
    DWORD Innards[2];
} TIMEDATE;

/* ---- calling convention ---- */
#define LNPUBLIC      FAR PASCAL
#define LNCALLBACK    FAR PASCAL
#define LNCALLBACKPTR LNCALLBACK FAR *
#define NOTESAPI      LNPUBLIC
#define NOTESPTR      FAR *

/* ---- limits and helpers ---- */
#ifndef TRUE
# define FALSE 0
# define TRUE 1
#endif
#ifndef MAXDWORD
# define MAXDWORD ((DWORD)0xffffffff)
#endif
#ifndef MAXWORD
# define MAXWORD ((WORD)0xffff)
#endif
#ifndef MAXBYTE
# define MAXBYTE ((BYTE)0xff)
#endif
#ifndef min
# define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
# define max(a, b) (((a) > (b)) ? (a) : (b))
#endif

#ifdef __cplusplus
extern "C" {
#endif

STATUS LNPUBLIC NotesInit(void);
STATUS LNPUBLIC NotesInitExtended(int argc, char far * far *argv);
void LNPUBLIC NotesTerm(void);

#ifdef __cplusplus
}
#endif

#include "globerr.h"

#endif /* GLOBAL_DEFS */
