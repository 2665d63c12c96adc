import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rosterApply, rosterFromJoined, rosterGet, rosterSetSelfMedia, type Roster } from '../src/lib/roster';
import type { ServerMsg } from '../src/lib/protocol';

const joined = (participants: { id: string; name: string; role: string; audio: boolean; video: boolean }[]): Extract<ServerMsg, { type: 'joined' }> => ({
  type: 'joined',
  session: 's',
  participant: 'me',
  room: 'r',
  role: 'guest',
  resume: 't',
  participants,
});
const P = (id: string, name = id) => ({ id, name, role: 'guest', audio: true, video: true });

test('self goes first; duplicates dropped', () => {
  const r = rosterFromJoined(joined([P('a'), P('me', 'Me'), P('a')]), 'Me', true, true);
  assert.deepEqual(r.list.map((p) => p.id), ['me', 'a']);
  assert.equal(r.self, 'me');
});

test('self added if the server omits it', () => {
  const r = rosterFromJoined(joined([P('a')]), 'Me', false, true);
  assert.deepEqual(r.list[0], { id: 'me', name: 'Me', role: 'guest', audio: false, video: true });
});

test('join, update, leave', () => {
  let r: Roster = rosterFromJoined(joined([P('me')]), 'me', true, true);
  r = rosterApply(r, { type: 'participant_joined', participant: P('b', 'Bob') });
  assert.deepEqual(r.list.map((p) => p.id), ['me', 'b']);
  r = rosterApply(r, { type: 'participant_joined', participant: { ...P('b', 'Bobby') } });
  assert.equal(r.list.length, 2, 'a repeated join replaces');
  assert.equal(rosterGet(r, 'b')?.name, 'Bobby');
  r = rosterApply(r, { type: 'participant_updated', participant: { id: 'b', video: false } });
  assert.deepEqual(rosterGet(r, 'b'), { id: 'b', name: 'Bobby', role: 'guest', audio: true, video: false });
  const same = rosterApply(r, { type: 'participant_updated', participant: { id: 'zz', audio: false } });
  assert.equal(same, r, 'unknown id: unchanged');
  r = rosterApply(r, { type: 'participant_left', participant: 'b' });
  assert.deepEqual(r.list.map((p) => p.id), ['me']);
  assert.equal(rosterApply(r, { type: 'participant_left', participant: 'me' }), r, 'self never leaves by event');
  assert.equal(rosterApply(r, { type: 'pong' }), r);
});

test('local media flags', () => {
  const r = rosterSetSelfMedia(rosterFromJoined(joined([P('me')]), 'me', true, true), false, true);
  assert.equal(rosterGet(r, 'me')?.audio, false);
  assert.equal(rosterGet(r, 'me')?.video, true);
});
