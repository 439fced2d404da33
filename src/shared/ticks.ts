/** Legend tick layout: "nice" 1-2-5 steps on linear scales, powers of ten on log scales. */
import { unit, type ColorScale } from './colormap';

/** The 1·10ᵏ, 2·10ᵏ or 5·10ᵏ step giving about `count` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const span = Math.abs(hi - lo);
  if (!(span > 0) || !Number.isFinite(span)) return 0;
  const raw = span / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * p;
}

/** Multiples of the nice step inside [lo, hi], computed by integer multiples so 0.30000000000000004 cannot appear. */
export function linearTicks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(lo, hi, count);
  if (step === 0) return [lo];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(+(i * step).toFixed(decimals) || 0);
  return ticks;
}

/** Powers of ten in [lo, hi] (lo > 0), thinned to at most `count`; falls back to linear ticks for a narrow range. */
export function logTicks(lo: number, hi: number, count: number): number[] {
  if (!(lo > 0) || !(hi > lo)) return linearTicks(lo, hi, count);
  const e0 = Math.ceil(Math.log10(lo) - 1e-9);
  const e1 = Math.floor(Math.log10(hi) + 1e-9);
  if (e1 < e0) return linearTicks(lo, hi, count);
  const every = Math.max(1, Math.ceil((e1 - e0 + 1) / Math.max(1, count)));
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e += every) ticks.push(Number(`1e${e}`));
  return ticks;
}

export interface Tick {
  value: number;
  /** Position along the legend, 0 … 1. */
  t: number;
  label: string;
}

/** Ticks for a colour scale's legend. Diverging scales always include 0, their centre. */
export function scaleTicks(s: ColorScale, count = 5): Tick[] {
  let values: number[];
  if (s.mode === 'log' && !s.diverging) values = logTicks(s.lo, s.hi, count);
  else if (s.mode === 'log' && s.diverging) {
    const pos = logTicks(s.hi * 1e-3, s.hi, Math.max(1, Math.floor(count / 2)));
    values = [...pos.map((v) => -v).reverse(), 0, ...pos];
  } else values = linearTicks(s.lo, s.hi, count);
  return values.map((value) => ({ value, t: unit(value, s), label: tickLabel(value) }));
}

/** Short tick text: 0.25, 1e-3, 1.5k-free plain numbers up to 4 significant digits. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(+v.toPrecision(4));
  const e = Math.floor(Math.log10(a));
  const m = +(v / Math.pow(10, e)).toPrecision(3);
  return m === 1 ? `1e${e}` : m === -1 ? `-1e${e}` : `${m}e${e}`;
}
