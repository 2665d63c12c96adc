import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyClosed, classifyError, Err, errorText, errorTitle } from '../src/lib/errors';

const cases: [string, number, string | undefined, string][] = [
  ['room_not_found is fatal', Err.ROOM_NOT_FOUND, 'join', 'fatal'],
  ['room_lost is fatal', Err.ROOM_LOST, undefined, 'fatal'],
  ['room_ended is fatal', Err.ROOM_ENDED, undefined, 'fatal'],
  ['unauthorized is fatal', Err.UNAUTHORIZED, 'join', 'fatal'],
  ['token_expired is fatal', Err.TOKEN_EXPIRED, 'join', 'fatal'],
  ['session_not_found joins fresh', Err.SESSION_NOT_FOUND, 'join', 'fresh-join'],
  ['no_worker on join retries', Err.NO_WORKER, 'join', 'retry'],
  ['timeout on join retries', Err.TIMEOUT, 'join', 'retry'],
  ['room_full on join is fatal', Err.ROOM_FULL, 'join', 'fatal'],
  ['bad_sdp on answer is a toast', Err.BAD_SDP, 'answer', 'toast'],
  ['rate_limited is a toast', Err.RATE_LIMITED, 'media_state', 'toast'],
  ['internal without ref is a toast', Err.INTERNAL, undefined, 'toast'],
];
for (const [name, code, ref, want] of cases) test(name, () => assert.equal(classifyError(code, ref), want));

test('texts are for people', () => {
  assert.equal(errorTitle(Err.ROOM_NOT_FOUND), 'Meeting not found');
  assert.equal(errorTitle(4242), 'Something went wrong');
  assert.equal(errorText(4242, 'Custom detail.'), 'Custom detail.');
  assert.equal(errorText(4242), 'Something went wrong.');
  assert.ok(errorText(Err.ROOM_FULL).length > 10);
});

test('closed: 5xxx rejoins, the rest ends the call', () => {
  assert.equal(classifyClosed(Err.UNAVAILABLE), 'rejoin');
  assert.equal(classifyClosed(Err.INTERNAL), 'rejoin');
  assert.equal(classifyClosed(Err.ROOM_ENDED), 'end');
  assert.equal(classifyClosed(Err.FORBIDDEN), 'end');
  assert.equal(classifyClosed(0), 'end');
});
