// Interop (d), (e), (i): user messages, gossip broadcasts and metadata updates cross the
// implementation boundary in both directions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type LineEvent, type LineNode } from '../support/line-node.js';

const skip = await goPeerSkip();

const msg = (kind: string, from: string, data: string) => (e: LineEvent) =>
  e.event === 'msg' && e.kind === kind && e.from === from && e.data === data;

describe('interop: messages, broadcasts and metadata', { skip }, () => {
  let go: LineNode[] = [];
  let ts: LineNode[] = [];

  before(async () => {
    const nodes = await startCluster({ prefix: 'm', impls: ['go', 'ts', 'go', 'ts', 'go'] });
    go = nodes.filter((n) => n.opts.impl === 'go');
    ts = nodes.filter((n) => n.opts.impl === 'ts');
  });
  after(closeAll);

  test('(d) reliable and best-effort user messages, TS to Go and Go to TS', async () => {
    const cases: [LineNode, LineNode, string][] = [
      [ts[0], go[0], 'send'],
      [ts[0], go[1], 'sendbest'],
      [go[2], ts[1], 'send'],
      [go[1], ts[0], 'sendbest'],
    ];
    for (const [from, to, cmd] of cases) {
      const text = `${cmd} from ${from.name} to ${to.name} ✓`;
      const sent = await from.request(`${cmd} ${to.name} ${text}`, 'sent');
      assert.equal(sent.ok, true, JSON.stringify(sent));
      assert.equal(sent.to, to.name);
      assert.equal(sent.mode, cmd === 'send' ? 'reliable' : 'besteffort');
      // Best-effort is UDP on loopback: not lost here in practice, and a loss would be a finding.
      await to.waitFor(msg(cmd === 'send' ? 'reliable' : 'besteffort', from.name, text), 5_000);
    }
  });

  test('(d) sending to an unknown node fails cleanly on both sides', async () => {
    for (const n of [ts[0], go[0]]) {
      const sent = await n.request('send no-such-node hello', 'sent');
      assert.equal(sent.ok, false);
    }
  });

  test('(e) a broadcast from a TS node reaches every node, and one from a Go node comes back', async () => {
    const everyone = [...go, ...ts];
    const q = await ts[0].request('broadcast from-ts', 'broadcast-queued');
    assert.equal(q.data, 'from-ts');
    for (const n of everyone.filter((x) => x !== ts[0])) {
      await n.waitFor(msg('broadcast', ts[0].name, 'from-ts'), 5_000, `broadcast at ${n.name}`);
    }
    await go[1].request('broadcast from-go', 'broadcast-queued');
    for (const n of everyone.filter((x) => x !== go[1])) {
      await n.waitFor(msg('broadcast', go[1].name, 'from-go'), 5_000, `broadcast at ${n.name}`);
    }
    // Each node reports each broadcast once, despite the re-broadcast by every receiver.
    for (const n of everyone) {
      for (const text of ['from-ts', 'from-go']) {
        assert.ok(n.find('msg', { kind: 'broadcast', data: text }).length <= 1, n.label());
      }
    }
  });

  test('(i) metadata updates are seen both ways', async () => {
    const everyone = [...go, ...ts];
    ts[1].send('meta role=ts-updated');
    for (const n of everyone) {
      await n.waitFor(
        (e) => e.event === 'update' && e.name === ts[1].name && e.meta === 'role=ts-updated',
        5_000,
        `update of ${ts[1].name} at ${n.name}`,
      );
    }
    go[0].send('meta role=go-updated');
    for (const n of everyone) {
      await n.waitFor(
        (e) => e.event === 'update' && e.name === go[0].name && e.meta === 'role=go-updated',
        5_000,
        `update of ${go[0].name} at ${n.name}`,
      );
    }
    const listed = await go[2].members();
    assert.equal(listed.find((m) => m.name === ts[1].name)?.meta, 'role=ts-updated');
    const listedTs = await ts[0].members();
    assert.equal(listedTs.find((m) => m.name === go[0].name)?.meta, 'role=go-updated');
  });
});
