# patches/: the wine-staging patch set for Wine's kernel32.
#
# tests/wine-patches-check.sh regenerates the set against Debian bookworm's
# wine source package (8.0~repack; downloaded once with apt-get into a
# private apt state, cached in $(O)/cache/wine-src or $WB_WINE_SRC_CACHE),
# checks that it and the committed set apply with git am and give the same
# tree, and compiles what it adds or changes in dlls/kernel32 with mingw-w64
# as Wine builds PE code.  A failed download fails the check; without
# mingw-w64 it reports a skip.
CHECK_SCRIPTS += $(srcdir)/tests/wine-patches-check.sh

# Run it alone, with the configured cross compiler:  make wine-patches-check
.PHONY: wine-patches-check
wine-patches-check:
	MINGW_CC="$(MINGW_CC)" sh $(srcdir)/tests/wine-patches-check.sh
