import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { ModelServer } from '../../src/core/view/serve';
import { fileSource } from '../../src/sources/fileSource';
import type { ArrayInfo } from '../../src/core/matrixFile';

const FIX = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'host');
const expected = JSON.parse(fs.readFileSync(path.join(FIX, 'expected.json'), 'utf8')) as Record<string, number[][]>;

describe('host: fewer copies from file to pixels (a small .npy)', () => {
  it('the model keeps the read, the overview is the model itself, and the model message holds it once', async () => {
    const infos: ArrayInfo[] = [];
    const model = await fileSource(path.join(FIX, 'a.npy'), undefined, { settings: () => DEFAULT_SETTINGS }, (i) => infos.push(i)).load();
    const m = model.kinds[model.defaultKind];
    assert.ok(m);
    // make_host_fixtures.py: b is all 0.5, so a = (a − b) + 0.5.
    assert.deepStrictEqual(Array.from(m.data), expected.a_minus_b.flat().map((x) => x + 0.5), 'the values NumPy saved');
    // The load's own header (the custom editor's subtitle): no second open of the file.
    assert.strictEqual(infos.length, 1);
    assert.deepStrictEqual([infos[0].shape, infos[0].dtype], [[2, 2], 'float32']);
    const server = new ModelServer(model, { overviewSize: 512 });
    const overview = server.wireMatrix(model.defaultKind);
    assert.ok(overview);
    assert.strictEqual(overview.overview, m.data, 'a map that fits is its own overview: no pooling pass, no copy');
    assert.strictEqual(server.wireMatrix(model.defaultKind)?.overview, m.data, 'and no copy from the cache');
    const wire = server.wireModel();
    // Overview and full data are one buffer, so postMessage sends it once.
    assert.strictEqual(wire.full?.kinds[model.defaultKind], m.data);
  });

  it('a view into a larger buffer (one head of several) is posted as its own copy, made once', () => {
    const all = new Float32Array(2 * 4).fill(0.25);
    const head = all.subarray(4, 8);
    const server = new ModelServer({
      title: 't', kinds: { weights: { rows: 1, cols: 4, data: head } }, defaultKind: 'weights', info: { shape: [1, 4] }, warnings: [],
    }, { overviewSize: 512 });
    const o = server.wireMatrix('weights')?.overview;
    assert.ok(o && o !== head && o.buffer.byteLength === 16, 'owns a 16-byte buffer, not the 32-byte stack');
    assert.strictEqual(server.wireModel().full?.kinds.weights, o, 'the full data reuses the same copy');
  });
});
