import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES } from './codec.js';
import {
  type BootstrapLogEntry,
  type BootstrapService,
  createBootstrapService,
  type ServiceResponse,
} from './handler.js';
import type { Store } from './store.js';
import { createStoreFromSpec } from './stores/from-spec.js';

export interface BootstrapServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 8080, 0 picks a free one. */
  port?: number;
  /** A store, or a spec for createStoreFromSpec (`memory`, `file:PATH`, `postgres://...`). */
  store: Store | string;
  /** When set, /reset and /config require `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /** Lease for peers in milliseconds, used when `store` is a spec; 0/undefined = off. */
  peerTtlMs?: number;
  /** Called once per answered request; must not throw. */
  onLog?: (entry: BootstrapLogEntry) => void;
  /** Clock for lease expiry; default Date.now. */
  now?: () => number;
  /** How long close() lets in-flight requests finish before cutting connections; default 5000 ms. */
  closeGraceMs?: number;
}

export interface RunningBootstrapServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  store: Store;
  /** Stops accepting, lets in-flight requests finish, then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves the bootstrap protocol over Node's `http` module. A thin adapter: it reads the body
 * (stopping at the size limit), hands plain values to the shared service, and writes the answer.
 * The server owns the store: close() closes it.
 */
export async function startBootstrapServer(
  opts: BootstrapServerOptions,
): Promise<RunningBootstrapServer> {
  const store =
    typeof opts.store === 'string'
      ? await createStoreFromSpec(opts.store, { peerTtlMs: opts.peerTtlMs ?? 0 })
      : opts.store;
  const service = createBootstrapService({
    store,
    adminToken: opts.adminToken,
    now: opts.now,
    log: opts.onLog,
  });
  const server = createServer((req, res) => serve(service, req, res));
  // Many short requests on few keep-alive connections is the expected load.
  server.keepAliveTimeout = 5000;
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    store,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 5000);
        grace.unref();
        await closed;
        clearTimeout(grace);
        await store.close();
      })();
      return closing;
    },
  };
}

function serve(service: BootstrapService, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;
  const answer = (body: Buffer, tooLarge: boolean) => {
    answered = true;
    service
      .handle({
        method: req.method ?? 'GET',
        path,
        authorization: req.headers.authorization,
        body,
        tooLarge,
      })
      .then((r) => write(res, r, tooLarge));
  };
  // An oversized body is refused at once; the rest of it is discarded and the connection closed.
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    req.resume();
    answer(Buffer.alloc(0), true);
    return;
  }
  req.on('data', (chunk: Buffer) => {
    if (answered) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      chunks.length = 0;
      answer(Buffer.alloc(0), true);
    } else chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (!answered) answer(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), false);
  });
}

function write(res: ServerResponse, answer: ServiceResponse, closeAfter: boolean): void {
  if (res.destroyed) return;
  const headers: Record<string, string | number> = {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    ...answer.headers,
  };
  // A connection that carried an oversized body is not reused: its remaining bytes are junk.
  if (closeAfter) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
