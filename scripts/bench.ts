/**
 * `npm run bench`: the attention engine against NumPy on this machine, one run, medians of several timings.
 *   node out/scripts/bench.js [--json FILE] [--quick]
 * Rows: compute-only for n = 512…4096 (d = 64, float32): ours (WASM SIMD + workers), ours (plain TypeScript,
 * n ≤ 1024), NumPy (same maths incl. the safe softmax) and the ratio ours/NumPy; the whole job (load three
 * .npy, compute, save weights and output) for both; the largest main-thread event-loop stall during a
 * 4096 compute; and the file benches of scripts/benchFiles.ts when that file exists.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import { computeFast, disposeComputePool, releaseResult, wasmAvailable } from '../src/core/compute/fast';
import type { EngineOptions } from '../src/core/compute/fast';
import { findAsset } from '../src/core/compute/assets';
import { readMatrix } from '../src/core/matrixFile';
import type { NdArray } from '../src/core/ndarray';
import { writeNpy } from '../src/core/npyWrite';
import { saveFloat32Npy } from '../src/cli/compute';

interface Row { name: string; n?: number; ms: number | null; numpyMs?: number | null; ratio?: number | null; note?: string }

const D = 64;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const SIZES = quick ? [512, 1024] : [512, 1024, 2048, 4096];

function random(rows: number, cols: number, seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function time(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up: JIT, worker spawn, wasm memory growth
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

function runsFor(n: number): number {
  return n <= 512 ? 15 : n <= 1024 ? 9 : n <= 2048 ? 7 : 7;
}

/** NumPy timings (ms) in one python3 process: compute-only per size, and the whole job at the largest size. */
const NUMPY = String.raw`
import json, sys, time, os
import numpy as np
d = sys.argv[1]; sizes = [int(x) for x in sys.argv[2].split(',')]; runs = json.loads(sys.argv[3])
def attention(Q, K, V):
    s = (Q @ K.T) * np.float32(1 / np.sqrt(Q.shape[1]))
    s -= s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=1, keepdims=True)
    return s, s @ V
def med(f, r):
    f()
    ts = []
    for _ in range(r):
        t = time.perf_counter(); f(); ts.append((time.perf_counter() - t) * 1000)
    ts.sort(); m = len(ts) // 2
    return ts[m] if len(ts) % 2 else (ts[m - 1] + ts[m]) / 2
out = {'compute': {}, 'job': None, 'threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default')}
for n in sizes:
    Q, K, V = (np.load(os.path.join(d, f'{x}{n}.npy')) for x in 'qkv')
    out['compute'][n] = med(lambda: attention(Q, K, V), runs[str(n)])
n = sizes[-1]
def job():
    Q, K, V = (np.load(os.path.join(d, f'{x}{n}.npy')) for x in 'qkv')
    w, o = attention(Q, K, V)
    np.save(os.path.join(d, 'np_weights.npy'), w); np.save(os.path.join(d, 'np_output.npy'), o)
out['job'] = med(job, 5)
print(json.dumps(out))
`;

function numpyTimings(dir: string): { compute: Record<string, number>; job: number | null } | undefined {
  try {
    const runs = Object.fromEntries(SIZES.map((n) => [String(n), runsFor(n)]));
    const out = execFileSync('python3', ['-c', NUMPY, dir, SIZES.join(','), JSON.stringify(runs)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    });
    return JSON.parse(out) as { compute: Record<string, number>; job: number | null };
  } catch (e) {
    console.error(`(NumPy not measured: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** Largest gap of the main thread's event loop while `f` runs (both a 1 ms interval and perf_hooks). */
async function eventLoopStall(f: () => Promise<unknown>): Promise<{ intervalMs: number; histogramMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  h.enable();
  await f();
  h.disable();
  clearInterval(timer);
  worst = Math.max(worst, performance.now() - last);
  return { intervalMs: worst, histogramMs: h.max / 1e6 };
}

function fmt(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

async function main(): Promise<void> {
  const started = performance.now();
  const rows: Row[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-bench-'));
  try {
    console.log(`attention bench: d=${D}, float32, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
    console.log(`wasm: ${wasmAvailable() ? findAsset('attention.wasm') : 'NOT FOUND (TypeScript kernel only)'}; workers: ${findAsset('worker.js') ?? 'NOT FOUND'}`);
    const inputs = new Map<number, { q: NdArray; k: NdArray; v: NdArray }>();
    for (const n of SIZES) {
      const q = random(n, D, 1);
      const k = random(n, D, 2);
      const v = random(n, D, 3);
      inputs.set(n, { q, k, v });
      await writeNpy(path.join(dir, `q${n}.npy`), q);
      await writeNpy(path.join(dir, `k${n}.npy`), k);
      await writeNpy(path.join(dir, `v${n}.npy`), v);
    }
    const np = numpyTimings(dir);

    for (const n of SIZES) {
      const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
      const fast = await time(runsFor(n), () => computeFast(input, { scores: false }));
      const numpyMs = np?.compute[String(n)] ?? null;
      rows.push({ name: 'compute, ours (wasm+workers)', n, ms: fast, numpyMs, ratio: numpyMs ? fast / numpyMs : null,
        note: 'fresh result memory each run' });
      // Steady state of a caller that hands results back (releaseResult): no first-touch page faults.
      const reused = await time(runsFor(n), async () => releaseResult(await computeFast(input, { scores: false })));
      rows.push({ name: 'compute, ours (wasm+workers, reused)', n, ms: reused, numpyMs, ratio: numpyMs ? reused / numpyMs : null,
        note: 'weights memory reused via releaseResult' });
      if (n <= 1024) {
        const opts: EngineOptions = { kernel: 'ts', pool: false, scores: false };
        const ts = await time(3, () => computeFast(input, opts));
        rows.push({ name: 'compute, ours (plain TS)', n, ms: ts, numpyMs, ratio: numpyMs ? ts / numpyMs : null });
      }
    }

    const n = SIZES[SIZES.length - 1];
    const job = async () => {
      const [q, k, v] = await Promise.all(['q', 'k', 'v'].map((x) => readMatrix(path.join(dir, `${x}${n}.npy`))));
      const r = await computeFast({ q, k, v }, { scores: false });
      await Promise.all([
        saveFloat32Npy(path.join(dir, 'weights.npy'), [n, n], r.weights),
        saveFloat32Npy(path.join(dir, 'output.npy'), [n, D], r.output),
      ]);
      return r;
    };
    const jobMs = await time(5, job);
    const npJob = np?.job ?? null;
    rows.push({ name: 'whole job (load 3 .npy, compute, save 2)', n, ms: jobMs, numpyMs: npJob, ratio: npJob ? jobMs / npJob : null,
      note: 'fresh result memory each run' });
    const jobReused = await time(5, async () => releaseResult(await job()));
    rows.push({ name: 'whole job, reused', n, ms: jobReused, numpyMs: npJob, ratio: npJob ? jobReused / npJob : null,
      note: 'weights memory reused via releaseResult' });

    const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
    const stall = await eventLoopStall(() => computeFast(input, { scores: false }));
    rows.push({ name: 'largest event-loop stall during compute', n, ms: Math.max(stall.intervalMs, stall.histogramMs),
      note: `setInterval(1) gap ${fmt(stall.intervalMs)} ms, monitorEventLoopDelay max ${fmt(stall.histogramMs)} ms` });

    // The file benches belong to the files part; load them only if that file was built.
    const filesBench = path.join(__dirname, 'benchFiles.js');
    if (fs.existsSync(filesBench)) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(filesBench) as { benchFiles?: () => Promise<{ name: string; ms: number; note?: string }[]> };
        for (const r of (await mod.benchFiles?.()) ?? []) rows.push({ name: r.name, ms: r.ms, note: r.note });
      } catch (e) {
        rows.push({ name: 'file benches', ms: null, note: `failed: ${(e as Error).message.split('\n')[0]}` });
      }
    } else {
      rows.push({ name: 'file benches', ms: null, note: 'skipped: scripts/benchFiles.ts is not there' });
    }
  } finally {
    disposeComputePool();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const w0 = Math.max(...rows.map((r) => r.name.length));
  console.log('');
  console.log(`${'what'.padEnd(w0)}  ${'n'.padStart(5)}  ${'ours ms'.padStart(9)}  ${'NumPy ms'.padStart(9)}  ${'ratio'.padStart(6)}  note`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w0)}  ${String(r.n ?? '').padStart(5)}  ${fmt(r.ms).padStart(9)}  ${fmt(r.numpyMs).padStart(9)}  ${r.ratio ? r.ratio.toFixed(2).padStart(6) : '     —'}  ${r.note ?? ''}`);
  }
  console.log(`\n(ratio = ours / NumPy; targets: compute ≤ 1.0 at n=4096, whole job ≤ 0.8, stall ≤ ~50 ms; bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (jsonFile) {
    fs.mkdirSync(path.dirname(path.resolve(jsonFile)), { recursive: true });
    fs.writeFileSync(jsonFile, JSON.stringify(rows, null, 1) + '\n');
    console.log(`rows written to ${jsonFile}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
