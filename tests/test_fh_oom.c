/*
 * Out of memory in the File History engine (issue 12, items 9 and 10):
 * every allocation of the engine, one at a time, fails once; whatever
 * failed must be reported as out of memory (fh_cycle_result.error =
 * ERROR_NOT_ENOUGH_MEMORY, the stored protection state left alone), never
 * as a state of the target (TARGET_ABSENT...) and never as a file silently
 * left out of a cycle that says NO_ERROR.  The change journal must neither
 * leak nor lose a change when its allocations fail (LeakSanitizer checks
 * the first at exit).
 *
 * The engine's sources are included with malloc, calloc, realloc, strdup
 * and strndup redirected to counting wrappers: allocation number `fail_at`
 * (counted from arm()) returns NULL.  SQLite's and libwinbackup's own
 * allocations are not redirected.
 */
#include "testutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <ctype.h>
#include <time.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sqlite3.h>
#include "winbackup/winbackup.h"

static long alloc_count, fail_at;   /* fail_at > 0: the fail_at-th allocation after arm() fails */
static int failed_once;

static int should_fail(void)
{
    if (fail_at <= 0) return 0;
    if (__atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED) != fail_at) return 0;
    failed_once = 1;
    errno = ENOMEM;     /* as malloc does */
    return 1;
}
static void *t_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
static void *t_calloc(size_t n, size_t s) { return should_fail() ? NULL : calloc(n, s); }
static void *t_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n); }
static char *t_strdup(const char *s) { return should_fail() ? NULL : strdup(s); }
static char *t_strndup(const char *s, size_t n) { return should_fail() ? NULL : strndup(s, n); }
static void arm(long at) { alloc_count = 0; failed_once = 0; fail_at = at; }
static void disarm(void) { fail_at = 0; }

#define malloc(n) t_malloc(n)
#define calloc(n, s) t_calloc(n, s)
#define realloc(p, n) t_realloc(p, n)
#define strdup(s) t_strdup(s)
#define strndup(s, n) t_strndup(s, n)
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_catalog.c"
#include "../libs/fh/fh_target.c"
#include "../libs/fh/fh_progress.c"
#include "../libs/fh/fh_copy.c"
#include "../libs/fh/fh_cycle.c"
#include "../libs/fh/fh_journal.c"
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef strndup

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
    char msg[256], path[4600], name[300];

    e->dir = testutil_mkdtemp();
    snprintf(e->src, sizeof(e->src), "%s/src", e->dir);
    snprintf(e->target, sizeof(e->target), "%s/target", e->dir);
    snprintf(e->confdir, sizeof(e->confdir), "%s/conf", e->dir);
    assert_int_equal(mkdir(e->src, 0755), 0);
    assert_int_equal(mkdir(e->target, 0755), 0);
    e->cfg.user_name = strdup("alice");
    e->cfg.pc_name = strdup("pc");
    e->cfg.frequency = 3600;
    e->cfg.retention_age = FH_DEFAULT_RETENTION_AGE;
    e->cfg.dp_status = FH_STATUS_ENABLED;
    e->cfg.target_url = strdup(e->target);
    e->cfg.target_name = strdup("target");
    assert_int_equal(fh_config_list_add(&e->cfg.folders, &e->cfg.folder_count, e->src), 0);
    snprintf(e->root, sizeof(e->root), "%s/FileHistory/alice/pc", e->target);
    assert_int_equal(fh_target_provision(&e->cfg, msg, sizeof(msg)), 0);
    /* the kinds of file a cycle treats differently: plain, in a folder,
     * an over-long name ($OF), a control character ($OF) */
    snprintf(path, sizeof(path), "%s/a.txt", e->src); put(path, "a");
    snprintf(path, sizeof(path), "%s/sub", e->src); assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/sub/b.txt", e->src); put(path, "b");
    memset(name, 'n', 240); name[240] = 0;
    snprintf(path, sizeof(path), "%s/%s.txt", e->src, name); put(path, "long");
    snprintf(path, sizeof(path), "%s/ctl\001.txt", e->src); put(path, "control");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    disarm();
    fh_config_free(&e->cfg);
    testutil_rmtree(e->dir);
    free(e);
    return 0;
}

static long long versions_with_files(struct env *e, long long *files)
{
    char db[4500], path[8192];
    sqlite3 *h;
    sqlite3_stmt *st;
    long long rows = 0;
    struct stat sb;

    *files = 0;
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    if (access(db, F_OK)) return 0;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT stored FROM versions", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
    {
        snprintf(path, sizeof(path), "%s/%s", e->root, (const char *)sqlite3_column_text(st, 0));
        assert_int_equal(lstat(path, &sb), 0);   /* never a row without its file */
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT COUNT(DISTINCT file_id) FROM versions", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *files = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rows;
}

/* Every allocation of a first cycle fails once, in turn. */
static void test_cycle_out_of_memory(void **state)
{
    struct env *e = *state;
    struct fh_cycle_options opt = { .full_scan = 1, .progress_fd = -1, .log_fd = -1 };
    struct fh_cycle_result res;
    long at;
    long long files;
    int hit = 0;

    for (at = 1; at < 5000; at++)
    {
        struct fh_state before, after;
        uint32_t state;

        assert_int_equal(fh_state_load(e->confdir, &before), 0);
        arm(at);
        state = fh_cycle_run(&e->cfg, e->confdir, &opt, &res);
        disarm();
        if (!failed_once)
        {
            /* every allocation was tried: a cycle without failure covers all four files */
            assert_int_equal(state, FH_STATE_NO_ERROR);
            break;
        }
        hit++;
        versions_with_files(e, &files);
        if (res.error)
        {
            assert_int_equal(res.error, WB_ERROR_NOT_ENOUGH_MEMORY);
            assert_non_null(strstr(res.message, "out of memory"));
            /* the stored state is not the cycle's to change */
            assert_int_equal(fh_state_load(e->confdir, &after), 0);
            assert_int_equal(after.state, before.state);
        }
        else
        {
            /* the failure did not matter (a progress string, a log line):
             * then nothing may be missing */
            if (state != FH_STATE_NO_ERROR)
                fail_msg("allocation %ld: state 0x%02x (%s) instead of out of memory", at, state, res.message);
            if (files != 4) fail_msg("allocation %ld: NO_ERROR with %lld of 4 files backed up", at, files);
        }
        /* start over from an empty target for the next allocation */
        {
            char cmd[8500], msg[256];
            snprintf(cmd, sizeof(cmd), "rm -rf '%s'/FileHistory '%s'", e->target, e->confdir);
            assert_int_equal(system(cmd), 0);
            assert_int_equal(fh_target_provision(&e->cfg, msg, sizeof(msg)), 0);
        }
    }
    assert_true(hit > 20);
    assert_true(at < 5000);
    versions_with_files(e, &files);
    assert_int_equal(files, 4);
}

/* The journal's allocations fail in turn while it records changes: no
 * leak (LeakSanitizer), and no change lost: a path it could not record
 * makes it ask for a full scan. */
static void test_journal_out_of_memory(void **state)
{
    struct env *e = *state;
    long at;

    for (at = 1; at < 2000; at++)
    {
        struct fh_journal *j;
        char path[4400], **v;
        size_t n;
        unsigned long long mark;

        disarm();
        j = fh_journal_create(&e->cfg);
        assert_non_null(j);
        v = fh_journal_snapshot(j, &n, &mark);
        fh_strv_free(v, n);
        fh_journal_done(j, mark, 1);
        arm(at);
        for (int i = 0; i < 40; i++)
        {
            snprintf(path, sizeof(path), "%s/new%d.txt", e->src, i);
            put(path, "x");
        }
        fh_journal_read(j);
        v = fh_journal_snapshot(j, &n, &mark);
        if (v)
        {
            int all = 1;
            for (int i = 0; i < 40 && all; i++)
            {
                int seen = 0;
                snprintf(path, sizeof(path), "%s/new%d.txt", e->src, i);
                for (size_t k = 0; k < n; k++) if (!strcmp(v[k], path)) seen = 1;
                all = seen;
            }
            if (!all && !fh_journal_needs_full(j)) fail_msg("allocation %ld: a change was lost", at);
            fh_strv_free(v, n);
            fh_journal_done(j, mark, 0);
        }
        disarm();
        fh_journal_free(j);
        if (!failed_once) break;
    }
    assert_true(at > 5 && at < 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_cycle_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_out_of_memory, setup, teardown),
    };
    if (access("/var/tmp", W_OK) == 0) setenv("TMPDIR", "/var/tmp", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
