import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveConnState } from '../src/lib/connstate';
import { fitGrid } from '../src/lib/grid';
import { createStore } from '../src/lib/store';
import { publishDirection, tracksByParticipant } from '../src/lib/tracks';

test('connection state', () => {
  assert.equal(deriveConnState('connecting', 'none', false), 'connecting');
  assert.equal(deriveConnState('joined', 'connecting', false), 'connecting');
  assert.equal(deriveConnState('joined', 'connected', false), 'connected');
  assert.equal(deriveConnState('reconnecting', 'connected', false), 'reconnecting');
  assert.equal(deriveConnState('joined', 'connected', true), 'failed');
  assert.equal(deriveConnState('connecting', 'failed', true), 'failed');
});

test('grid: one tile fills the box', () => {
  const g = fitGrid(1, 1600, 900, 16 / 9, 0);
  assert.deepEqual([g.cols, g.rows, Math.round(g.tileW)], [1, 1, 1600]);
});

test('grid: four tiles in a wide box make 2x2', () => {
  const g = fitGrid(4, 1280, 720);
  assert.deepEqual([g.cols, g.rows], [2, 2]);
});

test('grid: 1..50 tiles always fit inside the box', () => {
  for (const [W, H] of [[1280, 640], [390, 700], [1920, 1000]]) {
    for (let n = 1; n <= 50; n++) {
      const g = fitGrid(n, W, H);
      assert.ok(g.cols * g.rows >= n, `n=${n}`);
      assert.ok(g.cols * g.tileW + (g.cols - 1) * 8 <= W + 0.5, `width n=${n}`);
      assert.ok(g.rows * g.tileH + (g.rows - 1) * 8 <= H + 0.5, `height n=${n}`);
      assert.ok(g.tileW > 0);
    }
  }
});

test('tracks by participant from the offer map', () => {
  const map = [
    { mid: '2', participant: 'b', kind: 'audio' },
    { mid: '3', participant: 'b', kind: 'video' },
    { mid: '4', participant: 'c', kind: 'audio' },
  ];
  const slots = [
    { mid: '0', direction: 'sendonly', track: 'my-audio' },
    { mid: '1', direction: 'inactive', track: 'my-video' },
    { mid: '2', direction: 'recvonly', track: 'b-a' },
    { mid: '3', direction: 'recvonly', track: 'b-v' },
    { mid: '4', direction: 'inactive', track: 'c-a-old' },
    { mid: '5', direction: 'recvonly', track: 'd-v', streamId: 'd' },
    { mid: '6', direction: 'recvonly', track: 'nobody' },
    { mid: null, direction: null, track: 'pending' },
  ];
  const got = tracksByParticipant(map, slots);
  assert.deepEqual(Object.fromEntries(got), { b: ['b-a', 'b-v'], d: ['d-v'] });
  assert.equal(publishDirection(true), 'sendonly');
  assert.equal(publishDirection(false), 'inactive');
});

test('store notifies on change only', () => {
  const s = createStore({ a: 1, b: 'x' });
  const seen: number[] = [];
  const off = s.subscribe((st, prev) => seen.push(st.a * 10 + prev.a));
  s.set({ a: 1 });
  s.set({ a: 2 });
  s.set((st) => ({ a: st.a + 1 }));
  off();
  s.set({ a: 9 });
  assert.deepEqual(seen, [21, 32]);
  assert.equal(s.get().a, 9);
});
