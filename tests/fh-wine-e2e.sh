#!/bin/sh
# File History end to end: an ordinary Windows program (tests/wine/fhcontrol.c,
# linked with -lfhsvcctl) under Wine starts the Linux service through
# fhsvcctl.dll, starts backups, blocks and unblocks them; the target gets the
# File History layout; `filehistory restore` brings back the older version
# with identical bytes and Windows metadata (named stream, EA).
O=${O:-build}
build=$(cd "$O" && pwd)
WINE=${WINE:-wine}
F="$build/filehistory"
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/fhe2e.XXXXXX")
passed=0 failed=0 skipped=0
daemon_pid=""

cleanup() {
    [ -f "$work/daemon.pid" ] && kill "$(cat "$work/daemon.pid")" 2>/dev/null
    WINEPREFIX="$work/prefix" "${WINESERVER:-wineserver}" -k 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
finish() { echo "RESULT: $passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit $?; }
xattrs() { getfattr --absolute-names -d -m '^user\.' -e hex "$1" 2>/dev/null | sed 1d; }

if [ ! -x "$F" ] || [ ! -f "$build/tests/wine/fhcontrol.exe" ] || [ ! -f "$build/dlls/fhsvcctl/fhsvcctl.dll" ]; then
    echo "skip: filehistory, fhcontrol.exe or fhsvcctl.dll not built"; skipped=1; finish
fi
if ! setfattr -n user.probe -v 1 "$work" 2>/dev/null; then
    echo "skip: no user xattrs in $work"; skipped=1; finish
fi

export XDG_CONFIG_HOME="$work/config"
export FILEHISTORY_ENDPOINT="$work/run/endpoint"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all
# How fhsvcctl.dll starts the service when it is not running (see docs/fh-protocol.md)
cat > "$work/start-service" <<EOF
#!/bin/sh
"$F" daemon </dev/null >"$work/daemon.log" 2>&1 &
echo \$! > "$work/daemon.pid"
EOF
chmod +x "$work/start-service"
export FILEHISTORY_DAEMON="$work/start-service"

mkdir -p "$work/docs" "$work/target" "$work/app"
cp "$build/tests/wine/fhcontrol.exe" "$build/dlls/fhsvcctl/fhsvcctl.dll" "$work/app/"
printf 'quarterly report, first draft\n' > "$work/docs/report.docx"
setfattr -n 'user.DosStream.Zone.Identifier:$DATA' -v '0x5b5a6f6e655472616e736665725d0d0a5a6f6e6549643d330d0a00' "$work/docs/report.docx"
setfattr -n user.AUTHOR -v ada "$work/docs/report.docx"
cp -a "$work/docs/report.docx" "$work/v1.docx"
"$F" config target "$work/target" >/dev/null && "$F" config add-folder "$work/docs" >/dev/null
check "configured a target and a protected folder" [ $? -eq 0 ]

"$WINE" wineboot -i >/dev/null 2>&1
wait_idle() {   # until the service reports no running cycle (30 s at most)
    i=0
    while [ $i -lt 300 ]; do
        st=$("$F" status --json 2>/dev/null)
        case "$st" in *'"running":false'*) return 0 ;; esac
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# 1. the program starts the service and a backup
(cd "$work/app" && "$WINE" fhcontrol.exe start) > "$work/start.log" 2>&1; rc=$?
sed 's/^/    /' "$work/start.log" | tr -d '\r'
check "fhcontrol start: FhServiceOpenPipe(TRUE) started the service, StartBackup S_OK" [ $rc -eq 0 ]
check "the service runs" [ -s "$FILEHISTORY_ENDPOINT" ]
check "the cycle finished" wait_idle
v1=$(find "$work/target/FileHistory" -path '*/Data/C/*' -name 'report (*UTC).docx' | head -n 1)
check "File History layout: <target>/FileHistory/<user>/<pc>/Data/C/<path>/report (YYYY_MM_DD HH_MM_SS UTC).docx" \
    sh -c 'echo "$1" | grep -Eq "/FileHistory/[^/]+/[^/]+/Data/C/.*/docs/report \([0-9]{4}_[0-9]{2}_[0-9]{2} [0-9]{2}_[0-9]{2}_[0-9]{2} UTC\)\.docx$"' _ "$v1"
check "configuration on the target (Config1.xml)" sh -c 'ls "$1"/FileHistory/*/*/Configuration/Config1.xml >/dev/null 2>&1' _ "$work/target"
check "version 1 has the file's bytes" cmp -s "$v1" "$work/v1.docx"

# 2. the file changes; a blocked start is refused, an unblocked one runs
sleep 1.1
printf 'quarterly report, final\n' > "$work/docs/report.docx"
setfattr -n user.AUTHOR -v grace "$work/docs/report.docx"
(cd "$work/app" && "$WINE" fhcontrol.exe blocked) > "$work/blocked.log" 2>&1; rc=$?
sed 's/^/    /' "$work/blocked.log" | tr -d '\r'
check "fhcontrol blocked: BlockBackup, StartBackup = FHSVC_E_BACKUP_BLOCKED, UnblockBackup, StartBackup S_OK" [ $rc -eq 0 ]
check "the second cycle finished" wait_idle
check "two versions in the catalog" [ "$("$F" versions "$work/docs/report.docx" --json | grep -o '"time"' | wc -l)" -eq 2 ]
(cd "$work/app" && "$WINE" fhcontrol.exe stop) > "$work/stop.log" 2>&1
check "fhcontrol stop: StopBackup S_OK" [ $? -eq 0 ]

# 3. restore the older version
first_time=$("$F" versions "$work/docs/report.docx" --json | sed -n 's/^\[{"time":"\([^"]*\)".*/\1/p')
mkdir -p "$work/restored"
"$F" restore "$work/docs/report.docx" --at "$first_time" --to "$work/restored" > /dev/null
check "filehistory restore --at $first_time" [ $? -eq 0 ]
check "restored bytes are version 1's" cmp -s "$work/restored/report.docx" "$work/v1.docx"
check "restored named stream and EA are version 1's" [ "$(xattrs "$work/restored/report.docx")" = "$(xattrs "$work/v1.docx")" ]
check "the current file is untouched" grep -q final "$work/docs/report.docx"

finish
