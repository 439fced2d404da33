import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import type { NdArray } from '../../src/core/ndarray';
import { MatrixError } from '../../src/core/ndarray';
import { cellDetails, rowDetails } from '../../src/shared/inspect';
import { describeOutput, formatWeight } from '../../src/shared/format';
import { AGGREGATE_FULL_CELLS, buildModelFromArray, buildModelFromDump, buildModelFromSpec, diffModels, type DumpHandle } from '../../src/core/view/model';
import { ModelServer } from '../../src/core/view/serve';
import { closeTo, viewFixtures } from './view-fixtures';

function nd(rows: number[][] | number[]): NdArray {
  if (Array.isArray(rows[0])) {
    const r = rows as number[][];
    return { shape: [r.length, r[0].length], dtype: 'float64', data: Float64Array.from(r.flat()) };
  }
  return { shape: [rows.length], dtype: 'float64', data: Float64Array.from(rows as number[]) };
}

function coloursModel() {
  const f = viewFixtures().colours;
  const result = computeAttention({ q: nd(f.q), k: nd(f.k), v: nd(f.v), scale: 'sqrt' });
  const spec = { file: 'colours.attention.json', queryLabels: ['#8517dc'], keyLabels: f.keyLabels, valueLabels: f.valueLabels };
  return { f, model: buildModelFromSpec(spec, result, 'colours.attention.json') };
}

describe('view: the colours example (seed 000) as a heatmap model', () => {
  it('a computed model views the result\'s arrays (no copies) and makes contributions only when first read', () => {
    const n = 300;
    const q: NdArray = { shape: [n, 4], dtype: 'float32', data: Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)) };
    const result = computeAttention({ q });
    const model = buildModelFromSpec({ file: 'big.json' }, result, 'big');
    assert.strictEqual(model.kinds.weights?.data.buffer, result.weights.buffer, 'weights are a view');
    assert.strictEqual(model.kinds.scores?.data.buffer, result.scores.buffer, 'scores are a view');
    const d = Object.getOwnPropertyDescriptor(model.kinds, 'contributions');
    assert.ok(d?.get, 'contributions is made on demand');
    let reads = 0;
    Object.defineProperty(model.kinds, 'contributions', { enumerable: true, configurable: true, get: () => (reads++, d.get?.()) });
    const server = new ModelServer(model, { overviewSize: 128 });
    assert.ok(server.kinds.includes('contributions'), 'listed as a kind');
    server.wireModel();
    assert.strictEqual(reads, 0, 'not computed to post the model');
    const c = model.kinds.contributions;
    assert.ok(c && c.rows === n && c.cols === n);
    assert.strictEqual(model.kinds.contributions, c, 'made once');
  });

  it('holds weights, raw and scaled scores, output and contributions as NumPy computes them', () => {
    const { f, model } = coloursModel();
    assert.strictEqual(model.defaultKind, 'weights');
    const w = model.kinds.weights;
    assert.ok(w);
    assert.deepStrictEqual([w.rows, w.cols], [1, 8]);
    closeTo(w.data, f.weights, 1e-6, 'weights');
    closeTo(model.kinds.scores?.data ?? [], f.scores, 1e-6, 'scores');
    closeTo(model.kinds.scaled?.data ?? [], f.scaled, 1e-6, 'scaled');
    closeTo(model.kinds.output?.data ?? [], f.output, 1e-6, 'output');
    // One-hot values have norm 1: contributions equal the weights.
    closeTo(model.kinds.contributions?.data ?? [], f.weights, 1e-6, 'contributions');
    assert.strictEqual(model.subtitle, 'dot · scale 1/√3');
    assert.deepStrictEqual(model.valueLabels, ['warm', 'cool']);
  });

  it('hovering the first key says weight 15.0% (0.150), rank 2 of 8, contribution (0.150, 0)', () => {
    const { f, model } = coloursModel();
    const d = cellDetails(model, 'weights', 0, 0);
    assert.ok(d && d.weight !== undefined);
    assert.strictEqual(formatWeight(d.weight), '15.0% (0.150)');
    assert.deepStrictEqual([d.rank, d.of], [f.ranks[0], 8]);
    assert.strictEqual(d.rank, 2);
    assert.strictEqual(d.colLabel, '#fef0d9');
    closeTo([d.score ?? NaN, d.scaled ?? NaN], [f.scores[0], f.scaled[0]], 1e-6, 'scores');
    closeTo(d.contribution ?? [], [f.weights[0], 0], 1e-6, 'contribution');
    for (let j = 0; j < 8; j++) assert.strictEqual(cellDetails(model, 'weights', 0, j)?.rank, f.ranks[j]);
    assert.strictEqual(cellDetails(model, 'weights', 1, 0), undefined);
  });

  it('pinning the row reads "48.8% warm, 51.2% cool"', () => {
    const { f, model } = coloursModel();
    const r = rowDetails(model, 'weights', 0);
    assert.ok(r && r.output);
    closeTo(r.output, f.output, 1e-6, 'output');
    assert.strictEqual(r.valuesNonNegative, true);
    assert.strictEqual(describeOutput(r.output, model.valueLabels, r.valuesNonNegative), '48.8% warm, 51.2% cool');
    closeTo(r.weights, f.weights, 1e-6, 'row');
  });

  it('shows signed outputs as numbers, not shares', () => {
    assert.strictEqual(describeOutput([0.5, -1.25], ['a', 'b'], false), 'a 0.5, b -1.25');
    assert.strictEqual(describeOutput([1, 3], undefined, true), '25.0% dim 0, 75.0% dim 1');
  });

  it('drops labels that do not match the axis, with a warning', () => {
    const f = viewFixtures().colours;
    const result = computeAttention({ q: nd(f.q), k: nd(f.k), v: nd(f.v) });
    const m = buildModelFromSpec({ file: 'x.json', keyLabels: ['a', 'b'] }, result, 'x');
    assert.strictEqual(m.keyLabels, undefined);
    assert.deepStrictEqual(m.warnings, ['keyLabels has 2 entries but the axis has 8; labels not shown']);
  });
});

describe('view: models from arrays, dumps and differences', () => {
  it('shows a row-stochastic 2-D array as weights, anything else as data', () => {
    const w = buildModelFromArray(nd([[0.25, 0.75], [1, 0]]), 'w.npy');
    assert.deepStrictEqual(Object.keys(w.kinds), ['weights']);
    const d = buildModelFromArray(nd([[1, -2], [3, 4]]), 'd.npy');
    assert.strictEqual(d.defaultKind, 'data');
    assert.deepStrictEqual(Array.from(d.kinds.data?.data ?? []), [1, -2, 3, 4]);
    const v = buildModelFromArray(nd([1, 2, 3]), 'v.npy');
    assert.deepStrictEqual([v.kinds.data?.rows, v.kinds.data?.cols], [1, 3]);
    assert.throws(() => buildModelFromArray({ shape: [1, 1, 1, 1, 1], dtype: 'float32', data: new Float32Array(1) }, 'x'), MatrixError);
  });

  it('reads a [2, 3, 6, 6] dump head by head: grid, selected head, head mean/max and rollout match NumPy', async () => {
    const f = viewFixtures().dump;
    const [L, H, n] = f.shape;
    const all = Float32Array.from(f.data);
    const reads: string[] = [];
    const handle: DumpHandle = {
      ref: '/tmp/dump.npy',
      info: { shape: f.shape, dtype: 'float32' },
      read: async (index?: number[]) => {
        const [l, h] = index ?? [];
        reads.push(`${l},${h}`);
        const start = (l * H + h) * n * n;
        return { shape: [n, n], dtype: 'float32', data: all.slice(start, start + n * n) };
      },
    };
    const m = await buildModelFromDump(handle, f.selected, { cellSize: 32 });
    assert.strictEqual(reads.length, L * H);
    assert.deepStrictEqual(m.selection, f.selected);
    assert.strictEqual(m.subtitle, 'layer 1 · head 2');
    const start = (1 * H + 2) * n * n;
    assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(all.subarray(start, start + n * n)));
    const g = m.grid;
    assert.ok(g);
    assert.deepStrictEqual([g.layers, g.heads, g.cellSize], [2, 3, 6]);
    // Grid cells at full size are the heads themselves.
    assert.deepStrictEqual(Array.from(g.cells), Array.from(all));
    const extras = Object.fromEntries((g.extras ?? []).map((e) => [e.name, e.data]));
    closeTo(extras['layer 1 head mean'], f.headMean, 1e-6, 'head mean');
    closeTo(extras['layer 1 head max'], f.headMax, 0, 'head max');
    closeTo(extras.rollout, f.rollout, 1e-5, 'rollout');
    // The same maps at full resolution are kinds of the model, which the grid's extra cells open.
    assert.deepStrictEqual(g.extras?.map((e) => e.kind), ['headMean', 'headMax', 'rollout']);
    // ...and the webview learns which kind each extra cell opens.
    assert.deepStrictEqual(new ModelServer(m, { overviewSize: 256 }).wireModel().grid?.extras?.map((e) => e.kind), ['headMean', 'headMax', 'rollout']);
    closeTo(m.kinds.headMean?.data ?? [], f.headMean, 1e-6, 'head mean kind');
    closeTo(m.kinds.headMax?.data ?? [], f.headMax, 0, 'head max kind');
    closeTo(m.kinds.rollout?.data ?? [], f.rollout, 1e-5, 'rollout kind');
    // Hovering the head mean reads the mean itself, ranked in its row, not the selected head's weight.
    const mean = m.kinds.headMean?.data as Float32Array;
    const d = cellDetails(m, 'headMean', 2, 3);
    assert.ok(d);
    assert.strictEqual(d.value, mean[2 * n + 3]);
    assert.strictEqual(d.weight, undefined);
    const row = Array.from(mean.subarray(2 * n, 3 * n));
    assert.strictEqual(d.rank, 1 + row.filter((x) => x > mean[2 * n + 3]).length);
    assert.strictEqual(d.of, n);
    // Pinning a row of the rollout shows the rollout's row.
    const r = rowDetails(m, 'rollout', 4);
    assert.strictEqual(r?.kind, 'rollout');
    closeTo(r?.weights ?? [], f.rollout.slice(4 * n, 5 * n), 1e-5, 'rollout row');
  });

  it('a computed multi-head result has head mean and head max kinds, opened from the grid', () => {
    const q: NdArray = { shape: [5, 4], dtype: 'float64', data: Float64Array.from({ length: 20 }, (_, i) => Math.cos(i)) };
    const result = computeAttention({ q, heads: 2 });
    const m = buildModelFromSpec({ file: 'mh.json' }, result, 'mh');
    assert.deepStrictEqual(m.grid?.extras?.map((e) => e.kind), ['headMean', 'headMax']);
    const w = result.weights;
    for (let i = 0; i < 25; i++) {
      assert.ok(Math.abs((m.kinds.headMean?.data[i] ?? NaN) - (w[i] + w[25 + i]) / 2) < 1e-6, `mean ${i}`);
      assert.strictEqual(m.kinds.headMax?.data[i], Math.max(w[i], w[25 + i]));
    }
  });

  it('aggregates over AGGREGATE_FULL_CELLS stay pooled thumbnails, not kinds', async () => {
    const n = 1025;
    assert.ok(n * n > AGGREGATE_FULL_CELLS);
    const handle: DumpHandle = {
      ref: '/tmp/big.npy', info: { shape: [2, n, n], dtype: 'float32' },
      read: async () => ({ shape: [n, n], dtype: 'float32', data: new Float32Array(n * n).fill(1 / n) }),
    };
    const m = await buildModelFromDump(handle, undefined, { cellSize: 32 });
    assert.deepStrictEqual(m.grid?.extras?.map((e) => [e.name, e.kind]), [['head mean', undefined], ['head max', undefined]]);
    assert.deepStrictEqual(Object.keys(m.kinds), ['weights']);
  });

  it('builds the same grid from an in-memory [L, H, n, n] array', () => {
    const f = viewFixtures().dump;
    const m = buildModelFromArray({ shape: f.shape, dtype: 'float32', data: Float32Array.from(f.data) }, 'dump', f.selected);
    const extras = Object.fromEntries((m.grid?.extras ?? []).map((e) => [e.name, e.data]));
    closeTo(extras.rollout, f.rollout, 1e-5, 'rollout');
    assert.strictEqual(m.defaultKind, 'weights');
    closeTo(m.kinds.rollout?.data ?? [], f.rollout, 1e-5, 'rollout kind');
    closeTo(m.kinds.headMean?.data ?? [], f.headMean, 1e-6, 'head mean kind');
  });

  it('diffModels: A − B on the same kind, refusing different sizes', () => {
    const a = buildModelFromArray(nd([[0.25, 0.75], [1, 0]]), 'a');
    const b = buildModelFromArray(nd([[0.5, 0.5], [0.5, 0.5]]), 'b');
    const d = diffModels(a, b, 'weights');
    assert.strictEqual(d.defaultKind, 'difference');
    assert.deepStrictEqual(Array.from(d.kinds.difference?.data ?? []), [-0.25, 0.25, 0.5, -0.5]);
    assert.strictEqual(d.title, 'a − b');
    const c = buildModelFromArray(nd([[0.5, 0.5, 0]]), 'c');
    assert.throws(() => diffModels(a, c, 'weights'), /cannot compare: a is 2×2 but c is 1×3/);
    assert.throws(() => diffModels(a, b, 'scores'), /a has no scores/);
  });
});
