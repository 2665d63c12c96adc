#!/usr/bin/env bash
# Cluster tests: real redis-server, router, workers and edges, driven by
# node:test files (tests/cluster/*.test.mjs), all inside a fresh network
# namespace with only loopback. Also runs tests/cluster/router_test.sh if
# present. Prints "cluster: N passed, M failed"; exits non-zero on failure.
#   BUILD=build-san   take binaries from build-san/bin (default build/bin)
#   FILES="http"      run only some test files (names without .test.mjs)
#   SAN_MEDIA=0       with a sanitizer BUILD, skip the aiortc and browser runs
set -u
cd "$(dirname "$0")/../.."
export PATH="/usr/sbin:/sbin:$PATH"
export BUILD=${BUILD:-build}
# A fresh network namespace (only loopback) and PID namespace: when the run
# ends, however it ends (timeout, Ctrl-C, a crash), the kernel kills every
# process started inside it.
NS="unshare --net --pid --fork --kill-child --mount-proc"
export NODE_PATH=
ART=tests/artifacts/cluster
[[ $BUILD == build ]] || ART=tests/artifacts/cluster-$BUILD
mkdir -p "$ART"

if [[ ! -d tests/node_modules/ws ]]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error) || { echo "cluster: 0 passed, 1 failed"; exit 1; }
fi

files=()
if [[ -n ${FILES:-} ]]; then
  for f in $FILES; do files+=("tests/cluster/$f.test.mjs"); done
else
  files=(tests/cluster/*.test.mjs)
fi

rc=0
tap=$ART/node-tap.txt
# One namespace for the node run: every process the tests start lives in it.
$NS sh -c 'ip link set lo up && node --test --test-reporter=tap --test-concurrency=1 --test-timeout=120000 "$@"' \
  sh "${files[@]}" 2>&1 | tee "$tap"
[[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
# One "ok - name" / "not ok - name" line per top-level test, for tests/run.sh.
grep -aE '^(not )?ok [0-9]+ - ' "$tap" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - /'
pass=$(grep -aE '^# pass [0-9]+' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -aE '^# fail [0-9]+' "$tap" | tail -1 | awk '{print $3}')
pass=${pass:-0}
fail=${fail:-0}
# node exited non-zero without a failing test (a crash, a hook failure): count it.
if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi

if [[ -x tests/cluster/router_test.sh ]]; then
  echo "--- tests/cluster/router_test.sh"
  rlog=$ART/router_test.log
  $NS sh -c 'ip link set lo up && tests/cluster/router_test.sh' 2>&1 | tee "$rlog"
  rrc=${PIPESTATUS[0]}
  # If it prints its own "<suite>: N passed, M failed" line, tests/run.sh
  # counts that line; otherwise count the script as one test.
  if ! grep -qaE '^[A-Za-z0-9_/ .-]*: [0-9]+ passed, [0-9]+ failed' "$rlog"; then
    if [[ $rrc -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  fi
  [[ $rrc -eq 0 ]] || rc=1
fi

# Under a sanitizer build, the media path (DTLS, SRTP, RTP/RTCP) runs too:
# the aiortc and browser tests against the same binaries, counted under
# their own names (aiortc-san, browser-san).
if [[ $BUILD != build && ${SAN_MEDIA:-1} == 1 ]]; then
  for s in aiortc browser; do
    echo "--- tests/$s/run.sh (BUILD=$BUILD)"
    tests/$s/run.sh 2>&1 | sed -E "s/^$s: ([0-9]+ passed)/$s-san: \1/"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
  done
fi

echo "cluster: $pass passed, $fail failed"
[[ $rc -eq 0 && $fail -eq 0 ]]
