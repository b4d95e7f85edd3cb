#!/bin/sh
# Runs every conformance test (.exe) under Wine, mode (a): against Wine's own
# DLLs, each test file in its own temporary WINEPREFIX that is removed at the
# end.  Parses Wine's per-test summary lines
#   PID:name:ELAPSED N tests executed (T marked as todo, F as flaky, E failures), S skipped.
# and prints "RESULT: P passed, F failed, S skipped" with P = executed - failures.
# Checks marked todo_wine that fail as expected are not failures, so this
# exits 0 when those are the only problems.
#
# Usage: run-wine.sh [test.exe ...]   (default: $O/conformance/*.exe)
# Tests named in not-in-wine.list (DLLs Wine does not have) are skipped.
# Environment: O (build dir), WINE, WINESERVER; WB_CONFORMANCE_SETUP, when
# set, is a command run with WINEPREFIX set after the prefix is created
# (e.g. to install a replacement DLL for another mode); WB_CONFORMANCE_MODE
# is the label printed next to each test's name.

O=${O:-build}
WINE=${WINE:-wine}
WINESERVER=${WINESERVER:-wineserver}
export WINEDEBUG=-all
# no Mono/Gecko installer dialogs while the prefix is created
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:+$WINEDLLOVERRIDES;}mscoree,mshtml="

if [ $# -eq 0 ]; then
    set -- "$O"/conformance/*.exe
    if [ ! -f "$1" ]; then
        echo "no conformance tests built (they need mingw-w64: configure found no x86_64-w64-mingw32-gcc)"
        echo "RESULT: 0 passed, 0 failed, 1 skipped"
        exit 0
    fi
fi
if ! command -v "$WINE" >/dev/null 2>&1; then
    echo "$WINE not found: the conformance tests need Wine"
    echo "RESULT: 0 passed, 0 failed, $# skipped"
    exit 0
fi

passed=0 failed=0 skipped=0
not_in_wine=$(dirname "$0")/not-in-wine.list
mode_label=${WB_CONFORMANCE_MODE:-"mode a: Wine's own DLLs"}
prefix= log=
cleanup() {
    if [ -n "$prefix" ] && [ -d "$prefix" ]; then
        WINEPREFIX="$prefix" "$WINESERVER" -k >/dev/null 2>&1
        rm -rf "$prefix"
    fi
    [ -n "$log" ] && rm -f "$log" "$log.raw"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log=$(mktemp)

for exe in "$@"; do
    if [ ! -f "$exe" ]; then
        echo "$exe: no such test (build it with make conformance)"
        failed=$((failed + 1))
        continue
    fi
    name=$(basename "$exe" .exe)
    if sed 's/#.*//' "$not_in_wine" 2>/dev/null | grep -qx "[[:space:]]*$name[[:space:]]*"; then
        echo "== $name: skipped, its DLL is not part of Wine (see conformance/not-in-wine.list)"
        skipped=$((skipped + 1))
        continue
    fi
    echo "== $name ($mode_label)"
    prefix=$(mktemp -d /tmp/wb-conformance.XXXXXX)
    export WINEPREFIX="$prefix"
    # the first start creates the prefix (~10 s)
    "$WINE" wineboot -i >/dev/null 2>&1
    if [ -n "$WB_CONFORMANCE_SETUP" ]; then
        sh -c "$WB_CONFORMANCE_SETUP" || { echo "$name: setup failed"; failed=$((failed + 1)); }
    fi
    timeout 600 "$WINE" "$exe" >"$log.raw" 2>&1
    rc=$?
    # the test's C runtime writes CRLF line ends
    tr -d '\r' <"$log.raw" >"$log"
    rm -f "$log.raw"
    "$WINESERVER" -w
    rm -rf "$prefix"
    prefix=
    cat "$log"

    summaries=$(sed -n 's/^[0-9a-f][0-9a-f]*:[A-Za-z0-9_]*:[0-9.]* \([0-9][0-9]*\) tests executed ([0-9][0-9]* marked as todo, [0-9][0-9]* as flaky, \([0-9][0-9]*\) failures*), \([0-9][0-9]*\) skipped\.$/\1 \2 \3/p' "$log")
    file_failures=0
    if [ -z "$summaries" ]; then
        echo "$name: no summary line (exit status $rc); counted as one failure"
        failed=$((failed + 1))
        continue
    fi
    while read -r executed failures skips; do
        passed=$((passed + executed - failures))
        failed=$((failed + failures))
        skipped=$((skipped + skips))
        file_failures=$((file_failures + failures))
    done <<EOT
$summaries
EOT
    # an exit status the summaries do not explain (crash, timeout) is a failure
    if [ "$rc" -ne 0 ] && [ "$file_failures" -eq 0 ]; then
        echo "$name: exit status $rc without a reported failure; counted as one failure"
        failed=$((failed + 1))
    fi
done

echo "RESULT: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
