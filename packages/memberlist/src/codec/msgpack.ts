// Over 600 lines on purpose: msgpack reading and writing unrolled by hand per shape (Go's bytes).
/**
 * The msgpack dialect of hashicorp/go-msgpack 0.5.5 with a zero-valued `MsgpackHandle{}`
 * (docs/spec/memberlist-wire.md §3). Only the shapes memberlist uses are supported: flat structs written as maps
 * with sorted keys, strings, byte slices, unsigned/signed integers and bools.
 *
 * Writing follows what Go PRODUCES (§3.2): byte slices use str-family headers (never bin),
 * str8 (`d9`) is never written, nil byte slices are `c0`, integers take the smallest unsigned
 * form. Reading follows what Go ACCEPTS (§3.4), which is more lenient (str8, bin, arrays of
 * ints into byte fields, array-encoded structs, signed integer forms, 00/01 bools, nil → zero)
 * and strict where Go is strict (bin into strings, overflow, floats, negatives into unsigned).
 *
 * Safety: every length read from the input is compared with the bytes that remain before it
 * is used, so a hostile length can never make us allocate or loop beyond the input's size.
 * Running off the end of the input always throws `CodecError('truncated')`, which the stream
 * parser uses to mean "wait for more bytes".
 */
import { CodecError } from './errors.js';

export const U8_MAX = 0xff;
export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

const TWO_32 = 0x1_0000_0000;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * A pre-encoded map key (fixstr header + ASCII bytes). Keys are constants, so encoding them
 * once keeps the hot encode path to a single copy per key.
 */
export function mapKey(name: string): Uint8Array {
  if (name.length > 31)
    throw new CodecError('malformed', `map key ${name} is longer than a fixstr`);
  const out = new Uint8Array(name.length + 1);
  out[0] = 0xa0 | name.length;
  for (let i = 0; i < name.length; i++) out[i + 1] = name.charCodeAt(i);
  return out;
}

/** The ASCII bytes of struct field names, in declaration order, for `MsgpackReader.fieldIndex`. */
export function fieldKeys(names: readonly string[]): Uint8Array[] {
  return names.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));
}

/** Growing output buffer with the go-msgpack encoding rules. */
export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 128) {
    // Never zero: growth doubles the current size.
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Forgets what was written, keeping the buffer, so one writer can serve many encodes. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    copyInto(this.buf, this.pos, bytes);
    this.pos += bytes.length;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  /** Smallest unsigned form; `max` is the Go field's range, checked so we never send what Go rejects. */
  uint(v: number, max: number, field: string): void {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) {
      throw new CodecError('malformed', `cannot encode ${v} as ${field} (unsigned, max ${max})`);
    }
    this.writeUnsigned(v);
  }

  /** Go `int`: unsigned forms for v ≥ 0 (as Go writes them), signed forms otherwise. */
  int(v: number, field: string): void {
    if (!Number.isSafeInteger(v)) {
      throw new CodecError('malformed', `cannot encode ${v} as ${field} (integer)`);
    }
    if (v >= 0) {
      this.writeUnsigned(v);
      return;
    }
    this.ensure(9);
    if (v >= -32) {
      this.buf[this.pos++] = v & 0xff;
    } else if (v >= -128) {
      this.buf[this.pos++] = 0xd0;
      this.view.setInt8(this.pos, v);
      this.pos += 1;
    } else if (v >= -32768) {
      this.buf[this.pos++] = 0xd1;
      this.view.setInt16(this.pos, v);
      this.pos += 2;
    } else if (v >= -0x8000_0000) {
      this.buf[this.pos++] = 0xd2;
      this.view.setInt32(this.pos, v);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, BigInt(v));
      this.pos += 8;
    }
  }

  private writeUnsigned(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (v <= 0x7f) {
      b[this.pos++] = v;
    } else if (v <= 0xff) {
      b[this.pos++] = 0xcc;
      b[this.pos++] = v;
    } else if (v <= 0xffff) {
      b[this.pos++] = 0xcd;
      this.view.setUint16(this.pos, v);
      this.pos += 2;
    } else if (v <= U32_MAX) {
      b[this.pos++] = 0xce;
      this.view.setUint32(this.pos, v);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xcf;
      this.view.setUint32(this.pos, Math.floor(v / TWO_32));
      this.view.setUint32(this.pos + 4, v >>> 0);
      this.pos += 8;
    }
  }

  /** str-family header as go-msgpack writes it: fixstr, then str16, then str32 (never str8). */
  private strHeader(len: number): void {
    this.ensure(5 + len);
    const b = this.buf;
    if (len < 32) {
      b[this.pos++] = 0xa0 | len;
    } else if (len <= 0xffff) {
      b[this.pos++] = 0xda;
      this.view.setUint16(this.pos, len);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, len);
      this.pos += 4;
    }
  }

  str(s: string): void {
    // Names are nearly always ASCII: copy them directly and only fall back to TextEncoder
    // when a non-ASCII character shows up.
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      this.bytesValue(utf8Encoder.encode(s));
      return;
    }
    this.strHeader(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A Go `[]byte`: nil → `c0`, otherwise a str-family header and the raw bytes. */
  bytes(v: Uint8Array | null | undefined): void {
    if (v == null) {
      this.nil();
      return;
    }
    this.bytesValue(v);
  }

  private bytesValue(v: Uint8Array): void {
    this.strHeader(v.length);
    copyInto(this.buf, this.pos, v);
    this.pos += v.length;
  }

  mapHeader(n: number): void {
    if (n < 16) {
      this.byte(0x80 | n);
    } else {
      this.ensure(3);
      this.buf[this.pos++] = 0xde;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    }
  }

  /** A copy of exactly the bytes written so far. */
  finish(): Uint8Array {
    const out = allocBytes(this.pos);
    copyInto(out, 0, this.buf.subarray(0, this.pos));
    return out;
  }
}

function describe(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Cursor over one input buffer. Methods read one value each and advance `pos`; the struct
 * helpers (`structHeader`, `fieldIndex`) let message decoders accept both map- and
 * array-encoded structs the way Go does.
 */
export class MsgpackReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Set by `structHeader`: whether the struct arrived as an array (declaration order). */
  structIsArray = false;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new CodecError(
        'truncated',
        `input ended inside ${what}: need ${n} more bytes, have ${this.end - this.pos}`,
      );
    }
  }

  private u8(what: string): number {
    if (this.pos >= this.end) throw new CodecError('truncated', `input ended before ${what}`);
    return this.buf[this.pos++];
  }

  // Big-endian reads by hand: cheaper than a DataView per reader for messages this small.
  private u16(what: string): number {
    this.need(2, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }

  private u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /**
   * Reads the header of a struct. Returns the number of map entries or array elements, or -1
   * for nil (Go then leaves every field at its zero value). Sets `structIsArray`.
   */
  structHeader(what: string): number {
    const b = this.u8(what);
    if (b >= 0x80 && b <= 0x8f) {
      this.structIsArray = false;
      return b & 0x0f;
    }
    if (b >= 0x90 && b <= 0x9f) {
      this.structIsArray = true;
      return b & 0x0f;
    }
    switch (b) {
      case 0xc0:
        return -1;
      case 0xde:
        this.structIsArray = false;
        return this.u16(what);
      case 0xdf:
        this.structIsArray = false;
        return this.u32(what);
      case 0xdc:
        this.structIsArray = true;
        return this.u16(what);
      case 0xdd:
        this.structIsArray = true;
        return this.u32(what);
      default:
        throw new CodecError('malformed', `${what}: expected a map or array, got ${describe(b)}`);
    }
  }

  /**
   * For element `i` of the struct whose header was just read: the index into `fields`
   * (declaration order, see `fieldKeys`) of the field to decode next, or -1 when the value
   * must be skipped (unknown key, or an array element beyond the declared fields). Keys are
   * matched on their bytes, exactly and case-sensitively as Go does, without building strings.
   */
  fieldIndex(fields: readonly Uint8Array[], i: number, isArray: boolean): number {
    if (isArray) return i < fields.length ? i : -1;
    const b = this.u8('map key');
    let len: number;
    if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;
    else if (b >= 0xe0) len = b ^ 0xa0;
    else if (b === 0xd9) len = this.u8('map key length');
    else if (b === 0xda) len = this.u16('map key length');
    else if (b === 0xdb) len = this.u32('map key length');
    else if (b === 0xc0) return -1;
    else throw new CodecError('malformed', `map key must be a string, got ${describe(b)}`);
    this.need(len, 'map key');
    const buf = this.buf;
    const start = this.pos;
    this.pos += len;
    for (let f = 0; f < fields.length; f++) {
      const name = fields[f];
      if (name.length !== len) continue;
      let k = 0;
      while (k < len && buf[start + k] === name[k]) k++;
      if (k === len) return f;
    }
    return -1;
  }

  /**
   * A Go `string` field: str-family or nil (→ ""). bin is rejected as Go does. go-msgpack
   * recognises a fixstr by the bit test `(b & 0xa0) === 0xa0`, which also matches the
   * negative-fixint bytes e0–ff: it reads those as strings of `b ^ 0xa0` (64–95) bytes, and
   * so do we, here and for map keys, to accept exactly what a Go peer accepts.
   */
  string(field: string): string {
    const b = this.u8(field);
    let len: number;
    if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;
    else if (b >= 0xe0) len = b ^ 0xa0;
    else if (b === 0xd9) len = this.u8(field);
    else if (b === 0xda) len = this.u16(field);
    else if (b === 0xdb) len = this.u32(field);
    else if (b === 0xc0) return '';
    else throw new CodecError('malformed', `${field}: expected a string, got ${describe(b)}`);
    this.need(len, field);
    const s = decodeText(this.buf, this.pos, len);
    this.pos += len;
    return s;
  }

  /**
   * A Go `[]byte` field: str- or bin-family (a zero-length value becomes nil, as in Go), nil,
   * or an array of integers 0..255 (an empty one also reads as nil, so decoding never tells
   * apart two forms Go would send identically). Go also decodes a map into a slice, as its
   * keys and values in order; so do we. Returns a copy, so callers may keep it after the input
   * buffer is reused.
   */
  bytes(field: string): Uint8Array | null {
    const b = this.u8(field);
    let len: number;
    if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;
    else if (b >= 0x90 && b <= 0x9f) return this.byteArray(b & 0x0f, field);
    else if (b >= 0x80 && b <= 0x8f) return this.byteArray(2 * (b & 0x0f), field);
    else {
      switch (b) {
        case 0xc0:
          return null;
        case 0xc4:
        case 0xd9:
          len = this.u8(field);
          break;
        case 0xc5:
        case 0xda:
          len = this.u16(field);
          break;
        case 0xc6:
        case 0xdb:
          len = this.u32(field);
          break;
        case 0xdc:
          return this.byteArray(this.u16(field), field);
        case 0xdd:
          return this.byteArray(this.u32(field), field);
        case 0xde:
          return this.byteArray(2 * this.u16(field), field);
        case 0xdf:
          return this.byteArray(2 * this.u32(field), field);
        default:
          throw new CodecError('malformed', `${field}: expected bytes, got ${describe(b)}`);
      }
    }
    this.need(len, field);
    if (len === 0) return null;
    const out = copyOut(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  private byteArray(n: number, field: string): Uint8Array | null {
    // Every element takes at least one byte, so a count beyond the input is a truncation,
    // caught before the allocation.
    this.need(n, field);
    // Like a zero-length string, an empty array means "no bytes" (nil).
    if (n === 0) return null;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uint(U8_MAX, field);
    return out;
  }

  /**
   * An unsigned Go field of range [0, max]: any integer form with a non-negative value that
   * fits, or nil (→ 0). Floats, negatives and overflow are errors, as in Go.
   */
  uint(max: number, field: string): number {
    const v = this.integer(field);
    if (v < 0) {
      throw new CodecError('malformed', `${field}: negative value ${v} for an unsigned field`);
    }
    if (v > max) throw new CodecError('malformed', `${field}: value ${v} overflows (max ${max})`);
    return v;
  }

  /** A Go `int` field: any integer form fitting 64 bits signed, or nil (→ 0). */
  int(field: string): number {
    return this.integer(field);
  }

  private integer(field: string): number {
    const b = this.u8(field);
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0:
        return 0;
      case 0xcc:
        return this.u8(field);
      case 0xcd:
        return this.u16(field);
      case 0xce:
        return this.u32(field);
      case 0xcf: {
        const hi = this.u32(field);
        const lo = this.u32(field);
        // Beyond 2^53 no Go field of ours can hold it (int fields are 63-bit, and a count or
        // length that large can never be satisfied by the input), so report overflow.
        if (hi > 0x1fffff) {
          throw new CodecError('malformed', `${field}: 64-bit value overflows`);
        }
        return hi * TWO_32 + lo;
      }
      case 0xd0:
        return (this.u8(field) << 24) >> 24;
      case 0xd1:
        return (this.u16(field) << 16) >> 16;
      case 0xd2:
        return this.u32(field) | 0;
      case 0xd3: {
        const hi = this.u32(field) | 0;
        const lo = this.u32(field);
        if (hi > 0x1fffff || hi < -0x200000) {
          throw new CodecError('malformed', `${field}: 64-bit value out of range`);
        }
        return hi * TWO_32 + lo;
      }
      case 0xca:
      case 0xcb:
        throw new CodecError('malformed', `${field}: floats are not accepted for integers`);
      default:
        throw new CodecError('malformed', `${field}: expected an integer, got ${describe(b)}`);
    }
  }

  /** A Go `bool`: `c2`/`c3`, fixint 0/1, or nil (→ false). */
  bool(field: string): boolean {
    const b = this.u8(field);
    switch (b) {
      case 0xc3:
      case 0x01:
        return true;
      case 0xc2:
      case 0x00:
      case 0xc0:
        return false;
      default:
        throw new CodecError('malformed', `${field}: expected a bool, got ${describe(b)}`);
    }
  }

  /**
   * Skips one value of any type (an unknown map key's value). Iterative, so deeply nested
   * hostile input cannot exhaust the call stack; every container's count is checked against
   * the remaining input (each value takes at least one byte). Like Go, which decodes skipped
   * values into `interface{}` maps, a map or extension used as a key inside them is an error.
   */
  skip(): void {
    // Open containers, innermost last: values still to read, and whether it is a map (whose
    // even-numbered values are keys).
    const left: number[] = [1];
    const isMap: boolean[] = [false];
    const done: number[] = [0];
    while (left.length > 0) {
      const top = left.length - 1;
      if (left[top] === 0) {
        left.pop();
        isMap.pop();
        done.pop();
        continue;
      }
      left[top]--;
      const asKey = isMap[top] && done[top] % 2 === 0;
      done[top]++;
      const b = this.u8('skipped value');
      let items = 0;
      let map = false;
      if (b <= 0x7f || b >= 0xe0) continue;
      if (b <= 0x8f) {
        items = 2 * (b & 0x0f);
        map = true;
      } else if (b <= 0x9f) items = b & 0x0f;
      else if (b <= 0xbf) {
        this.advance(b & 0x1f);
        continue;
      } else {
        switch (b) {
          case 0xc0:
          case 0xc2:
          case 0xc3:
            continue;
          case 0xc4:
          case 0xd9:
            this.advance(this.u8('skipped value'));
            continue;
          case 0xc5:
          case 0xda:
            this.advance(this.u16('skipped value'));
            continue;
          case 0xc6:
          case 0xdb:
            this.advance(this.u32('skipped value'));
            continue;
          case 0xcc:
          case 0xd0:
            this.advance(1);
            continue;
          case 0xcd:
          case 0xd1:
            this.advance(2);
            continue;
          case 0xca:
          case 0xce:
          case 0xd2:
            this.advance(4);
            continue;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            this.advance(8);
            continue;
          case 0xdc:
            items = this.u16('skipped array');
            break;
          case 0xdd:
            items = this.u32('skipped array');
            break;
          case 0xde:
            items = 2 * this.u16('skipped map');
            map = true;
            break;
          case 0xdf:
            items = 2 * this.u32('skipped map');
            map = true;
            break;
          case 0xc1:
            throw new CodecError('malformed', `invalid msgpack byte ${describe(b)}`);
          default: {
            // Extensions (c7–c9, d4–d8).
            if (asKey) {
              throw new CodecError('malformed', 'an extension value cannot be a map key');
            }
            const fixed = [2, 3, 5, 9, 17];
            if (b >= 0xd4) this.advance(fixed[b - 0xd4]);
            else if (b === 0xc7) this.advance(1 + this.u8('skipped ext'));
            else if (b === 0xc8) this.advance(1 + this.u16('skipped ext'));
            else this.advance(1 + this.u32('skipped ext'));
            continue;
          }
        }
      }
      if (asKey) throw new CodecError('malformed', 'a map or array cannot be a map key');
      if (items > this.end - this.pos) {
        throw new CodecError('truncated', 'input ended inside a skipped value');
      }
      left.push(items);
      isMap.push(map);
      done.push(0);
    }
  }

  private advance(n: number): void {
    this.need(n, 'skipped value');
    this.pos += n;
  }
}

const SLAB_SIZE = 8192;
const SLAB_MAX_PIECE = 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

/**
 * A zeroed byte array for an encoded message. V8 allocates typed arrays over 64 bytes outside
 * the heap at roughly ten times the cost of a small one, and encoded messages are mostly
 * 65..1024 bytes, so those are cut from a shared 8 KiB slab (as Node's Buffer pool does). A
 * piece keeps its slab alive, which is why decoded values that may be stored for long (meta,
 * payloads) are NOT allocated here.
 */
export function allocBytes(n: number): Uint8Array {
  if (n <= 64 || n > SLAB_MAX_PIECE) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  slabUsed += (n + 7) & ~7;
  return out;
}

/** `dst.set(src, at)`, by hand for the short keys and values that make up most messages. */
export function copyInto(dst: Uint8Array, at: number, src: Uint8Array): void {
  const n = src.length;
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[at + i] = src[i];
  } else {
    dst.set(src, at);
  }
}

/**
 * A fresh copy of `buf[start, end)`. `Uint8Array#slice` is slow for the few-byte copies that
 * dominate here (addresses, Vsn, whole small messages), so short ones are copied by hand.
 */
export function copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const out = new Uint8Array(n);
  if (n <= 64) {
    for (let i = 0; i < n; i++) out[i] = buf[start + i];
  } else {
    out.set(buf.subarray(start, end));
  }
  return out;
}

/** Decodes UTF-8 (Go strings are bytes; invalid sequences become U+FFFD here). */
function decodeText(buf: Uint8Array, start: number, len: number): string {
  if (len <= 32) {
    let s = '';
    for (let i = start; i < start + len; i++) {
      const c = buf[i];
      if (c > 0x7f) return utf8Decoder.decode(buf.subarray(start, start + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, start + len));
}
