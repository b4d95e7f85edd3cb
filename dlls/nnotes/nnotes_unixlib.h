/*
 * nnotes.dll: the Unix calls (Wine only)
 *
 * The PE side keeps handles, arguments and call order (libs/nsf/core); the
 * Unix side runs the Linux recorders and the apply sink (libs/nsf/posix) on
 * the Unix fd behind a file HANDLE.  Fixed-size types only, so the Unix
 * side needs no Windows headers.  "status" fields are Domino STATUS codes.
 */
#ifndef __WINE_NNOTES_UNIXLIB_H
#define __WINE_NNOTES_UNIXLIB_H

#include <stdint.h>

enum nnotes_unix_funcs
{
    unix_file_check,        /* a file may be opened as a database: no unfinished apply */
    unix_backup_start,
    unix_backup_mark,
    unix_backup_stop,
    unix_backup_info_size,
    unix_backup_info_read,
    unix_backup_end,
    unix_sink_open,
    unix_sink_begin,
    unix_sink_write,
    unix_sink_zero,
    unix_sink_finish,
    unix_sink_close,
    unix_nnotes_funcs_count,
};

struct nnotes_file_params
{
    uint64_t handle;        /* HANDLE of the file */
    uint64_t name;          /* backup_start: PE pointer to the Unix name the program opened it by, or 0 */
    uint64_t state;         /* out: recorder or sink */
    uint64_t size;          /* out: size at Start */
    uint32_t status;
};

struct nnotes_state_params
{
    uint64_t state;
    uint64_t value;         /* mark, offset, size at Start */
    uint64_t buffer;        /* PE pointer, readable/writable from the Unix side in the same process;
                               backup_stop: the Unix name to check, or 0 */
    uint32_t size;
    uint32_t done;          /* out */
    uint32_t status;
};

#endif
