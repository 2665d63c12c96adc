// The lobby through the real cluster (redis, router, 2 workers, 2 edges):
// guests knock on one edge and are admitted, denied or admitted all by a
// host on the other; guests before any host; the lobby switched off and
// on; a waiting guest whose connection drops keeps its place.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Client, createRoom, hostToken, knock, poll } from './lib.mjs';

const c = new Cluster('lobby');
let e1, e2;
const clients = [];

before(async () => {
  await c.start({ workers: 2, edges: 2 });
  [e1, e2] = c.edges;
});

after(async () => {
  for (const cl of clients) cl.close();
  const problems = await c.stop();
  assert.deepEqual(problems, []);
});

async function connect(edge, label) {
  const cl = await Client.connect(edge, label);
  clients.push(cl);
  return cl;
}

// A host of `created` on edge: joined (in the call) + first offer.
async function host(edge, created, label = 'host') {
  const h = await connect(edge, label);
  const { joined } = await h.join(created.room, label, { token: hostToken(created) });
  assert.equal(joined.role, 'host');
  return h;
}

// A guest on edge that knocks and waits; returns it after its lobby_waiting.
async function waiting(edge, room, label) {
  const g = await connect(edge, label);
  const m = await knock(g, room, label);
  assert.equal(m.type, 'lobby_waiting', `${label}: ${JSON.stringify(m)}`);
  assert.equal(m.room, room);
  assert.ok(g.credential, `${label} got no credential`);
  return g;
}

// The host's next lobby_request for name; returns the waiting participant.
async function request(h, name) {
  const m = await h.next('lobby_request', { pred: (x) => x.participant.name === name });
  assert.equal(m.participant.removed_before, false);
  return m.participant;
}

test('a guest knocks on edge A and a host on edge B admits them', async () => {
  const r = await createRoom(e1, {});
  assert.equal(r.lobby, true);
  const h = await host(e2, r);
  assert.equal(h.joined.lobby_enabled, true);
  assert.deepEqual(h.joined.lobby, []);
  const g = await waiting(e1, r.room, 'Knocker');
  const p = await request(h, 'Knocker');
  h.send({ type: 'admit', participant: p.id });
  const left = await h.next('lobby_left');
  assert.deepEqual([left.participant, left.reason], [p.id, 'admitted']);
  const pj = await h.next('participant_joined');
  assert.equal(pj.participant.id, p.id);
  const joined = await g.next('joined', { timeout: 8000 });
  assert.equal(joined.participant, p.id);
  assert.equal(joined.role, 'guest');
  assert.deepEqual(joined.lobby, [], 'guests never see the lobby');
  await g.next('offer', { timeout: 8000 });
});

test('a host denies a waiting guest: lobby_denied, closed, WebSocket closed', async () => {
  const r = await createRoom(e2, {});
  const h = await host(e1, r);
  const g = await waiting(e2, r.room, 'Denied');
  const p = await request(h, 'Denied');
  h.send({ type: 'deny', participant: p.id });
  await g.next('lobby_denied');
  const closed = await g.next('closed');
  assert.equal(closed.code, 3001);
  await g.waitClosed();
  const left = await h.next('lobby_left');
  assert.deepEqual([left.participant, left.reason], [p.id, 'denied']);
  assert.ok(!g.msgs.some((m) => m.type === 'joined'));
});

test('admit_all admits two waiting guests', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const g1 = await waiting(e1, r.room, 'One');
  const g2 = await waiting(e2, r.room, 'Two');
  await request(h, 'One');
  await request(h, 'Two');
  h.send({ type: 'admit_all' });
  await g1.next('joined', { timeout: 8000 });
  await g2.next('joined', { timeout: 8000 });
  await h.next('lobby_left', { pred: (m) => m.reason === 'admitted' });
  await h.next('lobby_left', { pred: (m) => m.reason === 'admitted' });
});

test('a guest before any host waits; the host sees them on joining and admits', async () => {
  const r = await createRoom(e1, {});
  const g = await waiting(e2, r.room, 'Early');
  const h = await connect(e1, 'late-host');
  const { joined } = await h.join(r.room, 'Late Host', { token: hostToken(r) });
  assert.equal(joined.lobby.length, 1);
  assert.equal(joined.lobby[0].name, 'Early');
  assert.equal(joined.lobby[0].removed_before, false);
  h.send({ type: 'admit', participant: joined.lobby[0].id });
  const gj = await g.next('joined', { timeout: 8000 });
  assert.equal(gj.participants.length, 2);
});

test('lobby off: guests enter; on again: the next one waits; off admits the waiting', async () => {
  const r = await createRoom(e1, { lobby: false });
  const h = await host(e2, r);
  assert.equal(h.joined.lobby_enabled, false);
  const g1 = await connect(e1, 'direct');
  const m1 = await knock(g1, r.room, 'Direct');
  assert.equal(m1.type, 'joined');
  assert.equal(m1.lobby_enabled, false);
  h.send({ type: 'set_lobby', enabled: true });
  assert.equal((await h.next('room_updated')).lobby_enabled, true);
  assert.equal((await g1.next('room_updated')).lobby_enabled, true);
  await poll(async () => (await c.redisCli('HGET', `vc:room:${r.room}`, 'lobby')) === '1', { what: 'lobby 1 in Redis' });
  const info = await (await fetch(`${e1.base}/api/rooms/${r.room}`)).json();
  assert.equal(info.lobby, true);
  const g2 = await waiting(e2, r.room, 'Held');
  await request(h, 'Held');
  h.send({ type: 'set_lobby', enabled: false });
  assert.equal((await h.next('room_updated')).lobby_enabled, false);
  await g2.next('joined', { timeout: 8000 });
  await poll(async () => (await c.redisCli('HGET', `vc:room:${r.room}`, 'lobby')) === '0', { what: 'lobby 0 in Redis' });
});

test('a waiting guest whose connection drops resumes through the other edge and keeps its place', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e2, r);
  const g = await waiting(e1, r.room, 'Dropped');
  const p = await request(h, 'Dropped');
  assert.ok(g.waiting.resume, 'lobby_waiting carries a resume token');
  g.close(); // no leave: the session is only detached
  const g2 = await connect(e2, 'resumed');
  const m = await knock(g2, r.room, 'Dropped', { token: g.credential, resume: g.waiting.resume });
  assert.equal(m.type, 'lobby_waiting');
  // Takeover with the credential alone (a client that lost its resume
  // token): same place, still one request.
  g2.close();
  const g3 = await connect(e1, 'rejoined');
  const m3 = await knock(g3, r.room, 'Dropped', { token: g.credential });
  assert.equal(m3.type, 'lobby_waiting');
  assert.equal(h.msgs.filter((x) => x.type === 'lobby_request').length, 1, 'the host saw one request');
  assert.ok(!h.msgs.some((x) => x.type === 'lobby_left'), 'the place was never lost');
  h.send({ type: 'admit', participant: p.id });
  const j = await g3.next('joined', { timeout: 8000 });
  assert.equal(j.participant, p.id);
});

test('a waiting guest who leaves disappears from the lobby of the hosts', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const g = await waiting(e2, r.room, 'Gone');
  const p = await request(h, 'Gone');
  g.send({ type: 'leave' });
  const left = await h.next('lobby_left', { timeout: 8000 });
  assert.deepEqual([left.participant, left.reason], [p.id, 'left']);
});

test('a waiting guest whose edge is SIGKILLed resumes through another edge, still waiting', async () => {
  const e3 = await c.startEdge(3);
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const g = await waiting(e3, r.room, 'Orphan');
  const p = await request(h, 'Orphan');
  await e3.kill('SIGKILL');
  await g.waitClosed();
  const g2 = await connect(e2, 'orphan-again');
  const m = await knock(g2, r.room, 'Orphan', { token: g.credential, resume: g.waiting.resume });
  assert.equal(m.type, 'lobby_waiting');
  // past the worker's edge timeout (2 s): the place must still be there
  await new Promise((res) => setTimeout(res, 2500));
  assert.ok(!h.msgs.some((x) => x.type === 'lobby_left'), 'the place was never lost');
  h.send({ type: 'admit', participant: p.id });
  assert.equal((await g2.next('joined', { timeout: 8000 })).participant, p.id);
});
