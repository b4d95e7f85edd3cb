/*
 * File History service control API (fhsvcctl.h, fhsvcctl.dll)
 *
 * Documented functions follow Microsoft's fhsvcctl.h.  The functions under
 * "Undocumented exports" exist in Windows' fhsvcctl.dll (see mingw-w64's
 * fhsvcctl.def) but have no published prototype: their parameters are
 * inferred from public analyses of the DLL and may differ from Windows.
 */

#ifndef __FHSVCCTL_H__
#define __FHSVCCTL_H__

#include <windows.h>
#include <fherrors.h>

#ifdef __cplusplus
extern "C" {
#endif

DECLARE_HANDLE(FH_SERVICE_PIPE_HANDLE);

typedef enum _FhBackupStopReason
{
    BackupInvalidStopReason        = 0,
    BackupLimitUserBusyMachineOnAC = 1,
    BackupLimitUserIdleMachineOnDC = 2,
    BackupLimitUserBusyMachineOnDC = 3,
    BackupCancelled                = 4
} FhBackupStopReason;

HRESULT WINAPI FhServiceOpenPipe(BOOL StartServiceIfStopped, FH_SERVICE_PIPE_HANDLE *Pipe);
HRESULT WINAPI FhServiceClosePipe(FH_SERVICE_PIPE_HANDLE Pipe);
HRESULT WINAPI FhServiceStartBackup(FH_SERVICE_PIPE_HANDLE Pipe, BOOL LowPriorityIo);
HRESULT WINAPI FhServiceStopBackup(FH_SERVICE_PIPE_HANDLE Pipe, BOOL StopTracking);
HRESULT WINAPI FhServiceReloadConfiguration(FH_SERVICE_PIPE_HANDLE Pipe);
HRESULT WINAPI FhServiceBlockBackup(FH_SERVICE_PIPE_HANDLE Pipe);
HRESULT WINAPI FhServiceUnblockBackup(FH_SERVICE_PIPE_HANDLE Pipe);

/* Undocumented exports (prototypes inferred, see above) */
HRESULT WINAPI FhQueryConfiguredUsersCount(DWORD *ConfiguredUsers);
HRESULT WINAPI FhServiceClearProtectionState(FH_SERVICE_PIPE_HANDLE Pipe, DWORD Unknown1, DWORD Unknown2);
/* *EventName (optional) receives a LocalAlloc()ed event name; free it with LocalFree(). */
HRESULT WINAPI FhServiceEnterMaintenanceMode(FH_SERVICE_PIPE_HANDLE Pipe, LPWSTR *EventName);
HRESULT WINAPI FhServiceExitMaintenanceMode(FH_SERVICE_PIPE_HANDLE Pipe);
HRESULT WINAPI FhServiceMigrationStarting(FH_SERVICE_PIPE_HANDLE Pipe);
HRESULT WINAPI FhServiceMigrationFinished(FH_SERVICE_PIPE_HANDLE Pipe);

#ifdef __cplusplus
}
#endif

#endif /* __FHSVCCTL_H__ */
