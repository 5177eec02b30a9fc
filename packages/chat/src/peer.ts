/**
 * The chat peer: composes a memberlist node, the bootstrap service client and the chat layer, and
 * exposes the original prototype's steps (configure, create, bootstrap join, start broadcasting,
 * join, start chat) as methods that the console commands call. The parts live in their own
 * modules (memberlist-node, chat-members, kv-items, bootstrap-duty, rejoin); this one composes
 * them, wires them to memberlist's delegate and events, and runs the init and quit sequences.
 * It never prints: everything a person should see goes to the console's output stream;
 * diagnostics go to the `chat` logger.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname as osHostname } from 'node:os';
import type { BootstrapData, PeerRecord } from '@isopeer/bootstrap';
import type { Console, LineWriter } from '@isopeer/console';
import {
  type GoMemberlistConfig,
  joinHostPort,
  type Keyring,
  type Memberlist,
  type MemberNode,
  type TransmitLimitedQueue,
} from '@isopeer/memberlist';
import type { BootstrapApi } from './bootstrap-api.js';
import { BootstrapDuty, type BootstrapJoinResult } from './bootstrap-duty.js';
import { lineKind, sanitizeLine, statusLine } from './chat-line.js';
import { ChatMembers, type Delivery } from './chat-members.js';
import { ChatListener, type ChatListenerOptions } from './chat-transport.js';
import { ChatError } from './errors.js';
import { ReplicatedItems } from './kv-items.js';
import type { KvUpdate } from './kv-update.js';
import { MemberCache } from './member-cache.js';
import { type ChatMemberRecord, decodeMemberRecord } from './member-record.js';
import { type ConfigPreset, MemberlistNode } from './memberlist-node.js';
import { Partitions } from './partitions.js';
import { type PeerContext, requireMemberlist } from './peer-context.js';
import { displayNameOf, isValidChatName, nodeNameFor } from './peer-name.js';
import { Rejoin } from './rejoin.js';

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

/** Members joining in a burst are written to the cache file once. */
const CACHE_SAVE_DELAY_MS = 1_000;

export class ChatPeer extends EventEmitter<ChatPeerEvents> {
  readonly name: string;
  /** Bootstrap id (a UUID), also the end of the node name. */
  readonly id: string;
  readonly nodeName: string;
  /** Unix seconds at peer start, the `timestamp` of the bootstrap peer record. */
  readonly startedAt: string;
  readonly console: Console;
  readonly preset: ConfigPreset;
  readonly listener: ChatListener;
  /** Peers cut off by `testpartition`. */
  readonly partitions: Partitions;

  readonly #ctx: PeerContext;
  readonly #members: ChatMembers;
  readonly #items: ReplicatedItems;
  readonly #duty: BootstrapDuty;
  readonly #rejoin: Rejoin;
  readonly #node: MemberlistNode;
  readonly #cache: MemberCache | undefined;
  readonly #closer = new AbortController();
  #quitting = false;
  #closed = false;

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
    this.preset = opts.preset ?? 'local';
    const bindAddr = opts.bindAddr ?? '127.0.0.1';
    this.#node = new MemberlistNode({
      nodeName: this.nodeName,
      preset: this.preset,
      bindAddr,
      bindPort: opts.bindPort ?? 0,
      advertiseAddr: opts.advertiseAddr ?? '',
      keys: opts.keys,
      isPartitioned: (address) => this.partitions.address(address),
    });
    this.#cache = opts.cacheFile ? new MemberCache(opts.cacheFile) : undefined;
    this.#ctx = {
      name: this.name,
      id: this.id,
      nodeName: this.nodeName,
      console: opts.console,
      out: opts.console.writer('chat'),
      log: opts.console.logger.child('chat'),
      cache: this.#cache,
      memberlist: () => this.#node.memberlist,
      queue: () => this.#node.queue,
      stopping: () => this.#quitting || this.#closed,
      closed: () => this.#closed,
    };
    this.partitions = new Partitions((address) => {
      const node = this.#node.memberlist
        ?.allNodes()
        .find((n) => joinHostPort(n.addr, n.port) === address);
      return node?.name;
    });
    this.listener = new ChatListener(opts.listener);
    this.listener.on('line', ({ text }) => {
      const line = sanitizeLine(text);
      if (this.partitions.line(line)) return;
      this.console.write(lineKind(line), line, 'chat');
    });
    this.listener.on('ping', (remote) => this.#ctx.log.debug('reachability ping', { remote }));
    this.listener.on('rejected', (r) => this.#ctx.log.warn('chat connection rejected', r));
    this.#members = new ChatMembers(this.#ctx, {
      listener: this.listener,
      partitions: this.partitions,
      bindAddr,
      sendTimeoutMs: opts.sendTimeoutMs ?? 5_000,
    });
    this.#items = new ReplicatedItems(this.#ctx);
    this.#duty = new BootstrapDuty(this.#ctx, {
      service: opts.bootstrap,
      retry: opts.bootstrapRetry ?? { attempts: 3, baseDelayMs: 200 },
      signal: this.#closer.signal,
      startedAt: this.startedAt,
    });
    this.#rejoin = new Rejoin(this.#ctx, {
      delayMs: opts.rejoinDelayMs ?? { min: 1_000, max: 30_000 },
      duty: this.#duty,
      announce: () => this.#members.announceSelf(),
    });
  }

  /** Reads the member cache; call once before `init`. */
  async loadCache(): Promise<void> {
    const problem = await this.#cache?.load();
    if (problem) this.#ctx.out.warn(problem);
  }

  // ---- state, read-only -----------------------------------------------------------------------

  /** The memberlist node, once created. */
  get memberlist(): Memberlist | undefined {
    return this.#node.memberlist;
  }

  /** The queue of chat records and items, once broadcasting started. */
  get queue(): TransmitLimitedQueue | undefined {
    return this.#node.queue;
  }

  /** Known chat members by node name, this peer included once the chat started. */
  get members(): ReadonlyMap<string, ChatMemberRecord> {
    return this.#members.records;
  }

  /** This peer's chat record while the chat runs. */
  get self(): ChatMemberRecord | undefined {
    return this.#members.self;
  }

  /** The replicated items, key → message. */
  get items(): ReadonlyMap<string, string> {
    return this.#items.items;
  }

  get bootstrap(): BootstrapApi | undefined {
    return this.#duty.service;
  }

  /** The last bootstrap document this peer received. */
  get bootstrapData(): BootstrapData | undefined {
    return this.#duty.data;
  }

  /** The encryption keys in effect: the running node's, or those waiting for `create`. */
  get keyring(): Keyring | null {
    return this.#node.keyring;
  }

  // ---- the memberlist node --------------------------------------------------------------------

  /** The configuration `/showconfig` shows: the one set up by `configure`, or the preset. */
  currentGoConfig(): GoMemberlistConfig {
    return this.#node.currentGoConfig();
  }

  /** `memberlistconfigure [BindPort <port>]`: a fresh preset configuration. */
  configure(bindPort?: number): GoMemberlistConfig {
    return this.#node.configure(bindPort);
  }

  /**
   * Takes a configuration (`/loadconfig`). The node name stays this peer's own: it carries the
   * bootstrap id, and a file saved by another peer names that peer. Returns a note if it differed.
   */
  setGoConfig(config: GoMemberlistConfig): string | undefined {
    return this.#node.setGoConfig(config);
  }

  /**
   * Sets the gossip verify flags on the running node and in the configuration a re-create would
   * use (rolling out encryption in a live cluster).
   */
  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void {
    this.#node.setGossipVerify(flags);
  }

  /** Replaces the keyring: on the running node at once, else for the next `create`. */
  useKeyring(keyring: Keyring): void {
    this.#node.useKeyring(keyring);
  }

  /** `memberlistcreate`: binds the node and starts probing; nobody else is known yet. */
  create(): Promise<Memberlist> {
    return this.#node.create({
      delegate: {
        nodeMeta: () => Buffer.from(this.name),
        notifyMsg: (msg) => this.#onUserMessage(msg),
        getBroadcasts: (overhead, limit) => this.queue?.getBroadcasts(overhead, limit) ?? [],
        localState: () => this.#members.localState(),
        mergeRemoteState: (buf, join) => this.#members.onRemoteState(buf, join),
      },
      events: {
        join: (node) => this.#onNodeJoin(node),
        leave: (node) => this.#onNodeLeave(node),
      },
    });
  }

  requireMemberlist(): Memberlist {
    return requireMemberlist(this.#ctx);
  }

  /** `memberliststart`: the broadcast queue that carries chat records (RetransmitMult 3). */
  startBroadcasts(): void {
    this.#node.startBroadcasts(this.requireMemberlist());
  }

  /** Shuts down the memberlist node (`memberlistshutdown` / `memberlistdelete`). */
  shutdownMemberlist(forget: boolean): Promise<void> {
    return this.#node.shutdown(this.requireMemberlist(), forget);
  }

  /** Closes only the network transport, as if the network went away. */
  closeTransport(): Promise<void> {
    this.requireMemberlist();
    return this.#node.closeTransport();
  }

  /** See BootstrapDuty.join. */
  join(addresses?: string[]): Promise<number> {
    return this.#duty.join(addresses);
  }

  // ---- bootstrap ------------------------------------------------------------------------------

  requireBootstrap(): BootstrapApi {
    return this.#duty.requireService();
  }

  /** This peer's record for the bootstrap service (memberlist address, start time). */
  peerRecord(): PeerRecord {
    return this.#duty.peerRecord();
  }

  /** Runs a bootstrap request with retries (backoff) for transient failures. */
  bootstrapCall<T>(what: string, fn: (bs: BootstrapApi) => Promise<T>): Promise<T> {
    return this.#duty.call(what, fn);
  }

  /** A bootstrap request whose answer becomes the local copy (`bootstrapData`). */
  bootstrapUpdate(
    what: string,
    fn: (bs: BootstrapApi) => Promise<BootstrapData>,
  ): Promise<BootstrapData> {
    return this.#duty.update(what, fn);
  }

  /** See BootstrapDuty.joinService. */
  bootstrapJoin(): Promise<BootstrapJoinResult> {
    return this.#duty.joinService();
  }

  // ---- chat and items -------------------------------------------------------------------------

  /** See ChatMembers.start. */
  chatStart(): Promise<Delivery> {
    return this.#members.start();
  }

  chatStop(): Promise<void> {
    return this.#members.stop();
  }

  chatLeave(): Promise<void> {
    return this.#members.leave();
  }

  sendToMembers(line: string): Promise<Delivery> {
    return this.#members.sendToAll(line);
  }

  sendMessage(text: string): Promise<Delivery> {
    return this.#members.sendMessage(text);
  }

  pingMembers(): Promise<Array<{ name: string; ms?: number; error?: string }>> {
    return this.#members.ping();
  }

  findMember(query: string): ChatMemberRecord {
    return this.#members.find(query);
  }

  displayName(nodeName: string): string {
    return this.#members.displayName(nodeName);
  }

  gossipPing(member: ChatMemberRecord): void {
    this.#members.gossipPing(member);
  }

  broadcastKv(update: KvUpdate): void {
    this.#items.broadcast(update);
  }

  // ---- delegate and events --------------------------------------------------------------------

  #onUserMessage(msg: Uint8Array): void {
    try {
      if (!this.#items.onMessage(msg)) this.#members.onRecord(decodeMemberRecord(msg));
    } catch (e) {
      this.#ctx.log.warn('dropped a user message', { error: (e as Error).message });
    }
  }

  #onNodeJoin(node: MemberNode): void {
    if (node.name === this.nodeName) return;
    const address = joinHostPort(node.addr, node.port);
    this.#ctx.log.info('member joined', {
      name: node.name,
      incarnation: node.incarnation,
      back: this.#members.isReturning(node.name),
    });
    this.partitions.noteAddress(address, node.name);
    this.#members.nodeJoined(node);
    this.#items.resendAll();
    if (this.#cache) {
      this.#cache.seen(node.name, address);
      this.#cache.saveSoon(CACHE_SAVE_DELAY_MS, (e) =>
        this.#ctx.log.warn('member cache not saved', { error: e.message }),
      );
    }
  }

  #onNodeLeave(node: MemberNode): void {
    if (node.name === this.nodeName || this.#closed) return;
    const failed = node.state !== 'left';
    this.#members.nodeGone(node, failed);
    if (this.#quitting) return;
    void this.#duty
      .refillAfterDeparture(node, this.#members.records.values())
      .catch((e) =>
        this.#ctx.out.warn(
          `bootstrap refill after ${displayNameOf(node.name, node.meta)} departed failed: ${(e as Error).message}`,
        ),
      );
    const ml = this.memberlist;
    if (failed && ml && ml.numMembers() <= 1) this.#rejoin.start();
  }

  // ---- sequences ------------------------------------------------------------------------------

  /**
   * `init`: the original's start-up sequence — memberlistconfigure, memberlistcreate,
   * bootstrapjoin, memberliststart, memberlistjoin, chatstart — reporting each step on `out`.
   */
  async init(out: LineWriter): Promise<void> {
    this.configure();
    const ml = await this.create();
    out.text(`memberlist node ${this.nodeName} listening on ${ml.advertiseAddress}`);
    const boot = await this.bootstrapJoin();
    const service = this.#duty.service;
    if (boot.source === 'bootstrap') {
      out.text(
        `bootstrap: ${Object.keys(boot.data.Peers).length} bootstrap peer(s) at ${service?.url ?? 'the service'}`,
      );
    } else if (service) {
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
    this.#quitting = true;
    this.#rejoin.stop();
    if (this.#duty.service && this.memberlist) {
      try {
        await this.#duty.leaveService();
      } catch (e) {
        out.warn(`bootstrap leave failed: ${(e as Error).message}`);
      }
    }
    const d = await this.sendToMembers(statusLine('left', `${this.name} is leaving`));
    for (const f of d.failed) out.warn(`could not tell ${f.name}: ${f.error}`);
    this.#members.announceLeave();
    const ml = this.memberlist;
    if (ml) {
      try {
        await ml.leave(2_000);
      } catch (e) {
        out.warn(`memberlist leave: ${(e as Error).message}`);
      }
    }
    out.info(`${this.name} left`);
    await this.close();
    this.emit('exit', 0);
  }

  /** `exit`: releases everything without telling anyone, then emits `exit`. */
  async exit(): Promise<void> {
    await this.close();
    this.emit('exit', 0);
  }

  /** Releases sockets and timers without telling anyone (`exit`, or after `quit`). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closer.abort();
    this.#rejoin.stop();
    await Promise.allSettled([
      this.listener.close(),
      this.memberlist?.shutdown(),
      this.#cache?.flush(),
    ]);
  }
}

/** Creates a chat peer; nothing is bound until `create` (or `init`) runs. */
export function createChatPeer(opts: ChatPeerOptions): ChatPeer {
  return new ChatPeer(opts);
}
