// Logging that helps by default: `isopeer chat` writes a log file in its state directory from
// the start (and says where), with membership changes, suspicions, refutations and bootstrap
// requests at info level; memberlist is a subsystem with its own level; `/log on FILE` during
// traffic gets records.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, ChatProc, cleanEnv, until } from './chat-procs.js';

interface Rec {
  level: string;
  subsystem: string;
  msg: string;
  [field: string]: unknown;
}

function records(file: string): Rec[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

async function logged(file: string, what: string, pred: (r: Rec) => boolean): Promise<Rec> {
  let found: Rec | undefined;
  await until(`${what} in ${file}`, () => {
    found = records(file).find(pred);
    return found !== undefined;
  });
  return found!;
}

describe('isopeer chat: the log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-log-'));
  let server: BootstrapProc;
  let alice: ChatProc;
  let bob: ChatProc;
  const peer = (name: string) =>
    new ChatProc(name, ['--bootstrap', server.url, '--state-dir', join(dir, name)], cleanEnv({}));

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    alice = peer('alice');
    await alice.ready();
    bob = peer('bob');
    await bob.ready();
  });
  after(async () => {
    bob?.kill('SIGCONT');
    await Promise.all([alice?.stop(), bob?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes to a file in the state directory by default, and says so at start-up', async () => {
    const file = join(dir, 'alice', 'alice.log');
    assert.ok(
      alice.lines.some((l) => l.text === `logging to ${file}`),
      alice.tail(),
    );
    const joined = await logged(
      file,
      'bob joining',
      (r) => r.msg === 'member joined' && r.name === 'bob',
    );
    assert.equal(joined.level, 'info');
    assert.equal(joined.subsystem, 'memberlist');
    const call = await logged(
      file,
      'the bootstrap join',
      (r) => r.msg === 'bootstrap request' && r.what === 'join',
    );
    assert.equal(call.subsystem, 'bootstrap');
    assert.equal(call.ok, true);
  });

  it('lists memberlist and bootstrap as subsystems with their own level', async () => {
    const levels = await alice.command('/loglevel');
    for (const s of ['memberlist', 'bootstrap', 'chat']) {
      assert.ok(
        levels.some((l) => l.startsWith(`${s}: info`)),
        levels.join('\n'),
      );
    }
    await alice.command('/loglevel memberlist warn');
    assert.ok((await alice.command('/loglevel')).includes('memberlist: warn'));
    await alice.command('/loglevel memberlist info');
  });

  it('/log on FILE during traffic records joins, suspicions and refutations', async () => {
    const file = join(dir, 'alice-live.log');
    await alice.command(`/log on ${file}`);
    const carol = peer('carol');
    try {
      await carol.ready();
      await logged(file, 'carol joining', (r) => r.msg === 'member joined' && r.name === 'carol');
      // bob stops answering: alice suspects him; back again, bob refutes the suspicion.
      bob.kill('SIGSTOP');
      const suspected = await logged(file, 'a suspicion', (r) => r.msg === 'member suspected');
      assert.match(String(suspected.node), /^bob-/);
      bob.kill('SIGCONT');
      await logged(
        join(dir, 'bob', 'bob.log'),
        'the refutation',
        (r) => r.msg === 'refuted a suspicion of this node',
      );
      const shown = (await alice.command('/log')).find((l) => l.startsWith('logging to')) ?? '';
      const written = Number(/\((\d+) records written/.exec(shown)?.[1]);
      assert.ok(written > 0, shown);
    } finally {
      await carol.stop();
    }
  });

  it('a failed command is a warning record', async () => {
    const file = join(dir, 'alice-live.log');
    await alice.command('/chatmemberping nobody');
    const rec = await logged(file, 'the failure', (r) => r.msg === 'command failed');
    assert.equal(rec.level, 'warn');
    assert.equal(rec.command, '/chatmemberping');
  });
});
