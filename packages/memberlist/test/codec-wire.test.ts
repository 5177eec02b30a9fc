/**
 * Real traffic between Go memberlist 0.2.2 nodes (wire/*.txt: plain, nocomp-, enc- and
 * encv0- captures): every datagram and stream is decoded by our pipeline and must yield, in
 * order, exactly what the reference decoder printed beside the capture.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodePacket,
  Keyring,
  tryParseStreamMessage,
  unpackMessages,
} from '../src/codec/index.js';
import { captureKey, type Expected, loadWireCaptures } from './codec-fixtures.js';
import { normalise, packetEvents, streamEvents } from './wire-events.js';

const captures = loadWireCaptures();

function keyringFor(prefix: string): Keyring | undefined {
  return prefix === 'enc-' || prefix === 'encv0-' ? new Keyring([captureKey()]) : undefined;
}

function decodeStream(data: Uint8Array, keyring: Keyring | undefined): Expected[] {
  const parsed = tryParseStreamMessage(data, { keyring, verifyIncoming: keyring !== undefined });
  assert.ok(parsed, 'the complete capture must parse');
  assert.equal(parsed.consumed, data.length, 'the message uses the whole capture');
  // Fed in pieces, the parser waits (null) until the last byte arrives.
  for (const cut of [1, 4, 5, Math.floor(data.length / 2), data.length - 1]) {
    if (cut < data.length) {
      assert.equal(
        tryParseStreamMessage(data.subarray(0, cut), { keyring, verifyIncoming: true }),
        null,
      );
    }
  }
  return streamEvents(parsed.message);
}

describe('real Go 0.2.2 traffic decodes as the reference decoder says', () => {
  it('covers every capture prefix', () => {
    const prefixes = new Set(captures.map((c) => c.prefix));
    assert.deepEqual([...prefixes].sort(), ['', 'enc-', 'encv0-', 'nocomp-']);
  });

  for (const c of captures) {
    it(c.file, () => {
      const keyring = keyringFor(c.prefix);
      assert.ok(c.expected.length > 0, 'the capture lists decoded values');
      if (c.transport === 'udp') {
        const plain = decodePacket(c.bytes, { keyring, verifyIncoming: true });
        const r = unpackMessages(plain);
        assert.deepEqual(r.dropped, []);
        assert.deepEqual(normalise(packetEvents(r.messages)), normalise(c.expected));
      } else {
        assert.deepEqual(normalise(decodeStream(c.bytes, keyring)), normalise(c.expected));
        if (c.response) {
          assert.deepEqual(
            normalise(decodeStream(c.response.bytes, keyring)),
            normalise(c.response.expected),
          );
        }
      }
    });
  }

  it('encrypted captures are refused without the key, or with a wrong one', () => {
    const wrong = new Keyring([new Uint8Array(16).fill(7)]);
    for (const c of captures.filter((x) => x.prefix.startsWith('enc'))) {
      if (c.transport === 'udp') {
        assert.throws(() => decodePacket(c.bytes, { keyring: wrong, verifyIncoming: true }), {
          code: 'decrypt-failed',
        });
      } else {
        assert.throws(() => tryParseStreamMessage(c.bytes, { verifyIncoming: false }), {
          code: 'policy',
        });
        assert.throws(
          () => tryParseStreamMessage(c.bytes, { keyring: wrong, verifyIncoming: true }),
          {
            code: 'decrypt-failed',
          },
        );
      }
    }
  });
});
