import * as assert from 'assert';
import { blockSize, finiteRange, maxPool, poolingNote, poolToSize, sliceRegion } from '../../src/shared/pool';
import { rowStats } from '../../src/shared/inspect';
import { closeTo, viewFixtures } from './view-fixtures';

describe('view: max-pooling overviews', () => {
  it('pools a 37×23 matrix to 8×8 blocks of 5×3 exactly as NumPy does, keeping the sharp peak', () => {
    const f = viewFixtures().pool;
    const p = maxPool({ rows: f.rows, cols: f.cols, data: Float32Array.from(f.data) }, f.maxSide);
    assert.deepStrictEqual([p.rows, p.cols, p.blockRows, p.blockCols], [8, 8, f.blockRows, f.blockCols]);
    assert.deepStrictEqual(Array.from(p.data), f.expected);
    // The 0.9 peak at (17, 11) lands in block (3, 3).
    assert.strictEqual(p.data[3 * 8 + 3], Math.fround(0.9));
  });

  it('pools signed data by largest magnitude so a strong negative score survives', () => {
    const f = viewFixtures().poolSigned;
    const p = maxPool({ rows: f.rows, cols: f.cols, data: Float32Array.from(f.data) }, f.maxSide);
    assert.deepStrictEqual([p.blockRows, p.blockCols], [f.blockRows, f.blockCols]);
    assert.deepStrictEqual(Array.from(p.data), f.expected);
    assert.ok(Array.from(p.data).includes(-5));
  });

  it('says what the overview is: "4096×4096 shown as 512×512, max of 8×8 blocks"', () => {
    assert.strictEqual(blockSize(4096, 512), 8);
    const p = { rows: 512, cols: 512, data: new Float32Array(0), srcRows: 4096, srcCols: 4096, blockRows: 8, blockCols: 8 };
    assert.strictEqual(poolingNote(p, false), '4096×4096 shown as 512×512, max of 8×8 blocks');
    assert.strictEqual(poolingNote({ ...p, blockRows: 1, blockCols: 1 }, false), undefined);
  });

  it('keeps full resolution (a copy) when the matrix already fits', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const p = maxPool({ rows: 2, cols: 3, data }, 512);
    assert.deepStrictEqual([p.blockRows, p.blockCols, p.rows, p.cols], [1, 1, 2, 3]);
    assert.deepStrictEqual(Array.from(p.data), [1, 2, 3, 4, 5, 6]);
    assert.notStrictEqual(p.data.buffer, data.buffer);
  });

  it('ignores masked −∞ cells unless a whole block is masked', () => {
    const m = { rows: 2, cols: 4, data: Float32Array.from([0.5, -Infinity, -Infinity, -Infinity, 0.25, 0.75, -Infinity, -Infinity]) };
    const p = maxPool(m, 2);
    // Blocks of 1×2: (0.5, −∞) → 0.5, (−∞, −∞) → −∞ (wholly masked), (0.25, 0.75) → 0.75.
    assert.deepStrictEqual([p.blockRows, p.blockCols], [1, 2]);
    assert.deepStrictEqual(Array.from(p.data), [0.5, -Infinity, 0.75, -Infinity]);
    assert.deepStrictEqual(finiteRange(m.data), { min: 0.25, max: 0.75, nonFinite: 5 });
  });

  it('pools or upsamples to an exact size for grid cells', () => {
    const m = { rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4]) };
    assert.deepStrictEqual(Array.from(poolToSize(m, 4, 4)), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const f = viewFixtures().pool;
    const g = poolToSize({ rows: f.rows, cols: f.cols, data: Float32Array.from(f.data) }, 1, 1);
    assert.deepStrictEqual(Array.from(g), [Math.fround(0.9)]);
  });

  it('slices a region into an owning buffer', () => {
    const m = { rows: 3, cols: 3, data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]) };
    const t = sliceRegion(m, 1, 1, 2, 2);
    assert.deepStrictEqual(Array.from(t), [4, 5, 7, 8]);
    assert.strictEqual(t.buffer.byteLength, 16);
  });

  it('computes per-row max and entropy in bits as NumPy does', () => {
    const f = viewFixtures().dump;
    const n = f.shape[2];
    const { layer, head } = f.selected;
    const start = (layer * f.shape[1] + head) * n * n;
    const m = { rows: n, cols: n, data: Float32Array.from(f.data.slice(start, start + n * n)) };
    const s = rowStats(m, true);
    closeTo(s.entropy as Float32Array, f.rowEntropyBits, 1e-5, 'entropy');
    for (let r = 0; r < n; r++) assert.strictEqual(s.max[r], Math.max(...m.data.subarray(r * n, (r + 1) * n)));
  });
});
