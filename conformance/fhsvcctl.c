/*
 * Conformance tests for fhsvcctl.dll (File History service control)
 *
 * The DLL is loaded dynamically: Windows has it, stock Wine does not.  Tests
 * that need a running service skip when none is reachable.  The environment
 * variable FHSVCCTL_TEST_EXPECT ("configured" / "unconfigured"), set by the
 * project's check script, says which state the service was started in; on
 * Windows it is unset and either state is accepted.
 */

#include <windows.h>
#include "fhsvcctl.h"
#include "wine/test.h"

static HMODULE fhsvcctl;
static HRESULT (WINAPI *pFhServiceOpenPipe)(BOOL, FH_SERVICE_PIPE_HANDLE *);
static HRESULT (WINAPI *pFhServiceClosePipe)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhServiceStartBackup)(FH_SERVICE_PIPE_HANDLE, BOOL);
static HRESULT (WINAPI *pFhServiceStopBackup)(FH_SERVICE_PIPE_HANDLE, BOOL);
static HRESULT (WINAPI *pFhServiceReloadConfiguration)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhServiceBlockBackup)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhServiceUnblockBackup)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhQueryConfiguredUsersCount)(DWORD *);
static HRESULT (WINAPI *pFhServiceClearProtectionState)(FH_SERVICE_PIPE_HANDLE, DWORD, DWORD);
static HRESULT (WINAPI *pFhServiceEnterMaintenanceMode)(FH_SERVICE_PIPE_HANDLE, LPWSTR *);
static HRESULT (WINAPI *pFhServiceExitMaintenanceMode)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhServiceMigrationStarting)(FH_SERVICE_PIPE_HANDLE);
static HRESULT (WINAPI *pFhServiceMigrationFinished)(FH_SERVICE_PIPE_HANDLE);

static int expect_configured = -1;  /* -1: unknown (Windows), 0/1 from the check script */

static BOOL init(void)
{
    char expect[32];

    SetLastError(0xdeadbeef);
    fhsvcctl = LoadLibraryA("fhsvcctl.dll");
    if (!fhsvcctl)
    {
        win_skip("fhsvcctl.dll not available, error %lu\n", GetLastError());
        return FALSE;
    }
#define GET_PROC(name) \
    p##name = (void *)GetProcAddress(fhsvcctl, #name); \
    ok(p##name != NULL, #name " not exported, error %lu\n", GetLastError())
    GET_PROC(FhServiceOpenPipe);
    GET_PROC(FhServiceClosePipe);
    GET_PROC(FhServiceStartBackup);
    GET_PROC(FhServiceStopBackup);
    GET_PROC(FhServiceReloadConfiguration);
    GET_PROC(FhServiceBlockBackup);
    GET_PROC(FhServiceUnblockBackup);
    GET_PROC(FhQueryConfiguredUsersCount);
    GET_PROC(FhServiceClearProtectionState);
    GET_PROC(FhServiceEnterMaintenanceMode);
    GET_PROC(FhServiceExitMaintenanceMode);
    GET_PROC(FhServiceMigrationStarting);
    GET_PROC(FhServiceMigrationFinished);
#undef GET_PROC

    if (GetEnvironmentVariableA("FHSVCCTL_TEST_EXPECT", expect, sizeof(expect)))
        expect_configured = !strcmp(expect, "configured");
    return pFhServiceOpenPipe && pFhServiceClosePipe && pFhServiceStartBackup && pFhServiceStopBackup &&
           pFhServiceReloadConfiguration && pFhServiceBlockBackup && pFhServiceUnblockBackup;
}

static FH_SERVICE_PIPE_HANDLE open_pipe(void)
{
    FH_SERVICE_PIPE_HANDLE pipe = (FH_SERVICE_PIPE_HANDLE)0xdeadbeef;
    HRESULT hr = pFhServiceOpenPipe(FALSE, &pipe);

    if (FAILED(hr))
    {
        ok(pipe == NULL, "pipe not cleared on failure: %p\n", pipe);
        /* the check script sets FHSVCCTL_TEST_EXPECT only when a service runs */
        ok(expect_configured < 0, "OpenPipe: got %#lx with the service running\n", hr);
        return NULL;
    }
    ok(pipe != NULL, "got NULL pipe with hr %#lx\n", hr);
    return pipe;
}

static void test_bad_handles(void)
{
    FH_SERVICE_PIPE_HANDLE pipe;
    HRESULT hr;
    DWORD count;

    hr = pFhServiceStartBackup(NULL, TRUE);
    ok(hr == E_INVALIDARG, "StartBackup(NULL): got %#lx\n", hr);
    hr = pFhServiceStopBackup(NULL, FALSE);
    ok(hr == E_INVALIDARG, "StopBackup(NULL): got %#lx\n", hr);
    hr = pFhServiceReloadConfiguration(NULL);
    ok(hr == E_INVALIDARG, "ReloadConfiguration(NULL): got %#lx\n", hr);
    hr = pFhServiceBlockBackup(NULL);
    ok(hr == E_INVALIDARG, "BlockBackup(NULL): got %#lx\n", hr);
    hr = pFhServiceUnblockBackup(NULL);
    ok(hr == E_INVALIDARG, "UnblockBackup(NULL): got %#lx\n", hr);
    hr = pFhServiceClosePipe(NULL);
    ok(hr == E_INVALIDARG, "ClosePipe(NULL): got %#lx\n", hr);
    if (pFhServiceClearProtectionState)
    {
        hr = pFhServiceClearProtectionState(NULL, 0, 0);
        ok(hr == E_INVALIDARG, "ClearProtectionState(NULL): got %#lx\n", hr);
    }
    if (pFhServiceEnterMaintenanceMode)
    {
        hr = pFhServiceEnterMaintenanceMode(NULL, NULL);
        ok(hr == E_INVALIDARG, "EnterMaintenanceMode(NULL): got %#lx\n", hr);
    }
    if (pFhServiceExitMaintenanceMode)
    {
        hr = pFhServiceExitMaintenanceMode(NULL);
        ok(hr == E_INVALIDARG, "ExitMaintenanceMode(NULL): got %#lx\n", hr);
    }
    if (pFhServiceMigrationStarting)
    {
        hr = pFhServiceMigrationStarting(NULL);
        ok(hr == E_INVALIDARG, "MigrationStarting(NULL): got %#lx\n", hr);
    }
    if (pFhServiceMigrationFinished)
    {
        hr = pFhServiceMigrationFinished(NULL);
        ok(hr == E_INVALIDARG, "MigrationFinished(NULL): got %#lx\n", hr);
    }
    if (pFhQueryConfiguredUsersCount)
    {
        hr = pFhQueryConfiguredUsersCount(NULL);
        ok(hr == E_INVALIDARG, "QueryConfiguredUsersCount(NULL): got %#lx\n", hr);
        count = 0xdeadbeef;
        hr = pFhQueryConfiguredUsersCount(&count);
        ok(hr == S_OK, "QueryConfiguredUsersCount: got %#lx\n", hr);
        if (expect_configured >= 0)
            ok(count == (DWORD)expect_configured, "got %lu configured users\n", count);
        else
            ok(count != 0xdeadbeef, "count not set\n");
    }

    /* Windows stores *Pipe before checking anything and crashes on NULL. */
    if (!strcmp(winetest_platform, "wine"))
    {
        hr = pFhServiceOpenPipe(FALSE, NULL);
        ok(hr == E_INVALIDARG, "OpenPipe(NULL): got %#lx\n", hr);
    }

    /* A closed handle must be rejected, not reused. */
    if (!(pipe = open_pipe()))
    {
        skip("File History service not running\n");
        return;
    }
    hr = pFhServiceClosePipe(pipe);
    ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
    if (!strcmp(winetest_platform, "wine"))  /* Windows frees the handle: use after free */
    {
        hr = pFhServiceStartBackup(pipe, TRUE);
        ok(hr == E_INVALIDARG, "StartBackup(closed): got %#lx\n", hr);
        hr = pFhServiceClosePipe(pipe);
        ok(hr == E_INVALIDARG, "ClosePipe(closed): got %#lx\n", hr);
        hr = pFhServiceBlockBackup((FH_SERVICE_PIPE_HANDLE)0x12345678);
        ok(hr == E_INVALIDARG, "BlockBackup(bogus): got %#lx\n", hr);
    }
}

static void test_open_close(void)
{
    FH_SERVICE_PIPE_HANDLE pipe, pipe2;
    HRESULT hr;

    if (!(pipe = open_pipe()))
    {
        skip("File History service not running\n");
        return;
    }
    pipe2 = open_pipe();
    ok(pipe2 != NULL && pipe2 != pipe, "second pipe %p, first %p\n", pipe2, pipe);
    hr = pFhServiceClosePipe(pipe2);
    ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
    hr = pFhServiceClosePipe(pipe);
    ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
}

static void test_backup_sequence(void)
{
    FH_SERVICE_PIPE_HANDLE pipe, blocker;
    HRESULT hr;

    if (!(pipe = open_pipe()))
    {
        skip("File History service not running\n");
        return;
    }

    hr = pFhServiceStartBackup(pipe, TRUE);
    if (expect_configured == 0 || (expect_configured < 0 && hr == FHSVC_E_NOT_CONFIGURED))
    {
        ok(hr == FHSVC_E_NOT_CONFIGURED, "StartBackup unconfigured: got %#lx\n", hr);
        hr = pFhServiceReloadConfiguration(pipe);
        ok(hr == FHSVC_E_NOT_CONFIGURED, "ReloadConfiguration unconfigured: got %#lx\n", hr);
        hr = pFhServiceStopBackup(pipe, FALSE);
        ok(hr == S_OK, "StopBackup: got %#lx\n", hr);
        pFhServiceClosePipe(pipe);
        return;
    }
    ok(hr == S_OK, "StartBackup: got %#lx\n", hr);
    hr = pFhServiceStopBackup(pipe, FALSE);
    ok(hr == S_OK, "StopBackup: got %#lx\n", hr);
    hr = pFhServiceStartBackup(pipe, FALSE);
    ok(hr == S_OK, "StartBackup(normal priority): got %#lx\n", hr);
    hr = pFhServiceStopBackup(pipe, FALSE);
    ok(hr == S_OK, "StopBackup: got %#lx\n", hr);
    hr = pFhServiceReloadConfiguration(pipe);
    ok(hr == S_OK, "ReloadConfiguration: got %#lx\n", hr);

    /* The two undocumented values travel to the service (the check script
     * finds them in its log); what Windows does with these is unknown. */
    if (pFhServiceClearProtectionState && !strcmp(winetest_platform, "wine"))
    {
        hr = pFhServiceClearProtectionState(pipe, 0x12345678, 0x9abcdef0);
        ok(hr == S_OK, "ClearProtectionState: got %#lx\n", hr);
    }

    /* a block from one channel stops starts from every channel */
    hr = pFhServiceBlockBackup(pipe);
    ok(hr == S_OK, "BlockBackup: got %#lx\n", hr);
    hr = pFhServiceStartBackup(pipe, TRUE);
    ok(hr == FHSVC_E_BACKUP_BLOCKED, "StartBackup while blocked: got %#lx\n", hr);
    hr = pFhServiceUnblockBackup(pipe);
    ok(hr == S_OK, "UnblockBackup: got %#lx\n", hr);
    hr = pFhServiceStartBackup(pipe, TRUE);
    ok(hr == S_OK, "StartBackup after unblock: got %#lx\n", hr);
    hr = pFhServiceStopBackup(pipe, FALSE);
    ok(hr == S_OK, "StopBackup: got %#lx\n", hr);

    /* closing the blocking channel ends its block */
    if ((blocker = open_pipe()))
    {
        hr = pFhServiceBlockBackup(blocker);
        ok(hr == S_OK, "BlockBackup: got %#lx\n", hr);
        hr = pFhServiceStartBackup(pipe, TRUE);
        ok(hr == FHSVC_E_BACKUP_BLOCKED, "StartBackup blocked by other pipe: got %#lx\n", hr);
        hr = pFhServiceClosePipe(blocker);
        ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
        hr = pFhServiceStartBackup(pipe, TRUE);
        ok(hr == S_OK, "StartBackup after blocker closed: got %#lx\n", hr);
        hr = pFhServiceStopBackup(pipe, FALSE);
        ok(hr == S_OK, "StopBackup: got %#lx\n", hr);
    }

    /* undocumented maintenance mode also blocks backups (project protocol; UNVERIFIED on Windows) */
    if (pFhServiceEnterMaintenanceMode && pFhServiceExitMaintenanceMode && !strcmp(winetest_platform, "wine"))
    {
        LPWSTR name = NULL;
        HANDLE event;

        hr = pFhServiceEnterMaintenanceMode(pipe, &name);
        ok(hr == S_OK, "EnterMaintenanceMode: got %#lx\n", hr);
        ok(name && !wcsncmp(name, L"Global\\FhMaintenanceModeEvent-", 30), "got name %ls\n", name);
        event = name ? OpenEventW(SYNCHRONIZE, FALSE, name) : NULL;
        ok(event != NULL, "event not found, error %lu\n", GetLastError());
        hr = pFhServiceStartBackup(pipe, TRUE);
        ok(hr == FHSVC_E_BACKUP_BLOCKED, "StartBackup in maintenance: got %#lx\n", hr);
        hr = pFhServiceExitMaintenanceMode(pipe);
        ok(hr == S_OK, "ExitMaintenanceMode: got %#lx\n", hr);
        if (event)
        {
            ok(!WaitForSingleObject(event, 0), "event not signalled after exit\n");
            CloseHandle(event);
        }
        LocalFree(name);
        hr = pFhServiceStartBackup(pipe, TRUE);
        ok(hr == S_OK, "StartBackup after maintenance: got %#lx\n", hr);
        hr = pFhServiceStopBackup(pipe, FALSE);
        ok(hr == S_OK, "StopBackup: got %#lx\n", hr);
    }

    hr = pFhServiceClosePipe(pipe);
    ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
}

static void test_service_not_running(void)
{
    FH_SERVICE_PIPE_HANDLE pipe = (FH_SERVICE_PIPE_HANDLE)0xdeadbeef;
    char value[8];
    HRESULT hr;

    /* the check script runs this binary once with no service behind the endpoint */
    if (!GetEnvironmentVariableA("FHSVCCTL_TEST_NO_SERVICE", value, sizeof(value)))
    {
        skip("not set up for the no-service case\n");
        return;
    }
    hr = pFhServiceOpenPipe(FALSE, &pipe);
    ok(hr == HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE), "OpenPipe without service: got %#lx\n", hr);
    ok(pipe == NULL, "pipe %p\n", pipe);

    /* with a start command configured, OpenPipe(TRUE) starts the service */
    if (!GetEnvironmentVariableA("FILEHISTORY_DAEMON", value, sizeof(value)) && GetLastError() == ERROR_ENVVAR_NOT_FOUND)
        return;
    pipe = NULL;
    hr = pFhServiceOpenPipe(TRUE, &pipe);
    ok(hr == S_OK, "OpenPipe(TRUE) without service: got %#lx\n", hr);
    ok(pipe != NULL, "got NULL pipe\n");
    if (pipe)
    {
        hr = pFhServiceClosePipe(pipe);
        ok(hr == S_OK, "ClosePipe: got %#lx\n", hr);
    }
}

START_TEST(fhsvcctl)
{
    if (!init()) return;
    test_service_not_running();
    test_bad_handles();
    test_open_close();
    test_backup_sequence();
    FreeLibrary(fhsvcctl);
}
