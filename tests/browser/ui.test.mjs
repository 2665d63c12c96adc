// Issue 4, "the meeting UI people expect", through the real UI against a real
// cluster (redis, router, 1 worker, 1 edge) at a phone width (390x844) and a
// desktop width (1280x800); at most 2 Chromium pages at once. Screenshots in
// tests/artifacts/browser/ui-*.png. UI names: ../shared/UI-CONTRACT.md and
// ui/README.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Cluster, ROOT, createRoom } from '../cluster/lib.mjs';
import {
  ART, DESKTOP, PHONE, closePage, connDiag, connState, entry, growing, inbound, joinAs, noHorizontalOverflow,
  openPage, openPeople, poll, serverHas, shot, tid,
} from './helpers.mjs';

const c = new Cluster('ui', { suite: 'browser' });
let edge;
let base;
const open = new Set();
const requests = [];

async function page(label, opts = {}) {
  const p = await openPage(`ui-${label}`, { requests, ...opts });
  open.add(p);
  return p;
}
async function close(p) {
  open.delete(p);
  await closePage(p);
}

before(async () => {
  fs.mkdirSync(ART, { recursive: true });
  for (const f of fs.readdirSync(ART)) if (/^ui-.*\.(png|log)$/.test(f)) fs.rmSync(path.join(ART, f));
  await c.start({ workers: 1, edges: 1 });
  edge = c.edges[0];
  base = `http://localhost:${edge.port}`;
});

after(async () => {
  for (const p of open) await closePage(p);
  await c.stop();
});

test('the bundle is under 250 KB gzipped; the edge serves it', async () => {
  const dir = path.join(ROOT, 'ui', 'dist', 'assets');
  let gz = 0;
  for (const f of fs.readdirSync(dir)) gz += zlib.gzipSync(fs.readFileSync(path.join(dir, f)), { level: 9 }).length;
  assert.ok(gz < 250 * 1024, `assets are ${gz} bytes gzipped`);
  const r = await fetch(`${edge.base}/assets/app.js`);
  assert.equal(r.status, 200);
  assert.equal((await r.text()).length, fs.statSync(path.join(dir, 'app.js')).size);
});

for (const [label, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  test(`landing (${label}): keyboard, join by code and by pasted link, no overflow`, async () => {
    const p = await page(`landing-${label}`, { viewport });
    try {
      await p.goto(base + '/');
      await tid(p, 'new-meeting').waitFor();
      assert.ok(await noHorizontalOverflow(p), 'horizontal overflow on the landing page');
      // Keyboard: Tab reaches "New meeting" with a visible focus ring.
      let focused = null;
      for (let i = 0; i < 6 && focused !== 'new-meeting'; i++) {
        await p.keyboard.press('Tab');
        focused = await p.evaluate(() => document.activeElement?.getAttribute('data-testid'));
      }
      assert.equal(focused, 'new-meeting');
      const outline = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'no visible focus');
      await shot(p, 'landing');
      // A code that is not a meeting: the hint.
      await tid(p, 'join-code').fill('!!!');
      await tid(p, 'join-code-submit').click();
      await p.getByText("doesn't look like a meeting code").waitFor({ timeout: 5000 });
      const { room } = await createRoom(edge, { lobby: false });
      await tid(p, 'join-code').fill(room);
      await p.keyboard.press('Enter');
      await p.waitForURL(new RegExp(`/r/${room}$`), { timeout: 10000 });
      await tid(p, 'display-name').waitFor();
      await p.goto(base + '/');
      await tid(p, 'join-code').fill(`${base}/r/${room}`);
      await tid(p, 'join-code-submit').click();
      await p.waitForURL(new RegExp(`/r/${room}$`), { timeout: 10000 });
      await tid(p, 'display-name').waitFor();
      assert.ok(await noHorizontalOverflow(p), 'horizontal overflow on the pre-join page');
    } finally {
      await close(p);
    }
  });
}

test('meeting not found, and server unreachable, in plain words', async () => {
  const p = await page('errors', { viewport: PHONE });
  try {
    await p.goto(base + '/r/zzz-zzzz-zzz');
    await tid(p, 'meeting-not-found').waitFor({ timeout: 10000 });
    assert.match(await tid(p, 'meeting-not-found').innerText(), /meeting not found/i);
    await shot(p, 'not-found');
    // The API unreachable (the request fails): its own page with a retry.
    await p.route('**/api/rooms/**', (r) => r.abort('connectionrefused'));
    await p.goto(base + '/r/abc-defg-hij');
    await tid(p, 'server-unreachable').waitFor({ timeout: 10000 });
    assert.match(await tid(p, 'server-unreachable').innerText(), /can't reach the server/i);
    await tid(p, 'retry').waitFor();
    await shot(p, 'unreachable');
  } finally {
    await close(p);
  }
});

test('pre-join: preview, microphone level, device pickers, toggles (desktop)', async () => {
  const { room } = await createRoom(edge, { lobby: false });
  const p = await page('prejoin', { viewport: DESKTOP });
  try {
    await p.goto(`${base}/r/${room}`);
    await poll(async () => Number(await tid(p, 'mic-level').getAttribute('data-level')) > 0,
      { timeout: 10000, interval: 100, what: 'the microphone level meter moving' });
    assert.ok((await tid(p, 'mic-select').locator('option').count()) >= 1);
    assert.ok((await tid(p, 'camera-select').locator('option').count()) >= 1);
    assert.ok(await p.evaluate(() => { const v = document.querySelector('.preview-video'); return v && v.videoWidth > 0; }),
      'no camera preview');
    for (const id of ['preview-mic', 'preview-cam']) {
      assert.equal(await tid(p, id).getAttribute('aria-pressed'), 'true');
      await tid(p, id).click();
      assert.equal(await tid(p, id).getAttribute('aria-pressed'), 'false');
      assert.ok(await tid(p, id).getAttribute('aria-label'));
    }
    await shot(p, 'prejoin-off');
    await tid(p, 'preview-mic').click();
    await tid(p, 'preview-cam').click();
    await shot(p, 'prejoin');
  } finally {
    await close(p);
  }
});

// host (desktop) and guest (phone) for the in-call checks below.
let host;
let guest;
let room;

test('denied devices: clear words, and the guest joins as a viewer (phone)', async () => {
  const r = await createRoom(edge, { lobby: false });
  room = r.room;
  host = await page('host', { viewport: DESKTOP, permissions: ['camera', 'microphone', 'clipboard-read', 'clipboard-write'] });
  await host.goto(base + r.host_url);
  await joinAs(host, 'Hana Host');
  await poll(async () => (await connState(host)) === 'connected', { timeout: 20000, what: 'host connected' });
  // No devices at all: said so.
  const none = await page('nodevice', { viewport: PHONE, media: false });
  await none.goto(`${base}/r/${room}`);
  await poll(async () => /no camera or microphone found/i.test(await tid(none, 'device-message').innerText().catch(() => '')),
    { timeout: 10000, what: 'the "no camera or microphone found" text' });
  await shot(none, 'prejoin');
  await close(none);
  guest = await page('viewer', { viewport: PHONE, media: 'denied' });
  await guest.goto(`${base}/r/${room}`);
  await poll(async () => /blocked/i.test(await tid(guest, 'device-message').innerText().catch(() => '')),
    { timeout: 10000, what: 'the "you blocked the camera and microphone" text' });
  await shot(guest, 'prejoin-denied');
  await joinAs(guest, 'Vic Viewer');
  await poll(async () => (await tid(guest, 'tile').count()) === 2 && (await tid(host, 'tile').count()) === 2,
    { timeout: 20000, what: '2 tiles on both pages' });
  assert.equal(await tid(guest, 'toggle-mic').getAttribute('aria-pressed'), 'false');
  assert.equal(await tid(guest, 'toggle-cam').getAttribute('aria-pressed'), 'false');
  assert.ok(await tid(guest, 'toggle-mic').isDisabled());
  await growing(guest, 'video', 'framesDecoded', { min: 5, what: 'the viewer decodes the host' });
  // The host sees the viewer's tile with muted and camera-off indicators.
  const t = entry(host, 'tile', 'Vic Viewer');
  assert.equal(await t.getAttribute('data-muted'), 'true');
  assert.equal(await t.getAttribute('data-camera-off'), 'true');
  assert.ok(await noHorizontalOverflow(guest), 'horizontal overflow in the call at phone width');
  await shot(guest, 'call');
  await shot(host, 'call-viewer');
  await close(guest);
  guest = null;
});

test('in call (phone guest + desktop host): grid, toggles, indicators, active speaker, copy link', async () => {
  assert.ok(host, 'no host page (previous test failed)');
  guest = await page('guest', { viewport: PHONE });
  await guest.goto(`${base}/r/${room}`);
  await joinAs(guest, 'Gus Guest');
  await poll(async () => (await tid(guest, 'tile').count()) === 2 && (await tid(host, 'tile').count()) === 2,
    { timeout: 20000, what: '2 tiles on both pages (the viewer left)' });
  await growing(host, 'audio', 'packetsReceived', { min: 20, what: 'host hears the guest' });
  await growing(guest, 'video', 'framesDecoded', { min: 5, what: 'guest sees the host' });
  for (const pg of [host, guest]) {
    const names = await tid(pg, 'tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-participant-name')));
    assert.deepEqual(names.sort(), ['Gus Guest', 'Hana Host']);
    assert.equal(await connState(pg), 'connected');
  }
  // Toggles: aria-pressed follows; the other side sees the indicators.
  await tid(guest, 'toggle-mic').click();
  assert.equal(await tid(guest, 'toggle-mic').getAttribute('aria-pressed'), 'false');
  await poll(async () => (await entry(host, 'tile', 'Gus Guest').getAttribute('data-muted')) === 'true',
    { timeout: 5000, what: 'host sees the guest muted' });
  await tid(guest, 'toggle-cam').click();
  assert.equal(await tid(guest, 'toggle-cam').getAttribute('aria-pressed'), 'false');
  await poll(async () => (await entry(host, 'tile', 'Gus Guest').getAttribute('data-camera-off')) === 'true',
    { timeout: 5000, what: 'host sees the guest camera off' });
  await shot(host, 'guest-muted');
  await shot(guest, 'muted');
  await tid(guest, 'toggle-mic').click();
  await tid(guest, 'toggle-cam').click();
  await poll(async () => (await entry(host, 'tile', 'Gus Guest').getAttribute('data-muted')) === 'false' &&
    (await entry(host, 'tile', 'Gus Guest').getAttribute('data-camera-off')) === 'false',
  { timeout: 5000, what: 'host sees the guest on again' });
  // Active speaker: the fake microphones beep; some tile gets highlighted.
  await poll(async () => (await host.locator('[data-testid="tile"][data-speaking="true"]').count()) > 0,
    { timeout: 15000, interval: 200, what: 'an active speaker highlighted on the host page' });
  await shot(host, 'speaker');
  // Participant panel: entries with names; ARIA names on every button.
  await openPeople(host);
  assert.equal(await host.locator('[data-testid="participant"]').count(), 2);
  const unnamed = await host.evaluate(() => [...document.querySelectorAll('button')]
    .filter((b) => b.offsetParent !== null && !(b.getAttribute('aria-label') || b.getAttribute('aria-labelledby') || b.textContent.trim()))
    .map((b) => b.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, [], 'buttons without an accessible name');
  // Copy the meeting link.
  await tid(host, 'copy-link').click();
  await tid(host, 'toast').filter({ hasText: 'copied' }).waitFor({ timeout: 5000 });
  const clip = await host.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, `${base}/r/${room}`);
  assert.ok(await noHorizontalOverflow(guest), 'horizontal overflow in the call at phone width');
});

test('screen sharing: the presenter is shown large, the others receive the screen', async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  const hostDims = async () => (await inbound(guest)).filter((r) => r.kind === 'video' && r.frameWidth)
    .map((r) => `${r.frameWidth}x${r.frameHeight}`).join(',');
  const before = await hostDims();
  await tid(host, 'toggle-screen').click();
  await poll(async () => (await tid(host, 'toggle-screen').getAttribute('aria-pressed')) === 'true',
    { timeout: 10000, what: 'presenting' });
  assert.equal(await entry(host, 'tile', 'Hana Host').evaluate((e) => e.classList.contains('spotlight')), true);
  let after = before;
  await poll(async () => { after = await hostDims(); return after !== '' && after !== before; },
    { timeout: 15000, interval: 500, what: `the guest receiving the screen instead of the camera (was ${before})` })
    .catch((e) => { throw new Error(`${e.message}; now ${after}`); });
  await growing(guest, 'video', 'framesDecoded', { min: 3, what: 'guest decodes the screen' });
  await shot(host, 'presenting');
  await shot(guest, 'sees-screen');
  await tid(host, 'toggle-screen').click();
  await poll(async () => (await tid(host, 'toggle-screen').getAttribute('aria-pressed')) === 'false', { timeout: 5000, what: 'stopped presenting' });
});

test('chat panel: a message is delivered, or the panel says chat is unavailable', async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  await tid(guest, 'toggle-chat').click();
  await tid(guest, 'chat-input').fill('hello from the guest');
  await tid(guest, 'chat-send').click();
  if (serverHas('chat')) {
    await tid(host, 'toggle-chat').click();
    await poll(async () => (await tid(host, 'chat-message').filter({ hasText: 'hello from the guest' }).count()) === 1,
      { timeout: 5000, what: 'the host receiving the chat message' });
  } else {
    await tid(guest, 'chat-unavailable').waitFor({ timeout: 5000 });
    assert.match(await tid(guest, 'chat-unavailable').innerText(), /isn't available/);
    assert.ok(await tid(guest, 'chat-input').isDisabled());
  }
  await tid(guest, 'chat-message').first().waitFor({ timeout: 5000 });
  assert.ok(await noHorizontalOverflow(guest), 'horizontal overflow with the chat open at phone width');
  await shot(guest, 'chat');
  await tid(guest, 'toggle-chat').click();
});

test('the edge dies: reconnecting banner, then automatic reconnection', async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  const old = c.edges.shift();
  await old.kill('SIGKILL');
  await poll(async () => (await connState(host)) === 'reconnecting' && (await connState(guest)) === 'reconnecting',
    { timeout: 10000, interval: 100, what: 'both pages show reconnecting' });
  assert.ok(await tid(guest, 'connection-state').isVisible(), 'the banner is not visible at phone width');
  assert.match(await tid(host, 'connection-state').innerText(), /reconnecting/i);
  await shot(host, 'reconnecting');
  await shot(guest, 'reconnecting');
  edge = await c.startEdge(1);
  // A slow reconnection (past the worker's detach grace: a fresh join; or
  // a pc that lost consent meanwhile: failed, then a fresh join) still
  // counts, but leaves its states in the output.
  const t0 = Date.now();
  const workerTail = () => fs.readFileSync(path.join(c.logDir, 'worker-1.log'), 'utf8').split('\n').slice(-15).join('\n');
  const slow = setTimeout(async () => {
    console.error(`reconnection slow: ${await connDiag(host)}; ${await connDiag(guest)}; worker log:\n${workerTail()}`);
  }, 15000);
  await poll(async () => (await connState(host)) === 'connected' && (await connState(guest)) === 'connected',
    { timeout: 45000, interval: 250, what: 'both pages connected again' })
    .catch(async (e) => {
      throw new Error(`${e.message}; ${await connDiag(host)}; ${await connDiag(guest)}; worker log:\n${workerTail()}`);
    })
    .finally(() => clearTimeout(slow));
  if (Date.now() - t0 > 15000) console.error(`reconnected after ${Date.now() - t0} ms`);
  await poll(async () => (await tid(guest, 'tile').count()) === 2 && (await tid(host, 'tile').count()) === 2,
    { timeout: 20000, what: '2 tiles on both pages after reconnecting' });
  await growing(host, 'audio', 'packetsReceived', { min: 10, what: 'host hears the guest after reconnecting' });
  await shot(host, 'reconnected');
});

test('leave shows the left screen; end for all tells everyone', async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  await tid(guest, 'leave').click();
  await tid(guest, 'left-notice').waitFor({ timeout: 5000 });
  await poll(async () => (await tid(host, 'tile').count()) === 1, { timeout: 10000, what: 'host back to 1 tile' });
  await shot(guest, 'left');
  await tid(guest, 'rejoin').click();
  await joinAs(guest, 'Gus Guest');
  await poll(async () => (await tid(host, 'tile').count()) === 2, { timeout: 20000, what: 'the guest back in the call' });
  if (!serverHas('end')) return;
  await tid(host, 'end-call').click();
  await tid(host, 'meeting-ended').waitFor({ timeout: 10000 });
  await tid(guest, 'meeting-ended').waitFor({ timeout: 10000 });
  assert.match(await tid(guest, 'meeting-ended').innerText(), /ended the meeting for everyone/i);
  await shot(guest, 'meeting-ended');
  assert.equal((await fetch(`${edge.base}/api/rooms/${room}`)).status, 404);
  await tid(guest, 'home').waitFor();
});

test('no request to any host but the edge', async () => {
  const bad = requests.filter((u) => {
    if (/^(data|blob):/.test(u)) return false;
    const h = new URL(u).host;
    return h !== `localhost:${edge.port}` && h !== `127.0.0.1:${edge.port}`;
  });
  assert.deepEqual([...new Set(bad)], []);
  assert.ok(requests.length > 10, `only ${requests.length} requests seen`);
});

test('every process stops cleanly on SIGTERM, no sanitizer reports', async () => {
  for (const p of [...open]) await close(p);
  host = guest = null;
  const problems = await c.stop();
  assert.deepEqual(problems, [], `logs in ${c.logDir}`);
});
