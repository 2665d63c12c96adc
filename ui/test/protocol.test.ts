import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateMsg, joinMsg, parseServerMessage } from '../src/lib/protocol';

test('joined parses with participants', () => {
  const m = parseServerMessage(
    JSON.stringify({
      v: 1,
      type: 'joined',
      session: 's1',
      participant: 'p1',
      room: 'r1',
      role: 'host',
      resume: 'tok',
      participants: [{ id: 'p1', name: 'A', role: 'host', audio: true, video: false }, { bogus: 1 }],
    }),
  );
  assert.deepEqual(m, {
    type: 'joined',
    session: 's1',
    participant: 'p1',
    room: 'r1',
    role: 'host',
    resume: 'tok',
    participants: [{ id: 'p1', name: 'A', role: 'host', audio: true, video: false }],
  });
});

test('offer keeps valid tracks', () => {
  const m = parseServerMessage('{"type":"offer","sdp":"v=0","tracks":[{"mid":"2","participant":"p2","kind":"audio"},{"mid":3}]}');
  assert.deepEqual(m, { type: 'offer', sdp: 'v=0', tracks: [{ mid: '2', participant: 'p2', kind: 'audio' }] });
});

test('roster events', () => {
  assert.deepEqual(parseServerMessage('{"type":"participant_left","participant":"p2"}'), { type: 'participant_left', participant: 'p2' });
  assert.deepEqual(parseServerMessage('{"type":"participant_updated","participant":{"id":"p2","audio":false}}'), {
    type: 'participant_updated',
    participant: { id: 'p2', audio: false },
  });
  assert.deepEqual(parseServerMessage('{"type":"participant_joined","participant":{"id":"p3","name":"C"}}'), {
    type: 'participant_joined',
    participant: { id: 'p3', name: 'C', role: 'guest', audio: false, video: false },
  });
});

test('error and closed', () => {
  assert.deepEqual(parseServerMessage('{"v":1,"type":"error","code":2002,"name":"session_not_found","message":"gone","ref":"join"}'), {
    type: 'error',
    code: 2002,
    name: 'session_not_found',
    message: 'gone',
    ref: 'join',
  });
  assert.deepEqual(parseServerMessage('{"type":"closed","code":2004,"reason":"ended"}'), { type: 'closed', code: 2004, reason: 'ended' });
});

test('garbage, unknown types and other versions are ignored', () => {
  for (const s of ['', 'nope', '[]', '{}', '{"type":5}', '{"type":"wat"}', '{"v":2,"type":"pong"}', '{"type":"offer"}', '{"type":"joined"}'])
    assert.equal(parseServerMessage(s), null, s);
});

test('client messages', () => {
  assert.deepEqual(joinMsg('r', 'n'), { v: 1, type: 'join', room: 'r', name: 'n' });
  assert.deepEqual(joinMsg('r', 'n', 'jwt', 'res'), { v: 1, type: 'join', room: 'r', name: 'n', token: 'jwt', resume: 'res' });
  assert.deepEqual(joinMsg('r', 'n', null, ''), { v: 1, type: 'join', room: 'r', name: 'n' });
  assert.deepEqual(candidateMsg(null), { v: 1, type: 'candidate', candidate: null });
  assert.deepEqual(candidateMsg({ candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0', sdpMLineIndex: 0 }), {
    v: 1,
    type: 'candidate',
    candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host',
    sdpMid: '0',
    sdpMLineIndex: 0,
  });
});
