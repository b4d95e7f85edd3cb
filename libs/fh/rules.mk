# File History engine: $(O)/libfh.a, the one library behind every face of
# File History (the filehistory CLI and service in tools/filehistory, and
# whatever else needs the configuration, catalog or cycle).
#
# fh_names.c   version names and target paths
# fh_config.c  Config1.xml / Config2.xml (Windows' schema) and the per-user state
# fh_winreg.c  the registry entries Windows' readers use (Configs, ProtectedUpToTime)
# fh_catalog.c the SQLite catalog
# fh_util.c    file helpers: paths below directory fds without symlinks, atomic writes, log
# fh_errors.c  the one mapping from failures to target states
# fh_target.c  a target opened as directory fds: identity, layout, catalog files
# fh_copy.c    one verified copy of a file (never a torn version)
# fh_progress.c the progress of a running cycle
# fh_cycle.c   backup cycles, cleanup, restore
# fh_journal.c the inotify change journal
# fh_proto.c   the service protocol (endpoint file, client side, peer checks)
# fh_hmac.c    SHA-256 and HMAC-SHA-256 for its handshake (also built into the DLLs)
# Needs sqlite3 and libxml2 (configure: HAVE_SQLITE, HAVE_XML): FH_ENGINE is 1
# when both are there; faces link $(FH_LIBS).

fh_SRCS := $(sort $(wildcard $(srcdir)/libs/fh/*.c))
fh_OBJS := $(patsubst $(srcdir)/%.c,$(O)/%.o,$(fh_SRCS))
FH_CFLAGS = -I$(srcdir)/libs/fh $(SQLITE_CFLAGS) $(XML_CFLAGS)
FH_LIBS   = $(SQLITE_LIBS) $(XML_LIBS) -lpthread
FH_ENGINE = $(if $(filter 11,$(HAVE_SQLITE)$(HAVE_XML)),1,0)

$(O)/libs/fh/%.o: $(srcdir)/libs/fh/%.c $(srcdir)/libs/fh/fh.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(FH_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/libfh.a: $(fh_OBJS)
	rm -f $@ && ar rcs $@ $^

# The unit tests include the engine sources they test (and so need libxml2).
$(O)/tests/test_fh_%: CPPFLAGS += $(XML_CFLAGS)
$(O)/tests/test_fh_%: SQLITE_LIBS += $(XML_LIBS) -lpthread
$(O)/tests/test_fh_names $(O)/tests/test_fh_config $(O)/tests/test_fh_cfgmgr $(O)/tests/test_fh_hmac $(O)/tests/test_fh_catalog $(O)/tests/test_fh_cycle $(O)/tests/test_fh_journal \
    $(O)/tests/test_fh_hostile $(O)/tests/test_fh_target $(O)/tests/test_fh_oom: \
    $(fh_SRCS) $(srcdir)/libs/fh/fh.h
