/**
 * Turns files into HeatmapSources: a JSON file (saved, or an open document's unsaved text) → loadSpec →
 * computeAttention(Fast) → buildModelFromSpec; a .npy/.npz (member) → openMatrix → buildModelFromArray or
 * buildModelFromDump; two sources → diffModels; a Q/K/V pick from the command → compute.
 *
 * No runtime vscode import on purpose: the remembered-choice schema check and the source logic run in plain Node
 * unit tests. The host injects document text, settings and a progress runner.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type { AttentionInput, AttentionResult, Scale, Similarity } from './core/attention';
import { computeAttention, computeAttentionFast, SIMILARITIES } from './core/attention';
import { parseScale } from './core/settings';
import type { InspectorSettings } from './core/settings';
import type { AttentionSpec } from './core/jsonMatrix';
import { loadSpec } from './core/jsonMatrix';
import { listMembers, openMatrix, readMatrix } from './core/matrixFile';
import type { MatrixHandle } from './core/matrixFile';
import { MatrixError, product } from './core/ndarray';
import type { NdArray } from './core/ndarray';
import { buildModelFromArray, buildModelFromDump, buildModelFromSpec, diffModels } from './core/view/model';
import type { Selection } from './core/view/model';
import type { HeatmapModel, ViewKind } from './shared/types';
import type { HeatmapSource } from './heatmapView';

// ------------------------------------------------------------------------------- remembered compute choice

/** What "Compute Attention from Q, K, V…" asked for; kept per workspace so the next run offers it first. */
export interface ComputeChoice {
  readonly q: string;          // "path" or "path#member"
  readonly k?: string;
  readonly v?: string;
  readonly similarity: Similarity;
  readonly scale: Scale;
  readonly mask: 'none' | 'causal';
  readonly heads: number;
}

/** workspaceState survives versions and hand edits: check every field before trusting a stored choice. */
export function parseComputeChoice(value: unknown): ComputeChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ref = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length < 4096;
  if (!ref(v.q) || (v.k !== undefined && !ref(v.k)) || (v.v !== undefined && !ref(v.v))) return undefined;
  if (!SIMILARITIES.includes(v.similarity as Similarity)) return undefined;
  const scale = parseScale(v.scale);
  if (scale === undefined) return undefined;
  if (v.mask !== 'none' && v.mask !== 'causal') return undefined;
  if (typeof v.heads !== 'number' || !Number.isInteger(v.heads) || v.heads < 1 || v.heads > 1024) return undefined;
  return {
    q: v.q as string, k: v.k as string | undefined, v: v.v as string | undefined,
    similarity: v.similarity as Similarity, scale, mask: v.mask, heads: v.heads,
  };
}

// ------------------------------------------------------------------------------------------------ sources

/** Runs long work with progress and cancellation (the host wraps window.withProgress). */
export type LongRunner = <T>(
  title: string, work: (signal: AbortSignal, report: (fraction: number) => void) => Promise<T>) => Promise<T>;

export interface SourceEnv {
  readonly settings: () => InspectorSettings;
  /**
   * The file's URI as text, for source ids ("file:///w/a.npz#q"): HeatmapPanels.forFile and revival match on it.
   * The host passes vscode.Uri.file(f).toString() so ids equal the editor's URIs; Node's file URL otherwise.
   */
  readonly uriOf?: (file: string) => string;
  /** The open document's text when there is one (unsaved edits win over the file on disk). */
  readonly textOf?: (file: string) => string | undefined;
  readonly runLong?: LongRunner;
}

/** Above this many score cells the WASM/worker engine pays for itself and the user gets a progress bar. */
export const FAST_THRESHOLD = 256 * 256;

const runDirect: LongRunner = (_title, work) => work(new AbortController().signal, () => undefined);

export type MatrixKind = 'json' | 'npy' | 'npz';

/** The matrix formats by extension; anything else is not ours. */
export function matrixKindOf(file: string): MatrixKind | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.npy' ? 'npy' : ext === '.npz' ? 'npz' : undefined;
}

/** "path#member" → parts. Only the last '#' splits, so a path containing '#' still works with a member. */
export function splitRef(ref: string): { file: string; member?: string } {
  const i = ref.lastIndexOf('#');
  if (i <= 0) return { file: ref };
  const file = ref.slice(0, i);
  return matrixKindOf(file) ? { file, member: ref.slice(i + 1) } : { file: ref };
}

function uriOf(file: string, env: SourceEnv): string {
  return env.uriOf ? env.uriOf(file) : pathToFileURL(file).href;
}

/**
 * The files a source's last load read (HeatmapSource.files): `start()` begins a new load's list, seeded with
 * `initial`, and returns the callback that adds each file the load reads (loadSpec's onRef).
 */
function fileTrail(initial: readonly string[] = []): { files: () => readonly string[]; start: () => (file: string) => void } {
  let files: readonly string[] = [...new Set(initial)];
  return {
    files: () => files,
    start: () => {
      const seen = new Set(initial);
      files = [...seen];
      return (file) => {
        seen.add(file);
        files = [...seen];
      };
    },
  };
}

/** A source for a file, or one member of it ("K" in a JSON spec, "q" in an .npz). */
export function fileSource(file: string, member: string | undefined, env: SourceEnv): HeatmapSource {
  const base = path.basename(file);
  const title = member ? `${base} · ${member}` : base;
  const uri = uriOf(file, env);
  const trail = fileTrail();
  return {
    id: member ? `${uri}#${member}` : uri,
    title,
    load: (selection) =>
      matrixKindOf(file) === 'json'
        ? loadJson(file, member, title, selection, env, trail.start())
        : loadBinary(member ? `${file}#${member}` : file, title, selection, env),
    files: trail.files,
  };
}

/** A − B of two sources, on the diverging map; the kind is the first of A's default that both have. */
export function compareSource(a: HeatmapSource, b: HeatmapSource): HeatmapSource {
  const own = (s: HeatmapSource) => [fileOfId(s.id), ...(s.files?.() ?? [])].filter((f): f is string => !!f);
  return {
    id: `compare:${JSON.stringify([a.id, b.id])}`,
    title: `${a.title} − ${b.title}`,
    files: () => [...new Set([...own(a), ...own(b)])],
    load: async (selection) => {
      const [ma, mb] = await Promise.all([a.load(selection), b.load(selection)]);
      const kind: ViewKind = ma.kinds[ma.defaultKind] && mb.kinds[ma.defaultKind] ? ma.defaultKind
        : (Object.keys(ma.kinds) as ViewKind[]).find((k) => mb.kinds[k]) ?? ma.defaultKind;
      return diffModels(ma, mb, kind);
    },
  };
}

/** Attention from separately picked Q, K, V matrices (files or .npz members). */
export function computeSource(choice: ComputeChoice, env: SourceEnv): HeatmapSource {
  const names = [choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => path.basename(r));
  const title = `attention(${names.join(', ')})`;
  const trail = fileTrail([choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => splitRef(r).file));
  return {
    id: `compute:${JSON.stringify(choice)}`,
    title,
    files: trail.files,
    load: async () => {
      const onRef = trail.start();
      const read = (ref: string | undefined) => (ref ? readRef(ref, env, onRef) : Promise.resolve(undefined));
      const [q, k, v] = await Promise.all([read(choice.q), read(choice.k), read(choice.v)]);
      if (!q) throw new MatrixError('no Q matrix was chosen', choice.q);
      const spec: AttentionSpec = {
        file: splitRef(choice.q).file, q, k, v,
        similarity: choice.similarity, scale: choice.scale,
        mask: choice.mask === 'causal' ? 'causal' : undefined,
        heads: choice.heads > 1 ? choice.heads : undefined,
      };
      const result = await compute(spec, env);
      return buildModelFromSpec(spec, result, title);
    },
  };
}

/**
 * Rebuilds a source from its id (a revived panel knows only the id it saved): a file URI with an optional
 * "#member", "compute:{choice}" or "compare:[idA, idB]". Ids are persisted webview state, so they are parsed
 * as untrusted input; anything unrecognised gives undefined.
 */
export function sourceFromId(id: string, env: SourceEnv): HeatmapSource | undefined {
  try {
    if (id.startsWith('compute:')) {
      const choice = parseComputeChoice(JSON.parse(id.slice('compute:'.length)));
      return choice ? computeSource(choice, env) : undefined;
    }
    if (id.startsWith('compare:')) {
      const pair: unknown = JSON.parse(id.slice('compare:'.length));
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'string')) return undefined;
      const a = sourceFromId(pair[0] as string, env);
      const b = sourceFromId(pair[1] as string, env);
      return a && b ? compareSource(a, b) : undefined;
    }
    if (!id.startsWith('file:')) return undefined;
    const hash = id.lastIndexOf('#');
    const uri = hash > 0 ? id.slice(0, hash) : id;
    const member = hash > 0 ? decodeURIComponent(id.slice(hash + 1)) : undefined;
    const file = fileURLToPath(uri);
    return matrixKindOf(file) ? fileSource(file, member || undefined, env) : undefined;
  } catch {
    return undefined;
  }
}

/** The file a source id shows ("file:///w/a.npz#q" → "/w/a.npz"), for matching watcher events. */
export function fileOfId(id: string): string | undefined {
  if (!id.startsWith('file:')) return undefined;
  const hash = id.lastIndexOf('#');
  try {
    return fileURLToPath(hash > 0 ? id.slice(0, hash) : id);
  } catch {
    return undefined;
  }
}

async function readRef(ref: string, env: SourceEnv, onRef?: (file: string) => void): Promise<NdArray> {
  const { file, member } = splitRef(ref);
  if (matrixKindOf(file) === 'json') {
    const spec = await loadSpec(await textOf(file, env), file, onRef);
    return pickMember(spec, member, file);
  }
  return readMatrix(ref);
}

async function textOf(file: string, env: SourceEnv): Promise<string> {
  const open = env.textOf?.(file);
  if (open !== undefined) return open;
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new MatrixError(describeFsError(err), file);
  }
}

/** "file not found" rather than an ENOENT stack: the watcher shows this for deleted files. */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ENOENT') return 'the file no longer exists (deleted or moved)';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return err instanceof Error ? err.message : String(err);
}

/** Spec fields a member name can mean, by the key users write in the file. */
const MEMBER_FIELDS: Record<string, keyof AttentionSpec> = {
  q: 'q', k: 'k', v: 'v', x: 'x', wq: 'wq', wk: 'wk', wv: 'wv', wo: 'wo',
  weights: 'weights', attention: 'weights', mask: 'mask', matrix: 'matrix',
};

function pickMember(spec: AttentionSpec, member: string | undefined, file: string): NdArray {
  if (!member) {
    const whole = spec.matrix ?? spec.weights;
    if (whole) return whole;
    throw new MatrixError('holds no single matrix; name a member such as Q or K', file);
  }
  const field = MEMBER_FIELDS[member.toLowerCase()];
  const value = field ? spec[field] : undefined;
  if (value && typeof value === 'object' && 'shape' in value && 'data' in value) return value as NdArray;
  throw new MatrixError(`has no matrix "${member}"`, file);
}

async function loadJson(
  file: string, member: string | undefined, title: string, selection: Selection | undefined, env: SourceEnv,
  onRef?: (file: string) => void,
): Promise<HeatmapModel> {
  const spec = await loadSpec(await textOf(file, env), file, onRef);
  if (member) return buildModelFromArray(checkCells(pickMember(spec, member, file), file, env), title);
  if (spec.q || spec.x) {
    const filled: AttentionSpec = {
      ...spec,
      similarity: spec.similarity ?? env.settings().similarity,
      scale: spec.scale ?? env.settings().scale,
    };
    return buildModelFromSpec(filled, await compute(filled, env), title, selection);
  }
  if (spec.weights) return buildModelFromSpec(spec, undefined, title, selection);
  if (spec.matrix) return buildModelFromArray(checkCells(spec.matrix, file, env), title);
  throw new MatrixError('holds no Q (or X), no weights and no matrix to show', file);
}

function checkCells(a: NdArray, file: string, env: SourceEnv): NdArray {
  const max = env.settings().maxCells;
  const cells = product(a.shape);
  if (cells > max) {
    throw new MatrixError(`has ${cells} cells, more than attentionInspector.maxCells (${max}); raise the setting to load it`, file);
  }
  return a;
}

async function compute(spec: AttentionSpec, env: SourceEnv): Promise<AttentionResult> {
  const q = spec.q ?? spec.x;
  if (!q) throw new MatrixError('has no Q or X to compute attention from', spec.file);
  const input: AttentionInput = {
    q, k: spec.k, v: spec.v, similarity: spec.similarity, scale: spec.scale, mask: spec.mask, heads: spec.heads,
    wq: spec.wq, wk: spec.wk, wv: spec.wv, wo: spec.wo,
  };
  const nq = q.shape.length > 1 ? q.shape[0] : 1;
  const nk = spec.k ? (spec.k.shape.length > 1 ? spec.k.shape[0] : 1) : nq;
  const cells = nq * nk * Math.max(1, spec.heads ?? 1);
  const max = env.settings().maxCells;
  if (cells > max) {
    throw new MatrixError(`attention would have ${cells} cells, more than attentionInspector.maxCells (${max}); raise the setting to compute it`, spec.file);
  }
  if (cells < FAST_THRESHOLD) return computeAttention(input);
  const run = env.runLong ?? runDirect;
  return run(`Computing attention (${nq}×${nk}${spec.heads && spec.heads > 1 ? ` × ${spec.heads} heads` : ''})`,
    (signal, report) => computeAttentionFast(input, { signal, onProgress: report }));
}

async function loadBinary(
  ref: string, title: string, selection: Selection | undefined, env: SourceEnv,
): Promise<HeatmapModel> {
  if (matrixKindOf(ref) === 'npz') {
    // An archive opened without a member: show the member most likely to be an attention map.
    const members = (await listMembers(ref)).map((m) => m.name);
    const member = defaultMember(members);
    if (!member) throw new MatrixError('the archive holds no arrays', ref);
    ref = `${ref}#${member}`;
    title = `${title} · ${member}`;
  }
  const handle = await openMatrix(ref);
  try {
    const shape = handle.info.shape;
    if (shape.length <= 2) {
      return buildModelFromArray(checkCells(await handle.read(), ref, env), title);
    }
    if (isAttentionDump(shape)) {
      // Read one head at a time: a dump may be far bigger than any single map.
      const [layers, heads] = shape.length === 4 ? [shape[0], shape[1]] : [1, shape[0]];
      const sel = selection ? clampSelection(selection, layers, heads) : undefined;
      const model = await buildModelFromDump(handle, sel, { cellSize: gridCellSize(shape, env.settings().overviewSize) });
      return { ...model, title };
    }
    if (shape.length <= 4) {
      // [H, n, m] / [L, H, n, m] with non-square maps: the whole stack, the selected slice and a grid.
      return buildModelFromArray(checkCells(await handle.read(), ref, env), title, selection);
    }
    // Higher ranks: one 2-D slice at the selected leading indices (layer/head pick the first two axes).
    const index = sliceIndex(shape, selection);
    const model = buildModelFromArray(checkCells(await handle.read(index), ref, env), title);
    return { ...model, subtitle: `slice [${index.join(', ')}, :, :] of ${shape.join('×')}`, selection: selection ?? { layer: 0, head: 0 } };
  } finally {
    await handle.close();
  }
}

/** Member names that most likely hold an attention map, preferred when an .npz opens without a member. */
const PREFERRED_MEMBERS = ['attention', 'attentions', 'attn', 'weights', 'scores'];

export function defaultMember(names: readonly string[]): string | undefined {
  return names.find((m) => PREFERRED_MEMBERS.includes(m.toLowerCase())) ?? names[0];
}

/** [L, H, n, n] or [H, n, n]: square maps per head are attention dumps and get the layers × heads grid. */
export function isAttentionDump(shape: readonly number[]): boolean {
  return (shape.length === 4 || shape.length === 3) && shape[shape.length - 1] === shape[shape.length - 2];
}

/** Leading indices selecting a 2-D slice; layer/head pick the first two, the rest are 0. */
export function sliceIndex(shape: readonly number[], selection?: { layer: number; head: number }): number[] {
  const lead = shape.slice(0, -2);
  const picks = [selection?.layer ?? 0, selection?.head ?? 0];
  return lead.map((n, i) => Math.min(Math.max(0, Math.floor(picks[i] ?? 0)), n - 1));
}

function clampSelection(sel: { layer: number; head: number }, layers: number, heads: number) {
  return {
    layer: Math.min(Math.max(0, Math.floor(sel.layer)), layers - 1),
    head: Math.min(Math.max(0, Math.floor(sel.head)), heads - 1),
  };
}

/** Grid cells small enough that L × H of them fit the overview, between 8 and 64 cells a side (never above n). */
export function gridCellSize(shape: readonly number[], overviewSize: number): number {
  const n = shape[shape.length - 1];
  const across = Math.max(shape.length === 4 ? shape[0] : 1, shape.length === 4 ? shape[1] : shape[0]);
  return Math.max(1, Math.min(n, 64, Math.max(8, Math.floor(overviewSize / across))));
}

/** Shape and dtype for the status bar and the custom editor header, without reading any data. */
export async function describeFile(ref: string): Promise<{ shape: number[]; dtype: string; fortranOrder: boolean; byteLength: number }> {
  const handle: MatrixHandle = await openMatrix(ref);
  try {
    return { ...handle.info, shape: [...handle.info.shape] };
  } finally {
    await handle.close();
  }
}
