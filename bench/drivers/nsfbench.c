/*
 * nsfbench: one online backup of FILE through the NSFBackup API while a
 * writer process rewrites random 4 KiB blocks of it at a fixed rate (the
 * file opened anew for every write), for `make bench` case 6.
 *
 *   nsfbench FILE COPY WRITES_PER_SECOND
 *
 * Times Start -> copy (1 MiB reads, high-water mark every MiB) -> Stop ->
 * change info applied to COPY -> COPY fsynced: the same durable result a
 * `cp` + `sync COPY` gives.  Prints key=value: seconds, info_bytes,
 * overwritten_bytes (4 KiB x writes done between Start and Stop), writes,
 * recorder (reflink or lease: the strategy the engine chose).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "osmisc.h"

#define BUF (1 << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *path, *copy;
    volatile uint64_t *writes;
    DWORD lo, hi, ilo, ihi, filled;
    uint64_t size, copied = 0, writes_at_start, writes_at_stop;
    DBHANDLE db;
    DHANDLE ctx, ap;
    char *buffer = malloc(BUF);
    double rate, t0, t1;
    struct stat st;
    pid_t pid;
    STATUS status;
    int in, out;

    if (argc != 4) { fprintf(stderr, "usage: nsfbench FILE COPY WRITES_PER_SECOND\n"); return 2; }
    path = argv[1];
    copy = argv[2];
    rate = atof(argv[3]);
    if (stat(path, &st) < 0) { perror(path); return 1; }
    writes = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *writes = 0;
    if (!(pid = fork()))
    {
        uint64_t blocks = st.st_size / 4096, state = 88172645463325252ull;
        unsigned char block[4096];
        double start = now();
        for (uint64_t n = 0;; n++)
        {
            double due = start + n / rate, wait = due - now();
            int fd;
            if (wait > 0) usleep((useconds_t)(wait * 1e6));
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            memset(block, (int)state, sizeof(block));
            if ((fd = open(path, O_WRONLY)) < 0) continue;
            if (pwrite(fd, block, sizeof(block), (off_t)((state >> 8) % blocks) * 4096) == sizeof(block)) (*writes)++;
            close(fd);
        }
    }
    usleep(200000);
    NotesInit();
    t0 = now();
    writes_at_start = *writes;
    if ((status = NSFDbOpen(path, &db)) || (status = NSFBackupStart(db, 0, &ctx, &lo, &hi)))
    {
        fprintf(stderr, "nsfbench: %#x\n", status);
        kill(pid, SIGKILL);
        return 1;
    }
    size = (uint64_t)hi << 32 | lo;
    in = open(path, O_RDONLY);
    out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    while (copied < size)
    {
        ssize_t n = pread(in, buffer, size - copied < BUF ? size - copied : BUF, copied);
        if (n <= 0 || write(out, buffer, n) != n) break;
        copied += n;
        NSFBackupSetHighWaterMark(db, ctx, (DWORD)copied, (DWORD)(copied >> 32));
    }
    /* like cp: the size is set only when the reads came up short (a file
     * that shrank during the copy; the apply truncates to the size at Start
     * anyway) - on XFS a truncate past the on-disk size flushes the file */
    if ((copied < size && ftruncate(out, size) < 0) || close(out) < 0) return 1;
    close(in);
    status = NSFBackupStop(db, ctx);
    writes_at_stop = *writes;
    if (!status) status = NSFBackupGetChangeInfoSize(db, ctx, 0, &ilo, &ihi);
    if (!status) status = NSFBackupStartApplyChangeInfo(&ap, (char *)copy, 0, ilo, ihi);
    while (!status)
    {
        if ((status = NSFBackupGetNextChangeInfo(db, ctx, 0, buffer, BUF, &filled))) break;
        if ((status = NSFBackupApplyNextChangeInfo(ap, 0, buffer, filled)) || !filled) break;
    }
    if (!status) status = NSFBackupEndApplyChangeInfo(ap, 0);   /* fsyncs the copy */
    t1 = now();
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (status) { fprintf(stderr, "nsfbench: %#x\n", status); return 1; }
    NSFBackupEnd(db, ctx, 0);
    NSFDbClose(db);
    printf("seconds=%.6f info_bytes=%llu overwritten_bytes=%llu writes=%llu recorder=%s\n", t1 - t0,
           (unsigned long long)(((uint64_t)ihi << 32) | ilo),
           (unsigned long long)((writes_at_stop - writes_at_start) * 4096),
           (unsigned long long)(writes_at_stop - writes_at_start),
           getenv("WINBACKUP_NSF_RECORDER") ? getenv("WINBACKUP_NSF_RECORDER") : "auto");
    return 0;
}
