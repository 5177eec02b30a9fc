// End-to-end: real `isopeer chat` processes in line mode started with `--key`, a real bootstrap
// server, all on loopback with ephemeral ports. Peers with the same key chat; a peer with another
// key does not get in (and harms nobody); the key is rotated live with the keyring commands while
// messages keep flowing and nobody is marked failed; `/metrics` shows the probes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, ChatProc, cleanEnv, until } from './chat-procs.js';

const scratch = mkdtempSync(join(tmpdir(), 'chat-keyring-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
const key = (len = 32) => randomBytes(len).toString('base64');

function startPeer(name: string, url: string, keys: string[]): ChatProc {
  const args = ['--bootstrap', url, '--state-dir', mkdtempSync(join(scratch, `s${dirs++}-`))];
  for (const k of keys) args.push('--key', k);
  return new ChatProc(name, args, cleanEnv({}));
}

/** The first line of a command's output that matches (chat lines from others may interleave). */
async function lineOf(p: ChatProc, command: string, match: RegExp): Promise<string> {
  const out = await p.command(command);
  const line = out.find((l) => match.test(l));
  assert.ok(line, `${p.name} ${command}: no line matching ${match}:\n${out.join('\n')}`);
  return line;
}

const chatCount = (p: ChatProc) => lineOf(p, '/chatmembers', /^\d+ chat member\(s\)$/);

/** Every peer sends a line; every other peer shows it. */
async function messagesFlow(peers: ChatProc[], tag: string): Promise<void> {
  for (const p of peers) p.send(`${tag} from ${p.name}`);
  for (const p of peers) {
    await p.waitFor(`<${p.name}> ${tag} from ${p.name}`);
    for (const o of peers.filter((x) => x !== p))
      await p.waitFor(`<${o.name}> ${tag} from ${o.name}`);
  }
}

/** Runs a command on every peer and checks each printed `expect`. */
async function onAll(peers: ChatProc[], line: string, expect: RegExp): Promise<void> {
  await Promise.all(
    peers.map(async (p) => {
      const out = await p.command(line);
      assert.ok(
        out.some((l) => expect.test(l)),
        `${p.name} ${line}:\n${out.join('\n')}`,
      );
    }),
  );
}

describe('isopeer chat --key: an encrypted group', () => {
  const oldKey = key();
  const newKey = key(16);
  let server: BootstrapProc;
  const peers: ChatProc[] = [];
  let stranger: ChatProc | undefined;

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    // The first key is primary; the second is accepted too (it plays no part until rotation).
    for (const name of ['alice', 'bob', 'carol']) {
      const p = startPeer(name, server.url, [oldKey, key(24)]);
      peers.push(p);
      await p.ready();
    }
    for (const p of peers) {
      await until(
        `${p.name} knows 3 chat members`,
        async () => (await chatCount(p)) === '3 chat member(s)',
      );
    }
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), stranger?.stop(), server.stop()]);
  });

  it('rejects a bad --key with a clear message', async () => {
    const bad = startPeer('bad', server.url, ['c2hvcnQ=']);
    await bad.done;
    assert.equal(bad.exited?.code, 2);
    assert.match(
      bad.stderr.join('\n'),
      /^isopeer chat: --key is 5 bytes; AES keys are 16, 24 or 32 bytes/,
    );
  });

  it('peers with the same key chat; the keys are shown as fingerprints', async () => {
    await messagesFlow(peers, 'hello');
    const listed = await peers[0]!.command('/keyring');
    assert.ok(
      listed.some((l) => /^2 key\(s\); encrypting outgoing, requiring encrypted input/.test(l)),
      listed.join('\n'),
    );
    assert.equal(
      listed.filter((l) => /^ {2}\* [0-9a-f]{16} {2}AES-256 {2}primary$/.test(l)).length,
      1,
    );
    assert.ok(!listed.join('\n').includes(oldKey), 'no whole key without --show');
    assert.ok((await peers[0]!.command('/keyring list --show')).some((l) => l.includes(oldKey)));
  });

  it('a peer with another key does not get in, and the others and the bootstrap list stay intact', async () => {
    stranger = startPeer('mallory', server.url, [key()]);
    await stranger.ready();
    await stranger.waitFor((t) => t.includes('refused the join: no installed key could decrypt'));
    assert.equal(await chatCount(stranger), '1 chat member(s)');
    stranger.send('anyone there?');
    await stranger.waitFor('<mallory> anyone there?');
    for (const p of peers) {
      assert.equal(await chatCount(p), '3 chat member(s)', `${p.name} did not take mallory in`);
      assert.equal(
        p.count((t) => t.includes('mallory')),
        0,
        `${p.name} saw nothing of mallory`,
      );
    }
    const listed = Object.values((await server.call('/list')).Peers).map(
      (p) => p.name.split('-')[0],
    );
    assert.ok(listed.includes('alice'), `alice is still a bootstrap peer: ${listed.join(', ')}`);
    await messagesFlow(peers, 'still here');
    assert.equal(stranger.exited, undefined, 'mallory runs on');
  });

  it('rotates the key live: install, use, remove on all; messages flow, nobody fails', async () => {
    await onAll(
      peers,
      `/keyringinstall ${newKey}`,
      /^installed key [0-9a-f]{16} \(AES-128\); 3 key\(s\)/,
    );
    await messagesFlow(peers, 'installed');
    await onAll(peers, `/keyringuse ${newKey}`, /^primary key is now [0-9a-f]{16} \(AES-128\)$/);
    await messagesFlow(peers, 'switched');
    await onAll(peers, `/keyringremove ${oldKey}`, /^removed key [0-9a-f]{16}; 2 key\(s\) left$/);
    // Several probe rounds on the new key alone (the local preset probes every second).
    const start = await Promise.all(peers.map((p) => probesSent(p)));
    await until('3 more probes by every peer', async () => {
      const now = await Promise.all(peers.map((p) => probesSent(p)));
      return now.every((n, i) => n >= start[i]! + 3);
    });
    await messagesFlow(peers, 'rotated');
    for (const p of peers) {
      assert.equal(
        p.count((t) => t.includes('has failed')),
        0,
        `${p.name} saw no failure`,
      );
      assert.equal(await lineOf(p, '/memberlist', /^\d+ member\(s\)$/), '3 member(s)');
      const m = await metricsOf(p);
      assert.equal(m.members.dead + m.members.suspect, 0, `${p.name}: nobody suspect or dead`);
      assert.equal(m.suspicions.raised, 0, `${p.name}: no suspicion raised`);
      assert.ok(
        m.probes.sent > 0 && m.probes.failed === 0,
        `${p.name}: probes ${JSON.stringify(m.probes)}`,
      );
    }
    assert.equal(
      (await lineOf(peers[1]!, '/metrics', /^members /)).replace(/ +/, ' '),
      'members 3 alive, 0 suspect, 0 dead, 0 left',
    );
    assert.match(
      await lineOf(peers[1]!, '/metrics', /^probes /),
      /^probes +[1-9]\d* sent, 0 failed/,
    );
  });
});

interface Metrics {
  members: { alive: number; suspect: number; dead: number; left: number };
  probes: { sent: number; failed: number };
  suspicions: { raised: number };
}

async function metricsOf(p: ChatProc): Promise<Metrics> {
  const out = await p.command('/metrics --json');
  return JSON.parse(out.find((l) => l.startsWith('{'))!) as Metrics;
}

async function probesSent(p: ChatProc): Promise<number> {
  return (await metricsOf(p)).probes.sent;
}

describe('isopeer chat: encryption switched on in a running group', () => {
  const k = key();
  let server: BootstrapProc;
  const peers: ChatProc[] = [];
  let plain: ChatProc | undefined;

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    for (const name of ['dora', 'emil']) {
      const p = startPeer(name, server.url, []);
      peers.push(p);
      await p.ready();
    }
    for (const p of peers) {
      await until(
        `${p.name} knows 2 chat members`,
        async () => (await chatCount(p)) === '2 chat member(s)',
      );
    }
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), plain?.stop(), server.stop()]);
  });

  it('install (verify off), outgoing on, incoming on: the group stays whole, a keyless peer is refused', async () => {
    await onAll(peers, `/keyringinstall ${k}`, /verify incoming and outgoing are now off/);
    await onAll(
      peers,
      '/keyring',
      /^1 key\(s\); keys installed, nothing encrypted or required yet/,
    );
    await messagesFlow(peers, 'keys-in');
    await onAll(
      peers,
      '/keyringverify outgoing on',
      /encrypting outgoing, not requiring encrypted input/,
    );
    await messagesFlow(peers, 'outgoing-on');
    await onAll(peers, '/keyringverify incoming on', /verify incoming on, outgoing on$/);
    const start = await Promise.all(peers.map((p) => probesSent(p)));
    await until('3 more probes by every peer', async () => {
      const now = await Promise.all(peers.map((p) => probesSent(p)));
      return now.every((n, i) => n >= start[i]! + 3);
    });
    for (const p of peers) {
      const m = await metricsOf(p);
      assert.equal(m.members.alive, 2, `${p.name}: both alive`);
      assert.equal(m.suspicions.raised, 0, `${p.name}: no suspicion raised`);
      assert.equal(
        p.count((t) => t.includes('has failed')),
        0,
        `${p.name} saw no failure`,
      );
    }
    plain = startPeer('fritz', server.url, []);
    await plain.ready();
    await plain.waitFor((t) =>
      /every bootstrap peer refused the join: stream is encrypted but no encryption keys/.test(t),
    );
    assert.equal(await chatCount(plain), '1 chat member(s)');
    await messagesFlow(peers, 'encrypted');
  });
});
