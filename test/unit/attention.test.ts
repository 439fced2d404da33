import * as assert from 'assert';
import { computeAttention, validateInput } from '../../src/core/attention';
import type { AttentionInput } from '../../src/core/attention';
import { MatrixError } from '../../src/core/ndarray';
import type { NdArray } from '../../src/core/ndarray';
import { assertClose, decode, fixtures, inputOf } from './engine-fixtures';

const m = (rows: number[][]): NdArray => ({ shape: [rows.length, rows[0].length], dtype: 'float64', data: Float64Array.from(rows.flat()) });
const vec = (xs: number[]): NdArray => ({ shape: [xs.length], dtype: 'float64', data: Float64Array.from(xs) });

describe('attention (reference) against NumPy', () => {
  const { cases } = fixtures();
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const r = computeAttention(inputOf(c));
      const e = c.expected;
      assert.ok(Math.abs(r.scaleFactor - e.scaleFactor) < 1e-15, `scaleFactor ${r.scaleFactor} vs ${e.scaleFactor}`);
      assert.deepStrictEqual([r.heads, r.nq, r.nk], e.weights.shape);
      assertClose(r.scores, decode(e.scores), 1e-6, 1e-6, 'scores');
      assertClose(r.scaled, decode(e.scaled), 1e-6, 1e-6, 'scaled');
      assertClose(r.weights, decode(e.weights), 1e-7, 1e-6, 'weights');
      assertClose(r.headOutputs, decode(e.headOutputs), 1e-6, 1e-6, 'headOutputs');
      assertClose(r.output, decode(e.output), 1e-6, 1e-6, 'output');
      assert.strictEqual(r.outputDim, e.output.shape[1]);
    });
  }

  it('the seed colour example is 48.8% warm, 51.2% cool with the seed weights', () => {
    const r = computeAttention(inputOf(cases.seed_colour));
    assert.deepStrictEqual(Array.from(r.weights, (w) => w.toFixed(3)),
      ['0.150', '0.128', '0.114', '0.096', '0.158', '0.140', '0.121', '0.093']);
    assert.deepStrictEqual(Array.from(r.output, (o) => o.toFixed(3)), ['0.488', '0.512']);
    assert.strictEqual(r.queryIsVector, true);
    assert.strictEqual(r.valuesAreScalars, false);
    assert.ok(Math.abs(r.scaleFactor - 1 / Math.sqrt(3)) < 1e-15);
  });

  it('softmax of [30, 20, 10] does not overflow', () => {
    const r = computeAttention(inputOf(cases.large_scores));
    assertClose(r.weights, [0.9999546, 4.5397869e-05, 2.06106e-09], 0, 1e-6, 'weights');
    const huge = computeAttention({ q: m([[1]]), k: m([[3000], [2000], [1000]]), v: vec([1, 2, 3]), scale: 'none' });
    assert.deepStrictEqual(Array.from(huge.weights), [1, 0, 0]);
    assert.deepStrictEqual(Array.from(huge.output), [1]);
  });

  it('a fully masked row gives zeros and a warning, never NaN', () => {
    const r = computeAttention(inputOf(cases.explicit_mask));
    const nk = r.nk;
    assert.deepStrictEqual(Array.from(r.weights.subarray(2 * nk, 3 * nk)), new Array(nk).fill(0));
    assert.ok(r.weights.every((w) => !Number.isNaN(w)));
    assert.ok(r.output.every((w) => !Number.isNaN(w)));
    assert.deepStrictEqual(r.warnings, ['1 query row is fully masked (row 2); their weights and output are zeros']);
    assert.strictEqual(r.scaled[2 * nk], -Infinity);
  });

  it('causal masks hide the future and align n_q < n_k at the end', () => {
    const r = computeAttention({ ...inputOf(cases.self_default), mask: 'causal' });
    const e = computeAttention(inputOf(cases.self_causal));
    assert.deepStrictEqual(Array.from(r.weights), Array.from(e.weights));
    assert.strictEqual(r.weights[1], 0);
    assert.strictEqual(r.weights[0], 1);
    const c = cases.causal_3x5;
    const rc = computeAttention({ ...inputOf(c), mask: 'causal' });
    assertClose(rc.weights, decode(c.expected.weights), 1e-7, 1e-6, 'causal 3×5 weights');
  });

  it('scalar values give a one-column output; heads split the projected width', () => {
    const s = computeAttention(inputOf(cases.scalar_values));
    assert.strictEqual(s.valuesAreScalars, true);
    assert.strictEqual(s.dv, 1);
    assert.strictEqual(s.output.length, 1);
    const h = computeAttention(inputOf(cases.heads_projected));
    assert.deepStrictEqual([h.heads, h.nq, h.nk, h.dk, h.dv, h.outputDim], [2, 5, 5, 4, 4, 6]);
    assert.strictEqual(h.values.length, 2 * 5 * 4);
    assert.strictEqual(h.valueDim, 4);
  });

  it('scale applies to dot; laplacian/euclidean/cosine take only a numeric scale', () => {
    const q = m([[1, 2], [3, 4]]);
    assert.strictEqual(computeAttention({ q, scale: 'dk' }).scaleFactor, 0.5);
    assert.strictEqual(computeAttention({ q, scale: 'none' }).scaleFactor, 1);
    assert.strictEqual(computeAttention({ q, similarity: 'laplacian', scale: 'sqrt' }).scaleFactor, 1);
    assert.strictEqual(computeAttention({ q, similarity: 'euclidean', scale: 3 }).scaleFactor, 3);
    assert.strictEqual(computeAttention({ q, similarity: 'cosine' }).scaleFactor, 1);
  });

  it('cosine of a zero vector is 0, not NaN', () => {
    const r = computeAttention({ q: m([[0, 0], [1, 0]]), similarity: 'cosine' });
    assert.deepStrictEqual(Array.from(r.scores), [0, 0, 0, 1]);
    assertClose(r.weights.subarray(0, 2), [0.5, 0.5], 0, 1e-7, 'zero row');
  });

  it('a result too large to allocate is a MatrixError, not a RangeError', () => {
    const q: NdArray = { shape: [70000, 1], dtype: 'float32', data: new Float32Array(70000) };
    assert.throws(() => computeAttention({ q }),
      (e: unknown) => e instanceof MatrixError && e.message === 'not enough memory for the 70000×70000 attention maps (18.25 GiB)');
  });

  it('NaN inputs are reported and propagate like NumPy (no crash)', () => {
    const r = computeAttention({ q: m([[NaN, 1], [1, 1]]) });
    assert.ok(r.warnings.some((w) => w === 'Q holds 1 NaN or infinite value; affected rows are NaN'));
    assert.ok(Number.isNaN(r.weights[0]));
  });
});

describe('attention input errors', () => {
  const q = m([[1, 2, 3], [4, 5, 6]]);
  const cases: [string, AttentionInput, string][] = [
    ['width', { q, k: m([[1, 2], [3, 4]]) }, 'Q has width 3 but K has width 2'],
    ['rows', { q, k: m(Array.from({ length: 8 }, () => [1, 2, 3])), v: m(Array.from({ length: 7 }, () => [1])) }, 'K has 8 rows but V has 7'],
    ['heads', { q: m([[1, 2, 3, 4, 5, 6, 7, 8]]), heads: 3 }, 'heads=3 does not divide d_model=8'],
    ['mask', { q: m([[1], [2], [3]]), k: m([[1], [2], [3], [4], [5]]), v: m([[1], [2], [3], [4], [5]]),
      mask: { shape: [4, 4], dtype: 'bool', data: new Uint8Array(16) } }, 'mask is 4×4 but scores are 3×5'],
    ['mask values', { q, mask: { shape: [2, 2], dtype: 'float64', data: Float64Array.from([1, 0.5, 1, 1]) } },
      'mask must hold only 0/1 or true/false, found 0.5 at flat index 1'],
    ['W_Q rows', { q, wq: m([[1, 0], [0, 1]]) }, 'W_Q has 2 rows but Q has width 3'],
    ['W_O rows', { q, wo: m([[1], [2]]) }, 'W_O has 2 rows but the concatenated heads have width 3'],
    ['5-D Q', { q: { shape: [1, 1, 1, 2, 3], dtype: 'float64', data: new Float64Array(6) } }, 'Q must be a vector, a matrix or split into heads ([heads, n, d]), but it has shape 1×1×1×2×3'],
    ['bad heads', { q, heads: 0 }, 'heads must be a positive integer, got 0'],
    ['empty K', { q, k: { shape: [0, 3], dtype: 'float64', data: new Float64Array(0) } }, 'K has no rows'],
  ];
  for (const [name, input, message] of cases) {
    it(`${name}: "${message}"`, () => {
      assert.throws(() => validateInput(input), (e: unknown) => e instanceof MatrixError && e.message === message);
      assert.throws(() => computeAttention(input), (e: unknown) => e instanceof MatrixError && e.message === message);
    });
  }
});
