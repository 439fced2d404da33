// String arrays, safetensors and pickle refusals, compared with what NumPy (and exact bit arithmetic) wrote.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MatrixError } from '../../src/core/ndarray';
import type { StringArray } from '../../src/core/ndarray';
import { listMembers, openMatrix, readMatrix } from '../../src/core/matrixFile';
import { decodeBFloat16, decodeFloat8 } from '../../src/core/floatDecode';
import { assertValues } from '../fixtures/files/fixtures';
import { BF16_ROUNDING, EXPECTED_FORMATS, EXPECTED_STRINGS, formatsFixture as fx } from '../fixtures/formats/fixtures';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

async function readStrings(ref: string, index: number[] = []): Promise<StringArray> {
  const h = await openMatrix(ref);
  try {
    const a = await h.readAny(index);
    assert.ok('strings' in a, `${ref} should read as strings`);
    return a;
  } finally {
    await h.close();
  }
}

describe('string arrays in .npy and .npz', () => {
  for (const name of ['u_le.npy', 'u_be.npy', 's_bytes.npy', 'u_2d.npy', 'u_fortran.npy', 'u_scalar.npy', 'run.npz#tokens']) {
    it(`${name} reads as NumPy gives its items`, async () => {
      const e = EXPECTED_STRINGS[name];
      const a = await readStrings(fx(name));
      assert.deepStrictEqual([...a.shape], e.shape);
      assert.strictEqual(a.dtype, e.dtype);
      assert.deepStrictEqual(a.strings, e.values);
    });
  }
  it('strips trailing NULs but keeps an embedded one; decodes bytes as UTF-8 with U+FFFD', async () => {
    const u = await readStrings(fx('u_le.npy'));
    assert.strictEqual(u.strings[4], 'a\u0000b');
    assert.strictEqual(u.strings[3], '');
    const s = await readStrings(fx('s_bytes.npy'));
    assert.deepStrictEqual(s.strings.slice(1, 4), ['café', '\ufffd\ufffdok', 'x\u0000y']);
  });
  it('reads a row of a 2-D string array, C and Fortran order', async () => {
    for (const f of ['u_2d.npy', 'u_fortran.npy']) {
      const row = await readStrings(fx(f), [1]);
      assert.deepStrictEqual(row.strings, ['dddd', '', 'f'], f);
      assert.deepStrictEqual([...row.shape], [3]);
    }
  });
  it('an .npz with attentions and tokens lists and opens (stored and deflated)', async () => {
    for (const f of ['run.npz', 'run_compressed.npz']) {
      const list = await listMembers(fx(f));
      assert.deepStrictEqual(list.map((m) => [m.name, m.info.dtype, m.info.shape]), [['attentions', 'float32', [2, 2, 5, 5]], ['tokens', '<U4', [5]]]);
      assertValues(await readMatrix(fx(`${f}#attentions`)), EXPECTED_FORMATS['run.npz#attentions'], f);
      assert.deepStrictEqual((await readStrings(fx(`${f}#tokens`))).strings, EXPECTED_STRINGS['run.npz#tokens'].values);
    }
  });
  it('is never drawn as a heatmap: read() refuses strings with a clear message', async () => {
    await rejects(readMatrix(fx('u_le.npy')), /u_le\.npy: holds strings \(<U5, e\.g\. tokens\), not numbers: it labels a heatmap's axes and cannot be drawn as one/);
    await rejects(readMatrix(fx('run.npz#tokens')), /run\.npz#tokens: holds strings/);
  });
  it('refuses claims the file cannot hold, truncated data and huge zero-width counts, quickly', async () => {
    const t0 = Date.now();
    await rejects(readStrings(fx('bad/strings_huge.npy')), /strings_huge\.npy: truncated \.npy data: shape \[1000000\] of <U1000000000 needs 4000000000000000 bytes but the file holds 4/);
    await rejects(readStrings(fx('bad/strings_truncated.npy')), /strings_truncated\.npy: truncated \.npy data: shape \[3\] of <U4 needs 48 bytes but the file holds 32/);
    await rejects(readStrings(fx('bad/strings_zero_width.npy')), /strings_zero_width\.npy: string array of shape \[4000000000000\] \(\|S0\) holds 4000000000000 strings, over the limit/);
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('safetensors', () => {
  const names = Object.keys(EXPECTED_FORMATS).filter((k) => k.includes('.safetensors#'));
  for (const ref of names) {
    it(`${ref} decodes exactly`, async () => {
      assertValues(await readMatrix(fx(ref)), EXPECTED_FORMATS[ref], ref);
    });
  }
  it('lists every tensor with its shape and dtype, in file order', async () => {
    const list = await listMembers(fx('all_dtypes.safetensors'));
    const byName = new Map(list.map((m) => [m.name, m.info]));
    for (const ref of names.filter((r) => r.startsWith('all_dtypes'))) {
      const e = EXPECTED_FORMATS[ref];
      const info = byName.get(ref.split('#')[1]);
      assert.ok(info, ref);
      assert.deepStrictEqual([info.shape, info.dtype], [e.shape, e.dtype], ref);
    }
    assert.strictEqual(list[0].name, 'u64'); // the reference writer puts 8-byte types first
  });
  it('reads one head of a dump lazily by leading index', async () => {
    const e = EXPECTED_FORMATS['run_bf16.safetensors#attentions'];
    const h = await openMatrix(fx('run_bf16.safetensors'));
    try {
      assert.deepStrictEqual(h.info.shape, [2, 2, 5, 5]);
      const head = await h.read([1, 0]);
      assert.strictEqual(head.dtype, 'bfloat16');
      assert.deepStrictEqual(Array.from(head.data as Float32Array), e.values.slice(50, 75));
    } finally {
      await h.close();
    }
  });
  it('a one-tensor file opens without #name; a many-tensor one names its tensors', async () => {
    assert.deepStrictEqual((await readMatrix(fx('single.safetensors'))).shape, [3]);
    await rejects(readMatrix(fx('all_dtypes.safetensors')), /holds 16 tensors; choose one as all_dtypes\.safetensors#NAME \(u64, i64,/);
    await rejects(readMatrix(fx('all_dtypes.safetensors#nope')), /all_dtypes\.safetensors: no tensor "nope" \(tensors: u64/);
  });
  it('bf16 is the top half of float32 (round-to-nearest-even inputs decode to NumPy\'s values)', () => {
    const want = BF16_ROUNDING.bfloat16;
    const bits = new Uint16Array(new Float32Array(want.map((x) => (typeof x === 'string' ? Number(x) : x))).buffer).filter((_, i) => i % 2 === 1);
    const got = decodeBFloat16(bits);
    want.forEach((w, i) => (w === 'nan' ? assert.ok(Number.isNaN(got[i])) : assert.ok(Object.is(got[i], typeof w === 'string' ? Number(w) : w), `${i}`)));
  });
  it('float8 tables: e4m3fn has no infinities (448 max, 0x7f NaN); e5m2 has ±inf', () => {
    const e4 = decodeFloat8(Uint8Array.from([0x7e, 0x7f, 0x01, 0x80, 0xfe]), 'float8_e4m3fn');
    assert.deepStrictEqual([e4[0], Number.isNaN(e4[1]), e4[2], Object.is(e4[3], -0), e4[4]], [448, true, 2 ** -9, true, -448]);
    const e5 = decodeFloat8(Uint8Array.from([0x7c, 0xfc, 0x7d, 0x01, 0x7b]), 'float8_e5m2');
    assert.deepStrictEqual([e5[0], e5[1], Number.isNaN(e5[2]), e5[3], e5[4]], [Infinity, -Infinity, true, 2 ** -16, 57344]);
  });

  const rules: [string, RegExp][] = [
    ['too_small', /3 bytes is too small for the 8-byte header length/],
    ['header_too_large', /header length 100000001 is over the limit of 100000000 bytes/],
    ['header_huge_u64', /header length 18446744073709551615 is over the limit/],
    ['header_past_end', /header length 4096 runs past the end of the 99-byte file/],
    ['not_utf8', /the header is not valid UTF-8/],
    ['not_json', /the header is not JSON/],
    ['not_object', /the header does not start with "\{"/],
    ['header_not_brace', /the header does not start with "\{"/],
    ['offsets_not_zero', /tensor "a" \(data_offsets \[4, 20\]\): the first tensor must start at offset 0/],
    ['offsets_hole', /tensor "b" \(data_offsets \[20, 23\]\) starts at 20 but the previous tensor ends at 16 \(a hole/],
    ['offsets_overlap', /tensor "b" \(data_offsets \[8, 16\]\) starts at 8 but the previous tensor ends at 16 \(an overlap/],
    ['offsets_reversed', /tensor "a" \(data_offsets \[16, 0\]\) ends before it begins/],
    ['size_mismatch', /tensor "a" \(data_offsets \[0, 16\]\) holds 16 bytes but shape \[2, 3\] of F32 needs 24/],
    ['shape_overflow', /tensor "a" .*shape \[1099511627776, 1099511627776\] overflows/],
    ['short_buffer', /the tensors end at byte 155 but the file has 154 bytes/],
    ['trailing_bytes', /the tensors end at byte 155 but the file has 157 bytes/],
    ['claims_terabytes', /the tensors end at byte 2199023255656 but the file has 168 bytes/],
    ['metadata_not_strings', /__metadata__ entry "layers" is number, not a string/],
    ['metadata_not_map', /__metadata__ is not a map of strings to strings/],
    ['unknown_dtype', /unsupported safetensors dtype 'C64' in tensor "a"/],
    ['negative_shape', /tensor "a" has shape \[-2,-2\], not a list of non-negative integers/],
    ['shape_not_list', /tensor "a" has shape "2,2"/],
    ['offsets_not_pair', /tensor "a" has data_offsets \[0,8,16\], not a pair/],
    ['missing_dtype', /tensor "a" has no dtype string/],
    ['tensor_not_object', /tensor "a" is not an object/],
  ];
  for (const [name, re] of rules) {
    it(`refuses ${name} with one message naming the file and the rule`, async () => {
      const file = fx(`bad/${name}.safetensors`);
      const size = fs.statSync(file).size;
      const before = process.memoryUsage().arrayBuffers;
      await rejects(listMembers(file), new RegExp(`${name}\\.safetensors: .*${re.source}`));
      await rejects(readMatrix(`${file}#a`), re);
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024 + size, 'nothing allocated from a claim');
    });
  }
});

describe('pickles are refused with guidance', () => {
  for (const name of ['model.pt', 'legacy.pth', 'disguised.npz']) {
    it(`${name} is never unpickled`, async () => {
      for (const p of [listMembers(fx(`bad/${name}`)), readMatrix(fx(`bad/${name}`))]) {
        await rejects(p, /a Python pickle, which is never loaded .*safetensors\.torch\.save_file\(\{"attentions": t\.contiguous\(\)\}, "run\.safetensors"\) or np\.save\("attentions\.npy", t\.float\(\)\.cpu\(\)\.numpy\(\)\)/);
      }
    });
  }
  it('by extension alone: .bin and .ckpt', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-'));
    try {
      for (const ext of ['.bin', '.ckpt']) {
        fs.writeFileSync(path.join(dir, `pytorch_model${ext}`), 'not a zip, not a pickle');
        await rejects(readMatrix(path.join(dir, `pytorch_model${ext}`)), new RegExp(`pytorch_model\\${ext}: a \\${ext} file is a PyTorch checkpoint: a Python pickle`));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
