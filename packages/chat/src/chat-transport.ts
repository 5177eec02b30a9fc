/**
 * The chat layer's TCP side: a listener that shows one line per connection and a sender that opens
 * a connection per line. Every connection is untrusted: the listener caps the line length, the
 * number of open connections and how long a connection may take, so garbage, floods and
 * slow-drip clients cost a bounded amount and never reach the screen as anything but one line.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ChatError } from './errors.js';
import { parseHostPort } from './member-record.js';

export interface ChatListenerOptions {
  /** Longest accepted line in bytes (without the newline); longer lines are dropped. */
  maxLineBytes?: number;
  /** A connection must deliver its line within this time (slow-drip clients are cut off). */
  connectionTimeoutMs?: number;
  /** Connections beyond this many open at once are closed at once. */
  maxConnections?: number;
}

export interface ReceivedLine {
  /** The line without its trailing newline, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  remote: string;
}

export interface ChatListenerEvents {
  line: [ReceivedLine];
  /** An empty connection: someone checked that this listener is reachable. */
  ping: [string];
  /** A connection that was cut off; reason says why (for logs, never shown as a chat line). */
  rejected: [{ remote: string; reason: string }];
}

const DEFAULTS = { maxLineBytes: 16 * 1024, connectionTimeoutMs: 5_000, maxConnections: 256 };
const utf8 = new TextDecoder('utf-8');

export class ChatListener extends EventEmitter<ChatListenerEvents> {
  private readonly opts: Required<ChatListenerOptions>;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private bound: { host: string; port: number } | undefined;

  constructor(opts: ChatListenerOptions = {}) {
    super();
    this.opts = { ...DEFAULTS, ...opts };
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  get listening(): boolean {
    return this.server !== undefined;
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
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.sockets.size >= this.opts.maxConnections) {
      socket.destroy();
      this.emit('rejected', { remote, reason: 'too many open connections' });
      return;
    }
    this.sockets.add(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (reason?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.sockets.delete(socket);
      socket.destroy();
      if (reason) this.emit('rejected', { remote, reason });
    };
    const deliver = (buf: Buffer) => {
      const text = utf8.decode(buf).replace(/\r$/, '');
      finish();
      this.emit('line', { text, remote });
    };
    const timer = setTimeout(
      () => finish(`no complete line within ${this.opts.connectionTimeoutMs} ms`),
      this.opts.connectionTimeoutMs,
    );
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

export interface SendOptions {
  timeoutMs?: number;
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

export function sendChatLine(address: string, line: string, opts?: SendOptions): Promise<number> {
  return sendRaw(address, line.endsWith('\n') ? line : `${line}\n`, opts);
}

export function pingChatListener(address: string, opts?: SendOptions): Promise<number> {
  return sendRaw(address, '', opts);
}
