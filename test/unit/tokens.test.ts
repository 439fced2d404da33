// The token view's pure parts: faithful token text, search, line layout for the virtualized text, and the
// rows, columns and selections it tints by (checked against NumPy: test/fixtures/tokens/make_fixtures.py).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { computeAttention } from '../../src/core/attention';
import { loadSpec } from '../../src/core/jsonSpec';
import { ModelServer } from '../../src/core/view/serve';
import { buildModelFromSpec } from '../../src/core/view/model';
import { parseFromWebview } from '../../src/shared/protocol';
import { layoutLines, lineOf, tokenOnAdjacentLine, visibleLines } from '../../src/shared/tokenLayout';
import { columnDetails, MAX_SELECTION, selectionDetails, spanRows, toggleRow, tokenKind, topEntries } from '../../src/shared/tokenRows';
import { isHit, lowerBound, searchTokens, stepHit } from '../../src/shared/tokenSearch';
import { displayToken, endsLine } from '../../src/shared/tokenText';
import type { HeatmapModel } from '../../src/shared/types';

const root = path.join(__dirname, '../../..');
interface Fixture {
  tokens: string[]; weights: number[][]; bank: number; river: number; bankToRiver: number; riverColumn: number[];
  selection: number[]; selectionSum: number[]; selectionMean: number[]; selectionOutput: number[];
  searchThe: { insensitive: number[]; sensitive: number[] };
}
const fx = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/tokens/sentence-tokens.json'), 'utf8')) as Fixture;

async function sentenceModel(): Promise<HeatmapModel> {
  const file = path.join(root, 'samples/sentence.attention.json');
  const spec = await loadSpec(fs.readFileSync(file, 'utf8'), file);
  const q = spec.q;
  if (!q) throw new Error('no Q');
  const result = computeAttention({ q, k: spec.k, v: spec.v, mask: spec.mask, scale: 'sqrt' });
  return buildModelFromSpec(spec, result, 'sentence.attention.json');
}

function close(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6, what = ''): void {
  assert.strictEqual(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('token view: faithful text', () => {
  it('shows tokenizer space markers as spaces, keeps a leading space, newlines as ⏎ that end the line', () => {
    assert.strictEqual(displayToken('Ġbank'), ' bank');
    assert.strictEqual(displayToken('▁river'), ' river');
    assert.strictEqual(displayToken(' the'), ' the');
    assert.strictEqual(displayToken('a\nb'), 'a⏎b');
    assert.strictEqual(displayToken('\r\n'), '⏎');
    assert.strictEqual(displayToken('Ċ'), '⏎', 'byte-level newline');
    assert.strictEqual(displayToken('ĠĠĊ'), '  ⏎');
    assert.strictEqual(displayToken('Ċat'), 'Ċat', 'a Ċ inside a word is a letter');
    assert.strictEqual(displayToken('\t'), '⇥');
    assert.strictEqual(displayToken('\u0007'), '␇');
    assert.strictEqual(displayToken(''), '∅');
    assert.strictEqual(displayToken('a\u202eb'), 'a\\u{202e}b', 'a bidi override is shown, not obeyed');
    assert.strictEqual(displayToken('<img src=x>'), '<img src=x>', 'markup stays text');
    assert.strictEqual(Array.from(displayToken('x'.repeat(500))).length, 81);
    assert.ok(endsLine('\n') && endsLine('Ċ') && endsLine('x\r') && !endsLine('Ġbank') && !endsLine('Ċat'));
  });
});

describe('token view: search', () => {
  it('finds substrings with and without case, as NumPy/Python does on the sentence', () => {
    assert.deepStrictEqual(Array.from(searchTokens(fx.tokens, { text: 'the', regex: false, caseSensitive: false }).hits), fx.searchThe.insensitive);
    assert.deepStrictEqual(Array.from(searchTokens(fx.tokens, { text: 'the', regex: false, caseSensitive: true }).hits), fx.searchThe.sensitive);
    assert.strictEqual(searchTokens(fx.tokens, { text: '', regex: false, caseSensitive: false }).hits.length, 0);
  });
  it('matches regular expressions on the shown text and reports an invalid one', () => {
    const toks = ['Ġbank', 'Ġriver', 'banks', 'Bank'];
    assert.deepStrictEqual(Array.from(searchTokens(toks, { text: '^ ba', regex: true, caseSensitive: false }).hits), [0]);
    assert.deepStrictEqual(Array.from(searchTokens(toks, { text: 'bank$', regex: true, caseSensitive: false }).hits), [0, 3]);
    assert.deepStrictEqual(Array.from(searchTokens(toks, { text: 'bank$', regex: true, caseSensitive: true }).hits), [0]);
    const bad = searchTokens(toks, { text: '(', regex: true, caseSensitive: false });
    assert.strictEqual(bad.hits.length, 0);
    assert.ok(bad.error && bad.error.length > 0);
    // Not a regex: "(" is a character.
    assert.deepStrictEqual(Array.from(searchTokens(['f(x)', 'y'], { text: '(', regex: false, caseSensitive: false }).hits), [0]);
  });
  it('steps through hits with Enter / Shift+Enter, wrapping', () => {
    const hits = Int32Array.from([2, 5, 9]);
    assert.strictEqual(stepHit(hits, undefined, 1), 0);
    assert.strictEqual(stepHit(hits, undefined, -1), 2);
    assert.strictEqual(stepHit(hits, 2, 1), 1);
    assert.strictEqual(stepHit(hits, 3, 1), 1);
    assert.strictEqual(stepHit(hits, 9, 1), 0);
    assert.strictEqual(stepHit(hits, 5, -1), 0);
    assert.strictEqual(stepHit(hits, 2, -1), 2);
    assert.strictEqual(stepHit(new Int32Array(0), 1, 1), -1);
    assert.ok(isHit(hits, 5) && !isHit(hits, 4) && !isHit(hits, 10));
    assert.strictEqual(lowerBound(hits, 6), 2);
  });
});

describe('token view: virtualized layout', () => {
  it('breaks lines greedily, after newlines, and puts a too-wide token on its own line', () => {
    assert.deepStrictEqual(Array.from(layoutLines([10, 10, 10, 10, 10], 25)), [0, 2, 4]);
    assert.deepStrictEqual(Array.from(layoutLines([10, 10, 10, 10], 100, [0, 1, 0, 0])), [0, 2]);
    assert.deepStrictEqual(Array.from(layoutLines([10, 50, 10], 30)), [0, 1, 2]);
    assert.deepStrictEqual(Array.from(layoutLines([10, 10], 100, [1, 1])), [0, 1], 'no empty line after a final newline');
    assert.deepStrictEqual(Array.from(layoutLines([], 100)), []);
  });
  it('finds a token’s line and the window of lines to render at 32,768 tokens', () => {
    const n = 32768;
    const starts = layoutLines(new Float32Array(n).fill(40), 400); // ten tokens a line
    assert.strictEqual(starts.length, 3277);
    assert.strictEqual(lineOf(starts, 0), 0);
    assert.strictEqual(lineOf(starts, 12345), 1234);
    assert.strictEqual(lineOf(starts, n - 1), 3276);
    assert.deepStrictEqual(visibleLines(0, 200, 20, starts.length, 4), { first: 0, end: 14 });
    assert.deepStrictEqual(visibleLines(20 * 1000, 200, 20, starts.length, 4), { first: 996, end: 1014 });
    assert.deepStrictEqual(visibleLines(20 * 3276, 200, 20, starts.length, 4), { first: 3272, end: 3277 });
    assert.deepStrictEqual(visibleLines(0, 200, 20, 0), { first: 0, end: 0 });
    assert.strictEqual(tokenOnAdjacentLine(starts, n, 15, 1), 25);
    assert.strictEqual(tokenOnAdjacentLine(starts, n, 15, -1), 5);
    assert.strictEqual(tokenOnAdjacentLine(starts, n, 5, -1), 5);
    assert.strictEqual(tokenOnAdjacentLine(starts, n, 32765, 1), 32765);
    assert.strictEqual(tokenOnAdjacentLine(layoutLines([10, 10, 10, 10], 25), 4, 1, 1), 3);
  });
});

describe('token view: rows, columns and selections (NumPy)', () => {
  it('reads a column ("attended by") and a selection’s sum, mean and output as NumPy does', async () => {
    const model = await sentenceModel();
    assert.strictEqual(tokenKind(model, 'scores'), 'weights');
    const col = columnDetails(model, 'weights', fx.river);
    assert.ok(col);
    close(col.values, fx.riverColumn, 1e-6, 'river column');
    assert.strictEqual(col.colLabel, 'river');
    const sel = selectionDetails(model, 'weights', [fx.bank, fx.river, fx.bank, 99]);
    assert.ok(sel);
    assert.deepStrictEqual(sel.rows, [fx.river, fx.bank].sort((a, b) => a - b));
    close(sel.sum, fx.selectionSum, 1e-6, 'sum');
    close(sel.mean, fx.selectionMean, 1e-6, 'mean');
    assert.ok(sel.output);
    close(sel.output, fx.selectionOutput, 1e-5, 'output');
    assert.strictEqual(selectionDetails(model, 'weights', [99]), undefined);
    assert.strictEqual(columnDetails(model, 'weights', 8), undefined);
  });

  it('is answered by the host (ModelServer) for large maps, and the protocol checks the requests', async () => {
    const server = new ModelServer(await sentenceModel(), { overviewSize: 512 });
    const c = server.respond({ type: 'requestColumn', id: 1, kind: 'weights', col: fx.river });
    assert.ok(c && c.type === 'column' && c.details);
    close(c.details.values, fx.riverColumn, 1e-6);
    const s = server.respond({ type: 'requestSelection', id: 2, kind: 'scaled', rows: fx.selection });
    assert.ok(s && s.type === 'selection' && s.details);
    close(s.details.sum, fx.selectionSum, 1e-6);
    assert.deepStrictEqual(parseFromWebview({ type: 'requestSelection', id: 3, kind: 'weights', rows: [1, 2] }),
      { type: 'requestSelection', id: 3, kind: 'weights', rows: [1, 2] });
    assert.strictEqual(parseFromWebview({ type: 'requestSelection', id: 3, kind: 'weights', rows: [1, -2] }), undefined);
    assert.strictEqual(parseFromWebview({ type: 'requestSelection', id: 3, kind: 'weights', rows: [] }), undefined);
    assert.strictEqual(parseFromWebview({ type: 'requestSelection', id: 3, kind: 'weights', rows: new Array(MAX_SELECTION + 1).fill(0) }), undefined);
    assert.strictEqual(parseFromWebview({ type: 'requestColumn', id: 3, kind: 'weights', col: 1.5 }), undefined);
  });

  it('builds selections by span and toggle, and ranks a row', () => {
    assert.deepStrictEqual(spanRows(5, 2), [2, 3, 4, 5]);
    assert.deepStrictEqual(toggleRow([1, 4], 2), [1, 2, 4]);
    assert.deepStrictEqual(toggleRow([1, 2, 4], 2), [1, 4]);
    assert.deepStrictEqual(topEntries(fx.weights[fx.bank], 2).map(([i]) => fx.tokens[i]), ['bank', 'The']);
    assert.deepStrictEqual(topEntries([1, Number.NaN, 3, 3], 3), [[2, 3], [3, 3], [0, 1]]);
  });
});
