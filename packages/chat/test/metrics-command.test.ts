// `/metrics` on two real ChatPeer/Console instances joined over loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Console } from '@isopeer/console';
import type { MetricsSnapshot } from '@isopeer/memberlist';
import type { ChatPeer } from '../src/chat-peer.js';
import { registerChatPeer } from '../src/commands/index.js';
import { createChatPeer } from '../src/peer.js';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function makePeer(name: string): ChatPeer {
  const peer = createChatPeer({
    name,
    console: new Console(),
    rejoinDelayMs: { min: 60_000, max: 60_000 },
  });
  registerChatPeer(peer);
  return peer;
}

async function run(peer: ChatPeer, line: string): Promise<string[]> {
  const r = await peer.console.execute(line);
  assert.ok(r.ok, `${line}: ${r.error}`);
  return r.lines.map((l) => l.text);
}

describe('/metrics', () => {
  const a = makePeer('ma');
  const b = makePeer('mb');
  before(async () => {
    for (const p of [a, b]) {
      await run(p, '/memberlistconfigure');
      await run(p, '/memberlistcreate');
    }
    await run(b, `/memberlistjoin ${a.requireMemberlist().advertiseAddress}`);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await Promise.all([a.console.close(), b.console.close()]);
  });

  it('needs a memberlist', async () => {
    const p = makePeer('none');
    const r = await p.console.execute('/metrics');
    assert.equal(r.ok, false);
    assert.match(String(r.error), /\/metrics: no memberlist yet$/);
    const bad = await a.console.execute('/metrics --yaml');
    assert.equal(bad.ok, false);
    assert.match(String(bad.error), /usage: \/metrics \[--json\]/);
    await p.console.close();
  });

  it('prints the snapshot as an aligned table and as one JSON line that agree', async () => {
    await until('a probe sent by each node', () =>
      [a, b].every((p) => p.requireMemberlist().metrics().probes.sent > 0),
    );
    const out = await run(a, '/metrics --json');
    assert.equal(out.length, 1);
    const m = JSON.parse(out[0]!) as MetricsSnapshot;
    assert.equal(m.members.alive, 2);
    assert.ok(m.probes.sent > 0);
    assert.ok(m.packets.in > 0 && m.packets.out > 0 && m.packets.bytesIn > 0);
    const lines = await run(a, '/metrics');
    // A header, then one row per subject, the values in one column.
    assert.match(lines[0]!, /^Metric +Value$/);
    const column = lines[0]!.indexOf('Value');
    assert.ok(lines.every((l) => l.length > column && l.slice(column - 2, column) === '  '));
    assert.equal(lines[1], `${'members'.padEnd(column)}2 alive, 0 suspect, 0 dead, 0 left`);
    assert.equal(lines[2], `${'health score'.padEnd(column)}${m.healthScore} (0 is healthy)`);
    const probes = /^probes +(\d+) sent, (\d+) failed/.exec(lines[3]!);
    assert.ok(probes, lines[3]);
    assert.ok(Number(probes[1]) >= m.probes.sent);
    for (const subject of [
      'suspicions ',
      'flaps ',
      'deaths ',
      'packets ',
      'streams ',
      'dropped ',
    ]) {
      assert.ok(
        lines.some((l) => l.startsWith(subject)),
        `a row for ${subject}`,
      );
    }
  });

  it('counts dropped garbage by reason', async () => {
    const before = a.requireMemberlist().metrics().dropped;
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    const [host, port] = a.requireMemberlist().advertiseAddress.split(':') as [string, string];
    await new Promise<void>((res, rej) =>
      s.send(Buffer.from([0xff, 1, 2, 3]), Number(port), host, (e) => (e ? rej(e) : res())),
    );
    s.close();
    const total = (d: MetricsSnapshot['dropped']) =>
      Object.values(d).reduce((x, y) => (x ?? 0) + (y ?? 0), 0) ?? 0;
    await until(
      'the garbage datagram counted as dropped',
      () => total(a.requireMemberlist().metrics().dropped) > total(before),
    );
    const lines = await run(a, '/metrics');
    assert.match(lines.find((l) => l.startsWith('dropped '))!, /^dropped +(\S+ \d+)(, \S+ \d+)*$/);
  });
});
