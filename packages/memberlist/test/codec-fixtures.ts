/**
 * Loads the Go-produced test data kept in test/vectors/: the vectors of memberlist-0.2.2.json
 * and the captures of real Go traffic in wire/*.txt (hex plus the reference decoder's
 * layer-by-layer output, which the tests compare against).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file holding both package.json and packages/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'packages'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root above the test file');
    dir = up;
  }
}

/** The Go-produced vectors, kept in the repository (see vectors/README.md for their origin). */
export function vectorsDir(): string {
  return join(repoRoot(), 'packages', 'memberlist', 'test', 'vectors');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd-length hex: ${hex.slice(0, 40)}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function loadVectors(): Record<string, Uint8Array> {
  const raw = JSON.parse(
    readFileSync(join(vectorsDir(), 'memberlist-0.2.2.json'), 'utf8'),
  ) as Record<string, string>;
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = fromHex(v);
  return out;
}

/** A value as the reference decoder prints it: nil, bool, number, "text" or 0xhex bytes. */
export type GoValue = null | boolean | number | string | { bytes: Uint8Array };

/** What the reference decoder reported, in order, for one direction of a capture. */
export type Expected =
  | { kind: 'msg'; fields: Record<string, GoValue> }
  | { kind: 'header'; fields: Record<string, GoValue> }
  | { kind: 'node'; index: number; fields: Record<string, GoValue> }
  | { kind: 'udp-user'; payload: Uint8Array }
  | { kind: 'tcp-user'; payload: Uint8Array }
  | { kind: 'user-state'; state: Uint8Array };

export interface WireCapture {
  file: string;
  /** The capture phase: '' for the plain one, else the file name prefix that names it. */
  prefix: string;
  transport: 'udp' | 'tcp';
  bytes: Uint8Array;
  expected: Expected[];
  response?: { bytes: Uint8Array; expected: Expected[] };
  /** The AES key named by a `# key:` line, if any. */
  key?: Uint8Array;
}

function parseFields(body: string): Record<string, GoValue> {
  const fields: Record<string, GoValue> = {};
  const re = /"(\w+)": (nil|true|false|0x[0-9a-f]*|-?\d+|"(?:[^"\\]|\\.)*")/g;
  for (const m of body.matchAll(re)) {
    const v = m[2];
    let value: GoValue;
    if (v === 'nil') value = null;
    else if (v === 'true' || v === 'false') value = v === 'true';
    else if (v.startsWith('0x')) value = { bytes: fromHex(v.slice(2)) };
    else if (v.startsWith('"')) value = JSON.parse(v) as string;
    else value = Number(v);
    fields[m[1]] = value;
  }
  return fields;
}

/** The decoded values listed in one section of a capture file, in order. */
export function parseExpected(section: string): Expected[] {
  const out: Expected[] = [];
  for (const line of section.split('\n')) {
    let m = /^\s*=> header (\{.*\})\s*$/.exec(line);
    if (m) {
      out.push({ kind: 'header', fields: parseFields(m[1]) });
      continue;
    }
    m = /^\s*=> node\[(\d+)\] (\{.*\})\s*$/.exec(line);
    if (m) {
      out.push({ kind: 'node', index: Number(m[1]), fields: parseFields(m[2]) });
      continue;
    }
    m = /^\s*=> (\{.*\})\s*$/.exec(line);
    if (m) {
      out.push({ kind: 'msg', fields: parseFields(m[1]) });
      continue;
    }
    m = /user payload = rest of packet \(\d+ bytes\): ([0-9a-f]*)/.exec(line);
    if (m) {
      out.push({ kind: 'udp-user', payload: fromHex(m[1]) });
      continue;
    }
    m = /^\s*user payload \(\d+ bytes\): ([0-9a-f]*)/.exec(line);
    if (m) {
      out.push({ kind: 'tcp-user', payload: fromHex(m[1]) });
      continue;
    }
    m = /^\s*user state \(\d+ bytes[^)]*\): (".*")\s*$/.exec(line);
    if (m) out.push({ kind: 'user-state', state: new TextEncoder().encode(JSON.parse(m[1])) });
  }
  return out;
}

export function loadWireCaptures(): WireCapture[] {
  return loadCaptures(join(vectorsDir(), 'wire'), ['nocomp-', 'encv0-', 'enc-']);
}

/** Every `*.txt` capture in `dir`; `prefixes` (longest match first) name the phases. */
export function loadCaptures(dir: string, prefixes: string[]): WireCapture[] {
  const out: WireCapture[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.txt')) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const prefix = prefixes.find((p) => file.startsWith(p)) ?? '';
    const transport = file.includes('-tcp-') || file.startsWith('tcp-') ? 'tcp' : 'udp';
    const cut = text.search(/^## response:/m);
    const request = cut < 0 ? text : text.slice(0, cut);
    const response = cut < 0 ? undefined : text.slice(cut);
    const hexOf = (s: string): Uint8Array => {
      const m = /^hex: ([0-9a-f]*)\s*$/m.exec(s);
      if (!m) throw new Error(`${file}: no hex line`);
      return fromHex(m[1]);
    };
    const capture: WireCapture = {
      file,
      prefix,
      transport,
      bytes: hexOf(request),
      expected: parseExpected(request),
    };
    if (response !== undefined) {
      capture.response = { bytes: hexOf(response), expected: parseExpected(response) };
    }
    const key = /^# key: (\S+)\s*$/m.exec(request)?.[1];
    if (key !== undefined) capture.key = Uint8Array.from(Buffer.from(key, 'base64'));
    out.push(capture);
  }
  return out;
}

/** The key of the `enc-` and `encv0-` captures: bytes 00..0f (`AAECAwQFBgcICQoLDA0ODw==`). */
export function captureKey(): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => i);
}
