import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLobby, knockText, lobbyApply, lobbyDrop, lobbyFromJoined } from '../src/lib/lobby';
import { parseServerMessage, isHostRole, type ServerMsg } from '../src/lib/protocol';

const msg = (o: object): ServerMsg => {
  const m = parseServerMessage(JSON.stringify({ v: 1, ...o }));
  assert.ok(m, 'parsed ' + JSON.stringify(o));
  return m!;
};

test('protocol: issue-3 server messages parse', () => {
  assert.deepEqual(msg({ type: 'credential', token: 'abc' }), { type: 'credential', token: 'abc' });
  assert.equal(parseServerMessage('{"type":"credential","token":""}'), null);
  assert.deepEqual(msg({ type: 'lobby_waiting', room: 'r' }), { type: 'lobby_waiting', room: 'r' });
  assert.deepEqual(msg({ type: 'lobby_waiting', room: 'r', session: 's', resume: 'k' }), { type: 'lobby_waiting', room: 'r', resume: 'k' });
  assert.deepEqual(msg({ type: 'lobby_denied' }), { type: 'lobby_denied' });
  assert.deepEqual(msg({ type: 'lobby_request', participant: { id: 'g', name: 'Gus', removed_before: true } }), {
    type: 'lobby_request',
    participant: { id: 'g', name: 'Gus', removedBefore: true },
  });
  assert.deepEqual(msg({ type: 'lobby_left', participant: 'g', reason: 'admitted' }), { type: 'lobby_left', participant: 'g', reason: 'admitted' });
  assert.deepEqual(msg({ type: 'room_updated', lobby_enabled: false }), { type: 'room_updated', lobbyEnabled: false });
  assert.deepEqual(msg({ type: 'muted', kind: 'audio', by: 'h' }), { type: 'muted', kind: 'audio', by: 'h' });
  assert.equal(parseServerMessage('{"type":"muted","kind":"screen"}'), null);
  assert.deepEqual(msg({ type: 'unmute_request', kind: 'video', by: 'h' }), { type: 'unmute_request', kind: 'video', by: 'h' });
  assert.deepEqual(msg({ type: 'chat', from: 'p', name: 'P', text: 'hi', ts: 5 }), { type: 'chat', from: 'p', name: 'P', text: 'hi', ts: 5 });
  assert.deepEqual(msg({ type: 'active_speaker', participant: 'p' }), { type: 'active_speaker', participant: 'p' });
  const j = msg({ type: 'joined', session: 's', participant: 'p', room: 'r', role: 'cohost', resume: 's', participants: [{ id: 'p', name: 'P', screen: true }], lobby_enabled: false, lobby: [{ id: 'g', name: 'G' }, 7] });
  assert.equal(j.type, 'joined');
  if (j.type === 'joined') {
    assert.equal(j.lobbyEnabled, false);
    assert.deepEqual(j.lobby, [{ id: 'g', name: 'G', removedBefore: false }]);
    assert.equal(j.participants[0].screen, true);
  }
  assert.ok(isHostRole('host') && isHostRole('cohost') && !isHostRole('guest'));
});

test('lobby: requests, replace, leave, room_updated', () => {
  let s = emptyLobby;
  s = lobbyApply(s, msg({ type: 'lobby_request', participant: { id: 'a', name: 'Ada' } }));
  s = lobbyApply(s, msg({ type: 'lobby_request', participant: { id: 'b', name: 'Bob' } }));
  s = lobbyApply(s, msg({ type: 'lobby_request', participant: { id: 'a', name: 'Ada', removed_before: true } }));
  assert.deepEqual(s.waiting.map((e) => [e.id, e.removedBefore]), [['a', true], ['b', false]]);
  const same = lobbyApply(s, msg({ type: 'lobby_left', participant: 'zzz', reason: 'left' }));
  assert.equal(same, s);
  s = lobbyApply(s, msg({ type: 'lobby_left', participant: 'a', reason: 'admitted' }));
  assert.deepEqual(s.waiting.map((e) => e.id), ['b']);
  s = lobbyApply(s, msg({ type: 'room_updated', lobby_enabled: false }));
  assert.equal(s.enabled, false);
  assert.deepEqual(lobbyDrop(s, null).waiting, []);
  assert.equal(lobbyDrop(s, 'x'), s);
});

test('lobby: joined replaces the list, keeps the flag if absent', () => {
  const j = msg({ type: 'joined', session: 's', participant: 'p', room: 'r', resume: 's', participants: [], lobby: [{ id: 'a', name: 'A' }, { id: 'a', name: 'A' }] });
  if (j.type !== 'joined') throw new Error('not joined');
  const s = lobbyFromJoined({ enabled: false, waiting: [{ id: 'old', name: 'O', removedBefore: false }] }, j);
  assert.deepEqual(s, { enabled: false, waiting: [{ id: 'a', name: 'A', removedBefore: false }] });
});

test('knock texts', () => {
  const E = (name: string) => ({ id: name, name, removedBefore: false });
  assert.equal(knockText([]), '');
  assert.equal(knockText([E('Ada')]), 'Ada wants to join');
  assert.equal(knockText([E('Ada'), E('Bob')]), 'Ada and Bob want to join');
  assert.equal(knockText([E('Ada'), E('Bob'), E('Cy')]), 'Ada and 2 others want to join');
});
