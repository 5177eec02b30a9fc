import {
  BootstrapProtocolError,
  decodeBody,
  formatDocument,
  MAX_BODY_BYTES,
  parseConfigLine,
  parseLeaveLine,
  parsePeerLine,
} from './codec.js';
import { type Store, StoreUnavailableError } from './store.js';
import type { BootstrapData } from './types.js';

/*
 * The bootstrap service as one runtime-agnostic handler. `handle` works on plain values (method,
 * path, authorization header, body bytes) and holds all endpoint logic; `fetch` adapts Web
 * Request/Response to it; the Node adapter calls `handle` directly to skip building Web objects
 * on its hot path. Neither adapter knows any endpoint.
 */

/** One line per answered request, for the server's log. */
export interface BootstrapLogEntry {
  method: string;
  path: string;
  status: number;
  /** Time spent in the handler, milliseconds. */
  durationMs: number;
  /** The one-line reason of a non-200 answer. */
  error?: string;
}

export interface BootstrapHandlerOptions {
  store: Store;
  /** When set, /reset and /config require `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /** Clock in milliseconds (lease expiry); defaults to Date.now. */
  now?: () => number;
  /** Called once per answered request; must not throw. */
  log?: (entry: BootstrapLogEntry) => void;
}

/** A request reduced to what the protocol looks at. */
export interface ServiceRequest {
  method: string;
  /** Path without query string, e.g. `/join`. */
  path: string;
  authorization?: string | null;
  /** Raw body; an adapter that stopped reading at the limit passes `tooLarge` instead. */
  body: Uint8Array;
  /** The body exceeded MAX_BODY_BYTES (adapters may stop reading early). */
  tooLarge?: boolean;
}

export interface ServiceResponse {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export interface BootstrapService {
  handle(req: ServiceRequest): Promise<ServiceResponse>;
  fetch(req: Request): Promise<Response>;
}

const ENDPOINTS = new Set(['/ping', '/join', '/leave', '/refill', '/list', '/reset', '/config']);
const ADMIN_ENDPOINTS = new Set(['/reset', '/config']);
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A request the service refuses, with its status and one-line reason. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

function refusal(status: number, message: string, headers?: Record<string, string>) {
  return {
    status,
    contentType: TEXT,
    body: `${message}\n`,
    headers: { 'x-content-type-options': 'nosniff', ...headers },
  };
}

/** Compares in time independent of where the strings differ. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (given.charCodeAt(i % (given.length || 1)) || 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

export function createBootstrapService(opts: BootstrapHandlerOptions): BootstrapService {
  const { store, adminToken, log } = opts;
  const now = opts.now ?? Date.now;
  // /list answers the same committed document many times in a row: format it once.
  let lastData: BootstrapData | undefined;
  let lastText = '';
  const format = (data: BootstrapData): string => {
    if (data !== lastData) {
      lastText = formatDocument(data);
      lastData = data;
    }
    return lastText;
  };

  function checkAdmin(authorization: string | null | undefined): void {
    if (adminToken === undefined || adminToken === '') return;
    const challenge = { 'www-authenticate': 'Bearer realm="isopeer-bootstrap"' };
    const m = /^bearer +(.+)$/i.exec(authorization?.trim() ?? '');
    if (m === null) {
      throw new Refusal(401, 'this endpoint needs Authorization: Bearer <admin token>', challenge);
    }
    if (!sameSecret(m[1], adminToken)) throw new Refusal(401, 'wrong admin token', challenge);
  }

  async function dispatch(req: ServiceRequest): Promise<ServiceResponse> {
    const { path } = req;
    if (!ENDPOINTS.has(path)) throw new Refusal(404, `unknown path ${path}`);
    if (req.method !== 'POST' && req.method !== 'GET') {
      throw new Refusal(405, `method ${req.method} not allowed (use POST or GET)`, {
        allow: 'POST, GET',
      });
    }
    if (ADMIN_ENDPOINTS.has(path)) checkAdmin(req.authorization);
    // Every endpoint refuses an oversized body, also those that ignore their body.
    if (req.tooLarge) throw new BootstrapProtocolError(`body is over ${MAX_BODY_BYTES} bytes`);
    if (path === '/ping') return { status: 200, contentType: TEXT, body: 'OK' };
    const t = now();
    let data: BootstrapData;
    switch (path) {
      case '/join':
        data = await store.join(parsePeerLine(decodeBody(req.body)), t);
        break;
      case '/refill':
        data = await store.refill(parsePeerLine(decodeBody(req.body)), t);
        break;
      case '/leave':
        data = await store.leave(parseLeaveLine(decodeBody(req.body)), t);
        break;
      case '/config': {
        const c = parseConfigLine(decodeBody(req.body));
        data = await store.config(c.maxpeers, c.minrefillcandidates, t);
        break;
      }
      case '/reset':
        data = await store.reset(t);
        break;
      default:
        data = await store.list(t);
        // The original answered /list with its file, which ends in a newline.
        return { status: 200, contentType: JSON_TYPE, body: `${format(data)}\n` };
    }
    return { status: 200, contentType: JSON_TYPE, body: format(data) };
  }

  async function handle(req: ServiceRequest): Promise<ServiceResponse> {
    const started = log ? performance.now() : 0;
    let res: ServiceResponse;
    try {
      res = await dispatch(req);
    } catch (err) {
      if (err instanceof Refusal) res = refusal(err.status, err.message, err.headers);
      else if (err instanceof BootstrapProtocolError) res = refusal(400, err.message);
      else if (err instanceof StoreUnavailableError) {
        res = refusal(503, `store unavailable: ${err.message}`, { 'retry-after': '1' });
      } else {
        // A defect of ours, not the client's: say so without leaking internals.
        res = refusal(500, `internal error: ${oneLine(err)}`);
      }
    }
    if (log) {
      const entry: BootstrapLogEntry = {
        method: req.method,
        path: req.path,
        status: res.status,
        durationMs: performance.now() - started,
      };
      if (res.status !== 200) entry.error = res.body.trimEnd();
      try {
        log(entry);
      } catch {
        // A failing logger must not turn an answered request into a crash.
      }
    }
    return res;
  }

  async function fetchHandler(request: Request): Promise<Response> {
    let path: string;
    try {
      path = new URL(request.url).pathname;
    } catch {
      path = '/';
    }
    let body: Uint8Array | undefined;
    try {
      body = await readLimited(request);
    } catch (err) {
      const r = refusal(400, `cannot read body: ${oneLine(err)}`);
      return new Response(r.body, { status: r.status, headers: { 'content-type': r.contentType } });
    }
    const res = await handle({
      method: request.method,
      path,
      authorization: request.headers.get('authorization'),
      body: body ?? new Uint8Array(0),
      tooLarge: body === undefined,
    });
    return new Response(res.body, {
      status: res.status,
      headers: { 'content-type': res.contentType, ...res.headers },
    });
  }

  return { handle, fetch: fetchHandler };
}

/** The service as a fetch-style function: `(Request) => Promise<Response>`. */
export function createBootstrapHandler(
  opts: BootstrapHandlerOptions,
): (req: Request) => Promise<Response> {
  return createBootstrapService(opts).fetch;
}

/** Reads at most MAX_BODY_BYTES; `undefined` when the body is larger. */
async function readLimited(request: Request): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    await request.body?.cancel().catch(() => {});
    return undefined;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function oneLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).replace(/\s+/g, ' ');
}
