/*
 * `winbackup nsf`: consistent copies of live files through Domino's backup
 * API (the same NSFBackup* calls a Windows backup agent makes, here from
 * libs/nsf natively).
 *
 *   winbackup nsf copy SRC DST [--info FILE] [--progress] [--force]
 *       Start, copy SRC to DST with ordinary reads (high-water mark every
 *       MiB), Stop, then either apply the change info to DST at once, or
 *       with --info save it to FILE for `apply` at restore time.
 *   winbackup nsf apply COPY INFO
 *       apply saved change info; crash-safe (a killed apply is finished by
 *       running it again).
 *   winbackup nsf info INFO
 *       check saved change info and print its header and record count.
 *
 * Exit status: 0 success, 1 failure (STATUS and its OSLoadString text on
 * stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmisc.h"
#include "../../libs/nsf/nsf.h"

#define COPY_BUFFER (1u << 20)

int wb_cli_nsf(int argc, char **argv);

static int nsf_usage(void)
{
    fprintf(stderr,
            "usage: winbackup nsf copy SRC DST [--info FILE] [--progress] [--force]\n"
            "       winbackup nsf apply COPY INFO\n"
            "       winbackup nsf info INFO\n");
    return 2;
}

static int nsf_failed(const char *what, const char *arg, STATUS status)
{
    char text[256];
    if (!OSLoadString(NULLHANDLE, ERR(status), text, sizeof(text))) snprintf(text, sizeof(text), "error");
    fprintf(stderr, "winbackup nsf: %s %s: %s (STATUS 0x%04x)\n", what, arg, text, ERR(status));
    return 1;
}

static int sys_failed(const char *what, const char *arg)
{
    fprintf(stderr, "winbackup nsf: %s %s: %s\n", what, arg, strerror(errno));
    return 1;
}

/* The API takes LMBCS paths; the command line is native (UTF-8). */
static int to_lmbcs(const char *native, char *lmbcs, size_t size)
{
    size_t len = strlen(native);
    if (len >= MAXWORD) return -1;
    return OSTranslate(OS_TRANSLATE_NATIVE_TO_LMBCS, native, (WORD)len, lmbcs, (WORD)(size > MAXWORD ? MAXWORD : size))
           + 1 < (int)size ? 0 : -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(uint64_t done, uint64_t total, double start, int final)
{
    double elapsed = now() - start;
    fprintf(stderr, "\r  %llu / %llu MiB (%3.0f%%)  %.0f MiB/s%s", (unsigned long long)(done >> 20),
            (unsigned long long)(total >> 20), total ? 100.0 * done / total : 100.0,
            elapsed > 0 ? done / 1048576.0 / elapsed : 0.0, final ? "\n" : "");
}

static int write_all(int fd, const void *data, size_t size)
{
    while (size)
    {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data = (const char *)data + n;
        size -= n;
    }
    return 0;
}

static int cmd_copy(int argc, char **argv)
{
    const char *src = NULL, *dst = NULL, *info_path = NULL;
    int show_progress = isatty(STDERR_FILENO), force = 0, in = -1, out = -1, info_fd = -1, i, ret = 1;
    int made_dst = 0, made_info = 0;
    DBHANDLE db = NULLHANDLE;
    DHANDLE backup = NULLHANDLE, apply = NULLHANDLE;
    DWORD size_low, size_high, info_low, info_high, filled;
    uint64_t size, copied = 0, info_size;
    char *buffer = NULL, src_lmbcs[4096], dst_lmbcs[4096];
    double start, last = 0;
    STATUS status;

    for (i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--info") && i + 1 < argc) info_path = argv[++i];
        else if (!strcmp(argv[i], "--progress")) show_progress = 1;
        else if (!strcmp(argv[i], "--force")) force = 1;
        else if (argv[i][0] == '-') return nsf_usage();
        else if (!src) src = argv[i];
        else if (!dst) dst = argv[i];
        else return nsf_usage();
    }
    if (!src || !dst) return nsf_usage();
    if (to_lmbcs(src, src_lmbcs, sizeof(src_lmbcs)) || to_lmbcs(dst, dst_lmbcs, sizeof(dst_lmbcs)))
        return nsf_failed("copy", src, ERR_INV_FILE_NAME);
    if (!(buffer = malloc(COPY_BUFFER))) return sys_failed("copy", "buffer");
    NotesInit();
    /* SRC is looked up once, for both the backup and the copy: NSFDbOpen and a
     * later open() by name could see two files when one is renamed over SRC
     * in between (programs save files that way), and the copy would not be
     * of the file recorded.  O_PATH: NSFDbOpen judges the file (a FIFO must
     * not block us) before we read it. */
    if ((in = open(src, O_PATH | O_CLOEXEC)) >= 0) snprintf(src_lmbcs, sizeof(src_lmbcs), "/proc/self/fd/%d", in);
    /* (a name we cannot look up gets the API's own error: ERR_NOT_LOCAL for server!!path, ...) */
    if ((status = NSFDbOpen(src_lmbcs, &db))) { ret = nsf_failed("open", src, status); goto done; }
    if (in < 0) { ret = sys_failed("open", src); goto done; }
    {
        int path_fd = in;
        in = open(src_lmbcs, O_RDONLY | O_CLOEXEC);
        close(path_fd);
        if (in < 0) { ret = sys_failed("open", src); goto done; }
    }
    /* O_NOFOLLOW: --force replaces a file, never what a symlink planted under
     * that name (in a shared directory) points to */
    if ((out = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0600)) < 0)
    {
        ret = sys_failed("create", dst);
        goto done;
    }
    made_dst = 1;
    if (info_path &&
        (info_fd = open(info_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0600)) < 0)
    {
        ret = sys_failed("create", info_path);
        goto done;
    }
    made_info = info_path != NULL;
    if ((status = NSFBackupStart(db, 0, &backup, &size_low, &size_high)))
    {
        ret = nsf_failed("start", src, status);
        goto done;
    }
    size = (uint64_t)size_high << 32 | size_low;

    start = now();
    while (copied < size)
    {
        size_t want = size - copied < COPY_BUFFER ? size - copied : COPY_BUFFER;
        ssize_t got = pread(in, buffer, want, copied);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { ret = sys_failed("read", src); goto done; }
        if (!got) break;    /* truncated meanwhile: the change info holds the rest */
        if (write_all(out, buffer, got) < 0) { ret = sys_failed("write", dst); goto done; }
        copied += got;
        NSFBackupSetHighWaterMark(db, backup, (DWORD)copied, (DWORD)(copied >> 32));
        if (show_progress && now() - last > 0.5)
        {
            progress(copied, size, start, 0);
            last = now();
        }
    }
    if (ftruncate(out, size) < 0) { ret = sys_failed("extend", dst); goto done; }
    if (show_progress) progress(size, size, start, 1);
    if ((status = NSFBackupStop(db, backup))) { ret = nsf_failed("stop", src, status); goto done; }
    if ((status = NSFBackupGetChangeInfoSize(db, backup, 0, &info_low, &info_high)))
    {
        ret = nsf_failed("change info size", src, status);
        goto done;
    }
    info_size = (uint64_t)info_high << 32 | info_low;
    if (fsync(out) < 0 || close(out) < 0) { out = -1; ret = sys_failed("sync", dst); goto done; }
    out = -1;
    if (!info_path && (status = NSFBackupStartApplyChangeInfo(&apply, dst_lmbcs, 0, info_low, info_high)))
    {
        ret = nsf_failed("apply to", dst, status);
        goto done;
    }
    for (;;)
    {
        if ((status = NSFBackupGetNextChangeInfo(db, backup, 0, buffer, COPY_BUFFER, &filled)))
        {
            ret = nsf_failed("change info", src, status);
            goto done;
        }
        if (!filled) break;
        if (info_fd >= 0 && write_all(info_fd, buffer, filled) < 0) { ret = sys_failed("write", info_path); goto done; }
        if (apply && (status = NSFBackupApplyNextChangeInfo(apply, 0, buffer, filled)))
        {
            ret = nsf_failed("apply to", dst, status);
            goto done;
        }
    }
    if (apply)
    {
        status = NSFBackupEndApplyChangeInfo(apply, 0);
        apply = NULLHANDLE;
        if (status) { ret = nsf_failed("apply to", dst, status); goto done; }
    }
    if (info_fd >= 0 && (fsync(info_fd) < 0 || close(info_fd) < 0))
    {
        info_fd = -1;
        ret = sys_failed("sync", info_path);
        goto done;
    }
    info_fd = -1;
    printf("copied %llu bytes; change info %llu bytes%s%s\n", (unsigned long long)size,
           (unsigned long long)info_size, info_path ? ", saved to " : ", applied", info_path ? info_path : "");
    ret = 0;

done:
    if (apply) NSFBackupEndApplyChangeInfo(apply, APPLYEND_ABORT);
    if (backup) NSFBackupEnd(db, backup, ret ? BACKUPEND_ABORT : 0);
    if (db) NSFDbClose(db);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (info_fd >= 0) close(info_fd);
    /* A copy that failed is no backup and must not look like one: it goes, and
     * its change info (a half-applied copy without saved change info could
     * never be finished).  Only kill -9 leaves a partial copy behind. */
    if (ret && made_dst) unlink(dst);
    if (ret && made_info) unlink(info_path);
    NotesTerm();
    free(buffer);
    return ret;
}

static int cmd_apply(int argc, char **argv)
{
    DHANDLE apply = NULLHANDLE;
    struct stat st;
    char *buffer, copy_lmbcs[4096];
    STATUS status;
    int fd, ret = 1;

    if (argc != 2) return nsf_usage();
    if (to_lmbcs(argv[0], copy_lmbcs, sizeof(copy_lmbcs))) return nsf_failed("apply to", argv[0], ERR_INV_FILE_NAME);
    if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) return sys_failed("open", argv[1]);
    if (!(buffer = malloc(COPY_BUFFER))) { close(fd); return sys_failed("apply", "buffer"); }
    NotesInit();
    if ((status = NSFBackupStartApplyChangeInfo(&apply, copy_lmbcs, 0, (DWORD)st.st_size, (DWORD)((uint64_t)st.st_size >> 32))))
        ret = nsf_failed("apply to", argv[0], status);
    else
    {
        for (;;)
        {
            ssize_t got = read(fd, buffer, COPY_BUFFER);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) { ret = sys_failed("read", argv[1]); break; }
            if (!got)
            {
                status = NSFBackupEndApplyChangeInfo(apply, 0);
                apply = NULLHANDLE;
                ret = status ? nsf_failed("apply to", argv[0], status) : 0;
                break;
            }
            if ((status = NSFBackupApplyNextChangeInfo(apply, 0, buffer, (DWORD)got)))
            {
                ret = nsf_failed("apply to", argv[0], status);
                break;
            }
        }
        if (apply) NSFBackupEndApplyChangeInfo(apply, APPLYEND_ABORT);
    }
    NotesTerm();
    free(buffer);
    close(fd);
    return ret;
}

/* `info`: the decoder with a sink that only counts. */
struct count_sink { uint64_t records, bytes, zero_records, zero_bytes; };

static nsf_status count_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
    struct count_sink *sink = opaque;
    sink->records++;
    sink->bytes += size;
    return 0;
}

static nsf_status count_zero(void *opaque, uint64_t offset, uint32_t size)
{
    struct count_sink *sink = opaque;
    sink->zero_records++;
    sink->zero_bytes += size;
    return 0;
}

static const struct nsf_ci_sink_ops count_ops = { NULL, count_write, count_zero };

static int cmd_info(int argc, char **argv)
{
    struct count_sink sink = { 0, 0, 0, 0 };
    struct nsf_ci_decoder *decoder;
    const struct nsf_ci_header *header;
    static char buffer[1 << 16];
    nsf_status status = 0;
    int fd, i;

    if (argc != 1) return nsf_usage();
    if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0) return sys_failed("open", argv[0]);
    if (!(decoder = nsf_ci_decoder_new(&count_ops, &sink))) { close(fd); return nsf_failed("info", argv[0], ERR_MEMORY); }
    for (;;)
    {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { close(fd); nsf_ci_decoder_free(decoder); return sys_failed("read", argv[0]); }
        if (!got) break;
        if ((status = nsf_ci_decoder_feed(decoder, buffer, got))) break;
    }
    close(fd);
    if (!status && !nsf_ci_decoder_done(decoder)) status = ERR_CORRUPT_CHANGE_INFO;
    if (!status)
    {
        header = nsf_ci_decoder_header(decoder);
        printf("change info version %d, backup id ", NSF_CI_VERSION);
        for (i = 0; i < 16; i++) printf("%02x", header->backup_id[i]);
        printf("\nsize at start %llu bytes; %llu data records (%llu bytes of before-images), "
               "%llu zero records (%llu bytes)\n", (unsigned long long)header->start_size,
               (unsigned long long)sink.records, (unsigned long long)sink.bytes,
               (unsigned long long)sink.zero_records, (unsigned long long)sink.zero_bytes);
    }
    nsf_ci_decoder_free(decoder);
    return status ? nsf_failed("info", argv[0], status) : 0;
}

int wb_cli_nsf(int argc, char **argv)
{
    if (argc < 1) return nsf_usage();
    if (!strcmp(argv[0], "copy")) return cmd_copy(argc - 1, argv + 1);
    if (!strcmp(argv[0], "apply")) return cmd_apply(argc - 1, argv + 1);
    if (!strcmp(argv[0], "info")) return cmd_info(argc - 1, argv + 1);
    return nsf_usage();
}
