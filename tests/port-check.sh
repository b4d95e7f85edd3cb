#!/bin/sh
# A Windows tool ported to Linux: tests/port/bkcopy.c builds unchanged (but
# for its open_file()) with mingw-w64 for Windows and natively against the
# INSTALLED libwinbackup found through pkg-config (make install into a
# scratch DESTDIR).  The native build's stream must equal `winbackup read`,
# and its restore must give back the same bytes and xattrs.
O=${O:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$O" && pwd)
work=$(mktemp -d "${WB_TEST_DIR:-/var/tmp}/wbport.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0
check() { name=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAIL: $name"; fi; }
xattrs() { getfattr --absolute-names -d -m '^user\.' -e hex "$1" 2>/dev/null | sed 1d; }

(cd "$build/.." && ${MAKE:-make} -s install-lib install-headers DESTDIR="$work/root" >/dev/null)
pcfile=$(find "$work/root" -name winbackup.pc | head -n 1)
check "make install (lib, headers, pkg-config file) into a scratch root" [ -n "$pcfile" ]
export PKG_CONFIG_PATH="$(dirname "$pcfile")" PKG_CONFIG_SYSROOT_DIR="$work/root"
cflags=$(pkg-config --cflags winbackup)
libs=$(pkg-config --libs winbackup)
libdir="$work/root$(pkg-config --variable=libdir winbackup | sed "s|^$work/root||")"
# headers and library must come from the scratch root (checked with ldd below)
${CC:-cc} -Wall -Werror $cflags -o "$work/bkcopy" "$top/tests/port/bkcopy.c" $libs -Wl,-rpath,"$libdir"
check "the Windows tool compiles natively against the installed <winbackup/win32.h> (pkg-config: $cflags $libs)" [ -x "$work/bkcopy" ]
check "the library it runs with is the installed one" sh -c 'ldd "$1" | grep -q "$2"' _ "$work/bkcopy" "$libdir/libwinbackup.so"
if [ -n "${MINGW_CC:-}" ]; then
    $MINGW_CC -Wall -Werror -o "$work/bkcopy.exe" "$top/tests/port/bkcopy.c"
    check "the same source compiles for Windows with mingw-w64" [ -f "$work/bkcopy.exe" ]
fi

if setfattr -n user.probe -v 1 "$work" 2>/dev/null; then
    cd "$work" || exit 1
    python3 -c 'import os; f = open("f", "wb"); f.write(os.urandom(300000)); f.close()'
    setfattr -n 'user.DosStream.s:$DATA' -v 0x6e616d656400 f
    setfattr -n user.EA1 -v value f
    ./bkcopy read f f.bkf
    check "bkcopy read exits 0" [ $? -eq 0 ]
    "$build/winbackup" read f > ref.bkf
    check "its stream equals winbackup read" cmp -s f.bkf ref.bkf
    ./bkcopy write f.bkf g
    check "bkcopy write exits 0" [ $? -eq 0 ]
    check "restored bytes identical" cmp -s f g
    check "restored named stream and EA identical" [ "$(xattrs f)" = "$(xattrs g)" ]
else
    skipped=$((skipped + 1)); echo "skip: no user xattrs in $work"
fi
echo "RESULT: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
