/**
 * The `compressMsg` wrapper (docs/spec/memberlist-wire.md §4.12, §5.3): `09 | msgpack {Algo: 0, Buf: LZW(message)}`
 * where the LZW input is the whole inner message including its type byte.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CodecError } from './errors.js';
import { LzwDecoder, lzwCompress, lzwDecompress } from './lzw.js';
import { MessageType, readCompress, scratchWriter, writeCompress } from './messages.js';
import { MsgpackReader } from './msgpack.js';

/** The only algorithm memberlist 0.2.2 knows. */
export const LZW_ALGO = 0;
/**
 * Default ceiling for decompressed data: the same 20 MiB Go allows for an encrypted stream.
 * Go itself has no limit here; without one a few kilobytes of LZW can claim hundreds of MB.
 */
export const MAX_DECOMPRESSED_SIZE = 20 * 1024 * 1024;
/**
 * Output decoded per slice by `decompressSliced` before it yields: about a millisecond of
 * work on an idle core (a whole 20 MiB bomb takes 15–20 ms, hundreds on a loaded machine).
 */
export const DECOMPRESS_SLICE_BYTES = 1024 * 1024;

/** Wraps a complete message (type byte included) in a compress message. */
export function compressMessage(msg: Uint8Array): Uint8Array {
  const buf = lzwCompress(msg);
  const w = scratchWriter();
  w.byte(MessageType.Compress);
  writeCompress(w, LZW_ALGO, buf);
  return w.finish();
}

/**
 * Reads one msgpack `compress` value at `r.pos` and returns its still-compressed data.
 * Throws `truncated` if the value itself is incomplete (a stream may still be arriving).
 */
export function readCompressedData(r: MsgpackReader): Uint8Array {
  const c = readCompress(r);
  if (c.algo !== LZW_ALGO) {
    throw new CodecError('bad-compression', `unknown compression algorithm ${c.algo}`);
  }
  return c.buf ?? new Uint8Array(0);
}

/**
 * Reads one msgpack `compress` value at `r.pos` and returns the decompressed inner message.
 * Throws `truncated` if the value itself is incomplete (a stream may still be arriving).
 */
export function readCompressedBody(r: MsgpackReader, maxBytes = MAX_DECOMPRESSED_SIZE): Uint8Array {
  return lzwDecompress(readCompressedData(r), maxBytes);
}

/** A first-come, first-served lock; a waiter whose signal aborts leaves the queue. */
class Turnstile {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  async enter(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!this.busy) {
      this.busy = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', giveUp);
        resolve();
      };
      const giveUp = () => {
        this.waiting.splice(this.waiting.indexOf(go), 1);
        reject(signal?.reason);
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', giveUp, { once: true });
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

/**
 * Expansions longer than one slice take turns, process-wide, and write into one buffer kept
 * for them (grown to the largest cap asked for, 20 MiB for streams). Without turns a burst of
 * bombs would hold that much each at once; without the kept buffer each would leave tens of
 * MB of grown-and-dropped buffers behind, which the allocator does not hand back promptly.
 */
const largeExpansions = new Turnstile();
let largeBuffer = new Uint8Array(0);

/**
 * Decompresses LZW data like `lzwDecompress` and hands the result to `use`, but gives the
 * event loop a turn after every `sliceBytes` of output, so expanding a large stream message
 * (up to 20 MiB, which a 15 KB bomb reaches) never holds up acks and probes for more than one
 * slice. Data that expands to at most one slice (nearly every real message) is decoded at
 * once. Longer expansions run one at a time and start over when it is their turn, so while
 * waiting they hold nothing but their compressed input.
 *
 * `use` gets a view that is only valid during the call (it may be the shared buffer): copy
 * what must be kept. Its result (or exception) is returned. `early`, if given, sees the first
 * slice of a longer expansion and may settle the matter at once by returning a result (e.g. a
 * message whose header already says it is refused), which saves the rest of the work. Once
 * `signal` aborts (the stream timed out) an expansion still waiting for its turn gives up with
 * its reason, so a queue of bombs lasts no longer than their streams' deadlines; one already
 * running finishes (its message may still be used, as it was before expansions were sliced).
 */
export async function decompressSliced<T>(
  data: Uint8Array,
  maxBytes: number,
  use: (inner: Uint8Array) => T,
  early?: (prefix: Uint8Array) => T | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const sliceBytes = DECOMPRESS_SLICE_BYTES;
  const first = new LzwDecoder(data, maxBytes, 'scratch');
  if (first.step(sliceBytes)) return use(first.view());
  const settled = early?.(first.prefix());
  if (settled !== undefined) return settled;
  await largeExpansions.enter(signal);
  try {
    if (largeBuffer.length < maxBytes) largeBuffer = new Uint8Array(maxBytes);
    const d = new LzwDecoder(data, maxBytes, largeBuffer);
    while (!d.step(sliceBytes)) await nextTurn();
    return use(d.view());
  } finally {
    largeExpansions.leave();
  }
}

/**
 * Decompresses a compress message. `buf` must START WITH the `09` type byte; bytes after the
 * msgpack value are ignored, as Go ignores them. The result is the inner message, type byte
 * first. Errors: `malformed`/`truncated` (bad wrapper), `bad-compression`, `too-large`.
 */
export function decompressMessage(buf: Uint8Array, maxBytes = MAX_DECOMPRESSED_SIZE): Uint8Array {
  if (buf.length === 0 || buf[0] !== MessageType.Compress) {
    throw new CodecError('malformed', 'not a compress message (first byte must be 0x09)');
  }
  return readCompressedBody(new MsgpackReader(buf, 1), maxBytes);
}
