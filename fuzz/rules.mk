# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_SECONDS (default 60),
# CI runs a short smoke run through tests/fuzz-smoke.sh.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(O)/fuzz/fuzz_decoder $(O)/fuzz/fuzz_encoder $(O)/fuzz/fuzz_metadata
FUZZ_CORE    = $(core_SRCS)

$(O)/fuzz/%: $(srcdir)/fuzz/%.c $(FUZZ_CORE) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -D_GNU_SOURCE -I$(srcdir)/include -o $@ $< $(FUZZ_CORE)

fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(O)/fuzz/corpus-$$(basename $$t); \
	    echo "== $$t ($(FUZZ_SECONDS) s)"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(O)/fuzz/corpus-$$(basename $$t) $(srcdir)/fuzz/seeds || exit 1; \
	done

ifneq ($(CLANG),)
CHECK_SCRIPTS += $(srcdir)/tests/fuzz-smoke.sh
build-fuzz: $(FUZZ_TARGETS)
ALL_TARGETS += build-fuzz
endif
.PHONY: build-fuzz
