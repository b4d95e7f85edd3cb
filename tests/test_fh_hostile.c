/*
 * Regression tests of issue 10: the File History target is hostile, a
 * version is never false, one file never blocks the others
 * (libs/fh/fh_cycle.c and friends, through fh_cycle_run, fh_cleanup and
 * fh_restore on real files in a private directory).
 *
 * Expected behaviour (issue 10): nothing in the target is followed out of
 * it; a version holds bytes the file really had; a shrinking, over-long or
 * busy file costs only its own version; an empty directory in place of the
 * target (an unmounted disk) is TARGET_ABSENT and is not written to; a
 * read-only Configuration/ is TARGET_ACCESS_DENIED (checked as a non-root
 * user); a full target keeps what fits.
 */
#include "testutil.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <grp.h>
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
    char src[4200], target[4200], confdir[4200], root[4400], outside[4200];
    struct fh_config cfg;
};

#include "fh_testfiles.h"

static void provision(struct env *e)
{
    char msg[256];
    assert_int_equal(fh_target_provision(&e->cfg, msg, sizeof(msg)), 0);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    e->dir = testutil_mkdtemp();
    snprintf(e->src, sizeof(e->src), "%s/src", e->dir);
    snprintf(e->target, sizeof(e->target), "%s/target", e->dir);
    snprintf(e->confdir, sizeof(e->confdir), "%s/conf", e->dir);
    snprintf(e->outside, sizeof(e->outside), "%s/outside", e->dir);
    assert_int_equal(mkdir(e->src, 0755), 0);
    assert_int_equal(mkdir(e->target, 0755), 0);
    assert_int_equal(mkdir(e->outside, 0755), 0);
    memset(&e->cfg, 0, sizeof(e->cfg));
    e->cfg.user_name = strdup("alice");
    e->cfg.pc_name = strdup("pc");
    e->cfg.frequency = 3600;
    e->cfg.retention_age = FH_DEFAULT_RETENTION_AGE;   /* a valid configuration: the mirror parses */
    e->cfg.dp_status = FH_STATUS_ENABLED;
    e->cfg.target_url = strdup(e->target);
    e->cfg.target_name = strdup("target");
    assert_int_equal(fh_config_list_add(&e->cfg.folders, &e->cfg.folder_count, e->src), 0);
    snprintf(e->root, sizeof(e->root), "%s/FileHistory/alice/pc", e->target);
    provision(e);
    *state = e;
    return 0;
}

static void stop_writer(void);

static int teardown(void **state)
{
    struct env *e = *state;
    stop_writer();
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

static long long count_rows(struct env *e, const char *sql)
{
    return catalog_count(e->root, sql);
}

static void exec_sql(struct env *e, const char *sql)
{
    char db[4500];
    sqlite3 *h;
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* Every versions row names a regular file at its place below root (not
 * through a symlink); returns the number of rows. */
static long long rows_with_files(struct env *e)
{
    char db[4500], path[8192];
    sqlite3 *h;
    sqlite3_stmt *st;
    long long rows = 0;
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", e->root);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT stored FROM versions", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
    {
        char *real;
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", e->root, (const char *)sqlite3_column_text(st, 0));
        assert_int_equal(lstat(path, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        real = realpath(path, NULL);
        assert_non_null(real);
        assert_true(!strncmp(real, e->root, strlen(e->root)));
        free(real);
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rows;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d) return -1;
    while ((de = readdir(d))) if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* The directory of the version of src-relative files: Data/C/<src> */
static void data_dir(struct env *e, char *out, size_t size)
{
    assert_true((size_t)snprintf(out, size, "%s/Data/C%s", e->root, e->src) < size);
}

static void version_path(struct env *e, const char *rel, time_t t, char *out, size_t size)
{
    char abs[4400], *stored;
    snprintf(abs, sizeof(abs), "%s/%s", e->src, rel);
    stored = fh_data_relpath(abs, t);
    assert_non_null(stored);
    snprintf(out, size, "%s/%s", e->root, stored);
    free(stored);
}

/* ------------------------------------------------------------------ */
/* 1. symbolic links in the target are never followed                  */

/* `filehistory cleanup` through a symlinked folder under Data/ */
static void test_cleanup_does_not_follow_symlinked_folder(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result r1, r2;
    char file[4400], dd[8192], v1[8192], bait[8192], msg[256];

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "first");
    assert_int_equal(run(e, &r1), FH_STATE_NO_ERROR);
    put(file, "second, longer");
    assert_int_equal(run(e, &r2), FH_STATE_NO_ERROR);
    exec_sql(e, "UPDATE versions SET version_time = version_time - 10 * 86400 WHERE cycle_id = 1");
    /* the folder holding the versions becomes a symlink to a folder outside
     * the target, holding a file with the old version's name */
    version_path(e, "doc.txt", r1.cycle_time, v1, sizeof(v1));
    snprintf(bait, sizeof(bait), "%s/%s", e->outside, strrchr(v1, '/') + 1);
    put(bait, "precious");
    data_dir(e, dd, sizeof(dd));
    {
        char moved[8300];
        snprintf(moved, sizeof(moved), "%s.real", dd);
        assert_int_equal(rename(dd, moved), 0);
    }
    assert_int_equal(symlink(e->outside, dd), 0);
    fh_cleanup(&e->cfg, 1, msg, sizeof(msg));
    assert_non_null(slurp(bait));
    assert_string_equal(slurp(bait), "precious");
}

/* a crafted pending row under a symlinked folder, at the next cycle's recovery */
static void test_pending_row_does_not_follow_symlink(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char link[4500], bait[4400], file[4400];

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "one");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);   /* Data/C/ exists */
    snprintf(bait, sizeof(bait), "%s/victim.txt", e->outside);
    put(bait, "precious");
    snprintf(link, sizeof(link), "%s/Data/C/evil", e->root);
    assert_int_equal(symlink(e->outside, link), 0);
    exec_sql(e, "INSERT INTO pending(stored, cycle_id) VALUES('Data/C/evil/victim.txt', 99)");
    run(e, &res);
    assert_non_null(slurp(bait));
    assert_string_equal(slurp(bait), "precious");
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
}

/* a symlinked folder under Data/ must not make the next version land outside */
static void test_version_does_not_land_outside(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result r1, r2;
    char file[4400], other[4400], dd[8192], link[8300];

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    snprintf(other, sizeof(other), "%s/sub", e->src);
    assert_int_equal(mkdir(other, 0755), 0);
    strcat(other, "/other.txt");
    put(file, "first");
    assert_int_equal(run(e, &r1), FH_STATE_NO_ERROR);
    /* the folder the next version of sub/other.txt goes to is a symlink out */
    data_dir(e, dd, sizeof(dd));
    snprintf(link, sizeof(link), "%s/sub", dd);
    assert_int_equal(symlink(e->outside, link), 0);
    put(file, "second, longer");
    put(other, "another file, elsewhere in the tree");
    assert_int_equal(run(e, &r2), FH_STATE_NO_ERROR);
    assert_int_equal(count_entries(e->outside), 0);
    /* both got versions, inside the target */
    assert_int_equal(r2.added, 2);
    assert_int_equal(rows_with_files(e), 3);
}

/* a symlinked Staging/ must not make a cycle delete an outside folder's files */
static void test_symlinked_staging(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char staging[4500], bait[4400], file[4400];

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "one");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    snprintf(staging, sizeof(staging), "%s/Staging", e->root);
    assert_int_equal(rmdir(staging), 0);
    assert_int_equal(symlink(e->outside, staging), 0);
    snprintf(bait, sizeof(bait), "%s/1.1", e->outside);
    put(bait, "precious");
    put(file, "two, longer");
    run(e, &res);
    assert_non_null(slurp(bait));
    assert_string_equal(slurp(bait), "precious");
    assert_int_equal(count_entries(e->outside), 1);
    rows_with_files(e);
}

/* a version file replaced by a symlink: restore never leaves the user's file
 * a symlink, and never copies the symlink's target */
static void test_restore_does_not_follow_version_symlink(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char file[4400], v[8192], secret[4400], msg[512];
    struct stat st;

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "mine");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    snprintf(secret, sizeof(secret), "%s/secret", e->outside);
    put(secret, "not yours");
    version_path(e, "doc.txt", res.cycle_time, v, sizeof(v));
    assert_int_equal(unlink(v), 0);
    assert_int_equal(symlink(secret, v), 0);
    put(file, "changed");
    assert_int_equal(fh_restore(&e->cfg, file, res.cycle_time, NULL, msg, sizeof(msg)), -1);
    assert_int_equal(lstat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_string_equal(slurp(file), "changed");
}

/* A version file whose owner and mode were crafted on the disk (another
 * uid, setgid, world-writable): restore takes neither.  A file restored
 * where there is none is the restorer's, with at most the bits a new file
 * gets under the umask; one that replaces a file keeps that file's owner,
 * group and mode. */
static void test_restore_takes_no_owner_or_mode_from_target(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char file[4400], private_file[4400], v[8192], msg[512];
    int root = geteuid() == 0;
    mode_t old_umask = umask(022);
    struct stat st;

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    snprintf(private_file, sizeof(private_file), "%s/key.txt", e->src);
    put(file, "mine");
    assert_int_equal(chmod(file, 0600), 0);
    put(private_file, "private");
    assert_int_equal(chmod(private_file, 0600), 0);
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    version_path(e, "doc.txt", res.cycle_time, v, sizeof(v));
    assert_int_equal(chmod(v, 06666), 0);
    if (root) assert_int_equal(chown(v, 4321, 4321), 0);

    /* deleted, restored: ours, the umask's bits at most, no set-id bit */
    assert_int_equal(unlink(file), 0);
    assert_int_equal(fh_restore(&e->cfg, file, res.cycle_time, NULL, msg, sizeof(msg)), 0);
    assert_string_equal(slurp(file), "mine");
    assert_int_equal(stat(file, &st), 0);
    if ((st.st_mode & 07777) != 0644 || st.st_uid != geteuid())
        fail_msg("restored as uid %u mode %o from a version of uid 4321 mode 6666", st.st_uid, st.st_mode & 07777);

    /* replacing the user's file: that file's owner, group and mode */
    assert_int_equal(chmod(file, 0600), 0);
    if (root) assert_int_equal(chown(file, 4242, 4243), 0);
    put(file, "changed");
    assert_int_equal(fh_restore(&e->cfg, file, res.cycle_time, NULL, msg, sizeof(msg)), 0);
    assert_string_equal(slurp(file), "mine");
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, root ? 4242 : geteuid());
    if (root) assert_int_equal(st.st_gid, 4243);

    /* an untouched version of a private file comes back private */
    assert_int_equal(unlink(private_file), 0);
    assert_int_equal(fh_restore(&e->cfg, private_file, res.cycle_time, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(stat(private_file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    umask(old_umask);
}

/* ------------------------------------------------------------------ */
/* 8. an empty directory in place of the target (the disk is unmounted) */

static void test_unmounted_target(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char file[4400], away[4300];

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "one");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    /* umount: the mount point is an empty directory again */
    snprintf(away, sizeof(away), "%s.disk", e->target);
    assert_int_equal(rename(e->target, away), 0);
    assert_int_equal(mkdir(e->target, 0755), 0);
    put(file, "two, longer");
    assert_int_equal(run(e, &res), FH_STATE_TARGET_ABSENT);
    assert_int_equal(count_entries(e->target), 0);
    {
        struct fh_state s;
        assert_int_equal(fh_state_load(e->confdir, &s), 0);
        assert_int_equal(s.state, FH_STATE_TARGET_ABSENT);
    }
    /* the disk comes back: backups go on */
    assert_int_equal(rmdir(e->target), 0);
    assert_int_equal(rename(away, e->target), 0);
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.added, 1);
}

/* ------------------------------------------------------------------ */
/* 6. one over-long name does not block its batch                       */

static void test_long_name(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char name[300], path[4600], msg[512], out[4400];

    for (int i = 0; i < 11; i++)
    {
        snprintf(path, sizeof(path), "%s/f%02d.txt", e->src, i);
        put(path, "ordinary");
    }
    memset(name, 'n', 236);
    strcpy(name + 236, ".txt");   /* 240 bytes: + " (stamp)" > NAME_MAX */
    snprintf(path, sizeof(path), "%s/%s", e->src, name);
    put(path, "long name");
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.added, 12);
    assert_int_equal(rows_with_files(e), 12);
    /* the long one under $OF, restorable through the catalog */
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions WHERE stored LIKE 'Data/$OF/%'"), 1);
    snprintf(out, sizeof(out), "%s/restored", e->dir);
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(fh_restore(&e->cfg, path, res.cycle_time, out, msg, sizeof(msg)), 0);
    strcat(out, "/");
    strcat(out, name);
    assert_string_equal(slurp(out), "long name");
}

/* ------------------------------------------------------------------ */
/* 4, 5. files changing under the copy                                  */

#define BUSY_SIZE (48 << 20)
#define BLOCK 4096

struct writer
{
    char path[4400];
    volatile int stop;
    int mode;               /* 0: rewrite first and last block; 1: truncate and rewrite */
    unsigned long rounds;
    pthread_t thread;
    int running;
};

static void *writer_main(void *arg);

/* one writer at a time, stopped by teardown when a failed assertion left it running */
static struct writer writer;

static void start_writer(int mode, const char *path)
{
    memset(&writer, 0, sizeof(writer));
    writer.mode = mode;
    snprintf(writer.path, sizeof(writer.path), "%s", path);
    assert_int_equal(pthread_create(&writer.thread, NULL, writer_main, &writer), 0);
    writer.running = 1;
}

static void stop_writer(void)
{
    if (!writer.running) return;
    writer.stop = 1;
    pthread_join(writer.thread, NULL);
    writer.running = 0;
}

static void fill_block(unsigned char *b, unsigned long long n)
{
    for (int i = 0; i < BLOCK; i += 8) memcpy(b + i, &n, 8);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    unsigned char block[BLOCK];
    int fd = open(w->path, O_WRONLY);
    if (fd < 0) return NULL;
    while (!w->stop)
    {
        unsigned long long n = ++w->rounds;
        if (w->mode == 0)
        {
            /* the state after each pwrite is one the file really has:
             * first == last, or first == last + 1 */
            fill_block(block, n);
            if (pwrite(fd, block, BLOCK, 0) != BLOCK) break;
            if (pwrite(fd, block, BLOCK, BUSY_SIZE - BLOCK) != BLOCK) break;
        }
        else
        {
            /* rewritten in place the way editors without a rename do: truncate, then write */
            static const char chunk[65536];
            if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET)) break;
            for (int i = 0; i < 16; i++) if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk)) break;
        }
        usleep(200);
    }
    close(fd);
    return NULL;
}

static void make_busy_file(const char *path)
{
    unsigned char block[BLOCK];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    fill_block(block, 0);
    for (long off = 0; off < BUSY_SIZE; off += BLOCK) assert_int_equal(write(fd, block, BLOCK), BLOCK);
    close(fd);
}

/* A version holds a state the file had: its first block's number equals
 * the last block's, or is one more (between the writer's two pwrites). */
static void check_version_is_true(const char *path)
{
    unsigned long long first, last;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &first, 8, 0), 8);
    assert_int_equal(pread(fd, &last, 8, BUSY_SIZE - BLOCK), 8);
    close(fd);
    if (!(first == last || first == last + 1))
        fail_msg("torn version: first block from write %llu, last block from write %llu", first, last);
}

static void test_torn_copy_never_recorded(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char v[8192], path[4400];

    snprintf(path, sizeof(path), "%s/busy.bin", e->src);
    make_busy_file(path);
    start_writer(0, path);
    for (int cycle = 0; cycle < 3; cycle++)
    {
        run(e, &res);
        assert_int_equal(res.state, FH_STATE_NO_ERROR);
        if (res.added)
        {
            version_path(e, "busy.bin", res.cycle_time, v, sizeof(v));
            check_version_is_true(v);
        }
        else assert_int_equal(res.not_backed_up, 1);   /* busy: retried next cycle, and said so */
    }
    stop_writer();
    assert_true(writer.rounds > 10);
    /* once the file rests, its version comes */
    run(e, &res);
    assert_int_equal(res.state, FH_STATE_NO_ERROR);
    assert_int_equal(res.not_backed_up, 0);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM versions v JOIN files f ON f.id = v.file_id"
                                   " WHERE v.cycle_id = (SELECT MAX(id) FROM cycles)") +
                     count_rows(e, "SELECT COUNT(*) FROM versions") > 0, 1);
    rows_with_files(e);
}

/* A writer through a shared mapping whose pages are dirty already: the
 * kernel updates mtime/ctime only when a write faults on a clean
 * (write-protected) page, so a second write to the same pages moves no time
 * stamp.  Pages dirtied well before the copy (long past the racy window) and
 * rewritten while it runs: the copy must not be recorded as a state the
 * file had (first page old, last page new). */
#define MAPPED_SIZE (96 << 20)

struct mapped_writer
{
    char *map;
    int dir_fd;
    volatile int go;
    int hit_mid_copy;       /* the rewrite came while the copy was under way */
};

static void *mapped_writer_thread(void *arg)
{
    struct mapped_writer *w = arg;
    struct stat st;

    while (!w->go) sched_yield();
    /* as soon as the copy holds its first bytes (the old first page): the
     * widest window, so that a fast disk does not finish the copy first */
    for (int i = 0; i < 200000; i++)
    {
        if (!fstatat(w->dir_fd, "copy", &st, 0) && st.st_size > 0) break;
        usleep(50);
    }
    memcpy(w->map, "STATE-B2", 8);
    memcpy(w->map + MAPPED_SIZE - BLOCK, "STATE-B2", 8);
    w->hit_mid_copy = !fstatat(w->dir_fd, "copy", &st, 0) && st.st_size < MAPPED_SIZE;
    return NULL;
}

static void test_mapped_rewrite_not_recorded(void **state)
{
    struct env *e = *state;
    struct mapped_writer w = { 0 };
    struct fh_copy_outcome out;
    char path[4400], staging[4400], first[8], last[8];
    pthread_t thread;
    int fd, copy_fd;

    snprintf(path, sizeof(path), "%s/mapped.bin", e->src);
    snprintf(staging, sizeof(staging), "%s/copies", e->dir);
    assert_int_equal(mkdir(staging, 0700), 0);
    assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
    assert_int_equal(ftruncate(fd, MAPPED_SIZE), 0);
    assert_true((w.map = mmap(NULL, MAPPED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) != MAP_FAILED);
    memset(w.map, 'x', MAPPED_SIZE);    /* real blocks, no holes to skip */
    assert_int_equal(fsync(fd), 0);     /* written back: only the pages below are dirty */
    memcpy(w.map, "STATE-A1", 8);
    memcpy(w.map + MAPPED_SIZE - BLOCK, "STATE-A1", 8);
    usleep(200000);                     /* far past the time stamp granularity */
    assert_true((w.dir_fd = open(staging, O_RDONLY | O_DIRECTORY)) >= 0);
    fh_copy_clone_enabled = 0;          /* the plain copy, as on ext4 */
    assert_int_equal(pthread_create(&thread, NULL, mapped_writer_thread, &w), 0);
    w.go = 1;
    fh_copy_version(path, w.dir_fd, "copy", NULL, &out);
    pthread_join(thread, NULL);
    fh_copy_clone_enabled = 1;
    if (!w.hit_mid_copy) fail_msg("the rewrite came after the copy: the test proves nothing (a faster disk?)");
    if (out.status == FH_COPY_DONE)
    {
        assert_true((copy_fd = openat(w.dir_fd, "copy", O_RDONLY)) >= 0);
        assert_int_equal(pread(copy_fd, first, 8, 0), 8);
        assert_int_equal(pread(copy_fd, last, 8, MAPPED_SIZE - BLOCK), 8);
        close(copy_fd);
        if (memcmp(first, last, 8))
            fail_msg("a torn copy is done: first page %.8s, last page %.8s (after %d attempts)", first, last, out.attempts);
    }
    else assert_int_equal(out.status, FH_COPY_BUSY);
    munmap(w.map, MAPPED_SIZE);
    close(w.dir_fd);
    close(fd);
}

static void test_shrinking_file_does_not_fail_cycle(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char path[4400];

    for (int i = 0; i < 11; i++)
    {
        snprintf(path, sizeof(path), "%s/f%02d.txt", e->src, i);
        put(path, "ordinary");
    }
    snprintf(path, sizeof(path), "%s/shrinking.bin", e->src);
    make_busy_file(path);
    start_writer(1, path);
    for (int cycle = 0; cycle < 4; cycle++)
    {
        run(e, &res);
        assert_int_equal(res.state, FH_STATE_NO_ERROR);
    }
    stop_writer();
    /* the 11 ordinary files got their versions */
    assert_int_equal(count_rows(e, "SELECT COUNT(DISTINCT f.id) FROM versions v JOIN files f ON f.id = v.file_id"
                                   " WHERE f.path LIKE '%/f__.txt'"), 11);
    rows_with_files(e);
}

/* ------------------------------------------------------------------ */
/* 9. a read-only Configuration/ is TARGET_ACCESS_DENIED, as a non-root user */

/* Run fn in a child process as an unprivileged user (uid/gid 65534 when
 * we are root: the test directory is given to it first); returns fn's
 * exit status. */
static int as_user(struct env *e, int (*fn)(struct env *))
{
    pid_t pid;
    int status;

    if (getuid() == 0)
    {
        char cmd[4400];
        snprintf(cmd, sizeof(cmd), "chown -R 65534:65534 '%s'", e->dir);
        assert_int_equal(system(cmd), 0);
    }
    pid = fork();
    assert_true(pid >= 0);
    if (!pid)
    {
        if (getuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534))) _exit(100);
        if (getuid() == 0) _exit(101);
        _exit(fn(e));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int first_cycle(struct env *e)
{
    struct fh_cycle_result res;
    char file[4400];
    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "one");
    return run(e, &res) == FH_STATE_NO_ERROR ? 0 : 10;
}

static int cycle_after_chmod(struct env *e)
{
    struct fh_cycle_result res;
    char file[4400];
    struct fh_state s;

    snprintf(file, sizeof(file), "%s/doc.txt", e->src);
    put(file, "two, longer");
    if (run(e, &res) != FH_STATE_TARGET_ACCESS_DENIED) return 20 + (int)(res.state & 0x1f);
    if (fh_state_load(e->confdir, &s) || s.state != FH_STATE_TARGET_ACCESS_DENIED) return 12;
    return 0;
}

static int cycle_after_fix(struct env *e)
{
    struct fh_cycle_result res;
    return run(e, &res) == FH_STATE_NO_ERROR && res.added == 1 ? 0 : 13;
}

static void test_read_only_configuration(void **state)
{
    struct env *e = *state;
    char conf[4500];
    int rc;

    /* each step in a process of its own, as the CLI runs them */
    assert_int_equal(as_user(e, first_cycle), 0);
    snprintf(conf, sizeof(conf), "%s/Configuration", e->root);
    assert_int_equal(chmod(conf, 0500), 0);
    rc = as_user(e, cycle_after_chmod);
    if (rc >= 20) fail_msg("read-only Configuration/ reported as state 0x%02x, not TARGET_ACCESS_DENIED", rc - 20);
    assert_int_equal(rc, 0);
    assert_int_equal(chmod(conf, 0700), 0);
    assert_int_equal(as_user(e, cycle_after_fix), 0);
}

/* ------------------------------------------------------------------ */
/* 7. a full target keeps what fits and goes on at the next cycle       */

static void test_full_target(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char path[4400], msg[256];
    long long first, second;

    if (getuid() != 0) { skip(); return; }
    /* a private mount namespace: the tmpfs goes with this process */
    assert_int_equal(unshare(CLONE_NEWNS), 0);
    assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    assert_int_equal(mount("tmpfs", e->target, "tmpfs", 0, "size=6m,mode=0755"), 0);
    provision(e);
    for (int i = 0; i < 3000; i++)
    {
        snprintf(path, sizeof(path), "%s/f%04d.txt", e->src, i);
        put(path, "a small file");
    }
    assert_int_equal(run(e, &res), FH_STATE_TARGET_FULL);
    first = rows_with_files(e);
    /* what fits is kept: the copies made are not thrown away, so the
     * target is (almost) full of versions rather than left with room */
    {
        struct statvfs vfs;
        assert_int_equal(statvfs(e->target, &vfs), 0);
        if (vfs.f_bfree * 10 > vfs.f_blocks)
            fail_msg("TARGET_FULL with %llu of %llu blocks free and %lld versions kept",
                     (unsigned long long)vfs.f_bfree, (unsigned long long)vfs.f_blocks, first);
    }
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
    /* still full: nothing lost, nothing half-done */
    assert_int_equal(run(e, &res), FH_STATE_TARGET_FULL);
    assert_true(rows_with_files(e) >= first);
    /* space freed (the disk grows): the next cycle does the rest */
    assert_int_equal(mount(NULL, e->target, NULL, MS_REMOUNT, "size=64m"), 0);
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    second = rows_with_files(e);
    assert_int_equal(second, 3000);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM (SELECT file_id FROM versions GROUP BY file_id"
                                   " HAVING COUNT(*) > 1)"), 0);
    (void)msg;
    assert_int_equal(umount2(e->target, MNT_DETACH), 0);
}

/* A completely full target: recovery after a killed cycle, the cycle's
 * own bookkeeping and `cleanup`, the way out, still work. */
static void test_full_target_cleanup(void **state)
{
    struct env *e = *state;
    struct fh_cycle_result res;
    char path[4400], filler[4400], msg[256];
    static char block[65536];
    long long removed;
    int fd;

    if (getuid() != 0) { skip(); return; }
    assert_int_equal(unshare(CLONE_NEWNS), 0);
    assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    assert_int_equal(mount("tmpfs", e->target, "tmpfs", 0, "size=2m,mode=0755"), 0);
    provision(e);
    for (int round = 0; round < 2; round++)
    {
        for (int i = 0; i < 20; i++)
        {
            snprintf(path, sizeof(path), "%s/f%02d.txt", e->src, i);
            put(path, round ? "second version" : "first");
        }
        assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    }
    exec_sql(e, "UPDATE versions SET version_time = version_time - 10 * 86400");
    /* a killed cycle's leftovers, then not a byte left */
    exec_sql(e, "INSERT INTO pending(stored, cycle_id) VALUES('Data/C/killed (2020_01_01 00_00_00 UTC)', 99)");
    snprintf(filler, sizeof(filler), "%s/filler", e->target);
    assert_true((fd = open(filler, O_WRONLY | O_CREAT, 0600)) >= 0);
    while (write(fd, block, sizeof(block)) > 0) ;
    while (write(fd, block, 512) > 0) ;
    close(fd);
    put(path, "a third version that does not fit");
    assert_int_equal(run(e, &res), FH_STATE_TARGET_FULL);
    if (strstr(res.message, "recover")) fail_msg("a full target cannot even recover: %s", res.message);
    /* the way out: cleanup works on the full disk */
    removed = fh_cleanup(&e->cfg, 1, msg, sizeof(msg));
    if (removed != 20) fail_msg("cleanup on a full target: %lld (%s)", removed, msg);
    assert_int_equal(rows_with_files(e), 20);
    assert_int_equal(count_rows(e, "SELECT COUNT(*) FROM pending"), 0);
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(run(e, &res), FH_STATE_NO_ERROR);
    assert_int_equal(res.added, 1);
    assert_int_equal(umount2(e->target, MNT_DETACH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_cleanup_does_not_follow_symlinked_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_row_does_not_follow_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_does_not_land_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_staging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_does_not_follow_version_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_takes_no_owner_or_mode_from_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmounted_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_copy_never_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapped_rewrite_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shrinking_file_does_not_fail_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_target_cleanup, setup, teardown),
    };
    /* versions carry xattrs: use the real disk rather than a tmpfs /tmp unless told otherwise */
    if (access("/var/tmp", W_OK) == 0) setenv("TMPDIR", "/var/tmp", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
