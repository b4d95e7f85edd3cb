/*
 * nsfcopy: a backup tool written against the Domino C API toolkit, the way
 * HCL's dbbackup sample uses it (our own code): NotesInitExtended,
 * NSFDbOpen, NSFBackupStart, copy with ordinary file reads and
 * NSFBackupSetHighWaterMark, NSFBackupStop, change info applied with
 * NSFBackupStartApplyChangeInfo / ApplyNext / EndApply, NSFBackupEnd.
 * The same source builds natively (libnotes.so, pkg-config winbackup-notes)
 * and with mingw-w64 (nnotes.dll, -lnnotes); only the file copy differs.
 *
 *   nsfcopy SOURCE COPY
 *
 * With NSFCOPY_PAUSE=FILE in the environment it creates FILE.started once
 * NSFBackupStart has returned and waits (up to a minute) for FILE to exist
 * before it opens SOURCE by name: a test changes the name meanwhile.  With
 * NSFCOPY_PAUSE_AT=open as well, it pauses so between NSFDbOpen and
 * NSFBackupStart instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "global.h"
#include "nsfdb.h"
#include "nsfdata.h"
#include "osmem.h"
#include "osmisc.h"

#ifdef _WIN32
#include <windows.h>
static void wait_10ms(void) { Sleep(10); }
#else
#include <time.h>
static void wait_10ms(void) { nanosleep(&(struct timespec){ 0, 10000000 }, NULL); }
#endif

#define BUFFER_SIZE 65536

static int fail(const char *what, STATUS status)
{
    char text[256];
    OSLoadString(NULLHANDLE, ERR(status), text, sizeof(text) - 1);
    fprintf(stderr, "nsfcopy: %s: %s (%#x)\n", what, text, ERR(status));
    return 1;
}

static void pause_at(const char *where)
{
    const char *pause = getenv("NSFCOPY_PAUSE"), *at = getenv("NSFCOPY_PAUSE_AT");
    char started[1024];
    FILE *f;
    int i;

    if (!pause || strlen(pause) + 9 > sizeof(started) || strcmp(at ? at : "start", where)) return;
    sprintf(started, "%s.started", pause);
    if ((f = fopen(started, "w"))) fclose(f);
    for (i = 0; i < 6000 && !(f = fopen(pause, "r")); i++) wait_10ms();
    if (f) fclose(f);
}

int main(int argc, char *argv[])
{
    DBHANDLE hDB;
    DHANDLE context, apply, hBuffer;
    DWORD size_low, size_high, info_low, info_high, filled, copied = 0;
    char *buffer;
    FILE *in, *out;
    STATUS err;
    size_t got;
    int reads = 0;

    if (argc != 3) { fprintf(stderr, "usage: nsfcopy SOURCE COPY\n"); return 2; }
    if ((err = NotesInitExtended(argc, argv))) return fail("NotesInitExtended", err);
    if ((err = NSFDbOpen(argv[1], &hDB))) return fail("NSFDbOpen", err);
    pause_at("open");
    if ((err = NSFBackupStart(hDB, 0, &context, &size_low, &size_high))) return fail("NSFBackupStart", err);
    if (size_high) { fprintf(stderr, "nsfcopy: files over 4 GiB are left to winbackup nsf copy\n"); return 1; }
    pause_at("start");
    if ((err = OSMemAlloc(MEM_SHARE, BUFFER_SIZE, &hBuffer))) return fail("OSMemAlloc", err);
    buffer = OSLock(char, hBuffer);
    if (!(in = fopen(argv[1], "rb")) || !(out = fopen(argv[2], "wb"))) { perror("nsfcopy"); return 1; }
    while (copied < size_low && (got = fread(buffer, 1, min(BUFFER_SIZE, size_low - copied), in)))
    {
        if (fwrite(buffer, 1, got, out) != got) { perror("nsfcopy"); return 1; }
        copied += (DWORD)got;
        if (++reads % 10 == 0) NSFBackupSetHighWaterMark(hDB, context, copied, 0);
    }
    fclose(in);
    if (fclose(out)) { perror("nsfcopy"); return 1; }
    if ((err = NSFBackupStop(hDB, context))) return fail("NSFBackupStop", err);
    if ((err = NSFBackupGetChangeInfoSize(hDB, context, 0, &info_low, &info_high)))
        return fail("NSFBackupGetChangeInfoSize", err);
    if ((err = NSFBackupStartApplyChangeInfo(&apply, argv[2], 0, info_low, info_high)))
        return fail("NSFBackupStartApplyChangeInfo", err);
    do
    {
        if ((err = NSFBackupGetNextChangeInfo(hDB, context, 0, buffer, BUFFER_SIZE, &filled)))
            return fail("NSFBackupGetNextChangeInfo", err);
        if ((err = NSFBackupApplyNextChangeInfo(apply, 0, buffer, filled)))
            return fail("NSFBackupApplyNextChangeInfo", err);
    } while (filled);
    if ((err = NSFBackupEndApplyChangeInfo(apply, 0))) return fail("NSFBackupEndApplyChangeInfo", err);
    NSFBackupEnd(hDB, context, 0);
    OSUnlockObject(hBuffer);
    OSMemFree(hBuffer);
    NSFDbClose(hDB);
    NotesTerm();
    printf("nsfcopy: %lu bytes, change info %lu bytes\n", (unsigned long)copied, (unsigned long)info_low);
    return 0;
}
