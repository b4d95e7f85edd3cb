/*
 * Version file names and the target layout.
 *
 * A version of /home/alice/doc/report.docx made by the cycle of
 * 2026-11-23 09:15:02 UTC is stored, below <target>/FileHistory/<user>/<pc>/, as
 *
 *     Data/C/home/alice/doc/report (2026_11_23 09_15_02 UTC).docx
 *
 * i.e. the POSIX file system is presented as drive C: ("C" is the drive
 * directory Windows tools expect; "/" is its root) and the path below it is
 * the POSIX path without its leading slash.  The stamp goes before the
 * extension, which is what follows the last dot of the final component
 * ("a.tar.gz" -> "a.tar (stamp).gz", ".bashrc" -> " (stamp).bashrc");
 * without a dot the stamp goes at the end.
 *
 * When the Windows form of the full stored path ("Z:" + the target path with
 * '\' for '/', see fh_windows_length) would not fit in MAX_PATH (259
 * characters + NUL), the version goes to Data/$OF/<file id>/<version name>
 * instead, <file id> being the file's row id in the catalog; the catalog
 * keeps the original path of every version, so restore does not depend on
 * the directory a version is in.  So do versions that cannot be stored
 * under their own name at all: a name whose version name would exceed
 * NAME_MAX (255 bytes), and a path with control characters (no Windows name
 * holds them); their $OF name is made safe (see fh_overflow_relpath).
 *
 * Pure string code: no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fh.h"

int fh_format_stamp(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) return -1;
    if (size < FH_STAMP_LEN + 1) return -1;
    snprintf(buf, size, "%04d_%02d_%02d %02d_%02d_%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

void fh_format_iso(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (!gmtime_r(&t, &tm)) { snprintf(buf, size, "-"); return; }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int name_is_valid(const char *base)
{
    if (!base || !*base || strchr(base, '/')) return 0;
    if (!strcmp(base, ".") || !strcmp(base, "..")) return 0;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

char *fh_version_name(const char *base, time_t t)
{
    char stamp[FH_STAMP_LEN + 1];
    const char *dot;
    size_t stem, len;
    char *out;

    if (!name_is_valid(base) || fh_format_stamp(t, stamp, sizeof(stamp))) return NULL;
    dot = strrchr(base, '.');
    stem = dot ? (size_t)(dot - base) : strlen(base);
    len = strlen(base) + FH_STAMP_LEN + 4;
    if (!(out = malloc(len))) return NULL;
    snprintf(out, len, "%.*s (%s)%s", (int)stem, base, stamp, dot ? dot : "");
    return out;
}

/* "YYYY_MM_DD HH_MM_SS" at p (19 chars) -> t */
static int parse_stamp_fields(const char *p, char sep_date, char sep_mid, char sep_time, time_t *t)
{
    struct tm tm;
    int y, mo, d, h, mi, s;
    static const char digits[] = "dddd_dd_dd dd_dd_dd";

    for (int i = 0; i < 19; i++)
    {
        if (digits[i] == 'd') { if (!isdigit((unsigned char)p[i])) return -1; }
        else if (i == 4 || i == 7) { if (p[i] != sep_date) return -1; }
        else if (i == 10) { if (p[i] != sep_mid) return -1; }
        else if (p[i] != sep_time) return -1;
    }
    if (sscanf(p, "%4d", &y) != 1) return -1;
    mo = (p[5] - '0') * 10 + p[6] - '0';
    d = (p[8] - '0') * 10 + p[9] - '0';
    h = (p[11] - '0') * 10 + p[12] - '0';
    mi = (p[14] - '0') * 10 + p[15] - '0';
    s = (p[17] - '0') * 10 + p[18] - '0';
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
    tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = s;
    *t = timegm(&tm);
    /* timegm normalizes 31 February into March: refuse such dates */
    {
        struct tm back;
        if (!gmtime_r(t, &back) || back.tm_mday != d || back.tm_mon != mo - 1) return -1;
    }
    return 0;
}

int fh_parse_version_name(const char *vname, char **base, time_t *t)
{
    /* find the last " (" followed by a well-formed stamp and ")" */
    const char *p = NULL, *q;
    size_t vlen;

    if (!vname || !base || !t) return -1;
    vlen = strlen(vname);
    for (q = vname; (q = strstr(q, " (")); q++)
    {
        if ((size_t)(q - vname) + 2 + FH_STAMP_LEN + 1 > vlen) break;
        if (q[2 + FH_STAMP_LEN] == ')' && !memcmp(q + 2 + 19, " UTC", 4) &&
            !parse_stamp_fields(q + 2, '_', ' ', '_', t))
            p = q;
    }
    if (!p) return -1;
    {
        const char *ext = p + 2 + FH_STAMP_LEN + 1;
        size_t stem = p - vname;
        if (*ext && (*ext != '.' || strchr(ext + 1, '.'))) return -1;
        if (!(*base = malloc(stem + strlen(ext) + 1))) return -1;
        memcpy(*base, vname, stem);
        strcpy(*base + stem, ext);
        parse_stamp_fields(p + 2, '_', ' ', '_', t);
    }
    return 0;
}

int fh_path_is_valid(const char *path)
{
    /* normalized, and no control character (names that reach logs and terminals) */
    if (!fh_path_is_normalized(path)) return 0;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

char *fh_data_relpath(const char *path, time_t t)
{
    const char *slash;
    char *vname, *out;
    size_t len;

    if (!fh_path_is_valid(path)) return NULL;
    slash = strrchr(path, '/');
    if (!(vname = fh_version_name(slash + 1, t))) return NULL;
    len = strlen("Data/C/") + (slash - path) + strlen(vname) + 2;
    if ((out = malloc(len)))
    {
        if (slash == path) snprintf(out, len, "Data/C/%s", vname);
        else snprintf(out, len, "Data/C/%.*s/%s", (int)(slash - path - 1), path + 1, vname);
    }
    free(vname);
    return out;
}

int fh_path_is_normalized(const char *path)
{
    const char *p;

    if (!path || path[0] != '/' || !path[1]) return 0;
    if (path[strlen(path) - 1] == '/') return 0;
    for (p = path; *p; )
    {
        const char *comp = p + 1, *end = strchr(comp, '/');
        size_t len = end ? (size_t)(end - comp) : strlen(comp);
        if (len == 0) return 0;
        if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.')) return 0;
        if (len > 255) return 0;
        p = comp + len;
    }
    return 1;
}

int fh_path_fits_data(const char *path)
{
    /* " (" stamp ")" around the stamp */
    return fh_path_is_valid(path) && strlen(strrchr(path, '/') + 1) + FH_STAMP_LEN + 3 <= 255;
}

/* A byte that no target file system refuses in a name. */
static char safe_byte(unsigned char c)
{
    if (c < 0x20 || c == 0x7f || strchr("\\:*?\"<>|", c)) return '_';
    return (char)c;
}

char *fh_overflow_relpath(const char *path, long long file_id, time_t t)
{
    char stamp[FH_STAMP_LEN + 1], *out;
    const char *base, *dot;
    size_t stem, ext, len, room;

    if (!fh_path_is_normalized(path) || file_id <= 0 || fh_format_stamp(t, stamp, sizeof(stamp))) return NULL;
    base = strrchr(path, '/') + 1;
    dot = strrchr(base, '.');
    ext = dot ? strlen(dot) : 0;
    if (ext > 32) { ext = 0; dot = NULL; }     /* not an extension to keep whole */
    stem = dot ? (size_t)(dot - base) : strlen(base);
    /* the version name "stem (stamp)ext" within NAME_MAX */
    room = 255 - (FH_STAMP_LEN + 3) - ext;
    if (stem > room)
    {
        stem = room;
        while (stem && ((unsigned char)base[stem] & 0xc0) == 0x80) stem--;   /* not inside a UTF-8 sequence */
    }
    len = 40 + stem + FH_STAMP_LEN + 3 + ext + 1;
    if (!(out = malloc(len))) return NULL;
    len = (size_t)snprintf(out, len, "Data/$OF/%lld/", file_id);
    for (size_t i = 0; i < stem; i++) out[len++] = safe_byte((unsigned char)base[i]);
    len += (size_t)sprintf(out + len, " (%s)", stamp);
    for (size_t i = 0; i < ext; i++) out[len++] = safe_byte((unsigned char)dot[i]);
    out[len] = 0;
    return out;
}

size_t fh_windows_length(const char *root, const char *relpath)
{
    size_t root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/') root_len--;
    return 2 + root_len + 1 + strlen(relpath);
}

int fh_parse_time(const char *text, time_t *t)
{
    size_t len;

    if (!text || !t) return -1;
    len = strlen(text);
    if (text[0] == '@')
    {
        char *end;
        long long v;
        if (!isdigit((unsigned char)text[1])) return -1;
        v = strtoll(text + 1, &end, 10);
        if (*end) return -1;
        *t = (time_t)v;
        return 0;
    }
    if (len == 20 && text[19] == 'Z') return parse_stamp_fields(text, '-', 'T', ':', t);
    if (len == 19 && text[10] == 'T') return parse_stamp_fields(text, '-', 'T', ':', t);
    if (len == 19 && text[4] == '-') return parse_stamp_fields(text, '-', ' ', ':', t);
    if ((len == 19 || (len == 23 && !strcmp(text + 19, " UTC"))) && text[4] == '_')
        return parse_stamp_fields(text, '_', ' ', '_', t);
    if (len == 10)
    {
        char buf[20];
        snprintf(buf, sizeof(buf), "%s 23:59:59", text);
        return parse_stamp_fields(buf, '-', ' ', ':', t);
    }
    return -1;
}
