/*
 * `winbackup wine [--prefix DIR] [--setup-only] [--] PROG.exe [ARGS...]`
 *
 * Runs an unmodified Windows program under the installed (stock) Wine with
 * working BackupRead / BackupSeek / BackupWrite.
 *
 * Wine cannot load another kernel32, and its own kernel32 only has stubs for
 * these three.  What does work (see shared/reference/wine-notes.md): a copy
 * of the installed Wine's own kernel32.dll with the builtin marker cleared
 * and the three exports turned into forwarders to winbackup.dll (pe_patch.c),
 * loaded as "native" through WINEDLLOVERRIDES=kernel32=n.  winbackup.dll is a
 * PE + Unix builtin found through WINEDLLPATH.
 *
 * The override applies to every process of the prefix (services.exe,
 * winedevice.exe, ...), so the patched copy must be the prefix's own
 * system32\kernel32.dll.  That is why the tool owns its prefix
 * ($WINBACKUP_WINEPREFIX, default ~/.local/share/winbackup/wineprefix) and
 * never touches a user's ~/.wine.  wineboot (first start, or after a Wine
 * upgrade) rewrites system32 with builtin copies, so it runs without the
 * override and the patched copy is put back on every launch when it differs.
 *
 * Environment:
 *   WINBACKUP_WINEPREFIX    the prefix
 *   WINBACKUP_WINE_DLLDIR   where winbackup.dll/.so are (default: the install dir)
 *   WINBACKUP_WINE          the Wine loader (default: the one found by configure)
 *   WINBACKUP_WINESERVER    wineserver (default: the one found by configure)
 *   WINBACKUP_WINE_KERNEL32 the Wine kernel32.dll (x86_64-windows) to patch
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wine.h"

#ifndef WB_WINE_DLLDIR
#define WB_WINE_DLLDIR "/usr/local/lib/winbackup/wine"
#endif
#ifndef WB_WINE_LIBDIR
#define WB_WINE_LIBDIR "/usr/lib/x86_64-linux-gnu/wine"
#endif
#ifndef WB_WINE_LOADER
#define WB_WINE_LOADER "wine"
#endif
#ifndef WB_WINESERVER
#define WB_WINESERVER "wineserver"
#endif

#define FORWARD_MODULE "winbackup"
#define LAUNCH_FAILED 125

static const char *const forwarded_exports[] = { "BackupRead", "BackupSeek", "BackupWrite" };

struct wine_setup
{
    char prefix[PATH_MAX];
    char dlldir[PATH_MAX];
    char kernel32[PATH_MAX];
    const char *loader;
    const char *server;
};

/* snprintf into a path buffer; -1 (with a message) when the path does not fit */
static int __attribute__((format(printf, 3, 4))) path_printf(char *buf, size_t size, const char *format, ...)
{
    va_list args;
    int len;

    va_start(args, format);
    len = vsnprintf(buf, size, format, args);
    va_end(args);
    if (len < 0 || (size_t)len >= size)
    {
        fprintf(stderr, "winbackup wine: path too long: %s...\n", buf);
        return -1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: winbackup wine [--prefix DIR] [--setup-only] [--] PROG.exe [ARGS...]\n");
}

static int file_exists(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t i, len = strlen(path);

    if (len >= sizeof(buf)) return -1;
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++)
    {
        if (buf[i] != '/' && buf[i]) continue;
        buf[i] = 0;
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        buf[i] = path[i];
    }
    return 0;
}

/* WINEDLLOVERRIDES with every entry naming kernel32 dropped (Wine sorts the
 * entries, so a duplicate could win) and "first", when not NULL, in front. */
static int set_overrides(const char *first)
{
    const char *old = getenv("WINEDLLOVERRIDES");
    char *copy, *entry, *save = NULL, *joined;
    int ret;

    if (!old) old = "";
    if (!(copy = strdup(old)) || !(joined = malloc(strlen(old) + (first ? strlen(first) : 0) + 2)))
    {
        free(copy);
        return -1;
    }
    strcpy(joined, first ? first : "");
    for (entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(NULL, ";", &save))
    {
        if (strcasestr(entry, "kernel32")) continue;
        if (*joined) strcat(joined, ";");
        strcat(joined, entry);
    }
    ret = *joined ? setenv("WINEDLLOVERRIDES", joined, 1) : unsetenv("WINEDLLOVERRIDES");
    free(joined);
    free(copy);
    return ret;
}

/* Prepend "value" to the variable name with a separator, keeping what the user had. */
static int prepend_env(const char *name, const char *value, char sep)
{
    const char *old = getenv(name);
    char *joined;
    int ret;

    if (!old || !*old) return setenv(name, value, 1);
    if (asprintf(&joined, "%s%c%s", value, sep, old) < 0) return -1;
    ret = setenv(name, joined, 1);
    free(joined);
    return ret;
}

/* Run argv with the current environment; exit status, or -1. */
static int run(char *const argv[])
{
    pid_t pid;
    int status;

    if ((pid = fork()) < 0) return -1;
    if (!pid)
    {
        execvp(argv[0], argv);
        fprintf(stderr, "winbackup wine: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

static int find_inputs(struct wine_setup *setup)
{
    static const char *const kernel32_candidates[] =
    {
        WB_WINE_LIBDIR "/x86_64-windows/kernel32.dll",
        "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernel32.dll",
        "/usr/lib/wine/x86_64-windows/kernel32.dll",
        "/usr/local/lib/wine/x86_64-windows/kernel32.dll",
        "/opt/wine-stable/lib64/wine/x86_64-windows/kernel32.dll",
    };
    const char *env;
    char path[PATH_MAX];
    size_t i;

    env = getenv("WINBACKUP_WINE_DLLDIR");
    if (path_printf(setup->dlldir, sizeof(setup->dlldir), "%s", env && *env ? env : WB_WINE_DLLDIR) ||
        path_printf(path, sizeof(path), "%s/%s.dll", setup->dlldir, FORWARD_MODULE))
        return -1;
    if (!file_exists(path))
    {
        fprintf(stderr, "winbackup wine: %s not found (set WINBACKUP_WINE_DLLDIR)\n", path);
        return -1;
    }
    if (setup->dlldir[0] != '/' && realpath(setup->dlldir, path) &&
        path_printf(setup->dlldir, sizeof(setup->dlldir), "%s", path))
        return -1;

    setup->kernel32[0] = 0;
    if ((env = getenv("WINBACKUP_WINE_KERNEL32")) && *env)
    {
        if (path_printf(setup->kernel32, sizeof(setup->kernel32), "%s", env)) return -1;
    }
    else
        for (i = 0; i < sizeof(kernel32_candidates) / sizeof(kernel32_candidates[0]); i++)
            if (file_exists(kernel32_candidates[i]))
            {
                if (path_printf(setup->kernel32, sizeof(setup->kernel32), "%s", kernel32_candidates[i])) return -1;
                break;
            }
    if (!setup->kernel32[0] || !file_exists(setup->kernel32))
    {
        fprintf(stderr, "winbackup wine: no 64-bit Wine kernel32.dll found (set WINBACKUP_WINE_KERNEL32)\n");
        return -1;
    }

    env = getenv("WINBACKUP_WINE");
    setup->loader = env && *env ? env : WB_WINE_LOADER[0] ? WB_WINE_LOADER : "wine";
    env = getenv("WINBACKUP_WINESERVER");
    setup->server = env && *env ? env : WB_WINESERVER[0] ? WB_WINESERVER : "wineserver";
    return 0;
}

static int choose_prefix(struct wine_setup *setup, const char *option)
{
    const char *env = getenv("WINBACKUP_WINEPREFIX"), *home = getenv("HOME");

    int err;

    if (option) err = path_printf(setup->prefix, sizeof(setup->prefix), "%s", option);
    else if (env && *env) err = path_printf(setup->prefix, sizeof(setup->prefix), "%s", env);
    else if (home && *home)
        err = path_printf(setup->prefix, sizeof(setup->prefix), "%s/.local/share/winbackup/wineprefix", home);
    else
    {
        fprintf(stderr, "winbackup wine: no prefix (set WINBACKUP_WINEPREFIX or HOME)\n");
        return -1;
    }
    if (err) return -1;
    if (setup->prefix[0] != '/')
    {
        char cwd[PATH_MAX], joined[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd))) return -1;
        if (path_printf(joined, sizeof(joined), "%s/%s", cwd, setup->prefix)) return -1;
        memcpy(setup->prefix, joined, sizeof(joined));
    }
    return 0;
}

/* Wine re-runs wineboot when wine.inf changed since the prefix was last
 * updated (the prefix's .update-timestamp holds wine.inf's mtime); that run
 * rewrites system32, so do it ourselves, before the patched kernel32 goes in. */
static int prefix_needs_boot(const struct wine_setup *setup)
{
    static const char *const wine_inf_candidates[] =
    {
        WB_WINE_LIBDIR "/../../../share/wine/wine.inf",
        "/usr/share/wine/wine.inf",
        "/usr/local/share/wine/wine.inf",
    };
    char path[PATH_MAX + 32], stamp[64] = "";
    struct stat st;
    FILE *file;
    size_t i;

    if (path_printf(path, sizeof(path), "%s/system.reg", setup->prefix) || stat(path, &st)) return 1;
    if (path_printf(path, sizeof(path), "%s/drive_c/windows/system32", setup->prefix) ||
        stat(path, &st) || !S_ISDIR(st.st_mode))
        return 1;
    if (path_printf(path, sizeof(path), "%s/.update-timestamp", setup->prefix)) return 1;
    if ((file = fopen(path, "r")))
    {
        if (!fgets(stamp, sizeof(stamp), file)) stamp[0] = 0;
        fclose(file);
    }
    if (!strncmp(stamp, "disable", 7)) return 0;
    for (i = 0; i < sizeof(wine_inf_candidates) / sizeof(wine_inf_candidates[0]); i++)
        if (!stat(wine_inf_candidates[i], &st))
            return strtoull(stamp, NULL, 10) != (unsigned long long)st.st_mtime;
    return 0;
}

static int boot_prefix(const struct wine_setup *setup)
{
    char *boot_argv[] = { (char *)setup->loader, (char *)"wineboot.exe", (char *)"--update", NULL };
    char *wait_argv[] = { (char *)setup->server, (char *)"-w", NULL };
    int status;

    fprintf(stderr, "winbackup wine: initializing the Wine prefix %s\n", setup->prefix);
    if (set_overrides(NULL)) return -1;   /* wineboot must use Wine's own kernel32 */
    status = run(boot_argv);
    if (status) fprintf(stderr, "winbackup wine: wineboot failed (status %d)\n", status);
    if (run(wait_argv)) fprintf(stderr, "winbackup wine: wineserver -w failed\n");
    return status ? -1 : 0;
}

static int same_contents(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    char ba[65536], bb[65536];
    size_t na, nb;
    int same = fa && fb;

    while (same)
    {
        na = fread(ba, 1, sizeof(ba), fa);
        nb = fread(bb, 1, sizeof(bb), fb);
        if (na != nb || memcmp(ba, bb, na)) same = 0;
        if (!na) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* Move temp over target unless target already has the same bytes. */
static int replace_if_different(const char *temp, const char *target)
{
    if (same_contents(temp, target))
    {
        unlink(temp);
        return 0;
    }
    if (rename(temp, target))
    {
        fprintf(stderr, "winbackup wine: %s: %s\n", target, strerror(errno));
        unlink(temp);
        return -1;
    }
    return 0;
}

static int copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    char buffer[65536];
    size_t got;
    int ret = in && out ? 0 : -1;

    while (!ret && (got = fread(buffer, 1, sizeof(buffer), in)))
        if (fwrite(buffer, 1, got, out) != got) ret = -1;
    if (in && ferror(in)) ret = -1;
    if (out && fclose(out)) ret = -1;
    if (in) fclose(in);
    if (ret) fprintf(stderr, "winbackup wine: cannot copy %s to %s\n", src, dst);
    return ret;
}

/* Put the patched kernel32 and winbackup.dll in the prefix's system32 unless they are there already.
 *
 * winbackup.dll must have a file in the search path: Wine 8 looks for a
 * builtin in WINEDLLPATH only once it found a builtin-marked file of that
 * name (as its own fake DLLs in system32); the file found there then loads
 * the real one, with its Unix library, from WINEDLLPATH. */
static int install_dlls(const struct wine_setup *setup)
{
    char target[PATH_MAX + 64], temp[PATH_MAX + 64], source[PATH_MAX + 64], err[256];

    if (path_printf(target, sizeof(target), "%s/drive_c/windows/system32/kernel32.dll", setup->prefix) ||
        path_printf(temp, sizeof(temp), "%s.winbackup-%d", target, (int)getpid()))
        return -1;
    if (wb_pe_forward_exports(setup->kernel32, temp, FORWARD_MODULE, forwarded_exports,
                              sizeof(forwarded_exports) / sizeof(forwarded_exports[0]), err, sizeof(err)))
    {
        fprintf(stderr, "winbackup wine: cannot patch %s: %s\n", setup->kernel32, err);
        unlink(temp);
        return -1;
    }
    if (replace_if_different(temp, target)) return -1;

    if (path_printf(source, sizeof(source), "%s/%s.dll", setup->dlldir, FORWARD_MODULE) ||
        path_printf(target, sizeof(target), "%s/drive_c/windows/system32/%s.dll", setup->prefix, FORWARD_MODULE) ||
        path_printf(temp, sizeof(temp), "%s.winbackup-%d", target, (int)getpid()))
        return -1;
    if (copy_file(source, temp))
    {
        unlink(temp);
        return -1;
    }
    return replace_if_different(temp, target);
}

/* File History's COM classes (fhcfg.dll) and service control (fhsvcctl.dll),
 * when built: copied to system32 and fhcfg.dll registered with regsvr32, so
 * CoCreateInstance(CLSID_FhConfigMgr) works for any program of the prefix.
 * regsvr32 runs with Wine's own kernel32, as wineboot does. */
static int install_file_history(const struct wine_setup *setup)
{
    static const char *const dlls[] = { "fhsvcctl", "fhcfg" };
    char source[PATH_MAX + 64], target[PATH_MAX + 64], temp[PATH_MAX + 64], registered[PATH_MAX + 64];
    char *reg_argv[] = { (char *)setup->loader, (char *)"regsvr32.exe", (char *)"/s",
                         (char *)"C:\\windows\\system32\\fhcfg.dll", NULL };
    struct stat st;
    size_t i;

    for (i = 0; i < sizeof(dlls) / sizeof(dlls[0]); i++)
    {
        if (path_printf(source, sizeof(source), "%s/%s.dll", setup->dlldir, dlls[i]) ||
            path_printf(target, sizeof(target), "%s/drive_c/windows/system32/%s.dll", setup->prefix, dlls[i]) ||
            path_printf(temp, sizeof(temp), "%s.winbackup-%d", target, (int)getpid()))
            return -1;
        if (!file_exists(source)) continue;
        if (copy_file(source, temp) || replace_if_different(temp, target)) { unlink(temp); return -1; }
    }
    /* register once per copy of the DLL: the stamp is not older than the DLL it registered */
    if (path_printf(target, sizeof(target), "%s/drive_c/windows/system32/fhcfg.dll", setup->prefix) ||
        path_printf(registered, sizeof(registered), "%s/.winbackup-fhcfg-registered", setup->prefix))
        return -1;
    if (!file_exists(target)) return 0;
    if (!stat(registered, &st))
    {
        struct stat dll;
        if (!stat(target, &dll) && (st.st_mtim.tv_sec > dll.st_mtim.tv_sec ||
                                    (st.st_mtim.tv_sec == dll.st_mtim.tv_sec && st.st_mtim.tv_nsec >= dll.st_mtim.tv_nsec)))
            return 0;
    }
    if (set_overrides(NULL) || run(reg_argv))
    {
        fprintf(stderr, "winbackup wine: regsvr32 fhcfg.dll failed\n");
        return -1;
    }
    {
        FILE *stamp = fopen(registered, "w");
        if (stamp) fclose(stamp);
    }
    return 0;
}

int wb_cli_wine(int argc, char **argv)
{
    struct wine_setup setup;
    const char *prefix_option = NULL;
    int setup_only = 0, i;
    char **prog_argv;

    for (i = 0; i < argc; i++)
    {
        if (!strcmp(argv[i], "--")) { i++; break; }
        if (!strcmp(argv[i], "--prefix") && i + 1 < argc) prefix_option = argv[++i];
        else if (!strcmp(argv[i], "--setup-only")) setup_only = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(); return 0; }
        else if (argv[i][0] == '-') { usage(); return LAUNCH_FAILED; }
        else break;
    }
    if (!setup_only && i >= argc)
    {
        usage();
        return LAUNCH_FAILED;
    }

    if (choose_prefix(&setup, prefix_option) || find_inputs(&setup)) return LAUNCH_FAILED;
    if (mkdir_p(setup.prefix))
    {
        fprintf(stderr, "winbackup wine: cannot create %s: %s\n", setup.prefix, strerror(errno));
        return LAUNCH_FAILED;
    }
    if (setenv("WINEPREFIX", setup.prefix, 1)) return LAUNCH_FAILED;
    if (prefix_needs_boot(&setup) && boot_prefix(&setup)) return LAUNCH_FAILED;
    if (install_dlls(&setup) || install_file_history(&setup)) return LAUNCH_FAILED;
    if (setup_only) return 0;

    if (set_overrides("kernel32=n") || prepend_env("WINEDLLPATH", setup.dlldir, ':'))
        return LAUNCH_FAILED;

    /* the program replaces us: its exit status and signals are the caller's */
    if (!(prog_argv = calloc(argc - i + 2, sizeof(*prog_argv)))) return LAUNCH_FAILED;
    prog_argv[0] = (char *)setup.loader;
    memcpy(prog_argv + 1, argv + i, (argc - i) * sizeof(*prog_argv));
    fflush(NULL);
    execvp(prog_argv[0], prog_argv);
    fprintf(stderr, "winbackup wine: cannot run %s: %s\n", prog_argv[0], strerror(errno));
    free(prog_argv);
    return LAUNCH_FAILED;
}
