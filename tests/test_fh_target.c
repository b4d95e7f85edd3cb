/*
 * Unit tests of path resolution inside a target (libs/fh/fh_util.c) and of
 * opening a target (libs/fh/fh_target.c): nothing is followed out of the
 * directory fd, by openat2 and by the per-component walk alike; atomic
 * writes cannot be redirected by planted names; a target is recognised by
 * its identity; the catalog's files must be plain single-link files.
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_target.c"

struct env { char *dir; char inside[4200], outside[4200]; int fd; };

#include "fh_testfiles.h"

/* inside/: a/b/file, link -> ../outside (a directory), flink -> outside/secret */
static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    char p[4400];
    e->dir = testutil_mkdtemp();
    snprintf(e->inside, sizeof(e->inside), "%s/inside", e->dir);
    snprintf(e->outside, sizeof(e->outside), "%s/outside", e->dir);
    assert_int_equal(mkdir(e->inside, 0755), 0);
    assert_int_equal(mkdir(e->outside, 0755), 0);
    snprintf(p, sizeof(p), "%s/secret", e->outside); put(p, "secret");
    snprintf(p, sizeof(p), "%s/a", e->inside); assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/a/b", e->inside); assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/a/b/file", e->inside); put(p, "file");
    snprintf(p, sizeof(p), "%s/link", e->inside); assert_int_equal(symlink(e->outside, p), 0);
    snprintf(p, sizeof(p), "%s/flink", e->inside);
    {
        char t[4400];
        snprintf(t, sizeof(t), "%s/secret", e->outside);
        assert_int_equal(symlink(t, p), 0);
    }
    assert_true((e->fd = open(e->inside, O_RDONLY | O_DIRECTORY)) >= 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    close(e->fd);
    testutil_rmtree(e->dir);
    free(e);
    fh_use_openat2 = 1;
    return 0;
}

static void check_open_beneath(struct env *e)
{
    int fd;
    char buf[16];

    assert_true((fd = fh_open_beneath(e->fd, "a/b/file", O_RDONLY, 0)) >= 0);
    assert_int_equal(read(fd, buf, 4), 4);
    close(fd);
    errno = 0;
    assert_int_equal(fh_open_beneath(e->fd, "link/secret", O_RDONLY, 0), -1);
    assert_int_equal(errno, ELOOP);
    errno = 0;
    assert_int_equal(fh_open_beneath(e->fd, "flink", O_RDONLY, 0), -1);
    assert_int_equal(errno, ELOOP);
    errno = 0;
    assert_int_equal(fh_open_beneath(e->fd, "link", O_RDONLY | O_DIRECTORY, 0), -1);
    assert_int_equal(errno, ELOOP);
    /* lexical escapes never reach the kernel */
    errno = 0;
    assert_int_equal(fh_open_beneath(e->fd, "a/../../outside/secret", O_RDONLY, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fh_open_beneath(e->fd, "/etc/passwd", O_RDONLY, 0), -1);
    assert_int_equal(fh_open_beneath(e->fd, "a//b/file", O_RDONLY, 0), -1);
    assert_int_equal(fh_open_beneath(e->fd, "a/./b/file", O_RDONLY, 0), -1);
    assert_int_equal(fh_open_beneath(e->fd, "", O_RDONLY, 0), -1);
    /* creating through a symlinked directory is refused, nothing appears outside */
    assert_int_equal(fh_open_beneath(e->fd, "link/new", O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
    {
        char p[4400];
        struct stat st;
        snprintf(p, sizeof(p), "%s/new", e->outside);
        assert_int_equal(lstat(p, &st), -1);
    }
}

static void test_open_beneath_openat2(void **state)
{
    fh_use_openat2 = 1;
    check_open_beneath(*state);
}

static void test_open_beneath_walk(void **state)
{
    /* the kernel without openat2: one component at a time, O_NOFOLLOW */
    fh_use_openat2 = 0;
    check_open_beneath(*state);
}

static void test_mkdirs_beneath(void **state)
{
    struct env *e = *state;
    char p[4400];
    struct stat st;
    int fd;

    for (int walk = 0; walk < 2; walk++)
    {
        fh_use_openat2 = !walk;
        assert_true((fd = fh_mkdirs_beneath(e->fd, walk ? "x/y/z" : "p/q/r", 0700)) >= 0);
        close(fd);
        assert_true((fd = fh_mkdirs_beneath(e->fd, "a/b", 0700)) >= 0);   /* exists */
        close(fd);
        errno = 0;
        assert_int_equal(fh_mkdirs_beneath(e->fd, "link/made", 0700), -1);
        assert_int_equal(errno, ELOOP);
        snprintf(p, sizeof(p), "%s/made", e->outside);
        assert_int_equal(lstat(p, &st), -1);
        errno = 0;
        assert_int_equal(fh_mkdirs_beneath(e->fd, "a/b/file/sub", 0700), -1);
        assert_int_equal(errno, ENOTDIR);
    }
    snprintf(p, sizeof(p), "%s/x/y/z", e->inside);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_unlink_beneath(void **state)
{
    struct env *e = *state;
    char p[4400];
    struct stat st;

    /* through a symlinked directory: refused; the symlink itself: removed, not its target */
    assert_int_equal(fh_unlink_beneath(e->fd, "link/secret"), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(fh_unlink_beneath(e->fd, "flink"), 0);
    snprintf(p, sizeof(p), "%s/secret", e->outside);
    assert_string_equal(slurp(p), "secret");
    snprintf(p, sizeof(p), "%s/flink", e->inside);
    assert_int_equal(lstat(p, &st), -1);
    assert_int_equal(fh_unlink_beneath(e->fd, "a/b/file"), 0);
    assert_int_equal(fh_unlink_beneath(e->fd, "a/../link"), -1);
    assert_int_equal(errno, EINVAL);
}

/* Planted names in a shared directory neither receive the data nor stop the write. */
static void test_write_atomic_planted(void **state)
{
    struct env *e = *state;
    char p[4400], t[4400];

    /* the names of the old scheme (path.tmp.PID) and some random-looking ones */
    snprintf(p, sizeof(p), "%s/endpoint.tmp.%ld", e->inside, (long)getpid());
    put(p, "");
    chmod(p, 0666);
    snprintf(t, sizeof(t), "%s/secret", e->outside);
    snprintf(p, sizeof(p), "%s/.endpoint.0000000000000000.tmp", e->inside);
    assert_int_equal(symlink(t, p), 0);
    snprintf(p, sizeof(p), "%s/endpoint", e->inside);
    assert_int_equal(fh_write_file_atomic(p, "1234 secretline\n", 16, 0600), 0);
    assert_string_equal(slurp(p), "1234 secretline\n");
    snprintf(p, sizeof(p), "%s/endpoint.tmp.%ld", e->inside, (long)getpid());
    assert_string_equal(slurp(p), "");
    assert_string_equal(slurp(t), "secret");
    /* a symlink in place of the file is replaced, not written through */
    snprintf(p, sizeof(p), "%s/flink", e->inside);
    assert_int_equal(fh_write_file_atomic(p, "mine", 4, 0600), 0);
    assert_string_equal(slurp(t), "secret");
    assert_string_equal(slurp(p), "mine");
}

/* ------------------------------------------------------------------ */
/* targets                                                             */

static void make_config(struct env *e, struct fh_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->user_name = strdup("alice");
    cfg->pc_name = strdup("pc");
    cfg->frequency = 3600;
    cfg->retention_age = FH_DEFAULT_RETENTION_AGE;
    cfg->dp_status = FH_STATUS_ENABLED;
    cfg->target_url = strdup(e->inside);
}

static void test_identity(void **state)
{
    struct env *e = *state;
    struct fh_config cfg, other;
    struct fh_target t;
    char msg[512], first[FH_TARGET_ID_LEN + 1], p[4400];

    make_config(e, &cfg);
    /* not provisioned: nothing of ours there */
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ABSENT);
    assert_int_equal(fh_target_provision(&cfg, msg, sizeof(msg)), 0);
    assert_int_equal(strlen(cfg.target_id), FH_TARGET_ID_LEN);
    strcpy(first, cfg.target_id);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_NO_ERROR);
    assert_true(t.data_fd >= 0 && t.staging_fd >= 0 && t.conf_fd >= 0);
    fh_target_close(&t);
    /* provisioning again (reassociation) keeps the identity */
    assert_int_equal(fh_target_provision(&cfg, msg, sizeof(msg)), 0);
    assert_string_equal(cfg.target_id, first);
    /* another configuration's identity: not this disk */
    make_config(e, &other);
    other.target_id = strdup("0123456789abcdef0123456789abcdef");
    assert_int_equal(fh_target_open(&other, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ABSENT);
    assert_non_null(strstr(msg, "not the configured target"));
    /* without FH_TARGET_CYCLE (restore, cleanup) any File History of ours is usable */
    assert_int_equal(fh_target_open(&other, 0, &t, msg, sizeof(msg)), FH_STATE_NO_ERROR);
    fh_target_close(&t);
    /* a configuration from before identities: only where a catalog is */
    free(other.target_id);
    other.target_id = NULL;
    assert_int_equal(fh_target_open(&other, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ABSENT);
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Configuration/Catalog.sqlite", e->inside);
    put(p, "");
    assert_int_equal(fh_target_open(&other, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_NO_ERROR);
    fh_target_close(&t);
    /* a crafted identity file */
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Configuration/TargetId", e->inside);
    put(p, "../../../etc/passwd\n");
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ABSENT);
    fh_config_free(&cfg);
    fh_config_free(&other);
}

static void test_hostile_layout(void **state)
{
    struct env *e = *state;
    struct fh_config cfg;
    struct fh_target t;
    char msg[512], p[4400], q[4400];
    struct stat st;

    make_config(e, &cfg);
    assert_int_equal(fh_target_provision(&cfg, msg, sizeof(msg)), 0);
    /* a symlinked Staging/ is ours to replace: the link goes, its target stays */
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Staging", e->inside);
    assert_int_equal(symlink(e->outside, p), 0);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_NO_ERROR);
    fh_target_close(&t);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(q, sizeof(q), "%s/secret", e->outside);
    assert_string_equal(slurp(q), "secret");
    /* a symlinked Data/ is refused */
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Data", e->inside);
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(symlink(e->outside, p), 0);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ACCESS_DENIED);
    assert_int_equal(unlink(p), 0);
    /* a planted WAL that is a symlink, or a hard link, is refused */
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Configuration/Catalog.sqlite-wal", e->inside);
    assert_int_equal(symlink(q, p), 0);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ACCESS_DENIED);
    assert_non_null(strstr(msg, "Catalog.sqlite-wal"));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(link(q, p), 0);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ACCESS_DENIED);
    assert_int_equal(unlink(p), 0);
    /* a symlinked Configuration/ or FileHistory/<user>/ */
    snprintf(p, sizeof(p), "%s/FileHistory/alice", e->inside);
    snprintf(q, sizeof(q), "%s/FileHistory/alice.real", e->inside);
    assert_int_equal(rename(p, q), 0);
    assert_int_equal(symlink(q, p), 0);
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_TARGET_ACCESS_DENIED);
    assert_int_equal(fh_target_open(&cfg, 0, &t, msg, sizeof(msg)), FH_STATE_TARGET_ACCESS_DENIED);
    fh_config_free(&cfg);
}

static void test_mirror(void **state)
{
    struct env *e = *state;
    struct fh_config cfg, back;
    struct fh_target t;
    char msg[512], p[4400];

    make_config(e, &cfg);
    assert_int_equal(fh_target_provision(&cfg, msg, sizeof(msg)), 0);
    cfg.generation = 5;
    assert_int_equal(fh_target_open(&cfg, FH_TARGET_CYCLE, &t, msg, sizeof(msg)), FH_STATE_NO_ERROR);
    assert_int_equal(fh_target_mirror_config(&t, &cfg), 0);
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Configuration/Config1.xml", e->inside);
    assert_non_null(slurp(p));
    assert_int_equal(fh_config_from_xml(slurp(p), strlen(slurp(p)), &back), 0);
    assert_int_equal(back.generation, 5);
    assert_string_equal(back.target_id, cfg.target_id);
    fh_config_free(&back);
    /* Windows keeps both copies the same file: Config2.xml holds the same bytes */
    {
        char q[4400];
        struct stat st1, st2;
        snprintf(q, sizeof(q), "%s/FileHistory/alice/pc/Configuration/Config2.xml", e->inside);
        char *one = slurp_copy(p), *two = slurp_copy(q);
        assert_non_null(one);
        assert_non_null(two);
        assert_string_equal(two, one);
        free(one); free(two);
        /* the same document again: neither copy is rewritten (same inodes) */
        assert_int_equal(stat(p, &st1), 0);
        assert_int_equal(stat(q, &st2), 0);
        assert_int_equal(fh_target_mirror_config(&t, &cfg), 0);
        {
            struct stat a, b;
            assert_int_equal(stat(p, &a), 0);
            assert_int_equal(stat(q, &b), 0);
            assert_true(a.st_ino == st1.st_ino && b.st_ino == st2.st_ino);
        }
        /* a newer generation: both copies rewritten */
        cfg.generation = 6;
        assert_int_equal(fh_target_mirror_config(&t, &cfg), 0);
        one = slurp_copy(p); two = slurp_copy(q);
        assert_non_null(one);
        assert_non_null(two);
        assert_string_equal(two, one);
        assert_int_equal(fh_config_from_xml(two, strlen(two), &back), 0);
        free(one); free(two);
        assert_int_equal(back.generation, 6);
        fh_config_free(&back);
        /* one copy changed by someone else: rewritten to the user's document */
        {
            FILE *f = fopen(q, "w");
            assert_non_null(f);
            fputs("<x/>", f);
            fclose(f);
        }
        assert_int_equal(fh_target_mirror_config(&t, &cfg), 0);
        one = slurp_copy(p); two = slurp_copy(q);
        assert_non_null(one);
        assert_non_null(two);
        assert_string_equal(two, one);
        free(one); free(two);
    }
    snprintf(p, sizeof(p), "%s/FileHistory/alice/pc/Configuration/Config2.xml", e->inside);
    /* a symlinked copy is replaced, never written through */
    unlink(p);
    {
        char q[4400];
        snprintf(q, sizeof(q), "%s/secret", e->outside);
        assert_int_equal(symlink(q, p), 0);
        cfg.generation = 7;
        assert_int_equal(fh_target_mirror_config(&t, &cfg), 0);
        assert_string_equal(slurp(q), "secret");
    }
    fh_target_close(&t);
    fh_config_free(&cfg);
}

/* Nothing but a regular file is opened: a FIFO or a device node planted on
 * the target is refused before its open() runs (inotify sees every open
 * but O_PATH's). */
static void test_open_regular_only(void **state)
{
    struct env *e = *state;
    char p[4400], ev[4096];
    int in, fd, holder;

    snprintf(p, sizeof(p), "%s/fifo", e->inside);
    assert_int_equal(mkfifo(p, 0666), 0);
    /* someone holds the FIFO open at both ends: an open() of it that should
     * not happen returns, and the test fails instead of hanging */
    assert_true((holder = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC)) >= 0);
    assert_true((in = inotify_init1(IN_NONBLOCK)) >= 0);
    assert_true(inotify_add_watch(in, p, IN_OPEN) >= 0);
    errno = 0;
    assert_int_equal(fh_open_regular_beneath(e->fd, "fifo", O_RDONLY, 0), -1);
    assert_int_equal(errno, ENXIO);
    assert_int_equal(read(in, ev, sizeof(ev)), -1);       /* never opened */
    assert_int_equal(errno, EAGAIN);
    /* the watch works: a regular file's open is seen */
    snprintf(p, sizeof(p), "%s/a/b/file", e->inside);
    assert_true(inotify_add_watch(in, p, IN_OPEN) >= 0);
    assert_true((fd = fh_open_regular_beneath(e->fd, "a/b/file", O_RDONLY, 0)) >= 0);
    close(fd);
    assert_true(read(in, ev, sizeof(ev)) > 0);
    close(in);
    /* O_CREAT makes a new one, opens an existing regular one, refuses the rest */
    assert_true((fd = fh_open_regular_beneath(e->fd, "new", O_RDWR | O_CREAT, 0600)) >= 0);
    close(fd);
    assert_true((fd = fh_open_regular_beneath(e->fd, "new", O_RDWR | O_CREAT, 0600)) >= 0);
    close(fd);
    assert_int_equal(fh_open_regular_beneath(e->fd, "fifo", O_RDWR | O_CREAT, 0600), -1);
    assert_int_equal(fh_open_regular_beneath(e->fd, "flink", O_RDONLY, 0), -1);
    assert_int_equal(errno, ELOOP);
    close(holder);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_open_beneath_openat2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_beneath_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs_beneath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlink_beneath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mirror, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_regular_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
