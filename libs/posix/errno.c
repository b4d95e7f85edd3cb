/*
 * errno -> Win32 error code, following the NTSTATUS Wine's ntdll reports for
 * each errno (ntdll/unix/file.c errno_to_status) and RtlNtStatusToDosError,
 * restricted to the codes include/winbackup/errors.h defines.
 */
#include <errno.h>
#include "winbackup/posix.h"

uint32_t wb_win32_error_from_errno(int error)
{
    switch (error)
    {
    case 0:             return WB_OK;
    case ENOENT:        return WB_ERROR_FILE_NOT_FOUND;
    case ENOTDIR:
    case ELOOP:         return WB_ERROR_PATH_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
    case EBUSY:
    case ETXTBSY:
    case EMLINK:        return WB_ERROR_ACCESS_DENIED;
    case EBADF:         return WB_ERROR_INVALID_HANDLE;
    case ENOMEM:        return WB_ERROR_NOT_ENOUGH_MEMORY;
    case EXDEV:         return WB_ERROR_NOT_SAME_DEVICE;
    case ESPIPE:        return WB_ERROR_SEEK;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case E2BIG:         return WB_ERROR_DISK_FULL;   /* xattr value too big for the file system */
    case ENOTEMPTY:     return WB_ERROR_ACCESS_DENIED;
    case EEXIST:        return WB_ERROR_ALREADY_EXISTS;
    case ENAMETOOLONG:  return WB_ERROR_FILENAME_EXCED_RANGE;
    case EINVAL:        return WB_ERROR_INVALID_PARAMETER;
    case ENOSYS:
    case EOPNOTSUPP:    return WB_ERROR_NOT_SUPPORTED;   /* ENOTSUP is the same value on Linux */
    case ENODATA:       return WB_ERROR_FILE_NOT_FOUND;
    case ENXIO:         return WB_ERROR_HANDLE_EOF;
    case EPIPE:         return WB_ERROR_PIPE_NOT_CONNECTED;   /* STATUS_PIPE_DISCONNECTED */
    case EIO:
    default:            return WB_ERROR_IO_DEVICE;
    }
}
