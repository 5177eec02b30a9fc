// `isopeer node --count K` start-up joins: paced through a small window and retried with
// backoff, so K nodes on one event loop converge without a node left alone (issue 7). TS only:
// the Go reference peer joins all at once and does not retry (see docs/isopeer-node.md).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { closeAll, LineNode } from '../support/line-node.js';

const K_SEED = Buffer.alloc(32, 7).toString('base64');
const K_COUNT = Buffer.alloc(32, 9).toString('base64');

describe('ts node --count: paced, retried start-up joins', () => {
  after(closeAll);

  test('--count 30 converges: every node sees all 30, every join succeeds', async () => {
    const n = await LineNode.start({ impl: 'ts', name: 'pace', count: 30 });
    const all = await n.waitFor((e) => e.event === 'all-converged', 30_000, 'all-converged');
    assert.equal(all.members, 30);
    assert.deepEqual(
      n
        .find('converged')
        .map((e) => e.self)
        .sort(),
      [...n.names].sort(),
    );
    // Joins are reported once each, with the number of attempts it took.
    await n.until(() => n.find('joined').length === 29, 30_000, '29 joined events');
    for (const j of n.find('joined')) {
      assert.equal(j.ok, true, JSON.stringify(j));
      assert.ok(Number(j.attempts) >= 1, JSON.stringify(j));
    }
    const retried = n.find('join-retry').length;
    const stats = await Promise.all(n.names.map((_, i) => n.request('stats', 'stats', 10_000, i)));
    assert.equal(
      stats.reduce((sum, s) => sum + Number(s.joinRetries), 0),
      retried,
      'stats.joinRetries counts the join-retry events',
    );
    assert.equal((await n.members(29)).length, 30);
  });

  test('a refused join is retried with backoff until it succeeds, and counted', async () => {
    // The seed cannot read the --count nodes' key at first, so node 0's --join is refused;
    // once the seed installs and uses that key, a retry gets through.
    const seed = await LineNode.start({ impl: 'ts', name: 'rseed', keys: [K_SEED] });
    const n = await LineNode.start({
      impl: 'ts',
      name: 'retry',
      count: 3,
      keys: [K_COUNT],
      join: [seed.address()],
    });
    const first = await n.waitFor(
      (e) => e.event === 'join-retry' && e.self === 'retry-0',
      15_000,
      'a join-retry from node 0',
    );
    assert.equal(first.attempt, 1);
    assert.ok(Number(first.delayMs) > 0, JSON.stringify(first));
    assert.equal(typeof first.error, 'string');
    await seed.request(`key install ${K_COUNT}`, 'keys');
    await seed.request(`key use ${K_COUNT}`, 'keys');

    const joined = await n.waitFor(
      (e) => e.event === 'joined' && e.self === 'retry-0',
      30_000,
      "node 0's joined",
    );
    assert.equal(joined.ok, true, JSON.stringify(joined));
    assert.ok(Number(joined.attempts) >= 2, JSON.stringify(joined));
    const stats = await n.request('stats', 'stats');
    assert.equal(stats.joinRetries, Number(joined.attempts) - 1);
    // The seed learns all three --count nodes (through node 0's push/pull and gossip).
    await seed.until(
      () => n.names.every((name) => seed.view().get(name) === 'alive'),
      30_000,
      'the seed to see every --count node alive',
    );
  });
});
