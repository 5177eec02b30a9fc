// The public API: create a node, join a cluster, leave, send messages, read the member list.

import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import {
  AddressError,
  chooseAdvertiseAddr,
  ipToBytes,
  joinHostPort,
  parseHostPort,
} from './address.js';
import { Awareness } from './awareness.js';
import { realClock } from './clock.js';
import { type Keyring, MessageType, NodeStateType } from './codec/index.js';
import { type Config, ConfigError, META_MAX_SIZE, validateConfig } from './config.js';
import {
  type Context,
  type MemberlistHooks,
  type MemberNode,
  type NodeRecord,
  toMemberNode,
} from './context.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { type LabelRefusal, NetLayer } from './net.js';
import { type TransmitLimitedQueue, WatchedQueue } from './queue.js';
import { State } from './state.js';
import { retransmitLimit } from './suspicion.js';
import { NetTransport } from './transport/net-transport.js';

/** An API call that could not be carried out (code says why; `cause` may hold the error behind it). */
export class MemberlistError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MemberlistError';
  }
}

export interface MemberlistEvents {
  join: [MemberNode];
  leave: [MemberNode];
  update: [MemberNode];
  /** A datagram or stream was dropped because of its label (also counted in `metrics()`). */
  labelRefused: [LabelRefusal];
  /** This node began to suspect `node` (it missed a probe, or `from` said so). For logs. */
  suspect: [{ node: string; incarnation: number; from: string }];
  /** This node was suspected or declared dead (at incarnation `accused`) and refuted it. */
  refute: [{ incarnation: number; accused: number }];
}

/**
 * One cluster member, created by `createMemberlist`. Events: `join`, `leave` (the node's `state`
 * is `'left'` for a graceful leave, `'dead'` for a failure) and `update` (metadata changed), each
 * with a `MemberNode`; `labelRefused` with a `LabelRefusal` when input is dropped for its label;
 * `suspect` and `refute` for logs.
 */
export interface Memberlist extends EventEmitter<MemberlistEvents> {
  /** The effective configuration (read-only view). */
  readonly config: Readonly<Config>;

  /**
   * The keyring in effect, or null when encryption is off. Its keys can be installed, made
   * primary and removed at runtime (`addKey`, `useKey`, `removeKey`): every packet and stream
   * reads the keyring afresh, so a rotation takes effect with the next message.
   */
  readonly keyring: Keyring | null;

  /**
   * Gives a running node a keyring (turning encryption on) or takes it away (null). To switch
   * a live cluster to encryption without a split, install the key everywhere with both verify
   * switches off, then turn `outgoing` on everywhere, then `incoming` (see `setGossipVerify`).
   */
  setKeyring(keyring: Keyring | null): void;

  /** The gossip verify switches (`gossipVerifyIncoming` / `gossipVerifyOutgoing`), live. */
  readonly gossipVerify: { incoming: boolean; outgoing: boolean };

  /**
   * Changes the verify switches at runtime. `outgoing` on: encrypt what this node sends (when it
   * has keys); `incoming` on: drop anything that is not encrypted with a known key.
   */
  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void;

  /** `host:port` that peers use to reach this node. */
  readonly advertiseAddress: string;

  /**
   * Joins a cluster through the given nodes (`host`, `host:port`, `[ipv6]:port`, optionally
   * prefixed `name/`). Each is contacted with a push/pull; resolves with the number that
   * succeeded, rejects (code `ERR_JOIN`) if none did.
   */
  join(addresses: string[]): Promise<number>;

  /**
   * Leaves gracefully: peers record this node as left (not failed). Resolves, as Go's
   * `Leave(timeout)` does, once the leave message has been *sent* Go's transmit count
   * (retransmitMult × ceil(log10(n+1)), acknowledged by nobody), or once no other live node
   * remains to tell; rejects (code `ERR_TIMEOUT`) if neither happened within `timeoutMs`. The
   * `gossipMinTransmits` floor keeps retransmitting it afterwards, and the node keeps running
   * until `shutdown()`.
   */
  leave(timeoutMs: number): Promise<void>;

  /**
   * Re-reads the metadata from the delegate and announces it with a new incarnation; waits
   * until that has been fully gossiped or `timeoutMs` passed (rejects, code `ERR_TIMEOUT`).
   */
  updateNode(timeoutMs: number): Promise<void>;

  /** Stops everything: sockets, timers, pending waits. Sends nothing (peers detect a failure). */
  shutdown(): Promise<void>;

  /** Live members (alive and suspect), including this node. */
  members(): MemberNode[];

  /** Every known record, dead and left ones included. */
  allNodes(): MemberNode[];

  /** The number of live members (alive and suspect), including this node. */
  numMembers(): number;

  /** This node as its peers see it. */
  localNode(): MemberNode;

  /** Lifeguard health score: 0 is healthy; higher means this node is probably the slow one. */
  healthScore(): number;

  /** Sends a user message over UDP (may be lost). `to` is a member or a node name. */
  sendBestEffort(to: MemberNode | string, payload: Uint8Array): Promise<void>;

  /** Sends a user message over TCP; resolves once written, rejects if the node is unreachable. */
  sendReliable(to: MemberNode | string, payload: Uint8Array): Promise<void>;

  /**
   * A transmit-limited queue for the application's own broadcasts. Memberlist gossips it itself:
   * what is queued goes out as user messages (delivered to the peers' `notifyMsg`), after this
   * node's membership messages, piggy-backed on probes and in gossip rounds, exactly as what a
   * delegate's `getBroadcasts` returns. So do not also return it from `getBroadcasts`. Prefer it
   * to a `getBroadcasts` delegate: memberlist can see when every queue is empty and then skips
   * the gossip loop's wake-ups, where a delegate must be asked every round (issue 17). Each call
   * makes another queue that lives as long as this node.
   *
   * Sized like this node's membership gossip: each message is handed out
   * retransmitMult × ceil(log10(n+1)) times for n live members, and at least
   * `gossipMinTransmits` times. Go's formula alone gives 2 below 10 nodes with the Local preset,
   * and an epidemic where every holder sends twice misses about one delivery in 14 in a 5-node
   * cluster (issue 17); a `new TransmitLimitedQueue(...)` fed to `getBroadcasts` keeps Go's
   * formula for those who want it.
   */
  createBroadcastQueue(): TransmitLimitedQueue;

  /** Counters and live figures (members by state, health, traffic, drops). */
  metrics(): MetricsSnapshot;
}

/**
 * The implementation of `Memberlist` over the node table (`State`) and the wire layer
 * (`NetLayer`). Not exported by the package's entry point: users get a `Memberlist` from
 * `createMemberlist`; tests reach the class through `@isopeer/memberlist/internal`.
 */
export class MemberlistImpl extends EventEmitter<MemberlistEvents> implements Memberlist {
  private readonly ctx: Context;
  private readonly state: State;
  private readonly net: NetLayer;
  private closing: Promise<void> | null = null;

  constructor(ctx: Context, state: State, net: NetLayer) {
    super();
    this.ctx = ctx;
    this.state = state;
    this.net = net;
  }

  get config(): Readonly<Config> {
    return this.ctx.config;
  }

  get keyring(): Keyring | null {
    return this.ctx.config.keyring;
  }

  setKeyring(keyring: Keyring | null): void {
    this.ctx.config.keyring = keyring;
  }

  get gossipVerify(): { incoming: boolean; outgoing: boolean } {
    const c = this.ctx.config;
    return { incoming: c.gossipVerifyIncoming, outgoing: c.gossipVerifyOutgoing };
  }

  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void {
    if (flags.incoming !== undefined) this.ctx.config.gossipVerifyIncoming = flags.incoming;
    if (flags.outgoing !== undefined) this.ctx.config.gossipVerifyOutgoing = flags.outgoing;
  }

  get advertiseAddress(): string {
    return joinHostPort(this.ctx.advertise.addr, this.ctx.advertise.port);
  }

  async join(addresses: string[]): Promise<number> {
    this.assertRunning();
    let ok = 0;
    const errors: string[] = [];
    const causes: unknown[] = [];
    for (const entry of addresses) {
      let targets: string[];
      try {
        targets = await this.resolve(entry);
      } catch (err) {
        errors.push(`${entry}: ${(err as Error).message}`);
        causes.push(err);
        continue;
      }
      for (const t of targets) {
        try {
          await this.net.pushPull(t, true);
          ok++;
        } catch (err) {
          errors.push(`${t}: ${(err as Error).message}`);
          causes.push(err);
        }
      }
    }
    // Catch up even after a failed join: the peer may have merged our state after we gave up
    // waiting (it replies first, merges later), and gossip will then tell us about others.
    this.state.startCatchUp();
    if (ok === 0) {
      throw new MemberlistError(
        `join failed: ${errors.length > 0 ? errors.join('; ') : 'no addresses given'}`,
        'ERR_JOIN',
        // One failed address: its error (with its code); several: all of them.
        causes.length === 0
          ? undefined
          : { cause: causes.length === 1 ? causes[0] : new AggregateError(causes) },
      );
    }
    return ok;
  }

  private async resolve(entry: string): Promise<string[]> {
    const slash = entry.indexOf('/');
    const hostPart = slash >= 0 ? entry.slice(slash + 1) : entry;
    // Like Go, a missing port means "the same port as ours" (the bound one when it was 0).
    const { host, port } = parseHostPort(hostPart, this.ctx.transport.bindPort);
    if (isIP(host) !== 0) return [joinHostPort(host, port)];
    const found = await lookup(host, { all: true });
    if (found.length === 0) throw new AddressError(`no addresses for ${host}`);
    return found.map((a) => joinHostPort(a.address, port));
  }

  async leave(timeoutMs: number): Promise<void> {
    this.assertRunning();
    if (this.state.leaving) return;
    this.state.leaving = true;
    const me = this.state.localRecord();
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const goal = () => retransmitLimit(this.ctx.config.retransmitMult, this.state.numNodes());
    this.state.deadNode(
      { incarnation: me.incarnation, node: me.name, from: me.name },
      { finished: done, sent: (transmits) => transmits >= goal() && done() },
    );
    if (!this.state.hasLivePeers()) return;
    // Once every peer is dead or left there is nobody to gossip to, so nothing more is sent.
    const onLeave = () => {
      if (!this.state.hasLivePeers()) done();
    };
    this.on('leave', onLeave);
    try {
      await this.waitOrTimeout(finished, timeoutMs, 'leave');
    } finally {
      this.off('leave', onLeave);
    }
  }

  async updateNode(timeoutMs: number): Promise<void> {
    this.assertRunning();
    const meta = readMeta(this.ctx.hooks);
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    this.state.aliveNode(this.state.localAlive(meta), true, () => done());
    if (!this.state.hasLivePeers()) return;
    await this.waitOrTimeout(finished, timeoutMs, 'update');
  }

  private async waitOrTimeout(p: Promise<void>, timeoutMs: number, what: string): Promise<void> {
    let timedOut = false;
    const timeout = this.state.sleep(timeoutMs).then(() => {
      timedOut = true;
    });
    await Promise.race([p, timeout]);
    if (timedOut && !this.ctx.shutdown) {
      throw new MemberlistError(`${what} not fully gossiped within ${timeoutMs} ms`, 'ERR_TIMEOUT');
    }
  }

  shutdown(): Promise<void> {
    if (!this.closing) {
      this.ctx.shutdown = true;
      this.state.stop();
      this.closing = this.ctx.transport.close();
    }
    return this.closing;
  }

  members(): MemberNode[] {
    const out: MemberNode[] = [];
    for (const r of this.state.records()) {
      if (r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect)
        out.push(toMemberNode(r));
    }
    return out;
  }

  allNodes(): MemberNode[] {
    return this.state.records().map(toMemberNode);
  }

  numMembers(): number {
    let n = 0;
    for (const r of this.state.records()) {
      if (r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect) n++;
    }
    return n;
  }

  localNode(): MemberNode {
    return toMemberNode(this.state.localRecord());
  }

  healthScore(): number {
    return this.ctx.awareness.healthScore;
  }

  private target(to: MemberNode | string): NodeRecord {
    const name = typeof to === 'string' ? to : to.name;
    const r = this.state.nodes.get(name);
    if (!r) throw new MemberlistError(`unknown node ${JSON.stringify(name)}`, 'ERR_UNKNOWN_NODE');
    return r;
  }

  async sendBestEffort(to: MemberNode | string, payload: Uint8Array): Promise<void> {
    this.assertRunning();
    const r = this.target(to);
    const msg = new Uint8Array(payload.length + 1);
    msg[0] = MessageType.User;
    msg.set(payload, 1);
    this.ctx.metrics.userOut++;
    await this.net.sendRaw(joinHostPort(r.addr, r.port), msg, r);
  }

  async sendReliable(to: MemberNode | string, payload: Uint8Array): Promise<void> {
    this.assertRunning();
    const r = this.target(to);
    await this.net.sendReliable(joinHostPort(r.addr, r.port), payload);
  }

  createBroadcastQueue(): TransmitLimitedQueue {
    const c = this.ctx.config;
    const q = new WatchedQueue(
      () => this.numMembers(),
      c.retransmitMult,
      c.gossipMinTransmits,
      () => this.state.broadcastQueued(),
    );
    this.ctx.appQueues.push(q);
    return q;
  }

  metrics(): MetricsSnapshot {
    const members = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const r of this.state.records()) {
      if (r.state === NodeStateType.Alive) members.alive++;
      else if (r.state === NodeStateType.Suspect) members.suspect++;
      else if (r.state === NodeStateType.Dead) members.dead++;
      else members.left++;
    }
    return this.ctx.metrics.snapshot(
      members,
      this.ctx.awareness.healthScore,
      this.ctx.queue.numQueued(),
    );
  }

  private assertRunning(): void {
    if (this.ctx.shutdown) throw new MemberlistError('memberlist is shut down', 'ERR_SHUTDOWN');
  }
}

function readMeta(hooks: MemberlistHooks): Uint8Array | null {
  const meta = hooks.delegate?.nodeMeta?.(META_MAX_SIZE) ?? null;
  if (meta && meta.length > META_MAX_SIZE) {
    throw new ConfigError(
      `node meta is ${meta.length} bytes, more than the ${META_MAX_SIZE} allowed`,
    );
  }
  return meta && meta.length > 0 ? meta : null;
}

/**
 * Creates a node: binds the transport (UDP+TCP unless `hooks.transport` is given), enters the
 * local node into its own table and starts probing, gossip and push/pull.
 */
export async function createMemberlist(
  config: Config,
  hooks: MemberlistHooks = {},
): Promise<Memberlist> {
  const cfg: Config = { ...config };
  validateConfig(cfg);
  const meta = readMeta(hooks);
  const transport =
    hooks.transport ??
    (await NetTransport.create({ bindAddr: cfg.bindAddr, bindPort: cfg.bindPort }));
  let advertiseAddr: string;
  let advertisePort: number;
  try {
    advertiseAddr = chooseAdvertiseAddr(transport.bindAddr, cfg.advertiseAddr);
    // With an explicit advertise address its port is honoured; otherwise the bound port.
    advertisePort =
      cfg.advertiseAddr && cfg.advertisePort > 0 ? cfg.advertisePort : transport.bindPort;
  } catch (err) {
    await transport.close();
    throw err;
  }
  const metrics = new Metrics();
  let state!: State;
  const ctx: Context = {
    config: cfg,
    clock: hooks.clock ?? realClock,
    random: hooks.random ?? Math.random,
    metrics,
    awareness: new Awareness(cfg.awarenessMaxMultiplier),
    queue: new WatchedQueue(
      () => state.numNodes(),
      cfg.retransmitMult,
      cfg.gossipMinTransmits,
      () => state.broadcastQueued(),
    ),
    appQueues: [],
    hooks,
    transport,
    events: null as unknown as EventEmitter,
    advertise: { addr: advertiseAddr, bytes: ipToBytes(advertiseAddr), port: advertisePort },
    shutdown: false,
  };
  state = new State(ctx);
  const net = new NetLayer(ctx, state);
  state.net = net;
  const ml = new MemberlistImpl(ctx, state, net);
  (ctx as { events: EventEmitter }).events = ml as unknown as EventEmitter;
  if (hooks.events?.join) ml.on('join', hooks.events.join);
  if (hooks.events?.leave) ml.on('leave', hooks.events.leave);
  if (hooks.events?.update) ml.on('update', hooks.events.update);
  if (hooks.events?.labelRefused) ml.on('labelRefused', hooks.events.labelRefused);
  transport.setHandlers({
    packet: (data, from) => net.ingestPacket(data, from),
    stream: (conn) => void net.handleStream(conn),
  });
  state.aliveNode(state.localAlive(meta), true);
  state.start();
  return ml;
}
