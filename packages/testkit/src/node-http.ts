import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchHandler } from './handler.js';

/** Largest request body accepted by default; test documents are small. */
export const MAX_BODY_BYTES = 1 << 20;
/** Open connections served at once by default: a few per peer (long-poll, reports) is plenty. */
export const MAX_CONNECTIONS = 512;

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Largest request body; larger ones get 413. Default `MAX_BODY_BYTES` (1 MiB). */
  maxBodyBytes?: number;
  /** Connections beyond this many open ones are closed at once. Default `MAX_CONNECTIONS`. */
  maxConnections?: number;
}

export interface ServedHandler {
  url: string;
  host: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves a fetch-style handler with Node's `http` module: builds a Request (with an abort
 * signal that fires when the client goes away, which ends long-polls), writes the Response.
 */
export async function serveHandler(
  handler: FetchHandler,
  opts: ServeOptions,
): Promise<ServedHandler> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    void adapt(handler, req, res, origin, maxBody);
  });
  server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
  // Set once listening; requests cannot arrive before.
  let origin = '';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  origin = `http://${urlHost}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: origin,
    host,
    port,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long-polls and keep-alive sockets would hold close() open; their run is over.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function adapt(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
  maxBody: number,
) {
  const aborter = new AbortController();
  res.on('close', () => aborter.abort());
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody) {
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`body larger than ${maxBody} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    // The route comes from the request target alone: the Host header is the client's to choose
    // (`Host: x/init?` once turned `/getrun` into `/init`), so it never enters the URL.
    const request = new Request(origin + targetPath(req.url ?? '/'), {
      method: req.method,
      headers: headersOf(req),
      body: hasBody ? Buffer.concat(chunks) : undefined,
      signal: aborter.signal,
    });
    const response = await handler(request);
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      headers[k] = v;
    });
    res.writeHead(response.status, headers);
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (err) {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`bad request: ${(err as Error).message.split('\n')[0]}\n`);
  }
}

/**
 * Path and query of a request target: origin-form (`/init?x`) as sent, absolute-form
 * (`http://host/init`) reduced to its path and query; anything else is refused.
 */
export function targetPath(target: string): string {
  if (target.startsWith('/')) return target;
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    return u.pathname + u.search;
  }
  throw new Error(`request target ${JSON.stringify(target.slice(0, 80))} is not a path`);
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}
