/*
 * The progress of a running cycle, as restic and borg show it: files and
 * bytes done out of what the scan found, the rate, an estimate of the time
 * left, and the file being examined.
 *
 * One writer per field (the walk: done counters and the current file; the
 * scan thread: the totals; the flusher: versions), any number of readers,
 * possibly in another process (the service shares the structure with its
 * cycle's process through a MAP_SHARED mapping).  So every counter is one
 * aligned 64-bit value written and read atomically, and the current file,
 * too big for that, is guarded by a sequence counter: the writer makes it
 * odd, copies, makes it even; a reader retries while it is odd or changed.
 *
 * The rate is bytes examined per second since the start (unchanged files
 * count as examined), the estimate the bytes the scan found still to be
 * examined at that rate.  Neither exists until the scan is done.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fh.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fh_progress_add(int64_t *counter, int64_t n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

void fh_progress_set(int64_t *counter, int64_t v)
{
    __atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

void fh_progress_start(struct fh_progress *p)
{
    fh_progress_set(&p->files_total, -1);
    fh_progress_set(&p->bytes_total, -1);
    fh_progress_set(&p->files_done, 0);
    fh_progress_set(&p->bytes_done, 0);
    fh_progress_set(&p->versions, 0);
    fh_progress_set(&p->bytes_copied, 0);
    fh_progress_set(&p->not_backed_up, 0);
    fh_progress_set_current(p, "");
    fh_progress_set(&p->started_ms, now_ms());
}

void fh_progress_set_current(struct fh_progress *p, const char *path)
{
    uint32_t seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&p->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    /* byte by byte through the atomics: a reader may copy it meanwhile */
    size_t n = strlen(path);
    if (n >= sizeof(p->current)) n = sizeof(p->current) - 1;
    for (size_t i = 0; i < n; i++) __atomic_store_n(&p->current[i], path[i], __ATOMIC_RELAXED);
    __atomic_store_n(&p->current[n], 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&p->seq, seq + 2, __ATOMIC_RELAXED);
}

void fh_progress_read(const struct fh_progress *p, struct fh_progress_view *v)
{
    int64_t started = __atomic_load_n(&p->started_ms, __ATOMIC_RELAXED);

    memset(v, 0, sizeof(*v));
    v->files_total = __atomic_load_n(&p->files_total, __ATOMIC_RELAXED);
    v->bytes_total = __atomic_load_n(&p->bytes_total, __ATOMIC_RELAXED);
    v->files_done = __atomic_load_n(&p->files_done, __ATOMIC_RELAXED);
    v->bytes_done = __atomic_load_n(&p->bytes_done, __ATOMIC_RELAXED);
    v->versions = __atomic_load_n(&p->versions, __ATOMIC_RELAXED);
    v->bytes_copied = __atomic_load_n(&p->bytes_copied, __ATOMIC_RELAXED);
    v->not_backed_up = __atomic_load_n(&p->not_backed_up, __ATOMIC_RELAXED);
    v->elapsed_ms = started ? now_ms() - started : 0;
    if (v->elapsed_ms < 0) v->elapsed_ms = 0;
    for (int tries = 0; tries < 100; tries++)
    {
        uint32_t before = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE), after;
        if (before & 1) continue;
        for (size_t i = 0; i < sizeof(v->current); i++)
            v->current[i] = __atomic_load_n(&p->current[i], __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        after = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
        if (before == after) break;
        v->current[0] = 0;
    }
    v->current[sizeof(v->current) - 1] = 0;
    v->rate = v->elapsed_ms > 0 ? (double)v->bytes_done * 1000.0 / (double)v->elapsed_ms : 0;
    v->eta_seconds = -1;
    if (v->bytes_total >= 0 && v->rate > 0)
    {
        int64_t left = v->bytes_total - v->bytes_done;
        v->eta_seconds = left > 0 ? (int64_t)((double)left / v->rate + 0.5) : 0;
    }
}

void fh_format_bytes(double bytes, char *buf, size_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    while (bytes >= 1024 && u < 5) { bytes /= 1024; u++; }
    if (!u) snprintf(buf, size, "%.0f B", bytes);
    else snprintf(buf, size, "%.1f %s", bytes, units[u]);
}

void fh_progress_format(const struct fh_progress_view *v, int width, char *buf, size_t size)
{
    char done[32], total[32], rate[32], eta[32], files_total[32];
    size_t len, avail, cur;

    fh_format_bytes((double)v->bytes_done, done, sizeof(done));
    if (v->bytes_total >= 0) fh_format_bytes((double)v->bytes_total, total, sizeof(total));
    else snprintf(total, sizeof(total), "?");
    if (v->files_total >= 0) snprintf(files_total, sizeof(files_total), "%lld", (long long)v->files_total);
    else snprintf(files_total, sizeof(files_total), "?");
    fh_format_bytes(v->rate, rate, sizeof(rate));
    if (v->eta_seconds >= 0)
        snprintf(eta, sizeof(eta), "%lld:%02lld:%02lld", (long long)(v->eta_seconds / 3600),
                 (long long)(v->eta_seconds / 60 % 60), (long long)(v->eta_seconds % 60));
    else snprintf(eta, sizeof(eta), "?");
    snprintf(buf, size, "%lld/%s files, %s/%s, %s/s, ETA %s, ", (long long)v->files_done, files_total, done, total,
             rate, eta);
    len = strlen(buf);
    /* the current file fills the rest of the line; its end says the most */
    if (width < 40) width = 40;
    avail = (size_t)width > len + 1 ? (size_t)width - len - 1 : 0;
    if (avail + len + 1 > size) avail = size > len + 1 ? size - len - 1 : 0;
    cur = strlen(v->current);
    if (cur <= avail) snprintf(buf + len, size - len, "%s", v->current);
    else if (avail > 3) snprintf(buf + len, size - len, "...%s", v->current + cur - (avail - 3));
    /* a file name is no terminal command: control characters shown as '?' */
    for (char *p = buf + len; *p; p++) if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}
