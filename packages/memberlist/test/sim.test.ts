// Many nodes on the in-memory transport with a virtual clock: convergence, loss, partitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberNode } from '../src/context.js';
import { converged, simCluster } from './helpers.js';

describe('in-memory cluster simulations (virtual clock)', () => {
  it('100 nodes converge', async () => {
    const c = await simCluster(100, { seed: 3 });
    try {
      const ok = await c.runUntil(() => converged(c.nodes, 100), 30_000);
      assert.ok(ok, `not converged after 30 s: ${c.nodes.map((m) => m.numMembers()).join(',')}`);
    } finally {
      await c.shutdown();
    }
  });

  it('with 10% packet loss no live node is declared dead over 100 probe rounds', async () => {
    const n = 24;
    const c = await simCluster(n, { seed: 5 });
    const deaths: MemberNode[] = [];
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, n), 10_000), 'initial convergence');
      for (const m of c.nodes) m.on('leave', (x) => deaths.push(x));
      c.net.setDefaultFault({ dropRate: 0.1 });
      await c.clock.advance(100 * c.nodes[0].config.probeIntervalMs);
      const dropped = c.net.stats.dropped;
      assert.ok(dropped > 300, `the network dropped packets (${dropped})`);
      assert.deepEqual(
        deaths.map((x) => x.name),
        [],
        'no node declared dead',
      );
      assert.ok(converged(c.nodes, n));
      const probes = c.nodes.reduce((s, m) => s + m.metrics().probes.sent, 0);
      assert.ok(probes >= n * 90, `probes ran (${probes})`);
    } finally {
      await c.shutdown();
    }
  });

  it('a partition is detected on both sides and heals after it is lifted', async () => {
    const n = 10;
    const c = await simCluster(n, { seed: 9 });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, n), 10_000), 'initial convergence');
      const addrs = c.nodes.map((m) => m.advertiseAddress);
      c.net.partition([addrs.slice(0, 5), addrs.slice(5)]);
      const split = await c.runUntil(
        () => converged(c.nodes.slice(0, 5), 5) && converged(c.nodes.slice(5), 5),
        60_000,
      );
      assert.ok(split, 'each side sees only itself');
      c.net.heal();
      const healed = await c.runUntil(() => converged(c.nodes, n), 60_000);
      assert.ok(healed, `healed: ${c.nodes.map((m) => m.numMembers()).join(',')}`);
    } finally {
      await c.shutdown();
    }
  });

  it('a stopped node is detected dead by all others; a graceful leave is seen as left', async () => {
    const n = 8;
    const c = await simCluster(n, { seed: 11 });
    const events: { by: string; node: MemberNode }[] = [];
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, n), 10_000));
      for (const m of c.nodes)
        m.on('leave', (x) => events.push({ by: m.localNode().name, node: x }));
      const t0 = c.clock.now();
      await c.nodes[7].shutdown();
      const gone = (name: string, count: number) => () =>
        c.nodes.slice(0, count).every((m) => !m.members().some((x) => x.name === name));
      assert.ok(await c.runUntil(gone('n7', 7), 30_000), 'failure detected');
      const detectMs = c.clock.now() - t0;
      assert.ok(detectMs < 15_000, `detected in ${detectMs} ms`);
      assert.ok(events.filter((e) => e.node.name === 'n7').every((e) => e.node.state === 'dead'));
      assert.equal(events.filter((e) => e.node.name === 'n7').length, 7);

      // leave() waits on the (virtual) clock, so run the clock while it is pending.
      const leaving = c.nodes[6].leave(5_000);
      assert.ok(await c.runUntil(gone('n6', 7), 10_000), 'leave seen');
      await c.clock.advance(5_000);
      await leaving;
      const leaveEvents = events.filter((e) => e.node.name === 'n6');
      assert.equal(leaveEvents.length, 7, 'every node including n6 itself reports the leave');
      assert.ok(leaveEvents.every((e) => e.node.state === 'left'));
      const m = c.nodes[0].metrics();
      assert.deepEqual(m.members, { alive: 6, suspect: 0, dead: 1, left: 1 });
      assert.equal(m.deaths, 1);
      assert.ok(m.probes.sent > 0 && m.probes.failed > 0, JSON.stringify(m.probes));
      assert.ok(m.packets.in > 0 && m.packets.bytesOut > 0);
      assert.ok(m.pushPulls.served + m.pushPulls.initiated > 0);
    } finally {
      await c.shutdown();
    }
  });
});
