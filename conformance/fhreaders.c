/*
 * What programs written for Windows read about File History without calling
 * its API, read the way they read it:
 *   - LanHistory (C#): the FIRST value NAME under
 *     HKLM\SYSTEM\CurrentControlSet\Services\fhsvc\Parameters\Configs, plus
 *     "1.xml", is the configuration; in it, <Target>'s <TargetDriveType> is
 *     compared with "remote" ignoring case and its <TargetUrl> split at '\';
 *     HKCU\Software\Microsoft\Windows\CurrentVersion\FileHistory's
 *     ProtectedUpToTime is cast to a 64-bit integer (which only a REG_QWORD
 *     is) and read as a FILETIME;
 *   - a Python dashboard and an AutoHotkey tool: one element per line,
 *     matched by a regular expression (TargetUrl, TargetDriveType, DPStatus,
 *     RetentionPolicyType, MinimumRetentionAge).
 *
 * On Windows it reads what Windows' File History wrote, in whatever state the
 * machine is (not set up: skipped); docs/windows-evidence.md says which of
 * these points public samples settle and which a run here would.  Under Wine
 * the check scripts (dlls/fhcfg/check-fhcfg.sh, tests/fh-wine-registry.sh)
 * say what the project's DLLs or `winbackup wine` must have written:
 *   FHREADERS_EXPECT_CONFIG     the Configs value name, or "none" (File History off)
 *   FHREADERS_EXPECT_URL, FHREADERS_EXPECT_DRIVE, FHREADERS_EXPECT_STATUS,
 *   FHREADERS_EXPECT_RETENTION  the texts of those elements
 *   FHREADERS_EXPECT_FILETIME   ProtectedUpToTime in decimal, or "none"
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "wine/test.h"

#define CONFIGS_KEY L"SYSTEM\\CurrentControlSet\\Services\\fhsvc\\Parameters\\Configs"
#define USER_KEY    L"Software\\Microsoft\\Windows\\CurrentVersion\\FileHistory"

static WCHAR expect_config[1024];
static char expect_url[1024], expect_drive[64], expect_status[64], expect_retention[64], expect_filetime[32];
static BOOL have_expectations;

static BOOL get_env_w(const WCHAR *name, WCHAR *buf, DWORD size)
{
    DWORD len = GetEnvironmentVariableW(name, buf, size);
    if (!len || len >= size) { buf[0] = 0; return FALSE; }
    have_expectations = TRUE;
    return TRUE;
}

static BOOL get_env_utf8(const WCHAR *name, char *buf, DWORD size)
{
    WCHAR wide[1024];
    if (!get_env_w(name, wide, ARRAY_SIZE(wide))) { buf[0] = 0; return FALSE; }
    return WideCharToMultiByte(CP_UTF8, 0, wide, -1, buf, size, NULL, NULL) > 0;
}

/* The first value name under Configs, as .NET's GetValueNames().First(). */
static BOOL test_configs_value(WCHAR *name, DWORD name_size)
{
    DWORD count = 0, len = name_size, type = 0, data = 0, size = sizeof(data);
    HKEY key;
    LSTATUS status;

    status = RegOpenKeyExW(HKEY_LOCAL_MACHINE, CONFIGS_KEY, 0, KEY_READ, &key);
    if (status == ERROR_FILE_NOT_FOUND && (!have_expectations || !lstrcmpW(expect_config, L"none")))
    {
        if (!have_expectations) skip("File History was never turned on here\n");
        return FALSE;
    }
    ok(status == ERROR_SUCCESS, "RegOpenKeyEx(Configs) got %ld\n", status);
    if (status) return FALSE;
    status = RegQueryInfoKeyW(key, NULL, NULL, NULL, NULL, NULL, NULL, &count, NULL, NULL, NULL, NULL);
    ok(status == ERROR_SUCCESS, "RegQueryInfoKey got %ld\n", status);
    if (!lstrcmpW(expect_config, L"none"))
    {
        ok(count == 0, "File History is off, yet Configs holds %lu value(s)\n", count);
        RegCloseKey(key);
        return FALSE;
    }
    if (!count && !have_expectations)
    {
        skip("File History is off for every user here\n");
        RegCloseKey(key);
        return FALSE;
    }
    /* a Wine prefix has one user; a Windows machine one value per user with File History on */
    ok(count == 1 || broken(count > 1), "Configs holds %lu values\n", count);
    status = RegEnumValueW(key, 0, name, &len, NULL, &type, (BYTE *)&data, &size);
    RegCloseKey(key);
    ok(status == ERROR_SUCCESS, "RegEnumValue(0) got %ld\n", status);
    if (status) return FALSE;
    ok(type == REG_DWORD && size == sizeof(DWORD) && data == 1, "value %s: type %lu size %lu data %lu\n",
       wine_dbgstr_w(name), type, size, data);
    ok(len > 7 && !lstrcmpiW(name + len - 7, L"\\Config"), "value name %s does not end with \\Config\n",
       wine_dbgstr_w(name));
    if (expect_config[0])
        ok(!lstrcmpiW(name, expect_config), "value name %s, expected %s\n", wine_dbgstr_w(name),
           wine_dbgstr_w(expect_config));
    return TRUE;
}

static char *read_file(const WCHAR *path, DWORD *size)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                              OPEN_EXISTING, 0, NULL);
    DWORD got = 0;
    char *buf;

    if (file == INVALID_HANDLE_VALUE) return NULL;
    *size = GetFileSize(file, NULL);
    if (*size > (1 << 20) || !(buf = malloc(*size + 1)) || !ReadFile(file, buf, *size, &got, NULL) || got != *size)
    {
        CloseHandle(file);
        return NULL;
    }
    CloseHandle(file);
    buf[got] = 0;
    return buf;
}

/* The text of every line "<blanks><name>TEXT</name><blanks>", as
 * ^\s*<name>(.*)</name>\s*$ matches it: how many lines match, the first
 * one's text in value and its line number in line_no. */
static int line_element(const char *text, const char *name, char *value, size_t size, int *line_no)
{
    size_t name_len = strlen(name);
    int matches = 0, number = 0;

    value[0] = 0;
    while (*text)
    {
        size_t len = strcspn(text, "\n"), start = 0, end = len;
        number++;
        while (start < len && (text[start] == ' ' || text[start] == '\t')) start++;
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) end--;
        if (end - start >= 2 * name_len + 5 && text[start] == '<' && !strncmp(text + start + 1, name, name_len) &&
            text[start + 1 + name_len] == '>' && text[end - 1] == '>' && text[end - name_len - 3] == '<' &&
            text[end - name_len - 2] == '/' && !strncmp(text + end - name_len - 1, name, name_len))
        {
            size_t value_start = start + name_len + 2, value_len = end - name_len - 3 - value_start;
            if (!matches++)
            {
                if (value_len >= size) value_len = size - 1;
                memcpy(value, text + value_start, value_len);
                value[value_len] = 0;
                *line_no = number;
            }
        }
        text += len + (text[len] == '\n');
    }
    return matches;
}

static int line_of(const char *text, const char *line_text)
{
    int number = 0;
    while (*text)
    {
        size_t len = strcspn(text, "\n"), start = 0;
        number++;
        while (start < len && (text[start] == ' ' || text[start] == '\t')) start++;
        if (!strncmp(text + start, line_text, strlen(line_text))) return number;
        text += len + (text[len] == '\n');
    }
    return 0;
}

static BOOL one_of(const char *value, const char *const *words)
{
    for (; *words; words++) if (!strcmp(value, *words)) return TRUE;
    return FALSE;
}

static void test_config_file(const WCHAR *prefix)
{
    static const char *const drives[] = { "FIXED", "REMOVABLE", "REMOTE", NULL };
    static const char *const statuses[] = { "ENABLED", "DISABLED", NULL };
    static const char *const retentions[] = { "DISABLED", "NO LIMIT", "AGELIMIT", NULL };
    WCHAR path[1100];
    char *text, *second, url[1024], drive[64], status[64], retention[64], age[32], *body;
    DWORD size, size2;
    int target_line, end_line, url_line = 0, drive_line = 0, n, line;

    /* configPath += "1.xml"; File.Exists(configPath); File.ReadAllText(configPath) */
    if (wcslen(prefix) + 6 > ARRAY_SIZE(path)) return;
    wcscpy(path, prefix);
    wcscat(path, L"1.xml");
    ok(GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES, "%s does not exist\n", wine_dbgstr_w(path));
    text = read_file(path, &size);
    ok(text != NULL, "cannot read %s\n", wine_dbgstr_w(path));
    if (!text) return;
    body = !strncmp(text, "\xef\xbb\xbf", 3) ? text + 3 : text;
    ok(!strncmp(body, "<?xml", 5), "not an XML document: %.40s\n", body);
    ok(line_of(body, "<DataProtectionUserConfig SchemaVersion=\"1\">") > 0, "no DataProtectionUserConfig line\n");

    /* LanHistory: doc.Descendants("Target").First(), then its TargetDriveType and TargetUrl */
    target_line = line_of(body, "<Target>");
    end_line = line_of(body, "</Target>");
    ok(target_line > 0 && end_line > target_line, "no <Target> (lines %d..%d)\n", target_line, end_line);

    n = line_element(body, "TargetUrl", url, sizeof(url), &url_line);
    ok(n == 1, "%d TargetUrl lines\n", n);
    ok(url_line > target_line && url_line < end_line, "TargetUrl on line %d, outside <Target>\n", url_line);
    /* Windows' ends with its separator ("E:\", "\\server\share\"); ours with '/' */
    ok(url[0] && (url[strlen(url) - 1] == '\\' || url[strlen(url) - 1] == '/'), "TargetUrl %s\n", url);
    {
        /* UNCPath.Split('\\', RemoveEmptyEntries): at least one part */
        int parts = 0;
        for (const char *p = url; *p; p++) if (*p != '\\' && (p == url || p[-1] == '\\')) parts++;
        ok(parts > 0, "TargetUrl %s has no part\n", url);
    }
    if (expect_url[0]) ok(!strcmp(url, expect_url), "TargetUrl %s, expected %s\n", url, expect_url);

    n = line_element(body, "TargetDriveType", drive, sizeof(drive), &drive_line);
    ok(n == 1, "%d TargetDriveType lines\n", n);
    ok(drive_line > target_line && drive_line < end_line, "TargetDriveType on line %d, outside <Target>\n", drive_line);
    ok(one_of(drive, drives), "TargetDriveType %s\n", drive);
    if (expect_drive[0])
    {
        ok(!strcmp(drive, expect_drive), "TargetDriveType %s, expected %s\n", drive, expect_drive);
        /* IsRemote = driveType.Value.Equals("remote", StringComparison.OrdinalIgnoreCase) */
        ok(!lstrcmpiA(drive, "remote") == !lstrcmpiA(expect_drive, "remote"), "IsRemote wrong for %s\n", drive);
    }

    n = line_element(body, "DPStatus", status, sizeof(status), &line);
    ok(n == 1 && one_of(status, statuses), "%d DPStatus lines, %s\n", n, status);
    if (expect_status[0]) ok(!strcmp(status, expect_status), "DPStatus %s, expected %s\n", status, expect_status);

    n = line_element(body, "RetentionPolicyType", retention, sizeof(retention), &line);
    ok(n == 1 && one_of(retention, retentions), "%d RetentionPolicyType lines, %s\n", n, retention);
    if (expect_retention[0])
        ok(!strcmp(retention, expect_retention), "RetentionPolicyType %s, expected %s\n", retention, expect_retention);
    n = line_element(body, "MinimumRetentionAge", age, sizeof(age), &line);
    ok(n == 1 && age[0] >= '1' && age[0] <= '9' && strspn(age, "0123456789") == strlen(age),
       "%d MinimumRetentionAge lines, %s\n", n, age);

    /* Config2.xml: "both files appear to be identical" (a Windows 8 write-up) */
    wcscpy(path, prefix);
    wcscat(path, L"2.xml");
    second = read_file(path, &size2);
    ok((second && size2 == size && !memcmp(second, text, size)) || broken(second != NULL),
       "Config2.xml differs from Config1.xml\n");
    free(second);
    free(text);
}

static const char *dbgstr_ull(ULONGLONG value)
{
    static char buf[4][24];
    static int next;
    char *out = buf[next++ % 4] + sizeof(buf[0]) - 1;
    *out = 0;
    do *--out = '0' + value % 10; while (value /= 10);
    return out;
}

/* (long?)key.GetValue("ProtectedUpToTime"), then DateTime.FromFileTime */
static void test_protected_up_to_time(void)
{
    ULONGLONG value = 0, expected;
    DWORD type = 0, size = sizeof(value);
    SYSTEMTIME st;
    FILETIME ft;
    HKEY key;
    LSTATUS status;

    status = RegOpenKeyExW(HKEY_CURRENT_USER, USER_KEY, 0, KEY_READ, &key);
    if (!status)
    {
        status = RegQueryValueExW(key, L"ProtectedUpToTime", NULL, &type, (BYTE *)&value, &size);
        RegCloseKey(key);
    }
    if (!strcmp(expect_filetime, "none"))
    {
        ok(status == ERROR_FILE_NOT_FOUND, "ProtectedUpToTime before any backup: got %ld, type %lu\n", status, type);
        return;
    }
    if (status == ERROR_FILE_NOT_FOUND && !expect_filetime[0])
    {
        skip("no backup finished here yet\n");
        return;
    }
    ok(status == ERROR_SUCCESS, "ProtectedUpToTime: got %ld\n", status);
    if (status) return;
    ok(type == REG_QWORD && size == sizeof(ULONGLONG), "ProtectedUpToTime: type %lu, %lu bytes\n", type, size);
    ok(value > 0, "ProtectedUpToTime %s\n", dbgstr_ull(value));
    ft.dwLowDateTime = (DWORD)value;
    ft.dwHighDateTime = (DWORD)(value >> 32);
    ok(FileTimeToSystemTime(&ft, &st) && st.wYear >= 2012, "ProtectedUpToTime %s: year %u\n",
       dbgstr_ull(value), st.wYear);
    if (expect_filetime[0])
    {
        expected = _strtoui64(expect_filetime, NULL, 10);
        ok(value == expected, "ProtectedUpToTime %s, expected %s\n", dbgstr_ull(value),
           dbgstr_ull(expected));
    }
}

START_TEST(fhreaders)
{
    WCHAR name[16384];

    get_env_w(L"FHREADERS_EXPECT_CONFIG", expect_config, ARRAY_SIZE(expect_config));
    get_env_utf8(L"FHREADERS_EXPECT_URL", expect_url, sizeof(expect_url));
    get_env_utf8(L"FHREADERS_EXPECT_DRIVE", expect_drive, sizeof(expect_drive));
    get_env_utf8(L"FHREADERS_EXPECT_STATUS", expect_status, sizeof(expect_status));
    get_env_utf8(L"FHREADERS_EXPECT_RETENTION", expect_retention, sizeof(expect_retention));
    get_env_utf8(L"FHREADERS_EXPECT_FILETIME", expect_filetime, sizeof(expect_filetime));
    if (test_configs_value(name, ARRAY_SIZE(name)))
        test_config_file(name);
    test_protected_up_to_time();
}
