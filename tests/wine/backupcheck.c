/*
 * backupcheck: the validation the backup APIs owe their callers, run under
 * `winbackup wine` by tests/wine-backup.sh.  Complements conformance/backup.c
 * (which also runs on Windows) with the cases whose Windows error codes are
 * UNVERIFIED and chosen by this implementation (see dlls/kernel32/backup.c).
 *
 *   backupcheck.exe DIR      (a writable directory, Win32 path)
 * Prints one line per failed check; exit status = number of failures.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static int failures, checks;

#define ok(cond, ...) do { checks++; if (!(cond)) { failures++; printf("backupcheck.c:%d: Test failed: ", __LINE__); \
                                                    printf(__VA_ARGS__); } } while (0)

static HANDLE open_file(const char *path, DWORD access, DWORD disposition)
{
    return CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, disposition, 0, NULL);
}

int main(int argc, char **argv)
{
    static const BYTE data[] = "some file data";
    char path[MAX_PATH];
    BYTE buffer[256], stream[64];
    DWORD got, low, high, error, size;
    void *read_context = NULL, *write_context = NULL;
    HANDLE file, readonly;
    BOOL ret;

    if (argc != 2)
    {
        printf("usage: backupcheck.exe DIR\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s\\backupcheck.bin", argv[1]);
    file = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    ok(file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    if (file == INVALID_HANDLE_VALUE) return 1;
    WriteFile(file, data, sizeof(data), &got, NULL);

    /* a BackupRead context is not a BackupWrite context, and the other way round */
    ret = BackupRead(file, buffer, 20, &got, FALSE, FALSE, &read_context);
    ok(ret && got == 20, "BackupRead: ret %d, got %lu, error %lu\n", ret, got, GetLastError());
    SetLastError(0xdeadbeef);
    ret = BackupWrite(file, buffer, 20, &got, FALSE, FALSE, &read_context);
    error = GetLastError();
    ok(!ret && error == ERROR_INVALID_PARAMETER, "BackupWrite with a read context: ret %d, error %lu\n", ret, error);
    ok(got == 0, "BackupWrite with a read context wrote %lu\n", got);

    /* BackupSeek: NULL context, NULL out pointers, past the stream end */
    SetLastError(0xdeadbeef);
    ret = BackupSeek(file, 1, 0, &low, &high, NULL);
    ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER, "BackupSeek NULL context: ret %d, error %lu\n", ret,
       GetLastError());
    SetLastError(0xdeadbeef);
    ret = BackupSeek(file, 1, 0, NULL, &high, &read_context);
    ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER, "BackupSeek NULL low: ret %d, error %lu\n", ret,
       GetLastError());
    SetLastError(0xdeadbeef);
    low = high = 0xdeadbeef;
    ret = BackupSeek(file, 1000, 0, &low, &high, &read_context);
    ok(!ret && GetLastError() == ERROR_SEEK, "BackupSeek past the end: ret %d, error %lu\n", ret, GetLastError());
    ok(low == sizeof(data) && high == 0, "BackupSeek skipped %lu:%lu, expected %u\n", high, low,
       (unsigned)sizeof(data));
    ret = BackupRead(file, buffer, sizeof(buffer), &got, FALSE, FALSE, &read_context);
    ok(ret && got == 0, "BackupRead after the last stream: ret %d, got %lu\n", ret, got);

    /* abort frees and clears the context; aborting a NULL context is fine */
    ret = BackupRead(file, NULL, 0, &got, TRUE, FALSE, &read_context);
    ok(ret, "BackupRead abort failed, error %lu\n", GetLastError());
    ok(read_context == NULL, "context %p after abort\n", read_context);
    ret = BackupRead(file, NULL, 0, &got, TRUE, FALSE, &read_context);
    ok(ret, "BackupRead abort of a NULL context failed, error %lu\n", GetLastError());

    /* NULL lpContext */
    SetLastError(0xdeadbeef);
    ret = BackupRead(file, buffer, sizeof(buffer), &got, FALSE, FALSE, NULL);
    ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER, "BackupRead NULL context: ret %d, error %lu\n", ret,
       GetLastError());

    /* a write context is refused by BackupRead */
    memset(stream, 0, sizeof(stream));
    stream[0] = 1;                                 /* BACKUP_DATA */
    stream[8] = 4;                                 /* 4 bytes of payload */
    memcpy(stream + 20, "abcd", 4);
    ret = BackupWrite(file, stream, 10, &got, FALSE, FALSE, &write_context);
    ok(ret && got == 10, "BackupWrite: ret %d, got %lu, error %lu\n", ret, got, GetLastError());
    SetLastError(0xdeadbeef);
    ret = BackupRead(file, buffer, 20, &got, FALSE, FALSE, &write_context);
    ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER, "BackupRead with a write context: ret %d, error %lu\n",
       ret, GetLastError());
    ret = BackupWrite(file, stream + 10, 14, &got, FALSE, FALSE, &write_context);
    ok(ret && got == 14, "BackupWrite: ret %d, got %lu, error %lu\n", ret, got, GetLastError());
    ret = BackupWrite(file, NULL, 0, &got, TRUE, FALSE, &write_context);
    ok(ret, "BackupWrite abort failed, error %lu\n", GetLastError());
    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    ret = ReadFile(file, buffer, 4, &got, NULL);
    ok(ret && got == 4 && !memcmp(buffer, "abcd", 4), "restored data: got %lu bytes \"%.4s\"\n", got, buffer);

    /* a malformed stream: unknown-size name (odd byte count) */
    memset(stream, 0, sizeof(stream));
    stream[0] = 4;                                 /* BACKUP_ALTERNATE_DATA */
    stream[16] = 3;                                /* name of 3 bytes: not UTF-16 */
    SetLastError(0xdeadbeef);
    ret = BackupWrite(file, stream, 24, &got, FALSE, FALSE, &write_context);
    error = GetLastError();
    ok(!ret && error != 0xdeadbeef && error != ERROR_SUCCESS, "malformed stream: ret %d, error %lu\n", ret, error);
    BackupWrite(file, NULL, 0, &got, TRUE, FALSE, &write_context);
    CloseHandle(file);

    /* a DATA stream needs write access (checked when the stream comes: a
     * hard link needs none); the context exists and is freed by the abort */
    readonly = open_file(path, GENERIC_READ, OPEN_EXISTING);
    ok(readonly != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    memset(stream, 0, sizeof(stream));
    stream[0] = 1;
    stream[8] = 4;
    memcpy(stream + 20, "wxyz", 4);
    SetLastError(0xdeadbeef);
    write_context = NULL;
    ret = BackupWrite(readonly, stream, 24, &got, FALSE, FALSE, &write_context);
    ok(!ret && GetLastError() == ERROR_ACCESS_DENIED, "BackupWrite read-only handle: ret %d, error %lu\n", ret,
       GetLastError());
    BackupWrite(readonly, NULL, 0, &got, TRUE, FALSE, &write_context);
    CloseHandle(readonly);

    /* FILE_FLAG_NO_BUFFERING handles are refused */
    readonly = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_NO_BUFFERING, NULL);
    ok(readonly != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    SetLastError(0xdeadbeef);
    read_context = NULL;
    ret = BackupRead(readonly, buffer, sizeof(buffer), &got, FALSE, FALSE, &read_context);
    ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER, "BackupRead no-buffering handle: ret %d, error %lu\n",
       ret, GetLastError());
    BackupRead(readonly, NULL, 0, &got, TRUE, FALSE, &read_context);
    CloseHandle(readonly);

    size = DeleteFileA(path);
    ok(size, "DeleteFile failed, error %lu\n", GetLastError());
    printf("backupcheck: %d checks, %d failures\n", checks, failures);
    return failures;
}
