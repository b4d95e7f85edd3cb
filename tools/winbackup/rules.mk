# The winbackup command (built by the top Makefile from tools/winbackup/*.c).
# `winbackup wine` keeps File History's registry entries in its prefix true
# (wine_fh.c), reading the configuration with the engine (libs/fh) when it
# is built: then winbackup links libfh.a and libxml2.

ifeq ($(FH_ENGINE),1)
$(O)/tools/winbackup/wine_fh.o: CPPFLAGS += -DWB_HAVE_FH -I$(srcdir)/libs/fh $(XML_CFLAGS)
winbackup_OBJS += $(O)/libfh.a
WINBACKUP_LIBS += $(XML_LIBS) -lpthread
endif

# Programs written for Windows reading those entries under `winbackup wine`
CHECK_SCRIPTS += $(srcdir)/tests/fh-wine-registry.sh
