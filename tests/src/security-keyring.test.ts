// Issue 7, keys changing in a live mixed Go/TS cluster:
//  1. the TS library rotates its primary key at runtime while Go peers hold both keys: traffic
//     keeps flowing both ways and nobody is marked failed (runs now);
//  2. a full rotation across Go and TS nodes (install the new key everywhere, make it primary
//     everywhere, remove the old one), and
//  3. encryption switched on in a running plaintext cluster with the verify-outgoing and then
//     verify-incoming switches.
// 2 and 3 drive both programs through the keyring and verify commands of the line protocol
// (`key list|install|use|remove <b64>`, `verify incoming|outgoing on|off`; see
// docs/node-line-protocol-extensions.md). A program without them makes these two tests skip with
// a reason, and fail under CI (see @isopeer/test-support).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  createMemberlist,
  defaultLocalConfig,
  Keyring,
  type Memberlist,
  TransmitLimitedQueue,
} from '@isopeer/memberlist';
import { partMissing } from '@isopeer/test-support';
import { broadcastUntilDelivered, receiversOf } from '../support/broadcast.js';
import { names, startCluster } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import {
  closeAll,
  type Impl,
  type LineEvent,
  LineNode,
  waitForStates,
} from '../support/line-node.js';

const goSkip = await goPeerSkip();

const b64 = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const OLD = b64(0x11);
const NEW = b64(0x22);
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Whether a node understands `command`: it answers with `answer`, or says `unknown command`.
 * Other errors count as understood (the command exists but refused these arguments).
 */
async function understands(node: LineNode, command: string, answer: string): Promise<boolean> {
  const since = node.mark();
  node.send(command);
  const ev = await node.waitFor(
    (e) => e.event === answer || e.event === 'error',
    10_000,
    `'${answer}' or 'error' answering '${command}'`,
    since,
  );
  return !(ev.event === 'error' && /unknown command/i.test(String(ev.message)));
}

/** Why the keyring/verify commands cannot be tested yet, or false when both programs have them. */
async function commandsMissing(): Promise<false | string> {
  if (goSkip) return goSkip;
  const missing: string[] = [];
  for (const impl of ['go', 'ts'] as Impl[]) {
    const node = await LineNode.start({ impl, name: `probe-${impl}`, keys: [OLD] });
    try {
      if (!(await understands(node, 'key list', 'keys'))) missing.push(`${impl}: key`);
      if (!(await understands(node, 'verify outgoing on', 'verify')))
        missing.push(`${impl}: verify`);
    } finally {
      await node.close();
    }
  }
  if (missing.length === 0) return false;
  return partMissing(
    `the line-protocol keyring/verify commands are not implemented (${missing.join(', ')}); ` +
      'see bench/memberlist/issue7-notes.md',
  );
}

const cmdSkip = await commandsMissing();

/** Sends `command` to every node and waits for each answer. */
async function everywhere(
  nodes: LineNode[],
  command: string,
  answer: string,
): Promise<LineEvent[]> {
  return Promise.all(nodes.map((n) => n.request(command, answer)));
}

/**
 * A broadcast from `from` reaches every other node. Gossip in a 4-node cluster misses a node now
 * and then by design (in Go as in TS), so the helper re-broadcasts under a new id until all have
 * one; a key mismatch would starve a node of every attempt.
 */
async function broadcastReachesAll(
  nodes: LineNode[],
  from: LineNode,
  prefix: string,
): Promise<void> {
  await broadcastUntilDelivered(from, from.name, receiversOf(nodes, from.name), prefix);
}

function noFailures(nodes: LineNode[]): void {
  for (const n of nodes) {
    const dead = n.find('leave').filter((ev) => ev.state !== 'left');
    assert.deepEqual(dead, [], `${n.label()}: nobody marked failed`);
  }
}

/** A node with these keys (or none) is refused when it tries to join through `seed`. */
async function refused(seed: LineNode, impl: Impl, name: string, keys: string[]): Promise<void> {
  const n = await LineNode.start({ impl, name, keys, join: [seed.address()] });
  try {
    const joined = await n.waitFor((ev) => ev.event === 'joined', 15_000, 'joined');
    assert.equal(joined.ok, false, `${name} must be refused: ${JSON.stringify(joined)}`);
  } finally {
    await n.close();
  }
}

describe('security: keys changing in a live Go/TS cluster', () => {
  after(closeAll);

  test('the TS library rotates its primary at runtime; Go peers holding both keys keep up', {
    skip: goSkip,
  }, async () => {
    // Go peers hold OLD (primary) and NEW, as after an "install NEW everywhere" step.
    const go = await startCluster({
      prefix: 'rot',
      impls: ['go', 'go'],
      options: { keys: [OLD, NEW] },
    });
    const keyring = new Keyring([Buffer.from(OLD, 'base64')]);
    const received: string[] = [];
    const queue = new TransmitLimitedQueue(() => ts?.numMembers() ?? 1, 2);
    let ts: Memberlist | undefined;
    ts = await createMemberlist(
      { ...defaultLocalConfig(), name: 'rot-ts', bindAddr: '127.0.0.1', bindPort: 0, keyring },
      {
        delegate: {
          notifyMsg: (m) => received.push(dec.decode(m)),
          getBroadcasts: (o, l) => queue.getBroadcasts(o, l),
        },
      },
    );
    const node = ts;
    try {
      await node.join([go[0].address()]);
      await waitForStates(go, [...names(go), 'rot-ts'], 'alive', 20_000);
      let id = 0;
      const roundTrip = async (tag: string) => {
        // TS → Go and Go → TS by gossip (re-broadcast under a new id if a small cluster's
        // gossip missed a node), then a reliable message over TCP.
        const tsGot = (g: LineNode) =>
          g.events.some((ev) => ev.event === 'msg' && String(ev.data).startsWith(`ts-${tag}`));
        for (let attempt = 1; !go.every(tsGot); attempt++) {
          assert.ok(attempt <= 6, `TS broadcast ${tag} reached every Go node`);
          const text = `ts-${tag}-${attempt}`;
          queue.queueBroadcast({ message: enc.encode(`B|rot-ts|${++id}|${text}`), unique: true });
          await Promise.all(go.map((g) => g.until(() => tsGot(g), 2_000, text).catch(() => {})));
        }
        for (let attempt = 1; ; attempt++) {
          assert.ok(attempt <= 6, `Go broadcast ${tag} reached TS`);
          await go[1].request(`broadcast go-${tag}-${attempt}`, 'broadcast-queued');
          const ok = await waitUntil(
            () => received.some((m) => m.includes(`|go-${tag}-`)),
            2_000,
            `go-${tag}`,
          ).then(
            () => true,
            () => false,
          );
          if (ok) break;
        }
        await node.sendReliable(go[0].name, enc.encode(`R|rot-ts|${++id}|rel-${tag}`));
        await go[0].waitFor((ev) => ev.event === 'msg' && ev.data === `rel-${tag}`, 10_000);
      };
      await roundTrip('old');
      keyring.addKey(Buffer.from(NEW, 'base64'));
      keyring.useKey(Buffer.from(NEW, 'base64'));
      assert.equal(Buffer.from(keyring.primaryKey).toString('base64'), NEW);
      // TS now encrypts with NEW (Go decrypts with its secondary key); Go still sends with OLD.
      await roundTrip('new');
      assert.equal(node.metrics().dropped.decrypt ?? 0, 0, 'TS decrypted everything');
      noFailures(go);
      assert.deepEqual(
        node.members().map((m) => m.state),
        ['alive', 'alive', 'alive'],
      );
      // Once OLD is gone from TS, Go's OLD-sealed traffic is refused (counted, not thrown):
      // the reason the full rotation needs Go's keyring commands too.
      keyring.useKey(Buffer.from(NEW, 'base64'));
      keyring.removeKey(Buffer.from(OLD, 'base64'));
      const before = received.length;
      await go[1].request('broadcast go-after-removal', 'broadcast-queued');
      await waitUntil(() => (node.metrics().dropped.decrypt ?? 0) > 0, 15_000, 'refused packets');
      assert.ok(!received.slice(before).some((m) => m.endsWith('|go-after-removal')));
    } finally {
      await node.shutdown();
      await Promise.all(go.map((g) => g.close()));
    }
  });

  test('full rotation across Go and TS nodes: install, use, remove; nobody marked failed', {
    skip: cmdSkip,
  }, async () => {
    const nodes = await startCluster({
      prefix: 'krot',
      impls: ['go', 'ts', 'go', 'ts'],
      options: { keys: [OLD] },
      convergeTimeoutMs: 30_000,
    });
    try {
      await broadcastReachesAll(nodes, nodes[0], 'before');
      for (const ev of await everywhere(nodes, `key install ${NEW}`, 'keys')) {
        assert.equal(ev.primary, OLD);
        assert.deepEqual([...(ev.keys as string[])].sort(), [OLD, NEW].sort());
      }
      await broadcastReachesAll(nodes, nodes[1], 'installed');
      for (const ev of await everywhere(nodes, `key use ${NEW}`, 'keys')) {
        assert.equal(ev.primary, NEW);
      }
      await broadcastReachesAll(nodes, nodes[2], 'switched');
      for (const ev of await everywhere(nodes, `key remove ${OLD}`, 'keys')) {
        assert.deepEqual(ev.keys, [NEW]);
      }
      await broadcastReachesAll(nodes, nodes[3], 'removed');
      // Removing the primary is refused with an error, and the keyring stays as it was.
      for (const n of nodes) {
        const since = n.mark();
        n.send(`key remove ${NEW}`);
        await n.waitFor(
          (ev) => ev.event === 'error',
          10_000,
          'error for removing the primary',
          since,
        );
        assert.deepEqual((await n.request('key list', 'keys')).keys, [NEW]);
      }
      await refused(nodes[0], 'ts', 'krot-stale-ts', [OLD]);
      await refused(nodes[1], 'go', 'krot-stale-go', [OLD]);
      await waitForStates(nodes, names(nodes), 'alive', 10_000);
      noFailures(nodes);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });

  test('encryption switched on live: verify-outgoing, then verify-incoming', {
    skip: cmdSkip,
  }, async () => {
    // Every node holds the key but neither encrypts nor insists on encryption yet.
    const nodes: LineNode[] = [];
    for (const [i, impl] of (['go', 'ts', 'go', 'ts'] as Impl[]).entries()) {
      const n = await LineNode.start({ impl, name: `live-${impl}${i}`, keys: [OLD] });
      for (const cmd of ['verify incoming off', 'verify outgoing off']) {
        const ev = await n.request(cmd, 'verify');
        assert.equal(ev[cmd.split(' ')[1]], false, cmd);
      }
      if (nodes.length > 0) n.send(`join ${nodes.map((x) => x.address()).join(',')}`);
      nodes.push(n);
    }
    try {
      await waitForStates(nodes, names(nodes), 'alive', 30_000);
      // Plaintext is accepted now: a node without any key joins, then leaves gracefully.
      const plain = await LineNode.start({
        impl: 'go',
        name: 'live-plain',
        join: [nodes[1].address()],
      });
      assert.equal((await plain.waitFor((ev) => ev.event === 'joined', 15_000)).ok, true);
      await waitForStates(nodes, ['live-plain'], 'alive', 15_000);
      await plain.request('leave 2000', 'left');
      await plain.close();
      await waitForStates(nodes, ['live-plain'], 'left', 15_000);

      for (const ev of await everywhere(nodes, 'verify outgoing on', 'verify')) {
        assert.equal(ev.outgoing, true);
      }
      await broadcastReachesAll(nodes, nodes[0], 'encrypted-out');
      for (const ev of await everywhere(nodes, 'verify incoming on', 'verify')) {
        assert.equal(ev.incoming, true);
      }
      await broadcastReachesAll(nodes, nodes[1], 'encrypted-both');
      await refused(nodes[0], 'ts', 'live-nokey-ts', []);
      await refused(nodes[1], 'go', 'live-nokey-go', []);
      await waitForStates(nodes, names(nodes), 'alive', 10_000);
      noFailures(nodes);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});

/** Polls a condition about in-process state until it holds or the deadline passes. */
async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
