/**
 * The head table's host side, one per heatmap view: runs the webview's head jobs (the metrics of every head,
 * heads like this one) on the source's heads (src/sources/sourceHeads.ts) with progress and cancellation, caches
 * the results while the view lives (HeadAnalysis) and lets the user pick a tokens file.
 */
import * as vscode from 'vscode';
import { HeadAnalysis } from './core/headAnalysis';
import type { HeadsInput } from './core/headAnalysis';
import { readTokens } from './core/tokens';
import type { HeadsMessage } from './shared/protocol';
import { describeError } from './errors';

type HeadJob = { type: 'requestHeads'; job: number } | { type: 'requestNearHeads'; job: number; layer: number; head: number }
  | { type: 'pickTokens'; job: number } | { type: 'cancelHeads'; job: number };

/** Progress messages at most this often (a 1024-head table reports each head otherwise). */
const PROGRESS_MS = 100;

export class HeadTableHost implements vscode.Disposable {
  private readonly analysis = new HeadAnalysis();
  private readonly running = new Map<number, AbortController>();
  private disposed = false;

  constructor(
    private readonly post: (m: HeadsMessage) => void,
    /** The heads of what the view shows now, or undefined (a plain matrix). */
    private readonly heads: () => HeadsInput | undefined,
  ) {}

  handle(msg: HeadJob): void {
    switch (msg.type) {
      case 'requestHeads':
        void this.run(msg.job, (input, work) => this.analysis.table(input, work), (table) => ({ type: 'headTable', job: msg.job, table }), true);
        return;
      case 'requestNearHeads':
        void this.run(msg.job, (input, work) => this.analysis.nearest(input, msg.layer, msg.head, work),
          (near) => ({ type: 'nearHeads', job: msg.job, layer: msg.layer, head: msg.head, near }), false);
        return;
      case 'pickTokens':
        void this.pickTokens(msg.job);
        return;
      case 'cancelHeads':
        this.running.get(msg.job)?.abort();
        return;
      default: {
        const never: never = msg;
        throw new Error(`unhandled head job ${JSON.stringify(never)}`);
      }
    }
  }

  private async pickTokens(job: number): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use these tokens',
      title: 'Tokens for the head metrics: a JSON array of strings, or a .npy of token ids',
      filters: { 'Tokens (JSON, .npy, .npz)': ['json', 'npy', 'npz'] },
    });
    if (this.disposed) return;
    const file = picked?.[0]?.fsPath;
    if (!file) {
      this.post({ type: 'headsStopped', job, cancelled: true, message: 'No tokens file chosen.' });
      return;
    }
    try {
      this.analysis.setTokens({ tokens: await readTokens(file), from: vscode.workspace.asRelativePath(file) });
    } catch (e) {
      this.post({ type: 'headsStopped', job, cancelled: false, message: describeError(e) });
      return;
    }
    this.handle({ type: 'requestHeads', job });
  }

  private async run<T>(
    job: number,
    work: (input: HeadsInput, w: { signal: AbortSignal; onProgress: (f: number) => void }) => Promise<T>,
    reply: (result: T) => HeadsMessage,
    exclusive: boolean,
  ): Promise<void> {
    const input = this.heads();
    if (!input) {
      this.post({ type: 'headsStopped', job, cancelled: false, message: 'This view has no heads to measure.' });
      return;
    }
    // One table at a time: a new request (another file, new tokens) supersedes the last.
    if (exclusive) for (const c of this.running.values()) c.abort();
    const abort = new AbortController();
    this.running.set(job, abort);
    let last = 0;
    try {
      const result = await work(input, {
        signal: abort.signal,
        onProgress: (fraction) => {
          const now = Date.now();
          if (now - last < PROGRESS_MS && fraction < 1) return;
          last = now;
          if (!this.disposed) this.post({ type: 'headsProgress', job, fraction });
        },
      });
      if (!this.disposed) this.post(reply(result));
    } catch (e) {
      if (this.disposed) return;
      const cancelled = e instanceof Error && e.name === 'AbortError';
      this.post({ type: 'headsStopped', job, cancelled, message: cancelled ? 'Cancelled.' : describeError(e) });
    } finally {
      this.running.delete(job);
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.running.values()) c.abort();
    this.running.clear();
    this.analysis.clear();
  }
}
