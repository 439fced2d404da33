import * as assert from 'assert';
import { MatrixError, product, toFloat32, toFloat64 } from '../../src/core/ndarray';

describe('ndarray', () => {
  it('product of a shape; a 0-d shape holds one element', () => {
    assert.strictEqual(product([2, 3, 4]), 24);
    assert.strictEqual(product([]), 1);
    assert.strictEqual(product([5, 0]), 0);
  });
  it('widens any dtype to float64 and float32', () => {
    const a = { shape: [3], dtype: 'int64' as const, data: new BigInt64Array([1n, -2n, 3n]) };
    assert.deepStrictEqual(Array.from(toFloat64(a)), [1, -2, 3]);
    assert.deepStrictEqual(Array.from(toFloat32(a)), [1, -2, 3]);
  });
  it('MatrixError names the file and location, and keeps the bare problem', () => {
    const e = new MatrixError('ragged rows', 'a.json', { line: 3, column: 7, offset: 20, length: 1 });
    assert.strictEqual(e.message, 'a.json:3:7: ragged rows');
    assert.strictEqual(e.problem, 'ragged rows');
  });
});
