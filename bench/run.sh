#!/bin/bash
# Side-by-side benchmarks of libwinbackup, the Wine DLL and the File History
# engine (`make bench`; see bench/README.md).
#
# Debian packages this needs besides the build's own are listed in
# bench/packages and installed at start when missing (as root): gnuplot-nox,
# rsync, restic, borgbackup, time, linux-source, xz-utils, util-linux
# (ionice).
#
# WBBENCH_CASES (default "1 2 3 4 5 6", "nsf" = 6) runs only the cases listed (case 5 needs
# the tree of case 4).  wine64 is optional: the Wine rows are skipped with a note.
#
# Environment: O (build dir, default build), QUICK=1 (small sizes, < 3 min),
# WBBENCH_DIR (work directory on the disk under test, default /var/tmp/wbbench,
# removed at the end), WBBENCH_KEEP=1 (keep it).
#
# Every figure comes from a measurement of this run: each case runs REPS
# times with its variants alternated, the median is kept, and the CSV,
# Markdown table, PNG plots and docs/benchmarks.md are written from it.

set -u
export LC_ALL=C

srcdir=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$srcdir/$O ;; esac
QUICK=${QUICK:-}
W=${WBBENCH_DIR:-/var/tmp/wbbench}
RESULTS=$srcdir/bench/results
[ -n "$QUICK" ] && [ "$QUICK" != 0 ] && RESULTS=$RESULTS/quick
stamp=$(date -u +%Y-%m-%d)-$(hostname -s)
# a run of some cases only (WBBENCH_CASES) is kept beside the day's full run,
# under its own name, and does not replace docs/benchmarks.md
if [ -n "${WBBENCH_CASES:-}" ] && [ "$WBBENCH_CASES" != "1 2 3 4 5 6" ]; then
    stamp=$stamp-$(echo "$WBBENCH_CASES" | tr -s ' ' '-')
    export WBBENCH_PARTIAL=1
fi
CSV=$RESULTS/$stamp.csv
MD=$RESULTS/$stamp.md
NOTES=$W/notes.txt
T_START=$(date +%s)

if [ -n "$QUICK" ] && [ "$QUICK" != 0 ]; then
    QUICK=1
    BIG=$((256 << 20)) NSMALL=2000 REPS=5 REPS_FH=1 REPS_LP=3 FH_SUBSET="fs net kernel mm block crypto" LP_WINDOW=3
else
    QUICK=
    BIG=$((1 << 30)) NSMALL=20000 REPS=5 REPS_FH=3 REPS_LP=5 FH_SUBSET= LP_WINDOW=8
fi
MiB=1048576

THROUGHPUT=$O/bench/throughput
PERFILE=$O/bench/perfile
WEXE=$O/bench/wthroughput.exe
WINBACKUP=$O/winbackup
FILEHISTORY=$O/filehistory

log() { echo "bench: $*" >&2; }
note() { echo "- $*" >> "$NOTES"; log "note: $*"; }
now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# row CASE VARIANT METRIC VALUE UNIT
row() { printf '%s,%s,%s,%s,%s\n' "$1" "$2" "$3" "$4" "$5" >> "$CSV.tmp"; }
# text row (quoted: environment values contain commas)
trow() { printf '%s,%s,%s,"%s",%s\n' "$1" "$2" "$3" "$(echo "$4" | tr -d '"')" text >> "$CSV.tmp"; }
CASES=${WBBENCH_CASES:-1 2 3 4 5 6}
# "nsf" is another name for case 6
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; [ "$1" = 6 ] && case " $CASES " in *" nsf "*) return 0 ;; esac; return 1; }
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }
# quantile P of the numbers on stdin (nearest rank; P = 0.25, 0.5, 0.75)
quantile() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) exit 1; r = int(p * NR + 0.999999); if (r < 1) r = 1; print v[r] }'; }
# ratio_rows CASE VARIANT BASE_FILE TEST_FILE: the ratio of the medians
# (base time / test time: above 1 means the test is faster) and its
# interquartile interval, [q1(base)/q3(test), q3(base)/q1(test)].  plot.sh
# prints "noise" for a goal that lies inside the interval: the runs cannot
# say whether it is met.  The interval rows come first (plot.sh reads them
# before the ratio).
ratio_rows() {
    local b t lo hi
    b=$(median < "$3"); t=$(median < "$4")
    lo=$(calc "$(quantile 0.25 < "$3") / $(quantile 0.75 < "$4")")
    hi=$(calc "$(quantile 0.75 < "$3") / $(quantile 0.25 < "$4")")
    row "$1" "$2" ratio_lo "$lo" x
    row "$1" "$2" ratio_hi "$hi" x
    row "$1" "$2" ratio "$(calc "$b / $t")" x
}
# noisy BASE_FILE TEST_FILE: true when the ratio's interquartile interval is
# wider than a fifth of the ratio (another round of runs is due)
noisy() {
    local b t lo hi
    b=$(median < "$1"); t=$(median < "$2")
    lo=$(calc "$(quantile 0.25 < "$1") / $(quantile 0.75 < "$2")")
    hi=$(calc "$(quantile 0.75 < "$1") / $(quantile 0.25 < "$2")")
    awk -v lo="$lo" -v hi="$hi" -v r="$(calc "$b / $t")" 'BEGIN { exit !((hi - lo) > 0.2 * r) }'
}
MAX_ROUNDS=3    # rounds of REPS runs at most, while the ratios are noisy
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }   # key=value from a driver's output line

# Every published figure comes from a committed tree: a run with uncommitted
# changes is refused, or with WBBENCH_DIRTY=1 kept apart (bench/results/dirty,
# docs/benchmarks.md untouched).
if [ -n "$(git -C "$srcdir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    if [ -z "${WBBENCH_DIRTY:-}" ]; then
        log "the tree has uncommitted changes: commit them first (or WBBENCH_DIRTY=1 for a scratch run kept in bench/results/dirty)"
        exit 1
    fi
    RESULTS=$srcdir/bench/results/dirty
    CSV=$RESULTS/$stamp.csv
    MD=$RESULTS/$stamp.md
fi

for need in "$THROUGHPUT" "$PERFILE" "$WINBACKUP" "$O/bench/nsfbench"; do
    [ -x "$need" ] || { log "$need is not built (make bench builds it)"; exit 1; }
done
# The tools compared against (bench/packages): installed when missing and
# when we may (root), so `make bench QUICK=1` runs on a fresh machine.
missing=$(for p in $(cat "$(dirname "$0")/packages"); do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
    log "installing: $missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
        log "could not install: $missing (the cases that need them are skipped)"
fi
command -v gnuplot >/dev/null || { log "gnuplot is missing: apt-get install gnuplot-nox"; exit 1; }

rm -rf "$W"
mkdir -p "$W" "$RESULTS" || exit 1
# build/ is shared with people who relink it while this runs: use copies
mkdir -p "$W/bin/dlls"
cp "$WINBACKUP" "$W/bin/winbackup" && WINBACKUP=$W/bin/winbackup || exit 1
if [ -x "$FILEHISTORY" ]; then cp "$FILEHISTORY" "$W/bin/filehistory" && FILEHISTORY=$W/bin/filehistory; fi
WINE_DLLDIR=$O/dlls/kernel32
if [ -f "$WINE_DLLDIR/winbackup.dll" ] && [ -f "$WINE_DLLDIR/winbackup.so" ]; then
    cp "$WINE_DLLDIR/winbackup.dll" "$WINE_DLLDIR/winbackup.so" "$W/bin/dlls/" && WINE_DLLDIR=$W/bin/dlls
fi
: > "$NOTES"
: > "$CSV.tmp"
RAW=$W/raw
mkdir -p "$RAW"

cleanup() {
    # services started from our copy of filehistory (case 4, and `filehistory
    # backup` in case 5 starts one when none runs): only ours match this path
    pkill -f "^$W/bin/filehistory daemon" 2>/dev/null && sleep 0.5
    if [ -n "${WINEPFX:-}" ] && [ -d "$WINEPFX" ] && command -v wineserver >/dev/null; then
        WINEPREFIX=$WINEPFX wineserver -k 2>/dev/null
    fi
    [ -n "${WBBENCH_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

# ---------------------------------------------------------------- environment
env_rows() {
    local cpu fs wine_v
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
    fs=$(findmnt -no FSTYPE,SOURCE,OPTIONS -T "$W" 2>/dev/null | head -1)
    dev=$(findmnt -no SOURCE -T "$W" | sed 's|/dev/||; s/[0-9]*$//')
    sched=$(cat /sys/block/"$dev"/queue/scheduler 2>/dev/null || echo unknown)
    wine_v=$(wine --version 2>/dev/null | head -1); wine_v=${wine_v:-none}
    trow environment - cpu "${cpu:-unknown} ($(nproc) cores online)"
    trow environment - memory "$(free -m | awk '/^Mem:/ { print $2 " MiB" }')"
    trow environment - kernel "$(uname -srm)"
    trow environment - filesystem "$W on $fs"
    trow environment - io_scheduler "$dev: $sched"
    trow environment - wine "$wine_v"
    trow environment - compiler "$(${CC:-cc} --version | head -1) -O2 (drivers)"
    trow environment - libwinbackup "$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null)$(git -C "$srcdir" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
    trow environment - tools "$(tar --version | head -1); rsync $(rsync --version 2>/dev/null | awk 'NR==1 {print $3}'); $(restic version 2>/dev/null | cut -d' ' -f1-2); $(borg --version 2>/dev/null)"
    trow environment - mode "$([ -n "$QUICK" ] && echo QUICK || echo full), cases $CASES: big file $((BIG / MiB)) MiB, $NSMALL small files, $REPS runs per case (File History: $REPS_FH, low-priority case: $REPS_LP), median kept"
    trow environment - load "$(cut -d' ' -f1-3 /proc/loadavg) at start (shared machine)"
}
env_rows

# ------------------------------------------------------- case 1: throughput
BIGFILE=$W/big.dat
if want 1 || want 3 || want 5; then
log "case 1: preparing a $((BIG / MiB)) MiB file"
head -c "$BIG" /dev/urandom > "$BIGFILE" || exit 1
sync "$BIGFILE"
fi

# run_rw LABEL CMD...: alternating read/write variants, medians into the CSV
# CMD is the driver with its arguments before the mode (native or Wine).
run_rw() {
    local label=$1 runner=$2 wdir=$3 pathfn=$4 bs v i t f s r
    local readv="read-plain read-backup" writev="write-plain write-backup write-plain-sync"
    [ "$label" = native ] && readv="read-plain read-plain-shifted read-backup"
    for bs in 65536 1048576; do
        local kb=$((bs / 1024))KiB
        [ $bs -ge $MiB ] && kb=$((bs / MiB))MiB
        cat "$BIGFILE" > /dev/null   # warm page cache for the reads
        local round=1 sums
        while :; do
        for i in $(seq "$REPS"); do
            for v in $readv; do
                $runner "$v" $bs "$($pathfn "$BIGFILE")" > "$RAW/out" 2>"$RAW/err" || { cat "$RAW/err" >&2; return 1; }
                field seconds < "$RAW/out" >> "$RAW/$label-$v-$bs"
            done
            for v in $writev; do
                rm -f "$wdir/w.dat"; sync -f "$wdir"
                $runner "$v" $bs "$($pathfn "$wdir/w.dat")" "$BIG" > "$RAW/out" 2>"$RAW/err" || { cat "$RAW/err" >&2; return 1; }
                field seconds < "$RAW/out" >> "$RAW/$label-$v-$bs"
                field finish < "$RAW/out" >> "$RAW/$label-$v-$bs.finish"
            done
        done
        # with the closing flush: loop + finish, per run
        for v in write-plain-sync write-backup; do
            paste -d' ' "$RAW/$label-$v-$bs" "$RAW/$label-$v-$bs.finish" | awk '{ print $1 + $2 }' > "$RAW/$label-$v-$bs.total"
        done
        sums="$RAW/$label-read-plain-$bs $RAW/$label-read-backup-$bs $RAW/$label-write-plain-$bs $RAW/$label-write-backup-$bs"
        sums="$sums $RAW/$label-write-plain-sync-$bs.total $RAW/$label-write-backup-$bs.total"
        set -- $sums
        if [ $round -lt $MAX_ROUNDS ] && { noisy "$1" "$2" || noisy "$3" "$4" || noisy "$5" "$6"; }; then
            round=$((round + 1))
            log "case 1 $label $kb: noisy ratios, round $round"
            continue
        fi
        break
        done
        row "rw-$label" "rounds $kb" count "$round" ""
        rm -f "$wdir/w.dat"
        local rp rb wp wb wpsync wbfin
        rp=$(median < "$RAW/$label-read-plain-$bs")
        rb=$(median < "$RAW/$label-read-backup-$bs")
        wp=$(median < "$RAW/$label-write-plain-$bs")
        wb=$(median < "$RAW/$label-write-backup-$bs")
        wpsync=$(median < "$RAW/$label-write-plain-sync-$bs.total")
        wbfin=$(median < "$RAW/$label-write-backup-$bs.total")
        local f
        for f in "$RAW/$label"-*-$bs; do
            row "rw-$label" "$(basename "$f" | sed "s/^$label-//; s/-$bs\$//") $kb" spread \
                "$(sort -g "$f" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", 100 * (v[NR] - v[1]) / m }')" %
        done
        local plainr=read plainw=write
        [ "$label" = wine ] && plainr=ReadFile plainw=WriteFile
        row "rw-$label" "BackupRead $kb" throughput "$(calc "$BIG / $MiB / $rb")" MiB/s
        row "rw-$label" "$plainr $kb" throughput "$(calc "$BIG / $MiB / $rp")" MiB/s
        ratio_rows "rw-$label" "BackupRead/$plainr $kb" "$RAW/$label-read-plain-$bs" "$RAW/$label-read-backup-$bs"
        if [ -s "$RAW/$label-read-plain-shifted-$bs" ]; then
            local rs
            rs=$(median < "$RAW/$label-read-plain-shifted-$bs")
            row "rw-$label" "read shifted by 20 bytes $kb" throughput "$(calc "$BIG / $MiB / $rs")" MiB/s
            ratio_rows "rw-$label" "BackupRead/read shifted by 20 bytes $kb" "$RAW/$label-read-plain-shifted-$bs" "$RAW/$label-read-backup-$bs"
        fi
        row "rw-$label" "BackupWrite $kb" throughput "$(calc "$BIG / $MiB / $wb")" MiB/s
        row "rw-$label" "$plainw $kb" throughput "$(calc "$BIG / $MiB / $wp")" MiB/s
        ratio_rows "rw-$label" "BackupWrite/$plainw $kb" "$RAW/$label-write-plain-$bs" "$RAW/$label-write-backup-$bs"
        row "rw-$label" "BackupWrite+close $kb" seconds "$wbfin" s
        row "rw-$label" "$plainw+flush $kb" seconds "$wpsync" s
        ratio_rows "rw-$label" "BackupWrite+close/$plainw+flush $kb" "$RAW/$label-write-plain-sync-$bs.total" "$RAW/$label-write-backup-$bs.total"
    done
}
native_run() { "$THROUGHPUT" "$@"; }
ident() { echo "$1"; }

# cli_vs_cat: `winbackup read FILE` against `cat FILE`, both with a warm page
# cache, into /dev/null and into a pipe read by cat (the same consumer for
# both); the physical limit is cat.  Goal (issue 13): at least 1.0x cat.
cli_vs_cat() {
    local v i round=1 t0 t1
    cat "$BIGFILE" > /dev/null
    while :; do
        for i in $(seq "$REPS"); do
            for v in cat-null wb-null cat-pipe wb-pipe; do
                t0=$(now)
                case $v in
                cat-null) cat "$BIGFILE" > /dev/null ;;
                wb-null) "$WINBACKUP" read "$BIGFILE" > /dev/null ;;
                cat-pipe) cat "$BIGFILE" | cat > /dev/null ;;
                wb-pipe) "$WINBACKUP" read "$BIGFILE" | cat > /dev/null ;;
                esac || return 1
                t1=$(now)
                calc "$t1 - $t0" >> "$RAW/cli-$v"; echo >> "$RAW/cli-$v"
            done
        done
        if [ $round -lt $MAX_ROUNDS ] && { noisy "$RAW/cli-cat-null" "$RAW/cli-wb-null" || noisy "$RAW/cli-cat-pipe" "$RAW/cli-wb-pipe"; }; then
            round=$((round + 1)); log "case 1 cli: noisy ratios, round $round"; continue
        fi
        break
    done
    for v in cat-null wb-null cat-pipe wb-pipe; do
        row cli "$v" seconds "$(median < "$RAW/cli-$v")" s
    done
    row cli rounds count "$round" ""
    ratio_rows cli "winbackup read/cat > /dev/null" "$RAW/cli-cat-null" "$RAW/cli-wb-null"
    ratio_rows cli "winbackup read/cat | cat" "$RAW/cli-cat-pipe" "$RAW/cli-wb-pipe"
}

if want 1; then
log "case 1: native, $REPS runs"
run_rw native native_run "$W" ident || note "case 1 native failed"
log "case 1: winbackup read vs cat, $REPS runs"
cli_vs_cat || note "case 1: winbackup read vs cat failed"
note "Case 1, cli: \`winbackup read\` of the $((BIG / MiB)) MiB file (data stream: copy_file_range/sendfile/splice from the page cache, a pipe grown to 1 MiB first) against cat, into /dev/null and into a pipe read by cat; ratio = cat time / winbackup time (at least 1.0: as fast as cat)."
note "Case 1: reads with a warm page cache (the file is read once before each buffer size); writes go to a new file on the same disk without fsync in the timed loop (the file is fsynced untimed after each run). 'BackupWrite+close' adds the closing BackupWrite(abort=TRUE), which in libwinbackup calls fdatasync; it is compared with write(2)+fdatasync. 'read shifted by 20 bytes' is a diagnostic: read(2) whose first call asks for BUFSIZE-20 bytes, which leaves every later read at the file offsets (20 bytes past a page boundary) that BackupRead's 20-byte stream header puts it at."

# Wine
WINEPFX=$W/wineprefix
winpath() { echo "Z:$1" | tr / '\\'; }
wine_run() {
    WINBACKUP_WINEPREFIX=$WINEPFX WINBACKUP_WINE_DLLDIR=$WINE_DLLDIR WINEDEBUG=-all \
        "$WINBACKUP" wine -- "$WEXE" "$@"
}
if [ ! -f "$WEXE" ] || [ ! -f "$WINE_DLLDIR/winbackup.dll" ] || [ ! -f "$WINE_DLLDIR/winbackup.so" ]; then
    note "Case 1 under Wine skipped: wthroughput.exe or the Wine DLL (build/dlls/kernel32) is not built (needs mingw-w64, wine64-tools, libwine-dev)."
elif ! wine_run read-plain 65536 "$(winpath "$BIGFILE")" > "$RAW/wine-probe" 2>&1 || ! grep -q '^bytes=' "$RAW/wine-probe"; then
    note "Case 1 under Wine skipped: \`winbackup wine\` did not run the test program: $(tail -1 "$RAW/wine-probe")"
else
    log "case 1: Wine, $REPS runs"
    run_rw wine wine_run "$W" winpath || note "case 1 under Wine failed"
    note "Case 1 under Wine: a mingw-w64 program calling kernel32 BackupRead/BackupWrite vs ReadFile/WriteFile, run through \`winbackup wine\`; timed inside the program (QueryPerformanceCounter), so Wine's start-up is not counted. 'flush' is FlushFileBuffers."
fi
fi   # case 1

# ------------------------------------------------------- case 2: per-file
if want 2; then
SMALL=$W/small
log "case 2: creating $NSMALL small files with an ADS and an EA"
mkdir -p "$SMALL"
python3 - "$SMALL" "$NSMALL" <<'EOF' || { note "case 2: cannot create files with user xattrs"; }
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(6)
with open(os.path.join(root, "..", "small.list"), "w") as lst:
    for i in range(n):
        d = "d%03d" % (i // 100)
        os.makedirs(os.path.join(root, d), exist_ok=True)
        rel = "%s/f%05d" % (d, i)
        p = os.path.join(root, rel)
        with open(p, "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 16384)))
        # Samba streams_xattr form of a named stream "s" (bytes + one NUL) and an EA
        os.setxattr(p, "user.DosStream.s:$DATA", b"stream %d\0" % i)
        os.setxattr(p, "user.note", b"note %d" % i)
        lst.write(rel + "\n")
EOF
LIST=$W/small.list
if [ -s "$LIST" ]; then
    cd "$SMALL" || exit 1
    xargs cat < "$LIST" > /dev/null   # warm cache
    cli=1
    for i in $(seq "$REPS"); do
        "$PERFILE" "$LIST" "$W/out.wbs" > "$RAW/out" || { note "case 2: perfile failed"; break; }
        field seconds < "$RAW/out" >> "$RAW/pf-driver"
        field bytes < "$RAW/out" > "$RAW/pf-driver-bytes"
        sync "$W/out.wbs"; rm -f "$W/out.wbs"

        t0=$(now)
        tar --xattrs -cf "$W/out.tar" -T "$LIST" 2>"$RAW/err" || { cat "$RAW/err" >&2; note "case 2: tar failed"; break; }
        t1=$(now)
        calc "$t1 - $t0" >> "$RAW/pf-tar"; echo >> "$RAW/pf-tar"
        stat -c %s "$W/out.tar" > "$RAW/pf-tar-bytes"
        sync "$W/out.tar"; rm -f "$W/out.tar"

        [ -n "$cli" ] || continue
        t0=$(now)
        if xargs -d '\n' -n 1 "$WINBACKUP" read < "$LIST" > "$W/out.cli"; then
            t1=$(now)
            calc "$t1 - $t0" >> "$RAW/pf-cli"; echo >> "$RAW/pf-cli"
        else
            note "case 2: winbackup read per file failed; CLI rows left out"; cli=; rm -f "$RAW/pf-cli"
        fi
        sync "$W/out.cli"; rm -f "$W/out.cli"
    done
    cd "$W" || exit 1
    if [ -s "$RAW/pf-tar" ] && [ -s "$RAW/pf-driver" ]; then
        d=$(median < "$RAW/pf-driver"); t=$(median < "$RAW/pf-tar")
        row perfile "wb_backup_path loop" files_per_s "$(calc "$NSMALL / $d")" files/s
        row perfile "tar --xattrs -cf" files_per_s "$(calc "$NSMALL / $t")" files/s
        row perfile "wb_backup_path loop/tar" ratio "$(calc "$t / $d")" x
        if [ -s "$RAW/pf-cli" ]; then
            c=$(median < "$RAW/pf-cli")
            row perfile "winbackup read per file (CLI + fork)" files_per_s "$(calc "$NSMALL / $c")" files/s
            row perfile "CLI per file/tar" ratio "$(calc "$t / $c")" x
        fi
        row perfile "wb_backup_path loop" output_bytes "$(cat "$RAW/pf-driver-bytes")" bytes
        row perfile "tar --xattrs -cf" output_bytes "$(cat "$RAW/pf-tar-bytes")" bytes
        note "Case 2: $NSMALL files of 1-16 KiB, each with user.DosStream.s:\$DATA and user.note, warm cache; output to a file on the same disk (fsynced untimed). Ratio = tar time / winbackup time (above 1: winbackup faster). The CLI row forks one \`winbackup read\` per file (xargs -n 1)."
    fi
fi
rm -rf "$SMALL" "$LIST"
fi   # case 2

# ------------------------------------------------------- case 3: sparse
if want 3; then
log "case 3: 16 GiB sparse file with 64 x 1 MiB of data"
SPARSE=$W/sparse.dat DENSE=$W/dense.dat
truncate -s 16G "$SPARSE"
for i in $(seq 0 63); do
    dd if="$BIGFILE" of="$SPARSE" bs=1M skip=$((i % (BIG / MiB))) seek=$((i * 256)) count=1 conv=notrunc status=none
done
# the dense twin holds the same 64 ranges, written the same way (1 MiB
# writes), so both files have the same page cache layout
for i in $(seq 0 63); do
    dd if="$BIGFILE" of="$DENSE" bs=1M skip=$((i % (BIG / MiB))) seek=$i count=1 conv=notrunc status=none
done
sync "$SPARSE" "$DENSE"
cat "$DENSE" > /dev/null
"$THROUGHPUT" read-backup $MiB "$SPARSE" > /dev/null   # warm the data ranges
for i in $(seq "$REPS"); do
    "$THROUGHPUT" read-backup $MiB "$SPARSE" > "$RAW/out" || { note "case 3: BackupRead failed"; break; }
    field seconds < "$RAW/out" >> "$RAW/sp-backup"
    field rchar < "$RAW/out" > "$RAW/sp-rchar"
    field bytes < "$RAW/out" > "$RAW/sp-bytes"
    "$THROUGHPUT" read-plain $MiB "$DENSE" > "$RAW/out" || break
    field seconds < "$RAW/out" >> "$RAW/sp-plain"
done
if [ -s "$RAW/sp-plain" ]; then
    b=$(median < "$RAW/sp-backup"); p=$(median < "$RAW/sp-plain")
    row sparse "BackupRead 16 GiB sparse (1 MiB buffer)" seconds "$b" s
    row sparse "read 64 MiB dense (1 MiB buffer)" seconds "$p" s
    row sparse "BackupRead sparse/read dense" ratio "$(calc "$b / $p")" x
    row sparse "BackupRead 16 GiB sparse" bytes_read_syscalls "$(cat "$RAW/sp-rchar")" bytes
    row sparse "BackupRead 16 GiB sparse" stream_bytes "$(cat "$RAW/sp-bytes")" bytes
    note "Case 3: ratio = BackupRead time / plain read time (goal: at most 2). bytes_read_syscalls is rchar from /proc/self/io of the BackupRead process: $((64 * MiB)) means no hole was read."
fi
rm -f "$SPARSE" "$DENSE"
fi   # case 3

# ------------------------------------------------------- case 4: File History
TREE=
if want 4 || want 5; then
TARBALL=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
TREE=
if [ -z "$TARBALL" ]; then
    note "Case 4 and 5 skipped: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source)"
else
    log "case 4: extracting $(basename "$TARBALL")${QUICK:+ (subset: $FH_SUBSET)}"
    top=$(basename "$TARBALL" .tar.xz)
    mkdir -p "$W/tree"
    members=
    for d in $FH_SUBSET; do members="$members $top/$d"; done
    tar -xJf "$TARBALL" -C "$W/tree" $members || note "case 4: extraction failed"
    TREE=$W/tree/$top
    NFILES=$(find "$TREE" -type f | wc -l)
    TREEBYTES=$(du -sb "$TREE" | cut -f1)
    row filehistory tree files "$NFILES" files
    row filehistory tree size "$TREEBYTES" bytes
    find "$TREE" -type f | sort | awk -v n="$NFILES" 'NR % int(n / 100) == 0 && c < 100 { print; c++ }' > "$W/touch.list"
fi
fi   # the tree of cases 4 and 5

# /usr/bin/time -v into $RAW/time; prints "wall rss"
timed() {
    /usr/bin/time -v -o "$RAW/time" "$@" > "$RAW/cmd.out" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || { log "$* failed ($rc):"; tail -5 "$RAW/cmd.out" >&2; }
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
                /Maximum resident set size/ { r = $2 } END { print w, r }' "$RAW/time"
    return $rc
}
touch100() { while read -r f; do echo "/* bench $1 */" >> "$f"; done < "$W/touch.list"; }
warm_tree() { tar -cf - "$TREE" 2>/dev/null | cat > /dev/null; }

export RESTIC_PASSWORD=wbbench RESTIC_CACHE_DIR=$W/restic-cache
export BORG_BASE_DIR=$W/borg-base BORG_PASSPHRASE= BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes

fh_env() { env HOME=$W/fh-home XDG_CONFIG_HOME=$W/fh-home/.config XDG_RUNTIME_DIR=$W/fh-home/run "$@"; }
# The service variant: `filehistory daemon` keeps an inotify journal of the
# tree, so its cycles after the first look only at what changed.  The work
# is done by the service (a cycle runs in a process it forks), not by the
# `backup --wait` client the timing wraps: its peak memory is the service's
# own VmHWM plus the cycle's, which the service logs when the cycle ends
# ("peak RSS N KiB", from wait4) -- pages the two share are counted twice.
FHSVC_PID=
fh_service_stop() { [ -n "$FHSVC_PID" ] && kill "$FHSVC_PID" 2>/dev/null && wait "$FHSVC_PID" 2>/dev/null; FHSVC_PID=; }
fh_service_start() {
    fh_env "$FILEHISTORY" daemon > "$RAW/fh-daemon.log" 2>&1 &
    FHSVC_PID=$!
    local i=0
    while [ ! -s "$W/fh-home/run/filehistory/endpoint" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$W/fh-home/run/filehistory/endpoint" ]
}
fh_service_rss() {
    local cycle daemon
    cycle=$(sed -n 's/.*cycle finished:.* peak RSS \([0-9]*\) KiB.*/\1/p' "$RAW/fh-daemon.log" | tail -1)
    daemon=$(awk '/^VmHWM:/ { print $2 }' /proc/"$FHSVC_PID"/status 2>/dev/null)
    echo $(( ${cycle:-0} + ${daemon:-0} ))
}
# Durable figures: the step's data made durable inside the timed step, as
# filehistory makes its own (syncfs of the target's file system: and-sync
# runs the command, then `sync -f TARGET`); every tool gets it, filehistory
# included, so both sides pay the same.  Non-durable figures: the command
# alone (filehistory still syncs its own data; the others leave theirs in the
# page cache).  Before every timed step an untimed sync flushes what the
# previous one left dirty.
printf '#!/bin/sh\ntarget=$1; shift\n"$@" || exit $?\nexec sync -f "$target"\n' > "$W/bin/and-sync"
chmod 755 "$W/bin/and-sync"
# tool_setup TOOL TARGET; tool_cycle TOOL TARGET N DURABLE
tool_setup() {
    fh_service_stop
    rm -rf "$2" "$W/fh-home" "$W/restic-cache" "$W/borg-base"
    case $1 in
    filehistory|fhservice)
        mkdir -p "$2" "$W/fh-home/run" &&
        fh_env "$FILEHISTORY" config target "$2" > /dev/null &&
        fh_env "$FILEHISTORY" config add-folder "$TREE" > /dev/null &&
        { [ $1 = filehistory ] || fh_service_start; } ;;
    cp|rsync) mkdir -p "$2" ;;
    restic) restic init -q -r "$2" > /dev/null ;;
    borg) borg init -e none "$2" ;;
    esac
}
tool_cycle() {
    local sync=
    [ "$4" = 1 ] && sync="$W/bin/and-sync $2"
    sync -f "$2" 2>/dev/null || sync   # untimed: what earlier steps left dirty
    case $1 in
    filehistory) sleep 1; timed $sync env HOME=$W/fh-home XDG_CONFIG_HOME=$W/fh-home/.config XDG_RUNTIME_DIR=$W/fh-home/run "$FILEHISTORY" run-cycle ;;
    fhservice)
        sleep 1
        local r
        r=$(timed $sync env HOME=$W/fh-home XDG_CONFIG_HOME=$W/fh-home/.config XDG_RUNTIME_DIR=$W/fh-home/run "$FILEHISTORY" backup --wait) || return 1
        echo "${r% *} $(fh_service_rss)" ;;
    # cp -a: the physical limit of copying the bytes with their metadata
    # (-a keeps mode, owner, times, links, xattrs and ACLs); a new copy each step
    cp) rm -rf "$2/tree"; timed $sync cp -a "$TREE" "$2/tree" ;;
    rsync) timed $sync rsync -a -A -X "$TREE/" "$2/" ;;
    restic) timed $sync restic backup -q -r "$2" "$TREE" ;;
    borg) timed $sync borg create "$2::c$3" "$TREE" ;;
    esac
}

TOOLS="filehistory fhservice cp rsync restic borg"
if [ -n "$TREE" ] && [ ! -x "$FILEHISTORY" ]; then
    note "Case 4: File History engine rows skipped: $FILEHISTORY is not built."
    TOOLS="cp rsync restic borg"
fi
want 4 || TOOLS=   # case 5 alone needs the tree, not these runs
# case names: fh-<step> with the data made durable, fh-<step>-nosync without
vcase() { [ "$2" = 1 ] && echo "fh-$1" || echo "fh-$1-nosync"; }
# Runs are interleaved: run i of every tool, then run i+1 of every tool, so
# a slow spell of the disk (this VM's ext4 with online discard creates files
# 3-10x slower for minutes after a large delete) falls on all tools alike
# instead of on whichever tool's runs it happened to meet.  Each tool's run
# starts by deleting its own previous target, so every tool meets that too.
runnable=
for tool in $TOOLS; do
    [ -n "$TREE" ] || break
    case $tool in filehistory|fhservice|cp) ;; *) command -v ${tool%% *} >/dev/null || { note "Case 4: $tool skipped (not installed)"; continue; } ;; esac
    runnable="$runnable $tool"
done
failed_tools=
for i in $(seq "$REPS_FH"); do
    for tool in $runnable; do
        case " $failed_tools " in *" $tool "*) continue ;; esac
        log "case 4: $tool, run $i of $REPS_FH, durable and not"
        tgt=$W/target-$tool
        for durable in 1 0; do
            warm_tree
            tool_setup $tool "$tgt" || { failed_tools="$failed_tools $tool"; note "Case 4: $tool setup failed"; break; }
            step=0
            for s in first nochange touch100; do
                [ $s = touch100 ] && touch100 "$tool $i $durable"
                step=$((step + 1))
                r=$(tool_cycle $tool "$tgt" "$i$durable$step" $durable) || { failed_tools="$failed_tools $tool"; note "Case 4: $tool $s failed"; break 2; }
                c=$(vcase $s $durable)
                echo "${r% *}" >> "$RAW/$c-$tool-wall"
                echo "${r#* }" >> "$RAW/$c-$tool-rss"
                du -sb "$tgt" | cut -f1 >> "$RAW/$c-$tool-size"
            done
            fh_service_stop
        done
        fh_service_stop
    done
done
for tool in $runnable; do
    rm -rf "$W/target-$tool"
    case " $failed_tools " in *" $tool "*) rm -f "$RAW"/fh-*-$tool-*; continue ;; esac
    label=$tool
    [ $tool = filehistory ] && label="filehistory run-cycle"
    [ $tool = fhservice ] && label="filehistory service (journal)"
    [ $tool = cp ] && label="cp -a"
    [ $tool = borg ] && label="borg create"
    [ $tool = restic ] && label="restic backup"
    [ $tool = rsync ] && label="rsync -a -A -X"
    for s in first nochange touch100; do
        for durable in 1 0; do
            c=$(vcase $s $durable)
            row "$c" "$label" wall "$(median < "$RAW/$c-$tool-wall")" s
            row "$c" "$label" peak_rss "$(median < "$RAW/$c-$tool-rss")" KiB
            row "$c" "$label" target_size "$(median < "$RAW/$c-$tool-size")" bytes
        done
    done
done
if [ -n "$TREE" ] && want 4; then
    for s in first nochange touch100; do
        for durable in 1 0; do
            c=$(vcase $s $durable)
            for fh in filehistory fhservice; do
                f=$RAW/$c-$fh-wall
                [ -s "$f" ] || continue
                name=$fh; [ $fh = fhservice ] && name="filehistory service"
                for t in cp rsync restic borg; do
                    [ -s "$RAW/$c-$t-wall" ] || continue
                    tname=$t; [ $t = cp ] && tname="cp -a"
                    row "$c" "$name/$tname" wall_ratio "$(calc "$(median < "$f") / $(median < "$RAW/$c-$t-wall")")" x
                done
            done
        done
    done
    note "Case 4: tree = Debian's $(basename "${TARBALL:-none}") ${QUICK:+(subset: $FH_SUBSET) }with a warm page cache ($NFILES files, $TREEBYTES bytes: the 'tree' rows), targets on the same disk; steps: first backup into an empty target, a cycle with no change, a cycle after appending a line to 100 files. Cases fh-<step>: the step's data made durable inside the timed step (every tool, filehistory included, is followed by sync -f of the target's file system); fh-<step>-nosync: the command alone (filehistory syncs its own data either way; the others leave theirs in the page cache); an untimed sync comes before every timed step. cp -a is the limit anchor: the bytes and their metadata copied, nothing else (a fresh copy each step). filehistory run-cycle is one foreground cycle with a full scan (no journal); filehistory service is the per-user service (inotify journal) driven by filehistory backup --wait, whose first cycle scans fully; its peak RSS is the service's VmHWM plus its cycle process's (logged by the service from wait4), shared pages counted twice. Wall time and peak RSS from /usr/bin/time -v (of the command and its children), target size from du -sb after the step. rsync runs with -A -X because filehistory keeps ACLs (in the security descriptor) and xattrs. restic 0.14 always encrypts (RESTIC_PASSWORD=wbbench); borg repos use -e none (default lz4 compression); rsync and cp keep one copy, no versions. wall_ratio = File History time / the other tool's time (below 1: File History faster)."
fi

# ------------------------------------------------------- case 5: low-priority I/O
if want 5 && [ -n "$TREE" ] && [ -x "$FILEHISTORY" ]; then
    log "case 5: competing direct-I/O reader with a File History cycle normal / low priority"
    # drop the tree's pages (only these files) so the cycle reads the disk
    drop_tree() {
        python3 - "$TREE" <<'EOF'
import os, sys
for d, _, files in os.walk(sys.argv[1]):
    for n in files:
        try:
            fd = os.open(os.path.join(d, n), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        except OSError:
            pass
EOF
    }
    # the competitor: dd of the big file with O_DIRECT, again and again for
    # LP_WINDOW seconds; prints its throughput in bytes/s
    competitor() {
        local end=$(($(date +%s) + LP_WINDOW))
        while [ "$(date +%s)" -lt $end ]; do
            dd if="$BIGFILE" of=/dev/null bs=1M iflag=direct 2>&1 | awk '/bytes/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $1, $(i - 1) }'
        done | awk '{ b += $1; s += $2 } END { printf "%.0f\n", b / s }'
    }
    cycles() {   # $1: prefix command; first backups back to back until $W/stop exists
        while [ ! -e "$W/stop" ]; do
            rm -rf "$W/target-lp" "$W/fh-home"
            mkdir -p "$W/target-lp" "$W/fh-home/run"
            fh_env "$FILEHISTORY" config target "$W/target-lp" > /dev/null
            fh_env "$FILEHISTORY" config add-folder "$TREE" > /dev/null
            drop_tree
            fh_env $1 "$FILEHISTORY" run-cycle > /dev/null 2>&1 &
            echo $! > "$W/cycle.pid"
            wait $!
        done
    }
    # contended: the reader starts once a cycle is under way; the loop ends
    # after the cycle it is in (waited for, so nothing is left running)
    contended() {
        rm -f "$W/stop"
        cycles "$1" & local cpid=$!
        sleep 1; competitor
        touch "$W/stop"
        kill "$(cat "$W/cycle.pid")" 2>/dev/null   # the run-cycle started above
        wait $cpid; sync -f "$W"
    }
    for i in $(seq "$REPS_LP"); do
        competitor >> "$RAW/lp-solo"
        contended "" >> "$RAW/lp-normal"
        contended "ionice -c3 nice -n19" >> "$RAW/lp-low"
    done
    rm -rf "$W/target-lp"
    solo=$(median < "$RAW/lp-solo"); nrm=$(median < "$RAW/lp-normal"); low=$(median < "$RAW/lp-low")
    row lowprio "dd O_DIRECT reader alone" throughput "$(calc "$solo / $MiB")" MiB/s
    row lowprio "reader with cycle (normal)" throughput "$(calc "$nrm / $MiB")" MiB/s
    row lowprio "reader with cycle (ionice -c3 nice -n19)" throughput "$(calc "$low / $MiB")" MiB/s
    row lowprio "reader share (cycle normal)" ratio "$(calc "$nrm / $solo")" x
    row lowprio "reader share (cycle low priority)" ratio "$(calc "$low / $solo")" x
    note "Case 5: competitor = dd of the $((BIG / MiB)) MiB file with O_DIRECT (1 MiB blocks), repeated for ${LP_WINDOW} s, while first-backup cycles of the tree run back to back (the tree's pages dropped with POSIX_FADV_DONTNEED before each, so the cycle reads the disk). Low priority = \`ionice -c3 nice -n19 filehistory run-cycle\`, what the service does for \`backup --low-priority\` (idle I/O class + nice 19 on the cycle process). The I/O scheduler is the one in the environment rows; it was not changed. Buffered writes of the cycle are flushed by kernel writeback threads, which the idle class does not cover."
else
    want 5 && note "Case 5 skipped: needs the linux-source tree and build/filehistory."
fi

# ------------------------------------------------------- case 6: NSFBackup online backup
if want 6; then
. "$srcdir/bench/nsf-case.sh"
fi

# ------------------------------------------------------- outputs
T_END=$(date +%s)
row run total duration "$((T_END - T_START))" s
{ echo "case,variant,metric,value,unit"; cat "$CSV.tmp"; } > "$CSV"
rm -f "$CSV.tmp"
cp "$NOTES" "$RESULTS/$stamp.notes"
echo "- Spread rows: (slowest - fastest) / median of the timed loop over the runs of a variant, in percent." >> "$RESULTS/$stamp.notes"
sh "$srcdir/bench/plot.sh" "$CSV" "$RESULTS/$stamp.notes" || log "plotting failed"
log "done in $((T_END - T_START)) s: $CSV"
