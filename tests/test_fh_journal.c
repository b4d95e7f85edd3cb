/*
 * Unit tests of the inotify change journal (libs/fh/fh_journal.c):
 * a fresh journal asks for a full scan; afterwards only changed paths are
 * reported; new directories are watched and reported; excluded folders are
 * not; a cycle forgets only what happened before its snapshot.
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_journal.c"

struct env { char *dir; char src[4200]; struct fh_config cfg; struct fh_journal *j; };

#include "fh_testfiles.h"

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    char ex[4300];
    e->dir = testutil_mkdtemp();
    snprintf(e->src, sizeof(e->src), "%s/src", e->dir);
    assert_int_equal(mkdir(e->src, 0755), 0);
    snprintf(ex, sizeof(ex), "%s/excluded", e->src);
    assert_int_equal(mkdir(ex, 0755), 0);
    assert_int_equal(fh_config_init_default(&e->cfg), 0);
    assert_int_equal(fh_config_list_add(&e->cfg.folders, &e->cfg.folder_count, e->src), 0);
    assert_int_equal(fh_config_list_add(&e->cfg.excludes, &e->cfg.exclude_count, ex), 0);
    assert_non_null(e->j = fh_journal_create(&e->cfg));
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fh_journal_free(e->j);
    fh_config_free(&e->cfg);
    testutil_rmtree(e->dir);
    free(e);
    return 0;
}

static int contains(char **v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++) if (!strcmp(v[i], path)) return 1;
    return 0;
}

/* Mark everything so far as covered by a full cycle. */
static void settle(struct env *e)
{
    size_t n;
    unsigned long long mark;
    char **v;
    fh_journal_read(e->j);
    v = fh_journal_snapshot(e->j, &n, &mark);
    fh_strv_free(v, n);
    fh_journal_done(e->j, mark, 1);
}

static void test_starts_with_full_scan(void **state)
{
    struct env *e = *state;
    size_t n;
    unsigned long long mark;
    char **v;

    assert_true(fh_journal_needs_full(e->j));
    v = fh_journal_snapshot(e->j, &n, &mark);
    assert_int_equal(n, 0);
    fh_strv_free(v, n);
    /* a cycle that was not a full scan does not make the journal trustworthy */
    fh_journal_done(e->j, mark, 0);
    assert_true(fh_journal_needs_full(e->j));
    fh_journal_done(e->j, mark, 1);
    assert_false(fh_journal_needs_full(e->j));
}

static void test_changes_recorded(void **state)
{
    struct env *e = *state;
    char a[4300], ex[4400], sub[4300], subfile[4400];
    size_t n;
    unsigned long long mark;
    char **v;

    settle(e);
    snprintf(a, sizeof(a), "%s/a.txt", e->src);
    snprintf(ex, sizeof(ex), "%s/excluded/e.txt", e->src);
    snprintf(sub, sizeof(sub), "%s/newdir", e->src);
    snprintf(subfile, sizeof(subfile), "%s/later.txt", sub);
    put(a, "a");
    put(ex, "e");
    assert_int_equal(mkdir(sub, 0755), 0);
    fh_journal_read(e->j);          /* the new directory gets its watch here */
    put(subfile, "later");
    fh_journal_read(e->j);

    assert_false(fh_journal_needs_full(e->j));
    v = fh_journal_snapshot(e->j, &n, &mark);
    assert_true(contains(v, n, a));
    assert_true(contains(v, n, sub));
    assert_true(contains(v, n, subfile));
    assert_false(contains(v, n, ex));
    fh_strv_free(v, n);
}

static void test_done_keeps_later_changes(void **state)
{
    struct env *e = *state;
    char a[4300], b[4300];
    size_t n;
    unsigned long long mark, mark2;
    char **v;

    settle(e);
    snprintf(a, sizeof(a), "%s/a.txt", e->src);
    snprintf(b, sizeof(b), "%s/b.txt", e->src);
    put(a, "a");
    fh_journal_read(e->j);
    v = fh_journal_snapshot(e->j, &n, &mark);
    assert_int_equal(n, 1);
    fh_strv_free(v, n);
    /* b changes while the cycle that took the snapshot runs */
    put(b, "b");
    fh_journal_read(e->j);
    fh_journal_done(e->j, mark, 0);
    v = fh_journal_snapshot(e->j, &n, &mark2);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], b);
    fh_strv_free(v, n);
    /* a path changed again after the snapshot stays too */
    put(b, "bb");
    fh_journal_read(e->j);
    fh_journal_done(e->j, mark2, 0);
    v = fh_journal_snapshot(e->j, &n, &mark);
    assert_int_equal(n, 1);
    fh_strv_free(v, n);
}

static void test_no_change_no_paths(void **state)
{
    struct env *e = *state;
    size_t n;
    unsigned long long mark;
    char **v;

    settle(e);
    fh_journal_read(e->j);
    v = fh_journal_snapshot(e->j, &n, &mark);
    assert_int_equal(n, 0);
    assert_false(fh_journal_needs_full(e->j));
    fh_strv_free(v, n);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_starts_with_full_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_keeps_later_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_change_no_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
