/**
 * IEEE 754 half precision (NumPy's float16) to and from float32.
 * Decoding goes through a 65,536-entry table built once: a table lookup per value decodes 16M values in tens of
 * milliseconds, where bit-twiddling per value with Math.pow costs seconds.
 */

import { nativeWiden } from './compute/native';

let table: Float32Array | undefined;
let tableBits: Uint32Array | undefined;

function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The float32 value of every float16 bit pattern. */
export function float16Table(): Float32Array {
  if (!table) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = halfBitsToNumber(h);
    table = t;
  }
  return table;
}

/** Widens float16 bit patterns (already in native byte order) to a new Float32Array. */
export function decodeFloat16(bits: Uint16Array): Float32Array {
  // Copying float32 bit patterns as integers skips a float conversion per value and keeps NaN payloads.
  tableBits ??= new Uint32Array(float16Table().buffer);
  const t = tableBits;
  const fast = nativeWiden(bits, t);
  if (fast) return fast;
  const n = bits.length;
  const out = new Float32Array(n);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) o[i] = t[bits[i]];
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to x (round half to even, as NumPy's astype(float16) does). */
export function toFloat16Bits(x: number): number {
  f32[0] = x; // NumPy rounds float32 → float16; going through float32 first matches it for float32 input
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa right, rounding half to even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  const m = mant >>> 13;
  const rest = mant & 0x1fff;
  let out = sign | (e << 10) | m;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) out++; // carries into the exponent correctly, up to Inf
  return out;
}

/** Narrows numbers to float16 bit patterns. */
export function encodeFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
  return out;
}
