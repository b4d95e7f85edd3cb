/*
 * File History service control (fhsvcctl.dll)
 *
 * The exports of Windows' fhsvcctl.dll, talking to the Linux File History
 * service (tools/filehistory, engine in libs/fh) over the protocol in docs/fh-protocol.md
 * instead of ncalrpc.
 *
 * Pipe handles are not pointers: a handle is (serial << 8) | (slot + 1) into a
 * fixed table, so a closed or never-opened handle is recognised (serial
 * mismatch) and rejected with E_INVALIDARG instead of being dereferenced.
 * One lock guards the table and every request, so a pipe can't be closed
 * while another thread is using it; requests are short (the service answers
 * without waiting for backups), so serializing them costs little.
 *
 * Where Windows behaviour is inferred rather than documented it says so;
 * see also the notes in docs/fh-protocol.md.
 *
 * Opening and closing a pipe also bring the registry entries that programs
 * written for Windows read (registry.c) up to date, so that what a program
 * of the prefix finds there after using the service is true.
 */

#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "fhsvcctl.h"

#define MAX_PIPES 64

struct pipe_slot
{
    struct fh_conn *conn;
    ULONG_PTR       serial;
    HANDLE          maintenance_event;  /* from FhServiceEnterMaintenanceMode */
};

static struct pipe_slot pipes[MAX_PIPES];
static ULONG_PTR next_serial = 1;
static CRITICAL_SECTION pipes_cs;

static FH_SERVICE_PIPE_HANDLE make_handle(unsigned int slot)
{
    return (FH_SERVICE_PIPE_HANDLE)((pipes[slot].serial << 8) | (slot + 1));
}

/* Caller holds pipes_cs. */
static struct pipe_slot *lookup_pipe(FH_SERVICE_PIPE_HANDLE handle)
{
    ULONG_PTR value = (ULONG_PTR)handle;
    ULONG_PTR slot = (value & 0xff) - 1;

    if (!handle || slot >= MAX_PIPES) return NULL;
    if (!pipes[slot].conn || pipes[slot].serial != value >> 8) return NULL;
    return &pipes[slot];
}

/* Sends request on the pipe's connection; E_INVALIDARG for a bad handle. */
static HRESULT pipe_request(FH_SERVICE_PIPE_HANDLE handle, const char *request, char *text, size_t text_size)
{
    struct pipe_slot *pipe;
    HRESULT hr;

    EnterCriticalSection(&pipes_cs);
    if (!(pipe = lookup_pipe(handle))) hr = E_INVALIDARG;
    else hr = fh_conn_request(pipe->conn, request, text, text_size);
    LeaveCriticalSection(&pipes_cs);
    return hr;
}

/******************************************************************
 *      FhServiceOpenPipe   (FHSVCCTL.@)
 *
 * Opens a channel to the File History service, starting it first if asked.
 * A NULL Pipe returns E_INVALIDARG: Windows writes *Pipe before checking
 * anything (so it would crash); E_INVALIDARG is what its other exports
 * return for every NULL argument.  No reachable service and
 * StartServiceIfStopped FALSE gives HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE)
 * (our choice, UNVERIFIED).
 */
HRESULT WINAPI FhServiceOpenPipe(BOOL StartServiceIfStopped, FH_SERVICE_PIPE_HANDLE *Pipe)
{
    struct fh_conn *conn;
    unsigned int slot;
    HRESULT hr;

    TRACE("(%d, %p)\n", StartServiceIfStopped, Pipe);

    if (!Pipe) return E_INVALIDARG;
    *Pipe = NULL;

    /* connecting may take up to 10 s when the service has to start: no lock held */
    if (FAILED(hr = fh_conn_open(StartServiceIfStopped, &conn))) return hr;
    fh_registry_refresh(conn);

    EnterCriticalSection(&pipes_cs);
    for (slot = 0; slot < MAX_PIPES; slot++) if (!pipes[slot].conn) break;
    if (slot < MAX_PIPES)
    {
        pipes[slot].conn = conn;
        pipes[slot].serial = next_serial++;
        /* keep (serial << 8) non-zero and within ULONG_PTR after wrap-around */
        if (!next_serial || next_serial > ((ULONG_PTR)-1 >> 8)) next_serial = 1;
        pipes[slot].maintenance_event = NULL;
        *Pipe = make_handle(slot);
    }
    LeaveCriticalSection(&pipes_cs);

    if (slot == MAX_PIPES)
    {
        fh_conn_close(conn);
        return E_OUTOFMEMORY;
    }
    TRACE("-> %p\n", *Pipe);
    return S_OK;
}

/******************************************************************
 *      FhServiceClosePipe   (FHSVCCTL.@)
 *
 * Closes the channel; the service drops any block this channel holds.
 */
HRESULT WINAPI FhServiceClosePipe(FH_SERVICE_PIPE_HANDLE Pipe)
{
    struct pipe_slot *pipe;
    struct fh_conn *conn = NULL;
    HANDLE event = NULL;

    TRACE("(%p)\n", Pipe);

    EnterCriticalSection(&pipes_cs);
    if ((pipe = lookup_pipe(Pipe)))
    {
        conn = pipe->conn;
        event = pipe->maintenance_event;
        pipe->conn = NULL;
        pipe->maintenance_event = NULL;
    }
    LeaveCriticalSection(&pipes_cs);

    if (!conn) return E_INVALIDARG;
    if (event)
    {
        SetEvent(event);
        CloseHandle(event);
    }
    /* a backup this pipe started may have finished: ProtectedUpToTime */
    fh_registry_refresh(conn);
    fh_conn_close(conn);
    return S_OK;
}

/******************************************************************
 *      FhServiceStartBackup   (FHSVCCTL.@)
 *
 * Asks for an immediate backup cycle; returns once the service accepted it.
 */
HRESULT WINAPI FhServiceStartBackup(FH_SERVICE_PIPE_HANDLE Pipe, BOOL LowPriorityIo)
{
    TRACE("(%p, %d)\n", Pipe, LowPriorityIo);
    return pipe_request(Pipe, LowPriorityIo ? "START 1" : "START 0", NULL, 0);
}

/******************************************************************
 *      FhServiceStopBackup   (FHSVCCTL.@)
 */
HRESULT WINAPI FhServiceStopBackup(FH_SERVICE_PIPE_HANDLE Pipe, BOOL StopTracking)
{
    TRACE("(%p, %d)\n", Pipe, StopTracking);
    return pipe_request(Pipe, StopTracking ? "STOP 1" : "STOP 0", NULL, 0);
}

/******************************************************************
 *      FhServiceReloadConfiguration   (FHSVCCTL.@)
 */
HRESULT WINAPI FhServiceReloadConfiguration(FH_SERVICE_PIPE_HANDLE Pipe)
{
    TRACE("(%p)\n", Pipe);
    return pipe_request(Pipe, "RELOAD", NULL, 0);
}

/******************************************************************
 *      FhServiceBlockBackup   (FHSVCCTL.@)
 *
 * Blocks backups until FhServiceUnblockBackup or FhServiceClosePipe.
 */
HRESULT WINAPI FhServiceBlockBackup(FH_SERVICE_PIPE_HANDLE Pipe)
{
    TRACE("(%p)\n", Pipe);
    return pipe_request(Pipe, "BLOCK", NULL, 0);
}

/******************************************************************
 *      FhServiceUnblockBackup   (FHSVCCTL.@)
 */
HRESULT WINAPI FhServiceUnblockBackup(FH_SERVICE_PIPE_HANDLE Pipe)
{
    TRACE("(%p)\n", Pipe);
    return pipe_request(Pipe, "UNBLOCK", NULL, 0);
}

/******************************************************************
 *      FhServiceClearProtectionState   (FHSVCCTL.@)
 *
 * Undocumented.  Windows passes two 32-bit values through to the service
 * (inferred from public analyses of the DLL); their meaning is unknown, so
 * they go to the service as they are ("CLEAR <hex> <hex>"), which logs them.
 */
HRESULT WINAPI FhServiceClearProtectionState(FH_SERVICE_PIPE_HANDLE Pipe, DWORD Unknown1, DWORD Unknown2)
{
    char request[32];

    TRACE("(%p, %#lx, %#lx)\n", Pipe, Unknown1, Unknown2);
    snprintf(request, sizeof(request), "CLEAR %08lX %08lX", Unknown1, Unknown2);
    return pipe_request(Pipe, request, NULL, 0);
}

/******************************************************************
 *      FhServiceEnterMaintenanceMode   (FHSVCCTL.@)
 *
 * Undocumented.  Windows optionally returns, in a LocalAlloc()ed string, the
 * name of an event "Global\FhMaintenanceModeEvent-<hex id>" (inferred).  We
 * create that event ourselves (not signalled) and signal it when maintenance
 * ends through this pipe; what Windows signals it for is not known.
 */
HRESULT WINAPI FhServiceEnterMaintenanceMode(FH_SERVICE_PIPE_HANDLE Pipe, LPWSTR *EventName)
{
    struct pipe_slot *pipe;
    WCHAR name[64];
    HRESULT hr;

    TRACE("(%p, %p)\n", Pipe, EventName);

    EnterCriticalSection(&pipes_cs);
    if (!(pipe = lookup_pipe(Pipe))) hr = E_INVALIDARG;
    else hr = fh_conn_request(pipe->conn, "MAINT_ENTER", NULL, 0);
    if (SUCCEEDED(hr) && EventName)
    {
        swprintf(name, ARRAY_SIZE(name), L"Global\\FhMaintenanceModeEvent-%Ix", (ULONG_PTR)Pipe);
        if (!pipe->maintenance_event)
            pipe->maintenance_event = CreateEventW(NULL, TRUE, FALSE, name);
        if (!(*EventName = LocalAlloc(LMEM_FIXED, (wcslen(name) + 1) * sizeof(WCHAR))))
            hr = E_OUTOFMEMORY;
        else
            wcscpy(*EventName, name);
    }
    LeaveCriticalSection(&pipes_cs);
    return hr;
}

/******************************************************************
 *      FhServiceExitMaintenanceMode   (FHSVCCTL.@)
 *
 * Undocumented; takes only the pipe (inferred).
 */
HRESULT WINAPI FhServiceExitMaintenanceMode(FH_SERVICE_PIPE_HANDLE Pipe)
{
    struct pipe_slot *pipe;
    HRESULT hr;

    TRACE("(%p)\n", Pipe);

    EnterCriticalSection(&pipes_cs);
    if (!(pipe = lookup_pipe(Pipe))) hr = E_INVALIDARG;
    else
    {
        hr = fh_conn_request(pipe->conn, "MAINT_EXIT", NULL, 0);
        if (SUCCEEDED(hr) && pipe->maintenance_event)
        {
            SetEvent(pipe->maintenance_event);
            CloseHandle(pipe->maintenance_event);
            pipe->maintenance_event = NULL;
        }
    }
    LeaveCriticalSection(&pipes_cs);
    return hr;
}

/******************************************************************
 *      FhServiceMigrationStarting   (FHSVCCTL.@)
 *
 * Undocumented; takes only the pipe (inferred).
 */
HRESULT WINAPI FhServiceMigrationStarting(FH_SERVICE_PIPE_HANDLE Pipe)
{
    TRACE("(%p)\n", Pipe);
    return pipe_request(Pipe, "MIGRATION_START", NULL, 0);
}

/******************************************************************
 *      FhServiceMigrationFinished   (FHSVCCTL.@)
 *
 * Undocumented; takes only the pipe (inferred).
 */
HRESULT WINAPI FhServiceMigrationFinished(FH_SERVICE_PIPE_HANDLE Pipe)
{
    TRACE("(%p)\n", Pipe);
    return pipe_request(Pipe, "MIGRATION_END", NULL, 0);
}

/******************************************************************
 *      FhQueryConfiguredUsersCount   (FHSVCCTL.@)
 *
 * Undocumented.  Windows counts the values under the fhsvc service's
 * Parameters\Configs registry key without contacting the service (a public
 * disassembly: RegOpenKeyExW with KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS,
 * RegEnumValueW until the end; S_OK and 0 when the key is missing), one
 * value per user whose File History is on.  So do we, after bringing our
 * user's value up to date from the service when it runs (it is not started
 * for this).  A service too old to say (no CFG_REGISTRY) is asked for its
 * count instead.  A NULL pointer gives E_INVALIDARG as on Windows.
 */
HRESULT WINAPI FhQueryConfiguredUsersCount(DWORD *ConfiguredUsers)
{
    struct fh_conn *conn = NULL;
    char text[FH_LINE_MAX], *end;
    unsigned long count;
    HRESULT hr;

    TRACE("(%p)\n", ConfiguredUsers);

    if (!ConfiguredUsers) return E_INVALIDARG;
    *ConfiguredUsers = 0;

    hr = fh_conn_open(FALSE, &conn);
    if (SUCCEEDED(hr) && fh_registry_refresh(conn) == E_INVALIDARG)
    {
        hr = fh_conn_request(conn, "USERS", text, sizeof(text));
        fh_conn_close(conn);
        if (FAILED(hr)) return hr;
        if (text[0] < '0' || text[0] > '9') return FH_E_BAD_REPLY;
        count = strtoul(text, &end, 10);
        if (*end || count > MAXDWORD) return FH_E_BAD_REPLY;
        *ConfiguredUsers = count;
        return S_OK;
    }
    fh_conn_close(conn);
    return fh_registry_count_configs(ConfiguredUsers);
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls(instance);
        InitializeCriticalSection(&pipes_cs);
        break;
    case DLL_PROCESS_DETACH:
        /* at process exit other threads are gone and sockets die with the process */
        if (!reserved) DeleteCriticalSection(&pipes_cs);
        break;
    }
    return TRUE;
}
