# Check scripts of the library and the winbackup command.
CHECK_SCRIPTS += $(srcdir)/tests/cli-roundtrip.sh
