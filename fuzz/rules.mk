# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_SECONDS (default 60),
# CI runs a short smoke run through tests/fuzz-smoke.sh.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(O)/fuzz/fuzz_decoder $(O)/fuzz/fuzz_encoder $(O)/fuzz/fuzz_metadata
FUZZ_CORE    = $(core_SRCS)
# The File History configuration reader: its own seeds, the engine's pure files and libxml2
FUZZ_FH_SRCS = $(srcdir)/libs/fh/fh_config.c $(srcdir)/libs/fh/fh_names.c $(srcdir)/libs/fh/fh_util.c
ifeq ($(HAVE_XML),1)
FUZZ_TARGETS += $(O)/fuzz/fuzz_fh_config
endif

$(O)/fuzz/fuzz_fh_config: $(srcdir)/fuzz/fuzz_fh_config.c $(FUZZ_FH_SRCS) $(srcdir)/libs/fh/fh.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -D_GNU_SOURCE -I$(srcdir)/include -I$(srcdir)/libs/fh $(XML_CFLAGS) -o $@ $< $(FUZZ_FH_SRCS) $(XML_LIBS) -lpthread

$(O)/fuzz/%: $(srcdir)/fuzz/%.c $(FUZZ_CORE) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -D_GNU_SOURCE -I$(srcdir)/include -o $@ $< $(FUZZ_CORE)

fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(O)/fuzz/corpus-$$(basename $$t); \
	    echo "== $$t ($(FUZZ_SECONDS) s)"; \
	    seeds=$(srcdir)/fuzz/seeds; [ -d $(srcdir)/fuzz/seeds-$${t##*/fuzz_} ] && seeds=$(srcdir)/fuzz/seeds-$${t##*/fuzz_}; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(O)/fuzz/corpus-$$(basename $$t) $$seeds || exit 1; \
	done

ifneq ($(CLANG),)
CHECK_SCRIPTS += $(srcdir)/tests/fuzz-smoke.sh
build-fuzz: $(FUZZ_TARGETS)
ALL_TARGETS += build-fuzz
endif
.PHONY: build-fuzz
