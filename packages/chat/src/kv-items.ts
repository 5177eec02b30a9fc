/**
 * The key/value items of `broadcastadd` / `broadcastdel` as one peer holds them. Updates carry no
 * versions on the wire (the original's format), so a copy of an `add` still travelling after a
 * `del` would bring the item back: for a while after a delete, the same key and value are
 * refused (a different value is taken).
 */
import type { KvUpdate } from './kv-update.js';

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
