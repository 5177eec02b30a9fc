// End-to-end: real `isopeer chat` processes in line mode (pipes, no TTY) and a real
// `isopeer bootstrap-server` process, all on loopback with ephemeral ports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, ChatProc, cleanEnv, freePort, type LogLine, until } from './chat-procs.js';

const scratch = mkdtempSync(join(tmpdir(), 'chat-e2e-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
function stateDir(): string {
  return mkdtempSync(join(scratch, `s${dirs++}-`));
}

function startPeer(
  name: string,
  bootstrapUrl: string | undefined,
  extra: string[] = [],
  env: Record<string, string> = {},
): ChatProc {
  const dir = stateDir();
  const args = [
    ...(bootstrapUrl ? ['--bootstrap', bootstrapUrl] : []),
    '--state-dir',
    dir,
    '--log',
    join(dir, 'chat.log'),
    ...extra,
  ];
  return new ChatProc(name, args, cleanEnv(env));
}

const isDutyFor = (gone: string) => (r: LogLine) =>
  r.msg === 'bootstrap duty done' && String(r.departed).startsWith(`${gone}-`);

/**
 * Waits until each of `peers` has logged its bootstrap duty outcome for the departure of the
 * peer named `gone` (every survivor logs one, acting or not, once its requests are answered);
 * returns `name outcome leaves refills` per peer. Only then are request counts final.
 */
async function dutyOutcomes(peers: ChatProc[], gone: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of peers) {
    const r = await p.waitForLog(`its duty for ${gone}`, isDutyFor(gone), 40_000);
    out.push(`${p.name} ${r.outcome} ${r.leaves} ${r.refills}`);
  }
  return out;
}

/** Node names listed by `/chatmembers` or `/memberlist` (second column of the member lines). */
function nodeNames(lines: string[]): string[] {
  return lines
    .filter((l) => l.startsWith('  '))
    .map((l) => l.trim().split(/\s+/)[1]!)
    .sort();
}

async function startGroup(names: string[], url: string): Promise<ChatProc[]> {
  const peers: ChatProc[] = [];
  // One after another, so the bootstrap list and the age order are known.
  for (const n of names) {
    const p = startPeer(n, url);
    peers.push(p);
    await p.ready();
  }
  // A peer is ready when its listener runs; its JOIN record reaches the others by gossip.
  for (const p of peers) {
    await until(`${p.name} knows all ${names.length} chat members`, async () => {
      return (await p.command('/chatmembers'))[0] === `${names.length} chat member(s)`;
    });
  }
  return peers;
}

describe('isopeer chat: three peers with a bootstrap server', () => {
  let server: BootstrapProc;
  let peers: ChatProc[];
  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    peers = await startGroup(['alice', 'bob', 'carol'], server.url);
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), server.stop()]);
  });

  it('delivers every message to each other peer exactly once', async () => {
    for (const p of peers) p.send(`hello from ${p.name}`);
    // A sender shows its own line once the line went to every other member (and each of them
    // showed it): that is its outcome.
    for (const p of peers) await p.waitFor(`<${p.name}> hello from ${p.name}`);
    for (const p of peers) {
      for (const o of peers.filter((x) => x !== p)) {
        await p.waitFor(`<${o.name}> hello from ${o.name}`);
      }
    }
    // Quiet: every sender is done, and everything each peer printed has been read here.
    for (const p of peers) await p.flush();
    for (const p of peers) {
      for (const o of peers.filter((x) => x !== p)) {
        assert.equal(
          p.count((t) => t === `<${o.name}> hello from ${o.name}`),
          1,
          `${p.name} got ${o.name}'s message once`,
        );
      }
      // The sender sees its own line once, as typed, like the original's messages view.
      assert.equal(
        p.count((t) => t === `<${p.name}> hello from ${p.name}`),
        1,
      );
      assert.equal(
        p.count((t) => t.startsWith('could not deliver')),
        0,
      );
    }
  });

  it('agrees on /chatmembers and /memberlist on every peer', async () => {
    let reference: string[] | undefined;
    for (const p of peers) {
      const chat = nodeNames(await p.command('/chatmembers'));
      const ml = nodeNames(await p.command('/memberlist'));
      assert.equal(chat.length, 3, `${p.name} /chatmembers`);
      assert.deepEqual(chat, ml, `${p.name}: chat members = memberlist members`);
      reference ??= chat;
      assert.deepEqual(chat, reference, `${p.name} sees the same members as ${peers[0]!.name}`);
    }
  });

  it('/quit shows a left line on the others and removes the peer from the bootstrap list', async () => {
    const [alice, bob, carol] = peers as [ChatProc, ChatProc, ChatProc];
    const before = await server.call('/list');
    assert.deepEqual(
      Object.values(before.Peers)
        .map((p) => p.name.split('-')[0])
        .sort(),
      ['alice', 'bob'],
      'the first two peers are the bootstrap peers',
    );
    const mark = server.lines.length;
    bob.send('/quit');
    await bob.done;
    assert.equal(bob.exited?.code, 0);
    // Both survivors are among the minrefillcandidates (2) oldest: alice is listed and only
    // takes bob off (bob did so himself already: leave is idempotent), carol offers herself.
    assert.deepEqual(await dutyOutcomes([alice, carol], 'bob'), [
      'alice removed 1 0',
      'carol refilled 1 1',
    ]);
    await server.flush();
    assert.equal(server.requests('/leave', mark), 3, "bob's own leave and one per candidate");
    assert.equal(server.requests('/refill', mark), 1);
    const data = await server.call('/list');
    assert.deepEqual(
      Object.values(data.Peers)
        .map((p) => p.name.split('-')[0])
        .sort(),
      ['alice', 'carol'],
    );
    for (const p of [alice, carol]) {
      await p.flush();
      assert.equal(
        p.count((t) => t === '<left> bob is leaving'),
        1,
        `${p.name}: told once`,
      );
      assert.equal(
        p.count((t) => t === '<left> bob has left'),
        1,
        `${p.name}: left once`,
      );
      assert.equal(
        p.count((t) => t.startsWith('<left> bob has failed')),
        0,
      );
      assert.equal(p.logRecords().filter(isDutyFor('bob')).length, 1, `${p.name}: one duty`);
    }
    const chat = nodeNames(await alice.command('/chatmembers'));
    assert.equal(chat.length, 2);
  });
});

describe('isopeer chat: a bootstrap peer is killed', () => {
  let server: BootstrapProc;
  let peers: ChatProc[];
  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    peers = await startGroup(['alice', 'bob', 'carol', 'dave'], server.url);
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), server.stop()]);
  });

  it('detects the failure, shows it, and only the minrefillcandidates oldest survivors ask the service, one refilling', async () => {
    const data = await server.call('/list');
    const m = data.Config.minrefillcandidates!;
    assert.deepEqual(
      Object.values(data.Peers)
        .map((p) => p.name.split('-')[0])
        .sort(),
      ['alice', 'bob'],
      'the first two peers are the bootstrap peers',
    );
    const mark = server.lines.length;
    const [alice, ...survivors] = peers as [ChatProc, ...ChatProc[]];
    alice.kill('SIGKILL');
    await alice.done;
    // Count only once every survivor has logged its duty outcome. Only the m (2) oldest
    // survivors act: bob is listed and only takes alice off, carol also offers herself; dave
    // never talks to the service.
    assert.equal(m, 2);
    assert.deepEqual(await dutyOutcomes(survivors, 'alice'), [
      'bob removed 1 0',
      'carol refilled 1 1',
      'dave not-candidate 0 0',
    ]);
    await server.flush();
    assert.equal(server.requests('/leave', mark), 2, 'one leave per candidate');
    assert.equal(server.requests('/refill', mark), 1, 'one refill');
    const d = await server.call('/list');
    assert.deepEqual(
      Object.values(d.Peers)
        .map((p) => p.name.split('-')[0])
        .sort(),
      ['bob', 'carol'],
    );
    for (const p of survivors) {
      await p.flush();
      assert.equal(
        p.count((t) => t === '<left> alice has failed'),
        1,
        `${p.name} shows it once`,
      );
      assert.equal(p.logRecords().filter(isDutyFor('alice')).length, 1, `${p.name}: one duty`);
    }
    assert.equal(
      survivors[2]!.count((t) => t.includes('bootstrap list refilled')),
      0,
    );
  });
});

describe('isopeer chat: no bootstrap service configured', () => {
  const procs: ChatProc[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('starts an embedded bootstrap server that the next peer uses, and falls back to the member cache', async () => {
    const port = await freePort();
    const local = `http://127.0.0.1:${port}`;
    const env = { ISOPEER_LOCAL_BOOTSTRAP_URL: local };
    const alice = startPeer('alice', undefined, [], env);
    procs.push(alice);
    await alice.waitFor((t) => t.includes(`started one in this peer at ${local}`));
    await alice.ready();
    const bob = startPeer('bob', undefined, [], env);
    procs.push(bob);
    await bob.waitFor(`bootstrap service ${local}`);
    await bob.ready();
    bob.send('hi alice');
    await alice.waitFor('<bob> hi alice');

    // carol cannot reach any bootstrap service, but her cache knows alice's address.
    const local0 = (await alice.command('/localnode'))[0]!;
    const [nodeName, address] = local0.split(' ');
    const dir = stateDir();
    writeFileSync(
      join(dir, 'members-carol.json'),
      JSON.stringify({ version: 1, members: [{ name: nodeName, address, lastSeen: Date.now() }] }),
    );
    const dead = await freePort();
    const carol = new ChatProc(
      'carol',
      ['--bootstrap', `http://127.0.0.1:${dead}`, '--state-dir', dir],
      cleanEnv({}),
    );
    procs.push(carol);
    await carol.waitFor((t) => t.includes('bootstrap service unreachable'));
    await carol.ready();
    carol.send('hi from the cache');
    await alice.waitFor('<carol> hi from the cache');
    await bob.waitFor('<carol> hi from the cache');
  });
});

describe('isopeer chat: testpartition', () => {
  let server: BootstrapProc;
  let peers: ChatProc[];
  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    peers = await startGroup(['alice', 'bob'], server.url);
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), server.stop()]);
  });

  it('cuts two peers apart (seen as failures) and lets them find each other again', async () => {
    const [alice, bob] = peers as [ChatProc, ChatProc];
    const on = await Promise.all([
      alice.command('/testpartition bob on'),
      bob.command('/testpartition alice on'),
    ]);
    assert.deepEqual(on, [['partition from bob on'], ['partition from alice on']]);
    await alice.waitFor('<left> bob has failed', { timeoutMs: 30_000 });
    await bob.waitFor('<left> alice has failed', { timeoutMs: 30_000 });
    const mark = bob.lines.length;
    alice.send('lost in the partition');
    await alice.waitFor('<alice> lost in the partition');
    await Promise.all([
      alice.command('/testpartition bob off'),
      bob.command('/testpartition alice off'),
    ]);
    await alice.waitFor('<info> bob is back', { timeoutMs: 40_000 });
    await bob.waitFor('<info> alice is back', { timeoutMs: 40_000 });
    alice.send('found again');
    await bob.waitFor('<alice> found again');
    // alice's send of the lost line finished before she echoed it; all bob printed is read.
    await bob.flush();
    assert.equal(
      bob.count((t) => t.includes('lost in the partition'), mark),
      0,
    );
  });
});

describe('isopeer chat: bad options', () => {
  it('refuses them with one clear line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['alice', '--port', 'nope'], /--port "nope" is not a port number/],
      [['alice', '--config', 'mars'], /--config must be local, lan or wan/],
      [['alice', '--bind', 'localhost'], /--bind "localhost" is not an IP address/],
      [['a b'], /invalid name "a b"/],
      [['alice', '--bootstrap', 'ftp://x'], /--bootstrap "ftp:\/\/x" is not an http\(s\) URL/],
      [['alice', '--test', 'start'], /--test needs --test-server/],
    ];
    for (const [args, message] of cases) {
      const p = new ChatProc(args[0]!, [...args.slice(1), '--state-dir', stateDir()], cleanEnv({}));
      await p.done;
      assert.equal(p.exited?.code, 2, `${args.join(' ')}: ${p.stderr.join('\n')}`);
      assert.match(p.stderr.join('\n'), message);
    }
  });
});
