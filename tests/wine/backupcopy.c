/*
 * backupcopy: an ordinary Windows program using the backup APIs the way
 * backup software does, built with mingw-w64 and importing BackupRead,
 * BackupSeek and BackupWrite from kernel32 like any other program.
 *
 *   backupcopy.exe [--security] SRC STREAM DST
 *
 * 1. BackupRead SRC into the file STREAM through an odd-sized buffer (so
 *    that headers and names straddle calls);
 * 2. walk SRC again reading only the 20-byte headers and names and skipping
 *    every payload with BackupSeek; the headers seen must be exactly the ones
 *    in STREAM, and a seek past the end of a stream must fail with ERROR_SEEK
 *    and report the bytes actually skipped;
 * 3. BackupWrite STREAM onto a new file DST through another odd-sized buffer.
 * Exit status 0 when everything succeeded; failures are printed.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define HEADER_SIZE 20  /* WIN32_STREAM_ID without the name; sizeof() is 24 */

static int failures;

#define check(cond, ...) do { if (!(cond)) { failures++; printf("backupcopy: line %d: ", __LINE__); \
                                             printf(__VA_ARGS__); } } while (0)

static BOOL backup_to_file(const char *src, const char *stream, BOOL security)
{
    HANDLE in, out;
    BYTE buffer[4093];
    DWORD got, put;
    void *context = NULL;
    BOOL ret = TRUE;

    in = CreateFileA(src, GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                     FILE_FLAG_BACKUP_SEMANTICS, NULL);
    check(in != INVALID_HANDLE_VALUE, "open %s: error %lu\n", src, GetLastError());
    out = CreateFileA(stream, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    check(out != INVALID_HANDLE_VALUE, "create %s: error %lu\n", stream, GetLastError());
    if (in == INVALID_HANDLE_VALUE || out == INVALID_HANDLE_VALUE) return FALSE;

    for (;;)
    {
        SetLastError(0xdeadbeef);
        if (!BackupRead(in, buffer, sizeof(buffer), &got, FALSE, security, &context))
        {
            check(0, "BackupRead failed, error %lu\n", GetLastError());
            ret = FALSE;
            break;
        }
        if (!got) break;
        if (!WriteFile(out, buffer, got, &put, NULL) || put != got)
        {
            check(0, "WriteFile failed, error %lu\n", GetLastError());
            ret = FALSE;
            break;
        }
    }
    check(context != NULL, "no context after BackupRead\n");
    check(BackupRead(in, NULL, 0, &got, TRUE, security, &context), "BackupRead abort failed, error %lu\n",
          GetLastError());
    CloseHandle(out);
    CloseHandle(in);
    return ret;
}

/* Read exactly size bytes of the backup (fewer only at its end). */
static DWORD read_exact(HANDLE file, BYTE *buffer, DWORD size, BOOL security, void **context)
{
    DWORD total = 0, got;
    while (total < size)
    {
        if (!BackupRead(file, buffer + total, size - total, &got, FALSE, security, context))
        {
            check(0, "BackupRead failed, error %lu\n", GetLastError());
            return total;
        }
        if (!got) break;
        total += got;
    }
    return total;
}

/* Compare the headers BackupRead+BackupSeek see with the headers in the stream file. */
static void walk_with_seek(const char *src, const char *stream, BOOL security)
{
    HANDLE in, saved;
    BYTE head[HEADER_SIZE], saved_head[HEADER_SIZE], name[1024];
    void *context = NULL;
    int streams = 0;

    in = CreateFileA(src, GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                     FILE_FLAG_BACKUP_SEMANTICS, NULL);
    saved = CreateFileA(stream, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    check(in != INVALID_HANDLE_VALUE && saved != INVALID_HANDLE_VALUE, "open failed, error %lu\n", GetLastError());
    if (in == INVALID_HANDLE_VALUE || saved == INVALID_HANDLE_VALUE) return;

    for (;;)
    {
        DWORD got = read_exact(in, head, HEADER_SIZE, security, &context), saved_got = 0, low, high;
        DWORD name_size;
        ULONGLONG size, skipped;
        LARGE_INTEGER pos;

        ReadFile(saved, saved_head, HEADER_SIZE, &saved_got, NULL);
        check(got == saved_got, "stream %d: header of %lu bytes, stream file has %lu\n", streams, got, saved_got);
        if (got != HEADER_SIZE || saved_got != HEADER_SIZE) break;
        check(!memcmp(head, saved_head, HEADER_SIZE), "stream %d: headers differ\n", streams);
        memcpy(&size, head + 8, sizeof(size));
        memcpy(&name_size, head + 16, sizeof(name_size));
        if (name_size > sizeof(name))
        {
            check(0, "stream %d: name size %lu\n", streams, name_size);
            break;
        }
        got = read_exact(in, name, name_size, security, &context);
        check(got == name_size, "stream %d: name %lu of %lu bytes\n", streams, got, name_size);

        /* one byte more than the payload: all of it is skipped, and ERROR_SEEK says the rest was not */
        SetLastError(0xdeadbeef);
        low = high = 0xdeadbeef;
        if (size + 1 > size)
        {
            BOOL ret = BackupSeek(in, (DWORD)(size + 1), (DWORD)((size + 1) >> 32), &low, &high, &context);
            skipped = ((ULONGLONG)high << 32) | low;
            check(!ret && GetLastError() == ERROR_SEEK, "stream %d: BackupSeek past the end: ret %d, error %lu\n",
                  streams, ret, GetLastError());
            check(skipped == size, "stream %d: skipped %llu of %llu\n", streams, skipped, size);
        }
        pos.QuadPart = name_size + size;
        SetFilePointerEx(saved, pos, NULL, FILE_CURRENT);
        streams++;
    }
    check(streams > 0, "no stream seen\n");
    printf("backupcopy: %d streams walked with BackupSeek\n", streams);
    BackupRead(in, NULL, 0, NULL, TRUE, security, &context);
    CloseHandle(saved);
    CloseHandle(in);
}

static BOOL restore_from_file(const char *stream, const char *dst, BOOL security)
{
    HANDLE in, out;
    BYTE buffer[777];
    DWORD got, put;
    void *context = NULL;
    BOOL ret = TRUE;

    in = CreateFileA(stream, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    out = CreateFileA(dst, GENERIC_WRITE | WRITE_DAC | WRITE_OWNER, 0, NULL, CREATE_ALWAYS,
                      FILE_FLAG_BACKUP_SEMANTICS, NULL);
    check(in != INVALID_HANDLE_VALUE && out != INVALID_HANDLE_VALUE, "open failed, error %lu\n", GetLastError());
    if (in == INVALID_HANDLE_VALUE || out == INVALID_HANDLE_VALUE) return FALSE;

    while (ReadFile(in, buffer, sizeof(buffer), &got, NULL) && got)
    {
        SetLastError(0xdeadbeef);
        if (!BackupWrite(out, buffer, got, &put, FALSE, security, &context) || put != got)
        {
            check(0, "BackupWrite failed: wrote %lu of %lu, error %lu\n", put, got, GetLastError());
            ret = FALSE;
            break;
        }
    }
    check(BackupWrite(out, NULL, 0, &put, TRUE, security, &context), "BackupWrite abort failed, error %lu\n",
          GetLastError());
    CloseHandle(out);
    CloseHandle(in);
    return ret;
}

int main(int argc, char **argv)
{
    BOOL security = FALSE;
    int i = 1;

    if (argc > 1 && !strcmp(argv[1], "--security"))
    {
        security = TRUE;
        i++;
    }
    if (argc - i != 3)
    {
        printf("usage: backupcopy.exe [--security] SRC STREAM DST\n");
        return 2;
    }
    if (backup_to_file(argv[i], argv[i + 1], security))
    {
        walk_with_seek(argv[i], argv[i + 1], security);
        restore_from_file(argv[i + 1], argv[i + 2], security);
    }
    printf("backupcopy: %d failures\n", failures);
    return failures ? 1 : 0;
}
