/*
 * File helpers shared by the engine and the service: atomic whole-file
 * writes, mkdir -p, and the per-user protection state file.
 *
 * The state file ($XDG_CONFIG_HOME/filehistory/State) lives next to the
 * configuration rather than on the target because the most interesting
 * states (TARGET_ABSENT, ACCESS_DENIED) are exactly those where the target
 * cannot be written.  Content: "<state hex> <protected-until epoch>\n".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fh.h"

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

int fh_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char *tmp, *dir, *slash;
    int fd, err;
    size_t n = strlen(path) + 32;

    if (!(tmp = malloc(n))) return -1;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) { err = errno; free(tmp); errno = err; return -1; }
    if (fh_write_all(fd, data, len) || fsync(fd))
    {
        err = errno; close(fd); unlink(tmp); free(tmp); errno = err;
        return -1;
    }
    close(fd);
    if (rename(tmp, path)) { err = errno; unlink(tmp); free(tmp); errno = err; return -1; }
    free(tmp);
    /* the rename itself must survive a power loss too */
    if ((dir = strdup(path)))
    {
        if ((slash = strrchr(dir, '/'))) { if (slash == dir) slash[1] = 0; else *slash = 0; fh_fsync_dir(dir); }
        free(dir);
    }
    return 0;
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

int fh_state_load(const char *config_dir, struct fh_state *st)
{
    char *path = fh_join(config_dir, "State");
    FILE *f;
    unsigned int state;
    long long until;

    st->state = FH_STATE_NO_ERROR;
    st->protected_until = 0;
    if (!path) return -1;
    f = fopen(path, "re");
    free(path);
    if (!f) return errno == ENOENT ? 0 : -1;
    if (fscanf(f, "%x %lld", &state, &until) == 2 && until >= 0)
    {
        st->state = state & ~FH_STATE_RUNNING;
        st->protected_until = (time_t)until;
    }
    fclose(f);
    return 0;
}

int fh_state_save(const char *config_dir, const struct fh_state *st)
{
    char buf[64], *path;
    int ret;

    if (fh_mkdir_p(config_dir, 0700)) return -1;
    if (!(path = fh_join(config_dir, "State"))) return -1;
    snprintf(buf, sizeof(buf), "%x %lld\n", st->state, (long long)st->protected_until);
    ret = fh_write_file_atomic(path, buf, strlen(buf), 0600);
    free(path);
    return ret;
}
