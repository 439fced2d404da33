/**
 * The head metrics and "heads like this one" for one heatmap panel: computed on request with progress and
 * cancellation, cached while the panel lives (keyed by what was read, so a rewritten file is measured again).
 * Pure: the host wires it to the webview; unit tests drive it directly.
 */
import { computeHeadTable, headsCancelled, nearestHeads } from './heads';
import type { HeadSource, HeadTable, HeadWorkOptions } from './heads';
import { MatrixError } from './ndarray';
import type { NearHead, WireHeadTable } from '../shared/heads';
import { HEAD_METRICS } from '../shared/heads';

/** What a source gives for head work: its heads, read lazily, and the tokens it found (or why there are none). */
export interface OpenedHeads {
  /** The maps, one head at a time; absent for streamed heads, which give `table` (metrics measured in the sweep). */
  readonly source?: HeadSource;
  /** Measures every head itself (streamed Q/K: never an n × n map); used instead of reading `source`. */
  table?(opts: HeadWorkOptions & { tokensFile?: string }): Promise<HeadTable>;
  /** Why there are no heads like this one without `source`. */
  readonly nearMissing?: string;
  readonly tokens?: readonly string[];
  /** Where the tokens came from ("tokens member"), or why there are none ("the file has no tokens"). */
  readonly tokensFrom?: string;
  readonly tokensMissing?: string;
  close(): Promise<void>;
}

export interface HeadsInput {
  /** Changes whenever the data may have: the file's path, size and mtime, or a load's sequence number. */
  key(): Promise<string>;
  open(): Promise<OpenedHeads>;
}

export interface HeadWork {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** Tokens the user picked for this panel; they win over the file's own. */
export interface PickedTokens { readonly tokens: readonly string[]; readonly from: string }

/** How many nearest heads "heads like this one" lists. */
export const NEAR_HEADS = 5;

export function wireTable(t: HeadTable, tokens: WireHeadTable['tokens']): WireHeadTable {
  const metrics: WireHeadTable['metrics'] = {};
  for (const m of HEAD_METRICS) {
    const column = t.metrics[m];
    if (column) metrics[m] = Float32Array.from(column);
  }
  return { layers: t.layers, heads: t.heads, n: t.n, metrics, tokens };
}

export class HeadAnalysis {
  private readonly tables = new Map<string, WireHeadTable>();
  private readonly near = new Map<string, NearHead[]>();
  private picked: PickedTokens | undefined;

  /** Tokens the user chose (undefined: the file's own again). Cached tables made with other tokens are dropped. */
  setTokens(picked: PickedTokens | undefined): void {
    this.picked = picked;
    this.tables.clear();
  }

  get pickedTokens(): PickedTokens | undefined {
    return this.picked;
  }

  async cachedTable(input: HeadsInput): Promise<WireHeadTable | undefined> {
    return this.tables.get(await input.key());
  }

  async table(input: HeadsInput, work: HeadWork = {}): Promise<WireHeadTable> {
    const key = await input.key();
    const hit = this.tables.get(key);
    if (hit) return hit;
    const picked = this.picked;
    const opened = await input.open();
    try {
      if (work.signal?.aborted) throw headsCancelled();
      const tokens = picked?.tokens ?? opened.tokens;
      const from = picked?.from ?? opened.tokensFrom ?? 'the file';
      const opts = { tokens, tokensFile: from, signal: work.signal, onProgress: work.onProgress };
      let table: HeadTable;
      if (opened.table) table = await opened.table(opts);
      else if (opened.source) table = await computeHeadTable(opened.source, opts);
      else throw new MatrixError('these heads give neither their maps nor their metrics');
      const wire = wireTable(table, tokens ? { from } : { missing: opened.tokensMissing ?? 'this source has no tokens' });
      if (picked === this.picked) this.tables.set(key, wire); // tokens changed meanwhile: do not cache
      return wire;
    } finally {
      await opened.close();
    }
  }

  async nearest(input: HeadsInput, layer: number, head: number, work: HeadWork = {}): Promise<NearHead[]> {
    const key = `${await input.key()}\u0000${layer}\u0000${head}`;
    const hit = this.near.get(key);
    if (hit) return hit;
    const opened = await input.open();
    try {
      if (!opened.source) throw new MatrixError(opened.nearMissing ?? 'heads like this one need the heads\' maps');
      const list = await nearestHeads(opened.source, layer, head, NEAR_HEADS, work);
      this.near.set(key, list);
      return list;
    } finally {
      await opened.close();
    }
  }

  clear(): void {
    this.tables.clear();
    this.near.clear();
  }
}
