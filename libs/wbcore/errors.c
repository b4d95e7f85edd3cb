/* Human sentences for the Win32 error codes the library reports. */
#include "winbackup/errors.h"

const char *wb_error_message(unsigned int code)
{
    switch (code)
    {
    case WB_OK: return "success";
    case WB_ERROR_INVALID_FUNCTION: return "operation not valid for this object";
    case WB_ERROR_FILE_NOT_FOUND: return "file not found";
    case WB_ERROR_PATH_NOT_FOUND: return "path not found";
    case WB_ERROR_ACCESS_DENIED: return "access denied";
    case WB_ERROR_INVALID_HANDLE: return "invalid handle";
    case WB_ERROR_NOT_ENOUGH_MEMORY: return "not enough memory";
    case WB_ERROR_INVALID_DATA: return "malformed backup stream";
    case WB_ERROR_NOT_SAME_DEVICE: return "hard link target is on another file system";
    case WB_ERROR_SEEK: return "seek past the end of the current stream";
    case WB_ERROR_WRITE_FAULT: return "write fault";
    case WB_ERROR_READ_FAULT: return "read fault";
    case WB_ERROR_HANDLE_EOF: return "file ended before the size announced in the stream";
    case WB_ERROR_NOT_SUPPORTED: return "not supported";
    case WB_ERROR_FILE_EXISTS: return "file exists";
    case WB_ERROR_INVALID_PARAMETER: return "invalid parameter";
    case WB_ERROR_DISK_FULL: return "disk full";
    case WB_ERROR_INSUFFICIENT_BUFFER: return "buffer too small";
    case WB_ERROR_INVALID_NAME: return "invalid stream or file name";
    case WB_ERROR_ALREADY_EXISTS: return "already exists";
    case WB_ERROR_FILENAME_EXCED_RANGE: return "name too long";
    case WB_ERROR_INVALID_EA_NAME: return "invalid extended attribute name";
    case WB_ERROR_EA_LIST_INCONSISTENT: return "malformed extended attribute list";
    case WB_ERROR_NO_MORE_ITEMS: return "no more items";
    case WB_ERROR_EAS_NOT_SUPPORTED: return "file system does not support extended attributes";
    case WB_ERROR_PIPE_NOT_CONNECTED: return "no process is on the other end of the pipe";
    case WB_ERROR_IO_DEVICE: return "I/O error";
    case WB_ERROR_INVALID_SECURITY_DESCR: return "invalid security descriptor";
    case WB_ERROR_PRIVILEGE_NOT_HELD: return "privilege not held";
    case WB_ERROR_NOT_A_REPARSE_POINT: return "not a reparse point";
    case WB_ERROR_INVALID_REPARSE_DATA: return "invalid reparse data";
    default: return "unknown error";
    }
}
