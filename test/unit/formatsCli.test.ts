// `inspect` on safetensors files and string arrays, by spawning the built CLI as users do.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EXPECTED_FORMATS, EXPECTED_STRINGS, formatsFixture as fx } from '../fixtures/formats/fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'inspect', ...args], { encoding: 'utf8', timeout: 10000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('inspect CLI: safetensors and string arrays', function () {
  this.timeout(60000);
  before(() => {
    if (!fs.existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('lists the tensors of a .safetensors file with shapes, NumPy-style dtype names and __metadata__', async () => {
    const r = await run(fx('all_dtypes.safetensors'), '--json');
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const got = new Map<string, { shape: number[]; dtype: string }>(out.members.map((m: { name: string; shape: number[]; dtype: string }) => [m.name, m]));
    for (const [ref, e] of Object.entries(EXPECTED_FORMATS).filter(([k]) => k.startsWith('all_dtypes.safetensors#'))) {
      const m = got.get(ref.split('#')[1]);
      assert.deepStrictEqual([m?.shape, m?.dtype], [e.shape, e.dtype], ref);
    }
    assert.deepStrictEqual(out.metadata, { format: 'np', note: 'fixtures' });
    const text = await run(fx('run_bf16.safetensors'));
    assert.match(text.stdout, /run_bf16\.safetensors: 1 array\n {2}attentions: bfloat16 \[2, 2, 5, 5\]\n {2}__metadata__ tokens: /);
  });

  it('reads a tensor: bfloat16 values exactly as decoded, by leading index', async () => {
    const e = EXPECTED_FORMATS['run_bf16.safetensors#attentions'];
    const r = await run(`${fx('run_bf16.safetensors')}#attentions`, '--index', '1,1', '--json', '--data');
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.dtype, 'bfloat16');
    assert.deepStrictEqual(out.shape, [5, 5]);
    const want = e.values.slice(75, 100) as number[];
    assert.deepStrictEqual(out.data.flat(), want);
    const i64 = await run(`${fx('all_dtypes.safetensors')}#i64`, '--json', '--data');
    assert.match(i64.stdout, /"dtype":"int64".*"data": \[-9223372036854775808, -1, 0, 9007199254740993, 9223372036854775807\]/);
  });

  it('prints string arrays with their NumPy dtype and the strings as JSON', async () => {
    for (const [name, ref] of [['u_le.npy', fx('u_le.npy')], ['s_bytes.npy', fx('s_bytes.npy')], ['run.npz#tokens', `${fx('run.npz')}#tokens`]]) {
      const e = EXPECTED_STRINGS[name];
      const r = await run(ref, '--json', '--data');
      assert.strictEqual(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepStrictEqual([out.shape, out.dtype, out.data], [e.shape, e.dtype, e.values], name);
    }
    const list = await run(fx('run.npz'));
    assert.strictEqual(list.stdout, `${fx('run.npz')}: 2 arrays\n  attentions: float32 [2, 2, 5, 5]\n  tokens: <U4 [5]\n`);
    const text = await run(`${fx('cross.npz')}#key_tokens`, '--data');
    assert.strictEqual(text.stdout, `${fx('cross.npz')}#key_tokens: |S4 [4], 4 strings\n["The", " cat", "sat", "\\n"]\n`);
  });

  it('bad files: one error line naming the file and the rule, exit 1', async () => {
    for (const [f, re] of [
      ['bad/offsets_hole.safetensors', /^error: .*offsets_hole\.safetensors: invalid safetensors file: tensor "b" \(data_offsets \[20, 23\]\) starts at 20 but the previous tensor ends at 16/],
      ['bad/model.pt', /^error: .*model\.pt: a zip holding archive\/data\.pkl is a torch\.save archive: a Python pickle, which is never loaded/],
      ['bad/strings_truncated.npy', /^error: .*strings_truncated\.npy: truncated \.npy data/],
    ] as const) {
      const r = await run(fx(f));
      assert.strictEqual(r.code, 1, f);
      assert.match(r.stderr, re);
      assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
