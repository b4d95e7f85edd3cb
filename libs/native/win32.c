/*
 * The Win32 face of libwinbackup (<winbackup/win32.h>): BackupRead,
 * BackupWrite and BackupSeek over file descriptors, with GetLastError().
 *
 * Handles are indexes into a table of descriptors (multiples of 4, like
 * Windows handles), so a stale or made-up handle is recognised and answered
 * with ERROR_INVALID_HANDLE instead of being dereferenced.  A context holds
 * the whole state of one backup or restore (encoder or decoder plus the
 * POSIX source or sink) and a magic that tells BackupRead's contexts from
 * BackupWrite's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "winbackup/winbackup.h"
#include "winbackup/win32.h"

static __thread DWORD last_error;

DWORD WINAPI GetLastError(void)
{
    return last_error;
}

void WINAPI SetLastError(DWORD error)
{
    last_error = error;
}

static BOOL fail(DWORD error)
{
    last_error = error;
    return FALSE;
}

/* ---------------------------------------------------------------- handles */

struct handle_slot
{
    int fd;             /* -1: free */
};

static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle_slot *handles;
static size_t handle_count;

HANDLE wb_handle_from_fd(int fd)
{
    size_t i;
    HANDLE handle = INVALID_HANDLE_VALUE;

    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    {
        last_error = ERROR_INVALID_HANDLE;
        return INVALID_HANDLE_VALUE;
    }
    pthread_mutex_lock(&handle_lock);
    for (i = 0; i < handle_count; i++) if (handles[i].fd < 0) break;
    if (i == handle_count)
    {
        struct handle_slot *grown = realloc(handles, (handle_count + 16) * sizeof(*grown));
        if (grown)
        {
            handles = grown;
            for (; handle_count < i + 16; handle_count++) handles[handle_count].fd = -1;
        }
    }
    if (i < handle_count)
    {
        handles[i].fd = fd;
        handle = (HANDLE)(uintptr_t)((i + 1) * 4);
    }
    else last_error = ERROR_NOT_ENOUGH_MEMORY;
    pthread_mutex_unlock(&handle_lock);
    return handle;
}

int wb_fd_from_handle(HANDLE handle)
{
    uintptr_t value = (uintptr_t)handle;
    int fd = -1;

    if (!value || value % 4) return -1;
    pthread_mutex_lock(&handle_lock);
    if (value / 4 - 1 < handle_count) fd = handles[value / 4 - 1].fd;
    pthread_mutex_unlock(&handle_lock);
    return fd;
}

BOOL WINAPI CloseHandle(HANDLE handle)
{
    uintptr_t value = (uintptr_t)handle;
    int fd = -1;

    if (value && !(value % 4))
    {
        pthread_mutex_lock(&handle_lock);
        if (value / 4 - 1 < handle_count)
        {
            fd = handles[value / 4 - 1].fd;
            handles[value / 4 - 1].fd = -1;
        }
        pthread_mutex_unlock(&handle_lock);
    }
    if (fd < 0) return fail(ERROR_INVALID_HANDLE);
    close(fd);
    return TRUE;
}

/* ---------------------------------------------------------------- contexts */

#define READ_CONTEXT_MAGIC  0x64525742u   /* "BWRd" */
#define WRITE_CONTEXT_MAGIC 0x72575742u   /* "BWWr" */

struct backup_context
{
    uint32_t magic;
    int fd;             /* a dup of the handle's descriptor: a descriptor number
                         * reused after CloseHandle never reaches the restore */
    struct wb_posix_source *source;
    struct wb_encoder *encoder;
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
};

static void free_context(struct backup_context *context)
{
    if (!context) return;
    if (context->fd >= 0) close(context->fd);
    wb_encoder_free(context->encoder);
    if (context->source) wb_posix_source_close(context->source);
    wb_decoder_free(context->decoder);
    if (context->sink) wb_posix_sink_close(context->sink);
    context->magic = 0;
    free(context);
}

/* A context of a kind, on its own dup of fd (F_DUPFD_CLOEXEC). */
static struct backup_context *new_context(uint32_t magic, int fd, uint32_t *status)
{
    struct backup_context *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
    {
        *status = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    ctx->magic = magic;
    if ((ctx->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
    {
        *status = wb_win32_error_from_errno(errno);
        free(ctx);
        return NULL;
    }
    return ctx;
}

/* Descriptor checks shared by both directions: a valid handle, no O_DIRECT
 * (FILE_FLAG_NO_BUFFERING: the docs name ERROR_INVALID_PARAMETER), and for
 * reading, a descriptor that can read.  A restore checks the access each
 * stream needs when it arrives (the POSIX sink, from the fd's open mode):
 * a hard link needs none, as on Windows. */
static DWORD check_handle(HANDLE file, int want_write, int *fd)
{
    int flags;

    if (file == INVALID_HANDLE_VALUE || (*fd = wb_fd_from_handle(file)) < 0) return ERROR_INVALID_HANDLE;
    if ((flags = fcntl(*fd, F_GETFL)) < 0) return ERROR_INVALID_HANDLE;
    if (flags & O_DIRECT) return ERROR_INVALID_PARAMETER;
    if (want_write || (flags & O_PATH)) return ERROR_SUCCESS;
    if ((flags & O_ACCMODE) == O_WRONLY) return ERROR_ACCESS_DENIED;
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           BackupRead
 *
 * Read the backup stream of a file into a buffer of any size.  TRUE with
 * *read == 0 means the end; a final call with abort == TRUE frees *context.
 */
BOOL WINAPI BackupRead(HANDLE file, LPBYTE buffer, DWORD count, LPDWORD read, BOOL abort,
                       BOOL security, LPVOID *context)
{
    struct backup_context *ctx;
    uint32_t status, done = 0;
    DWORD error;
    int fd;

    if (!context) return fail(ERROR_INVALID_PARAMETER);
    ctx = *context;
    if (abort)
    {
        if (ctx && ctx->magic != READ_CONTEXT_MAGIC) return fail(ERROR_INVALID_PARAMETER);
        free_context(ctx);
        *context = NULL;
        return TRUE;
    }
    if (!read || (count && !buffer)) return fail(ERROR_INVALID_PARAMETER);
    *read = 0;
    if (ctx && ctx->magic != READ_CONTEXT_MAGIC) return fail(ERROR_INVALID_PARAMETER);
    if ((error = check_handle(file, 0, &fd))) return fail(error);

    if (!ctx)
    {
        if (!(ctx = new_context(READ_CONTEXT_MAGIC, fd, &status))) return fail(status);
        if ((status = wb_posix_source_open(ctx->fd, security ? WB_POSIX_SECURITY : 0, &ctx->source)))
        {
            free_context(ctx);
            return fail(status);
        }
        if (!(ctx->encoder = wb_encoder_new(&wb_posix_source_ops, ctx->source)))
        {
            free_context(ctx);
            return fail(ERROR_NOT_ENOUGH_MEMORY);
        }
        *context = ctx;
    }
    status = wb_encoder_read(ctx->encoder, buffer, count, &done);
    *read = done;
    if (status) return fail(status);
    return TRUE;
}

/***********************************************************************
 *           BackupSeek
 *
 * Skip forward inside the current stream's payload.  Asking for more than
 * is left stops at the end of the stream and fails with ERROR_SEEK.
 */
BOOL WINAPI BackupSeek(HANDLE file, DWORD seek_low, DWORD seek_high, LPDWORD seeked_low,
                       LPDWORD seeked_high, LPVOID *context)
{
    struct backup_context *ctx;
    uint64_t skipped = 0;
    uint32_t status;
    DWORD error;
    int fd;

    if (!context || !seeked_low || !seeked_high) return fail(ERROR_INVALID_PARAMETER);
    *seeked_low = *seeked_high = 0;
    ctx = *context;
    /* a BackupWrite context too: the documentation has BackupSeek move in a
     * stream "initially accessed by using the BackupRead or BackupWrite function" */
    if (!ctx || (ctx->magic != READ_CONTEXT_MAGIC && ctx->magic != WRITE_CONTEXT_MAGIC))
        return fail(ERROR_INVALID_PARAMETER);
    if ((error = check_handle(file, ctx->magic == WRITE_CONTEXT_MAGIC, &fd))) return fail(error);
    if (ctx->encoder) status = wb_encoder_seek(ctx->encoder, ((uint64_t)seek_high << 32) | seek_low, &skipped);
    else status = wb_decoder_seek(ctx->decoder, ((uint64_t)seek_high << 32) | seek_low, &skipped);
    *seeked_low = (DWORD)skipped;
    *seeked_high = (DWORD)(skipped >> 32);
    if (status) return fail(status);
    return TRUE;
}

/***********************************************************************
 *           BackupWrite
 *
 * Restore a backup stream handed over in pieces of any size.  A final call
 * with abort == TRUE completes the restore and frees *context.
 */
BOOL WINAPI BackupWrite(HANDLE file, LPBYTE buffer, DWORD count, LPDWORD written, BOOL abort,
                        BOOL security, LPVOID *context)
{
    struct backup_context *ctx;
    uint32_t status;
    DWORD error;
    int fd;

    if (!context) return fail(ERROR_INVALID_PARAMETER);
    ctx = *context;
    if (abort)
    {
        if (ctx && ctx->magic != WRITE_CONTEXT_MAGIC) return fail(ERROR_INVALID_PARAMETER);
        /* What must come last (owner and mode, fdatasync) is applied when the
         * whole restore went through; after an error the caller already had
         * it, and a restore abandoned mid-stream is a cancel, not a failure
         * (as dlls/kernel32 does). */
        status = ctx && ctx->sink && wb_decoder_at_boundary(ctx->decoder) ? wb_posix_sink_finish(ctx->sink) : WB_OK;
        free_context(ctx);
        *context = NULL;
        if (status) return fail(status);
        return TRUE;
    }
    if (!written || (count && !buffer)) return fail(ERROR_INVALID_PARAMETER);
    *written = 0;
    if (ctx && ctx->magic != WRITE_CONTEXT_MAGIC) return fail(ERROR_INVALID_PARAMETER);
    if ((error = check_handle(file, 1, &fd))) return fail(error);

    if (!ctx)
    {
        if (!(ctx = new_context(WRITE_CONTEXT_MAGIC, fd, &status))) return fail(status);
        if ((status = wb_posix_sink_open(ctx->fd, security ? WB_POSIX_SECURITY : 0, NULL, &ctx->sink)))
        {
            free_context(ctx);
            return fail(status);
        }
        if (!(ctx->decoder = wb_decoder_new(&wb_posix_sink_ops, ctx->sink, security ? WB_DECODE_SECURITY : 0)))
        {
            free_context(ctx);
            return fail(ERROR_NOT_ENOUGH_MEMORY);
        }
        *context = ctx;
    }
    if ((status = wb_decoder_write(ctx->decoder, buffer, count))) return fail(status);
    *written = count;
    return TRUE;
}
