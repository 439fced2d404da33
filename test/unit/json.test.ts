import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { MatrixError } from '../../src/core/ndarray';
import { matrixFromNode, scanJson, SCAN_BUDGET } from '../../src/core/jsonMatrix';
import { loadSpec } from '../../src/core/jsonSpec';
import { parseJson } from '../../src/core/jsonParse';
import { readMatrix } from '../../src/core/matrixFile';
import { assertValues, EXPECTED, fixture, loadFactor } from '../fixtures/files/fixtures';

const SAMPLES = path.resolve(__dirname, '../../../samples');

function located(e: unknown, line: number, column: number, re: RegExp): true {
  assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
  assert.ok(e.location, `no location on: ${e.message}`);
  assert.deepStrictEqual([e.location.line, e.location.column], [line, column], e.message);
  assert.match(e.message, re);
  return true;
}

/** 1-based line and column of the n-th occurrence of `needle`, computed independently of the parser. */
function where(text: string, needle: string, nth = 0): [number, number] {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  const before = text.slice(0, at).split('\n');
  return [before.length, before[before.length - 1].length + 1];
}

describe('JSON matrices', () => {
  for (const name of ['plain_1d.json', 'plain_2d.json', 'plain_3d.json', 'plain_4d.json']) {
    it(`${name} loads as NumPy's array (loadSpec and readMatrix)`, async () => {
      const text = fs.readFileSync(fixture(name), 'utf8');
      const spec = await loadSpec(text, fixture(name));
      assertValues(spec.matrix!, EXPECTED[name], name);
      assertValues(await readMatrix(fixture(name)), EXPECTED[name], name);
      const scan = scanJson(text, name);
      assert.strictEqual(scan.kind, 'matrix');
      assert.deepStrictEqual(scan.entries.map((e) => e.shape), [EXPECTED[name].shape]);
      assert.deepStrictEqual(scan.errors, []);
    });
  }
  it('numbers parse exactly as JSON.parse does, plus the NaN and ±Infinity Python writes', () => {
    const nums = ['0', '-0', '1e22', '1e23', '0.1', '-1.5e-7', '123456789012345678', '5e-324', '1.7976931348623157e308', '2.5E+3', '0.30000000000000004'];
    const node = parseJson(`[${nums.join(', ')}]`);
    const a = matrixFromNode(node, '', 'x');
    nums.forEach((t, i) => assert.ok(Object.is(a.data[i], JSON.parse(t)), t));
    const special = matrixFromNode(parseJson('[NaN, Infinity, -Infinity, 1]'), '', 'x');
    assert.ok(Number.isNaN(special.data[0]));
    assert.deepStrictEqual(Array.from(special.data as Float64Array).slice(1), [Infinity, -Infinity, 1]);
  });
  it('syntax errors carry a line and column', () => {
    const cases: [string, number, number, RegExp][] = [
      ['[1, 2,\n 3,]', 2, 4, /expected a value but found "]"/],
      ['[1 2]', 1, 4, /expected "," or "]" but found "2"/],
      ['{"Q": [1], "K" [2]}', 1, 16, /expected ":" after "K"/],
      ['[01]', 1, 2, /leading zeros/],
      ['["a\nb"]', 1, 4, /control character/],
      ['[1.]', 1, 2, /digits after "."/],
      ['', 1, 1, /expected a value but found the end of the file/],
      ['[1] x', 1, 5, /unexpected "x" after the JSON value/],
      ['{"a": tru}', 1, 7, /expected a value/],
    ];
    for (const [text, line, col, re] of cases) assert.throws(() => parseJson(text, 'f.json'), (e) => located(e, line, col, re));
  });
  it('deep nesting is an error, not a stack overflow, in both the parser and the scanner', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    assert.throws(() => parseJson(deep, 'deep.json'), /nested deeper than 256 levels/);
    const scan = scanJson(deep, 'deep.json');
    assert.strictEqual(scan.kind, 'matrix');
    assert.match(scan.errors[0].message, /nested deeper than 256 levels/);
    const deepNum = '['.repeat(300) + '1' + ']'.repeat(300);
    assert.match(scanJson(deepNum, 'deep.json').errors[0].message, /nested deeper than|deeper than 4 dimensions/);
    const obj = '{"Q": ' + '{"a": '.repeat(3000) + '1' + '}'.repeat(3001);
    assert.match(scanJson(obj, 'o.json').errors[0].message, /nested deeper than 256 levels/);
  });
  it('a 4 MB matrix parses in well under a second; scanJson stays bounded and reports its shape as null', () => {
    const rows: string[] = [];
    for (let i = 0; i < 1700; i++) rows.push(`[${Array.from({ length: 256 }, (_, j) => (Math.sin(i * 256 + j) * 10).toFixed(5)).join(', ')}]`);
    const text = `[\n${rows.join(',\n')}\n]`;
    assert.ok(text.length > 4e6, String(text.length));
    let t0 = performance.now();
    const a = matrixFromNode(parseJson(text), text, 'big.json');
    const parseMs = performance.now() - t0;
    assert.deepStrictEqual([...a.shape], [1700, 256]);
    assert.strictEqual(a.data[257], Number((Math.sin(257) * 10).toFixed(5)));
    assert.ok(parseMs < 800 * loadFactor(), `parse took ${parseMs.toFixed(0)} ms`);
    t0 = performance.now();
    const scan = scanJson(text, 'big.json');
    const scanMs = performance.now() - t0;
    assert.strictEqual(scan.kind, 'matrix');
    assert.strictEqual(scan.entries[0].shape, null);
    assert.ok(scanMs < 400 * loadFactor(), `scan took ${scanMs.toFixed(0)} ms`);
    const spec = `{"Q": [[1, 2]], "K": ${text}, "V": [[1], [2]]}`;
    const s2 = scanJson(spec, 'big.attention.json');
    assert.deepStrictEqual(s2.entries.map((e) => [e.key, e.shape]), [['Q', [1, 2]], ['K', null], ['V', [2, 1]]]);
    assert.ok(text.length > SCAN_BUDGET);
  });
});

describe('JSON attention specs', () => {
  it('inline.attention.json: every option and label', async () => {
    const f = fixture('inline.attention.json');
    const spec = await loadSpec(fs.readFileSync(f, 'utf8'), f);
    assert.deepStrictEqual(spec.q!.shape, [2, 3]);
    assert.deepStrictEqual(Array.from(spec.k!.data as Float64Array), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 1]);
    assert.deepStrictEqual(spec.v!.shape, [4, 2]);
    assert.strictEqual(spec.mask, 'causal');
    assert.strictEqual(spec.scale, 0.5);
    assert.strictEqual(spec.similarity, 'cosine');
    assert.strictEqual(spec.heads, 1);
    assert.deepStrictEqual(spec.keyLabels, ['#ff0000', '#00ff00', '#0000ff', 'end']);
    assert.deepStrictEqual(spec.valueLabels, ['warm', 'cool']);
    assert.deepStrictEqual(Array.from(spec.weights!.data as Float64Array), [0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25]);
  });
  it('manifest.attention.json: refs to .npz members (stored, deflated) and a .npy, relative to the JSON file', async () => {
    const f = fixture('manifest.attention.json');
    const text = fs.readFileSync(f, 'utf8');
    const spec = await loadSpec(text, f);
    assertValues(spec.q!, EXPECTED['bundle_stored.npz#q'], 'Q');
    assertValues(spec.k!, EXPECTED['bundle_stored.npz#k'], 'K');
    assertValues(spec.v!, EXPECTED['bundle_deflated.npz#v'], 'V');
    assertValues(spec.weights!, EXPECTED['weights_6x9.npy'], 'attention');
    const scan = scanJson(text, 'manifest.attention.json');
    assert.strictEqual(scan.kind, 'spec');
    assert.deepStrictEqual(scan.entries.filter((e) => e.isRef).map((e) => [e.key, e.isRef]), [
      ['Q', 'bundle_stored.npz#q'], ['K', 'bundle_stored.npz#k.npy'], ['V', 'bundle_deflated.npz#v'], ['attention', 'weights_6x9.npy']]);
    assert.deepStrictEqual(scan.errors, []);
  });
  it('every sample in samples/ loads and scans clean', async () => {
    const files = fs.readdirSync(SAMPLES).filter((n) => n.endsWith('.attention.json'));
    assert.ok(files.length >= 5);
    for (const n of files) {
      const f = path.join(SAMPLES, n);
      const text = fs.readFileSync(f, 'utf8');
      const spec = await loadSpec(text, f);
      assert.ok(spec.q || spec.x, n);
      const scan = scanJson(text, n);
      assert.strictEqual(scan.kind, 'spec', n);
      assert.deepStrictEqual(scan.errors.map((e) => e.message), [], n);
    }
    const colours = scanJson(fs.readFileSync(path.join(SAMPLES, 'colours.attention.json'), 'utf8'), 'c.json');
    assert.deepStrictEqual(colours.entries.filter((e) => e.shape).map((e) => [e.key, e.shape]), [['Q', [3]], ['K', [8, 3]], ['V', [8, 2]]]);
    const text = fs.readFileSync(path.join(SAMPLES, 'colours.attention.json'), 'utf8');
    for (const e of colours.entries) {
      assert.strictEqual(text.slice(e.keyOffset, e.keyOffset + e.key.length + 2), JSON.stringify(e.key), 'keyOffset is at the key\'s opening quote');
      assert.strictEqual(JSON.stringify(JSON.parse(text)[e.key]).charAt(0), text.charAt(e.valueOffset), `valueOffset of ${e.key}`);
    }
  });
  it('files that are not matrices get kind none and no errors, even when broken', () => {
    for (const text of [fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'), '{"compilerOptions": {"strict": true}}',
      '["a", "b"]', '{"name": "x", "version": ', '"just a string"', '42', '[{"a": 1}]']) {
      assert.deepStrictEqual(scanJson(text, 'other.json'), { kind: 'none', entries: [], errors: [] });
    }
    assert.strictEqual(scanJson('{"a": 1', 'x.attention.json').kind, 'spec', 'the file name says it is a spec');
  });

  const bad: [string, string, number, RegExp][] = [
    ['bad/ragged.json', '[4, 5]', 0, /ragged matrix: matrix\[1\] has 2 values but matrix\[0\] has 3/],
    ['bad/not_number.attention.json', '"x"', 0, /Q\[1\]\[1\] must be a number, not the string "x"/],
    ['bad/width_mismatch.attention.json', '[[1, 2], [3, 4]]', 0, /Q has width 3 but K has width 2/],
    ['bad/empty.json', '[]', 0, /matrix is empty/],
    ['bad/syntax.json', ']]', 0, /expected a value but found "]"/],
  ];
  for (const [name, needle, nth, re] of bad) {
    it(`${name}: scanJson and loadSpec report the same located problem`, async () => {
      const f = fixture(name);
      const text = fs.readFileSync(f, 'utf8');
      const [line, col] = where(text, needle, nth);
      const scan = scanJson(text, name);
      assert.ok(scan.errors.length >= 1, 'scanJson found it');
      located(scan.errors[0], line, col, re);
      await assert.rejects(loadSpec(text, f), (e) => located(e, line, col, re));
    });
  }

  it('located checks: labels, options, unknown and repeated keys, refs that fail', async () => {
    const cases: [string, string, RegExp][] = [
      ['{"Q": [[1, 2]], "K": [[1, 2], [3, 4]], "keyLabels": ["a"]}', '["a"]', /keyLabels has 1 labels but there are 2 keys/],
      ['{"Q": [[1, 2], [3, 4]], "queryLabels": ["a", "b", "c"]}', '["a", "b", "c"]', /queryLabels has 3 labels but there are 2 queries/],
      ['{"Q": [1, 2], "K": [[1, 2]], "V": [[1, 0]], "valueLabels": ["w"]}', '["w"]', /valueLabels has 1 names but V has 2 columns/],
      ['{"Q": [1, 2], "K": [[1, 2], [3, 4]], "V": [[1, 0]]}', '[[1, 0]]', /K has 2 rows but V has 1/],
      ['{"Q": [1, 2], "scale": "big"}', '"big"', /scale must be "sqrt", "dk", "none" or a number/],
      ['{"Q": [1, 2], "heads": 1.5}', '1.5', /heads must be a positive whole number/],
      ['{"Q": [1, 2], "similarity": "l2"}', '"l2"', /similarity must be "dot", "cosine", "laplacian" or "euclidean"/],
      ['{"Q": [1, 2], "keyLabels": ["a", 3]}', '3', /keyLabels must hold strings, not the number 3/],
      ['{"Q": [1, 2], "Kk": [1]}', '"Kk"', /unknown key "Kk"/],
      ['{"Q": [1, 2], "q": [1]}', '"q"', /"q" is given twice/],
      ['{"Q": "missing.npy"}', '"missing.npy"', /Q: .*missing\.npy: no such file/],
      ['{"Q": "f4_le.npy", "K": "bundle_stored.npz#nope"}', '"bundle_stored.npz#nope"', /K: .*no member "nope"/],
      ['{"X": [[1, 2, 3]], "Wq": [[1], [2]], "Wk": [[1], [2], [3]], "Wv": [[1], [2], [3]]}', '[[1], [2]]', /X has width 3 but Wq has 2 rows/],
      ['{"X": [[1, 2]], "Wq": [[1, 2, 3], [4, 5, 6]], "Wk": [[1, 2, 3], [4, 5, 6]], "Wv": [[1, 2, 3], [4, 5, 6]], "heads": 2}', '[[1, 2, 3], [4, 5, 6]]', /Wq has 3 columns, not divisible by heads = 2/],
      ['{"Q": [[1, 2], [3, 4]], "mask": [[1, 0, 0], [1, 1, 0]]}', '[[1, 0, 0], [1, 1, 0]]', /mask has shape \[2, 3\] but the scores are \[2, 2\]/],
      ['{"description": "nothing to compute"}', '{', /needs Q \(or X with Wq, Wk, Wv, or precomputed attention weights\)/],
    ];
    for (const [text, needle, re] of cases) {
      const [line, col] = where(text, needle);
      await assert.rejects(loadSpec(text, fixture('case.attention.json')), (e) => located(e, line, col, re), text);
      if (!/missing|nope/.test(text)) {
        const scan = scanJson(text, 'case.attention.json');
        assert.ok(scan.errors.some((e) => re.test(e.message) && e.location?.line === line && e.location.column === col), `${text}: ${scan.errors.map((e) => e.message)}`);
      }
    }
    const ok = await loadSpec('\ufeff{"$schema": "x", "_note": 1, "Q": [1, 2], "mask": "none", "scale": "dk"}', fixture('ok.json'));
    assert.strictEqual(ok.mask, undefined);
    assert.strictEqual(ok.scale, 'dk');
  });
});

describe('media/attention.schema.json', () => {
  const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../media/attention.schema.json'), 'utf8'));
  const object = schema.oneOf.find((s: { type?: string }) => s.type === 'object');
  it('is draft-07 with a description on every key', () => {
    assert.strictEqual(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    for (const [k, v] of Object.entries(object.properties as Record<string, { description?: string }>)) {
      if (k !== '$schema') assert.ok(v.description, k);
    }
  });
  it('names exactly the keys the loader accepts', () => {
    for (const key of Object.keys(object.properties)) {
      const scan = scanJson(`{"Q": [1, 2], ${key === 'Q' ? '"K": [1, 2]' : `"${key}": null`}}`, 'k.attention.json');
      assert.ok(!scan.errors.some((e) => /unknown key/.test(e.message)), `${key}: ${scan.errors.map((e) => e.message)}`);
    }
    const unknown = scanJson('{"Q": [1, 2], "Qx": 1}', 'k.attention.json');
    assert.ok(unknown.errors.some((e) => /unknown key "Qx"/.test(e.message)));
    assert.strictEqual(object.additionalProperties, false);
  });
});

describe('scanJson: a ragged K is reported once', () => {
  it('does not fall back to Q for the K/V row check when K is present but ragged', () => {
    const text = '{\n  "Q": [[1, 2], [3, 4]],\n  "K": [[1, 2], [3]],\n  "V": [[1], [2], [3]]\n}\n';
    const problems = scanJson(text, 'ragk.json').errors.map((e) => e.message);
    assert.deepStrictEqual(problems, ['ragk.json:3:17: ragged K: K[1] has 1 values but K[0] has 2']);
  });
});
