import {
  type BootstrapData,
  DEFAULT_MAXPEERS,
  DEFAULT_MINREFILLCANDIDATES,
  type PeerRecord,
} from './types.js';

/*
 * The bootstrap service's state transitions as pure functions, shared by every store (memory,
 * file, PostgreSQL) so that they cannot drift apart. Each function takes a document and returns
 * the document after the operation; when the operation changes nothing it returns the SAME
 * object, which lets stores skip writes cheaply (`next === prev`). Inputs are never mutated, so a
 * store can hand out a document as an immutable snapshot.
 *
 * `Peers` objects are created without a prototype: peer ids are untrusted strings, and an id such
 * as "__proto__" must be an ordinary key, not a way to reach Object.prototype.
 */

/** One state-changing (or reading) request of the protocol, as data. */
export type BootstrapOp =
  | { kind: 'join'; peer: PeerRecord }
  | { kind: 'leave'; id: string }
  | { kind: 'refill'; peer: PeerRecord }
  | { kind: 'list' }
  | { kind: 'reset' }
  | { kind: 'config'; maxpeers: number; minrefillcandidates: number };

/** A fresh prototype-less peer map. */
export function emptyPeers(): Record<string, PeerRecord> {
  return Object.create(null) as Record<string, PeerRecord>;
}

/** The state of a service that has never been used: the original's default config, no peers. */
export function initialData(): BootstrapData {
  return {
    Config: {
      maxpeers: DEFAULT_MAXPEERS,
      minrefillcandidates: DEFAULT_MINREFILLCANDIDATES,
      numpeers: 0,
    },
    Peers: emptyPeers(),
  };
}

function copyPeers(peers: Record<string, PeerRecord>): Record<string, PeerRecord> {
  const out = emptyPeers();
  for (const id in peers) out[id] = peers[id];
  return out;
}

/** A copy of `data` with `peers` as its peer map and `numpeers` recomputed. */
function withPeers(data: BootstrapData, peers: Record<string, PeerRecord>): BootstrapData {
  return {
    Config: { ...data.Config, numpeers: Object.keys(peers).length },
    Peers: peers,
  };
}

/** Number of stored peers (the original trusted `numpeers`; we never do). */
export function peerCount(data: BootstrapData): number {
  return Object.keys(data.Peers).length;
}

function samePeer(a: PeerRecord, b: PeerRecord): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.ip === b.ip &&
    a.port === b.port &&
    a.protocol === b.protocol &&
    a.status === b.status &&
    a.timestamp === b.timestamp
  );
}

/**
 * Go's `<` on strings: byte-wise over UTF-8, i.e. code-point order. JavaScript's `<` compares
 * UTF-16 code units, which differs for characters above U+FFFF versus U+E000..U+FFFF.
 */
export function goStringLess(a: string, b: string): boolean {
  return compareGoStrings(a, b) < 0;
}

/** Three-way comparison in Go's (UTF-8 byte) string order; also the order of Go's map keys. */
export function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (D800-DFFF) is half of a code point above FFFF, so it sorts after every
    // other code unit, including E000-FFFF which UTF-16 order would put after it.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * `/join`: store the peer only while fewer than `maxpeers` are stored. A join with an id that is
 * already stored replaces that record when there is room (as the original did), and changes
 * nothing when the list is full.
 */
export function applyJoin(data: BootstrapData, peer: PeerRecord): BootstrapData {
  if (peerCount(data) >= data.Config.maxpeers) return data;
  const existing = data.Peers[peer.id];
  if (existing !== undefined && samePeer(existing, peer)) return data;
  const peers = copyPeers(data.Peers);
  peers[peer.id] = { ...peer };
  return withPeers(data, peers);
}

/** `/leave`: remove the peer with that id if present. */
export function applyLeave(data: BootstrapData, id: string): BootstrapData {
  if (!Object.hasOwn(data.Peers, id)) return data;
  const peers = copyPeers(data.Peers);
  delete peers[id];
  return withPeers(data, peers);
}

/**
 * `/refill`: a candidate that is already stored changes nothing. Otherwise it is added while
 * there is room; when full, the stored peer with the largest timestamp (compared as strings, as
 * Go does) is replaced by the candidate if that timestamp is larger than the candidate's: older
 * peers win. Among stored peers sharing the largest timestamp, the original's pick depended on
 * Go's random map order; we pick the first in key order so every store agrees.
 */
export function applyRefill(data: BootstrapData, peer: PeerRecord): BootstrapData {
  if (Object.hasOwn(data.Peers, peer.id)) return data;
  if (peerCount(data) < data.Config.maxpeers) {
    const peers = copyPeers(data.Peers);
    peers[peer.id] = { ...peer };
    return withPeers(data, peers);
  }
  let newest: PeerRecord | undefined;
  for (const id of sortedIds(data)) {
    const stored = data.Peers[id];
    if (goStringLess(newest?.timestamp ?? peer.timestamp, stored.timestamp)) newest = stored;
  }
  if (newest === undefined) return data;
  const peers = copyPeers(data.Peers);
  // Delete by the map key that holds it, which for a hand-edited file may differ from its id.
  for (const id in peers) {
    if (peers[id] === newest) {
      delete peers[id];
      break;
    }
  }
  peers[peer.id] = { ...peer };
  return withPeers(data, peers);
}

/** `/reset`: remove every peer, keep the config. */
export function applyReset(data: BootstrapData): BootstrapData {
  if (peerCount(data) === 0 && data.Config.numpeers === 0) return data;
  return withPeers(data, emptyPeers());
}

/**
 * `/config`: set both numbers. Lowering `maxpeers` below the number stored keeps the stored
 * peers (as the original did); joins then change nothing until peers leave.
 */
export function applyConfig(
  data: BootstrapData,
  maxpeers: number,
  minrefillcandidates: number,
): BootstrapData {
  if (
    data.Config.maxpeers === maxpeers &&
    data.Config.minrefillcandidates === minrefillcandidates &&
    data.Config.numpeers === peerCount(data)
  ) {
    return data;
  }
  return {
    Config: { maxpeers, minrefillcandidates, numpeers: peerCount(data) },
    Peers: data.Peers,
  };
}

/** Applies any operation; `list` returns the document unchanged. */
export function applyOp(data: BootstrapData, op: BootstrapOp): BootstrapData {
  switch (op.kind) {
    case 'join':
      return applyJoin(data, op.peer);
    case 'leave':
      return applyLeave(data, op.id);
    case 'refill':
      return applyRefill(data, op.peer);
    case 'list':
      return data;
    case 'reset':
      return applyReset(data);
    case 'config':
      return applyConfig(data, op.maxpeers, op.minrefillcandidates);
  }
}

/** Peer ids in Go's map-key order (the order Go's encoding/json writes them). */
export function sortedIds(data: BootstrapData): string[] {
  return Object.keys(data.Peers).sort(compareGoStrings);
}

/** The same document with `numpeers` equal to the number of stored peers. */
export function normalize(data: BootstrapData): BootstrapData {
  return data.Config.numpeers === peerCount(data) ? data : withPeers(data, data.Peers);
}

// ---- Lease (peer TTL) ---------------------------------------------------------------------

/**
 * Last refresh time (ms) of each stored peer id. A join or refill naming an id refreshes it —
 * also when the list is full and the record itself is left unchanged — as long as the id is
 * stored after the operation.
 */
export type LeaseTimes = Map<string, number>;

/**
 * Drops every peer whose lease ran out: last refresh at or before `now - ttlMs`. Peers without a
 * recorded refresh time are kept (a store that loads a document records the load time for
 * them, so nothing is dropped earlier than its TTL after the process saw it). `ttlMs <= 0`
 * disables the lease.
 */
export function expirePeers(
  data: BootstrapData,
  leases: ReadonlyMap<string, number>,
  now: number,
  ttlMs: number,
): BootstrapData {
  if (!(ttlMs > 0)) return data;
  const cutoff = now - ttlMs;
  let peers: Record<string, PeerRecord> | undefined;
  for (const id in data.Peers) {
    const at = leases.get(id);
    if (at !== undefined && at <= cutoff) {
      peers ??= copyPeers(data.Peers);
      delete peers[id];
    }
  }
  return peers === undefined ? data : withPeers(data, peers);
}

/** The id whose lease an operation refreshes, if any. */
export function refreshedId(op: BootstrapOp): string | undefined {
  return op.kind === 'join' || op.kind === 'refill' ? op.peer.id : undefined;
}

/**
 * Brings lease times in line with a document after an operation: ids no longer stored are
 * forgotten, new ids and the refreshed id get `now`. Mutates and returns `leases`.
 */
export function updateLeases(
  leases: LeaseTimes,
  after: BootstrapData,
  op: BootstrapOp,
  now: number,
): LeaseTimes {
  for (const id of leases.keys()) if (!Object.hasOwn(after.Peers, id)) leases.delete(id);
  for (const id in after.Peers) if (!leases.has(id)) leases.set(id, now);
  const refreshed = refreshedId(op);
  if (refreshed !== undefined && Object.hasOwn(after.Peers, refreshed)) leases.set(refreshed, now);
  return leases;
}

/**
 * One complete step as a store performs it atomically: expire, apply, update leases.
 * Returns the new document; `leases` is updated in place.
 */
export function step(
  data: BootstrapData,
  leases: LeaseTimes,
  op: BootstrapOp,
  now: number,
  ttlMs: number,
): BootstrapData {
  const live = expirePeers(data, leases, now, ttlMs);
  const next = applyOp(live, op);
  if (ttlMs > 0) updateLeases(leases, next, op, now);
  return next;
}
