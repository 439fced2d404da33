import * as assert from 'assert';
import { isRequestError, MessageHandler, RequestError } from '../../src/shared/messageHandler';
import {
  HOST_REQUESTS, WEBVIEW_REQUESTS, type FromWebview, type HostReply, type ToWebview, type WebviewReply,
} from '../../src/shared/protocol';

/** The webview's side: posts FromWebview, receives the host's replies; generation = the model seq. */
function webviewSide() {
  const posted: FromWebview[] = [];
  const h = new MessageHandler<FromWebview, HostReply, typeof WEBVIEW_REQUESTS>((m) => posted.push(m), {
    pairs: WEBVIEW_REQUESTS, timeoutMs: 1000, generationOf: (r) => r.seq,
  });
  return { h, posted };
}

const cell = (id: number, seq?: number): HostReply => ({ type: 'cell', id, seq, details: undefined });

async function rejection(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isRequestError(e), String(e));
    return e;
  }
  assert.fail('expected the request to be rejected');
}

describe('shared: MessageHandler (request/response over postMessage)', () => {
  it('posts each request with a fresh id and resolves it with the reply that echoes that id', async () => {
    const { h, posted } = webviewSide();
    const a = h.request({ type: 'requestCell', kind: 'weights', row: 1, col: 2 });
    const b = h.request({ type: 'requestRow', kind: 'weights', row: 3 });
    assert.deepStrictEqual(posted, [
      { type: 'requestCell', kind: 'weights', row: 1, col: 2, id: 1 },
      { type: 'requestRow', kind: 'weights', row: 3, id: 2 },
    ]);
    // Out of order: each reply finds its own request.
    assert.strictEqual(h.handleReply({ type: 'row', id: 2, details: undefined }), true);
    assert.strictEqual(h.handleReply(cell(1)), true);
    assert.deepStrictEqual(await a, cell(1));
    assert.strictEqual((await b).type, 'row');
    assert.strictEqual(h.size, 0);
  });

  it('ignores unknown ids, repeated replies and replies of the wrong type', async () => {
    const { h } = webviewSide();
    const a = h.request({ type: 'requestCell', kind: 'weights', row: 0, col: 0 });
    assert.strictEqual(h.handleReply(cell(7)), false);
    assert.strictEqual(h.handleReply({ type: 'row', id: 1, details: undefined }), false, 'a row is no reply to requestCell');
    assert.strictEqual(h.size, 1);
    assert.strictEqual(h.handleReply(cell(1)), true);
    assert.strictEqual(h.handleReply(cell(1)), false, 'already answered');
    await a;
  });

  it('a reply for the current model reaches a request sent before that model arrived (it used to be dropped)', async () => {
    const { h } = webviewSide();
    h.generation = 1;
    const asked = h.request({ type: 'requestCell', kind: 'weights', row: 0, col: 0 });
    h.generation = 2; // a new model (seq 2) arrives while the request is in flight; the host answers from it
    assert.strictEqual(h.handleReply(cell(1, 2)), true);
    assert.deepStrictEqual(await asked, cell(1, 2));
  });

  it('a reply answered from an older model is dropped on purpose: its request is rejected as stale', async () => {
    const { h } = webviewSide();
    h.generation = 1;
    const asked = h.request({ type: 'requestTile', kind: 'weights', region: { r0: 0, c0: 0, rows: 2, cols: 2 } });
    h.generation = 2;
    const tile: HostReply = { type: 'tile', id: 1, seq: 1, kind: 'weights', r0: 0, c0: 0, rows: 2, cols: 2, data: new Float32Array(4) };
    assert.strictEqual(h.handleReply(tile), true);
    assert.strictEqual((await rejection(asked)).reason, 'stale');
    assert.strictEqual(h.size, 0);
  });

  it('times out with the given message, and a late reply is then ignored', async () => {
    const { h } = webviewSide();
    const asked = h.request({ type: 'requestCell', kind: 'weights', row: 0, col: 0 }, { timeoutMs: 5, timeoutMessage: 'no answer' });
    const err = await rejection(asked);
    assert.strictEqual(err.reason, 'timeout');
    assert.strictEqual(err.message, 'no answer');
    assert.strictEqual(h.handleReply(cell(1)), false);
  });

  it('cancels by AbortSignal (before or after posting) and all at once with cancelAll', async () => {
    const { h, posted } = webviewSide();
    const ac = new AbortController();
    const a = h.request({ type: 'requestCell', kind: 'weights', row: 0, col: 0 }, { signal: ac.signal });
    ac.abort();
    assert.strictEqual((await rejection(a)).reason, 'cancelled');
    assert.strictEqual(h.handleReply(cell(1)), false, 'the reply to a cancelled request is ignored');
    const b = h.request({ type: 'requestCell', kind: 'weights', row: 0, col: 0 }, { signal: ac.signal });
    assert.strictEqual((await rejection(b)).reason, 'cancelled');
    assert.strictEqual(posted.length, 1, 'an already aborted request is not posted');
    const c = h.request({ type: 'requestRow', kind: 'weights', row: 0 });
    h.cancelAll('the heatmap was closed');
    const err = await rejection(c);
    assert.strictEqual(err.message, 'the heatmap was closed');
    assert.strictEqual(h.size, 0);
  });

  it('serves the host side too: the PNG request and its reply', async () => {
    const posted: ToWebview[] = [];
    const h = new MessageHandler<ToWebview, WebviewReply, typeof HOST_REQUESTS>((m) => posted.push(m), { pairs: HOST_REQUESTS, timeoutMs: 1000 });
    const png = h.request({ type: 'exportPng' });
    assert.deepStrictEqual(posted, [{ type: 'exportPng', id: 1 }]);
    const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
    h.handleReply({ type: 'png', id: 1, bytes });
    assert.deepStrictEqual((await png).bytes, bytes);
  });
});
