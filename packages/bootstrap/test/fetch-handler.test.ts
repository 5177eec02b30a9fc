// The runtime-agnostic handler on Web Request/Response: the whole conformance suite through a
// minimal adapter that builds a Web Request per call (as Cloud Functions, Deno or Bun would),
// proving it answers exactly like the Node fast path; plus a store failure answered with 503.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBootstrapServer } from '../src/adapter/node.js';
import { createBootstrapHandler } from '../src/handler.js';
import { createFileStore } from '../src/stores/file.js';
import { MemoryStore } from '../src/stores/memory.js';
import { line, peer, raw, runConformanceSuite } from './conformance.js';

runConformanceSuite('fetch handler over Web Request/Response', async () => {
  const store = new MemoryStore();
  const handler = createBootstrapHandler({ store, adminToken: 'web-token' });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await handler(
      new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken: 'web-token',
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
    },
  };
});

test('a store that cannot write answers 503 with its reason; reads keep working', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isopeer-503-'));
  const store = await createFileStore(join(dir, 'peers.json'));
  const server = await startBootstrapServer({ port: 0, store });
  try {
    await raw(server.url, '/join', line(peer('a')));
    await rm(dir, { recursive: true, force: true }); // the disk goes away under the server
    const r = await raw(server.url, '/join', line(peer('b')));
    assert.equal(r.status, 503, r.text);
    assert.match(r.text, /^store unavailable: cannot write .*peers\.json: ENOENT.*\n$/);
    assert.equal(r.headers['retry-after'], '1');
    const listed = await raw(server.url, '/list');
    assert.equal(listed.status, 200);
    assert.match(listed.text, /"a": \{/, 'the last committed state is still served');
    assert.doesNotMatch(listed.text, /"b": \{/, 'the failed write is not visible');
  } finally {
    await server.close();
  }
});
