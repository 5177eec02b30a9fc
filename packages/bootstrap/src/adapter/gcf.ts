import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from '../codec.js';
import { type BootstrapService, createBootstrapService } from '../handler.js';
import { refusal, type ServiceResponse } from '../response.js';
import { type Store, StoreUnavailableError } from '../store.js';
import { createPostgresStore } from '../stores/postgres.js';

/*
 * Google Cloud Functions (and Cloud Run functions) entry points, for the functions-framework's
 * Express-style `(req, res)` signature. They run the same bootstrap service as the Node server;
 * this file only translates requests and responses and reads the configuration from the
 * environment:
 *
 *   DATABASE_URL                 postgres://user:pass@host:5432/db[?schema=NAME] (required)
 *   BOOTSTRAP_ADMIN_TOKEN        bearer token for /reset and /config (recommended)
 *   BOOTSTRAP_PEER_TTL           lease in seconds; 0 or unset = off
 *   BOOTSTRAP_DB_MAX_CONNECTIONS connections per instance (default 10)
 *
 * `bootstrap` serves every path (deploy once, point peers at its URL). `join`, `leave`, ... serve
 * one endpoint each whatever the path, mirroring the original deployment of one function per
 * endpoint, so peers use `https://REGION-PROJECT.cloudfunctions.net` as the service URL.
 */

/** The request as the functions-framework hands it over: Express keeps the raw bytes. */
export type FunctionRequest = IncomingMessage & { rawBody?: Buffer; path?: string };

// One store (connection pool) per instance, opened on the first request. A failed open is not
// cached: the next request tries again, so an instance recovers when the database comes back.
let service: Promise<BootstrapService & { store: Store }> | undefined;

function getService(): Promise<BootstrapService> {
  service ??= openService().catch((err: unknown) => {
    service = undefined;
    throw err;
  });
  return service;
}

/**
 * Closes this instance's database connections (if any were opened). Not an entry point: for
 * embedding the functions in a longer-lived process (tests, a custom server) that must exit.
 */
export async function closeFunctionsStore(): Promise<void> {
  const open = service;
  service = undefined;
  if (open) await (await open.catch(() => undefined))?.store.close();
}

/** Misconfiguration: the deployment, not the database, is at fault. */
class ConfigurationError extends Error {}

async function openService(): Promise<BootstrapService & { store: Store }> {
  const env = process.env;
  const url = env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new ConfigurationError('DATABASE_URL is not set (postgres://user:pass@host:5432/db)');
  }
  const store = await createPostgresStore(url, {
    peerTtlMs: envNumber('BOOTSTRAP_PEER_TTL', 0) * 1000,
    maxConnections: envNumber('BOOTSTRAP_DB_MAX_CONNECTIONS', 10) || undefined,
  });
  const svc = createBootstrapService({ store, adminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined });
  return { ...svc, store };
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(Number.isFinite(n) && n >= 0)) {
    throw new ConfigurationError(
      `${name} must be a non-negative number, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Reads the body unless a framework body parser already did (then `rawBody` holds it). */
async function readBody(req: FunctionRequest): Promise<{ body: Uint8Array; tooLarge: boolean }> {
  if (req.rawBody !== undefined) {
    return { body: req.rawBody, tooLarge: req.rawBody.byteLength > MAX_BODY_BYTES };
  }
  if (req.readableEnded || !req.readable) return { body: new Uint8Array(0), tooLarge: false };
  // No Content-Type: no parser touched the stream. Read it ourselves, at most the limit.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return { body: new Uint8Array(0), tooLarge: true };
    chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks), tooLarge: false };
}

function send(res: ServerResponse, answer: ServiceResponse): void {
  res.statusCode = answer.status;
  res.setHeader('content-type', answer.contentType);
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.end(answer.body);
}

/** An entry point serving `fixedPath`, or the request's own path when none is given. */
function entry(fixedPath?: string): (req: FunctionRequest, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let svc: BootstrapService;
    try {
      svc = await getService();
    } catch (err) {
      const status = err instanceof StoreUnavailableError ? 503 : 500;
      const reason = err instanceof Error ? err.message : String(err);
      const prefix = status === 503 ? 'store unavailable' : 'bootstrap function misconfigured';
      // Same answer as the handler gives for an unreachable store: the client may retry.
      const retry = status === 503 ? { 'retry-after': '1' } : undefined;
      send(res, refusal(status, `${prefix}: ${reason.replace(/\s+/g, ' ')}`, retry));
      return;
    }
    let read: { body: Uint8Array; tooLarge: boolean };
    try {
      read = await readBody(req);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      send(res, refusal(400, `cannot read body: ${reason}`));
      return;
    }
    const { body, tooLarge } = read;
    const path = fixedPath ?? req.path ?? new URL(req.url ?? '/', 'http://x').pathname;
    const out = await svc.handle({
      method: req.method ?? 'GET',
      path,
      authorization: req.headers.authorization,
      body,
      tooLarge,
    });
    send(res, out);
  };
}

/** Every endpoint under one function: `<function URL>/join`, `<function URL>/list`, ... */
export const bootstrap = entry();
export const join = entry('/join');
export const leave = entry('/leave');
export const refill = entry('/refill');
export const list = entry('/list');
export const reset = entry('/reset');
export const ping = entry('/ping');
export const config = entry('/config');
