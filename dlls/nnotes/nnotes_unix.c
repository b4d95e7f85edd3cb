/*
 * nnotes.dll, Unix side (Wine only): the engine's Linux recorders and
 * apply sink on the Unix fd of a file HANDLE (wine_server_handle_to_fd).
 * Each start/open returns a heap object the PE side keeps in its context
 * and frees through unix_backup_end / unix_sink_close.  Nothing is global.
 */
#if 0
#pragma makedep unix
#endif

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../libs/nsf/nsf.h"
#include "../../libs/nsf/posix/posix_nsf.h"
#include "nsferr.h"
#include "oserr.h"
#include "nnotes_unixlib.h"

typedef int32_t NTSTATUS;
typedef NTSTATUS (*unixlib_entry_t)( void *args );

#define FILE_READ_DATA   0x0001
#define FILE_WRITE_DATA  0x0002

extern NTSTATUS __attribute__((ms_abi)) wine_server_handle_to_fd( void *handle, unsigned int access,
                                                                  int *unix_fd, unsigned int *options );

static int handle_fd( uint64_t handle, unsigned int access, int *fd )
{
    return wine_server_handle_to_fd( (void *)(uintptr_t)handle, access, fd, NULL ) ? -1 : 0;
}

static NTSTATUS file_check( void *args )
{
    struct nnotes_file_params *params = args;
    int fd;

    if (handle_fd( params->handle, FILE_READ_DATA, &fd )) { params->status = ERR_FD; return 0; }
    params->status = nsf_posix_check_no_pending_apply( fd );
    close( fd );
    return 0;
}

/* Clients read the file by the name they opened: have the recorder check that
 * this name (symlinks and all) and its real path name the file being backed up
 * (its own /proc name at Start would not see a re-pointed directory link). */
static nsf_status check_opened_name( struct nsf_recorder *rec, uint64_t pe_name )
{
    const char *name = (const char *)(uintptr_t)pe_name;
    char *full = realpath( name, NULL );
    nsf_status status = nsf_recorder_names( rec, name, full );

    free( full );
    return status;
}

static NTSTATUS backup_start( void *args )
{
    struct nnotes_file_params *params = args;
    struct nsf_recorder *rec = NULL;
    int fd;

    params->state = 0;
    if (handle_fd( params->handle, FILE_READ_DATA, &fd )) { params->status = ERR_FD; return 0; }
    /* the recorder reopens the file read-only for itself */
    params->status = nsf_recorder_start( fd, &rec, &params->size );
    close( fd );
    if (!params->status && params->name && (params->status = check_opened_name( rec, params->name )))
    {
        nsf_recorder_end( rec );
        rec = NULL;
    }
    params->state = (uintptr_t)rec;
    return 0;
}

#define REC(p) ((struct nsf_recorder *)(uintptr_t)(p)->state)
#define SINK(p) ((void *)(uintptr_t)(p)->state)

static NTSTATUS backup_mark( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_recorder_mark( REC(params), params->value );
    return 0;
}

/* buffer: the Unix name the program's DOS name resolves to now, checked (as at Start) before Stop */
static NTSTATUS backup_stop( void *args )
{
    struct nnotes_state_params *params = args;

    if (params->buffer && (params->status = check_opened_name( REC(params), params->buffer ))) return 0;
    params->status = nsf_recorder_stop( REC(params) );
    return 0;
}

static NTSTATUS backup_info_size( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_recorder_info_size( REC(params), &params->value );
    return 0;
}

static NTSTATUS backup_info_read( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_recorder_info_read( REC(params), (void *)(uintptr_t)params->buffer, params->size,
                                             &params->done );
    return 0;
}

static NTSTATUS backup_end( void *args )
{
    struct nnotes_state_params *params = args;
    nsf_recorder_end( REC(params) );
    params->status = 0;
    return 0;
}

static NTSTATUS sink_open( void *args )
{
    struct nnotes_file_params *params = args;
    struct nsf_posix_sink *sink = NULL;
    int fd;

    params->state = 0;
    if (handle_fd( params->handle, FILE_READ_DATA | FILE_WRITE_DATA, &fd )) { params->status = ERR_ACCESS; return 0; }
    if ((params->status = nsf_posix_sink_open( fd, &sink ))) close( fd );
    params->state = (uintptr_t)sink;
    return 0;
}

static NTSTATUS sink_begin( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_posix_sink_ops.begin( SINK(params), (const uint8_t *)(uintptr_t)params->buffer );
    return 0;
}

static NTSTATUS sink_write( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_posix_sink_ops.write( SINK(params), params->value, (const void *)(uintptr_t)params->buffer,
                                               params->size );
    return 0;
}

static NTSTATUS sink_zero( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_posix_sink_ops.zero( SINK(params), params->value, params->size );
    return 0;
}

static NTSTATUS sink_finish( void *args )
{
    struct nnotes_state_params *params = args;
    params->status = nsf_posix_sink_ops.finish( SINK(params), params->value );
    return 0;
}

static NTSTATUS sink_close( void *args )
{
    struct nnotes_state_params *params = args;
    nsf_posix_sink_ops.close( SINK(params) );
    params->status = 0;
    return 0;
}

__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] =
{
    file_check,
    backup_start,
    backup_mark,
    backup_stop,
    backup_info_size,
    backup_info_read,
    backup_end,
    sink_open,
    sink_begin,
    sink_write,
    sink_zero,
    sink_finish,
    sink_close,
};

_Static_assert( sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == unix_nnotes_funcs_count,
                "unix call table out of sync" );
