import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Broadcast, namedBroadcast, TransmitLimitedQueue } from '../src/queue.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('TransmitLimitedQueue (spec §11.3)', () => {
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
