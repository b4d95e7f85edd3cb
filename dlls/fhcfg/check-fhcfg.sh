#!/bin/sh
# fhcfg.dll under Wine, as a user runs it: a fresh prefix, no desktop session
# (no XDG_RUNTIME_DIR), the File History service started by the DLL itself.
#  1. regsvr32 registers the classes (DllRegisterServer).
#  2. conformance/fhcfg.c: every method, against the real service, with an
#     empty target and a disk holding an earlier machine's backups next to
#     damaged, lying and linked configurations.
#  3. what COM saved is what `filehistory config show` reads.
#  4. end to end: tests/wine/fhsetup.exe creates the default configuration
#     (the prefix's Documents = ~/Documents), provisions a target, starts a
#     backup through fhsvcctl.dll, waits, and QueryProtectionStatus gives the
#     state and time `filehistory status --json` gives.
O=${O:-build}
build=$(cd "$O" && pwd)
WINE=${WINE:-wine}
WINESERVER=${WINESERVER:-wineserver}
F="$build/filehistory"
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/fhcfg.XXXXXX")
passed=0 failed=0 skipped=0

cleanup() {
    [ -f "$work/daemon.pid" ] && kill "$(cat "$work/daemon.pid")" 2>/dev/null
    WINEPREFIX="$work/prefix" "$WINESERVER" -k 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
finish() { echo "RESULT: $passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit $?; }
dos() { printf 'Z:%s' "$1" | tr / '\\'; }

for f in "$F" "$build/dlls/fhcfg/fhcfg.dll" "$build/dlls/fhsvcctl/fhsvcctl.dll" "$build/conformance/fhcfg.exe" \
         "$build/tests/wine/fhsetup.exe"; do
    [ -f "$f" ] || { echo "skip: $f not built"; skipped=1; finish; }
done

unset XDG_RUNTIME_DIR DISPLAY WAYLAND_DISPLAY
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" FILEHISTORY_ENDPOINT="$work/run/endpoint"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$HOME/Documents" "$HOME/Pictures" "$work/app" "$work/target" "$work/run"
cat > "$work/start-service" <<EOS
#!/bin/sh
"$F" daemon </dev/null >>"$work/daemon.log" 2>&1 &
echo \$! > "$work/daemon.pid"
EOS
chmod +x "$work/start-service"
export FILEHISTORY_DAEMON="$work/start-service"
cp "$build/dlls/fhcfg/fhcfg.dll" "$build/dlls/fhsvcctl/fhsvcctl.dll" "$build/conformance/fhcfg.exe" \
   "$build/tests/wine/fhsetup.exe" "$work/app/"

"$WINE" wineboot -i >/dev/null 2>&1
docs_link="$WINEPREFIX/drive_c/users/$(id -un)/Documents"
check "the prefix's Documents is the user's ~/Documents" [ "$(readlink -f "$docs_link")" = "$HOME/Documents" ]

# 1. regsvr32
(cd "$work/app" && "$WINE" regsvr32 /s fhcfg.dll) >/dev/null 2>&1
check "regsvr32 fhcfg.dll (DllRegisterServer)" \
    sh -c '"$1" reg query "HKCR\\CLSID\\{ED43BB3C-09E9-498A-9DF6-2177244C6DB4}\\InprocServer32" 2>/dev/null | tr -d "\r" | grep -qi "fhcfg.dll"' _ "$WINE"

# 2. an earlier machine's disk: one good configuration, and beside it a
# damaged one, one that lies about whose it is, and links to both
old="$work/old"
cfg_xml() {
    cat <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<DataProtectionUserConfig SchemaVersion="1"><UserName>$1</UserName><PCName>$2</PCName><Generation>3</Generation>
<Library><Folder>/home/$1/Documents</Folder></Library><Exclusions/>
<RetentionPolicies><RetentionPolicy Type="0" MinimumAge="365"/></RetentionPolicies>
<DPFrequency>900</DPFrequency><DPStatus>2</DPStatus>
<Target><TargetName>old disk</TargetName><TargetUrl>/media/olddisk</TargetUrl></Target></DataProtectionUserConfig>
EOX
}
mkdir -p "$old/FileHistory/olduser/oldpc/Configuration" "$old/FileHistory/liar/pc/Configuration" \
         "$old/FileHistory/bad/pc/Configuration" "$old/FileHistory/linked/pc/Configuration" "$old/FileHistory/nested/pc"
cfg_xml olduser oldpc > "$old/FileHistory/olduser/oldpc/Configuration/Config1.xml"
: > "$old/FileHistory/olduser/oldpc/Configuration/Catalog.sqlite"
cfg_xml olduser oldpc > "$old/FileHistory/liar/pc/Configuration/Config1.xml"
printf '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><DataProtectionUserConfig SchemaVersion="1"><UserName>&b;</UserName><PCName>pc</PCName></DataProtectionUserConfig>' \
    > "$old/FileHistory/bad/pc/Configuration/Config1.xml"
head -c 2000000 /dev/zero | tr '\0' '<' > "$old/FileHistory/bad/pc/Configuration/Config2.xml"
ln -s "$old/FileHistory/olduser/oldpc/Configuration/Config1.xml" "$old/FileHistory/linked/pc/Configuration/Config1.xml"
ln -s "$old/FileHistory/olduser/oldpc/Configuration" "$old/FileHistory/nested/pc/Configuration"
ln -s "$old/FileHistory/olduser" "$old/FileHistory/dirlink"

(cd "$work/app" && FHCFG_TEST_FRESH=1 FHCFG_TEST_TARGET="$(dos "$work/target")\\" \
    FHCFG_TEST_OLD_TARGET="$(dos "$old")\\" FHCFG_TEST_DOCUMENTS="$(dos "$HOME/Documents")" \
    "$WINE" fhcfg.exe) > "$work/conformance.log" 2>&1
rc=$?
tr -d '\r' < "$work/conformance.log" | sed 's/^/    /'
summary=$(tr -d '\r' < "$work/conformance.log" | grep -E '[0-9]+ tests executed' | tail -n 1)
check "conformance/fhcfg.exe: no failure (exit status $rc)" [ "$rc" -eq 0 ]
check "conformance/fhcfg.exe: summary line" [ -n "$summary" ]

# 3. the CLI reads what COM wrote (the reassociation made last)
show=$("$F" config show --json 2>&1)
echo "    filehistory config show --json: $show"
check "filehistory sees the reassociated configuration (user, pc, target, frequency)" \
    sh -c 'case "$1" in *"\"user\":\"olduser\""*"\"pc\":\"oldpc\""*"\"target\":\"$2\""*"\"frequency\":900"*) exit 0;; esac; exit 1' _ "$show" "$old"

# 4. end to end from a fresh configuration
rm -rf "$XDG_CONFIG_HOME/filehistory"
mkdir -p "$work/target2"
printf 'report\n' > "$HOME/Documents/report.txt"
(cd "$work/app" && TZ=America/New_York "$WINE" fhsetup.exe setup "$(dos "$work/target2")\\") > "$work/setup.log" 2>&1
rc=$?
tr -d '\r' < "$work/setup.log" | sed 's/^/    /'
check "fhsetup.exe: configure, provision, back up, wait (exit status $rc)" [ "$rc" -eq 0 ]
check "the backup holds ~/Documents/report.txt in the File History layout" \
    sh -c 'find "$1/FileHistory" -path "*/Data/C/*/Documents/report (*UTC).txt" | grep -q .' _ "$work/target2"
status=$("$F" status --json)
echo "    filehistory status --json: $status"
state=$(printf '%s' "$status" | sed -n 's/.*"state_hex":"\([0-9A-F]*\)".*/\1/p')
until=$(printf '%s' "$status" | sed -n 's/.*"protected_until":"\([^"]*\)".*/\1/p')
check "the CLI reports a finished backup" [ "$state" = "000000FF" -a -n "$until" ]
(cd "$work/app" && TZ=America/New_York "$WINE" fhsetup.exe check "$state" "$until") > "$work/check.log" 2>&1
rc=$?
tr -d '\r' < "$work/check.log" | sed 's/^/    /'
check "QueryProtectionStatus: the CLI's state and protected-until time" [ "$rc" -eq 0 ]
finish
