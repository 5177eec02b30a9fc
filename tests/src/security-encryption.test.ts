// Issue 7, encryption version 1 live: TypeScript (`isopeer node`) and Go memberlist 0.2.2 nodes
// that share a key form one cluster and exchange broadcasts; a node with a wrong key, or with
// none, is refused by both implementations without anything crashing or anyone being marked
// failed. (Version 0 framing is covered against Go's captures in security-v0.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { broadcastUntilDelivered, receiversOf } from '../support/broadcast.js';
import { names, startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type Impl, LineNode } from '../support/line-node.js';

const skip = await goPeerSkip();

const KEY = Buffer.alloc(32, 0x5a).toString('base64'); // AES-256
const WRONG = Buffer.alloc(32, 0xa5).toString('base64');
const KEY16 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex').toString('base64');

/** Sum of every drop reason in a TS node's memberlist metrics, from the `stats` answer. */
async function tsDrops(node: LineNode): Promise<number> {
  const ev = await node.request('stats', 'stats');
  const m = ev.memberlist as { dropped: Record<string, number>; streams: { errors: number } };
  return Object.values(m.dropped).reduce((s, x) => s + x, 0) + m.streams.errors;
}

describe('security: encryption version 1 between Go and TS nodes', { skip }, () => {
  let cluster: LineNode[] = [];
  after(closeAll);

  before(async () => {
    // Interleaved so that every join crosses implementations; each node joins all earlier ones.
    cluster = await startCluster({
      prefix: 'enc',
      impls: ['go', 'ts', 'go', 'ts'],
      options: { keys: [KEY] },
      convergeTimeoutMs: 30_000,
    });
  });

  test('TS and Go nodes with the same key form one cluster and gossip through it', async () => {
    const expected = names(cluster).sort();
    for (const n of cluster) {
      const alive = (await n.members()).filter((m) => m.state === 'alive').map((m) => m.name);
      assert.deepEqual(alive.sort(), expected, n.label());
    }
    // A broadcast from each implementation reaches every other node (gossip is UDP, encrypted);
    // the helper re-broadcasts if a small cluster's gossip happened to miss a node.
    for (const from of [cluster[0], cluster[1]]) {
      await broadcastUntilDelivered(
        from,
        from.name,
        receiversOf(cluster, from.name),
        `secret-${from.name}`,
      );
    }
    // Reliable messages (TCP, encrypted stream frames) both ways.
    const [go0, ts1] = cluster;
    await go0.request(`send ${ts1.name} over-tcp-go`, 'sent');
    await ts1.waitFor((ev) => ev.event === 'msg' && ev.data === 'over-tcp-go', 10_000);
    await ts1.request(`send ${go0.name} over-tcp-ts`, 'sent');
    await go0.waitFor((ev) => ev.event === 'msg' && ev.data === 'over-tcp-ts', 10_000);
    for (const n of cluster) assert.deepEqual(n.find('leave'), [], `${n.label()}: nobody failed`);
  });

  for (const size of [16, 24]) {
    test(`AES-${size * 8}: a Go and a TS node with a ${size}-byte key join each other`, async () => {
      const key = Buffer.alloc(size, size).toString('base64');
      const pair = await startCluster({
        prefix: `aes${size * 8}`,
        impls: ['ts', 'go'],
        options: { keys: [key] },
      });
      try {
        await pair[1].request(`send ${pair[0].name} aes-${size}`, 'sent');
        await pair[0].waitFor((ev) => ev.event === 'msg' && ev.data === `aes-${size}`, 10_000);
        for (const n of pair) assert.deepEqual(n.find('leave'), [], n.label());
      } finally {
        await Promise.all(pair.map((n) => n.close()));
      }
    });
  }

  const intruders: { impl: Impl; keys: string[]; what: string }[] = [
    { impl: 'ts', keys: [WRONG], what: 'a TS node with a wrong key' },
    { impl: 'go', keys: [WRONG], what: 'a Go node with a wrong key' },
    { impl: 'ts', keys: [KEY16], what: 'a TS node with a key of another size' },
    { impl: 'ts', keys: [], what: 'a TS node without a key' },
    { impl: 'go', keys: [], what: 'a Go node without a key' },
  ];
  for (const [i, x] of intruders.entries()) {
    test(`${x.what} cannot join through a Go or a TS member; nothing crashes`, async () => {
      const ts = cluster[1];
      const dropsBefore = await tsDrops(ts);
      for (const seed of [cluster[0], ts]) {
        const intruder = await LineNode.start({
          impl: x.impl,
          name: `intruder${i}-${seed.opts.impl}`,
          keys: x.keys,
          join: [seed.address()],
        });
        try {
          const joined = await intruder.waitFor((ev) => ev.event === 'joined', 15_000, 'joined');
          assert.equal(
            joined.ok,
            false,
            `${intruder.label()} must not join: ${JSON.stringify(joined)}`,
          );
          assert.equal(joined.contacted, 0);
          assert.equal(intruder.exited, undefined, `${intruder.label()} keeps running`);
          // The intruder knows only itself, and no member lists it.
          assert.deepEqual(
            (await intruder.members()).map((m) => m.name),
            [intruder.name],
          );
          for (const n of cluster) {
            const list = (await n.members()).map((m) => m.name);
            assert.ok(!list.includes(intruder.name), `${n.label()} lists ${intruder.name}`);
          }
        } finally {
          await intruder.close();
        }
      }
      // The TS member counted what it refused instead of throwing, and everyone is still up,
      // still sees everyone alive, and nobody was suspected on the way.
      assert.ok((await tsDrops(ts)) > dropsBefore, 'the TS member counted the refused traffic');
      const expected = names(cluster).sort();
      for (const n of cluster) {
        assert.equal(n.exited, undefined, `${n.label()} is running`);
        const alive = (await n.members()).filter((m) => m.state === 'alive').map((m) => m.name);
        assert.deepEqual(alive.sort(), expected, n.label());
        assert.deepEqual(n.find('leave'), [], `${n.label()}: nobody failed`);
      }
    });
  }
});
