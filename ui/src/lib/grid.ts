/* grid: how many columns fit n tiles best in a box. Pure. */

export interface GridFit {
  cols: number;
  rows: number;
  tileW: number;
  tileH: number;
}

/* Chooses the column count that makes tiles (of the given aspect ratio)
 * largest inside width x height with gap pixels between them. */
export function fitGrid(n: number, width: number, height: number, aspect = 16 / 9, gap = 8): GridFit {
  const count = Math.max(1, Math.floor(n));
  const W = Math.max(1, width);
  const H = Math.max(1, height);
  let best: GridFit = { cols: 1, rows: count, tileW: 0, tileH: 0 };
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const cellW = (W - gap * (cols - 1)) / cols;
    const cellH = (H - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const tileW = Math.min(cellW, cellH * aspect);
    if (tileW > best.tileW + 0.01) best = { cols, rows, tileW, tileH: tileW / aspect };
  }
  if (best.tileW === 0) best = { cols: 1, rows: count, tileW: 1, tileH: 1 / aspect };
  return best;
}
