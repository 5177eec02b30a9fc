import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  ChatListener,
  pingChatListener,
  type ReceivedLine,
  sendChatLine,
} from '../src/chat-transport.js';
import { ChatError } from '../src/errors.js';

let listener: ChatListener | undefined;
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

async function start(opts?: ConstructorParameters<typeof ChatListener>[0]): Promise<string> {
  listener = new ChatListener(opts);
  const { host, port } = await listener.listen('127.0.0.1', 0);
  return `${host}:${port}`;
}

function rawConnect(addr: string): Promise<net.Socket> {
  const [host, port] = addr.split(':');
  const s = net.connect({ host, port: Number(port) });
  s.on('error', () => {});
  return once(s, 'connect').then(() => s);
}

describe('chat listener and sender', () => {
  it('delivers one line per connection as is', async () => {
    const addr = await start();
    const got = once(listener!, 'line') as Promise<[ReceivedLine]>;
    await sendChatLine(addr, '<bob> hello <there> & ünï');
    const [line] = await got;
    assert.equal(line.text, '<bob> hello <there> & ünï');
    assert.match(line.remote, /^127\.0\.0\.1:\d+$/);
  });

  it('treats an empty connection as a reachability ping', async () => {
    const addr = await start();
    const pinged = once(listener!, 'ping');
    const before = performance.now();
    const rtt = await pingChatListener(addr);
    const elapsed = performance.now() - before;
    await pinged;
    // A round trip takes some time, and no more than the call that measured it.
    assert.ok(rtt > 0 && rtt <= elapsed, `rtt ${rtt} ms within the call's ${elapsed} ms`);
  });

  it('measures the round trip up to the listener closing the connection', async () => {
    // A listener that holds each connection for 150 ms before closing it: the ping's time must
    // include that wait, so a time taken at connect or at write would fail here.
    const holdMs = 150;
    // allowHalfOpen: the sender's FIN must not close our side at once.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => setTimeout(() => s.end(), holdMs));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    try {
      const before = performance.now();
      const rtt = await pingChatListener(`127.0.0.1:${port}`);
      const elapsed = performance.now() - before;
      // Timers may fire up to a millisecond early against performance.now().
      assert.ok(rtt >= holdMs - 1, `rtt ${rtt} ms includes the ${holdMs} ms hold`);
      assert.ok(rtt <= elapsed, `rtt ${rtt} ms within the call's ${elapsed} ms`);
    } finally {
      server.close();
    }
  });

  it('shows a last line without newline and ignores bytes after the first line', async () => {
    const addr = await start();
    const lines: string[] = [];
    listener!.on('line', (l) => lines.push(l.text));
    const s = await rawConnect(addr);
    s.end('no newline');
    const s2 = await rawConnect(addr);
    s2.end('first\r\nsecond\n');
    while (lines.length < 2) await once(listener!, 'line');
    assert.deepEqual(lines.sort(), ['first', 'no newline']);
  });

  it('cuts off over-long lines, binary floods and slow-drip clients without showing them', async () => {
    const addr = await start({ maxLineBytes: 1024, connectionTimeoutMs: 300 });
    const lines: string[] = [];
    const reasons: string[] = [];
    listener!.on('line', (l) => lines.push(l.text));
    listener!.on('rejected', (r) => reasons.push(r.reason));

    const flood = await rawConnect(addr);
    flood.write(Buffer.alloc(64 * 1024, 0xff)); // binary, no newline, far over the cap
    const slow = await rawConnect(addr);
    slow.write('<slow> a'); // then nothing: the deadline must close it
    const closed = once(slow, 'close');
    while (reasons.length < 2) await once(listener!, 'rejected');
    await closed;
    assert.ok(
      reasons.some((r) => /longer than 1024/.test(r)),
      reasons.join(),
    );
    assert.ok(
      reasons.some((r) => /within 300 ms/.test(r)),
      reasons.join(),
    );
    assert.deepEqual(lines, []);

    // Still serving after the garbage.
    const ok = once(listener!, 'line') as Promise<[ReceivedLine]>;
    await sendChatLine(addr, '<alice> still here');
    assert.equal((await ok)[0].text, '<alice> still here');
  });

  it('decodes invalid UTF-8 as replacement characters', async () => {
    const addr = await start();
    const got = once(listener!, 'line') as Promise<[ReceivedLine]>;
    const s = await rawConnect(addr);
    s.end(Buffer.from([0x3c, 0x78, 0x3e, 0x20, 0xff, 0xfe, 0x0a]));
    assert.equal((await got)[0].text, '<x> \ufffd\ufffd');
  });

  it('refuses connections beyond the limit', async () => {
    const addr = await start({ maxConnections: 2, connectionTimeoutMs: 5_000 });
    const held = [await rawConnect(addr), await rawConnect(addr)];
    const rejected = once(listener!, 'rejected');
    await rawConnect(addr);
    assert.match((await rejected)[0].reason, /too many/);
    for (const s of held) s.destroy();
  });

  it('reports an unreachable member with a typed error', async () => {
    const addr = await start();
    await listener!.close();
    listener = undefined;
    await assert.rejects(
      sendChatLine(addr, 'x'),
      (e: unknown) => e instanceof ChatError && e.code === 'CHAT_NETWORK',
    );
    await assert.rejects(
      sendChatLine('nonsense', 'x'),
      (e: unknown) => (e as ChatError).code === 'CHAT_ARGS',
    );
  });

  it('refuses to listen twice', async () => {
    await start();
    await assert.rejects(
      listener!.listen(),
      (e: unknown) => (e as ChatError).code === 'CHAT_STATE',
    );
  });
});
