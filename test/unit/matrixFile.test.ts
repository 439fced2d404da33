import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MatrixError } from '../../src/core/ndarray';
import { listMembers, openMatrix, readMatrix, splitRef } from '../../src/core/matrixFile';
import { assertValues, EXPECTED, fixture } from '../fixtures/files/fixtures';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

/** This process's open file descriptors (Linux /proc, macOS and BSD /dev/fd); an error where they cannot be counted. */
function openDescriptors(): number {
  for (const dir of ['/proc/self/fd', '/dev/fd']) if (fs.existsSync(dir)) return fs.readdirSync(dir).length;
  throw new Error(`cannot count open file descriptors on ${process.platform} (no /proc/self/fd or /dev/fd)`);
}

describe('matrixFile: one entry point for .npy, .npz and JSON', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('splits refs at the last #', () => {
    assert.deepStrictEqual(splitRef('a/b.npz#q'), { file: 'a/b.npz', member: 'q' });
    assert.deepStrictEqual(splitRef('a/b.npy'), { file: 'a/b.npy' });
    assert.deepStrictEqual(splitRef('a#b/c.npz#k.npy'), { file: 'a#b/c.npz', member: 'k.npy' });
    assert.deepStrictEqual(splitRef('x.npz#'), { file: 'x.npz', member: undefined });
    // The one splitRef (issue 12): a '#' inside a file name is not a member separator.
    assert.deepStrictEqual(splitRef('odd#name.npy'), { file: 'odd#name.npy' });
    assert.deepStrictEqual(splitRef('/w/odd#name.npy'), { file: '/w/odd#name.npy' });
    assert.deepStrictEqual(splitRef('a.npz#m'), { file: 'a.npz', member: 'm' });
    assert.deepStrictEqual(splitRef('x.npy'), { file: 'x.npy' });
    assert.deepStrictEqual(splitRef('dir/odd#a.npz#m'), { file: 'dir/odd#a.npz', member: 'm' });
    assert.deepStrictEqual(splitRef('run#3/q.npy'), { file: 'run#3/q.npy' });
    assert.deepStrictEqual(splitRef('bundle.zip#v'), { file: 'bundle.zip', member: 'v' });
  });
  it('recognises files by their magic bytes whatever their name, and keeps a # that is part of a file name', async () => {
    fs.copyFileSync(fixture('f4_le.npy'), path.join(dir, 'weights.bin'));
    fs.copyFileSync(fixture('bundle_deflated.npz'), path.join(dir, 'bundle.zip'));
    fs.copyFileSync(fixture('f8_be.npy'), path.join(dir, 'run#3.npy'));
    assertValues(await readMatrix(path.join(dir, 'weights.bin')), EXPECTED['f4_le.npy'], 'weights.bin');
    assertValues(await readMatrix(path.join(dir, 'bundle.zip#v')), EXPECTED['bundle_deflated.npz#v'], 'bundle.zip#v');
    assertValues(await readMatrix(path.join(dir, 'run#3.npy')), EXPECTED['f8_be.npy'], 'run#3.npy');
  });
  it('reads JSON: the whole plain array, slices of it, a spec key inline or through its .npy/.npz reference', async () => {
    const h = await openMatrix(fixture('plain_3d.json'));
    assert.deepStrictEqual(h.info, { shape: [2, 3, 2], dtype: 'float64', fortranOrder: false, byteLength: 96 });
    const s = await h.read([1, 2]);
    await h.close();
    assert.deepStrictEqual(Array.from(s.data as Float64Array), EXPECTED['plain_3d.json'].values.slice(10, 12));
    assert.strictEqual(s.data.buffer.byteLength, 16);
    assert.deepStrictEqual(Array.from((await readMatrix(fixture('inline.attention.json#V'))).data as Float64Array), [1, 0, 1, 0, 0, 1, 0, 1]);
    assertValues(await readMatrix(fixture('manifest.attention.json#Q')), EXPECTED['bundle_stored.npz#q'], 'manifest#Q');
    assertValues(await readMatrix(fixture('manifest.attention.json#attention')), EXPECTED['weights_6x9.npy'], 'manifest#attention');
    await rejects(readMatrix(fixture('inline.attention.json')), /holds an attention spec, not one matrix; choose one as inline\.attention\.json#KEY \(Q, K, V, attention\)/);
    await rejects(readMatrix(fixture('inline.attention.json#W')), /no matrix "W" \(keys with matrices: Q, K, V, attention\)/);
  });
  it('lists arrays: a .npy, .npz members, and a spec\'s keys with references followed', async () => {
    assert.deepStrictEqual(await listMembers(fixture('fortran_f4.npy')), [{ name: '', info: { shape: [2, 3, 4], dtype: 'float32', fortranOrder: true, byteLength: 96 } }]);
    assert.deepStrictEqual((await listMembers(fixture('bundle_stored.npz'))).map((m) => m.name), ['q', 'k', 'v', 'ids']);
    const spec = await listMembers(fixture('manifest.attention.json'));
    assert.deepStrictEqual(spec.map((m) => [m.name, m.info.shape, m.info.dtype]), [
      ['Q', [6, 8], 'float32'], ['K', [9, 8], 'float32'], ['V', [9, 4], 'float64'], ['attention', [6, 9], 'float32']]);
  });
  it('refuses what is not a matrix file with a message naming it', async () => {
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    fs.writeFileSync(path.join(dir, 'empty.npy'), '');
    await rejects(readMatrix(path.join(dir, 'nope.npy')), /nope\.npy: no such file/);
    await rejects(readMatrix(dir), /is a directory|not a regular file/);
    await rejects(readMatrix(path.join(dir, 'notes.txt')), /notes\.txt: not a \.npy, \.npz, \.safetensors or JSON matrix file/);
    await rejects(readMatrix(path.join(dir, 'empty.npy')), /empty\.npy: not a \.npy file \(0 bytes/);
    await rejects(readMatrix(`${fixture('f4_le.npy')}#q`), /a \.npy file has no members \(asked for "#q"\)/);
    await rejects(listMembers(path.join(dir, 'notes.txt')), /not a \.npy, \.npz, \.safetensors or JSON matrix file/);
    await rejects(readMatrix(fixture('plain_2d.json'), [3]), /index 3 is out of range for axis 0 of size 3/);
    if (process.platform !== 'win32') {
      // Opening a FIFO for reading would wait for a writer forever: it is refused before opening.
      execFileSync('mkfifo', [path.join(dir, 'pipe.npy')]);
      await rejects(readMatrix(path.join(dir, 'pipe.npy')), /pipe\.npy: not a regular file/);
      await rejects(listMembers(path.join(dir, 'pipe.npy')), /pipe\.npy: not a regular file/);
    }
  });
  it('closes what it opens: many reads do not leak file handles', async () => {
    const before = openDescriptors();
    for (let i = 0; i < 300; i++) await readMatrix(fixture('bundle_stored.npz#k'), [i % 9]);
    for (let i = 0; i < 100; i++) await readMatrix(fixture('bad/truncated.npy')).catch(() => undefined);
    const fds = openDescriptors();
    assert.ok(fds < 200, `${fds} open descriptors`);
    // 400 reads: a leak of one descriptor per read (or per failed read) shows as hundreds more.
    assert.ok(fds - before < 10, `${fds - before} more open descriptors after 400 reads (${before} → ${fds})`);
  });
  it('counts open descriptors for real (the leak check above cannot pass by counting nothing)', () => {
    const before = openDescriptors();
    const opened = Array.from({ length: 20 }, () => fs.openSync(fixture('f4_le.npy'), 'r'));
    try {
      assert.strictEqual(openDescriptors() - before, 20);
    } finally {
      for (const fd of opened) fs.closeSync(fd);
    }
    assert.strictEqual(openDescriptors(), before);
  });
});
