// What a notebook output's token view reads, straight from its payload: a token's row and column (tokenLine) and a
// selection's summed row, against NumPy's decoding of the helper's saved output
// (test/fixtures/notebook/make_token_lines.py → one-head-lines.json); and how the map moves to show a token's lines.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { notebookView } from '../../src/shared/notebookModel';
import { decodePayload, NOTEBOOK_MIME } from '../../src/shared/notebookPayload';
import { fitView, visibleRange, type Viewport } from '../../src/shared/hit';
import { revealLines } from '../../src/shared/tokenLayout';
import { selectionDetails, tokenLine } from '../../src/shared/tokenRows';

const root = path.join(__dirname, '../../..');
interface Fixture {
  tokens: string[]; bank: number; river: number; bankRow: number[]; riverColumn: number[];
  selection: number[]; selectionSum: number[]; selectionMean: number[];
}
const fx = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/notebook/one-head-lines.json'), 'utf8')) as Fixture;

function oneHead() {
  const nb = JSON.parse(fs.readFileSync(path.join(root, 'samples/attention.ipynb'), 'utf8')) as { cells: { outputs?: { data: Record<string, unknown> }[] }[] };
  for (const o of nb.cells.flatMap((c) => c.outputs ?? [])) {
    const raw = o.data[NOTEBOOK_MIME] as { title?: string } | undefined;
    if (raw?.title === 'one head') return notebookView(decodePayload(raw)).model;
  }
  throw new Error('no "one head" output in samples/attention.ipynb');
}

function close(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.strictEqual(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('token view in a notebook output: rows from the payload (NumPy)', () => {
  const model = oneHead();

  it('reads the hovered token\'s row (attends to) and column (attended by)', () => {
    assert.deepStrictEqual(model.queryLabels, fx.tokens);
    const row = tokenLine(model, 'weights', 'row', fx.bank);
    assert.ok(row);
    assert.strictEqual(row.kind, 'weights');
    close(row.values, fx.bankRow, 0, 'bank row');
    assert.strictEqual(row.values[fx.river].toFixed(3), '0.705');
    const col = tokenLine(model, 'weights', 'col', fx.river);
    assert.ok(col);
    close(col.values, fx.riverColumn, 0, 'river column');
  });

  it('answers nothing out of range', () => {
    assert.strictEqual(tokenLine(model, 'weights', 'row', fx.tokens.length), undefined);
    assert.strictEqual(tokenLine(model, 'weights', 'col', -1), undefined);
  });

  it('sums the selected rows as the panel does', () => {
    const d = selectionDetails(model, 'weights', fx.selection);
    assert.ok(d);
    close(d.sum, fx.selectionSum, 1e-6, 'sum');
    close(d.mean, fx.selectionMean, 1e-6, 'mean');
  });
});

describe('token view: moving the map to a token\'s lines', () => {
  const port: Viewport = { width: 400, height: 400, rows: 1000, cols: 1000 };

  it('zooms in to at least 12 px a cell and centres an off-screen row and column', () => {
    const v = revealLines(fitView(port), port, 700, 300);
    assert.ok(v.cellPx >= 12, `cellPx ${v.cellPx}`);
    const r = visibleRange(v, port);
    assert.ok(r.r0 <= 700 && 700 < r.r1, `rows ${r.r0}–${r.r1}`);
    assert.ok(r.c0 <= 300 && 300 < r.c1, `cols ${r.c0}–${r.c1}`);
  });

  it('leaves a view that already shows the line alone, and ignores a missing column', () => {
    const start = { x0: 100, y0: 100, cellPx: 20 };
    assert.deepStrictEqual(revealLines(start, port, 105, undefined), start);
    const moved = revealLines(start, port, 900, undefined);
    assert.strictEqual(moved.x0, start.x0);
    assert.notStrictEqual(moved.y0, start.y0);
  });
});
