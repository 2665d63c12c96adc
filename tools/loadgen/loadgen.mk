# Load generator and benchmark (included from the top Makefile).
#   make bench         the full comparison (our worker vs Janus VideoRoom)
#   make bench-quick   the same scenarios, small, in under a minute
#   make bench-profile callgrind of the worker under a small fan-out
LG_SRC := tools/loadgen/loadgen.c tools/loadgen/lg_media.c tools/loadgen/lg_janus.c \
	tools/loadgen/lg_ws.c tools/loadgen/lg_sdp.c
LG_OBJ := $(LG_SRC:%.c=$(BUILD)/%.o) $(BUILD)/media-worker/shell/peer.o \
	$(BUILD)/media-worker/shell/peer_tx.o $(BUILD)/media-worker/shell/peer_rx.o \
	$(BUILD)/media-worker/shell/shard.o \
	$(BUILD)/media-worker/shell/dtls.o $(BUILD)/media-worker/shell/srtp.o $(BUILD)/media-worker/shell/hmac_sha1.o \
	$(BUILD)/media-worker/shell/gpoll.o $(BUILD)/media-worker/core/rtp.o \
	$(BUILD)/media-worker/core/rtcp.o
LG_LIBS := $(shell pkg-config --libs nice glib-2.0 2>/dev/null) -lwslay -lsrtp2 -lssl -lcrypto -luring \
	-ljansson -lnng -lpthread -lm

$(BIN)/vc-loadgen: $(LG_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LG_LIBS)
BINARIES += $(BIN)/vc-loadgen

.PHONY: bench bench-quick bench-profile
bench: $(BIN)/vc-loadgen $(BIN)/vc-worker $(BIN)/vc-edge $(BIN)/vc-router $(BIN)/vc-physloop
	bench/run.sh
bench-quick: $(BIN)/vc-loadgen $(BIN)/vc-worker $(BIN)/vc-edge $(BIN)/vc-router $(BIN)/vc-physloop
	QUICK=1 bench/run.sh
bench-profile: $(BIN)/vc-loadgen $(BIN)/vc-worker $(BIN)/vc-edge $(BIN)/vc-router
	PROFILE=1 bench/run.sh

# Native SRTP protect vs libsrtp2: equality and ns per 1.2 kB packet.
$(BIN)/vc-srtp-check: $(BUILD)/tools/loadgen/srtp_check.o $(BUILD)/media-worker/shell/srtp.o $(BUILD)/media-worker/shell/hmac_sha1.o \
		$(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lsrtp2 -lssl -lcrypto -ljansson -lnng -lpthread
BINARIES += $(BIN)/vc-srtp-check

# The physical loop (protect + send over loopback, no SFU): the ceiling.
$(BIN)/vc-physloop: $(BUILD)/tools/loadgen/physloop.o $(BUILD)/media-worker/shell/srtp.o $(BUILD)/media-worker/shell/hmac_sha1.o \
		$(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lsrtp2 -lssl -lcrypto -ljansson -lnng -luring -lpthread
BINARIES += $(BIN)/vc-physloop
