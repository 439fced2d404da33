/** Timing helpers shared by the benches (scripts/bench.ts, benchFiles.ts). */

/** The median; the mean of the middle two for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median milliseconds of `runs` calls of `f`, after one untimed call when `warmUp` (JIT, workers, memory growth). */
export async function timeMedian(runs: number, f: () => unknown, warmUp = false): Promise<number> {
  if (warmUp) await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}
