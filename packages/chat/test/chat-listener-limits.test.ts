/**
 * The chat listener under a connection flood (issue 12, F6): idle connections are reset within
 * the line deadline, one stranger's address gets a bounded share, a member's line always finds
 * room (a stranger's connection is closed for it, never the other way round), and every line
 * that is not read is answered with a reset, so its sender learns it was not delivered. Real
 * sockets on loopback; strangers connect from 127.0.0.66 and 127.0.0.67, members from 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  ChatListener,
  type ChatListenerOptions,
  type ReceivedLine,
  sendChatLine,
} from '../src/chat-transport.js';

const MEMBER = '127.0.0.1';
const STRANGER = '127.0.0.66';
const OTHER_STRANGER = '127.0.0.67';

let listener: ChatListener | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await listener?.close();
  listener = undefined;
});

async function start(opts: ChatListenerOptions): Promise<{ host: string; port: number }> {
  listener = new ChatListener({ isMember: (ip) => ip === MEMBER, ...opts });
  return listener.listen('127.0.0.1', 0);
}

/** A connection from `from` that sends nothing; `ended` says how the listener closed it. */
async function idle(
  to: { host: string; port: number },
  from: string,
): Promise<{ socket: net.Socket; ended: Promise<string> }> {
  const socket = net.connect({ ...to, localAddress: from });
  sockets.push(socket);
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    socket.on('close', () => resolve('closed'));
  });
  await once(socket, 'connect');
  return { socket, ended };
}

/** Sends one line from `from` as the chat sender does: write, end, wait for the close. */
function sendFrom(to: { host: string; port: number }, from: string, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ ...to, localAddress: from });
    sockets.push(socket);
    socket.once('connect', () => socket.end(`${line}\n`));
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    socket.once('close', (hadError) => {
      if (!hadError) resolve('delivered');
    });
    socket.resume();
  });
}

/** Waits until the listener holds `n` connections (accepting is asynchronous). */
async function holding(n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (listener!.openConnections !== n) {
    if (Date.now() > deadline) assert.fail(`holding ${listener!.openConnections}, not ${n}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('chat listener limits', () => {
  it('resets a connection that sends no complete line within the deadline', async () => {
    const to = await start({ connectionTimeoutMs: 200 });
    const rejected = once(listener!, 'rejected');
    const { ended } = await idle(to, STRANGER);
    assert.equal(await ended, 'ECONNRESET');
    assert.match((await rejected)[0].reason, /no complete line within 200 ms/);
  });

  it("bounds one stranger's address; other addresses still get in", async () => {
    const to = await start({ maxConnectionsPerAddress: 3, connectionTimeoutMs: 10_000 });
    const held = await Promise.all([1, 2, 3].map(() => idle(to, STRANGER)));
    await holding(3);
    const rejected = once(listener!, 'rejected');
    assert.equal(await sendFrom(to, STRANGER, '<mallory> a fourth'), 'ECONNRESET');
    assert.match((await rejected)[0].reason, /too many open connections from 127\.0\.0\.66 \(3\)/);
    const lines: ReceivedLine[] = [];
    listener!.on('line', (l) => lines.push(l));
    assert.equal(await sendFrom(to, OTHER_STRANGER, '<eve> hello'), 'delivered');
    assert.equal(await sendFrom(to, MEMBER, '<alice> hello'), 'delivered');
    assert.deepEqual(
      lines.map((l) => [l.text, l.member]),
      [
        ['<eve> hello', false],
        ['<alice> hello', true],
      ],
    );
    assert.equal(listener!.openConnections, 3, "the stranger's held connections are still open");
    for (const h of held) h.socket.destroy();
  });

  it("a full listener makes room for a member's line by closing a stranger's connection", async () => {
    const to = await start({ maxConnections: 4, connectionTimeoutMs: 10_000, idleAfterMs: 60_000 });
    const strangers = await Promise.all([1, 2, 3, 4].map(() => idle(to, STRANGER)));
    await holding(4);
    const got = once(listener!, 'line') as Promise<[ReceivedLine]>;
    assert.equal(await sendFrom(to, MEMBER, '<alice> through the flood'), 'delivered');
    assert.equal((await got)[0].text, '<alice> through the flood');
    // The oldest stranger's connection was reset for it.
    assert.equal(await strangers[0]!.ended, 'ECONNRESET');
  });

  it("a stranger never pushes a member's connection out, and learns its line was refused", async () => {
    const to = await start({ maxConnections: 3, connectionTimeoutMs: 10_000, idleAfterMs: 60_000 });
    const members = await Promise.all([1, 2, 3].map(() => idle(to, MEMBER)));
    await holding(3);
    const rejected = once(listener!, 'rejected');
    assert.equal(await sendFrom(to, STRANGER, '<alice> spoofed'), 'ECONNRESET');
    assert.match((await rejected)[0].reason, /too many open connections \(3\)/);
    assert.equal(listener!.openConnections, 3);
    for (const m of members) assert.equal(m.socket.destroyed, false);
  });

  it("the library's sender reports a refused line as an error", async () => {
    // Everyone a stranger here, so the sender (from 127.0.0.1) meets the per-address cap.
    const to = await start({ isMember: () => false, maxConnectionsPerAddress: 2 });
    await Promise.all([1, 2].map(() => idle(to, MEMBER)));
    await holding(2);
    await assert.rejects(sendChatLine(`${to.host}:${to.port}`, '<bob> hi'), /ECONNRESET/);
  });

  it("with every connection a member's and none idle yet, the oldest makes room for a new line", async () => {
    // A flood from the members' own address looks like members: the newest line must still get
    // through, at the cost of the oldest connection (which learns it with a reset).
    const to = await start({ maxConnections: 3, connectionTimeoutMs: 10_000, idleAfterMs: 60_000 });
    const young = [];
    for (let i = 0; i < 3; i++) young.push(await idle(to, MEMBER));
    await holding(3);
    const got = once(listener!, 'line') as Promise<[ReceivedLine]>;
    assert.equal(await sendFrom(to, MEMBER, '<bob> past the flood'), 'delivered');
    assert.equal((await got)[0].text, '<bob> past the flood');
    assert.equal(await young[0]!.ended, 'ECONNRESET');
    assert.equal(young[1]!.socket.destroyed, false);
    assert.equal(young[2]!.socket.destroyed, false);
    for (const y of young) y.socket.destroy();
  });

  it("a member's connection that idles may be closed for another member's line", async () => {
    const to = await start({ maxConnections: 2, connectionTimeoutMs: 10_000, idleAfterMs: 50 });
    const stale = await Promise.all([1, 2].map(() => idle(to, MEMBER)));
    await holding(2);
    await new Promise((r) => setTimeout(r, 60)); // older than idleAfterMs: idle by definition
    const got = once(listener!, 'line') as Promise<[ReceivedLine]>;
    assert.equal(await sendFrom(to, MEMBER, '<bob> fresh'), 'delivered');
    assert.equal((await got)[0].text, '<bob> fresh');
    assert.equal(await stale[0]!.ended, 'ECONNRESET');
  });
});
