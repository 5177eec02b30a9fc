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

  // Gossip is probabilistic by design: with the local preset a broadcast is sent at most
  // 2 × ceil(log10(n+1)) times per node, so in a 5-node cluster a single broadcast misses a node
  // now and then, with Go alone just as with TS (bench/memberlist/interop-notes.md). What must
  // hold is that broadcasts cross implementations: each receiver gets some broadcast from the
  // sender, re-sending (new id) after 2 s without full delivery, at most 6 times.
  async function broadcastToAll(sender: LineNode, receivers: LineNode[], prefix: string) {
    const got = (n: LineNode) =>
      n.events.some(
        (e) =>
          e.event === 'msg' &&
          e.kind === 'broadcast' &&
          e.from === sender.name &&
          String(e.data).startsWith(prefix),
      );
    for (let attempt = 1; attempt <= 6; attempt++) {
      const q = await sender.request(`broadcast ${prefix}-${attempt}`, 'broadcast-queued');
      assert.equal(q.data, `${prefix}-${attempt}`);
      const all = await Promise.all(
        receivers.map((n) =>
          n
            .until(() => got(n), 2_000, `${prefix} at ${n.name}`)
            .then(
              () => true,
              () => false,
            ),
        ),
      );
      if (all.every(Boolean)) return attempt;
    }
    assert.fail(
      `${prefix}: not every node got a broadcast from ${sender.name}: ${receivers.filter((n) => !got(n)).map((n) => n.name)}`,
    );
  }

  test('(e) broadcasts from a TS node reach every node, and ones from a Go node come back', async () => {
    const everyone = [...go, ...ts];
    await broadcastToAll(
      ts[0],
      everyone.filter((x) => x !== ts[0]),
      'from-ts',
    );
    await broadcastToAll(
      go[1],
      everyone.filter((x) => x !== go[1]),
      'from-go',
    );
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
