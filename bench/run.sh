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
#   TARGETS="ours janus"  what to measure; Janus VideoRoom gets the same
#              scenarios, pinned to WORKER_CPU, its CPU read the same way
#              (schedstat of all its threads), configs from bench/janus/
#   JANUS_EVENT_LOOPS=1   Janus's event_loops (0: a thread per handle)
#   ONLY=fanout  only the fan-out ramp (with FAN_ARGS="--start 200 ..." to
#              replace its steps): quick A/B runs of the hot path
#   ONLY=latency LAT_SUBS=N  only the latency probe at N subscribers
#   ONLY=joins   only the joins scenario
#   ONLY=simulcast  only the simulcast step (SIM_SUBS subscribers, 200)
#   ONLY=meeting  only the meetings ramp (MEET_ARGS="--start 35" appended)
#   WORKER_ARGS="--udp-gso 0"  extra worker options (A/B runs)
#   LG_ARGS="--rx-poll 1"      extra load generator options (A/B runs)
#   BENCH_OUT=FILE             where the results JSON goes (tests/loadgen)
#   BENCH_LOGS=DIR             where the run's logs are kept (/tmp/vc-bench-last)
#   BENCH_HALT_POLL_NS=N       guest halt-polling window for the run (default:
#              the worker role's; empty: the machine's setting)
#   WORKER_WRAP="gdb -batch -ex run -ex bt --args"  runs the worker under it
#   SRTP=cm|gcm|both      profile of the headline rows (cm: AES-CM-128/
#              HMAC-SHA1-80); "both" (default) adds a GCM fan-out row
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
# Partial (ONLY=) runs are A/B material, not results: kept out of the tree.
[[ -n ${ONLY:-} ]] && OUT=/tmp/vc-bench-$STAMP.json
OUT=${BENCH_OUT:-$OUT}
LINES=$TMP/results.jsonl
PIDS=()

# stop_all: TERM every PID started so far, KILL after 5 s.
stop_all() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  PIDS=()
}

# The worker role's idle setting for KVM guests (ansible/roles/worker:
# vc_worker_guest_halt_poll_ns) applies to the run, as deployed; the
# machine's own value comes back on exit. BENCH_HALT_POLL_NS overrides it
# (an empty value leaves the machine alone). Janus runs under it too.
HALT_POLL=/sys/module/haltpoll/parameters/guest_halt_poll_ns
HALT_POLL_NS=${BENCH_HALT_POLL_NS-$(sed -n 's/^vc_worker_guest_halt_poll_ns: *//p' \
  "$ROOT/ansible/roles/worker/defaults/main.yml")}
# The role sets the governor's first growth step to the window too.
HALT_GROW=${HALT_POLL%/*}/guest_halt_poll_grow_start
HALT_POLL_WAS= HALT_GROW_WAS=
if [[ -w $HALT_POLL && $HALT_POLL_NS =~ ^[0-9]+$ && -z ${PROFILE:-} ]]; then
  HALT_POLL_WAS=$(<"$HALT_POLL")
  echo "$HALT_POLL_NS" >"$HALT_POLL"
  if [[ -w $HALT_GROW ]] && ((HALT_POLL_NS > 0)); then
    HALT_GROW_WAS=$(<"$HALT_GROW")
    echo "$HALT_POLL_NS" >"$HALT_GROW"
  fi
else
  HALT_POLL_NS=
fi

cleanup() {
  stop_all
  [[ -n $HALT_POLL_WAS ]] && echo "$HALT_POLL_WAS" >"$HALT_POLL"
  [[ -n $HALT_GROW_WAS ]] && echo "$HALT_GROW_WAS" >"$HALT_GROW"
  local keep=${BENCH_LOGS:-/tmp/vc-bench-last}
  rm -rf "$keep"; cp -r "$TMP" "$keep" 2>/dev/null || true
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
  PIDS+=($!); REDIS_PID=$!
  wait_line "$TMP/redis.log" 'ready to accept connections' 10
  taskset -c "$LG_CPU" "$BIN/vc-router" --listen "ipc://$TMP/router.ipc" --redis-url "$redis" \
    > "$TMP/router.log" 2>&1 &
  PIDS+=($!); ROUTER_PID=$!
  wait_line "$TMP/router.log" ': ready' 10
  local pre=()
  [[ -n ${PROFILE:-} ]] && pre=(valgrind --tool=callgrind --callgrind-out-file="$TMP/callgrind.out"
                                --dump-instr=no --collect-atstart=yes)
  # shellcheck disable=SC2206 # e.g. WORKER_WRAP="gdb -batch -ex run -ex bt --args"
  [[ -n ${WORKER_WRAP:-} ]] && pre=($WORKER_WRAP)
  local wargs=()
  # shellcheck disable=SC2206 # split into options on purpose
  [[ -n ${WORKER_ARGS:-} ]] && wargs=($WORKER_ARGS)
  "${pre[@]+"${pre[@]}"}" "$BIN/vc-worker" --id w1 --cpu "$WORKER_CPU" \
    --control-url "ipc://$TMP/worker.ipc" --redis-url "$redis" --ice-addresses 127.0.0.1 \
    --port-min 40000 --port-max 49999 "${wargs[@]+"${wargs[@]}"}" > "$TMP/worker.log" 2>&1 &
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

# Janus VideoRoom with a private copy of bench/janus/*.jcfg (never
# /etc/janus), on a veth carrying 127.0.0.2 (libnice skips LOOPBACK
# interfaces; packets to it are still delivered locally), pinned to the
# worker's core.
JANUS_WS=18188
start_janus() {
  local d=$TMP/janus
  mkdir -p "$d"
  ip link add vcb0 type veth peer name vcb1 2>/dev/null || true
  ip addr add 127.0.0.2/32 dev vcb0 2>/dev/null || true
  ip link set vcb0 up; ip link set vcb1 up
  for f in "$ROOT"/bench/janus/*.jcfg; do
    sed -e "s|@DIR@|$d|" -e "s|@RTP_PORTS@|20000-39999|" -e "s|@IFACE@|vcb0|" \
        -e "s|@EVENT_LOOPS@|${JANUS_EVENT_LOOPS:-1}|" -e "s|@WS_PORT@|$JANUS_WS|" \
        -e "s|@HTTP_PORT@|18088|" "$f" > "$d/$(basename "$f")"
  done
  taskset -c "$WORKER_CPU" janus -C "$d/janus.jcfg" -F "$d" -o -N -L "$TMP/janus.log" \
    > "$TMP/janus.stdout" 2>&1 &
  PIDS+=($!); JANUS_PID=$!
  wait_line "$TMP/janus.log" 'WebSockets server started' 30
}

# lg TARGET ARGS...: one load generator run; JSON lines tagged with target.
lg() {
  local target=$1; shift
  local srv
  if [[ $target == janus* ]]; then
    # Janus's libnice pairs its 127.0.0.2 candidate only with a remote one
    # on the same veth: the generator gathers on 127.0.0.2 too.
    srv=(--target janus --port "$JANUS_WS" --worker-pid "$JANUS_PID" --server-pid "$JANUS_PID"
         --ice-ip 127.0.0.2)
  else
    srv=(--port "$PORT" --worker-pid "$WORKER_PID" --server-pid "$WORKER_PID"
         --server-pid "$EDGE_PID" --server-pid "$ROUTER_PID" --server-pid "$REDIS_PID"
         --worker-log "$TMP/worker.log")
  fi
  # In the background and waited for, so INT/TERM reach the trap at once
  # and cleanup stops the generator too.
  timeout -k 5 "${LG_TIMEOUT:-900}" taskset -c "$LG_CPU" "$BIN/vc-loadgen" "${srv[@]}" "$@" ${LG_ARGS:-} \
    > "$TMP/lg.out" 2>> "$TMP/loadgen-$target.log" &
  PIDS+=($!)
  wait $! || echo "bench: $target: load generator failed or timed out" \
    "(log: $TMP/loadgen-$target.log)" >&2
  sed "s/^{/{\"target\":\"$target\",/" "$TMP/lg.out" | tee -a "$LINES" >&2
}

# udp_left TARGET: the UDP sockets still open in the namespace once the
# generator is gone (each session's socket must close when it leaves; the
# servers' own few stay), waited for up to 10 s.
udp_left() {
  local n
  for _ in $(seq 100); do
    n=$(ss -Huan | wc -l)
    (( n <= 8 )) && break
    sleep 0.1
  done
  echo "bench: $1: UDP sockets left after the generator: $n" >&2
}

# one_step TAG SUBS ARGS...: one fan-out step of SUBS subscribers (the
# latency probe and the re-runs at a ramp's step), results tagged TAG.
one_step() {
  local tag=$1 subs=$2; shift 2
  lg "$tag" --scenario fanout --start "$subs" --step 0 --subs-per-room "${FAN_ROOM}" \
    --window "$LATW" --warmup 1 --ready-timeout 15 "$@"
}

# lat_step TARGET SUBS: the latency probe, one step of SUBS subscribers.
lat_step() {
  one_step "$1-lat" "$2" --srtp cm
}

# sim_step TARGET: the simulcast fan-out, SIM_SUBS subscribers whose tiles
# show q, h or f (the layer switches settle in the longer warm-up).
sim_step() {
  one_step "$1-simulcast" "$SIM_SUBS" --srtp cm --simulcast 1 --warmup "$SIM_WARMUP"
}

# run_target ours|janus: every scenario against one target.
run_target() {
  local t=$1 maxsubs
  if [[ ${ONLY:-} == joins ]]; then
    echo "bench: $t: joins" >&2
    lg "$t" --scenario joins --srtp cm "${JOINS[@]}"
    return 0
  fi
  if [[ ${ONLY:-} == simulcast ]]; then
    sim_step "$t"
    return 0
  fi
  if [[ ${ONLY:-} == meeting ]]; then
    lg "$t" --scenario meeting --srtp cm "${MEET[@]}" ${MEET_ARGS:-}
    return 0
  fi
  if [[ ${ONLY:-} == latency ]]; then
    echo "bench: $t: latency at ${LAT_SUBS:?LAT_SUBS} subscribers" >&2
    lat_step "$t" "$LAT_SUBS"
    return 0
  fi
  echo "bench: $t: fan-out (AES-CM-128/HMAC-SHA1-80)" >&2
  lg "$t" --scenario fanout --srtp cm "${FAN[@]}"
  udp_left "$t"
  [[ ${ONLY:-} == fanout ]] && return 0
  maxsubs=$(/usr/bin/python3 "$ROOT/bench/report.py" --max "$LINES" "$t")
  # The generator's subscribers take a UDP GSO train as one message
  # (UDP_GRO), as a client behind a NIC with segmentation offload costs the
  # server one send; the largest clean step once more with them splitting
  # trains, which over loopback runs a receive stack per datagram on the
  # target's core.
  if ((maxsubs > 0)) && [[ -z ${QUICK:-} ]]; then
    echo "bench: $t: $maxsubs subscribers again, receivers splitting GSO trains" >&2
    one_step "$t-split" "$maxsubs" --srtp cm --rx-gro 0
  fi
  # Latency at half the largest subscriber count that stayed under 1% loss.
  echo "bench: $t: latency at 50% load ($((maxsubs / 2)) subscribers)" >&2
  lat_step "$t" "$(( maxsubs / 2 > 0 ? maxsubs / 2 : 1 ))"
  # What the idle setting is worth: the ramp's step nearest half a core,
  # once more with it and once with the vCPU halting at once (not in QUICK
  # runs, to stay under a minute).
  if [[ -n $HALT_POLL_NS && -z ${QUICK:-} ]]; then
    local half
    half=$(/usr/bin/python3 "$ROOT/bench/report.py" --half "$LINES" "$t")
    if ((half > 0)); then
      echo "bench: $t: latency at $half subscribers, halt-polling $HALT_POLL_NS ns then 0" >&2
      lat_step "$t-poll" "$half"
      echo 0 >"$HALT_POLL"
      lat_step "$t-nopoll" "$half"
      echo "$HALT_POLL_NS" >"$HALT_POLL"
    fi
  fi
  if [[ ${SRTP:-both} != cm ]]; then
    echo "bench: $t: AES-GCM at the clean AES-CM load ($maxsubs subscribers)" >&2
    one_step "$t-gcm" "$(( maxsubs > 0 ? maxsubs : 1 ))" --srtp gcm
  fi
  echo "bench: $t: simulcast fan-out ($SIM_SUBS subscribers, layers q/h/f)" >&2
  sim_step "$t"
  echo "bench: $t: meetings of 8" >&2
  lg "$t" --scenario meeting --srtp cm "${MEET[@]}"
  echo "bench: $t: joins" >&2
  lg "$t" --scenario joins --srtp cm "${JOINS[@]}"
}

# Rooms of 20 subscribers: our worker offers every participant an m-line
# pair for every other participant, about 0.9 kB of SDP each, so a room of
# 1 + 40 overflowed both ROOM_MAX_MLINES (63) and the 48 kB offer cap, and
# the last joiners never became ready (the old full ramp's stall).
if [[ -n ${QUICK:-} ]]; then
  FAN_ROOM=20
  FAN=(--start 10 --step 10 --max-subs 20 --subs-per-room $FAN_ROOM --window 1.5 --warmup 0.5
       --ready-timeout 8)
  MEET=(--start 1 --step 1 --max-steps 1 --window 1.5 --warmup 0.5 --ready-timeout 8)
  JOINS=(--joins 8 --subs-per-room 20)
  LATW=1.5
  SIM_SUBS=20
  SIM_WARMUP=1
  PHYS_SECONDS=0.5
else
  FAN_ROOM=20
  FAN=(--start 20 --step 40 --max-subs 3000 --subs-per-room $FAN_ROOM --window 5 --warmup 2)
  MEET=(--start 1 --step 2 --max-steps 20 --window 5 --warmup 2)
  JOINS=(--joins 50 --subs-per-room 20)
  LATW=${LATW_S:-10}
  SIM_SUBS=${SIM_SUBS:-200}
  SIM_WARMUP=3
fi

# shellcheck disable=SC2206 # word splitting is the point
[[ -n ${FAN_ARGS:-} ]] && FAN=($FAN_ARGS)

# The ceiling: the physical loop alone on the worker's core, the drain on
# the generator's (skipped for ONLY=fanout A/B runs).
if [[ -z ${PROFILE:-} && -z ${ONLY:-} ]]; then
  echo "bench: physical loop (vc-physloop)" >&2
  "$BIN/vc-physloop" --dests 20 --seconds "${PHYS_SECONDS:-3}" --tx-cpu "$WORKER_CPU" \
    --rx-cpu "$LG_CPU" | sed 's/^{/{"target":"physloop",/' | tee -a "$LINES" >&2
fi

if [[ -z ${PROFILE:-} && " ${TARGETS:-ours janus} " == *" ours "* ]]; then
  start_ours
  run_target ours
  stop_all
fi
if [[ -z ${PROFILE:-} && " ${TARGETS:-ours janus} " == *" janus "* ]]; then
  start_janus
  run_target janus
  stop_all
fi
if [[ -z ${PROFILE:-} ]]; then
  /usr/bin/python3 "$ROOT/bench/report.py" "$LINES" "$OUT" "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" "$HALT_POLL_NS"
  exit 0
fi

start_ours
if [[ -n ${PROFILE:-} ]]; then
  lg ours --scenario fanout --srtp "${PROFILE_SRTP:-cm}" --start 20 --step 0 --subs-per-room 20 \
    --window 10 --warmup 2
  kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true
  cp "$TMP/callgrind.out" "/tmp/vc-bench-$STAMP-callgrind.out" # large: not kept in the tree
  callgrind_annotate --inclusive=yes "$TMP/callgrind.out" > "$TMP/annotate.txt" 2>/dev/null || true
  head -80 "$TMP/annotate.txt" | tee "$ROOT/bench/results/$STAMP-callgrind.txt"
  exit 0
fi
