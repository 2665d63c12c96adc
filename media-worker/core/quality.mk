# Media-quality cores (rtpext, twcc, bwe, nack, pktcache, vp8, h264, rewrite,
# simulcast, audiolevel, netsim): unit tests, the deterministic simulation
# binary (vc-sim) and one fuzzer per parser. The cores themselves are
# compiled into vc-worker by media-worker.mk's wildcard.

MQ_CORE := rtpext twcc bwe pktcache nack vp8 h264 rewrite simulcast audiolevel netsim
MQ_CORE_OBJ := $(foreach m,$(MQ_CORE),$(if $(wildcard media-worker/core/$(m).c),$(BUILD)/media-worker/core/$(m).o))
MQ_BASE_OBJ := $(BUILD)/media-worker/core/rtp.o $(BUILD)/media-worker/core/rtcp.o

MQ_TESTS := $(foreach m,$(MQ_CORE),$(if $(wildcard tests/unit/test_$(m).c),$(m)))
define MQ_TEST_RULE
$(BIN)/test-$(1): $(BUILD)/tests/unit/test_$(1).o $(MQ_CORE_OBJ) $(MQ_BASE_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $$^ -o $$@
endef
$(foreach t,$(MQ_TESTS),$(eval $(call MQ_TEST_RULE,$(t))))
UNIT_TESTS += $(MQ_TESTS:%=$(BIN)/test-%)

MQ_SIM_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/*.c))
$(BIN)/vc-sim: $(MQ_SIM_OBJ) $(MQ_CORE_OBJ) $(MQ_BASE_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@

.PHONY: sim mq-unit
# Runs the deterministic simulations; prints "sim: N passed, M failed".
sim: $(BIN)/vc-sim
	$(BIN)/vc-sim
mq-unit: $(MQ_TESTS:%=$(BIN)/test-%)
	@set -e; for t in $^; do $$t; done

# Fuzzers: one per parser (rtpext, transport-cc feedback, VP8 descriptor and
# H.264 keyframe check, NACK + RTX unwrap).
FUZZERS += rtpext twcc vp8 nack
FUZZ_DEPS_rtpext := media-worker/core/rtpext.c media-worker/core/rtp.c
FUZZ_LIBS_rtpext :=
FUZZ_DEPS_twcc := media-worker/core/twcc.c media-worker/core/bwe.c
FUZZ_LIBS_twcc :=
FUZZ_DEPS_vp8 := media-worker/core/vp8.c media-worker/core/h264.c
FUZZ_LIBS_vp8 :=
FUZZ_DEPS_nack := media-worker/core/nack.c media-worker/core/rtcp.c media-worker/core/rtp.c
FUZZ_LIBS_nack :=
