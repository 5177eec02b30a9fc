// Start-up joins of `isopeer node --count K`: node i > 0 joins node 0 (as the line protocol
// says), but paced and retried. All K nodes share one event loop, so 199 simultaneous joins make
// node 0 answer 199 push/pulls while 199 joiners wait on the same loop, and most of them miss
// the local preset's 1 s TCP timeout; a refused or timed-out join left a node alone for good.

/** How start-up joins are paced and retried. */
export interface JoinPolicy {
  /**
   * Joins in flight at once. Small enough that the seed answers each push/pull well within the
   * TCP timeout although every node runs on this loop; large enough that 199 joins of ~5 ms
   * each take well under a second.
   */
  window: number;
  /** Attempts per join, the first one included. */
  maxAttempts: number;
  /** Delay before the first retry; doubled for each further one, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts later than this after the first attempt, so a hopeless join ends. */
  giveUpAfterMs: number;
}

/** ~10 attempts within ~30 s: 0.2, 0.4, 0.8 … 5 s between them, each jittered down by up to half. */
export const DEFAULT_JOIN_POLICY: JoinPolicy = {
  window: 8,
  maxAttempts: 10,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  giveUpAfterMs: 30_000,
};

/** The delay before retry number `retry` (1 = first retry), jittered to [50 %, 100 %]. */
export function backoffDelayMs(policy: JoinPolicy, retry: number, random: () => number): number {
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  // Jitter keeps joiners that failed together from coming back together.
  return nominal * (0.5 + random() / 2);
}

/** Admits at most `size` tasks at once, in arrival order. */
export class Window {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so `active` never dips and lets a newcomer jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface JoinOutcome {
  ok: boolean;
  contacted: number;
  attempts: number;
  error?: string;
}

export interface RetryHooks {
  /** Called when an attempt failed and another one follows after `delayMs`. */
  retrying(attempt: number, error: string, delayMs: number): void;
  /** False once the node is shutting down: no further attempt starts. */
  alive(): boolean;
}

/**
 * Runs `attempt` through `window` until it succeeds or the policy gives up; the slot is free
 * while waiting out a backoff, so a failing joiner never holds up the others.
 */
export async function joinWithRetry(
  attempt: () => Promise<number>,
  window: Window,
  policy: JoinPolicy,
  hooks: RetryHooks,
  random: () => number = Math.random,
): Promise<JoinOutcome> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      const contacted = await window.run(attempt);
      return { ok: true, contacted, attempts: n };
    } catch (err) {
      const error = (err as Error).message;
      const delayMs = backoffDelayMs(policy, n, random);
      const last =
        n >= policy.maxAttempts ||
        Date.now() + delayMs - started > policy.giveUpAfterMs ||
        !hooks.alive();
      if (last) return { ok: false, contacted: 0, attempts: n, error };
      hooks.retrying(n, error, delayMs);
      // A timer, not a poll: the backoff itself is the point.
      await new Promise((r) => setTimeout(r, delayMs).unref());
      if (!hooks.alive()) return { ok: false, contacted: 0, attempts: n, error };
    }
  }
}
