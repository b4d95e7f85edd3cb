/*
 * The one mapping from a failure to the protection state of the target
 * (FH_STATE_*, fherrors.h).  Failures arrive as Win32 codes, as everywhere
 * else in the project: libwinbackup's own, errno through libwinbackup's one
 * errno mapping (wb_win32_error_from_errno, libs/posix/errno.c), SQLite's
 * through fh_catalog_error.
 *
 * Out of memory is not a state of the target: callers handle
 * WB_ERROR_NOT_ENOUGH_MEMORY before they ask (fh_cycle.c keeps the previous
 * state and fails the cycle with that error); asked anyway, the answer is
 * FH_STATE_NO_ERROR, never a target state the target is not in.
 */
#include <errno.h>

#include "winbackup/winbackup.h"
#include "fh.h"

uint32_t fh_state_from_error(uint32_t win32)
{
    switch (win32)
    {
    case WB_OK:
    case WB_ERROR_NOT_ENOUGH_MEMORY:
        return FH_STATE_NO_ERROR;
    case WB_ERROR_DISK_FULL:
        return FH_STATE_TARGET_FULL;
    case WB_ERROR_ACCESS_DENIED:
    case WB_ERROR_PRIVILEGE_NOT_HELD:
        return FH_STATE_TARGET_ACCESS_DENIED;
    case WB_ERROR_FILENAME_EXCED_RANGE:
    case WB_ERROR_INVALID_NAME:
        return FH_STATE_TARGET_FS_LIMITATION;
    default:
        /* gone (ENOENT, ENODEV, EIO...), corrupt, or unknown: not usable */
        return FH_STATE_TARGET_ABSENT;
    }
}

uint32_t fh_state_from_errno(int error)
{
    return fh_state_from_error(wb_win32_error_from_errno(error));
}
