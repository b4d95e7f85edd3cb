/*
 * fhcfg.h as C++ under mingw-w64 with -Werror: the abstract interface
 * classes (method order = vtable order), the coclasses with their
 * __uuidof, and the GUIDs defined once through initguid.h.
 */
#include <windows.h>
#include <fhcfg.h>
#include <initguid.h>
#include <fhcfg.h>

HRESULT use_config_mgr(IFhConfigMgr *mgr, IFhReassociation *reassoc)
{
    DWORD state;
    BSTR until;
    FILETIME when;
    BSTR user, pc;
    if (__uuidof(FhConfigMgr) != CLSID_FhConfigMgr || __uuidof(FhReassociation) != CLSID_FhReassociation ||
        __uuidof(IFhConfigMgr) != IID_IFhConfigMgr || __uuidof(IFhTarget) != IID_IFhTarget)
        return E_FAIL;
    mgr->QueryProtectionStatus(&state, &until);
    reassoc->GetConfigurationDetails(0, &user, &pc, &when);
    return mgr->LoadConfiguration();
}
