import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { formatShape, MAX_LENS_ENTRIES, placeLenses, shapeProblems } from '../../src/core/lenses';
import type { LensScan, LensScanEntry } from '../../src/core/lenses';
import { scanJson } from '../../src/core/jsonMatrix';

const SAMPLES = path.join(__dirname, '..', '..', '..', 'samples');

/** The scan scanJson gives for a text, built by hand from real key offsets (keys found with indexOf). */
function entry(text: string, key: string, shape: number[] | null, isRef?: string): LensScanEntry {
  const keyOffset = text.indexOf(`"${key}"`);
  assert.ok(keyOffset >= 0, key);
  return { key, keyOffset, valueOffset: text.indexOf(':', keyOffset) + 1, shape, isRef };
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length - 1;
}

describe('host: lens placement', () => {
  it('colours sample: Compute attention above the object, shape and Show heatmap above each matrix key', () => {
    const text = fs.readFileSync(path.join(SAMPLES, 'colours.attention.json'), 'utf8');
    const scan: LensScan = {
      kind: 'spec',
      entries: [entry(text, 'Q', [3]), entry(text, 'K', [8, 3]), entry(text, 'V', [8, 2]), entry(text, 'keyLabels', [8])],
    };
    const lenses = placeLenses(text, scan);
    assert.deepStrictEqual(lenses.map((l) => l.title), [
      'Compute attention', 'Q · 3', 'Show heatmap', 'K · 8×3', 'Show heatmap', 'V · 8×2', 'Show heatmap',
    ]);
    assert.strictEqual(lenses[0].offset, 0);
    assert.deepStrictEqual(lenses[0].action, { kind: 'compute' });
    assert.deepStrictEqual(lenses[4].action, { kind: 'show', member: 'K' });
    // Each key's lenses sit on that key's line.
    assert.strictEqual(lineOf(text, lenses[3].offset), text.split('\n').findIndex((l) => l.includes('"K"')));
  });

  it('no lenses on files that are not matrix files', () => {
    assert.deepStrictEqual(placeLenses('{"name": "x"}', { kind: 'none', entries: [] }), []);
  });

  it('a plain nested array gets one shape lens and one Show heatmap for the whole file', () => {
    const text = '\n  [[1, 2, 3], [4, 5, 6]]\n';
    const lenses = placeLenses(text, { kind: 'matrix', entries: [{ key: '', keyOffset: 3, valueOffset: 3, shape: [2, 3] }] });
    assert.deepStrictEqual(lenses, [
      { offset: 3, title: 'matrix · 2×3', action: { kind: 'info' } },
      { offset: 3, title: 'Show heatmap', action: { kind: 'show' } },
    ]);
  });

  it('a spec whose K is a reference to a .npy file shows the reference; no compute without Q or X', () => {
    const text = '{\n  "K": "keys.npy",\n  "V": [[1], [2]]\n}';
    const lenses = placeLenses(text, { kind: 'spec', entries: [entry(text, 'K', null, 'keys.npy'), entry(text, 'V', [2, 1])] });
    assert.deepStrictEqual(lenses.map((l) => l.title), ['K · → keys.npy', 'Show heatmap', 'V · 2×1', 'Show heatmap']);
  });

  it('stays bounded on a file with thousands of matrices', () => {
    const entries: LensScanEntry[] = [];
    for (let i = 0; i < 5000; i++) entries.push({ key: `m${i}`, keyOffset: i * 10, valueOffset: i * 10 + 5, shape: [2, 2] });
    const lenses = placeLenses('{', { kind: 'matrix', entries });
    assert.strictEqual(lenses.length, 2 * MAX_LENS_ENTRIES);
  });

  it('formats shapes the way the issue shows them', () => {
    assert.strictEqual(formatShape([8, 3]), '8×3');
    assert.strictEqual(formatShape([2, 4, 16, 16]), '2×4×16×16');
    assert.strictEqual(formatShape([]), 'scalar');
  });
});

describe('host: shape cross-checks for diagnostics', () => {
  it('flags a K whose width differs from Q, on the K key', () => {
    const text = '{\n  "Q": [[1, 2, 3]],\n  "K": [[1, 2], [3, 4]],\n  "V": [[1], [2]]\n}';
    const problems = shapeProblems({ kind: 'spec', entries: [entry(text, 'Q', [1, 3]), entry(text, 'K', [2, 2]), entry(text, 'V', [2, 1])] });
    assert.deepStrictEqual(problems, [{ offset: text.indexOf('"K"'), length: 3, message: 'Q has width 3 but K has width 2' }]);
  });

  it('flags V with a different number of rows than K; a vector Q counts as one row', () => {
    const text = '{"q": [1, 0], "k": [[1, 0], [0, 1], [1, 1]], "v": [[1], [2]]}';
    const problems = shapeProblems({ kind: 'spec', entries: [entry(text, 'q', [2]), entry(text, 'k', [3, 2]), entry(text, 'v', [2, 1])] });
    assert.deepStrictEqual(problems.map((p) => p.message), ['k has 3 rows but v has 2']);
  });

  it('accepts the consistent colours sample and ignores plain matrix files', () => {
    const text = fs.readFileSync(path.join(SAMPLES, 'colours.attention.json'), 'utf8');
    assert.deepStrictEqual(shapeProblems({ kind: 'spec', entries: [entry(text, 'Q', [3]), entry(text, 'K', [8, 3]), entry(text, 'V', [8, 2])] }), []);
    assert.deepStrictEqual(shapeProblems({ kind: 'matrix', entries: [{ key: 'a', keyOffset: 0, valueOffset: 0, shape: [2, 3] }, { key: 'K', keyOffset: 0, valueOffset: 0, shape: [2] }] }), []);
  });
});

describe('host: lenses from the real scanJson', () => {
  it('places the colours sample lenses on the Q, K and V lines, none on labels', () => {
    const text = fs.readFileSync(path.join(SAMPLES, 'colours.attention.json'), 'utf8');
    const lenses = placeLenses(text, scanJson(text, 'colours.attention.json'));
    assert.deepStrictEqual(lenses.map((l) => l.title), [
      'Compute attention', 'Q · 3', 'Show heatmap', 'K · 8×3', 'Show heatmap', 'V · 8×2', 'Show heatmap',
    ]);
    const lines = text.split('\n');
    assert.match(lines[lineOf(text, lenses[3].offset)], /^\s*"K":/);
  });

  it('shows references for a manifest of .npz members, and nothing for package.json', () => {
    const text = fs.readFileSync(path.join(SAMPLES, 'manifest.attention.json'), 'utf8');
    const titles = placeLenses(text, scanJson(text, 'manifest.attention.json')).map((l) => l.title);
    assert.deepStrictEqual(titles.slice(0, 3), ['Compute attention', 'Q · → qkv-bundle.npz#q', 'Show heatmap']);
    const pkg = fs.readFileSync(path.join(SAMPLES, '..', 'package.json'), 'utf8');
    assert.deepStrictEqual(placeLenses(pkg, scanJson(pkg, 'package.json')), []);
  });

  it('stays fast on a 2,000×256 matrix file (bounded scan)', () => {
    const rows: string[] = [];
    for (let i = 0; i < 2000; i++) rows.push(`[${Array.from({ length: 256 }, (_, j) => ((i * 7 + j) % 100) / 100).join(',')}]`);
    const text = `{"weights": [${rows.join(',\n')}]}`;
    const started = process.hrtime.bigint();
    const lenses = placeLenses(text, scanJson(text, 'big.json'));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // scanJson skips the shape of a value past its budget; the lens still offers the heatmap.
    assert.deepStrictEqual(lenses.map((l) => l.title), ['weights · large (shape when opened)', 'Show heatmap']);
    assert.ok(ms < 500, `took ${ms.toFixed(1)} ms for ${(text.length / 1e6).toFixed(1)} MB`);
  });
});
