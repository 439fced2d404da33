/**
 * .npz: a zip of NAME.npy members, stored or deflated, as numpy.savez / savez_compressed write them.
 * A small central-directory reader (zip64 included: numpy always writes zip64 local headers, so sizes come from
 * the central directory). Stored members are read in place with positional reads; deflated members have their header
 * inflated alone, and the whole member is inflated once when data is first read, by Node's zlib with the output
 * capped at the declared size (itself capped by maxBytes), so a zip bomb is an error, not an out-of-memory.
 */
import * as zlib from 'zlib';
import { promisify } from 'util';
import { MatrixError } from './ndarray';
import { DEFAULT_MAX_BYTES, MAX_HEADER_SIZE, npyPreamble } from './npy';
import type { ByteSource } from './npy';

const inflateRaw = promisify(zlib.inflateRaw) as (buf: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>;

export interface ZipEntry {
  /** Name inside the zip, e.g. "q.npy". */
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  flags: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
/** A central directory larger than this is not an .npz anyone wrote; refuse rather than allocate. */
const MAX_CENTRAL_DIRECTORY = 16 << 20;
const MAX_ENTRIES = 100000;

function u16(b: Uint8Array, o: number): number { return b[o] | (b[o + 1] << 8); }
function u32(b: Uint8Array, o: number): number { return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000; }
function u64(b: Uint8Array, o: number, file: string): number {
  const v = u32(b, o) + u32(b, o + 4) * 0x100000000;
  if (!Number.isSafeInteger(v)) throw new MatrixError('invalid .npz: a zip64 size or offset is too large', file);
  return v;
}

async function readAt(source: ByteSource, position: number, length: number): Promise<Uint8Array> {
  const b = new Uint8Array(length);
  await source.readInto(b, position);
  return b;
}

/** Lists the entries of a zip from its central directory. */
export async function readZipDirectory(source: ByteSource, file: string): Promise<ZipEntry[]> {
  const size = source.size;
  if (size < 22) throw new MatrixError(`not an .npz file (${size} bytes is too small for a zip)`, file);
  const tailLen = Math.min(size, 22 + 0xffff + 20);
  const tailStart = size - tailLen;
  const tail = await readAt(source, tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === EOCD_SIG && i + 22 + u16(tail, i + 20) <= tail.length) { eocd = i; break; }
  }
  if (eocd < 0) throw new MatrixError('not an .npz file (no zip end-of-central-directory record)', file);
  let entries = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (u16(tail, eocd + 4) !== 0 || u16(tail, eocd + 6) !== 0) throw new MatrixError('invalid .npz: multi-disk zips are not supported', file);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(tail, loc) !== ZIP64_LOCATOR_SIG) throw new MatrixError('invalid .npz: zip64 locator missing', file);
    const z64Offset = u64(tail, loc + 8, file);
    if (z64Offset + 56 > size) throw new MatrixError('invalid .npz: zip64 end record out of range', file);
    const z = await readAt(source, z64Offset, 56);
    if (u32(z, 0) !== ZIP64_EOCD_SIG) throw new MatrixError('invalid .npz: bad zip64 end record', file);
    entries = u64(z, 32, file);
    cdSize = u64(z, 40, file);
    cdOffset = u64(z, 48, file);
  }
  if (entries > MAX_ENTRIES) throw new MatrixError(`invalid .npz: claims ${entries} members`, file);
  if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > size) {
    throw new MatrixError(`invalid .npz: central directory (${cdSize} bytes at ${cdOffset}) does not fit the ${size}-byte file`, file);
  }
  const cd = await readAt(source, cdOffset, cdSize);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > cd.length || u32(cd, p) !== CDH_SIG) throw new MatrixError(`invalid .npz: central directory entry ${n} is damaged`, file);
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    let compressedSize = u32(cd, p + 20);
    let uncompressedSize = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let localHeaderOffset = u32(cd, p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new MatrixError(`invalid .npz: central directory entry ${n} is damaged`, file);
    const name = new TextDecoder('utf-8').decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (e + 4 + len > extraEnd) break;
      if (id === 0x0001) {
        let q = e + 4;
        const need = (cond: boolean): number | undefined => {
          if (!cond) return undefined;
          if (q + 8 > e + 4 + len) throw new MatrixError(`invalid .npz: zip64 field of "${name}" is too short`, file);
          const v = u64(cd, q, file);
          q += 8;
          return v;
        };
        uncompressedSize = need(uncompressedSize === 0xffffffff) ?? uncompressedSize;
        compressedSize = need(compressedSize === 0xffffffff) ?? compressedSize;
        localHeaderOffset = need(localHeaderOffset === 0xffffffff) ?? localHeaderOffset;
      }
      e += 4 + len;
    }
    out.push({ name, method, compressedSize, uncompressedSize, localHeaderOffset, flags });
    p = end;
  }
  return out;
}

/** The member name a user types: "q" or "q.npy" both address q.npy. */
export function findMember(entries: readonly ZipEntry[], member: string, file: string): ZipEntry {
  const hit = entries.find((e) => e.name === member) ?? entries.find((e) => e.name === `${member}.npy`);
  if (!hit) {
    const names = entries.map((e) => memberName(e.name));
    throw new MatrixError(`no member "${member}" (members: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`, file);
  }
  return hit;
}

export function memberName(zipName: string): string {
  return zipName.endsWith('.npy') ? zipName.slice(0, -4) : zipName;
}

/** Where a member's bytes start: after its local header (whose own name and extra lengths may differ). */
async function dataStart(source: ByteSource, e: ZipEntry, file: string): Promise<number> {
  if (e.localHeaderOffset + 30 > source.size) throw new MatrixError(`invalid .npz: member "${e.name}" is out of range`, file);
  const lh = await readAt(source, e.localHeaderOffset, 30);
  if (u32(lh, 0) !== LFH_SIG) throw new MatrixError(`invalid .npz: local header of "${e.name}" is damaged`, file);
  const start = e.localHeaderOffset + 30 + u16(lh, 26) + u16(lh, 28);
  if (start + e.compressedSize > source.size) {
    throw new MatrixError(`truncated .npz: member "${e.name}" needs ${e.compressedSize} bytes at ${start}, file has ${source.size}`, file);
  }
  return start;
}

/** A window onto part of another source: a stored member inside the .npz file. */
class WindowSource implements ByteSource {
  constructor(private readonly base: ByteSource, private readonly offset: number, readonly size: number, private readonly file: string) {}
  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (position < 0 || position + target.length > this.size) throw new MatrixError('unexpected end of member data', this.file);
    await this.base.readInto(target, this.offset + position);
  }
}

function checkMember(e: ZipEntry, file: string): void {
  if (e.flags & 1) throw new MatrixError(`member "${e.name}" is encrypted`, file);
  if (e.method !== 0 && e.method !== 8) {
    throw new MatrixError(`member "${e.name}" uses zip compression method ${e.method} (only stored and deflated are supported)`, file);
  }
}

/**
 * A ByteSource with the member's uncompressed .npy bytes. Stored members are windows onto the file (lazy);
 * deflated members are inflated here once, bounded by maxBytes and by their declared size.
 */
export async function openMember(source: ByteSource, e: ZipEntry, file: string, maxBytes = DEFAULT_MAX_BYTES): Promise<ByteSource> {
  checkMember(e, file);
  const start = await dataStart(source, e, file);
  if (e.method === 0) {
    if (e.compressedSize !== e.uncompressedSize) throw new MatrixError(`invalid .npz: stored member "${e.name}" has two different sizes`, file);
    return new WindowSource(source, start, e.compressedSize, file);
  }
  // Only the header is inflated now; the whole member is inflated (once, bounded) when data is first read.
  const prefix = await memberPrefix(source, e, file, Math.min(e.uncompressedSize, 12 + MAX_HEADER_SIZE));
  return new DeflatedMemberSource(source, e, start, prefix, file, maxBytes);
}

/** A deflated member: serves header reads from an inflated prefix, inflates the rest on first need. */
class DeflatedMemberSource implements ByteSource {
  private whole: Promise<Uint8Array> | undefined;
  /** Reads ending before this offset are header reads, served from the prefix; data always comes from the full,
   * checked inflate, so a member that inflates past its declared size is refused even when its data is tiny. */
  private readonly headerEnd: number;
  constructor(
    private readonly source: ByteSource, private readonly e: ZipEntry, private readonly start: number,
    private readonly prefix: Uint8Array, private readonly file: string, private readonly maxBytes: number,
  ) {
    let end = 0;
    try {
      const p = npyPreamble(prefix.subarray(0, 12), file);
      end = p.headerStart + p.headerLength;
    } catch {
      end = Math.min(prefix.length, 12); // not a .npy: readNpyHeader will say so from these bytes
    }
    this.headerEnd = Math.min(end, prefix.length);
  }
  get size(): number { return this.e.uncompressedSize; }
  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (position < 0 || position + target.length > this.size) throw new MatrixError('unexpected end of member data', this.file);
    if (position + target.length <= this.headerEnd) {
      target.set(this.prefix.subarray(position, position + target.length));
      return;
    }
    this.whole ??= inflateMember(this.source, this.e, this.start, this.file, this.maxBytes);
    const all = await this.whole;
    target.set(all.subarray(position, position + target.length));
  }
}

async function inflateMember(source: ByteSource, e: ZipEntry, start: number, file: string, maxBytes: number): Promise<Uint8Array> {
  // Some header and metadata overhead beyond the array itself is allowed on top of maxBytes.
  const limit = maxBytes + MAX_HEADER_SIZE + 64;
  if (e.uncompressedSize > limit) {
    throw new MatrixError(`member "${e.name}" inflates to ${e.uncompressedSize} bytes, over the limit of ${maxBytes}`, file);
  }
  if (e.compressedSize > limit) throw new MatrixError(`member "${e.name}" is ${e.compressedSize} bytes compressed, over the limit`, file);
  const compressed = await readAt(source, start, e.compressedSize);
  let out: Buffer;
  try {
    // One byte over the declared size is enough to detect a member that lies about it.
    out = await inflateRaw(compressed, { maxOutputLength: Math.max(1, e.uncompressedSize + 1) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new MatrixError(`member "${e.name}" inflates to more than its declared ${e.uncompressedSize} bytes (zip bomb?)`, file);
    }
    throw new MatrixError(`member "${e.name}" is damaged (${(err as Error).message})`, file);
  }
  if (out.length !== e.uncompressedSize) {
    throw new MatrixError(`member "${e.name}" inflates to ${out.length} bytes but declares ${e.uncompressedSize}`, file);
  }
  return out;
}

/**
 * The first bytes of a member (enough for its .npy header) without inflating all of it: listing a bundle of
 * big compressed members stays cheap. Sync-flush decoding accepts a truncated deflate stream.
 */
export async function memberPrefix(source: ByteSource, e: ZipEntry, file: string, want: number): Promise<Uint8Array> {
  checkMember(e, file);
  const start = await dataStart(source, e, file);
  if (e.method === 0) {
    const n = Math.min(want, e.compressedSize);
    return readAt(source, start, n);
  }
  // Deflate expands at most ~1032:1, so these inputs bound the output; an incompressible header needs <= ~10 KB.
  let got: Uint8Array = new Uint8Array(0);
  for (const inputLen of [1024, 16384]) {
    const n = Math.min(inputLen, e.compressedSize);
    const chunk = await readAt(source, start, n);
    try {
      got = zlib.inflateRawSync(chunk, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: n * 1100 + 1024 });
    } catch (err) {
      throw new MatrixError(`member "${e.name}" is damaged (${(err as Error).message})`, file);
    }
    if (got.length >= want || n === e.compressedSize) break;
  }
  return got.subarray(0, Math.min(want, got.length));
}
