import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeAttention, computeAttentionFast } from '../../src/core/attention';
import type { AttentionInput } from '../../src/core/attention';
import { findAsset } from '../../src/core/compute/assets';
import { computeFast, disposeComputePool, dropSpareMemory, releaseResult, spareBuffers, WARM_SPARE_MIN_BYTES, wasmAvailable, wasmBuild } from '../../src/core/compute/fast';
import { setKernelPreference } from '../../src/core/compute/native';
import type { NdArray } from '../../src/core/ndarray';
import { assertClose, decode, fixtures, inputOf } from './engine-fixtures';

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

describe('compute: fast paths agree with the reference', function () {
  this.timeout(60000);
  // These tests are about the WASM kernels and the worker pool; test/unit/native.test.ts covers the native one.
  before(() => setKernelPreference('wasm'));
  after(() => {
    setKernelPreference('auto');
    disposeComputePool();
  });

  it('finds dist/attention.wasm and dist/worker.js (built by npm run build)', () => {
    assert.ok(findAsset('attention.wasm'), 'dist/attention.wasm missing: run npm run build');
    assert.ok(findAsset('worker.js'), 'dist/worker.js missing: run npm run build');
    assert.ok(wasmAvailable());
  });

  it('runs the fused multiply-add build (dist/attention-fma.wasm) on this Node, the SIMD-only build on request', () => {
    assert.ok(findAsset('attention-fma.wasm'), 'dist/attention-fma.wasm missing: run npm run build');
    // Node 20 needs V8's relaxed-SIMD flag, which the loader sets itself; newer runtimes validate it as is.
    assert.strictEqual(wasmBuild(), 'fma');
  });

  const { cases } = fixtures();
  for (const [name, c] of Object.entries(cases)) {
    it(`NumPy case ${name} (wasm, in this thread)`, async () => {
      const r = await computeAttentionFast(inputOf(c));
      assertClose(r.weights, decode(c.expected.weights), 1e-6, 1e-5, 'weights');
      assertClose(r.output, decode(c.expected.output), 1e-5, 1e-5, 'output');
      // Lazily computed scores are the reference's.
      assertClose(r.scaled, decode(c.expected.scaled), 1e-6, 1e-6, 'scaled');
      assertClose(r.scores, decode(c.expected.scores), 1e-6, 1e-6, 'scores');
    });
  }

  const shapes: [string, number, number, number, number][] = [
    ['square, multiples of 8', 64, 64, 16, 16],
    ['n not a multiple of 4', 37, 53, 7, 5],
    ['one query', 1, 19, 3, 2],
    ['wide head', 21, 9, 130, 33],
  ];
  const variants: Partial<AttentionInput>[] = [
    {}, { mask: 'causal' }, { similarity: 'cosine' }, { similarity: 'laplacian' }, { similarity: 'euclidean', scale: 0.5 },
    { scale: 'none' },
  ];
  for (const [label, nq, nk, dk, dv] of shapes) {
    for (const variant of variants) {
      const tag = JSON.stringify(variant);
      it(`${label} ${nq}×${nk}, d_k=${dk}, d_v=${dv} ${tag}: wasm, TypeScript and pool within 1e-5`, async () => {
        const input: AttentionInput = { q: random(nq, dk, 1), k: random(nk, dk, 2), v: random(nk, dv, 3), ...variant };
        const ref = computeAttention(input);
        for (const opts of [{ kernel: 'wasm' as const, pool: false }, { kernel: 'wasm-simd' as const, pool: false }, { kernel: 'ts' as const, pool: false }, { pool: true }]) {
          const r = await computeFast(input, opts);
          assertClose(r.weights, ref.weights, 1e-5, 0, `${JSON.stringify(opts)} weights`);
          assertClose(r.output, ref.output, 1e-5, 1e-5, `${JSON.stringify(opts)} output`);
          assert.deepStrictEqual(r.warnings, ref.warnings);
          assertClose(r.scores, ref.scores, 1e-5, 1e-5, `${JSON.stringify(opts)} scores`);
          assertClose(r.scaled, ref.scaled, 1e-5, 1e-5, `${JSON.stringify(opts)} scaled`);
        }
      });
    }
  }

  it('scores: false leaves raw and scaled scores to first access, with the same values; a zero scale works', async () => {
    for (const scale of [0.3, 0] as const) {
      const input: AttentionInput = { q: random(40, 8, 28), k: random(30, 8, 29), v: random(30, 4, 30), mask: 'causal', scale };
      const ref = computeAttention(input);
      for (const opts of [{ pool: true, scores: false }, { pool: false, scores: false }, { pool: true }, { pool: false }]) {
        const r = await computeFast(input, opts);
        assertClose(r.weights, ref.weights, 1e-5, 0, `scale ${scale} ${JSON.stringify(opts)} weights`);
        assertClose(r.scores, ref.scores, 1e-5, 1e-5, `scale ${scale} ${JSON.stringify(opts)} scores`);
        assertClose(r.scaled, ref.scaled, 1e-5, 1e-5, `scale ${scale} ${JSON.stringify(opts)} scaled`);
      }
    }
  });

  it('explicit masks with a fully masked row, on the pool and in this thread: zeros, a warning, no NaN', async () => {
    const input: AttentionInput = { q: random(45, 12, 4), k: random(70, 12, 5), v: random(70, 6, 6), mask: randomMask(45, 70, 7) };
    const ref = computeAttention(input);
    assert.strictEqual(ref.warnings.length, 1);
    for (const opts of [{ pool: false }, { pool: true }]) {
      const r = await computeFast(input, opts);
      assertClose(r.weights, ref.weights, 1e-5, 0, 'weights');
      assertClose(r.output, ref.output, 1e-5, 1e-5, 'output');
      assert.ok(r.weights.subarray(3 * 70, 4 * 70).every((w) => w === 0));
      assert.ok(r.output.every((x) => !Number.isNaN(x)));
      assert.deepStrictEqual(r.warnings, ref.warnings);
      // The score views: raw scores everywhere, scaled scores −∞ exactly where the mask hides the key.
      assertClose(r.scores, ref.scores, 1e-5, 1e-5, 'scores');
      assertClose(r.scaled, ref.scaled, 1e-5, 1e-5, 'scaled');
      assert.ok(r.scaled.subarray(3 * 70, 4 * 70).every((x) => x === -Infinity), 'the fully masked row is all −∞');
    }
  });

  it('multi-head projections with a causal mask on the pool', async () => {
    const input: AttentionInput = {
      q: random(150, 32, 8), wq: random(32, 32, 9, 0.7), wk: random(32, 32, 10, 0.7), wv: random(32, 32, 11, 0.7),
      wo: random(32, 24, 12, 0.7), heads: 4, mask: 'causal',
    };
    const ref = computeAttention(input);
    const r = await computeFast(input, { pool: true });
    assertClose(r.weights, ref.weights, 1e-5, 0, 'weights');
    assertClose(r.headOutputs, ref.headOutputs, 1e-5, 1e-5, 'headOutputs');
    assertClose(r.output, ref.output, 1e-5, 1e-5, 'output');
    assert.strictEqual(r.outputDim, 24);
  });

  it('a NaN in Q makes that query row NaN on every path, like NumPy; other rows are unaffected', async () => {
    const q = random(10, 8, 25);
    (q.data as Float32Array)[2 * 8 + 3] = NaN;
    const input: AttentionInput = { q, k: random(13, 8, 26), v: random(13, 4, 27) };
    const ref = computeAttention(input);
    for (const opts of [{ kernel: 'wasm' as const, pool: false }, { kernel: 'wasm-simd' as const, pool: false }, { kernel: 'ts' as const, pool: false }, { pool: true }]) {
      const r = await computeFast(input, opts);
      assert.ok(r.weights.subarray(2 * 13, 3 * 13).every(Number.isNaN), `${JSON.stringify(opts)}: row 2 NaN`);
      assert.ok(r.output.subarray(2 * 4, 3 * 4).every(Number.isNaN));
      const others = (a: Float32Array, w: number) => Array.from(a).filter((_, i) => Math.floor(i / w) !== 2);
      assertClose(others(r.weights, 13), others(ref.weights, 13), 1e-5, 0, 'other rows');
      assert.deepStrictEqual(r.warnings, ref.warnings);
    }
  });

  it('the polynomial 2^x keeps tiny weights to 1e-5 relative over 80 orders of magnitude', async () => {
    const nk = 203; // not a multiple of 4 or 8: the scalar tail is used too
    const k: NdArray = { shape: [nk, 1], dtype: 'float32', data: Float32Array.from({ length: nk }, (_, j) => -j * 0.9 + (j % 7) * 0.013) };
    const input: AttentionInput = { q: { shape: [1, 1], dtype: 'float32', data: Float32Array.of(1) }, k, v: k, scale: 'none' };
    const ref = computeAttention(input);
    for (const kernel of ['wasm', 'wasm-simd'] as const) {
      const r = await computeFast(input, { kernel, pool: false });
      let checked = 0;
      for (let j = 0; j < nk; j++) {
        if (ref.weights[j] < 1e-35) continue;
        checked++;
        const rel = Math.abs(r.weights[j] - ref.weights[j]) / ref.weights[j];
        assert.ok(rel < 1e-5, `${kernel} weight ${j}: ${r.weights[j]} vs ${ref.weights[j]} (rel ${rel})`);
      }
      assert.ok(checked > 80, `checked ${checked}`);
    }
  });

  it('large scores stay finite in the polynomial exp', async () => {
    const input: AttentionInput = { q: random(9, 4, 13, 60), k: random(11, 4, 14, 60), v: random(11, 3, 15), scale: 'none' };
    const ref = computeAttention(input);
    const r = await computeFast(input, { kernel: 'wasm', pool: false });
    assertClose(r.weights, ref.weights, 1e-6, 0, 'weights');
    assert.ok(r.weights.every((w) => Number.isFinite(w)));
  });

  it('reports progress up to 1 and can be cancelled', async () => {
    const input: AttentionInput = { q: random(600, 32, 16), k: random(600, 32, 17), v: random(600, 32, 18) };
    for (const pool of [true, false]) {
      const seen: number[] = [];
      await computeFast(input, { pool, onProgress: (f) => seen.push(f) });
      assert.ok(seen.length > 1, `progress reported ${seen.length} times`);
      assert.strictEqual(seen[seen.length - 1], 1);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1]);
      const ac = new AbortController();
      const p = computeFast(input, { pool, signal: ac.signal, onProgress: () => ac.abort() });
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
    }
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(computeAttentionFast(input, { signal: ac.signal }), (e: Error) => e.name === 'AbortError');
  });

  it('a released result\'s memory is reused, and every weight is rewritten (stale values never leak)', async () => {
    const plain: AttentionInput = { q: random(300, 16, 22), k: random(300, 16, 23), v: random(300, 8, 24) };
    const causal: AttentionInput = { ...plain, mask: 'causal' };
    const first = await computeFast(plain, { pool: true });
    const buffer = first.weights.buffer;
    releaseResult(first);
    const second = await computeFast(causal, { pool: true });
    assert.strictEqual(second.weights.buffer, buffer);
    assertClose(second.weights, computeAttention(causal).weights, 1e-5, 0, 'weights after reuse');
    releaseResult(second);
    releaseResult(second); // twice is harmless: the buffer is handed out once
    const third = await computeFast(plain, { pool: true });
    const fourth = await computeFast(plain, { pool: true });
    assert.notStrictEqual(third.weights.buffer, fourth.weights.buffer);
  });

  it('weightsFile: each thread writes its finished rows at the offset; keepWeights false holds no weights array', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-sink-'));
    try {
      const cases: [string, AttentionInput][] = [
        ['dot, n_k a multiple of 8 (one write per block)', { q: random(200, 16, 31), k: random(96, 16, 32), v: random(96, 8, 33) }],
        ['cosine, causal, n_k padded (one write per row)', { q: random(150, 8, 34), k: random(101, 8, 35), v: random(101, 4, 36), similarity: 'cosine', mask: 'causal' }],
        ['laplacian (the TypeScript kernel writes through an array)', { q: random(70, 8, 37), k: random(45, 8, 38), v: random(45, 4, 39), similarity: 'laplacian' }],
      ];
      for (const [label, input] of cases) {
        const ref = computeAttention(input);
        for (const opts of [{ pool: true }, { pool: false }]) {
          const file = path.join(dir, 'w.bin');
          const offset = 128;
          fs.writeFileSync(file, Buffer.alloc(offset + ref.weights.length * 4, 0xff)); // stale bytes to be overwritten
          const fd = fs.openSync(file, 'r+');
          let r;
          try {
            r = await computeFast(input, { ...opts, scores: false, weightsFile: { fd, offset, keepWeights: false } });
          } finally {
            fs.closeSync(fd);
          }
          const bytes = fs.readFileSync(file);
          const written = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length));
          assertClose(written, ref.weights, 1e-5, 0, `${label} ${JSON.stringify(opts)} file`);
          assert.ok(bytes.subarray(0, offset).every((b) => b === 0xff), 'bytes before the offset untouched');
          assertClose(r.output, ref.output, 1e-5, 1e-5, `${label} output`);
          if (input.similarity === 'laplacian') assertClose(r.weights, ref.weights, 1e-5, 0, `${label} weights array`);
          else assert.strictEqual(r.weights.length, 0, `${label}: no weights array kept`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('weightsFile: a failed write rejects with WeightsWriteError on the pool and here, with no fallback run', async () => {
    const file = path.join(os.tmpdir(), `attn-ro-${process.pid}.bin`);
    fs.writeFileSync(file, '');
    const fd = fs.openSync(file, 'r'); // read-only: every write fails with EBADF
    try {
      const input: AttentionInput = { q: random(120, 8, 40), k: random(64, 8, 41), v: random(64, 4, 42) };
      for (const pool of [true, false]) {
        await assert.rejects(computeFast(input, { pool, weightsFile: { fd, offset: 0 } }),
          (e: Error) => e.name === 'WeightsWriteError' && e.message === 'EBADF');
      }
    } finally {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
  });

  it('after a large job the idle workers warm a spare of its size; the next job of that size writes into it', async () => {
    dropSpareMemory();
    const n = 1500; // 9 MB of weights: above WARM_SPARE_MIN_BYTES
    assert.ok(n * n * 4 >= WARM_SPARE_MIN_BYTES);
    const input: AttentionInput = { q: random(n, 4, 43), k: random(n, 4, 44), v: random(n, 2, 45) };
    const small: AttentionInput = { q: random(400, 4, 46) };
    await computeFast(small, { pool: true });
    assert.deepStrictEqual(await spareBuffers(), [], 'no spare for small weights');
    const first = await computeFast(input, { pool: true, scores: false });
    const spares = await spareBuffers();
    assert.deepStrictEqual(spares.map((b) => b.byteLength), [n * n * 4], 'a warm spare after the large job');
    const second = await computeFast(input, { pool: true, scores: false });
    assert.strictEqual(second.weights.buffer, spares[0], 'the second job wrote into the warm spare');
    assertClose(second.weights, first.weights, 0, 0, 'same weights from the warm spare');
    const again = await spareBuffers();
    assert.strictEqual(again.length, 1);
    assert.ok(again[0] !== spares[0] && again[0] !== first.weights.buffer, 'a new spare was warmed');
    dropSpareMemory();
    assert.deepStrictEqual(await spareBuffers(), []);
  });

  it('the pool is reusable after a cancel and after dispose', async () => {
    const input: AttentionInput = { q: random(80, 8, 19), k: random(90, 8, 20), v: random(90, 4, 21) };
    const ref = computeAttention(input);
    disposeComputePool();
    const r = await computeFast(input, { pool: true });
    assertClose(r.weights, ref.weights, 1e-5, 0, 'weights');
    assert.deepStrictEqual(r.warnings, []);
  });
});
