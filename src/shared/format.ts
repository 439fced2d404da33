/** Number formatting for the tooltip, the detail panel, the screen-reader text and CSV. */

/** A weight as `15.0% (0.150)`. */
export function formatWeight(w: number): string {
  if (!Number.isFinite(w)) return formatNumber(w);
  return `${(w * 100).toFixed(1)}% (${w.toFixed(3)})`;
}

/** About 4 significant digits; masked cells (−∞) say so. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === -Infinity) return '−∞ (masked)';
  if (v === Infinity) return '+∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(+v.toPrecision(4));
  return v.toExponential(3);
}

/**
 * Shortest decimal that reads back as the same float32: the exact value the host holds, without the
 * float64 noise of String(Math.fround(0.15)) = "0.15000000596046448". NumPy reads inf/-inf/nan.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/**
 * The pinned row's output in words. With non-negative (e.g. one-hot) values the entries are shares of their sum:
 * "48.8% warm, 51.2% cool"; otherwise the numbers themselves: "warm 0.4877, cool -1.2".
 */
export function describeOutput(output: readonly number[], valueLabels: readonly string[] | undefined, nonNegative: boolean): string {
  const name = (i: number) => (valueLabels && i < valueLabels.length ? valueLabels[i] : `dim ${i}`);
  const sum = output.reduce((a, b) => a + b, 0);
  if (nonNegative && sum > 0 && output.every((v) => v >= 0)) {
    return output.map((v, i) => `${((v / sum) * 100).toFixed(1)}% ${name(i)}`).join(', ');
  }
  return output.map((v, i) => `${name(i)} ${formatNumber(v)}`).join(', ');
}

/** The scale factor in the words of the formula: 1/√3, 1/3, none, or the number. */
export function describeScale(factor: number): string {
  if (factor === 1) return 'none';
  if (!(factor > 0)) return formatNumber(factor);
  // 1/d first: 1/√9 and 1/3 are the same number, and the shorter form reads better.
  const d = 1 / factor;
  if (Math.abs(d - Math.round(d)) < 1e-6 * d) return `1/${Math.round(d)}`;
  const d2 = 1 / (factor * factor);
  if (Math.abs(d2 - Math.round(d2)) < 1e-6 * d2 && Math.round(d2) > 1) return `1/√${Math.round(d2)}`;
  return formatNumber(factor);
}
