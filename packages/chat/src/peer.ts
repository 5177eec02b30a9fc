/**
 * The chat peer: composes a memberlist node, the bootstrap service client and the chat layer, and
 * exposes the original prototype's steps (configure, create, bootstrap join, start broadcasting,
 * join, start chat) as methods that the console commands call. It never prints: everything a
 * person should see goes to the console's output stream; diagnostics go to the `chat` logger.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { BootstrapData, PeerRecord } from '@isopeer/bootstrap';
import {
  type Console,
  defaultGoMemberlistConfig,
  type GoMemberlistConfig,
  type LineWriter,
  type SubLogger,
} from '@isopeer/console';
import {
  type Config,
  createMemberlist,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  Keyring,
  type Memberlist,
  type MemberNode,
  NetTransport,
  namedBroadcast,
  TransmitLimitedQueue,
} from '@isopeer/memberlist';
import { type BootstrapApi, isTransientBootstrapError } from './bootstrap-api.js';
import { chatLine, lineKind, sanitizeLine, statusLine } from './chat-line.js';
import {
  ChatListener,
  type ChatListenerOptions,
  pingChatListener,
  sendChatLine,
} from './chat-transport.js';
import { memberlistConfigFromGo } from './config-map.js';
import { ChatError } from './errors.js';
import { KvItems } from './kv-items.js';
import { decodeKvUpdates, encodeKvUpdates, isKvMessage, type KvUpdate } from './kv-update.js';
import { MemberCache } from './member-cache.js';
import {
  type ChatMemberRecord,
  decodeMemberRecord,
  decodeRemoteState,
  encodeLocalState,
  encodeMemberRecord,
  MsgType,
  timestampNow,
} from './member-record.js';
import { Partitions, PartitionTransport } from './partitions.js';
import { displayNameOf, isValidChatName, nodeNameFor, uuidOfNodeName } from './peer-name.js';
import { refillCandidates, withBackoff } from './refill.js';

export type ConfigPreset = 'local' | 'lan' | 'wan';

export interface ChatPeerOptions {
  /** The chat name people see (`alice`). */
  name: string;
  console: Console;
  /** The bootstrap service; without one the bootstrap steps fall back to the member cache. */
  bootstrap?: BootstrapApi;
  /** Address memberlist and the chat listener bind to; default 127.0.0.1 (as the original). */
  bindAddr?: string;
  /** memberlist port; default 0 (ephemeral). */
  bindPort?: number;
  /** Address told to others (needed when binding 0.0.0.0); default: derived from bindAddr. */
  advertiseAddr?: string;
  /** memberlist preset; default `local` (Go's DefaultLocalConfig, as the original). */
  preset?: ConfigPreset;
  /** File of recently seen members (fallback when the bootstrap service is unreachable). */
  cacheFile?: string;
  hostname?: string;
  /** Bootstrap id and node-name suffix; default a random UUID. */
  uuid?: string;
  listener?: ChatListenerOptions;
  /**
   * Time for one chat line to one member; default 5000 ms. Linux resends a lost SYN after 1 s and
   * 3 s: 5 s outlasts two lost handshakes, 3 s only one (at 10% packet loss each way, 1.8% of
   * lines failed with 3 s, none of 1000 with 5 s).
   */
  sendTimeoutMs?: number;
  /** Bootstrap requests: attempts and first backoff delay; default 3 and 200 ms. */
  bootstrapRetry?: { attempts: number; baseDelayMs: number };
  /** Rejoin attempts when the peer finds itself alone: first and longest delay. */
  rejoinDelayMs?: { min: number; max: number };
  /** memberlist encryption keys (AES, 16/24/32 bytes); the first is primary. Default: none. */
  keys?: Uint8Array[];
}

export interface ChatPeerEvents {
  /** `exit` or `quit` finished: the application should end with this code. */
  exit: [number];
}

export interface Delivery {
  delivered: string[];
  failed: Array<{ name: string; error: string }>;
}

const SELF_BROADCAST = 'chat-self';
const CACHE_SAVE_DELAY_MS = 1_000;
const JOIN_GOSSIP_WAIT_MS = 3_000;

/** Maps that only help (restoring returning members, timing pings) stay small: oldest out. */
const MAX_REMEMBERED = 256;
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

function hostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Why a join failed, without the address memberlist puts first (the caller names the peer). */
function joinReason(r: PromiseRejectedResult): string {
  const msg = (r.reason as Error)?.message ?? String(r.reason);
  return msg.replace(/^join failed: [^ ]+: /, '');
}

/** Whether a TCP connection to host:port opens within the time (memberlist listens on TCP too). */
function tcpReachable(host: string, port: number | string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function presetConfig(preset: ConfigPreset): Config {
  return preset === 'lan'
    ? defaultLANConfig()
    : preset === 'wan'
      ? defaultWANConfig()
      : defaultLocalConfig();
}

export class ChatPeer extends EventEmitter<ChatPeerEvents> {
  readonly name: string;
  /** Bootstrap id (a UUID), also the end of the node name. */
  readonly id: string;
  readonly nodeName: string;
  /** Unix seconds at peer start, the `timestamp` of the bootstrap peer record. */
  readonly startedAt: string;
  readonly console: Console;
  readonly bootstrap: BootstrapApi | undefined;
  readonly preset: ConfigPreset;
  readonly listener: ChatListener;
  /** Known chat members by node name, this peer included once the chat started. */
  readonly members = new Map<string, ChatMemberRecord>();
  /** The replicated key/value items of `broadcastadd` / `broadcastdel`. */
  readonly kv = new KvItems();
  readonly cache: MemberCache | undefined;

  goConfig: GoMemberlistConfig | undefined;
  memberlist: Memberlist | undefined;
  transport: PartitionTransport | undefined;
  queue: TransmitLimitedQueue | undefined;
  self: ChatMemberRecord | undefined;
  /** The last bootstrap document this peer received. */
  bootstrapData: BootstrapData | undefined;
  /**
   * Encryption keys for `memberlistcreate` (the `keyring` commands change them); once the node
   * runs, the same object as its live configuration's keyring.
   */
  keyring: Keyring | null;

  private readonly out: LineWriter;
  private readonly log: SubLogger;
  private readonly bindAddr: string;
  private readonly bindPort: number;
  private readonly advertiseAddr: string;
  private readonly sendTimeoutMs: number;
  private readonly retry: { attempts: number; baseDelayMs: number };
  private readonly rejoinDelay: { min: number; max: number };
  /** Records of members that failed, restored if memberlist sees them come back. */
  private readonly departed = new Map<string, ChatMemberRecord>();
  private readonly closer = new AbortController();
  private cacheTimer: NodeJS.Timeout | undefined;
  private rejoinTimer: NodeJS.Timeout | undefined;
  private rejoinDelayNow = 0;
  private quitting = false;
  private closed = false;
  private readonly pendingPings = new Map<string, number>();
  /** Peers cut off by `testpartition`. */
  readonly partitions = new Partitions((address) => {
    const node = this.memberlist?.allNodes().find((n) => hostPort(n.addr, n.port) === address);
    return node?.name;
  });

  constructor(opts: ChatPeerOptions) {
    super();
    if (!isValidChatName(opts.name)) {
      throw new ChatError(
        'CHAT_ARGS',
        `invalid chat name ${JSON.stringify(opts.name)}: 1 to 64 characters, no spaces, "/", "<" or ">"`,
      );
    }
    this.name = opts.name;
    this.id = opts.uuid ?? randomUUID();
    const host = (opts.hostname ?? osHostname()).replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
    this.nodeName = nodeNameFor(opts.name, host, this.id);
    this.startedAt = String(Math.floor(Date.now() / 1000));
    this.console = opts.console;
    this.bootstrap = opts.bootstrap;
    this.preset = opts.preset ?? 'local';
    this.bindAddr = opts.bindAddr ?? '127.0.0.1';
    this.bindPort = opts.bindPort ?? 0;
    this.advertiseAddr = opts.advertiseAddr ?? '';
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 5_000;
    this.retry = opts.bootstrapRetry ?? { attempts: 3, baseDelayMs: 200 };
    this.rejoinDelay = opts.rejoinDelayMs ?? { min: 1_000, max: 30_000 };
    this.keyring = opts.keys && opts.keys.length > 0 ? new Keyring(opts.keys) : null;
    this.out = opts.console.writer('chat');
    this.log = opts.console.logger.child('chat');
    this.cache = opts.cacheFile ? new MemberCache(opts.cacheFile) : undefined;
    this.listener = new ChatListener(opts.listener);
    this.listener.on('line', ({ text }) => {
      const line = sanitizeLine(text);
      if (this.partitions.line(line)) return;
      this.console.write(lineKind(line), line, 'chat');
    });
    this.listener.on('ping', (remote) => this.log.debug('reachability ping', { remote }));
    this.listener.on('rejected', (r) => this.log.warn('chat connection rejected', r));
  }

  /** Reads the member cache; call once before `init`. */
  async loadCache(): Promise<void> {
    const problem = await this.cache?.load();
    if (problem) this.out.warn(problem);
  }

  /** The replicated items, key → message. */
  get items(): ReadonlyMap<string, string> {
    return this.kv.items;
  }

  // ---- memberlist ------------------------------------------------------------------------------

  /** The configuration `/showconfig` shows: the one set up by memberlistconfigure, or the preset. */
  currentGoConfig(): GoMemberlistConfig {
    return this.goConfig ?? this.presetGoConfig();
  }

  private presetGoConfig(): GoMemberlistConfig {
    return {
      ...defaultGoMemberlistConfig(this.preset, this.nodeName),
      BindAddr: this.bindAddr,
      BindPort: this.bindPort,
      AdvertiseAddr: this.advertiseAddr,
    };
  }

  /** `memberlistconfigure [BindPort <port>]`: a fresh preset configuration. */
  configure(bindPort?: number): GoMemberlistConfig {
    this.goConfig = this.presetGoConfig();
    if (bindPort !== undefined) this.goConfig.BindPort = bindPort;
    return this.goConfig;
  }

  /**
   * Takes a configuration (`/loadconfig`). The node name stays this peer's own: it carries the
   * bootstrap id, and a file saved by another peer names that peer. Returns a note if it differed.
   */
  setGoConfig(config: GoMemberlistConfig): string | undefined {
    this.goConfig = { ...config, Name: this.nodeName };
    if (config.Name === this.nodeName || config.Name === '') return undefined;
    return `Name ${JSON.stringify(config.Name)} from the file is not used: this peer is ${this.nodeName}`;
  }

  /** `memberlistcreate`: binds the node and starts probing; nobody else is known yet. */
  async create(): Promise<Memberlist> {
    if (this.memberlist) {
      throw new ChatError('CHAT_STATE', 'the memberlist already exists (/memberlistdelete first)');
    }
    if (!this.goConfig)
      throw new ChatError('CHAT_STATE', 'no configuration yet: run /memberlistconfigure');
    const config = memberlistConfigFromGo(this.goConfig, presetConfig(this.preset));
    if (this.keyring) {
      // Go's rule for a SecretKey beside a keyring: it is installed and becomes primary.
      if (config.keyring) {
        this.keyring.addKey(config.keyring.primaryKey);
        this.keyring.useKey(config.keyring.primaryKey);
      }
      config.keyring = this.keyring;
    }
    const inner = await NetTransport.create({
      bindAddr: config.bindAddr,
      bindPort: config.bindPort,
    });
    const transport = new PartitionTransport(inner, (addr) => this.partitions.address(addr));
    try {
      this.memberlist = await createMemberlist(config, {
        transport,
        delegate: {
          nodeMeta: () => Buffer.from(this.name),
          notifyMsg: (msg) => this.onUserMessage(msg),
          getBroadcasts: (overhead, limit) => this.queue?.getBroadcasts(overhead, limit) ?? [],
          localState: () => encodeLocalState(this.members),
          mergeRemoteState: (buf, join) => this.onRemoteState(buf, join),
        },
        events: {
          join: (node) => this.onNodeJoin(node),
          leave: (node) => this.onNodeLeave(node),
        },
      });
    } catch (e) {
      await transport.close();
      throw new ChatError('CHAT_CONFIG', `cannot create the memberlist: ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.transport = transport;
    // createMemberlist copies the config but not the keyring: changes to it reach the live node.
    this.keyring = this.memberlist.config.keyring;
    return this.memberlist;
  }

  requireMemberlist(): Memberlist {
    if (!this.memberlist)
      throw new ChatError('CHAT_STATE', 'no memberlist yet: run /memberlistcreate');
    return this.memberlist;
  }

  /** `memberliststart`: the broadcast queue that carries chat records (RetransmitMult 3). */
  startBroadcasts(): void {
    const ml = this.requireMemberlist();
    if (!this.queue) this.queue = new TransmitLimitedQueue(() => ml.numMembers(), 3);
  }

  private requireQueue(): TransmitLimitedQueue {
    if (!this.queue)
      throw new ChatError('CHAT_STATE', 'broadcasting is not started: run /memberliststart');
    return this.queue;
  }

  /**
   * `memberlistjoin [addr...]`: joins the given addresses, or the bootstrap peers (all but this
   * one), or — when the service could not be asked — the cached members. Bootstrap peers that do
   * not answer are taken off the service's list (crashed peers would otherwise stay there for
   * good) and this peer offers itself in their place. Resolves with the number of nodes contacted
   * (0 when there was nobody to join); rejects when nobody answered.
   */
  async join(addresses?: string[]): Promise<number> {
    const ml = this.requireMemberlist();
    if (addresses && addresses.length > 0) return ml.join(addresses);
    const peers = this.bootstrapPeersToJoin();
    const fromCache = this.cacheTargets();
    if (!peers) {
      if (fromCache.length === 0) return 0;
      return ml.join(fromCache);
    }
    if (peers.length === 0) return 0;
    const results = await Promise.allSettled(peers.map((p) => ml.join([hostPort(p.ip, p.port)])));
    const failed = peers
      .map((p, i) => ({ p, r: results[i]! }))
      .filter((x): x is { p: PeerRecord; r: PromiseRejectedResult } => x.r.status === 'rejected');
    const joined = peers.length - failed.length;
    // A peer that accepts a connection is alive even if it refused us (another encryption key,
    // an incompatible version): only peers nobody can reach are taken off the list, or a peer
    // with a wrong key would evict every healthy bootstrap peer.
    const reachable = await Promise.all(failed.map((f) => tcpReachable(f.p.ip, f.p.port)));
    const dead = failed.filter((_f, i) => !reachable[i]).map((f) => f.p);
    const refused = failed.filter((_f, i) => reachable[i]);
    for (const f of refused) {
      this.out.warn(`<warn> bootstrap peer ${f.p.name} refused the join: ${joinReason(f.r)}`);
    }
    if (dead.length > 0) {
      this.out.warn(
        `<warn> ${dead.length} bootstrap peer(s) did not answer: ${dead.map((p) => p.name).join(', ')}`,
      );
      void this.pruneBootstrapPeers(dead).catch((e) =>
        this.out.warn(`could not update the bootstrap list: ${(e as Error).message}`),
      );
    }
    if (joined > 0) return joined;
    if (fromCache.length > 0) {
      this.out.warn(`trying ${fromCache.length} cached member(s)`);
      return ml.join(fromCache);
    }
    if (refused.length > 0) {
      throw new ChatError(
        'CHAT_NETWORK',
        `every bootstrap peer refused the join: ${joinReason(refused[0]!.r)}; no cached member is known`,
      );
    }
    throw new ChatError('CHAT_NETWORK', 'no bootstrap peer answered and no cached member is known');
  }

  /** Removes unreachable peers from the bootstrap list and offers this peer if there is room. */
  private async pruneBootstrapPeers(dead: PeerRecord[]): Promise<void> {
    let data: BootstrapData | undefined;
    for (const p of dead)
      data = this.remember(await this.bootstrapCall('leave', (bs) => bs.leave(p.id)));
    if (!data || Object.values(data.Peers).some((p) => p.id === this.id)) return;
    if (data.Config.numpeers < data.Config.maxpeers) {
      this.remember(await this.bootstrapCall('refill', (bs) => bs.refill(this.peerRecord())));
    }
  }

  /** Bootstrap peers other than this one, or undefined without bootstrap data. */
  private bootstrapPeersToJoin(): PeerRecord[] | undefined {
    if (!this.bootstrapData) return undefined;
    return Object.values(this.bootstrapData.Peers).filter(
      (p) => p.id !== this.id && p.name !== this.nodeName,
    );
  }

  /** Addresses of the bootstrap peers other than this one, or undefined without bootstrap data. */
  private bootstrapTargets(): string[] | undefined {
    if (!this.bootstrapData) return undefined;
    return Object.values(this.bootstrapData.Peers)
      .filter((p) => p.id !== this.id && p.name !== this.nodeName)
      .map((p) => hostPort(p.ip, p.port));
  }

  private cacheTargets(): string[] {
    return this.cache?.list(this.nodeName).map((m) => m.address) ?? [];
  }

  // ---- bootstrap -------------------------------------------------------------------------------

  requireBootstrap(): BootstrapApi {
    if (!this.bootstrap) {
      throw new ChatError(
        'CHAT_BOOTSTRAP',
        'no bootstrap service configured (--bootstrap URL or BOOTSTRAP_DATA_SERVER)',
      );
    }
    return this.bootstrap;
  }

  /** This peer's record for the bootstrap service (memberlist address, start time). */
  peerRecord(): PeerRecord {
    const local = this.requireMemberlist().localNode();
    return {
      id: this.id,
      name: this.nodeName,
      ip: local.addr,
      port: String(local.port),
      protocol: 'tcp',
      status: '0',
      timestamp: this.startedAt,
    };
  }

  /** Runs a bootstrap request with retries (backoff) for transient failures. */
  bootstrapCall<T>(what: string, fn: (bs: BootstrapApi) => Promise<T>): Promise<T> {
    const bs = this.requireBootstrap();
    return withBackoff(() => fn(bs), {
      attempts: this.retry.attempts,
      baseDelayMs: this.retry.baseDelayMs,
      maxDelayMs: 5_000,
      signal: this.closer.signal,
      retryable: isTransientBootstrapError,
      onRetry: (err, attempt, delay) =>
        this.log.info('bootstrap retry', {
          what,
          attempt,
          delayMs: delay,
          error: String((err as Error).message),
        }),
    });
  }

  /** Keeps a document the service sent, as the local copy `bootstraplistlocal` shows. */
  private remember(data: BootstrapData): BootstrapData {
    this.bootstrapData = data;
    return data;
  }

  /**
   * `bootstrapjoin`: ping, then join with this node's address. When the service cannot be
   * reached even after retries, the peer goes on with its member cache (the error says so) —
   * the result tells which source the next `memberlistjoin` will use.
   */
  async bootstrapJoin(): Promise<
    { source: 'bootstrap'; data: BootstrapData } | { source: 'cache'; count: number; error: string }
  > {
    const record = this.peerRecord();
    try {
      await this.bootstrapCall('ping', (bs) => bs.ping());
      const data = this.remember(await this.bootstrapCall('join', (bs) => bs.join(record)));
      return { source: 'bootstrap', data };
    } catch (e) {
      if (this.bootstrap && !isTransientBootstrapError(e)) throw e;
      const count = this.cacheTargets().length;
      return { source: 'cache', count, error: (e as Error).message };
    }
  }

  // ---- chat --------------------------------------------------------------------------------------

  /**
   * `chatstart`: listens for chat lines, announces this member (JOIN record over gossip) and
   * greets every known member with `<joined> NAME has joined`.
   */
  async chatStart(): Promise<Delivery> {
    const ml = this.requireMemberlist();
    const queue = this.requireQueue();
    if (this.listener.listening) throw new ChatError('CHAT_STATE', 'the chat is already started');
    const { port } = await this.listener.listen(this.bindAddr, 0);
    const host =
      this.bindAddr === '0.0.0.0' || this.bindAddr === '::' ? ml.localNode().addr : this.bindAddr;
    this.self = {
      msgType: MsgType.JOIN,
      name: this.nodeName,
      sender: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
      timestamp: timestampNow(),
    };
    this.members.set(this.nodeName, this.self);
    // Wait (briefly) until the JOIN record has been gossiped as often as memberlist sends news,
    // so that a message sent right after `init` reaches members who learned of us only now.
    const gossiped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, JOIN_GOSSIP_WAIT_MS);
      queue.queueBroadcast(
        namedBroadcast(SELF_BROADCAST, encodeMemberRecord(this.self!), () => {
          clearTimeout(timer);
          resolve();
        }),
      );
    });
    const greeting = this.sendToMembers(statusLine('joined', `${this.name} has joined`));
    if (ml.numMembers() > 1) await gossiped;
    return greeting;
  }

  /** `chatstop`: stops the listener; this member stays known to the others. */
  async chatStop(): Promise<void> {
    if (!this.listener.listening) throw new ChatError('CHAT_STATE', 'the chat is not started');
    await this.listener.close();
  }

  /** `chatleave`: stops the listener, forgets the members and announces LEAVE over gossip. */
  async chatLeave(): Promise<void> {
    const queue = this.requireQueue();
    if (!this.self) throw new ChatError('CHAT_STATE', 'the chat is not started');
    await this.listener.close();
    this.members.clear();
    const leave: ChatMemberRecord = { ...this.self, msgType: MsgType.LEAVE };
    queue.queueBroadcast(namedBroadcast(SELF_BROADCAST, encodeMemberRecord(leave)));
    this.self = undefined;
  }

  /** Sends `line` to every chat member but this one, one TCP connection each, in parallel. */
  async sendToMembers(line: string): Promise<Delivery> {
    const targets = [...this.members.values()].filter((m) => m.name !== this.nodeName && m.sender);
    const result: Delivery = { delivered: [], failed: [] };
    await Promise.all(
      targets.map(async (m) => {
        const who = this.displayName(m.name);
        try {
          if (this.partitions.node(m.name)) throw new Error('partitioned away (test)');
          await sendChatLine(m.sender, line, { timeoutMs: this.sendTimeoutMs });
          result.delivered.push(who);
        } catch (e) {
          result.failed.push({ name: who, error: (e as Error).message });
        }
      }),
    );
    return result;
  }

  /** `msg <text>` and plain lines: one chat line to all others; shown locally as typed. */
  async sendMessage(text: string): Promise<Delivery> {
    if (!this.self)
      throw new ChatError('CHAT_STATE', 'the chat is not started: run /init (or /chatstart)');
    const clean = sanitizeLine(text);
    const delivery = await this.sendToMembers(chatLine(this.name, clean));
    return delivery;
  }

  /** Checks each member's chat listener with an empty connection. */
  async pingMembers(): Promise<Array<{ name: string; ms?: number; error?: string }>> {
    const targets = [...this.members.values()].filter((m) => m.name !== this.nodeName && m.sender);
    return Promise.all(
      targets.map(async (m) => {
        try {
          return {
            name: this.displayName(m.name),
            ms: await pingChatListener(m.sender, { timeoutMs: this.sendTimeoutMs }),
          };
        } catch (e) {
          return { name: this.displayName(m.name), error: (e as Error).message };
        }
      }),
    );
  }

  /** Finds a member by node name or by its short name (unique prefix of the node name). */
  findMember(query: string): ChatMemberRecord {
    const exact = this.members.get(query);
    if (exact) return exact;
    const matches = [...this.members.values()].filter((m) => this.displayName(m.name) === query);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new ChatError(
        'CHAT_ARGS',
        `${query} is ambiguous: ${matches.map((m) => m.name).join(', ')}`,
      );
    }
    throw new ChatError(
      'CHAT_ARGS',
      `no chat member ${JSON.stringify(query)} (/chatmembers lists them)`,
    );
  }

  /** Short name of a node: from its memberlist metadata when known. */
  displayName(nodeName: string): string {
    if (nodeName === this.nodeName) return this.name;
    const node = this.memberlist?.allNodes().find((n) => n.name === nodeName);
    return displayNameOf(nodeName, node?.meta);
  }

  /** Sends a PING record over gossip, as the original's `chatmemberping`; the answer is shown. */
  gossipPing(member: ChatMemberRecord): void {
    const queue = this.requireQueue();
    const ping: ChatMemberRecord = { ...member, msgType: MsgType.PING, timestamp: timestampNow() };
    remember(this.pendingPings, member.name, Date.now());
    queue.queueBroadcast({ message: encodeMemberRecord(ping), unique: true });
  }

  // ---- broadcast key/value items -----------------------------------------------------------------

  broadcastKv(update: KvUpdate): void {
    const queue = this.requireQueue();
    this.kv.apply(update);
    this.queueKv(queue, update);
  }

  /** One broadcast per key, so a newer update of a key replaces an older one still queued. */
  private queueKv(queue: TransmitLimitedQueue, update: KvUpdate): void {
    for (const [k, v] of Object.entries(update.Data)) {
      queue.queueBroadcast(
        namedBroadcast(
          `chat-kv:${k}`,
          encodeKvUpdates([{ Action: update.Action, Data: { [k]: v } }]),
        ),
      );
    }
  }

  // ---- delegate and events -----------------------------------------------------------------------

  private onUserMessage(msg: Uint8Array): void {
    try {
      if (isKvMessage(msg)) {
        // As with member records, an update that was news here is passed on (the original left
        // it to the sender's few retransmits); one that changes nothing is not, so it dies out.
        for (const u of decodeKvUpdates(msg)) {
          const changed = this.kv.apply(u);
          if (this.queue && Object.keys(changed.Data).length > 0) this.queueKv(this.queue, changed);
        }
        return;
      }
      this.onRecord(decodeMemberRecord(msg));
    } catch (e) {
      this.log.warn('dropped a user message', { error: (e as Error).message });
    }
  }

  private onRecord(r: ChatMemberRecord): void {
    if (r.msgType === MsgType.JOIN) {
      if (r.name === this.nodeName || this.goneFromMemberlist(r.name)) return;
      const known = this.members.get(r.name);
      this.members.set(r.name, r);
      this.departed.delete(r.name);
      if (!known) {
        // The original only answered with its own JOIN, so a newcomer's record reached the others
        // only through the newcomer's few retransmits and was missed by ~1 in 10 members of a
        // group of ten. Passing the record on makes it spread like memberlist's own news.
        this.relay(r);
        // A newcomer learns about us from our own JOIN, as in the original.
        if (this.self && this.queue) {
          this.queue.queueBroadcast(namedBroadcast(SELF_BROADCAST, encodeMemberRecord(this.self)));
        }
      }
    } else if (r.msgType === MsgType.LEAVE) {
      if (r.name !== this.nodeName && this.members.delete(r.name)) this.relay(r);
    } else if (r.name === this.nodeName) {
      // A PING for us: send it back so the pinger sees the round trip (original behaviour).
      this.queue?.queueBroadcast({ message: encodeMemberRecord(r), unique: true });
    } else {
      const sent = this.pendingPings.get(r.name);
      if (sent !== undefined) {
        this.pendingPings.delete(r.name);
        this.out.info(
          `ping over gossip to ${this.displayName(r.name)} returned after ${Date.now() - sent} ms`,
        );
      }
    }
  }

  /** A late JOIN (relayed or delayed) must not bring back a member memberlist saw go. */
  private goneFromMemberlist(nodeName: string): boolean {
    const node = this.memberlist?.allNodes().find((n) => n.name === nodeName);
    return node !== undefined && (node.state === 'dead' || node.state === 'left');
  }

  /** Gossips another member's record on; a newer record of the same member replaces it. */
  private relay(r: ChatMemberRecord): void {
    this.queue?.queueBroadcast(namedBroadcast(`chat-member:${r.name}`, encodeMemberRecord(r)));
  }

  private onRemoteState(buf: Uint8Array, join: boolean): void {
    if (buf.length === 0) return;
    try {
      const { members, problems } = decodeRemoteState(buf);
      for (const p of problems) this.log.warn('remote chat state entry dropped', { problem: p });
      if (join) {
        // As the original: on a join the remote view is taken over.
        for (const [name, record] of members) {
          if (name !== this.nodeName) this.members.set(name, record);
        }
        return;
      }
      // Periodic sync (the original ignored it): only fill gaps — members memberlist sees alive
      // whose record never reached us — so a lost gossip message is repaired within one
      // push/pull interval, and nobody who left is brought back.
      const live = new Set(this.memberlist?.members().map((n) => n.name) ?? []);
      for (const [name, record] of members) {
        if (
          name !== this.nodeName &&
          !this.members.has(name) &&
          live.has(name) &&
          record.msgType === MsgType.JOIN
        ) {
          this.members.set(name, record);
        }
      }
    } catch (e) {
      this.log.warn('remote chat state dropped', { error: (e as Error).message });
    }
  }

  private onNodeJoin(node: MemberNode): void {
    if (node.name === this.nodeName) return;
    this.log.info('member joined', {
      name: node.name,
      incarnation: node.incarnation,
      back: this.departed.has(node.name),
    });
    this.partitions.noteAddress(hostPort(node.addr, node.port), node.name);
    const back = this.departed.get(node.name);
    if (back) {
      this.departed.delete(node.name);
      this.members.set(node.name, back);
      this.out.info(`<info> ${displayNameOf(node.name, node.meta)} is back`);
    }
    // Items are not part of the state exchange (the original's LocalState holds members only),
    // so a newcomer, or a member back after being declared failed, missed the adds sent before.
    // Send them again: a receiver that has them changes nothing and passes nothing on.
    if (this.queue && this.kv.items.size > 0) {
      this.queueKv(this.queue, { Action: 'add', Data: Object.fromEntries(this.kv.items) });
    }
    if (this.cache) {
      this.cache.seen(
        node.name,
        node.addr.includes(':') ? `[${node.addr}]:${node.port}` : `${node.addr}:${node.port}`,
      );
      this.scheduleCacheSave();
    }
  }

  private onNodeLeave(node: MemberNode): void {
    if (node.name === this.nodeName || this.closed) return;
    const who = displayNameOf(node.name, node.meta);
    const failed = node.state !== 'left';
    this.log.info('member gone', {
      name: node.name,
      state: node.state,
      chatMember: this.members.has(node.name),
    });
    this.console.write('warn', `<left> ${who} has ${failed ? 'failed' : 'left'}`, 'chat');
    const record = this.members.get(node.name);
    if (record) {
      this.members.delete(node.name);
      if (failed) remember(this.departed, node.name, record);
    }
    if (this.quitting) return;
    void this.refillAfterDeparture(node).catch((e) =>
      this.out.warn(`bootstrap refill after ${who} departed failed: ${(e as Error).message}`),
    );
    if (failed && this.memberlist && this.memberlist.numMembers() <= 1) this.startRejoin();
  }

  /**
   * Bootstrap duty when a member departs: only the `minrefillcandidates` longest-running live
   * members act. Each removes the departed peer from the service (idempotent, one request) and,
   * if that left room and this peer is not listed yet, offers itself with `refill`.
   */
  async refillAfterDeparture(
    node: MemberNode,
  ): Promise<'not-candidate' | 'no-service' | 'removed' | 'refilled'> {
    if (!this.bootstrap || !this.memberlist) return 'no-service';
    const live = new Set(this.memberlist.members().map((n) => n.name));
    const liveRecords = [...this.members.values()].filter((r) => live.has(r.name));
    const m = this.bootstrapData?.Config.minrefillcandidates ?? 2;
    if (!refillCandidates(liveRecords, m).includes(this.nodeName)) return 'not-candidate';
    const known =
      this.bootstrapData &&
      Object.values(this.bootstrapData.Peers).find((p) => p.name === node.name);
    const id = known?.id ?? uuidOfNodeName(node.name) ?? node.name;
    let data = this.remember(await this.bootstrapCall('leave', (bs) => bs.leave(id)));
    const stale = Object.values(data.Peers).find((p) => p.name === node.name);
    if (stale) data = this.remember(await this.bootstrapCall('leave', (bs) => bs.leave(stale.id)));
    const listed = Object.values(data.Peers).some((p) => p.id === this.id);
    if (listed || data.Config.numpeers >= data.Config.maxpeers) return 'removed';
    this.remember(await this.bootstrapCall('refill', (bs) => bs.refill(this.peerRecord())));
    this.out.info(`<info> bootstrap list refilled with ${this.name}`);
    return 'refilled';
  }

  // ---- finding the group again ---------------------------------------------------------------------

  private startRejoin(): void {
    if (this.rejoinTimer || this.quitting || this.closed) return;
    this.rejoinDelayNow = this.rejoinDelay.min;
    this.out.warn('<warn> this peer is alone now; looking for the group again');
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    this.rejoinTimer = setTimeout(() => void this.rejoinAttempt(), this.rejoinDelayNow);
    this.rejoinTimer.unref();
  }

  private stopRejoin(): void {
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    this.rejoinTimer = undefined;
  }

  private async rejoinAttempt(): Promise<void> {
    const ml = this.memberlist;
    this.rejoinTimer = undefined;
    if (!ml || this.quitting || this.closed) return;
    if (ml.numMembers() > 1) {
      this.out.info(`<info> rejoined the group: ${ml.numMembers()} members`);
      if (this.self)
        this.queue?.queueBroadcast(namedBroadcast(SELF_BROADCAST, encodeMemberRecord(this.self)));
      return;
    }
    let targets: string[] = [];
    if (this.bootstrap) {
      try {
        this.remember(await this.bootstrap.list());
        targets = this.bootstrapTargets() ?? [];
      } catch (e) {
        this.log.info('rejoin: bootstrap service unavailable', { error: (e as Error).message });
      }
    }
    if (targets.length === 0) targets = this.cacheTargets();
    let contacted = false;
    if (targets.length > 0 && !this.closed) {
      try {
        await ml.join(targets);
        contacted = true;
      } catch (e) {
        this.log.info('rejoin failed', { error: (e as Error).message, targets });
      }
    }
    if (this.closed || this.quitting || this.rejoinTimer) return;
    // A push/pull that got through still needs the others to accept us as alive again (they
    // may hold us as dead until we refute), so success is judged at the next check, soon.
    this.rejoinDelayNow = contacted
      ? this.rejoinDelay.min
      : Math.min(this.rejoinDelay.max, this.rejoinDelayNow * 2);
    this.log.info('rejoin attempt', { contacted, targets, nextMs: this.rejoinDelayNow });
    this.scheduleRejoin();
  }

  private scheduleCacheSave(): void {
    if (this.cacheTimer || !this.cache) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = undefined;
      this.cache
        ?.save()
        .catch((e) => this.log.warn('member cache not saved', { error: (e as Error).message }));
    }, CACHE_SAVE_DELAY_MS);
    this.cacheTimer.unref();
  }

  // ---- sequences ---------------------------------------------------------------------------------

  /**
   * `init`: the original's start-up sequence — memberlistconfigure, memberlistcreate,
   * bootstrapjoin, memberliststart, memberlistjoin, chatstart — reporting each step on `out`.
   */
  async init(out: LineWriter): Promise<void> {
    this.configure();
    const ml = await this.create();
    out.text(`memberlist node ${this.nodeName} listening on ${ml.advertiseAddress}`);
    const boot = await this.bootstrapJoin();
    if (boot.source === 'bootstrap') {
      out.text(
        `bootstrap: ${Object.keys(boot.data.Peers).length} bootstrap peer(s) at ${this.bootstrap?.url ?? 'the service'}`,
      );
    } else if (this.bootstrap) {
      out.warn(
        `bootstrap service unreachable (${boot.error}); using ${boot.count} cached member(s)`,
      );
    } else {
      out.warn(`no bootstrap service; using ${boot.count} cached member(s)`);
    }
    this.startBroadcasts();
    let joined = 0;
    try {
      joined = await this.join();
    } catch (e) {
      out.warn(`could not join anyone (${(e as Error).message}); starting alone`);
    }
    out.text(
      joined === 0
        ? 'no other member to join: this peer starts the group'
        : `joined the group through ${joined} member(s)`,
    );
    const greeting = await this.chatStart();
    out.text(`chat listening on ${this.self?.sender}; ${this.members.size} chat member(s)`);
    for (const f of greeting.failed) out.warn(`could not greet ${f.name}: ${f.error}`);
  }

  /**
   * `quit`: the original's leave sequence — leave the bootstrap list, tell every chat member,
   * announce LEAVE over gossip, leave memberlist — then emits `exit`.
   */
  async quit(out: LineWriter): Promise<void> {
    this.quitting = true;
    this.stopRejoin();
    if (this.bootstrap && this.memberlist) {
      try {
        this.remember(await this.bootstrap.leave(this.id));
      } catch (e) {
        out.warn(`bootstrap leave failed: ${(e as Error).message}`);
      }
    }
    const d = await this.sendToMembers(statusLine('left', `${this.name} is leaving`));
    for (const f of d.failed) out.warn(`could not tell ${f.name}: ${f.error}`);
    if (this.self && this.queue) {
      const leave: ChatMemberRecord = { ...this.self, msgType: MsgType.LEAVE };
      this.queue.queueBroadcast(namedBroadcast(SELF_BROADCAST, encodeMemberRecord(leave)));
    }
    if (this.memberlist) {
      try {
        await this.memberlist.leave(2_000);
      } catch (e) {
        out.warn(`memberlist leave: ${(e as Error).message}`);
      }
    }
    out.info(`${this.name} left`);
    await this.close();
    this.emit('exit', 0);
  }

  /** Releases sockets and timers without telling anyone (`exit`, or after `quit`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closer.abort();
    this.stopRejoin();
    if (this.cacheTimer) clearTimeout(this.cacheTimer);
    this.cacheTimer = undefined;
    await Promise.allSettled([
      this.listener.close(),
      this.memberlist?.shutdown(),
      this.cache?.save(),
    ]);
  }

  /** Shuts down the memberlist node (`memberlistshutdown` / `memberlistdelete`). */
  async shutdownMemberlist(forget: boolean): Promise<void> {
    const ml = this.requireMemberlist();
    await ml.shutdown();
    if (forget) {
      this.memberlist = undefined;
      this.transport = undefined;
      this.queue = undefined;
    }
  }
}
