/*
 * fhcfg.dll: the FhReassociation class (IFhReassociation)
 *
 * A user who reinstalled points File History at the disk that holds the
 * old backups: ScanTargetForConfigurations lists the configurations on it,
 * SelectConfiguration picks one, PerformReassociation makes it the user's
 * configuration so the next backups continue its versions.  The service
 * reads the target's Config1.xml/Config2.xml (hostile input: the engine's
 * hardened reader) and keeps the scan results for this object's connection.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhcfg_private.h"

struct reassociation
{
    IFhReassociation IFhReassociation_iface;
    LONG ref;
    struct service_link link;
};

static inline struct reassociation *impl_from_IFhReassociation(IFhReassociation *iface)
{
    return CONTAINING_RECORD(iface, struct reassociation, IFhReassociation_iface);
}

static HRESULT WINAPI reassociation_QueryInterface(IFhReassociation *iface, REFIID riid, void **ppv)
{
    TRACE("(%p, %s, %p)\n", iface, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IFhReassociation))
    {
        *ppv = iface;
        IFhReassociation_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI reassociation_AddRef(IFhReassociation *iface)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    ULONG ref = InterlockedIncrement(&object->ref);
    TRACE("(%p) ref %lu\n", iface, ref);
    return ref;
}

static ULONG WINAPI reassociation_Release(IFhReassociation *iface)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    ULONG ref = InterlockedDecrement(&object->ref);

    TRACE("(%p) ref %lu\n", iface, ref);
    if (!ref)
    {
        link_free(&object->link);
        free(object);
        fhcfg_unlock_module();
    }
    return ref;
}

/* IFhReassociation::ValidateTarget */
static HRESULT WINAPI reassociation_ValidateTarget(IFhReassociation *iface, BSTR url, FH_DEVICE_VALIDATION_RESULT *result)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    char *unix_path, text[64];
    HRESULT hr;

    TRACE("(%p, %s, %p)\n", iface, debugstr_w(url), result);
    if (!url || !url[0] || !result) return E_INVALIDARG;
    if (FAILED(hr = unix_path_from_dos(url, &unix_path))) return hr;
    hr = link_request_string(&object->link, "REASSOC_VALIDATE", unix_path, text, sizeof(text));
    free(unix_path);
    if (SUCCEEDED(hr)) *result = (FH_DEVICE_VALIDATION_RESULT)strtoul(text, NULL, 10);
    return hr;
}

/* IFhReassociation::ScanTargetForConfigurations: HRESULT_FROM_WIN32(ERROR_NOT_FOUND) when there is none. */
static HRESULT WINAPI reassociation_ScanTargetForConfigurations(IFhReassociation *iface, BSTR url)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    char *unix_path, text[64];
    HRESULT hr;

    TRACE("(%p, %s)\n", iface, debugstr_w(url));
    if (!url || !url[0]) return E_INVALIDARG;
    if (FAILED(hr = unix_path_from_dos(url, &unix_path))) return hr;
    hr = link_request_string(&object->link, "REASSOC_SCAN", unix_path, text, sizeof(text));
    free(unix_path);
    return hr;
}

/* IFhReassociation::GetConfigurationDetails: who backed up from where, and when last. */
static HRESULT WINAPI reassociation_GetConfigurationDetails(IFhReassociation *iface, DWORD index, BSTR *user,
                                                            BSTR *pc, FILETIME *backup_time)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    char prefix[64], text[64], *user_utf8 = NULL, *pc_utf8 = NULL;
    ULONGLONG ticks;
    long long seconds;
    HRESULT hr;

    TRACE("(%p, %lu, %p, %p, %p)\n", iface, index, user, pc, backup_time);
    if (!user || !pc || !backup_time) return E_INVALIDARG;
    *user = *pc = NULL;
    if (FAILED(hr = link_request(&object->link, text, sizeof(text), "REASSOC_TIME %lu", index))) return hr;
    if (sscanf(text, "%lld", &seconds) != 1 || seconds < 0) return FH_E_BAD_REPLY;
    snprintf(prefix, sizeof(prefix), "REASSOC_DETAILS %lu 0", index);
    if (SUCCEEDED(hr = link_fetch_string(&object->link, prefix, &user_utf8)))
    {
        snprintf(prefix, sizeof(prefix), "REASSOC_DETAILS %lu 1", index);
        hr = link_fetch_string(&object->link, prefix, &pc_utf8);
    }
    if (SUCCEEDED(hr) && SUCCEEDED(hr = bstr_from_utf8(user_utf8, user)) && FAILED(hr = bstr_from_utf8(pc_utf8, pc)))
    {
        SysFreeString(*user);
        *user = NULL;
    }
    free(user_utf8);
    free(pc_utf8);
    if (FAILED(hr)) return hr;
    /* FILETIME: 100 ns since 1601-01-01 UTC */
    ticks = (ULONGLONG)seconds * 10000000 + 116444736000000000ull;
    backup_time->dwLowDateTime = (DWORD)ticks;
    backup_time->dwHighDateTime = (DWORD)(ticks >> 32);
    return S_OK;
}

/* IFhReassociation::SelectConfiguration */
static HRESULT WINAPI reassociation_SelectConfiguration(IFhReassociation *iface, DWORD index)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    TRACE("(%p, %lu)\n", iface, index);
    return link_request(&object->link, NULL, 0, "REASSOC_SELECT %lu", index);
}

/* IFhReassociation::PerformReassociation: FHCFG_E_CONFIG_ALREADY_EXISTS unless OverwriteIfExists. */
static HRESULT WINAPI reassociation_PerformReassociation(IFhReassociation *iface, BOOL overwrite)
{
    struct reassociation *object = impl_from_IFhReassociation(iface);
    TRACE("(%p, %d)\n", iface, overwrite);
    return link_request(&object->link, NULL, 0, "REASSOC_PERFORM %d", overwrite ? 1 : 0);
}

static const IFhReassociationVtbl reassociation_vtbl =
{
    reassociation_QueryInterface,
    reassociation_AddRef,
    reassociation_Release,
    reassociation_ValidateTarget,
    reassociation_ScanTargetForConfigurations,
    reassociation_GetConfigurationDetails,
    reassociation_SelectConfiguration,
    reassociation_PerformReassociation,
};

HRESULT reassociation_create(REFIID riid, void **ppv)
{
    struct reassociation *object;
    HRESULT hr;

    if (!(object = calloc(1, sizeof(*object)))) return E_OUTOFMEMORY;
    object->IFhReassociation_iface.lpVtbl = &reassociation_vtbl;
    object->ref = 1;
    link_init(&object->link);
    fhcfg_lock_module();
    hr = IFhReassociation_QueryInterface(&object->IFhReassociation_iface, riid, ppv);
    IFhReassociation_Release(&object->IFhReassociation_iface);
    return hr;
}
