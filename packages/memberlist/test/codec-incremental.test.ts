/**
 * The stream parser fed in pieces, as net.ts feeds it: a kept `StreamMessageParser` must give
 * exactly what a one-shot parse of the whole message gives, for every way of cutting the
 * bytes, and must still refuse what is too large or broken. Also LZW scratch-buffer hygiene:
 * results of earlier calls are never overwritten by later ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  compressMessage,
  decompressMessage,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  Keyring,
  lzwCompress,
  lzwDecompress,
  NodeStateType,
  type PushNodeState,
  StreamMessageParser,
  tryParseStreamMessage,
} from '../src/codec/index.js';

function node(i: number, metaLen = 0): PushNodeState {
  return {
    name: `node-${i}`,
    addr: new Uint8Array([127, 0, (i >> 8) & 255, i & 255]),
    port: 7000 + i,
    meta: metaLen > 0 ? new Uint8Array(metaLen).fill(i & 255) : null,
    incarnation: i * 3,
    state: i % 5 === 0 ? NodeStateType.Suspect : NodeStateType.Alive,
    vsn: new Uint8Array([1, 5, 2, 2, 5, 4]),
  };
}

/** Feeds `wire` cut at `cuts` (sorted offsets), growing one buffer as net.ts does. */
function feed(parser: StreamMessageParser, wire: Uint8Array, cuts: number[]) {
  const ends = [...cuts.filter((c) => c > 0 && c < wire.length), wire.length];
  let calls = 0;
  for (const end of ends) {
    calls++;
    // A fresh copy each time: the parser must not rely on the caller keeping one buffer.
    const r = parser.tryParse(wire.slice(0, end));
    if (r) return { r, calls, end };
  }
  return { r: null, calls, end: wire.length };
}

const plain = { verifyIncoming: false };

describe('StreamMessageParser fed in chunks', () => {
  const state = new Uint8Array(300).map((_, i) => i & 255);
  const pushPull = encodePushPull({
    join: true,
    nodes: Array.from({ length: 40 }, (_, i) => node(i, i % 7)),
    userState: state,
  });
  const whole = tryParseStreamMessage(pushPull, plain);

  it('a push/pull cut at every offset parses as the whole message does', () => {
    assert.ok(whole);
    for (let cut = 1; cut < pushPull.length; cut++) {
      const parser = new StreamMessageParser(plain);
      const { r, end } = feed(parser, pushPull, [cut]);
      assert.deepEqual(r, whole, `cut at ${cut}`);
      assert.equal(end, pushPull.length);
    }
  });

  it('random chunkings of every stream message type agree with a one-shot parse', () => {
    const keyring = new Keyring([new Uint8Array(16).fill(7)]);
    const messages = [
      pushPull,
      encodeUserStream(new Uint8Array(5000).fill(9)),
      encodeStreamMessage(pushPull, { compress: true, encrypt: false, encryptionVersion: 1 }),
      encodeStreamMessage(pushPull, {
        compress: true,
        encrypt: true,
        keyring,
        encryptionVersion: 1,
      }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...messages),
        fc.array(fc.nat(), { maxLength: 20 }),
        (wire, raw) => {
          const opts = { keyring, verifyIncoming: false };
          const cuts = raw.map((c) => c % wire.length).sort((a, b) => a - b);
          const { r } = feed(new StreamMessageParser(opts), wire, cuts);
          assert.deepEqual(r, tryParseStreamMessage(wire, opts));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is ready for the next message after returning one', () => {
    const parser = new StreamMessageParser(plain);
    assert.equal(parser.tryParse(pushPull.subarray(0, 700)), null);
    assert.deepEqual(parser.tryParse(pushPull), whole);
    const user = encodeUserStream(new Uint8Array([1, 2, 3]));
    const r = parser.tryParse(user);
    assert.equal(r?.message.type, 'user');
  });

  it('a record that is broken after earlier chunks were fine is refused, and the parser resets', () => {
    const bad = pushPull.slice();
    // The header and first records arrive intact; then garbage where a record's map header is.
    const parser = new StreamMessageParser(plain);
    assert.equal(parser.tryParse(bad.subarray(0, 200)), null);
    const start = 200 + bad.subarray(200).indexOf(0x87); // a 7-field record header
    bad[start] = 0xc1; // never used in msgpack
    assert.throws(() => parser.tryParse(bad), CodecError);
    assert.deepEqual(parser.tryParse(pushPull), whole);
  });

  it('a push/pull that keeps growing past maxBytes is refused, not waited for', () => {
    const parser = new StreamMessageParser({ verifyIncoming: false, maxBytes: 1000 });
    assert.equal(parser.tryParse(pushPull.subarray(0, 600)), null);
    assert.throws(() => parser.tryParse(pushPull.subarray(0, 1000)), { code: 'too-large' });
  });
});

describe('LZW scratch buffers', () => {
  it('results of earlier calls stay intact after later calls', () => {
    const a = new Uint8Array(3000).map((_, i) => (i * 13) & 63);
    const b = new Uint8Array(3000).map((_, i) => (i * 7) & 31);
    const ca = lzwCompress(a);
    const copy = ca.slice();
    const cb = lzwCompress(b);
    assert.deepEqual(ca, copy);
    const da = lzwDecompress(ca, 1 << 20);
    const db = lzwDecompress(cb, 1 << 20);
    assert.deepEqual(da, a);
    assert.deepEqual(db, b);
    assert.deepEqual(decompressMessage(compressMessage(a)), a);
    assert.deepEqual(da, a);
  });

  it('the encoder gives the same bytes however many tables were reset before', () => {
    // The dictionary is reset by bumping a generation stamp that wraps after 2,047 resets;
    // stale entries from earlier inputs must never be matched.
    const probe = new Uint8Array(4000).map((_, i) => (i * 31) ^ (i >> 4));
    const first = lzwCompress(probe);
    for (let round = 0; round < 2100; round++) {
      const other = new Uint8Array(64 + (round % 200)).map((_, i) => (i * round) & 255);
      assert.deepEqual(lzwDecompress(lzwCompress(other), 1 << 16), other);
      if (round % 500 === 0 || round > 2040) assert.deepEqual(lzwCompress(probe), first);
    }
  });

  it('outputs larger than the kept scratch buffer round-trip', () => {
    const big = new Uint8Array(300_000).map((_, i) => (i ^ (i >> 9)) & 255);
    assert.deepEqual(lzwDecompress(lzwCompress(big), big.length), big);
    assert.throws(() => lzwDecompress(lzwCompress(big), big.length - 1), { code: 'too-large' });
    // A limit below the scratch size is enforced too.
    assert.throws(() => lzwDecompress(lzwCompress(big.subarray(0, 500)), 499), {
      code: 'too-large',
    });
  });
});
