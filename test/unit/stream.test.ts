import * as assert from 'assert';
import { computeAttention, SIMILARITIES } from '../../src/core/attention';
import { scaleFactorFor } from '../../src/core/attention/shapes';
import type { AttentionResult, Scale, Similarity } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import { loadNative, nativeUnavailableReason } from '../../src/core/compute/native';
import type { NdArray } from '../../src/core/ndarray';
import { StreamDetail } from '../../src/core/stream/detail';
import { streamHead } from '../../src/core/stream/engine';
import type { StreamOptions } from '../../src/core/stream/engine';
import { memoryMask } from '../../src/core/stream/mask';
import { headView, kvHeadOf } from '../../src/core/stream/types';
import type { StreamHead, StreamMask, StreamSettings } from '../../src/core/stream/types';
import { rankInRow, rowStats } from '../../src/shared/inspect';
import { maxPool } from '../../src/shared/pool';
import * as fs from 'fs';
import * as os from 'os';
import { writeNpy } from '../../src/core/npyWrite';
import * as path from 'path';
import { openMatrix, readMatrix } from '../../src/core/matrixFile';
import { fileMask } from '../../src/core/stream/mask';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stream');

/** Deterministic pseudo-random matrices (an LCG), so a failure can be reproduced. */
function random(rows: number, cols: number, seed: number, spread = 4): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * spread;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function randomMask(rows: number, cols: number, seed: number): NdArray {
  const r = random(rows, cols, seed);
  const data = new Uint8Array(r.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(r.data[i]) > -0.8 ? 1 : 0;
  for (let j = 0; j < cols; j++) data[3 * cols + j] = 0; // one fully masked row
  return { shape: [rows, cols], dtype: 'bool', data };
}

type MaskCase = 'none' | 'causal' | 'explicit';

interface Case {
  q: NdArray; k: NdArray; v: NdArray; similarity: Similarity; scale: Scale; mask: MaskCase; maskArray?: NdArray;
}

function makeCase(nq: number, nk: number, d: number, dv: number, similarity: Similarity, mask: MaskCase, seed: number, scale: Scale = 'sqrt'): Case {
  return {
    q: random(nq, d, seed), k: random(nk, d, seed + 1), v: random(nk, dv, seed + 2), similarity, scale, mask,
    maskArray: mask === 'explicit' ? randomMask(nq, nk, seed + 3) : undefined,
  };
}

function reference(c: Case): AttentionResult {
  return computeAttention({ q: c.q, k: c.k, v: c.v, similarity: c.similarity, scale: c.scale, mask: c.mask === 'causal' ? 'causal' : c.maskArray });
}

function headOf(c: Case): StreamHead {
  return {
    q: c.q.data as Float32Array, k: c.k.data as Float32Array, v: c.v.data as Float32Array,
    nq: c.q.shape[0], nk: c.k.shape[0], dk: c.q.shape[1], dv: c.v.shape[1],
  };
}

function settingsOf(c: Case): StreamSettings {
  const nq = c.q.shape[0];
  const nk = c.k.shape[0];
  const mask: StreamMask = c.mask === 'none' ? { kind: 'none' } : c.mask === 'causal' ? { kind: 'causal', offset: nk - nq }
    : { kind: 'rows', source: memoryMask(c.maskArray?.data as Uint8Array, nq, nk) };
  return { similarity: c.similarity, scaleFactor: scaleFactorFor(c.scale, c.similarity, c.q.shape[1]), mask };
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs ${e}`);
  }
}

async function checkAgainstReference(c: Case, opts: StreamOptions, size = 16): Promise<void> {
  const ref = reference(c);
  const nq = ref.nq;
  const nk = ref.nk;
  const head = headOf(c);
  const settings = settingsOf(c);
  const got = await streamHead(head, settings, { ...opts, overviewSize: size, output: true });
  const label = `${c.similarity}/${c.mask}/${nq}×${nk}/${opts.kernel ?? 'auto'}${opts.pool ? '/pool' : ''}`;
  // Overview: the same blocks and winners as maxPool over the full weights.
  const pooled = maxPool({ rows: nq, cols: nk, data: ref.weights }, size, false);
  assert.ok(got.overview);
  assert.deepStrictEqual([got.overview.rows, got.overview.cols, got.overview.blockRows, got.overview.blockCols], [pooled.rows, pooled.cols, pooled.blockRows, pooled.blockCols]);
  close(got.overview.data, pooled.data, 1e-5, `${label} overview`);
  const rs = rowStats({ rows: nq, cols: nk, data: ref.weights }, true);
  close(got.rowMax, rs.max, 1e-5, `${label} row max`);
  close(got.rowEntropy as Float64Array, (rs.entropy as Float32Array).map((h) => h * Math.LN2), 1e-4, `${label} entropy`);
  close(got.output as Float32Array, ref.output, 1e-5, `${label} output`);
  assert.deepStrictEqual(got.warnings, ref.warnings.filter((w) => w.includes('masked')), `${label} warnings`);

  const detail = new StreamDetail(head, settings, got.stats);
  const region = { r0: 2, c0: 3, rows: Math.min(nq - 2, 40), cols: Math.min(nk - 3, 50) };
  for (const kind of ['weights', 'scores', 'scaled'] as const) {
    const t = await detail.tile(kind, region);
    const full = kind === 'weights' ? ref.weights : kind === 'scores' ? ref.scores : ref.scaled;
    const want = new Float32Array(region.rows * region.cols);
    for (let r = 0; r < region.rows; r++) for (let cc = 0; cc < region.cols; cc++) want[r * region.cols + cc] = full[(region.r0 + r) * nk + region.c0 + cc];
    close(t.data, want, kind === 'weights' ? 1e-5 : 1e-4, `${label} tile ${kind}`);
  }
  for (const i of [0, 3, nq - 1]) {
    const row = await detail.row(i);
    // Computed as the reference does: the same float32 values.
    assert.deepStrictEqual(Array.from(row.weights), Array.from(ref.weights.subarray(i * nk, (i + 1) * nk)), `${label} row ${i}`);
    close(row.output as number[], ref.output.subarray(i * ref.dv, (i + 1) * ref.dv), 1e-5, `${label} row ${i} output`);
    for (const j of [0, Math.floor(nk / 2), nk - 1]) {
      const cell = await detail.cell(i, j);
      assert.strictEqual(cell.weight, ref.weights[i * nk + j]);
      assert.strictEqual(cell.score, ref.scores[i * nk + j]);
      assert.strictEqual(cell.scaled, ref.scaled[i * nk + j]);
      assert.strictEqual(cell.rank, rankInRow(ref.weights.subarray(i * nk, (i + 1) * nk), j));
    }
  }
}

describe('stream: one head, never n_q × n_k', function () {
  this.timeout(120000);
  after(() => disposeComputePool());

  for (const similarity of SIMILARITIES) {
    for (const mask of ['none', 'causal', 'explicit'] as const) {
      it(`${similarity}, ${mask} mask, n_q ≠ n_k: WASM and TypeScript kernels match the reference`, async () => {
        const c = makeCase(70, 90, 8, 5, similarity, mask, 11);
        await checkAgainstReference(c, { kernel: 'wasm', pool: false });
        await checkAgainstReference(c, { kernel: 'ts', pool: false });
      });
    }
  }

  for (const similarity of SIMILARITIES) {
    for (const mask of ['none', 'causal', 'explicit'] as const) {
      it(`${similarity}, ${mask} mask: the native row kernel matches the reference, here and on the pool`, async function () {
        // The one skip: the addon is built at install time and is missing where there was no C compiler.
        const why = nativeUnavailableReason();
        if (why) {
          console.log(`      skipped: native addon not available (${why})`);
          this.skip();
        }
        await checkAgainstReference(makeCase(70, 90, 8, 5, similarity, mask, 13), { kernel: 'native', pool: false });
        // n_q > n_k under a causal mask: leading rows see no key (fully masked blocks, negative offsets).
        await checkAgainstReference(makeCase(90, 50, 8, 3, similarity, mask, 17), { kernel: 'native', pool: false });
        await checkAgainstReference(makeCase(520, 610, 16, 8, similarity, mask, 19), { kernel: 'native', pool: true }, 64);
        // Row statistics alone (no overview, entropy or output): the addon's rowStats pass.
        const c = makeCase(70, 90, 8, 5, similarity, mask, 23);
        const ref = reference(c);
        const got = await streamHead(headOf(c), settingsOf(c), { kernel: 'native', pool: false, entropy: false });
        close(got.rowMax, rowStats({ rows: ref.nq, cols: ref.nk, data: ref.weights }, false).max, 1e-5, `${similarity}/${mask} native row stats`);
      });
    }
  }

  it('native one-pass sweep: rows of 40,000 keys, a NaN score row and a fully masked row match the exact TypeScript kernel', async function () {
    const why = nativeUnavailableReason();
    if (why) {
      console.log(`      skipped: native addon not available (${why})`);
      this.skip();
    }
    // The addon built from this tree has the one-pass entry the native streamed path runs (not the per-block one).
    assert.strictEqual(typeof loadNative()?.sweep, 'function');
    const nq = 40;
    const nk = 40000;
    const c = makeCase(nq, nk, 8, 4, 'dot', 'explicit', 81);
    (c.q.data as Float32Array)[5 * 8 + 2] = NaN; // row 5: every score NaN
    const head = headOf(c);
    const settings = settingsOf(c); // randomMask leaves row 3 fully masked
    const exact = await streamHead(head, settings, { kernel: 'ts', pool: false, overviewSize: 16, output: true });
    for (const pool of [false, true]) {
      const got = await streamHead(head, settings, { kernel: 'native', pool, overviewSize: 16, output: true });
      const label = `native${pool ? '/pool' : ''}`;
      close(got.stats.max, exact.stats.max, 1e-5, `${label} row max`);
      close(got.stats.sum.map((x, i) => x / exact.stats.sum[i]), exact.stats.sum.map((x) => (Number.isNaN(x) ? NaN : x === 0 ? NaN : 1)), 1e-5, `${label} row sum (relative)`);
      close(got.rowEntropy as Float64Array, exact.rowEntropy as Float64Array, 1e-5, `${label} entropy`);
      close(got.overview?.data as Float32Array, exact.overview?.data as Float32Array, 1e-6, `${label} overview`);
      close(got.output as Float32Array, exact.output as Float32Array, 1e-5, `${label} output`);
      assert.ok(Number.isNaN(got.rowMax[5]) && Number.isNaN((got.rowEntropy as Float64Array)[5]), `${label}: the NaN row stays NaN`);
      assert.deepStrictEqual([got.stats.max[3], got.stats.sum[3], (got.rowEntropy as Float64Array)[3]], [-Infinity, 0, 0], `${label}: the fully masked row`);
      assert.deepStrictEqual(got.maskedRows, [3]);
    }
  });

  it('native: K changed in place between two sweeps of one array is packed again (the packed K/V kept per job, not per array)', async function () {
    const why = nativeUnavailableReason();
    if (why) {
      console.log(`      skipped: native addon not available (${why})`);
      this.skip();
    }
    const c = makeCase(64, 300, 8, 4, 'dot', 'causal', 91);
    const head = headOf(c);
    const settings = settingsOf(c);
    const first = await streamHead(head, settings, { kernel: 'native', pool: false, overviewSize: 8, output: true });
    for (let i = 0; i < head.k.length; i++) head.k[i] = -head.k[i] * 0.5; // the same Float32Array, new keys
    const again = await streamHead(head, settings, { kernel: 'native', pool: false, overviewSize: 8, output: true });
    const exact = await streamHead(head, settings, { kernel: 'ts', pool: false, overviewSize: 8, output: true });
    close(again.output as Float32Array, exact.output as Float32Array, 1e-5, 'output after K changed');
    close(again.overview?.data as Float32Array, exact.overview?.data as Float32Array, 1e-6, 'overview after K changed');
    assert.notDeepStrictEqual(Array.from(first.output as Float32Array), Array.from(again.output as Float32Array));
  });

  it('causal with n_q > n_k aligns at the end (rows before the first key are fully masked, with a warning)', async () => {
    const c = makeCase(60, 40, 8, 3, 'dot', 'causal', 5);
    await checkAgainstReference(c, { pool: false });
  });

  it('scales: sqrt, dk, none and a number', async () => {
    for (const scale of ['sqrt', 'dk', 'none', 0.37, 0] as Scale[]) {
      await checkAgainstReference(makeCase(33, 41, 6, 2, 'dot', 'causal', 21, scale), { pool: false });
    }
  });

  it('on the worker pool (chunks, pooled rows owned by one chunk, explicit mask in batches)', async () => {
    for (const mask of ['none', 'causal', 'explicit'] as const) {
      await checkAgainstReference(makeCase(600, 700, 16, 8, 'dot', mask, 31), { pool: true }, 64);
    }
    await checkAgainstReference(makeCase(300, 260, 8, 4, 'euclidean', 'causal', 41), { pool: true }, 50);
  });

  it('overview without output or entropy, and progress up to 1', async () => {
    const c = makeCase(200, 200, 8, 4, 'dot', 'none', 51);
    const seen: number[] = [];
    const r = await streamHead(headOf(c), settingsOf(c), { overviewSize: 32, entropy: false, onProgress: (f) => seen.push(f) });
    assert.strictEqual(r.output, undefined);
    assert.strictEqual(r.rowEntropy, undefined);
    assert.strictEqual(seen[0], 0);
    assert.strictEqual(seen[seen.length - 1], 1);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1]);
  });

  it('cancels with an AbortError', async () => {
    const c = makeCase(2000, 2000, 32, 32, 'dot', 'causal', 61);
    const ac = new AbortController();
    const p = streamHead(headOf(c), settingsOf(c), { overviewSize: 64, output: true, signal: ac.signal, onProgress: (f) => { if (f > 0) ac.abort(); } });
    await assert.rejects(p, (e: Error) => e.name === 'AbortError');
  });

  it('grouped-query attention is a choice of views: query head h reads K/V head ⌊h·H_kv/H⌋', async () => {
    const H = 4;
    const Hkv = 2;
    const t = 50;
    const d = 8;
    const q = random(H * t, d, 71).data as Float32Array;
    const k = random(Hkv * t, d, 72).data as Float32Array;
    const v = random(Hkv * t, d, 73).data as Float32Array;
    assert.deepStrictEqual([0, 1, 2, 3].map((h) => kvHeadOf(h, H, Hkv)), [0, 0, 1, 1]);
    for (let h = 0; h < H; h++) {
      const g = kvHeadOf(h, H, Hkv);
      const head = { q: headView(q, h, t, d), k: headView(k, g, t, d), v: headView(v, g, t, d), nq: t, nk: t, dk: d, dv: d };
      const r = await streamHead(head, { similarity: 'dot', scaleFactor: 1 / Math.sqrt(d), mask: { kind: 'causal', offset: 0 } }, { output: true, pool: false });
      const ref = computeAttention({
        q: { shape: [t, d], dtype: 'float32', data: head.q.slice() }, k: { shape: [t, d], dtype: 'float32', data: head.k.slice() },
        v: { shape: [t, d], dtype: 'float32', data: head.v.slice() }, mask: 'causal',
      });
      close(r.output as Float32Array, ref.output, 1e-5, `head ${h}`);
    }
  });

  for (const name of ['dot_causal', 'cosine_none', 'laplacian_explicit', 'euclidean_causal_short']) {
    it(`matches NumPy by rows, tile, row stats, overview and output: ${name}`, async () => {
      const dir = path.join(FIXTURES, name);
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as {
        similarity: Similarity; scaleFactor: number; mask: MaskCase; tile: { r0: number; c0: number; rows: number; cols: number }; overviewSize: number;
      };
      const read = async (f: string) => (await readMatrix(path.join(dir, f))).data as Float32Array | Float64Array | Int32Array;
      const q = await readMatrix(path.join(dir, 'q.npy'));
      const k = await readMatrix(path.join(dir, 'k.npy'));
      const v = await readMatrix(path.join(dir, 'v.npy'));
      const [nq, dk] = q.shape;
      const [nk, dv] = v.shape;
      const head: StreamHead = { q: q.data as Float32Array, k: k.data as Float32Array, v: v.data as Float32Array, nq, nk, dk, dv };
      const handle = spec.mask === 'explicit' ? await openMatrix(path.join(dir, 'mask.npy')) : undefined;
      try {
        const mask: StreamMask = handle ? { kind: 'rows', source: fileMask(handle, nq, nk) }
          : spec.mask === 'causal' ? { kind: 'causal', offset: nk - nq } : { kind: 'none' };
        const settings: StreamSettings = { similarity: spec.similarity, scaleFactor: spec.scaleFactor, mask };
        for (const pool of [false, true]) {
          const r = await streamHead(head, settings, { overviewSize: spec.overviewSize, output: true, pool });
          close(r.output as Float32Array, await read('all_output.npy'), 1e-5, `${name} output`);
          close(r.rowMax, await read('row_max.npy'), 1e-5, `${name} row max`);
          close(r.rowEntropy as Float64Array, await read('row_entropy.npy'), 1e-4, `${name} entropy`);
          close(r.overview?.data as Float32Array, await read('overview.npy'), 1e-5, `${name} overview`);
          const detail = new StreamDetail(head, settings, r.stats);
          const t = await detail.tile('weights', spec.tile);
          close(t.data, await read('tile.npy'), 1e-5, `${name} tile`);
          const rows = Array.from(await read('rows.npy'), Number);
          const weights = await read('weights.npy');
          const output = await read('output.npy');
          for (let x = 0; x < rows.length; x++) {
            const row = await detail.row(rows[x]);
            close(row.weights, (weights as Float32Array).subarray(x * nk, (x + 1) * nk), 1e-6, `${name} row ${rows[x]}`);
            close(row.output as number[], (output as Float32Array).subarray(x * dv, (x + 1) * dv), 1e-5, `${name} row ${rows[x]} output`);
          }
        }
      } finally {
        await handle?.close();
      }
    });
  }

  it('reads an explicit mask file lazily by rows and refuses values other than 0/1', async () => {
    const handle = await openMatrix(path.join(FIXTURES, 'laplacian_explicit', 'mask.npy'));
    try {
      assert.throws(() => fileMask(handle, 290, 291), /mask is 290×290 but scores are 290×291/);
      const rows = await fileMask(handle, 290, 290).rows(4, 6);
      assert.strictEqual(rows.length, 2 * 290);
      assert.ok(rows.subarray(290).every((x) => x === 0), 'row 5 is fully masked');
    } finally {
      await handle.close();
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stream-mask-')), 'bad.npy');
    await writeNpy(file, { shape: [2, 2], dtype: 'int8', data: Int8Array.from([1, 0, 2, 1]) });
    const bad = await openMatrix(file);
    try {
      const rows = fileMask(bad, 2, 2);
      assert.deepStrictEqual(Array.from(await rows.rows(0, 1)), [1, 0]);
      await assert.rejects(rows.rows(1, 2), /mask must hold only 0\/1 or true\/false, found 2 at .*bad\.npy row 1, column 0/);
    } finally {
      await bad.close();
    }
  });

  it('refuses views that do not match their sizes', async () => {
    await assert.rejects(streamHead({ q: new Float32Array(10), k: new Float32Array(12), nq: 5, nk: 3, dk: 2, dv: 0 }, { similarity: 'dot', scaleFactor: 1, mask: { kind: 'none' } }), /K holds 12 values but should be 3×2/);
  });
});
