/*
 * File helpers shared by the engine and the service: paths resolved below a
 * directory fd without following symbolic links, atomic whole-file writes,
 * mkdir -p, logging, and the per-user protection state file.
 *
 * Everything on a backup target is input someone else may have crafted (a
 * removable disk, a share): every path inside it is resolved from an open
 * directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), or, where the kernel lacks openat2, one component
 * at a time with O_NOFOLLOW.  Relative paths given to these helpers are
 * checked first: no empty, "." or ".." component, no leading '/', so both
 * ways refuse the same paths with EINVAL.  A symbolic link met on the way is
 * ELOOP either way.
 *
 * Atomic writes go through a temporary name made of 64 random bits and
 * created with O_EXCL | O_NOFOLLOW, so a name planted in a shared directory
 * can neither be written through nor predicted.
 *
 * The state file ($XDG_CONFIG_HOME/filehistory/State) lives next to the
 * configuration rather than on the target because the most interesting
 * states (TARGET_ABSENT, ACCESS_DENIED) are exactly those where the target
 * cannot be written.  Content: "<state hex> <protected-until epoch>
 * <files not backed up>\n" (older files have the first two fields only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "fh.h"

/* 0 once openat2 turned out to be missing (ENOSYS, E2BIG); tests clear it
 * to run the per-component path. */
static int fh_use_openat2 = 1;

int fh_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len)
    {
        ssize_t n = write(fd, p, len);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        p += n; len -= n;
    }
    return 0;
}

char *fh_join(const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 2;
    char *out = malloc(len);
    if (out) snprintf(out, len, "%s/%s", a, b);
    return out;
}

int fh_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;
    if (fd < 0) return -1;
    ret = fsync(fd);
    close(fd);
    return ret;
}

/* A relative path of real components: no "", ".", ".." or over-long one. */
static int relpath_ok(const char *relpath)
{
    const char *p = relpath;
    if (!p || !*p || *p == '/') return 0;
    for (;;)
    {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!n || n > 255 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        if (!end) return 1;
        p = end + 1;
    }
}

/* The per-component walk; errno as openat2 would set it. */
static int open_beneath_walk(int dirfd, const char *relpath, int flags, mode_t mode)
{
    char comp[256];
    const char *p = relpath;
    int cur = dirfd, fd;

    for (;;)
    {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        memcpy(comp, p, n);
        comp[n] = 0;
        if (!end)
        {
            fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd < 0 && errno == ENOTDIR && (flags & O_DIRECTORY))
            {
                struct stat st;
                if (!fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) errno = ELOOP;
            }
            break;
        }
        fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOTDIR)
        {
            struct stat st;
            if (!fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) errno = ELOOP;
        }
        if (cur != dirfd) { int e = errno; close(cur); errno = e; }
        if (fd < 0) return -1;
        cur = fd;
        p = end + 1;
    }
    if (cur != dirfd) { int e = errno; close(cur); errno = e; }
    return fd;
}

int fh_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode)
{
    if (!relpath_ok(relpath)) { errno = EINVAL; return -1; }
    if (fh_use_openat2)
    {
        struct open_how how;
        int fd;
        memset(&how, 0, sizeof(how));
        how.flags = (unsigned int)(flags | O_NOFOLLOW | O_CLOEXEC);
        how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, dirfd, relpath, &how, sizeof(how));
        if (fd >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EPERM && errno != ENOTDIR)) return fd;
        /* ENOTDIR: a symlink where a directory was asked for, or a file on
         * the way: the walk below tells which (ELOOP for the symlink) */
        if (errno != ENOTDIR) fh_use_openat2 = 0;   /* EPERM: a seccomp filter that does not know openat2 */
    }
    return open_beneath_walk(dirfd, relpath, flags, mode);
}

int fh_open_regular_beneath(int dirfd, const char *relpath, int flags, mode_t mode)
{
    char proc[64];
    struct stat st;
    int path_fd, fd;

    if ((flags & O_CREAT) && (fd = fh_open_beneath(dirfd, relpath, flags | O_CREAT | O_EXCL, mode)) >= 0) return fd;
    if ((flags & O_CREAT) && errno != EEXIST) return -1;
    /* O_PATH opens nothing: no device's open() runs before we know what it is */
    if ((path_fd = fh_open_beneath(dirfd, relpath, O_PATH, 0)) < 0) return -1;
    if (fstat(path_fd, &st)) { int e = errno; close(path_fd); errno = e; return -1; }
    if (!S_ISREG(st.st_mode)) { close(path_fd); errno = S_ISLNK(st.st_mode) ? ELOOP : ENXIO; return -1; }
    /* then that very inode, through its /proc magic link */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
    fd = open(proc, (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
    {
        /* no /proc: by name again, and it must still be that file */
        struct stat again;
        fd = fh_open_beneath(dirfd, relpath, (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NONBLOCK | O_NOCTTY, 0);
        if (fd >= 0 && (fstat(fd, &again) || again.st_ino != st.st_ino || again.st_dev != st.st_dev))
        {
            close(fd);
            fd = -1;
            errno = ENXIO;
        }
    }
    { int e = errno; close(path_fd); errno = e; }
    if (fd >= 0 && (flags & O_TRUNC) && ftruncate(fd, 0)) { int e = errno; close(fd); errno = e; return -1; }
    return fd;
}

int fh_mkdirs_beneath(int dirfd, const char *relpath, mode_t mode)
{
    const char *slash;
    int parent, fd;

    if (!relpath_ok(relpath)) { errno = EINVAL; return -1; }
    /* the common case: it exists already */
    if ((fd = fh_open_beneath(dirfd, relpath, O_RDONLY | O_DIRECTORY, 0)) >= 0 || errno != ENOENT) return fd;
    /* else make what is missing, from the deepest existing directory down:
     * a new leaf costs one mkdirat, not one per component */
    if ((slash = strrchr(relpath, '/')))
    {
        char *dir = strndup(relpath, slash - relpath);
        if (!dir) return -1;
        parent = fh_mkdirs_beneath(dirfd, dir, mode);
        free(dir);
        if (parent < 0) return -1;
    }
    else parent = dirfd;
    /* mkdirat never follows a symlink of that name (EEXIST); the open refuses it */
    if (mkdirat(parent, slash ? slash + 1 : relpath, mode) && errno != EEXIST) fd = -1;
    else fd = open_beneath_walk(parent, slash ? slash + 1 : relpath, O_RDONLY | O_DIRECTORY, 0);
    if (parent != dirfd) { int e = errno; close(parent); errno = e; }
    return fd;
}

int fh_unlink_beneath(int dirfd, const char *relpath)
{
    const char *slash = relpath ? strrchr(relpath, '/') : NULL;
    int parent = dirfd, ret;

    if (!relpath_ok(relpath)) { errno = EINVAL; return -1; }
    if (slash)
    {
        char *dir = strndup(relpath, slash - relpath);
        if (!dir) return -1;
        parent = fh_open_beneath(dirfd, dir, O_PATH | O_DIRECTORY, 0);
        free(dir);
        if (parent < 0) return -1;
    }
    /* unlinkat removes a symlink itself, never what it points to */
    ret = unlinkat(parent, slash ? slash + 1 : relpath, 0);
    if (parent != dirfd) { int e = errno; close(parent); errno = e; }
    return ret;
}

int fh_random_hex(char *out, size_t bytes)
{
    unsigned char raw[32];
    size_t got = 0;
    if (bytes > sizeof(raw)) { errno = EINVAL; return -1; }
    while (got < bytes)
    {
        ssize_t n = getrandom(raw + got, bytes - got, 0);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        got += (size_t)n;
    }
    for (size_t i = 0; i < bytes; i++) sprintf(out + 2 * i, "%02x", raw[i]);
    return 0;
}

int fh_write_beneath_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
    char tmp[300], rnd[17];
    int fd = -1, err;

    if (!name || strchr(name, '/') || !relpath_ok(name) || strlen(name) > 200) { errno = EINVAL; return -1; }
    for (int attempt = 0; attempt < 8 && fd < 0; attempt++)
    {
        if (fh_random_hex(rnd, 8)) return -1;
        snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, rnd);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST) return -1;
    }
    if (fd < 0) return -1;
    if (fh_write_all(fd, data, len) || fsync(fd))
    {
        err = errno; close(fd); unlinkat(dirfd, tmp, 0); errno = err;
        return -1;
    }
    close(fd);
    if (renameat(dirfd, tmp, dirfd, name)) { err = errno; unlinkat(dirfd, tmp, 0); errno = err; return -1; }
    /* the rename itself must survive a power loss too */
    fsync(dirfd);
    return 0;
}

int fh_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int dirfd, ret, err;

    if (!slash) dir = strdup(".");
    else if (slash == path) dir = strdup("/");
    else dir = strndup(path, slash - path);
    if (!dir) return -1;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dirfd < 0) return -1;
    ret = fh_write_beneath_atomic(dirfd, slash ? slash + 1 : path, data, len, mode);
    err = errno;
    close(dirfd);
    errno = err;
    return ret;
}

int fh_mkdir_p(const char *path, mode_t mode)
{
    char *copy = strdup(path), *p;
    struct stat st;

    if (!copy) return -1;
    for (p = copy + 1; ; p++)
    {
        if (*p == '/' || !*p)
        {
            char saved = *p;
            *p = 0;
            if (mkdir(copy, mode) && errno != EEXIST) { int e = errno; free(copy); errno = e; return -1; }
            *p = saved;
            if (!saved) break;
        }
    }
    free(copy);
    if (stat(path, &st)) return -1;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
    return 0;
}

/* Is state (FH_STATE_RUNNING stripped) one of the states this engine
 * saves?  Anything else in State is not ours to show. */
static int state_is_known(unsigned int state)
{
    switch (state)
    {
    case FH_STATE_NOT_TRACKED:
    case FH_STATE_OFF:
    case FH_STATE_DISABLED_BY_GP:
    case FH_STATE_FATAL_CONFIG_ERROR:
    case FH_STATE_MIGRATING:
    case FH_STATE_TARGET_FS_LIMITATION:
    case FH_STATE_TARGET_ACCESS_DENIED:
    case FH_STATE_TARGET_FULL:
    case FH_STATE_TARGET_ABSENT:
    case FH_STATE_NO_ERROR:
        return 1;
    }
    return 0;
}

int fh_state_load(const char *config_dir, struct fh_state *st)
{
    char buf[96], *p, *end;
    unsigned long state;
    long long until, not_backed_up = 0;
    ssize_t got;
    int dir_fd, fd, e;

    st->state = FH_STATE_NO_ERROR;
    st->protected_until = 0;
    st->not_backed_up = 0;
    if ((dir_fd = open(config_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return errno == ENOENT ? 0 : -1;
    /* State is in a folder anything running as the user can write to: a
     * FIFO or a device there is not opened at all (fh_open_regular_beneath
     * looks at the inode through O_PATH first; O_NONBLOCK in case it
     * changes in between), a symlink not followed, a huge file not read
     * whole; each is "no state", as a missing file is */
    fd = fh_open_regular_beneath(dir_fd, "State", O_RDONLY | O_NONBLOCK, 0);
    e = errno;
    close(dir_fd);
    if (fd < 0) return e == ENOENT || e == ENXIO || e == ELOOP ? 0 : (errno = e, -1);
    got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0) return got < 0 ? -1 : 0;
    buf[got] = 0;
    /* "%x %lld %lld\n" as fh_state_save writes it; any other text is no state */
    errno = 0;
    state = strtoul(buf, &end, 16);
    if (end == buf || *end != ' ' || errno) return 0;
    until = strtoll(p = end + 1, &end, 10);
    if (end == p || errno || until < 0 || (*end && *end != ' ' && *end != '\n')) return 0;
    if (*end == ' ')
    {
        not_backed_up = strtoll(p = end + 1, &end, 10);
        if (end == p || errno || not_backed_up < 0 || (*end && *end != '\n')) not_backed_up = 0;
    }
    if (state > UINT32_MAX || !state_is_known(state & ~FH_STATE_RUNNING)) return 0;
    st->state = state & ~FH_STATE_RUNNING;
    st->protected_until = (time_t)until;
    st->not_backed_up = not_backed_up;
    return 0;
}

int fh_state_save(const char *config_dir, const struct fh_state *st)
{
    char buf[96], *path;
    int ret;

    if (fh_mkdir_p(config_dir, 0700)) return -1;
    if (!(path = fh_join(config_dir, "State"))) return -1;
    snprintf(buf, sizeof(buf), "%x %lld %lld\n", st->state, (long long)st->protected_until,
             (long long)st->not_backed_up);
    ret = fh_write_file_atomic(path, buf, strlen(buf), 0600);
    free(path);
    return ret;
}

void fh_log(int fd, const char *fmt, ...)
{
    char line[1200], when[32];
    struct timespec now;
    va_list ap;
    int n;

    if (fd < 0) return;
    clock_gettime(CLOCK_REALTIME, &now);
    fh_format_iso(now.tv_sec, when, sizeof(when));
    n = snprintf(line, sizeof(line), "%s filehistory[%ld]: ", when, (long)getpid());
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2) n = sizeof(line) - 2;
    /* file names come from anywhere: no escape sequence reaches a terminal or the log */
    for (int i = 0; i < n; i++) if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) line[i] = '?';
    line[n++] = '\n';
    fh_write_all(fd, line, n);
}
