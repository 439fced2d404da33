import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scanJson } from '../../src/core/jsonMatrix';
import { checkRefs } from '../../src/core/refs';

const HOST = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'host');

describe('refs: the files a JSON spec names, checked for the editor', () => {
  it('reports a missing file, a folder and a missing .npz member at the string; accepts good refs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-refs-'));
    try {
      fs.copyFileSync(path.join(HOST, 'a.npy'), path.join(dir, 'q.npy'));
      fs.copyFileSync(path.join(HOST, 'bundle.npz'), path.join(dir, 'b.npz'));
      fs.mkdirSync(path.join(dir, 'folder.npy'));
      const text = JSON.stringify({ Q: 'q.npy', K: 'b.npz#k', V: 'b.npz#k.npy', Wq: 'nope.npy', Wk: 'b.npz#zz', Wv: 'folder.npy' }, null, 1);
      const file = path.join(dir, 'spec.attention.json');
      const problems = await checkRefs(scanJson(text, file).entries, file);
      assert.deepStrictEqual(problems.map((p) => p.message), [
        'Wq: "nope.npy" was not found (paths are relative to this file)',
        'Wk: "b.npz" has no member "zz" (it holds q, k, v)',
        'Wv: "folder.npy" is not a file',
      ]);
      // Each squiggle covers the JSON string, quotes included.
      assert.strictEqual(text.slice(problems[0].offset, problems[0].offset + problems[0].length), '"nope.npy"');
      assert.strictEqual(text.slice(problems[1].offset, problems[1].offset + problems[1].length), '"b.npz#zz"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged .npz is reported by its problem; inline matrices are not checked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-refs-'));
    try {
      fs.writeFileSync(path.join(dir, 'bad.npz'), 'not a zip at all');
      const text = JSON.stringify({ Q: [[1, 2]], K: 'bad.npz#k' });
      const file = path.join(dir, 'spec.json');
      const problems = await checkRefs(scanJson(text, file).entries, file);
      assert.strictEqual(problems.length, 1);
      assert.match(problems[0].message, /^K: .*(zip|archive)/i);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
