#!/bin/sh
# Runs conformance/fhsvcctl.c (our build, fhsvcctl_test.exe) under Wine with
# fhsvcctl.dll next to it, against the real service build/filehistory:
#   1. no service: OpenPipe(FALSE) fails, OpenPipe(TRUE) starts it;
#   2. service without configuration: START/RELOAD -> FHSVC_E_NOT_CONFIGURED;
#   3. configured service (if build/filehistory can configure a target): full sequence.
# Set FHSVCCTL_SERVICE to another service command (e.g. the development
# stand-in dlls/fhsvcctl/tests/fake_service.py) to test against it instead.
# Prints "RESULT: P passed, F failed, S skipped"; exit status 1 on failure.

O=${O:-build}
WINE=${WINE:-wine}
WINESERVER=${WINESERVER:-wineserver}
out=$O/dlls/fhsvcctl
pass=0 fail=0 skipped=0

finish() {
    echo "RESULT: $pass passed, $fail failed, $skipped skipped"
    [ "$fail" -eq 0 ]
    exit $?
}

if ! command -v "$WINE" >/dev/null 2>&1 || [ ! -f "$out/fhsvcctl.dll" ] || [ ! -f "$out/fhsvcctl_test.exe" ]; then
    echo "fhsvcctl: wine or the PE build missing, skipping"
    skipped=1; finish
fi

service=${FHSVCCTL_SERVICE:-}
if [ -z "$service" ]; then
    if [ -x "$O/filehistory" ]; then service="$(cd "$O" && pwd)/filehistory"
    else echo "fhsvcctl: $O/filehistory not built, skipping"; skipped=1; finish
    fi
fi

work=$(mktemp -d /tmp/fhsvcctl-check.XXXXXX); [ -n "$FHSVCCTL_KEEP" ] && echo "work: $work"
pids=""
cleanup() {
    for p in $pids $(cat "$work"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null; done
    WINEPREFIX="$work/prefix" "$WINESERVER" -k 2>/dev/null
    [ -n "$FHSVCCTL_KEEP" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/run" "$work/app" "$work/config-empty" "$work/config-set" "$work/target" && chmod 700 "$work/run"
cp "$out/fhsvcctl.dll" "$out/fhsvcctl_test.exe" "$work/app/"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export FILEHISTORY_ENDPOINT="$work/run/endpoint"
unset FHSVCCTL_TEST_EXPECT FHSVCCTL_TEST_NO_SERVICE FILEHISTORY_DAEMON

# service started by the DLL: a wrapper that records the pid so we can stop it
cat > "$work/start-service" <<EOS
#!/bin/sh
$service daemon </dev/null >"$work/spawned.log" 2>&1 &
echo \$! > "$work/spawned.pid"
EOS
chmod +x "$work/start-service"

. "$(dirname "$0")/../../tests/wine-counts.sh"

# Every check the test program makes counts; a run without a summary line
# (a crash) is one failure more.
run_case() {  # name, then env assignments
    name=$1; shift
    (cd "$work/app" && env "$@" timeout 300 "$WINE" fhsvcctl_test.exe) > "$work/$name.log" 2>&1
    rc=$?
    set -- $(wine_counts "$work/$name.log")
    pass=$((pass + $1 - $3)); fail=$((fail + $3)); skipped=$((skipped + $4))
    if [ $rc -eq 0 ] && [ "$1" -gt 0 ] && [ "$3" -eq 0 ]; then
        echo "PASS fhsvcctl $name: $1 checks, $4 skipped"
    else
        [ "$1" -gt 0 ] || fail=$((fail + 1))
        echo "FAIL fhsvcctl $name (exit status $rc, $1 checks, $3 failures)"
        sed 's/^/    /' "$work/$name.log" | grep -v '^    wine:' | tail -40
    fi
}

start_service() {  # config dir
    rm -f "$FILEHISTORY_ENDPOINT"
    XDG_CONFIG_HOME="$1" $service daemon </dev/null >"$work/daemon.log" 2>&1 &
    pids="$pids $!"
    i=0; while [ ! -s "$FILEHISTORY_ENDPOINT" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$FILEHISTORY_ENDPOINT" ]
}
stop_services() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; pids=""; }

WINEDEBUG=-all "$WINE" wineboot -i >/dev/null 2>&1

# 0. the endpoint file parser alone
if [ -f "$out/endpoint_test.exe" ]; then
    "$WINE" "$out/endpoint_test.exe" > "$work/endpoint.log" 2>&1
    rc=$?
    set -- $(wine_counts "$work/endpoint.log")
    pass=$((pass + $1 - $3)); fail=$((fail + $3))
    if [ $rc -eq 0 ] && [ "$1" -gt 0 ]; then echo "PASS fhsvcctl endpoint parser: $1 checks"
    else echo "FAIL fhsvcctl endpoint parser (exit status $rc)"; grep -v '^wine:' "$work/endpoint.log" | tail -20; [ "$1" -gt 0 ] || fail=$((fail + 1)); fi
fi

# 1. nothing listening
rm -f "$FILEHISTORY_ENDPOINT"
XDG_CONFIG_HOME="$work/config-empty" run_case no-service FHSVCCTL_TEST_NO_SERVICE=1 \
    FILEHISTORY_DAEMON="$work/start-service" XDG_CONFIG_HOME="$work/config-empty"
# The service the DLL started is not our child: wait until it is gone, or the
# next case's service would lose the one-service-per-endpoint lock to it.
for p in $(cat "$work/spawned.pid" 2>/dev/null); do
    kill "$p" 2>/dev/null
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done

# 1b. a stale endpoint file whose port someone else holds (a service killed
#     with -9 leaves its file behind): the DLL takes the listener, which does
#     not know the secret, for no service, never sends it the secret, and
#     OpenPipe(TRUE) starts the real service
if command -v python3 >/dev/null 2>&1; then
    python3 - "$work/impostor.port" "$work/impostor-heard.log" > /dev/null 2>&1 <<'PYEOF' &
import socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
def serve(c):
    f = c.makefile("rb")
    with open(sys.argv[2], "ab") as out:
        for n, line in enumerate(iter(f.readline, b"")):
            out.write(line); out.flush()
            c.sendall(b"CHALLENGE " + b"1" * 32 + b" " + b"2" * 64 + b"\n" if n == 0 else b"OK 00000000\n")
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
    pids="$pids $!"
    i=0; while [ ! -s "$work/impostor.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    secret=0123456789abcdef0123456789abcdef
    printf '%s %s\n' "$(cat "$work/impostor.port")" "$secret" > "$FILEHISTORY_ENDPOINT"
    rm -f "$work/spawned.pid"
    XDG_CONFIG_HOME="$work/config-empty" run_case impostor FHSVCCTL_TEST_NO_SERVICE=1 \
        FILEHISTORY_DAEMON="$work/start-service" XDG_CONFIG_HOME="$work/config-empty"
    if [ -s "$work/impostor-heard.log" ] && ! grep -q "$secret" "$work/impostor-heard.log" &&
       ! grep -qv '^HELLO [0-9a-f]\{32\} 2.\{0,1\}$' "$work/impostor-heard.log"; then
        echo "PASS fhsvcctl impostor: heard $(wc -l < "$work/impostor-heard.log") HELLO line(s), never the secret nor a PROOF"; pass=$((pass + 1))
    else
        echo "FAIL fhsvcctl impostor: what it heard:"; sed 's/^/    /' "$work/impostor-heard.log" 2>/dev/null; fail=$((fail + 1))
    fi
    stop_services
    for p in $(cat "$work/spawned.pid" 2>/dev/null); do
        kill "$p" 2>/dev/null
        i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    done
else
    echo "SKIP fhsvcctl impostor: python3 missing"; skipped=$((skipped + 1))
fi

# 2. unconfigured
if start_service "$work/config-empty"; then
    run_case unconfigured FHSVCCTL_TEST_EXPECT=unconfigured
else
    echo "FAIL fhsvcctl unconfigured: service did not write $FILEHISTORY_ENDPOINT"; cat "$work/daemon.log"; fail=$((fail + 1))
fi
stop_services

# 2b. no XDG_RUNTIME_DIR and no FILEHISTORY_ENDPOINT (a root shell, a
#     container, CI): the service writes $HOME/.cache/filehistory/endpoint;
#     Wine hides HOME from Windows programs, and the DLL must still find it.
mkdir -p "$work/home"
rm -f "$work/home/.cache/filehistory/endpoint"
env -u FILEHISTORY_ENDPOINT -u XDG_RUNTIME_DIR HOME="$work/home" XDG_CONFIG_HOME="$work/config-empty" \
    $service daemon </dev/null >"$work/daemon-home.log" 2>&1 &
pids="$pids $!"
i=0; while [ ! -s "$work/home/.cache/filehistory/endpoint" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$work/home/.cache/filehistory/endpoint" ]; then
    run_case no-xdg-runtime-dir -u FILEHISTORY_ENDPOINT -u XDG_RUNTIME_DIR HOME="$work/home" \
        FHSVCCTL_TEST_EXPECT=unconfigured
else
    echo "FAIL fhsvcctl no-xdg-runtime-dir: service did not write \$HOME/.cache/filehistory/endpoint"
    cat "$work/daemon-home.log"; fail=$((fail + 1))
fi
stop_services

# 3. configured: FHSVCCTL_CONFIGURE names a command that configures a target
#    (argument: the target directory) with XDG_CONFIG_HOME set; the
#    development stand-in is configured through FAKE_FH_CONFIGURED=1.
#    Against the real service, its own CLI configures the target.
configure=${FHSVCCTL_CONFIGURE:-}
if [ -z "$configure" ] && [ -z "${FHSVCCTL_SERVICE:-}" ] && [ -x "$O/filehistory" ]; then
    configure="$(cd "$O" && pwd)/filehistory config target"
fi
if [ -n "$configure" ] && XDG_CONFIG_HOME="$work/config-set" $configure "$work/target" >"$work/configure.log" 2>&1 &&
   FAKE_FH_CONFIGURED=1 start_service "$work/config-set"; then
    run_case configured FHSVCCTL_TEST_EXPECT=configured
    stop_services
    if grep -q 'CLEAR 12345678 9ABCDEF0' "$work/daemon.log"; then
        echo "PASS fhsvcctl ClearProtectionState passes both values to the service"; pass=$((pass + 1))
    else
        echo "FAIL fhsvcctl ClearProtectionState: the service did not log 'CLEAR 12345678 9ABCDEF0'"
        sed 's/^/    /' "$work/daemon.log" | tail -5; fail=$((fail + 1))
    fi
else
    echo "SKIP fhsvcctl configured: no FHSVCCTL_CONFIGURE command (or it failed)"; skipped=$((skipped + 1))
fi

finish
