/*
 * errno -> Domino STATUS, in one place.
 */
#include <errno.h>
#include "posix_nsf.h"
#include "nsferr.h"
#include "oserr.h"

nsf_status nsf_status_from_errno(int err)
{
    switch (err)
    {
    case 0: return NOERROR;
    case ENOENT: case ENOTDIR: return ERR_NOEXIST;
    case EACCES: case EPERM: case ELOOP: return ERR_ACCESS;
    case EROFS: return ERR_PROTECTED;
    case ENOSPC: case EDQUOT: case EFBIG: return ERR_DISK;
    case EMFILE: case ENFILE: return ERR_FILES;
    case ENOMEM: return ERR_MEMORY;
    case EEXIST: return ERR_EXISTS;
    case ENAMETOOLONG: return ERR_INV_FILE_NAME;
    case EIO: return ERR_IOERROR;
    case EBADF: return ERR_FD;
    case EISDIR: return ERR_NOT_NSF;
    case EBUSY: case ETXTBSY: case EAGAIN: return ERR_LOCK;
    default: return ERR_UNKNOWN;
    }
}
