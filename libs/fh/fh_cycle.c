/*
 * A File History backup cycle, cleanup and restore.
 *
 * A cycle, for one user, is a sequence of steps (fh_cycle_run; each step is
 * a function of its own below, tested on its own in tests/test_fh_cycle.c):
 *   1. lock: one cycle per user at a time (flock on <config dir>/cycle.lock,
 *      shared by the service's cycles and `filehistory run-cycle`);
 *   2. open the target (fh_target.c): the identity must match the
 *      configuration's (an unmounted disk is TARGET_ABSENT and gets nothing
 *      written), the folders are reached without following symlinks,
 *      Data/ and Staging/ made; the configuration is mirrored to
 *      Configuration/Config{1,2}.xml; the catalog is opened;
 *   3. recover from an interrupted cycle: empty Staging/ (partial copies)
 *      and delete the version files the catalog lists as pending without a
 *      row (see fh_catalog.c for the invariant);
 *   4. begin: the cycle time (now, but strictly after the previous cycle so
 *      version names never collide) and its catalog row;
 *   5. walk every regular file below the protected folders (a full scan),
 *      or only the paths the change journal reported; a file whose size,
 *      mtime, ctime or inode differs from its newest version is copied
 *      (fh_copy.c: a verified copy, never a torn one) into Staging/ and
 *      joins the current batch.  Meanwhile a scan thread counts what the
 *      walk will see, for the progress;
 *   6. retry the files that were busy (changing during every copy attempt)
 *      once more; those still busy are not backed up this cycle;
 *   7. flush the last batch (below) and wait for the flusher;
 *   8. apply the retention policy;
 *   9. end: the cycle's row, and the protection state stored next to the
 *      configuration (and in the catalog).
 *
 * Batches.  A batch is flushed when it holds FH_BATCH_FILES files or
 * FH_BATCH_BYTES bytes, and at the end of the walk:
 *   a. syncfs() on the target: every staged copy is durable;
 *   b. one transaction: each file's row (created if new) and a pending
 *      entry for each version file about to appear;
 *   c. each copy renamed to its place under Data/ (directories made below
 *      the root fd, never through a symlink);
 *   d. syncfs() again: the renames (and new directories) are durable;
 *   e. one transaction: the version rows, ending their pending entries.
 * A batch is flushed by a thread of its own while the walk copies the next
 * one (one flush at a time; the thread has its own catalog connection and
 * reports its outcome in the batch, read after pthread_join), so syncfs()
 * waits and renames overlap the copies.
 * So a version row is committed only once its file is durable at its final
 * place, and a file appears under Data/ only once its pending entry is
 * committed: a crash between any two steps leaves Staging/ leftovers (step
 * 3 empties Staging/) or renamed files listed in pending (step 3 deletes
 * them); never a row without its file.
 *
 * One file never fails the others (issue 10).  A file that cannot be read,
 * keeps changing, vanishes, or whose name the target refuses costs its own
 * version only: it is logged (opt->log_fd), counted in not_backed_up (kept
 * in the state file, shown by `filehistory status`), and the cycle goes on.
 * A name the target cannot hold under Data/C/ (too long for NAME_MAX with
 * the stamp, control characters, a MAX_PATH overflow, or refused by the
 * target's file system at the rename) goes to Data/$OF/<file id>/ under a
 * safe name; the catalog keeps the real path.  Only what concerns the whole
 * target stops a cycle: full, gone, access denied (fh_errors.c maps them).
 *
 * A full target keeps what fits.  When a copy meets ENOSPC the walk stops
 * and the copies already made are flushed; when a transaction itself meets
 * SQLITE_FULL, the newest half of the batch is removed (which frees its
 * space) and the rest is committed, halving again until it fits.  The
 * cycle ends TARGET_FULL; the next one goes on from there (files without a
 * version are copied first: nothing was recorded for them).
 *
 * Cancellation (StopBackup, SIGINT of run-cycle) is checked between files;
 * a flush under way completes, and a cancelled cycle discards its unflushed
 * batch (the staged copies are unlinked; they have no pending entry and no
 * row), so the partial version of the cycle is what earlier batches
 * committed.  The service's STOP kills the cycle instead: recovery (step 3,
 * or fh_cycle_recover right away) discards the batch then.  A file met
 * twice in a cycle (a journal entry for it and for its folder) is copied
 * once: both batches are checked before the catalog.
 *
 * Out of memory is not a state of the target: the cycle stops, fails with
 * res->error = ERROR_NOT_ENOUGH_MEMORY and leaves the stored state alone.
 *
 * A target that vanishes under the cycle (a disk pulled: every I/O fails)
 * usually shows as EIO, which is TARGET_ABSENT.  But SQLite keeps the
 * catalog's WAL index in a memory map of Catalog.sqlite-shm, and touching
 * it then raises SIGBUS (measured: XFS shut down under a cycle).  While a
 * cycle runs, SIGBUS (if nobody else handles it) stores TARGET_ABSENT as
 * the protection state and says so, with async-signal-safe calls only,
 * before the process ends: the process cannot go on, but the user learns
 * why, and the next cycle recovers as after a kill.
 *
 * FILEHISTORY_BATCH_FILES=<n> (1..4096) overrides FH_BATCH_FILES and
 * FILEHISTORY_TEST_STOP_AFTER=<n> makes the cycle stop itself (SIGSTOP)
 * after its n-th copy; both exist for the check scripts, whose kill -9 must land
 * between and inside batches and which inspect a running cycle
 * (tests/test_fh_cycle.c stops a cycle after each flush step through
 * fh_cycle_options.flush_hook instead).
 *
 * Only regular files are versioned (symbolic links, devices and sockets
 * are not); the target itself is never scanned even when it lies below a
 * protected folder.  Kill -9 at any point is safe: the lock goes with the
 * process and step 3 of the next cycle cleans up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "winbackup/winbackup.h"
#include "fh.h"

#define FH_BATCH_FILES 512
#define FH_BATCH_BYTES (64ll << 20)
#define PROGRESS_INTERVAL_MS 100

/* A copy in Staging/ waiting for its batch to be flushed. */
struct staged_copy
{
    char *path;             /* the protected file */
    char *stored;           /* its version, relative to root */
    char staged[40];        /* the copy's name in Staging/ */
    long long file_id;      /* 0: not known yet (looked up or created at the flush) */
    struct stat st;         /* the state the copy holds, recorded in the row */
    int placed;             /* renamed into Data/ */
};

/* The flusher thread writes only its batch's outcome (and the files and
 * catalog rows of the batch); the walk reads it after pthread_join. */
struct batch
{
    struct staged_copy *items;
    size_t count;
    long long bytes;
    size_t *index;          /* open hash of the paths: item + 1, 0 = free */
    long long added;        /* outcome: versions committed */
    uint32_t state;         /* outcome: 0, or the FH_STATE that stops the cycle */
    uint32_t error;         /* outcome: WB_ERROR_NOT_ENOUGH_MEMORY or 0 */
    char message[256];
    int crashed;            /* outcome: the test hook stopped the flush dead */
};

struct cycle
{
    const struct fh_config *cfg;
    const struct fh_cycle_options *opt;
    struct fh_cycle_result *res;
    const char *config_dir;
    struct fh_state saved;  /* the stored state before the cycle */
    int lock_fd;
    struct fh_target tgt;
    struct fh_catalog *cat;
    char *target_real;      /* the target's real path: never scanned */
    long long cycle_id;
    time_t t;
    unsigned long staged_seq;
    uint32_t abort_state;   /* non-zero: stop the cycle with this FH_STATE */
    uint32_t abort_error;   /* non-zero: stop the cycle with this Win32 error (out of memory) */
    int cycle_state;        /* FH_CYCLE_* of the row */
    struct fh_catalog *flush_cat;   /* the flusher's own connection */
    struct batch batches[2];
    struct batch *fill;     /* filled by the walk */
    struct batch *inflight; /* flushed by the flusher thread meanwhile, or NULL */
    pthread_t flusher;
    size_t batch_max;
    size_t index_size;      /* a power of two, >= 2 * batch_max */
    int crashed;            /* a test's flush_hook abandoned the cycle */
    char **busy;            /* files that changed during every copy attempt */
    size_t busy_count, busy_cap;
    int retrying;           /* step 6: a busy file's second chance */
    int reserve_released;   /* the target was so full that its reserve went: copy nothing */
    long long not_backed_up;
    unsigned long copies;   /* for FILEHISTORY_TEST_STOP_AFTER */
    unsigned long stop_after;
    /* progress */
    struct fh_progress own_progress;
    struct fh_progress *progress;   /* opt->progress, or own_progress when drawing */
    long long last_draw_ms;
    pthread_t scanner;
    int scanning;
    volatile int scan_stop;
};

static void note_not_backed_up(struct cycle *c, const char *path, const char *why);

/* ------------------------------------------------------------------ */
/* outcomes                                                            */

static int cancelled(struct cycle *c)
{
    return c->crashed || c->abort_state || c->abort_error || (c->opt->cancel && *c->opt->cancel);
}

/* The first problem of a cycle is the one reported. */
static void stop_with(struct cycle *c, uint32_t state, const char *what, const char *path, const char *why)
{
    if (c->abort_state || c->abort_error) return;
    c->abort_state = state;
    snprintf(c->res->message, sizeof(c->res->message), "%s %s: %s", what, path, why);
}

static void stop_no_memory(struct cycle *c, const char *path)
{
    if (c->abort_state || c->abort_error) return;
    c->abort_error = WB_ERROR_NOT_ENOUGH_MEMORY;
    snprintf(c->res->message, sizeof(c->res->message), "out of memory%s%s", path ? " at " : "", path ? path : "");
}

/* A failure to write to the target: out of memory, or what it means for the target. */
static void stop_with_error(struct cycle *c, uint32_t win32, const char *what, const char *path)
{
    if (win32 == WB_ERROR_NOT_ENOUGH_MEMORY) stop_no_memory(c, path);
    else stop_with(c, fh_state_from_error(win32), what, path, wb_error_message(win32));
}

static void stop_with_catalog(struct cycle *c, struct fh_catalog *cat, const char *what, const char *path)
{
    uint32_t err = fh_catalog_error(cat);
    if (err == WB_ERROR_NOT_ENOUGH_MEMORY) stop_no_memory(c, path);
    else stop_with(c, fh_state_from_error(err), what, path, fh_catalog_errmsg(cat));
}

static void note_not_backed_up(struct cycle *c, const char *path, const char *why)
{
    /* the flusher and the walk both count */
    __atomic_add_fetch(&c->not_backed_up, 1, __ATOMIC_RELAXED);
    if (c->progress) fh_progress_add(&c->progress->not_backed_up, 1);
    fh_log(c->opt->log_fd, "not backed up: %s: %s", path, why);
}

/* ------------------------------------------------------------------ */
/* progress                                                            */

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw_progress(struct cycle *c, int force)
{
    struct fh_progress_view v;
    struct winsize ws;
    char line[1400];
    long long now;
    int width = 80;

    if (c->opt->progress_fd < 0 || !c->progress) return;
    now = monotonic_ms();
    if (!force && now - c->last_draw_ms < PROGRESS_INTERVAL_MS) return;
    c->last_draw_ms = now;
    if (!ioctl(c->opt->progress_fd, TIOCGWINSZ, &ws) && ws.ws_col) width = ws.ws_col;
    fh_progress_read(c->progress, &v);
    line[0] = '\r';
    fh_progress_format(&v, width - 1, line + 1, sizeof(line) - 8);
    strcat(line, "\033[K");
    fh_write_all(c->opt->progress_fd, line, strlen(line));
}

/* A file is done (copied, unchanged or given up): its size counts as examined. */
static void file_done(struct cycle *c, const struct stat *st, int64_t counted)
{
    if (!c->progress) return;
    fh_progress_add(&c->progress->files_done, 1);
    if (st->st_size > counted) fh_progress_add(&c->progress->bytes_done, st->st_size - counted);
    draw_progress(c, 0);
}

/* ------------------------------------------------------------------ */
/* which files                                                         */

static int is_skipped(struct cycle *c, const char *path)
{
    for (size_t i = 0; i < c->cfg->exclude_count; i++)
        if (fh_path_under(path, c->cfg->excludes[i])) return 1;
    if (c->target_real && fh_path_under(path, c->target_real)) return 1;
    if (fh_path_under(path, c->cfg->target_url)) return 1;
    return 0;
}

static int is_protected(struct cycle *c, const char *path)
{
    for (size_t i = 0; i < c->cfg->folder_count; i++)
        if (fh_path_under(path, c->cfg->folders[i])) return !is_skipped(c, path);
    return 0;
}

static int same_as_version(const struct stat *st, const struct fh_version *v)
{
    return v->size == (long long)st->st_size &&
           v->mtime_ns == (long long)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
           v->ctime_ns == (long long)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec &&
           v->inode == (long long)st->st_ino;
}

/* ------------------------------------------------------------------ */
/* batches                                                             */

static size_t path_hash(const char *path)
{
    size_t h = 14695981039346656037ull;   /* FNV-1a */
    while (*path) h = (h ^ (unsigned char)*path++) * 1099511628211ull;
    return h;
}

static int in_batch(struct cycle *c, const struct batch *b, const char *path)
{
    size_t i = path_hash(path) & (c->index_size - 1);
    for (; b->index[i]; i = (i + 1) & (c->index_size - 1))
        if (!strcmp(b->items[b->index[i] - 1].path, path)) return 1;
    return 0;
}

static void batch_error(struct batch *b, uint32_t state, const char *what, const char *path, const char *why)
{
    if (b->state || b->error) return;
    b->state = state;
    snprintf(b->message, sizeof(b->message), "%s %s: %s", what, path, why);
}

static void batch_catalog_error(struct batch *b, struct fh_catalog *cat, const char *what, const char *path)
{
    uint32_t err = fh_catalog_error(cat);
    if (b->state || b->error) return;
    if (err == WB_ERROR_NOT_ENOUGH_MEMORY)
    {
        b->error = err;
        snprintf(b->message, sizeof(b->message), "out of memory at %s", path);
    }
    else batch_error(b, fh_state_from_error(err), what, path, fh_catalog_errmsg(cat));
}

static int remove_stored(void *ctx, const char *stored);

/* Remove the copies of items [from, to): from Staging/, or from Data/ once placed. */
static void discard_copies(struct cycle *c, struct batch *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
    {
        struct staged_copy *s = &b->items[i];
        if (s->placed) remove_stored(c, s->stored);
        else unlinkat(c->tgt.staging_fd, s->staged, 0);
    }
}

static void reset_batch(struct cycle *c, struct batch *b)
{
    for (size_t i = 0; i < b->count; i++)
    {
        struct staged_copy *s = &b->items[i];
        free(s->path); free(s->stored);
    }
    b->count = 0;
    b->bytes = 0;
    b->added = 0;
    b->state = 0;
    b->error = 0;
    b->message[0] = 0;
    b->crashed = 0;
    if (b->index) memset(b->index, 0, c->index_size * sizeof(*b->index));
}

/* A test's flush_hook may stop the cycle dead after a step. */
static int crash_after(struct cycle *c, struct batch *b, int step)
{
    if (c->opt->flush_hook && c->opt->flush_hook(c->opt->flush_ctx, step)) b->crashed = 1;
    return b->crashed;
}

static int is_full(struct fh_catalog *cat)
{
    return fh_catalog_error(cat) == WB_ERROR_DISK_FULL;
}

/* Step b: the files' rows and the pending entries of the first *n items,
 * in one transaction.  A full target drops the newest half (their copies
 * go, freeing their space) until what is left fits.  0, or -1 (the batch's
 * error is set and every copy discarded). */
static int announce(struct cycle *c, struct batch *b, size_t *n)
{
    struct fh_catalog *cat = c->flush_cat;
    size_t i;

    while (*n)
    {
        int ok = !fh_catalog_begin(cat);
        for (i = 0; ok && i < *n; i++)
        {
            struct staged_copy *s = &b->items[i];
            long long id = s->file_id;
            ok = !(!id && fh_catalog_file_id(cat, s->path, 1, &id)) && !fh_catalog_add_pending(cat, s->stored, c->cycle_id);
            if (ok) s->file_id = id;
        }
        if (ok && !fh_catalog_commit(cat)) return 0;
        i = i ? i - 1 : 0;
        batch_catalog_error(b, cat, "catalog error for", b->items[i < *n ? i : 0].path);
        fh_catalog_rollback(cat);
        /* ids created in the rolled back transaction are not there any more */
        for (i = 0; i < *n; i++) b->items[i].file_id = 0;
        if (!is_full(cat)) break;
        discard_copies(c, b, *n / 2, *n);
        *n /= 2;
    }
    discard_copies(c, b, 0, *n);
    *n = 0;
    return -1;
}

static int is_name_problem(int err)
{
    /* the target cannot hold this name or path here: another name will do */
    return err == ENAMETOOLONG || err == EINVAL || err == EILSEQ || err == ELOOP || err == ENOTDIR ||
           err == EEXIST || err == ENOTEMPTY || err == EISDIR;
}

/* Rename staged copy s to root/stored; 0 or -1/errno.  *dir and *dir_fd
 * cache the last directory: consecutive files mostly share it. */
static int place(struct cycle *c, struct staged_copy *s, char **dir, int *dir_fd)
{
    const char *slash = strrchr(s->stored, '/');
    size_t dlen = slash - s->stored;

    if (!*dir || strlen(*dir) != dlen || strncmp(*dir, s->stored, dlen))
    {
        if (*dir_fd >= 0) close(*dir_fd);
        *dir_fd = -1;
        free(*dir);
        if (!(*dir = strndup(s->stored, dlen))) { errno = ENOMEM; return -1; }
        /* a folder someone else made in Data/ (when it was not private yet)
         * would hold the user's versions for that someone to read */
        if ((*dir_fd = fh_mkdirs_beneath(c->tgt.root_fd, *dir, 0700)) < 0 ||
            ((errno = fh_dir_check(*dir_fd, FH_DIR_OURS)) && (close(*dir_fd), *dir_fd = -1, 1)))
        {
            int e = errno;
            free(*dir);
            *dir = NULL;
            errno = e;
            return -1;
        }
    }
    /* relative to open directories, never through a symlink: no walk down the long paths twice per file */
    if (renameat(c->tgt.staging_fd, s->staged, *dir_fd, slash + 1)) return -1;
    s->placed = 1;
    return 0;
}

/* Step c for the copies whose name the target refused: under Data/$OF/
 * with a safe name, announced first in a transaction of their own. */
static void place_overflow(struct cycle *c, struct batch *b, size_t *refused, size_t count)
{
    struct fh_catalog *cat = c->flush_cat;
    char **names = calloc(count, sizeof(*names)), *dir = NULL;
    int dir_fd = -1, ok;

    if (!names) { b->error = WB_ERROR_NOT_ENOUGH_MEMORY; snprintf(b->message, sizeof(b->message), "out of memory"); goto out; }
    for (size_t k = 0; k < count; k++)
    {
        struct staged_copy *s = &b->items[refused[k]];
        if (!(names[k] = fh_overflow_relpath(s->path, s->file_id, c->t)))
        {
            b->error = WB_ERROR_NOT_ENOUGH_MEMORY;
            snprintf(b->message, sizeof(b->message), "out of memory");
            goto out;
        }
    }
    /* the new names announced, the refused ones no longer: they will not appear */
    ok = !fh_catalog_begin(cat);
    for (size_t k = 0; ok && k < count; k++)
        ok = !fh_catalog_add_pending(cat, names[k], c->cycle_id) &&
             !fh_catalog_delete_pending(cat, b->items[refused[k]].stored);
    if (!ok || fh_catalog_commit(cat))
    {
        batch_catalog_error(b, cat, "catalog error for", b->items[refused[0]].path);
        fh_catalog_rollback(cat);
        goto out;
    }
    for (size_t k = 0; k < count; k++)
    {
        struct staged_copy *s = &b->items[refused[k]];
        char *old = s->stored;
        s->stored = names[k];
        names[k] = old;
        if (place(c, s, &dir, &dir_fd))
            note_not_backed_up(c, s->path, errno == ENOSPC || errno == EDQUOT ? "the target is full" : strerror(errno));
    }
out:
    for (size_t k = 0; names && k < count; k++) free(names[k]);
    free(names);
    free(dir);
    if (dir_fd >= 0) close(dir_fd);
}

/* Step e: the rows of the placed copies among the first n, and the end of
 * the pending entries of those not placed; a full target drops the newest
 * half of the placed ones until the transaction fits. */
static long long commit_rows(struct cycle *c, struct batch *b, size_t n)
{
    struct fh_catalog *cat = c->flush_cat;
    size_t keep = n, i;

    for (;;)
    {
        long long added = 0;
        int ok = !fh_catalog_begin(cat);
        for (i = 0; ok && i < n; i++)
        {
            struct staged_copy *s = &b->items[i];
            if (s->placed && i < keep)
            {
                ok = !fh_catalog_add_version(cat, s->file_id, c->cycle_id, s->stored, c->t, &s->st);
                added++;
            }
            else ok = !fh_catalog_delete_pending(cat, s->stored);
        }
        if (ok && !fh_catalog_commit(cat)) return added;
        batch_catalog_error(b, cat, "catalog error for", b->items[i ? i - 1 : 0].path);
        fh_catalog_rollback(cat);
        if (!is_full(cat) || !keep)
        {
            /* the placed files stay listed in pending: recovery removes them */
            discard_copies(c, b, 0, n);
            return 0;
        }
        /* free space: remove the newest half of what is placed */
        {
            size_t from = keep / 2;
            for (i = from; i < keep; i++)
                if (b->items[i].placed) { remove_stored(c, b->items[i].stored); b->items[i].placed = 0; }
            keep = from;
        }
    }
}

/* Steps a-e of the header, on the flusher's catalog connection; the walk
 * may run meanwhile (it reads the batch's paths, nothing else). */
static void flush_batch(struct cycle *c, struct batch *b)
{
    size_t n = b->count, *refused = NULL, refused_count = 0;
    char *dir = NULL;
    int dir_fd = -1, stop = 0;

    if (!n) return;
    /* a. the data of every copy */
    if (syncfs(c->tgt.staging_fd))
    {
        batch_error(b, fh_state_from_errno(errno), "cannot write", c->tgt.root, strerror(errno));
        discard_copies(c, b, 0, n);
        return;
    }
    if (crash_after(c, b, FH_FLUSH_SYNCED)) return;

    /* b. announced before they appear: a crash after a rename leaves a file recovery finds */
    if (announce(c, b, &n)) return;
    if (crash_after(c, b, FH_FLUSH_PENDING)) return;

    /* c. into place */
    if (!(refused = malloc(n * sizeof(*refused))))
    {
        b->error = WB_ERROR_NOT_ENOUGH_MEMORY;
        snprintf(b->message, sizeof(b->message), "out of memory");
        discard_copies(c, b, 0, n);
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
    {
        struct staged_copy *s = &b->items[i];
        if (stop) { unlinkat(c->tgt.staging_fd, s->staged, 0); continue; }
        if (!place(c, s, &dir, &dir_fd)) continue;
        if (errno == ENOMEM)
        {
            b->error = WB_ERROR_NOT_ENOUGH_MEMORY;
            snprintf(b->message, sizeof(b->message), "out of memory");
            unlinkat(c->tgt.staging_fd, s->staged, 0);
            stop = 1;
        }
        else if (is_name_problem(errno)) refused[refused_count++] = i;
        else
        {
            /* the target's problem (full, gone, read-only): the copies already placed still get their rows */
            batch_error(b, fh_state_from_errno(errno), "cannot write", s->stored, strerror(errno));
            unlinkat(c->tgt.staging_fd, s->staged, 0);
            stop = 1;
        }
    }
    free(dir);
    if (dir_fd >= 0) close(dir_fd);
    if (refused_count && !stop) place_overflow(c, b, refused, refused_count);
    for (size_t k = 0; k < refused_count; k++)
        if (!b->items[refused[k]].placed) unlinkat(c->tgt.staging_fd, b->items[refused[k]].staged, 0);
    free(refused);
    if (crash_after(c, b, FH_FLUSH_RENAMED)) return;

    /* d. the renames, and the directories they needed */
    if (n && syncfs(c->tgt.root_fd))
    {
        batch_error(b, fh_state_from_errno(errno), "cannot write", c->tgt.root, strerror(errno));
        discard_copies(c, b, 0, n);
        return;
    }
    if (crash_after(c, b, FH_FLUSH_DURABLE)) return;

    /* e. the rows */
    if (n) b->added = commit_rows(c, b, n);
    if (crash_after(c, b, FH_FLUSH_COMMITTED)) return;
    if (c->progress) fh_progress_add(&c->progress->versions, b->added);
}

/* Take in a flushed batch's outcome and empty it. */
static void merge_batch(struct cycle *c, struct batch *b)
{
    if (b->crashed) c->crashed = 1;
    if (b->error && !c->abort_state && !c->abort_error)
    {
        c->abort_error = b->error;
        snprintf(c->res->message, sizeof(c->res->message), "%s", b->message);
    }
    else if (b->state && !c->abort_state && !c->abort_error)
    {
        c->abort_state = b->state;
        snprintf(c->res->message, sizeof(c->res->message), "%s", b->message);
    }
    c->res->added += b->added;
    reset_batch(c, b);
}

static void *flusher_main(void *arg)
{
    struct cycle *c = arg;
    flush_batch(c, c->inflight);
    return NULL;
}

static void wait_flush(struct cycle *c)
{
    if (!c->inflight) return;
    pthread_join(c->flusher, NULL);
    merge_batch(c, c->inflight);
    c->inflight = NULL;
}

/* The walk goes on copying into the other batch while this one is flushed
 * (its syncfs() waits and renames overlap the next copies); one flush at a time. */
static void start_flush(struct cycle *c)
{
    struct batch *b = c->fill;

    wait_flush(c);
    if (cancelled(c)) return;   /* the walk stops; step 7 flushes or discards this batch */
    c->fill = b == &c->batches[0] ? &c->batches[1] : &c->batches[0];
    c->inflight = b;
    if (pthread_create(&c->flusher, NULL, flusher_main, c))
    {
        c->inflight = NULL;
        flush_batch(c, b);
        merge_batch(c, b);
    }
}

/* ------------------------------------------------------------------ */
/* the walk                                                            */

/* Where the version of path goes: Data/C/<path> when the target can hold
 * that name, else Data/$OF/<file id>/<safe name>.  NULL: out of memory, or
 * a catalog error (the cycle is stopped either way). */
static char *stored_name(struct cycle *c, const char *path, long long *file_id)
{
    char *stored = NULL;

    if (fh_path_fits_data(path))
    {
        if (!(stored = fh_data_relpath(path, c->t))) { stop_no_memory(c, path); return NULL; }
        if (fh_windows_length(c->tgt.root, stored) < FH_WIN_MAX_PATH) return stored;
        free(stored);
    }
    if (!*file_id && fh_catalog_file_id(c->cat, path, 1, file_id))
    {
        stop_with_catalog(c, c->cat, "catalog error for", path);
        return NULL;
    }
    if (!(stored = fh_overflow_relpath(path, *file_id, c->t))) stop_no_memory(c, path);
    return stored;
}

static int per_file_target_error(uint32_t err)
{
    /* this file's name, metadata or stream is what the target refuses */
    switch (err)
    {
    case WB_ERROR_FILENAME_EXCED_RANGE: case WB_ERROR_INVALID_NAME: case WB_ERROR_INVALID_PARAMETER:
    case WB_ERROR_NOT_SUPPORTED: case WB_ERROR_EAS_NOT_SUPPORTED: case WB_ERROR_INVALID_EA_NAME:
    case WB_ERROR_EA_LIST_INCONSISTENT: case WB_ERROR_INVALID_SECURITY_DESCR: case WB_ERROR_INVALID_REPARSE_DATA:
    case WB_ERROR_INVALID_DATA: case WB_ERROR_NOT_A_REPARSE_POINT:
        return 1;
    default:
        return 0;
    }
}

static void remember_busy(struct cycle *c, const char *path)
{
    char *dup;
    if (c->busy_count == c->busy_cap)
    {
        size_t cap = c->busy_cap ? c->busy_cap * 2 : 16;
        char **n = realloc(c->busy, cap * sizeof(*n));
        if (!n) { stop_no_memory(c, path); return; }
        c->busy = n;
        c->busy_cap = cap;
    }
    if (!(dup = strdup(path))) { stop_no_memory(c, path); return; }
    c->busy[c->busy_count++] = dup;
}

/* A new version of path: copied into Staging/ (the copy holds the state
 * it verified, out.st), then flushed with its batch.  Returns the data
 * bytes the copy counted. */
static int64_t copy_version(struct cycle *c, const char *path, long long file_id)
{
    struct fh_copy_outcome out;
    struct staged_copy *s;
    struct batch *b = c->fill;
    char *stored, *copy;
    size_t h;

    if (!(stored = stored_name(c, path, &file_id))) return 0;
    if (b->count >= c->batch_max) { free(stored); return 0; }   /* full and not flushed: the walk is stopping */
    s = &b->items[b->count];
    snprintf(s->staged, sizeof(s->staged), "%lld.%lu", c->cycle_id, ++c->staged_seq);
    fh_copy_version(path, c->tgt.staging_fd, s->staged, c->progress, &out);
    switch (out.status)
    {
    case FH_COPY_DONE:
        break;
    case FH_COPY_GONE:
        free(stored);
        return 0;
    case FH_COPY_BUSY:
        if (c->retrying) note_not_backed_up(c, path, "it changed during every copy attempt (tried again next cycle)");
        else remember_busy(c, path);
        free(stored);
        return 0;
    case FH_COPY_SOURCE_ERROR:
        note_not_backed_up(c, path, wb_error_message(out.error));
        free(stored);
        return 0;
    case FH_COPY_NO_MEMORY:
        stop_no_memory(c, path);
        free(stored);
        return 0;
    case FH_COPY_TARGET_ERROR:
        if (per_file_target_error(out.error)) note_not_backed_up(c, path, wb_error_message(out.error));
        else stop_with_error(c, out.error, "cannot copy", path);
        free(stored);
        return 0;
    }
    if (out.dropped)
    {
        char why[96];
        snprintf(why, sizeof(why), "%u named stream(s) left out: not representable as NTFS streams", out.dropped);
        note_not_backed_up(c, path, why);
    }
    if (!(copy = strdup(path)))
    {
        unlinkat(c->tgt.staging_fd, s->staged, 0);
        free(stored);
        stop_no_memory(c, path);
        return out.bytes;
    }
    s->path = copy;
    s->stored = stored;
    s->file_id = file_id;
    s->st = out.st;
    s->placed = 0;
    /* a clone whose stamps cannot prove its state: a ctime no file has, so
     * the next cycle copies it again rather than trust them */
    if (out.unverified) s->st.st_ctim.tv_sec = s->st.st_ctim.tv_nsec = 0;
    h = path_hash(path) & (c->index_size - 1);
    while (b->index[h]) h = (h + 1) & (c->index_size - 1);
    b->index[h] = ++b->count;
    b->bytes += out.st.st_size;
    c->copies++;
    /* a cancelled cycle discards its batch (fh_cycle_run) rather than flush it */
    if ((b->count >= c->batch_max || b->bytes >= FH_BATCH_BYTES) && !cancelled(c)) start_flush(c);
    return out.bytes;
}

static void visit_file(struct cycle *c, const char *path, const struct stat *st)
{
    struct fh_version v;
    long long file_id = 0;
    int64_t counted = 0;
    int found;

    if (!c->retrying) c->res->examined++;
    if (c->progress) fh_progress_set_current(c->progress, path);
    /* copied a moment ago, not committed yet */
    if (in_batch(c, c->fill, path) || (c->inflight && in_batch(c, c->inflight, path))) goto done;
    if ((found = fh_catalog_latest(c->cat, path, &v)) < 0)
    {
        stop_with_catalog(c, c->cat, "catalog error for", path);
        return;
    }
    if (found)
    {
        int same = same_as_version(st, &v);
        file_id = v.file_id;
        fh_version_free(&v);
        if (same) goto done;
    }
    /* not found: the file may still have a row (no version yet); the flush finds it */
    counted = copy_version(c, path, file_id);
done:
    if (!c->retrying) file_done(c, st, counted);
    if (c->stop_after && c->copies == c->stop_after)
    {
        /* tests (FILEHISTORY_TEST_STOP_AFTER): a running cycle to look at, or
         * to kill, its scan done so that what it shows does not depend on timing */
        c->stop_after = 0;
        if (c->scanning) { pthread_join(c->scanner, NULL); c->scanning = 0; }
        draw_progress(c, 1);
        raise(SIGSTOP);
    }
}

/* A folder the walk cannot read hides its files: say so, never skip it quietly. */
static void folder_unreadable(struct cycle *c, const char *dir, int err)
{
    char why[160];
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return;   /* gone or replaced meanwhile */
    if (err == ENOMEM) { stop_no_memory(c, dir); return; }
    snprintf(why, sizeof(why), "the folder cannot be read (%s): the files in it are not backed up", strerror(err));
    note_not_backed_up(c, dir, why);
}

/* dir_fd: the folder, opened without following a symlink (it is closed here). */
static void walk_dir(struct cycle *c, int dir_fd, const char *dir)
{
    DIR *d = fdopendir(dir_fd);
    struct dirent *de;

    if (!d) { folder_unreadable(c, dir, errno); close(dir_fd); return; }
    errno = 0;
    while (!cancelled(c) && (de = readdir(d)))
    {
        struct stat st;
        char *child;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (de->d_type != DT_DIR && de->d_type != DT_REG && de->d_type != DT_UNKNOWN) continue;
        if (!(child = fh_join(strcmp(dir, "/") ? dir : "", de->d_name))) { stop_no_memory(c, dir); break; }
        /* relative to the open directory: no path walk per file */
        if (!is_skipped(c, child) && !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
        {
            if (S_ISDIR(st.st_mode))
            {
                /* not through a symlink swapped in since the fstatat, and no PATH_MAX on the way down */
                int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) walk_dir(c, sub, child);
                else folder_unreadable(c, child, errno);
            }
            else if (S_ISREG(st.st_mode)) visit_file(c, child, &st);
        }
        free(child);
        errno = 0;
    }
    if (errno && !cancelled(c)) folder_unreadable(c, dir, errno);
    closedir(d);
}

static void visit_path(struct cycle *c, const char *path)
{
    struct stat st;
    /* "/protected/../elsewhere" would pass the prefix test: only normalized paths */
    if (!fh_path_is_normalized(path) || !is_protected(c, path) || lstat(path, &st)) return;
    if (S_ISDIR(st.st_mode))
    {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) walk_dir(c, fd, path);
        else folder_unreadable(c, path, errno);
    }
    else if (S_ISREG(st.st_mode)) visit_file(c, path, &st);
}

/* ------------------------------------------------------------------ */
/* the scan thread: what the walk will see, for the progress            */

static void scan_dir(struct cycle *c, int fd, const char *path, int64_t *files, int64_t *bytes)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;

    if (!d) { close(fd); return; }
    while (!c->scan_stop && (de = readdir(d)))
    {
        struct stat st;
        char *child;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (de->d_type != DT_DIR && de->d_type != DT_REG && de->d_type != DT_UNKNOWN) continue;
        if (!(child = fh_join(strcmp(path, "/") ? path : "", de->d_name))) break;
        if (!is_skipped(c, child) && !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
        {
            if (S_ISREG(st.st_mode)) { (*files)++; *bytes += st.st_size; }
            else if (S_ISDIR(st.st_mode))
            {
                int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) scan_dir(c, sub, child, files, bytes);
            }
        }
        free(child);
    }
    closedir(d);
}

static void scan_path(struct cycle *c, const char *path, int64_t *files, int64_t *bytes)
{
    struct stat st;
    if (!fh_path_is_normalized(path) || !is_protected(c, path) || lstat(path, &st)) return;
    if (S_ISREG(st.st_mode)) { (*files)++; *bytes += st.st_size; }
    else if (S_ISDIR(st.st_mode))
    {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) scan_dir(c, fd, path, files, bytes);
    }
}

static void *scanner_main(void *arg)
{
    struct cycle *c = arg;
    int64_t files = 0, bytes = 0;

    /* counting is worth less than copying */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    if (c->opt->full_scan)
        for (size_t i = 0; i < c->cfg->folder_count; i++) scan_path(c, c->cfg->folders[i], &files, &bytes);
    else
        for (size_t i = 0; i < c->opt->dirty_count; i++) scan_path(c, c->opt->dirty[i], &files, &bytes);
    if (!c->scan_stop)
    {
        fh_progress_set(&c->progress->bytes_total, bytes);
        fh_progress_set(&c->progress->files_total, files);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* recovery                                                            */

/* A stored path is relative, below Data/, without "", "." or ".." components. */
static int stored_is_safe(const char *stored)
{
    char buf[8192];
    if (strncmp(stored, "Data/", 5) || strlen(stored) + 2 > sizeof(buf)) return 0;
    snprintf(buf, sizeof(buf), "/%s", stored);
    return fh_path_is_normalized(buf);
}

/* Delete a version file named by the catalog (which may be crafted: it is
 * on the target).  A path that is unsafe, or that leads through a symlink
 * or a file, names nothing of ours: there is nothing to delete. */
static int remove_stored(void *ctx, const char *stored)
{
    struct cycle *c = ctx;

    if (!stored_is_safe(stored)) return 0;
    if (!fh_unlink_beneath(c->tgt.root_fd, stored)) return 0;
    if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR || errno == EISDIR || errno == EINVAL) return 0;
    return -1;
}

static void empty_staging(struct cycle *c)
{
    int fd = dup(c->tgt.staging_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;

    if (!d) { if (fd >= 0) close(fd); return; }
    while ((de = readdir(d)))
    {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        /* a symlink goes itself; a directory someone made there stays */
        unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* ------------------------------------------------------------------ */
/* the steps                                                           */

/* Step 1. wait: block until the lock is free; else fail at once when it is held. */
static int lock_cycles(const char *config_dir, int wait)
{
    char *path;
    int fd;
    if (fh_mkdir_p(config_dir, 0700) || !(path = fh_join(config_dir, "cycle.lock"))) return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(path);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)))
        if (errno != EINTR) { close(fd); return -1; }
    return fd;
}

static int step_lock(struct cycle *c)
{
    if ((c->lock_fd = lock_cycles(c->config_dir, 1)) >= 0) return 0;
    if (errno == ENOMEM) stop_no_memory(c, c->config_dir);
    else stop_with(c, FH_STATE_NOT_TRACKED, "cannot lock", c->config_dir, strerror(errno));
    return -1;
}

/* Open the target's catalog (c->cat, or the flusher's); 0 or -1 with the cycle stopped. */
/* A catalog write found the target full: give the reserve's space back
 * (fh_target.c) and say whether trying again makes sense. */
static int retry_after_full(struct cycle *c, struct fh_catalog *cat)
{
    if (fh_catalog_error(cat) != WB_ERROR_DISK_FULL || !fh_target_release_reserve(&c->tgt)) return 0;
    c->reserve_released = 1;
    return 1;
}

static int open_catalog(struct cycle *c, struct fh_catalog **cat)
{
    if (!fh_catalog_open(c->tgt.catalog, cat)) return 0;
    if (retry_after_full(c, *cat))
    {
        fh_catalog_close(*cat);
        if (!fh_catalog_open(c->tgt.catalog, cat)) return 0;
    }
    stop_with_catalog(c, *cat, "cannot open the catalog", c->tgt.catalog);
    fh_catalog_close(*cat);
    *cat = NULL;
    return -1;
}

/* Step 2 (flags: FH_TARGET_CYCLE for a cycle, which also mirrors the configuration). */
static int step_open_target(struct cycle *c, unsigned int flags)
{
    uint32_t state = fh_target_open(c->cfg, flags, &c->tgt, c->res->message, sizeof(c->res->message));

    if (state == FH_TARGET_NO_MEMORY) { stop_no_memory(c, c->cfg->target_url); return -1; }
    if (state != FH_STATE_NO_ERROR) { c->abort_state = state; return -1; }
    c->target_real = realpath(c->cfg->target_url, NULL);
    if ((flags & FH_TARGET_CYCLE) && fh_target_mirror_config(&c->tgt, c->cfg) &&
        !((errno == ENOSPC || errno == EDQUOT) && fh_target_release_reserve(&c->tgt) &&
          !fh_target_mirror_config(&c->tgt, c->cfg)))
    {
        if (errno == ENOMEM) stop_no_memory(c, c->tgt.root);
        else stop_with(c, fh_state_from_errno(errno), "cannot write the configuration to", c->tgt.root, strerror(errno));
        return -1;
    }
    if (open_catalog(c, &c->cat)) return -1;
    /* made again where the last full target took it, if there is room now */
    if (flags & FH_TARGET_CYCLE) fh_target_keep_reserve(&c->tgt);
    return 0;
}

/* Step 3. */
static int step_recover(struct cycle *c)
{
    empty_staging(c);
    if (!fh_catalog_recover(c->cat, remove_stored, c)) return 0;
    if (retry_after_full(c, c->cat) && !fh_catalog_recover(c->cat, remove_stored, c)) return 0;
    stop_with_catalog(c, c->cat, "cannot recover the catalog", c->tgt.catalog);
    return -1;
}

/* Step 4. */
static int step_begin(struct cycle *c)
{
    time_t last;

    if (fh_catalog_last_cycle_time(c->cat, &last)) { stop_with_catalog(c, c->cat, "catalog:", c->tgt.catalog); return -1; }
    c->t = time(NULL);
    if (c->t <= last) c->t = last + 1;
    c->res->cycle_time = c->t;
    if (fh_catalog_begin_cycle(c->cat, c->t, c->opt->full_scan, &c->cycle_id))
    {
        stop_with_catalog(c, c->cat, "catalog:", c->tgt.catalog);
        return -1;
    }
    c->res->cycle_id = c->cycle_id;
    c->cycle_state = FH_CYCLE_RUNNING;
    return 0;
}

static int start_batches(struct cycle *c)
{
    const char *env = getenv("FILEHISTORY_BATCH_FILES");
    char *end;
    unsigned long n;

    c->batch_max = FH_BATCH_FILES;
    if (env && *env && (n = strtoul(env, &end, 10)) >= 1 && n <= 4096 && !*end) c->batch_max = n;
    if ((env = getenv("FILEHISTORY_TEST_STOP_AFTER")) && *env) c->stop_after = strtoul(env, NULL, 10);
    for (c->index_size = 1; c->index_size < 2 * c->batch_max; c->index_size *= 2) ;
    for (int i = 0; i < 2; i++)
    {
        c->batches[i].items = calloc(c->batch_max, sizeof(*c->batches[i].items));
        c->batches[i].index = calloc(c->index_size, sizeof(*c->batches[i].index));
        if (!c->batches[i].items || !c->batches[i].index) { stop_no_memory(c, NULL); return -1; }
    }
    c->fill = &c->batches[0];
    /* SQLite connections are not shared between threads */
    return open_catalog(c, &c->flush_cat);
}

static void end_batches(struct cycle *c)
{
    wait_flush(c);
    /* a crashed cycle's copies stay on disk for recovery, as after a kill */
    for (int i = 0; i < 2; i++)
    {
        if (c->batches[i].items) reset_batch(c, &c->batches[i]);
        free(c->batches[i].items); free(c->batches[i].index);
        c->batches[i].items = NULL; c->batches[i].index = NULL;
    }
    fh_catalog_close(c->flush_cat);
    c->flush_cat = NULL;
}

/* Step 5. */
static void step_walk(struct cycle *c)
{
    if (start_batches(c)) return;
    if (c->progress && !pthread_create(&c->scanner, NULL, scanner_main, c)) c->scanning = 1;
    if (c->opt->full_scan)
    {
        for (size_t i = 0; i < c->cfg->folder_count && !cancelled(c); i++) visit_path(c, c->cfg->folders[i]);
    }
    else
    {
        for (size_t i = 0; i < c->opt->dirty_count && !cancelled(c); i++) visit_path(c, c->opt->dirty[i]);
    }
}

/* Step 6. */
static void step_retry_busy(struct cycle *c)
{
    c->retrying = 1;
    for (size_t i = 0; i < c->busy_count; i++)
    {
        struct stat st;
        if (!cancelled(c) && !lstat(c->busy[i], &st) && S_ISREG(st.st_mode)) visit_file(c, c->busy[i], &st);
        free(c->busy[i]);
    }
    free(c->busy);
    c->busy = NULL;
    c->busy_count = c->busy_cap = 0;
    c->retrying = 0;
}

/* Step 7: 0, or -1 when a test's flush hook abandoned the cycle. */
static int step_final_flush(struct cycle *c)
{
    if (!c->fill) return 0;
    wait_flush(c);
    if (c->crashed) return -1;
    if (c->opt->cancel && *c->opt->cancel && !c->abort_state && !c->abort_error)
    {
        discard_copies(c, c->fill, 0, c->fill->count);
        reset_batch(c, c->fill);
    }
    else
    {
        /* a cycle stopped by an error (target full...) still keeps the copies made */
        flush_batch(c, c->fill);
        merge_batch(c, c->fill);
    }
    return c->crashed ? -1 : 0;
}

/* Step 8. */
static void step_retention(struct cycle *c)
{
    time_t cutoff;
    if (c->cfg->retention_type != FH_RETENTION_AGE || cancelled(c)) return;
    cutoff = c->t - (time_t)c->cfg->retention_age * 86400;
    if (fh_catalog_expire(c->cat, cutoff, remove_stored, c) < 0)
        stop_with_catalog(c, c->cat, "retention:", c->tgt.catalog);
}

/* Step 9: the cycle's row and the protection state. */
static void step_end(struct cycle *c)
{
    struct fh_cycle_result *res = c->res;

    res->not_backed_up = c->not_backed_up;
    if (c->abort_error) { res->error = c->abort_error; res->state = c->saved.state; c->cycle_state = FH_CYCLE_FAILED; }
    else if (c->abort_state) { res->state = c->abort_state; c->cycle_state = FH_CYCLE_FAILED; }
    else if (c->opt->cancel && *c->opt->cancel)
    {
        res->state = c->saved.state;
        c->cycle_state = FH_CYCLE_INTERRUPTED;
        snprintf(res->message, sizeof(res->message), "cancelled");
    }
    else { res->state = FH_STATE_NO_ERROR; c->cycle_state = FH_CYCLE_DONE; }
    if (c->cat && c->cycle_id)
    {
        if (fh_catalog_end_cycle(c->cat, c->cycle_id, c->cycle_state, res->examined, res->added, res->state) &&
            retry_after_full(c, c->cat))
            fh_catalog_end_cycle(c->cat, c->cycle_id, c->cycle_state, res->examined, res->added, res->state);
        if (c->cycle_state == FH_CYCLE_DONE)
        {
            char buf[32];
            snprintf(buf, sizeof(buf), "%lld", (long long)c->t);
            fh_catalog_set_status(c->cat, "protected_until", buf);
        }
    }
    /* a cancelled cycle and one out of memory say nothing new about the target */
    if (c->cycle_state == FH_CYCLE_INTERRUPTED || c->abort_error) return;
    if (c->cycle_state == FH_CYCLE_DONE) c->saved.protected_until = c->t;
    c->saved.state = res->state;
    c->saved.not_backed_up = res->not_backed_up;
    fh_state_save(c->config_dir, &c->saved);
    if (c->cat)
    {
        char buf[16];
        snprintf(buf, sizeof(buf), "%x", res->state);
        fh_catalog_set_status(c->cat, "state", buf);
    }
}

static void cycle_init(struct cycle *c, const struct fh_config *cfg, const char *config_dir,
                       const struct fh_cycle_options *opt, struct fh_cycle_result *res)
{
    memset(c, 0, sizeof(*c));
    memset(res, 0, sizeof(*res));
    c->cfg = cfg; c->opt = opt; c->res = res; c->config_dir = config_dir;
    c->lock_fd = -1;
    c->tgt.target_fd = c->tgt.root_fd = c->tgt.conf_fd = c->tgt.data_fd = c->tgt.staging_fd = -1;
    c->progress = opt && opt->progress ? opt->progress : (opt && opt->progress_fd >= 0 ? &c->own_progress : NULL);
    if (c->progress) fh_progress_start(c->progress);
}

static void cycle_free(struct cycle *c)
{
    if (c->scanning)
    {
        c->scan_stop = 1;
        pthread_join(c->scanner, NULL);
    }
    end_batches(c);
    for (size_t i = 0; i < c->busy_count; i++) free(c->busy[i]);
    free(c->busy);
    fh_catalog_close(c->cat);
    fh_target_close(&c->tgt);
    free(c->target_real);
    if (c->lock_fd >= 0) close(c->lock_fd);
    if (c->progress) fh_progress_set(&c->progress->started_ms, 0);
}

/* What SIGBUS writes (prepared before, see the header). */
static struct
{
    char state_path[4096], temp_path[4112], line[96];
    int log_fd;
} vanished;

static void on_sigbus(int sig)
{
    static const char msg[] = "filehistory: backup failed: TARGET_ABSENT (0x15): the target's file system "
                              "went away under the cycle (SIGBUS on the catalog's memory map)\n";
    int fd = open(vanished.temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    (void)sig;
    if (fd >= 0)
    {
        if (write(fd, vanished.line, strlen(vanished.line)) > 0 && !fsync(fd)) rename(vanished.temp_path, vanished.state_path);
        close(fd);
    }
    if (vanished.log_fd >= 0 && write(vanished.log_fd, msg, sizeof(msg) - 1) < 0) { /* nothing more to do */ }
    _exit(1);
}

/* Handle SIGBUS while the cycle runs, unless the process has a handler of its own. */
static int guard_vanishing_target(struct cycle *c, struct sigaction *old)
{
    struct sigaction sa;
    if (sigaction(SIGBUS, NULL, old) || old->sa_handler != SIG_DFL) return 0;
    snprintf(vanished.state_path, sizeof(vanished.state_path), "%s/State", c->config_dir);
    snprintf(vanished.temp_path, sizeof(vanished.temp_path), "%s/.State.sigbus", c->config_dir);
    snprintf(vanished.line, sizeof(vanished.line), "%x %lld %lld\n", FH_STATE_TARGET_ABSENT,
             (long long)c->saved.protected_until, c->saved.not_backed_up);
    vanished.log_fd = c->opt->log_fd;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    return !sigaction(SIGBUS, &sa, NULL);
}

uint32_t fh_cycle_run(const struct fh_config *cfg, const char *config_dir,
                      const struct fh_cycle_options *opt, struct fh_cycle_result *res)
{
    struct sigaction old_sigbus;
    struct cycle c;
    int guarded;

    cycle_init(&c, cfg, config_dir, opt, res);
    if (!cfg->target_url)
    {
        snprintf(res->message, sizeof(res->message), "no target configured");
        return res->state = FH_STATE_NOT_TRACKED;
    }
    fh_state_load(config_dir, &c.saved);
    if (step_lock(&c)) { res->state = c.abort_state; res->error = c.abort_error; cycle_free(&c); return res->state; }
    guarded = guard_vanishing_target(&c, &old_sigbus);
    if (!step_open_target(&c, FH_TARGET_CYCLE) && !step_recover(&c) && !step_begin(&c))
    {
        /* the space the reserve gave back is for the catalog and for cleanup, not for copies */
        if (c.reserve_released)
            stop_with(&c, FH_STATE_TARGET_FULL, "the target", c.tgt.root,
                      "no space left (make room: filehistory cleanup DAYS)");
        step_walk(&c);
        step_retry_busy(&c);
        if (step_final_flush(&c))
        {
            /* as if killed: nothing more is written, the next cycle recovers */
            snprintf(res->message, sizeof(res->message), "abandoned by the flush hook");
            res->not_backed_up = c.not_backed_up;
            res->state = FH_STATE_NO_ERROR;
            cycle_free(&c);
            if (guarded) sigaction(SIGBUS, &old_sigbus, NULL);
            return res->state;
        }
        if (c.scanning) { c.scan_stop = 1; pthread_join(c.scanner, NULL); c.scanning = 0; }
        draw_progress(&c, 1);
        if (opt->progress_fd >= 0) fh_write_all(opt->progress_fd, "\n", 1);
        step_retention(&c);
    }
    step_end(&c);
    cycle_free(&c);
    if (guarded) sigaction(SIGBUS, &old_sigbus, NULL);
    return res->state;
}

/* ------------------------------------------------------------------ */
/* cleanup, restore, recovery after a stopped cycle                     */

/* cleanup and restore: the configured target and its catalog, which must
 * exist already (neither makes a target of a directory); 0, or -1 + msg */
static int open_existing_catalog(struct cycle *c, char *msg, size_t msgsize)
{
    if (!c->cfg->target_url) { snprintf(msg, msgsize, "no target configured"); return -1; }
    if (fh_target_open(c->cfg, 0, &c->tgt, msg, msgsize) != FH_STATE_NO_ERROR) return -1;
    if (faccessat(c->tgt.conf_fd, "Catalog.sqlite", F_OK, AT_SYMLINK_NOFOLLOW))
    {
        snprintf(msg, msgsize, "no backup on %s yet", c->cfg->target_url);
        return -1;
    }
    if (open_catalog(c, &c->cat)) { snprintf(msg, msgsize, "%s", c->res->message); return -1; }
    return 0;
}

long long fh_cleanup(const struct fh_config *cfg, unsigned long long days, char *msg, size_t msgsize)
{
    struct fh_cycle_options opt = { .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    long long removed = -1;

    cycle_init(&c, cfg, NULL, &opt, &res);
    if (open_existing_catalog(&c, msg, msgsize)) goto out;
    removed = fh_catalog_expire(c.cat, time(NULL) - (time_t)days * 86400, remove_stored, &c);
    /* a full target is when cleanup matters most: the reserve is for that */
    if (removed < 0 && retry_after_full(&c, c.cat))
        removed = fh_catalog_expire(c.cat, time(NULL) - (time_t)days * 86400, remove_stored, &c);
    if (removed < 0) snprintf(msg, msgsize, "catalog: %s", fh_catalog_errmsg(c.cat));
    else fh_target_keep_reserve(&c.tgt);
out:
    cycle_free(&c);
    return removed;
}

int fh_restore(const struct fh_config *cfg, const char *path, time_t at, const char *dest_dir,
               char *msg, size_t msgsize)
{
    struct fh_cycle_options opt = { .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct fh_version v = { 0 };
    struct cycle c;
    char *dir = NULL;
    const char *base;
    int found, ret = -1, vfd = -1, dfd = -1;
    struct stat st;
    uint32_t err;

    cycle_init(&c, cfg, NULL, &opt, &res);
    if (!fh_path_is_normalized(path)) { snprintf(msg, msgsize, "%s: not an absolute normalized path", path); return -1; }
    if (open_existing_catalog(&c, msg, msgsize)) goto out;
    if ((found = fh_catalog_version_at(c.cat, path, at, &v)) <= 0)
    {
        if (found < 0) snprintf(msg, msgsize, "catalog: %s", fh_catalog_errmsg(c.cat));
        else snprintf(msg, msgsize, "%s: no version at or before that time", path);
        goto out;
    }
    if (!stored_is_safe(v.stored))
    {
        snprintf(msg, msgsize, "catalog entry for %s points outside the target", path);
        goto out;
    }
    /* the version as it is in our tree: a regular file, reached without a symlink */
    if ((vfd = fh_open_regular_beneath(c.tgt.root_fd, v.stored, O_RDONLY, 0)) < 0 || fstat(vfd, &st))
    {
        snprintf(msg, msgsize, "the version of %s (%s/%s) is %s: not restored", path, c.tgt.root, v.stored,
                 errno == ELOOP ? "behind a symbolic link" : errno == ENXIO ? "not a regular file" : strerror(errno));
        goto out;
    }
    base = strrchr(path, '/') + 1;
    if (!(dir = dest_dir ? strdup(dest_dir) : strndup(path, base - 1 - path)))
    {
        snprintf(msg, msgsize, "out of memory");
        goto out;
    }
    if (!*dir) { free(dir); dir = strdup("/"); }
    if (!dir || (fh_mkdir_p(dir, 0755) && errno != EEXIST) || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        snprintf(msg, msgsize, "%s: %s", dir ? dir : "", dir ? strerror(errno) : "out of memory");
        goto out;
    }
    if ((err = fh_copy_restore(vfd, dfd, base)))
    {
        snprintf(msg, msgsize, "cannot restore %s/%s to %s/%s: %s", c.tgt.root, v.stored, dir, base, wb_error_message(err));
        goto out;
    }
    snprintf(msg, msgsize, "%s/%s", strcmp(dir, "/") ? dir : "", base);
    ret = 0;
out:
    fh_version_free(&v);
    free(dir);
    if (vfd >= 0) close(vfd);
    if (dfd >= 0) close(dfd);
    cycle_free(&c);
    return ret;
}

void fh_cycle_recover(const struct fh_config *cfg, const char *config_dir)
{
    struct fh_cycle_options opt = { .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;

    cycle_init(&c, cfg, config_dir, &opt, &res);
    /* a cycle of `filehistory run-cycle` holds the lock: it recovers by itself, and the
     * service must not wait for it */
    if (!cfg->target_url || (c.lock_fd = lock_cycles(config_dir, 0)) < 0) return;
    if (!step_open_target(&c, FH_TARGET_CYCLE)) step_recover(&c);
    cycle_free(&c);
}
