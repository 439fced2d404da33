/**
 * Colour mapping: value → position t in [0, 1] → lookup table. The table is built from any interpolator
 * (d3-scale-chromatic in the webview) so this module stays free of browser-only packages and runs in tests.
 * The same numbers drive the 2D path (ImageData), the WebGL2 shader (as uniforms) and the legend.
 */
import { isDivergingKind, type ViewKind } from './types';

export const LUT_SIZE = 256;

/**
 * The sequential colour maps offered for weights: the values of the attentionInspector.colorMap setting, the
 * webview's Colours list (webview/colormaps.ts maps each to its d3 interpolator) and the host's validation.
 */
export const COLOR_MAP_NAMES = ['viridis', 'magma', 'inferno', 'plasma', 'cividis', 'blues', 'greys'] as const;
export type ColorMapName = (typeof COLOR_MAP_NAMES)[number];

export function isColorMapName(x: unknown): x is ColorMapName {
  return typeof x === 'string' && (COLOR_MAP_NAMES as readonly string[]).includes(x);
}

export type ScaleMode = 'linear' | 'log';

export interface ColorScale {
  diverging: boolean;
  mode: ScaleMode;
  /** Domain ends. Diverging scales are symmetric: lo = −hi. */
  lo: number;
  hi: number;
}

/** Parse d3's colour strings: "#rrggbb" (viridis…) or "rgb(r, g, b)" (RdBu…). */
export function parseColor(s: string): [number, number, number] {
  const hex = /^#([0-9a-f]{6})$/i.exec(s.trim());
  if (hex) {
    const n = parseInt(hex[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(s.trim());
  if (rgb) return [clampByte(+rgb[1]), clampByte(+rgb[2]), clampByte(+rgb[3])];
  return [0, 0, 0];
}

function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** RGBA lookup table of LUT_SIZE entries sampled at the centres of equal bins. */
export function buildLut(interpolate: (t: number) => string, size = LUT_SIZE): Uint8Array {
  const lut = new Uint8Array(size * 4);
  for (let i = 0; i < size; i++) {
    const [r, g, b] = parseColor(interpolate(size === 1 ? 0.5 : i / (size - 1)));
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

/**
 * The scale for a kind and its finite data range. Raw and scaled scores and differences are diverging and
 * centred on 0; so is any other kind whose values change sign (a signed output or plain array).
 */
export function chooseScale(kind: ViewKind, min: number, max: number, mode: ScaleMode): ColorScale {
  const diverging = isDivergingKind(kind) || (min < 0 && max > 0) || (max <= 0 && min < 0);
  if (diverging) {
    const a = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return { diverging, mode, lo: -a, hi: a };
  }
  if (mode === 'log') {
    const hi = max > 0 ? max : 1;
    // The smallest positive value, but not below hi·1e-6: log of a softmax tail would otherwise swamp the map.
    const lo = min > 0 ? Math.max(min, hi * 1e-6) : hi * 1e-6;
    return { diverging, mode, lo: lo < hi ? lo : hi / 10, hi };
  }
  return { diverging, mode, lo: min, hi: max > min ? max : min + 1 };
}

/** Constant for the symmetric log (symlog) used by diverging log scales: linear within ±hi·1e-3. */
export function symlogC(scale: ColorScale): number {
  return scale.hi * 1e-3;
}

/** Position in [0, 1] of a value on the scale; NaN for non-finite values (drawn in the mask colour). */
export function unit(v: number, s: ColorScale): number {
  if (v - v !== 0) return NaN;
  let t: number;
  if (s.diverging) {
    if (s.mode === 'log') {
      const c = symlogC(s);
      t = 0.5 + (Math.sign(v) * Math.log1p(Math.abs(v) / c)) / (2 * Math.log1p(s.hi / c));
    } else {
      t = 0.5 + v / (2 * s.hi);
    }
  } else if (s.mode === 'log') {
    t = v <= s.lo ? 0 : Math.log(v / s.lo) / Math.log(s.hi / s.lo);
  } else {
    t = (v - s.lo) / (s.hi - s.lo);
  }
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

/** Inverse of `unit` (for legend ticks placed at values). */
export function valueAt(t: number, s: ColorScale): number {
  if (s.diverging) {
    const x = 2 * t - 1;
    if (s.mode === 'log') {
      const c = symlogC(s);
      return Math.sign(x) * c * Math.expm1(Math.abs(x) * Math.log1p(s.hi / c));
    }
    return x * s.hi;
  }
  if (s.mode === 'log') return s.lo * Math.pow(s.hi / s.lo, t);
  return s.lo + t * (s.hi - s.lo);
}

/** LUT index of a value, or −1 for non-finite. */
export function lutIndex(v: number, s: ColorScale, size = LUT_SIZE): number {
  const t = unit(v, s);
  if (t !== t) return -1;
  return Math.min(size - 1, Math.floor(t * size));
}

/**
 * Colour `data` into RGBA pixels (the 2D canvas path). `mask` is the colour of non-finite cells (masked −∞).
 * Linear scales skip the general `unit` call: this loop runs over every overview cell on recolour.
 */
export function colorize(data: Float32Array, lut: Uint8Array, s: ColorScale, mask: readonly number[], out: Uint8ClampedArray): void {
  const size = lut.length / 4;
  const n = data.length;
  const linear = s.mode === 'linear';
  const lo = s.lo;
  const k = size / (s.hi - s.lo);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    const o = i * 4;
    let idx: number;
    if (v - v !== 0) idx = -1;
    else if (linear) {
      idx = ((v - lo) * k) | 0;
      if (idx < 0) idx = 0;
      else if (idx >= size) idx = size - 1;
    } else idx = lutIndex(v, s, size);
    if (idx < 0) {
      out[o] = mask[0];
      out[o + 1] = mask[1];
      out[o + 2] = mask[2];
      out[o + 3] = mask[3];
    } else {
      const l = idx * 4;
      out[o] = lut[l];
      out[o + 1] = lut[l + 1];
      out[o + 2] = lut[l + 2];
      out[o + 3] = 255;
    }
  }
}
