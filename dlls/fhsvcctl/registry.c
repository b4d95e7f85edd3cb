/*
 * fhsvcctl: the registry entries that programs written for Windows read
 * about File History instead of calling an API (libs/fh/fh_winreg.c says
 * what they mean and when each exists; docs/windows-evidence.md why):
 *
 *   HKLM\SYSTEM\CurrentControlSet\Services\fhsvc\Parameters\Configs
 *       "<DOS path of the configuration directory>\Config" = REG_DWORD 1
 *       while the user's File History is on (name + "1.xml" opens Config1.xml)
 *   HKCU\Software\Microsoft\Windows\CurrentVersion\FileHistory
 *       ProtectedUpToTime = REG_QWORD FILETIME, once a cycle finished
 *
 * The service says what they should hold (CFG_REGISTRY, docs/fh-protocol.md
 * 7.2); this file writes it into the Wine registry of the calling process,
 * with the directory named as Wine names it (wine_get_dos_file_name).  A
 * Wine prefix belongs to one Unix user, whose service is the only File
 * History there: the Configs key holds that user's value and nothing else
 * (a value left by a configuration directory that moved is removed).
 *
 * Built into fhsvcctl.dll (FhServiceOpenPipe, FhServiceClosePipe,
 * FhQueryConfiguredUsersCount) and, through PARENTSRC, fhcfg.dll (after the
 * configuration changed, and QueryProtectionStatus), so the entries are true
 * whenever a program of the prefix used either; `winbackup wine` writes the
 * same at each launch (tools/winbackup/wine_fh.c).  Outside Wine nothing is
 * written: on Windows, Windows' own service keeps them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define CONFIGS_KEY L"System\\CurrentControlSet\\Services\\fhsvc\\Parameters\\Configs"
#define USER_KEY    L"Software\\Microsoft\\Windows\\CurrentVersion\\FileHistory"
#define PROTECTED_VALUE L"ProtectedUpToTime"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "<listed> <FILETIME hex|-> <Unix directory>" (fh_winreg_text) */
static BOOL parse_state(char *text, BOOL *listed, BOOL *protected_known, ULONGLONG *filetime, char **dir)
{
    char *end;

    if ((text[0] != '0' && text[0] != '1') || text[1] != ' ') return FALSE;
    *listed = text[0] == '1';
    text += 2;
    if (text[0] == '-' && text[1] == ' ')
    {
        *protected_known = FALSE;
        *filetime = 0;
        text += 2;
    }
    else
    {
        for (int i = 0; i < 16; i++) if (hex_digit(text[i]) < 0) return FALSE;
        if (text[16] != ' ') return FALSE;
        *protected_known = TRUE;
        *filetime = _strtoui64(text, &end, 16);
        text += 17;
    }
    if (text[0] != '/') return FALSE;
    *dir = text;
    return TRUE;
}

/* "<Wine's DOS name of dir>\Config", HeapAlloc'ed; NULL outside Wine. */
static WCHAR *configs_value_name(const char *dir)
{
    typedef WCHAR * (CDECL *get_dos_file_name_fn)(const char *);
    get_dos_file_name_fn get_dos_file_name;
    WCHAR *dos, *name;
    size_t len;

    get_dos_file_name = (get_dos_file_name_fn)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                                     "wine_get_dos_file_name");
    if (!get_dos_file_name || !(dos = get_dos_file_name(dir))) return NULL;
    len = wcslen(dos);
    if (len && dos[len - 1] == '\\') len--;
    /* a value name holds at most 16383 characters */
    if (len + 8 > 16383 || !(name = HeapAlloc(GetProcessHeap(), 0, (len + 8) * sizeof(WCHAR))))
    {
        HeapFree(GetProcessHeap(), 0, dos);
        return NULL;
    }
    memcpy(name, dos, len * sizeof(WCHAR));
    wcscpy(name + len, L"\\Config");
    HeapFree(GetProcessHeap(), 0, dos);
    return name;
}

/* The Configs key holds name (REG_DWORD 1) when listed, and no other value. */
static LSTATUS write_configs(BOOL listed, const WCHAR *name)
{
    WCHAR other[16384];
    DWORD index = 0, other_len, one = 1;
    HKEY key;
    LSTATUS status;

    if (listed)
        status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, CONFIGS_KEY, 0, NULL, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, NULL,
                                 &key, NULL);
    else
    {
        status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, CONFIGS_KEY, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, &key);
        if (status == ERROR_FILE_NOT_FOUND) return ERROR_SUCCESS;
    }
    if (status) return status;
    for (;;)
    {
        other_len = ARRAY_SIZE(other);
        status = RegEnumValueW(key, index, other, &other_len, NULL, NULL, NULL, NULL);
        if (status == ERROR_NO_MORE_ITEMS) { status = ERROR_SUCCESS; break; }
        if (status) break;
        if (listed && !lstrcmpiW(other, name)) { index++; continue; }
        TRACE("removing %ls\n", other);
        if ((status = RegDeleteValueW(key, other))) break;
    }
    if (!status && listed) status = RegSetValueExW(key, name, 0, REG_DWORD, (const BYTE *)&one, sizeof(one));
    RegCloseKey(key);
    return status;
}

static LSTATUS write_protected(BOOL known, ULONGLONG filetime)
{
    HKEY key;
    LSTATUS status;

    if (known)
    {
        status = RegCreateKeyExW(HKEY_CURRENT_USER, USER_KEY, 0, NULL, 0, KEY_SET_VALUE, NULL, &key, NULL);
        if (status) return status;
        status = RegSetValueExW(key, PROTECTED_VALUE, 0, REG_QWORD, (const BYTE *)&filetime, sizeof(filetime));
    }
    else
    {
        /* never create the key for nothing: some readers take its existence as "configured" */
        status = RegOpenKeyExW(HKEY_CURRENT_USER, USER_KEY, 0, KEY_SET_VALUE, &key);
        if (status) return status == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : status;
        status = RegDeleteValueW(key, PROTECTED_VALUE);
        if (status == ERROR_FILE_NOT_FOUND) status = ERROR_SUCCESS;
    }
    RegCloseKey(key);
    return status;
}

HRESULT fh_registry_refresh(struct fh_conn *conn)
{
    BOOL listed, protected_known;
    ULONGLONG filetime;
    char *text, *dir;
    WCHAR *name;
    LSTATUS status;
    HRESULT hr;

    if (!conn) return E_INVALIDARG;
    if (FAILED(hr = fh_conn_fetch_string(conn, "CFG_REGISTRY", &text))) return hr;
    if (!parse_state(text, &listed, &protected_known, &filetime, &dir))
    {
        TRACE("bad CFG_REGISTRY text %s\n", text);
        free(text);
        return FH_E_BAD_REPLY;
    }
    if (!(name = configs_value_name(dir)))
    {
        TRACE("no Wine path for %s: registry left alone\n", dir);
        free(text);
        return S_FALSE;
    }
    TRACE("Configs %ls: %s, ProtectedUpToTime %I64x (%s)\n", name, listed ? "on" : "off", filetime,
          protected_known ? "set" : "none");
    status = write_configs(listed, name);
    if (!status) status = write_protected(protected_known, filetime);
    HeapFree(GetProcessHeap(), 0, name);
    free(text);
    return HRESULT_FROM_WIN32(status);
}

HRESULT fh_registry_count_configs(DWORD *count)
{
    HKEY key;
    LSTATUS status;

    *count = 0;
    /* KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS, as Windows' fhsvcctl opens it */
    status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, CONFIGS_KEY, 0, KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS, &key);
    if (status == ERROR_FILE_NOT_FOUND) return S_OK;
    if (status) return HRESULT_FROM_WIN32(status);
    status = RegQueryInfoKeyW(key, NULL, NULL, NULL, NULL, NULL, NULL, count, NULL, NULL, NULL, NULL);
    RegCloseKey(key);
    return HRESULT_FROM_WIN32(status);
}
