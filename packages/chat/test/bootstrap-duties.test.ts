// The peer against a real bootstrap server (in-process, memory store, ephemeral port) and the
// real client: crashed entries are pruned, an unreachable service falls back to the cache.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapClient } from '@isopeer/bootstrap';
import { type RunningBootstrapServer, startBootstrapServer } from '@isopeer/bootstrap/server';
import { Console, type OutputLine } from '@isopeer/console';
import { registerChatPeer } from '../src/commands/index.js';
import { createChatPeer } from '../src/peer.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-boot-'));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function makePeer(name: string, url: string, cacheFile?: string) {
  const console = new Console();
  const lines: OutputLine[] = [];
  console.on('line', (l: OutputLine) => lines.push(l));
  const peer = createChatPeer({
    name,
    console,
    bootstrap: new BootstrapClient({ url, timeoutMs: 1_000 }),
    cacheFile,
    bootstrapRetry: { attempts: 2, baseDelayMs: 20 },
  });
  registerChatPeer(peer);
  return { peer, console, lines };
}

describe('bootstrap duties against a real bootstrap server', () => {
  let server: RunningBootstrapServer;
  const made: Array<ReturnType<typeof makePeer>> = [];
  before(async () => {
    server = await startBootstrapServer({ host: '127.0.0.1', port: 0, store: 'memory' });
  });
  after(async () => {
    for (const m of made) {
      await m.peer.close();
      await m.console.close();
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a crashed bootstrap peer off the list at join and offers itself instead', async () => {
    const client = new BootstrapClient({ url: server.url });
    const deadPort = await freePort();
    await client.join({
      id: 'dead-id',
      name: 'ghost-host-00000000-0000-0000-0000-000000000000',
      ip: '127.0.0.1',
      port: String(deadPort),
      protocol: 'tcp',
      status: '0',
      timestamp: '1',
    });
    const alice = makePeer('alice', server.url, join(dir, 'alice.json'));
    made.push(alice);
    const r = await alice.console.execute('/init');
    assert.ok(r.ok, r.error);
    assert.ok(alice.lines.some((l) => /did not answer: ghost-/.test(l.text)));
    await until('ghost removed', async () => {
      const d = await client.list();
      return !d.Peers['dead-id'] && Object.values(d.Peers).some((p) => p.id === alice.peer.id);
    });
  });

  it('tells itself apart by address: a stale entry of an earlier run at its address is no way in', async () => {
    const own = await startBootstrapServer({ host: '127.0.0.1', port: 0, store: 'memory' });
    const carol = makePeer('carol', own.url);
    made.push(carol);
    try {
      for (const line of ['/memberlistconfigure', '/memberlistcreate']) {
        assert.ok((await carol.console.execute(line)).ok, line);
      }
      const local = carol.peer.requireMemberlist().localNode();
      // The same address under another id and name: this peer's previous run, not a member.
      await new BootstrapClient({ url: own.url }).join({
        id: 'earlier-run',
        name: 'carol-host-11111111-1111-4111-8111-111111111111',
        ip: local.addr,
        port: String(local.port),
        protocol: 'tcp',
        status: '0',
        timestamp: '1',
      });
      for (const line of ['/bootstrapjoin', '/memberliststart']) {
        assert.ok((await carol.console.execute(line)).ok, line);
      }
      assert.equal(Object.keys(carol.peer.bootstrapData!.Peers).length, 2);
      const r = await carol.console.execute('/memberlistjoin');
      assert.ok(r.ok, r.error);
      assert.deepEqual(
        r.lines.map((l) => l.text),
        ['no other member to join'],
      );
    } finally {
      await own.close();
    }
  });

  it('falls back to the member cache when the service is unreachable', async () => {
    const alice = made[0]!;
    const cacheFile = join(dir, 'bob.json');
    // bob met alice once (through the service) and remembers her address.
    const bob0 = makePeer('bob', server.url, cacheFile);
    assert.ok((await bob0.console.execute('/init')).ok);
    await until('bob sees alice', () => bob0.peer.members.size === 2);
    await bob0.peer.close(); // also saves the cache
    await bob0.console.close();

    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const bob = makePeer('bob', deadUrl, cacheFile);
    made.push(bob);
    await bob.peer.loadCache();
    const r = await bob.console.execute('/init');
    assert.ok(r.ok, r.error);
    assert.ok(
      bob.lines.some((l) => /bootstrap service unreachable .*using 1 cached member/.test(l.text)),
      bob.lines.map((l) => l.text).join('\n'),
    );
    await until('bob is back in the chat', () => bob.peer.members.size === 2);
    assert.ok((await bob.console.execute('/msg hello via cache')).ok);
    await until('alice gets it', () => alice.lines.some((l) => l.text === '<bob> hello via cache'));
  });
});
