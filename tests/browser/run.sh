#!/usr/bin/env bash
# Browser tests: Playwright (playwright-core) driving Debian's Chromium with
# a fake camera and microphone through the real UI, against a real cluster,
# all inside a fresh network namespace with only loopback. Screenshots and
# logs in tests/artifacts/browser/. Prints "browser: N passed, M failed".
#   BUILD=build-san      take binaries from build-san/bin (default build/bin)
#   CHROMIUM=/path       the browser (default /usr/bin/chromium)
#   FILES='tests/browser/h264.test.mjs ...'  only these files (default all)
set -u
cd "$(dirname "$0")/../.."
export PATH="/usr/sbin:/sbin:$PATH"
export BUILD=${BUILD:-build}
# A fresh network namespace (only loopback) and PID namespace: when the run
# ends, however it ends (timeout, Ctrl-C, a crash), the kernel kills every
# process started inside it.
NS="unshare --net --pid --fork --kill-child --mount-proc"
ART=tests/artifacts/browser
export FILES=${FILES:-tests/browser/*.test.mjs}
mkdir -p "$ART"

if [[ ! -d tests/node_modules/playwright-core ]]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error) || { echo "browser: 0 passed, 1 failed"; exit 1; }
fi
if [[ ! -f ui/dist/index.html ]]; then
  echo "ui/dist/index.html is missing: run 'make ui' (or 'make all') first"
  echo "browser: 0 passed, 1 failed"
  exit 1
fi

tap=$ART/node-tap.txt
$NS sh -c 'ip link set lo up && node --test --test-reporter=tap --test-concurrency=1 --test-timeout=180000 $FILES' 2>&1 | tee "$tap"
rc=${PIPESTATUS[0]}
# One "ok - name" / "not ok - name" line per top-level test, for tests/run.sh.
grep -aE '^(not )?ok [0-9]+ - ' "$tap" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - /'
# Why each failed test failed (its error block), where CI shows it.
awk '/^not ok [0-9]+ - /{f=1; n=0; print "#| " $0; next} /^(ok|not ok) [0-9]+ - |^# Subtest/{f=0} f&&n<40{print "#| " $0; n++}' "$tap"
pass=$(grep -aE '^# pass [0-9]+' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -aE '^# fail [0-9]+' "$tap" | tail -1 | awk '{print $3}')
pass=${pass:-0}
fail=${fail:-0}
if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
echo "browser: $pass passed, $fail failed"
[[ $rc -eq 0 && $fail -eq 0 ]]
