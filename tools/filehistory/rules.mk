# File History engine, service and CLI: $(O)/filehistory.
#
# Engine (portable, no service code): fh_names.c fh_config.c fh_catalog.c
# fh_util.c fh_cycle.c; service: fh_journal.c fh_proto.c fh_daemon.c;
# CLI: main.c.  Needs sqlite3 (configure: HAVE_SQLITE).

filehistory_SRCS := $(sort $(wildcard $(srcdir)/tools/filehistory/*.c))
filehistory_OBJS := $(patsubst $(srcdir)/%.c,$(O)/%.o,$(filehistory_SRCS))

ifeq ($(HAVE_SQLITE),1)
ALL_TARGETS     += $(O)/filehistory
INSTALL_TARGETS += install-filehistory
CHECK_SCRIPTS   += $(srcdir)/tests/filehistory-integration.sh
endif

$(filehistory_OBJS): $(srcdir)/tools/filehistory/fh.h

$(O)/tools/filehistory/%.o: $(srcdir)/tools/filehistory/%.c $(srcdir)/tools/filehistory/fh.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(SQLITE_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/filehistory: $(filehistory_OBJS) $(O)/libwinbackup.a
	$(CC) $(LDFLAGS) -o $@ $(filehistory_OBJS) $(O)/libwinbackup.a $(SQLITE_LIBS)

# The unit tests include the engine sources they test.
$(O)/tests/test_fh_names $(O)/tests/test_fh_config $(O)/tests/test_fh_catalog $(O)/tests/test_fh_cycle $(O)/tests/test_fh_journal: \
    $(wildcard $(srcdir)/tools/filehistory/*.c) $(srcdir)/tools/filehistory/fh.h

.PHONY: install-filehistory
install-filehistory: $(O)/filehistory
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(prefix)/lib/systemd/user
	$(INSTALL) -m 755 $(O)/filehistory $(DESTDIR)$(bindir)/filehistory
	sed 's|@bindir@|$(bindir)|g' $(srcdir)/tools/filehistory/filehistory.service \
	    > $(DESTDIR)$(prefix)/lib/systemd/user/filehistory.service
	chmod 644 $(DESTDIR)$(prefix)/lib/systemd/user/filehistory.service
