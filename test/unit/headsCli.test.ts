// The `heads` CLI contract, tested by spawning the built CLI as users do.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HEADS_EXPECTED as E, headsFixture } from '../fixtures/heads/fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'heads', ...args], { encoding: 'utf8', timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function compare(json: { shape: number[]; metrics: Record<string, number[][]> }, want: Record<string, number[][]>, what: string): void {
  assert.deepStrictEqual(Object.keys(json.metrics).sort(), Object.keys(want).sort(), `${what}: metrics`);
  for (const [m, rows] of Object.entries(want)) {
    assert.strictEqual(json.metrics[m].length, rows.length, `${what}: ${m} layers`);
    rows.forEach((row, l) => row.forEach((v, h) => {
      const got = json.metrics[m][l][h];
      assert.ok(Math.abs(got - v) <= 1e-5, `${what}: ${m}[${l}][${h}] = ${got} vs NumPy ${v}`);
    }));
  }
}

/** The [layer, head] of each table row, in order. */
function tableOrder(stdout: string): number[][] {
  return stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).map(Number));
}

function oneErrorLine(r: Run, pattern: RegExp, what: string): void {
  assert.notStrictEqual(r.code, 0, `${what}: exit code`);
  assert.strictEqual(r.stdout, '', `${what}: stdout`);
  assert.match(r.stderr, /^error: [^\n]+\n$/, `${what}: one error line, got ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern, what);
}

describe('heads CLI', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    if (!fs.existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'ignore' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--json with --tokens prints {shape: [L, H], metrics: each [L][H]} equal to NumPy', async () => {
    const r = await run(headsFixture('dump.npy'), '--tokens', headsFixture('tokens.json'), '--json');
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stderr, '');
    const json = JSON.parse(r.stdout);
    assert.deepStrictEqual(json.shape, E.shape);
    compare(json, E.metrics, 'dump.npy --tokens');
  });

  it('--json without tokens has no token metrics; a [H, n, n] file gives shape [1, H]', async () => {
    const [plain, layer] = await Promise.all([run(headsFixture('dump.npy'), '--json'), run(headsFixture('layer0.npy'), '--json')]);
    assert.strictEqual(plain.code, 0, plain.stderr);
    compare(JSON.parse(plain.stdout), E.metrics_no_tokens, 'dump.npy');
    assert.strictEqual(layer.code, 0, layer.stderr);
    const json = JSON.parse(layer.stdout);
    assert.deepStrictEqual(json.shape, [1, 4]);
    compare(json, Object.fromEntries(Object.entries(E.metrics_no_tokens).map(([m, rows]) => [m, [rows[0]]])), 'layer0.npy');
  });

  it('an .npz member reads like the .npy; a tokens member beside it is used when it can be read', async () => {
    const r = await run(`${headsFixture('bundle.npz')}#attention`, '--json');
    assert.strictEqual(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    // The tokens member is a NumPy string array: with string support it gives the token metrics, without it a warning.
    if (json.metrics.induction) compare(json, E.metrics, 'bundle.npz#attention');
    else {
      compare(json, E.metrics_no_tokens, 'bundle.npz#attention');
      assert.match(r.stderr, /^warning: .*bundle\.npz#tokens.*token metrics are left out/);
    }
  });

  it('the table is sorted by --sort, highest first (default entropy), and names the metrics', async () => {
    const [byEntropy, byInduction, byBos] = await Promise.all([
      run(headsFixture('dump.npy')),
      run(headsFixture('dump.npy'), '--tokens', headsFixture('tokens.json'), '--sort', 'induction'),
      run(headsFixture('dump.npy'), '--sort=bos'),
    ]);
    for (const r of [byEntropy, byInduction, byBos]) assert.strictEqual(r.code, 0, r.stderr);
    const top = (metric: string) => { const rows = E.metrics[metric]; let best = [0, 0]; rows.forEach((row, l) => row.forEach((v, h) => { if (v > rows[best[0]][best[1]]) best = [l, h]; })); return best; };
    const entropyOrder = tableOrder(byEntropy.stdout);
    assert.strictEqual(entropyOrder.length, 8);
    assert.deepStrictEqual(entropyOrder[0], top('entropy'));
    const entropies = entropyOrder.map(([l, h]) => E.metrics.entropy[l][h]);
    assert.deepStrictEqual(entropies, [...entropies].sort((a, b) => b - a));
    assert.match(byEntropy.stdout, /no tokens: duplicate_token and induction need --tokens/);
    assert.doesNotMatch(byEntropy.stdout.split('\n').find((l) => /layer\s+head/.test(l)) ?? '', /induction/);
    assert.deepStrictEqual(tableOrder(byInduction.stdout)[0], E.kinds.induction);
    assert.match(byInduction.stdout, /layer\s+head\s+entropy\s+max\s+bos\s+self\s+previous_token\s+duplicate_token\s+induction/);
    assert.deepStrictEqual(tableOrder(byBos.stdout)[0], E.kinds.bos);
  });

  it('bad input is one error line and a non-zero exit', async () => {
    const short = path.join(dir, 'short.json');
    fs.writeFileSync(short, JSON.stringify(['a', 'b', 'c']));
    const notTokens = path.join(dir, 'object.json');
    fs.writeFileSync(notTokens, JSON.stringify({ words: ['a'] }));
    const cases: [string[], RegExp][] = [
      [[], /heads needs a FILE/],
      [[path.join(dir, 'missing.npy')], /missing\.npy: no such file/],
      [[headsFixture('dump.npy'), '--sort', 'sharpness'], /--sort takes one of entropy, max, bos, self, previous_token, duplicate_token, induction/],
      [[headsFixture('dump.npy'), '--sort', 'induction'], /--sort induction needs the tokens/],
      [[headsFixture('dump.npy'), '--tokens', short], /short\.json: the tokens have 3 entries but the attention maps are 23 × 23/],
      [[headsFixture('dump.npy'), '--tokens', notTokens], /object\.json: tokens must be a JSON array/],
      [[headsFixture('dump.npy'), '--tokens'], /--tokens needs a value/],
      [[headsFixture('dump.npy'), '--bogus'], /unknown option --bogus/],
      [[path.join(ROOT, 'test/fixtures/files/dump_2x3x4x5.npy')], /square.*4 × 5/],
      [[path.join(ROOT, 'test/fixtures/e2e/hostile-shape.npy')], /hostile-shape\.npy/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    runs.forEach((r, i) => oneErrorLine(r, cases[i][1], cases[i][0].join(' ') || '(no arguments)'));
  });
});
