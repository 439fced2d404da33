/**
 * Debouncing and coalescing for the host surfaces: typing in a JSON file (recompute ~150 ms after the last
 * keystroke), and training scripts rewriting a watched .npy hundreds of times a second (a handful of reloads,
 * never two at once for the same file). Pure: timers are injected so unit tests drive a fake clock.
 */

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** Typing in a JSON file: recompute 150 ms after the last keystroke, and at least once a second while typing on. */
export const TYPING_DEBOUNCE = { delayMs: 150, maxWaitMs: 1000 } as const;

/**
 * A watched file rewritten in a burst: reload 100 ms after the last write, at most 400 ms after the first, so a
 * script saving 1,000 times a second gives a few reloads a second (each waits for the previous one to finish).
 */
export const WATCH_BURST = { delayMs: 100, maxWaitMs: 400 } as const;

export interface DebounceOptions {
  /** Quiet time after the last trigger before running. */
  readonly delayMs: number;
  /**
   * Longest a run may be postponed by a steady stream of triggers (measured from the first trigger of the burst).
   * Without it a script writing every 5 ms would starve the view forever.
   */
  readonly maxWaitMs?: number;
  readonly timers?: Timers;
}

/**
 * Trailing-edge debounce with an optional maximum wait, and single flight: if the action is still running
 * (a reload awaiting disk) when the timer fires, one more run is queued for when it finishes instead of
 * overlapping it. Errors from the action are passed to `onError` so a failed run never stops later ones.
 */
export class Debouncer {
  private handle: unknown;
  private firstTrigger: number | undefined;
  private running = false;
  private rerun = false;
  private disposed = false;
  private readonly timers: Timers;

  constructor(
    private readonly action: () => void | Promise<void>,
    private readonly options: DebounceOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
    /** Called when a run ends with nothing scheduled or queued after it. */
    private readonly onIdle: () => void = () => undefined,
  ) {
    this.timers = options.timers ?? realTimers;
  }

  /** True while a run is scheduled, in flight or queued. */
  get busy(): boolean {
    return this.handle !== undefined || this.running || this.rerun;
  }

  trigger(): void {
    if (this.disposed) return;
    const now = this.timers.now();
    if (this.firstTrigger === undefined) this.firstTrigger = now;
    let wait = this.options.delayMs;
    if (this.options.maxWaitMs !== undefined) {
      const left = this.firstTrigger + this.options.maxWaitMs - now;
      wait = Math.max(0, Math.min(wait, left));
    }
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = this.timers.setTimeout(() => this.fire(), wait);
  }

  /** Runs now if something is pending (e.g. on save), cancelling the timer. */
  flush(): Promise<void> {
    if (this.handle === undefined) return Promise.resolve();
    this.timers.clearTimeout(this.handle);
    return this.fire();
  }

  cancel(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.firstTrigger = undefined;
    this.rerun = false;
  }

  dispose(): void {
    this.cancel();
    this.disposed = true;
  }

  private async fire(): Promise<void> {
    this.handle = undefined;
    this.firstTrigger = undefined;
    if (this.disposed) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    try {
      await this.action();
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
    if (this.rerun && !this.disposed) {
      this.rerun = false;
      await this.fire();
    } else if (this.handle === undefined) {
      this.onIdle();
    }
  }
}

/**
 * One Debouncer per key (a file URI): bursts for the same file coalesce, different files don't wait for each
 * other. Idle keys are dropped after they run so a long session watching many files does not grow a map forever.
 */
export class KeyedCoalescer<K> {
  private readonly byKey = new Map<K, Debouncer>();
  private disposed = false;

  constructor(
    private readonly action: (key: K) => void | Promise<void>,
    private readonly options: DebounceOptions,
    private readonly onError: (key: K, err: unknown) => void = () => undefined,
  ) {}

  trigger(key: K): void {
    if (this.disposed) return;
    let d = this.byKey.get(key);
    if (!d) {
      const debouncer: Debouncer = new Debouncer(
        () => this.action(key),
        this.options,
        (err) => this.onError(key, err),
        () => {
          if (this.byKey.get(key) === debouncer) this.byKey.delete(key);
        },
      );
      d = debouncer;
      this.byKey.set(key, d);
    }
    d.trigger();
  }

  /** Keys with a run scheduled, in flight or queued. */
  get size(): number {
    return this.byKey.size;
  }

  cancel(key: K): void {
    this.byKey.get(key)?.dispose();
    this.byKey.delete(key);
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.byKey.values()) d.dispose();
    this.byKey.clear();
  }
}

/**
 * Latest-wins guard for async work: each start() returns a token; after every await the work asks
 * isCurrent(token) and drops its result if a newer start (another keystroke) or dispose happened meanwhile.
 */
export class LatestGate {
  private generation = 0;
  private disposed = false;

  start(): number {
    return ++this.generation;
  }

  isCurrent(token: number): boolean {
    return !this.disposed && token === this.generation;
  }

  dispose(): void {
    this.disposed = true;
  }
}
