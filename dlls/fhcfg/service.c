/*
 * fhcfg.dll: requests to the File History service and path conversions
 *
 * Strings go to the service percent-encoded (docs/fh-protocol.md, 7.1):
 * bytes 0x21..0x7e but '%' as they are, every other byte as %XX, behind a
 * '='; a value too long for one line goes first in "ARG =<part>" lines.
 * Strings come back in parts asked for by byte offset.  The service, not
 * this file, interprets them.
 *
 * Windows paths become Unix paths through Wine's own converter, so drive
 * mappings, case and the prefix's shell-folder links are Wine's; outside
 * Wine there is no converter and path methods fail.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhcfg_private.h"

/* Longest encoded part per line: leaves room for the command and its numbers. */
#define PART_CHARS 180

void link_init(struct service_link *link)
{
    InitializeCriticalSection(&link->cs);
    link->conn = NULL;
}

void link_free(struct service_link *link)
{
    fh_conn_close(link->conn);
    link->conn = NULL;
    DeleteCriticalSection(&link->cs);
}

/* Caller holds link->cs.  The service is started when it is not running,
 * as FhServiceOpenPipe(TRUE) does. */
static HRESULT link_connect(struct service_link *link)
{
    if (link->conn && link->conn->broken)
    {
        /* the service went away: its state for this object went with it */
        fh_conn_close(link->conn);
        link->conn = NULL;
        return FH_E_CONNECTION_LOST;
    }
    if (link->conn) return S_OK;
    return fh_conn_open(TRUE, &link->conn);
}

static HRESULT send_locked(struct service_link *link, const char *line, char *text, size_t text_size)
{
    HRESULT hr = link_connect(link);
    if (SUCCEEDED(hr)) hr = fh_conn_request(link->conn, line, text, text_size);
    return hr;
}

HRESULT link_request(struct service_link *link, char *text, size_t text_size, const char *format, ...)
{
    char line[FH_LINE_MAX];
    va_list args;
    HRESULT hr;
    int len;

    va_start(args, format);
    len = vsnprintf(line, sizeof(line), format, args);
    va_end(args);
    if (len < 0 || len >= (int)sizeof(line)) return E_INVALIDARG;
    EnterCriticalSection(&link->cs);
    hr = send_locked(link, line, text, text_size);
    LeaveCriticalSection(&link->cs);
    return hr;
}

/* Encodes bytes of value from *pos into out (at most PART_CHARS characters). */
static void encode_part(const char *value, size_t len, size_t *pos, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    while (*pos < len)
    {
        unsigned char c = (unsigned char)value[*pos];
        BOOL plain = c >= 0x21 && c <= 0x7e && c != '%';
        if (n + (plain ? 1 : 3) > PART_CHARS) break;
        if (plain) out[n++] = c;
        else { out[n++] = '%'; out[n++] = hex[c >> 4]; out[n++] = hex[c & 15]; }
        (*pos)++;
    }
    out[n] = 0;
}

HRESULT link_request_string(struct service_link *link, const char *command, const char *value,
                            char *text, size_t text_size)
{
    char part[PART_CHARS + 1], line[FH_LINE_MAX];
    size_t len = strlen(value), pos = 0;
    HRESULT hr = S_OK;

    if (len > FH_STRING_MAX) return E_INVALIDARG;
    EnterCriticalSection(&link->cs);
    for (;;)
    {
        encode_part(value, len, &pos, part);
        if (pos < len)
        {
            snprintf(line, sizeof(line), "ARG =%s", part);
            if (FAILED(hr = send_locked(link, line, NULL, 0))) break;
            continue;
        }
        snprintf(line, sizeof(line), "%s =%s", command, part);
        hr = send_locked(link, line, text, text_size);
        break;
    }
    LeaveCriticalSection(&link->cs);
    return hr;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Appends the decoded part to buf; FALSE on a malformed part. */
static BOOL decode_part(const char *part, char *buf, size_t *len, size_t total)
{
    for (; *part; part++)
    {
        int c = (unsigned char)*part;
        if (c == '%')
        {
            int hi = hex_digit(part[1]), lo = hi < 0 ? -1 : hex_digit(part[2]);
            if (lo < 0 || !(c = hi * 16 + lo)) return FALSE;
            part += 2;
        }
        else if (c < 0x21 || c > 0x7e) return FALSE;
        if (*len >= total) return FALSE;
        buf[(*len)++] = (char)c;
    }
    return TRUE;
}

HRESULT link_fetch_string(struct service_link *link, const char *prefix, char **value)
{
    char text[FH_LINE_MAX], *buf = NULL, *end;
    size_t len = 0, total = 0;
    HRESULT hr;

    *value = NULL;
    do
    {
        unsigned long announced;
        if (FAILED(hr = link_request(link, text, sizeof(text), "%s %Iu", prefix, len))) break;
        announced = strtoul(text, &end, 10);
        if (end == text || strncmp(end, " =", 2) || announced > FH_STRING_MAX || (buf && announced != total))
        {
            hr = FH_E_BAD_REPLY;
            break;
        }
        if (!buf && !(buf = malloc((total = announced) + 1))) { hr = E_OUTOFMEMORY; break; }
        if (!decode_part(end + 2, buf, &len, total) || (len < total && !end[2]))
        {
            hr = FH_E_BAD_REPLY;   /* malformed, or a part that brings nothing: never loop */
            break;
        }
    } while (len < total);
    if (FAILED(hr)) { free(buf); return hr; }
    if (!buf && !(buf = malloc(1))) return E_OUTOFMEMORY;
    buf[len] = 0;
    *value = buf;
    return S_OK;
}

/* ------------------------------------------------------------------ */

HRESULT unix_path_from_dos(const WCHAR *dos, char **unix_path)
{
    typedef char * (CDECL *get_unix_file_name_fn)(const WCHAR *);
    get_unix_file_name_fn get_unix_file_name;
    char *converted;
    size_t len;

    *unix_path = NULL;
    if (!dos || !dos[0] || wcslen(dos) >= 32767) return E_INVALIDARG;
    get_unix_file_name = (get_unix_file_name_fn)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                                       "wine_get_unix_file_name");
    if (!get_unix_file_name) return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    if (!(converted = get_unix_file_name(dos))) return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    len = strlen(converted);
    /* "X:\" names a directory: drop the trailing separators the URL form carries */
    while (len > 1 && converted[len - 1] == '/') converted[--len] = 0;
    if (len > FH_STRING_MAX || !(*unix_path = malloc(len + 1)))
    {
        HeapFree(GetProcessHeap(), 0, converted);
        return len > FH_STRING_MAX ? E_INVALIDARG : E_OUTOFMEMORY;
    }
    memcpy(*unix_path, converted, len + 1);
    HeapFree(GetProcessHeap(), 0, converted);
    return S_OK;
}

HRESULT bstr_from_utf8(const char *utf8, BSTR *out)
{
    int len = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0);
    *out = NULL;
    if (len <= 0) return HRESULT_FROM_WIN32(ERROR_NO_UNICODE_TRANSLATION);
    if (!(*out = SysAllocStringLen(NULL, len - 1))) return E_OUTOFMEMORY;
    MultiByteToWideChar(CP_UTF8, 0, utf8, -1, *out, len);
    return S_OK;
}

HRESULT bstr_from_unix_path(const char *unix_path, BOOL trailing_backslash, BSTR *out)
{
    typedef WCHAR * (CDECL *get_dos_file_name_fn)(const char *);
    get_dos_file_name_fn get_dos_file_name;
    WCHAR *converted;
    size_t len;

    *out = NULL;
    get_dos_file_name = (get_dos_file_name_fn)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                                     "wine_get_dos_file_name");
    if (!get_dos_file_name) return bstr_from_utf8(unix_path, out);
    if (!(converted = get_dos_file_name(unix_path))) return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    len = wcslen(converted);
    /* Wine names Unix paths outside its drives \\?\unix\...: the path as Windows programs see it */
    trailing_backslash = trailing_backslash && len && converted[len - 1] != '\\';
    if ((*out = SysAllocStringLen(NULL, len + (trailing_backslash ? 1 : 0))))
    {
        memcpy(*out, converted, len * sizeof(WCHAR));
        if (trailing_backslash) (*out)[len++] = '\\';
        (*out)[len] = 0;
    }
    HeapFree(GetProcessHeap(), 0, converted);
    return *out ? S_OK : E_OUTOFMEMORY;
}
