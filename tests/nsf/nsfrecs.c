/*
 * nsfrecs: the recovery calls of HCL's dbrecs sample, and its time stamps,
 * from a program written against the toolkit (our code): the same source
 * builds natively (libnotes.so) and with mingw-w64 (nnotes.dll).
 *
 *   nsfrecs DB
 *
 * DB is never transaction-logged, so every recovery call must end in the
 * documented error and leave DB in place (the caller compares its bytes).
 * Prints the zone fields of OSCurrentTIMEDATE and the text of a documented
 * TIMEDATE (1996-12-10 19:49:04 GMT) for the caller to check against TZ;
 * exits 1 if an API result differs from the documented one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "global.h"
#include "misc.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "osmisc.h"
#include "ostime.h"

static int failures;

static void expect(const char *what, STATUS got, STATUS want)
{
    char text[256];

    OSLoadString(NULLHANDLE, ERR(got), text, sizeof(text) - 1);
    if (ERR(got) != want) failures++;
    printf("%s %s: %#x (%s)\n", ERR(got) == want ? "ok" : "FAIL", what, ERR(got), text);
}

static STATUS LNCALLBACK log_cb(UNID *id, DWORD number, char *path) { failures++; return NOERROR; }
static STATUS LNCALLBACK note_cb(DWORD flags, void *user, NOTE_RESTORE_CALLBACK_INFO *info) { failures++; return NOERROR; }

int main(int argc, char **argv)
{
    static const TIMEDATE documented = { { 0x006CDCC0, 0x852563FC } };
    char list[1024], text[MAXALPHATIMEDATE + 1];
    WORD style = 0, index = 7, len = 0;
    DWORD needed = 0, days;
    TIMEDATE now;
    time_t before, after;

    if (argc < 2 || strlen(argv[1]) + 2 > sizeof(list)) return 2;
    expect("NotesInitExtended", NotesInitExtended(argc, argv), NOERROR);
    expect("NSFGetTransLogStyle", NSFGetTransLogStyle(&style), ERR_SERVER_NOT_TRANSLOGGED);
    if (style <= TRANSLOG_STYLE_LINEAR) failures++, printf("FAIL LogType %u after the error\n", style);
    expect("NSFBeginArchivingLogs", NSFBeginArchivingLogs(), ERR_SERVER_NOT_TRANSLOGGED);
    expect("NSFEndArchivingLogs", NSFEndArchivingLogs(), ERR_SERVER_NOT_TRANSLOGGED);
    expect("NSFIsNewBackupNeeded", NSFIsNewBackupNeeded(argv[1], 0, &needed), ERR_RM_GENERAL_FAILURE);
    memset(list, 0, sizeof(list));
    strcpy(list, argv[1]);
    expect("NSFRecoverDatabases", NSFRecoverDatabases(list, log_cb, DBRECOVER_ZAP_ID, &index, NULL),
           ERR_SERVER_NOT_TRANSLOGGED);
    if (index) failures++, printf("FAIL errDbIndex %u\n", index);
    expect("NSFRecoverDatabasesWithCallback",
           NSFRecoverDatabasesWithCallback(list, log_cb, 0, &index, NULL, note_cb, NULL), ERR_SERVER_NOT_TRANSLOGGED);
    expect("NSFTakeDatabaseOffline", NSFTakeDatabaseOffline(argv[1], 0, 0), ERR_SERVER_NOT_TRANSLOGGED);
    expect("NSFBringDatabaseOnline", NSFBringDatabaseOnline(argv[1], 0), ERR_SERVER_NOT_TRANSLOGGED);

    before = time(NULL);
    OSCurrentTIMEDATE(&now);
    after = time(NULL);
    days = (now.Innards[1] & 0xffffff) - 2440588;
    if (days != (DWORD)(before / 86400) && days != (DWORD)(after / 86400))
        failures++, printf("FAIL Julian day %lu\n", (unsigned long)(now.Innards[1] & 0xffffff));
    if (now.Innards[0] / 100 + 1 < (DWORD)(before % 86400) && days == (DWORD)(before / 86400))
        failures++, printf("FAIL time of day %lu\n", (unsigned long)now.Innards[0]);
    printf("zone %lu:%02lu %s%s\n", (unsigned long)(now.Innards[1] >> 24 & 0xf),
           (unsigned long)(now.Innards[1] >> 28 & 3) * 15, now.Innards[1] & 0x40000000 ? "east" : "west",
           now.Innards[1] & 0x80000000 ? " dst" : "");
    expect("ConvertTIMEDATEToText", ConvertTIMEDATEToText(NULL, NULL, &documented, text, MAXALPHATIMEDATE, &len),
           NOERROR);
    text[len] = 0;
    printf("text %s\n", text);
    NotesTerm();
    return failures ? 1 : 0;
}
