// `isopeer chat` on a real terminal (tmux): a chat line arriving while a command is half typed
// leaves the typed text intact, history recall and tab completion of member names work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { partMissing, TmuxSession, tmuxMissing } from '@isopeer/test-support';
import { isopeerCli } from '../support/paths.js';
import { BootstrapProc, type ChatProc, cleanEnv, readyPeer, until } from './chat-procs.js';

describe('isopeer chat on a terminal', {
  skip: partMissing(tmuxMissing()),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-tty-'));
  let server: BootstrapProc;
  let bob: ChatProc;
  let tmux: TmuxSession;

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    bob = await readyPeer('bob', server.url, dir);
    tmux = new TmuxSession([
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

  it('keeps every received line on screen exactly once while the terminal is resized', async () => {
    tmux.keys('C-l');
    const typed = Array.from({ length: 28 }, (_, i) => `draft${i}`).join(' ');
    tmux.type(typed);
    await until('the draft typed', () =>
      tmux.screen().join('').replace(/ /g, '').endsWith(typed.replace(/ /g, '')),
    );
    const received = ['resize one', 'resize two', 'resize three'];
    for (const l of received) bob.send(l);
    await until('the lines arrived', () => tmux.screen().includes('<bob> resize three'));
    await bob.waitFor('<bob> resize three'); // bob's own echo, so later commands start clean
    for (const columns of [40, 110, 40, 90]) {
      tmux.resize(columns, 30);
      const input = (`alice> ${typed}`.match(new RegExp(`.{1,${columns}}`, 'g')) ?? []).map((r) =>
        r.trimEnd(),
      );
      // The terminal reflows at once and the peer redraws a moment later: wait for the end state.
      const settled = (screen: string[]) => {
        const rows = screen.filter((r) => r !== '');
        const above = rows.slice(0, -input.length);
        return (
          rows.slice(-input.length).join('\n') === input.join('\n') &&
          received.every((l) => rows.filter((r) => r === `<bob> ${l}`).length === 1) &&
          // Nothing of the input line is left above it (a stale prompt or wrapped rest).
          !above.some((r) => r.startsWith('alice> ') || /draft\d/.test(r))
        );
      };
      await until(`the screen redrawn at ${columns} columns, each line once`, () =>
        settled(tmux.screen()),
      ).catch((e: Error) => {
        throw new Error(`${e.message}; screen:\n${tmux.screen().join('\n')}`);
      });
    }
    tmux.resize(110, 30);
    tmux.keys('C-e', 'C-u');
    await until('input cleared', () => tmux.inputLine() === 'alice>');
  });

  /** The rows a command printed: from its header row to the next prompt. */
  async function table(command: string, header: RegExp): Promise<string[]> {
    tmux.keys('C-l');
    tmux.type(command);
    tmux.keys('Enter');
    const rows = await found(`${command} printed`, () => {
      const screen = tmux.screen();
      const start = screen.findIndex((l) => header.test(l));
      const end = screen.findIndex((l, i) => i > start && l.startsWith('alice>'));
      return start >= 0 && end > start ? screen.slice(start, end) : undefined;
    });
    return rows;
  }

  /** Every row starts its cells where the header starts its column names. */
  function assertAligned(rows: string[], columns: string[]): void {
    const starts = columns.map((c) => rows[0]!.indexOf(c));
    assert.ok(
      starts.every((x, i) => x >= 0 && (i === 0 || x > starts[i - 1]!)),
      rows[0],
    );
    for (const row of rows.slice(1)) {
      for (const x of starts.slice(1)) {
        assert.equal(
          row.slice(x - 2, x),
          '  ',
          `a column gap before ${x} in ${JSON.stringify(row)}`,
        );
      }
    }
  }

  it('shows /memberlist, /chatmembers, /bootstrappeers and /metrics as aligned tables', async () => {
    const ml = await table('/memberlist', /^Name +Node +Address/);
    assertAligned(ml, ['Name', 'Node', 'Address', 'Status', 'Incarnation', 'Protocol']);
    assert.equal(ml.length, 3, ml.join('\n'));
    assert.ok(ml.some((r) => /^alice +alice-/.test(r)) && ml.some((r) => /^bob +bob-/.test(r)));
    const cm = await table('/chatmembers', /^Name +Node +Chat address/);
    assertAligned(cm, ['Name', 'Node', 'Chat address', 'Record', 'Chatting since']);
    assert.ok(
      cm.slice(1).every((r) => / JOIN /.test(r)),
      cm.join('\n'),
    );
    const bp = await table('/bootstrappeers', /^Node +Address +Running since/);
    assertAligned(bp, ['Node', 'Address', 'Running since']);
    assert.equal(bp.length, 3, bp.join('\n'));
    const mt = await table('/metrics', /^Metric +Value$/);
    assertAligned(mt, ['Metric', 'Value']);
    assert.ok(
      mt.some((r) => /^members +2 alive/.test(r)),
      mt.join('\n'),
    );
    // The raw form for scripts: one JSON line.
    const json = await bob.command('/chatmembers --json');
    assert.equal(json.length, 1, json.join('\n'));
    assert.equal(Object.keys(JSON.parse(json[0]!)).length, 2);
  });

  it('/help with an unknown name suggests close ones', async () => {
    tmux.keys('C-l');
    tmux.type('/help memberlst');
    tmux.keys('Enter');
    await until('the suggestion', () =>
      tmux.screen().some((l) => /unknown command \/memberlst; did you mean \/memberlist\b/.test(l)),
    );
    tmux.type('/help bootstrp');
    tmux.keys('Enter');
    await until('names containing it', () =>
      tmux.screen().some((l) => /unknown command \/bootstrp; did you mean .*\/bootstrap\b/.test(l)),
    );
  });
});

/** Polls `get` until it returns a value, and returns it. */
async function found<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  let value: T | undefined;
  await until(
    what,
    () => {
      value = get();
      return value !== undefined;
    },
    timeoutMs,
  );
  return value as T;
}
