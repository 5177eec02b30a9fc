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
import type { Console, LineWriter, SubLogger } from '@isopeer/console';
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
import { lineKind, sanitizeLine, statusLine, strangerLine } from './chat-line.js';
import { ChatMembers, type Delivery } from './chat-members.js';
import type { ChatPeer, ChatPeerEvents, ChatPeerOptions } from './chat-peer.js';
import { ChatListener, plainIp } from './chat-transport.js';
import { ChatError } from './errors.js';
import { ReplicatedItems } from './kv-items.js';
import type { KvUpdate } from './kv-update.js';
import { MemberCache } from './member-cache.js';
import { type ChatMemberRecord, decodeMemberRecord } from './member-record.js';
import { type ConfigPreset, MemberlistNode } from './memberlist-node.js';
import { logMembership } from './membership-log.js';
import { Partitions } from './partitions.js';
import { type PeerContext, requireMemberlist } from './peer-context.js';
import { displayNameOf, isValidChatName, nodeNameFor } from './peer-name.js';
import { Rejoin } from './rejoin.js';

/** Members joining in a burst are written to the cache file once. */
const CACHE_SAVE_DELAY_MS = 1_000;
/** Part of the quit time given to memberlist's leave (gossiping the LEAVE). */
const MEMBERLIST_LEAVE_MS = 2_000;

/**
 * The implementation of `ChatPeer` (see chat-peer.ts for what each member does). Created by
 * `createChatPeer`; the package does not export it. Tests that need a part behind the interface
 * (the chat listener) construct it directly.
 */
export class ChatPeerImpl extends EventEmitter<ChatPeerEvents> implements ChatPeer {
  readonly name: string;
  readonly id: string;
  readonly nodeName: string;
  readonly startedAt: string;
  readonly console: Console;
  readonly preset: ConfigPreset;
  /** Not part of `ChatPeer`: the lines' receiving end (tests close it to make a peer vanish). */
  readonly listener: ChatListener;
  readonly partitions: Partitions;

  readonly #ctx: PeerContext;
  readonly #members: ChatMembers;
  readonly #items: ReplicatedItems;
  readonly #duty: BootstrapDuty;
  readonly #rejoin: Rejoin;
  readonly #node: MemberlistNode;
  readonly #cache: MemberCache | undefined;
  readonly #closer = new AbortController();
  readonly #quitTimeoutMs: number;
  /** The `memberlist` log subsystem, known to `/loglevel` from the start. */
  readonly #memberlistLog: SubLogger;
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
    this.#quitTimeoutMs = opts.quitTimeoutMs ?? 5_000;
    this.#memberlistLog = opts.console.logger.child('memberlist');
    const bindAddr = opts.bindAddr ?? '127.0.0.1';
    this.#node = new MemberlistNode({
      nodeName: this.nodeName,
      preset: this.preset,
      bindAddr,
      bindPort: opts.bindPort ?? 0,
      advertiseAddr: opts.advertiseAddr ?? '',
      keys: opts.keys,
      label: opts.label ?? '',
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
    this.listener = new ChatListener({
      ...opts.listener,
      isMember: (ip) => this.#members.isMemberAddress(ip),
    });
    this.listener.on('line', ({ text, remote, member }) => {
      const line = sanitizeLine(text);
      if (this.partitions.line(line)) return;
      if (member) {
        this.console.write(lineKind(line), line, 'chat');
        return;
      }
      this.#ctx.log.warn('chat line from an address that is not a member', { remote });
      this.console.write(
        'message',
        strangerLine(plainIp(remote.replace(/:\d+$/, '')), line),
        'chat',
      );
    });
    this.listener.on('ping', (remote) => this.#ctx.log.debug('reachability ping', { remote }));
    this.listener.on('rejected', (r) => this.#ctx.log.warn('chat connection rejected', r));
    this.#members = new ChatMembers(this.#ctx, {
      listener: this.listener,
      partitions: this.partitions,
      bindAddr,
      sendTimeoutMs: opts.sendTimeoutMs ?? 5_000,
      sendRetries: opts.sendRetries ?? 3,
    });
    this.#items = new ReplicatedItems(this.#ctx);
    this.#duty = new BootstrapDuty(this.#ctx, {
      service: opts.bootstrap,
      retry: opts.bootstrapRetry ?? { attempts: 3, baseDelayMs: 200 },
      signal: this.#closer.signal,
      startedAt: this.startedAt,
      log: opts.console.logger.child('bootstrap'),
    });
    this.#rejoin = new Rejoin(this.#ctx, {
      delayMs: opts.rejoinDelayMs ?? { min: 1_000, max: 30_000 },
      duty: this.#duty,
      announce: () => this.#members.announceSelf(),
    });
  }

  async loadCache(): Promise<void> {
    const problem = await this.#cache?.load();
    if (problem) this.#ctx.out.warn(problem);
  }

  // ---- state, read-only -----------------------------------------------------------------------

  get memberlist(): Memberlist | undefined {
    return this.#node.memberlist;
  }

  get queue(): TransmitLimitedQueue | undefined {
    return this.#node.queue;
  }

  get members(): ReadonlyMap<string, ChatMemberRecord> {
    return this.#members.records;
  }

  get self(): ChatMemberRecord | undefined {
    return this.#members.self;
  }

  get items(): ReadonlyMap<string, string> {
    return this.#items.items;
  }

  get bootstrap(): BootstrapApi | undefined {
    return this.#duty.service;
  }

  get bootstrapData(): BootstrapData | undefined {
    return this.#duty.data;
  }

  get keyring(): Keyring | null {
    return this.#node.keyring;
  }

  // ---- the memberlist node --------------------------------------------------------------------

  currentGoConfig(): GoMemberlistConfig {
    return this.#node.currentGoConfig();
  }

  configure(bindPort?: number): GoMemberlistConfig {
    return this.#node.configure(bindPort);
  }

  setGoConfig(config: GoMemberlistConfig): string | undefined {
    return this.#node.setGoConfig(config);
  }

  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void {
    this.#node.setGossipVerify(flags);
  }

  useKeyring(keyring: Keyring): void {
    this.#node.useKeyring(keyring);
  }

  async create(): Promise<Memberlist> {
    const ml = await this.#node.create({
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
    logMembership(ml, this.#memberlistLog);
    return ml;
  }

  requireMemberlist(): Memberlist {
    return requireMemberlist(this.#ctx);
  }

  startBroadcasts(): void {
    this.#node.startBroadcasts(this.requireMemberlist());
  }

  shutdownMemberlist(forget: boolean): Promise<void> {
    return this.#node.shutdown(this.requireMemberlist(), forget);
  }

  closeTransport(): Promise<void> {
    this.requireMemberlist();
    return this.#node.closeTransport();
  }

  join(addresses?: string[]): Promise<number> {
    return this.#duty.join(addresses);
  }

  // ---- bootstrap ------------------------------------------------------------------------------

  requireBootstrap(): BootstrapApi {
    return this.#duty.requireService();
  }

  peerRecord(): PeerRecord {
    return this.#duty.peerRecord();
  }

  bootstrapCall<T>(what: string, fn: (bs: BootstrapApi) => Promise<T>): Promise<T> {
    return this.#duty.call(what, fn);
  }

  bootstrapUpdate(
    what: string,
    fn: (bs: BootstrapApi) => Promise<BootstrapData>,
  ): Promise<BootstrapData> {
    return this.#duty.update(what, fn);
  }

  bootstrapJoin(): Promise<BootstrapJoinResult> {
    return this.#duty.joinService();
  }

  // ---- chat and items -------------------------------------------------------------------------

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

  get quitting(): boolean {
    return this.#quitting;
  }

  async quit(out: LineWriter, signal?: AbortSignal): Promise<void> {
    if (this.#quitting) throw new ChatError('CHAT_STATE', 'already leaving');
    this.#quitting = true;
    this.#rejoin.stop();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'interrupted' | 'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#quitTimeoutMs);
      if (signal?.aborted) resolve('interrupted');
      signal?.addEventListener('abort', () => resolve('interrupted'), { once: true });
    });
    const outcome = await Promise.race([this.#leaveSteps(out).then(() => 'left' as const), cut]);
    clearTimeout(timer);
    if (outcome === 'left') out.info(`${this.name} left`);
    else {
      const why =
        outcome === 'interrupted' ? 'interrupted' : `not done within ${this.#quitTimeoutMs} ms`;
      out.warn(`${this.name} stopped before leaving completely (${why})`);
      this.#ctx.log.warn('quit cut short', { why });
    }
    await this.close();
    this.emit('exit', outcome === 'left' ? 0 : 1);
  }

  async #leaveSteps(out: LineWriter): Promise<void> {
    if (this.#duty.service && this.memberlist) {
      try {
        await this.#duty.leaveService();
      } catch (e) {
        if (this.#closed) return;
        out.warn(`bootstrap leave failed: ${(e as Error).message}`);
      }
    }
    if (this.#closed) return;
    const d = await this.sendToMembers(statusLine('left', `${this.name} is leaving`));
    for (const f of d.failed) out.warn(`could not tell ${f.name}: ${f.error}`);
    this.#members.announceLeave();
    const ml = this.memberlist;
    if (ml && !this.#closed) {
      try {
        await ml.leave(MEMBERLIST_LEAVE_MS);
      } catch (e) {
        if (!this.#closed) out.warn(`memberlist leave: ${(e as Error).message}`);
      }
    }
  }

  async exit(): Promise<void> {
    await this.close();
    this.emit('exit', 0);
  }

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
  return new ChatPeerImpl(opts);
}
