# `make bench [QUICK=1]`: side-by-side benchmarks (not part of `make check`).
# See bench/README.md.  The drivers are built here, with -O2, against the
# static library; the Windows twin of the throughput driver with mingw-w64.

bench_DRIVER_SRCS := $(sort $(wildcard $(srcdir)/bench/drivers/*.c))
bench_DRIVERS     := $(patsubst $(srcdir)/bench/drivers/%.c,$(O)/bench/%,$(bench_DRIVER_SRCS))
bench_WIN_EXES    := $(if $(MINGW_CC),$(O)/bench/wthroughput.exe)
BENCH_CFLAGS       = -O2

$(O)/bench/%: $(srcdir)/bench/drivers/%.c $(O)/libwinbackup.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WB_CFLAGS) $(BENCH_CFLAGS) -o $@ $< $(O)/libwinbackup.a

$(O)/bench/wthroughput.exe: $(srcdir)/bench/drivers/win/wthroughput.c
	@mkdir -p $(dir $@)
	$(MINGW_CC) -std=gnu11 $(BENCH_CFLAGS) -Wall -Wextra -static-libgcc -o $@ $<

.PHONY: bench-drivers
bench-drivers: $(bench_DRIVERS) $(bench_WIN_EXES)

bench: build-all bench-drivers
	O="$(O)" CC="$(CC)" QUICK="$(QUICK)" WBBENCH_CASES="$(WBBENCH_CASES)" bash $(srcdir)/bench/run.sh
