/*
 * Whole-file operations of libwinbackup: back up a path to a stream, restore
 * a stream onto a path, copy a file with all its Windows metadata.
 *
 * Restores never damage what is already there: the stream goes into a
 * temporary file in the destination's directory, which is fsync'ed and
 * renamed over the destination only when the whole stream was applied.
 * A directory cannot be swapped like that; it is restored in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "winbackup/winbackup.h"

#define COPY_CHUNK (1u << 20)

/* Open a path for backing up without following a final symlink. */
static uint32_t open_for_backup(const char *path, int *fd)
{
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0 && errno == ELOOP)
        *fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0) return wb_win32_error_from_errno(errno);
    return WB_OK;
}

static uint32_t write_all(int fd, const uint8_t *buffer, size_t size)
{
    while (size)
    {
        ssize_t written = write(fd, buffer, size);
        if (written < 0)
        {
            if (errno == EINTR) continue;
            return wb_win32_error_from_errno(errno);
        }
        buffer += written;
        size -= (size_t)written;
    }
    return WB_OK;
}

/* The source side of a backup: fd + POSIX source + encoder. */
struct backup_job
{
    int fd;
    struct wb_posix_source *source;
    struct wb_encoder *encoder;
};

static void backup_job_close(struct backup_job *job)
{
    wb_encoder_free(job->encoder);
    if (job->source) wb_posix_source_close(job->source);
    if (job->fd >= 0) close(job->fd);
}

static uint32_t backup_job_open(struct backup_job *job, const char *path, unsigned int flags)
{
    uint32_t status;

    memset(job, 0, sizeof(*job));
    job->fd = -1;
    if ((status = open_for_backup(path, &job->fd))) return status;
    if ((status = wb_posix_source_open(job->fd, flags & WB_SECURITY, &job->source))) goto failed;
    if (!(job->encoder = wb_encoder_new(&wb_posix_source_ops, job->source)))
    {
        status = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto failed;
    }
    return WB_OK;
failed:
    backup_job_close(job);
    return status;
}

uint32_t wb_backup_path(const char *path, unsigned int flags, int out_fd)
{
    struct backup_job job;
    uint8_t *buffer;
    uint32_t status, done;

    if (!path || out_fd < 0) return WB_ERROR_INVALID_PARAMETER;
    if (!(buffer = malloc(COPY_CHUNK))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if (!(status = backup_job_open(&job, path, flags)))
    {
        while (!(status = wb_encoder_read(job.encoder, buffer, COPY_CHUNK, &done)) && done)
            if ((status = write_all(out_fd, buffer, done))) break;
        backup_job_close(&job);
    }
    free(buffer);
    return status;
}

/* The sink side of a restore: a temporary file (or the directory itself),
 * the POSIX sink and the decoder. */
struct restore_job
{
    unsigned int flags;
    char *final_path;
    char *temp_path;            /* NULL when restoring in place (directories) */
    int fd;
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
};

static void restore_job_abort(struct restore_job *job)
{
    wb_decoder_free(job->decoder);
    if (job->sink) wb_posix_sink_close(job->sink);
    if (job->fd >= 0) close(job->fd);
    if (job->temp_path)
    {
        unlink(job->temp_path);
        free(job->temp_path);
    }
    free(job->final_path);
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    if (!(dir = malloc(slash - path + 1))) return NULL;
    memcpy(dir, path, slash - path);
    dir[slash - path] = 0;
    return dir;
}

static uint32_t restore_job_open(struct restore_job *job, const char *path, unsigned int flags, const char *link_root)
{
    struct wb_posix_sink_options options = { NULL, link_root };
    struct stat st;
    uint32_t status;
    int exists;

    memset(job, 0, sizeof(*job));
    job->fd = -1;
    job->flags = flags;
    if (!(job->final_path = strdup(path))) return WB_ERROR_NOT_ENOUGH_MEMORY;

    exists = !lstat(path, &st);
    if (exists && S_ISDIR(st.st_mode))
    {
        job->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (job->fd < 0) goto errno_failed;
    }
    else
    {
        char *dir = parent_dir(path);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        static unsigned int counter;
        unsigned int attempt;

        if (!dir || !*base) { free(dir); status = WB_ERROR_INVALID_NAME; goto failed; }
        if (!(job->temp_path = malloc(strlen(dir) + strlen(base) + 40)))
        {
            free(dir);
            status = WB_ERROR_NOT_ENOUGH_MEMORY;
            goto failed;
        }
        /* A new file is created 0666 so that the kernel applies the umask,
         * as it would for the file itself (no umask() juggling, which is
         * process-wide and racy); one that replaces a file takes its mode.
         * A restored security descriptor that maps onto a mode overrides
         * both.  The name only has to be unused: O_EXCL guards the race. */
        for (attempt = 0; attempt < 100; attempt++)
        {
            sprintf(job->temp_path, "%s/.%s.wb%x.%x", dir, base, (unsigned int)getpid(),
                    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
            job->fd = open(job->temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (job->fd >= 0 || errno != EEXIST) break;
        }
        free(dir);
        if (job->fd < 0)
        {
            free(job->temp_path);
            job->temp_path = NULL;
            goto errno_failed;
        }
        if (exists && S_ISREG(st.st_mode) && fchmod(job->fd, st.st_mode & 07777)) goto errno_failed;
        options.path = job->temp_path;
    }
    if ((status = wb_posix_sink_open(job->fd, flags, &options, &job->sink))) goto failed;
    if (!(job->decoder = wb_decoder_new(&wb_posix_sink_ops, job->sink,
                                        (flags & WB_SECURITY) ? WB_DECODE_SECURITY : 0)))
    {
        status = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto failed;
    }
    return WB_OK;

errno_failed:
    status = wb_win32_error_from_errno(errno);
failed:
    restore_job_abort(job);
    return status;
}

static uint32_t restore_job_commit(struct restore_job *job)
{
    uint32_t status;
    char *dir;

    if (!wb_decoder_at_boundary(job->decoder))
    {
        /* The stream stopped in the middle of a header or payload. */
        restore_job_abort(job);
        return WB_ERROR_HANDLE_EOF;
    }
    if ((status = wb_posix_sink_finish(job->sink)))
    {
        restore_job_abort(job);
        return status;
    }
    if (!(job->flags & WB_NO_SYNC) && fsync(job->fd) && errno != EINVAL && errno != EBADF)
    {
        status = wb_win32_error_from_errno(errno);
        restore_job_abort(job);
        return status;
    }
    if (job->temp_path)
    {
        if (rename(job->temp_path, job->final_path))
        {
            status = wb_win32_error_from_errno(errno);
            restore_job_abort(job);
            return status;
        }
        free(job->temp_path);
        job->temp_path = NULL;
        /* make the rename itself durable */
        if (!(job->flags & WB_NO_SYNC) && (dir = parent_dir(job->final_path)))
        {
            int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dir_fd >= 0) { fsync(dir_fd); close(dir_fd); }
            free(dir);
        }
    }
    restore_job_abort(job);   /* frees what is left; nothing to unlink any more */
    return WB_OK;
}

uint32_t wb_restore_path(const char *path, unsigned int flags, const char *link_root, int in_fd)
{
    struct restore_job job;
    uint8_t *buffer;
    uint32_t status;

    if (!path || !*path || in_fd < 0) return WB_ERROR_INVALID_PARAMETER;
    if (!(buffer = malloc(COPY_CHUNK))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if ((status = restore_job_open(&job, path, flags, link_root))) goto done;
    for (;;)
    {
        ssize_t got = read(in_fd, buffer, COPY_CHUNK);
        if (got < 0)
        {
            if (errno == EINTR) continue;
            status = wb_win32_error_from_errno(errno);
            break;
        }
        if (!got) break;
        if ((status = wb_decoder_write(job.decoder, buffer, (size_t)got))) break;
    }
    if (status) restore_job_abort(&job);
    else status = restore_job_commit(&job);
done:
    free(buffer);
    return status;
}

uint32_t wb_copy_path(const char *src, const char *dst, unsigned int flags)
{
    struct backup_job from;
    struct restore_job to;
    struct stat st;
    uint8_t *buffer;
    uint32_t status, done;

    if (!src || !dst || !*dst) return WB_ERROR_INVALID_PARAMETER;
    if (!(buffer = malloc(COPY_CHUNK))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if ((status = backup_job_open(&from, src, flags))) goto done;
    /* A directory is restored onto a directory of the same name. */
    if (!fstat(from.fd, &st) && S_ISDIR(st.st_mode) && mkdir(dst, st.st_mode & 07777) && errno != EEXIST)
    {
        status = wb_win32_error_from_errno(errno);
        backup_job_close(&from);
        goto done;
    }
    if ((status = restore_job_open(&to, dst, flags, NULL)))
    {
        backup_job_close(&from);
        goto done;
    }
    while (!(status = wb_encoder_read(from.encoder, buffer, COPY_CHUNK, &done)) && done)
        if ((status = wb_decoder_write(to.decoder, buffer, done))) break;
    backup_job_close(&from);
    if (status) restore_job_abort(&to);
    else status = restore_job_commit(&to);
done:
    free(buffer);
    return status;
}
