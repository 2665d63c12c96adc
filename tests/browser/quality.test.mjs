// Media quality through the real UI and a real cluster: a publisher
// (Chromium, fake camera) sends three simulcast layers; a subscriber
// Chromium sits in its own network namespace behind a veth whose server
// side tc shapes (netem.mjs). Under a 300 kbit/s limit the subscriber gets
// a lower layer and switches up when the limit is lifted; the active
// speaker follows who has the microphone on; under 5% loss its video keeps
// decoding with NACKs answered and few freezes. Figures go to the test log.
//
// Testing loss: this kernel has no netem qdisc, so loss comes from
// nftables (Debian package nftables; netem.mjs loss()): a rule on the
// input hook of the subscriber's namespace drops 5% of the UDP packets it
// receives (media, RTX, RTCP, STUN: all the worker sends it), and one in
// the test's own namespace drops 5% of what the publisher's Chromium sends
// to the worker's port (upstream: the worker NACKs, Chromium sends RTX).
// Input, not output: an output drop makes sendto() fail with EPERM. Each
// rule's counter proves the loss was applied; the worker's answered-NACK
// count comes from its log line when the subscriber leaves (so this test
// runs last).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Cluster, poll } from '../cluster/lib.mjs';
import { ART, FAKE_MEDIA, HOOK, tid, joinAs, shot, gotoRetry } from './helpers.mjs';
import { HOST_IP, netSetup, netTeardown, shape, loss, lossCounters } from './netem.mjs';

const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--mute-audio', '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

const c = new Cluster('browser-quality', { suite: 'browser' });
let edge, wrapper, pub, sub, roomPath;
const pages = [];

// Chromium sends as many simulcast layers as the capture size allows (two
// below 960x540): the publisher's page asks its fake camera for 1280x720.
const HD = `(() => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const orig = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => orig(c && c.video ? { ...c, video: { ...(typeof c.video === 'object' ? c.video : {}),
    width: { ideal: 1280 }, height: { ideal: 720 } } } : c);
})();`;

async function open(label, { executablePath = process.env.CHROMIUM || '/usr/bin/chromium', extra = [], hd = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vc-chromium-${label}-`));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath, ignoreDefaultArgs: ['--headless'], args: [...ARGS, ...FAKE_MEDIA, ...extra],
    headless: false, viewport: { width: 1280, height: 800 }, permissions: ['camera', 'microphone'],
  });
  ctx.__dir = dir;
  await ctx.addInitScript(HOOK);
  if (hd) await ctx.addInitScript(HD);
  const page = ctx.pages()[0] || await ctx.newPage();
  const log = fs.createWriteStream(path.join(ART, `quality-${label}-console.log`));
  page.on('console', (m) => log.write(`${new Date().toISOString()} ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => log.write(`${new Date().toISOString()} pageerror: ${e.message}\n`));
  page.__label = `quality-${label}`;
  page.__ctx = ctx;
  pages.push(page);
  return page;
}

// The subscriber's inbound video (the only remote video in a 2-person call).
async function video(page) {
  return page.evaluate(async () => {
    let best = null;
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && (!best || (r.packetsReceived || 0) > best.packetsReceived)) {
          best = {
            frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0,
            framesDecoded: r.framesDecoded || 0, packetsReceived: r.packetsReceived || 0,
            packetsLost: r.packetsLost || 0, nackCount: r.nackCount || 0, pliCount: r.pliCount || 0,
            freezeCount: r.freezeCount || 0, totalFreezesDuration: r.totalFreezesDuration || 0,
            retransmitted: r.retransmittedPacketsReceived || 0,
            retransmittedBytes: r.retransmittedBytesReceived || 0,
          };
        }
      });
    }
    return best;
  });
}

// The publisher's simulcast encodings: rid -> {frameWidth, bytesSent}.
async function outbound(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video')
          out[r.rid || 'single'] = { frameWidth: r.frameWidth || 0, bytesSent: r.bytesSent || 0 };
      });
    }
    return out;
  });
}

const speaking = (page, name) =>
  page.locator(`[data-testid="tile"][data-participant-name*="${name}"]`).first().getAttribute('data-speaking');

before(async () => {
  fs.mkdirSync(ART, { recursive: true });
  wrapper = netSetup();
  await c.start({
    workers: 1, edges: 1,
    workerArgs: ['--ice-addresses', `127.0.0.1,${HOST_IP}`],
    edgeArgs: ['--http-addr', '0.0.0.0'],
  });
  edge = c.edges[0];
});

after(async () => {
  for (const p of pages) {
    await p.__ctx.close().catch(() => {});
    fs.rmSync(p.__ctx.__dir, { recursive: true, force: true });
  }
  await c.stop();
  netTeardown();
});

test('a publisher sends three simulcast layers; a subscriber behind a veth joins', async () => {
  pub = await open('pub', { hd: true });
  await gotoRetry(pub, `http://localhost:${edge.port}/`);
  await tid(pub, 'new-meeting').click();
  await pub.waitForURL(/\/r\/[A-Za-z0-9_-]+/, { timeout: 10000 });
  roomPath = new URL(pub.url()).pathname;
  await joinAs(pub, 'Pia Publisher');
  const origin = `http://${HOST_IP}:${edge.port}`;
  sub = await open('sub', { executablePath: wrapper, extra: [`--unsafely-treat-insecure-origin-as-secure=${origin}`] });
  await gotoRetry(sub, `${origin}${roomPath}`);
  await joinAs(sub, 'Sam Subscriber');
  await poll(async () => {
    const reqs = tid(pub, 'lobby-request');
    for (let k = 0; k < await reqs.count(); k++) await reqs.nth(k).locator('[data-testid="admit"]').click().catch(() => {});
    return (await tid(sub, 'tile').count()) === 2 && (await tid(pub, 'tile').count()) === 2;
  }, { timeout: 40000, interval: 300, what: 'two tiles on both pages' });
  await poll(async () => ((await video(sub))?.framesDecoded || 0) > 20,
    { timeout: 30000, what: 'the subscriber decodes video' });
  // Dynacast pauses the layers no subscriber needs (within about 2 s of
  // the subscriber's tile size): count a layer that has sent at all (kB),
  // not only one sending now (kbps).
  let layers = {};
  await poll(async () => {
    const a = await outbound(pub);
    await new Promise((r) => setTimeout(r, 1000));
    const b = await outbound(pub);
    layers = Object.fromEntries(Object.keys(b).map((k) => [k, { w: b[k].frameWidth,
      kbps: Math.round((b[k].bytesSent - (a[k]?.bytesSent || 0)) * 8 / 1000), kB: Math.round(b[k].bytesSent / 1000) }]));
    return Object.values(layers).filter((l) => l.kB > 10).length >= 2;
  }, { timeout: 30000, what: 'the publisher sends at least two simulcast layers' }).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(layers)}`);
  });
  console.log(`# publisher layers: ${JSON.stringify(layers)}`);
  assert.ok(Object.keys(layers).length >= 3, `three rids negotiated: ${JSON.stringify(layers)}`);
});

// Kbit/s the subscriber receives over one second.
async function rxKbps(page) {
  const bytes = () => page.evaluate(async () => {
    let n = 0;
    for (const pc of window.__pcs || []) {
      if (pc.connectionState !== 'closed') (await pc.getStats()).forEach((r) => { if (r.type === 'transport') n += r.bytesReceived || 0; });
    }
    return n;
  });
  const a = await bytes();
  await new Promise((r) => setTimeout(r, 1000));
  return Math.round((await bytes() - a) * 8 / 1000);
}

test('a subscriber limited to 300 kbit/s (or less) gets a lower layer, and the top one when the limit is lifted', async () => {
  assert.ok(sub, 'no call (previous test failed)');
  // The layer the subscriber's tile asks for: the smallest that covers it
  // within 20% (as the worker picks), else the largest.
  const widths = Object.values(await outbound(pub)).map((l) => l.frameWidth).filter((w) => w > 0).sort((x, y) => x - y);
  const tileW = await tid(sub, 'tile').first().evaluate((e) => e.clientWidth * (window.devicePixelRatio || 1));
  const top = widths.find((w) => w * 5 >= tileW * 4) ?? widths[widths.length - 1];
  await poll(async () => (await video(sub)).frameWidth >= top,
    { timeout: 40000, what: `the subscriber first reaches the top layer (${top} px)` })
    .catch(async (e) => { throw new Error(`${e.message}; now ${JSON.stringify(await video(sub))}`); });
  const rx = await rxKbps(sub);
  // 300 kbit/s where the layer needs more; the fake camera's layers are
  // cheap, so the limit is at most 65% of what the subscriber receives.
  const limit = Math.max(90, Math.min(300, Math.round(rx * 0.65)));
  console.log(`# unlimited: top layer ${top} px, subscriber receives ${rx} kbit/s; limit ${limit} kbit/s`);
  const t0 = Date.now();
  shape('tbf', 'rate', `${limit}kbit`, 'burst', '16kb', 'latency', '300ms');
  await poll(async () => { const v = await video(sub); return v.frameWidth > 0 && v.frameWidth < top; },
    { timeout: 40000, what: 'a lower layer under 300 kbit/s' })
    .catch(async (e) => { throw new Error(`${e.message}; now ${JSON.stringify(await video(sub))}`); });
  const low = await video(sub);
  console.log(`# limited: ${low.frameWidth}x${low.frameHeight} after ${Date.now() - t0} ms, ${await rxKbps(sub)} kbit/s`);
  const f0 = low.framesDecoded;
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok((await video(sub)).framesDecoded > f0 + 5, 'video keeps decoding on the lower layer');
  await shot(sub, 'limited');
  const t1 = Date.now();
  shape();
  await poll(async () => (await video(sub)).frameWidth >= top,
    { timeout: 60000, what: 'back to the top layer once the limit is lifted' })
    .catch(async (e) => { throw new Error(`${e.message}; now ${JSON.stringify(await video(sub))}`); });
  console.log(`# unlimited: top layer again after ${Date.now() - t1} ms`);
});

test('the active speaker follows who has the microphone on', async () => {
  assert.ok(sub, 'no call (previous test failed)');
  const micOn = async (page) => (await tid(page, 'toggle-mic').getAttribute('aria-pressed')) === 'true';
  const setMic = async (page, on) => { if ((await micOn(page)) !== on) await tid(page, 'toggle-mic').click(); };
  await setMic(sub, false);
  await setMic(pub, true);
  await poll(async () => (await speaking(sub, 'Pia Publisher')) === 'true',
    { timeout: 15000, what: 'the publisher is the active speaker' });
  await setMic(pub, false);
  await setMic(sub, true);
  const t0 = Date.now();
  await poll(async () => (await speaking(pub, 'Sam Subscriber')) === 'true' && (await speaking(sub, 'Pia Publisher')) !== 'true',
    { timeout: 15000, what: 'the subscriber becomes the active speaker' });
  console.log(`# active speaker changed ${Date.now() - t0} ms after the microphones swapped`);
});

// The port of the worker's end of the publisher's selected ICE pair.
async function workerPort(page) {
  return page.evaluate(async () => {
    for (const pc of window.__pcs || []) {
      if (pc.connectionState !== 'connected') continue;
      const st = await pc.getStats();
      let pair = null;
      st.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = st.get(r.selectedCandidatePairId); });
      const rc = pair && st.get(pair.remoteCandidateId);
      if (rc && rc.port) return rc.port;
    }
    return 0;
  });
}

// The publisher's video retransmissions: NACKs it got, RTX packets it sent.
async function pubRtx(page) {
  return page.evaluate(async () => {
    const o = { nacks: 0, retransmitted: 0 };
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') {
          o.nacks += r.nackCount || 0;
          o.retransmitted += r.retransmittedPacketsSent || 0;
        }
      });
    }
    return o;
  });
}

test('under 5% loss both ways video keeps decoding, NACKs are answered (RTX), few freezes', async (t) => {
  assert.ok(sub, 'no call (previous test failed)');
  const port = await workerPort(pub);
  try {
    loss(5);
    if (port) loss(5, 'up', port);
  } catch (e) {
    loss(0);
    t.skip(`nftables cannot drop packets here (${e.message.split('\n')[0]}); install nftables`);
    return;
  }
  let a, b, pa, pb, down, up = { seen: 0, dropped: 0 };
  try {
    a = await video(sub);
    pa = await pubRtx(pub);
    await new Promise((r) => setTimeout(r, 15000));
    b = await video(sub);
    pb = await pubRtx(pub);
    down = lossCounters();
    if (port) up = lossCounters('up');
  } finally {
    loss(0);
    loss(0, 'up');
  }
  const d = (k) => b[k] - a[k];
  const fig = { frames: d('framesDecoded'), received: d('packetsReceived'), lost: d('packetsLost'),
    nacks: d('nackCount'), retransmitted: d('retransmitted'), rtxBytes: d('retransmittedBytes'), freezes: d('freezeCount'),
    freezeS: +d('totalFreezesDuration').toFixed(2), plis: d('pliCount') };
  const upFig = { nacksToPub: pb.nacks - pa.nacks, rtxFromPub: pb.retransmitted - pa.retransmitted };
  console.log(`# 5% loss for 15 s: dropped toward the subscriber ${down.dropped}/${down.seen} UDP packets, ` +
    `publisher -> worker (port ${port}) ${up.dropped}/${up.seen}`);
  console.log(`# subscriber: ${JSON.stringify(fig)}; publisher: ${JSON.stringify(upFig)}`);
  assert.ok(down.dropped > 0 && down.dropped >= down.seen * 0.02, `loss applied toward the subscriber: ${JSON.stringify(down)}`);
  assert.ok(fig.frames > 50, `frames keep decoding: ${JSON.stringify(fig)}`);
  assert.ok(fig.nacks > 0, `the subscriber NACKs: ${JSON.stringify(fig)}`);
  // Chromium counts packets RTX repaired in retransmittedPacketsReceived,
  // not in packetsReceived of the media SSRC: packetsLost stays near the
  // dropped share and is not a recovery measure (it is logged only).
  // retransmittedPacketsReceived also counts the worker's padding probes
  // (padding-only RTX packets); retransmittedBytesReceived only payload.
  assert.ok(fig.retransmitted > 0 && fig.rtxBytes > 0, `retransmissions arrive: ${JSON.stringify(fig)}`);
  assert.ok(fig.freezes <= 3 && fig.freezeS < 3, `few freezes: ${JSON.stringify(fig)}`);
  if (port) {
    assert.ok(up.dropped > 0, `loss applied toward the worker: ${JSON.stringify(up)}`);
    assert.ok(upFig.nacksToPub > 0 && upFig.rtxFromPub > 0, `the worker NACKs the publisher, RTX comes back: ${JSON.stringify(upFig)}`);
  }
  // The worker's own count of NACKs it answered, logged when the subscriber
  // leaves: "missed" are NACKs it could not answer (no longer cached), "not
  // sent" those for packets lost upstream: not at the worker yet, they go
  // out once the publisher's RTX arrives. rtt: from the subscriber's RRs.
  const w = c.workers[0];
  const mark = w.log.length;
  await tid(sub, 'leave').click();
  await poll(async () => /left room/.test(w.since(mark)), { timeout: 10000, what: 'the subscriber leaves' });
  const m = w.since(mark).match(/nacks in (\d+) answered (\d+) missed (\d+) not sent (\d+).*rtt (\d+) us/);
  console.log(`# worker (whole call, subscriber): ${m ? m[0] : 'no NACK line'}`);
  assert.ok(m && Number(m[2]) > 0, `the worker answered NACKs: ${m ? m[0] : 'no line'}`);
});
