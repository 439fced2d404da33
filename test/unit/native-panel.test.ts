import * as assert from 'assert';
import { computeAttention } from '../../src/core/attention';
import type { AttentionInput, AttentionResult } from '../../src/core/attention';
import { disposeComputePool } from '../../src/core/compute/fast';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/core/settings';
import { ModelServer } from '../../src/core/view/serve';
import { buildModelFromSpec } from '../../src/core/view/model';
import type { NdArray } from '../../src/core/ndarray';
import { compute, FAST_THRESHOLD } from '../../src/loadPipeline';
import { cellDetails } from '../../src/shared/inspect';
import { assertClose } from './engine-fixtures';

function random(rows: number, cols: number, seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

describe('a computed panel: the kernel setting, and score views on demand', function () {
  this.timeout(60000);
  after(() => disposeComputePool());

  it('attentionInspector.kernel is read as auto, native or wasm; anything else is auto', () => {
    assert.strictEqual(DEFAULT_SETTINGS.kernel, 'auto');
    for (const k of ['auto', 'native', 'wasm'] as const) assert.strictEqual(parseSettings((key) => (key === 'kernel' ? k : undefined)).kernel, k);
    for (const bad of ['fast', 3, null, undefined]) assert.strictEqual(parseSettings((key) => (key === 'kernel' ? bad : undefined)).kernel, 'auto');
  });

  for (const kernel of ['native', 'wasm'] as const) {
    it(`${kernel}: weights only until a view shows the scores; hover reads score cells; the subtitle names the kernel`, async () => {
      const n = 300; // above the panel's fast-path threshold
      assert.ok(n * n >= FAST_THRESHOLD);
      const input: AttentionInput = { q: random(n, 16, 1), k: random(n, 16, 2), v: random(n, 4, 3), mask: 'causal' };
      const spec = { file: 'x.attention.json', q: input.q, k: input.k, v: input.v, mask: 'causal' as const };
      const env = { settings: () => ({ ...DEFAULT_SETTINGS, kernel }) };
      const result = await compute(spec, env);
      const touched: string[] = [];
      const spied = new Proxy(result, {
        get(t, key, r) {
          if (key === 'scores' || key === 'scaled') touched.push(key);
          return Reflect.get(t, key, r) as unknown;
        },
      }) as AttentionResult;
      const model = buildModelFromSpec(spec, spied, 'x');
      assert.match(model.subtitle ?? '', kernel === 'native' ? /^dot · scale 1\/4 · native \((avx512|avx2|portable)\)$/ : /^dot · scale 1\/4 · wasm \((fma|simd)\)$/);
      const ref = computeAttention(input);
      const server = new ModelServer(model, { overviewSize: 64 });
      server.wireModel();
      server.wireMatrix('weights');
      for (const [i, j] of [[0, 0], [5, 3], [5, 200], [299, 299], [120, 7]]) {
        const d = cellDetails(model, 'weights', i, j);
        assert.ok(d);
        assertClose([d.score ?? NaN, d.scaled ?? NaN, d.weight ?? NaN], [ref.scores[i * n + j], ref.scaled[i * n + j], ref.weights[i * n + j]], 1e-5, 1e-5, `cell ${i},${j}`);
      }
      assert.deepStrictEqual(touched, [], 'no score view was made for the weights view and its hover');
      // Showing the scaled scores makes that view (and only that one).
      server.wireMatrix('scaled');
      assert.deepStrictEqual(touched, ['scaled']);
      assertClose(model.kinds.scaled?.data ?? [], ref.scaled, 1e-5, 1e-5, 'scaled view');
      assert.deepStrictEqual(touched, ['scaled']);
    });
  }
});
