// HTTP side of the edges: health, metrics, the rooms API, and malformed
// requests, against a real cluster (redis, router, 2 workers, 2 edges).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Client, createRoom, rawHttp, statusOf } from './lib.mjs';

const c = new Cluster('http');
let e1, e2;

before(async () => {
  await c.start({ workers: 2, edges: 2 });
  [e1, e2] = c.edges;
});

after(async () => { await c.stop(); });

// After bad input: the edge still answers health checks and serves a fresh
// client all the way to an offer from a worker.
async function assertServes(edge) {
  assert.ok(edge.alive, `${edge.name} died; last lines:\n${edge.tail()}`);
  const h = await fetch(`${edge.base}/healthz`);
  assert.equal(h.status, 200);
  const room = await createRoom(edge);
  const cl = await Client.connect(edge, 'fresh');
  try {
    const { offer } = await cl.join(room.room, 'Fresh');
    assert.match(offer.sdp, /^v=0/);
  } finally { cl.close(); }
}

test('healthz and metrics answer on both edges', async () => {
  for (const e of [e1, e2]) {
    const h = await fetch(`${e.base}/healthz`);
    assert.equal(h.status, 200, `${e.name} /healthz`);
    const m = await fetch(`${e.base}/metrics`);
    assert.equal(m.status, 200, `${e.name} /metrics`);
    assert.match(m.headers.get('content-type') || '', /^text\/plain/);
    const body = await m.text();
    assert.ok(body.length > 0, 'metrics body is empty');
    assert.match(body, /^[a-z_:][a-z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+/m, 'no Prometheus sample line');
  }
});

test('POST /api/rooms creates a room with url and host_url', async () => {
  const r = await fetch(`${e1.base}/api/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
  });
  assert.equal(r.status, 201);
  assert.match(r.headers.get('content-type') || '', /application\/json/);
  const j = await r.json();
  assert.equal(typeof j.room, 'string');
  assert.match(j.room, /^[A-Za-z0-9_-]{1,64}$/);
  assert.ok(j.url.endsWith(`/r/${j.room}`), `url ${j.url}`);
  assert.ok(j.host_url.includes(`/r/${j.room}`), `host_url ${j.host_url}`);
  assert.match(j.host_url, /#host=[^&\s]+/, `host_url ${j.host_url} carries no #host=`);
  assert.ok(!/\?.*host/.test(j.host_url.split('#')[0]), 'host credential in a query string');
  // The room is in Redis, without a worker until someone joins.
  assert.equal(await c.redisCli('EXISTS', `vc:room:${j.room}`), '1');
  assert.equal(await c.roomWorker(j.room), '');
});

test('POST /api/rooms with {"lobby": false}', async () => {
  const j = await createRoom(e2, { lobby: false });
  assert.equal(await c.redisCli('HGET', `vc:room:${j.room}`, 'lobby'), '0');
});

test('GET /api/rooms/<id>: 200 on both edges, 404 with error JSON for unknown', async () => {
  const j = await createRoom(e1);
  for (const e of [e1, e2]) {
    const r = await fetch(`${e.base}/api/rooms/${j.room}`);
    assert.equal(r.status, 200, `${e.name}`);
    const b = await r.json();
    assert.equal(b.room, j.room);
  }
  const r = await fetch(`${e1.base}/api/rooms/zzz-nope-zzz`);
  assert.equal(r.status, 404);
  const b = await r.json();
  assert.equal(b.error?.code, 2000, JSON.stringify(b));
  assert.equal(b.error?.name, 'room_not_found');
  assert.equal(typeof b.error?.message, 'string');
});

test('unknown path 404, wrong method 405', async () => {
  assert.equal((await fetch(`${e1.base}/no/such/thing`)).status, 404);
  const r = await fetch(`${e1.base}/api/rooms`, { method: 'DELETE' });
  assert.equal(r.status, 405);
});

test('garbage bytes -> 400 and the connection is closed', async () => {
  const r = await rawHttp(e1.port, Buffer.from('\x00\x01\x02garbage \xff\xfe\r\n\r\n', 'latin1'));
  assert.equal(statusOf(r.text), 400, `answer: ${JSON.stringify(r.text.slice(0, 200))}`);
  assert.ok(r.closed, 'connection left open');
  await assertServes(e1);
});

test('oversized request headers -> 431 or 400', async () => {
  const big = 'x'.repeat(64 * 1024);
  const r = await rawHttp(e1.port, [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${big}\r\n\r\n`]);
  assert.ok([400, 431].includes(statusOf(r.text)), `answer: ${JSON.stringify(r.text.slice(0, 200))} (${r.error})`);
  assert.ok(r.closed, 'connection left open');
  await assertServes(e1);
});

test('too many headers -> 431 or 400', async () => {
  let h = '';
  for (let i = 0; i < 200; i++) h += `X-H${i}: v\r\n`;
  const r = await rawHttp(e1.port, [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}\r\n`]);
  assert.ok([400, 431].includes(statusOf(r.text)), `answer: ${JSON.stringify(r.text.slice(0, 200))}`);
  await assertServes(e1);
});

function bigBody(chunked) {
  const n = 1024 * 1024;
  const head = `POST /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    (chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${n}\r\n\r\n`);
  const chunks = [head];
  for (let i = 0; i < 16; i++) {
    const part = Buffer.alloc(n / 16, 0x20);
    chunks.push(chunked ? Buffer.concat([Buffer.from(`${(n / 16).toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
  }
  if (chunked) chunks.push('0\r\n\r\n');
  return chunks;
}

test('1 MB body (Content-Length) -> 413 as soon as the headers are in', async () => {
  const r = await rawHttp(e1.port, bigBody(false), { pauseAfterFirst: 2000 });
  assert.equal(statusOf(r.text), 413, `answer: ${JSON.stringify(r.text.slice(0, 200))} (${r.error})`);
  await assertServes(e1);
});

// A client (a browser's fetch, curl) sends its whole body before reading.
// The 413 must survive that: RFC 9112 9.6, the server half-closes and drains
// the input for a while instead of closing with unread data, which makes the
// kernel send a RST that destroys the response before the client reads it.
test('1 MB body sent in full before reading -> 413 arrives (lingering close)', async () => {
  const r = await rawHttp(e1.port, bigBody(false), { stopOnAnswer: false });
  assert.equal(statusOf(r.text), 413, `answer: ${JSON.stringify(r.text.slice(0, 200))} (${r.error})`);
  await assertServes(e1);
});

test('1 MB chunked body sent in full -> 413 arrives', async () => {
  const r = await rawHttp(e1.port, bigBody(true), { stopOnAnswer: false });
  assert.equal(statusOf(r.text), 413, `answer: ${JSON.stringify(r.text.slice(0, 200))} (${r.error})`);
  await assertServes(e1);
});

test('invalid JSON body on POST /api/rooms -> 400', async () => {
  const r = await fetch(`${e2.base}/api/rooms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{lobby:' });
  assert.equal(r.status, 400);
  const b = await r.json();
  assert.equal(typeof b.error?.code, 'number', JSON.stringify(b));
  await assertServes(e2);
});

test('path traversal is refused', async () => {
  const r = await rawHttp(e2.port, 'GET /assets/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok([400, 403, 404].includes(statusOf(r.text)), r.text.slice(0, 100));
  assert.ok(!r.text.includes('root:'), 'served /etc/passwd');
  const r2 = await rawHttp(e2.port, 'GET /assets/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok([400, 403, 404].includes(statusOf(r2.text)), r2.text.slice(0, 100));
  assert.ok(!r2.text.includes('root:'), 'served /etc/passwd');
});

test('a slow client does not block other clients', async () => {
  // Half a request line, held open, while another request is served.
  const net = await import('node:net');
  const s = net.connect(e1.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write('GET /hea');
  try {
    const h = await fetch(`${e1.base}/healthz`, { signal: AbortSignal.timeout(2000) });
    assert.equal(h.status, 200);
  } finally { s.destroy(); }
});

test('every process stops cleanly on SIGTERM, no sanitizer reports', async () => {
  const problems = await c.stop();
  assert.deepEqual(problems, [], `logs in ${c.logDir}`);
});
