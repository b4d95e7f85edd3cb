/*
 * Whole-file operations of libwinbackup: back up a path to a stream, restore
 * a stream onto a path, copy a file with all its Windows metadata.
 *
 * Backing up moves the payload bytes without copying them where it can;
 * restoring is restore.c's (a restore never damages what is already there),
 * and a copy is a backup fed straight into a restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include "winbackup/winbackup.h"
#include "native_private.h"

#define COPY_CHUNK (1u << 20)
/* The buffered backup path reads 128 KiB at a time: with the page cache warm
 * the copy out of it stays in the CPU's cache (dd on the bench machine:
 * 0.163 s at 128 KiB against 0.198 s at 1 MiB for 1 GiB), as cat does. */
#define BACKUP_CHUNK (128u << 10)

/* ENOENT is two errors on Windows: a missing file (ERROR_FILE_NOT_FOUND)
 * or a missing directory on the way to it (ERROR_PATH_NOT_FOUND). */
static uint32_t open_error(const char *path, int error)
{
    struct stat st;
    char *dir;
    uint32_t ret = wb_win32_error_from_errno(error);

    if (error == ENOENT && (dir = wbn_parent_dir(path)))
    {
        if (stat(dir, &st) || !S_ISDIR(st.st_mode)) ret = WB_ERROR_PATH_NOT_FOUND;
        free(dir);
    }
    return ret;
}

/* Open a path for backing up without following a final symlink. */
static uint32_t open_for_backup(const char *path, int *fd)
{
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0 && errno == ELOOP)
        *fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0) return open_error(path, errno);
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

/* How payload bytes go from the file to out_fd without passing through our
 * buffer: copy_file_range to a regular file (the file system may share the
 * blocks), sendfile to anything else (a pipe, a socket, /dev/null).  Chosen
 * on the first range; when the kernel refuses (an O_APPEND file, an old
 * kernel, a file system without support) the buffered path takes over. */
enum transfer { TRANSFER_UNKNOWN, TRANSFER_COPY_FILE_RANGE, TRANSFER_SENDFILE, TRANSFER_BUFFERED };

#define NOT_POSSIBLE 0xffffffffu

static uint32_t move_range(int in_fd, uint64_t offset, uint64_t length, int out_fd, enum transfer *how)
{
    int first = 1;

    if (*how == TRANSFER_UNKNOWN)
    {
        struct stat st;
        *how = !fstat(out_fd, &st) && S_ISREG(st.st_mode) ? TRANSFER_COPY_FILE_RANGE : TRANSFER_SENDFILE;
    }
    while (length)
    {
        size_t chunk = length > 0x40000000u ? 0x40000000u : (size_t)length;
        loff_t in_offset = offset;
        ssize_t moved;

        if (*how == TRANSFER_COPY_FILE_RANGE) moved = copy_file_range(in_fd, &in_offset, out_fd, NULL, chunk, 0);
        else moved = sendfile(out_fd, in_fd, &in_offset, chunk);
        if (moved < 0)
        {
            if (errno == EINTR) continue;
            if (first && (errno == EINVAL || errno == ENOSYS || errno == EXDEV || errno == EOPNOTSUPP ||
                          errno == EBADF || errno == ESPIPE))
            {
                *how = *how == TRANSFER_COPY_FILE_RANGE ? TRANSFER_SENDFILE : TRANSFER_BUFFERED;
                if (*how == TRANSFER_SENDFILE) continue;
                return NOT_POSSIBLE;
            }
            return wb_win32_error_from_errno(errno);
        }
        /* the header already promised these bytes: a file that shrank
         * while it was read cannot be represented any more */
        if (!moved) return WB_ERROR_HANDLE_EOF;
        first = 0;
        offset += moved;
        length -= moved;
    }
    return WB_OK;
}

uint32_t wb_backup_path(const char *path, unsigned int flags, int out_fd)
{
    return wb_backup_path_report(path, flags, out_fd, NULL);
}

uint32_t wb_backup_path_report(const char *path, unsigned int flags, int out_fd, unsigned int *skipped)
{
    enum transfer how = TRANSFER_UNKNOWN;
    struct backup_job job;
    uint8_t *buffer;
    uint32_t status, done;

    if (!path || out_fd < 0) return WB_ERROR_INVALID_PARAMETER;
    if (!(buffer = malloc(BACKUP_CHUNK))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if ((status = backup_job_open(&job, path, flags)))
    {
        free(buffer);
        return status;
    }
    for (;;)
    {
        uint64_t offset, length, moved;

        /* headers, names and metadata through the buffer; file ranges moved
         * by the kernel, their bytes never copied into this process */
        if (how == TRANSFER_BUFFERED) status = wb_encoder_read(job.encoder, buffer, BACKUP_CHUNK, &done);
        else status = wb_encoder_read_to_range(job.encoder, buffer, BACKUP_CHUNK, &done);
        if (status) break;
        if (done)
        {
            if ((status = write_all(out_fd, buffer, done))) break;
            continue;
        }
        if (how == TRANSFER_BUFFERED || !wb_encoder_data_range(job.encoder, &offset, &length)) break;   /* the end */
        status = move_range(job.fd, offset, length, out_fd, &how);
        if (status == NOT_POSSIBLE) continue;
        if (status) break;
        if ((status = wb_encoder_seek(job.encoder, length, &moved))) break;
    }
    if (skipped) *skipped = wb_posix_source_skipped(job.source);
    backup_job_close(&job);
    free(buffer);
    return status;
}

/* A copy moves the file's bytes from file to file in the kernel
 * (copy_file_range: on XFS and btrfs the blocks are shared, elsewhere
 * nothing passes through this process), at the same offsets, so holes stay
 * holes; headers, names and metadata go through the decoder as usual, and
 * both state machines skip the bytes moved (wb_encoder_seek and
 * wb_decoder_seek).  A restore in place keeps a copy of the stream's bytes
 * and needs them all, and a file system that refuses copy_file_range gets
 * the buffered path. */
static uint32_t copy_stream(struct backup_job *from, struct restore_job *to, uint8_t *buffer)
{
    int direct = to->mode == RESTORE_REPLACE && !to->temp_is_dir;
    uint64_t offset, length, skipped;
    uint32_t status, done;

    for (;;)
    {
        if (direct) status = wb_encoder_read_to_range(from->encoder, buffer, COPY_CHUNK, &done);
        else status = wb_encoder_read(from->encoder, buffer, COPY_CHUNK, &done);
        if (status) return status;
        if (done)
        {
            if ((status = restore_job_write(to, buffer, done))) return status;
            continue;
        }
        if (!direct || !wb_encoder_data_range(from->encoder, &offset, &length)) return WB_OK;   /* the end */
        while (length)
        {
            loff_t in = offset, out = offset;
            ssize_t moved = copy_file_range(from->fd, &in, to->fd, &out, length > 0x40000000u ? 0x40000000u : length, 0);

            if (moved < 0 && errno == EINTR) continue;
            if (moved < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
                direct = 0;     /* the rest of this range, and all after it, through the buffer */
                break;
            }
            if (moved < 0) return wb_win32_error_from_errno(errno);
            /* the header already promised these bytes */
            if (!moved) return WB_ERROR_HANDLE_EOF;
            if ((status = wb_encoder_seek(from->encoder, moved, &skipped)) ||
                (status = wb_decoder_seek(to->decoder, moved, &skipped)))
                return status;
            offset += moved;
            length -= moved;
        }
    }
}

uint32_t wb_copy_path(const char *src, const char *dst, unsigned int flags)
{
    return wb_copy_path_report(src, dst, flags, NULL);
}

uint32_t wb_copy_path_report(const char *src, const char *dst, unsigned int flags, unsigned int *skipped)
{
    struct backup_job from;
    struct restore_job to;
    struct stat st;
    uint8_t *buffer;
    uint32_t status;

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
    status = copy_stream(&from, &to, buffer);
    if (skipped) *skipped = wb_posix_source_skipped(from.source);
    backup_job_close(&from);
    if (status) restore_job_abort(&to);
    else status = restore_job_commit(&to);
done:
    free(buffer);
    return status;
}
