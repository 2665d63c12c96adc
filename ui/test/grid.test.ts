import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGrid } from '../src/lib/grid';

/* 1 to 50 tiles fit inside a phone and a desktop stage, and every tile keeps a usable size. */
for (const [label, W, H] of [['phone', 374, 748], ['desktop', 1248, 688]] as const) {
  test(`grid fits 1..50 tiles at ${label} size`, () => {
    let prevArea = Infinity;
    for (let n = 1; n <= 50; n++) {
      const g = fitGrid(n, W, H, 16 / 9, 8);
      assert.ok(g.cols * g.rows >= n, `n=${n}: ${g.cols}x${g.rows} cells`);
      assert.ok(g.cols * g.tileW + (g.cols - 1) * 8 <= W + 0.5, `n=${n}: too wide`);
      assert.ok(g.rows * g.tileH + (g.rows - 1) * 8 <= H + 0.5, `n=${n}: too tall`);
      assert.ok(g.tileW >= 40, `n=${n}: tiles ${g.tileW} px wide`);
      const area = g.tileW * g.tileH;
      assert.ok(area <= prevArea + 0.5, `n=${n}: tiles grew with more people`);
      prevArea = area;
    }
  });
}
