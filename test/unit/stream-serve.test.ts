import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import type { NdArray } from '../../src/core/ndarray';
import { buildModelFromSpec } from '../../src/core/view/model';
import { ModelServer } from '../../src/core/view/serve';
import { buildStreamedModel } from '../../src/core/view/streamModel';
import { serverFor, StreamServer } from '../../src/core/view/streamServe';
import type { CellDetails, RowDetails } from '../../src/shared/inspect';
import type { WireMatrix } from '../../src/shared/protocol';

function random(rows: number, cols: number, seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  assert.strictEqual(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) assert.ok(Object.is(a[i], e[i]) || Math.abs(a[i] - e[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

describe('view: a streamed head is served like a computed one (StreamServer vs ModelServer)', function () {
  this.timeout(60000);
  after(() => disposeComputePool());
  const n = 700;
  const d = 16;
  const q = random(n, d, 1);
  const k = random(n, d, 2);
  const v = random(n, 4, 3);
  const labels = Array.from({ length: n }, (_, i) => `t${i}`);
  const ref = computeAttention({ q, k, v, mask: 'causal' });
  const full = new ModelServer(buildModelFromSpec({ file: 'qkv', queryLabels: labels, keyLabels: labels }, ref, 'full'), { overviewSize: 128 });
  let streamed: StreamServer;

  before(async () => {
    const progress: number[] = [];
    const model = await buildStreamedModel(
      { q: q.data as Float32Array, k: k.data as Float32Array, v: v.data as Float32Array, nq: n, nk: n, dk: d, dv: 4 },
      { similarity: 'dot', scaleFactor: 1 / Math.sqrt(d), mask: { kind: 'causal', offset: 0 } },
      { title: 'streamed', overviewSize: 128, queryLabels: labels, keyLabels: labels, onProgress: (f) => progress.push(f) },
    );
    assert.strictEqual(progress[0], 0);
    assert.strictEqual(progress[progress.length - 1], 1);
    const s = serverFor(model, { overviewSize: 128 });
    assert.ok(s instanceof StreamServer);
    streamed = s;
  });

  it('sends the same max-pooled overview, row max and entropy strip (weights kind)', () => {
    const a = streamed.wireMatrix('weights') as WireMatrix;
    const b = full.wireMatrix('weights') as WireMatrix;
    assert.deepStrictEqual([a.rows, a.cols, a.ovRows, a.ovCols, a.blockRows, a.blockCols, a.signed], [b.rows, b.cols, b.ovRows, b.ovCols, b.blockRows, b.blockCols, b.signed]);
    close(a.overview, b.overview, 1e-5, 'overview');
    close(a.rowMax, b.rowMax, 1e-5, 'row max');
    close(a.rowEntropy as Float32Array, b.rowEntropy as Float32Array, 1e-4, 'entropy (bits)');
    assert.ok(Math.abs(a.max - b.max) < 1e-6);
    assert.match(a.poolingNote ?? '', /700×700 shown as 117×117, max of 6×6 blocks/);
    assert.deepStrictEqual(streamed.wireModel().kinds, ['weights', 'output']);
    assert.strictEqual(streamed.wireModel().full, undefined);
  });

  it('shows the output O from the same sweep as the full map does (the "output" kind)', () => {
    const a = streamed.wireMatrix('output') as WireMatrix;
    const b = full.wireMatrix('output') as WireMatrix;
    assert.deepStrictEqual([a.rows, a.cols, a.ovRows, a.ovCols], [b.rows, b.cols, b.ovRows, b.ovCols]);
    close(a.overview, b.overview, 1e-5, 'output');
  });

  it('answers tiles, hover cells and pinned rows computed on demand, as the full map does', async () => {
    const region = { r0: 300, c0: 250, rows: 100, cols: 120 };
    const ta = await streamed.respond({ type: 'requestTile', id: 1, kind: 'weights', region });
    const tb = full.respond({ type: 'requestTile', id: 1, kind: 'weights', region });
    assert.ok(ta?.type === 'tile' && tb?.type === 'tile');
    close(ta.data, tb.data, 1e-5, 'tile');
    for (const [row, col] of [[0, 0], [650, 3], [650, 651], [699, 350]]) {
      const ca = await streamed.respond({ type: 'requestCell', id: 2, kind: 'weights', row, col });
      const cb = full.respond({ type: 'requestCell', id: 2, kind: 'weights', row, col });
      assert.ok(ca?.type === 'cell' && cb?.type === 'cell');
      assert.deepStrictEqual(ca.details as CellDetails, cb.details as CellDetails);
    }
    const ra = await streamed.respond({ type: 'requestRow', id: 3, kind: 'weights', row: 600 });
    const rb = full.respond({ type: 'requestRow', id: 3, kind: 'weights', row: 600 });
    assert.ok(ra?.type === 'row' && rb?.type === 'row');
    const a = ra.details as RowDetails;
    const b = rb.details as RowDetails;
    assert.deepStrictEqual(Array.from(a.weights), Array.from(b.weights));
    close(a.output as number[], b.output as number[], 1e-5, 'row output');
    assert.strictEqual(a.rowLabel, 't600');
    assert.strictEqual(await streamed.cellText('weights', 650, 3), full.cellText('weights', 650, 3));
  });

  it('answers a column ("attended by") and a selection of rows read as one, as the full map does', async () => {
    const ca = await streamed.respond({ type: 'requestColumn', id: 4, kind: 'weights', col: 420 });
    const cb = full.respond({ type: 'requestColumn', id: 4, kind: 'weights', col: 420 });
    assert.ok(ca?.type === 'column' && cb?.type === 'column' && ca.details && cb.details);
    assert.strictEqual(ca.details.colLabel, 't420');
    close(ca.details.values, cb.details.values, 1e-5, 'column');
    const sa = await streamed.respond({ type: 'requestSelection', id: 5, kind: 'weights', rows: [650, 12, 300, 12] });
    const sb = full.respond({ type: 'requestSelection', id: 5, kind: 'weights', rows: [650, 12, 300, 12] });
    assert.ok(sa?.type === 'selection' && sb?.type === 'selection' && sa.details && sb.details);
    assert.deepStrictEqual(sa.details.rows, [12, 300, 650]);
    close(sa.details.sum, sb.details.sum, 1e-6, 'selection sum');
    close(sa.details.mean, sb.details.mean, 1e-6, 'selection mean');
    close(sa.details.output as number[], sb.details.output as number[], 1e-5, 'selection output');
  });

  it('exports the visible region as CSV like the full map, and refuses the whole map with what to do', async () => {
    const region = { r0: 10, c0: 5, rows: 6, cols: 7 };
    const a = (await streamed.csv('weights', region) as string).trim().split('\n').map((l) => l.split(','));
    const b = (full.csv('weights', region) as string).trim().split('\n').map((l) => l.split(','));
    assert.deepStrictEqual(a.map((l) => l.length), b.map((l) => l.length));
    assert.deepStrictEqual(a[0], b[0]);
    assert.deepStrictEqual(a.map((l) => l[0]), b.map((l) => l[0]));
    // The same cells to 1e-6 (the tile's scores are float32 dot products; the full map's float64).
    close(a.slice(1).flatMap((l) => l.slice(1).map(Number)), b.slice(1).flatMap((l) => l.slice(1).map(Number)), 1e-6, 'csv');
    await assert.rejects(streamed.csv('weights'), /zoom in to at most 4,194,304 cells and export the visible region/);
  });
});
