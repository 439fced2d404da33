// Small file helpers for the journeys: write a float32 .npy the way NumPy does (so a 4096×4096 map need not be
// committed), and read a PNG's signature and size (to check an exported picture without an image library).
import * as fs from 'fs';

/** Writes a C-order float32 .npy (format 1.0) of `rows × cols` with value(i, j), in row chunks (64 MB never in memory twice). */
export function writeFloat32Npy(file: string, rows: number, cols: number, value: (i: number, j: number) => number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // The magic (6) + version (2) + length (2) + header + '\n' is padded with spaces to a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93]).copy(prefix, 0);
  prefix.write('NUMPY', 1, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const tmp = `${file}.writing`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([prefix, Buffer.from(header, 'latin1')]));
    const chunkRows = Math.max(1, Math.floor((1 << 22) / cols));
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const r1 = Math.min(rows, r0 + chunkRows);
      const chunk = new Float32Array((r1 - r0) * cols);
      for (let i = r0; i < r1; i++) for (let j = 0; j < cols; j++) chunk[(i - r0) * cols + j] = value(i, j);
      fs.writeSync(fd, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  } finally {
    fs.closeSync(fd);
  }
  // A rename replaces the file in one step, as a training script saving a checkpoint typically does.
  fs.renameSync(tmp, file);
}

export interface PngInfo { width: number; height: number; bytes: number }

/** Checks the PNG signature and the IHDR chunk; throws naming the problem otherwise. */
export function readPngInfo(file: string): PngInfo {
  const data = fs.readFileSync(file);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length < 33 || !data.subarray(0, 8).equals(signature)) throw new Error(`${file}: not a PNG (bad signature)`);
  if (data.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${file}: the first chunk is not IHDR`);
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}

/** All decimal numbers in a text (for reading values out of a tooltip whatever its layout). */
export function numbersIn(text: string): number[] {
  return (text.match(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi) ?? []).map(Number);
}

/** A fixed pseudo-random value in [−1, 1) for element e of array `seed` (a hash, so files are written row by row). */
export function hashValue(seed: number, e: number): number {
  let h = Math.imul(e ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return Math.fround(h / 2 ** 31 - 1);
}
