// A memo table that cannot grow without limit: keys often come from untrusted peers (addresses,
// names), so past `max` entries it starts over. Clearing costs only re-computation, and unlike an
// LRU it keeps no per-hit bookkeeping on the hot paths that use it (every datagram sent).

export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  /** @param make computes the value for a key not in the table */
  constructor(
    private readonly max: number,
    private readonly make: (key: K) => V,
  ) {}

  /** The value for `key`, computed and kept on a miss. */
  get(key: K): V {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      v = this.make(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Number of entries held (never above `max`). */
  get size(): number {
    return this.map.size;
  }
}
