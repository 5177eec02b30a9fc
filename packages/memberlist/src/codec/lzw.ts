/**
 * LZW exactly as Go's `compress/lzw` does it with LSB bit order and 8-bit literals (wire spec
 * §5.3): codes 0–255 literals, 256 CLEAR, 257 EOF, first dictionary code 258, widths 9..12,
 * LSB-first packing. The encoder emits the same bits as Go (CLEAR first, EOF last, a CLEAR and
 * table reset when the next code would be 4095); the decoder accepts exactly what Go's reader
 * accepts, including its behaviour once the table is full.
 */
import { CodecError } from './errors.js';

const CLEAR = 256;
const EOF = 257;
const MAX_WIDTH = 12;
/** Go resets the encoder when the next code would reach this. */
const MAX_CODE = (1 << MAX_WIDTH) - 1;
const TABLE_SIZE = 4 * (1 << MAX_WIDTH);
const TABLE_MASK = TABLE_SIZE - 1;

// Scratch state reused across calls: both functions are synchronous and never re-entered.
/** Encoder hash table: entry = key << 12 | code, where key = prefixCode << 8 | byte; 0 = empty. */
const encTable = new Uint32Array(TABLE_SIZE);
const decSuffix = new Uint8Array(1 << MAX_WIDTH);
const decPrefix = new Uint16Array(1 << MAX_WIDTH);
const decStack = new Uint8Array(1 << MAX_WIDTH);

export function lzwCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Upper bound: one 12-bit code per input byte, plus CLEARs (one per ~3800 codes), the first
  // CLEAR, the final code and EOF.
  const bound = (((n + 4 + Math.ceil(n / 3000)) * MAX_WIDTH) >> 3) + 2;
  const out = new Uint8Array(bound);
  let o = 0;
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;

  const emit = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Advances the next implied code; returns true if the table was full and was reset. */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      emit(CLEAR);
      width = 9;
      hi = EOF;
      overflow = 1 << width;
      encTable.fill(0);
      return true;
    }
    return false;
  };

  encTable.fill(0);
  emit(CLEAR);
  if (n > 0) {
    let code = input[0];
    outer: for (let i = 1; i < n; i++) {
      const lit = input[i];
      const key = (code << 8) | lit;
      const hash = ((key >>> 12) ^ key) & TABLE_MASK;
      for (let h = hash, t = encTable[hash]; t !== 0; ) {
        if (t >>> 12 === key) {
          code = t & MAX_CODE;
          continue outer;
        }
        h = (h + 1) & TABLE_MASK;
        t = encTable[h];
      }
      emit(code);
      code = lit;
      if (incHi()) continue;
      for (let h = hash; ; h = (h + 1) & TABLE_MASK) {
        if (encTable[h] === 0) {
          encTable[h] = (key << 12) | hi;
          break;
        }
      }
    }
    emit(code);
    incHi();
  }
  emit(EOF);
  if (nBits > 0) out[o++] = bits & 0xff;
  return out.slice(0, o);
}

/**
 * Decompresses a complete LZW stream. Throws `bad-compression` for an invalid code or a
 * stream that ends before its EOF code (Go rejects both), and `too-large` as soon as the
 * output would exceed `maxOutput` bytes, so a small hostile input cannot make us allocate
 * without bound.
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  const len = input.length;
  let out = new Uint8Array(Math.min(maxOutput, Math.max(64, len * 3)));
  let o = 0;
  let pos = 0;
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;

  const room = (extra: number): void => {
    const need = o + extra;
    if (need <= out.length) return;
    if (need > maxOutput) {
      throw new CodecError(
        'too-large',
        `decompressed data exceeds the limit of ${maxOutput} bytes`,
      );
    }
    let size = out.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, maxOutput));
    next.set(out.subarray(0, o));
    out = next;
  };

  for (;;) {
    while (nBits < width) {
      if (pos >= len) {
        throw new CodecError('bad-compression', 'LZW data ended before the EOF code');
      }
      bits |= input[pos++] << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      room(1);
      out[o++] = code;
      if (last >= 0) {
        decSuffix[hi] = code;
        decPrefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    } else if (code === EOF) {
      break;
    } else if (code <= hi) {
      // Expand backwards into the stack: walk the prefix chain, collecting suffix bytes.
      let i = decStack.length - 1;
      let c = code;
      if (code === hi && last >= 0) {
        // The code being defined right now: last's expansion + its own first byte.
        c = last;
        while (c >= CLEAR) c = decPrefix[c];
        decStack[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        decStack[i--] = decSuffix[c];
        c = decPrefix[c];
      }
      decStack[i] = c;
      room(decStack.length - i);
      for (; i < decStack.length; i++) out[o++] = decStack[i];
      if (last >= 0) {
        decSuffix[hi] = c;
        decPrefix[hi] = last;
      }
    } else {
      throw new CodecError('bad-compression', `invalid LZW code ${code} (next code is ${hi})`);
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        // Table full: Go stops adding entries until the next CLEAR.
        last = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
  return out.slice(0, o);
}
