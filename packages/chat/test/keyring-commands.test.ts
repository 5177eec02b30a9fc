// The keyring console commands on real ChatPeer/Console instances in one process, over real
// loopback sockets: validation, keys given before creation, a live rotation, and encryption
// switched on in a running cluster with the verify flags.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Console, type OutputLine } from '@isopeer/console';
import type { ChatPeer } from '../src/chat-peer.js';
import { registerChatPeer } from '../src/commands/index.js';
import { keyFingerprint, parseKeyBase64 } from '../src/commands/keyring.js';
import { createChatPeer } from '../src/peer.js';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Node {
  peer: ChatPeer;
  console: Console;
  lines: OutputLine[];
}

const made: Node[] = [];
after(async () => {
  await Promise.all(made.map((n) => n.peer.close()));
  await Promise.all(made.map((n) => n.console.close()));
});

function makeNode(name: string, keys: Uint8Array[] = []): Node {
  const console = new Console();
  const lines: OutputLine[] = [];
  console.on('line', (l: OutputLine) => lines.push(l));
  const peer = createChatPeer({ name, console, keys, rejoinDelayMs: { min: 60_000, max: 60_000 } });
  registerChatPeer(peer);
  const n = { peer, console, lines };
  made.push(n);
  return n;
}

async function run(n: Node, line: string): Promise<string[]> {
  const r = await n.console.execute(line);
  assert.ok(r.ok, `${n.peer.name} ${line}: ${r.error}`);
  return r.lines.map((l) => l.text);
}

async function fails(n: Node, line: string, pattern: RegExp): Promise<void> {
  const r = await n.console.execute(line);
  assert.equal(r.ok, false, `${line} should fail`);
  assert.match(String(r.error), pattern);
}

async function start(n: Node, join?: Node): Promise<void> {
  await run(n, '/memberlistconfigure');
  await run(n, '/memberlistcreate');
  await run(n, '/memberliststart');
  if (join) await run(n, `/memberlistjoin ${join.peer.requireMemberlist().advertiseAddress}`);
}

const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
const newKey = (len = 32) => new Uint8Array(randomBytes(len));

/** Every node sees `count` alive members and none suspect or dead. */
function allAlive(nodes: Node[], count: number): boolean {
  return nodes.every((n) => {
    const m = n.peer.requireMemberlist().metrics().members;
    return m.alive === count && m.suspect === 0 && m.dead === 0;
  });
}

/**
 * Lets every node run `rounds` more probes and checks none failed, nobody was suspected and no
 * packet was dropped as undecryptable meanwhile: the keys in use really work both ways.
 */
async function probesStayGood(nodes: Node[], rounds = 3): Promise<void> {
  const start = nodes.map((n) => n.peer.requireMemberlist().metrics());
  await until(`${rounds} more probes by every node`, () =>
    nodes.every(
      (n, i) => n.peer.requireMemberlist().metrics().probes.sent >= start[i]!.probes.sent + rounds,
    ),
  );
  nodes.forEach((n, i) => {
    const m = n.peer.requireMemberlist().metrics();
    assert.equal(m.probes.failed, start[i]!.probes.failed, `${n.peer.name}: no failed probe`);
    assert.equal(m.suspicions.raised, 0, `${n.peer.name} suspected nobody`);
    assert.equal(
      m.dropped.decrypt ?? 0,
      start[i]!.dropped.decrypt ?? 0,
      `${n.peer.name}: no decrypt drop`,
    );
  });
}

/** A gossiped item set on `from` arrives at every other node (proves memberlist traffic flows). */
async function gossipFlows(from: Node, to: Node[], key: string): Promise<void> {
  await run(from, `/broadcastadd ${key} over-gossip`);
  await until(`${key} at every node`, () =>
    to.every((n) => n.peer.items.get(key) === 'over-gossip'),
  );
}

describe('keyring commands: arguments', () => {
  const n = makeNode('val');
  const key = newKey(16);

  it('decodes standard base64 of 16, 24 and 32 bytes only', () => {
    for (const len of [16, 24, 32]) {
      const k = newKey(len);
      assert.deepEqual(parseKeyBase64(b64(k)), k);
    }
    assert.throws(() => parseKeyBase64(b64(newKey(20))), /20 bytes; AES keys are 16, 24 or 32/);
    assert.throws(() => parseKeyBase64('not base64!'), /is not a base64 key/);
    assert.throws(() => parseKeyBase64(b64(key).replace(/=+$/, '')), /is not a base64 key/);
    assert.throws(() => parseKeyBase64(''), /is not a base64 key/);
  });

  it('rejects bad keys, unknown keys and removing the primary, leaving the keyring as it was', async () => {
    await fails(n, '/keyringinstall abc$', /is not a base64 key/);
    await fails(n, `/keyringinstall ${b64(newKey(8))}`, /8 bytes; AES keys are 16, 24 or 32/);
    await fails(n, '/keyringinstall', /usage: \/keyringinstall/);
    assert.equal(n.peer.keyring?.keys.length ?? 0, 0);
    await run(n, `/keyringinstall ${b64(key)}`);
    const other = newKey(24);
    await fails(n, `/keyringuse ${b64(other)}`, /is not installed/);
    await fails(n, `/keyringremove ${b64(other)}`, /is not installed/);
    await fails(n, `/keyringremove ${b64(key)}`, /primary key and cannot be removed.*\/keyringuse/);
    await fails(n, '/keyring list --shown', /usage: \/keyring/);
    await fails(n, '/keyringverify incoming', /usage: \/keyringverify/);
    await fails(n, '/keyringverify sideways on', /expected incoming or outgoing/);
    await fails(n, '/keyringverify incoming maybe', /expected on or off/);
    assert.deepEqual(n.peer.keyring?.keys, [key]);
  });

  it('lists fingerprints, and whole keys only with --show', async () => {
    const listed = (await run(n, '/keyring')).join('\n');
    assert.match(
      listed,
      /^1 key\(s\) \(for the next \/memberlistcreate\); encrypting outgoing, requiring encrypted input; verify incoming on, outgoing on$/m,
    );
    assert.ok(listed.includes(`* ${keyFingerprint(key)}  AES-128  primary`), listed);
    assert.ok(!listed.includes(b64(key)), 'the key itself is not printed');
    const shown = (await run(n, '/keyring list --show')).join('\n');
    assert.ok(shown.includes(`* ${b64(key)}  AES-128  primary`), shown);
  });

  it('needs a configuration before the verify flags can be switched', async () => {
    await fails(n, '/keyringverify incoming off', /no configuration yet$/);
    await run(n, '/memberlistconfigure');
    const out = await run(n, '/keyringverify incoming off');
    assert.match(out.join('\n'), /verify incoming off, outgoing on/);
    assert.equal(n.peer.currentGoConfig().GossipVerifyIncoming, false);
  });
});

describe('keyring commands: keys given before creation', () => {
  it('--key keys (first primary) and /keyringinstall before /memberlistcreate reach the node', async () => {
    const [a, b, c] = [newKey(), newKey(16), newKey(24)];
    const n = makeNode('early', [a, b]);
    await run(n, '/memberlistconfigure');
    await run(n, `/keyringinstall ${b64(c)}`);
    await run(n, '/memberlistcreate');
    const live = n.peer.requireMemberlist().config.keyring;
    assert.ok(live);
    assert.deepEqual(live.keys, [a, b, c]);
    const listed = (await run(n, '/keyring')).join('\n');
    assert.match(listed, /^3 key\(s\); encrypting outgoing, requiring encrypted input/);
  });
});

describe('keyring commands: a live cluster', () => {
  const oldKey = newKey();
  const newer = newKey(16);
  const nodes = ['k1', 'k2', 'k3'].map((name) => makeNode(name, [oldKey]));

  it('nodes with the same key form one cluster; a node with another key cannot join', async () => {
    await start(nodes[0]!);
    for (const n of nodes.slice(1)) await start(n, nodes[0]);
    await until('three alive members', () => allAlive(nodes, 3));
    const stranger = makeNode('stranger', [newKey()]);
    await start(stranger);
    const joinLine = `/memberlistjoin ${nodes[0]!.peer.requireMemberlist().advertiseAddress}`;
    await fails(stranger, joinLine, /join failed/);
    assert.equal(stranger.peer.requireMemberlist().numMembers(), 1);
    await gossipFlows(nodes[0]!, nodes.slice(1), 'before');
    await until(
      'the stranger’s packets are dropped as undecryptable',
      () => (nodes[0]!.peer.requireMemberlist().metrics().dropped.decrypt ?? 0) > 0,
    );
  });

  it('rotates to a new key live: install, use, remove; nobody is suspected and gossip flows', async () => {
    for (const n of nodes) await run(n, `/keyringinstall ${b64(newer)}`);
    await gossipFlows(nodes[1]!, [nodes[0]!, nodes[2]!], 'installed');
    for (const n of nodes) {
      const out = await run(n, `/keyringuse ${b64(newer)}`);
      assert.deepEqual(out, [`primary key is now ${keyFingerprint(newer)} (AES-128)`]);
    }
    await gossipFlows(nodes[2]!, [nodes[0]!, nodes[1]!], 'used');
    for (const n of nodes) await run(n, `/keyringremove ${b64(oldKey)}`);
    await gossipFlows(nodes[0]!, [nodes[1]!, nodes[2]!], 'removed');
    await probesStayGood(nodes);
    for (const n of nodes) {
      assert.deepEqual(n.peer.requireMemberlist().config.keyring?.keys, [newer]);
      const m = n.peer.requireMemberlist().metrics();
      assert.equal(m.suspicions.raised, 0, `${n.peer.name} suspected nobody`);
      assert.equal(m.members.alive, 3);
    }
    // Only the new key opens the cluster now.
    const withOld = makeNode('with-old', [oldKey]);
    await start(withOld);
    const addr = nodes[1]!.peer.requireMemberlist().advertiseAddress;
    await fails(withOld, `/memberlistjoin ${addr}`, /join failed/);
    const withNew = makeNode('with-new', [newer]);
    await start(withNew, nodes[1]);
    await until('four alive members', () => allAlive([...nodes, withNew], 4));
    await run(withNew, '/memberlistleave 1');
  });
});

describe('keyring commands: encryption switched on in a running cluster', () => {
  const key = newKey();
  const nodes = ['p1', 'p2', 'p3'].map((name) => makeNode(name));

  it('install (verify goes off), outgoing on everywhere, then incoming on: no member lost', async () => {
    await start(nodes[0]!);
    for (const n of nodes.slice(1)) await start(n, nodes[0]);
    await until('three alive members', () => allAlive(nodes, 3));

    for (const n of nodes) {
      const r = await n.console.execute(`/keyringinstall ${b64(key)}`);
      assert.ok(r.ok, String(r.error));
      assert.ok(
        r.lines.some(
          (l) => l.kind === 'warn' && l.text.includes('verify incoming and outgoing are now off'),
        ),
        'the first key on a running node says the verify flags went off',
      );
      const cfg = n.peer.requireMemberlist().config;
      assert.equal(cfg.gossipVerifyIncoming, false);
      assert.equal(cfg.gossipVerifyOutgoing, false);
    }
    await gossipFlows(nodes[0]!, nodes.slice(1), 'keys-installed');
    for (const n of nodes) await run(n, '/keyringverify outgoing on');
    await gossipFlows(nodes[1]!, [nodes[0]!, nodes[2]!], 'outgoing-on');
    for (const n of nodes) {
      const out = await run(n, '/keyringverify incoming on');
      assert.match(
        out.at(-1)!,
        /encrypting outgoing, requiring encrypted input; verify incoming on, outgoing on/,
      );
    }
    await gossipFlows(nodes[2]!, [nodes[0]!, nodes[1]!], 'incoming-on');
    await probesStayGood(nodes);
    for (const n of nodes) {
      const m = n.peer.requireMemberlist().metrics();
      assert.equal(m.members.alive, 3);
      assert.equal(m.suspicions.raised, 0, `${n.peer.name} suspected nobody`);
    }
    // The cluster is encrypted now: a node without the key is refused.
    const plain = makeNode('plain');
    await start(plain);
    const addr = nodes[0]!.peer.requireMemberlist().advertiseAddress;
    await fails(plain, `/memberlistjoin ${addr}`, /join failed/);
    assert.equal(plain.peer.requireMemberlist().numMembers(), 1);
  });
});
