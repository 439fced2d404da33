/**
 * One entry point for matrix files: "path" or "path#member" → a handle that reads sub-arrays lazily.
 * .npy and .npz are recognised by their magic bytes (then by extension), JSON by extension or a leading [ or {,
 * safetensors by extension; pickles (.pt, .pth, .bin, .ckpt, torch zip archives) are refused with guidance.
 * Reads compare the file's size and mtime before and after: a file rewritten mid-read (a training script saving)
 * is read again once, then refused with "file changed while reading".
 */
import { promises as fsp } from 'fs';
import type { FileHandle } from 'fs/promises';
import * as path from 'path';
import { isStringDType, MatrixError, product } from './ndarray';
import type { NdArray, StringArray } from './ndarray';
import { DEFAULT_MAX_BYTES, MAX_HEADER_SIZE, normalizeIndex, readNpyData, readNpyHeader } from './npy';
import type { ArrayInfo, ByteSource, NpyHeader } from './npy';
import { findMember, memberName, memberPrefix, openMember, readZipDirectory } from './npz';
import type { ZipEntry } from './npz';
import { readNpyStrings } from './npyStrings';
import { findTensor, readSafetensorsHeader, tensorHeader, tensorInfo } from './safetensors';
import type { SafetensorsHeader } from './safetensors';
import { hasPickleExtension, looksLikePickle, pickleRefusal, zipPickleEntry } from './pickles';
import { jsonMatrices } from './jsonMatrix';

export type { ArrayInfo } from './npy';

export interface MatrixHandle {
  readonly ref: string;
  readonly info: ArrayInfo;
  /** The sub-array at leading indices, read lazily (positional reads), C order, owning its buffer. */
  read(index?: number[]): Promise<NdArray>;
  /** Like read, but string arrays (tokens, '<U5') come back as strings instead of being refused. */
  readAny(index?: number[]): Promise<NdArray | StringArray>;
  /**
   * Where the elements lie in the file, for readers on other threads (the dump workers): a .npy or a safetensors
   * tensor; undefined for an .npz member (it may be compressed) or JSON.
   */
  layout?(): FileLayout | undefined;
  /** False when the file's size or mtime changed since the handle last read it (another thread's reads are then stale). */
  unchanged?(): Promise<boolean>;
  close(): Promise<void>;
}

/** An array stored whole and uncompressed in a file, C or Fortran order from `dataOffset`. */
export interface FileLayout {
  file: string;
  dataOffset: number;
  itemsize: number;
  littleEndian: boolean;
  fortranOrder: boolean;
}

export interface OpenOptions {
  /** Largest allocation one read may make (default 1 GiB). */
  maxBytes?: number;
  /** Largest JSON file read whole (default 256 MiB). */
  maxJsonBytes?: number;
  /** Test hook: runs between reading data and checking the file did not change (to simulate a writer). */
  afterRead?: () => Promise<void>;
}

export type FileKind = 'npy' | 'npz' | 'json' | 'safetensors';

/** The matrix format a file name says (.npy, .npz, .json, .safetensors); undefined for any other name. */
export function fileKindOf(file: string): FileKind | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.npy' ? 'npy' : ext === '.npz' ? 'npz' : ext === '.safetensors' ? 'safetensors' : undefined;
}

/**
 * Splits "dir/a.npz#q" into the path and the member, the one place refs are split (CLI, loader, extension).
 * Only the last '#' splits. A '#' inside a file name stays: when what precedes it names no matrix file and
 * what follows looks like a path or a matrix file name ("odd#name.npy", "run#3/q.npy"), it is all one path.
 * A member of a zip without the .npz name ("bundle.zip#v") still splits; openMatrix also tries the whole
 * ref as a file first.
 */
export function splitRef(ref: string): { file: string; member?: string } {
  const i = ref.lastIndexOf('#');
  if (i <= 0) return { file: ref };
  const file = ref.slice(0, i);
  const rest = ref.slice(i + 1);
  if (!fileKindOf(file) && (/[\\/]/.test(rest) || fileKindOf(rest))) return { file: ref };
  return { file, member: rest || undefined };
}

/** A file read with positional reads in chunks (one read call is limited to 2 GiB). */
class FileSource implements ByteSource {
  constructor(private readonly fh: FileHandle, readonly size: number, private readonly file: string) {}
  async readInto(target: Uint8Array, position: number): Promise<void> {
    const CHUNK = 1 << 30;
    let done = 0;
    while (done < target.length) {
      const len = Math.min(CHUNK, target.length - done);
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(target, done, len, position + done));
      } catch (e) {
        throw ioError(e, this.file);
      }
      if (bytesRead === 0) {
        throw new MatrixError(`file ended at byte ${position + done} while reading ${target.length} bytes at ${position} (truncated?)`, this.file);
      }
      done += bytesRead;
    }
  }
}

function ioError(err: unknown, file: string): MatrixError {
  if (err instanceof MatrixError) return err;
  const code = (err as { code?: string }).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied'
    : code ? `cannot read (${code})` : `cannot read (${(err as Error).message ?? String(err)})`;
  return new MatrixError(why, file);
}

function detectKind(head: Uint8Array, file: string): FileKind | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (head.length >= 6 && head[0] === 0x93 && head[1] === 0x4e && head[2] === 0x55 && head[3] === 0x4d && head[4] === 0x50 && head[5] === 0x59) return 'npy';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) return 'npz';
  // After the magic bytes: a .bin that is really an .npy opens; a torch zip is caught by its data.pkl.
  if (looksLikePickle(head)) throw pickleRefusal(file, 'this file is');
  if (hasPickleExtension(file)) throw pickleRefusal(file, `a ${path.extname(file)} file is a PyTorch checkpoint`);
  const byName = fileKindOf(file);
  if (byName) return byName;
  let i = 0;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13)) i++;
  if (head[i] === 0x5b || head[i] === 0x7b) return 'json';
  return undefined;
}

/** Opens a regular file for reading; checks first, because opening a FIFO for reading would wait for a writer. */
async function openRegularFile(file: string): Promise<FileHandle> {
  try {
    const st = await fsp.stat(file);
    if (st.isDirectory()) throw new MatrixError('is a directory', file);
    if (!st.isFile()) throw new MatrixError('not a regular file', file);
    return await fsp.open(file, 'r');
  } catch (e) {
    throw ioError(e, file);
  }
}

interface Stat { size: number; mtimeMs: number }
function sameStat(a: Stat, b: Stat): boolean { return a.size === b.size && a.mtimeMs === b.mtimeMs; }

function sameInfo(a: ArrayInfo, b: ArrayInfo): boolean {
  return a.dtype === b.dtype && a.fortranOrder === b.fortranOrder && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** The part of a binary file a handle reads from: the .npy itself, or one .npz member; `inFile`: at its own offsets. */
interface Opened { source: ByteSource; header: NpyHeader; inFile?: true }

class BinaryHandle implements MatrixHandle {
  private opened: Opened;
  private stat: Stat;
  constructor(
    readonly ref: string,
    private readonly file: string,
    private readonly fh: FileHandle,
    opened: Opened,
    stat: Stat,
    private readonly reopen: (fh: FileHandle, size: number) => Promise<Opened>,
    private readonly opts: OpenOptions,
  ) {
    this.opened = opened;
    this.stat = stat;
  }

  get info(): ArrayInfo { return this.opened.header.info; }

  layout(): FileLayout | undefined {
    const { header, inFile } = this.opened;
    if (!inFile) return undefined;
    return { file: this.file, dataOffset: header.dataOffset, itemsize: header.itemsize, littleEndian: header.littleEndian, fortranOrder: header.info.fortranOrder };
  }

  async unchanged(): Promise<boolean> {
    return sameStat(await this.fh.stat(), this.stat);
  }

  read(index: number[] = []): Promise<NdArray> {
    return this.guarded(index, (o) => readNpyData(o.source, o.header, this.ref, index, this.opts));
  }

  readAny(index: number[] = []): Promise<NdArray | StringArray> {
    return this.guarded<NdArray | StringArray>(index, (o) => (isStringDType(o.header.info.dtype)
      ? readNpyStrings(o.source, o.header, this.ref, index, this.opts)
      : readNpyData(o.source, o.header, this.ref, index, this.opts)));
  }

  private async guarded<T>(index: number[], readFrom: (o: Opened) => Promise<T>): Promise<T> {
    normalizeIndex(this.info.shape, index, this.ref);
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = await this.fh.stat();
      if (!sameStat(before, this.stat)) {
        // The file was rewritten since it was opened: read its header again; the handle keeps its shape.
        let again: Opened;
        try {
          again = await this.reopen(this.fh, before.size);
        } catch (e) {
          if (attempt === 0) { await pause(); continue; } // a writer may be half way through
          throw e;
        }
        if (!sameInfo(again.header.info, this.info)) {
          throw new MatrixError(`file changed since it was opened (now shape [${again.header.info.shape.join(', ')}] ${again.header.info.dtype}); open it again`, this.ref);
        }
        this.opened = again;
        this.stat = before;
      }
      let result: T | undefined;
      let failure: unknown;
      try {
        result = await readFrom(this.opened);
      } catch (e) {
        failure = e;
      }
      if (this.opts.afterRead) await this.opts.afterRead();
      const after = await this.fh.stat();
      if (sameStat(before, after)) {
        if (failure) throw failure;
        return result as T;
      }
      if (attempt === 0) await pause();
    }
    throw new MatrixError('file changed while reading', this.ref);
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

function pause(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}

class MemoryHandle implements MatrixHandle {
  readonly info: ArrayInfo;
  constructor(readonly ref: string, private readonly array: NdArray) {
    this.info = { shape: [...array.shape], dtype: array.dtype, fortranOrder: false, byteLength: array.data.byteLength };
  }
  async read(index: number[] = []): Promise<NdArray> {
    const idx = normalizeIndex(this.array.shape, index, this.ref);
    const sub = this.array.shape.slice(idx.length);
    const count = product(sub);
    let start = 0;
    let stride = count;
    for (let a = idx.length - 1; a >= 0; a--) { start += idx[a] * stride; stride *= this.array.shape[a]; }
    return { shape: sub, dtype: this.array.dtype, data: this.array.data.slice(start, start + count) };
  }
  readAny(index: number[] = []): Promise<NdArray | StringArray> { return this.read(index); }
  async close(): Promise<void> { /* nothing held */ }
}

async function openNpz(fh: FileHandle, size: number, file: string, ref: string, member: string | undefined, maxBytes: number): Promise<Opened> {
  const source = new FileSource(fh, size, file);
  const entries = await readZipDirectory(source, file);
  refuseZipPickle(entries, file);
  const npys = entries.filter((e) => e.name.endsWith('.npy'));
  let entry: ZipEntry;
  if (member !== undefined) entry = findMember(entries, member, file);
  else if (npys.length === 1) entry = npys[0];
  else {
    throw new MatrixError(
      npys.length === 0 ? 'the .npz holds no .npy members'
        : `the .npz holds ${npys.length} arrays; choose one as ${path.basename(file)}#NAME (${npys.slice(0, 20).map((e) => memberName(e.name)).join(', ')})`,
      file,
    );
  }
  const memberRef = `${file}#${memberName(entry.name)}`;
  const src = await openMember(source, entry, memberRef, maxBytes);
  return { source: src, header: await readNpyHeader(src, memberRef) };
}

function refuseZipPickle(entries: readonly ZipEntry[], file: string): void {
  const pkl = zipPickleEntry(entries.map((e) => e.name));
  if (pkl) throw pickleRefusal(file, `a zip holding ${pkl} is a torch.save archive`);
}

async function openSafetensors(fh: FileHandle, size: number, file: string, member: string | undefined): Promise<Opened> {
  const source = new FileSource(fh, size, file);
  const h = await readSafetensorsHeader(source, file);
  let name = member;
  if (name === undefined) {
    if (h.tensors.length !== 1) {
      throw new MatrixError(
        h.tensors.length === 0 ? 'the safetensors file holds no tensors'
          : `the safetensors file holds ${h.tensors.length} tensors; choose one as ${path.basename(file)}#NAME (${h.tensors.slice(0, 20).map((t) => t.name).join(', ')})`,
        file,
      );
    }
    name = h.tensors[0].name;
  }
  return { source, header: tensorHeader(h, findTensor(h, name, file)), inFile: true };
}

/** The validated header of a .safetensors file: its tensors and __metadata__ (for token labels). */
export async function readSafetensorsFile(file: string): Promise<SafetensorsHeader> {
  const fh = await openRegularFile(file);
  try {
    const st = await fh.stat();
    return await readSafetensorsHeader(new FileSource(fh, st.size, file), file);
  } catch (e) {
    throw ioError(e, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function openNpy(fh: FileHandle, size: number, ref: string): Promise<Opened> {
  const source = new FileSource(fh, size, ref);
  return { source, header: await readNpyHeader(source, ref), inFile: true };
}

/**
 * Opens "path" or "path#member": a .npy, an .npz member (or the only member), a JSON matrix or a JSON spec's key.
 * Only the header is read here; data is read by handle.read(index).
 */
export async function openMatrix(ref: string, opts: OpenOptions = {}): Promise<MatrixHandle> {
  let { file, member } = splitRef(ref);
  if (member !== undefined) {
    // "a#b.npy" might be a file name with a '#' in it.
    const whole = await fsp.stat(ref).catch(() => undefined);
    if (whole?.isFile()) { file = ref; member = undefined; }
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const fh = await openRegularFile(file);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MatrixError('not a regular file', file);
    const head = new Uint8Array(Math.min(16, st.size));
    await new FileSource(fh, st.size, file).readInto(head, 0);
    const kind = detectKind(head, file);
    if (kind === 'json') {
      await fh.close();
      return new MemoryHandle(ref, await jsonArray(file, member, opts));
    }
    if (kind === 'npy') {
      if (member !== undefined) throw new MatrixError(`a .npy file has no members (asked for "#${member}")`, file);
      const opened = await openNpy(fh, st.size, file);
      return new BinaryHandle(ref, file, fh, opened, st, (h, size) => openNpy(h, size, file), opts);
    }
    if (kind === 'safetensors') {
      const opened = await openSafetensors(fh, st.size, file, member);
      return new BinaryHandle(ref, file, fh, opened, st, (h, size) => openSafetensors(h, size, file, member), opts);
    }
    if (kind === 'npz') {
      const opened = await openNpz(fh, st.size, file, ref, member, maxBytes);
      return new BinaryHandle(ref, file, fh, opened, st, (h, size) => openNpz(h, size, file, ref, member, maxBytes), opts);
    }
    throw new MatrixError('not a .npy, .npz, .safetensors or JSON matrix file', file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw ioError(e, file);
  }
}

async function readJsonText(file: string, opts: OpenOptions): Promise<string> {
  const limit = opts.maxJsonBytes ?? 256 * 1024 * 1024;
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    throw ioError(e, file);
  }
  if (st.size > limit) throw new MatrixError(`JSON file of ${st.size} bytes is over the limit of ${limit}; save big matrices as .npy`, file);
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw ioError(e, file);
  }
}

/** A JSON file's matrix: the whole file when it is a plain array, else the inline matrix under `member`. */
async function jsonArray(file: string, member: string | undefined, opts: OpenOptions): Promise<NdArray> {
  const text = await readJsonText(file, opts);
  const all = jsonMatrices(text, file);
  if (member === undefined) {
    if (all.length === 1 && all[0].name === '' && all[0].array) return all[0].array;
    throw new MatrixError(`holds an attention spec, not one matrix; choose one as ${path.basename(file)}#KEY (${all.map((m) => m.name).join(', ') || 'no matrices'})`, file);
  }
  const hit = all.find((m) => m.name === member);
  if (!hit) throw new MatrixError(`no matrix "${member}" (keys with matrices: ${all.map((m) => m.name).join(', ') || 'none'})`, file);
  if (hit.array) return hit.array;
  // A key that names a binary file: follow it once (never another JSON file, so no cycles).
  const target = path.resolve(path.dirname(file), hit.ref as string);
  if (/\.json(#|$)/i.test(target)) throw new MatrixError(`"${member}" refers to another JSON file (${hit.ref}); only .npy/.npz references are followed`, file);
  try {
    return await readMatrix(target, [], opts);
  } catch (e) {
    // Say which JSON key led there: the user opened the JSON file, not the one it names.
    if (e instanceof MatrixError) throw new MatrixError(`"${member}" → ${e.message}`, file);
    throw e;
  }
}

/** Opens, reads the sub-array at `index` and closes. */
export async function readMatrix(ref: string, index: number[] = [], opts: OpenOptions = {}): Promise<NdArray> {
  const h = await openMatrix(ref, opts);
  try {
    return await h.read(index);
  } finally {
    await h.close();
  }
}

/** A source with only the first bytes of a member but its declared size, for reading just the header. */
class PrefixSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array, readonly size: number, private readonly file: string) {}
  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (position + target.length > this.bytes.length) throw new MatrixError('truncated .npy header', this.file);
    target.set(this.bytes.subarray(position, position + target.length));
  }
}

/** .npz and .safetensors hold several named arrays (members, tensors). */
export function holdsMembers(file: string): boolean {
  const kind = fileKindOf(file);
  return kind === 'npz' || kind === 'safetensors';
}

/** The members that can be drawn: numbers, not strings (an .npz's `tokens` labels the others). */
export async function drawableMembers(file: string, opts: OpenOptions = {}): Promise<{ name: string; info: ArrayInfo }[]> {
  return (await listMembers(file, opts)).filter((m) => !isStringDType(m.info.dtype));
}

/** The arrays in a file: .npz members (headers only, nothing inflated whole), JSON matrix keys, or a .npy itself. */
export async function listMembers(file: string, opts: OpenOptions = {}): Promise<{ name: string; info: ArrayInfo }[]> {
  const fh = await openRegularFile(file);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MatrixError('not a regular file', file);
    const source = new FileSource(fh, st.size, file);
    const head = new Uint8Array(Math.min(16, st.size));
    await source.readInto(head, 0);
    const kind = detectKind(head, file);
    if (kind === 'npy') return [{ name: '', info: (await readNpyHeader(source, file)).info }];
    if (kind === 'safetensors') {
      return (await readSafetensorsHeader(source, file)).tensors.map((t) => ({ name: t.name, info: tensorInfo(t) }));
    }
    if (kind === 'npz') {
      const out: { name: string; info: ArrayInfo }[] = [];
      const entries = await readZipDirectory(source, file);
      refuseZipPickle(entries, file);
      for (const e of entries) {
        if (!e.name.endsWith('.npy')) continue;
        const ref = `${file}#${memberName(e.name)}`;
        const prefix = await memberPrefix(source, e, ref, Math.min(e.uncompressedSize, 12 + MAX_HEADER_SIZE));
        out.push({ name: memberName(e.name), info: (await readNpyHeader(new PrefixSource(prefix, e.uncompressedSize, ref), ref)).info });
      }
      return out;
    }
    if (kind === 'json') {
      const text = await readJsonText(file, opts);
      const out: { name: string; info: ArrayInfo }[] = [];
      for (const m of jsonMatrices(text, file)) {
        if (m.array) {
          out.push({ name: m.name, info: { shape: [...m.array.shape], dtype: m.array.dtype, fortranOrder: false, byteLength: m.array.data.byteLength } });
        } else if (m.ref && !/\.json(#|$)/i.test(m.ref)) {
          let h: MatrixHandle;
          try {
            h = await openMatrix(path.resolve(path.dirname(file), m.ref), opts);
          } catch (e) {
            if (e instanceof MatrixError) throw new MatrixError(`"${m.name}" → ${e.message}`, file);
            throw e;
          }
          out.push({ name: m.name, info: h.info });
          await h.close();
        }
      }
      return out;
    }
    throw new MatrixError('not a .npy, .npz, .safetensors or JSON matrix file', file);
  } catch (e) {
    throw ioError(e, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
