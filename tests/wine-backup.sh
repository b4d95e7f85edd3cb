#!/bin/sh
# End-to-end check of kernel32's BackupRead/BackupSeek/BackupWrite under stock
# Wine through `winbackup wine`.
#
# An unmodified mingw-w64 program (tests/wine/backupcopy.c, importing the
# three functions from kernel32 like any Windows program) backs up a file
# that has data with a hole, two named streams (Samba's user.DosStream.*
# xattrs) and two EAs, walks the backup again with BackupSeek and restores
# it onto a new file.  Expected:
#   - the stream the program wrote is byte-identical to the one
#     tests/wbstream.py (an implementation of the format written from the
#     spec, sharing no code with the C codec) builds from the file, and to
#     `winbackup read FILE` (the native face of the same codec: that both
#     faces agree), with and without security;
#   - the restored file has the same bytes, the same xattrs and keeps the hole;
#   - the headers seen through BackupRead+BackupSeek are those in the stream,
#     and seeking past a stream's end fails with ERROR_SEEK (checked in the program).
# Also: the conformance suite through `winbackup wine` when it is built.
#
# Prints "RESULT: P passed, F failed, S skipped", counting every check the
# Windows programs and the conformance runs made; exit status 1 on failure.

O=${O:-build}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); echo "ok - $1"; }
# the counts of a Wine-style run: "N tests executed (T marked as todo, F as flaky, E failures), S skipped."
add_wine_counts() {   # log  (see also tests/wine-counts.sh)
    eval "$(sed -n 's/.* \([0-9][0-9]*\) tests executed (\([0-9][0-9]*\) marked as todo, [0-9]* as flaky, \([0-9][0-9]*\) failures*), \([0-9][0-9]*\) skipped.*/n=$((n + \1)); t=$((t + \2)); e=$((e + \3)); s=$((s + \4));/p' "$1" | tr -d '\n')"
}
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
finish() {
    echo "RESULT: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit $?
}

winbackup=$O/winbackup
dlldir=$O/dlls/kernel32
exe=$O/tests/wine/backupcopy.exe
ntests=16
for need in "$winbackup" "$dlldir/winbackup.dll" "$dlldir/winbackup.so" "$exe"; do
    if [ ! -f "$need" ]; then
        echo "$need not built (needs mingw-w64, wine64-tools, libwine-dev)"
        skipped=$ntests; finish
    fi
done
if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 is needed to set and compare xattrs"
    skipped=$ntests; finish
fi

# The prefix is kept between runs (first start of a prefix takes ~10 s).
prefix=${WINBACKUP_TEST_WINEPREFIX:-$(pwd)/$O/tests/wine/prefix}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wb-wine-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export WINBACKUP_WINEPREFIX="$prefix" WINBACKUP_WINE_DLLDIR="$(cd "$dlldir" && pwd)" WINEDEBUG=${WINEDEBUG:--all}
[ -n "$WINE" ] && export WINBACKUP_WINE="$WINE"
[ -n "$WINESERVER" ] && export WINBACKUP_WINESERVER="$WINESERVER"

# Wine sees / as Z:
winpath() { echo "Z:$1" | tr / '\\'; }

# A file with 64 KiB of data, a hole up to 1 MiB, 70000 bytes there, a hole to
# 2000000 bytes; named streams "one" and "two"; EAs "MYEA" and "other.ea".
src=$tmp/src
if ! python3 - "$src" <<'EOF'
import os, sys
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(bytes((i * 7 + 3) & 0xff for i in range(65536)))
    f.seek(1048576)
    f.write(bytes((i * 13 + 1) & 0xff for i in range(70000)))
    f.truncate(2000000)
# Samba streams_xattr keeps a named stream's bytes plus one NUL
os.setxattr(path, "user.DosStream.one:$DATA", b"first stream\0")
os.setxattr(path, "user.DosStream.two:$DATA", bytes(range(256)) * 10 + b"\0")
os.setxattr(path, "user.MYEA", b"ea value")
os.setxattr(path, "user.other.ea", b"\x01\x02\x03")
EOF
then
    echo "cannot create a file with user xattrs in $tmp"
    skipped=$ntests; finish
fi

xattrs() {   # name=hexvalue lines, sorted
    python3 -c '
import os, sys
p = sys.argv[1]
for n in sorted(os.listxattr(p)):
    print(n + "=" + os.getxattr(p, n).hex())' "$1"
}

for security in "" "--security"; do
    label=${security:-default}
    "$winbackup" read "$src" $security >"$tmp/native$security.stream" || fail "winbackup read $security"
    rm -f "$tmp/dst"
    "$winbackup" wine -- "$exe" $security "$(winpath "$src")" "$(winpath "$tmp/wine.stream")" \
        "$(winpath "$tmp/dst")" >"$tmp/log" 2>&1
    rc=$?
    cat "$tmp/log"
    if [ $rc -eq 0 ] && grep -q '^backupcopy: 0 failures' "$tmp/log"; then
        pass "$label: backupcopy.exe under winbackup wine (BackupRead, BackupSeek walk, BackupWrite)"
    else
        fail "$label: backupcopy.exe exit status $rc"
    fi
    if [ -z "$security" ]; then
        python3 "$here/wbstream.py" expect-file "$src" >"$tmp/spec.stream"
        if [ -f "$tmp/wine.stream" ] && cmp "$tmp/wine.stream" "$tmp/spec.stream"; then
            pass "$label: BackupRead stream is byte-identical to the independent implementation (tests/wbstream.py)"
        else
            fail "$label: BackupRead stream differs from tests/wbstream.py's"
        fi
    fi
    if [ -f "$tmp/wine.stream" ] && cmp "$tmp/wine.stream" "$tmp/native$security.stream"; then
        pass "$label: BackupRead stream is byte-identical to winbackup read"
    else
        fail "$label: BackupRead stream differs from winbackup read"
        "$winbackup" list "$tmp/native$security.stream"; [ -f "$tmp/wine.stream" ] && "$winbackup" list "$tmp/wine.stream"
    fi
    if [ -f "$tmp/dst" ] && cmp "$src" "$tmp/dst"; then
        pass "$label: restored data is identical"
    else
        fail "$label: restored data differs"
    fi
    if [ -z "$security" ]; then
        if [ -f "$tmp/dst" ] && [ "$(xattrs "$src")" = "$(xattrs "$tmp/dst")" ]; then
            pass "$label: restored named streams and EAs (xattrs) are identical"
        else
            fail "$label: restored xattrs differ"; xattrs "$tmp/dst"
        fi
        # 2000000 bytes with 134 KiB of data: the holes must survive (allow a few blocks of slack)
        blocks=$(stat -c %b "$tmp/dst" 2>/dev/null || echo 99999)
        srcblocks=$(stat -c %b "$src")
        if [ "$blocks" -le $((srcblocks + 64)) ]; then
            pass "$label: restored file is sparse ($blocks blocks, source $srcblocks)"
        else
            fail "$label: restored file is not sparse ($blocks blocks, source $srcblocks)"
        fi
    fi
done

# The launcher: exit status passed through, bad input refused before the
# prefix's kernel32.dll is touched.
sys32=$prefix/drive_c/windows/system32
"$winbackup" wine -- "$exe" >/dev/null 2>&1   # usage: backupcopy.exe exits 2
rc=$?
if [ $rc -eq 2 ]; then pass "winbackup wine passes the program's exit status (2)"; else fail "winbackup wine exit status $rc, expected 2"; fi
"$winbackup" wine >/dev/null 2>&1
rc=$?
if [ $rc -eq 125 ]; then pass "winbackup wine without a program: usage, 125"; else fail "winbackup wine without a program: $rc"; fi
cp "$sys32/kernel32.dll" "$tmp/kernel32.before"
printf 'not a PE file\n' >"$tmp/text.dll"
head -c 8192 "$tmp/kernel32.before" >"$tmp/truncated.dll"
for bad in text.dll truncated.dll; do
    WINBACKUP_WINE_KERNEL32="$tmp/$bad" "$winbackup" wine --setup-only >"$tmp/log" 2>&1
    rc=$?
    if [ $rc -eq 125 ] && grep -q 'cannot patch' "$tmp/log" && cmp -s "$sys32/kernel32.dll" "$tmp/kernel32.before"; then
        pass "a $bad as Wine's kernel32 is refused, the prefix's copy untouched"
    else
        fail "a $bad as Wine's kernel32: exit status $rc"; cat "$tmp/log"
    fi
done
WINBACKUP_WINE_KERNEL32="$exe" "$winbackup" wine --setup-only >"$tmp/log" 2>&1
rc=$?
if [ $rc -eq 125 ] && grep -q 'cannot patch' "$tmp/log" && cmp -s "$sys32/kernel32.dll" "$tmp/kernel32.before"; then
    pass "a PE without the Backup exports is refused"
else
    fail "a PE without the Backup exports: exit status $rc"; cat "$tmp/log"
fi

# Validation: errors this implementation chose where Windows' are UNVERIFIED
check_exe=$O/tests/wine/backupcheck.exe
if [ -f "$check_exe" ]; then
    "$winbackup" wine -- "$check_exe" "$(winpath "$tmp")" >"$tmp/log" 2>&1
    rc=$?
    cat "$tmp/log"
    checks=$(sed -n 's/^backupcheck: \([0-9]*\) checks, \([0-9]*\) failures.*/\1 \2/p' "$tmp/log")
    if [ $rc -eq 0 ] && [ -n "$checks" ] && [ "${checks#* }" -eq 0 ]; then
        passed=$((passed + ${checks% *}))
        echo "ok - backupcheck.exe: ${checks% *} checks (context kinds, BackupSeek, abort, access, no-buffering, malformed stream)"
    else
        fail "backupcheck.exe exit status $rc (${checks:-no count})"
        [ -n "$checks" ] && passed=$((passed + ${checks% *} - ${checks#* }))
    fi
else
    skip "backupcheck.exe not built"
fi

# Mode (b) of the conformance suite: conformance/run-wine.sh runs each .exe as
# "$WINE test.exe" in a fresh WINEPREFIX; a wrapper as $WINE sends it through
# `winbackup wine` on that prefix.  Expected: no failure and nothing left todo
# (the tests mark Wine's stubs todo only when they detect them).
conf_script=${srcdir:-.}/conformance/run-wine.sh
conf_exes=$(ls "$O"/conformance/*.exe 2>/dev/null)
if [ -f "$conf_script" ] && [ -n "$conf_exes" ]; then
    wrapper=$tmp/winbackup-wine
    printf '#!/bin/sh\nexec "%s" wine --prefix "$WINEPREFIX" -- "$@"\n' "$(cd "$(dirname "$winbackup")" && pwd)/winbackup" >"$wrapper"
    chmod +x "$wrapper"
    # run_mode LABEL MODE [VAR=VALUE...]: the suite through the wrapper, 0 failures and 0 todo expected
    run_mode() {
        label=$1 mode=$2; shift 2
        env WB_CONFORMANCE_MODE="$mode" WINE="$wrapper" "$@" sh "$conf_script" $conf_exes >"$tmp/conf.log" 2>&1
        rc=$?
        sed "s/^RESULT:/conformance${label:+ ($label)} RESULT:/" "$tmp/conf.log"
        n=0 t=0 e=0 s=0
        add_wine_counts "$tmp/conf.log"
        # every check that ran counts; a todo is a failure here (our exports
        # leave nothing to Wine's stubs), and so is a run with no count
        # skips: the suite's own count (tests whose DLL Wine lacks included)
        s=$(sed -n 's/^RESULT: [0-9]* passed, [0-9]* failed, \([0-9]*\) skipped$/\1/p' "$tmp/conf.log")
        passed=$((passed + n - e - t)); skipped=$((skipped + ${s:-0})); failed=$((failed + e + t))
        if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && [ "$e" -eq 0 ] && [ "$t" -eq 0 ]; then
            echo "ok - conformance suite through winbackup wine${label:+, $label}: $n checks, 0 failures, 0 todo, $s skipped"
        else
            fail "conformance suite through winbackup wine${label:+, $label} (exit status $rc, $n checks, $e failures, $t todo)"
        fi
    }
    run_mode "" "mode b: the project's kernel32 exports, Unix side"
    # The same with the NT backend only (backup_nt.c, what runs on Windows): a
    # DLL directory without the Unix library.
    mkdir -p "$tmp/nt-only"
    cp "$dlldir/winbackup.dll" "$tmp/nt-only/"
    run_mode "NT backend" "mode b: the project's kernel32 exports, NT backend only" WINBACKUP_WINE_DLLDIR="$tmp/nt-only"
else
    skip "conformance suite through winbackup wine (conformance/run-wine.sh or its .exe files not built)"
    skip "conformance suite through winbackup wine, NT backend"
fi

finish
