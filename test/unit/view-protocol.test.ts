import * as assert from 'assert';
import { clipRegion, parseFromWebview } from '../../src/shared/protocol';
import { buildModelFromArray, buildModelFromSpec } from '../../src/core/view/model';
import { ModelServer } from '../../src/core/view/serve';
import { computeAttention } from '../../src/core/attention';
import { viewFixtures } from './view-fixtures';

function bigModel(n: number) {
  const data = new Float32Array(n * n).fill(0.5 / n);
  for (let i = 0; i < n; i++) data[i * n + ((i * 7) % n)] += 0.5;
  return buildModelFromArray({ shape: [n, n], dtype: 'float32', data }, 'big');
}

describe('view: protocol validation (messages from the webview are untrusted)', () => {
  it('accepts well-formed messages and copies only known fields', () => {
    assert.deepStrictEqual(parseFromWebview({ type: 'requestCell', id: 3, kind: 'weights', row: 0, col: 7, path: '/etc/passwd' }),
      { type: 'requestCell', id: 3, kind: 'weights', row: 0, col: 7 });
    assert.deepStrictEqual(parseFromWebview({ type: 'ready', kind: 'scores' }), { type: 'ready', kind: 'scores' });
    assert.deepStrictEqual(parseFromWebview({ type: 'timing', name: 'hover', ms: 3.5 }), { type: 'timing', name: 'hover', ms: 3.5 });
  });

  it('rejects wrong types, negative or fractional indices, unknown kinds and oversized regions', () => {
    for (const bad of [
      null, 'ready', [], { type: 'nope' }, { type: 'requestCell', id: 1, kind: 'weights', row: -1, col: 0 },
      { type: 'requestCell', id: 1, kind: 'weights', row: 0.5, col: 0 }, { type: 'requestCell', id: 1, kind: '__proto__', row: 0, col: 0 },
      { type: 'requestTile', id: 1, kind: 'weights', region: { r0: 0, c0: 0, rows: 0, cols: 5 } },
      { type: 'requestRow', id: '1', kind: 'weights', row: 0 }, { type: 'selectHead', layer: 1e300, head: 0 },
      { type: 'export', format: 'svg' }, { type: 'timing', name: 'hover', ms: -1 }, { type: 'png', id: 1, bytes: 'iVBOR' },
    ]) {
      assert.strictEqual(parseFromWebview(bad), undefined, JSON.stringify(bad));
    }
  });

  it('clips regions to the matrix', () => {
    assert.deepStrictEqual(clipRegion({ r0: 4090, c0: 10, rows: 100, cols: 5 }, 4096, 4096), { r0: 4090, c0: 10, rows: 6, cols: 5 });
    assert.strictEqual(clipRegion({ r0: 5000, c0: 0, rows: 1, cols: 1 }, 4096, 4096), undefined);
  });
});

describe('view: the host side (ModelServer) for a 1024×1024 map', () => {
  const server = new ModelServer(bigModel(1024), { overviewSize: 256 });

  it('sends a max-pooled overview that keeps every row peak, stated in the pooling note', () => {
    const w = server.wireMatrix('weights');
    assert.ok(w);
    assert.deepStrictEqual([w.ovRows, w.ovCols, w.blockRows, w.blockCols], [256, 256, 4, 4]);
    assert.strictEqual(w.poolingNote, '1024×1024 shown as 256×256, max of 4×4 blocks');
    const peak = 0.5 / 1024 + 0.5;
    assert.strictEqual(w.overview[0], Math.fround(peak));
    assert.strictEqual(w.rowMax[5], Math.fround(peak));
    assert.ok(w.rowEntropy && w.rowEntropy.length === 1024);
    // Owning buffers: a typed array posts its whole underlying buffer.
    assert.strictEqual(w.overview.buffer.byteLength, 256 * 256 * 4);
    assert.strictEqual(server.isSmall(), false);
    assert.strictEqual(server.wireModel().full, undefined);
  });

  it('answers tiles, cells and rows from full resolution, and range-checks them', () => {
    const t = server.respond({ type: 'requestTile', id: 1, kind: 'weights', region: { r0: 1020, c0: 0, rows: 10, cols: 8 } });
    assert.ok(t && t.type === 'tile');
    assert.deepStrictEqual([t.r0, t.rows, t.cols, t.data.length], [1020, 4, 8, 32]);
    const c = server.respond({ type: 'requestCell', id: 2, kind: 'weights', row: 3, col: 21 });
    assert.ok(c && c.type === 'cell' && c.details);
    assert.strictEqual(c.details.rank, 1);
    const out = server.respond({ type: 'requestCell', id: 3, kind: 'weights', row: 5000, col: 0 });
    assert.ok(out && out.type === 'cell' && out.details === undefined);
    const huge = server.respond({ type: 'requestTile', id: 4, kind: 'weights', region: { r0: 0, c0: 0, rows: 1024, cols: 1024 } });
    assert.ok(huge && huge.type === 'tile' && huge.rows === 1024);
    const small = new ModelServer(bigModel(1024), { overviewSize: 256, maxTileCells: 1000 });
    const refused = small.respond({ type: 'requestTile', id: 5, kind: 'weights', region: { r0: 0, c0: 0, rows: 100, cols: 100 } });
    assert.ok(refused && refused.type === 'tile' && refused.rows === 0);
    assert.strictEqual(server.cellText('weights', 0, 0), '0.5004883');
    assert.strictEqual(server.cellText('weights', 0, 2000), undefined);
    assert.strictEqual(server.respond({ type: 'ready' }), undefined);
  });

  it('exports the zoomed region as CSV', () => {
    assert.strictEqual(server.csv('weights', { r0: 0, c0: 0, rows: 1, cols: 2 }), '0.5004883,0.00048828125\n');
  });
});

describe('view: the host side for a small model (the colours example) sends it whole', () => {
  const f = viewFixtures().colours;
  const nd = (a: number[][] | number[]) => Array.isArray(a[0])
    ? { shape: [a.length, (a as number[][])[0].length], dtype: 'float64' as const, data: Float64Array.from((a as number[][]).flat()) }
    : { shape: [a.length], dtype: 'float64' as const, data: Float64Array.from(a as number[]) };
  const result = computeAttention({ q: nd(f.q), k: nd(f.k), v: nd(f.v) });
  const server = new ModelServer(
    buildModelFromSpec({ file: 'colours.attention.json', keyLabels: f.keyLabels, valueLabels: f.valueLabels }, result, 'colours'),
    { overviewSize: 512 });

  it('includes every kind and V at full resolution, so hover needs no round trip', () => {
    assert.strictEqual(server.isSmall(), true);
    const w = server.wireModel();
    assert.deepStrictEqual(w.kinds.sort(), ['contributions', 'output', 'scaled', 'scores', 'weights']);
    assert.ok(w.full);
    assert.deepStrictEqual(w.full.shapes.weights, [1, 8]);
    assert.deepStrictEqual(w.full.shapes.output, [1, 2]);
    assert.deepStrictEqual(Array.from(w.full.values?.data ?? []), f.v.flat());
    const m = server.wireMatrix('weights');
    assert.ok(m);
    assert.deepStrictEqual([m.blockRows, m.blockCols, m.poolingNote], [1, 1, undefined]);
    assert.ok(Math.abs(m.min - Math.min(...f.weights)) < 1e-7 && Math.abs(m.max - Math.max(...f.weights)) < 1e-7);
    assert.ok(m.rowEntropy && Math.abs(m.rowEntropy[0] - f.entropyBits) < 1e-5);
  });

  it('answers a pinned-row request with the 48.8% warm / 51.2% cool output', () => {
    const r = server.respond({ type: 'requestRow', id: 7, kind: 'weights', row: 0 });
    assert.ok(r && r.type === 'row' && r.details && r.details.output);
    assert.ok(Math.abs(r.details.output[0] - f.output[0]) < 1e-6);
    // NumPy: np.format_float_positional(np.float32(0.48764969…), unique=True) == '0.4876497'.
    assert.strictEqual(server.csv('output'), 'warm,cool\n0.4876497,0.5123503\n');
  });
});
