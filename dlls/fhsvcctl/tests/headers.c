/*
 * Compile check for include/fhsvcctl.h, fherrors.h and fhcfg.h
 * under mingw-w64: each header alone, all together, twice (include guards),
 * and the GUIDs defined once through initguid.h.  The asserted values are
 * Microsoft's published ones, so a typo in a header fails the build.
 */

#define COBJMACROS
#include <fherrors.h>
#include <windows.h>
#include <fhsvcctl.h>
#include <fhcfg.h>
#include <fhsvcctl.h>
#include <fhcfg.h>
#include <initguid.h>
#include <fhcfg.h>

#define CHECK_AT(line, expr) typedef char check_at_##line[(expr) ? 1 : -1]
#define STATIC_CHECK(expr) CHECK_AT2(__LINE__, expr)
#define CHECK_AT2(line, expr) CHECK_AT(line, expr)

STATIC_CHECK(FHSVC_E_BACKUP_BLOCKED == (HRESULT)0x80040600);
STATIC_CHECK(FHSVC_E_NOT_CONFIGURED == (HRESULT)0x80040601);
STATIC_CHECK(FHSVC_E_CONFIG_REHYDRATING == (HRESULT)0x80040605);
STATIC_CHECK(FHCFG_E_LEGACY_BACKUP_NOT_FOUND == (HRESULT)0x80040315);
STATIC_CHECK(FH_STATE_BACKUP_NOT_SUPPORTED == 0x810);
STATIC_CHECK(FH_STATE_RUNNING == 0x100);
STATIC_CHECK(FH_DRIVE_REMOVABLE == 2 && FH_DRIVE_REMOTE == 4);
STATIC_CHECK(FH_VALID_TARGET == 6 && MAX_VALIDATION_RESULT == 7);
STATIC_CHECK(FH_STATUS_REHYDRATING == 3 && MAX_BACKUP_STATUS == 4);
STATIC_CHECK(FH_RETENTION_AGE_BASED == 2 && FH_RETENTION_AGE == 2);
STATIC_CHECK(BackupCancelled == 4);
STATIC_CHECK(sizeof(FH_SERVICE_PIPE_HANDLE) == sizeof(void *));

static HRESULT use_interfaces(IFhConfigMgr *mgr, IFhReassociation *reassoc)
{
    DWORD state;
    BSTR until;
    IFhTarget *target;
    IFhScopeIterator *iter;
    HRESULT hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, &until);
    if (SUCCEEDED(hr)) hr = IFhConfigMgr_GetDefaultTarget(mgr, &target);
    if (SUCCEEDED(hr)) hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, FH_LIBRARY, &iter);
    if (SUCCEEDED(hr)) hr = IFhScopeIterator_MoveToNextItem(iter);
    if (SUCCEEDED(hr)) hr = IFhReassociation_PerformReassociation(reassoc, FALSE);
    return hr;
}

int main(void)
{
    static const GUID expect = {0x6a5fea5b, 0xbf8f, 0x4ee5, {0xb8, 0xc3, 0x44, 0xd8, 0xa0, 0xd7, 0x33, 0x1c}};
    HRESULT (WINAPI *open_pipe)(BOOL, FH_SERVICE_PIPE_HANDLE *) = FhServiceOpenPipe;
    (void)open_pipe;
    (void)use_interfaces;
    return IsEqualGUID(&IID_IFhConfigMgr, &expect) ? 0 : 1;
}
