import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { skipIfMissing, TmuxSession, tmuxMissing } from '@isopeer/test-support';
import { wordWrap } from '../src/ui.js';
import { demoPath, openFeed, runDemo, tempDir } from './helpers.js';

/**
 * What the terminal UI leaves on a real screen (tmux): resizing with a wrapped input line keeps
 * every received line on screen exactly once and the input line once; leaving leaves no stray
 * prompt; help text breaks between words. Every wait is on a screen condition.
 */
describe('the screen under tmux', () => {
  test('resizing with a wrapped input line: every received line on screen exactly once', async (t) => {
    if (skipIfMissing(t, tmuxMissing())) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const { fifo, feed } = openFeed(t, dir);
    const tty = new TmuxSession(['env', 'NO_COLOR=1', process.execPath, demoPath, '--feed', fifo], {
      columns: 100,
      rows: 24,
    });
    t.after(() => tty.kill());
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    const received = ['received one', 'received two', 'received three'];
    writeSync(feed, `${received.join('\n')}\n`);
    await tty.waitFor((r) => r.includes('received three'), 'the received lines');
    const typed = Array.from({ length: 30 }, (_, i) => `word${String(i).padStart(3, '0')}`).join(
      ' ',
    );
    tty.type(typed);
    const input = `> ${typed}`;
    await tty.waitFor(
      (r) => r.join('').replace(/ /g, '').endsWith(input.replace(/ /g, '')),
      'the typed line',
    );

    const check = async (columns: number, also: string[] = []) => {
      const lines = [...received, ...also];
      // The terminal breaks the input line every `columns` characters (rows lose trailing blanks).
      const inputRows = (input.match(new RegExp(`.{1,${columns}}`, 'g')) ?? []).map((r) =>
        r.trimEnd(),
      );
      // The terminal reflows at once and the demo redraws a moment later: wait for the redrawn
      // screen, exactly the received lines and then the input line, each once.
      const expected = [...lines, ...inputRows];
      await tty.waitFor(
        (r) => r.join('\n') === expected.join('\n'),
        `the screen at ${columns} columns: ${JSON.stringify(expected)}`,
      );
    };
    await check(100);
    tty.resize(40, 24);
    await check(40);
    tty.resize(100, 24);
    await check(100);
    tty.resize(40, 24);
    await check(40);
    writeSync(feed, 'received four\n');
    await check(40, ['received four']);
    tty.resize(70, 24);
    await check(70, ['received four']);
  });

  for (const [how, leave] of [
    [
      '/exit',
      (tty: TmuxSession) => {
        tty.type('/exit');
        tty.keys('Enter');
      },
    ],
    ['Ctrl-C twice', (tty: TmuxSession) => tty.keys('C-c', 'C-c')],
    ['Ctrl-D', (tty: TmuxSession) => tty.keys('C-d')],
  ] as const) {
    test(`leaving with ${how} leaves no stray prompt below the last line`, async (t) => {
      if (skipIfMissing(t, tmuxMissing())) return;
      const { dir, cleanup } = tempDir();
      t.after(cleanup);
      const tty = new TmuxSession([
        'sh',
        '-c',
        `NO_COLOR=1 ${process.execPath} ${demoPath} --history ${join(dir, 'h')}; echo DEMO-ENDED; sleep 60`,
      ]);
      t.after(() => tty.kill());
      await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
      tty.type('/echo bye');
      tty.keys('Enter');
      await tty.waitFor((r) => r.at(-2) === 'bye' && r.at(-1) === '>', 'the echo');
      leave(tty);
      const rows = await tty.waitFor((r) => r.includes('DEMO-ENDED'), 'the end');
      const last = rows[rows.indexOf('DEMO-ENDED') - 1];
      assert.ok(
        last === '> /exit' || last === 'bye' || last?.includes('press Ctrl-C again'),
        `the shell follows the last line, no prompt between:\n${rows.join('\n')}`,
      );
    });
  }

  test('help text breaks between words at the terminal edge', async (t) => {
    if (skipIfMissing(t, tmuxMissing())) return;
    // The same text without a terminal: one line per entry, as the console wrote it.
    const plain = await runDemo([], '/help\n/help groups cli\n');
    const words = plain.stdout.split(/\s+/).filter(Boolean).sort();
    const tty = new TmuxSession(['env', 'NO_COLOR=1', process.execPath, demoPath], {
      columns: 40,
      rows: 60,
    });
    t.after(() => tty.kill());
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/help');
    tty.keys('Enter');
    await tty.waitFor((r) => r.some((l) => l.includes('/help <command> shows')), 'the help');
    tty.type('/help groups cli');
    tty.keys('Enter');
    const rows = await tty.waitFor(
      (r) => r.at(-1) === '>' && r.some((l) => l.startsWith('cli:')),
      'the group help',
    );
    const shown = rows
      .filter((l) => !l.startsWith('>'))
      .join(' ')
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    assert.deepEqual(shown, words, 'the same words, none cut in two');
    assert.ok(rows.every((r) => r.length <= 40));
  });
});

describe('wordWrap', () => {
  test('breaks between words, indents continuation rows, cuts only words longer than a row', () => {
    assert.deepEqual(wordWrap('short', 10), ['short']);
    assert.deepEqual(wordWrap('cli: /help /log /loglevel /script', 16, 5), [
      'cli: /help /log',
      '     /loglevel',
      '     /script',
    ]);
    assert.deepEqual(wordWrap('abcdefghijklmnop qr', 6, 2), [
      'abcdef',
      '  ghij',
      '  klmn',
      '  op',
      '  qr',
    ]);
    for (const row of wordWrap('a '.repeat(50), 7, 3)) assert.ok(row.length <= 7, row);
  });
});
