/*
 * Whole-file operations of libwinbackup: back up a path to a stream, restore
 * a stream onto a path, copy a file with all its Windows metadata.
 *
 * Restores never damage what is already there: the stream goes into a
 * temporary file in the destination's directory, which is fsync'ed and
 * renamed over the destination only when the whole stream was applied.
 * Files with other hard links and directories cannot be swapped like that;
 * see struct restore_job for what happens to them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "winbackup/winbackup.h"

#define COPY_CHUNK (1u << 20)
/* The buffered backup path reads 128 KiB at a time: with the page cache warm
 * the copy out of it stays in the CPU's cache (dd on the bench machine:
 * 0.163 s at 128 KiB against 0.198 s at 1 MiB for 1 GiB), as cat does. */
#define BACKUP_CHUNK (128u << 10)

static char *parent_dir(const char *path);

/* ENOENT is two errors on Windows: a missing file (ERROR_FILE_NOT_FOUND)
 * or a missing directory on the way to it (ERROR_PATH_NOT_FOUND). */
static uint32_t open_error(const char *path, int error)
{
    struct stat st;
    char *dir;
    uint32_t ret = wb_win32_error_from_errno(error);

    if (error == ENOENT && (dir = parent_dir(path)))
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

/*
 * The sink side of a restore.  Which file the stream goes to depends on what
 * is at the destination (the rule docs/ARCHITECTURE.md states):
 *
 *  RESTORE_REPLACE    nothing, a symlink or another non-directory, or a
 *                     regular file with one name whose owner and group we
 *                     can give to a new file: the stream is decoded into a
 *                     temporary file next to it, which takes over the old
 *                     file's owner, group, mode, POSIX ACL and stored
 *                     descriptor (unless the stream's own descriptor
 *                     replaces them) and is renamed over it at the end.
 *  RESTORE_IN_PLACE   a regular file with more than one name, or one whose
 *                     owner we cannot give to a new file: replacing it would
 *                     split its hard links or change its owner, so the
 *                     stream is first decoded into a temporary file (which
 *                     checks all of it, and the copy of its bytes kept in
 *                     raw_fd), then decoded again onto the file itself, as
 *                     BackupWrite does with the handle it is given.  A
 *                     malformed or truncated stream leaves the file
 *                     untouched; an I/O error during the second pass (a full
 *                     disk) leaves it partly written and is reported.
 *  RESTORE_DIRECTORY  a directory: its metadata is restored in place.
 *
 * BACKUP_LINK streams make hard links only with a link root (the caller
 * says where a stream's paths may place names) and only at commit, after
 * everything else succeeded: a failed restore leaves no link behind.
 */
enum restore_mode { RESTORE_REPLACE, RESTORE_IN_PLACE, RESTORE_DIRECTORY };

struct restore_job
{
    unsigned int flags;
    enum restore_mode mode;
    char *final_path;
    char *link_root;
    char *temp_path;            /* REPLACE, IN_PLACE: what the stream is decoded into first */
    int fd;                     /* the temporary file, or the directory */
    int target_fd;              /* IN_PLACE: the existing file, opened for writing */
    int raw_fd;                 /* IN_PLACE: an unnamed copy of the stream's bytes */
    int carry;                  /* REPLACE over a regular file: keep its security */
    struct stat target_st;      /* the regular file at the destination, as lstat saw it */
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
};

static void restore_job_abort(struct restore_job *job)
{
    wb_decoder_free(job->decoder);
    if (job->sink) wb_posix_sink_close(job->sink);
    if (job->fd >= 0) close(job->fd);
    if (job->target_fd >= 0) close(job->target_fd);
    if (job->raw_fd >= 0) close(job->raw_fd);
    if (job->temp_path)
    {
        unlink(job->temp_path);
        free(job->temp_path);
    }
    free(job->final_path);
    free(job->link_root);
    memset(job, 0, sizeof(*job));
    job->fd = job->target_fd = job->raw_fd = -1;
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

/* Copy one xattr of the file at path (not following a symlink) to fd, if
 * the file has it.  By path: reading an ACL needs no read permission. */
static uint32_t copy_xattr(const char *path, int to, const char *name)
{
    ssize_t size = lgetxattr(path, name, NULL, 0);
    uint8_t *value;
    uint32_t ret = WB_OK;

    if (size < 0) return errno == ENODATA || errno == ENOTSUP ? WB_OK : wb_win32_error_from_errno(errno);
    if (!(value = malloc(size ? size : 1))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if ((size = lgetxattr(path, name, value, size)) < 0 || fsetxattr(to, name, value, size, 0))
        ret = errno == ENODATA ? WB_OK : wb_win32_error_from_errno(errno);
    free(value);
    return ret;
}

/* The umask, read without changing it (umask() is process-wide: another
 * thread could create a file with a wrong one in between). */
static mode_t current_umask(void)
{
    char line[128];
    unsigned int mask;
    FILE *status = fopen("/proc/self/status", "re");
    mode_t ret = 022;

    if (!status) return ret;
    while (fgets(line, sizeof(line), status))
        if (sscanf(line, "Umask: %o", &mask) == 1) { ret = mask & 0777; break; }
    fclose(status);
    return ret;
}

/* The temporary file is created 0600: until it is complete, neither other
 * users nor a leftover after a crash may read what is restored into it.
 * At the end it gets its mode, unless the stream's descriptor gave one:
 *  - over a regular file, what the descriptor did not replace comes from
 *    the old file: the stored descriptor, the POSIX ACL, the mode, and the
 *    DOS attributes (which the stream does not carry; Windows keeps them
 *    on a restore too).  Owner and group went over at open (chown clears
 *    set-id bits, and deciding IN_PLACE needs to know if it works); the
 *    rest comes last, because a read-only mode would stop the restore's
 *    own xattr writes;
 *  - a new file gets 0666 less the umask, as the kernel would give it. */
static uint32_t finish_mode(struct restore_job *job)
{
    int applied = wb_posix_sink_security(job->sink);
    int mode_given = applied == WB_POSIX_SD_MAPPED || applied == WB_POSIX_SD_MODE;
    uint32_t ret;

    if (!job->carry)
    {
        if (!mode_given && fchmod(job->fd, 0666 & ~current_umask())) return wb_win32_error_from_errno(errno);
        return WB_OK;
    }
    if ((ret = copy_xattr(job->final_path, job->fd, "user.DOSATTRIB"))) return ret;
    if (mode_given) return WB_OK;
    if (applied == WB_POSIX_SD_NONE && (ret = copy_xattr(job->final_path, job->fd, "user.wine.sd"))) return ret;
    if ((ret = copy_xattr(job->final_path, job->fd, "system.posix_acl_access"))) return ret;
    if (fchmod(job->fd, job->target_st.st_mode & 07777)) return wb_win32_error_from_errno(errno);
    return WB_OK;
}

/* An unnamed file in dir for the copy of the stream (O_TMPFILE, else a
 * temporary name removed at once). */
static int open_unnamed(const char *dir, const char *near)
{
    unsigned int attempt;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    for (attempt = 0; fd < 0 && attempt < 100; attempt++)
    {
        char *temp = wb_posix_temp_sibling(near, 0x10000 + attempt);
        if (!temp) return -1;
        if ((fd = open(temp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) unlink(temp);
        free(temp);
        if (fd < 0 && errno != EEXIST) break;
    }
    return fd;
}

static uint32_t open_sink(struct restore_job *job, int fd, const char *path, struct wb_posix_sink **sink,
                          struct wb_decoder **decoder)
{
    struct wb_posix_sink_options options;
    uint32_t status;

    memset(&options, 0, sizeof(options));
    options.path = path;
    options.link_root = job->link_root;
    options.link_mode = job->link_root ? WB_POSIX_LINK_DEFERRED : WB_POSIX_LINK_REFUSED;
    if ((status = wb_posix_sink_open(fd, job->flags, &options, sink))) return status;
    if (!(*decoder = wb_decoder_new(&wb_posix_sink_ops, *sink, (job->flags & WB_SECURITY) ? WB_DECODE_SECURITY : 0)))
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    return WB_OK;
}

static uint32_t restore_job_open(struct restore_job *job, const char *path, unsigned int flags, const char *link_root)
{
    struct stat st;
    uint32_t status;
    char *dir = NULL;
    int exists;

    memset(job, 0, sizeof(*job));
    job->fd = job->target_fd = job->raw_fd = -1;
    job->flags = flags;
    if (!(job->final_path = strdup(path)) || (link_root && !(job->link_root = strdup(link_root))))
    {
        status = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto failed;
    }

    exists = !lstat(path, &st);
    if (exists && S_ISDIR(st.st_mode))
    {
        job->mode = RESTORE_DIRECTORY;
        job->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (job->fd < 0) goto errno_failed;
        if ((status = open_sink(job, job->fd, NULL, &job->sink, &job->decoder))) goto failed;
        return WB_OK;
    }

    {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        static unsigned int counter;
        unsigned int attempt;

        if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) { status = WB_ERROR_INVALID_NAME; goto failed; }
        if (strlen(base) > 255) { status = WB_ERROR_FILENAME_EXCED_RANGE; goto failed; }
        /* 0600 until it is complete (finish_mode gives the final mode).
         * The name only has to be unused: O_EXCL guards the race. */
        for (attempt = 0; attempt < 100; attempt++)
        {
            free(job->temp_path);
            if (!(job->temp_path = wb_posix_temp_sibling(path, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED))))
            {
                status = WB_ERROR_NOT_ENOUGH_MEMORY;
                goto failed;
            }
            job->fd = open(job->temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (job->fd >= 0 || errno != EEXIST) break;
        }
        if (job->fd < 0)
        {
            free(job->temp_path);
            job->temp_path = NULL;
            goto errno_failed;
        }
    }

    job->mode = RESTORE_REPLACE;
    if (exists && S_ISREG(st.st_mode))
    {
        job->target_st = st;
        job->carry = 1;
        /* the owner and group first: whether they can go over decides the mode */
        if ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(job->fd, st.st_uid, st.st_gid))
        {
            if (errno != EPERM) goto errno_failed;
            job->carry = 0;
        }
        if (!job->carry || st.st_nlink > 1)
        {
            /* replacing would change the owner or split hard links */
            job->mode = RESTORE_IN_PLACE;
            job->carry = 0;
            job->target_fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            if (job->target_fd < 0) goto errno_failed;
            if (fstat(job->target_fd, &job->target_st) || job->target_st.st_dev != st.st_dev ||
                job->target_st.st_ino != st.st_ino)
            {
                status = WB_ERROR_ACCESS_DENIED;   /* swapped under us */
                goto failed;
            }
            if (!(dir = parent_dir(path))) { status = WB_ERROR_NOT_ENOUGH_MEMORY; goto failed; }
            job->raw_fd = open_unnamed(dir, path);
            free(dir);
            if (job->raw_fd < 0) goto errno_failed;
        }
    }
    if ((status = open_sink(job, job->fd, job->temp_path, &job->sink, &job->decoder))) goto failed;
    return WB_OK;

errno_failed:
    status = wb_win32_error_from_errno(errno);
failed:
    restore_job_abort(job);
    return status;
}

/* Feed stream bytes to the restore (and keep them for the second pass). */
static uint32_t restore_job_write(struct restore_job *job, const uint8_t *buffer, size_t size)
{
    uint32_t status;

    if (job->raw_fd >= 0 && (status = write_all(job->raw_fd, buffer, size))) return status;
    return wb_decoder_write(job->decoder, buffer, size);
}

/* user.* xattr names of fd, sorted; NULL list on error (count 0). */
static char **user_xattrs(int fd, size_t *count)
{
    char *list = NULL, **names = NULL, *name;
    ssize_t size;
    size_t n = 0;

    *count = 0;
    if ((size = flistxattr(fd, NULL, 0)) <= 0) return NULL;
    if (!(list = malloc(size)) || (size = flistxattr(fd, list, size)) < 0) goto done;
    for (name = list; name < list + size; name += strlen(name) + 1)
        if (!strncmp(name, "user.", 5)) n++;
    if (!n || !(names = calloc(n, sizeof(*names)))) goto done;
    for (name = list, n = 0; name < list + size; name += strlen(name) + 1)
        if (!strncmp(name, "user.", 5) && !(names[n++] = strdup(name))) break;
    *count = n;
done:
    free(list);
    return names;
}

static void free_names(char **names, size_t count)
{
    while (count) free(names[--count]);
    free(names);
}

/* IN_PLACE, second pass: the checked stream onto the file itself; then the
 * file's length and xattrs made those of the checked copy. */
static uint32_t apply_in_place(struct restore_job *job)
{
    struct wb_posix_sink *sink = NULL;
    struct wb_decoder *decoder = NULL;
    char **before = NULL, **after = NULL;
    size_t before_count = 0, after_count = 0, i, j;
    uint8_t *buffer = NULL;
    struct stat st;
    uint32_t status;

    if (fstat(job->fd, &st)) return wb_win32_error_from_errno(errno);
    before = user_xattrs(job->target_fd, &before_count);
    if (lseek(job->raw_fd, 0, SEEK_SET) < 0) { status = wb_win32_error_from_errno(errno); goto done; }
    if (!(buffer = malloc(COPY_CHUNK))) { status = WB_ERROR_NOT_ENOUGH_MEMORY; goto done; }
    if ((status = open_sink(job, job->target_fd, NULL, &sink, &decoder))) goto done;
    for (;;)
    {
        ssize_t got = read(job->raw_fd, buffer, COPY_CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { status = wb_win32_error_from_errno(errno); goto done; }
        if (!got) break;
        if ((status = wb_decoder_write(decoder, buffer, got))) goto done;
    }
    if ((status = wb_posix_sink_finish(sink))) goto done;
    if (ftruncate(job->target_fd, st.st_size)) { status = wb_win32_error_from_errno(errno); goto done; }
    /* what the stream did not set goes, as it would with a new file; a
     * stored descriptor is the file's security and stays unless replaced */
    after = user_xattrs(job->fd, &after_count);
    for (i = 0; i < before_count; i++)
    {
        if (!strcmp(before[i], "user.wine.sd")) continue;
        for (j = 0; j < after_count; j++) if (!strcmp(before[i], after[j])) break;
        if (j == after_count && fremovexattr(job->target_fd, before[i]) && errno != ENODATA)
        {
            status = wb_win32_error_from_errno(errno);
            goto done;
        }
    }
    if (!(job->flags & WB_NO_SYNC) && fsync(job->target_fd)) status = wb_win32_error_from_errno(errno);
done:
    free_names(before, before_count);
    free_names(after, after_count);
    free(buffer);
    wb_decoder_free(decoder);
    if (sink) wb_posix_sink_close(sink);
    return status;
}

static void fsync_parent(const char *path)
{
    char *dir = parent_dir(path);
    int dir_fd;

    if (!dir) return;
    if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
        fsync(dir_fd);
        close(dir_fd);
    }
    free(dir);
}

static uint32_t restore_job_commit(struct restore_job *job)
{
    uint32_t status;
    int linked_fd;

    if (!wb_decoder_at_boundary(job->decoder))
    {
        /* The stream stopped in the middle of a header or payload. */
        restore_job_abort(job);
        return WB_ERROR_HANDLE_EOF;
    }
    if ((status = wb_posix_sink_finish(job->sink))) goto failed;
    if (job->mode == RESTORE_IN_PLACE)
    {
        if ((status = apply_in_place(job))) goto failed;
        linked_fd = job->target_fd;
    }
    else
    {
        if (job->mode == RESTORE_REPLACE && (status = finish_mode(job))) goto failed;
        if (!(job->flags & WB_NO_SYNC) && fsync(job->fd) && errno != EINVAL && errno != EBADF)
        {
            status = wb_win32_error_from_errno(errno);
            goto failed;
        }
        linked_fd = job->fd;
    }
    /* links under temporary names first: nothing is replaced until the file is */
    if ((status = wb_posix_sink_stage_links(job->sink, linked_fd))) goto failed;
    if (job->mode == RESTORE_REPLACE)
    {
        if (rename(job->temp_path, job->final_path))
        {
            status = wb_win32_error_from_errno(errno);
            goto failed;
        }
        free(job->temp_path);
        job->temp_path = NULL;
        /* make the rename itself durable */
        if (!(job->flags & WB_NO_SYNC)) fsync_parent(job->final_path);
    }
    status = wb_posix_sink_commit_links(job->sink);
failed:
    restore_job_abort(job);   /* removes the temporary file and staged links; frees the rest */
    return status;
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
        if ((status = restore_job_write(&job, buffer, (size_t)got))) break;
    }
    if (status) restore_job_abort(&job);
    else status = restore_job_commit(&job);
done:
    free(buffer);
    return status;
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
        if ((status = restore_job_write(&to, buffer, done))) break;
    if (skipped) *skipped = wb_posix_source_skipped(from.source);
    backup_job_close(&from);
    if (status) restore_job_abort(&to);
    else status = restore_job_commit(&to);
done:
    free(buffer);
    return status;
}
