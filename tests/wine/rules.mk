# tests/wine: an unmodified Windows program using kernel32's backup APIs,
# run through `winbackup wine` by tests/wine-backup.sh.

wine_test_out := $(O)/tests/wine

ifneq ($(MINGW_CC),)
ALL_TARGETS += $(wine_test_out)/backupcopy.exe $(wine_test_out)/backupcheck.exe
endif
CHECK_SCRIPTS += $(srcdir)/tests/wine-backup.sh

# plain mingw-w64 build: imports BackupRead/BackupSeek/BackupWrite from kernel32.dll
$(wine_test_out)/%.exe: $(srcdir)/tests/wine/%.c
	@mkdir -p $(dir $@)
	$(MINGW_CC) -D__USE_MINGW_ANSI_STDIO=1 -O2 -Wall -o $@ $<
