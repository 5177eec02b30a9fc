/**
 * Byte-exact msgpack cases at two edges that no Go vector reaches. Every expectation below was
 * checked against go-msgpack 0.5.5 itself when written (its encoder for the written bytes, the
 * differential decoder `fuzz/godecode` for what is accepted or rejected).
 *
 * - The fixstr bound: a string of 31 bytes is a fixstr (`bf`); 32 bytes take the next form Go
 *   writes with a zero `MsgpackHandle`, str16 (`da 00 20`; Go never writes str8 but reads it).
 * - go-msgpack tells a fixstr by the bit test `(b & 0xa0) === 0xa0`, which the negative-fixint
 *   bytes `e0`–`ff` pass too: where a string or a map key is expected, Go reads them as string
 *   headers of `b ^ 0xa0` (64–95) bytes. A peer may send that; we must accept what Go accepts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CodecError,
  encodeMessage,
  MessageType,
  MsgpackReader,
  readAck,
  readErr,
  readPing,
} from '../src/codec/index.js';
import { toHex } from './codec-fixtures.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const bytes = (...parts: Array<number[] | Uint8Array>) =>
  Uint8Array.from(Buffer.concat(parts.map((p) => Uint8Array.from(p))));
const NODE = bytes([0xa4], ascii('Node'));
const SEQ_7 = bytes([0xa5], ascii('SeqNo'), [0x07]);

describe('fixstr bound: 31 bytes is a fixstr, 32 is str16', () => {
  it('a ping to a 31-byte name: bf and the name', () => {
    const name = 'y'.repeat(31);
    const out = encodeMessage({ type: MessageType.Ping, body: { seqNo: 7, node: name } });
    assert.equal(toHex(out), toHex(bytes([0x00, 0x82], NODE, [0xbf], ascii(name), SEQ_7)));
  });

  it('a ping to a 32-byte name: da 00 20 and the name', () => {
    const name = 'y'.repeat(32);
    const out = encodeMessage({ type: MessageType.Ping, body: { seqNo: 7, node: name } });
    assert.equal(
      toHex(out),
      toHex(bytes([0x00, 0x82], NODE, [0xda, 0x00, 0x20], ascii(name), SEQ_7)),
    );
  });

  it('a 32-byte payload ([]byte) is str16 too', () => {
    const payload = new Uint8Array(32).fill(0x70);
    const out = encodeMessage({ type: MessageType.AckResp, body: { seqNo: 7, payload } });
    const expected = bytes(
      [0x02, 0x82, 0xa7],
      ascii('Payload'),
      [0xda, 0x00, 0x20],
      Buffer.from(payload),
      [0xa5],
      ascii('SeqNo'),
      [0x07],
    );
    assert.equal(toHex(out), toHex(expected));
  });

  it('reads bf as 31 bytes, and 32 bytes as str16 or str8', () => {
    for (const [header, len] of [
      [[0xbf], 31],
      [[0xda, 0x00, 0x20], 32],
      [[0xd9, 0x20], 32],
    ] as const) {
      const name = 'x'.repeat(len);
      const p = readPing(new MsgpackReader(bytes([0x82], NODE, [...header], ascii(name), SEQ_7)));
      assert.deepEqual(p, { seqNo: 7, node: name }, toHex(Uint8Array.from(header)));
    }
  });
});

describe('negative fixint e0-ff where a string or a map key is expected (go-msgpack quirk)', () => {
  it('e0 and ff as a string value: strings of 64 and 95 bytes', () => {
    for (const [header, len] of [
      [0xe0, 64],
      [0xff, 95],
    ] as const) {
      const name = 'n'.repeat(len);
      const p = readPing(new MsgpackReader(bytes([0x82], NODE, [header], ascii(name), SEQ_7)));
      assert.deepEqual(p, { seqNo: 7, node: name });
    }
    const err = 'e'.repeat(64);
    const e = readErr(new MsgpackReader(bytes([0x81, 0xa5], ascii('Error'), [0xe0], ascii(err))));
    assert.deepEqual(e, { error: err });
  });

  it('e0 and ff as a map key: an unknown field of 64 or 95 bytes, skipped with its value', () => {
    const withE0 = bytes([0x82, 0xe0], ascii('k'.repeat(64)), [0x01], SEQ_7);
    const withFf = bytes([0x82, 0xff], ascii('k'.repeat(95)), [0xc3], SEQ_7);
    assert.deepEqual(readPing(new MsgpackReader(withE0)), { seqNo: 7, node: '' });
    assert.deepEqual(readPing(new MsgpackReader(withFf)), { seqNo: 7, node: '' });
  });

  it('a string header e0 with fewer than 64 bytes after it is truncated', () => {
    assert.throws(
      () => readPing(new MsgpackReader(bytes([0x81], NODE, [0xe0], ascii('n'.repeat(10))))),
      (e: unknown) => e instanceof CodecError && e.code === 'truncated',
    );
  });

  it('e0 into a []byte field is rejected, as Go rejects it', () => {
    const input = bytes(
      [0x82, 0xa5],
      ascii('SeqNo'),
      [0x07, 0xa7],
      ascii('Payload'),
      [0xe0],
      ascii('p'.repeat(64)),
    );
    assert.throws(
      () => readAck(new MsgpackReader(input)),
      (e: unknown) => e instanceof CodecError && e.code === 'malformed',
    );
  });
});
