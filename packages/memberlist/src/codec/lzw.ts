/**
 * LZW exactly as Go's `compress/lzw` does it with LSB bit order and 8-bit literals (wire spec
 * docs/spec/memberlist-wire.md §5.3): codes 0–255 literals, 256 CLEAR, 257 EOF, first dictionary code 258, widths 9..12,
 * LSB-first packing. The encoder emits the same bits as Go (CLEAR first, EOF last, a CLEAR and
 * table reset when the next code would be 4095); the decoder accepts exactly what Go's reader
 * accepts, including its behaviour once the table is full.
 *
 * Every datagram of a node passes through here, so both directions avoid per-call and per-byte
 * allocation: the dictionaries live in preallocated typed arrays that are reused across calls,
 * and the coding loops keep their state in locals (no closures, whose captured variables V8
 * keeps in heap contexts instead of registers). `lzwCompress` and `lzwDecompress` are
 * synchronous and call no user code, so the shared scratch state can never be used by two
 * calls at once; an `LzwDecoder` run in slices (large stream messages) has tables of its own.
 */
import { CodecError } from './errors.js';

const CLEAR = 256;
const EOF = 257;
const MAX_WIDTH = 12;
/** Go resets the encoder when the next code would reach this. */
const MAX_CODE = (1 << MAX_WIDTH) - 1;

// ---- encoder dictionary ----
// Open addressing with linear probing over 4× as many slots as there are codes (load ≤ 25%).
// A slot holds `generation << 20 | prefixCode << 8 | byte`; a slot from an older generation
// counts as empty, so resetting the table (every call, every CLEAR) is one increment instead
// of clearing 16,384 slots.
const HASH_BITS = 14;
const TABLE_SIZE = 1 << HASH_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
const KEY_BITS = 20;
/** Generations fit above the 20 key bits of a positive int32. */
const MAX_GENERATION = (1 << (31 - KEY_BITS)) - 1;
const encKeys = new Int32Array(TABLE_SIZE);
const encCodes = new Uint16Array(TABLE_SIZE);
let generation = 0;

function nextGeneration(): number {
  if (generation === MAX_GENERATION) {
    encKeys.fill(0);
    generation = 0;
  }
  return ++generation;
}

// ---- output scratch ----
// Results are produced in a reused buffer and copied out at exact size, so callers own what
// they get and a later call never overwrites it. Work larger than KEEP_BYTES gets a buffer of
// its own that is handed over without a copy and not retained.
const KEEP_BYTES = 64 * 1024;
let encScratch = new Uint8Array(4096);
const decScratch = new Uint8Array(KEEP_BYTES);

/** Where each decoder code's expansion already sits in the output, and its length. */
const decPos = new Int32Array(1 << MAX_WIDTH);
const decLen = new Int32Array(1 << MAX_WIDTH);

export function lzwCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Upper bound: one 12-bit code per input byte, plus CLEARs (one per ~3800 codes), the first
  // CLEAR, the final code and EOF.
  const bound = (((n + 4 + Math.ceil(n / 3000)) * MAX_WIDTH) >> 3) + 2;
  let out: Uint8Array;
  if (bound <= KEEP_BYTES) {
    if (encScratch.length < bound) encScratch = new Uint8Array(KEEP_BYTES);
    out = encScratch;
  } else {
    out = new Uint8Array(bound);
  }
  const keys = encKeys;
  const codes = encCodes;
  let gen = nextGeneration();
  let stamp = gen << KEY_BITS;
  let o = 0;
  let bits = CLEAR; // the leading CLEAR, 9 bits wide
  let nBits = 9;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;

  if (n > 0) {
    let code = input[0];
    outer: for (let i = 1; i < n; i++) {
      const lit = input[i];
      const key = stamp | (code << 8) | lit;
      let h = Math.imul(key, 0x9e3779b1) >>> (32 - HASH_BITS);
      for (;;) {
        const k = keys[h];
        if (k === key) {
          code = codes[h];
          continue outer;
        }
        if (k >>> KEY_BITS !== gen) break;
        h = (h + 1) & TABLE_MASK;
      }
      // `code` is the longest known prefix: emit it and start again from `lit`.
      bits |= code << nBits;
      nBits += width;
      while (nBits >= 8) {
        out[o++] = bits;
        bits >>>= 8;
        nBits -= 8;
      }
      code = lit;
      hi++;
      if (hi === overflow) {
        width++;
        overflow <<= 1;
      }
      if (hi === MAX_CODE) {
        bits |= CLEAR << nBits;
        nBits += width;
        while (nBits >= 8) {
          out[o++] = bits;
          bits >>>= 8;
          nBits -= 8;
        }
        width = 9;
        hi = EOF;
        overflow = 1 << width;
        gen = nextGeneration();
        stamp = gen << KEY_BITS;
        continue;
      }
      keys[h] = key;
      codes[h] = hi;
    }
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits;
      bits >>>= 8;
      nBits -= 8;
    }
    hi++;
    if (hi === overflow) width++;
    if (hi === MAX_CODE) {
      bits |= CLEAR << nBits;
      nBits += width;
      while (nBits >= 8) {
        out[o++] = bits;
        bits >>>= 8;
        nBits -= 8;
      }
      width = 9;
    }
  }
  bits |= EOF << nBits;
  nBits += width;
  while (nBits > 0) {
    out[o++] = bits;
    bits >>>= 8;
    nBits -= 8;
  }
  return out === encScratch ? out.slice(0, o) : out.subarray(0, o);
}

/**
 * Decompresses a complete LZW stream. Throws `bad-compression` for an invalid code or a
 * stream that ends before its EOF code (Go rejects both), and `too-large` as soon as the
 * output would exceed `maxOutput` bytes, so a small hostile input cannot make us allocate
 * without bound (and the work done is bounded by the cap as well).
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  const d = new LzwDecoder(input, maxOutput, 'scratch');
  d.step(Number.POSITIVE_INFINITY);
  return d.result();
}

/**
 * An LZW decompression that can be done in slices: `step(quota)` decodes until about `quota`
 * more bytes were written (or the end), so a caller can yield to its event loop between slices
 * of a large stream instead of blocking it for the whole expansion.
 *
 * Instead of a prefix/suffix chain, each code records where its expansion was first written
 * to the output (every dictionary entry is "the previous expansion plus one byte", which sits
 * contiguously in the output), so expanding a code is one forward copy within the output.
 * The coding loop keeps its state in locals and saves it in the object between slices.
 */
export class LzwDecoder {
  private readonly pos: Int32Array;
  private readonly lens: Int32Array;
  private out: Uint8Array;
  private o = 0;
  private p = 0;
  private bits = 0;
  private nBits = 0;
  private width = 9;
  private hi = EOF;
  // The previous code's expansion; lastLen 0 = no previous code (after CLEAR or a full table).
  private lastStart = 0;
  private lastLen = 0;
  private done = false;

  /**
   * `output` says where the bytes go: `'scratch'` uses the module's scratch tables and buffer,
   * only for a decoding that is finished or abandoned within one synchronous call (nothing else
   * may use them meanwhile); a buffer is written from its start and replaced by a bigger copy
   * only if it is too small (pass one of `maxOutput` bytes to never reallocate).
   */
  constructor(
    private readonly input: Uint8Array,
    private readonly maxOutput: number,
    output: 'scratch' | Uint8Array,
  ) {
    const scratch = output === 'scratch';
    this.pos = scratch ? decPos : new Int32Array(1 << MAX_WIDTH);
    this.lens = scratch ? decLen : new Int32Array(1 << MAX_WIDTH);
    this.out = scratch ? decScratch : output.length > 0 ? output : new Uint8Array(1);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.o;
  }

  /** Decodes until `quota` more bytes were written or the EOF code; true once at the end. */
  step(quota: number): boolean {
    if (this.done) return true;
    const input = this.input;
    const len = input.length;
    const maxOutput = this.maxOutput;
    const pos = this.pos;
    const lens = this.lens;
    let out = this.out;
    let room = Math.min(out.length, maxOutput);
    let o = this.o;
    const stopAt = o + quota;
    let p = this.p;
    let bits = this.bits;
    let nBits = this.nBits;
    let width = this.width;
    let mask = (1 << width) - 1;
    let hi = this.hi;
    let overflow = 1 << width;
    let lastStart = this.lastStart;
    let lastLen = this.lastLen;
    let done = false;

    while (o < stopAt) {
      if (nBits < width) {
        if (p + 1 < len) {
          // nBits < width <= 12: 16 more bits always complete the code and fit in 31 bits.
          bits |= (input[p] | (input[p + 1] << 8)) << nBits;
          p += 2;
          nBits += 16;
        } else {
          while (nBits < width) {
            if (p >= len) {
              throw new CodecError('bad-compression', 'LZW data ended before the EOF code');
            }
            bits |= input[p++] << nBits;
            nBits += 8;
          }
        }
      }
      const code = bits & mask;
      bits >>>= width;
      nBits -= width;

      let src: number;
      let n: number;
      if (code < CLEAR) {
        src = -1;
        n = 1;
      } else if (code === CLEAR) {
        width = 9;
        mask = (1 << width) - 1;
        hi = EOF;
        overflow = 1 << width;
        lastLen = 0;
        continue;
      } else if (code === EOF) {
        done = true;
        break;
      } else if (code < hi || (code === hi && lastLen === 0)) {
        src = pos[code];
        n = lens[code];
      } else if (code === hi) {
        // The code being defined right now: the previous expansion plus its own first byte.
        src = lastStart;
        n = lastLen + 1;
      } else {
        throw new CodecError('bad-compression', `invalid LZW code ${code} (next code is ${hi})`);
      }

      const need = o + n;
      if (need > room) {
        if (need > maxOutput) {
          throw new CodecError(
            'too-large',
            `decompressed data exceeds the limit of ${maxOutput} bytes`,
          );
        }
        let size = out.length * 2;
        while (size < need) size *= 2;
        const grown = new Uint8Array(Math.min(size, maxOutput));
        grown.set(out.subarray(0, o));
        out = grown;
        room = out.length;
      }
      if (src < 0) {
        out[o] = code;
      } else if (n > 16) {
        // All but the last byte never overlap the destination; the last one may be out[o].
        out.copyWithin(o, src, src + n - 1);
        out[o + n - 1] = out[src + n - 1];
      } else {
        for (let k = 0; k < n; k++) out[o + k] = out[src + k];
      }
      if (lastLen > 0) {
        pos[hi] = lastStart;
        lens[hi] = lastLen + 1;
      }
      lastStart = o;
      lastLen = n;
      o = need;
      hi++;
      if (hi >= overflow) {
        if (width === MAX_WIDTH) {
          // Table full: Go stops adding entries until the next CLEAR.
          lastLen = 0;
          hi--;
        } else {
          width++;
          mask = (1 << width) - 1;
          overflow <<= 1;
        }
      }
    }
    this.out = out;
    this.o = o;
    this.p = p;
    this.bits = bits;
    this.nBits = nBits;
    this.width = width;
    this.hi = hi;
    this.lastStart = lastStart;
    this.lastLen = lastLen;
    this.done = done;
    return done;
  }

  /** The decompressed bytes, owned by the caller; only once `step` returned true. */
  result(): Uint8Array {
    const out = this.view();
    return this.out === decScratch ? out.slice() : out;
  }

  /** The bytes decoded so far, where they were written (valid until the next `step`). */
  prefix(): Uint8Array {
    return this.out.subarray(0, this.o);
  }

  /** The decompressed bytes where they were written (the buffer passed in, if it was big
   * enough): valid until that buffer is used again. Only once `step` returned true. */
  view(): Uint8Array {
    if (!this.done) throw new Error('LzwDecoder: the data was not decoded to its end');
    return this.out.subarray(0, this.o);
  }
}
