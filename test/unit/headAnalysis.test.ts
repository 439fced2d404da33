// The per-panel head analysis: caching by key, picked tokens, cancellation, nearest heads; values from NumPy.
import * as assert from 'assert';
import { openMatrix } from '../../src/core/matrixFile';
import { headSourceFromHandle } from '../../src/core/heads';
import { HeadAnalysis, NEAR_HEADS } from '../../src/core/headAnalysis';
import type { HeadsInput } from '../../src/core/headAnalysis';
import { HEADS_EXPECTED as E, headsFixture } from '../fixtures/heads/fixtures';

function input(key: string, tokens?: string[]): HeadsInput & { opened: number; closed: number } {
  const counts = { opened: 0, closed: 0 };
  return Object.assign(counts, {
    key: async () => key,
    async open() {
      counts.opened++;
      const h = await openMatrix(headsFixture('dump.npy'));
      return {
        source: headSourceFromHandle(h),
        tokens,
        tokensFrom: tokens ? 'tokens member' : undefined,
        tokensMissing: tokens ? undefined : 'dump.npy has no tokens',
        close: async () => { counts.closed++; await h.close(); },
      };
    },
  });
}

describe('head analysis (one panel)', () => {
  it('computes the wire table once per key, with the tokens it was given, and closes what it opened', async () => {
    const a = new HeadAnalysis();
    const src = input('k1', E.tokens);
    const seen: number[] = [];
    const t = await a.table(src, { onProgress: (f) => seen.push(f) });
    assert.deepStrictEqual([t.layers, t.heads, t.n], [2, 4, E.n]);
    assert.deepStrictEqual(t.tokens, { from: 'tokens member' });
    assert.ok(t.metrics.induction instanceof Float32Array);
    assert.ok(Math.abs((t.metrics.induction as Float32Array)[2] - E.metrics.induction[0][2]) < 1e-6);
    assert.strictEqual(seen[seen.length - 1], 1);
    assert.strictEqual(await a.table(src), t, 'cached');
    assert.deepStrictEqual([src.opened, src.closed], [1, 1]);
    const other = input('k2', E.tokens);
    assert.notStrictEqual(await a.table(other), t, 'a new key (file rewritten) is measured again');
  });

  it('without tokens says why; picked tokens add the token metrics and replace cached tables', async () => {
    const a = new HeadAnalysis();
    const src = input('k');
    const plain = await a.table(src);
    assert.deepStrictEqual(plain.tokens, { missing: 'dump.npy has no tokens' });
    assert.strictEqual(plain.metrics.induction, undefined);
    a.setTokens({ tokens: E.tokens, from: 'tokens.json' });
    const withTokens = await a.table(src);
    assert.deepStrictEqual(withTokens.tokens, { from: 'tokens.json' });
    assert.ok(Math.abs((withTokens.metrics.duplicate_token as Float32Array)[1] - E.metrics.duplicate_token[0][1]) < 1e-6);
    a.setTokens({ tokens: ['a', 'b'], from: 'short.json' });
    await assert.rejects(a.table(src), /short\.json: the tokens have 2 entries but the attention maps are 23 × 23/);
  });

  it('cancels (nothing cached) and lists the nearest heads as NumPy does', async () => {
    const a = new HeadAnalysis();
    const src = input('k');
    const ac = new AbortController();
    await assert.rejects(a.table(src, { signal: ac.signal, onProgress: (f) => { if (f >= 0.25) ac.abort(); } }), { name: 'AbortError' });
    assert.strictEqual(await a.cachedTable(src), undefined);
    assert.strictEqual(src.closed, src.opened, 'closed after cancelling');
    const near = await a.nearest(src, 0, 2);
    assert.strictEqual(near.length, NEAR_HEADS);
    const want = E.distance[2].map((d, k) => ({ d, k })).filter((x) => x.k !== 2).sort((x, y) => x.d - y.d || x.k - y.k);
    near.forEach((x, i) => {
      assert.deepStrictEqual([x.layer, x.head], [Math.floor(want[i].k / 4), want[i].k % 4]);
      assert.ok(Math.abs(x.distance - want[i].d) < 1e-5);
    });
    assert.strictEqual(await a.nearest(src, 0, 2), near, 'cached');
  });
});
