/*
 * A File History backup cycle, cleanup and restore.
 *
 * A cycle, for one user:
 *   1. checks the target (absent / access denied / full map to FH_STATE_*),
 *      creates FileHistory/<user>/<pc>/{Configuration,Data,Staging} and
 *      mirrors the configuration to Configuration/Config{1,2}.xml;
 *   2. recovers from an interrupted cycle: empties Staging/ (partial copies)
 *      and deletes the version files the catalog lists as pending without a
 *      row (see fh_catalog.c for the invariant);
 *   3. picks the cycle time (now, but strictly after the previous cycle so
 *      version names never collide) and records the cycle;
 *   4. visits every regular file below the protected folders (a full scan),
 *      or only the paths the change journal reported; a file whose size,
 *      mtime, ctime or inode differs from its newest version is copied with
 *      wb_copy_path(WB_SECURITY | WB_NO_SYNC) into Staging/ and joins the
 *      current batch;
 *   5. flushes a batch when it holds FH_BATCH_FILES files or FH_BATCH_BYTES
 *      bytes, and at the end of the walk:
 *        a. syncfs() on the target: every staged copy is durable;
 *        b. one transaction: each file's row (created if new) and a pending
 *           entry for each version file about to appear;
 *        c. each copy renamed to its place under Data/ (mkdir -p first);
 *        d. syncfs() again: the renames (and new directories) are durable;
 *        e. one transaction: the version rows, ending their pending entries;
 *      a batch is flushed by a thread of its own while the walk copies
 *      the next one (one flush at a time; the thread has its own catalog
 *      connection and reports its outcome in the batch, read after
 *      pthread_join), so syncfs() waits and renames overlap the copies;
 *   6. applies the retention policy and stores the protection state.
 * So, per file as before batching, a version row is committed only once its
 * file is durable at its final place, and a file appears under Data/ only
 * once its pending entry is committed: a crash between any two steps leaves
 * Staging/ leftovers (step 2 empties Staging/) or renamed files listed in
 * pending (step 2 deletes them); never a row without its file.  Grouping
 * turns ~8 syncs per file (file, directory, pending and version commits)
 * into 2 syncfs and 2 commits per batch.  syncfs() also flushes unrelated
 * dirty data of the target's file system; it is one journal commit instead
 * of one per file, which is what made the first backup slow.
 *
 * Cancellation (StopBackup, SIGINT of run-cycle) is checked between files;
 * a flush under way completes, and a cancelled cycle discards its unflushed batch (the staged copies are
 * unlinked; they have no pending entry and no row), so the partial version
 * of the cycle is what earlier batches committed.  The service's STOP kills
 * the cycle instead: recovery (step 2, or fh_cycle_recover right away)
 * discards the batch then.  A cycle stopped by an error (target full...)
 * still flushes the copies already complete, as the per-file commits did.
 * A file met twice in a cycle (a journal entry for it and for its folder)
 * is copied once: both batches are checked before the catalog.
 *
 * Per file a cycle runs one catalog query (the newest version, by path, with
 * statements prepared once per catalog: see fh_catalog.c), so a full scan
 * without changes costs little more than the walk and the lstat()s.
 *
 * FILEHISTORY_BATCH_FILES=<n> (1..4096) in the environment overrides
 * FH_BATCH_FILES; it exists for tests/filehistory-integration.sh, whose
 * kill -9 must be able to land between and inside batches of a small tree
 * (tests/test_fh_cycle.c stops a cycle after each flush step through
 * fh_cycle_options.flush_hook instead).
 *
 * Only regular files are versioned (symbolic links, devices and sockets
 * are not); the target itself and Data/ are never scanned even when they
 * lie below a protected folder.
 *
 * Concurrency: one cycle per user at a time, serialized with flock() on
 * <config dir>/cycle.lock (the service's cycles and `filehistory run-cycle`
 * share it).  Kill -9 at any point is safe: the lock goes with the process
 * and step 2 of the next cycle cleans up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "winbackup/winbackup.h"
#include "fh.h"

#define FH_BATCH_FILES 512
#define FH_BATCH_BYTES (64ll << 20)

/* A copy in Staging/ waiting for its batch to be flushed. */
struct staged_copy
{
    char *path;             /* the protected file */
    char *stored;           /* its version, relative to root */
    char *staged;           /* the copy, absolute */
    long long file_id;      /* 0: not known yet (looked up or created at the flush) */
    struct stat st;         /* lstat before the copy, recorded in the row */
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
    char message[256];
    int crashed;            /* outcome: the test hook stopped the flush dead */
};

struct cycle
{
    const struct fh_config *cfg;
    const struct fh_cycle_options *opt;
    struct fh_cycle_result *res;
    struct fh_catalog *cat;
    char *root;             /* <target>/FileHistory/<user>/<pc> */
    char *staging;          /* root/Staging */
    char *target_real;      /* the target's real path: never scanned */
    long long cycle_id;
    time_t t;
    unsigned long staged;   /* counter for staging names */
    uint32_t abort_state;   /* non-zero: stop the cycle with this FH_STATE */
    int root_fd;            /* root, for syncfs() */
    int staging_fd;         /* Staging/ */
    struct fh_catalog *flush_cat;   /* the flusher's own connection */
    struct batch batches[2];
    struct batch *fill;     /* filled by the walk */
    struct batch *inflight; /* flushed by the flusher thread meanwhile, or NULL */
    pthread_t flusher;
    size_t batch_max;
    size_t index_size;      /* a power of two, >= 2 * batch_max */
    int crashed;            /* a test's flush_hook abandoned the cycle */
};

uint32_t fh_state_from_errno(int error)
{
    switch (error)
    {
    case ENOSPC: case EDQUOT: case EFBIG: return FH_STATE_TARGET_FULL;
    case EACCES: case EPERM: case EROFS: return FH_STATE_TARGET_ACCESS_DENIED;
    default: return FH_STATE_TARGET_ABSENT;
    }
}

static uint32_t state_from_win32(uint32_t error)
{
    switch (error)
    {
    case WB_ERROR_DISK_FULL: return FH_STATE_TARGET_FULL;
    case WB_ERROR_ACCESS_DENIED: case WB_ERROR_PRIVILEGE_NOT_HELD: return FH_STATE_TARGET_ACCESS_DENIED;
    default: return FH_STATE_TARGET_ABSENT;
    }
}

static void progress(struct cycle *c, int force)
{
    char buf[96];
    int n;
    if (c->opt->progress_fd < 0) return;
    if (!force && c->res->examined % 256) return;
    n = snprintf(buf, sizeof(buf), "\rexamined %lld files, %lld new versions", c->res->examined, c->res->added);
    fh_write_all(c->opt->progress_fd, buf, n);
}

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

static void set_message(struct cycle *c, const char *what, const char *path, const char *why)
{
    snprintf(c->res->message, sizeof(c->res->message), "%s %s: %s", what, path, why);
}

/* The first error of a cycle is the one reported. */
static void stop_with(struct cycle *c, uint32_t state, const char *what, const char *path, const char *why)
{
    if (c->abort_state) return;
    c->abort_state = state;
    set_message(c, what, path, why);
}

static int cancelled(struct cycle *c)
{
    return c->crashed || c->abort_state || (c->opt->cancel && *c->opt->cancel);
}

/* A test's flush_hook may stop the cycle dead after a step. */
static int crash_after(struct cycle *c, struct batch *b, int step)
{
    if (c->opt->flush_hook && c->opt->flush_hook(c->opt->flush_ctx, step)) b->crashed = 1;
    return b->crashed;
}

static void batch_error(struct batch *b, uint32_t state, const char *what, const char *path, const char *why)
{
    if (b->state) return;
    b->state = state;
    snprintf(b->message, sizeof(b->message), "%s %s: %s", what, path, why);
}

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

static int remove_stored(void *ctx, const char *stored);

/* Remove a batch's copies from Staging/ and, for the first `placed`
 * entries, from Data/ (their pending entries stay for recovery). */
static void discard_copies(struct cycle *c, const struct batch *b, size_t placed)
{
    for (size_t i = 0; i < b->count; i++)
    {
        if (i >= placed) unlink(b->items[i].staged);
        else remove_stored(c, b->items[i].stored);
    }
}

static void reset_batch(struct cycle *c, struct batch *b)
{
    for (size_t i = 0; i < b->count; i++)
    {
        struct staged_copy *s = &b->items[i];
        free(s->path); free(s->stored); free(s->staged);
    }
    b->count = 0;
    b->bytes = 0;
    b->added = 0;
    b->state = 0;
    b->message[0] = 0;
    b->crashed = 0;
    if (b->index) memset(b->index, 0, c->index_size * sizeof(*b->index));
}

/* Steps a-e of the header, on the flusher's catalog connection; the walk
 * may run meanwhile (it reads the batch's paths, nothing else). */
static void flush_batch(struct cycle *c, struct batch *b)
{
    struct fh_catalog *cat = c->flush_cat;
    size_t n = b->count, placed, i = 0;
    char *final = NULL, *dir = NULL;
    int dir_fd = -1;

    if (!n) return;
    /* a. the data of every copy */
    if (syncfs(c->root_fd))
    {
        batch_error(b, fh_state_from_errno(errno), "cannot write", c->staging, strerror(errno));
        discard_copies(c, b, 0);
        return;
    }
    if (crash_after(c, b, FH_FLUSH_SYNCED)) return;

    /* b. announced before they appear: a crash after a rename leaves a file recovery finds */
    if (fh_catalog_begin(cat)) goto catalog_error;
    for (i = 0; i < n; i++)
    {
        struct staged_copy *s = &b->items[i];
        if ((!s->file_id && fh_catalog_file_id(cat, s->path, 1, &s->file_id)) ||
            fh_catalog_add_pending(cat, s->stored, c->cycle_id))
            goto catalog_error;
    }
    if (fh_catalog_commit(cat)) goto catalog_error;
    if (crash_after(c, b, FH_FLUSH_PENDING)) return;

    /* c. into place; consecutive files mostly share their directory */
    for (placed = 0; placed < n; placed++)
    {
        struct staged_copy *s = &b->items[placed];
        char *slash;

        if (!(final = fh_join(c->root, s->stored))) { errno = ENOMEM; break; }
        slash = strrchr(final, '/');
        *slash = 0;
        if (!dir || strcmp(dir, final))
        {
            if (dir_fd >= 0) close(dir_fd);
            dir_fd = -1;
            free(dir);
            dir = NULL;
            if (fh_mkdir_p(final, 0700) || (dir_fd = open(final, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) break;
            if (!(dir = strdup(final))) { errno = ENOMEM; break; }
        }
        *slash = '/';
        /* relative to open directories: no walk down the long paths twice per file */
        if (renameat(c->staging_fd, strrchr(s->staged, '/') + 1, dir_fd, slash + 1)) break;
        free(final);
        final = NULL;
    }
    if (placed < n)
    {
        batch_error(b, fh_state_from_errno(errno), "cannot write", final ? final : b->items[placed].stored,
                    strerror(errno));
        /* the copies already in place are complete: they still get their rows */
        for (i = placed; i < n; i++) unlink(b->items[i].staged);
    }
    free(final);
    free(dir);
    if (dir_fd >= 0) close(dir_fd);
    if (crash_after(c, b, FH_FLUSH_RENAMED)) return;

    /* d. the renames, and the directories they needed */
    if (placed && syncfs(c->root_fd))
    {
        batch_error(b, fh_state_from_errno(errno), "cannot write", c->root, strerror(errno));
        discard_copies(c, b, placed);
        return;
    }
    if (crash_after(c, b, FH_FLUSH_DURABLE)) return;

    /* e. the rows */
    if (placed)
    {
        i = 0;
        if (fh_catalog_begin(cat)) goto rows_error;
        for (i = 0; i < placed; i++)
        {
            struct staged_copy *s = &b->items[i];
            if (fh_catalog_add_version(cat, s->file_id, c->cycle_id, s->stored, c->t, &s->st)) goto rows_error;
        }
        if (fh_catalog_commit(cat)) goto rows_error;
    }
    if (crash_after(c, b, FH_FLUSH_COMMITTED)) return;
    b->added = placed;
    return;

catalog_error:
    batch_error(b, fh_catalog_error_state(cat), "catalog error for", b->items[i < n ? i : 0].path,
                fh_catalog_errmsg(cat));
    fh_catalog_rollback(cat);
    discard_copies(c, b, 0);
    return;
rows_error:
    batch_error(b, fh_catalog_error_state(cat), "catalog error for", b->items[i < placed ? i : 0].path,
                fh_catalog_errmsg(cat));
    fh_catalog_rollback(cat);
    discard_copies(c, b, placed);
}

/* Take in a flushed batch's outcome and empty it. */
static void merge_batch(struct cycle *c, struct batch *b)
{
    if (b->crashed) c->crashed = 1;
    if (b->state && !c->abort_state)
    {
        c->abort_state = b->state;
        snprintf(c->res->message, sizeof(c->res->message), "%s", b->message);
    }
    c->res->added += b->added;
    reset_batch(c, b);
    progress(c, 1);
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
    if (cancelled(c)) return;   /* the walk stops; fh_cycle_run flushes or discards */
    c->fill = b == &c->batches[0] ? &c->batches[1] : &c->batches[0];
    c->inflight = b;
    if (pthread_create(&c->flusher, NULL, flusher_main, c))
    {
        c->inflight = NULL;
        flush_batch(c, b);
        merge_batch(c, b);
    }
}

/* A new version of path (st: its lstat before the copy): staged, then flushed with its batch. */
static void copy_version(struct cycle *c, const char *path, const struct stat *st, long long file_id)
{
    char *stored = NULL, *staged = NULL, *copy = NULL;
    char name[64];
    uint32_t err;
    int fd;

    if (!(stored = fh_data_relpath(path, c->t))) return;   /* unrepresentable name: skipped */
    if (fh_windows_length(c->root, stored) >= FH_WIN_MAX_PATH)
    {
        if (!file_id && fh_catalog_file_id(c->cat, path, 1, &file_id))
        {
            stop_with(c, fh_catalog_error_state(c->cat), "catalog error for", path, fh_catalog_errmsg(c->cat));
            goto out;
        }
        free(stored);
        if (!(stored = fh_overflow_relpath(path, file_id, c->t))) return;
    }
    if (c->fill->count >= c->batch_max) goto out;   /* full and not flushed: the walk is stopping */
    snprintf(name, sizeof(name), "%lld.%lu", c->cycle_id, ++c->staged);
    if (!(staged = fh_join(c->staging, name)) || !(copy = strdup(path))) goto out;
    /* durability is the flush's: one syncfs() for the whole batch */
    if ((err = wb_copy_path(path, staged, WB_SECURITY | WB_NO_SYNC)))
    {
        struct stat again;
        unlink(staged);
        if (lstat(path, &again) || !S_ISREG(again.st_mode)) goto out;   /* vanished meanwhile */
        if (err == WB_ERROR_FILE_NOT_FOUND || err == WB_ERROR_PATH_NOT_FOUND) goto out;
        /* a source we cannot read is the source's problem, not the target's: skip it
         * (checked here rather than before every copy: an open per file costs) */
        if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) goto out;
        close(fd);
        stop_with(c, state_from_win32(err), "cannot copy", path, wb_error_message(err));
        goto out;
    }
    {
        struct batch *b = c->fill;
        struct staged_copy *s = &b->items[b->count];
        size_t h = path_hash(path) & (c->index_size - 1);

        s->path = copy; s->stored = stored; s->staged = staged;
        s->file_id = file_id;
        s->st = *st;
        while (b->index[h]) h = (h + 1) & (c->index_size - 1);
        b->index[h] = ++b->count;
        b->bytes += st->st_size;
        copy = stored = staged = NULL;
        /* a cancelled cycle discards its batch (fh_cycle_run) rather than flush it */
        if ((b->count >= c->batch_max || b->bytes >= FH_BATCH_BYTES) && !cancelled(c)) start_flush(c);
    }
out:
    free(stored); free(staged); free(copy);
}

static void visit_file(struct cycle *c, const char *path)
{
    struct stat st;
    struct fh_version v;
    long long file_id = 0;
    int found;

    if (lstat(path, &st) || !S_ISREG(st.st_mode)) return;
    c->res->examined++;
    progress(c, 0);
    if (!fh_path_is_valid(path)) return;
    /* copied a moment ago, not committed yet */
    if (in_batch(c, c->fill, path) || (c->inflight && in_batch(c, c->inflight, path))) return;
    if ((found = fh_catalog_latest(c->cat, path, &v)) < 0) { c->abort_state = fh_catalog_error_state(c->cat); return; }
    if (found)
    {
        int same = same_as_version(&st, &v);
        file_id = v.file_id;
        fh_version_free(&v);
        if (same) return;
    }
    /* not found: the file may still have a row (no version yet); the flush finds it */
    copy_version(c, path, &st, file_id);
}

static void walk_dir(struct cycle *c, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d) return;
    while (!cancelled(c) && (de = readdir(d)))
    {
        char *child;
        int type = de->d_type;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!(child = fh_join(strcmp(dir, "/") ? dir : "", de->d_name))) continue;
        if (is_skipped(c, child)) { free(child); continue; }
        if (type == DT_UNKNOWN)
        {
            struct stat st;
            if (!lstat(child, &st)) type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
        }
        if (type == DT_DIR) walk_dir(c, child);
        else if (type == DT_REG) visit_file(c, child);
        free(child);
    }
    closedir(d);
}

static void visit_path(struct cycle *c, const char *path)
{
    struct stat st;
    /* "/protected/../elsewhere" would pass the prefix test: only normalized paths */
    if (!fh_path_is_valid(path) || !is_protected(c, path) || lstat(path, &st)) return;
    if (S_ISDIR(st.st_mode)) walk_dir(c, path);
    else if (S_ISREG(st.st_mode)) visit_file(c, path);
}

/* A stored path is relative, below Data/, without "", "." or ".." components. */
static int stored_is_safe(const char *stored)
{
    char buf[8192];
    if (strncmp(stored, "Data/", 5) || strlen(stored) + 2 > sizeof(buf)) return 0;
    snprintf(buf, sizeof(buf), "/%s", stored);
    return fh_path_is_valid(buf);
}

static int remove_stored(void *ctx, const char *stored)
{
    struct cycle *c = ctx;
    char *path;
    int ret = 0;

    /* the catalog lives on removable media: never follow a row out of root */
    if (!stored_is_safe(stored)) return 0;
    if (!(path = fh_join(c->root, stored))) return -1;
    if (unlink(path) && errno != ENOENT) ret = -1;
    free(path);
    return ret;
}

static void empty_staging(struct cycle *c)
{
    DIR *d = opendir(c->staging);
    struct dirent *de;
    if (!d) return;
    while ((de = readdir(d)))
    {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* wait: block until the lock is free; else fail at once when it is held */
static int lock_cycles(const char *config_dir, int wait)
{
    char *path;
    int fd;
    if (fh_mkdir_p(config_dir, 0700) || !(path = fh_join(config_dir, "cycle.lock"))) return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)))
        if (errno != EINTR) { close(fd); return -1; }
    return fd;
}

/* Open (creating) the target's layout and catalog; FH_STATE_NO_ERROR or the problem. */
static uint32_t open_target(struct cycle *c, int create, char *msg, size_t msgsize)
{
    struct stat st;
    char *conf = NULL, *db = NULL;
    uint32_t state = FH_STATE_NO_ERROR;

    if (stat(c->cfg->target_url, &st) || !S_ISDIR(st.st_mode))
    {
        int e = errno;
        if (!stat(c->cfg->target_url, &st) && !S_ISDIR(st.st_mode)) e = ENOTDIR;
        snprintf(msg, msgsize, "target %s: %s", c->cfg->target_url, strerror(e));
        return e == EACCES ? FH_STATE_TARGET_ACCESS_DENIED : FH_STATE_TARGET_ABSENT;
    }
    c->target_real = realpath(c->cfg->target_url, NULL);
    if (!(c->root = fh_target_root(c->cfg)) || !(c->staging = fh_join(c->root, "Staging")) ||
        !(conf = fh_join(c->root, "Configuration")) || !(db = fh_join(conf, "Catalog.sqlite")))
    {
        state = FH_STATE_TARGET_ACCESS_DENIED;
        snprintf(msg, msgsize, "out of memory");
        goto out;
    }
    if (create)
    {
        char *data = fh_join(c->root, "Data");
        int failed = !data || fh_mkdir_p(conf, 0700) || fh_mkdir_p(data, 0700) || fh_mkdir_p(c->staging, 0700);
        free(data);
        if (failed)
        {
            state = fh_state_from_errno(errno);
            snprintf(msg, msgsize, "cannot create %s: %s", c->root, strerror(errno));
            goto out;
        }
        if ((errno = fh_config_mirror(conf, c->cfg)))
        {
            state = fh_state_from_errno(errno);
            snprintf(msg, msgsize, "cannot write the configuration to %s: %s", conf, strerror(errno));
            goto out;
        }
    }
    else if (access(db, F_OK))
    {
        state = FH_STATE_NOT_TRACKED;
        snprintf(msg, msgsize, "no backup on %s yet", c->cfg->target_url);
        goto out;
    }
    if (fh_catalog_open(db, &c->cat))
    {
        state = fh_state_from_errno(errno);
        snprintf(msg, msgsize, "cannot open the catalog %s", db);
    }
out:
    free(conf);
    free(db);
    return state;
}

static void close_target(struct cycle *c)
{
    fh_catalog_close(c->cat);
    free(c->root); free(c->staging); free(c->target_real);
}

static int start_batches(struct cycle *c)
{
    const char *env = getenv("FILEHISTORY_BATCH_FILES");
    char *end, *db;
    unsigned long n;
    int ret;

    c->batch_max = FH_BATCH_FILES;
    if (env && *env && (n = strtoul(env, &end, 10)) >= 1 && n <= 4096 && !*end) c->batch_max = n;
    for (c->index_size = 1; c->index_size < 2 * c->batch_max; c->index_size *= 2) ;
    for (int i = 0; i < 2; i++)
    {
        c->batches[i].items = calloc(c->batch_max, sizeof(*c->batches[i].items));
        c->batches[i].index = calloc(c->index_size, sizeof(*c->batches[i].index));
        if (!c->batches[i].items || !c->batches[i].index) return -1;
    }
    c->fill = &c->batches[0];
    /* SQLite connections are not shared between threads */
    if (!(db = fh_join(c->root, "Configuration/Catalog.sqlite"))) return -1;
    ret = fh_catalog_open(db, &c->flush_cat);
    free(db);
    return ret;
}

static void end_batches(struct cycle *c)
{
    wait_flush(c);
    /* a crashed cycle's copies stay on disk for recovery, as after a kill */
    for (int i = 0; i < 2; i++)
    {
        reset_batch(c, &c->batches[i]);
        free(c->batches[i].items); free(c->batches[i].index);
        c->batches[i].items = NULL; c->batches[i].index = NULL;
    }
    fh_catalog_close(c->flush_cat);
    c->flush_cat = NULL;
    if (c->root_fd >= 0) close(c->root_fd);
    if (c->staging_fd >= 0) close(c->staging_fd);
    c->root_fd = c->staging_fd = -1;
}

uint32_t fh_cycle_run(const struct fh_config *cfg, const char *config_dir,
                      const struct fh_cycle_options *opt, struct fh_cycle_result *res)
{
    struct cycle c;
    struct fh_state saved;
    time_t last;
    int lock;
    int state = FH_CYCLE_DONE;

    memset(&c, 0, sizeof(c));
    memset(res, 0, sizeof(*res));
    c.cfg = cfg; c.opt = opt; c.res = res;
    c.root_fd = c.staging_fd = -1;
    if (!cfg->target_url)
    {
        snprintf(res->message, sizeof(res->message), "no target configured");
        return res->state = FH_STATE_NOT_TRACKED;
    }
    if ((lock = lock_cycles(config_dir, 1)) < 0)
    {
        snprintf(res->message, sizeof(res->message), "cannot lock %s: %s", config_dir, strerror(errno));
        return res->state = FH_STATE_NOT_TRACKED;
    }
    fh_state_load(config_dir, &saved);
    if ((res->state = open_target(&c, 1, res->message, sizeof(res->message))) != FH_STATE_NO_ERROR) goto done;

    empty_staging(&c);
    if (fh_catalog_recover(c.cat, remove_stored, &c) || fh_catalog_last_cycle_time(c.cat, &last))
    {
        res->state = fh_catalog_error_state(c.cat);
        snprintf(res->message, sizeof(res->message), "catalog: %s", fh_catalog_errmsg(c.cat));
        goto done;
    }
    c.t = time(NULL);
    if (c.t <= last) c.t = last + 1;
    res->cycle_time = c.t;
    if (fh_catalog_begin_cycle(c.cat, c.t, opt->full_scan, &c.cycle_id))
    {
        res->state = fh_catalog_error_state(c.cat);
        snprintf(res->message, sizeof(res->message), "catalog: %s", fh_catalog_errmsg(c.cat));
        goto done;
    }
    res->cycle_id = c.cycle_id;
    /* the cycle is recorded: a failure from here on ends it as failed */
    if ((c.root_fd = open(c.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (c.staging_fd = open(c.staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        c.abort_state = fh_state_from_errno(errno);
        snprintf(res->message, sizeof(res->message), "%s: %s", c.root, strerror(errno));
        goto walked;
    }
    if (start_batches(&c))
    {
        c.abort_state = c.flush_cat ? FH_STATE_TARGET_ACCESS_DENIED : fh_state_from_errno(errno);
        snprintf(res->message, sizeof(res->message), "cannot prepare the copy batches");
        goto walked;
    }

    if (opt->full_scan)
    {
        for (size_t i = 0; i < cfg->folder_count && !cancelled(&c); i++) visit_path(&c, cfg->folders[i]);
    }
    else
    {
        for (size_t i = 0; i < opt->dirty_count && !cancelled(&c); i++) visit_path(&c, opt->dirty[i]);
    }
    wait_flush(&c);
    if (!c.crashed && opt->cancel && *opt->cancel)
    {
        discard_copies(&c, c.fill, 0);
        reset_batch(&c, c.fill);
    }
    else if (!c.crashed)
    {
        flush_batch(&c, c.fill);
        merge_batch(&c, c.fill);
    }
    if (c.crashed)
    {
        /* as if killed: nothing more is written, the next cycle recovers */
        snprintf(res->message, sizeof(res->message), "abandoned by the flush hook");
        end_batches(&c);
        close_target(&c);
        close(lock);
        return res->state;
    }
walked:
    progress(&c, 1);
    if (c.opt->progress_fd >= 0) fh_write_all(c.opt->progress_fd, "\n", 1);

    if (c.abort_state) { res->state = c.abort_state; state = FH_CYCLE_FAILED; }
    else if (opt->cancel && *opt->cancel)
    {
        state = FH_CYCLE_INTERRUPTED;
        snprintf(res->message, sizeof(res->message), "cancelled");
    }
    else if (cfg->retention_type == FH_RETENTION_AGE)
    {
        time_t cutoff = c.t - (time_t)cfg->retention_age * 86400;
        if (fh_catalog_expire(c.cat, cutoff, remove_stored, &c) < 0)
        {
            res->state = fh_catalog_error_state(c.cat);
            state = FH_CYCLE_FAILED;
            snprintf(res->message, sizeof(res->message), "retention: %s", fh_catalog_errmsg(c.cat));
        }
    }
    fh_catalog_end_cycle(c.cat, c.cycle_id, state, res->examined, res->added, res->state);
    if (state == FH_CYCLE_DONE)
    {
        char buf[32];
        saved.protected_until = c.t;
        snprintf(buf, sizeof(buf), "%lld", (long long)c.t);
        fh_catalog_set_status(c.cat, "protected_until", buf);
    }
done:
    if (state != FH_CYCLE_INTERRUPTED)
    {
        char buf[16];
        saved.state = res->state;
        fh_state_save(config_dir, &saved);
        if (c.cat)
        {
            snprintf(buf, sizeof(buf), "%x", res->state);
            fh_catalog_set_status(c.cat, "state", buf);
        }
    }
    end_batches(&c);
    close_target(&c);
    close(lock);
    return res->state;
}

long long fh_cleanup(const struct fh_config *cfg, unsigned long long days, char *msg, size_t msgsize)
{
    struct cycle c;
    long long removed;

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    if (!cfg->target_url) { snprintf(msg, msgsize, "no target configured"); return -1; }
    if (open_target(&c, 0, msg, msgsize) != FH_STATE_NO_ERROR) { close_target(&c); return -1; }
    removed = fh_catalog_expire(c.cat, time(NULL) - (time_t)days * 86400, remove_stored, &c);
    if (removed < 0) snprintf(msg, msgsize, "catalog: %s", fh_catalog_errmsg(c.cat));
    close_target(&c);
    return removed;
}

int fh_restore(const struct fh_config *cfg, const char *path, time_t at, const char *dest_dir,
               char *msg, size_t msgsize)
{
    struct cycle c;
    struct fh_version v;
    char *src = NULL, *dest = NULL;
    int found, ret = -1;
    uint32_t err;

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    if (!fh_path_is_valid(path)) { snprintf(msg, msgsize, "%s: not an absolute normalized path", path); return -1; }
    if (!cfg->target_url) { snprintf(msg, msgsize, "no target configured"); return -1; }
    if (open_target(&c, 0, msg, msgsize) != FH_STATE_NO_ERROR) goto out;
    if ((found = fh_catalog_version_at(c.cat, path, at, &v)) <= 0)
    {
        if (found < 0) snprintf(msg, msgsize, "catalog: %s", fh_catalog_errmsg(c.cat));
        else snprintf(msg, msgsize, "%s: no version at or before that time", path);
        goto out;
    }
    if (!stored_is_safe(v.stored))
    {
        snprintf(msg, msgsize, "catalog entry for %s points outside the target", path);
        fh_version_free(&v);
        goto out;
    }
    src = fh_join(c.root, v.stored);
    if (dest_dir) dest = fh_join(dest_dir, strrchr(path, '/') + 1);
    else dest = strdup(path);
    fh_version_free(&v);
    if (!src || !dest) { snprintf(msg, msgsize, "out of memory"); goto out; }
    {
        char *parent = strdup(dest), *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash && slash != parent) { *slash = 0; fh_mkdir_p(parent, 0755); }
        free(parent);
    }
    if ((err = wb_copy_path(src, dest, WB_SECURITY)))
    {
        snprintf(msg, msgsize, "cannot restore %s to %s: %s", src, dest, wb_error_message(err));
        goto out;
    }
    snprintf(msg, msgsize, "%s", dest);
    ret = 0;
out:
    free(src); free(dest);
    close_target(&c);
    return ret;
}

void fh_cycle_recover(const struct fh_config *cfg, const char *config_dir)
{
    struct cycle c;
    char msg[256];
    int lock;

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    /* a cycle of `filehistory run-cycle` holds the lock: it recovers by itself, and the
     * service must not wait for it */
    if (!cfg->target_url || (lock = lock_cycles(config_dir, 0)) < 0) return;
    if (open_target(&c, 0, msg, sizeof(msg)) == FH_STATE_NO_ERROR)
    {
        empty_staging(&c);
        fh_catalog_recover(c.cat, remove_stored, &c);
    }
    close_target(&c);
    close(lock);
}
