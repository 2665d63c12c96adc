#!/usr/bin/env bash
# make bench / make bench-quick / make bench-profile: runs the load generator
# (tools/loadgen) against one media worker pinned to one core, inside a
# private network namespace (no packet leaves loopback), and prints a table;
# JSON results go to bench/results/<time>.json.
#
#   QUICK=1    small steps, short windows: under a minute
#   PROFILE=1  the worker runs under callgrind for a small fan-out instead
#   BUILD=...  binaries from $BUILD/bin (default build)
#   WORKER_CPU / LG_CPU  cores for the worker and for everything else (1 / 0)
#
# Every process started here is remembered by PID and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="/usr/sbin:/sbin:$PATH"
BIN=${BENCH_BIN:-$ROOT/${BUILD:-build}/bin}

if [[ -z ${BENCH_IN_NS:-} ]]; then
  # Re-run inside a fresh network namespace with only loopback.
  exec unshare -n env BENCH_IN_NS=1 "$0" "$@"
fi
ip link set lo up

WORKER_CPU=${WORKER_CPU:-1}
LG_CPU=${LG_CPU:-0}
PORT=18600
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TMP=$(mktemp -d /tmp/vc-bench.XXXXXX)
OUT=$ROOT/bench/results/$STAMP.json
LINES=$TMP/results.jsonl
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf /tmp/vc-bench-last; cp -r "$TMP" /tmp/vc-bench-last 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE REGEX SECONDS: readiness by log line, never a fixed sleep.
wait_line() {
  local end=$((SECONDS + $3))
  until grep -qiE "$2" "$1" 2>/dev/null; do
    ((SECONDS < end)) || { echo "bench: no '$2' in $1:" >&2; tail -5 "$1" >&2; exit 1; }
    sleep 0.05
  done
}

start_ours() {
  local redis=unix:$TMP/redis.sock
  taskset -c "$LG_CPU" redis-server --port 0 --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$TMP" > "$TMP/redis.log" 2>&1 &
  PIDS+=($!)
  wait_line "$TMP/redis.log" 'ready to accept connections' 10
  taskset -c "$LG_CPU" "$BIN/vc-router" --listen "ipc://$TMP/router.ipc" --redis-url "$redis" \
    > "$TMP/router.log" 2>&1 &
  PIDS+=($!); ROUTER_PID=$!
  wait_line "$TMP/router.log" ': ready' 10
  local pre=()
  [[ -n ${PROFILE:-} ]] && pre=(valgrind --tool=callgrind --callgrind-out-file="$TMP/callgrind.out"
                                --dump-instr=no --collect-atstart=yes)
  "${pre[@]+"${pre[@]}"}" "$BIN/vc-worker" --id w1 --cpu "$WORKER_CPU" \
    --control-url "ipc://$TMP/worker.ipc" --redis-url "$redis" --ice-addresses 127.0.0.1 \
    --port-min 40000 --port-max 49999 > "$TMP/worker.log" 2>&1 &
  PIDS+=($!); WORKER_PID=$!
  wait_line "$TMP/worker.log" ': ready' 60
  taskset -c "$LG_CPU" "$BIN/vc-edge" --id edge-1 --http-addr 127.0.0.1 --http-port "$PORT" \
    --router-url "ipc://$TMP/router.ipc" --events-url "ipc://$TMP/edge-1.ipc" \
    --ui-dir "$ROOT/ui/dist" --jwt-secret "$(od -An -vtx1 -N32 /dev/urandom | tr -d ' \n')" \
    > "$TMP/edge.log" 2>&1 &
  PIDS+=($!); EDGE_PID=$!
  wait_line "$TMP/edge.log" ': ready' 10
  local end=$((SECONDS + 10))
  until [[ $(redis-cli -s "$TMP/redis.sock" EXISTS vc:worker:w1) == 1 ]]; do
    ((SECONDS < end)) || { echo "bench: worker never registered" >&2; exit 1; }
    sleep 0.05
  done
}

# lg TARGET ARGS...: one load generator run; JSON lines tagged with target.
lg() {
  local target=$1; shift
  taskset -c "$LG_CPU" "$BIN/vc-loadgen" --port "$PORT" --worker-pid "$WORKER_PID" \
    --server-pid "$WORKER_PID" --server-pid "$EDGE_PID" --server-pid "$ROUTER_PID" "$@" \
    2>> "$TMP/loadgen-$target.log" | sed "s/^{/{\"target\":\"$target\",/" | tee -a "$LINES" >&2
}

if [[ -n ${QUICK:-} ]]; then
  FAN=(--start 10 --step 20 --max-subs 50 --subs-per-room 25 --window 2 --warmup 1)
  MEET=(--start 1 --step 1 --max-steps 2 --window 2 --warmup 1)
  JOINS=(--joins 10)
  LATW=2
else
  FAN=(--start 20 --step 40 --max-subs 2000 --subs-per-room 40 --window 5 --warmup 2)
  MEET=(--start 1 --step 2 --max-steps 20 --window 5 --warmup 2)
  JOINS=(--joins 50)
  LATW=10
fi

start_ours
if [[ -n ${PROFILE:-} ]]; then
  lg ours --scenario fanout --start 20 --step 0 --subs-per-room 20 --window 10 --warmup 2
  kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true
  cp "$TMP/callgrind.out" "$ROOT/bench/results/$STAMP-callgrind.out"
  callgrind_annotate --inclusive=yes "$TMP/callgrind.out" > "$TMP/annotate.txt" 2>/dev/null || true
  head -80 "$TMP/annotate.txt" | tee "$ROOT/bench/results/$STAMP-callgrind.txt"
  exit 0
fi
echo "bench: ours: fan-out" >&2
lg ours --scenario fanout "${FAN[@]}"
# Latency at half the largest subscriber count that stayed under 1% loss.
MAXSUBS=$(/usr/bin/python3 -c '
import json,sys
best=0
for l in open(sys.argv[1]):
    j=json.loads(l)
    if j["target"]=="ours" and j["scenario"]=="fanout" and j["loss"]<=0.01: best=max(best,j["subscribers"])
print(max(best//2,1))' "$LINES")
echo "bench: ours: latency at 50% load ($MAXSUBS subscribers)" >&2
lg ours-lat --scenario fanout --start "$MAXSUBS" --step 0 --subs-per-room 40 --window "$LATW" --warmup 2
echo "bench: ours: meetings of 8" >&2
lg ours --scenario meeting "${MEET[@]}"
echo "bench: ours: joins" >&2
lg ours --scenario joins "${JOINS[@]}"

/usr/bin/python3 "$ROOT/bench/report.py" "$LINES" "$OUT" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
