#!/bin/sh
# Heavy adversarial runs of File History (`make fh-stress`, not part of
# `make check`): cycles killed with SIGKILL at random points, the target's
# file system shut down under a cycle (XFS godown: every later I/O fails
# with EIO, as when a disk is pulled), files growing, shrinking and being
# rewritten during cycles.  After each disturbance a clean cycle must
# succeed and the target must hold: a catalog that passes integrity_check,
# every row's file at its place, no file in Data/ without its row, an empty
# Staging/, no pending entry, every file's newest version equal to the file
# (for files nobody writes), and no version of a file written during
# cycles that mixes two of its states.
#
# Needs root (loop-mounted XFS), xfsprogs, sqlite3, python3.
# FH_STRESS_KILLS (default 30) and FH_STRESS_SHUTDOWNS (default 5).
# Prints "RESULT: P passed, F failed, S skipped".

top=$(cd "$(dirname "$0")/.." && pwd)
F=${FILEHISTORY:-$top/${O:-build}/filehistory}
KILLS=${FH_STRESS_KILLS:-30}
SHUTDOWNS=${FH_STRESS_SHUTDOWNS:-5}
pass=0 fail=0 skip=0
ok()   { pass=$((pass + 1)); echo "ok: $1"; }
bad()  { fail=$((fail + 1)); echo "FAILED: $1"; }
skp()  { skip=$((skip + 1)); echo "skipped: $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
finish() { echo "RESULT: $pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit $?; }

if [ "$(id -u)" != 0 ] || ! command -v mkfs.xfs >/dev/null || ! command -v xfs_io >/dev/null ||
   ! command -v sqlite3 >/dev/null || ! losetup -f >/dev/null 2>&1; then
    skp "needs root, loop devices, xfsprogs and sqlite3"; finish
fi
W=$(mktemp -d /var/tmp/fhstress.XXXXXX) || exit 1
mounted= writer=
cleanup() {
    [ -n "$writer" ] && kill "$writer" 2>/dev/null
    [ -n "$mounted" ] && { umount "$mounted" 2>/dev/null || umount -l "$mounted"; }
    [ -n "$KEEP" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export HOME=$W/home XDG_CONFIG_HOME=$W/home/.config FILEHISTORY_ENDPOINT=$W/endpoint FILEHISTORY_BATCH_FILES=16
S=$W/src T=$W/disk
mkdir -p "$HOME" "$S" "$T"
truncate -s 16G "$W/disk.img" && mkfs.xfs -q -f "$W/disk.img" && mount -o loop "$W/disk.img" "$T" && mounted=$T
python3 - "$S" <<'EOF'
import os, random, sys
rng = random.Random(10)
for i in range(2000):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 40), "e%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.bin" % i), "wb") as f:
        f.write(rng.randbytes(rng.choice([0, 10, 1000, 5000, 20000, 70000, 300000])))
EOF
"$F" config target "$T" > /dev/null && "$F" config add-folder "$S" > /dev/null
R=$(echo "$T"/FileHistory/*/*)
DB=$R/Configuration/Catalog.sqlite

# The target's invariants after a clean cycle; prints what is wrong.
invariants() {
    problems=
    [ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] || problems="$problems integrity"
    sqlite3 "$DB" "SELECT stored FROM versions" > "$W/rows"
    while IFS= read -r s; do [ -f "$R/$s" ] || { problems="$problems missing:$s"; break; }; done < "$W/rows"
    [ "$(find "$R/Data" -type f | wc -l)" -eq "$(wc -l < "$W/rows")" ] || problems="$problems orphans"
    [ -z "$(ls -A "$R/Staging")" ] || problems="$problems staging"
    [ "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM pending')" -eq 0 ] || problems="$problems pending"
    # newest versions equal the files nobody writes
    sqlite3 -separator ' ' "$DB" "SELECT f.path, v.stored FROM versions v JOIN files f ON f.id = v.file_id
        WHERE v.id = (SELECT MAX(id) FROM versions w WHERE w.file_id = v.file_id) AND f.path NOT LIKE '%busy%'" \
        > "$W/newest"
    n=0
    while IFS= read -r line; do
        p=${line%% Data/*} s=Data/${line#* Data/}
        cmp -s "$p" "$R/$s" || { problems="$problems differs:$p"; break; }
        n=$((n + 1))
    done < "$W/newest"
    [ "$n" -ge 2000 ] || problems="$problems newest:$n"
    echo "$problems"
}

t0=$(date +%s.%N)
"$F" run-cycle > /dev/null 2>&1
t1=$(date +%s.%N)
check "first cycle" test -z "$(invariants)"
# kills land within the time a first cycle takes
span=$(python3 -c "print(max(0.1, ($t1 - $t0) / 3))")

# --- kill -9 at random points
i=0 landed=0
while [ $i -lt "$KILLS" ]; do
    python3 - "$S" "$i" <<'EOF'
import os, random, sys
rng = random.Random(int(sys.argv[2]))
files = [os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs]
for p in rng.sample(files, 500):
    with open(p, "ab") as f:
        f.write(rng.randbytes(rng.randint(1, 30000)))
EOF
    "$F" run-cycle > /dev/null 2>&1 &
    pid=$!
    sleep "$(python3 -c "import random; print(random.random() * $span)")"
    kill -9 $pid 2>/dev/null && landed=$((landed + 1))
    wait $pid 2>/dev/null
    "$F" run-cycle > "$W/clean.out" 2>&1; rc=$?
    out=$(invariants)
    [ $rc -eq 0 ] && [ -z "$out" ] || { bad "after kill -9 #$i: cycle rc $rc, problems:$out $(tail -1 "$W/clean.out")"; }
    i=$((i + 1))
done
check "$KILLS kills ($landed landed during a cycle): every next cycle clean, invariants held" test "$fail" -eq 0

# --- cleanup killed at random points (rows move to pending, files go, pending ends)
i=0 landed=0
while [ $i -lt 6 ]; do
    find "$S" -name 'f*1.bin' | while IFS= read -r p; do printf 'y' >> "$p"; done
    "$F" run-cycle > /dev/null 2>&1
    sqlite3 "$DB" "UPDATE versions SET version_time = version_time - 10 * 86400"
    "$F" cleanup 1 > /dev/null 2>&1 &
    pid=$!
    sleep "$(python3 -c "import random; print(random.random() * 0.15)")"
    kill -9 $pid 2>/dev/null && landed=$((landed + 1))
    wait $pid 2>/dev/null
    "$F" run-cycle > "$W/clean.out" 2>&1; rc=$?
    out=$(invariants)
    [ $rc -eq 0 ] && [ -z "$out" ] || bad "after a killed cleanup #$i: cycle rc $rc, problems:$out"
    i=$((i + 1))
done
check "6 cleanups killed ($landed during the cleanup): the next cycle clean, invariants held" test "$fail" -eq 0

# --- the disk goes away under a cycle (XFS shut down: EIO from then on)
i=0
while [ $i -lt "$SHUTDOWNS" ]; do
    find "$S" -name 'f*.bin' | while IFS= read -r p; do printf 'x' >> "$p"; done
    "$F" run-cycle > "$W/shut.out" 2>&1 &
    pid=$!
    sleep "$(python3 -c "import random; print(random.random() * $span * 0.8)")"
    xfs_io -x -c "shutdown" "$T" 2>/dev/null
    wait $pid; rc=$?
    msg=$(tail -1 "$W/shut.out")
    if [ $rc -ne 0 ]; then
        check "shutdown #$i: the cycle fails with TARGET_ABSENT (rc $rc: $msg)" \
            sh -c "[ $rc -eq 1 ] && grep -q 'TARGET_ABSENT (0x15)' '$W/shut.out'"
        check "shutdown #$i: ... and status says so" sh -c "'$F' status --json | grep -q '\"state\":21,'"
    else
        ok "shutdown #$i: the cycle ended before the shutdown"
    fi
    umount "$T" && mount -o loop "$W/disk.img" "$T"
    "$F" run-cycle > "$W/clean.out" 2>&1; rc=$?
    out=$(invariants)
    check "shutdown #$i: remounted, the next cycle is clean ($out)" sh -c "[ $rc -eq 0 ] && [ -z '$out' ]"
    i=$((i + 1))
done

# --- files written, grown and shrunk during cycles
python3 - "$S/busy.bin" <<'EOF' &
import os, sys, time
size = 8 << 20
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.ftruncate(fd, size)
n = 0
end = time.time() + 20
while time.time() < end:
    n += 1
    b = n.to_bytes(8, "little") * 512
    if n % 50 == 0:
        os.ftruncate(fd, 4096)          # shrink
        os.ftruncate(fd, size)          # and grow back (a hole: zeros)
    os.pwrite(fd, b, 0)
    os.pwrite(fd, b, size - 4096)
    time.sleep(0.001)
EOF
writer=$!
c=0; while kill -0 $writer 2>/dev/null; do "$F" run-cycle > /dev/null 2>&1 || bad "a cycle failed while a file was written"; c=$((c + 1)); done
writer=
"$F" run-cycle > /dev/null 2>&1
sqlite3 "$DB" "SELECT v.stored FROM versions v JOIN files f ON f.id = v.file_id WHERE f.path = '$S/busy.bin'" > "$W/busy"
torn=$(python3 - "$R" < "$W/busy" <<'EOF'
import sys
torn = 0
for line in sys.stdin:
    with open(sys.argv[1] + "/" + line.rstrip("\n"), "rb") as f:
        first = int.from_bytes(f.read(8), "little")
        f.seek((8 << 20) - 4096)
        last = int.from_bytes(f.read(8), "little")
    if not (first == last or first == last + 1):
        torn += 1
print(torn)
EOF
)
check "$c cycles while a file was written, grown and shrunk: $(wc -l < "$W/busy") versions of it, $torn torn" \
    sh -c "[ '$torn' = 0 ] && [ $(wc -l < "$W/busy") -ge 1 ]"
check "invariants at the end ($(invariants))" test -z "$(invariants)"
finish
