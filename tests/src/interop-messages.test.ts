// Interop (d), (e), (i): user messages, gossip broadcasts and metadata updates cross the
// implementation boundary in both directions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { broadcastUntilDelivered, receiversOf } from '../support/broadcast.js';
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

  test('(e) broadcasts from a TS node reach every node, and ones from a Go node come back', async () => {
    const everyone = [...go, ...ts];
    // Broadcasts are lossy by design in small clusters (support/broadcast.ts): what must hold is
    // that they cross implementations, so each receiver gets one of a few from the sender.
    await broadcastUntilDelivered(ts[0], ts[0].name, receiversOf(everyone, ts[0].name), 'from-ts');
    await broadcastUntilDelivered(go[1], go[1].name, receiversOf(everyone, go[1].name), 'from-go');
    // Each node reports each broadcast at most once, despite every receiver re-broadcasting it.
    for (const n of everyone) {
      const seen = n
        .find('msg')
        .filter((e) => e.kind === 'broadcast')
        .map((e) => `${e.from}|${e.data}`);
      assert.equal(new Set(seen).size, seen.length, `${n.label()}: ${seen}`);
    }
  });

  test('(i) metadata updates are seen both ways', async () => {
    const everyone = [...go, ...ts];
    // Gossip sends an update a few times only (Go: retransmitMult × log10 n); a node it misses learns it
    // at its next push/pull (15 s in the local preset), so that is the deadline, not 5 s.
    const within = 20_000;
    ts[1].send('meta role=ts-updated');
    for (const n of everyone) {
      await n.waitFor(
        (e) => e.event === 'update' && e.name === ts[1].name && e.meta === 'role=ts-updated',
        within,
        `update of ${ts[1].name} at ${n.name}`,
      );
    }
    go[0].send('meta role=go-updated');
    for (const n of everyone) {
      await n.waitFor(
        (e) => e.event === 'update' && e.name === go[0].name && e.meta === 'role=go-updated',
        within,
        `update of ${go[0].name} at ${n.name}`,
      );
    }
    const listed = await go[2].members();
    assert.equal(listed.find((m) => m.name === ts[1].name)?.meta, 'role=ts-updated');
    const listedTs = await ts[0].members();
    assert.equal(listedTs.find((m) => m.name === go[0].name)?.meta, 'role=go-updated');
  });
});
