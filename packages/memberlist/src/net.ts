// Packet and stream handling (§5, §6, §1.5): sending with piggy-backed gossip, framing layers
// chosen per peer version (CRC for PMax ≥ 5), ingesting datagrams (bad ones are counted and
// dropped, never thrown), serving streams (push/pull, reliable user messages, TCP pings) with
// error replies, and the client side of push/pull, TCP ping and reliable sends.

import { bytesToIp, joinHostPort } from './address.js';
import {
  CodecError,
  decodePacket,
  type EncryptionVersion,
  encodeErr,
  encodeMessage,
  encodePacket,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  encryptionOverhead,
  MessageType,
  type PacketMessage,
  type Ping,
  packCompounds,
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

function dropReasonOf(err: unknown): DropReason {
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

export class NetLayer {
  private servingPushPulls = 0;

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

  /** Bytes the encryption layer adds; `requireOutgoing` false counts it whenever keys exist. */
  encryptionOverhead(requireOutgoing: boolean): number {
    const kr = this.ctx.config.keyring;
    if (!kr || kr.keys.length === 0) return 0;
    if (requireOutgoing && !this.ctx.config.gossipVerifyOutgoing) return 0;
    return encryptionOverhead(this.encryptionVersion);
  }

  // ---- sending packets ---------------------------------------------------------------------

  /** Our queued broadcasts, then the application's (framed as user messages) (§11.2). */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const out = this.ctx.queue.getBroadcasts(overhead, limit);
    const d = this.ctx.hooks.delegate;
    if (d?.getBroadcasts) {
      let used = 0;
      for (const m of out) used += m.length + overhead;
      const avail = limit - used;
      if (avail > overhead + USER_MSG_OVERHEAD) {
        let room = avail;
        for (const m of d.getBroadcasts(overhead + USER_MSG_OVERHEAD, avail)) {
          // An application message that does not fit what was asked for is skipped rather
          // than allowed to make an unsendable datagram.
          const cost = m.length + overhead + USER_MSG_OVERHEAD;
          if (m.length === 0 || cost > room) {
            if (m.length > 0) this.ctx.metrics.drop('too-large');
            continue;
          }
          room -= cost;
          out.push(encodeMessage({ type: MessageType.User, payload: m }));
        }
      }
    }
    return out;
  }

  /** Sends a message with queued gossip piggy-backed if there is room (§5.6). */
  sendMsg(to: string, msg: PacketMessage, node?: NodeRecord): Promise<void> {
    const bytes = encodeMessage(msg);
    const avail = this.ctx.config.udpBufferSize - bytes.length - 2 - this.encryptionOverhead(true);
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
      });
      const r = unpackMessages(plain);
      for (const d of r.dropped) m.drop(dropReasonOf(new CodecError(d.code, d.message)));
      messages = r.messages;
    } catch (err) {
      m.drop(dropReasonOf(err));
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
        s.aliveNode(a, false);
        break;
      }
      case MessageType.Dead:
        s.deadNode(msg.body);
        break;
      case MessageType.User:
        this.ctx.metrics.userIn++;
        this.ctx.hooks.delegate?.notifyMsg?.(msg.payload);
        break;
    }
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
    };
  }

  private async writeStream(conn: StreamConn, plain: Uint8Array): Promise<void> {
    const bytes = encodeStreamMessage(plain, this.streamOpts());
    this.ctx.metrics.streamBytesOut += bytes.length;
    await conn.write(bytes);
  }

  /**
   * Reads one stream message, closing the connection at `deadline` (clock time). Returns null
   * if the peer closed before sending anything; throws CodecError on garbage, StreamError on
   * timeout or a truncated message.
   */
  private async readStream(conn: StreamConn, deadline: number): Promise<StreamMessage | null> {
    const c = this.ctx.config;
    let timedOut = false;
    const timer = this.ctx.clock.setTimeout(
      () => {
        timedOut = true;
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
      });
      for (;;) {
        const chunk = await conn.read();
        if (chunk === null) {
          if (timedOut) throw new StreamError('stream read timed out', 'ERR_STREAM_TIMEOUT');
          if (len === 0) return null;
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
        len += chunk.length;
        const buf = store.subarray(0, len);
        const r = parser.tryParse(buf);
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
      msg = await this.readStream(conn, this.ctx.clock.now() + c.tcpTimeoutMs);
    } catch (err) {
      m.streamErrors++;
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
            this.mergePushPull(msg);
          } finally {
            this.servingPushPulls--;
          }
          break;
        }
        case 'user':
          if (msg.payload.length > 0) {
            m.userIn++;
            this.ctx.hooks.delegate?.notifyMsg?.(msg.payload);
          }
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

  private mergePushPull(msg: Extract<StreamMessage, { type: 'pushPull' }>): void {
    this.state.mergeRemoteState(msg.nodes, msg.join);
    if (msg.userState && msg.userState.length > 0) {
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
      await this.writeStream(conn, this.localPushPull(join));
      const reply = await this.readStream(conn, this.ctx.clock.now() + c.tcpTimeoutMs);
      if (reply === null)
        throw new StreamError(`${addr} closed the push/pull without a reply`, 'ERR_PUSH_PULL');
      if (reply.type === 'err')
        throw new StreamError(`${addr} replied with an error: ${reply.error}`, 'ERR_REMOTE');
      if (reply.type !== 'pushPull') {
        throw new StreamError(
          `${addr} replied to push/pull with a ${reply.type} message`,
          'ERR_PUSH_PULL',
        );
      }
      this.mergePushPull(reply);
    } catch (err) {
      m.pushPullsFailed++;
      m.streamErrors++;
      throw err;
    } finally {
      conn?.close();
    }
  }

  /** TCP fallback ping (§9.4): true if the node acked `ping` over a stream before `deadline`. */
  async tcpPing(node: NodeRecord, ping: Ping, deadline: number): Promise<boolean> {
    const remaining = deadline - this.ctx.clock.now();
    if (remaining <= 0) return false;
    let conn: StreamConn | null = null;
    try {
      this.ctx.metrics.streamsOut++;
      conn = await this.ctx.transport.dialStream(joinHostPort(node.addr, node.port), remaining);
      await this.writeStream(conn, encodeMessage({ type: MessageType.Ping, body: ping }));
      const reply = await this.readStream(conn, deadline);
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
      await this.writeStream(conn, encodeUserStream(payload));
      this.ctx.metrics.userOut++;
    } finally {
      conn.close();
    }
  }
}
