/*
 * A File History target, opened as a tree of directory fds.
 *
 * The configured directory (TargetUrl) is the user's choice and is opened
 * as given.  Everything below it is input: the disk may have been written
 * by another machine or may be a share other people write to.  So
 * FileHistory/<user>/<pc>, Configuration/, Data/ and Staging/ are opened
 * with fh_open_beneath (no symbolic link is followed, nothing leads out),
 * and every later operation of a cycle, cleanup or restore starts from one
 * of these fds.
 *
 * Identity.  A configured target carries Configuration/TargetId, 32 random
 * hex characters written when the target is provisioned (`filehistory
 * config target`, fh_target_provision); the configuration keeps the same
 * value (<TargetId>, the role TargetVolumePath plays on Windows).  A cycle
 * opens the target with FH_TARGET_CYCLE and proceeds only when the two
 * match, so an unmounted disk (an empty mount point), another disk or a
 * wiped one is TARGET_ABSENT and gets nothing written.  A configuration
 * from before identities (no <TargetId>) is accepted when the target holds
 * its catalog already.
 *
 * The catalog.  SQLite opens Configuration/Catalog.sqlite and its -wal,
 * -shm and -journal files by path; it opens each with O_NOFOLLOW (measured
 * on Debian's 3.40) but resolves the directories itself.  So before it
 * runs, the directories were reached here without symlinks, and each of
 * those four names is checked from conf_fd: absent, or a regular file with
 * one link (a planted hard link or symlink could make SQLite write into
 * someone's file).  What remains is a swap of a directory on that path
 * between the check and SQLite's open: so every directory from / down to
 * Configuration/ must be one nobody but the user and root can rename things
 * in (fh_dir_check: the target and those above it root's or ours and not
 * writable by others unless sticky, FileHistory/ the same, the user's
 * folders ours and private), checked at each open; an attack pass swapped
 * FileHistory/ of a root-owned 0777 directory with renameat2(RENAME_EXCHANGE)
 * and had a cycle write its catalog into the user's Documents.
 *
 * A reserve.  SQLite needs room to open its WAL, to recover after a killed
 * cycle and to move a version to `pending` before cleanup deletes its file:
 * on a target with not a byte left, even `filehistory cleanup`, the way to
 * make room, would fail.  So Configuration/Reserve holds some space
 * (1% of the file system, between 256 KiB and 4 MiB) while there is some;
 * when a catalog write finds the target full, the reserve is given back and
 * the write tried again; the next cycle that finds room makes it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fh.h"

#define RESERVE_FILE "Reserve"
#define RESERVE_MIN (256ll << 10)
#define RESERVE_MAX (4ll << 20)

static void target_init(struct fh_target *t)
{
    memset(t, 0, sizeof(*t));
    t->target_fd = t->root_fd = t->conf_fd = t->data_fd = t->staging_fd = -1;
}

void fh_target_close(struct fh_target *t)
{
    int *fds[] = { &t->target_fd, &t->root_fd, &t->conf_fd, &t->data_fd, &t->staging_fd };
    for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
    {
        if (*fds[i] >= 0) close(*fds[i]);
        *fds[i] = -1;
    }
    free(t->root);
    free(t->catalog);
    t->root = t->catalog = NULL;
}

/* Who may change what a name in the directory open at fd leads to?  The
 * target is shared: a directory another user may write (without the sticky
 * bit) lets that user swap the folders below it between our check and our
 * use, and SQLite opens the catalog by path.  So:
 *   FH_DIR_ABOVE      the target directory and every directory above it:
 *                     root's or ours, written by nobody else unless sticky
 *                     (we do not change the user's own directories: refused);
 *   FH_DIR_SHARED     FileHistory/: the same, and ours is made so (go-w);
 *   FH_DIR_OURS       <user>, <pc> and what is below: ours, made private (0700).
 * A file system without owners (FAT, exFAT) refuses chmod with EPERM: its
 * mount options decide, nothing here can.  0, or an errno (EACCES: someone
 * else's; ENOTDIR). */
int fh_dir_check(int fd, int kind)
{
    struct stat st;
    uid_t me = geteuid();
    int others_write;

    if (fstat(fd, &st)) return errno;
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
    others_write = (st.st_mode & 022) && !(st.st_mode & S_ISVTX);
    switch (kind)
    {
    case FH_DIR_ABOVE:
        return (st.st_uid == me || st.st_uid == 0) && !others_write ? 0 : EACCES;
    case FH_DIR_SHARED:
        if (st.st_uid != me && st.st_uid != 0) return EACCES;
        if (!others_write) return 0;
        if (st.st_uid != me) return EACCES;
        return fchmod(fd, st.st_mode & 07755) && errno != EPERM ? errno : 0;
    default:
        if (st.st_uid != me) return EACCES;
        return (st.st_mode & 077) && fchmod(fd, 0700) && errno != EPERM ? errno : 0;
    }
}

/* FH_DIR_ABOVE for path and each directory above it, as written and as
 * resolved (a symlink on the way is as safe as the directory holding it,
 * and where it leads is checked as resolved).  0, or an errno with the
 * directory in bad (malloc'ed). */
static int check_above(const char *path, char **bad)
{
    char *paths[2] = { strdup(path), realpath(path, NULL) };
    int err = 0;

    *bad = NULL;
    if (!paths[0]) { free(paths[1]); return ENOMEM; }
    for (int i = 0; i < 2 && !err; i++)
    {
        char *p = paths[i], *slash;
        if (!p) continue;
        for (;;)
        {
            struct stat st;
            int fd;
            if (!lstat(*p ? p : "/", &st) && !S_ISLNK(st.st_mode) &&
                (fd = open(*p ? p : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
            {
                err = fh_dir_check(fd, FH_DIR_ABOVE);
                close(fd);
                if (err) { *bad = strdup(*p ? p : "/"); break; }
            }
            if (!*p || !(slash = strrchr(p, '/'))) break;
            *slash = 0;
        }
    }
    free(paths[0]);
    free(paths[1]);
    return err;
}

/* "FileHistory/<user>/<pc>" */
static char *root_relpath(const struct fh_config *cfg)
{
    size_t len = strlen(cfg->user_name) + strlen(cfg->pc_name) + 16;
    char *out = malloc(len);
    if (out) snprintf(out, len, "FileHistory/%s/%s", cfg->user_name, cfg->pc_name);
    return out;
}

static uint32_t problem(uint32_t state, char *msg, size_t msgsize, const char *fmt, const char *a, const char *b)
{
    snprintf(msg, msgsize, fmt, a, b);
    return state;
}

/* Read Configuration/TargetId: 1 with id filled, 0 when absent, -1/errno. */
static int read_target_id(int conf_fd, char id[FH_TARGET_ID_LEN + 1])
{
    char buf[FH_TARGET_ID_LEN + 2];
    struct stat st;
    ssize_t n;
    int fd = fh_open_regular_beneath(conf_fd, FH_TARGET_ID_FILE, O_RDONLY, 0);

    if (fd < 0) { if (errno == ENXIO) errno = EINVAL; return errno == ENOENT ? 0 : -1; }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return -1; }
    n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n < FH_TARGET_ID_LEN || (n > FH_TARGET_ID_LEN && buf[FH_TARGET_ID_LEN] != '\n') || n > FH_TARGET_ID_LEN + 1)
    {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < FH_TARGET_ID_LEN; i++)
        if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f'))) { errno = EINVAL; return -1; }
    memcpy(id, buf, FH_TARGET_ID_LEN);
    id[FH_TARGET_ID_LEN] = 0;
    return 1;
}

/* The catalog's files are ours to write: absent, or a plain file with one link. */
static int catalog_files_ok(int conf_fd, const char **bad)
{
    static const char *const names[] =
        { "Catalog.sqlite", "Catalog.sqlite-wal", "Catalog.sqlite-shm", "Catalog.sqlite-journal" };
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
    {
        struct stat st;
        if (fstatat(conf_fd, names[i], &st, AT_SYMLINK_NOFOLLOW))
        {
            if (errno == ENOENT) continue;
            *bad = names[i];
            return -1;
        }
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1) { *bad = names[i]; errno = ELOOP; return -1; }
    }
    return 0;
}

/* Open (making it for a cycle) a directory of the root; a symlink or a
 * file in its place is refused, except for Staging/, our scratch space,
 * whose impostor is removed (unlinkat: the link itself, never its target). */
static int open_subdir(struct fh_target *t, const char *name, int create)
{
    int fd = create ? fh_mkdirs_beneath(t->root_fd, name, 0700)
                    : fh_open_beneath(t->root_fd, name, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0 && create && !strcmp(name, "Staging") && (errno == ELOOP || errno == ENOTDIR))
    {
        if (!unlinkat(t->root_fd, name, 0)) fd = fh_mkdirs_beneath(t->root_fd, name, 0700);
        else errno = ELOOP;
    }
    if (fd >= 0 && (errno = fh_dir_check(fd, FH_DIR_OURS)))
    {
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
    return fd;
}

/* The rules of fh_dir_check from the target directory down to
 * Configuration/: 0, or an errno with the directory at fault in bad. */
static int check_namespace(const struct fh_target *t, const struct fh_config *cfg, char **bad)
{
    int fh_fd, user_fd, err;

    if ((err = check_above(cfg->target_url, bad))) return err;
    if ((fh_fd = fh_open_beneath(t->target_fd, "FileHistory", O_RDONLY | O_DIRECTORY, 0)) < 0)
        return *bad = fh_join(cfg->target_url, "FileHistory"), errno;
    if ((err = fh_dir_check(fh_fd, FH_DIR_SHARED)))
    {
        close(fh_fd);
        *bad = fh_join(cfg->target_url, "FileHistory");
        return err;
    }
    user_fd = fh_open_beneath(fh_fd, cfg->user_name, O_RDONLY | O_DIRECTORY, 0);
    close(fh_fd);
    if (user_fd < 0) return *bad = fh_join(cfg->target_url, "FileHistory"), errno;
    err = fh_dir_check(user_fd, FH_DIR_OURS);
    close(user_fd);
    if (err)
    {
        if (asprintf(bad, "%s/FileHistory/%s", cfg->target_url, cfg->user_name) < 0) *bad = NULL;
        return err;
    }
    if ((err = fh_dir_check(t->root_fd, FH_DIR_OURS))) return *bad = strdup(t->root), err;
    if ((err = fh_dir_check(t->conf_fd, FH_DIR_OURS))) return *bad = fh_join(t->root, "Configuration"), err;
    return 0;
}

uint32_t fh_target_open(const struct fh_config *cfg, unsigned int flags, struct fh_target *t, char *msg, size_t msgsize)
{
    char *rel = NULL, id[FH_TARGET_ID_LEN + 1];
    const char *bad;
    uint32_t state = FH_STATE_NO_ERROR;
    int have_id, err;

    target_init(t);
    if (!cfg->target_url) return problem(FH_STATE_NOT_TRACKED, msg, msgsize, "no target configured%s%s", "", "");
    if ((t->target_fd = open(cfg->target_url, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        err = errno;
        state = problem(fh_state_from_errno(err), msg, msgsize, "target %s: %s", cfg->target_url, strerror(err));
        goto out;
    }
    if (!(rel = root_relpath(cfg)) || !(t->root = fh_join(strcmp(cfg->target_url, "/") ? cfg->target_url : "", rel)) ||
        !(t->catalog = fh_join(t->root, "Configuration/Catalog.sqlite")))
    {
        state = FH_TARGET_NO_MEMORY;
        errno = ENOMEM;
        snprintf(msg, msgsize, "out of memory");
        goto out;
    }
    if ((t->root_fd = fh_open_beneath(t->target_fd, rel, O_RDONLY | O_DIRECTORY, 0)) < 0 ||
        (t->conf_fd = fh_open_beneath(t->root_fd, "Configuration", O_RDONLY | O_DIRECTORY, 0)) < 0)
    {
        err = errno;
        if (err == ENOENT)
            state = problem(FH_STATE_TARGET_ABSENT, msg, msgsize,
                         "%s holds no File History of this user and computer (%s): not mounted, or another disk?",
                         cfg->target_url, rel);
        else if (err == ELOOP || err == ENOTDIR)
            state = problem(FH_STATE_TARGET_ACCESS_DENIED, msg, msgsize,
                         "%s: a symbolic link or a file stands in the File History folders (%s): not followed",
                         cfg->target_url, rel);
        else state = problem(fh_state_from_errno(err), msg, msgsize, "%s: %s", t->root, strerror(err));
        goto out;
    }
    {
        char *where = NULL;
        if ((err = check_namespace(t, cfg, &where)))
        {
            if (err == EACCES)
                state = problem(FH_STATE_TARGET_ACCESS_DENIED, msg, msgsize,
                             "%s: belongs to another user, or others may rename what is in it: not used "
                             "(see filehistory(1), TARGET)%s", where ? where : cfg->target_url, "");
            else if (err == ENOMEM) { state = FH_TARGET_NO_MEMORY; snprintf(msg, msgsize, "out of memory"); }
            else state = problem(fh_state_from_errno(err), msg, msgsize, "%s: %s", where ? where : t->root, strerror(err));
            free(where);
            errno = err;
            goto out;
        }
    }
    if (flags & FH_TARGET_CYCLE)
    {
        if ((have_id = read_target_id(t->conf_fd, id)) < 0)
        {
            err = errno;
            state = problem(err == EINVAL || err == ELOOP ? FH_STATE_TARGET_ABSENT : fh_state_from_errno(err), msg, msgsize,
                         "%s: the target identity (Configuration/" FH_TARGET_ID_FILE ") cannot be read: %s",
                         t->root, strerror(err));
            goto out;
        }
        if (cfg->target_id ? !have_id || strcmp(id, cfg->target_id)
                           : faccessat(t->conf_fd, "Catalog.sqlite", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
        {
            state = problem(FH_STATE_TARGET_ABSENT, msg, msgsize,
                         "%s is not the configured target (another or an unmounted disk); if it is the right one, "
                         "run `filehistory config target %s` again", cfg->target_url, cfg->target_url);
            goto out;
        }
        if ((t->data_fd = open_subdir(t, "Data", 1)) < 0 || (t->staging_fd = open_subdir(t, "Staging", 1)) < 0)
        {
            err = errno;
            if (err == ELOOP || err == ENOTDIR)
                state = problem(FH_STATE_TARGET_ACCESS_DENIED, msg, msgsize,
                             "%s: %s is a symbolic link or a file: not followed", t->root, t->data_fd < 0 ? "Data" : "Staging");
            else state = problem(fh_state_from_errno(err), msg, msgsize, "cannot create the folders in %s: %s",
                              t->root, strerror(err));
            goto out;
        }
    }
    if (catalog_files_ok(t->conf_fd, &bad))
    {
        err = errno;
        if (err == ELOOP)
            state = problem(FH_STATE_TARGET_ACCESS_DENIED, msg, msgsize,
                         "%s/Configuration/%s is a symbolic link or a shared file: not used", t->root, bad);
        else state = problem(fh_state_from_errno(err), msg, msgsize, "%s/Configuration: %s", t->root, strerror(err));
        goto out;
    }
    free(rel);
    return FH_STATE_NO_ERROR;
out:
    free(rel);
    err = errno;
    fh_target_close(t);
    errno = err;
    return state;
}

int fh_target_provision(struct fh_config *cfg, char *msg, size_t msgsize)
{
    char *rel = NULL, id[FH_TARGET_ID_LEN + 2], *dup;
    int target_fd = -1, conf_fd = -1, have, ret = -1;

    if (!cfg->target_url) { snprintf(msg, msgsize, "no target configured"); return -1; }
    if ((target_fd = open(cfg->target_url, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        int e = errno;
        snprintf(msg, msgsize, "%s: %s", cfg->target_url, strerror(e));
        errno = e;
        return -1;
    }
    if (!(rel = root_relpath(cfg)) || !(dup = realloc(rel, strlen(rel) + 16)))
    {
        snprintf(msg, msgsize, "out of memory");
        goto out;
    }
    rel = dup;
    strcat(rel, "/Configuration");
    if ((conf_fd = fh_mkdirs_beneath(target_fd, rel, 0700)) < 0)
    {
        snprintf(msg, msgsize, "cannot create %s/%s: %s", cfg->target_url, rel, strerror(errno));
        goto out;
    }
    {
        /* the rules of a cycle's fh_target_open, before anything is written */
        struct fh_target probe;
        char *where = NULL;
        int err;
        target_init(&probe);
        probe.target_fd = target_fd;
        probe.conf_fd = conf_fd;
        rel[strlen(rel) - strlen("/Configuration")] = 0;
        probe.root = fh_join(cfg->target_url, rel);
        probe.root_fd = fh_open_beneath(target_fd, rel, O_RDONLY | O_DIRECTORY, 0);
        strcat(rel, "/Configuration");
        err = !probe.root ? ENOMEM : probe.root_fd < 0 ? errno : check_namespace(&probe, cfg, &where);
        if (probe.root_fd >= 0) close(probe.root_fd);
        free(probe.root);
        if (err)
        {
            snprintf(msg, msgsize, "%s: %s", where ? where : cfg->target_url,
                     err == EACCES ? "belongs to another user, or others may rename what is in it: not used"
                                   : strerror(err));
            free(where);
            errno = err;
            goto out;
        }
    }
    /* an existing identity is kept: the disk was ours before (reassociation) */
    if ((have = read_target_id(conf_fd, id)) < 0 && errno != EINVAL)
    {
        snprintf(msg, msgsize, "%s/%s/" FH_TARGET_ID_FILE ": %s", cfg->target_url, rel, strerror(errno));
        goto out;
    }
    if (have <= 0)
    {
        if (fh_random_hex(id, FH_TARGET_ID_LEN / 2)) { snprintf(msg, msgsize, "no random numbers: %s", strerror(errno)); goto out; }
        strcat(id, "\n");
        if (fh_write_beneath_atomic(conf_fd, FH_TARGET_ID_FILE, id, FH_TARGET_ID_LEN + 1, 0600))
        {
            snprintf(msg, msgsize, "cannot write %s/%s/" FH_TARGET_ID_FILE ": %s", cfg->target_url, rel, strerror(errno));
            goto out;
        }
        id[FH_TARGET_ID_LEN] = 0;
    }
    if (!(dup = strdup(id))) { snprintf(msg, msgsize, "out of memory"); goto out; }
    free(cfg->target_id);
    cfg->target_id = dup;
    ret = 0;
out:
    {
        int e = errno;
        free(rel);
        if (conf_fd >= 0) close(conf_fd);
        close(target_fd);
        errno = e;
    }
    return ret;
}

/* Does Config<slot>.xml of conf_fd hold exactly xml?  A symlink, FIFO or
 * device in its place holds nothing of ours: that slot is rewritten (the
 * rename replaces it) and never opened for reading. */
static int slot_holds(int conf_fd, int slot, const char *xml)
{
    size_t len = strlen(xml);
    char name[24], *text;
    struct stat st;
    ssize_t got;
    int fd, same;

    snprintf(name, sizeof(name), "Config%d.xml", slot);
    if ((fd = fh_open_regular_beneath(conf_fd, name, O_RDONLY, 0)) < 0) return 0;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size != len) { close(fd); return 0; }
    if (!(text = malloc(len + 1))) { close(fd); return 0; }
    got = read(fd, text, len + 1);
    close(fd);
    same = got == (ssize_t)len && !memcmp(text, xml, len);
    free(text);
    return same;
}

/* Windows keeps Config1.xml and Config2.xml the same file, and programs
 * written for Windows read Config1.xml only: both copies hold the user's
 * document, each rewritten only where its bytes differ. */
int fh_target_mirror_config(const struct fh_target *t, const struct fh_config *cfg)
{
    struct fh_config copy = *cfg;
    char name[24], *xml;
    int ret = 0;

    /* a configuration not saved since it was read in the old dialect has no
     * drive type yet; the target is reachable now, being written to */
    if (copy.target_url && copy.target_drive_type == FH_DRIVE_UNKNOWN)
        copy.target_drive_type = fh_target_drive_type(copy.target_url);
    /* NULL for a value XML cannot carry, or for want of memory (realloc's ENOMEM) */
    errno = 0;
    if (!(xml = fh_config_to_xml(&copy))) { if (errno != ENOMEM) errno = EINVAL; return -1; }
    for (int slot = 1; slot <= 2 && !ret; slot++)
    {
        if (slot_holds(t->conf_fd, slot, xml)) continue;
        snprintf(name, sizeof(name), "Config%d.xml", slot);
        ret = fh_write_beneath_atomic(t->conf_fd, name, xml, strlen(xml), 0600);
    }
    free(xml);
    return ret;
}

int fh_target_keep_reserve(const struct fh_target *t)
{
    struct statvfs vfs;
    struct stat st;
    long long want;
    int fd, ret = 0;

    if (fstatvfs(t->conf_fd, &vfs)) return -1;
    want = (long long)vfs.f_blocks * (long long)vfs.f_frsize / 100;
    if (want < RESERVE_MIN) want = RESERVE_MIN;
    if (want > RESERVE_MAX) want = RESERVE_MAX;
    if ((fd = fh_open_regular_beneath(t->conf_fd, RESERVE_FILE, O_RDWR | O_CREAT, 0600)) < 0) return -1;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return -1; }
    if ((long long)st.st_blocks * 512 < want)
    {
        if (posix_fallocate(fd, 0, want))
        {
            /* no fallocate here (FAT...): zeros, as far as they go */
            static const char zeros[65536];
            long long done = 0;
            while (done < want && pwrite(fd, zeros, sizeof(zeros), done) == (ssize_t)sizeof(zeros)) done += sizeof(zeros);
            ret = done >= want ? 0 : -1;
        }
        if (!ret) fsync(fd);
    }
    close(fd);
    return ret;
}

int fh_target_release_reserve(const struct fh_target *t)
{
    struct stat st;
    if (fstatat(t->conf_fd, RESERVE_FILE, &st, AT_SYMLINK_NOFOLLOW) || !st.st_blocks) return 0;
    if (unlinkat(t->conf_fd, RESERVE_FILE, 0)) return 0;
    return 1;
}
