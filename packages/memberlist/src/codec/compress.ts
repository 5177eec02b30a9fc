/**
 * The `compressMsg` wrapper (wire spec §4.12, §5.3): `09 | msgpack {Algo: 0, Buf: LZW(message)}`
 * where the LZW input is the whole inner message including its type byte.
 */
import { CodecError } from './errors.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { MessageType, readCompress, scratchWriter, writeCompress } from './messages.js';
import { MsgpackReader } from './msgpack.js';

/** The only algorithm memberlist 0.2.2 knows. */
export const LZW_ALGO = 0;
/**
 * Default ceiling for decompressed data: the same 20 MiB Go allows for an encrypted stream.
 * Go itself has no limit here; without one a few kilobytes of LZW can claim hundreds of MB.
 */
export const MAX_DECOMPRESSED_SIZE = 20 * 1024 * 1024;

/** Wraps a complete message (type byte included) in a compress message. */
export function compressMessage(msg: Uint8Array): Uint8Array {
  const buf = lzwCompress(msg);
  const w = scratchWriter();
  w.byte(MessageType.Compress);
  writeCompress(w, LZW_ALGO, buf);
  return w.finish();
}

/**
 * Reads one msgpack `compress` value at `r.pos` and returns the decompressed inner message.
 * Throws `truncated` if the value itself is incomplete (a stream may still be arriving).
 */
export function readCompressedBody(r: MsgpackReader, maxBytes = MAX_DECOMPRESSED_SIZE): Uint8Array {
  const c = readCompress(r);
  if (c.algo !== LZW_ALGO) {
    throw new CodecError('bad-compression', `unknown compression algorithm ${c.algo}`);
  }
  return lzwDecompress(c.buf ?? new Uint8Array(0), maxBytes);
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
