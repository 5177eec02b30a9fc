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
import { STATUS_CODES } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { isThenable } from '../thenable.js';
import { HttpRequestError, type ParsedRequest, RequestParser } from './request-parser.js';

export interface Http1Response {
  status: number;
  contentType: string;
  body: string;
  /** Extra header fields; names and values must not contain CR or LF. */
  headers?: Record<string, string>;
}

/**
 * Answers a request, at once or through a promise. The server may cache the encoded bytes of a
 * response object it has sent (for up to a second, the Date header's resolution): return the same
 * object for the same answer to benefit, and never mutate one after returning it.
 */
export type Http1Handler = (req: ParsedRequest) => Http1Response | PromiseLike<Http1Response>;

export interface Http1ServerOptions {
  handler: Http1Handler;
  /** Largest request body handed to the handler; a larger one arrives with `bodyTooLarge`. */
  maxBodyBytes: number;
  /** Largest request line plus headers; default 16 KiB (as Node's http). Over it → 431. */
  maxHeadBytes?: number;
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
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const SAFE_FIELD = /^[^\r\n]*$/;

let dateSecond = -1;
let dateText = '';
/** The Date header, formatted once per second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

function formatResponse(
  res: Http1Response,
  method: string,
  close: boolean,
  keepAliveSeconds: number,
): string {
  let head = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? 'Status'}\r\nContent-Type: ${res.contentType}\r\nContent-Length: ${Buffer.byteLength(res.body)}\r\nDate: ${httpDate()}\r\n`;
  if (res.headers !== undefined) {
    for (const name in res.headers) {
      const value = res.headers[name];
      // A handler bug must not become header injection.
      if (!SAFE_FIELD.test(name) || !SAFE_FIELD.test(value)) {
        throw new Error(`header ${JSON.stringify(name)} contains CR or LF`);
      }
      head += `${name}: ${value}\r\n`;
    }
  }
  head += close
    ? 'Connection: close\r\n\r\n'
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
  // A HEAD answer carries the length of the body it leaves out.
  return method === 'HEAD' ? head : head + res.body;
}

/** Encoded answers of response objects seen in the current second, with and without close. */
interface EncodedAnswer {
  second: number;
  keepAlive?: string;
  close?: string;
}
const encodedAnswers = new WeakMap<Http1Response, EncodedAnswer>();

function responseText(
  res: Http1Response,
  method: string,
  close: boolean,
  keepAliveSeconds: number,
): string {
  if (method === 'HEAD') return formatResponse(res, method, close, keepAliveSeconds);
  const second = Math.floor(Date.now() / 1000);
  let e = encodedAnswers.get(res);
  if (e === undefined || e.second !== second) {
    e = { second };
    encodedAnswers.set(res, e);
  }
  if (close) {
    e.close ??= formatResponse(res, method, true, keepAliveSeconds);
    return e.close;
  }
  e.keepAlive ??= formatResponse(res, method, false, keepAliveSeconds);
  return e.keepAlive;
}

function errorResponse(status: number, message: string): Http1Response {
  return {
    status,
    contentType: 'text/plain; charset=utf-8',
    body: `${message}\n`,
    headers: { 'x-content-type-options': 'nosniff' },
  };
}

/** One answer to write, in request order; `text` is undefined until the handler is done. */
interface Slot {
  text: string | undefined;
  /** The connection ends after this answer. */
  close: boolean;
}

interface Limits {
  handler: Http1Handler;
  maxBodyBytes: number;
  maxHeadBytes: number;
  keepAliveTimeoutMs: number;
  keepAliveSeconds: number;
  requestTimeoutMs: number;
  maxPipelined: number;
  onRequestError?: (err: HttpRequestError) => void;
}

class Connection {
  private readonly parser: RequestParser;
  private readonly queue: Slot[] = [];
  /** No request after the queued ones will be answered; end once the queue is written. */
  private lastQueued = false;
  private ended = false;
  private paused = false;
  private writesBlocked = false;
  /** When the request being received started (0 when none is partial). */
  private partialSince = 0;
  private requests = 0;

  constructor(
    private readonly socket: Socket,
    private readonly limits: Limits,
    onGone: (c: Connection) => void,
  ) {
    this.parser = new RequestParser(
      { maxBodyBytes: limits.maxBodyBytes, maxHeadBytes: limits.maxHeadBytes },
      { onRequest: (req) => this.onRequest(req), onContinue: () => this.onContinue() },
    );
    socket.setTimeout(limits.keepAliveTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('timeout', () => this.onTimeout());
    socket.on('drain', () => {
      this.writesBlocked = false;
      this.updateFlow();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => onGone(this));
  }

  /** Idle connections end now; busy ones after their queued answers. */
  shutdown(): void {
    this.lastQueued = true;
    if (this.queue.length === 0) this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const before = this.requests;
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.refuse(err);
      return;
    }
    if (!this.parser.inMessage) this.partialSince = 0;
    else if (this.partialSince === 0 || this.requests !== before) this.partialSince = Date.now();
    else if (Date.now() - this.partialSince > this.limits.requestTimeoutMs) this.refuseSlow();
  }

  private onRequest(req: ParsedRequest): void {
    this.requests++;
    if (this.lastQueued) return;
    const slot: Slot = { text: undefined, close: !req.keepAlive };
    if (slot.close) this.lastQueued = true;
    this.queue.push(slot);
    const answer = (res: Http1Response) => {
      const close = slot.close || this.lastQueued;
      try {
        slot.text = responseText(res, req.method, close, this.limits.keepAliveSeconds);
      } catch (err) {
        slot.text = formatResponse(
          errorResponse(500, `internal error: ${(err as Error).message}`),
          req.method,
          close,
          this.limits.keepAliveSeconds,
        );
      }
      slot.close = close;
      this.flush();
    };
    const failed = (err: unknown) =>
      answer(errorResponse(500, `internal error: ${String((err as Error)?.message ?? err)}`));
    let res: Http1Response | PromiseLike<Http1Response>;
    try {
      res = this.limits.handler(req);
    } catch (err) {
      failed(err);
      return;
    }
    if (isThenable(res)) {
      res.then(answer, failed);
      this.updateFlow();
    } else answer(res);
  }

  private onContinue(): void {
    this.queue.push({ text: CONTINUE, close: false });
    this.flush();
  }

  private refuse(err: unknown): void {
    const e =
      err instanceof HttpRequestError
        ? err
        : new HttpRequestError(400, `bad request: ${String(err)}`);
    try {
      this.limits.onRequestError?.(e);
    } catch {
      // A failing logger must not keep the connection open.
    }
    this.lastQueued = true;
    this.queue.push({
      text: formatResponse(errorResponse(e.status, e.message), 'POST', true, 0),
      close: true,
    });
    this.flush();
  }

  private refuseSlow(): void {
    this.refuse(
      new HttpRequestError(408, `request not complete within ${this.limits.requestTimeoutMs} ms`),
    );
  }

  private flush(): void {
    const { socket, queue } = this;
    if (socket.destroyed || this.ended) return;
    let ready = 0;
    while (ready < queue.length && queue[ready].text !== undefined) ready++;
    if (ready === 0) {
      // Answers done at once still hold a place behind a slow one: they count towards the limit.
      this.updateFlow();
      return;
    }
    if (ready > 1) socket.cork();
    for (let i = 0; i < ready; i++) {
      const slot = queue[i];
      if (!socket.write(slot.text as string)) this.writesBlocked = true;
      if (slot.close) {
        this.ended = true;
        break;
      }
    }
    if (ready > 1) socket.uncork();
    queue.splice(0, ready);
    if (this.ended || (this.lastQueued && queue.length === 0)) {
      this.ended = true;
      queue.length = 0;
      socket.end();
      return;
    }
    this.updateFlow();
  }

  /** Stops reading while too many answers are pending or the client does not read its answers. */
  private updateFlow(): void {
    const stop = this.writesBlocked || this.queue.length >= this.limits.maxPipelined;
    if (stop && !this.paused) {
      this.paused = true;
      this.parser.pause();
      this.socket.pause();
    } else if (!stop && this.paused) {
      this.paused = false;
      this.socket.resume();
      try {
        this.parser.resume();
      } catch (err) {
        this.refuse(err);
      }
    }
  }

  /** The client sent FIN: answer what was asked, then close. */
  private onEnd(): void {
    this.lastQueued = true;
    if (this.queue.length === 0 && !this.ended) {
      this.ended = true;
      this.socket.end();
    }
  }

  private onTimeout(): void {
    // Waiting for the handler: the answer's write re-arms the timer.
    if (this.queue.length > 0) return;
    if (this.parser.inMessage) {
      if (Date.now() - this.partialSince >= this.limits.requestTimeoutMs) this.refuseSlow();
      else this.socket.setTimeout(this.limits.keepAliveTimeoutMs);
      return;
    }
    this.socket.destroy();
  }
}

export function createHttp1Server(opts: Http1ServerOptions): Http1Server {
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5000;
  const limits: Limits = {
    handler: opts.handler,
    maxBodyBytes: opts.maxBodyBytes,
    maxHeadBytes: opts.maxHeadBytes ?? 16 * 1024,
    keepAliveTimeoutMs,
    keepAliveSeconds: Math.max(1, Math.floor(keepAliveTimeoutMs / 1000)),
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    maxPipelined: opts.maxPipelined ?? 64,
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
  };
}
