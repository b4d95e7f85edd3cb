# fhsvcctl.dll: File History service control, a PE DLL built with mingw-w64.
# Sources, imports and exports come from Makefile.in and fhsvcctl.spec (Wine
# layout); this file only turns them into build steps.

fhsvcctl_dir   := $(srcdir)/dlls/fhsvcctl
fhsvcctl_out   := $(O)/dlls/fhsvcctl
# SOURCES may continue over several lines with backslashes
fhsvcctl_SRCS  := $(addprefix $(fhsvcctl_dir)/,$(shell awk '/^SOURCES/ {f=1} f {for (i = 1; i <= NF; i++) if ($$i ~ /\.c$$/) print $$i} f && !/\\$$/ {f=0}' $(fhsvcctl_dir)/Makefile.in))
fhsvcctl_LIBS  := $(addprefix -l,$(shell sed -n 's/^IMPORTS *= *//p' $(fhsvcctl_dir)/Makefile.in))
fhsvcctl_OBJS  := $(patsubst $(fhsvcctl_dir)/%.c,$(fhsvcctl_out)/%.o,$(fhsvcctl_SRCS))
fhsvcctl_HDRS  := $(wildcard $(fhsvcctl_dir)/*.h) $(wildcard $(srcdir)/include/fh*.h)
FHSVCCTL_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
                  -I$(srcdir)/include -I$(fhsvcctl_dir)

ifneq ($(MINGW_CC),)
ALL_TARGETS   += $(fhsvcctl_out)/fhsvcctl.dll $(fhsvcctl_out)/headers.ok
endif
CHECK_SCRIPTS += $(fhsvcctl_dir)/check-fhsvcctl.sh

# .spec -> .def: every "@ stdcall Name(args)" line exports Name (x86_64: no @N decoration)
$(fhsvcctl_out)/fhsvcctl.def: $(fhsvcctl_dir)/fhsvcctl.spec
	@mkdir -p $(dir $@)
	{ echo 'LIBRARY fhsvcctl.dll'; echo 'EXPORTS'; \
	  sed -n 's/^@ *stdcall *\([A-Za-z_][A-Za-z0-9_]*\)(.*/    \1/p' $<; } > $@.tmp && mv $@.tmp $@

$(fhsvcctl_out)/%.o: $(fhsvcctl_dir)/%.c $(fhsvcctl_HDRS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(FHSVCCTL_CFLAGS) -c -o $@ $<

$(fhsvcctl_out)/fhsvcctl.dll: $(fhsvcctl_OBJS) $(fhsvcctl_out)/fhsvcctl.def
	$(MINGW_CC) -shared -o $@ $(fhsvcctl_OBJS) $(fhsvcctl_out)/fhsvcctl.def $(fhsvcctl_LIBS)

# The public headers must compile as C with mingw-w64 (including the GUID
# definitions through initguid.h); the stamp records that they did.
$(fhsvcctl_out)/headers.ok: $(fhsvcctl_dir)/tests/headers.c $(wildcard $(srcdir)/include/fh*.h)
	@mkdir -p $(dir $@)
	$(MINGW_CC) -Wall -Wextra -Werror -I$(srcdir)/include -c -o $(fhsvcctl_out)/headers.o $<
	touch $@

.PHONY: fhsvcctl
fhsvcctl: $(fhsvcctl_out)/fhsvcctl.dll $(fhsvcctl_out)/headers.ok

# Our own build of conformance/fhsvcctl.c (named apart from whatever
# conformance/rules.mk builds, so the two never share a target).
$(fhsvcctl_out)/fhsvcctl_test.exe: $(srcdir)/conformance/fhsvcctl.c $(wildcard $(srcdir)/conformance/include/wine/test.h) $(fhsvcctl_HDRS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) -O1 -g -Wall -I$(srcdir)/conformance/include -I$(srcdir)/include -o $@ $<

# The endpoint file parser on its own (dlls/fhsvcctl/tests/endpoint.c)
$(fhsvcctl_out)/endpoint_test.exe: $(fhsvcctl_dir)/tests/endpoint.c $(fhsvcctl_out)/client.o $(fhsvcctl_HDRS)
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(FHSVCCTL_CFLAGS) -o $@ $< $(fhsvcctl_out)/client.o $(fhsvcctl_LIBS)

ifneq ($(MINGW_CC),)
ALL_TARGETS += $(fhsvcctl_out)/fhsvcctl_test.exe $(fhsvcctl_out)/endpoint_test.exe
endif
fhsvcctl: $(fhsvcctl_out)/fhsvcctl_test.exe

# Import library, so mingw-w64 programs link with -lfhsvcctl as on Windows.
$(fhsvcctl_out)/libfhsvcctl.a: $(fhsvcctl_out)/fhsvcctl.def
	$(MINGW_DLLTOOL) -d $< -D fhsvcctl.dll -l $@

# Installation: the DLL (to drop into a prefix's system32 or next to an .exe)
# under $(libdir)/winbackup/wine, and with `make install-mingw-sysroot` the
# headers and import library into a mingw-w64 sysroot.
MINGW_SYSROOT ?= /usr/x86_64-w64-mingw32
ifneq ($(MINGW_CC),)
ALL_TARGETS     += $(fhsvcctl_out)/libfhsvcctl.a
INSTALL_TARGETS += install-fhsvcctl
endif

install-fhsvcctl: $(fhsvcctl_out)/fhsvcctl.dll $(fhsvcctl_out)/libfhsvcctl.a
	$(INSTALL) -d $(DESTDIR)$(libdir)/winbackup/wine $(DESTDIR)$(includedir)/winbackup/mingw
	$(INSTALL) -m 644 $(fhsvcctl_out)/fhsvcctl.dll $(DESTDIR)$(libdir)/winbackup/wine/fhsvcctl.dll
	$(INSTALL) -m 644 $(srcdir)/include/fhsvcctl.h $(srcdir)/include/fherrors.h $(srcdir)/include/fhcfg.h \
	    $(DESTDIR)$(includedir)/winbackup/mingw/

install-mingw-sysroot: $(fhsvcctl_out)/libfhsvcctl.a
	$(INSTALL) -d $(DESTDIR)$(MINGW_SYSROOT)/include $(DESTDIR)$(MINGW_SYSROOT)/lib
	$(INSTALL) -m 644 $(srcdir)/include/fhsvcctl.h $(srcdir)/include/fherrors.h $(srcdir)/include/fhcfg.h \
	    $(DESTDIR)$(MINGW_SYSROOT)/include/
	$(INSTALL) -m 644 $(fhsvcctl_out)/libfhsvcctl.a $(DESTDIR)$(MINGW_SYSROOT)/lib/

.PHONY: install-fhsvcctl install-mingw-sysroot
