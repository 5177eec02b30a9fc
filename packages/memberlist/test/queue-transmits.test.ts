// The queue's transmit floor and its per-transmit notification (issue 17).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransmitLimitedQueue } from '../src/queue.js';

const msg = (n: number) => new Uint8Array(n).fill(7);

describe('TransmitLimitedQueue transmits', () => {
  it('a floor raises the limit where Go’s formula is lower, and only there', () => {
    const count = (nodes: number, floor: number) => {
      const q = new TransmitLimitedQueue(() => nodes, 2, floor);
      q.queueBroadcast({ message: msg(10), unique: true });
      let sends = 0;
      while (q.getBroadcasts(2, 1400).length > 0) sends++;
      return sends;
    };
    assert.equal(count(5, 0), 2, 'Go: 2 × ceil(log10(6))');
    assert.equal(count(5, 6), 6);
    assert.equal(count(200, 6), 6, 'Go: 2 × ceil(log10(201)) = 6 already');
    assert.equal(count(2000, 6), 8, 'the formula wins above the floor');
  });

  /** A queue (limit 4) holding one broadcast whose sent()/finished() calls are recorded. */
  function recorded() {
    const q = new TransmitLimitedQueue(() => 5, 2, 4);
    const seen: string[] = [];
    q.queueBroadcast({
      message: msg(10),
      name: 'x',
      sent: (n) => seen.push(`sent ${n}`),
      finished: () => seen.push('finished'),
    });
    return { q, seen };
  }

  it('sent() hears every transmit with the running count, finished() once at the end', () => {
    const { q, seen } = recorded();
    while (q.getBroadcasts(2, 1400).length > 0);
    assert.deepEqual(seen, ['sent 1', 'sent 2', 'sent 3', 'sent 4', 'finished']);
  });

  it('an invalidated broadcast finishes without further sent() calls', () => {
    const { q, seen } = recorded();
    q.getBroadcasts(2, 1400);
    q.queueBroadcast({ message: msg(11), name: 'x' });
    q.getBroadcasts(2, 1400);
    assert.deepEqual(seen, ['sent 1', 'finished']);
  });
});
