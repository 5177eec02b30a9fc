import { NetnsError } from './exec.js';

/**
 * The address plan of the namespace network. The whole range (default 198.18.0.0/15, the RFC 2544
 * benchmarking range no real network uses) is cut into blocks of /24, one per concurrent run, so
 * several runners on one machine never share a subnet. In a block, .1 is the host side (test
 * server and bootstrap service) and .2 onwards are the peers, in the script's order.
 */
export const DEFAULT_RANGE = '198.18.0.0/15';
/** Prefix length of one run's block (or the range's own, when the range is smaller). */
const BLOCK_PREFIX = 24;

export interface AddressRange {
  /** The range as given, normalised, e.g. `198.18.0.0/15`. */
  text: string;
  base: number;
  prefix: number;
  /** Number of blocks, i.e. of runs that can hold a block at once. */
  blocks: number;
  blockPrefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) {
    throw new NetnsError(`${JSON.stringify(ip)} is not an IPv4 address`);
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Reads `A.B.C.D/N` (IPv4, N from 8 to 29: room for the host and at least five peers). */
export function parseRange(text: string): AddressRange {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new NetnsError(`address range ${JSON.stringify(text)}: expected A.B.C.D/N`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 29) {
    throw new NetnsError(
      `address range ${text}: the prefix must be from /8 to /29, got /${prefix}`,
    );
  }
  const addr = ipToInt(m[1]);
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const base = (addr & mask) >>> 0;
  if (base !== addr) {
    throw new NetnsError(
      `address range ${text}: host bits are set; did you mean ${intToIp(base)}/${prefix}?`,
    );
  }
  const blockPrefix = Math.max(prefix, BLOCK_PREFIX);
  return {
    text: `${intToIp(base)}/${prefix}`,
    base,
    prefix,
    blocks: 2 ** (blockPrefix - prefix),
    blockPrefix,
  };
}

/** The addresses of one block: its subnet, the host side, and the peers' addresses. */
export interface Block {
  index: number;
  /** e.g. `198.18.3.0/24` */
  subnet: string;
  prefix: number;
  host: string;
  /** Most peers the block holds. */
  capacity: number;
  peer(i: number): string;
}

export function blockOf(range: AddressRange, index: number): Block {
  if (!Number.isInteger(index) || index < 0 || index >= range.blocks) {
    throw new NetnsError(`block ${index} is outside ${range.text} (${range.blocks} blocks)`);
  }
  const size = 2 ** (32 - range.blockPrefix);
  const base = range.base + index * size;
  // .0 is the network, the last the broadcast address, .1 the host.
  const capacity = size - 3;
  return {
    index,
    subnet: `${intToIp(base)}/${range.blockPrefix}`,
    prefix: range.blockPrefix,
    host: intToIp(base + 1),
    capacity,
    peer(i: number) {
      if (i < 0 || i >= capacity) {
        throw new NetnsError(`a block of ${range.text} holds at most ${capacity} peers`);
      }
      return intToIp(base + 2 + i);
    },
  };
}
