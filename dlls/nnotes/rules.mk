# dlls/nnotes: nnotes.dll, the Domino backup API for Windows programs, as a
# Wine PE + Unix DLL (Makefile.in: MODULE, IMPORTS, SOURCES; a source with
# "#pragma makedep unix" goes into the Unix library nnotes.so).  The PE side
# links the engine's portable core (libs/nsf/core) built with mingw-w64; the
# Unix side links libnsf.a (core + Linux recorders).  Same toolchain needs
# as dlls/kernel32 (mingw-w64, winebuild, libwinecrt0.a, ntdll.so).

nn_dir      := $(srcdir)/dlls/nnotes
nn_out      := $(O)/dlls/nnotes
nn_mkvar     = $(strip $(shell sed -e ':a' -e '/\\$$/{N;s/\\\n//;ba' -e '}' $(nn_dir)/Makefile.in | sed -n 's/^$(1) *= *//p'))
nn_imports  := $(call nn_mkvar,IMPORTS)
nn_sources  := $(call nn_mkvar,SOURCES)
nn_unix_srcs := $(foreach f,$(nn_sources),$(if $(shell grep -l '^\#pragma makedep unix' $(nn_dir)/$(f)),$(f)))
nn_pe_srcs  := $(filter-out $(nn_unix_srcs),$(nn_sources))
nn_dll      := $(nn_out)/nnotes.dll
nn_so       := $(nn_out)/nnotes.so
NN_MINGW_CFLAGS = -O2 -g -Wall -Wno-unused-parameter -D_WIN32_WINNT=0x0600 -I$(srcdir)/include/domino -I$(nn_dir)
# (libs/nsf/rules.mk is read after this file: its variables are not set yet)
nn_core_srcs := $(sort $(wildcard $(srcdir)/libs/nsf/core/*.c))
nn_hdrs     := $(wildcard $(nn_dir)/*.h $(srcdir)/libs/nsf/*.h $(srcdir)/libs/nsf/posix/*.h $(srcdir)/include/domino/*.h)
nn_pe_objs  := $(patsubst %.c,$(nn_out)/pe/%.o,$(nn_pe_srcs)) \
               $(patsubst $(srcdir)/libs/nsf/core/%.c,$(nn_out)/pe/core/%.o,$(nn_core_srcs))

ifneq ($(and $(MINGW_CC),$(WINEBUILD),$(wildcard $(k32_winecrt0)),$(wildcard $(k32_ntdll_so))),)
ALL_TARGETS     += $(nn_dll) $(nn_so) $(nn_out)/libnnotes.a
INSTALL_TARGETS += install-nnotes
endif

$(nn_out)/pe/%.o: $(nn_dir)/%.c $(nn_hdrs)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(NN_MINGW_CFLAGS) -c -o $@ $<

$(nn_out)/pe/core/%.o: $(srcdir)/libs/nsf/core/%.c $(nn_hdrs)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(NN_MINGW_CFLAGS) -c -o $@ $<

$(nn_out)/nnotes.def: $(nn_dir)/nnotes.spec
	@mkdir -p $(dir $@)
	$(WINEBUILD) --def -m64 --target x86_64-w64-mingw32 -E $< -o $@

$(nn_dll): $(nn_pe_objs) $(nn_out)/nnotes.def
	$(MINGW_CC) -shared -o $@ $(nn_pe_objs) $(nn_out)/nnotes.def $(k32_winecrt0) $(addprefix -l,$(nn_imports))
	$(WINEBUILD) --builtin $@

$(nn_so): $(addprefix $(nn_dir)/,$(nn_unix_srcs)) $(nn_hdrs) $(O)/libnsf.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(NSF_CFLAGS) $(CFLAGS) -shared -Wl,--exclude-libs,ALL \
	    -o $@ $(addprefix $(nn_dir)/,$(nn_unix_srcs)) $(O)/libnsf.a -lpthread \
	    -L$(dir $(k32_ntdll_so)) -l:ntdll.so

# Import library, so mingw-w64 programs link with -lnnotes as with the toolkit's notes.lib.
$(nn_out)/libnnotes.a: $(nn_out)/nnotes.def
	$(MINGW_DLLTOOL) -d $< -D nnotes.dll -l $@

.PHONY: nnotes install-nnotes
nnotes: $(nn_dll) $(nn_so) $(nn_out)/libnnotes.a

install-nnotes: $(nn_dll) $(nn_so)
	$(INSTALL) -d $(DESTDIR)$(wine_dlldir)
	$(INSTALL) -m 644 $(nn_dll) $(DESTDIR)$(wine_dlldir)/nnotes.dll
	$(INSTALL) -m 755 $(nn_so) $(DESTDIR)$(wine_dlldir)/nnotes.so

# The Domino headers and the import library into a mingw-w64 sysroot, next
# to what dlls/fhsvcctl installs there (make install-mingw-sysroot).
install-mingw-sysroot: install-mingw-sysroot-nnotes
.PHONY: install-mingw-sysroot-nnotes
install-mingw-sysroot-nnotes: $(nn_out)/libnnotes.a
	$(INSTALL) -d $(DESTDIR)$(MINGW_SYSROOT)/include/domino $(DESTDIR)$(MINGW_SYSROOT)/lib
	$(INSTALL) -m 644 $(wildcard $(srcdir)/include/domino/*.h) $(DESTDIR)$(MINGW_SYSROOT)/include/domino/
	$(INSTALL) -m 644 $(nn_out)/libnnotes.a $(DESTDIR)$(MINGW_SYSROOT)/lib/

ifneq ($(MINGW_CC),)
CHECK_SCRIPTS += $(nn_dir)/check-nnotes.sh
endif
