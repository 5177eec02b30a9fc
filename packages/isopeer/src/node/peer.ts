// One cluster member of `isopeer node`: a memberlist plus the delegate that implements the line
// protocol's payload rules, delegate state and event reporting.
import { Buffer } from 'node:buffer';
import {
  type Broadcast,
  createMemberlist,
  type Delegate,
  Keyring,
  type Memberlist,
  type MemberNode,
  type TransmitLimitedQueue,
} from '@isopeer/memberlist';
import { type Emit, type NodeEvent, nodeFields } from './events.js';
import { decodeKey, type NodeOptions, presetConfig } from './options.js';
import { encodePayload, parsePayload, rawText } from './payload.js';
import { type JoinPolicy, joinWithRetry, type Window } from './startup-joins.js';

const encoder = new TextEncoder();

/** Answers `converged` bookkeeping for --count (undefined when running a single node). */
export interface ConvergenceGroup {
  size: number;
  converged(self: string): void;
}

export class NodePeer {
  ml!: Memberlist;
  private queue!: TransmitLimitedQueue;
  private meta: Uint8Array;
  private nextId = 0;
  /** Broadcast keys `<from>|<id>` already reported (and re-broadcast) once. */
  private readonly seen = new Set<string>();
  /** Live names by membership events, for --count convergence. */
  private readonly live = new Set<string>();
  private isConverged = false;
  readonly counters = {
    msgsIn: 0,
    broadcastsIn: 0,
    broadcastsRelayed: 0,
    broadcastsSent: 0,
    sendOk: 0,
    sendFailed: 0,
    merges: 0,
    joins: 0,
    leaves: 0,
    updates: 0,
    /** Failed start-up join attempts that were tried again (--count). */
    joinRetries: 0,
  };

  private constructor(
    readonly name: string,
    meta: string,
    private readonly emit: Emit,
    private readonly group: ConvergenceGroup | undefined,
  ) {
    this.meta = encoder.encode(meta);
  }

  static async start(
    opts: NodeOptions,
    name: string,
    port: number,
    emit: Emit,
    group?: ConvergenceGroup,
  ): Promise<NodePeer> {
    const p = new NodePeer(name, opts.meta, emit, group);
    const config = {
      ...presetConfig(opts.config),
      name,
      bindAddr: opts.bind,
      bindPort: port,
      keyring: opts.keys.length > 0 ? new Keyring(opts.keys) : null,
      label: opts.label,
      skipInboundLabelCheck: opts.skipInboundLabelCheck,
    };
    p.ml = await createMemberlist(config, {
      delegate: p.delegate(),
      events: {
        join: (n) => p.onMember('join', n),
        leave: (n) => p.onMember('leave', n),
        update: (n) => p.onMember('update', n),
        // Each refusal, as Go logs each: a peer of another cluster (or none) is talking to us.
        labelRefused: (r) => emit({ event: 'label-refused', self: name, ...r }),
      },
    });
    // Sized like memberlist's own gossip (with its transmit floor): Go's count alone, 2 below 10
    // nodes, loses about one delivery in 14 of the line protocol's broadcasts at 5 nodes.
    p.queue = p.ml.createBroadcastQueue();
    const local = p.ml.localNode();
    emit({ event: 'ready', name, addr: local.addr, port: local.port });
    return p;
  }

  private delegate(): Delegate {
    return {
      nodeMeta: (limit) => this.meta.subarray(0, limit),
      notifyMsg: (msg) => this.onMessage(msg),
      localState: () => encoder.encode(JSON.stringify({ node: this.name, items: {} })),
      mergeRemoteState: (buf, join) => {
        this.counters.merges++;
        let from: string | null = null;
        try {
          const st = JSON.parse(new TextDecoder().decode(buf)) as { node?: unknown };
          if (typeof st?.node === 'string' && st.node !== '') from = st.node;
        } catch {
          // Not our JSON: reported with from = null.
        }
        this.emit({ event: 'merge', self: this.name, from, join });
      },
    };
  }

  private onMember(kind: 'join' | 'leave' | 'update', n: MemberNode): void {
    this.counters[kind === 'join' ? 'joins' : kind === 'leave' ? 'leaves' : 'updates']++;
    this.emit({ event: kind, self: this.name, ...nodeFields(n) });
    if (!this.group || kind === 'update') return;
    if (kind === 'join') this.live.add(n.name);
    else this.live.delete(n.name);
    if (!this.isConverged && this.live.size === this.group.size) {
      this.isConverged = true;
      this.emit({ event: 'converged', self: this.name, members: this.group.size });
      this.group.converged(this.name);
    }
  }

  private onMessage(msg: Uint8Array): void {
    this.counters.msgsIn++;
    const p = parsePayload(msg);
    if (!p) {
      this.emit({ event: 'msg', self: this.name, kind: 'raw', from: null, data: rawText(msg) });
      return;
    }
    if (p.kind === 'broadcast') {
      const key = `${p.from}|${p.id}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      this.counters.broadcastsIn++;
      // Re-broadcast once so delivery spreads epidemically, as the protocol prescribes.
      this.queue.queueBroadcast(uniqueBroadcast(msg.slice()));
      this.counters.broadcastsRelayed++;
    }
    this.emit({ event: 'msg', self: this.name, kind: p.kind, from: p.from, data: p.text });
  }

  broadcast(text: string): void {
    const id = ++this.nextId;
    this.seen.add(`${this.name}|${id}`);
    this.queue.queueBroadcast(uniqueBroadcast(encodePayload('broadcast', this.name, id, text)));
    this.counters.broadcastsSent++;
    this.emit({ event: 'broadcast-queued', self: this.name, data: text, id: String(id) });
  }

  async send(reliable: boolean, to: string, text: string): Promise<void> {
    const mode = reliable ? 'reliable' : 'besteffort';
    const ev: NodeEvent = { event: 'sent', self: this.name, mode, to };
    try {
      const target = this.ml.members().find((m) => m.name === to);
      if (!target) throw new Error('unknown or dead node');
      const payload = encodePayload(mode, this.name, ++this.nextId, text);
      if (reliable) await this.ml.sendReliable(target, payload);
      else await this.ml.sendBestEffort(target, payload);
      this.counters.sendOk++;
      ev.ok = true;
    } catch (err) {
      this.counters.sendFailed++;
      ev.ok = false;
      ev.error = (err as Error).message;
    }
    this.emit(ev);
  }

  setMeta(text: string): Promise<void> {
    this.meta = encoder.encode(text);
    return this.ml.updateNode(5_000);
  }

  /** One join attempt (the `join` command and single-node `--join`): reported, never retried. */
  async join(addresses: string[]): Promise<void> {
    const ev: NodeEvent = { event: 'joined', self: this.name };
    try {
      ev.contacted = await this.ml.join(addresses);
      ev.ok = true;
    } catch (err) {
      ev.contacted = 0;
      ev.ok = false;
      ev.error = (err as Error).message;
    }
    this.emit(ev);
  }

  /**
   * A start-up join of --count: paced through `window` and retried with backoff; every failed
   * attempt that is retried is reported as `join-retry` and counted in `stats.joinRetries`, the
   * outcome as one `joined` with `attempts`.
   */
  async joinRetrying(
    addresses: string[],
    window: Window,
    policy: JoinPolicy,
    alive: () => boolean,
  ): Promise<void> {
    const out = await joinWithRetry(() => this.ml.join(addresses), window, policy, {
      alive,
      retrying: (attempt, error, delayMs) => {
        this.counters.joinRetries++;
        this.emit({ event: 'join-retry', self: this.name, attempt, error, delayMs });
      },
    });
    this.emit({ event: 'joined', self: this.name, ...out });
  }

  async leave(timeoutMs: number): Promise<void> {
    const ev: NodeEvent = { event: 'left', self: this.name };
    try {
      await this.ml.leave(timeoutMs);
      ev.ok = true;
    } catch (err) {
      ev.ok = false;
      ev.error = (err as Error).message;
    }
    this.emit(ev);
  }

  members(): void {
    const list = this.ml.members().map((m) => {
      const { incarnation: _i, ...fields } = nodeFields(m);
      return fields;
    });
    this.emit({ event: 'members', self: this.name, count: list.length, members: list });
  }

  health(): void {
    this.emit({ event: 'health', self: this.name, score: this.ml.healthScore() });
  }

  /**
   * `key list|install|use|remove`: the keyring is changed in place, as Go applications do; a
   * node started without keys gets its keyring (and encryption) with the first install.
   */
  key(op: string, b64: string | undefined): void {
    if (!['list', 'install', 'use', 'remove'].includes(op)) {
      throw new Error(`unknown key operation ${JSON.stringify(op)} (list, install, use, remove)`);
    }
    if (op !== 'list') {
      if (b64 === undefined) throw new Error(`key ${op} needs a base64 key`);
      const key = decodeKey(b64, 'key');
      const keyring = this.ml.keyring;
      if (op === 'install') {
        if (keyring) keyring.addKey(key);
        else this.ml.setKeyring(new Keyring([key]));
      } else if (!keyring) {
        throw new Error(`key ${op}: no keys installed`);
      } else if (op === 'use') keyring.useKey(key);
      else keyring.removeKey(key);
    }
    const b = (k: Uint8Array) => Buffer.from(k).toString('base64');
    const keyring = this.ml.keyring;
    this.emit({
      event: 'keys',
      self: this.name,
      keys: (keyring?.keys ?? []).map(b),
      primary: keyring && keyring.keys.length > 0 ? b(keyring.primaryKey) : null,
    });
  }

  /** `verify [incoming|outgoing on|off]`: the gossip verify switches, changed live. */
  verify(direction?: 'incoming' | 'outgoing', on?: boolean): void {
    if (direction !== undefined && on !== undefined) this.ml.setGossipVerify({ [direction]: on });
    this.emit({ event: 'verify', self: this.name, ...this.ml.gossipVerify });
  }

  stats(): void {
    const m = this.ml.metrics() as unknown as Record<string, unknown>;
    this.emit({
      event: 'stats',
      self: this.name,
      members: this.ml.numMembers(),
      health: this.ml.healthScore(),
      incarnation: this.ml.localNode().incarnation,
      queued: this.queue.numQueued(),
      ...this.counters,
      memberlist: m,
    });
  }
}

/** Every application payload is distinct, so none replaces another in the queue. */
function uniqueBroadcast(message: Uint8Array): Broadcast {
  return { message, unique: true };
}
