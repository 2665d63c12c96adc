// Helpers for tests that start a real cluster: redis-server, routers, workers
// and edges as child processes, each logged to a file, waited on by readiness
// (a `ready` log line, /healthz, a Redis key), never by fixed sleeps, and all
// stopped at the end. Run inside a network namespace (tests/cluster/run.sh).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD = process.env.BUILD || 'build';
export const BIN = path.resolve(ROOT, BUILD, 'bin');
export const WS_PATH = process.env.WS_PATH || '/ws';
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

// Every process started by any Cluster, killed if node exits without stop().
const allProcs = new Set();
process.on('exit', () => {
  for (const p of allProcs) if (p.exitCode === null && p.signalCode === null) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

export function sleepUntil(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Polls fn() (sync or async) until it returns a truthy value; returns it.
export async function poll(fn, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}` + (last ? `: ${last.message}` : ''));
    await sleepUntil(interval);
  }
}

export function binary(name) {
  const p = path.join(BIN, name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing (build it: make -j2 all${BUILD !== 'build' ? ' SAN=1' : ''})`);
  return p;
}

// One started process: its log (file + in memory) and line waiters.
class Proc {
  constructor(name, cmd, args, logDir, env) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.logPath = path.join(logDir, `${name}.log`);
    this.log = '';
    this.lineWaiters = [];
    this.exitWaiters = [];
    this.exit = null; // {code, signal} once exited
    this.expectedExit = false;
    const fd = fs.openSync(this.logPath, 'a');
    fs.writeSync(fd, `$ ${cmd} ${args.join(' ')}\n`);
    this.child = spawn(cmd, args, {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1', ...env },
    });
    this.pid = this.child.pid;
    allProcs.add(this.child);
    let partial = '';
    const onData = (buf) => {
      const s = buf.toString('utf8');
      fs.writeSync(fd, s);
      this.log += s;
      const lines = (partial + s).split('\n');
      partial = lines.pop();
      for (const line of lines) this._line(line);
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.child.on('error', (e) => {
      this.log += `spawn error: ${e.message}\n`;
    });
    this.child.on('close', (code, signal) => {
      if (partial) this._line(partial);
      this.exit = { code, signal };
      fs.writeSync(fd, `# exited: code ${code} signal ${signal}\n`);
      fs.closeSync(fd);
      allProcs.delete(this.child);
      for (const w of this.lineWaiters) w.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before logging ${w.re}; last lines:\n${this.tail()}`));
      this.lineWaiters = [];
      for (const w of this.exitWaiters) w(this.exit);
      this.exitWaiters = [];
    });
  }

  _line(line) {
    this.lineWaiters = this.lineWaiters.filter((w) => {
      if (!w.re.test(line)) return true;
      clearTimeout(w.timer);
      w.resolve(line);
      return false;
    });
  }

  get alive() { return this.exit === null; }

  tail(n = 25) { return this.log.split('\n').slice(-n - 1).join('\n'); }

  // Resolves with the first line (already logged or future) matching re.
  waitLine(re, timeout = 10000) {
    const old = this.log.split('\n').find((l) => re.test(l));
    if (old !== undefined) return Promise.resolve(old);
    if (!this.alive) return Promise.reject(new Error(`${this.name} is not running; last lines:\n${this.tail()}`));
    return new Promise((resolve, reject) => {
      const w = { re, resolve, reject };
      w.timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: no line matching ${re} within ${timeout} ms; last lines:\n${this.tail()}`));
      }, timeout);
      this.lineWaiters.push(w);
    });
  }

  // Log lines since a mark (this.log.length at some earlier point).
  since(mark) { return this.log.slice(mark); }

  waitExit(timeout = 10000) {
    if (!this.alive) return Promise.resolve(this.exit);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), timeout);
      this.exitWaiters.push((e) => { clearTimeout(t); resolve(e); });
    });
  }

  // Sends sig; for SIGTERM waits up to grace ms, then SIGKILL. Returns the exit.
  async kill(sig = 'SIGTERM', grace = 5000) {
    if (!this.alive) return this.exit;
    if (sig !== 'SIGTERM') this.expectedExit = true;
    try { process.kill(this.pid, sig); } catch { /* already gone */ }
    let e = await this.waitExit(grace);
    if (e === null) {
      this.log += `\n# did not exit within ${grace} ms of ${sig}: SIGKILL\n`;
      this.stuck = true;
      this.expectedExit = false;
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
      e = await this.waitExit(5000);
    }
    return e;
  }
}

// Reports found in a log that mean a bug in the process, whatever the test saw.
export function sanitizerReports(log) {
  return log.split('\n').filter((l) =>
    /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer/.test(l));
}

export function redisCli(sock, ...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-s', sock, '--raw', ...args], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
  });
}

export class Cluster {
  // name: a directory under tests/artifacts/<suite>/ for the logs.
  constructor(name, { suite = 'cluster' } = {}) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `vc-${name}-`));
    // build-san runs keep their own logs: tests/artifacts/cluster-build-san/...
    this.logDir = path.join(ARTIFACTS, BUILD === 'build' ? suite : `${suite}-${BUILD}`, name);
    fs.rmSync(this.logDir, { recursive: true, force: true });
    fs.mkdirSync(this.logDir, { recursive: true });
    this.procs = [];
    this.edges = [];
    this.workers = [];
    this.routers = [];
    this.jwtSecret = crypto.randomBytes(32).toString('hex');
  }

  spawn(name, cmd, args, env = {}) {
    const p = new Proc(name, cmd, args, this.logDir, env);
    this.procs.push(p);
    return p;
  }

  async startRedis() {
    this.redisSock = path.join(this.dir, 'redis.sock');
    this.redisUrl = `unix:${this.redisSock}`;
    this.redis = this.spawn('redis', 'redis-server', [
      '--port', '0', '--unixsocket', this.redisSock, '--unixsocketperm', '700',
      '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no']);
    await this.redis.waitLine(/ready to accept connections/i, 10000);
    await poll(async () => (await this.redisCli('PING')) === 'PONG', { what: 'redis PING' });
    return this.redis;
  }

  redisCli(...args) { return redisCli(this.redisSock, ...args); }

  async startRouter(i = this.routers.length + 1) {
    const url = `ipc://${this.dir}/router-${i}.ipc`;
    const p = this.spawn(`router-${i}`, binary('vc-router'), ['--listen', url, '--redis-url', this.redisUrl]);
    p.url = url;
    await p.waitLine(/: ready\b/);
    this.routers.push(p);
    return p;
  }

  // Starts worker w<i>, gathering only on 127.0.0.1, with its own port range.
  async startWorker(i = this.workers.length + 1, extra = []) {
    const id = `w${i}`;
    const url = `ipc://${this.dir}/worker-${i}.ipc`;
    const portMin = 40000 + i * 1000;
    const p = this.spawn(`worker-${i}`, binary('vc-worker'), [
      '--id', id, '--cpu', '-1', '--control-url', url, '--redis-url', this.redisUrl,
      '--ice-addresses', '127.0.0.1', '--port-min', String(portMin), '--port-max', String(portMin + 999),
      ...extra]);
    p.id = id;
    p.url = url;
    p.portMin = portMin;
    p.portMax = portMin + 999;
    await p.waitLine(/: ready\b/);
    await poll(async () => (await this.redisCli('EXISTS', `vc:worker:${id}`)) === '1',
      { what: `vc:worker:${id} in Redis`, timeout: 5000 });
    this.workers.push(p);
    return p;
  }

  async startEdge(i = this.edges.length + 1, extra = []) {
    const port = 18000 + i;
    const events = `ipc://${this.dir}/edge-${i}.ipc`;
    const p = this.spawn(`edge-${i}`, binary('vc-edge'), [
      '--id', `edge-${i}`, '--http-addr', '127.0.0.1', '--http-port', String(port),
      '--router-url', this.routers.map((r) => r.url).join(','), '--events-url', events,
      '--ui-dir', path.join(ROOT, 'ui', 'dist'), '--jwt-secret', this.jwtSecret, ...extra]);
    p.port = port;
    p.base = `http://127.0.0.1:${port}`;
    p.wsUrl = `ws://127.0.0.1:${port}${WS_PATH}`;
    await p.waitLine(/: ready\b/);
    await poll(async () => (await fetch(`${p.base}/healthz`)).status === 200, { what: `${p.name} /healthz` });
    this.edges.push(p);
    return p;
  }

  // redis, one router, nWorkers workers, nEdges edges.
  async start({ workers = 2, edges = 2, workerArgs = [], edgeArgs = [] } = {}) {
    try {
      await this.startRedis();
      await this.startRouter();
      for (let i = 1; i <= workers; i++) await this.startWorker(i, workerArgs);
      for (let i = 1; i <= edges; i++) await this.startEdge(i, edgeArgs);
    } catch (e) {
      await this.stop();
      throw e;
    }
    return this;
  }

  // Stops everything: edges, workers, routers, then Redis. Returns the
  // problems found (a process that exited on its own, did not stop on
  // SIGTERM, exited non-zero, or logged a sanitizer report).
  async stop() {
    const problems = [];
    const order = [...this.edges, ...this.workers, ...this.routers, ...this.procs];
    const seen = new Set();
    for (const p of order) {
      if (seen.has(p)) continue;
      seen.add(p);
      const wasAlive = p.alive;
      const e = await p.kill('SIGTERM', 5000);
      if (!wasAlive && !p.expectedExit) problems.push(`${p.name} had exited by itself (code ${e.code}, signal ${e.signal})`);
      else if (p.stuck) problems.push(`${p.name} did not exit within 5 s of SIGTERM`);
      else if (wasAlive && !(e.code === 0 || e.signal === 'SIGTERM')) problems.push(`${p.name} exited with code ${e.code} signal ${e.signal} on SIGTERM`);
      for (const r of sanitizerReports(p.log)) problems.push(`${p.name}: ${r}`);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }

  // Which worker id hosts room (from Redis), or '' if none.
  roomWorker(room) { return this.redisCli('HGET', `vc:room:${room}`, 'worker'); }
}

// ---- HTTP ----------------------------------------------------------------

export async function createRoom(edge, body = { lobby: false }) {
  const r = await fetch(`${edge.base}/api/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`POST /api/rooms on ${edge.name}: ${r.status} ${text}`);
  return JSON.parse(text);
}

// Sends raw bytes on a TCP connection; collects the answer until the server
// closes or `timeout` passes. If chunks is an array, sends them one after the
// other with backpressure. stopOnAnswer: stop sending once an answer
// arrives. pauseAfterFirst: after the first chunk (the head), wait up to
// that many ms for an early answer before sending the rest.
export function rawHttp(port, chunks, { timeout = 5000, stopOnAnswer = true, pauseAfterFirst = 0 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let closed = false;
    let error = null;
    const timer = setTimeout(() => { sock.destroy(); done(); }, timeout);
    function done() {
      clearTimeout(timer);
      resolve({ data, text: data.toString('latin1'), closed, error });
    }
    sock.on('data', (b) => { data = Buffer.concat([data, b]); });
    sock.on('error', (e) => { error = e.code || e.message; });
    sock.on('close', () => { closed = true; done(); });
    sock.on('connect', async () => {
      const list = Array.isArray(chunks) ? chunks : [chunks];
      for (let i = 0; i < list.length; i++) {
        if ((stopOnAnswer && data.length > 0) || sock.destroyed) break;
        const ok = sock.write(list[i]);
        if (!ok) await new Promise((r) => { sock.once('drain', r); sock.once('close', r); });
        if (i === 0 && pauseAfterFirst > 0) {
          const end = Date.now() + pauseAfterFirst;
          while (Date.now() < end && data.length === 0 && !closed) await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
  });
}

export function statusOf(text) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}

// ---- WebSocket signaling client ------------------------------------------

// A signaling client: every received message is kept; next() takes the
// first not yet taken message that matches.
export class Client {
  constructor(edge, label = 'client') {
    this.edge = edge;
    this.label = label;
    this.msgs = [];
    this.taken = new Set();
    this.waiters = [];
    this.closed = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.edge.wsUrl, { origin: this.edge.base, handshakeTimeout: 5000 });
      this.ws = ws;
      ws.on('open', () => resolve(this));
      ws.on('error', (e) => { this.error = e; reject(e); });
      ws.on('message', (data, isBinary) => {
        let m;
        try { m = JSON.parse(data.toString('utf8')); } catch { m = { type: '<unparsable>', raw: data.toString('utf8'), binary: isBinary }; }
        m.__at = Date.now();
        this.msgs.push(m);
        this._wake();
      });
      ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; this._wake(); });
    });
  }

  static async connect(edge, label) { return new Client(edge, label).open(); }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  _find(pred) {
    for (let i = 0; i < this.msgs.length; i++) {
      if (!this.taken.has(i) && pred(this.msgs[i])) return i;
    }
    return -1;
  }

  _wake() {
    this.waiters = this.waiters.filter((w) => {
      const i = this._find(w.pred);
      if (i >= 0) {
        this.taken.add(i);
        clearTimeout(w.timer);
        w.resolve(this.msgs[i]);
        return false;
      }
      if (this.closed && !w.allowClosed) {
        clearTimeout(w.timer);
        w.reject(new Error(`${this.label}: connection closed (${this.closed.code} ${this.closed.reason}) while waiting for ${w.what}; got: ${this.summary()}`));
        return false;
      }
      return true;
    });
  }

  summary() {
    return this.msgs.map((m) => m.type + (m.type === 'error' ? `(${m.code} ${m.message})` : '')).join(', ') || 'nothing';
  }

  // Resolves with the next untaken message of `type` (and matching pred).
  next(type, opts = {}) { return this.nextOf([type], opts); }

  // Resolves with the next untaken message whose type is one of `types`.
  nextOf(types, { timeout = 5000, pred = () => true } = {}) {
    const what = types.map((t) => `'${t}'`).join(' or ');
    const p = (m) => types.includes(m.type) && pred(m);
    const i = this._find(p);
    if (i >= 0) { this.taken.add(i); return Promise.resolve(this.msgs[i]); }
    if (this.closed) return Promise.reject(new Error(`${this.label}: connection closed (${this.closed.code}) while waiting for ${what}; got: ${this.summary()}`));
    return new Promise((resolve, reject) => {
      const w = { pred: p, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.label}: no ${what} within ${timeout} ms; got: ${this.summary()}`));
      }, timeout);
      this.waiters.push(w);
    });
  }

  // Resolves when the server closes the connection (or rejects on timeout).
  waitClosed(timeout = 5000) {
    if (this.closed) return Promise.resolve(this.closed);
    return poll(() => this.closed, { timeout, what: `${this.label} to be closed` });
  }

  // join -> joined and the first offer. Returns {joined, offer}.
  async join(room, name = this.label, extra = {}) {
    this.send({ v: 1, type: 'join', room, name, ...extra });
    const joined = await this.nextOf(['joined', 'error'], { timeout: 8000 });
    if (joined.type === 'error') throw new Error(`${this.label}: join ${room} -> error ${joined.code} ${joined.name}: ${joined.message}`);
    this.joined = joined;
    this.participant = joined.participant;
    const offer = await this.next('offer', { timeout: 8000 });
    this.offer = offer;
    return { joined, offer };
  }

  close() {
    if (this.ws && this.ws.readyState <= 1) this.ws.terminate();
  }
}

// The participant id of a roster entry (objects carry it as `id` or `participant`).
export function participantId(p) {
  if (typeof p === 'string') return p;
  return p?.id ?? p?.participant ?? p?.participant_id;
}

// host candidates of an SDP: [{ip, port, protocol}]
export function candidatesOf(sdp) {
  const out = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=candidate:\S+ \d+ (\w+) \d+ (\S+) (\d+) typ (\w+)/.exec(line);
    if (m) out.push({ protocol: m[1].toLowerCase(), ip: m[2], port: Number(m[3]), type: m[4] });
  }
  return out;
}

// ---- raw WebSocket frames --------------------------------------------------

// Opens a TCP connection and performs the WebSocket upgrade by hand.
export function rawWebSocket(edge) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(edge.port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const state = { sock, data: Buffer.alloc(0), closed: false };
    sock.on('error', (e) => { state.error = e.code; if (!upgraded) reject(e); });
    sock.on('close', () => { state.closed = true; if (!upgraded) reject(new Error('closed during upgrade')); });
    sock.on('data', (b) => {
      if (upgraded) { state.data = Buffer.concat([state.data, b]); return; }
      buf = Buffer.concat([buf, b]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (statusOf(head) !== 101) { reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`)); sock.destroy(); return; }
      upgraded = true;
      state.data = buf.subarray(end + 4);
      resolve(state);
    });
    sock.on('connect', () => {
      sock.write(`GET ${WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${edge.port}\r\nOrigin: ${edge.base}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
  });
}

// Builds one frame. mask=false leaves out the client mask (a protocol error).
export function wsFrame(opcode, payload, { mask = true, fin = true } = {}) {
  const len = payload.length;
  let head;
  if (len < 126) { head = Buffer.alloc(2); head[1] = len; }
  else if (len < 65536) { head = Buffer.alloc(4); head[1] = 126; head.writeUInt16BE(len, 2); }
  else { head = Buffer.alloc(10); head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2); }
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}

// Parses server frames from bytes: [{opcode, payload}] (unmasked, as servers send).
export function parseFrames(data) {
  const out = [];
  let o = 0;
  while (o + 2 <= data.length) {
    const op = data[o] & 0x0f;
    let len = data[o + 1] & 0x7f;
    let h = 2;
    if (len === 126) { if (o + 4 > data.length) break; len = data.readUInt16BE(o + 2); h = 4; }
    else if (len === 127) { if (o + 10 > data.length) break; len = Number(data.readBigUInt64BE(o + 2)); h = 10; }
    if (data[o + 1] & 0x80) h += 4;
    if (o + h + len > data.length) break;
    out.push({ opcode: op, payload: data.subarray(o + h, o + h + len) });
    o += h + len;
  }
  return out;
}

// What the server did after bad frames: waits until it closes the TCP
// connection, sends a close frame, or sends a text message; returns
// {closeCode, texts, tcpClosed}.
export async function rawOutcome(state, timeout = 5000) {
  await poll(() => state.closed || parseFrames(state.data).some((f) => f.opcode === 8 || f.opcode === 1),
    { timeout, what: 'the edge to answer the bad frame (close frame, message, or closing the connection)' });
  // A close frame is followed by the TCP close; give it a moment.
  await poll(() => state.closed, { timeout: 2000 }).catch(() => {});
  const frames = parseFrames(state.data);
  const close = frames.find((f) => f.opcode === 8);
  return {
    closeCode: close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : null,
    texts: frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString('utf8')),
    tcpClosed: state.closed,
  };
}

// ---- credentials and the lobby ---------------------------------------------

// The host credential inside a POST /api/rooms answer's host_url.
export function hostToken(created) {
  return decodeURIComponent(/#host=([^&]+)/.exec(created.host_url)[1]);
}

// An HS256 JWT over claims, signed with secret (as the edges sign).
export function signJwt(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// Sends join and resolves with the first of joined / lobby_waiting / error
// (a `credential` before it is kept as client.credential).
export async function knock(client, room, name = client.label, extra = {}) {
  client.send({ v: 1, type: 'join', room, name, ...extra });
  const m = await client.nextOf(['joined', 'lobby_waiting', 'error'], { timeout: 8000 });
  const cred = client.msgs.find((x) => x.type === 'credential');
  if (cred) client.credential = cred.token;
  if (m.type === 'joined') { client.joined = m; client.participant = m.participant; }
  if (m.type === 'lobby_waiting') client.waiting = m;
  return m;
}
