import * as assert from 'assert';
import { countNonFinite, rollout } from '../../src/core/stats';
import { buildModelFromArray } from '../../src/core/view/model';
import { assertClose, decode, fixtures } from './engine-fixtures';

describe('stats against NumPy', () => {
  const { stats } = fixtures();

  it('head mean, head max and rollout of a [3, 2, 5, 5] dump', () => {
    const dump = decode(stats.dump);
    // Head mean and max of layer 0, as the grid builds them head by head.
    const model = buildModelFromArray({ shape: [3, 2, 5, 5], dtype: 'float32', data: Float32Array.from(dump) }, 'dump', { layer: 0, head: 0 });
    assertClose(model.kinds.headMean!.data, decode(stats.headMean).subarray(0, 25), 1e-7, 1e-6, 'headMean');
    assertClose(model.kinds.headMax!.data, decode(stats.headMax).subarray(0, 25), 1e-7, 1e-6, 'headMax');
    const r = rollout(dump, 3, 2, 5);
    assertClose(r, decode(stats.rollout), 1e-7, 1e-6, 'rollout');
    for (let i = 0; i < 5; i++) {
      const s = r.subarray(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(s - 1) < 1e-6, `rollout row ${i} sums to ${s}`);
    }
  });

  it('counts NaN and infinities', () => {
    assert.deepStrictEqual(countNonFinite(Float32Array.from([1, NaN, Infinity, -Infinity, NaN])), { nan: 2, posInf: 1, negInf: 1, total: 4 });
    assert.deepStrictEqual(countNonFinite({ shape: [2], dtype: 'int64', data: new BigInt64Array(2) }), { nan: 0, posInf: 0, negInf: 0, total: 0 });
    assert.deepStrictEqual(countNonFinite({ shape: [3], dtype: 'float64', data: Float64Array.from([-Infinity, 0, -0]) }), { nan: 0, posInf: 0, negInf: 1, total: 1 });
  });
});
