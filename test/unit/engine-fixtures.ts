/** Loads the NumPy-made engine fixtures (scripts/make_engine_fixtures.py) for the engine tests. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { AttentionInput, Scale, Similarity } from '../../src/core/attention';
import type { NdArray } from '../../src/core/ndarray';

export const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'engine');

interface Encoded { shape: number[]; data: (number | '-inf')[] }
interface Case {
  inputs: Record<string, Encoded>;
  options: { sim?: Similarity; scale?: Scale; heads?: number };
  mask: Encoded | null;
  expected: Record<'scores' | 'scaled' | 'weights' | 'headOutputs' | 'output', Encoded> & { scaleFactor: number };
}
interface Fixtures { cases: Record<string, Case>; stats: Record<string, Encoded> }

let cached: Fixtures | undefined;
export function fixtures(): Fixtures {
  cached ??= JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cases.json'), 'utf8')) as Fixtures;
  return cached;
}

export function decode(e: Encoded): Float64Array {
  return Float64Array.from(e.data, (x) => (x === '-inf' ? -Infinity : x));
}

export function nd(e: Encoded): NdArray {
  return { shape: e.shape, dtype: 'float64', data: decode(e) };
}

/** The AttentionInput a fixture case describes. */
export function inputOf(c: Case): AttentionInput {
  const i = c.inputs;
  return {
    q: nd(i.q), k: i.k && nd(i.k), v: i.v && nd(i.v), wq: i.wq && nd(i.wq), wk: i.wk && nd(i.wk),
    wv: i.wv && nd(i.wv), wo: i.wo && nd(i.wo), similarity: c.options.sim, scale: c.options.scale,
    heads: c.options.heads, mask: c.mask ? nd(c.mask) : undefined,
  };
}

/** Element-wise |a − b| ≤ atol + rtol·|b|; equal infinities match. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (a === b) continue;
    const ok = Math.abs(a - b) <= atol + rtol * Math.abs(b);
    if (!ok) assert.fail(`${what}[${i}] = ${a}, expected ${b}`);
  }
}
