import * as assert from 'assert';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { exportDefaultPath, exportName } from '../../src/exportTarget';

describe('host: the export dialog default', () => {
  const dir = path.resolve('/w', 'runs', 'sub');
  const file = path.join(dir, 'colours.attention.json');

  it('bug 4: a file source (whose id is a URI string) saves beside its file', () => {
    const id = pathToFileURL(file).href;
    assert.strictEqual(exportDefaultPath({ id, title: 'colours.attention.json' }, 'png', '/w'), path.join(dir, 'colours.png'));
    assert.strictEqual(exportDefaultPath({ id: `${pathToFileURL(path.join(dir, 'a.npz')).href}#q`, title: 'a.npz · q' }, 'csv', '/w'),
      path.join(dir, 'a_q.csv'));
  });

  it('a computation saves beside its Q file; a source without files in the workspace folder', () => {
    const q = path.join(dir, 'q.npy');
    const compute = { id: 'compute:{}', title: 'attention(q.npy, k.npy)', files: () => [q, path.join('/elsewhere', 'k.npy')] };
    assert.strictEqual(exportDefaultPath(compute, 'png', '/w'), path.join(dir, 'attention_q_k.png'));
    assert.strictEqual(exportDefaultPath({ id: 'unavailable', title: 'Attention heatmap' }, 'png', path.resolve('/w')),
      path.join(path.resolve('/w'), 'Attention_heatmap.png'));
    assert.strictEqual(exportDefaultPath({ id: 'unavailable', title: 'x' }, 'png'), undefined);
  });

  it('names are plain file names', () => {
    assert.strictEqual(exportName('../../etc/passwd', 'png'), 'etc_passwd.png');
    assert.strictEqual(exportName('··', 'csv'), 'attention.csv');
    assert.strictEqual(exportName('a.npz − b.npz', 'png'), 'a_b.png');
  });
});
