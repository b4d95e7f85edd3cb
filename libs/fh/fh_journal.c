/*
 * The change journal: what the NTFS USN journal is to Windows' File History,
 * inotify is here.  One watch per directory below the protected folders;
 * every event names a path that goes into a set of changed paths, so a cycle
 * visits only those (its cost grows with the number of changes, not the
 * size of the tree).
 *
 * The journal cannot be trusted, and the next cycle must scan everything,
 * when:
 *   - it was just created (the service started: changes made while no one
 *     was watching are unknown);
 *   - the kernel dropped events (IN_Q_OVERFLOW);
 *   - a watch could not be added (max_user_watches): the journal is broken
 *     and every cycle is a full scan until it is rebuilt;
 *   - the set of changed paths grew past FH_JOURNAL_MAX_PATHS (memory cap).
 *
 * Every recorded change carries a sequence number.  A cycle takes a snapshot
 * (paths + the current sequence number, its "mark"); when the cycle
 * succeeds, fh_journal_done(mark) forgets only what happened up to the mark,
 * so changes made while the cycle ran are kept for the next one.
 *
 * A new directory (created or moved in) gets watches for its whole subtree
 * and is itself recorded: the cycle walks it, which catches files created
 * in it before its watch existed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "fh.h"

#define FH_JOURNAL_MAX_PATHS 100000
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_MOVED_TO | \
                    IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct dirty_entry { char *path; unsigned long long seq; };

struct fh_journal
{
    int fd;
    char **wd_paths;                    /* indexed by watch descriptor */
    size_t wd_cap;
    char **excludes; size_t exclude_count;
    char *target;
    struct dirty_entry *set;            /* open addressing, capacity a power of 2 */
    size_t set_cap, set_count;
    unsigned long long seq;
    unsigned long long full_seq;        /* non-zero: a full scan is needed since this seq */
    int broken;
};

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int set_insert(struct fh_journal *j, char *path, unsigned long long seq)
{
    size_t i;
    if ((j->set_count + 1) * 2 > j->set_cap)
    {
        size_t cap = j->set_cap ? j->set_cap * 2 : 256;
        struct dirty_entry *n = calloc(cap, sizeof(*n)), *old = j->set;
        size_t old_cap = j->set_cap;
        if (!n) return -1;
        j->set = n; j->set_cap = cap; j->set_count = 0;
        for (i = 0; i < old_cap; i++) if (old[i].path) set_insert(j, old[i].path, old[i].seq);
        free(old);
    }
    for (i = hash_str(path) & (j->set_cap - 1); j->set[i].path; i = (i + 1) & (j->set_cap - 1))
    {
        if (!strcmp(j->set[i].path, path)) { j->set[i].seq = seq; free(path); return 0; }
    }
    j->set[i].path = path;
    j->set[i].seq = seq;
    j->set_count++;
    return 0;
}

static void set_clear(struct fh_journal *j)
{
    for (size_t i = 0; i < j->set_cap; i++) free(j->set[i].path);
    free(j->set);
    j->set = NULL; j->set_cap = j->set_count = 0;
}

static void need_full(struct fh_journal *j)
{
    j->full_seq = ++j->seq;
    set_clear(j);   /* a full scan covers them all */
}

static void record(struct fh_journal *j, const char *path)
{
    char *dup;
    if (j->set_count >= FH_JOURNAL_MAX_PATHS) { need_full(j); return; }
    /* a path that cannot be recorded is a change the next cycle would miss: scan everything */
    if (!(dup = strdup(path))) { need_full(j); return; }
    if (set_insert(j, dup, ++j->seq)) { free(dup); need_full(j); }
}

static int excluded(struct fh_journal *j, const char *path)
{
    for (size_t i = 0; i < j->exclude_count; i++) if (fh_path_under(path, j->excludes[i])) return 1;
    return j->target && fh_path_under(path, j->target);
}

static void set_wd_path(struct fh_journal *j, int wd, const char *path)
{
    if ((size_t)wd >= j->wd_cap)
    {
        size_t cap = j->wd_cap ? j->wd_cap : 64;
        char **n;
        while (cap <= (size_t)wd) cap *= 2;
        if (!(n = realloc(j->wd_paths, cap * sizeof(*n)))) { j->broken = 1; return; }
        memset(n + j->wd_cap, 0, (cap - j->wd_cap) * sizeof(*n));
        j->wd_paths = n; j->wd_cap = cap;
    }
    free(j->wd_paths[wd]);
    if (!(j->wd_paths[wd] = strdup(path))) j->broken = 1;
}

static void add_tree(struct fh_journal *j, const char *dir)
{
    DIR *d;
    struct dirent *de;
    int wd;

    if (excluded(j, dir)) return;
    if ((wd = inotify_add_watch(j->fd, dir, WATCH_MASK)) < 0)
    {
        /* gone again or not a directory: nothing to watch; anything else loses changes */
        if (errno != ENOENT && errno != ENOTDIR) j->broken = 1;
        return;
    }
    set_wd_path(j, wd, dir);
    if (!(d = opendir(dir))) return;
    while ((de = readdir(d)))
    {
        char *child;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) continue;
        if (!(child = fh_join(strcmp(dir, "/") ? dir : "", de->d_name))) { j->broken = 1; continue; }
        if (de->d_type == DT_UNKNOWN)
        {
            struct stat st;
            if (lstat(child, &st) || !S_ISDIR(st.st_mode)) { free(child); continue; }
        }
        add_tree(j, child);
        free(child);
    }
    closedir(d);
}

struct fh_journal *fh_journal_create(const struct fh_config *cfg)
{
    struct fh_journal *j = calloc(1, sizeof(*j));

    if (!j) return NULL;
    if ((j->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) { free(j); return NULL; }
    for (size_t i = 0; i < cfg->exclude_count; i++)
        if (fh_config_list_add(&j->excludes, &j->exclude_count, cfg->excludes[i])) j->broken = 1;
    if (cfg->target_url && !(j->target = strdup(cfg->target_url))) j->broken = 1;
    need_full(j);   /* whatever happened before we watched is unknown */
    for (size_t i = 0; i < cfg->folder_count; i++) add_tree(j, cfg->folders[i]);
    return j;
}

void fh_journal_free(struct fh_journal *j)
{
    if (!j) return;
    close(j->fd);
    fh_strv_free(j->wd_paths, j->wd_cap);
    fh_strv_free(j->excludes, j->exclude_count);
    free(j->target);
    set_clear(j);
    free(j);
}

int fh_journal_fd(const struct fh_journal *j)
{
    return j->fd;
}

void fh_journal_read(struct fh_journal *j)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    while ((n = read(j->fd, buf, sizeof(buf))) > 0)
    {
        for (char *p = buf; p < buf + n; )
        {
            struct inotify_event *ev = (struct inotify_event *)p;
            const char *dir;
            char *path;

            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) { need_full(j); continue; }
            if (ev->wd < 0 || (size_t)ev->wd >= j->wd_cap || !(dir = j->wd_paths[ev->wd])) continue;
            if (ev->mask & IN_IGNORED) { free(j->wd_paths[ev->wd]); j->wd_paths[ev->wd] = NULL; continue; }
            if (!ev->len || !ev->name[0]) continue;
            if (!(path = fh_join(strcmp(dir, "/") ? dir : "", ev->name))) { need_full(j); continue; }
            if (!excluded(j, path))
            {
                if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) add_tree(j, path);
                if (!(ev->mask & IN_ISDIR) || (ev->mask & (IN_CREATE | IN_MOVED_TO))) record(j, path);
            }
            free(path);
        }
    }
}

int fh_journal_needs_full(const struct fh_journal *j)
{
    return j->broken || j->full_seq != 0;
}

char **fh_journal_snapshot(struct fh_journal *j, size_t *count, unsigned long long *mark)
{
    char **out = calloc(j->set_count + 1, sizeof(*out));
    size_t n = 0;

    *count = 0;
    *mark = j->seq;
    if (!out) return NULL;
    for (size_t i = 0; i < j->set_cap; i++)
    {
        if (!j->set[i].path) continue;
        if (!(out[n] = strdup(j->set[i].path))) { fh_strv_free(out, n); return NULL; }
        n++;
    }
    *count = n;
    return out;
}

void fh_journal_done(struct fh_journal *j, unsigned long long mark, int was_full)
{
    struct dirty_entry *old = j->set;
    size_t old_cap = j->set_cap;

    if (was_full && j->full_seq && j->full_seq <= mark) j->full_seq = 0;
    j->set = NULL; j->set_cap = j->set_count = 0;
    for (size_t i = 0; i < old_cap; i++)
    {
        if (!old[i].path) continue;
        if (old[i].seq <= mark) free(old[i].path);
        else if (set_insert(j, old[i].path, old[i].seq))
        {
            /* no room to keep a later change: scan everything rather than lose it */
            free(old[i].path);
            j->full_seq = j->full_seq ? j->full_seq : ++j->seq;
        }
    }
    free(old);
}
