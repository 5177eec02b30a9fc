/**
 * Stream (TCP) messages (docs/spec/memberlist-wire.md §6, §7). Sending: [compress, always when enabled] →
 * [encrypted frame `0a | len | blob`, AAD = those 5 bytes followed by the label]. Receiving is
 * incremental: feed the bytes read so far to a `StreamMessageParser`, which returns null until
 * one whole message is there. The label header a dialer writes first is handled by the caller
 * (label.ts): it belongs to the connection, not to a message, and replies carry none.
 */
import {
  compressMessage,
  decompressSliced,
  MAX_DECOMPRESSED_SIZE,
  readCompressedBody,
  readCompressedData,
} from './compress.js';
import {
  decryptPayload,
  type EncryptionVersion,
  encryptedLength,
  encryptPayload,
} from './encryption.js';
import { CodecError } from './errors.js';
import type { Keyring } from './keyring.js';
import { quoteLabel } from './label.js';
import {
  type AckResp,
  MessageType,
  type Ping,
  type PushNodeState,
  readAck,
  readErr,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readUserMsgHeader,
  writeAck,
  writeErr,
  writePing,
  writePushNodeState,
  writePushPullHeader,
  writeUserMsgHeader,
} from './messages.js';
import { copyOut, MsgpackReader, MsgpackWriter } from './msgpack.js';

/** Go refuses encrypted stream frames longer than this; we also cap plaintext streams with it. */
export const MAX_STREAM_MESSAGE_SIZE = 20 * 1024 * 1024;
const FRAME_HEADER_SIZE = 5;

export type StreamMessage =
  /** `refusedStateLength`: the user state was over `maxUserBytes`, so it (null here) was not
   * copied; the node records are all there. */
  | {
      type: 'pushPull';
      join: boolean;
      nodes: PushNodeState[];
      userState: Uint8Array | null;
      refusedStateLength?: number;
    }
  /** `refusedLength`: the declared length was over `maxUserBytes`, so the payload (empty
   * here) was neither waited for nor copied. */
  | { type: 'user'; payload: Uint8Array; refusedLength?: number }
  | { type: 'ping'; body: Ping }
  | { type: 'ack'; body: AckResp }
  | { type: 'err'; error: string };

export interface EncodeStreamOptions {
  compress: boolean;
  keyring?: Keyring;
  encrypt: boolean;
  encryptionVersion: EncryptionVersion;
  /** This node's label, appended to the frame header as GCM additional data (none when empty). */
  label?: Uint8Array;
  /** Fixed nonce, ONLY to reproduce test vectors; real traffic uses a random one per message. */
  nonce?: Uint8Array;
}

export interface ParseStreamOptions {
  keyring?: Keyring;
  /** With keys installed: true refuses plaintext streams (Go replies with an error). */
  verifyIncoming: boolean;
  /** Largest message accepted, encrypted frame or plaintext (default 20 MiB). */
  maxBytes?: number;
  /** This node's label: frames are authenticated with the frame header followed by it. */
  label?: Uint8Array;
  /** Largest user message payload or push/pull user state read; a longer one is returned
   * with `refusedLength` / `refusedStateLength` and without those bytes (default: `maxBytes`). */
  maxUserBytes?: number;
}

// ---- encoders: the plaintext of each stream message ----

export interface PushPullState {
  join: boolean;
  nodes: PushNodeState[];
  /** Delegate state appended raw; null or empty means none (UserStateLen 0). */
  userState: Uint8Array | null;
}

export function encodePushPull(s: PushPullState): Uint8Array {
  const userLen = s.userState?.length ?? 0;
  const w = new MsgpackWriter(64 + s.nodes.length * 96 + userLen);
  w.byte(MessageType.PushPull);
  writePushPullHeader(w, { join: s.join, nodes: s.nodes.length, userStateLen: userLen });
  for (const n of s.nodes) writePushNodeState(w, n);
  if (userLen > 0) w.raw(s.userState!);
  return w.finish();
}

/** A reliable user message: `08 | {UserMsgLen} | payload`. */
export function encodeUserStream(payload: Uint8Array): Uint8Array {
  const w = new MsgpackWriter(24 + payload.length);
  w.byte(MessageType.User);
  writeUserMsgHeader(w, payload.length);
  w.raw(payload);
  return w.finish();
}

export function encodeErr(text: string): Uint8Array {
  const w = new MsgpackWriter(16 + text.length * 3);
  w.byte(MessageType.Err);
  writeErr(w, { error: text });
  return w.finish();
}

/** A TCP fallback ping (same bytes as the UDP ping). */
export function encodePingStream(ping: Ping): Uint8Array {
  const w = new MsgpackWriter(96);
  w.byte(MessageType.Ping);
  writePing(w, ping);
  return w.finish();
}

export function encodeAckStream(ack: AckResp): Uint8Array {
  const w = new MsgpackWriter(32 + (ack.payload?.length ?? 0));
  w.byte(MessageType.AckResp);
  writeAck(w, ack);
  return w.finish();
}

/** Applies the send-side stream layers to a complete plaintext message. */
export function encodeStreamMessage(plain: Uint8Array, opts: EncodeStreamOptions): Uint8Array {
  const msg = opts.compress ? compressMessage(plain) : plain;
  if (!opts.encrypt) return msg;
  if (!opts.keyring) throw new CodecError('policy', 'encryption requested but no keyring given');
  const blobLen = encryptedLength(opts.encryptionVersion, msg.length);
  const header = new Uint8Array(FRAME_HEADER_SIZE);
  header[0] = MessageType.Encrypt;
  new DataView(header.buffer).setUint32(1, blobLen);
  const blob = encryptPayload(
    opts.encryptionVersion,
    opts.keyring.primaryKey,
    msg,
    frameAad(header, opts.label),
    opts.nonce,
  );
  const out = new Uint8Array(FRAME_HEADER_SIZE + blob.length);
  out.set(header);
  out.set(blob, FRAME_HEADER_SIZE);
  return out;
}

/** A frame's additional authenticated data: its 5 header bytes, then the label if any. */
function frameAad(header: Uint8Array, label: Uint8Array | undefined): Uint8Array {
  if (!label || label.length === 0) return header;
  const aad = new Uint8Array(header.length + label.length);
  aad.set(header);
  aad.set(label, header.length);
  return aad;
}

// ---- incremental parser ----

/**
 * Reads one stream message from bytes that arrive piece by piece. Call `tryParse` with
 * everything received so far (the same bytes each time, plus what was added); it returns null
 * until the message is whole. A large plaintext push/pull is read incrementally: the node
 * records already read are kept between calls, so a message arriving in many chunks is parsed
 * once, not once per chunk. After a message is returned the parser starts afresh.
 */
export class StreamMessageParser {
  private readonly opts: ParseStreamOptions;
  /** A plaintext push/pull whose header and first records were read in earlier calls. */
  private pushPull: PushPullProgress | null = null;

  constructor(opts: ParseStreamOptions) {
    this.opts = opts;
  }

  /**
   * Returns null if more bytes are needed, otherwise the message and how many bytes it used.
   * Throws `CodecError` for anything a Go peer would refuse, and `too-large` rather than wait
   * for more than `maxBytes`.
   */
  tryParse(buf: Uint8Array): { consumed: number; message: StreamMessage } | null {
    try {
      const r = this.parse(buf);
      if (r) this.pushPull = null;
      return r;
    } catch (e) {
      this.pushPull = null;
      throw e;
    }
  }

  /**
   * Like `tryParse`, but a plaintext compressed message is expanded in slices with turns of
   * the event loop between them (`decompressSliced`), so one peer's 15 KB that expand to
   * 20 MiB cannot hold up acks and probes for the whole expansion. For bytes from the network;
   * `signal` (the read's deadline) abandons an expansion still waiting or running.
   */
  async tryParseAsync(
    buf: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ consumed: number; message: StreamMessage } | null> {
    if (buf.length === 0 || buf[0] !== MessageType.Compress) return this.tryParse(buf);
    const maxBytes = this.opts.maxBytes ?? MAX_STREAM_MESSAGE_SIZE;
    this.refusePlaintext();
    const r = new MsgpackReader(buf, 1);
    let data: Uint8Array;
    try {
      data = readCompressedData(r);
    } catch (e) {
      return waitForMore(e, buf, maxBytes);
    }
    const maxUser = this.opts.maxUserBytes;
    // parseDecompressed copies what it keeps, as the view is only valid during the call. A
    // user message's header comes first: one too long for us is refused without expanding it.
    const message = await decompressSliced(
      data,
      Math.min(maxBytes, MAX_DECOMPRESSED_SIZE),
      (inner) => parseDecompressed(inner, maxBytes, maxUser),
      (prefix) => {
        if (prefix[0] !== MessageType.User) return undefined;
        try {
          return parseBody(prefix, maxBytes, false, maxUser).message;
        } catch {
          return undefined; // Not refusable from its start: expand it all and see.
        }
      },
      signal,
    );
    return { consumed: r.pos, message };
  }

  private refusePlaintext(): void {
    if (this.opts.keyring && this.opts.verifyIncoming) {
      throw new CodecError('policy', 'stream is not encrypted but encryption is required');
    }
  }

  private parse(buf: Uint8Array): { consumed: number; message: StreamMessage } | null {
    const opts = this.opts;
    const maxBytes = opts.maxBytes ?? MAX_STREAM_MESSAGE_SIZE;
    if (buf.length === 0) return null;
    if (buf[0] === MessageType.Encrypt) return parseEncrypted(buf, opts, maxBytes);
    this.refusePlaintext();
    try {
      if (this.pushPull === null) {
        if (buf[0] !== MessageType.PushPull) {
          return parsePlain(buf, maxBytes, false, opts.maxUserBytes);
        }
        this.pushPull = startPushPull(new MsgpackReader(buf, 1), maxBytes, false);
      }
      return continuePushPull(buf, this.pushPull, maxBytes, opts.maxUserBytes);
    } catch (e) {
      return waitForMore(e, buf, maxBytes);
    }
  }
}

/** A `truncated` error means "wait for more bytes" (null), unless `maxBytes` already arrived. */
function waitForMore(e: unknown, buf: Uint8Array, maxBytes: number): null {
  if (e instanceof CodecError && e.code === 'truncated') {
    if (buf.length >= maxBytes) {
      throw new CodecError('too-large', `stream message exceeds ${maxBytes} bytes`);
    }
    return null;
  }
  throw e;
}

/**
 * Parses one stream message from the start of `buf` (all bytes received so far); see
 * `StreamMessageParser`, which a reader of many chunks should keep instead.
 */
export function tryParseStreamMessage(
  buf: Uint8Array,
  opts: ParseStreamOptions,
): { consumed: number; message: StreamMessage } | null {
  return new StreamMessageParser(opts).tryParse(buf);
}

/** An encrypted frame: its length prefix says whether it is all there. */
function parseEncrypted(
  buf: Uint8Array,
  opts: ParseStreamOptions,
  maxBytes: number,
): { consumed: number; message: StreamMessage } | null {
  if (!opts.keyring) {
    throw new CodecError('policy', 'stream is encrypted but no encryption keys are configured');
  }
  if (buf.length < FRAME_HEADER_SIZE) return null;
  const len = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
  if (len > maxBytes) {
    throw new CodecError('too-large', `encrypted stream frame of ${len} bytes exceeds ${maxBytes}`);
  }
  const end = FRAME_HEADER_SIZE + len;
  if (buf.length < end) return null;
  const header = buf.subarray(0, FRAME_HEADER_SIZE);
  const blob = buf.subarray(FRAME_HEADER_SIZE, end);
  let plain: Uint8Array;
  try {
    plain = decryptPayload(opts.keyring, blob, frameAad(header, opts.label));
  } catch (e) {
    throw explainLabelAad(e, opts, header, blob);
  }
  try {
    const parsed = parsePlain(plain, maxBytes, true, opts.maxUserBytes);
    return { consumed: end, message: parsed.message };
  } catch (e) {
    // The frame is complete, so an incomplete message inside it is garbage, not a wait.
    if (e instanceof CodecError && e.code === 'truncated') {
      throw new CodecError('malformed', `encrypted stream message is incomplete: ${e.message}`);
    }
    throw e;
  }
}

/**
 * A frame that a key opens only without our label in its AAD came from a node with no label
 * (memberlist 0.2.2 answers a labelled dialer that way): say so instead of "no key".
 */
function explainLabelAad(
  e: unknown,
  opts: ParseStreamOptions,
  header: Uint8Array,
  blob: Uint8Array,
): unknown {
  if (!(e instanceof CodecError) || !opts.label || opts.label.length === 0 || !opts.keyring) {
    return e;
  }
  try {
    decryptPayload(opts.keyring, blob, header);
  } catch {
    return e;
  }
  return new CodecError(
    'decrypt-failed',
    `the stream is encrypted without this node's label ${quoteLabel(opts.label)} in its authenticated data: the peer has no label (or is memberlist 0.2.2)`,
  );
}

/**
 * Parses the message at the start of `buf`. `complete` says `buf` is everything there is
 * (decrypted or decompressed), so counts the input cannot satisfy are errors rather than waits.
 */
function parsePlain(
  buf: Uint8Array,
  maxBytes: number,
  complete: boolean,
  maxUserBytes = maxBytes,
): { consumed: number; message: StreamMessage } {
  if (buf.length === 0) throw new CodecError('truncated', 'empty stream message');
  if (buf[0] === MessageType.Compress) {
    const r = new MsgpackReader(buf, 1);
    const inner = readCompressedBody(r, Math.min(maxBytes, MAX_DECOMPRESSED_SIZE));
    return { consumed: r.pos, message: parseDecompressed(inner, maxBytes, maxUserBytes) };
  }
  return parseBody(buf, maxBytes, complete, maxUserBytes);
}

/** The message inside a compress wrapper: all there is, so an incomplete one is garbage. */
function parseDecompressed(
  inner: Uint8Array,
  maxBytes: number,
  maxUserBytes = maxBytes,
): StreamMessage {
  try {
    return parseBody(inner, maxBytes, true, maxUserBytes).message;
  } catch (e) {
    if (e instanceof CodecError && e.code === 'truncated') {
      throw new CodecError('malformed', `compressed stream message is incomplete: ${e.message}`);
    }
    throw e;
  }
}

function parseBody(
  buf: Uint8Array,
  maxBytes: number,
  complete: boolean,
  maxUserBytes = maxBytes,
): { consumed: number; message: StreamMessage } {
  if (buf.length === 0) throw new CodecError('truncated', 'empty stream message');
  const type = buf[0];
  const r = new MsgpackReader(buf, 1);
  switch (type) {
    case MessageType.PushPull:
      return continuePushPull(buf, startPushPull(r, maxBytes, complete), maxBytes, maxUserBytes);
    case MessageType.User: {
      const len = readUserMsgHeader(r);
      if (len > maxUserBytes && len <= maxBytes) {
        // Not waited for nor copied: a 15 KB bomb expands to 20 MB of such a payload.
        const message = { type: 'user' as const, payload: new Uint8Array(0), refusedLength: len };
        return { consumed: r.pos, message };
      }
      const payload = readRaw(r, len, 'UserMsgLen', maxBytes);
      return { consumed: r.pos, message: { type: 'user', payload: payload ?? new Uint8Array(0) } };
    }
    case MessageType.Ping: {
      const body = readPing(r);
      return { consumed: r.pos, message: { type: 'ping', body } };
    }
    case MessageType.AckResp: {
      const body = readAck(r);
      return { consumed: r.pos, message: { type: 'ack', body } };
    }
    case MessageType.Err: {
      const error = readErr(r).error;
      return { consumed: r.pos, message: { type: 'err', error } };
    }
    default:
      throw new CodecError('unknown-type', `message type ${type} cannot arrive on a stream`);
  }
}

/** Reads `len` raw bytes after a msgpack header (user state, user payload); null for 0. */
function readRaw(
  r: MsgpackReader,
  len: number,
  field: string,
  maxBytes: number,
): Uint8Array | null {
  if (len < 0) throw new CodecError('malformed', `negative ${field} ${len}`);
  if (len > maxBytes)
    throw new CodecError('too-large', `${field} ${len} exceeds ${maxBytes} bytes`);
  if (len === 0) return null;
  if (r.remaining < len) {
    throw new CodecError('truncated', `${field} announces ${len} bytes, have ${r.remaining}`);
  }
  const out = copyOut(r.buf, r.pos, r.pos + len);
  r.pos += len;
  return out;
}

/** A push/pull being read: its header, and the records read so far up to `pos`. */
interface PushPullProgress {
  join: boolean;
  count: number;
  userStateLen: number;
  nodes: PushNodeState[];
  pos: number;
}

/** Reads and checks a push/pull header (after the type byte). */
function startPushPull(r: MsgpackReader, maxBytes: number, complete: boolean): PushPullProgress {
  const h = readPushPullHeader(r);
  if (h.nodes < 0) throw new CodecError('malformed', `negative push/pull node count ${h.nodes}`);
  if (h.userStateLen < 0) {
    throw new CodecError('malformed', `negative push/pull UserStateLen ${h.userStateLen}`);
  }
  // Every record takes at least one byte: a count the input can never hold is refused before
  // anything is allocated or looped over.
  if (h.nodes + h.userStateLen > maxBytes) {
    throw new CodecError(
      'too-large',
      `push/pull announces ${h.nodes} nodes and ${h.userStateLen} state bytes, over ${maxBytes} bytes`,
    );
  }
  if (h.nodes + h.userStateLen > r.remaining) {
    const msg = `push/pull announces ${h.nodes} nodes and ${h.userStateLen} state bytes, only ${r.remaining} bytes follow`;
    throw new CodecError(complete ? 'malformed' : 'truncated', msg);
  }
  return { join: h.join, count: h.nodes, userStateLen: h.userStateLen, nodes: [], pos: r.pos };
}

/**
 * Reads the records not read yet and the user state. A `truncated` error leaves `p` at the
 * start of the incomplete record, so a later call with more bytes carries on from there.
 */
function continuePushPull(
  buf: Uint8Array,
  p: PushPullProgress,
  maxBytes: number,
  maxUserBytes = maxBytes,
): { consumed: number; message: StreamMessage } {
  const r = new MsgpackReader(buf, p.pos);
  while (p.nodes.length < p.count) {
    p.nodes.push(readPushNodeState(r));
    p.pos = r.pos;
  }
  if (p.userStateLen > maxUserBytes) {
    const { join, nodes, userStateLen } = p;
    const message = { type: 'pushPull' as const, join, nodes, userState: null };
    return { consumed: r.pos, message: { ...message, refusedStateLength: userStateLen } };
  }
  const userState = readRaw(r, p.userStateLen, 'UserStateLen', maxBytes);
  return {
    consumed: r.pos,
    message: { type: 'pushPull', join: p.join, nodes: p.nodes, userState },
  };
}
