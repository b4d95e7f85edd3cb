/*
 * `filehistory daemon`: the per-user File History service.
 *
 * One single-threaded poll() loop owns everything: the listening socket of
 * the control protocol (docs/fh-protocol.md), the client connections, the
 * inotify change journal and the schedule.  A backup cycle runs in a forked
 * child so that
 *   - STOP/BLOCK can cancel it at once (SIGKILL; the engine is crash-safe,
 *     the partial copy is discarded by fh_cycle_recover right away);
 *   - a low-priority cycle gets the idle I/O class and nice 19 for itself
 *     only (ioprio_set/setpriority on the child).
 * The child reports "<state> <examined> <added> <not backed up> <error>" on
 * a pipe; the journal's changes up to the cycle's snapshot are forgotten
 * only when it succeeded and backed up every file (a busy or unreadable
 * file stays in the journal for the next cycle).  Its progress is in a
 * page shared with the service (MAP_SHARED), which answers PROGRESS from it.
 *
 * Connections (issue 10: another local user must not lock the owner out):
 * the peer's uid is checked as soon as a connection is accepted, before it
 * takes one of the MAX_CLIENTS slots, and another uid's connection is
 * answered ERR 80070005 and closed at once; a connection that has not said
 * HELLO within FH_HELLO_TIMEOUT_MS is closed; when the slots are full, the
 * owner's new connection takes the slot of the oldest connection that has
 * not said HELLO, else of the one idle longest that holds no BLOCK.
 *
 * Logging: every event and failure goes to stderr, which `daemon --detach`
 * points at the log file (fh_log_path, docs/filehistory.1) and systemd at
 * the journal; `daemon --detach` that cannot start says why on its own
 * stderr too.
 *
 * Schedule: a cycle every DPFrequency seconds after the previous one
 * started; after the service starts the first one is due at
 * max(protected-until + DPFrequency, now + min(DPFrequency, 600 s)) so a
 * login does not start with a burst of I/O.
 *
 * "Turned off" (STOP 1) is stored as DPStatus = FH_STATUS_DISABLED in the
 * configuration, so it survives restarts and is undone by a configuration
 * change (`filehistory config enable` or `config target`).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "fh.h"
#include "fh_hmac.h"

#define MAX_CLIENTS 64
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

struct client
{
    int fd;
    int authed;
    /* the handshake (docs/fh-protocol.md section 2): the nonces of a HELLO
     * answered with a CHALLENGE, waiting for the client's PROOF */
    int challenged;
    char client_nonce[FH_NONCE_CHARS + 1];
    char server_nonce[FH_NONCE_CHARS + 1];
    int blocked;
    long long since_ms;         /* accepted (not authed) or last request (authed), monotonic */
    char buf[FH_PROTO_MAX_LINE + 1];
    size_t len;
    struct fh_cfgsession *cfg;  /* the FhConfigMgr/FhReassociation state of this connection */
};

struct service
{
    int listen_fd;
    int lock_fd;                /* flock'ed for the service's lifetime: one service per endpoint */
    unsigned int port;
    char secret[33];
    char *endpoint;
    char *config_dir;
    struct client clients[MAX_CLIENTS];
    size_t client_count;

    struct fh_config cfg;
    uint32_t cfg_status;        /* FH_S_OK, FHCFG_E_CONFIG_FILE_NOT_FOUND, FHCFG_E_CORRUPT_CONFIG_FILE */
    struct fh_journal *journal;
    struct fh_state state;
    int maintenance, migration;

    pid_t cycle_pid;
    int cycle_pipe;
    unsigned long long cycle_mark;
    int cycle_full;
    time_t cycle_started;
    time_t next_due;            /* 0: nothing scheduled */
    struct fh_progress *progress;   /* shared with the cycle's process */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile sig_atomic_t quit_requested;

static void on_signal(int sig)
{
    (void)sig;
    quit_requested = 1;
}

static int configured(const struct service *s)
{
    return s->cfg_status == FH_S_OK && s->cfg.target_url;
}

static int enabled(const struct service *s)
{
    return configured(s) && s->cfg.dp_status == FH_STATUS_ENABLED;
}

static void stop_cycle(struct service *s);

static void reload(struct service *s)
{
    time_t now = time(NULL), first;
    struct fh_config next;
    uint32_t next_status = fh_config_load(s->config_dir, &next);

    /* File History turned off (or its configuration gone) while a cycle
     * runs: the cycle stops, on the configuration it ran with */
    if (s->cycle_pid && (next_status != FH_S_OK || !next.target_url || next.dp_status != FH_STATUS_ENABLED))
    {
        fh_log(2, "File History turned off: the running cycle is stopped");
        stop_cycle(s);
    }
    fh_config_free(&s->cfg);
    s->cfg = next;
    s->cfg_status = next_status;
    fh_journal_free(s->journal);
    s->journal = NULL;
    fh_state_load(s->config_dir, &s->state);
    s->next_due = 0;
    if (!enabled(s)) return;
    /* watches exist before the first (full) scan, so nothing falls between the two */
    s->journal = fh_journal_create(&s->cfg);
    first = now + (time_t)(s->cfg.frequency < 600 ? s->cfg.frequency : 600);
    s->next_due = s->state.protected_until + (time_t)s->cfg.frequency;
    if (s->next_due < first) s->next_due = first;
}

static int blocked(const struct service *s)
{
    if (s->maintenance || s->migration) return 1;
    for (size_t i = 0; i < s->client_count; i++) if (s->clients[i].blocked) return 1;
    return 0;
}

static void set_lowprio(void)
{
    /* per process: this child only; the service keeps its normal priority */
    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
    setpriority(PRIO_PROCESS, 0, 19);
}

static void start_cycle(struct service *s, int lowprio)
{
    struct fh_cycle_options opt = { 0 };
    int fds[2];
    char **dirty = NULL;
    size_t dirty_count = 0;
    unsigned long long mark = 0;
    pid_t pid;

    if (s->cycle_pid) return;
    if (s->journal) fh_journal_read(s->journal);
    opt.full_scan = !s->journal || fh_journal_needs_full(s->journal);
    if (!opt.full_scan)
    {
        if (!(dirty = fh_journal_snapshot(s->journal, &dirty_count, &mark))) opt.full_scan = 1;
    }
    else if (s->journal)
    {
        /* a full scan covers every recorded path: only the mark is needed */
        char **covered = fh_journal_snapshot(s->journal, &dirty_count, &mark);
        fh_strv_free(covered, dirty_count);
        dirty_count = 0;
    }
    opt.dirty = dirty;
    opt.dirty_count = dirty_count;
    opt.progress_fd = -1;
    opt.log_fd = 2;
    opt.progress = s->progress;
    if (pipe2(fds, O_CLOEXEC)) { fh_log(2, "cannot start a cycle: %s", strerror(errno)); fh_strv_free(dirty, dirty_count); return; }
    if ((pid = fork()) < 0)
    {
        fh_log(2, "cannot start a cycle: %s", strerror(errno));
        close(fds[0]); close(fds[1]);
        fh_strv_free(dirty, dirty_count);
        return;
    }
    if (!pid)
    {
        struct fh_cycle_result res;
        char line[64];
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        close(fds[0]);
        close(s->listen_fd);
        close(s->lock_fd);
        for (size_t i = 0; i < s->client_count; i++) close(s->clients[i].fd);
        if (lowprio) set_lowprio();
        fh_cycle_run(&s->cfg, s->config_dir, &opt, &res);
        if (res.state != FH_STATE_NO_ERROR || res.error)
            fh_log(2, "cycle %lld failed: state 0x%02X%s%s", res.cycle_id, res.state, res.message[0] ? ": " : "",
                   res.message);
        snprintf(line, sizeof(line), "%x %lld %lld %lld %u\n", res.state, res.examined, res.added, res.not_backed_up,
                 res.error);
        fh_write_all(fds[1], line, strlen(line));
        _exit(0);
    }
    fh_log(2, "cycle started (%s%s)", opt.full_scan ? "full scan" : "journal", lowprio ? ", low priority" : "");
    close(fds[1]);
    fh_strv_free(dirty, dirty_count);
    s->cycle_pid = pid;
    s->cycle_pipe = fds[0];
    s->cycle_mark = mark;
    s->cycle_full = opt.full_scan;
    s->cycle_started = time(NULL);
    s->next_due = 0;
}

static void cycle_finished(struct service *s)
{
    char line[128] = "";
    ssize_t n = read(s->cycle_pipe, line, sizeof(line) - 1);
    unsigned int state = 0, error = 0;
    long long examined = 0, added = 0, not_backed_up = 0;
    struct rusage ru;
    int status, fields = 0;

    if (n > 0) line[n] = 0;
    close(s->cycle_pipe);
    memset(&ru, 0, sizeof(ru));
    while (wait4(s->cycle_pid, &status, 0, &ru) < 0 && errno == EINTR) ;
    s->cycle_pid = 0;
    s->cycle_pipe = -1;
    if (n > 0) fields = sscanf(line, "%x %lld %lld %lld %u", &state, &examined, &added, &not_backed_up, &error);
    if (fields == 5)
        fh_log(2, "cycle finished: state 0x%02X, %lld files examined, %lld new versions, %lld not backed up%s, "
               "%ld s, CPU %.2f s user %.2f s system, peak RSS %ld KiB", state, examined, added, not_backed_up,
               error ? ", out of memory" : "", (long)(time(NULL) - s->cycle_started),
               ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
               ru.ru_maxrss);
    else
        fh_log(2, "cycle ended without a result (%s %d)", WIFSIGNALED(status) ? "signal" : "exit status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    /* busy or unreadable files stay in the journal: the next cycle looks at them again */
    if (fields == 5 && state == FH_STATE_NO_ERROR && !not_backed_up && !error && s->journal)
        fh_journal_done(s->journal, s->cycle_mark, s->cycle_full);
    fh_state_load(s->config_dir, &s->state);
    if (enabled(s)) s->next_due = s->cycle_started + (time_t)s->cfg.frequency;
}

/* Cancel a running cycle now and discard its partial version. */
static void stop_cycle(struct service *s)
{
    int status;
    if (!s->cycle_pid) return;
    kill(s->cycle_pid, SIGKILL);
    waitpid(s->cycle_pid, &status, 0);
    fh_log(2, "cycle stopped");
    close(s->cycle_pipe);
    s->cycle_pid = 0;
    s->cycle_pipe = -1;
    if (configured(s)) fh_cycle_recover(&s->cfg, s->config_dir);
    if (enabled(s)) s->next_due = s->cycle_started + (time_t)s->cfg.frequency;
}

static uint32_t current_state(const struct service *s)
{
    uint32_t state;
    struct stat st;

    if (!configured(s)) state = FH_STATE_NOT_TRACKED;
    else if (s->migration) state = FH_STATE_MIGRATING;
    else if (s->cfg.dp_status != FH_STATUS_ENABLED) state = FH_STATE_OFF;
    else if (stat(s->cfg.target_url, &st) && errno == ENOENT) state = FH_STATE_TARGET_ABSENT;
    else state = s->state.state;
    /* QueryProtectionStatus: OFF, NOT_TRACKED, DISABLED_BY_GP and
     * FATAL_CONFIG_ERROR "cannot be ORed with FH_STATE_RUNNING".  No cycle
     * runs in those states here (START refuses them, reload() stops a
     * running cycle first); this keeps the rule if that ever changes. */
    if (state == FH_STATE_OFF || state == FH_STATE_NOT_TRACKED || state == FH_STATE_DISABLED_BY_GP ||
        state == FH_STATE_FATAL_CONFIG_ERROR)
        return state;
    return state | (s->cycle_pid ? FH_STATE_RUNNING : 0);
}

static void reply(struct client *c, uint32_t hr, const char *text)
{
    /* texts are made to fit FH_PROTO_MAX_LINE; a longer one would lose its \n, so it is cut before */
    char line[FH_PROTO_MAX_LINE + 1];
    int n = snprintf(line, sizeof(line) - 1, "OK %08X%s%.*s", hr, text ? " " : "", FH_PROTO_MAX_LINE - 13,
                     text ? text : "");
    if (n < 0) return;
    if (n > (int)sizeof(line) - 2) n = sizeof(line) - 2;
    line[n++] = '\n';
    fh_write_all(c->fd, line, (size_t)n);
}

/* PROGRESS: "<files done> <files total> <bytes done> <bytes total> <versions>
 * <bytes copied> <not backed up> <elapsed ms> <current file>", totals -1
 * while the scan counts, the file percent-encoded and cut (its end kept)
 * to fit the line; "-" for everything when no cycle runs. */
static void reply_progress(struct service *s, struct client *c)
{
    struct fh_progress_view v;
    char text[FH_PROTO_MAX_LINE], cur[FH_PROTO_MAX_LINE];
    size_t len, room, clen = 0, start;

    if (!s->cycle_pid || !s->progress) { reply(c, FH_S_OK, "-"); return; }
    fh_progress_read(s->progress, &v);
    len = (size_t)snprintf(text, sizeof(text), "%lld %lld %lld %lld %lld %lld %lld %lld ", (long long)v.files_done,
                           (long long)v.files_total, (long long)v.bytes_done, (long long)v.bytes_total,
                           (long long)v.versions, (long long)v.bytes_copied, (long long)v.not_backed_up,
                           (long long)v.elapsed_ms);
    /* "OK 00000000 " + text + "\n" within the line limit */
    room = FH_PROTO_MAX_LINE - 13 - len - 1;
    start = strlen(v.current);
    /* from the end: how much of the name fits once encoded */
    while (start > 0)
    {
        unsigned char ch = (unsigned char)v.current[start - 1];
        size_t need = (ch > 0x20 && ch < 0x7f && ch != '%') ? 1 : 3;
        if (clen + need > room) break;
        clen += need;
        start--;
    }
    clen = 0;
    for (size_t i = start; v.current[i]; i++)
    {
        unsigned char ch = (unsigned char)v.current[i];
        if (ch > 0x20 && ch < 0x7f && ch != '%') cur[clen++] = (char)ch;
        else clen += (size_t)sprintf(cur + clen, "%%%02X", ch);
    }
    cur[clen] = 0;
    /* room was computed for it: the copy cannot be cut */
    if (!clen) strcpy(cur, "-");
    memcpy(text + len, cur, strlen(cur) + 1);
    reply(c, FH_S_OK, text);
}

/* The configuration commands (fh_cfgproto.c) see the service through these. */
static uint32_t cfg_protection(void *ctx, time_t *until)
{
    struct service *s = ctx;
    *until = s->state.protected_until;
    return current_state(s);
}

static void cfg_changed(void *ctx)
{
    reload(ctx);
}

static int parse_flag(const char *arg, int *flag)
{
    if (!arg || strlen(arg) != 1 || (arg[0] != '0' && arg[0] != '1')) return -1;
    *flag = arg[0] - '0';
    return 0;
}

/* The handshake, before any request: HELLO <client nonce> 2, answered with
 * CHALLENGE <server nonce> <the service's proof>, then PROOF <the client's
 * proof>.  The secret never crosses the connection, so a process of another
 * user holding the port of a service that died learns nothing from a
 * client, and cannot pass for the service (it cannot make our proof).
 * Returns 0 to keep the connection, -1 to close it. */
static int handshake(struct service *s, struct client *c, const char *line)
{
    char nonce[48], proof[80], mine[2 * FH_SHA256_SIZE + 1];   /* room for the %40s and %70s below */
    int version = 0, n = 0;

    if (!c->challenged)
    {
        if (sscanf(line, "HELLO %40s %d%n", nonce, &version, &n) == 2 && !line[n] && version == 2 &&
            !strncmp(line, "HELLO ", 6) && strlen(line) == 6 + FH_NONCE_CHARS + 2 && fh_is_nonce(nonce) &&
            fh_peer_uid_matches(c->fd, getuid()) && !fh_random_hex(c->server_nonce, FH_NONCE_CHARS / 2))
        {
            char out[16 + FH_NONCE_CHARS + 2 * FH_SHA256_SIZE];
            memcpy(c->client_nonce, nonce, FH_NONCE_CHARS + 1);
            fh_handshake_proof(s->secret, 'S', c->client_nonce, c->server_nonce, mine);
            snprintf(out, sizeof(out), "CHALLENGE %s %s\n", c->server_nonce, mine);
            c->challenged = 1;
            return fh_write_all(c->fd, out, strlen(out)) ? -1 : 0;
        }
    }
    else if (sscanf(line, "PROOF %70s%n", proof, &n) == 1 && !line[n] && !strncmp(line, "PROOF ", 6) &&
             strlen(line) == 6 + 2 * FH_SHA256_SIZE)
    {
        fh_handshake_proof(s->secret, 'C', c->client_nonce, c->server_nonce, mine);
        if (fh_proof_equal(proof, mine))
        {
            c->authed = 1;
            reply(c, FH_S_OK, NULL);
            return 0;
        }
    }
    fh_write_all(c->fd, "ERR 80070005\n", 13);
    return -1;
}

static int is_hex8(const char *text)
{
    return strlen(text) == 8 && strspn(text, "0123456789abcdefABCDEF") == 8;
}

/* Returns 0 to keep the connection, -1 to close it. */
static int handle_line(struct service *s, struct client *c, char *line)
{
    char *word, *arg = NULL, *extra = NULL;
    int flag;

    if (!c->authed) return handshake(s, c, line);

    {
        struct fh_cfgproto_env env = { s->config_dir, cfg_protection, cfg_changed, s };
        char text[FH_PROTO_MAX_LINE - 16];
        uint32_t hr;
        if (fh_cfgproto_handle(&c->cfg, &env, line, &hr, text, sizeof(text)))
        {
            reply(c, hr, text[0] ? text : NULL);
            return 0;
        }
    }

    word = line;
    if ((arg = strchr(line, ' '))) { *arg++ = 0; if ((extra = strchr(arg, ' '))) *extra++ = 0; }
    /* CLEAR is the one request with two arguments */
    if (extra && (strcmp(word, "CLEAR") || strchr(extra, ' '))) { reply(c, FH_E_INVALIDARG, NULL); return 0; }

#define NOARG() do { if (arg) { reply(c, FH_E_INVALIDARG, NULL); return 0; } } while (0)
    if (!strcmp(word, "START"))
    {
        if (parse_flag(arg, &flag)) { reply(c, FH_E_INVALIDARG, NULL); return 0; }
        if (blocked(s)) reply(c, FHSVC_E_BACKUP_BLOCKED, NULL);
        else if (s->cfg_status == FHCFG_E_CORRUPT_CONFIG_FILE) reply(c, FHSVC_E_FATAL_CONFIG_ERROR, NULL);
        else if (!configured(s)) reply(c, FHSVC_E_NOT_CONFIGURED, NULL);
        else if (!enabled(s)) reply(c, FHSVC_E_CONFIG_DISABLED, NULL);
        else { start_cycle(s, flag); reply(c, FH_S_OK, NULL); }
    }
    else if (!strcmp(word, "STOP"))
    {
        if (parse_flag(arg, &flag)) { reply(c, FH_E_INVALIDARG, NULL); return 0; }
        stop_cycle(s);
        if (flag && configured(s) && s->cfg.dp_status == FH_STATUS_ENABLED)
        {
            s->cfg.dp_status = FH_STATUS_DISABLED;
            fh_config_save(s->config_dir, &s->cfg);
            reload(s);
        }
        reply(c, FH_S_OK, NULL);
    }
    else if (!strcmp(word, "RELOAD"))
    {
        NOARG();
        reload(s);
        if (s->cfg_status == FHCFG_E_CORRUPT_CONFIG_FILE) reply(c, FHSVC_E_FATAL_CONFIG_ERROR, NULL);
        else if (s->cfg_status) reply(c, FHSVC_E_NOT_CONFIGURED, NULL);
        else reply(c, FH_S_OK, NULL);
    }
    else if (!strcmp(word, "BLOCK")) { NOARG(); c->blocked = 1; stop_cycle(s); reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "UNBLOCK")) { NOARG(); c->blocked = 0; reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "CLEAR"))
    {
        /* FhServiceClearProtectionState's two values, whose meaning Windows
         * does not document: both or none, 8 hex digits each; logged. */
        if (arg && (!extra || !is_hex8(arg) || !is_hex8(extra))) { reply(c, FH_E_INVALIDARG, NULL); return 0; }
        if (arg) fprintf(stderr, "filehistory: CLEAR %s %s\n", arg, extra);
        s->state.state = FH_STATE_NO_ERROR;
        fh_state_save(s->config_dir, &s->state);
        reply(c, FH_S_OK, NULL);
    }
    else if (!strcmp(word, "MAINT_ENTER")) { NOARG(); s->maintenance = 1; stop_cycle(s); reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "MAINT_EXIT")) { NOARG(); s->maintenance = 0; reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "MIGRATION_START")) { NOARG(); s->migration = 1; stop_cycle(s); reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "MIGRATION_END")) { NOARG(); s->migration = 0; reply(c, FH_S_OK, NULL); }
    else if (!strcmp(word, "USERS")) { NOARG(); reply(c, FH_S_OK, s->cfg_status == FH_S_OK ? "1" : "0"); }
    else if (!strcmp(word, "STATUS"))
    {
        char text[64], until[32];
        NOARG();
        if (s->state.protected_until) fh_format_iso(s->state.protected_until, until, sizeof(until));
        else strcpy(until, "-");
        snprintf(text, sizeof(text), "%08X %s", current_state(s), until);
        reply(c, FH_S_OK, text);
    }
    else if (!strcmp(word, "PROGRESS")) { NOARG(); reply_progress(s, c); }
    else if (!strcmp(word, "QUIT")) { NOARG(); reply(c, FH_S_OK, NULL); return -1; }
    else reply(c, FH_E_INVALIDARG, NULL);
#undef NOARG
    return 0;
}

static void drop_client(struct service *s, size_t i)
{
    fh_cfgsession_free(s->clients[i].cfg);
    close(s->clients[i].fd);
    s->clients[i] = s->clients[--s->client_count];
}

/* A slot for the owner's new connection when all are taken: the oldest
 * connection that has not said HELLO, else the one idle longest that
 * holds no BLOCK (only the owner's uid gets this far, so this evicts
 * the owner's own forgotten connections).  -1 when every one holds a BLOCK. */
static int free_slot(struct service *s)
{
    size_t victim = s->client_count;
    for (size_t i = 0; i < s->client_count; i++)
    {
        const struct client *c = &s->clients[i];
        if (c->blocked) continue;
        if (victim == s->client_count || (!c->authed && s->clients[victim].authed) ||
            (c->authed == s->clients[victim].authed && c->since_ms < s->clients[victim].since_ms))
            victim = i;
    }
    if (victim == s->client_count) return -1;
    drop_client(s, victim);
    return 0;
}

static void accept_clients(struct service *s)
{
    int fd;
    while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
    {
        struct timeval tv = { 1, 0 };
        uid_t peer;
        /* before it takes a slot: another user's connection never does */
        if (fh_peer_uid(fd, &peer) || peer != getuid())
        {
            send(fd, "ERR 80070005\n", 13, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        if (s->client_count >= MAX_CLIENTS && free_slot(s))
        {
            fh_log(2, "refused a connection: all %d connections hold a BLOCK", MAX_CLIENTS);
            close(fd);
            continue;
        }
        /* a client that does not read its replies cannot stall the service */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        memset(&s->clients[s->client_count], 0, sizeof(struct client));
        s->clients[s->client_count].fd = fd;
        s->clients[s->client_count].since_ms = now_ms();
        s->client_count++;
    }
}

/* Close connections that did not say HELLO in time; the ms until the next deadline (-1: none). */
static int expire_clients(struct service *s)
{
    long long now = now_ms(), next = -1;
    for (size_t i = s->client_count; i-- > 0; )
    {
        struct client *c = &s->clients[i];
        long long left;
        if (c->authed) continue;
        left = c->since_ms + FH_HELLO_TIMEOUT_MS - now;
        if (left <= 0)
        {
            fh_write_all(c->fd, "ERR 80070005\n", 13);
            drop_client(s, i);
            continue;
        }
        if (next < 0 || left < next) next = left;
    }
    return (int)next;
}

/* Read what the client sent; -1 when the connection must close. */
static int client_input(struct service *s, struct client *c)
{
    char data[512];
    ssize_t n = read(c->fd, data, sizeof(data));

    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    if (n == 0) return -1;
    if (c->authed) c->since_ms = now_ms();
    for (ssize_t i = 0; i < n; i++)
    {
        if (data[i] == '\n')
        {
            c->buf[c->len] = 0;
            if (c->len && c->buf[c->len - 1] == '\r') c->buf[c->len - 1] = 0;
            c->len = 0;
            if (handle_line(s, c, c->buf)) return -1;
            continue;
        }
        /* the line limit counts the \n: 255 characters before it */
        if (c->len >= FH_PROTO_MAX_LINE - 1 ||
            ((unsigned char)data[i] < 0x20 && data[i] != '\r') || (unsigned char)data[i] > 0x7e)
        {
            if (c->authed) reply(c, FH_E_INVALIDARG, NULL);
            else fh_write_all(c->fd, "ERR 80070005\n", 13);
            return -1;
        }
        c->buf[c->len++] = data[i];
    }
    return 0;
}

/* The endpoint's directory must be ours alone: a directory others can
 * write to (without the sticky bit) lets them replace the endpoint file;
 * mode 0700 when we make it. 0 or -1 with msg. */
static int endpoint_dir_ok(const char *endpoint, char *msg, size_t msgsize)
{
    char *dir = strdup(endpoint), *slash = dir ? strrchr(dir, '/') : NULL;
    struct stat st;
    int ret = -1;

    if (!dir) { snprintf(msg, msgsize, "out of memory"); return -1; }
    if (!slash) { free(dir); dir = strdup("."); }
    else if (slash == dir) slash[1] = 0;
    else *slash = 0;
    if (!dir) { snprintf(msg, msgsize, "out of memory"); return -1; }
    if (mkdir(dir, 0700) && errno == ENOENT)
    {
        /* one missing parent: a fresh account's ~/.cache, which the XDG
         * spec says to create 0700 (no XDG_RUNTIME_DIR without a session) */
        char *up = strrchr(dir, '/');
        if (up && up != dir)
        {
            *up = 0;
            mkdir(dir, 0700);
            *up = '/';
            mkdir(dir, 0700);
        }
    }
    if (mkdir(dir, 0700) && errno != EEXIST)
        snprintf(msg, msgsize, "cannot create %s for the endpoint %s: %s", dir, endpoint, strerror(errno));
    else if (lstat(dir, &st))
        snprintf(msg, msgsize, "the directory of the endpoint %s: %s", endpoint, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        snprintf(msg, msgsize, "the directory of the endpoint %s is not a directory", endpoint);
    else if ((st.st_uid != getuid() && st.st_uid != 0) || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
        snprintf(msg, msgsize, "the directory of the endpoint %s can be written by other users: not used", endpoint);
    else ret = 0;
    free(dir);
    return ret;
}

static int write_endpoint(struct service *s)
{
    char line[64];
    snprintf(line, sizeof(line), "%u %s\n", s->port, s->secret);
    return fh_write_file_atomic(s->endpoint, line, strlen(line), 0600);
}

static void remove_endpoint(struct service *s)
{
    char line[64], mine[64];
    int fd = open(s->endpoint, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n;
    snprintf(mine, sizeof(mine), "%u %s\n", s->port, s->secret);
    if (fd < 0) return;
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (n > 0) { line[n] = 0; if (!strcmp(line, mine)) unlink(s->endpoint); }
}

static int make_secret(char *out)
{
    return fh_random_hex(out, 16);
}

static int open_listener(struct service *s)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);

    if ((s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) return -1;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(s->listen_fd, 64) ||
        getsockname(s->listen_fd, (struct sockaddr *)&addr, &len))
    {
        int e = errno;
        close(s->listen_fd);
        s->listen_fd = -1;
        errno = e;
        return -1;
    }
    s->port = ntohs(addr.sin_port);
    return 0;
}

static void serve(struct service *s)
{
    while (!quit_requested)
    {
        struct pollfd pfd[MAX_CLIENTS + 3];
        size_t n = 0, first_client;
        int timeout = -1;
        time_t now = time(NULL);

        if (s->next_due && !s->cycle_pid && !blocked(s) && enabled(s) && now >= s->next_due)
            start_cycle(s, 1);   /* scheduled cycles are background work */
        int hello_wait;

        if (s->next_due && !s->cycle_pid)
            timeout = s->next_due > now ? (int)((s->next_due - now) * 1000) : 1000;
        if (timeout < 0 || timeout > 60000) timeout = 60000;
        if ((hello_wait = expire_clients(s)) >= 0 && hello_wait < timeout) timeout = hello_wait + 1;

        pfd[n].fd = s->listen_fd; pfd[n++].events = POLLIN;
        pfd[n].fd = s->journal ? fh_journal_fd(s->journal) : -1; pfd[n++].events = POLLIN;
        pfd[n].fd = s->cycle_pid ? s->cycle_pipe : -1; pfd[n++].events = POLLIN;
        first_client = n;
        for (size_t i = 0; i < s->client_count; i++) { pfd[n].fd = s->clients[i].fd; pfd[n++].events = POLLIN; }
        if (poll(pfd, n, timeout) < 0)
        {
            if (errno == EINTR) continue;
            break;
        }
        if (pfd[1].fd >= 0 && pfd[1].revents) fh_journal_read(s->journal);
        if (pfd[2].fd >= 0 && pfd[2].revents) cycle_finished(s);
        /* clients from the last one down: drop_client moves the last into the gap */
        for (size_t i = n; i-- > first_client; )
        {
            size_t ci = i - first_client;
            if (!pfd[i].revents) continue;
            if (ci >= s->client_count || s->clients[ci].fd != pfd[i].fd) continue;
            if (client_input(s, &s->clients[ci])) drop_client(s, ci);
        }
        if (pfd[0].revents & POLLIN) accept_clients(s);
    }
}

/* Point stderr at the log file (0700 directories made, rotated past 1 MiB). */
static int open_log(const char *path)
{
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    struct stat st;
    int fd;

    if (slash) { *slash = 0; fh_mkdir_p(dir, 0700); }
    free(dir);
    if (!lstat(path, &st) && S_ISREG(st.st_mode) && st.st_size > (1 << 20))
    {
        char *old = malloc(strlen(path) + 3);
        if (old) { sprintf(old, "%s.1", path); rename(path, old); free(old); }
    }
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) return -1;
    dup2(fd, 2);
    if (fd != 2) close(fd);
    return 0;
}

/* The service failed to start: say why in the log (stderr) and to the
 * `daemon --detach` that waits for it (ready pipe: '0' + the message). */
static int start_failed(int ready_fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int start_failed(int ready_fd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fh_log(2, "%s", msg);
    if (ready_fd >= 0)
    {
        fh_write_all(ready_fd, "0", 1);
        fh_write_all(ready_fd, msg, strlen(msg));
    }
    return 1;
}

int fh_daemon_main(int detach)
{
    struct service s;
    int ready[2] = { -1, -1 }, lock_fd = -1, sock, ret = 1;
    char *lock_path = NULL, *log_path = NULL, msg[512];
    struct sigaction sa;

    memset(&s, 0, sizeof(s));
    s.cycle_pipe = -1;
    s.listen_fd = -1;
    if (!(s.endpoint = fh_endpoint_path()) || !(s.config_dir = fh_config_dir()))
    {
        fprintf(stderr, "filehistory: cannot determine the endpoint or configuration directory (set HOME)\n");
        goto out;
    }
    /* a live service for this endpoint: nothing to do */
    if ((sock = fh_client_connect()) >= 0) { close(sock); ret = 0; goto out; }

    if (detach)
    {
        pid_t pid;
        char reply[600];
        ssize_t n, got = 0;

        if (!(log_path = fh_log_path()))
        {
            fprintf(stderr, "filehistory: no place for the service's log (set HOME or XDG_STATE_HOME)\n");
            goto out;
        }
        if (pipe2(ready, O_CLOEXEC) || (pid = fork()) < 0)
        {
            fprintf(stderr, "filehistory: cannot start the service: %s\n", strerror(errno));
            goto out;
        }
        if (pid)
        {
            close(ready[1]);
            ready[1] = -1;
            /* exit 0 only once the endpoint is written and the socket listens */
            while ((n = read(ready[0], reply + got, sizeof(reply) - 1 - got)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0) got += n;
            reply[got] = 0;
            if (got && reply[0] == '1') ret = 0;
            else fprintf(stderr, "filehistory: the service did not start: %s (log: %s)\n",
                         got > 1 ? reply + 1 : "it exited", log_path);
            goto out;
        }
        close(ready[0]);
        ready[0] = -1;
        setsid();
        {
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) { dup2(null, 0); dup2(null, 1); if (null > 1) close(null); }
        }
        if (open_log(log_path))
        {
            int e = errno, null = open("/dev/null", O_RDWR);
            if (null >= 0) { dup2(null, 2); if (null > 2) close(null); }
            ret = start_failed(ready[1], "cannot open the log %s: %s", log_path, strerror(e));
            goto out;
        }
    }

    /* one service per endpoint: the loser of a start race waits for the winner */
    if (endpoint_dir_ok(s.endpoint, msg, sizeof(msg))) { ret = start_failed(ready[1], "%s", msg); goto out; }
    if (!(lock_path = malloc(strlen(s.endpoint) + 6))) { ret = start_failed(ready[1], "out of memory"); goto out; }
    sprintf(lock_path, "%s.lock", s.endpoint);
    if ((lock_fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
    {
        ret = start_failed(ready[1], "cannot create the lock %s next to the endpoint: %s", lock_path, strerror(errno));
        goto out;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB))
    {
        for (int i = 0; i < 100; i++)
        {
            if ((sock = fh_client_connect()) >= 0)
            {
                close(sock);
                if (ready[1] >= 0) fh_write_all(ready[1], "1", 1);
                ret = 0;
                goto out;
            }
            usleep(100000);
        }
        ret = start_failed(ready[1], "another service holds the lock %s but does not answer at %s", lock_path,
                           s.endpoint);
        goto out;
    }

    s.lock_fd = lock_fd;
    if (make_secret(s.secret) || open_listener(&s) || write_endpoint(&s))
    {
        ret = start_failed(ready[1], "cannot start the service at %s: %s", s.endpoint, strerror(errno));
        goto out;
    }
    /* the running cycle's progress, shared with its process */
    if ((s.progress = mmap(NULL, sizeof(*s.progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) ==
        MAP_FAILED)
    {
        s.progress = NULL;
        remove_endpoint(&s);
        ret = start_failed(ready[1], "cannot start the service: %s", strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    reload(&s);
    fh_log(2, "service started at %s (port %u)%s", s.endpoint, s.port,
           s.cfg_status == FHCFG_E_CORRUPT_CONFIG_FILE ? "; the configuration is corrupt" :
           !configured(&s) ? "; not configured" : "");
    if (ready[1] >= 0) { fh_write_all(ready[1], "1", 1); close(ready[1]); ready[1] = -1; }

    serve(&s);

    stop_cycle(&s);
    remove_endpoint(&s);
    for (size_t i = 0; i < s.client_count; i++) { fh_cfgsession_free(s.clients[i].cfg); close(s.clients[i].fd); }
    fh_journal_free(s.journal);
    fh_config_free(&s.cfg);
    fh_log(2, "service stopped");
    ret = 0;
out:
    if (s.listen_fd >= 0) close(s.listen_fd);
    if (s.progress) munmap(s.progress, sizeof(*s.progress));
    if (ready[0] >= 0) close(ready[0]);
    if (ready[1] >= 0) close(ready[1]);
    free(s.endpoint);
    free(s.config_dir);
    free(lock_path);
    free(log_path);
    if (lock_fd >= 0) close(lock_fd);
    return ret;
}
