// Interop (g), SIGKILL: a crashed TS node is detected as failed by Go nodes and a crashed Go
// node by TS nodes (probe → suspect → dead, with Lifeguard timeouts of the local preset).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

describe('interop: failure detection after SIGKILL', { skip }, () => {
  after(closeAll);

  test('(g) Go nodes see a killed TS node dead, TS nodes see a killed Go node dead', async () => {
    const nodes = await startCluster({ prefix: 'k', impls: ['go', 'ts', 'go', 'ts', 'go', 'ts'] });
    const victims = [nodes[1], nodes[2]]; // one TS, one Go
    const survivors = nodes.filter((n) => !victims.includes(n));
    for (const v of victims) v.kill('SIGKILL');
    const gone = victims.map((v) => v.name);
    await waitForStates(survivors, gone, 'dead', 30_000);
    for (const n of survivors) {
      const leaves = n.find('leave').filter((e) => gone.includes(String(e.name)));
      assert.ok(
        leaves.every((e) => e.state === 'dead'),
        JSON.stringify(leaves),
      );
      // No survivor was ever declared failed by anyone.
      const wrong = n.find('leave').filter((e) => !gone.includes(String(e.name)));
      assert.deepEqual(wrong, [], n.label());
    }
  });
});
