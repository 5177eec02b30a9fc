// Issue 12, chat: hostile clients against real `isopeer chat` processes on loopback, each attack
// bounded in time. A flood of idle connections (F6) must not block members' chat lines, every
// line that is not delivered is reported to its sender, idle connections are cut within the
// deadline, and lines from an address that is not a member's are shown marked. Strangers connect
// from 127.0.0.66 (Linux routes all of 127/8 to loopback), members from 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, type ChatProc, cleanEnv, readyPeer, until } from './chat-procs.js';

const STRANGER = '127.0.0.66';

/** Holds `count` idle connections from `from` to `to`, opening a new one for each that closes. */
class IdleFlood {
  readonly sockets = new Set<net.Socket>();
  opened = 0;
  resets = 0;
  #stopped = false;

  constructor(
    private readonly to: { host: string; port: number },
    private readonly from: string,
    count: number,
  ) {
    for (let i = 0; i < count; i++) this.#open();
  }

  #open(): void {
    if (this.#stopped) return;
    const s = net.connect({ ...this.to, localAddress: this.from });
    this.opened++;
    this.sockets.add(s);
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') this.resets++;
    });
    s.on('close', () => {
      this.sockets.delete(s);
      setImmediate(() => this.#open());
    });
  }

  /** Stops re-opening; the held connections stay until the listener cuts them. */
  stop(): void {
    this.#stopped = true;
  }

  destroy(): void {
    this.stop();
    for (const s of this.sockets) s.destroy();
  }
}

describe('attacks on the chat listener', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'attack-chat-'));
  let server: BootstrapProc;
  let alice: ChatProc;
  let bob: ChatProc;
  let aliceChat: { host: string; port: number };
  const floods: IdleFlood[] = [];

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    alice = await readyPeer('alice', server.url, dir);
    bob = await readyPeer('bob', server.url, dir);
    await until(
      'bob knows alice',
      async () => (await bob.command('/chatmembers'))[0] === '2 chat member(s)',
    );
    const [json] = await bob.command('/chatmembers --json');
    const records = JSON.parse(json!) as Record<string, { sender: string }>;
    const sender = Object.entries(records).find(([name]) => name.startsWith('alice-'))![1].sender;
    const [host, port] = sender.split(':');
    aliceChat = { host: host!, port: Number(port) };
  });
  after(async () => {
    for (const f of floods) f.destroy();
    await Promise.all([alice?.stop(), bob?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** bob sends `n` lines to alice; returns how many arrived and how many failures bob was told. */
  async function bobSends(tag: string, n: number): Promise<{ arrived: number; told: number }> {
    const fromAlice = alice.lines.length;
    const fromBob = bob.lines.length;
    for (let i = 0; i < n; i++) bob.send(`${tag} ${i}`);
    // bob echoes each line once it was sent to everyone (delivered or not).
    await bob.waitFor((t) => t === `<bob> ${tag} ${n - 1}`, { from: fromBob });
    await bob.command('/echo settled');
    const told = bob.count((t) => t.startsWith('could not deliver to alice'), fromBob);
    await until(
      `alice shows bob's lines or bob was told (${tag})`,
      () => alice.count((t) => t.startsWith(`<bob> ${tag} `), fromAlice) + told >= n,
      10_000,
    );
    return { arrived: alice.count((t) => t.startsWith(`<bob> ${tag} `), fromAlice), told };
  }

  it('marks a spoofed line from an address that is not a member', async () => {
    const from = alice.lines.length;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ ...aliceChat, localAddress: STRANGER }, () =>
        s.end('<bob> send me your key\n'),
      );
      s.on('error', reject);
      s.on('close', () => resolve());
      s.resume();
    });
    const shown = await alice.waitFor((t) => t.includes('send me your key'));
    assert.equal(shown.text, `[not a member: ${STRANGER}] <bob> send me your key`);
    // bob's own lines are not marked: his address is a member's.
    bob.send('not spoofed');
    await alice.waitFor('<bob> not spoofed', { from });
  });

  it('cuts idle connections within the line deadline', async () => {
    const flood = new IdleFlood(aliceChat, STRANGER, 10);
    floods.push(flood);
    await until('ten connections open', () => flood.opened === 10 && flood.sockets.size === 10);
    flood.stop();
    const t0 = Date.now();
    await until('every idle connection cut', () => flood.sockets.size === 0, 6_000);
    assert.ok(Date.now() - t0 < 4_000, `took ${Date.now() - t0} ms (deadline 2 s)`);
    assert.ok(flood.resets >= 10, 'with a reset, not a normal close');
  });

  it("300 idle connections from a stranger's address block none of a member's lines", async () => {
    const flood = new IdleFlood(aliceChat, STRANGER, 300);
    floods.push(flood);
    await until('the flood is under way', () => flood.opened >= 300 && flood.resets > 0);
    const { arrived, told } = await bobSends('through-stranger-flood', 5);
    assert.deepEqual({ arrived, told }, { arrived: 5, told: 0 });
    flood.destroy();
  });

  it("300 idle connections from the members' own address: every line arrives or its sender is told", async () => {
    const flood = new IdleFlood(aliceChat, '127.0.0.1', 300);
    floods.push(flood);
    await until('the flood is under way', () => flood.opened >= 300);
    const { arrived, told } = await bobSends('through-local-flood', 5);
    // From the members' own address the flood cannot be told apart from members: the listener
    // closes the oldest connections to make room, so a line sent at once on its new connection
    // gets through; one may still fail under load, and then its sender is told.
    assert.equal(arrived + told, 5, `arrived ${arrived}, told ${told}`);
    assert.ok(arrived >= 3, `idle connections make room for most lines: ${arrived} of 5 arrived`);
    flood.destroy();
  });
});
