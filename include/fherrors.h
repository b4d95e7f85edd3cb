/*
 * File History error codes and protection states (fherrors.h)
 *
 * Values as published for Microsoft's fherrors.h (Windows 8 and later).
 * All HRESULTs are FACILITY_ITF (0x8004xxxx).
 */

#ifndef __FHERRORS_H__
#define __FHERRORS_H__

/* Configuration manager (fhcfg) errors */
#define FHCFG_E_CORRUPT_CONFIG_FILE                  ((HRESULT)0x80040300L)
#define FHCFG_E_CONFIG_FILE_NOT_FOUND                ((HRESULT)0x80040301L)
#define FHCFG_E_CONFIG_ALREADY_EXISTS                ((HRESULT)0x80040302L)
#define FHCFG_E_NO_VALID_CONFIGURATION_LOADED        ((HRESULT)0x80040303L)
#define FHCFG_E_TARGET_NOT_CONNECTED                 ((HRESULT)0x80040304L)
#define FHCFG_E_CONFIGURATION_PREVIOUSLY_LOADED      ((HRESULT)0x80040305L)
#define FHCFG_E_TARGET_VERIFICATION_FAILED           ((HRESULT)0x80040306L)
#define FHCFG_E_TARGET_NOT_CONFIGURED                ((HRESULT)0x80040307L)
#define FHCFG_E_TARGET_NOT_ENOUGH_FREE_SPACE         ((HRESULT)0x80040308L)
#define FHCFG_E_TARGET_CANNOT_BE_USED                ((HRESULT)0x80040309L)
#define FHCFG_E_INVALID_REHYDRATION_STATE            ((HRESULT)0x8004030AL)
#define FHCFG_E_RECOMMENDATION_CHANGE_NOT_ALLOWED    ((HRESULT)0x80040310L)
#define FHCFG_E_TARGET_REHYDRATED_ELSEWHERE          ((HRESULT)0x80040311L)
#define FHCFG_E_LEGACY_TARGET_UNSUPPORTED            ((HRESULT)0x80040312L)
#define FHCFG_E_LEGACY_TARGET_VALIDATION_UNSUPPORTED ((HRESULT)0x80040313L)
#define FHCFG_E_LEGACY_BACKUP_USER_EXCLUDED          ((HRESULT)0x80040314L)
#define FHCFG_E_LEGACY_BACKUP_NOT_FOUND              ((HRESULT)0x80040315L)

/* File History service (fhsvc / fhsvcctl) errors */
#define FHSVC_E_BACKUP_BLOCKED                       ((HRESULT)0x80040600L)
#define FHSVC_E_NOT_CONFIGURED                       ((HRESULT)0x80040601L)
#define FHSVC_E_CONFIG_DISABLED                      ((HRESULT)0x80040602L)
#define FHSVC_E_CONFIG_DISABLED_GP                   ((HRESULT)0x80040603L)
#define FHSVC_E_FATAL_CONFIG_ERROR                   ((HRESULT)0x80040604L)
#define FHSVC_E_CONFIG_REHYDRATING                   ((HRESULT)0x80040605L)

/* Protection states returned by IFhConfigMgr::QueryProtectionStatus */
#define FH_STATE_NOT_TRACKED                    0x00
#define FH_STATE_OFF                            0x01
#define FH_STATE_DISABLED_BY_GP                 0x02
#define FH_STATE_FATAL_CONFIG_ERROR             0x03
#define FH_STATE_MIGRATING                      0x04
#define FH_STATE_REHYDRATING                    0x05
#define FH_STATE_TARGET_FS_LIMITATION           0x0D
#define FH_STATE_TARGET_ACCESS_DENIED           0x0E
#define FH_STATE_TARGET_VOLUME_DIRTY            0x0F
#define FH_STATE_TARGET_FULL_RETENTION_MAX      0x10
#define FH_STATE_TARGET_FULL                    0x11
#define FH_STATE_STAGING_FULL                   0x12
#define FH_STATE_TARGET_LOW_SPACE_RETENTION_MAX 0x13
#define FH_STATE_TARGET_LOW_SPACE               0x14
#define FH_STATE_TARGET_ABSENT                  0x15
#define FH_STATE_TOO_MUCH_BEHIND                0xF0
#define FH_STATE_NO_ERROR                       0xFF
#define FH_STATE_BACKUP_NOT_SUPPORTED           0x810
/* OR-ed into the state while a backup cycle runs */
#define FH_STATE_RUNNING                        0x100

#endif /* __FHERRORS_H__ */
