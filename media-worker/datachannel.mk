# Data channels (media-worker/shell/sctp.c over usrsctp, core/dcep.c) and the
# room chat rules (core/chat.c): the worker links usrsctp; unit tests for
# DCEP and chat, a two-endpoint SCTP test, and fuzzers for DCEP and for
# SCTP packets fed into an association.

MW_LIBS += -lusrsctp
MW_GLIB_LIBS := $(shell pkg-config --libs glib-2.0 2>/dev/null)

$(BIN)/test-dcep: $(BUILD)/tests/unit/test_dcep.o $(MW_CORE_OBJ) $(COMMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
$(BIN)/test-sctp: $(BUILD)/tests/unit/test_sctp.o $(BUILD)/media-worker/shell/sctp.o \
		$(BUILD)/media-worker/core/dcep.o $(BUILD)/media-worker/core/sctppkt.o $(COMMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lusrsctp $(MW_GLIB_LIBS) -ljansson -lnng -lpthread
UNIT_TESTS += $(BIN)/test-dcep $(BIN)/test-sctp

FUZZERS += dcep sctp
FUZZ_DEPS_dcep := media-worker/core/dcep.c
FUZZ_LIBS_dcep :=
FUZZ_DEPS_sctp := media-worker/shell/sctp.c media-worker/core/dcep.c media-worker/core/sctppkt.c \
	common/util.c common/log.c
FUZZ_LIBS_sctp := -lusrsctp $(MW_GLIB_LIBS) -lpthread
