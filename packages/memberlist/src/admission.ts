// What news the node table believes from unauthenticated peers (issue 12): new names only
// within the table cap and a token bucket per source, so one sender cannot fill the table with
// made-up names; incarnation numbers only without absurd jumps, so one forged accusation cannot
// use up the uint32 range a node needs to refute. state.ts owns the records and asks here.
import { isIP } from 'node:net';
import { ipToBytes, parseHostPort } from './address.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';

/** Incarnations are uint32 on the wire. */
export const MAX_INCARNATION = 0xffff_ffff;

/** The local incarnation cannot grow any further (code `ERR_INCARNATION`). */
export class IncarnationError extends Error {
  readonly code = 'ERR_INCARNATION';
  constructor(message: string) {
    super(message);
    this.name = 'IncarnationError';
  }
}

/** The table's side of admission: its size, and dropping long-gone records to make room. */
export interface NodeTable {
  readonly size: number;
  makeRoom(): void;
}

/** The limits of `Config` against hostile peers that decide what enters the table. */
export class Admission {
  private readonly newNodes: SourceRateLimiter;
  /** Clock time of the last sweep for room in a full table. */
  private lastRoomSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {
    // More distinct sources than table slots is itself a sign of spoofing; cap the buckets so.
    this.newNodes = new SourceRateLimiter(
      config.newNodeBurstPerSource,
      config.newNodeRatePerSource,
      config.maxNodes,
    );
  }

  /**
   * Whether news carrying incarnation `next` about a node known at `known` (undefined: no
   * record yet) is absurd: above `incarnationJumpCeiling` only one step past the known number
   * is believed. Counted when refused.
   */
  absurdIncarnation(next: number, known: number | undefined): boolean {
    if (next <= this.config.incarnationJumpCeiling) return false;
    if (known !== undefined && next <= known + 1) return false;
    this.metrics.refusedIncarnation++;
    return true;
  }

  /**
   * The incarnation that refutes an accusation at `accused` when ours is `own`, or null (counted)
   * when we must not: the accusation is itself absurd (what other isopeer nodes refuse too, so
   * they never hold one we cannot answer) or the answer would not fit in 32 bits, where Go
   * wraps to a small number that can never win.
   */
  refutation(own: number, accused: number): number | null {
    if (this.absurdIncarnation(accused, own)) return null;
    const inc = Math.max(own, accused) + 1;
    if (inc > MAX_INCARNATION) {
      this.metrics.refusedIncarnation++;
      return null;
    }
    return inc;
  }

  /**
   * Whether a new name from `source` (undefined: our own or a trusted join reply) may enter
   * `table` at clock time `now`: the per-source rate first, then the table cap, making room
   * (dropping long-dead and long-left records) at most once per probe interval. Counted when
   * refused.
   */
  admitNewNode(source: string | undefined, now: number, table: NodeTable): boolean {
    if (source !== undefined && !this.newNodes.take(sourceKey(source), now)) {
      this.metrics.refusedNewNodeRate++;
      return false;
    }
    const cap = this.config.maxNodes;
    if (table.size >= cap && now - this.lastRoomSweep >= this.config.probeIntervalMs) {
      this.lastRoomSweep = now;
      table.makeRoom();
    }
    if (table.size >= cap) {
      this.metrics.refusedNodeLimit++;
      return false;
    }
    return true;
  }
}

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
