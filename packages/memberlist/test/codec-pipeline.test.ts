/**
 * Behaviour of the framing layers beyond the Go vectors: compound limits, LZW round trips
 * (property-based), the UDP pipeline with every option combination, the keyring, and the
 * incremental stream parser.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  compressMessage,
  decodePacket,
  decodeVsn,
  decompressMessage,
  defaultVsn,
  encodeAckStream,
  encodeErr,
  encodeMessage,
  encodePacket,
  encodePingStream,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  encodeVsn,
  Keyring,
  lzwCompress,
  lzwDecompress,
  MessageType,
  makeCompound,
  NodeStateType,
  type PacketMessage,
  packCompounds,
  splitCompound,
  tryParseStreamMessage,
  unpackMessages,
} from '../src/codec/index.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const user = (s: string) => encodeMessage({ type: MessageType.User, payload: ascii(s) });
const KEY_A = new Uint8Array(16).fill(1);
const KEY_B = new Uint8Array(24).fill(2);
const KEY_C = new Uint8Array(32).fill(3);

describe('compound messages', () => {
  it('127 parts round-trip; 128 are refused', () => {
    const parts = Array.from({ length: 127 }, (_, i) => user(`m${i}`));
    const c = makeCompound(parts);
    const split = splitCompound(c);
    assert.equal(split.parts.length, 127);
    assert.deepEqual(
      split.parts.map((p) => Buffer.from(p).toString()),
      parts.map((p) => Buffer.from(p).toString()),
    );
    assert.throws(() => makeCompound([...parts, user('x')]), { code: 'too-large' });
  });

  it('refuses empty parts and parts over 65535 bytes when building', () => {
    assert.throws(() => makeCompound([user('a'), new Uint8Array(0)]), { code: 'malformed' });
    assert.throws(() => makeCompound([new Uint8Array(65536).fill(8)]), { code: 'too-large' });
    assert.equal(
      splitCompound(makeCompound([new Uint8Array(65535).fill(8)])).parts[0].length,
      65535,
    );
  });

  it('reading skips zero-length parts instead of crashing, and counts them', () => {
    const a = user('a');
    const buf = Uint8Array.from([7, 3, 0, a.length, 0, 0, 0, a.length, ...a, ...a]);
    const split = splitCompound(buf);
    assert.equal(split.parts.length, 2);
    assert.equal(split.empty, 1);
  });

  it('a length table longer than the input is an error; short data counts truncated parts', () => {
    assert.throws(() => splitCompound(Uint8Array.from([7, 5, 0, 1])), { code: 'truncated' });
    assert.throws(() => splitCompound(Uint8Array.from([7])), { code: 'truncated' });
    const a = user('abc');
    const r = splitCompound(Uint8Array.from([7, 2, 0, a.length, 0, 9, ...a, 1, 2]));
    assert.equal(r.parts.length, 1);
    assert.equal(r.truncated, 1);
  });

  it('packCompounds groups into compounds of at most 127 parts', () => {
    const parts = Array.from({ length: 300 }, (_, i) => user(`${i}`));
    const packed = packCompounds(parts);
    assert.equal(packed.length, 3);
    const counts = packed.map((p) => splitCompound(p).parts.length);
    assert.deepEqual(counts, [127, 127, 46]);
    assert.deepEqual(packCompounds([parts[0]]), [parts[0]]);
  });
});

describe('LZW (Go compress/lzw, LSB, 8-bit literals)', () => {
  it('round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (input) => {
        assert.deepEqual(lzwDecompress(lzwCompress(input), input.length), input);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips repetitive data that fills the table many times', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 20000 }),
        (unit, reps) => {
          const input = new Uint8Array(unit.length * reps);
          for (let i = 0; i < reps; i++) input.set(unit, i * unit.length);
          assert.deepEqual(lzwDecompress(lzwCompress(input), input.length), input);
        },
      ),
      { numRuns: 60 },
    );
    const big = new Uint8Array(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) ^ (i >> 5);
    assert.deepEqual(lzwDecompress(lzwCompress(big), big.length), big);
  });

  it('rejects a stream without EOF, invalid codes, and output over the limit', () => {
    const c = lzwCompress(ascii('hello hello hello'));
    assert.throws(() => lzwDecompress(c.subarray(0, c.length - 2), 1000), {
      code: 'bad-compression',
    });
    // CLEAR then code 300 (> next code 258): 256 | 300<<9 packed LSB-first.
    const bits = 256 | (300 << 9);
    assert.throws(
      () => lzwDecompress(Uint8Array.from([bits & 255, (bits >> 8) & 255, bits >> 16]), 100),
      {
        code: 'bad-compression',
      },
    );
    const zeros = lzwCompress(new Uint8Array(100_000));
    assert.ok(zeros.length < 2000);
    assert.throws(() => lzwDecompress(zeros, 50_000), { code: 'too-large' });
  });

  it('compress wrapper: unknown algorithm and a missing 09 byte are refused', () => {
    const c = compressMessage(user('hi'));
    const bad = c.slice();
    bad[7] = 1; // Algo value (after `09 82 a4 'Algo'`)
    assert.throws(() => decompressMessage(bad), { code: 'bad-compression' });
    assert.throws(() => decompressMessage(c.subarray(1)), { code: 'malformed' });
    assert.deepEqual(decompressMessage(c), user('hi'));
  });
});

describe('keyring', () => {
  it('validates key sizes and keeps the primary first', () => {
    assert.throws(() => new Keyring([]), { code: 'policy' });
    assert.throws(() => new Keyring([new Uint8Array(15)]), { code: 'malformed' });
    const k = new Keyring([KEY_A, KEY_B]);
    assert.deepEqual(k.primaryKey, KEY_A);
    k.addKey(KEY_C);
    k.addKey(KEY_C);
    assert.equal(k.keys.length, 3);
    k.useKey(KEY_C);
    assert.deepEqual(k.primaryKey, KEY_C);
    assert.throws(() => k.removeKey(KEY_C), { code: 'policy' });
    k.removeKey(KEY_A);
    assert.deepEqual(k.keys, [KEY_C, KEY_B]);
    assert.throws(() => k.useKey(KEY_A), { code: 'policy' });
    assert.throws(() => k.addKey(new Uint8Array(33)), { code: 'malformed' });
    assert.deepEqual(k.keys, [KEY_C, KEY_B], 'a refused change leaves the keyring intact');
  });

  it('rotation: a packet sealed with the old primary still opens after the switch', () => {
    const sender = new Keyring([KEY_A]);
    const receiver = new Keyring([KEY_A]);
    const sealedOld = encodePacket(user('old'), {
      compress: false,
      crc: false,
      keyring: sender,
      encrypt: true,
      encryptionVersion: 1,
    });
    receiver.addKey(KEY_B);
    sender.addKey(KEY_B);
    sender.useKey(KEY_B);
    const sealedNew = encodePacket(user('new'), {
      compress: false,
      crc: false,
      keyring: sender,
      encrypt: true,
      encryptionVersion: 1,
    });
    assert.deepEqual(
      decodePacket(sealedOld, { keyring: receiver, verifyIncoming: true }),
      user('old'),
    );
    assert.deepEqual(
      decodePacket(sealedNew, { keyring: receiver, verifyIncoming: true }),
      user('new'),
    );
    receiver.useKey(KEY_B);
    receiver.removeKey(KEY_A);
    assert.throws(() => decodePacket(sealedOld, { keyring: receiver, verifyIncoming: true }), {
      code: 'decrypt-failed',
    });
  });
});

describe('UDP pipeline', () => {
  const msgs: PacketMessage[] = [
    {
      type: MessageType.Ping,
      body: {
        seqNo: 9,
        node: 'b',
        sourceAddr: Uint8Array.from([127, 0, 0, 1]),
        sourcePort: 1,
        sourceNode: 'a',
      },
    },
    {
      type: MessageType.Alive,
      body: {
        incarnation: 4,
        node: 'a'.repeat(40),
        addr: Uint8Array.from([127, 0, 0, 1]),
        port: 7946,
        meta: ascii('x'.repeat(200)),
        vsn: defaultVsn(),
      },
    },
    { type: MessageType.User, payload: ascii('y'.repeat(300)) },
  ];

  it('every combination of compress/crc/encrypt(v0,v1) round-trips', () => {
    const keyring = new Keyring([KEY_B]);
    const compound = makeCompound(msgs.map(encodeMessage));
    for (const compress of [false, true]) {
      for (const crc of [false, true]) {
        for (const encrypt of [false, true]) {
          for (const encryptionVersion of [0, 1] as const) {
            const wire = encodePacket(compound, {
              compress,
              crc,
              keyring,
              encrypt,
              encryptionVersion,
            });
            const plain = decodePacket(wire, {
              keyring: encrypt ? keyring : undefined,
              verifyIncoming: true,
            });
            const r = unpackMessages(plain);
            assert.deepEqual(r.dropped, []);
            assert.deepEqual(r.messages, msgs);
            if (compress && !encrypt && !crc) assert.equal(wire[0], MessageType.Compress);
          }
        }
      }
    }
  });

  it('compression is used only when it makes the packet smaller', () => {
    const ping = encodeMessage(msgs[0]);
    const wire = encodePacket(ping, {
      compress: true,
      crc: false,
      encrypt: false,
      encryptionVersion: 1,
    });
    assert.deepEqual(wire, ping);
  });

  it('verifyIncoming off accepts plaintext from not-yet-encrypting peers; on, drops it', () => {
    const keyring = new Keyring([KEY_A]);
    const plainWire = encodePacket(user('hi'), {
      compress: false,
      crc: true,
      encrypt: false,
      encryptionVersion: 1,
    });
    assert.deepEqual(decodePacket(plainWire, { keyring, verifyIncoming: false }), user('hi'));
    assert.throws(() => decodePacket(plainWire, { keyring, verifyIncoming: true }), {
      code: 'decrypt-failed',
    });
  });

  it('tampered ciphertext, tampered CRC data and a bare CRC header are rejected', () => {
    const keyring = new Keyring([KEY_A]);
    const sealed = encodePacket(user('hi'), {
      compress: false,
      crc: true,
      keyring,
      encrypt: true,
      encryptionVersion: 1,
    });
    for (let i = 0; i < sealed.length; i++) {
      const t = sealed.slice();
      t[i] ^= 0x40;
      assert.throws(() => decodePacket(t, { keyring, verifyIncoming: true }), CodecError);
    }
    const crcd = encodePacket(user('hi'), {
      compress: false,
      crc: true,
      encrypt: false,
      encryptionVersion: 1,
    });
    crcd[crcd.length - 1] ^= 1;
    assert.throws(() => decodePacket(crcd, { verifyIncoming: false }), { code: 'crc-mismatch' });
    assert.throws(
      () => decodePacket(Uint8Array.from([12, 0, 0, 0, 0]), { verifyIncoming: false }),
      {
        code: 'truncated',
      },
    );
    assert.throws(() => decodePacket(new Uint8Array(0), { verifyIncoming: false }), {
      code: 'truncated',
    });
  });

  it('one bad part never hides its siblings', () => {
    const good = encodeMessage(msgs[0]);
    const parts = [
      good,
      Uint8Array.from([0, 0xc1]),
      Uint8Array.from([99]),
      compressMessage(user('inner')),
      good,
    ];
    const r = unpackMessages(makeCompound(parts));
    assert.equal(r.messages.length, 3);
    assert.deepEqual(
      r.dropped.map((d) => d.code),
      ['malformed', 'unknown-type'],
    );
    assert.ok(r.dropped.every((d) => d.message.length > 0));
  });

  it('nesting is limited', () => {
    let m = user('deep');
    for (let i = 0; i < 20; i++) m = makeCompound([m]);
    const r = unpackMessages(m);
    assert.equal(r.messages.length, 0);
    assert.deepEqual(
      r.dropped.map((d) => d.code),
      ['too-large'],
    );
    let ok = user('ok');
    for (let i = 0; i < 3; i++) ok = compressMessage(makeCompound([ok]));
    assert.equal(unpackMessages(ok).messages.length, 1);
  });

  it('the decompression budget covers the whole datagram', () => {
    const bomb = compressMessage(new Uint8Array(1_000_000).fill(8));
    const r = unpackMessages(makeCompound([bomb, bomb, bomb]), { maxDecompressedBytes: 2_500_000 });
    assert.equal(r.messages.length, 2);
    assert.deepEqual(
      r.dropped.map((d) => d.code),
      ['too-large'],
    );
  });
});

describe('stream messages', () => {
  const keyring = new Keyring([KEY_C, KEY_A]);
  const nodes = [
    {
      name: 'n1',
      addr: Uint8Array.from([127, 0, 0, 1]),
      port: 7000,
      meta: null,
      incarnation: 3,
      state: NodeStateType.Left,
      vsn: defaultVsn(),
    },
    {
      name: 'n2',
      addr: new Uint8Array(16).fill(1),
      port: 7001,
      meta: ascii('m'),
      incarnation: 1,
      state: NodeStateType.Dead,
      vsn: defaultVsn(),
    },
  ];
  const bodies: Array<[Uint8Array, unknown]> = [
    [
      encodePushPull({ join: true, nodes, userState: ascii('state') }),
      { type: 'pushPull', join: true, nodes, userState: ascii('state') },
    ],
    [encodeUserStream(ascii('payload')), { type: 'user', payload: ascii('payload') }],
    [encodeUserStream(new Uint8Array(0)), { type: 'user', payload: new Uint8Array(0) }],
    [encodePingStream({ seqNo: 4, node: 'x' }), { type: 'ping', body: { seqNo: 4, node: 'x' } }],
    [
      encodeAckStream({ seqNo: 4, payload: null }),
      { type: 'ack', body: { seqNo: 4, payload: null } },
    ],
    [encodeErr('nope'), { type: 'err', error: 'nope' }],
  ];

  it('every body round-trips through every layer combination, byte by byte', () => {
    for (const [plain, want] of bodies) {
      for (const compress of [false, true]) {
        for (const encrypt of [false, true]) {
          for (const encryptionVersion of [0, 1] as const) {
            const wire = encodeStreamMessage(plain, {
              compress,
              keyring,
              encrypt,
              encryptionVersion,
            });
            const opts = { keyring: encrypt ? keyring : undefined, verifyIncoming: encrypt };
            // Feed it one byte at a time: null until complete, then the message.
            for (let n = 0; n < wire.length; n++) {
              assert.equal(tryParseStreamMessage(wire.subarray(0, n), opts), null, `prefix ${n}`);
            }
            const withTrailer = new Uint8Array(wire.length + 3);
            withTrailer.set(wire);
            const parsed = tryParseStreamMessage(withTrailer, opts);
            assert.equal(parsed?.consumed, wire.length);
            assert.deepEqual(parsed?.message, want);
          }
        }
      }
    }
  });

  it('encryption policy: plaintext refused when required, encrypted refused without keys', () => {
    const plain = encodeUserStream(ascii('x'));
    assert.throws(() => tryParseStreamMessage(plain, { keyring, verifyIncoming: true }), {
      code: 'policy',
    });
    assert.ok(tryParseStreamMessage(plain, { keyring, verifyIncoming: false }));
    const sealed = encodeStreamMessage(plain, {
      compress: false,
      keyring,
      encrypt: true,
      encryptionVersion: 1,
    });
    assert.throws(() => tryParseStreamMessage(sealed, { verifyIncoming: false }), {
      code: 'policy',
    });
  });

  it('size limits: frame length, announced user state and plaintext growth', () => {
    const frame = Uint8Array.from([10, 0x01, 0x40, 0, 1]);
    assert.throws(() => tryParseStreamMessage(frame, { keyring, verifyIncoming: true }), {
      code: 'too-large',
    });
    const huge = Uint8Array.from([8, 0x81, 0xaa, ...ascii('UserMsgLen'), 0xce, 0x7f, 0, 0, 0]);
    assert.throws(() => tryParseStreamMessage(huge, { verifyIncoming: false }), {
      code: 'too-large',
    });
    const neg = Uint8Array.from([6, 0x81, 0xa5, ...ascii('Nodes'), 0xff]);
    assert.throws(() => tryParseStreamMessage(neg, { verifyIncoming: false }), {
      code: 'malformed',
    });
    const partial = encodeUserStream(new Uint8Array(5000)).subarray(0, 4000);
    assert.equal(tryParseStreamMessage(partial, { verifyIncoming: false, maxBytes: 10000 }), null);
    assert.throws(() => tryParseStreamMessage(partial, { verifyIncoming: false, maxBytes: 3000 }), {
      code: 'too-large',
    });
  });

  it('types a stream cannot carry are unknown-type; a truncated body inside a frame is malformed', () => {
    assert.throws(
      () => tryParseStreamMessage(Uint8Array.from([4, 0x80]), { verifyIncoming: false }),
      {
        code: 'unknown-type',
      },
    );
    const pp = encodePushPull({ join: false, nodes, userState: null });
    const sealed = encodeStreamMessage(pp.subarray(0, pp.length - 4), {
      compress: false,
      keyring,
      encrypt: true,
      encryptionVersion: 1,
    });
    assert.throws(() => tryParseStreamMessage(sealed, { keyring, verifyIncoming: true }), {
      code: 'malformed',
    });
  });
});

describe('vsn', () => {
  it('builds and parses the 6-byte version array', () => {
    assert.deepEqual(defaultVsn(), Uint8Array.from([1, 5, 2, 0, 0, 0]));
    const v = { pMin: 1, pMax: 5, pCur: 3, dMin: 0, dMax: 2, dCur: 1 };
    assert.deepEqual(decodeVsn(encodeVsn(v)), v);
    assert.throws(() => decodeVsn(Uint8Array.from([1, 5])), { code: 'malformed' });
    assert.throws(() => encodeVsn({ ...v, pCur: 256 }), { code: 'malformed' });
  });
});
