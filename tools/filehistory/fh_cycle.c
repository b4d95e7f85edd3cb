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
 *      wb_copy_path(WB_SECURITY) into Staging/, fsync'ed, announced as pending,
 *      renamed to its place under Data/, and only then gets its version row;
 *   5. applies the retention policy and stores the protection state.
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
#include <sys/file.h>
#include <sys/stat.h>

#include "winbackup/winbackup.h"
#include "fh.h"

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

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret;
    if (fd < 0) return -1;
    ret = fsync(fd);
    close(fd);
    return ret;
}

static void set_message(struct cycle *c, const char *what, const char *path, const char *why)
{
    snprintf(c->res->message, sizeof(c->res->message), "%s %s: %s", what, path, why);
}

/* A new version of path (st: its lstat before the copy). */
static void copy_version(struct cycle *c, const char *path, const struct stat *st, long long file_id)
{
    char *stored = NULL, *final = NULL, *staged = NULL, *slash;
    char name[64];
    uint32_t err;
    int fd;

    if (!(stored = fh_data_relpath(path, c->t))) return;   /* unrepresentable name: skipped */
    if (fh_windows_length(c->root, stored) >= FH_WIN_MAX_PATH)
    {
        if (!file_id && fh_catalog_file_id(c->cat, path, 1, &file_id)) goto catalog_error;
        free(stored);
        if (!(stored = fh_overflow_relpath(path, file_id, c->t))) return;
    }
    /* a source we cannot read is the source's problem, not the target's: skip it */
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) goto out;
    close(fd);

    snprintf(name, sizeof(name), "%lld.%lu", c->cycle_id, ++c->staged);
    if (!(staged = fh_join(c->staging, name)) || !(final = fh_join(c->root, stored))) goto out;
    if ((err = wb_copy_path(path, staged, WB_SECURITY)))
    {
        struct stat again;
        unlink(staged);
        if (lstat(path, &again) || !S_ISREG(again.st_mode)) goto out;   /* vanished meanwhile */
        if (err == WB_ERROR_FILE_NOT_FOUND || err == WB_ERROR_PATH_NOT_FOUND) goto out;
        c->abort_state = state_from_win32(err);
        set_message(c, "cannot copy", path, wb_error_message(err));
        goto out;
    }
    if (fsync_path(staged)) goto target_error;
    slash = strrchr(final, '/');
    *slash = 0;
    if (fh_mkdir_p(final, 0700)) goto target_error;
    *slash = '/';
    if (!file_id && fh_catalog_file_id(c->cat, path, 1, &file_id)) goto catalog_error;
    /* announced before it appears: a crash after the rename leaves a file recovery can find */
    if (fh_catalog_add_pending(c->cat, stored, c->cycle_id)) goto catalog_error;
    if (rename(staged, final)) goto target_error;
    *slash = 0;
    fh_fsync_dir(final);
    *slash = '/';
    if (fh_catalog_commit_version(c->cat, file_id, c->cycle_id, stored, c->t, st)) goto catalog_error;
    c->res->added++;
    progress(c, 1);
    goto out;

target_error:
    c->abort_state = fh_state_from_errno(errno);
    set_message(c, "cannot write", final ? final : stored, strerror(errno));
    if (staged) unlink(staged);
    goto out;
catalog_error:
    c->abort_state = fh_catalog_error_state(c->cat);
    set_message(c, "catalog error for", path, fh_catalog_errmsg(c->cat));
out:
    free(stored); free(final); free(staged);
}

static void visit_file(struct cycle *c, const char *path)
{
    struct stat st;
    struct fh_version v;
    long long file_id;
    int found;

    if (lstat(path, &st) || !S_ISREG(st.st_mode)) return;
    c->res->examined++;
    progress(c, 0);
    if (!fh_path_is_valid(path)) return;
    if (fh_catalog_file_id(c->cat, path, 0, &file_id)) { c->abort_state = fh_catalog_error_state(c->cat); return; }
    if (file_id)
    {
        if ((found = fh_catalog_latest(c->cat, path, &v)) < 0) { c->abort_state = fh_catalog_error_state(c->cat); return; }
        if (found)
        {
            int same = same_as_version(&st, &v);
            fh_version_free(&v);
            if (same) return;
        }
    }
    copy_version(c, path, &st, file_id);
}

static int cancelled(struct cycle *c)
{
    return c->abort_state || (c->opt->cancel && *c->opt->cancel);
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

    if (opt->full_scan)
    {
        for (size_t i = 0; i < cfg->folder_count && !cancelled(&c); i++) visit_path(&c, cfg->folders[i]);
    }
    else
    {
        for (size_t i = 0; i < opt->dirty_count && !cancelled(&c); i++) visit_path(&c, opt->dirty[i]);
    }
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
