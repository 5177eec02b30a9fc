/*
 * A strict, incremental HTTP/1.1 request parser (RFC 9112) for small-bodied protocols.
 *
 * Why our own: Node's `http` module costs most of the bootstrap server's CPU per request, and
 * the only faster servers for Node (uWebSockets.js) are not on the npm registry. The one pure-JS
 * parser on npm (http-parser-js) is lenient where leniency admits request smuggling: it lets
 * Transfer-Encoding silently win over Content-Length, reads `Content-Length: 5abc` as NaN and
 * chunk sizes with parseInt. This parser accepts exactly one framing per message and refuses
 * everything ambiguous with a status and a one-line reason, after which the connection is closed.
 *
 * It holds no socket: bytes go in with push(), complete requests come out through a callback, so
 * it can be tested and fuzzed byte by byte.
 */

/** A request the parser refuses; `status` is the HTTP status to answer with. */
export class HttpRequestError extends Error {
  constructor(
    readonly status: 400 | 408 | 417 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRequestError';
  }
}

export interface ParsedRequest {
  method: string;
  /** The request-target as sent, e.g. `/join?x=1` or `http://host/join`. */
  target: string;
  /** The target's path without query, also for absolute-form targets; `*` and authority-form stay as sent. */
  path: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x minors). */
  minorVersion: number;
  /** Header fields in order as [lower-case name, value] pairs, values without surrounding whitespace. */
  headers: string[];
  /** The body; empty when `bodyTooLarge`. */
  body: Buffer;
  /** The declared or received body exceeded `maxBodyBytes`; the rest of the connection is ignored. */
  bodyTooLarge: boolean;
  /** The client wants the connection kept open after the answer. */
  keepAlive: boolean;
}

export interface RequestParserLimits {
  /** Largest request line plus header section, in bytes; over it → 431. Default 16 KiB. */
  maxHeadBytes?: number;
  /** Largest body kept, in bytes; a larger one yields a request with `bodyTooLarge`. */
  maxBodyBytes: number;
  /** Longest chunk-size line (size plus extensions), in bytes; over it → 400. Default 1024. */
  maxChunkLineBytes?: number;
  /**
   * Empty lines accepted before a request line (RFC 9112 §2.2 asks to ignore at least one); more
   * → 400. Default 8. Bounded so that a client cannot hold a connection with a CRLF drip.
   */
  maxEmptyLines?: number;
}

export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
export const DEFAULT_MAX_CHUNK_LINE_BYTES = 1024;
export const DEFAULT_MAX_EMPTY_LINES = 8;

export interface RequestParserEvents {
  /** A complete request. */
  onRequest(req: ParsedRequest): void;
  /** The head asked for `Expect: 100-continue` and its body has not arrived yet. */
  onContinue?(): void;
}

/** One header value of a request, or undefined; repeated fields are joined with ", ". */
export function headerValue(req: ParsedRequest, name: string): string | undefined {
  let value: string | undefined;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === name) value = value === undefined ? h[i + 1] : `${value}, ${h[i + 1]}`;
  }
  return value;
}

const HEAD = 0;
const FIXED_BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
/** After a refusal, an oversized body or a request that closes the connection: input is ignored. */
const DONE = 6;

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

// RFC 9110 token: the characters of a method and of a field name.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/(\d)\.(\d)$/;
/** An HTTP/0.9 request line: method and target, no version. */
const HTTP09_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e]+$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const LFLF = Buffer.from('\n\n');
const DIGITS = /^\d{1,15}$/;
const CHUNK_LINE = /^([0-9A-Fa-f]{1,8})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*([^?#]*)/i;

/** Shows at most 60 characters of what was received, escaped, for an error message. */
function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Refuses an HTTP/0.9 request line: such a client reads no status line, but others might. */
function refuseHttp09(line: string): void {
  if (HTTP09_LINE.test(line)) {
    throw new HttpRequestError(505, `request line ${shown(line)} has no HTTP version (HTTP/0.9)`);
  }
}

export class RequestParser {
  private readonly maxHead: number;
  private readonly maxBody: number;
  private readonly maxChunkLine: number;
  private readonly maxEmptyLines: number;
  /** Empty lines received before the next request line. */
  private emptyLines = 0;
  /** The current head's first line was checked for the HTTP/0.9 form. */
  private firstLineChecked = false;
  private state = HEAD;
  /** Unconsumed input; `pos` is the first unconsumed byte. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Where the next search for the end of the head starts (avoids rescanning a slow head). */
  private scanFrom = 0;
  /** The request whose body is being read. */
  private current: ParsedRequest | undefined;
  private bodyChunks: Buffer[] = [];
  private bodySize = 0;
  /** Bytes left in a fixed body or in the current chunk. */
  private remaining = 0;
  private trailerBytes = 0;
  private paused = false;

  constructor(
    limits: RequestParserLimits,
    private readonly events: RequestParserEvents,
  ) {
    this.maxHead = limits.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.maxBody = limits.maxBodyBytes;
    this.maxChunkLine = limits.maxChunkLineBytes ?? DEFAULT_MAX_CHUNK_LINE_BYTES;
    this.maxEmptyLines = limits.maxEmptyLines ?? DEFAULT_MAX_EMPTY_LINES;
  }

  /**
   * True while part of a request has arrived but not all of it. Empty lines before a request
   * line count as its start, so they run the request-arrival clock.
   */
  get inMessage(): boolean {
    return (
      this.state !== DONE &&
      (this.state !== HEAD || this.pos < this.buf.length || this.emptyLines > 0)
    );
  }

  /** True once the parser ignores input (after a refusal or a last request). */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Feeds bytes. Emits every request they complete, unless paused. Throws HttpRequestError for
   * a malformed request; the parser then ignores all further input.
   */
  push(chunk: Buffer): void {
    if (this.state === DONE) return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.scanFrom -= this.pos;
      this.pos = 0;
    } else {
      const rest = this.buf.subarray(this.pos);
      this.scanFrom -= this.pos;
      this.buf = Buffer.concat([rest, chunk]);
      this.pos = 0;
    }
    if (this.scanFrom < 0) this.scanFrom = 0;
    this.drain();
  }

  /** Stops emitting requests (the caller has enough in flight); input is kept. */
  pause(): void {
    this.paused = true;
  }

  /** Emits what was held back by pause(). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drain();
  }

  private drain(): void {
    try {
      while (!this.paused && this.step()) {}
    } catch (err) {
      this.state = DONE;
      this.buf = EMPTY;
      this.pos = 0;
      throw err;
    }
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.scanFrom = 0;
      this.pos = 0;
    }
  }

  /** Advances one state; false when more input is needed. */
  private step(): boolean {
    switch (this.state) {
      case HEAD:
        return this.readHead();
      case FIXED_BODY:
        return this.readFixedBody();
      case CHUNK_SIZE:
        return this.readChunkSize();
      case CHUNK_DATA:
        return this.readChunkData();
      case CHUNK_DATA_END:
        return this.readChunkDataEnd();
      case TRAILERS:
        return this.readTrailer();
      default:
        return false;
    }
  }

  private readHead(): boolean {
    const buf = this.buf;
    // A client may send empty lines between requests (RFC 9112 §2.2), but only a few.
    while (buf[this.pos] === 13 && buf[this.pos + 1] === 10) {
      this.pos += 2;
      if (++this.emptyLines > this.maxEmptyLines) {
        throw new HttpRequestError(
          400,
          `more than ${this.maxEmptyLines} empty lines before the request line`,
        );
      }
    }
    if (this.pos >= buf.length) return false;
    const from = Math.max(this.scanFrom, this.pos);
    const end = buf.indexOf(CRLFCRLF, from);
    if (end === -1) {
      if (buf.length - this.pos > this.maxHead) {
        throw new HttpRequestError(431, `request head is over ${this.maxHead} bytes`);
      }
      if (!this.firstLineChecked) {
        // An HTTP/0.9 client sends one line and waits: answer it now, not at a timeout.
        const lineEnd = buf.indexOf(CRLF, this.pos);
        if (lineEnd !== -1) {
          this.firstLineChecked = true;
          refuseHttp09(buf.toString('latin1', this.pos, lineEnd));
        }
      }
      // Without this, a client ending lines in bare LF would wait for a timeout.
      if (buf.indexOf(LFLF, from) !== -1) {
        throw new HttpRequestError(400, 'request head lines must end in CRLF');
      }
      this.scanFrom = buf.length - 3;
      return false;
    }
    if (end - this.pos > this.maxHead) {
      throw new HttpRequestError(431, `request head is over ${this.maxHead} bytes`);
    }
    const head = buf.toString('latin1', this.pos, end);
    this.pos = end + 4;
    this.scanFrom = 0;
    this.emptyLines = 0;
    this.firstLineChecked = false;
    this.startRequest(head);
    return true;
  }

  private startRequest(head: string): void {
    // Lines are walked with indexOf rather than split: this runs once per request.
    const firstEnd = head.indexOf('\r\n');
    const requestLine = firstEnd === -1 ? head : head.slice(0, firstEnd);
    const m = REQUEST_LINE.exec(requestLine);
    if (m === null) {
      refuseHttp09(requestLine);
      throw new HttpRequestError(400, `malformed request line ${shown(requestLine)}`);
    }
    if (m[3] !== '1') throw new HttpRequestError(505, `HTTP/${m[3]}.${m[4]} is not supported`);
    const minorVersion = +m[4];
    const headers: string[] = [];
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection = '';
    let expect: string | undefined;
    let hosts = 0;
    for (let at = firstEnd === -1 ? head.length : firstEnd + 2; at < head.length; ) {
      let end = head.indexOf('\r\n', at);
      if (end === -1) end = head.length;
      const line = head.slice(at, end);
      at = end + 2;
      const f = parseField(line);
      if (f === undefined) {
        const c = line.charCodeAt(0);
        if (c === 32 || c === 9) {
          throw new HttpRequestError(400, 'header line folding is not accepted');
        }
        throw new HttpRequestError(400, `malformed header line ${shown(line)}`);
      }
      const name = f[0];
      const value = f[1];
      headers.push(name, value);
      switch (name) {
        case 'content-length':
          contentLength = mergeContentLength(contentLength, value);
          break;
        case 'transfer-encoding':
          transferEncoding =
            transferEncoding === undefined ? value : `${transferEncoding},${value}`;
          break;
        case 'connection':
          connection += `,${value.toLowerCase()}`;
          break;
        case 'expect':
          expect = value.toLowerCase();
          break;
        case 'host':
          hosts++;
          break;
      }
    }
    if (minorVersion >= 1 && hosts !== 1) {
      throw new HttpRequestError(
        400,
        hosts === 0 ? 'HTTP/1.1 request without a Host header' : 'more than one Host header',
      );
    }
    let chunked = false;
    if (transferEncoding !== undefined) {
      if (contentLength !== -1) {
        throw new HttpRequestError(400, 'both Content-Length and Transfer-Encoding are set');
      }
      if (minorVersion === 0) {
        throw new HttpRequestError(400, 'Transfer-Encoding in an HTTP/1.0 request');
      }
      const codings = transferEncoding.split(',').map((s) => s.trim().toLowerCase());
      if (codings[codings.length - 1] !== 'chunked') {
        throw new HttpRequestError(
          400,
          `Transfer-Encoding must end in chunked, got ${shown(transferEncoding)}`,
        );
      }
      if (codings.length > 1) {
        throw new HttpRequestError(501, `transfer coding ${shown(codings[0])} is not supported`);
      }
      chunked = true;
    }
    let keepAlive = minorVersion >= 1;
    if (connection !== '') {
      const options = connection.split(',').map((t) => t.trim());
      // `close` wins over `keep-alive` whatever their order.
      if (options.includes('close')) keepAlive = false;
      else if (options.includes('keep-alive')) keepAlive = true;
    }
    let expectContinue = false;
    if (expect !== undefined) {
      if (expect !== '100-continue') {
        throw new HttpRequestError(417, `expectation ${shown(expect)} is not supported`);
      }
      expectContinue = minorVersion >= 1;
    }
    const target = m[2];
    const req: ParsedRequest = {
      method: m[1],
      target,
      path: pathOf(target),
      minorVersion,
      headers,
      body: EMPTY,
      bodyTooLarge: false,
      keepAlive,
    };
    this.current = req;
    this.bodyChunks = [];
    this.bodySize = 0;
    if (chunked) {
      this.state = CHUNK_SIZE;
    } else if (contentLength > this.maxBody) {
      this.finishTooLarge();
      return;
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = FIXED_BODY;
    } else {
      this.finish();
      return;
    }
    if (expectContinue && this.pos >= this.buf.length) this.events.onContinue?.();
  }

  /** Moves what has arrived of the `remaining` body bytes into the body; false when nothing has. */
  private takeBody(): boolean {
    const available = this.buf.length - this.pos;
    if (available === 0) return false;
    const take = Math.min(available, this.remaining);
    this.addBody(this.buf.subarray(this.pos, this.pos + take));
    this.pos += take;
    this.remaining -= take;
    return true;
  }

  private readFixedBody(): boolean {
    if (!this.takeBody()) return false;
    if (this.remaining === 0) this.finish();
    return true;
  }

  private readChunkSize(): boolean {
    const end = this.buf.indexOf(CRLF, this.pos);
    // Checked also when the whole line arrived in one read.
    if ((end === -1 ? this.buf.length : end) - this.pos > this.maxChunkLine) {
      throw new HttpRequestError(400, `chunk size line is over ${this.maxChunkLine} bytes`);
    }
    if (end === -1) return false;
    const line = this.buf.toString('latin1', this.pos, end);
    const m = CHUNK_LINE.exec(line);
    if (m === null) throw new HttpRequestError(400, `malformed chunk size line ${shown(line)}`);
    this.pos = end + 2;
    const size = Number.parseInt(m[1], 16);
    if (size === 0) {
      this.trailerBytes = 0;
      this.state = TRAILERS;
    } else if (this.bodySize + size > this.maxBody) {
      this.finishTooLarge();
    } else {
      this.remaining = size;
      this.state = CHUNK_DATA;
    }
    return true;
  }

  private readChunkData(): boolean {
    if (!this.takeBody()) return false;
    if (this.remaining === 0) this.state = CHUNK_DATA_END;
    return true;
  }

  private readChunkDataEnd(): boolean {
    const available = this.buf.length - this.pos;
    if (available === 0) return false;
    if (this.buf[this.pos] !== 13 || (available > 1 && this.buf[this.pos + 1] !== 10)) {
      throw new HttpRequestError(400, 'chunk data is not followed by CRLF');
    }
    if (available < 2) return false;
    this.pos += 2;
    this.state = CHUNK_SIZE;
    return true;
  }

  /** Trailer fields are checked for form and dropped: nothing here needs them. */
  private readTrailer(): boolean {
    const end = this.buf.indexOf(CRLF, this.pos);
    if (end === -1) {
      if (this.trailerBytes + this.buf.length - this.pos > this.maxHead) {
        throw new HttpRequestError(431, `trailer section is over ${this.maxHead} bytes`);
      }
      return false;
    }
    this.trailerBytes += end + 2 - this.pos;
    if (this.trailerBytes > this.maxHead) {
      throw new HttpRequestError(431, `trailer section is over ${this.maxHead} bytes`);
    }
    if (end === this.pos) {
      this.pos += 2;
      this.finish();
      return true;
    }
    const line = this.buf.toString('latin1', this.pos, end);
    if (parseField(line) === undefined)
      throw new HttpRequestError(400, `malformed trailer line ${shown(line)}`);
    this.pos = end + 2;
    return true;
  }

  private addBody(part: Buffer): void {
    // Copy: the socket's buffer may be reused once this call returns.
    this.bodyChunks.push(Buffer.from(part));
    this.bodySize += part.length;
  }

  private finish(): void {
    const req = this.current!;
    const chunks = this.bodyChunks;
    if (chunks.length === 1) req.body = chunks[0];
    else if (chunks.length > 1) req.body = Buffer.concat(chunks, this.bodySize);
    this.current = undefined;
    this.bodyChunks = [];
    this.state = req.keepAlive ? HEAD : DONE;
    this.events.onRequest(req);
  }

  private finishTooLarge(): void {
    const req = this.current!;
    req.bodyTooLarge = true;
    req.keepAlive = false;
    this.current = undefined;
    this.bodyChunks = [];
    // The rest of the body is never read: the connection closes after the answer.
    this.state = DONE;
    this.events.onRequest(req);
  }
}

/** `name: value` → [lower-case name, value without surrounding SP/HTAB], or undefined if malformed. */
function parseField(line: string): [string, string] | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return undefined;
  // Trimmed by hand: a regex trim of long whitespace runs backtracks quadratically.
  let start = colon + 1;
  let end = line.length;
  let c = line.charCodeAt(start);
  while (start < end && (c === 32 || c === 9)) c = line.charCodeAt(++start);
  c = line.charCodeAt(end - 1);
  while (end > start && (c === 32 || c === 9)) c = line.charCodeAt(--end - 1);
  const value = line.slice(start, end);
  if (!FIELD_VALUE.test(value)) return undefined;
  return [name.toLowerCase(), value];
}

function mergeContentLength(previous: number, value: string): number {
  // A list like `5, 5` (or the field repeated) is accepted when every member agrees (RFC 9110 §8.6).
  let result = previous;
  for (const part of value.split(',')) {
    const p = part.trim();
    if (!DIGITS.test(p)) throw new HttpRequestError(400, `bad Content-Length ${shown(value)}`);
    const n = Number(p);
    if (result !== -1 && n !== result) {
      throw new HttpRequestError(400, 'conflicting Content-Length values');
    }
    result = n;
  }
  return result;
}

function pathOf(target: string): string {
  let path = target;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const abs = ABSOLUTE_FORM.exec(target);
    if (abs === null) return target;
    path = abs[1] === '' ? '/' : abs[1];
  }
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
