/*
 * <winbackup/win32.h>: the Win32 backup API on Linux, for porting Windows
 * programs that call BackupRead / BackupWrite / BackupSeek.
 *
 * The prototypes are winbase.h's; code that calls them compiles unchanged.
 * What differs is how a HANDLE is made: from a file descriptor, with
 * wb_handle_from_fd(), in place of CreateFile().  CloseHandle() closes it.
 * Errors are Win32 codes returned by GetLastError(), per thread.
 *
 * The functions are exported as wb_BackupRead etc. and mapped by the macros
 * below, so the library never interposes on a real Win32 implementation
 * (Wine, a PE loader) that shares the process.
 */
#ifndef WINBACKUP_WIN32_H
#define WINBACKUP_WIN32_H

#ifdef _WIN32
#include <windows.h>
#else

#include <stdint.h>
#include "winbackup/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WINAPI
#ifndef TRUE
#define TRUE 1
#define FALSE 0
#endif

typedef int BOOL;
typedef uint8_t BYTE, *LPBYTE;
typedef uint16_t WCHAR;
typedef uint32_t DWORD, *LPDWORD;
typedef int64_t LONGLONG;
typedef void *LPVOID, *HANDLE;
typedef union _LARGE_INTEGER
{
    struct { DWORD LowPart; int32_t HighPart; } u;
    LONGLONG QuadPart;
} LARGE_INTEGER;

#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)

/* Offsets match winbase.h: cStreamName at 20, sizeof 24 (never use sizeof
 * to find the name). */
typedef struct _WIN32_STREAM_ID
{
    DWORD dwStreamId;
    DWORD dwStreamAttributes;
    LARGE_INTEGER Size;
    DWORD dwStreamNameSize;
    WCHAR cStreamName[1];
} WIN32_STREAM_ID, *LPWIN32_STREAM_ID;

#define BACKUP_INVALID              0x00000000
#define BACKUP_DATA                 0x00000001
#define BACKUP_EA_DATA              0x00000002
#define BACKUP_SECURITY_DATA        0x00000003
#define BACKUP_ALTERNATE_DATA       0x00000004
#define BACKUP_LINK                 0x00000005
#define BACKUP_PROPERTY_DATA        0x00000006
#define BACKUP_OBJECT_ID            0x00000007
#define BACKUP_REPARSE_DATA         0x00000008
#define BACKUP_SPARSE_BLOCK         0x00000009
#define BACKUP_TXFS_DATA            0x0000000a
#define BACKUP_GHOSTED_FILE_EXTENTS 0x0000000b

#define STREAM_NORMAL_ATTRIBUTE              0x00000000
#define STREAM_MODIFIED_WHEN_READ            0x00000001
#define STREAM_CONTAINS_SECURITY             0x00000002
#define STREAM_CONTAINS_PROPERTIES           0x00000004
#define STREAM_SPARSE_ATTRIBUTE              0x00000008
#define STREAM_CONTAINS_GHOSTED_FILE_EXTENTS 0x00000010

#define ERROR_SUCCESS               WB_OK
#define ERROR_FILE_NOT_FOUND        WB_ERROR_FILE_NOT_FOUND
#define ERROR_PATH_NOT_FOUND        WB_ERROR_PATH_NOT_FOUND
#define ERROR_ACCESS_DENIED         WB_ERROR_ACCESS_DENIED
#define ERROR_INVALID_HANDLE        WB_ERROR_INVALID_HANDLE
#define ERROR_NOT_ENOUGH_MEMORY     WB_ERROR_NOT_ENOUGH_MEMORY
#define ERROR_INVALID_DATA          WB_ERROR_INVALID_DATA
#define ERROR_SEEK                  WB_ERROR_SEEK
#define ERROR_HANDLE_EOF            WB_ERROR_HANDLE_EOF
#define ERROR_NOT_SUPPORTED         WB_ERROR_NOT_SUPPORTED
#define ERROR_INVALID_PARAMETER     WB_ERROR_INVALID_PARAMETER
#define ERROR_DISK_FULL             WB_ERROR_DISK_FULL
#define ERROR_INVALID_NAME          WB_ERROR_INVALID_NAME
#define ERROR_ALREADY_EXISTS        WB_ERROR_ALREADY_EXISTS
#define ERROR_INVALID_EA_NAME       WB_ERROR_INVALID_EA_NAME
#define ERROR_EA_LIST_INCONSISTENT  WB_ERROR_EA_LIST_INCONSISTENT

#define BackupRead    wb_BackupRead
#define BackupWrite   wb_BackupWrite
#define BackupSeek    wb_BackupSeek
#define GetLastError  wb_GetLastError
#define SetLastError  wb_SetLastError
#define CloseHandle   wb_CloseHandle

BOOL WINAPI BackupRead(HANDLE file, LPBYTE buffer, DWORD count, LPDWORD read, BOOL abort,
                       BOOL security, LPVOID *context);
BOOL WINAPI BackupWrite(HANDLE file, LPBYTE buffer, DWORD count, LPDWORD written, BOOL abort,
                        BOOL security, LPVOID *context);
BOOL WINAPI BackupSeek(HANDLE file, DWORD seek_low, DWORD seek_high, LPDWORD seeked_low,
                       LPDWORD seeked_high, LPVOID *context);
DWORD WINAPI GetLastError(void);
void WINAPI SetLastError(DWORD error);
BOOL WINAPI CloseHandle(HANDLE handle);

/* Wrap an open file descriptor (the HANDLE owns it from now on; CloseHandle
 * closes it).  Access is taken from the descriptor's open mode: BackupRead
 * needs it readable, BackupWrite writable.  A descriptor opened with
 * O_DIRECT stands for FILE_FLAG_NO_BUFFERING.  INVALID_HANDLE_VALUE on error. */
HANDLE wb_handle_from_fd(int fd);
/* The descriptor behind a handle, or -1. */
int wb_fd_from_handle(HANDLE handle);

#ifdef __cplusplus
}
#endif

#endif /* _WIN32 */
#endif
