/**
 * The heads behind what a source last showed, for the head table (src/headTable.ts): a dump file read one head at
 * a time, or the weights of a computed multi-head attention held in memory. No runtime vscode import.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { AttentionResult } from '../core/attention';
import type { HeadsInput } from '../core/headAnalysis';
import { headLayout, headSourceFromArray, headSourceFromHandle } from '../core/heads';
import { listMembers, openMatrix, splitRef, fileKindOf } from '../core/matrixFile';
import type { NdArray } from '../core/ndarray';
import { MatrixError, toFloat32 } from '../core/ndarray';
import { tokensBeside } from '../core/tokens';
import { defaultMember } from '../loadPipeline';
import { streamedHeadTable } from '../core/view/streamGrid';
import type { MetricsCache } from '../core/view/streamGrid';
import type { StreamSettings } from '../core/stream/types';

/**
 * A dump (.npy, or an .npz member: the default member when none is named), keyed by the file's size and mtime so
 * that opening another head reuses the table and a file rewritten on disk is measured again. Tokens: a `tokens`
 * member beside the maps.
 */
export function dumpHeads(ref: string): HeadsInput {
  return {
    async key() {
      const { file } = splitRef(ref);
      const st = await fsp.stat(file).catch(() => undefined);
      return `${ref}\u0000${st?.size}\u0000${st?.mtimeMs}`;
    },
    async open() {
      let resolved = ref;
      if (fileKindOf(ref) === 'npz' && !splitRef(ref).member) {
        const member = defaultMember((await listMembers(ref)).map((m) => m.name));
        if (!member) throw new MatrixError('the archive holds no arrays', ref);
        resolved = `${ref}#${member}`;
      }
      const handle = await openMatrix(resolved);
      try {
        const source = headSourceFromHandle(handle);
        const beside = await tokensBeside(resolved);
        const { file } = splitRef(resolved);
        return {
          source,
          tokens: beside.tokens,
          tokensFrom: beside.tokens ? `the tokens member of ${path.basename(file)}` : undefined,
          tokensMissing: beside.warning ?? (fileKindOf(file) === 'npz' ? `${path.basename(file)} has no tokens member` : `${path.basename(file)} holds no tokens`),
          close: () => handle.close(),
        };
      } catch (e) {
        await handle.close();
        throw e;
      }
    },
  };
}

/** Maps already in memory: a precomputed weights array [H, n, n] / [L, H, n, n] of a spec. */
export function arrayHeads(weights: NdArray, labels: readonly string[] | undefined, key: string, file?: string): HeadsInput {
  return {
    key: async () => key,
    async open() {
      const lay = headLayout(weights.shape, file);
      const data = toFloat32(weights);
      return { source: headSourceFromArray(data, lay.layers, lay.heads, lay.n), ...labelTokens(labels, lay.n), close: async () => undefined };
    },
  };
}

/** The heads of a computed multi-head attention (square maps only: the metrics compare a query with its keys). */
export function resultHeads(result: AttentionResult, labels: readonly string[] | undefined, key: string): HeadsInput {
  return {
    key: async () => key,
    async open() {
      if (result.nq !== result.nk) {
        throw new MatrixError(`the head metrics need square maps (each query also a key); these are ${result.nq} × ${result.nk}`);
      }
      return { source: headSourceFromArray(result.weights, 1, result.heads, result.nq), ...labelTokens(labels, result.nq), close: async () => undefined };
    },
  };
}

/**
 * Per-head Q/K too big to hold their maps (a streamed heads grid): every head's metrics are measured in a streamed
 * sweep over its query rows (the grid's thumbnail sweeps already measured those without tokens), never an n × n map.
 * Q/K carry no tokens: the user picks a tokens file for the token metrics.
 */
export function streamedHeads(q: NdArray, k: NdArray, settings: StreamSettings, cache: MetricsCache, key: string): HeadsInput {
  return {
    key: async () => key,
    async open() {
      return {
        table: (opts) => streamedHeadTable(q, k, settings, cache, opts),
        tokensMissing: 'Q and K hold no tokens; pick a tokens file for the token metrics',
        nearMissing: 'heads like this one compare whole maps, which streamed heads never hold; the metrics are measured in the sweep',
        close: async () => undefined,
      };
    },
  };
}

function labelTokens(labels: readonly string[] | undefined, n: number): { tokens?: readonly string[]; tokensFrom?: string; tokensMissing?: string } {
  if (labels && labels.length === n) return { tokens: labels, tokensFrom: 'the query labels' };
  return { tokensMissing: labels ? `the ${labels.length} query labels do not match the ${n} positions` : 'there are no query labels' };
}
