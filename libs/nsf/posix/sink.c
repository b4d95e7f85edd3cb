/*
 * The apply sink: before-images into the copy, crash-safe.
 *
 * Before the first byte is written, the copy is marked "apply in
 * progress" with the backup id of the change info: the user xattr
 * user.winbackup.nsf.apply (16 bytes), or where the file system has no user
 * xattrs a side file "<copy>.nsf-apply" holding the same 16 bytes; the mark
 * is made durable (fsync) first.  A side file counts only if it is a regular
 * file owned by root, the copy's owner or us: others may create files in
 * the directory too.  finish() sets the size at Start, fsyncs
 * and removes the mark.  A crash or kill in between leaves the mark: the
 * copy is known to be half-applied (NSFDbOpen and a new apply refuse it
 * with ERR_DBOFFLINE), and applying the same change info again - which
 * rewrites every recorded range with the same bytes - completes it, since
 * a mark with the same id is accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "posix_nsf.h"
#include "nsferr.h"
#include "oserr.h"

#define MARK_XATTR "user.winbackup.nsf.apply"
#define MARK_SUFFIX ".nsf-apply"

struct nsf_posix_sink
{
    int fd;
    int marked;
    int side_mark;              /* the mark is a side file */
    uint8_t *scratch;           /* the copy's bytes under a before-image, to compare */
    char side_path[PATH_MAX];
};

/* "<path of fd>.nsf-apply", or "" if the path is unknown. */
static void side_mark_path(int fd, char *out, size_t size)
{
    char link[64], path[PATH_MAX];
    ssize_t len;

    out[0] = 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((len = readlink(link, path, sizeof(path) - 1)) <= 0) return;
    path[len] = 0;
    if (path[0] != '/' || strstr(path, " (deleted)")) return;
    if ((size_t)len + sizeof(MARK_SUFFIX) > size) return;
    memcpy(out, path, len);
    memcpy(out + len, MARK_SUFFIX, sizeof(MARK_SUFFIX));
}

static void sync_parent(const char *path)
{
    char dir[PATH_MAX], *slash;
    int fd;

    snprintf(dir, sizeof(dir), "%s", path);
    if (!(slash = strrchr(dir, '/'))) return;
    if (slash == dir) slash++;
    *slash = 0;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
        fsync(fd);
        close(fd);
    }
}

/* A side mark is ours only if it is a regular file owned by root, by the
 * copy's owner or by us: anyone who can create files in the directory could
 * plant "<copy>.nsf-apply" (a FIFO would block open(), a file of theirs
 * would make the copy look half-applied, or vanish during an apply). */
static int side_mark_trusted(int copy_fd, int mark_fd)
{
    struct stat copy_st, mark_st;

    if (fstat(copy_fd, &copy_st) < 0 || fstat(mark_fd, &mark_st) < 0) return 0;
    return S_ISREG(mark_st.st_mode) &&
           (mark_st.st_uid == 0 || mark_st.st_uid == copy_st.st_uid || mark_st.st_uid == geteuid());
}

/* Open an existing side mark: its fd if it is ours, -1 with errno ENOENT if
 * there is none or it is someone else's (which is no mark), else -1. */
static int open_side_mark(int copy_fd, const char *side_path, int flags)
{
    int mark_fd = open(side_path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

    if (mark_fd < 0) return errno == ELOOP || errno == ENXIO ? (errno = ENOENT, -1) : -1;
    if (side_mark_trusted(copy_fd, mark_fd)) return mark_fd;
    close(mark_fd);
    errno = ENOENT;
    return -1;
}

/* Read the mark: 1 found (id filled), 0 none, -1 error (errno). */
static int read_mark(int fd, uint8_t id[16], int *side, char *side_path, size_t side_size)
{
    ssize_t len = fgetxattr(fd, MARK_XATTR, id, 16);
    int mark_fd;

    *side = 0;
    if (len == 16) return 1;
    if (len >= 0) { memset(id, 0, 16); return 1; }         /* a damaged mark is still a mark */
    if (errno != ENODATA && errno != ENOTSUP) return -1;
    side_mark_path(fd, side_path, side_size);
    if (!side_path[0]) return errno == ENOTSUP ? -1 : 0;
    if ((mark_fd = open_side_mark(fd, side_path, O_RDONLY)) < 0) return errno == ENOENT ? 0 : -1;
    *side = 1;
    if (read(mark_fd, id, 16) != 16) memset(id, 0, 16);
    close(mark_fd);
    return 1;
}

nsf_status nsf_posix_check_no_pending_apply(int fd)
{
    char side_path[PATH_MAX];
    uint8_t id[16];
    int side;

    return read_mark(fd, id, &side, side_path, sizeof(side_path)) == 1 ? ERR_DBOFFLINE : NOERROR;
}

/* One apply per copy at a time: an OFD write lock on a byte far past any
 * data (the byte the recorders use for "backup in progress"), so that two
 * applies of different change info cannot both pass the mark check. */
#define APPLY_LOCK_OFFSET ((off_t)0x7fffffffffff0000LL)

nsf_status nsf_posix_sink_open(int fd, struct nsf_posix_sink **sink)
{
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = APPLY_LOCK_OFFSET, .l_len = 1 };
    struct stat st;

    *sink = NULL;
    if (fstat(fd, &st) < 0) return nsf_status_from_errno(errno);
    if (!S_ISREG(st.st_mode)) return ERR_NOT_NSF;
    if (fcntl(fd, F_OFD_SETLK, &lock) < 0)
        return errno == EAGAIN || errno == EACCES ? ERR_DBINUSE : nsf_status_from_errno(errno);
    if (!(*sink = calloc(1, sizeof(**sink)))) return ERR_MEMORY;
    (*sink)->fd = fd;
    return 0;
}

static nsf_status sink_begin(void *opaque, const uint8_t backup_id[16])
{
    struct nsf_posix_sink *sink = opaque;
    uint8_t old[16];
    int found, side, mark_fd;

    found = read_mark(sink->fd, old, &side, sink->side_path, sizeof(sink->side_path));
    if (found < 0) return nsf_status_from_errno(errno);
    /* half-applied by other change info: applying this one would mix two images */
    if (found && memcmp(old, backup_id, 16)) return ERR_DBOFFLINE;
    if (fsetxattr(sink->fd, MARK_XATTR, backup_id, 16, 0) == 0)
    {
        if (fsync(sink->fd) < 0) return nsf_status_from_errno(errno);
        sink->marked = 1;
        return 0;
    }
    if (errno != ENOTSUP) return nsf_status_from_errno(errno);
    /* no user xattrs here: a side file next to the copy */
    if (!sink->side_path[0]) side_mark_path(sink->fd, sink->side_path, sizeof(sink->side_path));
    if (!sink->side_path[0]) return ERR_NSF_CANT_BACKUP;
    /* ours (same id, from an interrupted apply), or a new one: whatever else is
     * there under that name is someone else's and goes */
    if ((mark_fd = open_side_mark(sink->fd, sink->side_path, O_WRONLY)) < 0)
    {
        if (errno != ENOENT) return nsf_status_from_errno(errno);
        if (unlink(sink->side_path) < 0 && errno != ENOENT) return nsf_status_from_errno(errno);
        if ((mark_fd = open(sink->side_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
            return nsf_status_from_errno(errno);
    }
    if (ftruncate(mark_fd, 0) < 0 || write(mark_fd, backup_id, 16) != 16 || fsync(mark_fd) < 0)
    {
        close(mark_fd);
        return ERR_IOERROR;
    }
    close(mark_fd);
    sync_parent(sink->side_path);
    sink->marked = sink->side_mark = 1;
    return 0;
}

/* Does the copy already hold these bytes?  Only pages in the page cache are
 * looked at (RWF_NOWAIT: no disk read is ever added to an apply).  When the
 * change info is applied right after the copy, most before-images are of
 * blocks written after the copy had read them: the copy already has the
 * Start bytes there, and rewriting them would only add scattered writes to
 * the final flush.  Skipping equal bytes changes nothing in the result, so
 * a repeated or resumed apply stays what it was. */
static int copy_holds(struct nsf_posix_sink *sink, uint64_t offset, const void *data, uint32_t size)
{
    struct iovec iov;
    ssize_t got;

    if (size > NSF_CI_MAX_RECORD) return 0;
    if (!sink->scratch && !(sink->scratch = malloc(NSF_CI_MAX_RECORD))) return 0;
    iov.iov_base = sink->scratch;
    iov.iov_len = size;
    got = preadv2(sink->fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
    return got == (ssize_t)size && !memcmp(sink->scratch, data, size);
}

static nsf_status sink_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
    struct nsf_posix_sink *sink = opaque;
    uint32_t done = 0;

    if (copy_holds(sink, offset, data, size)) return 0;
    while (done < size)
    {
        ssize_t n = pwrite(sink->fd, (const char *)data + done, size - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? nsf_status_from_errno(errno) : ERR_IOERROR;
        done += n;
    }
    return 0;
}

/* Zeros: punch a hole (a hole at Start stays one), else write them - but
 * only below the copy's end: past it finish()'s truncate to the size at
 * Start gives zeros for nothing, and a 24-byte record must not make us
 * allocate a GiB (a ZERO record's length is the change info's word, not a
 * cost we accept). */
static nsf_status sink_zero(void *opaque, uint64_t offset, uint32_t size)
{
    struct nsf_posix_sink *sink = opaque;
    static const char zeros[65536];
    nsf_status status;
    uint32_t done = 0;
    struct stat st;

    if (!fallocate(sink->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, size)) return 0;
    if (fstat(sink->fd, &st) < 0) return nsf_status_from_errno(errno);
    if (offset >= (uint64_t)st.st_size) return 0;
    if (size > (uint64_t)st.st_size - offset) size = (uint32_t)((uint64_t)st.st_size - offset);
    while (done < size)
    {
        uint32_t piece = size - done < sizeof(zeros) ? size - done : sizeof(zeros);
        if ((status = sink_write(sink, offset + done, zeros, piece))) return status;
        done += piece;
    }
    return 0;
}

static nsf_status sink_finish(void *opaque, uint64_t start_size)
{
    struct nsf_posix_sink *sink = opaque;

    if (!sink->marked)
    {
        /* an empty change info still passes through begin(); never here unmarked */
        return ERR_CORRUPT_CHANGE_INFO;
    }
    if (ftruncate(sink->fd, (off_t)start_size) < 0 || fsync(sink->fd) < 0) return nsf_status_from_errno(errno);
    if (sink->side_mark)
    {
        if (unlink(sink->side_path) < 0 && errno != ENOENT) return nsf_status_from_errno(errno);
        sync_parent(sink->side_path);
    }
    else
    {
        if (fremovexattr(sink->fd, MARK_XATTR) < 0 && errno != ENODATA) return nsf_status_from_errno(errno);
        if (fsync(sink->fd) < 0) return nsf_status_from_errno(errno);
    }
    sink->marked = 0;
    return 0;
}

static void sink_close(void *opaque)
{
    struct nsf_posix_sink *sink = opaque;
    close(sink->fd);    /* the sink owns the descriptor it was opened with */
    free(sink->scratch);
    free(sink);
}

const struct nsf_apply_sink_ops nsf_posix_sink_ops = { sink_begin, sink_write, sink_zero, sink_finish, sink_close };
