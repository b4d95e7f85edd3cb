/*
 * The recorder: what makes "copy + change info == file at Start" true for
 * a file other processes keep writing (docs/nsf-backup.md).
 *
 * One nsf_recorder holds the whole state of one backup.  States:
 *
 *   RECORDING --stop--> STOPPED (change info sized, encoder at byte 0)
 *                       --info_read...--> (encoder drains) ; end frees
 *
 * Strategies, chosen at Start:
 *
 *   reflink  FICLONE the file into an unnamed O_TMPFILE beside it (same
 *            file system; the kernel flushes and blocks writers during the
 *            clone, so it is a point-in-time image) at Start.  Every block
 *            of the file is shared with the Start clone after that, so any
 *            write, truncate, punch or extend before Stop gives the file a
 *            different mapping: at Stop the changed ranges are those where
 *            the clone's FIEMAP map and the live file's (FIEMAP_FLAG_SYNC)
 *            differ (another physical address, or data where the clone had
 *            data and the file a hole; extents whose address is not
 *            trustworthy - inline, delalloc, encoded, unknown - count as
 *            changed; so does everything past the file's size at Stop,
 *            since a truncation to a size that is not a block multiple can
 *            keep the block holding the new EOF at its address).
 *            Before-images are read from the Start clone.  Holes (and
 *            unwritten extents) of the Start clone are always recorded, as
 *            ZERO records without payload: a hole can be filled and punched
 *            again before Stop, leaving both maps equal while the copy read
 *            the data in between.  The live file is walked in pieces as
 *            the high-water mark passes them (walk_to_mark: what changes
 *            below the mark afterwards is in the copy as it was at Start)
 *            and the ranges kept (walk_live_range); the rest - all of it
 *            without a mark, or after more than KEPT_RANGES_MAX ranges - is
 *            compared at Stop against a second clone, an image of one
 *            instant (a remap between two FIEMAP calls of a live walk could
 *            put a Start address back).  The walks hold a few hundred
 *            extents at a time, whatever the file size.  Remaps into the
 *            file before its range is looked at can hide a change: see
 *            docs/nsf-backup.md, "Limit".
 *
 *   lease    where FICLONE fails (ext4, tmpfs): a read lease, which the
 *            kernel grants only while no process holds the file open for
 *            writing (else ERR_NSF_CANT_BACKUP at Start).  A process that
 *            then opens it for writing (or truncates it) is blocked until
 *            the lease is released; the lease break is a signal to a thread
 *            of ours, which copies [high-water mark, size at Start) into an
 *            unnamed side file, checks in /proc/locks that the lease was
 *            still held (not revoked by lease-break-time) when the copy
 *            ended, then releases it.  Below the mark the caller's copy was
 *            made before any write could happen; above it the side file
 *            holds the Start image.  A revoked lease fails the backup
 *            (ERR_NSF_CANT_BACKUP at Stop) instead of producing a copy that
 *            is not a point-in-time image.  open(O_RDONLY | O_TRUNC) cuts a
 *            file without breaking a read lease: a save that finds the file
 *            shorter than at Start, or a size that changed by Stop without a
 *            break, fails the backup the same way.
 *
 * One backup per inode at a time, across processes: an OFD read lock on a
 * byte far past any data (LOCK_OFFSET) marks a running backup; after taking
 * ours we look for any other owner's lock of exactly that byte (other
 * programs' whole-file locks cover it too, and are no backups).  OFD locks die with the
 * descriptor, so a killed backup leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include "posix_nsf.h"
#include "nsferr.h"
#include "oserr.h"

#define LOCK_OFFSET     ((off_t)0x7fffffffffff0000LL)
#define FIEMAP_BATCH    256
#define UNTRUSTED_EXTENT (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED | \
                          FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_NOT_ALIGNED | \
                          FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL)
#define LEASE_SIGNAL    (SIGRTMAX - 5)

/* ---------------------------------------------------------------- FIEMAP walk */

struct fiemap_cursor
{
    int fd;
    uint64_t limit;                 /* size at Start: nothing past it matters */
    uint64_t size;                  /* the clone's own size: past it a hole, whatever the block holding its EOF maps */
    struct fiemap *map;
    uint32_t count, index;
    uint64_t from, to;              /* what the buffered extents describe */
    int valid;
};

struct piece
{
    int hole;                       /* a hole, or an unwritten extent: reads as zeros */
    int trusted;
    uint64_t physical;              /* of the piece's first byte */
    uint64_t end;
};

static nsf_status cursor_fetch(struct fiemap_cursor *c, uint64_t pos)
{
    struct fiemap_extent *last;

    memset(c->map, 0, sizeof(*c->map));
    c->map->fm_start = pos;
    c->map->fm_length = c->limit - pos;
    c->map->fm_flags = FIEMAP_FLAG_SYNC;
    c->map->fm_extent_count = FIEMAP_BATCH;
    if (ioctl(c->fd, FS_IOC_FIEMAP, c->map) < 0) return nsf_status_from_errno(errno);
    c->count = c->map->fm_mapped_extents;
    c->index = 0;
    c->from = pos;
    c->to = c->limit;
    if (c->count == FIEMAP_BATCH)
    {
        last = &c->map->fm_extents[c->count - 1];
        if (!(last->fe_flags & FIEMAP_EXTENT_LAST) && last->fe_logical + last->fe_length < c->limit)
            c->to = last->fe_logical + last->fe_length;
    }
    if (c->to <= pos) c->to = c->limit;
    c->valid = 1;
    return 0;
}

/* The piece of the map that starts at pos: ends where its extent (or hole) ends. */
static nsf_status cursor_piece(struct fiemap_cursor *c, uint64_t pos, struct piece *p)
{
    struct fiemap_extent *e;
    nsf_status status;

    if (pos >= c->size)
    {
        /* past EOF: a truncation to a size that is not a block multiple may keep
         * the block that holds the new EOF (btrfs does), and with it its address,
         * while the bytes after EOF are gone */
        p->hole = 1;
        p->end = c->limit;
        return 0;
    }
    if (!c->valid || pos < c->from || pos >= c->to)
        if ((status = cursor_fetch(c, pos))) return status;
    while (c->index < c->count &&
           c->map->fm_extents[c->index].fe_logical + c->map->fm_extents[c->index].fe_length <= pos)
        c->index++;
    if (c->index == c->count)
    {
        p->hole = 1;
        p->end = c->to;
    }
    else if ((e = &c->map->fm_extents[c->index])->fe_logical > pos)
    {
        p->hole = 1;
        p->end = e->fe_logical;
    }
    else
    {
        p->hole = !!(e->fe_flags & FIEMAP_EXTENT_UNWRITTEN);
        p->trusted = !(e->fe_flags & UNTRUSTED_EXTENT);
        p->physical = e->fe_physical + (pos - e->fe_logical);
        p->end = e->fe_logical + e->fe_length;
    }
    if (p->end > c->limit) p->end = c->limit;
    if (p->end > c->size) p->end = c->size;
    return 0;
}

/* ---------------------------------------------------------------- recorder */

enum lease_state { LEASE_WATCHING, LEASE_SAVED, LEASE_FAILED, LEASE_RELEASED };

struct kept_range
{
    uint64_t offset, length;
    int zero;
};

/* At most this many ranges are kept in memory from the walk against the
 * live file at Stop (24 bytes each: 1.5 MiB); a file that changed in more
 * places gets the Stop clone instead, walked twice at no memory cost.
 * WINBACKUP_NSF_DIFF_RANGES overrides it (0: always the Stop clone), for
 * tests of both ways. */
#define KEPT_RANGES_MAX 65536

struct nsf_recorder
{
    int fd;                         /* our own read-only descriptor: lock and lease live on it */
    struct stat st;
    enum nsf_recorder_kind kind;
    struct nsf_ci_header header;
    int stopped;
    /* reflink */
    int clone_start, clone_stop;
    struct fiemap_cursor cur_start, cur_stop;
    uint64_t pos;                   /* range source cursor */
    uint64_t walk_end;              /* diff_next stops here */
    struct kept_range *kept;        /* ranges found against the live file, in order */
    size_t kept_count, kept_alloc, kept_index;
    uint64_t covered;               /* [0, covered) walked when the high-water mark passed it */
    int kept_failed;                /* too many ranges, or a walk failed: the Stop clone */
    int walks_closed;               /* Stop has begun: the mark walks no more */
    /* lease */
    pthread_t thread;
    int thread_running;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    pid_t tid;
    int stop_request;
    uint64_t mark;                  /* high-water mark, atomically updated */
    enum lease_state lease_state;
    nsf_status lease_error;
    int side_fd;
    uint64_t saved_from;
    int save_begun;                 /* the lease broke: the save reads the mark (atomic) */
    uint64_t mark_after_save;       /* the lowest mark set once the save began (atomic) */
    int range_given;
    char names[2][PATH_MAX];        /* names clients may read the file by ("" if none) */
    int dir_fd;                     /* the file's directory at Start (O_PATH), for clones and side files */
    /* change info */
    struct nsf_ci_encoder *encoder;
    uint64_t info_size;
};

enum nsf_recorder_kind nsf_recorder_kind(const struct nsf_recorder *rec) { return rec->kind; }

/* An unnamed file beside the backed-up one: in its directory as it was at
 * Start, even if that directory has been renamed since. */
static int open_tmpfile_beside(struct nsf_recorder *rec)
{
    if (rec->dir_fd >= 0) return openat(rec->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return -1;
}

static int open_tmpfile(const char *dir)
{
    int fd = -1;
    if (dir[0]) fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && dir[0] && errno != EACCES && errno != EROFS && errno != EPERM) return -1;
    return fd;
}

/* The file's path from /proc/self/fd, "" if unknown or unlinked (the link
 * then ends in " (deleted)", which a live name may also do: st_nlink says). */
static void file_path(int fd, const struct stat *st, char *out, size_t size)
{
    char link[64];
    ssize_t len;

    out[0] = 0;
    if (!st->st_nlink) return;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((len = readlink(link, out, size - 1)) <= 0) { out[0] = 0; return; }
    out[len] = 0;
    if (out[0] != '/') out[0] = 0;
}

static nsf_status check_names(struct nsf_recorder *rec);

/* The names clients read the file by (the one given to NSFDbOpen, and the
 * full path NSFDbPathGet hands out), checked now and at Stop. */
nsf_status nsf_recorder_names(struct nsf_recorder *rec, const char *opened, const char *full)
{
    snprintf(rec->names[0], sizeof(rec->names[0]), "%s", opened ? opened : "");
    snprintf(rec->names[1], sizeof(rec->names[1]), "%s", full ? full : "");
    return check_names(rec);
}

/* Do the names clients read the file by still name it?  Clients read the
 * file by its name (HCL's dbbackup sample opens it after NSFBackupStart); a
 * file renamed over it ("save as new, rename over the old": compaction does
 * it), a symlink re-pointed, or the name moved away would have them copy
 * another file, which the change info of this one cannot correct - a wrong
 * copy that looks good.  A name that no longer exists fails too: the client
 * may have read a replacement that was removed since.  Checked at Start and
 * at Stop; a file renamed over and back in between is not seen. */
static nsf_status check_names(struct nsf_recorder *rec)
{
    struct stat now;
    int i;

    for (i = 0; i < 2; i++)
    {
        if (!rec->names[i][0]) continue;
        if (stat(rec->names[i], &now) < 0 || now.st_dev != rec->st.st_dev || now.st_ino != rec->st.st_ino)
            return ERR_NSF_CANT_BACKUP;
    }
    return 0;
}

/* The directory of the file at path, as an O_PATH descriptor (for clones
 * and side files, even once the directory is renamed), -1 if unknown. */
static int open_directory(const char *path)
{
    char dir[PATH_MAX], *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    if (!dir[0] || !(slash = strrchr(dir, '/'))) return -1;
    if (slash == dir) slash++;
    *slash = 0;
    return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static nsf_status start_reflink(struct nsf_recorder *rec)
{
    struct stat st;

    if ((rec->clone_start = open_tmpfile_beside(rec)) < 0) return ERR_NSF_CANT_BACKUP;
    if (ioctl(rec->clone_start, FICLONE, rec->fd) < 0 || fstat(rec->clone_start, &st) < 0)
    {
        close(rec->clone_start);
        rec->clone_start = -1;
        return ERR_NSF_CANT_BACKUP;
    }
    rec->header.start_size = st.st_size;
    rec->kind = NSF_RECORDER_REFLINK;
    return 0;
}

/* The device /proc/locks names the file by: its superblock's, which is not
 * st_dev everywhere (btrfs gives each subvolume a device of its own).  The
 * file's mount in /proc/self/mountinfo has it; st_dev if that fails. */
static void locks_device(struct nsf_recorder *rec, unsigned int *dev_major, unsigned int *dev_minor)
{
    char path[64], line[4096];
    unsigned int maj, min;
    int mnt_id = -1, id;
    FILE *f;

    *dev_major = major(rec->st.st_dev);
    *dev_minor = minor(rec->st.st_dev);
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", rec->fd);
    if (!(f = fopen(path, "re"))) return;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "mnt_id: %d", &mnt_id) == 1) break;
    fclose(f);
    if (mnt_id < 0 || !(f = fopen("/proc/self/mountinfo", "re"))) return;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%d %*d %u:%u", &id, &maj, &min) == 3 && id == mnt_id)
        {
            *dev_major = maj;
            *dev_minor = min;
            break;
        }
    fclose(f);
}

/* How many OFD read locks sit exactly on the backup byte of the file, per
 * /proc/locks (ours included); -1 if unknown. */
static int backup_locks_on_byte(struct nsf_recorder *rec)
{
    char line[256], want[96];
    unsigned int dev_major, dev_minor;
    FILE *locks = fopen("/proc/locks", "re");
    int count = 0;

    if (!locks) return -1;
    locks_device(rec, &dev_major, &dev_minor);
    snprintf(want, sizeof(want), " %02x:%02x:%lu %lld %lld", dev_major, dev_minor, (unsigned long)rec->st.st_ino,
             (long long)LOCK_OFFSET, (long long)LOCK_OFFSET);
    while (fgets(line, sizeof(line), locks))
        if (strstr(line, "OFDLCK") && strstr(line, " READ ") && strstr(line, want)) count++;
    fclose(locks);
    return count;
}

/* One backup per inode: our OFD read lock on the backup byte, then is there
 * another's?  Locks that merely cover the byte are other programs' (a
 * reader's or writer's whole-file lock), not backups: only a lock of exactly
 * that byte counts (a backup's read lock, an apply's write lock). */
static nsf_status take_backup_lock(struct nsf_recorder *rec)
{
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = LOCK_OFFSET, .l_len = 1 };

    if (fcntl(rec->fd, F_OFD_SETLK, &lock) < 0)
    {
        if (errno != EAGAIN && errno != EACCES) return nsf_status_from_errno(errno);
        /* a write lock covers the byte: an apply's, or a whole-file one, which
         * no backup's read lock could coexist with - then no backup runs, and
         * this one goes without its mark */
        if (fcntl(rec->fd, F_OFD_GETLK, &lock) < 0) return nsf_status_from_errno(errno);
        return lock.l_type != F_UNLCK && lock.l_start == LOCK_OFFSET && lock.l_len == 1 ?
               ERR_BACKUP_ALREADY_IN_PROGRESS : 0;
    }
    memset(&lock, 0, sizeof(lock));
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = LOCK_OFFSET;
    lock.l_len = 1;
    if (fcntl(rec->fd, F_OFD_GETLK, &lock) < 0) return nsf_status_from_errno(errno);
    if (lock.l_type == F_UNLCK) return 0;
    if (lock.l_start == LOCK_OFFSET && lock.l_len == 1) return ERR_BACKUP_ALREADY_IN_PROGRESS;
    /* a lock covering the byte answered first; another backup's may hide behind it */
    return backup_locks_on_byte(rec) > 1 ? ERR_BACKUP_ALREADY_IN_PROGRESS : 0;
}

/* Is our lease still in /proc/locks (active or breaking)? */
static int lease_still_held(struct nsf_recorder *rec)
{
    char line[256], want[64];
    FILE *locks = fopen("/proc/locks", "re");
    unsigned int dev_major, dev_minor;
    int held = 0;

    if (!locks) return 0;
    locks_device(rec, &dev_major, &dev_minor);
    snprintf(want, sizeof(want), " %d %02x:%02x:%lu ", (int)getpid(), dev_major, dev_minor,
             (unsigned long)rec->st.st_ino);
    while (!held && fgets(line, sizeof(line), locks))
        if (strstr(line, "LEASE") && strstr(line, want)) held = 1;
    fclose(locks);
    return held;
}

static nsf_status copy_range(int from_fd, int to_fd, uint64_t offset, uint64_t end)
{
    static const size_t chunk = 1 << 20;
    char *buffer = NULL;
    nsf_status status = 0;

    while (offset < end)
    {
        loff_t in = offset, out = offset;
        size_t want = end - offset < chunk ? end - offset : chunk;
        ssize_t done = buffer ? -1 : copy_file_range(from_fd, &in, to_fd, &out, want, 0);
        if (done < 0 && !buffer && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
        {
            if (!(buffer = malloc(chunk))) return ERR_MEMORY;
            continue;
        }
        if (buffer)
        {
            done = pread(from_fd, buffer, want, offset);
            if (done > 0 && pwrite(to_fd, buffer, done, offset) != done) done = -1;
        }
        if (done < 0)
        {
            if (errno == EINTR) continue;
            status = nsf_status_from_errno(errno);
            break;
        }
        if (!done)
        {
            /* shorter than at Start, yet no writer got past the lease: truncated by
             * open(O_RDONLY | O_TRUNC), which breaks no read lease */
            status = ERR_NSF_CANT_BACKUP;
            break;
        }
        offset += done;
    }
    free(buffer);
    return status;
}

/* The lease is breaking: a writer waits in open().  Save what the copy may still read. */
static void save_before_writer(struct nsf_recorder *rec)
{
    uint64_t from;

    /* With the mark's store and load in nsf_recorder_mark (all seq_cst):
     * either this load sees a mark set meanwhile, or that call sees
     * save_begun and leaves its mark in mark_after_save for Stop to judge. */
    __atomic_store_n(&rec->save_begun, 1, __ATOMIC_SEQ_CST);
    from = __atomic_load_n(&rec->mark, __ATOMIC_SEQ_CST);
    nsf_status status = 0;

    if (from > rec->header.start_size) from = rec->header.start_size;
    rec->side_fd = open_tmpfile_beside(rec);
    if (rec->side_fd < 0) rec->side_fd = open_tmpfile(P_tmpdir);
    if (rec->side_fd < 0) status = nsf_status_from_errno(errno);
    if (!status) status = copy_range(rec->fd, rec->side_fd, from, rec->header.start_size);
    if (!status && !lease_still_held(rec)) status = ERR_NSF_CANT_BACKUP;   /* revoked before we were done */
    fcntl(rec->fd, F_SETLEASE, F_UNLCK);
    rec->saved_from = from;
    rec->lease_error = status;
    rec->lease_state = status ? LEASE_FAILED : LEASE_SAVED;
}

static void *lease_thread(void *arg)
{
    struct nsf_recorder *rec = arg;
    struct timespec wait = { 0, 20 * 1000 * 1000 };
    siginfo_t info;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, LEASE_SIGNAL);
    pthread_mutex_lock(&rec->mutex);
    rec->tid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&rec->cond);
    pthread_mutex_unlock(&rec->mutex);
    for (;;)
    {
        int sig = sigtimedwait(&set, &info, &wait);
        if (sig == LEASE_SIGNAL && rec->lease_state == LEASE_WATCHING) save_before_writer(rec);
        if (__atomic_load_n(&rec->stop_request, __ATOMIC_ACQUIRE)) break;
    }
    if (rec->lease_state == LEASE_WATCHING)
    {
        /* Nothing broke the lease, so nothing wrote - unless an open(O_RDONLY |
         * O_TRUNC) cut the file, which breaks no read lease: the size tells, and
         * is checked before the lease goes, while no writer can have changed it. */
        struct stat st;
        if (fstat(rec->fd, &st) < 0 || (uint64_t)st.st_size != rec->header.start_size)
        {
            rec->lease_error = ERR_NSF_CANT_BACKUP;
            rec->lease_state = LEASE_FAILED;
        }
        else rec->lease_state = LEASE_RELEASED;
        fcntl(rec->fd, F_SETLEASE, F_UNLCK);
    }
    return NULL;
}

static void stop_lease_thread(struct nsf_recorder *rec)
{
    if (!rec->thread_running) return;
    __atomic_store_n(&rec->stop_request, 1, __ATOMIC_RELEASE);
    pthread_join(rec->thread, NULL);
    rec->thread_running = 0;
}

static nsf_status start_lease(struct nsf_recorder *rec)
{
    struct f_owner_ex owner;
    sigset_t set, old;
    struct stat st;
    int err;

    /* the thread inherits the signal blocked: it only ever takes it with sigtimedwait */
    sigemptyset(&set);
    sigaddset(&set, LEASE_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    err = pthread_create(&rec->thread, NULL, lease_thread, rec);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) return ERR_THREAD_CREATE;
    rec->thread_running = 1;
    pthread_mutex_lock(&rec->mutex);
    while (!rec->tid) pthread_cond_wait(&rec->cond, &rec->mutex);
    pthread_mutex_unlock(&rec->mutex);

    owner.type = F_OWNER_TID;
    owner.pid = rec->tid;
    if (fcntl(rec->fd, F_SETOWN_EX, &owner) < 0 || fcntl(rec->fd, F_SETSIG, LEASE_SIGNAL) < 0 ||
        fcntl(rec->fd, F_SETLEASE, F_RDLCK) < 0)
    {
        rec->lease_state = LEASE_RELEASED;
        stop_lease_thread(rec);
        /* EAGAIN: open for writing somewhere; EACCES: not the owner and no CAP_LEASE;
         * EINVAL: no leases on this file system */
        return ERR_NSF_CANT_BACKUP;
    }
    /* no writer can exist from here on: the size is the size at Start */
    if (fstat(rec->fd, &st) < 0)
    {
        stop_lease_thread(rec);
        return nsf_status_from_errno(errno);
    }
    rec->header.start_size = st.st_size;
    rec->kind = NSF_RECORDER_LEASE;
    return 0;
}

nsf_status nsf_recorder_start(int fd, struct nsf_recorder **recorder, uint64_t *size)
{
    const char *only = getenv("WINBACKUP_NSF_RECORDER");
    struct nsf_recorder *rec;
    char link[64];
    nsf_status status;

    *recorder = NULL;
    if (!(rec = calloc(1, sizeof(*rec)))) return ERR_MEMORY;
    rec->clone_start = rec->clone_stop = rec->side_fd = rec->dir_fd = -1;
    rec->mark_after_save = UINT64_MAX;
    pthread_mutex_init(&rec->mutex, NULL);
    pthread_cond_init(&rec->cond, NULL);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((rec->fd = open(link, O_RDONLY | O_CLOEXEC)) < 0)
    {
        status = nsf_status_from_errno(errno);
        goto failed;
    }
    if (fstat(rec->fd, &rec->st) < 0)
    {
        status = nsf_status_from_errno(errno);
        goto failed;
    }
    if (!S_ISREG(rec->st.st_mode))
    {
        status = ERR_NOT_NSF;
        goto failed;
    }
    if ((status = take_backup_lock(rec))) goto failed;
    /* the name at Start, unless the platform tells the names clients use */
    file_path(rec->fd, &rec->st, rec->names[0], sizeof(rec->names[0]));
    rec->dir_fd = open_directory(rec->names[0]);
    if (getrandom(rec->header.backup_id, sizeof(rec->header.backup_id), 0) != sizeof(rec->header.backup_id))
    {
        status = ERR_UNKNOWN;
        goto failed;
    }
    rec->header.record_max = NSF_CI_MAX_RECORD;

    status = ERR_NSF_CANT_BACKUP;
    if (!only || strcmp(only, "lease")) status = start_reflink(rec);
    if (status && (!only || strcmp(only, "reflink"))) status = start_lease(rec);
    if (status) goto failed;
    *size = rec->header.start_size;
    *recorder = rec;
    return 0;

failed:
    nsf_recorder_end(rec);
    return status;
}

static void walk_to_mark(struct nsf_recorder *rec, uint64_t mark);

nsf_status nsf_recorder_mark(struct nsf_recorder *rec, uint64_t mark)
{
    /* the latest claim counts: "everything below this was copied" */
    __atomic_store_n(&rec->mark, mark, __ATOMIC_SEQ_CST);
    if (rec->kind == NSF_RECORDER_LEASE && __atomic_load_n(&rec->save_begun, __ATOMIC_SEQ_CST))
    {
        /* the caller will read [mark, ...) again, from a file writers have
         * been let at: only what the save holds is the Start image */
        uint64_t low = __atomic_load_n(&rec->mark_after_save, __ATOMIC_SEQ_CST);
        while (mark < low && !__atomic_compare_exchange_n(&rec->mark_after_save, &low, mark, 0,
                                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) ;
    }
    if (rec->kind == NSF_RECORDER_REFLINK)
    {
        pthread_mutex_lock(&rec->mutex);
        if (!rec->walks_closed) walk_to_mark(rec, mark);
        pthread_mutex_unlock(&rec->mutex);
    }
    return 0;
}

/* ---------------------------------------------------------------- range sources */

static nsf_status diff_rewind(void *opaque)
{
    struct nsf_recorder *rec = opaque;
    rec->pos = 0;
    rec->walk_end = rec->header.start_size;
    rec->cur_start.valid = rec->cur_stop.valid = 0;
    return 0;
}

/* Next range: a run of Start-clone holes (ZERO), or a run of Start-clone
 * data whose Stop-clone mapping differs (DATA).  Unchanged data is skipped. */
static nsf_status diff_next(void *opaque, uint64_t *offset, uint64_t *length, int *zero)
{
    struct nsf_recorder *rec = opaque;
    uint64_t limit = rec->walk_end, begin = 0;
    int in_range = 0, range_zero = 0;
    struct piece a, b;
    nsf_status status;

    while (rec->pos < limit)
    {
        uint64_t end;
        int record, kind_zero;
        if ((status = cursor_piece(&rec->cur_start, rec->pos, &a)) ||
            (status = cursor_piece(&rec->cur_stop, rec->pos, &b)))
            return status;
        end = a.end < b.end ? a.end : b.end;
        if (end > limit) end = limit;
        kind_zero = a.hole;
        record = a.hole || b.hole || !a.trusted || !b.trusted || a.physical != b.physical;
        if (in_range && (!record || kind_zero != range_zero)) break;
        if (record && !in_range)
        {
            begin = rec->pos;
            in_range = 1;
            range_zero = kind_zero;
        }
        rec->pos = end;
    }
    *offset = begin;
    *length = in_range ? rec->pos - begin : 0;
    *zero = range_zero;
    return 0;
}

static nsf_status clone_read(void *opaque, uint64_t offset, void *buffer, uint32_t size)
{
    struct nsf_recorder *rec = opaque;
    int fd = rec->kind == NSF_RECORDER_REFLINK ? rec->clone_start : rec->side_fd;
    uint32_t done = 0;

    while (done < size)
    {
        ssize_t got = pread(fd, (char *)buffer + done, size - done, offset + done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return nsf_status_from_errno(errno);
        if (!got)
        {
            memset((char *)buffer + done, 0, size - done);  /* past the end of a sparse side file: zeros */
            break;
        }
        done += got;
    }
    return 0;
}


static nsf_status saved_rewind(void *opaque)
{
    ((struct nsf_recorder *)opaque)->range_given = 0;
    return 0;
}

static nsf_status saved_next(void *opaque, uint64_t *offset, uint64_t *length, int *zero)
{
    struct nsf_recorder *rec = opaque;

    *offset = rec->saved_from;
    *length = 0;
    if (rec->lease_state == LEASE_SAVED && !rec->range_given) *length = rec->header.start_size - rec->saved_from;
    rec->range_given = 1;
    return 0;
}

static const struct nsf_range_source_ops saved_ops = { saved_rewind, saved_next, clone_read };

/* The ranges: those kept by the mark walks (below rec->covered), then those
 * where the Start clone and the Stop clone differ from rec->covered on. */
static nsf_status kept_rewind(void *opaque)
{
    struct nsf_recorder *rec = opaque;

    diff_rewind(rec);
    rec->pos = rec->covered;
    rec->kept_index = 0;
    return 0;
}

static nsf_status kept_next(void *opaque, uint64_t *offset, uint64_t *length, int *zero)
{
    struct nsf_recorder *rec = opaque;

    *offset = *length = 0;
    *zero = 0;
    if (rec->kept_index < rec->kept_count)
    {
        const struct kept_range *r = &rec->kept[rec->kept_index++];
        *offset = r->offset;
        *length = r->length;
        *zero = r->zero;
        return 0;
    }
    return rec->clone_stop >= 0 ? diff_next(rec, offset, length, zero) : 0;
}

static const struct nsf_range_source_ops kept_ops = { kept_rewind, kept_next, clone_read };

static size_t kept_ranges_max(void)
{
    const char *env = getenv("WINBACKUP_NSF_DIFF_RANGES");
    char *end;
    unsigned long value;

    if (!env || !*env) return KEPT_RANGES_MAX;
    value = strtoul(env, &end, 10);
    return *end ? KEPT_RANGES_MAX : value;
}

/* Set the cursors to compare the Start clone with fd (the live file, or the
 * Stop clone) of that size. */
static nsf_status compare_with(struct nsf_recorder *rec, int fd, uint64_t size)
{
    if (!rec->cur_start.map &&
        (!(rec->cur_start.map = calloc(1, sizeof(struct fiemap) + FIEMAP_BATCH * sizeof(struct fiemap_extent))) ||
         !(rec->cur_stop.map = calloc(1, sizeof(struct fiemap) + FIEMAP_BATCH * sizeof(struct fiemap_extent)))))
        return ERR_MEMORY;
    rec->cur_start.fd = rec->clone_start;
    rec->cur_stop.fd = fd;
    rec->cur_start.limit = rec->cur_stop.limit = rec->header.start_size;
    rec->cur_start.size = rec->header.start_size;
    rec->cur_stop.size = size;
    return 0;
}

static void drop_kept(struct nsf_recorder *rec)
{
    free(rec->kept);
    rec->kept = NULL;
    rec->kept_count = rec->kept_alloc = 0;
    rec->covered = 0;
}

/* Append a range (they come in order); one that continues the last one
 * extends it.  0, or nonzero when the bound is reached. */
static nsf_status keep_range(struct nsf_recorder *rec, size_t max, uint64_t offset, uint64_t length, int zero)
{
    struct kept_range *last = rec->kept_count ? &rec->kept[rec->kept_count - 1] : NULL;

    if (last && last->zero == zero && last->offset + last->length == offset)
    {
        last->length += length;
        return 0;
    }
    if (rec->kept_count == max) return ERR_NSF_CANT_BACKUP;
    if (rec->kept_count == rec->kept_alloc)
    {
        size_t alloc = rec->kept_alloc ? rec->kept_alloc * 2 : 64;
        struct kept_range *kept;
        if (alloc > max) alloc = max;
        if (!(kept = realloc(rec->kept, alloc * sizeof(*kept)))) return ERR_MEMORY;
        rec->kept = kept;
        rec->kept_alloc = alloc;
    }
    rec->kept[rec->kept_count].offset = offset;
    rec->kept[rec->kept_count].length = length;
    rec->kept[rec->kept_count].zero = zero;
    rec->kept_count++;
    return 0;
}

/* The changed ranges of [from, to), found by walking the Start clone's map
 * against the live file's (FIEMAP_FLAG_SYNC flushes what was written before,
 * so each such write shows as a block moved away from the clone's), appended
 * to the kept ranges.  Writes during the walk only add ranges: a block that
 * differed from the Start clone keeps differing (the clone holds its old
 * address), and a range recorded for nothing costs only its before-image.
 * Called by the mark walks only: the copy has read [from, to), so what
 * changes there after this walk needs no recording.  0, or nonzero (too many
 * ranges, or a failed walk): then nothing is kept any more and Stop compares
 * the whole file against its clone. */
static nsf_status walk_live_range(struct nsf_recorder *rec, uint64_t from, uint64_t to)
{
    size_t max = kept_ranges_max();
    nsf_status status = 0;
    struct stat st;

    if (rec->kept_failed || !max) status = ERR_NSF_CANT_BACKUP;
    else if (fstat(rec->fd, &st) < 0) status = nsf_status_from_errno(errno);
    else status = compare_with(rec, rec->fd, st.st_size);
    if (!status)
    {
        diff_rewind(rec);
        rec->pos = from;
        rec->walk_end = to;
        for (;;)
        {
            uint64_t offset, length;
            int zero;
            if ((status = diff_next(rec, &offset, &length, &zero)) || !length) break;
            if ((status = keep_range(rec, max, offset, length, zero))) break;
        }
    }
    if (status)
    {
        drop_kept(rec);
        rec->kept_failed = 1;
    }
    return status;
}

/* The high-water mark passed [covered, mark): the copy has read it.  Writes
 * there from now on need no recording (the copy holds the Start bytes), so
 * the range is walked now, against the live file, and never again: what
 * changed in it before this moment is kept, what changes later is not
 * looked at.  Walked in steps of a sixteenth of the file (at least 1 MiB),
 * each flushing the file once.  A mark that goes back (the latest claim
 * counts) drops what was kept from it on: that part will be read again. */
static void walk_to_mark(struct nsf_recorder *rec, uint64_t mark)
{
    uint64_t step = rec->header.start_size / 16;

    if (step < (1 << 20)) step = 1 << 20;
    if (mark > rec->header.start_size) mark = rec->header.start_size;
    if (mark < rec->covered)
    {
        while (rec->kept_count && rec->kept[rec->kept_count - 1].offset >= mark) rec->kept_count--;
        if (rec->kept_count && rec->kept[rec->kept_count - 1].offset + rec->kept[rec->kept_count - 1].length > mark)
            rec->kept[rec->kept_count - 1].length = mark - rec->kept[rec->kept_count - 1].offset;
        rec->covered = mark;
        return;
    }
    if (mark - rec->covered < step && mark < rec->header.start_size) return;
    if (mark > rec->covered && !walk_live_range(rec, rec->covered, mark)) rec->covered = mark;
}

nsf_status nsf_recorder_stop(struct nsf_recorder *rec)
{
    const struct nsf_range_source_ops *ops;
    nsf_status status;
    struct stat st;

    if (rec->stopped) return ERR_NOT_DOING_BACKUP;
    if ((status = check_names(rec))) return status;
    if (rec->kind == NSF_RECORDER_REFLINK)
    {
        pthread_mutex_lock(&rec->mutex);
        rec->walks_closed = 1;              /* no mark walks any more */
        pthread_mutex_unlock(&rec->mutex);
        if (rec->covered < rec->header.start_size)
        {
            /* What the mark walks did not reach: compared against a clone taken
             * now, not walked on the live file.  FICLONE takes the file's locks
             * once, so the image is of one instant, against writes and remaps
             * alike; a walk of the live file takes them per FIEMAP call, and a
             * remap (FICLONERANGE, FIDEDUPERANGE) between two calls could put a
             * Start address back under a block changed before Stop. */
            if ((rec->clone_stop = open_tmpfile_beside(rec)) < 0) return nsf_status_from_errno(errno);
            if (ioctl(rec->clone_stop, FICLONE, rec->fd) < 0 || fstat(rec->clone_stop, &st) < 0)
                return nsf_status_from_errno(errno);
            if ((status = compare_with(rec, rec->clone_stop, st.st_size))) return status;
        }
        kept_rewind(rec);
        ops = &kept_ops;
    }
    else
    {
        stop_lease_thread(rec);
        if (rec->lease_state == LEASE_FAILED) return rec->lease_error ? rec->lease_error : ERR_NSF_CANT_BACKUP;
        /* a mark that went below what the save holds, after writers were let
         * in: the copy read that part again from the changed file, and no
         * before-image of it exists - refused, never a wrong copy */
        if (rec->lease_state == LEASE_SAVED && __atomic_load_n(&rec->mark_after_save, __ATOMIC_SEQ_CST) < rec->saved_from)
            return ERR_NSF_CANT_BACKUP;
        ops = &saved_ops;
    }
    if ((status = nsf_ci_encoder_new(&rec->header, ops, rec, &rec->encoder)) ||
        (status = nsf_ci_encoder_size(rec->encoder, &rec->info_size)))
        return status;
    rec->stopped = 1;
    return 0;
}

nsf_status nsf_recorder_info_size(struct nsf_recorder *rec, uint64_t *size)
{
    if (!rec->stopped) return ERR_NOT_DOING_BACKUP;
    *size = rec->info_size;
    return 0;
}

nsf_status nsf_recorder_info_read(struct nsf_recorder *rec, void *buffer, uint32_t size, uint32_t *filled)
{
    *filled = 0;
    if (!rec->stopped) return ERR_NOT_DOING_BACKUP;
    return nsf_ci_encoder_read(rec->encoder, buffer, size, filled);
}

void nsf_recorder_end(struct nsf_recorder *rec)
{
    if (!rec) return;
    stop_lease_thread(rec);
    nsf_ci_encoder_free(rec->encoder);
    free(rec->cur_start.map);
    free(rec->cur_stop.map);
    free(rec->kept);
    if (rec->clone_start >= 0) close(rec->clone_start);
    if (rec->clone_stop >= 0) close(rec->clone_stop);
    if (rec->side_fd >= 0) close(rec->side_fd);
    if (rec->dir_fd >= 0) close(rec->dir_fd);
    if (rec->fd >= 0) close(rec->fd);       /* drops the backup lock */
    pthread_mutex_destroy(&rec->mutex);
    pthread_cond_destroy(&rec->cond);
    free(rec);
}
