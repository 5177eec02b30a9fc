// Interop (f): the delegate's push/pull state crosses between implementations on join and in
// the periodic anti-entropy exchange (every 15 s ± stagger with the local preset).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type LineEvent, type LineNode } from '../support/line-node.js';

const skip = await goPeerSkip();

const merge = (from: string, join: boolean) => (e: LineEvent) =>
  e.event === 'merge' && e.from === from && e.join === join;

interface PushPulls {
  initiated: number;
  served: number;
  catchUp: number;
}

/** The TS node's push/pull counters (from `stats`), polled once a second until `ok` or timeout. */
async function pushPullsUntil(
  node: LineNode,
  ok: (p: PushPulls) => boolean,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await node.request('stats', 'stats');
    const p = (stats.memberlist as { pushPulls: PushPulls }).pushPulls;
    if (ok(p)) return p;
    if (Date.now() > deadline) assert.fail(`${what}: push/pull counters ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 1_000)); // poll interval; the deadline bounds the wait
  }
}

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
    // first so that g0 and t1 are each other's only push/pull target. The TS node's catch-up
    // push/pulls right after joining are not periodic ones, so the counters tell them apart:
    // `served` rising means the Go node started an exchange; `initiated` beyond the join and
    // catch-up ones means the TS node started a periodic one.
    assert.equal((await g2.request('leave 3000', 'left')).ok, true);
    await g2.close();
    const baseTs = Date.now();
    const base = await pushPullsUntil(t1, () => true, 1, 'baseline');
    const joins = 1;
    const after = await pushPullsUntil(
      t1,
      (p) => p.served > base.served && p.initiated - p.catchUp - joins > 0,
      40_000,
      'a Go-initiated and a TS-initiated periodic push/pull',
    );
    // Those exchanges carried the delegate state both ways.
    assert.ok(after.served > base.served);
    const periodic = (n: LineNode, from: string) =>
      n.find('merge').filter((e) => e.from === from && e.join === false && e.ts > baseTs);
    assert.ok(periodic(t1, g0.name).length >= 2, 'TS merged Go state in periodic exchanges');
    assert.ok(periodic(g0, t1.name).length >= 2, 'Go merged TS state in periodic exchanges');
    for (const n of [g0, t1, g2]) {
      for (const m of n.find('merge')) assert.equal(typeof m.from, 'string', JSON.stringify(m));
    }
  });
});
