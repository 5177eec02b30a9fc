import { createHash, timingSafeEqual } from 'node:crypto';
import {
  BootstrapProtocolError,
  decodeBody,
  formatDocument,
  MAX_BODY_BYTES,
  parseConfigLine,
  parseLeaveLine,
  parsePeerLine,
} from './codec.js';
import { configHints, peerHints } from './hints.js';
import { refusal, type ServiceResponse, TEXT_PLAIN } from './response.js';
import { type Store, StoreUnavailableError } from './store.js';
import { isThenable } from './thenable.js';
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
  /**
   * Called for each stored value that cannot work (an ip that is no IP address, minrefillcandidates
   * above maxpeers...); the request still succeeds. Must not throw.
   */
  warn?: (warning: BootstrapWarning) => void;
}

/** A value the service stored although it cannot work, for the operator's log. */
export interface BootstrapWarning {
  /** The endpoint that received it, e.g. `/join`. */
  path: string;
  /** One line saying what cannot work and why. */
  message: string;
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

export interface BootstrapService {
  /**
   * Answers a request: at once when no store operation is needed (/ping, refusals), else through
   * a promise. Never throws or rejects; answers are shared and must not be mutated.
   */
  handle(req: ServiceRequest): ServiceResponse | Promise<ServiceResponse>;
  fetch(req: Request): Promise<Response>;
}

const ENDPOINTS = new Set(['/ping', '/join', '/leave', '/refill', '/list', '/reset', '/config']);
const ADMIN_ENDPOINTS = new Set(['/reset', '/config']);
const JSON_TYPE = 'application/json; charset=utf-8';
const PONG: ServiceResponse = { status: 200, contentType: TEXT_PLAIN, body: 'OK' };

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

/**
 * Compares secrets in constant time: both are hashed first, so timingSafeEqual gets equal-length
 * inputs and neither where they differ nor the token's length shows in the time taken.
 */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function createBootstrapService(opts: BootstrapHandlerOptions): BootstrapService {
  const { store, adminToken, log, warn } = opts;
  const now = opts.now ?? Date.now;
  // Stores hand out the same snapshot object until the state changes, and /list answers it many
  // times in a row: format it once, and answer with the same (never mutated) response objects so
  // a server may reuse their encoded bytes too.
  let answers:
    | { data: BootstrapData; document: ServiceResponse; list: ServiceResponse }
    | undefined;
  const answersFor = (data: BootstrapData) => {
    if (answers?.data !== data) {
      const text = formatDocument(data);
      answers = {
        data,
        document: { status: 200, contentType: JSON_TYPE, body: text },
        // The original answered /list with its file, which ends in a newline.
        list: { status: 200, contentType: JSON_TYPE, body: `${text}\n` },
      };
    }
    return answers;
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

  /** Refusals are thrown; the store's answer comes as a promise, the rest (ping) at once. */
  function dispatch(req: ServiceRequest): ServiceResponse | Promise<ServiceResponse> {
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
    if (path === '/ping') return PONG;
    const t = now();
    switch (path) {
      case '/join':
        return store.join(checkedPeer(req), t).then(answerDocument);
      case '/refill':
        return store.refill(checkedPeer(req), t).then(answerDocument);
      case '/leave':
        return store.leave(parseLeaveLine(decodeBody(req.body)), t).then(answerDocument);
      case '/config': {
        const c = parseConfigLine(decodeBody(req.body));
        warnAll(path, configHints(c));
        return store.config(c.maxpeers, c.minrefillcandidates, t).then(answerDocument);
      }
      case '/reset':
        return store.reset(t).then(answerDocument);
      default:
        return store.list(t).then(answerList);
    }
  }

  function checkedPeer(req: ServiceRequest) {
    const peer = parsePeerLine(decodeBody(req.body));
    warnAll(req.path, peerHints(peer));
    return peer;
  }

  function warnAll(path: string, messages: string[]): void {
    if (warn === undefined) return;
    for (const message of messages) {
      try {
        warn({ path, message });
      } catch {
        // A failing logger must not refuse a request.
      }
    }
  }

  const answerDocument = (data: BootstrapData) => answersFor(data).document;
  const answerList = (data: BootstrapData) => answersFor(data).list;

  function failure(err: unknown): ServiceResponse {
    if (err instanceof Refusal) return refusal(err.status, err.message, err.headers);
    if (err instanceof BootstrapProtocolError) return refusal(400, err.message);
    if (err instanceof StoreUnavailableError) {
      return refusal(503, `store unavailable: ${err.message}`, { 'retry-after': '1' });
    }
    // A defect of ours, not the client's: say so without leaking internals.
    return refusal(500, `internal error: ${oneLine(err)}`);
  }

  function logged(req: ServiceRequest, res: ServiceResponse, started: number): ServiceResponse {
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

  // Not an async function: /ping and refusals are answered at once, without promise frames
  // (measurable at 40k requests/s); store operations answer through their promise.
  function handle(req: ServiceRequest): ServiceResponse | Promise<ServiceResponse> {
    const started = log ? performance.now() : 0;
    let res: ServiceResponse | Promise<ServiceResponse>;
    try {
      res = dispatch(req);
    } catch (err) {
      res = failure(err);
    }
    if (isThenable(res)) {
      return Promise.resolve(res).then(
        (r) => logged(req, r, started),
        (err: unknown) => logged(req, failure(err), started),
      );
    }
    return logged(req, res, started);
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
