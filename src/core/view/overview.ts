/**
 * The overview of one map as the webview is sent it (WireMatrix: pooled cells, value range, row max and entropy),
 * made once per map, kind and overview size and kept while the map lives. Made in steps of ~256K cells: the panel
 * makes it at once (serve.ts), and a big dump load makes its selected head's ahead of time between steps that let
 * the editor run (a 2048² head took 70–100 ms of the editor's thread in one piece).
 */
import type { WireMatrix } from '../../shared/protocol';
import { rowStats } from '../../shared/inspect';
import { blockSize, finiteRange, poolAccumulator, poolingNote, poolRowsInto } from '../../shared/pool';
import type { Pooled } from '../../shared/pool';
import type { Matrix2D, ViewKind } from '../../shared/types';

/** A model's maps are never changed in place once built, so an overview stays right for as long as its map lives. */
const made = new WeakMap<Matrix2D, Map<string, WireMatrix>>();

const STEP_CELLS = 1 << 18;

/** An array as it may go into a message: a view into a larger buffer is copied (VS Code sends whole buffers). */
export type ForPost = (a: Float32Array) => Float32Array;

const ownBuffer: ForPost = (a) => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice());

/** The steps of making the overview, with a yield between bands of rows; the same values however it is run. */
function* steps(m: Matrix2D, kind: ViewKind, overviewSize: number, forPost: ForPost): Generator<void, WireMatrix> {
  const band = Math.max(1, Math.floor(STEP_CELLS / Math.max(1, m.cols)));
  const rowsOf = (r0: number): Matrix2D => {
    const r1 = Math.min(m.rows, r0 + band);
    return { rows: r1 - r0, cols: m.cols, data: m.data.subarray(r0 * m.cols, r1 * m.cols) };
  };
  // One pass for the range also says whether the data is signed (pooled by magnitude, drawn diverging). Bands
  // combine as one pass would: the first strictly smaller (larger) value wins.
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (let r0 = 0; r0 < m.rows; r0 += band) {
    const part = finiteRange(rowsOf(r0).data);
    if (part.min < min) min = part.min;
    if (part.max > max) max = part.max;
    nonFinite += part.nonFinite;
    yield;
  }
  const signed = min < 0;
  // A map that fits is its own overview: no pooling pass and no copy (forPost copies only views).
  const fits = m.rows <= overviewSize && m.cols <= overviewSize;
  let p: Pooled;
  const br = blockSize(m.rows, overviewSize);
  const bc = blockSize(m.cols, overviewSize);
  if (fits) {
    p = { rows: m.rows, cols: m.cols, data: forPost(m.data), srcRows: m.rows, srcCols: m.cols, blockRows: 1, blockCols: 1 };
  } else if (br === 1 && bc === 1) {
    p = { rows: m.rows, cols: m.cols, data: m.data.slice(), srcRows: m.rows, srcCols: m.cols, blockRows: 1, blockCols: 1 };
  } else {
    const acc = poolAccumulator(m.rows, m.cols, overviewSize, signed);
    for (let r0 = 0; r0 < m.rows; r0 += band) {
      const part = rowsOf(r0);
      poolRowsInto(acc, part.data, r0, part.rows);
      yield;
    }
    const { mag: _mag, ...pooled } = acc;
    p = pooled;
  }
  const entropy = kind === 'weights';
  const rowMax = new Float32Array(m.rows);
  const rowEntropy = entropy ? new Float32Array(m.rows) : undefined;
  for (let r0 = 0; r0 < m.rows; r0 += band) {
    const part = rowStats(rowsOf(r0), entropy);
    rowMax.set(part.max, r0);
    if (rowEntropy && part.entropy) rowEntropy.set(part.entropy, r0);
    yield;
  }
  return {
    kind, rows: m.rows, cols: m.cols,
    overview: p.data, ovRows: p.rows, ovCols: p.cols, blockRows: p.blockRows, blockCols: p.blockCols,
    min, max, nonFinite, signed,
    poolingNote: poolingNote(p, signed),
    rowMax, rowEntropy,
  };
}

function remember(m: Matrix2D, key: string, w: WireMatrix): WireMatrix {
  let byKey = made.get(m);
  if (!byKey) made.set(m, (byKey = new Map()));
  byKey.set(key, w);
  return w;
}

/** The overview of `m` shown as `kind`, made now unless it was made before. */
export function wireMatrixOf(m: Matrix2D, kind: ViewKind, overviewSize: number, forPost: ForPost = ownBuffer): WireMatrix {
  const key = `${kind} ${overviewSize}`;
  const known = made.get(m)?.get(key);
  if (known) return known;
  const it = steps(m, kind, overviewSize, forPost);
  let r = it.next();
  while (!r.done) r = it.next();
  return remember(m, key, r.value);
}

/** Makes the overview ahead of time, yielding to the event loop between steps, for wireMatrixOf to find. */
export async function prepareWireMatrix(m: Matrix2D, kind: ViewKind, overviewSize: number): Promise<void> {
  const key = `${kind} ${overviewSize}`;
  if (made.get(m)?.has(key)) return;
  const it = steps(m, kind, overviewSize, ownBuffer);
  let r = it.next();
  while (!r.done) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    r = it.next();
  }
  remember(m, key, r.value);
}
