/*
 * An ordinary Windows program that sets up File History the way public
 * setup tools do (the call pattern of Microsoft's fhsetup sample), then
 * starts a backup through fhsvcctl.dll and reads the result back through
 * IFhConfigMgr::QueryProtectionStatus.
 *
 *   fhsetup.exe setup TARGET\     configure, provision, enable, save, back up,
 *                                 wait; prints "state <hex>" and "until <text>"
 *   fhsetup.exe check STATE ISO   QueryProtectionStatus must give STATE and
 *                                 the time ISO (UTC) as this locale writes it
 * Exit status 0 on success.
 */
#define COBJMACROS
#include <stdio.h>
#include <windows.h>
#include <initguid.h>
#include <fhcfg.h>
#include <fhsvcctl.h>

static int fail(const char *what, HRESULT hr)
{
    printf("%s failed: 0x%08lx\n", what, hr);
    return 1;
}

static int setup(IFhConfigMgr *mgr, const WCHAR *target_path)
{
    FH_DEVICE_VALIDATION_RESULT validation;
    FH_BACKUP_STATUS status;
    FH_SERVICE_PIPE_HANDLE pipe;
    BSTR target = SysAllocString(target_path), name = SysAllocString(L""), until = NULL;
    DWORD state = 0;
    HRESULT hr;
    int i;

    if (FAILED(hr = IFhConfigMgr_CreateDefaultConfiguration(mgr, TRUE))) return fail("CreateDefaultConfiguration", hr);
    if (FAILED(hr = IFhConfigMgr_GetBackupStatus(mgr, &status))) return fail("GetBackupStatus", hr);
    if (status == FH_STATUS_DISABLED_BY_GP) return fail("File History disabled by group policy", E_FAIL);
    if (FAILED(hr = IFhConfigMgr_ValidateTarget(mgr, target, &validation))) return fail("ValidateTarget", hr);
    if (validation != FH_VALID_TARGET) { printf("target not valid: %d\n", validation); return 1; }
    if (FAILED(hr = IFhConfigMgr_ProvisionAndSetNewTarget(mgr, target, name))) return fail("ProvisionAndSetNewTarget", hr);
    if (FAILED(hr = IFhConfigMgr_SetBackupStatus(mgr, FH_STATUS_ENABLED))) return fail("SetBackupStatus", hr);
    if (FAILED(hr = IFhConfigMgr_SaveConfiguration(mgr))) return fail("SaveConfiguration", hr);

    if (FAILED(hr = FhServiceOpenPipe(TRUE, &pipe))) return fail("FhServiceOpenPipe", hr);
    if (FAILED(hr = FhServiceReloadConfiguration(pipe))) return fail("FhServiceReloadConfiguration", hr);
    if (FAILED(hr = FhServiceStartBackup(pipe, FALSE))) return fail("FhServiceStartBackup", hr);
    FhServiceClosePipe(pipe);

    /* FhServiceStartBackup does not wait: the outcome is QueryProtectionStatus's */
    for (i = 0; i < 600; i++)
    {
        SysFreeString(until);
        until = NULL;
        if (FAILED(hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, &until))) return fail("QueryProtectionStatus", hr);
        if (!(state & FH_STATE_RUNNING) && until && until[0]) break;
        Sleep(100);
    }
    printf("state %08lx\n", state);
    printf("until %ls\n", until ? until : L"");
    SysFreeString(until);
    SysFreeString(target);
    SysFreeString(name);
    return state == FH_STATE_NO_ERROR ? 0 : 1;
}

static int check(IFhConfigMgr *mgr, const WCHAR *expect_state, const WCHAR *iso)
{
    SYSTEMTIME utc = { 0 }, local;
    WCHAR date[128], time[128], expect[300];
    DWORD state;
    BSTR until = NULL;
    HRESULT hr;

    if (FAILED(hr = IFhConfigMgr_LoadConfiguration(mgr))) return fail("LoadConfiguration", hr);
    if (FAILED(hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, &until))) return fail("QueryProtectionStatus", hr);
    if (swscanf(iso, L"%hu-%hu-%huT%hu:%hu:%huZ", &utc.wYear, &utc.wMonth, &utc.wDay, &utc.wHour, &utc.wMinute,
                &utc.wSecond) != 6)
        return fail("the expected time", E_INVALIDARG);
    SystemTimeToTzSpecificLocalTime(NULL, &utc, &local);
    GetDateFormatW(LOCALE_USER_DEFAULT, DATE_SHORTDATE, &local, NULL, date, ARRAYSIZE(date));
    GetTimeFormatW(LOCALE_USER_DEFAULT, 0, &local, NULL, time, ARRAYSIZE(time));
    swprintf(expect, ARRAYSIZE(expect), L"%ls %ls", date, time);
    printf("COM: state %08lx until \"%ls\"; CLI: state %ls until %ls (\"%ls\" here)\n", state, until, expect_state,
           iso, expect);
    if (state != wcstoul(expect_state, NULL, 16) || wcscmp(until, expect)) return 1;
    SysFreeString(until);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    IFhConfigMgr *mgr = NULL;
    HRESULT hr;
    int ret;

    if (argc < 3) { printf("usage: fhsetup setup TARGET | check STATE ISO\n"); return 2; }
    CoInitialize(NULL);
    hr = CoCreateInstance(&CLSID_FhConfigMgr, NULL, CLSCTX_INPROC_SERVER, &IID_IFhConfigMgr, (void **)&mgr);
    if (FAILED(hr)) return fail("CoCreateInstance(CLSID_FhConfigMgr)", hr);
    if (!wcscmp(argv[1], L"setup")) ret = setup(mgr, argv[2]);
    else if (!wcscmp(argv[1], L"check") && argc == 4) ret = check(mgr, argv[2], argv[3]);
    else ret = 2;
    IFhConfigMgr_Release(mgr);
    CoUninitialize();
    return ret;
}
