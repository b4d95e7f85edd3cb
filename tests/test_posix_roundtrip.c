/*
 * POSIX backend end to end on real files: back a file up with wb_encoder
 * over wb_posix_source, restore the bytes with wb_decoder into
 * wb_posix_sink on a second file, and compare contents and xattrs.  Runs in
 * $TMPDIR, else /var/tmp (a real disk: /tmp may be a tmpfs without user
 * xattrs); skips when the directory has no user xattrs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "testutil.h"
#include "winbackup/posix.h"
#include "winbackup/metadata.h"

struct blob { uint8_t *data; size_t size; };

static char *temp_dir(void)
{
    char *dir = testutil_mkdtemp(), probe[4200];
    int fd;

    snprintf(probe, sizeof(probe), "%s/probe", dir);
    fd = open(probe, O_CREAT | O_RDWR, 0644);
    assert_true(fd >= 0);
    if (fsetxattr(fd, "user.probe", "1", 1, 0))
    {
        close(fd);
        print_message("no user xattrs in %s (errno %d); set TMPDIR to a disk file system\n", dir, errno);
        testutil_rmtree(dir);
        skip();
    }
    close(fd);
    unlink(probe);
    return dir;
}

static int open_in(const char *dir, const char *name, int flags)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return open(path, flags | O_CLOEXEC, 0644);
}

static struct blob backup(int fd, unsigned int flags)
{
    struct wb_posix_source *source;
    struct wb_encoder *encoder;
    struct blob out = { NULL, 0 };
    uint8_t chunk[777];         /* deliberately not a power of two */
    uint32_t done;

    assert_int_equal(wb_posix_source_open(fd, flags, &source), WB_OK);
    assert_non_null(encoder = wb_encoder_new(&wb_posix_source_ops, source));
    for (;;)
    {
        assert_int_equal(wb_encoder_read(encoder, chunk, sizeof(chunk), &done), WB_OK);
        if (!done) break;
        assert_non_null(out.data = realloc(out.data, out.size + done));
        memcpy(out.data + out.size, chunk, done);
        out.size += done;
    }
    wb_encoder_free(encoder);
    wb_posix_source_close(source);
    return out;
}

/* Feed bytes to a sink over fd in 1000-byte pieces; the first error, or
 * what finish() says. */
static uint32_t restore(const uint8_t *data, size_t size, int fd, unsigned int flags,
                        const struct wb_posix_sink_options *options)
{
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
    uint32_t ret = WB_OK;
    size_t pos;

    assert_int_equal(wb_posix_sink_open(fd, flags, options, &sink), WB_OK);
    assert_non_null(decoder = wb_decoder_new(&wb_posix_sink_ops, sink, (flags & WB_POSIX_SECURITY) ? WB_DECODE_SECURITY : 0));
    for (pos = 0; pos < size && !ret; pos += 1000)
        ret = wb_decoder_write(decoder, data + pos, size - pos < 1000 ? size - pos : 1000);
    if (!ret) ret = wb_posix_sink_finish(sink);
    wb_decoder_free(decoder);
    wb_posix_sink_close(sink);
    return ret;
}

/* stream ids in order, from the encoded bytes (also checks the framing) */
static size_t stream_ids(const struct blob *b, uint32_t *ids, uint32_t *attrs, uint64_t *sizes, size_t max)
{
    size_t pos = 0, n = 0;
    while (pos < b->size)
    {
        struct wb_stream_header header;
        assert_true(b->size - pos >= WB_STREAM_HEADER_SIZE);
        wb_stream_header_unpack(b->data + pos, &header);
        assert_true(n < max);
        ids[n] = header.id;
        attrs[n] = header.attributes;
        sizes[n++] = header.size;
        pos += WB_STREAM_HEADER_SIZE + header.name_size + header.size;
    }
    assert_int_equal(pos, b->size);
    return n;
}

static void assert_xattr(int fd, const char *name, const void *value, size_t size)
{
    char buf[70000];
    ssize_t got = fgetxattr(fd, name, buf, sizeof(buf));
    if (got < 0) print_message("xattr %s: errno %d\n", name, errno);
    assert_int_equal(got, size);
    assert_memory_equal(buf, value, size);
}

static void assert_same_contents(int a, int b)
{
    struct stat sa, sb;
    static char ba[65536], bb[65536];
    off_t pos;

    assert_int_equal(fstat(a, &sa), 0);
    assert_int_equal(fstat(b, &sb), 0);
    assert_int_equal(sa.st_size, sb.st_size);
    for (pos = 0; pos < sa.st_size; pos += sizeof(ba))
    {
        ssize_t ra = pread(a, ba, sizeof(ba), pos), rb = pread(b, bb, sizeof(bb), pos);
        assert_int_equal(ra, rb);
        assert_memory_equal(ba, bb, ra);
    }
}

static void test_file_with_metadata(void **state)
{
    char *dir = temp_dir();
    static uint8_t data[100000];
    uint8_t object_id[64], *sd, stored[200];
    size_t sd_size, i;
    uint32_t ids[16], attrs[16], attributes;
    uint64_t sizes[16];
    struct blob b;
    struct stat st;
    int src, dst;

    for (i = 0; i < sizeof(data); i++) data[i] = (uint8_t)(i * 7 + (i >> 9));
    for (i = 0; i < sizeof(object_id); i++) object_id[i] = 0xa0 + i;
    assert_true((src = open_in(dir, "src", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(src, data, sizeof(data)), sizeof(data));
    assert_int_equal(fsetxattr(src, "user.DosStream.one:$DATA", "first\0", 6, 0), 0);
    assert_int_equal(fsetxattr(src, "user.DosStream.two:$DATA", "second stream\0", 14, 0), 0);
    assert_int_equal(fsetxattr(src, "user.comment", "hello", 5, 0), 0);
    assert_int_equal(fsetxattr(src, "user.mime_type", "text/plain", 10, 0), 0);
    assert_int_equal(fsetxattr(src, "user.winbackup.objectid", object_id, 64, 0), 0);
    /* a stored descriptor that maps to 1234:5678 0444 */
    assert_int_equal(wb_sd_from_posix(1234, 5678, 0444, 0, NULL, 0, &sd, &sd_size), WB_OK);
    stored[0] = 1; stored[1] = 0;
    memcpy(stored + 2, sd, sd_size);
    assert_int_equal(fsetxattr(src, "user.wine.sd", stored, sd_size + 2, 0), 0);
    assert_int_equal(wb_posix_set_attributes(src, 0x2 | 0x20), WB_OK);   /* HIDDEN | ARCHIVE */
    /* a non-symlink reparse point (IO_REPARSE_TAG_DEDUP, 4 bytes of data) */
    assert_int_equal(fsetxattr(src, "user.WINEREPARSE", "\x13\x00\x00\x80\x04\x00\x00\x00wxyz", 12, 0), 0);

    /* order: security, reparse (before DATA: go-winio's backuptar, written
     * against Windows' output, takes it only there), data, EAs in stored
     * order, named streams by name, object id */
    b = backup(src, WB_POSIX_SECURITY);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 16), 7);
    assert_int_equal(ids[0], WB_BACKUP_SECURITY_DATA);
    assert_int_equal(sizes[0], sd_size);
    assert_int_equal(ids[1], WB_BACKUP_REPARSE_DATA);
    assert_int_equal(sizes[1], 12);
    assert_int_equal(ids[2], WB_BACKUP_DATA);
    assert_int_equal(attrs[2], 0);
    assert_int_equal(sizes[2], sizeof(data));
    assert_int_equal(ids[3], WB_BACKUP_EA_DATA);
    /* [MS-FSCC] 2.4.15: the last entry (mime_type=text/plain, 8+10+10) unpadded */
    assert_int_equal(sizes[3], wb_ea_entry_size(7, 5) + 8 + 10 + 10);
    assert_int_equal(ids[4], WB_BACKUP_ALTERNATE_DATA);
    assert_int_equal(sizes[4], 5);          /* Samba's NUL is not part of the stream */
    assert_int_equal(ids[5], WB_BACKUP_ALTERNATE_DATA);
    assert_int_equal(sizes[5], 13);
    assert_int_equal(ids[6], WB_BACKUP_OBJECT_ID);
    assert_int_equal(sizes[6], 64);

    assert_true((dst = open_in(dir, "dst", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(dst, "old contents that are longer", 28), 28);
    assert_int_equal(restore(b.data, b.size, dst, WB_POSIX_SECURITY, NULL), WB_OK);
    assert_same_contents(src, dst);
    assert_xattr(dst, "user.DosStream.one:$DATA", "first\0", 6);
    assert_xattr(dst, "user.DosStream.two:$DATA", "second stream\0", 14);
    assert_xattr(dst, "user.comment", "hello", 5);
    assert_xattr(dst, "user.mime_type", "text/plain", 10);
    assert_xattr(dst, "user.winbackup.objectid", object_id, 64);
    /* the descriptor maps exactly, so owner and mode were applied (last)
     * instead of storing it; only a restorer that may not chown keeps it */
    if (!geteuid()) assert_int_equal(fgetxattr(dst, "user.wine.sd", NULL, 0), -1);
    else assert_xattr(dst, "user.wine.sd", stored, sd_size + 2);
    assert_int_equal(fstat(dst, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
    if (!geteuid())
    {
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 5678);
    }
    /* DOS attributes travel outside the stream, as on Windows: the restored
     * file has the defaults, ARCHIVE, plus READONLY from the mode and
     * REPARSE_POINT from the restored reparse data */
    assert_int_equal(fgetxattr(dst, "user.DOSATTRIB", NULL, 0), -1);
    assert_xattr(dst, "user.WINEREPARSE", "\x13\x00\x00\x80\x04\x00\x00\x00wxyz", 12);
    assert_int_equal(wb_posix_get_attributes(dst, &attributes), WB_OK);
    assert_int_equal(attributes, 0x421);
    assert_int_equal(wb_posix_get_attributes(src, &attributes), WB_OK);
    assert_int_equal(attributes, 0x422);
    /* copying them clears READONLY: the owner gets its write bit back
     * (REPARSE_POINT is not an attribute one sets) */
    assert_int_equal(wb_posix_set_attributes(dst, attributes & ~0x400u), WB_OK);
    assert_xattr(dst, "user.DOSATTRIB", "0x22", 4);
    assert_int_equal(fstat(dst, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(wb_posix_get_attributes(dst, &attributes), WB_OK);
    assert_int_equal(attributes, 0x422);
    /* back to the default: the xattr goes away */
    assert_int_equal(wb_posix_set_attributes(dst, 0x20), WB_OK);
    assert_int_equal(fgetxattr(dst, "user.DOSATTRIB", NULL, 0), -1);
    assert_int_equal(wb_posix_set_attributes(dst, 0x40000), WB_ERROR_INVALID_PARAMETER);

    /* without security processing the SD stream is consumed and dropped */
    close(dst);
    assert_true((dst = open_in(dir, "dst2", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(restore(b.data, b.size, dst, 0, NULL), WB_OK);
    assert_int_equal(fgetxattr(dst, "user.wine.sd", NULL, 0), -1);
    assert_same_contents(src, dst);

    free(b.data);
    free(sd);
    close(src);
    close(dst);
    testutil_rmtree(dir);
}

/* Which restored descriptors are stored: one that maps exactly onto
 * owner/group/mode is applied as those (and a stale stored one removed);
 * one with more in it (here a named-user ACE from a POSIX ACL) is kept in
 * user.wine.sd, byte for byte. */
static void test_security_storage_rule(void **state)
{
    struct wb_posix_acl_entry acl[] =
    {
        { WB_ACL_USER_OBJ, 0, 6 }, { WB_ACL_USER, 4242, 4 }, { WB_ACL_GROUP_OBJ, 0, 4 },
        { WB_ACL_MASK, 0, 4 }, { WB_ACL_OTHER, 0, 0 },
    };
    char *dir = temp_dir();
    uint8_t *sd, *stream, *stored;
    size_t sd_size;
    struct wb_stream_header header = { WB_BACKUP_SECURITY_DATA, WB_STREAM_CONTAINS_SECURITY, 0, 0 };
    uint32_t uid, gid, mode;
    struct stat st;
    int fd;

    assert_true((fd = open_in(dir, "f", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(wb_sd_from_posix(st.st_uid, st.st_gid, 0640, 0, acl, 5, &sd, &sd_size), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd, sd_size, 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    header.size = sd_size;
    stream = malloc(WB_STREAM_HEADER_SIZE + sd_size);
    wb_stream_header_pack(&header, stream);
    memcpy(stream + WB_STREAM_HEADER_SIZE, sd, sd_size);
    assert_int_equal(restore(stream, WB_STREAM_HEADER_SIZE + sd_size, fd, WB_POSIX_SECURITY, NULL), WB_OK);
    stored = malloc(sd_size + 2);
    stored[0] = 1; stored[1] = 0;
    memcpy(stored + 2, sd, sd_size);
    assert_xattr(fd, "user.wine.sd", stored, sd_size + 2);
    free(sd);
    free(stream);

    /* now an exactly mapping descriptor: applied, and the stale one removed */
    assert_int_equal(wb_sd_from_posix(st.st_uid, st.st_gid, 0604, 0, NULL, 0, &sd, &sd_size), WB_OK);
    header.size = sd_size;
    stream = malloc(WB_STREAM_HEADER_SIZE + sd_size);
    wb_stream_header_pack(&header, stream);
    memcpy(stream + WB_STREAM_HEADER_SIZE, sd, sd_size);
    assert_int_equal(restore(stream, WB_STREAM_HEADER_SIZE + sd_size, fd, WB_POSIX_SECURITY, NULL), WB_OK);
    assert_int_equal(fgetxattr(fd, "user.wine.sd", NULL, 0), -1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    free(sd);
    free(stream);
    free(stored);
    close(fd);
    testutil_rmtree(dir);
}

static void test_synthesized_security_and_empty_file(void **state)
{
    char *dir = temp_dir();
    uint32_t ids[4], attrs[4], uid, gid, mode;
    uint64_t sizes[4];
    struct blob b;
    struct stat st;
    int fd;
    size_t name_len;

    assert_true((fd = open_in(dir, "empty", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(fchmod(fd, 0751), 0);
    /* an empty file with nothing attached: no stream at all */
    b = backup(fd, 0);
    assert_int_equal(b.size, 0);
    free(b.data);

    b = backup(fd, WB_POSIX_SECURITY);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 4), 1);
    assert_int_equal(ids[0], WB_BACKUP_SECURITY_DATA);
    name_len = 0;
    assert_int_equal(wb_sd_to_posix(b.data + WB_STREAM_HEADER_SIZE + name_len, sizes[0], 0, &uid, &gid, &mode), WB_OK);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(uid, st.st_uid);
    assert_int_equal(gid, st.st_gid);
    assert_int_equal(mode, 0751);
    free(b.data);
    close(fd);
    testutil_rmtree(dir);
}

static void test_sparse(void **state)
{
    char *dir = temp_dir();
    static uint8_t chunk[65536], junk[1 << 20];
    const off_t size = 8 << 20;
    uint32_t ids[8], attrs[8];
    uint64_t sizes[8];
    struct blob b;
    struct stat st;
    int src, dst;
    size_t i;

    for (i = 0; i < sizeof(chunk); i++) chunk[i] = i % 251 + 1;
    memset(junk, 0x5a, sizeof(junk));
    assert_true((src = open_in(dir, "sparse", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(pwrite(src, chunk, sizeof(chunk), 0), sizeof(chunk));
    assert_int_equal(pwrite(src, chunk, sizeof(chunk), 4 << 20), sizeof(chunk));
    assert_int_equal(ftruncate(src, size), 0);
    assert_int_equal(fsync(src), 0);
    if (lseek(src, 0, SEEK_HOLE) != sizeof(chunk))
    {
        print_message("file system reports no hole at 64 KiB; cannot test sparse files here\n");
        close(src);
        testutil_rmtree(dir);
        skip();
    }

    b = backup(src, 0);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 8), 4);
    assert_int_equal(ids[0], WB_BACKUP_DATA);
    assert_int_equal(attrs[0], WB_STREAM_SPARSE_ATTRIBUTE);
    assert_int_equal(sizes[0], 0);
    assert_int_equal(ids[1], WB_BACKUP_SPARSE_BLOCK);
    assert_int_equal(sizes[1], 8 + sizeof(chunk));
    assert_int_equal(ids[2], WB_BACKUP_SPARSE_BLOCK);
    assert_int_equal(sizes[2], 8 + sizeof(chunk));
    assert_int_equal(ids[3], WB_BACKUP_SPARSE_BLOCK);
    assert_int_equal(sizes[3], 8);      /* final block: offset = size, no bytes */

    /* restore over a non-sparse file full of junk: the holes must come back */
    assert_true((dst = open_in(dir, "restored", O_CREAT | O_RDWR)) >= 0);
    for (i = 0; i < 10; i++) assert_int_equal(write(dst, junk, sizeof(junk)), sizeof(junk));
    assert_int_equal(restore(b.data, b.size, dst, 0, NULL), WB_OK);
    assert_same_contents(src, dst);
    assert_int_equal(fstat(dst, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_int_equal(lseek(dst, 0, SEEK_HOLE), sizeof(chunk));
    assert_int_equal(lseek(dst, sizeof(chunk), SEEK_DATA), 4 << 20);
    /* 128 KiB of data, not 8 MiB: allow metadata blocks and preallocation slack */
    assert_true(st.st_blocks * 512 <= 1 << 20);

    /* the same stream with one sink per stream, all on one fd (archivers
     * that call BackupWrite with a context per stream): every block lands */
    close(dst);
    assert_true((dst = open_in(dir, "per-stream", O_CREAT | O_RDWR)) >= 0);
    {
        size_t pos = 0;
        while (pos < b.size)
        {
            struct wb_stream_header header;
            size_t length;
            wb_stream_header_unpack(b.data + pos, &header);
            length = WB_STREAM_HEADER_SIZE + header.name_size + header.size;
            assert_int_equal(restore(b.data + pos, length, dst, 0, NULL), WB_OK);
            pos += length;
        }
    }
    assert_same_contents(src, dst);
    assert_int_equal(lseek(dst, 0, SEEK_HOLE), sizeof(chunk));
    assert_int_equal(lseek(dst, sizeof(chunk), SEEK_DATA), 4 << 20);

    /* a file that is all hole: a sparse DATA header and the final block
     * that gives the length, no bytes at all (not 1 MiB of zeros) */
    close(dst);
    assert_true((dst = open_in(dir, "all-hole", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(ftruncate(dst, 1 << 20), 0);
    free(b.data);
    b = backup(dst, 0);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 8), 2);
    assert_int_equal(ids[0], WB_BACKUP_DATA);
    assert_int_equal(attrs[0], WB_STREAM_SPARSE_ATTRIBUTE);
    assert_int_equal(sizes[0], 0);
    assert_int_equal(ids[1], WB_BACKUP_SPARSE_BLOCK);
    assert_int_equal(sizes[1], 8);
    assert_int_equal(b.size, 2 * WB_STREAM_HEADER_SIZE + 8);
    {
        uint64_t length;
        memcpy(&length, b.data + 2 * WB_STREAM_HEADER_SIZE, 8);
        assert_int_equal(length, 1 << 20);
    }
    close(dst);
    assert_true((dst = open_in(dir, "all-hole-restored", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(restore(b.data, b.size, dst, 0, NULL), WB_OK);
    assert_int_equal(fstat(dst, &st), 0);
    assert_int_equal(st.st_size, 1 << 20);
    assert_true(st.st_blocks * 512 <= 64 << 10);

    /* a file whose only range covers it all is plain DATA */
    free(b.data);
    close(dst);
    assert_true((dst = open_in(dir, "dense", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(dst, chunk, sizeof(chunk)), sizeof(chunk));
    b = backup(dst, 0);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 8), 1);
    assert_int_equal(attrs[0], 0);
    assert_int_equal(sizes[0], sizeof(chunk));
    free(b.data);
    close(dst);
    close(src);
    testutil_rmtree(dir);
}

static void test_symlink(void **state)
{
    char *dir = temp_dir(), path[4200], target[4200];
    static const char *const targets[] = { "../some dir/x", "/etc/passwd" };
    struct wb_posix_sink_options options = { .path = NULL };
    uint32_t ids[4], attrs[4], attributes;
    uint64_t sizes[4];
    struct stat st;
    struct blob b;
    unsigned int i;
    int fd, dst;
    ssize_t len;

    for (i = 0; i < 2; i++)
    {
        snprintf(path, sizeof(path), "%s/link%u", dir, i);
        assert_int_equal(symlink(targets[i], path), 0);
        assert_true((fd = open(path, O_PATH | O_NOFOLLOW)) >= 0);
        assert_int_equal(wb_posix_get_attributes(fd, &attributes), WB_OK);
        assert_int_equal(attributes, 0x400);
        b = backup(fd, 0);
        close(fd);
        assert_int_equal(stream_ids(&b, ids, attrs, sizes, 4), 1);
        assert_int_equal(ids[0], WB_BACKUP_REPARSE_DATA);

        /* with the path: the empty file becomes the symlink */
        snprintf(path, sizeof(path), "%s/restored%u", dir, i);
        assert_true((dst = open(path, O_CREAT | O_RDWR, 0644)) >= 0);
        options.path = path;
        assert_int_equal(restore(b.data, b.size, dst, 0, &options), WB_OK);
        close(dst);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_true((len = readlink(path, target, sizeof(target) - 1)) > 0);
        target[len] = 0;
        assert_string_equal(target, targets[i]);

        /* without it: the reparse buffer is kept in user.WINEREPARSE */
        snprintf(path, sizeof(path), "%s/kept%u", dir, i);
        assert_true((dst = open(path, O_CREAT | O_RDWR, 0644)) >= 0);
        assert_int_equal(restore(b.data, b.size, dst, 0, NULL), WB_OK);
        assert_xattr(dst, "user.WINEREPARSE", b.data + WB_STREAM_HEADER_SIZE, sizes[0]);
        assert_int_equal(wb_posix_get_attributes(dst, &attributes), WB_OK);
        assert_int_equal(attributes, 0x420);
        close(dst);
        free(b.data);
    }
    testutil_rmtree(dir);
}

/* one raw stream: header + name + payload */
static struct blob make_stream(uint32_t id, const char *name, const void *payload, size_t size)
{
    struct wb_stream_header header = { id, 0, size, 0 };
    size_t name_len = name ? strlen(name) : 0, i;
    struct blob b;

    header.name_size = name_len * 2;
    b.size = WB_STREAM_HEADER_SIZE + name_len * 2 + size;
    assert_non_null(b.data = malloc(b.size));
    wb_stream_header_pack(&header, b.data);
    for (i = 0; i < name_len; i++)
    {
        b.data[WB_STREAM_HEADER_SIZE + 2 * i] = name[i];
        b.data[WB_STREAM_HEADER_SIZE + 2 * i + 1] = 0;
    }
    if (size) memcpy(b.data + WB_STREAM_HEADER_SIZE + name_len * 2, payload, size);
    return b;
}

static uint32_t restore_link(int fd, const char *win_path, size_t extra_nul_at, const char *root)
{
    struct wb_posix_sink_options options = { .link_root = root };
    uint8_t payload[1024];
    size_t len = strlen(win_path), i;
    struct blob b;
    uint32_t ret;

    for (i = 0; i <= len; i++)
    {
        payload[2 * i] = i < len ? win_path[i] : 0;
        payload[2 * i + 1] = 0;
    }
    if (extra_nul_at) payload[2 * extra_nul_at] = 0;
    b = make_stream(WB_BACKUP_LINK, NULL, payload, (len + 1) * 2);
    ret = restore(b.data, b.size, fd, 0, &options);
    free(b.data);
    return ret;
}

static void test_hard_link(void **state)
{
    char *dir = temp_dir(), path[4200], outside[4200];
    struct stat st_file, st_link;
    int fd, sub;

    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_true((fd = open_in(dir, "file", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(fstat(fd, &st_file), 0);

    assert_int_equal(restore_link(fd, "Z:\\sub\\linked", 0, dir), WB_OK);
    snprintf(path, sizeof(path), "%s/sub/linked", dir);
    assert_int_equal(stat(path, &st_link), 0);
    assert_int_equal(st_link.st_ino, st_file.st_ino);
    assert_int_equal(st_link.st_nlink, 2);
    /* \??\ form, any drive letter below link_root */
    assert_int_equal(restore_link(fd, "\\??\\C:\\sub\\second", 0, dir), WB_OK);
    snprintf(path, sizeof(path), "%s/sub/second", dir);
    assert_int_equal(stat(path, &st_link), 0);
    assert_int_equal(st_link.st_ino, st_file.st_ino);

    /* an existing name is replaced ("will be overwritten", KB CreateHardLink
     * sample), in one rename: the other file's name now leads here */
    assert_int_equal(restore_link(fd, "Z:\\sub\\linked", 0, dir), WB_OK);
    snprintf(path, sizeof(path), "%s/sub/other", dir);
    assert_true((sub = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) >= 0);
    close(sub);
    assert_int_equal(restore_link(fd, "Z:\\sub\\other", 0, dir), WB_OK);
    assert_int_equal(stat(path, &st_link), 0);
    assert_int_equal(st_link.st_ino, st_file.st_ino);
    assert_int_equal(st_link.st_nlink, 4);
    /* ... but never a directory */
    snprintf(path, sizeof(path), "%s/sub/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(restore_link(fd, "Z:\\sub\\adir", 0, dir), WB_ERROR_ACCESS_DENIED);
    assert_int_equal(stat(path, &st_link), 0);
    assert_true(S_ISDIR(st_link.st_mode));
    assert_int_equal(restore_link(fd, "Z:\\sub\\..\\..\\escape", 0, dir), WB_ERROR_INVALID_NAME);
    assert_int_equal(restore_link(fd, "Z:\\sub\\a\\b", 0, dir), WB_ERROR_PATH_NOT_FOUND);
    assert_int_equal(restore_link(fd, "Z:\\sub\\nul_here", 8, dir), WB_ERROR_INVALID_NAME);
    assert_int_equal(restore_link(fd, "sub\\relative", 0, dir), WB_ERROR_PATH_NOT_FOUND);
    assert_int_equal(restore_link(fd, "\\\\server\\share\\x", 0, dir), WB_ERROR_PATH_NOT_FOUND);
    /* without link_root only Z: means something */
    assert_int_equal(restore_link(fd, "C:\\tmp\\x", 0, NULL), WB_ERROR_PATH_NOT_FOUND);
    /* Wine's mapping: Z:\<dir>\sub\wine */
    snprintf(path, sizeof(path), "Z:%s/sub/wine", dir);
    assert_int_equal(restore_link(fd, path, 0, NULL), WB_OK);
    snprintf(path, sizeof(path), "%s/sub/wine", dir);
    assert_int_equal(stat(path, &st_link), 0);
    assert_int_equal(st_link.st_ino, st_file.st_ino);

    /* a symlinked directory inside link_root cannot lead outside it */
    snprintf(outside, sizeof(outside), "%s/sub", dir);
    snprintf(path, sizeof(path), "%s/jump", dir);
    assert_int_equal(symlink("/", path), 0);
    assert_int_equal(restore_link(fd, "Z:\\jump\\tmp\\escaped", 0, outside), WB_ERROR_PATH_NOT_FOUND);
    snprintf(path, sizeof(path), "%s/sub/jump", dir);
    assert_int_equal(symlink("/tmp", path), 0);
    {
        /* a name of this run only: a broken build that let it escape must
         * not leave a file that fails the next run */
        char win_path[64], escaped[64];
        snprintf(win_path, sizeof(win_path), "Z:\\jump\\wbescaped.%d", (int)getpid());
        snprintf(escaped, sizeof(escaped), "/tmp/wbescaped.%d", (int)getpid());
        assert_int_equal(restore_link(fd, win_path, 0, outside), WB_ERROR_PATH_NOT_FOUND);
        assert_int_equal(access(escaped, F_OK), -1);
    }

    /* hard links to directories do not exist */
    assert_true((sub = open_in(dir, "sub", O_RDONLY | O_DIRECTORY)) >= 0);
    assert_int_equal(restore_link(sub, "Z:\\dirlink", 0, dir), WB_ERROR_ACCESS_DENIED);
    close(sub);
    close(fd);
    testutil_rmtree(dir);
}

static void test_directory(void **state)
{
    char *dir = temp_dir(), path[4200];
    uint32_t ids[8], attrs[8], attributes;
    uint64_t sizes[8];
    struct blob b, data;
    int src, dst;

    snprintf(path, sizeof(path), "%s/d1", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d2", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_true((src = open_in(dir, "d1", O_RDONLY | O_DIRECTORY)) >= 0);
    assert_true((dst = open_in(dir, "d2", O_RDONLY | O_DIRECTORY)) >= 0);
    assert_int_equal(fsetxattr(src, "user.note", "dir ea", 6, 0), 0);
    assert_int_equal(fsetxattr(src, "user.DosStream.zone:$DATA", "[ZoneTransfer]\0", 15, 0), 0);
    b = backup(src, WB_POSIX_SECURITY);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 8), 3);
    assert_int_equal(ids[0], WB_BACKUP_SECURITY_DATA);
    assert_int_equal(ids[1], WB_BACKUP_EA_DATA);
    assert_int_equal(ids[2], WB_BACKUP_ALTERNATE_DATA);
    assert_int_equal(restore(b.data, b.size, dst, WB_POSIX_SECURITY, NULL), WB_OK);
    assert_xattr(dst, "user.note", "dir ea", 6);
    assert_xattr(dst, "user.DosStream.zone:$DATA", "[ZoneTransfer]\0", 15);
    assert_int_equal(wb_posix_get_attributes(dst, &attributes), WB_OK);
    assert_int_equal(attributes, 0x10);
    free(b.data);

    data = make_stream(WB_BACKUP_DATA, NULL, "abc", 3);
    assert_int_equal(restore(data.data, data.size, dst, 0, NULL), WB_ERROR_ACCESS_DENIED);
    free(data.data);
    close(src);
    close(dst);
    testutil_rmtree(dir);
}

static void test_sink_refuses(void **state)
{
    char *dir = temp_dir();
    static uint8_t big[70000];
    struct wb_ea ea = { 0, 9, 1, "DOSATTRIB", (const uint8_t *)"1" };
    struct wb_posix_sink *sink;
    struct wb_sink_stream stream;
    uint16_t name[] = {'s'};
    uint8_t *chain;
    size_t chain_size;
    struct blob b;
    int fd;

    assert_true((fd = open_in(dir, "f", O_CREAT | O_RDWR)) >= 0);
    /* EAs colliding with the backend's own xattrs, in any case */
    assert_int_equal(wb_ea_encode(&ea, 1, &chain, &chain_size), WB_OK);
    b = make_stream(WB_BACKUP_EA_DATA, NULL, chain, chain_size);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_ERROR_INVALID_EA_NAME);
    free(b.data);
    free(chain);
    ea.name = "dosstream.x:$DATA";
    ea.name_len = 10;   /* "dosstream." */
    ea.name = "dosstream.";
    assert_int_equal(wb_ea_encode(&ea, 1, &chain, &chain_size), WB_OK);
    b = make_stream(WB_BACKUP_EA_DATA, NULL, chain, chain_size);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_ERROR_INVALID_EA_NAME);
    free(b.data);
    free(chain);
    assert_int_equal(flistxattr(fd, NULL, 0), 0);

    /* zero-length EA value deletes, like NtSetEaFile */
    assert_int_equal(fsetxattr(fd, "user.gone", "v", 1, 0), 0);
    ea.name = "gone"; ea.name_len = 4; ea.value_len = 0;
    assert_int_equal(wb_ea_encode(&ea, 1, &chain, &chain_size), WB_OK);
    b = make_stream(WB_BACKUP_EA_DATA, NULL, chain, chain_size);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_OK);
    assert_int_equal(fgetxattr(fd, "user.gone", NULL, 0), -1);
    free(b.data);
    free(chain);

    /* malformed metadata */
    b = make_stream(WB_BACKUP_SECURITY_DATA, NULL, "\x01\x00\x04\x80", 4);
    assert_int_equal(restore(b.data, b.size, fd, WB_POSIX_SECURITY, NULL), WB_ERROR_INVALID_SECURITY_DESCR);
    free(b.data);
    b = make_stream(WB_BACKUP_REPARSE_DATA, NULL, "\x0c\x00\x00\xa0\x10\x00\x00\x00", 8);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_ERROR_INVALID_REPARSE_DATA);
    free(b.data);
    b = make_stream(WB_BACKUP_OBJECT_ID, NULL, big, 16);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_ERROR_INVALID_DATA);
    free(b.data);
    b = make_stream(WB_BACKUP_EA_DATA, NULL, "\x04\x00\x00\x00\x00\x01\x00\x00", 8);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_ERROR_EA_LIST_INCONSISTENT);
    free(b.data);

    /* a named stream larger than an xattr can hold: refused at its header */
    assert_int_equal(wb_posix_sink_open(fd, 0, NULL, &sink), WB_OK);
    memset(&stream, 0, sizeof(stream));
    stream.id = WB_BACKUP_ALTERNATE_DATA;
    stream.size = stream.data_size = 65536;
    stream.name = name;
    stream.name_chars = 1;
    assert_int_equal(wb_posix_sink_ops.begin(sink, &stream), WB_ERROR_DISK_FULL);
    assert_int_equal(wb_posix_sink_finish(sink), WB_ERROR_DISK_FULL);
    wb_posix_sink_close(sink);

    /* property / TXFS / ghosted data are consumed and ignored */
    b = make_stream(WB_BACKUP_PROPERTY_DATA, NULL, "props", 5);
    assert_int_equal(restore(b.data, b.size, fd, 0, NULL), WB_OK);
    free(b.data);

    /* bad arguments */
    assert_int_equal(wb_posix_sink_open(-1, 0, NULL, &sink), WB_ERROR_INVALID_HANDLE);
    assert_int_equal(wb_posix_sink_open(fd, 0x80, NULL, &sink), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_posix_source_open(-1, 0, NULL), WB_ERROR_INVALID_PARAMETER);
    assert_int_equal(wb_win32_error_from_errno(ENOENT), WB_ERROR_FILE_NOT_FOUND);
    assert_int_equal(wb_win32_error_from_errno(EEXIST), WB_ERROR_ALREADY_EXISTS);
    assert_int_equal(wb_win32_error_from_errno(ENOSPC), WB_ERROR_DISK_FULL);
    close(fd);
    testutil_rmtree(dir);
}

/* xattrs a Windows file cannot hold are left out of the backup and counted,
 * so that every backup restores: the backend's own names in another case
 * (NTFS compares EA names without case: user.dosattrib would become
 * DOSATTRIB), EA names NTFS refuses, empty values. */
static void test_names_windows_cannot_hold(void **state)
{
    static const char *const left_out[] =
        { "user.dosattrib", "user.Wine.SD", "user.WINBACKUP.x", "user.dosstream.x", "user.WineReparse",
          "user.a:b", "user.empty" };
    char *dir = temp_dir();
    struct wb_posix_source *source;
    struct blob b;
    uint32_t ids[8], attrs[8];
    uint64_t sizes[8];
    size_t i;
    int src, dst;

    assert_true((src = open_in(dir, "src", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(src, "x", 1), 1);
    for (i = 0; i < sizeof(left_out) / sizeof(left_out[0]); i++)
        assert_int_equal(fsetxattr(src, left_out[i], "v", strcmp(left_out[i], "user.empty") ? 1 : 0, 0), 0);
    assert_int_equal(fsetxattr(src, "user.good", "kept", 4, 0), 0);

    assert_int_equal(wb_posix_source_open(src, 0, &source), WB_OK);
    assert_int_equal(wb_posix_source_skipped(source), sizeof(left_out) / sizeof(left_out[0]));
    wb_posix_source_close(source);

    b = backup(src, 0);
    assert_int_equal(stream_ids(&b, ids, attrs, sizes, 8), 2);
    assert_int_equal(ids[0], WB_BACKUP_DATA);
    assert_int_equal(ids[1], WB_BACKUP_EA_DATA);
    assert_int_equal(sizes[1], 8 + 4 + 1 + 4);        /* good=kept, the only EA */
    assert_true((dst = open_in(dir, "dst", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(restore(b.data, b.size, dst, 0, NULL), WB_OK);
    assert_xattr(dst, "user.good", "kept", 4);
    free(b.data);
    close(src);
    close(dst);
    testutil_rmtree(dir);
}

/* A regular file with data and a symlink reparse point in user.WINEREPARSE
 * (what BackupWrite under Wine leaves when it cannot make a symlink): its
 * backup has REPARSE_DATA before DATA, and restores as it was, data and
 * reparse data, not as a symlink that would lose the data. */
static void test_reparse_point_with_data(void **state)
{
    char *dir = temp_dir(), path[4200];
    struct wb_posix_sink_options options = { .path = path };
    uint8_t *reparse;
    size_t reparse_size;
    struct blob b;
    struct stat st;
    int src, dst;

    assert_int_equal(wb_reparse_from_symlink("/some/target", &reparse, &reparse_size), WB_OK);
    assert_true((src = open_in(dir, "src", O_CREAT | O_RDWR)) >= 0);
    assert_int_equal(write(src, "contents", 8), 8);
    assert_int_equal(fsetxattr(src, "user.WINEREPARSE", reparse, reparse_size, 0), 0);
    b = backup(src, 0);
    snprintf(path, sizeof(path), "%s/dst", dir);
    assert_true((dst = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644)) >= 0);
    assert_int_equal(restore(b.data, b.size, dst, 0, &options), WB_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_same_contents(src, dst);
    assert_xattr(dst, "user.WINEREPARSE", reparse, reparse_size);
    free(b.data);
    free(reparse);
    close(src);
    close(dst);
    testutil_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_file_with_metadata),
        cmocka_unit_test(test_synthesized_security_and_empty_file),
        cmocka_unit_test(test_security_storage_rule),
        cmocka_unit_test(test_sparse),
        cmocka_unit_test(test_symlink),
        cmocka_unit_test(test_hard_link),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_sink_refuses),
        cmocka_unit_test(test_names_windows_cannot_hold),
        cmocka_unit_test(test_reparse_point_with_data),
    };
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) setenv("TMPDIR", "/var/tmp", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
