/*
 * A small HTTP/1.1 server on node:net for request/response protocols with small bodies.
 *
 * It exists for speed: Node's `http` module spends about 30 µs of CPU per request before any
 * application code runs, which capped the bootstrap server at about half the requests per second
 * its issue asks for. This server parses with the strict RequestParser, keeps connections alive,
 * answers pipelined requests in order, and writes each answer as one string.
 *
 * What it does not do, on purpose: chunked or streamed responses, upgrades, HTTP/2, TLS. Those
 * belong to a general-purpose server; the bootstrap protocol needs none of them.
 */
import { type AddressInfo, createServer, type Server } from 'node:net';
import { Connection, type ConnectionLimits, type Http1Handler } from './connection.js';
import {
  DEFAULT_MAX_CHUNK_LINE_BYTES,
  DEFAULT_MAX_EMPTY_LINES,
  DEFAULT_MAX_HEAD_BYTES,
  type HttpRequestError,
} from './request-parser.js';

export type { Http1Handler } from './connection.js';

export interface Http1ServerOptions {
  handler: Http1Handler;
  /** Largest request body handed to the handler; a larger one arrives with `bodyTooLarge`. */
  maxBodyBytes: number;
  /** Largest request line plus headers; default 16 KiB (as Node's http). Over it → 431. */
  maxHeadBytes?: number;
  /** Longest chunk-size line of a chunked body (size plus extensions); default 1024. Over it → 400. */
  maxChunkLineBytes?: number;
  /** Empty lines accepted before a request line; default 8. More → 400. */
  maxEmptyLines?: number;
  /**
   * An idle keep-alive connection is closed after this long; default 5000 ms. Longer saves
   * reconnects for slow clients, shorter frees sockets sooner. Announced in `Keep-Alive: timeout`
   * so clients stop reusing a connection before the server drops it.
   */
  keepAliveTimeoutMs?: number;
  /** A request must arrive completely within this long of its first byte (slow senders get 408); default 10000 ms. */
  requestTimeoutMs?: number;
  /**
   * Requests answered concurrently on one connection; when reached, the connection is not read
   * until an answer is written. Default 64: pipelining clients stay fast, one client cannot queue
   * unbounded work.
   */
  maxPipelined?: number;
  /**
   * Once the server has decided to close a connection (after its last answer, a refusal, or
   * shutdown), the socket is destroyed after this long at the latest, even if the client neither
   * reads the answer nor closes its side; default 2000 ms.
   */
  closeTimeoutMs?: number;
  /** Called for each request refused by the parser (it never reaches the handler); must not throw. */
  onRequestError?: (err: HttpRequestError) => void;
}

export interface Http1Server {
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting; idle connections close at once, busy ones after their last answer (sent with
   * `Connection: close`); after `graceMs` the rest are cut. Resolves when every connection is gone.
   */
  close(graceMs: number): Promise<void>;
  /** Open client connections. */
  connectionCount(): number;
}

export function createHttp1Server(opts: Http1ServerOptions): Http1Server {
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5000;
  const limits: ConnectionLimits = {
    handler: opts.handler,
    maxBodyBytes: opts.maxBodyBytes,
    maxHeadBytes: opts.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES,
    maxChunkLineBytes: opts.maxChunkLineBytes ?? DEFAULT_MAX_CHUNK_LINE_BYTES,
    maxEmptyLines: opts.maxEmptyLines ?? DEFAULT_MAX_EMPTY_LINES,
    keepAliveTimeoutMs,
    keepAliveSeconds: Math.max(1, Math.floor(keepAliveTimeoutMs / 1000)),
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    maxPipelined: opts.maxPipelined ?? 64,
    closeTimeoutMs: opts.closeTimeoutMs ?? 2000,
    onRequestError: opts.onRequestError,
  };
  const connections = new Set<Connection>();
  let closing = false;
  // allowHalfOpen: a client that sends its request and then FIN still gets its answer.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    connections.add(new Connection(socket, limits, (c) => connections.delete(c)));
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(graceMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.shutdown();
      const grace = setTimeout(() => {
        for (const c of connections) c.destroy();
      }, graceMs);
      grace.unref();
      return closed.finally(() => clearTimeout(grace));
    },
    connectionCount: () => connections.size,
  };
}
