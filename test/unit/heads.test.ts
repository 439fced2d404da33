// Head metrics and head distances against NumPy (test/fixtures/heads/make_fixtures.py), on engineered heads.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMatrix, readMatrix } from '../../src/core/matrixFile';
import type { MatrixHandle } from '../../src/core/matrixFile';
import { writeNpy } from '../../src/core/npyWrite';
import {
  computeHeadTable, headDistance, headLayout, headMetrics, headSourceFromArray, headSourceFromHandle, nearestHeads,
  prepareTokens,
} from '../../src/core/heads';
import type { HeadTable } from '../../src/core/heads';
import { HEAD_METRICS } from '../../src/shared/heads';
import type { HeadMetric } from '../../src/shared/heads';
import { HEADS_EXPECTED as E, headsFixture } from '../fixtures/heads/fixtures';

const TOL = 1e-5;
const HEADS_DIR = () => path.dirname(headsFixture('expected.json'));

function near(got: number, want: number, what: string, tol = TOL): void {
  assert.ok(Number.isFinite(got) && Math.abs(got - want) <= tol, `${what}: ${got} vs NumPy ${want}`);
}

async function withDump<T>(name: string, f: (h: MatrixHandle) => Promise<T>): Promise<T> {
  const h = await openMatrix(path.resolve(HEADS_DIR(), name));
  try { return await f(h); } finally { await h.close(); }
}

function compareTable(t: HeadTable, want: Record<string, number[][]>, what: string): void {
  assert.deepStrictEqual(Object.keys(t.metrics).sort(), Object.keys(want).sort(), `${what}: metrics present`);
  for (const [m, rows] of Object.entries(want)) {
    const column = t.metrics[m as HeadMetric] as Float64Array;
    rows.forEach((row, l) => row.forEach((v, h) => near(column[l * t.heads + h], v, `${what} ${m} L${l}H${h}`)));
  }
}

/** The same metrics the slow, obvious way (Math.log, float64), for maps the fixtures do not cover. */
function reference(map: Float32Array, n: number): Record<string, number> {
  const w = (x: number) => (x > 0 && x < Infinity ? x : 0);
  let ent = 0; let mx = 0; let bos = 0; let self = 0; let prev = 0; let total = 0;
  for (let i = 0; i < n; i++) {
    let rowMax = 0;
    for (let j = 0; j < n; j++) {
      const x = w(map[i * n + j]);
      if (x > 0) ent -= x * Math.log(x);
      rowMax = Math.max(rowMax, x);
      total += x;
    }
    mx += rowMax; bos += w(map[i * n]); self += w(map[i * n + i]);
    if (i > 0) prev += w(map[i * n + i - 1]);
  }
  return { entropy: ent / n, max: mx / n, bos: bos / n, self: self / n, previous_token: total ? prev / total : 0 };
}

describe('head metrics', () => {
  it('every metric of every engineered head equals NumPy\'s (TransformerLens "mul" patterns), with tokens', async () => {
    const t = await withDump('dump.npy', (h) => computeHeadTable(headSourceFromHandle(h), { tokens: E.tokens }));
    assert.deepStrictEqual([t.layers, t.heads, t.n], [...E.shape, E.n]);
    compareTable(t, E.metrics, 'dump.npy');
  });

  it('without tokens the token metrics are absent and the rest unchanged', async () => {
    const t = await withDump('dump.npy', (h) => computeHeadTable(headSourceFromHandle(h)));
    assert.strictEqual(t.metrics.duplicate_token, undefined);
    assert.strictEqual(t.metrics.induction, undefined);
    compareTable(t, E.metrics_no_tokens, 'dump.npy without tokens');
  });

  it('each engineered head scores highest on its own metric', async () => {
    const t = await withDump('dump.npy', (h) => computeHeadTable(headSourceFromHandle(h), { tokens: E.tokens }));
    for (const [metric, [layer, head]] of Object.entries(E.kinds)) {
      const column = t.metrics[metric as HeadMetric] as Float64Array;
      const top = column.indexOf(Math.max(...column));
      assert.deepStrictEqual([Math.floor(top / t.heads), top % t.heads], [layer, head], `${metric}: top head`);
      // and clearly: by a margin, not a rounding
      const second = Math.max(...Array.from(column).filter((_, i) => i !== top));
      assert.ok(column[top] - second > 0.03, `${metric}: ${column[top]} vs runner-up ${second}`);
    }
  });

  it('a [H, n, n] file is one layer; a [n, n] map is one head; a batch axis of 1 is dropped', async () => {
    const layer0 = await withDump('layer0.npy', (h) => computeHeadTable(headSourceFromHandle(h), { tokens: E.tokens }));
    assert.deepStrictEqual([layer0.layers, layer0.heads], [1, 4]);
    const firstLayer = Object.fromEntries(Object.entries(E.metrics).map(([m, rows]) => [m, [rows[0]]]));
    compareTable(layer0, firstLayer, 'layer0.npy');

    const dump = await readMatrix(headsFixture('dump.npy'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-'));
    try {
      const n = E.n;
      const one = path.join(dir, 'one.npy');
      await writeNpy(one, { shape: [n, n], dtype: 'float32', data: (dump.data as Float32Array).slice(2 * n * n, 3 * n * n) });
      const t1 = await withDump(one, (h) => computeHeadTable(headSourceFromHandle(h), { tokens: E.tokens }));
      assert.deepStrictEqual([t1.layers, t1.heads], [1, 1]);
      compareTable(t1, Object.fromEntries(Object.entries(E.metrics).map(([m, rows]) => [m, [[rows[0][2]]]])), 'one.npy');

      // float64 and a leading batch axis of 1: [1, L, H, n, n]
      const f64 = path.join(dir, 'batch_f64.npy');
      await writeNpy(f64, { shape: [1, ...dump.shape], dtype: 'float64', data: Float64Array.from(dump.data as Float32Array) });
      const t5 = await withDump(f64, (h) => computeHeadTable(headSourceFromHandle(h), { tokens: E.tokens }));
      compareTable(t5, E.metrics, 'batch_f64.npy');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches the plain float64 definitions on random, tiny, subnormal and hostile weights', () => {
    const n = 97;
    let s = 12345;
    const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
    const map = new Float32Array(n * n);
    for (let i = 0; i < map.length; i++) map[i] = Math.exp(-60 * rnd()) * rnd();
    map[5] = 1e-40; map[6] = 1.5e-38; map[7] = -0.3; map[8] = NaN; map[9] = Infinity; map[n * 3 + 3] = 0.999;
    map.fill(0, n * 10, n * 11); // a fully masked row still counts in the means
    const got = headMetrics(map, n);
    const want = reference(map, n);
    for (const m of Object.keys(want)) near(got[m as HeadMetric] as number, want[m], m, 1e-9);
  });

  it('a map of zeros scores 0 everywhere (TransformerLens would give NaN); shapes and tokens are validated', () => {
    const scores = headMetrics(new Float32Array(16), 4, prepareTokens(['a', 'b', 'a', 'b'], 4));
    for (const m of HEAD_METRICS) assert.strictEqual(scores[m], 0, m);
    assert.throws(() => headLayout([2, 3, 4, 5], 'x.npy'), /x\.npy: .*square.*4 × 5/);
    assert.throws(() => headLayout([7], 'x.npy'), /\[layers, heads, n, n\].*\[7\]/);
    assert.throws(() => headLayout([2, 2, 2, 3, 3], 'x.npy'), /\[2, 2, 2, 3, 3\]/);
    assert.throws(() => headLayout([0, 3, 3], 'x.npy'), /no heads/);
    assert.throws(() => prepareTokens(['a', 'b'], 3, 't.json'), /t\.json: the tokens have 2 entries but the attention maps are 3 × 3/);
  });

  it('cancels between heads and reports progress', async () => {
    const n = 4;
    const src = headSourceFromArray(new Float32Array(3 * 5 * n * n).fill(0.25), 3, 5, n);
    const seen: number[] = [];
    const t = await computeHeadTable(src, { onProgress: (f) => seen.push(f) });
    assert.strictEqual(seen.length, 15);
    assert.strictEqual(seen[14], 1);
    near(t.metrics.entropy?.[0] as number, Math.log(4), 'uniform entropy', 1e-12);
    const ac = new AbortController();
    await assert.rejects(computeHeadTable(src, { signal: ac.signal, onProgress: (f) => { if (f > 0.3) ac.abort(); } }), { name: 'AbortError' });
  });
});

describe('heads like this one (Jensen–Shannon distance)', () => {
  it('every pairwise distance equals NumPy\'s base-2 Jensen–Shannon distance, averaged over rows', async () => {
    const dump = await readMatrix(headsFixture('dump.npy'));
    const n = E.n;
    const data = dump.data as Float32Array;
    const head = (k: number) => data.subarray(k * n * n, (k + 1) * n * n);
    for (let a = 0; a < 8; a++) {
      for (let b = 0; b < 8; b++) near(headDistance(head(a), head(b), n), E.distance[a][b], `distance ${a}→${b}`);
      assert.strictEqual(headDistance(head(a), head(a), n), 0, `distance ${a}→${a} is exactly 0`);
    }
  });

  it('nearestHeads lists the k nearest heads, nearest first, without the head itself', async () => {
    const near3 = await withDump('dump.npy', (h) => nearestHeads(headSourceFromHandle(h), 0, 2, 3));
    const want = E.distance[2].map((d, k) => ({ k, d })).filter((x) => x.k !== 2).sort((x, y) => x.d - y.d || x.k - y.k).slice(0, 3);
    assert.deepStrictEqual(near3.map((x) => [x.layer, x.head]), want.map((x) => [Math.floor(x.k / 4), x.k % 4]));
    near3.forEach((x, i) => near(x.distance, want[i].d, `nearest ${i}`));
    await assert.rejects(withDump('dump.npy', (h) => nearestHeads(headSourceFromHandle(h), 2, 0, 3)), /no layer 2 head 0/);
  });
});
