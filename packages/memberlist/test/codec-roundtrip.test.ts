/**
 * Property tests: any value the types allow survives encode → decode unchanged, for every
 * message, push/pull states through every stream layer, and the integer forms of the dialect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeMessage,
  encodeMessage,
  encodePushPull,
  encodeStreamMessage,
  Keyring,
  MessageType,
  MsgpackReader,
  MsgpackWriter,
  type PacketMessage,
  tryParseStreamMessage,
} from '../src/codec/index.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
// Strings cross fixstr (<32), str16 (32..65535) boundaries; no lone surrogates (not UTF-8).
const name = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', minLength: 250, maxLength: 300 }),
);
const someBytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 40 }),
  fc.uint8Array({ minLength: 250, maxLength: 600 }),
);
const nullableBytes = fc.option(someBytes, { nil: null });
const addr = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const vsn = fc.uint8Array({ minLength: 6, maxLength: 6 });
const source = fc.record(
  {
    sourceAddr: addr,
    sourcePort: fc.integer({ min: 1, max: 0xffff }),
    sourceNode: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
  },
  { requiredKeys: [] },
);

const message: fc.Arbitrary<PacketMessage> = fc.oneof(
  fc
    .tuple(fc.record({ seqNo: u32, node: name }), source)
    .map(([b, s]) => ({ type: MessageType.Ping as const, body: { ...b, ...s } })),
  fc
    .tuple(
      fc.record({ seqNo: u32, target: addr, port: u16, node: name, nack: fc.boolean() }),
      source,
    )
    .map(([b, s]) => ({ type: MessageType.IndirectPing as const, body: { ...b, ...s } })),
  fc
    .record({ seqNo: u32, payload: nullableBytes })
    .map((body) => ({ type: MessageType.AckResp as const, body: { ...body } })),
  fc
    .record({ seqNo: u32 })
    .map((body) => ({ type: MessageType.NackResp as const, body: { ...body } })),
  fc
    .record({ incarnation: u32, node: name, from: name })
    .map((body) => ({ type: MessageType.Suspect as const, body: { ...body } })),
  fc
    .record({ incarnation: u32, node: name, from: name })
    .map((body) => ({ type: MessageType.Dead as const, body: { ...body } })),
  fc
    .record({ incarnation: u32, node: name, addr, port: u16, meta: nullableBytes, vsn })
    .map((body) => ({ type: MessageType.Alive as const, body: { ...body } })),
  fc
    .uint8Array({ maxLength: 200 })
    .map((payload) => ({ type: MessageType.User as const, payload })),
);

// fc.record builds null-prototype objects; spread them so deepEqual compares like with like.
const nodeState = fc
  .record({
    name,
    addr,
    port: u16,
    meta: nullableBytes,
    incarnation: u32,
    state: fc.integer({ min: 0, max: 3 }),
    vsn,
  })
  .map((n) => ({ ...n }));

describe('round trips', () => {
  it('every packet message: decode(encode(m)) = m', () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(decodeMessage(encodeMessage(m)), m);
      }),
      { numRuns: 1000 },
    );
  });

  it('push/pull through every stream layer', () => {
    const keyring = new Keyring([new Uint8Array(32).fill(5)]);
    fc.assert(
      fc.property(
        fc.array(nodeState, { maxLength: 20 }),
        fc.option(someBytes, { nil: null }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0 as const, 1 as const),
        (nodes, userState, join, compress, encrypt, encryptionVersion) => {
          const plain = encodePushPull({ join, nodes, userState });
          const wire = encodeStreamMessage(plain, {
            compress,
            keyring,
            encrypt,
            encryptionVersion,
          });
          const parsed = tryParseStreamMessage(wire, { keyring, verifyIncoming: encrypt });
          assert.equal(parsed?.consumed, wire.length);
          assert.deepEqual(parsed?.message, { type: 'pushPull', join, nodes, userState });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('integers: unsigned and signed forms read back, with Go widths enforced', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const w = new MsgpackWriter(4);
        w.int(v, 'v');
        if (v >= 0) w.uint(v, Number.MAX_SAFE_INTEGER, 'v');
        const r = new MsgpackReader(w.finish());
        assert.equal(r.int('v'), v);
        if (v >= 0) assert.equal(r.uint(Number.MAX_SAFE_INTEGER, 'v'), v);
        assert.equal(r.remaining, 0);
      }),
      { numRuns: 2000 },
    );
  });
});
