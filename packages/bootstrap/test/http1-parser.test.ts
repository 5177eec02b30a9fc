// The strict HTTP/1.1 request parser on its own: framing, refusals with their status and reason,
// byte-at-a-time input, pausing, and arbitrary bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  HttpRequestError,
  headerValue,
  type ParsedRequest,
  RequestParser,
} from '../src/http1/request-parser.js';

const MAX_BODY = 64;

function parserFor(maxHeadBytes?: number) {
  const requests: ParsedRequest[] = [];
  let continues = 0;
  const parser = new RequestParser(
    { maxBodyBytes: MAX_BODY, maxHeadBytes },
    {
      onRequest: (r) => requests.push(r),
      onContinue: () => {
        continues++;
      },
    },
  );
  return { parser, requests, continues: () => continues };
}

function parseAll(text: string | Buffer, maxHeadBytes?: number): ParsedRequest[] {
  const p = parserFor(maxHeadBytes);
  p.parser.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  return p.requests;
}

function refusal(text: string, maxHeadBytes?: number): HttpRequestError {
  const p = parserFor(maxHeadBytes);
  try {
    p.parser.push(Buffer.from(text, 'latin1'));
  } catch (err) {
    assert.ok(err instanceof HttpRequestError, `unexpected ${String(err)}`);
    assert.ok(p.parser.done, 'a refusing parser ignores what follows');
    return err;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

test('a POST with Content-Length: method, path without query, headers, body, keep-alive', () => {
  const [r] = parseAll(
    'POST /join?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nAuthorization:  Bearer t  \r\n\r\nhello',
  );
  assert.equal(r.method, 'POST');
  assert.equal(r.target, '/join?x=1');
  assert.equal(r.path, '/join');
  assert.equal(r.minorVersion, 1);
  assert.equal(r.body.toString(), 'hello');
  assert.equal(r.bodyTooLarge, false);
  assert.equal(r.keepAlive, true);
  assert.equal(headerValue(r, 'authorization'), 'Bearer t');
  assert.equal(headerValue(r, 'missing'), undefined);
});

test('absolute-form targets give their path; others stay as sent', () => {
  const paths = ['http://h:1/list?a', 'HTTPS://h', '*', '/ping'].map(
    (t) => parseAll(`GET ${t} HTTP/1.1\r\nHost: h\r\n\r\n`)[0].path,
  );
  assert.deepEqual(paths, ['/list', '/', '*', '/ping']);
});

test('connection persistence follows the version and the Connection header', () => {
  const keep = (head: string) => parseAll(`${head}\r\n\r\n`)[0].keepAlive;
  assert.equal(keep('GET / HTTP/1.0'), false);
  assert.equal(keep('GET / HTTP/1.0\r\nConnection: Keep-Alive'), true);
  assert.equal(keep('GET / HTTP/1.1\r\nHost: h\r\nConnection: close'), false);
  assert.equal(keep('GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE'), false);
  assert.equal(keep('GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade'), true);
});

test('pipelined requests come out in order; a closing request ends the stream', () => {
  const rs = parseAll(
    '\r\nPOST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\nHost: h\r\n\r\n' +
      'GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: h\r\n\r\n',
  );
  assert.deepEqual(
    rs.map((r) => [r.path, r.body.toString()]),
    [
      ['/a', 'x'],
      ['/b', ''],
      ['/c', ''],
    ],
  );
});

test('chunked bodies with extensions and trailers', () => {
  const [r] = parseAll(
    'POST /join HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      '3;name=value\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n',
  );
  assert.equal(r.body.toString(), 'abc0123456789');
});

test('duplicate Content-Length values that agree are accepted', () => {
  const [r] = parseAll(
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok',
  );
  assert.equal(r.body.toString(), 'ok');
});

const refusals: Array<[string, string, number, RegExp]> = [
  ['garbage request line', 'HELLO\r\n\r\n', 400, /^malformed request line "HELLO"$/],
  ['space in target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', 400, /malformed request line/],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 505, /^HTTP\/2\.0 is not supported$/],
  ['no Host in 1.1', 'GET / HTTP/1.1\r\n\r\n', 400, /without a Host header/],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /more than one Host/],
  ['line folding', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', 400, /folding/],
  [
    'space before colon',
    'GET / HTTP/1.1\r\nHost : h\r\n\r\n',
    400,
    /malformed header line "Host : h"/,
  ],
  [
    'control in value',
    'GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n',
    400,
    /malformed header line "Host: h\\u0001"/,
  ],
  ['bare LF lines', 'GET / HTTP/1.1\nHost: h\n\n', 400, /must end in CRLF/],
  [
    'CL not digits',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5abc\r\n\r\n',
    400,
    /bad Content-Length "5abc"/,
  ],
  [
    'CL signed',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n',
    400,
    /bad Content-Length/,
  ],
  [
    'CL conflicting',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    400,
    /conflicting/,
  ],
  [
    'CL and TE',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    400,
    /both Content-Length and Transfer-Encoding/,
  ],
  [
    'TE not chunked last',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n',
    400,
    /must end in chunked/,
  ],
  [
    'TE with another coding',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
    501,
    /transfer coding "gzip" is not supported/,
  ],
  ['TE in 1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /HTTP\/1\.0/],
  [
    'bad chunk size',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    400,
    /malformed chunk size line "zz"/,
  ],
  [
    'chunk without CRLF after data',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX',
    400,
    /not followed by CRLF/,
  ],
  [
    'endless chunk size line',
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(2000)}`,
    400,
    /chunk size line is over 1024 bytes/,
  ],
  [
    'a 60 KB chunk extension arriving in one read, CRLF included',
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(60_000)}\r\na\r\n0\r\n\r\n`,
    400,
    /chunk size line is over 1024 bytes/,
  ],
  [
    'an HTTP/0.9 request line, alone',
    'GET /\r\n',
    505,
    /"GET \/" has no HTTP version \(HTTP\/0\.9\)/,
  ],
  ['an HTTP/0.9 request line with an empty line', 'GET /x\r\n\r\n', 505, /HTTP\/0\.9/],
  ['9 empty lines before a request line', '\r\n'.repeat(9), 400, /more than 8 empty lines/],
  [
    'malformed trailer',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n',
    400,
    /malformed trailer line/,
  ],
  [
    'unknown expectation',
    'POST / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n',
    417,
    /expectation "magic"/,
  ],
  [
    'head over the limit, unfinished',
    `GET / HTTP/1.1\r\nX: ${'a'.repeat(300)}`,
    431,
    /over 256 bytes/,
  ],
  ['head over the limit', `GET / HTTP/1.1\r\nX: ${'a'.repeat(300)}\r\n\r\n`, 431, /over 256 bytes/],
  // A regex trim of this line would backtrack quadratically (about 10^8 steps).
  [
    'long whitespace run',
    `GET / HTTP/1.1\r\nHost: h\r\nX:${' '.repeat(15000)}\x01\r\n\r\n`,
    400,
    /malformed header line/,
  ],
];

test('limits are configurable: chunk-size line length and empty lines before a request', () => {
  const requests: ParsedRequest[] = [];
  const parser = new RequestParser(
    { maxBodyBytes: MAX_BODY, maxChunkLineBytes: 100_000, maxEmptyLines: 20 },
    { onRequest: (r) => requests.push(r) },
  );
  parser.push(
    Buffer.from(
      `${'\r\n'.repeat(20)}POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(60_000)}\r\na\r\n0\r\n\r\n`,
      'latin1',
    ),
  );
  assert.equal(requests.length, 1);
  assert.equal(requests[0].body.toString(), 'a');
  // Up to the default bound, empty lines between requests are ignored.
  assert.equal(
    parseAll(
      `\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n${'\r\n'.repeat(8)}GET /2 HTTP/1.1\r\nHost: h\r\n\r\n`,
    ).length,
    2,
  );
});

for (const [name, text, status, message] of refusals) {
  test(`refused: ${name} → ${status}`, () => {
    const err = refusal(text, name.startsWith('head over') ? 256 : undefined);
    assert.equal(err.status, status);
    assert.match(err.message, message);
    assert.match(err.message, /^[^\n]+$/);
  });
}

test('a body over the limit yields one request marked too large and ends the stream', () => {
  for (const text of [
    `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`,
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n${'a'.repeat(32)}\r\n21\r\n`,
  ]) {
    const p = parserFor();
    p.parser.push(Buffer.from(text));
    p.parser.push(Buffer.from('GET /next HTTP/1.1\r\nHost: h\r\n\r\n'));
    assert.equal(p.requests.length, 1);
    assert.equal(p.requests[0].bodyTooLarge, true);
    assert.equal(p.requests[0].keepAlive, false);
    assert.equal(p.requests[0].body.length, 0);
    assert.ok(p.parser.done);
  }
});

test('Expect: 100-continue is signalled only while the body is still to come', () => {
  const head = 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n';
  const waiting = parserFor();
  waiting.parser.push(Buffer.from(head));
  assert.equal(waiting.continues(), 1);
  assert.equal(waiting.requests.length, 0);
  waiting.parser.push(Buffer.from('ok'));
  assert.equal(waiting.requests[0].body.toString(), 'ok');
  const eager = parserFor();
  eager.parser.push(Buffer.from(`${head}ok`));
  assert.equal(eager.continues(), 0);
  assert.equal(eager.requests.length, 1);
});

test('inMessage tells a partial request from an idle stream; pause holds requests back', () => {
  const p = parserFor();
  assert.equal(p.parser.inMessage, false);
  p.parser.push(Buffer.from('GET / HTTP/1.1\r\nHo'));
  assert.equal(p.parser.inMessage, true);
  p.parser.pause();
  p.parser.push(Buffer.from('st: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.equal(p.requests.length, 0);
  p.parser.resume();
  assert.deepEqual(
    p.requests.map((r) => r.path),
    ['/', '/2'],
  );
  assert.equal(p.parser.inMessage, false);
});

// Valid requests, to check that splitting the bytes anywhere changes nothing.
interface GenRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array;
  chunked: boolean;
}
const tokenArb = fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/);
const requestArb: fc.Arbitrary<GenRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  path: fc.stringMatching(/^\/[a-z0-9?=&]{0,12}$/),
  headers: fc.array(fc.tuple(tokenArb, fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 4 }),
  body: fc.uint8Array({ maxLength: MAX_BODY }),
  chunked: fc.boolean(),
});

/** Headers `encode` writes itself (framing, Host), so generated ones of those names are dropped. */
const WRITTEN_BY_ENCODE = /^(host|content-length|transfer-encoding|connection|expect)$/i;

function encode(r: GenRequest): Buffer {
  const extra = r.headers
    .filter(([name]) => !WRITTEN_BY_ENCODE.test(name))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const framing = r.chunked
    ? 'Transfer-Encoding: chunked\r\n'
    : `Content-Length: ${r.body.length}\r\n`;
  const head = Buffer.from(
    `${r.method} ${r.path} HTTP/1.1\r\nHost: h\r\n${extra}${framing}\r\n`,
    'latin1',
  );
  if (!r.chunked) return Buffer.concat([head, Buffer.from(r.body)]);
  const parts: Buffer[] = [head];
  for (let i = 0; i < r.body.length; i += 7) {
    const piece = r.body.subarray(i, i + 7);
    parts.push(
      Buffer.from(`${piece.length.toString(16)}\r\n`),
      Buffer.from(piece),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

test('any split of a pipelined stream into pieces yields the same requests', () => {
  fc.assert(
    fc.property(
      fc.array(requestArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (reqs, cuts) => {
        const stream = Buffer.concat(reqs.map(encode));
        const whole = parseAll(stream);
        const p = parserFor();
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const at of [...points, stream.length]) {
          p.parser.push(stream.subarray(from, at));
          from = at;
        }
        assert.equal(whole.length, reqs.length);
        assert.deepEqual(
          p.requests.map((r) => [r.method, r.path, r.body.toString('hex')]),
          whole.map((r) => [r.method, r.path, r.body.toString('hex')]),
        );
        for (let i = 0; i < reqs.length; i++) {
          assert.equal(whole[i].body.toString('hex'), Buffer.from(reqs[i].body).toString('hex'));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('every valid request is accepted with its method, target, path, headers and body', () => {
  fc.assert(
    fc.property(fc.array(requestArb, { minLength: 1, maxLength: 4 }), (reqs) => {
      const got = parseAll(Buffer.concat(reqs.map(encode)));
      assert.equal(got.length, reqs.length);
      reqs.forEach((r, i) => {
        const extra = r.headers
          .filter(([name]) => !WRITTEN_BY_ENCODE.test(name))
          .flatMap(([name, value]) => [name.toLowerCase(), value.replace(/^ +| +$/g, '')]);
        const framing = r.chunked
          ? ['transfer-encoding', 'chunked']
          : ['content-length', String(r.body.length)];
        assert.deepEqual(
          { ...got[i], body: got[i].body.toString('hex') },
          {
            method: r.method,
            target: r.path,
            path: r.path.split('?')[0],
            minorVersion: 1,
            headers: ['host', 'h', ...extra, ...framing],
            body: Buffer.from(r.body).toString('hex'),
            bodyTooLarge: false,
            keepAlive: true,
          },
        );
      });
    }),
    { numRuns: 500 },
  );
});

test('arbitrary and mutated bytes give requests or an HttpRequestError, nothing else', () => {
  const mutated = fc
    .tuple(
      requestArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    )
    .map(([r, flips]) => {
      const b = Buffer.from(encode(r));
      for (const [at, v] of flips) b[at % b.length] = v;
      return b;
    });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
        mutated,
      ),
      (bytes) => {
        const p = parserFor(512);
        try {
          p.parser.push(bytes);
        } catch (err) {
          assert.ok(err instanceof HttpRequestError, `unexpected ${String(err)}`);
          assert.match(err.message, /^[^\n]+$/);
        }
        for (const r of p.requests) assert.ok(r.body.length <= MAX_BODY);
      },
    ),
    { numRuns: 3000 },
  );
});
