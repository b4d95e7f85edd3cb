/*
 * filehistory: the command-line face of the File History engine and service.
 * See docs/filehistory.1 for the commands.  Exit status 0 on success, 1 on
 * an error (one line on stderr), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "winbackup/winbackup.h"
#include "fh.h"

static const char usage_text[] =
    "Usage: filehistory COMMAND [ARGS]\n"
    "  backup [--low-priority] [--wait]   start a backup cycle in the service\n"
    "  stop [--stop-tracking]             stop the running cycle (and turn File History off)\n"
    "  block [COMMAND [ARGS]]             block cycles while COMMAND runs, or until `unblock`\n"
    "  unblock                            end the block held by `filehistory block`\n"
    "  status [--json]                    protection state\n"
    "  config target DIR | add-folder DIR | remove-folder DIR | exclude DIR | include DIR |\n"
    "         frequency SECONDS | retention DAYS|forever | enable | disable | show [--json]\n"
    "  versions PATH [--json]             list the versions of a file\n"
    "  restore PATH [--at TIME] [--to DIR]  restore a version\n"
    "  cleanup DAYS                       delete versions older than DAYS (keeps each newest)\n"
    "  run-cycle                          run one cycle in the foreground, without the service\n"
    "  daemon [--detach]                  run the service\n";

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("filehistory: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void usage_error(const char *what)
{
    fprintf(stderr, "filehistory: %s (see filehistory --help)\n", what);
    exit(2);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++)
    {
        unsigned char c = *s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static const char *state_name(uint32_t state)
{
    switch (state & ~FH_STATE_RUNNING)
    {
    case FH_STATE_NOT_TRACKED: return "NOT_TRACKED";
    case FH_STATE_OFF: return "OFF";
    case FH_STATE_MIGRATING: return "MIGRATING";
    case FH_STATE_TARGET_FS_LIMITATION: return "TARGET_FS_LIMITATION";
    case FH_STATE_TARGET_ACCESS_DENIED: return "TARGET_ACCESS_DENIED";
    case FH_STATE_TARGET_FULL: return "TARGET_FULL";
    case FH_STATE_TARGET_ABSENT: return "TARGET_ABSENT";
    case FH_STATE_NO_ERROR: return "NO_ERROR";
    default: return "UNKNOWN";
    }
}

static const char *hr_message(uint32_t hr)
{
    switch (hr)
    {
    case FHSVC_E_BACKUP_BLOCKED: return "backups are blocked (FHSVC_E_BACKUP_BLOCKED)";
    case FHSVC_E_NOT_CONFIGURED: return "File History is not configured: run `filehistory config target DIR` (FHSVC_E_NOT_CONFIGURED)";
    case FHSVC_E_CONFIG_DISABLED: return "File History is turned off: run `filehistory config enable` (FHSVC_E_CONFIG_DISABLED)";
    case FHSVC_E_FATAL_CONFIG_ERROR: return "the configuration cannot be read (FHSVC_E_FATAL_CONFIG_ERROR)";
    case FH_E_INVALIDARG: return "the service refused the request (E_INVALIDARG)";
    default: return "the service reported an error";
    }
}

/* Absolute, normalized form of path; the parent directory is resolved
 * through symbolic links when it exists (the file itself may be gone). */
static char *absolute_path(const char *path)
{
    char buf[PATH_MAX * 2], *out, *parent, *slash, *real;
    size_t len = 0;
    const char *p;

    if (!path || !*path) return NULL;
    if (path[0] != '/')
    {
        if (!getcwd(buf, PATH_MAX)) return NULL;
        len = strlen(buf);
    }
    /* lexical normalization of the components */
    for (p = path; *p; )
    {
        const char *end;
        size_t n;
        while (*p == '/') p++;
        if (!*p) break;
        end = strchr(p, '/');
        n = end ? (size_t)(end - p) : strlen(p);
        if (n == 1 && p[0] == '.') { }
        else if (n == 2 && p[0] == '.' && p[1] == '.') { while (len && buf[len - 1] != '/') len--; if (len) len--; }
        else
        {
            if (len + n + 2 >= sizeof(buf)) return NULL;
            buf[len++] = '/';
            memcpy(buf + len, p, n);
            len += n;
        }
        p += n;
    }
    if (!len) return NULL;
    buf[len] = 0;
    if (!(parent = strdup(buf))) return NULL;
    slash = strrchr(parent, '/');
    *slash = 0;
    real = realpath(*parent ? parent : "/", NULL);
    if (real)
    {
        size_t rl = strlen(real);
        out = malloc(rl + strlen(slash + 1) + 2);
        if (out) sprintf(out, "%s/%s", strcmp(real, "/") ? real : "", slash + 1);
        free(real);
    }
    else out = strdup(buf);
    free(parent);
    return out;
}

static void load_config(const char *dir, struct fh_config *cfg, int must_exist)
{
    uint32_t hr = fh_config_load(dir, cfg);
    if (hr == FHCFG_E_CONFIG_FILE_NOT_FOUND && !must_exist)
    {
        if (fh_config_init_default(cfg)) die("out of memory");
        return;
    }
    if (hr == FHCFG_E_CONFIG_FILE_NOT_FOUND) die("File History is not configured (no configuration in %s)", dir);
    if (hr) die("the configuration in %s is corrupt", dir);
}

/* ------------------------------------------------------------------ */
/* talking to the service */

static int connect_service(int start)
{
    int sock = fh_client_connect();
    pid_t pid;
    int status;

    if (sock >= 0 || !start) return sock;
    if (errno != ENOENT && errno != ECONNREFUSED) return -1;
    if ((pid = fork()) < 0) return -1;
    if (!pid)
    {
        execl("/proc/self/exe", "filehistory", "daemon", "--detach", (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) return -1;
    return fh_client_connect();
}

static uint32_t request(int sock, const char *req, char *text, size_t size)
{
    uint32_t hr;
    if (fh_client_request(sock, req, &hr, text, size)) die("lost the connection to the service");
    return hr;
}

static void reload_service(void)
{
    int sock = connect_service(0);
    char text[64];
    if (sock < 0) return;
    request(sock, "RELOAD", text, sizeof(text));
    close(sock);
}

/* The service's PROGRESS reply: 1 with v filled, 0 when no cycle runs, -1 malformed. */
static int parse_progress(const char *text, struct fh_progress_view *v)
{
    long long f[8];
    int used = 0;
    const char *cur;
    size_t n = 0;

    memset(v, 0, sizeof(*v));
    if (!strcmp(text, "-")) return 0;
    if (sscanf(text, "%lld %lld %lld %lld %lld %lld %lld %lld %n", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6],
               &f[7], &used) != 8 || !used)
        return -1;
    v->files_done = f[0]; v->files_total = f[1]; v->bytes_done = f[2]; v->bytes_total = f[3];
    v->versions = f[4]; v->bytes_copied = f[5]; v->not_backed_up = f[6]; v->elapsed_ms = f[7];
    cur = text + used;
    if (strcmp(cur, "-"))
    {
        /* percent-decoded */
        for (; *cur && n + 1 < sizeof(v->current); cur++)
        {
            unsigned int ch;
            if (*cur == '%' && sscanf(cur + 1, "%2x", &ch) == 1) { v->current[n++] = (char)ch; cur += 2; }
            else v->current[n++] = *cur;
        }
    }
    v->current[n] = 0;
    v->rate = v->elapsed_ms > 0 ? (double)v->bytes_done * 1000.0 / (double)v->elapsed_ms : 0;
    v->eta_seconds = -1;
    if (v->bytes_total >= 0 && v->rate > 0)
        v->eta_seconds = v->bytes_total > v->bytes_done ? (long long)((v->bytes_total - v->bytes_done) / v->rate + 0.5) : 0;
    return 1;
}

static int terminal_width(int fd)
{
    struct winsize ws;
    return !ioctl(fd, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 80;
}

/* ------------------------------------------------------------------ */

static int cmd_backup(int argc, char **argv)
{
    int low = 0, wait = 0, sock;
    uint32_t hr;
    char text[128];

    for (int i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--low-priority")) low = 1;
        else if (!strcmp(argv[i], "--wait")) wait = 1;
        else usage_error("backup: unknown option");
    }
    if ((sock = connect_service(1)) < 0) die("cannot reach or start the service: %s", strerror(errno));
    if ((hr = request(sock, low ? "START 1" : "START 0", text, sizeof(text)))) die("%s", hr_message(hr));
    if (wait)
    {
        unsigned int state = FH_STATE_RUNNING, delay_us = 2000;
        int tty = isatty(2), drawn = 0;
        while (state & FH_STATE_RUNNING)
        {
            /* back off from 2 ms to 100 ms: a cycle with nothing to do ends
             * within milliseconds and --wait should say so as soon */
            usleep(delay_us);
            if (delay_us < 100000) delay_us = delay_us * 2 > 100000 ? 100000 : delay_us * 2;
            if ((hr = request(sock, "STATUS", text, sizeof(text))) || sscanf(text, "%x", &state) != 1)
                die("cannot read the service status");
            if (tty && (state & FH_STATE_RUNNING))
            {
                struct fh_progress_view v;
                char line[1400], reply[FH_PROTO_MAX_LINE];
                if (!request(sock, "PROGRESS", reply, sizeof(reply)) && parse_progress(reply, &v) == 1)
                {
                    line[0] = '\r';
                    fh_progress_format(&v, terminal_width(2) - 1, line + 1, sizeof(line) - 8);
                    strcat(line, "\033[K");
                    fputs(line, stderr);
                    drawn = 1;
                }
            }
        }
        if (drawn) fputs("\r\033[K", stderr);
        request(sock, "QUIT", text, sizeof(text));
        close(sock);
        if (state != FH_STATE_NO_ERROR) die("backup failed: %s (0x%02X)", state_name(state), state);
        return 0;
    }
    request(sock, "QUIT", text, sizeof(text));
    close(sock);
    return 0;
}

static int cmd_stop(int argc, char **argv)
{
    int tracking = 0, sock;
    char text[64];
    uint32_t hr;

    for (int i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--stop-tracking")) tracking = 1;
        else usage_error("stop: unknown option");
    }
    if ((sock = connect_service(0)) < 0)
    {
        /* no service, no running cycle; turning off is a configuration change */
        if (tracking)
        {
            char *dir = fh_config_dir();
            struct fh_config cfg;
            load_config(dir, &cfg, 1);
            cfg.dp_status = FH_STATUS_DISABLED;
            if ((errno = fh_config_save(dir, &cfg))) die("cannot save the configuration: %s", strerror(errno));
            fh_config_free(&cfg);
            free(dir);
        }
        return 0;
    }
    if ((hr = request(sock, tracking ? "STOP 1" : "STOP 0", text, sizeof(text)))) die("%s", hr_message(hr));
    request(sock, "QUIT", text, sizeof(text));
    close(sock);
    return 0;
}

static volatile sig_atomic_t block_end;
static void on_block_signal(int sig) { (void)sig; block_end = 1; }

static char *block_pid_path(void)
{
    char *dir = fh_config_dir(), *path;
    if (!dir) return NULL;
    fh_mkdir_p(dir, 0700);
    path = fh_join(dir, "block.pid");
    free(dir);
    return path;
}

/* A block belongs to a connection (protocol): this process holds it. */
static int cmd_block(int argc, char **argv)
{
    int sock, ret = 0;
    char text[64], pidline[32], *pid_path;
    uint32_t hr;
    struct sigaction sa;

    if ((sock = connect_service(1)) < 0) die("cannot reach or start the service: %s", strerror(errno));
    if ((hr = request(sock, "BLOCK", text, sizeof(text)))) die("%s", hr_message(hr));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_block_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (argc)
    {
        pid_t pid = fork();
        int status;
        if (pid < 0) die("fork: %s", strerror(errno));
        if (!pid) { close(sock); execvp(argv[0], argv); _exit(127); }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) ;
        ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    else
    {
        if (!(pid_path = block_pid_path())) die("no configuration directory");
        snprintf(pidline, sizeof(pidline), "%ld\n", (long)getpid());
        if (fh_write_file_atomic(pid_path, pidline, strlen(pidline), 0600)) die("cannot write %s", pid_path);
        if (isatty(1)) printf("backups blocked; run `filehistory unblock` or press Ctrl-C to unblock\n");
        else printf("blocked\n");
        fflush(stdout);
        while (!block_end) pause();
        unlink(pid_path);
        free(pid_path);
    }
    request(sock, "UNBLOCK", text, sizeof(text));
    request(sock, "QUIT", text, sizeof(text));
    close(sock);
    return ret;
}

static int cmd_unblock(void)
{
    char *pid_path = block_pid_path(), cmdline[256], proc[64];
    FILE *f;
    long pid = 0;
    ssize_t n;
    int fd;

    if (!pid_path) die("no configuration directory");
    if (!(f = fopen(pid_path, "re"))) return 0;   /* nothing blocked by `filehistory block` */
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1) pid = 0;
    fclose(f);
    if (!pid) { unlink(pid_path); return 0; }
    /* only signal a process that is still `filehistory block` */
    snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
    if ((fd = open(proc, O_RDONLY | O_CLOEXEC)) < 0) { unlink(pid_path); return 0; }
    n = read(fd, cmdline, sizeof(cmdline) - 1);
    close(fd);
    if (n <= 0) { unlink(pid_path); return 0; }
    cmdline[n] = 0;
    {
        char *arg1 = memchr(cmdline, 0, n);
        if (!strstr(cmdline, "filehistory") || !arg1 || arg1 + 1 >= cmdline + n || strcmp(arg1 + 1, "block"))
        {
            unlink(pid_path);
            return 0;
        }
    }
    if (kill((pid_t)pid, SIGTERM)) die("cannot signal the blocking process %ld: %s", pid, strerror(errno));
    for (int i = 0; i < 100 && !kill((pid_t)pid, 0); i++) usleep(20000);
    free(pid_path);
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    int json = argc == 1 && !strcmp(argv[0], "--json"), sock, service = 0, running = 0;
    unsigned int state;
    char text[128], until[32] = "-", *dir = fh_config_dir(), reply[FH_PROTO_MAX_LINE];
    struct fh_config cfg;
    struct fh_state st;
    struct fh_progress_view v;
    uint32_t hr;

    if (argc && !json) usage_error("status: unknown option");
    if (!dir) die("no configuration directory (set HOME)");
    if ((sock = connect_service(0)) >= 0)
    {
        if ((hr = request(sock, "STATUS", text, sizeof(text))) || sscanf(text, "%x %31s", &state, until) != 2)
            die("cannot read the service status");
        if ((state & FH_STATE_RUNNING) && !request(sock, "PROGRESS", reply, sizeof(reply)))
            running = parse_progress(reply, &v) == 1;
        request(sock, "QUIT", text, sizeof(text));
        close(sock);
        service = 1;
    }
    if (fh_config_load(dir, &cfg)) memset(&cfg, 0, sizeof(cfg));
    fh_state_load(dir, &st);
    if (!service)
    {
        struct stat sb;
        if (!cfg.target_url) state = FH_STATE_NOT_TRACKED;
        else if (cfg.dp_status != FH_STATUS_ENABLED) state = FH_STATE_OFF;
        else if (stat(cfg.target_url, &sb) && errno == ENOENT) state = FH_STATE_TARGET_ABSENT;
        else state = st.state;
        if (st.protected_until) fh_format_iso(st.protected_until, until, sizeof(until));
    }
    if (json)
    {
        printf("{\"state\":%u,\"state_hex\":\"%08X\",\"state_name\":\"%s\",\"running\":%s,\"protected_until\":",
               state & ~FH_STATE_RUNNING, state, state_name(state), state & FH_STATE_RUNNING ? "true" : "false");
        if (strcmp(until, "-")) json_string(stdout, until); else fputs("null", stdout);
        printf(",\"service\":%s,\"target\":", service ? "true" : "false");
        if (cfg.target_url) json_string(stdout, cfg.target_url); else fputs("null", stdout);
        printf(",\"not_backed_up\":%lld,\"progress\":", st.not_backed_up);
        if (running)
        {
            printf("{\"files_done\":%lld,\"files_total\":%lld,\"bytes_done\":%lld,\"bytes_total\":%lld,"
                   "\"versions\":%lld,\"bytes_copied\":%lld,\"not_backed_up\":%lld,\"elapsed_ms\":%lld,"
                   "\"rate_bytes_per_s\":%.0f,\"eta_seconds\":",
                   (long long)v.files_done, (long long)v.files_total, (long long)v.bytes_done, (long long)v.bytes_total,
                   (long long)v.versions, (long long)v.bytes_copied, (long long)v.not_backed_up,
                   (long long)v.elapsed_ms, v.rate);
            if (v.eta_seconds >= 0) printf("%lld", (long long)v.eta_seconds); else fputs("null", stdout);
            printf(",\"current_file\":");
            json_string(stdout, v.current);
            printf("}");
        }
        else fputs("null", stdout);
        printf("}\n");
    }
    else
    {
        printf("state: %s (0x%02X)%s\n", state_name(state), state & ~FH_STATE_RUNNING,
               state & FH_STATE_RUNNING ? ", backup running" : "");
        if (running)
        {
            char line[1400];
            fh_progress_format(&v, 1000, line, sizeof(line));
            printf("progress: %s\n", line);
        }
        printf("protected until: %s\n", strcmp(until, "-") ? until : "never");
        if (st.not_backed_up)
            printf("not backed up: %lld files in the last backup (the log names them)\n", st.not_backed_up);
        printf("target: %s\n", cfg.target_url ? cfg.target_url : "(none)");
        printf("service: %s\n", service ? "running" : "not running");
    }
    fh_config_free(&cfg);
    free(dir);
    return 0;
}

static char *existing_dir(const char *arg)
{
    char *real = realpath(arg, NULL);
    struct stat st;
    if (!real) die("%s: %s", arg, strerror(errno));
    if (stat(real, &st) || !S_ISDIR(st.st_mode)) die("%s: not a directory", arg);
    if (!fh_path_is_valid(real)) die("%s: cannot be used (the root or an unrepresentable name)", arg);
    return real;
}

static void show_config(const struct fh_config *cfg, int json)
{
    if (json)
    {
        printf("{\"user\":"); json_string(stdout, cfg->user_name);
        printf(",\"pc\":"); json_string(stdout, cfg->pc_name);
        printf(",\"target\":"); if (cfg->target_url) json_string(stdout, cfg->target_url); else fputs("null", stdout);
        printf(",\"folders\":[");
        for (size_t i = 0; i < cfg->folder_count; i++) { if (i) putchar(','); json_string(stdout, cfg->folders[i]); }
        printf("],\"excludes\":[");
        for (size_t i = 0; i < cfg->exclude_count; i++) { if (i) putchar(','); json_string(stdout, cfg->excludes[i]); }
        printf("],\"frequency\":%llu,\"retention_days\":", cfg->frequency);
        if (cfg->retention_type == FH_RETENTION_AGE) printf("%llu", cfg->retention_age); else fputs("null", stdout);
        printf(",\"enabled\":%s}\n", cfg->dp_status == FH_STATUS_ENABLED ? "true" : "false");
        return;
    }
    printf("user: %s\npc: %s\ntarget: %s\n", cfg->user_name, cfg->pc_name, cfg->target_url ? cfg->target_url : "(none)");
    for (size_t i = 0; i < cfg->folder_count; i++) printf("folder: %s\n", cfg->folders[i]);
    for (size_t i = 0; i < cfg->exclude_count; i++) printf("exclude: %s\n", cfg->excludes[i]);
    printf("frequency: %llu\n", cfg->frequency);
    if (cfg->retention_type == FH_RETENTION_AGE) printf("retention: %llu days\n", cfg->retention_age);
    else printf("retention: forever\n");
    printf("enabled: %s\n", cfg->dp_status == FH_STATUS_ENABLED ? "yes" : "no");
}

static unsigned long long parse_count(const char *arg, unsigned long long max, const char *what)
{
    char *end;
    unsigned long long v;
    if (!arg || !*arg || *arg == '-' || *arg == '+') usage_error(what);
    errno = 0;
    v = strtoull(arg, &end, 10);
    if (*end || errno || v == 0 || v > max) usage_error(what);
    return v;
}

static int cmd_config(int argc, char **argv)
{
    char *dir = fh_config_dir(), *path;
    struct fh_config cfg;
    const char *sub = argc ? argv[0] : "show";

    if (!dir) die("no configuration directory");
    if (!strcmp(sub, "show"))
    {
        int json = argc == 2 && !strcmp(argv[1], "--json");
        if (argc > 2 || (argc == 2 && !json)) usage_error("config show: unknown option");
        load_config(dir, &cfg, 0);
        show_config(&cfg, json);
        fh_config_free(&cfg);
        free(dir);
        return 0;
    }
    load_config(dir, &cfg, 0);
    if (!strcmp(sub, "enable") || !strcmp(sub, "disable"))
    {
        if (argc != 1) usage_error("config enable/disable takes no argument");
        cfg.dp_status = !strcmp(sub, "enable") ? FH_STATUS_ENABLED : FH_STATUS_DISABLED;
    }
    else
    {
        if (argc != 2) usage_error("config: missing or extra argument");
        if (!strcmp(sub, "target"))
        {
            const char *slash;
            path = existing_dir(argv[1]);
            for (size_t i = 0; i < cfg.folder_count; i++)
                if (fh_path_under(cfg.folders[i], path)) die("%s: the target cannot contain a protected folder", path);
            free(cfg.target_url); free(cfg.target_name); free(cfg.target_id);
            cfg.target_url = path;
            cfg.target_id = NULL;
            slash = strrchr(path, '/');
            cfg.target_name = strdup(slash + 1);
            cfg.dp_status = FH_STATUS_ENABLED;
            {
                /* the target's identity: cycles check that this very disk is there */
                char msg[512];
                if (fh_target_provision(&cfg, msg, sizeof(msg))) die("%s", msg);
            }
            {
                /* the old target's state (full, absent...) says nothing about the new one */
                struct fh_state fresh = { FH_STATE_NO_ERROR, 0, 0 };
                fh_state_save(dir, &fresh);
            }
        }
        else if (!strcmp(sub, "add-folder"))
        {
            path = existing_dir(argv[1]);
            if (cfg.target_url && fh_path_under(path, cfg.target_url)) die("%s: is inside the target", path);
            if (fh_config_list_add(&cfg.folders, &cfg.folder_count, path)) die("out of memory");
            free(path);
        }
        else if (!strcmp(sub, "remove-folder") || !strcmp(sub, "exclude") || !strcmp(sub, "include"))
        {
            if (!(path = absolute_path(argv[1])) || !fh_path_is_valid(path)) die("%s: invalid path", argv[1]);
            if (!strcmp(sub, "remove-folder"))
            {
                size_t before = cfg.folder_count;
                fh_config_list_remove(&cfg.folders, &cfg.folder_count, path);
                if (before == cfg.folder_count) die("%s: not a protected folder", path);
            }
            else if (!strcmp(sub, "exclude"))
            {
                if (fh_config_list_add(&cfg.excludes, &cfg.exclude_count, path)) die("out of memory");
            }
            else
            {
                size_t before = cfg.exclude_count;
                fh_config_list_remove(&cfg.excludes, &cfg.exclude_count, path);
                if (before == cfg.exclude_count) die("%s: not excluded", path);
            }
            free(path);
        }
        else if (!strcmp(sub, "frequency"))
            cfg.frequency = parse_count(argv[1], FH_MAX_FREQUENCY, "frequency: a number of seconds > 0");
        else if (!strcmp(sub, "retention"))
        {
            if (!strcmp(argv[1], "forever")) cfg.retention_type = FH_RETENTION_DISABLED;
            else
            {
                cfg.retention_age = parse_count(argv[1], FH_MAX_RETENTION_AGE, "retention: a number of days > 0 or forever");
                cfg.retention_type = FH_RETENTION_AGE;
            }
        }
        else usage_error("config: unknown setting");
    }
    if ((errno = fh_config_save(dir, &cfg))) die("cannot save the configuration in %s: %s", dir, strerror(errno));
    fh_config_free(&cfg);
    free(dir);
    reload_service();
    return 0;
}

struct list_ctx { int json; int count; const char *root; };

static int print_version(void *ctx, const char *path, const struct fh_version *v)
{
    struct list_ctx *l = ctx;
    char when[32];
    fh_format_iso(v->version_time, when, sizeof(when));
    if (l->json)
    {
        printf("%s{\"time\":\"%s\",\"size\":%lld,\"stored\":", l->count ? "," : "", when, v->size);
        json_string(stdout, v->stored);
        printf(",\"path\":");
        json_string(stdout, path);
        printf("}");
    }
    else
    {
        /* the catalog is on the target, anyone may have written it: no control character to the terminal */
        printf("%s  %12lld  %s/", when, v->size, l->root);
        for (const char *p = v->stored; *p; p++) putchar((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
        putchar('\n');
    }
    l->count++;
    return 0;
}

static struct fh_catalog *open_catalog(const struct fh_config *cfg, char **root_out)
{
    struct fh_target t;
    struct fh_catalog *cat;
    char msg[512];

    if (!cfg->target_url) die("no target configured");
    /* reached without following symlinks, the catalog's files checked (fh_target.c) */
    if (fh_target_open(cfg, 0, &t, msg, sizeof(msg)) != FH_STATE_NO_ERROR) die("%s", msg);
    if (faccessat(t.conf_fd, "Catalog.sqlite", F_OK, AT_SYMLINK_NOFOLLOW)) die("no backup on %s yet", cfg->target_url);
    if (fh_catalog_open(t.catalog, &cat)) die("cannot open the catalog %s: %s", t.catalog, fh_catalog_errmsg(cat));
    *root_out = t.root;
    t.root = NULL;
    fh_target_close(&t);
    return cat;
}

static int cmd_versions(int argc, char **argv)
{
    struct list_ctx l = { 0 };
    struct fh_config cfg;
    struct fh_catalog *cat;
    char *dir = fh_config_dir(), *path, *root;
    const char *arg = NULL;

    for (int i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--json")) l.json = 1;
        else if (!arg) arg = argv[i];
        else usage_error("versions: one PATH");
    }
    if (!arg) usage_error("versions: missing PATH");
    if (!(path = absolute_path(arg)) || !fh_path_is_normalized(path)) die("%s: invalid path", arg);
    load_config(dir, &cfg, 1);
    cat = open_catalog(&cfg, &root);
    l.root = root;
    if (l.json) printf("[");
    if (fh_catalog_list_versions(cat, path, print_version, &l)) die("catalog: %s", fh_catalog_errmsg(cat));
    if (l.json) printf("]\n");
    fh_catalog_close(cat);
    if (!l.count && !l.json) die("%s: no versions", path);
    free(root); free(path); free(dir);
    fh_config_free(&cfg);
    return 0;
}

static int cmd_restore(int argc, char **argv)
{
    struct fh_config cfg;
    char *dir = fh_config_dir(), *path, *to = NULL, msg[512];
    const char *arg = NULL;
    /* no --at: the newest version (a cycle's time can be a second ahead of the clock,
     * see fh_cycle_run) */
    time_t at = (time_t)INT64_MAX;

    for (int i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--at") && i + 1 < argc)
        {
            if (fh_parse_time(argv[++i], &at)) usage_error("restore: --at TIME: YYYY-MM-DDTHH:MM:SSZ or @SECONDS");
        }
        else if (!strcmp(argv[i], "--to") && i + 1 < argc) to = existing_dir(argv[++i]);
        else if (argv[i][0] == '-' && argv[i][1]) usage_error("restore: unknown option");
        else if (!arg) arg = argv[i];
        else usage_error("restore: one PATH");
    }
    if (!arg) usage_error("restore: missing PATH");
    if (!(path = absolute_path(arg)) || !fh_path_is_normalized(path)) die("%s: invalid path", arg);
    load_config(dir, &cfg, 1);
    if (fh_restore(&cfg, path, at, to, msg, sizeof(msg))) die("%s", msg);
    if (isatty(1)) printf("restored %s\n", msg);
    free(path); free(to); free(dir);
    fh_config_free(&cfg);
    return 0;
}

static int cmd_cleanup(int argc, char **argv)
{
    struct fh_config cfg;
    char *dir = fh_config_dir(), msg[256];
    unsigned long long days;
    long long removed;

    if (argc != 1) usage_error("cleanup: DAYS");
    days = parse_count(argv[0], 36500, "cleanup: DAYS must be a number > 0");
    load_config(dir, &cfg, 1);
    if ((removed = fh_cleanup(&cfg, days, msg, sizeof(msg))) < 0) die("%s", msg);
    printf("removed %lld versions\n", removed);
    fh_config_free(&cfg);
    free(dir);
    return 0;
}

static volatile sig_atomic_t cycle_cancel;
static void on_cycle_signal(int sig) { (void)sig; cycle_cancel = 1; }

static int cmd_run_cycle(int argc, char **argv)
{
    struct fh_config cfg;
    struct fh_cycle_options opt = { 0 };
    struct fh_cycle_result res;
    struct sigaction sa;
    char *dir = fh_config_dir();
    int json = argc == 1 && !strcmp(argv[0], "--json");

    if (argc && !json) usage_error("run-cycle: unknown option");
    load_config(dir, &cfg, 1);
    if (!cfg.target_url) die("%s", hr_message(FHSVC_E_NOT_CONFIGURED));
    if (cfg.dp_status != FH_STATUS_ENABLED) die("%s", hr_message(FHSVC_E_CONFIG_DISABLED));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_cycle_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    opt.full_scan = 1;
    opt.cancel = &cycle_cancel;
    opt.progress_fd = isatty(2) && !json ? 2 : -1;
    opt.log_fd = 2;     /* each file not backed up, on stderr */
    fh_cycle_run(&cfg, dir, &opt, &res);
    if (json)
        printf("{\"state\":%u,\"state_name\":\"%s\",\"examined\":%lld,\"added\":%lld,\"not_backed_up\":%lld,"
               "\"error\":%u,\"cycle_id\":%lld}\n", res.state, state_name(res.state), res.examined, res.added,
               res.not_backed_up, res.error, res.cycle_id);
    else if (isatty(1))
        printf("%lld files examined, %lld new versions%s\n", res.examined, res.added,
               res.not_backed_up ? ", some files not backed up (see above)" : "");
    fh_config_free(&cfg);
    free(dir);
    if (cycle_cancel) die("cancelled");
    if (res.error) die("backup failed: %s%s%s", wb_error_message(res.error), res.message[0] ? ": " : "", res.message);
    if (res.state != FH_STATE_NO_ERROR)
        die("backup failed: %s (0x%02X)%s%s", state_name(res.state), res.state, res.message[0] ? ": " : "",
            res.message);
    if (res.not_backed_up)
        fprintf(stderr, "filehistory: %lld files could not be backed up (named above)\n", res.not_backed_up);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
    {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("filehistory %s\n", WB_VERSION_STRING); return 0; }
    signal(SIGPIPE, SIG_IGN);
    umask(077);
    cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (!strcmp(cmd, "backup")) return cmd_backup(argc, argv);
    if (!strcmp(cmd, "stop")) return cmd_stop(argc, argv);
    if (!strcmp(cmd, "block")) return cmd_block(argc, argv);
    if (!strcmp(cmd, "unblock")) { if (argc) usage_error("unblock takes no argument"); return cmd_unblock(); }
    if (!strcmp(cmd, "status")) return cmd_status(argc, argv);
    if (!strcmp(cmd, "config")) return cmd_config(argc, argv);
    if (!strcmp(cmd, "versions")) return cmd_versions(argc, argv);
    if (!strcmp(cmd, "restore")) return cmd_restore(argc, argv);
    if (!strcmp(cmd, "cleanup")) return cmd_cleanup(argc, argv);
    if (!strcmp(cmd, "run-cycle")) return cmd_run_cycle(argc, argv);
    if (!strcmp(cmd, "daemon"))
    {
        if (argc > 1 || (argc == 1 && strcmp(argv[0], "--detach"))) usage_error("daemon [--detach]");
        return fh_daemon_main(argc == 1);
    }
    usage_error("unknown command");
    return 2;
}
