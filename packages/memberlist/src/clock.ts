// Time and timers behind an interface, so the protocol runs on the real clock in production and
// on a virtual clock in simulations (hundreds of nodes, deterministic, faster than real time).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences are meaningful). */
  now(): number;
  /** Runs `fn` once after `ms`; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Milliseconds of a scale shared by every node (wall-clock time), for work that nodes
   * schedule alike without talking (probe slots). Falls back to `now()` when absent. */
  wallNow?(): number;
}

interface Timer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/** Timers ordered by due time, then by creation; cancelled ones stay until popped. */
class TimerHeap {
  private seq = 0;
  private readonly h: Timer[] = [];

  add(at: number, fn: () => void): Timer {
    const x: Timer = { at, seq: this.seq++, fn };
    const h = this.h;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
    return x;
  }

  /** The earliest timer still scheduled, dropping cancelled ones on the way. */
  peek(): Timer | undefined {
    while (this.h.length > 0 && this.h[0].fn === null) this.pop();
    return this.h[0];
  }

  pop(): Timer | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
    return top;
  }

  liveCount(): number {
    return this.h.filter((x) => x.fn !== null).length;
  }

  clear(): void {
    this.h.length = 0;
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** What a `CoalescingClock` runs on: Node's timers, or another clock in tests. */
export interface TimerBase {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  wallNow?(): number;
}

const nodeTimers: TimerBase = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Real time with timer slack: every timer of every node in the process runs from one wake-up
 * per `slackMs` grid step, fired at the first step at or after its due time. An idle node
 * keeps about 15 timers a second (gossip rounds, probes, acks); with 20 or 200 nodes in one
 * process, each at its own phase, that was hundreds of event-loop wake-ups a second, the largest
 * part of the idle cost (issue 17). Timers run late by less than `slackMs` (early by under 1 ms,
 * as Node's own timers can be). A
 * callback that throws does not stop the others (see `onError`).
 */
export class CoalescingClock implements Clock {
  private readonly heap = new TimerHeap();
  private live = 0;
  private wake: TimerHandle | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  /** Inside `fire()`: timers added by callbacks are armed once, after the loop. */
  private firing = false;

  /**
   * @param slackMs the grid step; timers run late by less than this
   * @param base the timers it runs on (Node's by default)
   * @param onError gets what a callback threw; by default it is rethrown from a microtask,
   *   which is how Node reports a throwing timer
   */
  constructor(
    readonly slackMs = 20,
    private readonly base: TimerBase = nodeTimers,
    private readonly onError: (err: unknown) => void = rethrow,
  ) {
    if (!(slackMs >= 1)) throw new RangeError(`slackMs must be ≥ 1, got ${slackMs}`);
  }

  now(): number {
    return this.base.now();
  }

  wallNow(): number {
    return this.base.wallNow?.() ?? Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = this.heap.add(this.base.now() + Math.max(0, ms), fn);
    this.live++;
    this.arm();
    return {
      cancel: () => {
        if (timer.fn === null) return;
        timer.fn = null;
        if (--this.live === 0) this.idle();
        else if (!this.firing && this.step(timer.at) === this.wakeAt) this.rearm();
      },
    };
  }

  /** Number of timers still scheduled (cancelled ones excluded). */
  pending(): number {
    return this.live;
  }

  /** Nothing left: drop the cancelled entries and the wake-up, so no handle keeps Node alive. */
  private idle(): void {
    this.heap.clear();
    this.wake?.cancel();
    this.wake = null;
    this.wakeAt = Number.POSITIVE_INFINITY;
  }

  /** The grid step a timer due at `at` runs at. */
  private step(at: number): number {
    return Math.ceil(at / this.slackMs) * this.slackMs;
  }

  /**
   * The timer the wake-up was armed for was cancelled (most are: a probe's timeouts end with
   * its ack): move the wake-up to the next live timer, so it is not a wake-up for nothing.
   */
  private rearm(): void {
    const top = this.heap.peek();
    if (top === undefined || this.step(top.at) === this.wakeAt) return;
    this.wake?.cancel();
    this.wake = null;
    this.wakeAt = Number.POSITIVE_INFINITY;
    this.arm();
  }

  private arm(): void {
    if (this.firing) return;
    const top = this.heap.peek();
    if (top === undefined) return;
    const due = this.step(top.at);
    if (this.wake !== null && this.wakeAt <= due) return;
    this.wake?.cancel();
    this.wakeAt = due;
    this.wake = this.base.setTimeout(() => this.fire(), due - this.base.now());
  }

  private fire(): void {
    this.wake = null;
    this.wakeAt = Number.POSITIVE_INFINITY;
    // Node fires timers by its millisecond loop time, which may trail `now()` by under 1 ms.
    const now = this.base.now() + 1;
    this.firing = true;
    for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      const fn = top.fn!;
      top.fn = null;
      this.live--;
      try {
        fn();
      } catch (err) {
        this.onError(err);
      }
    }
    this.firing = false;
    if (this.live === 0) this.idle();
    else this.arm();
  }
}

function rethrow(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/**
 * The process clock's timer slack. Each wake-up of an otherwise idle process costs 100–140 µs of
 * CPU on this project's virtual machines before it runs anything (a bare 20 ms `setInterval`:
 * 0.41 CPU s/min), and the code it runs starts with cold caches. With 20 nodes in one process a
 * 50 ms grid costs about half the CPU of a 20 ms one (bench/memberlist/idle-parts.mjs, issue 17).
 * Timers stay on Go's cadence (see `CoalescingClock`); a tick, a probe timeout or a suspicion
 * timeout runs up to 50 ms late, which at the local preset's 100 ms gossip and 200 ms probe
 * timeout only delays and never loses work. Pass `new CoalescingClock(ms)` as the `clock` hook
 * for less.
 */
export const DEFAULT_TIMER_SLACK_MS = 50;

/** The process clock: `performance.now()`, and Node timers with `DEFAULT_TIMER_SLACK_MS`. */
export const realClock: Clock = new CoalescingClock(DEFAULT_TIMER_SLACK_MS);

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order and lets
 * promise chains (stream exchanges, awaited sends) settle between timers, so protocol code that
 * mixes timers and promises behaves as on the real clock, just without waiting.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private readonly heap = new TimerHeap();

  now(): number {
    return this.t;
  }

  /** Every node on one virtual clock shares this time, as hosts share wall-clock time. */
  wallNow(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = this.heap.add(this.t + Math.max(0, ms), fn);
    return {
      cancel: () => {
        timer.fn = null;
      },
    };
  }

  /** Number of timers still scheduled (cancelled ones excluded). */
  pending(): number {
    return this.heap.liveCount();
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.at > end) break;
      this.heap.pop();
      this.t = Math.max(this.t, top.at);
      const fn = top.fn!;
      top.fn = null;
      fn();
      await settle();
    }
    this.t = end;
  }

  /** Advances in steps of `stepMs` until `cond()` holds or `maxMs` elapsed; returns whether it held. */
  async runUntil(cond: () => boolean, maxMs: number, stepMs = 10): Promise<boolean> {
    const end = this.t + maxMs;
    while (!cond()) {
      if (this.t >= end) return false;
      await this.advance(Math.min(stepMs, end - this.t));
    }
    return true;
  }
}

/** Lets queued microtasks and nextTicks (promise chains, stream events) run to completion. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A small seedable PRNG (mulberry32) for deterministic simulations. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
