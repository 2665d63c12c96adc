# Tests of the worker's media transport (media-worker/shell/{peer*,dtls,srtp}.c):
# the in-memory DTLS-SRTP unit test, the two-peer ICE/DTLS/SRTP loop over
# 127.0.0.1 (run it inside `unshare -n`), and the DTLS and STUN fuzzers.
# Included from the top Makefile after media-worker/media-worker.mk.

MW_PEER_DTLS_OBJ := $(BUILD)/media-worker/shell/dtls.o $(BUILD)/media-worker/shell/srtp.o \
	$(BUILD)/media-worker/shell/hmac_sha1.o
MW_PEER_OBJ := $(BUILD)/media-worker/shell/peer.o $(BUILD)/media-worker/shell/peer_tx.o \
	$(BUILD)/media-worker/shell/peer_rx.o $(BUILD)/media-worker/shell/shard.o \
	$(MW_PEER_DTLS_OBJ)
MW_PEER_LIBS := $(shell pkg-config --libs nice glib-2.0 2>/dev/null) -lsrtp2 -lssl -lcrypto \
	-ljansson -lnng -luring -lpthread

$(BIN)/test-dtls: $(BUILD)/tests/unit/test_dtls.o $(MW_PEER_DTLS_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(MW_PEER_LIBS)
UNIT_TESTS += $(BIN)/test-dtls

$(BIN)/test-hmac-sha1: $(BUILD)/tests/unit/test_hmac_sha1.o $(BUILD)/media-worker/shell/hmac_sha1.o
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lcrypto
UNIT_TESTS += $(BIN)/test-hmac-sha1

$(BIN)/peer-loop: $(BUILD)/tests/peer/peer_loop.o $(MW_PEER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(MW_PEER_LIBS)

# Runs the loop in a private network namespace: no packet leaves loopback.
.PHONY: peer-loop
peer-loop: $(BIN)/peer-loop
	unshare -n sh -c 'ip link set lo up; $(BIN)/peer-loop'

FUZZERS += dtls stun
FUZZ_DEPS_dtls := media-worker/shell/dtls.c media-worker/shell/srtp.c \
	media-worker/shell/hmac_sha1.c common/util.c common/log.c
FUZZ_LIBS_dtls := -lsrtp2 -lssl -lcrypto -lpthread
FUZZ_DEPS_stun :=
FUZZ_LIBS_stun := $(shell pkg-config --libs nice glib-2.0 2>/dev/null)

# Included after tests/tests.mk, the generic fuzz rules were already
# expanded without these two targets: add them here.
ifdef VC_FUZZ_RULE
$(eval $(call VC_FUZZ_RULE,dtls))
$(eval $(call VC_FUZZ_RULE,stun))
fuzz-build: $(FUZZ_BUILD)/fuzz_dtls $(FUZZ_BUILD)/fuzz_stun
endif
