#!/bin/sh
# Generate patches/kernel32-Backup_APIs/ (wine-staging layout: a definition
# file and git format-patch files) from this tree, against a Wine git checkout.
#
#   sh patches/make-patches.sh WINE_SRC [OUTDIR]      (make wine-patches WINE_SRC=...)
#
# 0001 adds the conformance test as dlls/kernel32/tests/backup.c (it detects
#      the stubs and marks what they break todo_wine, so it passes before and
#      after 0002);
# 0002 replaces the stubs in dlls/kernel32/tape.c with dlls/kernel32/backup.c
#      (exports and context), backup_nt.c (the codec's source and sink over NT
#      calls) and the portable codec (libs/wbcore encoder, decoder, header as
#      backup_{encoder,decoder,header}.c, le.h as backup_le.h).
# The out-of-tree parts of backup.c (blocks under WINBACKUP_OUT_OF_TREE: the
# Unix library used with stock Wine) are left out; kernel32 has no C runtime,
# so the codec's malloc/calloc/free/assert come from backup_heap.h.
#
# WINE_SRC is only read: the work happens in a sparse clone in a temporary
# directory.
set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
wine_src=$1
outdir=${2:-$srcdir/patches}
author_name=${WB_PATCH_AUTHOR_NAME:-winbackup}
author_email=${WB_PATCH_AUTHOR_EMAIL:-winbackup@invalid}

if [ -z "$wine_src" ] || ! git -C "$wine_src" rev-parse --git-dir >/dev/null 2>&1; then
    echo "usage: $0 WINE_SRC [OUTDIR]   (WINE_SRC: a git checkout of Wine)" >&2
    exit 2
fi
for f in dlls/kernel32/tape.c dlls/kernel32/Makefile.in dlls/kernel32/tests/Makefile.in; do
    if ! git -C "$wine_src" cat-file -e "HEAD:$f" 2>/dev/null; then
        echo "$wine_src: HEAD has no $f" >&2
        exit 1
    fi
done

mkdir -p "$outdir"
out=$(cd "$outdir" && pwd)/kernel32-Backup_APIs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --shared --no-checkout "$wine_src" "$tmp/wine"
cd "$tmp/wine"
git sparse-checkout set --no-cone /dlls/kernel32/ >/dev/null
git checkout -q HEAD
k32=dlls/kernel32

commit() {   # subject, body
    git add -A "$k32"
    git -c user.name="$author_name" -c user.email="$author_email" commit -q -m "$1" -m "$2"
}

# Add "file" to the SOURCES (or C_SRCS) list of a Wine Makefile.in, in order.
add_sources() {   # makefile file...
    mk=$1; shift
    python3 - "$mk" "$@" <<'EOF'
import re, sys
path, names = sys.argv[1], sys.argv[2:]
text = open(path).read()
m = re.search(r'^(SOURCES|C_SRCS) = \\\n((?:\t[^\n]*\\\n)*\t[^\n]*\n)', text, re.M)
if not m:
    sys.exit(path + ": no SOURCES list")
items = [line.strip().rstrip('\\').strip() for line in m.group(2).splitlines()]
items = sorted(set(items + names))
body = ''.join('\t%s \\\n' % i for i in items[:-1]) + '\t%s\n' % items[-1]
open(path, 'w').write(text[:m.start(2)] + body + text[m.end(2):])
EOF
}

# --- 0001: the test ---------------------------------------------------------
cp "$srcdir/conformance/backup.c" "$k32/tests/backup.c"
add_sources "$k32/tests/Makefile.in" backup.c
commit "kernel32/tests: Add tests for BackupRead, BackupSeek and BackupWrite." \
"The tests detect the current stubs and mark what they break todo_wine."

# --- 0002: the implementation ------------------------------------------------
# the stubs go
python3 - "$k32/tape.c" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
banner = r'/\*{20,}\n \*\t+%s +\(KERNEL32\.@\)'
start = re.search(banner % 'BackupRead', text)
end = re.search(banner % 'CreateTapePartition', text)
if not start or not end or end.start() < start.start():
    sys.exit(path + ": BackupRead/BackupSeek/BackupWrite stubs not found where expected")
open(path, 'w').write(text[:start.start()] + text[end.start():])
EOF

lgpl() {   # one-line description
    cat <<EOF
/*
 * $1
 *
 * Copyright 2026 the winbackup authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with this library; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin St, Fifth Floor, Boston, MA 02110-1301, USA
 */

EOF
}

# drop "#ifdef WINBACKUP_OUT_OF_TREE" blocks (keeping their #else part) and
# point the codec includes at the in-tree copies
in_tree() {
    awk '
        /^#ifdef WINBACKUP_OUT_OF_TREE/ { inblock = 1; keep = 0; next }
        inblock && /^#else/ { keep = 1; next }
        inblock && /^#endif/ { inblock = 0; next }
        !inblock || keep { print }' "$1" |
    sed -e 's|#include "winbackup/stream.h"|#include "backup_stream.h"|' \
        -e 's|#include "le.h"|#include "backup_le.h"|' \
        -e 's|#include "winbackup/errors.h"|#include "backup_errors.h"|' \
        -e 's|(winbackup/stream.h)|(backup_stream.h)|'
}

in_tree "$srcdir/dlls/kernel32/backup.c" >"$k32/backup.c"
in_tree "$srcdir/dlls/kernel32/backup_nt.c" >"$k32/backup_nt.c"
in_tree "$srcdir/dlls/kernel32/backup_private.h" >"$k32/backup_private.h"
for part in encoder decoder header; do
    { lgpl "Backup stream codec: $part"
      in_tree "$srcdir/libs/wbcore/$part.c" |
      sed -e 's|^#include <stdlib.h>|#include "backup_heap.h"|' -e 's|^#include <assert.h>|#include "backup_heap.h"|'
    } >"$k32/backup_$part.c"
done
{ lgpl "Backup stream format and codec interface"; in_tree "$srcdir/include/winbackup/stream.h"; } >"$k32/backup_stream.h"
{ lgpl "Win32 error codes of the backup stream codec"; in_tree "$srcdir/include/winbackup/errors.h"; } >"$k32/backup_errors.h"
{ lgpl "Little-endian field access for the backup stream codec"; in_tree "$srcdir/libs/wbcore/le.h"; } >"$k32/backup_le.h"
{ lgpl "Heap allocation for the backup stream codec"; cat <<'EOF'
/* kernel32 is built without a C runtime: the codec's few allocations come
 * from the process heap.  Its assert()s guard internal invariants that the
 * project's unit tests check; here they compile to nothing. */
#ifndef __WINE_KERNEL32_BACKUP_HEAP_H
#define __WINE_KERNEL32_BACKUP_HEAP_H

#include <stdarg.h>
#include "windef.h"
#include "winbase.h"

#define malloc(size)        HeapAlloc( GetProcessHeap(), 0, (size) )
#define calloc(count, size) HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, (SIZE_T)(count) * (size) )
#define free(ptr)           HeapFree( GetProcessHeap(), 0, (ptr) )
#define assert(expr)        ((void)0)

#endif
EOF
} >"$k32/backup_heap.h"
add_sources "$k32/Makefile.in" backup.c backup_decoder.c backup_encoder.c backup_header.c backup_nt.c
commit "kernel32: Implement BackupRead, BackupSeek and BackupWrite." \
"BackupRead emits the security descriptor, data (or sparse blocks), EAs,
named streams, reparse data and object id of a file as WIN32_STREAM_ID
streams; BackupWrite applies them, BACKUP_LINK included; BackupSeek skips
forward inside the current stream.  The encoding is a small state machine
shared by the three functions; the metadata comes from NT calls on the
handle."

mkdir -p "$out"
rm -f "$out"/*.patch
git format-patch -q -2 -o "$out" --zero-commit
cat >"$out/definition" <<'EOF'
Fixes: kernel32: Implement BackupRead, BackupSeek and BackupWrite (they were stubs failing with ERROR_NOT_SUPPORTED).
EOF
ls "$out"
