/*
 * POSIX source: what BackupRead reads from a Linux file descriptor.
 *
 * Everything except the file contents is gathered when the source is opened
 * (one plan of streams, like libarchive's per-entry metadata), so next()
 * never fails half-way through a list of xattrs and the stream order is
 * fixed: SECURITY_DATA (WB_POSIX_SECURITY only), REPARSE_DATA, DATA or the
 * sparse form, EA_DATA (EAs in the order the file system lists them, i.e.
 * stored, as NTFS returns them), one ALTERNATE_DATA per named stream (sorted
 * by name), OBJECT_ID.  File contents are read lazily through read().
 * REPARSE_DATA comes before DATA because readers written against Windows'
 * output expect it there: go-winio's backuptar takes it only before DATA
 * when it reads a stream once.
 *
 * Choices worth knowing:
 *  - A regular file is emitted in sparse form when SEEK_DATA/SEEK_HOLE show
 *    at least one hole; SPARSE_BLOCK streams carry STREAM_SPARSE_ATTRIBUTE
 *    like the DATA header in front of them ([MS-BKUP] 2.2).
 *  - A stored user.wine.sd that is malformed, a user.WINEREPARSE that does
 *    not validate and a user.winbackup.objectid that is not 64 bytes are
 *    ignored (the SD is then synthesized); backing up must not fail on a
 *    foreign xattr.
 *  - user.* xattrs that cannot be EAs (name not a valid EA name or one of
 *    the backend's own names in another case, value empty or over 65535
 *    bytes) and named streams whose names cannot be NTFS stream names are
 *    left out and counted (wb_posix_source_skipped); an EA set above
 *    WB_MAX_EA_SIZE fails the open with WB_ERROR_NOT_SUPPORTED rather than
 *    being silently truncated.
 *  - Symlinks (O_PATH fds): Linux allows no user.* xattrs on them, so only
 *    SECURITY_DATA (synthesized) and REPARSE_DATA are produced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "winbackup/posix.h"
#include "winbackup/metadata.h"
#include "posix_private.h"

struct planned_stream
{
    uint32_t id;
    uint32_t attributes;
    uint8_t *name;          /* UTF-16LE, owned */
    uint32_t name_size;
    uint8_t *blob;          /* owned */
    uint64_t blob_size;
    uint64_t data_offset;
    uint64_t data_size;
};

struct wb_posix_source
{
    int fd;
    unsigned int flags;
    unsigned int skipped;       /* xattrs that cannot be EAs or named streams */
    struct planned_stream *streams;
    size_t count, capacity, next;
};

static struct planned_stream *add_stream(struct wb_posix_source *source, uint32_t id, uint32_t attributes)
{
    struct planned_stream *stream;

    if (source->count == source->capacity)
    {
        size_t capacity = source->capacity ? source->capacity * 2 : 8;
        struct planned_stream *grown = realloc(source->streams, capacity * sizeof(*grown));
        if (!grown) return NULL;
        source->streams = grown;
        source->capacity = capacity;
    }
    stream = &source->streams[source->count++];
    memset(stream, 0, sizeof(*stream));
    stream->id = id;
    stream->attributes = attributes;
    return stream;
}

static uint32_t add_blob(struct wb_posix_source *source, uint32_t id, uint8_t *blob, size_t size)
{
    /* [MS-BKUP] 2.2: STREAM_CONTAINS_SECURITY marks the SECURITY_DATA stream
     * (and only it), so a cross-platform restore can skip it. */
    struct planned_stream *stream = add_stream(source, id, id == WB_BACKUP_SECURITY_DATA
                                               ? WB_STREAM_CONTAINS_SECURITY : WB_STREAM_NORMAL_ATTRIBUTE);
    if (!stream)
    {
        free(blob);
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    stream->blob = blob;
    stream->blob_size = size;
    /* an empty blob still has to be non-NULL to mean "blob" to the encoder */
    if (!blob && !(stream->blob = malloc(1))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    return WB_OK;
}

static uint32_t plan_security(struct wb_posix_source *source, const struct stat *st, int is_link)
{
    struct wb_posix_acl_entry *acl = NULL;
    size_t acl_count = 0, size, sd_size;
    uint8_t *value, *sd;
    uint32_t ret;

    if (!is_link && !wbp_xattr_get(source->fd, WBP_XATTR_SD, &value, &size))
    {
        /* wine-staging's form: revision byte 1, byte 0, then the SD */
        if (size > 2 && value[0] == 1 && value[1] == 0 && !wb_sd_validate(value + 2, size - 2))
        {
            memmove(value, value + 2, size - 2);
            return add_blob(source, WB_BACKUP_SECURITY_DATA, value, size - 2);
        }
        free(value);
    }
    if (!is_link && !wbp_xattr_get(source->fd, "system.posix_acl_access", &value, &size))
    {
        if (wb_posix_acl_parse(value, size, &acl, &acl_count)) acl_count = 0;
        free(value);
    }
    ret = wb_sd_from_posix(st->st_uid, st->st_gid, st->st_mode & 0777, S_ISDIR(st->st_mode),
                           acl, acl_count, &sd, &sd_size);
    free(acl);
    if (ret) return ret;
    return add_blob(source, WB_BACKUP_SECURITY_DATA, sd, sd_size);
}

static uint32_t plan_data(struct wb_posix_source *source, const struct stat *st)
{
    uint64_t size = st->st_size, offset = 0;
    struct planned_stream *stream;
    off_t saved;
    size_t first = source->count;
    uint32_t ret = WB_OK;
    int sparse = 0;

    if (!size) return WB_OK;   /* an empty non-sparse file has no DATA stream */

    /* Allocated blocks that cover the whole size leave no room for a hole:
     * skip the SEEK_DATA/SEEK_HOLE walk (four lseeks per file, a measurable
     * share of copying many small files).  Blocks allocated past the end or
     * an xattr block can hide a hole from this test; the file is then
     * stored dense, which loses no data. */
    if ((uint64_t)st->st_blocks * 512 >= size)
    {
        if (!(stream = add_stream(source, WB_BACKUP_DATA, WB_STREAM_NORMAL_ATTRIBUTE)))
            return WB_ERROR_NOT_ENOUGH_MEMORY;
        stream->data_size = size;
        return WB_OK;
    }

    saved = lseek(source->fd, 0, SEEK_CUR);
    /* placeholder for the DATA header; filled in once we know the form */
    if (!add_stream(source, WB_BACKUP_DATA, WB_STREAM_NORMAL_ATTRIBUTE)) return WB_ERROR_NOT_ENOUGH_MEMORY;
    while (offset < size)
    {
        off_t data = lseek(source->fd, offset, SEEK_DATA), hole;

        if (data < 0)
        {
            if (errno == ENXIO) { sparse = 1; break; }      /* only a hole up to the end */
            if (errno == EINVAL || errno == ENOTSUP) { sparse = 0; break; }   /* no hole support */
            ret = wb_win32_error_from_errno(errno);
            break;
        }
        if ((hole = lseek(source->fd, data, SEEK_HOLE)) < 0)
        {
            ret = wb_win32_error_from_errno(errno);
            break;
        }
        if ((uint64_t)hole > size) hole = size;
        if (data == 0 && (uint64_t)hole == size && source->count == first + 1) break;   /* plain file */
        sparse = 1;
        if ((uint64_t)data >= size) break;
        if (!(stream = add_stream(source, WB_BACKUP_SPARSE_BLOCK, WB_STREAM_SPARSE_ATTRIBUTE)))
        {
            ret = WB_ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        stream->data_offset = data;
        stream->data_size = hole - data;
        offset = hole;
    }
    if (saved >= 0) lseek(source->fd, saved, SEEK_SET);
    if (ret) return ret;

    stream = &source->streams[first];
    if (!sparse)
    {
        /* drop any partial range list: the whole file is one DATA stream */
        source->count = first + 1;
        stream->data_size = size;
        return WB_OK;
    }
    stream->attributes = WB_STREAM_SPARSE_ATTRIBUTE;
    stream->data_size = 0;
    if (!(stream = add_stream(source, WB_BACKUP_SPARSE_BLOCK, WB_STREAM_SPARSE_ATTRIBUTE)))
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    stream->data_offset = size;     /* the final block gives the length */
    return WB_OK;
}

/* ":<name>:$DATA" in UTF-16LE from the bare UTF-8 name, or an error when
 * the name cannot be an NTFS stream name. */
static uint32_t stream_wire_name(const char *name, size_t len, uint8_t **wire, uint32_t *wire_size)
{
    static const uint16_t suffix[] = {':', '$', 'D', 'A', 'T', 'A'};
    uint16_t *utf16;
    size_t chars, i;
    uint32_t ret;

    if ((ret = wb_utf8_to_utf16(name, len, &utf16, &chars))) return ret;
    if (!chars || chars > WB_MAX_STREAM_NAME_CHARS) ret = WB_ERROR_INVALID_NAME;
    for (i = 0; i < chars && !ret; i++)
        if (!utf16[i] || utf16[i] == ':' || utf16[i] == '/' || utf16[i] == '\\') ret = WB_ERROR_INVALID_NAME;
    if (!ret && !(*wire = malloc((chars + 7) * 2))) ret = WB_ERROR_NOT_ENOUGH_MEMORY;
    if (!ret)
    {
        static const uint16_t colon = ':';
        wb_utf16_to_le(&colon, 1, *wire);
        wb_utf16_to_le(utf16, chars, *wire + 2);
        wb_utf16_to_le(suffix, 6, *wire + 2 + chars * 2);
        *wire_size = (chars + 7) * 2;
    }
    free(utf16);
    return ret;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t plan_xattrs(struct wb_posix_source *source)
{
    static const size_t prefix_len = sizeof(WBP_XATTR_STREAM_PREFIX) - 1, suffix_len = sizeof(WBP_XATTR_STREAM_SUFFIX) - 1;
    struct wb_ea *eas = NULL;
    uint8_t **values = NULL;
    char **names;
    size_t count, i, ea_count = 0;
    uint32_t ret;

    if ((ret = wbp_xattr_list(source->fd, &names, &count))) return ret;
    if (count && (!(eas = calloc(count, sizeof(*eas))) || !(values = calloc(count, sizeof(*values)))))
    {
        ret = WB_ERROR_NOT_ENOUGH_MEMORY;
        goto done;
    }
    /* pass 1: EAs */
    for (i = 0; i < count; i++)
    {
        const char *ea_name = names[i] + 5;
        size_t size;

        if (strncmp(names[i], "user.", 5) || wbp_ea_name_reserved(ea_name, 0)) continue;
        /* an EA name NTFS would refuse, or one that is the backend's own in
         * another case (user.dosattrib): NTFS compares EA names without
         * case, so restoring it would overwrite DOSATTRIB (the sink refuses
         * it); left out and counted, never a backup that cannot restore */
        if (wb_ea_validate_name(ea_name, strlen(ea_name)) || wbp_ea_name_reserved(ea_name, 1))
        {
            source->skipped++;
            continue;
        }
        if ((ret = wbp_xattr_get(source->fd, names[i], &values[ea_count], &size)))
        {
            if (ret == WB_ERROR_FILE_NOT_FOUND) { ret = WB_OK; continue; }   /* removed meanwhile */
            goto done;
        }
        if (!size || size > WB_EA_MAX_VALUE)
        {
            /* a zero-length EA means "delete" on Windows, so it cannot be stored */
            free(values[ea_count]);
            values[ea_count] = NULL;
            source->skipped++;
            continue;
        }
        eas[ea_count].name = ea_name;
        eas[ea_count].name_len = strlen(ea_name);
        eas[ea_count].value = values[ea_count];
        eas[ea_count].value_len = size;
        ea_count++;
    }
    if (ea_count)
    {
        uint8_t *chain;
        size_t chain_size;
        if ((ret = wb_ea_encode(eas, ea_count, &chain, &chain_size))) goto done;
        if (chain_size > WB_MAX_EA_SIZE)
        {
            free(chain);
            ret = WB_ERROR_NOT_SUPPORTED;
            goto done;
        }
        if ((ret = add_blob(source, WB_BACKUP_EA_DATA, chain, chain_size))) goto done;
    }
    /* pass 2: named streams, by name */
    if (count) qsort(names, count, sizeof(*names), compare_names);
    for (i = 0; i < count; i++)
    {
        size_t len = strlen(names[i]), size;
        struct planned_stream *stream;
        uint8_t *wire, *value;
        uint32_t wire_size;

        if (len <= prefix_len + suffix_len || strncmp(names[i], WBP_XATTR_STREAM_PREFIX, prefix_len) ||
            strcmp(names[i] + len - suffix_len, WBP_XATTR_STREAM_SUFFIX)) continue;
        if ((ret = stream_wire_name(names[i] + prefix_len, len - prefix_len - suffix_len, &wire, &wire_size)))
        {
            /* a name NTFS could not have is left out and counted; running
             * out of memory is an error, never a reason to drop a stream */
            if (ret == WB_ERROR_NOT_ENOUGH_MEMORY) goto done;
            source->skipped++;
            ret = WB_OK;
            continue;
        }
        if ((ret = wbp_xattr_get(source->fd, names[i], &value, &size)))
        {
            free(wire);
            if (ret == WB_ERROR_FILE_NOT_FOUND) { ret = WB_OK; continue; }
            goto done;
        }
        if (size && !value[size - 1]) size--;   /* Samba's terminating NUL */
        if (!(stream = add_stream(source, WB_BACKUP_ALTERNATE_DATA, WB_STREAM_NORMAL_ATTRIBUTE)))
        {
            free(wire);
            free(value);
            ret = WB_ERROR_NOT_ENOUGH_MEMORY;
            goto done;
        }
        stream->name = wire;
        stream->name_size = wire_size;
        stream->blob = value;
        stream->blob_size = size;
    }

done:
    if (values) for (i = 0; i < count; i++) free(values[i]);
    free(values);
    free(eas);
    wbp_xattr_free_list(names, count);
    return ret;
}

static uint32_t plan_reparse(struct wb_posix_source *source, const struct stat *st, int is_link)
{
    uint8_t *value;
    size_t size;
    uint32_t ret;

    if (is_link)
    {
        size_t capacity = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
        char *target;
        ssize_t len;

        for (;;)
        {
            if (!(target = malloc(capacity))) return WB_ERROR_NOT_ENOUGH_MEMORY;
            if ((len = readlinkat(source->fd, "", target, capacity)) < 0)
            {
                free(target);
                return wb_win32_error_from_errno(errno);
            }
            if ((size_t)len < capacity) break;
            free(target);
            if (capacity > 65536) return WB_ERROR_FILENAME_EXCED_RANGE;
            capacity *= 2;
        }
        target[len] = 0;
        ret = wb_reparse_from_symlink(target, &value, &size);
        free(target);
        if (ret) return ret;
        return add_blob(source, WB_BACKUP_REPARSE_DATA, value, size);
    }
    if (wbp_xattr_get(source->fd, WBP_XATTR_REPARSE, &value, &size)) return WB_OK;
    if (wb_reparse_validate(value, size))
    {
        free(value);
        return WB_OK;
    }
    return add_blob(source, WB_BACKUP_REPARSE_DATA, value, size);
}

static uint32_t plan_object_id(struct wb_posix_source *source)
{
    uint8_t *value;
    size_t size;

    if (wbp_xattr_get(source->fd, WBP_XATTR_OBJECTID, &value, &size)) return WB_OK;
    if (size != WB_OBJECT_ID_SIZE)
    {
        free(value);
        return WB_OK;
    }
    return add_blob(source, WB_BACKUP_OBJECT_ID, value, size);
}

uint32_t wb_posix_source_open(int fd, unsigned int flags, struct wb_posix_source **result)
{
    struct wb_posix_source *source;
    struct stat st;
    uint32_t ret = WB_OK;
    int is_link;

    if (!result) return WB_ERROR_INVALID_PARAMETER;
    *result = NULL;
    if (flags & ~WB_POSIX_SECURITY) return WB_ERROR_INVALID_PARAMETER;
    if (fd < 0 || fstat(fd, &st)) return WB_ERROR_INVALID_HANDLE;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return WB_ERROR_NOT_SUPPORTED;
    is_link = S_ISLNK(st.st_mode);
    if (!(source = calloc(1, sizeof(*source)))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    source->fd = fd;
    source->flags = flags;

    if (flags & WB_POSIX_SECURITY) ret = plan_security(source, &st, is_link);
    if (!ret) ret = plan_reparse(source, &st, is_link);
    if (!ret && S_ISREG(st.st_mode)) ret = plan_data(source, &st);
    if (!ret && !is_link) ret = plan_xattrs(source);
    if (!ret && !is_link) ret = plan_object_id(source);
    if (ret)
    {
        wb_posix_source_close(source);
        return ret;
    }
    *result = source;
    return WB_OK;
}

unsigned int wb_posix_source_skipped(const struct wb_posix_source *source)
{
    return source ? source->skipped : 0;
}

void wb_posix_source_close(struct wb_posix_source *source)
{
    size_t i;
    if (!source) return;
    for (i = 0; i < source->count; i++)
    {
        free(source->streams[i].name);
        free(source->streams[i].blob);
    }
    free(source->streams);
    free(source);
}

static uint32_t source_next(void *opaque, struct wb_source_stream *stream)
{
    struct wb_posix_source *source = opaque;
    const struct planned_stream *planned;

    if (!source || !stream) return WB_ERROR_INVALID_PARAMETER;
    if (source->next >= source->count) return WB_ERROR_NO_MORE_ITEMS;
    planned = &source->streams[source->next++];
    stream->id = planned->id;
    stream->attributes = planned->attributes;
    stream->name = planned->name;
    stream->name_size = planned->name_size;
    stream->blob = planned->blob;
    stream->blob_size = planned->blob_size;
    stream->data_offset = planned->data_offset;
    stream->data_size = planned->data_size;
    return WB_OK;
}

static uint32_t source_read(void *opaque, uint64_t offset, void *buffer, uint32_t size, uint32_t *done)
{
    struct wb_posix_source *source = opaque;
    uint32_t total = 0;

    if (!source || !done || (!buffer && size)) return WB_ERROR_INVALID_PARAMETER;
    *done = 0;
    if (offset > WB_MAX_FILE_OFFSET) return WB_ERROR_SEEK;
    while (total < size)
    {
        ssize_t got = pread(source->fd, (char *)buffer + total, size - total, offset + total);
        if (got < 0)
        {
            if (errno == EINTR) continue;
            *done = total;
            return errno == EISDIR ? WB_ERROR_ACCESS_DENIED : WB_ERROR_READ_FAULT;
        }
        if (!got) break;
        total += got;
    }
    *done = total;
    return WB_OK;
}

const struct wb_source_ops wb_posix_source_ops = { source_next, source_read };
