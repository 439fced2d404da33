import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import type { NdArray } from '../../src/core/ndarray';
import { buildStreamedGridModel, headStack } from '../../src/core/view/streamGrid';
import type { ThumbnailCache } from '../../src/core/view/streamGrid';
import { serverFor, StreamServer } from '../../src/core/view/streamServe';
import { poolToSize } from '../../src/shared/pool';

function random(shape: number[], seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return { shape, dtype: 'float32', data };
}

const L = 2;
const H = 4;
const HKV = 2;
const T = 48;
const D = 8;
const q = random([L, H, T, D], 1);
const k = random([L, HKV, T, D], 2);
const v = random([L, HKV, T, 5], 3);
const settings = { similarity: 'dot' as const, scaleFactor: 1 / Math.sqrt(D), mask: { kind: 'causal' as const, offset: 0 } };

/** The in-memory reference of layer l, query head h (K/V head ⌊h·H_kv/H⌋). */
function reference(l: number, h: number) {
  const g = Math.floor((h * HKV) / H);
  const part = (a: NdArray, heads: number, i: number, w: number): NdArray => ({
    shape: [T, w], dtype: 'float32', data: (a.data as Float32Array).slice((l * heads + i) * T * w, (l * heads + i + 1) * T * w),
  });
  return computeAttention({ q: part(q, H, h, D), k: part(k, HKV, g, D), v: part(v, HKV, g, 5), mask: 'causal' });
}

describe('view: per-layer Q/K dumps as a streamed heads grid (GQA)', function () {
  this.timeout(60000);
  after(() => disposeComputePool());

  it('reads [L, H, T, d] Q with [L, H_kv, T, d] K/V and refuses mismatched stacks', () => {
    assert.deepStrictEqual(headStack(q, k, v), { layers: 2, heads: 4, kvHeads: 2, t: T, tk: T, dk: D, dv: 5 });
    assert.throws(() => headStack(q, random([L, 3, T, D], 9)), /Q's 4 heads are not a multiple of K's 3/);
    assert.throws(() => headStack(q, random([L, HKV, T, 7], 9)), /K has width 7 but Q has width 8/);
    assert.throws(() => headStack(random([T, D], 1), k), /Q must be \[H, T, d\] or \[L, H, T, d\]/);
  });

  it('thumbnails are each head\'s pooled weights; the selected head opens at full length; thumbnails are cached', async () => {
    const cache: ThumbnailCache = new Map();
    let calls = 0;
    const model = await buildStreamedGridModel(q, k, v, settings, {
      title: 'qk', overviewSize: 512, cellSize: 16, selection: { layer: 1, head: 3 }, cache, onProgress: () => void calls++,
    });
    assert.deepStrictEqual([model.grid?.layers, model.grid?.heads, model.grid?.cellSize], [2, 4, 16]);
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const ref = reference(l, h);
        const want = poolToSize({ rows: T, cols: T, data: ref.weights }, 16, 16, false);
        const got = (model.grid?.cells as Float32Array).subarray((l * H + h) * 256, (l * H + h + 1) * 256);
        for (let c = 0; c < 256; c++) assert.ok(Math.abs(got[c] - want[c]) < 1e-5, `layer ${l} head ${h} cell ${c}: ${got[c]} vs ${want[c]}`);
      }
    }
    assert.deepStrictEqual(model.selection, { layer: 1, head: 3 });
    assert.match(model.subtitle ?? '', /^layer 1 · head 3 \(K\/V head 1 of 2\)/);
    const server = serverFor(model, { overviewSize: 512 });
    assert.ok(server instanceof StreamServer);
    const ref = reference(1, 3);
    const t = await server.tile('weights', { r0: 0, c0: 0, rows: T, cols: T });
    for (let i = 0; i < ref.weights.length; i++) assert.ok(Math.abs((t?.data as Float32Array)[i] - ref.weights[i]) < 1e-5);
    assert.ok(server.hasHead(1, 3) && !server.hasHead(2, 0));
    assert.strictEqual(cache.size, 8);
    // Picking another head: only that head is computed; the thumbnails come from the cache.
    const before = new Map(cache);
    const again = await buildStreamedGridModel(q, k, v, settings, { title: 'qk', overviewSize: 512, cellSize: 16, selection: { layer: 0, head: 1 }, cache });
    for (const [key, cells] of before) assert.strictEqual(cache.get(key), cells, `thumbnail ${key} reused`);
    assert.deepStrictEqual(again.selection, { layer: 0, head: 1 });
  });

  it('cancels with an AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(buildStreamedGridModel(q, k, v, settings, { title: 'qk', overviewSize: 64, cellSize: 8, cache: new Map(), signal: ac.signal }),
      (e: Error) => e.name === 'AbortError');
  });
});
