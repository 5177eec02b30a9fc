// Types shared by the protocol engine (state.ts), the I/O layer (net.ts) and the public API
// (memberlist.ts): node records, the public node view, delegates and hooks.
import type { EventEmitter } from 'node:events';
import type { Awareness } from './awareness.js';
import type { Clock } from './clock.js';
import { NodeStateType } from './codec/index.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import type { LabelRefusal } from './net.js';
import type { TransmitLimitedQueue } from './queue.js';
import type { Suspicion } from './suspicion.js';
import type { Transport } from './transport/transport.js';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** A node as applications see it (a snapshot; later changes do not alter it). */
export interface MemberNode {
  name: string;
  /** IP address as a string (IPv4-mapped forms are shown as dotted IPv4). */
  addr: string;
  port: number;
  meta: Uint8Array | null;
  state: MemberState;
  incarnation: number;
  pMin: number;
  pMax: number;
  pCur: number;
  dMin: number;
  dMax: number;
  dCur: number;
}

/** The engine's record of one node. `addrBytes`, `meta` and `vsn` are shared between records
 * (see intern.ts): replace them, never modify them in place. */
export interface NodeRecord {
  name: string;
  /** IP string used to reach the node. */
  addr: string;
  /** The raw address bytes exactly as the node announced them (4 or 16 bytes). */
  addrBytes: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  state: NodeStateType;
  /** Clock time of the last state change. */
  stateChange: number;
  /** [pMin, pMax, pCur, dMin, dMax, dCur]; zeros until the node announced them. */
  vsn: Uint8Array;
  suspicion: Suspicion | null;
}

export const STATE_NAMES: Record<NodeStateType, MemberState> = {
  [NodeStateType.Alive]: 'alive',
  [NodeStateType.Suspect]: 'suspect',
  [NodeStateType.Dead]: 'dead',
  [NodeStateType.Left]: 'left',
};

export function toMemberNode(r: NodeRecord): MemberNode {
  return {
    name: r.name,
    addr: r.addr,
    port: r.port,
    meta: r.meta ? Uint8Array.from(r.meta) : null,
    state: STATE_NAMES[r.state],
    incarnation: r.incarnation,
    pMin: r.vsn[0],
    pMax: r.vsn[1],
    pCur: r.vsn[2],
    dMin: r.vsn[3],
    dMax: r.vsn[4],
    dCur: r.vsn[5],
  };
}

/** Application callbacks carried alongside membership (Go's `Delegate`). */
export interface Delegate {
  /** Metadata announced for the local node, at most `limit` bytes. */
  nodeMeta?(limit: number): Uint8Array;
  /** A user message arrived (best-effort, reliable, or a gossiped broadcast). */
  notifyMsg?(msg: Uint8Array): void;
  /** Application broadcasts to piggy-back: each ≤ `limit` total bytes counting `overhead` each. */
  getBroadcasts?(overhead: number, limit: number): Uint8Array[];
  /** Application state sent in each push/pull. */
  localState?(join: boolean): Uint8Array;
  /** Application state received in a push/pull. */
  mergeRemoteState?(buf: Uint8Array, join: boolean): void;
}

/** Answers a ping with a payload, and hears about completed direct probes (Go's `PingDelegate`). */
export interface PingDelegate {
  ackPayload?(): Uint8Array;
  notifyPingComplete?(node: MemberNode, rttMs: number, payload: Uint8Array | null): void;
}

export interface MemberlistHooks {
  delegate?: Delegate;
  /** Called before any alive is applied; return false (or throw) to ignore it. */
  alive?: (node: MemberNode) => boolean | undefined;
  /** Called with the remote nodes of a joining push/pull; return false (or throw) to refuse it. */
  merge?: (nodes: MemberNode[]) => boolean | undefined;
  /** A known node name was announced with another address. */
  conflict?: (existing: MemberNode, other: MemberNode) => void;
  ping?: PingDelegate;
  /** Listeners attached before the node bootstraps (so they also see the local node's join). */
  events?: {
    join?: (node: MemberNode) => void;
    leave?: (node: MemberNode) => void;
    update?: (node: MemberNode) => void;
    labelRefused?: (refusal: LabelRefusal) => void;
  };
  /** Carrier; default: UDP+TCP on `bindAddr:bindPort`. */
  transport?: Transport;
  /** Time source; default: the real clock. A VirtualClock makes simulations deterministic. */
  clock?: Clock;
  /** Random source in [0, 1); default Math.random. Seed it for deterministic simulations. */
  random?: () => number;
}

/** What the engine and the I/O layer share. */
export interface Context {
  readonly config: Config;
  readonly clock: Clock;
  readonly random: () => number;
  readonly metrics: Metrics;
  readonly awareness: Awareness;
  readonly queue: TransmitLimitedQueue;
  /** The application's queues from `createBroadcastQueue()`, gossiped after `queue`. */
  readonly appQueues: TransmitLimitedQueue[];
  readonly hooks: MemberlistHooks;
  readonly transport: Transport;
  readonly events: EventEmitter;
  /** Advertised IP string, its raw bytes, and port. */
  readonly advertise: { addr: string; bytes: Uint8Array; port: number };
  /** True once shutdown began: nothing new is started. */
  shutdown: boolean;
}
