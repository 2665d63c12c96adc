# router build rules: vc-router, vc-ctl, the shared Redis helpers, router
# unit tests and fuzzers.

# Reused by the worker build (media-worker/shell/registry.c needs both).
REDIS_URL_OBJ := $(BUILD)/common/redis_url.o
REDIS_SCRIPTS_OBJ := $(BUILD)/common/redis_scripts.o

ROUTER_SRC := router/router.c router/rtr_nng.c router/rtr_req.c
ROUTER_OBJ := $(ROUTER_SRC:%.c=$(BUILD)/%.o)

$(BIN)/vc-router: $(ROUTER_OBJ) $(REDIS_URL_OBJ) $(REDIS_SCRIPTS_OBJ) $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lhiredis -levent -lnng -ljansson -lpthread

$(BIN)/vc-ctl: $(BUILD)/tools/vc-ctl.o
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lnng -ljansson -lpthread

BINARIES += $(BIN)/vc-router $(BIN)/vc-ctl

$(BIN)/test-router: $(BUILD)/tests/unit/test_router.o $(BUILD)/router/rtr_req.o \
		$(REDIS_URL_OBJ) $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
UNIT_TESTS += $(BIN)/test-router

FUZZERS += redis_url router_req
FUZZ_DEPS_redis_url := common/redis_url.c
FUZZ_LIBS_redis_url :=
FUZZ_DEPS_router_req := router/rtr_req.c proto/proto.c common/utf8.c common/util.c common/log.c
FUZZ_LIBS_router_req := -ljansson
