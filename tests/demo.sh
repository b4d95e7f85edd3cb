#!/bin/sh
# The README's main job: a real backup and restore of a file with data, a
# sparse range, two named streams and two EAs — with the winbackup command,
# and through an unmodified Windows program under Wine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
wb=$(command -v winbackup || echo "$top/build/winbackup")
# not installed: take the Wine DLLs from the build tree
[ "$wb" = "$top/build/winbackup" ] && export WINBACKUP_WINE_DLLDIR="${WINBACKUP_WINE_DLLDIR:-$top/build/dlls/kernel32}"
work=$(mktemp -d /var/tmp/winbackup-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
status=0

step() { printf '\n== %s\n' "$*"; }
xattrs() { getfattr --absolute-names -d -m '^user\.' -e hex "$1" 2>/dev/null | sed 1d; }

step "a file with 64 KiB of data at 1 MiB in a 16 MiB sparse file, two named streams, two EAs"
python3 -c '
with open("report.doc", "wb") as f:
    f.truncate(16 << 20); f.seek(1 << 20); f.write(b"quarterly figures " * 3641)'
setfattr -n 'user.DosStream.Zone.Identifier:$DATA' -v '0x5b5a6f6e655472616e736665725d0d0a5a6f6e6549643d330d0a00' report.doc
setfattr -n 'user.DosStream.summary:$DATA' -v '0x4175746f73617665640a00' report.doc
setfattr -n user.AUTHOR -v 'ada' report.doc
setfattr -n user.REVISION -v '7' report.doc
ls -ls report.doc; xattrs report.doc

step "winbackup read report.doc > report.bkf"
"$wb" read report.doc > report.bkf || status=1
ls -l report.bkf
"$wb" list report.bkf || status=1

step "winbackup write restored.doc < report.bkf"
"$wb" write restored.doc < report.bkf || status=1
if cmp report.doc restored.doc && [ "$(xattrs report.doc)" = "$(xattrs restored.doc)" ]; then
    echo "restored.doc: same bytes, same streams and EAs; $(du -k restored.doc | cut -f1) KiB allocated of $(($(stat -c %s restored.doc) / 1024)) KiB"
else
    echo "restored.doc differs"; status=1
fi

step "the same through a Windows program under Wine (winbackup wine)"
exe="$top/build/tests/wine/backupcopy.exe"
if [ -f "$exe" ]; then
    cp "$exe" .
    echo "backupcopy.exe: BackupRead report.doc -> wine.bkf, BackupSeek walk, BackupWrite -> wine-restored.doc"
    WINEDEBUG=-all "$wb" wine -- backupcopy.exe report.doc wine.bkf wine-restored.doc || status=1
    if cmp -s report.bkf wine.bkf; then echo "wine.bkf: identical to winbackup's stream ($(stat -c %s wine.bkf) bytes)"
    else echo "wine.bkf differs from report.bkf"; status=1; fi
    if cmp -s report.doc wine-restored.doc && [ "$(xattrs report.doc)" = "$(xattrs wine-restored.doc)" ]; then
        echo "wine-restored.doc: same bytes, same streams and EAs; $(du -k wine-restored.doc | cut -f1) KiB allocated"
    else echo "wine-restored.doc differs"; status=1; fi
else
    echo "skipped: $exe was not built (no mingw-w64)"
fi

[ $status -eq 0 ] && printf '\ndemo: all steps succeeded\n' || printf '\ndemo: FAILED\n'
exit $status
