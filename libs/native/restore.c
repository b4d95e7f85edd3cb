/*
 * Restoring a backup stream onto a path (wb_restore_path, and the restore
 * half of wb_copy_path).  A restore never leaves a half-applied state that
 * could have been avoided: what is at the destination decides how
 * (docs/ARCHITECTURE.md states the rule):
 *
 *  RESTORE_REPLACE   nothing, a symlink or another non-directory, or a
 *                    regular file with one name whose owner and group we can
 *                    give to a new file: the stream is decoded into a
 *                    temporary file next to it (mode 0600 until complete),
 *                    which takes over the old file's owner, group, mode, POSIX
 *                    ACL, stored descriptor and DOS attributes (unless the
 *                    stream's descriptor replaces them) and is renamed over
 *                    it at the end.
 *  RESTORE_IN_PLACE  a directory; a regular file with more than one name, or
 *                    one whose owner we cannot give to a new file, or one in
 *                    a directory we may not write: replacing it would split
 *                    its hard links, change its owner, or is impossible.  The
 *                    stream is first decoded into a temporary copy (a file,
 *                    or a directory for a directory), which checks all of it,
 *                    while its bytes are kept in an unnamed file; then the
 *                    copy's space is given back and the bytes are decoded
 *                    again onto the destination itself, as BackupWrite does
 *                    with the handle it is given.  A malformed or truncated
 *                    stream leaves the destination untouched; the space a
 *                    regular file needs is reserved before its first byte
 *                    changes, so a full disk is reported with the file as it
 *                    was; only an I/O error in the middle of the second pass
 *                    leaves it partly written (and is reported).
 *
 * The temporary copy lives next to the destination, or, when that directory
 * may not be written, in $TMPDIR (else /var/tmp).
 *
 * BACKUP_LINK streams make hard links only with a link root (the caller says
 * where a stream's paths may place names), and only at commit: staged under
 * temporary names (which also checks that each final name may be replaced)
 * before the destination changes, renamed into place after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "winbackup/winbackup.h"
#include "native_private.h"

#define RESTORE_CHUNK (1u << 20)

char *wbn_parent_dir(const char *path)
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

void restore_job_abort(struct restore_job *job)
{
    wb_decoder_free(job->decoder);
    if (job->sink) wb_posix_sink_close(job->sink);
    if (job->fd >= 0) close(job->fd);
    if (job->target_fd >= 0) close(job->target_fd);
    if (job->raw_fd >= 0) close(job->raw_fd);
    if (job->temp_path)
    {
        if (job->temp_is_dir) rmdir(job->temp_path);
        else unlink(job->temp_path);
        free(job->temp_path);
    }
    free(job->final_path);
    free(job->link_root);
    memset(job, 0, sizeof(*job));
    job->fd = job->target_fd = job->raw_fd = -1;
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

/* RESTORE_REPLACE, at the end, unless the stream's descriptor gave a mode:
 *  - over a regular file, what the descriptor did not replace comes from
 *    the old file: the stored descriptor, the POSIX ACL, the mode, and the
 *    DOS attributes (which the stream does not carry; Windows keeps them on
 *    a restore too).  Owner and group went over at open (chown clears
 *    set-id bits, and deciding IN_PLACE needs to know if it works); the rest
 *    comes last, because a read-only mode would stop the restore's own xattr
 *    writes;
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

/* Where a temporary copy goes when the destination's directory may not be
 * written: $TMPDIR, else /var/tmp (a disk, which keeps user xattrs). */
static const char *scratch_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] == '/' ? dir : "/var/tmp";
}

/* The temporary copy: a file (0600) or a directory (0700) named after
 * `near` in the directory of `near`.  Fills job->temp_path and job->fd. */
static int create_temp(struct restore_job *job, const char *near, int directory)
{
    static unsigned int counter;
    unsigned int attempt;

    for (attempt = 0; attempt < 100; attempt++)
    {
        free(job->temp_path);
        if (!(job->temp_path = wb_posix_temp_sibling(near, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED))))
        {
            errno = ENOMEM;
            return -1;
        }
        if (directory)
        {
            if (!mkdir(job->temp_path, 0700))
            {
                job->temp_is_dir = 1;
                if ((job->fd = open(job->temp_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) return 0;
                return -1;
            }
        }
        else if ((job->fd = open(job->temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) return 0;
        if (errno != EEXIST) break;
    }
    free(job->temp_path);
    job->temp_path = NULL;
    return -1;
}

/* create_temp next to path, or in the scratch directory when the
 * destination's directory refuses us and the restore can be in place. */
static int create_temp_near(struct restore_job *job, const char *path, int directory, int may_be_elsewhere)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *elsewhere;
    int ret;

    if (!create_temp(job, path, directory)) return 0;
    if (!may_be_elsewhere || (errno != EACCES && errno != EPERM && errno != EROFS)) return -1;
    if (!(elsewhere = malloc(strlen(scratch_dir()) + strlen(base) + 2)))
    {
        errno = ENOMEM;
        return -1;
    }
    sprintf(elsewhere, "%s/%s", scratch_dir(), base);
    ret = create_temp(job, elsewhere, directory);
    free(elsewhere);
    if (!ret) job->temp_elsewhere = 1;
    return ret;
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

/* RESTORE_IN_PLACE: the destination opened for the second pass (checked to
 * be what lstat saw), and the unnamed file for the stream's bytes. */
static uint32_t open_in_place(struct restore_job *job, const char *path, const struct stat *st)
{
    char *dir;

    job->mode = RESTORE_IN_PLACE;
    job->carry = 0;
    job->target_is_dir = S_ISDIR(st->st_mode);
    job->target_fd = open(path, (job->target_is_dir ? O_RDONLY | O_DIRECTORY : O_RDWR | O_NONBLOCK | O_NOCTTY) |
                                O_NOFOLLOW | O_CLOEXEC);
    if (job->target_fd < 0) return wb_win32_error_from_errno(errno);
    if (fstat(job->target_fd, &job->target_st) || job->target_st.st_dev != st->st_dev ||
        job->target_st.st_ino != st->st_ino)
        return WB_ERROR_ACCESS_DENIED;   /* swapped under us */
    if (!(dir = wbn_parent_dir(job->temp_path))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    job->raw_fd = open_unnamed(dir, job->temp_path);
    free(dir);
    if (job->raw_fd < 0) return wb_win32_error_from_errno(errno);
    return WB_OK;
}

uint32_t restore_job_open(struct restore_job *job, const char *path, unsigned int flags, const char *link_root)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct stat st;
    uint32_t status;
    int exists, is_reg;

    memset(job, 0, sizeof(*job));
    job->fd = job->target_fd = job->raw_fd = -1;
    job->flags = flags;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) return WB_ERROR_INVALID_NAME;
    if (strlen(base) > 255) return WB_ERROR_FILENAME_EXCED_RANGE;
    if (!(job->final_path = strdup(path)) || (link_root && !(job->link_root = strdup(link_root))))
    {
        status = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto failed;
    }

    exists = !lstat(path, &st);
    is_reg = exists && S_ISREG(st.st_mode);
    if (exists && S_ISDIR(st.st_mode))
    {
        if (create_temp_near(job, path, 1, 1)) goto errno_failed;
        if ((status = open_in_place(job, path, &st))) goto failed;
    }
    else
    {
        if (create_temp_near(job, path, 0, is_reg)) goto errno_failed;
        job->mode = RESTORE_REPLACE;
        if (is_reg)
        {
            job->target_st = st;
            job->carry = !job->temp_elsewhere;
            /* the owner and group first: whether they can go over decides the mode */
            if (job->carry && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
                fchown(job->fd, st.st_uid, st.st_gid))
            {
                if (errno != EPERM) goto errno_failed;
                job->carry = 0;
            }
            /* replacing would change the owner, split hard links, or cannot be done */
            if ((!job->carry || st.st_nlink > 1) && (status = open_in_place(job, path, &st))) goto failed;
        }
    }
    if ((status = open_sink(job, job->fd, job->temp_is_dir ? NULL : job->temp_path, &job->sink, &job->decoder)))
        goto failed;
    return WB_OK;

errno_failed:
    status = wb_win32_error_from_errno(errno);
failed:
    restore_job_abort(job);
    return status;
}

/* Feed stream bytes to the restore (and keep them for the second pass). */
uint32_t restore_job_write(struct restore_job *job, const uint8_t *buffer, size_t size)
{
    uint32_t status;

    if (job->raw_fd >= 0)
    {
        size_t done = 0;
        while (done < size)
        {
            ssize_t written = write(job->raw_fd, buffer + done, size - done);
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) return wb_win32_error_from_errno(errno);
            done += written;
        }
    }
    if ((status = wb_decoder_write(job->decoder, buffer, size))) return status;
    return WB_OK;
}

/* user.* xattr names of fd; NULL list on error (count 0). */
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

/* RESTORE_IN_PLACE, second pass: the checked stream onto the destination
 * itself; then its length and xattrs made those of the checked copy. */
static uint32_t apply_in_place(struct restore_job *job)
{
    struct wb_posix_sink *sink = NULL;
    struct wb_decoder *decoder = NULL;
    char **before = NULL, **after = NULL;
    size_t before_count = 0, after_count = 0, i, j;
    uint8_t *buffer = NULL;
    struct stat copy;
    uint32_t status = WB_OK;

    if (fstat(job->fd, &copy)) return wb_win32_error_from_errno(errno);
    after = user_xattrs(job->fd, &after_count);
    before = user_xattrs(job->target_fd, &before_count);
    if (!job->target_is_dir)
    {
        /* the checked copy is not needed any more: its space goes back
         * before the destination grows, and the growth is reserved before
         * anything changes (unless the result has holes, which a
         * reservation would fill) */
        if (ftruncate(job->fd, 0)) { status = wb_win32_error_from_errno(errno); goto done; }
        if (copy.st_size > job->target_st.st_size && (uint64_t)copy.st_blocks * 512 >= (uint64_t)copy.st_size &&
            fallocate(job->target_fd, FALLOC_FL_KEEP_SIZE, 0, copy.st_size) && errno != EOPNOTSUPP)
        {
            status = wb_win32_error_from_errno(errno);
            goto done;
        }
    }
    if (lseek(job->raw_fd, 0, SEEK_SET) < 0) { status = wb_win32_error_from_errno(errno); goto done; }
    if (!(buffer = malloc(RESTORE_CHUNK))) { status = WB_ERROR_NOT_ENOUGH_MEMORY; goto done; }
    if ((status = open_sink(job, job->target_fd, NULL, &sink, &decoder))) goto done;
    for (;;)
    {
        ssize_t got = read(job->raw_fd, buffer, RESTORE_CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { status = wb_win32_error_from_errno(errno); goto done; }
        if (!got) break;
        if ((status = wb_decoder_write(decoder, buffer, got))) goto done;
    }
    if ((status = wb_posix_sink_finish(sink))) goto done;
    if (!job->target_is_dir && ftruncate(job->target_fd, copy.st_size))
    {
        status = wb_win32_error_from_errno(errno);
        goto done;
    }
    /* what the stream did not set goes, as it would with a new file; the
     * stored descriptor and the DOS attributes are the file's own (the
     * stream carries no DOS attributes) and stay unless replaced */
    for (i = 0; i < before_count; i++)
    {
        if (!strcmp(before[i], "user.wine.sd") || !strcmp(before[i], "user.DOSATTRIB")) continue;
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
    char *dir = wbn_parent_dir(path);
    int dir_fd;

    if (!dir) return;
    if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
        fsync(dir_fd);
        close(dir_fd);
    }
    free(dir);
}

uint32_t restore_job_commit(struct restore_job *job)
{
    uint32_t status;

    if (!wb_decoder_at_boundary(job->decoder))
    {
        /* The stream stopped in the middle of a header or payload. */
        restore_job_abort(job);
        return WB_ERROR_HANDLE_EOF;
    }
    if ((status = wb_posix_sink_finish(job->sink))) goto failed;
    if (job->mode == RESTORE_REPLACE)
    {
        if ((status = finish_mode(job))) goto failed;
        if (!(job->flags & WB_NO_SYNC) && fsync(job->fd) && errno != EINVAL && errno != EBADF)
        {
            status = wb_win32_error_from_errno(errno);
            goto failed;
        }
    }
    /* links under temporary names first (this also checks that each final
     * name may be replaced): nothing changes until the file does */
    if ((status = wb_posix_sink_stage_links(job->sink, job->mode == RESTORE_IN_PLACE ? job->target_fd : job->fd)))
        goto failed;
    if (job->mode == RESTORE_IN_PLACE)
    {
        if ((status = apply_in_place(job))) goto failed;
    }
    else
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
    restore_job_abort(job);   /* removes the temporary copy and staged links; frees the rest */
    return status;
}

uint32_t wb_restore_path(const char *path, unsigned int flags, const char *link_root, int in_fd)
{
    struct restore_job job;
    uint8_t *buffer;
    uint32_t status;

    if (!path || !*path || in_fd < 0) return WB_ERROR_INVALID_PARAMETER;
    if (!(buffer = malloc(RESTORE_CHUNK))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    if ((status = restore_job_open(&job, path, flags, link_root))) goto done;
    for (;;)
    {
        ssize_t got = read(in_fd, buffer, RESTORE_CHUNK);
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
