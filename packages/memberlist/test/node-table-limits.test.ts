// Issue 12, F7: a flood of made-up names must not fill the node table, and real members must
// keep exchanging state during and after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawUdpPeer } from '@isopeer/test-support';
import { SourceRateLimiter, sourceKey } from '../src/admission.js';
import { MessageType } from '../src/codec/index.js';
import { ConfigError, defaultLocalConfig, validateConfig } from '../src/config.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { loopbackConfig, simCluster, waitFor } from './helpers.js';
import { aliveFlood, fakeAlive, memoryTarget } from './hostile-peer.js';

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
const aliveMsg = (name: string) => ({ type: MessageType.Alive, body: fakeAlive(name) }) as const;

/** Sends datagrams in order, yielding now and then so the receiver's loop keeps up. */
async function sendAll(peer: RawUdpPeer, port: number, datagrams: Uint8Array[]): Promise<void> {
  for (let i = 0; i < datagrams.length; i++) {
    await peer.send(port, datagrams[i]);
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
}

/** Push/pulls from `b` to `a` until `stop()`; returns how many succeeded and failed. */
async function keepPushPulling(b: Memberlist, a: Memberlist, stop: () => boolean) {
  const result = { ok: 0, failed: 0 };
  while (!stop()) {
    try {
      await b.join([a.advertiseAddress]);
      result.ok++;
    } catch {
      result.failed++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return result;
}

describe('source keys and token buckets', () => {
  it('keys a source by IP (IPv6 by /64), by IP and port on loopback', () => {
    assert.equal(sourceKey('10.1.2.3:7946'), '10.1.2.3');
    assert.equal(sourceKey('10.1.2.3:7000'), '10.1.2.3');
    assert.equal(sourceKey('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(sourceKey('[::1]:7946'), '[::1]:7946');
    assert.equal(sourceKey('[::ffff:10.1.2.3]:80'), '10.1.2.3');
    assert.equal(sourceKey('[2001:db8:1:2:3:4:5:6]:7946'), '20010db800010002::/64');
    assert.equal(sourceKey('[2001:db8:1:2::9]:1'), '20010db800010002::/64');
  });

  it('refills at the rate up to the burst, and keeps a bounded number of buckets', () => {
    const l = new SourceRateLimiter(3, 2, 4);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => l.take('s', 0)),
      [true, true, true, false],
    );
    assert.equal(l.take('s', 499), false);
    assert.equal(l.take('s', 500), true, 'one token per 500 ms at 2/s');
    assert.equal(l.take('s', 10_000), true);
    for (let i = 0; i < 100; i++) l.take(`spoofed-${i}`, 10_000 + i);
    assert.ok(l.size <= 4, `${l.size} buckets kept`);
    assert.equal(new SourceRateLimiter(1, 0, 1).take('x', 0), true, 'rate 0 disables');
  });

  it('validates the new limits', () => {
    for (const bad of [
      { maxNodes: 0 },
      { newNodeBurstPerSource: 0 },
      { newNodeRatePerSource: -1 },
      { maxDecompressedPacketBytes: 10 },
      { incarnationJumpCeiling: 2 ** 32 },
      { maxUserMessageBytes: 1.5 },
    ]) {
      assert.throws(() => validateConfig({ ...defaultLocalConfig(), ...bad }), ConfigError);
    }
  });
});

describe('node table limits (issue 12, F7)', () => {
  it('one source gets its burst, then its rate; more ports on one IP buy nothing', async () => {
    const t = await memoryTarget({ newNodeBurstPerSource: 20, newNodeRatePerSource: 5 });
    try {
      const fakes = names('one', 100);
      for (let i = 0; i < fakes.length; i++) {
        await t.inject(i % 2 === 0 ? '10.9.1.1:1000' : '10.9.1.1:2000', aliveMsg(fakes[i]));
      }
      // Injecting moved the virtual clock by 100 ms: less than one token at 5/s.
      const learned = t.m.allNodes().length - 1;
      assert.equal(learned, 20);
      assert.equal(t.m.metrics().refused.newNodeRate, 80);
      await t.clock.advance(2000);
      for (const n of names('later', 20)) await t.inject('10.9.1.1:1000', aliveMsg(n));
      assert.equal(t.m.allNodes().length - 1 - learned, 10, '2 s at 5/s');
      await t.inject('10.9.1.2:1000', aliveMsg('another-source'));
      assert.ok(t.record('another-source'), 'another source has its own bucket');
    } finally {
      await t.shutdown();
    }
  });

  it('the table holds maxNodes records; long-left ones make room, fresh ones do not', async () => {
    const t = await memoryTarget({
      maxNodes: 50,
      newNodeRatePerSource: 0,
      probeIntervalMs: 1000,
      disableTcpPings: true,
    });
    try {
      for (const n of names('cap', 100)) await t.inject('10.9.1.1:7946', aliveMsg(n));
      assert.equal(t.m.allNodes().length, 50);
      assert.equal(t.m.metrics().refused.nodeLimit, 51);
      // Every made-up node leaves; left records are kept (as in Go) until room is needed.
      for (const n of t.m.allNodes().filter((x) => x.name !== 'target')) {
        await t.inject('10.9.1.1:7946', {
          type: MessageType.Dead,
          body: { node: n.name, incarnation: n.incarnation, from: n.name },
        });
      }
      await t.inject('10.9.1.1:7946', aliveMsg('too-soon'));
      assert.equal(t.record('too-soon'), undefined, 'nodes that just left are not forgotten');
      await t.clock.advance(defaultLocalConfig().gossipToTheDeadTimeMs + 1000);
      await t.inject('10.9.1.1:7946', aliveMsg('welcome'));
      assert.equal(t.record('welcome')?.state, 'alive');
      assert.equal(t.m.allNodes().length, 2, 'the long-left records were dropped');
    } finally {
      await t.shutdown();
    }
  });

  it('the reply to our own join may teach us a whole cluster at once', async () => {
    const c = await simCluster(30, { seed: 5 });
    try {
      await c.runUntil(() => c.nodes.every((m) => m.numMembers() === 30), 60_000);
      const joiner = await createMemberlist(
        { ...defaultLocalConfig(), name: 'joiner', newNodeBurstPerSource: 5 },
        { transport: c.net.createTransport(), clock: c.clock },
      );
      try {
        assert.equal(await joiner.join([c.nodes[0].advertiseAddress]), 1);
        assert.equal(joiner.numMembers(), 31);
        assert.equal(joiner.metrics().refused.newNodeRate, 0);
      } finally {
        await joiner.shutdown();
      }
    } finally {
      await c.shutdown();
    }
  });

  it('100,000 made-up names from one UDP source: bounded table, push/pull keeps working', async () => {
    const a = await createMemberlist(loopbackConfig('flooded'));
    const b = await createMemberlist(loopbackConfig('real'));
    const peer = await RawUdpPeer.open();
    try {
      await b.join([a.advertiseAddress]);
      const started = Date.now();
      const datagrams = aliveFlood(names('flood', 100_000), 30);
      let flooding = true;
      const during = keepPushPulling(b, a, () => !flooding);
      await sendAll(peer, a.localNode().port, datagrams);
      const received = () => a.metrics().packets.in;
      await waitFor(() => received() >= datagrams.length * 0.95, 60_000, 'the flood to arrive');
      flooding = false;
      const pp = await during;
      const seconds = (Date.now() - started) / 1000;
      const m = a.metrics();
      const table = a.allNodes().length;
      assert.ok(table <= 2 + 256 + Math.ceil(10 * seconds), `${table} records in ${seconds} s`);
      assert.ok(m.refused.newNodeRate >= 90_000, JSON.stringify(m.refused));
      assert.ok(
        pp.ok >= 1 && pp.failed === 0,
        `push/pulls during the flood: ${JSON.stringify(pp)}`,
      );
      assert.equal(await b.join([a.advertiseAddress]), 1, 'push/pull after the flood');
      assert.equal(b.members().find((x) => x.name === 'flooded')?.state, 'alive');
    } finally {
      peer.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('many sources at once: the table stops at maxNodes and push/pull keeps working', async () => {
    const a = await createMemberlist(loopbackConfig('capped', { maxNodes: 2000 }));
    const b = await createMemberlist(loopbackConfig('member'));
    const peers = await Promise.all(Array.from({ length: 40 }, () => RawUdpPeer.open()));
    try {
      await b.join([a.advertiseAddress]);
      let flooding = true;
      const during = keepPushPulling(b, a, () => !flooding);
      // Each loopback port is its own source, so each spends a full burst of 256 names.
      await Promise.all(
        peers.map((p, i) => sendAll(p, a.localNode().port, aliveFlood(names(`s${i}`, 300), 30))),
      );
      await waitFor(() => a.metrics().packets.in >= 400 * 0.95, 30_000, 'the flood to arrive');
      flooding = false;
      const pp = await during;
      assert.equal(a.allNodes().length, 2000);
      assert.ok(a.metrics().refused.nodeLimit > 0, JSON.stringify(a.metrics().refused));
      assert.ok(
        pp.ok >= 1 && pp.failed === 0,
        `push/pulls during the flood: ${JSON.stringify(pp)}`,
      );
      assert.equal(await b.join([a.advertiseAddress]), 1);
    } finally {
      for (const p of peers) p.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('an alive hook that admits only known names keeps every made-up one out', async () => {
    const known = new Set(['gated', 'friend']);
    let asked = 0;
    const a = await createMemberlist(loopbackConfig('gated'), {
      alive: (n) => {
        asked++;
        return known.has(n.name);
      },
    });
    const friend = await createMemberlist(loopbackConfig('friend'));
    const peer = await RawUdpPeer.open();
    try {
      await sendAll(peer, a.localNode().port, aliveFlood(names('stranger', 300), 30));
      await waitFor(() => a.metrics().packets.in >= 10, 10_000, 'the flood to arrive');
      assert.equal(await friend.join([a.advertiseAddress]), 1);
      await waitFor(() => a.numMembers() === 2, 10_000, 'the friend admitted');
      assert.deepEqual(
        a
          .allNodes()
          .map((x) => x.name)
          .sort(),
        ['friend', 'gated'],
      );
      assert.ok(
        asked <= 2 + 256 + 20,
        `the hook saw ${asked} names: rate-limited ones never reach it`,
      );
    } finally {
      peer.close();
      await Promise.all([a.shutdown(), friend.shutdown()]);
    }
  });
});
