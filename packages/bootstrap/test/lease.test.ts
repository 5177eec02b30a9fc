// The lease with a controlled clock, through the Node adapter and a real socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBootstrapServer } from '../src/adapter/node.js';
import { parseDocument } from '../src/codec.js';
import { MemoryStore } from '../src/stores/memory.js';
import { line, peer, raw } from './conformance.js';

test('a repeated join or refill renews the lease; others expire after the TTL', async () => {
  let now = 1_000_000;
  const server = await startBootstrapServer({
    port: 0,
    store: new MemoryStore({ peerTtlMs: 10_000 }),
    now: () => now,
  });
  try {
    const ids = async () => Object.keys(parseDocument((await raw(server.url, '/list')).text).Peers);
    await raw(server.url, '/join', line(peer('a')));
    await raw(server.url, '/join', line(peer('b')));
    now += 6_000;
    await raw(server.url, '/join', line(peer('a'))); // full, but renews a's lease
    await raw(server.url, '/refill', line(peer('b'))); // stored: changes nothing, renews b
    now += 6_000;
    assert.deepEqual((await ids()).sort(), ['a', 'b']);
    now += 4_001;
    assert.deepEqual(await ids(), [], 'both leases ran out 10 s after their renewal');
    const d = parseDocument((await raw(server.url, '/join', line(peer('c')))).text);
    assert.deepEqual(Object.keys(d.Peers), ['c']);
    assert.equal(d.Config.numpeers, 1);
  } finally {
    await server.close();
  }
});
