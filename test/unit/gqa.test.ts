/**
 * Per-head Q/K/V ([H, n, d]) with grouped-query attention (K and V with H_kv heads, query head h reading KV
 * head ⌊h·H_kv/H⌋), against NumPy (test/fixtures/realdata/make_fixtures.py): the reference, the fast path on
 * this thread and on the worker pool, the TypeScript kernel, and the shape rules.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { attentionShape, computeAttention, validateInput } from '../../src/core/attention';
import type { AttentionInput, AttentionResult } from '../../src/core/attention';
import { computeFast, disposeComputePool } from '../../src/core/compute/fast';
import type { EngineOptions } from '../../src/core/compute/fast';
import { readMatrix } from '../../src/core/matrixFile';
import { toFloat64 } from '../../src/core/ndarray';
import type { NdArray } from '../../src/core/ndarray';
import { assertClose } from './engine-fixtures';

const GQA = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'realdata', 'gqa');
const cases = JSON.parse(fs.readFileSync(path.join(GQA, 'cases.json'), 'utf8')) as { name: string; mask: string | null; rows?: number[] }[];
const load = (name: string): Promise<NdArray> => readMatrix(path.join(GQA, `${name}.npy`));

/** The mask make_fixtures.py builds by formula: [h, nq, nk], row 3 of head 0 fully masked. */
function formulaMask(h: number, nq: number, nk: number): NdArray {
  const data = new Uint8Array(h * nq * nk);
  for (let a = 0; a < h; a++) {
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) data[(a * nq + i) * nk + j] = (i * 7 + j * 3 + a * 5) % 5 !== 0 && !(a === 0 && i === 3) ? 1 : 0;
    }
  }
  return { shape: [h, nq, nk], dtype: 'bool', data };
}

async function inputOf(c: { name: string; mask: string | null }): Promise<AttentionInput> {
  const [q, k, v] = await Promise.all([load(`${c.name}_q`), load(`${c.name}_k`), load(`${c.name}_v`)]);
  let mask: AttentionInput['mask'];
  if (c.mask === 'causal') mask = 'causal';
  else if (c.mask === 'shared' || c.mask === 'perhead') mask = await load(`${c.name}_mask`);
  else if (c.mask === 'formula') mask = formulaMask(q.shape[0], q.shape[1], k.shape[1]);
  return { q, k, v, mask };
}

/** Rows `rows` of every head of an [h, n, w] array. */
function pickRows(a: Float32Array, h: number, n: number, w: number, rows: number[]): Float32Array {
  const out = new Float32Array(h * rows.length * w);
  for (let x = 0; x < h; x++) rows.forEach((r, i) => out.set(a.subarray((x * n + r) * w, (x * n + r + 1) * w), (x * rows.length + i) * w));
  return out;
}

async function check(r: AttentionResult, c: { name: string; rows?: number[] }, what: string, atol: number): Promise<void> {
  const w = toFloat64(await load(c.rows ? `${c.name}_weights_rows` : `${c.name}_weights`));
  const o = await load(c.rows ? `${c.name}_output_rows` : `${c.name}_output`);
  assert.strictEqual(r.perHead, true, `${what}: perHead`);
  const [h, , dv] = o.shape;
  assert.deepStrictEqual([r.heads, r.dv], [h, dv], `${what}: heads and d_v`);
  const weights = c.rows ? pickRows(r.weights, r.heads, r.nq, r.nk, c.rows) : r.weights;
  const heads = c.rows ? pickRows(r.headOutputs, r.heads, r.nq, r.dv, c.rows) : r.headOutputs;
  assertClose(weights, w, atol, 1e-4, `${what} weights`);
  assertClose(heads, toFloat64(o), atol, 1e-4, `${what} head outputs`);
}

describe('per-head Q/K/V and grouped-query attention (vs NumPy)', function () {
  this.timeout(60000);
  after(() => disposeComputePool());

  for (const c of cases) {
    it(`${c.name}: the reference matches NumPy`, async () => {
      await check(computeAttention(await inputOf(c)), c, `${c.name} reference`, 1e-6);
    });
    const paths: [string, EngineOptions][] = [['wasm', { kernel: 'wasm', pool: false }], ['ts kernel', { kernel: 'ts', pool: false }], ['worker pool', { pool: true }]];
    for (const [label, opts] of paths) {
      it(`${c.name}: the fast path (${label}) matches NumPy`, async () => {
        await check(await computeFast(await inputOf(c), opts), c, `${c.name} ${label}`, 2e-5);
      });
    }
  }

  it('the large cases run on the pool by size (no forcing)', async () => {
    const c = cases.find((x) => x.rows) as (typeof cases)[number];
    const input = await inputOf(c);
    const s = attentionShape(input);
    assert.ok(s.heads * s.nq * s.nk * (s.dk + s.dv) >= 448 * 448 * 128, 'large enough for the pool threshold');
    await check(await computeFast(input), c, `${c.name} default`, 2e-5);
  });

  it('concatenates the heads for the output and keeps K/V once per group', async () => {
    const c = cases[0];
    const r = computeAttention(await inputOf(c));
    assert.strictEqual(r.kvHeads, 2);
    assert.strictEqual(r.outputDim, r.heads * r.dv);
    // Row 2 of the output is head 0's row 2, then head 1's, …
    for (let h = 0; h < r.heads; h++) {
      assertClose(r.output.subarray(2 * r.outputDim + h * r.dv, 2 * r.outputDim + (h + 1) * r.dv),
        r.headOutputs.subarray((h * r.nq + 2) * r.dv, (h * r.nq + 3) * r.dv), 0, 0, `head ${h}`);
    }
  });

  it('picks a batch entry of [B, H, n, d] inputs', async () => {
    const [q, k, v] = await Promise.all([load('batch_q'), load('batch_k'), load('batch_v')]);
    const r = computeAttention({ q, k, v, batch: 1 });
    assertClose(r.weights, toFloat64(await load('batch_weights')), 1e-6, 1e-4, 'batch 1 weights');
    assertClose(r.headOutputs, toFloat64(await load('batch_output')), 1e-6, 1e-4, 'batch 1 output');
    const fast = await computeFast({ q, k, v, batch: 1 }, { kernel: 'wasm', pool: false });
    assertClose(fast.weights, toFloat64(await load('batch_weights')), 2e-5, 1e-4, 'fast batch 1 weights');
    assert.deepStrictEqual(computeAttention({ q, k, v }).warnings, ['Q has a batch axis of 3; batch 0 is computed']);
    assert.throws(() => computeAttention({ q, k, v, batch: 3 }), /batch must be a whole number from 0 to 2, got 3/);
  });

  it('says which head counts do not divide, and other per-head shape problems', async () => {
    const q = await load('h8kv2_q');
    const bad = await load('bad_k3');
    assert.throws(() => validateInput({ q, k: bad, v: bad }), /K has 3 heads, which does not divide Q's 8 heads/);
    const k = await load('h8kv2_k');
    const v = await load('h8kv2_v');
    const k2d: NdArray = { shape: [9, 8], dtype: 'float32', data: new Float32Array(72) };
    assert.throws(() => validateInput({ q, k: k2d, v }), /K must be split into heads like Q \(\[heads, n, d\]\), but it has shape 9×8/);
    const v4: NdArray = { shape: [4, 9, 5], dtype: 'float32', data: new Float32Array(180) };
    assert.throws(() => validateInput({ q, k, v: v4 }), /K has 2 heads but V has 4/);
    assert.throws(() => validateInput({ q, k, v, heads: 4 }), /heads=4 but Q has 8 heads/);
    assert.throws(() => validateInput({ q, k, v, wq: k2d }), /W_Q cannot project inputs already split into heads/);
    const mask: NdArray = { shape: [2, 6, 9], dtype: 'bool', data: new Uint8Array(108).fill(1) };
    assert.throws(() => validateInput({ q, k, v, mask }), /mask is 2×6×9 but scores are 8×6×9/);
  });
});

describe('per-head Q/K/V through the load pipeline (Compute Attention…)', () => {
  it('computes [8, n, d] Q with [2, n, d] K and V into a heads grid that says which KV head each reads', async () => {
    const { computeSource } = await import('../../src/sources/computeSource');
    const { DEFAULT_SETTINGS } = await import('../../src/core/settings');
    const src = computeSource({ q: path.join(GQA, 'h8kv2_causal_q.npy'), k: path.join(GQA, 'h8kv2_causal_k.npy'), v: path.join(GQA, 'h8kv2_causal_v.npy'),
      similarity: 'dot', scale: 'sqrt', mask: 'causal', heads: 1 }, { settings: () => DEFAULT_SETTINGS });
    const m = await src.load({ layer: 0, head: 5 });
    assert.deepStrictEqual([m.grid?.layers, m.grid?.heads], [1, 8]);
    assert.match(m.subtitle ?? '', /^head 5 of 8 · KV head 1 of 2 · dot/);
    const w = toFloat64(await load('h8kv2_causal_weights'));
    assertClose(m.kinds.weights?.data ?? [], w.subarray(5 * 6 * 9, 6 * 6 * 9), 1e-6, 1e-4, 'head 5 weights');
    const o = toFloat64(await load('h8kv2_causal_output'));
    assertClose(m.kinds.output?.data ?? [], o.subarray(5 * 6 * 5, 6 * 6 * 5), 1e-6, 1e-4, 'head 5 output');
  });
});
