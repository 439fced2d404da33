/**
 * The panel's overview of a map (overview.ts): made in bands of rows with yields between them, it equals the
 * one-piece reference (maxPool, finiteRange, rowStats over the whole map), and a big dump load makes the selected
 * head's ahead of time, so serving its models finds it made.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepareWireMatrix, wireMatrixOf } from '../../src/core/view/overview';
import { finiteRange, maxPool, poolingNote } from '../../src/shared/pool';
import { rowStats } from '../../src/shared/inspect';
import type { Matrix2D, ViewKind } from '../../src/shared/types';
import { encodeNpy } from '../../src/core/npyWrite';
import { loadBinary } from '../../src/loadPipeline';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { serverFor } from '../../src/core/view/streamServe';
import { disposeComputePool } from '../../src/core/compute/fast';
import type { HeatmapModel } from '../../src/shared/types';

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 32;
  }
  return out;
}

/** What the panel sent before overview.ts: the whole map in one piece. */
function reference(m: Matrix2D, kind: ViewKind, size: number) {
  const range = finiteRange(m.data);
  const signed = range.min < 0;
  const fits = m.rows <= size && m.cols <= size;
  const p = fits ? { rows: m.rows, cols: m.cols, data: m.data, srcRows: m.rows, srcCols: m.cols, blockRows: 1, blockCols: 1 } : maxPool(m, size, signed);
  const stats = rowStats(m, kind === 'weights');
  return {
    kind, rows: m.rows, cols: m.cols, overview: p.data, ovRows: p.rows, ovCols: p.cols, blockRows: p.blockRows, blockCols: p.blockCols,
    min: range.min, max: range.max, nonFinite: range.nonFinite, signed, poolingNote: poolingNote(p, signed), rowMax: stats.max, rowEntropy: stats.entropy,
  };
}

describe('view: the overview made in steps', () => {
  it('equals the one-piece overview: weights, signed and masked, broken, sizes that do and do not divide, a map that fits', async () => {
    const [rows, cols] = [700, 530]; // 371K cells: two bands of rows
    const base = values(rows * cols, 5);
    const weights = base.map((v) => v / cols);
    const signed = base.map((v, i) => (Math.floor(i / cols) < i % cols ? -Infinity : v - 0.6));
    const broken = base.slice();
    broken[7] = NaN; broken[cols * 400 + 3] = Infinity; broken[rows * cols - 1] = -Infinity;
    for (const [name, data, kind] of [['weights', weights, 'weights'], ['signed', signed, 'scores'], ['broken', broken, 'data']] as const) {
      for (const size of [64, 100, 1024]) {
        const m: Matrix2D = { rows, cols, data };
        await prepareWireMatrix(m, kind, size);
        const made = wireMatrixOf(m, kind, size);
        assert.deepStrictEqual({ ...made }, reference(m, kind, size), `${name} → ${size}`);
        assert.strictEqual(wireMatrixOf(m, kind, size), made, 'made once, then found');
        // Made at once (no prepare) gives the same.
        assert.deepStrictEqual({ ...wireMatrixOf({ rows, cols, data }, kind, size) }, { ...made }, `${name} → ${size}, at once`);
      }
    }
  });

  it('a big dump load has the selected head\'s overview made before its first model is heard', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-overview-'));
    try {
      const n = 600;
      const data = values(2 * 3 * n * n, 9);
      for (let r = 0; r < 2 * 3 * n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += data[r * n + c];
        for (let c = 0; c < n; c++) data[r * n + c] /= s;
      }
      const file = path.join(dir, 'd.npy');
      fs.writeFileSync(file, encodeNpy({ shape: [2, 3, n, n], dtype: 'float32', data }));
      const settings = { ...DEFAULT_SETTINGS, overviewSize: 256 };
      for (const poolBytes of [0, Infinity]) {
        const heard: HeatmapModel[] = [];
        const final = await loadBinary(file, 'd', { layer: 1, head: 2 }, { settings: () => settings, progressiveBytes: 0, poolBytes }, undefined, (m) => heard.push(m));
        for (const m of [...heard, final]) {
          const shown = m.kinds[m.defaultKind]!;
          assert.strictEqual(shown, final.kinds[final.defaultKind], 'every model shares the shown head\'s map');
          const before = wireMatrixOf(shown, m.defaultKind, 256);
          const s = serverFor(m, { overviewSize: 256 });
          assert.strictEqual(s.wireMatrix(m.defaultKind), before, 'the panel finds the overview made');
          assert.deepStrictEqual({ ...before }, reference(shown, m.defaultKind, 256));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      disposeComputePool();
    }
  });
});
