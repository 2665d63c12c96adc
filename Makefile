# Top-level build. Each component adds its own rules in <dir>/<name>.mk.
# `make` builds everything, `make run` starts a local cluster, `make test`
# runs the whole suite (unit, fuzz, sanitizers, cluster, browser, aiortc).
#
#   SAN=1        build with AddressSanitizer + UndefinedBehaviorSanitizer
#                into build-san/ instead of build/.

SHELL := /bin/bash
CC ?= gcc
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif
OPT ?= -O2
CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-D_GNU_SOURCE -I. $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0 nice 2>/dev/null)

BIN := $(BUILD)/bin
BINARIES :=
UNIT_TESTS :=
FUZZERS :=

.PHONY: all deps run test unit fuzz check fmt clean bench bench-quick ui ui-test
all: deps-check

include common/common.mk
include proto/proto.mk
include edge/edge.mk
include router/router.mk
include media-worker/media-worker.mk
-include tests/peer/peer.mk
-include media-worker/core/quality.mk
-include media-worker/datachannel.mk
-include tools/loadgen/loadgen.mk
include tools/tools.mk
include tests/tests.mk
include ui/ui.mk

all: $(BINARIES) ui

# Missing Debian packages are installed only when something is missing.
deps-check:
	@tools/deps.sh --check || tools/deps.sh

deps:
	tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GLIB_CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

run: all
	tools/run-cluster.sh

test: deps-check
	tests/run.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $$t; done

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The protocol cores must not touch sockets, clocks, libevent, libnice or GLib.
check:
	@tools/check-cores.sh

clean:
	rm -rf build build-san build-fuzz ui/dist
