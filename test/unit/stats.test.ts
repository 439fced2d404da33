import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import { contributions, countNonFinite, describeOutput, headMax, headMean, rollout, rowEntropy, rowMax, rowRanks, topK } from '../../src/core/stats';
import { assertClose, decode, fixtures, inputOf } from './engine-fixtures';

describe('stats against NumPy', () => {
  const { stats, cases } = fixtures();

  it('row entropy in nats', () => {
    const [rows, cols] = stats.weights.shape;
    assertClose(rowEntropy(decode(stats.weights), rows, cols), decode(stats.entropy), 1e-12, 1e-12, 'entropy');
    assert.deepStrictEqual(Array.from(rowEntropy([1, 0, 0.5, 0.5], 2, 2)), [0, Math.LN2]);
  });

  it('head mean, head max and rollout of a [3, 2, 5, 5] dump', () => {
    const dump = decode(stats.dump);
    const mean = headMean(dump, 2, 25); // layer 0 only
    assertClose(mean, decode(stats.headMean).subarray(0, 25), 1e-7, 1e-6, 'headMean');
    assertClose(headMax(dump, 2, 25), decode(stats.headMax).subarray(0, 25), 1e-7, 1e-6, 'headMax');
    const r = rollout(dump, 3, 2, 5);
    assertClose(r, decode(stats.rollout), 1e-7, 1e-6, 'rollout');
    for (let i = 0; i < 5; i++) {
      const s = r.subarray(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(s - 1) < 1e-6, `rollout row ${i} sums to ${s}`);
    }
  });

  it('row max, top-k keys and ranks', () => {
    const w = [0.1, 0.5, 0.2, 0.5, 0.3, 0.2];
    const { max, argmax } = rowMax(w, 2, 3);
    assert.deepStrictEqual(Array.from(max), [0.5, 0.5]);
    assert.deepStrictEqual(Array.from(argmax), [1, 0]);
    assert.deepStrictEqual(topK([0.2, NaN, 0.7, 0.2], 3), [{ index: 2, value: 0.7 }, { index: 0, value: 0.2 }, { index: 3, value: 0.2 }]);
    assert.deepStrictEqual(Array.from(rowRanks([0.2, 0.7, 0.1])), [2, 1, 3]);
  });

  it('contributions of the seed colour query: 48.8% warm, 51.2% cool', () => {
    const r = computeAttention(inputOf(cases.seed_colour));
    const c = contributions(r.weights, r.values, r.valueDim);
    assertClose(c.output, decode(cases.seed_colour.expected.output), 1e-7, 1e-6, 'output');
    assert.strictEqual(c.perKey[0], r.weights[0]);
    assert.strictEqual(c.perKey[1], 0);
    assert.strictEqual(c.perKey[4 * 2 + 1], r.weights[4]);
    assert.strictEqual(describeOutput(c.output, ['warm', 'cool']), '48.8% warm, 51.2% cool');
    assert.strictEqual(describeOutput([0.25, -2], ['a', 'b']), 'a 0.25, b -2');
  });

  it('counts NaN and infinities', () => {
    assert.deepStrictEqual(countNonFinite(Float32Array.from([1, NaN, Infinity, -Infinity, NaN])), { nan: 2, posInf: 1, negInf: 1, total: 4 });
    assert.deepStrictEqual(countNonFinite({ shape: [2], dtype: 'int64', data: new BigInt64Array(2) }), { nan: 0, posInf: 0, negInf: 0, total: 0 });
  });
});
