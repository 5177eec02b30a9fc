/**
 * Labels (memberlist 0.3 and later, `hasLabelMsg` = 244): a header `f4 | n | label` in front
 * of every datagram and at the start of every stream a labelled node dials, so clusters
 * sharing a network ignore each other. The label bytes are also the additional authenticated
 * data of AES-GCM (packets: the label alone; stream frames: the 5 frame bytes, then the label),
 * so an encrypted message cannot be moved to another cluster that shares the key.
 * An empty label means no header and the AAD of memberlist 0.2.2.
 */
import { CodecError } from './errors.js';

/** The type byte that starts a label header. */
export const LABEL_HEADER_TYPE = 244;
/** A label is at most this many bytes (its length travels in one byte; 0 is not allowed). */
export const LABEL_MAX_BYTES = 255;

/** Why a receiver refused a datagram or stream on account of its label. */
export type LabelRefusalReason =
  /** This node has a label and the peer sent none. */
  | 'missing'
  /** The peer sent a label other than this node's (or any label, to an unlabelled node). */
  | 'mismatch'
  /** A header arrived although `skipInboundLabelCheck` says headers are stripped beforehand. */
  | 'unexpected'
  /** The header itself is broken: cut short, or a length of 0. */
  | 'malformed';

/** A refusal by the label check (code `label`); `received` is the peer's label, null if none. */
export class LabelError extends CodecError {
  constructor(
    readonly reason: LabelRefusalReason,
    readonly received: Uint8Array | null,
    message: string,
  ) {
    super('label', message);
    this.name = 'LabelError';
  }
}

/** The receive side's settings: this node's label (empty = none) and the check mode. */
export interface LabelPolicy {
  label: Uint8Array;
  /** Go's `SkipInboundLabelCheck`: accept only unlabelled input, as if it carried `label`. */
  skipInboundCheck: boolean;
}

export const NO_LABEL: LabelPolicy = { label: new Uint8Array(0), skipInboundCheck: false };

/** Bytes the header adds to every datagram (0 without a label). */
export function labelOverhead(label: Uint8Array): number {
  return label.length === 0 ? 0 : 2 + label.length;
}

/** `f4 | n | label`, or nothing for the empty label. */
export function encodeLabelHeader(label: Uint8Array): Uint8Array {
  if (label.length > LABEL_MAX_BYTES) {
    throw new CodecError('too-large', `label of ${label.length} bytes exceeds ${LABEL_MAX_BYTES}`);
  }
  if (label.length === 0) return label;
  const out = new Uint8Array(2 + label.length);
  out[0] = LABEL_HEADER_TYPE;
  out[1] = label.length;
  out.set(label, 2);
  return out;
}

/** The header put in front of `body` (which is returned unchanged without a label). */
export function addLabelHeader(label: Uint8Array, body: Uint8Array): Uint8Array {
  if (label.length === 0) return body;
  const header = encodeLabelHeader(label);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Where the bytes after a label header start, and the label (null when there is no header). */
export interface LabelHeader {
  label: Uint8Array | null;
  length: number;
}

/**
 * Reads the label header at the start of `buf`. `complete` says no more bytes will come (a
 * datagram, or a stream the peer closed); otherwise a header cut short returns null (wait for
 * more). Throws `LabelError` (`malformed`) for a header of length 0 or one that was cut off.
 */
export function readLabelHeader(
  buf: Uint8Array,
  complete: boolean,
  what: 'packet' | 'stream',
): LabelHeader | null {
  if (buf.length === 0 || buf[0] !== LABEL_HEADER_TYPE) return { label: null, length: 0 };
  const truncated = () =>
    new LabelError('malformed', null, `cannot decode label; ${what} has been truncated`);
  if (buf.length < 2) {
    if (complete) throw truncated();
    return null;
  }
  const n = buf[1];
  if (n === 0) throw new LabelError('malformed', null, 'label header cannot be empty when present');
  if (buf.length < 2 + n) {
    if (complete) throw truncated();
    return null;
  }
  return { label: buf.slice(2, 2 + n), length: 2 + n };
}

const utf8 = new TextDecoder();

/** A label as text (invalid UTF-8 shows as U+FFFD). */
export function labelText(label: Uint8Array): string {
  return utf8.decode(label);
}

/** A label quoted for messages; none is `""`, as Go prints it. */
export function quoteLabel(label: Uint8Array | null): string {
  return JSON.stringify(label === null ? '' : labelText(label));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The receive check, in Go's order: with `skipInboundCheck` any header is refused; otherwise the
 * received label (none = empty) must equal ours byte for byte. Throws `LabelError`.
 */
export function checkInboundLabel(
  received: Uint8Array | null,
  policy: LabelPolicy,
  what: 'packet' | 'stream',
): void {
  if (policy.skipInboundCheck) {
    if (received !== null) {
      throw new LabelError(
        'unexpected',
        received,
        `unexpected ${what} label header ${quoteLabel(received)}: with skipInboundLabelCheck labels must be removed before memberlist sees the bytes`,
      );
    }
    return;
  }
  if (sameBytes(received ?? NO_LABEL.label, policy.label)) return;
  // Quoted only on refusal: this check runs for every datagram.
  const ours = quoteLabel(policy.label);
  if (received === null) {
    throw new LabelError(
      'missing',
      null,
      `${what} without a label, but this node's label is ${ours} (an unlabelled node, or memberlist 0.2.2?)`,
    );
  }
  throw new LabelError(
    'mismatch',
    received,
    policy.label.length === 0
      ? `${what} with label ${quoteLabel(received)}, but this node has no label`
      : `${what} with label ${quoteLabel(received)}, but this node's label is ${ours}`,
  );
}
