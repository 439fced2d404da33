/**
 * Max-pooling for overviews and small multiples. Pooling keeps the peak of each block, so a single sharp
 * weight in a 4096×4096 map still shows up in a 512×512 overview (a mean would wash it out).
 * Signed data is pooled by largest magnitude (sign kept), so strong negative scores survive too.
 */
import type { Matrix2D } from './types';

export interface Pooled extends Matrix2D {
  /** Full-resolution rows / cols of the source matrix. */
  srcRows: number;
  srcCols: number;
  /** Block size in source cells (1 = full resolution). */
  blockRows: number;
  blockCols: number;
}

/** Block side so that `n` cells fit in at most `maxSide` blocks. */
export function blockSize(n: number, maxSide: number): number {
  return Math.max(1, Math.ceil(n / Math.max(1, Math.floor(maxSide))));
}

/** True when any finite value is negative (then pooling keeps magnitudes and the map is diverging). */
export function hasNegative(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] < 0 && data[i] !== -Infinity) return true;
  return false;
}

/**
 * A max-pool in progress: blocks of blockRows × blockCols source cells, filled row band by row band (poolRowsInto),
 * so a matrix never held whole (a difference of two streamed heads) pools by the same rule as one in memory.
 */
export interface PoolAccumulator extends Pooled {
  /** Signed pooling: the magnitude of each block's winner so far (−1: none yet). */
  mag?: Float32Array;
}

/** An empty pool of an srcRows × srcCols matrix so neither side exceeds `maxSide`. */
export function poolAccumulator(srcRows: number, srcCols: number, maxSide: number, signed: boolean): PoolAccumulator {
  const br = blockSize(srcRows, maxSide);
  const bc = blockSize(srcCols, maxSide);
  const rows = Math.ceil(srcRows / br);
  const cols = Math.ceil(srcCols / bc);
  const data = new Float32Array(rows * cols).fill(-Infinity);
  return { rows, cols, data, srcRows, srcCols, blockRows: br, blockCols: bc, mag: signed ? new Float32Array(rows * cols).fill(-1) : undefined };
}

/**
 * Pool source rows [row0, row0 + n) — given as `src`, n rows of srcCols cells — into `p`. Each output cell is the
 * max (or signed max-magnitude when `p.mag`) of its block. Non-finite cells (masked −∞, NaN) only win when the whole
 * block is non-finite, so a causal mask does not blank the overview.
 */
export function poolRowsInto(p: PoolAccumulator, src: Float32Array, row0: number, n: number): void {
  const { blockRows: br, blockCols: bc, cols, srcCols, data: out, mag } = p;
  // Hot loop (16M cells for a 4096² map): plain comparisons, no calls. NaN compares false and so never wins;
  // −∞ (masked) only stays where a whole block is masked. A block of only NaN shows as −∞: both are drawn masked.
  if (!mag) {
    for (let r = 0; r < n; r++) {
      const orow = (((row0 + r) / br) | 0) * cols;
      const base = r * srcCols;
      for (let oc = 0; oc < cols; oc++) {
        const c1 = base + Math.min(srcCols, (oc + 1) * bc);
        let best = out[orow + oc];
        for (let i = base + oc * bc; i < c1; i++) {
          const v = src[i];
          if (v > best) best = v;
        }
        out[orow + oc] = best;
      }
    }
  } else {
    // Largest magnitude among finite values (|−∞| would otherwise win every block of a causal score map).
    for (let r = 0; r < n; r++) {
      const orow = (((row0 + r) / br) | 0) * cols;
      const base = r * srcCols;
      for (let oc = 0; oc < cols; oc++) {
        const c1 = base + Math.min(srcCols, (oc + 1) * bc);
        let best = out[orow + oc];
        let bestMag = mag[orow + oc];
        for (let i = base + oc * bc; i < c1; i++) {
          const v = src[i];
          const a = v < 0 ? -v : v;
          if (a > bestMag && a !== Infinity) {
            bestMag = a;
            best = v;
          } else if (v === Infinity && bestMag !== Infinity) {
            bestMag = Infinity;
            best = v;
          }
        }
        out[orow + oc] = best;
        mag[orow + oc] = bestMag;
      }
    }
  }
}

/**
 * Pool `m` so neither side exceeds `maxSide`: the max (or signed max-magnitude when `signed`) of each block, by
 * poolRowsInto's rule.
 */
export function maxPool(m: Matrix2D, maxSide: number, signed = hasNegative(m.data)): Pooled {
  if (blockSize(m.rows, maxSide) === 1 && blockSize(m.cols, maxSide) === 1) {
    return { rows: m.rows, cols: m.cols, data: m.data.slice(), srcRows: m.rows, srcCols: m.cols, blockRows: 1, blockCols: 1 };
  }
  const p = poolAccumulator(m.rows, m.cols, maxSide, signed);
  poolRowsInto(p, m.data, 0, m.rows);
  const { mag: _mag, ...pooled } = p;
  return pooled;
}

/** The pooled winner of `best` and `v`: finite beats non-finite; −∞ (masked) beats NaN (broken). */
function better(best: number, v: number, signed: boolean): number {
  if (Number.isNaN(v)) return best;
  if (Number.isNaN(best)) return v;
  if (!Number.isFinite(v)) {
    // +∞ is a real (if broken) peak: keep it; −∞ only wins over nothing.
    return v === Infinity ? v : best;
  }
  if (best === -Infinity) return v;
  if (signed) return Math.abs(v) > Math.abs(best) ? v : best;
  return v > best ? v : best;
}

/**
 * Max-pool (or nearest-upsample) `m` to exactly `outRows × outCols`: used for grid small multiples, which all
 * share one size. Output cell i covers source rows ⌊i·R/outRows⌋ … ⌈(i+1)·R/outRows⌉−1 (at least one row).
 */
export function poolToSize(m: Matrix2D, outRows: number, outCols: number, signed = hasNegative(m.data)): Float32Array {
  const out = new Float32Array(outRows * outCols).fill(NaN);
  const rs = spans(m.rows, outRows);
  const cs = spans(m.cols, outCols);
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < outCols; j++) {
      let best = NaN;
      for (let r = rs.start[i]; r < rs.end[i]; r++) {
        const base = r * m.cols;
        for (let c = cs.start[j]; c < cs.end[j]; c++) best = better(best, m.data[base + c], signed);
      }
      out[i * outCols + j] = best;
    }
  }
  return out;
}

/** Source index ranges [start, end) covered by each output cell (at least one source index each). */
export interface Spans { start: Int32Array; end: Int32Array }

/** The spans of `n` source indices pooled to `out` cells (poolToSize's, and a dump grid's one-pass pooling). */
export function spans(n: number, out: number): Spans {
  const start = new Int32Array(out);
  const end = new Int32Array(out);
  for (let k = 0; k < out; k++) {
    const a = Math.min(Math.floor((k * n) / out), n - 1);
    start[k] = a;
    end[k] = Math.min(n, Math.max(a + 1, Math.ceil(((k + 1) * n) / out)));
  }
  return { start, end };
}

/** "4096×4096 shown as 512×512, max of 8×8 blocks", or undefined at full resolution. */
export function poolingNote(p: Pooled, signed: boolean): string | undefined {
  if (p.blockRows === 1 && p.blockCols === 1) return undefined;
  const how = signed ? 'largest magnitude' : 'max';
  return `${p.srcRows}×${p.srcCols} shown as ${p.rows}×${p.cols}, ${how} of ${p.blockRows}×${p.blockCols} blocks`;
}

/** Smallest and largest finite value, and how many cells are not finite. */
export function finiteRange(data: Float32Array): { min: number; max: number; nonFinite: number } {
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  // Hot loop: the non-finite tests run only on the rare values that would move min or max (NaN moves neither).
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) {
      if (v === -Infinity) {
        nonFinite++;
        continue;
      }
      min = v;
    }
    if (v > max) {
      if (v === Infinity) {
        nonFinite++;
        continue;
      }
      max = v;
    } else if (v !== v) nonFinite++;
  }
  if (min > max) return { min: 0, max: 0, nonFinite };
  return { min, max, nonFinite };
}

/** A copy of the rectangle [r0, r0+rows) × [c0, c0+cols) (an owning buffer, ready to post). */
export function sliceRegion(m: Matrix2D, r0: number, c0: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const start = (r0 + r) * m.cols + c0;
    out.set(m.data.subarray(start, start + cols), r * cols);
  }
  return out;
}
