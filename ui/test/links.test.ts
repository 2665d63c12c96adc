import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkName, initials, isValidId, meetingLink, parseMeetingInput, roomFromPath, takeHostToken } from '../src/lib/links';

const inputs: [string, string | null][] = [
  ['abc-defg-hij', 'abc-defg-hij'],
  ['  abc-defg-hij  ', 'abc-defg-hij'],
  ['https://meet.example.com/r/abc-defg-hij', 'abc-defg-hij'],
  ['http://localhost:8080/r/abc-defg-hij#host=xyz', 'abc-defg-hij'],
  ['localhost:8080/r/abc-defg-hij?x=1', 'abc-defg-hij'],
  ['/r/room_1', 'room_1'],
  ['abc defg hij', 'abc-defg-hij'],
  ['', null],
  ['   ', null],
  ['https://example.com/', null],
  ['abc/def', null],
  ['a'.repeat(65), null],
  ['<script>', null],
];
for (const [input, want] of inputs) {
  test(`parseMeetingInput(${JSON.stringify(input)})`, () => assert.equal(parseMeetingInput(input), want));
}

test('roomFromPath', () => {
  assert.equal(roomFromPath('/r/abc-defg-hij'), 'abc-defg-hij');
  assert.equal(roomFromPath('/r/abc/'), 'abc');
  assert.equal(roomFromPath('/'), null);
  assert.equal(roomFromPath('/r/'), null);
  assert.equal(roomFromPath('/r/a/b'), null);
  assert.equal(roomFromPath('/r/%E0%A4%A'), null);
  assert.equal(roomFromPath('/x/abc'), null);
});

test('isValidId', () => {
  assert.ok(isValidId('abc-DEF_09'));
  assert.ok(!isValidId(''));
  assert.ok(!isValidId('a b'));
  assert.ok(isValidId('a'.repeat(64)));
  assert.ok(!isValidId('a'.repeat(65)));
});

test('takeHostToken', () => {
  assert.deepEqual(takeHostToken('#host=eyJ.a.b'), { token: 'eyJ.a.b', rest: '' });
  assert.deepEqual(takeHostToken('#x=1&host=t0k&y=2'), { token: 't0k', rest: '#x=1&y=2' });
  assert.deepEqual(takeHostToken(''), { token: null, rest: '' });
  assert.deepEqual(takeHostToken('#'), { token: null, rest: '' });
  assert.deepEqual(takeHostToken('#other'), { token: null, rest: '#other' });
  assert.deepEqual(takeHostToken('#host='), { token: null, rest: '' });
});

test('meetingLink', () => {
  assert.equal(meetingLink('http://localhost:8080', 'abc'), 'http://localhost:8080/r/abc');
  assert.equal(meetingLink('https://x.y/', 'abc'), 'https://x.y/r/abc');
});

test('checkName', () => {
  assert.deepEqual(checkName('  Ada  '), { ok: true, name: 'Ada' });
  assert.equal(checkName('').ok, false);
  assert.equal(checkName('    ').ok, false);
  assert.equal(checkName('a\tb').ok, false);
  assert.equal(checkName('a\u007fb').ok, false);
  assert.equal(checkName('x'.repeat(64)).ok, true);
  assert.equal(checkName('x'.repeat(65)).ok, false);
  /* 22 x 3-byte characters = 66 bytes: too long although 22 characters. */
  assert.equal(checkName('€'.repeat(22)).ok, false);
  assert.equal(checkName('€'.repeat(21)).ok, true);
  assert.equal(checkName('Zoë 🎉').ok, true);
  assert.equal(checkName('bad \ud800 surrogate').ok, false);
});

test('initials', () => {
  assert.equal(initials('ada lovelace'), 'AL');
  assert.equal(initials('Grace'), 'G');
  assert.equal(initials('  '), '?');
  assert.equal(initials('élan vital'), 'ÉV');
});
