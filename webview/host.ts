// The channel to the extension host: the VS Code API (acquired once per page), typed posts, and the requests
// the webview makes (tiles, details, other kinds) correlated by src/shared/messageHandler.ts.
import { isRequestError, MessageHandler } from '../src/shared/messageHandler';
import { WEBVIEW_REQUESTS, type FromWebview, type HostReply } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi may be called only once per page. */
export const vscodeApi = acquireVsCodeApi();

export function post(m: FromWebview): void {
  vscodeApi.postMessage(m);
}

/**
 * Requests outlive a new model: a reply answered from the model on screen is used whenever it comes; one
 * answered from a replaced model is dropped (generation = the host's model seq, set on each `model` message).
 */
export const requests = new MessageHandler<FromWebview, HostReply, typeof WEBVIEW_REQUESTS>(post, {
  pairs: WEBVIEW_REQUESTS, timeoutMs: 30_000, generationOf: (r) => r.seq,
});

/** A request that ended without a reply (timeout, cancelled, stale) leaves things as they are. */
export function ignoreUnanswered(e: unknown): undefined {
  if (isRequestError(e)) return undefined;
  throw e;
}
