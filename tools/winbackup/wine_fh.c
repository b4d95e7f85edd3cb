/*
 * `winbackup wine`: File History's registry entries in the prefix, made
 * true at each launch (libs/fh/fh_winreg.c says what they hold and why).
 *
 * Programs written for Windows (LanHistory, dashboards, scripts) do not ask
 * fhsvcctl.dll: they read HKLM\...\fhsvc\Parameters\Configs for the path of
 * Config1.xml and HKCU\...\FileHistory\ProtectedUpToTime for the last
 * backup.  The service runs outside Wine and cannot write a Wine registry;
 * fhsvcctl.dll and fhcfg.dll write them when a program uses them
 * (dlls/fhsvcctl/registry.c).  A program that uses neither sees what the
 * launcher wrote when it started: the configuration and the state file read
 * natively here (the service need not run), the configuration brought to
 * Windows' form first, the directory named as Wine names it (the drive
 * whose dosdevices link is the deepest directory above it, else
 * \\?\unix\...: wine_get_dos_file_name's rule), imported with Wine's own
 * reg.exe from a UTF-16 .reg file.
 *
 * Only a change costs a Wine process: the description of what the registry
 * holds is kept in the prefix (.winbackup-fh-registry) and compared first.
 * What a program changed in the registry itself is not seen; the DLLs and
 * the next change put it right.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "wine.h"

#ifdef WB_HAVE_FH
#include "fh.h"

#define STAMP_NAME  ".winbackup-fh-registry"
#define REG_WINPATH "C:\\windows\\temp\\winbackup-fh-registry.reg"
#define CONFIGS_KEY "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\fhsvc\\Parameters\\Configs"
#define USER_KEY    "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\FileHistory"

/* Wine's DOS name of an absolute Unix path (UTF-8, '\' separated), malloc'ed. */
static char *dos_name(const char *prefix, const char *unix_path)
{
    struct stat drives[26], st;
    int have[26], letter = -1;
    char *candidate, *out, *p;
    size_t keep;

    for (int i = 0; i < 26; i++)
    {
        char link[PATH_MAX];
        have[i] = snprintf(link, sizeof(link), "%s/dosdevices/%c:", prefix, 'a' + i) < (int)sizeof(link) &&
                  !stat(link, &drives[i]);
    }
    if (!(candidate = strdup(unix_path))) return NULL;
    /* the deepest directory above the path (itself included) that is a drive's root */
    for (keep = strlen(candidate); letter < 0; )
    {
        candidate[keep] = 0;
        if (!stat(keep ? candidate : "/", &st))
            for (int i = 0; i < 26 && letter < 0; i++)
                if (have[i] && drives[i].st_dev == st.st_dev && drives[i].st_ino == st.st_ino) letter = i;
        if (letter >= 0 || !keep) break;
        while (keep && candidate[keep] != '/') keep--;
    }
    free(candidate);
    if (letter >= 0)
    {
        if (asprintf(&out, "%c:%s", 'A' + letter, unix_path[keep] ? unix_path + keep : "\\") < 0) return NULL;
    }
    else if (asprintf(&out, "\\\\?\\unix%s", unix_path) < 0) return NULL;
    for (p = out; *p; p++) if (*p == '/') *p = '\\';
    return out;
}

/* What the registry holds, one line each: "configs <value name>" and
 * "protected <FILETIME hex>" when they exist (UTF-8). */
static char *describe(const char *prefix)
{
    char *dir = fh_config_dir(), *dos = NULL, *out = NULL, *more;
    struct fh_winreg reg;
    size_t len;

    if (!dir || fh_winreg_load(dir, &reg, NULL)) goto done;
    if (!reg.listed) out = strdup("");
    else if ((dos = dos_name(prefix, dir)))
    {
        len = strlen(dos);
        if (len && dos[len - 1] == '\\') dos[len - 1] = 0;     /* a drive's root: "X:\" */
        if (asprintf(&out, "configs %s\\Config\n", dos) < 0) out = NULL;
    }
    if (out && reg.protected_known)
    {
        if (asprintf(&more, "%sprotected %016llX\n", out, (unsigned long long)reg.protected_filetime) < 0) more = NULL;
        free(out);
        out = more;
    }
done:
    free(dos);
    free(dir);
    return out;
}

/* The value of the line "<word> <value>" of a description, malloc'ed, or NULL. */
static char *entry(const char *description, const char *word)
{
    size_t len = strlen(word);
    const char *line = description;

    while (*line)
    {
        size_t line_len = strcspn(line, "\n");
        if (line_len > len && !strncmp(line, word, len) && line[len] == ' ')
            return strndup(line + len + 1, line_len - len - 1);
        line += line_len + (line[line_len] == '\n');
    }
    return NULL;
}

/* A .reg string: '\' and '"' escaped */
static void append_reg_string(char **text, const char *s)
{
    char *escaped = malloc(strlen(s) * 2 + 1), *p = escaped, *joined;
    if (!escaped) { free(*text); *text = NULL; return; }
    for (; *s; s++)
    {
        if (*s == '\\' || *s == '"') *p++ = '\\';
        *p++ = *s;
    }
    *p = 0;
    if (!*text || asprintf(&joined, "%s\"%s\"", *text, escaped) < 0) joined = NULL;
    free(*text);
    free(escaped);
    *text = joined;
}

static void append(char **text, const char *s)
{
    char *joined;
    if (!*text || asprintf(&joined, "%s%s", *text, s) < 0) joined = NULL;
    free(*text);
    *text = joined;
}

/* The .reg file (UTF-8 here) that turns the registry described by old into new:
 * the Configs key holds our value or nothing; ProtectedUpToTime is set, or
 * removed when the last import set it (the key is never made for nothing:
 * some readers take its existence for "File History is set up"). */
static char *reg_text(const char *old, const char *new)
{
    char *name = entry(new, "configs"), *filetime = entry(new, "protected"), *had = entry(old, "protected");
    char *text = strdup("Windows Registry Editor Version 5.00\r\n\r\n[-" CONFIGS_KEY "]\r\n\r\n");

    if (name)
    {
        append(&text, "[" CONFIGS_KEY "]\r\n");
        append_reg_string(&text, name);
        append(&text, "=dword:00000001\r\n\r\n");
    }
    if (filetime || had)
    {
        append(&text, "[" USER_KEY "]\r\n\"ProtectedUpToTime\"=");
        if (filetime)
        {
            unsigned long long value = strtoull(filetime, NULL, 16);
            char bytes[40];
            for (int i = 0; i < 8; i++) sprintf(bytes + i * 3, "%02x%s", (unsigned)(value >> (8 * i)) & 0xff, i < 7 ? "," : "");
            append(&text, "hex(b):");
            append(&text, bytes);
        }
        else append(&text, "-");
        append(&text, "\r\n");
    }
    free(name);
    free(filetime);
    free(had);
    return text;
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t got;

    if (!f) return NULL;
    if ((buf = malloc(65537))) { got = fread(buf, 1, 65536, f); buf[got] = 0; }
    fclose(f);
    return buf;
}

/* UTF-8 -> UTF-16LE with a byte order mark, which reg.exe reads whatever the locale */
static int write_utf16(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    const unsigned char *p = (const unsigned char *)text;
    int ok;

    if (!f) return -1;
    ok = fputc(0xff, f) != EOF && fputc(0xfe, f) != EOF;
    while (ok && *p)
    {
        uint32_t cp;
        int extra = *p < 0x80 ? 0 : *p < 0xe0 ? 1 : *p < 0xf0 ? 2 : 3;
        cp = extra ? *p & (0x3f >> extra) : *p;
        for (p++; extra--; p++) cp = (cp << 6) | (*p & 0x3f);
        if (cp >= 0x10000)
        {
            uint16_t hi = 0xd800 + ((cp - 0x10000) >> 10), lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
            ok = fputc(hi & 0xff, f) != EOF && fputc(hi >> 8, f) != EOF && fputc(lo & 0xff, f) != EOF &&
                 fputc(lo >> 8, f) != EOF;
        }
        else ok = fputc(cp & 0xff, f) != EOF && fputc(cp >> 8, f) != EOF;
    }
    return fclose(f) || !ok ? -1 : 0;
}

int wb_wine_fh_registry_prepare(const char *prefix, char *reg_path, size_t reg_size, char *win_path,
                                size_t win_size)
{
    char stamp[PATH_MAX], *old, *new, *text;
    int ret;

    if (snprintf(stamp, sizeof(stamp), "%s/%s", prefix, STAMP_NAME) >= (int)sizeof(stamp) ||
        snprintf(reg_path, reg_size, "%s/drive_c/windows/temp/winbackup-fh-registry.reg", prefix) >= (int)reg_size ||
        snprintf(win_path, win_size, "%s", REG_WINPATH) >= (int)win_size)
        return -1;
    if (!(new = describe(prefix))) return -1;
    old = read_small(stamp);
    if (!strcmp(old ? old : "", new)) ret = 0;
    else if (!(text = reg_text(old ? old : "", new))) ret = -1;
    else
    {
        char pending[PATH_MAX + 8];
        FILE *f;
        snprintf(pending, sizeof(pending), "%s.new", stamp);
        ret = write_utf16(reg_path, text) || !(f = fopen(pending, "w")) ? -1 : 1;
        if (ret > 0 && (fputs(new, f) == EOF) + fclose(f)) ret = -1;
        free(text);
    }
    free(old);
    free(new);
    return ret;
}

int wb_wine_fh_registry_commit(const char *prefix)
{
    char stamp[PATH_MAX], pending[PATH_MAX + 8];
    snprintf(stamp, sizeof(stamp), "%s/%s", prefix, STAMP_NAME);
    snprintf(pending, sizeof(pending), "%s.new", stamp);
    return rename(pending, stamp);
}

#else /* no File History engine in this build: nothing to write */

int wb_wine_fh_registry_prepare(const char *prefix, char *reg_path, size_t reg_size, char *win_path,
                                size_t win_size)
{
    return 0;
}

int wb_wine_fh_registry_commit(const char *prefix)
{
    return 0;
}

#endif
