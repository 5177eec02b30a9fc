import { compareGoStrings, emptyPeers } from './semantics.js';
import type { BootstrapConfig, BootstrapData, PeerRecord } from './types.js';

/*
 * The original wire formats: space-separated request bodies and the bootstrap data document as
 * Go's encoding/json writes it (MarshalIndent with two spaces, struct fields in declaration
 * order, map keys sorted, `omitempty` leaving out "" and 0, HTML-safe string escaping).
 *
 * Parsers accept every body the original client sends and refuse only what would corrupt the
 * stored document or leave a useless entry, with a BootstrapProtocolError whose one-line message
 * says what was wrong (the original answered 500 for some of these or stored garbage).
 */

/** Largest request body the service accepts. */
export const MAX_BODY_BYTES = 4096;

/** Largest value accepted for `maxpeers` / `minrefillcandidates` (fits every store's integer). */
export const MAX_CONFIG_VALUE = 2_147_483_647;
/** Smallest value accepted for `maxpeers` / `minrefillcandidates` (fits every store's integer). */
export const MIN_CONFIG_VALUE = -2_147_483_648;

/** The seven fields of a peer line, in wire order. */
export const PEER_FIELDS = ['id', 'name', 'ip', 'port', 'protocol', 'status', 'timestamp'] as const;

/** Bad input on the wire: a request body or a document that does not follow the protocol. */
export class BootstrapProtocolError extends Error {
  readonly code = 'BOOTSTRAP_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapProtocolError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a request body, enforcing the size limit and UTF-8. */
export function decodeBody(bytes: Uint8Array): string {
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new BootstrapProtocolError(`body is over ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BootstrapProtocolError('body is not valid UTF-8');
  }
}

/*
 * What the parsers check, and why (docs/bootstrap.md "Which requests are refused"): the original
 * server stored any field content, and the original client leaves `status` empty on /refill. So a
 * request is refused only when no original client sends it AND storing it would corrupt the
 * document or leave a useless entry: a field count that lets fields shift, an empty id, an empty
 * ip or a port that is no TCP/UDP port (nobody could contact the entry), a NUL character
 * (PostgreSQL cannot store it, so the stores would disagree), invalid UTF-8 (it cannot be stored
 * as sent), an oversized body. Everything else is stored as sent; values that cannot work are
 * reported by `peerHints`/`configHints` (hints.ts) for the log.
 */

const NUL = '\u0000';

/** The body without one trailing line break (shells and `curl --data-binary @file` add one). */
function withoutLineBreak(body: string): string {
  if (body.endsWith('\r\n')) return body.slice(0, -2);
  if (body.endsWith('\n')) return body.slice(0, -1);
  return body;
}

/** Splits a body into exactly `names.length` single-space-separated fields (empty ones allowed). */
function splitFields(body: string, names: readonly string[], usage: string): string[] {
  const text = withoutLineBreak(body);
  const fields = text.split(' ');
  if (text === '' || fields.length !== names.length) {
    const got = text === '' ? 0 : fields.length;
    throw new BootstrapProtocolError(
      `expected ${names.length} space-separated field${names.length === 1 ? '' : 's'} (${usage}), got ${got}`,
    );
  }
  for (let i = 0; i < fields.length; i++) {
    if (fields[i].includes(NUL)) {
      throw new BootstrapProtocolError(`field ${i + 1} (${names[i]}) contains a NUL character`);
    }
  }
  return fields;
}

function requireNonEmpty(fields: readonly string[], names: readonly string[], index: number): void {
  if (fields[index] === '') {
    throw new BootstrapProtocolError(`field ${index + 1} (${names[index]}) is empty`);
  }
}

const PEER_USAGE = 'ID NAME IP PORT PROTOCOL STATUS TIMESTAMP';

/**
 * Parses the 7-field body of `/join` and `/refill`. Checked: the field count, a non-empty id and
 * ip, a port in 1-65535. `name`, `protocol`, `status` and `timestamp` are stored as sent, also
 * empty (the original client sends an empty status on /refill).
 */
export function parsePeerLine(body: string): PeerRecord {
  const fields = splitFields(body, PEER_FIELDS, PEER_USAGE);
  requireNonEmpty(fields, PEER_FIELDS, 0);
  requireNonEmpty(fields, PEER_FIELDS, 2);
  const [id, name, ip, port, protocol, status, timestamp] = fields;
  if (!/^[0-9]+$/.test(port)) {
    throw new BootstrapProtocolError(`port ${quote(port)} is not a number`);
  }
  const portNumber = Number(port);
  if (portNumber < 1 || portNumber > 65535) {
    throw new BootstrapProtocolError(`port ${port} is out of range 1-65535`);
  }
  return { id, name, ip, port, protocol, status, timestamp };
}

/** The body of `/join` and `/refill` for a peer. */
export function formatPeerLine(peer: PeerRecord): string {
  return PEER_FIELDS.map((f) => peer[f]).join(' ');
}

/**
 * Parses the body of `/leave`: the peer id, the whole body as the original server took it. Only
 * an empty id (it names no entry) and a NUL character are refused.
 */
export function parseLeaveLine(body: string): string {
  const id = withoutLineBreak(body);
  if (id === '') throw new BootstrapProtocolError('expected the peer id (ID), got an empty body');
  if (id.includes(NUL)) throw new BootstrapProtocolError('the peer id contains a NUL character');
  return id;
}

export interface ConfigValues {
  maxpeers: number;
  minrefillcandidates: number;
}

/**
 * Parses the body of `/config`: `MAXPEERS MINREFILLCANDIDATES`, integers in the syntax Go's
 * strconv.Atoi reads. Refused: a count other than two, a value that is not an integer, or one
 * outside the 32-bit range every store holds. A negative value is stored (the original client
 * can send one); `configHints` reports that it cannot work.
 */
export function parseConfigLine(body: string): ConfigValues {
  const names = ['maxpeers', 'minrefillcandidates'];
  const fields = splitFields(body, names, 'MAXPEERS MINREFILLCANDIDATES');
  const values = fields.map((text, i) => {
    if (!/^[+-]?[0-9]+$/.test(text)) {
      throw new BootstrapProtocolError(`${names[i]} ${quote(text)} is not a number`);
    }
    const n = Number(text);
    if (n > MAX_CONFIG_VALUE || n < MIN_CONFIG_VALUE) {
      throw new BootstrapProtocolError(
        `${names[i]} ${text} is outside ${MIN_CONFIG_VALUE}..${MAX_CONFIG_VALUE}`,
      );
    }
    return n === 0 ? 0 : n; // normalise -0
  });
  return { maxpeers: values[0], minrefillcandidates: values[1] };
}

/** The body of `/config`. */
export function formatConfigLine(values: ConfigValues): string {
  return `${values.maxpeers} ${values.minrefillcandidates}`;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

// ---- The JSON document ----------------------------------------------------------------------

// Characters Go's encoder writes as they are: printable ASCII except " \ < > &.
const GO_PLAIN = /^[\u0020\u0021\u0023-\u0025\u0027-\u003b\u003d\u003f-\u005b\u005d-\u007f]*$/;
const HEX = '0123456789abcdef';

/**
 * A JSON string literal exactly as Go's encoding/json (with HTML escaping, Go ≤ 1.21) writes it.
 * An unpaired surrogate becomes U+FFFD, as Go's decoder turns a `\udXXX` escape without its
 * partner into U+FFFD before the encoder ever sees it.
 */
export function goQuote(s: string): string {
  if (GO_PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
      out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += s[i];
  }
  return `${out}"`;
}

const CONFIG_FIELDS = ['maxpeers', 'minrefillcandidates', 'numpeers'] as const;

/**
 * The bootstrap data document exactly as the original server answered it:
 * `json.MarshalIndent(data, "", "  ")`, without a trailing newline.
 */
export function formatDocument(data: BootstrapData): string {
  const config: string[] = [];
  for (const f of CONFIG_FIELDS) {
    const v = data.Config[f];
    if (v !== 0) config.push(`\n    "${f}": ${v}`);
  }
  const ids = Object.keys(data.Peers).sort(compareGoStrings);
  const peers: string[] = [];
  for (const id of ids) {
    const p = data.Peers[id];
    const fields: string[] = [];
    for (const f of PEER_FIELDS) {
      if (p[f] !== '') fields.push(`\n      "${f}": ${goQuote(p[f])}`);
    }
    peers.push(`\n    ${goQuote(id)}: ${fields.length ? `{${fields.join(',')}\n    }` : '{}'}`);
  }
  return (
    `{\n  "Config": ${config.length ? `{${config.join(',')}\n  }` : '{}'},` +
    `\n  "Peers": ${peers.length ? `{${peers.join(',')}\n  }` : '{}'}\n}`
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a bootstrap data document the way Go's json.Unmarshal fills the original structs:
 * keys match field names case-insensitively, unknown keys are ignored, omitted fields are
 * zero. Types must fit (integers for the config, strings for peer fields) or it throws.
 */
export function parseDocument(text: string): BootstrapData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 120);
    throw new BootstrapProtocolError(`document is not JSON: ${reason}`);
  }
  if (!isObject(raw)) throw new BootstrapProtocolError('document is not a JSON object');
  const Config: BootstrapConfig = { maxpeers: 0, minrefillcandidates: 0, numpeers: 0 };
  const Peers = emptyPeers();
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    const k = key.toLowerCase();
    if (k === 'config' && value !== null) {
      if (!isObject(value)) throw new BootstrapProtocolError('Config is not an object');
      for (const ck of Object.keys(value)) {
        const field = CONFIG_FIELDS.find((f) => f === ck.toLowerCase());
        if (field === undefined || value[ck] === null) continue;
        const n = value[ck];
        if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
          throw new BootstrapProtocolError(`Config.${field} is not an integer`);
        }
        Config[field] = n;
      }
    } else if (k === 'peers' && value !== null) {
      if (!isObject(value)) throw new BootstrapProtocolError('Peers is not an object');
      for (const id of Object.keys(value)) {
        const rec = value[id];
        if (!isObject(rec))
          throw new BootstrapProtocolError(`Peers[${quote(id)}] is not an object`);
        const peer: PeerRecord = {
          id: '',
          name: '',
          ip: '',
          port: '',
          protocol: '',
          status: '',
          timestamp: '',
        };
        for (const pk of Object.keys(rec)) {
          const field = PEER_FIELDS.find((f) => f === pk.toLowerCase());
          if (field === undefined || rec[pk] === null) continue;
          const s = rec[pk];
          if (typeof s !== 'string') {
            throw new BootstrapProtocolError(`Peers[${quote(id)}].${field} is not a string`);
          }
          peer[field] = s;
        }
        Peers[id] = peer;
      }
    }
  }
  return { Config, Peers };
}
