// Issue 3 through the real UI against a real cluster (redis, router, 1
// worker, 1 edge): hosts, guests and the lobby. The host creates a meeting
// from the landing page (lobby on by default); a guest knocks and is denied,
// knocks again and is admitted; both see and hear each other; the host mutes
// the guest (the guest's audio stops arriving at the host: inbound
// packetsReceived flat over 2 s) and asks them to unmute (only the guest can);
// the edge is killed and restarted while the guest waits (both resume);
// the host removes the guest (removed-notice; knocking again lands in the
// lobby, marked "removed before" for the host); the host admits them again
// and makes them a co-host; the lobby switch; end for all.
// Needs the server side of issue 3: skipped while proto/proto.c lacks
// "admit". Two Chromium pages. UI names: ../shared/UI-CONTRACT.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster } from '../cluster/lib.mjs';
import {
  ART, DESKTOP, PHONE, closePage, connState, entry, growing, joinAs, openPage, openPeople, poll,
  serverHas, shot, tid, total,
} from './helpers.mjs';

const READY = serverHas('admit') && serverHas('mute') && serverHas('remove');
const skip = READY ? false : 'server side of issue 3 not there yet (proto/proto.c has no "admit"/"mute"/"remove")';
const c = READY ? new Cluster('lobby', { suite: 'browser' }) : null;
let edge;
let host;
let guest;
let roomUrl;
let room;

before(async () => {
  if (!READY) return;
  fs.mkdirSync(ART, { recursive: true });
  for (const f of fs.readdirSync(ART)) if (/^lobby-.*\.(png|log)$/.test(f)) fs.rmSync(path.join(ART, f));
  await c.start({ workers: 1, edges: 1 });
  edge = c.edges[0];
});

after(async () => {
  if (!READY) return;
  await shot(host, 'final');
  await shot(guest, 'final');
  await closePage(host);
  await closePage(guest);
  await c.stop();
});

const GUEST = 'Gus Guest';

// The guest opens the meeting link and asks to join: lobby-waiting.
async function knock() {
  await guest.goto(roomUrl);
  await joinAs(guest, GUEST);
  await tid(guest, 'lobby-waiting').waitFor({ timeout: 15000 });
}

test('the host creates a meeting in the UI; the lobby switch works', { skip }, async () => {
  host = await openPage('lobby-host', { viewport: DESKTOP });
  await host.goto(`http://localhost:${edge.port}/`);
  await tid(host, 'new-meeting').click();
  await host.waitForURL(/\/r\/[A-Za-z0-9_-]+/, { timeout: 10000 });
  const u = new URL(host.url());
  assert.equal(u.hash, '', 'the host credential stays out of the address bar');
  room = u.pathname.split('/').pop();
  roomUrl = `http://localhost:${edge.port}/r/${room}`;
  await joinAs(host, 'Hana Host');
  await poll(async () => (await connState(host)) === 'connected', { timeout: 20000, what: 'host connected' });
  await openPeople(host);
  const sw = tid(host, 'lobby-toggle');
  assert.equal(await sw.getAttribute('aria-checked'), 'true', 'the lobby is on by default');
  await sw.click();
  await poll(async () => (await sw.getAttribute('aria-checked')) === 'false', { timeout: 5000, what: 'lobby off' });
  await sw.click();
  await poll(async () => (await sw.getAttribute('aria-checked')) === 'true', { timeout: 5000, what: 'lobby on again' });
  assert.equal(await tid(host, 'toast').filter({ hasText: /support|not allowed/i }).count(), 0);
  await shot(host, 'joined');
});

test('a guest knocks and is denied; knocks again and is admitted; both see and hear each other', { skip }, async () => {
  assert.ok(host, 'no host (previous test failed)');
  guest = await openPage('lobby-guest', { viewport: PHONE });
  await knock();
  await shot(guest, 'waiting');
  const req = entry(host, 'lobby-request', GUEST);
  await req.waitFor({ timeout: 10000 });
  assert.equal(await req.getAttribute('data-removed-before'), 'false');
  await shot(host, 'knock');
  await req.locator('[data-testid="deny"]').click();
  await tid(guest, 'lobby-denied').waitFor({ timeout: 10000 });
  await shot(guest, 'denied');
  await poll(async () => (await tid(host, 'lobby-request').count()) === 0, { timeout: 5000, what: 'the request gone' });

  await knock();
  await entry(host, 'lobby-request', GUEST).waitFor({ timeout: 10000 });
  // The edge dies while the guest waits: both resume, the guest keeps its place.
  const old = c.edges.shift();
  await old.kill('SIGKILL');
  await poll(async () => (await connState(host)) === 'reconnecting', { timeout: 10000, interval: 100, what: 'host reconnecting' });
  edge = await c.startEdge(1);
  await poll(async () => (await connState(host)) === 'connected', { timeout: 30000, interval: 250, what: 'host connected again' });
  assert.equal(await tid(guest, 'lobby-waiting').count(), 1, 'the guest left the waiting screen');
  await entry(host, 'lobby-request', GUEST).waitFor({ timeout: 10000 });
  await guest.waitForTimeout(1500); // the guest's own reconnection (backoff)
  await entry(host, 'lobby-request', GUEST).locator('[data-testid="admit"]').click();
  await poll(async () => (await tid(guest, 'tile').count()) === 2 && (await tid(host, 'tile').count()) === 2,
    { timeout: 20000, what: '2 tiles on both pages' });
  await growing(host, 'audio', 'packetsReceived', { min: 20, what: 'host hears the guest' });
  await growing(host, 'video', 'framesDecoded', { min: 5, what: 'host sees the guest' });
  await growing(guest, 'audio', 'packetsReceived', { min: 20, what: 'guest hears the host' });
  await growing(guest, 'video', 'framesDecoded', { min: 5, what: 'guest sees the host' });
  await shot(host, 'admitted');
  await shot(guest, 'admitted');
});

// Inbound audio packets at the host over ~2 s.
async function audioDelta() {
  const a = await total(host, 'audio', 'packetsReceived');
  await host.waitForTimeout(2000);
  return (await total(host, 'audio', 'packetsReceived')) - a;
}

test('the host mutes the guest: their audio stops; only the guest can unmute', { skip }, async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  const before = await audioDelta();
  assert.ok(before > 40, `guest audio before mute: ${before} packets in 2 s`);
  await openPeople(host);
  const row = entry(host, 'participant', GUEST);
  assert.equal(await row.locator('[data-testid="mute-participant"]').count(), 1);
  assert.equal(await row.locator('[data-testid="remove-participant"]').count(), 1);
  // Guests have no host controls.
  await openPeople(guest);
  assert.equal(await guest.locator('[data-testid="mute-participant"], [data-testid="remove-participant"]').count(), 0);
  await tid(guest, 'toggle-participants').click();
  await row.locator('[data-testid="mute-participant"]').click();
  await poll(async () => (await tid(guest, 'toggle-mic').getAttribute('aria-pressed')) === 'false',
    { timeout: 5000, what: 'the guest shows itself muted' });
  await poll(async () => (await entry(host, 'tile', GUEST).getAttribute('data-muted')) === 'true',
    { timeout: 5000, what: 'the host sees the guest muted' });
  await host.waitForTimeout(500);
  const during = await audioDelta();
  assert.ok(during <= 3, `guest audio still arriving after the host muted them: ${during} packets in 2 s (before: ${before})`);
  await shot(host, 'muted');
  await shot(guest, 'muted');
  // The host can only ask.
  await row.locator('[data-testid="ask-unmute"]').click();
  if (serverHas('ask_unmute')) {
    await tid(guest, 'unmute-request').waitFor({ state: 'visible', timeout: 5000 });
    await shot(guest, 'asked');
    await tid(guest, 'unmute-accept').click();
  } else {
    await tid(guest, 'toggle-mic').click();
  }
  await poll(async () => (await tid(guest, 'toggle-mic').getAttribute('aria-pressed')) === 'true', { timeout: 5000, what: 'guest unmuted' });
  await poll(async () => (await entry(host, 'tile', GUEST).getAttribute('data-muted')) === 'false',
    { timeout: 5000, what: 'the host sees the guest unmuted' });
  await growing(host, 'audio', 'packetsReceived', { min: 20, what: 'guest audio flowing again' });
});

test('the host removes the guest: removed-notice; knocking again shows "removed before"', { skip }, async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  await openPeople(host);
  await entry(host, 'participant', GUEST).locator('[data-testid="remove-participant"]').click();
  await tid(guest, 'removed-notice').waitFor({ timeout: 10000 });
  await shot(guest, 'removed');
  await poll(async () => (await tid(host, 'tile').count()) === 1, { timeout: 10000, what: 'host back to 1 tile' });
  // Rejoining (same browser, same credential) lands in the lobby.
  await tid(guest, 'rejoin').click();
  await joinAs(guest, GUEST);
  await tid(guest, 'lobby-waiting').waitFor({ timeout: 15000 });
  const req = entry(host, 'lobby-request', GUEST);
  await req.waitFor({ timeout: 10000 });
  assert.equal(await req.getAttribute('data-removed-before'), 'true');
  await req.locator('[data-testid="removed-before"]').waitFor();
  await shot(host, 'removed-before');
  // The host may let them in again, and make them a co-host.
  await req.locator('[data-testid="admit"]').click();
  await poll(async () => (await tid(guest, 'tile').count()) === 2 && (await tid(host, 'tile').count()) === 2,
    { timeout: 20000, what: 'the guest back in the call' });
  if (serverHas('promote')) {
    await openPeople(host);
    await entry(host, 'participant', GUEST).locator('[data-testid="promote-participant"]').click();
    await entry(host, 'participant', GUEST).locator('[data-testid="role-cohost"]').waitFor({ timeout: 5000 });
    await openPeople(guest);
    await poll(async () => (await guest.locator('[data-testid="mute-participant"]').count()) === 1,
      { timeout: 5000, what: 'the co-host has host controls' });
    await shot(guest, 'cohost');
  }
});

test('end for all: everyone sees that the meeting ended', { skip }, async () => {
  assert.ok(host && guest, 'pages not open (previous test failed)');
  if (!serverHas('end')) return;
  await tid(host, 'end-call').click();
  await tid(host, 'meeting-ended').waitFor({ timeout: 10000 });
  await tid(guest, 'meeting-ended').waitFor({ timeout: 10000 });
  await shot(guest, 'ended');
  assert.equal((await fetch(`${edge.base}/api/rooms/${room}`)).status, 404);
});

test('every process stops cleanly on SIGTERM, no sanitizer reports', { skip }, async () => {
  await closePage(host);
  await closePage(guest);
  host = guest = null;
  const problems = await c.stop();
  assert.deepEqual(problems, [], `logs in ${c.logDir}`);
});
