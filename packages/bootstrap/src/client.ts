import {
  BootstrapProtocolError,
  formatConfigLine,
  formatPeerLine,
  PEER_FIELDS,
  parseDocument,
} from './codec.js';
import { compareGoStrings } from './semantics.js';
import type { BootstrapData, PeerRecord } from './types.js';

/*
 * The typed client of the bootstrap service. It speaks the original protocol, so it works
 * against the original Go server as well as ours. It never prints: every failure is a typed
 * error whose message says what happened, including the server's own one-line reason.
 */

/** Base class of everything the client throws (besides BootstrapProtocolError for bad input). */
export class BootstrapClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BootstrapClientError';
  }
}

/** No service URL given and `BOOTSTRAP_DATA_SERVER` unset, or the URL is not http(s). */
export class BootstrapConfigError extends BootstrapClientError {
  constructor(message: string) {
    super(message, 'BOOTSTRAP_CONFIG');
    this.name = 'BootstrapConfigError';
  }
}

/** The service could not be reached (connection refused, reset, DNS failure...). */
export class BootstrapUnreachableError extends BootstrapClientError {
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`bootstrap service ${url} is unreachable: ${reason}`, 'BOOTSTRAP_UNREACHABLE', options);
    this.name = 'BootstrapUnreachableError';
  }
}

/** No complete answer within the timeout. */
export class BootstrapTimeoutError extends BootstrapClientError {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`bootstrap service ${url} did not answer within ${timeoutMs} ms`, 'BOOTSTRAP_TIMEOUT');
    this.name = 'BootstrapTimeoutError';
  }
}

/** The service answered with a status other than 200; `serverMessage` is its reason. */
export class BootstrapHttpError extends BootstrapClientError {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`bootstrap service ${url} answered ${status}: ${serverMessage}`, 'BOOTSTRAP_HTTP');
    this.name = 'BootstrapHttpError';
  }
}

/** A 200 answer that is not what the protocol says (not JSON, wrong types, not `OK`). */
export class BootstrapMalformedResponseError extends BootstrapClientError {
  constructor(
    readonly url: string,
    reason: string,
    readonly body: string,
  ) {
    super(`bootstrap service ${url} sent a malformed answer: ${reason}`, 'BOOTSTRAP_MALFORMED');
    this.name = 'BootstrapMalformedResponseError';
  }
}

export interface BootstrapClientOptions {
  /** Service base URL, e.g. http://localhost:8080. Default: env BOOTSTRAP_DATA_SERVER. */
  url?: string;
  /** Per request, connect to last byte (ms). Default 5000. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <adminToken>` on /reset and /config. */
  adminToken?: string;
  /** Environment to read BOOTSTRAP_DATA_SERVER from; default process.env. */
  env?: Record<string, string | undefined>;
}

const MAX_SHOWN = 200;

export class BootstrapClient {
  readonly url: string;
  readonly timeoutMs: number;
  private readonly adminToken: string | undefined;

  constructor(opts: BootstrapClientOptions = {}) {
    const env = opts.env ?? process.env;
    const url = opts.url ?? env.BOOTSTRAP_DATA_SERVER;
    if (url === undefined || url === '') {
      throw new BootstrapConfigError(
        'no bootstrap service URL: pass { url } or set BOOTSTRAP_DATA_SERVER (e.g. http://localhost:8080)',
      );
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new BootstrapConfigError(`bootstrap service URL ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new BootstrapConfigError(`bootstrap service URL ${url} is not http(s)`);
    }
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.adminToken = opts.adminToken;
  }

  /** Resolves when the service answers `OK`. */
  async ping(): Promise<void> {
    const text = await this.post('/ping', '');
    if (text !== 'OK') {
      throw new BootstrapMalformedResponseError(this.url, 'expected "OK" from /ping', shown(text));
    }
  }

  /** Asks to be stored as a bootstrap peer; stored only while fewer than maxpeers are. */
  async join(peer: PeerRecord): Promise<BootstrapData> {
    return this.document('/join', checkedPeerLine(peer));
  }

  /** Removes a peer (one's own id on quitting, or a peer seen gone). */
  async leave(id: string): Promise<BootstrapData> {
    return this.document('/leave', wireField('id', id));
  }

  /** Offers `peer` as a replacement for a missing bootstrap peer (older peers win). */
  async refill(peer: PeerRecord): Promise<BootstrapData> {
    return this.document('/refill', checkedPeerLine(peer));
  }

  list(): Promise<BootstrapData> {
    return this.document('/list', '');
  }

  /** Removes every peer (admin). */
  reset(): Promise<BootstrapData> {
    return this.document('/reset', '', true);
  }

  /** Sets maxpeers and minrefillcandidates (admin). */
  config(maxpeers: number, minrefillcandidates: number): Promise<BootstrapData> {
    return this.document('/config', formatConfigLine({ maxpeers, minrefillcandidates }), true);
  }

  private async document(path: string, body: string, admin = false): Promise<BootstrapData> {
    const text = await this.post(path, body, admin);
    try {
      return parseDocument(text);
    } catch (err) {
      throw new BootstrapMalformedResponseError(this.url, (err as Error).message, shown(text));
    }
  }

  private async post(path: string, body: string, admin = false): Promise<string> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
    };
    if (admin && this.adminToken) headers.authorization = `Bearer ${this.adminToken}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.url + path, { method: 'POST', headers, body, signal });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw new BootstrapTimeoutError(this.url, this.timeoutMs);
      throw new BootstrapUnreachableError(this.url, networkReason(err), { cause: err });
    }
    if (status !== 200) {
      const reason = text.trim().split('\n')[0] || `HTTP ${status}`;
      throw new BootstrapHttpError(this.url, status, shown(reason));
    }
    return text;
  }
}

/**
 * Refuses, before any request, a value that cannot travel in a space-separated body: a space or
 * control character would shift the fields. An empty value travels (the original client sends an
 * empty status); whether the server stores it (an empty id or ip it refuses), like the port
 * range, is the server's to judge, and its one-line reason reaches the caller as
 * BootstrapHttpError.serverMessage.
 */
function wireField(name: string, value: string): string {
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new BootstrapProtocolError(
      `${name} ${JSON.stringify(value)} cannot be sent: it contains a space or control character`,
    );
  }
  return value;
}

function checkedPeerLine(peer: PeerRecord): string {
  for (const f of PEER_FIELDS) wireField(f, peer[f]);
  return formatPeerLine(peer);
}

function shown(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.message ? `${cause.code} (${cause.message})` : cause.code;
  return (err as Error).message ?? String(err);
}

/** Who a peer is, for telling itself apart from others in a bootstrap list. */
export interface SelfIdentity {
  id: string;
  /** With ip and port, an entry at one's own address under another id (a stale entry of an
   * earlier run on the same port) is not a way in either. */
  ip?: string;
  port?: string | number;
}

/**
 * The bootstrap peers a peer should contact to join the group: every stored peer except
 * itself, in the document's (Go key) order. An empty array means "you are the first (or only)
 * peer: start a new group and wait to be contacted" — a peer is never handed only its own
 * address as the way in.
 */
export function contactsFor(data: BootstrapData, self: SelfIdentity | string): PeerRecord[] {
  const me = typeof self === 'string' ? { id: self } : self;
  const myAddress =
    me.ip !== undefined && me.port !== undefined ? `${me.ip}:${String(me.port)}` : undefined;
  return Object.keys(data.Peers)
    .sort(compareGoStrings)
    .map((key) => data.Peers[key])
    .filter(
      (p) => p.id !== me.id && (myAddress === undefined || `${p.ip}:${p.port}` !== myAddress),
    );
}

/** `ip:port` of each contact, ready for a memberlist join. */
export function contactAddresses(data: BootstrapData, self: SelfIdentity | string): string[] {
  return contactsFor(data, self).map((p) =>
    p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`,
  );
}
