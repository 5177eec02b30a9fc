/*
 * Shared by the HTTP/1.1 server tests: a server on a kernel-chosen loopback port that is closed
 * after the file's tests, simple handlers, and a raw socket client that reads answers one by one
 * with deadlines.
 */
import { connect, type Socket } from 'node:net';
import { after } from 'node:test';
import type { HttpRequestError } from '../src/http1/request-parser.js';
import {
  createHttp1Server,
  type Http1Handler,
  type Http1ServerOptions,
} from '../src/http1/server.js';
import type { ServiceResponse } from '../src/response.js';

const running: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of running) await stop();
});

export async function serve(handler: Http1Handler, opts: Partial<Http1ServerOptions> = {}) {
  const errors: HttpRequestError[] = [];
  const server = createHttp1Server({
    maxBodyBytes: 64,
    onRequestError: (e) => errors.push(e),
    ...opts,
    handler,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= server.close(100);
    return stopped;
  };
  running.push(stop);
  return { port, errors, stop, server };
}

export const text = (body: string, status = 200): ServiceResponse => ({
  status,
  contentType: 'text/plain',
  body,
});

export const echo: Http1Handler = (req) =>
  text(`${req.method} ${req.path} ${req.body.toString()}${req.bodyTooLarge ? ' (too large)' : ''}`);

export function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A socket that sends raw bytes and reads responses one by one, with deadlines. */
export class RawClient {
  private data = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(bytes: string): void {
    this.socket.write(Buffer.from(bytes, 'latin1'));
  }

  private async until<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${what}; have ${JSON.stringify(this.data.toString('latin1'))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next complete response; `noBody` for answers to HEAD. */
  response(noBody = false): Promise<RawResponse> {
    return this.until('a response', () => {
      const end = this.data.indexOf('\r\n\r\n');
      if (end === -1) return undefined;
      const [statusLine, ...lines] = this.data.toString('latin1', 0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = noBody ? 0 : Number(headers['content-length'] ?? 0);
      if (this.data.length < end + 4 + length) return undefined;
      const body = this.data.toString('utf8', end + 4, end + 4 + length);
      this.data = this.data.subarray(end + 4 + length);
      return { status: Number(statusLine.split(' ')[1]), headers, body };
    });
  }

  /** Resolves when the server has closed the connection. */
  closedByServer(ms = 5000): Promise<true> {
    return this.until('the connection to close', () => (this.closed ? true : undefined), ms);
  }

  get pending(): string {
    return this.data.toString('latin1');
  }
}

export const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
