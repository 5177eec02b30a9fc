// Issue 12, F2: one forged accusation must not use up a node's uint32 incarnation space.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawUdpPeer } from '@isopeer/test-support';
import { encodeMessage, MessageType, type PacketMessage } from '../src/codec/index.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { aliveNames, loopbackConfig, waitFor } from './helpers.js';
import { fakeAlive, memoryTarget } from './hostile-peer.js';

/**
 * The datagram of the report, byte for byte: `suspect{Incarnation: 0xFFFFFFFF, Node: "a",
 * From: "attacker"}` (type 3, then the msgpack map with Go's key order).
 */
const F2_DATAGRAM = Buffer.from(
  '0383a446726f6da861747461636b6572ab496e6361726e6174696f6eceffffffffa44e6f6465a161',
  'hex',
);

const suspect = (node: string, incarnation: number): PacketMessage => ({
  type: MessageType.Suspect,
  body: { node, incarnation, from: 'attacker' },
});
const dead = (node: string, incarnation: number): PacketMessage => ({
  type: MessageType.Dead,
  body: { node, incarnation, from: 'attacker' },
});
const alive = (node: string, incarnation: number): PacketMessage => ({
  type: MessageType.Alive,
  body: fakeAlive(node, incarnation),
});

async function pair(): Promise<[Memberlist, Memberlist]> {
  const a = await createMemberlist(loopbackConfig('a'));
  const b = await createMemberlist(loopbackConfig('b'));
  await b.join([a.advertiseAddress]);
  await waitFor(() => aliveNames(a).length === 2 && aliveNames(b).length === 2, 10_000, 'a+b');
  return [a, b];
}

describe('incarnation guard (issue 12, F2)', () => {
  it('the datagram is what our encoder writes for that suspect message', () => {
    assert.deepEqual(Buffer.from(encodeMessage(suspect('a', 0xffff_ffff))), F2_DATAGRAM);
  });

  it('sent to its victim over UDP: refused and counted; the victim stays joinable', async () => {
    const [a, b] = await pair();
    const peer = await RawUdpPeer.open();
    const c = await createMemberlist(loopbackConfig('c'));
    try {
      const before = a.localNode().incarnation;
      await peer.send(a.localNode().port, F2_DATAGRAM);
      await waitFor(
        () => a.metrics().refused.incarnation > 0 || a.localNode().incarnation !== before,
        10_000,
        'the datagram to be handled',
      );
      assert.equal(a.localNode().incarnation, before, 'no refutation to an absurd number');
      assert.equal(a.metrics().refused.incarnation, 1);
      // Go 0.2.2 wraps to 0 here, and the first fix attempt's 2^32 made every push/pull of `a`
      // fail to encode: a third node must still be able to join through `a`.
      assert.equal(await c.join([a.advertiseAddress]), 1);
      await waitFor(() => aliveNames(c).includes('b'), 10_000, 'c learning b through a');
      assert.equal(b.members().find((x) => x.name === 'a')?.state, 'alive');
    } finally {
      peer.close();
      await Promise.all([a.shutdown(), b.shutdown(), c.shutdown()]);
    }
  });

  it('sent to a bystander: it keeps its record of the victim instead of suspecting it', async () => {
    const [a, b] = await pair();
    const peer = await RawUdpPeer.open();
    try {
      const known = b.members().find((x) => x.name === 'a')!;
      await peer.send(b.localNode().port, F2_DATAGRAM);
      await waitFor(() => b.metrics().refused.incarnation > 0, 10_000, 'refusal at b');
      const now = b.allNodes().find((x) => x.name === 'a')!;
      assert.equal(now.state, 'alive');
      assert.equal(now.incarnation, known.incarnation);
      assert.equal(a.metrics().refused.incarnation, 0, 'nothing absurd reached the victim');
    } finally {
      peer.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('above the ceiling an incarnation moves one step at a time, ours and others', async () => {
    const t = await memoryTarget({ incarnationJumpCeiling: 100 });
    try {
      const src = '10.9.0.2:7946';
      const me = () => t.record('target')!.incarnation;
      assert.equal(me(), 1);
      await t.inject(src, suspect('target', 50));
      assert.equal(me(), 51, 'jumps below the ceiling are normal refutations');
      await t.inject(src, dead('target', 100));
      assert.equal(me(), 101, 'an accusation at the ceiling is answered above it');
      await t.inject(src, suspect('target', 101));
      assert.equal(me(), 102, 'an accusation at our own number is answered, ceiling or not');
      await t.inject(src, suspect('target', 103));
      assert.equal(me(), 104, 'one past our own number is still believed');
      await t.inject(src, suspect('target', 150));
      assert.equal(me(), 104, 'a jump above the ceiling is refused');
      assert.equal(t.m.metrics().refused.incarnation, 1);

      await t.inject(src, alive('x', 500));
      assert.equal(t.record('x'), undefined, 'a new node cannot start above the ceiling');
      await t.inject(src, alive('x', 100));
      await t.inject(src, alive('x', 101));
      assert.equal(t.record('x')?.incarnation, 101);
      await t.inject(src, suspect('x', 103));
      await t.inject(src, dead('x', 200));
      await t.inject(src, alive('x', 0xffff_ffff));
      assert.equal(t.record('x')?.state, 'alive');
      assert.equal(t.record('x')?.incarnation, 101);
      await t.inject(src, suspect('x', 101));
      assert.equal(t.record('x')?.state, 'suspect', 'ordinary news still applies');
      assert.equal(t.m.metrics().refused.incarnation, 5);
    } finally {
      await t.shutdown();
    }
  });

  it('at 0xFFFFFFFF the node stops refuting instead of wrapping, and still encodes', async () => {
    const t = await memoryTarget({ incarnationJumpCeiling: 0xffff_ffff });
    try {
      await t.inject('10.9.0.2:7946', suspect('target', 0xffff_fffe));
      assert.equal(t.record('target')!.incarnation, 0xffff_ffff);
      await t.inject('10.9.0.2:7946', suspect('target', 0xffff_ffff));
      assert.equal(t.record('target')!.incarnation, 0xffff_ffff, 'Go would wrap to 0 here');
      assert.equal(t.m.metrics().refused.incarnation, 1);
      await assert.rejects(t.m.updateNode(100), { code: 'ERR_INCARNATION' });
      // A push/pull with a peer still encodes our record (a peer with the default ceiling
      // would refuse to believe it, which the previous test covers).
      const peer = await createMemberlist(
        { ...loopbackConfig('peer'), probeIntervalMs: 1e9, incarnationJumpCeiling: 0xffff_ffff },
        { transport: t.net.createTransport('10.9.0.3:7946'), clock: t.clock },
      );
      try {
        assert.equal(await peer.join([t.m.advertiseAddress]), 1);
        assert.equal(peer.allNodes().find((x) => x.name === 'target')?.incarnation, 0xffff_ffff);
      } finally {
        await peer.shutdown();
      }
    } finally {
      await t.shutdown();
    }
  });
});
