// Loads test/fixtures/view/expected.json (written by test/fixtures/view/make_view_fixtures.py with NumPy).
import * as fs from 'fs';
import * as path from 'path';

export const VIEW_FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'view');

export interface ViewFixtures {
  pool: { rows: number; cols: number; data: number[]; maxSide: number; blockRows: number; blockCols: number; expected: number[]; outRows: number; outCols: number };
  poolSigned: { rows: number; cols: number; data: number[]; maxSide: number; blockRows: number; blockCols: number; expected: number[] };
  colours: {
    q: number[]; k: number[][]; v: number[][]; scores: number[]; scaled: number[]; weights: number[]; output: number[];
    ranks: number[]; entropyBits: number; keyLabels: string[]; valueLabels: string[];
  };
  dump: {
    shape: number[]; data: number[]; selected: { layer: number; head: number };
    headMean: number[]; headMax: number[]; rollout: number[]; rowEntropyBits: number[];
  };
  csv: { rows: number; cols: number; data: (number | string)[]; texts: string[] };
}

let cached: ViewFixtures | undefined;
export function viewFixtures(): ViewFixtures {
  cached ??= JSON.parse(fs.readFileSync(path.join(VIEW_FIXTURES, 'expected.json'), 'utf8')) as ViewFixtures;
  return cached;
}

export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) throw new Error(`${what}[${i}]: ${a} ≠ ${e} (tol ${tol})`);
  }
}
