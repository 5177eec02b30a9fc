/**
 * The key/value items of `broadcastadd` / `broadcastdel` as one peer holds them, and their gossip.
 * Updates carry no versions on the wire (the original's format), so a copy of an `add` still
 * travelling after a `del` would bring the item back: for a while after a delete, the same key
 * and value are refused (a different value is taken).
 */
import { namedBroadcast, type TransmitLimitedQueue } from '@isopeer/memberlist';
import { decodeKvUpdates, encodeKvUpdates, isKvMessage, type KvUpdate } from './kv-update.js';
import { type PeerContext, requireQueue } from './peer-context.js';

/** Longer than a broadcast lives in gossip (retransmits × gossip interval, a few seconds). */
export const KV_TOMBSTONE_MS = 10_000;
const MAX_TOMBSTONES = 1_000;

export class KvItems {
  readonly items = new Map<string, string>();
  private readonly tombstones = new Map<string, { value: string; until: number }>();

  constructor(private readonly tombstoneMs = KV_TOMBSTONE_MS) {}

  /** Applies an update; returns the part that changed something (empty Data: nothing new). */
  apply(u: KvUpdate, now = Date.now()): KvUpdate {
    const changed: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.Data)) {
      if (u.Action === 'add') {
        const tomb = this.tombstones.get(k);
        if (tomb && tomb.until > now && tomb.value === v) continue;
        this.tombstones.delete(k);
        if (this.items.get(k) !== v) {
          this.items.set(k, v);
          changed[k] = v;
        }
      } else {
        const old = this.items.get(k);
        if (old !== undefined) {
          this.items.delete(k);
          this.tombstones.set(k, { value: old, until: now + this.tombstoneMs });
          changed[k] = v;
        }
      }
    }
    if (this.tombstones.size > MAX_TOMBSTONES) {
      for (const [k, t] of this.tombstones) if (t.until <= now) this.tombstones.delete(k);
    }
    return { Action: u.Action, Data: changed };
  }
}

/**
 * The items of one peer and their gossip: updates made here are applied and broadcast, updates
 * that arrive are applied and passed on when they were news, and newcomers get every item again.
 */
export class ReplicatedItems {
  readonly #kv = new KvItems();

  constructor(private readonly ctx: PeerContext) {}

  /** Key → message. */
  get items(): ReadonlyMap<string, string> {
    return this.#kv.items;
  }

  /** `broadcastadd` / `broadcastdel`: applies the update here and gossips it. */
  broadcast(update: KvUpdate): void {
    const queue = requireQueue(this.ctx);
    this.#kv.apply(update);
    queueKv(queue, update);
  }

  /** A user message that arrived; false if it is not an item update. */
  onMessage(msg: Uint8Array): boolean {
    if (!isKvMessage(msg)) return false;
    // As with member records, an update that was news here is passed on (the original left it
    // to the sender's few retransmits); one that changes nothing is not, so it dies out.
    for (const u of decodeKvUpdates(msg)) {
      const changed = this.#kv.apply(u);
      const queue = this.ctx.queue();
      if (queue && Object.keys(changed.Data).length > 0) queueKv(queue, changed);
    }
    return true;
  }

  /**
   * Items are not part of the state exchange (the original's LocalState holds members only), so
   * a newcomer, or a member back after being declared failed, missed the adds sent before. This
   * sends them again: a receiver that has them changes nothing and passes nothing on.
   */
  resendAll(): void {
    const queue = this.ctx.queue();
    if (queue && this.#kv.items.size > 0) {
      queueKv(queue, { Action: 'add', Data: Object.fromEntries(this.#kv.items) });
    }
  }
}

/** One broadcast per key, so a newer update of a key replaces an older one still queued. */
function queueKv(queue: TransmitLimitedQueue, update: KvUpdate): void {
  for (const [k, v] of Object.entries(update.Data)) {
    queue.queueBroadcast(
      namedBroadcast(
        `chat-kv:${k}`,
        encodeKvUpdates([{ Action: update.Action, Data: { [k]: v } }]),
      ),
    );
  }
}
