/*
 * Tests of the NSF backup API on real files through the exported functions
 * (libnotes.so's code): the invariant with a writer that opens the file
 * during the backup, refusal when a writer holds it open, one backup per
 * file across processes, a killed backup leaving nothing behind, the
 * crash-safe apply, LMBCS against iconv's CP850, and the path functions.
 * The read-lease recorder is forced (WINBACKUP_NSF_RECORDER=lease) where
 * a test is about it, so it runs the same on any file system.
 */
#include "testutil.h"
#include <fcntl.h>
#include <iconv.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "../libs/nsf/nsf.h"
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmisc.h"
#include "osmem.h"
#include "names.h"

#define SIZE (4u << 20)
#define BLOCK 4096

static char *dir;
static char src[4200], copy[4200];
static unsigned char *start_image;

static void write_file(const char *path, const unsigned char *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    close(fd);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    unsigned char *data;
    assert_true(fd >= 0);
    fstat(fd, &st);
    data = malloc(st.st_size + 1);
    assert_int_equal(pread(fd, data, st.st_size, 0), st.st_size);
    close(fd);
    *size = st.st_size;
    return data;
}

static int setup(void **state)
{
    dir = testutil_mkdtemp();
    snprintf(src, sizeof(src), "%s/db.nsf", dir);
    snprintf(copy, sizeof(copy), "%s/db.copy", dir);
    start_image = malloc(SIZE);
    for (uint32_t i = 0; i < SIZE; i++) start_image[i] = (unsigned char)(i * 131 + (i >> 12));
    write_file(src, start_image, SIZE);
    setenv("WINBACKUP_NSF_RECORDER", "lease", 1);
    NotesInit();
    return 0;
}

static int teardown(void **state)
{
    NotesTerm();
    testutil_rmtree(dir);
    free(start_image);
    unsetenv("WINBACKUP_NSF_RECORDER");
    return 0;
}

static void child_write_block(const char *path, uint64_t offset, unsigned char value)
{
    unsigned char block[BLOCK];
    int fd = open(path, O_WRONLY);    /* blocks while the lease breaks */
    memset(block, value, sizeof(block));
    if (fd < 0 || pwrite(fd, block, BLOCK, offset) != BLOCK) _exit(1);
    close(fd);
    _exit(0);
}

/* get all change info and apply it to copy */
static STATUS get_and_apply(DBHANDLE db, DHANDLE ctx, const char *target, unsigned char **saved, size_t *saved_size)
{
    DWORD lo, hi, filled;
    DHANDLE ap;
    char buf[7777];
    STATUS st;

    if ((st = NSFBackupGetChangeInfoSize(db, ctx, 0, &lo, &hi))) return st;
    if (saved) { *saved = malloc(lo); *saved_size = 0; }
    if ((st = NSFBackupStartApplyChangeInfo(&ap, (char *)target, 0, lo, hi))) return st;
    do
    {
        if ((st = NSFBackupGetNextChangeInfo(db, ctx, 0, buf, sizeof(buf), &filled))) break;
        if (saved) { memcpy(*saved + *saved_size, buf, filled); *saved_size += filled; }
        if ((st = NSFBackupApplyNextChangeInfo(ap, 0, buf, filled))) break;
    } while (filled);
    if (st) { NSFBackupEndApplyChangeInfo(ap, APPLYEND_ABORT); return st; }
    return NSFBackupEndApplyChangeInfo(ap, 0);
}

/* Start; copy the first half; mark; a writer opens the file and writes in
 * both halves; copy the rest (reading new data); the change info makes the
 * copy equal to the file at Start. */
static void test_writer_opening_during_backup(void **state)
{
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi;
    size_t size;
    unsigned char *got, *now;
    pid_t pid;
    int status;

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(lo, SIZE);
    assert_int_equal(hi, 0);
    write_file(copy, start_image, SIZE / 2);                /* the first half, read before any write */
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 2, 0), NOERROR);
    if (!(pid = fork())) child_write_block(src, SIZE / 4, 0xAA);
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    if (!(pid = fork())) child_write_block(src, SIZE - 2 * BLOCK, 0xBB);
    waitpid(pid, &status, 0);
    now = read_all(src, &size);
    assert_int_equal(now[SIZE - 2 * BLOCK], 0xBB);          /* the writers did get in */
    {
        int fd = open(copy, O_WRONLY);
        assert_int_equal(pwrite(fd, now + SIZE / 2, SIZE / 2, SIZE / 2), SIZE / 2);
        close(fd);
    }
    assert_int_equal(NSFBackupStop(db, ctx), NOERROR);
    assert_int_equal(get_and_apply(db, ctx, copy, NULL, NULL), NOERROR);
    got = read_all(copy, &size);
    assert_int_equal(size, SIZE);
    assert_memory_equal(got, start_image, SIZE);
    assert_int_equal(NSFBackupEnd(db, ctx, 0), NOERROR);
    assert_int_equal(NSFDbClose(db), NOERROR);
    free(got);
    free(now);
}

/* The mark goes down after a writer broke the lease: the save holds only
 * [mark at the break, end), and the copier reads [new mark, ...) again from
 * a file the writer has changed - no before-image of that part exists, so
 * Stop refuses (ERR_NSF_CANT_BACKUP) instead of handing out change info that
 * leaves the writer's bytes in the copy.  A mark that stays at or above the
 * saved range is fine.  (Found by the independent attack on the mark walks.) */
static void test_mark_below_the_save_refused(void **state)
{
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi;
    pid_t pid;
    int status;

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 4 * 3, 0), NOERROR);
    if (!(pid = fork())) child_write_block(src, SIZE / 2, 0xAA);   /* breaks the lease: [3/4, end) saved */
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 4, 0), NOERROR);    /* reads [1/4, ...) again */
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE, 0), NOERROR);
    assert_int_equal(NSFBackupStop(db, ctx), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);

    /* the same with the mark only going up after the save: accepted */
    write_file(src, start_image, SIZE);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 2, 0), NOERROR);
    if (!(pid = fork())) child_write_block(src, SIZE / 4, 0xAA);
    waitpid(pid, &status, 0);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 2, 0), NOERROR);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE, 0), NOERROR);
    assert_int_equal(NSFBackupStop(db, ctx), NOERROR);
    assert_int_equal(NSFBackupEnd(db, ctx, 0), NOERROR);
    assert_int_equal(NSFDbClose(db), NOERROR);
}

/* A file renamed over the backed-up one between Start and Stop: a client
 * that opens the name after Start (HCL's dbbackup sample does) copied the
 * other file, so Stop refuses; so it does when the name is gone (the client
 * may have read a replacement removed since), and Start refuses a name that
 * already names another file.  (Found by the independent attacks: empty
 * change info, wrong copy, reported good.) */
static void test_renamed_over_refused(void **state)
{
    char decoy[4200];
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi;

    snprintf(decoy, sizeof(decoy), "%s/decoy", dir);
    write_file(decoy, start_image, SIZE / 2);
    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(rename(decoy, src), 0);
    assert_int_equal(NSFBackupStop(db, ctx), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    assert_int_equal(NSFDbClose(db), NOERROR);

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(unlink(src), 0);
    assert_int_equal(NSFBackupStop(db, ctx), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    assert_int_equal(NSFDbClose(db), NOERROR);

    /* renamed over between NSFDbOpen and Start: Start refuses */
    write_file(src, start_image, SIZE);
    write_file(decoy, start_image, SIZE / 2);
    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(rename(decoy, src), 0);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFDbClose(db), NOERROR);
}

/* With a writer holding the file open, the lease recorder refuses at Start. */
static void test_refuses_when_writer_holds_file(void **state)
{
    DBHANDLE db;
    DHANDLE ctx = 0x55;
    DWORD lo, hi;
    char text[256];
    int fd = open(src, O_WRONLY);

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), ERR_NSF_CANT_BACKUP);
    assert_int_equal(ctx, NULLHANDLE);
    assert_true(OSLoadString(NULLHANDLE, ERR_NSF_CANT_BACKUP, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "open for writing"));
    close(fd);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    NSFDbClose(db);
}

/* open(O_RDONLY | O_TRUNC) truncates a file without breaking a read lease
 * (the kernel breaks leases for opens for writing and truncate(2) only): the
 * backup must fail, both when nothing else happens before Stop and when a
 * writer breaks the lease afterwards (the save then finds the file short),
 * instead of handing out empty change info for a copy of a truncated file. */
static void test_truncation_without_lease_break(void **state)
{
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi;
    pid_t pid;
    int status, fd;

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_true((fd = open(src, O_RDONLY | O_TRUNC)) >= 0);
    close(fd);
    assert_int_equal(NSFBackupStop(db, ctx), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    write_file(src, start_image, SIZE);

    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    write_file(copy, start_image, SIZE / 2);
    assert_int_equal(NSFBackupSetHighWaterMark(db, ctx, SIZE / 2, 0), NOERROR);
    assert_true((fd = open(src, O_RDONLY | O_TRUNC)) >= 0);
    close(fd);
    if (!(pid = fork())) child_write_block(src, 0, 0xDD);   /* breaks the lease: the save finds 0 bytes */
    waitpid(pid, &status, 0);
    assert_int_equal(NSFBackupStop(db, ctx), ERR_NSF_CANT_BACKUP);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    NSFDbClose(db);
    write_file(src, start_image, SIZE);
}

/* One backup per file: a second Start from this or another process is
 * refused until the first ends or its process dies. */
static void test_one_backup_per_file(void **state)
{
    DBHANDLE db, db2;
    DHANDLE ctx, ctx2;
    DWORD lo, hi;
    pid_t pid;
    int status, sync_pipe[2];
    char c;

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFDbOpen(src, &db2), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupStart(db2, 0, &ctx2, &lo, &hi), ERR_BACKUP_ALREADY_IN_PROGRESS);
    if (!(pid = fork()))
    {
        DBHANDLE cdb;
        DHANDLE cctx;
        DWORD l, h;
        NSFDbOpen(src, &cdb);
        _exit(NSFBackupStart(cdb, 0, &cctx, &l, &h) == ERR_BACKUP_ALREADY_IN_PROGRESS ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    assert_int_equal(NSFBackupStart(db2, 0, &ctx2, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupEnd(db2, ctx2, BACKUPEND_ABORT), NOERROR);

    /* kill -9 of a process in the middle of a backup releases everything */
    assert_int_equal(pipe(sync_pipe), 0);
    if (!(pid = fork()))
    {
        DBHANDLE cdb;
        DHANDLE cctx;
        DWORD l, h;
        NSFDbOpen(src, &cdb);
        if (NSFBackupStart(cdb, 0, &cctx, &l, &h)) _exit(1);
        if (write(sync_pipe[1], "s", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    assert_int_equal(read(sync_pipe[0], &c, 1), 1);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), ERR_BACKUP_ALREADY_IN_PROGRESS);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    /* and the killed holder's lease is gone: writers get in */
    assert_int_equal(NSFBackupEnd(db, ctx, BACKUPEND_ABORT), NOERROR);
    close(sync_pipe[0]);
    close(sync_pipe[1]);
    NSFDbClose(db);
    NSFDbClose(db2);
}

/* A lock that merely covers the backup byte (a reader's whole-file POSIX
 * lock, which needs nothing but read access) is not a backup: Start goes on.
 * A backup hidden behind such a lock is still found. */
static void test_foreign_locks_are_not_backups(void **state)
{
    DBHANDLE db = 0, db2 = 0;
    DHANDLE ctx, ctx2;
    DWORD lo, hi;
    STATUS first, second;
    ssize_t got;
    pid_t pid;
    int status, sync_pipe[2];
    char c;

    assert_int_equal(pipe(sync_pipe), 0);
    if (!(pid = fork()))
    {
        struct flock whole = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
        int fd = open(src, O_RDONLY);
        if (fd < 0 || fcntl(fd, F_SETLK, &whole) < 0) _exit(1);
        if (write(sync_pipe[1], "l", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    /* (the child is gone before anything is asserted) */
    got = read(sync_pipe[0], &c, 1);
    NSFDbOpen(src, &db);
    NSFDbOpen(src, &db2);
    first = NSFBackupStart(db, 0, &ctx, &lo, &hi);
    second = NSFBackupStart(db2, 0, &ctx2, &lo, &hi);
    if (!first) NSFBackupEnd(db, ctx, BACKUPEND_ABORT);
    if (!second) NSFBackupEnd(db2, ctx2, BACKUPEND_ABORT);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    close(sync_pipe[0]);
    close(sync_pipe[1]);
    NSFDbClose(db);
    NSFDbClose(db2);
    assert_int_equal(got, 1);
    assert_int_equal(first, NOERROR);
    assert_int_equal(second, ERR_BACKUP_ALREADY_IN_PROGRESS);
}

/* An interrupted apply leaves a mark that refuses the copy, and applying the
 * same change info again completes it. */
static void test_apply_is_crash_safe(void **state)
{
    DBHANDLE db;
    DHANDLE ctx, ap;
    DWORD lo, hi;
    unsigned char *ci, *ci2, *got;
    size_t ci_size, ci2_size, size;
    char mark[16], text[256];
    pid_t pid;
    int status;

    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    if (!(pid = fork())) child_write_block(src, 0, 0xCC);   /* breaks the lease: whole file saved */
    waitpid(pid, &status, 0);
    assert_int_equal(NSFBackupStop(db, ctx), NOERROR);
    write_file(copy, start_image, SIZE);
    {
        /* damage the copy where the change info will repair it */
        int fd = open(copy, O_WRONLY);
        assert_int_equal(pwrite(fd, "XXXX", 4, 100), 4);
        close(fd);
    }
    {
        /* a copy longer than the file at Start (a caller that read on) is cut to that size */
        int fd = open(copy, O_WRONLY | O_APPEND);
        assert_int_equal(write(fd, "tail", 4), 4);
        close(fd);
    }
    assert_int_equal(get_and_apply(db, ctx, copy, &ci, &ci_size), NOERROR);
    NSFBackupEnd(db, ctx, 0);
    got = read_all(copy, &size);
    assert_int_equal(size, SIZE);
    assert_memory_equal(got, start_image, SIZE);
    free(got);
    assert_true(ci_size > SIZE);                            /* the whole image (mark 0) */
    assert_int_equal(getxattr(copy, "user.winbackup.nsf.apply", mark, sizeof(mark)), -1);

    /* half an apply, then "crash" (abort after data was written) */
    write_file(copy, start_image, SIZE);
    {
        int fd = open(copy, O_WRONLY);
        assert_int_equal(pwrite(fd, "XXXX", 4, 100), 4);
        close(fd);
    }
    assert_int_equal(NSFBackupStartApplyChangeInfo(&ap, copy, 0, (DWORD)ci_size, 0), NOERROR);
    assert_int_equal(NSFBackupApplyNextChangeInfo(ap, 0, (char *)ci, 100000), NOERROR);
    assert_int_equal(NSFBackupEndApplyChangeInfo(ap, APPLYEND_ABORT), NOERROR);
    assert_int_equal(getxattr(copy, "user.winbackup.nsf.apply", mark, sizeof(mark)), 16);
    /* the half-applied copy is refused as a database */
    {
        DBHANDLE cdb;
        assert_int_equal(NSFDbOpen(copy, &cdb), ERR_DBOFFLINE);
        assert_true(OSLoadString(NULLHANDLE, ERR_DBOFFLINE, text, sizeof(text)) > 0);
    }
    /* other change info is refused */
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupStop(db, ctx), NOERROR);
    assert_int_equal(get_and_apply(db, ctx, copy, &ci2, &ci2_size), ERR_DBOFFLINE);
    NSFBackupEnd(db, ctx, 0);
    /* two applies to one copy at a time: the second is refused */
    {
        DHANDLE ap2;
        assert_int_equal(NSFBackupStartApplyChangeInfo(&ap, copy, 0, (DWORD)ci_size, 0), NOERROR);
        assert_int_equal(NSFBackupStartApplyChangeInfo(&ap2, copy, 0, (DWORD)ci_size, 0), ERR_DBINUSE);
        assert_int_equal(NSFBackupEndApplyChangeInfo(ap, APPLYEND_ABORT), NOERROR);
    }
    /* the same change info finishes it */
    assert_int_equal(NSFBackupStartApplyChangeInfo(&ap, copy, 0, (DWORD)ci_size, 0), NOERROR);
    assert_int_equal(NSFBackupApplyNextChangeInfo(ap, 0, (char *)ci, (DWORD)ci_size), NOERROR);
    assert_int_equal(NSFBackupEndApplyChangeInfo(ap, 0), NOERROR);
    assert_int_equal(getxattr(copy, "user.winbackup.nsf.apply", mark, sizeof(mark)), -1);
    got = read_all(copy, &size);
    assert_int_equal(size, SIZE);
    assert_memory_equal(got, start_image, SIZE);
    NSFDbClose(db);
    free(ci);
    free(ci2);
    free(got);
}

/* A FIFO is refused as not a regular file (ERR_NOT_NSF) by NSFDbOpen and by
 * NSFBackupStartApplyChangeInfo, like a directory, instead of blocking in
 * open() until some writer comes (alarm: a hang fails the test). */
static void test_fifo_refused(void **state)
{
    char fifo[4300];
    DBHANDLE db = 0x77;
    DHANDLE ap = 0x77;

    snprintf(fifo, sizeof(fifo), "%s/fifo.nsf", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    assert_int_equal(NSFDbOpen(fifo, &db), ERR_NOT_NSF);
    assert_int_equal(db, NULLHANDLE);
    assert_int_equal(NSFBackupStartApplyChangeInfo(&ap, fifo, 0, 88, 0), ERR_NOT_NSF);
    assert_int_equal(ap, NULLHANDLE);
    assert_int_equal(NSFDbOpen(dir, &db), ERR_NOT_NSF);
    alarm(0);
    unlink(fifo);
}

/* "<file>.nsf-apply" planted by someone else (a FIFO, a file of another
 * user) is no mark: NSFDbOpen neither blocks on it nor refuses the file as
 * half-applied, and an apply beside it goes through. */
static void test_planted_side_mark_ignored(void **state)
{
    char side[4300];
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi;
    int fd;

    snprintf(side, sizeof(side), "%s.nsf-apply", src);
    assert_int_equal(mkfifo(side, 0666), 0);
    alarm(20);
    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    NSFDbClose(db);
    unlink(side);
    assert_true((fd = open(side, O_WRONLY | O_CREAT | O_EXCL, 0644)) >= 0);
    assert_int_equal(write(fd, "0123456789abcdef", 16), 16);
    assert_int_equal(fchown(fd, 65534, 65534), 0);
    close(fd);
    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFBackupStart(db, 0, &ctx, &lo, &hi), NOERROR);
    assert_int_equal(NSFBackupStop(db, ctx), NOERROR);
    write_file(copy, start_image, SIZE);
    snprintf(side, sizeof(side), "%s.nsf-apply", copy);
    assert_int_equal(mkfifo(side, 0666), 0);
    assert_int_equal(get_and_apply(db, ctx, copy, NULL, NULL), NOERROR);
    alarm(0);
    NSFBackupEnd(db, ctx, 0);
    NSFDbClose(db);
    unlink(side);
    snprintf(side, sizeof(side), "%s.nsf-apply", src);
    unlink(side);
}

static void test_lmbcs_cp850_matches_iconv(void **state)
{
    iconv_t cd = iconv_open("UTF-8", "CP850");
    char out[8], iconv_out[8], lmbcs[4];
    int bad;

    assert_true(cd != (iconv_t)-1);
    for (int b = 0x20; b < 0x100; b++)
    {
        char in[2] = { (char)b, 0 }, *pin = in, *pout = iconv_out;
        size_t inleft = 1, outleft = sizeof(iconv_out);
        memset(iconv_out, 0, sizeof(iconv_out));
        assert_true(iconv(cd, &pin, &inleft, &pout, &outleft) != (size_t)-1);
        nsf_lmbcs_to_utf8(in, 1, out, sizeof(out), &bad);
        assert_false(bad);
        assert_string_equal(out, iconv_out);
        /* and back: one byte again */
        assert_int_equal(nsf_utf8_to_lmbcs(out, strlen(out), lmbcs, sizeof(lmbcs), &bad), 1);
        assert_int_equal((unsigned char)lmbcs[0], b);
    }
    iconv_close(cd);
}

static void test_lmbcs_beyond_cp850(void **state)
{
    const char *text = "\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80 caf\xc3\xa9";  /* 日本/😀 café */
    char lmbcs[64], back[64];
    int bad;
    size_t n = nsf_utf8_to_lmbcs(text, strlen(text), lmbcs, sizeof(lmbcs), &bad);

    assert_false(bad);
    assert_int_equal((unsigned char)lmbcs[0], 0x14);        /* Unicode group */
    nsf_lmbcs_to_utf8(lmbcs, n, back, sizeof(back), &bad);
    assert_false(bad);
    assert_string_equal(back, text);
    /* bad UTF-8 is flagged */
    nsf_utf8_to_lmbcs("\xff\xfe", 2, lmbcs, sizeof(lmbcs), &bad);
    assert_true(bad);
    /* OSTranslate: native (UTF-8) <-> LMBCS; the output always ends in NUL */
    assert_int_equal(OSTranslate(OS_TRANSLATE_NATIVE_TO_LMBCS, "caf\xc3\xa9", MAXWORD, lmbcs, sizeof(lmbcs)), 4);
    assert_int_equal((unsigned char)lmbcs[3], 0x82);
    assert_int_equal(OSTranslate(OS_TRANSLATE_LMBCS_TO_NATIVE, lmbcs, MAXWORD, back, 3), 2);
    assert_string_equal(back, "ca");
}

static void test_paths_and_log_info(void **state)
{
    DBHANDLE db;
    char canonical[MAXPATH], expanded[MAXPATH];
    BOOL logged = TRUE;
    UNID id, iid;
    DWORD extent = 9;

    assert_int_equal(NSFDbOpen("server!!db.nsf", &db), ERR_NOT_LOCAL);
    assert_int_equal(NSFDbOpen("/nonexistent/db.nsf", &db), ERR_NOEXIST);
    assert_int_equal(NSFDbOpen(dir, &db), ERR_NOT_NSF);
    assert_int_equal(NSFDbOpen(src, &db), NOERROR);
    assert_int_equal(NSFDbPathGet(db, canonical, expanded), NOERROR);
    assert_string_equal(expanded, src);
    assert_int_equal(NSFDbGetLogInfo(db, 0, &logged, &id, &iid, &extent), NOERROR);
    assert_false(logged);
    assert_int_equal(NSFDbClose(db), NOERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_writer_opening_during_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_when_writer_holds_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_without_lease_break, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_below_the_save_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renamed_over_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_backup_per_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_locks_are_not_backups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_is_crash_safe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_side_mark_ignored, setup, teardown),
        cmocka_unit_test(test_lmbcs_cp850_matches_iconv),
        cmocka_unit_test(test_lmbcs_beyond_cp850),
        cmocka_unit_test_setup_teardown(test_paths_and_log_info, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
