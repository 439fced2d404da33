import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MatrixError } from '../../src/core/ndarray';
import type { NdArray } from '../../src/core/ndarray';
import { openMatrix, readMatrix } from '../../src/core/matrixFile';
import { parseDescr, parseNpy, parseNpyHeaderText } from '../../src/core/npy';
import { decodeFloat16, encodeFloat16, float16Table, toFloat16Bits } from '../../src/core/float16';
import { encodeNpy, writeNpy } from '../../src/core/npyWrite';
import { assertValues, EXPECTED, fixture, loadFactor } from '../fixtures/files/fixtures';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

const npyFixtures = Object.keys(EXPECTED).filter((n) => n.endsWith('.npy'));

describe('npy: every dtype, byte order, memory order and format version, against NumPy', () => {
  it('covers every dtype in both byte orders and all three versions', () => {
    const dtypes = new Set(npyFixtures.map((n) => EXPECTED[n].dtype));
    for (const d of ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']) {
      assert.ok(dtypes.has(d), d);
    }
    for (const n of ['f2_be.npy', 'f4_be.npy', 'f8_be.npy', 'i2_be.npy', 'i4_be.npy', 'i8_be.npy', 'u2_be.npy', 'u4_be.npy', 'u8_be.npy', 'v2_f4.npy', 'v3_f4.npy', 'legacy16_i4.npy']) {
      assert.ok(EXPECTED[n], n);
    }
  });
  for (const name of npyFixtures) {
    it(`${name}: ${EXPECTED[name].dtype} [${EXPECTED[name].shape.join(', ')}]${EXPECTED[name].fortran_order ? ' Fortran' : ''} reads as NumPy wrote it`, async () => {
      const h = await openMatrix(fixture(name));
      try {
        assert.deepStrictEqual(h.info.shape, EXPECTED[name].shape);
        assert.strictEqual(h.info.fortranOrder, EXPECTED[name].fortran_order);
        assertValues(await h.read(), EXPECTED[name], name);
      } finally {
        await h.close();
      }
    });
  }
  it('reads one [l, h] slice of a [L, H, n, n] dump (and negative indices count from the end)', async () => {
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 3; h++) {
        assertValues(await readMatrix(fixture('dump_2x3x4x5.npy'), [l, h]), EXPECTED[`dump_2x3x4x5.npy[${l},${h}]`], `[${l},${h}]`);
      }
    }
    assertValues(await readMatrix(fixture('dump_2x3x4x5.npy'), [-1, -2]), EXPECTED['dump_2x3x4x5.npy[1,1]'], '[-1,-2]');
    const row = await readMatrix(fixture('dump_2x3x4x5.npy'), [1, 2, 3]);
    assert.deepStrictEqual(row.shape, [5]);
    assert.deepStrictEqual(Array.from(row.data as Float32Array), EXPECTED['dump_2x3x4x5.npy[1,2]'].values.slice(15, 20));
  });
  it('slices Fortran-order arrays by reordering them to C order first', async () => {
    const all = EXPECTED['fortran_f4.npy'];
    const s = await readMatrix(fixture('fortran_f4.npy'), [1]);
    assert.deepStrictEqual([...s.shape], [3, 4]);
    assert.deepStrictEqual(Array.from(s.data as Float32Array), all.values.slice(12));
    assert.strictEqual(s.data.buffer.byteLength, 48, 'the slice owns a buffer of its own size');
    await rejects(readMatrix(fixture('fortran_f4.npy'), [1], { maxBytes: 60 }), /Fortran-order array .* too large .*C order/);
  });
  it('refuses bad indices and reads over maxBytes, before allocating', async () => {
    await rejects(readMatrix(fixture('dump_2x3x4x5.npy'), [2]), /index 2 is out of range for axis 0 of size 2/);
    await rejects(readMatrix(fixture('dump_2x3x4x5.npy'), [0, 0, 0, 0, 0]), /too many indices/);
    await rejects(readMatrix(fixture('dump_2x3x4x5.npy'), [], { maxBytes: 100 }), /needs 480 bytes, over the limit of 100/);
    assert.strictEqual((await readMatrix(fixture('dump_2x3x4x5.npy'), [0, 0], { maxBytes: 100 })).data.length, 20);
  });
});

describe('npy: refusing bad files with a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['object.npy', /dtype '\|O' holds pickled Python objects/],
    ['complex.npy', /unsupported dtype '<c16': complex/],
    ['unicode.npy', /holds strings \(<U3, e\.g\. tokens\), not numbers: it labels a heatmap's axes and cannot be drawn as one/],
    ['structured.npy', /unsupported dtype \[\('a', '<f4'\), \('b', '<i4'\)\]: structured/],
    ['truncated.npy', /truncated \.npy data: shape \[3, 4\] of float32 needs 48 bytes but the file holds 43/],
    ['huge_shape.npy', /needs 4000000000000000 bytes but the file holds 64/],
    ['extra_key.npy', /unexpected name __import__ \(only literals are allowed\)/],
    ['long_header.npy', /header is 20000 bytes, over numpy's limit of 10000/],
    ['not_npy.npy', /not a \.npy file/],
  ];
  for (const [name, re] of cases) {
    it(name, async () => {
      await rejects(readMatrix(fixture(`bad/${name}`)), re);
      await rejects(readMatrix(fixture(`bad/${name}`)), new RegExp(`^${fixture(`bad/${name}`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
  }
  it('accepts exactly the three keys and refuses any other key set', () => {
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'shape': (2,), }", 'x.npy'), /keys are \{'descr', 'shape'\} but must be exactly/);
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 'x.npy'), /must be exactly/);
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 'x.npy'), /fortran_order is 0/);
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", 'x.npy'), /not a tuple of integers/);
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 'x.npy'), /negative dimension/);
    assert.throws(() => parseNpyHeaderText("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}", 'x.npy'), /claims more bytes/);
    assert.deepStrictEqual(parseNpyHeaderText('{"descr":"<i2","fortran_order":True,"shape":(2, 3L)}', 'x.npy').info,
      { shape: [2, 3], dtype: 'int16', fortranOrder: true, byteLength: 12 });
  });
  it('names every unsupported dtype', () => {
    assert.throws(() => parseDescr('<f16', 'a.npy'), /unsupported dtype '<f16': 128-bit float/);
    assert.throws(() => parseDescr('<M8[ns]', 'a.npy'), /unsupported dtype '<M8\[ns\]'/);
    assert.throws(() => parseDescr('|V4', 'a.npy'), /'\|V4': void\/structured/);
    assert.deepStrictEqual(parseDescr('|S4', 'a.npy'), { dtype: '|S4', itemsize: 4, littleEndian: true });
    assert.deepStrictEqual(parseDescr('>U3', 'a.npy'), { dtype: '>U3', itemsize: 12, littleEndian: false });
    assert.throws(() => parseDescr('|f4', 'a.npy'), /'\|' \(no byte order\) on a 4-byte type/);
    assert.deepStrictEqual(parseDescr('=u2', 'a.npy'), { dtype: 'uint16', itemsize: 2, littleEndian: true });
    assert.deepStrictEqual(parseDescr('>b1', 'a.npy').dtype, 'bool');
  });
});

describe('float16', () => {
  it('decodes all 65,536 bit patterns exactly as NumPy widens them', async () => {
    const half = await readMatrix(fixture('f2_all.npy'));
    const wide = await readMatrix(fixture('f2_all_as_f4.npy'));
    assert.strictEqual(half.dtype, 'float16');
    assert.ok(half.data instanceof Float32Array);
    for (let i = 0; i < 65536; i++) assert.ok(Object.is(half.data[i], wide.data[i]) || (Number.isNaN(half.data[i]) && Number.isNaN(wide.data[i])), `bits ${i}`);
  });
  it('rounds float32 to float16 as NumPy does (ties to even, overflow to Inf, subnormals)', async () => {
    const src = await readMatrix(fixture('f2_round_src_f4.npy'));
    const bits = encodeFloat16(src.data as Float32Array);
    const dst = fs.readFileSync(fixture('f2_round_dst.npy'));
    const want = new Uint16Array(dst.buffer.slice(dst.byteOffset + 128, dst.byteOffset + dst.length));
    assert.strictEqual(bits.length, want.length);
    for (let i = 0; i < bits.length; i++) {
      if (Number.isNaN(src.data[i] as number)) assert.strictEqual(bits[i] & 0x7c00, 0x7c00);
      else assert.strictEqual(bits[i], want[i], `value ${src.data[i]}: ${bits[i].toString(16)} != ${want[i].toString(16)}`);
    }
    const t = float16Table();
    for (let h = 0; h < 65536; h++) if (!Number.isNaN(t[h])) assert.strictEqual(toFloat16Bits(t[h]), h);
  });
  it('decodes 16M values fast through the table', () => {
    const bits = new Uint16Array(16 << 20);
    for (let i = 0; i < bits.length; i++) bits[i] = (i * 2654435761) >>> 16;
    decodeFloat16(bits.subarray(0, 1024));
    const t0 = performance.now();
    const out = decodeFloat16(bits);
    const ms = performance.now() - t0;
    assert.strictEqual(out.length, 16 << 20);
    assert.ok(ms < 1000 * loadFactor(), `decode took ${ms.toFixed(0)} ms`);
  });
});

describe('npyWrite', () => {
  it('writes byte for byte what numpy.save writes, for every little-endian C-order fixture', async () => {
    const same = npyFixtures.filter((n) => EXPECTED[n].version === '1.0' && !/_be|fortran|legacy/.test(n) && !EXPECTED[n].note);
    assert.ok(same.length >= 15);
    for (const name of same) {
      const a = await readMatrix(fixture(name));
      assert.ok(encodeNpy(a).equals(fs.readFileSync(fixture(name))), name);
    }
  });
  it('round-trips through writeNpy and parseNpy, including a header that needs format 2.0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npyw-'));
    try {
      const a: NdArray = { shape: [2, 3], dtype: 'int64', data: new BigInt64Array([1n, -2n, 3n, -(2n ** 63n), 5n, 6n]) };
      await writeNpy(path.join(dir, 'a.npy'), a);
      assert.deepStrictEqual(await readMatrix(path.join(dir, 'a.npy')), a);
      const many: NdArray = { shape: new Array(32).fill(1).map((_, i) => (i === 0 ? 2 : 1)), dtype: 'float32', data: new Float32Array([1, 2]) };
      const bytes = encodeNpy(many);
      assert.strictEqual(bytes[6], 1);
      assert.strictEqual((bytes.readUInt16LE(8) + 10) % 64, 0);
      assert.deepStrictEqual(Array.from((await parseNpy(bytes)).data as Float32Array), [1, 2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npy: lazy reads of big files and files that change', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens a sparse 2 GiB+ [L, H, n, n] dump and reads one head alone, quickly', async () => {
    const [L, H, n] = [4, 9, 4096];
    const file = path.join(dir, 'big.npy');
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${L}, ${H}, ${n}, ${n}), }`;
    const text = dict.padEnd(128 - 10 - 1, ' ') + '\n';
    const head = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]), Buffer.from(text, 'latin1')]);
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, head, 0, head.length, 0);
    fs.ftruncateSync(fd, 128 + L * H * n * n * 4);
    const slice = new Float32Array(n * n);
    for (let i = 0; i < slice.length; i++) slice[i] = i % 1000;
    fs.writeSync(fd, new Uint8Array(slice.buffer), 0, slice.byteLength, 128 + (2 * H + 5) * n * n * 4);
    fs.closeSync(fd);
    assert.ok(fs.statSync(file).size > 2 ** 31);
    const t0 = performance.now();
    const h = await openMatrix(file);
    const a = await h.read([2, 5]);
    await h.close();
    const ms = performance.now() - t0;
    assert.deepStrictEqual([...a.shape], [n, n]);
    assert.strictEqual(a.data[4095], 95);
    assert.strictEqual(a.data[n * n - 1], (n * n - 1) % 1000);
    assert.ok(ms < 1000 * loadFactor(), `open + read took ${ms.toFixed(0)} ms`);
    await rejects(readMatrix(file), /over the limit of 1073741824; select a sub-array/);
  });

  it('retries once when the file changes during a read, then refuses', async () => {
    const file = path.join(dir, 'live.npy');
    fs.copyFileSync(fixture('f4_le.npy'), file);
    let writes = 0;
    const h = await openMatrix(file, {
      afterRead: async () => {
        if (writes < 1) { writes++; fs.appendFileSync(file, Buffer.alloc(4)); }
      },
    });
    assertValues(await h.read(), EXPECTED['f4_le.npy'], 'after one change');
    await h.close();
    const h2 = await openMatrix(file, { afterRead: async () => { fs.appendFileSync(file, Buffer.alloc(4)); } });
    await rejects(h2.read(), /live\.npy: file changed while reading/);
    await h2.close();
  });

  it('refuses a handle whose file was rewritten with another shape', async () => {
    const file = path.join(dir, 'reshaped.npy');
    fs.copyFileSync(fixture('f4_le.npy'), file);
    const h = await openMatrix(file);
    fs.copyFileSync(fixture('dump_2x3x4x5.npy'), file);
    await rejects(h.read(), /file changed since it was opened \(now shape \[2, 3, 4, 5\] float32\)/);
    await h.close();
  });
});
