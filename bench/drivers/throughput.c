/*
 * Throughput driver for bench/run.sh, case 1 and 3: BackupRead / BackupWrite
 * of <winbackup/win32.h> against a plain read(2) / write(2) loop over the
 * same file with the same buffer size.
 *
 *   throughput read-plain|read-plain-shifted|read-backup BUFSIZE FILE
 *   throughput write-plain|write-backup|write-plain-sync BUFSIZE FILE SIZE
 *
 * read-plain-shifted is read(2) with the file offsets BackupRead ends up at:
 * its first call returns a 20-byte stream header and BUFSIZE - 20 bytes of
 * data, so every later read starts 20 bytes past a page boundary.  It tells
 * the cost of that shift apart from the library's own.
 *
 * Prints one line "bytes=N seconds=S finish=F rchar=R":
 *   bytes    bytes of file data moved (stream headers not counted)
 *   seconds  the transfer loop, CLOCK_MONOTONIC
 *   finish   the closing call: BackupRead/BackupWrite with abort=TRUE (the
 *            library's BackupWrite flushes with fdatasync there), or for
 *            write-plain-sync the fdatasync the plain loop is given to match
 *   rchar    bytes this process read through syscalls (/proc/self/io), which
 *            shows whether holes of a sparse file were read
 * Written files are synced and the page cache state left alone *after* the
 * timed part, so one run's writeback does not land in the next one's time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <winbackup/win32.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long rchar(void)
{
    char line[128];
    long long value = -1;
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "rchar: %lld", &value) == 1) break;
    fclose(f);
    return value;
}

static void die(const char *what)
{
    fprintf(stderr, "throughput: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_win32(const char *what)
{
    fprintf(stderr, "throughput: %s failed, error %u\n", what, GetLastError());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *mode, *path;
    unsigned char *buf;
    size_t bufsize;
    long long total = 0, size = 0, r0;
    double t0, t1, t2;

    if (argc < 4)
    {
        fprintf(stderr, "usage: throughput MODE BUFSIZE FILE [SIZE]\n");
        return 2;
    }
    mode = argv[1];
    bufsize = strtoul(argv[2], NULL, 0);
    path = argv[3];
    if (argc > 4) size = strtoll(argv[4], NULL, 0);
    if (!bufsize || !(buf = aligned_alloc(4096, bufsize))) die("buffer");
    memset(buf, 0x5a, bufsize);
    r0 = rchar();

    if (!strcmp(mode, "read-plain") || !strcmp(mode, "read-plain-shifted"))
    {
        int fd = open(path, O_RDONLY);
        ssize_t n;
        if (fd < 0) die(path);
        t0 = now();
        if (!strcmp(mode, "read-plain-shifted") && bufsize > 20)
        {
            if ((n = read(fd, buf + 20, bufsize - 20)) < 0) die("read");
            total += n;
        }
        while ((n = read(fd, buf, bufsize)) > 0) total += n;
        if (n < 0) die("read");
        t1 = t2 = now();
        close(fd);
    }
    else if (!strcmp(mode, "read-backup"))
    {
        int fd = open(path, O_RDONLY);
        HANDLE h;
        LPVOID ctx = NULL;
        DWORD got;
        long long stream = 0;
        if (fd < 0) die(path);
        if ((h = wb_handle_from_fd(fd)) == INVALID_HANDLE_VALUE) die_win32("wb_handle_from_fd");
        t0 = now();
        for (;;)
        {
            if (!BackupRead(h, buf, bufsize, &got, FALSE, FALSE, &ctx)) die_win32("BackupRead");
            if (!got) break;
            stream += got;
        }
        t1 = now();
        if (!BackupRead(h, NULL, 0, &got, TRUE, FALSE, &ctx)) die_win32("BackupRead(abort)");
        t2 = now();
        CloseHandle(h);
        /* data bytes: the stream less its headers; report the stream size,
         * run.sh uses the file's size for throughput */
        total = stream;
    }
    else if (!strcmp(mode, "write-plain") || !strcmp(mode, "write-plain-sync"))
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die(path);
        t0 = now();
        while (total < size)
        {
            size_t chunk = size - total < (long long)bufsize ? (size_t)(size - total) : bufsize;
            ssize_t n = write(fd, buf, chunk);
            if (n <= 0) die("write");
            total += n;
        }
        t1 = now();
        if (!strcmp(mode, "write-plain-sync") && fdatasync(fd)) die("fdatasync");
        t2 = now();
        if (fsync(fd)) die("fsync");   /* untimed: keep runs apart */
        close(fd);
    }
    else if (!strcmp(mode, "write-backup"))
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        HANDLE h;
        LPVOID ctx = NULL;
        DWORD done;
        /* WIN32_STREAM_ID of one BACKUP_DATA stream: 20 bytes, no name */
        BYTE header[20] = { 0 };
        header[0] = BACKUP_DATA;
        memcpy(header + 8, &size, 8);
        if (fd < 0) die(path);
        if ((h = wb_handle_from_fd(fd)) == INVALID_HANDLE_VALUE) die_win32("wb_handle_from_fd");
        t0 = now();
        if (!BackupWrite(h, header, sizeof(header), &done, FALSE, FALSE, &ctx) || done != sizeof(header))
            die_win32("BackupWrite(header)");
        while (total < size)
        {
            DWORD chunk = size - total < (long long)bufsize ? (DWORD)(size - total) : (DWORD)bufsize;
            if (!BackupWrite(h, buf, chunk, &done, FALSE, FALSE, &ctx) || !done) die_win32("BackupWrite");
            total += done;
        }
        t1 = now();
        if (!BackupWrite(h, NULL, 0, &done, TRUE, FALSE, &ctx)) die_win32("BackupWrite(abort)");
        t2 = now();
        if (fsync(fd)) die("fsync");
        CloseHandle(h);
    }
    else
    {
        fprintf(stderr, "throughput: unknown mode %s\n", mode);
        return 2;
    }
    printf("bytes=%lld seconds=%.6f finish=%.6f rchar=%lld\n", total, t1 - t0, t2 - t1, rchar() - r0);
    free(buf);
    return 0;
}
