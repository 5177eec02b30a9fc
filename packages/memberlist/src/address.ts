// Addresses: `host:port` / `[ipv6]:port` strings, the raw 4/16-byte IP form carried in alive
// messages, and choosing the address to advertise when bound to a wildcard.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** An invalid address string (code `ERR_ADDRESS`). */
export class AddressError extends Error {
  readonly code = 'ERR_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** Formats `host:port`, bracketing IPv6 literals. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parses `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; a bare IPv6 literal without brackets
 * is accepted as a host. `defaultPort` fills a missing port.
 */
export function parseHostPort(s: string, defaultPort: number): HostPort {
  const text = s.trim();
  if (text.length === 0) throw new AddressError('empty address');
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new AddressError(`missing ']' in address ${JSON.stringify(s)}`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':'))
        throw new AddressError(`unexpected text after ']' in ${JSON.stringify(s)}`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) throw new AddressError(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 0) host = text;
    else if (colons === 1) {
      const i = text.indexOf(':');
      host = text.slice(0, i);
      portText = text.slice(i + 1);
    } else if (isIP(text) === 6) host = text;
    else
      throw new AddressError(
        `ambiguous address ${JSON.stringify(s)}: bracket IPv6 hosts, e.g. [::1]:7946`,
      );
  }
  if (host.length === 0) throw new AddressError(`missing host in ${JSON.stringify(s)}`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new AddressError(`bad port ${JSON.stringify(portText)} in ${JSON.stringify(s)}`);
    }
    port = Number(portText);
  }
  return { host, port };
}

/** The raw bytes of an IP literal: 4 bytes for IPv4, 16 for IPv6. */
export function ipToBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v !== 6) throw new AddressError(`${JSON.stringify(ip)} is not an IP address`);
  let text = ip;
  const out = new Uint8Array(16);
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) fills the last four bytes.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let tailBytes: number[] = [];
  if (tail.includes('.')) {
    tailBytes = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const restParts = rest ? rest.split(':') : [];
  const groups: number[] = headParts.map((h) => Number.parseInt(h, 16));
  if (rest !== undefined) {
    const zeros = 8 - headParts.length - restParts.length;
    for (let i = 0; i < zeros; i++) groups.push(0);
  }
  for (const r of restParts) groups.push(Number.parseInt(r, 16));
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (groups[i] >> 8) & 0xff;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  if (tailBytes.length === 4) out.set(tailBytes, 12);
  return out;
}

/**
 * The IP string for 4 or 16 raw bytes. IPv4-mapped 16-byte forms (::ffff:a.b.c.d, which Go
 * peers bound to 0.0.0.0 advertise) become the dotted IPv4 string, since that is what a socket
 * needs to reach them. Returns null for any other length.
 */
export function bytesToIp(b: Uint8Array): string | null {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return null;
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) mapped = false;
  if (mapped && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  // Compress the longest run of zero groups (RFC 5952) for a readable, canonical form.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const left = groups.slice(0, bestStart).join(':');
  const right = groups.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

function isPrivateOrLoopbackV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * The address to advertise for a node bound to `bindAddr`: the bind address itself unless it is
 * a wildcard, in which case (like Go) the first private IPv4 address of an interface, else the
 * loopback address. `advertiseAddr`, when given, wins.
 */
export function chooseAdvertiseAddr(bindAddr: string, advertiseAddr: string): string {
  if (advertiseAddr) {
    if (isIP(advertiseAddr) === 0) {
      throw new AddressError(`advertiseAddr ${JSON.stringify(advertiseAddr)} is not an IP address`);
    }
    return advertiseAddr;
  }
  if (bindAddr !== '0.0.0.0' && bindAddr !== '::' && bindAddr !== '') return bindAddr;
  const candidates: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && isPrivateOrLoopbackV4(a.address)) {
        candidates.push(a.address);
      }
    }
  }
  if (candidates.length > 0) return candidates[0];
  return bindAddr === '::' ? '::1' : '127.0.0.1';
}

/** An address range: the first `bits` bits of `bytes` (4 or 16 bytes). */
export interface Cidr {
  bytes: Uint8Array;
  bits: number;
}

/** Parses `a.b.c.d/n`, `ipv6/n` or a bare IP (a single address). */
export function parseCidr(text: string): Cidr {
  const [ip, bitsText, extra] = text.split('/');
  if (extra !== undefined) throw new AddressError(`bad CIDR ${JSON.stringify(text)}`);
  const bytes = ipToBytes(ip);
  const bits = bitsText === undefined ? bytes.length * 8 : Number(bitsText);
  if (!/^\d+$/.test(bitsText ?? '0') || bits > bytes.length * 8) {
    throw new AddressError(`bad prefix length in CIDR ${JSON.stringify(text)}`);
  }
  return { bytes, bits };
}

/** Whether raw address bytes fall in the range (IPv4 ranges also match IPv4-mapped forms). */
export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  let a = addr;
  if (c.bytes.length === 4 && a.length === 16) a = a.subarray(12);
  if (a.length !== c.bytes.length) return false;
  for (let bit = 0; bit < c.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((a[bit >> 3] & mask) !== (c.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}
