/**
 * A peer's part in the bootstrap service: its record there, requests with retries, joining the
 * group through the listed peers (or the member cache when the service cannot be asked), taking
 * crashed peers off the list, and refilling the list when a member departs.
 */

import { connect } from 'node:net';
import {
  type BootstrapData,
  contactAddresses,
  contactsFor,
  type PeerRecord,
  type SelfIdentity,
} from '@isopeer/bootstrap';
import { joinHostPort, type MemberNode } from '@isopeer/memberlist';
import { type BootstrapApi, isTransientBootstrapError } from './bootstrap-api.js';
import { ChatError } from './errors.js';
import type { ChatMemberRecord } from './member-record.js';
import { type PeerContext, requireMemberlist } from './peer-context.js';
import { uuidOfNodeName } from './peer-name.js';
import { refillCandidates, withBackoff } from './refill.js';

/** Where the next `memberlistjoin` finds its contacts, as `bootstrapjoin` found out. */
export type BootstrapJoinResult =
  | { source: 'bootstrap'; data: BootstrapData }
  | { source: 'cache'; count: number; error: string };

export type RefillOutcome = 'not-candidate' | 'no-service' | 'removed' | 'refilled';

/** Requests one member's departure duty sent to the service (retries included). */
interface DutyRequests {
  leaves: number;
  refills: number;
}

export interface BootstrapDutyOptions {
  service: BootstrapApi | undefined;
  /** Attempts and first backoff delay of each request. */
  retry: { attempts: number; baseDelayMs: number };
  /** Aborts the backoff waits (the peer closes). */
  signal: AbortSignal;
  /** Unix seconds at peer start, the `timestamp` of the peer record. */
  startedAt: string;
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

export class BootstrapDuty {
  #data: BootstrapData | undefined;

  constructor(
    private readonly ctx: PeerContext,
    private readonly opts: BootstrapDutyOptions,
  ) {}

  get service(): BootstrapApi | undefined {
    return this.opts.service;
  }

  /** The last bootstrap document this peer received. */
  get data(): BootstrapData | undefined {
    return this.#data;
  }

  requireService(): BootstrapApi {
    if (!this.opts.service) {
      throw new ChatError('CHAT_NO_BOOTSTRAP', 'no bootstrap service configured');
    }
    return this.opts.service;
  }

  /** This peer's record for the bootstrap service (memberlist address, start time). */
  peerRecord(): PeerRecord {
    const local = requireMemberlist(this.ctx).localNode();
    return {
      id: this.ctx.id,
      name: this.ctx.nodeName,
      ip: local.addr,
      port: String(local.port),
      protocol: 'tcp',
      status: '0',
      timestamp: this.opts.startedAt,
    };
  }

  /** Runs a bootstrap request with retries (backoff) for transient failures. */
  call<T>(what: string, fn: (bs: BootstrapApi) => Promise<T>): Promise<T> {
    const bs = this.requireService();
    return withBackoff(() => fn(bs), {
      attempts: this.opts.retry.attempts,
      baseDelayMs: this.opts.retry.baseDelayMs,
      maxDelayMs: 5_000,
      signal: this.opts.signal,
      retryable: isTransientBootstrapError,
      onRetry: (err, attempt, delay) =>
        this.ctx.log.info('bootstrap retry', {
          what,
          attempt,
          delayMs: delay,
          error: String((err as Error).message),
        }),
    });
  }

  /** A request whose answer becomes the local copy (`bootstraplistlocal` shows it). */
  async update(
    what: string,
    fn: (bs: BootstrapApi) => Promise<BootstrapData>,
  ): Promise<BootstrapData> {
    this.#data = await this.call(what, fn);
    return this.#data;
  }

  /**
   * `bootstrapjoin`: ping, then join with this node's address. When the service cannot be
   * reached even after retries, the peer goes on with its member cache (the error says so) —
   * the result tells which source the next `memberlistjoin` will use.
   */
  async joinService(): Promise<BootstrapJoinResult> {
    const record = this.peerRecord();
    try {
      await this.call('ping', (bs) => bs.ping());
      const data = await this.update('join', (bs) => bs.join(record));
      return { source: 'bootstrap', data };
    } catch (e) {
      if (this.opts.service && !isTransientBootstrapError(e)) throw e;
      return { source: 'cache', count: this.cacheTargets().length, error: (e as Error).message };
    }
  }

  /** Who this peer is in a bootstrap list: its id, and its memberlist address once it has one. */
  #identity(): SelfIdentity {
    const local = this.ctx.memberlist()?.localNode();
    return local ? { id: this.ctx.id, ip: local.addr, port: local.port } : { id: this.ctx.id };
  }

  /** Addresses of the bootstrap peers other than this one, or undefined without bootstrap data. */
  contactAddresses(): string[] | undefined {
    return this.#data && contactAddresses(this.#data, this.#identity());
  }

  /** Addresses of recently seen members, most recent first. */
  cacheTargets(): string[] {
    return this.ctx.cache?.list(this.ctx.nodeName).map((m) => m.address) ?? [];
  }

  /**
   * `memberlistjoin [addr...]`: joins the given addresses, or the bootstrap peers (all but this
   * one), or — when the service could not be asked — the cached members. Bootstrap peers that do
   * not answer are taken off the service's list (crashed peers would otherwise stay there for
   * good) and this peer offers itself in their place. Resolves with the number of nodes contacted
   * (0 when there was nobody to join); rejects when nobody answered.
   */
  async join(addresses?: string[]): Promise<number> {
    const ml = requireMemberlist(this.ctx);
    if (addresses && addresses.length > 0) return ml.join(addresses);
    const peers = this.#data && contactsFor(this.#data, this.#identity());
    const fromCache = this.cacheTargets();
    if (!peers) {
      if (fromCache.length === 0) return 0;
      return ml.join(fromCache);
    }
    if (peers.length === 0) return 0;
    const results = await Promise.allSettled(
      peers.map((p) => ml.join([joinHostPort(p.ip, Number(p.port))])),
    );
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
    const { out } = this.ctx;
    for (const f of refused) {
      out.warn(`<warn> bootstrap peer ${f.p.name} refused the join: ${joinReason(f.r)}`);
    }
    if (dead.length > 0) {
      out.warn(
        `<warn> ${dead.length} bootstrap peer(s) did not answer: ${dead.map((p) => p.name).join(', ')}`,
      );
      void this.#prune(dead).catch((e) =>
        out.warn(`could not update the bootstrap list: ${(e as Error).message}`),
      );
    }
    if (joined > 0) return joined;
    if (fromCache.length > 0) {
      out.warn(`trying ${fromCache.length} cached member(s)`);
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
  async #prune(dead: PeerRecord[]): Promise<void> {
    let data: BootstrapData | undefined;
    for (const p of dead) data = await this.update('leave', (bs) => bs.leave(p.id));
    if (!data || Object.values(data.Peers).some((p) => p.id === this.ctx.id)) return;
    if (data.Config.numpeers < data.Config.maxpeers) {
      await this.update('refill', (bs) => bs.refill(this.peerRecord()));
    }
  }

  /**
   * Bootstrap duty when a member departs: only the `minrefillcandidates` longest-running live
   * members act. Each removes the departed peer from the service (idempotent, one request) and,
   * if that left room and this peer is not listed yet, offers itself with `refill`.
   *
   * Every member logs its outcome (`bootstrap duty done`, with the requests it sent), also when
   * it did nothing or failed: whoever counts the service's requests per departure (tests, an
   * operator) knows from these records when every member is done.
   */
  async refillAfterDeparture(
    node: MemberNode,
    chatMembers: Iterable<ChatMemberRecord>,
  ): Promise<RefillOutcome> {
    const sent: DutyRequests = { leaves: 0, refills: 0 };
    try {
      const outcome = await this.#departureDuty(node, chatMembers, sent);
      this.ctx.log.info('bootstrap duty done', { departed: node.name, outcome, ...sent });
      return outcome;
    } catch (e) {
      const error = (e as Error).message;
      this.ctx.log.warn('bootstrap duty done', {
        departed: node.name,
        outcome: 'failed',
        ...sent,
        error,
      });
      throw e;
    }
  }

  async #departureDuty(
    node: MemberNode,
    chatMembers: Iterable<ChatMemberRecord>,
    sent: DutyRequests,
  ): Promise<RefillOutcome> {
    const ml = this.ctx.memberlist();
    if (!this.opts.service || !ml) return 'no-service';
    const live = new Set(ml.members().map((n) => n.name));
    const liveRecords = [...chatMembers].filter((r) => live.has(r.name));
    const m = this.#data?.Config.minrefillcandidates ?? 2;
    if (!refillCandidates(liveRecords, m).includes(this.ctx.nodeName)) return 'not-candidate';
    const known = this.#data && Object.values(this.#data.Peers).find((p) => p.name === node.name);
    const id = known?.id ?? uuidOfNodeName(node.name) ?? node.name;
    // Counted per attempt (inside the retried function), as the service sees them.
    const leave = (peerId: string) =>
      this.update('leave', (bs) => {
        sent.leaves++;
        return bs.leave(peerId);
      });
    let data = await leave(id);
    const stale = Object.values(data.Peers).find((p) => p.name === node.name);
    if (stale) data = await leave(stale.id);
    const listed = Object.values(data.Peers).some((p) => p.id === this.ctx.id);
    if (listed || data.Config.numpeers >= data.Config.maxpeers) return 'removed';
    await this.update('refill', (bs) => {
      sent.refills++;
      return bs.refill(this.peerRecord());
    });
    this.ctx.out.info(`<info> bootstrap list refilled with ${this.ctx.name}`);
    return 'refilled';
  }

  /** Takes this peer off the list when it quits: one request, no retries (it is going away). */
  async leaveService(): Promise<void> {
    this.#data = await this.requireService().leave(this.ctx.id);
  }

  /** The bootstrap list from the service, for finding the group again: its addresses. */
  async refreshContacts(): Promise<string[]> {
    const service = this.requireService();
    this.#data = await service.list();
    return this.contactAddresses() ?? [];
  }
}
