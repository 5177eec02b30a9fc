// The transmit-limited broadcast queue (docs/spec/memberlist-wire.md §11.3): every queued message is piggy-backed or gossiped
// at most retransmitMult × ceil(log10(n+1)) times, fresher and larger messages first. Exported
// for applications, which use it to feed the delegate's `getBroadcasts`.
import { retransmitLimit } from './suspicion.js';

export interface Broadcast {
  /** The bytes to send. Must not change while queued. */
  readonly message: Uint8Array;
  /** A named broadcast replaces any queued broadcast of the same name (e.g. one per node). */
  readonly name?: string;
  /** Unique broadcasts never invalidate anything and skip the invalidation scan. */
  readonly unique?: boolean;
  /** For unnamed, non-unique broadcasts: whether queuing this one invalidates `other`. */
  invalidates?(other: Broadcast): boolean;
  /** Called once when the broadcast will no longer be sent (limit reached or invalidated). */
  finished?(): void;
  /** Called each time the broadcast is handed out for a datagram, with how often it has been
   * handed out so far. Lets a caller wait for fewer transmits than the queue's limit: `leave()`
   * waits for Go's count while the `gossipMinTransmits` floor keeps retransmitting. */
  sent?(transmits: number): void;
}

/** A broadcast that replaces earlier broadcasts with the same name. */
export function namedBroadcast(
  name: string,
  message: Uint8Array,
  finished?: () => void,
): Broadcast {
  return finished ? { name, message, finished } : { name, message };
}

interface Item {
  transmits: number;
  len: number;
  id: number;
  b: Broadcast;
}

/** Sort order: fewer transmits first; then longer first; then newer (higher id) first. */
function before(a: Item, b: Item): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits;
  if (a.len !== b.len) return a.len > b.len;
  return a.id > b.id;
}

export class TransmitLimitedQueue {
  private items: Item[] = [];
  private readonly byName = new Map<string, Item>();
  private readonly lenCounts = new Map<number, number>();
  private minLen = Number.POSITIVE_INFINITY;
  /** Never reset (Go resets it when the queue empties, which can make a newer message look
   * older than one re-queued after a retransmit); 2^53 ids will not run out. */
  private idGen = 0;

  /**
   * @param numNodes current node count estimate (sets the retransmit limit)
   * @param retransmitMult multiplier of the retransmit limit
   * @param minTransmits floor of the retransmit limit (0 = Go's formula alone)
   */
  constructor(
    private readonly numNodes: () => number,
    public retransmitMult: number,
    public minTransmits = 0,
  ) {}

  /** Queues a broadcast, first removing any broadcast it invalidates. */
  queueBroadcast(b: Broadcast, initialTransmits = 0): void {
    this.idGen++;
    const item: Item = { transmits: initialTransmits, len: b.message.length, id: this.idGen, b };
    if (b.name !== undefined) {
      const old = this.byName.get(b.name);
      if (old) {
        this.remove(old);
        old.b.finished?.();
      }
    } else if (!b.unique && b.invalidates) {
      for (const cur of [...this.items]) {
        if (cur.b.name !== undefined || cur.b.unique) continue;
        if (b.invalidates(cur.b)) {
          this.remove(cur);
          cur.b.finished?.();
        }
      }
    }
    this.insert(item);
  }

  /** Messages for one datagram of `limit` bytes, charging `overhead` bytes per message. */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const items = this.items;
    if (items.length === 0) return [];
    const limitTx = Math.max(
      this.minTransmits,
      retransmitLimit(this.retransmitMult, this.numNodes()),
    );
    const out: Uint8Array[] = [];
    const skipped: Item[] = [];
    const bumped: Item[] = [];
    const done: Item[] = [];
    let used = 0;
    // Items are sorted by tier, then by length descending. Within a tier, an item that does not
    // fit now never fits later (free space only shrinks), so one forward pass selects exactly
    // what repeated "first fitting item of the lowest tier" searches would. The array is rebuilt
    // once at the end instead of being spliced per pick: O(n) per datagram, not O(picks × n).
    let i = 0;
    for (; i < items.length; i++) {
      const free = limit - used - overhead;
      // minLen may still count items picked in this pass; it only errs towards scanning on.
      if (free <= 0 || free < this.minLen) break;
      const cur = items[i];
      if (cur.len > free) {
        skipped.push(cur);
        continue;
      }
      out.push(cur.b.message);
      used += overhead + cur.len;
      if (cur.transmits + 1 >= limitTx) done.push(cur);
      else bumped.push(cur);
    }
    if (out.length === 0) return out;
    const rest = skipped.length === 0 ? items.slice(i) : skipped.concat(items.slice(i));
    for (const cur of done) this.forget(cur);
    for (const cur of bumped) cur.transmits++;
    // Picked items keep their relative order after the bump, so one merge re-sorts everything.
    this.items = bumped.length === 0 ? rest : merge(rest, bumped);
    for (const cur of bumped) cur.b.sent?.(cur.transmits);
    for (const cur of done) {
      cur.b.sent?.(cur.transmits + 1);
      cur.b.finished?.();
    }
    return out;
  }

  /** Number of queued broadcasts. */
  numQueued(): number {
    return this.items.length;
  }

  /** Drops everything, signalling completion of each broadcast. */
  reset(): void {
    const all = this.items;
    this.items = [];
    this.byName.clear();
    this.lenCounts.clear();
    this.minLen = Number.POSITIVE_INFINITY;
    for (const cur of all) cur.b.finished?.();
  }

  /** Keeps only the `maxRetain` most preferred broadcasts. */
  prune(maxRetain: number): void {
    while (this.items.length > maxRetain) {
      const cur = this.items[this.items.length - 1];
      this.removeAt(this.items.length - 1, cur);
      cur.b.finished?.();
    }
  }

  /** Snapshot of the queue in send order (for tests and diagnostics). */
  orderedView(): { transmits: number; message: Uint8Array; name?: string }[] {
    return this.items.map((x) => ({
      transmits: x.transmits,
      message: x.b.message,
      name: x.b.name,
    }));
  }

  private insert(item: Item): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.items[mid], item)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    if (item.b.name !== undefined) this.byName.set(item.b.name, item);
    this.lenCounts.set(item.len, (this.lenCounts.get(item.len) ?? 0) + 1);
    if (item.len < this.minLen) this.minLen = item.len;
  }

  private remove(item: Item): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.items[mid], item)) lo = mid + 1;
      else hi = mid;
    }
    if (this.items[lo] === item) this.removeAt(lo, item);
  }

  private removeAt(index: number, item: Item): void {
    this.items.splice(index, 1);
    this.forget(item);
  }

  /** Drops the name and length bookkeeping of an item leaving the queue. */
  private forget(item: Item): void {
    if (item.b.name !== undefined && this.byName.get(item.b.name) === item) {
      this.byName.delete(item.b.name);
    }
    const c = (this.lenCounts.get(item.len) ?? 1) - 1;
    if (c > 0) this.lenCounts.set(item.len, c);
    else {
      this.lenCounts.delete(item.len);
      if (item.len === this.minLen) {
        this.minLen = Number.POSITIVE_INFINITY;
        for (const l of this.lenCounts.keys()) if (l < this.minLen) this.minLen = l;
      }
    }
  }
}

/**
 * A queue that says when something is queued: memberlist's own queue and the ones it hands out
 * with `createBroadcastQueue()`, so a gossip loop parked while every queue was empty resumes.
 */
export class WatchedQueue extends TransmitLimitedQueue {
  constructor(
    numNodes: () => number,
    retransmitMult: number,
    minTransmits: number,
    private readonly onQueued: () => void,
  ) {
    super(numNodes, retransmitMult, minTransmits);
  }

  override queueBroadcast(b: Broadcast, initialTransmits = 0): void {
    super.queueBroadcast(b, initialTransmits);
    this.onQueued();
  }
}

/** Merges two arrays each sorted by `before` into one sorted array. */
function merge(a: Item[], b: Item[]): Item[] {
  const out: Item[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = before(b[j], a[i]) ? b[j++] : a[i++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
