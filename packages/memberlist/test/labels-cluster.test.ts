/**
 * Labels between running TS nodes: equal labels form a cluster (plain and encrypted, on the
 * in-memory network and on real loopback sockets); any difference keeps them apart, refused
 * and counted as Go does; skipInboundLabelCheck gives Go's lopsided pairs; and a long label
 * is taken out of the datagram budget.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { seededRandom, VirtualClock } from '../src/clock.js';
import { CRC_HEADER_SIZE, encodeMessage, Keyring, MessageType } from '../src/codec/index.js';
import { type Config, ConfigError, defaultLocalConfig, validateConfig } from '../src/config.js';
import { createMemberlist, type Memberlist, MemberlistError } from '../src/memberlist.js';
import type { LabelRefusal } from '../src/net.js';
import { MemoryNetwork } from '../src/transport/memory-transport.js';
import type { Transport } from '../src/transport/transport.js';
import { aliveNames, loopbackConfig, waitFor } from './helpers.js';
import { KEY16 } from './label-fixtures.js';

interface Sim {
  clock: VirtualClock;
  nodes: Memberlist[];
  refusals: LabelRefusal[][];
  received: string[][];
  /** Size of every datagram each node sent. */
  sent: number[][];
  shutdown(): Promise<void>;
}

/** Nodes n0, n1, … on one in-memory network, not joined; `configs[i]` overrides the Local preset. */
async function sim(configs: Partial<Config>[], delegateBroadcasts?: number): Promise<Sim> {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed: 3 });
  const s: Sim = {
    clock,
    nodes: [],
    refusals: [],
    received: [],
    sent: [],
    shutdown: async () => {
      await Promise.all(s.nodes.map((m) => m.shutdown()));
    },
  };
  for (const [i, over] of configs.entries()) {
    const inner = net.createTransport();
    const sent: number[] = [];
    const transport: Transport = {
      bindAddr: inner.bindAddr,
      bindPort: inner.bindPort,
      setHandlers: (h) => inner.setHandlers(h),
      sendPacket: (to, data) => {
        sent.push(data.length);
        return inner.sendPacket(to, data);
      },
      dialStream: (to, ms) => inner.dialStream(to, ms),
      close: () => inner.close(),
    };
    const refusals: LabelRefusal[] = [];
    const received: string[] = [];
    const filler = new Uint8Array(delegateBroadcasts ?? 0).fill(0x41);
    s.nodes.push(
      await createMemberlist(
        { ...defaultLocalConfig(), name: `n${i}`, ...over },
        {
          transport,
          clock,
          random: seededRandom(17 + i),
          events: { labelRefused: (r) => refusals.push(r) },
          delegate: {
            notifyMsg: (m) => received.push(Buffer.from(m).toString()),
            // Fills every datagram to the byte budget memberlist offers.
            getBroadcasts:
              delegateBroadcasts === undefined
                ? undefined
                : (overhead, limit) => {
                    const out: Uint8Array[] = [];
                    for (let used = 0; used + filler.length + overhead <= limit; ) {
                      out.push(filler);
                      used += filler.length + overhead;
                    }
                    return out;
                  },
          },
        },
      ),
    );
    s.refusals.push(refusals);
    s.received.push(received);
    s.sent.push(sent);
  }
  return s;
}

function labelDrops(m: Memberlist): Record<string, number> {
  return Object.fromEntries(
    Object.entries(m.metrics().dropped).filter(([k]) => k.startsWith('label-')),
  );
}

describe('labels on the in-memory network', () => {
  for (const keyring of [null, new Keyring([KEY16])]) {
    it(`nodes with the same label form a cluster${keyring ? ' (encrypted)' : ''}`, async () => {
      const s = await sim([0, 1, 2].map(() => ({ label: 'team1', keyring })));
      for (const m of s.nodes.slice(1))
        assert.equal(await m.join([s.nodes[0].advertiseAddress]), 1);
      assert.ok(
        await s.clock.runUntil(() => s.nodes.every((m) => aliveNames(m).length === 3), 10_000),
      );
      await s.nodes[1].sendReliable('n2', Buffer.from('reliable'));
      await s.nodes[2].sendBestEffort('n0', Buffer.from('best-effort'));
      assert.ok(
        await s.clock.runUntil(
          () => s.received[2].includes('reliable') && s.received[0].includes('best-effort'),
          2_000,
        ),
      );
      // Probes, gossip and push/pulls for 30 s: nothing refused, nobody suspected.
      await s.clock.advance(30_000);
      for (const m of s.nodes) {
        assert.deepEqual(labelDrops(m), {});
        assert.deepEqual(aliveNames(m), ['n0', 'n1', 'n2']);
        assert.equal(m.metrics().suspicions.raised, 0);
      }
      await s.shutdown();
    });
  }

  const pairs: Array<[string, Partial<Config>, Partial<Config>, LabelRefusal['reason'], RegExp]> = [
    [
      'team2 joins team1',
      { label: 'team2' },
      { label: 'team1' },
      'mismatch',
      /label "team2" too\?/,
    ],
    ['team1 joins an unlabelled node', { label: 'team1' }, {}, 'mismatch', /label "team1" too\?/],
    ['an unlabelled node joins team1', {}, { label: 'team1' }, 'missing', /does it have a label\?/],
    [
      'team1 joins team1 with skipInboundLabelCheck',
      { label: 'team1' },
      { label: 'team1', skipInboundLabelCheck: true },
      'unexpected',
      /label "team1" too\?/,
    ],
    [
      'encrypted: team2 joins team1 with the same key',
      { label: 'team2', keyring: new Keyring([KEY16]) },
      { label: 'team1', keyring: new Keyring([KEY16]) },
      'mismatch',
      /label "team2" too\?/,
    ],
  ];
  for (const [what, joiner, seed, reason, hint] of pairs) {
    it(`${what}: the join fails, the seed refuses (${reason}) and reports it`, async () => {
      const s = await sim([seed, joiner]);
      const [seedNode, joinNode] = s.nodes;
      await assert.rejects(joinNode.join([seedNode.advertiseAddress]), (e: unknown) => {
        assert.ok(e instanceof MemberlistError);
        assert.equal(e.code, 'ERR_JOIN');
        assert.match(e.message, /closed the push\/pull without a reply/);
        assert.match(e.message, hint);
        return true;
      });
      assert.deepEqual(labelDrops(seedNode), { [`label-${reason}`]: 1 });
      assert.equal(s.refusals[0][0].via, 'stream');
      assert.equal(s.refusals[0][0].reason, reason);
      assert.equal(s.refusals[0][0].label, joiner.label || null);
      await s.clock.advance(5_000);
      assert.deepEqual(aliveNames(seedNode), ['n0']);
      assert.deepEqual(aliveNames(joinNode), ['n1']);
      await s.shutdown();
    });
  }

  it('skipInboundLabelCheck: an unlabelled node gets in, but its traffic back is refused (lopsided, as in Go)', async () => {
    const s = await sim([{ label: 'team1', skipInboundLabelCheck: true }, {}]);
    const [skip, plain] = s.nodes;
    assert.equal(await plain.join([skip.advertiseAddress]), 1);
    assert.deepEqual(aliveNames(plain), ['n0', 'n1'], 'the join itself works');
    // The skip node labels what it sends; the unlabelled node drops all of it, so the skip
    // node's probes fail and it declares the other dead.
    assert.ok(
      await s.clock.runUntil(
        () => skip.allNodes().some((n) => n.name === 'n1' && n.state === 'dead'),
        20_000,
      ),
    );
    assert.ok((labelDrops(plain)['label-mismatch'] ?? 0) > 0);
    assert.ok(s.refusals[1].every((r) => r.reason === 'mismatch' && r.label === 'team1'));
    assert.deepEqual(labelDrops(skip), {}, 'unlabelled input is what the skip node accepts');
    await s.shutdown();
  });

  for (const keyring of [null, new Keyring([KEY16])]) {
    it(`a 255-byte label comes out of the datagram budget${keyring ? ' (with encryption)' : ''}`, async () => {
      const label = 'x'.repeat(255);
      const s = await sim(
        [0, 1, 2].map(() => ({ label, keyring, enableCompression: false })),
        40,
      );
      for (const m of s.nodes.slice(1)) await m.join([s.nodes[0].advertiseAddress]);
      await s.clock.advance(5_000);
      const sizes = s.sent.flat();
      const max = Math.max(...sizes);
      // Filled to the budget (a part of 40 + 2 bytes more would not fit), never over it but
      // for the CRC header, which Go leaves out of the budget as well.
      assert.ok(max <= 1400 + CRC_HEADER_SIZE, `largest datagram ${max} bytes`);
      assert.ok(max > 1400 - 42, `largest datagram ${max} bytes: the budget was used`);
      for (const m of s.nodes) assert.deepEqual(labelDrops(m), {});
      assert.ok(s.received[1].length > 0, 'the broadcasts arrived');
      await s.shutdown();
    });
  }
});

describe('labels over real UDP and TCP on loopback', () => {
  const nodes: Memberlist[] = [];
  const refusals: LabelRefusal[] = [];
  after(async () => {
    await Promise.all(nodes.map((m) => m.shutdown()));
  });

  it('two encrypted team1 nodes join and talk; a team2 node cannot join them', async () => {
    const keyring = () => new Keyring([KEY16]);
    const received: string[] = [];
    const a = await createMemberlist(
      loopbackConfig('lab-a', { label: 'team1', keyring: keyring() }),
      {
        events: { labelRefused: (r) => refusals.push(r) },
      },
    );
    nodes.push(a);
    const b = await createMemberlist(
      loopbackConfig('lab-b', { label: 'team1', keyring: keyring() }),
      {
        delegate: { notifyMsg: (m) => received.push(Buffer.from(m).toString()) },
      },
    );
    nodes.push(b);
    assert.equal(await b.join([a.advertiseAddress]), 1);
    await waitFor(() => aliveNames(a).length === 2 && aliveNames(b).length === 2, 5_000, 'join');
    await a.sendReliable('lab-b', Buffer.from('tcp'));
    await a.sendBestEffort('lab-b', Buffer.from('udp'));
    await waitFor(() => received.includes('tcp') && received.includes('udp'), 5_000, 'messages');

    const c = await createMemberlist(
      loopbackConfig('lab-c', { label: 'team2', keyring: keyring() }),
    );
    nodes.push(c);
    await assert.rejects(c.join([a.advertiseAddress]), { code: 'ERR_JOIN' });
    assert.deepEqual(
      refusals.map((r) => [r.via, r.reason, r.label]),
      [['stream', 'mismatch', 'team2']],
    );
    assert.deepEqual(aliveNames(a), ['lab-a', 'lab-b']);
  });

  it('an unlabelled datagram and a connection closed before its first byte count as missing labels (as Go)', async () => {
    const a = nodes[0];
    const [host, port] = [a.localNode().addr, a.localNode().port];
    const before = a.metrics().dropped['label-missing'] ?? 0;
    const udp = createSocket('udp4');
    const ping = encodeMessage({ type: MessageType.Ping, body: { seqNo: 1, node: 'lab-a' } });
    await new Promise<void>((r) => udp.send(ping, port, host, () => r()));
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host, port }, () => s.end());
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    await waitFor(
      () => (a.metrics().dropped['label-missing'] ?? 0) === before + 2,
      5_000,
      'two label-missing drops',
    );
    udp.close();
    assert.deepEqual(
      refusals
        .slice(-2)
        .map((r) => r.via)
        .sort(),
      ['packet', 'stream'],
    );
  });
});

describe('label configuration', () => {
  it('takes up to 255 bytes of UTF-8, as Go; refuses 256 and unpaired surrogates', () => {
    validateConfig({ ...defaultLocalConfig(), label: 'a'.repeat(255) });
    validateConfig({ ...defaultLocalConfig(), label: 'é'.repeat(127) }); // 254 bytes
    assert.throws(() => validateConfig({ ...defaultLocalConfig(), label: 'a'.repeat(256) }), {
      code: 'ERR_CONFIG',
      message: /could not use "a+" as a label: too long \(256 bytes, at most 255\)/,
    });
    assert.throws(
      () => validateConfig({ ...defaultLocalConfig(), label: 'é'.repeat(128) }),
      ConfigError,
    );
    assert.throws(() => validateConfig({ ...defaultLocalConfig(), label: '\ud800' }), ConfigError);
    assert.equal(defaultLocalConfig().label, '');
    assert.equal(defaultLocalConfig().skipInboundLabelCheck, false);
  });
});
