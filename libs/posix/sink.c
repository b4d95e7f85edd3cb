/*
 * POSIX sink: what BackupWrite does to a Linux file descriptor.
 *
 * Per stream (the decoder calls begin / write* / end):
 *  DATA            pwrite at the payload offset; at end the file is cut to
 *                  the stream size.  With STREAM_SPARSE_ATTRIBUTE the file is
 *                  truncated to 0 at the header so every range no block
 *                  writes stays a hole.
 *  SPARSE_BLOCK    pwrite at file offsets; the final block (no bytes) sets
 *                  the length.  A block writes its range and nothing else:
 *                  programs restore a sparse file with one BackupWrite
 *                  context (so one sink) per stream on the same handle, and
 *                  a block must never undo what an earlier context wrote.
 *                  Emptying the file is the sparse DATA header's job, as
 *                  NTFS's BackupWrite writes blocks into the file it is
 *                  handed without clearing anything either.
 *  SECURITY_DATA   (WB_POSIX_SECURITY only) validated, stored in user.wine.sd
 *                  as {1,0} + SD; when it maps exactly to owner/group/mode
 *                  (wb_sd_to_posix) those are applied by finish(), last,
 *                  because dropping the write bits early would make the
 *                  following xattr writes fail for a non-root restorer.
 *  EA_DATA         chain validated as a whole first; then each EA becomes
 *                  user.<name>, a zero-length value removes it (NtSetEaFile).
 *                  Names that would collide with the backend's own xattrs
 *                  (compared case-insensitively, as NTFS compares EA names)
 *                  are WB_ERROR_INVALID_EA_NAME.  The Flags byte
 *                  (FILE_NEED_EA) has no place in an xattr and is dropped.
 *  ALTERNATE_DATA  buffered, stored as user.DosStream.<name>:$DATA + NUL.
 *                  Linux caps an xattr value at 64 KiB (XATTR_SIZE_MAX), so a
 *                  stream above 65535 bytes is WB_ERROR_DISK_FULL (what
 *                  Windows reports when a stream does not fit), refused at
 *                  its header before anything is buffered; file systems with
 *                  smaller limits (ext4 without ea_inode: one block) give
 *                  the same error from ENOSPC/E2BIG.
 *  REPARSE_DATA    validated; an IO_REPARSE_TAG_SYMLINK whose target maps to
 *                  POSIX makes the file at options->path a real symlink, in
 *                  finish(), when nothing else was restored into it (no data,
 *                  no xattrs: Linux allows no user.* xattrs on a symlink);
 *                  otherwise, and for any other reparse point, the data is
 *                  kept in user.WINEREPARSE, so nothing of the stream is
 *                  lost (Wine reads it there).  Readers of Windows' output
 *                  put REPARSE_DATA before DATA, which is why the decision
 *                  waits for the end.
 *  OBJECT_ID       exactly 64 bytes, kept in user.winbackup.objectid.
 *  LINK            hard link, see resolve_link().
 *  PROPERTY_DATA, TXFS_DATA, GHOSTED_FILE_EXTENTS and unknown ids are
 *                  consumed and ignored (counted in ignored_streams): Linux
 *                  has nothing to restore them to and BackupWrite itself
 *                  skips what it cannot apply.
 * A directory fd takes every metadata stream; DATA and SPARSE_BLOCK on it
 * are WB_ERROR_ACCESS_DENIED.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "winbackup/posix.h"
#include "winbackup/metadata.h"
#include "posix_private.h"

#define ADS_MAX_SIZE 65535u     /* XATTR_SIZE_MAX minus Samba's trailing NUL */

/* A BACKUP_LINK kept for later: its payload, then (staged) the directory,
 * the final name and the temporary name it has until committed. */
struct deferred_link
{
    uint8_t *payload;
    size_t size;
    int dirfd;
    char *name;
    char *temp;
};

struct wb_posix_sink
{
    int fd;
    unsigned int flags;
    char *path;
    char *link_root;
    int is_dir;

    struct wb_sink_stream stream;   /* current stream; name not kept */
    int in_stream;
    int ignore;                     /* current stream is consumed and dropped */
    uint8_t *buffer;                /* metadata / named stream payload */
    size_t buffered;
    char *ads_xattr;                /* user.DosStream.<name>:$DATA */

    int data_written;
    int xattrs_written;             /* an xattr holds something of the stream */
    uint8_t *reparse;               /* a symlink reparse point waiting for finish() */
    size_t reparse_size;
    char *symlink_target;
    int became_symlink;

    int security;                   /* WB_POSIX_SD_* */
    int owner_pending;
    uint32_t uid, gid, mode;
    uint8_t *mapped_sd;             /* the SD behind owner_pending, stored only if it cannot be applied */
    size_t mapped_sd_size;

    unsigned int link_mode;
    struct deferred_link *links;    /* WB_POSIX_LINK_DEFERRED */
    size_t link_count;
    uint32_t access;                /* Win32 access rights of the handle */

    unsigned int ignored_streams;
    uint32_t first_error;
};

static void unstage_links(struct wb_posix_sink *sink);

/* Win32 access rights (winnt.h) the streams need */
#define ACCESS_FILE_WRITE_DATA        0x00000002u
#define ACCESS_FILE_WRITE_EA          0x00000010u
#define ACCESS_FILE_WRITE_ATTRIBUTES  0x00000100u
#define ACCESS_WRITE_DAC              0x00040000u
#define ACCESS_WRITE_OWNER            0x00080000u
#define ACCESS_GENERIC_READ_RIGHTS    0x00120089u   /* FILE_GENERIC_READ */
#define ACCESS_ALL                    0x001f01ffu   /* FILE_ALL_ACCESS */

static uint32_t fail(struct wb_posix_sink *sink, uint32_t error)
{
    if (error && !sink->first_error) sink->first_error = error;
    return error;
}

uint32_t wb_posix_sink_open(int fd, unsigned int flags, const struct wb_posix_sink_options *options,
                            struct wb_posix_sink **result)
{
    struct wb_posix_sink *sink;
    struct stat st;

    if (!result) return WB_ERROR_INVALID_PARAMETER;
    *result = NULL;
    if (flags & ~(WB_POSIX_SECURITY | WB_POSIX_NO_SYNC)) return WB_ERROR_INVALID_PARAMETER;
    if (fd < 0 || fstat(fd, &st)) return WB_ERROR_INVALID_HANDLE;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return WB_ERROR_NOT_SUPPORTED;
    if (options && options->link_root && options->link_root[0] != '/') return WB_ERROR_INVALID_PARAMETER;
    if (options && options->link_mode > WB_POSIX_LINK_REFUSED) return WB_ERROR_INVALID_PARAMETER;
    if (!(sink = calloc(1, sizeof(*sink)))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    sink->fd = fd;
    sink->flags = flags;
    sink->is_dir = S_ISDIR(st.st_mode);
    sink->link_mode = options ? options->link_mode : WB_POSIX_LINK_NOW;
    sink->access = options ? options->access : 0;
    if (!sink->access)
    {
        int mode = fcntl(fd, F_GETFL);
        /* a directory is always opened read-only: its open mode says nothing */
        sink->access = sink->is_dir || (mode >= 0 && !(mode & O_PATH) && (mode & O_ACCMODE) != O_RDONLY)
                       ? ACCESS_ALL : ACCESS_GENERIC_READ_RIGHTS;
    }
    if (options && ((options->path && !(sink->path = strdup(options->path))) ||
                    (options->link_root && !(sink->link_root = strdup(options->link_root)))))
    {
        wb_posix_sink_close(sink);
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    *result = sink;
    return WB_OK;
}

void wb_posix_sink_close(struct wb_posix_sink *sink)
{
    size_t i;

    if (!sink) return;
    unstage_links(sink);
    for (i = 0; i < sink->link_count; i++) free(sink->links[i].payload);
    free(sink->links);
    free(sink->buffer);
    free(sink->ads_xattr);
    free(sink->mapped_sd);
    free(sink->reparse);
    free(sink->symlink_target);
    free(sink->path);
    free(sink->link_root);
    free(sink);
}

static uint32_t write_all(int fd, const void *buffer, size_t size, uint64_t offset)
{
    size_t done = 0;
    if (offset > WB_MAX_FILE_OFFSET || size > WB_MAX_FILE_OFFSET - offset) return WB_ERROR_SEEK;
    while (done < size)
    {
        ssize_t ret = pwrite(fd, (const char *)buffer + done, size - done, offset + done);
        if (ret < 0)
        {
            if (errno == EINTR) continue;
            return wb_win32_error_from_errno(errno);
        }
        done += ret;
    }
    return WB_OK;
}

static uint32_t set_xattr(struct wb_posix_sink *sink, const char *name, const void *value, size_t size,
                          uint32_t unsupported_error)
{
    if (!fsetxattr(sink->fd, name, value, size, 0))
    {
        sink->xattrs_written = 1;
        return WB_OK;
    }
    if (errno == ENOTSUP) return unsupported_error;
    return wb_win32_error_from_errno(errno);
}

/* wine-staging's form: revision byte 1, byte 0, then the SD */
static uint32_t store_sd(struct wb_posix_sink *sink, const uint8_t *sd, size_t size)
{
    uint8_t *stored;
    uint32_t ret;

    if (!(stored = malloc(size + 2))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    stored[0] = 1;
    stored[1] = 0;
    memcpy(stored + 2, sd, size);
    ret = set_xattr(sink, WBP_XATTR_SD, stored, size + 2, WB_ERROR_NOT_SUPPORTED);
    free(stored);
    return ret;
}

/*
 * A descriptor that maps exactly onto owner, group and mode (the shape the
 * source synthesizes) is applied as those, in finish(), and not stored: a
 * stored copy would turn a synthesized descriptor into a stored one and a
 * copy of a file would no longer be identical to it.  It is stored after all
 * when finish() may not apply it (no privilege to chown), so nothing is lost.
 * Any other descriptor is stored in user.wine.sd, where Wine finds it.
 */
static uint32_t apply_security(struct wb_posix_sink *sink, const uint8_t *sd, size_t size)
{
    uint32_t ret, uid, gid, mode;

    if ((ret = wb_sd_validate(sd, size))) return ret;
    if (wb_sd_to_posix(sd, size, sink->is_dir, &uid, &gid, &mode))
    {
        if (!(ret = store_sd(sink, sd, size))) sink->security = WB_POSIX_SD_STORED;
        return ret;
    }

    /* a stale stored descriptor would override the restored one */
    if (fremovexattr(sink->fd, WBP_XATTR_SD) && errno != ENODATA &&
        errno != ENOTSUP && errno != EOPNOTSUPP)
        return wb_win32_error_from_errno(errno);
    free(sink->mapped_sd);
    if (!(sink->mapped_sd = malloc(size))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    memcpy(sink->mapped_sd, sd, size);
    sink->mapped_sd_size = size;
    sink->owner_pending = 1;
    sink->security = WB_POSIX_SD_NONE;     /* the last descriptor wins; finish() says MAPPED */
    sink->uid = uid;
    sink->gid = gid;
    sink->mode = mode;
    return WB_OK;
}

static uint32_t apply_eas(struct wb_posix_sink *sink, const uint8_t *chain, size_t size)
{
    struct wb_ea *eas;
    size_t count, i;
    uint32_t ret;
    char name[5 + WB_EA_MAX_NAME + 1];

    if ((ret = wb_ea_decode(chain, size, &eas, &count))) return ret;
    for (i = 0; i < count; i++)
        if (wbp_ea_name_reserved(eas[i].name, 1)) { free(eas); return WB_ERROR_INVALID_EA_NAME; }
    for (i = 0; i < count && !ret; i++)
    {
        memcpy(name, "user.", 5);
        memcpy(name + 5, eas[i].name, eas[i].name_len + 1);
        if (eas[i].value_len) ret = set_xattr(sink, name, eas[i].value, eas[i].value_len, WB_ERROR_EAS_NOT_SUPPORTED);
        else if (fremovexattr(sink->fd, name) && errno != ENODATA)
            ret = errno == ENOTSUP ? WB_ERROR_EAS_NOT_SUPPORTED : wb_win32_error_from_errno(errno);
    }
    free(eas);
    return ret;
}

/* Replace the empty file at sink->path by a symlink to target. */
static uint32_t make_symlink(struct wb_posix_sink *sink, const char *target)
{
    struct stat fd_st, path_st;
    char *temp = NULL;
    unsigned int attempt;
    uint32_t ret = WB_ERROR_ALREADY_EXISTS;

    if (fstat(sink->fd, &fd_st) || lstat(sink->path, &path_st)) return wb_win32_error_from_errno(errno);
    /* the path must still name the file we were given */
    if (fd_st.st_dev != path_st.st_dev || fd_st.st_ino != path_st.st_ino) return WB_ERROR_INVALID_PARAMETER;
    for (attempt = 0; attempt < 100; attempt++)
    {
        free(temp);
        if (!(temp = wb_posix_temp_sibling(sink->path, attempt))) return WB_ERROR_NOT_ENOUGH_MEMORY;
        if (!symlink(target, temp))
        {
            ret = WB_OK;
            break;
        }
        if (errno != EEXIST)
        {
            ret = wb_win32_error_from_errno(errno);
            break;
        }
    }
    if (!ret && rename(temp, sink->path))
    {
        ret = wb_win32_error_from_errno(errno);
        unlink(temp);
    }
    free(temp);
    if (!ret) sink->became_symlink = 1;
    return ret;
}

static uint32_t apply_reparse(struct wb_posix_sink *sink, const uint8_t *data, size_t size)
{
    uint32_t ret, tag;
    char *target;

    if ((ret = wb_reparse_tag(data, size, &tag))) return ret;
    if (sink->reparse) return WB_ERROR_INVALID_PARAMETER;   /* a second reparse stream */
    if (tag == WB_IO_REPARSE_TAG_SYMLINK && sink->path && !sink->is_dir)
    {
        ret = wb_reparse_to_symlink(data, size, &target);
        if (!ret)
        {
            /* finish() decides: a symlink, or the raw data in the xattr */
            if (!(sink->reparse = malloc(size)))
            {
                free(target);
                return WB_ERROR_NOT_ENOUGH_MEMORY;
            }
            memcpy(sink->reparse, data, size);
            sink->reparse_size = size;
            sink->symlink_target = target;
            return WB_OK;
        }
        if (ret != WB_ERROR_NOT_SUPPORTED) return ret;
        /* a target Linux cannot express (other drive): keep the raw data */
    }
    return set_xattr(sink, WBP_XATTR_REPARSE, data, size, WB_ERROR_NOT_SUPPORTED);
}

/* The symlink reparse point kept for the end: a real symlink when the
 * file is still empty and bare, else its data in user.WINEREPARSE. */
static uint32_t finish_reparse(struct wb_posix_sink *sink)
{
    struct stat st;

    if (!sink->data_written && !sink->xattrs_written && !fstat(sink->fd, &st) && !st.st_size)
        return make_symlink(sink, sink->symlink_target);
    return set_xattr(sink, WBP_XATTR_REPARSE, sink->reparse, sink->reparse_size, WB_ERROR_NOT_SUPPORTED);
}

/*
 * BACKUP_LINK: the payload names the NEW link ("Z:\dir\name", "\??\Z:\...",
 * "\\?\Z:\..." or "/dir/name"), NUL-terminated UTF-16LE.  Without link_root,
 * Wine's mapping applies (Z: is /, any other drive is
 * WB_ERROR_PATH_NOT_FOUND).  With link_root the drive letter is dropped, the
 * rest is taken below link_root and every directory on the way is opened
 * without following symlinks, so the link cannot land outside it.  ".."
 * components and embedded NULs are WB_ERROR_INVALID_NAME.
 *
 * resolve_link() opens the directory the link goes into and returns it with
 * the link's name (malloc()ed); nothing is created.
 */
static uint32_t resolve_link(const struct wb_posix_sink *sink, const uint8_t *payload, size_t size,
                             int *dir_result, char **name_result)
{
    uint16_t *utf16 = NULL;
    char *path = NULL, *rel, *component, *next, *save = NULL;
    size_t chars, i, len;
    int dirfd = -1, follow = sink->link_root ? O_NOFOLLOW : 0, posix_form;
    uint32_t ret;

    *dir_result = -1;
    *name_result = NULL;
    if (size < 2 || (size & 1) || payload[size - 1] || payload[size - 2]) return WB_ERROR_INVALID_DATA;
    chars = size / 2 - 1;
    if (!chars) return WB_ERROR_PATH_NOT_FOUND;
    if (!(utf16 = malloc(chars * 2))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    wb_utf16_from_le(payload, chars, utf16);
    for (i = 0; i < chars; i++) if (!utf16[i]) { free(utf16); return WB_ERROR_INVALID_NAME; }
    ret = wb_utf16_to_utf8(utf16, chars, &path, &len);
    free(utf16);
    if (ret) return ret;

    rel = path;
    if (!strncmp(rel, "\\??\\", 4) || !strncmp(rel, "\\\\?\\", 4)) rel += 4;
    posix_form = rel == path && rel[0] == '/';
    if (posix_form) rel++;
    else if (((rel[0] >= 'A' && rel[0] <= 'Z') || (rel[0] >= 'a' && rel[0] <= 'z')) && rel[1] == ':' &&
             (rel[2] == '\\' || rel[2] == '/'))
    {
        if (!sink->link_root && rel[0] != 'Z' && rel[0] != 'z') { ret = WB_ERROR_PATH_NOT_FOUND; goto done; }
        rel += 3;
        for (next = rel; *next; next++) if (*next == '\\') *next = '/';
    }
    else { ret = WB_ERROR_PATH_NOT_FOUND; goto done; }   /* relative, UNC, device paths */

    if ((dirfd = open(sink->link_root ? sink->link_root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        ret = errno == ENOENT || errno == ENOTDIR ? WB_ERROR_PATH_NOT_FOUND : wb_win32_error_from_errno(errno);
        goto done;
    }
    /* check every component before touching the file system */
    for (next = rel; *next; )
    {
        char *end = strchr(next, '/');
        size_t clen = end ? (size_t)(end - next) : strlen(next);
        if (clen == 2 && !strncmp(next, "..", 2)) { ret = WB_ERROR_INVALID_NAME; goto done; }
        if (!end) break;
        next = end + 1;
    }
    component = strtok_r(rel, "/", &save);
    while (component && !strcmp(component, ".")) component = strtok_r(NULL, "/", &save);
    if (!component) { ret = WB_ERROR_PATH_NOT_FOUND; goto done; }
    for (;;)
    {
        struct stat st;
        int child;

        next = strtok_r(NULL, "/", &save);
        while (next && !strcmp(next, ".")) next = strtok_r(NULL, "/", &save);
        if (!next) break;   /* component is the link name */
        if ((child = openat(dirfd, component, O_PATH | O_CLOEXEC | follow)) < 0)
        {
            ret = errno == ENOENT || errno == ENOTDIR ? WB_ERROR_PATH_NOT_FOUND : wb_win32_error_from_errno(errno);
            goto done;
        }
        close(dirfd);
        dirfd = child;
        if (fstat(dirfd, &st) || !S_ISDIR(st.st_mode)) { ret = WB_ERROR_PATH_NOT_FOUND; goto done; }
        component = next;
    }
    if (strlen(component) > 255) { ret = WB_ERROR_FILENAME_EXCED_RANGE; goto done; }
    if (!(*name_result = strdup(component))) { ret = WB_ERROR_NOT_ENOUGH_MEMORY; goto done; }
    *dir_result = dirfd;
    dirfd = -1;

done:
    if (dirfd >= 0) close(dirfd);
    free(path);
    return ret;
}

/* A hard link to the file behind fd at dirfd/name, under a temporary name
 * in the same directory, returned in *temp (malloc()ed). */
static uint32_t link_temp(int fd, int dirfd, char **temp)
{
    char proc[64], name[64];
    static unsigned int counter;
    unsigned int attempt;

    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    for (attempt = 0; attempt < 100; attempt++)
    {
        snprintf(name, sizeof(name), ".wblink%x.%x", (unsigned int)getpid(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        if (!linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
        {
            if (!(*temp = strdup(name)))
            {
                unlinkat(dirfd, name, 0);
                return WB_ERROR_NOT_ENOUGH_MEMORY;
            }
            return WB_OK;
        }
        if (errno != EEXIST) return wb_win32_error_from_errno(errno);
    }
    return WB_ERROR_ALREADY_EXISTS;
}

/* WB_POSIX_LINK_NOW: link now; an existing name is replaced in one rename. */
static uint32_t make_link(struct wb_posix_sink *sink, const uint8_t *payload, size_t size)
{
    char proc[64], *name, *temp;
    uint32_t ret;
    int dirfd;

    if ((ret = resolve_link(sink, payload, size, &dirfd, &name))) return ret;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sink->fd);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
    {
        if (errno != EEXIST) ret = wb_win32_error_from_errno(errno);
        else if (!(ret = link_temp(sink->fd, dirfd, &temp)))
        {
            if (renameat(dirfd, temp, dirfd, name)) ret = wb_win32_error_from_errno(errno);
            /* also when the name already was this file: rename() then
             * does nothing and the temporary name stays */
            unlinkat(dirfd, temp, 0);
            free(temp);
        }
    }
    close(dirfd);
    free(name);
    return ret;
}

/* Whether the file at dirfd/name, if any, may be replaced by a hard link:
 * never a directory (rename() would fail only at commit, after the
 * restore already changed the destination). */
static uint32_t check_link_name(int dirfd, const char *name)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) return errno == ENOENT ? WB_OK : wb_win32_error_from_errno(errno);
    return S_ISDIR(st.st_mode) ? WB_ERROR_ACCESS_DENIED : WB_OK;
}

/* WB_POSIX_LINK_DEFERRED: check the path now, keep the payload for later. */
static uint32_t defer_link(struct wb_posix_sink *sink, const uint8_t *payload, size_t size)
{
    struct deferred_link *grown, *link;
    uint32_t ret;
    char *name;
    int dirfd;

    if (sink->is_dir) return WB_ERROR_ACCESS_DENIED;   /* no hard links to directories */
    if ((ret = resolve_link(sink, payload, size, &dirfd, &name))) return ret;
    ret = check_link_name(dirfd, name);
    close(dirfd);
    free(name);
    if (ret) return ret;
    if (!(grown = realloc(sink->links, (sink->link_count + 1) * sizeof(*grown)))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    sink->links = grown;
    link = &sink->links[sink->link_count];
    memset(link, 0, sizeof(*link));
    link->dirfd = -1;
    if (!(link->payload = malloc(size))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    memcpy(link->payload, payload, size);
    link->size = size;
    sink->link_count++;
    return WB_OK;
}

static uint32_t apply_link(struct wb_posix_sink *sink, const uint8_t *payload, size_t size)
{
    switch (sink->link_mode)
    {
    case WB_POSIX_LINK_DEFERRED: return defer_link(sink, payload, size);
    case WB_POSIX_LINK_REFUSED: return WB_ERROR_PRIVILEGE_NOT_HELD;
    default: return make_link(sink, payload, size);
    }
}

/* Remove staged links that were not committed. */
static void unstage_links(struct wb_posix_sink *sink)
{
    size_t i;

    for (i = 0; i < sink->link_count; i++)
    {
        struct deferred_link *link = &sink->links[i];
        if (link->temp) unlinkat(link->dirfd, link->temp, 0);
        free(link->temp);
        free(link->name);
        link->temp = link->name = NULL;
        if (link->dirfd >= 0) close(link->dirfd);
        link->dirfd = -1;
    }
}

uint32_t wb_posix_sink_stage_links(struct wb_posix_sink *sink, int fd)
{
    uint32_t ret = WB_OK;
    size_t i;

    if (!sink || fd < 0) return WB_ERROR_INVALID_PARAMETER;
    for (i = 0; i < sink->link_count && !ret; i++)
    {
        struct deferred_link *link = &sink->links[i];
        if (link->temp) continue;
        ret = resolve_link(sink, link->payload, link->size, &link->dirfd, &link->name);
        if (!ret) ret = check_link_name(link->dirfd, link->name);
        if (!ret) ret = link_temp(fd, link->dirfd, &link->temp);
    }
    if (ret) unstage_links(sink);
    return ret;
}

uint32_t wb_posix_sink_commit_links(struct wb_posix_sink *sink)
{
    uint32_t ret = WB_OK;
    size_t i;

    if (!sink) return WB_ERROR_INVALID_PARAMETER;
    for (i = 0; i < sink->link_count; i++)
    {
        struct deferred_link *link = &sink->links[i];
        if (!link->temp) continue;
        if (renameat(link->dirfd, link->temp, link->dirfd, link->name) && !ret)
            ret = wb_win32_error_from_errno(errno);
        /* unstage_links removes the temporary name: left by a failed
         * rename, or by one onto a name that already was this file */
    }
    unstage_links(sink);
    return ret;
}

/* The access rights one of which the handle needs for a stream; all bits
 * for streams that need none (named streams are opened anew by name on
 * Windows, and a hard link needs no right on the file). */
static uint32_t stream_rights(uint32_t id, unsigned int flags)
{
    switch (id)
    {
    case WB_BACKUP_DATA:
    case WB_BACKUP_SPARSE_BLOCK: return ACCESS_FILE_WRITE_DATA;
    case WB_BACKUP_EA_DATA: return ACCESS_FILE_WRITE_EA;
    case WB_BACKUP_SECURITY_DATA: return (flags & WB_POSIX_SECURITY) ? ACCESS_WRITE_DAC | ACCESS_WRITE_OWNER : ~0u;
    case WB_BACKUP_REPARSE_DATA:
    case WB_BACKUP_OBJECT_ID: return ACCESS_FILE_WRITE_DATA | ACCESS_FILE_WRITE_ATTRIBUTES;
    default: return ~0u;
    }
}

static uint32_t sink_begin(void *opaque, const struct wb_sink_stream *stream)
{
    struct wb_posix_sink *sink = opaque;
    uint32_t ret = WB_OK;

    if (!sink || !stream) return WB_ERROR_INVALID_PARAMETER;
    if (sink->in_stream) return fail(sink, WB_ERROR_INVALID_PARAMETER);
    sink->stream = *stream;
    sink->stream.name = NULL;
    sink->ignore = 0;
    sink->buffered = 0;
    free(sink->buffer);
    sink->buffer = NULL;
    free(sink->ads_xattr);
    sink->ads_xattr = NULL;

    if (!(sink->access & stream_rights(stream->id, sink->flags))) return fail(sink, WB_ERROR_ACCESS_DENIED);
    switch (stream->id)
    {
    case WB_BACKUP_DATA:
        if (sink->is_dir) return fail(sink, WB_ERROR_ACCESS_DENIED);
        sink->data_written = 1;
        if ((stream->attributes & WB_STREAM_SPARSE_ATTRIBUTE) && ftruncate(sink->fd, 0))
            return fail(sink, wb_win32_error_from_errno(errno));
        break;
    case WB_BACKUP_SPARSE_BLOCK:
        if (sink->is_dir) return fail(sink, WB_ERROR_ACCESS_DENIED);
        sink->data_written = 1;
        if (!stream->data_size && ftruncate(sink->fd, stream->sparse_offset))
            ret = wb_win32_error_from_errno(errno);
        break;
    case WB_BACKUP_SECURITY_DATA:
        if (!(sink->flags & WB_POSIX_SECURITY)) sink->ignore = 1;
        break;
    case WB_BACKUP_EA_DATA:
    case WB_BACKUP_OBJECT_ID:
    case WB_BACKUP_REPARSE_DATA:
    case WB_BACKUP_LINK:
        break;
    case WB_BACKUP_ALTERNATE_DATA:
    {
        char *name;
        size_t len;

        if (!stream->name || !stream->name_chars) return fail(sink, WB_ERROR_INVALID_NAME);
        if ((ret = wb_utf16_to_utf8(stream->name, stream->name_chars, &name, &len))) return fail(sink, ret);
        if (memchr(name, 0, len) || strchr(name, '/') || strchr(name, ':')) ret = WB_ERROR_INVALID_NAME;
        else if (sizeof(WBP_XATTR_STREAM_PREFIX) + len + sizeof(WBP_XATTR_STREAM_SUFFIX) - 1 > 256)
            ret = WB_ERROR_FILENAME_EXCED_RANGE;    /* XATTR_NAME_MAX is 255 */
        else if (stream->data_size > ADS_MAX_SIZE) ret = WB_ERROR_DISK_FULL;
        else if (!(sink->ads_xattr = malloc(sizeof(WBP_XATTR_STREAM_PREFIX) + len + sizeof(WBP_XATTR_STREAM_SUFFIX))))
            ret = WB_ERROR_NOT_ENOUGH_MEMORY;
        else sprintf(sink->ads_xattr, "%s%s%s", WBP_XATTR_STREAM_PREFIX, name, WBP_XATTR_STREAM_SUFFIX);
        free(name);
        /* zeroed: BackupSeek may skip part of the payload */
        if (!ret && !(sink->buffer = calloc(1, stream->data_size + 1))) ret = WB_ERROR_NOT_ENOUGH_MEMORY;
        break;
    }
    default:
        sink->ignore = 1;
        sink->ignored_streams++;
        break;
    }
    if (ret) return fail(sink, ret);
    sink->in_stream = 1;
    return WB_OK;
}

static uint32_t sink_write(void *opaque, uint64_t offset, const void *buffer, uint32_t size)
{
    struct wb_posix_sink *sink = opaque;

    if (!sink || (!buffer && size)) return WB_ERROR_INVALID_PARAMETER;
    if (!sink->in_stream) return fail(sink, WB_ERROR_INVALID_PARAMETER);
    if (sink->ignore) return WB_OK;
    switch (sink->stream.id)
    {
    case WB_BACKUP_DATA:
    case WB_BACKUP_SPARSE_BLOCK:
        return fail(sink, write_all(sink->fd, buffer, size, offset));
    case WB_BACKUP_ALTERNATE_DATA:
        /* in order; a gap is what BackupSeek skipped and stays zero */
        if (offset < sink->buffered || offset > sink->stream.data_size || size > sink->stream.data_size - offset)
            return fail(sink, WB_ERROR_INVALID_DATA);
        memcpy(sink->buffer + offset, buffer, size);
        sink->buffered = offset + size;
        return WB_OK;
    default:
        /* metadata: exactly one write with the whole payload */
        if (sink->buffer || offset || size != sink->stream.data_size) return fail(sink, WB_ERROR_INVALID_DATA);
        if (!(sink->buffer = malloc(size ? size : 1))) return fail(sink, WB_ERROR_NOT_ENOUGH_MEMORY);
        memcpy(sink->buffer, buffer, size);
        sink->buffered = size;
        return WB_OK;
    }
}

static uint32_t sink_end(void *opaque)
{
    struct wb_posix_sink *sink = opaque;
    uint32_t ret = WB_OK;

    if (!sink) return WB_ERROR_INVALID_PARAMETER;
    if (!sink->in_stream) return fail(sink, WB_ERROR_INVALID_PARAMETER);
    sink->in_stream = 0;
    if (sink->ignore) return WB_OK;
    switch (sink->stream.id)
    {
    case WB_BACKUP_DATA:
        if (!(sink->stream.attributes & WB_STREAM_SPARSE_ATTRIBUTE) && ftruncate(sink->fd, sink->stream.data_size))
            ret = wb_win32_error_from_errno(errno);
        break;
    case WB_BACKUP_SECURITY_DATA:
        ret = apply_security(sink, sink->buffer, sink->buffered);
        break;
    case WB_BACKUP_EA_DATA:
        ret = apply_eas(sink, sink->buffer, sink->buffered);
        break;
    case WB_BACKUP_ALTERNATE_DATA:
        /* the decoder ends a stream only once its payload was written or
         * skipped, so all data_size bytes are there (skipped ones zero) */
        sink->buffer[sink->stream.data_size] = 0;   /* Samba's trailing NUL */
        ret = set_xattr(sink, sink->ads_xattr, sink->buffer, sink->stream.data_size + 1, WB_ERROR_NOT_SUPPORTED);
        break;
    case WB_BACKUP_REPARSE_DATA:
        ret = apply_reparse(sink, sink->buffer, sink->buffered);
        break;
    case WB_BACKUP_OBJECT_ID:
        if (sink->buffered != WB_OBJECT_ID_SIZE) ret = WB_ERROR_INVALID_DATA;
        else ret = set_xattr(sink, WBP_XATTR_OBJECTID, sink->buffer, sink->buffered, WB_ERROR_NOT_SUPPORTED);
        break;
    case WB_BACKUP_LINK:
        ret = apply_link(sink, sink->buffer, sink->buffered);
        break;
    }
    free(sink->buffer);
    sink->buffer = NULL;
    sink->buffered = 0;
    return fail(sink, ret);
}

uint32_t wb_posix_sink_finish(struct wb_posix_sink *sink)
{
    if (!sink) return WB_ERROR_INVALID_PARAMETER;
    if (sink->first_error) return sink->first_error;
    if (sink->in_stream) return fail(sink, WB_ERROR_INVALID_DATA);   /* stream cut short */
    if (sink->reparse)
    {
        uint32_t ret = finish_reparse(sink);
        free(sink->reparse);
        sink->reparse = NULL;
        if (ret) return fail(sink, ret);
    }
    if (sink->owner_pending)
    {
        sink->owner_pending = 0;
        if (sink->became_symlink)
        {
            /* the fd is the replaced file now; the symlink is at path */
            if (lchown(sink->path, sink->uid, sink->gid)) return fail(sink, wb_win32_error_from_errno(errno));
        }
        else
        {
            struct stat st;
            if (fstat(sink->fd, &st)) return fail(sink, wb_win32_error_from_errno(errno));
            if ((st.st_uid != sink->uid || st.st_gid != sink->gid) && fchown(sink->fd, sink->uid, sink->gid))
            {
                uint32_t ret;
                if (errno != EPERM) return fail(sink, wb_win32_error_from_errno(errno));
                /* not ours to give away: keep the descriptor too */
                if ((ret = store_sd(sink, sink->mapped_sd, sink->mapped_sd_size))) return fail(sink, ret);
                sink->security = WB_POSIX_SD_MODE;
            }
            if (fchmod(sink->fd, sink->mode)) return fail(sink, wb_win32_error_from_errno(errno));
            /* the descriptor is the whole DACL: an ACL carried over from a
             * file this one replaces would add to it */
            if (fremovexattr(sink->fd, "system.posix_acl_access") && errno != ENODATA && errno != ENOTSUP)
                return fail(sink, wb_win32_error_from_errno(errno));
        }
        if (sink->security != WB_POSIX_SD_MODE) sink->security = WB_POSIX_SD_MAPPED;
    }
    if (sink->data_written && !sink->became_symlink && !(sink->flags & WB_POSIX_NO_SYNC) && fdatasync(sink->fd))
        return fail(sink, wb_win32_error_from_errno(errno));
    return WB_OK;
}

int wb_posix_sink_security(const struct wb_posix_sink *sink)
{
    return sink ? sink->security : WB_POSIX_SD_NONE;
}

const struct wb_sink_ops wb_posix_sink_ops = { sink_begin, sink_write, sink_end };
