// Untrusted bytes against a real server process: bodies on every endpoint and raw TCP garbage.
// Never a 500, never a crash, and a refused request leaves the state as it was.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import {
  BootstrapProtocolError,
  decodeBody,
  formatDocument,
  MAX_BODY_BYTES,
  parseConfigLine,
  parseDocument,
  parseLeaveLine,
  parsePeerLine,
} from '../src/codec.js';
import { applyOp, type BootstrapOp } from '../src/semantics.js';
import { type CliServer, startCliServer } from './cli-server.js';
import { line, peer, raw } from './conformance.js';

let server: CliServer;
before(async () => {
  server = await startCliServer(['--store', 'memory']);
  await raw(server.url, '/config', '3 2');
  await raw(server.url, '/join', line(peer('keep')));
});
after(async () => {
  await server.stop();
});

/** What the protocol says a body means on a path, or the parser's refusal. */
function expectedOp(path: string, bytes: Uint8Array): BootstrapOp | BootstrapProtocolError {
  try {
    if (bytes.length > MAX_BODY_BYTES) decodeBody(bytes); // throws: every endpoint refuses it
    if (path === '/list') return { kind: 'list' };
    if (path === '/reset') return { kind: 'reset' };
    const body = decodeBody(bytes);
    if (path === '/join') return { kind: 'join', peer: parsePeerLine(body) };
    if (path === '/refill') return { kind: 'refill', peer: parsePeerLine(body) };
    if (path === '/leave') return { kind: 'leave', id: parseLeaveLine(body) };
    const c = parseConfigLine(body);
    return { kind: 'config', ...c };
  } catch (err) {
    if (err instanceof BootstrapProtocolError) return err;
    throw err;
  }
}

// Bytes that are mostly plausible: random fields, separators, digits, controls, invalid UTF-8.
const bodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom('a', 'tcp', 'udp', '0', '80', '65536', '-1', '', '\n', '\u0000', 'é'),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 9 },
    )
    .map((t) => new TextEncoder().encode(t.join(' '))),
  fc.uint8Array({ minLength: 4090, maxLength: 4200 }),
);

for (const path of ['/join', '/refill', '/leave', '/config', '/list', '/reset']) {
  test(`${path}: random bodies never give a 500; refusals leave the state unchanged`, async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, async (bytes) => {
        const before = parseDocument((await raw(server.url, '/list')).text);
        const r = await raw(server.url, path, bytes);
        const expected = expectedOp(path, bytes);
        const after = (await raw(server.url, '/list')).text.replace(/\n$/, '');
        if (expected instanceof BootstrapProtocolError) {
          assert.equal(r.status, 400, r.text);
          assert.equal(r.text, `${expected.message}\n`);
          assert.equal(after, formatDocument(before));
        } else {
          assert.equal(r.status, 200, r.text);
          assert.equal(after, formatDocument(applyOp(before, expected)));
        }
        // Keep the state small and known for the next run.
        if (path === '/config' || path === '/reset') await raw(server.url, '/config', '3 2');
      }),
      { numRuns: 60, endOnFailure: true },
    );
  });
}

test('raw TCP garbage never takes the server down', async () => {
  const { port } = server;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.string().map((s) => new TextEncoder().encode(`POST /join HTTP/1.1\r\n${s}\r\n\r\n`)),
      ),
      async (bytes) => {
        await new Promise<void>((resolve) => {
          const sock = net.connect(port, '127.0.0.1', () => sock.end(bytes));
          sock.on('data', () => {});
          sock.on('error', () => resolve());
          sock.on('close', () => resolve());
          sock.setTimeout(2000, () => sock.destroy());
        });
      },
    ),
    { numRuns: 60, endOnFailure: true },
  );
  const r = await raw(server.url, '/ping');
  assert.equal(r.text, 'OK');
});
