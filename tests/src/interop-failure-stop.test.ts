// Interop (g), SIGSTOP: a frozen node is detected as failed across implementations, and after
// SIGCONT it refutes its death with a higher incarnation and is accepted back alive.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

describe('interop: failure detection after SIGSTOP', { skip }, () => {
  after(closeAll);

  test('(g) frozen TS and Go nodes are seen dead by the other side, then alive after SIGCONT', async () => {
    const nodes = await startCluster({ prefix: 's', impls: ['ts', 'go', 'ts', 'go', 'ts', 'go'] });
    const victims = [nodes[3], nodes[4]]; // one Go, one TS
    const survivors = nodes.filter((n) => !victims.includes(n));
    const frozen = victims.map((v) => v.name);
    for (const v of victims) v.kill('SIGSTOP');
    await waitForStates(survivors, frozen, 'dead', 30_000);
    for (const n of survivors) {
      const wrong = n.find('leave').filter((e) => !frozen.includes(String(e.name)));
      assert.deepEqual(wrong, [], n.label());
    }
    for (const v of victims) v.kill('SIGCONT');
    await waitForStates([...survivors, ...victims], frozen, 'alive', 30_000);
    for (const n of survivors) {
      const back = n
        .find('join')
        .filter((e) => frozen.includes(String(e.name)))
        .at(-1);
      assert.ok(Number(back?.incarnation) > 1, `${n.label()}: ${JSON.stringify(back)}`);
    }
  });
});
