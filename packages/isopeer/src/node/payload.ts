// Application payloads of the node line protocol: `<B|R|U>|<from>|<id>|<text>`.

export type PayloadKind = 'broadcast' | 'reliable' | 'besteffort';

const LETTER: Record<PayloadKind, string> = { broadcast: 'B', reliable: 'R', besteffort: 'U' };
const KIND: Record<string, PayloadKind> = { B: 'broadcast', R: 'reliable', U: 'besteffort' };

export interface Payload {
  kind: PayloadKind;
  from: string;
  id: string;
  text: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePayload(
  kind: PayloadKind,
  from: string,
  id: number,
  text: string,
): Uint8Array {
  return encoder.encode(`${LETTER[kind]}|${from}|${id}|${text}`);
}

/** The parsed payload, or null for anything else (reported as `raw`). */
export function parsePayload(bytes: Uint8Array): Payload | null {
  const s = decoder.decode(bytes);
  const a = s.indexOf('|');
  const b = s.indexOf('|', a + 1);
  const c = s.indexOf('|', b + 1);
  if (a !== 1 || b < 0 || c < 0) return null;
  const kind = KIND[s[0]];
  const id = s.slice(b + 1, c);
  if (!kind || !/^\d+$/.test(id)) return null;
  return { kind, from: s.slice(a + 1, b), id, text: s.slice(c + 1) };
}

/** Bytes as text for `raw` reports (invalid UTF-8 becomes U+FFFD, as in the Go peer). */
export function rawText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
