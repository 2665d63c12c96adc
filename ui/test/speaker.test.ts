import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLD_MS, noSpeaker, pickSpeaker, THRESHOLD } from '../src/lib/speaker';
import { chatAppend, chatMarkFailed, checkChat, MAX_MESSAGES } from '../src/lib/chat';

const L = (o: Record<string, number>) => new Map(Object.entries(o));

test('speaker: loudest above the threshold', () => {
  assert.equal(pickSpeaker(noSpeaker, L({ a: THRESHOLD / 2 }), 0), noSpeaker);
  assert.equal(pickSpeaker(noSpeaker, L({ a: 0.1, b: 0.3 }), 0).id, 'b');
});

test('speaker: no flicker, hold through short pauses, then drop', () => {
  let s = pickSpeaker(noSpeaker, L({ a: 0.2 }), 0);
  assert.equal(s.id, 'a');
  s = pickSpeaker(s, L({ a: 0.2, b: 0.25 }), 100); /* b slightly louder: a keeps it */
  assert.equal(s.id, 'a');
  s = pickSpeaker(s, L({ a: 0.1, b: 0.3 }), 200); /* b clearly louder */
  assert.equal(s.id, 'b');
  s = pickSpeaker(s, L({}), 300);
  assert.equal(s.id, 'b');
  s = pickSpeaker(s, L({}), 200 + HOLD_MS + 1);
  assert.equal(s.id, null);
  s = pickSpeaker({ id: 'a', lastLoud: 0 }, L({ c: 0.05 }), 10); /* a silent, c speaks */
  assert.equal(s.id, 'c');
});

test('chat: append caps, failed marks, checks', () => {
  let list = [] as ReturnType<typeof chatAppend>;
  for (let i = 0; i < MAX_MESSAGES + 3; i++) list = chatAppend(list, { from: 'p', name: 'P', text: String(i), ts: i });
  assert.equal(list.length, MAX_MESSAGES);
  assert.equal(list[list.length - 1].text, String(MAX_MESSAGES + 2));
  const mine = chatAppend([], { from: 'me', name: 'Me', text: 'x', ts: 1, self: true });
  const failed = chatMarkFailed(mine);
  assert.equal(failed[0].failed, true);
  assert.equal(chatMarkFailed(failed), failed);
  assert.deepEqual(checkChat('  hi  '), { ok: true, text: 'hi' });
  assert.equal(checkChat('   ').ok, false);
  assert.equal(checkChat('x'.repeat(2001)).ok, false);
});
