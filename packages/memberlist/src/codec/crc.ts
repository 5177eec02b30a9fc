/**
 * CRC-32/IEEE and the `hasCrcMsg` layer (docs/spec/memberlist-wire.md §5.4): `0c | crc32 BE | message`, the
 * checksum covering the message only. Only the outermost layer inside encryption.
 */
import { CodecError } from './errors.js';
import { MessageType } from './messages.js';
import { allocBytes } from './msgpack.js';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const CRC_HEADER_SIZE = 5;

export function addCrc(msg: Uint8Array): Uint8Array {
  const out = allocBytes(msg.length + CRC_HEADER_SIZE);
  const c = crc32(msg);
  out[0] = MessageType.HasCrc;
  out[1] = c >>> 24;
  out[2] = (c >>> 16) & 0xff;
  out[3] = (c >>> 8) & 0xff;
  out[4] = c & 0xff;
  out.set(msg, CRC_HEADER_SIZE);
  return out;
}

/**
 * If `buf` is CRC-framed (≥ 5 bytes starting with `0c`, as Go checks it), verifies the checksum
 * and returns the protected message (a view into `buf`); otherwise returns `buf` unchanged.
 */
export function stripCrc(buf: Uint8Array): Uint8Array {
  if (buf.length < CRC_HEADER_SIZE || buf[0] !== MessageType.HasCrc) return buf;
  const want = buf[1] * 0x1000000 + ((buf[2] << 16) | (buf[3] << 8) | buf[4]);
  const got = crc32(buf, CRC_HEADER_SIZE);
  if (want !== got) {
    throw new CodecError(
      'crc-mismatch',
      `CRC mismatch: header says ${want.toString(16).padStart(8, '0')}, message has ${got.toString(16).padStart(8, '0')}`,
    );
  }
  return buf.subarray(CRC_HEADER_SIZE);
}
