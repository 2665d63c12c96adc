#!/usr/bin/env bash
# aiortc tests: two independent WebRTC clients (Debian's python3-aiortc) in
# one meeting through a real cluster, inside a fresh network namespace with
# only loopback. Prints "aiortc: N passed, M failed"; exits non-zero on failure.
#   BUILD=build-san   take binaries from build-san/bin (default build/bin)
set -u
cd "$(dirname "$0")/../.."
export PATH="/usr/sbin:/sbin:$PATH"
export BUILD=${BUILD:-build}
# A fresh network namespace (only loopback) and PID namespace: when the run
# ends, however it ends (timeout, Ctrl-C, a crash), the kernel kills every
# process started inside it.
NS="unshare --net --pid --fork --kill-child --mount-proc"
mkdir -p tests/artifacts/aiortc
out=tests/artifacts/aiortc/output.txt
# /usr/bin/python3: the python3 first on PATH may not see Debian's packages.
$NS sh -c 'ip link set lo up && timeout 180 /usr/bin/python3 -u tests/aiortc/test_call.py' 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! grep -qE '^aiortc: [0-9]+ passed, [0-9]+ failed' "$out"; then
  echo "aiortc: 0 passed, 1 failed"
  exit 1
fi
exit "$rc"
