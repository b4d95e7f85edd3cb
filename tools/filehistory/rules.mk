# The faces of the File History engine (libs/fh): $(O)/filehistory, the CLI
# (main.c) and the per-user service (fh_daemon.c).

filehistory_SRCS := $(sort $(wildcard $(srcdir)/tools/filehistory/*.c))
filehistory_OBJS := $(patsubst $(srcdir)/%.c,$(O)/%.o,$(filehistory_SRCS))

ifeq ($(FH_ENGINE),1)
ALL_TARGETS     += $(O)/filehistory
INSTALL_TARGETS += install-filehistory
endif
CHECK_SCRIPTS   += $(srcdir)/tests/filehistory-integration.sh $(srcdir)/tests/fh-adversarial.sh

$(O)/tools/filehistory/%.o: $(srcdir)/tools/filehistory/%.c $(srcdir)/libs/fh/fh.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(FH_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/filehistory: $(filehistory_OBJS) $(O)/libfh.a $(O)/libwinbackup.a
	$(CC) $(LDFLAGS) -o $@ $(filehistory_OBJS) $(O)/libfh.a $(O)/libwinbackup.a $(FH_LIBS)

.PHONY: install-filehistory
install-filehistory: $(O)/filehistory
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(prefix)/lib/systemd/user
	$(INSTALL) -m 755 $(O)/filehistory $(DESTDIR)$(bindir)/filehistory
	sed 's|@bindir@|$(bindir)|g' $(srcdir)/tools/filehistory/filehistory.service \
	    > $(DESTDIR)$(prefix)/lib/systemd/user/filehistory.service
	chmod 644 $(DESTDIR)$(prefix)/lib/systemd/user/filehistory.service

# Heavy adversarial runs (random kill -9, the target's file system shut
# down under a cycle, files rewritten during cycles); not part of `check`.
.PHONY: fh-stress
fh-stress: $(O)/filehistory
	O="$(O)" sh $(srcdir)/tests/fh-stress.sh
