// Who may add new names to the node table: a token bucket per source, so one sender cannot fill
// the table with made-up names faster than `newNodeRatePerSource` once its burst is spent. The
// table cap itself (`maxNodes`) is enforced by state.ts, which owns the records.
import { isIP } from 'node:net';
import { ipToBytes, parseHostPort } from './address.js';

/**
 * The key a datagram or stream source is limited under. Off loopback it is the IP address
 * (an IPv6 /64, which one host typically owns whole), so more ports do not buy more names. On
 * loopback every node of a test or a `--count` process shares 127.0.0.1, and a local attacker
 * has easier ways in, so the port counts there.
 */
export function sourceKey(from: string): string {
  let host: string;
  try {
    host = parseHostPort(from, 0).host;
  } catch {
    return from;
  }
  if (isIP(host) !== 6) return host.startsWith('127.') ? from : host;
  const b = ipToBytes(host);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) {
    const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    return b[12] === 127 ? from : v4;
  }
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return from; // ::1
  return `${Buffer.from(b.subarray(0, 8)).toString('hex')}::/64`;
}

interface Bucket {
  tokens: number;
  /** Clock time `tokens` was computed at. */
  at: number;
}

/**
 * Token buckets keyed by source. At most `maxSources` buckets are kept: a full bucket is the
 * same as none, so those are dropped first, and past that the longest-kept one goes (a sender
 * rotating through more sources than that can only be spoofing addresses, which no per-source
 * limit stops; the table cap still holds).
 */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxSources: number,
  ) {}

  /** Takes one token for `key` at clock time `now` (ms); false if its bucket is empty. */
  take(key: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) this.makeRoom(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = this.refilled(b, now);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Buckets currently kept (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(b: Bucket, now: number): number {
    return Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) * this.perSecond) / 1000);
  }

  private makeRoom(now: number): void {
    // A sweep is O(buckets); doing it at most once per refill period keeps a flood of new
    // sources at O(1) each while still dropping every bucket that has become full again.
    const refillMs = (this.burst / this.perSecond) * 1000;
    if (now - this.lastSweep >= refillMs) {
      this.lastSweep = now;
      for (const [k, b] of this.buckets) {
        if (this.refilled(b, now) >= this.burst) this.buckets.delete(k);
      }
    }
    if (this.buckets.size >= this.maxSources) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
