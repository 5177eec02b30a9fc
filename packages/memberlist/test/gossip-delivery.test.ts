// Application broadcasts in a small cluster (issue 17, part 1), on the in-memory transport and
// the virtual clock: 5 nodes joined in a chain, each queues one broadcast per 150 ms round for
// 10 rounds, every receiver re-broadcasts once (the node line protocol's rule), and deliveries
// are counted 4 s after the last round: 200 is everything.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Memberlist } from '../src/memberlist.js';
import { TransmitLimitedQueue } from '../src/queue.js';
import { simCluster } from './helpers.js';

type QueueKind = 'node' | 'go-formula';

interface App {
  seen: Set<string>;
  queue: TransmitLimitedQueue | null;
  delivered: number;
}

async function deliveryRun(seed: number, kind: QueueKind) {
  const n = 5;
  const apps: App[] = Array.from({ length: n }, () => ({
    seen: new Set<string>(),
    queue: null,
    delivered: 0,
  }));
  const decoder = new TextDecoder();
  const c = await simCluster(n, {
    seed,
    join: false,
    hooks: (i) => ({
      delegate: {
        notifyMsg: (msg) => {
          const app = apps[i];
          const [, from, id] = decoder.decode(msg).split('|');
          const key = `${from}|${id}`;
          if (app.seen.has(key)) return;
          app.seen.add(key);
          app.delivered++;
          app.queue?.queueBroadcast({ message: msg.slice(), unique: true });
        },
        // A queue from createBroadcastQueue() is gossiped by memberlist itself; a queue of the
        // application's own is handed out through the delegate.
        ...(kind === 'go-formula' && {
          getBroadcasts: (overhead: number, limit: number) =>
            apps[i].queue?.getBroadcasts(overhead, limit) ?? [],
        }),
      },
    }),
  });
  try {
    const queueFor = (m: Memberlist) =>
      kind === 'node'
        ? m.createBroadcastQueue()
        : new TransmitLimitedQueue(() => m.numMembers(), m.config.retransmitMult);
    c.nodes.forEach((m, i) => {
      apps[i].queue = queueFor(m);
    });
    for (let i = 1; i < n; i++) await c.nodes[i].join([c.nodes[i - 1].advertiseAddress]);
    assert.ok(
      await c.runUntil(() => c.nodes.every((m) => m.numMembers() === n), 5_000),
      'the chain converged',
    );
    const encoder = new TextEncoder();
    for (let round = 0; round < 10; round++) {
      c.nodes.forEach((m, i) => {
        const key = `${m.localNode().name}|${round}`;
        apps[i].seen.add(key);
        const payload = encoder.encode(`B|${key}|round ${round} from node ${i}`);
        apps[i].queue?.queueBroadcast({ message: payload, unique: true });
      });
      await c.clock.advance(150);
    }
    await c.clock.advance(4_000);
    const dropped = c.nodes.map((m) => Object.keys(m.metrics().dropped).length);
    return { delivered: apps.reduce((s, a) => s + a.delivered, 0), dropped };
  } finally {
    await c.shutdown();
  }
}

describe('application broadcast delivery, 5 nodes chain-joined (virtual clock)', () => {
  it('a queue from createBroadcastQueue() delivers all 200 in every run', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = await deliveryRun(seed, 'node');
      assert.deepEqual(r.dropped, [0, 0, 0, 0, 0], 'no datagram was dropped');
      assert.equal(r.delivered, 200, `seed ${seed}: ${r.delivered} of 200 delivered`);
    }
  });

  it('with Go’s transmit count alone (2 at 5 nodes) the same runs lose deliveries', async () => {
    // Why the floor is needed: nothing is dropped, yet an epidemic in which every holder sends
    // each message twice to random peers misses one delivery in about 14 (Go's peer alike).
    let delivered = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const r = await deliveryRun(seed, 'go-formula');
      assert.deepEqual(r.dropped, [0, 0, 0, 0, 0], 'no datagram was dropped');
      delivered += r.delivered;
    }
    assert.ok(delivered < 6 * 200 - 30, `${delivered} of 1200 delivered`);
  });
});
