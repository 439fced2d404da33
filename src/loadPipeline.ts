/**
 * The load pipeline every source runs: a JSON file (saved, or an open document's unsaved text) → loadSpec →
 * computeAttention(Fast) → buildModelFromSpec; a .npy/.npz (member) → openMatrix → buildModelFromArray or
 * buildModelFromDump, with the attentionInspector.maxCells cap checked before anything large is read whole.
 *
 * No runtime vscode import on purpose: it runs in plain Node unit tests. The host injects document text,
 * settings and a progress runner (SourceEnv).
 */
import { promises as fs } from 'fs';
import { storedAxisNames } from './core/tokens';
import type { AttentionResult } from './core/attention';
import { attentionShape, computeAttention, computeAttentionFast } from './core/attention';
import type { InspectorSettings } from './core/settings';
import type { AttentionSpec } from './core/jsonMatrix';
import { loadSpec } from './core/jsonSpec';
import { specToInput } from './core/specInput';
import { drawableMembers, holdsMembers, openMatrix, readMatrix } from './core/matrixFile';
import { withTokenLabels } from './core/view/tokenModel';
import type { ArrayInfo, MatrixHandle } from './core/matrixFile';
import { MatrixError, product } from './core/ndarray';
import type { NdArray } from './core/ndarray';
import { arrayDumpHandle, buildModelFromArray, buildModelFromDump, buildModelFromSpec } from './core/view/model';
import { buildStreamedModelFromInput } from './core/view/streamModel';
import { dumpAxes, gridSize } from './core/view/dumpAxes';
import type { DumpAxes } from './core/view/dumpAxes';
import type { Selection } from './core/view/model';
import type { HeatmapModel } from './shared/types';
import { fileKindOf, splitRef } from './core/matrixFile';

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
  /**
   * The axis names the user chose for a dump with Set Axes… (remembered per file, keyed by its ref: "path" or
   * "path#member"); they win over the file's own and the guess.
   */
  readonly axesOf?: (ref: string) => string[] | undefined;
  /** Dumps above this many bytes load progressively (default PROGRESSIVE_BYTES; tests lower it). */
  readonly progressiveBytes?: number;
  /** Dumps with at least this many bytes of maps are read on the worker pool (default POOL_DUMP_BYTES; tests lower it). */
  readonly poolBytes?: number;
}

/** Above this many score cells the WASM/worker engine pays for itself and the user gets a progress bar. */
export const FAST_THRESHOLD = 256 * 256;

const runDirect: LongRunner = (_title, work) => work(new AbortController().signal, () => undefined);

export async function readRef(ref: string, env: SourceEnv, onRef?: (file: string) => void): Promise<NdArray> {
  const { file, member } = splitRef(ref);
  if (fileKindOf(file) === 'json') {
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

/** `onAttention` hears the spec and the attention the load computed (none for precomputed weights): the head table's input. */
export async function loadJson(
  file: string, member: string | undefined, title: string, selection: Selection | undefined, env: SourceEnv,
  onRef?: (file: string) => void, onAttention?: (spec: AttentionSpec, result: AttentionResult | undefined) => void,
): Promise<HeatmapModel> {
  const spec = await loadSpec(await textOf(file, env), file, onRef);
  if (member) return buildModelFromArray(checkCells(pickMember(spec, member, file), file, env), title);
  if (spec.q || spec.x) {
    const filled: AttentionSpec = {
      ...spec,
      similarity: spec.similarity ?? env.settings().similarity,
      scale: spec.scale ?? env.settings().scale,
    };
    return computeModel(filled, env, title, selection, (result) => onAttention?.(filled, result));
  }
  if (spec.weights && spec.weights.shape.length >= 3) {
    onAttention?.(spec, undefined);
    // A dump named by a manifest: the same view as the file itself, with the manifest's axis names and labels.
    const axes = axesFor(spec.weights.shape, file, spec.axes, env);
    const model = await buildModelFromDump(arrayDumpHandle(spec.weights, file), selection, {
      cellSize: gridCellSize(gridShape(spec.weights.shape, axes), env.settings().overviewSize), axes, overviewSize: env.settings().overviewSize,
    });
    return withLabels({ ...model, title }, spec.queryLabels, spec.keyLabels);
  }
  if (spec.weights) {
    onAttention?.(spec, undefined);
    return buildModelFromSpec(spec, undefined, title, selection);
  }
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

/** Weight cells of the attention a spec describes (all heads). */
function cellsOf(spec: AttentionSpec): { nq: number; nk: number; cells: number } {
  const q = specToInput(spec).q;
  const nq = q.shape.length > 1 ? q.shape[0] : 1;
  const nk = spec.k ? (spec.k.shape.length > 1 ? spec.k.shape[0] : 1) : nq;
  return { nq, nk, cells: nq * nk * Math.max(1, spec.heads ?? 1) };
}

/**
 * The model of a spec's attention: computed whole up to attentionInspector.maxCells; above it streamed from Q and K
 * (one head, never n_q × n_k in memory: overview from a sweep, tiles, cells and rows on demand), with progress.
 */
/**
 * The model of a computation: in memory up to maxCells (`onResult` hears the result, for the head table), streamed
 * from Q and K above it.
 */
export async function computeModel(
  spec: AttentionSpec, env: SourceEnv, title: string, selection?: Selection, onResult?: (result: AttentionResult) => void,
): Promise<HeatmapModel> {
  const { nq, nk, cells } = cellsOf(spec);
  if (cells <= env.settings().maxCells) {
    const result = await compute(spec, env);
    onResult?.(result);
    return buildModelFromSpec(spec, result, title, selection);
  }
  const run = env.runLong ?? runDirect;
  const heads = Math.max(1, spec.heads ?? 1);
  return run(`Computing attention (${nq.toLocaleString('en-US')}×${nk.toLocaleString('en-US')}${heads > 1 ? `, head ${selection?.head ?? 0} of ${heads}` : ''}, streamed from Q and K)`,
    (signal, report) => buildStreamedModelFromInput(specToInput(spec), {
      title, overviewSize: env.settings().overviewSize, head: selection?.head, signal, onProgress: report,
      queryLabels: spec.queryLabels, keyLabels: spec.keyLabels, file: spec.file,
    }));
}

export async function compute(spec: AttentionSpec, env: SourceEnv): Promise<AttentionResult> {
  const input = specToInput(spec);
  // The engine's own sizes (per-head inputs included); it throws the shape problem the compute would.
  const { nq, nk, heads } = attentionShape(input);
  const cells = nq * nk * heads;
  const max = env.settings().maxCells;
  if (cells > max) {
    throw new MatrixError(`attention would have ${cells} cells, more than attentionInspector.maxCells (${max}); raise the setting to compute it`, spec.file);
  }
  if (cells < FAST_THRESHOLD) return computeAttention(input);
  const run = env.runLong ?? runDirect;
  return run(`Computing attention (${nq}×${nk}${heads > 1 ? ` × ${heads} heads` : ''})`,
    // Weights and output only: the score views are made when a view shows them (scores: false).
    (signal, report) => computeAttentionFast(input, { signal, onProgress: report, kernel: env.settings().kernel, scores: false, reserve: true }));
}

/**
 * Dumps larger than this are read progressively: the selected head is shown at once and the grid fills under a
 * cancellable progress notification. Smaller ones arrive as one model (no flicker).
 */
export const PROGRESSIVE_BYTES = 256 * 2 ** 20;

/** Hears the models of a progressive load before the final one (each a complete model, the grid partly read). */
export type PartialListener = (model: HeatmapModel) => void;

/**
 * `onInfo` hears the header of the array the load opened (the custom editor's subtitle, without a second open).
 * `onPartial` hears partial models of a big dump (PROGRESSIVE_BYTES): the selected head first, then the grid so far.
 */
export async function loadBinary(
  ref: string, title: string, selection: Selection | undefined, env: SourceEnv, onInfo?: (info: ArrayInfo) => void,
  onPartial?: PartialListener,
): Promise<HeatmapModel> {
  const file = splitRef(ref).file;
  if (holdsMembers(ref)) {
    // An archive opened without a member: show the member most likely to be an attention map (never its tokens).
    const members = (await drawableMembers(ref)).map((m) => m.name);
    const member = defaultMember(members);
    if (!member) throw new MatrixError('the archive holds no numeric arrays', ref);
    ref = `${ref}#${member}`;
    title = `${title} · ${member}`;
  }
  // Tokens saved beside the array (an .npz `tokens` member, safetensors __metadata__) label its axes.
  const labelled = (m: HeatmapModel) => (holdsMembers(file) ? withTokenLabels(m, file) : Promise.resolve(m));
  // Partials are labelled in turn and heard in order, all before the final model is returned.
  let chain = Promise.resolve();
  const partial = onPartial && ((m: HeatmapModel) => {
    chain = chain.then(() => labelled(m)).then(onPartial, () => undefined);
  });
  const model = await loadArray(ref, title, selection, env, onInfo, partial);
  await chain;
  return labelled(model);
}

async function loadArray(
  ref: string, title: string, selection: Selection | undefined, env: SourceEnv, onInfo?: (info: ArrayInfo) => void,
  onPartial?: PartialListener,
): Promise<HeatmapModel> {
  const handle = await openMatrix(ref);
  try {
    onInfo?.(handle.info);
    const shape = handle.info.shape;
    if (shape.length <= 2) {
      // A fresh read owns its buffer: the model keeps it rather than a copy.
      return buildModelFromArray(checkCells(await handle.read(), ref, env), title, undefined, { owned: true });
    }
    // Rank ≥ 3: a dump ending in [n_q, n_k], read one map at a time (it may be far bigger than any single map):
    // layers × heads in the grid, earlier axes picked. The selection is clamped there.
    // Axis names the file states (an .npz `axes` member, safetensors __metadata__) unless the user set others.
    const stated = env.axesOf?.(ref) ? undefined : await storedAxisNames(splitRef(ref).file);
    const axes = axesFor(shape, ref, stated, env);
    const cellSize = gridCellSize(gridShape(shape, axes), env.settings().overviewSize);
    const { layers, heads } = gridSize(shape, axes);
    const run = env.runLong ?? runDirect;
    const progress = onPartial && handle.info.byteLength > (env.progressiveBytes ?? PROGRESSIVE_BYTES) ? {
      onPartial: (m: HeatmapModel) => onPartial({ ...m, title }),
      run: (work: (signal: AbortSignal, report: (fraction: number) => void) => Promise<void>) =>
        run(`Reading ${title} (${layers} × ${heads} heads)`, work),
    } : undefined;
    const model = await buildModelFromDump(handle, selection, {
      cellSize, axes, progress, poolBytes: env.poolBytes, overviewSize: env.settings().overviewSize,
    });
    return { ...model, title };
  } finally {
    await handle.close();
  }
}

/** The axes of a dump: the user's names (Set Axes…), else the file's, else the guess. */
function axesFor(shape: readonly number[], ref: string, fromFile: string[] | undefined, env: SourceEnv): DumpAxes {
  const user = env.axesOf?.(ref);
  if (user) return dumpAxes(shape, user, 'user', ref);
  return dumpAxes(shape, fromFile, 'file', ref);
}

/** [layers, heads, n_q, n_k] of a dump, for the grid's cell size. */
function gridShape(shape: readonly number[], axes: DumpAxes): number[] {
  const { layers, heads } = gridSize(shape, axes);
  return [layers, heads, shape[shape.length - 2], shape[shape.length - 1]];
}

/** Labels that match the map's axes (else a warning, as for computed maps). */
function withLabels(model: HeatmapModel, queryLabels: string[] | undefined, keyLabels: string[] | undefined): HeatmapModel {
  const shown = model.kinds[model.defaultKind];
  const warnings = [...model.warnings];
  const fit = (labels: string[] | undefined, n: number | undefined, what: string) => {
    if (!labels || n === undefined) return undefined;
    if (labels.length === n) return labels;
    warnings.push(`${what} has ${labels.length} entries but the axis has ${n}; labels not shown`);
    return undefined;
  };
  return { ...model, queryLabels: fit(queryLabels, shown?.rows, 'queryLabels'), keyLabels: fit(keyLabels, shown?.cols, 'keyLabels'), warnings };
}

/** Member names that most likely hold an attention map, preferred when an .npz opens without a member. */
const PREFERRED_MEMBERS = ['attention', 'attentions', 'attn', 'weights', 'scores'];

export function defaultMember(names: readonly string[]): string | undefined {
  return names.find((m) => PREFERRED_MEMBERS.includes(m.toLowerCase())) ?? names[0];
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
