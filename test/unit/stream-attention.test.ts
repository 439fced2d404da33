import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import type { AttentionInput } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import type { NdArray } from '../../src/core/ndarray';
import { attentionOutput, attentionRows } from '../../src/core/stream/attention';
import { memoryMask } from '../../src/core/stream/mask';

function random(shape: number[], seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 3;
  }
  return { shape, dtype: 'float32', data };
}

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  assert.strictEqual(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tol || (Number.isNaN(a[i]) && Number.isNaN(e[i])), `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

function mask(nq: number, nk: number, seed: number): NdArray {
  const r = random([nq, nk], seed);
  const data = Uint8Array.from(r.data as Float32Array, (x) => (x > -0.9 ? 1 : 0));
  data.fill(0, 2 * nk, 3 * nk); // row 2 fully masked
  return { shape: [nq, nk], dtype: 'bool', data };
}

const CASES: [string, AttentionInput][] = [
  ['one head, causal, n_q < n_k', { q: random([40, 8], 1), k: random([60, 8], 2), v: random([60, 5], 3), mask: 'causal' }],
  ['three heads with projections and W_O, cosine', {
    q: random([30, 6], 4), k: random([30, 6], 5), v: random([30, 6], 6), heads: 3, similarity: 'cosine',
    wq: random([6, 9], 7), wk: random([6, 9], 8), wv: random([6, 12], 9), wo: random([12, 4], 10),
  }],
  ['explicit mask with a fully masked row, laplacian', { q: random([25, 4], 11), k: random([35, 4], 12), v: random([35, 3], 13), mask: mask(25, 35, 14), similarity: 'laplacian' }],
  ['a single query vector and scalar values', { q: random([7], 15), k: random([20, 7], 16), v: random([20], 17) }],
];

describe('stream: rows and outputs of a whole input (heads, projections, masks)', function () {
  this.timeout(60000);
  after(() => disposeComputePool());

  for (const [name, input] of CASES) {
    it(`rows and outputs match the in-memory path: ${name}`, async () => {
      const ref = computeAttention(input);
      const rows = ref.nq === 1 ? [0] : [0, 2, ref.nq - 1, 2];
      const r = await attentionRows(input, rows);
      assert.strictEqual(r.outputDim, ref.outputDim);
      for (let h = 0; h < ref.heads; h++) {
        rows.forEach((row, x) => {
          const at = (h * ref.nq + row) * ref.nk;
          const got = r.weights.subarray((h * rows.length + x) * ref.nk, (h * rows.length + x + 1) * ref.nk);
          // Unprojected inputs give the reference's own float32 weights; projected ones go through float32 (1e-7).
          if (input.wq) close(got, ref.weights.subarray(at, at + ref.nk), 1e-6, `${name} weights`);
          else assert.deepStrictEqual(Array.from(got), Array.from(ref.weights.subarray(at, at + ref.nk)));
          close(r.scores.subarray((h * rows.length + x) * ref.nk, (h * rows.length + x + 1) * ref.nk), ref.scores.subarray(at, at + ref.nk), 1e-6, `${name} scores`);
        });
      }
      rows.forEach((row, x) => close(r.output.subarray(x * r.outputDim, (x + 1) * r.outputDim), ref.output.subarray(row * ref.outputDim, (row + 1) * ref.outputDim), 1e-5, `${name} row ${row} output`));
      const all = await attentionOutput(input);
      close(all.output, ref.output, 1e-5, `${name} output`);
      assert.deepStrictEqual(all.warnings, ref.warnings);
    });
  }

  it('takes an explicit mask lazily by rows instead', async () => {
    const m = mask(25, 35, 14);
    const input: AttentionInput = { q: random([25, 4], 11), k: random([35, 4], 12), v: random([35, 3], 13) };
    const ref = computeAttention({ ...input, mask: m });
    const lazyMask = () => memoryMask(m.data as Uint8Array, 25, 35);
    close((await attentionOutput(input, { lazyMask })).output, ref.output, 1e-5, 'lazy mask output');
    const r = await attentionRows(input, [2, 3], { lazyMask });
    assert.deepStrictEqual(Array.from(r.weights.subarray(35)), Array.from(ref.weights.subarray(3 * 35, 4 * 35)));
    assert.ok(r.weights.subarray(0, 35).every((w) => w === 0));
    assert.match(r.warnings.join('\n'), /1 query row is fully masked \(row 2\)/);
  });

  it('refuses rows outside the query rows', async () => {
    await assert.rejects(attentionRows(CASES[0][1], [40]), /row 40 is outside the 40 query rows \(0…39\)/);
  });
});
