#!/bin/sh
# Adversarial checks of the File History service, CLI and target, as users
# run them: an ordinary user (uid 61001, through setpriv when we are root)
# without a desktop session (no XDG_RUNTIME_DIR), another local user
# (uid 61002) attacking it, and real file systems on loop devices (XFS with
# reflink, unmounted under a running configuration).  Issue 10 and the File
# History items of issue 12.
#
# Needs root for the second user and the mounts; without root those checks
# are reported as skipped.  Prints "RESULT: P passed, F failed, S skipped".

top=$(cd "$(dirname "$0")/.." && pwd)
F=${FILEHISTORY:-}
for cand in "$PWD/${O:-build}/filehistory" "$top/${O:-build}/filehistory" "$top/build/filehistory"; do
    [ -z "$F" ] && [ -x "$cand" ] && F=$cand
done
pass=0 fail=0 skip=0
ok()   { pass=$((pass + 1)); echo "ok: $1"; }
bad()  { fail=$((fail + 1)); echo "FAILED: $1"; }
skp()  { skip=$((skip + 1)); echo "skipped: $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
finish() {
    echo "RESULT: $pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
    exit $?
}
if [ -z "$F" ] || ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
    skp "filehistory, python3 or sqlite3 missing"; finish
fi

W=$(mktemp -d /var/tmp/fhadv.XXXXXX) || exit 1
chmod 755 "$W"
daemon_pid="" mounts="" loops="" bg_pids=""
cleanup() {
    for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && sleep 0.2
    for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    [ -n "$KEEP" ] && return; rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A private copy of the binary: the build directory may be rebuilt meanwhile
# and must be reachable by the unprivileged users.
cp "$F" "$W/filehistory" && chmod 755 "$W/filehistory" && F=$W/filehistory

ROOT=
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && ROOT=1
OWNER_UID=61001 OTHER_UID=61002
[ -n "$ROOT" ] || OWNER_UID=$(id -u)
H=$W/home
mkdir -p "$H" "$W/other"
# The owner's environment: a home, no XDG_RUNTIME_DIR (no desktop session).
# Commands run in the background are started as "$OWNER_RUN $OWNER_ENV cmd &"
# (setpriv and env exec the command: $! is its pid, which cleanup kills).
OWNER_RUN= OTHER_RUN=
if [ -n "$ROOT" ]; then
    OWNER_RUN="setpriv --reuid=$OWNER_UID --regid=$OWNER_UID --clear-groups"
    OTHER_RUN="setpriv --reuid=$OTHER_UID --regid=$OTHER_UID --clear-groups"
fi
OWNER_ENV="env -u XDG_RUNTIME_DIR -u XDG_CONFIG_HOME -u XDG_STATE_HOME HOME=$H"
as_owner() { $OWNER_RUN $OWNER_ENV FILEHISTORY_ENDPOINT="${EP:-}" "$@"; }
as_other() { $OTHER_RUN env HOME="$W/other" "$@"; }
owner_status_has() { as_owner "$F" status --json 2>/dev/null | grep -q "$1"; }
give() { [ -n "$ROOT" ] && chown -R "$1" "$2"; return 0; }

D=$H/Documents T=$W/target
mkdir -p "$D/sub" "$T"
printf 'report\n' > "$D/report.txt"
printf 'deep\n' > "$D/sub/deep.txt"
give $OWNER_UID:$OWNER_UID "$H"
give $OWNER_UID:$OWNER_UID "$T"
give $OTHER_UID:$OTHER_UID "$W/other"

as_owner "$F" config target "$T" && as_owner "$F" config add-folder "$D"
check "the owner configures a target" test $? -eq 0
R=$(echo "$T"/FileHistory/*/*)
DB=$R/Configuration/Catalog.sqlite
LOG=$H/.local/state/filehistory/filehistory.log

# ------------------------------------------------ the service and other users
EP=$W/run/endpoint
mkdir -p "$W/run" && chmod 700 "$W/run" && give $OWNER_UID:$OWNER_UID "$W/run"
start_daemon() {
    $OWNER_RUN $OWNER_ENV FILEHISTORY_ENDPOINT="$EP" "$F" daemon > "$W/daemon.out" 2>&1 &
    daemon_pid=$!
    i=0; while [ ! -s "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
start_daemon
check "the owner's service starts" test -s "$EP"

# 10.2: another uid fills the client slots with idle connections
if [ -n "$ROOT" ]; then
    port=$(cut -d' ' -f1 "$EP")
    $OTHER_RUN env HOME="$W/other" python3 - "$port" > "$W/flood.out" 2>&1 <<'PYEOF' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(80):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError as e:
        print("connect", i, e)
print("opened", len(socks), flush=True)
time.sleep(1.5)
closed = 0
for s in socks:
    s.settimeout(0.01)
    try:
        if s.recv(64) in (b"", b"ERR 80070005\n"):
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print("closed_by_service", closed, flush=True)
time.sleep(6)
PYEOF
    flood=$!
    bg_pids="$bg_pids $flood"
    i=0; while ! grep -q opened "$W/flood.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    out=$(as_owner "$F" status 2>&1)
    check "another user's 80 idle connections do not lock the owner out of status" \
        sh -c "echo '$out' | grep -q 'service: running'"
    as_owner "$F" backup --wait > "$W/b1.out" 2>&1; rc=$?
    check "... nor out of backup --wait (rc $rc: $(tail -1 "$W/b1.out"))" test $rc -eq 0
    i=0; while ! grep -q closed_by_service "$W/flood.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    n=$(sed -n 's/^closed_by_service //p' "$W/flood.out")
    check "the service closes another uid's connections before HELLO (${n:-0} of 80)" test "${n:-0}" -eq 80
    kill -9 $flood 2>/dev/null; wait $flood 2>/dev/null
else
    skp "another local user: needs root for setpriv"
fi

# 10.2: a connection of the owner's uid that never says HELLO times out
as_owner python3 - "$(cut -d' ' -f1 "$EP")" > "$W/silent.out" 2>&1 <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
t = time.time()
try:
    data = s.recv(64)
except socket.timeout:
    data = None
print("silent", "closed" if data is not None else "open", round(time.time() - t))
PYEOF
check "a silent connection is closed by the service after its HELLO time-out ($(cat "$W/silent.out"))" \
    grep -Eq '^silent closed [2-8]$' "$W/silent.out"

# F06: the service dies (kill -9: its endpoint file stays behind) and another
# user binds its port.  The owner's CLI must neither hand it the secret nor
# believe it: it takes the impostor for no service, starts its own, and gets
# real answers.  The impostor answers as the old protocol did ("OK 00000000")
# and offers a CHALLENGE with a made-up proof.
if [ -n "$ROOT" ]; then
    # a service none of the checks above connected to: no connection of its
    # own lingers on its port (FIN_WAIT would keep the port from being bound)
    kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null
    start_daemon
    old=$(cat "$EP")
    kill -9 "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=
    $OTHER_RUN env HOME="$W/other" python3 - "${old%% *}" "$W/other/imp.log" > "$W/imp.out" 2>&1 <<'PYEOF' &
import socket, sys, threading, time
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for i in range(100):
    try:
        s.bind(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.05)
else:
    print("cannot bind", port, flush=True); sys.exit(1)
s.listen(16); print("listening", flush=True)
def serve(c):
    f = c.makefile("rb")
    with open(log, "ab") as out:
        for n, line in enumerate(iter(f.readline, b"")):
            out.write(line); out.flush()
            c.sendall(b"CHALLENGE " + b"1" * 32 + b" " + b"2" * 64 + b"\n" if n == 0 and line.startswith(b"HELLO") else b"OK 00000000\n")
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
    imp=$!
    bg_pids="$bg_pids $imp"
    i=0; while ! grep -q listening "$W/imp.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    check "another user holds the dead service's port (${old%% *})" grep -q listening "$W/imp.out"
    # bounded: a client that believed the impostor would wait for its cycle forever
    out=$(as_owner timeout 60 "$F" status 2>&1)
    check "status takes the impostor for no service ($(echo "$out" | tail -1))" \
        sh -c "echo '$out' | grep -q 'service: not running'"
    as_owner timeout 120 "$F" backup --wait > "$W/f06.out" 2>&1; rc=$?
    new=$(cat "$EP" 2>/dev/null)
    out=$(as_owner "$F" status 2>&1)
    check "backup starts the owner's own service on a new port and gets real answers (rc $rc, port ${old%% *} -> ${new%% *})" \
        sh -c "[ $rc -eq 0 ] && echo '$out' | grep -q 'service: running' && [ '${new%% *}' != '${old%% *}' ]"
    check "the impostor was sent neither the secret nor anything after its made-up proof" \
        sh -c "! grep -q '${old#* }' '$W/other/imp.log' && ! grep -qv '^HELLO [0-9a-f]\{32\} 2\$' '$W/other/imp.log'"
    check "the impostor heard a HELLO (the client did try it)" grep -q '^HELLO ' "$W/other/imp.log"
    kill -9 $imp 2>/dev/null; wait $imp 2>/dev/null
    # the restarted service (detached)
    pkill -u $OWNER_UID -f "^filehistory daemon --detach" 2>/dev/null
    sleep 0.3
    start_daemon
else
    skp "a stale endpoint's port taken by another user: needs root for setpriv"
fi

# 10.10: status --json reports a running cycle's progress.  The cycle stops
# itself (SIGSTOP) after its 3rd copy: FILEHISTORY_TEST_STOP_AFTER, tests only.
kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null
i=0; while [ $i -lt 40 ]; do printf 'bulk %d\n' $i > "$D/bulk$i.txt"; i=$((i + 1)); done
give $OWNER_UID:$OWNER_UID "$D"
EP=$W/run/endpoint
$OWNER_RUN $OWNER_ENV FILEHISTORY_ENDPOINT="$EP" FILEHISTORY_TEST_STOP_AFTER=3 "$F" daemon > "$W/daemon.out" 2>&1 &
daemon_pid=$!
i=0; while [ ! -s "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
as_owner "$F" backup > /dev/null 2>&1
i=0; while [ $i -lt 100 ]; do
    as_owner "$F" status --json > "$W/status.json" 2>&1
    grep -q '"files_done":3' "$W/status.json" && break
    sleep 0.05; i=$((i + 1))
done
check "status --json: the running cycle's progress ($(cat "$W/status.json"))" \
    python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
p = s["progress"]
assert s["running"] is True
assert p["files_done"] == 3 and p["files_total"] >= 42, p
assert p["bytes_total"] > 0 and 0 < p["bytes_done"] <= p["bytes_total"], p
assert p["current_file"].startswith(sys.argv[2]), p
assert "rate_bytes_per_s" in p and "eta_seconds" in p, p
' "$W/status.json" "$D"
as_owner "$F" stop
check "stop ends the stopped cycle" owner_status_has '"running":false' 
# F14: File History turned off while a cycle runs: the cycle stops and the
# state is FH_STATE_OFF alone (QueryProtectionStatus: OFF "cannot be ORed
# with FH_STATE_RUNNING")
i=0; while [ $i -lt 40 ]; do printf 'again %d\n' $i >> "$D/bulk$i.txt"; i=$((i + 1)); done
as_owner "$F" config enable > /dev/null 2>&1
as_owner "$F" backup > /dev/null 2>&1
i=0; while [ $i -lt 100 ] && ! owner_status_has '"files_done":3'; do sleep 0.05; i=$((i + 1)); done
check "a cycle runs (stopped after 3 copies) before File History is turned off" owner_status_has '"running":true'
as_owner "$F" config disable > /dev/null 2>&1
as_owner "$F" status --json > "$W/off.json" 2>&1
check "turned off during a cycle: state OFF (1) alone, the cycle ended ($(cat "$W/off.json"))" \
    sh -c "grep -q '\"state\":1,' '$W/off.json' && grep -q '\"running\":false' '$W/off.json'"
check "... and its partial copies are gone (Staging empty)" test -z "$(ls -A "$R/Staging" 2>/dev/null)"
as_owner "$F" config enable > /dev/null 2>&1
kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=""

# 10.10: progress on a terminal (run-cycle under a pseudo-terminal)
i=0; while [ $i -lt 40 ]; do printf 'changed %d\n' $i >> "$D/bulk$i.txt"; i=$((i + 1)); done
as_owner script -qfec "'$F' run-cycle" /dev/null > "$W/tty.out" 2>&1
tr '\r' '\n' < "$W/tty.out" > "$W/tty.txt"
check "run-cycle on a terminal shows files, bytes, rate, estimate and the current file" \
    grep -Eq '[0-9]+/[0-9]+ files, [0-9.]+ [KMG]?i?B/[0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s, ETA [0-9]+:[0-9]{2}:[0-9]{2}, .*bulk[0-9]+\.txt' "$W/tty.txt"

# 12.11: the service's failures are visible: --detach logs where the man page says
mkdir -p "$W/badrun"
: > "$W/badrun/notadir"
give $OWNER_UID:$OWNER_UID "$W/badrun"
EP=$W/badrun/notadir/endpoint
as_owner "$F" daemon --detach > "$W/detach.out" 2>&1; rc=$?
check "daemon --detach that cannot start exits 1 and says why ($(head -c 200 "$W/detach.out"))" \
    sh -c "[ $rc -eq 1 ] && grep -q 'endpoint' '$W/detach.out'"
check "... and the log file says why too" grep -q "notadir/endpoint" "$LOG"
EP=$W/run/endpoint
# the loser of a start race that never sees a service says so
$OWNER_RUN flock "$EP.lock" sleep 30 &
holder=$!; bg_pids="$bg_pids $holder"
sleep 0.2
as_owner "$F" daemon > "$W/loser.out" 2>&1; rc=$?
pkill -P $holder sleep 2>/dev/null; kill $holder 2>/dev/null; wait $holder 2>/dev/null
check "a service that loses the start race says so ($(head -c 200 "$W/loser.out"))" \
    sh -c "[ $rc -eq 1 ] && grep -q 'lock' '$W/loser.out'"

# 10.3: the endpoint file in a shared directory: predictable temporary names
mkdir -p "$W/shared" && chmod 1777 "$W/shared"
if [ -n "$ROOT" ]; then
    # the other user plants files and symlinks under every name the next
    # thousand processes would use
    printf 'precious\n' > "$W/other/precious" && give $OTHER_UID:$OTHER_UID "$W/other"
    as_other python3 - "$W/shared" "$W/other/precious" <<'PYEOF'
import os, sys
p = os.getpid()
for n in range(p, p + 3000):
    name = "%s/endpoint.tmp.%d" % (sys.argv[1], n)
    if n % 2:
        os.symlink(sys.argv[2], name)
    else:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o666))
        os.chmod(name, 0o666)
PYEOF
    EP=$W/shared/endpoint
    $OWNER_RUN $OWNER_ENV FILEHISTORY_ENDPOINT="$EP" "$F" daemon > "$W/daemon2.out" 2>&1 &
    daemon_pid=$!
    i=0; while [ ! -s "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    check "the service starts despite planted temporary files ($(head -c 200 "$W/daemon2.out"))" test -s "$EP"
    check "the endpoint file is the owner's, 0600" test "$(stat -c '%u %a' "$EP" 2>/dev/null)" = "$OWNER_UID 600"
    secret=$(cut -d' ' -f2 "$EP" 2>/dev/null)
    leaked=$(grep -l "${secret:-nosecret}" "$W"/shared/endpoint.tmp.* "$W/other/precious" 2>/dev/null | wc -l)
    check "no planted file received the secret ($leaked)" test "$leaked" -eq 0
    check "the planted symlink's target is untouched" grep -qx precious "$W/other/precious"
    kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=""
    # a directory another user can write to is refused
    mkdir -p "$W/open" && chmod 777 "$W/open"
    EP=$W/open/endpoint
    as_owner timeout 5 "$F" daemon > "$W/daemon3.out" 2>&1; rc=$?
    check "an endpoint directory others can write to is refused ($(head -c 200 "$W/daemon3.out"))" \
        sh -c "[ $rc -eq 1 ] && [ ! -e '$EP' ]"
    EP=$W/run/endpoint
else
    skp "planted temporary files of another user: needs root"
fi

# ------------------------------------------------ the target
# Attack pass 2 (F02, F18): SQLite opens the catalog by path, so nobody but
# the owner and root may be able to rename a directory on that path: a
# FileHistory/ of root's that anyone may write (0777, no sticky bit), or a
# target directory that anyone may write, is refused before anything is
# opened, and nothing is written.
if [ -n "$ROOT" ]; then
    printf 'swap\n' >> "$D/report.txt"
    before=$(sqlite3 "$DB" 'SELECT COUNT(*) FROM versions')
    chown root:root "$T/FileHistory" && chmod 0777 "$T/FileHistory"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    check "FileHistory/ of root's, 0777 without the sticky bit: TARGET_ACCESS_DENIED ($out)" \
        sh -c "[ $rc -ne 0 ] && echo '$out' | grep -q TARGET_ACCESS_DENIED && [ \$(sqlite3 '$DB' 'SELECT COUNT(*) FROM versions') -eq $before ]"
    chmod 1777 "$T/FileHistory"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    check "... root's and sticky (like /tmp): backups go on (rc $rc)" test $rc -eq 0
    chmod 0755 "$T/FileHistory"
    chmod 0777 "$T"
    printf 'swap again\n' >> "$D/report.txt"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    check "a target directory anyone may write: TARGET_ACCESS_DENIED ($out)" \
        sh -c "[ $rc -ne 0 ] && echo '$out' | grep -q TARGET_ACCESS_DENIED"
    chmod 0755 "$T"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    check "... made private again: backups go on (rc $rc)" test $rc -eq 0
else
    skp "directories of the target others may write: needs root for a second owner"
fi

# 10.9: a read-only Configuration/ is TARGET_ACCESS_DENIED (as the owner, not root)
if [ -n "$ROOT" ] || [ "$(id -u)" != 0 ]; then
    printf 'again\n' >> "$D/report.txt"
    chmod 500 "$R/Configuration"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    chmod 700 "$R/Configuration"
    check "read-only Configuration/: TARGET_ACCESS_DENIED ($out)" \
        sh -c "[ $rc -eq 1 ] && echo '$out' | grep -q 'TARGET_ACCESS_DENIED (0x0E)'"
    check "... and status says so" owner_status_has '"state":14,' 
    as_owner "$F" run-cycle > /dev/null 2>&1
    check "writable again: backups go on" test $? -eq 0
else
    skp "permission states: running as root without setpriv"
fi

# 12.9: files that cannot be backed up are counted, logged and reported
printf 'secret\n' > "$D/unreadable.txt" && chmod 000 "$D/unreadable.txt"
mkdir -p "$D/locked" && printf 'hidden\n' > "$D/locked/inner.txt" && give $OWNER_UID:$OWNER_UID "$D" && chmod 000 "$D/locked"
ctrl=$(printf '%s/ctl\001name.txt' "$D")
printf 'control character\n' > "$ctrl" && give $OWNER_UID:$OWNER_UID "$ctrl"
as_owner "$F" run-cycle > "$W/nb.out" 2>&1; rc=$?
check "a cycle with an unreadable file still succeeds (rc $rc)" test $rc -eq 0
as_owner "$F" status --json > "$W/nb.json" 2>&1
check "status counts the file and the folder that could not be backed up ($(cat "$W/nb.json"))" \
    grep -q '"not_backed_up":2' "$W/nb.json"
check "the cycle names them on stderr" sh -c "grep -q 'unreadable.txt' '$W/nb.out' && grep -q 'locked: the folder cannot be read' '$W/nb.out'"
nctl=$(sqlite3 "$DB" "SELECT COUNT(*) FROM versions v JOIN files f ON f.id = v.file_id WHERE f.path LIKE '%/ctl%name.txt'")
check "a name with a control character is backed up, not dropped ($nctl)" test "$nctl" -eq 1
rm -f "$ctrl"
as_owner "$F" restore "$ctrl" > /dev/null 2>&1
check "... and restored" grep -q 'control character' "$ctrl"
chmod 700 "$D/locked"
rm -rf "$D/unreadable.txt" "$ctrl" "$D/locked"

# ------------------------------------------------ real file systems
if [ -n "$ROOT" ] && command -v mkfs.xfs >/dev/null && losetup -f >/dev/null 2>&1; then
    # 10.8: an unmounted target is TARGET_ABSENT, and nothing is written to the mount point
    truncate -s 300M "$W/disk.img" && mkfs.xfs -q -f "$W/disk.img" &&
        mkdir -p "$W/disk" && mount -o loop "$W/disk.img" "$W/disk" && mounts="$W/disk $mounts"
    give $OWNER_UID:$OWNER_UID "$W/disk"
    as_owner "$F" config target "$W/disk" > /dev/null
    as_owner "$F" run-cycle > /dev/null 2>&1
    check "a cycle on the mounted disk succeeds" test $? -eq 0
    umount "$W/disk"; mounts=${mounts#"$W/disk "}
    give $OWNER_UID:$OWNER_UID "$W/disk"
    printf 'more\n' >> "$D/report.txt"
    out=$(as_owner "$F" run-cycle 2>&1); rc=$?
    check "unmounted: run-cycle fails with TARGET_ABSENT ($out)" \
        sh -c "[ $rc -eq 1 ] && echo '$out' | grep -q 'TARGET_ABSENT (0x15)'"
    check "unmounted: nothing written to the mount point ($(ls -A "$W/disk" | head -3 | tr '\n' ' '))" \
        test -z "$(ls -A "$W/disk")"
    mount -o loop "$W/disk.img" "$W/disk" && mounts="$W/disk $mounts"
    as_owner "$F" run-cycle > /dev/null 2>&1
    check "mounted again: backups go on" test $? -eq 0

    # 10.4: a file written all the time, on a file system with reflinks:
    # the cycle takes a clone and records a true version
    truncate -s 600M "$W/src.img" && mkfs.xfs -q -f "$W/src.img" &&
        mkdir -p "$W/srcfs" && mount -o loop "$W/src.img" "$W/srcfs" && mounts="$W/srcfs $mounts"
    give $OWNER_UID:$OWNER_UID "$W/srcfs"
    python3 - "$W/srcfs/busy.bin" <<'PYEOF'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(64 * 256):
        f.write((0).to_bytes(8, "little") * 512)
PYEOF
    give $OWNER_UID:$OWNER_UID "$W/srcfs"
    as_owner "$F" config add-folder "$W/srcfs" > /dev/null
    $OWNER_RUN python3 - "$W/srcfs/busy.bin" > /dev/null 2>&1 <<'PYEOF' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
size = 64 << 20
n = 0
while True:
    n += 1
    b = n.to_bytes(8, "little") * 512
    os.pwrite(fd, b, 0)
    os.pwrite(fd, b, size - 4096)
    time.sleep(0.0002)
PYEOF
    writer=$!; bg_pids="$bg_pids $writer"
    sleep 0.3
    as_owner "$F" run-cycle > "$W/clone.out" 2>&1; rc=$?
    kill $writer 2>/dev/null; wait $writer 2>/dev/null
    check "a cycle while the file is written succeeds ($(tail -1 "$W/clone.out"))" test $rc -eq 0
    DB2=$(echo "$W"/disk/FileHistory/*/*/Configuration/Catalog.sqlite)
    stored=$(sqlite3 "$DB2" "SELECT stored FROM versions v JOIN files f ON f.id = v.file_id WHERE f.path = '$W/srcfs/busy.bin'")
    check "the busy file got a version from a reflink clone ($stored)" test -n "$stored"
    if [ -n "$stored" ]; then
        check "that version is a state the file had" python3 - "$(dirname "$DB2")/../$stored" <<'PYEOF'
import sys
with open(sys.argv[1], "rb") as f:
    first = int.from_bytes(f.read(8), "little")
    f.seek((64 << 20) - 4096)
    last = int.from_bytes(f.read(8), "little")
print("first", first, "last", last)
sys.exit(0 if first in (last, last + 1) else 1)
PYEOF
    fi
else
    skp "loop-mounted file systems: needs root, losetup and mkfs.xfs"
fi
finish
