// The `inspect` CLI contract, tested by spawning the built CLI as users and other tests do.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EXPECTED, fixture } from '../fixtures/files/fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run1(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'inspect', ...args], { encoding: 'utf8', timeout: 10000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs the CLI once per argument list, four at a time (each run is mostly Node's start-up). */
async function runAll(argLists: string[][]): Promise<Run[]> {
  const out: Run[] = new Array(argLists.length);
  let next = 0;
  const worker = async () => { while (next < argLists.length) { const i = next++; out[i] = await run1(argLists[i]); } };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

const run = async (...args: string[]): Promise<Run> => run1(args);

/** The raw JSON text of a field, so 64-bit integers are compared exactly. */
function raw(stdout: string, key: string): string {
  const m = new RegExp(`"${key}":(-?[0-9.e+-]+|null)`).exec(stdout);
  assert.ok(m, `no ${key} in ${stdout}`);
  return m[1];
}

function close(got: string, want: number | string | null, what: string): void {
  if (want === null || typeof want === 'string') { assert.strictEqual(got, want === null ? 'null' : want, what); return; }
  const g = Number(got);
  assert.ok(Math.abs(g - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: ${got} vs NumPy ${want}`);
}

describe('inspect CLI', function () {
  this.timeout(60000);
  before(() => {
    if (!fs.existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'ignore' });
  });

  const files = ['f2_be.npy', 'f4_le.npy', 'f8_be.npy', 'i1.npy', 'i8_le.npy', 'u8_be.npy', 'u4_le.npy', 'b1.npy', 'f4_nan.npy', 'f8_allnan.npy',
    'f2_special.npy', 'fortran_i8_be.npy', 'scalar_f8.npy', 'empty_2x0x3.npy', 'v3_f4.npy', 'legacy16_i4.npy',
    'bundle_deflated.npz#ids', 'zip64_cd.npz#b', 'plain_4d.json'];
  it('--json prints shape, NumPy dtype name, order and NaN-ignoring stats matching NumPy', async () => {
    const runs = await runAll(files.map((f) => [fixture(f), '--json']));
    files.forEach((f, i) => {
      const e = EXPECTED[f];
      const r = runs[i];
      assert.strictEqual(r.code, 0, `${f}: ${r.stderr}`);
      assert.strictEqual(r.stderr, '');
      const o = JSON.parse(r.stdout);
      assert.deepStrictEqual([o.shape, o.dtype, o.fortran_order, o.nan, o.inf], [e.shape, e.dtype, e.fortran_order, e.nan, e.inf], f);
      close(raw(r.stdout, 'min'), e.min, `${f} min`);
      close(raw(r.stdout, 'max'), e.max, `${f} max`);
      close(raw(r.stdout, 'mean'), e.mean, `${f} mean`);
    });
  });
  it('--index reads one slice lazily and --data adds it as nested lists in C order', async () => {
    const r = await run(fixture('dump_2x3x4x5.npy'), '--index', '1,2', '--json', '--data');
    assert.strictEqual(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    const e = EXPECTED['dump_2x3x4x5.npy[1,2]'];
    assert.deepStrictEqual(o.shape, [4, 5]);
    assert.deepStrictEqual(o.data.flat(), e.values);
    assert.strictEqual(o.data.length, 4);
    close(String(o.mean), e.mean, 'mean of the slice');
    const neg = JSON.parse((await run(fixture('dump_2x3x4x5.npy'), '--index=-1,-1,0', '--json', '--data')).stdout);
    assert.deepStrictEqual(neg.data, EXPECTED['dump_2x3x4x5.npy[1,2]'].values.slice(0, 5));
    const big = await run(fixture('i8_be.npy'), '--json', '--data');
    assert.match(big.stdout, /"data": \[\[-9223372036854775808, 1, -1, 7\], \[100, -100, 12, -12\], \[127, -128, 3, 9223372036854775807\]\]/);
    assert.match((await run(fixture('b1.npy'), '--json', '--data')).stdout, /"data": \[\[true, false, true\], \[false, false, true\]\]/);
    assert.match((await run(fixture('fortran_f4.npy'), '--json', '--data', '--index', '1')).stdout, /"data": \[\[3, 3.5, 4, 4.5\], \[5, 5.5, 6, 6.5\], \[7, 7.5, 8, 8.5\]\]/);
  });
  it('lists the members of an .npz and the matrices of a JSON spec', async () => {
    const r = await run(fixture('bundle_deflated.npz'), '--json');
    assert.deepStrictEqual(JSON.parse(r.stdout).members.map((m: { name: string; shape: number[]; dtype: string }) => `${m.name} ${m.dtype} ${m.shape}`),
      ['q float32 6,8', 'k float32 9,8', 'v float64 9,4', 'ids int64 9', 'fdump float32 2,3,4']);
    const text = await run(fixture('inline.attention.json'));
    assert.match(text.stdout, /4 arrays\n {2}Q: float64 \[2, 3\]\n {2}K: float64 \[4, 3\]/);
    const member = JSON.parse((await run(fixture('inline.attention.json#K'), '--json')).stdout);
    assert.deepStrictEqual([member.shape, member.min, member.max], [[4, 3], 0, 9]);
  });
  it('prints a readable summary without --json', async () => {
    const r = await run(fixture('dump_2x3x4x5.npy'), '--index', '0,1');
    assert.strictEqual(r.code, 0);
    assert.match(r.stdout, /dump_2x3x4x5\.npy: float32 \[2, 3, 4, 5\], 120 values\n {2}\[0, 1\]: \[4, 5\], 20 values\n {2}min \S+ {2}max \S+ {2}mean \S+ {2}nan 0 {2}inf 0\n$/);
  });
  it('bad input: non-zero exit, one "error:" line naming the file and the problem, no stack trace, no output', async () => {
    // Listing these works (their headers are fine); their data or cross-checks are what is bad.
    const listable = ['bomb.npz', 'width_mismatch.attention.json'];
    // unicode.npy is a valid string array since string dtypes are read (test/unit/formatsCli.test.ts prints it).
    const bad = fs.readdirSync(fixture('bad')).filter((n) => !listable.includes(n) && n !== 'unicode.npy');
    const cases: [string[], RegExp][] = bad.map((n) => [[fixture(`bad/${n}`), '--json'], new RegExp(n.replace(/\./g, '\\.'))]);
    cases.push([[fixture('bad/bomb.npz#a'), '--json'], /inflates to more than its declared 256 bytes/]);
    cases.push([[fixture('nope.npy')], /nope\.npy: no such file/]);
    cases.push([[fixture('dump_2x3x4x5.npy'), '--index', '5'], /index 5 is out of range for axis 0 of size 2/]);
    cases.push([[fixture('bundle_stored.npz#zz')], /no member "zz"/]);
    const runs = await runAll(cases.map(([args]) => args));
    cases.forEach(([args, re], i) => {
      const r = runs[i];
      assert.notStrictEqual(r.code, 0, `${args.join(' ')} should fail`);
      assert.strictEqual(r.stdout, '', args.join(' '));
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.strictEqual(lines.length, 1, `one line for ${args[0]}: ${r.stderr}`);
      assert.match(lines[0], /^error: /);
      assert.match(lines[0], re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  });
  it('usage errors exit 2 with one error line', async () => {
    const lists = [[], ['--index', 'x', fixture('f4_le.npy')], ['--frobnicate', fixture('f4_le.npy')], [fixture('f4_le.npy'), 'extra']];
    const runs = await runAll(lists);
    lists.forEach((args, i) => {
      const r = runs[i];
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: [^\n]+\n$/);
    });
  });
});
