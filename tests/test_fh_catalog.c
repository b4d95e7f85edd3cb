/*
 * Unit tests of the File History catalog (libs/fh/fh_catalog.c):
 * WAL + synchronous=FULL, version lookup, the pending-entry protocol that
 * makes a killed cycle recoverable, and retention (older versions go, each
 * file's newest stays: FhManagew -cleanup semantics).
 */
#include "testutil.h"
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_catalog.c"

struct fixture { char *dir; char path[4200]; struct fh_catalog *cat; };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = testutil_mkdtemp();
    snprintf(f->path, sizeof(f->path), "%s/Catalog.sqlite", f->dir);
    assert_int_equal(fh_catalog_open(f->path, &f->cat), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fh_catalog_close(f->cat);
    testutil_rmtree(f->dir);
    free(f);
    return 0;
}

static struct stat make_stat(long long size, long long mtime, long long ino)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_size = size;
    st.st_mtim.tv_sec = mtime;
    st.st_mtim.tv_nsec = 123;
    st.st_ctim.tv_sec = mtime + 1;
    st.st_ino = ino;
    return st;
}

static long long add_version(struct fh_catalog *cat, const char *path, time_t t, long long size)
{
    long long file_id, cycle_id;
    struct stat st = make_stat(size, t - 5, 77);
    char *stored = fh_data_relpath(path, t);

    assert_non_null(stored);
    assert_int_equal(fh_catalog_file_id(cat, path, 1, &file_id), 0);
    assert_int_equal(fh_catalog_begin_cycle(cat, t, 1, &cycle_id), 0);
    assert_int_equal(fh_catalog_add_pending(cat, stored, cycle_id), 0);
    assert_int_equal(fh_catalog_begin(cat), 0);
    assert_int_equal(fh_catalog_add_version(cat, file_id, cycle_id, stored, t, &st), 0);
    assert_int_equal(fh_catalog_commit(cat), 0);
    assert_int_equal(fh_catalog_end_cycle(cat, cycle_id, FH_CYCLE_DONE, 1, 1, FH_STATE_NO_ERROR), 0);
    free(stored);
    return file_id;
}

static long long count(struct fh_catalog *cat, const char *sql)
{
    sqlite3_stmt *st;
    long long n;
    assert_int_equal(sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_pragmas(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(f->cat->db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(count(f->cat, "PRAGMA synchronous"), 2);   /* FULL */
}

static void test_file_ids(void **state)
{
    struct fixture *f = *state;
    long long a, b, again;

    assert_int_equal(fh_catalog_file_id(f->cat, "/home/a.txt", 0, &a), 0);
    assert_int_equal(a, 0);   /* absent, not created */
    assert_int_equal(fh_catalog_file_id(f->cat, "/home/a.txt", 1, &a), 0);
    assert_true(a > 0);
    assert_int_equal(fh_catalog_file_id(f->cat, "/home/b.txt", 1, &b), 0);
    assert_true(b != a);
    assert_int_equal(fh_catalog_file_id(f->cat, "/home/a.txt", 1, &again), 0);
    assert_int_equal(again, a);
    assert_int_equal(fh_catalog_file_id(f->cat, "relative", 1, &again), -1);
    assert_int_equal(fh_catalog_file_id(f->cat, "/a/../b", 1, &again), -1);
}

static void test_versions(void **state)
{
    struct fixture *f = *state;
    struct fh_version v;

    assert_int_equal(fh_catalog_latest(f->cat, "/home/a.txt", &v), 0);
    add_version(f->cat, "/home/a.txt", 1000, 10);
    add_version(f->cat, "/home/a.txt", 2000, 20);
    add_version(f->cat, "/home/a.txt", 3000, 30);

    assert_int_equal(fh_catalog_latest(f->cat, "/home/a.txt", &v), 1);
    assert_int_equal(v.version_time, 3000);
    assert_int_equal(v.size, 30);
    assert_int_equal(v.mtime_ns, 2995LL * 1000000000 + 123);
    assert_int_equal(v.ctime_ns, 2996LL * 1000000000);
    assert_int_equal(v.inode, 77);
    assert_string_equal(v.stored, "Data/C/home/a (1970_01_01 00_50_00 UTC).txt");
    fh_version_free(&v);

    assert_int_equal(fh_catalog_version_at(f->cat, "/home/a.txt", 2500, &v), 1);
    assert_int_equal(v.version_time, 2000);
    fh_version_free(&v);
    assert_int_equal(fh_catalog_version_at(f->cat, "/home/a.txt", 2000, &v), 1);   /* "at or before" */
    assert_int_equal(v.version_time, 2000);
    fh_version_free(&v);
    assert_int_equal(fh_catalog_version_at(f->cat, "/home/a.txt", 999, &v), 0);
    assert_int_equal(fh_catalog_version_at(f->cat, "/home/other.txt", 5000, &v), 0);

    {
        time_t last;
        assert_int_equal(fh_catalog_last_cycle_time(f->cat, &last), 0);
        assert_int_equal(last, 3000);
    }
    /* a stored path is unique: the same version cannot be recorded twice */
    {
        long long file_id, cycle_id;
        struct stat st = make_stat(1, 1, 1);
        assert_int_equal(fh_catalog_file_id(f->cat, "/home/a.txt", 0, &file_id), 0);
        assert_int_equal(fh_catalog_begin_cycle(f->cat, 4000, 0, &cycle_id), 0);
        assert_int_equal(fh_catalog_begin(f->cat), 0);
        assert_int_equal(fh_catalog_add_version(f->cat, file_id, cycle_id,
                         "Data/C/home/a (1970_01_01 00_50_00 UTC).txt", 4000, &st), -1);
        fh_catalog_rollback(f->cat);
        assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM versions"), 3);
    }
}

static int collect(void *ctx, const char *stored)
{
    char *buf = ctx;
    strcat(buf, stored);
    strcat(buf, "|");
    return 0;
}

static void test_recover(void **state)
{
    struct fixture *f = *state;
    char seen[1024] = "";
    long long cycle_id, id;
    int st_state, full;
    long long examined, added;

    add_version(f->cat, "/home/a.txt", 1000, 10);
    /* a cycle killed after announcing a version, before its row */
    assert_int_equal(fh_catalog_begin_cycle(f->cat, 2000, 1, &cycle_id), 0);
    assert_int_equal(fh_catalog_add_pending(f->cat, "Data/C/home/b (x).txt", cycle_id), 0);
    /* and one killed between the row's commit and ... nothing: committed rows end their pending entry */
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM pending"), 1);

    /* reopen as a new process would */
    fh_catalog_close(f->cat);
    assert_int_equal(fh_catalog_open(f->path, &f->cat), 0);
    assert_int_equal(fh_catalog_recover(f->cat, collect, seen), 0);
    assert_string_equal(seen, "Data/C/home/b (x).txt|");
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM pending"), 0);
    assert_int_equal(count(f->cat, "SELECT state FROM cycles WHERE id = 2"), FH_CYCLE_INTERRUPTED);
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM versions"), 1);
    assert_int_equal(fh_catalog_last_cycle(f->cat, &id, &st_state, &full, &examined, &added), 0);
    assert_int_equal(id, 2);
    assert_int_equal(st_state, FH_CYCLE_INTERRUPTED);
}

static void test_expire(void **state)
{
    struct fixture *f = *state;
    char seen[1024] = "";
    struct fh_version v;

    add_version(f->cat, "/home/a.txt", 100, 1);
    add_version(f->cat, "/home/a.txt", 200, 2);
    add_version(f->cat, "/home/a.txt", 300, 3);
    add_version(f->cat, "/home/old.txt", 110, 4);   /* only version: kept however old */

    assert_int_equal(fh_catalog_expire(f->cat, 250, collect, seen), 2);
    assert_string_equal(seen, "Data/C/home/a (1970_01_01 00_01_40 UTC).txt|"
                              "Data/C/home/a (1970_01_01 00_03_20 UTC).txt|");
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM versions"), 2);
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM pending"), 0);
    assert_int_equal(fh_catalog_latest(f->cat, "/home/a.txt", &v), 1);
    assert_int_equal(v.version_time, 300);
    fh_version_free(&v);
    assert_int_equal(fh_catalog_latest(f->cat, "/home/old.txt", &v), 1);
    fh_version_free(&v);
    /* nothing more to expire even with a cutoff in the future */
    seen[0] = 0;
    assert_int_equal(fh_catalog_expire(f->cat, 100000, collect, seen), 0);
    assert_string_equal(seen, "");
}

static int fail_delete(void *ctx, const char *stored)
{
    return -1;
}

static void test_expire_interrupted(void **state)
{
    struct fixture *f = *state;
    char seen[1024] = "";

    add_version(f->cat, "/home/a.txt", 100, 1);
    add_version(f->cat, "/home/a.txt", 200, 2);
    /* the file deletion fails (as if killed): the row is gone, the pending entry stays */
    assert_int_equal(fh_catalog_expire(f->cat, 150, fail_delete, NULL), -1);
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM versions"), 1);
    assert_int_equal(count(f->cat, "SELECT COUNT(*) FROM pending"), 1);
    /* recovery hands the file to delete */
    assert_int_equal(fh_catalog_recover(f->cat, collect, seen), 0);
    assert_string_equal(seen, "Data/C/home/a (1970_01_01 00_01_40 UTC).txt|");
}

static int count_cb(void *ctx, const char *path, const struct fh_version *v)
{
    (*(int *)ctx)++;
    return 0;
}

static void test_list_and_status(void **state)
{
    struct fixture *f = *state;
    int n = 0;
    char *value;

    add_version(f->cat, "/home/a.txt", 100, 1);
    add_version(f->cat, "/home/a.txt", 200, 2);
    add_version(f->cat, "/home/b.txt", 300, 3);
    assert_int_equal(fh_catalog_list_versions(f->cat, "/home/a.txt", count_cb, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(fh_catalog_list_all(f->cat, count_cb, &n), 0);
    assert_int_equal(n, 3);

    assert_null(fh_catalog_get_status(f->cat, "state"));
    assert_int_equal(fh_catalog_set_status(f->cat, "state", "ff"), 0);
    assert_int_equal(fh_catalog_set_status(f->cat, "state", "15"), 0);
    value = fh_catalog_get_status(f->cat, "state");
    assert_string_equal(value, "15");
    free(value);
}

/* A catalog that cannot be opened says why, through the one errno mapping. */
static void test_open_bad_path(void **state)
{
    struct fh_catalog *cat = (void *)1;
    assert_int_equal(fh_catalog_open("/nonexistent-dir/x/Catalog.sqlite", &cat), -1);
    assert_non_null(cat);
    assert_int_equal(fh_catalog_error(cat), WB_ERROR_FILE_NOT_FOUND);
    assert_int_equal(fh_catalog_error_state(cat), FH_STATE_TARGET_ABSENT);
    fh_catalog_close(cat);
}

/* A catalog in a directory the user cannot write: TARGET_ACCESS_DENIED,
 * checked as an ordinary user (uid 65534 when the tests run as root). */
static void test_open_denied(void **state)
{
    struct fixture *f = *state;
    char dir[4300], db[4400];
    pid_t pid;
    int status;

    snprintf(dir, sizeof(dir), "%s/ro", f->dir);
    snprintf(db, sizeof(db), "%s/Catalog.sqlite", dir);
    assert_int_equal(mkdir(dir, 0500), 0);
    if (getuid() == 0) assert_int_equal(chown(dir, 65534, 65534), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid)
    {
        struct fh_catalog *cat;
        if (getuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534))) _exit(10);
        if (fh_catalog_open(db, &cat) != -1 || !cat) _exit(11);
        if (fh_catalog_error(cat) != WB_ERROR_ACCESS_DENIED) _exit(12);
        if (fh_catalog_error_state(cat) != FH_STATE_TARGET_ACCESS_DENIED) _exit(13);
        fh_catalog_close(cat);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_status, setup, teardown),
        cmocka_unit_test(test_open_bad_path),
        cmocka_unit_test_setup_teardown(test_open_denied, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
