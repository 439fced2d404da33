/**
 * Head-metric benchmark, called by scripts/bench.ts (or run alone: node out/scripts/benchHeads.js [--runs N]).
 * All metrics (with tokens) of every head of a [12, 12, 1024, 1024] float32 dump written to os.tmpdir(), read one
 * head at a time as the CLI and the extension do; NumPy computes the same metrics on the same file in the same run.
 * Target: ≤ 2 s (issue 16).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMatrix } from '../src/core/matrixFile';
import { computeHeadTable, headSourceFromHandle } from '../src/core/heads';
import { median } from './timing';

export interface HeadsBenchRow { name: string; n: number; ms: number; numpyMs: number | null; note: string }

const [L, H, N] = [12, 12, 1024];

/** Causal softmax rows of random scores, head by head, so the 604 MB never sit in memory at once. */
function writeDump(file: string): void {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${L}, ${H}, ${N}, ${N}), }`;
  const text = dict.padEnd(128 - 10 - 1, ' ') + '\n';
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([preamble, Buffer.from(text, 'latin1')]));
    const head = new Float32Array(N * N);
    let s = 7;
    for (let k = 0; k < L * H; k++) {
      head.fill(0);
      const sharp = 1 + (k % 7);
      for (let i = 0; i < N; i++) {
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const w = Math.exp((sharp * s) / 4294967296);
          head[i * N + j] = w;
          sum += w;
        }
        for (let j = 0; j <= i; j++) head[i * N + j] /= sum;
      }
      fs.writeSync(fd, new Uint8Array(head.buffer));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A sequence of 512 random tokens said twice, so the token metrics have duplicates to find. */
function makeTokens(): string[] {
  let s = 11;
  const half = Array.from({ length: N / 2 }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return `t${s % 5000}`; });
  return [...half, ...half];
}

const NUMPY = String.raw`
import sys, json, time
import numpy as np
f, tokfile, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = np.array(json.load(open(tokfile)))
n = len(t)
eq = (t[None, :] == t[:, None]).astype(np.float32); np.fill_diagonal(eq, 0); dup = np.tril(eq)
ind = np.roll(dup, 1, axis=1); ind[:, 0] = 0; ind = np.tril(ind)
def run():
    d = np.load(f, mmap_mode='r')
    out = np.zeros((7,) + d.shape[:2])
    for l in range(d.shape[0]):
        for h in range(d.shape[1]):
            A = np.array(d[l, h])
            total = A.sum(dtype=np.float64)
            with np.errstate(divide='ignore', invalid='ignore'):
                out[0, l, h] = -np.where(A > 0, A * np.log(A), 0).sum(dtype=np.float64) / n
            out[1, l, h] = A.max(axis=1).mean(dtype=np.float64)
            out[2, l, h] = A[:, 0].mean(dtype=np.float64)
            out[3, l, h] = np.diagonal(A).mean(dtype=np.float64)
            out[4, l, h] = np.diagonal(A, -1).sum(dtype=np.float64) / total
            out[5, l, h] = (A * dup).sum(dtype=np.float64) / total
            out[6, l, h] = (A * ind).sum(dtype=np.float64) / total
    return out
ms = []
for _ in range(runs):
    t0 = time.perf_counter(); r = run(); ms.append((time.perf_counter() - t0) * 1000)
print(json.dumps({'ms': sorted(ms)[len(ms) // 2], 'entropy00': r[0, 0, 0], 'induction00': r[6, 0, 0]}))
`;

export async function benchHeads(runs = 5): Promise<HeadsBenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-bench-'));
  const file = path.join(dir, 'dump.npy');
  const tokFile = path.join(dir, 'tokens.json');
  try {
    writeDump(file);
    const tokens = makeTokens();
    fs.writeFileSync(tokFile, JSON.stringify(tokens));
    const once = async () => {
      const h = await openMatrix(file);
      try {
        return await computeHeadTable(headSourceFromHandle(h), { tokens });
      } finally {
        await h.close();
      }
    };
    const first = await once(); // warm-up: JIT and page cache
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await once();
      ms.push(performance.now() - t);
    }
    const np = spawnSync('python3', ['-c', NUMPY, file, tokFile, String(Math.max(1, Math.min(3, runs)))], { encoding: 'utf8', timeout: 600_000 });
    let numpyMs: number | null = null;
    let agree = '';
    try {
      const r = JSON.parse(np.stdout.trim().split('\n').pop() ?? '');
      numpyMs = r.ms;
      const e = first.metrics.entropy?.[0] ?? NaN;
      const ind = first.metrics.induction?.[0] ?? NaN;
      agree = Math.abs(e - r.entropy00) < 1e-5 && Math.abs(ind - r.induction00) < 1e-5 ? ', agrees with NumPy' : `, DISAGREES with NumPy (${e} vs ${r.entropy00})`;
    } catch {
      agree = ', NumPy unavailable';
    }
    const gib = (fs.statSync(file).size / 2 ** 30).toFixed(2);
    return [{
      name: 'heads: all 7 metrics of a dump (read lazily)', n: N, ms: median(ms), numpyMs,
      note: `[${L}, ${H}, ${N}, ${N}] float32 causal, ${gib} GiB, with tokens, median of ${runs}${agree}; target ≤ 2000 ms`,
    }];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  benchHeads(i >= 0 ? Number(process.argv[i + 1]) : 5).then(
    (rs) => { for (const r of rs) process.stdout.write(`${r.name}  n=${r.n}  ours ${r.ms.toFixed(0)} ms  NumPy ${r.numpyMs?.toFixed(0) ?? '—'} ms  ${r.note}\n`); },
    (e) => { process.stderr.write(`error: ${String(e)}\n`); process.exit(1); },
  );
}
