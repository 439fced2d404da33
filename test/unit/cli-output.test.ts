// Issue 12, bug 2: the CLI's --json output must reach a slow reader whole, with the right exit code. The
// process used to call process.exit while a pipe still held the tail of its output, so a reader that was
// not quick enough got the first 64-128 KiB. Spawns the built CLI (npm run build) as users do.
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeAttention } from '../../src/core/attention';
import { writeNpy } from '../../src/core/npyWrite';

const CLI = path.resolve(__dirname, '../../..', 'dist', 'cli.js');

/** Runs the CLI with stdout to a pipe nobody reads for `delayMs`, then reads it all. */
function runSlowReader(args: string[], delayMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stdout.resume();
    }, delayMs);
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** `node dist/cli.js ARGS | python3` in bash with pipefail, the reader sleeping 300 ms before it reads and
 * re-printing what it parsed (the shell line from the issue): the status is the CLI's or the reader's failure. */
function throughSlowPython(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const reader = 'import json,sys,time; time.sleep(0.3); d=json.load(sys.stdin); json.dump(d, sys.stdout)';
  const line = `${[process.execPath, CLI, ...args].map(q).join(' ')} | python3 -c ${q(reader)}`;
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', line], { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI output reaches a slow reader whole (issue 12, bug 2)', function () {
  this.timeout(30_000);
  let dir: string;
  // [3, 6, 128, 128] float32: slice [2, 5] is 128×128, about 190 KB of JSON.
  const dump = new Float32Array(3 * 6 * 128 * 128);
  for (let i = 0; i < dump.length; i++) dump[i] = Math.fround(Math.sin(i) * 3.25);
  const q = new Float32Array(200 * 16);
  for (let i = 0; i < q.length; i++) q[i] = Math.fround(Math.cos(i * 0.37));

  before(async () => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-out-'));
    await writeNpy(path.join(dir, 'dump.npy'), { shape: [3, 6, 128, 128], dtype: 'float32', data: dump });
    await writeNpy(path.join(dir, 'q.npy'), { shape: [200, 16], dtype: 'float32', data: q });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const slice = (): Float32Array => dump.subarray((2 * 6 + 5) * 128 * 128, (2 * 6 + 6) * 128 * 128);

  it('inspect --index 2,5 --data --json | python3 (reading after 300 ms): the whole 128×128 slice, exit code 0', () => {
    const r = throughSlowPython(['inspect', path.join(dir, 'dump.npy'), '--index', '2,5', '--data', '--json']);
    assert.strictEqual(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { shape: number[]; data: number[][] };
    assert.deepStrictEqual(json.shape, [128, 128]);
    const want = slice();
    for (let i = 0; i < 128; i++) for (let j = 0; j < 128; j++) assert.strictEqual(Math.fround(json.data[i][j]), want[i * 128 + j], `[${i}, ${j}]`);
  });

  it('compute --json | python3 (reading after 300 ms): all 200×200 weights, exit code 0', () => {
    const r = throughSlowPython(['compute', '--q', path.join(dir, 'q.npy'), '--json']);
    assert.strictEqual(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { weights: number[][] };
    assert.strictEqual(json.weights.length, 200);
    assert.ok(json.weights.every((row) => row.length === 200));
  });

  it('compute --json: 200×200 weights through a pipe read after 300 ms, equal to the reference', async () => {
    const r = await runSlowReader(['compute', '--q', path.join(dir, 'q.npy'), '--json'], 300);
    assert.strictEqual(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { weights: number[][]; output: number[][]; scores: number[][] };
    const ref = computeAttention({ q: { shape: [200, 16], dtype: 'float32', data: q } });
    assert.strictEqual(json.weights.length, 200);
    assert.strictEqual(json.output.length, 200);
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < 200; j++) assert.ok(Math.abs(json.weights[i][j] - ref.weights[i * 200 + j]) < 1e-6, `weights[${i}][${j}]`);
    }
  });

  it('keeps the exit code: a bad file is exit 1 and one error line, also to a slow reader', async () => {
    const r = await runSlowReader(['inspect', path.join(dir, 'missing.npy'), '--json'], 300);
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.stdout, '');
    assert.match(r.stderr, /^error: .*missing\.npy: no such file\n$/);
  });

  it('writes every byte to a file too', () => {
    const file = path.join(dir, 'out.json');
    const fd = fs.openSync(file, 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, 'inspect', path.join(dir, 'dump.npy'), '--index', '2,5', '--data', '--json'], { stdio: ['ignore', fd, 'pipe'] });
      assert.strictEqual(r.status, 0, String(r.stderr));
    } finally {
      fs.closeSync(fd);
    }
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[][] };
    assert.strictEqual(Math.fround(json.data[127][127]), slice()[128 * 128 - 1]);
  });
});
