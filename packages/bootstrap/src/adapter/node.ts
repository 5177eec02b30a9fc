import { MAX_BODY_BYTES } from '../codec.js';
import {
  type BootstrapLogEntry,
  type BootstrapWarning,
  createBootstrapService,
} from '../handler.js';
import { headerValue } from '../http1/request-parser.js';
import { createHttp1Server, type Http1ServerOptions } from '../http1/server.js';
import type { Store } from '../store.js';
import { createStoreFromSpec } from '../stores/from-spec.js';

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
  /** Called for each stored value that cannot work (see BootstrapWarning); must not throw. */
  onWarning?: (warning: BootstrapWarning) => void;
  /** Limits and timeouts of the HTTP/1.1 layer; each has a default (docs/bootstrap.md). */
  http?: Omit<Http1ServerOptions, 'handler' | 'maxBodyBytes' | 'onRequestError'>;
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
 * Serves the bootstrap protocol over HTTP/1.1 (our own small server on node:net, see
 * http1/server.ts for why). A thin adapter: it hands plain values to the shared service and the
 * service's answer back. Requests the HTTP parser refuses never reach the service; they are
 * logged with method and path `-`. The server owns the store: close() closes it.
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
    warn: opts.onWarning,
  });
  const log = opts.onLog;
  const server = createHttp1Server({
    ...opts.http,
    maxBodyBytes: MAX_BODY_BYTES,
    handler: (req) =>
      service.handle({
        method: req.method,
        path: req.path,
        authorization: headerValue(req, 'authorization'),
        body: req.body,
        tooLarge: req.bodyTooLarge,
      }),
    onRequestError: log
      ? (err) =>
          log({ method: '-', path: '-', status: err.status, durationMs: 0, error: err.message })
      : undefined,
  });
  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    ({ port } = await server.listen(opts.port ?? 8080, host));
  } catch (err) {
    await store.close();
    throw err;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    store,
    close() {
      closing ??= (async () => {
        await server.close(opts.closeGraceMs ?? 5000);
        await store.close();
      })();
      return closing;
    },
  };
}
