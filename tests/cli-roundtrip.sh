#!/bin/sh
# End-to-end checks of the winbackup command on real files.
#
# The expected stream bytes come from tests/wbstream.py, an independent
# implementation of the format written from the spec, never from the C code.
# Runs on the real disk (/var/tmp): tmpfs before Linux 6.6 has no user xattrs.
O=${O:-build}
here=$(cd "$(dirname "$0")" && pwd)
wb=$(cd "$O" && pwd)/winbackup
py="python3 $here/wbstream.py"
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/wbcli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
skip() { skipped=$((skipped + 1)); echo "skip: $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# exit status $1 and the one-line message naming Win32 error $2 (an ERE)
failed_with() { [ "$1" -eq 1 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -qE "\(Win32 error ($2)\)$" err.txt; }
user_xattrs() {   # the user.* xattrs of $1 as "name=hexvalue" lines, sorted
    python3 -c 'import os,sys; p=sys.argv[1]; print("\n".join(sorted("%s=%s" % (n, os.getxattr(p, n, follow_symlinks=False).hex()) for n in os.listxattr(p, follow_symlinks=False) if n.startswith("user."))))' "$1"
}
data_ranges() {   # allocated ranges of $1 by SEEK_DATA/SEEK_HOLE
    python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); size = os.fstat(fd).st_size; pos = 0; out = []
while pos < size:
    try: start = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError: break
    end = os.lseek(fd, start, os.SEEK_HOLE); out.append("%d-%d" % (start, end)); pos = end
print(" ".join(out))' "$1"
}

if ! setfattr -n user.probe -v 1 . 2>/dev/null; then
    echo "user xattrs are not supported in $work"
    echo "RESULT: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
setfattr -x user.probe .

# ---- a file with data, two sparse ranges, two named streams and two EAs
python3 - <<'EOF'
with open("f", "wb") as f:
    f.truncate(16 << 20)
    f.seek(1 << 20); f.write(bytes((i * 7) & 0xff for i in range(65536)))
    f.seek(8 << 20); f.write(b"B" * 65536)
EOF
setfattr -n 'user.DosStream.one:$DATA' -v 0x666972737400 f            # "first" + Samba's NUL
setfattr -n 'user.DosStream.two:$DATA' -v 0x7365636f6e642073747265616d00 f   # "second stream" + NUL
setfattr -n user.foo -v bar f
setfattr -n user.fizz -v buzz f

if [ "$(data_ranges f)" != "1048576-1114112 8388608-8454144" ]; then
    skip "sparse layout: this file system reports ranges '$(data_ranges f)'"
else
    python3 - <<'EOF' > spec.json
import json, os
# EAs in the order the file system keeps them (as NTFS returns EAs)
values = {"foo": b"bar", "fizz": b"buzz"}
eas = [[n[5:], values[n[5:]].hex()] for n in os.listxattr("f") if n.startswith("user.") and n[5:] in values]
spec = {"size": 16 << 20,
        "ranges": [[1 << 20, bytes((i * 7) & 0xff for i in range(65536)).hex()], [8 << 20, (b"B" * 65536).hex()]],
        "eas": eas,
        "streams": {"one": b"first".hex(), "two": b"second stream".hex()}}
print(json.dumps(spec))
EOF
    "$wb" read f > f.bkf; rc=$?
    check "read exits 0" [ $rc -eq 0 ]
    $py expect spec.json > want.hex
    od -An -v -tx1 f.bkf | tr -d ' \n' > got.hex
    check "read: data + sparse + 2 ADS + EAs match the spec byte for byte" cmp -s want.hex got.hex
    # the payload goes by copy_file_range to a file, sendfile to a pipe, and
    # through the buffer when the kernel refuses both (an O_APPEND file)
    "$wb" read f | cat > piped.bkf
    check "read into a pipe (sendfile) gives the same bytes" cmp -s f.bkf piped.bkf
    # ... and the pipe is grown first (16 page slots wake the reader every
    # 64 KiB: 4x slower than cat | cat in the bench); F_GETPIPE_SZ is 1032
    "$wb" read f | python3 -c 'import fcntl, sys; sys.stdin.buffer.read(); print(fcntl.fcntl(0, 1032))' > pipesz.txt
    check "read grows its stdout pipe to at least 256 KiB (got $(cat pipesz.txt))" [ "$(cat pipesz.txt)" -ge 262144 ]
    cat f.bkf | { "$wb" write fromfifo; python3 -c 'import fcntl; print(fcntl.fcntl(0, 1032))' > pipesz.txt; }
    check "write grows its stdin pipe to at least 256 KiB (got $(cat pipesz.txt))" [ "$(cat pipesz.txt)" -ge 262144 ]
    check "write from the grown pipe restores the bytes" cmp -s f fromfifo
    : > appended.bkf; "$wb" read f >> appended.bkf
    check "read onto an O_APPEND file (buffered) gives the same bytes" cmp -s f.bkf appended.bkf

    "$wb" list f.bkf > list.txt
    check "list: one line per stream (7)" [ "$(wc -l < list.txt)" -eq 7 ]
    check "list: sparse DATA header first" grep -q '^BACKUP_DATA *0x00000008 *0 *$' list.txt
    check "list: named stream shown with its name" grep -q ':two:\$DATA' list.txt
    "$wb" list --json f.bkf > list.json
    check "list --json agrees with the independent parser" python3 -c '
import json, sys
sys.path.insert(0, sys.argv[3]); import wbstream
got = json.load(open(sys.argv[1])); ref = wbstream.parse(open(sys.argv[2], "rb").read())
assert [(s["id"], s["attributes"], s["size"], s["name"]) for s in got] == [(s["id"], s["attributes"], s["size"], s["name"]) for s in ref], got
assert [s.get("offset") for s in got] == [s.get("offset") for s in ref]' list.json f.bkf "$here"

    "$wb" write g < f.bkf; rc=$?
    check "write exits 0" [ $rc -eq 0 ]
    check "restored content is identical" cmp -s f g
    check "restored xattrs are identical" [ "$(user_xattrs f)" = "$(user_xattrs g)" ]
    check "restored file keeps its holes" [ "$(data_ranges g)" = "1048576-1114112 8388608-8454144" ]
    "$wb" read g > g.bkf
    check "backup of the restored file is the same stream" cmp -s f.bkf g.bkf
fi

# ---- a plain file, every restore chunking handled by the pipe
printf 'hello world\n' > plain
"$wb" read plain > plain.bkf
check "plain file: DATA header + bytes" [ "$(od -An -v -tx1 plain.bkf | tr -d ' \n')" = "01000000000000000c000000000000000000000068656c6c6f20776f726c640a" ]

# ---- an empty file has no stream at all
: > empty
"$wb" read empty > empty.bkf
check "empty file: empty stream" [ ! -s empty.bkf ]

# ---- security descriptor
chmod 0640 plain
"$wb" read --security plain > sec.bkf
check "--security: SECURITY_DATA comes first" [ "$(python3 -c 'import sys,json; sys.path.insert(0,sys.argv[2]); import wbstream; print(wbstream.parse(open(sys.argv[1],"rb").read())[0]["id"])' sec.bkf "$here")" = 3 ]
check "--security: header says STREAM_CONTAINS_SECURITY" [ "$(od -An -tx1 -j4 -N1 sec.bkf | tr -d ' ')" = 02 ]
"$wb" write --security plain2 < sec.bkf
check "--security restore applies the mode the descriptor maps to (0640)" [ "$(stat -c %a plain2)" = 640 ]
check "--security: a descriptor that maps exactly is not stored as user.wine.sd" [ -z "$(getfattr -n user.wine.sd plain2 2>/dev/null)" ]
"$wb" read --security plain2 > sec2.bkf
check "--security: the restored file gives the same descriptor" cmp -s sec.bkf sec2.bkf
"$wb" write plain3 < sec.bkf
check "restore without --security ignores the descriptor" [ -z "$(getfattr -n user.wine.sd plain3 2>/dev/null)" ]
check "restore without --security still restores data" cmp -s plain plain3

# ---- symbolic link as IO_REPARSE_TAG_SYMLINK
ln -s ../some/target link
"$wb" read link > link.bkf
check "symlink: one REPARSE_DATA stream" [ "$("$wb" list link.bkf | awk '{print $1}')" = BACKUP_REPARSE_DATA ]
check "symlink: reparse tag 0xA000000C" [ "$(od -An -tx1 -j20 -N4 link.bkf | tr -d ' ')" = 0c0000a0 ]
"$wb" write link2 < link.bkf
check "symlink restored as a symlink to the same target" [ "$(readlink link2)" = "../some/target" ]

# ---- directory with an EA
mkdir d && setfattr -n user.note -v dirvalue d
"$wb" read d > d.bkf
mkdir d2 && "$wb" write d2 < d.bkf
check "directory: EA restored" [ "$(getfattr --only-values -n user.note d2 2>/dev/null)" = dirvalue ]

# ---- failures keep existing data and leave nothing behind
printf 'keep me' > victim
head -c 30 f.bkf 2>/dev/null > truncated.bkf || head -c 30 plain.bkf > truncated.bkf
"$wb" write victim < truncated.bkf 2> err.txt; rc=$?
check "truncated stream: exit 1, one line, ERROR_HANDLE_EOF (38)" failed_with $rc 38
check "truncated stream: victim untouched" [ "$(cat victim)" = "keep me" ]
check "truncated stream: no temporary file left" [ -z "$(ls -A | grep '^\.victim')" ]
printf '\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000x' > bad.bkf
"$wb" write victim < bad.bkf 2> err.txt; rc=$?
check "BACKUP_INVALID stream id: exit 1, ERROR_INVALID_DATA (13)" failed_with $rc 13
check "bad stream: victim untouched" [ "$(cat victim)" = "keep me" ]
python3 -c '
import struct, sys
name = ":../x:$DATA".encode("utf-16-le")
sys.stdout.buffer.write(struct.pack("<IIQI", 4, 0, 1, len(name)) + name + b"z")' > hostile.bkf
"$wb" write victim < hostile.bkf 2> err.txt; rc=$?
check "ADS name with '/': ERROR_INVALID_NAME (123)" failed_with $rc 123
check "hostile stream: no xattr written" [ -z "$(user_xattrs victim)" ]

# ---- hard links: only below --link-root (which may be relative)
python3 -c '
import struct, sys
path = "C:\\linked\0".encode("utf-16-le")
sys.stdout.buffer.write(struct.pack("<IIQI", 1, 0, 2, 0) + b"hi" + struct.pack("<IIQI", 5, 0, len(path), 0) + path)' > link.bkf
"$wb" write linktarget < link.bkf 2> err.txt; rc=$?
check "a stream with a hard link and no --link-root: exit 1, ERROR_PRIVILEGE_NOT_HELD (1314) and a hint" \
    sh -c '[ "$1" -eq 1 ] && grep -q "(Win32 error 1314)$" err.txt && grep -q -- "--link-root" err.txt && [ ! -e linktarget ]' _ $rc
mkdir -p lroot
(cd lroot && "$wb" write ../linktarget --link-root . < ../link.bkf); rc=$?
check "--link-root . (relative): the link is made below it" \
    sh -c '[ "$1" -eq 0 ] && [ "$(cat lroot/linked)" = hi ] && [ lroot/linked -ef linktarget ]' _ $rc

# ---- xattrs a Windows file cannot hold: left out, said, and the backup restores
printf 'data' > odd; setfattr -n user.dosattrib -v 1 odd; setfattr -n user.fine -v ok odd
"$wb" read odd > odd.bkf 2> err.txt; rc=$?
check "read of a file with user.dosattrib: exit 0, one warning counting 1 left out" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -q "1 extended attribute left out" err.txt' _ $rc
"$wb" write odd2 < odd.bkf 2> err.txt; rc=$?
check "... and its backup restores, the other EA included" sh -c '[ "$1" -eq 0 ] && [ "$(getfattr --only-values -n user.fine odd2 2>/dev/null)" = ok ]' _ $rc

# ---- durability: the restored file's data is on disk before the rename that
# publishes it, and the rename is made durable by an fsync of the directory
if command -v strace >/dev/null 2>&1; then
    strace -f -e trace=fsync,fdatasync,rename,renameat,renameat2 -o trace.txt "$wb" write durable < plain.bkf 2>/dev/null
    check "write: fsync/fdatasync of the file, then rename, then fsync of the directory" python3 -c '
import re, sys
calls = [l for l in open(sys.argv[1]) if re.search(r"\b(fsync|fdatasync|rename\w*)\(", l) and "= 0" in l]
kinds = ["rename" if "rename" in l else "sync" for l in calls]
i = kinds.index("rename")
assert "sync" in kinds[:i] and "sync" in kinds[i + 1:], calls' trace.txt
else
    skip "durability order: no strace"
fi
# a full device: ERROR_DISK_FULL (112), not a generic I/O error
"$wb" read plain > /dev/full 2> err.txt; rc=$?
check "read onto a full device: exit 1, ERROR_DISK_FULL (112)" failed_with $rc 112

# ---- closed standard descriptors: the first file opened would take the
# number, and a restore would read its own (empty) temporary file as the
# stream, emptying the target with exit 0
printf 'keep me' > closedfd; setfattr -n user.keep -v 1 closedfd
entries=$(ls -A | wc -l)
"$wb" write closedfd <&- 2> err.txt; rc=$?
check "write with stdin closed: exit 1, ERROR_INVALID_HANDLE (6)" failed_with $rc 6
check "write with stdin closed: the target keeps its data and xattrs" \
    sh -c '[ "$(cat closedfd)" = "keep me" ] && [ "$(getfattr --only-values -n user.keep closedfd 2>/dev/null)" = 1 ]'
check "... and no file appeared in the directory" [ "$(ls -A | wc -l)" -eq "$entries" ]
"$wb" read closedfd >&- 2> err.txt; rc=$?
check "read with stdout closed: exit 1, ERROR_INVALID_HANDLE (6)" failed_with $rc 6
"$wb" list <&- 2> err.txt; rc=$?
check "list with stdin closed: exit 1, ERROR_INVALID_HANDLE (6)" failed_with $rc 6
# a reader that went away (SIGPIPE ignored, as Python and many daemons do):
# EPIPE is ERROR_PIPE_NOT_CONNECTED (233), Wine's STATUS_PIPE_DISCONNECTED
python3 -c '
import signal, subprocess, sys
r, w = __import__("os").pipe()
__import__("os").close(r)
p = subprocess.run([sys.argv[1], "read", "f"], stdout=w, stderr=open("err.txt", "w"), preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
sys.exit(p.returncode)' "$wb"; rc=$?
check "read into a pipe nobody reads (SIGPIPE ignored): exit 1, ERROR_PIPE_NOT_CONNECTED (233)" failed_with $rc 233

# ---- usage
"$wb" --help > /dev/null; check "--help exits 0" [ $? -eq 0 ]
"$wb" frobnicate 2> /dev/null; check "unknown command exits 2" [ $? -eq 2 ]
"$wb" read 2> /dev/null; check "missing argument exits 2" [ $? -eq 2 ]
"$wb" read /nonexistent/file > /dev/null 2> err.txt; rc=$?
check "missing directory: exit 1, ERROR_PATH_NOT_FOUND (3)" failed_with $rc 3
"$wb" read ./no-such-file > /dev/null 2> err.txt; rc=$?
check "missing file: exit 1, ERROR_FILE_NOT_FOUND (2)" failed_with $rc 2
chmod 000 plain; "$wb" read plain > /dev/null 2> err.txt; rc=$?; chmod 644 plain
if [ "$(id -u)" -ne 0 ]; then check "unreadable file: exit 1, ERROR_ACCESS_DENIED (5)" failed_with $rc 5
else
    # as an ordinary user (CI runs as root, which reads anything): the
    # directory may be entered, the file may not be read
    chmod 755 "$work"; chmod 000 plain
    setpriv --reuid=65534 --regid=65534 --clear-groups "$wb" read "$work/plain" > /dev/null 2> err.txt; rc=$?
    chmod 644 plain; chmod 700 "$work"
    check "unreadable file (as uid 65534): exit 1, ERROR_ACCESS_DENIED (5)" failed_with $rc 5
fi

echo "RESULT: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
