import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCompute } from '../../src/cli/compute';
import { disposeComputePool } from '../../src/core/compute/fast';
import { readMatrix } from '../../src/core/matrixFile';

const FIX = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stream');

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

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  assert.strictEqual(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

const data = async (f: string) => (await readMatrix(f)).data as Float32Array;
const qkv = (name: string) => ['--q', path.join(FIX, name, 'q.npy'), '--k', path.join(FIX, name, 'k.npy'), '--v', path.join(FIX, name, 'v.npy')];

describe('compute CLI: --rows, --no-weights and --max-cells (long contexts)', function () {
  this.timeout(60000);
  after(() => disposeComputePool());

  it('--rows prints those rows\' weights [len][n_k], scores and output [len][d_v], as NumPy computes them', async () => {
    const r = await run(...qkv('dot_causal'), '--mask', 'causal', '--rows', '0,5,150,299', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { rows: number[]; weights: number[][]; output: number[][]; scores: number[][]; warnings: string[] };
    assert.deepStrictEqual(j.rows, [0, 5, 150, 299]);
    assert.deepStrictEqual([j.weights.length, j.weights[0].length, j.output.length, j.output[0].length, j.scores[0].length], [4, 300, 4, 8, 300]);
    close(j.weights.flat(), await data(path.join(FIX, 'dot_causal', 'weights.npy')), 1e-6, 'weights');
    close(j.output.flat(), await data(path.join(FIX, 'dot_causal', 'output.npy')), 1e-5, 'output');
    assert.ok(j.scores[0].slice(1).every((s) => Number.isFinite(s)), 'raw scores are unmasked');
  });

  it('--rows --out writes weights.npy, output.npy and rows.npy of those rows; with --no-weights no weights.npy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-rows-'));
    const r = await run(...qkv('cosine_none'), '--similarity', 'cosine', '--scale', '1', '--rows', '0,5,140,279', '--out', dir);
    assert.strictEqual(r.code, 0, r.err);
    const w = await readMatrix(path.join(dir, 'weights.npy'));
    assert.deepStrictEqual(w.shape, [4, 310]);
    close(w.data as Float32Array, await data(path.join(FIX, 'cosine_none', 'weights.npy')), 1e-6, 'weights.npy');
    assert.deepStrictEqual((await readMatrix(path.join(dir, 'output.npy'))).shape, [4, 6]);
    assert.deepStrictEqual(Array.from((await readMatrix(path.join(dir, 'rows.npy'))).data as Int32Array), [0, 5, 140, 279]);
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-rows-'));
    assert.strictEqual((await run(...qkv('cosine_none'), '--rows', '1', '--no-weights', '--out', dir2)).code, 0);
    assert.deepStrictEqual(fs.readdirSync(dir2).sort(), ['output.npy', 'rows.npy']);
  });

  it('--no-weights gives the output of every row (only output.npy with --out), an explicit mask file read by rows', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-now-'));
    const m = path.join(FIX, 'laplacian_explicit', 'mask.npy');
    const r = await run(...qkv('laplacian_explicit'), '--similarity', 'laplacian', '--mask', m, '--no-weights', '--out', dir);
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(fs.readdirSync(dir), ['output.npy']);
    const o = await readMatrix(path.join(dir, 'output.npy'));
    assert.deepStrictEqual(o.shape, [290, 4]);
    close(o.data as Float32Array, await data(path.join(FIX, 'laplacian_explicit', 'all_output.npy')), 1e-5, 'output.npy');
    assert.match(r.err, /warning: 1 query row is fully masked \(row 5\)/);
    const j = await run(...qkv('euclidean_causal_short'), '--similarity', 'euclidean', '--scale', '0.5', '--mask', 'causal', '--no-weights', '--json');
    assert.strictEqual(j.code, 0, j.err);
    const parsed = JSON.parse(j.out) as { output: number[][]; weights?: unknown };
    assert.strictEqual(parsed.weights, undefined);
    close(parsed.output.flat(), await data(path.join(FIX, 'euclidean_causal_short', 'all_output.npy')), 1e-5, 'json output');
  });

  it('refuses more than --max-cells weight cells, suggesting --rows or --no-weights', async () => {
    const r = await run(...qkv('dot_causal'), '--max-cells', '1000', '--json');
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.out, '');
    assert.match(r.err, /^error: attention would have 90,000 weight cells \(300×300\), more than --max-cells 1,000; use --rows LIST for some query rows or --no-weights for the output of every row/);
    assert.strictEqual(r.err.trim().split('\n').length, 1);
    assert.strictEqual((await run(...qkv('dot_causal'), '--max-cells', '90000', '--json')).code, 0);
  });

  it('refuses bad --rows lists and rows outside the queries', async () => {
    const bad = await run(...qkv('dot_causal'), '--rows', '1,x');
    assert.match(bad.err, /^error: --rows must be query row numbers separated by commas, e\.g\. 0,17,4095 \(got "1,x"\)/);
    const out = await run(...qkv('dot_causal'), '--rows', '300');
    assert.match(out.err, /^error: row 300 is outside the 300 query rows \(0…299\)/);
    assert.strictEqual(out.code, 1);
  });
});
