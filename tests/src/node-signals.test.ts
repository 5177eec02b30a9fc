// `isopeer node` on SIGINT and SIGTERM leaves the cluster gracefully before it stops, as Serf and
// Consul agents do: the other nodes see it *left*, not failed. End of input still stops without
// leaving (the line protocol's rule).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { closeAll, LineNode } from '../support/line-node.js';

describe('isopeer node: signals', () => {
  after(closeAll);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} leaves gracefully, then shuts down`, async () => {
      const a = await LineNode.start({ impl: 'ts', name: `stay-${signal}` });
      const b = await LineNode.start({ impl: 'ts', name: `go-${signal}`, join: [a.address()] });
      await a.waitFor((e) => e.event === 'join' && e.name === b.name, 10_000, 'b joined');
      b.kill(signal);
      const left = await b.waitFor((e) => e.event === 'left', 5_000, 'b left');
      assert.equal(left.ok, true, JSON.stringify(left));
      const down = await b.waitFor((e) => e.event === 'shutdown', 5_000, 'b shut down');
      assert.match(String(down.reason), new RegExp(signal));
      assert.equal((await b.exit(5_000)).code, 0);
      const seen = await a.waitFor(
        (e) => e.event === 'leave' && e.name === b.name,
        10_000,
        'a saw b go',
      );
      assert.equal(seen.state, 'left', JSON.stringify(seen));
    });
  }
});
