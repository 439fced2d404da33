/**
 * Which axis of an attention dump is which. A dump of rank ≥ 3 ends in [n_q, n_k]; the two axes before the map
 * are layers × heads (a 3-D dump is heads); any earlier axes (batch, sample) get a picker. Names come from the
 * file when it says (an `axes` entry such as "layer,batch,head,query,key"), or from the user (Set Axes…), else
 * from a guess by position. Axes of size 1 are dropped: they are read at index 0 and never shown.
 */
import { MatrixError } from '../ndarray';

/** The roles of a dump's axes, as file axis indices. */
export interface DumpAxes {
  /** One name per file axis. */
  names: string[];
  /** The file axis holding layers, if any (size > 1). */
  layer?: number;
  /** The file axis holding heads, if any (size > 1). */
  head?: number;
  /** File axes (size > 1) that get a picker, in file order. */
  extras: number[];
  /** Where the names came from. */
  from: 'file' | 'user' | 'guess';
}

const LAYER_NAMES = new Set(['layer', 'layers', 'l']);
const HEAD_NAMES = new Set(['head', 'heads', 'h']);
/** Names for the axes before layers × heads, outermost first, when guessing. */
const OUTER_GUESSES = ['sample', 'batch'];

/** "layer, batch ,head" or ["layer", …] → trimmed names; undefined for an empty text. */
export function parseAxisNames(text: string | readonly string[]): string[] {
  const parts = typeof text === 'string' ? text.split(',') : [...text];
  return parts.map((p) => String(p).trim());
}

/** The guess: the last two axes are the map, the two before it (of size > 1) heads and layers, earlier ones batch, sample, axis 0… */
export function guessAxisNames(shape: readonly number[]): string[] {
  const names = shape.map((_, i) => `axis ${i}`);
  const r = shape.length;
  if (r >= 2) {
    names[r - 2] = 'query';
    names[r - 1] = 'key';
  }
  const lead = shape.slice(0, -2).map((n, i) => ({ n, i })).filter((a) => a.n > 1).map((a) => a.i).reverse();
  const roles = ['head', 'layer', ...OUTER_GUESSES.slice().reverse()];
  lead.forEach((axis, k) => {
    if (k < roles.length) names[axis] = roles[k];
  });
  return names;
}

/**
 * The roles of a dump's axes from their names (or the guess). Throws a MatrixError naming `file` when the names
 * do not match the rank, repeat, or are empty.
 */
export function dumpAxes(shape: readonly number[], names: readonly string[] | undefined, from: DumpAxes['from'], file?: string): DumpAxes {
  if (shape.length < 3) throw new MatrixError(`a dump needs at least 3 axes, got shape ${shape.join('×')}`, file);
  const given = names ?? guessAxisNames(shape);
  const source = names ? from : 'guess';
  if (given.length !== shape.length) {
    throw new MatrixError(
      `the axis names "${given.join(',')}" name ${given.length} axes but the array has ${shape.length} (${shape.join('×')})`, file);
  }
  const lower = given.map((n) => n.toLowerCase());
  if (lower.some((n) => n === '')) throw new MatrixError(`the axis names "${given.join(',')}" include an empty name`, file);
  const dup = lower.find((n, i) => lower.indexOf(n) !== i);
  if (dup !== undefined) throw new MatrixError(`the axis names "${given.join(',')}" name "${dup}" twice`, file);
  const lead = shape.length - 2;
  const big = (i: number) => shape[i] > 1;
  const find = (set: Set<string>) => {
    const i = lower.findIndex((n, j) => j < lead && set.has(n));
    return i >= 0 ? i : undefined;
  };
  let head = find(HEAD_NAMES);
  let layer = find(LAYER_NAMES);
  if (head === undefined) {
    // No axis says "head": the last leading axis that is not the layers.
    for (let i = lead - 1; i >= 0 && head === undefined; i--) if (i !== layer && big(i)) head = i;
  }
  if (layer === undefined && source === 'guess') {
    for (let i = (head ?? lead) - 1; i >= 0 && layer === undefined; i--) if (big(i)) layer = i;
  }
  const extras: number[] = [];
  for (let i = 0; i < lead; i++) if (i !== head && i !== layer && big(i)) extras.push(i);
  return {
    names: [...given], layer: layer !== undefined && big(layer) ? layer : undefined,
    head: head !== undefined && big(head) ? head : undefined, extras, from: source,
  };
}

/** Sizes of the grid: layers × heads (1 where the dump has no such axis). */
export function gridSize(shape: readonly number[], axes: DumpAxes): { layers: number; heads: number } {
  return { layers: axes.layer === undefined ? 1 : shape[axes.layer], heads: axes.head === undefined ? 1 : shape[axes.head] };
}

/** The leading indices of one map: layer l, head h, the extra axes at `extra` (clamped), size-1 axes at 0. */
export function mapIndex(shape: readonly number[], axes: DumpAxes, l: number, h: number, extra: readonly number[]): number[] {
  const index = new Array<number>(shape.length - 2).fill(0);
  if (axes.layer !== undefined) index[axes.layer] = l;
  if (axes.head !== undefined) index[axes.head] = h;
  axes.extras.forEach((axis, k) => {
    index[axis] = Math.max(0, Math.min(shape[axis] - 1, Math.floor(extra[k] ?? 0) || 0));
  });
  return index;
}

/** The pickers the panel shows for the extra axes, with the current index of each. */
export function axisPickers(shape: readonly number[], axes: DumpAxes, extra: readonly number[]): { name: string; size: number; index: number }[] {
  const index = mapIndex(shape, axes, 0, 0, extra);
  return axes.extras.map((axis) => ({ name: axes.names[axis], size: shape[axis], index: index[axis] }));
}

/** "batch 1 of 4 · layer 2 · head 5": which axis is which, for the panel header. */
export function describeMap(shape: readonly number[], axes: DumpAxes, l: number, h: number, extra: readonly number[]): string {
  const parts = axisPickers(shape, axes, extra).map((p) => `${p.name} ${p.index} of ${p.size}`);
  if (axes.layer !== undefined) parts.push(`${axes.names[axes.layer]} ${l}`);
  if (axes.head !== undefined) parts.push(`${axes.names[axes.head]} ${h}`);
  return parts.join(' · ');
}
