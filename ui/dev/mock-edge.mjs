// A stand-in for vc-edge for UI work without the cluster: serves ui/dist for
// / and /r/<room>, the rooms API, and a /ws that joins you into a room of
// fake participants (no media: it never sends an offer).
//   node dev/mock-edge.mjs [port]     (default 8090)
// Rooms: any room created with POST /api/rooms, plus "abc-defg-hij";
// "many-<N>" has N-1 fake participants; "drop-<x>" drops the WebSocket 3 s
// after joining (then accepts the resume); "gone-<x>" answers every resume
// with session_not_found; "end-<x>" sends closed 2004 after 3 s.
// Issue 3/4 flows: "lobby-<x>" has a lobby (guests wait 2.5 s, then are let
// in); a host in any room sees two knocks after 2 s (the second removed
// before); host actions are answered; "chat-<x>" echoes chat (elsewhere chat
// is unknown_type, as on today's server); "muteme-<x>" mutes you after 3 s
// and asks you to unmute after 5 s; "screen-<x>" has a presenter.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const port = Number(process.argv[2] || 8090);
const rooms = new Set(['abc-defg-hij']);
const sessions = new Map();
const types = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html' };
const idOk = (s) => /^[A-Za-z0-9_-]{1,64}$/.test(s);
const known = (r) => rooms.has(r) || /^(many-\d+|drop-|gone-|end-|lobby-|chat-|muteme-|screen-)/.test(r);
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Linus', 'Margaret Hamilton', 'Dennis Ritchie', 'Barbara Liskov', 'Ken Thompson', 'Radia Perlman'];

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (req.method === 'POST' && path === '/api/rooms') {
    const room = [3, 4, 3].map((n) => Array.from(randomBytes(n), (b) => 'abcdefghijkmnpqrstuvwxyz'[b % 24]).join('')).join('-');
    rooms.add(room);
    return json(res, 201, { room, url: '/r/' + room, host_url: '/r/' + room + '#host=mock.jwt.' + room, lobby: false });
  }
  let m = /^\/api\/rooms\/([^/]+)$/.exec(path);
  if (m) {
    if (!idOk(m[1]) || !known(m[1])) return json(res, 404, { error: { code: 2000, name: 'room_not_found', message: 'This meeting does not exist.' } });
    return json(res, 200, { room: m[1], lobby: m[1].startsWith('lobby-') });
  }
  let file = null;
  if (path === '/' || /^\/r\/[A-Za-z0-9_-]{1,64}$/.test(path)) file = 'index.html';
  else if ((m = /^\/assets\/([A-Za-z0-9._-]+)$/.exec(path))) file = 'assets/' + m[1];
  if (!file) return json(res, 404, { error: { code: 1020, name: 'bad_http', message: 'no such path' } });
  try {
    const body = await readFile(join(dist, file));
    res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(body);
  } catch {
    json(res, 404, { error: { code: 1020, name: 'bad_http', message: 'no such file' } });
  }
});

function frame(text) {
  const p = Buffer.from(text);
  const head = p.length < 126 ? Buffer.from([0x81, p.length]) : p.length < 65536 ? Buffer.from([0x81, 126, p.length >> 8, p.length & 255]) : null;
  return Buffer.concat([head, p]);
}

server.on('upgrade', (req, sock) => {
  if (new URL(req.url, 'http://x').pathname !== '/ws') return sock.destroy();
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const send = (o) => sock.writable && sock.write(frame(JSON.stringify({ v: 1, ...o })));
  let buf = Buffer.alloc(0);
  const timers = [];
  let room = '';
  let cur = null;
  sock.on('close', () => timers.forEach(clearTimeout));
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0] & 15;
      let len = buf[1] & 127, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) return sock.destroy();
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const p = Buffer.from(buf.subarray(off + 4, off + 4 + len)).map((b, i) => b ^ mask[i % 4]);
      buf = buf.subarray(off + 4 + len);
      if (op === 8) { sock.end(Buffer.from([0x88, 0])); return; }
      if (op === 1) onMsg(JSON.parse(p.toString()));
    }
  });
  function onMsg(m) {
    console.log('<-', JSON.stringify(m).slice(0, 160));
    if (m.type === 'ping') return send({ type: 'pong' });
    if (m.type === 'chat') {
      if (!room.startsWith('chat-')) return send({ type: 'error', code: 1002, name: 'unknown_type', message: 'The message type is unknown.', ref: 'chat' });
      return timers.push(setTimeout(() => send({ type: 'chat', from: 'p2', name: NAMES[0], text: 'Echo: ' + m.text, ts: Date.now() }), 800));
    }
    const who = (id) => cur && cur.others.find((p) => p.id === id);
    if (m.type === 'admit' || m.type === 'deny') {
      send({ type: 'lobby_left', participant: m.participant, reason: m.type === 'admit' ? 'admitted' : 'denied' });
      if (m.type === 'admit') send({ type: 'participant_joined', participant: { id: m.participant, name: 'Admitted ' + m.participant, role: 'guest', audio: true, video: false } });
      return;
    }
    if (m.type === 'admit_all') return ['g1', 'g2'].forEach((id) => send({ type: 'lobby_left', participant: id, reason: 'admitted' }));
    if (m.type === 'set_lobby') return send({ type: 'room_updated', lobby_enabled: m.enabled });
    if (m.type === 'mute' && who(m.participant)) { who(m.participant).audio = false; return send({ type: 'participant_updated', participant: who(m.participant) }); }
    if (m.type === 'promote' && who(m.participant)) { who(m.participant).role = 'cohost'; return send({ type: 'participant_updated', participant: who(m.participant) }); }
    if (m.type === 'remove' && who(m.participant)) { cur.others = cur.others.filter((p) => p.id !== m.participant); return send({ type: 'participant_left', participant: m.participant }); }
    if (m.type === 'end') { send({ type: 'closed', code: 2004, reason: 'The meeting has ended.' }); return sock.end(); }
    if (m.type !== 'join') return;
    room = m.room;
    if (!known(m.room)) return send({ type: 'error', code: 2000, name: 'room_not_found', message: 'This meeting does not exist.', ref: 'join' });
    let s = m.resume && sessions.get(m.resume);
    if (m.resume && (!s || m.room.startsWith('gone-')))
      return send({ type: 'error', code: 2002, name: 'session_not_found', message: 'The session to resume is gone.', ref: 'join' });
    if (!s) {
      const n = /^many-(\d+)/.exec(m.room) ? Number(/^many-(\d+)/.exec(m.room)[1]) - 1 : 2;
      const others = Array.from({ length: n }, (_, i) => ({ id: 'p' + (i + 2), name: NAMES[i % NAMES.length] + (i >= NAMES.length ? ' ' + (i + 1) : ''), role: 'guest', audio: i % 3 !== 1, video: i % 4 !== 2 }));
      s = { id: randomBytes(16).toString('hex'), me: { id: 'p1', name: m.name, role: m.token ? 'host' : 'guest', audio: true, video: true }, others };
      sessions.set(s.id, s);
    }
    cur = s;
    if (m.room.startsWith('lobby-') && !m.token && !s.admitted) {
      send({ type: 'credential', token: 'guest.' + s.id });
      send({ type: 'lobby_waiting', room: m.room });
      s.admitted = true;
      return timers.push(setTimeout(() => onMsg({ ...m, resume: s.id }), 2500));
    }
    if (m.room.startsWith('screen-')) s.others[0].screen = true;
    if (m.room.startsWith('muteme-')) {
      timers.push(setTimeout(() => send({ type: 'muted', kind: 'audio', by: 'p2' }), 3000));
      timers.push(setTimeout(() => send({ type: 'unmute_request', kind: 'audio', by: 'p2' }), 5000));
    }
    if (s.me.role === 'host') {
      timers.push(setTimeout(() => send({ type: 'lobby_request', participant: { id: 'g1', name: 'Knock Knock', removed_before: false } }), 2000));
      timers.push(setTimeout(() => send({ type: 'lobby_request', participant: { id: 'g2', name: 'Back Again', removed_before: true } }), 2600));
    }
    send({ type: 'joined', lobby_enabled: true, lobby: [], session: s.id, participant: s.me.id, room: m.room, role: s.me.role, resume: s.id, participants: [s.me, ...s.others] });
    if (m.room.startsWith('drop-') && !m.resume) timers.push(setTimeout(() => sock.destroy(), 3000));
    if (m.room.startsWith('end-')) timers.push(setTimeout(() => { send({ type: 'closed', code: 2004, reason: 'The host ended the meeting.' }); sock.end(); }, 3000));
    timers.push(setTimeout(() => send({ type: 'participant_joined', participant: { id: 'p99', name: 'Late Comer', role: 'guest', audio: false, video: false } }), 1500));
  }
});

server.listen(port, '127.0.0.1', () => console.log(`mock edge on http://127.0.0.1:${port}/`));
