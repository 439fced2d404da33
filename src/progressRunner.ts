/** Long computations run under a cancellable progress notification (the sources' LongRunner). */
import * as vscode from 'vscode';
import type { LongRunner } from './loadPipeline';

/** withProgress as a LongRunner: a cancellable notification whose Cancel aborts the computation. */
export const progressRunner: LongRunner = (title, work) =>
  Promise.resolve(vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let last = 0;
      try {
        return await work(abort.signal, (fraction) => {
          const pct = Math.max(0, Math.min(100, fraction * 100));
          if (pct > last) progress.report({ increment: pct - last, message: `${Math.round(pct)}%` });
          last = Math.max(last, pct);
        });
      } finally {
        sub.dispose();
      }
    }));
