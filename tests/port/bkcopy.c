/*
 * bkcopy: a Windows backup tool of the classic kind, written against the
 * Win32 API, that builds unchanged for Windows (mingw-w64) and for Linux
 * (<winbackup/win32.h> + libwinbackup).  Only open_file() differs: that is
 * the one place a port touches.
 *
 *   bkcopy read FILE STREAM      BackupRead FILE into the file STREAM
 *   bkcopy write STREAM FILE     BackupWrite STREAM onto FILE
 */
#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <winbackup/win32.h>
#endif
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
static HANDLE open_file(const char *path, BOOL write)
{
    return CreateFileA(path, write ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ, FILE_SHARE_READ, NULL,
                       write ? CREATE_ALWAYS : OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
}
#else
static HANDLE open_file(const char *path, BOOL write)
{
    int fd = write ? open(path, O_RDWR | O_CREAT | O_TRUNC, 0644) : open(path, O_RDONLY);
    return fd < 0 ? INVALID_HANDLE_VALUE : wb_handle_from_fd(fd);
}
#endif

/* ---- from here on, the tool as it was written for Windows ---- */

/* backup: file -> stream with BackupRead; otherwise stream -> file with BackupWrite */
static int copy_stream(HANDLE file, FILE *stream, BOOL backup)
{
    BYTE buffer[65536];
    LPVOID context = NULL;
    DWORD count, done;
    int status = 0;

    for (;;)
    {
        if (backup)
        {
            if (!BackupRead(file, buffer, sizeof(buffer), &count, FALSE, FALSE, &context))
            {
                fprintf(stderr, "BackupRead failed, error %u\n", (unsigned)GetLastError());
                status = 1;
                break;
            }
            if (!count) break;
            if (fwrite(buffer, 1, count, stream) != count) { status = 1; break; }
        }
        else
        {
            count = (DWORD)fread(buffer, 1, 4093, stream);  /* odd chunks: headers straddle calls */
            if (!count) break;
            if (!BackupWrite(file, buffer, count, &done, FALSE, FALSE, &context) || done != count)
            {
                fprintf(stderr, "BackupWrite failed, error %u\n", (unsigned)GetLastError());
                status = 1;
                break;
            }
        }
    }
    if (backup) BackupRead(file, NULL, 0, &count, TRUE, FALSE, &context);
    else if (!BackupWrite(file, NULL, 0, &done, TRUE, FALSE, &context)) status = 1;
    return status;
}

int main(int argc, char **argv)
{
    HANDLE file;
    FILE *stream;
    int status;

    if (argc != 4 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")))
    {
        fprintf(stderr, "usage: bkcopy read FILE STREAM | bkcopy write STREAM FILE\n");
        return 2;
    }
    if (!strcmp(argv[1], "read"))
    {
        if ((file = open_file(argv[2], FALSE)) == INVALID_HANDLE_VALUE) return 1;
        if (!(stream = fopen(argv[3], "wb"))) return 1;
        status = copy_stream(file, stream, TRUE);
    }
    else
    {
        if (!(stream = fopen(argv[2], "rb"))) return 1;
        if ((file = open_file(argv[3], TRUE)) == INVALID_HANDLE_VALUE) return 1;
        status = copy_stream(file, stream, FALSE);
    }
    fclose(stream);
    CloseHandle(file);
    return status;
}
