/*
 * File History configuration manager (fhcfg.dll)
 *
 * The class objects of CLSID_FhConfigMgr and CLSID_FhReassociation, their
 * registration (regsvr32, `winbackup wine`) and the module's lifetime.  The
 * classes themselves are in configmgr.c and reassociation.c; what they do is
 * the engine's (libs/fh/fh_cfgmgr.c), reached through the File History
 * service.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the CLSIDs and IIDs of fhcfg.h are defined here (initguid.h first) */
#define COBJMACROS
#define CONST_VTABLE
#include <winsock2.h>
#include <initguid.h>
#include "fhcfg_private.h"
#include <olectl.h>

static HINSTANCE fhcfg_instance;
static LONG module_locks;   /* live objects and IClassFactory::LockServer(TRUE) calls */

void fhcfg_lock_module(void)
{
    InterlockedIncrement(&module_locks);
}

void fhcfg_unlock_module(void)
{
    InterlockedDecrement(&module_locks);
}

/* ------------------------------------------------------------------ */
/* debug strings: a few rotating buffers, as Wine's debug_info does     */

static char *debug_buffer(void)
{
    static char buffers[4][512];
    static LONG next;
    return buffers[InterlockedIncrement(&next) & 3];
}

const char *debugstr_guid(const GUID *guid)
{
    char *buf = debug_buffer();
    if (!guid) return "(null)";
    snprintf(buf, 512, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", guid->Data1, guid->Data2,
             guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3], guid->Data4[4],
             guid->Data4[5], guid->Data4[6], guid->Data4[7]);
    return buf;
}

const char *debugstr_w(const WCHAR *str)
{
    char *buf = debug_buffer();
    size_t n = 0;
    if (!str) return "(null)";
    buf[n++] = 'L';
    buf[n++] = '"';
    for (; *str && n < 500; str++)
        n += snprintf(buf + n, 512 - n, *str >= 0x20 && *str < 0x7f ? "%c" : "\\x%04x", *str);
    if (n < 510) { buf[n++] = '"'; buf[n] = 0; }
    return buf;
}

/* ------------------------------------------------------------------ */
/* IClassFactory                                                       */

struct class_factory
{
    IClassFactory IClassFactory_iface;
    HRESULT (*create)(REFIID riid, void **ppv);
};

static inline struct class_factory *impl_from_IClassFactory(IClassFactory *iface)
{
    return CONTAINING_RECORD(iface, struct class_factory, IClassFactory_iface);
}

static HRESULT WINAPI class_factory_QueryInterface(IClassFactory *iface, REFIID riid, void **ppv)
{
    TRACE("(%p, %s, %p)\n", iface, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *ppv = iface;
        IClassFactory_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

/* The class objects are static: their references keep the module loaded. */
static ULONG WINAPI class_factory_AddRef(IClassFactory *iface)
{
    fhcfg_lock_module();
    return 2;
}

static ULONG WINAPI class_factory_Release(IClassFactory *iface)
{
    fhcfg_unlock_module();
    return 1;
}

static HRESULT WINAPI class_factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **ppv)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);

    TRACE("(%p, %p, %s, %p)\n", iface, outer, debugstr_guid(riid), ppv);
    if (!ppv) return E_POINTER;
    *ppv = NULL;
    if (outer) return CLASS_E_NOAGGREGATION;
    return factory->create(riid, ppv);
}

static HRESULT WINAPI class_factory_LockServer(IClassFactory *iface, BOOL lock)
{
    TRACE("(%p, %d)\n", iface, lock);
    if (lock) fhcfg_lock_module();
    else fhcfg_unlock_module();
    return S_OK;
}

static const IClassFactoryVtbl class_factory_vtbl =
{
    class_factory_QueryInterface,
    class_factory_AddRef,
    class_factory_Release,
    class_factory_CreateInstance,
    class_factory_LockServer,
};

static struct class_factory config_mgr_factory = { { &class_factory_vtbl }, config_mgr_create };
static struct class_factory reassociation_factory = { { &class_factory_vtbl }, reassociation_create };

/***********************************************************************
 *      DllGetClassObject   (FHCFG.@)
 */
HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **ppv)
{
    TRACE("(%s, %s, %p)\n", debugstr_guid(clsid), debugstr_guid(riid), ppv);
    if (!ppv) return E_INVALIDARG;
    *ppv = NULL;
    if (IsEqualCLSID(clsid, &CLSID_FhConfigMgr))
        return IClassFactory_QueryInterface(&config_mgr_factory.IClassFactory_iface, riid, ppv);
    if (IsEqualCLSID(clsid, &CLSID_FhReassociation))
        return IClassFactory_QueryInterface(&reassociation_factory.IClassFactory_iface, riid, ppv);
    return CLASS_E_CLASSNOTAVAILABLE;
}

/***********************************************************************
 *      DllCanUnloadNow   (FHCFG.@)
 */
HRESULT WINAPI DllCanUnloadNow(void)
{
    TRACE("() locks %ld\n", module_locks);
    return module_locks ? S_FALSE : S_OK;
}

/* ------------------------------------------------------------------ */
/* registration: HKCR\CLSID\{clsid} = name, InprocServer32 = this DLL   */

static const struct
{
    const CLSID *clsid;
    const WCHAR *name;
} classes[] =
{
    { &CLSID_FhConfigMgr, L"FhConfigMgr Class" },
    { &CLSID_FhReassociation, L"FhReassociation Class" },
};

static void clsid_key(const CLSID *clsid, WCHAR *key, size_t size)
{
    WCHAR text[40];
    StringFromGUID2(clsid, text, ARRAY_SIZE(text));
    _snwprintf(key, size, L"CLSID\\%s", text);
    key[size - 1] = 0;
}

static LSTATUS set_string(HKEY key, const WCHAR *name, const WCHAR *value)
{
    return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value, (DWORD)(wcslen(value) + 1) * sizeof(WCHAR));
}

/***********************************************************************
 *      DllRegisterServer   (FHCFG.@)
 */
HRESULT WINAPI DllRegisterServer(void)
{
    WCHAR path[MAX_PATH], key_name[64];
    DWORD len;

    TRACE("()\n");
    len = GetModuleFileNameW(fhcfg_instance, path, ARRAY_SIZE(path));
    if (!len || len >= ARRAY_SIZE(path)) return SELFREG_E_CLASS;
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        HKEY key, server;
        LSTATUS status;

        clsid_key(classes[i].clsid, key_name, ARRAY_SIZE(key_name));
        if (RegCreateKeyExW(HKEY_CLASSES_ROOT, key_name, 0, NULL, 0, KEY_WRITE, NULL, &key, NULL))
            return SELFREG_E_CLASS;
        status = set_string(key, NULL, classes[i].name);
        if (!status) status = RegCreateKeyExW(key, L"InprocServer32", 0, NULL, 0, KEY_WRITE, NULL, &server, NULL);
        if (!status)
        {
            status = set_string(server, NULL, path);
            if (!status) status = set_string(server, L"ThreadingModel", L"Both");
            RegCloseKey(server);
        }
        RegCloseKey(key);
        if (status) return SELFREG_E_CLASS;
    }
    return S_OK;
}

/***********************************************************************
 *      DllUnregisterServer   (FHCFG.@)
 */
HRESULT WINAPI DllUnregisterServer(void)
{
    WCHAR key_name[64];
    HRESULT hr = S_OK;

    TRACE("()\n");
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        LSTATUS status;
        clsid_key(classes[i].clsid, key_name, ARRAY_SIZE(key_name));
        status = RegDeleteTreeW(HKEY_CLASSES_ROOT, key_name);
        if (status && status != ERROR_FILE_NOT_FOUND) hr = SELFREG_E_CLASS;
    }
    return hr;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    TRACE("(%p, %lu, %p)\n", instance, reason, reserved);
    if (reason == DLL_PROCESS_ATTACH)
    {
        fhcfg_instance = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
