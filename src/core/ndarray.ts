/**
 * The array type every part of the core speaks: a shape, a NumPy dtype name, and a typed array in C order.
 * Pure: no vscode import (lint-enforced), so the CLI, workers and unit tests use it unchanged.
 */

/** NumPy dtype names as `inspect --json` prints them. */
export type DType =
  | 'float16' | 'float32' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool'
  // Read from safetensors; widened to Float32Array on read like float16 (names as ml_dtypes spells them).
  | 'bfloat16' | 'float8_e4m3fn' | 'float8_e5m2';

/**
 * NumPy string dtypes, named as NumPy writes them: '<U5'/'>U5' (UCS-4, 5 characters), '|S3' (3 bytes).
 * Such arrays label a heatmap (tokens); they are never drawn as one, so they are a separate type from NdArray.
 */
export type StringDType = `<U${number}` | `>U${number}` | `|S${number}`;

/** Any dtype a file can hold: numbers or strings. */
export type AnyDType = DType | StringDType;

export function isStringDType(d: string): d is StringDType {
  return /^(<U|>U|\|S)\d+$/.test(d);
}

/**
 * Element storage. float16 is widened to Float32Array on read; int64/uint64 are BigInt64Array/BigUint64Array;
 * bool is Uint8Array (0/1). Every array owns its buffer exactly (byteOffset 0, byteLength = length * itemsize),
 * because a typed array posted to a webview sends its whole underlying buffer.
 */
export type TypedArray =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface NdArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** C-order elements; length = product(shape) (1 for a 0-d array). */
  readonly data: TypedArray;
}

/** A NumPy string array: trailing NULs stripped as NumPy does, bytes ('|S') decoded as UTF-8 with U+FFFD. */
export interface StringArray {
  readonly shape: readonly number[];
  readonly dtype: StringDType;
  /** C-order elements; length = product(shape). */
  readonly strings: string[];
}

/** Where in a text file a problem is, for squiggles and `error:` lines. 1-based line and column. */
export interface TextLocation {
  readonly line: number;
  readonly column: number;
  /** 0-based offsets into the text, for editor ranges. */
  readonly offset: number;
  readonly length: number;
}

/**
 * The one error type the core throws for bad input. Its message already names the file and the problem,
 * so callers can show `error: ${message}` without a stack trace.
 */
export class MatrixError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly location?: TextLocation,
  ) {
    super(file ? `${file}${location ? `:${location.line}:${location.column}` : ''}: ${message}` : message);
    this.name = 'MatrixError';
  }
  /** The problem alone, without the file prefix (for diagnostics shown inside that file). */
  get problem(): string {
    const prefix = this.file ? `${this.file}${this.location ? `:${this.location.line}:${this.location.column}` : ''}: ` : '';
    return this.message.startsWith(prefix) ? this.message.slice(prefix.length) : this.message;
  }
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Any array as float64 numbers (for maths and statistics). */
export function toFloat64(a: NdArray): Float64Array {
  const src = a.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}

/** Any array as float32 numbers (for the compute kernels and the webview). */
export function toFloat32(a: NdArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  const src = a.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}
