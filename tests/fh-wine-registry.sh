#!/bin/sh
# File History as programs written for Windows see it under `winbackup wine`,
# without them using any File History DLL: conformance/fhreaders.exe reads
# the registry and Config1.xml the way LanHistory and line-matching scripts
# do, and `winbackup wine` alone (tools/winbackup/wine_fh.c) must have made
# them true at launch.  As a user runs it: a fresh prefix, no desktop
# session, no service running, a configuration directory whose name has a
# space and a non-ASCII letter.
#   1. never set up: no Configs value, no ProtectedUpToTime, and no
#      FileHistory key made for nothing;
#   2. an existing user's configuration in the dialect written before, and
#      a backup made by `filehistory run-cycle`: the Configs value names
#      Config1.xml (now in Windows' form, both copies), which gives the
#      target, its drive type, ENABLED, "NO LIMIT"; ProtectedUpToTime is the
#      backup's FILETIME; the mirror on the target is in Windows' form too;
#   3. a launch with nothing changed runs no Wine process for it;
#   4. turned off: the Configs value goes, the last protected time stays;
#   5. a configuration directory inside the prefix's drive_c is named on C:,
#      the deepest drive above it, as Wine names it.
# Prints "RESULT: P passed, F failed, S skipped" (every check fhreaders.exe
# made counts) and the launch times with and without a registry update.
O=${O:-build}
build=$(cd "$O" && pwd)
WINE=${WINE:-wine}
WINESERVER=${WINESERVER:-wineserver}
F="$build/filehistory"
W="$build/winbackup"
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
finish() { echo "RESULT: $passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit $?; }

for f in "$F" "$W" "$build/dlls/kernel32/winbackup.dll" "$build/conformance/fhreaders.exe"; do
    [ -f "$f" ] || { echo "skip: $f not built"; skipped=1; finish; }
done
command -v "$WINE" >/dev/null 2>&1 || { echo "skip: no $WINE"; skipped=1; finish; }

work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/fhreg.XXXXXX")
cleanup() {
    WINEPREFIX="$work/prefix" "$WINESERVER" -k 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

unset XDG_RUNTIME_DIR DISPLAY WAYLAND_DISPLAY FILEHISTORY_DAEMON
# Wine and the launcher name non-ASCII paths in UTF-8 under a UTF-8 locale
export LC_ALL=C.UTF-8
export HOME="$work/home" XDG_CONFIG_HOME="$work/cfg é dir" FILEHISTORY_ENDPOINT="$work/run/endpoint"
export WINBACKUP_WINEPREFIX="$work/prefix" WINBACKUP_WINE_DLLDIR="$build/dlls/kernel32" WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" WINBACKUP_WINE="$WINE" WINBACKUP_WINESERVER="$WINESERVER"
mkdir -p "$HOME/Documents" "$work/target" "$work/run"
dos() { printf 'Z:%s' "$1" | tr / '\\'; }
stamp="$work/prefix/.winbackup-fh-registry"

. "$(dirname "$0")/wine-counts.sh"
readers() {   # label, then FHREADERS_* assignments
    label=$1; shift
    env "$@" "$W" wine -- "$build/conformance/fhreaders.exe" > "$work/$label.log" 2>&1
    rc=$?
    tr -d '\r' < "$work/$label.log" | sed 's/^/    /'
    set -- $(wine_counts "$work/$label.log")
    check "fhreaders.exe under winbackup wine, $label (exit status $rc, $1 checks)" \
        [ "$rc" -eq 0 -a "$1" -gt 0 -a "$3" -eq 0 -a "$4" -eq 0 ]
    passed=$((passed + $1 - $3)); failed=$((failed + $3))
}
user_key_exists() {
    WINEPREFIX="$work/prefix" "$WINE" reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\FileHistory' >/dev/null 2>&1
}

# 1. never set up (the first launch also makes the prefix)
readers never-set-up FHREADERS_EXPECT_CONFIG=none FHREADERS_EXPECT_FILETIME=none
check "nothing to write: no registry import recorded" [ ! -e "$stamp" ]
if user_key_exists; then fail "no FileHistory key made for nothing"; else pass "no FileHistory key made for nothing"; fi

# 2. an existing user's configuration, written before Windows' schema
cfg="$XDG_CONFIG_HOME/filehistory"
mkdir -p "$cfg"
cat > "$cfg/Config1.xml" <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<DataProtectionUserConfig SchemaVersion="1">
  <UserName>$(id -un)</UserName>
  <PCName>$(hostname)</PCName>
  <Generation>4</Generation>
  <Library>
    <Folder>$HOME/Documents</Folder>
  </Library>
  <Exclusions/>
  <RetentionPolicies>
    <RetentionPolicy Type="1" MinimumAge="365"/>
  </RetentionPolicies>
  <DPFrequency>3600</DPFrequency>
  <DPStatus>2</DPStatus>
  <Target>
    <TargetName>backup disk</TargetName>
    <TargetUrl>$work/target</TargetUrl>
  </Target>
</DataProtectionUserConfig>
EOX
# ... who has backed up before: the target holds its namespace and catalog
# (a configuration without a TargetId is trusted only on such a target)
ns="$work/target/FileHistory/$(id -un)/$(hostname)/Configuration"
mkdir -p "$ns" && : > "$ns/Catalog.sqlite"
printf 'minutes of the meeting\n' > "$HOME/Documents/minutes.txt"
"$F" run-cycle > "$work/cycle.log" 2>&1
check "filehistory run-cycle backs up the old configuration's folder" [ $? -eq 0 ]
until=$("$F" status --json | sed -n 's/.*"protected_until":"\([^"]*\)".*/\1/p')
check "the cycle finished (protected until $until)" [ -n "$until" ]
filetime=$(( ($(date -u -d "$until" +%s) + 11644473600) * 10000000 ))
start=$(date +%s%N)
readers after-backup FHREADERS_EXPECT_CONFIG="$(dos "$cfg")\\Config" FHREADERS_EXPECT_URL="$work/target/" \
    FHREADERS_EXPECT_DRIVE=FIXED FHREADERS_EXPECT_STATUS=ENABLED FHREADERS_EXPECT_RETENTION="NO LIMIT" \
    FHREADERS_EXPECT_FILETIME="$filetime"
updated_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "the configuration was brought to Windows' form, both copies alike" \
    sh -c 'grep -q "^  <DPStatus>ENABLED</DPStatus>\$" "$1/Config1.xml" && cmp -s "$1/Config1.xml" "$1/Config2.xml"' _ "$cfg"
check "nothing lost: the folder, the retention and the target are the same" \
    sh -c 'case "$("$1" config show --json)" in *"\"target\":\"$2/target\""*"\"folders\":[\"$2/home/Documents\"]"*"\"retention_days\":null"*"\"enabled\":true"*) exit 0;; esac; exit 1' _ "$F" "$work"
mirror=$(ls "$work"/target/FileHistory/*/*/Configuration/Config1.xml 2>/dev/null | head -n 1)
check "the mirror on the target is in Windows' form" \
    sh -c 'grep -q "^    <TargetUrl>$2/</TargetUrl>\$" "$1" && grep -q "^    <TargetDriveType>FIXED</TargetDriveType>\$" "$1"' _ "$mirror" "$work/target"

# 3. nothing changed since: no Wine process for the registry
before=$(stat -c %Y.%Z "$stamp" 2>/dev/null)
sleep 1
start=$(date +%s%N)
readers unchanged FHREADERS_EXPECT_CONFIG="$(dos "$cfg")\\Config" FHREADERS_EXPECT_FILETIME="$filetime"
unchanged_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "unchanged entries are not imported again" [ -n "$before" -a "$(stat -c %Y.%Z "$stamp")" = "$before" ]

# 4. turned off
"$F" config disable >/dev/null
readers turned-off FHREADERS_EXPECT_CONFIG=none FHREADERS_EXPECT_FILETIME="$filetime"

# 5. below drive_c: C:\..., not Z:\...
export XDG_CONFIG_HOME="$work/prefix/drive_c/fh config"
"$F" config target "$work/target" >/dev/null
readers on-drive-c FHREADERS_EXPECT_CONFIG='C:\fh config\filehistory\Config' FHREADERS_EXPECT_URL="$work/target/" \
    FHREADERS_EXPECT_STATUS=ENABLED FHREADERS_EXPECT_RETENTION=DISABLED FHREADERS_EXPECT_FILETIME=none

echo "launch with a registry update: ${updated_ms} ms; without: ${unchanged_ms} ms (fhreaders.exe included)"
finish
