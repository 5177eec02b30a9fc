/**
 * Golden tests: every vector of memberlist-0.2.2.json (produced by the real Go code) is
 * reproduced byte for byte by our encoders and decoded back to the values it was built from.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type Alive,
  addCrc,
  compressMessage,
  crc32,
  decodeMessage,
  decompressMessage,
  decryptPayload,
  encodeErr,
  encodeMessage,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  encryptPayload,
  Keyring,
  lzwCompress,
  lzwDecompress,
  MessageType,
  MsgpackWriter,
  makeCompound,
  NodeStateType,
  type PacketMessage,
  type PushNodeState,
  splitCompound,
  stripCrc,
  tryParseStreamMessage,
  writePushPullHeader,
} from '../src/codec/index.js';
import { loadVectors, toHex } from './codec-fixtures.js';

const V = loadVectors();
const ascii = (s: string) => new TextEncoder().encode(s);
const ip = (...b: number[]) => Uint8Array.from(b);
const VSN = ip(1, 5, 2, 0, 0, 0);
const KEY16 = Uint8Array.from({ length: 16 }, (_, i) => i);
const KEY32 = Uint8Array.from({ length: 32 }, (_, i) => i);
const NONCE = Uint8Array.from({ length: 12 }, (_, i) => 0x10 + i);
const PORT = 7946;

function eqHex(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(toHex(actual), toHex(expected), `${what} differs from the Go vector`);
}

/** Each packet vector: the message it encodes. */
const packetCases: Array<[string, PacketMessage]> = [
  [
    'V1',
    {
      type: MessageType.Ping,
      body: {
        seqNo: 1,
        node: 'node-b',
        sourceAddr: ip(10, 0, 0, 1),
        sourcePort: PORT,
        sourceNode: 'node-a',
      },
    },
  ],
  ['V2', { type: MessageType.Ping, body: { seqNo: 1, node: 'node-b' } }],
  [
    'V3',
    {
      type: MessageType.IndirectPing,
      body: {
        seqNo: 2,
        target: ip(10, 0, 0, 3),
        port: PORT,
        node: 'node-c',
        nack: true,
        sourceAddr: ip(10, 0, 0, 1),
        sourcePort: PORT,
        sourceNode: 'node-a',
      },
    },
  ],
  [
    'V3b',
    {
      type: MessageType.IndirectPing,
      body: { seqNo: 2, target: ip(10, 0, 0, 3), port: PORT, node: 'node-c', nack: false },
    },
  ],
  ['V4', { type: MessageType.AckResp, body: { seqNo: 1, payload: null } }],
  ['V4c', { type: MessageType.AckResp, body: { seqNo: 1, payload: ascii('pong') } }],
  ['V5', { type: MessageType.NackResp, body: { seqNo: 2 } }],
  ['V6', { type: MessageType.Suspect, body: { incarnation: 3, node: 'node-c', from: 'node-a' } }],
  [
    'V7',
    {
      type: MessageType.Alive,
      body: {
        incarnation: 1,
        node: 'node-a',
        addr: ip(10, 0, 0, 1),
        port: PORT,
        meta: null,
        vsn: VSN,
      },
    },
  ],
  [
    'V7b',
    {
      type: MessageType.Alive,
      body: {
        incarnation: 2,
        node: 'node-a',
        addr: ip(10, 0, 0, 1),
        port: PORT,
        meta: ascii('role=web'),
        vsn: ip(1, 5, 2, 2, 4, 3),
      },
    },
  ],
  [
    'V7c',
    {
      type: MessageType.Alive,
      body: {
        incarnation: 1,
        node: 'n6',
        addr: ip(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        port: PORT,
        meta: null,
        vsn: VSN,
      },
    },
  ],
  ['V8', { type: MessageType.Dead, body: { incarnation: 3, node: 'node-c', from: 'node-a' } }],
  ['V8b', { type: MessageType.Dead, body: { incarnation: 1, node: 'node-a', from: 'node-a' } }],
  ['V10', { type: MessageType.User, payload: ascii('hello') }],
  ['V20', { type: MessageType.Suspect, body: { incarnation: 1, node: 'x'.repeat(40), from: 'a' } }],
  [
    'V20b',
    { type: MessageType.Suspect, body: { incarnation: 1, node: 'y'.repeat(31), from: 'a' } },
  ],
];

const nodeA: PushNodeState = {
  name: 'node-a',
  addr: ip(10, 0, 0, 1),
  port: PORT,
  meta: null,
  incarnation: 1,
  state: NodeStateType.Alive,
  vsn: VSN,
};
const nodeC: PushNodeState = {
  name: 'node-c',
  addr: ip(10, 0, 0, 3),
  port: PORT,
  meta: ascii('m'),
  incarnation: 4,
  state: NodeStateType.Suspect,
  vsn: VSN,
};

describe('Go vectors: packet messages', () => {
  for (const [name, msg] of packetCases) {
    it(`${name} encodes byte-identically and decodes back`, () => {
      eqHex(encodeMessage(msg), V[name], name);
      assert.deepEqual(decodeMessage(V[name]), msg);
    });
  }

  it('V4b: an empty non-nil payload is written a0 and read back as nil (as Go does)', () => {
    const msg: PacketMessage = {
      type: MessageType.AckResp,
      body: { seqNo: 1, payload: new Uint8Array(0) },
    };
    eqHex(encodeMessage(msg), V.V4b, 'V4b');
    assert.deepEqual(decodeMessage(V.V4b), {
      type: MessageType.AckResp,
      body: { seqNo: 1, payload: null },
    });
  });

  it('V9 errResp', () => {
    eqHex(encodeErr('boom'), V.V9, 'V9');
  });

  it('V19 integer widths', () => {
    const prefix = '0282a75061796c6f6164c0a55365714e6f';
    const cases: Array<[number, string]> = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [4294967295, 'ceffffffff'],
    ];
    for (const [seqNo, tail] of cases) {
      const bytes = encodeMessage({ type: MessageType.AckResp, body: { seqNo, payload: null } });
      assert.equal(toHex(bytes), prefix + tail, `SeqNo ${seqNo}`);
      const back = decodeMessage(bytes);
      assert.equal(back.type === MessageType.AckResp && back.body.seqNo, seqNo);
    }
    assert.throws(
      () => encodeMessage({ type: MessageType.AckResp, body: { seqNo: 2 ** 32, payload: null } }),
      { name: 'CodecError', code: 'malformed' },
    );
  });

  it('V20c: a 300-byte Meta uses a str16 header', () => {
    const alive: Alive = {
      incarnation: 1,
      node: 'node-a',
      addr: ip(10, 0, 0, 1),
      port: PORT,
      meta: new Uint8Array(300).fill(0xab),
      vsn: VSN,
    };
    const bytes = encodeMessage({ type: MessageType.Alive, body: alive });
    assert.equal(
      toHex(bytes.subarray(0, 40)),
      '0486a441646472a40a000001ab496e6361726e6174696f6e01a44d657461da012cababababababab',
    );
    assert.deepEqual(decodeMessage(bytes), { type: MessageType.Alive, body: alive });
  });

  it('refuses to send a Vsn that is not 6 bytes (Go peers crash on 1-5)', () => {
    const body = { incarnation: 1, node: 'a', addr: ip(1, 2, 3, 4), port: 1, meta: null };
    assert.throws(
      () => encodeMessage({ type: MessageType.Alive, body: { ...body, vsn: ip(1, 5, 2) } }),
      { code: 'policy' },
    );
  });
});

describe('Go vectors: wrappers', () => {
  it('V11 compound of V1 and V6, and its truncated form', () => {
    eqHex(makeCompound([V.V1, V.V6]), V.V11, 'V11');
    const split = splitCompound(V.V11);
    assert.equal(split.truncated, 0);
    assert.deepEqual(split.parts.map(toHex), [toHex(V.V1), toHex(V.V6)]);
    const cut = splitCompound(V.V11.subarray(0, V.V11.length - 3));
    assert.equal(cut.truncated, 1);
    assert.deepEqual(cut.parts.map(toHex), [toHex(V.V1)]);
  });

  it('V12 / V12raw compress V1', () => {
    eqHex(lzwCompress(V.V1), V.V12raw, 'V12raw');
    eqHex(compressMessage(V.V1), V.V12, 'V12');
    eqHex(decompressMessage(V.V12), V.V1, 'decompressed V12');
  });

  it('V12b LZW of TOBEORNOTTOBEORTOBEORNOT', () => {
    const input = ascii('TOBEORNOTTOBEORTOBEORNOT');
    eqHex(lzwCompress(input), V.V12b, 'V12b');
    eqHex(lzwDecompress(V.V12b, 1000), input, 'V12b decompressed');
  });

  it('V12c compress of empty input', () => {
    eqHex(compressMessage(new Uint8Array(0)), V.V12c, 'V12c');
    assert.equal(decompressMessage(V.V12c).length, 0);
  });

  it('V12d 20000-byte stress vector (width growth and two table resets)', () => {
    const input = new Uint8Array(20000);
    for (let i = 0; i < input.length; i++) input[i] = ((i * 7) ^ (i >> 3)) & 0xff;
    const c = compressMessage(input);
    assert.equal(c.length, 14265);
    eqHex(c, V.V12d, 'V12d');
    assert.equal(crc32(c).toString(16), '866eaff5');
    assert.equal(
      createHash('sha256').update(c).digest('hex'),
      '9a3618e041765a6105098d1e91a57111d755118418c767624b72ed74fb74ee8b',
    );
    eqHex(decompressMessage(c), input, 'V12d round trip');
  });

  it('V13 CRC', () => {
    eqHex(addCrc(V.V1), V.V13, 'V13');
    eqHex(stripCrc(V.V13), V.V1, 'V13 stripped');
    const bad = V.V13.slice();
    bad[bad.length - 1] ^= 1;
    assert.throws(() => stripCrc(bad), { code: 'crc-mismatch' });
  });

  it('V14 / V14b / V14c UDP encryption with the fixed nonce', () => {
    eqHex(encryptPayload(1, KEY16, V.V1, undefined, NONCE), V.V14, 'V14');
    eqHex(encryptPayload(0, KEY16, V.V1, undefined, NONCE), V.V14b, 'V14b');
    eqHex(encryptPayload(1, KEY32, ip(8, 0x68, 0x69), undefined, NONCE), V.V14c, 'V14c');
    eqHex(decryptPayload([KEY16], V.V14), V.V1, 'V14 decrypted');
    eqHex(decryptPayload([KEY16], V.V14b), V.V1, 'V14b decrypted');
    // Multi-key: the wrong key first, then the right one.
    eqHex(decryptPayload(new Keyring([KEY16, KEY32]), V.V14c), ip(8, 0x68, 0x69), 'V14c');
  });

  it('encrypted lengths match Go (v0: 0→45 15→45 16→61 17→61; v1: 0→29 16→45)', () => {
    const len = (v: 0 | 1, n: number) => encryptPayload(v, KEY16, new Uint8Array(n)).length;
    assert.deepEqual([len(0, 0), len(0, 15), len(0, 16), len(0, 17)], [45, 45, 61, 61]);
    assert.deepEqual([len(1, 0), len(1, 16)], [29, 45]);
  });
});

describe('Go vectors: streams', () => {
  const plain = { keyring: undefined, verifyIncoming: false };

  it('V15 push/pull with two records and user state', () => {
    const bytes = encodePushPull({ join: true, nodes: [nodeA, nodeC], userState: ascii('state') });
    eqHex(bytes, V.V15, 'V15');
    assert.deepEqual(tryParseStreamMessage(V.V15, plain), {
      consumed: V.V15.length,
      message: { type: 'pushPull', join: true, nodes: [nodeA, nodeC], userState: ascii('state') },
    });
  });

  it('V15b push/pull with one record and no user state', () => {
    eqHex(encodePushPull({ join: false, nodes: [nodeA], userState: null }), V.V15b, 'V15b');
    const parsed = tryParseStreamMessage(V.V15b, plain);
    assert.deepEqual(parsed?.message, {
      type: 'pushPull',
      join: false,
      nodes: [nodeA],
      userState: null,
    });
  });

  it('V16 / V16b encrypted stream frames (AAD = the 5 header bytes)', () => {
    const keyring = new Keyring([KEY16]);
    for (const [name, version] of [
      ['V16', 1],
      ['V16b', 0],
    ] as const) {
      const frame = encodeStreamMessage(V.V15b, {
        compress: false,
        keyring,
        encrypt: true,
        encryptionVersion: version,
        nonce: NONCE,
      });
      eqHex(frame, V[name], name);
      const parsed = tryParseStreamMessage(V[name], { keyring, verifyIncoming: true });
      assert.equal(parsed?.consumed, V[name].length);
      assert.equal(parsed?.message.type, 'pushPull');
      // The AAD is authenticated: decrypting the blob without it fails.
      assert.throws(() => decryptPayload(keyring, V[name].subarray(5)), {
        code: 'decrypt-failed',
      });
    }
  });

  it('V17 reliable user message', () => {
    eqHex(encodeUserStream(ascii('hello')), V.V17, 'V17');
    assert.deepEqual(tryParseStreamMessage(V.V17, plain), {
      consumed: V.V17.length,
      message: { type: 'user', payload: ascii('hello') },
    });
  });

  it('V18 compressed stream message', () => {
    const opts = { compress: true, encrypt: false, encryptionVersion: 1 } as const;
    eqHex(encodeStreamMessage(V.V15b, opts), V.V18, 'V18');
    const parsed = tryParseStreamMessage(V.V18, plain);
    assert.equal(parsed?.consumed, V.V18.length);
    assert.deepEqual(parsed?.message, {
      type: 'pushPull',
      join: false,
      nodes: [nodeA],
      userState: null,
    });
  });

  it('V20d push/pull header with Nodes=70000 (uint32 form)', () => {
    const w = new MsgpackWriter();
    w.byte(MessageType.PushPull);
    writePushPullHeader(w, { join: false, nodes: 70000, userStateLen: 0 });
    eqHex(w.finish(), V.V20d, 'V20d');
    // 70000 records cannot follow in 33 bytes: the parser waits (more may come) and never
    // allocates the list; in a complete (decrypted) frame it is an error.
    assert.equal(tryParseStreamMessage(V.V20d, plain), null);
    assert.throws(() => tryParseStreamMessage(V.V20d, { ...plain, maxBytes: 1000 }), {
      code: 'too-large',
    });
  });

  it('every vector key is covered by this file', () => {
    const covered = new Set([
      ...packetCases.map(([n]) => n),
      ...'V4b V9 V11 V12 V12raw V12b V12c V12d V13 V14 V14b V14c V15 V15b V16 V16b V17 V18 V20d'.split(
        ' ',
      ),
    ]);
    assert.deepEqual(
      Object.keys(V).filter((k) => !covered.has(k)),
      [],
    );
  });
});
