// A seeded, bounded fuzz round over the fixture corpus: every mutated or truncated file either parses or is refused
// with a MatrixError naming it, each within 200 ms. Crashers found by `npm run fuzz` stay here as regressions.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkInput, FIXTURE_DIR, loadCorpus, mutate, regressionFiles, rng, runFuzz, zipBomb } from '../../scripts/fuzz';
import type { Ext } from '../../scripts/fuzz';

describe('fuzz: mutated matrix files parse or are refused cleanly', function () {
  this.timeout(120000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-test-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the corpus holds every kind of fixture and the mutations are reproducible from the seed', () => {
    const corpus = loadCorpus();
    for (const ext of ['.npy', '.npz', '.json', '.safetensors']) assert.ok(corpus.some((c) => c.ext === ext), ext);
    const a = mutate(rng(5), corpus[3], corpus);
    const b = mutate(rng(5), corpus[3], corpus);
    assert.strictEqual(a.mutation, b.mutation);
    assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)));
  });

  it('2,000 seeded mutations: no crash, no hang, each decided within 200 ms', async () => {
    // The fixtures alone, so the round does not change when a regression is saved.
    const report = await runFuzz({ seed: 20261123, iterations: 2000, timeLimitMs: 200, workDir: dir, corpus: loadCorpus(FIXTURE_DIR, false) });
    assert.deepStrictEqual(report.failures, []);
    assert.strictEqual(report.runs, 2000);
    assert.ok(report.refused > 500 && report.parsed > 50, `${report.parsed} parsed, ${report.refused} refused`);
    for (const m of ['bit-flip', 'truncate', 'shape-claim', 'descr', 'zip-bomb', 'json-deep', 'st-offsets', 'st-shape', 'st-header-length', 'st-metadata']) {
      assert.ok(report.byMutation[m] > 0, m);
    }
  });

  it('zip bombs and inflated shape claims in particular', async () => {
    const r = rng(99);
    for (let i = 0; i < 40; i++) {
      const res = await checkInput(zipBomb(r), '.npz', dir, 200, `bomb${i}`);
      assert.notStrictEqual(res.outcome, 'failed', res.outcome === 'failed' ? res.problem : '');
    }
  });

  it('every saved regression input parses or is refused cleanly', async () => {
    const files = regressionFiles();
    assert.ok(files.length >= 7, `${files.length} saved regressions`);
    for (const f of files) {
      const n = path.basename(f);
      const res = await checkInput(fs.readFileSync(f), path.extname(n) as Ext, dir, 200, `reg-${path.basename(n, path.extname(n))}`);
      assert.notStrictEqual(res.outcome, 'failed', `${n}: ${res.outcome === 'failed' ? res.problem : ''}`);
    }
  });

  it('a missing or empty regressions folder fails instead of passing on nothing', () => {
    assert.throws(() => regressionFiles(path.join(dir, 'no-such-folder')), /fuzz regressions folder .*no-such-folder is missing/);
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    assert.throws(() => regressionFiles(empty), /holds no \.npy, \.npz, \.json or \.safetensors file/);
    assert.throws(() => loadCorpus(path.join(dir, 'no-such-corpus')), /fuzz corpus folder .* is missing/);
  });
});
