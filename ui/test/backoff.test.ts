import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../src/lib/backoff';

test('backoff doubles from 0.5 s and caps at 5 s', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a)),
    [500, 1000, 2000, 4000, 5000, 5000, 5000],
  );
});

test('backoff tolerates nonsense attempts', () => {
  assert.equal(backoffDelay(-3), 500);
  assert.equal(backoffDelay(NaN), 500);
  assert.equal(backoffDelay(1e9), 5000);
});
