import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchHandler } from './handler.js';

/** Largest request body accepted; test documents are small. */
export const MAX_BODY_BYTES = 1 << 20;

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
  opts: { host?: string; port?: number },
): Promise<ServedHandler> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void adapt(handler, req, res, host);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
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
  host: string,
) {
  const aborter = new AbortController();
  res.on('close', () => aborter.abort());
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`body larger than ${MAX_BODY_BYTES} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host ?? host}${req.url ?? '/'}`, {
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

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}
