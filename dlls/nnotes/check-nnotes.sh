#!/bin/sh
# nnotes.dll and libnotes.so end to end:
#   1. conformance/nnotes.c (the dbbackup call pattern with a live writer
#      child) under `winbackup wine`, on the build's file system (read-lease
#      recorder on ext4/tmpfs) and, as root with xfsprogs and a free loop
#      device, on a loop-mounted XFS (reflink recorder);
#   2. a backup tool written against the toolkit (tests/nsf/nsfcopy.c)
#      compiled natively against the INSTALLED headers and libnotes.so found
#      through pkg-config, and with mingw-w64 against the headers and
#      libnnotes.a installed by `make install-mingw-sysroot` into a scratch
#      sysroot; both make byte-identical copies (the .exe under winbackup wine);
#      and tests/nsf/nsfrecs.c (dbrecs' recovery calls, TIMEDATE) on both faces;
#   3. the CLI: copy/apply/info, damaged and truncated change info refused,
#      a file renamed over SRC during the copy,
#      a half-applied copy refused until the same change info is applied again.
# Prints "RESULT: P passed, F failed, S skipped".
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$O" && pwd)
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/nnotes-check.XXXXXX")
mnt=
cleanup() {
    [ -n "$WINBACKUP_WINEPREFIX" ] && [ -d "$WINBACKUP_WINEPREFIX" ] && WINEPREFIX=$WINBACKUP_WINEPREFIX ${WINESERVER:-wineserver} -k 2>/dev/null
    if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT
winpath() { echo "Z:$1" | tr / '\\'; }

# ---------------------------------------------------------------- 1. conformance under Wine
if [ -f "$build/dlls/nnotes/nnotes.dll" ] && [ -f "$build/dlls/nnotes/nnotes.so" ] && \
   [ -f "$build/conformance/nnotes.exe" ] && [ -f "$build/dlls/kernel32/winbackup.dll" ]; then
    export WINBACKUP_WINEPREFIX=${WINBACKUP_TEST_WINEPREFIX:-$build/tests/wine/prefix}
    export WINBACKUP_WINE_DLLDIR=$build/dlls/kernel32 WINEDEBUG=${WINEDEBUG:--all}
    [ -n "$WINE" ] && export WINBACKUP_WINE="$WINE"
    [ -n "$WINESERVER" ] && export WINBACKUP_WINESERVER="$WINESERVER"
    run_conformance() {   # label, TMP (Windows path or empty)
        if env ${2:+TMP="$2"} ${2:+TEMP="$2"} timeout 600 "$build/winbackup" wine -- "$build/conformance/nnotes.exe" \
            > "$work/conf.log" 2>&1 && grep -q ' 0 failures), ' "$work/conf.log" && ! grep -q 'Tests skipped' "$work/conf.log"; then
            pass "conformance/nnotes.exe under winbackup wine ($1): $(grep 'tests executed' "$work/conf.log" | tail -1 | sed 's/^[0-9a-f]*://')"
        else
            fail "conformance/nnotes.exe under winbackup wine ($1)"; tail -30 "$work/conf.log"
        fi
    }
    run_conformance "$(findmnt -no FSTYPE -T "$build" 2>/dev/null || echo build) file system"
    if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null && truncate -s 512M "$work/xfs.img" 2>/dev/null && \
       mkfs.xfs -q -f -m reflink=1 "$work/xfs.img" 2>/dev/null && mkdir -p "$work/xfs" && \
       mount -o loop "$work/xfs.img" "$work/xfs" 2>/dev/null; then
        mnt=$work/xfs
        mkdir -p "$mnt/tmp" && chmod 1777 "$mnt/tmp"
        run_conformance "XFS, reflink" "$(winpath "$mnt/tmp")"
    else
        skip "conformance/nnotes.exe on XFS (needs root, xfsprogs and a loop device)"
    fi
else
    skip "conformance/nnotes.exe under Wine (nnotes.dll, winbackup.dll or the test not built)"
fi

# ---------------------------------------------------------------- 1b. header types
check "include/domino types on Linux x86_64 (tests/nsf/headers.c)" \
    ${CC:-cc} -Wall -Werror -fsyntax-only -I"$top/include/domino" "$top/tests/nsf/headers.c"
if [ -n "${MINGW_CC:-}" ]; then
    check "include/domino types on Win64 (mingw-w64)" $MINGW_CC -Wall -Werror -fsyntax-only -I"$top/include/domino" "$top/tests/nsf/headers.c"
    check "include/domino types on Win64 with <windows.h> first" \
        $MINGW_CC -Wall -Werror -fsyntax-only -DWINDOWS_FIRST -I"$top/include/domino" "$top/tests/nsf/headers.c"
fi

# ---------------------------------------------------------------- 2. a toolkit program, two platforms
(cd "$build/.." && ${MAKE:-make} -s install-nsf install-mingw-sysroot-nnotes DESTDIR="$work/root" \
    MINGW_SYSROOT=/sysroot >/dev/null 2>&1)
pcfile=$(find "$work/root" -name winbackup-notes.pc | head -n 1)
if [ -n "$pcfile" ]; then
    export PKG_CONFIG_PATH="$(dirname "$pcfile")" PKG_CONFIG_SYSROOT_DIR="$work/root"
    libdir="$work/root$(pkg-config --variable=libdir winbackup-notes | sed "s|^$work/root||")"
    ${CC:-cc} -Wall -Werror $(pkg-config --cflags winbackup-notes) -o "$work/nsfcopy" "$top/tests/nsf/nsfcopy.c" \
        $(pkg-config --libs winbackup-notes) -Wl,-rpath,"$libdir"
    check "a toolkit program builds natively against the installed headers and libnotes.so (pkg-config)" [ -x "$work/nsfcopy" ]
    head -c 5000000 /dev/urandom > "$work/src.nsf"
    check "  and its copy is identical" sh -c '"$1" "$2" "$3" >/dev/null && cmp -s "$2" "$3"' _ "$work/nsfcopy" "$work/src.nsf" "$work/native.copy"
    if [ -n "${MINGW_CC:-}" ] && [ -f "$work/root/sysroot/lib/libnnotes.a" ]; then
        $MINGW_CC -Wall -Werror -I"$work/root/sysroot/include/domino" -o "$work/nsfcopy.exe" "$top/tests/nsf/nsfcopy.c" \
            -L"$work/root/sysroot/lib" -lnnotes
        check "the same source builds with mingw-w64 against the sysroot install (headers + libnnotes.a)" [ -f "$work/nsfcopy.exe" ]
        if [ -n "${WINBACKUP_WINE_DLLDIR:-}" ]; then
            check "  and under winbackup wine its copy is identical" sh -c '"$1" wine -- "$2" "$3" "$4" >/dev/null 2>&1 && cmp -s "$5" "$6"' _ \
                "$build/winbackup" "$work/nsfcopy.exe" "$(winpath "$work/src.nsf")" "$(winpath "$work/wine.copy")" "$work/src.nsf" "$work/wine.copy"
        fi
    fi
    # The name the program reads by comes to name another file between Start and its open (it opens the
    # file by name after Start, as HCL's dbbackup does): the change info of this file cannot correct a copy
    # of that one, so Stop must refuse.  Under Wine the DOS name is resolved again at Stop, as the
    # program's open resolves it: exact spelling first, then a case-insensitive or 8.3 match; drive letters
    # are links in dosdevices.
    mkdir -p "$work/ver1" "$work/ver2"
    head -c 2000000 /dev/urandom > "$work/ver1/db.nsf"
    head -c 2000000 /dev/urandom > "$work/ver2/db.nsf"
    swapped() {   # LABEL SWAP PROGRAM...: run it; SWAP (a shell command) once NSFBackupStart has returned
        label=$1 swap=$2; shift 2
        rm -f "$work/pause" "$work/pause.started" "$work/swap.copy" "$work/ver1/DB.NSF"
        ln -sfn ver1 "$work/current"
        "$@" > "$work/swap.log" 2>&1 & rpid=$!
        i=0; while [ ! -e "$work/pause.started" ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done
        sh -c "$swap"
        touch "$work/pause"
        wait $rpid; rc=$?
        if [ $rc != 0 ] && grep -q "$refuser" "$work/swap.log" && grep -q "0x13a9" "$work/swap.log"; then
            pass "$label: $refuser refuses (ERR_NSF_CANT_BACKUP)"
        else
            fail "$label (rc $rc; the copy is the other file: $(cmp -s "$work/swap.copy" "$work/ver2/db.nsf" && echo yes || echo no))"
            cat "$work/swap.log"
        fi
    }
    repoint_dir="ln -sfn ver2 '$work/current.new' && mv -T '$work/current.new' '$work/current'"
    export NSFCOPY_PAUSE=$work/pause refuser=NSFBackupStop
    swapped "native nsfcopy, a directory symlink in the name re-pointed after Start" "$repoint_dir" \
        "$work/nsfcopy" "$work/current/db.nsf" "$work/swap.copy"
    # re-pointed between NSFDbOpen and Start (and, were it back by Stop, the copy would still be the other file)
    NSFCOPY_PAUSE_AT=open refuser=NSFBackupStart swapped "native nsfcopy, the directory symlink re-pointed before Start" \
        "$repoint_dir" "$work/nsfcopy" "$work/current/db.nsf" "$work/swap.copy"
    if [ -f "$work/nsfcopy.exe" ] && [ -n "${WINBACKUP_WINE_DLLDIR:-}" ]; then
        prefix=$WINBACKUP_WINEPREFIX
        export NSFCOPY_PAUSE=$(winpath "$work/pause")
        swapped "nsfcopy.exe under Wine, a directory symlink in the name re-pointed after Start" \
            "$repoint_dir" "$build/winbackup" wine -- "$work/nsfcopy.exe" \
            "$(winpath "$work/current/db.nsf")" "$(winpath "$work/swap.copy")"
        NSFCOPY_PAUSE_AT=open refuser=NSFBackupStart swapped \
            "nsfcopy.exe under Wine, the directory symlink re-pointed before Start" \
            "$repoint_dir" "$build/winbackup" wine -- "$work/nsfcopy.exe" \
            "$(winpath "$work/current/db.nsf")" "$(winpath "$work/swap.copy")"
        # NSFDbOpen("DB.NSF") opens db.nsf (no exact match); then a file named exactly DB.NSF appears
        swapped "nsfcopy.exe under Wine, opened as DB.NSF (the file is db.nsf), a DB.NSF made after Start" \
            "cp $work/ver2/db.nsf $work/ver1/DB.NSF" "$build/winbackup" wine -- "$work/nsfcopy.exe" \
            "$(winpath "$work/ver1/DB.NSF")" "$(winpath "$work/swap.copy")"
        # a drive letter mapped to / (as Z: is) re-pointed to a tree holding another file at the same path
        mkdir -p "$work/fakeroot$work/ver1"
        cp "$work/ver2/db.nsf" "$work/fakeroot$work/ver1/db.nsf"
        ln -sfn / "$prefix/dosdevices/q:"
        swapped "nsfcopy.exe under Wine, its drive letter (mapped to /) re-pointed after Start" \
            "ln -sfn $work/fakeroot $prefix/dosdevices/q.new && mv -T $prefix/dosdevices/q.new $prefix/dosdevices/q:" \
            "$build/winbackup" wine -- "$work/nsfcopy.exe" "Q:$(winpath "$work/ver1/db.nsf" | cut -c3-)" \
            "$(winpath "$work/swap.copy")"
        rm -f "$prefix/dosdevices/q:"
    fi
    unset NSFCOPY_PAUSE refuser

    # the recovery calls of HCL's dbrecs and its time stamps (tests/nsf/nsfrecs.c), both faces, three zones:
    # 1996-12-10 19:49:04 GMT (libyal's documented TIMEDATE) as local text, and the zone fields of "now"
    ${CC:-cc} -Wall -Werror $(pkg-config --cflags winbackup-notes) -o "$work/nsfrecs" "$top/tests/nsf/nsfrecs.c" \
        $(pkg-config --libs winbackup-notes) -Wl,-rpath,"$libdir"
    if [ -n "${MINGW_CC:-}" ] && [ -f "$work/root/sysroot/lib/libnnotes.a" ]; then
        $MINGW_CC -Wall -Werror -I"$work/root/sysroot/include/domino" -o "$work/nsfrecs.exe" "$top/tests/nsf/nsfrecs.c" \
            -L"$work/root/sysroot/lib" -lnnotes
    fi
    head -c 100000 /dev/urandom > "$work/recs.nsf"
    cp "$work/recs.nsf" "$work/recs.ref"
    for face in native wine; do
        if [ $face = native ]; then run_recs() { TZ=$1 "$work/nsfrecs" "$work/recs.nsf"; }
        elif [ -f "$work/nsfrecs.exe" ] && [ -n "${WINBACKUP_WINE_DLLDIR:-}" ]; then
            run_recs() { TZ=$1 "$build/winbackup" wine -- "$work/nsfrecs.exe" "$(winpath "$work/recs.nsf")" 2>/dev/null; }
        else skip "nsfrecs under winbackup wine (mingw-w64 or Wine missing)"; continue; fi
        for case in "UTC|0:00 west|12/10/1996 07:49:04 PM" "America/New_York|5:00 west dst|12/10/1996 02:49:04 PM" \
                    "Asia/Kolkata|5:30 east|12/11/1996 01:19:04 AM"; do
            tz=${case%%|*} rest=${case#*|}
            out=$(run_recs "$tz" | tr -d '\r'); rc=$?
            if [ $rc = 0 ] && printf '%s\n' "$out" | grep -qx "zone ${rest%%|*}" && printf '%s\n' "$out" | grep -qx "text ${rest#*|}" && \
               cmp -s "$work/recs.nsf" "$work/recs.ref"; then
                pass "$face nsfrecs, TZ=$tz: recovery calls say not logged, the file stays; zone ${rest%%|*}, text ${rest#*|}"
            else
                fail "$face nsfrecs, TZ=$tz (rc $rc)"; printf '%s\n' "$out" | grep -v '^ok'
            fi
        done
    done
else
    fail "make install-nsf install-mingw-sysroot-nnotes into a scratch root"
fi

# ---------------------------------------------------------------- 3. the CLI
wb=$build/winbackup
head -c 3000000 /dev/urandom > "$work/a.nsf"
check "winbackup nsf copy makes an identical copy" sh -c '"$1" nsf copy "$2" "$3" >/dev/null && cmp -s "$2" "$3"' _ "$wb" "$work/a.nsf" "$work/a.copy"
uname=$(printf 'caf\303\251 \346\227\245')
cp "$work/a.nsf" "$work/$uname.nsf"
check "winbackup nsf copy of a non-ASCII path (UTF-8 -> LMBCS -> UTF-8)" sh -c '"$1" nsf copy "$2" "$3" >/dev/null && cmp -s "$2" "$3"' _ "$wb" "$work/$uname.nsf" "$work/$uname.copy"
check "winbackup nsf copy refuses an existing target without --force" sh -c '! "$1" nsf copy "$2" "$3" 2>/dev/null' _ "$wb" "$work/a.nsf" "$work/a.copy"
echo "not to be overwritten" > "$work/victim"
ln -s "$work/victim" "$work/planted.copy"
ln -s "$work/victim" "$work/planted.ci"
check "winbackup nsf copy --force does not follow a symlink planted at DST or at --info FILE" sh -c \
    '! "$1" nsf copy "$2" "$3" --force 2>/dev/null && ! "$1" nsf copy "$2" "$4" --info "$5" --force 2>/dev/null &&
     grep -q "not to be overwritten" "$6"' _ "$wb" "$work/a.nsf" "$work/planted.copy" "$work/p2.copy" "$work/planted.ci" "$work/victim"
# a copy that fails (here Start refused: a writer holds SRC open, read-lease
# recorder forced) leaves neither DST nor the change info behind
(sleep 10 >> "$work/a.nsf") & holder=$!
sleep 0.5
check "a failed winbackup nsf copy leaves no DST and no --info FILE behind" sh -c \
    '! WINBACKUP_NSF_RECORDER=lease "$1" nsf copy "$2" "$3" --info "$4" 2>/dev/null && [ ! -e "$3" ] && [ ! -e "$4" ]' _ \
    "$wb" "$work/a.nsf" "$work/failed.copy" "$work/failed.ci"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
check "winbackup nsf copy of server!!path: ERR_NOT_LOCAL (0x0220)" sh -c '"$1" nsf copy "srv!!x.nsf" "$2" 2>&1 | grep -q "0x0220"' _ "$wb" "$work/r.copy"
"$wb" nsf copy "$work/a.nsf" "$work/b.copy" --info "$work/b.ci" >/dev/null
check "saved change info is valid (nsf info)" sh -c '"$1" nsf info "$2" | grep -q "size at start 3000000"' _ "$wb" "$work/b.ci"
check "saved change info applies" sh -c '"$1" nsf apply "$2" "$3" && cmp -s "$2" "$4"' _ "$wb" "$work/b.copy" "$work/b.ci" "$work/a.nsf"
# a file renamed over SRC during `nsf copy` (tests/nsf/rename_shim.c puts the rename
# just before the second lookup of SRC the CLI used to make): the copy is of the
# file that was backed up, never the new one cut to the old one's size - or, since
# Stop checks that SRC still names the file backed up, a clean refusal that leaves
# no DST
if ${CC:-cc} -shared -fPIC -o "$work/rename_shim.so" "$top/tests/nsf/rename_shim.c" -ldl 2>/dev/null; then
    head -c 2000000 /dev/urandom > "$work/decoy"
    cp "$work/a.nsf" "$work/ren.nsf"
    check "winbackup nsf copy: SRC renamed over during the copy: the copy is of the file backed up, or refused without DST" sh -c \
        'if LD_PRELOAD="$1" SHIM_PATH="$2" SHIM_DECOY="$3" SHIM_NTH=2 "$4" nsf copy "$2" "$5" >/dev/null 2>&1; then cmp -s "$5" "$6"; else [ ! -e "$5" ]; fi' _ \
        "$work/rename_shim.so" "$work/ren.nsf" "$work/decoy" "$wb" "$work/ren.copy" "$work/a.nsf"
else
    skip "winbackup nsf copy with SRC renamed over (cannot build tests/nsf/rename_shim.c)"
fi
head -c $(($(stat -c %s "$work/b.ci") - 1)) "$work/b.ci" > "$work/trunc.ci"
check "truncated change info: ERR_CORRUPT_CHANGE_INFO (0x0ea7)" sh -c '"$1" nsf apply "$2" "$3" 2>&1 | grep -q "0x0ea7"' _ "$wb" "$work/b.copy" "$work/trunc.ci"
cp "$work/b.ci" "$work/flip.ci"
printf '\377' | dd of="$work/flip.ci" bs=1 seek=70 conv=notrunc 2>/dev/null
check "damaged change info: ERR_CORRUPT_CHANGE_INFO" sh -c '"$1" nsf info "$2" 2>&1 | grep -q "0x0ea7"' _ "$wb" "$work/flip.ci"
echo "RESULT: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
