# libs/nsf: the NSF backup engine (docs/nsf-backup.md, docs/nsf-changeinfo.md)
#
#   core/    portable (no OS calls): change-info format, API rules, texts, LMBCS;
#            also compiled with mingw-w64 into nnotes.dll (dlls/nnotes)
#   posix/   Linux recorders (reflink + FIEMAP, read lease), lock, apply sink
#   native/  libnotes.so: the Domino C API exports for Linux programs
#
# Outputs: $(O)/libnsf.a (core + posix, PIC: linked into the CLI and into
# nnotes.dll's Unix library), $(O)/libnotes.so + winbackup-notes.pc, and the
# ASan/UBSan archive the unit tests link.

nsf_core_SRCS   := $(sort $(wildcard $(srcdir)/libs/nsf/core/*.c))
nsf_posix_SRCS  := $(sort $(wildcard $(srcdir)/libs/nsf/posix/*.c))
nsf_native_SRCS := $(sort $(wildcard $(srcdir)/libs/nsf/native/*.c))
nsf_HDRS        := $(wildcard $(srcdir)/libs/nsf/*.h $(srcdir)/libs/nsf/posix/*.h $(srcdir)/include/domino/*.h)
nsf_OBJS        := $(patsubst $(srcdir)/%.c,$(O)/%.o,$(nsf_core_SRCS) $(nsf_posix_SRCS))
nsf_SAN_OBJS    := $(patsubst $(srcdir)/%.c,$(O)/san/%.o,$(nsf_core_SRCS) $(nsf_posix_SRCS) $(nsf_native_SRCS))
NSF_CFLAGS       = -I$(srcdir)/include/domino -fvisibility=hidden

$(O)/libs/nsf/%.o: $(srcdir)/libs/nsf/%.c $(nsf_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(NSF_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/san/libs/nsf/%.o: $(srcdir)/libs/nsf/%.c $(nsf_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(NSF_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(O)/libnsf.a: $(nsf_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/libnsf-san.a: $(nsf_SAN_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/libnotes.so: $(patsubst $(srcdir)/%.c,$(O)/%.o,$(nsf_native_SRCS)) $(O)/libnsf.a
	$(CC) -shared -Wl,-soname,libnotes.so.0 $(LDFLAGS) -o $@ $(filter %.o,$^) $(O)/libnsf.a -lpthread

winbackup-notes.pc: $(srcdir)/libs/nsf/winbackup-notes.pc.in
	sed -e 's|@prefix@|$(prefix)|g; s|@exec_prefix@|$(exec_prefix)|g; s|@libdir@|$(libdir)|g' \
	    -e 's|@includedir@|$(includedir)|g; s|@PACKAGE_VERSION@|$(PACKAGE_VERSION)|g' $< > $@

ALL_TARGETS     += $(O)/libnsf.a $(O)/libnotes.so winbackup-notes.pc
INSTALL_TARGETS += install-nsf

.PHONY: install-nsf
install-nsf: $(O)/libnotes.so winbackup-notes.pc
	$(INSTALL) -d $(DESTDIR)$(libdir) $(DESTDIR)$(libdir)/pkgconfig $(DESTDIR)$(includedir)/domino
	$(INSTALL) -m 755 $(O)/libnotes.so $(DESTDIR)$(libdir)/libnotes.so.0
	ln -sf libnotes.so.0 $(DESTDIR)$(libdir)/libnotes.so
	$(INSTALL) -m 644 winbackup-notes.pc $(DESTDIR)$(libdir)/pkgconfig/winbackup-notes.pc
	$(INSTALL) -m 644 $(wildcard $(srcdir)/include/domino/*.h) $(DESTDIR)$(includedir)/domino/

# The winbackup command's `nsf` subcommands call the same exports natively.
winbackup_OBJS += $(O)/libs/nsf/native/native.o $(nsf_OBJS)
$(O)/tools/winbackup/nsf.o: CPPFLAGS += -I$(srcdir)/include/domino

# Unit tests of the engine (tests/test_nsf_*.c) link the ASan/UBSan engine.
nsf_TESTS := $(filter $(O)/tests/test_nsf_%,$(TEST_BINS))
$(nsf_TESTS): $(O)/libnsf-san.a
$(nsf_TESTS): CMOCKA_CFLAGS += -I$(srcdir)/include/domino
$(nsf_TESTS): CMOCKA_LIBS := $(O)/libnsf-san.a $(CMOCKA_LIBS) -lpthread

# libFuzzer target for the change-info decoder and apply (fuzz/fuzz_nsf_changeinfo.c)
ifneq ($(CLANG),)
$(O)/fuzz/fuzz_nsf_changeinfo: $(srcdir)/fuzz/fuzz_nsf_changeinfo.c $(nsf_core_SRCS) $(nsf_HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -D_GNU_SOURCE -I$(srcdir)/include -I$(srcdir)/include/domino -o $@ $< $(nsf_core_SRCS)
FUZZ_TARGETS += $(O)/fuzz/fuzz_nsf_changeinfo
build-fuzz: $(O)/fuzz/fuzz_nsf_changeinfo
endif

# The stress driver (tests/nsf/nsf_stress.c) and its scripts: a small run in
# `make check` (tests/nsf-stress.sh), the 1 GiB run behind `make nsf-stress`.
$(O)/tests/nsf_stress: $(srcdir)/tests/nsf/nsf_stress.c $(O)/libs/nsf/native/native.o $(O)/libnsf.a $(nsf_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(NSF_CFLAGS) $(CFLAGS) -o $@ $< $(O)/libs/nsf/native/native.o $(O)/libnsf.a -lpthread
ALL_TARGETS   += $(O)/tests/nsf_stress
CHECK_SCRIPTS += $(srcdir)/tests/nsf-stress.sh

.PHONY: nsf-stress
nsf-stress: build-all
	O="$(O)" NSF_STRESS_FULL=1 sh $(srcdir)/tests/nsf-stress.sh

# make bench, case 6 (bench/drivers/nsfbench.c) links the engine too.
$(O)/bench/nsfbench: $(srcdir)/bench/drivers/nsfbench.c $(O)/libs/nsf/native/native.o $(O)/libnsf.a $(nsf_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(NSF_CFLAGS) -O2 -o $@ $< $(O)/libs/nsf/native/native.o $(O)/libnsf.a -lpthread
