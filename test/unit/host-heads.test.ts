// The heads behind a source (src/sources/sourceHeads.ts) and the head-job messages the host accepts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeAttention } from '../../src/core/attention';
import { HeadAnalysis } from '../../src/core/headAnalysis';
import { writeNpy } from '../../src/core/npyWrite';
import { parseFromWebview } from '../../src/shared/protocol';
import { arrayHeads, dumpHeads, resultHeads } from '../../src/sources/sourceHeads';
import { computeSource } from '../../src/sources/computeSource';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { headMetrics, prepareTokens } from '../../src/core/heads';
import { HEAD_METRICS } from '../../src/shared/heads';
import { disposeComputePool } from '../../src/core/compute/fast';
import { HEADS_EXPECTED as E, headsFixture } from '../fixtures/heads/fixtures';

const E2E_DUMP = path.resolve(headsFixture('expected.json'), '..', '..', 'e2e', 'heads-induction.npz');

describe('host: the heads behind a source', () => {
  it('an .npz without a member uses its attention member and the tokens member beside it', async () => {
    const t = await new HeadAnalysis().table(dumpHeads(E2E_DUMP));
    assert.deepStrictEqual([t.layers, t.heads, t.n], [3, 4, 31]);
    assert.deepStrictEqual(t.tokens, { from: 'the tokens member of heads-induction.npz' });
    const induction = Array.from(t.metrics.induction as Float32Array);
    assert.strictEqual(induction.indexOf(Math.max(...induction)), 2 * 4 + 1, 'layer 2 head 1 is the induction head');
  });

  it('a .npy dump has no tokens and says so; its key follows the file, so a rewrite is measured again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-host-'));
    try {
      const file = path.join(dir, 'dump.npy');
      fs.copyFileSync(headsFixture('dump.npy'), file);
      const input = dumpHeads(file);
      const a = new HeadAnalysis();
      const first = await a.table(input);
      assert.deepStrictEqual(first.tokens, { missing: 'dump.npy holds no tokens' });
      assert.ok(Math.abs((first.metrics.entropy as Float32Array)[5] - E.metrics.entropy[1][1]) < 1e-5);
      assert.strictEqual(await a.table(input), first, 'same file: cached');
      const before = await input.key();
      await writeNpy(file, { shape: [1, 3, 3], dtype: 'float32', data: new Float32Array([1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3]) });
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      assert.notStrictEqual(await input.key(), before);
      const second = await a.table(input);
      assert.deepStrictEqual([second.layers, second.heads, second.n], [1, 1, 3]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a computed multi-head attention gives its heads with the query labels as tokens; non-square maps are refused', async () => {
    const n = 6;
    const q = { shape: [n, 4], dtype: 'float32' as const, data: Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)) };
    const result = computeAttention({ q, heads: 2, mask: 'causal' });
    const labels = ['a', 'b', 'a', 'b', 'a', 'b'];
    const t = await new HeadAnalysis().table(resultHeads(result, labels, 'r'));
    assert.deepStrictEqual([t.layers, t.heads, t.n], [1, 2, n]);
    assert.deepStrictEqual(t.tokens, { from: 'the query labels' });
    assert.ok(t.metrics.induction);
    const unlabelled = await new HeadAnalysis().table(resultHeads(result, ['x'], 'r2'));
    assert.deepStrictEqual(unlabelled.tokens, { missing: 'the 1 query labels do not match the 6 positions' });
    const k = { shape: [3, 4], dtype: 'float32' as const, data: new Float32Array(12).fill(0.1) };
    await assert.rejects(new HeadAnalysis().table(resultHeads(computeAttention({ q, k, v: k }), undefined, 'c')), /square maps.*6 × 3/);
    const weights = { shape: [2, n, n], dtype: 'float32' as const, data: result.weights };
    const fromSpec = await new HeadAnalysis().table(arrayHeads(weights, undefined, 'w'));
    assert.deepStrictEqual(Array.from(fromSpec.metrics.entropy as Float32Array), Array.from(t.metrics.entropy as Float32Array));
  });

  it('per-head Q/K above maxCells (a streamed heads grid) give a head table measured in the sweeps, equal to the in-memory metrics', async function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-stream-'));
    try {
      const [L, H, T, D] = [2, 3, 120, 8];
      let seed = 5;
      const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed / 4294967296 - 0.5) * 4; };
      const qd = Float32Array.from({ length: L * H * T * D }, rnd);
      const kd = Float32Array.from({ length: L * H * T * D }, rnd);
      await writeNpy(path.join(dir, 'q.npy'), { shape: [L, H, T, D], dtype: 'float32', data: qd });
      await writeNpy(path.join(dir, 'k.npy'), { shape: [L, H, T, D], dtype: 'float32', data: kd });
      const src = computeSource({ q: path.join(dir, 'q.npy'), k: path.join(dir, 'k.npy'), similarity: 'dot', scale: 'sqrt', mask: 'causal', heads: 1 },
        { settings: () => ({ ...DEFAULT_SETTINGS, maxCells: T * T }) });
      const model = await src.load();
      assert.deepStrictEqual([model.grid?.layers, model.grid?.heads], [L, H], 'a streamed heads grid');
      const input = src.heads?.();
      assert.ok(input, 'the streamed grid has heads for the table');
      const a = new HeadAnalysis();
      const t = await a.table(input);
      assert.deepStrictEqual([t.layers, t.heads, t.n], [L, H, T]);
      assert.deepStrictEqual(t.tokens, { missing: 'Q and K hold no tokens; pick a tokens file for the token metrics' });
      const tokens = Array.from({ length: T }, (_, i) => `w${(i * 7) % 13}`);
      a.setTokens({ tokens, from: 'tokens.json' });
      const withTokens = await a.table(input);
      assert.deepStrictEqual(withTokens.tokens, { from: 'tokens.json' });
      const index = prepareTokens(tokens, T);
      for (let at = 0; at < L * H; at++) {
        const part = (d: Float32Array) => ({ shape: [T, D], dtype: 'float32' as const, data: d.slice(at * T * D, (at + 1) * T * D) });
        const ref = computeAttention({ q: part(qd), k: part(kd), v: part(kd), mask: 'causal' });
        const want = headMetrics(ref.weights, T, index);
        for (const m of HEAD_METRICS) {
          const got = (withTokens.metrics[m] as Float32Array)[at];
          assert.ok(Math.abs(got - (want[m] as number)) < 1e-5, `head ${at} ${m}: ${got} vs ${want[m]}`);
        }
      }
      await assert.rejects(a.nearest(input, 0, 0), /streamed heads never hold/);
    } finally {
      disposeComputePool();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the host accepts well-formed head jobs only', () => {
    assert.deepStrictEqual(parseFromWebview({ type: 'requestHeads', job: 3, path: '/etc' }), { type: 'requestHeads', job: 3 });
    assert.deepStrictEqual(parseFromWebview({ type: 'requestNearHeads', job: 4, layer: 1, head: 2 }), { type: 'requestNearHeads', job: 4, layer: 1, head: 2 });
    assert.deepStrictEqual(parseFromWebview({ type: 'cancelHeads', job: 4 }), { type: 'cancelHeads', job: 4 });
    assert.deepStrictEqual(parseFromWebview({ type: 'pickTokens', job: 5 }), { type: 'pickTokens', job: 5 });
    for (const bad of [{ type: 'requestHeads' }, { type: 'requestHeads', job: -1 }, { type: 'requestNearHeads', job: 1, layer: 0.5, head: 0 },
      { type: 'cancelHeads', job: '1' }, { type: 'pickTokens', job: 1e300 }]) {
      assert.strictEqual(parseFromWebview(bad), undefined, JSON.stringify(bad));
    }
  });
});
