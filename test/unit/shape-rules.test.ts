import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import { scanJson } from '../../src/core/jsonMatrix';
import { loadSpec } from '../../src/core/jsonSpec';
import { shapeProblems } from '../../src/core/lenses';
import { MatrixError } from '../../src/core/ndarray';
import { specToInput } from '../../src/core/specInput';

/** 1-based line and column of `needle` in `text`. */
function where(text: string, needle: string): [number, number] {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return [before.length, before[before.length - 1].length + 1];
}

// Issue 12, bug 1: cross-attention with its own projections. Q is 1×3, K and V have 2 rows of their own
// widths, and each is projected by its own W into d_model = 2. The engine computes it; the squiggles and
// the loader used to refuse it with rules of their own.
const CROSS = '{"Q": [[1,2,3]], "K": [[1,2],[3,4]], "V": [[1],[2]], "Wq": [[1,0],[0,1],[1,1]], "Wk": [[1,0],[0,1]], "Wv": [[1,0]]}';

describe('shape rules: one set, the engine\'s (issue 12, bug 1)', () => {
  it('computes, shows no squiggle and loads the cross-attention-with-projections spec', async () => {
    const scan = scanJson(CROSS, 'cross.attention.json');
    assert.deepStrictEqual(scan.errors.map((e) => e.message), []);
    assert.deepStrictEqual(shapeProblems(scan), []);
    const spec = await loadSpec(CROSS, '/tmp/cross.attention.json');
    const r = computeAttention(specToInput(spec));
    // NumPy: q = Q@Wq = [4, 5], k = K@Wk = K, v = V@Wv = [[1, 0], [2, 0]]; softmax([14, 32]/√2).
    assert.deepStrictEqual([r.nq, r.nk, r.dk, r.outputDim], [1, 2, 2, 2]);
    assert.ok(Math.abs(r.weights[0] - 2.9671014e-6) < 1e-9, String(r.weights[0]));
    assert.ok(Math.abs(r.weights[1] - 0.99999702) < 1e-6, String(r.weights[1]));
    assert.ok(Math.abs(r.output[0] - 1.999997) < 1e-5 && r.output[1] === 0, String(r.output));
  });

  const wrong: [string, string, string, RegExp][] = [
    // Projected: Wk's rows must match K's width (not Q's).
    [CROSS.replace('"Wk": [[1,0],[0,1]]', '"Wk": [[1,0],[0,1],[2,2]]'), '[[1,0],[0,1],[2,2]]', 'Wk', /K has width 2 but Wk has 3 rows/],
    // Projected widths must agree.
    [CROSS.replace('"Wk": [[1,0],[0,1]]', '"Wk": [[1,0,0],[0,1,0]]'), '[[1,0,0],[0,1,0]]', 'Wk', /projected Q has width 2 but projected K has width 3/],
    // Unprojected: Q and K widths.
    ['{"Q": [[1,2,3]], "K": [[1,2],[3,4]], "V": [[1],[2]]}', '[[1,2],[3,4]]', 'K', /Q has width 3 but K has width 2/],
    // K and V rows, with projections.
    [CROSS.replace('"V": [[1],[2]]', '"V": [[1],[2],[3]]'), '[[1],[2],[3]]', 'V', /K has 2 rows but V has 3/],
  ];
  for (const [text, needle, key, re] of wrong) {
    it(`still locates ${re.source}`, async () => {
      const [line, column] = where(text, needle);
      const scan = scanJson(text, 'case.attention.json');
      assert.ok(scan.errors.some((e) => re.test(e.message) && e.location?.line === line && e.location.column === column),
        scan.errors.map((e) => e.message).join('; '));
      await assert.rejects(loadSpec(text, '/tmp/case.attention.json'), (e: unknown) =>
        e instanceof MatrixError && re.test(e.message) && e.location?.line === line && e.location.column === column);
      // The squiggles (diagnostics) come from the same rules, on the key.
      const problems = shapeProblems(scan);
      assert.ok(problems.some((p) => re.test(p.message) && p.offset === text.indexOf(`"${key}"`)), JSON.stringify(problems));
    });
  }
});
