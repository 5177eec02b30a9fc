/**
 * A running node meets the recorded Go v0.5.4 traffic (test/vectors/wire-labels): the bytes a
 * Go node sent are played to a TS node over the in-memory transport, and what the TS node does
 * (accepts and answers, or refuses, counts and reports) must be what the Go listener did.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom, VirtualClock } from '../src/clock.js';
import {
  decodePacket,
  Keyring,
  MessageType,
  readLabelHeader,
  tryParseStreamMessage,
  unpackMessages,
} from '../src/codec/index.js';
import { type Config, defaultLocalConfig } from '../src/config.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import type { LabelRefusal } from '../src/net.js';
import { MemoryNetwork, type MemoryTransport } from '../src/transport/memory-transport.js';
import type { WireCapture } from './codec-fixtures.js';
import { KEY16, loadLabelCaptures, TEAM1 } from './label-fixtures.js';

const captures = loadLabelCaptures();
const capture = (file: string): WireCapture => {
  const c = captures.find((x) => x.file === file);
  assert.ok(c, file);
  return c;
};

interface Listener {
  ml: Memberlist;
  clock: VirtualClock;
  /** A bare transport standing in for the Go node (at the address the capture names). */
  go: MemoryTransport;
  packetsToGo: Uint8Array[];
  refusals: LabelRefusal[];
}

/** A TS node at 127.0.0.1:7946 and a bare endpoint at `goAddr` that plays the Go node. */
async function listener(over: Partial<Config>, goAddr = '127.0.0.1:16101'): Promise<Listener> {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  const refusals: LabelRefusal[] = [];
  const ml = await createMemberlist(
    { ...defaultLocalConfig(), name: 'ts', ...over },
    {
      transport: net.createTransport('127.0.0.1:7946'),
      clock,
      random: seededRandom(1),
      events: { labelRefused: (r) => refusals.push(r) },
    },
  );
  const go = net.createTransport(goAddr);
  const packetsToGo: Uint8Array[] = [];
  go.setHandlers({ packet: (d) => packetsToGo.push(d), stream: (c) => c.close() });
  return { ml, clock, go, packetsToGo, refusals };
}

/** Dials the node, writes `chunks` one by one, and returns all it answered before closing. */
async function exchange(l: Listener, chunks: Uint8Array[]): Promise<Uint8Array> {
  const conn = await l.go.dialStream('127.0.0.1:7946', 1000);
  for (const c of chunks) await conn.write(c);
  const parts: Buffer[] = [];
  for (;;) {
    const r = await conn.read();
    if (r === null) break;
    parts.push(Buffer.from(r));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** The dialer's bytes as Go wrote them: the label header in its own write, then the rest. */
function goWrites(bytes: Uint8Array): Uint8Array[] {
  const h = readLabelHeader(bytes, true, 'stream')!;
  return h.length === 0 ? [bytes] : [bytes.subarray(0, h.length), bytes.subarray(h.length)];
}

describe('compat captures played to a TS node: the same outcome as the Go listener', () => {
  const refused: Array<[string, Partial<Config>, LabelRefusal['reason'], string | null]> = [
    ['compat-labelled-to-unlabelled-tcp-pushpull-join.txt', {}, 'mismatch', 'team1'],
    ['compat-unlabelled-to-labelled-tcp-pushpull-join.txt', { label: 'team1' }, 'missing', null],
    ['compat-label-mismatch-tcp-pushpull-join.txt', { label: 'team1' }, 'mismatch', 'team2'],
    // An unlabelled TS node hangs up on a labelled dialer, as memberlist 0.2.2 did.
    ['compat-labelled-to-v022-tcp-pushpull-join.txt', {}, 'mismatch', 'team1'],
    // Encrypted 0.2.2 answered an error; TS, like an unlabelled v0.3+ node, refuses on the
    // label first and says nothing. Either way the labelled dialer's join fails.
    [
      'compat-enc-labelled-to-v022-tcp-pushpull-join.txt',
      { keyring: new Keyring([KEY16]) },
      'mismatch',
      'team1',
    ],
  ];
  for (const [file, over, reason, label] of refused) {
    it(`${file}: refused (${reason}), closed without a reply, counted, reported`, async () => {
      const c = capture(file);
      const l = await listener(over);
      const reply = await exchange(l, goWrites(c.bytes));
      assert.equal(reply.length, 0);
      assert.deepEqual(l.ml.metrics().dropped, { [`label-${reason}`]: 1 });
      assert.equal(l.refusals.length, 1);
      assert.equal(l.refusals[0].via, 'stream');
      assert.equal(l.refusals[0].reason, reason);
      assert.equal(l.refusals[0].label, label);
      assert.deepEqual(
        l.ml.members().map((m) => m.name),
        ['ts'],
        'nothing of the refused push/pull was merged',
      );
      await l.ml.shutdown();
    });
  }

  it('compat-enc-unlabelled-to-skipcheck: accepted without a header, sealed reply with the label, no header', async () => {
    const c = capture('compat-enc-unlabelled-to-skipcheck-tcp-pushpull-join.txt');
    const keyring = new Keyring([KEY16]);
    const l = await listener({ label: 'team1', skipInboundLabelCheck: true, keyring });
    const reply = await exchange(l, [c.bytes]);
    assert.equal(reply[0], MessageType.Encrypt, 'no label header on a reply');
    const err = tryParseStreamMessage(reply, { keyring, verifyIncoming: true, label: TEAM1 });
    assert.equal(err?.message.type, 'err');
    // Our listener also says why it could not open the frame.
    assert.match(
      err.message.type === 'err' ? err.message.error : '',
      /encrypted without this node's label "team1".*no label/,
    );
    // The unlabelled dialer cannot read it: as recorded, the exchange is dead both ways.
    assert.throws(() => tryParseStreamMessage(reply, { keyring, verifyIncoming: true }), {
      code: 'decrypt-failed',
    });
    assert.deepEqual(l.ml.metrics().dropped, { decrypt: 1 });
    assert.equal(l.refusals.length, 0);
    await l.ml.shutdown();
  });

  const ping = capture('compat-skipcheck-to-v022-udp-ping.txt');
  for (const [over, reason] of [
    [{}, 'mismatch'],
    [{ label: 'team1', skipInboundLabelCheck: true }, 'unexpected'],
    [{ label: 'team2' }, 'mismatch'],
  ] as const) {
    it(`compat-skipcheck-to-v022-udp-ping to ${JSON.stringify(over)}: dropped (${reason}), no ack`, async () => {
      const l = await listener({ ...over, name: 'c9y' }, '127.0.0.1:16281');
      await l.go.sendPacket('127.0.0.1:7946', ping.bytes);
      await l.clock.advance(50);
      assert.deepEqual(l.ml.metrics().dropped, { [`label-${reason}`]: 1 });
      assert.deepEqual(
        l.refusals.map((r) => [r.via, r.reason, r.from]),
        [['packet', reason, '127.0.0.1:16281']],
      );
      assert.equal(l.packetsToGo.length, 0);
      await l.ml.shutdown();
    });
  }
});

describe('phase captures played to a TS node with the same label: accepted and answered in kind', () => {
  for (const file of ['udp-ping.txt', 'enc16-udp-ping.txt', 'label255-udp-ping.txt']) {
    it(`${file}: acked with the label header and the label as AAD`, async () => {
      const c = capture(file);
      const header = readLabelHeader(c.bytes, true, 'packet')!;
      const label = new TextDecoder().decode(header.label!);
      const keyring = c.key ? new Keyring([c.key]) : null;
      // Name the node as the ping's target, and answer at the address the ping gives.
      const policy = { label: header.label!, skipInboundCheck: false };
      const opts = { keyring: keyring ?? undefined, verifyIncoming: true, labelPolicy: policy };
      const [ping] = unpackMessages(decodePacket(c.bytes, opts)).messages;
      assert.ok(ping.type === MessageType.Ping);
      const l = await listener(
        { name: ping.body.node, label, keyring },
        `127.0.0.1:${ping.body.sourcePort}`,
      );
      await l.go.sendPacket('127.0.0.1:7946', c.bytes);
      await l.clock.runUntil(() => l.packetsToGo.length > 0, 1000);
      const ack = l.packetsToGo[0];
      assert.ok(ack, 'an ack came back');
      assert.deepEqual(readLabelHeader(ack, true, 'packet')!.label, header.label);
      const msgs = unpackMessages(decodePacket(ack, opts)).messages;
      assert.ok(msgs.some((m) => m.type === MessageType.AckResp && m.body.seqNo === 1));
      assert.deepEqual(l.ml.metrics().dropped, {});
      await l.ml.shutdown();
    });
  }

  for (const file of [
    'tcp-pushpull-join.txt',
    'nocomp-tcp-pushpull-join.txt',
    'enc16-tcp-pushpull-join.txt',
    'enc32-nocomp-tcp-pushpull-join.txt',
    'label255-tcp-pushpull-join.txt',
  ]) {
    it(`${file}: merged, and answered with a push/pull sealed with the label and no header`, async () => {
      const c = capture(file);
      const header = readLabelHeader(c.bytes, true, 'stream')!;
      const label = new TextDecoder().decode(header.label!);
      const keyring = c.key ? new Keyring([c.key]) : null;
      const l = await listener({ label, keyring });
      // Byte by byte for one capture: a header split anywhere must still be read.
      const chunks =
        file === 'tcp-pushpull-join.txt'
          ? [...c.bytes].map((b) => Uint8Array.of(b))
          : goWrites(c.bytes);
      const reply = await exchange(l, chunks);
      assert.notEqual(reply[0], 0xf4, 'replies carry no label header');
      const parsed = tryParseStreamMessage(reply, {
        keyring: keyring ?? undefined,
        verifyIncoming: keyring !== null,
        label: header.label!,
      });
      assert.equal(parsed?.message.type, 'pushPull');
      const dialer = c.expected.find((e) => e.kind === 'node');
      assert.ok(dialer && dialer.kind === 'node');
      assert.ok(l.ml.members().some((m) => m.name === dialer.fields.Name));
      assert.deepEqual(l.ml.metrics().dropped, {});
      await l.ml.shutdown();
    });
  }

  it('enc16-tcp-ping-fallback.txt: the TCP fallback ping is acked over the stream', async () => {
    const c = capture('enc16-tcp-ping-fallback.txt');
    const keyring = new Keyring([KEY16]);
    const msg = tryParseStreamMessage(c.bytes.subarray(7), {
      keyring,
      verifyIncoming: true,
      label: TEAM1,
    });
    assert.ok(msg?.message.type === 'ping');
    const l = await listener({ name: msg.message.body.node, label: 'team1', keyring });
    const reply = await exchange(l, goWrites(c.bytes));
    const ack = tryParseStreamMessage(reply, { keyring, verifyIncoming: true, label: TEAM1 });
    assert.ok(ack?.message.type === 'ack');
    assert.equal(ack.message.body.seqNo, msg.message.body.seqNo);
    await l.ml.shutdown();
  });
});
