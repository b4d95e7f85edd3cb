/*
 * fhcontrol: an ordinary Windows program that drives File History through
 * fhsvcctl.dll, linked the usual way (-lfhsvcctl).  Used by
 * tests/fh-wine-e2e.sh to show that an unmodified program's calls reach the
 * Linux service and produce real backups.
 *
 *   fhcontrol start        FhServiceOpenPipe(TRUE), FhServiceStartBackup(low priority)
 *   fhcontrol blocked      Block, Start (must be FHSVC_E_BACKUP_BLOCKED), Unblock, Start
 *   fhcontrol stop         FhServiceStopBackup(FALSE)
 *   fhcontrol reload       FhServiceReloadConfiguration
 * Exit status 0 when every call returned what it should.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <fhsvcctl.h>
#include <fherrors.h>

static int failures;

static void expect(const char *what, HRESULT got, HRESULT want)
{
    printf("%s: 0x%08lx%s\n", what, (unsigned long)got, got == want ? "" : " (unexpected)");
    if (got != want) failures++;
}

int main(int argc, char **argv)
{
    FH_SERVICE_PIPE_HANDLE pipe = NULL;
    HRESULT hr;

    if (argc != 2) { fprintf(stderr, "usage: fhcontrol start|blocked|stop|reload\n"); return 2; }
    hr = FhServiceOpenPipe(TRUE, &pipe);
    expect("FhServiceOpenPipe(TRUE)", hr, S_OK);
    if (FAILED(hr)) return 1;

    if (!strcmp(argv[1], "start"))
        expect("FhServiceStartBackup(LowPriorityIo=TRUE)", FhServiceStartBackup(pipe, TRUE), S_OK);
    else if (!strcmp(argv[1], "blocked"))
    {
        expect("FhServiceBlockBackup", FhServiceBlockBackup(pipe), S_OK);
        expect("FhServiceStartBackup while blocked", FhServiceStartBackup(pipe, FALSE), FHSVC_E_BACKUP_BLOCKED);
        expect("FhServiceUnblockBackup", FhServiceUnblockBackup(pipe), S_OK);
        expect("FhServiceStartBackup(LowPriorityIo=FALSE)", FhServiceStartBackup(pipe, FALSE), S_OK);
    }
    else if (!strcmp(argv[1], "stop"))
        expect("FhServiceStopBackup(StopTracking=FALSE)", FhServiceStopBackup(pipe, FALSE), S_OK);
    else if (!strcmp(argv[1], "reload"))
        expect("FhServiceReloadConfiguration", FhServiceReloadConfiguration(pipe), S_OK);
    else
    {
        fprintf(stderr, "fhcontrol: unknown command %s\n", argv[1]);
        failures++;
    }
    expect("FhServiceClosePipe", FhServiceClosePipe(pipe), S_OK);
    return failures ? 1 : 0;
}
