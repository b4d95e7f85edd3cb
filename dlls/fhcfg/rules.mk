# fhcfg.dll: the File History configuration manager COM classes, a PE DLL
# built with mingw-w64.  Makefile.in and fhcfg.spec say what goes in (Wine
# layout); PARENTSRC sources (the service client, shared with fhsvcctl.dll)
# are found in that directory, as Wine's makedep does.

fhcfg_dir    := $(srcdir)/dlls/fhcfg
fhcfg_out    := $(O)/dlls/fhcfg
fhcfg_mkvar   = $(strip $(shell sed -e ':a' -e '/\\$$/{N;s/\\\n//;ba' -e '}' $(fhcfg_dir)/Makefile.in | sed -n 's/^$(1) *= *//p'))
fhcfg_parent := $(fhcfg_dir)/$(call fhcfg_mkvar,PARENTSRC)
fhcfg_SRCS   := $(foreach f,$(call fhcfg_mkvar,SOURCES),$(firstword $(wildcard $(fhcfg_dir)/$(f) $(fhcfg_parent)/$(f))))
fhcfg_LIBS   := $(addprefix -l,$(call fhcfg_mkvar,IMPORTS))
fhcfg_OBJS   := $(patsubst %.c,$(fhcfg_out)/%.o,$(notdir $(fhcfg_SRCS)))
fhcfg_HDRS   := $(wildcard $(fhcfg_dir)/*.h $(fhcfg_parent)/*.h) $(wildcard $(srcdir)/include/fh*.h)
FHCFG_CFLAGS  = -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
                -D_WIN32_WINNT=0x0602 -I$(srcdir)/include -I$(fhcfg_dir) -I$(fhcfg_parent)

ifneq ($(MINGW_CC),)
ALL_TARGETS   += $(fhcfg_out)/fhcfg.dll
INSTALL_TARGETS += install-fhcfg
endif

# .spec -> .def: "@ stdcall [-private] Name(args)"; -private exports are PRIVATE
$(fhcfg_out)/fhcfg.def: $(fhcfg_dir)/fhcfg.spec
	@mkdir -p $(dir $@)
	{ echo 'LIBRARY fhcfg.dll'; echo 'EXPORTS'; \
	  sed -n -e 's/^@ *stdcall *-private *\([A-Za-z_][A-Za-z0-9_]*\)(.*/    \1 PRIVATE/p' \
	         -e 's/^@ *stdcall *\([A-Za-z_][A-Za-z0-9_]*\)(.*/    \1/p' $<; } > $@.tmp && mv $@.tmp $@

$(fhcfg_out)/%.o: $(fhcfg_dir)/%.c $(fhcfg_HDRS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(FHCFG_CFLAGS) -c -o $@ $<

$(fhcfg_out)/%.o: $(fhcfg_parent)/%.c $(fhcfg_HDRS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(FHCFG_CFLAGS) -c -o $@ $<

$(fhcfg_out)/fhcfg.dll: $(fhcfg_OBJS) $(fhcfg_out)/fhcfg.def
	$(MINGW_CC) -shared -static-libgcc -o $@ $(fhcfg_OBJS) $(fhcfg_out)/fhcfg.def $(fhcfg_LIBS)

.PHONY: fhcfg install-fhcfg
fhcfg: $(fhcfg_out)/fhcfg.dll

install-fhcfg: $(fhcfg_out)/fhcfg.dll
	$(INSTALL) -d $(DESTDIR)$(libdir)/winbackup/wine
	$(INSTALL) -m 644 $(fhcfg_out)/fhcfg.dll $(DESTDIR)$(libdir)/winbackup/wine/fhcfg.dll

# conformance/fhcfg.c links COM; dlls/fhcfg/check-fhcfg.sh runs it (and the
# end-to-end program) under Wine with this DLL registered and a real service.
conformance_fhcfg_LIBS = -lole32 -loleaut32 -luuid
ifneq ($(MINGW_CC),)
ifeq ($(HAVE_SQLITE)$(HAVE_XML),11)
CHECK_SCRIPTS += $(fhcfg_dir)/check-fhcfg.sh
endif
endif

# The end-to-end program: fhcfg.dll through COM, fhsvcctl.dll through its import library
ifneq ($(MINGW_CC),)
ALL_TARGETS += $(O)/tests/wine/fhsetup.exe
endif
$(O)/tests/wine/fhsetup.exe: $(srcdir)/tests/wine/fhsetup.c $(O)/dlls/fhsvcctl/libfhsvcctl.a $(wildcard $(srcdir)/include/fh*.h)
	@mkdir -p $(dir $@)
	$(MINGW_CC) -municode -O1 -Wall -I$(srcdir)/include -o $@ $< -L$(O)/dlls/fhsvcctl -lfhsvcctl -lole32 -loleaut32 -luuid

# fhcfg.h must also compile as C++ (-Werror), as the SDK's does.
ifneq ($(MINGW_CXX),)
ALL_TARGETS += $(fhcfg_out)/headers-cxx.ok
endif
$(fhcfg_out)/headers-cxx.ok: $(fhcfg_dir)/tests/headers.cpp $(wildcard $(srcdir)/include/fh*.h)
	@mkdir -p $(dir $@)
	$(MINGW_CXX) -Wall -Wextra -Werror -I$(srcdir)/include -c -o $(fhcfg_out)/headers-cxx.o $<
	touch $@
