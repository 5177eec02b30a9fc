// Leaving `isopeer chat` every way a person or a supervisor ends it: Ctrl-C twice and Ctrl-D on a
// terminal (tmux), SIGINT and SIGTERM over pipes. Each must leave as /quit does: the others see
// the peer *left* (not failed) and the bootstrap list no longer holds it; the terminal is left
// without a stray prompt. A leave that cannot finish is bounded, and a second signal ends it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { partMissing, TmuxSession, tmuxMissing } from '@isopeer/test-support';
import { isopeerCli } from '../support/paths.js';
import { BootstrapProc, ChatProc, cleanEnv, readyPeer, until } from './chat-procs.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-leave-'));
let runs = 0;

describe('leaving isopeer chat', () => {
  let server: BootstrapProc;
  let bob: ChatProc;

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    bob = await readyPeer('bob', server.url, dir);
  });
  after(async () => {
    await Promise.all([bob?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const listed = async (name: string) =>
    Object.values((await server.call('/list')).Peers).some((p) => p.name.startsWith(`${name}-`));

  /** Waits until bob knows `name` as a chat member and the bootstrap list holds it. */
  async function joined(name: string): Promise<number> {
    await until(`bob knows ${name}`, async () =>
      (await bob.command('/chatmembers')).some((l) => l.includes(` ${name}-`)),
    );
    await until(`${name} on the bootstrap list`, () => listed(name));
    return bob.lines.length;
  }

  /** bob saw `name` leave (not fail), and the bootstrap list no longer holds it. */
  async function sawLeave(name: string, from: number): Promise<void> {
    const seen = await bob.waitFor((t) => t.startsWith(`<left> ${name} has`), { from });
    assert.equal(seen.text, `<left> ${name} has left`);
    assert.equal(await listed(name), false, `${name} is off the bootstrap list`);
  }

  describe('on a terminal', { skip: partMissing(tmuxMissing()) }, () => {
    /** A chat peer in tmux; when it ends, the shell says so and keeps the screen. */
    async function onTerminal(name: string): Promise<TmuxSession> {
      const state = join(dir, `${name}-${++runs}`);
      const tmux = new TmuxSession([
        'sh',
        '-c',
        `NO_COLOR=1 ${process.execPath} ${isopeerCli} chat ${name} --bootstrap ${server.url} --state-dir ${state}; echo "CHAT-ENDED $?"; sleep 120`,
      ]);
      await until(
        `${name} started on the terminal`,
        () => tmux.screen().some((l) => l.includes('chat listening on')),
        30_000,
      );
      return tmux;
    }

    for (const [how, press] of [
      ['Ctrl-C twice', (t: TmuxSession) => t.keys('C-c', 'C-c')],
      ['Ctrl-D', (t: TmuxSession) => t.keys('C-d')],
    ] as const) {
      it(`${how} leaves like /quit: the others see "left", the list drops the peer`, async () => {
        const tmux = await onTerminal('carol');
        try {
          const from = await joined('carol');
          press(tmux);
          await sawLeave('carol', from);
          await until('carol ended', () => tmux.screen().some((l) => l.startsWith('CHAT-ENDED')));
          const rows = tmux.screen().filter((l) => l !== '');
          const end = rows.findIndex((l) => l.startsWith('CHAT-ENDED'));
          assert.equal(rows[end], 'CHAT-ENDED 0');
          assert.equal(
            rows[end - 1],
            'carol left',
            `no stray prompt after leaving:\n${rows.join('\n')}`,
          );
        } finally {
          tmux.kill();
        }
      });
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} leaves like /quit`, async () => {
      const dave = new ChatProc(
        'dave',
        ['--bootstrap', server.url, '--state-dir', join(dir, `dave-${++runs}`)],
        cleanEnv({}),
      );
      try {
        await dave.ready();
        const from = await joined('dave');
        dave.kill(signal);
        await sawLeave('dave', from);
        await dave.done;
        assert.equal(dave.exited?.code, 0);
        assert.ok(dave.lines.some((l) => l.text === 'dave left'));
      } finally {
        await dave.stop();
      }
    });
  }

  it('the end of piped input leaves like /quit, after the lines before it', async () => {
    const erin = new ChatProc(
      'erin',
      ['--bootstrap', server.url, '--state-dir', join(dir, `erin-${++runs}`)],
      cleanEnv({}),
    );
    try {
      await erin.ready();
      const from = await joined('erin');
      erin.send('last words');
      erin.endInput();
      await bob.waitFor('<erin> last words', { from });
      await sawLeave('erin', from);
      await erin.done;
      assert.equal(erin.exited?.code, 0);
    } finally {
      await erin.stop();
    }
  });

  it('a leave that cannot finish is bounded; a second signal ends it at once', async () => {
    // A bootstrap service that stops answering (SIGSTOP) holds up the first step of leaving.
    const stuck = await BootstrapProc.start(cleanEnv({}));
    const frank = new ChatProc(
      'frank',
      ['--bootstrap', stuck.url, '--state-dir', join(dir, `frank-${++runs}`)],
      cleanEnv({}),
    );
    const grace = new ChatProc(
      'grace',
      ['--bootstrap', stuck.url, '--state-dir', join(dir, `grace-${++runs}`)],
      cleanEnv({}),
    );
    try {
      await Promise.all([frank.ready(), grace.ready()]);
      stuck.kill('SIGSTOP');
      let t0 = performance.now();
      frank.kill('SIGTERM');
      await frank.done;
      const bounded = performance.now() - t0;
      assert.equal(frank.exited?.code, 1, frank.tail());
      assert.ok(
        frank.lines.some((l) =>
          /frank stopped before leaving completely \(not done within 5000 ms\)/.test(l.text),
        ),
        frank.tail(),
      );
      assert.ok(bounded < 9_000, `the leave took ${bounded} ms`);

      grace.kill('SIGTERM');
      await grace.waitFor('SIGTERM: leaving the group');
      t0 = performance.now();
      grace.kill('SIGTERM');
      await grace.done;
      assert.equal(grace.exited?.code, 1, grace.tail());
      assert.ok(performance.now() - t0 < 3_000, 'the second signal ends it at once');
    } finally {
      stuck.kill('SIGCONT');
      await Promise.all([frank.stop(), grace.stop(), stuck.stop()]);
    }
  });
});
