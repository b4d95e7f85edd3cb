/*
 * One copy of a file for File History: the backup stream of the file
 * (libwinbackup's POSIX source and encoder) applied to a new file (its
 * decoder and POSIX sink), so named streams, EAs and the security
 * descriptor travel with the bytes, exactly as BackupRead/BackupWrite
 * carry them.  The copy works on fds: the source is opened once without
 * following a final symlink, the copy is created with O_EXCL | O_NOFOLLOW in
 * a directory fd of the target (Staging/), and nothing is synced here (the
 * cycle makes whole batches durable at once).
 *
 * A version must hold a state the file really had (issue 10).  Windows
 * takes a VSS snapshot; here:
 *
 *  1. Copy, then compare the file's fstat before and after (size, mtime,
 *     ctime, inode).  A write(2) or a metadata change moves ctime; a write
 *     through a shared mapping moves mtime/ctime only when it faults on a
 *     clean page (page_mkwrite -> file_update_time), so a page that is
 *     dirty already takes further writes silently.  Hence the file's dirty
 *     pages are written back first (settle_mapped_writes): writeback
 *     write-protects them, and any write through a mapping after the first
 *     fstat faults and moves the time stamps.  Equal, and
 *     the file's ctime older than the copy's start by more than the time
 *     stamp granularity: the copy is that state.  Why the granularity: the
 *     kernel stamps ctime from a coarse clock (a tick, 1-10 ms; 1-2 s on
 *     FAT and 1 s on old ext file systems, whose stamps have no sub-second
 *     part), so a write in the same tick as our first fstat leaves ctime as
 *     it was.  A file that is too recent for that ("racy", as git calls it)
 *     is copied again once the tick has passed.  The start time is read
 *     from CLOCK_REALTIME_COARSE, the clock the stamps come from, before the
 *     first fstat.
 *  2. When the file changed during the copy, take a reflink clone of it
 *     (FICLONE into an O_TMPFILE in its own directory: no name, no space,
 *     gone on a crash) where its file system allows that (XFS, btrfs), and
 *     copy the data from the clone, which no writer can touch, and the
 *     metadata from the file, read right after the clone.  The clone is the
 *     state of the fstat taken before it when a second fstat after it is
 *     equal; if that state is racy, the version is marked `unverified` so
 *     the catalog does not trust its time stamps (the next cycle copies it
 *     again rather than miss a write made in that tick).
 *  3. Otherwise, or when the clone keeps failing, try again (COPY_ATTEMPTS
 *     in all) and then give up with FH_COPY_BUSY: the cycle retries the file
 *     later and counts it as not backed up if it never rests.
 * A copy that did not verify is unlinked at once; none is ever reported
 * done.  A file that shrinks under the copy makes the encoder fail (the
 * stream announced more bytes): that is a change like any other.
 *
 * Errors are sorted by side: the encoder's (reading the file) are the
 * source's and cost the file only; the decoder's and the sink's (writing
 * the copy) are the target's, which the cycle sorts into target states.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <linux/fs.h>

#include "winbackup/winbackup.h"
#include "fh.h"

#define COPY_CHUNK (1u << 20)
#define COPY_ATTEMPTS 4
#define FINE_GRANULARITY_NS (20ll * 1000000)    /* a kernel tick is at most 10 ms */
#define COARSE_GRANULARITY_NS (2000ll * 1000000) /* FAT's 2 s */

int fh_copy_clone_enabled = 1;

/* Devices where FICLONE failed as unsupported: not tried again. */
static dev_t no_clone_devs[16];
static unsigned int no_clone_count;

static int64_t ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int same_state(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           ns(&a->st_mtim) == ns(&b->st_mtim) && ns(&a->st_ctim) == ns(&b->st_ctim) && S_ISREG(b->st_mode);
}

/* Can a write after `start` have left st's time stamps as they are? */
static int is_racy(const struct stat *st, const struct timespec *start)
{
    int64_t granularity = st->st_ctim.tv_nsec || st->st_mtim.tv_nsec ? FINE_GRANULARITY_NS : COARSE_GRANULARITY_NS;
    return ns(&st->st_ctim) + granularity > ns(start) || ns(&st->st_mtim) + granularity > ns(start);
}

/* Sleep until st is no longer racy (bounded by the granularity). */
static void wait_until_settled(const struct stat *st)
{
    struct timespec now;
    int64_t granularity = st->st_ctim.tv_nsec || st->st_mtim.tv_nsec ? FINE_GRANULARITY_NS : COARSE_GRANULARITY_NS;
    int64_t newest = ns(&st->st_ctim) > ns(&st->st_mtim) ? ns(&st->st_ctim) : ns(&st->st_mtim), left;

    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    left = newest + granularity - ns(&now) + 1000000;
    if (left > granularity + 1000000) left = granularity + 1000000;   /* a stamp in the future */
    if (left > 0)
    {
        struct timespec d = { left / 1000000000, left % 1000000000 };
        while (nanosleep(&d, &d) && errno == EINTR) ;
    }
}

/* ------------------------------------------------------------------ */
/* A source whose data comes from a clone and whose metadata from the file */

struct split_source
{
    struct wb_posix_source *meta;   /* the file: everything but the data */
    struct wb_posix_source *data;   /* the clone, or NULL: the file's data */
    int phase;                      /* 0: meta's SECURITY_DATA, 1: data's streams, 2: meta's rest */
    struct wb_source_stream held;   /* meta's stream that ended phase 0 */
    int have_held, meta_done;
    unsigned int alternate;         /* ALTERNATE_DATA streams passed on */
    struct fh_progress *progress;   /* sees the file's data bytes as they are read */
    int64_t counted;                /* data bytes read (and counted in progress) */
};

static int is_data(uint32_t id)
{
    return id == WB_BACKUP_DATA || id == WB_BACKUP_SPARSE_BLOCK;
}

static uint32_t split_next(void *opaque, struct wb_source_stream *stream)
{
    struct split_source *s = opaque;
    uint32_t ret;

    if (!s->data)
    {
        ret = wb_posix_source_ops.next(s->meta, stream);
        if (!ret && stream->id == WB_BACKUP_ALTERNATE_DATA) s->alternate++;
        return ret;
    }
    for (;;)
    {
        if (s->phase == 0)
        {
            if ((ret = wb_posix_source_ops.next(s->meta, &s->held)) == WB_ERROR_NO_MORE_ITEMS) s->meta_done = 1;
            else if (ret) return ret;
            else if (s->held.id == WB_BACKUP_SECURITY_DATA) { *stream = s->held; return WB_OK; }
            else s->have_held = 1;
            s->phase = 1;
        }
        if (s->phase == 1)
        {
            if ((ret = wb_posix_source_ops.next(s->data, stream)) != WB_ERROR_NO_MORE_ITEMS)
            {
                if (ret || is_data(stream->id)) return ret;
                continue;   /* a clone has no metadata of its own to give */
            }
            s->phase = 2;
        }
        if (s->have_held)
        {
            s->have_held = 0;
            if (is_data(s->held.id)) continue;
            *stream = s->held;
        }
        else if (s->meta_done) return WB_ERROR_NO_MORE_ITEMS;
        else if ((ret = wb_posix_source_ops.next(s->meta, stream)) == WB_ERROR_NO_MORE_ITEMS) { s->meta_done = 1; return ret; }
        else if (ret) return ret;
        else if (is_data(stream->id)) continue;
        if (stream->id == WB_BACKUP_ALTERNATE_DATA) s->alternate++;
        return WB_OK;
    }
}

static uint32_t split_read(void *opaque, uint64_t offset, void *buffer, uint32_t size, uint32_t *done)
{
    struct split_source *s = opaque;
    uint32_t ret = wb_posix_source_ops.read(s->data ? s->data : s->meta, offset, buffer, size, done);
    /* only file data reaches read(): metadata comes as blobs */
    if (!ret && *done)
    {
        s->counted += *done;
        if (s->progress)
        {
            fh_progress_add(&s->progress->bytes_copied, *done);
            fh_progress_add(&s->progress->bytes_done, *done);
        }
    }
    return ret;
}

static const struct wb_source_ops split_ops = { split_next, split_read };

/* Named streams the file holds (user.DosStream.<name>:$DATA xattrs): what
 * the source should pass on. */
static unsigned int named_streams(int fd)
{
    static const char prefix[] = "user.DosStream.", suffix[] = ":$DATA";
    char small[4096], *list = small;
    ssize_t len = flistxattr(fd, small, sizeof(small));
    unsigned int n = 0;

    if (len < 0 && errno == ERANGE && (len = flistxattr(fd, NULL, 0)) > 0 && (list = malloc(len)))
        len = flistxattr(fd, list, len);
    for (ssize_t i = 0; len > 0 && i < len; i += strlen(list + i) + 1)
    {
        size_t l = strlen(list + i);
        if (l > sizeof(prefix) - 1 + sizeof(suffix) - 1 && !strncmp(list + i, prefix, sizeof(prefix) - 1) &&
            !strcmp(list + i + l - (sizeof(suffix) - 1), suffix))
            n++;
    }
    if (list != small) free(list);
    return n;
}

/* ------------------------------------------------------------------ */

enum attempt { ATTEMPT_OK, ATTEMPT_SOURCE, ATTEMPT_TARGET, ATTEMPT_NOMEM };

/* One copy of src_fd (its data from data_fd when that is not -1) into the
 * new file name in dir_fd; the file is removed again on failure. */
static enum attempt copy_attempt(int src_fd, int data_fd, int dir_fd, const char *name, struct fh_progress *progress,
                                 struct fh_copy_outcome *out, int64_t *counted)
{
    struct split_source split;
    struct wb_posix_sink_options options = { 0 };
    struct wb_posix_sink *sink = NULL;
    struct wb_encoder *encoder = NULL;
    struct wb_decoder *decoder = NULL;
    uint8_t *buffer = NULL;
    enum attempt result = ATTEMPT_OK;
    uint32_t status, done;
    int dst;

    memset(&split, 0, sizeof(split));
    split.progress = progress;
    *counted = 0;
    if ((dst = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
    {
        out->error = wb_win32_error_from_errno(errno);
        return errno == ENOMEM ? ATTEMPT_NOMEM : ATTEMPT_TARGET;
    }
    if ((status = wb_posix_source_open(src_fd, WB_SECURITY, &split.meta)) ||
        (data_fd >= 0 && (status = wb_posix_source_open(data_fd, 0, &split.data))))
    {
        out->error = status;
        result = status == WB_ERROR_NOT_ENOUGH_MEMORY ? ATTEMPT_NOMEM : ATTEMPT_SOURCE;
        goto done;
    }
    if ((status = wb_posix_sink_open(dst, WB_SECURITY | WB_NO_SYNC, &options, &sink)))
    {
        out->error = status;
        result = status == WB_ERROR_NOT_ENOUGH_MEMORY ? ATTEMPT_NOMEM : ATTEMPT_TARGET;
        goto done;
    }
    if (!(buffer = malloc(COPY_CHUNK)) || !(encoder = wb_encoder_new(&split_ops, &split)) ||
        !(decoder = wb_decoder_new(&wb_posix_sink_ops, sink, WB_DECODE_SECURITY)))
    {
        out->error = WB_ERROR_NOT_ENOUGH_MEMORY;
        result = ATTEMPT_NOMEM;
        goto done;
    }
    for (;;)
    {
        if ((status = wb_encoder_read(encoder, buffer, COPY_CHUNK, &done)))
        {
            out->error = status;
            result = status == WB_ERROR_NOT_ENOUGH_MEMORY ? ATTEMPT_NOMEM : ATTEMPT_SOURCE;
            goto done;
        }
        if (!done) break;
        if ((status = wb_decoder_write(decoder, buffer, done)))
        {
            out->error = status;
            result = status == WB_ERROR_NOT_ENOUGH_MEMORY ? ATTEMPT_NOMEM : ATTEMPT_TARGET;
            goto done;
        }
    }
    if (!wb_decoder_at_boundary(decoder)) status = WB_ERROR_HANDLE_EOF;
    else status = wb_posix_sink_finish(sink);
    if (status)
    {
        out->error = status;
        result = status == WB_ERROR_NOT_ENOUGH_MEMORY ? ATTEMPT_NOMEM : ATTEMPT_TARGET;
    }
    else
    {
        unsigned int held = named_streams(src_fd);
        out->dropped = held > split.alternate ? held - split.alternate : 0;
    }
done:
    *counted = split.counted;
    wb_decoder_free(decoder);
    wb_encoder_free(encoder);
    if (sink) wb_posix_sink_close(sink);
    if (split.meta) wb_posix_source_close(split.meta);
    if (split.data) wb_posix_source_close(split.data);
    free(buffer);
    close(dst);
    if (result != ATTEMPT_OK)
    {
        unlinkat(dir_fd, name, 0);
        if (progress) fh_progress_add(&progress->bytes_done, -*counted);
        *counted = 0;
    }
    return result;
}

/* A reflink clone of src_fd in an unnamed file next to path; -1 (errno) if
 * none can be made, with no_clone_devs updated when the file system cannot. */
static int clone_of(const char *path, int src_fd, const struct stat *st)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd;

    if (!fh_copy_clone_enabled) { errno = EOPNOTSUPP; return -1; }
    for (unsigned int i = 0; i < no_clone_count; i++) if (no_clone_devs[i] == st->st_dev) { errno = EOPNOTSUPP; return -1; }
    if (!slash || !(dir = slash == path ? strdup("/") : strndup(path, slash - path))) { errno = ENOMEM; return -1; }
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    free(dir);
    if (fd >= 0 && ioctl(fd, FICLONE, src_fd))
    {
        int e = errno;
        close(fd);
        fd = -1;
        errno = e;
    }
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY || errno == EISDIR) &&
        no_clone_count < sizeof(no_clone_devs) / sizeof(*no_clone_devs))
        no_clone_devs[no_clone_count++] = st->st_dev;
    return fd;
}

/* Write back fd's dirty pages (and wait), so each page of a shared mapping
 * is clean and write-protected when the fstat that starts an attempt is
 * taken: a later write through the mapping faults, which updates the time
 * stamps the attempt is checked with.  No device cache flush and no
 * metadata: a file with no dirty page costs one walk of its page cache
 * tags.  What is left is the time stamp granularity of that update, which
 * is_racy() covers as for write(2).  A file system without writeback (or an
 * error) just keeps the old behaviour; the copy is still checked. */
static void settle_mapped_writes(int fd)
{
    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}

static void finish(struct fh_copy_outcome *out, enum fh_copy_status status, int src_fd)
{
    out->status = status;
    if (src_fd >= 0) close(src_fd);
}

void fh_copy_version(const char *path, int dir_fd, const char *name, struct fh_progress *progress,
                     struct fh_copy_outcome *out)
{
    struct stat before, after;
    struct timespec start;
    int64_t counted;
    int src_fd, clone_failed = 0;
    enum attempt r;

    memset(out, 0, sizeof(*out));
    src_fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
    if (src_fd < 0 && errno == EPERM) src_fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (src_fd < 0)
    {
        int e = errno;
        out->error = wb_win32_error_from_errno(e);
        if (e == ENOENT || e == ENOTDIR || e == ELOOP) return finish(out, FH_COPY_GONE, -1);
        return finish(out, e == ENOMEM ? FH_COPY_NO_MEMORY : FH_COPY_SOURCE_ERROR, -1);
    }
    for (out->attempts = 1; out->attempts <= COPY_ATTEMPTS; out->attempts++)
    {
        settle_mapped_writes(src_fd);
        clock_gettime(CLOCK_REALTIME_COARSE, &start);
        if (fstat(src_fd, &before) || !S_ISREG(before.st_mode)) return finish(out, FH_COPY_GONE, src_fd);
        r = copy_attempt(src_fd, -1, dir_fd, name, progress, out, &counted);
        if (r == ATTEMPT_TARGET) return finish(out, FH_COPY_TARGET_ERROR, src_fd);
        if (r == ATTEMPT_NOMEM) return finish(out, FH_COPY_NO_MEMORY, src_fd);
        if (fstat(src_fd, &after)) return finish(out, FH_COPY_GONE, src_fd);
        if (r == ATTEMPT_OK && same_state(&before, &after) && !is_racy(&before, &start))
        {
            out->st = before;
            out->bytes = counted;
            return finish(out, FH_COPY_DONE, src_fd);
        }
        if (r == ATTEMPT_OK)
        {
            unlinkat(dir_fd, name, 0);
            if (progress) fh_progress_add(&progress->bytes_done, -counted);
        }
        else if (same_state(&before, &after)) return finish(out, FH_COPY_SOURCE_ERROR, src_fd);   /* not a change: a read error */
        if (same_state(&before, &after))
        {
            /* only too recent to prove: copy it again once its tick has passed */
            wait_until_settled(&after);
            continue;
        }
        /* it changed under the copy: a clone cannot */
        if (!clone_failed)
        {
            for (int tries = 0; tries < 3; tries++)
            {
                struct stat cloned;
                int clone_fd;

                settle_mapped_writes(src_fd);
                clock_gettime(CLOCK_REALTIME_COARSE, &start);
                if (fstat(src_fd, &before) || !S_ISREG(before.st_mode)) return finish(out, FH_COPY_GONE, src_fd);
                if ((clone_fd = clone_of(path, src_fd, &before)) < 0)
                {
                    if (errno == ENOMEM) return finish(out, FH_COPY_NO_MEMORY, src_fd);
                    clone_failed = 1;
                    break;
                }
                if (fstat(src_fd, &cloned) || !same_state(&before, &cloned)) { close(clone_fd); continue; }
                r = copy_attempt(src_fd, clone_fd, dir_fd, name, progress, out, &counted);
                close(clone_fd);
                if (r == ATTEMPT_TARGET) return finish(out, FH_COPY_TARGET_ERROR, src_fd);
                if (r == ATTEMPT_NOMEM) return finish(out, FH_COPY_NO_MEMORY, src_fd);
                if (r == ATTEMPT_OK)
                {
                    out->st = before;
                    out->bytes = counted;
                    out->cloned = 1;
                    out->unverified = is_racy(&before, &start);
                    return finish(out, FH_COPY_DONE, src_fd);
                }
            }
        }
        /* back off a little: a burst of writes may end */
        usleep(2000u << out->attempts);
    }
    out->attempts = COPY_ATTEMPTS;
    finish(out, FH_COPY_BUSY, src_fd);
}

/* Owner, group and mode of a restored file (dst, opened on a new file made
 * with mode 0666 under the umask: born_mode).  The version on the target
 * is someone else's disk: its owner, its mode and its stored security
 * descriptor (user.wine.sd) are whatever that disk says, so none of them
 * decides anything here.  A file that replaces one keeps that file's owner,
 * group and permission bits (the user's own, local choice); a new file is
 * the restorer's, with the version's permission bits limited by the umask
 * (an honest disk gives a private file back private, a crafted one can only
 * make it more private).  Never setuid, setgid or sticky. */
static uint32_t set_restored_owner(int dst, const struct stat *replaced, mode_t born_mode, mode_t version_mode)
{
    mode_t mode = (version_mode & born_mode) & 0777;

    if (replaced)
    {
        mode = replaced->st_mode & 0777;
        /* a user who may not give files away (not root) keeps the file; a
         * group of theirs is still given */
        if (fchown(dst, replaced->st_uid, replaced->st_gid) && errno == EPERM)
            fchown(dst, -1, replaced->st_gid);
    }
    if (fchmod(dst, mode)) return wb_win32_error_from_errno(errno);
    return WB_OK;
}

uint32_t fh_copy_restore(int src_fd, int dest_dir_fd, const char *name)
{
    struct wb_posix_sink_options options = { 0 };
    struct wb_posix_source *source = NULL;
    struct wb_posix_sink *sink = NULL;
    struct wb_encoder *encoder = NULL;
    struct wb_decoder *decoder = NULL;
    uint8_t *buffer = NULL;
    char tmp[64], rnd[17];
    uint32_t status = WB_OK, done;
    struct stat st, born, replaced;
    int dst = -1, replacing;

    if (fstat(src_fd, &st)) return wb_win32_error_from_errno(errno);
    if (!S_ISREG(st.st_mode)) return WB_ERROR_ACCESS_DENIED;   /* versions are regular files, nothing else is copied */
    replacing = !fstatat(dest_dir_fd, name, &replaced, AT_SYMLINK_NOFOLLOW) && S_ISREG(replaced.st_mode);
    for (int attempt = 0; attempt < 8 && dst < 0; attempt++)
    {
        if (fh_random_hex(rnd, 8)) return wb_win32_error_from_errno(errno);
        snprintf(tmp, sizeof(tmp), ".filehistory-restore.%s", rnd);
        /* 0666 under the umask (and a default ACL) shows the mode a new
         * file gets here; the file is private until it is complete */
        dst = openat(dest_dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (dst < 0 && errno != EEXIST) return wb_win32_error_from_errno(errno);
    }
    if (dst < 0) return WB_ERROR_FILE_EXISTS;
    if (fstat(dst, &born) || fchmod(dst, 0600))
    {
        status = wb_win32_error_from_errno(errno);
        goto done;
    }
    /* no WB_SECURITY on either side: see set_restored_owner() */
    if ((status = wb_posix_source_open(src_fd, 0, &source)) ||
        (status = wb_posix_sink_open(dst, 0, &options, &sink)))
        goto done;
    if (!(buffer = malloc(COPY_CHUNK)) || !(encoder = wb_encoder_new(&wb_posix_source_ops, source)) ||
        !(decoder = wb_decoder_new(&wb_posix_sink_ops, sink, 0)))
    {
        status = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto done;
    }
    while (!(status = wb_encoder_read(encoder, buffer, COPY_CHUNK, &done)) && done)
        if ((status = wb_decoder_write(decoder, buffer, done))) break;
    if (!status && !wb_decoder_at_boundary(decoder)) status = WB_ERROR_HANDLE_EOF;
    if (!status) status = wb_posix_sink_finish(sink);
    if (!status) status = set_restored_owner(dst, replacing ? &replaced : NULL, born.st_mode, st.st_mode);
    if (!status && fsync(dst)) status = wb_win32_error_from_errno(errno);
    if (!status && renameat(dest_dir_fd, tmp, dest_dir_fd, name)) status = wb_win32_error_from_errno(errno);
    if (!status) fsync(dest_dir_fd);
done:
    wb_decoder_free(decoder);
    wb_encoder_free(encoder);
    if (sink) wb_posix_sink_close(sink);
    if (source) wb_posix_source_close(source);
    free(buffer);
    close(dst);
    if (status) unlinkat(dest_dir_fd, tmp, 0);
    return status;
}
