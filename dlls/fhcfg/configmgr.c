/*
 * fhcfg.dll: the FhConfigMgr class (IFhConfigMgr) and the IFhTarget and
 * IFhScopeIterator objects it hands out.
 *
 * Each method validates its arguments here (E_INVALIDARG for NULL out
 * pointers and strings, before anything reaches the service), then sends one
 * command of docs/fh-protocol.md section 7; the service answers with the
 * HRESULT the engine (libs/fh/fh_cfgmgr.c) decided.  The configuration the
 * object works on lives in the service, tied to this object's connection:
 * unsaved changes are this object's alone, SaveConfiguration writes them.
 *
 * IFhTarget and IFhScopeIterator are snapshots taken when they are created.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhcfg_private.h"
#include <shlobj.h>
#include <knownfolders.h>

/* ------------------------------------------------------------------ */
/* IFhScopeIterator                                                    */

struct scope_iterator
{
    IFhScopeIterator IFhScopeIterator_iface;
    LONG ref;
    BSTR *items;
    DWORD count;
    DWORD current;
};

static inline struct scope_iterator *impl_from_IFhScopeIterator(IFhScopeIterator *iface)
{
    return CONTAINING_RECORD(iface, struct scope_iterator, IFhScopeIterator_iface);
}

static HRESULT WINAPI scope_iterator_QueryInterface(IFhScopeIterator *iface, REFIID riid, void **ppv)
{
    TRACE("(%p, %s, %p)\n", iface, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IFhScopeIterator))
    {
        *ppv = iface;
        IFhScopeIterator_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI scope_iterator_AddRef(IFhScopeIterator *iface)
{
    struct scope_iterator *iter = impl_from_IFhScopeIterator(iface);
    ULONG ref = InterlockedIncrement(&iter->ref);
    TRACE("(%p) ref %lu\n", iface, ref);
    return ref;
}

static ULONG WINAPI scope_iterator_Release(IFhScopeIterator *iface)
{
    struct scope_iterator *iter = impl_from_IFhScopeIterator(iface);
    ULONG ref = InterlockedDecrement(&iter->ref);

    TRACE("(%p) ref %lu\n", iface, ref);
    if (!ref)
    {
        for (DWORD i = 0; i < iter->count; i++) SysFreeString(iter->items[i]);
        free(iter->items);
        free(iter);
        fhcfg_unlock_module();
    }
    return ref;
}

/* IFhScopeIterator::MoveToNextItem: HRESULT_FROM_WIN32(ERROR_NOT_FOUND) past the last item. */
static HRESULT WINAPI scope_iterator_MoveToNextItem(IFhScopeIterator *iface)
{
    struct scope_iterator *iter = impl_from_IFhScopeIterator(iface);

    TRACE("(%p)\n", iface);
    if (iter->current >= iter->count) return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    if (++iter->current >= iter->count) return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    return S_OK;
}

/* IFhScopeIterator::GetItem: the current item, a new BSTR the caller frees. */
static HRESULT WINAPI scope_iterator_GetItem(IFhScopeIterator *iface, BSTR *item)
{
    struct scope_iterator *iter = impl_from_IFhScopeIterator(iface);

    TRACE("(%p, %p)\n", iface, item);
    if (!item) return E_INVALIDARG;
    *item = NULL;
    if (iter->current >= iter->count) return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    if (!(*item = SysAllocStringLen(iter->items[iter->current], SysStringLen(iter->items[iter->current]))))
        return E_OUTOFMEMORY;
    return S_OK;
}

static const IFhScopeIteratorVtbl scope_iterator_vtbl =
{
    scope_iterator_QueryInterface,
    scope_iterator_AddRef,
    scope_iterator_Release,
    scope_iterator_MoveToNextItem,
    scope_iterator_GetItem,
};

/* Takes ownership of items (also on failure). */
HRESULT scope_iterator_create(BSTR *items, DWORD count, IFhScopeIterator **out)
{
    struct scope_iterator *iter = calloc(1, sizeof(*iter));

    if (!iter)
    {
        for (DWORD i = 0; i < count; i++) SysFreeString(items[i]);
        free(items);
        return E_OUTOFMEMORY;
    }
    iter->IFhScopeIterator_iface.lpVtbl = &scope_iterator_vtbl;
    iter->ref = 1;
    iter->items = items;
    iter->count = count;
    fhcfg_lock_module();
    *out = &iter->IFhScopeIterator_iface;
    return S_OK;
}

/* ------------------------------------------------------------------ */
/* IFhTarget                                                           */

struct target
{
    IFhTarget IFhTarget_iface;
    LONG ref;
    BSTR name;
    BSTR url;
    ULONGLONG drive_type;
};

static inline struct target *impl_from_IFhTarget(IFhTarget *iface)
{
    return CONTAINING_RECORD(iface, struct target, IFhTarget_iface);
}

static HRESULT WINAPI target_QueryInterface(IFhTarget *iface, REFIID riid, void **ppv)
{
    TRACE("(%p, %s, %p)\n", iface, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IFhTarget))
    {
        *ppv = iface;
        IFhTarget_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI target_AddRef(IFhTarget *iface)
{
    struct target *target = impl_from_IFhTarget(iface);
    ULONG ref = InterlockedIncrement(&target->ref);
    TRACE("(%p) ref %lu\n", iface, ref);
    return ref;
}

static ULONG WINAPI target_Release(IFhTarget *iface)
{
    struct target *target = impl_from_IFhTarget(iface);
    ULONG ref = InterlockedDecrement(&target->ref);

    TRACE("(%p) ref %lu\n", iface, ref);
    if (!ref)
    {
        SysFreeString(target->name);
        SysFreeString(target->url);
        free(target);
        fhcfg_unlock_module();
    }
    return ref;
}

/* IFhTarget::GetStringProperty: FH_TARGET_NAME or FH_TARGET_URL. */
static HRESULT WINAPI target_GetStringProperty(IFhTarget *iface, FH_TARGET_PROPERTY_TYPE type, BSTR *value)
{
    struct target *target = impl_from_IFhTarget(iface);
    BSTR source;

    TRACE("(%p, %d, %p)\n", iface, type, value);
    if (!value) return E_INVALIDARG;
    *value = NULL;
    if (type == FH_TARGET_NAME) source = target->name;
    else if (type == FH_TARGET_URL) source = target->url;
    else return E_INVALIDARG;
    if (!(*value = SysAllocStringLen(source, SysStringLen(source)))) return E_OUTOFMEMORY;
    return S_OK;
}

/* IFhTarget::GetNumericalProperty: FH_TARGET_DRIVE_TYPE (FH_TARGET_DRIVE_TYPES). */
static HRESULT WINAPI target_GetNumericalProperty(IFhTarget *iface, FH_TARGET_PROPERTY_TYPE type, ULONGLONG *value)
{
    struct target *target = impl_from_IFhTarget(iface);

    TRACE("(%p, %d, %p)\n", iface, type, value);
    if (!value) return E_INVALIDARG;
    if (type != FH_TARGET_DRIVE_TYPE) return E_INVALIDARG;
    *value = target->drive_type;
    return S_OK;
}

static const IFhTargetVtbl target_vtbl =
{
    target_QueryInterface,
    target_AddRef,
    target_Release,
    target_GetStringProperty,
    target_GetNumericalProperty,
};

/* ------------------------------------------------------------------ */
/* IFhConfigMgr                                                        */

struct config_mgr
{
    IFhConfigMgr IFhConfigMgr_iface;
    LONG ref;
    struct service_link link;
};

static inline struct config_mgr *impl_from_IFhConfigMgr(IFhConfigMgr *iface)
{
    return CONTAINING_RECORD(iface, struct config_mgr, IFhConfigMgr_iface);
}

static HRESULT WINAPI config_mgr_QueryInterface(IFhConfigMgr *iface, REFIID riid, void **ppv)
{
    TRACE("(%p, %s, %p)\n", iface, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IFhConfigMgr))
    {
        *ppv = iface;
        IFhConfigMgr_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI config_mgr_AddRef(IFhConfigMgr *iface)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    ULONG ref = InterlockedIncrement(&mgr->ref);
    TRACE("(%p) ref %lu\n", iface, ref);
    return ref;
}

static ULONG WINAPI config_mgr_Release(IFhConfigMgr *iface)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    ULONG ref = InterlockedDecrement(&mgr->ref);

    TRACE("(%p) ref %lu\n", iface, ref);
    if (!ref)
    {
        link_free(&mgr->link);   /* the service forgets unsaved changes with the connection */
        free(mgr);
        fhcfg_unlock_module();
    }
    return ref;
}

/* IFhConfigMgr::LoadConfiguration: FHCFG_E_CONFIG_FILE_NOT_FOUND before any configuration exists. */
static HRESULT WINAPI config_mgr_LoadConfiguration(IFhConfigMgr *iface)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    TRACE("(%p)\n", iface);
    return link_request(&mgr->link, NULL, 0, "CFG_LOAD");
}

/* The user's libraries as Windows programs know them: under Wine the shell
 * folders, which the prefix links to the user's Linux folders (the service
 * resolves those links, so ~/Documents is what gets protected). */
static HRESULT send_libraries(struct config_mgr *mgr)
{
    static const KNOWNFOLDERID *const libraries[] =
    {
        &FOLDERID_Documents, &FOLDERID_Pictures, &FOLDERID_Music, &FOLDERID_Videos, &FOLDERID_Desktop,
    };
    HRESULT hr = S_OK;

    for (size_t i = 0; i < ARRAY_SIZE(libraries) && SUCCEEDED(hr); i++)
    {
        WCHAR *path = NULL;
        char *unix_path;

        if (FAILED(SHGetKnownFolderPath(libraries[i], 0, NULL, &path)))
        {
            CoTaskMemFree(path);
            continue;
        }
        if (SUCCEEDED(unix_path_from_dos(path, &unix_path)))
        {
            TRACE("library %ls -> %s\n", path, unix_path);
            hr = link_request_string(&mgr->link, "CFG_LIBRARY", unix_path, NULL, 0);
            if (hr == E_INVALIDARG) hr = S_OK;   /* a folder the engine cannot protect: left out */
            free(unix_path);
        }
        CoTaskMemFree(path);
    }
    return hr;
}

/* IFhConfigMgr::CreateDefaultConfiguration */
static HRESULT WINAPI config_mgr_CreateDefaultConfiguration(IFhConfigMgr *iface, BOOL overwrite)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    HRESULT hr;

    TRACE("(%p, %d)\n", iface, overwrite);
    if (FAILED(hr = send_libraries(mgr))) return hr;
    return link_request(&mgr->link, NULL, 0, "CFG_CREATE %d", overwrite ? 1 : 0);
}

/* IFhConfigMgr::SaveConfiguration */
static HRESULT WINAPI config_mgr_SaveConfiguration(IFhConfigMgr *iface)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    TRACE("(%p)\n", iface);
    return link_request(&mgr->link, NULL, 0, "CFG_SAVE");
}

static BOOL category_valid(FH_PROTECTED_ITEM_CATEGORY category)
{
    return category == FH_FOLDER || category == FH_LIBRARY;
}

/* IFhConfigMgr::AddRemoveExcludeRule */
static HRESULT WINAPI config_mgr_AddRemoveExcludeRule(IFhConfigMgr *iface, BOOL add, FH_PROTECTED_ITEM_CATEGORY category,
                                                      BSTR item)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char command[64], *unix_path;
    HRESULT hr;

    TRACE("(%p, %d, %d, %s)\n", iface, add, category, debugstr_w(item));
    if (!item || !item[0] || !category_valid(category)) return E_INVALIDARG;
    if (FAILED(hr = unix_path_from_dos(item, &unix_path))) return hr;
    snprintf(command, sizeof(command), "CFG_EXCLUDE %d %d", add ? 1 : 0, (int)category);
    hr = link_request_string(&mgr->link, command, unix_path, NULL, 0);
    free(unix_path);
    return hr;
}

/* IFhConfigMgr::GetIncludeExcludeRules: a snapshot of the rules as an iterator. */
static HRESULT WINAPI config_mgr_GetIncludeExcludeRules(IFhConfigMgr *iface, BOOL include,
                                                        FH_PROTECTED_ITEM_CATEGORY category,
                                                        IFhScopeIterator **iterator)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char text[64], prefix[64], *path;
    unsigned long count;
    BSTR *items;
    HRESULT hr;
    DWORD i;

    TRACE("(%p, %d, %d, %p)\n", iface, include, category, iterator);
    if (!iterator) return E_INVALIDARG;
    *iterator = NULL;
    if (!category_valid(category)) return E_INVALIDARG;
    if (FAILED(hr = link_request(&mgr->link, text, sizeof(text), "CFG_RULES %d %d", include ? 1 : 0, (int)category)))
        return hr;
    count = strtoul(text, NULL, 10);
    if (count > 1024) return FH_E_BAD_REPLY;
    if (!(items = calloc(count ? count : 1, sizeof(*items)))) return E_OUTOFMEMORY;
    for (i = 0; i < count && SUCCEEDED(hr); i++)
    {
        snprintf(prefix, sizeof(prefix), "CFG_RULE %lu", i);
        if (SUCCEEDED(hr = link_fetch_string(&mgr->link, prefix, &path)))
        {
            hr = bstr_from_unix_path(path, FALSE, &items[i]);
            free(path);
        }
    }
    if (FAILED(hr))
    {
        for (i = 0; i < count; i++) SysFreeString(items[i]);
        free(items);
        return hr;
    }
    return scope_iterator_create(items, count, iterator);
}

/* IFhConfigMgr::GetLocalPolicy */
static HRESULT WINAPI config_mgr_GetLocalPolicy(IFhConfigMgr *iface, FH_LOCAL_POLICY_TYPE type, ULONGLONG *value)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char text[64];
    HRESULT hr;

    TRACE("(%p, %d, %p)\n", iface, type, value);
    if (!value || (unsigned int)type >= MAX_LOCAL_POLICY) return E_INVALIDARG;
    if (FAILED(hr = link_request(&mgr->link, text, sizeof(text), "CFG_POLICY %d", (int)type))) return hr;
    *value = strtoull(text, NULL, 10);
    return S_OK;
}

/* IFhConfigMgr::SetLocalPolicy */
static HRESULT WINAPI config_mgr_SetLocalPolicy(IFhConfigMgr *iface, FH_LOCAL_POLICY_TYPE type, ULONGLONG value)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);

    TRACE("(%p, %d, %I64u)\n", iface, type, value);
    if ((unsigned int)type >= MAX_LOCAL_POLICY) return E_INVALIDARG;
    return link_request(&mgr->link, NULL, 0, "CFG_SET_POLICY %d %I64u", (int)type, value);
}

/* IFhConfigMgr::GetBackupStatus */
static HRESULT WINAPI config_mgr_GetBackupStatus(IFhConfigMgr *iface, FH_BACKUP_STATUS *status)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char text[64];
    HRESULT hr;

    TRACE("(%p, %p)\n", iface, status);
    if (!status) return E_INVALIDARG;
    if (FAILED(hr = link_request(&mgr->link, text, sizeof(text), "CFG_STATUS"))) return hr;
    *status = (FH_BACKUP_STATUS)strtoul(text, NULL, 10);
    return S_OK;
}

/* IFhConfigMgr::SetBackupStatus: FH_STATUS_DISABLED or FH_STATUS_ENABLED. */
static HRESULT WINAPI config_mgr_SetBackupStatus(IFhConfigMgr *iface, FH_BACKUP_STATUS status)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);

    TRACE("(%p, %d)\n", iface, status);
    if ((unsigned int)status >= MAX_BACKUP_STATUS) return E_INVALIDARG;
    return link_request(&mgr->link, NULL, 0, "CFG_SET_STATUS %d", (int)status);
}

/* IFhConfigMgr::GetDefaultTarget: HRESULT_FROM_WIN32(ERROR_NOT_FOUND) and NULL without a target. */
static HRESULT WINAPI config_mgr_GetDefaultTarget(IFhConfigMgr *iface, IFhTarget **out)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char *name = NULL, *url = NULL, text[64];
    struct target *target;
    HRESULT hr;

    TRACE("(%p, %p)\n", iface, out);
    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!(target = calloc(1, sizeof(*target)))) return E_OUTOFMEMORY;
    target->IFhTarget_iface.lpVtbl = &target_vtbl;
    target->ref = 1;
    if (SUCCEEDED(hr = link_fetch_string(&mgr->link, "CFG_TARGET 0", &name)) &&
        SUCCEEDED(hr = link_fetch_string(&mgr->link, "CFG_TARGET 1", &url)) &&
        SUCCEEDED(hr = link_request(&mgr->link, text, sizeof(text), "CFG_TARGET_DRIVE")) &&
        SUCCEEDED(hr = bstr_from_utf8(name, &target->name)))
        hr = bstr_from_unix_path(url, TRUE, &target->url);
    free(name);
    free(url);
    if (FAILED(hr))
    {
        SysFreeString(target->name);
        free(target);
        return hr;
    }
    target->drive_type = strtoull(text, NULL, 10);
    fhcfg_lock_module();
    *out = &target->IFhTarget_iface;
    return S_OK;
}

/* IFhConfigMgr::ValidateTarget */
static HRESULT WINAPI config_mgr_ValidateTarget(IFhConfigMgr *iface, BSTR url, FH_DEVICE_VALIDATION_RESULT *result)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char *unix_path, text[64];
    HRESULT hr;

    TRACE("(%p, %s, %p)\n", iface, debugstr_w(url), result);
    if (!url || !url[0] || !result) return E_INVALIDARG;
    if (FAILED(hr = unix_path_from_dos(url, &unix_path))) return hr;
    hr = link_request_string(&mgr->link, "CFG_VALIDATE", unix_path, text, sizeof(text));
    free(unix_path);
    if (SUCCEEDED(hr)) *result = (FH_DEVICE_VALIDATION_RESULT)strtoul(text, NULL, 10);
    return hr;
}

/* IFhConfigMgr::ProvisionAndSetNewTarget: an empty name lets the engine name the target. */
static HRESULT WINAPI config_mgr_ProvisionAndSetNewTarget(IFhConfigMgr *iface, BSTR url, BSTR name)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char *unix_path, utf8_name[FH_STRING_MAX + 1];
    HRESULT hr;
    int len;

    TRACE("(%p, %s, %s)\n", iface, debugstr_w(url), debugstr_w(name));
    if (!url || !url[0] || !name) return E_INVALIDARG;
    len = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, name, -1, utf8_name, sizeof(utf8_name), NULL, NULL);
    if (len <= 0) return E_INVALIDARG;
    if (FAILED(hr = unix_path_from_dos(url, &unix_path))) return hr;
    if (SUCCEEDED(hr = link_request_string(&mgr->link, "CFG_TARGET_NAME", utf8_name, NULL, 0)))
        hr = link_request_string(&mgr->link, "CFG_PROVISION", unix_path, NULL, 0);
    free(unix_path);
    return hr;
}

/* IFhConfigMgr::ChangeDefaultTargetRecommendation: HomeGroup recommendations; there is no HomeGroup. */
static HRESULT WINAPI config_mgr_ChangeDefaultTargetRecommendation(IFhConfigMgr *iface, BOOL recommend)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    static BOOL once;

    TRACE("(%p, %d)\n", iface, recommend);
    if (!once++) fh_trace(__func__, "FIXME: no HomeGroup to recommend a target to\n");
    return link_request(&mgr->link, NULL, 0, "CFG_RECOMMEND %d", recommend ? 1 : 0);
}

/* "YYYY-MM-DDTHH:MM:SSZ" -> the date and time in the user's locale and time zone. */
static HRESULT format_until(const char *iso, BSTR *out)
{
    SYSTEMTIME utc = { 0 }, local;
    WCHAR date[128], time[128], joined[260];
    unsigned int y, mo, d, h, mi, s;

    if (!strcmp(iso, "-")) return (*out = SysAllocString(L"")) ? S_OK : E_OUTOFMEMORY;
    if (sscanf(iso, "%4u-%2u-%2uT%2u:%2u:%2uZ", &y, &mo, &d, &h, &mi, &s) != 6) return FH_E_BAD_REPLY;
    utc.wYear = y; utc.wMonth = mo; utc.wDay = d; utc.wHour = h; utc.wMinute = mi; utc.wSecond = s;
    if (!SystemTimeToTzSpecificLocalTime(NULL, &utc, &local) ||
        !GetDateFormatW(LOCALE_USER_DEFAULT, DATE_SHORTDATE, &local, NULL, date, ARRAY_SIZE(date)) ||
        !GetTimeFormatW(LOCALE_USER_DEFAULT, 0, &local, NULL, time, ARRAY_SIZE(time)))
        return HRESULT_FROM_WIN32(GetLastError());
    _snwprintf(joined, ARRAY_SIZE(joined), L"%s %s", date, time);
    joined[ARRAY_SIZE(joined) - 1] = 0;
    return (*out = SysAllocString(joined)) ? S_OK : E_OUTOFMEMORY;
}

/* IFhConfigMgr::QueryProtectionStatus: the service's FH_STATE_* and the
 * protected-until time formatted for the locale (empty when unknown). */
static HRESULT WINAPI config_mgr_QueryProtectionStatus(IFhConfigMgr *iface, DWORD *state, BSTR *until)
{
    struct config_mgr *mgr = impl_from_IFhConfigMgr(iface);
    char text[64], iso[32];
    unsigned long value;
    HRESULT hr;

    TRACE("(%p, %p, %p)\n", iface, state, until);
    if (!state || !until) return E_INVALIDARG;
    *until = NULL;
    if (FAILED(hr = link_request(&mgr->link, text, sizeof(text), "CFG_PROTECTION"))) return hr;
    if (sscanf(text, "%8lx %31s", &value, iso) != 2) return FH_E_BAD_REPLY;
    if (FAILED(hr = format_until(iso, until))) return hr;
    *state = value;
    return S_OK;
}

static const IFhConfigMgrVtbl config_mgr_vtbl =
{
    config_mgr_QueryInterface,
    config_mgr_AddRef,
    config_mgr_Release,
    config_mgr_LoadConfiguration,
    config_mgr_CreateDefaultConfiguration,
    config_mgr_SaveConfiguration,
    config_mgr_AddRemoveExcludeRule,
    config_mgr_GetIncludeExcludeRules,
    config_mgr_GetLocalPolicy,
    config_mgr_SetLocalPolicy,
    config_mgr_GetBackupStatus,
    config_mgr_SetBackupStatus,
    config_mgr_GetDefaultTarget,
    config_mgr_ValidateTarget,
    config_mgr_ProvisionAndSetNewTarget,
    config_mgr_ChangeDefaultTargetRecommendation,
    config_mgr_QueryProtectionStatus,
};

HRESULT config_mgr_create(REFIID riid, void **ppv)
{
    struct config_mgr *mgr;
    HRESULT hr;

    if (!(mgr = calloc(1, sizeof(*mgr)))) return E_OUTOFMEMORY;
    mgr->IFhConfigMgr_iface.lpVtbl = &config_mgr_vtbl;
    mgr->ref = 1;
    link_init(&mgr->link);
    fhcfg_lock_module();
    hr = IFhConfigMgr_QueryInterface(&mgr->IFhConfigMgr_iface, riid, ppv);
    IFhConfigMgr_Release(&mgr->IFhConfigMgr_iface);
    return hr;
}
