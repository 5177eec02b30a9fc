// The HTTP/1.1 server over real loopback sockets: persistence, pipelining order, flow control,
// Expect: 100-continue, refusals, timeouts, half-close and shutdown; and real clients (fetch,
// node:http, curl) against it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { skipIfMissing } from '@isopeer/test-support';
import type { ParsedRequest } from '../src/http1/request-parser.js';
import type { ServiceResponse } from '../src/response.js';
import { deferred, echo, GET, RawClient, serve, text } from './http1-fixtures.js';

test('keep-alive: several requests on one connection, with Date and Keep-Alive headers', async () => {
  const { port } = await serve(echo);
  const c = await RawClient.connect(port);
  for (const path of ['/a', '/b', '/c']) {
    c.send(GET(path));
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.body, `GET ${path} `);
    assert.equal(r.headers.connection, 'keep-alive');
    assert.equal(r.headers['keep-alive'], 'timeout=5');
    assert.match(r.headers.date, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.equal(r.headers['content-type'], 'text/plain');
  }
  assert.equal(c.closed, false);
  c.socket.destroy();
});

test('pipelined requests are answered in request order even when the first is slowest', async () => {
  const first = deferred<ServiceResponse>();
  const { port } = await serve((req) => (req.path === '/slow' ? first.promise : echo(req)));
  const c = await RawClient.connect(port);
  c.send(GET('/slow') + GET('/fast1') + GET('/fast2'));
  // The fast answers are ready but must wait behind the slow one.
  await new Promise((r) => setImmediate(r));
  assert.equal(c.pending, '');
  first.resolve(text('slow'));
  assert.equal((await c.response()).body, 'slow');
  assert.equal((await c.response()).body, 'GET /fast1 ');
  assert.equal((await c.response()).body, 'GET /fast2 ');
  c.socket.destroy();
});

test('no more than maxPipelined requests of one connection are in the handler at once', async () => {
  let inHandler = 0;
  let most = 0;
  const waiting: Array<() => void> = [];
  const { port } = await serve(
    async (req) => {
      inHandler++;
      most = Math.max(most, inHandler);
      await new Promise<void>((r) => waiting.push(r));
      inHandler--;
      return echo(req);
    },
    { maxPipelined: 3 },
  );
  const c = await RawClient.connect(port);
  c.send(Array.from({ length: 12 }, (_, i) => GET(`/${i}`)).join(''));
  const answers: string[] = [];
  while (answers.length < 12) {
    // Release whatever is waiting, then collect what that answered.
    const deadline = Date.now() + 5000;
    while (waiting.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    for (const release of waiting.splice(0)) release();
    const r = await c.response();
    answers.push(r.body);
  }
  assert.deepEqual(
    answers,
    Array.from({ length: 12 }, (_, i) => `GET /${i} `),
  );
  assert.ok(most <= 3, `at most 3 in the handler at once, saw ${most}`);
  assert.ok(most >= 2, `pipelining was used (saw ${most})`);
  c.socket.destroy();
});

test('answers done at once but waiting behind a slow one count towards maxPipelined', async () => {
  const slow = deferred<ServiceResponse>();
  let calls = 0;
  const { port } = await serve(
    (req) => {
      calls++;
      return req.path === '/slow' ? slow.promise : echo(req);
    },
    { maxPipelined: 3 },
  );
  const c = await RawClient.connect(port);
  c.send(GET('/slow') + Array.from({ length: 20 }, (_, i) => GET(`/${i}`)).join(''));
  const deadline = Date.now() + 5000;
  while (calls < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // Give the server every chance to read on: it must not while three answers wait.
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 3);
  slow.resolve(text('slow'));
  assert.equal((await c.response()).body, 'slow');
  for (let i = 0; i < 20; i++) assert.equal((await c.response()).body, `GET /${i} `);
  assert.equal(calls, 21);
  c.socket.destroy();
});

test('HTTP/1.0 and Connection: close get Connection: close and the socket is closed', async () => {
  const { port } = await serve(echo);
  for (const req of ['GET /x HTTP/1.0\r\n\r\n', GET('/x', 'Connection: close\r\n')]) {
    const c = await RawClient.connect(port);
    c.send(req);
    const r = await c.response();
    assert.equal(r.headers.connection, 'close');
    await c.closedByServer();
  }
  const keep = await RawClient.connect(port);
  keep.send('GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.equal((await keep.response()).headers.connection, 'keep-alive');
  keep.socket.destroy();
});

test('Expect: 100-continue gets an interim 100 before the body is sent', async () => {
  const { port } = await serve(echo);
  const c = await RawClient.connect(port);
  c.send('POST /join HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  const interim = await c.response(true);
  assert.equal(interim.status, 100);
  c.send('body');
  const r = await c.response();
  assert.equal(r.body, 'POST /join body');
  c.socket.destroy();
});

test('a malformed request gets its status and reason, is logged, and the connection closes', async () => {
  const { port, errors } = await serve(echo);
  const c = await RawClient.connect(port);
  c.send(GET('/ok'));
  c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.equal((await c.response()).body, 'GET /ok ');
  const r = await c.response();
  assert.equal(r.status, 400);
  assert.equal(r.body, 'both Content-Length and Transfer-Encoding are set\n');
  assert.equal(r.headers.connection, 'close');
  await c.closedByServer();
  assert.deepEqual(
    errors.map((e) => [e.status, e.message]),
    [[400, 'both Content-Length and Transfer-Encoding are set']],
  );
});

test('a body over the limit reaches the handler as too large without being read; the connection closes', async () => {
  const { port } = await serve(echo);
  const c = await RawClient.connect(port);
  // The body is announced but never sent: the answer must not wait for it.
  c.send('POST /join HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial');
  const r = await c.response();
  assert.equal(r.body, 'POST /join  (too large)');
  assert.equal(r.headers.connection, 'close');
  await c.closedByServer();
});

test('a client that half-closes after its request still gets the answer', async () => {
  const { port } = await serve(async (req) => {
    await new Promise((r) => setTimeout(r, 20));
    return echo(req);
  });
  const c = await RawClient.connect(port);
  c.socket.end(GET('/bye'));
  assert.equal((await c.response()).body, 'GET /bye ');
  await c.closedByServer();
});

test('HEAD answers carry Content-Length but no body', async () => {
  const { port } = await serve((req) => text(req.method === 'HEAD' ? 'twelve bytes' : 'x'));
  const c = await RawClient.connect(port);
  c.send(`HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n${GET('/after')}`);
  const head = await c.response(true);
  assert.equal(head.headers['content-length'], '12');
  assert.equal((await c.response()).body, 'x');
  c.socket.destroy();
});

test('a handler that throws, rejects or sets a header with CR/LF gets a 500; the connection stays usable', async () => {
  const { port } = await serve((req) => {
    if (req.path === '/throw') throw new Error('boom');
    if (req.path === '/reject') return Promise.reject(new Error('later boom'));
    if (req.path === '/inject')
      return { ...text('x'), headers: { 'x-a': 'b\r\nSet-Cookie: evil' } };
    return echo(req);
  });
  const c = await RawClient.connect(port);
  c.send(GET('/throw') + GET('/reject') + GET('/inject') + GET('/fine'));
  const got = [await c.response(), await c.response(), await c.response(), await c.response()];
  assert.deepEqual(
    got.map((r) => [r.status, r.body.trim()]),
    [
      [500, 'internal error: boom'],
      [500, 'internal error: later boom'],
      [500, 'internal error: header "x-a" contains CR or LF'],
      [200, 'GET /fine'],
    ],
  );
  assert.equal(got[2].headers['set-cookie'], undefined);
  c.socket.destroy();
});

test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
  const { port } = await serve(echo, { keepAliveTimeoutMs: 150 });
  const c = await RawClient.connect(port);
  c.send(GET('/x'));
  assert.equal((await c.response()).headers['keep-alive'], 'timeout=1');
  await c.closedByServer();
});

test('a request that does not complete in time gets 408 and the connection closes', async () => {
  const { port, errors } = await serve(echo, { keepAliveTimeoutMs: 100, requestTimeoutMs: 300 });
  const c = await RawClient.connect(port);
  c.send('GET /slow HTTP/1.1\r\nHo');
  const r = await c.response();
  assert.equal(r.status, 408);
  assert.equal(r.body, 'request not complete within 300 ms\n');
  await c.closedByServer();
  assert.equal(errors[0].status, 408);
});

test('close(): idle connections end at once, a busy one gets its answer with Connection: close', async () => {
  const slow = deferred<ServiceResponse>();
  const arrived = deferred<void>();
  const { port, stop } = await serve((req) => {
    if (req.path !== '/slow') return echo(req);
    arrived.resolve();
    return slow.promise;
  });
  const idle = await RawClient.connect(port);
  idle.send(GET('/x'));
  await idle.response();
  const busy = await RawClient.connect(port);
  busy.send(GET('/slow'));
  await arrived.promise;
  const stopped = stop();
  await idle.closedByServer();
  slow.resolve(text('done'));
  const r = await busy.response();
  assert.equal(r.body, 'done');
  assert.equal(r.headers.connection, 'close');
  await busy.closedByServer();
  await stopped;
});

test('a handler may answer with any thenable, e.g. a promise of another realm', async () => {
  // A promise of another realm (a vm context): `instanceof Promise` is false for it here.
  const thenable = () =>
    runInNewContext('new Promise((resolve) => setImmediate(() => resolve(answer)))', {
      setImmediate,
      answer: text('from a thenable'),
    }) as PromiseLike<ServiceResponse>;
  assert.equal(thenable() instanceof Promise, false);
  const { port } = await serve(thenable);
  const c = await RawClient.connect(port);
  c.send(GET('/t'));
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body, 'from a thenable');
  c.socket.destroy();
});

test('real clients: fetch, and node:http with a chunked body', async () => {
  const seen: ParsedRequest[] = [];
  const { port } = await serve((req) => {
    seen.push(req);
    return echo(req);
  });
  const url = `http://127.0.0.1:${port}`;
  const f = await fetch(`${url}/join?q`, { method: 'POST', body: 'from fetch' });
  assert.equal(await f.text(), 'POST /join from fetch');

  const viaHttp = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(`${url}/refill`, { method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.write('in ');
    req.end('chunks');
  });
  assert.equal(viaHttp, 'POST /refill in chunks');
  assert.equal(seen[1].headers.includes('transfer-encoding'), true, 'node:http sent it chunked');
});

test('real client: curl with Expect: 100-continue', async (t) => {
  const { port } = await serve(echo);
  const curl = await new Promise<{ out: string; missing: boolean }>((resolve) => {
    execFile(
      'curl',
      [
        '-s',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        'from curl',
        `http://127.0.0.1:${port}/leave`,
      ],
      (err, out) =>
        resolve({ out, missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' }),
    );
  });
  if (skipIfMissing(t, curl.missing ? 'curl is not installed (apt-get install curl)' : null)) {
    return;
  }
  assert.equal(curl.out, 'POST /leave from curl');
});
