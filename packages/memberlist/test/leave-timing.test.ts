// leave() resolves as Go's Leave(timeout) does (issue 17, part 2): once the leave message has been
// sent Go's transmit count, or once no other live node remains; it waits for no acknowledgement.
// In-memory transport and virtual clock, so the timings are exact and load does not matter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Memberlist } from '../src/memberlist.js';
import { simCluster } from './helpers.js';

/** Runs the clock until `p` settles; returns its outcome and the virtual time it took. */
async function settle(
  c: {
    clock: {
      now(): number;
      runUntil(cond: () => boolean, maxMs: number, stepMs?: number): Promise<boolean>;
    };
  },
  p: Promise<void>,
): Promise<{ ok: boolean; code?: string; ms: number }> {
  const t0 = c.clock.now();
  let out: { ok: boolean; code?: string; ms: number } | null = null;
  p.then(
    () => {
      out = { ok: true, ms: c.clock.now() - t0 };
    },
    (err: { code?: string }) => {
      out = { ok: false, code: err.code, ms: c.clock.now() - t0 };
    },
  );
  await c.clock.runUntil(() => out !== null, 10_000, 1);
  assert.ok(out, 'leave() settled');
  return out;
}

const stateOf = (m: Memberlist, name: string) => m.allNodes().find((x) => x.name === name)?.state;

/** Two nodes where n0 cannot send its leave: it never gossips and nobody probes in the test. */
const mutedLeaver = (seed: number) =>
  simCluster(2, {
    seed,
    config: { probeIntervalMs: 60_000 },
    configFor: (i) => (i === 0 ? { gossipNodes: 0 } : {}),
  });

describe('leave() timing (virtual clock)', () => {
  it('in a 2-node cluster right after the join it resolves after Go’s 2 transmits, not the floor’s 6', async () => {
    // Before the fix it waited for the gossipMinTransmits floor (6): with one peer that is one
    // transmit per 100 ms gossip round, so leave(500) failed in about one run in four.
    const times: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const c = await simCluster(2, { seed });
      try {
        const r = await settle(c, c.nodes[1].leave(500));
        assert.equal(r.ok, true, `seed ${seed}: leave(500) failed with ${r.code} after ${r.ms} ms`);
        // Two gossip rounds of the Local preset (100 ms each) plus the start-up stagger.
        assert.ok(r.ms <= 200, `seed ${seed}: took ${r.ms} ms`);
        times.push(r.ms);
        assert.ok(
          await c.runUntil(() => stateOf(c.nodes[0], 'n1') === 'left', 1_000),
          'the peer saw the leave',
        );
        // The floor still retransmits after leave() returned: the message stays queued.
        assert.ok(c.nodes[1].metrics().gossip.queueDepth >= 1, 'still queued for the floor');
      } finally {
        await c.shutdown();
      }
    }
    assert.ok(Math.max(...times) > 0, 'leave waited for gossip rounds');
  });

  it('in a 5-node cluster it resolves within two gossip rounds', async () => {
    const c = await simCluster(5, { seed: 4 });
    try {
      assert.ok(await c.runUntil(() => c.nodes.every((m) => m.numMembers() === 5), 5_000));
      const r = await settle(c, c.nodes[3].leave(500));
      assert.equal(r.ok, true, `leave failed with ${r.code}`);
      assert.ok(r.ms <= 200, `took ${r.ms} ms`);
    } finally {
      await c.shutdown();
    }
  });

  it('resolves once no other live node remains, though its message could not be sent', async () => {
    // n0's leave message is never sent; n1 then leaves too, and with no live peer left n0's
    // leave is complete.
    const c = await mutedLeaver(2);
    try {
      const first = settle(c, c.nodes[0].leave(500));
      await c.clock.advance(20);
      void c.nodes[1].leave(500).catch(() => {});
      const r = await first;
      assert.equal(r.ok, true, `leave failed with ${r.code} after ${r.ms} ms`);
      assert.equal(stateOf(c.nodes[0], 'n1'), 'left');
      assert.equal(stateOf(c.nodes[1], 'n0'), 'alive', 'n0’s leave message never reached n1');
    } finally {
      await c.shutdown();
    }
  });

  it('reports a timeout when the message cannot be sent to a live peer', async () => {
    const c = await mutedLeaver(3);
    try {
      const r = await settle(c, c.nodes[0].leave(300));
      assert.equal(r.ok, false);
      assert.equal(r.code, 'ERR_TIMEOUT');
      assert.equal(r.ms, 300);
    } finally {
      await c.shutdown();
    }
  });
});
