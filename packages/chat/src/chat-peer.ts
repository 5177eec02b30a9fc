/**
 * What users of the chat peer see: the `ChatPeer` interface, its options and events. The
 * implementation (peer.ts) composes the parts behind it and is created only by `createChatPeer`;
 * the console commands (commands/) drive a peer through this interface alone.
 */
import type { EventEmitter } from 'node:events';
import type { BootstrapData, PeerRecord } from '@isopeer/bootstrap';
import type { Console, LineWriter } from '@isopeer/console';
import type {
  GoMemberlistConfig,
  Keyring,
  Memberlist,
  TransmitLimitedQueue,
} from '@isopeer/memberlist';
import type { BootstrapApi } from './bootstrap-api.js';
import type { BootstrapJoinResult } from './bootstrap-duty.js';
import type { Delivery } from './chat-members.js';
import type { ChatListenerLimits } from './chat-transport.js';
import type { KvUpdate } from './kv-update.js';
import type { ChatMemberRecord } from './member-record.js';
import type { ConfigPreset } from './memberlist-node.js';

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
  /** Limits of the chat listener (members' addresses always have room; see ChatListenerLimits). */
  listener?: ChatListenerLimits;
  /**
   * Time for one chat line to one member; default 5000 ms. Linux resends a lost SYN after 1 s and
   * 3 s: 5 s outlasts two lost handshakes, 3 s only one (at 10% packet loss each way, 1.8% of
   * lines failed with 3 s, none of 1000 with 5 s).
   */
  sendTimeoutMs?: number;
  /**
   * Times a chat line is sent again when the member's listener refused it with a reset (it was
   * full, say under a flood of idle connections); default 3.
   */
  sendRetries?: number;
  /** Bootstrap requests: attempts and first backoff delay; default 3 and 200 ms. */
  bootstrapRetry?: { attempts: number; baseDelayMs: number };
  /** Rejoin attempts when the peer finds itself alone: first and longest delay. */
  rejoinDelayMs?: { min: number; max: number };
  /** memberlist encryption keys (AES, 16/24/32 bytes); the first is primary. Default: none. */
  keys?: Uint8Array[];
  /** Cluster label (memberlist ≥ 0.3); default '' (none, as memberlist 0.2.2). */
  label?: string;
  /**
   * Longest time `quit` takes to leave (bootstrap leave, telling the members, memberlist leave)
   * before it stops anyway; default 5000 ms.
   */
  quitTimeoutMs?: number;
}

export interface ChatPeerEvents {
  /** `exit` or `quit` finished: the application should end with this code. */
  exit: [number];
}

/** The `testpartition` switch: the peers (by chat name) this one is cut off from. */
export interface TestPartitions {
  /** Cuts this peer off from `peer` (its nodes, also ones that join later) or reconnects it. */
  set(peer: string, on: boolean): void;
  /** The peers cut off now. */
  peers(): string[];
}

/**
 * A chat peer: a memberlist node, the bootstrap service client and the chat layer, driven step by
 * step as the original prototype's commands do (configure, create, bootstrap join, start
 * broadcasting, join, start chat) or all at once by `init`. It never prints: what a person should
 * see goes to the console's output stream; diagnostics go to the `chat` logger.
 */
export interface ChatPeer extends EventEmitter<ChatPeerEvents> {
  /** The chat name people see. */
  readonly name: string;
  /** Bootstrap id (a UUID), also the end of the node name. */
  readonly id: string;
  /** The memberlist node name: `<name>-<host>-<id>`. */
  readonly nodeName: string;
  /** Unix seconds at peer start, the `timestamp` of the bootstrap peer record. */
  readonly startedAt: string;
  readonly console: Console;
  readonly preset: ConfigPreset;
  /** Peers cut off by `testpartition`. */
  readonly partitions: TestPartitions;

  /** Reads the member cache; call once before `init`. */
  loadCache(): Promise<void>;

  // ---- state, read-only -----------------------------------------------------------------------

  /** The memberlist node, once created. */
  readonly memberlist: Memberlist | undefined;
  /** The queue of chat records and items, once broadcasting started. */
  readonly queue: TransmitLimitedQueue | undefined;
  /** Known chat members by node name, this peer included once the chat started. */
  readonly members: ReadonlyMap<string, ChatMemberRecord>;
  /** This peer's chat record while the chat runs. */
  readonly self: ChatMemberRecord | undefined;
  /** The replicated items, key → message. */
  readonly items: ReadonlyMap<string, string>;
  /** The bootstrap service, if the peer has one. */
  readonly bootstrap: BootstrapApi | undefined;
  /** The last bootstrap document this peer received. */
  readonly bootstrapData: BootstrapData | undefined;
  /** The encryption keys in effect: the running node's, or those waiting for `create`. */
  readonly keyring: Keyring | null;

  // ---- the memberlist node --------------------------------------------------------------------

  /** The configuration `/showconfig` shows: the one set up by `configure`, or the preset. */
  currentGoConfig(): GoMemberlistConfig;
  /** `memberlistconfigure [BindPort <port>]`: a fresh preset configuration. */
  configure(bindPort?: number): GoMemberlistConfig;
  /**
   * Takes a configuration (`/loadconfig`). The node name stays this peer's own: it carries the
   * bootstrap id, and a file saved by another peer names that peer. Returns a note if it differed.
   */
  setGoConfig(config: GoMemberlistConfig): string | undefined;
  /**
   * Sets the gossip verify flags on the running node and in the configuration a re-create would
   * use (rolling out encryption in a live cluster).
   */
  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void;
  /** Replaces the keyring: on the running node at once, else for the next `create`. */
  useKeyring(keyring: Keyring): void;
  /** `memberlistcreate`: binds the node and starts probing; nobody else is known yet. */
  create(): Promise<Memberlist>;
  /** The memberlist node; throws `ChatError` `CHAT_NO_MEMBERLIST` before `create`. */
  requireMemberlist(): Memberlist;
  /** `memberliststart`: the broadcast queue that carries chat records (RetransmitMult 3). */
  startBroadcasts(): void;
  /** Shuts down the memberlist node (`memberlistshutdown`; `forget` for `memberlistdelete`). */
  shutdownMemberlist(forget: boolean): Promise<void>;
  /** Closes only the network transport, as if the network went away. */
  closeTransport(): Promise<void>;
  /**
   * `memberlistjoin [addr...]`: joins the given addresses, or the bootstrap peers (all but this
   * one), or — when the service could not be asked — the cached members. Bootstrap peers that do
   * not answer are taken off the service's list and this peer offers itself in their place.
   * Resolves with the number of nodes contacted (0 when there was nobody to join); rejects when
   * nobody answered.
   */
  join(addresses?: string[]): Promise<number>;

  // ---- bootstrap ------------------------------------------------------------------------------

  /** The bootstrap service; throws `ChatError` `CHAT_NO_BOOTSTRAP` without one. */
  requireBootstrap(): BootstrapApi;
  /** This peer's record for the bootstrap service (memberlist address, start time). */
  peerRecord(): PeerRecord;
  /** Runs a bootstrap request with retries (backoff) for transient failures. */
  bootstrapCall<T>(what: string, fn: (bs: BootstrapApi) => Promise<T>): Promise<T>;
  /** A bootstrap request whose answer becomes the local copy (`bootstrapData`). */
  bootstrapUpdate(
    what: string,
    fn: (bs: BootstrapApi) => Promise<BootstrapData>,
  ): Promise<BootstrapData>;
  /**
   * `bootstrapjoin`: ping, then join with this node's address. When the service cannot be
   * reached even after retries, the peer goes on with its member cache (the error says so) —
   * the result tells which source the next `memberlistjoin` will use.
   */
  bootstrapJoin(): Promise<BootstrapJoinResult>;

  // ---- chat and items -------------------------------------------------------------------------

  /**
   * `chatstart`: listens for chat lines, announces this member (JOIN record over gossip) and
   * greets every known member with `<joined> NAME has joined`.
   */
  chatStart(): Promise<Delivery>;
  /** `chatstop`: stops the listener; this member stays known to the others. */
  chatStop(): Promise<void>;
  /** `chatleave`: stops the listener, forgets the members and announces LEAVE over gossip. */
  chatLeave(): Promise<void>;
  /** Sends `line` to every chat member but this one, one TCP connection each, in parallel. */
  sendToMembers(line: string): Promise<Delivery>;
  /** `msg <text>` and plain lines: one chat line to all others. */
  sendMessage(text: string): Promise<Delivery>;
  /** Checks each member's chat listener with an empty connection: round trip or error. */
  pingMembers(): Promise<Array<{ name: string; ms?: number; error?: string }>>;
  /** Finds a member by node name or by its short name (`CHAT_UNKNOWN_MEMBER` if none). */
  findMember(query: string): ChatMemberRecord;
  /** Short name of a node: from its memberlist metadata when known. */
  displayName(nodeName: string): string;
  /** Sends a PING record over gossip, as the original's `chatmemberping`; the answer is shown. */
  gossipPing(member: ChatMemberRecord): void;
  /** `broadcastadd` / `broadcastdel`: applies the update here and gossips it. */
  broadcastKv(update: KvUpdate): void;

  // ---- sequences ------------------------------------------------------------------------------

  /**
   * `init`: the original's start-up sequence — memberlistconfigure, memberlistcreate,
   * bootstrapjoin, memberliststart, memberlistjoin, chatstart — reporting each step on `out`.
   */
  init(out: LineWriter): Promise<void>;
  /** True once `quit` began. */
  readonly quitting: boolean;
  /**
   * `quit`: the original's leave sequence — leave the bootstrap list, tell every chat member,
   * announce LEAVE over gossip, leave memberlist — then emits `exit`. It takes at most
   * `quitTimeoutMs`; when that passes or `signal` aborts (a second Ctrl-C), the peer stops where
   * the sequence stands, says so, and emits `exit` with code 1.
   */
  quit(out: LineWriter, signal?: AbortSignal): Promise<void>;
  /** `exit`: releases everything without telling anyone, then emits `exit`. */
  exit(): Promise<void>;
  /** Releases sockets and timers without telling anyone (`exit`, or after `quit`). */
  close(): Promise<void>;
}
