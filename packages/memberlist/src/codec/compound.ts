/**
 * Compound messages (docs/spec/memberlist-wire.md §5.2): `07 | count | count × uint16 BE length | parts`.
 * Go 0.2.2 mis-splits 128+ parts (8-bit arithmetic) and crashes on a zero-length part, so we
 * never build either, and reading never trusts them.
 */
import { CodecError } from './errors.js';
import { MessageType } from './messages.js';
import { allocBytes } from './msgpack.js';

export const MAX_COMPOUND_PARTS = 127;
export const MAX_COMPOUND_PART_SIZE = 0xffff;
/** Bytes a compound adds: the `07` + count header, and one length entry per part. */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_PART_OVERHEAD = 2;

export function makeCompound(parts: Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) {
    throw new CodecError(
      'too-large',
      `a compound message holds at most ${MAX_COMPOUND_PARTS} parts, got ${parts.length}`,
    );
  }
  let total = 2 + 2 * parts.length;
  for (let i = 0; i < parts.length; i++) {
    const len = parts[i].length;
    if (len === 0) throw new CodecError('malformed', `compound part ${i} is empty`);
    if (len > MAX_COMPOUND_PART_SIZE) {
      throw new CodecError('too-large', `compound part ${i} is ${len} bytes (max 65535)`);
    }
    total += len;
  }
  const out = allocBytes(total);
  out[0] = MessageType.Compound;
  out[1] = parts.length;
  let lp = 2;
  let p = 2 + 2 * parts.length;
  for (const part of parts) {
    out[lp++] = part.length >>> 8;
    out[lp++] = part.length & 0xff;
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export interface SplitCompound {
  /** Views into the input, in order. */
  parts: Uint8Array[];
  /** Parts announced in the length table but missing from the data (dropped, as Go does). */
  truncated: number;
  /** Zero-length parts, skipped (Go would crash on them). */
  empty: number;
}

/**
 * Splits a compound message. `buf` must START WITH the `07` type byte. A length table longer
 * than the input is an error; parts that do not fit are counted in `truncated`.
 */
export function splitCompound(buf: Uint8Array): SplitCompound {
  if (buf.length === 0 || buf[0] !== MessageType.Compound) {
    throw new CodecError('malformed', 'not a compound message (first byte must be 0x07)');
  }
  if (buf.length < 2) throw new CodecError('truncated', 'compound message has no part count');
  const count = buf[1];
  let p = 2 + 2 * count;
  if (buf.length < p) {
    throw new CodecError(
      'truncated',
      `compound length table needs ${2 * count} bytes, have ${buf.length - 2}`,
    );
  }
  const parts: Uint8Array[] = [];
  let empty = 0;
  for (let i = 0; i < count; i++) {
    const len = (buf[2 + 2 * i] << 8) | buf[3 + 2 * i];
    if (p + len > buf.length) return { parts, truncated: count - i, empty };
    if (len === 0) empty++;
    else parts.push(buf.subarray(p, p + len));
    p += len;
  }
  return { parts, truncated: 0, empty };
}

/**
 * Groups messages into as few datagram payloads as the part limit allows: one message stays
 * as it is, more become compounds of at most 127 parts.
 */
export function packCompounds(parts: Uint8Array[]): Uint8Array[] {
  if (parts.length === 1) return [parts[0]];
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts.length; i += MAX_COMPOUND_PARTS) {
    const group = parts.slice(i, i + MAX_COMPOUND_PARTS);
    out.push(group.length === 1 ? group[0] : makeCompound(group));
  }
  return out;
}
