/*
 * Conformance tests for fhcfg.dll (File History configuration manager):
 * the FhConfigMgr and FhReassociation COM classes.
 *
 * On Windows they run against Microsoft's fhcfg.dll, whatever File History
 * state the machine is in: what depends on it (a configuration already
 * there, a disk to back up to) is accepted through broken() or skipped.
 * The project's check script (dlls/fhcfg/check-fhcfg.sh) runs them under
 * Wine with the project's fhcfg.dll registered by regsvr32 and the File
 * History service of a throw-away user, and says what to expect through:
 *   FHCFG_TEST_TARGET      an empty directory to provision (DOS path)
 *   FHCFG_TEST_OLD_TARGET  a disk with an earlier machine's backups (DOS path),
 *                          user "olduser" on PC "oldpc", plus damaged ones
 *   FHCFG_TEST_FRESH       "1": no File History configuration exists yet
 * Call patterns follow public File History setup tools (Microsoft's
 * fhsetup sample): CreateDefaultConfiguration(FALSE), GetBackupStatus,
 * ValidateTarget, ProvisionAndSetNewTarget(url, L""), SetBackupStatus,
 * SaveConfiguration, ChangeDefaultTargetRecommendation.
 */

#define COBJMACROS
#include <windows.h>
#include <initguid.h>
#include <shlobj.h>
#include <knownfolders.h>
#include "fhcfg.h"
#include "wine/test.h"

#define E_NOT_FOUND HRESULT_FROM_WIN32(ERROR_NOT_FOUND)

static WCHAR target[MAX_PATH], old_target[MAX_PATH];
static BOOL fresh;

static BOOL get_env(const WCHAR *name, WCHAR *buf, DWORD size)
{
    DWORD len = GetEnvironmentVariableW(name, buf, size);
    return len && len < size;
}

static IFhConfigMgr *create_mgr(void)
{
    IFhConfigMgr *mgr = NULL;
    HRESULT hr = CoCreateInstance(&CLSID_FhConfigMgr, NULL, CLSCTX_INPROC_SERVER, &IID_IFhConfigMgr, (void **)&mgr);
    ok(hr == S_OK, "CoCreateInstance(CLSID_FhConfigMgr) got %#lx\n", hr);
    return hr == S_OK ? mgr : NULL;
}

static ULONG get_refcount(IUnknown *unk)
{
    IUnknown_AddRef(unk);
    return IUnknown_Release(unk);
}

static void test_com_rules(void)
{
    IFhConfigMgr *mgr;
    IFhReassociation *reassoc = NULL;
    IClassFactory *factory = NULL;
    IUnknown *unk = NULL, *outer = (IUnknown *)0xdeadbeef;
    void *ppv;
    HRESULT hr;
    ULONG ref;

    if (!(mgr = create_mgr())) return;
    ref = get_refcount((IUnknown *)mgr);
    ok(ref == 1, "refcount %lu\n", ref);
    hr = IFhConfigMgr_QueryInterface(mgr, &IID_IUnknown, (void **)&unk);
    ok(hr == S_OK && unk == (IUnknown *)mgr, "IUnknown: %#lx, %p\n", hr, unk);
    ref = IUnknown_Release(unk);
    ok(ref == 1, "Release got %lu\n", ref);
    ppv = (void *)0xdeadbeef;
    hr = IFhConfigMgr_QueryInterface(mgr, &IID_IFhReassociation, &ppv);
    ok(hr == E_NOINTERFACE && !ppv, "IFhReassociation from FhConfigMgr: %#lx, %p\n", hr, ppv);
    ppv = (void *)0xdeadbeef;
    hr = IFhConfigMgr_QueryInterface(mgr, &IID_IFhTarget, &ppv);
    ok(hr == E_NOINTERFACE && !ppv, "IFhTarget from FhConfigMgr: %#lx, %p\n", hr, ppv);
    hr = IFhConfigMgr_QueryInterface(mgr, &IID_IFhConfigMgr, NULL);
    ok(hr == E_POINTER, "NULL ppv: %#lx\n", hr);
    ref = IFhConfigMgr_AddRef(mgr);
    ok(ref == 2, "AddRef got %lu\n", ref);
    ref = IFhConfigMgr_Release(mgr);
    ok(ref == 1, "Release got %lu\n", ref);
    ref = IFhConfigMgr_Release(mgr);
    ok(ref == 0, "last Release got %lu\n", ref);

    hr = CoCreateInstance(&CLSID_FhReassociation, NULL, CLSCTX_INPROC_SERVER, &IID_IFhReassociation, (void **)&reassoc);
    ok(hr == S_OK, "CoCreateInstance(CLSID_FhReassociation) got %#lx\n", hr);
    if (reassoc)
    {
        ppv = (void *)0xdeadbeef;
        hr = IFhReassociation_QueryInterface(reassoc, &IID_IFhConfigMgr, &ppv);
        ok(hr == E_NOINTERFACE && !ppv, "IFhConfigMgr from FhReassociation: %#lx, %p\n", hr, ppv);
        ref = IFhReassociation_Release(reassoc);
        ok(ref == 0, "last Release got %lu\n", ref);
    }

    hr = CoGetClassObject(&CLSID_FhConfigMgr, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory, (void **)&factory);
    ok(hr == S_OK, "CoGetClassObject got %#lx\n", hr);
    if (factory)
    {
        ppv = (void *)0xdeadbeef;
        hr = IClassFactory_CreateInstance(factory, outer, &IID_IUnknown, &ppv);
        ok(hr == CLASS_E_NOAGGREGATION && !ppv, "aggregation: %#lx, %p\n", hr, ppv);
        hr = IClassFactory_CreateInstance(factory, NULL, &IID_IFhTarget, &ppv);
        ok(hr == E_NOINTERFACE && !ppv, "IFhTarget instance: %#lx, %p\n", hr, ppv);
        IClassFactory_Release(factory);
    }
}

/* Everything but Load/CreateDefault needs a loaded configuration first. */
static void test_before_load(void)
{
    IFhConfigMgr *mgr;
    IFhScopeIterator *iter = (IFhScopeIterator *)0xdeadbeef;
    IFhTarget *tgt = (IFhTarget *)0xdeadbeef;
    FH_DEVICE_VALIDATION_RESULT result;
    FH_BACKUP_STATUS status;
    ULONGLONG value;
    BSTR item = SysAllocString(L"C:\\users");
    DWORD state;
    BSTR until;
    HRESULT hr;

    if (!(mgr = create_mgr())) return;
    hr = IFhConfigMgr_SaveConfiguration(mgr);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "SaveConfiguration got %#lx\n", hr);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, &value);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "GetLocalPolicy got %#lx\n", hr);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_FREQUENCY, 600);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "SetLocalPolicy got %#lx\n", hr);
    hr = IFhConfigMgr_GetBackupStatus(mgr, &status);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "GetBackupStatus got %#lx\n", hr);
    hr = IFhConfigMgr_SetBackupStatus(mgr, FH_STATUS_ENABLED);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "SetBackupStatus got %#lx\n", hr);
    hr = IFhConfigMgr_GetDefaultTarget(mgr, &tgt);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "GetDefaultTarget got %#lx\n", hr);
    ok(!tgt, "target %p\n", tgt);
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, FH_LIBRARY, &iter);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "GetIncludeExcludeRules got %#lx\n", hr);
    ok(!iter, "iterator %p\n", iter);
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, TRUE, FH_FOLDER, item);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "AddRemoveExcludeRule got %#lx\n", hr);
    hr = IFhConfigMgr_ValidateTarget(mgr, item, &result);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "ValidateTarget got %#lx\n", hr);
    hr = IFhConfigMgr_ChangeDefaultTargetRecommendation(mgr, TRUE);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "ChangeDefaultTargetRecommendation got %#lx\n", hr);
    hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, &until);
    ok(hr == FHCFG_E_NO_VALID_CONFIGURATION_LOADED, "QueryProtectionStatus got %#lx\n", hr);

    /* NULL and garbage arguments: E_INVALIDARG before anything else */
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, NULL);
    ok(hr == E_INVALIDARG, "GetLocalPolicy(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_GetBackupStatus(mgr, NULL);
    ok(hr == E_INVALIDARG, "GetBackupStatus(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_GetDefaultTarget(mgr, NULL);
    ok(hr == E_INVALIDARG, "GetDefaultTarget(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, FH_LIBRARY, NULL);
    ok(hr == E_INVALIDARG, "GetIncludeExcludeRules(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, TRUE, FH_FOLDER, NULL);
    ok(hr == E_INVALIDARG, "AddRemoveExcludeRule(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_ValidateTarget(mgr, NULL, &result);
    ok(hr == E_INVALIDARG, "ValidateTarget(NULL url) got %#lx\n", hr);
    hr = IFhConfigMgr_ValidateTarget(mgr, item, NULL);
    ok(hr == E_INVALIDARG, "ValidateTarget(NULL result) got %#lx\n", hr);
    hr = IFhConfigMgr_ProvisionAndSetNewTarget(mgr, NULL, item);
    ok(hr == E_INVALIDARG, "ProvisionAndSetNewTarget(NULL) got %#lx\n", hr);
    hr = IFhConfigMgr_QueryProtectionStatus(mgr, NULL, &until);
    ok(hr == E_INVALIDARG, "QueryProtectionStatus(NULL state) got %#lx\n", hr);
    hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, NULL);
    ok(hr == E_INVALIDARG, "QueryProtectionStatus(NULL time) got %#lx\n", hr);

    hr = IFhConfigMgr_LoadConfiguration(mgr);
    if (fresh)
        ok(hr == FHCFG_E_CONFIG_FILE_NOT_FOUND, "LoadConfiguration without a configuration got %#lx\n", hr);
    else
        ok(hr == S_OK || hr == FHCFG_E_CONFIG_FILE_NOT_FOUND, "LoadConfiguration got %#lx\n", hr);
    SysFreeString(item);
    IFhConfigMgr_Release(mgr);
}

static BOOL contains_item(IFhScopeIterator *iter, const WCHAR *expect)
{
    BOOL found = FALSE;
    HRESULT hr;
    do
    {
        BSTR item = NULL;
        if (FAILED(IFhScopeIterator_GetItem(iter, &item))) break;
        if (!lstrcmpiW(item, expect)) found = TRUE;
        SysFreeString(item);
    } while ((hr = IFhScopeIterator_MoveToNextItem(iter)) == S_OK);
    return found;
}

static DWORD count_items(IFhScopeIterator *iter)
{
    DWORD n = 0;
    BSTR item;
    while (IFhScopeIterator_GetItem(iter, &item) == S_OK)
    {
        SysFreeString(item);
        n++;
        if (IFhScopeIterator_MoveToNextItem(iter) != S_OK) break;
    }
    return n;
}

static void test_default_configuration(void)
{
    IFhConfigMgr *mgr, *other;
    IFhScopeIterator *iter = NULL;
    FH_BACKUP_STATUS status = 0xdead;
    ULONGLONG value;
    HRESULT hr;

    if (!(mgr = create_mgr())) return;
    hr = IFhConfigMgr_CreateDefaultConfiguration(mgr, FALSE);
    ok(hr == S_OK || broken(!fresh && hr == FHCFG_E_CONFIG_ALREADY_EXISTS), "CreateDefaultConfiguration got %#lx\n", hr);
    if (hr != S_OK)
    {
        skip("File History is configured on this machine: not touching it\n");
        IFhConfigMgr_Release(mgr);
        return;
    }
    hr = IFhConfigMgr_LoadConfiguration(mgr);
    ok(hr == FHCFG_E_CONFIGURATION_PREVIOUSLY_LOADED || broken(hr == S_OK), "LoadConfiguration after create got %#lx\n", hr);

    /* the defaults fhcfg.h documents */
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, &value);
    ok(hr == S_OK && value == 3600, "FH_FREQUENCY: %#lx, %I64u\n", hr, value);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_RETENTION_TYPE, &value);
    ok(hr == S_OK && value == FH_RETENTION_DISABLED, "FH_RETENTION_TYPE: %#lx, %I64u\n", hr, value);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_RETENTION_AGE, &value);
    ok(hr == S_OK && value == 365, "FH_RETENTION_AGE: %#lx, %I64u\n", hr, value);
    hr = IFhConfigMgr_GetBackupStatus(mgr, &status);
    ok(hr == S_OK && (status == FH_STATUS_DISABLED || broken(status == FH_STATUS_ENABLED)),
       "GetBackupStatus: %#lx, %d\n", hr, status);

    /* the user's libraries: Documents is one of them */
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, FH_LIBRARY, &iter);
    ok(hr == S_OK && iter, "GetIncludeExcludeRules(libraries) got %#lx\n", hr);
    if (iter)
    {
        WCHAR expect[MAX_PATH];
        DWORD n = count_items(iter);
        ok(n >= 1 || broken(n == 0), "%lu libraries\n", n);
        if (get_env(L"FHCFG_TEST_DOCUMENTS", expect, ARRAY_SIZE(expect)))
        {
            IFhScopeIterator_Release(iter);
            IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, FH_LIBRARY, &iter);
            ok(contains_item(iter, expect), "%s is not protected\n", wine_dbgstr_w(expect));
        }
        IFhScopeIterator_Release(iter);
    }

    /* a second object sees the configuration on disk */
    if ((other = create_mgr()))
    {
        hr = IFhConfigMgr_CreateDefaultConfiguration(other, FALSE);
        ok(hr == FHCFG_E_CONFIG_ALREADY_EXISTS, "second CreateDefaultConfiguration(FALSE) got %#lx\n", hr);
        hr = IFhConfigMgr_LoadConfiguration(other);
        ok(hr == S_OK, "LoadConfiguration got %#lx\n", hr);
        IFhConfigMgr_Release(other);
    }
    IFhConfigMgr_Release(mgr);
}

static IFhConfigMgr *load_mgr(void)
{
    IFhConfigMgr *mgr = create_mgr();
    HRESULT hr;
    if (!mgr) return NULL;
    hr = IFhConfigMgr_LoadConfiguration(mgr);
    ok(hr == S_OK, "LoadConfiguration got %#lx\n", hr);
    if (hr == S_OK) return mgr;
    IFhConfigMgr_Release(mgr);
    return NULL;
}

static void test_policies_and_status(void)
{
    IFhConfigMgr *mgr;
    FH_BACKUP_STATUS status;
    ULONGLONG value;
    HRESULT hr;

    if (!fresh) { skip("not on a machine whose File History is in use\n"); return; }
    if (!(mgr = load_mgr())) return;
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_FREQUENCY, 600);
    ok(hr == S_OK, "SetLocalPolicy(FH_FREQUENCY, 600) got %#lx\n", hr);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, &value);
    ok(hr == S_OK && value == 600, "FH_FREQUENCY: %#lx, %I64u\n", hr, value);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_RETENTION_TYPE, FH_RETENTION_AGE_BASED);
    ok(hr == S_OK, "SetLocalPolicy(FH_RETENTION_TYPE) got %#lx\n", hr);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_RETENTION_AGE, 30);
    ok(hr == S_OK, "SetLocalPolicy(FH_RETENTION_AGE) got %#lx\n", hr);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_RETENTION_AGE, &value);
    ok(hr == S_OK && value == 30, "FH_RETENTION_AGE: %#lx, %I64u\n", hr, value);

    hr = IFhConfigMgr_SetLocalPolicy(mgr, MAX_LOCAL_POLICY, 1);
    ok(hr == E_INVALIDARG, "MAX_LOCAL_POLICY got %#lx\n", hr);
    hr = IFhConfigMgr_GetLocalPolicy(mgr, (FH_LOCAL_POLICY_TYPE)-1, &value);
    ok(hr == E_INVALIDARG, "policy -1 got %#lx\n", hr);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_RETENTION_TYPE, MAX_RETENTION_TYPE);
    ok(hr == E_INVALIDARG, "MAX_RETENTION_TYPE got %#lx\n", hr);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_FREQUENCY, 0);
    ok(hr == E_INVALIDARG || broken(hr == S_OK), "frequency 0 got %#lx\n", hr);
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_RETENTION_AGE, ~(ULONGLONG)0);
    ok(hr == E_INVALIDARG || broken(hr == S_OK), "age 2^64-1 got %#lx\n", hr);

    hr = IFhConfigMgr_SetBackupStatus(mgr, FH_STATUS_ENABLED);
    ok(hr == S_OK, "SetBackupStatus(ENABLED) got %#lx\n", hr);
    hr = IFhConfigMgr_GetBackupStatus(mgr, &status);
    ok(hr == S_OK && status == FH_STATUS_ENABLED, "GetBackupStatus: %#lx, %d\n", hr, status);
    hr = IFhConfigMgr_SetBackupStatus(mgr, MAX_BACKUP_STATUS);
    ok(hr == E_INVALIDARG, "MAX_BACKUP_STATUS got %#lx\n", hr);
    hr = IFhConfigMgr_SetBackupStatus(mgr, FH_STATUS_DISABLED_BY_GP);
    ok(hr == E_INVALIDARG || broken(hr == S_OK), "FH_STATUS_DISABLED_BY_GP got %#lx\n", hr);
    hr = IFhConfigMgr_SaveConfiguration(mgr);
    ok(hr == S_OK, "SaveConfiguration got %#lx\n", hr);
    IFhConfigMgr_Release(mgr);

    /* another object reads what was saved */
    if (!(mgr = load_mgr())) return;
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, &value);
    ok(hr == S_OK && value == 600, "saved FH_FREQUENCY: %#lx, %I64u\n", hr, value);
    hr = IFhConfigMgr_GetBackupStatus(mgr, &status);
    ok(hr == S_OK && status == FH_STATUS_ENABLED, "saved status: %#lx, %d\n", hr, status);
    /* unsaved changes die with their object */
    hr = IFhConfigMgr_SetLocalPolicy(mgr, FH_FREQUENCY, 1200);
    ok(hr == S_OK, "SetLocalPolicy got %#lx\n", hr);
    IFhConfigMgr_Release(mgr);
    if (!(mgr = load_mgr())) return;
    hr = IFhConfigMgr_GetLocalPolicy(mgr, FH_FREQUENCY, &value);
    ok(hr == S_OK && value == 600, "unsaved change leaked: %#lx, %I64u\n", hr, value);
    IFhConfigMgr_Release(mgr);
}

static void test_rules(void)
{
    WCHAR docs[MAX_PATH], sub[MAX_PATH + 16];
    IFhScopeIterator *iter = NULL;
    IFhConfigMgr *mgr;
    BSTR item, bsub;
    HRESULT hr;

    if (!fresh || !get_env(L"FHCFG_TEST_DOCUMENTS", docs, ARRAY_SIZE(docs)))
    {
        skip("no test library folder\n");
        return;
    }
    if (!(mgr = load_mgr())) return;
    wsprintfW(sub, L"%s\\drafts", docs);
    bsub = SysAllocString(sub);
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, TRUE, FH_FOLDER, bsub);
    ok(hr == S_OK, "exclude %s got %#lx\n", wine_dbgstr_w(sub), hr);
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, FALSE, FH_FOLDER, &iter);
    ok(hr == S_OK && iter, "GetIncludeExcludeRules(exclusions) got %#lx\n", hr);
    if (iter)
    {
        item = NULL;
        hr = IFhScopeIterator_GetItem(iter, &item);
        ok(hr == S_OK && item && !lstrcmpiW(item, sub), "excluded %#lx %s\n", hr, wine_dbgstr_w(item));
        SysFreeString(item);
        hr = IFhScopeIterator_GetItem(iter, NULL);
        ok(hr == E_INVALIDARG, "GetItem(NULL) got %#lx\n", hr);
        hr = IFhScopeIterator_MoveToNextItem(iter);
        ok(hr == E_NOT_FOUND, "MoveToNextItem past the end got %#lx\n", hr);
        hr = IFhScopeIterator_MoveToNextItem(iter);
        ok(hr == E_NOT_FOUND, "again got %#lx\n", hr);
        item = (BSTR)0xdeadbeef;
        hr = IFhScopeIterator_GetItem(iter, &item);
        ok(hr == E_NOT_FOUND && !item, "GetItem past the end: %#lx %p\n", hr, item);
        IFhScopeIterator_Release(iter);
    }
    /* an exclusion is no excluded library */
    iter = NULL;
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, FALSE, FH_LIBRARY, &iter);
    ok(hr == S_OK, "GetIncludeExcludeRules(excluded libraries) got %#lx\n", hr);
    if (iter)
    {
        hr = IFhScopeIterator_GetItem(iter, &item);
        ok(hr == E_NOT_FOUND, "an excluded library: %#lx\n", hr);
        IFhScopeIterator_Release(iter);
    }
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, FALSE, FH_FOLDER, bsub);
    ok(hr == S_OK, "remove exclusion got %#lx\n", hr);
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, FALSE, FH_FOLDER, bsub);
    ok(hr == E_NOT_FOUND || broken(hr == S_OK), "remove it again got %#lx\n", hr);
    hr = IFhConfigMgr_AddRemoveExcludeRule(mgr, TRUE, MAX_PROTECTED_ITEM_CATEGORY, bsub);
    ok(hr == E_INVALIDARG, "MAX_PROTECTED_ITEM_CATEGORY got %#lx\n", hr);
    hr = IFhConfigMgr_GetIncludeExcludeRules(mgr, TRUE, MAX_PROTECTED_ITEM_CATEGORY, &iter);
    ok(hr == E_INVALIDARG, "MAX_PROTECTED_ITEM_CATEGORY iterator got %#lx\n", hr);
    SysFreeString(bsub);
    IFhConfigMgr_Release(mgr);
}

static void test_target(void)
{
    FH_DEVICE_VALIDATION_RESULT result = 0xdead;
    WCHAR docs[MAX_PATH];
    IFhTarget *tgt = (IFhTarget *)0xdeadbeef;
    IFhConfigMgr *mgr;
    BSTR url, empty, value = NULL;
    ULONGLONG number;
    DWORD state = 0xdeadbeef;
    BSTR until = NULL;
    HRESULT hr;

    if (!fresh || !target[0]) { skip("no test target\n"); return; }
    if (!(mgr = load_mgr())) return;
    url = SysAllocString(target);
    empty = SysAllocString(L"");

    hr = IFhConfigMgr_GetDefaultTarget(mgr, &tgt);
    ok(hr == E_NOT_FOUND, "GetDefaultTarget without a target got %#lx\n", hr);
    ok(!tgt, "target %p\n", tgt);
    hr = IFhConfigMgr_ChangeDefaultTargetRecommendation(mgr, TRUE);
    ok(hr == FHCFG_E_TARGET_NOT_CONFIGURED || broken(FAILED(hr)), "recommend without a target got %#lx\n", hr);

    hr = IFhConfigMgr_ValidateTarget(mgr, url, &result);
    ok(hr == S_OK && result == FH_VALID_TARGET, "ValidateTarget: %#lx, %d\n", hr, result);
    if (get_env(L"FHCFG_TEST_DOCUMENTS", docs, ARRAY_SIZE(docs)))
    {
        BSTR bdocs = SysAllocString(docs);
        hr = IFhConfigMgr_ValidateTarget(mgr, bdocs, &result);
        ok(hr == S_OK && result == FH_TARGET_PART_OF_LIBRARY, "ValidateTarget(library): %#lx, %d\n", hr, result);
        hr = IFhConfigMgr_ProvisionAndSetNewTarget(mgr, bdocs, empty);
        ok(hr == FHCFG_E_TARGET_CANNOT_BE_USED, "provision a library got %#lx\n", hr);
        SysFreeString(bdocs);
    }
    hr = IFhConfigMgr_ProvisionAndSetNewTarget(mgr, url, NULL);
    ok(hr == E_INVALIDARG, "ProvisionAndSetNewTarget(NULL name) got %#lx\n", hr);

    hr = IFhConfigMgr_ProvisionAndSetNewTarget(mgr, url, empty);
    ok(hr == S_OK, "ProvisionAndSetNewTarget got %#lx\n", hr);
    hr = IFhConfigMgr_ValidateTarget(mgr, url, &result);
    ok(hr == S_OK && result == FH_CURRENT_DEFAULT, "ValidateTarget after provisioning: %#lx, %d\n", hr, result);
    hr = IFhConfigMgr_GetDefaultTarget(mgr, &tgt);
    ok(hr == S_OK && tgt, "GetDefaultTarget got %#lx\n", hr);
    if (hr == S_OK)
    {
        hr = IFhTarget_GetStringProperty(tgt, FH_TARGET_URL, &value);
        ok(hr == S_OK && value && !lstrcmpiW(value, target), "FH_TARGET_URL: %#lx %s, expected %s\n", hr,
           wine_dbgstr_w(value), wine_dbgstr_w(target));
        SysFreeString(value);
        hr = IFhTarget_GetStringProperty(tgt, FH_TARGET_NAME, &value);
        ok(hr == S_OK && value && value[0], "FH_TARGET_NAME: %#lx %s\n", hr, wine_dbgstr_w(value));
        SysFreeString(value);
        hr = IFhTarget_GetStringProperty(tgt, FH_TARGET_DRIVE_TYPE, &value);
        ok(hr == E_INVALIDARG, "string FH_TARGET_DRIVE_TYPE got %#lx\n", hr);
        hr = IFhTarget_GetStringProperty(tgt, FH_TARGET_URL, NULL);
        ok(hr == E_INVALIDARG, "GetStringProperty(NULL) got %#lx\n", hr);
        hr = IFhTarget_GetNumericalProperty(tgt, FH_TARGET_DRIVE_TYPE, &number);
        ok(hr == S_OK && (number == FH_DRIVE_FIXED || number == FH_DRIVE_REMOVABLE || number == FH_DRIVE_REMOTE),
           "FH_TARGET_DRIVE_TYPE: %#lx, %I64u\n", hr, number);
        hr = IFhTarget_GetNumericalProperty(tgt, FH_TARGET_NAME, &number);
        ok(hr == E_INVALIDARG, "numerical FH_TARGET_NAME got %#lx\n", hr);
        hr = IFhTarget_GetNumericalProperty(tgt, FH_TARGET_DRIVE_TYPE, NULL);
        ok(hr == E_INVALIDARG, "GetNumericalProperty(NULL) got %#lx\n", hr);
        ok(IFhTarget_Release(tgt) == 0, "target still referenced\n");
    }
    hr = IFhConfigMgr_ChangeDefaultTargetRecommendation(mgr, TRUE);
    todo_wine ok(hr == S_OK || broken(hr == FHCFG_E_RECOMMENDATION_CHANGE_NOT_ALLOWED),
                 "ChangeDefaultTargetRecommendation got %#lx\n", hr);

    hr = IFhConfigMgr_SetBackupStatus(mgr, FH_STATUS_ENABLED);
    ok(hr == S_OK, "SetBackupStatus got %#lx\n", hr);
    hr = IFhConfigMgr_SaveConfiguration(mgr);
    ok(hr == S_OK, "SaveConfiguration got %#lx\n", hr);
    hr = IFhConfigMgr_QueryProtectionStatus(mgr, &state, &until);
    ok(hr == S_OK, "QueryProtectionStatus got %#lx\n", hr);
    ok((state & ~FH_STATE_RUNNING) == FH_STATE_NO_ERROR, "state %#lx\n", state);
    ok(until != NULL, "no time string\n");
    SysFreeString(until);
    SysFreeString(url);
    SysFreeString(empty);
    IFhConfigMgr_Release(mgr);
}

static void test_reassociation(void)
{
    FH_DEVICE_VALIDATION_RESULT result;
    IFhReassociation *reassoc = NULL;
    IFhConfigMgr *mgr;
    IFhTarget *tgt = NULL;
    BSTR url, user = NULL, pc = NULL, value = NULL;
    FILETIME when = { 0 };
    HRESULT hr;

    hr = CoCreateInstance(&CLSID_FhReassociation, NULL, CLSCTX_INPROC_SERVER, &IID_IFhReassociation, (void **)&reassoc);
    ok(hr == S_OK, "CoCreateInstance(CLSID_FhReassociation) got %#lx\n", hr);
    if (!reassoc) return;
    hr = IFhReassociation_ScanTargetForConfigurations(reassoc, NULL);
    ok(hr == E_INVALIDARG, "Scan(NULL) got %#lx\n", hr);
    hr = IFhReassociation_GetConfigurationDetails(reassoc, 0, NULL, &pc, &when);
    ok(hr == E_INVALIDARG, "GetConfigurationDetails(NULL) got %#lx\n", hr);
    hr = IFhReassociation_SelectConfiguration(reassoc, 0);
    ok(hr == E_NOT_FOUND || broken(FAILED(hr)), "SelectConfiguration before a scan got %#lx\n", hr);
    hr = IFhReassociation_PerformReassociation(reassoc, FALSE);
    ok(FAILED(hr), "PerformReassociation before a scan got %#lx\n", hr);
    if (!old_target[0] || !fresh)
    {
        skip("no test disk with earlier backups\n");
        IFhReassociation_Release(reassoc);
        return;
    }
    url = SysAllocString(target);
    hr = IFhReassociation_ScanTargetForConfigurations(reassoc, url);
    ok(hr == E_NOT_FOUND, "Scan of a target without other configurations got %#lx\n", hr);
    SysFreeString(url);

    url = SysAllocString(old_target);
    hr = IFhReassociation_ValidateTarget(reassoc, url, &result);
    ok(hr == S_OK && result == FH_VALID_TARGET, "ValidateTarget: %#lx %d\n", hr, result);
    hr = IFhReassociation_ScanTargetForConfigurations(reassoc, url);
    ok(hr == S_OK, "Scan got %#lx\n", hr);
    /* only olduser/oldpc: the damaged, lying and linked configurations beside it are not offered */
    hr = IFhReassociation_GetConfigurationDetails(reassoc, 0, &user, &pc, &when);
    ok(hr == S_OK, "GetConfigurationDetails(0) got %#lx\n", hr);
    if (hr == S_OK)
    {
        ok(!lstrcmpW(user, L"olduser"), "user %s\n", wine_dbgstr_w(user));
        ok(!lstrcmpW(pc, L"oldpc"), "pc %s\n", wine_dbgstr_w(pc));
        ok(when.dwHighDateTime > 0x01d00000, "backup time %#lx:%#lx\n", when.dwHighDateTime, when.dwLowDateTime);
        SysFreeString(user);
        SysFreeString(pc);
    }
    user = pc = (BSTR)0xdeadbeef;
    hr = IFhReassociation_GetConfigurationDetails(reassoc, 1, &user, &pc, &when);
    ok(hr == E_NOT_FOUND, "GetConfigurationDetails(1) got %#lx\n", hr);
    hr = IFhReassociation_SelectConfiguration(reassoc, 1);
    ok(hr == E_NOT_FOUND, "SelectConfiguration(1) got %#lx\n", hr);
    hr = IFhReassociation_PerformReassociation(reassoc, FALSE);
    ok(FAILED(hr), "PerformReassociation before SelectConfiguration got %#lx\n", hr);
    hr = IFhReassociation_SelectConfiguration(reassoc, 0);
    ok(hr == S_OK, "SelectConfiguration(0) got %#lx\n", hr);
    hr = IFhReassociation_PerformReassociation(reassoc, FALSE);
    ok(hr == FHCFG_E_CONFIG_ALREADY_EXISTS, "PerformReassociation(FALSE) over a configuration got %#lx\n", hr);
    hr = IFhReassociation_PerformReassociation(reassoc, TRUE);
    ok(hr == S_OK, "PerformReassociation(TRUE) got %#lx\n", hr);
    ok(IFhReassociation_Release(reassoc) == 0, "still referenced\n");

    /* the configuration now continues the old backups on the old disk */
    if ((mgr = load_mgr()))
    {
        hr = IFhConfigMgr_GetDefaultTarget(mgr, &tgt);
        ok(hr == S_OK, "GetDefaultTarget got %#lx\n", hr);
        if (tgt)
        {
            hr = IFhTarget_GetStringProperty(tgt, FH_TARGET_URL, &value);
            ok(hr == S_OK && !lstrcmpiW(value, old_target), "target %s, expected %s\n", wine_dbgstr_w(value),
               wine_dbgstr_w(old_target));
            SysFreeString(value);
            IFhTarget_Release(tgt);
        }
        IFhConfigMgr_Release(mgr);
    }
    SysFreeString(url);
}

START_TEST(fhcfg)
{
    WCHAR flag[8];
    HRESULT hr;

    get_env(L"FHCFG_TEST_TARGET", target, ARRAY_SIZE(target));
    get_env(L"FHCFG_TEST_OLD_TARGET", old_target, ARRAY_SIZE(old_target));
    fresh = get_env(L"FHCFG_TEST_FRESH", flag, ARRAY_SIZE(flag)) && flag[0] == '1';
    hr = CoInitialize(NULL);
    ok(hr == S_OK, "CoInitialize got %#lx\n", hr);
    test_com_rules();
    test_before_load();
    test_default_configuration();
    test_policies_and_status();
    test_rules();
    test_target();
    test_reassociation();
    CoUninitialize();
}
