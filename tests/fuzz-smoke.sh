#!/bin/sh
# Short smoke run of each libFuzzer target (ASan/UBSan); a crash fails the check.
# Usage (from make check): O=build sh tests/fuzz-smoke.sh
O=${O:-build}
seconds=${FUZZ_SMOKE_SECONDS:-20}
srcdir=$(dirname "$0")/..
passed=0 failed=0
for target in "$O"/fuzz/fuzz_decoder "$O"/fuzz/fuzz_encoder "$O"/fuzz/fuzz_metadata "$O"/fuzz/fuzz_fh_config; do
    if [ ! -x "$target" ]; then echo "missing $target"; failed=$((failed + 1)); continue; fi
    corpus=$(mktemp -d)
    # a target with seeds of its own (fuzz/seeds-<name>) starts from them
    seeds="$srcdir/fuzz/seeds-${target##*/fuzz_}"
    [ -d "$seeds" ] || seeds="$srcdir/fuzz/seeds"
    if "$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 -artifact_prefix="$corpus/" "$corpus" "$seeds" >"$corpus.log" 2>&1; then
        echo "ok: $(basename "$target"): $(grep -E 'stat::number_of_executed_units' "$corpus.log" | awk '{print $2}') runs in ${seconds} s, no finding"
        passed=$((passed + 1))
    else
        echo "FAIL: $(basename "$target")"; tail -n 40 "$corpus.log"; for c in "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-*; do [ -f "$c" ] && echo "reproducer (base64): $(base64 -w0 "$c")"; done
        failed=$((failed + 1))
    fi
    rm -rf "$corpus" "$corpus.log"
done
echo "RESULT: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
