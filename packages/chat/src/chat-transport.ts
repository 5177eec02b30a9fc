/**
 * The chat layer's TCP side: a listener that shows one line per connection and a sender that opens
 * a connection per line. Every connection is untrusted: the listener caps the line length, the
 * time a connection may take to deliver its line, the connections open at once and those from
 * one stranger's address, so garbage, floods and idle or slow-drip clients cost a bounded amount
 * and never reach the screen as anything but one line.
 *
 * Room is kept for members: when the listener is full, a new connection from a member's address
 * closes the oldest connection of a stranger (an address that is not a member's), failing that
 * the oldest idle one, and failing that the oldest of all: a flood from the members' own address
 * cannot be told apart from members, and a member's line, sent at once on its new connection,
 * then outlives every older flood connection. A stranger's connection only ever closes another
 * stranger's idle one.
 * Every connection closed without its line being read is reset (RST), never closed normally, so
 * the sender, which waits for the close, learns that the line was not delivered.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ChatError } from './errors.js';
import { parseHostPort } from './member-record.js';

/** The limits of a chat listener; any left out keeps its default. */
export interface ChatListenerLimits {
  /** Longest accepted line in bytes (without the newline); longer lines are dropped. */
  maxLineBytes?: number;
  /** A connection must deliver its line within this time (idle and slow-drip clients are cut). */
  connectionTimeoutMs?: number;
  /** Connections open at once; beyond it a newcomer closes an older one or is refused. */
  maxConnections?: number;
  /** Connections open at once from one address that is not a member's. */
  maxConnectionsPerAddress?: number;
  /** A connection without its line after this long is idle: it may be closed to make room. */
  idleAfterMs?: number;
}

export interface ChatListenerOptions extends ChatListenerLimits {
  /** Whether an IP address is a member's (default: nobody is); members' connections have room. */
  isMember?: (ip: string) => boolean;
}

export interface ReceivedLine {
  /** The line without its trailing newline, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** `host:port` the connection came from. */
  remote: string;
  /** Whether the connection came from a member's address (`isMember`, asked as the line came). */
  member: boolean;
}

export interface ChatListenerEvents {
  line: [ReceivedLine];
  /** An empty connection: someone checked that this listener is reachable. */
  ping: [string];
  /** A connection that was cut off; reason says why (for logs, never shown as a chat line). */
  rejected: [{ remote: string; reason: string }];
}

export const CHAT_LISTENER_DEFAULTS = {
  maxLineBytes: 16 * 1024,
  connectionTimeoutMs: 2_000,
  maxConnections: 256,
  maxConnectionsPerAddress: 16,
  idleAfterMs: 250,
} as const;
const utf8 = new TextDecoder('utf-8');

/** One accepted connection whose line has not arrived yet. */
interface Pending {
  ip: string;
  member: boolean;
  since: number;
  /** Closes it with a reset, reporting why. */
  cut(reason: string): void;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
export function plainIp(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.)/, '');
}

export class ChatListener extends EventEmitter<ChatListenerEvents> {
  private readonly opts: Required<ChatListenerLimits>;
  private readonly isMember: (ip: string) => boolean;
  private server: net.Server | undefined;
  /** Open connections in the order they came (oldest first). */
  private readonly pending = new Map<net.Socket, Pending>();
  private bound: { host: string; port: number } | undefined;

  constructor(opts: ChatListenerOptions = {}) {
    super();
    const { isMember, ...limits } = opts;
    this.opts = { ...CHAT_LISTENER_DEFAULTS, ...limits };
    this.isMember = isMember ?? (() => false);
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Connections open now (accepted, line not yet delivered). */
  get openConnections(): number {
    return this.pending.size;
  }

  async listen(host = '127.0.0.1', port = 0): Promise<{ host: string; port: number }> {
    if (this.server) throw new ChatError('CHAT_STATE', 'the chat listener is already running');
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new ChatError('CHAT_NETWORK', `chat listener on ${host}:${port}: ${e.message}`)),
      );
      server.listen(port, host, () => resolve());
    });
    server.on('error', () => {}); // after listen, errors are per connection
    const a = server.address() as net.AddressInfo;
    this.server = server;
    this.bound = { host: a.address, port: a.port };
    return this.bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.bound = undefined;
    for (const s of this.pending.keys()) s.destroy();
    this.pending.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Whether a newcomer fits, closing an older connection to make room if the rules allow: see the
   * module comment. Returns why not if it does not.
   */
  private makeRoom(ip: string, member: boolean): string | undefined {
    const { maxConnections, maxConnectionsPerAddress, idleAfterMs } = this.opts;
    if (!member) {
      let fromIp = 0;
      for (const p of this.pending.values()) if (p.ip === ip) fromIp++;
      if (fromIp >= maxConnectionsPerAddress) {
        return `too many open connections from ${ip} (${maxConnectionsPerAddress})`;
      }
    }
    if (this.pending.size < maxConnections) return undefined;
    const now = Date.now();
    const idle = (p: Pending) => now - p.since >= idleAfterMs;
    const all = [...this.pending.values()];
    // `pending` keeps insertion order, so the first match is the oldest.
    const victim =
      all.find((p) => !p.member && (member || idle(p))) ??
      (member ? (all.find((p) => idle(p)) ?? all[0]) : undefined);
    if (!victim) return `too many open connections (${maxConnections})`;
    victim.cut(
      `too many open connections: closed to make room for a newer one from ${member ? 'a member' : 'a stranger'}`,
    );
    return undefined;
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const ip = plainIp(socket.remoteAddress);
    const member = this.isMember(ip);
    const full = this.makeRoom(ip, member);
    if (full) {
      reset(socket);
      this.emit('rejected', { remote, reason: full });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (reason?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pending.delete(socket);
      // A line that was read closes normally (the sender takes that as delivered); any other
      // ending resets the connection, so the sender learns the line did not arrive.
      if (reason) {
        reset(socket);
        this.emit('rejected', { remote, reason });
      } else socket.destroy();
    };
    const deliver = (buf: Buffer) => {
      const text = utf8.decode(buf).replace(/\r$/, '');
      finish();
      this.emit('line', { text, remote, member: this.isMember(ip) });
    };
    const timer = setTimeout(
      () => finish(`no complete line within ${this.opts.connectionTimeoutMs} ms`),
      this.opts.connectionTimeoutMs,
    );
    this.pending.set(socket, { ip, member, since: Date.now(), cut: finish });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const nl = chunk.indexOf(0x0a);
      const part = nl >= 0 ? chunk.subarray(0, nl) : chunk;
      size += part.length;
      if (size > this.opts.maxLineBytes) {
        finish(`line longer than ${this.opts.maxLineBytes} bytes`);
        return;
      }
      chunks.push(part);
      if (nl >= 0) deliver(Buffer.concat(chunks));
    });
    socket.on('end', () => {
      if (done) return;
      if (size === 0) {
        finish();
        this.emit('ping', remote);
      } else deliver(Buffer.concat(chunks)); // a last line without newline still counts
    });
    socket.on('error', (e) => finish(`connection error: ${e.message}`));
    socket.on('close', () => finish());
  }
}

/** Closes with a reset (RST): the other side gets an error, not a normal end. */
function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.on('error', () => {});
  socket.resetAndDestroy();
}

export interface SendOptions {
  timeoutMs?: number;
  /**
   * How often a line is sent again when the listener resets the connection (`sendChatLine`
   * only). A reset means the line was not read (the listener was full), so sending it again
   * cannot show it twice. Waits 100, 200, 400 ... ms in between; default 0.
   */
  retriesOnReset?: number;
}

function target(address: string): { host: string; port: number } {
  const hp = parseHostPort(address);
  if (!hp) throw new ChatError('CHAT_ARGS', `not a host:port address: ${JSON.stringify(address)}`);
  return hp;
}

/**
 * Opens a connection to `address`, writes `payload` (may be empty: a reachability ping), closes it
 * and resolves once the peer has the bytes. Resolves with the round trip in milliseconds.
 */
export async function sendRaw(
  address: string,
  payload: string,
  opts: SendOptions = {},
): Promise<number> {
  const { host, port } = target(address);
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ChatError('CHAT_NETWORK', `${address}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.end(payload));
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new ChatError('CHAT_NETWORK', `${address}: ${e.message}`, { cause: e }));
    });
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(performance.now() - started);
    });
    socket.resume(); // the listener never answers; drain so 'close' follows its FIN
  });
}

export async function sendChatLine(
  address: string,
  line: string,
  opts: SendOptions = {},
): Promise<number> {
  const payload = line.endsWith('\n') ? line : `${line}\n`;
  const retries = opts.retriesOnReset ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendRaw(address, payload, opts);
    } catch (e) {
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (code !== 'ECONNRESET' || attempt >= retries) throw e;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

export function pingChatListener(address: string, opts?: SendOptions): Promise<number> {
  return sendRaw(address, '', opts);
}
