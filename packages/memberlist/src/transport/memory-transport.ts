// An in-memory network for deterministic many-node tests in one process: packets and streams
// between transports, with per-link faults (drop rate, delay, partitions) driven by a seedable
// random source and a pluggable clock (a VirtualClock runs simulations faster than real time).
import { parseHostPort } from '../address.js';
import { type Clock, realClock, seededRandom } from '../clock.js';
import { ChunkInbox } from './chunk-inbox.js';
import {
  type StreamConn,
  type Transport,
  TransportError,
  type TransportHandlers,
} from './transport.js';

export interface LinkFault {
  /** Probability in [0, 1] that a datagram on this link is lost. */
  dropRate?: number;
  /** One-way delay of datagrams (ms). */
  delayMs?: number;
}

export interface MemoryNetworkOptions {
  clock?: Clock;
  /** Seed of the network's random source (packet loss decisions). */
  seed?: number;
  /** Fault applied to every link without its own. */
  defaultFault?: LinkFault;
}

/** In-memory stream end; its peer end receives what it writes. */
class MemoryConn implements StreamConn {
  peer: MemoryConn | null = null;
  private readonly inbox = new ChunkInbox();

  constructor(
    readonly remoteAddr: string,
    private readonly onClose: (c: MemoryConn) => void,
  ) {}

  deliver(c: Uint8Array): void {
    this.inbox.push(c);
  }

  end(): void {
    if (this.inbox.end()) this.onClose(this);
  }

  read(): Promise<Uint8Array | null> {
    return this.inbox.read();
  }

  write(data: Uint8Array): Promise<void> {
    if (this.inbox.isEnded || !this.peer) {
      return Promise.reject(new TransportError('connection closed', 'ERR_STREAM_CLOSED'));
    }
    const peer = this.peer;
    const copy = Uint8Array.from(data);
    queueMicrotask(() => peer.deliver(copy));
    return Promise.resolve();
  }

  close(): void {
    const peer = this.peer;
    this.end();
    // The peer sees end-of-stream after any data already in flight.
    if (peer) queueMicrotask(() => queueMicrotask(() => peer.end()));
  }
}

export class MemoryNetwork {
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly nodes = new Map<string, MemoryTransport>();
  private readonly faults = new Map<string, LinkFault>();
  private readonly groups = new Map<string, number>();
  private defaultFault: LinkFault;
  private nextHost = 1;
  /** Datagrams lost to faults or partitions, and delivered. */
  readonly stats = { sent: 0, dropped: 0, delivered: 0 };

  constructor(opts: MemoryNetworkOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.random = seededRandom(opts.seed ?? 1);
    this.defaultFault = opts.defaultFault ?? {};
  }

  /**
   * A transport with its own address. Without `addr`, addresses 127.1.x.y:7946 are handed out
   * in order (loopback-range literals; nothing leaves the process).
   */
  createTransport(addr?: string): MemoryTransport {
    let a = addr;
    if (!a) {
      const n = this.nextHost++;
      a = `127.${1 + ((n >> 16) & 0xff)}.${(n >> 8) & 0xff}.${n & 0xff}:7946`;
    }
    const { host, port } = parseHostPort(a, 7946);
    const key = `${host}:${port}`;
    if (this.nodes.has(key)) throw new TransportError(`address ${key} in use`, 'ERR_BIND');
    const t = new MemoryTransport(this, host, port);
    this.nodes.set(key, t);
    return t;
  }

  /** Sets the fault of the directed link from → to (`host:port`), or of both directions. */
  setLinkFault(from: string, to: string, fault: LinkFault, bothWays = true): void {
    this.faults.set(`${from}>${to}`, fault);
    if (bothWays) this.faults.set(`${to}>${from}`, fault);
  }

  /** Fault for links without their own (e.g. `{dropRate: 0.1}` for 10% loss everywhere). */
  setDefaultFault(fault: LinkFault): void {
    this.defaultFault = fault;
  }

  /** Splits the listed addresses into groups that cannot reach each other (packets or streams).
   * Addresses not listed keep reaching everyone. */
  partition(groups: string[][]): void {
    this.groups.clear();
    groups.forEach((g, i) => {
      for (const a of g) this.groups.set(a, i);
    });
  }

  /** Lifts all partitions. */
  heal(): void {
    this.groups.clear();
  }

  private blocked(from: string, to: string): boolean {
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a !== undefined && b !== undefined && a !== b;
  }

  /** @internal */
  unregister(t: MemoryTransport): void {
    const key = `${t.bindAddr}:${t.bindPort}`;
    if (this.nodes.get(key) === t) this.nodes.delete(key);
  }

  /** @internal */
  sendPacket(from: string, to: string, data: Uint8Array): void {
    this.stats.sent++;
    const key = normalize(to);
    const fault = this.faults.get(`${from}>${key}`) ?? this.defaultFault;
    if (this.blocked(from, key) || (fault.dropRate && this.random() < fault.dropRate)) {
      this.stats.dropped++;
      return;
    }
    const copy = Uint8Array.from(data);
    this.clock.setTimeout(() => {
      const dst = this.nodes.get(key);
      if (!dst) return;
      this.stats.delivered++;
      dst.receivePacket(copy, from);
    }, fault.delayMs ?? 0);
  }

  /** @internal */
  dial(from: MemoryTransport, to: string, timeoutMs: number): Promise<StreamConn> {
    const key = normalize(to);
    const src = `${from.bindAddr}:${from.bindPort}`;
    if (this.blocked(src, key)) {
      // Unreachable host: the dial hangs until its timeout, as TCP would.
      return new Promise((_, reject) => {
        const pending = {
          cancel: () => {
            t.cancel();
            reject(new TransportError('transport closed', 'ERR_CLOSED'));
          },
        };
        const t = this.clock.setTimeout(() => {
          from.untrackTimer(pending);
          reject(
            new TransportError(`dial ${to} timed out after ${timeoutMs} ms`, 'ERR_DIAL_TIMEOUT'),
          );
        }, timeoutMs);
        from.trackTimer(pending);
      });
    }
    const dst = this.nodes.get(key);
    if (!dst)
      return Promise.reject(new TransportError(`dial ${to}: connection refused`, 'ERR_DIAL'));
    const local = new MemoryConn(key, (c) => from.untrack(c));
    const remote = new MemoryConn(src, (c) => dst.untrack(c));
    local.peer = remote;
    remote.peer = local;
    from.track(local);
    dst.track(remote);
    queueMicrotask(() => dst.acceptStream(remote));
    return Promise.resolve(local);
  }
}

function normalize(addr: string): string {
  const { host, port } = parseHostPort(addr, 0);
  return `${host}:${port}`;
}

export class MemoryTransport implements Transport {
  private handlers: TransportHandlers | null = null;
  private readonly conns = new Set<StreamConn>();
  private readonly timers = new Set<{ cancel(): void }>();
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly bindAddr: string,
    readonly bindPort: number,
  ) {}

  /** This transport's `host:port`. */
  get address(): string {
    return `${this.bindAddr}:${this.bindPort}`;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  sendPacket(to: string, data: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('transport closed', 'ERR_CLOSED'));
    this.network.sendPacket(this.address, to, data);
    return Promise.resolve();
  }

  dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.closed) return Promise.reject(new TransportError('transport closed', 'ERR_CLOSED'));
    return this.network.dial(this, to, timeoutMs);
  }

  /** @internal */
  receivePacket(data: Uint8Array, from: string): void {
    if (!this.closed && data.length > 0) this.handlers?.packet(data, from);
  }

  /** @internal */
  acceptStream(c: StreamConn): void {
    if (this.closed || !this.handlers) c.close();
    else this.handlers.stream(c);
  }

  /** @internal */
  track(c: StreamConn): void {
    this.conns.add(c);
  }

  /** @internal */
  untrack(c: StreamConn): void {
    this.conns.delete(c);
  }

  /** @internal */
  trackTimer(t: { cancel(): void }): void {
    this.timers.add(t);
  }

  /** @internal */
  untrackTimer(t: { cancel(): void }): void {
    this.timers.delete(t);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.network.unregister(this);
    for (const c of [...this.conns]) c.close();
    const timers = [...this.timers];
    this.timers.clear();
    for (const t of timers) t.cancel();
  }
}
