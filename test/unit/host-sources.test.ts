import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseComputeChoice } from '../../src/computeChoice';
import { gridCellSize } from '../../src/loadPipeline';
import type { SourceEnv } from '../../src/loadPipeline';
import { fileKindOf, splitRef } from '../../src/core/matrixFile';
import { sourceFromId } from '../../src/reviveSource';
import { fileOfId } from '../../src/sourceIds';
import { compareSource } from '../../src/sources/compareSource';
import { computeSource } from '../../src/sources/computeSource';
import { fileSource } from '../../src/sources/fileSource';
import { DEFAULT_SETTINGS, parseScale, parseSettings } from '../../src/core/settings';
import type { InspectorSettings } from '../../src/core/settings';
import type { Matrix2D } from '../../src/shared/types';
import { serverFor, StreamServer } from '../../src/core/view/streamServe';

const FIX = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'host');
const expected = JSON.parse(fs.readFileSync(path.join(FIX, 'expected.json'), 'utf8')) as Record<string, number[][]>;

function env(over: Partial<InspectorSettings> = {}, texts: Record<string, string> = {}): SourceEnv {
  const settings = { ...DEFAULT_SETTINGS, ...over };
  return { settings: () => settings, textOf: (file) => texts[file] };
}

function assertClose(m: Matrix2D | undefined, want: number[][], tol = 1e-6): void {
  assert.ok(m, 'matrix present');
  assert.strictEqual(m.rows, want.length);
  assert.strictEqual(m.cols, want[0].length);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const got = m.data[r * m.cols + c];
      assert.ok(Math.abs(got - want[r][c]) <= tol, `[${r}, ${c}] = ${got}, NumPy says ${want[r][c]}`);
    }
  }
}

describe('host: settings and remembered choices (schema checks)', () => {
  it('reads valid settings and falls back to defaults for anything malformed', () => {
    const good = parseSettings((k) => ({
      defaultSimilarity: 'cosine', defaultScale: '0.5', colorMap: 'magma', watchGlobs: ['**/*.npy'], overviewSize: 300, maxCells: 4096, kernel: 'wasm',
    } as Record<string, unknown>)[k]);
    assert.deepStrictEqual(good, { similarity: 'cosine', scale: 0.5, colorMap: 'magma', watchGlobs: ['**/*.npy'], overviewSize: 300, maxCells: 4096, kernel: 'wasm' });
    const bad = parseSettings((k) => ({
      defaultSimilarity: 'rm -rf', defaultScale: '-3', colorMap: 42, watchGlobs: ['ok', 7], overviewSize: 1e9, maxCells: 10, kernel: 'gpu',
    } as Record<string, unknown>)[k]);
    assert.deepStrictEqual(bad, { ...DEFAULT_SETTINGS, overviewSize: 4096 });
  });

  it('parses scales: names, positive numbers, and nothing else', () => {
    assert.strictEqual(parseScale('sqrt'), 'sqrt');
    assert.strictEqual(parseScale('0.125'), 0.125);
    assert.strictEqual(parseScale(2), 2);
    for (const bad of ['', '0', '-1', 'NaN', 'Infinity', null, {}]) assert.strictEqual(parseScale(bad), undefined, String(bad));
  });

  it('trusts a stored compute choice only when every field checks out', () => {
    const ok = { q: '/w/a.npz#q', k: '/w/a.npz#k', v: '/w/a.npz#v', similarity: 'dot', scale: 'sqrt', mask: 'causal', heads: 2 };
    assert.deepStrictEqual(parseComputeChoice(ok), ok);
    assert.deepStrictEqual(parseComputeChoice({ ...ok, k: undefined, v: undefined }), { ...ok, k: undefined, v: undefined });
    for (const bad of [undefined, 'x', { ...ok, q: '' }, { ...ok, similarity: 'dotty' }, { ...ok, scale: -1 },
      { ...ok, mask: 'upper' }, { ...ok, heads: 0 }, { ...ok, heads: 1.5 }, { ...ok, k: 7 }]) {
      assert.strictEqual(parseComputeChoice(bad), undefined, JSON.stringify(bad));
    }
  });

  it('splits refs and recognises matrix files', () => {
    assert.deepStrictEqual(splitRef('/w/a.npz#q'), { file: '/w/a.npz', member: 'q' });
    assert.deepStrictEqual(splitRef('/w/a.npy'), { file: '/w/a.npy' });
    assert.deepStrictEqual(splitRef('/w/odd#name.npy'), { file: '/w/odd#name.npy' });
    assert.strictEqual(fileKindOf('/w/x.attention.JSON'), 'json');
    assert.strictEqual(fileKindOf('/w/x.txt'), undefined);
  });

  it('picks grid cell sizes', () => {
    assert.strictEqual(gridCellSize([2, 4, 10, 10], 512), 10);
    assert.strictEqual(gridCellSize([12, 12, 1024, 1024], 512), 42);
    assert.strictEqual(gridCellSize([144, 144, 1024, 1024], 512), 8);
  });
});

describe('host: heatmap sources over real files', () => {
  it('computes a JSON spec: weights and output match NumPy', async () => {
    const file = path.join(FIX, 'small.attention.json');
    const model = await fileSource(file, undefined, env()).load();
    assertClose(model.kinds.weights, expected.small_weights);
    assertClose(model.kinds.output, expected.small_output);
    assert.strictEqual(model.title, 'small.attention.json');
  });

  it('uses the unsaved document text over the file on disk', async () => {
    const file = path.join(FIX, 'small.attention.json');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { scale: unknown };
    spec.scale = 'none';
    const model = await fileSource(file, undefined, env({}, { [file]: JSON.stringify(spec) })).load();
    assertClose(model.kinds.weights, expected.noscale_weights);
  });

  it('fills the similarity and scale the file leaves out from the settings', async () => {
    const file = path.join(FIX, 'noscale.attention.json');
    assertClose((await fileSource(file, undefined, env({ scale: 'none' })).load()).kinds.weights, expected.noscale_weights);
    assertClose((await fileSource(file, undefined, env({ scale: 'sqrt' })).load()).kinds.weights, expected.small_weights);
  });

  it('invalid JSON text fails with a MatrixError naming the file and its line', async () => {
    const file = path.join(FIX, 'small.attention.json');
    await assert.rejects(fileSource(file, undefined, env({}, { [file]: '{\n  "Q": [0.5, 0.1,\n' })).load(), (err: Error) => {
      assert.strictEqual(err.name, 'MatrixError');
      assert.match(err.message, /small\.attention\.json:\d+:\d+: /);
      return true;
    });
  });

  it('shows one member of a JSON spec', async () => {
    const model = await fileSource(path.join(FIX, 'small.attention.json'), 'K', env()).load();
    const k = model.kinds.data ?? model.kinds.weights;
    assertClose(k, [[1, 0], [0, 1], [1, 1], [-1, 0]]);
  });

  it('computes attention from picked .npz members (float32 in, NumPy float64 reference)', async () => {
    const npz = path.join(FIX, 'bundle.npz');
    const source = computeSource({ q: `${npz}#q`, k: `${npz}#k`, v: `${npz}#v`, similarity: 'dot', scale: 'sqrt', mask: 'none', heads: 1 }, env());
    const model = await source.load();
    assertClose(model.kinds.weights, expected.bundle_weights, 1e-5);
    assert.strictEqual(model.title, 'attention(bundle.npz#q, bundle.npz#k, bundle.npz#v)');
  });

  it('sources list the files their last load read, so the watcher reloads them when one changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-deps-'));
    try {
      const q = path.join(dir, 'q.npy');
      fs.copyFileSync(path.join(FIX, 'a.npy'), q);
      const spec = path.join(dir, 'm.attention.json');
      fs.writeFileSync(spec, JSON.stringify({ Q: 'q.npy', K: 'q.npy', V: 'later.npy' }));
      const src = fileSource(spec, undefined, env());
      assert.deepStrictEqual(src.files?.(), [], 'nothing read yet');
      // V does not exist yet: the load fails, and still names it so that creating it triggers a reload.
      await assert.rejects(src.load(), /later\.npy/);
      assert.deepStrictEqual(src.files?.(), [q, path.join(dir, 'later.npy')]);
      fs.copyFileSync(path.join(FIX, 'a.npy'), path.join(dir, 'later.npy'));
      fs.writeFileSync(spec, JSON.stringify({ Q: 'q.npy', V: 'later.npy' }));
      await src.load();
      assert.deepStrictEqual(src.files?.(), [q, path.join(dir, 'later.npy')]);
      fs.writeFileSync(spec, JSON.stringify({ Q: [[1, 0], [0, 1]] }));
      await src.load();
      assert.deepStrictEqual(src.files?.(), [], 'an inline spec reads no other file');
      const npz = path.join(FIX, 'bundle.npz');
      const computed = computeSource({ q: `${npz}#q`, k: `${npz}#k`, v: spec, similarity: 'dot', scale: 'sqrt', mask: 'none', heads: 1 }, env());
      assert.deepStrictEqual(computed.files?.(), [npz, spec]);
      const cmp = compareSource(fileSource(q, undefined, env()), fileSource(spec, undefined, env()));
      assert.deepStrictEqual(cmp.files?.(), [q, spec]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dump opens as a layers × heads grid and the selection picks the head', async () => {
    const source = fileSource(path.join(FIX, 'dump.npy'), undefined, env());
    const first = await source.load();
    assert.strictEqual(first.grid?.layers, 2);
    assert.strictEqual(first.grid?.heads, 3);
    const model = await source.load({ layer: 1, head: 2 });
    assert.deepStrictEqual(model.selection, { layer: 1, head: 2 });
    assertClose(model.kinds.weights ?? model.kinds.data, expected.dump_l1_h2, 1e-6);
    assert.strictEqual(model.title, 'dump.npy');
    assert.deepStrictEqual((await source.load({ layer: 7, head: -3 })).selection, { layer: 1, head: 0 }, 'clamped');
  });

  it('a non-square 3-D stack shows the selected slice', async () => {
    const model = await fileSource(path.join(FIX, 'stack.npy'), undefined, env()).load({ layer: 0, head: 2 });
    assertClose(model.kinds.data ?? model.kinds.weights, expected.stack_2, 1e-6);
  });

  it('compares two maps (A − B)', async () => {
    const env0 = env();
    const model = await compareSource(fileSource(path.join(FIX, 'a.npy'), undefined, env0), fileSource(path.join(FIX, 'b.npy'), undefined, env0)).load();
    assertClose(model.kinds.difference, expected.a_minus_b, 1e-7);
  });

  it('refuses matrices over attentionInspector.maxCells with a message naming the setting', async () => {
    await assert.rejects(fileSource(path.join(FIX, 'bundle.npz'), 'q', env({ maxCells: 10 })).load(), /20 cells, more than attentionInspector\.maxCells \(10\)/);
  });

  it('above attentionInspector.maxCells, attention from Q and K is streamed instead of refused', async () => {
    const full = await fileSource(path.join(FIX, 'small.attention.json'), undefined, env()).load();
    const streamed = await fileSource(path.join(FIX, 'small.attention.json'), undefined, env({ maxCells: 11 })).load();
    assert.match(streamed.subtitle ?? '', /streamed from Q and K/);
    const server = serverFor(streamed, { overviewSize: 512 });
    assert.ok(server instanceof StreamServer);
    const m = full.kinds.weights as Matrix2D;
    const t = await server.tile('weights', { r0: 0, c0: 0, rows: m.rows, cols: m.cols });
    assert.ok(t);
    for (let i = 0; i < m.data.length; i++) assert.ok(Math.abs(t.data[i] - m.data[i]) < 1e-6, `cell ${i}`);
  });

  it('a deleted file fails with a MatrixError naming it, not a stack', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-sources-'));
    const file = path.join(dir, 'gone.npy');
    fs.copyFileSync(path.join(FIX, 'a.npy'), file);
    const source = fileSource(file, undefined, env());
    await source.load();
    fs.rmSync(dir, { recursive: true });
    await assert.rejects(source.load(), (err: Error) => err.name === 'MatrixError' && err.message.includes('gone.npy'));
    const json = path.join(dir, 'gone.attention.json');
    await assert.rejects(fileSource(json, undefined, env()).load(), /gone\.attention\.json: the file no longer exists/);
  });
});

describe('host: big computations go through the fast engine with progress', () => {
  it('a 300×300 spec runs in runLong (progress, cancellable) and matches the reference engine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-big-'));
    const file = path.join(dir, 'big.attention.json');
    const row = (i: number, salt: number) => Array.from({ length: 16 }, (_, j) => Math.sin(i * 0.37 + j * salt));
    const spec = { Q: Array.from({ length: 300 }, (_, i) => row(i, 1.1)), K: Array.from({ length: 300 }, (_, i) => row(i, 0.7)) };
    fs.writeFileSync(file, JSON.stringify(spec));
    const titles: string[] = [];
    let reports = 0;
    const e: SourceEnv = {
      settings: () => DEFAULT_SETTINGS,
      runLong: (title, work) => {
        titles.push(title);
        return work(new AbortController().signal, () => void reports++);
      },
    };
    try {
      const fast = await fileSource(file, undefined, e).load();
      assert.deepStrictEqual(titles, ['Computing attention (300×300)']);
      const { computeAttention } = await import('../../src/core/attention');
      const { loadSpec } = await import('../../src/core/jsonSpec');
      const s = await loadSpec(JSON.stringify(spec), file);
      const ref = computeAttention({ q: s.q!, k: s.k, scale: 'sqrt' });
      const w = fast.kinds.weights!;
      let worst = 0;
      for (let i = 0; i < ref.weights.length; i++) worst = Math.max(worst, Math.abs(w.data[i] - ref.weights[i]));
      assert.ok(worst < 1e-5, `max |fast − reference| = ${worst}`);
      // Cancelling aborts the computation with an AbortError instead of finishing it.
      const cancelled: SourceEnv = { settings: () => DEFAULT_SETTINGS, runLong: (_t, work) => {
        const ac = new AbortController();
        ac.abort();
        return work(ac.signal, () => undefined);
      } };
      await assert.rejects(fileSource(file, undefined, cancelled).load(), (err: Error) => err.name === 'AbortError');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('host: source ids (panel revival)', () => {
  it('ids are file URIs (plus #member) and rebuild the same source', async () => {
    const e = env();
    const npz = path.join(FIX, 'bundle.npz');
    const src = fileSource(npz, 'q', e);
    assert.strictEqual(src.id, `file://${npz.split(path.sep).map(encodeURIComponent).join('/')}#q`);
    assert.strictEqual(fileOfId(src.id), npz);
    const again = sourceFromId(src.id, e);
    assert.ok(again);
    assert.strictEqual(again.id, src.id);
    assert.strictEqual(again.title, 'bundle.npz · q');
  });

  it('rebuilds compute and compare sources, and rejects tampered ids', async () => {
    const e = env();
    const npz = path.join(FIX, 'bundle.npz');
    const compute = computeSource({ q: `${npz}#q`, k: `${npz}#k`, v: `${npz}#v`, similarity: 'dot', scale: 'sqrt', mask: 'none', heads: 1 }, e);
    const revived = sourceFromId(compute.id, e);
    assert.ok(revived);
    assertClose((await revived.load()).kinds.weights, expected.bundle_weights, 1e-5);
    const cmp = compareSource(fileSource(path.join(FIX, 'a.npy'), undefined, e), fileSource(path.join(FIX, 'b.npy'), undefined, e));
    const cmp2 = sourceFromId(cmp.id, e);
    assert.ok(cmp2);
    assertClose((await cmp2.load()).kinds.difference, expected.a_minus_b, 1e-7);
    for (const bad of ['compute:{"q":1}', 'compute:not json', 'compare:["x"]', 'http://evil/x.npy', 'file:///etc/passwd', '']) {
      assert.strictEqual(sourceFromId(bad, e), undefined, bad);
    }
  });
});
