# media-worker build rules: the sans-IO protocol cores (media-worker/core) and
# the shell that does I/O (media-worker/shell), linked into $(BIN)/vc-worker;
# unit tests for the cores and one fuzzer per core parser.

MW_CORE_SRC := $(wildcard media-worker/core/*.c)
MW_SHELL_SRC := $(wildcard media-worker/shell/*.c)
MW_CORE_OBJ := $(MW_CORE_SRC:%.c=$(BUILD)/%.o)
MW_SHELL_OBJ := $(MW_SHELL_SRC:%.c=$(BUILD)/%.o)
MW_LIBS := $(shell pkg-config --libs nice glib-2.0 gio-2.0 2>/dev/null) -lsrtp2 -lssl -lcrypto \
	-lnng -lhiredis -ljansson -luring -lpthread

# redis_url / redis_scripts serve the registry; taken from common/ unless
# common.mk already lists them.
MW_REDIS_OBJ := $(filter-out $(COMMON_OBJ),$(BUILD)/common/redis_url.o \
	$(if $(wildcard common/redis_scripts.c),$(BUILD)/common/redis_scripts.o))

$(BIN)/vc-worker: $(MW_CORE_OBJ) $(MW_SHELL_OBJ) $(COMMON_OBJ) $(PROTO_OBJ) $(MW_REDIS_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(MW_LIBS)
BINARIES += $(BIN)/vc-worker

# Unit tests: the cores only (no sockets, no GLib), plus common helpers.
MW_TEST_DEPS := $(MW_CORE_OBJ) $(COMMON_OBJ) $(PROTO_OBJ)
$(BIN)/test-sdp: $(BUILD)/tests/unit/test_sdp.o $(MW_TEST_DEPS)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
$(BIN)/test-rtp: $(BUILD)/tests/unit/test_rtp.o $(MW_TEST_DEPS)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
$(BIN)/test-rtcp: $(BUILD)/tests/unit/test_rtcp.o $(MW_TEST_DEPS)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
$(BIN)/test-room: $(BUILD)/tests/unit/test_room.o $(MW_TEST_DEPS)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
UNIT_TESTS += $(BIN)/test-sdp $(BIN)/test-rtp $(BIN)/test-rtcp $(BIN)/test-room

# Fuzzers: one per core parser.
FUZZERS += sdp rtp rtcp
FUZZ_DEPS_sdp := media-worker/core/sdp.c common/util.c
FUZZ_LIBS_sdp :=
FUZZ_DEPS_rtp := media-worker/core/rtp.c common/util.c
FUZZ_LIBS_rtp :=
FUZZ_DEPS_rtcp := media-worker/core/rtcp.c common/util.c
FUZZ_LIBS_rtcp :=
