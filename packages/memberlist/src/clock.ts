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

/** The process clock: `performance.now()` and Node timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

interface VirtualTimer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order and lets
 * promise chains (stream exchanges, awaited sends) settle between timers, so protocol code that
 * mixes timers and promises behaves as on the real clock, just without waiting.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: VirtualTimer[] = [];

  now(): number {
    return this.t;
  }

  /** Every node on one virtual clock shares this time, as hosts share wall-clock time. */
  wallNow(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.push(timer);
    return {
      cancel: () => {
        timer.fn = null;
      },
    };
  }

  /** Number of timers still scheduled (cancelled ones excluded). */
  pending(): number {
    return this.heap.filter((x) => x.fn !== null).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > end) break;
      this.pop();
      if (top.fn === null) continue;
      this.t = Math.max(this.t, top.at);
      const fn = top.fn;
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

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: VirtualTimer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
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
