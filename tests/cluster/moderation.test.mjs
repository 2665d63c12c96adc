// Host powers through the real cluster (redis, router, 2 workers, 2 edges),
// checked by the room's worker: promote, mute, remove, end; and the
// negatives: every host action from a guest, forged, expired and foreign
// credentials, and host actions aimed at another room's participants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Cluster, Client, createRoom, hostToken, knock, signJwt, poll,
} from './lib.mjs';

const c = new Cluster('moderation');
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

async function host(edge, created, label = 'host') {
  const h = await connect(edge, label);
  const { joined } = await h.join(created.room, label, { token: hostToken(created) });
  assert.equal(joined.role, 'host');
  return h;
}

// A guest in the call of a lobby-off room (with its credential).
async function guest(edge, room, label, extra = {}) {
  const g = await connect(edge, label);
  const m = await knock(g, room, label, extra);
  assert.equal(m.type, 'joined', `${label}: ${JSON.stringify(m)}`);
  return g;
}

async function waiting(edge, room, label, extra = {}) {
  const g = await connect(edge, label);
  const m = await knock(g, room, label, extra);
  assert.equal(m.type, 'lobby_waiting', `${label}: ${JSON.stringify(m)}`);
  return g;
}

// The worker process hosting room.
async function workerOf(room) {
  const id = await c.roomWorker(room);
  return c.workers.find((w) => w.id === id);
}

test('promote: a cohost admits, and is cohost again after rejoining', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const g1 = await waiting(e2, r.room, 'Deputy');
  const req = await h.next('lobby_request');
  h.send({ type: 'admit', participant: req.participant.id });
  await g1.next('joined', { timeout: 8000 });
  h.send({ type: 'promote', participant: req.participant.id });
  const upd = await g1.next('participant_updated', { pred: (m) => m.participant.id === req.participant.id });
  assert.equal(upd.participant.role, 'cohost');
  const g2 = await waiting(e1, r.room, 'Second');
  const req2 = await g1.next('lobby_request', { pred: (m) => m.participant.name === 'Second' });
  g1.send({ type: 'admit', participant: req2.participant.id });
  await g2.next('joined', { timeout: 8000 });
  // leave and come back with the same credential: straight in, as cohost
  g1.send({ type: 'leave' });
  g1.close();
  const again = await connect(e2, 'deputy-again');
  const m = await knock(again, r.room, 'Deputy', { token: g1.credential });
  assert.equal(m.type, 'joined');
  assert.equal(m.role, 'cohost');
});

test('mute: forwarding held, the target told, everyone sees it; only the target unmutes', async () => {
  const r = await createRoom(e1, { lobby: false });
  const h = await host(e1, r);
  const g = await guest(e2, r.room, 'Loud');
  const other = await guest(e1, r.room, 'Other');
  const w = await workerOf(r.room);
  h.send({ type: 'mute', participant: g.participant, kind: 'audio' });
  const muted = await g.next('muted');
  assert.deepEqual([muted.kind, muted.by], ['audio', h.participant]);
  for (const cl of [h, other]) {
    const u = await cl.next('participant_updated', { pred: (m) => m.participant.id === g.participant });
    assert.equal(u.participant.audio, false);
  }
  await w.waitLine(new RegExp(`${g.participant} audio forwarding held`));
  // a guest cannot unmute someone else (there is no such action) nor mute
  other.send({ type: 'mute', participant: h.participant, kind: 'video' });
  assert.equal((await other.next('error', { pred: (m) => m.ref === 'mute' })).code, 3001);
  h.send({ type: 'ask_unmute', participant: g.participant, kind: 'audio' });
  const ask = await g.next('unmute_request');
  assert.deepEqual([ask.kind, ask.by], ['audio', h.participant]);
  g.send({ type: 'media_state', audio: true, video: true });
  const u = await h.next('participant_updated', { pred: (m) => m.participant.id === g.participant && m.participant.audio });
  assert.equal(u.participant.audio, true);
  await w.waitLine(/audio forwarding resumed/);
});

test('remove: closed 3003, the credential only knocks again, hosts see removed_before', async () => {
  const r = await createRoom(e2, { lobby: false });
  const h = await host(e2, r);
  const g = await guest(e1, r.room, 'Troll');
  h.send({ type: 'remove', participant: g.participant });
  const closed = await g.next('closed');
  assert.equal(closed.code, 3003);
  assert.equal(closed.reason.length > 0, true);
  await g.waitClosed();
  assert.equal((await h.next('participant_left')).participant, g.participant);
  const back = await connect(e1, 'troll-again');
  const m = await knock(back, r.room, 'Troll', { token: g.credential });
  assert.equal(m.type, 'lobby_waiting', 'a removed identity waits even with the lobby off');
  const req = await h.next('lobby_request');
  assert.equal(req.participant.removed_before, true);
  h.send({ type: 'admit', participant: req.participant.id });
  const j = await back.next('joined', { timeout: 8000 });
  assert.equal(j.role, 'guest');
});

test('end: everyone closed 2004, the room and its Redis state gone', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const g = await waiting(e2, r.room, 'Waiter');
  const req = await h.next('lobby_request');
  h.send({ type: 'admit', participant: req.participant.id });
  await g.next('joined', { timeout: 8000 });
  const w2 = await waiting(e1, r.room, 'StillWaiting');
  const wid = await c.roomWorker(r.room);
  h.send({ type: 'end' });
  for (const cl of [h, g, w2]) {
    assert.equal((await cl.next('closed')).code, 2004);
    await cl.waitClosed();
  }
  await poll(async () => (await c.redisCli('EXISTS', `vc:room:${r.room}`)) === '0', { what: 'vc:room gone' });
  assert.equal(await c.redisCli('SISMEMBER', `vc:worker_rooms:${wid}`, r.room), '0');
  assert.equal((await fetch(`${e2.base}/api/rooms/${r.room}`)).status, 404);
  const late = await connect(e2, 'late');
  const m = await knock(late, r.room, 'Late');
  assert.equal(m.type, 'error');
  assert.equal(m.code, 2000);
});

test('every host action from a guest is forbidden (3001) and changes nothing', async () => {
  const r = await createRoom(e1, {});
  const h = await host(e1, r);
  const w = await waiting(e2, r.room, 'Waiting');
  await h.next('lobby_request');
  h.send({ type: 'set_lobby', enabled: false }); // admits Waiting
  w.participant = (await w.next('joined', { timeout: 8000 })).participant;
  h.send({ type: 'set_lobby', enabled: true });
  await h.next('room_updated', { pred: (m) => m.lobby_enabled === true });
  const sender = w; // an admitted guest, in the call
  const knocker = await waiting(e1, r.room, 'Knocker');
  const kreq = await h.next('lobby_request', { pred: (m) => m.participant.name === 'Knocker' });
  const actions = [
    { type: 'admit', participant: kreq.participant.id },
    { type: 'deny', participant: kreq.participant.id },
    { type: 'admit_all' },
    { type: 'set_lobby', enabled: false },
    { type: 'mute', participant: h.participant, kind: 'audio' },
    { type: 'ask_unmute', participant: h.participant, kind: 'video' },
    { type: 'remove', participant: h.participant },
    { type: 'promote', participant: sender.participant },
    { type: 'end' },
  ];
  for (const a of actions) {
    sender.send(a);
    const e = await sender.next('error', { pred: (m) => m.ref === a.type });
    assert.equal(e.code, 3001, `${a.type} from a guest`);
  }
  // a waiting guest cannot admit itself either
  knocker.send({ type: 'admit', participant: kreq.participant.id });
  assert.equal((await knocker.next('error', { pred: (m) => m.ref === 'admit' })).code, 3001);
  // nothing happened: the knocker still waits, the host is untouched
  assert.ok(!knocker.msgs.some((m) => m.type === 'joined' || m.type === 'closed'));
  assert.ok(!h.msgs.some((m) => ['muted', 'unmute_request', 'closed'].includes(m.type)));
  assert.ok(!h.msgs.some((m) => m.type === 'lobby_left' && m.participant === kreq.participant.id));
  assert.ok(!h.msgs.some((m) => m.type === 'participant_updated' && m.participant.id === sender.participant));
  assert.equal(await c.redisCli('HGET', `vc:room:${r.room}`, 'lobby'), '1');
  assert.equal(h.ws.readyState, 1);
});

test('forged, expired and foreign credentials are refused; nothing runs unjoined', async () => {
  const r = await createRoom(e1, {});
  const other = await createRoom(e1, {});
  const h = await host(e1, r);
  const tok = hostToken(r);
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['forged signature', tok.slice(0, -4) + (tok.endsWith('AAAA') ? 'BBBB' : 'AAAA'), 3000],
    ['signed with another secret', signJwt('not-the-secret', { room: r.room, role: 'host', sub: 'x1', iat: now, exp: now + 60 }), 3000],
    ['expired', signJwt(c.jwtSecret, { room: r.room, role: 'host', sub: 'x2', iat: now - 120, exp: now - 60 }), 3002],
    ['another room', hostToken(other), 3000],
    ['unknown role', signJwt(c.jwtSecret, { room: r.room, role: 'admin', sub: 'x3', iat: now, exp: now + 60 }), 3000],
  ];
  for (const [what, token, code] of cases) {
    const cl = await connect(e2, what);
    const m = await knock(cl, r.room, 'Mallory', { token });
    assert.equal(m.type, 'error', what);
    assert.equal(m.code, code, what);
    cl.send({ type: 'end' });
    assert.equal((await cl.next('error', { pred: (x) => x.ref === 'end' })).code, 1005, what);
  }
  // the room is intact
  assert.equal(await c.redisCli('EXISTS', `vc:room:${r.room}`), '1');
  assert.ok(!h.msgs.some((m) => m.type === 'closed'));
});

test('host actions naming another room\'s participants: 2003, that room unaffected', async () => {
  const ra = await createRoom(e1, {});
  const rb = await createRoom(e2, {});
  const ha = await host(e1, ra, 'host-a');
  const hb = await host(e2, rb, 'host-b');
  const wb = await waiting(e2, rb.room, 'WaitsInB');
  const reqb = await hb.next('lobby_request');
  const inB = await waiting(e1, rb.room, 'InB');
  const reqIn = await hb.next('lobby_request', { pred: (m) => m.participant.name === 'InB' });
  hb.send({ type: 'admit', participant: reqIn.participant.id });
  inB.participant = (await inB.next('joined', { timeout: 8000 })).participant;
  assert.ok(inB.participant);
  const actions = [
    { type: 'admit', participant: reqb.participant.id },
    { type: 'deny', participant: reqb.participant.id },
    { type: 'remove', participant: reqb.participant.id },
    { type: 'mute', participant: inB.participant, kind: 'audio' },
    { type: 'ask_unmute', participant: inB.participant, kind: 'audio' },
    { type: 'remove', participant: inB.participant },
    { type: 'promote', participant: inB.participant },
    { type: 'mute', participant: hb.participant, kind: 'video' },
  ];
  for (const a of actions) {
    ha.send(a);
    const e = await ha.next('error', { pred: (m) => m.ref === a.type });
    assert.equal(e.code, 2003, `${a.type} ${a.participant}`);
  }
  assert.ok(!wb.msgs.some((m) => ['joined', 'closed', 'lobby_denied'].includes(m.type)));
  assert.ok(!inB.msgs.some((m) => ['muted', 'unmute_request', 'closed'].includes(m.type)));
  assert.ok(!hb.msgs.some((m) => (m.type === 'lobby_left' && m.participant === reqb.participant.id) ||
    m.type === 'participant_left'));
  assert.ok(!hb.msgs.some((m) => m.type === 'participant_updated'));
  // B still works: its host admits the waiting guest
  hb.send({ type: 'admit', participant: reqb.participant.id });
  await wb.next('joined', { timeout: 8000 });
});
