# ui: the meeting UI (TypeScript, bundled with esbuild into ui/dist/).
#   make ui            npm ci only when ui/node_modules is missing or older than
#                      ui/package-lock.json; rebuild ui/dist only when a source
#                      changed (ui/dist/index.html is the stamp, written last).
#   make ui-test       type check + unit tests of the pure modules (node --test,
#                      TAP), closing with "ui: N passed, N failed".
#   make ui-typecheck  tsc --noEmit only.

UI_SRC := $(shell find ui/src ui/public -type f 2>/dev/null) ui/build.mjs ui/tsconfig.json
UI_NPM_STAMP := ui/node_modules/.vc-npm-ci
UI_TEST_OUT := build/ui-test

.PHONY: ui-test ui-typecheck

$(UI_NPM_STAMP): ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ui/dist/index.html: $(UI_SRC) ui/package-lock.json $(UI_NPM_STAMP)
	cd ui && node build.mjs

ui: ui/dist/index.html

ui-typecheck: $(UI_NPM_STAMP)
	cd ui && node_modules/.bin/tsc --noEmit -p .

ui-test: $(UI_NPM_STAMP)
	@cd ui && node build.mjs --tests
	@tc=0; (cd ui && node_modules/.bin/tsc --noEmit -p .) > $(UI_TEST_OUT)/typecheck.log 2>&1 || tc=1; \
	if [ $$tc -eq 0 ]; then echo "ok - ui typecheck"; else echo "not ok - ui typecheck"; cat $(UI_TEST_OUT)/typecheck.log; fi; \
	node --test --test-reporter=tap $(UI_TEST_OUT)/*.test.mjs > $(UI_TEST_OUT)/tap.txt 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ]; then cat $(UI_TEST_OUT)/tap.txt; else grep -E '^(not )?ok [0-9]+ - |^# (tests|pass|fail|cancelled|skipped|todo|duration_ms) ' $(UI_TEST_OUT)/tap.txt; fi; \
	p=$$(sed -n 's/^# pass //p' $(UI_TEST_OUT)/tap.txt); f=$$(sed -n 's/^# fail //p' $(UI_TEST_OUT)/tap.txt); \
	p=$$(( $${p:-0} + 1 - tc )); f=$$(( $${f:-0} + tc )); \
	echo "ui: $$p passed, $$f failed"; \
	[ $$rc -eq 0 ] && [ $$tc -eq 0 ]
