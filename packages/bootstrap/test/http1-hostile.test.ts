// The HTTP/1.1 server against hostile or careless clients (issue "hostile input"): every applied
// request is answered, no connection is held open forever, and refusals say what happened.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { Http1Handler } from '../src/http1/server.js';
import type { ServiceResponse } from '../src/response.js';
import { deferred, GET, RawClient, serve, text } from './http1-fixtures.js';

const POST = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

/** A handler that answers through a promise (as a store does) and records what it applied. */
function applying() {
  const applied: string[] = [];
  const handler: Http1Handler = (req) => {
    applied.push(req.body.toString());
    return Promise.resolve(text(`applied ${req.body.toString()}`));
  };
  return { applied, handler };
}

/** Waits for a condition with a deadline (no fixed sleeps). */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('F1: pipelined requests before a Connection: close are all answered, in order', async () => {
  const { applied, handler } = applying();
  const { port } = await serve(handler);
  const c = await RawClient.connect(port);
  let bytes = '';
  for (let i = 0; i < 10; i++)
    bytes += POST('/join', `p${i}`, i === 9 ? 'Connection: close\r\n' : '');
  c.send(bytes);
  for (let i = 0; i < 10; i++) {
    const r = await c.response();
    assert.equal(r.body, `applied p${i}`);
    assert.equal(r.headers.connection, i === 9 ? 'close' : 'keep-alive', `answer ${i}`);
  }
  await c.closedByServer();
  assert.equal(applied.length, 10);
});

test('F1: requests after a Connection: close request are not applied', async () => {
  const { applied, handler } = applying();
  const { port } = await serve(handler);
  const c = await RawClient.connect(port);
  c.send(POST('/a', 'a') + POST('/b', 'b', 'Connection: close\r\n') + POST('/c', 'c'));
  assert.equal((await c.response()).body, 'applied a');
  const last = await c.response();
  assert.equal(last.body, 'applied b');
  assert.equal(last.headers.connection, 'close');
  await c.closedByServer();
  assert.equal(c.pending, '', 'nothing after the closing answer');
  assert.deepEqual(applied, ['a', 'b']);
});

test('F1: 100 pipelined requests then a half-close: 100 applied, 100 answered', async () => {
  // Answers take a few ms (as a store's do), so the client's FIN arrives while they are pending.
  const applied: string[] = [];
  const { port } = await serve(
    (req) => {
      applied.push(req.body.toString());
      return new Promise<ServiceResponse>((resolve) =>
        setTimeout(() => resolve(text(`applied ${req.body.toString()}`)), 5),
      );
    },
    { maxPipelined: 64 },
  );
  const c = await RawClient.connect(port);
  let bytes = '';
  for (let i = 0; i < 100; i++) bytes += POST('/join', `p${i}`);
  c.send(bytes);
  c.socket.end();
  for (let i = 0; i < 100; i++) assert.equal((await c.response()).body, `applied p${i}`);
  await c.closedByServer();
  assert.equal(applied.length, 100);
});

test('F1: at graceful shutdown requests already read are answered, unread ones not applied', async () => {
  const gate = deferred<void>();
  let started = 0;
  const { port, stop } = await serve(
    async (req) => {
      started++;
      await gate.promise;
      return text(`done ${req.body.toString()}`);
    },
    { maxPipelined: 50 },
  );
  const c = await RawClient.connect(port);
  let bytes = '';
  for (let i = 0; i < 80; i++) bytes += POST('/join', `p${i}`);
  c.send(bytes);
  await until('50 requests in the handler', () => started === 50);
  const stopped = stop();
  gate.resolve();
  for (let i = 0; i < 50; i++) {
    const r = await c.response();
    assert.equal(r.body, `done p${i}`);
    assert.equal(r.headers.connection, i === 49 ? 'close' : 'keep-alive', `answer ${i}`);
  }
  await c.closedByServer();
  await stopped;
  assert.equal(started, 50, 'the 30 requests not yet read were not applied');
});

test('F4: a slow CRLF drip gets 408 at the request timeout, a fast one 400 past the bound', async () => {
  // The idle timeout is long so that only the request clock can end this connection (a short
  // one could close a fresh connection on a loaded machine before its first CRLF arrives).
  const slow = await serve(() => text('x'), {
    keepAliveTimeoutMs: 2000,
    requestTimeoutMs: 400,
    maxEmptyLines: 1000,
  });
  const c = await RawClient.connect(slow.port);
  const drip = setInterval(() => c.send('\r\n'), 100);
  try {
    const started = Date.now();
    const r = await c.response();
    assert.equal(r.status, 408);
    assert.equal(r.body, 'request not complete within 400 ms\n');
    assert.ok(Date.now() - started < 1900, 'ended by the request clock, not the idle timeout');
    await c.closedByServer();
  } finally {
    clearInterval(drip);
  }
  const fast = await serve(() => text('x'));
  const d = await RawClient.connect(fast.port);
  d.send('\r\n'.repeat(9));
  const r = await d.response();
  assert.equal(r.status, 400);
  assert.equal(r.body, 'more than 8 empty lines before the request line\n');
  await d.closedByServer();
  // Within the bound, empty lines before a request are still ignored (RFC 9112 §2.2).
  const e = await RawClient.connect(fast.port);
  e.send(`\r\n\r\n${GET('/ok')}`);
  assert.equal((await e.response()).body, 'x');
});

/** A client that pipelines ~3 MB of requests and does not read its answers. */
async function nonReadingClient(port: number): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => {});
  socket.pause();
  const request = GET('/big');
  socket.write(request.repeat(Math.ceil((3 * 1024 * 1024) / request.length)));
  return socket;
}

const big: ServiceResponse = text('y'.repeat(64 * 1024));

test('F5 and the 408 text: a client that never reads is told so and its socket destroyed in bounded time', async () => {
  // An idle timeout of a second: a shorter one may close the fresh connection on a loaded
  // machine before its first bytes are read.
  const { port, errors, server } = await serve(() => big, {
    keepAliveTimeoutMs: 1000,
    closeTimeoutMs: 500,
  });
  const socket = await nonReadingClient(port);
  await until('the server to give up on the client', () => errors.length > 0, 10_000);
  const decided = Date.now();
  assert.equal(errors[0].status, 408);
  assert.equal(errors[0].message, 'the client did not read its answers for 1000 ms');
  await until('the connection to be destroyed', () => server.connectionCount() === 0, 5000);
  assert.ok(Date.now() - decided < 2000, `destroyed ${Date.now() - decided} ms after the decision`);
  socket.destroy();
});

test('F5: a client that reads only after the 408 and then closes leaves no socket behind', async () => {
  const { port, errors, server } = await serve(() => big, {
    keepAliveTimeoutMs: 1000,
    closeTimeoutMs: 3000,
  });
  const socket = await nonReadingClient(port);
  await until('the server to give up on the client', () => errors.length > 0, 10_000);
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  socket.resume();
  await ended;
  const tail = received.subarray(-400).toString('latin1');
  assert.match(
    tail,
    /408 Request Timeout[\s\S]*the client did not read its answers for 1000 ms\n$/,
  );
  assert.doesNotMatch(received.toString('latin1'), /request not complete/);
  socket.end();
  await until('the connection to be gone', () => server.connectionCount() === 0, 2500);
});

test('an HTTP/0.9 request line is answered 505, also when the client waits or half-closes', async () => {
  const { port, errors } = await serve(() => text('x'));
  const waiting = await RawClient.connect(port);
  waiting.send('GET /\r\n');
  const r = await waiting.response();
  assert.equal(r.status, 505);
  assert.equal(r.body, 'request line "GET /" has no HTTP version (HTTP/0.9)\n');
  await waiting.closedByServer();
  const halfClosed = await RawClient.connect(port);
  halfClosed.send('GET /index.html\r\n');
  halfClosed.socket.end();
  assert.equal((await halfClosed.response()).status, 505);
  assert.deepEqual(
    errors.map((e) => e.status),
    [505, 505],
  );
});

test('a half-close in the middle of a request is answered 400, earlier requests first', async () => {
  const { port } = await serve(() => text('x'));
  const c = await RawClient.connect(port);
  c.send(`${GET('/a')}POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc`);
  c.socket.end();
  assert.equal((await c.response()).body, 'x');
  const r = await c.response();
  assert.equal(r.status, 400);
  assert.equal(r.body, 'the client closed its side before the request was complete\n');
  await c.closedByServer();
});
