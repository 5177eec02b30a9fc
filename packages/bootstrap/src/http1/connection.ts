import type { Socket } from 'node:net';
import { refusal, type ServiceResponse } from '../response.js';
import { isThenable } from '../thenable.js';
import { HttpRequestError, type ParsedRequest, RequestParser } from './request-parser.js';
import { formatResponse, responseText } from './response-text.js';

/*
 * One client connection of the HTTP/1.1 server: parses requests, hands them to the handler and
 * writes the answers in request order.
 *
 * The rules it keeps (docs/bootstrap.md "HTTP"):
 * - every request handed to the handler (applied) gets its answer, in order, before the
 *   connection closes; only the last answer written says `Connection: close`;
 * - no request after one that closes the connection (`Connection: close`, HTTP/1.0, a refusal)
 *   is applied, nor any not yet parsed when the server shuts down;
 * - a client that half-closes gets the answers to every complete request it sent;
 * - once the server decides to close, the socket is ended and destroyed within closeTimeoutMs,
 *   whatever the client does.
 */

/**
 * Answers a request, at once or through a promise. The server may cache the encoded bytes of a
 * response object it has sent (for up to a second, the Date header's resolution): return the same
 * object for the same answer to benefit, and never mutate one after returning it.
 */
export type Http1Handler = (req: ParsedRequest) => ServiceResponse | PromiseLike<ServiceResponse>;

export interface ConnectionLimits {
  handler: Http1Handler;
  maxBodyBytes: number;
  maxHeadBytes: number;
  maxChunkLineBytes: number;
  maxEmptyLines: number;
  keepAliveTimeoutMs: number;
  keepAliveSeconds: number;
  requestTimeoutMs: number;
  maxPipelined: number;
  closeTimeoutMs: number;
  onRequestError?: (err: HttpRequestError) => void;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** One answer to write, in request order. */
interface Slot {
  /** The handler's answer, undefined until it is done. */
  res: ServiceResponse | undefined;
  /** Bytes to write as they are (an interim 100 Continue) instead of an answer. */
  raw?: string;
  method: string;
  /** The connection ends after this answer (the request or a refusal says so). */
  close: boolean;
}

export class Connection {
  private readonly parser: RequestParser;
  private readonly queue: Slot[] = [];
  /** No further request is applied: after a closing request, a refusal, or at shutdown. */
  private lastQueued = false;
  /** The client sent FIN: what it sent is answered, then the connection closes. */
  private clientEnded = false;
  /** The server has ended its side; the socket is destroyed by closeTimer at the latest. */
  private ended = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private writesBlocked = false;
  /** When the request being received started (0 when none is partial). */
  private partialSince = 0;
  private requests = 0;

  constructor(
    private readonly socket: Socket,
    private readonly limits: ConnectionLimits,
    onGone: (c: Connection) => void,
  ) {
    this.parser = new RequestParser(
      {
        maxBodyBytes: limits.maxBodyBytes,
        maxHeadBytes: limits.maxHeadBytes,
        maxChunkLineBytes: limits.maxChunkLineBytes,
        maxEmptyLines: limits.maxEmptyLines,
      },
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
    socket.on('close', () => {
      clearTimeout(this.closeTimer);
      onGone(this);
    });
  }

  /** Graceful shutdown: idle connections end now, busy ones after the answers already due. */
  shutdown(): void {
    this.lastQueued = true;
    if (this.queue.length === 0) {
      if (this.socket.writableLength === 0) this.socket.destroy();
      else this.closeSoon();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // After the server ended its side, input is read only to notice the client's FIN.
    if (this.ended) return;
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
    const slot: Slot = { res: undefined, method: req.method, close: !req.keepAlive };
    if (slot.close) this.lastQueued = true;
    this.queue.push(slot);
    const answer = (res: ServiceResponse) => {
      slot.res = res;
      this.flush();
    };
    const failed = (err: unknown) =>
      answer(refusal(500, `internal error: ${String((err as Error)?.message ?? err)}`));
    let res: ServiceResponse | PromiseLike<ServiceResponse>;
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
    this.queue.push({ res: undefined, raw: CONTINUE, method: '', close: false });
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
    this.queue.push({ res: refusal(e.status, e.message), method: 'POST', close: true });
    this.flush();
  }

  private refuseSlow(): void {
    this.refuse(
      new HttpRequestError(408, `request not complete within ${this.limits.requestTimeoutMs} ms`),
    );
  }

  /** True when no request beyond those queued will be applied on this connection. */
  private noMoreRequests(): boolean {
    // After the client's FIN, a parser that is not held back has emitted all it can.
    return this.lastQueued || (this.clientEnded && !this.paused);
  }

  private encode(slot: Slot, close: boolean): string {
    if (slot.raw !== undefined) return slot.raw;
    const res = slot.res as ServiceResponse;
    const keepAlive = this.limits.keepAliveSeconds;
    try {
      return responseText(res, slot.method, close, keepAlive);
    } catch (err) {
      const failure = refusal(500, `internal error: ${(err as Error).message}`);
      return formatResponse(failure, slot.method, close, keepAlive);
    }
  }

  /** Writes the answers that are ready, in order; ends the connection after the last one. */
  private flush(): void {
    const { socket, queue } = this;
    if (socket.destroyed || this.ended) return;
    let ready = 0;
    while (ready < queue.length && (queue[ready].res ?? queue[ready].raw) !== undefined) ready++;
    if (ready > 0) {
      // Decided before writing: the final answer of the connection says so in its header.
      const last = ready === queue.length && this.noMoreRequests();
      let closing = false;
      if (ready > 1) socket.cork();
      for (let i = 0; i < ready && !closing; i++) {
        const slot = queue[i];
        closing = slot.close || (last && i === ready - 1);
        if (!socket.write(this.encode(slot, closing))) this.writesBlocked = true;
      }
      if (ready > 1) socket.uncork();
      queue.splice(0, ready);
      if (closing) {
        this.closeSoon();
        return;
      }
    }
    // Answers done at once still hold a place behind a slow one: they count towards the limit.
    this.updateFlow();
    this.finishIfDone();
  }

  /** Stops reading while too many answers are pending or the client does not read its answers. */
  private updateFlow(): void {
    if (this.ended) return;
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
        return;
      }
      this.finishIfDone();
    }
  }

  /** Closes once the client half-closed (or shutdown began) and every answer is written. */
  private finishIfDone(): void {
    if (this.ended || this.queue.length > 0 || !this.noMoreRequests()) return;
    if (this.clientEnded && !this.lastQueued && this.parser.inMessage) {
      this.refuse(
        new HttpRequestError(400, 'the client closed its side before the request was complete'),
      );
      return;
    }
    this.closeSoon();
  }

  /**
   * Ends the server's side now and destroys the socket within closeTimeoutMs: a client that
   * neither reads nor closes must not hold the socket (and its file descriptor) any longer.
   */
  private closeSoon(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.socket.end();
    // From now on closeTimer alone bounds the connection: the idle timer would cut the last
    // answers off while a slow client is still reading them.
    this.socket.setTimeout(0);
    // Read (and drop) what still arrives, so the client's FIN or reset is noticed.
    if (this.paused) this.socket.resume();
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.limits.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** The client sent FIN: answer what it asked, then close. */
  private onEnd(): void {
    this.clientEnded = true;
    this.finishIfDone();
  }

  private onTimeout(): void {
    // A close is already due; the queue waits for the handler.
    if (this.lastQueued) return;
    if (this.writesBlocked) {
      // Complete requests may wait behind the unread answers: the client is at fault, not slow.
      this.refuse(
        new HttpRequestError(
          408,
          `the client did not read its answers for ${this.limits.keepAliveTimeoutMs} ms`,
        ),
      );
      return;
    }
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
