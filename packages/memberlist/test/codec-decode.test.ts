/**
 * Decoder acceptance tests D1–D20 of docs/spec/memberlist-wire.md §18.3: each input was run through the
 * real Go decoder; we must accept what it accepts (with the same values) and reject what it
 * rejects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CodecError,
  decodeMessage,
  MessageType,
  MsgpackReader,
  readAck,
  readAlive,
  readIndirectPing,
  readPing,
  readPushNodeState,
} from '../src/codec/index.js';

/** Builds bytes from hex pieces and 'quoted ascii' pieces, like the spec's table. */
function b(...pieces: Array<string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of pieces) {
    if (Array.isArray(p)) out.push(...p);
    else if (p.startsWith("'")) out.push(...new TextEncoder().encode(p.slice(1, -1)));
    else for (const h of p.trim().split(/\s+/)) out.push(Number.parseInt(h, 16));
  }
  return Uint8Array.from(out);
}

const readers = {
  ping: readPing,
  alive: readAlive,
  indirectPingReq: readIndirectPing,
  ackResp: readAck,
  pushNodeState: readPushNodeState,
};
function decode(target: keyof typeof readers, input: Uint8Array): unknown {
  return readers[target](new MsgpackReader(input));
}

const ip4 = Uint8Array.from([10, 0, 0, 1]);

describe('decoder acceptance (docs/spec/memberlist-wire.md §18.3, verified against Go)', () => {
  const ok: Array<[string, keyof typeof readers, Uint8Array, Record<string, unknown>]> = [
    [
      'D1 str8 string value',
      'ping',
      b('82 a4', "'Node'", 'd9 06', "'node-b'", 'a5', "'SeqNo'", '07'),
      { seqNo: 7, node: 'node-b' },
    ],
    ['D1b str8 map key', 'ping', b('81 d9 05', "'SeqNo'", '07'), { seqNo: 7, node: '' }],
    [
      'D2 bin8 into []byte',
      'ping',
      b('82 aa', "'SourceAddr'", 'c4 04 0a 00 00 01 a5', "'SeqNo'", '07'),
      { seqNo: 7, node: '', sourceAddr: ip4 },
    ],
    [
      'D3 array of ints into Vsn',
      'alive',
      b('81 a3', "'Vsn'", '96 01 05 02 00 00 00'),
      {
        incarnation: 0,
        node: '',
        addr: new Uint8Array(0),
        port: 0,
        meta: null,
        vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
      },
    ],
    ['D5 keys are case-sensitive', 'ping', b('81 a5', "'seqNo'", '07'), { seqNo: 0, node: '' }],
    [
      'D6 nested unknown value skipped',
      'ping',
      b('82 a5', "'Extra'", '82 a1 61 92 01 c0 a1 62 c3 a5', "'SeqNo'", '09'),
      { seqNo: 9, node: '' },
    ],
    [
      'D7 struct as array, declaration order',
      'ping',
      b('93 05 a6', "'node-b'", 'a4 0a 00 00 01'),
      { seqNo: 5, node: 'node-b', sourceAddr: ip4 },
    ],
    [
      'D8 bool from fixint 1',
      'indirectPingReq',
      b('81 a4', "'Nack'", '01'),
      { seqNo: 0, target: new Uint8Array(0), port: 0, node: '', nack: true },
    ],
    [
      'D9 uint64 form of 0xffffffff',
      'ackResp',
      b('81 a5', "'SeqNo'", 'cf 00 00 00 00 ff ff ff ff'),
      { seqNo: 4294967295, payload: null },
    ],
    [
      'D9c signed int32 form',
      'ackResp',
      b('81 a5', "'SeqNo'", 'd2 00 00 00 2a'),
      { seqNo: 42, payload: null },
    ],
    [
      'D11 trailing bytes ignored',
      'ackResp',
      b('81 a5', "'SeqNo'", '05 de ad be ef'),
      { seqNo: 5, payload: null },
    ],
    [
      'D12 nil into string and []byte',
      'alive',
      b('82 a4', "'Node'", 'c0 a4', "'Meta'", 'c0'),
      {
        incarnation: 0,
        node: '',
        addr: new Uint8Array(0),
        port: 0,
        meta: null,
        vsn: new Uint8Array(0),
      },
    ],
    [
      'D12b empty fixstr into []byte → nil',
      'alive',
      b('81 a4', "'Meta'", 'a0'),
      {
        incarnation: 0,
        node: '',
        addr: new Uint8Array(0),
        port: 0,
        meta: null,
        vsn: new Uint8Array(0),
      },
    ],
    ['D13 map16 header', 'ackResp', b('de 00 01 a5', "'SeqNo'", '05'), { seqNo: 5, payload: null }],
    [
      'D14 duplicate key: last wins',
      'ackResp',
      b('82 a5', "'SeqNo'", '05 a5', "'SeqNo'", '06'),
      { seqNo: 6, payload: null },
    ],
    [
      'D16 State from uint8 form',
      'pushNodeState',
      b('81 a5', "'State'", 'cc 03'),
      {
        name: '',
        addr: new Uint8Array(0),
        port: 0,
        meta: null,
        incarnation: 0,
        state: 3,
        vsn: new Uint8Array(0),
      },
    ],
    ['D18 empty map', 'ping', b('80'), { seqNo: 0, node: '' }],
    [
      'D19 str16 into string',
      'ping',
      b('81 a4', "'Node'", 'da 00 02', "'ab'"),
      { seqNo: 0, node: 'ab' },
    ],
    [
      'D20 Vsn as bin8',
      'alive',
      b('81 a3', "'Vsn'", 'c4 06 01 05 02 00 00 00'),
      {
        incarnation: 0,
        node: '',
        addr: new Uint8Array(0),
        port: 0,
        meta: null,
        vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
      },
    ],
  ];
  for (const [name, target, input, want] of ok) {
    it(`${name}: accepted`, () => {
      assert.deepEqual(decode(target, input), want);
    });
  }

  const rejected: Array<[string, keyof typeof readers, Uint8Array, RegExp]> = [
    [
      'D4 bin8 into string',
      'ping',
      b('81 a4', "'Node'", 'c4 06', "'node-b'"),
      /Node: expected a string/,
    ],
    ['D4b bin8 map key', 'ping', b('81 c4 05', "'SeqNo'", '07'), /map key must be a string/],
    ['D8b bool from fixint 2', 'indirectPingReq', b('81 a4', "'Nack'", '02'), /expected a bool/],
    ['D9b SeqNo 2^32', 'ackResp', b('81 a5', "'SeqNo'", 'cf 00 00 00 01 00 00 00 00'), /overflows/],
    ['D9d negative into unsigned', 'ackResp', b('81 a5', "'SeqNo'", 'ff'), /negative/],
    ['D10 70000 into uint16', 'ping', b('81 aa', "'SourcePort'", 'ce 00 01 11 70'), /overflows/],
    [
      'D15 float into uint32',
      'ackResp',
      b('81 a5', "'SeqNo'", 'cb 3f f0 00 00 00 00 00 00'),
      /float/,
    ],
    [
      'D17 ext into []byte',
      'ping',
      b('81 aa', "'SourceAddr'", 'd6 05 0a 00 00 01'),
      /expected bytes/,
    ],
  ];
  for (const [name, target, input, message] of rejected) {
    it(`${name}: rejected with a CodecError saying why`, () => {
      assert.throws(
        () => decode(target, input),
        (e: unknown) =>
          e instanceof CodecError && e.code === 'malformed' && message.test(e.message),
      );
    });
  }
});

describe('decoding forms a Go peer may send', () => {
  it('accepts 4-byte and 16-byte (v4-mapped) IPv4 addresses unchanged', () => {
    const mapped = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    for (const addr of [Uint8Array.from([127, 0, 0, 1]), mapped]) {
      const input = b(
        '04 82 a4',
        "'Addr'",
        [0xa0 | addr.length, ...addr],
        'a4',
        "'Port'",
        'cd 1f 0a',
      );
      const m = decodeMessage(input);
      assert.equal(m.type, MessageType.Alive);
      if (m.type === MessageType.Alive) {
        assert.deepEqual(m.body.addr, addr);
        assert.equal(m.body.port, 7946);
      }
    }
  });

  it('nil vs empty byte strings: c0 and a0 both read as nil Meta; bytes read back as given', () => {
    for (const meta of ['c0', 'a0']) {
      const m = decodeMessage(b('04 81 a4', "'Meta'", meta));
      assert.equal(m.type === MessageType.Alive && m.body.meta, null);
    }
    const m = decodeMessage(b('04 81 a4', "'Meta'", 'a2 00 00'));
    assert.deepEqual(m.type === MessageType.Alive && m.body.meta, Uint8Array.from([0, 0]));
  });

  it('an array-of-ints byte field with an element over 255 is rejected', () => {
    assert.throws(() => decode('alive', b('81 a3', "'Vsn'", '92 01 cd 01 00')), {
      code: 'malformed',
    });
  });

  it('a huge array header for a byte field is truncation, not an allocation', () => {
    assert.throws(() => decode('alive', b('81 a3', "'Vsn'", 'dd ff ff ff ff 01')), {
      code: 'truncated',
    });
  });

  // The 'Extra' cases with dd/df are 11-byte pings that make a Go 0.2.2 node allocate for 2^32
  // elements and die with a fatal out-of-memory (seen with fuzz/godecode).
  it('hostile length and count fields fail fast without allocating for them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const cases: Array<[Uint8Array, string]> = [
      [b('04 81 a4', "'Meta'", 'db ff ff ff f0 01 02'), 'truncated'],
      [b('04 81 a4', "'Node'", 'db 7f ff ff ff 61'), 'truncated'],
      [b('00 df ff ff ff ff a1 61'), 'truncated'],
      [b('00 81 a5', "'Extra'", 'dd ff ff ff ff 01'), 'truncated'],
      [b('00 81 a5', "'Extra'", 'df ff ff ff ff 01'), 'truncated'],
      [b('00 81 a5', "'Extra'", 'c9 ff ff ff ff 01'), 'truncated'],
      [b('00 dd ff ff ff ff 01'), 'truncated'],
    ];
    for (const [input, code] of cases) {
      for (let i = 0; i < 1000; i++) assert.throws(() => decodeMessage(input), { code });
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 4 * 1024 * 1024);
  });

  it('decoded bytes are copies, independent of the input buffer', () => {
    const input = b('02 82 a7', "'Payload'", 'a2 01 02 a5', "'SeqNo'", '01');
    const m = decodeMessage(input);
    input.fill(0);
    assert.deepEqual(m.type === MessageType.AckResp && m.body.payload, Uint8Array.from([1, 2]));
  });

  it('types a datagram cannot carry on their own are unknown-type', () => {
    for (const t of [6, 7, 9, 10, 12, 13, 14, 244]) {
      assert.throws(() => decodeMessage(Uint8Array.from([t, 0x80])), { code: 'unknown-type' });
    }
    assert.throws(() => decodeMessage(new Uint8Array(0)), { code: 'truncated' });
  });

  it('every incomplete prefix of a message throws truncated', () => {
    const full = b(
      '00 85 a4',
      "'Node'",
      'a6',
      "'node-b'",
      'a5',
      "'SeqNo'",
      '01 aa',
      "'SourceAddr'",
      'a4 0a 00 00 01 aa',
      "'SourceNode'",
      'a1 61 aa',
      "'SourcePort'",
      'cd 1f 0a',
    );
    for (let n = 1; n < full.length; n++) {
      assert.throws(() => decodeMessage(full.subarray(0, n)), { code: 'truncated' }, `prefix ${n}`);
    }
    assert.equal(decodeMessage(full).type, MessageType.Ping);
  });
});
