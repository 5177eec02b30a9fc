// Interop (a)–(c): TypeScript and Go memberlist nodes form one cluster, whoever joins whom.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { partMissing } from '@isopeer/test-support';
import { membersOf, names, startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll } from '../support/line-node.js';

const skip = await goPeerSkip();

describe('interop: joining across implementations', { skip }, () => {
  after(closeAll);

  test('(a) a TS node joins a 3-node Go cluster and all 4 list each other alive', async () => {
    const go = await startCluster({ prefix: 'a', impls: ['go', 'go', 'go'] });
    const [ts] = await startCluster({ prefix: 'a', impls: ['ts'], existing: go, seed: go[1] });
    const all = [...go, ts];
    const expected = names(all).sort();
    for (const n of all) assert.deepEqual(await membersOf(n), expected, n.label());
    // The Go nodes learned the TS node's advertised address correctly.
    const seen = (await go[2].members()).find((m) => m.name === ts.name);
    assert.equal(`${seen?.addr}:${seen?.port}`, ts.address());
  });

  test('(b) a Go node joins a TS cluster', async () => {
    const ts = await startCluster({ prefix: 'b', impls: ['ts', 'ts'] });
    const [go] = await startCluster({ prefix: 'b', impls: ['go'], existing: ts, seed: ts[1] });
    const expected = names([...ts, go]).sort();
    for (const n of [...ts, go]) assert.deepEqual(await membersOf(n), expected, n.label());
  });

  test('(c) a mixed 3+3 cluster converges', async () => {
    // Interleaved start order; every node joins only the first, a TS node, so the cluster
    // converges through gossip and push/pull across both implementations. Go itself may need a
    // push/pull round (up to ~30 s) to repair alives missed in such a burst of joins.
    const nodes = await startCluster({
      prefix: 'c',
      impls: ['ts', 'go', 'ts', 'go', 'ts', 'go'],
      seed: 'first',
      convergeTimeoutMs: 40_000,
    });
    const expected = names(nodes).sort();
    for (const n of nodes) assert.deepEqual(await membersOf(n), expected, n.label());
    // Nobody was ever suspected or declared dead on the way.
    for (const n of nodes) assert.deepEqual(n.find('leave'), [], n.label());
  });
});

/** Whether this host has an IPv6 loopback to bind (containers sometimes have none). */
async function ipv6Loopback(): Promise<false | string> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp6');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => resolve(true));
  });
  s.close();
  return partMissing(ok ? null : 'no IPv6 loopback (::1) on this host');
}

const noV6 = skip || (await ipv6Loopback());

describe('interop: IPv6 loopback', { skip: noV6 }, () => {
  after(closeAll);

  test('Go and TS nodes bound to ::1 join through [::1]:port and converge', async () => {
    const nodes = await startCluster({
      prefix: 'v6',
      impls: ['go', 'ts', 'go'],
      seed: 'first',
      options: { bind: '::1' },
    });
    assert.match(nodes[1].address(), /^\[::1\]:\d+$/);
    for (const n of nodes) {
      const list = await n.members();
      assert.equal(list.length, 3, n.label());
      assert.ok(
        list.every((m) => m.addr === '::1'),
        JSON.stringify(list),
      );
    }
  });
});
