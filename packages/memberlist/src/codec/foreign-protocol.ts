/**
 * Recognises a stream that is not memberlist at all, from its first bytes, so that a join
 * pointed at the wrong port fails with "the address answered with HTTP" rather than "message
 * type 72 cannot arrive on a stream". Every memberlist stream starts with a message type (0–13)
 * or a label header (244); anything else is another protocol.
 */
import { LABEL_HEADER_TYPE } from './label.js';
import { MessageType } from './messages.js';

export interface ForeignProtocol {
  /** 'HTTP', 'TLS', 'SSH', 'text' or 'unknown'. */
  protocol: 'HTTP' | 'TLS' | 'SSH' | 'text' | 'unknown';
  /** The first line when it is text (at most 60 characters), else the first bytes in hex. */
  sample: string;
}

const TLS_CONTENT_ALERT = 0x15;
const TLS_CONTENT_HANDSHAKE = 0x16;
const TLS_MAJOR_VERSION = 0x03;
const SAMPLE_CHARS = 60;
const ascii = new TextDecoder('latin1');

/** Whether `b` may start a memberlist stream (a message type, or a label header). */
export function isMemberlistStreamStart(b: number): boolean {
  return b <= MessageType.Err || b === LABEL_HEADER_TYPE;
}

/** `prefix` of `buf` equals the start of `word` (so "H" and "HTTP/1.1" both match "HTTP/"). */
function startsLike(buf: Uint8Array, word: string): boolean {
  const n = Math.min(buf.length, word.length);
  for (let i = 0; i < n; i++) if (buf[i] !== word.charCodeAt(i)) return false;
  return n > 0;
}

function isText(buf: Uint8Array): boolean {
  for (const b of buf) {
    if (b === 0x0d || b === 0x0a) return true;
    if (b !== 0x09 && (b < 0x20 || b > 0x7e)) return false;
  }
  return true;
}

/**
 * What protocol answered, or null when the first byte could start a memberlist stream. Needs
 * only the first byte to decide; more bytes make the description more precise.
 */
export function identifyForeignProtocol(buf: Uint8Array): ForeignProtocol | null {
  if (buf.length === 0 || isMemberlistStreamStart(buf[0])) return null;
  const head = buf.subarray(0, Math.min(buf.length, 256));
  const firstLine = ascii.decode(head).split(/\r?\n/)[0].slice(0, SAMPLE_CHARS);
  if (startsLike(head, 'HTTP/')) return { protocol: 'HTTP', sample: firstLine };
  if (startsLike(head, 'SSH-')) return { protocol: 'SSH', sample: firstLine };
  if (
    (head[0] === TLS_CONTENT_ALERT || head[0] === TLS_CONTENT_HANDSHAKE) &&
    (head.length < 2 || head[1] === TLS_MAJOR_VERSION)
  ) {
    return { protocol: 'TLS', sample: hex(head) };
  }
  if (isText(head)) return { protocol: 'text', sample: firstLine };
  return { protocol: 'unknown', sample: hex(head) };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 16)).toString('hex');
}

/** A plain sentence for an error: `<addr> answered with …, not memberlist: <hint>`. */
export function describeForeignProtocol(addr: string, p: ForeignProtocol): string {
  switch (p.protocol) {
    case 'HTTP':
      return `${addr} answered with HTTP (${JSON.stringify(p.sample)}), not memberlist: is that the port of a web server, such as the bootstrap service, instead of a memberlist node?`;
    case 'TLS':
      return `${addr} answered with TLS (bytes ${p.sample}), not memberlist: is that an HTTPS or other TLS port instead of a memberlist node?`;
    case 'SSH':
      return `${addr} answered with SSH (${JSON.stringify(p.sample)}), not memberlist: is that an SSH port instead of a memberlist node?`;
    case 'text':
      return `${addr} answered with text (${JSON.stringify(p.sample)}), not memberlist: is that another service's port instead of a memberlist node?`;
    default:
      return `${addr} answered with bytes that are not memberlist (${p.sample}…): is that another service's port instead of a memberlist node?`;
  }
}
