# edge build rules: build/bin/vc-edge, its unit tests and fuzzers.
EDGE_CORE_SRC := edge/conn.c edge/route.c edge/jwt.c edge/rate.c
EDGE_SHELL_SRC := edge/main.c edge/server.c edge/api.c edge/signal.c edge/nng.c edge/metrics.c
EDGE_CORE_OBJ := $(EDGE_CORE_SRC:%.c=$(BUILD)/%.o)
EDGE_SHELL_OBJ := $(EDGE_SHELL_SRC:%.c=$(BUILD)/%.o)
EDGE_LIBS := -levent_openssl -levent -lssl -lcrypto -lhttp_parser -lwslay -ljwt -lnng \
	-ljansson -lpthread

BINARIES += $(BIN)/vc-edge
$(BIN)/vc-edge: $(EDGE_SHELL_OBJ) $(EDGE_CORE_OBJ) $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(EDGE_LIBS)

UNIT_TESTS += $(BIN)/test-edge $(BIN)/test-edge-jwt
$(BIN)/test-edge: $(BUILD)/tests/unit/test_edge.o $(EDGE_CORE_OBJ) $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(EDGE_LIBS)
$(BIN)/test-edge-jwt: $(BUILD)/tests/unit/test_edge_jwt.o $(EDGE_CORE_OBJ) $(PROTO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(EDGE_LIBS)

FUZZERS += http ws jwt
FUZZ_DEPS_http := edge/conn.c edge/route.c proto/proto.c common/utf8.c common/util.c
FUZZ_LIBS_http := -lhttp_parser -lwslay -lcrypto -ljansson
FUZZ_DEPS_ws := edge/conn.c proto/proto.c common/utf8.c common/util.c
FUZZ_LIBS_ws := -lhttp_parser -lwslay -lcrypto -ljansson
FUZZ_DEPS_jwt := edge/jwt.c common/util.c proto/proto.c common/utf8.c
FUZZ_LIBS_jwt := -ljwt -ljansson
