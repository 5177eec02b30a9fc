// Real UDP/TCP on loopback: join, convergence, user messages, leave, shutdown.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MemberNode } from '../src/context.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { aliveNames, loopbackConfig, waitFor } from './helpers.js';

describe('memberlist over real UDP/TCP on loopback', () => {
  const nodes: Memberlist[] = [];
  const received = new Map<string, string[]>();
  const leaves: MemberNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((m) => m.shutdown()));
  });

  it('4 nodes join through the first and converge', async () => {
    for (let i = 0; i < 4; i++) {
      const name = `udp-${i}`;
      received.set(name, []);
      const m = await createMemberlist(loopbackConfig(name), {
        delegate: {
          notifyMsg: (msg) => received.get(name)!.push(Buffer.from(msg).toString()),
        },
      });
      if (i === 0) m.on('leave', (n) => leaves.push(n));
      nodes.push(m);
    }
    for (const m of nodes.slice(1)) assert.equal(await m.join([nodes[0].advertiseAddress]), 1);
    const all = nodes.map((m) => m.localNode().name).sort();
    await waitFor(
      () => nodes.every((m) => aliveNames(m).join() === all.join()),
      10_000,
      'convergence',
    );
    assert.equal(nodes[0].numMembers(), 4);
    assert.equal(nodes[0].localNode().addr, '127.0.0.1');
  });

  it('delivers best-effort and reliable user messages', async () => {
    await nodes[1].sendBestEffort('udp-2', Buffer.from('hello-udp'));
    await nodes[2].sendReliable(
      nodes[1].members().find((x) => x.name === 'udp-1')!,
      Buffer.from('hello-tcp'),
    );
    await waitFor(
      () =>
        received.get('udp-2')!.includes('hello-udp') &&
        received.get('udp-1')!.includes('hello-tcp'),
      5000,
      'user messages',
    );
  });

  it('a large reliable message arrives intact across many TCP chunks', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const before = received.get('udp-1')!.length;
    await nodes[2].sendReliable('udp-1', big);
    await waitFor(() => received.get('udp-1')!.length > before, 10_000, 'big message');
    const got = received.get('udp-1')!.at(-1)!;
    assert.equal(got.length, Buffer.from(big).toString().length);
    assert.equal(got, Buffer.from(big).toString());
  });

  it('a graceful leave is seen as left, not dead', async () => {
    await nodes[3].leave(5000);
    await waitFor(() => leaves.some((n) => n.name === 'udp-3'), 5000, 'leave event');
    const ev = leaves.find((n) => n.name === 'udp-3')!;
    assert.equal(ev.state, 'left');
    assert.ok(!aliveNames(nodes[0]).includes('udp-3'));
  });

  it('a shut-down node is detected as dead', async () => {
    await nodes[2].shutdown();
    await waitFor(() => leaves.some((n) => n.name === 'udp-2'), 20_000, 'failure detection');
    assert.equal(leaves.find((n) => n.name === 'udp-2')!.state, 'dead');
  });

  it('works over IPv6 loopback with [::1]:port addresses', async () => {
    const a = await createMemberlist(loopbackConfig('v6-a', { bindAddr: '::1' }));
    const b = await createMemberlist(loopbackConfig('v6-b', { bindAddr: '::1' }));
    try {
      assert.match(a.advertiseAddress, /^\[::1\]:\d+$/);
      assert.equal(await b.join([a.advertiseAddress]), 1);
      await waitFor(
        () => aliveNames(a).length === 2 && aliveNames(b).length === 2,
        5000,
        'IPv6 convergence',
      );
      assert.equal(a.members().find((m) => m.name === 'v6-b')?.addr, '::1');
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});
