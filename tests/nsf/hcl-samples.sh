#!/bin/bash
# HCL's own backup and recovery samples against our nnotes.dll:
# samples/admin/dbbackup (dbbackup.c, win32io.c, win32io.h) and
# samples/admin/dbrecs (dbrecs.c, win32io.c, win32io.h) of the HCL C API
# toolkit samples, built UNMODIFIED with mingw-w64 against our headers and
# libnnotes.a (`make install-mingw-sysroot-nnotes` into a scratch root), run
# under `winbackup wine` in a fresh prefix.
#
#  - dbbackup, while another process rewrites random 4 KiB blocks of the
#    database (opening it anew for each write): the backup it leaves (copy +
#    change info applied by the sample itself) must equal the file as it was
#    at NSFBackupStart, byte for byte.
#  - dbrecs, each of its options (ARCHIVE, CHECK, RECOVER, NOTE, RESTORE) on
#    a backup dbbackup made: the files here are never transaction-logged, so
#    every one must end in the documented error (ERR_SERVER_NOT_TRANSLOGGED's
#    text in the sample's own log, DBLogs\dbrecs.log, stamped with the
#    current date by OSCurrentTIMEDATE/ConvertTIMEDATEToText), exit 1, and
#    leave the database and the backup as they were (RESTORE takes the
#    database offline, which deletes it, before it recovers the backup).
#
#   HCL_SAMPLES=/path/to/domino-c-api-samples/samples sh tests/nsf/hcl-samples.sh
#
# The samples are HCL's (Apache-2.0, github.com/HCL-TECH-SOFTWARE/domino-c-api-samples);
# nothing of them is kept in this tree, so this check runs only when given a
# checkout, and is not part of `make check`.  The one concession to building
# on Linux: win32io.c includes <sys\types.h> and <sys\stat.h> with a
# backslash (MSVC style), so a scratch include directory holds two files
# named that way which include the real headers.  On XFS (root, loop image)
# the reflink recorder runs, on the build's file system (ext4, tmpfs) the
# read lease.  Prints "RESULT: P passed, F failed, S skipped".
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$O" && pwd) || exit 1
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
result() { echo "RESULT: $passed passed, $failed failed, $skipped skipped"; [ $failed -eq 0 ]; exit; }
src=${HCL_SAMPLES:-}/admin
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
hdr=$src/dbbackup/win32io.h
[ -f "$hdr" ] || hdr=$src/dbrecs/win32io.h       # older checkouts keep it beside dbrecs only
if [ -z "${HCL_SAMPLES:-}" ] || [ ! -f "$src/dbbackup/dbbackup.c" ] || [ ! -f "$src/dbrecs/dbrecs.c" ] || [ ! -f "$hdr" ]; then
    skip "HCL_SAMPLES is not a checkout of HCL's samples/ (admin/dbbackup, admin/dbrecs)"; result
fi
if ! command -v "$MINGW_CC" >/dev/null || [ ! -f "$build/dlls/nnotes/nnotes.dll" ] || [ ! -x "$build/winbackup" ]; then
    skip "needs $MINGW_CC, $build/dlls/nnotes/nnotes.dll and $build/winbackup"; result
fi
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/hcl-samples.XXXXXX")
mnt= wpid=
export WINBACKUP_WINEPREFIX=$work/prefix WINBACKUP_WINE_DLLDIR=$build/dlls/kernel32 WINEDEBUG=-all
cleanup() {
    [ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null
    [ -d "$WINBACKUP_WINEPREFIX" ] && WINEPREFIX=$WINBACKUP_WINEPREFIX ${WINESERVER:-wineserver} -k 2>/dev/null
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
winpath() { echo "Z:$1" | tr / '\\'; }

# ---------------------------------------------------------------- build, unmodified
(cd "$top" && ${MAKE:-make} -s install-mingw-sysroot-nnotes DESTDIR="$work/root" MINGW_SYSROOT=/sysroot >/dev/null 2>&1)
mkdir -p "$work/shim"
printf '#include <sys/types.h>\n' > "$work/shim/sys\\types.h"
printf '#include <sys/stat.h>\n' > "$work/shim/sys\\stat.h"
build_sample() {   # NAME: samples/admin/NAME/NAME.c + win32io.c, as HCL ships them
    mkdir -p "$work/src/$1"
    cp "$src/$1/$1.c" "$src/$1/win32io.c" "$hdr" "$work/src/$1/"
    # the defines of HCL's makeEnvWin.mak for 64-bit Windows
    if "$MINGW_CC" -DW32 -DW64 -DND64 -D_AMD64_ -DNT -I"$work/shim" -I"$work/root/sysroot/include/domino" \
           -o "$work/$1.exe" "$work/src/$1/$1.c" "$work/src/$1/win32io.c" \
           -L"$work/root/sysroot/lib" -lnnotes > "$work/build-$1.log" 2>&1; then
        pass "$1.c and win32io.c build unmodified with mingw-w64 against the sysroot install ($(grep -c warning "$work/build-$1.log") warnings, all in the sample's own code)"
    else
        fail "$1 builds with mingw-w64"; tail -20 "$work/build-$1.log"; result
    fi
}
build_sample dbbackup
build_sample dbrecs

# ---------------------------------------------------------------- run under a live writer
start_writer() {   # FILE: a writer that stops itself until the backup has started
    python3 - "$1" <<'PY' &
import os, random, signal, sys, time
f = sys.argv[1]; n = os.path.getsize(f) // 4096; w = 0
os.kill(os.getpid(), signal.SIGSTOP)
while True:
    fd = os.open(f, os.O_WRONLY); os.pwrite(fd, os.urandom(4096), random.randrange(n) * 4096); os.close(fd); w += 1
    if w % 20 == 0:
        with open(f + ".writes", "w") as out: out.write(str(w))
    time.sleep(0.0005)
PY
    wpid=$!
    sleep 0.5
}
run() {   # DIR LABEL MIB
    local d=$1 f=$1/db.nsf out=$1/db.bak pid i=0 rc writes
    rm -f "$f" "$out"
    head -c $(($3 << 20)) /dev/urandom > "$f" && cp --reflink=never "$f" "$d/ref" && sync -f "$d"
    local ino=$(stat -c %i "$f")
    start_writer "$f"
    timeout 600 "$build/winbackup" wine -- "$work/dbbackup.exe" notes.ini "$(winpath "$f")" "$(winpath "$out")" > "$d/log" 2>&1 &
    pid=$!
    # NSFBackupStart has returned once the file's extents are shared with the
    # Start clone (XFS) or the read lease is on it: then the writer goes
    while [ $i -lt 6000 ]; do
        if grep -q "LEASE.*:$ino " /proc/locks || filefrag -v "$f" 2>/dev/null | grep -q shared; then break; fi
        sleep 0.01; i=$((i + 1))
    done
    kill -CONT $wpid
    wait $pid; rc=$?
    kill $wpid; wait $wpid 2>/dev/null; wpid=
    writes=$(cat "$f.writes" 2>/dev/null)
    if [ $rc = 0 ] && cmp -s "$out" "$d/ref" && ! cmp -s "$f" "$d/ref" && grep -q "completed successfully" "$d/log"; then
        pass "$2: dbbackup under winbackup wine: its backup is the file at Start ($3 MiB; the writer rewrote ${writes:-?} blocks meanwhile)"
    else
        fail "$2: rc $rc, backup = file at Start: $(cmp -s "$out" "$d/ref" && echo yes || echo no), the writer changed the file: $(cmp -s "$f" "$d/ref" && echo no || echo yes)"
        tail -5 "$d/log"
    fi
    rm -f "$f" "$out" "$d/ref" "$f.writes" "$d/log"
}
mkdir -p "$work/here"
run "$work/here" "$(findmnt -no FSTYPE -T "$work" 2>/dev/null || echo build) file system" 512
if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null && truncate -s 5G "$work/xfs.img" && \
   mkfs.xfs -q -f -m reflink=1 "$work/xfs.img" 2>/dev/null && mkdir -p "$work/xfs" && mount -o loop "$work/xfs.img" "$work/xfs" 2>/dev/null; then
    mnt=$work/xfs
    run "$mnt" "XFS (reflink recorder)" 1024
    WINBACKUP_NSF_DIFF_RANGES=0 run "$mnt" "XFS (reflink recorder, Stop clone)" 1024
else
    skip "XFS (needs root, xfsprogs and a loop device)"
fi

# ---------------------------------------------------------------- dbrecs on a backup dbbackup made
d=$work/recs
mkdir -p "$d"
head -c $((8 << 20)) /dev/urandom > "$d/db.nsf"
if "$build/winbackup" wine -- "$work/dbbackup.exe" notes.ini "$(winpath "$d/db.nsf")" "$(winpath "$d/db.bak")" > "$d/backup.log" 2>&1 && \
   cmp -s "$d/db.nsf" "$d/db.bak"; then
    pass "dbrecs: a backup of an 8 MiB database made by dbbackup"
else
    fail "dbrecs: dbbackup's backup"; tail -5 "$d/backup.log"
fi
db_sum=$(sha256sum < "$d/db.nsf") bak_sum=$(sha256sum < "$d/db.bak")
recs() {   # OPTION ARG3 ARG4: dbrecs takes "ini option file db" (it wants 4 arguments even for ARCHIVE)
    local before after
    before=$(date -u +%m/%d/%Y)
    (cd "$d" && TZ=UTC timeout 300 "$build/winbackup" wine -- "$work/dbrecs.exe" notes.ini "$@" > "$d/$1.out" 2> "$d/$1.err")
    rc=$?
    after=$(date -u +%m/%d/%Y)
    dates="$before|$after"
}
intact() { [ "$(sha256sum < "$d/db.nsf")" = "$db_sum" ] && [ "$(sha256sum < "$d/db.bak")" = "$bak_sum" ]; }
not_logged="Transactional logging is not enabled"
log=$d/DBLogs/dbrecs.log
stamped() {   # TEXT: a line of the sample's log holds TEXT and ends with today's date as ConvertTIMEDATEToText gives it
    grep -F -- "$1" "$log" | grep -Eq ": ($dates) [0-9]{2}:[0-9]{2}:[0-9]{2} [AP]M\r?$"
}
recs ARCHIVE x y
if [ $rc = 1 ] && grep -q "Error archiving logs" "$d/ARCHIVE.out" && ! grep -q "is 'CIRCULAR'" "$d/ARCHIVE.out" && \
   grep -q "NSFGetTransLogStyle - $not_logged" "$d/ARCHIVE.err" && stamped "*** ERROR archiving logs *** ($not_logged"; then
    pass "dbrecs ARCHIVE: NSFGetTransLogStyle and NSFBeginArchivingLogs say ERR_SERVER_NOT_TRANSLOGGED, in the sample's log with the date"
else
    fail "dbrecs ARCHIVE (rc $rc)"; cat "$d/ARCHIVE.out" "$d/ARCHIVE.err"; cat "$log" 2>/dev/null
fi
recs CHECK "$(winpath "$d/db.bak")" y
if [ $rc = 1 ] && grep -q "Error checking file" "$d/CHECK.out" && grep -q "NSFGetTransLogStyle - $not_logged" "$d/CHECK.err" && \
   ! grep -q "is 'CIRCULAR'" "$d/CHECK.out" && intact; then
    pass "dbrecs CHECK: no logging style to check the backup against; it exits with an error"
else
    fail "dbrecs CHECK (rc $rc)"; cat "$d/CHECK.out" "$d/CHECK.err"
fi
for opt in RECOVER NOTE; do
    recs $opt "$(winpath "$d/db.bak")" y
    if [ $rc = 1 ] && grep -q "Error recovering backup file" "$d/$opt.out" && \
       stamped "Recovering backup file $(winpath "$d/db.bak")" && intact && \
       ! grep -q "Note information" "$log"; then
        pass "dbrecs $opt: NSFRecoverDatabases$([ $opt = NOTE ] && echo WithCallback) refuses (no log to replay), the backup is unchanged$([ $opt = NOTE ] && echo ", the note callback never ran")"
    else
        fail "dbrecs $opt (rc $rc)"; cat "$d/$opt.out" "$d/$opt.err"
    fi
done
recs RESTORE "$(winpath "$d/db.bak")" "$(winpath "$d/db.nsf")"
if [ $rc = 1 ] && grep -q "Error taking .* offline" "$d/RESTORE.out" && \
   stamped "*** ERROR taking database $(winpath "$d/db.nsf") offline *** ($not_logged" && intact; then
    pass "dbrecs RESTORE: NSFTakeDatabaseOffline refuses and the database is not deleted (nothing could recover it)"
else
    fail "dbrecs RESTORE (rc $rc)"; cat "$d/RESTORE.out" "$d/RESTORE.err"; ls -la "$d"
fi
lines=$(grep -Ec ": ($dates) [0-9]{2}:[0-9]{2}:[0-9]{2} [AP]M" "$log" 2>/dev/null)
# CHECK stops before it logs anything (no logging style); the other four runs log one entry each
if [ "${lines:-0}" = 4 ]; then
    pass "dbrecs: its log kept one dated entry from each run that logs (ARCHIVE, RECOVER, NOTE, RESTORE), appended"
else
    fail "dbrecs: its log has ${lines:-no} dated lines"; cat "$log"
fi
result
