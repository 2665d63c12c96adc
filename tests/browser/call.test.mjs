// Three Chromium pages in one meeting through the real UI and a real cluster
// (redis, router, 1 worker, 1 edge): the host creates the meeting from the
// landing page, two guests join by its link; every page shows 3 tiles and
// decodes video and receives audio from the 2 others (getStats of the page's
// RTCPeerConnections, captured by an init script). UI names: ../shared/UI-CONTRACT.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Cluster, poll } from '../cluster/lib.mjs';
import { ART, HOOK } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// ../shared/TESTING.md
const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--mute-audio', '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
];
const NAMES = ['Hana Host', 'Gus Guest', 'Gia Guest'];

const c = new Cluster('browser', { suite: 'browser' });
let edge;
const contexts = [];
const pages = [];
let roomUrl;

async function openPage(i) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vc-chromium-${i}-`));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, ignoreDefaultArgs: ['--headless'], args: ARGS,
    headless: false, viewport: { width: 960, height: 600 },
    permissions: ['camera', 'microphone'],
  });
  ctx.__dir = dir;
  contexts.push(ctx);
  await ctx.addInitScript(HOOK);
  const page = ctx.pages()[0] || await ctx.newPage();
  const log = fs.createWriteStream(path.join(ART, `page-${i + 1}-console.log`));
  page.on('console', (m) => log.write(`${new Date().toISOString()} ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => log.write(`${new Date().toISOString()} pageerror: ${e.message}\n`));
  pages[i] = page;
  return page;
}

async function shot(i, name) {
  if (!pages[i]) return;
  try { await pages[i].screenshot({ path: path.join(ART, `page-${i + 1}-${name}.png`) }); } catch { /* closed */ }
}

const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

before(async () => {
  fs.mkdirSync(ART, { recursive: true });
  for (const f of fs.readdirSync(ART)) if (/\.(png|log)$/.test(f)) fs.rmSync(path.join(ART, f));
  await c.start({ workers: 1, edges: 1 });
  edge = c.edges[0];
});

after(async () => {
  for (let i = 0; i < pages.length; i++) await shot(i, 'final');
  for (const ctx of contexts) {
    await ctx.close().catch(() => {});
    fs.rmSync(ctx.__dir, { recursive: true, force: true });
  }
  await c.stop();
});

// The host admits whoever knocks, if the meeting has a lobby.
async function admitAll(host) {
  const reqs = tid(host, 'lobby-request');
  const n = await reqs.count();
  for (let k = 0; k < n; k++) await reqs.nth(k).locator('[data-testid="admit"]').click().catch(() => {});
  return n;
}

async function joinAs(page, i) {
  await tid(page, 'display-name').fill(NAMES[i]);
  await tid(page, 'join').click();
}

test('the host creates a meeting from the landing page and joins it', async () => {
  const page = await openPage(0);
  await page.goto(`http://localhost:${edge.port}/`);
  await tid(page, 'new-meeting').click();
  await page.waitForURL(/\/r\/[A-Za-z0-9_-]+/, { timeout: 10000 });
  const u = new URL(page.url());
  roomUrl = `http://localhost:${edge.port}${u.pathname}`;
  await joinAs(page, 0);
  await poll(async () => (await tid(page, 'tile').count()) >= 1, { timeout: 15000, what: 'the host\'s own tile' });
  await shot(0, 'joined');
});

test('two guests join by the link; every page shows 3 tiles', async () => {
  assert.ok(roomUrl, 'no meeting (previous test failed)');
  for (const i of [1, 2]) {
    const page = await openPage(i);
    await page.goto(roomUrl);
    await joinAs(page, i);
  }
  await poll(async () => {
    await admitAll(pages[0]);
    const counts = await Promise.all(pages.map((p) => tid(p, 'tile').count()));
    return counts.every((n) => n === 3);
  }, { timeout: 40000, interval: 250, what: '3 tiles on each page' }).catch(async (e) => {
    const counts = await Promise.all(pages.map((p) => tid(p, 'tile').count()));
    for (let i = 0; i < pages.length; i++) await shot(i, 'tiles-timeout');
    throw new Error(`${e.message}; tiles per page: ${counts}`);
  });
  for (let i = 0; i < pages.length; i++) {
    const names = await tid(pages[i], 'tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-participant-name')));
    for (const n of NAMES) assert.ok(names.some((x) => x && x.includes(n)), `page ${i + 1} tiles ${JSON.stringify(names)} lack ${n}`);
    await shot(i, 'tiles');
  }
});

// inbound-rtp of every hooked pc: [{key, kind, framesDecoded, packetsReceived}]
async function inbound(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const [n, pc] of (window.__pcs || []).entries()) {
      if (pc.connectionState === 'closed') continue;
      const st = await pc.getStats();
      st.forEach((r) => {
        if (r.type === 'inbound-rtp') {
          out.push({ key: `${n}/${r.kind}/${r.ssrc}`, kind: r.kind, mid: r.mid, track: r.trackIdentifier,
            framesDecoded: r.framesDecoded || 0, packetsReceived: r.packetsReceived || 0 });
        }
      });
    }
    return out;
  });
}

for (const i of [0, 1, 2]) {
  test(`page ${i + 1} decodes video and receives audio from both others`, async () => {
    const page = pages[i];
    assert.ok(page, 'page not open (previous test failed)');
    const first = new Map((await inbound(page)).map((r) => [r.key, r]));
    let last = [];
    const growing = (kind, field) => last.filter((r) => r.kind === kind && r[field] > 0 &&
      r[field] > (first.get(r.key)?.[field] ?? 0));
    await poll(async () => {
      last = await inbound(page);
      return growing('video', 'framesDecoded').length >= 2 && growing('audio', 'packetsReceived').length >= 2;
    }, { timeout: 20000, interval: 500, what: 'growing framesDecoded on 2 video and packetsReceived on 2 audio streams' })
      .catch((e) => { throw new Error(`${e.message}; first ${JSON.stringify([...first.values()])} last ${JSON.stringify(last)}`); });
    const v = growing('video', 'framesDecoded');
    const a = growing('audio', 'packetsReceived');
    assert.equal(new Set(v.map((r) => r.track || r.key)).size >= 2, true, `video streams not distinct: ${JSON.stringify(v)}`);
    assert.equal(new Set(a.map((r) => r.track || r.key)).size >= 2, true, `audio streams not distinct: ${JSON.stringify(a)}`);
    const conn = await tid(page, 'connection-state').getAttribute('data-state').catch(() => null);
    if (conn !== null) assert.equal(conn, 'connected');
    await shot(i, 'media');
  });
}

test('a guest leaves; the two others show 2 tiles', async () => {
  assert.ok(pages[2], 'page 3 not open (previous test failed)');
  await tid(pages[2], 'leave').click();
  await poll(async () => (await tid(pages[0], 'tile').count()) === 2 && (await tid(pages[1], 'tile').count()) === 2,
    { timeout: 8000, what: '2 tiles on pages 1 and 2 after page 3 left' });
  for (const i of [0, 1]) {
    const names = await tid(pages[i], 'tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-participant-name')));
    assert.ok(!names.some((x) => x && x.includes(NAMES[2])), `page ${i + 1} still shows ${NAMES[2]}: ${names}`);
  }
  await shot(0, 'after-leave');
});

test('every process stops cleanly on SIGTERM, no sanitizer reports', async () => {
  for (const ctx of contexts) await ctx.close().catch(() => {});
  const problems = await c.stop();
  assert.deepEqual(problems, [], `logs in ${c.logDir}`);
});
