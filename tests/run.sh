#!/usr/bin/env bash
# The whole suite, as `make test` and CI run it. Each stage prints lines
# "<suite>: N passed, N failed"; this script adds them up and closes with one
# "N passed, N failed" line. It exits non-zero if any test or stage failed.
#   STAGES="unit cluster"  run only some stages (default: all)
set -u
cd "$(dirname "$0")/.."
export PATH="/usr/sbin:/sbin:$PATH"
ALL="build check unit ui sim fuzz peer san cluster aiortc loadgen browser ansible"
STAGES=${STAGES:-$ALL}
LOGDIR=tests/artifacts
mkdir -p "$LOGDIR"
total_pass=0; total_fail=0; broken=()

count() { # sums "x: N passed, M failed" lines of a log
  local log=$1 p f
  p=$(grep -aE '^[A-Za-z0-9_/ .-]*: [0-9]+ passed, [0-9]+ failed' "$log" | sed -E 's/.*: ([0-9]+) passed.*/\1/' | paste -sd+ | bc 2>/dev/null)
  f=$(grep -aE '^[A-Za-z0-9_/ .-]*: [0-9]+ passed, [0-9]+ failed' "$log" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/' | paste -sd+ | bc 2>/dev/null)
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
}

stage() { # stage NAME CMD...
  local name=$1; shift
  [[ " $STAGES " == *" $name "* ]] || return 0
  local log=$LOGDIR/$name.log start=$SECONDS
  echo "=== $name"
  if "$@" > "$log" 2>&1; then rc=0; else rc=$?; fi
  grep -aE '^(ok|not ok) - |^#\| |: [0-9]+ passed, [0-9]+ failed' "$log"
  count "$log"
  if [ $rc -ne 0 ]; then
    broken+=("$name"); echo "--- $name failed (exit $rc); last lines of $log:"; tail -60 "$log"
  fi
  echo "=== $name: $((SECONDS - start)) s"
}

stage build   make -j2 all
stage check   make check
stage unit    make -j2 unit
stage ui      make ui-test
stage sim     bash -c 'make -j2 sim && build/bin/vc-srtp-check'
stage fuzz    make -j2 fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-8}
stage peer    bash -c 'make peer-loop && make SAN=1 peer-loop'
stage san     bash -c 'make -j2 SAN=1 all unit && BUILD=build-san tests/cluster/run.sh &&
                       BUILD=build-san tests/loadgen/run.sh'
stage cluster tests/cluster/run.sh
stage aiortc  tests/aiortc/run.sh
stage loadgen tests/loadgen/run.sh
stage browser tests/browser/run.sh
stage ansible tests/ansible/run.sh

echo
if [ ${#broken[@]} -gt 0 ]; then
  echo "stages failed: ${broken[*]}"
  [ "$total_fail" -gt 0 ] || total_fail=${#broken[@]}
fi
echo "$total_pass passed, $total_fail failed"
[ ${#broken[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]
