import * as assert from 'assert';
import { Debouncer, KeyedCoalescer, LatestGate, TYPING_DEBOUNCE, WATCH_BURST } from '../../src/core/coalesce';
import type { Timers } from '../../src/core/coalesce';

/** A manual clock: advance(ms) runs due timers in time order. */
class FakeTimers implements Timers {
  private t = 0;
  private seq = 0;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.queue.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.queue.delete(handle as number);
  }
  now(): number {
    return this.t;
  }
  /** Moves time forward, firing timers due on the way (and awaiting the microtasks they start). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.queue) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.queue.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('host: Debouncer', () => {
  it('runs once, 150 ms after the last of a run of keystrokes', async () => {
    const timers = new FakeTimers();
    const runs: number[] = [];
    const d = new Debouncer(() => void runs.push(timers.now()), { delayMs: 150, timers });
    for (let i = 0; i < 10; i++) {
      d.trigger();
      await timers.advance(40); // typing at 25 keys per second
    }
    assert.deepStrictEqual(runs, []);
    await timers.advance(150);
    assert.deepStrictEqual(runs, [360 + 150]);
  });

  it('turns 1,000 change events in a second into a handful of runs (maxWait)', async () => {
    const timers = new FakeTimers();
    let runs = 0;
    const d = new Debouncer(() => void runs++, { delayMs: 100, maxWaitMs: 250, timers });
    for (let i = 0; i < 1000; i++) {
      d.trigger();
      await timers.advance(1);
    }
    await timers.advance(500);
    // 1000 ms of events with a 250 ms cap: a run at 250, 500, 750, 1000 and the trailing one.
    assert.ok(runs >= 4 && runs <= 6, `runs = ${runs}`);
  });

  it('never overlaps a slow run; triggers during it give exactly one more run', async () => {
    const timers = new FakeTimers();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    const d = new Debouncer(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await new Promise<void>((r) => (release = r));
      active--;
    }, { delayMs: 10, timers });
    d.trigger();
    await timers.advance(10);
    assert.strictEqual(runs, 1);
    for (let i = 0; i < 5; i++) {
      d.trigger();
      await timers.advance(20);
    }
    assert.strictEqual(runs, 1, 'still waiting for the first run');
    release?.();
    await settle();
    assert.strictEqual(runs, 2);
    release?.();
    await settle();
    assert.strictEqual(runs, 2);
    assert.strictEqual(maxActive, 1);
    assert.strictEqual(d.busy, false);
  });

  it('keeps running after an action throws, and reports the error', async () => {
    const timers = new FakeTimers();
    const errors: string[] = [];
    let n = 0;
    const d = new Debouncer(() => {
      n++;
      if (n === 1) throw new Error('bad JSON');
    }, { delayMs: 5, timers }, (e) => errors.push((e as Error).message));
    d.trigger();
    await timers.advance(5);
    d.trigger();
    await timers.advance(5);
    assert.strictEqual(n, 2);
    assert.deepStrictEqual(errors, ['bad JSON']);
  });

  it('does nothing after dispose, and flush runs a pending action at once', async () => {
    const timers = new FakeTimers();
    let n = 0;
    const d = new Debouncer(() => void n++, { delayMs: 100, timers });
    d.trigger();
    await d.flush();
    assert.strictEqual(n, 1);
    await d.flush();
    assert.strictEqual(n, 1, 'nothing pending');
    d.trigger();
    d.dispose();
    await timers.advance(1000);
    d.trigger();
    await timers.advance(1000);
    assert.strictEqual(n, 1);
  });
});

describe('host: KeyedCoalescer', () => {
  it('coalesces per file and forgets idle files', async () => {
    const timers = new FakeTimers();
    const seen: string[] = [];
    const c = new KeyedCoalescer<string>((k) => void seen.push(k), { delayMs: 50, maxWaitMs: 200, timers });
    for (let i = 0; i < 300; i++) {
      c.trigger('a.npy');
      if (i % 100 === 0) c.trigger('b.npy');
      await timers.advance(1);
    }
    await timers.advance(100);
    const a = seen.filter((k) => k === 'a.npy').length;
    const b = seen.filter((k) => k === 'b.npy').length;
    assert.ok(a >= 2 && a <= 3, `a reloads = ${a}`);
    assert.strictEqual(b, 3, 'b was touched at 0, 100 and 200 ms, each time quiet for longer than 50 ms');
    assert.strictEqual(c.size, 0);
    c.trigger('a.npy');
    c.dispose();
    await timers.advance(100);
    assert.strictEqual(seen.filter((k) => k === 'a.npy').length, a);
  });
});

describe('host: the settings the surfaces use', () => {
  it('watcher: 1,000 writes in one second of one file, with 30 ms reloads, give 3-4 reloads, never overlapping', async () => {
    const timers = new FakeTimers();
    let reloads = 0;
    let active = 0;
    let overlap = false;
    const c = new KeyedCoalescer<string>(async () => {
      reloads++;
      active++;
      overlap ||= active > 1;
      await new Promise<void>((r) => timers.setTimeout(r, 30)); // a reload reads the file and posts the model
      active--;
    }, { ...WATCH_BURST, timers });
    for (let i = 0; i < 1000; i++) {
      c.trigger('file:///w/live.npy');
      await timers.advance(1);
    }
    await timers.advance(1000);
    console.log(`      1,000 change events in 1 s → ${reloads} reloads`);
    assert.ok(reloads >= 3 && reloads <= 4, `reloads = ${reloads}`);
    assert.strictEqual(overlap, false);
    assert.strictEqual(c.size, 0);
  });

  it('typing: 40 keystrokes 80 ms apart give one recompute a second, then one 150 ms after the last', async () => {
    const timers = new FakeTimers();
    const at: number[] = [];
    const d = new Debouncer(() => void at.push(timers.now()), { ...TYPING_DEBOUNCE, timers });
    for (let i = 0; i < 40; i++) {
      d.trigger();
      await timers.advance(80);
    }
    await timers.advance(1000);
    // Each burst is capped 1 s after its first keystroke (0, 1040, 2080); the last keystroke is at 3120.
    assert.deepStrictEqual(at, [1000, 2040, 3080, 3120 + 150]);
  });
});

describe('host: LatestGate', () => {
  it('only the newest start is current, and nothing after dispose', () => {
    const g = new LatestGate();
    const first = g.start();
    const second = g.start();
    assert.strictEqual(g.isCurrent(first), false);
    assert.strictEqual(g.isCurrent(second), true);
    g.dispose();
    assert.strictEqual(g.isCurrent(second), false);
  });
});
