// Interop (f): the delegate's push/pull state crosses between implementations on join and in
// the periodic anti-entropy exchange (every 15 s ± stagger with the local preset).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type LineEvent } from '../support/line-node.js';

const skip = await goPeerSkip();

const merge = (from: string, join: boolean) => (e: LineEvent) =>
  e.event === 'merge' && e.from === from && e.join === join;

describe('interop: push/pull delegate state', { skip }, () => {
  after(closeAll);

  test('(f) state is exchanged both ways on join and periodically', async () => {
    // TS joins Go, then Go joins TS: each direction of a join exchange occurs.
    const [g0] = await startCluster({ prefix: 'f', impls: ['go'] });
    const [t1] = await startCluster({ prefix: 'f', impls: ['ts'], existing: [g0] });
    const [g2] = await startCluster({ prefix: 'f', impls: ['go'], existing: [g0, t1], seed: t1 });
    await g0.waitFor(merge(t1.name, true), 5_000, 'join merge from TS at Go');
    await t1.waitFor(merge(g0.name, true), 5_000, 'join merge from Go at TS (TS joined)');
    await t1.waitFor(merge(g2.name, true), 5_000, 'join merge from Go at TS (Go joined)');
    await g2.waitFor(merge(t1.name, true), 5_000, 'join merge from TS at Go (Go joined)');

    // Periodic exchanges: push/pull every 15 s after a random stagger of up to 15 s. g2 leaves
    // first so that g0 and t1 are each other's only push/pull target.
    assert.equal((await g2.request('leave 3000', 'left')).ok, true);
    await g2.close();
    await Promise.all([
      g0.waitFor(merge(t1.name, false), 40_000, 'periodic merge from TS at Go'),
      t1.waitFor(merge(g0.name, false), 40_000, 'periodic merge from Go at TS'),
    ]);
    for (const n of [g0, t1, g2]) {
      for (const m of n.find('merge')) assert.equal(typeof m.from, 'string', JSON.stringify(m));
    }
  });
});
