// `isopeer chat` on a real terminal (tmux): a chat line arriving while a command is half typed
// leaves the typed text intact, history recall and tab completion of member names work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { partMissing } from '@isopeer/test-support';
import { isopeerCli } from '../support/paths.js';
import { BootstrapProc, ChatProc, cleanEnv, until } from './chat-procs.js';

const haveTmux = spawnSync('tmux', ['-V']).status === 0;

/** A tmux server of our own (own socket), one session running the command. */
class Tmux {
  readonly socket = `isopeer-chat-tty-${process.pid}`;
  constructor(command: string[]) {
    this.run(['new-session', '-d', '-x', '110', '-y', '30', '-s', 'main', ...command]);
  }
  run(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
    return r.stdout;
  }
  type(text: string): void {
    this.run(['send-keys', '-t', 'main', '-l', text]);
  }
  keys(...names: string[]): void {
    this.run(['send-keys', '-t', 'main', ...names]);
  }
  screen(): string[] {
    return this.run(['capture-pane', '-p', '-t', 'main'])
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }
  /** The input line: the last non-empty row of the screen. */
  inputLine(): string {
    return (
      this.screen()
        .filter((l) => l !== '')
        .at(-1) ?? ''
    );
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

describe('isopeer chat on a terminal', {
  skip: partMissing(haveTmux ? null : 'tmux is not installed'),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-tty-'));
  let server: BootstrapProc;
  let bob: ChatProc;
  let tmux: Tmux;

  before(async () => {
    assert.ok(haveTmux, 'tmux is required in CI');
    server = await BootstrapProc.start(cleanEnv({}));
    bob = new ChatProc(
      'bob',
      ['--bootstrap', server.url, '--state-dir', join(dir, 'bob')],
      cleanEnv({}),
    );
    await bob.ready();
    tmux = new Tmux([
      'env',
      'NO_COLOR=1',
      `ISOPEER_STATE_DIR=${join(dir, 'alice')}`,
      process.execPath,
      isopeerCli,
      'chat',
      'alice',
      '--bootstrap',
      server.url,
    ]);
    await until(
      'alice started on the terminal',
      () => tmux.screen().some((l) => l.includes('chat listening on')),
      30_000,
    );
    await until(
      'bob knows alice',
      async () => (await bob.command('/chatmembers'))[0] === '2 chat member(s)',
    );
  });
  after(async () => {
    tmux?.kill();
    await Promise.all([bob?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes member names with Tab', async () => {
    tmux.type('/chatmemberping b');
    tmux.keys('Tab');
    await until('completed to bob', () => /\/chatmemberping bob/.test(tmux.inputLine()));
    tmux.keys('C-u');
    await until('input cleared', () => !tmux.inputLine().includes('chatmemberping'));
  });

  it('keeps a half-typed line intact while chat lines arrive, then sends it', async () => {
    tmux.type('half typed');
    await until('typed text shown', () => tmux.inputLine().endsWith('half typed'));
    for (let i = 0; i < 3; i++) bob.send(`hello while typing ${i}`);
    await until("bob's lines shown above", () =>
      tmux.screen().some((l) => l === '<bob> hello while typing 2'),
    );
    const screen = tmux.screen();
    assert.ok(
      tmux.inputLine().endsWith('half typed'),
      `input line kept: ${JSON.stringify(tmux.inputLine())}`,
    );
    const rows = screen.filter((l) => l.startsWith('<bob> hello while typing'));
    assert.deepEqual(rows, [
      '<bob> hello while typing 0',
      '<bob> hello while typing 1',
      '<bob> hello while typing 2',
    ]);
    tmux.keys('Enter');
    await bob.waitFor('<alice> half typed');
  });

  it('recalls the sent line from history', async () => {
    tmux.keys('Up');
    await until('history recall', () => tmux.inputLine().endsWith('half typed'));
    tmux.keys('C-u');
  });
});
