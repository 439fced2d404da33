import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import type { Similarity } from '../../src/core/attention';
import { scaleFactorFor } from '../../src/core/attention/shapes';
import { disposeComputePool } from '../../src/core/compute/fast';
import { headMetrics, prepareTokens } from '../../src/core/heads';
import type { HeadScores } from '../../src/core/heads';
import type { NdArray } from '../../src/core/ndarray';
import { streamHead } from '../../src/core/stream/engine';
import type { StreamSettings } from '../../src/core/stream/types';
import { HEAD_METRICS } from '../../src/shared/heads';
import { buildStreamedGridModel, streamedHeadTable } from '../../src/core/view/streamGrid';
import type { MetricsCache, ThumbnailCache } from '../../src/core/view/streamGrid';

/** Deterministic pseudo-random matrices (an LCG). */
function random(rows: number, cols: number, seed: number, spread = 4): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * spread;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

/** Tokens with repeats: a random prefix over a small vocabulary, then the prefix again (induction has targets). */
function tokensFor(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const half = Math.ceil(n / 2);
  const out: string[] = [];
  for (let i = 0; i < half; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(`t${s % 23}`);
  }
  for (let i = half; i < n; i++) out.push(out[i - half]);
  return out;
}

/**
 * Sharpened heads: Q rows copy the key of an engineered position (previous token, first token, self, the token after
 * the previous occurrence) plus noise, so every metric is far from 0 in some head.
 */
function engineered(n: number, d: number, kind: number, seed: number, tokens: string[]): { q: NdArray; k: NdArray } {
  const k = random(n, d, seed + 1);
  const q = random(n, d, seed, 0.5);
  const kd = k.data as Float32Array;
  const qd = q.data as Float32Array;
  const last = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let target = -1;
    if (kind === 1 && i > 0) target = i - 1;
    if (kind === 2) target = 0;
    if (kind === 3) target = i;
    const prev = last.get(tokens[i]);
    if (kind === 4 && prev !== undefined && prev + 1 <= i) target = prev + 1;
    last.set(tokens[i], i);
    if (target >= 0) for (let t = 0; t < d; t++) qd[i * d + t] += 3 * kd[target * d + t];
  }
  return { q, k };
}

function assertClose(got: HeadScores | undefined, want: HeadScores, what: string): void {
  assert.ok(got, `${what}: no streamed scores`);
  assert.deepStrictEqual(Object.keys(got).sort(), Object.keys(want).sort(), what);
  for (const m of HEAD_METRICS) {
    if (want[m] === undefined) continue;
    const g = got[m] as number;
    const w = want[m] as number;
    assert.ok(Math.abs(g - w) <= 1e-5, `${what} ${m}: streamed ${g}, in memory ${w}`);
  }
}

describe('streamed head metrics', function () {
  this.timeout(60_000);
  after(() => disposeComputePool());

  const n = 203;
  const d = 16;
  const tokens = tokensFor(n, 7);
  const index = prepareTokens(tokens, n);
  const runs: { similarity: Similarity; causal: boolean; kernel: 'wasm' | 'ts'; pool: boolean }[] = [
    { similarity: 'dot', causal: true, kernel: 'wasm', pool: false },
    { similarity: 'dot', causal: false, kernel: 'wasm', pool: true },
    { similarity: 'dot', causal: true, kernel: 'ts', pool: true },
    { similarity: 'cosine', causal: false, kernel: 'ts', pool: false },
    { similarity: 'laplacian', causal: true, kernel: 'ts', pool: false },
  ];
  for (const run of runs) {
    it(`equal heads.ts on the in-memory weights: ${run.similarity}, ${run.causal ? 'causal' : 'no mask'}, ${run.kernel}${run.pool ? ', pool' : ''}`, async () => {
      for (let kind = 0; kind <= 4; kind++) {
        const { q, k } = engineered(n, d, kind, 100 + kind, tokens);
        const ref = computeAttention({ q, k, v: k, similarity: run.similarity, scale: 'sqrt', mask: run.causal ? 'causal' : undefined });
        const settings: StreamSettings = {
          similarity: run.similarity, scaleFactor: scaleFactorFor('sqrt', run.similarity, d),
          mask: run.causal ? { kind: 'causal', offset: 0 } : { kind: 'none' },
        };
        const head = { q: q.data as Float32Array, k: k.data as Float32Array, nq: n, nk: n, dk: d, dv: d };
        const want = headMetrics(ref.weights, n, index);
        const got = await streamHead(head, settings, { metrics: true, tokens: index, kernel: run.kernel, pool: run.pool, overviewSize: kind % 2 ? 32 : 0 });
        assertClose(got.scores, want, `head kind ${kind}`);
        const plain = await streamHead(head, settings, { metrics: true, kernel: run.kernel, pool: run.pool });
        assertClose(plain.scores, headMetrics(ref.weights, n), `head kind ${kind} without tokens`);
        if (kind === 4 && run.causal && run.similarity === 'dot') assert.ok((want.induction as number) > 0.3, `the induction head scores ${want.induction}`);
      }
    });
  }

  it('a streamed heads grid ([L, H, T, d] Q, GQA K) measures every head as heads.ts does on its in-memory map', async () => {
    const L = 2;
    const H = 4;
    const HKV = 2;
    const T = 197;
    const D = 8;
    const kinds = [1, 2, 3, 4];
    // Q heads engineered per kind over K head ⌊h·H_kv/H⌋ (the same K head serves two query heads).
    const kAll = new Float32Array(L * HKV * T * D);
    const qAll = new Float32Array(L * H * T * D);
    const toks = tokensFor(T, 11);
    for (let l = 0; l < L; l++) {
      for (let g = 0; g < HKV; g++) kAll.set(random(T, D, 50 + l * 10 + g).data as Float32Array, (l * HKV + g) * T * D);
      for (let h = 0; h < H; h++) {
        const g = Math.floor((h * HKV) / H);
        const e = engineered(T, D, kinds[(l + h) % 4], 50 + l * 10 + g - 1, toks);
        qAll.set(e.q.data as Float32Array, (l * H + h) * T * D);
      }
    }
    const q: NdArray = { shape: [L, H, T, D], dtype: 'float32', data: qAll };
    const k: NdArray = { shape: [L, HKV, T, D], dtype: 'float32', data: kAll };
    const settings: StreamSettings = { similarity: 'dot', scaleFactor: 1 / Math.sqrt(D), mask: { kind: 'causal', offset: 0 } };
    const index = prepareTokens(toks, T);
    const want = (l: number, h: number, withTokens: boolean) => {
      const g = Math.floor((h * HKV) / H);
      const part = (a: Float32Array, heads: number, i: number): NdArray => ({ shape: [T, D], dtype: 'float32', data: a.slice((l * heads + i) * T * D, (l * heads + i + 1) * T * D) });
      const ref = computeAttention({ q: part(qAll, H, h), k: part(kAll, HKV, g), v: part(kAll, HKV, g), mask: 'causal' });
      return headMetrics(ref.weights, T, withTokens ? index : undefined);
    };
    const cache: MetricsCache = new Map();
    const thumbnails: ThumbnailCache = new Map();
    await buildStreamedGridModel(q, k, k, settings, { title: 'qk', overviewSize: 64, cellSize: 16, cache: thumbnails, metrics: cache });
    assert.strictEqual(cache.size, L * H, 'the thumbnail sweeps measured every head');
    const first = cache.get('1/3');
    const plain = await streamedHeadTable(q, k, settings, cache);
    assert.strictEqual(cache.get('1/3'), first, 'measured heads are reused');
    assert.deepStrictEqual([plain.layers, plain.heads, plain.n], [L, H, T]);
    assert.strictEqual(plain.metrics.induction, undefined);
    let last = 0;
    const tokened = await streamedHeadTable(q, k, settings, cache, { tokens: toks, onProgress: (f) => { last = f; } });
    assert.strictEqual(last, 1);
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const at = l * H + h;
        const pick = (t: typeof plain): HeadScores => Object.fromEntries(Object.entries(t.metrics).map(([m, c]) => [m, (c as Float64Array)[at]]));
        assertClose(pick(plain), want(l, h, false), `layer ${l} head ${h}`);
        assertClose(pick(tokened), want(l, h, true), `layer ${l} head ${h} with tokens`);
      }
    }
    // The induction heads (kind 4: (l + h) % 4 = 3) score highest.
    const ind = Array.from(tokened.metrics.induction as Float64Array);
    assert.ok([3, 6].includes(ind.indexOf(Math.max(...ind))), `induction by head: ${ind}`);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(streamedHeadTable(q, k, settings, new Map(), { signal: controller.signal }), (e: Error) => e.name === 'AbortError');
  });

  it('rejects non-square heads with a MatrixError', async () => {
    const q = random(10, 4, 1).data as Float32Array;
    const k = random(12, 4, 2).data as Float32Array;
    await assert.rejects(streamHead({ q, k, nq: 10, nk: 12, dk: 4, dv: 4 }, { similarity: 'dot', scaleFactor: 0.5, mask: { kind: 'none' } }, { metrics: true }),
      (e: Error) => e.name === 'MatrixError' && /square/.test(e.message));
  });
});
