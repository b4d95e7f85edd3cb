/*
 * File History configuration manager (fhcfg.h)
 *
 * COM interfaces IFhTarget, IFhScopeIterator, IFhConfigMgr and
 * IFhReassociation with their enums, CLSIDs and IIDs, declared by hand the
 * way widl would emit them (C vtables for C, abstract classes for C++).
 * Method order and enum values follow Microsoft's fhcfg.h/fhcfg.idl.
 */

#ifndef __FHCFG_H__
#define __FHCFG_H__

#include <windows.h>
#include <objbase.h>
#include <oleauto.h>
#include <fherrors.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum _FH_TARGET_PROPERTY_TYPE
{
    FH_TARGET_NAME       = 0,
    FH_TARGET_URL        = 1,
    FH_TARGET_DRIVE_TYPE = 2,
    MAX_TARGET_PROPERTY  = 3
} FH_TARGET_PROPERTY_TYPE, *PFH_TARGET_PROPERTY_TYPE;

typedef enum _FH_TARGET_DRIVE_TYPES
{
    FH_DRIVE_UNKNOWN   = 0,
    FH_DRIVE_REMOVABLE = 2,
    FH_DRIVE_FIXED     = 3,
    FH_DRIVE_REMOTE    = 4
} FH_TARGET_DRIVE_TYPES;

typedef enum _FH_PROTECTED_ITEM_CATEGORY
{
    FH_FOLDER                   = 0,
    FH_LIBRARY                  = 1,
    MAX_PROTECTED_ITEM_CATEGORY = 2
} FH_PROTECTED_ITEM_CATEGORY, *PFH_PROTECTED_ITEM_CATEGORY;

typedef enum _FH_LOCAL_POLICY_TYPE
{
    FH_FREQUENCY      = 0,
    FH_RETENTION_TYPE = 1,
    FH_RETENTION_AGE  = 2,
    MAX_LOCAL_POLICY  = 3
} FH_LOCAL_POLICY_TYPE, *PFH_LOCAL_POLICY_TYPE;

typedef enum _FH_RETENTION_TYPES
{
    FH_RETENTION_DISABLED  = 0,
    FH_RETENTION_UNLIMITED = 1,
    FH_RETENTION_AGE_BASED = 2,
    MAX_RETENTION_TYPE     = 3
} FH_RETENTION_TYPES;

typedef enum _FH_BACKUP_STATUS
{
    FH_STATUS_DISABLED       = 0,
    FH_STATUS_DISABLED_BY_GP = 1,
    FH_STATUS_ENABLED        = 2,
    FH_STATUS_REHYDRATING    = 3,
    MAX_BACKUP_STATUS        = 4
} FH_BACKUP_STATUS;

typedef enum _FH_DEVICE_VALIDATION_RESULT
{
    FH_ACCESS_DENIED          = 0,
    FH_INVALID_DRIVE_TYPE     = 1,
    FH_READ_ONLY_PERMISSION   = 2,
    FH_CURRENT_DEFAULT        = 3,
    FH_NAMESPACE_EXISTS       = 4,
    FH_TARGET_PART_OF_LIBRARY = 5,
    FH_VALID_TARGET           = 6,
    MAX_VALIDATION_RESULT     = 7
} FH_DEVICE_VALIDATION_RESULT, *PFH_DEVICE_VALIDATION_RESULT;

DEFINE_GUID(CLSID_FhConfigMgr,     0xed43bb3c, 0x09e9, 0x498a, 0x9d, 0xf6, 0x21, 0x77, 0x24, 0x4c, 0x6d, 0xb4);
DEFINE_GUID(CLSID_FhReassociation, 0x4d728e35, 0x16fa, 0x4320, 0x9e, 0x8b, 0xbf, 0xd7, 0x10, 0x0a, 0x88, 0x46);
DEFINE_GUID(IID_IFhTarget,         0xd87965fd, 0x2bad, 0x4657, 0xbd, 0x3b, 0x95, 0x67, 0xeb, 0x30, 0x0c, 0xed);
DEFINE_GUID(IID_IFhScopeIterator,  0x3197abce, 0x532a, 0x44c6, 0x86, 0x15, 0xf3, 0x66, 0x65, 0x66, 0xa7, 0x20);
DEFINE_GUID(IID_IFhConfigMgr,      0x6a5fea5b, 0xbf8f, 0x4ee5, 0xb8, 0xc3, 0x44, 0xd8, 0xa0, 0xd7, 0x33, 0x1c);
DEFINE_GUID(IID_IFhReassociation,  0x6544a28a, 0xf68d, 0x47ac, 0x91, 0xef, 0x16, 0xb2, 0xb3, 0x6a, 0xa3, 0xee);

/* the coclasses, as the SDK declares them */
#ifdef __cplusplus
class DECLSPEC_UUID("ED43BB3C-09E9-498a-9DF6-2177244C6DB4") FhConfigMgr;
class DECLSPEC_UUID("4D728E35-16FA-4320-9E8B-BFD7100A8846") FhReassociation;
#else
typedef struct FhConfigMgr FhConfigMgr;
typedef struct FhReassociation FhReassociation;
#endif

typedef interface IFhTarget IFhTarget;
typedef interface IFhScopeIterator IFhScopeIterator;
typedef interface IFhConfigMgr IFhConfigMgr;
typedef interface IFhReassociation IFhReassociation;

#if defined(__cplusplus) && !defined(CINTERFACE)

} /* extern "C" */

MIDL_INTERFACE("d87965fd-2bad-4657-bd3b-9567eb300ced")
IFhTarget : public IUnknown
{
    virtual HRESULT STDMETHODCALLTYPE GetStringProperty(FH_TARGET_PROPERTY_TYPE PropertyType, BSTR *PropertyValue) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetNumericalProperty(FH_TARGET_PROPERTY_TYPE PropertyType, ULONGLONG *PropertyValue) = 0;
};

MIDL_INTERFACE("3197abce-532a-44c6-8615-f3666566a720")
IFhScopeIterator : public IUnknown
{
    virtual HRESULT STDMETHODCALLTYPE MoveToNextItem(void) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetItem(BSTR *Item) = 0;
};

MIDL_INTERFACE("6a5fea5b-bf8f-4ee5-b8c3-44d8a0d7331c")
IFhConfigMgr : public IUnknown
{
    virtual HRESULT STDMETHODCALLTYPE LoadConfiguration(void) = 0;
    virtual HRESULT STDMETHODCALLTYPE CreateDefaultConfiguration(BOOL OverwriteIfExists) = 0;
    virtual HRESULT STDMETHODCALLTYPE SaveConfiguration(void) = 0;
    virtual HRESULT STDMETHODCALLTYPE AddRemoveExcludeRule(BOOL Add, FH_PROTECTED_ITEM_CATEGORY Category, BSTR Item) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetIncludeExcludeRules(BOOL Include, FH_PROTECTED_ITEM_CATEGORY Category, IFhScopeIterator **Iterator) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetLocalPolicy(FH_LOCAL_POLICY_TYPE LocalPolicyType, ULONGLONG *PolicyValue) = 0;
    virtual HRESULT STDMETHODCALLTYPE SetLocalPolicy(FH_LOCAL_POLICY_TYPE LocalPolicyType, ULONGLONG PolicyValue) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetBackupStatus(FH_BACKUP_STATUS *BackupStatus) = 0;
    virtual HRESULT STDMETHODCALLTYPE SetBackupStatus(FH_BACKUP_STATUS BackupStatus) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetDefaultTarget(IFhTarget **DefaultTarget) = 0;
    virtual HRESULT STDMETHODCALLTYPE ValidateTarget(BSTR TargetUrl, FH_DEVICE_VALIDATION_RESULT *ValidationResult) = 0;
    virtual HRESULT STDMETHODCALLTYPE ProvisionAndSetNewTarget(BSTR TargetUrl, BSTR TargetName) = 0;
    virtual HRESULT STDMETHODCALLTYPE ChangeDefaultTargetRecommendation(BOOL Recommend) = 0;
    virtual HRESULT STDMETHODCALLTYPE QueryProtectionStatus(DWORD *ProtectionState, BSTR *ProtectedUntilTime) = 0;
};

MIDL_INTERFACE("6544a28a-f68d-47ac-91ef-16b2b36aa3ee")
IFhReassociation : public IUnknown
{
    virtual HRESULT STDMETHODCALLTYPE ValidateTarget(BSTR TargetUrl, FH_DEVICE_VALIDATION_RESULT *ValidationResult) = 0;
    virtual HRESULT STDMETHODCALLTYPE ScanTargetForConfigurations(BSTR TargetUrl) = 0;
    virtual HRESULT STDMETHODCALLTYPE GetConfigurationDetails(DWORD Index, BSTR *UserName, BSTR *PcName, FILETIME *BackupTime) = 0;
    virtual HRESULT STDMETHODCALLTYPE SelectConfiguration(DWORD Index) = 0;
    virtual HRESULT STDMETHODCALLTYPE PerformReassociation(BOOL OverwriteIfExists) = 0;
};

#ifdef __CRT_UUID_DECL
__CRT_UUID_DECL(IFhTarget, 0xd87965fd, 0x2bad, 0x4657, 0xbd, 0x3b, 0x95, 0x67, 0xeb, 0x30, 0x0c, 0xed)
__CRT_UUID_DECL(IFhScopeIterator, 0x3197abce, 0x532a, 0x44c6, 0x86, 0x15, 0xf3, 0x66, 0x65, 0x66, 0xa7, 0x20)
__CRT_UUID_DECL(IFhConfigMgr, 0x6a5fea5b, 0xbf8f, 0x4ee5, 0xb8, 0xc3, 0x44, 0xd8, 0xa0, 0xd7, 0x33, 0x1c)
__CRT_UUID_DECL(IFhReassociation, 0x6544a28a, 0xf68d, 0x47ac, 0x91, 0xef, 0x16, 0xb2, 0xb3, 0x6a, 0xa3, 0xee)
#endif

extern "C" {

#else /* C */

typedef struct IFhTargetVtbl
{
    BEGIN_INTERFACE
    HRESULT (STDMETHODCALLTYPE *QueryInterface)(IFhTarget *This, REFIID riid, void **ppvObject);
    ULONG   (STDMETHODCALLTYPE *AddRef)(IFhTarget *This);
    ULONG   (STDMETHODCALLTYPE *Release)(IFhTarget *This);
    HRESULT (STDMETHODCALLTYPE *GetStringProperty)(IFhTarget *This, FH_TARGET_PROPERTY_TYPE PropertyType, BSTR *PropertyValue);
    HRESULT (STDMETHODCALLTYPE *GetNumericalProperty)(IFhTarget *This, FH_TARGET_PROPERTY_TYPE PropertyType, ULONGLONG *PropertyValue);
    END_INTERFACE
} IFhTargetVtbl;
interface IFhTarget { CONST_VTBL IFhTargetVtbl *lpVtbl; };

typedef struct IFhScopeIteratorVtbl
{
    BEGIN_INTERFACE
    HRESULT (STDMETHODCALLTYPE *QueryInterface)(IFhScopeIterator *This, REFIID riid, void **ppvObject);
    ULONG   (STDMETHODCALLTYPE *AddRef)(IFhScopeIterator *This);
    ULONG   (STDMETHODCALLTYPE *Release)(IFhScopeIterator *This);
    HRESULT (STDMETHODCALLTYPE *MoveToNextItem)(IFhScopeIterator *This);
    HRESULT (STDMETHODCALLTYPE *GetItem)(IFhScopeIterator *This, BSTR *Item);
    END_INTERFACE
} IFhScopeIteratorVtbl;
interface IFhScopeIterator { CONST_VTBL IFhScopeIteratorVtbl *lpVtbl; };

typedef struct IFhConfigMgrVtbl
{
    BEGIN_INTERFACE
    HRESULT (STDMETHODCALLTYPE *QueryInterface)(IFhConfigMgr *This, REFIID riid, void **ppvObject);
    ULONG   (STDMETHODCALLTYPE *AddRef)(IFhConfigMgr *This);
    ULONG   (STDMETHODCALLTYPE *Release)(IFhConfigMgr *This);
    HRESULT (STDMETHODCALLTYPE *LoadConfiguration)(IFhConfigMgr *This);
    HRESULT (STDMETHODCALLTYPE *CreateDefaultConfiguration)(IFhConfigMgr *This, BOOL OverwriteIfExists);
    HRESULT (STDMETHODCALLTYPE *SaveConfiguration)(IFhConfigMgr *This);
    HRESULT (STDMETHODCALLTYPE *AddRemoveExcludeRule)(IFhConfigMgr *This, BOOL Add, FH_PROTECTED_ITEM_CATEGORY Category, BSTR Item);
    HRESULT (STDMETHODCALLTYPE *GetIncludeExcludeRules)(IFhConfigMgr *This, BOOL Include, FH_PROTECTED_ITEM_CATEGORY Category, IFhScopeIterator **Iterator);
    HRESULT (STDMETHODCALLTYPE *GetLocalPolicy)(IFhConfigMgr *This, FH_LOCAL_POLICY_TYPE LocalPolicyType, ULONGLONG *PolicyValue);
    HRESULT (STDMETHODCALLTYPE *SetLocalPolicy)(IFhConfigMgr *This, FH_LOCAL_POLICY_TYPE LocalPolicyType, ULONGLONG PolicyValue);
    HRESULT (STDMETHODCALLTYPE *GetBackupStatus)(IFhConfigMgr *This, FH_BACKUP_STATUS *BackupStatus);
    HRESULT (STDMETHODCALLTYPE *SetBackupStatus)(IFhConfigMgr *This, FH_BACKUP_STATUS BackupStatus);
    HRESULT (STDMETHODCALLTYPE *GetDefaultTarget)(IFhConfigMgr *This, IFhTarget **DefaultTarget);
    HRESULT (STDMETHODCALLTYPE *ValidateTarget)(IFhConfigMgr *This, BSTR TargetUrl, FH_DEVICE_VALIDATION_RESULT *ValidationResult);
    HRESULT (STDMETHODCALLTYPE *ProvisionAndSetNewTarget)(IFhConfigMgr *This, BSTR TargetUrl, BSTR TargetName);
    HRESULT (STDMETHODCALLTYPE *ChangeDefaultTargetRecommendation)(IFhConfigMgr *This, BOOL Recommend);
    HRESULT (STDMETHODCALLTYPE *QueryProtectionStatus)(IFhConfigMgr *This, DWORD *ProtectionState, BSTR *ProtectedUntilTime);
    END_INTERFACE
} IFhConfigMgrVtbl;
interface IFhConfigMgr { CONST_VTBL IFhConfigMgrVtbl *lpVtbl; };

typedef struct IFhReassociationVtbl
{
    BEGIN_INTERFACE
    HRESULT (STDMETHODCALLTYPE *QueryInterface)(IFhReassociation *This, REFIID riid, void **ppvObject);
    ULONG   (STDMETHODCALLTYPE *AddRef)(IFhReassociation *This);
    ULONG   (STDMETHODCALLTYPE *Release)(IFhReassociation *This);
    HRESULT (STDMETHODCALLTYPE *ValidateTarget)(IFhReassociation *This, BSTR TargetUrl, FH_DEVICE_VALIDATION_RESULT *ValidationResult);
    HRESULT (STDMETHODCALLTYPE *ScanTargetForConfigurations)(IFhReassociation *This, BSTR TargetUrl);
    HRESULT (STDMETHODCALLTYPE *GetConfigurationDetails)(IFhReassociation *This, DWORD Index, BSTR *UserName, BSTR *PcName, FILETIME *BackupTime);
    HRESULT (STDMETHODCALLTYPE *SelectConfiguration)(IFhReassociation *This, DWORD Index);
    HRESULT (STDMETHODCALLTYPE *PerformReassociation)(IFhReassociation *This, BOOL OverwriteIfExists);
    END_INTERFACE
} IFhReassociationVtbl;
interface IFhReassociation { CONST_VTBL IFhReassociationVtbl *lpVtbl; };

#ifdef COBJMACROS
#define IFhTarget_QueryInterface(This,riid,ppv)        (This)->lpVtbl->QueryInterface(This,riid,ppv)
#define IFhTarget_AddRef(This)                         (This)->lpVtbl->AddRef(This)
#define IFhTarget_Release(This)                        (This)->lpVtbl->Release(This)
#define IFhTarget_GetStringProperty(This,a,b)          (This)->lpVtbl->GetStringProperty(This,a,b)
#define IFhTarget_GetNumericalProperty(This,a,b)       (This)->lpVtbl->GetNumericalProperty(This,a,b)

#define IFhScopeIterator_QueryInterface(This,riid,ppv) (This)->lpVtbl->QueryInterface(This,riid,ppv)
#define IFhScopeIterator_AddRef(This)                  (This)->lpVtbl->AddRef(This)
#define IFhScopeIterator_Release(This)                 (This)->lpVtbl->Release(This)
#define IFhScopeIterator_MoveToNextItem(This)          (This)->lpVtbl->MoveToNextItem(This)
#define IFhScopeIterator_GetItem(This,a)               (This)->lpVtbl->GetItem(This,a)

#define IFhConfigMgr_QueryInterface(This,riid,ppv)     (This)->lpVtbl->QueryInterface(This,riid,ppv)
#define IFhConfigMgr_AddRef(This)                      (This)->lpVtbl->AddRef(This)
#define IFhConfigMgr_Release(This)                     (This)->lpVtbl->Release(This)
#define IFhConfigMgr_LoadConfiguration(This)           (This)->lpVtbl->LoadConfiguration(This)
#define IFhConfigMgr_CreateDefaultConfiguration(This,a) (This)->lpVtbl->CreateDefaultConfiguration(This,a)
#define IFhConfigMgr_SaveConfiguration(This)           (This)->lpVtbl->SaveConfiguration(This)
#define IFhConfigMgr_AddRemoveExcludeRule(This,a,b,c)  (This)->lpVtbl->AddRemoveExcludeRule(This,a,b,c)
#define IFhConfigMgr_GetIncludeExcludeRules(This,a,b,c) (This)->lpVtbl->GetIncludeExcludeRules(This,a,b,c)
#define IFhConfigMgr_GetLocalPolicy(This,a,b)          (This)->lpVtbl->GetLocalPolicy(This,a,b)
#define IFhConfigMgr_SetLocalPolicy(This,a,b)          (This)->lpVtbl->SetLocalPolicy(This,a,b)
#define IFhConfigMgr_GetBackupStatus(This,a)           (This)->lpVtbl->GetBackupStatus(This,a)
#define IFhConfigMgr_SetBackupStatus(This,a)           (This)->lpVtbl->SetBackupStatus(This,a)
#define IFhConfigMgr_GetDefaultTarget(This,a)          (This)->lpVtbl->GetDefaultTarget(This,a)
#define IFhConfigMgr_ValidateTarget(This,a,b)          (This)->lpVtbl->ValidateTarget(This,a,b)
#define IFhConfigMgr_ProvisionAndSetNewTarget(This,a,b) (This)->lpVtbl->ProvisionAndSetNewTarget(This,a,b)
#define IFhConfigMgr_ChangeDefaultTargetRecommendation(This,a) (This)->lpVtbl->ChangeDefaultTargetRecommendation(This,a)
#define IFhConfigMgr_QueryProtectionStatus(This,a,b)   (This)->lpVtbl->QueryProtectionStatus(This,a,b)

#define IFhReassociation_QueryInterface(This,riid,ppv) (This)->lpVtbl->QueryInterface(This,riid,ppv)
#define IFhReassociation_AddRef(This)                  (This)->lpVtbl->AddRef(This)
#define IFhReassociation_Release(This)                 (This)->lpVtbl->Release(This)
#define IFhReassociation_ValidateTarget(This,a,b)      (This)->lpVtbl->ValidateTarget(This,a,b)
#define IFhReassociation_ScanTargetForConfigurations(This,a) (This)->lpVtbl->ScanTargetForConfigurations(This,a)
#define IFhReassociation_GetConfigurationDetails(This,a,b,c,d) (This)->lpVtbl->GetConfigurationDetails(This,a,b,c,d)
#define IFhReassociation_SelectConfiguration(This,a)   (This)->lpVtbl->SelectConfiguration(This,a)
#define IFhReassociation_PerformReassociation(This,a)  (This)->lpVtbl->PerformReassociation(This,a)
#endif /* COBJMACROS */

#endif /* C / C++ */

#ifdef __cplusplus
}
#endif

#endif /* __FHCFG_H__ */
