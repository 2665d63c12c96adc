// Failures: an edge or a worker killed with SIGKILL (redis, router, 2 workers,
// 2 edges). Workers run with detach_grace_ms 1000 so a lost edge's
// participants leave the roster within a few seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Client, createRoom, participantId, poll } from './lib.mjs';

const c = new Cluster('failure');
let e1, e2;
const clients = [];

before(async () => {
  await c.start({ workers: 2, edges: 2, workerArgs: ['--detach-grace-ms', '1000'] });
  [e1, e2] = c.edges;
});

after(async () => {
  for (const cl of clients) cl.close();
  await c.stop();
});

async function connect(edge, label) {
  const cl = await Client.connect(edge, label);
  clients.push(cl);
  return cl;
}

test('an edge killed with SIGKILL: its participant leaves the other roster', async () => {
  const r = await createRoom(e1);
  const a = await connect(e1, 'A');
  await a.join(r.room, 'Alice');
  const b = await connect(e2, 'B');
  const jb = await b.join(r.room, 'Bea');
  const pj = await a.next('participant_joined', { timeout: 2000 });
  assert.equal(participantId(pj.participant), jb.joined.participant);
  const t0 = Date.now();
  await e2.kill('SIGKILL');
  // Edge silent 2 s -> detached; + detach_grace_ms 1 s -> removed.
  const pl = await a.next('participant_left', { timeout: 8000 });
  assert.equal(pl.participant, jb.joined.participant);
  console.log(`participant_left ${Date.now() - t0} ms after SIGKILL of edge-2`);
  // The surviving edge still serves, and the room goes on.
  const d = await connect(e1, 'D');
  const jd = await d.join(r.room, 'Dora');
  const ids = jd.joined.participants.map(participantId);
  assert.ok(!ids.includes(jb.joined.participant), 'the killed edge\'s participant is still in the roster');
  a.close(); d.close();
});

test('a restarted edge serves again', async () => {
  const e = await c.startEdge(3);
  const r = await createRoom(e);
  const a = await connect(e, 'E3');
  await a.join(r.room, 'Eve');
  a.close();
});

test('after its edge dies, a participant resumes on another edge and stays in the room', async () => {
  const e3 = c.edges.find((e) => e.name === 'edge-3' && e.alive);
  assert.ok(e3, 'edge-3 not running (previous test failed)');
  const r = await createRoom(e1);
  const a = await connect(e1, 'A');
  await a.join(r.room, 'Alice');
  const b = await connect(e3, 'B');
  const jb = await b.join(r.room, 'Bea');
  await a.next('participant_joined', { timeout: 2000 });
  const t0 = Date.now();
  await e3.kill('SIGKILL');
  // The browser reconnects to another edge with the resume secret.
  const b2 = await connect(e1, 'B-resumed');
  b2.send({ type: 'join', room: r.room, name: 'Bea', resume: jb.joined.resume });
  const j2 = await b2.nextOf(['joined', 'error'], { timeout: 5000 });
  assert.equal(j2.type, 'joined', `resume answered ${j2.type} ${j2.code} ${j2.name}`);
  assert.equal(j2.participant, jb.joined.participant, 'resume made a new participant');
  assert.ok(j2.participants.map(participantId).includes(a.participant), 'resumed roster lacks A');
  await b2.next('offer', { timeout: 5000 });
  // Past the point where edge-3's silence (2 s) plus detach_grace_ms (1 s)
  // would have removed B, a newcomer's join is a barrier: the worker orders
  // its events, so a participant_left for B would reach A before this.
  await poll(() => Date.now() - t0 > 4000, { timeout: 6000, what: 'the detach window to pass' });
  const d = await connect(e1, 'D');
  const jd = await d.join(r.room, 'Dan');
  await a.next('participant_joined', { timeout: 2000, pred: (m) => participantId(m.participant) === jd.joined.participant });
  assert.ok(!a.msgs.some((m) => m.type === 'participant_left' && m.participant === jb.joined.participant),
    'A saw B leave although B resumed');
  assert.ok(jd.joined.participants.map(participantId).includes(jb.joined.participant), 'newcomer does not see B');
  a.close(); b2.close(); d.close();
});

test('a worker killed with SIGKILL: not chosen again, its rooms are lost (2001)', async () => {
  const edge = e1;
  const r1 = await createRoom(edge);
  const a = await connect(edge, 'onvictim');
  await a.join(r1.room, 'Victim');
  const victimId = await c.roomWorker(r1.room);
  const victim = c.workers.find((w) => w.id === victimId);
  const survivor = c.workers.find((w) => w.id !== victimId);
  assert.ok(victim && survivor, `room on '${victimId}'`);
  await victim.kill('SIGKILL');
  const t0 = Date.now();
  await poll(async () => (await c.redisCli('EXISTS', `vc:worker:${victimId}`)) === '0',
    { timeout: 6000, what: `vc:worker:${victimId} to expire` });
  console.log(`vc:worker:${victimId} gone ${Date.now() - t0} ms after SIGKILL`);
  // New rooms all go to the survivor.
  for (let i = 0; i < 4; i++) {
    const r = await createRoom(edge);
    const live = c.edges.filter((e) => e.alive);
    const cl = await connect(live[i % live.length], `new${i}`);
    await cl.join(r.room, `New ${i}`);
    assert.equal(await c.roomWorker(r.room), survivor.id, `new room placed on ${await c.roomWorker(r.room)}`);
    cl.close();
  }
  // Joining the victim's room: room_lost.
  const b = await connect(edge, 'late');
  b.send({ type: 'join', room: r1.room, name: 'Late' });
  const err = await b.next('error', { timeout: 5000 });
  assert.equal(err.code, 2001, `error ${err.code} ${err.name}`);
  assert.equal(err.name, 'room_lost');
  b.close();
  a.close();
});

test('a restarted worker registers and takes rooms again', async () => {
  const dead = c.workers.find((w) => !w.alive);
  assert.ok(dead, 'no dead worker (previous test failed?)');
  const i = Number(dead.id.slice(1));
  c.workers = c.workers.filter((w) => w !== dead);
  const w = await c.startWorker(i, ['--detach-grace-ms', '1000']);
  // Two new rooms: with the survivor loaded, at least one lands on the restarted worker.
  const placed = new Set();
  for (let k = 0; k < 3 && !placed.has(w.id); k++) {
    const r = await createRoom(e1);
    const cl = await connect(e1, `again${k}`);
    await cl.join(r.room, `Again ${k}`);
    placed.add(await c.roomWorker(r.room));
  }
  assert.ok(placed.has(w.id), `no new room went to the restarted ${w.id}: ${[...placed]}`);
});

test('every process stops cleanly on SIGTERM, no sanitizer reports', async () => {
  const problems = await c.stop();
  assert.deepEqual(problems, [], `logs in ${c.logDir}`);
});
