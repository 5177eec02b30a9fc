// Lifeguard suspicion timers (docs/spec/memberlist-wire.md §10): a suspicion starts at a long timeout and shrinks towards the
// minimum as independent nodes confirm it, so a real failure is declared quickly while a lone
// (perhaps overloaded) accuser cannot declare a healthy node dead fast.
import type { Clock, TimerHandle } from './clock.js';

/** Go's `suspicionTimeout`: mult × floor(max(1, log10(max(1, n))) × 1000) × interval / 1000. */
export function suspicionTimeoutMs(mult: number, n: number, intervalMs: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  // Go computes in integer nanoseconds; flooring the scale to 1/1000 matches its output exactly.
  return (mult * Math.floor(scale * 1000) * intervalMs) / 1000;
}

/** Go's `pushPullScale` multiplier: 1 up to 32 nodes, then +1 per doubling (§7.4). */
export function pushPullScaleMultiplier(n: number): number {
  if (n <= 32) return 1;
  return Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
}

export function pushPullScale(intervalMs: number, n: number): number {
  return pushPullScaleMultiplier(n) * intervalMs;
}

/** Go's `retransmitLimit`: mult × ceil(log10(n + 1)). */
export function retransmitLimit(mult: number, n: number): number {
  return mult * Math.ceil(Math.log10(n + 1));
}

/**
 * Timeout after `confirmations` of `k` wanted independent confirmations, in milliseconds:
 * max − ln(c + 1)/ln(k + 1) × (max − min), floored to whole ms and never below min.
 */
export function remainingSuspicionMs(
  confirmations: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs / 1000 - frac * (maxMs / 1000 - minMs / 1000);
  const timeout = Math.max(Math.floor(raw * 1000), minMs);
  return timeout - elapsedMs;
}

/** One running suspicion of one node. */
export class Suspicion {
  private confirmed = 0;
  private readonly seen = new Set<string>();
  private readonly start: number;
  private timer: TimerHandle | null;
  private fired = false;

  /**
   * @param from the accuser; never counted as a confirmation
   * @param k confirmations wanted before the timeout reaches `minMs`
   * @param onTimeout called once when the suspicion expires; gets the confirmation count
   */
  constructor(
    private readonly clock: Clock,
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    this.seen.add(from);
    this.start = clock.now();
    // With k < 1 no confirmations are expected, so go straight to the minimum.
    const timeout = k < 1 ? minMs : maxMs;
    this.timer = clock.setTimeout(() => this.fire(), timeout);
  }

  /** Registers a confirmation from `from`; returns true if it was new and counted (re-gossip it). */
  confirm(from: string): boolean {
    if (this.fired) return false;
    if (this.confirmed >= this.k) return false;
    if (this.seen.has(from)) return false;
    this.seen.add(from);
    this.confirmed++;
    const remaining = remainingSuspicionMs(
      this.confirmed,
      this.k,
      this.clock.now() - this.start,
      this.minMs,
      this.maxMs,
    );
    this.timer?.cancel();
    // Fire from a fresh timer even when already overdue, so expiry never runs re-entrantly
    // inside the message handler that delivered the confirmation.
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, remaining));
    return true;
  }

  get confirmations(): number {
    return this.confirmed;
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
    this.fired = true;
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.timer = null;
    this.onTimeout(this.confirmed);
  }
}
