#!/bin/sh
# Runs every unit-test program and every check script, then prints one
# summary line "total: P passed, F failed, S skipped" and exits non-zero when
# anything failed.
#
# Unit-test programs are cmocka programs: their "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines are counted.  A check script prints, as its
# last "RESULT:" line, "RESULT: P passed, F failed, S skipped".
passed=0 failed=0 skipped=0 broken=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count_line() {   # $1 = line "P passed, F failed, S skipped"
    p=$(echo "$1" | sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p')
    f=$(echo "$1" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
    s=$(echo "$1" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}

mode=tests
for arg in "$@"; do
    if [ "$arg" = "--" ]; then mode=scripts; continue; fi
    if [ "$mode" = tests ]; then
        echo "== $arg"
        "$arg" >"$log" 2>&1; rc=$?
        cat "$log"
        p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\./\1/p' "$log" | tail -n 1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
        s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
        passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
        if [ $rc -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); broken="$broken $arg"; fi
    else
        echo "== $arg"
        sh "$arg" >"$log" 2>&1; rc=$?
        cat "$log"
        line=$(grep '^RESULT:' "$log" | tail -n 1)
        if [ -n "$line" ]; then count_line " ${line#RESULT:}"; fi
        if [ $rc -ne 0 ] && { [ -z "$line" ] || echo "$line" | grep -q ' 0 failed'; }; then
            failed=$((failed + 1)); broken="$broken $arg"
        fi
    fi
done
[ -n "$broken" ] && echo "crashed or failed without a count:$broken"
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
