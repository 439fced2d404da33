import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import type { NdArray } from '../../src/core/ndarray';
import { buildModelFromSpec, diffModels } from '../../src/core/view/model';
import type { HeatmapModel } from '../../src/core/view/model';
import { ModelServer } from '../../src/core/view/serve';
import { buildStreamedDiff, diffOverview, diffSideOf, StreamDiffServer } from '../../src/core/view/streamDiff';
import type { DiffSide } from '../../src/core/view/streamDiff';
import { loadNative, nativeUnavailableReason } from '../../src/core/compute/native';
import { buildStreamedModel } from '../../src/core/view/streamModel';
import { serverFor } from '../../src/core/view/streamServe';
import type { CellDetails, RowDetails } from '../../src/shared/inspect';
import type { WireMatrix } from '../../src/shared/protocol';
import type { InspectorSettings } from '../../src/core/settings';
import type { HeatmapSource } from '../../src/heatmapView';
import { compareSource } from '../../src/sources/compareSource';

function random(rows: number, cols: number, seed: number, scale = 4): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * scale;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  assert.strictEqual(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) assert.ok(Object.is(a[i], e[i]) || Math.abs(a[i] - e[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

const csvCells = (text: string) => text.trim().split('\n').map((l) => l.split(','));

const n = 700;
const d = 16;
const OV = 128;
const labels = Array.from({ length: n }, (_, i) => `t${i}`);

/** Head `seed` of the test: its streamed model and its in-memory twin (computeAttention, the exact reference). */
async function head(seed: number, causal: boolean, title: string): Promise<{ streamed: HeatmapModel; full: HeatmapModel }> {
  const q = random(n, d, seed);
  const k = random(n, d, seed + 1);
  const v = random(n, 4, seed + 2);
  const full = buildModelFromSpec({ file: title, queryLabels: labels, keyLabels: labels }, computeAttention({ q, k, v, mask: causal ? 'causal' : undefined }), title);
  const streamed = await buildStreamedModel(
    { q: q.data as Float32Array, k: k.data as Float32Array, v: v.data as Float32Array, nq: n, nk: n, dk: d, dv: 4 },
    { similarity: 'dot', scaleFactor: 1 / Math.sqrt(d), mask: causal ? { kind: 'causal', offset: 0 } : { kind: 'none' } },
    { title, overviewSize: OV, queryLabels: labels, keyLabels: labels },
  );
  return { streamed, full };
}

for (const causal of [false, true]) {
  describe(`view: A − B of streamed heads is served like diffModels over the full weights (700×700, d=16${causal ? ', causal' : ''})`, function () {
    this.timeout(120000);
    after(() => disposeComputePool());
    let ref: ModelServer;
    let both: StreamDiffServer;
    let mixed: StreamDiffServer;
    const progress: number[] = [];

    before(async () => {
      const a = await head(11, causal, 'A');
      const b = await head(21, causal, 'B');
      ref = new ModelServer(diffModels(a.full, b.full, 'weights'), { overviewSize: OV });
      const s = serverFor(await buildStreamedDiff(a.streamed, b.streamed, { overviewSize: OV, onProgress: (f) => progress.push(f) }), { overviewSize: OV });
      assert.ok(s instanceof StreamDiffServer);
      both = s;
      // One side streamed, the other held whole (a weights map of the same size).
      const m = serverFor(await buildStreamedDiff(a.streamed, b.full, { overviewSize: OV }), { overviewSize: OV });
      assert.ok(m instanceof StreamDiffServer);
      mixed = m;
    });

    it('both streamed: the native one-call difference (where built) equals the bands in TypeScript', async function () {
      const why = nativeUnavailableReason();
      if (why) {
        console.log(`      skipped: native addon not available (${why})`);
        this.skip();
      }
      assert.strictEqual(typeof loadNative()?.diffAsync, 'function');
      const a = await head(11, causal, 'A');
      const b = await head(21, causal, 'B');
      const sides = [a.streamed, b.streamed].map((m) => diffSideOf(m) as DiffSide);
      const native = await diffOverview(sides[0], sides[1], n, n, { overviewSize: OV });
      const bands = await diffOverview(sides[0], sides[1], n, n, { overviewSize: OV, native: false });
      close(native.pooled.data, bands.pooled.data, 1e-6, 'pooled');
      close(native.rowMax, bands.rowMax, 1e-6, 'row max');
      assert.deepStrictEqual([native.nonFinite, native.pooled.blockRows, native.pooled.blockCols], [bands.nonFinite, bands.pooled.blockRows, bands.pooled.blockCols]);
      assert.ok(Math.abs(native.min - bands.min) < 1e-6 && Math.abs(native.max - bands.max) < 1e-6);
      // Cancelled before it starts: an AbortError, not a result.
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(diffOverview(sides[0], sides[1], n, n, { overviewSize: OV, signal: ac.signal }), (e: Error) => e.name === 'AbortError');
    });

    it('reports progress from 0 to 1', () => {
      assert.strictEqual(progress[0], 0);
      assert.strictEqual(progress[progress.length - 1], 1);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1]);
    });

    for (const which of ['both streamed', 'A streamed, B held'] as const) {
      const server = () => (which === 'both streamed' ? both : mixed);

      it(`${which}: the same overview (largest magnitude of 6×6 blocks), range and row max`, () => {
        const x = server().wireMatrix('difference') as WireMatrix;
        const y = ref.wireMatrix('difference') as WireMatrix;
        assert.deepStrictEqual([x.kind, x.rows, x.cols, x.ovRows, x.ovCols, x.blockRows, x.blockCols, x.signed, x.nonFinite],
          [y.kind, y.rows, y.cols, y.ovRows, y.ovCols, y.blockRows, y.blockCols, y.signed, y.nonFinite]);
        assert.strictEqual(y.signed, true);
        close(x.overview, y.overview, 1e-5, 'overview');
        close(x.rowMax, y.rowMax, 1e-5, 'row max');
        assert.ok(Math.abs(x.min - y.min) < 1e-5 && Math.abs(x.max - y.max) < 1e-5, `range ${x.min}…${x.max} vs ${y.min}…${y.max}`);
        assert.strictEqual(x.rowEntropy, undefined);
        assert.ok((x.poolingNote ?? '').startsWith(y.poolingNote as string), `${x.poolingNote} vs ${y.poolingNote}`);
        assert.match(x.poolingNote ?? '', /700×700 shown as 117×117, largest magnitude of 6×6 blocks \(computed on demand/);
        const wm = server().wireModel();
        assert.deepStrictEqual([wm.kinds, wm.defaultKind, wm.title], [['difference'], 'difference', 'A − B']);
        assert.strictEqual(wm.queryLabels?.[5], 't5');
      });

      it(`${which}: tiles, hover cells (A, B and A − B), pinned rows and cell text`, async () => {
        const region = { r0: 300, c0: 250, rows: 100, cols: 120 };
        const ta = await server().respond({ type: 'requestTile', id: 1, kind: 'difference', region });
        const tb = ref.respond({ type: 'requestTile', id: 1, kind: 'difference', region });
        assert.ok(ta?.type === 'tile' && tb?.type === 'tile');
        assert.deepStrictEqual([ta.r0, ta.c0, ta.rows, ta.cols], [300, 250, 100, 120]);
        close(ta.data, tb.data, 1e-5, 'tile');
        const wa = (ref.model.kinds.difference as { data: Float32Array }).data;
        for (const [row, col] of [[0, 0], [650, 3], [650, 651], [699, 350], [12, 13]]) {
          const ca = await server().respond({ type: 'requestCell', id: 2, kind: 'difference', row, col });
          const cb = ref.respond({ type: 'requestCell', id: 2, kind: 'difference', row, col });
          assert.ok(ca?.type === 'cell' && cb?.type === 'cell');
          const x = ca.details as CellDetails;
          const y = cb.details as CellDetails;
          assert.deepStrictEqual([x.kind, x.row, x.col, x.rowLabel, x.colLabel, x.value, x.rank, x.of], [y.kind, y.row, y.col, y.rowLabel, y.colLabel, y.value, y.rank, y.of]);
          assert.strictEqual(x.value, wa[row * n + col]);
          assert.ok(x.a !== undefined && x.b !== undefined);
          assert.strictEqual(Math.fround(x.a - x.b), x.value, 'A − B of the two weights shown');
          if (causal && col > row) assert.deepStrictEqual([x.a, x.b, x.value], [0, 0, 0]);
        }
        const ra = await server().respond({ type: 'requestRow', id: 3, kind: 'difference', row: 600 });
        const rb = ref.respond({ type: 'requestRow', id: 3, kind: 'difference', row: 600 });
        assert.ok(ra?.type === 'row' && rb?.type === 'row');
        const x = ra.details as RowDetails;
        const y = rb.details as RowDetails;
        assert.deepStrictEqual([x.kind, x.rowLabel, x.output, x.valuesNonNegative], [y.kind, y.rowLabel, y.output, y.valuesNonNegative]);
        assert.deepStrictEqual(Array.from(x.weights), Array.from(y.weights));
        assert.strictEqual(await server().cellText('difference', 650, 3), ref.cellText('difference', 650, 3));
      });

      it(`${which}: a column and a selection of rows read as one`, async () => {
        const ca = await server().respond({ type: 'requestColumn', id: 4, kind: 'difference', col: 420 });
        const cb = ref.respond({ type: 'requestColumn', id: 4, kind: 'difference', col: 420 });
        assert.ok(ca?.type === 'column' && cb?.type === 'column' && ca.details && cb.details);
        assert.deepStrictEqual([ca.details.kind, ca.details.colLabel], [cb.details.kind, 't420']);
        close(ca.details.values, cb.details.values, 1e-5, 'column');
        const sa = await server().respond({ type: 'requestSelection', id: 5, kind: 'difference', rows: [650, 12, 300, 12] });
        const sb = ref.respond({ type: 'requestSelection', id: 5, kind: 'difference', rows: [650, 12, 300, 12] });
        assert.ok(sa?.type === 'selection' && sb?.type === 'selection' && sa.details && sb.details);
        assert.deepStrictEqual([sa.details.rows, sa.details.kind], [[12, 300, 650], sb.details.kind]);
        close(sa.details.sum, sb.details.sum, 1e-6, 'selection sum');
        close(sa.details.mean, sb.details.mean, 1e-6, 'selection mean');
      });

      it(`${which}: CSV of the visible region and of a row`, async () => {
        for (const region of [{ r0: 10, c0: 5, rows: 6, cols: 7 }, { r0: 640, c0: 0, rows: 1, cols: n }]) {
          const x = csvCells(await server().csv('difference', region) as string);
          const y = csvCells(ref.csv('difference', region) as string);
          assert.deepStrictEqual(x.map((l) => l.length), y.map((l) => l.length));
          assert.deepStrictEqual(x[0], y[0], 'header');
          assert.deepStrictEqual(x.map((l) => l[0]), y.map((l) => l[0]), 'row labels');
          close(x.slice(1).flatMap((l) => l.slice(1).map(Number)), y.slice(1).flatMap((l) => l.slice(1).map(Number)), 1e-5, 'csv');
        }
      });
    }
  });
}

describe('compare: a streamed head through Compare With… (compareSource)', function () {
  this.timeout(120000);
  after(() => disposeComputePool());
  const source = (id: string, load: () => Promise<HeatmapModel>): HeatmapSource => ({ id: `test:${id}`, title: id, load });

  it('runs the difference under the env\'s long-work runner (title, progress) and cancels with it', async () => {
    const a = await head(31, true, 'A');
    const b = await head(41, true, 'B');
    const titles: string[] = [];
    const reports: number[] = [];
    const env = {
      settings: () => ({ overviewSize: OV }) as InspectorSettings,
      runLong: <T>(title: string, work: (signal: AbortSignal, report: (f: number) => void) => Promise<T>) => {
        titles.push(title);
        return work(new AbortController().signal, (f) => reports.push(f));
      },
    };
    const model = await compareSource(source('a', async () => a.streamed), source('b', async () => b.streamed), env).load();
    assert.deepStrictEqual(titles, ['Comparing A − B (700×700, computed on demand)']);
    assert.strictEqual(reports[reports.length - 1], 1);
    assert.ok(serverFor(model, { overviewSize: OV }) instanceof StreamDiffServer);
    assert.match(model.subtitle ?? '', /weights: A − B · 700×700, A and B streamed from Q and K/);

    const abort = new AbortController();
    abort.abort();
    const cancelled = { ...env, runLong: <T>(_t: string, work: (signal: AbortSignal, report: (f: number) => void) => Promise<T>) => work(abort.signal, () => undefined) };
    await assert.rejects(compareSource(source('a', async () => a.streamed), source('b', async () => b.streamed), cancelled).load(), { name: 'AbortError' });
  });

  it('shapes that differ: one clear error naming both shapes, streamed or held', async () => {
    const a = await head(51, false, 'A');
    const q = random(n, d, 61);
    const small = buildModelFromSpec({ file: 'small' }, computeAttention({ q, k: random(600, d, 62), v: random(600, 4, 63) }), 'small');
    await assert.rejects(compareSource(source('a', async () => a.streamed), source('s', async () => small)).load(),
      { name: 'MatrixError', message: /^cannot compare: A is 700×700 but small is 700×600$/ });
    await assert.rejects(compareSource(source('s', async () => small), source('a', async () => a.streamed)).load(),
      { name: 'MatrixError', message: /^cannot compare: small is 700×600 but A is 700×700$/ });
    const plain = buildModelFromSpec({ file: 'p', matrix: random(n, n, 7) }, undefined, 'plain');
    await assert.rejects(compareSource(source('a', async () => a.streamed), source('p', async () => plain)).load(),
      { name: 'MatrixError', message: /^cannot compare: plain has no weights$/ });
  });
});
