// Packet and stream handling (docs/spec/memberlist-wire.md §5, §6, §1.5): sending with piggy-backed gossip, framing layers
// chosen per peer version (CRC for PMax ≥ 5), ingesting datagrams (bad ones are counted and
// dropped, never thrown), serving streams (push/pull, reliable user messages, TCP pings) with
// error replies, and the client side of push/pull, TCP ping and reliable sends. Labels
// (memberlist ≥ 0.3): every datagram and every stream we dial starts with ours; input is checked
// against it before anything else and refused silently (counted, and a `labelRefused` event).

import { bytesToIp, joinHostPort } from './address.js';
import {
  addLabelHeader,
  CodecError,
  checkInboundLabel,
  decodePacket,
  describeForeignProtocol,
  type EncryptionVersion,
  encodeErr,
  encodeMessage,
  encodePacket,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  encryptionOverhead,
  identifyForeignProtocol,
  LabelError,
  type LabelPolicy,
  type LabelRefusalReason,
  labelOverhead,
  labelText,
  MessageType,
  type PacketMessage,
  type Ping,
  packCompounds,
  quoteLabel,
  readLabelHeader,
  type StreamMessage,
  StreamMessageParser,
  unpackMessages,
} from './codec/index.js';
import type { Context, NodeRecord } from './context.js';
import type { DropReason } from './metrics.js';
import type { State } from './state.js';
import type { StreamConn } from './transport/transport.js';

/** Largest stream message accepted (matches Go's cap on encrypted frames). */
const MAX_STREAM_BYTES = 20 * 1024 * 1024;
/** Concurrent push/pulls served; Go refuses the 128th. */
const MAX_PUSH_PULL_SERVED = 127;
const USER_MSG_OVERHEAD = 1;

/** A failed stream exchange (push/pull, reliable send, remote error reply). */
export class StreamError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

/** A datagram or stream refused by the label check (the `labelRefused` event). */
export interface LabelRefusal {
  via: 'packet' | 'stream';
  /** `host:port` the bytes came from. */
  from: string;
  reason: LabelRefusalReason;
  /** The label the peer sent (as text), null if it sent none. */
  label: string | null;
  message: string;
}

function dropReasonOf(err: unknown): DropReason {
  if (err instanceof LabelError) return `label-${err.reason}`;
  if (!(err instanceof CodecError)) return 'other';
  switch (err.code) {
    case 'crc-mismatch':
      return 'crc';
    case 'decrypt-failed':
      return 'decrypt';
    case 'policy':
      return 'policy';
    case 'unknown-type':
      return 'unknown-type';
    case 'too-large':
      return 'too-large';
    case 'bad-compression':
      return 'compression';
    case 'truncated':
      return 'truncated';
    default:
      return 'decode';
  }
}

/** An application queue, or a delegate that has `getBroadcasts`. */
interface BroadcastSource {
  getBroadcasts(overhead: number, limit: number): Uint8Array[];
}

export class NetLayer {
  private servingPushPulls = 0;
  /** `config.label` as bytes, recomputed only if the text changes. */
  private labelSource = '';
  private labelBytes = new Uint8Array(0);

  constructor(
    private readonly ctx: Context,
    private readonly state: State,
  ) {}

  private get encrypting(): boolean {
    const kr = this.ctx.config.keyring;
    return kr !== null && kr.keys.length > 0 && this.ctx.config.gossipVerifyOutgoing;
  }

  private get encryptionVersion(): EncryptionVersion {
    return this.ctx.config.protocolVersion < 2 ? 0 : 1;
  }

  /** This node's label as UTF-8 bytes (empty = none). */
  private get label(): Uint8Array {
    const text = this.ctx.config.label;
    if (text !== this.labelSource) {
      this.labelSource = text;
      this.labelBytes = new TextEncoder().encode(text);
    }
    return this.labelBytes;
  }

  private get labelPolicy(): LabelPolicy {
    return { label: this.label, skipInboundCheck: this.ctx.config.skipInboundLabelCheck };
  }

  /** Bytes the label header adds to each datagram (Go subtracts them from the gossip budget). */
  labelOverhead(): number {
    return labelOverhead(this.label);
  }

  /** Counts a label refusal and tells the application; never throws. */
  private refuseByLabel(err: LabelError, via: 'packet' | 'stream', from: string): void {
    this.ctx.metrics.drop(`label-${err.reason}`);
    const refusal: LabelRefusal = {
      via,
      from,
      reason: err.reason,
      label: err.received === null ? null : labelText(err.received),
      message: err.message,
    };
    try {
      this.ctx.events.emit('labelRefused', refusal);
    } catch {
      this.ctx.metrics.callbackErrors++;
    }
  }

  /** Bytes the encryption layer adds; `requireOutgoing` false counts it whenever keys exist. */
  encryptionOverhead(requireOutgoing: boolean): number {
    const kr = this.ctx.config.keyring;
    if (!kr || kr.keys.length === 0) return 0;
    if (requireOutgoing && !this.ctx.config.gossipVerifyOutgoing) return 0;
    return encryptionOverhead(this.encryptionVersion);
  }

  // ---- sending packets ---------------------------------------------------------------------

  /** Our queued broadcasts, then the application's (its queues, then its delegate's), framed
   * as user messages (§11.2). */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const out = this.ctx.queue.getBroadcasts(overhead, limit);
    let room = limit;
    for (const m of out) room -= m.length + overhead;
    for (const q of this.ctx.appQueues) {
      if (q.numQueued() > 0) room = this.addUserMessages(out, room, overhead, q);
    }
    const d = this.ctx.hooks.delegate;
    if (d?.getBroadcasts) this.addUserMessages(out, room, overhead, d as BroadcastSource);
    return out;
  }

  /** Appends what `source` hands out for `room` bytes to `out` as user messages; the room left. */
  private addUserMessages(
    out: Uint8Array[],
    room: number,
    overhead: number,
    source: BroadcastSource,
  ): number {
    if (room <= overhead + USER_MSG_OVERHEAD) return room;
    for (const m of source.getBroadcasts(overhead + USER_MSG_OVERHEAD, room)) {
      // An application message that does not fit what was asked for is skipped rather than
      // allowed to make an unsendable datagram.
      const cost = m.length + overhead + USER_MSG_OVERHEAD;
      if (m.length === 0 || cost > room) {
        if (m.length > 0) this.ctx.metrics.drop('too-large');
        continue;
      }
      room -= cost;
      out.push(encodeMessage({ type: MessageType.User, payload: m }));
    }
    return room;
  }

  /** Sends a message with queued gossip piggy-backed if there is room (§5.6). */
  sendMsg(to: string, msg: PacketMessage, node?: NodeRecord): Promise<void> {
    const bytes = encodeMessage(msg);
    const avail =
      this.ctx.config.udpBufferSize -
      bytes.length -
      2 -
      this.encryptionOverhead(true) -
      this.labelOverhead();
    const extra = avail > 0 ? this.getBroadcasts(2, avail) : [];
    if (extra.length === 0) return this.sendRaw(to, bytes, node);
    // A compound holds at most 127 parts (Go mis-splits more); tiny application broadcasts
    // beyond that go in a second datagram rather than being lost.
    const [first, ...more] = packCompounds([bytes, ...extra]);
    for (const p of more) void this.sendRaw(to, p, node).catch(() => {});
    return this.sendRaw(to, first, node);
  }

  /** Frames (compress/CRC/encrypt) and sends one datagram. CRC when the peer's PMax ≥ 5. */
  async sendRaw(to: string, plain: Uint8Array, node?: NodeRecord): Promise<void> {
    const c = this.ctx.config;
    const datagram = encodePacket(plain, {
      compress: c.enableCompression,
      crc: node !== undefined && node.vsn[1] >= 5,
      keyring: c.keyring ?? undefined,
      encrypt: this.encrypting,
      encryptionVersion: this.encryptionVersion,
      label: this.label,
    });
    this.ctx.metrics.packetsOut++;
    this.ctx.metrics.bytesOut += datagram.length;
    try {
      await this.ctx.transport.sendPacket(to, datagram);
    } catch (err) {
      this.ctx.metrics.sendErrors++;
      throw err;
    }
  }

  // ---- receiving packets -------------------------------------------------------------------

  /** Entry point for every datagram. Never throws. */
  ingestPacket(data: Uint8Array, from: string): void {
    const m = this.ctx.metrics;
    m.packetsIn++;
    m.bytesIn += data.length;
    if (this.ctx.shutdown) return;
    const at = this.ctx.clock.now();
    let messages: PacketMessage[];
    try {
      const c = this.ctx.config;
      const plain = decodePacket(data, {
        keyring: c.keyring ?? undefined,
        verifyIncoming: c.gossipVerifyIncoming,
        labelPolicy: this.labelPolicy,
      });
      const r = unpackMessages(plain, { maxDecompressedBytes: c.maxDecompressedPacketBytes });
      for (const d of r.dropped) m.drop(dropReasonOf(new CodecError(d.code, d.message)));
      messages = r.messages;
    } catch (err) {
      if (err instanceof LabelError) this.refuseByLabel(err, 'packet', from);
      else m.drop(dropReasonOf(err));
      return;
    }
    for (const msg of messages) {
      try {
        this.handleMessage(msg, from, at);
      } catch {
        // A handler must not take the receive path down; count and go on.
        m.drop('other');
      }
    }
  }

  private handleMessage(msg: PacketMessage, from: string, at: number): void {
    const s = this.state;
    switch (msg.type) {
      case MessageType.Ping:
        this.handlePing(msg.body, from);
        break;
      case MessageType.IndirectPing:
        s.handleIndirectPing(msg.body, from);
        break;
      case MessageType.AckResp:
        s.handleAck(msg.body.seqNo, msg.body.payload, at);
        break;
      case MessageType.NackResp:
        s.handleNack(msg.body.seqNo);
        break;
      case MessageType.Suspect:
        s.suspectNode(msg.body);
        break;
      case MessageType.Alive: {
        const a = msg.body;
        if (this.ctx.config.protocolVersion < 2 || a.port === 0) {
          a.port = this.ctx.transport.bindPort;
        }
        s.aliveNode(a, false, undefined, from);
        break;
      }
      case MessageType.Dead:
        s.deadNode(msg.body);
        break;
      case MessageType.User:
        this.deliverUserMessage(msg.payload);
        break;
    }
  }

  /** Hands a user message to the application, unless it exceeds `maxUserMessageBytes`. */
  private deliverUserMessage(payload: Uint8Array, length = payload.length): void {
    const m = this.ctx.metrics;
    if (length > this.ctx.config.maxUserMessageBytes) {
      m.refusedUserMessageSize++;
      return;
    }
    m.userIn++;
    this.ctx.hooks.delegate?.notifyMsg?.(payload);
  }

  private handlePing(p: Ping, from: string): void {
    if (p.node !== '' && p.node !== this.ctx.config.name) {
      this.ctx.metrics.drop('not-for-us');
      return;
    }
    const ip = p.sourceAddr && p.sourceAddr.length > 0 ? bytesToIp(p.sourceAddr) : null;
    const to = ip !== null && p.sourcePort ? joinHostPort(ip, p.sourcePort) : from;
    const payload = this.ctx.hooks.ping?.ackPayload?.() ?? null;
    const node = p.sourceNode ? this.state.nodes.get(p.sourceNode) : undefined;
    void this.sendMsg(
      to,
      { type: MessageType.AckResp, body: { seqNo: p.seqNo, payload } },
      node,
    ).catch(() => {});
  }

  // ---- streams -----------------------------------------------------------------------------

  private streamOpts() {
    const c = this.ctx.config;
    return {
      compress: c.enableCompression,
      keyring: c.keyring ?? undefined,
      encrypt: this.encrypting,
      encryptionVersion: this.encryptionVersion,
      label: this.label,
    };
  }

  /**
   * Writes one message. `opening`: the first message on a connection we dialed, which carries
   * our label header in front (in the same write; Go writes it separately, which a reader
   * cannot tell apart). Replies carry no header, but are sealed with the label all the same.
   */
  private async writeStream(conn: StreamConn, plain: Uint8Array, opening = false): Promise<void> {
    const message = encodeStreamMessage(plain, this.streamOpts());
    const bytes = opening ? addLabelHeader(this.label, message) : message;
    this.ctx.metrics.streamBytesOut += bytes.length;
    await conn.write(bytes);
  }

  /**
   * Where the message starts after the label header of an accepted stream, or -1 while the
   * header is incomplete. Throws `LabelError` if the label is refused.
   */
  private acceptStreamLabel(buf: Uint8Array, complete: boolean): number {
    const header = readLabelHeader(buf, complete, 'stream');
    if (header === null) return -1;
    checkInboundLabel(header.label, this.labelPolicy, 'stream');
    return header.length;
  }

  /**
   * Reads one stream message, closing the connection at `deadline` (clock time). Returns null
   * if the peer closed before sending a message. `side` 'listener': the stream was accepted,
   * so it starts with the peer's label header (checked first, throwing `LabelError`);
   * 'dialer': it is the reply to our request, which has no header, and whose first byte tells
   * whether the address speaks memberlist at all (StreamError `ERR_NOT_MEMBERLIST` if not).
   * Throws CodecError on garbage, StreamError on timeout or a truncated message.
   */
  private async readStream(
    conn: StreamConn,
    deadline: number,
    side: 'listener' | 'dialer',
  ): Promise<StreamMessage | null> {
    const c = this.ctx.config;
    let timedOut = false;
    const deadlineSignal = new AbortController();
    const timer = this.ctx.clock.setTimeout(
      () => {
        timedOut = true;
        deadlineSignal.abort(new StreamError('stream read timed out', 'ERR_STREAM_TIMEOUT'));
        conn.close();
      },
      Math.max(0, deadline - this.ctx.clock.now()),
    );
    try {
      // Received bytes accumulate in a buffer that doubles when full, so a large push/pull
      // arriving in many chunks costs linear, not quadratic, copying.
      let store = new Uint8Array(4096);
      let len = 0;
      // One parser per message keeps what it has read, so each chunk costs only its own bytes.
      const parser = new StreamMessageParser({
        keyring: c.keyring ?? undefined,
        verifyIncoming: c.gossipVerifyIncoming,
        maxBytes: MAX_STREAM_BYTES,
        label: this.label,
        maxUserBytes: c.maxUserMessageBytes,
      });
      // Where the message starts: after the label header (unknown yet: -1) on accepted streams.
      let start = side === 'listener' ? -1 : 0;
      for (;;) {
        const chunk = await conn.read();
        if (chunk === null) {
          if (timedOut) throw new StreamError('stream read timed out', 'ERR_STREAM_TIMEOUT');
          // As in Go, a stream closed before its first byte counts as unlabelled.
          if (start < 0) start = this.acceptStreamLabel(store.subarray(0, len), true);
          if (len === start) return null;
          throw new StreamError(
            `stream ended inside a message (${len} bytes read)`,
            'ERR_STREAM_TRUNCATED',
          );
        }
        this.ctx.metrics.streamBytesIn += chunk.length;
        if (len + chunk.length > store.length) {
          let cap = store.length;
          while (cap < len + chunk.length) cap *= 2;
          const grown = new Uint8Array(cap);
          grown.set(store.subarray(0, len));
          store = grown;
        }
        store.set(chunk, len);
        const first = len === 0;
        len += chunk.length;
        if (start < 0) {
          start = this.acceptStreamLabel(store.subarray(0, len), false);
          if (start < 0) continue;
        } else if (side === 'dialer' && first) {
          const foreign = identifyForeignProtocol(store.subarray(0, len));
          if (foreign) {
            throw new StreamError(
              describeForeignProtocol(conn.remoteAddr, foreign),
              'ERR_NOT_MEMBERLIST',
            );
          }
        }
        // Async: a compressed plaintext message is expanded in slices (LZW bombs, issue 12).
        const r = await parser.tryParseAsync(store.subarray(start, len), deadlineSignal.signal);
        if (r) return r.message;
      }
    } finally {
      timer.cancel();
    }
  }

  /** Serves one accepted stream (§1.5). Never throws. */
  async handleStream(conn: StreamConn): Promise<void> {
    const m = this.ctx.metrics;
    m.streamsIn++;
    const c = this.ctx.config;
    let msg: StreamMessage | null;
    try {
      msg = await this.readStream(conn, this.ctx.clock.now() + c.tcpTimeoutMs, 'listener');
    } catch (err) {
      m.streamErrors++;
      if (err instanceof LabelError) {
        // Refused on the label: closed without a word, as Go does.
        this.refuseByLabel(err, 'stream', conn.remoteAddr);
        conn.close();
        return;
      }
      m.drop(err instanceof CodecError ? dropReasonOf(err) : 'stream-error');
      // Framing errors get an error reply (as Go does); timeouts just close.
      if (err instanceof CodecError && !this.ctx.shutdown) {
        try {
          await this.writeStream(conn, encodeErr(err.message));
        } catch {
          // The peer is gone; nothing more to do.
        }
      }
      conn.close();
      return;
    }
    try {
      if (msg === null || this.ctx.shutdown) return;
      switch (msg.type) {
        case 'pushPull': {
          if (this.servingPushPulls >= MAX_PUSH_PULL_SERVED) {
            m.drop('stream-limit');
            return;
          }
          this.servingPushPulls++;
          try {
            m.pushPullsServed++;
            // Reply with our state before merging theirs, echoing their Join flag (§7.1).
            await this.writeStream(conn, this.localPushPull(msg.join));
            this.mergePushPull(msg, conn.remoteAddr);
          } finally {
            this.servingPushPulls--;
          }
          break;
        }
        case 'user':
          if (msg.refusedLength !== undefined)
            this.deliverUserMessage(msg.payload, msg.refusedLength);
          else if (msg.payload.length > 0) this.deliverUserMessage(msg.payload);
          break;
        case 'ping':
          if (msg.body.node === '' || msg.body.node === c.name) {
            await this.writeStream(
              conn,
              encodeMessage({
                type: MessageType.AckResp,
                body: { seqNo: msg.body.seqNo, payload: null },
              }),
            );
          }
          break;
        default:
          m.drop('unknown-type');
      }
    } catch {
      // Errors after framing are only counted (Go logs them) and the connection closed.
      m.streamErrors++;
    } finally {
      conn.close();
    }
  }

  private localPushPull(join: boolean): Uint8Array {
    const userState = this.ctx.hooks.delegate?.localState?.(join) ?? null;
    return encodePushPull({
      join,
      nodes: this.state.pushStates(),
      userState: userState && userState.length > 0 ? userState : null,
    });
  }

  /** `source`: the peer, for the per-source limit on new names; undefined for our join's reply. */
  private mergePushPull(msg: Extract<StreamMessage, { type: 'pushPull' }>, source?: string): void {
    this.state.mergeRemoteState(msg.nodes, msg.join, source);
    // Application data like a user message, under the same cap (`maxUserBytes` of the parser);
    // the node records above merge all the same.
    if (msg.refusedStateLength !== undefined) this.ctx.metrics.refusedUserMessageSize++;
    else if (msg.userState && msg.userState.length > 0) {
      this.ctx.hooks.delegate?.mergeRemoteState?.(msg.userState, msg.join);
    }
  }

  /** Full state exchange with `addr` (§7.1). Throws on any failure. */
  async pushPull(addr: string, join: boolean): Promise<void> {
    const m = this.ctx.metrics;
    const c = this.ctx.config;
    m.pushPullsInitiated++;
    m.streamsOut++;
    let conn: StreamConn | null = null;
    try {
      conn = await this.ctx.transport.dialStream(addr, c.tcpTimeoutMs);
      await this.writeStream(conn, this.localPushPull(join), true);
      const reply = await this.readStream(conn, this.ctx.clock.now() + c.tcpTimeoutMs, 'dialer');
      if (reply === null) throw new StreamError(this.noReplyMessage(addr), 'ERR_PUSH_PULL');
      if (reply.type === 'err')
        throw new StreamError(`${addr} replied with an error: ${reply.error}`, 'ERR_REMOTE');
      if (reply.type !== 'pushPull') {
        throw new StreamError(
          `${addr} replied to push/pull with a ${reply.type} message`,
          'ERR_PUSH_PULL',
        );
      }
      // The reply to a join the application asked for is trusted with many new names at once
      // (a big cluster's table); other exchanges are with peers we merely heard of.
      this.mergePushPull(reply, join ? undefined : addr);
    } catch (err) {
      m.pushPullsFailed++;
      m.streamErrors++;
      throw err;
    } finally {
      conn?.close();
    }
  }

  /** Labels are the usual reason a memberlist node hangs up without a word: say so. */
  private noReplyMessage(addr: string): string {
    const base = `${addr} closed the push/pull without a reply`;
    if (this.label.length === 0) {
      return `${base}: does it have a label? (a labelled node hangs up on unlabelled peers)`;
    }
    return `${base}: is its label ${quoteLabel(this.label)} too? (nodes with another label or none, and memberlist 0.2.2, hang up on it)`;
  }

  /** TCP fallback ping (§9.4): true if the node acked `ping` over a stream before `deadline`. */
  async tcpPing(node: NodeRecord, ping: Ping, deadline: number): Promise<boolean> {
    const remaining = deadline - this.ctx.clock.now();
    if (remaining <= 0) return false;
    let conn: StreamConn | null = null;
    try {
      this.ctx.metrics.streamsOut++;
      conn = await this.ctx.transport.dialStream(joinHostPort(node.addr, node.port), remaining);
      await this.writeStream(conn, encodeMessage({ type: MessageType.Ping, body: ping }), true);
      const reply = await this.readStream(conn, deadline, 'dialer');
      return reply !== null && reply.type === 'ack' && reply.body.seqNo === ping.seqNo;
    } catch {
      return false;
    } finally {
      conn?.close();
    }
  }

  /** Sends a user message over a stream (§6.3); resolves once written. */
  async sendReliable(addr: string, payload: Uint8Array): Promise<void> {
    this.ctx.metrics.streamsOut++;
    const conn = await this.ctx.transport.dialStream(addr, this.ctx.config.tcpTimeoutMs);
    try {
      await this.writeStream(conn, encodeUserStream(payload), true);
      this.ctx.metrics.userOut++;
    } finally {
      conn.close();
    }
  }
}
