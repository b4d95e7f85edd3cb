# Conformance tests: Wine-style API tests built as PE executables with
# mingw-w64, run under Wine by `make check` and on Windows from a zip.
#
# Every conformance/*.c that contains START_TEST becomes
# $(O)/conformance/<name>.exe; the harness is conformance/include/wine/test.h.
# The project's include/ is on the include path (SDK-style headers such as
# fhsvcctl.h); a test that needs more flags or import libraries sets
# conformance_<name>_CFLAGS / conformance_<name>_LIBS.

CONFORMANCE_SRCS   := $(sort $(shell grep -l 'START_TEST' $(wildcard $(srcdir)/conformance/*.c) /dev/null 2>/dev/null))
CONFORMANCE_EXES   := $(patsubst $(srcdir)/conformance/%.c,$(O)/conformance/%.exe,$(CONFORMANCE_SRCS))
CONFORMANCE_CFLAGS  = -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
                      -I$(srcdir)/conformance/include -I$(srcdir)/include

.PHONY: conformance conformance-zip

$(O)/conformance/%.exe: $(srcdir)/conformance/%.c $(srcdir)/conformance/include/wine/test.h
	@mkdir -p $(dir $@)
	$(MINGW_CC) $(CONFORMANCE_CFLAGS) $(conformance_$*_CFLAGS) -static-libgcc -o $@ $< $(conformance_$*_LIBS)

ifneq ($(MINGW_CC),)
conformance: $(CONFORMANCE_EXES)
ALL_TARGETS += $(CONFORMANCE_EXES)
else
conformance:
	@echo "conformance: no mingw-w64 compiler (configure found no x86_64-w64-mingw32-gcc)" >&2; exit 1
endif

# Mode (a): the tests against Wine's own kernel32, in a throw-away prefix
# (the script reports a skip when mingw-w64 or Wine is missing).
CHECK_SCRIPTS += $(srcdir)/conformance/run-wine.sh

# For a person on Windows: the .exe files and run.cmd (CRLF line ends).
conformance-zip: $(O)/conformance.zip

$(O)/conformance.zip: $(CONFORMANCE_EXES) $(srcdir)/conformance/run.cmd
	@mkdir -p $(O)/conformance
	sed 's/\r*$$/\r/' $(srcdir)/conformance/run.cmd > $(O)/conformance/run.cmd
	rm -f $@
	if command -v zip >/dev/null 2>&1; then \
	    zip -j -q $@ $(CONFORMANCE_EXES) $(O)/conformance/run.cmd; \
	else \
	    python3 -c 'import os, sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED); [z.write(f, os.path.basename(f)) for f in sys.argv[2:]]; z.close()' \
	        $@ $(CONFORMANCE_EXES) $(O)/conformance/run.cmd; \
	fi
