/*
 * Windows twin of bench/drivers/throughput.c, run under Wine through
 * `winbackup wine --`: kernel32 BackupRead / BackupWrite against ReadFile /
 * WriteFile over the same file with the same buffer size.
 *
 *   wthroughput read-plain|read-backup BUFSIZE FILE
 *   wthroughput write-plain|write-backup|write-plain-sync BUFSIZE FILE SIZE
 *
 * Prints "bytes=N seconds=S finish=F rchar=-1" (same meaning as the native
 * driver; timed with QueryPerformanceCounter, so Wine's start-up is not in it).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double now(void)
{
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    return (double)c.QuadPart / (double)f.QuadPart;
}

static void die(const char *what)
{
    fprintf(stderr, "wthroughput: %s failed, error %lu\n", what, GetLastError());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *mode, *path;
    BYTE *buf;
    DWORD bufsize, done;
    long long total = 0, size = 0;
    double t0, t1, t2;
    HANDLE h;
    LPVOID ctx = NULL;

    if (argc < 4)
    {
        fprintf(stderr, "usage: wthroughput MODE BUFSIZE FILE [SIZE]\n");
        return 2;
    }
    mode = argv[1];
    bufsize = strtoul(argv[2], NULL, 0);
    path = argv[3];
    if (argc > 4) size = _strtoi64(argv[4], NULL, 0);
    if (!bufsize || !(buf = VirtualAlloc(NULL, bufsize, MEM_COMMIT, PAGE_READWRITE))) die("VirtualAlloc");
    memset(buf, 0x5a, bufsize);

    if (!strncmp(mode, "read-", 5))
    {
        h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
        if (h == INVALID_HANDLE_VALUE) die("CreateFile");
        if (!strcmp(mode, "read-plain"))
        {
            t0 = now();
            for (;;)
            {
                if (!ReadFile(h, buf, bufsize, &done, NULL)) die("ReadFile");
                if (!done) break;
                total += done;
            }
            t1 = t2 = now();
        }
        else
        {
            t0 = now();
            for (;;)
            {
                if (!BackupRead(h, buf, bufsize, &done, FALSE, FALSE, &ctx)) die("BackupRead");
                if (!done) break;
                total += done;
            }
            t1 = now();
            if (!BackupRead(h, NULL, 0, &done, TRUE, FALSE, &ctx)) die("BackupRead(abort)");
            t2 = now();
        }
        CloseHandle(h);
    }
    else
    {
        h = CreateFileA(path, GENERIC_WRITE | GENERIC_READ, 0, NULL, CREATE_ALWAYS, FILE_FLAG_BACKUP_SEMANTICS, NULL);
        if (h == INVALID_HANDLE_VALUE) die("CreateFile");
        if (!strcmp(mode, "write-backup"))
        {
            BYTE header[20] = { 0 };   /* WIN32_STREAM_ID of one unnamed BACKUP_DATA stream */
            header[0] = BACKUP_DATA;
            memcpy(header + 8, &size, 8);
            t0 = now();
            if (!BackupWrite(h, header, sizeof(header), &done, FALSE, FALSE, &ctx) || done != sizeof(header))
                die("BackupWrite(header)");
            while (total < size)
            {
                DWORD chunk = size - total < bufsize ? (DWORD)(size - total) : bufsize;
                if (!BackupWrite(h, buf, chunk, &done, FALSE, FALSE, &ctx) || !done) die("BackupWrite");
                total += done;
            }
            t1 = now();
            if (!BackupWrite(h, NULL, 0, &done, TRUE, FALSE, &ctx)) die("BackupWrite(abort)");
            t2 = now();
        }
        else
        {
            t0 = now();
            while (total < size)
            {
                DWORD chunk = size - total < bufsize ? (DWORD)(size - total) : bufsize;
                if (!WriteFile(h, buf, chunk, &done, NULL) || !done) die("WriteFile");
                total += done;
            }
            t1 = now();
            if (!strcmp(mode, "write-plain-sync") && !FlushFileBuffers(h)) die("FlushFileBuffers");
            t2 = now();
        }
        FlushFileBuffers(h);   /* untimed: keep runs apart */
        CloseHandle(h);
    }
    printf("bytes=%lld seconds=%.6f finish=%.6f rchar=-1\n", total, t1 - t0, t2 - t1);
    fflush(stdout);
    VirtualFree(buf, 0, MEM_RELEASE);
    return 0;
}
