// Proves the harness (Go peer build, line-protocol driver) on a Go-only cluster, independently of
// the TypeScript memberlist: if this fails, interop failures are the harness's, not the wire's.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, LineNode, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

describe('Go reference peer speaks the line protocol', { skip }, () => {
  after(closeAll);

  test('three processes converge, exchange messages, broadcast, update meta, leave and fail', async () => {
    const a = await LineNode.start({ impl: 'go', name: 'ga', meta: 'm-a' });
    const b = await LineNode.start({ impl: 'go', name: 'gb', join: [a.address()] });
    const c = await LineNode.start({ impl: 'go', name: 'gc', join: [a.address()] });
    const all = [a, b, c];
    const names = all.map((n) => n.name);
    await waitForStates(all, names, 'alive', 10_000);
    const listed = await b.members();
    assert.deepEqual(listed.map((m) => m.name).sort(), names.sort());
    assert.equal(listed.find((m) => m.name === 'ga')?.meta, 'm-a');
    assert.ok(listed.every((m) => m.state === 'alive' && m.addr === '127.0.0.1' && m.port > 0));

    // Join push/pull carries the delegate state both ways.
    await a.waitFor((e) => e.event === 'merge' && e.from === 'gb' && e.join === true, 5_000);
    await b.waitFor((e) => e.event === 'merge' && e.from === 'ga' && e.join === true, 5_000);

    const sent = await a.request('send gb hello reliable', 'sent');
    assert.equal(sent.ok, true);
    await b.waitFor(
      (e) =>
        e.event === 'msg' &&
        e.kind === 'reliable' &&
        e.from === 'ga' &&
        e.data === 'hello reliable',
      5_000,
    );
    assert.equal((await c.request('sendbest ga hi there', 'sent')).ok, true);
    await a.waitFor(
      (e) =>
        e.event === 'msg' && e.kind === 'besteffort' && e.from === 'gc' && e.data === 'hi there',
      5_000,
    );
    assert.equal((await a.request('send nobody x', 'sent')).ok, false);

    const q = await c.request('broadcast news 1', 'broadcast-queued');
    assert.equal(q.data, 'news 1');
    for (const n of [a, b]) {
      await n.waitFor(
        (e) =>
          e.event === 'msg' && e.kind === 'broadcast' && e.from === 'gc' && e.data === 'news 1',
        5_000,
      );
    }

    b.send('meta v2');
    for (const n of all) {
      await n.waitFor((e) => e.event === 'update' && e.name === 'gb' && e.meta === 'v2', 5_000);
    }

    const err = await a.request('frobnicate', 'error');
    assert.match(String(err.message), /unknown command/);

    const left = await c.request('leave 2000', 'left', 5_000);
    assert.equal(left.ok, true);
    await waitForStates([a, b], ['gc'], 'left', 5_000);

    b.kill('SIGKILL');
    await waitForStates([a], ['gb'], 'dead', 15_000);
    assert.equal(a.find('leave', { name: 'gb' }).at(-1)?.state, 'dead');
  });

  test('--count runs K nodes in one process and reports convergence', async () => {
    const n = await LineNode.start({ impl: 'go', name: 'k', count: 4 });
    assert.deepEqual(n.names, ['k-0', 'k-1', 'k-2', 'k-3']);
    // A burst of joins can leave Go waiting for a push/pull round (15-30 s) to converge.
    await n.waitFor((e) => e.event === 'all-converged' && e.members === 4, 45_000);
    assert.equal(n.find('converged').length, 4);
    const m = await n.members(2);
    assert.equal(m.length, 4);
    const since = n.mark();
    n.send('@9 members');
    const bad = await n.waitFor((e) => e.event === 'error', 5_000, 'error for @9', since);
    assert.match(String(bad.message), /@9/);
    n.send('shutdown');
    await n.waitFor((e) => e.event === 'shutdown', 5_000);
    assert.equal((await n.exit(5_000)).code, 0);
  });
});
