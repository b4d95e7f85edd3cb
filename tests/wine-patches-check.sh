#!/bin/sh
# Checks patches/kernel32-Backup_APIs against Wine's source as Debian ships it
# (bookworm's "wine" source package, 8.0~repack):
#
#   1. the source package is fetched with apt-get into a private apt state
#      (the machine's apt configuration is not changed) and kept in a cache
#      directory, so only the first run downloads; only dlls/kernel32/,
#      include/ and the dlls' .spec files are extracted, and the Debian
#      patches (debian/patches/series) that touch them are applied;
#   2. patches/make-patches.sh generates the patch set against that tree and
#      the result applies with "git am" on a fresh clone; the committed patch
#      files must apply with "git apply --check" and "git am" too, and give
#      exactly the tree the regenerated set gives: a committed set that does
#      not apply or is out of date with the sources is a failure (regenerate
#      it with WB_REGENERATE_PATCHES=1, which writes the set made here over
#      patches/kernel32-Backup_APIs before checking it);
#   3. every .c file the patches add or change in dlls/kernel32 is compiled as
#      Wine 8.0 builds PE code (flags from its configure.ac and makedep.c, with
#      -Werror as Debian configures it), and must take all its headers from
#      Wine's tree (a header missing from the tarball because it is generated
#      from an .idl is made with widl); one pass per file;
#   4. the undefined symbols of the new objects must be defined by the patched
#      objects or exported (not as stubs) by kernel32 or the DLLs its
#      Makefile.in IMPORTS, per their .spec files in Debian's tree.
#
# Prints "RESULT: P passed, F failed, S skipped"; exits non-zero on failure.
# A download that fails is a failure: without the source nothing is checked.
#
# Environment:
#   MINGW_CC            cross compiler (default x86_64-w64-mingw32-gcc)
#   WB_WINE_SRC_CACHE   where the .dsc and tarballs are kept (default
#                       $O/cache/wine-src, inside the build tree: a test writes
#                       nothing outside it or a temporary directory)
#   WB_REGENERATE_PATCHES=1  write the regenerated set over the committed one
#   WB_WINE_SRC_SUITE   Debian suite (default bookworm)
#   WB_DEBIAN_MIRROR    (default http://deb.debian.org/debian)

srcdir=$(cd "$(dirname "$0")/.." && pwd)
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
suite=${WB_WINE_SRC_SUITE:-bookworm}
mirror=${WB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
committed=$srcdir/patches/kernel32-Backup_APIs

passed=0 failed=0 skipped=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }
finish() {
    echo "RESULT: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}

for tool in "$MINGW_CC" git python3 apt-get tar xz sha256sum patch; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        skip "$tool not found"
        finish
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

# --- 1. the source package ---------------------------------------------------
cache=${WB_WINE_SRC_CACHE:-${O:-build}/cache/wine-src}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    fail "cache directory $cache is not writable"
    finish
fi

# the files a .dsc lists, "sha256 name" per line
dsc_files() { awk '/^Checksums-Sha256:/ { f = 1; next } /^[^ ]/ { f = 0 } f && NF == 3 { print $1 "  " $3 }' "$1"; }

# newest cached .dsc whose files are all present and intact
cached_dsc() {
    for d in $(ls "$cache"/wine_*.dsc 2>/dev/null | sort -rV); do
        if dsc_files "$d" | (cd "$cache" && sha256sum -c --quiet - >/dev/null 2>&1); then
            echo "$d"
            return
        fi
    done
}

dsc=$(cached_dsc)
if [ -n "$dsc" ]; then
    echo "using cached $(basename "$dsc") in $cache"
else
    echo "downloading Debian's wine source package ($suite) into $cache"
    mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/dl"
    echo "deb-src $mirror $suite main" >"$tmp/apt/sources.list"
    set -- -q -o Dir::Etc::SourceList="$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$tmp/apt/lists" -o Dir::Cache="$tmp/apt/cache" \
        -o Acquire::Retries=0 -o Acquire::http::Timeout=30
    # as root apt would drop to _apt, which cannot write the private directories
    [ "$(id -u)" -eq 0 ] && set -- "$@" -o APT::Sandbox::User=root
    if ! apt-get "$@" update >"$log" 2>&1 || grep -q '^[WE]: Failed to fetch' "$log" ||
       ! (cd "$tmp/dl" && apt-get "$@" source --download-only wine) >>"$log" 2>&1; then
        fail "cannot download Debian's wine source package: $(grep '^[WE]:' "$log" | head -n 1)"
        finish
    fi
    new=$(ls "$tmp/dl"/wine_*.dsc 2>/dev/null | head -n 1)
    if [ -z "$new" ] || ! dsc_files "$new" | (cd "$tmp/dl" && sha256sum -c --quiet -) >>"$log" 2>&1; then
        fail "downloaded wine source package is incomplete or does not match its .dsc"
        cat "$log"
        finish
    fi
    # the .dsc last: a cache interrupted halfway has no .dsc and is not used
    for f in $(dsc_files "$new" | awk '{ print $2 }'); do mv -f "$tmp/dl/$f" "$cache/"; done
    mv -f "$new" "$cache/"
    dsc=$cache/$(basename "$new")
fi
orig=$cache/$(dsc_files "$dsc" | awk '$2 ~ /\.orig\.tar\./ { print $2 }')
debtar=$cache/$(dsc_files "$dsc" | awk '$2 ~ /\.debian\.tar\./ { print $2 }')
version=$(sed -n 's/^Version: //p' "$dsc")

tree=$tmp/wine
mkdir -p "$tree" "$tmp/deb"
top=$(tar -tf "$orig" 2>/dev/null | head -n 1)
top=${top%%/*}
if ! tar -xf "$orig" -C "$tree" --strip-components=1 --wildcards \
        "$top/dlls/kernel32/*" "$top/include/*" "$top/dlls/*/*.spec" 2>"$log" ||
   ! tar -xf "$debtar" -C "$tmp/deb" debian/patches 2>>"$log"; then
    fail "cannot extract $(basename "$orig") / $(basename "$debtar")"
    cat "$log"
    finish
fi

git -C "$tree" init -q
git -C "$tree" add -A
git -C "$tree" -c user.name=check -c user.email=check@invalid commit -q -m "wine $version (orig)"
# Debian's patches, those parts of them that touch what was extracted
for p in $(sed -e 's/#.*//' "$tmp/deb/debian/patches/series" | awk 'NF { print $1 }'); do
    grep -qE '^\+\+\+ [^/ ]+/(dlls/kernel32/|include/|dlls/[^/]+/[^/]+\.spec)' "$tmp/deb/debian/patches/$p" || continue
    if (cd "$tree" && git apply -p1 --include='dlls/kernel32/*' --include='include/*' \
            --include='dlls/*.spec' "$tmp/deb/debian/patches/$p") 2>"$log"; then
        echo "applied Debian patch $p ($(grep -E '^\+\+\+ ' "$tmp/deb/debian/patches/$p" |
            sed 's|^+++ [^/]*/||; s|[[:space:]].*||' | grep -E '^(dlls/kernel32/|include/|dlls/.*\.spec)' | tr '\n' ' '| sed 's/ $//'))"
    else
        fail "Debian patch $p does not apply to the extracted tree"
        cat "$log"
        finish
    fi
done
git -C "$tree" add -A
git -C "$tree" -c user.name=check -c user.email=check@invalid commit -q --allow-empty -m "debian/patches"

# --- 2. the patch set --------------------------------------------------------
if WB_PATCH_AUTHOR_NAME=check WB_PATCH_AUTHOR_EMAIL=check@invalid \
        sh "$srcdir/patches/make-patches.sh" "$tree" "$tmp/gen" >"$log" 2>&1; then
    :
else
    fail "patches/make-patches.sh against wine $version"
    cat "$log"
    finish
fi
git clone -q "$tree" "$tmp/am"
if git -C "$tmp/am" -c user.name=check -c user.email=check@invalid am -q \
        "$tmp/gen/kernel32-Backup_APIs"/*.patch >"$log" 2>&1; then
    pass "make-patches.sh's patch set for wine $version applies with git am" \
         "($(ls "$tmp/gen/kernel32-Backup_APIs"/*.patch | wc -l) patches)"
else
    fail "make-patches.sh's patch set for wine $version does not apply with git am"
    cat "$log"
    finish
fi

if [ "$WB_REGENERATE_PATCHES" = 1 ]; then
    rm -f "$committed"/*.patch
    cp "$tmp/gen/kernel32-Backup_APIs"/* "$committed/"
    echo "wrote the set regenerated against wine $version to $committed"
fi
# The committed files: they must apply to Wine 8.0 as Debian ships it, and
# give the tree the sources give today.
git clone -q "$tree" "$tmp/committed"
committed_ok=1
for p in "$committed"/*.patch; do
    if ! (cd "$tmp/committed" && git apply --check "$p") >"$log" 2>&1; then
        committed_ok=0
        fail "committed $(basename "$p"): git apply --check fails on wine $version"
        sed -n 's/^error: patch failed: /    hunk at /p; s/^error: \(.*does not apply\)/    \1/p' "$log"
    fi
    if ! git -C "$tmp/committed" -c user.name=check -c user.email=check@invalid am -q "$p" >"$log" 2>&1; then
        committed_ok=0
        fail "committed $(basename "$p"): git am fails on wine $version"
        sed 's/^/    /' "$log" | head -n 20
        break
    fi
done
if [ $committed_ok -eq 1 ]; then
    pass "the committed patch set applies to wine $version (git apply --check, git am)"
    if diff -r -x .git "$tmp/committed" "$tmp/am" >"$log" 2>&1; then
        pass "the committed patch set gives exactly the tree the sources give today"
    else
        fail "the committed patch set is out of date with the sources (WB_REGENERATE_PATCHES=1 sh tests/wine-patches-check.sh):"
        (cd "$tmp" && diff -rq -x .git committed am) | sed 's/^/    /'
    fi
fi

# --- 3. compile what the patches add or change -------------------------------
cd "$tmp/am" || finish
k32=dlls/kernel32
sources=$(git diff --name-only HEAD~2 HEAD -- "$k32" | grep '\.c$')
mkvar() {   # makefile variable -> its value, continuation lines joined
    sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$1" | sed -n "s/^$2 *= *//p" | tr -s ' \t' '  '
}

# Wine 8.0's configure.ac: ${arch}_EXTRACFLAGS, then the WINE_TRY_PE_CFLAGS
# list kept when the compiler accepts it (x86_64 part and -gdwarf-4 included),
# and -Werror because Debian configures with --enable-werror.
pe_cflags="-D__WINE_PE_BUILD -Wall -g -O2"
for flag in -fno-strict-aliasing -Wdeclaration-after-statement -Wempty-body -Wignored-qualifiers \
        -Winit-self -Wno-packed-not-aligned -Wno-pragma-pack -Wshift-overflow=2 -Wstrict-prototypes \
        -Wtype-limits -Wunused-but-set-parameter -Wvla -Wwrite-strings -Wpointer-arith -Wlogical-op \
        -Wabsolute-value -Wformat-overflow -Wnonnull -mcx16 -gdwarf-4; do
    probe=$flag
    case $flag in -Wno-*) probe=-W${flag#-Wno-} ;; esac   # gcc accepts any -Wno-foo silently
    if echo 'int x;' | "$MINGW_CC" -Werror $probe -c -x c -o /dev/null - 2>/dev/null; then
        pe_cflags="$pe_cflags $flag"
    fi
done
pe_cflags="$pe_cflags -Werror -Werror=implicit-function-declaration"
gcc_incdir=$("$MINGW_CC" -print-file-name=include)
widl=$(command -v widl || { [ -x /usr/lib/wine/widl ] && echo /usr/lib/wine/widl; })

# headers a compile took from outside Wine's tree (the compiler's own excepted)
foreign_headers() {   # depfile
    sed -e 's/\\$//' -e 's/^[^:]*://' "$1" | tr ' ' '\n' | grep '^/' | grep -v "^$gcc_incdir/" | sort -u
}

# A generated header (from an .idl) that the tarball lacks: the mingw-w64 one
# would be found instead, silently, so make Wine's with widl (Debian's
# wine64-tools), or take the one libwine-dev installs, which is the same 8.0.
make_header() {   # name.h
    idl=include/${1%.h}.idl
    [ -f "$idl" ] || return 1
    if [ -n "$widl" ] && "$widl" -o "include/$1" -Iinclude -D__WINESRC__ -h "$idl" >>"$log" 2>&1; then
        echo "generated include/$1 with $widl"
    elif [ -f "/usr/include/wine/wine/windows/$1" ]; then
        cp "/usr/include/wine/wine/windows/$1" "include/$1" && echo "took include/$1 from libwine-dev"
    else
        return 1
    fi
}

mkdir -p "$tmp/obj/tests"
module_objs=""
for src in $sources; do
    dir=$(dirname "$src")
    obj=$tmp/obj/${src#$k32/}
    obj=${obj%.c}.o
    # makedep.c: -I<dir> -Iinclude -Iinclude/msvcrt, the CRT define (kernel32
    # links -nodefaultlibs, its tests msvcrt: _MSVCR_VER=0 for both),
    # -D__WINESRC__, the Makefile.in's EXTRADEFS
    cflags="-I$dir -Iinclude -Iinclude/msvcrt -D_MSVCR_VER=0 -D__WINESRC__ $(mkvar "$dir/Makefile.in" EXTRADEFS)"
    # headers first (preprocessing only: with a mingw-w64 header in place of
    # a generated one the compile itself may fail on conflicts)
    tries=0 ok=1
    : >"$log"
    while [ $tries -lt 8 ]; do
        tries=$((tries + 1))
        # shellcheck disable=SC2086
        "$MINGW_CC" -M -MF "$obj.d" "$src" $cflags -D__WINE_PE_BUILD >>"$log" 2>&1 || break
        foreign=$(foreign_headers "$obj.d")
        [ -z "$foreign" ] && break
        made=0
        for h in $foreign; do make_header "$(basename "$h")" && made=1; done
        if [ $made -eq 0 ] || [ $tries -eq 8 ]; then
            echo "takes headers from outside Wine's tree (Wine has its own): $foreign" >>"$log"
            ok=0
            break
        fi
    done
    # shellcheck disable=SC2086
    if [ $ok -eq 1 ] && ! "$MINGW_CC" -c -o "$obj" "$src" $cflags $pe_cflags >>"$log" 2>&1; then
        ok=0
    fi
    if [ $ok -eq 1 ]; then
        pass "compile $src (wine $version, $MINGW_CC)"
        case $src in $k32/tests/*) ;; *) module_objs="$module_objs $obj" ;; esac
    else
        fail "compile $src (wine $version, $MINGW_CC)"
        sed 's/^/    /' "$log" | head -n 40
    fi
done
echo "compiler flags: $pe_cflags"

# --- 4. what the new objects call exists in Wine 8.0 -------------------------
nm=$(echo "$MINGW_CC" | sed 's/gcc$/nm/')
added=$(git diff --name-only --diff-filter=A HEAD~2 HEAD -- "$k32" | grep '\.c$' | grep -v "^$k32/tests/")
new_objs=""
for src in $added; do
    o=$tmp/obj/${src#$k32/}
    o=${o%.c}.o
    case " $module_objs " in *" $o "*) new_objs="$new_objs $o" ;; esac
done
if ! command -v "$nm" >/dev/null 2>&1; then
    skip "symbol check: $nm not found"
elif [ -z "$new_objs" ]; then
    skip "symbol check: no compiled objects for the added sources"
else
    # exports of a .spec usable by a caller on x86_64: not stubs, not -private,
    # not restricted to other architectures
    spec_exports() {
        awk '$1 ~ /^(@|[0-9]+)$/ && $2 != "stub" {
                i = 3; skip = 0
                while ($i ~ /^-/) {
                    if ($i == "-private") skip = 1
                    if ($i ~ /^-arch=/) {
                        a = substr($i, 7)
                        if (a ~ /^!/) { if (a ~ /(win64|x86_64)/) skip = 1 }
                        else if (a !~ /(win64|x86_64)/) skip = 1
                    }
                    i++
                }
                name = $i; sub(/\(.*/, "", name)
                if (!skip) print name
            }' "$@"
    }
    specs=$k32/kernel32.spec
    for dll in $(mkvar "$k32/Makefile.in" IMPORTS); do
        [ -f "dlls/$dll/$dll.spec" ] && specs="$specs dlls/$dll/$dll.spec"
    done
    # shellcheck disable=SC2086
    { spec_exports $specs; "$nm" --defined-only $module_objs | awk 'NF == 3 { print $3 }'; } |
        sort -u >"$tmp/have"
    # shellcheck disable=SC2086
    "$nm" -u $new_objs | awk '$1 == "U" { print $2 }' | sed 's/^__imp_//' | sort -u >"$tmp/need"
    missing=$(comm -23 "$tmp/need" "$tmp/have" | tr '\n' ' ')
    if [ -z "$missing" ]; then
        pass "symbols the new objects use ($(wc -l <"$tmp/need")) are exported by $(echo $specs | sed 's|dlls/[^/]*/||g') of wine $version or defined by the patch"
    else
        fail "symbols the new objects use that wine $version does not export: $missing"
    fi
fi

finish
