/**
 * Long-context rows of `npm run bench` (issue 14): one causal head of d = 64 at 32,768 and 65,536 tokens, computed by
 * the streamed engine (src/core/stream) without an n × n array. Each size runs in a fresh process (so "first" means
 * first: worker spawn and WASM compile included, and the memory is the process's own):
 *   - the first overview as the panel asks for it (max-pooled 512², row max, entropy and the output O), its time and the memory held beyond the inputs
 *     (peak RSS sampled every 5 ms minus the RSS once the inputs exist);
 *   - a zoomed 1024² tile of weights, a hover cell on a new row (its whole row, for the rank), medians;
 *   - the output of every row in the process (inputs in memory);
 * and the whole process (load Q, K, V .npy, compute O for every row, save output.npy) against a careful NumPy script
 * computing 1024 rows at a time (scripts/numpy_stream_ref.py), at 32,768.
 *   node out/scripts/benchStream.js [--quick]          (the rows, printed)
 *   node out/scripts/benchStream.js --child N          (one size's measurements as JSON; used by the above)
 *   node out/scripts/benchStream.js --job q k v out    (the whole-process job)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { disposeComputePool } from '../src/core/compute/fast';
import { readMatrix } from '../src/core/matrixFile';
import { writeNpy } from '../src/core/npyWrite';
import { StreamDetail } from '../src/core/stream/detail';
import { streamHead } from '../src/core/stream/engine';
import type { StreamHead, StreamSettings } from '../src/core/stream/types';
import { median } from './timing';

const D = 64;

export interface StreamBenchRow { name: string; n?: number; ms: number | null; numpyMs?: number | null; ratio?: number | null; note?: string }

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const data = new Float32Array(n);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return data;
}

const mib = (b: number) => b / 2 ** 20;

/** Peak RSS while `f` runs, sampled every 5 ms (the main thread is idle while the pool works). */
async function peakRss<T>(f: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const value = await f();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peak };
  } finally {
    clearInterval(timer);
  }
}

async function child(n: number): Promise<void> {
  const head: StreamHead = { q: random(n * D, 1), k: random(n * D, 2), v: random(n * D, 3), nq: n, nk: n, dk: D, dv: D };
  const settings: StreamSettings = { similarity: 'dot', scaleFactor: 1 / Math.sqrt(D), mask: { kind: 'causal', offset: 0 } };
  const base = process.memoryUsage.rss();
  let firstProgressMs = -1;
  // CPU time of the whole process (every worker thread): on a shared machine wall time also counts other processes.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ov = await peakRss(() => streamHead(head, settings, {
    // As the panel asks (streamModel.ts): overview, entropy and the output O in one sweep.
    overviewSize: 512, entropy: true, output: true, onProgress: (f) => { if (f > 0 && firstProgressMs < 0) firstProgressMs = performance.now() - t0; },
  }));
  const overviewMs = performance.now() - t0;
  const c0 = process.cpuUsage(cpu0);
  const overviewCpuMs = (c0.user + c0.system) / 1000;
  const detail = new StreamDetail(head, settings, ov.value.stats);
  const tiles: number[] = [];
  for (let t = 0; t < 7; t++) {
    // Zoomed on the diagonal (the busiest part of a causal map), a different region each time.
    const r0 = Math.floor(((t + 1) * n) / 9);
    const s = performance.now();
    await detail.tile('weights', { r0, c0: Math.max(0, r0 - 512), rows: 1024, cols: 1024 });
    tiles.push(performance.now() - s);
  }
  const hovers: number[] = [];
  for (let t = 0; t < 9; t++) {
    const i = n - 1 - t * 997;
    const s = performance.now();
    await detail.cell(i, Math.floor(i / 2));
    hovers.push(performance.now() - s);
  }
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  const out = await peakRss(() => streamHead(head, settings, { output: true }));
  const outputMs = performance.now() - t1;
  const c1 = process.cpuUsage(cpu1);
  const outputCpuMs = (c1.user + c1.system) / 1000;
  disposeComputePool();
  process.stdout.write(JSON.stringify({
    overviewMs, overviewCpuMs, firstProgressMs, overviewMiB: mib(ov.peak - base), tileMs: median(tiles), hoverMs: median(hovers),
    outputMs, outputCpuMs, outputMiB: mib(out.peak - base), inputsMiB: mib(3 * n * D * 4),
  }) + '\n');
}

/** The whole-process job: load three .npy, compute the output of every row, save output.npy. */
async function job(qf: string, kf: string, vf: string, outFile: string): Promise<void> {
  const [q, k, v] = await Promise.all([qf, kf, vf].map((f) => readMatrix(f)));
  const [nq, dk] = q.shape;
  const [nk, dv] = v.shape;
  const r = await streamHead(
    { q: q.data as Float32Array, k: k.data as Float32Array, v: v.data as Float32Array, nq, nk, dk, dv },
    { similarity: 'dot', scaleFactor: 1 / Math.sqrt(dk), mask: { kind: 'causal', offset: nk - nq } },
    { output: true },
  );
  await writeNpy(outFile, { shape: [nq, dv], dtype: 'float32', data: r.output as Float32Array });
  disposeComputePool();
}

function runChild(args: string[]): Record<string, number> | undefined {
  const r = spawnSync(process.execPath, [__filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    console.error(`benchStream ${args.join(' ')} failed: ${r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

function wall(cmd: string, args: string[]): number | null {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return r.status === 0 ? performance.now() - t : null;
}

export async function benchStream(quick = false): Promise<StreamBenchRow[]> {
  const rows: StreamBenchRow[] = [];
  for (const n of quick ? [32768] : [32768, 65536]) {
    const m = runChild(['--child', String(n)]);
    if (!m) continue;
    rows.push({ name: 'long context: first overview (512², causal, with O)', n, ms: m.overviewMs,
      note: `held ${m.overviewMiB.toFixed(0)} MiB beyond the ${m.inputsMiB.toFixed(0)} MiB inputs (peak RSS); CPU ${m.overviewCpuMs.toFixed(0)} ms over all threads; first progress at ${m.firstProgressMs.toFixed(0)} ms` });
    rows.push({ name: 'long context: zoomed 1024² tile of weights', n, ms: m.tileMs, note: 'median of 7, on the diagonal' });
    rows.push({ name: 'long context: hover a cell on a new row', n, ms: m.hoverMs, note: 'median of 9; exact row in float64 (the rank needs it)' });
    rows.push({ name: 'long context: output of every row, in process', n, ms: m.outputMs, note: `held ${m.outputMiB.toFixed(0)} MiB beyond the inputs; CPU ${m.outputCpuMs.toFixed(0)} ms over all threads` });
  }
  // Whole processes at 32,768: ours and the NumPy script, alternately, medians.
  const n = 32768;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-stream-'));
  try {
    const files = ['q', 'k', 'v'].map((x) => path.join(dir, `${x}.npy`));
    for (let i = 0; i < 3; i++) await writeNpy(files[i], { shape: [n, D], dtype: 'float32', data: random(n * D, i + 1) });
    const script = path.join(__dirname, '..', '..', 'scripts', 'numpy_stream_ref.py');
    const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
    const haveNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
    const ours: number[] = [];
    const numpy: number[] = [];
    for (let r = 0; r < (quick ? 1 : 3); r++) {
      // The CLI as users run it (dist/cli.js, bundled); our own --job runner when the bundle is missing.
      const a = fs.existsSync(cli)
        ? wall(process.execPath, [cli, 'compute', '--q', files[0], '--k', files[1], '--v', files[2], '--mask', 'causal', '--no-weights', '--out', path.join(dir, 'ours')])
        : wall(process.execPath, [__filename, '--job', ...files, path.join(dir, 'ours.npy')]);
      if (a !== null) ours.push(a);
      if (haveNumpy) {
        const b = wall('python3', [script, ...files, path.join(dir, 'numpy.npy')]);
        if (b !== null) numpy.push(b);
      }
    }
    const o = ours.length ? median(ours) : null;
    const p = numpy.length ? median(numpy) : null;
    rows.push({ name: 'long context: whole process (load 3 .npy, O for every row, save)', n, ms: o, numpyMs: p, ratio: o && p ? o / p : null,
      note: 'compute --mask causal --no-weights --out, d = 64; NumPy: scripts/numpy_stream_ref.py, 1024 rows at a time, float32' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const run = async () => {
    if (args[0] === '--child') return child(Number(args[1]));
    if (args[0] === '--job') return job(args[1], args[2], args[3], args[4]);
    const rows = await benchStream(args.includes('--quick'));
    for (const r of rows) {
      const f = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(1));
      console.log(`${r.name.padEnd(66)} ${String(r.n ?? '').padStart(6)} ${f(r.ms).padStart(9)} ${f(r.numpyMs).padStart(9)} ${r.ratio ? r.ratio.toFixed(2) : '—'}  ${r.note ?? ''}`);
    }
  };
  run().then(() => process.exit(0), (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
