/**
 * The narrow float types of safetensors dumps, widened to float32 exactly.
 * bfloat16 is the top half of a float32, so widening is a 16-bit shift done on a Uint32Array view (no float
 * conversion, NaN payloads kept). The 8-bit floats (OCP FP8: E4M3FN and E5M2) go through a 256-entry table of
 * float32 bit patterns built once. float16 has its own 65,536-entry table in float16.ts.
 */

import { nativeFor, nativeWiden } from './compute/native';

/** Widens bfloat16 bit patterns (native byte order) to a new Float32Array. */
export function decodeBFloat16(bits: Uint16Array): Float32Array {
  const fast = nativeWiden(bits);
  if (fast) return fast;
  const n = bits.length;
  const out = new Float32Array(n);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) o[i] = bits[i] << 16;
  return out;
}

export type Float8Kind = 'float8_e4m3fn' | 'float8_e5m2';

/** E4M3FN: bias 7, no infinities, only S.1111.111 is NaN (max ±448). */
function e4m3fn(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const man = b & 7;
  if (exp === 0xf && man === 7) return NaN;
  return sign * (exp === 0 ? (man / 8) * 2 ** -6 : (1 + man / 8) * 2 ** (exp - 7));
}

/** E5M2: bias 15, IEEE-like (exponent 31 is ±Inf or NaN). */
function e5m2(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 2) & 0x1f;
  const man = b & 3;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (exp === 0 ? (man / 4) * 2 ** -14 : (1 + man / 4) * 2 ** (exp - 15));
}

const tables = new Map<Float8Kind, Uint32Array>();

/** The float32 bit pattern of every 8-bit value of `kind`. */
export function float8Table(kind: Float8Kind): Uint32Array {
  let t = tables.get(kind);
  if (!t) {
    const f = new Float32Array(256);
    for (let b = 0; b < 256; b++) f[b] = kind === 'float8_e4m3fn' ? e4m3fn(b) : e5m2(b);
    t = new Uint32Array(f.buffer);
    tables.set(kind, t);
  }
  return t;
}

/** Widens 8-bit float bytes to a new Float32Array. */
export function decodeFloat8(bytes: Uint8Array, kind: Float8Kind): Float32Array {
  const t = float8Table(kind);
  const fast = nativeWiden(bytes, t);
  if (fast) return fast;
  const n = bytes.length;
  const out = new Float32Array(n);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) o[i] = t[bytes[i]];
  return out;
}

/**
 * Widens narrow float codes into `out` (at least src.length long) instead of a new array: the dump workers
 * reuse one buffer for every head. `table` as for the addon: none for bfloat16, float32 bit patterns otherwise.
 */
export function widenInto(src: Uint16Array | Uint8Array, out: Float32Array, table?: Uint32Array): void {
  let addon: ReturnType<typeof nativeFor>;
  try {
    addon = src.length >= 1 << 16 ? nativeFor(undefined) : undefined;
  } catch {
    addon = undefined; // 'native' asked for but missing: decoding still works without it
  }
  if (addon && typeof addon.widen === 'function') {
    addon.widen(src, out, table);
    return;
  }
  const n = src.length;
  const o = new Uint32Array(out.buffer, out.byteOffset, n);
  if (table) for (let i = 0; i < n; i++) o[i] = table[src[i]];
  else for (let i = 0; i < n; i++) o[i] = src[i] << 16;
}
