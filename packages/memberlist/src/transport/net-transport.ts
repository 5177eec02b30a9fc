// UDP + TCP on one port number (docs/spec/memberlist-wire.md §1.1): datagrams are sent from the bound UDP socket, so their
// source port is the node's port; every stream exchange uses a fresh TCP connection.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { type HostPort, parseHostPort } from '../address.js';
import { BoundedCache } from '../bounded-cache.js';
import { ChunkInbox } from './chunk-inbox.js';
import {
  type StreamConn,
  type Transport,
  TransportError,
  type TransportHandlers,
} from './transport.js';

const UDP_RECV_BUFFER_TARGET = 2 * 1024 * 1024;

/** Wraps a TCP socket as a pull-style `StreamConn`. */
class SocketConn implements StreamConn {
  private readonly inbox = new ChunkInbox();
  readonly remoteAddr: string;

  constructor(private readonly socket: Socket) {
    const host = socket.remoteAddress ?? '';
    this.remoteAddr = host.includes(':')
      ? `[${host}]:${socket.remotePort}`
      : `${host}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.inbox.push(c));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    // Errors end the exchange; the protocol layer sees a null read and reports it.
    socket.on('error', () => this.finish());
  }

  private finish(): void {
    this.inbox.end();
  }

  read(): Promise<Uint8Array | null> {
    return this.inbox.read();
  }

  write(data: Uint8Array): Promise<void> {
    if (this.inbox.isEnded || this.socket.destroyed) {
      return Promise.reject(new TransportError('connection closed', 'ERR_STREAM_CLOSED'));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) =>
        err ? reject(new TransportError(err.message, 'ERR_STREAM_WRITE')) : resolve(),
      );
    });
  }

  close(): void {
    this.socket.destroy();
    this.finish();
  }
}

export interface NetTransportOptions {
  bindAddr: string;
  bindPort: number;
}

/** Parsed destinations kept by `NetTransport`; past this many the cache starts over, so
 * addresses learnt from untrusted packets cannot grow it without bound. */
const ADDRESS_CACHE_MAX = 4096;

/**
 * dgram's address lookup: an IP literal (every address memberlist sends to) is answered at
 * once instead of through `dns.lookup` and a deferred callback, which is a measurable part of
 * an idle node's cost (issue 17); host names still go to the resolver.
 */
function literalFirstLookup(
  host: string,
  opts: LookupOneOptions | number,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else dnsLookup(host, typeof opts === 'number' ? { family: opts } : opts, cb);
}

export class NetTransport implements Transport {
  private handlers: TransportHandlers | null = null;
  private readonly conns = new Set<Socket>();
  private closed = false;
  /** `host:port` → parsed, for every datagram sent (parsing showed in idle profiles). */
  private readonly addresses = new BoundedCache<string, HostPort>(ADDRESS_CACHE_MAX, (to) =>
    parseHostPort(to, 0),
  );

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly bindAddr: string,
    readonly bindPort: number,
  ) {
    udp.on('message', (msg, rinfo) => {
      if (msg.length === 0 || !this.handlers) return;
      const from =
        rinfo.family === 'IPv6'
          ? `[${rinfo.address}]:${rinfo.port}`
          : `${rinfo.address}:${rinfo.port}`;
      this.handlers.packet(msg, from);
    });
    // A UDP error (e.g. ICMP-triggered on some platforms) must not crash the process.
    udp.on('error', () => {});
    tcp.on('connection', (s) => {
      if (this.closed || !this.handlers) {
        s.destroy();
        return;
      }
      this.track(s);
      this.handlers.stream(new SocketConn(s));
    });
    tcp.on('error', () => {});
  }

  /** Binds TCP and UDP on the same port (with port 0, TCP picks it and UDP follows). */
  static async create(opts: NetTransportOptions): Promise<NetTransport> {
    const family = isIP(opts.bindAddr);
    if (family === 0)
      throw new TransportError(
        `bindAddr ${JSON.stringify(opts.bindAddr)} is not an IP address`,
        'ERR_BIND',
      );
    // With an ephemeral port the UDP port may be taken by someone else; retry with a new one.
    const attempts = opts.bindPort === 0 ? 10 : 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      const tcp = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ host: opts.bindAddr, port: opts.bindPort, exclusive: true }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        tcp.close();
        throw new TransportError(
          `cannot listen on TCP ${opts.bindAddr}:${opts.bindPort}: ${(err as Error).message}`,
          'ERR_BIND',
        );
      }
      const port = (tcp.address() as { port: number }).port;
      const udp = createSocket({
        type: family === 6 ? 'udp6' : 'udp4',
        ipv6Only: family === 6,
        lookup: literalFirstLookup,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: opts.bindAddr, port, exclusive: true }, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        lastErr = err;
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        continue;
      }
      for (let size = UDP_RECV_BUFFER_TARGET; size >= 4096; size >>= 1) {
        try {
          udp.setRecvBufferSize(size);
          break;
        } catch {
          // The OS refused this size; try half.
        }
      }
      return new NetTransport(udp, tcp, opts.bindAddr, port);
    }
    throw new TransportError(
      `cannot bind UDP on ${opts.bindAddr}: ${(lastErr as Error)?.message}`,
      'ERR_BIND',
    );
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  sendPacket(to: string, data: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('transport closed', 'ERR_CLOSED'));
    const { host, port } = this.addresses.get(to);
    return new Promise((resolve, reject) => {
      this.udp.send(data, port, host, (err) =>
        err ? reject(new TransportError(err.message, 'ERR_SEND')) : resolve(),
      );
    });
  }

  dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.closed) return Promise.reject(new TransportError('transport closed', 'ERR_CLOSED'));
    const { host, port } = parseHostPort(to, 0);
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      this.track(s);
      const timer = setTimeout(
        () => {
          s.destroy();
          reject(
            new TransportError(`dial ${to} timed out after ${timeoutMs} ms`, 'ERR_DIAL_TIMEOUT'),
          );
        },
        Math.max(1, timeoutMs),
      );
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(new SocketConn(s));
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        s.destroy();
        reject(new TransportError(`dial ${to}: ${err.message}`, 'ERR_DIAL'));
      });
      // Closing the transport destroys connecting sockets too: settle at once (no-op if the
      // dial already succeeded) so no timer or promise outlives close().
      s.once('close', () => {
        clearTimeout(timer);
        reject(new TransportError(`dial ${to}: closed before connecting`, 'ERR_CLOSED'));
      });
    });
  }

  private track(s: Socket): void {
    this.conns.add(s);
    s.once('close', () => this.conns.delete(s));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    await Promise.all([
      new Promise<void>((r) => this.tcp.close(() => r())),
      new Promise<void>((r) => {
        try {
          this.udp.close(() => r());
        } catch {
          r();
        }
      }),
    ]);
    // libuv releases closed handles in its close phase, after this turn's check phase: wait
    // one full loop turn so that, once close() resolves, no handle of ours is still listed.
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
  }
}
