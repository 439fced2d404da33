/**
 * Explicit masks for the streamed path, read by rows: from an array in memory, or from a mask file ([n_q, n_k] or
 * [H, n_q, n_k] booleans / 0-1 integers) one row per positional read, so a 65,536² mask never sits in memory.
 */
import type { MatrixHandle } from '../matrixFile';
import { MatrixError } from '../ndarray';
import type { NdArray } from '../ndarray';
import type { MaskRows } from './types';

/** 0/1 bytes from any numeric row; anything else is refused, naming where. */
function toBytes(data: NdArray['data'], out: Uint8Array, at: number, where: () => string): void {
  for (let j = 0; j < data.length; j++) {
    const x = Number(data[j]);
    if (x !== 0 && x !== 1) throw new MatrixError(`mask must hold only 0/1 or true/false, found ${x} at ${where()}, column ${j}`);
    out[at + j] = x;
  }
}

/** Rows of a mask already in memory ([n_q, n_k] bytes, 1 = attend). */
export function memoryMask(data: Uint8Array, nq: number, nk: number): MaskRows {
  if (data.length !== nq * nk) throw new MatrixError(`mask has ${data.length} cells but scores are ${nq}×${nk}`);
  return {
    nq, nk,
    rows: async (r0, r1) => data.slice(r0 * nk, r1 * nk),
  };
}

/**
 * Rows of a mask file, read lazily: [n_q, n_k], or [H, n_q, n_k] with `head` picking the slice. The shape is checked
 * against the scores once, here; values are checked row by row as they are read.
 */
export function fileMask(handle: MatrixHandle, nq: number, nk: number, head?: number): MaskRows {
  const shape = handle.info.shape;
  const perHead = shape.length === 3;
  const ok = perHead ? shape[1] === nq && shape[2] === nk && head !== undefined && head < shape[0]
    : shape.length === 2 && shape[0] === nq && shape[1] === nk;
  if (!ok) {
    throw new MatrixError(`mask is ${shape.join('×') || 'a scalar'} but scores are ${nq}×${nk}${perHead ? ` (head ${head ?? '?'})` : ''}`, handle.ref);
  }
  return {
    nq, nk,
    async rows(r0, r1) {
      const out = new Uint8Array((r1 - r0) * nk);
      for (let i = r0; i < r1; i++) {
        const row = await handle.read(perHead ? [head as number, i] : [i]);
        toBytes(row.data, out, (i - r0) * nk, () => `${handle.ref} row ${i}`);
      }
      return out;
    },
  };
}
