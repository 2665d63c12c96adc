# Unit tests (one binary per module, listed in UNIT_TESTS by each module's .mk)
# and libFuzzer targets (FUZZERS += name; FUZZ_DEPS_name: sources;
# FUZZ_LIBS_name: libraries; source tests/fuzz/fuzz_name.c; seeds in
# tests/fuzz/corpus/name/).

$(BIN)/test-proto: $(BUILD)/tests/unit/test_proto.o $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
UNIT_TESTS += $(BIN)/test-proto $(BIN)/test-config
$(BIN)/test-config: $(BUILD)/tests/unit/test_config.o $(COMMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng

FUZZERS += client_msg config
FUZZ_DEPS_client_msg := proto/proto.c common/utf8.c
FUZZ_LIBS_client_msg := -ljansson
FUZZ_DEPS_config := common/config.c common/util.c
FUZZ_LIBS_config :=

FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
	$(GLIB_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter
FUZZ_SECONDS ?= 10

define VC_FUZZ_RULE
$(FUZZ_BUILD)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_DEPS_$(1))
	@mkdir -p $(FUZZ_BUILD)
	clang $(FUZZ_CFLAGS) $$^ -o $$@ $$(FUZZ_LIBS_$(1))
endef
$(foreach f,$(FUZZERS),$(eval $(call VC_FUZZ_RULE,$(f))))

FUZZ_BINS := $(FUZZERS:%=$(FUZZ_BUILD)/fuzz_%)
.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# Runs every fuzzer for FUZZ_SECONDS on its corpus (new finds go to a scratch dir).
fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)
