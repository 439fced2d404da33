/**
 * Big dumps: the one-pass grid pool draws what shared/pool.ts poolToSize draws, and a progressive dump read hands
 * over the selected head first, then the grid so far, ends with the same model as a plain read, and stops
 * reading on Cancel.
 */
import * as assert from 'assert';
import { poolHeadInto, poolScratch, spans } from '../../src/core/view/gridPool';
import { poolToSize } from '../../src/shared/pool';
import { arrayDumpHandle, buildModelFromDump } from '../../src/core/view/model';
import type { DumpHandle, HeatmapModel } from '../../src/core/view/model';
import type { NdArray } from '../../src/core/ndarray';
import * as path from 'path';
import { loadBinary } from '../../src/loadPipeline';
import type { SourceEnv } from '../../src/loadPipeline';
import { DEFAULT_SETTINGS } from '../../src/core/settings';

/** Deterministic values in [0, 1) (a small LCG), rows normalised to sum 1 when `rowsSumToOne`. */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 32;
  }
  return out;
}

function pooledBoth(data: Float32Array, rows: number, cols: number, side: number): { fast: Float32Array; bad: number; ref: Float32Array } {
  const fast = new Float32Array(side * side);
  const bad = poolHeadInto(data, cols, spans(rows, side), spans(cols, side), fast, 0, poolScratch(side));
  const ref = poolToSize({ rows, cols, data }, side, side);
  return { fast, bad, ref };
}

describe('big dumps: one-pass grid pool', () => {
  it('equals poolToSize for non-negative, signed, masked and broken maps, sizes that do and do not divide', () => {
    for (const [rows, cols, side] of [[64, 64, 8], [100, 100, 42], [37, 53, 11], [5, 300, 16], [20, 20, 20]]) {
      const base = values(rows * cols, rows * 31 + cols);
      const signed = base.map((v, i) => (i % 3 === 0 ? -v * 2 : v));
      const masked = base.map((v, i) => (Math.floor(i / cols) < (i % cols) ? -Infinity : v - 0.5));
      const broken = base.slice();
      broken[3] = NaN; broken[cols + 7] = Infinity; broken[rows * cols - 1] = NaN;
      const allMaskedBlock = base.slice();
      for (let r = 0; r < rows; r++) for (let c = 0; c < Math.ceil(cols / side) + 1; c++) allMaskedBlock[r * cols + c] = r % 2 ? NaN : -Infinity;
      for (const [name, data] of Object.entries({ base, signed, masked, broken, allMaskedBlock })) {
        const { fast, ref } = pooledBoth(data, rows, cols, side);
        assert.deepStrictEqual(Array.from(fast), Array.from(ref), `${name} ${rows}×${cols} → ${side}`);
      }
      assert.strictEqual(pooledBoth(broken, rows, cols, side).bad, 3, 'NaN and +∞ counted once each');
    }
  });
});

/** A [L, H, n, n] dump in memory whose reads are counted (and optionally slow, to test Cancel mid-read). */
function countingDump(L: number, H: number, n: number): { handle: DumpHandle; reads: number[][]; array: NdArray } {
  const data = new Float32Array(L * H * n * n);
  const v = values(data.length, 7);
  for (let row = 0; row < L * H * n; row++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += v[row * n + c];
    for (let c = 0; c < n; c++) data[row * n + c] = v[row * n + c] / s;
  }
  const array: NdArray = { shape: [L, H, n, n], dtype: 'float32', data };
  const inner = arrayDumpHandle(array, '/tmp/counted.npy');
  const reads: number[][] = [];
  const handle: DumpHandle = { ref: inner.ref, info: inner.info, read: (index = []) => { reads.push([...index]); return inner.read(index); } };
  return { handle, reads, array };
}

describe('big dumps: progressive read', () => {
  it('reads the selected head first, hands over partials in order, and ends with the plain model', async () => {
    const { handle, reads } = countingDump(3, 4, 16);
    const plain = await buildModelFromDump(countingDump(3, 4, 16).handle, { layer: 1, head: 2 }, { cellSize: 8 });
    const partials: HeatmapModel[] = [];
    const final = await buildModelFromDump(handle, { layer: 1, head: 2 }, {
      cellSize: 8, progress: { onPartial: (m) => partials.push(m), everyMs: 0 },
    });
    assert.deepStrictEqual(reads[0], [1, 2], 'the selected head is read first');
    assert.strictEqual(reads.length, 12, 'every head read once');
    assert.ok(partials.length >= 2, `partials: ${partials.length}`);
    const filledCells = (m: HeatmapModel) => {
      const g = m.grid!;
      let filled = 0;
      for (let c = 0; c < g.layers * g.heads; c++) if (!Number.isNaN(g.cells[c * g.cellSize * g.cellSize])) filled++;
      return filled;
    };
    assert.strictEqual(filledCells(partials[0]), 1, 'first partial: the selected head only');
    for (let i = 1; i < partials.length; i++) assert.ok(filledCells(partials[i]) > filledCells(partials[i - 1]), 'the grid only fills');
    assert.deepStrictEqual(partials[0].kinds.weights!.data, plain.kinds.weights!.data, 'the first partial shows the selected head');
    assert.deepStrictEqual(partials[0].grid!.extras, [], 'no aggregates before every head is in');
    assert.match(partials[0].warnings.join('\n'), /1 of 12 heads read/);
    assert.deepStrictEqual(final, plain, 'the final model equals a plain read');
  });

  it('stops reading when cancelled and keeps the partial grid with a note', async () => {
    const { handle, reads } = countingDump(4, 4, 8);
    const abort = new AbortController();
    const final = await buildModelFromDump(handle, { layer: 0, head: 0 }, {
      cellSize: 8,
      progress: {
        onPartial: () => undefined, everyMs: 0,
        run: (work) => work(abort.signal, (fraction) => { if (fraction >= 5 / 16) abort.abort(); }),
      },
    });
    assert.strictEqual(reads.length, 5, `reads after Cancel: ${reads.length}`);
    assert.match(final.warnings.join('\n'), /stopped after 5 of 16 heads \(cancelled\)/);
    assert.strictEqual(final.kinds.headMean, undefined);
    assert.ok(Number.isNaN(final.grid!.cells[15 * 64]), 'an unread head stays empty');
  });
});

describe('big dumps: the load pipeline', () => {
  const file = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'realdata', 'dumps', 'named_axes.safetensors');

  it('loads a dump above progressiveBytes progressively under runLong, and ends with the one-shot model', async () => {
    const titles: string[] = [];
    const env: SourceEnv = {
      settings: () => DEFAULT_SETTINGS, progressiveBytes: 0,
      runLong: (title, work) => { titles.push(title); return work(new AbortController().signal, () => undefined); },
    };
    const partials: HeatmapModel[] = [];
    const sel = { layer: 1, head: 1, extra: [1] };
    const final = await loadBinary(file, 'run', sel, env, undefined, (m) => partials.push(m));
    const oneShot = await loadBinary(file, 'run', sel, { settings: () => DEFAULT_SETTINGS });
    assert.deepStrictEqual(titles, ['Reading run · attentions (2 × 2 heads)']);
    assert.ok(partials.length >= 1);
    assert.strictEqual(partials[0].title, 'run · attentions');
    assert.deepStrictEqual(partials[0].kinds[partials[0].defaultKind]!.data, oneShot.kinds[oneShot.defaultKind]!.data);
    assert.deepStrictEqual(partials[0].selection, oneShot.selection);
    assert.deepStrictEqual(final, oneShot);
  });

  it('loads a small dump as one model (no partials, no progress notification)', async () => {
    let runs = 0;
    const env: SourceEnv = { settings: () => DEFAULT_SETTINGS, runLong: (_t, work) => { runs++; return work(new AbortController().signal, () => undefined); } };
    let partials = 0;
    await loadBinary(file, 'run', undefined, env, undefined, () => { partials++; });
    assert.strictEqual(partials, 0);
    assert.strictEqual(runs, 0);
  });
});
