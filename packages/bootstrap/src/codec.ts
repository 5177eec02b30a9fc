import { compareGoStrings, emptyPeers } from './semantics.js';
import type { BootstrapConfig, BootstrapData, PeerRecord } from './types.js';

/*
 * The original wire formats: space-separated request bodies and the bootstrap data document as
 * Go's encoding/json writes it (MarshalIndent with two spaces, struct fields in declaration
 * order, map keys sorted, `omitempty` leaving out "" and 0, HTML-safe string escaping).
 *
 * Parsers are strict where the original was careless (it answered 500 or stored garbage) and
 * throw BootstrapProtocolError with a one-line message saying what was wrong.
 */

/** Largest request body the service accepts. */
export const MAX_BODY_BYTES = 4096;

/** Largest value accepted for `maxpeers` / `minrefillcandidates` (fits every store's integer). */
export const MAX_CONFIG_VALUE = 2_147_483_647;

/** Protocols a peer may announce. */
export const PEER_PROTOCOLS: readonly string[] = ['tcp', 'udp'];

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

// Any C0 control character or DEL; fields are printable text.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Splits a body into exactly `names.length` single-space-separated, non-empty fields. One
 * trailing line break is tolerated (shells and `curl --data-binary @file` add one).
 */
function splitFields(body: string, names: readonly string[], usage: string): string[] {
  const text = body.endsWith('\r\n')
    ? body.slice(0, -2)
    : body.endsWith('\n')
      ? body.slice(0, -1)
      : body;
  const fields = text.split(' ');
  if (text === '' || fields.length !== names.length) {
    const got = text === '' ? 0 : fields.length;
    throw new BootstrapProtocolError(
      `expected ${names.length} space-separated field${names.length === 1 ? '' : 's'} (${usage}), got ${got}`,
    );
  }
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] === '') {
      throw new BootstrapProtocolError(`field ${i + 1} (${names[i]}) is empty`);
    }
    if (CONTROL.test(fields[i])) {
      throw new BootstrapProtocolError(`field ${i + 1} (${names[i]}) contains a control character`);
    }
  }
  return fields;
}

const PEER_USAGE = 'ID NAME IP PORT PROTOCOL STATUS TIMESTAMP';

/** Parses the 7-field body of `/join` and `/refill`. */
export function parsePeerLine(body: string): PeerRecord {
  const [id, name, ip, port, protocol, status, timestamp] = splitFields(
    body,
    PEER_FIELDS,
    PEER_USAGE,
  );
  if (!/^[0-9]+$/.test(port)) {
    throw new BootstrapProtocolError(`port ${quote(port)} is not a number`);
  }
  const portNumber = Number(port);
  if (portNumber < 1 || portNumber > 65535) {
    throw new BootstrapProtocolError(`port ${port} is out of range 1-65535`);
  }
  if (!PEER_PROTOCOLS.includes(protocol)) {
    throw new BootstrapProtocolError(
      `protocol ${quote(protocol)} is unknown (expected ${PEER_PROTOCOLS.join(' or ')})`,
    );
  }
  return { id, name, ip, port, protocol, status, timestamp };
}

/** The body of `/join` and `/refill` for a peer. */
export function formatPeerLine(peer: PeerRecord): string {
  return PEER_FIELDS.map((f) => peer[f]).join(' ');
}

/** Parses the body of `/leave`: one peer id. */
export function parseLeaveLine(body: string): string {
  return splitFields(body, ['id'], 'ID')[0];
}

export interface ConfigValues {
  maxpeers: number;
  minrefillcandidates: number;
}

/** Parses the body of `/config`: `MAXPEERS MINREFILLCANDIDATES`, non-negative integers. */
export function parseConfigLine(body: string): ConfigValues {
  const names = ['maxpeers', 'minrefillcandidates'];
  const fields = splitFields(body, names, 'MAXPEERS MINREFILLCANDIDATES');
  const values = fields.map((text, i) => {
    // The syntax Go's strconv.Atoi accepts (optional sign, decimal digits).
    if (!/^[+-]?[0-9]+$/.test(text)) {
      throw new BootstrapProtocolError(`${names[i]} ${quote(text)} is not a number`);
    }
    const n = Number(text);
    if (n < 0) throw new BootstrapProtocolError(`${names[i]} ${text} is negative`);
    if (n > MAX_CONFIG_VALUE) {
      throw new BootstrapProtocolError(`${names[i]} ${text} is over ${MAX_CONFIG_VALUE}`);
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
