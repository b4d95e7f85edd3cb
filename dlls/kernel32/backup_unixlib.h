/*
 * Backup APIs: the Unix calls of the out-of-tree winbackup.dll
 *
 * Under stock Wine, whose NT layer hides named streams, EAs, stored security
 * descriptors and sparse ranges, backup.c hands the work to backup_unix.c,
 * which runs the portable codec over the project's POSIX backend on the
 * file's Unix fd.  The parameter blocks use fixed-size types only, so that
 * the Unix side needs no Windows headers.
 */
#ifndef __WINE_KERNEL32_BACKUP_UNIXLIB_H
#define __WINE_KERNEL32_BACKUP_UNIXLIB_H

#include <stdint.h>

enum backup_unix_funcs
{
    unix_backup_open,
    unix_backup_read,
    unix_backup_seek,
    unix_backup_write,
    unix_backup_close,
    unix_backup_funcs_count,
};

/* all "error" fields are Win32 error codes (0 = success) */
struct backup_open_params
{
    uint64_t handle;        /* HANDLE of the file */
    uint32_t write;         /* 0: BackupRead, 1: BackupWrite */
    uint32_t security;      /* bProcessSecurity */
    uint32_t access;        /* the handle's access rights (ACCESS_MASK) */
    uint64_t state;         /* out: Unix-side state */
    uint32_t error;
};

struct backup_io_params
{
    uint64_t state;
    uint64_t buffer;        /* PE pointer: readable from the Unix side in the same process */
    uint32_t size;
    uint32_t done;          /* out */
    uint32_t error;
};

struct backup_seek_params
{
    uint64_t state;
    uint64_t distance;
    uint64_t skipped;       /* out */
    uint32_t error;
};

struct backup_close_params
{
    uint64_t state;
    uint32_t error;         /* out: from finishing a restore */
};

#endif
