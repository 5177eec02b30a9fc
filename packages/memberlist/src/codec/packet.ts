/**
 * The UDP pipeline (docs/spec/memberlist-wire.md §5.1). Sending: [compress if smaller] → [CRC] → [encrypt, AAD =
 * label] → [label header]. Receiving: [strip and check the label] → [decrypt] → [verify/strip
 * CRC] → dispatch, where compound and compress layers nest (`unpackMessages`).
 */
import { splitCompound } from './compound.js';
import { compressMessage, decompressMessage, MAX_DECOMPRESSED_SIZE } from './compress.js';
import { addCrc, stripCrc } from './crc.js';
import { decryptPayload, type EncryptionVersion, encryptPayload } from './encryption.js';
import { CodecError, type CodecErrorCode } from './errors.js';
import type { Keyring } from './keyring.js';
import {
  addLabelHeader,
  checkInboundLabel,
  type LabelPolicy,
  NO_LABEL,
  readLabelHeader,
} from './label.js';
import { decodeMessage, MessageType, type PacketMessage } from './messages.js';

export interface EncodePacketOptions {
  /** Compress with LZW, kept only if strictly smaller (as Go does on UDP). */
  compress: boolean;
  /** Prepend the CRC layer (Go does so for destinations advertising PMax ≥ 5). */
  crc: boolean;
  keyring?: Keyring;
  /** Seal with the keyring's primary key (Go: keyring present and GossipVerifyOutgoing). */
  encrypt: boolean;
  /** 1 for protocol ≥ 2, 0 for protocol 1. */
  encryptionVersion: EncryptionVersion;
  /** This node's label: the GCM additional data and the header in front (none when empty). */
  label?: Uint8Array;
  /** Fixed nonce, ONLY to reproduce test vectors; real traffic uses a random one per message. */
  nonce?: Uint8Array;
}

export interface DecodePacketOptions {
  keyring?: Keyring;
  /** When true, a datagram no key can open is dropped; when false it is tried as plaintext. */
  verifyIncoming: boolean;
  /** This node's label and check mode; default: no label, checked (what Go ≥ 0.3 does). */
  labelPolicy?: LabelPolicy;
}

/** Applies the send-side layers to a complete message (which may already be a compound). */
export function encodePacket(msg: Uint8Array, opts: EncodePacketOptions): Uint8Array {
  let buf = msg;
  if (opts.compress) {
    const c = compressMessage(msg);
    if (c.length < msg.length) buf = c;
  }
  if (opts.crc) buf = addCrc(buf);
  if (opts.encrypt) {
    if (!opts.keyring) throw new CodecError('policy', 'encryption requested but no keyring given');
    buf = encryptPayload(
      opts.encryptionVersion,
      opts.keyring.primaryKey,
      buf,
      opts.label,
      opts.nonce,
    );
  }
  return opts.label ? addLabelHeader(opts.label, buf) : buf;
}

/**
 * Removes the receive-side outer layers of one datagram and returns the plaintext message to
 * dispatch (still possibly compound/compressed; see `unpackMessages`). The label is checked
 * before anything else is looked at; a refusal throws `LabelError`.
 */
export function decodePacket(datagram: Uint8Array, opts: DecodePacketOptions): Uint8Array {
  if (datagram.length === 0) throw new CodecError('truncated', 'empty datagram');
  const policy = opts.labelPolicy ?? NO_LABEL;
  const header = readLabelHeader(datagram, true, 'packet')!;
  checkInboundLabel(header.label, policy, 'packet');
  const body = datagram.subarray(header.length);
  if (body.length === 0) throw new CodecError('truncated', 'label header with no message after it');
  let plain = body;
  if (opts.keyring) {
    try {
      // Accepted means the label is ours (or assumed ours), which the sender sealed with.
      plain = decryptPayload(opts.keyring, body, policy.label);
    } catch (e) {
      // Rolling encryption out across a live cluster: with verification off, unencrypted
      // datagrams from not-yet-upgraded nodes are still accepted.
      if (opts.verifyIncoming || !(e instanceof CodecError)) throw e;
    }
  }
  const msg = stripCrc(plain);
  if (msg.length === 0) throw new CodecError('truncated', 'CRC header with no message after it');
  return msg;
}

export interface UnpackOptions {
  /** How deeply compound/compress layers may nest (a real sender uses at most 2). */
  maxDepth?: number;
  /** Total decompressed bytes allowed for the whole datagram. */
  maxDecompressedBytes?: number;
}

export interface UnpackResult {
  messages: PacketMessage[];
  /** One entry per part that could not be used; its siblings are unaffected. */
  dropped: Array<{ code: CodecErrorCode; message: string }>;
}

export const DEFAULT_MAX_NESTING = 8;

/**
 * Expands compound and compress layers recursively and decodes every message, collecting
 * per-part failures instead of throwing: one bad part never hides its siblings.
 */
export function unpackMessages(plain: Uint8Array, opts: UnpackOptions = {}): UnpackResult {
  const result: UnpackResult = { messages: [], dropped: [] };
  const state = {
    maxDepth: opts.maxDepth ?? DEFAULT_MAX_NESTING,
    budget: opts.maxDecompressedBytes ?? MAX_DECOMPRESSED_SIZE,
  };
  unpackInto(plain, 0, state, result);
  return result;
}

function unpackInto(
  buf: Uint8Array,
  depth: number,
  state: { maxDepth: number; budget: number },
  result: UnpackResult,
): void {
  try {
    if (buf.length === 0) throw new CodecError('truncated', 'empty message');
    const type = buf[0];
    if (type === MessageType.Compound || type === MessageType.Compress) {
      if (depth >= state.maxDepth) {
        throw new CodecError('too-large', `messages nested deeper than ${state.maxDepth} layers`);
      }
      if (type === MessageType.Compound) {
        const split = splitCompound(buf);
        for (const part of split.parts) unpackInto(part, depth + 1, state, result);
        if (split.truncated > 0) {
          result.dropped.push({
            code: 'truncated',
            message: `${split.truncated} compound part(s) missing from the datagram`,
          });
        }
        if (split.empty > 0) {
          result.dropped.push({
            code: 'malformed',
            message: `${split.empty} empty compound part(s)`,
          });
        }
      } else {
        let inner: Uint8Array;
        try {
          inner = decompressMessage(buf, state.budget);
        } catch (e) {
          // The failed part cost up to the whole budget already: give its siblings nothing
          // more, or 127 bombs in one compound would cost 127 budgets.
          state.budget = 0;
          throw e;
        }
        state.budget -= inner.length;
        unpackInto(inner, depth + 1, state, result);
      }
      return;
    }
    result.messages.push(decodeMessage(buf));
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    result.dropped.push({ code: e.code, message: e.message });
  }
}
