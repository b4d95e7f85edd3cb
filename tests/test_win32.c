/*
 * Tests of <winbackup/win32.h>: the Win32 prototypes over file descriptors,
 * on real files.  Expected errors are those Microsoft documents for the
 * Win32 functions (ERROR_INVALID_HANDLE for a bad handle, ERROR_SEEK from
 * BackupSeek past a stream, ERROR_INVALID_PARAMETER for a
 * FILE_FLAG_NO_BUFFERING handle).
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "winbackup/win32.h"
#include "winbackup/metadata.h"
#include "winbackup/winbackup.h"

struct fixture
{
    char *dir;
    char path[4200];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    int fd;

    fx->dir = testutil_mkdtemp();
    snprintf(fx->path, sizeof(fx->path), "%s/file", fx->dir);
    fd = open(fx->path, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    testutil_rmtree(fx->dir);
    free(fx);
    return 0;
}

static HANDLE open_handle(const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    assert_true(fd >= 0);
    return wb_handle_from_fd(fd);
}

/* The whole stream read through BackupRead with `chunk`-byte buffers. */
static size_t backup_read_all(const char *path, DWORD chunk, BYTE *out, size_t out_size)
{
    HANDLE file = open_handle(path, O_RDONLY);
    LPVOID context = NULL;
    size_t used = 0;
    DWORD got;
    BOOL ret;

    assert_true(file != INVALID_HANDLE_VALUE);
    for (;;)
    {
        assert_true(used + chunk <= out_size);
        ret = BackupRead(file, out + used, chunk, &got, FALSE, FALSE, &context);
        assert_true(ret);
        assert_non_null(context);
        if (!got) break;
        used += got;
    }
    assert_true(BackupRead(file, NULL, 0, &got, TRUE, FALSE, &context));
    assert_null(context);
    assert_true(CloseHandle(file));
    return used;
}

static void test_read_any_buffer_size(void **state)
{
    struct fixture *fx = *state;
    static const BYTE want[] =
    {
        0x01,0,0,0, 0,0,0,0, 10,0,0,0,0,0,0,0, 0,0,0,0, '0','1','2','3','4','5','6','7','8','9',
    };
    BYTE got[256];
    DWORD chunk;

    assert_int_equal(offsetof(WIN32_STREAM_ID, cStreamName), 20);
    assert_int_equal(sizeof(WIN32_STREAM_ID), 24);
    for (chunk = 1; chunk <= sizeof(want) + 2; chunk++)
    {
        size_t size = backup_read_all(fx->path, chunk, got, sizeof(got));
        assert_int_equal(size, sizeof(want));
        assert_memory_equal(got, want, sizeof(want));
    }
}

static void test_seek(void **state)
{
    struct fixture *fx = *state;
    HANDLE file = open_handle(fx->path, O_RDONLY);
    LPVOID context = NULL;
    DWORD got, low = 99, high = 99;
    BYTE buffer[64];

    assert_true(BackupRead(file, buffer, 20, &got, FALSE, FALSE, &context));
    assert_int_equal(got, 20);
    assert_true(BackupSeek(file, 3, 0, &low, &high, &context));
    assert_int_equal(low, 3);
    assert_int_equal(high, 0);
    SetLastError(0xdeadbeef);
    assert_false(BackupSeek(file, 100, 0, &low, &high, &context));
    assert_int_equal(GetLastError(), ERROR_SEEK);
    assert_int_equal(low, 7);
    assert_int_equal(high, 0);
    assert_true(BackupRead(file, buffer, sizeof(buffer), &got, FALSE, FALSE, &context));
    assert_int_equal(got, 0);
    assert_true(BackupRead(file, NULL, 0, &got, TRUE, FALSE, &context));
    CloseHandle(file);
}

/* fdatasync as the library sees it: this program's own, counted (a static
 * link resolves the library's calls to it), then the real system call. */
static int fdatasync_calls;
int fdatasync(int fd)
{
    fdatasync_calls++;
    return (int)syscall(SYS_fdatasync, fd);
}

static void test_write_restores(void **state)
{
    struct fixture *fx = *state;
    char copy[4300];
    BYTE stream[256], back[256];
    size_t size = backup_read_all(fx->path, 64, stream, sizeof(stream)), i;
    HANDLE file;
    LPVOID context = NULL;
    DWORD written;

    snprintf(copy, sizeof(copy), "%s/copy", fx->dir);
    file = open_handle(copy, O_CREAT | O_RDWR);
    /* one byte at a time, as the hardest split */
    for (i = 0; i < size; i++)
    {
        assert_true(BackupWrite(file, stream + i, 1, &written, FALSE, FALSE, &context));
        assert_int_equal(written, 1);
    }
    /* the restored data is durable when the closing call returns, as
     * BackupWrite's data is on Windows once the handle's writes complete */
    fdatasync_calls = 0;
    assert_true(BackupWrite(file, NULL, 0, &written, TRUE, FALSE, &context));
    assert_null(context);
    assert_true(fdatasync_calls > 0);
    CloseHandle(file);
    assert_int_equal(backup_read_all(copy, 7, back, sizeof(back)), size);
    assert_memory_equal(back, stream, size);
}

static void test_bad_parameters(void **state)
{
    struct fixture *fx = *state;
    HANDLE file = open_handle(fx->path, O_RDONLY), stale;
    LPVOID context = NULL, write_context = NULL;
    DWORD got, low, high;
    BYTE buffer[64];
    int fd;

    SetLastError(0xdeadbeef);
    assert_false(BackupRead(INVALID_HANDLE_VALUE, buffer, sizeof(buffer), &got, FALSE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(BackupRead((HANDLE)(uintptr_t)0x10000, buffer, sizeof(buffer), &got, FALSE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_null(context);

    /* a closed handle is stale */
    stale = open_handle(fx->path, O_RDONLY);
    assert_true(CloseHandle(stale));
    SetLastError(0xdeadbeef);
    assert_false(CloseHandle(stale));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);

    SetLastError(0xdeadbeef);
    assert_false(BackupRead(file, buffer, sizeof(buffer), NULL, FALSE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(BackupRead(file, buffer, sizeof(buffer), &got, FALSE, FALSE, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(BackupSeek(file, 1, 0, &low, &high, &context));   /* no context yet */
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* a BackupRead context is no BackupWrite context, and the other way round */
    assert_true(BackupRead(file, buffer, 4, &got, FALSE, FALSE, &context));
    SetLastError(0xdeadbeef);
    assert_false(BackupWrite(file, buffer, 4, &got, FALSE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(BackupWrite(file, NULL, 0, &got, TRUE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(BackupRead(file, NULL, 0, &got, TRUE, FALSE, &context));
    {
        /* ... and a BackupWrite context (made by a first call with part of a
         * header) is no BackupRead context */
        HANDLE rw = open_handle(fx->path, O_RDWR);
        LPVOID wctx = NULL;
        static const BYTE part[4] = { 1, 0, 0, 0 };
        assert_true(BackupWrite(rw, (BYTE *)part, sizeof(part), &got, FALSE, FALSE, &wctx));
        assert_non_null(wctx);
        SetLastError(0xdeadbeef);
        assert_false(BackupRead(rw, buffer, sizeof(buffer), &got, FALSE, FALSE, &wctx));
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
        BackupWrite(rw, NULL, 0, &got, TRUE, FALSE, &wctx);
        CloseHandle(rw);
    }

    /* a DATA stream needs a writable handle; the check comes with the
     * stream (a hard link needs none), so the context exists by then */
    {
        static const BYTE data_stream[] = { 0x01,0,0,0, 0,0,0,0, 2,0,0,0,0,0,0,0, 0,0,0,0, 'x','y' };
        SetLastError(0xdeadbeef);
        assert_false(BackupWrite(file, (BYTE *)data_stream, sizeof(data_stream), &got, FALSE, FALSE, &write_context));
        assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
        assert_true(BackupWrite(file, NULL, 0, &got, TRUE, FALSE, &write_context));
        assert_null(write_context);
    }
    CloseHandle(file);

    /* FILE_FLAG_NO_BUFFERING (O_DIRECT) handles: ERROR_INVALID_PARAMETER, as documented */
    fd = open(fx->path, O_RDONLY | O_DIRECT);
    if (fd >= 0)
    {
        file = wb_handle_from_fd(fd);
        SetLastError(0xdeadbeef);
        assert_false(BackupRead(file, buffer, sizeof(buffer), &got, FALSE, FALSE, &context));
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
        CloseHandle(file);
    }

    SetLastError(0xdeadbeef);
    assert_true(wb_handle_from_fd(-1) == INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* A malformed stream fails with ERROR_INVALID_DATA; later calls keep failing. */
static void test_write_malformed(void **state)
{
    struct fixture *fx = *state;
    static BYTE bad[20] = { 0x0c };    /* stream id 12 does not exist */
    HANDLE file = open_handle(fx->path, O_RDWR);
    LPVOID context = NULL;
    DWORD written = 99;
    char content[16] = { 0 };
    int fd;

    SetLastError(0xdeadbeef);
    assert_false(BackupWrite(file, bad, sizeof(bad), &written, FALSE, FALSE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_DATA);
    assert_int_equal(written, 0);
    assert_true(BackupWrite(file, NULL, 0, &written, TRUE, FALSE, &context));
    CloseHandle(file);
    fd = open(fx->path, O_RDONLY);
    assert_int_equal(read(fd, content, sizeof(content)), 10);
    assert_string_equal(content, "0123456789");
    close(fd);
}

/* Microsoft's CreateHardLink sample (KB, NT4 era): the EXISTING file opened
 * for attributes only, the 20-byte header and the NUL-terminated full path
 * of the new name in two calls, then bAbort; an existing name is replaced. */
static void test_link_like_the_kb_sample(void **state)
{
    struct fixture *fx = *state;
    HANDLE file = open_handle(fx->path, O_RDONLY);
    char link_path[4300], win_path[4400];
    BYTE header[20] = { 0x05 }, payload[2 * 4400];
    LPVOID context = NULL;
    DWORD written = 0, size, i;
    struct stat st_file, st_link;
    int fd;

    snprintf(link_path, sizeof(link_path), "%s/link", fx->dir);
    fd = open(link_path, O_CREAT | O_WRONLY, 0644);      /* to be overwritten */
    assert_true(fd >= 0);
    close(fd);
    snprintf(win_path, sizeof(win_path), "Z:%s", link_path);
    for (i = 0; win_path[i]; i++) if (win_path[i] == '/') win_path[i] = '\\';
    size = (strlen(win_path) + 1) * 2;
    for (i = 0; i < size / 2; i++)
    {
        payload[2 * i] = win_path[i];
        payload[2 * i + 1] = 0;
    }
    memcpy(header + 8, &size, 4);
    assert_true(BackupWrite(file, header, sizeof(header), &written, FALSE, FALSE, &context));
    assert_int_equal(written, sizeof(header));
    assert_true(BackupWrite(file, payload, size, &written, FALSE, FALSE, &context));
    assert_int_equal(written, size);
    assert_true(BackupWrite(file, NULL, 0, &written, TRUE, FALSE, &context));
    CloseHandle(file);
    assert_int_equal(stat(fx->path, &st_file), 0);
    assert_int_equal(stat(link_path, &st_link), 0);
    assert_int_equal(st_link.st_ino, st_file.st_ino);
    assert_int_equal(st_file.st_nlink, 2);
}

/* BackupSeek on a BackupWrite context skips bytes of the current payload:
 * they are not written (zeros), the rest follows. */
static void test_seek_while_writing(void **state)
{
    struct fixture *fx = *state;
    static const BYTE header[20] = { 0x01,0,0,0, 0,0,0,0, 10,0,0,0,0,0,0,0, 0,0,0,0 };
    HANDLE file = open_handle(fx->path, O_RDWR | O_TRUNC);
    LPVOID context = NULL;
    DWORD written, low, high;
    char content[16] = { 0 };
    int fd;

    assert_true(BackupWrite(file, (BYTE *)header, 12, &written, FALSE, FALSE, &context));
    SetLastError(0xdeadbeef);
    assert_false(BackupSeek(file, 1, 0, &low, &high, &context));     /* inside the header */
    assert_int_equal(GetLastError(), ERROR_SEEK);
    assert_int_equal(low, 0);
    assert_true(BackupWrite(file, (BYTE *)header + 12, 8, &written, FALSE, FALSE, &context));
    assert_true(BackupWrite(file, (BYTE *)"ab", 2, &written, FALSE, FALSE, &context));
    assert_true(BackupSeek(file, 5, 0, &low, &high, &context));
    assert_int_equal(low, 5);
    assert_int_equal(high, 0);
    assert_true(BackupWrite(file, (BYTE *)"xyz", 3, &written, FALSE, FALSE, &context));
    /* the stream is complete: nothing is left to skip */
    SetLastError(0xdeadbeef);
    assert_false(BackupSeek(file, 1, 0, &low, &high, &context));
    assert_int_equal(GetLastError(), ERROR_SEEK);
    assert_true(BackupWrite(file, NULL, 0, &written, TRUE, FALSE, &context));
    CloseHandle(file);
    fd = open(fx->path, O_RDONLY);
    assert_int_equal(read(fd, content, sizeof(content)), 10);
    assert_memory_equal(content, "ab\0\0\0\0\0xyz", 10);
    close(fd);
}

/* A context keeps its own descriptor: once the handle is closed the calls
 * fail with ERROR_INVALID_HANDLE, and a file that gets the old descriptor
 * number is never written, nor its mode changed by the final abort. */
static void test_context_after_close(void **state)
{
    struct fixture *fx = *state;
    static const BYTE header[20] = { 0x01,0,0,0, 0,0,0,0, 10,0,0,0,0,0,0,0, 0,0,0,0 };
    char other_path[4300], content[16] = { 0 };
    HANDLE file = open_handle(fx->path, O_RDWR | O_TRUNC);
    LPVOID context = NULL;
    DWORD written;
    struct stat st;
    int fd, other;

    uint8_t *sd, sd_header[20] = { 0x03, 0, 0, 0, 0x02 };
    size_t sd_size;

    /* a descriptor that maps onto mode 0777: applied by the final abort */
    assert_int_equal(wb_sd_from_posix(getuid(), getgid(), 0777, 0, NULL, 0, &sd, &sd_size), WB_OK);
    memcpy(sd_header + 8, &sd_size, 4);
    fd = wb_fd_from_handle(file);
    assert_true(BackupWrite(file, sd_header, sizeof(sd_header), &written, FALSE, TRUE, &context));
    assert_true(BackupWrite(file, sd, sd_size, &written, FALSE, TRUE, &context));
    free(sd);
    assert_true(BackupWrite(file, (BYTE *)header, sizeof(header), &written, FALSE, TRUE, &context));
    assert_true(BackupWrite(file, (BYTE *)"abcdefghij", 10, &written, FALSE, TRUE, &context));
    assert_true(CloseHandle(file));
    snprintf(other_path, sizeof(other_path), "%s/other", fx->dir);
    other = open(other_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    assert_int_equal(other, fd);                /* the number is taken again */
    assert_int_equal(write(other, "unrelated", 9), 9);
    SetLastError(0xdeadbeef);
    assert_false(BackupWrite(file, (BYTE *)header, sizeof(header), &written, FALSE, TRUE, &context));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    BackupWrite(file, NULL, 0, &written, TRUE, TRUE, &context);
    assert_null(context);
    assert_int_equal(pread(other, content, sizeof(content), 0), 9);
    assert_memory_equal(content, "unrelated", 9);
    assert_int_equal(fstat(other, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_read_any_buffer_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_like_the_kb_sample, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek_while_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_after_close, setup, teardown),
    };
    return cmocka_run_group_tests_name("win32", tests, NULL, NULL);
}
