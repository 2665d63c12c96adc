#!/usr/bin/env bash
# The load generator against the real cluster (redis, router, edge, one
# worker), through bench/run.sh in its own network namespace: a short
# fan-out step and a few joins. It checks what the generator reports (every
# participant joined, nothing lost, the latency probe and CPU figures
# present, every UDP socket closed after it), not how fast anything is:
# speed is `make bench`'s, never a test's. With BUILD=build-san (the san
# stage) every process runs under ASan/UBSan and their logs must hold no
# report. Prints "ok - ..." lines and "loadgen: N passed, N failed" (or
# "loadgen-san: ...").
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$(mktemp -d /tmp/vc-lgtest.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# run NAME ARGS...: one bench/run.sh partial run, JSON kept in $OUT/NAME.json
run() {
  local name=$1; shift
  # BENCH_HALT_POLL_NS empty: a test leaves the machine's idle setting alone.
  env "$@" TARGETS=ours BUILD="$BUILD" BENCH_OUT="$OUT/$name.json" BENCH_LOGS="$OUT/logs-$name" \
    BENCH_HALT_POLL_NS= LG_TIMEOUT=120 bash bench/run.sh > "$OUT/$name.log" 2>&1
  echo "--- $name: exit $?, last lines:"
  tail -4 "$OUT/$name.log"
}

# Two rooms of 1 publisher + 20 subscribers for 3 s.
run fanout ONLY=fanout \
  FAN_ARGS="--start 40 --step 0 --subs-per-room 20 --window 3 --warmup 1 --ready-timeout 20"
# Simulcast: the publisher sends q, h and f; six subscribers' tiles show
# q, h, f, q, h, f (the layers' own sizes).
run simulcast ONLY=fanout LG_ARGS="--simulcast 1" \
  FAN_ARGS="--start 6 --step 0 --subs-per-room 6 --window 3 --warmup 2 --ready-timeout 20"
# Dynacast: two subscribers show h and f; nobody shows q, so the worker
# tells the publisher to pause it (about 2 s after the join).
run dynacast ONLY=fanout LG_ARGS="--simulcast 1" \
  FAN_ARGS="--start 2 --step 0 --subs-per-room 2 --window 3 --warmup 4 --ready-timeout 20"
# Four subscribers joining one at a time.
run joins ONLY=joins QUICK=1

label=loadgen
[[ $BUILD == build-san ]] && label=loadgen-san
/usr/bin/python3 - "$OUT" "$label" <<'PY'
import glob, json, os, re, sys
out, label = sys.argv[1], sys.argv[2]
passed = failed = 0

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name} {detail}")

def load(name):
    try:
        return json.load(open(os.path.join(out, name + ".json")))
    except (OSError, ValueError) as e:
        return {"error": str(e)}

fan = load("fanout")
steps = [s for s in fan.get("steps", []) if s.get("scenario") == "fanout"]
check("fanout: one step measured", len(steps) == 1, fan.get("error", f"{len(steps)} steps"))
s = steps[0] if steps else {}
check("fanout: 40 subscribers in 2 rooms, none failed",
      s.get("subscribers") == 40 and s.get("rooms") == 2 and s.get("failed") == 0, str(s)[:300])
check("fanout: loss under 1 %", s.get("loss", 1) < 0.01, f"loss {s.get('loss')}")
exp = s.get("expected_pps", 0)
check("fanout: forwarded what the publishers sent, to every subscriber",
      exp > 0 and s.get("fwd_pps", 0) >= 0.99 * exp and abs(exp - 20 * s.get("sent_pps", 0)) <= 0.05 * exp,
      f"fwd {s.get('fwd_pps')} expected {exp} sent {s.get('sent_pps')}")
check("fanout: latency probe samples and figures",
      s.get("lat_samples", 0) > 0 and 0 < s.get("lat_us_p50", 0) <= s.get("lat_us_p99", 0),
      f"samples {s.get('lat_samples')} p50 {s.get('lat_us_p50')} p99 {s.get('lat_us_p99')}")
check("fanout: latency from the kernel's send stamps (nearly every probe has one)",
      s.get("lat_tx_stamped", 0) >= 0.9 * s.get("lat_samples", 1) and
      s.get("lat_us_p50", 0) <= s.get("lat_user_us_p50", 0),
      f"stamped {s.get('lat_tx_stamped')} of {s.get('lat_samples')}, p50 {s.get('lat_us_p50')}"
      f" against {s.get('lat_user_us_p50')} from the user-space clock")
check("fanout: the generator reports how late its packets left their schedule",
      s.get("lg_emit_us_p50") is not None and 0 <= s["lg_emit_us_p50"] <= s.get("lg_emit_us_p99", -1),
      f"p50 {s.get('lg_emit_us_p50')} p99 {s.get('lg_emit_us_p99')}")
check("fanout: generator and worker CPU reported",
      0 < s.get("lg_cpu", 0) < 1.5 and 0 < s.get("worker_cpu", 0) < 1.5 and s.get("worker_rss_kb", 0) > 0,
      f"lg {s.get('lg_cpu')} worker {s.get('worker_cpu')}")
log = open(os.path.join(out, "fanout.log")).read()
m = re.search(r"UDP sockets left after the generator: (\d+)", log)
check("fanout: the generator's UDP sockets all closed", m is not None and int(m.group(1)) <= 8,
      m.group(0) if m else "no count")

def one_step(name):
    d = load(name)
    st = [x for x in d.get("steps", []) if x.get("scenario") == "fanout"]
    check(f"{name}: one step measured, none failed", len(st) == 1 and st[0].get("failed") == 0,
          d.get("error", f"{len(st)} steps {str(st)[:300]}"))
    return st[0] if st else {}

sc = one_step("simulcast")
probes = sc.get("layer_probes", [0, 0, 0])
check("simulcast: each subscriber gets the layer its tile shows, all three forwarded",
      all(n > 0 for n in probes) and sc.get("layer_wrong", 1) == 0,
      f"probes per layer {probes}, of another layer {sc.get('layer_wrong')}")
check("simulcast: nothing lost, all of each subscriber's layer delivered",
      sc.get("loss", 1) < 0.01 and sc.get("delivery_shortfall", 1) < 0.01,
      f"loss {sc.get('loss')} shortfall {sc.get('delivery_shortfall')}")
check("simulcast: the worker asked for key frames and the publisher sent them",
      sc.get("kf_requests", 0) > 0 and sc.get("key_frames", 0) >= 3,
      f"requests {sc.get('kf_requests')} key frames {sc.get('key_frames')}")
dy = one_step("dynacast")
sent, probes = dy.get("layer_sent_pps", [1, 0, 0]), dy.get("layer_probes", [1, 0, 0])
check("dynacast: the layer nobody shows is paused at the publisher, the others flow",
      sent[0] == 0 and sent[1] > 0 and sent[2] > 0 and probes[0] == 0 and probes[1] > 0
      and probes[2] > 0 and dy.get("layer_wrong", 1) == 0 and dy.get("loss", 1) < 0.01,
      f"sent pps per layer {sent}, probes {probes}, wrong {dy.get('layer_wrong')}")

j = load("joins").get("ours", {})
check("joins: time to first media measured",
      0 < j.get("ttfm_ms_p50", 0) <= j.get("ttfm_ms_p99", 0) < 5000, str(j)[:300])
check("joins: DTLS before first media", 0 < j.get("ttconn_ms_p50", 0) <= j.get("ttfm_ms_p50", 0),
      f"{j.get('ttconn_ms_p50')} / {j.get('ttfm_ms_p50')}")
check("joins: server CPU per join measured", j.get("join_cpu_ms_p50", 0) > 0,
      f"{j.get('join_cpu_ms_p50')}")
# The worker logs its own account of every join (thread CPU from the join
# message to media); the generator found one for each of its joins.
check("joins: the worker's own account of every join",
      j.get("join_cpu_self") is True and j.get("worker_join_cpu_ms_p99", 0) > 0,
      f"self {j.get('join_cpu_self')}, worker p99 {j.get('worker_join_cpu_ms_p99')}")
reports = [f for f in glob.glob(os.path.join(out, "logs-*", "*.log"))
           if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:", open(f, errors="replace").read())]
check("no sanitizer report in any process's log", not reports, " ".join(reports))
print(f"{label}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
