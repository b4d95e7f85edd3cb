#!/bin/bash
# HCL's own backup sample against our nnotes.dll: samples/admin/dbbackup
# (dbbackup.c, win32io.c, win32io.h) of the HCL C
# API toolkit samples, built UNMODIFIED with mingw-w64 against our headers
# and libnnotes.a (`make install-mingw-sysroot-nnotes` into a scratch root),
# run under `winbackup wine` in a fresh prefix while another process rewrites
# random 4 KiB blocks of the database, opening it anew for each write.  The
# backup it leaves (copy + change info applied by the sample itself) must
# equal the file as it was at NSFBackupStart, byte for byte.
#
#   HCL_SAMPLES=/path/to/domino-c-api-samples/samples sh tests/nsf/hcl-dbbackup.sh
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
if [ -z "${HCL_SAMPLES:-}" ] || [ ! -f "$src/dbbackup/dbbackup.c" ] || [ ! -f "$hdr" ]; then
    skip "HCL_SAMPLES is not a checkout of HCL's samples/ (admin/dbbackup, admin/dbrecs)"; result
fi
if ! command -v "$MINGW_CC" >/dev/null || [ ! -f "$build/dlls/nnotes/nnotes.dll" ] || [ ! -x "$build/winbackup" ]; then
    skip "needs $MINGW_CC, $build/dlls/nnotes/nnotes.dll and $build/winbackup"; result
fi
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/hcl-dbbackup.XXXXXX")
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
mkdir -p "$work/shim" "$work/src"
printf '#include <sys/types.h>\n' > "$work/shim/sys\\types.h"
printf '#include <sys/stat.h>\n' > "$work/shim/sys\\stat.h"
cp "$src/dbbackup/dbbackup.c" "$src/dbbackup/win32io.c" "$hdr" "$work/src/"
# the defines of HCL's makeEnvWin.mak for 64-bit Windows
if "$MINGW_CC" -DW32 -DW64 -DND64 -D_AMD64_ -DNT -I"$work/shim" -I"$work/root/sysroot/include/domino" \
       -o "$work/dbbackup.exe" "$work/src/dbbackup.c" "$work/src/win32io.c" \
       -L"$work/root/sysroot/lib" -lnnotes > "$work/build.log" 2>&1; then
    pass "dbbackup.c and win32io.c build unmodified with mingw-w64 against the sysroot install ($(grep -c warning "$work/build.log") warnings, all in the sample's own code)"
else
    fail "dbbackup builds with mingw-w64"; tail -20 "$work/build.log"; result
fi

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
result
