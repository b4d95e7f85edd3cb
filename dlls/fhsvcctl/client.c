/*
 * fhsvcctl: client side of the File History service protocol
 *
 * Finds the service through its endpoint file, connects over loopback TCP,
 * proves it knows the secret from that file (and has the service prove it
 * first, protocol section 2), and exchanges one-line
 * requests and replies (docs/fh-protocol.md).  Under Wine the endpoint file
 * is a Unix path taken from the Unix environment, which Wine hands to
 * Windows programs unchanged; starting the service means running a Unix
 * program, done through ntdll's __wine_unix_spawnvp.
 *
 * Invariants: an fh_conn is only used by one thread at a time (main.c holds
 * its table lock around every call); once a transfer fails the connection is
 * marked broken and never reused, so a half-read reply can't be taken for the
 * answer to a later request.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static INIT_ONCE winsock_once = INIT_ONCE_STATIC_INIT;
static BOOL winsock_ok;

/* Tracing: enabled by WINEDEBUG containing "+fhsvcctl" or "+all", like a Wine
 * debug channel, and written to stderr (OutputDebugString is only visible
 * under a debugger or with +debugstr). */
static int trace_enabled = -1;

void fh_trace(const char *func, const char *format, ...)
{
    va_list args;

    if (trace_enabled < 0)
    {
        char value[256];
        DWORD len = GetEnvironmentVariableA("WINEDEBUG", value, sizeof(value));
        trace_enabled = len && len < sizeof(value) &&
                        (strstr(value, "+fhsvcctl") || strstr(value, "+all"));
    }
    if (!trace_enabled) return;
    fprintf(stderr, "%04lx:trace:fhsvcctl:%s ", GetCurrentThreadId(), func);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
}

static BOOL CALLBACK init_winsock(INIT_ONCE *once, void *param, void **context)
{
    WSADATA data;
    winsock_ok = !WSAStartup(MAKEWORD(2, 2), &data);
    return TRUE;
}

/* Reads environment variable name into buf; FALSE if unset or empty. */
static BOOL get_env(const WCHAR *name, WCHAR *buf, DWORD size)
{
    DWORD len = GetEnvironmentVariableW(name, buf, size);
    return len && len < size;
}

/* path = prefix + suffix; FALSE when it does not fit.  (_snwprintf leaves
 * the buffer unterminated on an exact fit and returns -1 on truncation.) */
static BOOL join_path(WCHAR *path, DWORD size, const WCHAR *prefix, const WCHAR *suffix)
{
    size_t prefix_len = wcslen(prefix), suffix_len = wcslen(suffix);

    if (prefix_len + suffix_len >= size) return FALSE;
    memcpy(path, prefix, prefix_len * sizeof(WCHAR));
    memcpy(path + prefix_len, suffix, (suffix_len + 1) * sizeof(WCHAR));
    return TRUE;
}

/* The endpoint file's location, by the service's own rule (fh_endpoint_path
 * in libs/fh/fh_proto.c): FILEHISTORY_ENDPOINT, else
 * $XDG_RUNTIME_DIR/filehistory/endpoint, else $HOME/.cache/filehistory/endpoint.
 * Wine hands the Unix environment to Windows programs except HOME, which it
 * keeps as WINEHOMEDIR in NT form ("\??\Z:\home\user", computed from HOME,
 * or from the password database when HOME is unset, as the service does), so
 * without XDG_RUNTIME_DIR (a root shell, a container, CI) the home directory
 * comes from there.  The result is a Unix path, or a DOS one for WINEHOMEDIR. */
static BOOL endpoint_unix_path(WCHAR *path, DWORD size)
{
    WCHAR dir[MAX_PATH];

    if (get_env(L"FILEHISTORY_ENDPOINT", path, size)) return TRUE;
    if (get_env(L"XDG_RUNTIME_DIR", dir, ARRAY_SIZE(dir)))
        return join_path(path, size, dir, L"/filehistory/endpoint");
    if (get_env(L"WINEHOMEDIR", dir, ARRAY_SIZE(dir)))
    {
        const WCHAR *home = dir;
        if (!wcsncmp(home, L"\\??\\", 4)) home += 4;
        return join_path(path, size, home, L"\\.cache\\filehistory\\endpoint");
    }
    if (get_env(L"HOME", dir, ARRAY_SIZE(dir)))
        return join_path(path, size, dir, L"/.cache/filehistory/endpoint");
    return FALSE;
}

/* Turns a Unix path into one CreateFileW accepts.  Wine's own converter knows
 * the prefix's drive mappings; without it (or if it fails) fall back to the
 * Z: drive, which a default Wine prefix maps to "/". */
static BOOL to_dos_path(const WCHAR *unix_path, WCHAR *dos, DWORD size)
{
    typedef WCHAR * (CDECL *get_dos_file_name_fn)(const char *);
    get_dos_file_name_fn get_dos_file_name;
    DWORD i;

    if (unix_path[0] != '/')
    {
        if (wcslen(unix_path) >= size) return FALSE;
        wcscpy(dos, unix_path);
        return TRUE;
    }

    get_dos_file_name = (get_dos_file_name_fn)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                             "wine_get_dos_file_name");
    if (get_dos_file_name)
    {
        char unix_utf8[MAX_PATH * 3];
        WCHAR *converted;

        if (WideCharToMultiByte(CP_UTF8, 0, unix_path, -1, unix_utf8, sizeof(unix_utf8), NULL, NULL) &&
            (converted = get_dos_file_name(unix_utf8)))
        {
            BOOL fits = wcslen(converted) < size;
            if (fits) wcscpy(dos, converted);
            HeapFree(GetProcessHeap(), 0, converted);
            if (fits) return TRUE;
        }
    }

    if (wcslen(unix_path) + 2 >= size) return FALSE;
    dos[0] = 'Z';
    dos[1] = ':';
    for (i = 0; unix_path[i]; i++) dos[i + 2] = unix_path[i] == '/' ? '\\' : unix_path[i];
    dos[i + 2] = 0;
    return TRUE;
}

/* Content must be exactly "<port> <secret>\n": port 1..65535 in decimal without
 * leading zeros, secret 32 lowercase hex digits.  Anything else is rejected so
 * a truncated or foreign file is never half-trusted. */
BOOL fh_parse_endpoint(const char *data, size_t len, unsigned short *port, char secret[33])
{
    size_t pos = 0, i;
    unsigned long value = 0;

    if (!len || data[0] < '1' || data[0] > '9') return FALSE;
    while (pos < len && data[pos] >= '0' && data[pos] <= '9')
    {
        value = value * 10 + (data[pos] - '0');
        if (value > 65535) return FALSE;
        pos++;
    }
    if (pos >= len || data[pos++] != ' ') return FALSE;
    if (len - pos != 33 || data[len - 1] != '\n') return FALSE;
    for (i = 0; i < 32; i++)
    {
        char c = data[pos + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return FALSE;
        secret[i] = c;
    }
    secret[32] = 0;
    *port = (unsigned short)value;
    return TRUE;
}

static BOOL read_endpoint(unsigned short *port, char secret[33])
{
    WCHAR unix_path[MAX_PATH], dos_path[MAX_PATH + 3];
    char data[80];
    DWORD got = 0;
    HANDLE file;
    BOOL ok;

    if (!endpoint_unix_path(unix_path, ARRAY_SIZE(unix_path)) ||
        !to_dos_path(unix_path, dos_path, ARRAY_SIZE(dos_path)))
        return FALSE;

    file = CreateFileW(dos_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        TRACE("endpoint %ls: error %lu\n", dos_path, GetLastError());
        return FALSE;
    }
    ok = ReadFile(file, data, sizeof(data), &got, NULL);
    CloseHandle(file);
    if (!ok || !fh_parse_endpoint(data, got, port, secret))
    {
        TRACE("endpoint %ls: malformed (%lu bytes)\n", dos_path, got);
        return FALSE;
    }
    return TRUE;
}

static BOOL send_all(SOCKET sock, const char *data, size_t len)
{
    while (len)
    {
        int sent = send(sock, data, (int)len, 0);
        if (sent <= 0) return FALSE;
        data += sent;
        len -= sent;
    }
    return TRUE;
}

/* Reads one '\n'-terminated line into conn->buf (NUL-terminated, '\n' and a
 * preceding '\r' removed).  Bytes after the '\n' can't exist in a strict
 * request/reply exchange, so any are a protocol error. */
static BOOL read_line(struct fh_conn *conn)
{
    for (;;)
    {
        char *nl = memchr(conn->buf, '\n', conn->pending);
        int got;

        if (nl)
        {
            if ((size_t)(nl - conn->buf) + 1 != conn->pending) return FALSE;
            *nl = 0;
            if (nl > conn->buf && nl[-1] == '\r') nl[-1] = 0;
            conn->pending = 0;
            return TRUE;
        }
        if (conn->pending >= FH_LINE_MAX) return FALSE;
        got = recv(conn->sock, conn->buf + conn->pending, FH_LINE_MAX - (int)conn->pending, 0);
        if (got <= 0) return FALSE;
        conn->pending += got;
    }
}

/* "OK <8 hex>[ <text>]" or "ERR <8 hex>". */
static BOOL parse_reply(const char *line, HRESULT *hr, BOOL *is_err, const char **text)
{
    const char *p;
    unsigned long value = 0;
    int i;

    if (!strncmp(line, "OK ", 3)) { *is_err = FALSE; p = line + 3; }
    else if (!strncmp(line, "ERR ", 4)) { *is_err = TRUE; p = line + 4; }
    else return FALSE;

    for (i = 0; i < 8; i++)
    {
        char c = p[i];
        int digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else return FALSE;
        value = (value << 4) | digit;
    }
    p += 8;
    if (*p && (*p != ' ' || *is_err)) return FALSE;
    *text = *p ? p + 1 : p;
    *hr = (HRESULT)value;
    return TRUE;
}

static SOCKET connect_loopback(unsigned short port)
{
    struct sockaddr_in addr;
    DWORD timeout = 30000;  /* a service that stops answering must not hang the caller forever */
    SOCKET sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

    if (sock == INVALID_SOCKET) return sock;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)))
    {
        TRACE("connect to port %u: error %d\n", port, WSAGetLastError());
        closesocket(sock);
        return INVALID_SOCKET;
    }
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, (const char *)&timeout, sizeof(timeout));
    return sock;
}

/* Lowercase hex of HMAC-SHA-256(secret, role ' ' client_nonce ' ' server_nonce):
 * a proof of the handshake (protocol section 2), through bcrypt as any
 * Windows program would make one. */
static BOOL handshake_proof(const char *secret, char role, const char *client_nonce,
                            const char *server_nonce, char hex[FH_PROOF_CHARS + 1])
{
    static const char digits[] = "0123456789abcdef";
    BCRYPT_ALG_HANDLE alg = NULL;
    BCRYPT_HASH_HANDLE hash = NULL;
    UCHAR mac[FH_PROOF_CHARS / 2];
    char message[2 + 2 * (FH_NONCE_CHARS + 1)];
    BOOL ok = FALSE;
    int i;

    snprintf(message, sizeof(message), "%c %s %s", role, client_nonce, server_nonce);
    if (!BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, BCRYPT_ALG_HANDLE_HMAC_FLAG) &&
        !BCryptCreateHash(alg, &hash, NULL, 0, (UCHAR *)secret, (ULONG)strlen(secret), 0) &&
        !BCryptHashData(hash, (UCHAR *)message, (ULONG)strlen(message), 0) &&
        !BCryptFinishHash(hash, mac, sizeof(mac), 0))
    {
        for (i = 0; i < (int)sizeof(mac); i++)
        {
            hex[2 * i] = digits[mac[i] >> 4];
            hex[2 * i + 1] = digits[mac[i] & 15];
        }
        hex[FH_PROOF_CHARS] = 0;
        ok = TRUE;
    }
    if (hash) BCryptDestroyHash(hash);
    if (alg) BCryptCloseAlgorithmProvider(alg, 0);
    SecureZeroMemory(message, sizeof(message));
    return ok;
}

static BOOL is_lower_hex(const char *text, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))) return FALSE;
    return !text[len];
}

/* Proofs compared in time that does not depend on where they differ. */
static BOOL proofs_equal(const char *a, const char *b)
{
    unsigned char diff = 0;
    int i;
    for (i = 0; i < FH_PROOF_CHARS; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return !diff;
}

/* One attempt: endpoint file → connect → handshake (HELLO <client nonce> 2,
 * CHALLENGE <server nonce> <service's proof>, PROOF <ours>).  The secret never
 * crosses the connection, and the service proves it knows it first: whoever
 * else holds the port of a service that died is taken for no service at
 * all.  Returns FH_E_SERVICE_NOT_ACTIVE when there is nobody to talk to (the
 * caller may then start the service). */
static HRESULT try_connect(struct fh_conn *conn)
{
    static const char digits[] = "0123456789abcdef";
    unsigned short port;
    char secret[33], line[FH_LINE_MAX], client_nonce[FH_NONCE_CHARS + 1], mine[FH_PROOF_CHARS + 1];
    const char *server_nonce, *proof, *text;
    UCHAR random[FH_NONCE_CHARS / 2];
    BOOL is_err;
    HRESULT hr;
    int i;

    if (!read_endpoint(&port, secret)) return FH_E_SERVICE_NOT_ACTIVE;
    if (BCryptGenRandom(NULL, random, sizeof(random), BCRYPT_USE_SYSTEM_PREFERRED_RNG))
    {
        SecureZeroMemory(secret, sizeof(secret));
        return E_FAIL;
    }
    for (i = 0; i < (int)sizeof(random); i++)
    {
        client_nonce[2 * i] = digits[random[i] >> 4];
        client_nonce[2 * i + 1] = digits[random[i] & 15];
    }
    client_nonce[FH_NONCE_CHARS] = 0;
    conn->sock = connect_loopback(port);
    if (conn->sock == INVALID_SOCKET)
    {
        SecureZeroMemory(secret, sizeof(secret));
        return FH_E_SERVICE_NOT_ACTIVE;
    }
    conn->pending = 0;
    conn->broken = FALSE;

    snprintf(line, sizeof(line), "HELLO %s 2\n", client_nonce);
    /* "CHALLENGE <32 hex> <64 hex>" */
    server_nonce = conn->buf + 10;
    proof = server_nonce + FH_NONCE_CHARS + 1;
    if (!send_all(conn->sock, line, strlen(line)) || !read_line(conn) ||
        strlen(conn->buf) != 10 + FH_NONCE_CHARS + 1 + FH_PROOF_CHARS || strncmp(conn->buf, "CHALLENGE ", 10) ||
        conn->buf[10 + FH_NONCE_CHARS] != ' ' || !is_lower_hex(proof, FH_PROOF_CHARS))
        hr = FH_E_SERVICE_NOT_ACTIVE;
    else
    {
        conn->buf[10 + FH_NONCE_CHARS] = 0;
        if (!is_lower_hex(server_nonce, FH_NONCE_CHARS) ||
            !handshake_proof(secret, 'S', client_nonce, server_nonce, mine) || !proofs_equal(proof, mine))
            hr = FH_E_SERVICE_NOT_ACTIVE;   /* not our service: it does not know the secret */
        else if (!handshake_proof(secret, 'C', client_nonce, server_nonce, mine))
            hr = E_FAIL;
        else
        {
            snprintf(line, sizeof(line), "PROOF %s\n", mine);
            if (!send_all(conn->sock, line, strlen(line)) || !read_line(conn))
                hr = FH_E_CONNECTION_LOST;
            else if (!parse_reply(conn->buf, &hr, &is_err, &text))
                hr = FH_E_BAD_REPLY;
            else if (!is_err && hr != S_OK)
                hr = FH_E_BAD_REPLY;       /* the handshake succeeds only with OK 00000000 */
        }
    }
    SecureZeroMemory(secret, sizeof(secret));
    SecureZeroMemory(mine, sizeof(mine));
    SecureZeroMemory(line, sizeof(line));

    if (FAILED(hr))
    {
        TRACE("handshake failed: %08lx\n", hr);
        closesocket(conn->sock);
        conn->sock = INVALID_SOCKET;
    }
    return hr;
}

/* Splits the daemon command on spaces (no quoting, protocol section 5). */
static int split_command(char *command, char **argv, int max_args)
{
    int argc = 0;
    char *p = command;

    while (*p && argc < max_args - 1)
    {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        argv[argc++] = p;
        while (*p && *p != ' ') p++;
    }
    argv[argc] = NULL;
    return argc;
}

/* Runs the service's start command.  Under Wine it is a Unix program.
 * Measured on Wine 8.0: CreateProcessW("Z:\\usr\\bin\\touch ...") and
 * "start.exe /unix /usr/bin/touch ..." both run a Unix executable too, but
 * they take a Windows command line (quoting, DOS path, Windows PATH search);
 * ntdll's __wine_unix_spawnvp takes an argv and execs it with the Unix PATH,
 * which is what "filehistory daemon --detach" needs.  Without that export
 * (not Wine) CreateProcessA gets the same command line. */
static BOOL spawn_service(void)
{
    typedef NTSTATUS (CDECL *unix_spawnvp_fn)(char *const argv[], int wait);
    unix_spawnvp_fn unix_spawnvp;
    char command[1024], *argv[32];
    DWORD len;

    len = GetEnvironmentVariableA("FILEHISTORY_DAEMON", command, sizeof(command));
    if (!len || len >= sizeof(command)) strcpy(command, "filehistory daemon --detach");
    TRACE("starting service: %s\n", command);

    unix_spawnvp = (unix_spawnvp_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "__wine_unix_spawnvp");
    if (unix_spawnvp)
    {
        NTSTATUS status;
        if (!split_command(command, argv, ARRAY_SIZE(argv))) return FALSE;
        /* don't wait: the command may stay in the foreground; we poll the endpoint instead */
        status = unix_spawnvp(argv, FALSE);
        TRACE("__wine_unix_spawnvp: status %08lx\n", status);
        return !status;
    }
    else
    {
        STARTUPINFOA si;
        PROCESS_INFORMATION pi;

        memset(&si, 0, sizeof(si));
        si.cb = sizeof(si);
        if (!CreateProcessA(NULL, command, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi))
            return FALSE;
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        return TRUE;
    }
}

HRESULT fh_conn_open(BOOL start_service, struct fh_conn **result)
{
    struct fh_conn *conn;
    HRESULT hr;
    int waited;

    *result = NULL;
    InitOnceExecuteOnce(&winsock_once, init_winsock, NULL, NULL);
    if (!winsock_ok) return HRESULT_FROM_WIN32(WSASYSNOTREADY);
    if (!(conn = calloc(1, sizeof(*conn)))) return E_OUTOFMEMORY;

    hr = try_connect(conn);
    if (hr == FH_E_SERVICE_NOT_ACTIVE && start_service)
    {
        if (!spawn_service())
            TRACE("could not run the service command\n");
        else
        {
            /* the service writes its endpoint file once it listens; allow 10 s */
            for (waited = 0; waited < 10000 && hr == FH_E_SERVICE_NOT_ACTIVE; waited += 100)
            {
                Sleep(100);
                hr = try_connect(conn);
            }
        }
    }
    if (FAILED(hr))
    {
        free(conn);
        return hr;
    }
    *result = conn;
    return S_OK;
}

HRESULT fh_conn_request(struct fh_conn *conn, const char *request, char *text, size_t text_size)
{
    char line[FH_LINE_MAX];
    const char *reply_text;
    BOOL is_err;
    HRESULT hr;
    int len;

    if (conn->broken) return FH_E_CONNECTION_LOST;
    len = snprintf(line, sizeof(line), "%s\n", request);
    if (len <= 0 || len >= (int)sizeof(line)) return E_INVALIDARG;

    if (!send_all(conn->sock, line, len) || !read_line(conn))
    {
        conn->broken = TRUE;
        return FH_E_CONNECTION_LOST;
    }
    if (!parse_reply(conn->buf, &hr, &is_err, &reply_text))
    {
        TRACE("bad reply to %s: %s\n", request, conn->buf);
        conn->broken = TRUE;
        return FH_E_BAD_REPLY;
    }
    TRACE("%s -> %s\n", request, conn->buf);
    if (is_err)
    {
        /* ERR is only sent just before the service closes */
        conn->broken = TRUE;
        return SUCCEEDED(hr) ? FH_E_BAD_REPLY : hr;
    }
    if (text && text_size)
    {
        size_t n = strlen(reply_text);
        if (n >= text_size) n = text_size - 1;
        memcpy(text, reply_text, n);
        text[n] = 0;
    }
    return hr;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

HRESULT fh_conn_fetch_string(struct fh_conn *conn, const char *command, char **value)
{
    char request[64], text[FH_LINE_MAX], *buf = NULL, *end;
    size_t len = 0, total = 0;
    HRESULT hr;

    *value = NULL;
    do
    {
        unsigned long announced;
        const char *part;

        snprintf(request, sizeof(request), "%s %lu", command, (unsigned long)len);
        if (FAILED(hr = fh_conn_request(conn, request, text, sizeof(text)))) break;
        if (hr != S_OK) { hr = FH_E_BAD_REPLY; break; }
        announced = strtoul(text, &end, 10);
        if (end == text || strncmp(end, " =", 2) || announced > FH_STRING_BYTES_MAX || (buf && announced != total))
        {
            hr = FH_E_BAD_REPLY;
            break;
        }
        if (!buf && !(buf = malloc((total = announced) + 1))) { hr = E_OUTOFMEMORY; break; }
        part = end + 2;
        if (len < total && !*part) { hr = FH_E_BAD_REPLY; break; }    /* a part that brings nothing: never loop */
        for (; *part; part++)
        {
            int c = (unsigned char)*part;
            if (c == '%')
            {
                int hi = hex_value(part[1]), lo = hi < 0 ? -1 : hex_value(part[2]);
                if (lo < 0 || !(c = hi * 16 + lo)) { hr = FH_E_BAD_REPLY; break; }
                part += 2;
            }
            else if (c < 0x21 || c > 0x7e) { hr = FH_E_BAD_REPLY; break; }
            if (len >= total) { hr = FH_E_BAD_REPLY; break; }
            buf[len++] = (char)c;
        }
    } while (SUCCEEDED(hr) && len < total);
    if (FAILED(hr)) { free(buf); return hr; }
    if (!buf && !(buf = malloc(1))) return E_OUTOFMEMORY;
    buf[len] = 0;
    *value = buf;
    return S_OK;
}

void fh_conn_close(struct fh_conn *conn)
{
    if (!conn) return;
    if (!conn->broken && conn->sock != INVALID_SOCKET)
        fh_conn_request(conn, "QUIT", NULL, 0);   /* courtesy; the service also copes with a bare close */
    if (conn->sock != INVALID_SOCKET) closesocket(conn->sock);
    free(conn);
}
