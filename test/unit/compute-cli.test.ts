import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCompute, saveFloat32Npy } from '../../src/cli/compute';
import { computeAttention } from '../../src/core/attention';
import { POOL_THRESHOLD } from '../../src/core/compute/fast';
import { encodeNpy, writeNpy } from '../../src/core/npyWrite';
import { readMatrix } from '../../src/core/matrixFile';
import { assertClose, decode, FIXTURES, fixtures } from './engine-fixtures';

/** Runs the compute command in this process, capturing stdout and stderr. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await runCompute(args);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

const f = (name: string) => path.join(FIXTURES, name);

describe('compute CLI', function () {
  this.timeout(20000);
  const { cases } = fixtures();

  it('the seed colour example as --json: 1-D weights and output for a 1-D Q', async () => {
    const r = await run('--q', f('seed_q.npy'), '--k', f('seed_k.npy'), '--v', f('seed_v.npy'), '--json');
    assert.strictEqual(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { weights: number[]; output: number[]; scores: number[]; warnings: string[] };
    assertClose(j.weights, decode(cases.seed_colour.expected.weights), 1e-6, 1e-6, 'weights');
    assertClose(j.output, decode(cases.seed_colour.expected.output), 1e-6, 1e-6, 'output');
    assertClose(j.scores, decode(cases.seed_colour.expected.scores), 1e-6, 1e-6, 'scores');
    assert.deepStrictEqual(j.output.map((x) => x.toFixed(3)), ['0.488', '0.512']);
    assert.deepStrictEqual(j.warnings, []);
  });

  it('a JSON spec as --q uses its files and options; flags override them', async () => {
    const r = await run('--q', f('seed.attention.json'), '--json');
    assert.strictEqual(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { weights: number[]; output: number[] };
    assertClose(j.output, decode(cases.seed_colour.expected.output), 1e-6, 1e-6, 'output');
    const none = JSON.parse((await run('--q', f('seed.attention.json'), '--scale', 'none', '--json')).out) as { weights: number[] };
    assert.ok(Math.abs(none.weights[0] - j.weights[0]) > 1e-3, 'scale none changes the weights');
  });

  it('heads and projections: [h][n_q][n_k] weights, W_O-projected output, and --out writes float32 .npy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-cli-'));
    try {
      const r = await run('--q', f('x.npy'), '--heads', '2', '--wq', f('wq.npy'), '--wk', f('wk.npy'), '--wv', f('wv.npy'),
        '--wo', f('wo.npy'), '--json', '--out', dir);
      assert.strictEqual(r.code, 0, r.err);
      const e = cases.heads_projected.expected;
      const j = JSON.parse(r.out) as { weights: number[][][]; output: number[][] };
      assert.strictEqual(j.weights.length, 2);
      assert.strictEqual(j.weights[0].length, 5);
      assertClose(j.weights.flat(2), decode(e.weights), 1e-5, 1e-5, 'weights');
      assertClose(j.output.flat(), decode(e.output), 1e-5, 1e-5, 'output');
      const w = await readMatrix(path.join(dir, 'weights.npy'));
      const o = await readMatrix(path.join(dir, 'output.npy'));
      assert.deepStrictEqual([w.dtype, [...w.shape]], ['float32', [2, 5, 5]]);
      assert.deepStrictEqual([o.dtype, [...o.shape]], ['float32', [5, 6]]);
      assertClose(o.data as Float32Array, decode(e.output), 1e-5, 1e-5, 'output.npy');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('causal mask and the human-readable table', async () => {
    const r = await run('--q', f('x.npy'), '--mask', 'causal');
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /^attention: 1 head, 5 queries × 5 keys, d_k=8, d_v=8, scale 0\.353553\n/);
    assert.match(r.out, /weights:\n\s+1\.000\s+0\.000\s+0\.000\s+0\.000\s+0\.000\n/);
  });

  const errors: [string, string[], string][] = [
    ['Q/K width', ['--q', 'seed_q.npy', '--k', 'k_bad_width.npy'], 'error: Q has width 3 but K has width 2'],
    ['K/V rows', ['--q', 'seed_q.npy', '--k', 'seed_k.npy', '--v', 'v_7rows.npy'], 'error: K has 8 rows but V has 7'],
    ['heads', ['--q', 'x.npy', '--heads', '3', '--wq', 'wq.npy', '--wk', 'wk.npy', '--wv', 'wv.npy'], 'error: heads=3 does not divide d_model=8'],
    ['mask shape', ['--q', 'x.npy', '--mask', 'mask_4x4.npy'], 'error: mask is 4×4 but scores are 5×5'],
    ['bad scale', ['--q', 'x.npy', '--scale', 'big'], 'error: --scale must be sqrt, dk, none or a number (got "big")'],
    ['bad similarity', ['--q', 'x.npy', '--similarity', 'l3'], 'error: --similarity must be dot, cosine, laplacian or euclidean (got "l3")'],
    ['no --q', ['--json'], 'error: compute needs --q FILE[#member] (try --help)'],
    ['unknown option', ['--q', 'x.npy', '--fast'], 'error: unknown option --fast (try --help)'],
  ];
  for (const [name, args, line] of errors) {
    it(`${name}: exit 1 and one line "${line}"`, async () => {
      const r = await run(...args.map((a) => (a.endsWith('.npy') ? f(a) : a)));
      assert.strictEqual(r.code, 1);
      assert.strictEqual(r.out, '');
      assert.strictEqual(r.err, `${line}\n`);
    });
  }

  it('saveFloat32Npy writes the same bytes as encodeNpy (numpy.save layout)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-npy-'));
    try {
      for (const shape of [[3], [2, 5], [2, 3, 4]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: n }, (_, i) => i / 7 - 1);
        const file = path.join(dir, 'a.npy');
        await saveFloat32Npy(file, shape, data);
        assert.deepStrictEqual(fs.readFileSync(file), encodeNpy({ shape, dtype: 'float32', data }));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dist/cli.js exits by itself after a job on the worker pool, weights streamed to --out intact', async () => {
    const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js missing: run npm run build');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-exit-'));
    try {
      const n = 1100;
      assert.ok(n * n * (32 + 32) >= POOL_THRESHOLD, 'big enough that the worker pool runs');
      const q = Float32Array.from({ length: n * 32 }, (_, i) => Math.sin(i * 0.37));
      await writeNpy(path.join(dir, 'q.npy'), { shape: [n, 32], dtype: 'float32', data: q });
      const started = Date.now();
      const r = spawnSync(process.execPath, [cli, 'compute', '--q', path.join(dir, 'q.npy'), '--mask', 'causal', '--out', dir],
        { encoding: 'utf8', timeout: 15000 });
      assert.strictEqual(r.status, 0, `status ${r.status} signal ${r.signal} stderr ${r.stderr}`);
      assert.ok(Date.now() - started < 15000);
      const w = await readMatrix(path.join(dir, 'weights.npy'));
      assert.deepStrictEqual([...w.shape], [n, n]);
      // Streamed to disk block by block from the workers: every row must be there and right.
      const ref = computeAttention({ q: { shape: [n, 32], dtype: 'float32', data: q }, mask: 'causal' });
      assertClose(w.data as Float32Array, ref.weights, 1e-5, 0, 'weights.npy');
      const o = await readMatrix(path.join(dir, 'output.npy'));
      assertClose(o.data as Float32Array, ref.output, 1e-5, 1e-5, 'output.npy');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing file: one error line naming it', async () => {
    const r = await run('--q', f('missing.npy'));
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.err.split('\n').length, 2);
    assert.ok(r.err.startsWith('error: ') && r.err.includes('missing.npy'), r.err);
  });
});
