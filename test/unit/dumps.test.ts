/**
 * Dumps of any rank ≥ 3 ending in [n_q, n_k] (test/fixtures/realdata/make_fixtures.py): which axis is which
 * (names from the file, the user or a guess), the picker axes, the header, size-1 axes dropped, lazy reads of
 * only the shown maps, and clear errors for names that do not match the rank.
 */
import * as assert from 'assert';
import * as path from 'path';
import type { SourceEnv } from '../../src/loadPipeline';
import { openMatrix, readMatrix } from '../../src/core/matrixFile';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { dumpAxes, guessAxisNames, parseAxisNames } from '../../src/core/view/dumpAxes';
import { buildModelFromDump } from '../../src/core/view/model';
import type { DumpHandle } from '../../src/core/view/model';
import { fileSource } from '../../src/sources/fileSource';
import { loadSpec } from '../../src/core/jsonSpec';
import type { NdArray } from '../../src/core/ndarray';
import { parseComputeChoice } from '../../src/computeChoice';
import { parseFromWebview } from '../../src/shared/protocol';
import { storedAxisNames } from '../../src/core/tokens';

const DUMPS = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'realdata', 'dumps');
const f = (name: string) => path.join(DUMPS, name);

function env(axes: Record<string, string[]> = {}): SourceEnv {
  return { settings: () => DEFAULT_SETTINGS, axesOf: (ref) => axes[ref] };
}

/** The map at leading indices `index` of a NumPy-written array, as NumPy indexes it. */
function mapAt(a: NdArray, index: number[]): Float32Array {
  const n = a.shape[a.shape.length - 2] * a.shape[a.shape.length - 1];
  let flat = 0;
  index.forEach((i, k) => {
    flat = flat * a.shape[k] + i;
  });
  return (a.data as Float32Array).slice(flat * n, (flat + 1) * n);
}

describe('dumps of rank ≥ 3: axes, pickers and the header', () => {
  it('guesses layers × heads before the map and batch, sample before those; size-1 axes are skipped', () => {
    assert.deepStrictEqual(guessAxisNames([4, 5, 5]), ['head', 'query', 'key']);
    assert.deepStrictEqual(guessAxisNames([2, 4, 5, 5]), ['layer', 'head', 'query', 'key']);
    assert.deepStrictEqual(guessAxisNames([2, 3, 2, 6, 6]), ['batch', 'layer', 'head', 'query', 'key']);
    assert.deepStrictEqual(guessAxisNames([2, 5, 1, 3, 2, 6, 6]), ['sample', 'batch', 'axis 2', 'layer', 'head', 'query', 'key']);
    assert.deepStrictEqual(guessAxisNames([1, 4, 5, 5]), ['axis 0', 'head', 'query', 'key']);
    assert.deepStrictEqual(parseAxisNames(' layer, batch ,head,query,key'), ['layer', 'batch', 'head', 'query', 'key']);
  });

  it('takes roles from names, in any order', () => {
    const a = dumpAxes([2, 3, 4, 6, 6], ['layer', 'batch', 'head', 'query', 'key'], 'file');
    assert.deepStrictEqual([a.layer, a.head, a.extras, a.from], [0, 2, [1], 'file']);
    const b = dumpAxes([3, 4, 6, 6], ['batch', 'head', 'q', 'k'], 'user');
    assert.deepStrictEqual([b.layer, b.head, b.extras], [undefined, 1, [0]]);
    // A named axis of size 1 is dropped like any other.
    const c = dumpAxes([1, 3, 4, 6, 6], ['batch', 'layer', 'head', 'query', 'key'], 'file');
    assert.deepStrictEqual([c.layer, c.head, c.extras], [1, 2, []]);
  });

  it('names that do not match the rank: one clear error naming the file', () => {
    assert.throws(() => dumpAxes([2, 3, 2, 6, 6], ['layer', 'head', 'query', 'key'], 'user', '/w/run.npy'),
      /^MatrixError: \/w\/run\.npy: the axis names "layer,head,query,key" name 4 axes but the array has 5 \(2×3×2×6×6\)$/);
    assert.throws(() => dumpAxes([2, 3, 6, 6], ['head', 'head', 'query', 'key'], 'user', '/w/run.npy'), /name "head" twice/);
  });

  it('a 5-D [layer, batch, head, T, T] dump: the batch picker picks the maps, the header says which axis is which', async () => {
    const file = f('stack_lbhtt.npy');
    const a = await readMatrix(file);
    const names = ['layer', 'batch', 'head', 'query', 'key'];
    const m = await fileSource(file, undefined, env({ [file]: names })).load({ layer: 1, head: 0, extra: [2] });
    assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(mapAt(a, [1, 2, 0])));
    assert.strictEqual(m.subtitle, 'batch 2 of 3 · layer 1 · head 0');
    assert.deepStrictEqual(m.pickers, [{ name: 'batch', size: 3, index: 2 }]);
    assert.deepStrictEqual(m.selection, { layer: 1, head: 0, extra: [2] });
    assert.deepStrictEqual([m.grid?.layers, m.grid?.heads], [2, 2]);
    assert.deepStrictEqual(m.axisNames, names);
    // Another batch: another map, and the head mean is over that batch's heads.
    const m0 = await fileSource(file, undefined, env({ [file]: names })).load({ layer: 1, head: 1, extra: [0] });
    assert.deepStrictEqual(Array.from(m0.kinds.weights?.data ?? []), Array.from(mapAt(a, [1, 0, 1])));
    const mean = mapAt(a, [1, 0, 0]).map((x, i) => (x + mapAt(a, [1, 0, 1])[i]) / 2);
    const got = m0.kinds.headMean?.data ?? new Float32Array(0);
    mean.forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-6, `head mean [${i}]`));
  });

  it('without names, the guess: [batch, layer, head, T, T]', async () => {
    const file = f('stack_lbhtt.npy');
    const a = await readMatrix(file);
    const m = await fileSource(file, undefined, env()).load({ layer: 2, head: 1, extra: [1] });
    assert.strictEqual(m.subtitle, 'batch 1 of 2 · layer 2 · head 1');
    assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(mapAt(a, [1, 2, 1])));
    assert.deepStrictEqual([m.grid?.layers, m.grid?.heads], [3, 2]);
  });

  it('a JSON manifest names the axes ("axes": "layer,batch,head,query,key")', async () => {
    const a = await readMatrix(f('stack_lbhtt.npy'));
    const m = await fileSource(f('stack_lbhtt.json'), undefined, env()).load({ layer: 0, head: 1, extra: [1] });
    assert.strictEqual(m.subtitle, 'batch 1 of 3 · layer 0 · head 1');
    assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(mapAt(a, [0, 1, 1])));
    // The user's choice (Set Axes…) wins over the file's.
    const user = await fileSource(f('stack_lbhtt.json'), undefined, env({ [f('stack_lbhtt.json')]: ['batch', 'layer', 'head', 'query', 'key'] })).load();
    assert.strictEqual(user.subtitle, 'batch 0 of 2 · layer 0 · head 0');
  });

  it('a 6-D (samples, 1, layers, heads, T, T) dump drops the size-1 axis; [1, H, T, T] is just heads', async () => {
    const a = await readMatrix(f('samples_slhtt.npy'));
    const m = await fileSource(f('samples_slhtt.npy'), undefined, env()).load({ layer: 2, head: 1, extra: [1] });
    assert.strictEqual(m.subtitle, 'batch 1 of 2 · layer 2 · head 1');
    assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(mapAt(a, [1, 0, 2, 1])));
    const one = await fileSource(f('one_layer.npy'), undefined, env()).load({ layer: 0, head: 3 });
    assert.strictEqual(one.subtitle, 'head 3');
    assert.strictEqual(one.pickers, undefined);
    assert.deepStrictEqual([one.grid?.layers, one.grid?.heads], [1, 4]);
  });

  it('reads only the maps of the picked batch, each by its leading indices', async () => {
    const handle = await openMatrix(f('stack_lbhtt.npy'));
    const reads: number[][] = [];
    const counting: DumpHandle = { ref: handle.ref, info: handle.info, read: (index) => (reads.push(index ?? []), handle.read(index)) };
    try {
      await buildModelFromDump(counting, { layer: 0, head: 0, extra: [2] }, {
        cellSize: 8, axes: dumpAxes(handle.info.shape, ['layer', 'batch', 'head', 'query', 'key'], 'user'),
      });
    } finally {
      await handle.close();
    }
    assert.deepStrictEqual(reads, [[0, 2, 0], [0, 2, 1], [1, 2, 0], [1, 2, 1]]);
  });

  it('axes that do not match the rank fail naming the file (the user\'s at load, a manifest\'s at its "axes" value)', async () => {
    const file = f('stack_lbhtt.json');
    await assert.rejects(fileSource(file, undefined, env({ [file]: ['head', 'query', 'key'] })).load(),
      /stack_lbhtt\.json: the axis names "head,query,key" name 3 axes but the array has 5/);
    const text = '{\n  "attention": "stack_lbhtt.npy",\n  "axes": "layer,head,query,key"\n}';
    await assert.rejects(loadSpec(text, file), /stack_lbhtt\.json:3:11: the axis names "layer,head,query,key" name 4 axes but the array has 5 \(2×3×2×6×6\)/);
    await assert.rejects(loadSpec('{"attention": [[0.5, 0.5]], "axes": "query,key"}', file), /axes names the axes of a dump/);
  });
});

describe('dumps: the picker message and the remembered batch pick', () => {
  it('selectHead carries the picker indices, checked like every index from the webview', () => {
    assert.deepStrictEqual(parseFromWebview({ type: 'selectHead', layer: 1, head: 0, extra: [2] }), { type: 'selectHead', layer: 1, head: 0, extra: [2] });
    assert.deepStrictEqual(parseFromWebview({ type: 'selectHead', layer: 1, head: 0 }), { type: 'selectHead', layer: 1, head: 0 });
    for (const extra of [[-1], [1.5], ['2'], 'x', new Array(17).fill(0)]) {
      assert.strictEqual(parseFromWebview({ type: 'selectHead', layer: 1, head: 0, extra }), undefined, JSON.stringify(extra));
    }
  });

  it('a compute choice keeps a valid batch and refuses a bad one', () => {
    const ok = { q: '/w/q.npy', similarity: 'dot', scale: 'sqrt', mask: 'none', heads: 1 };
    assert.strictEqual(parseComputeChoice({ ...ok, batch: 2 })?.batch, 2);
    assert.strictEqual(parseComputeChoice(ok)?.batch, undefined);
    assert.strictEqual(parseComputeChoice({ ...ok, batch: -1 }), undefined);
    assert.strictEqual(parseComputeChoice({ ...ok, batch: 'one' }), undefined);
  });
});

describe('axis names the file states', () => {
  it('an .npz `axes` member and a safetensors __metadata__ "axes" name the axes; the batch picker follows', async () => {
    const a = await readMatrix(`${f('named_axes.npz')}#attentions`);
    for (const file of [f('named_axes.npz'), f('named_axes.safetensors')]) {
      assert.deepStrictEqual(await storedAxisNames(file), ['layer', 'batch', 'head', 'query', 'key']);
      const m = await fileSource(file, undefined, env()).load({ layer: 1, head: 1, extra: [2] });
      assert.deepStrictEqual(m.axisNames, ['layer', 'batch', 'head', 'query', 'key'], file);
      assert.deepStrictEqual(m.pickers, [{ name: 'batch', size: 3, index: 2 }], file);
      assert.deepStrictEqual(Array.from(m.kinds.weights?.data ?? []), Array.from(mapAt(a, [1, 2, 1])), file);
    }
  });

  it('names set with Set Axes… win over the file; an `axes` member that is not strings is a clear error', async () => {
    const file = f('named_axes.npz');
    const user = ['batch', 'layer', 'head', 'query', 'key'];
    const m = await fileSource(file, undefined, env({ [`${file}#attentions`]: user, [file]: user })).load(undefined);
    assert.deepStrictEqual(m.axisNames, user);
    await assert.rejects(storedAxisNames(f('bad_axes.npz')), /bad_axes\.npz: member "axes" is int64 \[5\]/);
  });
});
