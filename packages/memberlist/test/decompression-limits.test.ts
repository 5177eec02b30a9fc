// Issue 12, F3: LZW bombs (a 15 KB datagram that expands to 20 MB) and oversized user messages.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import {
  compressMessage,
  encodeMessage,
  encodeStreamMessage,
  encodeUserStream,
  MessageType,
  makeCompound,
  unpackMessages,
} from '../src/codec/index.js';
import { createMemberlist } from '../src/memberlist.js';
import { loopbackConfig, waitFor } from './helpers.js';
import { RawUdpPeer } from './hostile-peer.js';

/** A user message of `size` bytes (type byte included) that is all zeros: LZW's best case. */
function zeros(size: number): Uint8Array {
  const m = new Uint8Array(size);
  m[0] = MessageType.User;
  return m;
}

/** The bomb of the report: 20 MB of user message in a datagram of about 15 KB. */
const BOMB_INNER = 20_000_000;
const bomb = compressMessage(zeros(BOMB_INNER));
const ping = encodeMessage({
  type: MessageType.Ping,
  body: { seqNo: 1, node: '' },
});

function tcpSend(port: number, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(data));
    s.on('close', () => resolve());
    s.on('error', reject);
    s.resume();
  });
}

describe('decompression and user message limits (issue 12, F3)', () => {
  it('the bomb is a real one: about 15 KB that expands to 20 MB', () => {
    assert.ok(bomb.length < 16_000, `bomb is ${bomb.length} bytes`);
    const r = unpackMessages(bomb, { maxDecompressedBytes: 32 * 1024 * 1024 });
    assert.equal(r.messages.length, 1);
    assert.equal(r.messages[0].type, MessageType.User);
  });

  it('a part that blows the budget leaves none for its siblings', () => {
    const small = compressMessage(zeros(100 * 1024));
    assert.ok(small.length < 2000);
    const datagram = makeCompound([small, compressMessage(ping)]);
    const r = unpackMessages(datagram, { maxDecompressedBytes: 64 * 1024 });
    assert.deepEqual(
      r.dropped.map((d) => d.code),
      ['too-large', 'too-large'],
    );
    assert.equal(r.messages.length, 0, 'each part may not cost a whole budget of work');
  });

  it('100 bombs over UDP are dropped as too-large; none reaches the application', async () => {
    const delivered: number[] = [];
    const a = await createMemberlist(loopbackConfig('bombed'), {
      delegate: { notifyMsg: (m) => delivered.push(m.length) },
    });
    const peer = await RawUdpPeer.open();
    const b = await createMemberlist(loopbackConfig('after-bombs'));
    try {
      const port = a.localNode().port;
      for (let i = 0; i < 100; i++) {
        await peer.send(port, bomb);
        // Paced a little, as in the report (10/s there), so loopback does not drop any.
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => a.metrics().packets.in >= 100, 30_000, '100 bombs received');
      assert.deepEqual(delivered, [], 'no 20 MB user message events');
      assert.equal(a.metrics().dropped['too-large'], 100);
      assert.equal(await b.join([a.advertiseAddress]), 1, 'the node is still joinable');
    } finally {
      peer.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('user messages over maxUserMessageBytes are refused on every path', async () => {
    const delivered: number[] = [];
    const a = await createMemberlist(loopbackConfig('small-msgs', { maxUserMessageBytes: 1000 }), {
      delegate: { notifyMsg: (m) => delivered.push(m.length) },
    });
    const b = await createMemberlist(loopbackConfig('sender'));
    try {
      await b.join([a.advertiseAddress]);
      await waitFor(() => b.numMembers() === 2, 10_000, 'join');
      await b.sendBestEffort('small-msgs', new Uint8Array(1001));
      await b.sendReliable('small-msgs', new Uint8Array(1001));
      await b.sendBestEffort('small-msgs', new Uint8Array(1000));
      await waitFor(() => delivered.length > 0, 10_000, 'the 1000-byte message');
      await waitFor(() => a.metrics().refused.userMessageSize === 2, 10_000, 'two refusals');
      assert.deepEqual(delivered, [1000]);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('a compressed 20 MB user message on a stream is refused by the default cap', async () => {
    const delivered: number[] = [];
    const a = await createMemberlist(loopbackConfig('stream-bombed'), {
      delegate: { notifyMsg: (m) => delivered.push(m.length) },
    });
    try {
      const frame = encodeStreamMessage(encodeUserStream(new Uint8Array(BOMB_INNER)), {
        compress: true,
        encrypt: false,
        encryptionVersion: 1,
      });
      assert.ok(frame.length < 16_000, `stream bomb is ${frame.length} bytes`);
      await tcpSend(a.localNode().port, frame);
      await waitFor(() => a.metrics().refused.userMessageSize === 1, 10_000, 'the refusal');
      assert.deepEqual(delivered, []);
    } finally {
      await a.shutdown();
    }
  });
});
