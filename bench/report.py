#!/usr/bin/python3
"""Turns the load generator's JSON lines into the bench table and one JSON
file: bench/report.py results.jsonl out.json ncpu cpu-model [halt-poll-ns].
bench/run.sh asks it which fan-out step to measure next, so that it picks
the steps the table reports: bench/report.py --max|--half results.jsonl
target prints the subscribers of the largest clean step or of the clean
step nearest half a core (0 if none)."""
import json
import sys


def clean_steps(fan):
    # A step counts only if nobody failed to join: a participant that never
    # connected sends and receives nothing, so it hides as zero loss.
    # ... and only while the generator kept its publishers' schedule.
    return [j for j in fan if j["loss"] <= 0.01 and j["failed"] == 0 and j["subscribers"] > 0
            and j.get("lg_late_ms", 0) <= 250]


def nearest_half_cpu(ok):
    # The clean step whose target CPU was nearest half a core: "50 % load"
    # read as utilization, where the loss-only maximum is reached by
    # queueing (and so batching) far past a full core's worth of work.
    half = [j for j in ok if j["worker_cpu"] > 0 and j.get("lat_samples", 1) > 0]
    return min(half, key=lambda j: abs(j["worker_cpu"] - 0.5)) if half else None


lines = [json.loads(l) for l in open(sys.argv[2 if sys.argv[1].startswith("--") else 1])
         if l.startswith("{")]
if sys.argv[1] in ("--max", "--half"):
    ok = clean_steps([j for j in lines if j["target"] == sys.argv[3]
                      and j["scenario"] == "fanout"])
    step = (max(ok, key=lambda j: j["subscribers"], default=None) if sys.argv[1] == "--max"
            else nearest_half_cpu(ok))
    print(step["subscribers"] if step else 0)
    sys.exit(0)
out, ncpu, model = sys.argv[2], sys.argv[3], sys.argv[4].strip()
# The guest halt-polling window the run set (empty: the machine's own).
halt_poll = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None


def summarize(target):
    fan = [j for j in lines if j["target"] == target and j["scenario"] == "fanout"]
    ok = clean_steps(fan)
    saturated = any(j.get("lg_late_ms", 0) > 250 for j in fan)
    gcm = [j for j in lines if j["target"] == target + "-gcm" and j["failed"] == 0]
    lat = [j for j in lines if j["target"] == target + "-lat"]
    meet = [j for j in lines if j["target"] == target and j["scenario"] == "meeting"]
    meet_ok = [j for j in meet if j["loss"] <= 0.01 and j["failed"] == 0]
    joins = [j for j in lines if j["target"] == target and j["scenario"] == "joins"]
    s = {"generator_saturated": saturated}
    if ok:
        best = max(ok, key=lambda j: j["subscribers"])
        s["fanout_max_subscribers"] = best["subscribers"]
        s["fanout_fwd_pps"] = best["fwd_pps"]
        s["fanout_worker_cpu"] = best["worker_cpu"]
        s["fanout_lg_cpu"] = best["lg_cpu"]
        s["fanout_lat_us_p50"] = best["lat_us_p50"]
        # The ramp ended on the generator (97 % of its core), not on loss:
        # the target's limit is higher than measured.
        s["fanout_generator_limited"] = best is fan[-1] and best["lg_cpu"] >= 0.97
    # The ramp as if it had also stopped at the first step over 10 ms p50:
    # a saturated target delivers late (its queue grows) before it loses.
    tight = []
    for j in fan:
        if j not in ok or j["lat_us_p50"] > 10000:
            break
        tight.append(j)
    if tight:
        t = tight[-1]
        s["fanout_max_subscribers_p50_10ms"] = t["subscribers"]
        if t["worker_cpu"] > 0:
            s["pps_per_core_p50_10ms"] = t["fwd_pps"] / t["worker_cpu"]
    # Forwarded packets per second per worker CPU-second, from the busiest
    # clean step: robust on a shared machine where the worker gets < 1 core.
    busiest = max(ok, key=lambda j: j["fwd_pps"]) if ok else None
    if busiest and busiest["worker_cpu"] > 0:
        s["pps_per_core"] = busiest["fwd_pps"] / busiest["worker_cpu"]
    if len(fan) >= 2:
        a, b = fan[0], fan[-1]
        if b["subscribers"] > a["subscribers"] and b["worker_rss_kb"] > 0:
            s["rss_kb_per_subscriber"] = (b["worker_rss_kb"] - a["worker_rss_kb"]) / (
                b["subscribers"] - a["subscribers"])
    split = [j for j in lines if j["target"] == target + "-split" and j["failed"] == 0]
    if split and split[-1]["worker_cpu"] > 0:
        s["split_pps_per_core"] = split[-1]["fwd_pps"] / split[-1]["worker_cpu"]
        s["split_loss_pct"] = 100 * split[-1]["loss"]
    if gcm and gcm[-1]["worker_cpu"] > 0:
        s["gcm_pps_per_core"] = gcm[-1]["fwd_pps"] / gcm[-1]["worker_cpu"]
        s["gcm_loss"] = gcm[-1]["loss"]
    # Simulcast (q/h/f, tiles cycling over the three) at one load for both.
    sim = [j for j in lines if j["target"] == target + "-simulcast"]
    if sim and sim[-1]["failed"] == 0:
        j = sim[-1]
        s.update({"sim_subscribers": j["subscribers"], "sim_fwd_pps": j["fwd_pps"],
                  "sim_cpu_pct": 100 * j["worker_cpu"], "sim_loss_pct": 100 * j["loss"],
                  "sim_lat_us_p50": j["lat_us_p50"], "sim_lat_us_p99": j["lat_us_p99"],
                  "sim_layer_wrong": j.get("layer_wrong")})
        if j["worker_cpu"] > 0:
            s["sim_pps_per_core"] = j["fwd_pps"] / j["worker_cpu"]
    h = nearest_half_cpu(ok)
    if h:
        s.update({"lat50cpu_us_p50": h["lat_us_p50"], "lat50cpu_us_p99": h["lat_us_p99"],
                  "lat50cpu_subscribers": h["subscribers"],
                  "lat50cpu_cpu_pct": 100 * h["worker_cpu"]})
    # The same step re-run with the run's idle setting and without it.
    for tag in ("poll", "nopoll"):
        r = [j for j in lines if j["target"] == f"{target}-{tag}-lat" and j["failed"] == 0]
        if r:
            s[f"lat50cpu_{tag}_us_p50"] = r[-1]["lat_us_p50"]
            s[f"lat50cpu_{tag}_us_p99"] = r[-1]["lat_us_p99"]
            s[f"lat50cpu_{tag}_cpu_pct"] = 100 * r[-1]["worker_cpu"]
    if lat and lat[-1]["failed"] == 0:
        s["lat_us_p50"] = lat[-1]["lat_us_p50"]
        s["lat_us_p99"] = lat[-1]["lat_us_p99"]
        s["lat_subscribers"] = lat[-1]["subscribers"]
    if meet_ok:
        m = max(meet_ok, key=lambda j: j["rooms"])
        s["meeting_rooms_of_8"] = m["rooms"]
        s["meeting_fwd_pps"] = m["fwd_pps"]
    if joins:
        j = joins[-1]
        s.update({k: j[k] for k in ("ttfm_ms_p50", "ttfm_ms_p99", "join_cpu_ms_p50",
                                     "join_cpu_ms_p99", "worker_join_cpu_ms_p99",
                                     "join_cpu_ms_p99_bg_per_s", "ttconn_ms_p50",
                                     "join_cpu_self", "join_cpu_ms_p99_diff",
                                     "worker_join_cpu_ms_p99_diff") if k in j})
    return s


ours, janus = summarize("ours"), summarize("janus")
# The physical loop (vc-physloop: protect + send over loopback, no SFU) on
# the worker's core: the ceiling our pps per core is held against.
phys = {j["shape"]: j["pps_per_core"] for j in lines if j.get("scenario") == "physloop"
        and j.get("srtp") == "cm"}
rows = [
    ("fan-out: subscribers at <1% loss", "fanout_max_subscribers", "%.0f", 1),
    ("  added latency p50 at that load (us)", "fanout_lat_us_p50", "%.0f", -1),
    ("fan-out: forwarded pps at that load", "fanout_fwd_pps", "%.0f", 1),
    ("forwarded pps per worker core", "pps_per_core", "%.0f", 1),
    ("  same load, AES-GCM offered: pps per core", "gcm_pps_per_core", "%.0f", 1),
    ("  same load, trains split: pps per core [3]", "split_pps_per_core", "%.0f", 1),
    ("  same load, trains split: loss (%)", "split_loss_pct", "%.2f", -1),
    ("fan-out at <1% loss and p50 <= 10 ms (subs)", "fanout_max_subscribers_p50_10ms", "%.0f", 1),
    ("  forwarded pps per worker core there", "pps_per_core_p50_10ms", "%.0f", 1),
    ("meetings of 8 at <1% loss (rooms)", "meeting_rooms_of_8", "%.0f", 1),
    ("simulcast q/h/f fan-out [4]: subscribers", "sim_subscribers", "%.0f", 0),
    ("  forwarded pps", "sim_fwd_pps", "%.0f", 0),
    ("  the target's CPU (% of a core)", "sim_cpu_pct", "%.0f", -1),
    ("  forwarded pps per core", "sim_pps_per_core", "%.0f", 1),
    ("  loss (%)", "sim_loss_pct", "%.2f", -1),
    ("  latency p50 (us)", "sim_lat_us_p50", "%.0f", -1),
    ("  latency p99 (us)", "sim_lat_us_p99", "%.0f", -1),
    ("  probes of another layer than the tile's", "sim_layer_wrong", "%.0f", 0),
    ("added latency p50 at 50% load (us)", "lat_us_p50", "%.0f", -1),
    ("added latency p99 at 50% load (us)", "lat_us_p99", "%.0f", -1),
    ("  p50 at the ramp step nearest 50% CPU (us)", "lat50cpu_us_p50", "%.0f", -1),
    ("  p99 there (us)", "lat50cpu_us_p99", "%.0f", -1),
    ("  that step: subscribers", "lat50cpu_subscribers", "%.0f", 1),
    ("  that step: the target's CPU (% of a core)", "lat50cpu_cpu_pct", "%.0f", 0),
    ("  re-run there: p50 (us) [2]", "lat50cpu_poll_us_p50", "%.0f", -1),
    ("  re-run there: p99 (us)", "lat50cpu_poll_us_p99", "%.0f", -1),
    ("  re-run, halt-polling off: p50 (us)", "lat50cpu_nopoll_us_p50", "%.0f", -1),
    ("  re-run, halt-polling off: p99 (us)", "lat50cpu_nopoll_us_p99", "%.0f", -1),
    ("join: WS open -> first media p50 (ms)", "ttfm_ms_p50", "%.1f", -1),
    ("join: WS open -> first media p99 (ms)", "ttfm_ms_p99", "%.1f", -1),
    ("  of which WS open -> DTLS done p50 (ms)", "ttconn_ms_p50", "%.1f", -1),
    ("join: server CPU per join p99 (ms) [1]", "join_cpu_ms_p99", "%.2f", -1),
    ("join: worker CPU per join p99 (ms) [1]", "worker_join_cpu_ms_p99", "%.2f", -1),
    ("  server CPU p99, all by difference (ms)", "join_cpu_ms_p99_diff", "%.2f", -1),
    ("  worker CPU p99, by difference (ms)", "worker_join_cpu_ms_p99_diff", "%.2f", -1),
    ("  server CPU p99, background per second (ms)", "join_cpu_ms_p99_bg_per_s", "%.2f", -1),
    ("worker memory per subscriber (KB)", "rss_kb_per_subscriber", "%.1f", -1),
]
print(f"\nbench on {ncpu} cores ({model}); one worker core vs one Janus core;"
      " SRTP AES-CM-128/HMAC-SHA1-80 unless said")
if halt_poll is not None:
    print(f"idle vCPUs poll {halt_poll} ns before halting (guest halt-polling, as the worker"
          " role sets it; the machine's own setting is back after the run)")
print(f"{'metric':42} {'ours':>12} {'janus':>12} {'ratio':>8}")
for name, key, fmt, better in rows:
    a, b = ours.get(key), janus.get(key)
    fa = fmt % a if a is not None else "-"
    fb = fmt % b if b is not None else "n/m"
    ratio = "-"
    if better != 0 and a is not None and b not in (None, 0) and a != 0:
        ratio = "%.2f" % ((a / b) if better > 0 else (b / a))
    print(f"{name:42} {fa:>12} {fb:>12} {ratio:>8}")
print("(ratio > 1: ours is better; n/m: not measured)")
if ours.get("join_cpu_self"):
    print("[1] ours: the worker's own account of each join (its thread CPU from the join message"
          " to the first media), the other servers by difference; Janus: all by difference"
          " (process CPU over the join minus the background)")
if ours.get("lat50cpu_nopoll_us_p50") is not None:
    print("[2] the ramp step nearest 50 % CPU once more, then again with idle vCPUs halting at"
          " once (guest_halt_poll_ns 0): a halted vCPU is woken through the hypervisor")
if ours.get("split_pps_per_core") is not None:
    print("[3] the generator's subscribers take a UDP GSO train as one message (UDP_GRO), as a"
          " NIC with UDP segmentation offload takes it from the server; re-run with them"
          " splitting trains: over loopback the kernel then runs a receive per datagram on the"
          " target's core")
if ours.get("sim_subscribers") is not None:
    print("[4] rooms of 1 + 20; the publisher sends three VP8 layers by rid (about 150, 500 and"
          " 1500 kbit/s), each subscriber's tile shows one of them (cycling q, h, f) and its"
          " receiver reports a 5 Mbit/s REMB; the same subscriber count for both targets")
for t, sm in (("ours", ours), ("janus", janus)):
    if sm.get("fanout_generator_limited"):
        print(f"{t}: the fan-out ramp ended on the generator (97 % of its core), not on loss:"
              f" {t}'s limit is above {sm['fanout_max_subscribers']} subscribers")
if phys:
    print("physical loop on the worker's core (vc-physloop, 20 destinations, AES-CM, no SFU):")
    for shape, what in (("per-socket", "one sendmmsg of 1 datagram per destination socket"),
                        ("uring-msg", "one io_uring_enter, a sendmsg per destination socket"),
                        ("uring", "the same, a send with the address on a fixed file"),
                        ("shared", "one socket, one sendmmsg for all destinations"),
                        ("raw", "one raw socket, one sendmmsg, own UDP/IP headers"),
                        ("gso", "UDP GSO trains of 8 per destination, split on receipt"),
                        ("gso-gro", "the same, receivers take a train whole (UDP_GRO)")):
        if shape in phys:
            print(f"  {shape:11} {phys[shape]:>10.0f} pps per core  ({what})")
    if "uring" in phys and ours.get("pps_per_core"):
        print(f"  ours: {100 * ours['pps_per_core'] / phys['uring']:.0f} % of the io_uring"
              " ceiling (the worker's sends at moderate load, one datagram each)")
    if "gso-gro" in phys and ours.get("pps_per_core"):
        print(f"  ours: {100 * ours['pps_per_core'] / phys['gso-gro']:.0f} % of the GSO ceiling"
              " (the worker's sends at saturation are trains, of varying length)")
for t, sm in (("ours", ours), ("janus", janus)):
    if sm.get("generator_saturated"):
        print(f"note: {t}: in a fan-out step the generator fell more than 250 ms behind its"
              " publishing schedule (its core was saturated or descheduled): steps from there on"
              " do not count, so the subscriber count is a lower bound")
json.dump({"machine": {"cpus": int(ncpu), "model": model, "guest_halt_poll_ns": halt_poll},
           "ours": ours, "janus": janus, "physloop": phys, "steps": lines}, open(out, "w"), indent=1)
print(f"results: {out}")
