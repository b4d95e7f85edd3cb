# dlls/kernel32: BackupRead/BackupSeek/BackupWrite as a Wine PE + Unix DLL.
#
# Wine's own kernel32 cannot be replaced, so the exports are built into a
# DLL of their own (MODULE in Makefile.in) that a patched copy of Wine's
# kernel32 forwards to (see tools/winbackup/wine.c).  Makefile.in keeps the
# Wine form (MODULE, IMPORTS, SOURCES); as in Wine, a source holding
# "#pragma makedep unix" goes into the Unix library (MODULE with .so).
#
# Needs mingw-w64 and Wine's developer tools (Debian: wine64-tools for
# winebuild, libwine-dev for libwinecrt0.a); without them nothing here is built.

k32_dir      := $(srcdir)/dlls/kernel32
k32_out      := $(O)/dlls/kernel32
k32_mkvar     = $(strip $(shell sed -e ':a' -e '/\\$$/{N;s/\\\n//;ba' -e '}' $(k32_dir)/Makefile.in | sed -n 's/^$(1) *= *//p'))
k32_module   := $(call k32_mkvar,MODULE)
k32_imports  := $(call k32_mkvar,IMPORTS)
k32_sources  := $(call k32_mkvar,SOURCES)
k32_unix_srcs := $(foreach f,$(k32_sources),$(if $(shell grep -l '^\#pragma makedep unix' $(k32_dir)/$(f)),$(f)))
k32_pe_srcs  := $(filter-out $(k32_unix_srcs),$(k32_sources))
k32_dll      := $(k32_out)/$(k32_module)
k32_so       := $(k32_out)/$(k32_module:.dll=.so)
k32_spec     := $(k32_dir)/$(k32_module:.dll=.spec)

WINEBUILD    ?= $(shell command -v winebuild 2>/dev/null)
WINE_LIBDIR  ?= $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/wine /usr/lib/wine /usr/local/lib/wine))
k32_winecrt0 := $(WINE_LIBDIR)/x86_64-windows/libwinecrt0.a
k32_ntdll_so := $(WINE_LIBDIR)/x86_64-unix/ntdll.so
wine_dlldir   = $(libdir)/winbackup/wine

K32_MINGW_CFLAGS = -O2 -g -Wall -Wno-unused-parameter -D_WIN32_WINNT=0x0600 -D_KERNEL32_ -DWINBACKUP_OUT_OF_TREE \
                   -I$(srcdir)/include -I$(k32_dir)
k32_pe_objs  := $(patsubst %.c,$(k32_out)/pe/%.o,$(k32_pe_srcs)) \
                $(patsubst $(srcdir)/libs/wbcore/%.c,$(k32_out)/pe/wbcore/%.o,$(core_SRCS))

ifneq ($(and $(MINGW_CC),$(WINEBUILD),$(wildcard $(k32_winecrt0)),$(wildcard $(k32_ntdll_so))),)
ALL_TARGETS     += $(k32_dll) $(k32_so)
INSTALL_TARGETS += install-wine-dll
endif

.PHONY: wine-dll install-wine-dll
wine-dll: $(k32_dll) $(k32_so)

$(k32_out)/pe/%.o: $(k32_dir)/%.c $(wildcard $(k32_dir)/*.h) $(HEADERS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(K32_MINGW_CFLAGS) -c -o $@ $<

$(k32_out)/pe/wbcore/%.o: $(srcdir)/libs/wbcore/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(K32_MINGW_CFLAGS) -c -o $@ $<

$(k32_out)/$(k32_module:.dll=.def): $(k32_spec)
	@mkdir -p $(dir $@)
	$(WINEBUILD) --def -m64 --target x86_64-w64-mingw32 -E $< -o $@

# The PE side: marked builtin so that Wine loads its Unix library; on Windows
# the mark is just bytes in the DOS stub area.
$(k32_dll): $(k32_pe_objs) $(k32_out)/$(k32_module:.dll=.def)
	$(MINGW_CC) -shared -o $@ $(k32_pe_objs) $(k32_out)/$(k32_module:.dll=.def) $(k32_winecrt0) \
	    $(addprefix -l,$(k32_imports))
	$(WINEBUILD) --builtin $@

# The Unix side: the codec and the POSIX backend from libwinbackup.a; ntdll.so
# provides wine_server_handle_to_fd.
$(k32_so): $(addprefix $(k32_dir)/,$(k32_unix_srcs)) $(wildcard $(k32_dir)/*.h) $(O)/libwinbackup.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(CFLAGS) -shared -fvisibility=hidden -Wl,--exclude-libs,ALL \
	    -o $@ $(addprefix $(k32_dir)/,$(k32_unix_srcs)) $(O)/libwinbackup.a \
	    -L$(dir $(k32_ntdll_so)) -l:ntdll.so

install-wine-dll: $(k32_dll) $(k32_so)
	$(INSTALL) -d $(DESTDIR)$(wine_dlldir)
	$(INSTALL) -m 644 $(k32_dll) $(DESTDIR)$(wine_dlldir)/$(k32_module)
	$(INSTALL) -m 755 $(k32_so) $(DESTDIR)$(wine_dlldir)/$(k32_module:.dll=.so)

# `winbackup wine` looks for the installed DLLs here unless WINBACKUP_WINE_DLLDIR says otherwise.
$(O)/tools/winbackup/wine.o: CPPFLAGS += -DWB_WINE_DLLDIR='"$(wine_dlldir)"' -DWB_WINE_LIBDIR='"$(WINE_LIBDIR)"' \
    -DWB_WINE_LOADER='"$(WINE)"' -DWB_WINESERVER='"$(WINESERVER)"'

# wine-staging style patches for Wine itself (patches/kernel32-Backup_APIs/):
#   make wine-patches WINE_SRC=/path/to/wine (a git checkout; only read)
.PHONY: wine-patches
wine-patches:
	@if [ -z "$(WINE_SRC)" ]; then echo "usage: make wine-patches WINE_SRC=/path/to/wine-git-checkout" >&2; exit 2; fi
	sh $(srcdir)/patches/make-patches.sh "$(WINE_SRC)" $(srcdir)/patches
