/*
 * Unit tests of a File History cycle, restore and cleanup
 * (libs/fh/fh_cycle.c) on real files in a private directory.
 *
 * Expected layout (file-history.md): versions under
 * <target>/FileHistory/<user>/<pc>/Data/C/<path>/<name> (<stamp> UTC).<ext>,
 * changed files get a new version, unchanged ones none; a version whose
 * Windows path would not fit MAX_PATH goes under Data/$OF/.
 */
#include "testutil.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sqlite3.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_catalog.c"
#include "../libs/fh/fh_target.c"
#include "../libs/fh/fh_progress.c"
#include "../libs/fh/fh_copy.c"
#include "../libs/fh/fh_cycle.c"

struct env
{
    char *dir;
    char src[4200], target[4200], confdir[4200], root[4400];
    struct fh_config cfg;
};

#include "fh_testfiles.h"

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    e->dir = testutil_mkdtemp();
    snprintf(e->src, sizeof(e->src), "%s/src", e->dir);
    snprintf(e->target, sizeof(e->target), "%s/target", e->dir);
    snprintf(e->confdir, sizeof(e->confdir), "%s/conf", e->dir);
    assert_int_equal(mkdir(e->src, 0755), 0);
    assert_int_equal(mkdir(e->target, 0755), 0);
    memset(&e->cfg, 0, sizeof(e->cfg));
    e->cfg.user_name = strdup("alice");
    e->cfg.pc_name = strdup("pc");
    e->cfg.frequency = 3600;
    e->cfg.retention_age = FH_DEFAULT_RETENTION_AGE;
    e->cfg.dp_status = FH_STATUS_ENABLED;
    e->cfg.target_url = strdup(e->target);
    e->cfg.target_name = strdup("target");
    assert_int_equal(fh_config_list_add(&e->cfg.folders, &e->cfg.folder_count, e->src), 0);
    snprintf(e->root, sizeof(e->root), "%s/FileHistory/alice/pc", e->target);
    {
        char msg[256];
        assert_int_equal(fh_target_provision(&e->cfg, msg, sizeof(msg)), 0);
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fh_config_free(&e->cfg);
    testutil_rmtree(e->dir);
    free(e);
    return 0;
}

static uint32_t run(struct env *e, struct fh_cycle_result *res)
{
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    return fh_cycle_run(&e->cfg, e->confdir, &opt, res);
}

/* path of the version of src-relative `rel` made at t */
static void version_path(struct env *e, const char *rel, time_t t, char *out, size_t size)
{
    char abs[4400], *stored;
    snprintf(abs, sizeof(abs), "%s/%s", e->src, rel);
    stored = fh_data_relpath(abs, t);
    assert_non_null(stored);
    snprintf(out, size, "%s/%s", e->root, stored);
    free(stored);
}

static long long count_rows(struct env *e, const char *sql)
{
    return catalog_count(e->root, sql);
}

static void test_first_cycle_layout(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char path[8192], link[4400], expect_dir[8192];
    struct stat st;

    put(strcat(strcpy(path, e->src), "/report.docx"), "one");
    put(strcat(strcpy(path, e->src), "/README"), "readme");
    snprintf(link, sizeof(link), "%s/link", e->src);
    assert_int_equal(symlink("report.docx", link), 0);
    snprintf(path, sizeof(path), "%s/skip", e->src);
    assert_int_equal(mkdir(path, 0755), 0);
    put(strcat(path, "/x.txt"), "x");
    snprintf(path, sizeof(path), "%s/skip", e->src);
    assert_int_equal(fh_config_list_add(&e->cfg.excludes, &e->cfg.exclude_count, path), 0);

    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.examined, 2);   /* the symlink and the excluded file are not examined */
    assert_int_equal(res.added, 2);
    version_path(e, "report.docx", res.cycle_time, path, sizeof(path));
    assert_string_equal(slurp(path), "one");
    version_path(e, "README", res.cycle_time, path, sizeof(path));
    assert_string_equal(slurp(path), "readme");
    assert_non_null(strstr(path, "/Data/C/"));
    version_path(e, "link", res.cycle_time, path, sizeof(path));
    assert_int_equal(lstat(path, &st), -1);
    snprintf(expect_dir, sizeof(expect_dir), "%s/Configuration/Config1.xml", e->root);
    assert_int_equal(stat(expect_dir, &st), 0);

    /* the protection state is stored next to the configuration */
    {
        struct fh_state s;
        assert_int_equal(fh_state_load(e->confdir, &s), 0);
        assert_int_equal(s.state, FH_STATE_NO_ERROR);
        assert_int_equal(s.protected_until, res.cycle_time);
    }
}

static void test_changes(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result r1, r2, r3, r4;
    char path[4400], v[8192];

    snprintf(path, sizeof(path), "%s/a.txt", e->src);
    put(path, "v1");
    assert_int_equal(run(e, &r1), FH_STATE_NO_ERROR);
    assert_int_equal(r1.added, 1);
    assert_int_equal(run(e, &r2), FH_STATE_NO_ERROR);
    assert_int_equal(r2.added, 0);   /* unchanged: no copy */
    /* two cycles in the same second still get distinct, increasing times */
    assert_true(r2.cycle_time > r1.cycle_time);

    put(path, "v2 longer");
    assert_int_equal(run(e, &r3), FH_STATE_NO_ERROR);
    assert_int_equal(r3.added, 1);
    version_path(e, "a.txt", r3.cycle_time, v, sizeof(v));
    assert_string_equal(slurp(v), "v2 longer");

    /* metadata only (ctime): the copy carries metadata, so it is a change too */
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(run(e, &r4), FH_STATE_NO_ERROR);
    assert_int_equal(r4.added, 1);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 3);
}

static void test_dirty_paths(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    struct fh_cycle_options opt = { .full_scan = 0, .progress_fd = -1, .log_fd = -1 };
    char a[4400], b[4400], outside[4400], sub[4400], subfile[4500], dotdot[4500];
    char *dirty[5];

    snprintf(a, sizeof(a), "%s/a.txt", e->src);
    snprintf(b, sizeof(b), "%s/b.txt", e->src);
    snprintf(outside, sizeof(outside), "%s/outside.txt", e->dir);
    snprintf(sub, sizeof(sub), "%s/newdir", e->src);
    snprintf(subfile, sizeof(subfile), "%s/f.txt", sub);
    snprintf(dotdot, sizeof(dotdot), "%s/../outside.txt", e->src);
    put(a, "a"); put(b, "b"); put(outside, "o");
    assert_int_equal(mkdir(sub, 0755), 0);
    put(subfile, "f");
    dirty[0] = a; dirty[1] = outside; dirty[2] = sub; dirty[3] = dotdot; dirty[4] = "relative.txt";
    opt.dirty = dirty;
    opt.dirty_count = 5;
    assert_int_equal(fh_cycle_run(&e->cfg, e->confdir, &opt, &res), FH_STATE_NO_ERROR);
    /* a.txt and the new directory's file; not b.txt (not reported), nothing outside */
    assert_int_equal(res.examined, 2);
    assert_int_equal(res.added, 2);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM files WHERE path LIKE '%outside%'"), 0);
    assert_int_equal(count_rows(e, "SELECT full_scan FROM cycles"), 0);
}

static void test_overflow_path(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char dir[4500], file[4600], expect[8192], name[201];
    long long id;

    memset(name, 'L', 200);
    name[200] = 0;
    snprintf(dir, sizeof(dir), "%s/%s", e->src, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof(file), "%s/deep.txt", dir);
    put(file, "deep");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.added, 1);
    id = count_rows(e, "SELECT id FROM files");
    {
        char stamp[32], *p;
        fh_format_stamp(res.cycle_time, stamp, sizeof(stamp));
        snprintf(expect, sizeof(expect), "%s/Data/$OF/%lld/deep (%s).txt", e->root, id, stamp);
        p = slurp(expect);
        assert_non_null(p);
        assert_string_equal(p, "deep");
    }
    /* restore finds it through the catalog */
    {
        char msg[512], out[4400];
        snprintf(out, sizeof(out), "%s/out", e->dir);
        assert_int_equal(mkdir(out, 0755), 0);
        assert_int_equal(fh_restore(&e->cfg, file, res.cycle_time, out, msg, sizeof(msg)), 0);
        strcat(out, "/deep.txt");
        assert_string_equal(slurp(out), "deep");
    }
}

static void test_target_problems(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    struct fh_state s;
    char moved[4400];

    snprintf(moved, sizeof(moved), "%s.away", e->target);
    assert_int_equal(rename(e->target, moved), 0);
    assert_int_equal(run(e, &res), FH_STATE_TARGET_ABSENT);
    assert_int_equal(fh_state_load(e->confdir, &s), 0);
    assert_int_equal(s.state, FH_STATE_TARGET_ABSENT);
    assert_int_equal(rename(moved, e->target), 0);

    free(e->cfg.target_url);
    e->cfg.target_url = NULL;
    assert_int_equal(run(e, &res), FH_STATE_NOT_TRACKED);
}

static void test_recovery(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    struct fh_catalog *cat;
    char db[4500], staged[4500], orphan_dir[4500], orphan[4600];
    struct stat st;

    /* a first cycle creates the layout */
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    /* then the leftovers of a cycle killed at two different points */
    snprintf(staged, sizeof(staged), "%s/Staging/99.1", e->root);
    put(staged, "partial");
    snprintf(orphan_dir, sizeof(orphan_dir), "%s/Data/C/x", e->root);
    assert_int_equal(fh_mkdir_p(orphan_dir, 0700), 0);
    snprintf(orphan, sizeof(orphan), "%s/y (2020_01_01 00_00_00 UTC).txt", orphan_dir);
    put(orphan, "renamed but not recorded");
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    assert_int_equal(fh_catalog_open(db, &cat), 0);
    assert_int_equal(fh_catalog_add_pending(cat, "Data/C/x/y (2020_01_01 00_00_00 UTC).txt", 99), 0);
    /* a hostile pending entry must not delete outside the target */
    assert_int_equal(fh_catalog_add_pending(cat, "Data/../../../../etc/passwd", 99), 0);
    fh_catalog_close(cat);

    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(lstat(staged, &st), -1);
    assert_int_equal(lstat(orphan, &st), -1);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
}

static void test_cancel(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    volatile sig_atomic_t cancel = 1;
    char path[4400];

    snprintf(path, sizeof(path), "%s/a.txt", e->src);
    put(path, "a");
    opt.cancel = &cancel;
    fh_cycle_run(&e->cfg, e->confdir, &opt, &res);
    assert_int_equal(res.added, 0);
    assert_int_equal(count_rows(e, "SELECT state FROM cycles"), FH_CYCLE_INTERRUPTED);
}

static void test_restore_and_cleanup(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result r1, r2;
    char path[4400], msg[512];
    struct fh_catalog *cat;
    char db[4500];

    snprintf(path, sizeof(path), "%s/doc.txt", e->src);
    put(path, "first");
    assert_int_equal(run(e, &r1), FH_STATE_NO_ERROR);
    put(path, "second!");
    assert_int_equal(run(e, &r2), FH_STATE_NO_ERROR);

    assert_int_equal(fh_restore(&e->cfg, path, r1.cycle_time, NULL, msg, sizeof(msg)), 0);
    assert_string_equal(slurp(path), "first");
    assert_int_equal(fh_restore(&e->cfg, path, r2.cycle_time, NULL, msg, sizeof(msg)), 0);
    assert_string_equal(slurp(path), "second!");
    assert_int_equal(fh_restore(&e->cfg, path, r1.cycle_time - 1, NULL, msg, sizeof(msg)), -1);
    assert_int_equal(fh_restore(&e->cfg, "relative/doc.txt", r2.cycle_time, NULL, msg, sizeof(msg)), -1);
    assert_int_equal(fh_restore(&e->cfg, "/a/../doc.txt", r2.cycle_time, NULL, msg, sizeof(msg)), -1);

    /* make the first version old, then clean up versions older than a day */
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    assert_int_equal(fh_catalog_open(db, &cat), 0);
    assert_int_equal(sqlite3_exec(cat->db, "UPDATE versions SET version_time = version_time - 10 * 86400"
                                  " WHERE cycle_id = 1", NULL, NULL, NULL), SQLITE_OK);
    fh_catalog_close(cat);
    assert_int_equal(fh_cleanup(&e->cfg, 1, msg, sizeof(msg)), 1);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 1);
    {
        char v[8192];
        struct stat st;
        version_path(e, "doc.txt", r1.cycle_time, v, sizeof(v));
        assert_int_equal(lstat(v, &st), -1);   /* its file went with it */
        version_path(e, "doc.txt", r2.cycle_time, v, sizeof(v));
        assert_int_equal(lstat(v, &st), 0);
    }
    /* the newest version stays however old */
    assert_int_equal(fh_cleanup(&e->cfg, 1, msg, sizeof(msg)), 0);
}

/* The rows of a batch against the disk, from a connection of our own. */
struct flush_probe
{
    struct env *e;
    int crash_step;             /* crash after this step ... */
    int crash_batch;            /* ... of this batch (1-based); 0: never */
    int batch;                  /* batches that reached FH_FLUSH_SYNCED */
    int calls;
    int bad;                    /* rows seen without their file */
    int cancel;                 /* cancel the cycle after the first batch is committed */
    pthread_t walker;           /* the thread running the cycle */
};

/* The cancel flag is set by a signal handler on the cycle's thread, as in
 * `filehistory run-cycle` (the hook runs on the flusher thread). */
static volatile sig_atomic_t cancel_flag;
static void on_test_signal(int sig) { (void)sig; cancel_flag = 1; }

/* Rows whose file is not at its final place; -1 when the catalog cannot be
 * read.  No cmocka assertion: the flush hook runs on the cycle's flusher thread. */
static long long rows_without_files(struct env *e, long long *rows)
{
    char db[4500], path[8192];
    sqlite3 *h;
    sqlite3_stmt *st;
    long long bad = 0;
    struct stat sb;

    *rows = 0;
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    if (sqlite3_open(db, &h) != SQLITE_OK) { sqlite3_close(h); return -1; }
    if (sqlite3_prepare_v2(h, "SELECT stored FROM versions", -1, &st, NULL) != SQLITE_OK)
    {
        sqlite3_close(h);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
    {
        snprintf(path, sizeof(path), "%s/%s", e->root, (const char *)sqlite3_column_text(st, 0));
        if (lstat(path, &sb) || !S_ISREG(sb.st_mode)) bad++;
        (*rows)++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return bad;
}

/* Every versions row names a file at its final place; returns the row count. */
static long long rows_with_files(struct env *e)
{
    long long rows;
    assert_int_equal(rows_without_files(e, &rows), 0);
    return rows;
}

static long long count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    long long n = 0;
    if (!d) return 0;
    while ((de = readdir(d)))
    {
        char child[8192];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) n += count_files(child);
        else n++;
    }
    closedir(d);
    return n;
}

static int probe_hook(void *ctx, int step)
{
    struct flush_probe *p = ctx;
    long long rows;
    p->calls++;
    if (step == FH_FLUSH_SYNCED) p->batch++;
    if (rows_without_files(p->e, &rows)) p->bad++;   /* after every step, not only after the last */
    if (p->cancel && step == FH_FLUSH_COMMITTED && p->batch == 1) pthread_kill(p->walker, SIGUSR1);
    return p->batch == p->crash_batch && step == p->crash_step;
}

static void make_files(struct env *e, int n)
{
    char path[4400], text[32];
    for (int i = 0; i < n; i++)
    {
        snprintf(path, sizeof(path), "%s/f%d.txt", e->src, i);
        snprintf(text, sizeof(text), "file %d", i);
        put(path, text);
    }
}

/* A crash after each step of a batch flush: no row without its file, and
 * the next cycle cleans up and backs up each file exactly once. */
static void test_batch_crash_points(void **state)
{
    struct env *e = *state;
    char staging[4500], data[4500];

    snprintf(staging, sizeof(staging), "%s/Staging", e->root);
    snprintf(data, sizeof(data), "%s/Data", e->root);
    setenv("FILEHISTORY_BATCH_FILES", "2", 1);
    make_files(e, 5);
    {
        struct fh_cycle_result first;
        assert_int_equal(run(e, &first), FH_STATE_NO_ERROR);   /* 3 batches, no hook */
        assert_int_equal(first.added, 5);
        assert_int_equal(rows_with_files(e), 5);
    }
    for (int step = FH_FLUSH_SYNCED; step <= FH_FLUSH_COMMITTED; step++)
    {
        struct flush_probe p = { .e = e, .crash_step = step, .crash_batch = 2 };
        struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1, .flush_hook = probe_hook, .flush_ctx = &p };
        struct fh_cycle_result res;
        long long expect = step == FH_FLUSH_COMMITTED ? 4 : 2, rows;

        /* a new version of every file each round */
        for (int i = 0; i < 5; i++)
        {
            char f[4500], text[64];
            snprintf(f, sizeof(f), "%s/f%d.txt", e->src, i);
            snprintf(text, sizeof(text), "file %d, round %d", i, step);
            put(f, text);
        }
        rows = count_rows(e, "SELECT COUNT(*) FROM versions");
        fh_cycle_run(&e->cfg, e->confdir, &opt, &res);
        assert_int_equal(p.batch, 2);
        assert_int_equal(p.bad, 0);
        /* the first batch committed, the second only when the crash came after its commit */
        assert_int_equal(rows_with_files(e) - rows, expect);
        assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"),
                         step >= FH_FLUSH_PENDING && step < FH_FLUSH_COMMITTED ? 2 : 0);
        assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM cycles WHERE state = 0"), 1);
        /* copies of the crashed batch not yet renamed are in Staging/, and so is
         * the fifth file's: the walk copied it while the second batch was flushed */
        assert_int_equal(count_files(staging), (step <= FH_FLUSH_PENDING ? 2 : 0) + 1);

        opt.flush_hook = NULL;
        assert_int_equal(fh_cycle_run(&e->cfg, e->confdir, &opt, &res), FH_STATE_NO_ERROR);
        assert_int_equal(res.added, 5 - (expect - 2) - 2);
        assert_int_equal(count_files(staging), 0);
        assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
        rows = rows_with_files(e);
        assert_int_equal(count_files(data), rows);   /* no orphan */
        assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM cycles WHERE state = 0"), 0);
    }
    /* the first cycle and 5 rounds, each file once per round (completed by the cycle after the crash) */
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 5 + 5 * 5);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM (SELECT file_id, cycle_id FROM versions"
                                   " GROUP BY file_id, cycle_id HAVING COUNT(*) > 1)"), 0);
    unsetenv("FILEHISTORY_BATCH_FILES");
}

/* Cancel after the first batch: the rest is discarded, nothing half-done. */
static void test_batch_cancel(void **state)
{
    struct env *e = *state;
    struct flush_probe p = { .e = e, .cancel = 1, .walker = pthread_self() };
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1, .flush_hook = probe_hook, .flush_ctx = &p };
    struct fh_cycle_result res;
    char staging[4500], data[4500];

    snprintf(staging, sizeof(staging), "%s/Staging", e->root);
    snprintf(data, sizeof(data), "%s/Data", e->root);
    setenv("FILEHISTORY_BATCH_FILES", "3", 1);
    make_files(e, 8);
    cancel_flag = 0;
    signal(SIGUSR1, on_test_signal);
    opt.cancel = &cancel_flag;
    fh_cycle_run(&e->cfg, e->confdir, &opt, &res);
    signal(SIGUSR1, SIG_DFL);
    assert_int_equal(cancel_flag, 1);
    unsetenv("FILEHISTORY_BATCH_FILES");
    assert_int_equal(p.batch, 1);
    assert_int_equal(p.bad, 0);
    assert_int_equal(res.added, 3);
    assert_int_equal(rows_with_files(e), 3);
    assert_int_equal(count_files(data), 3);
    assert_int_equal(count_files(staging), 0);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
    assert_int_equal(count_rows(e, "SELECT state FROM cycles"), FH_CYCLE_INTERRUPTED);
}

/* A file reported twice (itself and its folder) is copied once. */
static void test_batch_duplicate_path(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    struct fh_cycle_options opt = { .full_scan = 0, .progress_fd = -1, .log_fd = -1 };
    char a[4400];
    char *dirty[3];

    snprintf(a, sizeof(a), "%s/a.txt", e->src);
    put(a, "a");
    dirty[0] = a; dirty[1] = e->src; dirty[2] = a;
    opt.dirty = dirty;
    opt.dirty_count = 3;
    assert_int_equal(fh_cycle_run(&e->cfg, e->confdir, &opt, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.examined, 3);
    assert_int_equal(res.added, 1);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 1);
}

/* ------------------------------------------------------------------ */
/* The steps of fh_cycle_run, one by one (issue 12, item 12): what each
 * leaves behind for the next. */

static void steps_init(struct env *e, struct cycle *c, struct fh_cycle_options *opt, struct fh_cycle_result *res)
{
    cycle_init(c, &e->cfg, e->confdir, opt, res);
    fh_state_load(e->confdir, &c->saved);
}

/* Step 1: the lock is held until cycle_free; a second cycle cannot take it. */
static void test_step_lock(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    int other;

    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(lock_cycles(e->confdir, 0), -1);     /* held */
    cycle_free(&c);
    assert_true((other = lock_cycles(e->confdir, 0)) >= 0);
    close(other);
}

/* Step 2: the target's fds, the mirrored configuration, the catalog;
 * refused when the identity does not match (nothing made on that disk). */
static void test_step_open_target(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    char p[4600];
    struct stat st;

    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_true(c.tgt.root_fd >= 0 && c.tgt.data_fd >= 0 && c.tgt.staging_fd >= 0);
    assert_non_null(c.cat);
    snprintf(p, sizeof(p), "%s/Configuration/Config1.xml", e->root);
    assert_int_equal(stat(p, &st), 0);
    cycle_free(&c);

    free(e->cfg.target_id);
    e->cfg.target_id = strdup("ffffffffffffffffffffffffffffffff");
    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), -1);
    assert_int_equal(c.abort_state, FH_STATE_TARGET_ABSENT);
    assert_null(c.cat);
    cycle_free(&c);
}

/* Steps 3 and 4: Staging/ emptied and pending rows cleared; then a cycle row,
 * running, whose time follows the last cycle's. */
static void test_step_recover_and_begin(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res, first;
    struct cycle c;
    char staged[4600];
    struct stat st;

    assert_int_equal(run(e, &first), FH_STATE_NO_ERROR);
    snprintf(staged, sizeof(staged), "%s/Staging/7.7", e->root);
    put(staged, "left by a killed cycle");
    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_int_equal(fh_catalog_add_pending(c.cat, "Data/C/nothing (2020_01_01 00_00_00 UTC)", 9), 0);
    assert_int_equal(step_recover(&c), 0);
    assert_int_equal(lstat(staged, &st), -1);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
    assert_int_equal(step_begin(&c), 0);
    assert_true(c.t > first.cycle_time);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM cycles WHERE state = 0"), 1);
    cycle_free(&c);
}

/* Steps 5 and 7: the walk fills a batch (nothing is in Data/ yet); the final
 * flush places it and writes the rows. */
static void test_step_walk_and_flush(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    char v[8192];
    struct stat st;

    make_files(e, 3);
    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_int_equal(step_recover(&c), 0);
    assert_int_equal(step_begin(&c), 0);
    step_walk(&c);
    assert_int_equal(res.examined, 3);
    assert_int_equal(c.fill->count, 3);
    version_path(e, "f0.txt", c.t, v, sizeof(v));
    assert_int_equal(lstat(v, &st), -1);
    assert_int_equal(step_final_flush(&c), 0);
    assert_int_equal(res.added, 3);
    assert_int_equal(lstat(v, &st), 0);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 3);
    step_end(&c);
    assert_int_equal(res.state, FH_STATE_NO_ERROR);
    cycle_free(&c);
}

/* Step 6: a file that was busy in the walk gets its second chance; one
 * that is gone by then is nobody's loss. */
static void test_step_retry_busy(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 0, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    char path[4400], gone[4400];

    snprintf(path, sizeof(path), "%s/quiet-now.txt", e->src);
    snprintf(gone, sizeof(gone), "%s/gone.txt", e->src);
    put(path, "it rests now");
    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_int_equal(step_recover(&c), 0);
    assert_int_equal(step_begin(&c), 0);
    step_walk(&c);                      /* no dirty paths: nothing */
    remember_busy(&c, path);
    remember_busy(&c, gone);
    step_retry_busy(&c);
    assert_int_equal(c.busy_count, 0);
    assert_int_equal(c.fill->count, 1);
    assert_int_equal(c.not_backed_up, 0);
    assert_int_equal(step_final_flush(&c), 0);
    step_end(&c);
    assert_int_equal(res.added, 1);
    cycle_free(&c);
}

/* Step 8: with an age policy, a version older than it goes unless it is its file's newest. */
static void test_step_retention(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result r1, r2, r3;
    char path[4400];

    snprintf(path, sizeof(path), "%s/doc.txt", e->src);
    put(path, "one");
    assert_int_equal(run(e, &r1), FH_STATE_NO_ERROR);
    put(path, "two!");
    assert_int_equal(run(e, &r2), FH_STATE_NO_ERROR);
    {
        char db[4500];
        sqlite3 *h;
        snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "UPDATE versions SET version_time = version_time - 40 * 86400", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(h);
    }
    e->cfg.retention_type = FH_RETENTION_AGE;
    e->cfg.retention_age = 30;
    assert_int_equal(run(e, &r3), FH_STATE_NO_ERROR);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions"), 1);
    {
        char v[8192];
        struct stat st;
        version_path(e, "doc.txt", r1.cycle_time, v, sizeof(v));
        assert_int_equal(lstat(v, &st), -1);
        version_path(e, "doc.txt", r2.cycle_time, v, sizeof(v));
        assert_int_equal(lstat(v, &st), 0);
    }
}

/* Step 9: what is stored; out of memory stores nothing new. */
static void test_step_end(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    struct cycle c;
    struct fh_state s;

    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_int_equal(step_begin(&c), 0);
    c.not_backed_up = 2;
    step_end(&c);
    assert_int_equal(res.state, FH_STATE_NO_ERROR);
    assert_int_equal(res.not_backed_up, 2);
    assert_int_equal(fh_state_load(e->confdir, &s), 0);
    assert_int_equal(s.state, FH_STATE_NO_ERROR);
    assert_int_equal(s.protected_until, c.t);
    assert_int_equal(s.not_backed_up, 2);
    assert_int_equal(count_rows(e, "SELECT state FROM cycles"), FH_CYCLE_DONE);
    cycle_free(&c);

    steps_init(e, &c, &opt, &res);
    assert_int_equal(step_lock(&c), 0);
    assert_int_equal(step_open_target(&c, FH_TARGET_CYCLE), 0);
    assert_int_equal(step_begin(&c), 0);
    stop_no_memory(&c, "/somewhere");
    step_end(&c);
    assert_int_equal(res.error, WB_ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(res.state, FH_STATE_NO_ERROR);     /* the stored state, not a target state */
    assert_int_equal(fh_state_load(e->confdir, &s), 0);
    assert_int_equal(s.not_backed_up, 2);               /* untouched */
    assert_int_equal(count_rows(e, "SELECT state FROM cycles ORDER BY id DESC LIMIT 1"), FH_CYCLE_FAILED);
    cycle_free(&c);
}

/* A target that vanishes under a cycle can raise SIGBUS (SQLite's memory
 * map of the WAL index): the guard stores TARGET_ABSENT and ends the
 * process with status 1, saying why. */
static void test_sigbus_guard(void **state)
{
    struct env *e = *state;
    int pipefd[2], status;
    pid_t pid;
    char buf[512] = "";
    ssize_t n;

    assert_int_equal(mkdir(e->confdir, 0700), 0);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid)
    {
        struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = pipefd[1] };
        struct fh_cycle_result res;
        struct sigaction old;
        struct cycle c;
        cycle_init(&c, &e->cfg, e->confdir, &opt, &res);
        c.saved.protected_until = 1234;
        signal(SIGBUS, SIG_DFL);   /* cmocka catches it otherwise */
        if (!guard_vanishing_target(&c, &old)) _exit(50);
        raise(SIGBUS);
        _exit(51);
    }
    close(pipefd[1]);
    n = read(pipefd[0], buf, sizeof(buf) - 1);
    close(pipefd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "TARGET_ABSENT (0x15)"));
    {
        struct fh_state st;
        assert_int_equal(fh_state_load(e->confdir, &st), 0);
        assert_int_equal(st.state, FH_STATE_TARGET_ABSENT);
        assert_int_equal(st.protected_until, 1234);
    }
}

/* A named stream the backup stream cannot carry (a ':' in its name) is
 * counted and logged: the file's version exists, but not all of it. */
static void test_dropped_named_stream_counted(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    char path[4400];
    int logp[2];
    char buf[1024] = "";

    snprintf(path, sizeof(path), "%s/streams.txt", e->src);
    put(path, "data");
    if (setxattr(path, "user.DosStream.good:$DATA", "fine", 5, 0)) { skip(); return; }
    assert_int_equal(setxattr(path, "user.DosStream.bad:name:$DATA", "lost", 5, 0), 0);
    assert_int_equal(pipe(logp), 0);
    opt.log_fd = logp[1];
    assert_int_equal(fh_cycle_run(&e->cfg, e->confdir, &opt, &res), FH_STATE_NO_ERROR);
    close(logp[1]);
    assert_true(read(logp[0], buf, sizeof(buf) - 1) > 0);
    close(logp[0]);
    assert_int_equal(res.added, 1);
    assert_int_equal(res.not_backed_up, 1);
    assert_non_null(strstr(buf, "streams.txt"));
    assert_non_null(strstr(buf, "named stream"));
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_first_cycle_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_and_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_crash_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_duplicate_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_open_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_recover_and_begin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_walk_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_retry_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigbus_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_named_stream_counted, setup, teardown),
    };
    /* versions carry xattrs: use the real disk rather than a tmpfs /tmp unless told otherwise */
    if (access("/var/tmp", W_OK) == 0) setenv("TMPDIR", "/var/tmp", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
