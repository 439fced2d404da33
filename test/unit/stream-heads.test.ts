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

  it('rejects non-square heads with a MatrixError', async () => {
    const q = random(10, 4, 1).data as Float32Array;
    const k = random(12, 4, 2).data as Float32Array;
    await assert.rejects(streamHead({ q, k, nq: 10, nk: 12, dk: 4, dv: 4 }, { similarity: 'dot', scaleFactor: 0.5, mask: { kind: 'none' } }, { metrics: true }),
      (e: Error) => e.name === 'MatrixError' && /square/.test(e.message));
  });
});
