// `isopeer node --label` as a program: equal labels form a cluster, another label is refused
// and reported (`label-refused` event, `stats` drop counts), and a labelled node keeps away
// from Go memberlist 0.2.2 peers, which have no labels, both ways.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, LineNode } from '../support/line-node.js';
import { isopeerCli } from '../support/paths.js';

const goSkip = await goPeerSkip();
// The mode that runs TS nodes as Go peers cannot run these: the Go peer has no --label.
const asGo = process.env.ISOPEER_TEST_TS_AS_GO === '1' && 'the Go peer (0.2.2) has no labels';

const KEY = Buffer.from(Array.from({ length: 16 }, (_, i) => i)).toString('base64');

function dropped(stats: Record<string, unknown>): Record<string, number> {
  const m = stats.memberlist as { dropped: Record<string, number> };
  return m.dropped;
}

describe('isopeer node --label: flags', () => {
  test('a label over 255 bytes is refused with exit 2, as Go refuses it', () => {
    const r = spawnSync(
      process.execPath,
      [isopeerCli, 'node', '--name', 'x', '--label', 'é'.repeat(128)],
      {
        encoding: 'utf8',
        input: '',
        timeout: 20_000,
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /--label: could not use ".*" as a label: too long \(256 bytes, at most 255\)/,
    );
    assert.equal(r.stdout, '');
  });

  test('--help lists --label and --skip-inbound-label-check', () => {
    const r = spawnSync(process.execPath, [isopeerCli, 'node', '--help'], { encoding: 'utf8' });
    assert.match(r.stdout, /--label <text>/);
    assert.match(r.stdout, /--skip-inbound-label-check/);
  });
});

describe('isopeer node --label: clusters', { skip: asGo }, () => {
  after(closeAll);

  test('team1 nodes (encrypted) form a cluster; a team2 node is refused and told why', async () => {
    // An encrypted TS node with `label`, joining `join` if given.
    const labelled = (name: string, label: string, join?: string) =>
      LineNode.start({
        impl: 'ts',
        name,
        keys: [KEY],
        join: join ? [join] : undefined,
        extraArgs: ['--label', label],
      });
    const a = await labelled('lbl-a', 'team1');
    const b = await labelled('lbl-b', 'team1', a.address());
    const joined = await b.waitFor((e) => e.event === 'joined', 10_000);
    assert.equal(joined.ok, true, JSON.stringify(joined));
    await a.until(() => a.view().get('lbl-b') === 'alive', 10_000, 'lbl-b alive at lbl-a');

    const c = await labelled('lbl-c', 'team2', a.address());
    const refused = await c.waitFor((e) => e.event === 'joined', 10_000);
    assert.equal(refused.ok, false);
    assert.match(String(refused.error), /without a reply: is its label "team2" too\?/);
    const ev = await a.waitFor((e) => e.event === 'label-refused', 10_000);
    assert.equal(ev.self, 'lbl-a');
    assert.equal(ev.via, 'stream');
    assert.equal(ev.reason, 'mismatch');
    assert.equal(ev.label, 'team2');
    const stats = await a.request('stats', 'stats');
    assert.equal(dropped(stats)['label-mismatch'], 1);
    assert.deepEqual((await a.members()).map((m) => m.name).sort(), ['lbl-a', 'lbl-b']);
  });
});

describe('isopeer node --label and Go memberlist 0.2.2', { skip: asGo || goSkip }, () => {
  after(closeAll);

  test('a 0.2.2 peer cannot join a labelled node, nor the labelled node it', async () => {
    const ts = await LineNode.start({
      impl: 'ts',
      name: 'lbl-ts',
      extraArgs: ['--label', 'team1'],
    });
    const go = await LineNode.start({ impl: 'go', name: 'lbl-go', join: [ts.address()] });
    const goJoined = await go.waitFor((e) => e.event === 'joined', 15_000);
    assert.equal(goJoined.ok, false, 'the labelled node hung up on the unlabelled 0.2.2 peer');
    const ev = await ts.waitFor((e) => e.event === 'label-refused', 10_000);
    assert.equal(ev.reason, 'missing');
    assert.equal(ev.label, null);

    ts.send(`join ${go.address()}`);
    const tsJoined = await ts.waitFor((e) => e.event === 'joined', 15_000);
    assert.equal(tsJoined.ok, false, '0.2.2 reads the label header as message type 244');
    assert.match(String(tsJoined.error), /is its label "team1" too\?/);
    assert.deepEqual(
      (await ts.members()).map((m) => m.name),
      ['lbl-ts'],
    );
    assert.deepEqual(
      (await go.members()).map((m) => m.name),
      ['lbl-go'],
    );
  });
});
