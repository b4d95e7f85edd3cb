/*
 * winbackup: the command-line face of libwinbackup.
 *
 *   winbackup read FILE [--security]            backup stream of FILE to stdout
 *   winbackup write FILE [--security] [--link-root DIR]   restore stdin onto FILE
 *   winbackup list [STREAM] [--json]            one line per stream of a backup stream
 *   winbackup attrib FILE [ATTRIBUTES]          show or set DOS attributes (hex)
 *   winbackup wine -- PROG.exe [ARGS]           run a Windows program with the real
 *                                               kernel32 backup exports under Wine
 *   winbackup nsf copy|apply|info ...           Domino NSFBackup API (nsf.c)
 *
 * Exit status: 0 success, 1 failure (one line on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "winbackup/metadata.h"
#include "winbackup/winbackup.h"

/* tools/winbackup/wine.c when it is built in */
int wb_cli_wine(int argc, char **argv) __attribute__((weak));
/* tools/winbackup/nsf.c: Domino's NSFBackup API over live files */
int wb_cli_nsf(int argc, char **argv);

static const char usage_text[] =
    "Usage: winbackup COMMAND [ARGS]\n"
    "Windows BackupRead/BackupWrite streams (WIN32_STREAM_ID) of POSIX files.\n"
    "\n"
    "  read FILE [--security]           write FILE's backup stream to standard output\n"
    "  write FILE [--security] [--link-root DIR]\n"
    "                                   restore the stream on standard input onto FILE\n"
    "                                   (FILE is replaced only on success; one with other\n"
    "                                   hard links is rewritten in place, see winbackup(1));\n"
    "                                   hard links in the stream need --link-root DIR\n"
    "  list [STREAM] [--json]           list the streams of a backup stream (default: stdin)\n"
    "  attrib FILE [HEX]                print or set FILE's DOS attributes (FILE_ATTRIBUTE_*)\n"
    "  wine -- PROG.exe [ARGS]          run a Windows program under Wine with working\n"
    "                                   kernel32 BackupRead/BackupWrite/BackupSeek\n"
    "  nsf copy SRC DST [--info FILE]   consistent copy of a live file (Domino NSFBackup API)\n"
    "  nsf apply COPY INFO              apply saved change info to a copy\n"
    "  nsf info INFO                    check saved change info\n"
    "\n"
    "  --security    include (read) or apply (write) the security descriptor\n"
    "  --help        show this help      --version   show the version\n"
    "\n"
    "See winbackup(1).\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

static int failed(const char *what, const char *arg, uint32_t status)
{
    fprintf(stderr, "winbackup: %s %s: %s (Win32 error %u)\n", what, arg, wb_error_message(status), status);
    return 1;
}

/* Standard descriptors the caller closed (bit 0: stdin, 1: stdout, 2:
 * stderr).  Each is held by /dev/null: otherwise the first file we open
 * takes its number, and a restore reads its own temporary file as the
 * stream (an empty one: the target emptied, exit 0), or a message lands in
 * a file.  read, write and list refuse to run without their own. */
static unsigned int closed_std;

static void hold_closed_std(void)
{
    int fd;

    for (fd = 0; fd < 3; fd++)
    {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        closed_std |= 1u << fd;
        if (open("/dev/null", O_RDWR | O_CLOEXEC) < 0) _exit(1);   /* takes fd: 0..fd-1 are open */
    }
}

/* read/write/list on a closed standard descriptor: ERROR_INVALID_HANDLE */
static int std_closed(const char *what, int fd)
{
    return (closed_std & (1u << fd)) && failed(what, fd ? "(standard output)" : "(standard input)",
                                               WB_ERROR_INVALID_HANDLE);
}

/* A pipe holds 16 pages by default.  The data stream goes into it by
 * splice (sendfile), a page reference per slot, so the reader is woken every
 * 64 KiB; measured here, `winbackup read F | cat` of a cached 1 GiB file
 * took 0.90 s with the default pipe and 0.21 s with 1 MiB (cat | cat: 0.91 s).
 * Growing is what the pipe's owner allows (pipe-max-size, the per-user page
 * limit); if refused the default stays, which is only slower.  A restore
 * reading a pipe gets the same. */
static void grow_pipe(int fd)
{
    static const int sizes[] = { 1 << 20, 256 << 10 };
    struct stat st;
    unsigned int i;

    if (fstat(fd, &st) || !S_ISFIFO(st.st_mode)) return;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    {
        int now = fcntl(fd, F_GETPIPE_SZ);
        if (now < 0 || now >= sizes[i]) return;
        if (fcntl(fd, F_SETPIPE_SZ, sizes[i]) >= 0) return;
    }
}

static int cmd_read(int argc, char **argv)
{
    const char *path = NULL;
    unsigned int flags = 0, skipped = 0;
    uint32_t status;
    int i;

    for (i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--security")) flags |= WB_SECURITY;
        else if (!path && argv[i][0] != '-') path = argv[i];
        else return usage();
    }
    if (!path) return usage();
    if (std_closed("read", STDOUT_FILENO)) return 1;
    if (isatty(STDOUT_FILENO))
    {
        fprintf(stderr, "winbackup: read: refusing to write a binary stream to a terminal; redirect it\n");
        return 2;
    }
    grow_pipe(STDOUT_FILENO);
    if ((status = wb_backup_path_report(path, flags, STDOUT_FILENO, &skipped))) return failed("read", path, status);
    /* the stream is complete and valid, but not all the file is in it */
    if (skipped)
        fprintf(stderr, "winbackup: read %s: %u extended attribute%s left out: a Windows file cannot hold %s "
                "(an EA name NTFS refuses or would confuse with the backend's own, or an empty value)\n",
                path, skipped, skipped == 1 ? "" : "s", skipped == 1 ? "it" : "them");
    return 0;
}

static int cmd_write(int argc, char **argv)
{
    char *root = NULL;
    const char *path = NULL, *link_root = NULL;
    unsigned int flags = 0;
    uint32_t status;
    int i;

    for (i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--security")) flags |= WB_SECURITY;
        else if (!strcmp(argv[i], "--link-root") && i + 1 < argc) link_root = argv[++i];
        else if (!path && argv[i][0] != '-') path = argv[i];
        else return usage();
    }
    if (!path) return usage();
    /* the library takes an absolute link root; a relative one is the user's
     * current directory's */
    if (std_closed("write", STDIN_FILENO)) return 1;
    if (link_root && !(root = realpath(link_root, NULL)))
        return failed("write --link-root", link_root, wb_win32_error_from_errno(errno));
    grow_pipe(STDIN_FILENO);
    status = wb_restore_path(path, flags, root, STDIN_FILENO);
    free(root);
    if (status)
    {
        failed("write", path, status);
        if (status == WB_ERROR_PRIVILEGE_NOT_HELD && !link_root)
            fprintf(stderr, "winbackup: write: the stream has hard links (BACKUP_LINK): give --link-root DIR to place them\n");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- list */

struct list_sink
{
    FILE *out;
    int json;
    unsigned int count;
};

/* A stream name as UTF-8 (the core's wb_utf16_to_utf8), with control
 * characters escaped, and quotes too for JSON.  Names are validated UTF-16
 * apart from surrogates: a name with an unpaired one has no UTF-8 form and
 * is shown as its code units. */
static void print_name(FILE *out, const uint16_t *name, uint32_t chars, int json)
{
    char *utf8;
    size_t len, i;

    if (wb_utf16_to_utf8(name, chars, &utf8, &len))
    {
        for (i = 0; i < chars; i++) fprintf(out, "\\u%04x", name[i]);
        return;
    }
    for (i = 0; i < len; i++)
    {
        unsigned char c = utf8[i];
        if (json && (c == '"' || c == '\\')) fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, json ? "\\u%04x" : "\\x%02x", c);
        else fputc(c, out);
    }
    free(utf8);
}

static uint32_t list_begin(void *ctx, const struct wb_sink_stream *stream)
{
    struct list_sink *sink = ctx;
    const char *type = wb_stream_id_name(stream->id);

    if (sink->json)
    {
        fprintf(sink->out, "%s\n  {\"id\": %u, \"type\": \"%s\", \"attributes\": %u, \"name\": \"",
                sink->count ? "," : "", stream->id, type, stream->attributes);
        if (stream->name_chars)
        {
            fputc(':', sink->out);
            print_name(sink->out, stream->name, stream->name_chars, 1);
            fputs(":$DATA", sink->out);
        }
        fprintf(sink->out, "\", \"size\": %llu", (unsigned long long)stream->size);
        if (stream->id == WB_BACKUP_SPARSE_BLOCK)
            fprintf(sink->out, ", \"offset\": %llu", (unsigned long long)stream->sparse_offset);
        fputc('}', sink->out);
    }
    else
    {
        fprintf(sink->out, "%-28s 0x%08x %12llu ", type, stream->attributes, (unsigned long long)stream->size);
        if (stream->name_chars)
        {
            fputc(':', sink->out);
            print_name(sink->out, stream->name, stream->name_chars, 0);
            fputs(":$DATA", sink->out);
        }
        if (stream->id == WB_BACKUP_SPARSE_BLOCK)
            fprintf(sink->out, "offset=%llu", (unsigned long long)stream->sparse_offset);
        fputc('\n', sink->out);
    }
    sink->count++;
    return WB_OK;
}

static uint32_t list_write(void *ctx, uint64_t offset, const void *buffer, uint32_t size)
{
    return WB_OK;
}

static uint32_t list_end(void *ctx)
{
    return WB_OK;
}

static const struct wb_sink_ops list_sink_ops = { list_begin, list_write, list_end };

static int cmd_list(int argc, char **argv)
{
    struct list_sink sink = { stdout, 0, 0 };
    const char *path = NULL;
    struct wb_decoder *decoder;
    static uint8_t buffer[1 << 16];
    uint32_t status = WB_OK;
    int i, fd = STDIN_FILENO;

    for (i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--json")) sink.json = 1;
        else if (!path && (argv[i][0] != '-' || !strcmp(argv[i], "-"))) path = argv[i];
        else return usage();
    }
    if (path && strcmp(path, "-") && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return failed("list", path, wb_win32_error_from_errno(errno));
    if (fd == STDIN_FILENO && std_closed("list", STDIN_FILENO)) return 1;
    /* SECURITY_DATA is listed too: the decoder passes it on only when asked */
    if (!(decoder = wb_decoder_new(&list_sink_ops, &sink, WB_DECODE_SECURITY)))
        return failed("list", path ? path : "-", WB_ERROR_NOT_ENOUGH_MEMORY);
    if (sink.json) fputs("[", stdout);
    for (;;)
    {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { status = wb_win32_error_from_errno(errno); break; }
        if (!got) break;
        if ((status = wb_decoder_write(decoder, buffer, (size_t)got))) break;
    }
    if (!status && !wb_decoder_at_boundary(decoder)) status = WB_ERROR_HANDLE_EOF;
    if (sink.json) fputs(sink.count ? "\n]\n" : "]\n", stdout);
    wb_decoder_free(decoder);
    if (fd != STDIN_FILENO) close(fd);
    if (status) return failed("list", path ? path : "-", status);
    return 0;
}

/* ---------------------------------------------------------------- attrib */

static int cmd_attrib(int argc, char **argv)
{
    uint32_t status, attributes;
    char *end;
    int fd;

    if (argc < 1 || argc > 2 || argv[0][0] == '-') return usage();
    if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
        return failed("attrib", argv[0], wb_win32_error_from_errno(errno));
    if (argc == 2)
    {
        errno = 0;
        attributes = (uint32_t)strtoul(argv[1], &end, 16);
        if (errno || *end || end == argv[1]) { close(fd); return usage(); }
        status = wb_posix_set_attributes(fd, attributes);
    }
    else if (!(status = wb_posix_get_attributes(fd, &attributes))) printf("0x%x\n", attributes);
    close(fd);
    if (status) return failed("attrib", argv[0], status);
    return 0;
}

int main(int argc, char **argv)
{
    hold_closed_std();
    if (argc < 2) return usage();
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
    {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
    {
        printf("winbackup %s\n", WB_VERSION_STRING);
        return 0;
    }
    if (!strcmp(argv[1], "read")) return cmd_read(argc - 2, argv + 2);
    if (!strcmp(argv[1], "write")) return cmd_write(argc - 2, argv + 2);
    if (!strcmp(argv[1], "list")) return cmd_list(argc - 2, argv + 2);
    if (!strcmp(argv[1], "attrib")) return cmd_attrib(argc - 2, argv + 2);
    if (!strcmp(argv[1], "nsf")) return wb_cli_nsf(argc - 2, argv + 2);
    if (!strcmp(argv[1], "wine"))
    {
        if (!wb_cli_wine)
        {
            fprintf(stderr, "winbackup: wine: this build has no Wine support (mingw-w64 was not found)\n");
            return 1;
        }
        return wb_cli_wine(argc - 2, argv + 2);
    }
    fprintf(stderr, "winbackup: unknown command '%s'\n", argv[1]);
    return usage();
}
