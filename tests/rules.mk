# Check scripts of the library and the winbackup command.
CHECK_SCRIPTS += $(srcdir)/tests/cli-roundtrip.sh

# File History end to end through a Windows program under Wine
ifneq ($(MINGW_CC),)
ifneq ($(WINE),)
$(O)/tests/wine/fhcontrol.exe: $(srcdir)/tests/wine/fhcontrol.c $(O)/dlls/fhsvcctl/libfhsvcctl.a $(wildcard $(srcdir)/include/fh*.h)
	@mkdir -p $(dir $@)
	$(MINGW_CC) -O1 -Wall -I$(srcdir)/include -o $@ $< -L$(O)/dlls/fhsvcctl -lfhsvcctl
ALL_TARGETS   += $(O)/tests/wine/fhcontrol.exe
endif
endif
CHECK_SCRIPTS += $(srcdir)/tests/fh-wine-e2e.sh

# A Windows tool built unchanged against the installed library
CHECK_SCRIPTS += $(srcdir)/tests/port-check.sh

CHECK_SCRIPTS += $(srcdir)/tests/mutants-check.sh

# Mutation testing (not part of check: about an hour): every mutant of
# tests/mutants.txt against the fast tests of its part of the tree; the
# table goes to docs/mutants.md.
.PHONY: mutants
mutants:
	O="$(O)" python3 $(srcdir)/tests/mutants.py
