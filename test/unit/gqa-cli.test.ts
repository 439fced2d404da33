/** The compute CLI on per-head Q/K/V with grouped-query attention, against NumPy (make_fixtures.py). */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCompute } from '../../src/cli/compute';
import { readMatrix } from '../../src/core/matrixFile';
import { toFloat64 } from '../../src/core/ndarray';
import { assertClose } from './engine-fixtures';
const GQA = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'realdata', 'gqa');

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await runCompute(args), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

const f = (name: string) => path.join(GQA, `${name}.npy`);
const expected = async (name: string) => toFloat64(await readMatrix(f(name)));

describe('compute CLI: per-head Q/K/V (grouped-query attention)', function () {
  this.timeout(30000);

  it('--json prints weights [H][n_q][n_k] and output [H][n_q][d_v], with a causal mask', async () => {
    const r = await run('--q', f('h8kv2_causal_q'), '--k', f('h8kv2_causal_k'), '--v', f('h8kv2_causal_v'), '--mask', 'causal', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { weights: number[][][]; output: number[][][]; scores: number[][][] };
    assert.deepStrictEqual([j.weights.length, j.weights[0].length, j.weights[0][0].length], [8, 6, 9]);
    assert.deepStrictEqual([j.output.length, j.output[0].length, j.output[0][0].length], [8, 6, 5]);
    assertClose(j.weights.flat(2), await expected('h8kv2_causal_weights'), 1e-6, 1e-5, 'weights');
    assertClose(j.output.flat(2), await expected('h8kv2_causal_output'), 1e-6, 1e-5, 'output');
  });

  it('--out writes weights.npy [H, n_q, n_k] and output.npy [H, n_q, d_v] with a per-head mask file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gqa-cli-'));
    try {
      const r = await run('--q', f('h4kv1_perhead_q'), '--k', f('h4kv1_perhead_k'), '--v', f('h4kv1_perhead_v'),
        '--mask', f('h4kv1_perhead_mask'), '--out', dir);
      assert.strictEqual(r.code, 0, r.err);
      assert.match(r.err, /fully masked in head 0 \(row 3\)/);
      const w = await readMatrix(path.join(dir, 'weights.npy'));
      const o = await readMatrix(path.join(dir, 'output.npy'));
      assert.deepStrictEqual(w.shape, [4, 5, 6]);
      assert.deepStrictEqual(o.shape, [4, 5, 4]);
      assertClose(w.data as Float32Array, await expected('h4kv1_perhead_weights'), 1e-6, 1e-5, 'weights');
      assertClose(o.data as Float32Array, await expected('h4kv1_perhead_output'), 1e-6, 1e-5, 'output');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--batch picks the entry of [B, H, n, d] inputs', async () => {
    const r = await run('--q', f('batch_q'), '--k', f('batch_k'), '--v', f('batch_v'), '--batch', '1', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { weights: number[][][]; output: number[][][]; warnings: string[] };
    assertClose(j.weights.flat(2), await expected('batch_weights'), 1e-6, 1e-5, 'weights');
    assertClose(j.output.flat(2), await expected('batch_output'), 1e-6, 1e-5, 'output');
    assert.deepStrictEqual(j.warnings, []);
    const bad = await run('--q', f('batch_q'), '--k', f('batch_k'), '--v', f('batch_v'), '--batch', '5');
    assert.strictEqual(bad.code, 1);
    assert.match(bad.err, /^error: batch must be a whole number from 0 to 2, got 5\n$/);
  });

  it('head counts that do not divide: one error line naming both counts', async () => {
    const r = await run('--q', f('h8kv2_q'), '--k', f('bad_k3'), '--v', f('bad_k3'));
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.out, '');
    assert.match(r.err, /^error: K has 3 heads, which does not divide Q's 8 heads\n$/);
  });

  it('the summary prints each head\'s weights and output', async () => {
    const r = await run('--q', f('h4kv1_perhead_q'), '--k', f('h4kv1_perhead_k'), '--v', f('h4kv1_perhead_v'));
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /attention: 4 heads, 5 queries × 6 keys, d_k=6, d_v=4/);
    assert.match(r.out, /weights 4×5×6, output 4×5×4/);
    assert.match(r.out, /output \(head 3\):/);
  });
});
