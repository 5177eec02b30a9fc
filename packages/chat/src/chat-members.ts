/**
 * The chat layer of a peer: the member records (who is in the chat and where its listener is),
 * spread over gossip and the push/pull state exchange; records of failed members kept to restore
 * them when they come back; pings over gossip; and the chat itself (start, stop, leave, sending
 * lines to every member over TCP).
 */
import { joinHostPort, type MemberNode, namedBroadcast } from '@isopeer/memberlist';
import { chatLine, sanitizeLine, statusLine } from './chat-line.js';
import { type ChatListener, pingChatListener, sendChatLine } from './chat-transport.js';
import { ChatError } from './errors.js';
import {
  type ChatMemberRecord,
  decodeRemoteState,
  encodeLocalState,
  encodeMemberRecord,
  MsgType,
  parseHostPort,
  timestampNow,
} from './member-record.js';
import type { Partitions } from './partitions.js';
import { type PeerContext, requireMemberlist, requireQueue } from './peer-context.js';
import { displayNameOf } from './peer-name.js';

/** Result of sending one line to every member. */
export interface Delivery {
  delivered: string[];
  failed: Array<{ name: string; error: string }>;
}

/** The name of this peer's own record in the broadcast queue: a newer one replaces an older. */
const SELF_BROADCAST = 'chat-self';
/** How long `start` waits for its JOIN record to be gossiped. */
const JOIN_GOSSIP_WAIT_MS = 3_000;

/** Maps that only help (restoring returning members, timing pings) stay small: oldest out. */
const MAX_REMEMBERED = 256;
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

export interface ChatMembersOptions {
  listener: ChatListener;
  partitions: Partitions;
  /** Address the chat listener binds to. */
  bindAddr: string;
  /** Time for one chat line to one member. */
  sendTimeoutMs: number;
  /** Times a line refused by a full listener (reset) is sent again. */
  sendRetries: number;
}

export class ChatMembers {
  /** Known chat members by node name, this peer included once the chat started. */
  readonly #records = new Map<string, ChatMemberRecord>();
  /** Records of members that failed, restored if memberlist sees them come back. */
  readonly #departed = new Map<string, ChatMemberRecord>();
  /** Pings over gossip waiting for their answer: node name → when sent. */
  readonly #pendingPings = new Map<string, number>();
  #self: ChatMemberRecord | undefined;

  constructor(
    private readonly ctx: PeerContext,
    private readonly opts: ChatMembersOptions,
  ) {}

  get records(): ReadonlyMap<string, ChatMemberRecord> {
    return this.#records;
  }

  /** This peer's record while the chat runs. */
  get self(): ChatMemberRecord | undefined {
    return this.#self;
  }

  /** The records for the push/pull state exchange (the original's LocalState). */
  localState(): Uint8Array {
    return encodeLocalState(this.#records);
  }

  /** Short name of a node: from its memberlist metadata when known. */
  displayName(nodeName: string): string {
    if (nodeName === this.ctx.nodeName) return this.ctx.name;
    const node = this.ctx
      .memberlist()
      ?.allNodes()
      .find((n) => n.name === nodeName);
    return displayNameOf(nodeName, node?.meta);
  }

  /**
   * Whether `ip` is the address of a member: a live memberlist member's, or a chat member's
   * listener. Chat lines from other addresses are marked, and their connections get less room.
   */
  isMemberAddress(ip: string): boolean {
    for (const r of this.#records.values()) {
      if (r.sender && parseHostPort(r.sender)?.host === ip) return true;
    }
    return (
      this.ctx
        .memberlist()
        ?.members()
        .some((n) => n.addr === ip) ?? false
    );
  }

  /** Finds a member by node name or by its short name. */
  find(query: string): ChatMemberRecord {
    const exact = this.#records.get(query);
    if (exact) return exact;
    const matches = [...this.#records.values()].filter((m) => this.displayName(m.name) === query);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new ChatError(
        'CHAT_ARGS',
        `${query} is ambiguous: ${matches.map((m) => m.name).join(', ')}`,
      );
    }
    throw new ChatError('CHAT_UNKNOWN_MEMBER', `no chat member ${JSON.stringify(query)}`);
  }

  // ---- records over gossip -----------------------------------------------------------------------

  /** Gossips this peer's JOIN record again (a newcomer or a healed group learns about us). */
  announceSelf(): void {
    if (this.#self) this.#queueSelf(this.#self);
  }

  /** Gossips this peer's LEAVE record. */
  announceLeave(): void {
    if (this.#self) this.#queueSelf({ ...this.#self, msgType: MsgType.LEAVE });
  }

  #queueSelf(r: ChatMemberRecord, onDone?: () => void): void {
    this.ctx.queue()?.queueBroadcast(namedBroadcast(SELF_BROADCAST, encodeMemberRecord(r), onDone));
  }

  /** Sends a PING record over gossip, as the original's `chatmemberping`; the answer is shown. */
  gossipPing(member: ChatMemberRecord): void {
    const queue = requireQueue(this.ctx);
    const ping: ChatMemberRecord = { ...member, msgType: MsgType.PING, timestamp: timestampNow() };
    remember(this.#pendingPings, member.name, Date.now());
    queue.queueBroadcast({ message: encodeMemberRecord(ping), unique: true });
  }

  /** A record that arrived over gossip. */
  onRecord(r: ChatMemberRecord): void {
    const { nodeName } = this.ctx;
    if (r.msgType === MsgType.JOIN) {
      if (r.name === nodeName || this.#goneFromMemberlist(r.name)) return;
      const known = this.#records.get(r.name);
      this.#records.set(r.name, r);
      this.#departed.delete(r.name);
      if (!known) {
        // The original only answered with its own JOIN, so a newcomer's record reached the others
        // only through the newcomer's few retransmits and was missed by ~1 in 10 members of a
        // group of ten. Passing the record on makes it spread like memberlist's own news.
        this.#relay(r);
        // A newcomer learns about us from our own JOIN, as in the original.
        this.announceSelf();
      }
    } else if (r.msgType === MsgType.LEAVE) {
      if (r.name !== nodeName && this.#records.delete(r.name)) this.#relay(r);
    } else if (r.name === nodeName) {
      // A PING for us: send it back so the pinger sees the round trip (original behaviour).
      this.ctx.queue()?.queueBroadcast({ message: encodeMemberRecord(r), unique: true });
    } else {
      const sent = this.#pendingPings.get(r.name);
      if (sent !== undefined) {
        this.#pendingPings.delete(r.name);
        this.ctx.out.info(
          `ping over gossip to ${this.displayName(r.name)} returned after ${Date.now() - sent} ms`,
        );
      }
    }
  }

  /** A late JOIN (relayed or delayed) must not bring back a member memberlist saw go. */
  #goneFromMemberlist(nodeName: string): boolean {
    const node = this.ctx
      .memberlist()
      ?.allNodes()
      .find((n) => n.name === nodeName);
    return node !== undefined && (node.state === 'dead' || node.state === 'left');
  }

  /** Gossips another member's record on; a newer record of the same member replaces it. */
  #relay(r: ChatMemberRecord): void {
    this.ctx
      .queue()
      ?.queueBroadcast(namedBroadcast(`chat-member:${r.name}`, encodeMemberRecord(r)));
  }

  /** Another node's records from a push/pull state exchange. */
  onRemoteState(buf: Uint8Array, join: boolean): void {
    if (buf.length === 0) return;
    const { nodeName, log } = this.ctx;
    try {
      const { members, problems } = decodeRemoteState(buf);
      for (const p of problems) log.warn('remote chat state entry dropped', { problem: p });
      if (join) {
        // As the original: on a join the remote view is taken over.
        for (const [name, record] of members) {
          if (name !== nodeName) this.#records.set(name, record);
        }
        return;
      }
      // Periodic sync (the original ignored it): only fill gaps — members memberlist sees alive
      // whose record never reached us — so a lost gossip message is repaired within one
      // push/pull interval, and nobody who left is brought back.
      const live = new Set(
        this.ctx
          .memberlist()
          ?.members()
          .map((n) => n.name) ?? [],
      );
      for (const [name, record] of members) {
        if (
          name !== nodeName &&
          !this.#records.has(name) &&
          live.has(name) &&
          record.msgType === MsgType.JOIN
        ) {
          this.#records.set(name, record);
        }
      }
    } catch (e) {
      log.warn('remote chat state dropped', { error: (e as Error).message });
    }
  }

  // ---- memberlist events -------------------------------------------------------------------------

  /** memberlist saw a node join: a member that failed earlier gets its record back. */
  nodeJoined(node: MemberNode): void {
    const back = this.#departed.get(node.name);
    if (!back) return;
    this.#departed.delete(node.name);
    this.#records.set(node.name, back);
    this.ctx.log.info('chat member back', { node: node.name });
    this.ctx.out.info(`<info> ${displayNameOf(node.name, node.meta)} is back`);
  }

  /** Whether memberlist's news of a joining node is the return of a member that failed. */
  isReturning(nodeName: string): boolean {
    return this.#departed.has(nodeName);
  }

  /** memberlist saw a node fail (`failed`) or leave: its record goes, and is kept if it failed. */
  nodeGone(node: MemberNode, failed: boolean): void {
    const who = displayNameOf(node.name, node.meta);
    this.ctx.console.write('warn', `<left> ${who} has ${failed ? 'failed' : 'left'}`, 'chat');
    const record = this.#records.get(node.name);
    if (record) {
      this.#records.delete(node.name);
      if (failed) remember(this.#departed, node.name, record);
    }
  }

  // ---- the chat ----------------------------------------------------------------------------------

  /**
   * `chatstart`: listens for chat lines, announces this member (JOIN record over gossip) and
   * greets every known member with `<joined> NAME has joined`.
   */
  async start(): Promise<Delivery> {
    const ml = requireMemberlist(this.ctx);
    requireQueue(this.ctx);
    const { listener, bindAddr } = this.opts;
    if (listener.listening) throw new ChatError('CHAT_STATE', 'the chat is already started');
    const { port } = await listener.listen(bindAddr, 0);
    const host = bindAddr === '0.0.0.0' || bindAddr === '::' ? ml.localNode().addr : bindAddr;
    const self: ChatMemberRecord = {
      msgType: MsgType.JOIN,
      name: this.ctx.nodeName,
      sender: joinHostPort(host, port),
      timestamp: timestampNow(),
    };
    this.#self = self;
    this.#records.set(self.name, self);
    // Wait (briefly) until the JOIN record has been gossiped as often as memberlist sends news,
    // so that a message sent right after `init` reaches members who learned of us only now.
    const gossiped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, JOIN_GOSSIP_WAIT_MS);
      this.#queueSelf(self, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const greeting = this.sendToAll(statusLine('joined', `${this.ctx.name} has joined`));
    if (ml.numMembers() > 1) await gossiped;
    return greeting;
  }

  /** `chatstop`: stops the listener; this member stays known to the others. */
  async stop(): Promise<void> {
    if (!this.opts.listener.listening) throw new ChatError('CHAT_STATE', 'the chat is not started');
    await this.opts.listener.close();
  }

  /** `chatleave`: stops the listener, forgets the members and announces LEAVE over gossip. */
  async leave(): Promise<void> {
    requireQueue(this.ctx);
    if (!this.#self) throw new ChatError('CHAT_STATE', 'the chat is not started');
    await this.opts.listener.close();
    this.#records.clear();
    this.announceLeave();
    this.#self = undefined;
  }

  /** Sends `line` to every chat member but this one, one TCP connection each, in parallel. */
  async sendToAll(line: string): Promise<Delivery> {
    const result: Delivery = { delivered: [], failed: [] };
    await Promise.all(
      this.#others().map(async (m) => {
        const who = this.displayName(m.name);
        try {
          if (this.opts.partitions.node(m.name)) throw new Error('partitioned away (test)');
          await sendChatLine(m.sender, line, {
            timeoutMs: this.opts.sendTimeoutMs,
            retriesOnReset: this.opts.sendRetries,
          });
          result.delivered.push(who);
        } catch (e) {
          result.failed.push({ name: who, error: (e as Error).message });
          this.ctx.log.warn('chat line not delivered', {
            to: who,
            address: m.sender,
            error: (e as Error).message,
          });
        }
      }),
    );
    return result;
  }

  /** `msg <text>` and plain lines: one chat line to all others. */
  async sendMessage(text: string): Promise<Delivery> {
    if (!this.#self) throw new ChatError('CHAT_NOT_STARTED', 'the chat is not started');
    return this.sendToAll(chatLine(this.ctx.name, sanitizeLine(text)));
  }

  /** Checks each member's chat listener with an empty connection. */
  ping(): Promise<Array<{ name: string; ms?: number; error?: string }>> {
    return Promise.all(
      this.#others().map(async (m) => {
        try {
          return {
            name: this.displayName(m.name),
            ms: await pingChatListener(m.sender, { timeoutMs: this.opts.sendTimeoutMs }),
          };
        } catch (e) {
          return { name: this.displayName(m.name), error: (e as Error).message };
        }
      }),
    );
  }

  #others(): ChatMemberRecord[] {
    return [...this.#records.values()].filter((m) => m.name !== this.ctx.nodeName && m.sender);
  }
}
