/*
 * Win32 error codes used by the portable core and the POSIX backend.
 *
 * The core reports failures as Win32 error codes (the values GetLastError()
 * returns on Windows) so that the kernel32 exports can pass them through
 * unchanged and native callers see the same numbers.  The WB_ prefix keeps
 * these from clashing with winerror.h when the core is built with mingw-w64
 * or inside a Wine tree; the values are Microsoft's.
 */
#ifndef WINBACKUP_ERRORS_H
#define WINBACKUP_ERRORS_H

#define WB_OK                           0u
#define WB_ERROR_INVALID_FUNCTION       1u
#define WB_ERROR_FILE_NOT_FOUND         2u
#define WB_ERROR_PATH_NOT_FOUND         3u
#define WB_ERROR_ACCESS_DENIED          5u
#define WB_ERROR_INVALID_HANDLE         6u
#define WB_ERROR_NOT_ENOUGH_MEMORY      8u
#define WB_ERROR_INVALID_DATA           13u
#define WB_ERROR_NOT_SAME_DEVICE        17u
#define WB_ERROR_SEEK                   25u
#define WB_ERROR_WRITE_FAULT            29u
#define WB_ERROR_READ_FAULT             30u
#define WB_ERROR_HANDLE_EOF             38u
#define WB_ERROR_NOT_SUPPORTED          50u
#define WB_ERROR_FILE_EXISTS            80u
#define WB_ERROR_INVALID_PARAMETER      87u
#define WB_ERROR_DISK_FULL              112u
#define WB_ERROR_INSUFFICIENT_BUFFER    122u
#define WB_ERROR_INVALID_NAME           123u
#define WB_ERROR_ALREADY_EXISTS         183u
#define WB_ERROR_FILENAME_EXCED_RANGE   206u
#define WB_ERROR_INVALID_EA_NAME        254u
#define WB_ERROR_EA_LIST_INCONSISTENT   255u
#define WB_ERROR_NO_MORE_ITEMS          259u
#define WB_ERROR_EAS_NOT_SUPPORTED      282u
#define WB_ERROR_PIPE_NOT_CONNECTED     233u
#define WB_ERROR_IO_DEVICE              1117u
#define WB_ERROR_INVALID_SECURITY_DESCR 1338u
#define WB_ERROR_PRIVILEGE_NOT_HELD     1314u
#define WB_ERROR_NOT_A_REPARSE_POINT    4390u
#define WB_ERROR_INVALID_REPARSE_DATA   4392u

/* A short English sentence for an error code (never NULL). */
const char *wb_error_message(unsigned int code);

#endif
