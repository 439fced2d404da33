/**
 * Request/response over postMessage, for both sides of the heatmap protocol (the webview asking the host for
 * tiles and details; the host asking the webview for a PNG). A request gets a fresh `id`; the reply echoes it.
 * Every request settles: with its reply, or rejected on timeout, cancellation (an AbortSignal, or `cancelAll`
 * when the owner goes away) or as stale. Modelled on vscode-hexeditor's shared MessageHandler; the protocol's
 * own messages carry the id, so no envelope is needed.
 *
 * Stale replies: the owner bumps `generation` when what requests are about changes (a new model). A reply that
 * says it was answered for an older generation is dropped on purpose (its request is rejected as stale); a reply
 * for the current generation always reaches its request, even one sent before the change.
 */

/** A message with a type discriminant; requests and replies also carry the correlating id. */
export interface Typed {
  type: string;
}
export interface Correlated extends Typed {
  id: number;
}

/** Omit that keeps a union a union. */
export type OmitId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Why a request did not get its reply. */
export type RequestFailure = 'timeout' | 'cancelled' | 'stale';

export class RequestError extends Error {
  constructor(readonly reason: RequestFailure, message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Whether an error is a request that ended without a reply (callers that ignore those use this). */
export function isRequestError(e: unknown): e is RequestError {
  return e instanceof RequestError;
}

export interface RequestOptions {
  /** Milliseconds before the request is rejected with reason `timeout`; 0 = the handler's default. */
  timeoutMs?: number;
  /** The message of the timeout error (the default names the request). */
  timeoutMessage?: string;
  /** Aborting rejects the request with reason `cancelled`; its reply, should it come, is ignored. */
  signal?: AbortSignal;
}

export interface MessageHandlerOptions<In extends Correlated, Pairs> {
  /** Request type → reply type, the protocol's table (checked at run time too: a reply of the wrong type is no reply). */
  pairs: Pairs;
  /** Default timeout for every request, in milliseconds. */
  timeoutMs: number;
  /** The generation a reply was answered for, when the reply says (the heatmap's model seq). */
  generationOf?: (reply: In) => number | undefined;
}

interface Pending<In> {
  type: string;
  replyType: string;
  resolve: (reply: In) => void;
  reject: (err: RequestError) => void;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

/**
 * `Out`: the messages this side posts; `In`: the replies it receives; `Pairs`: request type → reply type, from
 * the protocol (e.g. `{ requestTile: 'tile' }`), so `request` returns the right reply type.
 */
export class MessageHandler<Out extends Typed, In extends Correlated, Pairs extends Partial<Record<Out['type'], In['type']>>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending<In>>();
  /** Bumped by the owner when replies for earlier generations stop being of use. */
  generation = 0;

  constructor(private readonly post: (message: Out) => void, private readonly opts: MessageHandlerOptions<In, Pairs>) {}

  /** Post a request and wait for its reply (or a RequestError). */
  request<M extends OmitId<Out> & { type: keyof Pairs }>(
    message: M, options: RequestOptions = {},
  ): Promise<Extract<In, { type: Pairs[M['type']] }>> {
    const id = this.nextId++;
    return new Promise<Extract<In, { type: Pairs[M['type']] }>>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new RequestError('cancelled', `${message.type} was cancelled`));
        return;
      }
      const onAbort = () => this.fail(id, new RequestError('cancelled', `${message.type} was cancelled`));
      const timer = setTimeout(() => this.fail(id, new RequestError('timeout',
        options.timeoutMessage ?? `${message.type} got no reply in ${options.timeoutMs || this.opts.timeoutMs} ms`)),
      options.timeoutMs || this.opts.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        type: message.type,
        replyType: String(this.opts.pairs[message.type]),
        resolve: resolve as (reply: In) => void,
        reject,
        timer,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      // Posted after registering, so a reply that comes back synchronously still finds its request.
      this.post({ ...message, id } as unknown as Out);
    });
  }

  /**
   * Route a received reply: true when it answered (or was a stale answer to) a pending request, false when it is
   * no reply of ours (unknown id, already settled by timeout or cancellation, or not the type the request expects).
   */
  handleReply(reply: In): boolean {
    const p = this.pending.get(reply.id);
    if (!p || p.replyType !== reply.type) return false;
    const gen = this.opts.generationOf?.(reply);
    if (gen !== undefined && gen < this.generation) {
      this.fail(reply.id, new RequestError('stale', `the reply to ${p.type} was for an earlier model`));
      return true;
    }
    this.settle(reply.id);
    p.resolve(reply);
    return true;
  }

  /** Reject every pending request (the owner is going away). */
  cancelAll(message = 'cancelled'): void {
    for (const id of [...this.pending.keys()]) this.fail(id, new RequestError('cancelled', message));
  }

  /** Requests still waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  private fail(id: number, err: RequestError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id);
    p.reject(err);
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.cleanup();
  }
}
