#!/usr/bin/env bash
# Runs each named libFuzzer target for N seconds over its seed corpus.
# Prints "fuzz: N passed, N failed"; a crash fails and leaves its input in build-fuzz/.
set -u
secs=$1; shift
pass=0; fail=0
for f in "$@"; do
  bin=build-fuzz/fuzz_$f
  seeds=tests/fuzz/corpus/$f
  work=build-fuzz/corpus-$f
  mkdir -p "$seeds" "$work"
  if (cd build-fuzz && ./fuzz_"$f" -max_total_time="$secs" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=0 "corpus-$f" "../$seeds" ) > "build-fuzz/fuzz_$f.log" 2>&1; then
    pass=$((pass+1)); echo "ok - fuzz/$f ($(grep -o 'Done [0-9]* runs' build-fuzz/fuzz_$f.log | tail -1))"
  else
    fail=$((fail+1)); echo "not ok - fuzz/$f (see build-fuzz/fuzz_$f.log)"; tail -40 "build-fuzz/fuzz_$f.log"
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
