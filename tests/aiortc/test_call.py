#!/usr/bin/python3
"""Two aiortc clients in one meeting through a real cluster (redis-server,
vc-router, one vc-worker, one vc-edge), speaking only the browser protocol
(docs/protocol.md, proto/proto.c). Each publishes a tone and generated video
on the server's publish slots (mid 0 audio, mid 1 video) and must receive the
other's audio and video frames.

Run inside a network namespace with only loopback (tests/aiortc/run.sh).
Prints "ok - <name>" / "not ok - <name>" per check and exits 1 on failure.
"""
import asyncio
import fractions
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.request

import aioice.ice
import av
import numpy as np
import websockets
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack

# aioice skips loopback when gathering; the namespace has nothing else.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bin")
ART = os.path.join(ROOT, "tests", "artifacts", "aiortc")
WS_PATH = os.environ.get("WS_PATH", "/ws")
PORT = 18500
MEDIA_TIMEOUT = float(os.environ.get("MEDIA_TIMEOUT", "15"))

results = []  # (ok, name, detail)


def check(ok, name, detail=""):
    results.append((bool(ok), name, detail))
    if ok and len(detail) > 100:
        detail = detail[:100] + "..."
    print(("ok - " if ok else "not ok - ") + name + (f"  # {detail}" if detail else ""), flush=True)


# ---- processes -------------------------------------------------------------


class Proc:
    """A child process whose stderr+stdout go to a log file and are scanned."""

    def __init__(self, name):
        self.name = name
        self.lines = []
        self.proc = None
        self.waiters = []

    async def start(self, *argv):
        self.log = open(os.path.join(ART, f"{self.name}.log"), "w")
        self.log.write("$ " + " ".join(argv) + "\n")
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            s = line.decode("utf-8", "replace").rstrip("\n")
            self.log.write(s + "\n")
            self.log.flush()
            self.lines.append(s)
            for pat, fut in list(self.waiters):
                if re.search(pat, s) and not fut.done():
                    fut.set_result(s)
        for pat, fut in self.waiters:
            if not fut.done():
                fut.set_exception(RuntimeError(f"{self.name} exited before logging {pat!r}:\n" + self.tail()))

    def tail(self, n=20):
        return "\n".join(self.lines[-n:])

    async def wait_line(self, pat, timeout=10):
        for s in self.lines:
            if re.search(pat, s):
                return s
        fut = asyncio.get_event_loop().create_future()
        self.waiters.append((pat, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"{self.name}: no line matching {pat!r} in {timeout} s:\n" + self.tail())

    @property
    def alive(self):
        return self.proc is not None and self.proc.returncode is None

    async def stop(self):
        """SIGTERM, 5 s, SIGKILL. Returns the exit status (negative: signal)."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.lines.append("# did not exit within 5 s of SIGTERM: SIGKILL")
                self.proc.kill()
                await self.proc.wait()
                self.stuck = True
        try:
            await asyncio.wait_for(self.reader, 2)
        except asyncio.TimeoutError:
            pass
        self.log.close()
        return self.proc.returncode


async def start_cluster(tmp):
    procs = []
    sock = os.path.join(tmp, "redis.sock")
    redis_url = f"unix:{sock}"
    redis = Proc("redis")
    procs.append(redis)
    await redis.start("redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                      "--save", "", "--appendonly", "no", "--dir", tmp, "--daemonize", "no")
    await redis.wait_line(r"(?i)ready to accept connections")
    router = Proc("router")
    procs.append(router)
    router_url = f"ipc://{tmp}/router.ipc"
    await router.start(f"{BIN}/vc-router", "--listen", router_url, "--redis-url", redis_url)
    await router.wait_line(r": ready\b")
    worker = Proc("worker")
    procs.append(worker)
    await worker.start(f"{BIN}/vc-worker", "--id", "w1", "--cpu", "-1",
                       "--control-url", f"ipc://{tmp}/worker-1.ipc", "--redis-url", redis_url,
                       "--ice-addresses", "127.0.0.1", "--port-min", "43000", "--port-max", "43999")
    await worker.wait_line(r": ready\b")
    edge = Proc("edge")
    procs.append(edge)
    await edge.start(f"{BIN}/vc-edge", "--id", "edge-1", "--http-addr", "127.0.0.1",
                     "--http-port", str(PORT), "--router-url", router_url,
                     "--events-url", f"ipc://{tmp}/edge-1.ipc", "--ui-dir", os.path.join(ROOT, "ui", "dist"),
                     "--jwt-secret", secrets.token_hex(32))
    await edge.wait_line(r": ready\b")
    # The worker must be registered before a room can be placed.
    deadline = time.monotonic() + 5
    while True:
        p = await asyncio.create_subprocess_exec("redis-cli", "-s", sock, "EXISTS", "vc:worker:w1",
                                                 stdout=asyncio.subprocess.PIPE)
        out, _ = await p.communicate()
        if out.strip() == b"1":
            break
        if time.monotonic() > deadline:
            raise RuntimeError("worker w1 never registered in Redis")
        await asyncio.sleep(0.05)
    return procs


def http_json(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


# ---- media -----------------------------------------------------------------


class ToneTrack(MediaStreamTrack):
    """A 440 Hz (or other) sine, 20 ms frames of 48 kHz mono s16."""

    kind = "audio"

    def __init__(self, freq):
        super().__init__()
        self.freq = freq
        self.pts = 0
        self.start = None

    async def recv(self):
        rate, samples = 48000, 960
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(samples) + self.pts) / rate
        data = (np.sin(2 * np.pi * self.freq * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, rate)
        self.pts += samples
        return frame


class PatternTrack(VideoStreamTrack):
    """320x240 frames with a moving bar, paced by VideoStreamTrack (30 fps)."""

    def __init__(self, shade):
        super().__init__()
        self.shade = shade
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = np.full((240, 320, 3), self.shade, dtype=np.uint8)
        x = (self.n * 4) % 320
        img[:, x:x + 16, :] = 255 - self.shade
        self.n += 1
        frame = av.VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


# ---- one client --------------------------------------------------------------


class Client:
    def __init__(self, label, freq, shade):
        self.label = label
        self.pc = RTCPeerConnection()
        self.audio = ToneTrack(freq)
        self.video = PatternTrack(shade)
        self.msgs = []
        self.joined = None
        self.tracks = {}  # mid -> {participant, kind} from offers
        self.received = {}  # (participant, kind) -> frame count
        self.content = {}  # (participant, kind) -> video mean luma / audio peak Hz samples
        self.errors = []
        self.offers = 0
        self.consumers = []
        self.queue = asyncio.Queue()
        self.dc = None  # the "chat" data channel, opened once an offer has m=application
        self.dc_msgs = []

        @self.pc.on("track")
        def on_track(track):
            self.consumers.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track):
        # The transceiver's mid is known once the offer that created it is applied.
        mid = None
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                mid = t.mid
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            info = self.tracks.get(mid, {})
            key = (info.get("participant", f"mid{mid}"), track.kind)
            n = self.received.get(key, 0) + 1
            self.received[key] = n
            # What arrives must be the other's media: its shade, its tone.
            try:
                if track.kind == "video" and n % 5 == 0:
                    self.content.setdefault(key, []).append(float(frame.to_ndarray(format="gray").mean()))
                elif track.kind == "audio" and n % 10 == 0:
                    arr = frame.to_ndarray().astype(float)
                    x = arr[0] if frame.format.is_planar else arr[0][:: len(frame.layout.channels)]
                    if np.abs(x).max() > 100:
                        peak = np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x)))))
                        self.content.setdefault(key, []).append(peak * frame.sample_rate / len(x))
            except Exception as e:  # analysis must not stop counting
                self.content.setdefault(key, []).append(f"error {e}")

    async def connect(self):
        self.ws = await websockets.connect(f"ws://127.0.0.1:{PORT}{WS_PATH}",
                                           origin=f"http://127.0.0.1:{PORT}", max_size=2 ** 20)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                self.msgs.append(m)
                await self.queue.put(m)
        except websockets.ConnectionClosed:
            pass

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def next(self, type_, timeout=8):
        """Next message of type_ from the queue; other messages are handled."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{self.label}: no {type_} in {timeout} s; got {[m['type'] for m in self.msgs]}")
            m = await asyncio.wait_for(self.queue.get(), left)
            if m["type"] == type_:
                return m
            await self.handle(m)

    async def handle(self, m):
        if m["type"] == "offer":
            await self.answer(m)
        elif m["type"] == "error":
            self.errors.append(m)
            print(f"# {self.label}: error {m.get('code')} {m.get('name')}: {m.get('message')}", flush=True)

    async def answer(self, offer):
        self.offers += 1
        for t in offer.get("tracks", []):
            if isinstance(t, dict) and "mid" in t:
                self.tracks[str(t["mid"])] = t
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        if self.dc is None and "\nm=application " in offer["sdp"]:
            # As the UI does: a reliable, ordered channel "chat" (docs/protocol.md "Chat").
            self.dc = self.pc.createDataChannel("chat")

            @self.dc.on("message")
            def on_dc_message(raw):
                if isinstance(raw, str):
                    self.dc_msgs.append(json.loads(raw))
        # mid 0 / mid 1 are our publish slots.
        for t in self.pc.getTransceivers():
            if t.mid == "0" and t.sender.track is None:
                t.sender.replaceTrack(self.audio)
                t.direction = "sendonly"
            elif t.mid == "1" and t.sender.track is None:
                t.sender.replaceTrack(self.video)
                t.direction = "sendonly"
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        # aiortc gathers fully in setLocalDescription: candidates are in the SDP.
        await self.send({"type": "answer", "sdp": self.pc.localDescription.sdp})

    async def join(self, room, name):
        await self.send({"v": 1, "type": "join", "room": room, "name": name})
        self.joined = await self.next("joined")
        offer = await self.next("offer")
        await self.answer(offer)

    async def pump(self):
        """Handles messages (renegotiation offers) until cancelled."""
        while True:
            m = await self.queue.get()
            await self.handle(m)

    async def close(self):
        for c in self.consumers:
            c.cancel()
        try:
            await self.ws.close()
        except Exception:
            pass
        await self.pc.close()


async def wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        await asyncio.sleep(0.05)
    return cond()


async def check_chat(a, b, pa, pb):
    """Chat over data channels: A's message reaches B on B's channel (never
    back to A); B's WebSocket chat reaches A on A's channel."""
    opened = await wait_for(lambda: all(c.dc is not None and c.dc.readyState == "open" for c in (a, b)), 10)
    check(opened, "both chat data channels open",
          f"A {a.dc and a.dc.readyState}, B {b.dc and b.dc.readyState}")
    if not opened:
        return
    a.dc.send(json.dumps({"v": 1, "type": "chat", "text": "hello from A \u00e9"}))
    got = await wait_for(lambda: any(m.get("type") == "chat" for m in b.dc_msgs), 5)
    m = next((m for m in b.dc_msgs if m.get("type") == "chat"), {})
    check(got and m.get("text") == "hello from A \u00e9" and m.get("from") == pa
          and m.get("name") == "Alice aiortc" and isinstance(m.get("ts"), int),
          "A's data channel chat reaches B", f"B got {b.dc_msgs}")
    await b.send({"v": 1, "type": "chat", "text": "hi over the websocket"})
    got = await wait_for(lambda: any(m.get("type") == "chat" for m in a.dc_msgs), 5)
    m = next((m for m in a.dc_msgs if m.get("type") == "chat"), {})
    check(got and m.get("text") == "hi over the websocket" and m.get("from") == pb
          and not any(x.get("type") == "chat" and x.get("from") == pa for x in a.dc_msgs + a.msgs),
          "B's WebSocket chat reaches A's data channel, nobody gets their own",
          f"A got {a.dc_msgs}")


async def run_call():
    a = Client("A", 440, 40)
    b = Client("B", 660, 200)
    pumps = []
    others = []
    try:
        status, room = http_json("POST", "/api/rooms", {"lobby": False})
        check(status == 201 and "room" in room, "POST /api/rooms -> 201", f"{status} {room}")
        await a.connect()
        await a.join(room["room"], "Alice aiortc")
        a_joined = time.monotonic()
        await b.connect()
        await b.join(room["room"], "Bob aiortc")
        pa, pb = a.joined["participant"], b.joined["participant"]
        check(pa != pb, "two participants", f"{pa} {pb}")
        pumps = [asyncio.ensure_future(a.pump()), asyncio.ensure_future(b.pump())]
        want = {("A", (pb, "video")), ("A", (pb, "audio")), ("B", (pa, "video")), ("B", (pa, "audio"))}
        cl = {"A": a, "B": b}
        start = time.monotonic()
        # Enough frames to show flow, not just one keyframe.
        need = {"video": 10, "audio": 25}
        while time.monotonic() - start < MEDIA_TIMEOUT:
            if all(cl[w].received.get(k, 0) >= need[k[1]] for w, k in want):
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - start
        for w, (p, kind) in sorted(want):
            c = cl[w]
            n = c.received.get((p, kind), 0)
            check(n >= need[kind], f"{w} receives the other's {kind}",
                  f"{n} frames in {elapsed:.1f} s; all received: {c.received}; ice {c.pc.iceConnectionState}; "
                  f"offers {c.offers}; tracks {c.tracks}")
        # A sends shade 40 and 440 Hz, B shade 200 and 660 Hz.
        for w, p, luma, hz in (("A", pb, (150, 256), 660), ("B", pa, (0, 100), 440)):
            c = cl[w]
            v = [x for x in c.content.get((p, "video"), []) if isinstance(x, float)]
            au = [x for x in c.content.get((p, "audio"), []) if isinstance(x, float)]
            check(v and luma[0] <= sorted(v)[len(v) // 2] < luma[1],
                  f"{w}'s video is the other's picture", f"mean luma samples {v[:8]}")
            check(au and abs(sorted(au)[len(au) // 2] - hz) <= 60,
                  f"{w}'s audio is the other's tone ({hz} Hz)", f"peak Hz samples {au[:8]}")
        check(not a.errors and not b.errors, "no error messages", f"{a.errors} {b.errors}")
        await check_chat(a, b, pa, pb)
        # Leave: the other hears participant_left.
        await b.send({"type": "leave"})
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if any(m["type"] == "participant_left" and m.get("participant") == pb for m in a.msgs):
                break
            await asyncio.sleep(0.05)
        check(any(m["type"] == "participant_left" and m.get("participant") == pb for m in a.msgs),
              "A hears B leave")

        # C joins after B left: the worker reuses B's m-lines (a=inactive, then
        # a new sender) in A's next offer; media must flow on them again.
        c = Client("C", 880, 120)
        others.append(c)
        await c.connect()
        await c.join(room["room"], "Cleo aiortc")
        pc_ = c.joined["participant"]
        pumps.append(asyncio.ensure_future(c.pump()))
        want2 = {("A", (pc_, "video")), ("A", (pc_, "audio")), ("C", (pa, "video")), ("C", (pa, "audio"))}
        cl["C"] = c
        start = time.monotonic()
        while time.monotonic() - start < MEDIA_TIMEOUT:
            if all(cl[w].received.get(k, 0) >= need[k[1]] for w, k in want2):
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - start
        for w, (p, kind) in sorted(want2):
            n = cl[w].received.get((p, kind), 0)
            check(n >= need[kind], f"after B left, {w} receives the {kind} of {'C' if w == 'A' else 'A'}",
                  f"{n} frames in {elapsed:.1f} s; all received: {cl[w].received}; offers {cl[w].offers}; "
                  f"tracks {cl[w].tracks}")
        mids_b = {m for m, t in a.tracks.items() if t.get("participant") == pc_}
        print(f"# A's m-lines for C: {sorted(mids_b)} (of {sorted(a.tracks)})", flush=True)
        v = [x for x in a.content.get((pc_, "video"), []) if isinstance(x, float)]
        check(v and 100 <= sorted(v)[len(v) // 2] < 150, "A's video from C is C's picture", f"mean luma {v[:8]}")

        # Consent freshness (RFC 7675): aioice checks every 5 s and gives up
        # after 6 unanswered checks. Past 35 s on A's pair, the worker (whose
        # fast receive path answers those checks itself) must still be
        # answering: A's transport is up and C's video still arrives.
        await asyncio.sleep(max(0.0, 35 - (time.monotonic() - a_joined)))
        before = a.received.get((pc_, "video"), 0)
        await asyncio.sleep(1.5)
        after = a.received.get((pc_, "video"), 0)
        check(a.pc.iceConnectionState in ("connected", "completed") and after > before,
              "A's ICE consent holds past 35 s (the worker answers its checks)",
              f"ice {a.pc.iceConnectionState}, C's video frames {before} -> {after}")
    finally:
        for p in pumps:
            p.cancel()
        await a.close()
        await b.close()
        for o in others:
            await o.close()


async def main():
    os.makedirs(ART, exist_ok=True)
    for f in os.listdir(ART):
        if f.endswith(".log"):
            os.remove(os.path.join(ART, f))
    for b in ("vc-router", "vc-worker", "vc-edge"):
        if not os.access(f"{BIN}/{b}", os.X_OK):
            check(False, "cluster binaries built", f"{BIN}/{b} missing")
            return
    tmp = tempfile.mkdtemp(prefix="vc-aiortc-")
    procs = []
    try:
        try:
            procs = await start_cluster(tmp)
        except Exception as e:
            check(False, "cluster starts", str(e))
            return
        try:
            await asyncio.wait_for(run_call(), MEDIA_TIMEOUT + 60)
        except Exception as e:
            check(False, "call runs to the end", f"{type(e).__name__}: {e}")
        for p in procs:
            if not p.alive:
                check(False, f"{p.name} still running after the call", p.tail())
    finally:
        problems = []
        for p in reversed(procs):
            was_alive = p.alive
            rc = await p.stop()
            if was_alive and rc not in (0, -signal.SIGTERM):
                problems.append(f"{p.name} exited {rc} on SIGTERM")
            if getattr(p, "stuck", False):
                problems.append(f"{p.name} ignored SIGTERM for 5 s")
            for line in p.lines:
                if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:", line):
                    problems.append(f"{p.name}: {line}")
        if procs:
            check(not problems, "every process stops cleanly", "; ".join(problems))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
    passed = sum(1 for r in results if r[0])
    failed = len(results) - passed
    print(f"aiortc: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
