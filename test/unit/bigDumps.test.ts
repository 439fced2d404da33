/**
 * Big dumps: the one-pass grid pool draws what shared/pool.ts poolToSize draws, and a progressive dump read hands
 * over the selected head first, then the grid so far, ends with the same model as a plain read, and stops
 * reading on Cancel.
 */
import * as assert from 'assert';
import { poolHeadInto, poolScratch } from '../../src/core/view/gridPool';
import { poolToSize, spans } from '../../src/shared/pool';
import { arrayDumpHandle, buildModelFromDump } from '../../src/core/view/model';
import type { DumpHandle, HeatmapModel } from '../../src/core/view/model';
import type { NdArray } from '../../src/core/ndarray';
import * as path from 'path';
import { loadBinary } from '../../src/loadPipeline';
import type { SourceEnv } from '../../src/loadPipeline';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import * as fs from 'fs';
import * as os from 'os';
import { encodeNpy } from '../../src/core/npyWrite';
import { openMatrix } from '../../src/core/matrixFile';
import type { FileLayout } from '../../src/core/matrixFile';
import { poolSource } from '../../src/core/view/dumpOnPool';
import { disposeComputePool } from '../../src/core/compute/fast';
import { decodeBFloat16, decodeFloat8, float8Table, widenInto } from '../../src/core/floatDecode';
import { decodeFloat16, float16Table } from '../../src/core/float16';

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
      // Only NaN (no +∞ to flag the head): still counted; −∞ (a mask) is never counted.
      const nanOnly = masked.slice();
      nanOnly[1] = NaN; nanOnly[rows * cols - 2] = NaN;
      assert.strictEqual(pooledBoth(nanOnly, rows, cols, side).bad, 2, 'NaN alone counted');
      assert.strictEqual(pooledBoth(masked, rows, cols, side).bad, 0, '−∞ not counted');
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

/** A [L, H, n, n] float32 dump whose rows sum to 1, with a NaN, a +∞ and a −∞ in head [0, 1] when `broken`. */
function rowsSumToOne(L: number, H: number, n: number, seed: number, broken = false): Float32Array {
  const data = values(L * H * n * n, seed);
  for (let row = 0; row < L * H * n; row++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += data[row * n + c];
    for (let c = 0; c < n; c++) data[row * n + c] /= s;
  }
  if (broken) {
    const at = n * n; // head [0, 1]
    data[at + 3] = NaN; data[at + n + 5] = Infinity; data[at + 2 * n] = -Infinity;
  }
  return data;
}

/** A safetensors file of one BF16 tensor `attentions` holding the top halves of `f32` (bf16 bit patterns). */
function writeBf16Safetensors(file: string, shape: number[], f32: Float32Array): void {
  const bits = new Uint16Array(f32.length);
  const words = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  for (let i = 0; i < bits.length; i++) bits[i] = words[i] >>> 16;
  let json = JSON.stringify({ attentions: { dtype: 'BF16', shape, data_offsets: [0, bits.byteLength] } });
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const pre = Buffer.alloc(8);
  pre.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(json), Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength)]));
}

/** A big-endian float64 .npy ('>f8'): the workers swap and narrow it as the reader on this thread does. */
function writeBigEndianF64(file: string, shape: number[], f: Float32Array): void {
  const dict = `{'descr': '>f8', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const header = dict.padEnd(128 - 10 - 1, ' ') + '\n';
  const body = Buffer.alloc(f.length * 8);
  for (let i = 0; i < f.length; i++) body.writeDoubleBE(f[i] * 3 - 1, i * 8); // signed values too
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]), Buffer.from(header, 'latin1'), body]));
}

describe('big dumps: read on the worker pool', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-pool-dump-')); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); disposeComputePool(); });

  const fixtures = () => {
    const f32 = path.join(dir, 'f32.npy');
    fs.writeFileSync(f32, encodeNpy({ shape: [3, 4, 24, 24], dtype: 'float32', data: rowsSumToOne(3, 4, 24, 11, true) }));
    const f16 = path.join(dir, 'f16.npy');
    fs.writeFileSync(f16, encodeNpy({ shape: [2, 3, 20, 20], dtype: 'float16', data: rowsSumToOne(2, 3, 20, 12) }));
    const bf16 = path.join(dir, 'bf16.safetensors');
    writeBf16Safetensors(bf16, [2, 3, 20, 20], rowsSumToOne(2, 3, 20, 13, true));
    const be = path.join(dir, 'be.npy');
    writeBigEndianF64(be, [2, 2, 17, 17], rowsSumToOne(2, 2, 17, 14));
    const named = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'realdata', 'dumps', 'named_axes.safetensors');
    return { f32, f16, bf16: `${bf16}#attentions`, be, named };
  };

  it('gives the same model as a read on this thread: grid, NaN/+∞ note, head mean, max and rollout, any dtype and axes', async () => {
    for (const [name, ref] of Object.entries(fixtures())) {
      for (const sel of [undefined, { layer: 1, head: 1, extra: [1] }]) {
        const h = await openMatrix(ref);
        const onPool = await buildModelFromDump(h, sel, { cellSize: 8, poolBytes: 0 });
        const here = await buildModelFromDump(h, sel, { cellSize: 8, pool: false });
        await h.close();
        assert.ok((onPool.grid?.extras?.length ?? 0) >= 2, `${name}: aggregates made`);
        assert.deepStrictEqual(onPool, here, `${name} ${JSON.stringify(sel)}`);
        assert.ok(!(onPool.grid!.cells.buffer instanceof SharedArrayBuffer), `${name}: the model holds plain buffers, not shared memory`);
      }
    }
  });

  it('progressive: the selected head first, the grid only fills, partials hold only finished heads, and the final model is the one-shot one', async () => {
    const file = path.join(dir, 'progressive.npy');
    fs.writeFileSync(file, encodeNpy({ shape: [4, 8, 64, 64], dtype: 'float32', data: rowsSumToOne(4, 8, 64, 21) }));
    const titles: string[] = [];
    const env: SourceEnv = {
      settings: () => DEFAULT_SETTINGS, progressiveBytes: 0, poolBytes: 0,
      runLong: (title, work) => { titles.push(title); return work(new AbortController().signal, () => undefined); },
    };
    const partials: HeatmapModel[] = [];
    const sel = { layer: 2, head: 5 };
    const final = await loadBinary(file, 'p', sel, env, undefined, (m) => partials.push(m));
    const oneShot = await loadBinary(file, 'p', sel, { settings: () => DEFAULT_SETTINGS, poolBytes: Infinity });
    assert.deepStrictEqual(titles, ['Reading p (4 × 8 heads)']);
    assert.ok(partials.length >= 1, 'at least the first partial');
    const g0 = partials[0].grid!;
    const size = g0.cellSize * g0.cellSize;
    const selCell = (sel.layer * 8 + sel.head) * size;
    assert.ok(!Number.isNaN(g0.cells[selCell]), 'the first partial has the selected head in the grid');
    assert.deepStrictEqual(Array.from(g0.cells.subarray(selCell, selCell + size)), Array.from(oneShot.grid!.cells.subarray(selCell, selCell + size)));
    assert.deepStrictEqual(partials[0].kinds.weights!.data, oneShot.kinds.weights!.data, 'the first partial shows the selected head');
    assert.deepStrictEqual(partials[0].grid!.extras, [], 'no aggregates before every head is in');
    let before = 0;
    for (const p of partials) {
      const g = p.grid!;
      let filled = 0;
      for (let c = 0; c < 32; c++) {
        const cell = Array.from(g.cells.subarray(c * size, (c + 1) * size));
        if (cell.every(Number.isNaN)) continue;
        filled++;
        // A head in a partial grid is whole: never a half-written cell.
        assert.deepStrictEqual(cell, Array.from(oneShot.grid!.cells.subarray(c * size, (c + 1) * size)), `partial cell ${c}`);
      }
      assert.ok(filled >= before, 'the grid only fills');
      assert.match(p.warnings.join('\n'), new RegExp(`grid: ${filled} of 32 heads read so far`));
      before = filled;
    }
    assert.deepStrictEqual(final, oneShot);
  });

  it('Cancel keeps the grid so far with a note that counts it, and makes no aggregates', async () => {
    const file = path.join(dir, 'cancel.npy');
    fs.writeFileSync(file, encodeNpy({ shape: [8, 8, 128, 128], dtype: 'float32', data: rowsSumToOne(8, 8, 128, 22) }));
    for (const when of ['before', 'first head'] as const) {
      const h = await openMatrix(file);
      const abort = new AbortController();
      if (when === 'before') abort.abort();
      const final = await buildModelFromDump(h, { layer: 0, head: 0 }, {
        cellSize: 8, poolBytes: 0,
        // Cancel at the first head's progress report: it is heard before the job's end, however quick the workers.
        progress: { onPartial: () => undefined, run: (work) => work(abort.signal, () => abort.abort()) },
      });
      await h.close();
      const m = /grid: stopped after (\d+) of 64 heads \(cancelled\)/.exec(final.warnings.join('\n'));
      assert.ok(m, `${when}: ${final.warnings.join('; ')}`);
      let filled = 0;
      for (let c = 0; c < 64; c++) if (!Number.isNaN(final.grid!.cells[c * 64])) filled++;
      assert.strictEqual(filled, Number(m[1]), `${when}: the note counts the heads in the grid`);
      if (when === 'before') assert.strictEqual(filled, 0, 'nothing read after a Cancel before the start');
      assert.strictEqual(final.kinds.headMean, undefined);
      assert.deepStrictEqual(final.grid!.extras, []);
    }
  });

  it('refuses a file that changed while the workers read it', async () => {
    const file = path.join(dir, 'changed.npy');
    fs.writeFileSync(file, encodeNpy({ shape: [2, 2, 16, 16], dtype: 'float32', data: rowsSumToOne(2, 2, 16, 23) }));
    const h = await openMatrix(file);
    const changed: DumpHandle = { ref: h.ref, info: h.info, read: (i) => h.read(i), layout: () => h.layout?.(), unchanged: async () => false };
    await assert.rejects(buildModelFromDump(changed, undefined, { cellSize: 8, poolBytes: 0 }), /file changed while reading/);
    await h.close();
  });

  it('reads on this thread what the workers cannot: .npz members, Fortran order, 64-bit integers, small dumps', () => {
    const layout: FileLayout = { file: 'a.npy', dataOffset: 128, itemsize: 4, littleEndian: true, fortranOrder: false };
    const shape = [2, 2, 64, 64];
    assert.ok(poolSource(layout, shape, 'float32', 4, 0));
    assert.strictEqual(poolSource(undefined, shape, 'float32', 4, 0), undefined, 'no layout (.npz member, JSON)');
    assert.strictEqual(poolSource({ ...layout, fortranOrder: true }, shape, 'float32', 4, 0), undefined, 'Fortran order');
    assert.strictEqual(poolSource({ ...layout, itemsize: 8 }, shape, 'int64', 4, 0), undefined, 'int64');
    assert.strictEqual(poolSource(layout, shape, 'float32', 4, 4 * 64 * 64 * 4 + 1), undefined, 'below poolBytes');
  });

  it('widenInto writes every bfloat16, float16 and float8 pattern as the decoders do, natively and in JavaScript', () => {
    const all16 = new Uint16Array(65536).map((_, i) => i);
    const all8 = new Uint8Array(256).map((_, i) => i);
    const same = (a: Float32Array, b: Float32Array, what: string) =>
      assert.deepStrictEqual(new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length), what);
    for (const [what, pieces] of [['native (one call)', 1], ['JavaScript (short calls)', 64]] as const) {
      const step = 65536 / pieces;
      const bf = new Float32Array(65536);
      const f16 = new Float32Array(65536);
      for (let at = 0; at < 65536; at += step) {
        widenInto(all16.subarray(at, at + step), bf.subarray(at, at + step));
        widenInto(all16.subarray(at, at + step), f16.subarray(at, at + step), new Uint32Array(float16Table().buffer));
      }
      same(bf, decodeBFloat16(all16), `bfloat16 ${what}`);
      same(f16, decodeFloat16(all16), `float16 ${what}`);
    }
    for (const kind of ['float8_e4m3fn', 'float8_e5m2'] as const) {
      const out = new Float32Array(256);
      widenInto(all8, out, float8Table(kind));
      same(out, decodeFloat8(all8, kind), kind);
    }
  });
});
