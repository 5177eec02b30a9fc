// Interop (h): a graceful leave is seen as `left`, never as failed, in both directions.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

describe('interop: graceful leave', { skip }, () => {
  after(closeAll);

  test('(h) TS and Go nodes leaving are seen as left, not failed, by the other side', async () => {
    const nodes = await startCluster({ prefix: 'h', impls: ['go', 'ts', 'go', 'ts'] });
    const [g0, t1, g2, t3] = nodes;
    const leavers = [t1, g2];
    const stayers = [g0, t3];
    const answers = await Promise.all(leavers.map((n) => n.request('leave 5000', 'left', 10_000)));
    for (const a of answers) assert.equal(a.ok, true, JSON.stringify(a));
    // A leaver reports its own departure as left too, before answering.
    for (const n of leavers) assert.equal(n.view().get(n.name), 'left', n.label());
    await waitForStates(stayers, [t1.name, g2.name], 'left', 10_000);
    // With the leavers gone, a gossip round trip between the stayers passes without any of
    // them turning a left node into a failed one.
    await Promise.all(leavers.map((n) => n.close()));
    await g0.request('broadcast after-leave', 'broadcast-queued');
    await t3.waitFor((e) => e.event === 'msg' && e.data === 'after-leave', 5_000);
    for (const n of stayers) {
      const leaves = n.find('leave').filter((e) => e.name === t1.name || e.name === g2.name);
      assert.ok(leaves.length >= 2, n.label());
      assert.ok(
        leaves.every((e) => e.state === 'left'),
        JSON.stringify(leaves),
      );
      assert.deepEqual(
        await n.members().then((m) => m.map((x) => x.name).sort()),
        [g0.name, t3.name].sort(),
      );
    }
  });
});
