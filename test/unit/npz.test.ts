import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { MatrixError } from '../../src/core/ndarray';
import { listMembers, openMatrix, readMatrix } from '../../src/core/matrixFile';
import { BufferSource } from '../../src/core/npy';
import { readZipDirectory } from '../../src/core/npz';
import { encodeNpy } from '../../src/core/npyWrite';
import { assertValues, EXPECTED, fixture } from '../fixtures/files/fixtures';
import { zipOne } from '../../scripts/fuzz';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('npz: stored and deflated members as numpy writes them', () => {
  const members = Object.keys(EXPECTED).filter((n) => n.includes('.npz#'));
  for (const ref of members) {
    it(`${ref} matches NumPy`, async () => {
      assertValues(await readMatrix(fixture(ref)), EXPECTED[ref], ref);
    });
  }
  it('addresses members with or without .npy, and picks the only member of a one-array bundle', async () => {
    const a = await readMatrix(fixture('bundle_deflated.npz#k.npy'));
    assertValues(a, EXPECTED['bundle_deflated.npz#k'], 'k.npy');
    assertValues(await readMatrix(fixture('single.npz')), EXPECTED['single.npz#only'], 'only member');
    await rejects(readMatrix(fixture('bundle_stored.npz')), /holds 4 arrays; choose one as bundle_stored\.npz#NAME \(q, k, v, ids\)/);
    await rejects(readMatrix(fixture('bundle_stored.npz#nope')), /no member "nope" \(members: q, k, v, ids\)/);
  });
  it('reads slices of stored and deflated members', async () => {
    const want = EXPECTED['bundle_stored.npz#k'].values.slice(8 * 3, 8 * 4);
    for (const f of ['bundle_stored.npz#k', 'bundle_deflated.npz#k']) {
      const h = await openMatrix(fixture(f));
      const row = await h.read([3]);
      const again = await h.read([3]);
      await h.close();
      assert.deepStrictEqual(Array.from(row.data as Float32Array), want, f);
      assert.deepStrictEqual(Array.from(again.data as Float32Array), want, `${f} (second read)`);
    }
  });
  it('lists members from their headers alone, deflated ones included', async () => {
    const list = await listMembers(fixture('bundle_deflated.npz'));
    assert.deepStrictEqual(list.map((m) => [m.name, m.info.shape, m.info.dtype, m.info.fortranOrder]), [
      ['q', [6, 8], 'float32', false], ['k', [9, 8], 'float32', false], ['v', [9, 4], 'float64', false],
      ['ids', [9], 'int64', false], ['fdump', [2, 3, 4], 'float32', true],
    ]);
  });
  it('reads sizes and offsets from zip64 central-directory fields and the zip64 end record', async () => {
    const dir = await readZipDirectory(new BufferSource(fs.readFileSync(fixture('zip64_cd.npz')), 'zip64_cd.npz'), 'zip64_cd.npz');
    assert.deepStrictEqual(dir.map((e) => [e.name, e.method]), [['a.npy', 0], ['b.npy', 0]]);
    assert.strictEqual(dir[0].compressedSize, fs.readFileSync(fixture('f4_le.npy')).length);
  });
});

describe('npz: damaged archives and zip bombs are errors, not crashes or out-of-memory', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npz-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, b: Buffer): string => { const f = path.join(dir, name); fs.writeFileSync(f, b); return f; };

  it('a member that inflates past its declared size (the NumPy-made bomb fixture)', async () => {
    await rejects(readMatrix(fixture('bad/bomb.npz#a')), /member "a\.npy" inflates to more than its declared 256 bytes/);
  });
  it('a member declaring more than maxBytes is refused before inflating', async () => {
    const npy = encodeNpy({ shape: [2, 10000], dtype: 'float64', data: new Float64Array(20000) });
    const f = write('big.npz', zipOne('a.npy', zlib.deflateRawSync(npy), 8, npy.length));
    assert.strictEqual((await readMatrix(f)).data.length, 20000);
    // Opening reads only the header; the slice fits, but the member as a whole must be inflated and does not.
    const h = await openMatrix(f, { maxBytes: 100000 });
    assert.deepStrictEqual(h.info.shape, [2, 10000]);
    await rejects(h.read([0]), /inflates to 160128 bytes, over the limit of 100000/);
    await h.close();
    const lie = write('lie.npz', zipOne('a.npy', zlib.deflateRawSync(npy), 8, 0xfffffff0));
    await rejects(readMatrix(lie, [], { maxBytes: 1 << 20 }), /inflates to 4294967280 bytes, over the limit/);
  });
  it('damaged deflate data, unknown methods, encryption, truncation and garbage', async () => {
    const npy = encodeNpy({ shape: [4], dtype: 'float32', data: new Float32Array([1, 2, 3, 4]) });
    const junk = Buffer.from('this is not deflate data at all, not even close!!');
    await rejects(readMatrix(write('junk.npz', zipOne('a.npy', junk, 8, 64))), /member "a\.npy" is damaged|inflates to/);
    const bz = zipOne('a.npy', npy, 0, npy.length);
    bz.writeUInt16LE(12, 30 + 5 + npy.length + 10);
    await rejects(readMatrix(write('bz.npz', bz)), /compression method 12 \(only stored and deflated/);
    const enc = zipOne('a.npy', npy, 0, npy.length);
    enc.writeUInt16LE(1, 30 + 5 + npy.length + 8);
    await rejects(readMatrix(write('enc.npz', enc)), /is encrypted/);
    const ok = fs.readFileSync(fixture('bundle_stored.npz'));
    await rejects(readMatrix(write('trunc.npz', ok.subarray(0, ok.length - 30)) + '#q'), /not an \.npz file|central directory|invalid \.npz/);
    await rejects(readMatrix(write('cut.npz', Buffer.concat([ok.subarray(0, 200), ok.subarray(ok.length - 400)])) + '#q'), /invalid \.npz|truncated|damaged|out of range/);
    await rejects(readMatrix(write('tiny.npz', Buffer.from('PK\x05\x06'))), /too small for a zip/);
    const sized = zipOne('a.npy', npy, 0, npy.length, npy.length + 1);
    await rejects(readMatrix(write('sized.npz', sized)), /two different sizes|truncated/);
  });
});
