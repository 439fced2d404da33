import * as assert from 'assert';
import { csvField, toCsv } from '../../src/shared/csv';
import { isPng } from '../../src/core/view/csv';
import { describeScale, formatFloat32, formatNumber, formatWeight } from '../../src/shared/format';
import { viewFixtures } from './view-fixtures';

function csvFixture() {
  const f = viewFixtures().csv;
  const data = Float32Array.from(f.data.map((x) => (typeof x === 'number' ? x : x === '-inf' ? -Infinity : x === 'inf' ? Infinity : NaN)));
  return { f, m: { rows: f.rows, cols: f.cols, data } };
}

describe('view: CSV export and number formatting', () => {
  it('writes float32 values as the shortest decimals NumPy prints', () => {
    const { f, m } = csvFixture();
    // NumPy pads exponents to two digits (e-08); both read back as the same float32.
    const ours = Array.from(m.data, formatFloat32);
    assert.deepStrictEqual(ours, f.texts.map((t) => t.replace(/e([+-])0(\d)$/, 'e$1$2')));
    for (let i = 0; i < ours.length; i++) {
      if (Number.isFinite(m.data[i])) assert.strictEqual(Math.fround(Number(ours[i])), m.data[i]);
    }
  });

  it('writes a matrix with labels, and a region of it', () => {
    const { m } = csvFixture();
    assert.strictEqual(toCsv(m), '0.15,0.33333334,-2.5e-8\n3.1415927,10000000000,-inf\n');
    assert.strictEqual(toCsv(m, ['q0', 'q,1'], ['a', 'b', 'c']), 'query\\key,a,b,c\nq0,0.15,0.33333334,-2.5e-8\n"q,1",3.1415927,10000000000,-inf\n');
    assert.strictEqual(toCsv(m, ['q0', 'q1'], ['a', 'b', 'c'], { r0: 1, c0: 1, rows: 1, cols: 2 }), 'query\\key,b,c\nq1,10000000000,-inf\n');
  });

  it('quotes fields and defuses spreadsheet formulas in labels from files', () => {
    assert.strictEqual(csvField('say "hi"'), '"say ""hi"""');
    assert.strictEqual(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.strictEqual(csvField('-0.5'), '-0.5');
    assert.strictEqual(csvField('@user'), "'@user");
  });

  it('formats weights, numbers and scale factors the way the tooltip shows them', () => {
    assert.strictEqual(formatWeight(0.15006268888200425), '15.0% (0.150)');
    assert.strictEqual(formatWeight(0.5123503), '51.2% (0.512)');
    assert.strictEqual(formatNumber(-Infinity), '−∞ (masked)');
    assert.strictEqual(formatNumber(0.77283), '0.7728');
    assert.strictEqual(formatNumber(1.5e-7), '1.500e-7');
    assert.strictEqual(describeScale(1 / Math.sqrt(3)), '1/√3');
    assert.strictEqual(describeScale(0.125), '1/8');
    assert.strictEqual(describeScale(1 / Math.sqrt(8)), '1/√8');
    assert.strictEqual(describeScale(1 / 3), '1/3');
    assert.strictEqual(describeScale(1), 'none');
  });

  it('recognises PNG bytes before the host writes them', () => {
    assert.strictEqual(isPng(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), true);
    assert.strictEqual(isPng(Uint8Array.from([0x3c, 0x73, 0x76, 0x67, 0, 0, 0, 0, 0])), false);
  });
});
