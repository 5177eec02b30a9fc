// Over 600 lines on purpose: it mirrors Go memberlist's state.go, to be read side by side.
// The protocol engine: the node table and its state machine (docs/spec/memberlist-wire.md §8), probing with indirect probes,
// nacks and the TCP fallback (§9), Lifeguard suspicion (§10), gossip rounds (§11), push/pull
// scheduling (§7.4), reaping and dead-node reclaim. I/O goes through net.ts.
import { bytesToIp, type Cidr, cidrContains, joinHostPort, parseCidr } from './address.js';
import { Admission, IncarnationError, MAX_INCARNATION, type NodeTable } from './admission.js';
import type { TimerHandle } from './clock.js';
import {
  type Alive,
  type Dead,
  encodeMessage,
  encodeVsn,
  type IndirectPingReq,
  MessageType,
  makeCompound,
  NodeStateType,
  type Ping,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  type PushNodeState,
  packCompounds,
  type Suspect,
} from './codec/index.js';
import { type Context, type MemberNode, type NodeRecord, toMemberNode } from './context.js';
import { internBytes, internString } from './intern.js';
import type { NetLayer } from './net.js';
import { namedBroadcast } from './queue.js';
import {
  pushPullScale,
  pushPullScaleMultiplier,
  Suspicion,
  suspicionTimeoutMs,
} from './suspicion.js';
import { Ticker } from './ticker.js';

const ZERO_VSN = new Uint8Array(6);

/** What a record takes from an applied alive, as the copies all records share (intern.ts);
 * `vsn` stays `keepVsn` when the alive carries no full version. */
function sharedFields(
  a: Alive,
  ip: string,
  keepVsn: Uint8Array,
): Pick<NodeRecord, 'addr' | 'addrBytes' | 'meta' | 'vsn'> {
  return {
    addr: internString(ip),
    addrBytes: internBytes(a.addr),
    meta: a.meta && internBytes(a.meta),
    vsn: a.vsn.length >= 6 ? internBytes(a.vsn.subarray(0, 6)) : keepVsn,
  };
}

/** Why a push/pull merge was refused (code `ERR_MERGE`). */
export class MergeError extends Error {
  readonly code = 'ERR_MERGE';
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

interface AckWaiter {
  onAck(payload: Uint8Array | null, at: number): void;
  onNack(): void;
  timer: TimerHandle;
}

function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  const n = a === null ? 0 : a.length;
  if (n !== (b === null ? 0 : b.length)) return false;
  for (let i = 0; i < n; i++) if (a![i] !== b![i]) return false;
  return true;
}

export class State {
  /** Records by name. */
  readonly nodes = new Map<string, NodeRecord>();
  /** Every record (new ones inserted at a random position). */
  private list: NodeRecord[] = [];
  /** The records sorted by name: the probe ring (see `slotTarget`); rebuilt when stale. */
  private ring: NodeRecord[] = [];
  private ringStale = true;
  /** Probe slot bookkeeping (see `probeSlot`). */
  private probePhase: number | null = null;
  private lastSlot = Number.NEGATIVE_INFINITY;
  private probesSinceReap = 0;
  /** When the current scheduled probe fell due (clock time). */
  private probeDue = 0;
  private probeIndex = 0;
  /** Local incarnation counter. */
  private incarnation = 0;
  private seq = 0;
  /** Set by leave(); permanent for this instance. */
  leaving = false;
  private readonly ackWaiters = new Map<number, AckWaiter>();
  private readonly timers = new Set<TimerHandle>();
  private readonly sleepers = new Set<() => void>();
  private readonly priorityProbes: string[] = [];
  private readonly cidrs: Cidr[] | null;
  private probing = false;
  /** The gossip loop; parked while there is nothing to gossip. */
  private gossipTicker: Ticker | null = null;
  private tickPending = false;
  private catchUpStep = -1;
  /** Count of node records ever created (a new name learned by any path). */
  private nodesLearned = 0;
  /** Nodes that failed (not left), with where to find them, for reconnect attempts. */
  private readonly failed = new Map<string, { addr: string; port: number; since: number }>();
  /** What news from peers may change the table (limits against hostile peers). */
  private readonly admission: Admission;
  /** The table as admission sees it. */
  private readonly table: NodeTable;
  net!: NetLayer;

  constructor(private readonly ctx: Context) {
    this.cidrs = ctx.config.cidrsAllowed ? ctx.config.cidrsAllowed.map(parseCidr) : null;
    this.admission = new Admission(ctx.config, ctx.metrics);
    const nodes = this.nodes;
    this.table = {
      get size() {
        return nodes.size;
      },
      makeRoom: () => this.reap(true),
    };
  }

  get localName(): string {
    return this.ctx.config.name;
  }

  /** The node count estimate (§11.4): every record, local and dead/left ones included. */
  numNodes(): number {
    return this.list.length;
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  localRecord(): NodeRecord {
    return this.nodes.get(this.localName)!;
  }

  /** Our 6-byte version array (§14.2). */
  localVsn(): Uint8Array {
    const c = this.ctx.config;
    return encodeVsn({
      pMin: PROTOCOL_VERSION_MIN,
      pMax: PROTOCOL_VERSION_MAX,
      pCur: c.protocolVersion,
      dMin: c.delegateProtocolMin,
      dMax: c.delegateProtocolMax,
      dCur: c.delegateProtocolVersion,
    });
  }

  // ---- timers ------------------------------------------------------------------------------

  private after(ms: number, fn: () => void): TimerHandle {
    const h = this.ctx.clock.setTimeout(() => {
      this.timers.delete(h);
      if (!this.ctx.shutdown) this.guard(fn);
    }, ms);
    this.timers.add(h);
    return h;
  }

  /** Runs `fn`; an exception (e.g. from an application's event listener) is counted, never
   * allowed to escape a timer callback and take the process down. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.ctx.metrics.callbackErrors++;
    }
  }

  private cancel(h: TimerHandle | null): void {
    if (!h) return;
    h.cancel();
    this.timers.delete(h);
  }

  /** Resolves after `ms` (or at shutdown, whichever is first). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.sleepers.delete(done);
        this.cancel(h);
        resolve();
      };
      const h = this.after(ms, done);
      this.sleepers.add(done);
    });
  }

  /** Starts the probe, gossip and push/pull schedules, each after a random stagger. */
  start(): void {
    const c = this.ctx.config;
    this.scheduleProbe(this.ctx.random() * c.probeIntervalMs);
    if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) {
      this.gossipTicker = this.every(
        () => c.gossipIntervalMs,
        () => this.gossip(),
      );
    }
    if (c.pushPullIntervalMs > 0) {
      this.every(
        () => pushPullScale(c.pushPullIntervalMs, this.numNodes()),
        () => void this.pushPullWithRandomNode('periodic'),
        c.pushPullIntervalMs,
      );
    }
    if (c.reconnectIntervalMs > 0) {
      this.every(
        () => c.reconnectIntervalMs,
        () => void this.reconnect(),
      );
    }
  }

  /** A `Ticker` (see there) first due after a random stagger of up to `staggerMs`. A `fn`
   * returning false parks it until `wake()`. */
  private every(intervalMs: () => number, fn: () => unknown, staggerMs = intervalMs()): Ticker {
    return new Ticker(
      this.ctx.clock,
      (ms, f) => this.after(ms, f),
      intervalMs,
      this.ctx.random() * staggerMs,
      () => fn() !== false,
      () => this.ctx.metrics.callbackErrors++,
    );
  }

  /** Something was queued for gossip: a parked gossip loop resumes (see `gossip`). */
  broadcastQueued(): void {
    if (!this.ctx.shutdown) this.gossipTicker?.wake();
  }

  /**
   * Tries a push/pull with one random node that failed within `reconnectTimeoutMs`. After a
   * partition each side has declared the other dead, and Go memberlist alone never talks to
   * dead nodes again; this exchange makes both sides refute and merge (wire-neutral: an
   * ordinary push/pull).
   */
  private async reconnect(): Promise<void> {
    const cutoff = this.ctx.clock.now() - this.ctx.config.reconnectTimeoutMs;
    for (const [name, f] of this.failed) {
      if (f.since < cutoff) this.failed.delete(name);
    }
    if (this.failed.size === 0) return;
    const entries = [...this.failed.values()];
    const pick = entries[Math.floor(this.ctx.random() * entries.length)];
    this.ctx.metrics.reconnects++;
    try {
      await this.net.pushPull(joinHostPort(pick.addr, pick.port), false);
    } catch {
      // Still unreachable; try again later.
    }
  }

  /** Stops every timer, suspicion and waiter; pending probes finish as failed-quietly. */
  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    for (const w of this.ackWaiters.values()) w.timer.cancel();
    this.ackWaiters.clear();
    for (const r of this.nodes.values()) {
      r.suspicion?.cancel();
      r.suspicion = null;
    }
    for (const s of [...this.sleepers]) s();
  }

  // ---- acks --------------------------------------------------------------------------------

  /** Registers handlers for acks/nacks carrying `seq`, dropped after `timeoutMs`. */
  setAckHandler(
    seq: number,
    timeoutMs: number,
    onAck: (payload: Uint8Array | null, at: number) => void,
    onNack: () => void,
    onTimeout: () => void,
  ): void {
    const timer = this.after(timeoutMs, () => {
      this.ackWaiters.delete(seq);
      onTimeout();
    });
    this.ackWaiters.set(seq, { onAck, onNack, timer });
  }

  handleAck(seq: number, payload: Uint8Array | null, at: number): void {
    const w = this.ackWaiters.get(seq);
    if (!w) return;
    this.ackWaiters.delete(seq);
    this.cancel(w.timer);
    w.onAck(payload, at);
  }

  handleNack(seq: number): void {
    this.ackWaiters.get(seq)?.onNack();
  }

  // ---- probing (§9) ------------------------------------------------------------------------

  private scheduleProbe(delay: number): void {
    this.probeDue = this.ctx.clock.now() + delay;
    this.after(delay, () => void this.probeTick(true));
  }

  /**
   * One probe. `scheduled` ticks keep the regular cadence; an unscheduled tick (a suspicion
   * raised by another node) probes at once if no probe is running, without moving the cadence.
   */
  private async probeTick(scheduled: boolean): Promise<void> {
    if (this.probing) {
      if (scheduled) this.tickPending = true;
      return;
    }
    this.probing = true;
    try {
      const target = this.nextProbeTarget(scheduled);
      if (target) await this.probeNode(target);
    } catch {
      // Only an application callback can throw here; the probe loop must keep running.
      this.ctx.metrics.callbackErrors++;
    } finally {
      this.probing = false;
    }
    if (this.ctx.shutdown) return;
    if (scheduled) {
      // Like Go's ticker: the next probe is due one interval after this one was due (a late
      // wake-up does not push back every later probe), at once if the probe overran it.
      const now = this.ctx.clock.now();
      this.scheduleProbe(Math.max(0, this.probeDue + this.ctx.config.probeIntervalMs - now));
    } else if (this.tickPending) {
      // A regular tick fell due during this extra probe: run it now (Go coalesces ticks too).
      this.tickPending = false;
      void this.probeTick(true);
    }
  }

  private nextProbeTarget(scheduled: boolean): NodeRecord | null {
    // A node another member suspects is probed out of turn, so our confirmation (or the
    // node's refutation) arrives within one probe instead of one round-robin cycle.
    while (this.priorityProbes.length > 0) {
      const r = this.nodes.get(this.priorityProbes.shift()!);
      if (r && r.state === NodeStateType.Suspect && r.name !== this.localName) return r;
    }
    if (!scheduled) return null;
    if (!this.ctx.config.probeSlots) return this.roundRobinTarget();
    // Go reaps at the end of each pass over its node list; one pass is a table's worth of probes.
    if (++this.probesSinceReap >= this.list.length) {
      this.probesSinceReap = 0;
      this.reap();
    }
    return this.slotTarget(this.probeSlot());
  }

  /** Go's order (`probeSlots` off): round-robin over the table, reaped and shuffled per pass. */
  private roundRobinTarget(): NodeRecord | null {
    for (let checked = 0; checked < this.list.length; ) {
      if (this.probeIndex >= this.list.length) {
        this.reap();
        this.shuffle();
        this.probeIndex = 0;
        checked++;
        continue;
      }
      const r = this.list[this.probeIndex++];
      if (
        r.name !== this.localName &&
        (r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect)
      ) {
        return r;
      }
      checked++;
    }
    return null;
  }

  private shuffle(): void {
    const l = this.list;
    for (let i = l.length - 1; i > 0; i--) {
      const j = Math.floor(this.ctx.random() * (i + 1));
      [l[i], l[j]] = [l[j], l[i]];
    }
  }

  /**
   * The member to probe in probe slot `slot`. Every isopeer node orders the live members and
   * itself by name (m of them) and probes the one d = 1 + (slot mod (m − 1)) places after
   * itself. For one slot that is a permutation without fixed points, so every member is
   * probed by exactly one member per probe interval, and a dead node is probed within about one
   * interval. With Go's order (each node shuffles its own list every pass) the first probe of a
   * dead node waits for the first of m − 1 independent round-robins to reach it: an exponential
   * tail, over 3.5 s in 1 run of 30 at m = 20, that dominated failure detection's worst case
   * (issue 17). Each node still probes every member once per m − 1 slots, as Go does. Clock
   * skew, Go nodes and views that differ after a change only make some slots collide. Costs two
   * passes over the table and no allocation.
   */
  private slotTarget(slot: number): NodeRecord | null {
    if (this.ringStale || this.ring.length !== this.list.length) {
      this.ring = [...this.list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.ringStale = false;
    }
    const me = this.localName;
    const live = (r: NodeRecord) =>
      r.name === me || r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect;
    let m = 0;
    let self = 0;
    for (const r of this.ring) {
      if (r.name === me) self = m;
      if (live(r)) m++;
    }
    if (m < 2) return null;
    const want = (self + 1 + (slot % (m - 1))) % m;
    let k = 0;
    for (const r of this.ring) {
      if (!live(r)) continue;
      if (k === want) return r;
      k++;
    }
    return null;
  }

  /**
   * The number of the current probe slot: the same on every node, because it counts probe
   * intervals of wall-clock time (`Clock.wallNow`). Rounded against this node's own tick phase,
   * so timer jitter never moves a tick into a neighbouring slot; a repeated slot (a late tick
   * run right after an overrun) moves on to the next one.
   */
  private probeSlot(): number {
    const interval = this.ctx.config.probeIntervalMs;
    const wall = this.ctx.clock.wallNow?.() ?? this.ctx.clock.now();
    this.probePhase ??= wall % interval;
    let slot = Math.round((wall - this.probePhase) / interval);
    // Only a small step back is a repeat; a big one is the wall clock being set back.
    if (slot <= this.lastSlot && slot > this.lastSlot - 3) slot = this.lastSlot + 1;
    this.lastSlot = slot;
    return slot;
  }

  /**
   * Removes Dead records older than gossipToTheDeadTime. Left ones stay, as in Go 0.2.2,
   * unless `includeLeft` (the table is full: forgetting a long-gone node beats refusing a new
   * one).
   */
  private reap(includeLeft = false): void {
    const cutoff = this.ctx.clock.now() - this.ctx.config.gossipToTheDeadTimeMs;
    const keep: NodeRecord[] = [];
    for (const r of this.list) {
      const gone =
        r.state === NodeStateType.Dead || (includeLeft && r.state === NodeStateType.Left);
      if (gone && r.stateChange <= cutoff && r.name !== this.localName) {
        this.nodes.delete(r.name);
      } else keep.push(r);
    }
    if (keep.length !== this.list.length) this.ringStale = true;
    this.list = keep;
  }

  private async probeNode(node: NodeRecord): Promise<void> {
    const { config: c, clock, metrics, awareness } = this.ctx;
    const interval = awareness.scaleTimeout(c.probeIntervalMs);
    const seq = this.nextSeq();
    const ping: Ping = {
      seqNo: seq,
      node: node.name,
      sourceAddr: this.ctx.advertise.bytes,
      sourcePort: this.ctx.advertise.port,
      sourceNode: this.localName,
    };
    const sent = clock.now();
    const deadline = sent + interval;
    let acked = false;
    let nacks = 0;
    let wake: (() => void) | null = null;
    this.setAckHandler(
      seq,
      interval,
      (payload, at) => {
        acked = true;
        // Only direct acks (within probeTimeout) report a round-trip time, as in Go.
        if (at - sent <= c.probeTimeoutMs) {
          this.ctx.hooks.ping?.notifyPingComplete?.(toMemberNode(node), at - sent, payload);
        }
        wake?.();
      },
      () => {
        nacks++;
        if (settled()) wake?.();
      },
      () => wake?.(),
    );
    // The indirect phase may end early once every helper has nacked (they are fine, the
    // target did not answer them) and the TCP fallback was refused or not tried: waiting out
    // the interval could only end the same way. Saves most of a probe interval per failure
    // step; a frozen node (TCP still accepts) is waited for as in Go.
    let expectedNacks = 0;
    let tcpOutcome: boolean | null = null;
    const settled = () =>
      c.earlyProbeFailure && expectedNacks > 0 && nacks >= expectedNacks && tcpOutcome === false;
    metrics.probesSent++;
    const addr = joinHostPort(node.addr, node.port);
    try {
      if (node.state === NodeStateType.Alive) {
        await this.net.sendMsg(addr, { type: MessageType.Ping, body: ping }, node);
      } else {
        const suspect: Suspect = {
          incarnation: node.incarnation,
          node: node.name,
          from: this.localName,
        };
        const msg = makeCompound([
          encodeMessage({ type: MessageType.Ping, body: ping }),
          encodeMessage({ type: MessageType.Suspect, body: suspect }),
        ]);
        await this.net.sendRaw(addr, msg, node);
      }
    } catch {
      // A local send failure says nothing about the target: abandon the probe (as Go does).
      const w = this.ackWaiters.get(seq);
      this.ackWaiters.delete(seq);
      this.cancel(w?.timer ?? null);
      return;
    }
    const waitUntil = async (until: number): Promise<void> => {
      if (acked || this.ctx.shutdown) return;
      await new Promise<void>((resolve) => {
        const t = this.after(Math.max(0, until - clock.now()), () => resolve());
        wake = () => {
          this.cancel(t);
          resolve();
        };
        this.sleepers.add(wake);
      });
      if (wake) this.sleepers.delete(wake);
      wake = null;
    };
    await waitUntil(sent + c.probeTimeoutMs);
    if (this.ctx.shutdown) return;
    if (acked) {
      awareness.apply(-1);
      return;
    }

    // Indirect phase: ask helpers, and try TCP in parallel.
    metrics.indirectProbes++;
    const helpers = this.kRandomNodes(
      c.indirectChecks,
      (r) => r.name !== node.name && r.state === NodeStateType.Alive,
    );
    for (const h of helpers) {
      const wantNack = h.vsn[1] >= 4;
      if (wantNack) expectedNacks++;
      const req: IndirectPingReq = {
        seqNo: seq,
        target: node.addrBytes,
        port: node.port,
        node: node.name,
        nack: wantNack,
        sourceAddr: this.ctx.advertise.bytes,
        sourcePort: this.ctx.advertise.port,
        sourceNode: this.localName,
      };
      void this.net
        .sendMsg(joinHostPort(h.addr, h.port), { type: MessageType.IndirectPing, body: req }, h)
        .catch(() => {});
    }
    let tcp: Promise<boolean> | null = null;
    if (
      !c.disableTcpPings &&
      !(c.disableTcpPingsForNode?.(node.name) ?? false) &&
      node.vsn[1] >= 3
    ) {
      metrics.tcpFallbacks++;
      tcp = this.net.tcpPing(node, ping, deadline);
      void tcp.then((ok) => {
        tcpOutcome = ok;
        if (ok || settled()) wake?.();
      });
    } else {
      tcpOutcome = false;
    }
    if (!settled()) await waitUntil(deadline);
    if (this.ctx.shutdown) return;
    if (acked) {
      awareness.apply(-1);
      return;
    }
    if (tcp && (await tcp)) {
      metrics.tcpFallbackOk++;
      awareness.apply(-1);
      return;
    }
    if (this.ctx.shutdown) return;
    metrics.probesFailed++;
    awareness.apply(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
    this.suspectNode({ incarnation: node.incarnation, node: node.name, from: this.localName });
  }

  /** Being asked to probe `req.node` for another member (§9.3). */
  handleIndirectPing(req: IndirectPingReq, from: string): void {
    const c = this.ctx.config;
    const port = c.protocolVersion < 2 || req.port === 0 ? this.ctx.transport.bindPort : req.port;
    const targetIp = bytesToIp(req.target);
    if (targetIp === null) {
      this.ctx.metrics.drop('decode');
      return;
    }
    const replyIp = req.sourceAddr && req.sourceAddr.length > 0 ? bytesToIp(req.sourceAddr) : null;
    const replyTo =
      replyIp !== null && req.sourcePort ? joinHostPort(replyIp, req.sourcePort) : from;
    const replyNode = req.sourceNode ? this.nodes.get(req.sourceNode) : undefined;
    const seq = this.nextSeq();
    let forwarded = false;
    this.setAckHandler(
      seq,
      c.probeTimeoutMs,
      () => {
        forwarded = true;
        void this.net
          .sendMsg(
            replyTo,
            { type: MessageType.AckResp, body: { seqNo: req.seqNo, payload: null } },
            replyNode,
          )
          .catch(() => {});
      },
      () => {},
      () => {
        if (req.nack && !forwarded) {
          void this.net
            .sendMsg(replyTo, { type: MessageType.NackResp, body: { seqNo: req.seqNo } }, replyNode)
            .catch(() => {});
        }
      },
    );
    const ping: Ping = {
      seqNo: seq,
      node: req.node,
      sourceAddr: this.ctx.advertise.bytes,
      sourcePort: this.ctx.advertise.port,
      sourceNode: this.localName,
    };
    void this.net
      .sendMsg(
        joinHostPort(targetIp, port),
        { type: MessageType.Ping, body: ping },
        this.nodes.get(req.node),
      )
      .catch(() => {});
  }

  /** Up to k random records passing `filter` (never the local node): ≤ 3n random draws (§11.1). */
  kRandomNodes(k: number, filter: (r: NodeRecord) => boolean): NodeRecord[] {
    const n = this.list.length;
    const out: NodeRecord[] = [];
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const r = this.list[Math.floor(this.ctx.random() * n)];
      if (r.name === this.localName || !filter(r) || out.includes(r)) continue;
      out.push(r);
    }
    return out;
  }

  // ---- gossip (§11.1) ----------------------------------------------------------------------

  /**
   * One gossip round; false when every queue is empty and no delegate supplies broadcasts: the
   * loop then parks until something is queued (`broadcastQueued`), as an idle round would send
   * nothing anyway. A delegate with `getBroadcasts` keeps the loop running, since only asking
   * it tells whether it has anything.
   */
  private gossip(): boolean {
    const c = this.ctx.config;
    if (!this.mayHaveBroadcasts()) return false;
    this.ctx.metrics.gossipRounds++;
    const now = this.ctx.clock.now();
    const targets = this.kRandomNodes(c.gossipNodes, (r) => {
      if (r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect) return true;
      return r.state === NodeStateType.Dead && now - r.stateChange <= c.gossipToTheDeadTimeMs;
    });
    const avail =
      c.udpBufferSize - 2 - this.net.encryptionOverhead(false) - this.net.labelOverhead();
    for (const t of targets) {
      const msgs = this.net.getBroadcasts(2, avail);
      if (msgs.length === 0) break;
      // Many tiny application broadcasts can exceed the 127 parts one compound may hold.
      for (const payload of packCompounds(msgs)) {
        void this.net.sendRaw(joinHostPort(t.addr, t.port), payload, t).catch(() => {});
      }
    }
    return true;
  }

  private mayHaveBroadcasts(): boolean {
    if (this.ctx.hooks.delegate?.getBroadcasts || this.ctx.queue.numQueued() > 0) return true;
    return this.ctx.appQueues.some((q) => q.numQueued() > 0);
  }

  // ---- push/pull scheduling (§7.4 plus catch-up) ---------------------------------------------

  /** One push/pull with a random live node. */
  /** One push/pull with a random live node; resolves whether an exchange completed. */
  async pushPullWithRandomNode(kind: 'periodic' | 'catch-up'): Promise<boolean> {
    const [peer] = this.kRandomNodes(1, (r) => r.state === NodeStateType.Alive);
    if (!peer) return false;
    if (kind === 'catch-up') this.ctx.metrics.catchUpPushPulls++;
    try {
      await this.net.pushPull(joinHostPort(peer.addr, peer.port), false);
      return true;
    } catch {
      // Counted in net.ts; the next round picks another peer.
      return false;
    }
  }

  /**
   * After a join (successful or not), extra push/pulls at growing intervals (base, 2×, 4×, …)
   * for up to half the periodic interval: alive messages missed during a burst of joins are
   * repaired within a fraction of a second instead of at the next periodic exchange. A round
   * without a completed exchange (no peer known yet, peer busy) is retried after `base`; the
   * schedule ends early once two exchanges completed and the last taught us no new node.
   * Wire-neutral: these are ordinary push/pulls with Join=false.
   */
  startCatchUp(): void {
    const c = this.ctx.config;
    if (c.catchUpPushPullMs <= 0 || this.catchUpStep >= 0) return;
    this.catchUpStep = 0;
    const baseNow = () => c.catchUpPushPullMs * pushPullScaleMultiplier(this.numNodes());
    const window = c.pushPullIntervalMs > 0 ? c.pushPullIntervalMs / 2 : 10 * baseNow();
    const end = this.ctx.clock.now() + window;
    let learnedBefore = this.nodesLearned;
    const next = (exchanged: boolean) => {
      const quiet = exchanged && this.catchUpStep >= 2 && this.nodesLearned === learnedBefore;
      const delay =
        exchanged || this.catchUpStep === 0 ? baseNow() * 2 ** this.catchUpStep : baseNow();
      if (quiet || this.ctx.clock.now() + delay > end) {
        this.catchUpStep = -1;
        return;
      }
      this.after(delay, () => {
        learnedBefore = this.nodesLearned;
        void this.pushPullWithRandomNode('catch-up').then((ok) => {
          if (ok) this.catchUpStep++;
          next(ok);
        });
      });
    };
    next(false);
  }

  // ---- broadcasts --------------------------------------------------------------------------

  private broadcast(
    key: string,
    bytes: Uint8Array,
    finished?: () => void,
    sent?: (transmits: number) => void,
  ): void {
    this.ctx.metrics.messagesQueued++;
    const b = namedBroadcast(key, bytes, finished);
    this.ctx.queue.queueBroadcast(sent ? { ...b, sent } : b);
  }

  // ---- state machine (§8) -------------------------------------------------------------------

  private emit(event: 'join' | 'leave' | 'update', r: NodeRecord): void {
    this.ctx.events.emit(event, toMemberNode(r));
  }

  private candidate(a: Alive, state: NodeStateType): MemberNode {
    const vsn = a.vsn.length >= 6 ? a.vsn : ZERO_VSN;
    return toMemberNode({
      name: a.node,
      addr: bytesToIp(a.addr) ?? '',
      addrBytes: a.addr,
      port: a.port,
      meta: a.meta,
      incarnation: a.incarnation,
      state,
      stateChange: 0,
      vsn,
      suspicion: null,
    });
  }

  private allowed(addr: Uint8Array): boolean {
    return this.cidrs === null || this.cidrs.some((c) => cidrContains(c, addr));
  }

  /**
   * Applies an alive message (§8.2). `bootstrap` marks locally generated alives (create,
   * updateNode), which are applied without self-refutation. `source` is the peer the message
   * came from, for the per-source limit on new names; undefined exempts it (our own alives,
   * the reply to our join).
   */
  aliveNode(a: Alive, bootstrap: boolean, finished?: () => void, source?: string): void {
    const isLocal = a.node === this.localName;
    if (this.leaving && isLocal) return;
    // Fast path for the common case in gossip and push/pull: old news about a known node at
    // its known address changes nothing (step 5 below), so skip the address and hook work.
    const known = this.nodes.get(a.node);
    if (
      known !== undefined &&
      !isLocal &&
      a.incarnation <= known.incarnation &&
      a.port === known.port &&
      bytesEqual(a.addr, known.addrBytes)
    ) {
      return;
    }
    if (a.vsn.length >= 3 && (a.vsn[0] === 0 || a.vsn[1] === 0 || a.vsn[0] > a.vsn[1])) return;
    const ip = bytesToIp(a.addr);
    if (ip === null) {
      this.ctx.metrics.drop('decode');
      return;
    }
    // Our own incarnation is guarded where we refute; bootstrap alives are our own numbers.
    const adm = this.admission;
    if (!isLocal && adm.absurdIncarnation(a.incarnation, known?.incarnation)) return;
    if (known === undefined && !bootstrap) {
      // Cheap refusals first: a flood of made-up names must not reach the application's hook.
      if (!this.allowed(a.addr)) return;
      if (!adm.admitNewNode(source, this.ctx.clock.now(), this.table)) return;
    }
    if (this.ctx.hooks.alive) {
      if (a.vsn.length < 6) return;
      try {
        if (this.ctx.hooks.alive(this.candidate(a, NodeStateType.Alive)) === false) return;
      } catch {
        return;
      }
    }
    const now = this.ctx.clock.now();
    let r = this.nodes.get(a.node);
    const created = r === undefined;
    let updatesNode = false;
    if (!r) {
      if (!this.allowed(a.addr)) return;
      r = {
        name: internString(a.node),
        ...sharedFields(a, ip, ZERO_VSN),
        port: a.port,
        incarnation: 0,
        state: NodeStateType.Dead,
        stateChange: now,
        suspicion: null,
      };
      this.nodes.set(r.name, r);
      this.nodesLearned++;
      // Insert at a random position so probe order does not follow join order.
      this.list.push(r);
      const j = Math.floor(this.ctx.random() * this.list.length);
      const last = this.list.length - 1;
      [this.list[j], this.list[last]] = [this.list[last], this.list[j]];
    } else if (r.addr !== ip || r.port !== a.port) {
      if (!this.allowed(a.addr)) return;
      const reclaim = this.ctx.config.deadNodeReclaimTimeMs;
      const canReclaim =
        r.state === NodeStateType.Left ||
        (r.state === NodeStateType.Dead && reclaim > 0 && now - r.stateChange > reclaim);
      if (!canReclaim) {
        this.ctx.hooks.conflict?.(toMemberNode(r), this.candidate(a, NodeStateType.Alive));
        return;
      }
      updatesNode = true;
    }
    if (!isLocal && !updatesNode && a.incarnation <= r.incarnation) return;
    if (isLocal && a.incarnation < r.incarnation) return;
    r.suspicion?.cancel();
    r.suspicion = null;
    const oldState = r.state;
    const oldMeta = r.meta;
    if (isLocal && !bootstrap) {
      if (
        a.incarnation === r.incarnation &&
        bytesEqual(a.meta, r.meta) &&
        bytesEqual(a.vsn, r.vsn)
      ) {
        return;
      }
      this.refute(r, a.incarnation);
      return;
    }
    this.broadcast(a.node, encodeMessage({ type: MessageType.Alive, body: a }), finished);
    // A new record already holds these.
    if (!created) Object.assign(r, sharedFields(a, ip, r.vsn));
    r.incarnation = a.incarnation;
    r.port = a.port;
    if (r.state !== NodeStateType.Alive) {
      if (r.state === NodeStateType.Suspect) this.ctx.metrics.suspicionsRefuted++;
      if (r.state === NodeStateType.Dead && !created) this.ctx.metrics.flaps++;
      r.state = NodeStateType.Alive;
      r.stateChange = now;
      this.failed.delete(r.name);
    }
    if (oldState === NodeStateType.Dead || oldState === NodeStateType.Left) this.emit('join', r);
    else if (!bytesEqual(oldMeta, r.meta)) this.emit('update', r);
  }

  /** Applies a suspect message (§8.3). */
  suspectNode(s: Suspect): void {
    const r = this.nodes.get(s.node);
    if (!r) return;
    if (s.incarnation < r.incarnation) return;
    const isLocal = r.name === this.localName;
    if (!isLocal && this.admission.absurdIncarnation(s.incarnation, r.incarnation)) return;
    if (r.suspicion) {
      if (r.suspicion.confirm(s.from)) {
        this.ctx.metrics.suspicionsConfirmed++;
        this.broadcast(s.node, encodeMessage({ type: MessageType.Suspect, body: s }));
      }
      return;
    }
    if (r.state !== NodeStateType.Alive) return;
    if (r.name === this.localName) {
      this.refute(r, s.incarnation);
      return;
    }
    this.broadcast(s.node, encodeMessage({ type: MessageType.Suspect, body: s }));
    this.ctx.metrics.suspicionsRaised++;
    this.ctx.events.emit('suspect', { node: s.node, incarnation: s.incarnation, from: s.from });
    const now = this.ctx.clock.now();
    r.incarnation = s.incarnation;
    r.state = NodeStateType.Suspect;
    r.stateChange = now;
    const c = this.ctx.config;
    const n = this.numNodes();
    let k = c.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeoutMs(c.suspicionMult, n, c.probeIntervalMs);
    const max = c.suspicionMaxTimeoutMult * min;
    const changeTime = now;
    r.suspicion = new Suspicion(this.ctx.clock, s.from, k, min, max, () =>
      this.guard(() => {
        const cur = this.nodes.get(s.node);
        if (!cur || cur.state !== NodeStateType.Suspect || cur.stateChange !== changeTime) return;
        cur.suspicion = null;
        this.deadNode({ incarnation: cur.incarnation, node: cur.name, from: this.localName });
      }),
    );
    if (s.from !== this.localName && c.prioritizeSuspectProbes) {
      if (!this.priorityProbes.includes(s.node)) this.priorityProbes.push(s.node);
      if (!this.probing) this.after(0, () => void this.probeTick(false));
    }
  }

  /**
   * Applies a dead message (§8.4); `From == Node` means the node left. `notify` hears about the
   * transmits of our own leave message (see `Broadcast.sent` / `finished`).
   */
  deadNode(d: Dead, notify?: { finished?(): void; sent?(transmits: number): void }): void {
    const r = this.nodes.get(d.node);
    if (!r) return;
    if (d.incarnation < r.incarnation) return;
    const isLocal = r.name === this.localName;
    if (!isLocal && this.admission.absurdIncarnation(d.incarnation, r.incarnation)) return;
    r.suspicion?.cancel();
    r.suspicion = null;
    if (r.state === NodeStateType.Dead || r.state === NodeStateType.Left) return;
    if (r.name === this.localName) {
      if (!this.leaving) {
        this.refute(r, d.incarnation);
        return;
      }
      this.broadcast(
        d.node,
        encodeMessage({ type: MessageType.Dead, body: d }),
        notify?.finished,
        notify?.sent,
      );
    } else {
      this.broadcast(d.node, encodeMessage({ type: MessageType.Dead, body: d }));
    }
    r.incarnation = d.incarnation;
    r.state = d.from === d.node ? NodeStateType.Left : NodeStateType.Dead;
    r.stateChange = this.ctx.clock.now();
    if (r.state === NodeStateType.Dead) {
      this.ctx.metrics.deaths++;
      if (r.name !== this.localName) {
        // Bounded like the table: made-up names declared dead must not pile up here for
        // reconnectTimeoutMs after their records are gone.
        if (this.failed.size >= this.ctx.config.maxNodes && !this.failed.has(r.name)) {
          const oldest = this.failed.keys().next().value;
          if (oldest !== undefined) this.failed.delete(oldest);
        }
        this.failed.set(r.name, { addr: r.addr, port: r.port, since: r.stateChange });
      }
    }
    this.emit('leave', r);
  }

  /**
   * Refutes an accusation against the local node with a higher incarnation (§8.5), unless
   * admission refuses the accusation (absurd, or an answer past 0xFFFFFFFF): then we stay.
   */
  private refute(me: NodeRecord, accused: number): void {
    const inc = this.admission.refutation(this.incarnation, accused);
    if (inc === null) return;
    this.incarnation = inc;
    me.incarnation = inc;
    this.ctx.awareness.apply(1);
    this.ctx.metrics.suspicionsRefuted++;
    this.ctx.events.emit('refute', { incarnation: inc, accused });
    const a: Alive = {
      incarnation: inc,
      node: me.name,
      addr: me.addrBytes,
      port: me.port,
      meta: me.meta,
      vsn: me.vsn,
    };
    // Keyed by the address string, like Go, so it does not replace gossip about our name.
    this.broadcast(me.addr, encodeMessage({ type: MessageType.Alive, body: a }));
  }

  /** The next local incarnation (create, updateNode). */
  nextIncarnation(): number {
    if (this.incarnation >= MAX_INCARNATION) {
      throw new IncarnationError('the local incarnation number is at 0xFFFFFFFF and cannot grow');
    }
    this.incarnation++;
    return this.incarnation;
  }

  /** A locally generated alive for this node with fresh incarnation and meta. */
  localAlive(meta: Uint8Array | null): Alive {
    return {
      incarnation: this.nextIncarnation(),
      node: this.localName,
      addr: this.ctx.advertise.bytes,
      port: this.ctx.advertise.port,
      meta,
      vsn: this.localVsn(),
    };
  }

  /** Whether a node other than us is alive or suspect (someone to hear our broadcasts). */
  hasLivePeers(): boolean {
    for (const r of this.list) {
      if (r.name === this.localName) continue;
      if (r.state === NodeStateType.Alive || r.state === NodeStateType.Suspect) return true;
    }
    return false;
  }

  // ---- push/pull merge (§7.3, §14.3) --------------------------------------------------------

  /** Every record, for a push/pull message. */
  pushStates(): PushNodeState[] {
    return this.list.map((r) => ({
      name: r.name,
      addr: r.addrBytes,
      port: r.port,
      meta: r.meta,
      incarnation: r.incarnation,
      state: r.state,
      vsn: r.vsn,
    }));
  }

  private verifyProtocol(remote: PushNodeState[]): void {
    let maxPMin = 0;
    let minPMax = 255;
    let maxDMin = 0;
    let minDMax = 255;
    const consider = (v: Uint8Array) => {
      maxPMin = Math.max(maxPMin, v[0]);
      minPMax = Math.min(minPMax, v[1]);
      maxDMin = Math.max(maxDMin, v[3]);
      minDMax = Math.min(minDMax, v[4]);
    };
    for (const rn of remote) {
      if (rn.state === NodeStateType.Alive && rn.vsn.length >= 6) consider(rn.vsn);
    }
    for (const r of this.list) if (r.state === NodeStateType.Alive) consider(r.vsn);
    const check = (name: string, pCur: number, dCur: number) => {
      if (pCur < maxPMin || pCur > minPMax) {
        throw new MergeError(
          `node ${JSON.stringify(name)} uses protocol version ${pCur}, not in the cluster's range [${maxPMin}, ${minPMax}]`,
        );
      }
      if (dCur < maxDMin || dCur > minDMax) {
        throw new MergeError(
          `node ${JSON.stringify(name)} uses delegate protocol version ${dCur}, not in the cluster's range [${maxDMin}, ${minDMax}]`,
        );
      }
    };
    for (const rn of remote) {
      const v = rn.vsn.length >= 6 ? rn.vsn : ZERO_VSN;
      check(rn.name, v[2], v[5]);
    }
    for (const r of this.list) check(r.name, r.vsn[2], r.vsn[5]);
  }

  /**
   * Merges a peer's push/pull records; throws MergeError if the merge is refused. `source` is
   * the peer, for the per-source limit on new names (undefined: the reply to our own join).
   */
  mergeRemoteState(remote: PushNodeState[], join: boolean, source?: string): void {
    this.verifyProtocol(remote);
    if (join && this.ctx.hooks.merge) {
      const nodes = remote.map((rn) =>
        this.candidate(
          {
            incarnation: rn.incarnation,
            node: rn.name,
            addr: rn.addr,
            port: rn.port,
            meta: rn.meta,
            vsn: rn.vsn,
          },
          rn.state,
        ),
      );
      let ok: boolean | undefined;
      try {
        ok = this.ctx.hooks.merge(nodes);
      } catch (err) {
        throw new MergeError(`merge refused by the merge hook: ${(err as Error).message}`);
      }
      if (ok === false) throw new MergeError('merge refused by the merge hook');
    }
    const usePort = this.ctx.config.protocolVersion < 2;
    for (const rn of remote) {
      const port = usePort || rn.port === 0 ? this.ctx.transport.bindPort : rn.port;
      switch (rn.state) {
        case NodeStateType.Alive:
          this.aliveNode(
            {
              incarnation: rn.incarnation,
              node: rn.name,
              addr: rn.addr,
              port,
              meta: rn.meta,
              vsn: rn.vsn,
            },
            false,
            undefined,
            source,
          );
          break;
        case NodeStateType.Left:
          this.deadNode({ incarnation: rn.incarnation, node: rn.name, from: rn.name });
          break;
        case NodeStateType.Dead:
        case NodeStateType.Suspect:
          this.suspectNode({ incarnation: rn.incarnation, node: rn.name, from: this.localName });
          break;
        default:
          break;
      }
    }
  }

  /** Records in table order (for members()). */
  records(): readonly NodeRecord[] {
    return this.list;
  }

  /** Test/diagnostic view: the suspicion of a node, if any. */
  suspicionOf(name: string): Suspicion | null {
    return this.nodes.get(name)?.suspicion ?? null;
  }
}
