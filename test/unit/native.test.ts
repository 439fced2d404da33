import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeAttention } from '../../src/core/attention';
import type { AttentionInput } from '../../src/core/attention';
import { findAsset, setComputeAssetsDir } from '../../src/core/compute/assets';
import { computeFast, disposeComputePool, dropSpareMemory, releaseResult } from '../../src/core/compute/fast';
import {
  dropNativeReserve, kernelName, loadNative, nativeArrays, nativeReserve, NATIVE_SYNC_WORK, NATIVE_VARIANTS, nativeUnavailableReason,
  RESERVE_CUT_MAX, resetNative, setKernelLog, setKernelPreference, sharesSlab, SLAB_MIN_BYTES, warmNativeReserve,
} from '../../src/core/compute/native';
import type { NativeAddon } from '../../src/core/compute/native';
import type { NdArray } from '../../src/core/ndarray';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { compute } from '../../src/loadPipeline';
import { assertClose, decode, fixtures, inputOf } from './engine-fixtures';

function random(rows: number, cols: number, seed: number, spread = 4): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * spread;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function maskWithEmptyRow(rows: number, cols: number, seed: number, heads = 1): NdArray {
  const r = random(heads * rows, cols, seed);
  const data = new Uint8Array(r.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(r.data[i]) > -0.8 ? 1 : 0;
  for (let j = 0; j < cols; j++) data[Math.min(3, rows - 1) * cols + j] = 0; // a fully masked row
  return { shape: heads > 1 ? [heads, rows, cols] : [rows, cols], dtype: 'bool', data };
}

function addon(): NativeAddon {
  const a = loadNative();
  assert.ok(a, `the native kernel did not load: ${nativeUnavailableReason()} (node scripts/build-native.js builds it)`);
  return a;
}

async function agrees(input: AttentionInput, what: string, tol = 1e-5): Promise<void> {
  const ref = computeAttention(input);
  const r = await computeFast(input, { kernel: 'native' });
  assertClose(r.weights, ref.weights, tol, 0, `${what} weights`);
  assertClose(r.output, ref.output, tol, tol, `${what} output`);
  assertClose(r.scores, ref.scores, tol, tol, `${what} scores`);
  assertClose(r.scaled, ref.scaled, tol, tol, `${what} scaled`);
  assert.deepStrictEqual(r.warnings, ref.warnings, `${what} warnings`);
  // The score views on demand (scores: false): made by the native kernel on first access.
  const lazy = await computeFast(input, { kernel: 'native', scores: false });
  assertClose(lazy.weights, ref.weights, tol, 0, `${what} weights (scores on demand)`);
  assertClose(lazy.scores, ref.scores, tol, tol, `${what} scores on demand`);
  assertClose(lazy.scaled, ref.scaled, tol, tol, `${what} scaled on demand`);
  // Single cells for hover, without the views: every cell of the first and last rows of each head.
  const cellwise = await computeFast(input, { kernel: 'native', scores: false });
  for (let h = 0; h < ref.heads; h++) {
    for (const i of [0, ref.nq - 1]) {
      for (let j = 0; j < ref.nk; j++) {
        const c = cellwise.scoreAt?.(h, i, j);
        const e = (h * ref.nq + i) * ref.nk + j;
        assertClose([c?.score ?? NaN, c?.scaled ?? NaN], [ref.scores[e], ref.scaled[e]], tol, tol, `${what} scoreAt(${h}, ${i}, ${j})`);
      }
    }
  }
}

describe('native kernel: every variant agrees with the reference and NumPy', function () {
  this.timeout(120000);
  after(() => {
    addon().setVariant('auto');
    disposeComputePool();
  });

  it('loads dist/attention.node (built by npm install / npm run build) and picks the best variant this CPU runs', () => {
    assert.ok(findAsset('attention.node'), 'dist/attention.node missing: node scripts/build-native.js');
    const info = addon().info();
    const best = NATIVE_VARIANTS.find((v) => info.supported[v]);
    assert.strictEqual(info.variant, best);
    assert.ok(info.threads >= 1);
    assert.strictEqual(kernelName(), `native (${best})`);
    assert.strictEqual(addon().setVariant('portable'), true);
    assert.strictEqual(addon().info().variant, 'portable');
    addon().setVariant('auto');
    assert.strictEqual(addon().info().variant, best);
  });

  for (const variant of NATIVE_VARIANTS) {
    describe(`variant ${variant}`, () => {
      before(function () {
        if (!addon().info().supported[variant]) this.skip(); // a CPU without it cannot run it at all
        assert.ok(addon().setVariant(variant));
      });
      after(() => addon().setVariant('auto'));

      it('the NumPy fixtures (every similarity, scale, mask, heads, projections)', async () => {
        for (const [name, c] of Object.entries(fixtures().cases)) {
          const r = await computeFast(inputOf(c), { kernel: 'native' });
          assertClose(r.weights, decode(c.expected.weights), 1e-6, 1e-5, `${name} weights`);
          assertClose(r.output, decode(c.expected.output), 1e-5, 1e-5, `${name} output`);
          assertClose(r.scaled, decode(c.expected.scaled), 1e-5, 1e-5, `${name} scaled`);
          assertClose(r.scores, decode(c.expected.scores), 1e-5, 1e-5, `${name} scores`);
        }
      });

      const shapes: [string, number, number, number, number][] = [
        ['n a multiple of every vector width', 64, 64, 16, 16],
        ['odd sizes', 37, 53, 7, 5],
        ['d = 1', 33, 17, 1, 1],
        ['d = 3', 19, 41, 3, 3],
        ['d = 65', 45, 70, 65, 65],
        ['one query', 1, 19, 3, 2],
        ['n_q > n_k', 90, 23, 8, 9],
        ['more rows than a block, wide values', 150, 40, 16, 130],
      ];
      const variants: Partial<AttentionInput>[] = [
        {}, { mask: 'causal' }, { similarity: 'cosine' }, { similarity: 'laplacian' }, { similarity: 'euclidean', scale: 0.5 },
        { scale: 'none' }, { scale: 0 }, { scale: -0.3 }, { similarity: 'laplacian', mask: 'causal' },
      ];
      it('odd shapes × similarities × scales × masks', async () => {
        for (const [label, nq, nk, dk, dv] of shapes) {
          for (const v of variants) {
            const input: AttentionInput = { q: random(nq, dk, 1), k: random(nk, dk, 2), v: random(nk, dv, 3), ...v };
            await agrees(input, `${label} ${nq}×${nk} d_k=${dk} d_v=${dv} ${JSON.stringify(v)}`);
          }
          const masked: AttentionInput = { q: random(nq, dk, 4), k: random(nk, dk, 5), v: random(nk, dv, 6), mask: maskWithEmptyRow(nq, nk, 7) };
          await agrees(masked, `${label} explicit mask with a fully masked row`);
        }
      });

      it('a fully masked row has zero weights and output, never NaN', async () => {
        const input: AttentionInput = { q: random(12, 8, 8), k: random(40, 8, 9), v: random(40, 4, 10), mask: maskWithEmptyRow(12, 40, 11) };
        const r = await computeFast(input, { kernel: 'native' });
        for (let j = 0; j < 40; j++) assert.strictEqual(r.weights[3 * 40 + j], 0);
        for (let c = 0; c < 4; c++) assert.strictEqual(r.output[3 * 4 + c], 0);
        assert.ok(!r.weights.some(Number.isNaN));
        assert.match(r.warnings.join('\n'), /1 query row is fully masked \(row 3\)/);
      });

      it('multi-head with a per-head mask, and projections with a causal mask', async () => {
        const heads = 3;
        const x = random(29, 12, 12);
        await agrees({ q: x, heads, mask: maskWithEmptyRow(29, 29, 13, heads) }, 'per-head mask');
        await agrees({ q: x, heads: 2, wq: random(12, 8, 14, 1), wk: random(12, 8, 15, 1), wv: random(12, 6, 16, 1), wo: random(6, 5, 17, 1), mask: 'causal' },
          'projected heads, causal');
        await agrees({ q: random(20, 12, 18), k: random(31, 12, 19), v: random(31, 9, 20), heads: 3, mask: 'causal' }, 'cross heads, causal, n_q < n_k');
      });

      it('a large job on the async path: equal to the sync path, progress up to 1, cancellable', async () => {
        const n = 700; // above NATIVE_SYNC_WORK with d = 512
        assert.ok(n * n * 1024 >= NATIVE_SYNC_WORK);
        const input: AttentionInput = { q: random(n, 512, 21), k: random(n, 512, 22), v: random(n, 512, 23), mask: 'causal' };
        const seen: number[] = [];
        const r = await computeFast(input, { kernel: 'native', onProgress: (f) => seen.push(f) });
        assert.strictEqual(seen[seen.length - 1], 1);
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1]);
        const ref = computeAttention(input);
        assertClose(r.weights, ref.weights, 1e-5, 0, 'weights');
        assertClose(r.output, ref.output, 1e-5, 1e-5, 'output');
        const ac = new AbortController();
        const p = computeFast(input, { kernel: 'native', signal: ac.signal });
        ac.abort();
        await assert.rejects(p, (e: Error) => e.name === 'AbortError');
      });

      it('weights past 16 MiB (written around the caches) with odd row starts, causal', async () => {
        const n = 2051; // 16.8 MB of weights; rows start at every alignment
        const input: AttentionInput = { q: random(n, 5, 60), k: random(n, 5, 61), v: random(n, 3, 62), mask: 'causal' };
        const ref = computeAttention(input);
        const r = await computeFast(input, { kernel: 'native', scores: false });
        assertClose(r.weights, ref.weights, 1e-5, 0, 'weights');
        assertClose(r.output, ref.output, 1e-5, 1e-5, 'output');
      });

      it('NaN in Q makes that row NaN, like NumPy; other rows are unaffected', async () => {
        const q = random(10, 8, 24);
        (q.data as Float32Array)[2 * 8 + 3] = NaN;
        const input: AttentionInput = { q, k: random(20, 8, 25), v: random(20, 4, 26) };
        const r = await computeFast(input, { kernel: 'native' });
        const ref = computeAttention(input);
        for (let i = 0; i < 10; i++) {
          for (let j = 0; j < 20; j++) {
            const a = r.weights[i * 20 + j];
            if (i === 2) assert.ok(Number.isNaN(a), `row 2 weight ${j} is ${a}`);
            else assert.ok(Math.abs(a - ref.weights[i * 20 + j]) <= 1e-5);
          }
        }
      });

      it('the polynomial 2^x keeps tiny weights to 1e-5 relative over 80 orders of magnitude', async () => {
        const nk = 40;
        const q: NdArray = { shape: [1, 1], dtype: 'float32', data: Float32Array.of(1) };
        const k: NdArray = { shape: [nk, 1], dtype: 'float32', data: Float32Array.from({ length: nk }, (_, j) => -4.6 * j) };
        const input: AttentionInput = { q, k, v: random(nk, 2, 27), scale: 'none' };
        const r = await computeFast(input, { kernel: 'native' });
        const ref = computeAttention(input);
        for (let j = 0; j < nk; j++) {
          if (ref.weights[j] < 1e-37) continue;
          const rel = Math.abs(r.weights[j] - ref.weights[j]) / ref.weights[j];
          assert.ok(rel < 1e-5, `weight ${j}: ${r.weights[j]} vs ${ref.weights[j]}`);
        }
      });

      it('kept packed K/V buffers: jobs growing, shrinking and changing head counts in a row, each equal to the reference', async () => {
        // The addon keeps the buffers K and V are packed into from job to job; a reused (larger, stale) one must
        // never leak into the next job's results.
        const jobs: [number, number, number, number][] = [[600, 600, 64, 1], [40, 70, 16, 1], [300, 300, 32, 4], [601, 600, 64, 1], [9, 5, 3, 2], [1100, 1100, 64, 1]];
        for (const [nq, nk, d, heads] of jobs) {
          const input: AttentionInput = { q: random(nq, d * heads, nq), k: random(nk, d * heads, nk + 1), v: random(nk, d * heads, nk + 2), heads, mask: nq % 2 ? 'causal' : undefined };
          const ref = computeAttention(input);
          const r = await computeFast(input, { kernel: 'native', scores: false });
          assertClose(r.weights, ref.weights, 1e-5, 0, `${nq}×${nk} d=${d} heads=${heads} weights`);
          assertClose(r.output, ref.output, 1e-5, 1e-5, `${nq}×${nk} d=${d} heads=${heads} output`);
          assertClose(r.values, ref.values, 0, 0, `${nq}×${nk} d=${d} heads=${heads} values`);
        }
      });

      it('row statistics for streamed passes: max of the scaled scores and Σ exp(x − max) per row', () => {
        const nq = 21;
        const nk = 57;
        const dk = 9;
        const q = random(nq, dk, 28).data as Float32Array;
        const k = random(nk, dk, 29).data as Float32Array;
        const scale = 1 / 3;
        const ref = computeAttention({ q: random(nq, dk, 28), k: random(nk, dk, 29), v: random(nk, 1, 30), mask: 'causal', scale });
        const rowMax = new Float32Array(nq);
        const rowSum = new Float32Array(nq);
        const code = addon().rowStats({
          heads: 1, nq, nk, dk, dv: 1, op: 0, scale, maskKind: 1, maskOffset: nk - nq, maskPerHead: 0,
          q, k, v: new Float32Array(nk), output: new Float32Array(nq), fd: -1, fdOffset: 0,
        }, rowMax, rowSum);
        assert.strictEqual(code, 0);
        for (let i = 0; i < nq; i++) {
          const row = ref.scaled.subarray(i * nk, (i + 1) * nk);
          const m = Math.max(...row);
          const s = row.reduce((a, x) => a + Math.exp(x - m), 0);
          assert.ok(Math.abs(rowMax[i] - m) <= 1e-5 * Math.max(1, Math.abs(m)), `row ${i} max ${rowMax[i]} vs ${m}`);
          assert.ok(Math.abs(rowSum[i] - s) <= 1e-5 * s, `row ${i} sum ${rowSum[i]} vs ${s}`);
        }
      });
    });
  }

  it('nonFinite counts NaN and ±∞ (not −0, subnormals or the largest float) at every length and alignment; the warnings name them', async () => {
    const a = addon();
    assert.ok(typeof a.nonFinite === 'function');
    const big = new Float32Array(1037);
    big[0] = NaN;
    big[5] = -0;
    big[17] = Infinity;
    big[18] = 1e-45;
    big[64] = 3.4028234663852886e38;
    big[1000] = -Infinity;
    big[1036] = NaN;
    for (let start = 0; start < 20; start++) {
      const part = big.subarray(start);
      const want = Array.from(part).filter((x) => !Number.isFinite(x)).length;
      assert.strictEqual(a.nonFinite?.(part), want, `from ${start}`);
    }
    assert.strictEqual(a.nonFinite?.(new Float32Array(0)), 0);
    const q = random(300, 16, 80);
    const k = random(300, 16, 81);
    (q.data as Float32Array)[7] = Infinity;
    (k.data as Float32Array)[9] = NaN;
    (k.data as Float32Array)[10] = -Infinity;
    const r = await computeFast({ q, k, v: random(300, 16, 82) }, { kernel: 'native', scores: false });
    const ref = computeAttention({ q, k, v: random(300, 16, 82) });
    assert.deepStrictEqual(r.warnings, ref.warnings);
    assert.match(r.warnings.join('\n'), /Q holds 1 NaN or infinite value;.*\n.*K holds 2 NaN or infinite values/);
  });

  it('nativeArrays: outputs one after the other, 64 bytes apart at least; small ones plain, mid-size ones from a shared slab, large ones on their own 2 MiB pages', () => {
    const a = addon();
    const [w, o, none] = nativeArrays(a, [1024 * 600, 512 * 64 + 3, 0], 'test arrays');
    assert.strictEqual(w.length, 1024 * 600);
    assert.strictEqual(o.length, 512 * 64 + 3);
    assert.strictEqual(none.length, 0);
    assert.ok(w.buffer === o.buffer, 'one buffer, so huge pages hold both');
    assert.ok(!sharesSlab(w), 'from HUGE_MIN_BYTES on, a buffer of their own');
    assert.ok(w.byteOffset % 4 === 0 && (o.byteOffset - w.byteOffset) % 64 === 0, 'the second starts 64-byte aligned after the first');
    assert.ok(o.byteOffset >= w.byteOffset + w.byteLength, 'the output starts after the weights');
    assert.ok(o.byteOffset + o.byteLength <= w.buffer.byteLength);
    assert.ok(w.every((x) => x === 0) && o.every((x) => x === 0), 'fresh arrays are zero');
    w.fill(1);
    assert.ok(o.every((x) => x === 0), 'writing one never touches the other');
    // The padding is address space only: at most 2 MiB beyond the arrays' 2 MiB pages.
    assert.ok(w.buffer.byteLength <= Math.ceil((w.byteLength + o.byteLength + 64) / (2 << 20)) * (2 << 20) + (2 << 20));
    const offered = new ArrayBuffer(w.buffer.byteLength);
    const [reused] = nativeArrays(a, [1024 * 600, 512 * 64 + 3, 0], 'test arrays', (bytes) => (bytes === offered.byteLength ? offered : undefined));
    assert.ok(reused.buffer === offered, 'a buffer offered by reuse is used');

    // Mid-size: cut one after the other from a slab, never overlapping, each zero until written.
    const cuts: Float32Array[][] = [];
    for (let i = 0; i < 14; i++) cuts.push(nativeArrays(a, [256 * 256, 256 * 64], 'test arrays'));
    assert.ok(cuts.every(([x, y]) => sharesSlab(x) && x.buffer === y.buffer));
    assert.strictEqual(cuts[1][0].buffer, cuts[0][0].buffer, 'the next result is cut from the same slab');
    assert.ok(cuts[1][0].byteOffset >= cuts[0][1].byteOffset + cuts[0][1].byteLength, 'after the last one');
    assert.notStrictEqual(cuts[13][0].buffer, cuts[0][0].buffer, 'a full slab is followed by a new one');
    for (const [x, y] of cuts) {
      assert.ok(x.every((v) => v === 0) && y.every((v) => v === 0), 'a cut is zero until written');
      x.fill(2);
      y.fill(3);
    }
    assert.ok(cuts.every(([x, y]) => x.every((v) => v === 2) && y.every((v) => v === 3)), 'no cut overlaps another');

    // Weights that fill their 2 MiB pages: the output, which alone would start one more, is cut from the slab.
    const [fill, rest] = nativeArrays(a, [1024 * 1024, 1024 * 64], 'test arrays');
    assert.ok(!sharesSlab(fill) && sharesSlab(rest), 'the weights on their own pages, the output from the slab');
    assert.strictEqual(fill.length, 1024 * 1024);
    assert.strictEqual(rest.length, 1024 * 64);
    fill.fill(4);
    assert.ok(rest.every((v) => v === 0) && cuts.every(([x]) => x.every((v) => v === 2)), 'the output overlaps nothing');

    const [small, smallOut] = nativeArrays(a, [SLAB_MIN_BYTES / 4 - 1024, 100], 'test arrays');
    assert.strictEqual(small.byteOffset, 0);
    assert.strictEqual(smallOut.buffer, small.buffer);
    assert.ok(!sharesSlab(small));
    assert.strictEqual(small.buffer.byteLength, small.byteLength + 448, 'below SLAB_MIN_BYTES: one plain buffer, 64-byte steps');
  });

  it('a released native result\'s memory (weights and output, one buffer) is reused whole, and every value is rewritten', async () => {
    dropSpareMemory();
    // A plain buffer (below SLAB_MIN_BYTES) and buffers of their own on huge pages, one and several heads.
    // n = 1024 (d = 16): 4 MiB of weights on their own pages, the output from the slab.
    for (const [n, heads] of [[96, 1], [800, 1], [720, 2], [1024, 1]]) {
      const x = (seed: number) => random(n, 16, seed); // `heads` splits the 16 columns
      const plain: AttentionInput = { q: x(1), k: x(2), v: x(3), heads };
      const masked: AttentionInput = { ...plain, mask: maskWithEmptyRow(n, n, 4) };
      const first = await computeFast(plain, { kernel: 'native', scores: false });
      const buffer = first.weights.buffer;
      assert.ok(first.headOutputs.buffer === buffer || (n === 1024 && sharesSlab(first.headOutputs)), `n = ${n}: weights and outputs in one buffer`);
      releaseResult(first);
      new Float32Array(buffer, 0, buffer.byteLength >> 2).fill(7); // stale values a careless reuse would leak
      const second = await computeFast(masked, { kernel: 'native', scores: false });
      assert.strictEqual(second.weights.buffer, buffer, `n = ${n}: the released buffer is reused`);
      const ref = computeAttention(masked);
      assertClose(second.weights, ref.weights, 1e-5, 0, `n = ${n}: weights after reuse`);
      assertClose(second.output, ref.output, 1e-5, 1e-5, `n = ${n}: output after reuse`);
      releaseResult(second);
      releaseResult(second); // twice is harmless: the buffer is handed out once
      const third = await computeFast(plain, { kernel: 'native', scores: false });
      const fourth = await computeFast(plain, { kernel: 'native', scores: false });
      assert.notStrictEqual(third.weights.buffer, fourth.weights.buffer, `n = ${n}: one spare serves one job`);
      assertClose(fourth.weights, computeAttention(plain).weights, 1e-5, 0, `n = ${n}: weights of a fresh buffer`);
    }
    // A result cut from a slab is never handed out again: releasing it leaves its values alone.
    const mid: AttentionInput = { q: random(300, 16, 5), k: random(300, 16, 6), v: random(300, 16, 7), heads: 2 };
    const kept = await computeFast(mid, { kernel: 'native', scores: false });
    assert.ok(sharesSlab(kept.weights));
    releaseResult(kept);
    for (let i = 0; i < 3; i++) await computeFast({ ...mid, mask: 'causal' }, { kernel: 'native', scores: false });
    const ref = computeAttention(mid);
    assertClose(kept.weights, ref.weights, 1e-5, 0, 'a released slab result\'s weights after later jobs');
    assertClose(kept.output, ref.output, 1e-5, 1e-5, 'a released slab result\'s output after later jobs');
    dropSpareMemory();
  });

  it('the reserve: a slab faulted in while idle takes the next results; let go when idle, a live result\'s slab is used again', async () => {
    const a = addon();
    dropNativeReserve();
    const x = (seed: number) => random(512, 16, seed); // 1 MiB of weights, 32 KiB of output
    const input: AttentionInput = { q: x(1), k: x(2), v: x(3) };
    const ref = computeAttention(input);
    const run = () => computeFast(input, { kernel: 'native', scores: false, reserve: true });
    const first = await run();
    let r = await nativeReserve();
    assert.ok(sharesSlab(first.weights) && r.current === first.weights.buffer, 'cut from the reserve\'s current slab');
    assert.ok(r.waiting && r.waiting !== r.current, 'after the job, a second slab is faulted in and waits');
    const second = await run();
    assert.strictEqual(second.weights.buffer, r.waiting, 'a slab made on fresh pages is left for the waiting one at the next job');
    r = await nativeReserve();
    const waiting = r.waiting;
    assert.ok(waiting && waiting !== second.weights.buffer, 'and another is faulted in behind it');
    // A marker in the slab's last page, past every cut it will have (32 results of 1 MiB + 32 KiB fill 33 MiB).
    const marker = new Float32Array(second.weights.buffer, second.weights.byteOffset + (34 << 20) - 4096, 1024).fill(9);
    const results = [second];
    const last = () => results[results.length - 1];
    while (results.length < 64 && last().weights.buffer === second.weights.buffer) results.push(await run());
    assert.strictEqual(last().weights.buffer, waiting, 'the job that fills a faulted-in slab moves on to the waiting one');
    assert.strictEqual(results.length - 1, 32, 'a 34 MiB slab holds 32 of these results');
    assert.ok(marker.every((v) => v === 0), 'the unused rest of the slab left behind went back to the system (reads as zeros)');
    for (const res of [first, second, last()]) {
      assertClose(res.weights, ref.weights, 1e-5, 0, 'weights on reserve memory');
      assertClose(res.output, ref.output, 1e-5, 1e-5, 'output on reserve memory');
    }
    const cuts = results.map((res) => res.weights.byteOffset);
    assert.ok(cuts.every((c, i) => i === 0 || results[i].weights.buffer !== results[i - 1].weights.buffer || c >= cuts[i - 1] + (1 << 20)), 'cuts never overlap');

    // Idle (the timer calls the same function): both let go, their unused pages back to the system at once, but the
    // slab a live result holds is used on.
    const resident = process.memoryUsage().rss;
    dropNativeReserve();
    const given = resident - process.memoryUsage().rss;
    assert.ok(given > 24 << 20, `the waiting slab's 34 MiB go back at once, not when collected (${(given / 2 ** 20).toFixed(1)} MiB)`);
    r = await nativeReserve();
    assert.ok(!r.current && !r.waiting, 'nothing held after an idle drop');
    const again = await run();
    assert.strictEqual(again.weights.buffer, last().weights.buffer, 'the slab a live result holds is used again, after its last cut');
    assert.ok(again.weights.byteOffset > last().weights.byteOffset);
    assertClose(again.weights, ref.weights, 1e-5, 0, 'weights after the idle drop');

    // Above RESERVE_CUT_MAX a result has a buffer of its own; without the option no slab is faulted in ahead.
    const big: AttentionInput = { q: random(2200, 16, 4), k: random(2200, 16, 5), v: random(2200, 16, 6) };
    assert.ok(2200 * 2200 * 4 > RESERVE_CUT_MAX);
    const own = await computeFast(big, { kernel: 'native', scores: false, reserve: true });
    assert.ok(!sharesSlab(own.weights), 'a large result on its own pages');
    dropNativeReserve();
    await computeFast(input, { kernel: 'native', scores: false });
    r = await nativeReserve();
    assert.ok(!r.waiting, 'no reserve unless asked for (the CLI)');

    // The host's compute (loadPipeline, what a panel runs) asks for it.
    dropNativeReserve();
    const env = { settings: () => ({ ...DEFAULT_SETTINGS, kernel: 'native' as const }) };
    const panel = await compute({ file: 'reserve.attention.json', q: x(1), k: x(2), v: x(3) }, env);
    r = await nativeReserve();
    assert.ok(r.current === panel.weights.buffer && r.waiting, 'a panel\'s compute keeps a slab waiting');
    assertClose(panel.weights, ref.weights, 1e-5, 0, 'the panel\'s weights');
    dropNativeReserve();

    // A prefault the system refuses (ENOMEM) leaves no reserve, and what it may have faulted in goes back.
    dropNativeReserve();
    const discarded: ArrayBuffer[] = [];
    const refusing = {
      hugeOffset: () => 0,
      prefault: async () => 12,
      discard: (buffer: ArrayBuffer) => { discarded.push(buffer); },
    } as unknown as NativeAddon;
    nativeArrays(refusing, [256 * 256, 256 * 64], 'test arrays', undefined, true);
    warmNativeReserve(refusing);
    r = await nativeReserve();
    assert.ok(r.current && !r.waiting, 'no waiting slab after a refused prefault');
    assert.ok(discarded.length === 1 && discarded[0] !== r.current, 'the refused slab\'s pages are handed back');
    dropNativeReserve();

    // The addon's prefault leaves the contents alone and refuses a range outside the buffer.
    const buffer = new ArrayBuffer(3 << 20);
    new Uint8Array(buffer).forEach((_, i, b) => { b[i] = i & 0xff; });
    assert.strictEqual(await a.prefault?.(buffer, 4096, (2 << 20) + 5), 0);
    assert.ok(new Uint8Array(buffer).every((v, i) => v === (i & 0xff)), 'prefault changes no byte');
    assert.throws(() => a.prefault?.(buffer, 1, 3 << 20), /prefault: \(ArrayBuffer, offset, bytes\)/);
    assert.throws(() => a.prefault?.(new Float32Array(4) as unknown as ArrayBuffer, 0, 4), /prefault/);
    assert.throws(() => a.prefault?.(buffer, -1, 4), /prefault/);
    // discard hands back the whole pages inside the range, which then read as zeros, and nothing outside it.
    const bytes = new Uint8Array(buffer).fill(7);
    a.discard?.(buffer, 4096, 3 * 4096);
    assert.ok(bytes.every((v, i) => v === 7 || (i >= 4096 && i < 4 * 4096)), 'nothing outside the range is touched');
    assert.ok(bytes.subarray(4096, 4 * 4096).filter((v) => v === 0).length >= 2 * 4096, 'the whole pages inside it read as zeros');
    assert.throws(() => a.discard?.(buffer, 0, (3 << 20) + 1), /discard: \(ArrayBuffer, offset, bytes\)/);
  });

  it('weightsFile: finished rows go to the file at the offset with no weights array; a failed write is a WeightsWriteError', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-native-'));
    try {
      for (const [label, input] of [
        ['small (sync)', { q: random(150, 8, 31), k: random(101, 8, 32), v: random(101, 4, 33), similarity: 'cosine', mask: 'causal' }],
        ['large (async)', { q: random(700, 600, 34), k: random(650, 600, 35), v: random(650, 600, 36), mask: 'causal' }],
      ] as [string, AttentionInput][]) {
        const ref = computeAttention(input);
        const file = path.join(dir, 'w.bin');
        const offset = 128;
        fs.writeFileSync(file, Buffer.alloc(offset + ref.weights.length * 4, 0xff));
        const fd = fs.openSync(file, 'r+');
        let r;
        try {
          r = await computeFast(input, { kernel: 'native', scores: false, weightsFile: { fd, offset, keepWeights: false } });
        } finally {
          fs.closeSync(fd);
        }
        const bytes = fs.readFileSync(file);
        assertClose(new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length)), ref.weights, 1e-5, 0, `${label} file`);
        assert.ok(bytes.subarray(0, offset).every((b) => b === 0xff));
        assert.strictEqual(r.weights.length, 0);
        assertClose(r.output, ref.output, 1e-5, 1e-5, `${label} output`);
      }
      const ro = path.join(dir, 'ro.bin');
      fs.writeFileSync(ro, '');
      const fd = fs.openSync(ro, 'r');
      try {
        await assert.rejects(computeFast({ q: random(120, 8, 40), k: random(64, 8, 41), v: random(64, 4, 42) }, { kernel: 'native', weightsFile: { fd, offset: 0 } }),
          (e: Error) => e.name === 'WeightsWriteError' && e.message === 'EBADF');
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects arrays shorter than their shapes (never reading past them) and fields of the wrong type, naming the field', () => {
    const base = {
      heads: 1, nq: 4, nk: 4, dk: 2, dv: 2, op: 0 as const, scale: 1, maskKind: 0 as const, maskOffset: 0, maskPerHead: 0 as const,
      q: new Float32Array(8), k: new Float32Array(8), v: new Float32Array(8), output: new Float32Array(8), fd: -1, fdOffset: 0,
    };
    assert.strictEqual(addon().run(base), 0);
    assert.throws(() => addon().run({ ...base, k: new Float32Array(7) }), (e: Error) => e instanceof TypeError && /\bk is missing/.test(e.message));
    assert.throws(() => addon().run({ ...base, weights: new Float32Array(15) }), TypeError);
    assert.throws(() => addon().run({ ...base, maskKind: 2 }), TypeError);
    assert.throws(() => addon().run({ ...base, nq: 0 }), TypeError);
    // Fields of the wrong type are refused by name; absent optional ones take their defaults.
    assert.throws(() => addon().run({ ...base, scale: 'x' as unknown as number }), /scale/);
    assert.throws(() => addon().run({ ...base, nq: 'four' as unknown as number }), /nq/);
    assert.throws(() => addon().run({ ...base, q: [0, 0, 0, 0, 0, 0, 0, 0] as unknown as Float32Array }), /\bq\b/);
    assert.strictEqual(addon().run({ ...base, kvHeads: undefined, threads: undefined }), 0);
  });
});

describe('native kernel: choosing and falling back', function () {
  this.timeout(60000);
  const input: AttentionInput = { q: random(30, 8, 50), k: random(25, 8, 51), v: random(25, 3, 52), mask: 'causal' };
  afterEach(() => {
    setComputeAssetsDir(undefined);
    resetNative();
    setKernelPreference('auto');
    setKernelLog((line) => console.warn(line));
  });

  it('without an addon, auto runs the WASM kernel after one log line; native asks by name and gets a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-nonative-'));
    try {
      // Only the WASM builds and the worker: what a platform without a native build ships.
      for (const f of ['attention.wasm', 'attention-fma.wasm', 'worker.js'] as const) fs.copyFileSync(findAsset(f) as string, path.join(dir, f));
      setComputeAssetsDir(dir);
      resetNative();
      const lines: string[] = [];
      setKernelLog((l) => lines.push(l));
      assert.strictEqual(kernelName(), 'wasm');
      const r = await computeFast(input);
      await computeFast(input);
      assertClose(r.weights, computeAttention(input).weights, 1e-5, 0, 'wasm fallback weights');
      assert.strictEqual(lines.length, 1, lines.join('\n'));
      assert.match(lines[0], /native kernel unavailable .*attention\.node.*; using the WASM kernel/);
      await assert.rejects(computeFast(input, { kernel: 'native' }), /native kernel was requested but is not available/);
      setKernelPreference('native');
      await assert.rejects(computeFast(input), /native kernel was requested/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken addon file also falls back with one line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-badnative-'));
    try {
      for (const f of ['attention.wasm', 'attention-fma.wasm', 'worker.js'] as const) fs.copyFileSync(findAsset(f) as string, path.join(dir, f));
      fs.writeFileSync(path.join(dir, 'attention.node'), 'not an ELF file');
      setComputeAssetsDir(dir);
      resetNative();
      const lines: string[] = [];
      setKernelLog((l) => lines.push(l));
      const r = await computeFast(input);
      assertClose(r.output, computeAttention(input).output, 1e-5, 1e-5, 'output');
      assert.strictEqual(lines.length, 1);
      assert.match(lines[0], /did not load/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scores on demand and scoreAt on the WASM and TypeScript paths too; results name their kernel', async () => {
    const masked: AttentionInput = { q: random(30, 8, 53), k: random(25, 8, 54), v: random(25, 3, 55), mask: maskWithEmptyRow(30, 25, 56) };
    for (const inp of [input, masked, { ...input, similarity: 'laplacian' as const }]) {
      const ref = computeAttention(inp);
      for (const kernel of ['wasm', 'ts'] as const) {
        const r = await computeFast(inp, { kernel, scores: false });
        assert.match(r.kernel ?? '', kernel === 'ts' || inp.similarity === 'laplacian' ? /^ts$/ : /^wasm \((fma|simd)\)$/);
        for (let j = 0; j < ref.nk; j++) {
          const c = r.scoreAt?.(0, 3, j);
          assertClose([c?.score ?? NaN, c?.scaled ?? NaN], [ref.scores[3 * ref.nk + j], ref.scaled[3 * ref.nk + j]], 1e-5, 1e-5, `${kernel} scoreAt`);
        }
        assertClose(r.scaled, ref.scaled, 1e-5, 1e-5, `${kernel} scaled on demand`);
      }
    }
    assert.match((await computeFast(input, { kernel: 'native' })).kernel ?? '', /^native \((avx512|avx2|portable)\)$/);
    assert.strictEqual(computeAttention(input).kernel, undefined);
  });

  it('kernel "wasm" (option or preference) runs WASM even where the addon loads', async () => {
    addon();
    setKernelPreference('wasm');
    assert.strictEqual(kernelName(), 'wasm');
    assert.strictEqual(kernelName('auto'), `native (${addon().info().variant})`);
    const r = await computeFast(input);
    assertClose(r.weights, computeAttention(input).weights, 1e-5, 0, 'weights');
    setKernelPreference('auto');
    assert.match(kernelName(), /^native/);
    assert.strictEqual(kernelName('wasm'), 'wasm');
  });

  it('scripts/build-native.js never fails npm install: a broken node-gyp prints one line and exits 0', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-gyp-'));
    try {
      // A copy of what the script needs, so the repository's build/ and dist/ are untouched.
      fs.mkdirSync(path.join(dir, 'scripts'));
      fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), { recursive: true });
      fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
      fs.copyFileSync(path.join(root, 'scripts', 'build-native.js'), path.join(dir, 'scripts', 'build-native.js'));
      const broken = path.join(dir, 'broken-node-gyp.js');
      fs.writeFileSync(broken, 'process.stderr.write("gyp ERR! build error\\n"); process.exit(1);\n');
      const run = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build-native.js')], {
        encoding: 'utf8', env: { ...process.env, ATTN_NODE_GYP: broken },
      });
      assert.strictEqual(run.status, 0, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.strictEqual(lines.length, 1, run.stdout);
      assert.match(lines[0], /native kernel not built \(gyp ERR! build error\); the WASM kernel will be used\./);
      assert.ok(!fs.existsSync(path.join(dir, 'dist', 'attention.node')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
