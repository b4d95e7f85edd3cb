/*
 * The invariant of the NSFBackup API under fire: copy + change info ==
 * the file at NSFBackupStart, byte for byte, while other processes write
 * random 4 KiB blocks at full speed.
 *
 *   nsf_stress FILE SIZE_MIB ROUNDS WRITERS [EXPECT]
 *     WRITERS  held     one process holding FILE open for writing since
 *                       before Start (pwrite in a loop)
 *              reopen   one process opening FILE anew for every write
 *              both     one of each
 *              resize   "reopen" plus truncations and extensions
 *              none
 *     EXPECT   ok (default) or refuse: with a writer holding the file open on
 *              a file system without reflink, Start must fail with
 *              ERR_NSF_CANT_BACKUP (and nothing else is acceptable)
 *
 *   nsf_stress --edits FILE
 *     one backup per edit, made by a child process after Start and before
 *     the copy reads anything: truncations to sizes that are not block
 *     multiples (with and without extending again), open(O_RDONLY|O_TRUNC),
 *     an unaligned punch and write.  Each must give the invariant or a clean
 *     ERR_NSF_CANT_BACKUP, never a wrong copy.
 *
 *   nsf_stress --make-info FILE REF COPY INFO
 *     for the kill-during-apply test: keep FILE's image in REF, back FILE up
 *     while a writer changes every block once, leave the raw copy in COPY and
 *     the change info (unapplied) in INFO.
 *
 * Each round: SIGSTOP the writers (waiting until they are stopped), take
 * the reference image (a plain read of FILE), NSFBackupStart, SIGCONT the
 * writers, copy FILE with ordinary reads (odd rounds: high-water mark after
 * every read, and the copier once goes back from 3/4 of the file to 1/4), stop
 * the writers' influence only by NSFBackupStop, fetch the change info,
 * apply it to the copy, compare with the reference.  The writers run the
 * whole time from Start to Stop.  Prints one line per round and
 * "RESULT: P passed, F failed, S skipped".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "osmisc.h"

#define BLOCK 4096
#define BUF (1 << 20)

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill(unsigned char *block)
{
    uint64_t *p = (uint64_t *)block;
    for (int i = 0; i < BLOCK / 8; i++) p[i] = rng();
}

/* A writer: random 4 KiB blocks inside [0, size), as fast as it can. */
static void writer(const char *path, uint64_t size, int kind, unsigned seed)
{
    unsigned char block[BLOCK];
    uint64_t blocks = size / BLOCK, n = 0;
    int fd = -1;

    rng_state = 0x9E3779B97F4A7C15ull ^ seed;
    if (kind == 'h' && (fd = open(path, O_RDWR)) < 0) _exit(3);
    for (;;)
    {
        uint64_t off = (rng() % blocks) * BLOCK;
        fill(block);
        if (kind != 'h' && (fd = open(path, O_WRONLY)) < 0) _exit(4);
        if (kind == 'r' && ++n % 64 == 0)
        {
            /* resize: cut somewhere, then grow back past the old size */
            if (ftruncate(fd, off) < 0 || ftruncate(fd, size + BLOCK * (rng() % 4)) < 0) _exit(5);
        }
        else if (pwrite(fd, block, BLOCK, off) != BLOCK) _exit(6);
        if (kind != 'h') close(fd);
    }
}

static int wait_stopped(pid_t pid)
{
    char path[64], state = 0, buf[256];
    for (int i = 0; i < 2000; i++)
    {
        FILE *f;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (!(f = fopen(path, "r"))) return -1;
        if (fgets(buf, sizeof(buf), f)) { char *p = strrchr(buf, ')'); if (p) state = p[2]; }
        fclose(f);
        if (state == 'T' || state == 't') return 0;
        usleep(1000);
    }
    return -1;
}

static unsigned char *read_file(const char *path, uint64_t *size)
{
    struct stat st;
    unsigned char *data;
    int fd = open(path, O_RDONLY);
    uint64_t done = 0;

    if (fd < 0 || fstat(fd, &st) < 0) return NULL;
    *size = st.st_size;
    if (!(data = malloc(*size ? *size : 1))) return NULL;
    while (done < *size)
    {
        ssize_t n = pread(fd, data + done, *size - done, done);
        if (n <= 0) break;
        done += n;
    }
    close(fd);
    if (done != *size) { free(data); return NULL; }
    return data;
}

static const char *status_text(STATUS status)
{
    static char text[256];
    snprintf(text, sizeof(text), "0x%04x ", ERR(status));
    OSLoadString(NULLHANDLE, ERR(status), text + strlen(text), sizeof(text) - 8);
    return text;
}

static int make_info(char **argv)
{
    const char *path = argv[2], *ref_path = argv[3], *copy_path = argv[4], *info_path = argv[5];
    unsigned char *image, *buffer = malloc(BUF);
    uint64_t size, done = 0;
    DBHANDLE db;
    DHANDLE ctx;
    DWORD lo, hi, filled;
    int fd, out;
    pid_t pid;
    STATUS st;

    if (!(image = read_file(path, &size))) return 1;
    fd = open(ref_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (write(fd, image, size) != (ssize_t)size) return 1;
    close(fd);
    NotesInit();
    if ((st = NSFDbOpen(path, &db)) || (st = NSFBackupStart(db, 0, &ctx, &lo, &hi)))
    {
        printf("make-info: %s\n", status_text(st));
        return 1;
    }
    if (!(pid = fork()))
    {
        /* every block rewritten once, after Start and before the copy */
        int w = open(path, O_WRONLY);
        for (uint64_t off = 0; off < size; off += BLOCK)
        {
            memset(buffer, (int)(off >> 12) ^ 0x5a, BLOCK);
            if (pwrite(w, buffer, BLOCK, off) < 0) _exit(1);
        }
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    fd = open(path, O_RDONLY);
    out = open(copy_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    while (done < size)
    {
        ssize_t n = pread(fd, buffer, BUF, done);
        if (n <= 0 || write(out, buffer, n) != n) break;
        done += n;
    }
    close(fd);
    close(out);
    out = open(info_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if ((st = NSFBackupStop(db, ctx))) { printf("make-info: stop %s\n", status_text(st)); return 1; }
    do
    {
        if ((st = NSFBackupGetNextChangeInfo(db, ctx, 0, (char *)buffer, BUF, &filled))) return 1;
        if (write(out, buffer, filled) != (ssize_t)filled) return 1;
    } while (filled);
    close(out);
    NSFBackupEnd(db, ctx, 0);
    NSFDbClose(db);
    return 0;
}

/* --edits: the edit runs in a child (a process of its own, as writers are) */
static void edit(const char *path, int which)
{
    int fd;
    switch (which)
    {
    case 0: _exit(truncate(path, 5000) ? 1 : 0);
    case 1: _exit(truncate(path, 5000) || truncate(path, 3 << 20) ? 1 : 0);
    case 2: _exit((fd = open(path, O_RDONLY | O_TRUNC)) < 0 ? 1 : 0);
    case 3:
        if ((fd = open(path, O_WRONLY)) < 0) _exit(1);
        _exit(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 10000) ? 1 : 0);
    default:
        if ((fd = open(path, O_WRONLY)) < 0) _exit(1);
        _exit(pwrite(fd, "edit", 4, 6000) != 4);
    }
}

static int edits(const char *path)
{
    static const char *names[] = { "truncate to 5000", "truncate to 5000, extend to 3 MiB", "open(O_RDONLY|O_TRUNC)",
                                   "punch [1000, 11000)", "write 4 bytes at 6000" };
    unsigned char *buffer = malloc(BUF), *ref, *got;
    uint64_t ref_size, got_size;
    int passed = 0, failed = 0;
    char copy[4096];

    snprintf(copy, sizeof(copy), "%s.copy", path);
    rng_state = 54321;
    NotesInit();
    for (int which = 0; which < 5; which++)
    {
        DBHANDLE db;
        DHANDLE ctx, apply;
        DWORD lo, hi, filled;
        uint64_t size, done = 0;
        STATUS st;
        pid_t pid;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), status;

        for (int half = 0; half < 2; half++)
        {
            for (int i = 0; i < BUF / 8; i++) ((uint64_t *)buffer)[i] = rng();
            if (fd < 0 || write(fd, buffer, BUF) != BUF) return 1;
        }
        if (fsync(fd) < 0) return 1;
        close(fd);
        ref = read_file(path, &ref_size);
        if ((st = NSFDbOpen(path, &db)) || (st = NSFBackupStart(db, 0, &ctx, &lo, &hi)))
        {
            printf("FAIL %s: Start %s\n", names[which], status_text(st));
            failed++;
            continue;
        }
        size = (uint64_t)hi << 32 | lo;
        if (!(pid = fork())) edit(path, which);
        waitpid(pid, &status, 0);
        fd = open(path, O_RDONLY);
        int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        while (done < size)
        {
            ssize_t n = pread(fd, buffer, size - done < BUF ? size - done : BUF, done);
            if (n <= 0 || write(out, buffer, n) != n) break;
            done += n;
            NSFBackupSetHighWaterMark(db, ctx, (DWORD)done, (DWORD)(done >> 32));
        }
        close(fd);
        if (ftruncate(out, size) < 0) perror("ftruncate");
        close(out);
        if (!(st = NSFBackupStop(db, ctx)) && !(st = NSFBackupGetChangeInfoSize(db, ctx, 0, &lo, &hi)) &&
            !(st = NSFBackupStartApplyChangeInfo(&apply, copy, 0, lo, hi)))
        {
            do
            {
                if ((st = NSFBackupGetNextChangeInfo(db, ctx, 0, (char *)buffer, BUF, &filled)) ||
                    (st = NSFBackupApplyNextChangeInfo(apply, 0, (char *)buffer, filled)))
                    break;
            } while (filled);
            st = st ? (NSFBackupEndApplyChangeInfo(apply, APPLYEND_ABORT), st) : NSFBackupEndApplyChangeInfo(apply, 0);
        }
        NSFBackupEnd(db, ctx, st ? BACKUPEND_ABORT : 0);
        NSFDbClose(db);
        got = read_file(copy, &got_size);
        if (st == ERR_NSF_CANT_BACKUP) { printf("ok %s: refused cleanly (%s)\n", names[which], status_text(st)); passed++; }
        else if (st) { printf("FAIL %s: %s\n", names[which], status_text(st)); failed++; }
        else if (!got || got_size != ref_size || memcmp(got, ref, ref_size))
        {
            uint64_t first = 0;
            while (got && first < ref_size && first < got_size && got[first] == ref[first]) first++;
            printf("FAIL %s: copy + change info differs from the file at Start at byte %llu\n", names[which],
                   (unsigned long long)first);
            failed++;
        }
        else { printf("ok %s: invariant\n", names[which]); passed++; }
        free(ref);
        free(got);
        unlink(copy);
    }
    printf("RESULT: %d passed, %d failed, 0 skipped\n", passed, failed);
    return failed != 0;
}

int main(int argc, char **argv)
{
    const char *path, *writers, *expect;
    uint64_t size, ref_size, got_size;
    int rounds, passed = 0, failed = 0, nwriters = 0;
    pid_t pids[2];
    char copy[4096], *buffer;

    if (argc == 6 && !strcmp(argv[1], "--make-info")) return make_info(argv);
    if (argc == 3 && !strcmp(argv[1], "--edits")) return edits(argv[2]);
    if (argc < 5) { fprintf(stderr, "usage: nsf_stress FILE SIZE_MIB ROUNDS held|reopen|both|resize|none [ok|refuse]\n"); return 2; }
    path = argv[1];
    size = strtoull(argv[2], NULL, 10) << 20;
    rounds = atoi(argv[3]);
    writers = argv[4];
    expect = argc > 5 ? argv[5] : "ok";
    snprintf(copy, sizeof(copy), "%s.copy", path);
    buffer = malloc(BUF);

    /* the file, random content */
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        rng_state = 12345;
        for (uint64_t off = 0; off < size; off += BUF)
        {
            for (int i = 0; i < BUF / 8; i++) ((uint64_t *)buffer)[i] = rng();
            if (write(fd, buffer, BUF) != BUF) { perror("write"); return 1; }
        }
        fsync(fd);
        close(fd);
    }
    if (!strcmp(writers, "held") || !strcmp(writers, "both"))
        if (!(pids[nwriters++] = fork())) writer(path, size, 'h', 1);
    if (!strcmp(writers, "reopen") || !strcmp(writers, "both"))
        if (!(pids[nwriters++] = fork())) writer(path, size, 'o', 2);
    if (!strcmp(writers, "resize"))
        if (!(pids[nwriters++] = fork())) writer(path, size, 'r', 3);
    usleep(100000);
    NotesInit();

    for (int round = 1; round <= rounds; round++)
    {
        DBHANDLE db;
        DHANDLE ctx = NULLHANDLE, apply = NULLHANDLE;
        DWORD lo, hi, ilo, ihi, filled;
        uint64_t start_size, copied = 0, info = 0, writes_bytes = 0;
        int rewound;
        unsigned char *ref = NULL, *got = NULL;
        STATUS st;
        int in, out, ok = 0, attempt;
        struct timespec t0, t1;

        if ((st = NSFDbOpen(path, &db))) { printf("round %d: NSFDbOpen %s\n", round, status_text(st)); failed++; continue; }
        for (attempt = 0; attempt < 1000; attempt++)
        {
            for (int i = 0; i < nwriters; i++) kill(pids[i], SIGSTOP);
            for (int i = 0; i < nwriters; i++) wait_stopped(pids[i]);
            free(ref);
            ref = read_file(path, &ref_size);
            st = NSFBackupStart(db, 0, &ctx, &lo, &hi);
            for (int i = 0; i < nwriters; i++) kill(pids[i], SIGCONT);
            /* a reopening writer stopped between open and close holds the file
             * open for writing: Start rightly refuses, try another moment */
            if (st == ERR_NSF_CANT_BACKUP && strcmp(expect, "refuse") && strcmp(writers, "held") && strcmp(writers, "both"))
            {
                usleep(100 + rng() % 3000);
                continue;
            }
            break;
        }
        if (!strcmp(expect, "refuse"))
        {
            if (st == ERR_NSF_CANT_BACKUP) { printf("ok %d: Start refused: %s\n", round, status_text(st)); passed++; }
            else
            {
                printf("FAIL %d: Start returned %s, expected ERR_NSF_CANT_BACKUP\n", round, status_text(st));
                failed++;
                if (!st) NSFBackupEnd(db, ctx, BACKUPEND_ABORT);
            }
            NSFDbClose(db);
            free(ref);
            continue;
        }
        if (st) { printf("FAIL %d: NSFBackupStart %s\n", round, status_text(st)); failed++; NSFDbClose(db); free(ref); continue; }
        start_size = (uint64_t)hi << 32 | lo;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        in = open(path, O_RDONLY);
        out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        rewound = 0;
        while (copied < start_size)
        {
            size_t want = start_size - copied < BUF ? start_size - copied : BUF;
            ssize_t n = pread(in, buffer, want, copied);
            if (n <= 0) break;
            if (pwrite(out, buffer, n, copied) != n) break;
            copied += n;
            if (round % 2) NSFBackupSetHighWaterMark(db, ctx, (DWORD)copied, (DWORD)(copied >> 32));
            /* once per marked round the copier goes back from 3/4 to 1/4 and
             * reads that half again: the mark goes down (the latest claim
             * counts), and what changed there since must be recorded again */
            if (round % 2 && !rewound && copied >= start_size / 4 * 3)
            {
                rewound = 1;
                copied = start_size / 4;
                NSFBackupSetHighWaterMark(db, ctx, (DWORD)copied, (DWORD)(copied >> 32));
            }
        }
        if (ftruncate(out, start_size) < 0) perror("ftruncate");
        close(out);
        close(in);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        st = NSFBackupStop(db, ctx);
        if (st == ERR_NSF_CANT_BACKUP && rewound && getenv("NSF_STRESS_LEASE"))
        {
            /* the read-lease recorder saved [mark at the writer's first open,
             * end); a mark that went below that after the break cannot be
             * made good: a clean refusal is the right answer */
            printf("ok %d: Stop refused after the mark went back below the lease save: %s\n", round, status_text(st));
            passed++;
        }
        else if (st || (st = NSFBackupGetChangeInfoSize(db, ctx, 0, &ilo, &ihi)) ||
                 (st = NSFBackupStartApplyChangeInfo(&apply, copy, 0, ilo, ihi)))
        {
            printf("FAIL %d: %s\n", round, status_text(st));
            failed++;
        }
        else
        {
            const char *keep = getenv("NSF_STRESS_KEEP");   /* directory for the evidence of a failure */
            char keep_path[9000];
            int keep_fd = -1;
            info = (uint64_t)ihi << 32 | ilo;
            if (keep)
            {
                snprintf(keep_path, sizeof(keep_path), "%s/round%d.ci", keep, round);
                keep_fd = open(keep_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                snprintf(keep_path, sizeof(keep_path), "%s/round%d.ref", keep, round);
                int ref_fd = open(keep_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (write(ref_fd, ref, ref_size) < 0) perror("keep");
                close(ref_fd);
                snprintf(keep_path, sizeof(keep_path), "cp %s %s/round%d.copy", copy, keep, round);
                if (system(keep_path)) perror("keep");
            }
            do
            {
                if ((st = NSFBackupGetNextChangeInfo(db, ctx, 0, buffer, BUF, &filled))) break;
                if (keep_fd >= 0 && write(keep_fd, buffer, filled) < 0) perror("keep");
                if ((st = NSFBackupApplyNextChangeInfo(apply, 0, buffer, filled))) break;
            } while (filled);
            if (keep_fd >= 0) close(keep_fd);
            if (!st) st = NSFBackupEndApplyChangeInfo(apply, 0);
            else NSFBackupEndApplyChangeInfo(apply, APPLYEND_ABORT);
            got = read_file(copy, &got_size);
            if (st) printf("FAIL %d: apply %s\n", round, status_text(st));
            else if (!got || got_size != ref_size || memcmp(got, ref, ref_size))
            {
                uint64_t first = 0;
                while (got && first < ref_size && first < got_size && got[first] == ref[first]) first++;
                printf("FAIL %d: copy + change info differs from the file at Start (size %llu vs %llu, first difference at %llu)\n",
                       round, (unsigned long long)got_size, (unsigned long long)ref_size, (unsigned long long)first);
            }
            else ok = 1;
            (void)writes_bytes;
            if (ok)
            {
                printf("ok %d: %llu MiB copied in %.2f s with writers running, change info %llu bytes, %s\n", round,
                       (unsigned long long)(start_size >> 20),
                       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, (unsigned long long)info,
                       round % 2 ? "high-water mark set" : "no high-water mark");
                passed++;
            }
            else failed++;
        }
        NSFBackupEnd(db, ctx, 0);
        NSFDbClose(db);
        free(ref);
        free(got);
        unlink(copy);
    }
    for (int i = 0; i < nwriters; i++) { kill(pids[i], SIGKILL); waitpid(pids[i], NULL, 0); }
    NotesTerm();
    printf("RESULT: %d passed, %d failed, 0 skipped\n", passed, failed);
    return failed != 0;
}
