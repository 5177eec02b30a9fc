/**
 * Who refills the bootstrap list when a member departs. The original had every member call
 * `leave` and `refill` (2·(N−1) requests per departure). Here every member ranks the live chat
 * members the same way — oldest chat JOIN timestamp first, then node name — and only the first
 * `minrefillcandidates` of them talk to the service. Everyone holds the same chat records (they
 * are gossiped), so everyone computes the same ranking without coordination.
 */
import { type ChatMemberRecord, compareTimestamps } from './member-record.js';

export function rankByAge(members: Iterable<ChatMemberRecord>): ChatMemberRecord[] {
  return [...members].sort(
    (a, b) =>
      compareTimestamps(a.timestamp, b.timestamp) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** The `count` longest-running of `members` (count < 1 is treated as 1: someone must refill). */
export function refillCandidates(members: Iterable<ChatMemberRecord>, count: number): string[] {
  return rankByAge(members)
    .slice(0, Math.max(1, Math.floor(count)))
    .map((m) => m.name);
}

export interface BackoffOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal;
  /** Which errors are worth another attempt; others are thrown at once. */
  retryable(err: unknown): boolean;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

/** Runs `fn` until it succeeds, with exponential backoff (plus up to 20 % jitter) between tries. */
export async function withBackoff<T>(fn: () => Promise<T>, opts: BackoffOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retryable(err) || opts.signal?.aborted) throw err;
      const base = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(base * (1 + Math.random() * 0.2));
      opts.onRetry?.(err, attempt, delay);
      await abortableDelay(delay, opts.signal);
    }
  }
}

export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
