// Delegates, hooks, user messages, metadata updates, encryption, TCP fallback and nacks, on
// the in-memory transport with a virtual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keyring } from '../src/codec/index.js';
import type { MemberNode } from '../src/context.js';
import { converged, simCluster } from './helpers.js';

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('delegates and hooks', () => {
  it('push/pull carries delegate state both ways, on join and periodically', async () => {
    const merged: { node: number; state: string; join: boolean }[] = [];
    const c = await simCluster(3, {
      config: { pushPullIntervalMs: 2000 },
      hooks: (i) => ({
        delegate: {
          localState: (join) => Buffer.from(`state-${i}-${join}`),
          mergeRemoteState: (buf, join) => merged.push({ node: i, state: text(buf), join }),
        },
      }),
    });
    try {
      // Joins ran at creation: both sides merged with join=true.
      assert.ok(merged.some((m) => m.node === 0 && m.state === 'state-1-true' && m.join));
      assert.ok(merged.some((m) => m.node === 1 && m.state === 'state-0-true' && m.join));
      assert.ok(await c.runUntil(() => merged.some((m) => !m.join), 10_000), 'periodic push/pull');
      const periodic = merged.find((m) => !m.join)!;
      assert.match(periodic.state, /^state-\d-false$/);
    } finally {
      await c.shutdown();
    }
  });

  it('application broadcasts, best-effort and reliable messages reach their targets', async () => {
    const got: string[][] = [[], [], [], []];
    const outgoing: Uint8Array[][] = [[Buffer.from('bcast-from-0')], [], [], []];
    const c = await simCluster(4, {
      hooks: (i) => ({
        delegate: {
          notifyMsg: (m) => got[i].push(text(m)),
          getBroadcasts: (overhead, limit) => {
            const q = outgoing[i];
            if (q.length === 0 || q[0].length + overhead > limit) return [];
            // Send the broadcast a few times, then stop (like a transmit-limited queue would).
            const m = q[0];
            (m as { sent?: number }).sent = ((m as { sent?: number }).sent ?? 0) + 1;
            if ((m as { sent?: number }).sent! >= 6) q.shift();
            return [m];
          },
        },
      }),
    });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, 4), 5000));
      assert.ok(
        await c.runUntil(
          () => got.slice(1).filter((g) => g.includes('bcast-from-0')).length >= 2,
          5000,
        ),
        `broadcast spread: ${JSON.stringify(got)}`,
      );
      await c.nodes[1].sendBestEffort('n2', Buffer.from('udp-hello'));
      const target = c.nodes[1].members().find((m) => m.name === 'n3')!;
      const p = c.nodes[1].sendReliable(target, Buffer.from('tcp-hello'));
      await c.clock.advance(10);
      await p;
      assert.ok(
        await c.runUntil(() => got[2].includes('udp-hello') && got[3].includes('tcp-hello'), 1000),
      );
      assert.ok(c.nodes[3].metrics().userMessages.in >= 1);
      await assert.rejects(c.nodes[1].sendReliable('nobody', Buffer.from('x')), {
        code: 'ERR_UNKNOWN_NODE',
      });
    } finally {
      await c.shutdown();
    }
  });

  it('hundreds of tiny application broadcasts are split across compounds, not lost', async () => {
    const got: string[] = [];
    let pending = Array.from({ length: 300 }, (_, k) => Buffer.from([k % 256]));
    const c = await simCluster(2, {
      hooks: (i) => ({
        delegate:
          i === 0
            ? {
                getBroadcasts: () => {
                  const out = pending;
                  pending = [];
                  return out;
                },
              }
            : { notifyMsg: (m) => got.push(Buffer.from(m).toString('hex')) },
      }),
    });
    try {
      assert.ok(await c.runUntil(() => got.length >= 300, 5000), `received ${got.length}`);
      assert.equal(c.nodes[0].metrics().callbackErrors, 0);
    } finally {
      await c.shutdown();
    }
  });

  it('updateNode spreads new metadata as an update event', async () => {
    let meta = 'v1';
    const updates: MemberNode[] = [];
    const c = await simCluster(3, {
      hooks: (i) => ({
        delegate: i === 2 ? { nodeMeta: () => Buffer.from(meta) } : {},
        events: { update: (n) => updates.push(n) },
      }),
    });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, 3), 5000));
      assert.equal(text(c.nodes[0].members().find((m) => m.name === 'n2')!.meta!), 'v1');
      meta = 'v2';
      const p = c.nodes[2].updateNode(5000);
      assert.ok(
        await c.runUntil(
          () =>
            c.nodes.every((m) => text(m.members().find((x) => x.name === 'n2')!.meta!) === 'v2'),
          5000,
        ),
      );
      await c.clock.advance(5000);
      await p;
      assert.ok(updates.some((u) => u.name === 'n2' && text(u.meta!) === 'v2'));
      assert.equal(c.nodes[2].localNode().incarnation, 2);
    } finally {
      await c.shutdown();
    }
  });

  it('the alive hook can refuse a node; the merge hook can refuse a join', async () => {
    const c = await simCluster(3, {
      join: false,
      hooks: (i) =>
        i === 0 ? { alive: (n) => n.name !== 'n2' } : i === 1 ? { merge: () => false } : {},
    });
    try {
      const seed = c.nodes[0].advertiseAddress;
      // n1's merge hook refuses n0's state, so its join counts as failed.
      const p1 = assert.rejects(c.nodes[1].join([seed]), { code: 'ERR_JOIN' });
      await c.clock.advance(10);
      await p1;
      assert.ok(!c.nodes[1].members().some((m) => m.name === 'n0'));
      const p2 = c.nodes[2].join([seed]);
      await c.clock.advance(10);
      assert.equal(await p2, 1);
      await c.clock.advance(2000);
      assert.ok(!c.nodes[0].members().some((m) => m.name === 'n2'), 'n0 ignores n2');
      assert.ok(
        c.nodes[2].members().some((m) => m.name === 'n0'),
        'n2 knows n0',
      );
    } finally {
      await c.shutdown();
    }
  });

  it('encrypted cluster converges; nodes with another key or none cannot join', async () => {
    const key = new Uint8Array(16).fill(7);
    const other = new Uint8Array(32).fill(9);
    const c = await simCluster(5, {
      join: false,
      configFor: (i) => ({
        keyring: i < 3 ? new Keyring([key]) : i === 3 ? new Keyring([other]) : null,
      }),
    });
    try {
      const seed = c.nodes[0].advertiseAddress;
      for (const i of [1, 2]) {
        const p = c.nodes[i].join([seed]);
        await c.clock.advance(5);
        assert.equal(await p, 1);
      }
      assert.ok(
        await c.runUntil(() => converged(c.nodes.slice(0, 3), 3), 5000),
        'encrypted convergence',
      );
      for (const i of [3, 4]) {
        const p = assert.rejects(c.nodes[i].join([seed]), { code: 'ERR_JOIN' }, `node ${i}`);
        await c.clock.advance(5);
        await p;
      }
      await c.clock.advance(3000);
      assert.equal(c.nodes[0].numMembers(), 3);
      assert.ok((c.nodes[0].metrics().streams.errors ?? 0) >= 2);
    } finally {
      await c.shutdown();
    }
  });
});

describe('failure detector details', () => {
  it('UDP blackhole: the TCP fallback ping keeps a node alive; without it the node is declared dead', async () => {
    for (const disableTcpPings of [false, true]) {
      const c = await simCluster(3, { seed: 4, config: { disableTcpPings } });
      const leaves: MemberNode[] = [];
      try {
        assert.ok(await c.runUntil(() => converged(c.nodes, 3), 5000));
        for (const m of c.nodes) m.on('leave', (n) => leaves.push(n));
        const [a, b, x] = c.nodes.map((m) => m.advertiseAddress);
        // x loses every datagram to and from the others; streams still work.
        c.net.setLinkFault(a, x, { dropRate: 1 });
        c.net.setLinkFault(b, x, { dropRate: 1 });
        await c.clock.advance(30_000);
        const probes = c.nodes[0].metrics().probes;
        if (!disableTcpPings) {
          assert.deepEqual(leaves, [], 'nobody declared dead');
          assert.ok(probes.tcpFallbackOk > 0, JSON.stringify(probes));
        } else {
          assert.ok(
            leaves.some((n) => n.name === 'n2' && n.state === 'dead'),
            'n2 declared dead',
          );
          assert.equal(probes.tcpFallback, 0);
        }
      } finally {
        await c.shutdown();
      }
    }
  });

  it('helpers answer indirect probes with nacks, so the requester keeps its health', async () => {
    const c = await simCluster(3, {
      seed: 6,
      config: { disableTcpPings: true, indirectChecks: 1 },
    });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, 3), 5000));
      const victim = c.nodes[2];
      await victim.shutdown();
      const ok = await c.runUntil(
        () => c.nodes[0].metrics().probes.failed + c.nodes[1].metrics().probes.failed >= 2,
        20_000,
      );
      assert.ok(ok, 'probes of the dead node failed');
      // Every failed probe asked one helper (PMax 5 → nack requested) and got its nack: the
      // health score rises only by (expected − received) = 0.
      assert.equal(c.nodes[0].healthScore(), 0);
      assert.equal(c.nodes[1].healthScore(), 0);
    } finally {
      await c.shutdown();
    }
  });

  it('a node that hears nothing back raises its own health score (Lifeguard)', async () => {
    const c = await simCluster(3, { seed: 8, config: { disableTcpPings: true } });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, 3), 5000));
      const addrs = c.nodes.map((m) => m.advertiseAddress);
      c.net.partition([[addrs[0]], [addrs[1], addrs[2]]]);
      assert.ok(await c.runUntil(() => c.nodes[0].healthScore() > 0, 10_000));
      c.net.heal();
    } finally {
      await c.shutdown();
    }
  });

  it('ping delegate: ack payloads and round-trip times of direct probes', async () => {
    const rtts: { node: string; rtt: number; payload: string }[] = [];
    const c = await simCluster(2, {
      seed: 2,
      hooks: (i) => ({
        ping: {
          ackPayload: () => Buffer.from(`pong-${i}`),
          notifyPingComplete: (node, rtt, payload) =>
            rtts.push({ node: node.name, rtt, payload: text(payload!) }),
        },
      }),
    });
    try {
      c.net.setDefaultFault({ delayMs: 7 });
      assert.ok(await c.runUntil(() => rtts.length >= 2, 10_000));
      const r = rtts.find((x) => x.node === 'n1') ?? rtts[0];
      assert.equal(r.rtt, 14);
      assert.match(r.payload, /^pong-\d$/);
    } finally {
      await c.shutdown();
    }
  });
});
