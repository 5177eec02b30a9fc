/**
 * Fuzz harness shared by the bounded fuzz test and the long-running `fuzz/run.mjs`: the
 * decoders under test, seeds taken from the Go vectors and captures, and a mutator.
 *
 * Oracle: every input either decodes or throws a `CodecError` with a known code and a message.
 * Any other exception is a crash. Results are also checked against the input size, so a
 * decoder that builds more than the input can justify (outside decompression, which has its
 * own cap) is caught.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  addCrc,
  CodecError,
  compressMessage,
  decodeMessage,
  decodePacket,
  decompressMessage,
  decryptPayload,
  encodeMessage,
  encodeStreamMessage,
  encryptPayload,
  Keyring,
  LABEL_HEADER_TYPE,
  lzwDecompress,
  MessageType,
  MsgpackReader,
  readCompress,
  readLabelHeader,
  splitCompound,
  stripCrc,
  tryParseStreamMessage,
  unpackMessages,
} from '../src/codec/index.js';
import { captureKey, loadVectors, loadWireCaptures } from './codec-fixtures.js';
import { loadLabelCaptures, TEAM1 } from './label-fixtures.js';

/** Caps used while fuzzing: small, so hostile inputs are cheap and over-allocation is visible. */
export const FUZZ_MAX_BYTES = 1 << 20;

const CODES = new Set([
  'truncated',
  'malformed',
  'unknown-type',
  'crc-mismatch',
  'decrypt-failed',
  'too-large',
  'bad-compression',
  'policy',
  'label',
]);

const KEY = captureKey();
const KEYRING = new Keyring([new Uint8Array(32).fill(9), KEY]);
const NONCE = new Uint8Array(12).fill(3);

export interface FuzzTarget {
  name: string;
  /** Runs the decoder; throws CodecError for rejected input. */
  run(input: Uint8Array): void;
  /** Seeds this decoder gets most of its inputs from (the rest come from all seeds). */
  pool?: (seed: Uint8Array) => boolean;
}

const startsWith =
  (...types: number[]) =>
  (s: Uint8Array): boolean =>
    s.length > 0 && types.includes(s[0]);
/** Seeds whose first byte is a packet-dispatchable message type. */
const PACKET_TYPES = [0, 1, 2, 3, 4, 5, 8, 11];
const STREAM_TYPES = [0, 2, 6, 8, 9, 10, 13];

function assertBounded(what: string, size: number, input: Uint8Array, cap = input.length): void {
  if (size > cap) {
    throw new Error(`${what}: produced ${size} bytes/items from a ${input.length}-byte input`);
  }
}

function totalPayload(m: ReturnType<typeof decodeMessage>): number {
  if (m.type === MessageType.User) return m.payload.length;
  let n = 0;
  for (const v of Object.values(m.body)) if (v instanceof Uint8Array) n += v.length;
  return n;
}

/** decodeMessage, plus: whatever decodes must re-encode to something that decodes the same. */
function messageRoundTrip(input: Uint8Array): void {
  const m = decodeMessage(input);
  assertBounded('decodeMessage', totalPayload(m), input);
  let again: Uint8Array;
  try {
    again = encodeMessage(m);
  } catch (e) {
    // Values Go would accept but we refuse to send (e.g. a short Vsn) are fine.
    if (e instanceof CodecError) return;
    throw e;
  }
  const back = decodeMessage(again);
  if (!isDeepStrictEqual(back, m))
    throw new Error('decode(encode(decode(x))) differs from decode(x)');
}

function unpack(plain: Uint8Array): void {
  const r = unpackMessages(plain, { maxDecompressedBytes: FUZZ_MAX_BYTES });
  for (const d of r.dropped) {
    if (!CODES.has(d.code) || d.message.length === 0) throw new Error(`bad drop record ${d.code}`);
  }
}

function parseStream(
  input: Uint8Array,
  keyring: Keyring | undefined,
  verifyIncoming: boolean,
): void {
  const r = tryParseStreamMessage(input, { keyring, verifyIncoming, maxBytes: FUZZ_MAX_BYTES });
  if (r === null) return;
  if (r.consumed <= 0 || r.consumed > input.length) {
    throw new Error(`stream parser consumed ${r.consumed} of ${input.length} bytes`);
  }
  if (r.message.type === 'pushPull') {
    // Decompressed bodies may legitimately be larger than the input; the cap still holds.
    assertBounded('push/pull nodes', r.message.nodes.length, input, FUZZ_MAX_BYTES);
    if (input[0] === MessageType.PushPull)
      assertBounded('push/pull nodes', r.message.nodes.length, input);
  }
}

export const TARGETS: FuzzTarget[] = [
  { name: 'message', run: messageRoundTrip, pool: startsWith(...PACKET_TYPES) },
  {
    name: 'packet-plain',
    run: (input) => unpack(decodePacket(input, { verifyIncoming: false })),
  },
  {
    name: 'packet-keyed-fallback',
    run: (input) => unpack(decodePacket(input, { keyring: KEYRING, verifyIncoming: false })),
  },
  {
    // The input becomes the plaintext of a valid encrypted datagram with a valid CRC, so the
    // fuzzer reaches the layers behind authentication.
    name: 'packet-encrypted',
    pool: startsWith(...PACKET_TYPES, 7, 9),
    run: (input) => {
      const wire = encryptPayload(input[0] & 1 ? 1 : 0, KEY, addCrc(input), undefined, NONCE);
      unpack(decodePacket(wire, { keyring: KEYRING, verifyIncoming: true }));
    },
  },
  {
    name: 'encrypted-blob',
    pool: startsWith(0, 1, 10),
    run: (input) => {
      const out = decryptPayload(KEYRING, input);
      assertBounded('decryptPayload', out.length, input);
    },
  },
  {
    name: 'compound',
    pool: (seed) => seed.length > 2 && seed[0] <= 127 && seed.length >= 1 + 2 * seed[0],
    run: (input) => {
      const c = new Uint8Array(input.length + 1);
      c[0] = MessageType.Compound;
      c.set(input, 1);
      const s = splitCompound(c);
      assertBounded('compound parts', s.parts.length + s.truncated + s.empty, input, 255);
      unpack(c);
    },
  },
  {
    name: 'compressed',
    pool: startsWith(0x82),
    run: (input) => {
      const c = new Uint8Array(input.length + 1);
      c[0] = MessageType.Compress;
      c.set(input, 1);
      decompressMessage(c, FUZZ_MAX_BYTES);
    },
  },
  {
    name: 'lzw',
    pool: (seed) => seed.length > 1 && seed[0] === 0 && (seed[1] & 1) === 1,
    run: (input) => void lzwDecompress(input, FUZZ_MAX_BYTES),
  },
  {
    name: 'stream-plain',
    pool: startsWith(...STREAM_TYPES),
    run: (input) => parseStream(input, undefined, false),
  },
  {
    name: 'stream-keyed',
    pool: startsWith(...STREAM_TYPES),
    run: (input) => parseStream(input, KEYRING, false),
  },
  {
    name: 'stream-encrypted-frame',
    pool: startsWith(...STREAM_TYPES),
    run: (input) => {
      const frame = encodeStreamMessage(input, {
        compress: false,
        keyring: KEYRING,
        encrypt: true,
        encryptionVersion: input[0] & 1 ? 1 : 0,
        nonce: NONCE,
      });
      parseStream(frame, KEYRING, true);
    },
  },
  {
    name: 'stream-compressed',
    pool: startsWith(0, 2, 6, 8, 13),
    run: (input) => parseStream(compressMessage(input), undefined, false),
  },
  {
    name: 'push-pull',
    pool: startsWith(0x83, 0x87),
    run: (input) => {
      const c = new Uint8Array(input.length + 1);
      c[0] = MessageType.PushPull;
      c.set(input, 1);
      parseStream(c, undefined, false);
    },
  },
  {
    // Labelled datagrams (memberlist ≥ 0.3) through the whole receive path, as team1.
    name: 'packet-labelled',
    pool: startsWith(LABEL_HEADER_TYPE),
    run: (input) =>
      unpack(
        decodePacket(input, {
          keyring: KEYRING,
          verifyIncoming: false,
          labelPolicy: { label: TEAM1, skipInboundCheck: input.length % 2 === 1 },
        }),
      ),
  },
  {
    name: 'stream-label-header',
    pool: startsWith(LABEL_HEADER_TYPE),
    run: (input) => {
      const h = readLabelHeader(input, input.length % 2 === 1, 'stream');
      if (h && (h.length > input.length || (h.label?.length ?? 0) > 255)) {
        throw new Error(`label header of ${h.length} bytes from ${input.length}`);
      }
    },
  },
  {
    name: 'msgpack-skip',
    run: (input) => {
      const r = new MsgpackReader(input);
      r.skip();
      if (r.pos > input.length) throw new Error('skip ran past the input');
    },
  },
];

export type Outcome = { ok: true; code?: string } | { ok: false; error: unknown };

/** Runs one input; a CodecError is a normal rejection, anything else a crash. */
export function runTarget(t: FuzzTarget, input: Uint8Array): Outcome {
  try {
    t.run(input);
    return { ok: true };
  } catch (e) {
    if (e instanceof CodecError && CODES.has(e.code) && e.message.length > 0) {
      return { ok: true, code: e.code };
    }
    return { ok: false, error: e };
  }
}

/**
 * Every layer of a seed that can be opened with the capture key: decrypted datagrams and
 * stream frames, CRC-stripped, compound parts, decompressed messages and raw LZW data.
 */
function peel(buf: Uint8Array, out: Uint8Array[], depth = 0): void {
  out.push(buf);
  if (depth > 6 || buf.length === 0) return;
  const layers: Array<() => Uint8Array[]> = [
    () => [decryptPayload([KEY], buf)],
    () =>
      buf[0] === MessageType.Encrypt
        ? [decryptPayload([KEY], buf.subarray(5), buf.subarray(0, 5))]
        : [],
    // Labelled captures are sealed with the label (team1) as, or at the end of, the AAD.
    () => [decryptPayload([KEY], buf, TEAM1)],
    () =>
      buf[0] === MessageType.Encrypt
        ? [decryptPayload([KEY], buf.subarray(5), Buffer.concat([buf.subarray(0, 5), TEAM1]))]
        : [],
    () => (buf[0] === MessageType.HasCrc ? [stripCrc(buf)] : []),
    () => (buf[0] === MessageType.Compound ? splitCompound(buf).parts : []),
    () => {
      if (buf[0] !== MessageType.Compress) return [];
      const c = readCompress(new MsgpackReader(buf, 1));
      return [decompressMessage(buf), ...(c.buf ? [c.buf] : [])];
    },
  ];
  for (const layer of layers) {
    let inner: Uint8Array[] = [];
    try {
      inner = layer();
    } catch {
      // Not this layer.
    }
    for (const x of inner) peel(x, out, depth + 1);
  }
}

/** Seeds: every Go vector and capture, every layer inside them, and their bodies alone. */
export function loadSeeds(): Uint8Array[] {
  const raw: Uint8Array[] = Object.values(loadVectors());
  for (const c of [...loadWireCaptures(), ...loadLabelCaptures()]) {
    raw.push(c.bytes);
    if (c.response) raw.push(c.response.bytes);
    // What follows a label header, so the other targets see labelled traffic's layers too.
    const h = readLabelHeader(c.bytes, true, 'packet');
    if (h?.label) raw.push(c.bytes.subarray(h.length));
  }
  const seeds: Uint8Array[] = [];
  for (const r of raw) peel(r, seeds);
  // Body-only forms (without the type byte) for the targets that prepend one.
  const n = seeds.length;
  for (let i = 0; i < n; i++) if (seeds[i].length > 1) seeds.push(seeds[i].subarray(1));
  const unique = new Map(seeds.map((x) => [Buffer.from(x).toString('hex'), x]));
  return [...unique.values()];
}

/** Per target, the seeds of its pool (all seeds if none match). */
export function seedPools(seeds: Uint8Array[]): Map<string, Uint8Array[]> {
  return new Map(
    TARGETS.map((t) => {
      const pool = t.pool ? seeds.filter(t.pool) : seeds;
      return [t.name, pool.length > 0 ? pool : seeds];
    }),
  );
}

/** xorshift32: tiny, fast and reproducible from one seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

/** Bytes that mean something to msgpack and the framing layers. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
  0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0,
  0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];
const INTERESTING_32 = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** Applies 1..8 random mutations to a copy of `seed` (sometimes spliced with `other`). */
export function mutate(seed: Uint8Array, other: Uint8Array, rng: Rng): Uint8Array {
  let b = Array.from(seed);
  const ops = 1 + rng.below(8);
  for (let k = 0; k < ops; k++) {
    const at = rng.below(b.length + 1);
    switch (rng.below(10)) {
      case 0:
        if (b.length) b[rng.below(b.length)] ^= 1 << rng.below(8);
        break;
      case 1:
        if (b.length)
          b[rng.below(b.length)] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.length)];
        break;
      case 2:
        if (b.length) b[rng.below(b.length)] = rng.below(256);
        break;
      case 3:
        b.splice(at, 0, ...Array.from({ length: 1 + rng.below(4) }, () => rng.below(256)));
        break;
      case 4:
        b.splice(at, 1 + rng.below(Math.max(1, b.length >> 2)));
        break;
      case 5:
        b = b.slice(0, rng.below(b.length + 1));
        break;
      case 6: {
        // Overwrite with a big-endian 16- or 32-bit boundary value (lengths, counts).
        const v = INTERESTING_32[rng.below(INTERESTING_32.length)] + (rng.below(3) - 1);
        const width = rng.below(2) ? 2 : 4;
        for (let i = 0; i < width && at + i < b.length; i++) {
          b[at + i] = (v >>> (8 * (width - 1 - i))) & 0xff;
        }
        break;
      }
      case 7: {
        const from = rng.below(other.length + 1);
        b.splice(at, 0, ...other.subarray(from, from + 1 + rng.below(32)));
        break;
      }
      case 8: {
        // Duplicate a run (repeated keys, repeated parts).
        const from = rng.below(b.length + 1);
        b.splice(at, 0, ...b.slice(from, from + 1 + rng.below(16)));
        break;
      }
      default:
        if (b.length > 1) b = b.slice(rng.below(b.length));
    }
  }
  // Half the time keep the seed's type byte, so mutants get past dispatch into the bodies.
  if (b.length > 0 && seed.length > 0 && rng.below(2) === 0) b[0] = seed[0];
  return Uint8Array.from(b.slice(0, 65536));
}
