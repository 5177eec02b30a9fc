import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Broadcast, namedBroadcast, TransmitLimitedQueue } from '../src/queue.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('TransmitLimitedQueue (docs/spec/memberlist-wire.md §11.3)', () => {
  it('a named broadcast replaces the queued one with the same name and finishes it', () => {
    const q = new TransmitLimitedQueue(() => 10, 4);
    let finished = 0;
    q.queueBroadcast(namedBroadcast('n1', bytes(10), () => finished++));
    q.queueBroadcast(namedBroadcast('n2', bytes(10)));
    q.queueBroadcast(namedBroadcast('n1', bytes(12), () => finished++));
    assert.equal(q.numQueued(), 2);
    assert.equal(finished, 1);
    assert.deepEqual(
      q.orderedView().map((x) => x.name),
      ['n1', 'n2'],
    );
  });

  it('orders by transmits, then longer first, then newer first', () => {
    const q = new TransmitLimitedQueue(() => 10, 4);
    q.queueBroadcast({ message: bytes(5), name: 'a' });
    q.queueBroadcast({ message: bytes(9), name: 'b' });
    q.queueBroadcast({ message: bytes(5), name: 'c' });
    q.queueBroadcast({ message: bytes(7), name: 'd' }, 1);
    assert.deepEqual(
      q.orderedView().map((x) => x.name),
      ['b', 'c', 'a', 'd'],
    );
  });

  it('fills a datagram with what fits, charging overhead per message', () => {
    const q = new TransmitLimitedQueue(() => 10, 4);
    q.queueBroadcast({ message: bytes(40, 1), name: 'big' });
    q.queueBroadcast({ message: bytes(20, 2), name: 'mid' });
    q.queueBroadcast({ message: bytes(10, 3), name: 'small' });
    // limit 50, overhead 2: big (42) fits, then free = 50-42-2 = 6: nothing else fits.
    const first = q.getBroadcasts(2, 50);
    assert.deepEqual(
      first.map((m) => m.length),
      [40],
    );
    // Next datagram prefers the untransmitted ones.
    const second = q.getBroadcasts(2, 50);
    assert.deepEqual(
      second.map((m) => m.length),
      [20, 10],
    );
  });

  it('sends each message at most retransmitLimit times, then finishes it', () => {
    // n = 5 → limit = 2 × ceil(log10(6)) = 2.
    const q = new TransmitLimitedQueue(() => 5, 2);
    let finished = 0;
    q.queueBroadcast({ message: bytes(10), name: 'x', finished: () => finished++ });
    assert.equal(q.getBroadcasts(2, 1400).length, 1);
    assert.equal(q.getBroadcasts(2, 1400).length, 1);
    assert.equal(q.getBroadcasts(2, 1400).length, 0);
    assert.equal(finished, 1);
    assert.equal(q.numQueued(), 0);
  });

  it('with a limit of 0 (n = 0) a message is still sent once', () => {
    const q = new TransmitLimitedQueue(() => 0, 4);
    q.queueBroadcast({ message: bytes(3), name: 'x' });
    assert.equal(q.getBroadcasts(2, 100).length, 1);
    assert.equal(q.getBroadcasts(2, 100).length, 0);
  });

  it('never returns the same message twice in one datagram', () => {
    const q = new TransmitLimitedQueue(() => 1000, 4);
    for (let i = 0; i < 5; i++) q.queueBroadcast({ message: bytes(10, i), name: `m${i}` });
    const out = q.getBroadcasts(2, 1400);
    assert.equal(out.length, 5);
    assert.equal(new Set(out.map((m) => m[0])).size, 5);
  });

  it('unnamed broadcasts use invalidates(); unique ones are never scanned', () => {
    const q = new TransmitLimitedQueue(() => 10, 4);
    let finished = 0;
    const tagged = (tag: string): Broadcast & { tag: string } => ({
      message: bytes(4),
      tag,
      invalidates(other: Broadcast) {
        return (other as { tag?: string }).tag === tag;
      },
      finished: () => finished++,
    });
    q.queueBroadcast(tagged('t'));
    q.queueBroadcast({ message: bytes(4), unique: true });
    q.queueBroadcast(tagged('t'));
    assert.equal(q.numQueued(), 2);
    assert.equal(finished, 1);
  });

  it('prune keeps the most preferred, reset finishes everything', () => {
    const q = new TransmitLimitedQueue(() => 10, 4);
    let finished = 0;
    for (let i = 1; i <= 4; i++) {
      q.queueBroadcast({ message: bytes(i), name: `m${i}`, finished: () => finished++ });
    }
    q.prune(2);
    assert.deepEqual(
      q.orderedView().map((x) => x.name),
      ['m4', 'm3'],
    );
    q.reset();
    assert.equal(q.numQueued(), 0);
    assert.equal(finished, 4);
  });
});

/** The §11.3 algorithm written as literally as possible, to compare the optimised queue against. */
class ReferenceQueue {
  items: { transmits: number; len: number; id: number; name: string; msg: Uint8Array }[] = [];
  id = 0;
  constructor(
    private n: number,
    private mult: number,
    private min: number,
  ) {}
  queue(name: string, msg: Uint8Array) {
    this.items = this.items.filter((x) => x.name !== name);
    this.items.push({ transmits: 0, len: msg.length, id: ++this.id, name, msg });
  }
  get(overhead: number, limit: number): Uint8Array[] {
    const limitTx = Math.max(this.min, this.mult * Math.ceil(Math.log10(this.n + 1)));
    const sorted = () =>
      [...this.items].sort((a, b) => a.transmits - b.transmits || b.len - a.len || b.id - a.id);
    const out: Uint8Array[] = [];
    const reinsert: typeof this.items = [];
    let used = 0;
    const tiers = [...new Set(this.items.map((x) => x.transmits))].sort((a, b) => a - b);
    for (const t of tiers) {
      for (;;) {
        const free = limit - used - overhead;
        if (free <= 0) return this.finish(out, reinsert);
        const pick = sorted().find((x) => x.transmits === t && x.len <= free);
        if (!pick) break;
        out.push(pick.msg);
        used += overhead + pick.len;
        this.items = this.items.filter((x) => x !== pick);
        if (pick.transmits + 1 < limitTx) reinsert.push({ ...pick, transmits: pick.transmits + 1 });
      }
    }
    return this.finish(out, reinsert);
  }
  private finish(out: Uint8Array[], reinsert: typeof this.items) {
    this.items.push(...reinsert);
    return out;
  }
}

describe('TransmitLimitedQueue matches the literal §11.3 algorithm', () => {
  it('on random operation sequences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('q' as const),
              name: fc.integer({ min: 0, max: 12 }),
              len: fc.integer({ min: 1, max: 90 }),
            }),
            fc.record({ op: fc.constant('g' as const), limit: fc.integer({ min: 0, max: 300 }) }),
          ),
          { maxLength: 80 },
        ),
        (n, ops) => {
          const q = new TransmitLimitedQueue(() => n, 2, 3);
          const ref = new ReferenceQueue(n, 2, 3);
          let counter = 0;
          for (const o of ops) {
            if (o.op === 'q') {
              const msg = new Uint8Array(o.len).fill(counter++ & 0xff);
              q.queueBroadcast(namedBroadcast(`n${o.name}`, msg));
              ref.queue(`n${o.name}`, msg);
            } else {
              const a = q.getBroadcasts(2, o.limit);
              const b = ref.get(2, o.limit);
              assert.deepEqual(a, b);
            }
            assert.equal(q.numQueued(), ref.items.length);
          }
        },
      ),
      { numRuns: 1000, seed: 20261124 },
    );
  });
});
